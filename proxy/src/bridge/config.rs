//! The bridge's configuration file (`bridge.toml`) and its checks.

use anyhow::Context;
use serde::Deserialize;

/// The bridge's configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// Events waiting per server, at most (the oldest are kept, new ones dropped and counted).
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Where to serve `/metrics` (Prometheus text), if anywhere (e.g. `127.0.0.1:9100`).
    pub metrics: Option<std::net::SocketAddr>,
    /// Also publish every event to an MQTT broker (and SEND what arrives on its command topics).
    pub mqtt: Option<MqttConfig>,
    /// The link servers.
    pub server: Vec<ServerConfig>,
}

/// An MQTT broker: every event any server shows is published to
/// `{prefix}/{guid}/{class}/{type}/{nickname}` in VSCP's JSON form at QoS 1; a JSON event
/// published to `{prefix}/command/{server}` is SENT into that server.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Broker host (or use `hosts`).
    #[serde(default)]
    pub host: String,
    /// Broker port.
    #[serde(default = "default_mqtt_port")]
    pub port: u16,
    /// Brokers of a cluster, `HOST:PORT` each: the bridge fails over between them in turn,
    /// keeping its persistent session (the cluster holds it). Replaces `host` and `port`.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Topic prefix.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// MQTT client id (a persistent session: the broker keeps what it owes the bridge).
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// The JSON keys events are published with: `current` (the 2026 keys `head`, `class`, …)
    /// or `legacy` (`vscpHead`, `vscpClass`, … for older subscribers).
    #[serde(default)]
    pub json: JsonKeys,
}

impl MqttConfig {
    /// The brokers to use, in the order they are tried.
    pub fn brokers(&self) -> Vec<(String, u16)> {
        if self.hosts.is_empty() {
            return vec![(self.host.clone(), self.port)];
        }
        self.hosts
            .iter()
            .filter_map(|h| {
                let (host, port) = h.rsplit_once(':')?;
                Some((host.to_string(), port.parse().ok()?))
            })
            .collect()
    }
}

/// Which keys the bridge publishes events with.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum JsonKeys {
    /// `head`, `obid`, `datetime`, `timestamp`, `timestamp_ns`, `class`, `type`, `guid`, `data`.
    #[default]
    Current,
    /// `vscpHead`, `vscpObId`, `vscpDateTime`, …
    Legacy,
}

impl From<JsonKeys> for vscp_core::event_forms::Keys {
    fn from(k: JsonKeys) -> Self {
        match k {
            JsonKeys::Current => vscp_core::event_forms::Keys::Current,
            JsonKeys::Legacy => vscp_core::event_forms::Keys::Legacy,
        }
    }
}

fn default_mqtt_port() -> u16 {
    1883
}

fn default_prefix() -> String {
    "vscp".into()
}

fn default_client_id() -> String {
    "vscp-bridge".into()
}

fn default_queue() -> usize {
    10_000
}

/// One link server.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Name in logs and counters.
    pub name: String,
    /// `HOST:PORT`.
    pub address: String,
    /// Login user, if the server wants one.
    pub user: Option<String>,
    /// Login password.
    #[serde(default)]
    pub password: String,
    /// `stream` (RCVLOOP) or `poll` (RETR every `poll_ms`).
    #[serde(default)]
    pub mode: Mode,
    /// Polling interval, ms.
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
}

fn default_poll() -> u64 {
    1_000
}

/// How events are fetched from a server.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A persistent receive loop.
    #[default]
    Stream,
    /// RETR at an interval.
    Poll,
}

/// Most events a queue may hold.
pub const MAX_QUEUE: usize = 1_000_000;
/// Shortest and longest polling interval, ms.
pub const POLL_MS: std::ops::RangeInclusive<u64> = 10..=3_600_000;

impl BridgeConfig {
    /// Reads and checks a configuration file: every value in range, or an error that names
    /// the key and what it may be.
    pub fn load(path: &std::path::Path) -> anyhow::Result<BridgeConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        let c: BridgeConfig =
            toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
        c.check().with_context(|| format!("{}", path.display()))?;
        Ok(c)
    }

    /// Checks every value; the error names the key and the allowed range.
    pub fn check(&self) -> anyhow::Result<()> {
        use anyhow::ensure;
        ensure!(
            !self.server.is_empty() && self.server.len() + usize::from(self.mqtt.is_some()) >= 2,
            "a bridge needs two [[server]] entries, or one and [mqtt]"
        );
        ensure!(
            (1..=MAX_QUEUE).contains(&self.queue),
            "queue = {}: must be 1 to {MAX_QUEUE} (events waiting per server)",
            self.queue
        );
        for (i, s) in self.server.iter().enumerate() {
            let at = format!("[[server]] #{} ({:?})", i + 1, s.name);
            ensure!(!s.name.trim().is_empty(), "{at}: name must not be empty");
            ensure!(
                self.server.iter().filter(|o| o.name == s.name).count() == 1,
                "{at}: name is used by another [[server]]"
            );
            ensure!(
                s.name != "mqtt",
                "{at}: name \"mqtt\" is the broker's in counters; choose another"
            );
            let port = s
                .address
                .rsplit_once(':')
                .map(|(h, p)| (h, p.parse::<u16>()));
            ensure!(
                matches!(port, Some((h, Ok(p))) if !h.is_empty() && p > 0),
                "{at}: address = {:?}: must be HOST:PORT with a port 1 to 65535",
                s.address
            );
            ensure!(
                POLL_MS.contains(&s.poll_ms),
                "{at}: poll_ms = {}: must be {} to {} ms",
                s.poll_ms,
                POLL_MS.start(),
                POLL_MS.end()
            );
        }
        if let Some(m) = &self.mqtt {
            ensure!(
                !m.host.trim().is_empty() || !m.hosts.is_empty(),
                "[mqtt] needs host (and port) or hosts = [\"HOST:PORT\", …]"
            );
            for h in &m.hosts {
                ensure!(
                    matches!(h.rsplit_once(':'), Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)),
                    "[mqtt] hosts: {h:?} must be HOST:PORT with a port 1 to 65535"
                );
            }
            ensure!(m.port > 0, "[mqtt] port = 0: must be 1 to 65535");
            ensure!(
                !m.client_id.is_empty() && m.client_id.len() <= 256,
                "[mqtt] client_id = {:?}: must be 1 to 256 bytes (the broker keeps the bridge's session under it)",
                m.client_id
            );
            ensure!(
                !m.prefix.trim_matches('/').is_empty() && !m.prefix.contains(['+', '#']),
                "[mqtt] prefix = {:?}: must be a topic level or more, without + or #",
                m.prefix
            );
        }
        Ok(())
    }
}
