//! One tokio driver for a vscp-core `ClientSession`: over TCP to a link server, or over any
//! other [`Wire`] (the tests and benches use the proxy's websocket). The bridge, linktest, the
//! tests and the benches all drive their sessions with it.
//!
//! The loop is always the same: [`LinkClient::flush`] writes what the session transmits and
//! returns its events, [`LinkClient::input`] waits for bytes or the session's timer and hands
//! them in. `input` is cancel-safe, so it can sit in a `select!` beside other work.

use std::{
    future::Future,
    io,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use vscp_core::{ClientConfig, ClientSession, Millis, Output, SessionEvent};

/// Longest wait for input when the session has no timer running.
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// Lines longer than this are shortened in a transcript.
const SHOW: usize = 160;

/// What a session talks over.
pub trait Wire {
    /// Sends the lines the session transmits (each ending in CR LF).
    fn send(&mut self, lines: &str) -> impl Future<Output = io::Result<()>>;
    /// The next bytes from the server; empty when it closed. Cancel-safe.
    fn recv(&mut self) -> impl Future<Output = io::Result<&[u8]>>;
}

/// A TCP connection to a link server.
#[derive(Debug)]
pub struct Tcp {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Tcp {
    /// Connects within `limit`, without Nagle's delay.
    pub async fn connect(addr: &str, limit: Duration) -> io::Result<Tcp> {
        let stream = tokio::time::timeout(limit, TcpStream::connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        let _ = stream.set_nodelay(true);
        Ok(Tcp {
            stream,
            buf: vec![0; 64 * 1024],
        })
    }
}

impl Wire for Tcp {
    async fn send(&mut self, lines: &str) -> io::Result<()> {
        self.stream.write_all(lines.as_bytes()).await
    }

    async fn recv(&mut self) -> io::Result<&[u8]> {
        let n = self.stream.read(&mut self.buf).await?;
        Ok(self.buf.get(..n).unwrap_or_default())
    }
}

/// A client session and the wire it runs over.
pub struct LinkClient<W> {
    wire: W,
    /// The session (send commands through it).
    pub session: ClientSession,
    start: Instant,
    /// Every line each way (`C: …`, `S: …`, long ones shortened), when recording.
    pub transcript: Option<Vec<String>>,
}

impl LinkClient<Tcp> {
    /// Connects to a link server within `limit` and starts a session there.
    pub async fn connect(
        addr: &str,
        config: ClientConfig,
        limit: Duration,
    ) -> io::Result<LinkClient<Tcp>> {
        Ok(LinkClient::new(Tcp::connect(addr, limit).await?, config))
    }
}

impl<W: Wire> LinkClient<W> {
    /// A session over `wire` (its clock starts now).
    pub fn new(wire: W, config: ClientConfig) -> LinkClient<W> {
        LinkClient {
            wire,
            session: ClientSession::new(config, Millis(0)),
            start: Instant::now(),
            transcript: None,
        }
    }

    /// The session's clock: ms since the start.
    #[must_use]
    pub fn now(&self) -> Millis {
        Millis(self.start.elapsed().as_millis() as u64)
    }

    /// When the session's clock reads `t`.
    #[must_use]
    pub fn instant(&self, t: Millis) -> Instant {
        self.start + Duration::from_millis(t.0)
    }

    /// Writes everything the session has to transmit (in one write) and returns its events
    /// in order. A failed write closes the session (its `Closed` event is among those returned).
    pub async fn flush(&mut self) -> Vec<SessionEvent> {
        let mut events = Vec::new();
        loop {
            let mut out = String::new();
            while let Some(o) = self.session.poll_output() {
                match o {
                    Output::Transmit(l) => out.push_str(&l),
                    Output::Event(e) => events.push(e),
                }
            }
            if out.is_empty() {
                return events;
            }
            if let Some(t) = &mut self.transcript {
                t.extend(out.lines().map(|l| shorten("C: ", l)));
            }
            if let Err(e) = self.wire.send(&out).await {
                self.session.handle_close(&format!("write failed: {e}"));
            }
        }
    }

    /// Waits for bytes from the server or the session's timer (at most until `until`) and
    /// hands them to the session; false once the server has closed the connection.
    pub async fn input(&mut self, until: Option<Instant>) -> bool {
        let timer = self
            .session
            .poll_timeout()
            .map_or(Instant::now() + IDLE_WAIT, |t| self.instant(t));
        let wake = until.map_or(timer, |u| u.min(timer));
        match tokio::time::timeout_at(wake.into(), self.wire.recv()).await {
            Ok(Ok(bytes)) if !bytes.is_empty() => {
                let now = Millis(self.start.elapsed().as_millis() as u64);
                if let Some(t) = &mut self.transcript {
                    let text = String::from_utf8_lossy(bytes);
                    t.extend(text.lines().map(|l| shorten("S: ", l)));
                }
                self.session.handle_bytes(bytes, now);
                true
            }
            Ok(Ok(_)) => {
                self.session.handle_close("server closed the connection");
                false
            }
            Ok(Err(e)) => {
                self.session.handle_close(&format!("read failed: {e}"));
                false
            }
            Err(_) => {
                let now = self.now();
                self.session.handle_timeout(now);
                true
            }
        }
    }

    /// Flushes and takes input until `done` holds for an event or `limit` passes; returns
    /// every event seen, and whether `done` was met.
    pub async fn pump(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&SessionEvent) -> bool,
    ) -> (Vec<SessionEvent>, bool) {
        let until = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let events = self.flush().await;
            let met = events.iter().any(&mut done);
            seen.extend(events);
            if met {
                return (seen, true);
            }
            if Instant::now() >= until || !self.input(Some(until)).await {
                seen.extend(self.flush().await);
                let met = seen.iter().any(&mut done);
                return (seen, met);
            }
        }
    }

    /// Sends `QUIT` (best effort) before the connection is dropped.
    pub async fn quit(&mut self) {
        let _ = self.wire.send("QUIT\r\n").await;
    }
}

/// `prefix` and the line, cut after [`SHOW`] bytes (with its length said).
#[must_use]
pub fn shorten(prefix: &str, l: &str) -> String {
    let l = l.trim_end();
    if l.len() > SHOW {
        let mut end = SHOW;
        while !l.is_char_boundary(end) {
            end -= 1;
        }
        format!("{prefix}{}… ({} bytes)", l.get(..end).unwrap_or(l), l.len())
    } else {
        format!("{prefix}{l}")
    }
}
