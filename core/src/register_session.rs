//! Reading and writing the registers of one Level I node as a sans-io state machine:
//! extended page reads/writes (CLASS1.PROTOCOL 37/38, page-safe), a window of outstanding
//! requests, adaptive time-outs from measured round trips, retries of what is still missing,
//! and every write checked against the value the node answers with (protocol.md §9.1).
//!
//! Drive it like the client session: `read`/`write` queue requests, [`RegisterSession::poll_output`]
//! yields events to SEND and the values that arrived, every received event goes to
//! [`RegisterSession::handle_event`], and [`RegisterSession::handle_timeout`] runs at
//! [`RegisterSession::poll_timeout`].

use std::collections::VecDeque;

use crate::{
    client::Millis,
    event::Event,
    registers::{RegisterReply, Target},
    rtt::Rtt,
};

/// Most registers one read request asks for (its reply frames are tracked in a `u64`).
pub const MAX_CHUNK: u8 = 64;

/// How reads and writes are paced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisterConfig {
    /// Requests outstanding at once.
    pub window: usize,
    /// Registers per read request (1–64; 16 = four reply frames).
    pub chunk: u8,
    /// Time-out before any round trip was measured, ms.
    pub initial_timeout_ms: u64,
    /// Shortest time-out, ms.
    pub min_timeout_ms: u64,
    /// Longest time-out (after back-off), ms.
    pub max_timeout_ms: u64,
    /// Tries per request, the first included.
    pub tries: u8,
}

impl Default for RegisterConfig {
    fn default() -> RegisterConfig {
        RegisterConfig {
            window: 4,
            chunk: 16,
            initial_timeout_ms: 1_000,
            min_timeout_ms: 150,
            max_timeout_ms: 5_000,
            tries: 3,
        }
    }
}

impl RegisterConfig {
    fn limits(&self) -> crate::rtt::Limits {
        crate::rtt::Limits {
            initial_ms: self.initial_timeout_ms,
            min_ms: self.min_timeout_ms,
            max_ms: self.max_timeout_ms,
        }
    }
}

/// One request to the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterRequest {
    /// `count` registers from `reg` on `page`.
    Read {
        /// Page.
        page: u16,
        /// First register.
        reg: u8,
        /// How many (1–64).
        count: u8,
    },
    /// One register.
    Write {
        /// Page.
        page: u16,
        /// Register.
        reg: u8,
        /// Value to write.
        value: u8,
    },
}

impl RegisterRequest {
    /// Page, first register and number of registers it touches.
    fn span(&self) -> (u16, u8, u8) {
        match *self {
            RegisterRequest::Read { page, reg, count } => (page, reg, count),
            RegisterRequest::Write { page, reg, .. } => (page, reg, 1),
        }
    }

    fn overlaps(&self, other: &RegisterRequest) -> bool {
        let ((p1, r1, n1), (p2, r2, n2)) = (self.span(), other.span());
        let (a1, a2) = (u16::from(r1), u16::from(r2));
        p1 == p2 && a1 < a2 + u16::from(n2) && a2 < a1 + u16::from(n1)
    }
}

/// What the session has to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterOutput {
    /// SEND this event.
    Send(Event),
    /// A register's value arrived.
    Value {
        /// Page.
        page: u16,
        /// Register.
        reg: u8,
        /// Value.
        value: u8,
    },
    /// A write was answered with the register's content after the write.
    Written {
        /// Page.
        page: u16,
        /// Register.
        reg: u8,
        /// The value asked for.
        wanted: u8,
        /// The value the node reports (differs for read-only or clamped registers).
        value: u8,
    },
    /// A request got no (complete) answer after every try.
    Failed {
        /// The part that is still missing.
        request: RegisterRequest,
        /// Tries made.
        tries: u8,
    },
}

/// Counters and timing for the user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegisterStats {
    /// Requests sent, retries included.
    pub sent: u64,
    /// Retries.
    pub retries: u64,
    /// Requests that failed after every try.
    pub failed: u64,
    /// Register values received.
    pub values: u64,
    /// Last measured round trip (first try only), ms.
    pub last_rtt_ms: Option<u64>,
    /// Smoothed round trip, ms.
    pub srtt_ms: Option<u64>,
    /// Time-out in use for a first try, ms.
    pub timeout_ms: u64,
}

/// A request on its way.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Flight {
    request: RegisterRequest,
    /// For reads: bit `i` set while register `reg + i` is missing.
    missing: u64,
    sent: Millis,
    deadline: Millis,
    tries: u8,
}

/// Register access to one node (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct RegisterSession {
    target: Target,
    config: RegisterConfig,
    queue: VecDeque<RegisterRequest>,
    flights: Vec<Flight>,
    rtt: Rtt,
    out: VecDeque<RegisterOutput>,
    stats: RegisterStats,
}

impl RegisterSession {
    /// A session for `target` (its interface GUID and nickname).
    #[must_use]
    pub fn new(target: Target, config: RegisterConfig) -> RegisterSession {
        let config = RegisterConfig {
            window: config.window.max(1),
            chunk: config.chunk.clamp(1, MAX_CHUNK),
            tries: config.tries.max(1),
            ..config
        };
        RegisterSession {
            target,
            config,
            queue: VecDeque::new(),
            flights: Vec::new(),
            rtt: Rtt::default(),
            out: VecDeque::new(),
            stats: RegisterStats {
                timeout_ms: config.initial_timeout_ms,
                ..RegisterStats::default()
            },
        }
    }

    /// The node this session talks to.
    #[must_use]
    pub fn target(&self) -> Target {
        self.target
    }

    /// Queues reads of `count` registers from `first` on `page` (to register 0xFF at most).
    pub fn read(&mut self, page: u16, first: u8, count: u16, now: Millis) {
        let end = (u16::from(first) + count).min(256);
        let mut reg = u16::from(first);
        while reg < end {
            let n = (end - reg).min(u16::from(self.config.chunk));
            self.queue.push_back(RegisterRequest::Read {
                page,
                reg: reg as u8,
                count: n as u8,
            });
            reg += n;
        }
        self.pump(now);
    }

    /// Queues a write of one register; its answer comes as [`RegisterOutput::Written`].
    pub fn write(&mut self, page: u16, reg: u8, value: u8, now: Millis) {
        self.queue
            .push_back(RegisterRequest::Write { page, reg, value });
        self.pump(now);
    }

    /// Drops every queued and outstanding request; returns how many there were.
    pub fn cancel(&mut self) -> usize {
        let n = self.queue.len() + self.flights.len();
        self.queue.clear();
        self.flights.clear();
        n
    }

    /// Nothing queued or outstanding.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.flights.is_empty()
    }

    /// Requests queued or outstanding.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.queue.len() + self.flights.len()
    }

    /// Requests sent and not yet answered (at most the window).
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.flights.len()
    }

    /// Counters and timing.
    #[must_use]
    pub fn stats(&self) -> RegisterStats {
        self.stats
    }

    /// Takes a received event; returns whether it was an answer to this session.
    pub fn handle_event(&mut self, event: &Event, now: Millis) -> bool {
        if !self.is_from_target(event) {
            return false;
        }
        let Some(RegisterReply::Page {
            page, reg, values, ..
        }) = RegisterReply::from_event(event)
        else {
            return false;
        };
        let mut used = false;
        let mut i = 0;
        while let Some(f) = self.flights.get_mut(i) {
            let done = match f.request {
                RegisterRequest::Write {
                    page: p,
                    reg: r,
                    value: wanted,
                } if p == page && r == reg => {
                    let value = values.first().copied().unwrap_or_default();
                    self.out.push_back(RegisterOutput::Written {
                        page,
                        reg,
                        wanted,
                        value,
                    });
                    f.missing = 0;
                    true
                }
                RegisterRequest::Read {
                    page: p,
                    reg: first,
                    count,
                } if p == page => {
                    let mut progress = false;
                    for (k, v) in values.iter().enumerate() {
                        let at = usize::from(reg) + k;
                        let Some(bit) = at.checked_sub(usize::from(first)) else {
                            continue;
                        };
                        if bit < usize::from(count) && f.missing & (1 << bit) != 0 {
                            f.missing &= !(1 << bit);
                            progress = true;
                            self.stats.values += 1;
                            self.out.push_back(RegisterOutput::Value {
                                page,
                                reg: at as u8,
                                value: *v,
                            });
                        }
                    }
                    if progress {
                        // more frames may follow: the clock restarts with each one
                        f.deadline = now.plus(self.rtt.timeout(self.config.limits()));
                    }
                    progress
                }
                _ => false,
            };
            used |= done;
            if done && f.missing == 0 {
                let f = self.flights.swap_remove(i);
                if f.tries == 1 {
                    // Karn: only first tries measure the round trip
                    let rtt = now.0.saturating_sub(f.sent.0);
                    self.rtt.sample(rtt);
                    self.stats.last_rtt_ms = Some(rtt);
                    self.stats.srtt_ms = self.rtt.srtt();
                    self.stats.timeout_ms = self.rtt.timeout(self.config.limits());
                }
            } else {
                i += 1;
            }
        }
        self.pump(now);
        used
    }

    /// Retries or gives up what is overdue at `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        let base = self.rtt.timeout(self.config.limits());
        let mut i = 0;
        while let Some(f) = self.flights.get_mut(i) {
            if f.deadline > now {
                i += 1;
                continue;
            }
            let request = remaining(f);
            if f.tries >= self.config.tries {
                let tries = f.tries;
                self.flights.swap_remove(i);
                self.stats.failed += 1;
                self.out
                    .push_back(RegisterOutput::Failed { request, tries });
                continue;
            }
            f.tries += 1;
            let backoff = base.saturating_mul(1 << (f.tries - 1).min(6));
            f.deadline = now.plus(backoff.min(self.config.max_timeout_ms));
            f.sent = now;
            f.request = request;
            if let RegisterRequest::Read { count, .. } = request {
                f.missing = bits(count);
            }
            self.stats.sent += 1;
            self.stats.retries += 1;
            let ev = self.event(&request);
            self.out.push_back(RegisterOutput::Send(ev));
            i += 1;
        }
        self.pump(now);
    }

    /// When [`RegisterSession::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.flights.iter().map(|f| f.deadline).min()
    }

    /// Outputs are waiting for [`RegisterSession::poll_output`].
    #[must_use]
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// The next output, until `None`.
    pub fn poll_output(&mut self) -> Option<RegisterOutput> {
        self.out.pop_front()
    }

    /// An answer comes from the node: its nickname, behind the same interface.
    fn is_from_target(&self, event: &Event) -> bool {
        let guid = event.guid;
        guid.nickname() == self.target.nickname
            && self
                .target
                .interface
                .is_none_or(|i| i.with_nickname(0) == guid.with_nickname(0))
    }

    /// Sends queued requests while the window has room; a request that overlaps one on its
    /// way waits (its answer could not be told apart), and so does everything behind it.
    fn pump(&mut self, now: Millis) {
        while self.flights.len() < self.config.window {
            let Some(next) = self.queue.front() else {
                return;
            };
            if self.flights.iter().any(|f| f.request.overlaps(next)) {
                return;
            }
            let Some(request) = self.queue.pop_front() else {
                return;
            };
            let missing = match request {
                RegisterRequest::Read { count, .. } => bits(count),
                RegisterRequest::Write { .. } => 1,
            };
            self.flights.push(Flight {
                request,
                missing,
                sent: now,
                deadline: now.plus(self.rtt.timeout(self.config.limits())),
                tries: 1,
            });
            self.stats.sent += 1;
            let ev = self.event(&request);
            self.out.push_back(RegisterOutput::Send(ev));
        }
    }

    fn event(&self, request: &RegisterRequest) -> Event {
        match *request {
            RegisterRequest::Read { page, reg, count } => self.target.read_page(page, reg, count),
            RegisterRequest::Write { page, reg, value } => {
                self.target.write_page(page, reg, &[value])
            }
        }
    }
}

/// A mask of the low `count` bits.
fn bits(count: u8) -> u64 {
    if count >= 64 {
        u64::MAX
    } else {
        (1u64 << count) - 1
    }
}

/// What of a flight is still unanswered: a read narrowed to its first..=last missing register.
fn remaining(f: &Flight) -> RegisterRequest {
    match f.request {
        RegisterRequest::Read { page, reg, .. } if f.missing != 0 => {
            let lo = f.missing.trailing_zeros() as u8;
            let hi = 63 - f.missing.leading_zeros() as u8;
            RegisterRequest::Read {
                page,
                reg: reg.wrapping_add(lo),
                count: hi - lo + 1,
            }
        }
        r => r,
    }
}
