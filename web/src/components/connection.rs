//! The connection bar: a link server through the proxy (proxy, target, token) or an MQTT
//! broker's websocket (URL, topic filter, the server to send to), the login, saved
//! connections, connect/disconnect.

use std::rc::Rc;

use vscp_api::Target;
use yew::prelude::*;

use super::{checked, on_input, select_value};
use crate::{
    Msg,
    forms::FormEdit,
    state::{Action, ConnKind, ConnSettings, DEFAULT_TOPIC},
    storage::Saved,
};

/// Props of [`Connection`].
#[derive(Properties, PartialEq)]
pub struct ConnectionProps {
    /// What is typed.
    pub settings: ConnSettings,
    /// Keep the password when saving.
    pub keep_password: bool,
    /// The proxy's targets, or why there are none.
    pub targets: Rc<Result<Vec<Target>, String>>,
    /// Connected (or connecting)?
    pub connected: bool,
    /// The console gave up reconnecting: the button says Retry.
    #[prop_or_default]
    pub retry: bool,
    /// Saved connections.
    pub saved: Rc<Vec<Saved>>,
    /// Servers the bridges on the broker announced.
    pub sites: Rc<Vec<String>>,
    /// The one a broker connection sends to.
    pub site: Option<String>,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The connection form.
#[function_component(Connection)]
pub fn connection(p: &ConnectionProps) -> Html {
    let on = &p.on;
    let f = &p.settings;
    let edit = |mk: fn(String) -> FormEdit| on_input(on, move |v| Msg::Form(mk(v)));
    // the proxy logs in to this node itself: the page sends no login of its own
    let proxy_logs_in = f.kind == ConnKind::Proxy
        && p.targets
            .as_ref()
            .as_ref()
            .is_ok_and(|l| l.iter().any(|t| t.name == f.target && t.node_login));
    let connect = {
        let mut settings = f.clone();
        if proxy_logs_in {
            settings.user.clear();
            settings.password.clear();
        }
        on.reform(move |e: SubmitEvent| {
            e.prevent_default();
            Msg::Act(Action::Connect(settings.clone()))
        })
    };
    let targets = match p.targets.as_ref() {
        Ok(list) => html! {
            <select id="target" aria-label="target"
                onchange={on.reform(|e: web_sys::Event| Msg::Form(FormEdit::Target(select_value(&e))))}>
                { for list.iter().filter(|t| !t.mqtt).map(|t| html! {
                    <option value={t.name.clone()} selected={t.name == f.target}>
                        { format!("{} ({}{})", t.name, t.address, if t.demo { ", demo" } else { "" }) }
                    </option>
                }) }
            </select>
        },
        Err(e) => html! { <span class="err">{e}</span> },
    };
    let load = {
        let saved = p.saved.clone();
        let on = on.clone();
        Callback::from(move |e: web_sys::Event| {
            if let Some(s) = select_value(&e)
                .parse::<usize>()
                .ok()
                .and_then(|i| saved.get(i))
            {
                on.emit(Msg::Form(FormEdit::Load(s.clone())));
            }
        })
    };
    let kind = html! {
        <select id="kind" aria-label="connect to"
            onchange={on.reform(|e: web_sys::Event| Msg::Form(FormEdit::Kind(
                if select_value(&e) == "broker" { ConnKind::Broker } else { ConnKind::Proxy })))}>
            <option value="proxy" selected={f.kind == ConnKind::Proxy}>{"Link server (via proxy)"}</option>
            <option value="broker" selected={f.kind == ConnKind::Broker}>{"MQTT broker (websocket)"}</option>
        </select>
    };
    let place = match f.kind {
        ConnKind::Proxy => html! {
            <>
                <label>{"Proxy"}<input id="proxy" value={f.proxy.clone()} oninput={edit(FormEdit::Proxy)} /></label>
                <label>{"Target"}{targets}</label>
            </>
        },
        ConnKind::Broker => html! {
            <>
                <label>{"Broker"}<input id="broker" list="brokers" value={f.broker.clone()} placeholder="ws://127.0.0.1:9001"
                    title="the broker's websocket listener, or one the proxy reaches (--broker); vscp-proxy bridge publishes every event there"
                    oninput={edit(FormEdit::Broker)} /></label>
                <datalist id="brokers">
                    { for p.targets.as_ref().iter().flatten().filter(|t| t.mqtt).map(|t| html! {
                        <option value={f.proxy_broker_url(&t.name)}>{ format!("{} ({}) through the proxy", t.name, t.address) }</option>
                    }) }
                </datalist>
                <label>{"Topics"}<input id="topic" value={f.topic.clone()} placeholder={DEFAULT_TOPIC}
                    oninput={edit(FormEdit::Topic)} /></label>
            </>
        },
    };
    if p.connected {
        // locked while connected: what it is connected to, and the way out
        let to = match f.kind {
            ConnKind::Proxy => format!("{} at {} through {}", f.target, target_address(p), f.proxy),
            ConnKind::Broker => format!("{} ({})", f.broker, f.topic_filter()),
        };
        let who = if f.user.is_empty() || proxy_logs_in {
            String::new()
        } else {
            format!("{} @ ", f.user)
        };
        return html! {
            <div class="conn locked" id="conn-locked">
                <span class="to" id="connected-to">{ format!("{who}{to}") }</span>
                if f.kind == ConnKind::Broker { {site_select(p)} }
                // keyed apart from Connect, and its click's default action cancelled: the page
                // re-renders during the click, and a submit button in the same place would
                // otherwise submit the form (and connect again) when the click finishes
                <button key="disconnect" id="disconnect" type="button"
                    onclick={on.reform(|e: MouseEvent| { e.prevent_default(); Msg::Act(Action::Disconnect) })}>{"Disconnect"}</button>
                <span class="hint">{"disconnect to change the target or login"}</span>
            </div>
        };
    }
    let demo = p.targets.as_ref().as_ref().ok().and_then(|list| {
        list.iter()
            .find(|t| t.name == f.target && f.kind == ConnKind::Proxy)
            .and_then(|t| t.demo_login.clone())
    });
    let demo_hint = demo.map(|login| {
        let fill = {
            let (user, password) = (login.user.clone(), login.password.clone());
            on.reform(move |e: MouseEvent| {
                e.prevent_default();
                Msg::Form(FormEdit::Login(user.clone(), password.clone()))
            })
        };
        html! {
            <p class="hint demo-login" id="demo-login">
                { format!("Demo nodes: log in as “{}”, password “{}”. ", login.user, login.password) }
                <button type="button" class="chip" id="use-demo-login" onclick={fill}>{"use it"}</button>
            </p>
        }
    });
    html! {
        <form class="conn" onsubmit={connect}>
            {kind}
            {place}
            if proxy_logs_in {
                <span class="hint" id="node-login-hint">{"the proxy logs in to this node for you"}</span>
            } else {
                <label>{"User"}<input id="user" autocomplete="username" value={f.user.clone()} oninput={edit(FormEdit::User)} /></label>
                <label>{"Password"}<input id="password" type="password" autocomplete="current-password" value={f.password.clone()} oninput={edit(FormEdit::Password)} /></label>
            }
            if f.kind == ConnKind::Proxy {
                <label>{"Token"}<input id="token" value={f.token.clone()} oninput={edit(FormEdit::Token)} placeholder="optional" /></label>
            }
            <label class="check"><input type="checkbox" checked={p.keep_password}
                onchange={on.reform(|e: web_sys::Event| Msg::Form(FormEdit::KeepPassword(checked(&e))))} />{"save password"}</label>
            <button key="connect" id="connect" type="submit">{ if p.retry { "Retry" } else { "Connect" } }</button>
            if !p.saved.is_empty() {
                <select aria-label="saved connections" onchange={load}>
                    <option value="">{"saved connections…"}</option>
                    { for p.saved.iter().enumerate().map(|(i, s)| html! { <option value={i.to_string()}>{s.label()}</option> }) }
                </select>
            }
            { for demo_hint }
        </form>
    }
}

/// The chosen target's address, as the proxy listed it.
fn target_address(p: &ConnectionProps) -> String {
    let list = p.targets.as_ref().as_ref().ok();
    list.and_then(|l| l.iter().find(|t| t.name == p.settings.target))
        .map(|t| t.address.clone())
        .unwrap_or_default()
}

/// The server a broker connection sends to (the bridges announce theirs).
fn site_select(p: &ConnectionProps) -> Html {
    let on = &p.on;
    html! {
        <label title="sends go to this server's command topic">{"Send to"}
            if p.sites.is_empty() {
                <span id="site" class="hint">{"no bridge announced a server yet"}</span>
            } else {
                <select id="site" aria-label="send to server"
                    onchange={on.reform(|e: web_sys::Event| Msg::Act(Action::Site(select_value(&e))))}>
                    { for p.sites.iter().map(|s| html! {
                        <option value={s.clone()} selected={p.site.as_ref() == Some(s)}>{s}</option>
                    }) }
                </select>
            }
        </label>
    }
}
