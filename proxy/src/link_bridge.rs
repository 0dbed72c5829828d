//! `vscp-proxy bridge --config bridge.toml`: holds a session to each of N link servers (a
//! persistent receive loop, or RETR polling at an interval) and SENDs every event one server
//! shows into all the others. Sessions reconnect with back-off; each server has a bounded
//! queue of events waiting for it (kept across its reconnects, drops counted), and SENDs not
//! yet answered `+OK` when a connection breaks are sent again on the next one (at least
//! once); an event that comes back from the server it was sent into is not forwarded again.
//!
//! Loops across several bridges (A↔B, B↔C, C↔A) end at the first turn: an event is known by
//! its origin — GUID, class, type, data and the time stamp its node gave it, which servers
//! keep on a SEND — and a bridge forwards each such event once, whichever server shows it
//! (counted as `looped`).
//!
//! ```toml
//! queue = 10000            # events waiting per server, at most
//! metrics = "127.0.0.1:9100"  # optional: GET /metrics
//! [[server]]
//! name = "a"
//! address = "127.0.0.1:9598"
//! user = "admin"
//! password = "secret"
//! mode = "stream"          # or "poll", with poll_ms = 500
//! ```

use std::{
    collections::{HashSet, VecDeque},
    hash::{Hash, Hasher},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use serde::Deserialize;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::mpsc,
};
use vscp_core::{
    ClientConfig, ClientSession, Command, Event, Millis, Output, ReceiveMode, SessionEvent, State,
};

use crate::shutdown::Shutdown;

/// First wait before a reconnect; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait before a reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Events a session sent that are remembered to recognise their echo.
const ECHO_MEMORY: usize = 4096;
/// Events the bridge forwarded or sent, remembered by origin to end loops.
const SEEN_MEMORY: usize = 65_536;
/// SENDs a session has waiting for replies before it takes more from its queue.
const SEND_WINDOW: usize = 16;

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

/// Counters of one server.
#[derive(Debug, Default)]
pub struct Counters {
    /// Events received from it.
    pub received: AtomicU64,
    /// Events sent into it.
    pub sent: AtomicU64,
    /// Events for it dropped on a full queue.
    pub dropped: AtomicU64,
    /// Echoes of its own SENDs not forwarded.
    pub echoes: AtomicU64,
    /// Events already forwarded from elsewhere (a loop through other bridges) not forwarded.
    pub looped: AtomicU64,
    /// Reconnects.
    pub reconnects: AtomicU64,
    /// Events received with a field that could not be read (forwarded all the same).
    pub unreadable: AtomicU64,
    /// Commands from the broker not taken: too large, not an event, for no known server.
    pub refused: AtomicU64,
    /// Time from the last lost broker connection to the next one, ms.
    pub last_reconnect_ms: AtomicU64,
}

/// Runs the bridge until shutdown; returns each server's name and counters.
pub async fn run(config: BridgeConfig, shutdown: Shutdown) -> Vec<(String, Arc<Counters>)> {
    let (mut txs, mut rxs): (Vec<_>, Vec<_>) = config
        .server
        .iter()
        .map(|_| mpsc::channel::<Event>(config.queue))
        .unzip();
    let mut names: Vec<String> = config.server.iter().map(|s| s.name.clone()).collect();
    // the broker is one more destination, with a queue like a server's
    if config.mqtt.is_some() {
        let (tx, rx) = mpsc::channel::<Event>(config.queue);
        txs.push(tx);
        rxs.push(rx);
        names.push("mqtt".into());
    }
    let counters: Vec<Arc<Counters>> = names.iter().map(|_| Arc::default()).collect();
    if let Some(addr) = config.metrics {
        let table: Vec<(String, Arc<Counters>)> = names
            .iter()
            .cloned()
            .zip(counters.iter().cloned())
            .collect();
        let queues: Vec<mpsc::Sender<Event>> = txs.clone();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let text = render(&table, &queues);
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4",
                        )],
                        text,
                    )
                }
            }),
        );
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                let stop = shutdown.clone();
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move { stop.wait().await })
                        .await;
                });
            }
            Err(e) => tracing::error!(%addr, %e, "bridge metrics not served"),
        }
    }
    let mut tasks = Vec::new();
    let broker_rx = config.mqtt.as_ref().and_then(|_| rxs.pop());
    if let (Some(mqtt), Some(rx)) = (config.mqtt.clone(), broker_rx) {
        let servers: Vec<(String, mpsc::Sender<Event>)> = names
            .iter()
            .cloned()
            .zip(txs.iter().cloned())
            .take(config.server.len())
            .collect();
        let (c, stop) = (counters[config.server.len()].clone(), shutdown.clone());
        tasks.push(tokio::spawn(crate::mqtt::run(mqtt, rx, servers, c, stop)));
    }
    let seen = Arc::new(Mutex::new(Recent::new(SEEN_MEMORY)));
    for (i, (server, rx)) in config.server.iter().zip(rxs).enumerate() {
        let others: Vec<(mpsc::Sender<Event>, Arc<Counters>)> = txs
            .iter()
            .zip(&counters)
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (tx, c))| (tx.clone(), c.clone()))
            .collect();
        let link = Link {
            others,
            counters: counters[i].clone(),
            seen: seen.clone(),
        };
        let (server, shutdown) = (server.clone(), shutdown.clone());
        tasks.push(tokio::spawn(keep(server, rx, link, shutdown)));
    }
    for t in tasks {
        let _ = t.await;
    }
    names.into_iter().zip(counters).collect()
}

/// A counter of [`Counters`], by name, with its help text.
type CounterOf = (&'static str, &'static str, fn(&Counters) -> &AtomicU64);

/// The bridge's counters and queue depths in Prometheus text format.
fn render(table: &[(String, Arc<Counters>)], queues: &[mpsc::Sender<Event>]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let metrics: [CounterOf; 8] = [
        ("received_total", "Events received from the server.", |c| {
            &c.received
        }),
        ("sent_total", "Events SENT into the server.", |c| &c.sent),
        (
            "dropped_total",
            "Events for the server dropped on a full queue.",
            |c| &c.dropped,
        ),
        (
            "echoes_total",
            "Echoes of the bridge's own SENDs not forwarded.",
            |c| &c.echoes,
        ),
        (
            "looped_total",
            "Events the bridge had already forwarded (a loop through other bridges), not forwarded.",
            |c| &c.looped,
        ),
        (
            "unreadable_total",
            "Events received with a field that could not be read (a bad datetime, say), forwarded all the same.",
            |c| &c.unreadable,
        ),
        (
            "refused_total",
            "Commands from the broker not taken (too large, not an event, no such server), acknowledged and logged.",
            |c| &c.refused,
        ),
        (
            "reconnects_total",
            "Sessions to the server that ended and were opened again.",
            |c| &c.reconnects,
        ),
    ];
    for (name, help, get) in metrics {
        let _ = writeln!(
            s,
            "# HELP vscp_bridge_{name} {help}\n# TYPE vscp_bridge_{name} counter"
        );
        for (server, c) in table {
            let _ = writeln!(
                s,
                "vscp_bridge_{name}{{server=\"{server}\"}} {}",
                get(c).load(Relaxed)
            );
        }
    }
    let _ = writeln!(
        s,
        "# HELP vscp_bridge_queue_depth Events waiting for the server.\n# TYPE vscp_bridge_queue_depth gauge"
    );
    for ((server, _), q) in table.iter().zip(queues) {
        let _ = writeln!(
            s,
            "vscp_bridge_queue_depth{{server=\"{server}\"}} {}",
            q.max_capacity() - q.capacity()
        );
    }
    s
}

/// What a session shares with the rest of the bridge.
struct Link {
    /// The other destinations' queues and counters.
    others: Vec<(mpsc::Sender<Event>, Arc<Counters>)>,
    /// This server's counters.
    counters: Arc<Counters>,
    /// Origins of every event the bridge forwarded or sent.
    seen: Arc<Mutex<Recent>>,
}

/// Holds a session to one server, reconnecting with back-off until shutdown.
async fn keep(server: ServerConfig, mut rx: mpsc::Receiver<Event>, link: Link, shutdown: Shutdown) {
    let mut backoff = FIRST_BACKOFF;
    // SENT but not answered when a connection broke, then what was waiting to be sent
    // again: first, in this order, on the next connection
    let (mut unanswered, mut resend) = (VecDeque::new(), VecDeque::new());
    loop {
        let mut first = std::mem::take(&mut unanswered);
        first.append(&mut resend);
        resend = first;
        let started = Instant::now();
        let end = tokio::select! {
            end = session(&server, &mut rx, &mut resend, &mut unanswered, &link, &shutdown) => end,
            _ = shutdown.wait() => return,
        };
        if shutdown.is_triggered() {
            return;
        }
        if started.elapsed() > MAX_BACKOFF {
            backoff = FIRST_BACKOFF; // it had been up a while: try again soon
        }
        tracing::warn!(server = %server.name, address = %server.address, ?backoff, "bridge session ended: {}", end.err().map(|e| e.to_string()).unwrap_or_default());
        link.counters.reconnects.fetch_add(1, Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.wait() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// What identifies an event sent into a server when it shows it back (a server may give it
/// its own obid and, when it had none, its own time).
fn fingerprint(e: &Event) -> u64 {
    hash((e.guid, e.class, e.kind, &e.data))
}

/// What identifies an event wherever it is forwarded: its fingerprint and the time its node
/// gave it, whichever form a server writes that time in (`None` without one: such an event
/// cannot be told from a repeat).
fn origin(e: &Event) -> Option<u64> {
    let ns = e.stamp.unix_ns()?;
    Some(hash((e.guid, e.class, e.kind, &e.data, ns)))
}

fn hash(v: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Fingerprints remembered for a while; the oldest are forgotten first.
struct Recent {
    order: VecDeque<u64>,
    set: HashSet<u64>,
    capacity: usize,
}

impl Recent {
    fn new(capacity: usize) -> Recent {
        Recent {
            order: VecDeque::new(),
            set: HashSet::new(),
            capacity,
        }
    }

    /// Remembers `f`; false when it was remembered already.
    fn remember(&mut self, f: u64) -> bool {
        if !self.set.insert(f) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(f);
        true
    }

    /// Forgets `f`; true when it was remembered.
    fn take(&mut self, f: u64) -> bool {
        self.set.remove(&f)
    }
}

impl Link {
    /// True the first time the bridge meets this event (received or sent), by its origin.
    fn first_time(&self, e: &Event) -> bool {
        origin(e).is_none_or(|o| {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.remember(o)
        })
    }
}

/// One connection to a server: login, then receive and forward, and SEND what others queued.
async fn session(
    server: &ServerConfig,
    rx: &mut mpsc::Receiver<Event>,
    resend: &mut VecDeque<Event>,
    unanswered: &mut VecDeque<Event>,
    link: &Link,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let counters = &*link.counters;
    let mut tcp = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&server.address))
        .await
        .context("connect timed out")??;
    let _ = tcp.set_nodelay(true);
    let start = Instant::now();
    let now = || Millis(start.elapsed().as_millis() as u64);
    let config = ClientConfig {
        credentials: server.user.clone().map(|u| (u, server.password.clone())),
        receive: match server.mode {
            Mode::Stream => ReceiveMode::Stream,
            Mode::Poll => ReceiveMode::Poll,
        },
        poll_interval: server.poll_ms,
        ..ClientConfig::default()
    };
    let mut s = ClientSession::new(config, now());
    let mut echoes = Recent::new(ECHO_MEMORY);
    let mut buf = vec![0u8; 64 * 1024];
    let mut ready = false;
    loop {
        let mut out = String::new();
        while let Some(o) = s.poll_output() {
            match o {
                Output::Transmit(l) => out.push_str(&l),
                Output::Event(SessionEvent::Received(ev)) => {
                    counters.received.fetch_add(1, Relaxed);
                    if let Some(u) = ev.unread.first() {
                        if counters.unreadable.fetch_add(1, Relaxed) == 0 {
                            tracing::warn!(server = %server.name, "an event with an unreadable field, forwarded with the server's text ({u}); counted in unreadable_total");
                        }
                    }
                    if echoes.take(fingerprint(&ev)) {
                        counters.echoes.fetch_add(1, Relaxed);
                        continue;
                    }
                    if !link.first_time(&ev) {
                        counters.looped.fetch_add(1, Relaxed);
                        continue;
                    }
                    for (tx, c) in &link.others {
                        if tx.try_send(ev.clone()).is_err() {
                            c.dropped.fetch_add(1, Relaxed);
                        }
                    }
                }
                Output::Event(SessionEvent::State(st)) => {
                    if matches!(st, State::Ready | State::Streaming) && !ready {
                        ready = true;
                        tracing::info!(server = %server.name, "bridge session up");
                    }
                }
                Output::Event(SessionEvent::Reply { command, reply, .. }) => {
                    if let Command::Send(_) = command {
                        unanswered.pop_front(); // replies come in order
                    }
                    if let Ok(r) = reply
                        && !r.ok
                    {
                        tracing::warn!(server = %server.name, "{} refused: {}", command.word(), r.text);
                    }
                }
                Output::Event(SessionEvent::Closed(why)) => anyhow::bail!("{why}"),
                Output::Event(SessionEvent::Adapted(a)) => {
                    tracing::info!(server = %server.name, "{a}");
                }
                Output::Event(_) => {}
            }
        }
        if !out.is_empty() {
            tcp.write_all(out.as_bytes()).await?;
        }
        let wait = s
            .poll_timeout()
            .map_or(1_000, |t| t.0.saturating_sub(now().0).max(1));
        let room = ready && s.pending() < SEND_WINDOW;
        if room && let Some(ev) = resend.pop_front() {
            send(
                &mut s,
                ev,
                unanswered,
                &mut echoes,
                link,
                &server.name,
                now(),
            );
            continue;
        }
        tokio::select! {
            n = tcp.read(&mut buf) => match n? {
                0 => anyhow::bail!("server closed the connection"),
                n => s.handle_bytes(&buf[..n], now()),
            },
            Some(ev) = rx.recv(), if room => {
                send(&mut s, ev, unanswered, &mut echoes, link, &server.name, now());
            }
            _ = tokio::time::sleep(Duration::from_millis(wait)) => s.handle_timeout(now()),
            _ = shutdown.wait() => {
                let _ = tcp.write_all(b"QUIT\r\n").await;
                return Ok(());
            }
        }
    }
}

/// SENDs one event, remembering it until its reply, for its echo and by its origin.
fn send(
    s: &mut ClientSession,
    ev: Event,
    unanswered: &mut VecDeque<Event>,
    echoes: &mut Recent,
    link: &Link,
    name: &str,
    now: Millis,
) {
    let counters = &*link.counters;
    echoes.remember(fingerprint(&ev));
    link.first_time(&ev);
    match s.send(Command::Send(ev.clone()), now) {
        Ok(_) => {
            counters.sent.fetch_add(1, Relaxed);
            unanswered.push_back(ev);
        }
        Err(e) => {
            // the window keeps the session's queue short: this session is closing
            counters.dropped.fetch_add(1, Relaxed);
            tracing::warn!(server = %name, %e, "SEND not queued");
        }
    }
}
