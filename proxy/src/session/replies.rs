//! The proxy's own replies among the node's, in command order. With accounts, a line the
//! gate refuses is answered by the proxy; a client that sends several commands without
//! waiting must still get one reply per command in the order it sent them, so the refusal
//! waits for the node's replies to the lines forwarded before it. The same count pairs each
//! audited command with the node's reply to it.
//!
//! A reply is a line starting `+OK` or `-OK`; a command's data lines (RETR's events, INFO's
//! lines) come before it. Replies while nothing is outstanding (a receive loop's keep-alives,
//! the greeting) are not counted.

use std::{collections::VecDeque, sync::Mutex};

use bytes::Bytes;
use serde_json::Value;

/// One session's count of lines forwarded and answered.
#[derive(Debug, Default)]
pub(super) struct Replies(Mutex<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Lines forwarded to the node.
    sent: u64,
    /// Of them, answered.
    answered: u64,
    /// Refusals waiting for the replies to the lines before them: (lines sent before, reply).
    held: VecDeque<(u64, Bytes)>,
    /// Audit records of forwarded commands waiting for their reply: (the line's number, record).
    audited: VecDeque<(u64, Value)>,
}

/// What the node's lines of one read become.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Interleaved {
    /// Messages for the browser, in order (the node's lines with held refusals between them).
    pub messages: Vec<Bytes>,
    /// Audit records now answered, with `reply` set.
    pub answered: Vec<Value>,
}

impl Replies {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A line goes to the node; `record`: its audit record, completed by its reply.
    pub(super) fn forwarded(&self, record: Option<Value>) {
        let mut i = self.inner();
        if let Some(r) = record {
            let n = i.sent;
            i.audited.push_back((n, r));
        }
        i.sent += 1;
    }

    /// The proxy refuses a line: the reply to send now, or `None` when it waits for replies
    /// still due (it then comes out of [`Replies::interleave`]).
    pub(super) fn refused(&self, reply: Bytes) -> Option<Bytes> {
        let mut i = self.inner();
        if i.sent == i.answered {
            return Some(reply);
        }
        let mark = i.sent;
        i.held.push_back((mark, reply));
        None
    }

    /// Are replies due (so the node's lines must be looked at)?
    pub(super) fn due(&self) -> bool {
        let i = self.inner();
        i.sent > i.answered
    }

    /// Counts the replies among complete lines from the node and puts held refusals after
    /// the reply they wait for.
    pub(super) fn interleave(&self, payload: Bytes) -> Interleaved {
        let mut i = self.inner();
        let mut out = Interleaved::default();
        let mut start = 0;
        let mut line_start = 0;
        for end in memchr::memchr_iter(b'\n', &payload) {
            let line = &payload[line_start..end];
            line_start = end + 1;
            if i.answered == i.sent {
                break;
            }
            let ok = line.starts_with(b"+OK");
            if !ok && !line.starts_with(b"-OK") {
                continue;
            }
            let number = i.answered;
            i.answered += 1;
            if i.audited.front().is_some_and(|(n, _)| *n == number)
                && let Some((_, mut record)) = i.audited.pop_front()
            {
                record["reply"] = Value::from(if ok { "+OK" } else { "-OK" });
                out.answered.push(record);
            }
            while i.held.front().is_some_and(|(mark, _)| *mark <= i.answered) {
                if let Some((_, reply)) = i.held.pop_front() {
                    out.messages.push(payload.slice(start..line_start));
                    out.messages.push(reply);
                    start = line_start;
                }
            }
        }
        if start < payload.len() {
            out.messages.push(payload.slice(start..));
        }
        out
    }

    /// Audit records still without a reply (the session ended first).
    pub(super) fn unanswered(&self) -> Vec<Value> {
        self.inner().audited.drain(..).map(|(_, r)| r).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(i: &Interleaved) -> Vec<&str> {
        i.messages
            .iter()
            .map(|m| std::str::from_utf8(m).unwrap())
            .collect()
    }

    #[test]
    fn refusals_keep_command_order() {
        let r = Replies::default();
        assert_eq!(
            r.refused(Bytes::from("-OK no\r\n")).as_deref(),
            Some(&b"-OK no\r\n"[..])
        );
        r.forwarded(None);
        r.forwarded(Some(serde_json::json!({"command": "SEND"})));
        assert_eq!(
            r.refused(Bytes::from("-OK no\r\n")),
            None,
            "two replies due"
        );
        r.forwarded(None);
        assert!(r.due());
        // an event, the first reply, then the second and the third in one read
        let first = r.interleave(Bytes::from("E 1\r\n+OK\r\n"));
        assert_eq!(texts(&first), ["E 1\r\n+OK\r\n"]);
        let rest = r.interleave(Bytes::from("-OK - Failed\r\n+OK\r\n+OK keep-alive\r\n"));
        assert_eq!(
            texts(&rest),
            [
                "-OK - Failed\r\n",
                "-OK no\r\n",
                "+OK\r\n+OK keep-alive\r\n"
            ]
        );
        assert_eq!(rest.answered[0]["reply"], "-OK");
        assert!(!r.due());
        assert!(r.unanswered().is_empty());
    }
}
