//! linktest: checks a VSCP link-protocol server against protocol.md, built on vscp-core's
//! `ClientSession` (main connection) plus a raw connection for hostile input and timing.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use vscp_core::{
    ClientConfig, ClientSession, Command, Event, Framed, LineBuf, Millis, NoReply, Output,
    ReceiveMode, Reply, SessionEvent, State, Status,
};

/// What to test.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// `HOST:PORT`.
    pub addr: String,
    /// Login, if the server wants one.
    pub credentials: Option<(String, String)>,
    /// SEND this many events for a throughput figure (0 = skip).
    pub throughput: u32,
    /// NOOP round trips for the reliability run (0 = skip).
    pub rounds: u32,
}

/// Result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    Pass,
    Fail,
    NotSupported,
}

/// One check with its evidence.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    /// The exchange (`C: …` / `S: …`) that the verdict rests on.
    pub exchange: Vec<String>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub server: String,
    pub checks: Vec<Check>,
    pub passed: usize,
    pub failed: usize,
    pub not_supported: usize,
}

impl Report {
    fn new(server: &str, checks: Vec<Check>) -> Report {
        let count = |o| checks.iter().filter(|c| c.outcome == o).count();
        Report {
            server: server.to_string(),
            passed: count(Outcome::Pass),
            failed: count(Outcome::Fail),
            not_supported: count(Outcome::NotSupported),
            checks,
        }
    }

    /// Human-readable report, failed exchanges included.
    pub(crate) fn text(&self) -> String {
        let mut s = format!("linktest {}\n", self.server);
        for c in &self.checks {
            let tag = match c.outcome {
                Outcome::Pass => "PASS",
                Outcome::Fail => "FAIL",
                Outcome::NotSupported => "n/s ",
            };
            s.push_str(&format!("{tag}  {:<20} {}\n", c.name, c.detail));
            if c.outcome == Outcome::Fail {
                for l in &c.exchange {
                    s.push_str(&format!("        {l}\n"));
                }
            }
        }
        s.push_str(&format!(
            "linktest: {} checks passed, {} failed, {} not supported\n",
            self.passed, self.failed, self.not_supported
        ));
        s
    }
}

/// Exchange lines longer than this are shortened in reports.
const SHOW: usize = 160;

fn shorten(prefix: &str, l: &str) -> String {
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
async fn connect(addr: &str) -> std::io::Result<TcpStream> {
    tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))?
}

/// A `ClientSession` over TCP that records the exchange.
struct Driver {
    tcp: TcpStream,
    session: ClientSession,
    start: Instant,
    events: Vec<SessionEvent>,
    log: Vec<String>,
    buf: Vec<u8>,
}

impl Driver {
    async fn connect(o: &Options) -> std::io::Result<Driver> {
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

    fn now(&self) -> Millis {
        Millis(self.start.elapsed().as_millis() as u64)
    }

    /// Pumps the session until `done` or `limit` passes.
    async fn pump(
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
    async fn run(&mut self, cmd: Command) -> (Result<Reply, String>, Vec<String>) {
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

    fn take_received(&mut self) -> Vec<Event> {
        SessionEvent::take_received(&mut self.events)
    }
}

/// A raw line connection for input the client session would never send.
struct Raw {
    tcp: TcpStream,
    lines: LineBuf,
    pending: std::collections::VecDeque<String>,
    log: Vec<String>,
}

impl Raw {
    async fn connect(addr: &str) -> std::io::Result<Raw> {
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

    async fn send(&mut self, line: &str) {
        self.log.push(shorten("C: ", line));
        let _ = self.tcp.write_all(format!("{line}\r\n").as_bytes()).await;
    }

    /// Next line within `limit`.
    async fn line(&mut self, limit: Duration) -> Option<String> {
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
    async fn reply(&mut self, limit: Duration) -> Option<(Vec<String>, Status)> {
        let mut data = Vec::new();
        loop {
            let l = self.line(limit).await?;
            match Status::parse(&l) {
                Some(s) => return Some((data, s)),
                None => data.push(l),
            }
        }
    }

    async fn login(&mut self, creds: &Option<(String, String)>) {
        if let Some((u, p)) = creds {
            self.send(&format!("USER {u}")).await;
            self.reply(Duration::from_secs(5)).await;
            self.send(&format!("PASS {p}")).await;
            self.reply(Duration::from_secs(5)).await;
        }
    }
}

fn check(
    name: &'static str,
    outcome: Outcome,
    detail: impl Into<String>,
    exchange: Vec<String>,
) -> Check {
    Check {
        name,
        outcome,
        detail: detail.into(),
        exchange,
    }
}

/// A command check: `-OK` is "not supported", a reply that does not parse is a failure.
fn decoded<T: std::fmt::Debug>(
    name: &'static str,
    r: Result<Reply, String>,
    ex: Vec<String>,
    f: impl Fn(&Reply) -> Result<T, String>,
) -> Check {
    match r {
        Ok(r) if r.ok => match f(&r) {
            Ok(v) => check(name, Outcome::Pass, format!("{v:?}"), ex),
            Err(e) => check(name, Outcome::Fail, e, ex),
        },
        Ok(r) => check(name, Outcome::NotSupported, format!("-OK {}", r.text), ex),
        Err(e) => check(name, Outcome::Fail, e, ex),
    }
}

/// Runs every check and returns the report.
pub(crate) async fn run(o: &Options) -> Report {
    let mut checks = Vec::new();
    let mut d = match Driver::connect(o).await {
        Ok(d) => d,
        Err(e) => {
            return Report::new(
                &o.addr,
                vec![check("connect", Outcome::Fail, e.to_string(), vec![])],
            );
        }
    };
    let ready = d
        .pump(Duration::from_secs(10), |evs| {
            evs.iter().any(|e| {
                matches!(
                    e,
                    SessionEvent::State(State::Ready) | SessionEvent::Closed(_)
                )
            })
        })
        .await;
    let greeted = d.events.iter().find_map(|e| {
        if let SessionEvent::Connected { banner } = e {
            Some(banner.clone())
        } else {
            None
        }
    });
    let closed = d.events.iter().find_map(|e| {
        if let SessionEvent::Closed(r) = e {
            Some(r.to_string())
        } else {
            None
        }
    });
    checks.push(match &greeted {
        Some(b) => check(
            "greeting",
            Outcome::Pass,
            format!("+OK after {} banner line(s)", b.len()),
            d.log.clone(),
        ),
        None => check(
            "greeting",
            Outcome::Fail,
            closed
                .clone()
                .unwrap_or("no +OK greeting within 5 s".into()),
            d.log.clone(),
        ),
    });
    if o.credentials.is_some() {
        checks.push(match (ready, &closed) {
            (true, None) => check("login", Outcome::Pass, "USER/PASS accepted", d.log.clone()),
            (_, reason) => check(
                "login",
                Outcome::Fail,
                reason.clone().unwrap_or("no reply".into()),
                d.log.clone(),
            ),
        });
    }
    if !ready || closed.is_some() {
        return Report::new(&o.addr, checks);
    }

    let (r, ex) = d.run(Command::Noop).await;
    checks.push(decoded("noop", r, ex, |_| Ok("+OK")));
    let (r, ex) = d.run(Command::Version).await;
    checks.push(decoded("vers", r, ex, |r| {
        r.version().map_err(|e| e.to_string())
    }));
    let (r, ex) = d.run(Command::Wcyd).await;
    let caps = r.as_ref().ok().and_then(|r| r.capabilities().ok());
    checks.push(decoded("wcyd", r, ex, |r| {
        r.capabilities()
            .map(|c| c.names())
            .map_err(|e| e.to_string())
    }));
    let (r, ex) = d.run(Command::ChId).await;
    checks.push(decoded("chid", r, ex, |r| {
        r.channel_id().map_err(|e| e.to_string())
    }));
    let (r, ex) = d.run(Command::GetGuid).await;
    checks.push(decoded("ggid", r, ex, |r| {
        r.guid().map(|g| g.to_string()).map_err(|e| e.to_string())
    }));
    let (r, ex) = d.run(Command::Stat).await;
    checks.push(decoded("stat", r, ex, |r| {
        r.stat().map(|_| "7 counters").map_err(|e| e.to_string())
    }));
    let (r, ex) = d.run(Command::Info).await;
    checks.push(decoded("info", r, ex, |r| {
        r.info().map(|i| i.error_str).map_err(|e| e.to_string())
    }));
    let (r, ex) = d.run(Command::Challenge).await;
    checks.push(decoded("challenge", r, ex, |r| {
        r.challenge()
            .map(|s| format!("{} hex digits", s.len()))
            .map_err(|e| e.to_string())
    }));
    let (r, ex) = d
        .run(Command::Interface(vscp_core::InterfaceArg::List))
        .await;
    let multi = caps.is_some_and(|c| c.has(61));
    checks.push(
        match decoded("interface", r, ex, |r| {
            r.interfaces()
                .map(|i| format!("{} interface(s)", i.len()))
                .map_err(|e| e.to_string())
        }) {
            c if c.outcome == Outcome::NotSupported && multi => Check {
                outcome: Outcome::Fail,
                detail: format!("WCYD says multi-interface but {}", c.detail),
                ..c
            },
            c => c,
        },
    );

    // filter that blocks everything, then the queue must stay empty
    let block: vscp_core::FilterPart = "0,65535,65535,-".parse().unwrap_or_default();
    let exact: vscp_core::FilterPart = "0,0xFFFF,0xFFFF,-".parse().unwrap_or_default();
    let mut ex = Vec::new();
    let mut ok = true;
    for cmd in [
        Command::SetFilter(block),
        Command::SetMask(exact),
        Command::ClrAll,
    ] {
        let (r, e) = d.run(cmd).await;
        ok &= r.is_ok_and(|r| r.ok);
        ex.extend(e);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (r, e) = d.run(Command::ChkData).await;
    ex.extend(e);
    checks.push(match (ok, r.map(|r| r.count())) {
        (true, Ok(Ok(0))) => check(
            "clra-cdta",
            Outcome::Pass,
            "queue empty after CLRA with a blocking filter",
            ex,
        ),
        (true, Ok(Ok(n))) => check(
            "clra-cdta",
            Outcome::Fail,
            format!("CDTA = {n} with a filter that blocks everything"),
            ex,
        ),
        (false, _) => check(
            "clra-cdta",
            Outcome::NotSupported,
            "SFLT/SMSK/CLRA refused",
            ex,
        ),
        (_, other) => check(
            "clra-cdta",
            Outcome::Fail,
            format!("bad CDTA reply: {other:?}"),
            ex,
        ),
    });

    // exact filter on class 20 type 3, then send type 4 and type 3: only type 3 may come back
    let mut ex = Vec::new();
    let pass_type3: vscp_core::FilterPart = "0,20,3,-".parse().unwrap_or_default();
    for cmd in [Command::SetFilter(pass_type3), Command::ClrAll] {
        ex.extend(d.run(cmd).await.1);
    }
    let marker = (d.start.elapsed().as_nanos() & 0xFF) as u8;
    let probe = |kind: u16| Event {
        class: 20,
        kind,
        data: vec![0, 0xA5, marker],
        ..Event::default()
    };
    let mut sent_ok = true;
    for kind in [4, 3] {
        let (r, e) = d.run(Command::Send(probe(kind))).await;
        sent_ok &= r.is_ok_and(|r| r.ok);
        ex.extend(e);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, e) = d.run(Command::Retr(Some(100))).await;
    ex.extend(e);
    let got: Vec<Event> = d
        .take_received()
        .into_iter()
        .filter(|e| e.data.get(1..) == Some(&[0xA5, marker][..]))
        .collect();
    let looped = got.iter().any(|e| e.kind == 3);
    checks.push(match (sent_ok, looped, got.iter().any(|e| e.kind == 4)) {
        (false, ..) => check(
            "send",
            Outcome::Fail,
            "SEND of a plain Level I event refused",
            ex.clone(),
        ),
        _ => check("send", Outcome::Pass, "SEND accepted", vec![]),
    });
    checks.push(match (looped, got.iter().any(|e| e.kind == 4)) {
        (_, true) => check(
            "filter",
            Outcome::Fail,
            "an event the filter/mask should block came through",
            ex.clone(),
        ),
        (true, false) => check(
            "filter",
            Outcome::Pass,
            "only the matching event came back",
            vec![],
        ),
        (false, false) => check(
            "filter",
            Outcome::NotSupported,
            "server does not loop sent events back",
            vec![],
        ),
    });
    checks.push(match got.iter().find(|e| e.kind == 3) {
        Some(e) if e.class == 20 && e.data == probe(3).data => check(
            "event-round-trip",
            Outcome::Pass,
            format!("came back as {e}"),
            vec![],
        ),
        Some(e) => check(
            "event-round-trip",
            Outcome::Fail,
            format!("came back changed: {e}"),
            ex.clone(),
        ),
        None => check(
            "event-round-trip",
            Outcome::NotSupported,
            "server does not loop sent events back",
            vec![],
        ),
    });
    let open: vscp_core::FilterPart = "0,0,0,-".parse().unwrap_or_default();
    for cmd in [Command::SetFilter(open), Command::SetMask(open)] {
        let _ = d.run(cmd).await;
    }

    // GUID forms and Level I over Level II in SEND
    let mut ex = Vec::new();
    let mut accepted = true;
    for line in [
        "0,20,3,,,,-,0,1,35",
        "0,20,3,,,,FF:FF:FF:FF:FF:FF:FF:FE:00:05:93:14:02:32:00:01,0,1,35",
        "0,20,3,,2001-11-02T18:00:01,,-,0,1,35",
    ] {
        if let Ok(ev) = line.parse::<Event>() {
            let (r, e) = d.run(Command::Send(ev)).await;
            accepted &= r.is_ok_and(|r| r.ok);
            ex.extend(e);
        }
    }
    checks.push(check(
        "guid-and-time-forms",
        if accepted {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        "SEND with `-`, full GUID, legacy datetime",
        ex,
    ));
    let iface: vscp_core::Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:00"
        .parse()
        .unwrap_or_default();
    let wrapped = Event {
        class: 20,
        kind: 3,
        data: vec![0, 1, 35],
        ..Event::default()
    }
    .level1_over_level2(iface, 1);
    let (r, ex) = d.run(Command::Send(wrapped)).await;
    checks.push(decoded("level1-over-level2", r, ex, |_| {
        Ok("class 532 accepted")
    }));

    if o.throughput > 0 {
        let t = Instant::now();
        let mut ok = 0u32;
        for i in 0..o.throughput {
            let ev = Event {
                class: 20,
                kind: 5,
                data: vec![(i >> 8) as u8, i as u8],
                ..Event::default()
            };
            ok += u32::from(d.run(Command::Send(ev)).await.0.is_ok_and(|r| r.ok));
        }
        let rate = f64::from(ok) / t.elapsed().as_secs_f64();
        let outcome = if ok == o.throughput {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        checks.push(check(
            "throughput",
            outcome,
            format!(
                "{ok}/{} SEND acknowledged, {rate:.0} SEND/s (one at a time)",
                o.throughput
            ),
            vec![],
        ));
    }
    if o.rounds > 0 {
        let mut times = Vec::with_capacity(o.rounds as usize);
        let mut failed = 0;
        for _ in 0..o.rounds {
            let t = Instant::now();
            if !d.run(Command::Noop).await.0.is_ok_and(|r| r.ok) {
                failed += 1;
            }
            times.push(t.elapsed());
        }
        times.sort();
        let p = |q: f64| {
            times
                .get(((times.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or_default()
        };
        let outcome = if failed == 0 {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        checks.push(check(
            "reliability",
            outcome,
            format!(
                "{} NOOP round trips, {failed} failed, p50 {:?}, p99 {:?}",
                o.rounds,
                p(0.5),
                p(0.99)
            ),
            vec![],
        ));
    }
    let _ = d.run(Command::Quit).await;

    checks.extend(raw_checks(o).await);
    Report::new(&o.addr, checks)
}

/// Checks that need input a correct client never sends, or raw timing.
async fn raw_checks(o: &Options) -> Vec<Check> {
    let mut checks = Vec::new();
    let t = Duration::from_secs(5);
    if o.credentials.is_some() {
        match Raw::connect(&o.addr).await {
            Ok(mut raw) => {
                raw.send("RETR 1").await;
                let verdict = match raw.reply(t).await {
                    Some((_, s)) if !s.ok => (Outcome::Pass, format!("-OK {}", s.text)),
                    Some(_) => (Outcome::Fail, "RETR answered without login".into()),
                    None => (Outcome::Fail, "no reply".into()),
                };
                checks.push(check("before-login", verdict.0, verdict.1, raw.log.clone()));
            }
            Err(e) => checks.push(check("before-login", Outcome::Fail, e.to_string(), vec![])),
        }
    }
    let mut raw = match Raw::connect(&o.addr).await {
        Ok(r) => r,
        Err(e) => {
            checks.push(check("raw-connect", Outcome::Fail, e.to_string(), vec![]));
            return checks;
        }
    };
    raw.login(&o.credentials).await;
    // each hostile line must get an answer (or be ignored) and leave the session working
    for (name, line, want_err) in [
        ("unknown-command", "XNOSUCHCOMMAND".to_string(), true),
        ("malformed-event", "SEND 0,20".to_string(), true),
        (
            "over-long-line",
            "SEND ".to_string() + &"1,".repeat(3000),
            false,
        ),
    ] {
        let mark = raw.log.len();
        raw.send(&line).await;
        raw.send("NOOP").await;
        let first = raw.reply(t).await;
        let verdict = match &first {
            Some((_, s)) if want_err && s.ok => {
                raw.reply(t).await; // the NOOP's reply is still to come
                (Outcome::Fail, format!("answered +OK {}", s.text))
            }
            Some((_, s)) if !want_err && s.ok => (
                Outcome::Pass,
                "line dropped silently; session still works".into(),
            ),
            Some(_) => match raw.reply(t).await {
                Some((_, s)) if s.ok => (Outcome::Pass, "-OK, and NOOP still answered".into()),
                _ => (
                    Outcome::Fail,
                    "session stopped answering after the bad line".into(),
                ),
            },
            None => (Outcome::Fail, "no reply".into()),
        };
        checks.push(check(
            name,
            verdict.0,
            verdict.1,
            raw.log.get(mark..).unwrap_or_default().to_vec(),
        ));
    }
    // receive loop: keep-alives at most ~3 s apart, QUITLOOP answered, session usable after
    let mark = raw.log.len();
    raw.send("RCVLOOP").await;
    let entered = raw.reply(t).await.is_some_and(|(_, s)| s.ok);
    let start = Instant::now();
    let mut last = start;
    let (mut longest, mut keepalives, mut lines) = (Duration::ZERO, 0, 0);
    while start.elapsed() < Duration::from_millis(4_500) {
        match raw
            .line(Duration::from_millis(4_500).saturating_sub(start.elapsed()))
            .await
        {
            Some(l) => {
                // any line proves the link alive; +OK lines are the keep-alives
                longest = longest.max(last.elapsed());
                last = Instant::now();
                lines += 1;
                keepalives += usize::from(l.starts_with("+OK"));
            }
            None => break,
        }
    }
    longest = longest.max(last.elapsed());
    let loop_log = raw
        .log
        .get(mark..)
        .unwrap_or_default()
        .iter()
        .take(20)
        .cloned()
        .collect::<Vec<_>>();
    checks.push(match (entered, lines) {
        (false, _) => check(
            "rcvloop",
            Outcome::NotSupported,
            "RCVLOOP refused",
            loop_log,
        ),
        (true, 0) => check(
            "rcvloop-keepalive",
            Outcome::Fail,
            "nothing (no +OK keep-alive) within 4.5 s",
            loop_log,
        ),
        (true, _) if longest > Duration::from_millis(3_500) => check(
            "rcvloop-keepalive",
            Outcome::Fail,
            format!(
                "{keepalives} keep-alives, silent for {:.1} s (> 3.5 s)",
                longest.as_secs_f64()
            ),
            loop_log,
        ),
        (true, _) => check(
            "rcvloop-keepalive",
            Outcome::Pass,
            format!(
                "{keepalives} keep-alives and {} events in 4.5 s, longest silence {:.1} s",
                lines - keepalives,
                longest.as_secs_f64()
            ),
            vec![],
        ),
    });
    if entered {
        let mark = raw.log.len();
        raw.send("QUITLOOP").await;
        raw.send("VERS").await;
        // skip stale +OKs until VERS's data line and status
        let mut ok = false;
        for _ in 0..1000 {
            match raw.line(t).await {
                Some(l) if l.split(',').count() >= 3 && l.split(',').count() <= 4 => {
                    ok = raw.reply(t).await.is_some_and(|(_, s)| s.ok);
                    break;
                }
                Some(_) => {}
                None => break,
            }
        }
        let verdict = if ok {
            (Outcome::Pass, "left the loop; VERS answered")
        } else {
            (Outcome::Fail, "no sane reply after QUITLOOP")
        };
        checks.push(check(
            "quitloop",
            verdict.0,
            verdict.1,
            raw.log.get(mark..).unwrap_or_default().to_vec(),
        ));
    }
    raw.send("QUIT").await;
    checks
}
