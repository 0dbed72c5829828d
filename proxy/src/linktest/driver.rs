//! The two connections linktest drives: a recording `ClientSession` and a raw line socket.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use vscp_core::{
    ClientConfig, ClientSession, Command, Event, Framed, LineBuf, Millis, NoReply, Output,
    ReceiveMode, Reply, SessionEvent, State, Status,
};

use super::Options;

/// Exchange lines longer than this are shortened in reports.
const SHOW: usize = 160;

pub(super) fn shorten(prefix: &str, l: &str) -> String {
    if l.len() > SHOW {
        format!(
            "{prefix}{}… ({} bytes)",
            l.get(..SHOW).unwrap_or(l),
            l.len()
        )
    } else {
        format!("{prefix}{l}")
    }
}

/// TCP connect with a 5 s limit.
pub(super) async fn connect(addr: &str) -> std::io::Result<TcpStream> {
    tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))?
}

/// A `ClientSession` over TCP that records the exchange.
pub(super) struct Driver {
    tcp: TcpStream,
    pub(super) session: ClientSession,
    pub(super) start: Instant,
    pub(super) events: Vec<SessionEvent>,
    pub(super) log: Vec<String>,
    buf: Vec<u8>,
}

impl Driver {
    pub(super) async fn connect(o: &Options) -> std::io::Result<Driver> {
        let tcp = connect(&o.addr).await?;
        let config = ClientConfig {
            credentials: o.credentials.clone(),
            receive: ReceiveMode::Off,
            ..ClientConfig::default()
        };
        Ok(Driver {
            tcp,
            session: ClientSession::new(config, Millis(0)),
            start: Instant::now(),
            events: Vec::new(),
            log: Vec::new(),
            buf: vec![0; 64 * 1024],
        })
    }

    /// A second session, greeted and logged in, or `None` when it could not get there.
    pub(super) async fn ready(o: &Options) -> Option<Driver> {
        let mut d = Driver::connect(o).await.ok()?;
        let is_end = |e: &SessionEvent| {
            matches!(
                e,
                SessionEvent::State(State::Ready) | SessionEvent::Closed(_)
            )
        };
        d.pump(Duration::from_secs(10), |evs| evs.iter().any(is_end))
            .await;
        let ready = d
            .events
            .iter()
            .any(|e| matches!(e, SessionEvent::State(State::Ready)));
        let closed = d
            .events
            .iter()
            .any(|e| matches!(e, SessionEvent::Closed(_)));
        (ready && !closed).then_some(d)
    }

    pub(super) fn now(&self) -> Millis {
        Millis(self.start.elapsed().as_millis() as u64)
    }

    /// Pumps the session until `done` or `limit` passes.
    pub(super) async fn pump(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&[SessionEvent]) -> bool,
    ) -> bool {
        let until = Instant::now() + limit;
        loop {
            while let Some(o) = self.session.poll_output() {
                match o {
                    Output::Transmit(l) => {
                        self.log.push(shorten("C: ", l.trim_end()));
                        if self.tcp.write_all(l.as_bytes()).await.is_err() {
                            self.session.handle_close("write failed");
                        }
                    }
                    Output::Event(e) => self.events.push(e),
                }
            }
            if done(&self.events) {
                return true;
            }
            let now = Instant::now();
            if now >= until {
                return false;
            }
            let wake = self
                .session
                .poll_timeout()
                .map_or(until, |t| self.start + Duration::from_millis(t.0))
                .min(until)
                .max(now);
            match tokio::time::timeout_at(wake.into(), self.tcp.read(&mut self.buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => self.session.handle_close("server closed the connection"),
                Ok(Ok(n)) => {
                    let now = self.now();
                    let bytes = self.buf.get(..n).unwrap_or_default().to_vec();
                    for l in String::from_utf8_lossy(&bytes).lines() {
                        self.log.push(shorten("S: ", l));
                    }
                    self.session.handle_bytes(&bytes, now);
                }
                Err(_) => self.session.handle_timeout(self.now()),
            }
        }
    }

    /// Sends a command; its reply (or why none came) and the exchange.
    pub(super) async fn run(&mut self, cmd: Command) -> (Result<Reply, String>, Vec<String>) {
        let mark = self.log.len();
        let id = match self.session.send(cmd, self.now()) {
            Ok(id) => id,
            Err(e) => return (Err(e.to_string()), Vec::new()),
        };
        let found = |evs: &[SessionEvent]| {
            evs.iter()
                .any(|e| matches!(e, SessionEvent::Reply { id: i, .. } if *i == id))
        };
        self.pump(Duration::from_secs(8), found).await;
        let pos = self
            .events
            .iter()
            .position(|e| matches!(e, SessionEvent::Reply { id: i, .. } if *i == id));
        let reply = match pos.map(|p| self.events.remove(p)) {
            Some(SessionEvent::Reply { reply: Ok(r), .. }) => Ok(r),
            Some(SessionEvent::Reply {
                reply: Err(NoReply::TimedOut),
                ..
            }) => Err("no reply in time".into()),
            Some(SessionEvent::Reply {
                reply: Err(NoReply::Closed),
                ..
            }) => Err("connection closed".into()),
            _ => Err("no reply".into()),
        };
        (reply, self.log.get(mark..).unwrap_or_default().to_vec())
    }

    pub(super) fn take_received(&mut self) -> Vec<Event> {
        SessionEvent::take_received(&mut self.events)
    }
}

/// A raw line connection for input the client session would never send.
pub(super) struct Raw {
    tcp: TcpStream,
    lines: LineBuf,
    pending: std::collections::VecDeque<String>,
    pub(super) log: Vec<String>,
}

impl Raw {
    pub(super) async fn connect(addr: &str) -> std::io::Result<Raw> {
        let tcp = connect(addr).await?;
        let mut raw = Raw {
            tcp,
            lines: LineBuf::default(),
            pending: Default::default(),
            log: Vec::new(),
        };
        raw.reply(Duration::from_secs(5)).await; // greeting
        Ok(raw)
    }

    pub(super) async fn send(&mut self, line: &str) {
        self.log.push(shorten("C: ", line));
        let _ = self.tcp.write_all(format!("{line}\r\n").as_bytes()).await;
    }

    /// Next line within `limit`.
    pub(super) async fn line(&mut self, limit: Duration) -> Option<String> {
        let until = tokio::time::Instant::now() + limit;
        loop {
            if let Some(l) = self.pending.pop_front() {
                self.log.push(shorten("S: ", &l));
                return Some(l);
            }
            let mut buf = [0u8; 8192];
            let n = match tokio::time::timeout_at(until, self.tcp.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => return None,
            };
            let pending = &mut self.pending;
            self.lines
                .push(buf.get(..n).unwrap_or_default(), |f| match f {
                    Framed::Line(l) if !l.trim().is_empty() => pending.push_back(l.into_owned()),
                    Framed::Line(_) => {}
                    Framed::TooLong => pending.push_back("<line too long>".into()),
                });
        }
    }

    /// Lines up to and including the next status line.
    pub(super) async fn reply(&mut self, limit: Duration) -> Option<(Vec<String>, Status)> {
        let mut data = Vec::new();
        loop {
            let l = self.line(limit).await?;
            match Status::parse(&l) {
                Some(s) => return Some((data, s)),
                None => data.push(l),
            }
        }
    }

    pub(super) async fn login(&mut self, creds: &Option<(String, String)>) {
        if let Some((u, p)) = creds {
            self.send(&format!("USER {u}")).await;
            self.reply(Duration::from_secs(5)).await;
            self.send(&format!("PASS {p}")).await;
            self.reply(Duration::from_secs(5)).await;
        }
    }
}
