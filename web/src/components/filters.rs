//! The toolbar above the log: client filter, server filter, pause/clear/follow, receive
//! mode, export and import.

use vscp_core::{ReceiveMode, names};
use yew::prelude::*;

use super::{checked, edit_copy, read_file, select_value};
use crate::{
    Msg,
    forms::{FormEdit, ServerFilterFields},
    state::{Action, ViewFilter},
};

/// Props of [`Filters`].
#[derive(Properties, PartialEq)]
pub struct FiltersProps {
    /// The client filter.
    pub filter: ViewFilter,
    /// The server filter form.
    pub server_filter: ServerFilterFields,
    /// Log paused?
    pub paused: bool,
    /// Following the newest row?
    pub follow: bool,
    /// Streaming or polling.
    pub mode: ReceiveMode,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

fn opt_num<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.trim().parse().ok()
}

/// The toolbar.
#[function_component(Filters)]
pub fn filters(p: &FiltersProps) -> Html {
    let on = &p.on;
    let flt = &p.filter;
    let set = |f: fn(&mut ViewFilter, String)| edit_copy(on, flt, f, Msg::Filter);
    let sf = &p.server_filter;
    let sf_edit = |f: fn(&mut ServerFilterFields, String)| {
        edit_copy(on, sf, f, |v| Msg::Form(FormEdit::ServerFilter(v)))
    };
    let apply_sf = {
        let filter = sf.filter();
        on.reform(move |_| Msg::Act(Action::ServerFilter(filter)))
    };
    let mode = on.reform(|e: web_sys::Event| {
        let stream = select_value(&e) != "poll";
        Msg::Act(Action::ReceiveMode(if stream {
            ReceiveMode::Stream
        } else {
            ReceiveMode::Poll
        }))
    });
    let text = |v: Option<String>| v.unwrap_or_default();
    html! {
        <div class="toolbar">
            <input id="f-class" placeholder="class" size="6" value={text(flt.class.map(|v| v.to_string()))}
                oninput={set(|f, v| f.class = names::class_by_name(&v).filter(|_| !v.trim().is_empty()))} />
            <input id="f-type" placeholder="type" size="5" value={text(flt.kind.map(|v| v.to_string()))}
                oninput={set(|f, v| f.kind = opt_num(&v))} />
            <input id="f-node" placeholder="node" size="4" value={text(flt.nickname.map(|v| v.to_string()))}
                oninput={set(|f, v| f.nickname = opt_num(&v))} />
            <input id="f-prio" placeholder="prio ≤" size="4" value={text(flt.max_priority.map(|v| v.to_string()))}
                oninput={set(|f, v| f.max_priority = opt_num(&v))} />
            <input id="f-text" placeholder="search" value={flt.text.clone()} oninput={set(|f, v| f.text = v)} />
            <button id="f-clear" onclick={on.reform(|_| Msg::Filter(ViewFilter::default()))}>{"clear filter"}</button>
            <span class="sep" />
            <input id="sf-class" placeholder="server class" size="8" value={sf.class.clone()} oninput={sf_edit(|f, v| f.class = v)} />
            <input id="sf-type" placeholder="type" size="5" value={sf.kind.clone()} oninput={sf_edit(|f, v| f.kind = v)} />
            <button id="sf-apply" title="SFLT + SMSK on the server" onclick={apply_sf}>{"server filter"}</button>
            <span class="sep" />
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
            <label class="file">{"import"}<input id="import" type="file" accept=".json,application/json" onchange={read_file(on, Action::Import, "import")} /></label>
        </div>
    }
}
