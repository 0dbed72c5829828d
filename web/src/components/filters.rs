//! The toolbar above the log: the log filter (names or numbers, saved by name), pause, clear,
//! follow, receive mode, export and import; and the server filter form (`SFLT`/`SMSK`).

use std::{collections::HashMap, rc::Rc};

use vscp_core::{Guid, ReceiveMode};
use yew::prelude::*;

use super::{checked, edit_copy, read_file, select_value};
use crate::{
    Msg,
    filter_form::{FieldError, ServerFilterFields, ViewFilterFields},
    forms::FormEdit,
    state::Action,
};

/// Props of [`Filters`].
#[derive(Properties, PartialEq)]
pub struct FiltersProps {
    /// The log filter as typed.
    pub fields: ViewFilterFields,
    /// What its fields did not understand.
    pub errors: Rc<Vec<FieldError>>,
    /// Saved log filters.
    pub saved: Rc<Vec<(String, ViewFilterFields)>>,
    /// Known node names (offered in the node field).
    pub node_names: Rc<HashMap<Guid, String>>,
    /// The server filter form.
    pub server_filter: ServerFilterFields,
    /// The server takes filters only in Level I widths (the session narrows them).
    pub level1_filters: bool,
    /// Log paused?
    pub paused: bool,
    /// Following the newest row?
    pub follow: bool,
    /// Streaming or polling.
    pub mode: ReceiveMode,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The toolbar.
#[function_component(Filters)]
pub fn filters(p: &FiltersProps) -> Html {
    let on = &p.on;
    let flt = &p.fields;
    let set = |f: fn(&mut ViewFilterFields, String)| edit_copy(on, flt, f, Msg::Filter);
    let error = |field: &str| {
        p.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, e)| e.clone())
    };
    // a field the filter does not understand is marked, and why is said under the toolbar
    let input = |id: &'static str,
                 field: &'static str,
                 placeholder: &'static str,
                 value: &str,
                 size: &'static str,
                 oninput: Callback<InputEvent>| {
        let bad = error(field);
        let (invalid, why) = (bad.is_some(), bad.unwrap_or_default());
        html! {
            <input {id} {placeholder} {size} value={value.to_string()} {oninput} list={(field == "node").then_some("known-nodes")}
                aria-label={format!("filter by {field}: a name or a number")}
                class={classes!(invalid.then_some("invalid"))}
                aria-invalid={invalid.then_some("true")} title={why} />
        }
    };
    let mode = on.reform(|e: web_sys::Event| {
        let stream = select_value(&e) != "poll";
        Msg::Act(Action::ReceiveMode(if stream {
            ReceiveMode::Stream
        } else {
            ReceiveMode::Poll
        }))
    });
    let name = use_state(String::new);
    let save = {
        let (on, name) = (on.clone(), name.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on.emit(Msg::SaveFilter((*name).clone()));
        })
    };
    let pick = {
        let (on, saved, name) = (on.clone(), p.saved.clone(), name.clone());
        Callback::from(move |e: web_sys::Event| {
            let picked = select_value(&e);
            if let Some((n, fields)) = saved.iter().find(|(n, _)| *n == picked) {
                name.set(n.clone());
                on.emit(Msg::Filter(fields.clone()));
            }
        })
    };
    let applied = p
        .saved
        .iter()
        .find(|(_, f)| f == flt)
        .map(|(n, _)| n.clone());
    html! {
        <>
        <div class="toolbar" role="search" aria-label="log filter">
            { input("f-class", "class", "class", &flt.class, "10", set(|f, v| f.class = v)) }
            { input("f-type", "type", "type", &flt.kind, "10", set(|f, v| f.kind = v)) }
            { input("f-node", "node", "node", &flt.node, "8", set(|f, v| f.node = v)) }
            <datalist id="known-nodes">
                { for p.node_names.values().map(|n| html! { <option value={n.clone()} /> }) }
            </datalist>
            { input("f-prio", "prio", "prio ≤", &flt.prio, "4", set(|f, v| f.prio = v)) }
            <input id="f-text" placeholder="search" aria-label="search the rows" value={flt.text.clone()} oninput={set(|f, v| f.text = v)} />
            <button id="f-clear" type="button" onclick={on.reform(|_| Msg::Filter(ViewFilterFields::default()))}>{"clear filter"}</button>
            <select id="saved-filters" aria-label="saved filters" onchange={pick}>
                <option value="" selected={applied.is_none()}>{ if p.saved.is_empty() { "no saved filters" } else { "saved filters…" } }</option>
                { for p.saved.iter().map(|(n, _)| html! { <option value={n.clone()} selected={applied.as_ref() == Some(n)}>{n}</option> }) }
            </select>
            <form class="inline" onsubmit={save}>
                <input id="filter-name" placeholder="filter name" size="10" aria-label="name to save the filter as" value={(*name).clone()}
                    oninput={let name = name.clone(); Callback::from(move |e: InputEvent| name.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().value()))} />
                <button id="save-filter" type="submit" disabled={name.trim().is_empty()}>{"save"}</button>
                if let Some(n) = applied.clone() {
                    <button id="forget-filter" type="button" onclick={on.reform(move |_| Msg::ForgetFilter(n.clone()))}>{"forget"}</button>
                }
            </form>
        </div>
        if !p.errors.is_empty() {
            <p id="filter-errors" class="err field-errors" role="alert">
                { for p.errors.iter().map(|(f, e)| html! { <span>{ format!("{f}: {e}") }</span> }) }
            </p>
        }
        <div class="toolbar">
            <button id="pause" onclick={on.reform(|_| Msg::Act(Action::TogglePause))}>{ if p.paused { "resume" } else { "pause" } }</button>
            <button id="clear" onclick={on.reform(|_| Msg::Act(Action::Clear))}>{"clear"}</button>
            <label class="check"><input id="follow" type="checkbox" checked={p.follow}
                onchange={on.reform(|e: web_sys::Event| Msg::Follow(checked(&e)))} />{"follow"}</label>
            <select id="mode" aria-label="receive mode" onchange={mode}>
                <option value="stream" selected={p.mode == ReceiveMode::Stream}>{"stream"}</option>
                <option value="poll" selected={p.mode == ReceiveMode::Poll}>{"poll"}</option>
            </select>
            <button id="export-csv" onclick={on.reform(|_| Msg::Export("csv"))}>{"CSV"}</button>
            <button id="export-json" onclick={on.reform(|_| Msg::Export("json"))}>{"JSON"}</button>
            <label class="file">{"import CSV or JSON"}<input id="import" type="file" accept=".json,.csv,application/json,text/csv" onchange={read_file(on, |t| Msg::Act(Action::Import(t)), "import")} /></label>
        </div>
        <ServerFilterForm fields={p.server_filter.clone()} level1={p.level1_filters} on={on.clone()} />
        </>
    }
}

/// Props of [`ServerFilterForm`].
#[derive(Properties, PartialEq)]
pub struct ServerFilterProps {
    /// The form as typed.
    pub fields: ServerFilterFields,
    /// The server takes filters only in Level I widths.
    pub level1: bool,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The server filter: what the server sends this connection at all.
#[function_component(ServerFilterForm)]
pub fn server_filter_form(p: &ServerFilterProps) -> Html {
    let on = &p.on;
    let sf = &p.fields;
    let read = sf.read();
    let field = |id: &'static str,
                 label: &'static str,
                 value: &str,
                 set: fn(&mut ServerFilterFields, String),
                 placeholder: &'static str| {
        let bad = read
            .as_ref()
            .err()
            .and_then(|errors| errors.iter().find(|(f, _)| *f == label))
            .map(|(_, e)| e.clone());
        let (invalid, why) = (bad.is_some(), bad.unwrap_or_default());
        html! {
            <label>{label}
                <input {id} value={value.to_string()} {placeholder}
                    class={classes!(invalid.then_some("invalid"))} aria-invalid={invalid.then_some("true")} title={why}
                    oninput={edit_copy(on, sf, set, |v| Msg::Form(FormEdit::ServerFilter(v)))} />
            </label>
        }
    };
    let apply = {
        let filter = read.clone().ok();
        on.reform(move |e: SubmitEvent| {
            e.prevent_default();
            match filter {
                Some(f) => Msg::Act(Action::ServerFilter(f)),
                None => Msg::Act(Action::Notice(
                    "server filter: fix the marked fields first".into(),
                )),
            }
        })
    };
    let pass_all = on.reform(|_| Msg::Act(Action::ServerFilter(vscp_core::Filter::PASS_ALL)));
    let denied = super::account::use_account().denies(vscp_core::policy::ENGINEER);
    html! {
        <details class="server-filter" id="server-filter">
            <summary>{"Server filter (SFLT/SMSK): what the server sends at all"}</summary>
            <form class="sf-form" onsubmit={apply}>
                { field("sf-prio", "priority", &sf.prio, |f, v| f.prio = v, "0–7") }
                { field("sf-class", "class", &sf.class, |f, v| f.class = v, "name or number") }
                { field("sf-class-mask", "class mask", &sf.class_mask, |f, v| f.class_mask = v, "0xFFFF") }
                { field("sf-type", "type", &sf.kind, |f, v| f.kind = v, "name or number") }
                { field("sf-type-mask", "type mask", &sf.kind_mask, |f, v| f.kind_mask = v, "0xFFFF") }
                { field("sf-guid", "GUID", &sf.guid, |f, v| f.guid = v, "any") }
                { field("sf-guid-mask", "GUID mask", &sf.guid_mask, |f, v| f.guid_mask = v, "FF:FF:…") }
                <p class="hint" id="sf-preview">{ match &read {
                    Ok(f) if p.level1 => format!(
                        "sends SFLT {} and SMSK {} (the mask in Level I widths: this server refused the wide form)",
                        f.filter, f.mask.level1()),
                    Ok(f) => format!("sends SFLT {} and SMSK {}", f.filter, f.mask),
                    Err(errors) => errors.iter().map(|(f, e)| format!("{f}: {e}")).collect::<Vec<_>>().join(" · "),
                } }</p>
                if let Some(why) = &denied { <p class="hint locked" id="sf-locked">{ format!("server filter: {why}") }</p> }
                <button id="sf-apply" type="submit" disabled={read.is_err() || denied.is_some()} title={denied.clone()}>{"apply server filter"}</button>
                <button id="sf-pass-all" type="button" disabled={denied.is_some()} title={denied.clone()} onclick={pass_all}>{"let everything through"}</button>
            </form>
        </details>
    }
}
