//! The audit log (`--audit FILE`): one JSON line per session start and end and per command
//! of level 4 or more (sent or refused), with the time, account, client address and target;
//! never a password.

use std::{io::Write, net::SocketAddr, path::Path, sync::Mutex};

use serde_json::json;

/// Who a session is: the account logged in to the proxy, its level, where it comes from.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// Account name.
    pub user: String,
    /// Privilege level 0–15.
    pub level: u8,
    /// Events the account may SEND (empty: any).
    pub events: Vec<vscp_core::policy::EventRule>,
    /// Client address.
    pub peer: SocketAddr,
    /// Target name.
    pub target: String,
}

/// The open audit file.
#[derive(Debug)]
pub(crate) struct Audit(Mutex<std::fs::File>);

impl Audit {
    /// Opens (appends to) the file.
    pub(crate) fn open(path: &Path) -> std::io::Result<Audit> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Audit(Mutex::new(file)))
    }

    /// Writes one record about `who`: `what` is `start`, `end` or `command`.
    pub(crate) fn record(&self, who: &Caller, what: &str, extra: serde_json::Value) {
        self.write(&self.stamp(who, what, extra));
    }

    /// One record about `who` as of now, to be written (maybe with more fields) later.
    pub(crate) fn stamp(
        &self,
        who: &Caller,
        what: &str,
        extra: serde_json::Value,
    ) -> serde_json::Value {
        let mut line = json!({
            "time": vscp_core::utc_string(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64),
            ),
            "event": what,
            "account": who.user,
            "level": who.level,
            "client": who.peer.ip().to_string(),
            "target": who.target,
        });
        if let (Some(l), Some(e)) = (line.as_object_mut(), extra.as_object()) {
            l.extend(e.clone());
        }
        line
    }

    /// Appends a record.
    pub(crate) fn write(&self, line: &serde_json::Value) {
        let mut file = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(file, "{line}");
    }
}

/// A command as it may be logged: the word, and its argument except for a password.
pub(crate) fn loggable(line: &str) -> String {
    let line = line.trim();
    let word = line.split_whitespace().next().unwrap_or_default();
    if word.eq_ignore_ascii_case("PASS") {
        "PASS ***".into()
    } else {
        line.chars().take(200).collect()
    }
}
