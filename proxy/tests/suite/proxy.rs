//! vscp-proxy over real sockets on 127.0.0.1: forwarding, refusals, limits, load, TLS.

use std::{process::Command, sync::Arc, time::Duration};

use crate::common::*;
use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest, protocol::frame::coding::CloseCode},
};
use vscp_core::{ReceiveMode, SessionEvent, State};

#[tokio::test]
async fn forwards_both_ways_with_line_framing() {
    let p = Proxy::start(&["--demo"]);
    let mut ws = connect(&p.url("target=demo")).await;
    let greeting = until_status(&mut ws).await;
    assert_eq!(
        greeting.first().map(String::as_str),
        Some("vscp-link demo node")
    );
    ws.send(Message::text("USER admin\r\nPASS secret\r\n"))
        .await
        .unwrap();
    assert_eq!(until_statuses(&mut ws, 2).await[1], "+OK - Ready to work.");
    ws.send(Message::text("VERS")).await.unwrap();
    let v = until_status(&mut ws).await;
    assert_eq!(v.len(), 2, "{v:?}");
    ws.send(Message::text("QUIT")).await.unwrap();
    assert_eq!(until_status(&mut ws).await, ["+OK - Goodbye."]);
    assert_eq!(
        close_of(&mut ws).await.0,
        4003,
        "node closed the connection"
    );
}

#[tokio::test]
async fn every_refusal_has_its_close_code() {
    let p = Proxy::start(&[
        "--demo",
        "--node",
        "dead=127.0.0.1:9",
        "--idle-timeout",
        "1",
    ]);
    assert_eq!(close_code(&p.url("target=nowhere")).await, 4001);
    assert_eq!(close_code(&p.url("target=dead")).await, 4002);
    // a page from another site
    let mut req = p.url("target=demo").into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    let (mut ws, _) = connect_async(req).await.unwrap();
    assert_eq!(close_of(&mut ws).await.0, 4007);
    // same-origin pages are fine
    let mut req = p.url("target=demo").into_client_request().unwrap();
    req.headers_mut().insert(
        "Origin",
        format!("http://127.0.0.1:{}", p.port).parse().unwrap(),
    );
    let (mut ws, _) = connect_async(req).await.unwrap();
    assert!(answers_ok(&mut ws).await);
    drop(ws);
    // over-long line, binary message
    let mut ws = connect(&p.url("target=demo")).await;
    until_status(&mut ws).await;
    ws.send(Message::text("X".repeat(5000))).await.unwrap();
    assert_eq!(close_of(&mut ws).await.0, 4004);
    let mut ws = connect(&p.url("target=demo")).await;
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(close_of(&mut ws).await.0, 4009);
    // idle: nothing sent for a second (the demo node is silent outside RCVLOOP)
    let mut ws = connect(&p.url("target=demo")).await;
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!((code, reason.as_str()), (4005, "idle for 1 s"));
}

#[tokio::test]
async fn token_and_connection_limits() {
    let p = Proxy::start(&["--demo", "--token", "s3cret", "--max-conns-per-ip", "2"]);
    assert_eq!(close_code(&p.url("target=demo")).await, 4006);
    assert_eq!(close_code(&p.url("target=demo&token=wrong")).await, 4006);
    let mut a = connect(&p.url("target=demo&token=s3cret")).await;
    let mut b = connect(&p.url("target=demo&token=s3cret")).await;
    until_status(&mut a).await;
    until_status(&mut b).await;
    assert_eq!(close_code(&p.url("target=demo&token=s3cret")).await, 4011);
    drop(a);
    eventually("a closed session's slot is free again", async || {
        let mut c = connect(&p.url("target=demo&token=s3cret")).await;
        greeted(&mut c).await.then_some(())
    })
    .await;
}

#[tokio::test]
async fn shutdown_closes_sessions_with_a_reason() {
    let mut p = Proxy::process(&["--demo"]);
    let mut ws = connect(&p.url("target=demo")).await;
    until_status(&mut ws).await;
    Command::new("kill")
        .arg("-TERM")
        .arg(p.pid().to_string())
        .status()
        .unwrap();
    assert_eq!(close_of(&mut ws).await.0, 4008);
    let Run::Process(child) = &mut p.run else {
        unreachable!()
    };
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn demo_node_answers_every_command_through_the_proxy() {
    let p = Proxy::start(&["--demo"]);
    let mut c = WsClient::open(&p.url("target=demo"), ReceiveMode::Off).await;
    c.pump_until(|_| true).await;
    assert!(c.run("NOOP").await.ok);
    assert_eq!(c.client.session.state(), State::Ready);
    assert!(c.run("VERS").await.version().is_ok());
    assert!(c.run("WCYD").await.capabilities().unwrap().has(15));
    assert_eq!(c.run("INTERFACE LIST").await.interfaces().unwrap().len(), 2);
    assert!(c.run("CHID").await.channel_id().is_ok());
    assert!(c.run("GGID").await.guid().is_ok());
    assert!(c.run("STAT").await.stat().is_ok());
    assert!(c.run("INFO").await.info().is_ok());
    assert!(c.run("CHALLENGE").await.challenge().is_ok());
    assert!(c.run("HELP").await.ok);
    assert!(c.run("SFLT 0,0,0,-").await.ok);
    assert!(c.run("SMSK 0,0,0,-").await.ok);
    assert!(c.run("CLRA").await.ok);
    // read the GUID register of node 1 (Level I over Level II with the interface GUID)
    assert!(
        c.run("SEND 0,512,9,,,,-,255,255,255,255,255,255,255,245,0,1,0,0,0,0,0,1,1,208")
            .await
            .ok
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = c.run("RETR 50").await;
    let reply = c
        .received()
        .into_iter()
        .find_map(vscp_core::registers::RegisterReply::from_event);
    assert_eq!(
        reply,
        Some(vscp_core::registers::RegisterReply::Value {
            origin: 1,
            reg: 0xD0,
            value: 0xFF
        }),
        "register 0xD0 = first GUID byte"
    );
    assert!(c.run("CDTA").await.count().is_ok());
    assert!(!c.run("XNOPE").await.ok);
    assert!(c.run("QUIT").await.ok);
}

#[tokio::test]
async fn no_event_lost_or_reordered_over_100000_demo_events() {
    let p = Proxy::start(&["--demo", "--demo-rate", "25000"]);
    let mut c = WsClient::open(&p.url("target=demo"), ReceiveMode::Stream).await;
    c.pump_until(|evs| {
        evs.iter()
            .filter(|e| matches!(e, SessionEvent::Received(_)))
            .count()
            >= 100_000
    })
    .await;
    let seqs: Vec<u32> = c
        .received()
        .iter()
        .filter(|e| e.class != 30)
        .map(|e| e.obid)
        .collect();
    assert!(seqs.len() >= 100_000);
    for w in seqs.windows(2) {
        assert_eq!(w[1], w[0] + 1, "gap or reorder after obid {}", w[0]);
    }
}

#[tokio::test]
async fn slow_reader_keeps_memory_bounded_and_others_keep_working() {
    let p = Proxy::process(&["--demo", "--demo-rate", "50000"]);
    let mut idle = connect(&p.url("target=demo")).await;
    login(&mut idle).await;
    idle.send(Message::text("RCVLOOP")).await.unwrap();
    // never read `idle` again: backpressure must stop the proxy from buffering
    let before = p.rss_kib();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = p.rss_kib();
    assert!(
        after < before + 32 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    let mut other = connect(&p.url("target=demo")).await;
    login(&mut other).await;
    // the browser disappears mid-stream; the proxy carries on
    drop(idle);
    other.send(Message::text("NOOP")).await.unwrap();
    assert_eq!(
        until_status(&mut other).await.last().unwrap(),
        "+OK - Success."
    );
}

#[tokio::test]
async fn two_hundred_concurrent_sessions() {
    let p = Proxy::start(&["--demo", "--max-conns-per-ip", "256"]);
    let url = p.url("target=demo");
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut ws = connect(&url).await;
                login(&mut ws).await;
                ws.send(Message::text("NOOP")).await.unwrap();
                assert_eq!(
                    until_status(&mut ws).await.last().unwrap(),
                    "+OK - Success."
                );
                ws
            })
        })
        .collect();
    let mut open = Vec::new();
    for t in tasks {
        open.push(t.await.unwrap());
    }
    assert_eq!(open.len(), 200);
}

#[tokio::test]
async fn tls_handshake_with_a_test_certificate() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = std::env::temp_dir().join(format!("vscp-proxy-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let p = Proxy::start(&[
        "--demo",
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ]);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", p.port)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut resp = String::new();
    tls.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("ok"), "{resp}");
}

#[tokio::test]
async fn http_endpoints() {
    let p = Proxy::start(&["--node", "hall=10.0.0.5:9598"]);
    let resp = http_get(p.port, "/api/targets").await;
    assert!(
        resp.contains(r#"[{"name":"hall","address":"10.0.0.5:9598","demo":false,"mqtt":false}]"#),
        "{resp}"
    );
    assert!(
        resp.to_ascii_lowercase()
            .contains("cache-control: no-cache")
    );
    let _ = CloseCode::Normal;
}

#[tokio::test]
async fn linktest_api_checks_origin_and_target() {
    let p = Proxy::start(&["--demo"]);
    let post = |origin: &str, body: &str| {
        format!(
            "POST /api/linktest HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nOrigin: {origin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            p.port,
            body.len()
        )
    };
    for (origin, body, want) in [
        ("http://evil.example", r#"{"target":"demo"}"#, "403"),
        (
            &format!("http://127.0.0.1:{}", p.port) as &str,
            r#"{"target":"elsewhere"}"#,
            "403",
        ),
        (
            &format!("http://127.0.0.1:{}", p.port),
            r#"{"target":"demo","user":"admin","password":"secret"}"#,
            "200",
        ),
    ] {
        let resp = http(p.port, &post(origin, body)).await;
        assert!(
            resp.starts_with(&format!("HTTP/1.1 {want}")),
            "{origin} {body}: {resp}"
        );
        if want == "200" {
            assert!(resp.contains(r#""failed":0"#), "{resp}");
        }
    }
}

#[tokio::test]
async fn tls_towards_the_node() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::{self, pki_types::PrivatePkcs8KeyDer};
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let ca = std::env::temp_dir().join(format!("vscp-node-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let key = PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key.into())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        tls.write_all(b"+OK - Success.\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        let n = tls.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"NOOP\r\n");
        tls.write_all(b"+OK - over TLS\r\n").await.unwrap();
        let _ = tls.read(&mut buf).await;
    });
    let node = format!("tlsnode=localhost:{port}");
    let p = Proxy::start(&[
        "--node",
        &node,
        "--node-tls",
        "--node-ca",
        ca.to_str().unwrap(),
    ]);
    let mut ws = connect(&p.url("target=tlsnode")).await;
    assert_eq!(until_status(&mut ws).await, ["+OK - Success."]);
    ws.send(Message::text("NOOP")).await.unwrap();
    assert_eq!(until_status(&mut ws).await, ["+OK - over TLS"]);
}

#[tokio::test]
async fn a_thousand_idle_sessions_fit_in_64_mib() {
    let p = Proxy::process(&[
        "--demo",
        "--max-conns",
        "1000",
        "--max-conns-per-ip",
        "1000",
    ]);
    let before = p.rss_kib();
    let url = p.url("target=demo");
    let mut open = Vec::with_capacity(1000);
    for chunk in 0..10 {
        let batch: Vec<_> = (0..100)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move {
                    let mut ws = connect(&url).await;
                    until_status(&mut ws).await; // greeting through the bridge
                    ws
                })
            })
            .collect();
        for t in batch {
            open.push(t.await.unwrap_or_else(|e| panic!("batch {chunk}: {e}")));
        }
    }
    let after = p.rss_kib();
    eprintln!(
        "RSS with 1000 idle sessions (proxy + in-process demo node): {after} KiB (idle proxy: {before} KiB)"
    );
    assert_eq!(open.len(), 1000);
    assert!(after < 64 * 1024, "RSS {after} KiB");
}

#[tokio::test]
async fn node_goes_away_restarts_and_misbehaves() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let node = format!("fake={addr}");
    let p = Proxy::start(&["--node", &node]);
    let url = p.url("target=fake");

    // the node closes mid-session: 4003, after every line it sent
    let node_task = tokio::spawn(fake_node(listener, b"+OK - last words\r\n", true));
    let mut ws = connect(&url).await;
    assert_eq!(until_status(&mut ws).await, ["+OK - fake node"]);
    ws.send(Message::text("NOOP")).await.unwrap();
    assert_eq!(until_status(&mut ws).await, ["+OK - last words"]);
    assert_eq!(close_of(&mut ws).await.0, 4003);
    node_task.await.unwrap();

    // the node is down: 4002
    let (code, reason) = close_of(&mut connect(&url).await).await;
    assert_eq!(code, 4002, "{reason}");

    // the node restarts on the same port and sends a line longer than --max-line: 4004
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let node_task = tokio::spawn(fake_node(listener, &[b'X'; 9000], false));
    let mut ws = connect(&url).await;
    assert_eq!(until_status(&mut ws).await, ["+OK - fake node"]);
    ws.send(Message::text("NOOP")).await.unwrap();
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!(code, 4004, "{reason}");
    assert!(reason.contains("from node"), "{reason}");
    node_task.await.unwrap();
}
