//! Events per second end to end, demo node → `vscp-proxy bridge` (its own process) → broker →
//! a subscriber of `vscp/#`, and the bridge's CPU seconds per 1,000 events (from
//! /proc/PID/stat): first through Debian's mosquitto, then through a 3-node Debian nats-server
//! cluster (bridge into n0, subscriber on n2). Run: `cargo bench -p vscp-proxy --bench mqtt`.

#[path = "../tests/suite/common/mod.rs"]
#[allow(dead_code, unused_imports)] // a bench uses a part of the tests' helpers
mod common;

use std::{
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use rumqttc::{AsyncClient, Event as Mqtt, MqttOptions, Packet, QoS};

const SECONDS: u64 = 10;
const RATES: [&str; 3] = ["2000", "10000", "40000"];

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("vscp-mqtt-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        println!(
            "| broker | demo rate (events/s) | published by the bridge (events/s) | dropped by the bridge (events/s) | at the subscriber (events/s) | bridge CPU s / 1,000 events |"
        );
        println!("|---|---|---|---|---|---|");
        let port = common::free_port();
        let broker = common::Broker::start(&dir, port);
        for rate in RATES {
            let mqtt = format!("host = \"127.0.0.1\"\nport = {port}");
            measure(&dir, "mosquitto", &mqtt, port, rate).await;
        }
        drop(broker);
        if common::nats().is_none() {
            println!("(nats-server is not installed: no cluster rows)");
        } else {
            // the bridge publishes to n0 (with the whole cluster in its hosts), the subscriber
            // reads on n2: every event crosses the cluster
            let cluster = common::NatsCluster::start(&dir);
            let n = cluster.mqtt.clone();
            common::nats_ready(&n).await;
            for rate in RATES {
                let mqtt = format!(
                    "hosts = [\"127.0.0.1:{}\", \"127.0.0.1:{}\", \"127.0.0.1:{}\"]",
                    n[0], n[1], n[2]
                );
                measure(&dir, "nats 3-node cluster", &mqtt, n[2], rate).await;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// One row: a demo node at `rate`, a bridge with this `[mqtt]` section, a QoS 1 subscriber at
/// `sub_port`; events counted for [`SECONDS`] after a 2 s warm-up.
async fn measure(dir: &std::path::Path, label: &str, mqtt: &str, sub_port: u16, rate: &str) {
    let (_demo, demo_port) = common::start_demo(0, rate);
    let config = dir.join("bridge.toml");
    let id = format!("bench-{}-{rate}", sub_port);
    let metrics = common::free_port();
    std::fs::write(
        &config,
        format!(
            "metrics = \"127.0.0.1:{metrics}\"\n[mqtt]\n{mqtt}\nclient_id = \"{id}\"\n\
             [[server]]\nname = \"demo\"\naddress = \"127.0.0.1:{demo_port}\"\nuser = \"admin\"\npassword = \"secret\"\n"
        ),
    )
    .unwrap();
    let mut bridge = Command::new(env!("CARGO_BIN_EXE_vscp-proxy"))
        .args(["bridge", "--config", config.to_str().unwrap()])
        .stderr(if std::env::var("TRACE").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let mut opts = MqttOptions::new(format!("sub-{id}"), "127.0.0.1", sub_port);
    opts.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(opts, 1024);
    client.subscribe("vscp/#", QoS::AtLeastOnce).await.unwrap();
    let seen = count.clone();
    let sub = tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Mqtt::Incoming(Packet::Publish(_))) => {
                    seen.fetch_add(1, Relaxed);
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await; // warm up
    let (n0, c0, m0, t0) = (
        count.load(Relaxed),
        common::cpu_seconds(bridge.id()),
        published(metrics).await,
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let (n1, c1, m1) = (
        count.load(Relaxed),
        common::cpu_seconds(bridge.id()),
        published(metrics).await,
    );
    let secs = t0.elapsed().as_secs_f64();
    let events = (n1 - n0) as f64;
    println!(
        "| {label} | {rate} | {:.0} | {:.0} | {:.0} | {:.4} |",
        (m1.0 - m0.0) / secs,
        (m1.1 - m0.1) / secs,
        events / secs,
        (c1 - c0) / events.max(1.0) * 1_000.0
    );
    sub.abort();
    let _ = bridge.kill();
    let _ = bridge.wait();
}

/// The bridge's counts of events handed to the broker and dropped (its `/metrics`).
async fn published(port: u16) -> (f64, f64) {
    let text = common::http_get(port, "/metrics").await;
    let value = |name: &str| {
        let key = format!("vscp_bridge_{name}{{server=\"mqtt\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(key.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    (value("sent_total"), value("dropped_total"))
}
