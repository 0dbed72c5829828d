//! Console state and its reducer: no html, no browser calls, so it runs under `cargo test`.
//! The component stamps each action with the time; the link sends what lands in `outbox`.

use std::collections::{HashMap, VecDeque};

use vscp_core::{
    Capabilities, ClientConfig, ClientSession, CloseReason, Command, CommandId, Event, Filter,
    FilterPart, Guid, Info, Interface, Measurement, Millis, NoReply, Output, ReceiveMode, Reply,
    SessionEvent, Stat, State, Version, names,
    registers::{Discovery, WhoIsThere},
};

/// Events kept in the log (oldest dropped first).
pub const LOG_CAPACITY: usize = 100_000;
/// Lines kept in the command console transcript.
const TRANSCRIPT_CAPACITY: usize = 2_000;
/// Lines longer than this may be refused by small servers (protocol.md §1).
pub const SMALL_SERVER_LINE: usize = 320;

/// What the user typed in the connection form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnSettings {
    /// Proxy base URL, e.g. `http://127.0.0.1:8080` (ws URL derived from it).
    pub proxy: String,
    /// Target name from `/api/targets`.
    pub target: String,
    /// Login user (empty: no login).
    pub user: String,
    /// Login password.
    pub password: String,
    /// Proxy token, if the proxy wants one.
    pub token: String,
}

impl ConnSettings {
    /// The websocket URL for these settings.
    #[must_use]
    pub fn ws_url(&self) -> String {
        let base = self.proxy.trim_end_matches('/');
        let base = base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        let mut url = format!("{base}/ws?target={}", encode(&self.target));
        if !self.token.is_empty() {
            url.push_str(&format!("&token={}", encode(&self.token)));
        }
        url
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The connection as the status bar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// Not connected (with the last reason, if any).
    Disconnected(Option<String>),
    /// Websocket opening.
    Connecting,
    /// Connected; the session's state.
    Session(State),
    /// Waiting to reconnect at this time (attempt number).
    Reconnecting {
        at: Millis,
        attempt: u32,
        reason: String,
    },
}

/// One row of the event log.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Sequence number in this console (1, 2, …).
    pub seq: u64,
    /// Receive time (ms since the epoch, from the browser clock).
    pub received_ms: u64,
    /// The event.
    pub event: Event,
    /// Decoded measurement text (`21.5 °C`), if any.
    pub decoded: Option<String>,
}

/// Client-side filter: empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewFilter {
    /// Class number.
    pub class: Option<u16>,
    /// Type number.
    pub kind: Option<u16>,
    /// Origin nickname (GUID byte 15).
    pub nickname: Option<u8>,
    /// Highest priority number shown (0 = only highest).
    pub max_priority: Option<u8>,
    /// Case-insensitive text found anywhere in the row.
    pub text: String,
}

impl ViewFilter {
    /// Does the row pass?
    #[must_use]
    pub fn matches(&self, row: &Row) -> bool {
        let e = &row.event;
        self.class.is_none_or(|c| c == e.class)
            && self.kind.is_none_or(|t| t == e.kind)
            && self.nickname.is_none_or(|n| n == e.guid.nickname())
            && self.max_priority.is_none_or(|p| e.priority() <= p)
            && (self.text.is_empty()
                || row_text(row)
                    .to_lowercase()
                    .contains(&self.text.to_lowercase()))
    }

    /// Is anything set?
    #[must_use]
    pub fn is_active(&self) -> bool {
        *self != ViewFilter::default()
    }
}

/// Everything searchable about a row, in one line.
#[must_use]
pub fn row_text(row: &Row) -> String {
    let e = &row.event;
    format!(
        "{} {} {} {} {} {}",
        class_label(e.class),
        type_label(e.class, e.kind),
        e.guid,
        hex(&e.data),
        row.decoded.as_deref().unwrap_or_default(),
        e
    )
}

/// `CLASS1.INFORMATION (20)`.
#[must_use]
pub fn class_label(class: u16) -> String {
    match names::class_name(class) {
        Some(n) => format!("{n} ({class})"),
        None => format!("{class}"),
    }
}

/// `ON (3)`.
#[must_use]
pub fn type_label(class: u16, kind: u16) -> String {
    match names::type_name(class, kind) {
        Some(n) => format!("{n} ({kind})"),
        None => format!("{kind}"),
    }
}

/// Data bytes as `0A 1B …`.
#[must_use]
pub fn hex(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len() * 3);
    for (i, b) in data.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02X}"));
    }
    s
}

/// The event log: a capped ring with counters.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    /// Rows, oldest first.
    pub rows: VecDeque<Row>,
    /// Events received since the start.
    pub total: u64,
    /// Rows pushed out by the cap.
    pub evicted: u64,
    /// Events received while paused (not shown).
    pub paused_skipped: u64,
    /// Receive times of the last second's events, for events/s.
    recent: VecDeque<u64>,
}

impl EventLog {
    /// Appends a row, evicting the oldest beyond [`LOG_CAPACITY`].
    pub fn push(&mut self, row: Row) {
        self.recent.push_back(row.received_ms);
        while self
            .recent
            .front()
            .is_some_and(|t| *t + 1_000 < row.received_ms)
        {
            self.recent.pop_front();
        }
        if self.rows.len() >= LOG_CAPACITY {
            self.rows.pop_front();
            self.evicted += 1;
        }
        self.rows.push_back(row);
    }

    /// Events per second over the last second (as of `now_ms`).
    #[must_use]
    pub fn rate(&self, now_ms: u64) -> usize {
        self.recent.iter().filter(|t| **t + 1_000 >= now_ms).count()
    }
}

/// One entry of the command console transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transcript {
    /// A command the user sent.
    Sent(String),
    /// A reply line (data or status) and whether it is an error.
    Reply(String, bool),
    /// A note from the console itself.
    Note(String),
}

/// What the server panel shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerInfo {
    /// `VERS`.
    pub version: Option<Version>,
    /// `WCYD`.
    pub caps: Option<Capabilities>,
    /// `INTERFACE LIST`.
    pub interfaces: Vec<Interface>,
    /// `CHID`.
    pub channel: Option<u32>,
    /// `GGID`.
    pub guid: Option<Guid>,
    /// `STAT`.
    pub stat: Option<Stat>,
    /// `INFO`.
    pub info: Option<Info>,
    /// Greeting banner.
    pub banner: Vec<String>,
}

/// Why a command was sent (so its reply goes to the right place).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Purpose {
    Console,
    Server,
    SendEvent,
    ServerFilter,
}

/// Input to the reducer.
#[derive(Clone, Debug)]
pub enum Action {
    /// Connect with these settings.
    Connect(ConnSettings),
    /// The websocket opened.
    Opened,
    /// A websocket text message (one or more lines).
    Message(String),
    /// The websocket closed with this code and reason.
    Closed(u16, String),
    /// User pressed disconnect.
    Disconnect,
    /// Periodic tick (timeouts, reconnect, counters).
    Tick,
    /// A raw command line from the command console.
    Command(String),
    /// Send this event.
    SendEvent(Event),
    /// Apply a server-side filter (SFLT + SMSK).
    ServerFilter(Filter),
    /// Refresh the server panel.
    RefreshServer,
    /// Switch streaming/polling.
    ReceiveMode(ReceiveMode),
    /// Pause or resume the log.
    TogglePause,
    /// Clear the log.
    Clear,
    /// Replace the log with imported rows (offline view).
    Import(Vec<Row>),
}

/// The whole console.
#[derive(Debug, Default)]
pub struct Console {
    /// Current settings (kept for reconnects).
    pub settings: ConnSettings,
    /// Link state for the status bar.
    pub link: Link,
    /// The session while connected.
    session: Option<ClientSession>,
    /// Event log.
    pub log: EventLog,
    /// Log paused?
    pub paused: bool,
    /// Command console transcript.
    pub transcript: VecDeque<Transcript>,
    /// Server panel.
    pub server: ServerInfo,
    /// Events sent from the send form (newest last).
    pub sent: Vec<Event>,
    /// Errors and notices for the user (newest last).
    pub notices: VecDeque<String>,
    /// Lines to send on the websocket; the link drains it.
    pub outbox: Vec<String>,
    /// Set when the link must open a websocket to this URL.
    pub open: Option<String>,
    /// Set when the link must close the websocket.
    pub close: bool,
    /// Receive mode the user chose.
    pub mode: ReceiveMode,
    /// Node names learned from who-is-there answers (MDF file name), by GUID.
    pub node_names: HashMap<Guid, String>,
    whois: HashMap<Guid, WhoIsThere>,
    pending: Vec<(CommandId, Purpose)>,
    receiving: bool,
    user_closed: bool,
    attempt: u32,
    next_seq: u64,
    /// Bumped on every change the view must show.
    pub version: u64,
}

impl Default for Link {
    fn default() -> Self {
        Link::Disconnected(None)
    }
}

/// Words for a websocket close code from the proxy.
#[must_use]
pub fn close_reason(code: u16, reason: &str) -> String {
    let what = match code {
        4001 => "target not allowed by the proxy",
        4002 => "node unreachable",
        4003 => "node closed the connection",
        4004 => "line too long",
        4005 => "closed after idle time-out",
        4006 => "proxy token missing or wrong",
        4007 => "this page's origin is not allowed by the proxy",
        4008 => "proxy shutting down",
        4009 => "binary message refused",
        4010 => "bad websocket frame",
        4011 => "too many connections to the proxy",
        4012 => "node connection failed",
        1000 => "closed",
        1006 => "proxy unreachable or connection lost",
        _ => "connection closed",
    };
    if reason.is_empty() || code == 1006 {
        what.to_string()
    } else {
        format!("{what} ({reason})")
    }
}

/// Back-off before reconnect attempt `n` (1 s, 2 s, 4 s … 30 s).
#[must_use]
pub fn backoff_ms(attempt: u32) -> u64 {
    (1_000u64 << attempt.min(5)).min(30_000)
}

impl Console {
    /// Applies one action at time `now` (ms since the epoch).
    pub fn apply(&mut self, now: Millis, action: Action) {
        self.version += 1;
        match action {
            Action::Connect(s) => {
                self.settings = s;
                self.user_closed = false;
                self.attempt = 0;
                self.start(now);
            }
            Action::Opened => {
                let credentials = (!self.settings.user.is_empty())
                    .then(|| (self.settings.user.clone(), self.settings.password.clone()));
                // receiving starts once the server panel's queries are queued (see `on_event`)
                let config = ClientConfig {
                    credentials,
                    receive: ReceiveMode::Off,
                    ..ClientConfig::default()
                };
                self.receiving = false;
                self.session = Some(ClientSession::new(config, now));
                self.link = Link::Session(State::Greeting);
                self.server = ServerInfo::default();
            }
            Action::Message(text) => {
                if let Some(s) = self.session.as_mut() {
                    for line in text.split('\n') {
                        s.handle_line(line, now);
                    }
                }
            }
            Action::Closed(code, reason) => {
                let why = close_reason(code, &reason);
                if let Some(s) = self.session.as_mut() {
                    s.handle_close(&why);
                }
                self.drain(now);
                self.session = None;
                self.pending.clear();
                self.lost(now, why);
            }
            Action::Disconnect => {
                self.user_closed = true;
                if let Some(s) = self.session.as_mut() {
                    let _ = s.send(Command::Quit, now);
                }
                self.close = true;
                self.session = None;
                self.link = Link::Disconnected(Some("disconnected by you".into()));
            }
            Action::Tick => {
                if let Some(s) = self.session.as_mut() {
                    s.handle_timeout(now);
                }
                if let Link::Reconnecting { at, .. } = self.link
                    && now >= at
                {
                    self.start(now);
                }
            }
            Action::Command(line) => self.command(line, now),
            Action::SendEvent(ev) => {
                let line = ev.to_string();
                if line.len() + 5 > SMALL_SERVER_LINE {
                    self.notice(format!("SEND line is {} bytes: small servers refuse lines over {SMALL_SERVER_LINE}", line.len() + 5));
                }
                if self.submit(Command::Send(ev.clone()), Purpose::SendEvent, now) {
                    self.sent.push(ev);
                    if self.sent.len() > 50 {
                        self.sent.remove(0);
                    }
                }
            }
            Action::ServerFilter(f) => {
                self.submit(Command::SetFilter(f.filter), Purpose::ServerFilter, now);
                self.submit(Command::SetMask(f.mask), Purpose::ServerFilter, now);
            }
            Action::RefreshServer => {
                for c in [
                    Command::Version,
                    Command::Wcyd,
                    Command::Interface(vscp_core::InterfaceArg::List),
                    Command::ChId,
                    Command::GetGuid,
                    Command::Stat,
                    Command::Info,
                ] {
                    self.submit(c, Purpose::Server, now);
                }
            }
            Action::ReceiveMode(m) => self.apply_mode(m, now),
            Action::TogglePause => self.paused = !self.paused,
            Action::Clear => {
                self.log = EventLog::default();
            }
            Action::Import(rows) => {
                self.log = EventLog::default();
                for r in rows {
                    self.log.total += 1;
                    self.log.push(r);
                }
            }
        }
        self.drain(now);
    }

    /// Takes the lines to send as one websocket message.
    pub fn take_outbox(&mut self) -> Option<String> {
        (!self.outbox.is_empty()).then(|| std::mem::take(&mut self.outbox).join("\n"))
    }

    fn start(&mut self, _now: Millis) {
        self.link = Link::Connecting;
        self.open = Some(self.settings.ws_url());
    }

    fn lost(&mut self, now: Millis, why: String) {
        if self.user_closed {
            // keep the reason already shown (e.g. "login failed"): the close that follows says less
            if !matches!(self.link, Link::Disconnected(Some(_))) {
                self.link = Link::Disconnected(Some(why));
            }
            return;
        }
        // refusals that a retry cannot fix: stop and say why
        let permanent = ["not allowed", "token", "origin", "login failed"]
            .iter()
            .any(|w| why.contains(w));
        if permanent {
            self.notice(why.clone());
            self.link = Link::Disconnected(Some(why));
            return;
        }
        self.attempt += 1;
        let at = now.plus(backoff_ms(self.attempt - 1));
        self.link = Link::Reconnecting {
            at,
            attempt: self.attempt,
            reason: why,
        };
    }

    fn notice(&mut self, text: String) {
        self.notices.push_back(text);
        if self.notices.len() > 20 {
            self.notices.pop_front();
        }
    }

    fn transcript(&mut self, t: Transcript) {
        self.transcript.push_back(t);
        if self.transcript.len() > TRANSCRIPT_CAPACITY {
            self.transcript.pop_front();
        }
    }

    fn command(&mut self, line: String, now: Millis) {
        let line = line.trim().to_string();
        if line.is_empty() {
            return;
        }
        self.transcript(Transcript::Sent(line.clone()));
        match Command::parse_lenient(&line) {
            Ok(Command::RcvLoop) => {
                self.transcript(Transcript::Note("switched to streaming (RCVLOOP)".into()));
                self.apply_mode(ReceiveMode::Stream, now);
            }
            Ok(Command::QuitLoop) => {
                self.transcript(Transcript::Note("switched to polling (QUITLOOP)".into()));
                self.apply_mode(ReceiveMode::Poll, now);
            }
            Ok(cmd) => {
                self.submit(cmd, Purpose::Console, now);
            }
            Err(e) => self.transcript(Transcript::Reply(format!("not sent: {e}"), true)),
        }
    }

    fn apply_mode(&mut self, m: ReceiveMode, now: Millis) {
        self.mode = m;
        if let Some(s) = self.session.as_mut() {
            s.set_receive_mode(m, now);
        }
    }

    fn submit(&mut self, cmd: Command, purpose: Purpose, now: Millis) -> bool {
        let Some(s) = self.session.as_mut() else {
            let msg = "not connected".to_string();
            if purpose == Purpose::Console {
                self.transcript(Transcript::Reply(msg, true));
            } else {
                self.notice(msg);
            }
            return false;
        };
        match s.send(cmd, now) {
            Ok(id) => {
                self.pending.push((id, purpose));
                true
            }
            Err(e) => {
                self.notice(e.to_string());
                false
            }
        }
    }

    fn drain(&mut self, now: Millis) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let mut outs = Vec::new();
        while let Some(o) = s.poll_output() {
            outs.push(o);
        }
        for o in outs {
            match o {
                Output::Transmit(line) => self.outbox.push(line.trim_end().to_string()),
                Output::Event(e) => self.on_event(e, now),
            }
        }
    }

    fn on_event(&mut self, e: SessionEvent, now: Millis) {
        match e {
            SessionEvent::Connected { banner } => {
                self.server.banner = banner;
                self.attempt = 0;
            }
            SessionEvent::State(st) => {
                self.link = Link::Session(st);
                if st == State::Ready && !self.receiving {
                    self.receiving = true;
                    self.apply(now, Action::RefreshServer);
                    self.apply_mode(self.mode, now);
                }
            }
            SessionEvent::Received(event) => {
                self.log.total += 1;
                if self.paused {
                    self.log.paused_skipped += 1;
                    return;
                }
                self.learn(&event);
                self.next_seq += 1;
                let decoded = Measurement::from_event(&event).ok().map(|m| m.display());
                self.log.push(Row {
                    seq: self.next_seq,
                    received_ms: now.0,
                    event,
                    decoded,
                });
            }
            SessionEvent::Reply { id, command, reply } => {
                let purpose = self
                    .pending
                    .iter()
                    .position(|(i, _)| *i == id)
                    .map(|i| self.pending.remove(i).1);
                match (purpose, reply) {
                    (Some(Purpose::Console), Ok(r)) => {
                        for l in &r.lines {
                            self.transcript(Transcript::Reply(l.clone(), false));
                        }
                        let status = if r.ok { "+OK" } else { "-OK" };
                        let text = if r.text.is_empty() {
                            status.to_string()
                        } else {
                            format!("{status} - {}", r.text)
                        };
                        self.transcript(Transcript::Reply(text, !r.ok));
                    }
                    (Some(Purpose::Console), Err(e)) => {
                        self.transcript(Transcript::Reply(e.to_string(), true))
                    }
                    (Some(Purpose::Server), Ok(r)) => self.server_reply(&command, &r),
                    (Some(Purpose::SendEvent | Purpose::ServerFilter), Ok(r)) if !r.ok => {
                        self.notice(format!(
                            "{} refused by the server: {}",
                            command.word(),
                            r.text
                        ));
                    }
                    (Some(Purpose::ServerFilter), Ok(_))
                        if matches!(command, Command::SetMask(_)) =>
                    {
                        self.notice("server filter applied".into());
                    }
                    (Some(_), Err(NoReply::TimedOut)) => {
                        self.notice(format!("{}: no reply in time", command.word()))
                    }
                    _ => {}
                }
            }
            SessionEvent::ProtocolError(p) => self.notice(p.to_string()),
            SessionEvent::Closed(reason) => {
                let why = reason.to_string();
                if matches!(
                    reason,
                    CloseReason::LoginFailed(_) | CloseReason::Refused(_)
                ) {
                    self.user_closed = true; // retrying will not help
                    self.notice(why.clone());
                }
                self.close = true;
                self.link = Link::Disconnected(Some(why));
            }
        }
    }

    /// Collects who-is-there frames; a complete set names the node after its MDF file.
    fn learn(&mut self, event: &Event) {
        if let Some(Discovery::WhoIsThereFrame { index, bytes, .. }) = Discovery::from_event(event)
        {
            let frames = self.whois.entry(event.guid).or_default();
            frames.add(index, bytes);
            if let Some((_, url)) = frames.complete() {
                let name = url.rsplit('/').next().unwrap_or(&url);
                let name = name.split('.').next().unwrap_or(name);
                if !name.is_empty() {
                    self.node_names.insert(event.guid, name.to_string());
                }
            }
        }
    }

    fn server_reply(&mut self, command: &Command, r: &Reply) {
        if !r.ok {
            return;
        }
        let s = &mut self.server;
        match command {
            Command::Version => s.version = r.version().ok(),
            Command::Wcyd => s.caps = r.capabilities().ok(),
            Command::Interface(_) => s.interfaces = r.interfaces().unwrap_or_default(),
            Command::ChId => s.channel = r.channel_id().ok(),
            Command::GetGuid => s.guid = r.guid().ok(),
            Command::Stat => s.stat = r.stat().ok(),
            Command::Info => s.info = r.info().ok(),
            _ => {}
        }
    }
}

/// A filter that passes only `class`/`type` (0 = any) — what the server-filter form builds.
#[must_use]
pub fn server_filter(class: Option<u16>, kind: Option<u16>, priority: Option<u8>) -> Filter {
    let mut f = Filter::PASS_ALL;
    if let Some(c) = class {
        f.filter.class = c;
        f.mask.class = 0xFFFF;
    }
    if let Some(t) = kind {
        f.filter.kind = t;
        f.mask.kind = 0xFFFF;
    }
    if let Some(p) = priority {
        f.filter = FilterPart {
            priority: p,
            ..f.filter
        };
        f.mask.priority = 7;
    }
    f
}

/// CSV of rows: time, priority, class, type, GUID, data, decoded, raw line.
#[must_use]
pub fn to_csv<'a>(rows: impl Iterator<Item = &'a Row>) -> String {
    let mut out = String::from(
        "seq,received_ms,priority,class,class_name,type,type_name,guid,data,decoded,line\n",
    );
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for r in rows {
        let e = &r.event;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            r.seq,
            r.received_ms,
            e.priority(),
            e.class,
            q(&names::class_name(e.class).unwrap_or_default()),
            e.kind,
            q(names::type_name(e.class, e.kind).unwrap_or_default()),
            e.guid,
            q(&hex(&e.data)),
            q(r.decoded.as_deref().unwrap_or_default()),
            q(&e.to_string())
        ));
    }
    out
}

/// JSON of rows: `[{"seq":…,"received_ms":…,"line":"…","decoded":…}]`; reads back with [`from_json`].
#[must_use]
pub fn to_json<'a>(rows: impl Iterator<Item = &'a Row>) -> String {
    let items: Vec<serde_json::Value> = rows
        .map(|r| {
            serde_json::json!({
                "seq": r.seq,
                "received_ms": r.received_ms,
                "class": r.event.class,
                "type": r.event.kind,
                "guid": r.event.guid.to_string(),
                "data": r.event.data,
                "decoded": r.decoded,
                "line": r.event.to_string(),
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// Reads a JSON export back into rows; bad entries are reported, good ones kept.
pub fn from_json(text: &str) -> Result<(Vec<Row>, usize), String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a JSON log: {e}"))?;
    let items = v.as_array().ok_or("not a JSON log: expected an array")?;
    let mut rows = Vec::new();
    let mut bad = 0;
    for it in items {
        let line = it.get("line").and_then(|l| l.as_str()).unwrap_or_default();
        match line.parse::<Event>() {
            Ok(event) => rows.push(Row {
                seq: it
                    .get("seq")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0),
                received_ms: it
                    .get("received_ms")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0),
                decoded: Measurement::from_event(&event).ok().map(|m| m.display()),
                event,
            }),
            Err(_) => bad += 1,
        }
    }
    Ok((rows, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connected() -> Console {
        let mut c = Console::default();
        c.apply(
            Millis(0),
            Action::Connect(ConnSettings {
                proxy: "http://h:1".into(),
                target: "demo".into(),
                user: "admin".into(),
                password: "secret".into(),
                token: String::new(),
            }),
        );
        assert_eq!(c.open.as_deref(), Some("ws://h:1/ws?target=demo"));
        c.apply(Millis(0), Action::Opened);
        c.apply(Millis(1), Action::Message("Welcome\n+OK - Success.".into()));
        assert_eq!(c.take_outbox().as_deref(), Some("USER admin"));
        c.apply(Millis(2), Action::Message("+OK".into()));
        assert_eq!(c.take_outbox().as_deref(), Some("PASS secret"));
        c.apply(Millis(3), Action::Message("+OK - Ready to work.".into()));
        c
    }

    #[test]
    fn login_then_stream_and_log() {
        let mut c = connected();
        assert_eq!(c.take_outbox().as_deref(), Some("VERS"));
        c.apply(Millis(4), Action::Message("1,0,0,0\n+OK".into()));
        // the server panel queries run one by one; answer them all
        for reply in [
            "00-00-00-00-00-00-80-08\n+OK",
            "1 rows\n0,1,-,demo\n+OK",
            "7\n+OK",
            "FF:FF:FF:FF:FF:FF:FF:FE:00:00:00:00:00:00:00:01\n+OK",
            "0,0,0,0,0,0,0\n+OK",
            "0,0,0,\"\"\n+OK",
        ] {
            assert!(c.take_outbox().is_some());
            c.apply(Millis(5), Action::Message(reply.into()));
        }
        assert_eq!(c.server.channel, Some(7));
        assert_eq!(c.take_outbox().as_deref(), Some("RCVLOOP"));
        c.apply(
            Millis(6),
            Action::Message("+OK\n0,10,6,1,,5,-,168,65,172,0,0\n+OK".into()),
        );
        assert_eq!(c.link, Link::Session(State::Streaming));
        assert_eq!(c.log.rows.len(), 1);
        assert_eq!(c.log.rows[0].decoded.as_deref(), Some("21.5 °C"));
        let f = ViewFilter {
            class: Some(20),
            ..ViewFilter::default()
        };
        assert!(!f.matches(&c.log.rows[0]));
        assert!(
            ViewFilter {
                text: "temperature".into(),
                ..ViewFilter::default()
            }
            .matches(&c.log.rows[0])
        );
        // export and import keep the rows
        let (rows, bad) = from_json(&to_json(c.log.rows.iter())).unwrap();
        assert_eq!((rows, bad), (c.log.rows.iter().cloned().collect(), 0));
        assert!(to_csv(c.log.rows.iter()).contains("TEMPERATURE"));
        // who-is-there answers name the node
        let guid: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01"
            .parse()
            .unwrap();
        let lines: Vec<String> =
            vscp_core::registers::who_is_there_frames(guid, "example.com/relay.xml")
                .into_iter()
                .map(|data| {
                    Event {
                        class: 0,
                        kind: 32,
                        guid,
                        data,
                        ..Event::default()
                    }
                    .to_string()
                })
                .collect();
        c.apply(Millis(7), Action::Message(lines.join("\n")));
        assert_eq!(c.node_names.get(&guid).map(String::as_str), Some("relay"));
    }

    #[test]
    fn console_command_and_errors_are_visible() {
        let mut c = connected();
        c.apply(Millis(4), Action::Command("NOOP".into()));
        c.apply(Millis(5), Action::Command("SEND 0,20".into()));
        assert!(
            matches!(c.transcript.back(), Some(Transcript::Reply(t, true)) if t.contains("not sent"))
        );
        c.apply(
            Millis(6),
            Action::Closed(4002, "node unreachable: refused".into()),
        );
        assert!(
            matches!(&c.link, Link::Reconnecting { attempt: 1, reason, .. } if reason.contains("node unreachable"))
        );
        c.apply(Millis(1_006), Action::Tick);
        assert_eq!(c.link, Link::Connecting);
        c.apply(Millis(1_007), Action::Closed(4007, String::new()));
        assert!(matches!(&c.link, Link::Disconnected(Some(r)) if r.contains("origin")));
    }

    #[test]
    fn wrong_password_stops_retrying() {
        let mut c = Console::default();
        c.apply(
            Millis(0),
            Action::Connect(ConnSettings {
                proxy: "http://h".into(),
                target: "demo".into(),
                user: "a".into(),
                password: "b".into(),
                token: "t&1".into(),
            }),
        );
        assert_eq!(c.open.as_deref(), Some("ws://h/ws?target=demo&token=t%261"));
        c.apply(Millis(0), Action::Opened);
        c.apply(
            Millis(1),
            Action::Message("+OK\n+OK\n-OK - Invalid username or password.".into()),
        );
        assert!(matches!(&c.link, Link::Disconnected(Some(r)) if r.contains("login failed")));
        c.apply(
            Millis(2),
            Action::Closed(4003, "node closed the connection".into()),
        );
        assert!(
            matches!(&c.link, Link::Disconnected(Some(r)) if r.contains("login failed")),
            "no reconnect after a failed login, and its reason stays: {:?}",
            c.link
        );
        assert!(c.notices.iter().any(|n| n.contains("Invalid username")));
    }

    #[test]
    fn log_is_capped() {
        let mut log = EventLog::default();
        for i in 0..(LOG_CAPACITY as u64 + 10) {
            log.push(Row {
                seq: i,
                received_ms: i,
                event: Event::new(20, 3),
                decoded: None,
            });
        }
        assert_eq!((log.rows.len(), log.evicted), (LOG_CAPACITY, 10));
        assert_eq!(log.rate(LOG_CAPACITY as u64 + 9), 1_001);
    }
}
