//! Events the user sends: once from the send form, or again and again (repeats).

use std::rc::Rc;

use vscp_core::{Command, Event, Millis};

use super::*;

/// Sent events kept in the send history.
const SENT_CAPACITY: usize = 50;

/// Lines longer than this may be refused by small servers (protocol.md §1).
pub const SMALL_SERVER_LINE: usize = 320;

/// An event sent again and again (a row of the send history).
#[derive(Clone, Debug, PartialEq)]
pub struct Repeat {
    /// Its id.
    pub id: u64,
    /// The event.
    pub event: Event,
    /// Period, ms.
    pub every_ms: u64,
    /// Sends in all.
    pub times: u32,
    /// Sends so far.
    pub sent: u32,
    /// Stopped by the user before the end.
    pub stopped: bool,
    next_at: Millis,
}

impl Repeat {
    /// Still sending.
    #[must_use]
    pub fn running(&self) -> bool {
        !self.stopped && self.sent < self.times
    }
}

impl Console {
    /// SENDs an event from the send form and keeps it in the history.
    pub(super) fn send_event(&mut self, ev: Event, now: Millis) {
        let line = ev.to_string();
        if line.len() + 5 > SMALL_SERVER_LINE {
            self.notice(format!(
                "SEND line is {} bytes: small servers refuse lines over {SMALL_SERVER_LINE}",
                line.len() + 5
            ));
        }
        if self.submit(Command::Send(ev.clone()), Purpose::SendEvent, now) {
            let sent = Rc::make_mut(&mut self.sent);
            sent.push(ev);
            if sent.len() > SENT_CAPACITY {
                sent.remove(0);
            }
        }
    }

    /// Sends what the repeats have due (a late tick sends every occurrence it missed).
    pub(super) fn run_repeats(&mut self, now: Millis) {
        if !self.repeats.iter().any(|r| r.running() && r.next_at <= now) {
            return;
        }
        let mut due = Vec::new();
        for r in Rc::make_mut(&mut self.repeats).iter_mut() {
            while r.running() && r.next_at <= now {
                due.push(r.event.clone());
                r.sent += 1;
                r.next_at = r.next_at.plus(r.every_ms);
            }
        }
        for ev in due {
            if !self.submit(Command::Send(ev), Purpose::SendEvent, now) {
                // not connected: the repeats stop rather than pile up
                for r in Rc::make_mut(&mut self.repeats).iter_mut() {
                    r.stopped |= r.running();
                }
                break;
            }
        }
    }

    /// Starts sending `event` every `every_ms` ms, `times` times in all (the first now).
    pub(super) fn repeat(&mut self, event: Event, every_ms: u64, times: u32, now: Millis) {
        let repeats = Rc::make_mut(&mut self.repeats);
        let id = repeats.last().map_or(1, |r| r.id + 1);
        repeats.push(Repeat {
            id,
            event,
            every_ms,
            times,
            sent: 0,
            stopped: false,
            next_at: now,
        });
        if repeats.len() > SENT_CAPACITY {
            repeats.remove(0);
        }
        self.run_repeats(now);
    }

    /// Stops a repeat.
    pub(super) fn stop_repeat(&mut self, id: u64) {
        if let Some(r) = Rc::make_mut(&mut self.repeats)
            .iter_mut()
            .find(|r| r.id == id)
        {
            r.stopped = true;
        }
    }
}
