//! The demo's TCP side: one `NodeSession` per client, all sharing one event bus fed by the
//! simulation.

use std::{
    net::SocketAddr,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU32, AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, BufWriter},
    net::{TcpListener, TcpStream},
    sync::{broadcast, mpsc},
    time::Instant,
};
use vscp_core::{
    Capabilities, Event, Guid, Interface, Millis, Node, NodeConfig, NodeOutput, NodeSession,
    SendRefused, Stamp, Version, stamp_if_unknown,
};

use super::{PASSWORD, USER, interface_guid, server_guid, sim};
use crate::config::DemoArgs;
use crate::shutdown::Shutdown;

/// Read-only demo login (privilege 2: receive, no SEND).
const GUEST: (&str, &str) = ("guest", "guest");
/// Events kept for a slow client before it starts losing them.
const BUS_CAPACITY: usize = 16_384;
/// An event on the demo bus and the client channel that sent it (`None`: a node made it).
/// Like vscpd and the firmware library, the bus shows a client's event to every other
/// client, not back to the sender.
struct Frame {
    event: Event,
    from: Option<u32>,
}

fn millis() -> Millis {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    Millis(
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_millis() as u64,
    )
}

/// When this process started serving the demo (for `INTERFACE LIST`).
fn started_unix_ns() -> u64 {
    static STARTED: OnceLock<u64> = OnceLock::new();
    *STARTED.get_or_init(unix_ns)
}

fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Runs only the demo server until shutdown (`vscp-proxy demo`).
pub async fn run_standalone(args: DemoArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    let delay = Duration::from_millis(args.reply_delay_ms);
    let addr = spawn(
        args.listen,
        args.demo_rate,
        args.site,
        delay,
        shutdown.clone(),
    )
    .await?;
    println!(
        "vscp demo node on {addr}: log in with USER {USER} / PASS {PASSWORD} (read-only: guest/guest)"
    );
    shutdown.wait().await;
    Ok(())
}

/// Starts the demo server of site `site` on `addr` (port 0 picks one), its nodes answering
/// after `reply_delay`; returns the bound address.
pub(crate) async fn spawn(
    addr: SocketAddr,
    rate: u32,
    site: u8,
    reply_delay: Duration,
    shutdown: Shutdown,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let (bus, _) = broadcast::channel(BUS_CAPACITY);
    let (to_sim, from_clients) = mpsc::channel(1024);
    let interface = interface_guid(site);
    tokio::spawn(simulate(
        bus.clone(),
        from_clients,
        (rate, reply_delay),
        interface,
        shutdown.clone(),
    ));
    tokio::spawn(async move {
        let channels = AtomicU32::new(1);
        loop {
            let (tcp, peer) = tokio::select! {
                r = listener.accept() => match r { Ok(c) => c, Err(e) => { tracing::warn!(%e, "demo accept"); continue } },
                _ = shutdown.wait() => break,
            };
            let channel = channels.fetch_add(1, Ordering::Relaxed);
            let node = DemoNode {
                to_sim: to_sim.clone(),
                guid: server_guid(site),
                interface,
                challenges: Arc::new(AtomicU64::new(1)),
            };
            tokio::spawn(serve(
                tcp,
                node,
                bus.subscribe(),
                channel,
                shutdown.clone(),
                peer,
            ));
        }
    });
    Ok(local)
}

/// The node-wide part the sessions share.
struct DemoNode {
    to_sim: mpsc::Sender<(Event, u32)>,
    guid: Guid,
    interface: Guid,
    challenges: Arc<AtomicU64>,
}

impl Node for DemoNode {
    fn login(&mut self, user: &str, password: &str) -> Option<u8> {
        match (user, password) {
            (USER, PASSWORD) => Some(15),
            u if u == GUEST => Some(2),
            _ => None,
        }
    }
    fn guid(&self) -> Guid {
        self.guid
    }
    fn set_guid(&mut self, guid: Guid) -> bool {
        self.guid = guid;
        true
    }
    fn version(&self) -> Version {
        let mut v = env!("CARGO_PKG_VERSION")
            .split('.')
            .map(|p| p.parse().unwrap_or(0));
        Version {
            major: v.next().unwrap_or(0),
            minor: v.next().unwrap_or(0),
            release: v.next().unwrap_or(0),
            build: Some(0),
        }
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities(1 << 61 | 1 << 15 | 1 << 5 | 1 << 3)
    }
    fn interfaces(&self) -> Vec<Interface> {
        vec![
            Interface {
                id: 0,
                kind: 1,
                guid: self.guid,
                name: "demo server".into(),
            },
            Interface {
                id: 1,
                kind: 2,
                guid: self.interface,
                name: "demo CAN bus (3 Level I nodes)".into(),
            },
        ]
    }
    fn send(&mut self, event: Event, channel: u32) -> Result<(), SendRefused> {
        self.to_sim
            .try_send((stamp_if_unknown(event, unix_ns()), channel))
            .map_err(|_| SendRefused::BufferFull)
    }
    fn challenge(&mut self) -> String {
        let n = self.challenges.fetch_add(1, Ordering::Relaxed) ^ unix_ns();
        format!("{:016x}{:016x}", n, n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
}

/// One client connection: a `NodeSession` between the TCP stream and the bus.
async fn serve(
    tcp: TcpStream,
    mut node: DemoNode,
    mut bus: broadcast::Receiver<Arc<Frame>>,
    channel: u32,
    shutdown: Shutdown,
    peer: SocketAddr,
) {
    let _ = tcp.set_nodelay(true);
    let (mut rd, wr) = tcp.into_split();
    let mut wr = BufWriter::with_capacity(64 * 1024, wr);
    let config = NodeConfig {
        channel_id: channel,
        banner: vec![
            "vscp-link demo node".into(),
            format!("Version: {}", env!("CARGO_PKG_VERSION")),
        ],
        started_unix_ns: Some(started_unix_ns()),
        // a polling client, or one between QUITLOOP and RCVLOOP, gets the bus's slack
        queue_capacity: BUS_CAPACITY,
        ..NodeConfig::default()
    };
    let mut session = NodeSession::new(config, millis());
    let mut buf = vec![0u8; 16 * 1024];
    let mut lost = 0u64;
    loop {
        while let Some(out) = session.poll_output() {
            let ok = match out {
                NodeOutput::Transmit(line) => wr.write_all(line.as_bytes()).await.is_ok(),
                NodeOutput::Close => {
                    let _ = wr.flush().await;
                    return;
                }
            };
            if !ok {
                return;
            }
        }
        if wr.flush().await.is_err() {
            return;
        }
        let wake = session
            .poll_timeout()
            .map_or(Instant::now() + Duration::from_secs(3600), |t| {
                Instant::now() + Duration::from_millis(t.0.saturating_sub(millis().0))
            });
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => session.handle_bytes(&mut node, buf.get(..n).unwrap_or_default(), millis()),
            },
            ev = bus.recv() => match ev {
                Ok(frame) => {
                    let now = millis();
                    let mut take = |f: &Frame| if f.from != Some(channel) { session.deliver(&f.event, now); };
                    take(&frame);
                    // take what else is waiting: one flush for many events
                    for _ in 0..255 {
                        match bus.try_recv() {
                            Ok(frame) => take(&frame),
                            Err(broadcast::error::TryRecvError::Lagged(n)) => lost += n,
                            Err(_) => break,
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => lost += n,
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tokio::time::sleep_until(wake) => session.handle_timeout(millis()),
            _ = shutdown.wait() => break,
        }
    }
    if lost > 0 {
        tracing::warn!(%peer, lost, "demo client too slow: events dropped");
    }
}

/// Publishes events with sequence numbers and time stamps.
struct Bus {
    tx: broadcast::Sender<Arc<Frame>>,
    seq: u32,
}

impl Bus {
    fn emit(&mut self, mut ev: Event) {
        self.seq = self.seq.wrapping_add(1);
        ev.obid = self.seq;
        ev.stamp = Stamp::Unix(unix_ns());
        let _ = self.tx.send(Arc::new(Frame {
            event: ev,
            from: None,
        }));
    }
}

/// How long a demo node takes to write one block of flash.
const PROGRAM_TIME: Duration = Duration::from_millis(2);

/// Drives the simulation: ticks every 100 ms, the flood (`rate` events/s) every 10 ms, client
/// events as they come, answered after `reply_delay` (and a block's programming time).
async fn simulate(
    tx: broadcast::Sender<Arc<Frame>>,
    mut from_clients: mpsc::Receiver<(Event, u32)>,
    (rate, reply_delay): (u32, Duration),
    interface: Guid,
    shutdown: Shutdown,
) {
    // answers not yet due, in the order they were made
    let mut later: std::collections::VecDeque<(tokio::time::Instant, Event)> =
        std::collections::VecDeque::new();
    let mut bus = Bus { tx, seq: 0 };
    let mut sim = sim::Sim::new(interface);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut flood = tokio::time::interval(Duration::from_millis(10));
    flood.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut owed = 0u64;
    for ev in sim.start() {
        bus.emit(ev);
    }
    loop {
        tokio::select! {
            _ = tick.tick() => sim.tick(millis()).into_iter().for_each(|ev| bus.emit(ev)),
            _ = flood.tick(), if rate > 0 => {
                owed += u64::from(rate);
                let due = owed / 100;
                owed %= 100;
                for i in 0..due {
                    bus.emit(sim.flood_event(i));
                }
            }
            Some((ev, from)) = from_clients.recv() => {
                let replies = sim.answer(&ev);
                let _ = bus.tx.send(Arc::new(Frame { event: ev, from: Some(from) }));
                let now = tokio::time::Instant::now();
                for reply in replies {
                    let programmed = reply.class == 0 && reply.kind == vscp_core::bootloader::kind::PROGRAM_ACK;
                    let delay = reply_delay + if programmed { PROGRAM_TIME } else { Duration::ZERO };
                    if delay.is_zero() && later.is_empty() {
                        bus.emit(reply);
                    } else {
                        later.push_back((now + delay, reply));
                    }
                }
            }
            _ = tokio::time::sleep_until(later.front().map_or_else(tokio::time::Instant::now, |(t, _)| *t)), if !later.is_empty() => {
                let now = tokio::time::Instant::now();
                while later.front().is_some_and(|(t, _)| *t <= now) {
                    if let Some((_, reply)) = later.pop_front() {
                        bus.emit(reply);
                    }
                }
            }
            _ = shutdown.wait() => break,
        }
    }
}
