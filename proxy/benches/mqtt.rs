//! Events per second end to end, demo node → `vscp-proxy bridge` (its own process) →
//! mosquitto → a subscriber of `vscp/#`, and the bridge's CPU seconds per 1,000 events
//! (from /proc/PID/stat). Needs Debian's mosquitto. Run: `cargo bench -p vscp-proxy --bench mqtt`.

#[path = "../tests/common/mod.rs"]
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

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("vscp-mqtt-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = common::free_port();
        let _broker = common::Broker::start(&dir, port);
        println!("| demo rate (events/s) | at the subscriber (events/s) | bridge CPU s / 1,000 events |");
        println!("|---|---|---|");
        for rate in ["2000", "10000", "40000"] {
            let (_demo, demo_port) = common::start_demo(0, rate);
            let config = dir.join("bridge.toml");
            std::fs::write(
                &config,
                format!(
                    "[mqtt]\nhost = \"127.0.0.1\"\nport = {port}\nclient_id = \"bench-{rate}\"\n\
                     [[server]]\nname = \"demo\"\naddress = \"127.0.0.1:{demo_port}\"\nuser = \"admin\"\npassword = \"secret\"\n"
                ),
            )
            .unwrap();
            let mut bridge = Command::new(env!("CARGO_BIN_EXE_vscp-proxy"))
                .args(["bridge", "--config", config.to_str().unwrap()])
                .stderr(if std::env::var("TRACE").is_ok() { Stdio::inherit() } else { Stdio::null() })
                .spawn()
                .unwrap();
            let count = Arc::new(AtomicU64::new(0));
            let mut opts = MqttOptions::new(format!("bench-sub-{rate}"), "127.0.0.1", port);
            opts.set_max_packet_size(1 << 20, 1 << 20);
            let (client, mut eventloop) = AsyncClient::new(opts, 1024);
            client.subscribe("vscp/#", QoS::AtLeastOnce).await.unwrap();
            let seen = count.clone();
            let sub = tokio::spawn(async move {
                while let Ok(ev) = eventloop.poll().await {
                    if let Mqtt::Incoming(Packet::Publish(_)) = ev {
                        seen.fetch_add(1, Relaxed);
                    }
                }
            });
            tokio::time::sleep(Duration::from_secs(2)).await; // warm up
            let (n0, c0, t0) = (count.load(Relaxed), common::cpu_seconds(bridge.id()), Instant::now());
            tokio::time::sleep(Duration::from_secs(SECONDS)).await;
            let (n1, c1) = (count.load(Relaxed), common::cpu_seconds(bridge.id()));
            let events = (n1 - n0) as f64;
            println!(
                "| {rate} | {:.0} | {:.4} |",
                events / t0.elapsed().as_secs_f64(),
                (c1 - c0) / events.max(1.0) * 1_000.0
            );
            sub.abort();
            let _ = bridge.kill();
            let _ = bridge.wait();
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}
