//! Nodes and the process failing under the sessions: SIGTERM with sessions in every state, any
//! target name, and a node that sends garbage or never answers.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use crate::common::*;
use futures_util::SinkExt;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn sigterm_gives_every_session_4008_within_a_bounded_time() {
    // a node that takes the TCP connection and never answers the TLS handshake
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            held.push(c);
        }
    });
    let ca = tempfile("unused-ca.pem");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let node = format!("stuck=localhost:{silent_port}");
    let mut p = Proxy::process(&[
        "--node",
        &node,
        "--node-tls",
        "--node-ca",
        ca.to_str().unwrap(),
        "--connect-timeout",
        "60",
    ]);
    let mut connecting = connect(&p.url("target=stuck")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    kill_term(&p);
    assert_eq!(close_of(&mut connecting).await.0, 4008);
    wait_exit(&mut p);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    // a streaming client that stopped reading, and reads again after the signal
    let mut p = Proxy::process(&["--demo", "--demo-rate", "50000"]);
    let mut stalled = connect(&p.url("target=demo")).await;
    login(&mut stalled).await;
    stalled.send(Message::text("RCVLOOP")).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await; // buffers fill up
    let t = Instant::now();
    kill_term(&p);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(close_of(&mut stalled).await.0, 4008);
    wait_exit(&mut p);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

fn kill_term(p: &Proxy) {
    Command::new("kill")
        .args(["-TERM", &p.pid().to_string()])
        .status()
        .unwrap();
}

fn wait_exit(p: &mut Proxy) {
    let Run::Process(child) = &mut p.run else {
        unreachable!()
    };
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn any_target_name_gets_a_close_code_never_a_panic() {
    let p = Proxy::start(&["--demo"]);
    for name in [
        "é".repeat(100),
        "€".repeat(60),
        "😀".repeat(40),
        "%ZZ".into(),
        "a&target=demo".into(),
        "\u{0}".into(),
    ] {
        let q: String = name
            .bytes()
            .map(|b| match b {
                b'%' if name == "%ZZ" => "%".to_string(),
                b'a'..=b'z' | b'0'..=b'9' => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let mut ws = connect(&p.url(&format!("target={q}"))).await;
        let (code, reason) = close_of(&mut ws).await;
        assert_eq!(code, 4001, "{name}: {reason}");
        assert!(reason.len() <= 123, "{}", reason.len());
    }
    // still serving
    let mut ws = connect(&p.url("target=demo")).await;
    assert!(answers_ok(&mut ws).await);
}

#[tokio::test]
async fn a_node_that_sends_garbage_or_never_answers() {
    // garbage: bytes that are not UTF-8 and lines that are not the protocol
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = tcp
                    .write_all(b"\xff\xfe garbage \x00\x01\r\n+OK - still a line\r\n")
                    .await;
                let mut buf = [0u8; 64];
                let _ = tcp.read(&mut buf).await;
            });
        }
    });
    // silent: accepts and never says anything
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            held.push(c);
        }
    });
    let p = Proxy::start(&[
        "--node",
        &format!("junk={addr}"),
        "--node",
        &format!("mute={silent_addr}"),
        "--idle-timeout",
        "1",
    ]);
    let mut ws = connect(&p.url("target=junk")).await;
    let lines = until_status(&mut ws).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("garbage"), "{lines:?}");
    assert_eq!(lines[1], "+OK - still a line");
    let mut ws = connect(&p.url("target=mute")).await;
    assert_eq!(close_of(&mut ws).await, (4005, "idle for 1 s".to_string()));
}
