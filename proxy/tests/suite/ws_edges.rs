//! The websocket side under odd browsers, over real sockets: lines before a close or a ping,
//! browsers that stop answering pings, fragments and protocol violations, bad frames and big
//! messages, and the close handshake while the browser still sends.

use std::time::{Duration, Instant};

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_tungstenite::{connect_async, tungstenite::Message};

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
