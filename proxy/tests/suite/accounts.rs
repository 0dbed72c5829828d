//! Proxy accounts over real HTTP and websockets with the demo node: login with a session
//! cookie, refused and rate-limited logins, a websocket without a login, each level against
//! the commands above and below it, lines that never reach the node, the audit file, and the
//! refusal counters.

use crate::common::*;
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

/// A websocket to `target` with a session cookie.
async fn open(p: &Proxy, target: &str, cookie: &str) -> Ws {
    let mut req = p
        .url(&format!("target={target}"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    connect_async(req).await.unwrap().0
}

/// The audit file's records.
/// The whole lines of the audit file written so far (a line being written is skipped).
fn audit_so_far(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn audit_records(path: &std::path::Path) -> (String, Vec<serde_json::Value>) {
    let text = std::fs::read_to_string(path).unwrap();
    let records = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (text, records)
}

/// A demo session through the proxy with this cookie (logged in to the node as its admin).
async fn session(p: &Proxy, cookie: &str) -> WsClient {
    let ws = open(p, "demo", cookie).await;
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
    let me = http_get(p.port, "/api/me").await;
    assert!(
        me.starts_with("HTTP/1.1 200") && me.ends_with(r#"{"accounts":true}"#),
        "{me}"
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
    let mut ws = open(&p, "demo", &far.unwrap()).await;
    assert_eq!(close_of(&mut ws).await.0, 4001);

    // the audit file: sessions and commands of level 4 and more, sent or not, no password
    drop(viewer);
    eventually("the audit has the refusals and both sessions", async || {
        let records = audit_so_far(&audit);
        let refused = records
            .iter()
            .filter(|r| r["event"] == "command" && r["sent"] == false)
            .count();
        (refused >= 3 && records.iter().any(|r| r["event"] == "start")).then_some(())
    })
    .await;
    let (text, records) = audit_records(&audit);
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

#[tokio::test]
async fn node_logins_event_rules_and_pipelined_refusals() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let dir = tempfile(&format!("node-logins-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let hash = vscp_proxy::hash_password("pw").unwrap();
    let users = dir.join("users.toml");
    std::fs::write(
        &users,
        format!(
            "[[user]]\nname = \"op\"\npassword_hash = \"{hash}\"\nrole = \"operator\"\nsend = [\"20:3\", \"10\"]\n"
        ),
    )
    .unwrap();
    let logins = dir.join("node-logins.toml");
    std::fs::write(
        &logins,
        "[hall]\nuser = \"admin\"\npassword = \"secret\"\n[wrong]\nuser = \"admin\"\npassword = \"nope\"\n",
    )
    .unwrap();
    let audit = dir.join("audit.jsonl");
    let (_demo, port) = start_demo(0, "0");
    let p = Proxy::start(&[
        "--node",
        &format!("hall=127.0.0.1:{port},login=hall"),
        "--node",
        &format!("shed=127.0.0.1:{port},login=wrong"),
        "--node-logins",
        logins.to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ]);

    // the target list needs a login, then says the proxy logs in to these nodes
    assert!(
        http_get(p.port, "/api/targets")
            .await
            .starts_with("HTTP/1.1 401")
    );
    let (_, cookie) = login(p.port, "op", "pw").await;
    let cookie = cookie.unwrap();
    let targets = http(
        p.port,
        &get("/api/targets", "127.0.0.1").replace(
            "Connection: close",
            &format!("Cookie: {cookie}\r\nConnection: close"),
        ),
    )
    .await;
    assert!(
        targets.contains(r#""name":"hall""#) && targets.contains(r#""node_login":true"#),
        "{targets}"
    );
    assert!(
        !targets.contains("secret"),
        "the node's password stays on the proxy"
    );

    // the browser gets the greeting and works logged in without sending a login
    let mut ws = open(&p, "hall", &cookie).await;
    let greeting = until_status(&mut ws).await;
    assert!(greeting.last().unwrap().starts_with("+OK"), "{greeting:?}");
    ws.send(Message::text("SEND 0,20,3,,,,-,1")).await.unwrap();
    assert_eq!(until_status(&mut ws).await, ["+OK - Success."]);
    // the account's event rules: class 20 type 3 and class 10 only
    ws.send(Message::text("SEND 0,20,4,,,,-,1")).await.unwrap();
    assert_eq!(
        until_status(&mut ws).await,
        ["-OK - Not allowed (this account may not send class 20 type 4)"]
    );

    // pipelined: the proxy's refusal comes between the node's replies, in command order
    ws.send(Message::text("NOOP\nSHUTDOWN\nSEND 0,10,6,,,,-,1,2\nSTAT"))
        .await
        .unwrap();
    let replies: Vec<String> = until_statuses(&mut ws, 4)
        .await
        .into_iter()
        .filter(|l| l.starts_with("+OK") || l.starts_with("-OK"))
        .collect();
    assert_eq!(replies.len(), 4, "{replies:?}");
    assert!(replies[0].starts_with("+OK"), "{replies:?}");
    assert_eq!(replies[1], "-OK - Not allowed (needs privilege 15)");
    assert_eq!(replies[2], "+OK - Success.");
    assert!(replies[3].starts_with("+OK"), "{replies:?}");
    drop(ws);

    // a node that refuses the proxy's login: a clear close code
    let mut shed = open(&p, "shed", &cookie).await;
    let (code, reason) = close_of(&mut shed).await;
    assert_eq!(code, 4015, "{reason}");
    assert!(reason.contains("PASS"), "{reason}");

    // the audit pairs each sent command with the node's reply
    eventually("the audit has both SENDs with their replies", async || {
        let answered = audit_so_far(&audit)
            .iter()
            .filter(|r| r["event"] == "command" && r["sent"] == true && r["reply"].is_string())
            .count();
        (answered >= 2).then_some(())
    })
    .await;
    let (text, records) = audit_records(&audit);
    let sends: Vec<_> = records
        .iter()
        .filter(|r| r["event"] == "command" && r["sent"] == true)
        .map(|r| (r["command"].as_str().unwrap(), r["reply"].as_str()))
        .collect();
    assert_eq!(
        sends,
        [
            ("SEND 0,20,3,,,,-,1", Some("+OK")),
            ("SEND 0,10,6,,,,-,1,2", Some("+OK"))
        ],
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

/// A node that greets, answers `+OK` to every line and keeps what it received.
async fn recording_node() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (rd, mut wr) = tcp.into_split();
                wr.write_all(b"+OK - recorder\r\n").await.unwrap();
                let mut lines = BufReader::new(rd).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    kept.lock().unwrap().push(line);
                    if wr.write_all(b"+OK\r\n").await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, seen)
}

/// Every level against every command of the catalogue, over a real websocket: a command
/// reaches the node exactly when the level allows it, and is otherwise answered by the proxy
/// with the level the catalogue (the spec) gives it.
#[tokio::test]
async fn each_level_against_each_command() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    const LEVELS: [u8; 6] = [0, 1, 2, 4, 6, 15];

    let dir = tempfile(&format!("levels-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let hash = vscp_proxy::hash_password("pw").unwrap();
    let users: String = LEVELS
        .iter()
        .map(|l| format!("[[user]]\nname = \"l{l}\"\npassword_hash = \"{hash}\"\nlevel = {l}\n"))
        .collect();
    std::fs::write(dir.join("users.toml"), users).unwrap();
    let (port, seen) = recording_node().await;
    let p = Proxy::start(&[
        "--node",
        &format!("rec=127.0.0.1:{port}"),
        "--users",
        dir.join("users.toml").to_str().unwrap(),
    ]);
    let sample = |word: &str| match word {
        "SEND" => "SEND 0,20,3,,,,-,1".to_string(),
        "SFLT" | "SMSK" => format!("{word} 0,0,0,-"),
        "SETGUID" => format!("{word} FF:FF:FF:FF:FF:FF:FF:FE:00:00:00:00:00:00:00:01"),
        "INTERFACE" => "INTERFACE LIST".to_string(),
        "USER" | "PASS" => format!("{word} x"),
        w => w.to_string(),
    };
    let commands: Vec<_> = vscp_core::COMMANDS
        .iter()
        .filter(|c| !c.word.starts_with('+'))
        .collect();
    for level in LEVELS {
        let (_, cookie) = login(p.port, &format!("l{level}"), "pw").await;
        let mut ws = open(&p, "rec", &cookie.unwrap()).await;
        until_status(&mut ws).await; // greeting
        seen.lock().unwrap().clear();
        let mut expected = Vec::new();
        for c in &commands {
            let line = sample(c.word);
            ws.send(Message::text(line.clone())).await.unwrap();
            let reply = until_status(&mut ws).await;
            if c.privilege > level {
                let want = format!("-OK - Not allowed (needs privilege {})", c.privilege);
                assert_eq!(reply, [want], "level {level}: {line}");
            } else {
                assert_eq!(reply, ["+OK"], "level {level}: {line}");
                expected.push(line);
            }
        }
        assert_eq!(
            *seen.lock().unwrap(),
            expected,
            "level {level}: what reached the node"
        );
    }
}
