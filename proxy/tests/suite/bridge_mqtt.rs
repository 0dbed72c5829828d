//! The bridge's MQTT side against Debian's mosquitto on loopback: a demo server's events
//! arrive at a subscriber of `vscp/#` in VSCP's JSON form with their topics, a JSON event
//! on `vscp/command/a` is SENT into server a, and events sent while the broker restarts
//! are delivered once it is back (at least once; the broker keeps sessions on disk). The
//! bridge's server list waits retained on `vscp/servers/{client id}` for consoles.

use std::{collections::HashMap, time::Duration};

use crate::common::{Broker, Line, collect_marked, free_port};
use rumqttc::{AsyncClient, Event as Mqtt, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;
use vscp_proxy::{
    Shutdown,
    bridge::{BridgeConfig, Mode, MqttConfig, ServerConfig, run},
};

/// A bridge between demo server `a` on `pa` and the broker on `port`.
fn config(port: u16, pa: u16, client_id: &str) -> BridgeConfig {
    BridgeConfig {
        queue: 10_000,
        metrics: None,
        mqtt: Some(MqttConfig {
            host: "127.0.0.1".into(),
            port,
            prefix: "vscp".into(),
            client_id: client_id.into(),
            json: Default::default(),
            hosts: Vec::new(),
        }),
        server: vec![ServerConfig {
            name: "a".into(),
            address: format!("127.0.0.1:{pa}"),
            user: Some("admin".into()),
            password: "secret".into(),
            mode: Mode::Stream,
            poll_ms: 100,
        }],
    }
}

/// The first retained message a new subscriber of `filter` gets.
async fn retained(port: u16, filter: &str) -> Option<(String, serde_json::Value)> {
    let opts = MqttOptions::new("test-retained", "127.0.0.1", port);
    let (client, mut eventloop) = AsyncClient::new(opts, 8);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, eventloop.poll()).await {
            Ok(Ok(Mqtt::Incoming(Packet::ConnAck(_)))) => {
                client.subscribe(filter, QoS::AtLeastOnce).await.ok()?;
            }
            Ok(Ok(Mqtt::Incoming(Packet::Publish(p)))) if p.retain => {
                return Some((p.topic.clone(), serde_json::from_slice(&p.payload).ok()?));
            }
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return None,
        }
    }
}

/// Publishes a command for server `a` at QoS 1.
async fn command_to_a(client: &AsyncClient, payload: impl Into<Vec<u8>>) {
    client
        .publish("vscp/command/a", QoS::AtLeastOnce, false, payload)
        .await
        .unwrap();
}

/// What both tests stand on: mosquitto on a free port, a demo server, a bridge between them
/// (MQTT client id `id`), a watcher of the broker and a receive loop on the server.
struct Rig {
    dir: std::path::PathBuf,
    port: u16,
    broker: Broker,
    _demo: crate::common::Demo,
    pa: u16,
    shutdown: Shutdown,
    bridge: tokio::task::JoinHandle<Vec<(String, std::sync::Arc<vscp_proxy::bridge::Counters>)>>,
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<(String, serde_json::Value)>,
    watch_a: Line,
}

async fn rig(id: &str) -> Rig {
    let dir = std::env::temp_dir().join(format!("vscp-mqtt-{id}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let broker = Broker::start(&dir, port);
    let (demo, pa) = crate::common::start_demo(0, "0");
    let shutdown = Shutdown::new();
    let bridge = tokio::spawn(run(config(port, pa, id), shutdown.clone()));
    let (client, rx) = crate::common::mqtt_watcher(port, "test-watcher");
    let mut watch_a = Line::open(pa).await;
    watch_a.cmd("RCVLOOP").await;
    tokio::time::sleep(Duration::from_millis(800)).await; // bridge and watcher connect
    Rig {
        dir,
        port,
        broker,
        _demo: demo,
        pa,
        shutdown,
        bridge,
        client,
        rx,
        watch_a,
    }
}

/// The distinct numbers of marker `marker` at the broker, once `want` arrived (or 30 s).
async fn marked(
    rx: &mut mpsc::UnboundedReceiver<(String, serde_json::Value)>,
    marker: u64,
    want: usize,
) -> HashMap<u64, u32> {
    collect_marked(rx, &[(marker, want)], Duration::from_secs(30))
        .await
        .remove(&marker)
        .unwrap_or_default()
}

#[tokio::test]
async fn events_reach_the_broker_commands_come_back_and_a_broker_restart_loses_nothing() {
    let Rig {
        dir,
        port,
        mut broker,
        _demo,
        pa,
        shutdown,
        bridge,
        client,
        mut rx,
        mut watch_a,
    } = rig("test-bridge").await;

    let mut send_a = Line::open(pa).await;
    send_a.send_many(99, 0..100).await;
    let seen = marked(&mut rx, 99, 100).await;
    assert_eq!(seen.len(), 100, "{} of 100 at the broker", seen.len());
    assert!(
        seen.values().all(|n| *n == 1),
        "duplicates while the broker was up"
    );

    // a command: a JSON event on vscp/command/a is SENT into a
    command_to_a(
        &client,
        r#"{"vscpClass":20,"vscpType":3,"vscpData":[44,0,7]}"#,
    )
    .await;
    // the 2026 keys, XML and the line form are commands too
    for payload in [
        r#"{"class":20,"type":3,"data":[44,0,8]}"#,
        r#"<event class="20" type="3" data="44,0,9"/>"#,
        "0,20,3,,,,-,44,0,10",
    ] {
        command_to_a(&client, payload).await;
    }
    let got = watch_a.count(44, 4, 10).await;
    for n in 7..=10 {
        assert_eq!(
            got.get(&n),
            Some(&1),
            "command {n} did not reach server a: {got:?}"
        );
    }

    // the broker restarts; what a shows meanwhile waits in the bridge
    broker.stop();
    send_a.send_many(33, 0..50).await;
    let mut broker = Broker::start(&dir, port);
    let after = marked(&mut rx, 33, 50).await;
    assert_eq!(
        after.len(),
        50,
        "after the broker restart: {} of 50",
        after.len()
    );

    // the server list for consoles, retained
    let (topic, list) = retained(port, "vscp/servers/+")
        .await
        .expect("no server list");
    assert_eq!(topic, "vscp/servers/test-bridge");
    assert_eq!(list["servers"], serde_json::json!(["a"]));

    shutdown.trigger();
    let counters = tokio::time::timeout(Duration::from_secs(5), bridge)
        .await
        .unwrap()
        .unwrap();
    let mqtt = &counters.iter().find(|(n, _)| n == "mqtt").unwrap().1;
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(mqtt.dropped.load(Relaxed), 0);
    assert!(mqtt.sent.load(Relaxed) >= 150);
    broker.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A client that may publish large messages (rumqttc's own limit is 10 KiB).
fn publisher(port: u16, id: &str) -> AsyncClient {
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    opts.set_max_packet_size(4 << 20, 4 << 20);
    let (client, mut eventloop) = AsyncClient::new(opts, 16);
    tokio::spawn(async move {
        loop {
            if eventloop.poll().await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    client
}

#[tokio::test]
async fn an_oversized_command_and_a_broker_that_forgot_everything_wedge_nothing() {
    let Rig {
        dir,
        port,
        mut broker,
        _demo,
        pa,
        shutdown,
        bridge,
        client: _watcher,
        mut rx,
        mut watch_a,
    } = rig("big-bridge").await;
    let big = publisher(port, "test-big");

    // over the command limit (read, refused), and over what the bridge reads at all
    for size in [100 * 1024, 2 * 1024 * 1024] {
        command_to_a(&big, vec![b'{'; size]).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut send_a = Line::open(pa).await;
    send_a.send_many(77, 0..100).await;
    let seen = marked(&mut rx, 77, 100).await;
    assert_eq!(
        seen.len(),
        100,
        "{} of 100 at the broker after a big command",
        seen.len()
    );
    command_to_a(&big, r#"{"class":20,"type":3,"data":[45,0,1]}"#).await;
    assert_eq!(
        watch_a.count(45, 1, 10).await.get(&1),
        Some(&1),
        "a later command is lost"
    );

    // the broker restarts without its sessions and retained messages while events wait
    broker.stop();
    let _ = std::fs::remove_file(dir.join("mosquitto.db"));
    send_a.send_many(78, 0..50).await;
    let mut broker = Broker::start(&dir, port);
    let after = marked(&mut rx, 78, 50).await;
    assert_eq!(after.len(), 50, "after the restart: {} of 50", after.len());
    command_to_a(&big, r#"{"class":20,"type":3,"data":[45,0,2]}"#).await;
    assert_eq!(
        watch_a.count(45, 1, 10).await.get(&2),
        Some(&1),
        "no command after the restart: the bridge did not subscribe again"
    );
    let (topic, _) = retained(port, "vscp/servers/+")
        .await
        .expect("the server list was not announced again");
    assert_eq!(topic, "vscp/servers/big-bridge");

    shutdown.trigger();
    let counters = tokio::time::timeout(Duration::from_secs(5), bridge)
        .await
        .unwrap()
        .unwrap();
    let mqtt = &counters.iter().find(|(n, _)| n == "mqtt").unwrap().1;
    use std::sync::atomic::Ordering::Relaxed;
    assert!(
        mqtt.refused.load(Relaxed) >= 2,
        "refused {}",
        mqtt.refused.load(Relaxed)
    );
    broker.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
