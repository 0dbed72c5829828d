//! The send form: an event by class/type names, templates, and the history of sent events.

use std::rc::Rc;

use vscp_core::{Event, names};
use yew::prelude::*;

use super::{account::use_account, edit_copy, read_file, select_value};
use crate::{
    Msg,
    forms::{FormEdit, SendFields, Template},
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
    /// The user's templates.
    pub templates: Rc<Vec<Template>>,
    /// Connected to the proxy's demo nodes (their templates are offered).
    pub demo: bool,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// Events the demo nodes answer (node 1 is the relay, registers as the demo has them).
fn demo_templates() -> Vec<(&'static str, Event)> {
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
    let account = use_account();
    // what this event needs of the proxy account (a register write: an engineer)
    let denied = match &parsed {
        Ok(ev) => account.denies_send(ev),
        Err(_) => account.denies(vscp_core::policy::OPERATOR),
    };
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
    let template_name = use_state(String::new);
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
            if let Some(why) = &denied { <p class="hint locked" id="send-locked">{ format!("sending: {why}") }</p> }
            <button id="send" type="submit" disabled={parsed.is_err() || repeat.is_err() || denied.is_some()} title={denied.clone()}>{ if matches!(repeat, Ok(Some(_))) { "Start" } else { "Send" } }</button>
            <div class="chips" id="templates" aria-label="templates">
                if p.demo {
                    { for demo_templates().into_iter().map(|(name, ev)| {
                        let fields = SendFields::from_event(&ev);
                        html! {
                            <button type="button" class="chip demo" title="for the demo nodes" onclick={on.reform(move |_| Msg::Form(FormEdit::Send(fields.clone())))}>{name}</button>
                        }
                    }) }
                }
                { for p.templates.iter().map(|t| {
                    let (fields, name) = (t.fields.clone(), t.name.clone());
                    html! {
                        <span class="template">
                            <button type="button" class="chip" onclick={on.reform(move |_| Msg::Form(FormEdit::Send(fields.clone())))}>{ &t.name }</button>
                            <button type="button" class="chip forget" aria-label={format!("forget template {}", t.name)} title="forget"
                                onclick={on.reform(move |_| Msg::ForgetTemplate(name.clone()))}>{"×"}</button>
                        </span>
                    }
                }) }
            </div>
            <div class="inline template-save">
                <input id="template-name" placeholder="template name" aria-label="name to save the form as" value={(*template_name).clone()}
                    oninput={let n = template_name.clone(); Callback::from(move |e: InputEvent| n.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().value()))} />
                <button id="template-save" type="button" disabled={template_name.trim().is_empty() || parsed.is_err()}
                    onclick={let (n, on) = (template_name.clone(), on.clone()); Callback::from(move |_| { on.emit(Msg::SaveTemplate((*n).clone())); n.set(String::new()); })}>{"save as template"}</button>
                <button id="templates-export" type="button" disabled={p.templates.is_empty()} onclick={on.reform(|_| Msg::ExportTemplates)}>{"export"}</button>
                <label class="file">{"import"}<input id="templates-import" type="file" accept=".json,application/json" onchange={read_file(on, Msg::ImportTemplates, "templates")} /></label>
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
