//! Reading and writing the registers of one node as a sans-io state machine: for a Level I
//! node extended page reads/writes (CLASS1.PROTOCOL 37/38, page-safe), for a Level II node
//! CLASS2.PROTOCOL read/write (types 1/2, answered by 3) in its 32-bit register space; a
//! window of outstanding requests, adaptive time-outs from measured round trips, retries of
//! what is still missing, and every write checked against the value the node answers with
//! (protocol.md §9.1).
//!
//! Requests name registers by page and register as the Level I model does. For a Level II
//! node, registers 0x80–0xFF are its standard registers at 0xFFFFFF80–0xFFFFFFFF (whatever the
//! page), and register `r` < 0x80 of page `p` is address `p × 128 + r`: the user space as
//! consecutive pages of 128.
//!
//! Drive it like the client session: `read`/`write` queue requests, [`RegisterSession::poll_output`]
//! yields events to SEND and the values that arrived, every received event goes to
//! [`RegisterSession::handle_event`], and [`RegisterSession::handle_timeout`] runs at
//! [`RegisterSession::poll_timeout`].

use std::collections::VecDeque;

use crate::{
    client::Millis,
    event::Event,
    guid::Guid,
    registers::{RegisterReply, Target, level2_read, level2_write},
    rtt::Rtt,
};

/// Who the registers belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// A Level I node (behind an interface, or on the bus).
    Level1(Target),
    /// A Level II node, by its GUID.
    Level2(Guid),
}

/// The Level II address of register `reg` of `page` (see the module docs).
#[must_use]
pub fn level2_address(page: u16, reg: u8) -> u32 {
    if reg >= 0x80 {
        0xFFFF_FF00 | u32::from(reg)
    } else {
        u32::from(page) * 0x80 + u32::from(reg)
    }
}

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
    access: Access,
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
        RegisterSession::with(Access::Level1(target), config)
    }

    /// A session for the Level II node `guid` (CLASS2.PROTOCOL).
    #[must_use]
    pub fn level2(guid: Guid, config: RegisterConfig) -> RegisterSession {
        RegisterSession::with(Access::Level2(guid), config)
    }

    fn with(access: Access, config: RegisterConfig) -> RegisterSession {
        let config = RegisterConfig {
            window: config.window.max(1),
            chunk: config.chunk.clamp(1, MAX_CHUNK),
            tries: config.tries.max(1),
            ..config
        };
        RegisterSession {
            access,
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

    /// The Level I node this session talks to (`None` for a Level II node).
    #[must_use]
    pub fn target(&self) -> Option<Target> {
        match self.access {
            Access::Level1(t) => Some(t),
            Access::Level2(_) => None,
        }
    }

    /// Where register `reg` of `page` is, in this node's address space (Level I: page and
    /// register; Level II: its 32-bit address).
    fn address(&self, page: u16, reg: u8) -> u64 {
        match self.access {
            Access::Level1(_) => u64::from(page) << 8 | u64::from(reg),
            Access::Level2(_) => u64::from(level2_address(page, reg)),
        }
    }

    /// Queues reads of `count` registers from `first` on `page` (to register 0xFF at most).
    pub fn read(&mut self, page: u16, first: u8, count: u16, now: Millis) {
        let end = (u16::from(first) + count).min(256);
        let mut reg = u16::from(first);
        while reg < end {
            // never across 0x80: a Level II node's standard registers are elsewhere
            let edge = if reg < 0x80 { end.min(0x80) } else { end };
            let n = (edge - reg).min(u16::from(self.config.chunk));
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
        // where the answered registers start, in the node's address space
        let (start, values) = match (self.access, RegisterReply::from_event(event)) {
            (
                Access::Level1(_),
                Some(RegisterReply::Page {
                    page, reg, values, ..
                }),
            ) => (u64::from(page) << 8 | u64::from(reg), values),
            (Access::Level2(_), Some(RegisterReply::Level2 { reg, values, .. })) => {
                (u64::from(reg), values)
            }
            _ => return false,
        };
        let mut used = false;
        let mut i = 0;
        while let Some(f) = self.flights.get(i) {
            let request = f.request;
            let done = match request {
                RegisterRequest::Write {
                    page,
                    reg,
                    value: wanted,
                } if self.address(page, reg) == start => {
                    let value = values.first().copied().unwrap_or_default();
                    self.out.push_back(RegisterOutput::Written {
                        page,
                        reg,
                        wanted,
                        value,
                    });
                    if let Some(f) = self.flights.get_mut(i) {
                        f.missing = 0;
                    }
                    true
                }
                RegisterRequest::Read {
                    page,
                    reg: first,
                    count,
                } => {
                    let base = self.address(page, first);
                    let mut progress = false;
                    let Some(f) = self.flights.get_mut(i) else {
                        break;
                    };
                    for (k, v) in values.iter().enumerate() {
                        let Some(bit) = (start + k as u64).checked_sub(base) else {
                            continue;
                        };
                        if bit < u64::from(count) && f.missing & (1 << bit) != 0 {
                            f.missing &= !(1 << bit);
                            progress = true;
                            self.stats.values += 1;
                            self.out.push_back(RegisterOutput::Value {
                                page,
                                reg: first.wrapping_add(bit as u8),
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
            let Some(f) = self.flights.get(i) else {
                break;
            };
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

    /// An answer comes from the node: its nickname behind the same interface, or its GUID.
    fn is_from_target(&self, event: &Event) -> bool {
        let guid = event.guid;
        match self.access {
            Access::Level1(t) => {
                guid.nickname() == t.nickname
                    && t.interface
                        .is_none_or(|i| i.with_nickname(0) == guid.with_nickname(0))
            }
            Access::Level2(g) => guid == g,
        }
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
        match (self.access, *request) {
            (Access::Level1(t), RegisterRequest::Read { page, reg, count }) => {
                t.read_page(page, reg, count)
            }
            (Access::Level1(t), RegisterRequest::Write { page, reg, value }) => {
                t.write_page(page, reg, &[value])
            }
            (Access::Level2(g), RegisterRequest::Read { page, reg, count }) => {
                level2_read(g, level2_address(page, reg), u16::from(count))
            }
            (Access::Level2(g), RegisterRequest::Write { page, reg, value }) => {
                level2_write(g, level2_address(page, reg), &[value])
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
