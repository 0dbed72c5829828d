//! The bridge's link-server side: one session per server (receive loop or polling), its
//! queue of events to SEND, echo and loop recognition, reconnects with back-off.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    hash::{Hash, Hasher},
    sync::{Arc, Mutex, PoisonError, atomic::Ordering::Relaxed},
    time::{Duration, Instant},
};

use tokio::sync::mpsc;
use vscp_core::{
    ClientConfig, ClientSession, Command, Event, Millis, ProtocolError, ReceiveMode, SessionEvent,
    State,
};

use super::{Counters, Mode, ServerConfig};
use crate::link_client::LinkClient;
use crate::shutdown::Shutdown;

/// First wait before a reconnect; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait before a reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Events a session sent that are remembered to recognise their echo.
const ECHO_MEMORY: usize = 4096;
/// Events the bridge forwarded or sent, remembered by origin to end loops.
pub(super) const SEEN_MEMORY: usize = 65_536;
/// How long a connection to a server may take.
const CONNECT_LIMIT: Duration = Duration::from_secs(5);
/// SENDs a session has waiting for replies before it takes more from its queue.
const SEND_WINDOW: usize = 16;

/// What a session shares with the rest of the bridge.
pub(super) struct Link {
    /// The other destinations' queues and counters.
    pub(super) others: Vec<(mpsc::Sender<Event>, Arc<Counters>)>,
    /// This server's counters.
    pub(super) counters: Arc<Counters>,
    /// Origins of every event the bridge forwarded or sent.
    pub(super) seen: Arc<Mutex<Recent>>,
}

/// Holds a session to one server, reconnecting with back-off until shutdown.
pub(super) async fn keep(
    server: ServerConfig,
    mut rx: mpsc::Receiver<Event>,
    link: Link,
    shutdown: Shutdown,
) {
    let mut backoff = FIRST_BACKOFF;
    // SENT but not answered when a connection broke, then what was waiting to be sent
    // again: first, in this order, on the next connection
    let (mut unanswered, mut resend) = (VecDeque::new(), VecDeque::new());
    loop {
        let mut first = std::mem::take(&mut unanswered);
        first.append(&mut resend);
        resend = first;
        let started = Instant::now();
        let end = tokio::select! {
            end = session(&server, &mut rx, &mut resend, &mut unanswered, &link, &shutdown) => end,
            _ = shutdown.wait() => return,
        };
        link.counters.up.store(0, Relaxed);
        if shutdown.is_triggered() {
            return;
        }
        if started.elapsed() > MAX_BACKOFF {
            backoff = FIRST_BACKOFF; // it had been up a while: try again soon
        }
        tracing::warn!(server = %server.name, address = %server.address, ?backoff, "bridge session ended: {}", end.err().map(|e| e.to_string()).unwrap_or_default());
        link.counters.reconnects.fetch_add(1, Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.wait() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Which kind of unusable line a protocol error is (one log line per kind and session).
fn bad_line_kind(e: &ProtocolError) -> u8 {
    match e {
        ProtocolError::LineTooLong => 0,
        ProtocolError::BadEvent { .. } => 1,
        ProtocolError::Unexpected(_) => 2,
        ProtocolError::ReceiveModeRefused { .. } => 3,
    }
}

/// Fingerprints of the events a session SENT whose echo has not come back, counted: the
/// same event sent twice comes back twice (a server may rewrite its time stamp, so the
/// time is no part of the fingerprint). The oldest are forgotten first.
#[derive(Default)]
struct Echoes {
    order: VecDeque<u64>,
    waiting: HashMap<u64, u32>,
}

impl Echoes {
    fn expect(&mut self, f: u64) {
        if self.order.len() >= ECHO_MEMORY
            && let Some(old) = self.order.pop_front()
        {
            self.forget(old);
        }
        self.order.push_back(f);
        *self.waiting.entry(f).or_default() += 1;
    }

    /// True when `f` was waiting to come back (and is no longer).
    fn take(&mut self, f: u64) -> bool {
        let came = self.forget(f);
        if came && let Some(at) = self.order.iter().position(|o| *o == f) {
            self.order.remove(at);
        }
        came
    }

    fn forget(&mut self, f: u64) -> bool {
        match self.waiting.get_mut(&f) {
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                self.waiting.remove(&f);
            }
            None => return false,
        }
        true
    }
}

/// What identifies an event sent into a server when it shows it back (a server may give it
/// its own obid and, when it had none, its own time).
fn fingerprint(e: &Event) -> u64 {
    hash((e.guid, e.class, e.kind, &e.data))
}

/// What identifies an event wherever it is forwarded: its fingerprint and the time its node
/// gave it, whichever form a server writes that time in (`None` without one: such an event
/// cannot be told from a repeat).
fn origin(e: &Event) -> Option<u64> {
    // a time of 0 is firmware's "not set": it tells repeats apart no more than none
    let ns = e.stamp.unix_ns().filter(|ns| *ns != 0)?;
    Some(hash((e.guid, e.class, e.kind, &e.data, ns)))
}

fn hash(v: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Fingerprints remembered for a while; the oldest are forgotten first.
pub(super) struct Recent {
    order: VecDeque<u64>,
    set: HashSet<u64>,
    capacity: usize,
}

impl Recent {
    pub(super) fn new(capacity: usize) -> Recent {
        Recent {
            order: VecDeque::new(),
            set: HashSet::new(),
            capacity,
        }
    }

    /// Remembers `f`; false when it was remembered already.
    fn remember(&mut self, f: u64) -> bool {
        if !self.set.insert(f) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(f);
        true
    }
}

impl Link {
    /// True the first time the bridge meets this event (received or sent), by its origin.
    fn first_time(&self, e: &Event) -> bool {
        origin(e).is_none_or(|o| {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.remember(o)
        })
    }
}

/// One connection to a server: login, then receive and forward, and SEND what others queued.
async fn session(
    server: &ServerConfig,
    rx: &mut mpsc::Receiver<Event>,
    resend: &mut VecDeque<Event>,
    unanswered: &mut VecDeque<Event>,
    link: &Link,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let counters = &*link.counters;
    let config = ClientConfig {
        credentials: server.user.clone().map(|u| (u, server.password.clone())),
        receive: match server.mode {
            Mode::Stream => ReceiveMode::Stream,
            Mode::Poll => ReceiveMode::Poll,
        },
        poll_interval: server.poll_ms,
        ..ClientConfig::default()
    };
    let mut client = LinkClient::connect(&server.address, config, CONNECT_LIMIT).await?;
    let mut echoes = Echoes::default();
    let mut ready = false;
    // kinds of bad line already logged this session (bits by `bad_line_kind`)
    let mut first_of_kind = 0u8;
    loop {
        for event in client.flush().await {
            match event {
                SessionEvent::Received(ev) => {
                    counters.received.fetch_add(1, Relaxed);
                    if let Some(u) = ev.unread.first()
                        && counters.unreadable.fetch_add(1, Relaxed) == 0
                    {
                        tracing::warn!(server = %server.name, "an event with an unreadable field, forwarded with the server's text ({u}); counted in unreadable_total");
                    }
                    if echoes.take(fingerprint(&ev)) {
                        counters.echoes.fetch_add(1, Relaxed);
                        continue;
                    }
                    if !link.first_time(&ev) {
                        counters.looped.fetch_add(1, Relaxed);
                        continue;
                    }
                    for (tx, c) in &link.others {
                        if tx.try_send(ev.clone()).is_err() {
                            c.dropped.fetch_add(1, Relaxed);
                        }
                    }
                }
                SessionEvent::State(State::Ready | State::Streaming) if !ready => {
                    ready = true;
                    counters.up.store(1, Relaxed);
                    tracing::info!(server = %server.name, "bridge session up");
                }
                SessionEvent::Reply { command, reply, .. } => {
                    if let Command::Send(_) = command {
                        unanswered.pop_front(); // replies come in order
                    }
                    if let Ok(r) = reply
                        && !r.ok
                    {
                        tracing::warn!(server = %server.name, "{} refused: {}", command.word(), r.text);
                    }
                }
                SessionEvent::Closed(why) => anyhow::bail!("{why}"),
                SessionEvent::Adapted(a) => {
                    tracing::info!(server = %server.name, "{a}");
                }
                SessionEvent::ProtocolError(e) => {
                    let kind = bad_line_kind(&e);
                    counters.bad_lines.fetch_add(1, Relaxed);
                    if first_of_kind & (1 << kind) == 0 {
                        first_of_kind |= 1 << kind;
                        tracing::warn!(server = %server.name, "a line from the server not forwarded: {e}; counted in bad_lines_total (only the first of its kind is logged)");
                    }
                }
                SessionEvent::Connected { .. } | SessionEvent::State(_) => {}
            }
        }
        let room = ready && client.session.pending() < SEND_WINDOW;
        if room && let Some(ev) = resend.pop_front() {
            let now = client.now();
            send(
                &mut client.session,
                ev,
                unanswered,
                &mut echoes,
                link,
                &server.name,
                now,
            );
            continue;
        }
        tokio::select! {
            _ = client.input(None) => {}
            Some(ev) = rx.recv(), if room => {
                let now = client.now();
                send(&mut client.session, ev, unanswered, &mut echoes, link, &server.name, now);
            }
            _ = shutdown.wait() => {
                client.quit().await;
                return Ok(());
            }
        }
    }
}

/// SENDs one event, remembering it until its reply, for its echo and by its origin.
fn send(
    s: &mut ClientSession,
    ev: Event,
    unanswered: &mut VecDeque<Event>,
    echoes: &mut Echoes,
    link: &Link,
    name: &str,
    now: Millis,
) {
    let counters = &*link.counters;
    echoes.expect(fingerprint(&ev));
    link.first_time(&ev);
    match s.send(Command::Send(ev.clone()), now) {
        Ok(_) => {
            counters.sent.fetch_add(1, Relaxed);
            unanswered.push_back(ev);
        }
        Err(e) => {
            // the window keeps the session's queue short: this session is closing
            counters.dropped.fetch_add(1, Relaxed);
            tracing::warn!(server = %name, %e, "SEND not queued");
        }
    }
}
