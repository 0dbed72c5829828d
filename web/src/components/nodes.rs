//! The node table and the scan: every node heard from, live, and a who-is-there sweep of a
//! nickname range through an interface of the server.

use std::rc::Rc;

use yew::prelude::*;

use super::{checked, edit_copy};
use crate::{
    Msg,
    forms::{FormEdit, NodeFields},
    state::{Action, KnownNodes, NodeRow, ScanState, ServerInfo},
};

/// Props of [`Nodes`].
#[derive(Properties, PartialEq)]
pub struct NodesProps {
    /// The table.
    pub rows: Rc<Vec<NodeRow>>,
    /// The last scan.
    pub scan: Option<Rc<ScanState>>,
    /// What the server said, for its interfaces (`INTERFACE LIST`).
    pub server: Rc<ServerInfo>,
    /// Scan form and register settings.
    pub fields: NodeFields,
    /// The node whose registers are open.
    pub open: Option<vscp_core::Guid>,
    /// Known nodes' names.
    pub names: Rc<KnownNodes>,
    /// Events seen from the server's client connections (not nodes).
    pub client_events: u64,
    /// Identifying new nodes by their standard registers?
    pub identify: bool,
    /// Now (ms since the epoch), for ages.
    pub now_ms: u64,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The node table with the scan form.
#[function_component(Nodes)]
pub fn nodes(p: &NodesProps) -> Html {
    let on = &p.on;
    let f = &p.fields;
    let wrap = |f: NodeFields| Msg::Form(FormEdit::Nodes(f));
    let scan = {
        let (fields, server) = (f.clone(), p.server.clone());
        on.reform(move |e: SubmitEvent| {
            e.prevent_default();
            match (fields.interface(&server.interfaces), fields.range()) {
                (Ok(interface), Ok((from, to))) => Msg::Act(Action::Scan {
                    interface,
                    from,
                    to,
                }),
                (Err(e), _) | (_, Err(e)) => Msg::Act(Action::Notice(e)),
            }
        })
    };
    let running = p.scan.as_ref().is_some_and(|s| !s.scan.is_done());
    let progress = p.scan.as_ref().map(|s| {
        let (done, total) = s.scan.progress();
        let state = if let Some(why) = s.stopped {
            why
        } else if running {
            "scanning"
        } else {
            "done"
        };
        html! {
            <p id="scan-progress" class="hint">
                <progress max={total.to_string()} value={done.to_string()}></progress>
                { format!(" {state}: {done} of {total} nicknames asked, {} found (through {})", s.scan.found().len(), s.interface.compact()) }
                if let Some(note) = &s.note { <span id="scan-note">{ format!(" — {note}") }</span> }
            </p>
        }
    });
    let clients: Vec<String> = p
        .server
        .interfaces
        .iter()
        .filter_map(|i| {
            crate::state::interface_kind(i.kind).map(|k| format!("{} — {k}", i.short_name()))
        })
        .collect();
    // scans and register reads are SENDs of CLASS1.PROTOCOL: an operator's
    let denied = super::account::use_account().denies(vscp_core::policy::OPERATOR);
    html! {
        <section class="panel nodes" id="nodes">
            <h2>{"Nodes"}</h2>
            if let Some(why) = &denied { <p class="hint locked" id="nodes-locked">{ format!("scanning and registers: {why}") }</p> }
            <form class="scan" onsubmit={scan}>
                <label>{"interface"}
                    <input id="scan-interface" list="interfaces" placeholder="first bus interface" value={f.interface.clone()}
                        oninput={edit_copy(on, f, |f, v| f.interface = v, wrap)} />
                </label>
                <datalist id="interfaces">
                    { for p.server.interfaces.iter().map(|i| html! { <option value={i.guid.to_string()}>{ format!("{} (type {}, {})", i.name, i.kind, i.guid.compact()) }</option> }) }
                </datalist>
                <label>{"nicknames"}
                    <input id="scan-from" class="num" value={f.from.clone()} oninput={edit_copy(on, f, |f, v| f.from = v, wrap)} />
                    {"–"}
                    <input id="scan-to" class="num" value={f.to.clone()} oninput={edit_copy(on, f, |f, v| f.to = v, wrap)} />
                </label>
                if running {
                    <button id="scan-cancel" type="button" onclick={on.reform(|_| Msg::Act(Action::CancelScan))}>{"cancel"}</button>
                } else {
                    <button id="scan" type="submit" disabled={denied.is_some()} title={denied.clone()}>{"scan"}</button>
                }
            </form>
            <label class="check"><input id="identify-new" type="checkbox" checked={p.identify} disabled={denied.is_some()}
                onchange={on.reform(|e: web_sys::Event| Msg::Act(Action::IdentifyNew(checked(&e))))} />
                { format!("name new nodes from their standard registers (one node every {} s)", crate::state::IDENTIFY_PACE_MS / 1000) }</label>
            <p class="hint">{"Level I nodes sit behind an interface of the server (a CAN bus, say). Requests to them carry the interface's GUID with the node's nickname in its last byte; INTERFACE LIST names the interfaces."}</p>
            { for progress }
            <table class="node-table" id="node-table">
                <thead><tr><th>{"name"}</th><th>{"nickname"}</th><th>{"GUID"}</th><th>{"last seen"}</th><th>{"events/s"}</th><th>{"firmware"}</th><th>{"MDF"}</th><th></th></tr></thead>
                <tbody>
                    { for p.rows.iter().map(|n| row(n, p, denied.as_deref())) }
                </tbody>
            </table>
            if p.rows.is_empty() {
                <p class="hint">{"No node heard from yet: connect, or scan."}</p>
            }
            if !clients.is_empty() {
                <p class="hint" id="node-clients">{ format!(
                    "Not listed as nodes: {} client connection(s) of the server ({}), this console's own among them; {} of their events seen.",
                    clients.len(), clients.join(", "), p.client_events) }</p>
            }
        </section>
    }
}

fn row(n: &NodeRow, p: &NodesProps, denied: Option<&str>) -> Html {
    let guid = n.guid;
    let age = p.now_ms.saturating_sub(n.last_seen_ms);
    let age = if age < 1_000 {
        "now".to_string()
    } else if age < 120_000 {
        format!("{} s ago", age / 1_000)
    } else {
        format!("{} min ago", age / 60_000)
    };
    let open = p.open == Some(guid);
    html! {
        // keyed: a row (and the name being typed in it) stays with its node when others appear
        <tr key={guid.to_string()} class={classes!(open.then_some("open"))} data-nickname={guid.nickname().to_string()}>
            <td class="name">
                // the name it is known by everywhere; the MDF's name until the user gives one
                <input class="node-name" value={p.names.get(&guid).cloned().unwrap_or_default()}
                    placeholder={n.name.clone().unwrap_or_else(|| "name it".into())}
                    aria-label={format!("name of node {}", guid.nickname())} title="the name this node is known by in the log, charts and filters"
                    onchange={p.on.reform(move |e: web_sys::Event| Msg::Act(Action::NameNode(guid, e.target_unchecked_into::<web_sys::HtmlInputElement>().value())))} />
                { if n.scanned { " ⌕" } else { "" } }
            </td>
            <td>{ guid.nickname() }</td>
            <td class="guid" title={guid.to_string()}>{ guid.compact() }</td>
            <td>{ age }</td>
            <td>{ format!("{:.1}", n.rate) }</td>
            <td>{ n.firmware.map(|(a, b, c)| format!("{a}.{b}.{c}")).unwrap_or_else(|| "—".into()) }</td>
            <td class="mdf">{ n.mdf_url.clone().unwrap_or_else(|| "—".into()) }</td>
            <td><button class="chip" disabled={denied.is_some()} title={denied.map(str::to_string)}
                onclick={p.on.reform(move |_| Msg::Act(Action::OpenRegisters(guid)))}>{"registers"}</button>
                if !n.level2 {
                    <button class="chip fw-open" disabled={denied.is_some()} title={denied.map(str::to_string)}
                    onclick={p.on.reform(move |_| Msg::Act(Action::Firmware(crate::state::FirmwareAction::Open(guid))))}>{"firmware"}</button>
                }</td>
        </tr>
    }
}
