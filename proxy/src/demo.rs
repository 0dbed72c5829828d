//! Simulated installation: a link-protocol server (vscp-core's `NodeSession`) with three
//! Level I nodes behind one interface — a temperature sensor, a humidity sensor and a
//! relay — plus heartbeats, who-is-there answers and registers. Every event the simulation
//! makes carries a sequence number in `obid` so clients can prove nothing was lost.

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
    SendRefused, Stamp, Version,
    registers::{CLASS1_INFORMATION, CLASS1_PROTOCOL, kind, who_is_there_frames},
    stamp_if_unknown,
};

use crate::config::DemoArgs;
use crate::server::Shutdown;

/// Demo login with full rights.
pub(crate) const USER: &str = "admin";
/// Password of [`USER`].
pub(crate) const PASSWORD: &str = "secret";
/// Read-only demo login (privilege 2: receive, no SEND).
const GUEST: (&str, &str) = ("guest", "guest");
/// Events kept for a slow client before it starts losing them.
const BUS_CAPACITY: usize = 16_384;
/// The demo server's own GUID (GGID).
const SERVER_GUID: Guid = Guid([
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 0, 0, 0, 0, 1,
]);
/// The interface the Level I nodes sit behind (bytes 14–15 zero).
pub(crate) const INTERFACE_GUID: Guid = Guid([
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF5, 0, 1, 0, 0, 0, 0, 0, 0,
]);
/// CLASS1.MEASUREMENT.
const MEASUREMENT: u16 = 10;
/// CLASS1.CONTROL.
const CONTROL: u16 = 30;

fn millis() -> Millis {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    Millis(
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_millis() as u64,
    )
}

fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Runs only the demo server until shutdown (`vscp-proxy demo`).
pub(crate) async fn run_standalone(args: DemoArgs, shutdown: Shutdown) -> anyhow::Result<()> {
    let addr = spawn(args.listen, args.demo_rate, shutdown.clone()).await?;
    println!(
        "vscp demo node on {addr}: log in with USER {USER} / PASS {PASSWORD} (read-only: guest/guest)"
    );
    shutdown.wait().await;
    Ok(())
}

/// Starts the demo server on `addr` (port 0 picks one); returns the bound address.
pub(crate) async fn spawn(
    addr: SocketAddr,
    rate: u32,
    shutdown: Shutdown,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let (bus, _) = broadcast::channel(BUS_CAPACITY);
    let (to_sim, from_clients) = mpsc::channel(1024);
    tokio::spawn(simulate(bus.clone(), from_clients, rate, shutdown.clone()));
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
                guid: SERVER_GUID,
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
    to_sim: mpsc::Sender<Event>,
    guid: Guid,
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
                guid: SERVER_GUID,
                name: "demo server".into(),
            },
            Interface {
                id: 1,
                kind: 2,
                guid: INTERFACE_GUID,
                name: "demo CAN bus (3 Level I nodes)".into(),
            },
        ]
    }
    fn send(&mut self, event: Event, _channel: u32) -> Result<(), SendRefused> {
        self.to_sim
            .try_send(stamp_if_unknown(event, unix_ns()))
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
    mut bus: broadcast::Receiver<Arc<Event>>,
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
                Ok(ev) => {
                    let now = millis();
                    session.deliver(&ev, now);
                    // take what else is waiting: one flush for many events
                    for _ in 0..255 {
                        match bus.try_recv() {
                            Ok(ev) => { session.deliver(&ev, now); }
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

/// What a simulated node is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Temperature,
    Humidity,
    Relay,
}

/// One simulated Level I node with its register file (page 0 and the standard area).
struct SimNode {
    nickname: u8,
    role: Role,
    regs: [u8; 256],
    value: f64,
    next_report: Instant,
}

/// Application registers.
const REG_INTERVAL: u8 = 0x00;
const REG_ZONE: u8 = 0x01;
const REG_SUBZONE: u8 = 0x02;
const REG_RELAY_STATE: u8 = 0x03;

impl SimNode {
    fn new(nickname: u8, role: Role, mdf: &str, interval: u8) -> SimNode {
        let mut regs = [0u8; 256];
        regs[usize::from(REG_INTERVAL)] = interval;
        regs[usize::from(REG_ZONE)] = 1;
        regs[usize::from(REG_SUBZONE)] = nickname;
        regs[0x81] = 1; // VSCP spec 1.13
        regs[0x82] = 13;
        regs[0x91] = nickname;
        regs[0x94] = 1; // firmware 1.2.3
        regs[0x95] = 2;
        regs[0x96] = 3;
        regs[0x97] = 0xFF;
        regs[0xD0..0xE0].copy_from_slice(&INTERFACE_GUID.with_nickname(nickname).0);
        for (slot, b) in regs[0xE0..].iter_mut().zip(mdf.bytes()) {
            *slot = b;
        }
        let value = match role {
            Role::Temperature => 21.5,
            Role::Humidity => 45.0,
            Role::Relay => 0.0,
        };
        SimNode {
            nickname,
            role,
            regs,
            value,
            next_report: Instant::now(),
        }
    }

    fn guid(&self) -> Guid {
        INTERFACE_GUID.with_nickname(self.nickname)
    }

    fn reg(&self, r: u8) -> u8 {
        self.regs[usize::from(r)]
    }

    fn writable(r: u8) -> bool {
        r < 0x80 || (0x83..=0x88).contains(&r) || r == 0x92 || r == 0x93
    }

    fn event(&self, class: u16, kind: u16, data: Vec<u8>) -> Event {
        Event {
            class,
            kind,
            data,
            guid: self.guid(),
            head: 3 << 5,
            ..Event::default()
        }
    }
}

/// Publishes events with sequence numbers and time stamps.
struct Bus {
    tx: broadcast::Sender<Arc<Event>>,
    seq: u32,
}

impl Bus {
    fn emit(&mut self, mut ev: Event) {
        self.seq = self.seq.wrapping_add(1);
        ev.obid = self.seq;
        ev.stamp = Stamp::Unix(unix_ns());
        let _ = self.tx.send(Arc::new(ev));
    }
}

/// Tiny deterministic random walk for sensor drift.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

async fn simulate(
    tx: broadcast::Sender<Arc<Event>>,
    mut from_clients: mpsc::Receiver<Event>,
    rate: u32,
    shutdown: Shutdown,
) {
    let mut bus = Bus { tx, seq: 0 };
    let mut nodes = vec![
        SimNode::new(1, Role::Temperature, "vscp-link.local/demo/temp.xml", 2),
        SimNode::new(2, Role::Humidity, "vscp-link.local/demo/humid.xml", 3),
        SimNode::new(3, Role::Relay, "vscp-link.local/demo/relay.xml", 0),
    ];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut flood = tokio::time::interval(Duration::from_millis(10));
    flood.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut next_heartbeat = Instant::now();
    let mut owed = 0u64;
    for n in &nodes {
        bus.emit(n.event(CLASS1_PROTOCOL, kind::NEW_NODE_ONLINE, vec![n.nickname]));
    }
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = Instant::now();
                for n in nodes.iter_mut() {
                    let interval = n.reg(REG_INTERVAL);
                    if n.role == Role::Relay || interval == 0 || now < n.next_report {
                        continue;
                    }
                    n.next_report = now + Duration::from_secs(u64::from(interval));
                    n.value += (rng.next_f64() - 0.5) * 0.4;
                    let ev = match n.role {
                        Role::Temperature => {
                            n.value = n.value.clamp(15.0, 28.0);
                            let mut data = vec![0xA8]; // float, unit 1 (°C), sensor 0
                            data.extend((n.value as f32).to_be_bytes());
                            n.event(MEASUREMENT, 6, data)
                        }
                        _ => {
                            n.value = n.value.clamp(20.0, 80.0);
                            let [hi, lo] = ((n.value * 10.0).round() as i16).to_be_bytes();
                            n.event(MEASUREMENT, 35, vec![0x80, 0x81, hi, lo]) // normalized, ×10⁻¹, %
                        }
                    };
                    bus.emit(ev);
                }
                if now >= next_heartbeat {
                    next_heartbeat = now + Duration::from_secs(5);
                    for n in &nodes {
                        bus.emit(n.event(CLASS1_INFORMATION, 9, vec![0, n.reg(REG_ZONE), n.reg(REG_SUBZONE)]));
                    }
                }
            }
            _ = flood.tick(), if rate > 0 => {
                owed += u64::from(rate);
                let due = owed / 100;
                owed %= 100;
                for i in 0..due {
                    let mut ev = Event::new(MEASUREMENT, 1);
                    ev.guid = INTERFACE_GUID.with_nickname(9);
                    ev.data = vec![0x60, (i >> 8) as u8, i as u8];
                    bus.emit(ev);
                }
            }
            Some(ev) = from_clients.recv() => {
                let _ = bus.tx.send(Arc::new(ev.clone())); // a real bus shows every frame to all
                for reply in handle(&mut nodes, &ev) {
                    bus.emit(reply);
                }
            }
            _ = shutdown.wait() => break,
        }
    }
}

/// What the nodes answer to an event a client sent.
fn handle(nodes: &mut [SimNode], ev: &Event) -> Vec<Event> {
    let Some(l1) = ev.as_level1() else {
        return Vec::new();
    };
    // for class 512+ the destination nickname is in byte 15 of the destination GUID
    let dest = ev.level1_from_level2().map(|(g, _)| g.nickname());
    let d = &l1.data;
    let mut out = Vec::new();
    for n in nodes.iter_mut() {
        let addressed = |node_byte: Option<&u8>| match (dest, node_byte) {
            (Some(to), _) => to == n.nickname || to == 0xFF,
            (None, Some(b)) => *b == n.nickname || *b == 0xFF,
            (None, None) => true,
        };
        match (l1.class, l1.kind) {
            (CLASS1_PROTOCOL, kind::WHO_IS_THERE) if addressed(d.first()) => {
                let url = String::from_utf8_lossy(&n.regs[0xE0..])
                    .trim_end_matches('\0')
                    .to_string();
                for f in who_is_there_frames(n.guid(), &url) {
                    out.push(n.event(CLASS1_PROTOCOL, kind::WHO_IS_THERE_RESPONSE, f));
                }
            }
            (CLASS1_PROTOCOL, kind::READ_REGISTER) if addressed(d.first()) => {
                if let Some(&r) = d.get(1) {
                    out.push(n.event(CLASS1_PROTOCOL, kind::RW_RESPONSE, vec![r, n.reg(r)]));
                }
            }
            (CLASS1_PROTOCOL, kind::WRITE_REGISTER) if addressed(d.first()) => {
                if let (Some(&r), Some(&v)) = (d.get(1), d.get(2)) {
                    out.extend(write_reg(n, r, v));
                    out.push(n.event(CLASS1_PROTOCOL, kind::RW_RESPONSE, vec![r, n.reg(r)]));
                }
            }
            (CLASS1_PROTOCOL, kind::EXTENDED_PAGE_READ) if addressed(d.first()) => {
                if let [_, hi, lo, reg, rest @ ..] = d.as_slice() {
                    let page = u16::from_be_bytes([*hi, *lo]);
                    let count = match rest.first() {
                        Some(0) | None => 256 - usize::from(*reg),
                        Some(c) => usize::from(*c),
                    };
                    let regs: Vec<u8> = (0..count)
                        .map(|i| usize::from(*reg) + i)
                        .take_while(|r| *r < 256)
                        .map(|r| if page == 0 || r >= 0x80 { n.regs[r] } else { 0 })
                        .collect();
                    for (i, chunk) in regs.chunks(4).enumerate() {
                        let mut data = vec![i as u8, *hi, *lo, reg.wrapping_add((i * 4) as u8)];
                        data.extend_from_slice(chunk);
                        out.push(n.event(CLASS1_PROTOCOL, kind::EXTENDED_PAGE_RESPONSE, data));
                    }
                }
            }
            (CLASS1_PROTOCOL, kind::EXTENDED_PAGE_WRITE) if addressed(d.first()) => {
                if let [_, hi, lo, reg, values @ ..] = d.as_slice() {
                    let page = u16::from_be_bytes([*hi, *lo]);
                    let mut written = Vec::new();
                    for (i, v) in values.iter().take(4).enumerate() {
                        let r = reg.wrapping_add(i as u8);
                        if page == 0 || r >= 0x80 {
                            out.extend(write_reg(n, r, *v));
                        }
                        written.push(n.reg(r));
                    }
                    let mut data = vec![0, *hi, *lo, *reg];
                    data.extend(written);
                    out.push(n.event(CLASS1_PROTOCOL, kind::EXTENDED_PAGE_RESPONSE, data));
                }
            }
            (CONTROL, t @ (5 | 6))
                if n.role == Role::Relay && (dest.is_none() || dest == Some(n.nickname)) =>
            {
                let zone_ok = d.get(1).is_none_or(|z| *z == 255 || *z == n.reg(REG_ZONE));
                let sub_ok = d
                    .get(2)
                    .is_none_or(|s| *s == 255 || *s == n.reg(REG_SUBZONE));
                if zone_ok && sub_ok {
                    out.extend(write_reg(n, REG_RELAY_STATE, u8::from(t == 5)));
                }
            }
            _ => {}
        }
    }
    out
}

/// Writes a register; the relay's state register switches it and reports On/Off.
fn write_reg(n: &mut SimNode, r: u8, v: u8) -> Option<Event> {
    if !SimNode::writable(r) {
        return None;
    }
    n.regs[usize::from(r)] = v;
    (n.role == Role::Relay && r == REG_RELAY_STATE).then(|| {
        let kind = if v != 0 { 3 } else { 4 }; // CLASS1.INFORMATION On / Off
        n.event(
            CLASS1_INFORMATION,
            kind,
            vec![0, n.reg(REG_ZONE), n.reg(REG_SUBZONE)],
        )
    })
}
