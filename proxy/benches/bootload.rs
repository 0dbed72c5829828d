//! Firmware upload of a 64 KiB image to a demo node through the proxy (websocket → proxy →
//! demo node), as the console does it: Level I (8-byte chunks) and Level II (256-byte chunks),
//! with nodes that answer at once and after 5 ms. Prints the times (issue targets: Level I
//! ≤ 15 s, Level II ≤ 2 s with prompt nodes).
//! Run: `cargo bench -p vscp-proxy --bench bootload` (part of `./x bench`).

#[path = "../tests/suite/common/mod.rs"]
#[allow(dead_code, unused_imports)] // a bench uses a part of the tests' helpers
mod common;

use std::time::{Duration, Instant};

use vscp_core::{
    Guid,
    bootloader::{BootConfig, BootOutput, BootSession, Identity},
    firmware::Image,
    registers::Target,
};

const IMAGE: usize = 64 * 1024;

async fn upload(c: &mut common::WsClient, nickname: u8, chunk: usize, version: u8) -> Duration {
    let iface: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:00"
        .parse()
        .unwrap();
    let target = Target {
        interface: Some(iface),
        nickname,
    };
    let std = vscp_proxy::read_standard(&mut c.client, target)
        .await
        .unwrap();
    let mut data = vec![version, 0, 0];
    data.extend((0..IMAGE - 3).map(|i| (i * 7) as u8));
    let config = BootConfig {
        chunk,
        window: if chunk > 8 { 4 } else { 16 },
        ..BootConfig::default()
    };
    let identity = Identity {
        guid: std.guid,
        page: std.page,
    };
    let started = Instant::now();
    let now = c.client.now();
    let mut s = BootSession::new(target, identity, Image::from_bytes(0, data), config, now);
    let end =
        vscp_proxy::drive_upload(&mut c.client, &mut s, &indicatif::ProgressBar::hidden()).await;
    let took = started.elapsed();
    assert!(matches!(end, BootOutput::Done { .. }), "{end:?}");
    took
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (_prompt, fast) = common::start_demo_with(0, &[]);
        let (_slow, slow) = common::start_demo_with(0, &["--reply-delay-ms", "5"]);
        let p = common::Proxy::start(&[
            "--node",
            &format!("prompt=127.0.0.1:{fast}"),
            "--node",
            &format!("slow=127.0.0.1:{slow}"),
        ]);
        println!("64 KiB image to a demo node through the proxy (median of the rounds):");
        println!("| node answers | Level I (8-byte chunks) | Level II (256-byte chunks) |");
        println!("|---|---|---|");
        for (target, label, rounds) in [("prompt", "at once", 3), ("slow", "after 5 ms", 1)] {
            let mut c = common::WsClient::streaming(&p.url(&format!("target={target}"))).await;
            let mut cells = Vec::new();
            for chunk in [8, 256] {
                let mut times: Vec<Duration> = Vec::new();
                for round in 0..rounds {
                    times.push(upload(&mut c, 1, chunk, round as u8 + 2).await);
                }
                times.sort();
                cells.push(format!("{:.2} s", times[times.len() / 2].as_secs_f64()));
            }
            println!("| {label} | {} | {} |", cells[0], cells[1]);
        }
    });
}
