//! The connection: what the user typed, the websocket URL it makes, the status bar's state,
//! close codes in words and the reconnect back-off.

use serde::{Deserialize, Serialize};
use vscp_api::CloseCode;
use vscp_api::topics::Topics;
use vscp_core::{Millis, State};

use super::broker::{BrokerConfig, BrokerState};

/// Topic filter of a broker connection when none is typed.
pub const DEFAULT_TOPIC: &str = "vscp/#";

/// What the console connects to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnKind {
    /// A link server, through vscp-proxy's websocket.
    #[default]
    Proxy,
    /// An MQTT broker's websocket listener, fed by `vscp-proxy bridge`.
    Broker,
}

/// What the user typed in the connection form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnSettings {
    /// Link server through the proxy, or MQTT broker.
    pub kind: ConnKind,
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
    /// The broker's websocket URL, e.g. `ws://127.0.0.1:9001`.
    pub broker: String,
    /// Topic filter subscribed on the broker (empty: [`DEFAULT_TOPIC`]).
    pub topic: String,
}

impl ConnSettings {
    /// The websocket URL for these settings.
    #[must_use]
    pub fn ws_url(&self) -> String {
        self.proxy_url("ws", &self.target)
    }

    /// The websocket URL of an MQTT broker the proxy allow-lists (`--broker NAME=…`).
    #[must_use]
    pub fn proxy_broker_url(&self, name: &str) -> String {
        self.proxy_url("mqtt", name)
    }

    fn proxy_url(&self, path: &str, target: &str) -> String {
        let base = self.proxy.trim_end_matches('/');
        let base = base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        let mut url = format!("{base}/{path}?target={}", encode(target));
        if !self.token.is_empty() {
            url.push_str(&format!("&token={}", encode(&self.token)));
        }
        url
    }

    /// The topic filter to subscribe.
    #[must_use]
    pub fn topic_filter(&self) -> &str {
        match self.topic.trim() {
            "" => DEFAULT_TOPIC,
            t => t,
        }
    }

    /// The bridges' topics: under the filter's first level (`vscp` for `vscp/#`).
    #[must_use]
    pub fn topics(&self) -> Topics {
        match self.topic_filter().split('/').next() {
            Some(p) if p != "+" && p != "#" => Topics::new(p),
            _ => Topics::new(""),
        }
    }

    /// The broker session's login and subscriptions: the filter, and the bridges' server
    /// lists (`{prefix}/servers/+`) when the filter does not cover them.
    #[must_use]
    pub fn broker_config(&self, client_id: String) -> BrokerConfig {
        let filter = self.topic_filter().to_string();
        let mut filters = vec![filter.clone()];
        let topics = self.topics();
        if filter != "#" && filter != format!("{}/#", topics.prefix()) {
            filters.push(topics.all_servers());
        }
        BrokerConfig {
            client_id,
            login: (!self.user.is_empty()).then(|| (self.user.clone(), self.password.clone())),
            filters,
        }
    }

    /// The broker URL, when it is a websocket URL.
    pub fn broker_url(&self) -> Result<String, String> {
        let url = self.broker.trim();
        if url.starts_with("ws://") || url.starts_with("wss://") {
            Ok(url.to_string())
        } else {
            Err(format!(
                "broker URL must start with ws:// or wss:// (the broker's websocket listener), not {url:?}"
            ))
        }
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
    /// Connected to an MQTT broker; its session's state.
    Broker(BrokerState),
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
    if code == 1006 {
        return format!("{what}: is the proxy running, and is its address right?");
    }
    let advice = match CloseCode::try_from(code) {
        Ok(CloseCode::NodeUnreachable) => node_advice(reason),
        Ok(CloseCode::NodeClosed | CloseCode::NodeError) => {
            Some("the node or the network to it failed: check the node")
        }
        _ => None,
    };
    // the proxy's own words, without the operating system's error numbers
    let reason = reason
        .split_once(" (os error")
        .map_or(reason, |(words, _)| words)
        .trim();
    // a reason that only repeats the code's words is said once
    let said = reason.is_empty() || what.eq_ignore_ascii_case(reason);
    match (said, advice) {
        (true, None) => what.to_string(),
        (true, Some(a)) => format!("{what}: {a}"),
        (false, None) => format!("{what} ({reason})"),
        (false, Some(a)) => format!("{what} ({reason}): {a}"),
    }
}

/// What to check when the proxy could not reach a node, from the way it failed.
fn node_advice(reason: &str) -> Option<&'static str> {
    let r = reason.to_ascii_lowercase();
    Some(if r.contains("refused") {
        "nothing listens at the node's address: is the node running, and is the proxy's --node address right?"
    } else if r.contains("timed out") {
        "no answer from the node's host: is it up, and reachable from the proxy?"
    } else if r.contains("no route")
        || r.contains("unreachable network")
        || r.contains("network is unreachable")
    {
        "the proxy has no route to the node's host: check the --node address and the network"
    } else {
        "check that the node is running and that the proxy's --node address is right"
    })
}

/// Reconnect attempts in a row before the console gives up and offers to retry.
pub const MAX_TRIES: u32 = 8;

/// Back-off before reconnect attempt `n` (1 s, 2 s, 4 s … 30 s at most).
#[must_use]
pub fn backoff_ms(attempt: u32) -> u64 {
    (1_000u64 << attempt.min(5)).min(30_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_that_repeats_the_code_is_said_once() {
        let why = close_reason(4003, "node closed the connection");
        assert_eq!(
            why.matches("node closed the connection").count(),
            1,
            "{why}"
        );
        let why = close_reason(4003, "reset by peer");
        assert!(why.contains("(reset by peer)"), "{why}");
    }
}
