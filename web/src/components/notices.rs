//! The notices, in a corner of the screen where they stay in sight: errors red until
//! dismissed or resolved, warnings amber, good news green for a few seconds.

use std::rc::Rc;

use yew::prelude::*;

use crate::{
    Msg,
    state::{Action, Level, Notices as NoticeList},
};

/// Notices shown at once (the newest).
const SHOWN: usize = 4;

/// Props of [`Notices`].
#[derive(Properties, PartialEq)]
pub struct NoticesProps {
    /// The notices.
    pub notices: Rc<NoticeList>,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The newest notices, newest last, each with a dismiss button.
#[function_component(Notices)]
pub fn notices(p: &NoticesProps) -> Html {
    let on = &p.on;
    let more = p.notices.len().saturating_sub(SHOWN);
    html! {
        // always in the page, so screen readers hear what is added to it
        <section id="notices" class="notices" aria-live="polite" aria-label="notices">
            if !p.notices.is_empty() && (more > 0 || p.notices.len() > 1) {
                <div class="notices-head">
                    if more > 0 { <span>{ format!("{more} older") }</span> }
                    <button id="notices-clear" class="chip" onclick={on.reform(|_| Msg::Act(Action::Dismiss(None)))}>{"dismiss all"}</button>
                </div>
            }
            { for p.notices.iter().skip(more).map(|n| {
                let (class, label) = match n.level {
                    Level::Error => ("error", "error"),
                    Level::Warning => ("warning", "warning"),
                    Level::Info => ("info", "done"),
                };
                let id = n.id;
                html! {
                    <div class={classes!("notice", class)} role={(n.level == Level::Error).then_some("alert")}>
                        <span class="badge">{ label }</span>
                        <span class="text">{ &n.text }{ if n.count > 1 { format!(" (×{})", n.count) } else { String::new() } }</span>
                        <button class="dismiss" aria-label={format!("dismiss: {}", n.text)} title="dismiss"
                            onclick={on.reform(move |_| Msg::Act(Action::Dismiss(Some(id))))}>{"×"}</button>
                    </div>
                }
            }) }
        </section>
    }
}
