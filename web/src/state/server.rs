//! What the server said (the server panel: VERS, WCYD, CHID, GGID, STAT every few seconds,
//! INFO, INTERFACE LIST) and the command console's transcript.

use std::rc::Rc;

use vscp_core::{Command, Guid, Millis, Reply};

use super::*;

/// How often the server panel's STAT counters are asked for again, ms.
pub const STAT_EVERY_MS: u64 = 10_000;

/// Lines kept in the command console transcript.
const TRANSCRIPT_CAPACITY: usize = 2_000;

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
    /// When STAT last answered (ms since the epoch).
    pub stat_ms: u64,
    /// `INFO`.
    pub info: Option<Info>,
    /// Greeting banner.
    pub banner: Vec<String>,
}

impl Console {
    pub(super) fn refresh_server(&mut self, now: Millis) {
        self.next_stat = now.0 + STAT_EVERY_MS;
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

    pub(super) fn server_reply(&mut self, command: &Command, r: &Reply) {
        if !r.ok {
            return;
        }
        let s = Rc::make_mut(&mut self.server);
        match command {
            Command::Version => s.version = r.version().ok(),
            Command::Wcyd => s.caps = r.capabilities().ok(),
            Command::Interface(_) => s.interfaces = r.interfaces().unwrap_or_default(),
            Command::ChId => s.channel = r.channel_id().ok(),
            Command::GetGuid => s.guid = r.guid().ok(),
            Command::Stat => {
                s.stat = r.stat().ok();
                s.stat_ms = self.clock;
            }
            Command::Info => s.info = r.info().ok(),
            _ => {}
        }
        if matches!(command, Command::Interface(_)) {
            let clients: Vec<Guid> = s
                .interfaces
                .iter()
                .filter(|i| interface_kind(i.kind).is_some())
                .map(|i| i.guid)
                .collect();
            self.nodes.set_clients(clients);
            self.refresh_nodes();
        }
    }

    pub(super) fn transcript(&mut self, t: Transcript) {
        let transcript = Rc::make_mut(&mut self.transcript);
        transcript.push_back(t);
        if transcript.len() > TRANSCRIPT_CAPACITY {
            transcript.pop_front();
        }
    }

    pub(super) fn command(&mut self, line: String, now: Millis) {
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

    pub(super) fn apply_mode(&mut self, m: ReceiveMode, now: Millis) {
        self.mode = m;
        if let Some(s) = self.session.as_mut() {
            s.set_receive_mode(m, now);
        }
    }
}
