//! Soak: the demo node (its own process, at 2,000 events/s) behind the proxy (its own
//! process), 50 websocket clients (streaming, polling, sending) that come and go, and the
//! node restarted every minute. Every client checks with the demo's sequence numbers (obid)
//! that no event is lost, duplicated or reordered within a connection; the proxy's RSS and
//! open file descriptors are sampled every 10 s and must stay flat.
//!
//! `SOAK_SECS` sets the length (default 60; `./x soak` runs 600). The figures are printed
//! as one JSON line starting with `soak:`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::common::*;
use vscp_core::{ClientConfig, Command as Cmd, Event, ReceiveMode, SessionEvent};
use vscp_proxy::link_client::LinkClient;

/// Events the demo floods per second.
const RATE: &str = "2000";
/// Class of the events the sending clients send (not numbered by the demo).
const SENT_CLASS: u16 = 30;

/// Totals over all clients.
#[derive(Default)]
struct Tally {
    events: AtomicU64,
    faults: AtomicU64,
    connections: AtomicU64,
    sent: AtomicU64,
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// How a soak client behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Streaming,
    Polling,
    Sending,
}

/// One connection of a client: until it leaves (after `stay`), the link drops, or the soak ends.
async fn connection(url: &str, role: Role, stay: Duration, tally: &Tally, stop: &AtomicBool) {
    let Ok((ws, _)) = tokio_tungstenite::connect_async(url).await else {
        return;
    };
    tally.connections.fetch_add(1, Ordering::Relaxed);
    let start = Instant::now();
    let config = ClientConfig {
        credentials: Some(("admin".into(), "secret".into())),
        receive: if role == Role::Polling {
            ReceiveMode::Poll
        } else {
            ReceiveMode::Stream
        },
        poll_interval: 100,
        retr_batch: 1_000,
        ..ClientConfig::default()
    };
    let mut client = LinkClient::new(WsWire::new(ws), config);
    let mut last: Option<u32> = None;
    let mut next_send = Instant::now();
    while start.elapsed() < stay && !stop.load(Ordering::Relaxed) {
        if role == Role::Sending
            && Instant::now() >= next_send
            && client.session.state() != vscp_core::State::Greeting
        {
            next_send = Instant::now() + Duration::from_millis(100);
            let mut ev = Event::new(SENT_CLASS, 99);
            ev.data = vec![1, 2, 3];
            let now = client.now();
            if client.session.send(Cmd::Send(ev), now).is_ok() {
                tally.sent.fetch_add(1, Ordering::Relaxed);
            }
        }
        for event in client.flush().await {
            match event {
                SessionEvent::Received(ev) if ev.class != SENT_CLASS => {
                    tally.events.fetch_add(1, Ordering::Relaxed);
                    if let Some(prev) = last
                        && ev.obid != prev.wrapping_add(1)
                    {
                        tally.faults.fetch_add(1, Ordering::Relaxed);
                        eprintln!("{role:?}: obid {} after {prev}", ev.obid);
                    }
                    last = Some(ev.obid);
                }
                SessionEvent::Closed(_) => return,
                _ => {}
            }
        }
        // wake at least every 50 ms for the sender's pace and the soak's end
        if !client
            .input(Some(Instant::now() + Duration::from_millis(50)))
            .await
        {
            return;
        }
    }
    client.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_clients_node_restarts_and_flat_memory() {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let (mut demo, demo_port) = start_demo(0, RATE);
    let node = format!("demo=127.0.0.1:{demo_port}");
    let proxy = Proxy::process(&["--node", &node, "--max-conns-per-ip", "200"]);
    let pid = proxy.pid();
    let url = proxy.url("target=demo");
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..50)
        .map(|i| {
            let role = match i % 5 {
                0 => Role::Polling,
                1 => Role::Sending,
                _ => Role::Streaming,
            };
            let (url, tally, stop) = (url.clone(), tally.clone(), stop.clone());
            tokio::spawn(async move {
                let mut round = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // clients come and go: each stays 10–30 s, then leaves and comes back
                    let stay = Duration::from_secs(10 + (i * 7 + round * 13) % 21);
                    connection(&url, role, stay, &tally, &stop).await;
                    round += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        })
        .collect();
    let started = Instant::now();
    let mut samples: Vec<(u64, u64, usize)> = Vec::new();
    let mut restarts = 0;
    // every minute (twice in a short run)
    let every = Duration::from_secs(60.min(secs / 2).max(10));
    let mut next_restart = every;
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_secs(10)).await;
        samples.push((started.elapsed().as_secs(), rss_kib(pid), fds(pid)));
        if started.elapsed() >= next_restart
            && started.elapsed() + Duration::from_secs(5) < Duration::from_secs(secs)
        {
            next_restart += every;
            drop(demo);
            demo = start_demo(demo_port, RATE).0;
            restarts += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.await;
    }
    drop(demo);
    let t = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let peak_rss = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let peak_fds = samples.iter().map(|s| s.2).max().unwrap_or(0);
    println!(
        "soak: {}",
        serde_json::json!({
            "seconds": secs,
            "events_checked": t(&tally.events),
            "faults": t(&tally.faults),
            "connections": t(&tally.connections),
            "sends": t(&tally.sent),
            "node_restarts": restarts,
            "peak_rss_kib": peak_rss,
            "peak_fds": peak_fds,
            "samples_s_rss_kib_fds": samples,
        })
    );
    assert_eq!(t(&tally.faults), 0, "lost, duplicated or reordered events");
    assert!(
        t(&tally.events) > secs * 1_000 * 20,
        "clients saw too few events"
    );
    // flat: the allocator warms up in the first minutes (a 10-minute run went 20 → 38 MiB in
    // 6 min, then stayed at 34.7 MiB), so the second half may not grow by more than 8 MiB,
    // the whole run stays under 64 MiB, and the descriptors stay within the clients' two
    // sockets each plus the proxy's own
    let half_rss = samples.get(samples.len() / 2).map_or(0, |s| s.1);
    let last_rss = samples.last().map_or(0, |s| s.1);
    assert!(last_rss < half_rss + 8 * 1024, "RSS {samples:?}");
    assert!(peak_rss < 64 * 1024, "RSS {samples:?}");
    assert!(peak_fds < 2 * 50 + 32, "fds {samples:?}");
}
