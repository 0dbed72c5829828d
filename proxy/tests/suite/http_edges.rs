//! What the proxy's HTTP side does with careless or hostile requests, over real sockets: DNS
//! rebinding and the token, static files and their headers, origins and target names outside the
//! allow-list, MDF sources, metrics, websocket handshake refusals, and what is logged.

use std::time::{Duration, Instant};

use crate::common::*;
use futures_util::SinkExt;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

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
    let mut ws = crate::common::connect(&p.url("target=demo")).await;
    crate::common::login(&mut ws).await;
    ws.send(Message::text("NOOP\nNOOP")).await.unwrap();
    let _ = crate::common::until_statuses(&mut ws, 2).await;
    ws.close(None).await.unwrap();
    assert_eq!(
        crate::common::close_code(&p.url("target=nowhere")).await,
        4001
    );
    // the session's end is counted once its task has finished
    let m = crate::common::eventually("the closed session counted as ended", async || {
        let m = http(p.port, &get("/metrics", "127.0.0.1")).await;
        (m.contains("vscp_proxy_sessions_open 0")
            && m.contains(r#"vscp_proxy_session_ends_total{code="1000",name="BrowserClosed"} 1"#))
        .then_some(m)
    })
    .await;
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
