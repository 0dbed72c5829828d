//! Websocket clients of the proxy: a connection, its replies and close codes, a logged-in
//! vscp-core session over it, and frames written by hand.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};
use vscp_core::Command as Cmd;
use vscp_core::{ClientConfig, Event, Millis, ReceiveMode, SessionEvent};
use vscp_proxy::link_client::{LinkClient, Wire};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn connect(url: &str) -> Ws {
    connect_async(url).await.unwrap().0
}

/// Reads messages until the websocket closes; returns the close code and reason.
pub async fn close_of(ws: &mut Ws) -> (u16, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("close in time")
        {
            Some(Ok(Message::Close(Some(CloseFrame { code, reason })))) => {
                return (code.into(), reason.to_string());
            }
            Some(Ok(Message::Close(None))) | None => return (1005, String::new()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return (1006, e.to_string()),
        }
    }
}

/// The close code a fresh websocket to `url` ends with.
pub async fn close_code(url: &str) -> u16 {
    close_of(&mut connect(url).await).await.0
}

/// Does the status line that ends the next reply say `+OK`?
pub async fn answers_ok(ws: &mut Ws) -> bool {
    until_status(ws)
        .await
        .last()
        .is_some_and(|l| l.starts_with("+OK"))
}

/// Is a fresh connection greeted with `+OK`? False when it is refused (closed) instead.
pub async fn greeted(ws: &mut Ws) -> bool {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                if let Some(l) = t
                    .lines()
                    .find(|l| l.starts_with("+OK") || l.starts_with("-OK"))
                {
                    return l.starts_with("+OK");
                }
            }
            _ => return false,
        }
    }
}

/// Reads lines until one starts with `+OK`/`-OK`; returns all lines read.
pub async fn until_status(ws: &mut Ws) -> Vec<String> {
    until_statuses(ws, 1).await
}

/// Reads lines until `n` status lines were seen (replies may share one message).
pub async fn until_statuses(ws: &mut Ws, mut n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("reply in time")
            .unwrap()
            .unwrap();
        let Message::Text(t) = msg else {
            panic!("unexpected {msg:?}")
        };
        assert!(t.ends_with('\n'), "a message holds complete lines: {t:?}");
        for l in t.lines() {
            lines.push(l.to_string());
            if l.starts_with("+OK") || l.starts_with("-OK") {
                n -= 1;
                if n == 0 {
                    return lines;
                }
            }
        }
    }
}

pub async fn login(ws: &mut Ws) {
    until_status(ws).await; // greeting
    ws.send(Message::text("USER admin\nPASS secret"))
        .await
        .unwrap(); // two lines, one message
    let replies = until_statuses(ws, 2).await;
    assert_eq!(
        replies,
        [
            "+OK - User name accepted, password please",
            "+OK - Ready to work."
        ]
    );
}

/// The proxy's websocket as a link client's wire: the session's lines go out in one text
/// message (separated by `\n`), each text message's lines come in.
pub struct WsWire {
    pub ws: Ws,
    last: Vec<u8>,
}

impl WsWire {
    pub fn new(ws: Ws) -> WsWire {
        WsWire {
            ws,
            last: Vec::new(),
        }
    }
}

impl Wire for WsWire {
    async fn send(&mut self, lines: &str) -> std::io::Result<()> {
        let text: Vec<&str> = lines.lines().map(str::trim_end).collect();
        self.ws
            .send(Message::text(text.join("\n")))
            .await
            .map_err(std::io::Error::other)
    }

    async fn recv(&mut self) -> std::io::Result<&[u8]> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    self.last.clear();
                    self.last.extend_from_slice(t.as_bytes());
                    if !self.last.ends_with(b"\n") {
                        self.last.push(b'\n');
                    }
                    return Ok(&self.last);
                }
                Some(Ok(Message::Close(_))) | None => return Ok(&[]),
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                Some(Ok(_)) => {}
            }
        }
    }
}

/// A vscp-core client session over the proxy's websocket (logged in as the demo's admin),
/// keeping every event.
pub struct WsClient {
    pub client: LinkClient<WsWire>,
    pub events: Vec<SessionEvent>,
}

impl WsClient {
    pub async fn open(url: &str, receive: ReceiveMode) -> WsClient {
        let ws = connect(url).await;
        let config = ClientConfig {
            credentials: Some(("admin".into(), "secret".into())),
            receive,
            ..ClientConfig::default()
        };
        WsClient {
            client: LinkClient::new(WsWire::new(ws), config),
            events: Vec::new(),
        }
    }

    /// A client in the receive loop: opened, logged in, streaming.
    pub async fn streaming(url: &str) -> WsClient {
        let mut c = WsClient::open(url, ReceiveMode::Stream).await;
        c.pump_until(|evs| {
            evs.iter()
                .any(|e| matches!(e, SessionEvent::State(vscp_core::State::Streaming)))
        })
        .await;
        c
    }

    pub fn now(&self) -> Millis {
        self.client.now()
    }

    /// Pumps until `done` says so (or panics after 20 s).
    pub async fn pump_until(&mut self, mut done: impl FnMut(&[SessionEvent]) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let events = self.client.flush().await;
            self.events.extend(events);
            if done(&self.events) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out; events: {:?}",
                self.events.last()
            );
            self.client.input(Some(deadline)).await;
        }
    }

    pub async fn run(&mut self, cmd: &str) -> vscp_core::Reply {
        let now = self.now();
        let id = self
            .client
            .session
            .send(Cmd::parse_lenient(cmd).unwrap(), now)
            .unwrap();
        self.pump_until(|evs| {
            evs.iter()
                .any(|e| matches!(e, SessionEvent::Reply { id: i, .. } if *i == id))
        })
        .await;
        let pos = self
            .events
            .iter()
            .position(|e| matches!(e, SessionEvent::Reply { id: i, .. } if *i == id))
            .unwrap();
        match self.events.remove(pos) {
            SessionEvent::Reply { reply: Ok(r), .. } => r,
            other => panic!("{cmd}: {other:?}"),
        }
    }

    pub fn received(&self) -> Vec<&Event> {
        self.events
            .iter()
            .filter_map(|e| {
                if let SessionEvent::Received(ev) = e {
                    Some(ev)
                } else {
                    None
                }
            })
            .collect()
    }
}

/// A websocket frame sent as raw bytes after a handshake by hand (masked, as a client must).
pub async fn raw_ws(port: u16) -> TcpStream {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!(
        "GET /ws?target=demo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    // the response head byte by byte: the first frame (a node's greeting) may follow in the
    // same segment and must stay unread
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") && head.len() < 4096 {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

pub fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
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
pub async fn raw_frames(
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
pub async fn raw_close_code(tcp: &mut TcpStream) -> Option<u16> {
    let is_close = |(op, _): &(u8, Vec<u8>)| *op == 8;
    let frames = raw_frames(tcp, |f| f.iter().any(is_close)).await;
    let (_, payload) = frames.into_iter().find(is_close)?;
    Some(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]))
}
