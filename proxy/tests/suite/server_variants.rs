//! Link servers as sloppy as real ones, scripted on loopback (a `NodeSession` bus with its
//! lines rewritten), and linktest, the proxy and the bridge driven against each: every event
//! arrives, and each check reports the truth.
//!
//! The variants: month-13 datetimes on every event; filters only in Level I widths and no
//! `-` GUID; SEND refused with a datetime ending in `Z`; no login enforced; a count line
//! before the INTERFACE rows; `+OK - Success.` on every reply; one line per TCP segment;
//! vscpd 16's six-field event lines (no datetime), alone and echoing every SEND to its
//! sender with a new time stamp; a time stamp of 0 on every event; a node answering
//! who-is-there with empty continuation frames.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::common::{Line, Proxy, WsClient};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use vscp_core::{
    Capabilities, Event, Framed, Guid, Interface, LineBuf, MemoryNode, Millis, Node, NodeConfig,
    NodeOutput, NodeSession, SendRefused, SessionEvent, Version,
};
use vscp_proxy::{
    Shutdown,
    bridge::{BridgeConfig, Mode, ServerConfig, run},
};

/// How a scripted server departs from the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Month13,
    Level1Filters,
    RefusesZ,
    NoLogin,
    CountLine,
    SuccessEverywhere,
    OneLinePerSegment,
    /// vscpd 16: event lines without the datetime field (`head,class,type,obid,ns,GUID,…`).
    SixFields,
    /// The firmware library's "no time": a timestamp of 0 on every event.
    ZeroTime,
    /// vscpd 16 echoing: a client's SEND comes back to it too, with a new time stamp, in
    /// the six-field form.
    EchoNewTime,
    /// A node behind it (nickname 5) answers who-is-there with continuation frames that carry
    /// no data (Paris/Beijing firmware 1.1.5).
    EmptyWhoFrames,
}

/// The node that answers who-is-there on [`Variant::EmptyWhoFrames`].
const WHO_NODE: &str = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:05";

/// Its answer: frame 0 with the first 7 bytes of its GUID (byte 15 first), frames 1–6 empty.
fn empty_who_frames() -> Vec<String> {
    let guid: Guid = WHO_NODE.parse().unwrap();
    let first: Vec<String> = guid.0.iter().rev().take(7).map(u8::to_string).collect();
    (0..7)
        .map(|i| {
            let data = if i == 0 {
                format!("0,{}", first.join(","))
            } else {
                i.to_string()
            };
            format!("0,0,32,0,,,{WHO_NODE},{data}")
        })
        .collect()
}

const ALL: [Variant; 11] = [
    Variant::Month13,
    Variant::Level1Filters,
    Variant::RefusesZ,
    Variant::NoLogin,
    Variant::CountLine,
    Variant::SuccessEverywhere,
    Variant::OneLinePerSegment,
    Variant::SixFields,
    Variant::ZeroTime,
    Variant::EchoNewTime,
    Variant::EmptyWhoFrames,
];

impl Variant {
    /// Does every event line of this server carry a field the core marks?
    fn marks_events(self) -> bool {
        matches!(
            self,
            Variant::Month13 | Variant::SixFields | Variant::EchoNewTime
        )
    }
}

/// `MemoryNode`, with or without logins.
struct Backend {
    node: MemoryNode,
    login: bool,
}

impl Node for Backend {
    fn login(&mut self, user: &str, password: &str) -> Option<u8> {
        self.node.login(user, password)
    }
    fn requires_login(&self) -> bool {
        self.login
    }
    fn guid(&self) -> Guid {
        self.node.guid()
    }
    fn version(&self) -> Version {
        Version {
            major: 15,
            minor: 2,
            release: 0,
            build: Some(0),
        }
    }
    fn capabilities(&self) -> Capabilities {
        self.node.capabilities()
    }
    fn interfaces(&self) -> Vec<Interface> {
        self.node.interfaces()
    }
    fn send(&mut self, event: Event, channel: u32) -> Result<(), SendRefused> {
        self.node.send(event, channel)
    }
    fn challenge(&mut self) -> String {
        self.node.challenge()
    }
}

/// What a client line becomes: passed to the session, or answered here.
fn intercept(v: Variant, line: &str) -> Option<&'static str> {
    let (word, arg) = line.split_once(' ').unwrap_or((line, ""));
    let word = word.to_ascii_uppercase();
    match (v, word.as_str()) {
        (Variant::Level1Filters, "SFLT" | "SMSK") => {
            let f: Vec<&str> = arg.split(',').collect();
            let wide = f.len() < 4
                || f[3].trim() == "-"
                || f[1].trim().parse::<u32>().is_ok_and(|c| c > 0x1FF)
                || f[2].trim().parse::<u32>().is_ok_and(|t| t > 0xFF);
            wide.then_some("-OK - Invalid parameter or format")
        }
        (Variant::RefusesZ, "SEND")
            if arg
                .split(',')
                .nth(4)
                .is_some_and(|dt| dt.trim().ends_with('Z')) =>
        {
            Some("-OK - Invalid parameter or format")
        }
        _ => None,
    }
}

/// What the server writes, rewritten line by line.
fn rewrite(v: Variant, line: &str, after_interface: bool) -> Vec<String> {
    let is_status = line.starts_with("+OK") || line.starts_with("-OK");
    // an event line: its seventh field is a GUID (a STAT line has seven numbers)
    let event = !is_status
        && line
            .split(',')
            .nth(6)
            .is_some_and(|g| g == "-" || g.contains(':'));
    let mut f: Vec<&str> = line.splitn(8, ',').collect();
    match v {
        Variant::Month13 if event => {
            f[4] = "2026-13-05T10:00:00Z";
            f[5] = "";
            vec![f.join(",")]
        }
        Variant::SixFields | Variant::EchoNewTime if event => {
            // vscpd 16 stamps every event
            let now = format!(
                "{}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            );
            if f[5].is_empty() {
                f[5] = &now;
            }
            f.remove(4);
            vec![f.join(",")]
        }
        Variant::ZeroTime if event => {
            f[4] = "";
            f[5] = "0";
            vec![f.join(",")]
        }
        Variant::SuccessEverywhere if line.starts_with("+OK") => vec!["+OK - Success.".into()],
        Variant::CountLine if after_interface => vec![line.to_string()],
        _ => vec![line.to_string()],
    }
}

/// A scripted server on loopback; its address. Connections share one bus: a client's SEND
/// reaches every other client (not the sender), as on vscpd.
async fn scripted(v: Variant) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let bus: Arc<Mutex<Vec<(usize, Event)>>> = Arc::default();
    tokio::spawn(async move {
        for conn in 0.. {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let _ = tcp.set_nodelay(true);
            let bus = bus.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                let now = || Millis(start.elapsed().as_millis() as u64);
                let mut node = Backend {
                    node: MemoryNode::default(),
                    login: v != Variant::NoLogin,
                };
                let mut session = NodeSession::new(
                    NodeConfig {
                        keepalive: 500,
                        ..NodeConfig::default()
                    },
                    now(),
                );
                let mut lines = LineBuf::default();
                let mut buf = [0u8; 8192];
                let (mut published, mut delivered) = (0, 0);
                let mut pending: Vec<String> = Vec::new();
                let mut out: Vec<String> = Vec::new();
                loop {
                    let seen: Vec<(usize, Event)> = bus.lock().unwrap()[delivered..].to_vec();
                    for (from, ev) in &seen {
                        if v == Variant::EchoNewTime {
                            // to the sender too, stamped anew by the server
                            let ns = std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .unwrap()
                                .as_nanos() as u64;
                            let ev = Event {
                                stamp: vscp_core::Stamp::Unix(ns),
                                ..ev.clone()
                            };
                            session.deliver(&ev, now());
                        } else if *from != conn {
                            session.deliver(ev, now());
                        }
                    }
                    delivered += seen.len();
                    let mut closing = false;
                    while let Some(o) = session.poll_output() {
                        match o {
                            NodeOutput::Transmit(l) => out.extend(rewrite(v, l.trim_end(), false)),
                            NodeOutput::Close => closing = true,
                        }
                    }
                    if v == Variant::OneLinePerSegment {
                        for l in out.drain(..) {
                            if tcp.write_all(format!("{l}\r\n").as_bytes()).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    } else if !out.is_empty() {
                        let text: String = out.drain(..).map(|l| l + "\r\n").collect();
                        if tcp.write_all(text.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    if closing {
                        return;
                    }
                    if pending.is_empty() {
                        let n = tokio::select! {
                            r = tcp.read(&mut buf) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
                            _ = tokio::time::sleep(Duration::from_millis(20)) => {
                                session.handle_timeout(now());
                                continue;
                            }
                        };
                        lines.push(&buf[..n], |f| {
                            if let Framed::Line(l) = f {
                                pending.push(l.into_owned());
                            }
                        });
                    }
                    // one command a turn for the one-segment server, all of them otherwise
                    let take = if v == Variant::OneLinePerSegment {
                        1
                    } else {
                        pending.len()
                    };
                    for l in pending.drain(..take.min(pending.len())).collect::<Vec<_>>() {
                        let l = l.trim();
                        let who_is_there = l
                            .strip_prefix("SEND ")
                            .and_then(|e| Event::read_received(e).ok())
                            .is_some_and(|e| {
                                (e.class, e.kind, e.data.first()) == (0, 31, Some(&5))
                            });
                        if let Some(answer) = intercept(v, l) {
                            out.push(answer.into());
                        } else if v == Variant::EmptyWhoFrames && who_is_there {
                            out.push("+OK - Success.".into());
                            // the node's answer, as the session hands events to its client
                            for frame in empty_who_frames() {
                                session.deliver(&Event::read_received(&frame).unwrap(), now());
                            }
                        } else if v == Variant::SuccessEverywhere
                            && l.eq_ignore_ascii_case("CHALLENGE")
                        {
                            // the session id as a data line, the status as on every reply
                            session.handle_line(&mut node, l, now());
                            while let Some(NodeOutput::Transmit(t)) = session.poll_output() {
                                out.push(t.trim_end().trim_start_matches("+OK - ").into());
                            }
                            out.push("+OK - Success.".into());
                        } else if v == Variant::CountLine
                            && l.to_ascii_uppercase().starts_with("INTERFACE")
                        {
                            session.handle_line(&mut node, l, now());
                            let rows: Vec<String> = std::iter::from_fn(|| session.poll_output())
                                .filter_map(|o| match o {
                                    NodeOutput::Transmit(t) => Some(t.trim_end().to_string()),
                                    NodeOutput::Close => None,
                                })
                                .collect();
                            out.push(format!("{} rows", rows.len().saturating_sub(1)));
                            out.extend(rows);
                        } else {
                            session.handle_line(&mut node, l, now());
                        }
                        let mut b = bus.lock().unwrap();
                        b.extend(
                            node.node.sent[published..]
                                .iter()
                                .map(|e| (conn, e.clone())),
                        );
                        published = node.node.sent.len();
                    }
                }
            });
        }
    });
    addr
}

fn linktest(addr: &str) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vscp-proxy"))
        .args([
            "linktest",
            addr,
            "--user",
            "admin",
            "--password",
            "secret",
            "--json",
        ])
        .args(["--rounds", "5"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> (&'a str, &'a str) {
    let c = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {report:#}"));
    (
        c["outcome"].as_str().unwrap(),
        c["detail"].as_str().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn linktest_tells_the_truth_about_each_server() {
    for v in ALL {
        let addr = scripted(v).await;
        let r = tokio::task::spawn_blocking(move || linktest(&addr))
            .await
            .unwrap();
        println!(
            "linktest on {v:?}: {} passed, {} failed, {} not supported",
            r["passed"], r["failed"], r["not_supported"]
        );
        let failed: Vec<&str> = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["outcome"] == "fail")
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let expected_failures: &[&str] = match v {
            Variant::Month13 | Variant::SixFields | Variant::EchoNewTime => &["event-fields"],
            Variant::NoLogin => &["before-login"],
            Variant::RefusesZ => &[],
            _ => &[],
        };
        assert_eq!(failed, expected_failures, "{v:?}: {r:#}");
        // the events themselves arrive on every server
        assert_eq!(check(&r, "event-round-trip").0, "pass", "{v:?}: {r:#}");
        assert_eq!(check(&r, "filter").0, "pass", "{v:?}: {r:#}");
        assert_eq!(check(&r, "clra-cdta").0, "pass", "{v:?}: {r:#}");
        match v {
            Variant::Month13 => {
                let (_, d) = check(&r, "event-fields");
                assert!(
                    d.contains("2026-13-05T10:00:00Z") && d.contains("month is not 1–12"),
                    "{d}"
                );
            }
            Variant::SixFields | Variant::EchoNewTime => {
                let (_, d) = check(&r, "event-fields");
                assert!(d.contains("six fields before the data"), "{d}");
                // every line that came is counted: none was left unread
                assert!(!d.contains(" of 0 "), "{d}");
            }
            Variant::Level1Filters => {
                let (_, d) = check(&r, "filter");
                assert!(d.contains("Level I widths only"), "{d}");
            }
            Variant::RefusesZ => {
                let (_, d) = check(&r, "time-forms");
                assert!(d.contains("refuses: datetime with Z"), "{d}");
                assert!(d.contains("takes: legacy datetime"), "{d}");
            }
            Variant::NoLogin => {
                let (_, d) = check(&r, "before-login");
                assert!(d.contains("SEND accepted before login"), "{d}");
            }
            Variant::CountLine => {
                assert_eq!(check(&r, "interface"), ("pass", "1 interface(s)"));
            }
            _ => {}
        }
        assert_eq!(check(&r, "vers").1, "15.2.0.0");
    }
}

/// Events class 20 type 3 with data `marker, hi, lo` among `events`, counted by number.
fn tally<'a>(events: impl Iterator<Item = &'a Event>, marker: u8) -> HashMap<u16, u32> {
    let mut seen = HashMap::new();
    for e in events {
        if (e.class, e.kind) == (20, 3) && e.data.len() == 3 && e.data[0] == marker {
            *seen
                .entry(u16::from_be_bytes([e.data[1], e.data[2]]))
                .or_insert(0) += 1;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_and_the_bridge_lose_no_event_on_any_server() {
    const N: u16 = 40;
    for v in ALL {
        let addr = scripted(v).await;
        let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
        // through the proxy: a console-like client session in the receive loop
        let proxy = Proxy::start(&["--node", &format!("v={addr}")]);
        let mut ws = WsClient::streaming(&proxy.url("target=v")).await;
        let mut sender = Line::open(port).await;
        sender.send_many(61, 0..N).await;
        ws.pump_until(|evs| {
            tally(
                evs.iter().filter_map(|e| match e {
                    SessionEvent::Received(ev) => Some(ev),
                    _ => None,
                }),
                61,
            )
            .len()
                == usize::from(N)
        })
        .await;
        let got = tally(ws.received().into_iter(), 61);
        assert!(got.values().all(|n| *n == 1), "{v:?}: {got:?}");
        let marked = ws
            .received()
            .iter()
            .filter(|e| !e.unread.is_empty())
            .count();
        assert_eq!(marked > 0, v.marks_events(), "{v:?}");
        if matches!(v, Variant::SixFields | Variant::EchoNewTime) {
            // each shown with its time and the server's own line
            let ours: Vec<&Event> = ws
                .received()
                .into_iter()
                .filter(|e| e.data.first() == Some(&61))
                .collect();
            assert!(ours.iter().all(|e| e.stamp.unix_ns().is_some()), "{v:?}");
            assert!(
                ours.iter().all(|e| e
                    .line
                    .as_str()
                    .is_some_and(|l| l.split(',').count() == 6 + 3)),
                "{v:?}: the six-field line kept"
            );
        }
        println!(
            "proxy on {v:?}: {N} sent, {} shown ({marked} marked)",
            got.len()
        );
        drop(proxy);

        // the bridge, both ways between the scripted server and a demo server
        let (_demo, demo_port) = crate::common::start_demo(0, "0");
        let server = |name: &str, port: u16| ServerConfig {
            name: name.into(),
            address: format!("127.0.0.1:{port}"),
            user: Some("admin".into()),
            password: "secret".into(),
            mode: Mode::Stream,
            poll_ms: 100,
        };
        let metrics_port = crate::common::free_port();
        let config = BridgeConfig {
            queue: 1_000,
            metrics: Some(format!("127.0.0.1:{metrics_port}").parse().unwrap()),
            mqtt: None,
            server: vec![server("v", port), server("demo", demo_port)],
        };
        let shutdown = Shutdown::new();
        let bridge = tokio::spawn(run(config, shutdown.clone()));
        let mut at_demo = Line::open(demo_port).await;
        at_demo.cmd("RCVLOOP").await;
        let mut at_v = Line::open(port).await;
        at_v.cmd("RCVLOOP").await;
        crate::common::bridge_up(metrics_port, &["v", "demo"]).await;
        sender.send_many(62, 0..N).await;
        let there = at_demo.count(62, usize::from(N), 20).await;
        // events with a legacy datetime the other way (the Z-refusing server needs the
        // legacy form back)
        let mut into_demo = Line::open(demo_port).await;
        for i in 0..N {
            let [hi, lo] = i.to_be_bytes();
            into_demo
                .cmd(&format!("SEND 0,20,3,,2026-11-25T14:54:29,,-,63,{hi},{lo}"))
                .await;
        }
        let back = at_v.count(63, usize::from(N), 20).await;
        if v == Variant::EchoNewTime {
            // the echoes of the bridge's SENDs come back after the other client saw them
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                let m = crate::common::http_get(metrics_port, "/metrics").await;
                let echoed: u64 = m
                    .lines()
                    .filter(|l| l.starts_with("vscp_bridge_echoes_total{server=\"v\"}"))
                    .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                    .sum();
                if echoed >= u64::from(N) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        shutdown.trigger();
        let counters = bridge.await.unwrap();
        let sum = |get: fn(&vscp_proxy::bridge::Counters) -> &std::sync::atomic::AtomicU64| -> u64 {
            counters
                .iter()
                .map(|(_, c)| get(c).load(std::sync::atomic::Ordering::Relaxed))
                .sum()
        };
        let unreadable = sum(|c| &c.unreadable);
        let (echoes, looped, bad) = (
            sum(|c| &c.echoes),
            sum(|c| &c.looped),
            sum(|c| &c.bad_lines),
        );
        println!(
            "bridge on {v:?}: {N} sent → {} at the demo, {N} from the demo → {} at the server; {unreadable} unreadable, {echoes} echoes, {looped} looped, {bad} bad lines",
            there.len(),
            back.len()
        );
        assert_eq!(bad, 0, "{v:?}: every line read");
        if v == Variant::EchoNewTime {
            // its own SENDs come back re-stamped: known as echoes, never forwarded again
            assert!(echoes >= u64::from(N), "{v:?}: {echoes} echoes");
            assert!(back.values().all(|n| *n == 1), "{v:?}: {back:?}");
        }
        assert_eq!(there.len(), usize::from(N), "{v:?} → demo: {there:?}");
        assert!(there.values().all(|n| *n == 1), "{v:?}: {there:?}");
        assert_eq!(back.len(), usize::from(N), "demo → {v:?}: {back:?}");
        assert_eq!(unreadable > 0, v.marks_events(), "{v:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_through_the_proxy_finds_a_node_with_empty_who_is_there_frames() {
    use vscp_core::{
        Command,
        scan::{Scan, ScanOutput},
    };
    let addr = scripted(Variant::EmptyWhoFrames).await;
    let proxy = Proxy::start(&["--node", &format!("v={addr}")]);
    let mut ws = WsClient::streaming(&proxy.url("target=v")).await;
    let mut scan = Scan::new(None, 4..=6, 3, 2_000, ws.now());
    while let Some(out) = scan.poll_output() {
        if let ScanOutput::Send(ev) = out {
            let now = ws.now();
            ws.client.session.send(Command::Send(ev), now).unwrap();
        }
    }
    let frames = |evs: &[SessionEvent]| {
        evs.iter()
            .filter(|e| matches!(e, SessionEvent::Received(ev) if (ev.class, ev.kind) == (0, 32)))
            .count()
    };
    ws.pump_until(|evs| frames(evs) >= 7).await;
    let now = ws.now();
    for e in ws.received() {
        scan.handle_event(e, now);
    }
    let found = scan.found();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].nickname, found[0].guid.to_string()),
        (5, WHO_NODE.to_string())
    );
    assert_eq!(found[0].short_frames, [1, 2, 3, 4, 5, 6]);
    println!(
        "scan through the proxy: node 5 found, frames {:?} empty",
        found[0].short_frames
    );
}
