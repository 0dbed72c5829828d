//! Console state and its reducer: no html, no browser calls, so it runs under `cargo test`.
//! The component stamps each action with the time and carries out what
//! [`Console::poll_effect`] asks for (open, send, close), like a driver of vscp-core's sessions.

mod action;
mod broker;
mod chart_rows;
mod charts;
mod connection;
mod discovery;
mod firmware;
mod known;
mod log;
pub mod log_file;
mod nodes;
mod notices;
mod registers;
mod sending;
mod server;
mod via_broker;

use std::{
    collections::{HashMap, VecDeque},
    rc::Rc,
};

use vscp_api::CloseCode;
use vscp_core::{
    Capabilities, ClientConfig, ClientSession, CloseReason, Command, CommandId, Event, Guid, Info,
    Interface, Measurement, Millis, NoReply, Output, ReceiveMode, SessionEvent, Stat, State,
    Version, event_forms,
    registers::{Discovery, WhoIsThere},
    scan::{Scan, ScanOutput},
};

use broker::{BrokerOutput, BrokerSession};

use action::Purpose;
pub use action::{Action, Effect};
pub use broker::BrokerState;
pub use chart_rows::ChartRow;
pub use charts::{Charts, Series, SeriesKey, quantity_label};
pub use connection::{
    ConnKind, ConnSettings, DEFAULT_TOPIC, Link, MAX_TRIES, backoff_ms, close_reason,
};
pub use discovery::{IDENTIFY_PACE_MS, ScanState, interface_kind};
pub use firmware::{Firmware, FirmwareAction, Phase as FirmwarePhase};
pub use known::{KnownNode, KnownNodes, to_list as known_list};
pub use log::{EventLog, Geometry, LogWindow, NodeMatch, Row, ViewFilter};
pub use nodes::{NodeRow, NodeTable};
pub use notices::{Level, Notices, Topic};
pub use registers::{DmField, RegisterAction, RegisterEditor};
pub use sending::Repeat;
pub use server::{STAT_EVERY_MS, ServerInfo, Transcript};

/// How the notice about unreadable fields starts (it is updated in place).
const UNREADABLE: &str = "Unreadable fields:";

/// The whole console.
#[derive(Debug, Default)]
pub struct Console {
    /// Current settings (kept for reconnects).
    pub settings: ConnSettings,
    /// Link state for the status bar.
    pub link: Link,
    /// The session while connected.
    session: Option<ClientSession>,
    /// The MQTT session while connected to a broker.
    broker: Option<BrokerSession>,
    /// The servers the bridges on the broker announced (their command topics).
    pub sites: Rc<Vec<String>>,
    /// The server a broker connection sends to.
    pub site: Option<String>,
    /// Messages on the broker that were not VSCP events.
    pub broker_skipped: u64,
    /// Event log.
    pub log: EventLog,
    /// Log paused?
    pub paused: bool,
    /// Command console transcript (shared with the panel that shows it).
    pub transcript: Rc<VecDeque<Transcript>>,
    /// Server panel.
    pub server: Rc<ServerInfo>,
    /// Events sent from the send form (newest last).
    pub sent: Rc<Vec<Event>>,
    /// Repeated sends (newest last).
    pub repeats: Rc<Vec<Repeat>>,
    /// Errors, warnings and good news for the user.
    pub notices: Rc<Notices>,
    /// The time of the action being applied (ms since the epoch), for stamping notices.
    clock: u64,
    /// When STAT is asked for again.
    next_stat: u64,
    /// Identify nodes heard from for the first time by reading their standard registers.
    pub identify_new: bool,
    /// Nodes waiting to be identified, the one being read, and when the next may start.
    identify_queue: VecDeque<Guid>,
    identifier: Option<RegisterEditor>,
    identify_after: u64,
    /// Nodes already queued for identification (each is asked once).
    identify_asked: std::collections::HashSet<Guid>,
    /// What the websocket must do next.
    effects: VecDeque<Effect>,
    /// Receive mode the user chose.
    pub mode: ReceiveMode,
    /// Known nodes: names the user gave, else learned from who-is-there answers and
    /// standard registers (the MDF file's name), by GUID.
    pub node_names: Rc<KnownNodes>,
    /// Every node seen (updated with each event).
    pub nodes: NodeTable,
    /// The node table as the page shows it (refreshed by ticks and discoveries).
    pub node_rows: Rc<Vec<NodeRow>>,
    /// The last scan.
    pub scan: Option<Rc<ScanState>>,
    /// The register editor, when open.
    pub registers: Option<Rc<RegisterEditor>>,
    /// The firmware wizard, when open.
    pub firmware: Option<Rc<Firmware>>,
    /// Measurement streams and the charted series (drawn straight from here).
    pub charts: Charts,
    /// The streams as the chart panel lists them (refreshed by ticks and picks).
    pub chart_rows: Rc<Vec<ChartRow>>,
    whois: HashMap<Guid, WhoIsThere>,
    pending: Vec<(CommandId, Purpose)>,
    receiving: bool,
    /// The last connection was given up after [`MAX_TRIES`] failed tries.
    pub gave_up: bool,
    /// Events on this connection with a field that could not be read.
    unreadable: u64,
    user_closed: bool,
    attempt: u32,
    next_seq: u64,
}

impl Console {
    /// Logged in and receiving (to a link server or a broker)?
    #[must_use]
    pub fn logged_in(&self) -> bool {
        matches!(
            self.link,
            Link::Session(State::Ready | State::Streaming) | Link::Broker(BrokerState::Ready)
        )
    }

    /// Does the server take filters and masks only in Level I widths (so they go narrowed)?
    #[must_use]
    pub fn level1_filters(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.learned_forms().1)
    }

    /// Applies one action at time `now` (ms since the epoch).
    pub fn apply(&mut self, now: Millis, action: Action) {
        self.clock = now.0;
        match action {
            Action::Connect(s) => {
                // a new connection: what was said of the last one no longer holds
                let notices = Rc::make_mut(&mut self.notices);
                notices.clear(Topic::Connection);
                notices.clear(Topic::Events);
                if s.kind != self.settings.kind || s.broker != self.settings.broker {
                    // another broker's bridges announce their own servers
                    self.sites = Rc::default();
                    self.site = None;
                }
                self.settings = s;
                self.user_closed = false;
                self.gave_up = false;
                self.attempt = 0;
                self.start(now);
            }
            Action::Opened if self.settings.kind == ConnKind::Broker => {
                let client_id = format!("vscp-link-{:x}-{}", now.0, self.attempt);
                self.broker = Some(BrokerSession::new(
                    self.settings.broker_config(client_id),
                    now,
                ));
                self.link = Link::Broker(BrokerState::Connecting);
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
                if self.unreadable > 0 {
                    // a new connection gets a notice of its own
                    self.unreadable = 0;
                    Rc::make_mut(&mut self.notices).clear(Topic::Events);
                }
                self.session = Some(ClientSession::new(config, now));
                self.link = Link::Session(State::Greeting);
                self.server = Rc::default();
            }
            Action::Message(text) => return self.receive(text.split('\n'), now),
            Action::Bytes(bytes) => {
                if let Some(b) = self.broker.as_mut() {
                    b.handle_bytes(&bytes, now);
                }
            }
            Action::Site(site) => self.site = Some(site),
            Action::Notice(text) => self.notice(text),
            Action::Dismiss(id) => Rc::make_mut(&mut self.notices).dismiss(id),
            Action::IdentifyNew(on) => self.identify_new(on, now),
            Action::NameNode(guid, name) => self.name_node(guid, &name),
            Action::KnownNodes(list) => {
                self.node_names = Rc::new(known::from_list(&list).0);
                self.refresh_nodes();
            }
            Action::ImportNodes(text) => self.import_nodes(&text),
            Action::Closed(code, reason) => {
                let why = close_reason(code, &reason);
                if let Some(s) = self.session.as_mut() {
                    s.handle_close(&why);
                }
                self.drain(now);
                self.session = None;
                self.broker = None;
                self.pending.clear();
                self.node_jobs_lost(now);
                let permanent = CloseCode::try_from(code).is_ok_and(CloseCode::is_permanent);
                self.lost(now, why, permanent);
            }
            Action::Disconnect => {
                self.user_closed = true;
                self.node_jobs_lost(now);
                self.drain(now);
                // QUIT goes out now, even behind a command or a receive loop still open
                if self.session.take().is_some() {
                    self.transmit(&Command::Quit.to_string());
                }
                if let Some(mut b) = self.broker.take() {
                    b.disconnect(now);
                    while let Some(o) = b.poll_output() {
                        if let BrokerOutput::Transmit(bytes) = o {
                            self.effects.push_back(Effect::SendBinary(bytes));
                        }
                    }
                }
                self.effects.push_back(Effect::Close);
                self.link = Link::Disconnected(Some("disconnected by you".into()));
            }
            Action::Tick => {
                if self
                    .notices
                    .iter()
                    .any(|n| n.level == Level::Info && n.at + notices::INFO_MS <= now.0)
                {
                    Rc::make_mut(&mut self.notices).expire(now.0);
                }
                if let Some(s) = self.session.as_mut() {
                    s.handle_timeout(now);
                }
                if let Some(b) = self.broker.as_mut()
                    && b.poll_timeout().is_some_and(|t| t <= now)
                {
                    b.handle_timeout(now);
                }
                if let Some(r) = self.registers.as_mut() {
                    Rc::make_mut(r).handle_timeout(now);
                }
                if let Some(ed) = self.identifier.as_mut() {
                    ed.handle_timeout(now);
                }
                self.firmware_timeouts(now);
                if let Some(sc) = self.scan.as_mut()
                    && sc.scan.poll_timeout().is_some_and(|t| t <= now)
                {
                    Rc::make_mut(sc).scan.handle_timeout(now);
                }
                if matches!(self.link, Link::Session(State::Ready | State::Streaming))
                    && self.server.stat.is_some()
                    && now.0 >= self.next_stat
                {
                    self.next_stat = now.0 + STAT_EVERY_MS;
                    self.submit(Command::Stat, Purpose::Server, now);
                }
                self.nodes.tick(now.0);
                self.refresh_nodes();
                self.refresh_chart_rows();
                self.run_repeats(now);
                if let Link::Reconnecting { at, .. } = self.link
                    && now >= at
                {
                    self.start(now);
                }
            }
            Action::Command(line) => self.command(line, now),
            Action::SendEvent(ev) => self.send_event(ev, now),
            Action::Repeat {
                event,
                every_ms,
                times,
            } => self.repeat(event, every_ms, times, now),
            Action::StopRepeat(id) => self.stop_repeat(id),
            Action::ServerFilter(f) => {
                self.submit(Command::SetFilter(f.filter), Purpose::ServerFilter, now);
                self.submit(Command::SetMask(f.mask), Purpose::ServerFilter, now);
            }
            Action::RefreshServer => self.refresh_server(now),
            Action::ReceiveMode(m) => self.apply_mode(m, now),
            Action::TogglePause => self.paused = !self.paused,
            Action::Clear => {
                self.log = EventLog::default();
            }
            Action::Import(text) => match log_file::from_text(&text) {
                Ok((rows, bad)) => {
                    self.log = EventLog::default();
                    for r in rows {
                        self.log.total += 1;
                        self.log.push(r);
                    }
                    if bad > 0 {
                        self.say(
                            Level::Warning,
                            Topic::Other,
                            format!("import: {bad} entries were not events and were skipped"),
                        );
                    }
                }
                Err(e) => self.notice(e),
            },
            Action::Scan {
                interface,
                from,
                to,
            } => self.start_scan(interface, from, to, now),
            Action::CancelScan => self.cancel_scan(discovery::SCAN_CANCELLED),
            Action::OpenRegisters(guid) => self.open_registers(guid, now),
            Action::CloseRegisters => self.close_registers(now),
            Action::ToggleSeries(key) => {
                if !self.charts.toggle(key) {
                    self.notice(format!(
                        "a chart shows at most {} series",
                        charts::MAX_SERIES
                    ));
                }
                self.refresh_chart_rows();
            }
            Action::PauseCharts => self.charts.paused = !self.charts.paused,
            Action::ClearCharts => {
                self.charts.clear();
                self.refresh_chart_rows();
            }
            Action::Registers(a) => self.register_action(a, now),
            Action::Firmware(a) => self.firmware_action(a, now),
        }
        self.pump_nodes(now);
        self.drain(now);
    }

    /// Received lines, fed to the session one by one (the fast path of [`Action::Message`]:
    /// the caller splits its messages once, with no copy).
    pub fn receive<'a>(&mut self, lines: impl Iterator<Item = &'a str>, now: Millis) {
        if let Some(s) = self.session.as_mut() {
            for line in lines {
                s.handle_line(line, now);
            }
        }
        self.drain(now);
        self.pump_nodes(now);
        self.drain(now);
    }

    /// The next thing the websocket must do. Call until `None` after every `apply`/`receive`.
    #[must_use]
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    fn start(&mut self, _now: Millis) {
        let open = match self.settings.kind {
            ConnKind::Proxy => Effect::Open(self.settings.ws_url()),
            ConnKind::Broker => match self.settings.broker_url() {
                Ok(url) => Effect::OpenMqtt(url),
                Err(e) => {
                    self.say(Level::Error, Topic::Connection, e.clone());
                    self.link = Link::Disconnected(Some(e));
                    return;
                }
            },
        };
        self.link = Link::Connecting;
        self.effects.push_back(open);
    }

    fn lost(&mut self, now: Millis, why: String, permanent: bool) {
        if self.user_closed {
            // keep the reason already shown (e.g. "login failed"): the close that follows says less
            if !matches!(self.link, Link::Disconnected(Some(_))) {
                self.link = Link::Disconnected(Some(why));
            }
            return;
        }
        // refusals that a retry cannot fix: stop and say why
        if permanent {
            self.say(Level::Error, Topic::Connection, why.clone());
            self.link = Link::Disconnected(Some(why));
            return;
        }
        self.attempt += 1;
        if self.attempt > MAX_TRIES {
            // bounded: the user decides when to try again (the Connect button says Retry)
            self.user_closed = true;
            self.gave_up = true;
            let why = format!("gave up after {MAX_TRIES} tries: {why}");
            self.link = Link::Disconnected(Some(why));
            return;
        }
        let at = now.plus(backoff_ms(self.attempt - 1));
        self.link = Link::Reconnecting {
            at,
            attempt: self.attempt,
            reason: why,
        };
    }

    /// Tells the user something.
    fn say(&mut self, level: Level, topic: Topic, text: String) {
        Rc::make_mut(&mut self.notices).push(level, topic, text, self.clock);
    }

    /// Tells the user that something failed.
    fn notice(&mut self, text: String) {
        self.say(Level::Error, Topic::Other, text);
    }

    fn submit(&mut self, cmd: Command, purpose: Purpose, now: Millis) -> bool {
        if self.settings.kind == ConnKind::Broker {
            return self.publish(cmd, purpose, now);
        }
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
        while let Some(o) = self.session.as_mut().and_then(ClientSession::poll_output) {
            match o {
                Output::Transmit(line) => self.transmit(line.trim_end()),
                Output::Event(e) => self.on_event(e, now),
            }
        }
        while let Some(o) = self.broker.as_mut().and_then(BrokerSession::poll_output) {
            self.on_broker(o, now);
        }
    }

    /// Queues a line; lines queued together travel in one websocket message.
    fn transmit(&mut self, line: &str) {
        if let Some(Effect::Send(msg)) = self.effects.back_mut() {
            msg.push('\n');
            msg.push_str(line);
        } else {
            self.effects.push_back(Effect::Send(line.to_string()));
        }
    }

    fn on_event(&mut self, e: SessionEvent, now: Millis) {
        match e {
            SessionEvent::Connected { banner } => {
                Rc::make_mut(&mut self.server).banner = banner;
                self.attempt = 0;
            }
            SessionEvent::State(st) => {
                self.link = Link::Session(st);
                if matches!(st, State::Ready | State::Streaming) {
                    // logged in: earlier login or connection errors no longer hold
                    Rc::make_mut(&mut self.notices).clear(Topic::Connection);
                }
                if st == State::Ready && !self.receiving {
                    self.receiving = true;
                    self.refresh_server(now);
                    self.apply_mode(self.mode, now);
                }
            }
            SessionEvent::Received(event) => self.ingest(event, now),
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
                    (Some(Purpose::SendEvent | Purpose::ServerFilter | Purpose::Node), Ok(r))
                        if !r.ok =>
                    {
                        self.notice(format!(
                            "{} refused by the server: {}",
                            command.word(),
                            r.text
                        ));
                    }
                    (Some(Purpose::ServerFilter), Ok(_))
                        if matches!(command, Command::SetMask(_)) =>
                    {
                        self.say(Level::Info, Topic::Other, "server filter applied".into());
                    }
                    (Some(_), Err(NoReply::TimedOut)) => {
                        self.notice(format!("{}: no reply in time", command.word()))
                    }
                    _ => {}
                }
            }
            SessionEvent::ProtocolError(p) => self.notice(p.to_string()),
            SessionEvent::Adapted(a) => self.say(Level::Warning, Topic::Events, a.to_string()),
            SessionEvent::Closed(reason) => {
                let why = reason.to_string();
                if matches!(
                    reason,
                    CloseReason::LoginFailed(_) | CloseReason::Refused(_)
                ) {
                    self.user_closed = true; // retrying will not help
                    self.say(Level::Error, Topic::Connection, why.clone());
                }
                self.effects.push_back(Effect::Close);
                self.link = Link::Disconnected(Some(why));
            }
        }
    }

    /// An event from the link or the broker: counters, node table, charts, log.
    fn ingest(&mut self, event: Event, now: Millis) {
        self.log.total += 1;
        if let Some(first) = event.unread.first() {
            self.unreadable += 1;
            Rc::make_mut(&mut self.notices).upsert(
                Level::Warning,
                Topic::Events,
                UNREADABLE,
                format!(
                    "{UNREADABLE} {} event line(s) on this connection had a field that could not be read \
                     (kept, marked ⚠ in the log; first: {first})",
                    self.unreadable
                ),
                now.0,
            );
        }
        self.nodes.see(&event, now.0);
        if self.identify_new && !self.node_names.contains_key(&event.guid) {
            self.queue_identify(event.guid);
        }
        self.answer_for_nodes(&event, now);
        let measured = Measurement::from_event(&event).ok();
        if let Some(m) = &measured {
            self.charts.see(&event, m, now.0);
        }
        if self.paused {
            self.log.paused_skipped += 1;
            return;
        }
        self.learn(&event, now);
        self.next_seq += 1;
        let decoded = measured.map(|m| m.display());
        self.log.push(Row {
            seq: self.next_seq,
            received_ms: now.0,
            event,
            decoded,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::log_file::{from_json, to_csv, to_json};
    use super::*;

    /// The lines the console sent since the last call, as one text.
    pub(super) fn take_sent(c: &mut Console) -> Option<String> {
        let mut sent: Vec<String> = Vec::new();
        while let Some(e) = c.poll_effect() {
            if let Effect::Send(t) = e {
                sent.push(t);
            }
        }
        (!sent.is_empty()).then(|| sent.join("\n"))
    }

    /// The URL the console asked to open, if it did.
    fn take_open(c: &mut Console) -> Option<String> {
        std::iter::from_fn(|| c.poll_effect()).find_map(|e| match e {
            Effect::Open(url) => Some(url),
            _ => None,
        })
    }

    fn connected() -> Console {
        let mut c = Console::default();
        c.apply(
            Millis(0),
            Action::Connect(ConnSettings {
                proxy: "http://h:1".into(),
                target: "demo".into(),
                user: "admin".into(),
                password: "secret".into(),
                ..ConnSettings::default()
            }),
        );
        assert_eq!(
            take_open(&mut c).as_deref(),
            Some("ws://h:1/ws?target=demo")
        );
        c.apply(Millis(0), Action::Opened);
        c.apply(Millis(1), Action::Message("Welcome\n+OK - Success.".into()));
        assert_eq!(take_sent(&mut c).as_deref(), Some("USER admin"));
        c.apply(Millis(2), Action::Message("+OK".into()));
        assert_eq!(take_sent(&mut c).as_deref(), Some("PASS secret"));
        c.apply(Millis(3), Action::Message("+OK - Ready to work.".into()));
        c
    }

    /// Connected, the server panel answered and RCVLOOP sent.
    pub(super) fn streaming() -> Console {
        let mut c = connected();
        assert_eq!(take_sent(&mut c).as_deref(), Some("VERS"));
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
            assert!(take_sent(&mut c).is_some());
            c.apply(Millis(5), Action::Message(reply.into()));
        }
        assert_eq!(c.server.channel, Some(7));
        assert_eq!(take_sent(&mut c).as_deref(), Some("RCVLOOP"));
        c
    }

    #[test]
    fn a_server_writing_month_13_loses_no_event_and_says_so_once() {
        let mut c = streaming();
        c.apply(Millis(6), Action::Message("+OK".into()));
        for i in 0..50 {
            c.apply(
                Millis(7 + i),
                Action::Message(format!(
                    "0,10,6,1,2026-13-05T10:00:{:02}Z,0,FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01,168,65,172,0,0",
                    i % 60
                )),
            );
        }
        assert_eq!(c.log.rows.len(), 50);
        assert!(c.log.rows.iter().all(|r| !r.event.unread.is_empty()));
        assert_eq!(c.log.rows[0].decoded.as_deref(), Some("21.50 °C"));
        let about: Vec<&String> = c
            .notices
            .iter()
            .map(|n| &n.text)
            .filter(|n| n.starts_with(UNREADABLE))
            .collect();
        assert_eq!(about.len(), 1, "{:?}", c.notices);
        assert!(
            about[0].contains(" 50 event line(s)") && about[0].contains("month is not 1–12"),
            "{}",
            about[0]
        );
        assert!(!c.notices.iter().any(|n| n.text.contains("bad event line")));
        // a client's own heartbeat (the interface GUID placeholder) is not a node
        c.apply(Millis(100), Action::Message("0,20,9,0,,,-,0,0,0".into()));
        assert_eq!(c.nodes.rows().len(), 1);
    }

    #[test]
    fn login_then_stream_and_log() {
        let mut c = streaming();
        c.apply(
            Millis(6),
            Action::Message("+OK\n0,10,6,1,,5,-,168,65,172,0,0\n+OK".into()),
        );
        assert_eq!(c.link, Link::Session(State::Streaming));
        assert_eq!(c.log.rows.len(), 1);
        assert_eq!(c.log.rows[0].decoded.as_deref(), Some("21.50 °C"));
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
    fn an_unreachable_node_is_tried_a_bounded_number_of_times_and_said_in_words() {
        let mut c = connected();
        let mut now = 10;
        for n in 1..=MAX_TRIES {
            c.apply(
                Millis(now),
                Action::Closed(
                    4002,
                    "node unreachable: Connection refused (os error 111)".into(),
                ),
            );
            let Link::Reconnecting {
                attempt,
                at,
                reason,
            } = c.link.clone()
            else {
                panic!("{:?}", c.link)
            };
            assert_eq!(attempt, n);
            assert!(at.0 - now <= 30_000, "back-off capped at 30 s");
            assert!(!reason.contains("os error"), "{reason}");
            assert!(reason.contains("is the node running"), "{reason}");
            now = at.0;
            c.apply(Millis(now), Action::Tick);
            assert_eq!(c.link, Link::Connecting);
            assert!(take_open(&mut c).is_some());
            c.apply(Millis(now), Action::Opened);
        }
        c.apply(
            Millis(now),
            Action::Closed(4002, "node unreachable: connect timed out".into()),
        );
        assert!(
            matches!(&c.link, Link::Disconnected(Some(r)) if r.starts_with("gave up after 8 tries") && r.contains("reachable from the proxy")),
            "{:?}",
            c.link
        );
        assert!(c.gave_up);
        // nothing more happens on its own
        c.apply(Millis(now + 120_000), Action::Tick);
        assert!(matches!(c.link, Link::Disconnected(_)));
        assert!(take_open(&mut c).is_none());
        // Retry (Connect) starts afresh
        let s = c.settings.clone();
        c.apply(Millis(now + 120_001), Action::Connect(s));
        assert!(!c.gave_up);
        assert_eq!(c.link, Link::Connecting);
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
                ..ConnSettings::default()
            }),
        );
        assert_eq!(
            take_open(&mut c).as_deref(),
            Some("ws://h/ws?target=demo&token=t%261")
        );
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
        assert!(
            c.notices
                .iter()
                .any(|n| n.text.contains("Invalid username"))
        );
    }

    #[test]
    fn disconnect_sends_quit_then_closes_and_refusals_stop_retrying() {
        let mut c = streaming();
        c.apply(Millis(6), Action::Message("+OK".into()));
        c.apply(Millis(7), Action::Disconnect);
        assert_eq!(c.poll_effect(), Some(Effect::Send("QUIT".into())));
        assert_eq!(c.poll_effect(), Some(Effect::Close));
        assert_eq!(c.poll_effect(), None);
        // a refusal a retry cannot fix is decided by its close code, not its text
        let mut c = connected();
        c.apply(
            Millis(5),
            Action::Closed(4006, "missing or wrong token".into()),
        );
        assert!(matches!(&c.link, Link::Disconnected(Some(r)) if r.contains("token")));
        let mut c = connected();
        c.apply(Millis(5), Action::Closed(4012, "not allowed here".into()));
        assert!(matches!(c.link, Link::Reconnecting { .. }), "{:?}", c.link);
    }

    #[test]
    fn notices_are_capped_and_imports_report_bad_entries() {
        let mut c = Console::default();
        for i in 0..30 {
            c.apply(Millis(i), Action::Notice(format!("n{i}")));
        }
        assert_eq!(c.notices.len(), notices::CAPACITY);
        assert_eq!(
            c.notices.iter().last().map(|n| n.text.as_str()),
            Some("n29")
        );
        c.apply(
            Millis(40),
            Action::Import(r#"[{"line":"0,20,3,,,,-,1"},{"line":"x"}]"#.into()),
        );
        assert_eq!(c.log.rows.len(), 1);
        assert!(
            c.notices
                .iter()
                .last()
                .is_some_and(|n| n.text.contains("1 entries"))
        );
        c.apply(Millis(41), Action::Import("not a log".into()));
        assert!(
            c.notices
                .iter()
                .last()
                .is_some_and(|n| n.text.contains("not a console log"))
        );
    }

    /// A node behind the demo interface answering page reads/writes and who-is-there the way
    /// the server delivers them: replies to each command, events once the loop is back on.
    fn serve_node(c: &mut Console, regs: &mut [u8; 256], t: &mut u64) {
        use vscp_core::registers::{kind, who_is_there_frames};
        let node = |data: Vec<u8>, k: u16| {
            Event {
                guid: "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01"
                    .parse()
                    .unwrap(),
                data,
                ..Event::new(0, k)
            }
            .to_string()
        };
        let mut events = Vec::new();
        while let Some(sent) = take_sent(c) {
            for line in sent.lines() {
                *t += 1;
                let reply = match line {
                    "VERS" => "1,0,0,0\n+OK".to_string(),
                    "RCVLOOP" => format!("+OK\n{}", std::mem::take(&mut events).join("\n")),
                    l if l.starts_with("SEND ") => {
                        let ev: Event = l[5..].parse().unwrap();
                        let (dest, l1) = ev.level1_from_level2().unwrap();
                        if dest.nickname() == 1 {
                            match (l1.kind, l1.data.as_slice()) {
                                (kind::EXTENDED_PAGE_READ, [_, hi, lo, reg, count]) => {
                                    for (i, chunk) in regs
                                        [usize::from(*reg)..usize::from(*reg) + usize::from(*count)]
                                        .chunks(4)
                                        .enumerate()
                                    {
                                        let mut d = vec![i as u8, *hi, *lo, reg + 4 * i as u8];
                                        d.extend_from_slice(chunk);
                                        events.push(node(d, kind::EXTENDED_PAGE_RESPONSE));
                                    }
                                }
                                (kind::EXTENDED_PAGE_WRITE, [_, hi, lo, reg, v]) => {
                                    if *reg < 0x80 {
                                        regs[usize::from(*reg)] = *v;
                                    }
                                    events.push(node(
                                        vec![0, *hi, *lo, *reg, regs[usize::from(*reg)]],
                                        kind::EXTENDED_PAGE_RESPONSE,
                                    ));
                                }
                                (kind::WHO_IS_THERE, _) => {
                                    for f in who_is_there_frames(dest, "demo/temp.xml") {
                                        events.push(node(f, kind::WHO_IS_THERE_RESPONSE));
                                    }
                                }
                                _ => {}
                            }
                        }
                        "+OK".to_string()
                    }
                    _ => "+OK".to_string(),
                };
                c.apply(Millis(*t), Action::Message(reply));
            }
        }
    }

    #[test]
    fn new_nodes_are_identified_by_their_standard_registers_one_at_a_time() {
        let mut c = streaming();
        c.apply(Millis(6), Action::Message("+OK".into()));
        let node: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:01"
            .parse()
            .unwrap();
        let mut regs = [0u8; 256];
        regs[0xD0..0xE0].copy_from_slice(&node.0);
        regs[0xE0..0xED].copy_from_slice(b"demo/temp.xml");
        let mut t = 10;
        c.apply(Millis(t), Action::IdentifyNew(true));
        let heartbeat = Event {
            guid: node,
            ..Event::new(20, 9)
        };
        c.apply(Millis(t), Action::Message(heartbeat.to_string()));
        for _ in 0..4 {
            serve_node(&mut c, &mut regs, &mut t);
            t += 1_000;
            c.apply(Millis(t), Action::Tick);
        }
        assert_eq!(c.node_names.get(&node).map(String::as_str), Some("temp"));
        assert!(
            c.node_rows
                .iter()
                .any(|n| n.guid == node && n.firmware.is_some())
        );
        // asked once: a named node is not read again
        c.apply(Millis(t), Action::Message(heartbeat.to_string()));
        assert_eq!(take_sent(&mut c), None);
    }

    #[test]
    fn scan_and_register_editor_over_the_link() {
        let mut c = streaming();
        c.apply(Millis(6), Action::Message("+OK".into()));
        let iface: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:00"
            .parse()
            .unwrap();
        let node = iface.with_nickname(1);
        let mut regs = [0u8; 256];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = i as u8;
        }
        regs[0xD0..0xE0].copy_from_slice(&node.0);
        regs[0xE0..0xED].copy_from_slice(b"demo/temp.xml");
        regs[0xE0 + 13..].fill(0);
        let mut t = 10;
        c.apply(
            Millis(t),
            Action::Scan {
                interface: iface,
                from: 0,
                to: 5,
            },
        );
        serve_node(&mut c, &mut regs, &mut t);
        c.apply(Millis(t + 2_000), Action::Tick);
        serve_node(&mut c, &mut regs, &mut t);
        let scan = c.scan.clone().unwrap();
        assert!(scan.scan.is_done(), "{:?}", scan.scan.progress());
        assert_eq!(scan.scan.found().len(), 1);
        // the scan's own answer reaches the table, even when it is the scan's last
        assert!(
            c.node_rows
                .iter()
                .any(|n| n.guid == iface.with_nickname(1) && n.scanned)
        );
        assert_eq!(
            c.node_rows
                .iter()
                .find(|n| n.guid == node)
                .and_then(|n| n.name.as_deref()),
            Some("temp")
        );

        // the editor reads the standard block, then a page; an edit is written and checked
        c.apply(Millis(t), Action::OpenRegisters(node));
        serve_node(&mut c, &mut regs, &mut t);
        let std = c
            .registers
            .as_ref()
            .unwrap()
            .standard()
            .expect("standard registers read");
        assert_eq!(std.guid, node);
        assert_eq!(std.mdf_url, "demo/temp.xml");
        c.apply(Millis(t), Action::Registers(RegisterAction::ReadPage(0)));
        serve_node(&mut c, &mut regs, &mut t);
        assert_eq!(c.registers.as_ref().unwrap().values.len(), 256);
        c.apply(
            Millis(t),
            Action::Registers(RegisterAction::EditRegister {
                reg: 0,
                text: "0x09".into(),
                hex: true,
            }),
        );
        c.apply(
            Millis(t),
            Action::Registers(RegisterAction::EditRegister {
                reg: 0x91,
                text: "77".into(),
                hex: false,
            }),
        );
        c.apply(
            Millis(t),
            Action::Registers(RegisterAction::EditRegister {
                reg: 1,
                text: "300".into(),
                hex: false,
            }),
        );
        // marked in the grid, with why, and never written
        let ed = c.registers.clone().unwrap();
        assert!(
            ed.invalid
                .values()
                .any(|(_, why)| why.contains("not a register value")),
            "{:?}",
            ed.invalid
        );
        c.apply(Millis(t), Action::Registers(RegisterAction::WriteRegisters));
        serve_node(&mut c, &mut regs, &mut t);
        let ed = c.registers.clone().unwrap();
        assert_eq!(regs[0], 9);
        let results: Vec<(u8, bool)> = ed.writes.iter().map(|w| (w.addr.1, w.ok())).collect();
        assert_eq!(results, vec![(0, true), (0x91, false)]);
        c.apply(Millis(t), Action::Registers(RegisterAction::UndoWrite));
        serve_node(&mut c, &mut regs, &mut t);
        assert_eq!(regs[0], 0, "undo wrote the old value back");
        assert_eq!(
            c.node_rows
                .iter()
                .find(|n| n.guid == node)
                .and_then(|n| n.firmware),
            Some((0x94, 0x95, 0x96))
        );
    }

    #[test]
    fn a_lost_connection_stops_every_node_job_and_identification_resumes() {
        let mut c = streaming();
        c.apply(Millis(6), Action::Message("+OK".into()));
        let iface: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:00"
            .parse()
            .unwrap();
        let (node, other) = (iface.with_nickname(1), iface.with_nickname(2));
        // a scan, the register editor and an identification, each waiting for answers
        c.apply(
            Millis(10),
            Action::Scan {
                interface: iface,
                from: 0,
                to: 200,
            },
        );
        c.apply(Millis(10), Action::OpenRegisters(node));
        c.apply(Millis(10), Action::IdentifyNew(true));
        let heartbeat = Event {
            guid: other,
            ..Event::new(20, 9)
        };
        c.apply(Millis(10), Action::Message(heartbeat.to_string()));
        assert!(take_sent(&mut c).is_some());
        assert_eq!(c.identifier.as_ref().map(|e| e.node), Some(other));

        c.apply(
            Millis(20),
            Action::Closed(4003, "node closed the connection".into()),
        );
        let scan = c.scan.clone().unwrap();
        assert!(scan.scan.is_done());
        assert_eq!(scan.stopped, Some(discovery::SCAN_LOST));
        assert_eq!(c.registers.as_ref().unwrap().pending(), 0);
        assert!(
            c.notices
                .iter()
                .any(|n| n.text.starts_with("registers: the connection was lost")),
            "{:?}",
            c.notices
        );
        assert!(c.identifier.is_none());
        // while it reconnects nothing asks into nothing, and no time-out reads as a silent node
        for t in (500..10_000).step_by(500) {
            c.apply(Millis(t), Action::Tick);
        }
        assert!(
            !c.notices.iter().any(|n| n.text.contains("not connected")),
            "{:?}",
            c.notices
        );
        assert!(c.scan.as_ref().unwrap().scan.found().is_empty());

        // logged in again: the node whose identification was cut off is read again
        c.apply(Millis(10_000), Action::Opened);
        c.apply(
            Millis(10_001),
            Action::Message("Welcome\n+OK - Success.".into()),
        );
        assert_eq!(take_sent(&mut c).as_deref(), Some("USER admin"));
        c.apply(Millis(10_002), Action::Message("+OK".into()));
        assert_eq!(take_sent(&mut c).as_deref(), Some("PASS secret"));
        c.apply(
            Millis(10_003),
            Action::Message("+OK - Ready to work.".into()),
        );
        assert_eq!(c.identifier.as_ref().map(|e| e.node), Some(other));
    }

    #[test]
    fn a_repeat_sends_on_time_and_stops() {
        let mut c = streaming();
        c.apply(Millis(6), Action::Message("+OK".into()));
        let ev: Event = "0,30,5,,,,-,0,1,3".parse().unwrap();
        c.apply(
            Millis(1_000),
            Action::Repeat {
                event: ev,
                every_ms: 500,
                times: 3,
            },
        );
        let mut sends = 0;
        let mut t = 1_000;
        while t < 4_000 {
            while let Some(sent) = take_sent(&mut c) {
                for line in sent.lines() {
                    sends += usize::from(line.starts_with("SEND 0,30,5"));
                    let reply = if line == "VERS" {
                        "1,0,0,0\n+OK"
                    } else {
                        "+OK"
                    };
                    c.apply(Millis(t), Action::Message(reply.into()));
                }
            }
            t += 250;
            c.apply(Millis(t), Action::Tick);
        }
        assert_eq!(sends, 3);
        assert_eq!((c.repeats[0].sent, c.repeats[0].running()), (3, false));
        let ev: Event = "0,30,6,,,,-,0,1,3".parse().unwrap();
        c.apply(
            Millis(t),
            Action::Repeat {
                event: ev,
                every_ms: 100,
                times: 1000,
            },
        );
        let id = c.repeats[1].id;
        c.apply(Millis(t + 50), Action::StopRepeat(id));
        c.apply(Millis(t + 5_000), Action::Tick);
        assert_eq!((c.repeats[1].sent, c.repeats[1].stopped), (1, true));
    }

    /// A broker connection against a broker played by the test with `mqttbytes`.
    mod broker {
        use super::*;
        use bytes::BytesMut;
        use mqttbytes::{
            QoS,
            v4::{ConnAck, ConnectReturnCode, Packet, Publish, SubAck, SubscribeReasonCode},
        };

        /// MQTT packets the console sent since the last call.
        fn take_packets(c: &mut Console) -> Vec<Packet> {
            let mut out = Vec::new();
            while let Some(e) = c.poll_effect() {
                if let Effect::SendBinary(b) = e {
                    let mut buf = BytesMut::from(&b[..]);
                    while !buf.is_empty() {
                        out.push(mqttbytes::v4::read(&mut buf, 1 << 16).unwrap());
                    }
                }
            }
            out
        }

        fn wire(write: impl FnOnce(&mut BytesMut) -> Result<usize, mqttbytes::Error>) -> Action {
            let mut b = BytesMut::new();
            write(&mut b).unwrap();
            Action::Bytes(b.to_vec())
        }

        fn publish(topic: &str, payload: &str, pkid: u16) -> Action {
            let mut p = Publish::new(topic, QoS::AtLeastOnce, payload.as_bytes().to_vec());
            p.pkid = pkid;
            wire(|b| p.write(b))
        }

        fn settings() -> ConnSettings {
            ConnSettings {
                kind: ConnKind::Broker,
                broker: "ws://127.0.0.1:9001".into(),
                user: "viewer".into(),
                password: "pw".into(),
                ..ConnSettings::default()
            }
        }

        fn subscribed() -> Console {
            let mut c = Console::default();
            c.apply(Millis(0), Action::Connect(settings()));
            assert_eq!(
                c.poll_effect(),
                Some(Effect::OpenMqtt("ws://127.0.0.1:9001".into()))
            );
            c.apply(Millis(1), Action::Opened);
            let p = take_packets(&mut c);
            assert!(
                matches!(&p[..], [Packet::Connect(x)] if x.login.as_ref().is_some_and(|l| l.username == "viewer"))
            );
            c.apply(
                Millis(2),
                wire(|b| ConnAck::new(ConnectReturnCode::Success, false).write(b)),
            );
            let p = take_packets(&mut c);
            let [Packet::Subscribe(sub)] = &p[..] else {
                panic!("{p:?}")
            };
            // vscp/# covers the bridges' server lists
            let filters: Vec<&str> = sub.filters.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(filters, ["vscp/#"]);
            let ok = vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)];
            c.apply(Millis(3), wire(|b| SubAck::new(sub.pkid, ok).write(b)));
            assert_eq!(c.link, Link::Broker(BrokerState::Ready));
            c
        }

        #[test]
        fn events_from_every_site_reach_log_and_nodes_and_sends_go_to_the_command_topic() {
            let mut c = subscribed();
            let site = |s: u8, nick: u8| {
                format!("FF:FF:FF:FF:FF:FF:FF:F5:00:{s:02X}:00:00:00:00:00:{nick:02X}")
            };
            for (i, s) in [1u8, 2].into_iter().enumerate() {
                let guid = site(s, 1);
                let json = format!(
                    r#"{{"vscpHead":96,"vscpObId":{i},"vscpTimeStamp":0,"vscpClass":10,"vscpType":6,"vscpGuid":"{guid}","vscpData":[168,65,172,0,0]}}"#
                );
                c.apply(
                    Millis(4),
                    publish(&format!("vscp/{guid}/10/6/1"), &json, 5 + i as u16),
                );
            }
            // both acknowledged (QoS 1)
            let acks = take_packets(&mut c);
            assert_eq!(acks.len(), 2);
            assert!(acks.iter().all(|p| matches!(p, Packet::PubAck(_))));
            assert_eq!(c.log.total, 2);
            assert_eq!(c.log.rows[1].event.guid.to_string(), site(2, 1));
            assert_eq!(c.log.rows[0].decoded.as_deref(), Some("21.50 °C"));
            c.apply(Millis(5), Action::Tick);
            assert_eq!(c.node_rows.len(), 2);

            // nothing announced yet: a send says why it cannot go
            let mut ev = Event::new(30, 5);
            ev.data = vec![0, 255, 255];
            c.apply(Millis(6), Action::SendEvent(ev.clone()));
            assert!(
                c.notices
                    .iter()
                    .last()
                    .is_some_and(|n| n.text.contains("vscp/servers/+"))
            );
            c.apply(
                Millis(7),
                publish(
                    "vscp/servers/bridge-1",
                    r#"{"bridge":"bridge-1","servers":["site-b","site-a"]}"#,
                    9,
                ),
            );
            take_packets(&mut c);
            assert_eq!(*c.sites, ["site-a", "site-b"]);
            assert_eq!(c.site.as_deref(), Some("site-a"));
            c.apply(Millis(8), Action::Site("site-b".into()));
            c.apply(Millis(9), Action::SendEvent(ev.clone()));
            let p = take_packets(&mut c);
            let [Packet::Publish(sent)] = &p[..] else {
                panic!("{p:?}")
            };
            assert_eq!(sent.topic, "vscp/command/site-b");
            assert_eq!(sent.qos, QoS::AtLeastOnce);
            let back = event_forms::from_json(std::str::from_utf8(&sent.payload).unwrap()).unwrap();
            assert_eq!(
                (back.class, back.kind, back.data.clone()),
                (30, 5, vec![0, 255, 255])
            );
            assert_eq!(c.sent.len(), 1);

            // commands are for link servers; a foreign payload is a notice, not a row
            c.apply(Millis(10), Action::Command("VERS".into()));
            assert!(
                matches!(c.transcript.back(), Some(Transcript::Reply(t, true)) if t.contains("events only"))
            );
            c.apply(Millis(11), publish("vscp/other", "hello", 10));
            assert!(
                c.notices
                    .iter()
                    .last()
                    .is_some_and(|n| n.text.contains("vscp/other"))
            );
            assert_eq!(c.log.total, 2);
        }

        #[test]
        fn refused_login_stops_a_lost_broker_is_retried() {
            let mut c = Console::default();
            c.apply(Millis(0), Action::Connect(settings()));
            c.apply(Millis(1), Action::Opened);
            c.apply(
                Millis(2),
                wire(|b| ConnAck::new(ConnectReturnCode::BadUserNamePassword, false).write(b)),
            );
            assert!(
                matches!(&c.link, Link::Disconnected(Some(r)) if r.contains("refused the login"))
            );
            assert!(std::iter::from_fn(|| c.poll_effect()).any(|e| e == Effect::Close));
            c.apply(Millis(60_000), Action::Tick);
            assert_eq!(c.poll_effect(), None);

            let mut c = subscribed();
            c.apply(Millis(4), Action::Closed(1006, String::new()));
            assert!(matches!(c.link, Link::Reconnecting { attempt: 1, .. }));
            c.apply(Millis(1_500), Action::Tick);
            assert_eq!(
                c.poll_effect(),
                Some(Effect::OpenMqtt("ws://127.0.0.1:9001".into()))
            );

            // a URL that is not a websocket is refused before anything opens
            let mut c = Console::default();
            let bad = ConnSettings {
                broker: "127.0.0.1:1883".into(),
                ..settings()
            };
            c.apply(Millis(0), Action::Connect(bad));
            assert!(matches!(&c.link, Link::Disconnected(Some(r)) if r.contains("ws://")));
            assert_eq!(c.poll_effect(), None);
        }
    }
}
