//! The proxy account bar: a login form when the proxy has accounts and the page is not
//! logged in; who is logged in, at which level, and a way out when it is.

use std::rc::Rc;

use yew::prelude::*;

use super::input_value;
use crate::{
    Msg,
    account::{Account, level_name},
};

/// The account in effect (from the app's context; `Unknown` outside it).
#[hook]
pub fn use_account() -> Rc<Account> {
    use_context::<Rc<Account>>().unwrap_or_default()
}

/// Props of [`AccountBar`].
#[derive(Properties, PartialEq)]
pub struct AccountBarProps {
    /// Where user actions go.
    pub on: Callback<Msg>,
}

/// The account bar (nothing when the proxy has no accounts).
#[function_component(AccountBar)]
pub fn account_bar(p: &AccountBarProps) -> Html {
    let account = use_account();
    let user = use_state(String::new);
    let password = use_state(String::new);
    match account.as_ref() {
        Account::Unknown | Account::Open => html! {},
        Account::LoggedIn { user, level, send } => {
            let rules = if send.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = send.iter().map(ToString::to_string).collect();
                format!("; may send {}", list.join(", "))
            };
            html! {
                <span class="account" id="account">
                    <span id="account-who" title={format!("proxy account {user}: privilege level {level}{rules}")}>
                        { format!("{user} · {} ({level})", level_name(*level)) }
                    </span>
                    <button type="button" class="chip" id="proxy-logout"
                        onclick={p.on.reform(|e: MouseEvent| { e.prevent_default(); Msg::ProxyLogout })}>{"log out"}</button>
                </span>
            }
        }
        Account::LoggedOut(error) => {
            let submit = {
                let (user, password, on) = (user.clone(), password.clone(), p.on.clone());
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    on.emit(Msg::ProxyLogin((*user).clone(), (*password).clone()));
                    password.set(String::new());
                })
            };
            let typed = |state: &UseStateHandle<String>| {
                let state = state.clone();
                Callback::from(move |e: InputEvent| state.set(input_value(&e)))
            };
            html! {
                <form class="account login" id="proxy-login" onsubmit={submit} aria-label="log in to the proxy">
                    <span class="hint">{"This proxy has accounts:"}</span>
                    <label>{"Account"}<input id="proxy-user" autocomplete="username" value={(*user).clone()} oninput={typed(&user)} /></label>
                    <label>{"Password"}<input id="proxy-password" type="password" autocomplete="current-password"
                        value={(*password).clone()} oninput={typed(&password)} /></label>
                    <button type="submit" id="proxy-login-submit">{"log in"}</button>
                    if let Some(e) = error { <span class="err" id="proxy-login-error" role="alert">{e}</span> }
                </form>
            }
        }
    }
}
