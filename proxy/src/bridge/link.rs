//! The bridge's link-server side: one session per server (receive loop or polling), its
//! queue of events to SEND, echo and loop recognition, reconnects with back-off.

use std::{
    collections::{HashSet, VecDeque},
    hash::{Hash, Hasher},
    sync::{Arc, Mutex, PoisonError, atomic::Ordering::Relaxed},
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::mpsc,
};
use vscp_core::{
    ClientConfig, ClientSession, Command, Event, Millis, Output, ReceiveMode, SessionEvent, State,
};

use super::{Counters, Mode, ServerConfig};
use crate::shutdown::Shutdown;

/// First wait before a reconnect; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait before a reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Events a session sent that are remembered to recognise their echo.
const ECHO_MEMORY: usize = 4096;
/// Events the bridge forwarded or sent, remembered by origin to end loops.
pub(super) const SEEN_MEMORY: usize = 65_536;
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

/// What identifies an event sent into a server when it shows it back (a server may give it
/// its own obid and, when it had none, its own time).
fn fingerprint(e: &Event) -> u64 {
    hash((e.guid, e.class, e.kind, &e.data))
}

/// What identifies an event wherever it is forwarded: its fingerprint and the time its node
/// gave it, whichever form a server writes that time in (`None` without one: such an event
/// cannot be told from a repeat).
fn origin(e: &Event) -> Option<u64> {
    let ns = e.stamp.unix_ns()?;
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

    /// Forgets `f`; true when it was remembered.
    fn take(&mut self, f: u64) -> bool {
        self.set.remove(&f)
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
    let mut tcp = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&server.address))
        .await
        .context("connect timed out")??;
    let _ = tcp.set_nodelay(true);
    let start = Instant::now();
    let now = || Millis(start.elapsed().as_millis() as u64);
    let config = ClientConfig {
        credentials: server.user.clone().map(|u| (u, server.password.clone())),
        receive: match server.mode {
            Mode::Stream => ReceiveMode::Stream,
            Mode::Poll => ReceiveMode::Poll,
        },
        poll_interval: server.poll_ms,
        ..ClientConfig::default()
    };
    let mut s = ClientSession::new(config, now());
    let mut echoes = Recent::new(ECHO_MEMORY);
    let mut buf = vec![0u8; 64 * 1024];
    let mut ready = false;
    loop {
        let mut out = String::new();
        while let Some(o) = s.poll_output() {
            match o {
                Output::Transmit(l) => out.push_str(&l),
                Output::Event(SessionEvent::Received(ev)) => {
                    counters.received.fetch_add(1, Relaxed);
                    if let Some(u) = ev.unread.first() {
                        if counters.unreadable.fetch_add(1, Relaxed) == 0 {
                            tracing::warn!(server = %server.name, "an event with an unreadable field, forwarded with the server's text ({u}); counted in unreadable_total");
                        }
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
                Output::Event(SessionEvent::State(st)) => {
                    if matches!(st, State::Ready | State::Streaming) && !ready {
                        ready = true;
                        tracing::info!(server = %server.name, "bridge session up");
                    }
                }
                Output::Event(SessionEvent::Reply { command, reply, .. }) => {
                    if let Command::Send(_) = command {
                        unanswered.pop_front(); // replies come in order
                    }
                    if let Ok(r) = reply
                        && !r.ok
                    {
                        tracing::warn!(server = %server.name, "{} refused: {}", command.word(), r.text);
                    }
                }
                Output::Event(SessionEvent::Closed(why)) => anyhow::bail!("{why}"),
                Output::Event(SessionEvent::Adapted(a)) => {
                    tracing::info!(server = %server.name, "{a}");
                }
                Output::Event(_) => {}
            }
        }
        if !out.is_empty() {
            tcp.write_all(out.as_bytes()).await?;
        }
        let wait = s
            .poll_timeout()
            .map_or(1_000, |t| t.0.saturating_sub(now().0).max(1));
        let room = ready && s.pending() < SEND_WINDOW;
        if room && let Some(ev) = resend.pop_front() {
            send(
                &mut s,
                ev,
                unanswered,
                &mut echoes,
                link,
                &server.name,
                now(),
            );
            continue;
        }
        tokio::select! {
            n = tcp.read(&mut buf) => match n? {
                0 => anyhow::bail!("server closed the connection"),
                n => s.handle_bytes(&buf[..n], now()),
            },
            Some(ev) = rx.recv(), if room => {
                send(&mut s, ev, unanswered, &mut echoes, link, &server.name, now());
            }
            _ = tokio::time::sleep(Duration::from_millis(wait)) => s.handle_timeout(now()),
            _ = shutdown.wait() => {
                let _ = tcp.write_all(b"QUIT\r\n").await;
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
    echoes: &mut Recent,
    link: &Link,
    name: &str,
    now: Millis,
) {
    let counters = &*link.counters;
    echoes.remember(fingerprint(&ev));
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
