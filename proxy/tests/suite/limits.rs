//! The proxy's limits hold under load: one IP cannot starve others before the upgrade, running
//! out of file descriptors, ten thousand connections in a burst, and one memory budget for
//! unfinished messages.

use std::time::{Duration, Instant};

use crate::common::*;
use futures_util::SinkExt;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};
use tokio_tungstenite::{MaybeTlsStream, client_async, tungstenite::Message};

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
    let log = tempfile("emfile.log");
    let p = Proxy::process_with(
        &["--demo", "--max-conns-per-ip", "1000"],
        std::fs::File::create(&log).unwrap(),
        "ulimit -n 200;",
    );
    let before = crate::common::cpu_seconds(p.pid());
    let mut held = Vec::new();
    for ip in ["127.0.0.1", "127.0.0.2", "127.0.0.3"] {
        held.extend(idle_from(ip, p.port, 200).await);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let used = crate::common::cpu_seconds(p.pid()) - before;
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

#[tokio::test]
async fn ten_thousand_connections_in_a_burst() {
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
    // the node's greeting first, so that what follows is the answer to the big message
    raw_frames(&mut again, |f| {
        f.iter()
            .any(|(op, t)| *op == 1 && t.windows(3).any(|w| w == b"+OK"))
    })
    .await;
    again.write_all(&big).await.unwrap();
    // read whole (the share came back: no 1013), then refused as the one over-long line it is
    assert_eq!(raw_close_code(&mut again).await, Some(4004));
}
