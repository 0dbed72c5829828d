//! One function component per panel. Props are compared with `PartialEq` (shared data is
//! behind `Rc`), so a panel whose inputs did not change is not rebuilt when the log moves.
//! Every panel sends what the user does as a [`Msg`] through one callback made once.

pub mod account;
pub mod charts;
pub mod command_console;
pub mod connection;
pub mod detail;
pub mod event_log;
pub mod filters;
pub mod firmware;
pub mod known_nodes;
pub mod linktest_panel;
pub mod nodes;
pub mod notices;
pub mod registers;
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

/// Reads the file chosen in a file input and sends its text as `make(text)`; a failure
/// becomes a notice starting with `what`.
fn read_file(
    on: &Callback<Msg>,
    make: fn(String) -> Msg,
    what: &'static str,
) -> Callback<web_sys::Event> {
    read_named_file(on, move |_, text| make(text), what)
}

/// Like [`read_file`], with the file's name: sends `make(name, text)`.
fn read_named_file(
    on: &Callback<Msg>,
    make: impl Fn(String, String) -> Msg + Copy + 'static,
    what: &'static str,
) -> Callback<web_sys::Event> {
    let on = on.clone();
    Callback::from(move |e: web_sys::Event| {
        let input = e.target_unchecked_into::<HtmlInputElement>();
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            let on = on.clone();
            let file = gloo::file::File::from(file);
            wasm_bindgen_futures::spawn_local(async move {
                on.emit(match gloo::file::futures::read_as_text(&file).await {
                    Ok(text) => make(file.name(), text),
                    Err(e) => Msg::Act(crate::state::Action::Notice(format!("{what}: {e}"))),
                });
            });
        }
        // the same file can be chosen again
        input.set_value("");
    })
}
