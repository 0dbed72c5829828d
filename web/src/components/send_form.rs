//! The send form: an event by class/type names, templates, and the history of sent events.

use std::rc::Rc;

use vscp_core::{Event, names};
use yew::prelude::*;

use super::{edit_copy, select_value};
use crate::{
    Msg,
    forms::{FormEdit, SendFields},
    state::{Action, Repeat},
};

/// Props of [`SendForm`].
#[derive(Properties, PartialEq)]
pub struct SendFormProps {
    /// What is typed.
    pub fields: SendFields,
    /// Events sent (newest last).
    pub sent: Rc<Vec<Event>>,
    /// Repeated sends (newest last).
    pub repeats: Rc<Vec<Repeat>>,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// Events a user often sends.
fn templates() -> Vec<(&'static str, Event)> {
    let ev = |class, kind, data: &[u8]| Event {
        class,
        kind,
        data: data.to_vec(),
        head: 3 << 5,
        ..Event::default()
    };
    vec![
        ("relay on", ev(30, 5, &[0, 1, 3])),
        ("relay off", ev(30, 6, &[0, 1, 3])),
        ("who is there", ev(0, 31, &[255])),
        ("read GUID reg of node 1", ev(0, 9, &[1, 0xD0])),
        ("read interval of node 1", ev(0, 9, &[1, 0x00])),
    ]
}

/// The send form.
#[function_component(SendForm)]
pub fn send_form(p: &SendFormProps) -> Html {
    let on = &p.on;
    let f = &p.fields;
    let parsed = f.event();
    let repeat = f.repeat();
    let send = {
        let (parsed, repeat, on) = (parsed.clone(), repeat.clone(), on.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match (&parsed, &repeat) {
                (Ok(ev), Ok(None)) => on.emit(Msg::Act(Action::SendEvent(ev.clone()))),
                (Ok(ev), Ok(Some((every_ms, times)))) => on.emit(Msg::Act(Action::Repeat {
                    event: ev.clone(),
                    every_ms: *every_ms,
                    times: *times,
                })),
                _ => {}
            }
        })
    };
    let edit =
        |set: fn(&mut SendFields, String)| edit_copy(on, f, set, |v| Msg::Form(FormEdit::Send(v)));
    let priority = {
        let f = f.clone();
        on.reform(move |e: web_sys::Event| {
            let mut next = f.clone();
            next.priority = select_value(&e).parse().unwrap_or(3);
            Msg::Form(FormEdit::Send(next))
        })
    };
    let class_no = names::class_by_name(&f.class);
    html! {
        <form class="panel send" onsubmit={send}>
            <h2>{"Send event"}</h2>
            <datalist id="classes">{ for names::CLASSES.iter().map(|c| html! { <option value={c.name} /> }) }</datalist>
            <datalist id="types">{ for class_no.and_then(names::class).into_iter().flat_map(|c| c.types.iter()).map(|(_, n)| html! { <option value={*n} /> }) }</datalist>
            <label>{"Class"}<input id="s-class" list="classes" value={f.class.clone()} oninput={edit(|f, v| f.class = v)} /></label>
            <label>{"Type"}<input id="s-type" list="types" value={f.kind.clone()} oninput={edit(|f, v| f.kind = v)} /></label>
            <label>{"Priority"}<select id="s-prio" onchange={priority}>
                { for (0..8u8).map(|n| html! { <option value={n.to_string()} selected={n == f.priority}>{n}</option> }) }
            </select></label>
            <label>{"GUID"}<input id="s-guid" value={f.guid.clone()} oninput={edit(|f, v| f.guid = v)} placeholder="- = interface" /></label>
            <label>{"Data"}<input id="s-data" value={f.data.clone()} oninput={edit(|f, v| f.data = v)} placeholder="1,2,0x1F" /></label>
            <label>{"Repeat every"}<span><input id="s-every" class="num" value={f.every_ms.clone()} oninput={edit(|f, v| f.every_ms = v)} placeholder="ms" />
                {" ms, "}<input id="s-times" class="num" value={f.times.clone()} oninput={edit(|f, v| f.times = v)} />{" times"}</span></label>
            { match (&parsed, &repeat) {
                (Ok(ev), Ok(r)) => html! { <p class="hint">{ format!("SEND {ev}{}", r.map(|(e, t)| format!(" — every {e} ms, {t} times")).unwrap_or_default()) }</p> },
                (Err(e), _) | (_, Err(e)) => html! { <p class="err" id="s-error">{e}</p> },
            } }
            <button id="send" type="submit" disabled={parsed.is_err() || repeat.is_err()}>{ if matches!(repeat, Ok(Some(_))) { "Start" } else { "Send" } }</button>
            <div class="chips">
                { for templates().into_iter().map(|(name, ev)| {
                    let fields = SendFields::from_event(&ev);
                    html! {
                        <button type="button" class="chip" onclick={on.reform(move |_| Msg::Form(FormEdit::Send(fields.clone())))}>{name}</button>
                    }
                }) }
            </div>
            if !p.repeats.is_empty() {
                <h3>{"Repeating"}</h3>
                <ul class="history" id="repeats">{ for p.repeats.iter().rev().take(8).map(|r| {
                    let id = r.id;
                    let state = if r.running() { "sending" } else if r.stopped { "stopped" } else { "done" };
                    html! {
                        <li data-repeat={id.to_string()}>
                            <code>{ r.event.to_string() }</code>
                            <span class="count">{ format!("every {} ms: {}/{} sent, {state}", r.every_ms, r.sent, r.times) }</span>
                            if r.running() {
                                <button type="button" class="chip" onclick={on.reform(move |_| Msg::Act(Action::StopRepeat(id)))}>{"stop"}</button>
                            }
                        </li>
                    }
                }) }</ul>
            }
            if !p.sent.is_empty() {
                <h3>{"Sent"}</h3>
                <ul class="history">{ for p.sent.iter().rev().take(8).map(|ev| {
                    let again = ev.clone();
                    html! { <li><code>{ ev.to_string() }</code><button type="button" class="chip" onclick={on.reform(move |_| Msg::Act(Action::SendEvent(again.clone())))}>{"resend"}</button></li> }
                }) }</ul>
            }
        </form>
    }
}
