//! linktest against the demo node (all checks pass) and against deliberately broken
//! node sessions (the matching check fails with a clear message, exit code 1).

use std::{
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use vscp_core::{Event, Framed, LineBuf, MemoryNode, Millis, NodeConfig, NodeOutput, NodeSession};

fn linktest(addr: &str) -> (serde_json::Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_vscp-proxy"))
        .args([
            "linktest",
            addr,
            "--user",
            "admin",
            "--password",
            "secret",
            "--json",
            "--rounds",
            "20",
        ])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (report, out.status.code().unwrap_or(-1))
}

fn outcome<'a>(report: &'a serde_json::Value, name: &str) -> (&'a str, &'a str) {
    let c = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {report}"));
    (
        c["outcome"].as_str().unwrap(),
        c["detail"].as_str().unwrap(),
    )
}

#[test]
fn demo_node_passes_every_check() {
    let (demo, port) = crate::common::start_demo(0, "0");
    let addr = format!("127.0.0.1:{port}");
    let (report, code) = linktest(&addr);
    // without a login, against a server that wants one: one line, exit code 2
    let no_login = Command::new(env!("CARGO_BIN_EXE_vscp-proxy"))
        .args(["linktest", &addr])
        .output()
        .unwrap();
    drop(demo);
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(report["not_supported"], 0, "{report:#}");
    assert!(report["passed"].as_u64().unwrap() >= 20);
    // the demo does not loop a client's events back: the filter and the round trip are
    // checked on a second connection
    let (outcome_filter, detail) = outcome(&report, "filter");
    assert_eq!(outcome_filter, "pass");
    assert!(detail.contains("second connection"), "{detail}");
    assert_eq!(code, 0);
    let stderr = String::from_utf8_lossy(&no_login.stderr);
    assert_eq!(no_login.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("wants a login"), "{stderr}");
    assert!(no_login.stdout.is_empty());
}

/// How the test node misbehaves.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    NoKeepalive,
    IgnoresFilter,
    BadVersion,
    OkForUnknown,
}

/// A link server on `NodeSession` + `MemoryNode` whose connections share one bus (every
/// sent event goes to every connection, the sender's too), broken as asked.
async fn broken_server(fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let bus: Arc<Mutex<Vec<Event>>> = Arc::default();
    tokio::spawn(async move {
        loop {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let bus = bus.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                let now = || Millis(start.elapsed().as_millis() as u64);
                let mut node = MemoryNode::default();
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
                loop {
                    // events sent on any connection, like a bus would show them
                    let seen: Vec<Event> = bus.lock().unwrap()[delivered..].to_vec();
                    for ev in &seen {
                        session.deliver(ev, now());
                    }
                    delivered += seen.len();
                    let mut out = String::new();
                    while let Some(o) = session.poll_output() {
                        match o {
                            NodeOutput::Transmit(l) => out.push_str(&l),
                            NodeOutput::Close => {
                                let _ = tcp.write_all(out.as_bytes()).await;
                                return;
                            }
                        }
                    }
                    if fault == Fault::BadVersion {
                        out = out.replace("1,0,0,0\r\n", "x,y\r\n");
                    }
                    if tcp.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                    let n = tokio::select! {
                        r = tcp.read(&mut buf) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
                        _ = tokio::time::sleep(Duration::from_millis(20)) => {
                            if fault != Fault::NoKeepalive {
                                session.handle_timeout(now());
                            }
                            continue;
                        }
                    };
                    let mut framed = Vec::new();
                    lines.push(&buf[..n], |f| {
                        if let Framed::Line(l) = f {
                            framed.push(l.into_owned());
                        }
                    });
                    for l in framed {
                        let word = l
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_ascii_uppercase();
                        match (fault, word.as_str()) {
                            (Fault::IgnoresFilter, "SFLT" | "SMSK") => {
                                let _ = tcp.write_all(b"+OK - Success.\r\n").await;
                            }
                            (Fault::OkForUnknown, w) if w.starts_with('X') => {
                                let _ = tcp.write_all(b"+OK\r\n").await;
                            }
                            _ => session.handle_line(&mut node, &l, now()),
                        }
                        bus.lock()
                            .unwrap()
                            .extend(node.sent[published..].iter().cloned());
                        published = node.sent.len();
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_nodes_fail_the_matching_checks() {
    // (fault, the check that must fail, words in its message, failures in all)
    for (fault, check, words, failures) in [
        (
            Fault::NoKeepalive,
            "rcvloop-keepalive",
            "no +OK keep-alive",
            1,
        ),
        (Fault::IgnoresFilter, "filter", "should block", 1),
        // linktest resynchronises after QUITLOOP with VERS, so that check fails too
        (Fault::BadVersion, "vers", "major,minor,release", 2),
        (Fault::OkForUnknown, "unknown-command", "answered +OK", 1),
    ] {
        let addr = broken_server(fault).await;
        let (report, code) = tokio::task::spawn_blocking(move || linktest(&addr))
            .await
            .unwrap();
        let (outcome, detail) = outcome(&report, check);
        assert_eq!(outcome, "fail", "{check}: {report:#}");
        assert!(detail.contains(words), "{check}: {detail}");
        assert_eq!(code, 1);
        assert_eq!(report["failed"], failures, "{check}: {report:#}");
    }
}
