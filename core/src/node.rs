//! The node session: the server side of the link protocol, sans-io (protocol.md §2–§3).
//!
//! One `NodeSession` per client connection. Node-wide behaviour (login, identity, where a
//! sent event goes) comes from a [`Node`] passed to each call, so many sessions can share
//! one node. Events for the client are offered with [`NodeSession::deliver`]; the session
//! applies the client's filter, queues them for `RETR` or streams them in `RCVLOOP`.

use std::collections::VecDeque;

use crate::client::Millis;
use crate::command::{Command, CommandParseError, InterfaceArg};
use crate::event::{Event, Stamp};
use crate::filter::Filter;
use crate::guid::Guid;
use crate::line::{Framed, LineBuf, MAX_LINE};
use crate::reply::{Capabilities, Interface, Stat, Version};

/// Why a node refused an event from `SEND`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendRefused {
    /// Output queue full (`-OK - Buffer Full`).
    BufferFull,
    /// This user may not send this event.
    NotAllowed,
}

/// What a node application provides to its sessions.
pub trait Node {
    /// Checks a login; `Some(privilege 0–15)` on success.
    fn login(&mut self, user: &str, password: &str) -> Option<u8>;
    /// Whether commands above privilege 0 need a login.
    fn requires_login(&self) -> bool {
        true
    }
    /// The channel GUID (`GGID`, and the origin substituted for a zero GUID in `SEND`).
    fn guid(&self) -> Guid;
    /// `SGID`; `false` if not supported.
    fn set_guid(&mut self, _guid: Guid) -> bool {
        false
    }
    /// `VERS`.
    fn version(&self) -> Version;
    /// `WCYD`.
    fn capabilities(&self) -> Capabilities;
    /// `INTERFACE LIST`.
    fn interfaces(&self) -> Vec<Interface>;
    /// An event the client sent; `channel` is the sender's channel id.
    fn send(&mut self, event: Event, channel: u32) -> Result<(), SendRefused>;
    /// A fresh session id for `CHALLENGE` (even number of hex digits).
    fn challenge(&mut self) -> String;
    /// `HELP` text lines.
    fn help(&self) -> Vec<String> {
        vec!["Commands: NOOP HELP QUIT USER PASS CHALLENGE SEND RETR RCVLOOP QUITLOOP CDTA CLRA STAT INFO CHID SGID GGID VERS SFLT SMSK INTERFACE WCYD".into()]
    }
}

/// Per-session settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    /// Channel id (`CHID`, and `obid` of events this client sends).
    pub channel_id: u32,
    /// Lines sent before the greeting's `+OK - Success.`.
    pub banner: Vec<String>,
    /// `+OK` keep-alive interval in the receive loop, ms.
    pub keepalive: u64,
    /// Most events queued for this client; more are dropped and counted.
    pub queue_capacity: usize,
    /// When the server started (ns since the Unix epoch): `INTERFACE LIST` rows then end in
    /// ` | Started at <UTC time>`, as vscpd writes them.
    pub started_unix_ns: Option<u64>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            channel_id: 0,
            banner: vec!["Welcome to the VSCP Link Protocol Interface.".into()],
            keepalive: 1_000,
            queue_capacity: 1_024,
            started_unix_ns: None,
        }
    }
}

/// What the transport must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeOutput {
    /// Write this line (CRLF included).
    Transmit(String),
    /// Close the connection (after `QUIT` or a failed login).
    Close,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Auth {
    None,
    UserGiven(String),
    LoggedIn(u8),
}

/// The server side of one connection.
#[derive(Clone, Debug)]
pub struct NodeSession {
    config: NodeConfig,
    auth: Auth,
    filter: Filter,
    queue: VecDeque<Event>,
    streaming: bool,
    last_sent: Millis,
    lines: LineBuf,
    outputs: VecDeque<NodeOutput>,
    /// Commands `+n` can repeat, newest first (at most [`HISTORY`]).
    history: VecDeque<String>,
    stat: Stat,
    overruns: u64,
    /// Events queued before `RCVLOOP` still to be streamed (after its reply).
    backlog_due: bool,
    closed: bool,
}

const OK: &str = "+OK - Success.";
/// Commands kept for `+n` / `++`.
const HISTORY: usize = 10;
const NEED_LOGIN: &str = "-OK - Need to log in to perform this command.";
const NO_PRIVILEGE: &str = "-OK - User need higher privilege level to perform this operation.";
const BAD_PARAM: &str = "-OK - Invalid parameter or format";
const UNKNOWN: &str = "-OK - Unknown command";
const NOT_SUPPORTED: &str = "-OK - Not supported";

impl NodeSession {
    /// A session for a client that connected at `now`; the greeting is queued at once.
    #[must_use]
    pub fn new(config: NodeConfig, now: Millis) -> NodeSession {
        let mut s = NodeSession {
            auth: Auth::None,
            filter: Filter::PASS_ALL,
            queue: VecDeque::new(),
            streaming: false,
            last_sent: now,
            lines: LineBuf::new(MAX_LINE),
            outputs: VecDeque::new(),
            history: VecDeque::new(),
            stat: Stat::default(),
            overruns: 0,
            backlog_due: false,
            closed: false,
            config,
        };
        for l in s.config.banner.clone() {
            s.line(&l, now);
        }
        s.line(OK, now);
        s
    }

    /// Is the client in the receive loop?
    #[must_use]
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    /// Events waiting for `RETR`.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Events dropped because the queue was full.
    #[must_use]
    pub fn overruns(&self) -> u64 {
        self.overruns
    }

    /// Offers an event to this client: filtered, then streamed or queued. Returns whether
    /// the client takes it (`false`: filtered out or dropped on a full queue).
    pub fn deliver(&mut self, event: &Event, now: Millis) -> bool {
        if self.closed || !self.filter.matches(event) {
            return false;
        }
        self.stat.rx_frames += 1;
        self.stat.rx_data += event.data.len() as u64;
        if self.streaming {
            self.flush_backlog(now);
            let mut l = String::with_capacity(64 + 4 * event.data.len());
            event.write_to(&mut l);
            self.line(&l, now);
            true
        } else if self.queue.len() < self.config.queue_capacity {
            self.queue.push_back(event.clone());
            true
        } else {
            self.overruns += 1;
            false
        }
    }

    /// Feeds bytes from the client in any chunking.
    pub fn handle_bytes(&mut self, node: &mut dyn Node, bytes: &[u8], now: Millis) {
        let mut lines = std::mem::take(&mut self.lines);
        lines.push(bytes, |f| match f {
            Framed::Line(l) => self.handle_line(node, &l, now),
            Framed::TooLong => self.line("-OK - Line too long", now),
        });
        self.lines = lines;
    }

    /// Feeds one complete command line.
    pub fn handle_line(&mut self, node: &mut dyn Node, line: &str, now: Millis) {
        if self.closed {
            return;
        }
        let line = line.trim();
        if line.is_empty() {
            return; // like the daemon: no reply to an empty line
        }
        if self.streaming {
            self.flush_backlog(now);
        }
        let parsed = line.parse::<Command>();
        match parsed {
            Ok(Command::Repeat(n)) => {
                return match self.history.get(usize::from(n.unwrap_or(0))).cloned() {
                    Some(prev) => self.handle_line(node, &prev, now),
                    None if n.is_none() => self.line(OK, now),
                    None => self.line("-OK - No such command in the history (see ++)", now),
                };
            }
            Ok(Command::History) => {
                let list: Vec<String> = (self.history.iter().enumerate())
                    .map(|(i, c)| format!("{i} {c}"))
                    .collect();
                for l in list {
                    self.line(&l, now);
                }
                return self.line(OK, now);
            }
            _ => {}
        }
        if !line.to_ascii_uppercase().starts_with("PASS") {
            self.history.push_front(line.to_string());
            self.history.truncate(HISTORY);
        }
        match parsed {
            Ok(cmd) => self.execute(node, cmd, now),
            Err(CommandParseError::Unknown(_) | CommandParseError::MissingArgument(_)) => {
                self.line(UNKNOWN, now)
            }
            Err(_) => self.line(BAD_PARAM, now),
        }
    }

    /// Sends the receive-loop keep-alive when due.
    pub fn handle_timeout(&mut self, now: Millis) {
        if self.closed || !self.streaming {
            return;
        }
        if self.backlog_due {
            self.flush_backlog(now);
        } else if now >= self.last_sent.plus(self.config.keepalive) {
            self.line("+OK", now);
        }
    }

    /// Streams the events queued before `RCVLOOP`, once its reply is out: at the next input
    /// or time-out, whichever comes first, and always before anything else.
    fn flush_backlog(&mut self, now: Millis) {
        if std::mem::take(&mut self.backlog_due) {
            while let Some(ev) = self.queue.pop_front() {
                let l = ev.to_string();
                self.line(&l, now);
            }
        }
    }

    /// When `handle_timeout` wants to run next (at once when events queued before `RCVLOOP`
    /// wait to follow its reply).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        if self.closed || !self.streaming {
            return None;
        }
        Some(if self.backlog_due {
            self.last_sent
        } else {
            self.last_sent.plus(self.config.keepalive)
        })
    }

    /// Next output; call until `None`.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<NodeOutput> {
        self.outputs.pop_front()
    }

    fn line(&mut self, l: &str, now: Millis) {
        let mut s = String::with_capacity(l.len() + 2);
        s.push_str(l);
        s.push_str("\r\n");
        self.outputs.push_back(NodeOutput::Transmit(s));
        self.last_sent = now;
    }

    /// `SEND` and `MEASUREMENT`: the event goes to the node with this client's GUID and id.
    fn send(&mut self, node: &mut dyn Node, mut ev: Event, now: Millis) {
        // an unreadable time is the server's to fill in, as an empty one
        ev.unread.clear();
        if ev.guid.is_zero() {
            ev.guid = node.guid();
        }
        if ev.obid == 0 {
            ev.obid = self.config.channel_id;
        }
        let bytes = ev.data.len() as u64;
        match node.send(ev, self.config.channel_id) {
            Ok(()) => {
                self.stat.tx_frames += 1;
                self.stat.tx_data += bytes;
                self.line(OK, now);
            }
            Err(SendRefused::BufferFull) => self.line("-OK - Buffer Full", now),
            Err(SendRefused::NotAllowed) => self.line("-OK - Not allowed to send this event.", now),
        }
    }

    fn close(&mut self) {
        self.closed = true;
        self.streaming = false;
        self.outputs.push_back(NodeOutput::Close);
    }

    fn execute(&mut self, node: &mut dyn Node, cmd: Command, now: Millis) {
        let level = match self.auth {
            Auth::LoggedIn(p) => Some(p),
            _ if !node.requires_login() => Some(15),
            _ => None,
        };
        let need = cmd.privilege();
        match level {
            None if need > 0 => return self.line(NEED_LOGIN, now),
            Some(p) if need > p => return self.line(NO_PRIVILEGE, now),
            _ => {}
        }
        match cmd {
            Command::Noop => self.line(OK, now),
            Command::Help(_) => {
                for l in node.help() {
                    self.line(&l, now);
                }
                self.line(OK, now);
            }
            Command::Quit => {
                self.line("+OK - Goodbye.", now);
                self.close();
            }
            Command::User(name) => {
                self.auth = Auth::UserGiven(name);
                self.line("+OK - User name accepted, password please", now);
            }
            Command::Pass(password) => match std::mem::replace(&mut self.auth, Auth::None) {
                Auth::UserGiven(user) => match node.login(&user, &password) {
                    Some(p) => {
                        self.auth = Auth::LoggedIn(p.min(15));
                        self.line("+OK - Ready to work.", now);
                    }
                    None => {
                        self.line("-OK - Invalid username or password.", now);
                        self.close();
                    }
                },
                other => {
                    let logged_in = matches!(other, Auth::LoggedIn(_));
                    self.auth = other;
                    if logged_in {
                        self.line("-OK - Already logged in.", now);
                    } else {
                        self.line(
                            "-OK - Need a Username before a password can be entered.",
                            now,
                        );
                        self.close();
                    }
                }
            },
            Command::Challenge => {
                let sid = node.challenge();
                self.line(&format!("+OK - {sid}"), now);
            }
            Command::Send(ev) => self.send(node, ev, now),
            Command::Measurement(m) => match m.to_event() {
                Ok(ev) => self.send(node, ev, now),
                Err(_) => self.line(BAD_PARAM, now),
            },
            Command::Retr(n) => {
                let n = n.filter(|n| *n > 0).unwrap_or(1) as usize;
                let mut sent = 0;
                while sent < n {
                    let Some(ev) = self.queue.pop_front() else {
                        break;
                    };
                    let l = ev.to_string();
                    self.line(&l, now);
                    sent += 1;
                }
                self.line(
                    if sent == n {
                        OK
                    } else {
                        "-OK - No event(s) available"
                    },
                    now,
                );
            }
            Command::RcvLoop => {
                // the reply goes out alone; queued events follow at the next time-out, so a
                // driver writes them separately (a client library drops events that share a
                // read with the reply)
                self.line("+OK - Receive loop entered. QUITLOOP to terminate.", now);
                self.streaming = true;
                self.backlog_due = !self.queue.is_empty();
            }
            Command::QuitLoop => {
                self.streaming = false;
                self.line("+OK - Quit receive loop.", now);
            }
            Command::ChkData => {
                let n = self.queue.len().to_string();
                self.line(&n, now);
                self.line(OK, now);
            }
            Command::ClrAll => {
                self.queue.clear();
                self.line("+OK - All events cleared.", now);
            }
            Command::Stat => {
                let s = self.stat;
                let l = format!(
                    "0,0,{},{},{},{},{}",
                    self.overruns, s.rx_data, s.rx_frames, s.tx_data, s.tx_frames
                );
                self.line(&l, now);
                self.line(OK, now);
            }
            Command::Info => {
                self.line("0,0,0,\"\"", now);
                self.line(OK, now);
            }
            Command::ChId => {
                let l = self.config.channel_id.to_string();
                self.line(&l, now);
                self.line(OK, now);
            }
            Command::SetGuid(g) => {
                self.line(if node.set_guid(g) { OK } else { NOT_SUPPORTED }, now)
            }
            Command::GetGuid => {
                let l = node.guid().to_string();
                self.line(&l, now);
                self.line(OK, now);
            }
            Command::Version => {
                let v = node.version();
                let l = format!(
                    "{},{},{},{}",
                    v.major,
                    v.minor,
                    v.release,
                    v.build.unwrap_or(0)
                );
                self.line(&l, now);
                self.line(OK, now);
            }
            Command::SetFilter(p) => {
                self.filter.filter = p;
                self.line(OK, now);
            }
            Command::SetMask(p) => {
                self.filter.mask = p;
                self.line(OK, now);
            }
            Command::Interface(InterfaceArg::List) => {
                // vscpd's form: no count line (a client library crashes on it)
                let started = self.config.started_unix_ns.map(|ns| {
                    let mut t = String::from(" | Started at ");
                    crate::datetime::write_ns(&mut t, ns - ns % 1_000_000_000);
                    t
                });
                for r in node.interfaces() {
                    let l = format!("{r}{}", started.as_deref().unwrap_or_default());
                    self.line(&l, now);
                }
                self.line(OK, now);
            }
            Command::Wcyd => {
                let l = node.capabilities().to_string();
                self.line(&l, now);
                self.line(OK, now);
            }
            Command::Binary => self.line("-OK - Binary mode not supported", now),
            Command::Custom { .. } => self.line(UNKNOWN, now),
            _ => self.line(NOT_SUPPORTED, now),
        }
    }
}

/// Fills in the time of an event that arrived without one (for node applications).
#[must_use]
pub fn stamp_if_unknown(mut event: Event, unix_ns: u64) -> Event {
    if event.stamp == Stamp::Unknown {
        event.stamp = Stamp::Unix(unix_ns);
    }
    event
}

/// A minimal in-memory [`Node`] for tests, fuzzing and examples: one user, a fixed GUID,
/// and every sent event kept in `sent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryNode {
    /// Accepted user name.
    pub user: String,
    /// Accepted password.
    pub password: String,
    /// Channel GUID.
    pub guid: Guid,
    /// Events received by `SEND`, in order.
    pub sent: Vec<Event>,
    /// Most events kept before `SEND` answers `Buffer Full`.
    pub capacity: usize,
    challenges: u64,
}

impl Default for MemoryNode {
    fn default() -> Self {
        MemoryNode {
            user: "admin".into(),
            password: "secret".into(),
            guid: Guid([
                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 0, 0, 0, 0, 0,
            ]),
            sent: Vec::new(),
            capacity: 10_000,
            challenges: 0,
        }
    }
}

impl Node for MemoryNode {
    fn login(&mut self, user: &str, password: &str) -> Option<u8> {
        (user == self.user && password == self.password).then_some(15)
    }
    fn guid(&self) -> Guid {
        self.guid
    }
    fn set_guid(&mut self, guid: Guid) -> bool {
        self.guid = guid;
        true
    }
    fn version(&self) -> Version {
        Version {
            major: 1,
            minor: 0,
            release: 0,
            build: Some(0),
        }
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities(1 << 15 | 1 << 3)
    }
    fn interfaces(&self) -> Vec<Interface> {
        vec![Interface {
            id: 0,
            kind: 1,
            guid: self.guid,
            name: "memory node".into(),
        }]
    }
    fn send(&mut self, event: Event, _channel: u32) -> Result<(), SendRefused> {
        if self.sent.len() >= self.capacity {
            return Err(SendRefused::BufferFull);
        }
        self.sent.push(event);
        Ok(())
    }
    fn challenge(&mut self) -> String {
        self.challenges += 1;
        format!(
            "{:032x}",
            self.challenges.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        )
    }
}
