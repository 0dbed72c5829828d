//! The bridge's MQTT side (rumqttc): publishes every event in VSCP's JSON form (the 2026 keys,
//! or the legacy ones with `json = "legacy"`) at QoS 1 to
//! `{prefix}/{guid}/{class}/{type}/{nickname}`, and SENDs an event published to
//! `{prefix}/command/{server}` (JSON with either keys, XML, or a line) into that server. The client keeps a persistent session and
//! reconnects with back-off; while the broker is away, events wait in the bridge's bounded
//! queue for it (drops counted) and rumqttc resends what was not acknowledged.
//!
//! At most [`IN_FLIGHT`] publishes are unacknowledged at a time, fewer than rumqttc's packet
//! ids: rumqttc 0.24 (and 0.25.1) keeps one publish whose packet id is still in use aside, and
//! while it replays after a reconnect a second such publish replaces the first, which is then
//! lost without a word (seen in the cluster test: 202 of 300 events gone when a broker node
//! died). With fewer publishes out than ids, a new publish never meets an id still in use.
//!
//! On every connection the bridge also publishes, retained, the names of its servers to
//! `{prefix}/servers/{client id}` (`{"bridge": …, "servers": [...]}`): a console subscribed to
//! the broker learns from it which command topics it can send to.

use std::{
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use rumqttc::{
    AsyncClient, ConnectionError, Event as Mqtt, MqttOptions, Packet, Publish, QoS, Request,
    StateError, Subscribe,
};
use tokio::sync::mpsc;
use vscp_core::{Event, event_forms};

use vscp_api::topics::{ServerList, Topics};

use crate::{
    bridge::{Counters, MqttConfig},
    shutdown::Shutdown,
};

/// Requests rumqttc holds between the bridge and the connection.
const REQUESTS: usize = 256;
/// Longest wait between connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// rumqttc's packet ids for publishes (its `inflight` setting: ids 1 to this, less one).
const PACKET_IDS: u16 = 100;
/// Publishes the bridge lets be unacknowledged at once (with room for the announcement and
/// the subscription of each connection).
const IN_FLIGHT: usize = 90;
/// Largest packet the bridge reads from the broker. A larger one cannot be read at all: the
/// bridge then drops its session on the broker to get past it (see `run`). Brokers should
/// refuse larger messages themselves (mosquitto: `max_packet_size`).
pub const MAX_INCOMING: usize = 1024 * 1024;
/// Largest command taken; larger ones are acknowledged, counted as refused and logged.
pub const MAX_COMMAND: usize = 64 * 1024;
/// Largest packet the bridge publishes (an event in JSON is a few KiB at most).
const MAX_OUTGOING: usize = 64 * 1024;

/// Runs until shutdown.
pub(crate) async fn run(
    cfg: MqttConfig,
    mut rx: mpsc::Receiver<Event>,
    servers: Vec<(String, mpsc::Sender<Event>)>,
    counters: Arc<Counters>,
    shutdown: Shutdown,
) {
    let brokers = cfg.brokers();
    let client_id = cfg.client_id.clone();
    let options = move |(host, port): (String, u16)| {
        let mut opts = MqttOptions::new(&client_id, host, port);
        opts.set_keep_alive(Duration::from_secs(10))
            .set_inflight(PACKET_IDS)
            .set_clean_session(false)
            .set_max_packet_size(MAX_INCOMING, MAX_OUTGOING);
        opts
    };
    let mut at = 0;
    let first = brokers.first().cloned().unwrap_or_default();
    let (client, mut eventloop) = AsyncClient::new(options(first), REQUESTS);
    let prefix = cfg.prefix.trim_end_matches('/').to_string();
    let keys = cfg.json.into();
    let topics = Topics::new(&prefix);
    let list = ServerList {
        bridge: cfg.client_id.clone(),
        servers: servers.iter().map(|(n, _)| n.clone()).collect(),
    };
    let directory = (
        topics.servers(&cfg.client_id),
        serde_json::to_string(&list).unwrap_or_default(),
    );
    // publishes given to rumqttc and not yet acknowledged (see the module docs)
    let out = Arc::new(InFlight::default());
    let poller = {
        let counters = counters.clone();
        let out = out.clone();
        async move {
            let mut backoff = Duration::from_millis(200);
            // since when the bridge has had no broker, and how many brokers it tried since
            let mut lost: Option<std::time::Instant> = None;
            let mut tried = 0;
            loop {
                match eventloop.poll().await {
                    Ok(Mqtt::Incoming(Packet::ConnAck(_))) => {
                        backoff = Duration::from_millis(200);
                        tried = 0;
                        let (host, port) = brokers.get(at).cloned().unwrap_or_default();
                        match lost.take() {
                            Some(since) => {
                                let ms = since.elapsed().as_millis() as u64;
                                counters.last_reconnect_ms.store(ms, Relaxed);
                                tracing::info!(broker = %format!("{host}:{port}"), ms, "bridge connected to the broker again");
                            }
                            None => {
                                tracing::info!(broker = %format!("{host}:{port}"), "bridge connected to the broker")
                            }
                        }
                        // a session dropped to get past an unreadable message: persistent again
                        // from the next connection on
                        eventloop.mqtt_options.set_clean_session(false);
                        // subscribe and announce first on every connection, ahead of whatever
                        // the queue holds (a broker restarted without persistence forgot both)
                        let (topic, servers) = directory.clone();
                        let mut announce = Publish::new(topic, QoS::AtLeastOnce, servers);
                        announce.retain = true;
                        out.add();
                        eventloop.pending.push_front(Request::Publish(announce));
                        eventloop
                            .pending
                            .push_front(Request::Subscribe(Subscribe::new(
                                topics.all_commands(),
                                QoS::AtLeastOnce,
                            )));
                    }
                    Ok(Mqtt::Incoming(Packet::Publish(p))) => {
                        command(&p.topic, &p.payload, &topics, &servers, &counters);
                    }
                    Ok(Mqtt::Incoming(Packet::PubAck(_))) => {
                        counters.acked.fetch_add(1, Relaxed);
                        out.done();
                    }
                    Ok(_) => {}
                    Err(ConnectionError::MqttState(StateError::Deserialization(
                        rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(size),
                    ))) => {
                        // the broker would redeliver it for ever to the persistent session
                        counters.refused.fetch_add(1, Relaxed);
                        counters.reconnects.fetch_add(1, Relaxed);
                        tracing::error!(
                            size,
                            limit = MAX_INCOMING,
                            "a message too large to read on the command topic: the bridge drops its \
                             session on the broker to get past it (commands waiting there are lost); \
                             set the broker's max_packet_size to at most the limit"
                        );
                        eventloop.mqtt_options.set_clean_session(true);
                    }
                    Err(e) => {
                        lost.get_or_insert_with(std::time::Instant::now);
                        counters.reconnects.fetch_add(1, Relaxed);
                        tried += 1;
                        if brokers.len() > 1 {
                            // the next broker of the list, with the same session (a cluster
                            // keeps it); back off only once every broker was tried
                            at = (at + 1) % brokers.len();
                            let clean = eventloop.mqtt_options.clean_session();
                            eventloop.mqtt_options = options(brokers[at].clone());
                            eventloop.mqtt_options.set_clean_session(clean);
                            tracing::warn!(%e, next = %format!("{}:{}", brokers[at].0, brokers[at].1), "broker connection lost: trying the next broker");
                        } else {
                            tracing::warn!(%e, ?backoff, "broker connection");
                        }
                        if tried >= brokers.len() {
                            tried = 0;
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                    }
                }
            }
        }
    };
    let publisher = async {
        while let Some(ev) = rx.recv().await {
            out.room().await;
            out.add();
            let topic = event_forms::topic(&prefix, &ev);
            let json = event_forms::to_json_with(&ev, keys).to_string();
            match client.publish(topic, QoS::AtLeastOnce, false, json).await {
                Ok(()) => counters.sent.fetch_add(1, Relaxed),
                Err(_) => counters.dropped.fetch_add(1, Relaxed),
            };
        }
    };
    tokio::select! {
        _ = poller => {}
        _ = publisher => {}
        _ = shutdown.wait() => { let _ = client.try_disconnect(); }
    }
}

/// Publishes out and not yet acknowledged, and a wake-up for the publisher when one is.
#[derive(Default)]
struct InFlight {
    count: std::sync::atomic::AtomicUsize,
    acked: tokio::sync::Notify,
}

impl InFlight {
    fn add(&self) {
        self.count.fetch_add(1, Relaxed);
    }

    fn done(&self) {
        let _ = self
            .count
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
        self.acked.notify_one();
    }

    /// Waits until fewer than [`IN_FLIGHT`] are out.
    async fn room(&self) {
        while self.count.load(Relaxed) >= IN_FLIGHT {
            self.acked.notified().await;
        }
    }
}

/// A JSON event on `{prefix}/command/{server}`: into that server's queue.
fn command(
    topic: &str,
    payload: &[u8],
    topics: &Topics,
    servers: &[(String, mpsc::Sender<Event>)],
    counters: &Counters,
) {
    counters.received.fetch_add(1, Relaxed);
    let refuse = |why: &str| {
        counters.refused.fetch_add(1, Relaxed);
        tracing::warn!(%topic, bytes = payload.len(), "command refused: {why}");
    };
    let Some(name) = topics.command_for(topic) else {
        return;
    };
    let Some((_, tx)) = servers.iter().find(|(n, _)| n == name) else {
        return refuse("no server of that name");
    };
    if payload.len() > MAX_COMMAND {
        return refuse(&format!("larger than {MAX_COMMAND} bytes"));
    }
    match event_forms::from_payload(&String::from_utf8_lossy(payload), None) {
        Ok(ev) => {
            if tx.try_send(ev).is_err() {
                counters.dropped.fetch_add(1, Relaxed);
            }
        }
        Err(e) => refuse(&format!("not an event (JSON, XML or a line): {e}")),
    }
}
