//! One function component per panel. Props are compared with `PartialEq` (shared data is
//! behind `Rc`), so a panel whose inputs did not change is not rebuilt when the log moves.
//! Every panel sends what the user does as a [`Msg`] through one callback made once.

pub mod command_console;
pub mod connection;
pub mod detail;
pub mod event_log;
pub mod filters;
pub mod linktest_panel;
pub mod notices;
pub mod send_form;
pub mod server_panel;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::{Callback, InputEvent, TargetCast};

use crate::Msg;

/// The text of the input an input event came from.
fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// The value of the select a change event came from.
fn select_value(e: &web_sys::Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}

/// Is the checkbox a change event came from checked?
fn checked(e: &web_sys::Event) -> bool {
    e.target_unchecked_into::<HtmlInputElement>().checked()
}

/// A callback on input events that sends `make(text)`.
fn on_input(on: &Callback<Msg>, make: impl Fn(String) -> Msg + 'static) -> Callback<InputEvent> {
    on.reform(move |e: InputEvent| make(input_value(&e)))
}

/// A callback on input events that sends a copy of `value` changed by `set`, wrapped in a message.
fn edit_copy<T: Clone + 'static>(
    on: &Callback<Msg>,
    value: &T,
    set: fn(&mut T, String),
    wrap: fn(T) -> Msg,
) -> Callback<InputEvent> {
    let value = value.clone();
    on_input(on, move |text| {
        let mut next = value.clone();
        set(&mut next, text);
        wrap(next)
    })
}
