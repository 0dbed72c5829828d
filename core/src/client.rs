//! The client session: the sans-io state machine the console and linktest run (protocol.md §2).
//!
//! It reads the greeting, logs in, sends one command at a time and matches each reply to
//! its [`CommandId`], and delivers events whether they come from polling (`RETR`) or from
//! the receive loop (`RCVLOOP`). To send a command while streaming it leaves the loop,
//! resynchronises (a `+OK` keep-alive looks exactly like a reply), sends, and re-enters.

use std::collections::VecDeque;

use crate::command::Command;
use crate::event::{Event, EventParseError, Stamp, TimeForm};
use crate::line::{Framed, LineBuf, MAX_LINE};
use crate::reply::{Reply, Status};

/// Monotonic milliseconds; the caller picks the epoch (core never reads a clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// `self + ms`, saturating.
    #[must_use]
    pub fn plus(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }
}

/// Identifies a command queued with [`ClientSession::send`]; its reply carries the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommandId(pub u64);

/// How the session fetches events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReceiveMode {
    /// Not at all (commands only).
    Off,
    /// `RETR` every poll interval (and at once again while batches come back full).
    Poll,
    /// `RCVLOOP`, leaving it for each command.
    #[default]
    Stream,
}

/// Settings of a client session. Times are in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// `USER`/`PASS` sent after the greeting; `None` for servers without login.
    pub credentials: Option<(String, String)>,
    /// How events are fetched after login.
    pub receive: ReceiveMode,
    /// Wait this long for the greeting.
    pub greeting_timeout: u64,
    /// Wait this long for each reply.
    pub reply_timeout: u64,
    /// In the receive loop, declare the link dead after this long without a line.
    pub keepalive_loss: u64,
    /// Outside the loop, send `NOOP` after this long without traffic (NAT keep-alive).
    pub idle_noop: u64,
    /// Time between `RETR` polls.
    pub poll_interval: u64,
    /// Events asked for per `RETR`.
    pub retr_batch: u32,
}

impl Default for ClientConfig {
    /// The values protocol.md gives: 5 s greeting and replies, 10 s keep-alive loss, 30 s NOOP.
    fn default() -> Self {
        ClientConfig {
            credentials: None,
            receive: ReceiveMode::Stream,
            greeting_timeout: 5_000,
            reply_timeout: 5_000,
            keepalive_loss: 10_000,
            idle_noop: 30_000,
            poll_interval: 500,
            retr_batch: 100,
        }
    }
}

/// Coarse state, for status bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for the server's greeting.
    Greeting,
    /// `USER`/`PASS` in flight.
    LoggingIn,
    /// Logged in; commands (and polling) possible.
    Ready,
    /// In the receive loop.
    Streaming,
    /// Closed; see the [`SessionEvent::Closed`] reason.
    Closed,
}

/// Why the session ended.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CloseReason {
    /// The server refused the connection in its greeting.
    #[error("server refused the connection: {0}")]
    Refused(String),
    /// No greeting in time.
    #[error("no greeting from the server")]
    GreetingTimeout,
    /// `PASS` failed (the server closes the connection).
    #[error("login failed: {0}")]
    LoginFailed(String),
    /// No keep-alive or event in the receive loop for too long.
    #[error("link lost: no keep-alive in the receive loop")]
    KeepaliveLost,
    /// The server stopped answering (login or resynchronisation timed out).
    #[error("server stopped answering")]
    NoResponse,
    /// `QUIT` was answered.
    #[error("quit")]
    Quit,
    /// The transport closed ([`ClientSession::handle_close`]).
    #[error("connection closed: {0}")]
    Transport(String),
}

/// A reply that never came.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoReply {
    /// Nothing within the reply time-out.
    #[error("no reply in time")]
    TimedOut,
    /// The session closed first.
    #[error("session closed")]
    Closed,
}

/// A line from the server that the session could not use (the session carries on).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A line over [`MAX_LINE`] bytes was dropped.
    #[error("line longer than {MAX_LINE} bytes dropped")]
    LineTooLong,
    /// An event line that does not parse.
    #[error("bad event line {line:?}: {error}")]
    BadEvent {
        /// The line.
        line: String,
        /// Why.
        error: EventParseError,
    },
    /// A line that fits no pending reply.
    #[error("unexpected line {0:?}")]
    Unexpected(String),
    /// The server refused the receive mode; the session switched to another.
    #[error("{mode:?} refused by server ({text}); now {now:?}")]
    ReceiveModeRefused {
        /// Mode tried.
        mode: ReceiveMode,
        /// Server text.
        text: String,
        /// Mode used from now on.
        now: ReceiveMode,
    },
}

/// Something the caller should know about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// The greeting arrived; banner lines before the `+OK`.
    Connected {
        /// Banner text lines.
        banner: Vec<String>,
    },
    /// The coarse state changed.
    State(State),
    /// The reply to a command sent with [`ClientSession::send`].
    Reply {
        /// Matches the id `send` returned.
        id: CommandId,
        /// The command as sent.
        command: Command,
        /// The reply, or why none came.
        reply: Result<Reply, NoReply>,
    },
    /// An event from `RETR` or the receive loop.
    Received(Event),
    /// A bad line; nothing else is affected.
    ProtocolError(ProtocolError),
    /// The server refused a form and took another; the session uses that one from now on.
    Adapted(Adaptation),
    /// The session ended; close the transport.
    Closed(CloseReason),
}

impl SessionEvent {
    /// Moves the received events out of `events`, in order, keeping everything else.
    pub fn take_received(events: &mut Vec<SessionEvent>) -> Vec<Event> {
        let mut out = Vec::new();
        events.retain_mut(|e| match e {
            SessionEvent::Received(ev) => {
                out.push(std::mem::take(ev));
                false
            }
            _ => true,
        });
        out
    }
}

/// A form the session learned the server wants (after a refusal of the usual one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Adaptation {
    /// SEND's datetime is written this way.
    TimeForm(TimeForm),
    /// Filters and masks go in Level I widths (class ≤ 0x1FF, type ≤ 0xFF).
    Level1Filters,
}

impl std::fmt::Display for Adaptation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Adaptation::TimeForm(t) => write!(
                f,
                "the server refused SEND's usual time form and took the {t}; sends use it from now on"
            ),
            Adaptation::Level1Filters => f.write_str(
                "the server refused a wide filter/mask and took it in Level I widths \
                 (class ≤ 0x1FF, type ≤ 0xFF); filters are sent narrowed from now on",
            ),
        }
    }
}

/// How a command goes on the wire: the forms learned or being tried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Wire {
    time: TimeForm,
    level1: bool,
    /// Other forms tried so far for this command.
    retries: u8,
}

/// Time forms a refused SEND is tried in, in turn.
const TIME_FORMS: [TimeForm; 3] = [
    TimeForm::DateTimeZ,
    TimeForm::DateTimeLegacy,
    TimeForm::UnixNs,
];

/// Is this refusal about something another written form cannot change?
fn refusal_beyond_form(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "buffer",
        "full",
        "allow",
        "privilege",
        "right",
        "log",
        "need",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// The line of `command` written in the forms of `wire`.
fn wire_line(command: &Command, wire: Wire) -> String {
    match command {
        Command::SetFilter(p) if wire.level1 && p.fits_level1() => {
            Command::SetFilter(p.level1()).to_string()
        }
        Command::SetMask(p) if wire.level1 => Command::SetMask(p.level1()).to_string(),
        c => c.line_with(wire.time),
    }
}

/// The form to try after `command` was refused in `wire`, if another may help.
fn next_wire(command: &Command, wire: Wire, refusal: &str) -> Option<Wire> {
    if refusal_beyond_form(refusal) {
        return None;
    }
    match command {
        Command::Send(ev) if ev.stamp != Stamp::Unknown && wire.retries < 2 => {
            let held = match (wire.time, ev.stamp) {
                (TimeForm::AsHeld, Stamp::Unix(_)) => TimeForm::UnixNs,
                (TimeForm::AsHeld, _) => TimeForm::DateTimeZ,
                (t, _) => t,
            };
            let at = TIME_FORMS.iter().position(|t| *t == held).unwrap_or(0);
            Some(Wire {
                time: TIME_FORMS[(at + 1) % TIME_FORMS.len()],
                retries: wire.retries + 1,
                ..wire
            })
        }
        Command::SetMask(p) if !wire.level1 && !p.fits_level1() => Some(Wire {
            level1: true,
            retries: wire.retries + 1,
            ..wire
        }),
        _ => None,
    }
}

/// What the caller must do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Write this line (CRLF included) to the server.
    Transmit(String),
    /// Tell the application.
    Event(SessionEvent),
}

/// Why a command was not queued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session is closed.
    #[error("session is closed")]
    Closed,
    /// Too many commands waiting.
    #[error("too many commands queued ({MAX_QUEUE})")]
    QueueFull,
    /// `RCVLOOP`/`QUITLOOP` are driven by the receive mode.
    #[error("{0} is managed by the session: choose a receive mode instead")]
    ReceiveModeCommand(&'static str),
    /// `BINARY` would end line parsing.
    #[error("BINARY mode is not supported by this client")]
    Binary,
    /// The line would not be one line of at most [`MAX_LINE`] bytes.
    #[error("command is not one line of at most {MAX_LINE} bytes")]
    NotOneLine,
}

/// Most user commands waiting to be sent.
pub const MAX_QUEUE: usize = 256;
/// Most data lines kept per reply (events beyond are still delivered).
pub const MAX_REPLY_LINES: usize = 1_000;
/// Most banner lines kept from the greeting.
const MAX_BANNER: usize = 32;

/// Why a command is in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Purpose {
    User(CommandId),
    LoginUser,
    LoginPass,
    EnterLoop,
    Poll,
    KeepAlive,
}

#[derive(Clone, Debug)]
struct InFlight {
    purpose: Purpose,
    command: Command,
    wire: Wire,
    lines: Vec<String>,
    events: u32,
    deadline: Millis,
}

#[derive(Clone, Debug)]
enum Phase {
    Greeting {
        banner: Vec<String>,
        deadline: Millis,
    },
    Idle,
    Waiting(InFlight),
    Streaming {
        last_line: Millis,
    },
    /// `QUITLOOP` sent; events may still arrive before its status.
    LeavingLoop {
        deadline: Millis,
    },
    /// `VERS` sent to find the end of stale `+OK`s; done at its data line + status.
    Resync {
        saw_data: bool,
        deadline: Millis,
    },
    Closed,
}

/// The client side of one link-protocol connection. Drive it with `handle_*`, then drain
/// `poll_output` until `None`, and call `handle_timeout` at `poll_timeout`.
#[derive(Clone, Debug)]
pub struct ClientSession {
    config: ClientConfig,
    mode: ReceiveMode,
    phase: Phase,
    logged_in: bool,
    queue: VecDeque<(CommandId, Command)>,
    next_id: u64,
    lines: LineBuf,
    outputs: VecDeque<Output>,
    next_poll: Millis,
    last_traffic: Millis,
    state: State,
    /// The forms this server took (after refusing the usual ones).
    learned: Wire,
}

impl ClientSession {
    /// A session for a connection just opened at `now`.
    #[must_use]
    pub fn new(config: ClientConfig, now: Millis) -> ClientSession {
        let deadline = now.plus(config.greeting_timeout);
        ClientSession {
            mode: config.receive,
            config,
            phase: Phase::Greeting {
                banner: Vec::new(),
                deadline,
            },
            logged_in: false,
            queue: VecDeque::new(),
            next_id: 1,
            lines: LineBuf::new(MAX_LINE),
            outputs: VecDeque::new(),
            next_poll: now,
            last_traffic: now,
            state: State::Greeting,
            learned: Wire::default(),
        }
    }

    /// The coarse state.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// The receive mode in use.
    #[must_use]
    pub fn receive_mode(&self) -> ReceiveMode {
        self.mode
    }

    /// Commands queued but not yet answered (including one in flight).
    #[must_use]
    pub fn pending(&self) -> usize {
        self.queue.len()
            + usize::from(
                matches!(&self.phase, Phase::Waiting(f) if matches!(f.purpose, Purpose::User(_))),
            )
    }

    /// Queues a command; its reply arrives later as [`SessionEvent::Reply`] with this id.
    pub fn send(&mut self, command: Command, now: Millis) -> Result<CommandId, SendError> {
        match command {
            Command::RcvLoop => return Err(SendError::ReceiveModeCommand("RCVLOOP")),
            Command::QuitLoop => return Err(SendError::ReceiveModeCommand("QUITLOOP")),
            Command::Binary => return Err(SendError::Binary),
            _ => {}
        }
        if matches!(self.phase, Phase::Closed) {
            return Err(SendError::Closed);
        }
        if self.queue.len() >= MAX_QUEUE {
            return Err(SendError::QueueFull);
        }
        let line = command.to_string();
        if line.len() > MAX_LINE || line.contains(['\r', '\n']) {
            return Err(SendError::NotOneLine);
        }
        let id = CommandId(self.next_id);
        self.next_id += 1;
        self.queue.push_back((id, command));
        self.pump(now);
        Ok(id)
    }

    /// Switches between streaming, polling and no receiving; takes effect when idle.
    pub fn set_receive_mode(&mut self, mode: ReceiveMode, now: Millis) {
        self.mode = mode;
        self.next_poll = now;
        self.pump(now);
    }

    /// Feeds bytes exactly as read from the link, in any chunking.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: Millis) {
        // the framer is moved out so each line is handled straight from the input
        let mut lines = std::mem::take(&mut self.lines);
        lines.push(bytes, |f| match f {
            Framed::Line(line) => self.handle_line(&line, now),
            Framed::TooLong => self.emit(SessionEvent::ProtocolError(ProtocolError::LineTooLong)),
        });
        self.lines = lines;
    }

    /// Feeds one complete line (terminator optional), e.g. from a websocket message.
    pub fn handle_line(&mut self, line: &str, now: Millis) {
        let line = line.trim_end_matches(['\r', '\n']);
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.last_traffic = now;
        let status = Status::parse(line);
        if status.is_none() && line.trim().is_empty() {
            return; // empty lines are ignored when reading replies
        }
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Greeting {
                mut banner,
                deadline,
            } => match status {
                Some(s) if s.ok => {
                    self.emit(SessionEvent::Connected { banner });
                    self.after_greeting(now);
                }
                Some(s) => self.close(CloseReason::Refused(s.text)),
                None => {
                    if banner.len() < MAX_BANNER {
                        banner.push(line.to_string());
                    }
                    self.phase = Phase::Greeting { banner, deadline };
                }
            },
            Phase::Waiting(mut f) => {
                // FW answers INFO with a bare "OK" status line
                let status = status.or_else(|| {
                    (f.command == Command::Info && line == "OK").then(|| Status::ok(""))
                });
                match status {
                    Some(s) => self.complete(f, s, now),
                    None => {
                        if matches!(f.command, Command::Retr(_)) {
                            f.events += 1;
                            self.received(line);
                        }
                        if f.lines.len() < MAX_REPLY_LINES {
                            f.lines.push(line.to_string());
                        }
                        self.phase = Phase::Waiting(f);
                    }
                }
            }
            Phase::Streaming { .. } => {
                match status {
                    Some(s) if !s.ok => self.emit(SessionEvent::ProtocolError(
                        ProtocolError::Unexpected(line.to_string()),
                    )),
                    Some(_) => {} // keep-alive
                    None => self.received(line),
                }
                self.phase = Phase::Streaming { last_line: now };
            }
            Phase::LeavingLoop { deadline } => match status {
                Some(_) => self.start_resync(now),
                None => {
                    self.received(line);
                    self.phase = Phase::LeavingLoop { deadline };
                }
            },
            Phase::Resync { saw_data, deadline } => match status {
                Some(s) if saw_data || !s.ok => {
                    self.phase = Phase::Idle;
                    self.set_state(if self.logged_in {
                        State::Ready
                    } else {
                        State::LoggingIn
                    });
                    self.pump(now);
                }
                Some(_) => self.phase = Phase::Resync { saw_data, deadline },
                None => {
                    let is_event = line.split(',').nth(6).is_some();
                    if is_event {
                        self.received(line);
                    }
                    self.phase = Phase::Resync {
                        saw_data: saw_data || !is_event,
                        deadline,
                    };
                }
            },
            Phase::Idle => {
                self.emit(SessionEvent::ProtocolError(ProtocolError::Unexpected(
                    line.to_string(),
                )));
            }
            Phase::Closed => self.phase = Phase::Closed,
        }
    }

    /// Fires reply, greeting, keep-alive, poll and idle deadlines. Early calls are harmless.
    pub fn handle_timeout(&mut self, now: Millis) {
        match &self.phase {
            Phase::Greeting { deadline, .. } if now >= *deadline => {
                self.close(CloseReason::GreetingTimeout)
            }
            Phase::Waiting(f) if now >= f.deadline => {
                let Phase::Waiting(f) = std::mem::replace(&mut self.phase, Phase::Idle) else {
                    return;
                };
                match f.purpose {
                    Purpose::User(id) => {
                        self.emit(SessionEvent::Reply {
                            id,
                            command: f.command,
                            reply: Err(NoReply::TimedOut),
                        });
                        self.start_resync(now);
                    }
                    Purpose::LoginUser | Purpose::LoginPass => self.close(CloseReason::NoResponse),
                    _ => self.start_resync(now),
                }
            }
            Phase::Streaming { last_line } if now >= last_line.plus(self.config.keepalive_loss) => {
                self.close(CloseReason::KeepaliveLost);
            }
            Phase::LeavingLoop { deadline } | Phase::Resync { deadline, .. }
                if now >= *deadline =>
            {
                self.close(CloseReason::NoResponse);
            }
            Phase::Idle => self.pump(now),
            _ => {}
        }
    }

    /// The transport closed (or failed): pending commands fail, the session ends.
    pub fn handle_close(&mut self, why: &str) {
        if !matches!(self.phase, Phase::Closed) {
            let reason = match &self.phase {
                Phase::Waiting(f) if f.command == Command::Quit => CloseReason::Quit,
                _ => CloseReason::Transport(why.to_string()),
            };
            self.close(reason);
        }
    }

    /// Next output. Call until `None` after every `send`/`handle_*` call.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When `handle_timeout` wants to run next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        match &self.phase {
            Phase::Greeting { deadline, .. } => Some(*deadline),
            Phase::Waiting(f) => Some(f.deadline),
            Phase::Streaming { last_line } => Some(last_line.plus(self.config.keepalive_loss)),
            Phase::LeavingLoop { deadline } | Phase::Resync { deadline, .. } => Some(*deadline),
            Phase::Idle if self.logged_in && self.mode == ReceiveMode::Poll => Some(
                self.next_poll
                    .min(self.last_traffic.plus(self.config.idle_noop)),
            ),
            Phase::Idle => Some(self.last_traffic.plus(self.config.idle_noop)),
            Phase::Closed => None,
        }
    }

    fn emit(&mut self, e: SessionEvent) {
        self.outputs.push_back(Output::Event(e));
    }

    fn set_state(&mut self, s: State) {
        if self.state != s {
            self.state = s;
            self.emit(SessionEvent::State(s));
        }
    }

    fn close(&mut self, reason: CloseReason) {
        let old = std::mem::replace(&mut self.phase, Phase::Closed);
        if let Phase::Waiting(InFlight {
            purpose: Purpose::User(id),
            command,
            ..
        }) = old
        {
            let reply = if reason == CloseReason::Quit {
                Ok(Reply {
                    ok: true,
                    ..Reply::default()
                })
            } else {
                Err(NoReply::Closed)
            };
            self.emit(SessionEvent::Reply { id, command, reply });
        }
        for (id, command) in std::mem::take(&mut self.queue) {
            self.emit(SessionEvent::Reply {
                id,
                command,
                reply: Err(NoReply::Closed),
            });
        }
        self.set_state(State::Closed);
        self.emit(SessionEvent::Closed(reason));
    }

    fn received(&mut self, line: &str) {
        match Event::read_received(line) {
            Ok(ev) => self.emit(SessionEvent::Received(ev)),
            Err(error) => self.emit(SessionEvent::ProtocolError(ProtocolError::BadEvent {
                line: line.to_string(),
                error,
            })),
        }
    }

    fn after_greeting(&mut self, now: Millis) {
        match self.config.credentials.clone() {
            Some((user, _)) => {
                self.set_state(State::LoggingIn);
                self.transmit(Purpose::LoginUser, Command::User(user), now);
            }
            None => {
                self.logged_in = true;
                self.set_state(State::Ready);
                self.pump(now);
            }
        }
    }

    fn transmit(&mut self, purpose: Purpose, command: Command, now: Millis) {
        let wire = self.learned;
        self.transmit_in(purpose, command, wire, now);
    }

    fn transmit_in(&mut self, purpose: Purpose, command: Command, wire: Wire, now: Millis) {
        let mut line = wire_line(&command, wire);
        line.push_str("\r\n");
        self.outputs.push_back(Output::Transmit(line));
        self.last_traffic = now;
        let deadline = now.plus(self.config.reply_timeout);
        self.phase = Phase::Waiting(InFlight {
            purpose,
            command,
            wire,
            lines: Vec::new(),
            events: 0,
            deadline,
        });
    }

    fn start_resync(&mut self, now: Millis) {
        self.outputs
            .push_back(Output::Transmit("VERS\r\n".to_string()));
        self.phase = Phase::Resync {
            saw_data: false,
            deadline: now.plus(self.config.reply_timeout),
        };
    }

    /// Sends what is due when nothing is in flight.
    fn pump(&mut self, now: Millis) {
        match self.phase {
            Phase::Idle if !self.logged_in => {}
            Phase::Idle => {
                if let Some((id, command)) = self.queue.pop_front() {
                    self.transmit(Purpose::User(id), command, now);
                } else if self.mode == ReceiveMode::Stream {
                    self.transmit(Purpose::EnterLoop, Command::RcvLoop, now);
                } else if self.mode == ReceiveMode::Poll && now >= self.next_poll {
                    self.transmit(
                        Purpose::Poll,
                        Command::Retr(Some(self.config.retr_batch)),
                        now,
                    );
                } else if now >= self.last_traffic.plus(self.config.idle_noop) {
                    self.transmit(Purpose::KeepAlive, Command::Noop, now);
                } else {
                    self.set_state(State::Ready);
                }
            }
            Phase::Streaming { .. }
                if !self.queue.is_empty() || self.mode != ReceiveMode::Stream =>
            {
                self.outputs
                    .push_back(Output::Transmit("QUITLOOP\r\n".to_string()));
                self.phase = Phase::LeavingLoop {
                    deadline: now.plus(self.config.reply_timeout),
                };
            }
            _ => {}
        }
    }

    fn complete(&mut self, f: InFlight, s: Status, now: Millis) {
        let retr_ok = matches!(f.command, Command::Retr(_))
            && (f.events > 0 || s.text.starts_with("No event"));
        let reply = Reply {
            ok: s.ok || retr_ok,
            text: s.text,
            lines: f.lines,
        };
        self.phase = Phase::Idle;
        if let Purpose::User(_) = f.purpose {
            if !reply.ok
                && let Some(wire) = next_wire(&f.command, f.wire, &reply.text)
            {
                return self.transmit_in(f.purpose, f.command, wire, now);
            }
            if reply.ok && f.wire.retries > 0 {
                self.learn(f.wire);
            }
        }
        match f.purpose {
            Purpose::User(id) => {
                let quit = f.command == Command::Quit;
                self.emit(SessionEvent::Reply {
                    id,
                    command: f.command,
                    reply: Ok(reply),
                });
                if quit {
                    self.close(CloseReason::Quit);
                    return;
                }
            }
            Purpose::LoginUser if reply.ok => {
                let pass = self
                    .config
                    .credentials
                    .as_ref()
                    .map(|(_, p)| p.clone())
                    .unwrap_or_default();
                self.transmit(Purpose::LoginPass, Command::Pass(pass), now);
                return;
            }
            Purpose::LoginUser | Purpose::LoginPass if !reply.ok => {
                self.close(CloseReason::LoginFailed(reply.text));
                return;
            }
            Purpose::LoginPass => {
                self.logged_in = true;
                self.set_state(State::Ready);
            }
            Purpose::EnterLoop if reply.ok => {
                self.phase = Phase::Streaming { last_line: now };
                self.set_state(State::Streaming);
                self.pump(now);
                return;
            }
            Purpose::EnterLoop => {
                self.refuse_mode(ReceiveMode::Stream, reply.text, ReceiveMode::Poll)
            }
            Purpose::Poll if reply.ok => {
                let full = f.events >= self.config.retr_batch;
                self.next_poll = if full {
                    now
                } else {
                    now.plus(self.config.poll_interval)
                };
            }
            Purpose::Poll => self.refuse_mode(ReceiveMode::Poll, reply.text, ReceiveMode::Off),
            Purpose::LoginUser | Purpose::KeepAlive => {}
        }
        self.pump(now);
    }

    /// Keeps a form the server took after refusing the usual one, and says so.
    fn learn(&mut self, wire: Wire) {
        if wire.time != self.learned.time && wire.time != TimeForm::AsHeld {
            self.learned.time = wire.time;
            self.emit(SessionEvent::Adapted(Adaptation::TimeForm(wire.time)));
        }
        if wire.level1 && !self.learned.level1 {
            self.learned.level1 = true;
            self.emit(SessionEvent::Adapted(Adaptation::Level1Filters));
        }
    }

    /// The forms the server was found to take: SEND's time form, Level I filter widths.
    #[must_use]
    pub fn learned_forms(&self) -> (TimeForm, bool) {
        (self.learned.time, self.learned.level1)
    }

    fn refuse_mode(&mut self, mode: ReceiveMode, text: String, now_mode: ReceiveMode) {
        self.mode = now_mode;
        self.emit(SessionEvent::ProtocolError(
            ProtocolError::ReceiveModeRefused {
                mode,
                text,
                now: now_mode,
            },
        ));
    }
}
