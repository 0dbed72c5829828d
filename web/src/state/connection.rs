//! The connection: what the user typed, the websocket URL it makes, the status bar's state,
//! close codes in words and the reconnect back-off.

use vscp_api::CloseCode;
use vscp_core::{Millis, State};

/// What the user typed in the connection form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnSettings {
    /// Proxy base URL, e.g. `http://127.0.0.1:8080` (ws URL derived from it).
    pub proxy: String,
    /// Target name from `/api/targets`.
    pub target: String,
    /// Login user (empty: no login).
    pub user: String,
    /// Login password.
    pub password: String,
    /// Proxy token, if the proxy wants one.
    pub token: String,
}

impl ConnSettings {
    /// The websocket URL for these settings.
    #[must_use]
    pub fn ws_url(&self) -> String {
        let base = self.proxy.trim_end_matches('/');
        let base = base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        let mut url = format!("{base}/ws?target={}", encode(&self.target));
        if !self.token.is_empty() {
            url.push_str(&format!("&token={}", encode(&self.token)));
        }
        url
    }
}

/// Percent-encodes everything but unreserved URL characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The connection as the status bar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// Not connected (with the last reason, if any).
    Disconnected(Option<String>),
    /// Websocket opening.
    Connecting,
    /// Connected; the session's state.
    Session(State),
    /// Waiting to reconnect at this time (attempt number).
    Reconnecting {
        /// When the next attempt starts.
        at: Millis,
        /// Its number (1, 2, …).
        attempt: u32,
        /// Why the last connection ended.
        reason: String,
    },
}

impl Default for Link {
    fn default() -> Self {
        Link::Disconnected(None)
    }
}

/// Words for a websocket close code (the proxy's own, or a standard one).
#[must_use]
pub fn close_reason(code: u16, reason: &str) -> String {
    let what = match CloseCode::try_from(code) {
        Ok(c) => c.describe(),
        Err(_) if code == 1000 => "closed",
        Err(_) if code == 1006 => "proxy unreachable or connection lost",
        Err(_) => "connection closed",
    };
    if reason.is_empty() || code == 1006 {
        what.to_string()
    } else {
        format!("{what} ({reason})")
    }
}

/// Back-off before reconnect attempt `n` (1 s, 2 s, 4 s … 30 s).
#[must_use]
pub fn backoff_ms(attempt: u32) -> u64 {
    (1_000u64 << attempt.min(5)).min(30_000)
}
