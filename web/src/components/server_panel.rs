//! The server panel: what VERS, WCYD, CHID, GGID, STAT, INFO and INTERFACE LIST said.

use std::rc::Rc;

use yew::prelude::*;

use crate::{
    Msg,
    format::time_of_day,
    state::{Action, STAT_EVERY_MS, ServerInfo},
};

/// Props of [`ServerPanel`].
#[derive(Properties, PartialEq)]
pub struct ServerPanelProps {
    /// The answers.
    pub server: Rc<ServerInfo>,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The server panel.
#[function_component(ServerPanel)]
pub fn server_panel(p: &ServerPanelProps) -> Html {
    let s = &p.server;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "—".into());
    html! {
        <section class="panel server" id="server">
            <h2>{"Server"}<button class="chip" onclick={p.on.reform(|_| Msg::Act(Action::RefreshServer))}>{"refresh"}</button></h2>
            <dl>
                <dt>{"banner"}</dt><dd>{ s.banner.join(" · ") }</dd>
                <dt>{"VERS"}</dt><dd id="vers">{ opt(s.version.map(|v| v.to_string())) }</dd>
                <dt>{"WCYD"}</dt><dd>{ opt(s.caps.map(|c| format!("{} — {}", c, c.names().join(", ")))) }</dd>
                <dt>{"CHID"}</dt><dd>{ opt(s.channel.map(|c| c.to_string())) }</dd>
                <dt>{"GGID"}</dt><dd>{ opt(s.guid.map(|g| g.to_string())) }</dd>
                <dt>{"STAT"}</dt><dd id="stat">{ opt(s.stat.map(|t| format!("rx {} frames / {} bytes, tx {} frames / {} bytes, overruns {} (at {}, every {} s)",
                    t.rx_frames, t.rx_data, t.tx_frames, t.tx_data, t.c, time_of_day(s.stat_ms), STAT_EVERY_MS / 1000))) }</dd>
                <dt>{"INFO"}</dt><dd>{ opt(s.info.as_ref().map(|i| format!("status {}, error {}/{} {}", i.channel_status, i.error_code, i.error_subcode, i.error_str))) }</dd>
                <dt>{"INTERFACE"}</dt><dd><ul>{ for s.interfaces.iter().map(|i| html! { <li>{ format!("#{} type {} {} — {}", i.id, i.kind, i.guid.compact(), i.name) }</li> }) }</ul></dd>
            </dl>
        </section>
    }
}
