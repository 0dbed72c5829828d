//! The two connections linktest drives: a recording `ClientSession` and a raw line socket.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use vscp_core::{
    ClientConfig, Command, Event, Framed, LineBuf, NoReply, ReceiveMode, Reply, SessionEvent,
    State, Status,
};

use super::Options;
pub(super) use crate::link_client::shorten;
use crate::link_client::{LinkClient, Tcp};

/// How long a connection may take.
const CONNECT_LIMIT: Duration = Duration::from_secs(5);

/// TCP connect with a 5 s limit.
pub(super) async fn connect(addr: &str) -> std::io::Result<TcpStream> {
    tokio::time::timeout(CONNECT_LIMIT, TcpStream::connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))?
}

/// A `ClientSession` over TCP that records the exchange and keeps every event.
pub(super) struct Driver {
    client: LinkClient<Tcp>,
    pub(super) events: Vec<SessionEvent>,
}

impl Driver {
    pub(super) async fn connect(o: &Options) -> std::io::Result<Driver> {
        let config = ClientConfig {
            credentials: o.credentials.clone(),
            receive: ReceiveMode::Off,
            ..ClientConfig::default()
        };
        let mut client = LinkClient::connect(&o.addr, config, CONNECT_LIMIT).await?;
        client.transcript = Some(Vec::new());
        Ok(Driver {
            client,
            events: Vec::new(),
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

    /// The exchange so far (`C: …` / `S: …`).
    pub(super) fn log(&self) -> &[String] {
        self.client.transcript.as_deref().unwrap_or_default()
    }

    /// A number that differs between runs (to mark this run's events).
    pub(super) fn marker(&self) -> u8 {
        (self.client.now().0 & 0xFF) as u8 ^ (std::process::id() & 0xFF) as u8
    }

    /// Pumps the session until `done` (over every event so far) or `limit` passes.
    pub(super) async fn pump(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&[SessionEvent]) -> bool,
    ) -> bool {
        let until = std::time::Instant::now() + limit;
        loop {
            let events = self.client.flush().await;
            self.events.extend(events);
            if done(&self.events) {
                return true;
            }
            if std::time::Instant::now() >= until || !self.client.input(Some(until)).await {
                let events = self.client.flush().await;
                self.events.extend(events);
                return done(&self.events);
            }
        }
    }

    /// Sends a command; its reply (or why none came) and the exchange.
    pub(super) async fn run(&mut self, cmd: Command) -> (Result<Reply, String>, Vec<String>) {
        let mark = self.log().len();
        let now = self.client.now();
        let id = match self.client.session.send(cmd, now) {
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
        (reply, self.log().get(mark..).unwrap_or_default().to_vec())
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
