//! What the console keeps in the browser's local storage: saved connections, the theme, and
//! the user's named lists (filters, send templates, known nodes).

use gloo::storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::state::{ConnKind, ConnSettings};

const SAVED_KEY: &str = "vscp-link.connections";
const THEME_KEY: &str = "vscp-link.theme";
/// Saved log filters.
pub const FILTERS_KEY: &str = "vscp-link.filters";
/// Saved send templates.
pub const TEMPLATES_KEY: &str = "vscp-link.templates";
/// Known nodes (GUID → name).
pub const NODES_KEY: &str = "vscp-link.nodes";

/// The list kept under `key` (empty when there is none or it cannot be read).
#[must_use]
pub fn load<T: DeserializeOwned>(key: &str) -> Vec<T> {
    LocalStorage::get(key).unwrap_or_default()
}

/// Keeps `list` under `key`.
pub fn store<T: Serialize>(key: &str, list: &[T]) {
    let _ = LocalStorage::set(key, list);
}
/// Saved connections kept (most recent first).
const SAVED_CAPACITY: usize = 10;

/// A saved connection (the password only when the user asked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// Proxy base URL.
    pub proxy: String,
    /// Target name.
    pub target: String,
    /// Login user.
    pub user: String,
    /// Password, if kept.
    pub password: Option<String>,
    /// Proxy token.
    pub token: String,
    /// Link server or broker (absent in connections saved before brokers).
    #[serde(default)]
    pub kind: ConnKind,
    /// Broker websocket URL.
    #[serde(default)]
    pub broker: String,
    /// Broker topic filter.
    #[serde(default)]
    pub topic: String,
}

impl Saved {
    /// The settings to connect with.
    #[must_use]
    pub fn settings(&self) -> ConnSettings {
        ConnSettings {
            proxy: self.proxy.clone(),
            target: self.target.clone(),
            user: self.user.clone(),
            password: self.password.clone().unwrap_or_default(),
            token: self.token.clone(),
            kind: self.kind,
            broker: self.broker.clone(),
            topic: self.topic.clone(),
        }
    }

    /// Where it connects to, for the list.
    #[must_use]
    pub fn label(&self) -> String {
        match self.kind {
            ConnKind::Proxy => format!("{}@{} {}", self.user, self.target, self.proxy),
            ConnKind::Broker => format!("{} {} (MQTT)", self.topic, self.broker),
        }
    }
}

/// The saved connections, most recent first.
#[must_use]
pub fn saved_connections() -> Vec<Saved> {
    LocalStorage::get(SAVED_KEY).unwrap_or_default()
}

/// Saves a connection in front (replacing the same place and user); returns the new list.
pub fn remember(s: &ConnSettings, keep_password: bool) -> Vec<Saved> {
    let entry = Saved {
        proxy: s.proxy.clone(),
        target: s.target.clone(),
        user: s.user.clone(),
        password: keep_password.then(|| s.password.clone()),
        token: s.token.clone(),
        kind: s.kind,
        broker: s.broker.clone(),
        topic: s.topic.clone(),
    };
    let mut all = saved_connections();
    all.retain(|x| x.label() != entry.label() || x.user != entry.user);
    all.insert(0, entry);
    all.truncate(SAVED_CAPACITY);
    let _ = LocalStorage::set(SAVED_KEY, &all);
    all
}

/// The theme the user picked (true: dark), else the system's preference.
#[must_use]
pub fn dark_theme() -> bool {
    match LocalStorage::get::<String>(THEME_KEY) {
        Ok(t) => t == "dark",
        Err(_) => web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches()),
    }
}

/// Remembers the theme.
pub fn set_dark_theme(dark: bool) {
    let _ = LocalStorage::set(THEME_KEY, if dark { "dark" } else { "light" });
}
