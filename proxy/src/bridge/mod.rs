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

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering::Relaxed},
};

use tokio::sync::mpsc;
use vscp_core::Event;

mod config;
mod link;
mod mqtt;

pub use config::{BridgeConfig, JsonKeys, MAX_QUEUE, Mode, MqttConfig, POLL_MS, ServerConfig};

use crate::shutdown::Shutdown;
use link::{Link, Recent, SEEN_MEMORY, keep};

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
    /// Lines from the server that could not be used (not an event, too long, unexpected):
    /// not forwarded; the first of each kind is logged with the line.
    pub bad_lines: AtomicU64,
    /// Commands from the broker not taken: too large, not an event, for no known server.
    pub refused: AtomicU64,
    /// Publishes the broker acknowledged (PUBACK), its own announcements among them.
    pub acked: AtomicU64,
    /// Time from the last lost broker connection to the next one, ms.
    pub last_reconnect_ms: AtomicU64,
    /// 1 while the session to the server is logged in, else 0.
    pub up: AtomicU64,
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
        tasks.push(tokio::spawn(mqtt::run(mqtt, rx, servers, c, stop)));
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
    let metrics: [CounterOf; 10] = [
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
            "bad_lines_total",
            "Lines from the server that could not be read as an event or reply (the first of each kind logged with the line), not forwarded.",
            |c| &c.bad_lines,
        ),
        (
            "refused_total",
            "Commands from the broker not taken (too large, not an event, no such server), acknowledged and logged.",
            |c| &c.refused,
        ),
        (
            "acked_total",
            "Publishes the broker acknowledged (QoS 1 PUBACK), the bridge's announcements among them.",
            |c| &c.acked,
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
        "# HELP vscp_bridge_up 1 while the session to the server is logged in.\n# TYPE vscp_bridge_up gauge"
    );
    for (server, c) in table {
        let _ = writeln!(
            s,
            "vscp_bridge_up{{server=\"{server}\"}} {}",
            c.up.load(Relaxed)
        );
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
