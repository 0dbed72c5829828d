//! The connection bar: proxy, target, login, token, saved connections, connect/disconnect.

use std::rc::Rc;

use vscp_api::Target;
use yew::prelude::*;

use super::{checked, on_input, select_value};
use crate::{Msg, forms::FormEdit, state::Action, state::ConnSettings, storage::Saved};

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
    /// Saved connections.
    pub saved: Rc<Vec<Saved>>,
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The connection form.
#[function_component(Connection)]
pub fn connection(p: &ConnectionProps) -> Html {
    let on = &p.on;
    let f = &p.settings;
    let edit = |mk: fn(String) -> FormEdit| on_input(on, move |v| Msg::Form(mk(v)));
    let connect = {
        let settings = f.clone();
        on.reform(move |e: SubmitEvent| {
            e.prevent_default();
            Msg::Act(Action::Connect(settings.clone()))
        })
    };
    let targets = match p.targets.as_ref() {
        Ok(list) => html! {
            <select id="target" aria-label="target"
                onchange={on.reform(|e: web_sys::Event| Msg::Form(FormEdit::Target(select_value(&e))))}>
                { for list.iter().map(|t| html! {
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
    html! {
        <form class="conn" onsubmit={connect}>
            <label>{"Proxy"}<input id="proxy" value={f.proxy.clone()} oninput={edit(FormEdit::Proxy)} /></label>
            <label>{"Target"}{targets}</label>
            <label>{"User"}<input id="user" autocomplete="username" value={f.user.clone()} oninput={edit(FormEdit::User)} /></label>
            <label>{"Password"}<input id="password" type="password" autocomplete="current-password" value={f.password.clone()} oninput={edit(FormEdit::Password)} /></label>
            <label>{"Token"}<input id="token" value={f.token.clone()} oninput={edit(FormEdit::Token)} placeholder="optional" /></label>
            <label class="check"><input type="checkbox" checked={p.keep_password}
                onchange={on.reform(|e: web_sys::Event| Msg::Form(FormEdit::KeepPassword(checked(&e))))} />{"save password"}</label>
            if p.connected {
                <button id="disconnect" type="button" onclick={on.reform(|_| Msg::Act(Action::Disconnect))}>{"Disconnect"}</button>
            } else {
                <button id="connect" type="submit">{"Connect"}</button>
            }
            if !p.saved.is_empty() {
                <select aria-label="saved connections" onchange={load}>
                    <option value="">{"saved connections…"}</option>
                    { for p.saved.iter().enumerate().map(|(i, s)| html! { <option value={i.to_string()}>{format!("{}@{} {}", s.user, s.target, s.proxy)}</option> }) }
                </select>
            }
        </form>
    }
}
