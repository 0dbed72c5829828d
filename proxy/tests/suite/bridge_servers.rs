//! `vscp-proxy bridge`: two demo servers (separate processes) bridged both ways; events sent
//! on one reach a client of the other exactly once, and a server that restarts gets the
//! events queued for it while it was down. Four servers with a bridge between every pair (six
//! bridges, every event reaching a server by several ways) do not make a loop.

use std::time::Duration;

use crate::common::Line;
use vscp_proxy::{
    Shutdown,
    bridge::{BridgeConfig, Mode, ServerConfig, run},
};

fn metrics_port() -> u16 {
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *PORT.get_or_init(crate::common::free_port)
}

fn server(name: &str, port: u16, mode: Mode) -> ServerConfig {
    ServerConfig {
        name: name.into(),
        address: format!("127.0.0.1:{port}"),
        user: Some("admin".into()),
        password: "secret".into(),
        mode,
        poll_ms: 100,
    }
}

fn config(a: u16, b: u16) -> BridgeConfig {
    BridgeConfig {
        queue: 10_000,
        mqtt: None,
        metrics: Some(format!("127.0.0.1:{}", metrics_port()).parse().unwrap()),
        server: vec![server("a", a, Mode::Stream), server("b", b, Mode::Poll)],
    }
}

#[tokio::test]
async fn events_cross_exactly_once_both_ways_and_survive_a_restart() {
    let (_a, pa) = crate::common::start_demo(0, "0");
    let (b, pb) = crate::common::start_demo(0, "0");
    let shutdown = Shutdown::new();
    let bridge = tokio::spawn(run(config(pa, pb), shutdown.clone()));
    let mut watch_a = Line::open(pa).await;
    let mut watch_b = Line::open(pb).await;
    watch_a.cmd("RCVLOOP").await;
    watch_b.cmd("RCVLOOP").await;
    crate::common::bridge_up(metrics_port(), &["a", "b"]).await;

    // a → b (streamed from a, SENT into b) and b → a (polled from b)
    let mut send_a = Line::open(pa).await;
    let mut send_b = Line::open(pb).await;
    send_a.send_many(99, 0..300).await;
    send_b.send_many(77, 0..100).await;
    let at_b = watch_b.count(99, 300, 20).await;
    let at_a = watch_a.count(77, 100, 20).await;
    assert_eq!(at_b.len(), 300, "a → b: {} of 300", at_b.len());
    assert!(at_b.values().all(|n| *n == 1), "a → b duplicates");
    assert_eq!(at_a.len(), 100, "b → a: {} of 100", at_a.len());
    assert!(at_a.values().all(|n| *n == 1), "b → a duplicates");
    // nothing comes back: a's own events are not returned to a by the bridge
    let echoed = watch_a.count(99, 1, 1).await;
    assert!(
        echoed.is_empty(),
        "{} of a's events came back to a",
        echoed.len()
    );

    // b restarts on the same port; what a sends meanwhile waits in b's queue
    drop(b);
    send_a.send_many(55, 0..200).await;
    let (_b2, _) = crate::common::start_demo(pb, "0");
    let mut watch_b2 = Line::open(pb).await;
    watch_b2.cmd("RCVLOOP").await;
    let after = watch_b2.count(55, 200, 30).await;
    assert_eq!(
        after.len(),
        200,
        "after the restart: {} of 200",
        after.len()
    );
    assert!(after.values().all(|n| *n == 1));

    let text = crate::common::http_get(metrics_port(), "/metrics").await;
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name}: {text}"))
    };
    // the demo's own reports and heartbeats cross too
    assert!(
        value("vscp_bridge_sent_total{server=\"b\"} ") >= 500,
        "{text}"
    );
    assert_eq!(value("vscp_bridge_queue_depth{server=\"b\"} "), 0);
    assert_eq!(value("vscp_bridge_reconnects_total{server=\"b\"} "), 1);
    assert_eq!(value("vscp_bridge_dropped_total{server=\"b\"} "), 0);

    shutdown.trigger();
    let counters = tokio::time::timeout(Duration::from_secs(5), bridge)
        .await
        .unwrap()
        .unwrap();
    let get = |name: &str| counters.iter().find(|(n, _)| n == name).unwrap().1.clone();
    use std::sync::atomic::Ordering::Relaxed;
    assert!(get("b").reconnects.load(Relaxed) >= 1);
    assert_eq!(get("b").dropped.load(Relaxed), 0);
    assert!(get("b").sent.load(Relaxed) >= 500);
}

#[tokio::test]
async fn a_full_mesh_of_bridges_forwards_each_event_without_a_loop() {
    const N: usize = 4;
    let demos: Vec<_> = (0..N).map(|_| crate::common::start_demo(0, "0")).collect();
    let port = |i: usize| demos[i].1;
    let shutdown = Shutdown::new();
    let pairs: Vec<(usize, usize)> = (0..N)
        .flat_map(|x| (x + 1..N).map(move |y| (x, y)))
        .collect();
    let mesh: Vec<_> = pairs
        .into_iter()
        .map(|(x, y)| {
            let config = BridgeConfig {
                queue: 10_000,
                mqtt: None,
                metrics: None,
                server: vec![
                    server(&format!("s{x}"), port(x), Mode::Stream),
                    server(&format!("s{y}"), port(y), Mode::Stream),
                ],
            };
            tokio::spawn(run(config, shutdown.clone()))
        })
        .collect();
    let mut watch = Vec::new();
    for i in 0..N {
        let mut w = Line::open(port(i)).await;
        w.cmd("RCVLOOP").await;
        watch.push(w);
    }
    tokio::time::sleep(Duration::from_millis(800)).await; // the bridges log in
    let mut send = Line::open(port(0)).await;
    send.send_many(33, 0..50).await;
    let mut copies = Vec::new();
    for w in &mut watch {
        // everything that arrives within 3 s (a loop would keep them coming)
        copies.push(w.count(33, usize::MAX, 3).await);
    }
    // the first server's watcher sees the original once: nothing comes back to it
    assert_eq!(copies[0].len(), 50);
    assert!(copies[0].values().all(|n| *n == 1), "{:?}", copies[0]);
    for (i, c) in copies.iter().enumerate().skip(1) {
        assert_eq!(c.len(), 50, "server {i}: {} of 50", c.len());
        // one copy from each of its bridges at most
        assert!(
            c.values().all(|n| (1..N as u32).contains(n)),
            "server {i}: {c:?}"
        );
    }
    // and the mesh is quiet afterwards
    for w in &mut watch {
        assert!(w.count(33, 1, 1).await.is_empty(), "events still circling");
    }
    shutdown.trigger();
    let mut stopped = 0;
    use std::sync::atomic::Ordering::Relaxed;
    for b in mesh {
        let counters = tokio::time::timeout(Duration::from_secs(5), b)
            .await
            .unwrap()
            .unwrap();
        stopped += counters
            .iter()
            .map(|(_, c)| c.looped.load(Relaxed) + c.echoes.load(Relaxed))
            .sum::<u64>();
    }
    assert!(stopped >= 50, "copies stopped by the guards: {stopped}");
}
