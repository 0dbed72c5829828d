//! Proxy accounts over real HTTP and websockets with the demo node: login with a session
//! cookie, refused and rate-limited logins, a websocket without a login, each level against
//! the commands above and below it, lines that never reach the node, the audit file, and the
//! refusal counters.

mod common;

use std::time::Duration;

use common::*;
use tokio_tungstenite::{connect_async, tungstenite::client::IntoClientRequest};
use vscp_core::{ClientConfig, ReceiveMode};
use vscp_proxy::link_client::LinkClient;

fn users_file(dir: &std::path::Path) -> std::path::PathBuf {
    let hash = vscp_proxy::hash_password("pw").unwrap();
    let path = dir.join("users.toml");
    std::fs::write(
        &path,
        format!(
            "[[user]]\nname = \"viewer\"\npassword_hash = \"{hash}\"\nrole = \"viewer\"\n\
             [[user]]\nname = \"engineer\"\npassword_hash = \"{hash}\"\nrole = \"engineer\"\ntargets = [\"demo\"]\n\
             [[user]]\nname = \"elsewhere\"\npassword_hash = \"{hash}\"\nlevel = 15\ntargets = [\"hall\"]\n"
        ),
    )
    .unwrap();
    path
}

/// `POST /api/login`; the status line and the session cookie (`name=value`) if one was set.
async fn login(port: u16, user: &str, password: &str) -> (String, Option<String>) {
    let body = format!(r#"{{"user":"{user}","password":"{password}"}}"#);
    let req = format!(
        "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let resp = http(port, &req).await;
    let status = resp.lines().next().unwrap_or_default().to_string();
    let cookie = resp.lines().find_map(|l| {
        let v = l
            .strip_prefix("set-cookie: ")
            .or_else(|| l.strip_prefix("Set-Cookie: "))?;
        assert!(
            v.contains("HttpOnly") && v.contains("SameSite=Strict"),
            "{v}"
        );
        v.split(';').next().map(str::to_string)
    });
    (status, cookie)
}

/// A demo session through the proxy with this cookie (logged in to the node as its admin).
async fn session(p: &Proxy, cookie: &str) -> WsClient {
    let mut req = p.url("target=demo").into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (ws, _) = connect_async(req).await.unwrap();
    let config = ClientConfig {
        credentials: Some(("admin".into(), "secret".into())),
        receive: ReceiveMode::Off,
        ..ClientConfig::default()
    };
    let mut c = WsClient {
        client: LinkClient::new(WsWire::new(ws), config),
        events: Vec::new(),
    };
    c.run("NOOP").await;
    c
}

#[tokio::test]
async fn accounts_levels_and_the_audit_file() {
    let dir = tempfile(&format!("accounts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let users = users_file(&dir);
    let audit = dir.join("audit.jsonl");
    let p = Proxy::start(&[
        "--demo",
        "--users",
        users.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ]);

    // nobody logged in: the API says so, a websocket is refused with 4014
    assert!(
        http_get(p.port, "/api/me")
            .await
            .starts_with("HTTP/1.1 401")
    );
    assert_eq!(close_code(&p.url("target=demo")).await, 4014);

    // wrong passwords, then too many of them for that account name
    for _ in 0..5 {
        assert!(login(p.port, "nobody", "nope").await.0.contains("401"));
    }
    assert!(login(p.port, "nobody", "nope").await.0.contains("429"));

    // a viewer watches but cannot send or configure: the proxy answers in the node's place
    let (status, cookie) = login(p.port, "viewer", "pw").await;
    assert!(status.contains("200"), "{status}");
    let cookie = cookie.expect("a session cookie");
    let mut me = get("/api/me", "127.0.0.1");
    me = me.replace(
        "Connection: close",
        &format!("Cookie: {cookie}\r\nConnection: close"),
    );
    let me = http(p.port, &me).await;
    assert!(
        me.contains(r#""user":"viewer""#) && me.contains(r#""level":2"#),
        "{me}"
    );
    let mut viewer = session(&p, &cookie).await;
    // an operator's command, an admin's, and a repeat of something allowed
    for (line, needs) in [
        ("SEND 0,20,3,,,,-,171,1,2", "4"),
        ("shutdown", "15"),
        ("SMSK 0,0,0,-", "6"),
    ] {
        let r = viewer.run(line).await;
        assert!(
            !r.ok && r.text == format!("Not allowed (needs privilege {needs})"),
            "{line}: {r:?}"
        );
    }
    assert!(viewer.run("STAT").await.ok, "level 1 passes");
    assert!(viewer.run("+").await.ok, "a repeat of STAT passes");

    // an engineer sends and writes registers; a watcher sees the engineer's event and never
    // the viewer's
    let (status, eng_cookie) = login(p.port, "engineer", "pw").await;
    assert!(status.contains("200"), "{status}");
    let eng_cookie = eng_cookie.unwrap();
    let mut watcher = session(&p, &eng_cookie).await;
    let now = watcher.now();
    watcher
        .client
        .session
        .set_receive_mode(ReceiveMode::Stream, now);
    let mut engineer = session(&p, &eng_cookie).await;
    assert!(
        viewer
            .run("SEND 0,20,3,,,,-,171,9,9")
            .await
            .text
            .contains("Not allowed")
    );
    assert!(engineer.run("SEND 0,20,3,,,,-,172,1,2").await.ok);
    watcher
        .pump_until(|evs| {
            evs.iter().any(|e| {
                matches!(e, vscp_core::SessionEvent::Received(ev) if ev.data.first() == Some(&172))
            })
        })
        .await;
    let seen: Vec<Option<u8>> = watcher
        .received()
        .iter()
        .map(|e| e.data.first().copied())
        .collect();
    assert!(seen.contains(&Some(172)));
    assert!(
        !seen.contains(&Some(171)),
        "a refused line reached the node: {seen:?}"
    );
    assert!(
        engineer.run("SEND 0,0,11,,,,-,1,2,3").await.ok,
        "a register write"
    );

    // an account limited to another target
    let (_, far) = login(p.port, "elsewhere", "pw").await;
    let mut req = p.url("target=demo").into_client_request().unwrap();
    req.headers_mut()
        .insert("cookie", far.unwrap().parse().unwrap());
    let (mut ws, _) = connect_async(req).await.unwrap();
    assert_eq!(close_of(&mut ws).await.0, 4001);

    // the audit file: sessions and commands of level 4 and more, sent or not, no password
    drop(viewer);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = std::fs::read_to_string(&audit).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let refused: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["event"] == "command" && r["sent"] == false)
        .collect();
    assert!(refused.len() >= 3, "{text}");
    assert!(
        refused
            .iter()
            .all(|r| r["account"] == "viewer" && r["client"] == "127.0.0.1")
    );
    assert!(records.iter().any(|r| r["event"] == "command"
        && r["sent"] == true
        && r["account"] == "engineer"
        && r["needs"] == 6));
    assert!(
        records
            .iter()
            .any(|r| r["event"] == "start" && r["target"] == "demo")
    );
    assert!(
        !text.contains("secret") && !text.contains("\"pw\""),
        "{text}"
    );
    let metrics = http_get(p.port, "/metrics").await;
    assert!(
        metrics.contains("vscp_proxy_refusals_total{reason=\"privilege\"} 4"),
        "{metrics}"
    );
    assert!(metrics.contains("vscp_proxy_refusals_total{reason=\"login_limited\"} 1"));
}
