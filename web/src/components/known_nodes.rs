//! Known nodes: every node the console has a name for (given here or in the node table,
//! or learned from a scan, an MDF or standard registers), seen or not; add, rename, forget,
//! export and import as JSON.

use std::rc::Rc;

use vscp_core::Guid;
use yew::prelude::*;

use super::read_file;
use crate::{
    Msg,
    state::{Action, KnownNodes, known_list},
};

/// Props of [`KnownNodesPanel`].
#[derive(Properties, PartialEq)]
pub struct KnownNodesProps {
    /// Names by GUID.
    pub names: Rc<KnownNodes>,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The known-nodes table.
#[function_component(KnownNodesPanel)]
pub fn known_nodes(p: &KnownNodesProps) -> Html {
    let on = &p.on;
    let guid = use_state(String::new);
    let name = use_state(String::new);
    let add = {
        let (on, guid, name) = (on.clone(), guid.clone(), name.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match guid.trim().parse::<Guid>() {
                Ok(g) => {
                    on.emit(Msg::Act(Action::NameNode(g, (*name).clone())));
                    guid.set(String::new());
                    name.set(String::new());
                }
                Err(e) => on.emit(Msg::Act(Action::Notice(format!("known node: GUID {e}")))),
            }
        })
    };
    let text = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            state.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            )
        })
    };
    let list = known_list(&p.names);
    html! {
        <section class="panel known" id="known-nodes">
            <h2>{ format!("Known nodes ({})", list.len()) }</h2>
            <p class="hint">{"Names here name the nodes in the log, the detail, the charts and the filters. Kept in this browser; scans and MDFs fill in nodes without a name."}</p>
            <div class="toolbar">
                <button id="nodes-export" type="button" disabled={list.is_empty()} onclick={on.reform(|_| Msg::ExportNodes)}>{"export JSON"}</button>
                <label class="file">{"import JSON"}<input id="nodes-import" type="file" accept=".json,application/json" onchange={read_file(on, |t| Msg::Act(Action::ImportNodes(t)), "known nodes")} /></label>
            </div>
            <table class="node-table" id="known-table">
                <thead><tr><th>{"name"}</th><th>{"GUID"}</th><th></th></tr></thead>
                <tbody>
                { for list.iter().filter_map(|k| k.guid.parse::<Guid>().ok().map(|g| (g, k))).map(|(g, k)| html! {
                    <tr key={k.guid.clone()} data-guid={k.guid.clone()}>
                        <td><input class="known-name" value={k.name.clone()} aria-label={format!("name of {}", k.guid)}
                            onchange={on.reform(move |e: web_sys::Event| Msg::Act(Action::NameNode(g, e.target_unchecked_into::<web_sys::HtmlInputElement>().value())))} /></td>
                        <td class="guid"><code>{ &k.guid }</code></td>
                        <td><button type="button" class="chip" aria-label={format!("forget {}", k.name)}
                            onclick={on.reform(move |_| Msg::Act(Action::NameNode(g, String::new())))}>{"forget"}</button></td>
                    </tr>
                }) }
                </tbody>
            </table>
            <form class="inline add-known" onsubmit={add}>
                <input id="known-guid" placeholder="GUID, e.g. FF:FF:…:01" aria-label="GUID of the node to name" value={(*guid).clone()} oninput={text(&guid)} />
                <input id="known-name" placeholder="name" aria-label="its name" value={(*name).clone()} oninput={text(&name)} />
                <button id="known-add" type="submit" disabled={guid.trim().is_empty() || name.trim().is_empty()}>{"add"}</button>
            </form>
        </section>
    }
}
