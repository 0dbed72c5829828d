//! The edges a hostile or careless client finds, each over real sockets on loopback:
//! DNS rebinding, lines before a close or a ping, file-descriptor exhaustion, static files
//! and their headers, SIGTERM with sessions in every state, log lines, odd target names,
//! browsers that vanish, and one IP hogging connections before any HTTP byte.

mod common;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpSocket, TcpStream},
    sync::mpsc,
};
use tokio_tungstenite::{
    MaybeTlsStream, client_async, connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

/// One HTTP/1.1 request on a fresh connection; the whole response as text.
async fn http(port: u16, request: &str) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut resp)).await;
    String::from_utf8_lossy(&resp).into_owned()
}

fn get(path: &str, host: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

/// A node that greets every connection and reports each line it reads.
async fn recording_node() -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                tcp.write_all(b"+OK - recording node\r\n").await.unwrap();
                let mut lines = BufReader::new(tcp).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    let _ = tx.send(l);
                }
            });
        }
    });
    (addr, rx)
}

async fn next_line(rx: &mut mpsc::UnboundedReceiver<String>) -> Option<String> {
    tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn dns_rebinding_is_refused_and_targets_need_the_token() {
    let p = Proxy::start(&["--demo", "--token", "t0k"]);
    let rebind = format!("rebind.example:{}", p.port);
    // the page of a rebound name: no websocket, no target list
    let mut req = p
        .url("target=demo&token=t0k")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("Host", rebind.parse().unwrap());
    req.headers_mut()
        .insert("Origin", format!("http://{rebind}").parse().unwrap());
    let err = connect_async(req).await.unwrap_err().to_string();
    assert!(err.contains("421"), "{err}");
    let resp = http(p.port, &get("/api/targets?token=t0k", &rebind)).await;
    assert!(resp.starts_with("HTTP/1.1 421"), "{resp}");
    // health checks answer whatever the Host
    assert!(
        http(p.port, &get("/healthz", &rebind))
            .await
            .ends_with("ok")
    );
    // the target list wants the token
    let here = format!("127.0.0.1:{}", p.port);
    let resp = http(p.port, &get("/api/targets", &here)).await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    let resp = http(p.port, &get("/api/targets?token=t0k", &here)).await;
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.contains("\"demo\""),
        "{resp}"
    );
    let resp = http(p.port, &get("/api/targets?token=t0k", "localhost")).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    drop(p);
    // a name the user allows
    let p = Proxy::start(&["--demo", "--allow-host", "console.example"]);
    let resp = http(p.port, &get("/api/targets", "console.example:8080")).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

#[tokio::test]
async fn lines_before_a_close_or_a_ping_reach_the_node() {
    let (addr, mut node) = recording_node().await;
    let p = Proxy::start(&["--node", &format!("rec={addr}")]);
    for round in 0..20 {
        let mut ws = connect(&p.url("target=rec")).await;
        until_status(&mut ws).await;
        // the console's Disconnect: lines, then the close, in one write
        ws.feed(Message::text(format!("NOOP\nQUIT {round}")))
            .await
            .unwrap();
        ws.feed(Message::Close(None)).await.unwrap();
        ws.flush().await.unwrap();
        assert_eq!(
            next_line(&mut node).await.as_deref(),
            Some("NOOP"),
            "round {round}"
        );
        assert_eq!(
            next_line(&mut node).await,
            Some(format!("QUIT {round}")),
            "round {round}"
        );
    }
    // a line followed by a ping in the same write is not held back
    let mut ws = connect(&p.url("target=rec")).await;
    until_status(&mut ws).await;
    ws.feed(Message::text("VERS")).await.unwrap();
    ws.feed(Message::Ping(Default::default())).await.unwrap();
    ws.flush().await.unwrap();
    assert_eq!(next_line(&mut node).await.as_deref(), Some("VERS"));
}

/// Idle TCP connections from `ip` (no HTTP byte).
async fn idle_from(ip: &str, port: u16, n: usize) -> Vec<TcpStream> {
    let mut out = Vec::new();
    for _ in 0..n {
        let s = TcpSocket::new_v4().unwrap();
        s.bind(format!("{ip}:0").parse().unwrap()).unwrap();
        if let Ok(c) = s
            .connect(format!("127.0.0.1:{port}").parse().unwrap())
            .await
        {
            out.push(c);
        }
    }
    out
}

#[tokio::test]
async fn one_ip_cannot_starve_others_before_the_upgrade() {
    let p = Proxy::start(&["--demo", "--max-conns-per-ip", "4"]);
    // 300 silent connections from one address: only its share is held, the rest dropped
    let _hog = idle_from("127.0.0.1", p.port, 300).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    let mut other = idle_from("127.0.0.2", p.port, 1).await.pop().unwrap();
    other
        .write_all(get("/healthz", "127.0.0.1").as_bytes())
        .await
        .unwrap();
    let mut resp = String::new();
    other.read_to_string(&mut resp).await.unwrap();
    assert!(resp.ends_with("ok"), "{resp}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let mut ws = {
        let tcp = idle_from("127.0.0.3", p.port, 1).await.pop().unwrap();
        client_async(p.url("target=demo"), MaybeTlsStream::Plain(tcp))
            .await
            .unwrap()
            .0
    };
    assert!(answers_ok(&mut ws).await);
}

#[tokio::test]
async fn out_of_file_descriptors_neither_spins_nor_floods_the_log() {
    let _turn = HEAVY.lock().await;
    let log = tempfile("emfile.log");
    let p = Proxy::process_with(
        &["--demo", "--max-conns-per-ip", "1000"],
        std::fs::File::create(&log).unwrap(),
        "ulimit -n 200;",
    );
    let before = common::cpu_seconds(p.pid());
    let mut held = Vec::new();
    for ip in ["127.0.0.1", "127.0.0.2", "127.0.0.3"] {
        held.extend(idle_from(ip, p.port, 200).await);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let used = common::cpu_seconds(p.pid()) - before;
    let log_len = std::fs::metadata(&log).unwrap().len();
    eprintln!(
        "emfile: {} connections held, proxy CPU {used:.2} s in 3 s, log {log_len} bytes",
        held.len()
    );
    assert!(
        used < 0.5,
        "proxy used {used:.2} s of CPU in 3 s with 600 connections"
    );
    assert!(log_len < 64 * 1024, "log grew to {log_len} bytes");
    drop(held);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        http(p.port, &get("/healthz", "127.0.0.1"))
            .await
            .ends_with("ok")
    );
}

fn tempfile(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vscp-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[tokio::test]
async fn static_files_headers_and_escapes() {
    let dir = tempfile("static");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<html><script type=\"module\">import init from '/app-1a2b.js'; init();</script></html>",
    )
    .unwrap();
    std::fs::write(dir.join("app-1a2b.js"), "export default function init() {}").unwrap();
    std::fs::write(dir.join(".secret"), "token=hunter2").unwrap();
    let outside = tempfile("outside.txt");
    std::fs::write(&outside, "outside").unwrap();
    let _ = std::os::unix::fs::symlink(&outside, dir.join("out.txt"));
    let _ = std::os::unix::fs::symlink(dir.join("app-1a2b.js"), dir.join("sub/link.js"));
    let p = Proxy::start(&["--static", dir.to_str().unwrap()]);
    let port = p.port;
    let fetch = move |path: &'static str| async move { http(port, &get(path, "127.0.0.1")).await };
    let lower = |s: String| s.to_ascii_lowercase();

    let index = lower(fetch("/").await);
    assert!(index.starts_with("http/1.1 200"), "{index}");
    assert!(index.contains("cache-control: no-cache"), "{index}");
    assert!(index.contains("content-security-policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "{index}");
    for h in [
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "referrer-policy: no-referrer",
        "frame-ancestors 'none'",
    ] {
        assert!(index.contains(h), "{h}: {index}");
    }
    let asset = lower(fetch("/app-1a2b.js").await);
    assert!(
        asset.starts_with("http/1.1 200") && asset.contains("immutable"),
        "{asset}"
    );
    // compressed once in the background: brotli when the browser takes it, else gzip
    let js = "export default function init() {}";
    let packed = |coding: &'static str| async move {
        let req = format!(
            "GET /app-1a2b.js HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: {coding}\r\nConnection: close\r\n\r\n"
        );
        http(port, &req).await.to_ascii_lowercase()
    };
    let mut tries = 0;
    while !packed("br").await.contains("content-encoding: br") {
        tries += 1;
        assert!(tries < 100, "never served compressed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let br = packed("gzip;q=0.5, br").await;
    assert!(
        br.contains("content-encoding: br")
            && br.contains("vary: accept-encoding")
            && br.contains("immutable"),
        "{br}"
    );
    assert!(
        packed("gzip, br;q=0")
            .await
            .contains("content-encoding: gzip")
    );
    let plain = packed("identity").await;
    assert!(
        !plain.contains("content-encoding") && plain.contains(js),
        "{plain}"
    );
    let inside = lower(fetch("/sub/link.js").await);
    assert!(
        inside.starts_with("http/1.1 200"),
        "a link inside stays: {inside}"
    );
    let route = lower(fetch("/nodes/12").await);
    assert!(
        route.starts_with("http/1.1 200")
            && route.contains("cache-control: no-cache")
            && route.contains("<html>"),
        "{route}"
    );
    for path in [
        "/missing.js",
        "/missing_bg.wasm",
        "/.secret",
        "/out.txt",
        "/%2e%2e/outside.txt",
        "/sub/%2e%2e/.secret",
        "/..%2f.secret",
    ] {
        let resp = lower(http(p.port, &get(path, "127.0.0.1")).await);
        assert!(resp.starts_with("http/1.1 404"), "{path}: {resp}");
        assert!(
            !resp.contains("hunter2") && !resp.contains("outside"),
            "{path}: {resp}"
        );
        assert!(
            resp.contains("x-content-type-options: nosniff"),
            "{path}: {resp}"
        );
    }
}

#[tokio::test]
async fn sigterm_gives_every_session_4008_within_a_bounded_time() {
    let _turn = HEAVY.lock().await;
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
async fn refusals_bad_requests_and_session_ends_are_logged() {
    let log = tempfile("refusals.log");
    let p = Proxy::process_with(&["--demo"], std::fs::File::create(&log).unwrap(), "");
    assert_eq!(close_code(&p.url("target=nowhere")).await, 4001);
    let mut ws = connect(&p.url("target=demo")).await;
    until_status(&mut ws).await;
    ws.send(Message::text("QUIT")).await.unwrap();
    assert_eq!(close_of(&mut ws).await.0, 4003);
    // a 1 MiB header: 431, and the connection is closed
    let big = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let mut tcp = TcpStream::connect(("127.0.0.1", p.port)).await.unwrap();
    let _ = tcp.write_all(big.as_bytes()).await;
    let mut resp = vec![0u8; 64];
    let n = tcp.read(&mut resp).await.unwrap_or(0);
    assert!(
        String::from_utf8_lossy(&resp[..n]).starts_with("HTTP/1.1 431"),
        "{:?}",
        String::from_utf8_lossy(&resp[..n])
    );
    // a websocket request without the upgrade headers
    let resp = http(p.port, &get("/ws?target=demo", "127.0.0.1")).await;
    assert!(!resp.starts_with("HTTP/1.1 101"), "{resp}");
    // a session ends once its close handshake is done (or after the 1 s the proxy gives it)
    let deadline = Instant::now() + Duration::from_secs(3);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("session end")
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = std::fs::read_to_string(&log).unwrap();
    for want in [
        "websocket refused",
        "code=4001",
        "session end",
        "code=4003",
        "bad HTTP connection",
        "bad websocket handshake",
    ] {
        assert!(text.contains(want), "no {want:?} in the log:\n{text}");
    }
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
async fn a_browser_that_stops_answering_pings_is_closed() {
    let p = Proxy::start(&["--demo", "--ping-interval", "1"]);
    // reads (so tungstenite answers pings): stays open with no traffic for 3.5 intervals
    let mut alive = connect(&p.url("target=demo")).await;
    until_status(&mut alive).await;
    let until = tokio::time::Instant::now() + Duration::from_millis(3_500);
    let mut pings = 0;
    while let Ok(m) = tokio::time::timeout_at(until, alive.next()).await {
        match m {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("only pings expected, got {other:?}"),
        }
    }
    assert!(pings >= 3, "{pings} pings");
    alive.send(Message::text("NOOP")).await.unwrap();
    assert_eq!(
        until_status(&mut alive).await.last().unwrap(),
        "+OK - Success."
    );
    // never reads: no pong, so after two intervals the proxy ends the session
    let (mut gone, _) = connect_async(p.url("target=demo")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let (code, reason) = close_of(&mut gone).await;
    assert_eq!(code, 4013, "{reason}");
}

#[tokio::test]
async fn origins_and_target_forms_outside_the_allow_list() {
    let p = Proxy::start(&["--demo"]);
    let with_origin = |origin: &'static str| {
        let mut req = p.url("target=demo").into_client_request().unwrap();
        req.headers_mut().insert("Origin", origin.parse().unwrap());
        req
    };
    for origin in [
        "null",
        "http://evil.example",
        "file://",
        "http://127.0.0.1.evil.example",
    ] {
        let (mut ws, _) = connect_async(with_origin(origin)).await.unwrap();
        assert_eq!(close_of(&mut ws).await.0, 4007, "{origin}");
    }
    // no Origin at all: not a browser page (curl, scripts), allowed by design
    let mut ws = connect(&p.url("target=demo")).await;
    assert!(answers_ok(&mut ws).await);
    // the browser names a target, never an address: every form of one is refused
    for target in [
        "127.0.0.1:22",
        "127.0.0.1%3A22",
        "%5B%3A%3A1%5D%3A9598",
        "127.1",
        "localhost:9598",
        "%2e%2e",
        "demo%00",
        "DEMO",
        "demo%20",
    ] {
        let mut ws = connect(&p.url(&format!("target={target}"))).await;
        let (code, reason) = close_of(&mut ws).await;
        assert_eq!(code, 4001, "{target}: {reason}");
    }
}

/// A websocket frame sent as raw bytes after a handshake by hand (masked, as a client must).
async fn raw_ws(port: u16) -> TcpStream {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!(
        "GET /ws?target=demo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    tcp
}

fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n < 65_536 => {
            f.push(0x80 | 126);
            f.extend((n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend((n as u64).to_be_bytes());
        }
    }
    let key = [1u8, 2, 3, 4];
    f.extend(key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// The server's frames (opcode, payload) on a raw connection, read until `enough` holds, the
/// connection ends or 10 s have passed.
async fn raw_frames(
    tcp: &mut TcpStream,
    enough: impl Fn(&[(u8, Vec<u8>)]) -> bool,
) -> Vec<(u8, Vec<u8>)> {
    let (mut all, mut frames) = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while !enough(&frames) {
        let Ok(Ok(n)) = tokio::time::timeout_at(until, tcp.read(&mut buf)).await else {
            break;
        };
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
        // take the complete (unmasked) frames off the front
        while all.len() >= 2 {
            let (op, len7) = (all[0] & 0x0F, (all[1] & 0x7F) as usize);
            let (len, head) = match len7 {
                126 if all.len() >= 4 => (u16::from_be_bytes([all[2], all[3]]) as usize, 4),
                127 if all.len() >= 10 => (
                    u64::from_be_bytes(all[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                126 | 127 => break,
                n => (n, 2),
            };
            if all.len() < head + len {
                break;
            }
            frames.push((op, all[head..head + len].to_vec()));
            all.drain(..head + len);
        }
    }
    frames
}

/// The close code in the first close frame the server sends (skipping other frames).
async fn raw_close_code(tcp: &mut TcpStream) -> Option<u16> {
    let is_close = |(op, _): &(u8, Vec<u8>)| *op == 8;
    let frames = raw_frames(tcp, |f| f.iter().any(is_close)).await;
    let (_, payload) = frames.into_iter().find(is_close)?;
    Some(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]))
}

#[tokio::test]
async fn fragments_control_frames_and_protocol_violations() {
    let p = Proxy::start(&["--demo"]);
    let part = |fin: bool, opcode: u8, payload: &[u8]| {
        let mut f = masked_frame(opcode, payload);
        if !fin {
            f[0] &= 0x7F;
        }
        f
    };
    // NOOP in three fragments with a ping between them: the pong comes back with the ping's
    // payload, the node gets one NOOP and answers it (after its greeting)
    let mut tcp = raw_ws(p.port).await;
    let message = [
        part(false, 1, b"NO"),
        part(true, 9, b"hi"),
        part(false, 0, b"O"),
        part(true, 0, b"P\n"),
    ]
    .concat();
    tcp.write_all(&message).await.unwrap();
    let statuses = |f: &[(u8, Vec<u8>)]| {
        f.iter()
            .filter(|(op, _)| *op == 1)
            .flat_map(|(_, t)| {
                String::from_utf8_lossy(t)
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|l| l.starts_with("+OK") || l.starts_with("-OK"))
            .count()
    };
    let frames = raw_frames(&mut tcp, |f| statuses(f) >= 2).await;
    assert!(frames.contains(&(10, b"hi".to_vec())), "{frames:?}");
    assert_eq!(statuses(&frames), 2, "{frames:?}");
    // each violation ends its session with RFC 6455's protocol-error code
    let unmasked = [0x81, 0x05, b'N', b'O', b'O', b'P', b'\n'];
    let reserved_bit = {
        let mut f = masked_frame(1, b"NOOP\n");
        f[0] |= 0x40;
        f
    };
    let lone_continuation = masked_frame(0, b"NOOP\n");
    let long_ping = masked_frame(9, &[0; 126]);
    let reserved_close_code = masked_frame(8, &1005u16.to_be_bytes());
    for (what, frame) in [
        ("unmasked", &unmasked[..]),
        ("reserved bit", &reserved_bit),
        ("lone continuation", &lone_continuation),
        ("long ping", &long_ping),
        ("close code 1005", &reserved_close_code),
    ] {
        let mut tcp = raw_ws(p.port).await;
        tcp.write_all(frame).await.unwrap();
        assert_eq!(raw_close_code(&mut tcp).await, Some(1002), "{what}");
    }
}

#[tokio::test]
async fn bad_frames_big_messages_and_slow_headers() {
    let p = Proxy::start(&["--demo", "--handshake-timeout", "2"]);
    // a text frame that is not UTF-8
    let mut tcp = raw_ws(p.port).await;
    tcp.write_all(&masked_frame(1, &[0xC3, 0x28, b'\n']))
        .await
        .unwrap();
    assert_eq!(raw_close_code(&mut tcp).await, Some(1007));
    // a 16 MiB message (the limit is 1 MiB)
    let mut tcp = raw_ws(p.port).await;
    let _ = tcp.write_all(&masked_frame(1, &vec![b'A'; 16 << 20])).await;
    assert_eq!(raw_close_code(&mut tcp).await, Some(1009));
    // slowloris: headers one byte at a time never finish within the time-out
    let mut slow = TcpStream::connect(("127.0.0.1", p.port)).await.unwrap();
    let t = Instant::now();
    let mut cut = false;
    for b in get("/healthz", "127.0.0.1").bytes().take(30) {
        if slow.write_all(&[b]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), slow.read_to_end(&mut rest)).await;
    assert!(
        cut || !String::from_utf8_lossy(&rest).contains(" 200 "),
        "slow client was served"
    );
    assert!(t.elapsed() < Duration::from_secs(10));
    // still serving
    assert!(
        http(p.port, &get("/healthz", "127.0.0.1"))
            .await
            .ends_with("ok")
    );
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

#[tokio::test]
async fn ten_thousand_connections_in_a_burst() {
    let _turn = HEAVY.lock().await;
    let _ = rlimit::increase_nofile_limit(65_536);
    let p = Proxy::process(&["--demo"]);
    let before = p.rss_kib();
    let port = p.port;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..10_000u32 {
        let ip = format!("127.0.{}.{}", 1 + i / 250, 1 + i % 250);
        tasks.push(tokio::spawn(async move {
            let s = TcpSocket::new_v4().ok()?;
            s.bind(format!("{ip}:0").parse().ok()?).ok()?;
            let mut c = s
                .connect(format!("127.0.0.1:{port}").parse().ok()?)
                .await
                .ok()?;
            c.write_all(get("/healthz", "127.0.0.1").as_bytes())
                .await
                .ok()?;
            let mut resp = String::new();
            tokio::time::timeout(Duration::from_secs(20), c.read_to_string(&mut resp))
                .await
                .ok()?
                .ok()?;
            Some(resp.ends_with("ok"))
        }));
    }
    let mut answered = 0;
    for task in tasks {
        answered += usize::from(task.await.unwrap() == Some(true));
    }
    let elapsed = t.elapsed();
    let after = p.rss_kib();
    eprintln!(
        "burst: {answered} of 10000 answered in {:.1} s; RSS {before} -> {after} KiB",
        elapsed.as_secs_f64()
    );
    // every one is answered or refused at once (the caps); none hangs, memory stays bounded
    assert!(answered >= 1_000, "{answered}");
    assert!(after < before + 64 * 1024, "RSS {before} -> {after} KiB");
    assert!(
        http(p.port, &get("/healthz", "127.0.0.1"))
            .await
            .ends_with("ok")
    );
}

/// A web server on loopback with a small and an oversized MDF (anything else is 404).
async fn mdf_web_server() -> u16 {
    let web = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = web.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = web.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = tcp.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                let body = if req.starts_with("GET /small.xml ") {
                    Some("<vscp><module><name>web</name></module></vscp>".to_string())
                } else if req.starts_with("GET /big.xml ") {
                    Some("x".repeat(600 * 1024))
                } else {
                    None
                };
                let resp = match body {
                    Some(b) => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{b}", b.len()),
                    None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into(),
                };
                let _ = tcp.write_all(resp.as_bytes()).await;
            });
        }
    });
    port
}

/// `/api/mdf`: the demo's own files, `--mdf-dir`, an allowed http host (size-limited), and
/// clear refusals for every other host, odd names and a missing token.
#[tokio::test]
async fn mdf_files_come_only_from_allowed_places() {
    let web = mdf_web_server().await;
    let dir = std::env::temp_dir().join(format!("vscp-mdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("local.xml"),
        "<vscp><module><name>local</name></module></vscp>",
    )
    .unwrap();
    // a file over the limit is refused by its size, without being read
    std::fs::write(dir.join("huge.xml"), vec![b' '; 8 << 20]).unwrap();
    let closed = free_port();
    let (allow_web, allow_closed) = (format!("127.0.0.1:{web}"), format!("127.0.0.1:{closed}"));
    let p = Proxy::start(&[
        "--demo",
        "--mdf-dir",
        dir.to_str().unwrap(),
        "--mdf-fetch",
        &allow_web,
        "--mdf-fetch",
        &allow_closed,
        "--mdf-fetch",
        "localhost",
        "--token",
        "t",
    ]);
    let ask = |url: String, token: &'static str| {
        let req = get(&format!("/api/mdf?token={token}&url={url}"), "127.0.0.1");
        async move { http(p.port, &req).await }
    };
    let name_in = |resp: &str| {
        let body = resp.split("\r\n\r\n").nth(1).unwrap_or_default();
        vscp_core::mdf::Mdf::parse(body).map(|m| m.name)
    };
    let temp = ask("vscp-link.local/demo/temp.xml".into(), "t").await;
    assert!(temp.starts_with("HTTP/1.1 200"), "{temp}");
    assert_eq!(name_in(&temp), Ok("temp".into()));
    let humid = ask("vscp-link.local/demo/humid.json".into(), "t").await;
    assert!(humid.contains("content-type: application/json"), "{humid}");
    assert_eq!(name_in(&humid), Ok("humid".into()));
    // --mdf-dir answers by file name, whatever the host
    assert_eq!(
        name_in(&ask("example.org/any/local.xml".into(), "t").await),
        Ok("local".into())
    );
    // an allowed host is fetched over http
    let small = ask(format!("http://127.0.0.1:{web}/small.xml"), "t").await;
    assert_eq!(name_in(&small), Ok("web".into()), "{small}");
    // every failure of an allowed fetch reads the same (no port probing by error text)
    let body = |r: &str| r.split("(no answer").nth(1).unwrap_or_default().to_string();
    let big = ask(format!("127.0.0.1:{web}/big.xml"), "t").await;
    let missing = ask(format!("127.0.0.1:{web}/nope.xml"), "t").await;
    let refused = ask(format!("127.0.0.1:{closed}/x.xml"), "t").await;
    for r in [&big, &missing, &refused] {
        assert!(
            r.starts_with("HTTP/1.1 502") && r.contains("could not fetch"),
            "{r}"
        );
    }
    assert_eq!(body(&big), body(&missing));
    assert_eq!(body(&missing), body(&refused));
    // `--mdf-fetch HOST` is port 80 only
    let other_port = ask(format!("localhost:{web}/small.xml"), "t").await;
    assert!(
        other_port.starts_with("HTTP/1.1 403")
            && other_port.contains(&format!("--mdf-fetch localhost:{web}")),
        "{other_port}"
    );
    let huge = ask("example.org/huge.xml".into(), "t").await;
    assert!(
        huge.starts_with("HTTP/1.1 502") && huge.contains("over 524288 bytes"),
        "{huge}"
    );
    // everything else is refused with the way out in words
    let foreign = ask("evil.example/x.xml".into(), "t").await;
    assert!(
        foreign.starts_with("HTTP/1.1 403") && foreign.contains("--mdf-fetch evil.example:80"),
        "{foreign}"
    );
    let https = ask("https://127.0.0.1/x.xml".into(), "t").await;
    assert!(
        https.starts_with("HTTP/1.1 502") && https.contains("https"),
        "{https}"
    );
    let sneaky = ask("vscp-link.local/demo/../../etc/passwd".into(), "t").await;
    assert!(sneaky.starts_with("HTTP/1.1 404"), "{sneaky}");
    let bad = ask("not a url".replace(' ', "%20"), "t").await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    let no_token = ask("vscp-link.local/demo/temp.xml".into(), "x").await;
    assert!(no_token.starts_with("HTTP/1.1 403"), "{no_token}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `/metrics` counts sessions, lines each way and refusals by close code.
#[tokio::test]
async fn metrics_count_sessions_lines_and_refusals() {
    let p = Proxy::start(&["--demo"]);
    let mut ws = common::connect(&p.url("target=demo")).await;
    common::login(&mut ws).await;
    ws.send(Message::text("NOOP\nNOOP")).await.unwrap();
    let _ = common::until_statuses(&mut ws, 2).await;
    ws.close(None).await.unwrap();
    assert_eq!(common::close_code(&p.url("target=nowhere")).await, 4001);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m = http(p.port, &get("/metrics", "127.0.0.1")).await;
    assert!(
        m.starts_with("HTTP/1.1 200") && m.contains("text/plain; version=0.0.4"),
        "{m}"
    );
    let value = |name: &str| -> u64 {
        m.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{m}"))
    };
    assert_eq!(value("vscp_proxy_sessions_total "), 1);
    assert_eq!(value("vscp_proxy_sessions_open "), 0);
    assert_eq!(
        value("vscp_proxy_lines_total{direction=\"to_node\"} "),
        4,
        "USER, PASS, 2 × NOOP"
    );
    assert!(value("vscp_proxy_lines_total{direction=\"to_browser\"} ") >= 4);
    assert_eq!(
        value("vscp_proxy_refusals_total{code=\"4001\",name=\"TargetNotAllowed\"} "),
        1
    );
    assert_eq!(
        value("vscp_proxy_session_ends_total{code=\"1000\",name=\"BrowserClosed\"} "),
        1
    );
}

/// A handshake with these extra header lines; the status line of the answer and its headers.
async fn handshake_with(port: u16, version: &str, key: &str) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!(
        "GET /ws?target=demo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{key}{version}\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase()
}

#[tokio::test]
async fn handshake_refusals_say_what_the_rfc_wants() {
    let p = Proxy::start(&["--demo"]);
    let good_key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    // another version: 426 and the version this server speaks
    for version in ["Sec-WebSocket-Version: 8\r\n", ""] {
        let resp = handshake_with(p.port, version, good_key).await;
        assert!(resp.starts_with("http/1.1 426"), "{resp}");
        assert!(resp.contains("sec-websocket-version: 13"), "{resp}");
    }
    // a key that is not 16 bytes of base64
    for key in [
        "Sec-WebSocket-Key: abc\r\n",
        "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!!!\r\n",
        "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
    ] {
        let resp = handshake_with(p.port, "Sec-WebSocket-Version: 13\r\n", key).await;
        assert!(resp.starts_with("http/1.1 400"), "{key}: {resp}");
    }
    // the accept key of RFC 6455's example
    let resp = handshake_with(p.port, "Sec-WebSocket-Version: 13\r\n", good_key).await;
    assert!(
        resp.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{resp}"
    );
}

#[tokio::test]
async fn the_close_handshake_ends_cleanly_while_the_browser_still_sends() {
    let p = Proxy::start(&["--demo"]);
    let mut tcp = raw_ws(p.port).await;
    // QUIT: the node closes, the proxy sends its close frame (4003)
    tcp.write_all(&masked_frame(1, b"QUIT\n")).await.unwrap();
    assert_eq!(raw_close_code(&mut tcp).await, Some(4003));
    // the browser still had messages on their way, then answers the close
    for _ in 0..20 {
        tcp.write_all(&masked_frame(1, b"NOOP\n")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tcp.write_all(&masked_frame(8, &1000u16.to_be_bytes()))
        .await
        .unwrap();
    // then the proxy ends the connection with a FIN, not a reset
    let mut rest = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(3), tcp.read_to_end(&mut rest)).await;
    assert!(matches!(end, Ok(Ok(_))), "{end:?}");
}

#[tokio::test]
async fn unfinished_messages_share_one_memory_budget() {
    // 2 MiB for all sessions: two unfinished 900 KB messages fit, the third does not
    let p = Proxy::start(&["--demo", "--message-budget", "2"]);
    let big = masked_frame(1, &vec![b'A'; 1_000_000]);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tcp = raw_ws(p.port).await;
        tcp.write_all(&big[..14 + 900_000]).await.unwrap();
        held.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut third = raw_ws(p.port).await;
    let _ = third.write_all(&big[..14 + 900_000]).await;
    assert_eq!(raw_close_code(&mut third).await, Some(1013));
    // small messages still pass
    let mut ws = connect(&p.url("target=demo")).await;
    until_status(&mut ws).await;
    ws.send(Message::text("NOOP")).await.unwrap();
    assert!(answers_ok(&mut ws).await);
    // the held sessions end; their share comes back
    drop(held);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mut again = raw_ws(p.port).await;
    again.write_all(&big).await.unwrap();
    again.write_all(&masked_frame(1, b"NOOP\n")).await.unwrap();
    let frames = raw_frames(&mut again, |f| {
        f.iter()
            .any(|(op, t)| *op == 1 && t.windows(3).any(|w| w == b"+OK"))
    })
    .await;
    assert!(!frames.iter().any(|(op, _)| *op == 8), "{frames:?}");
}
