//! The conformance panel: runs linktest on the proxy against the chosen target.

use std::rc::Rc;

use vscp_api::{Outcome, Report};
use yew::prelude::*;

use crate::Msg;

/// Props of [`LinktestPanel`].
#[derive(Properties, PartialEq)]
pub struct LinktestPanelProps {
    /// The last report, or why there is none (`None`: not run yet).
    pub result: Option<Rc<Result<Report, String>>>,
    /// A run is under way.
    pub running: bool,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The conformance panel.
#[function_component(LinktestPanel)]
pub fn linktest_panel(p: &LinktestPanelProps) -> Html {
    let body = match p.result.as_deref() {
        None => {
            html! { <p class="hint">{"Checks the chosen target against the link protocol (it opens its own connections)."}</p> }
        }
        Some(Err(e)) => html! { <p class="err">{e}</p> },
        Some(Ok(r)) => html! {
            <>
            <p id="linktest-summary">{ format!("{}: {} passed, {} failed, {} not supported", r.server, r.passed, r.failed, r.not_supported) }</p>
            <table class="checks" id="linktest-checks">
                <thead><tr><th><span class="sr-only">{"verdict"}</span></th><th>{"check"}</th><th>{"found"}</th></tr></thead>
                { for r.checks.iter().map(|c| {
                    let (class, mark) = match c.outcome {
                        Outcome::Pass => ("pass", "✔"),
                        Outcome::Fail => ("fail", "✘"),
                        Outcome::NotSupported => ("not_supported", "–"),
                    };
                    html! {
                        <tr class={class}>
                            <td title={class.replace('_', " ")}>{ mark }</td>
                            <td>{ &c.name }</td>
                            <td>{ &c.detail }
                                if c.outcome == Outcome::Fail && !c.exchange.is_empty() { <pre>{ c.exchange.join("\n") }</pre> }
                            </td>
                        </tr>
                    }
                }) }
            </table>
            </>
        },
    };
    // linktest sends events, filters and GUIDs: an engineer's work
    let denied = super::account::use_account().denies(vscp_core::policy::ENGINEER);
    html! {
        <section class="panel linktest" id="linktest">
            <h2>{"Conformance (linktest)"}
                <button id="linktest-run" class="chip" disabled={p.running || denied.is_some()} title={denied.clone()} onclick={p.on.reform(|_| Msg::Linktest)}>
                    { if p.running { "running…" } else { "run" } }
                </button>
            </h2>
            { body }
        </section>
    }
}
