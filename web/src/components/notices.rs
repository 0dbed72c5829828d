//! The last notices (errors and confirmations) above the log.

use std::{collections::VecDeque, rc::Rc};

use yew::prelude::*;

/// Props of [`Notices`].
#[derive(Properties, PartialEq)]
pub struct NoticesProps {
    /// Newest last.
    pub notices: Rc<VecDeque<String>>,
}

/// The three newest notices, newest first.
#[function_component(Notices)]
pub fn notices(props: &NoticesProps) -> Html {
    if props.notices.is_empty() {
        return html! {};
    }
    html! {
        <ul id="notices" class="notices">
            { for props.notices.iter().rev().take(3).map(|n| html! { <li>{n}</li> }) }
        </ul>
    }
}
