//! The register session and the scan against a simulated bus: a node with a register file on
//! several pages behind an interface, answering extended page reads/writes and who-is-there
//! after a delay, optionally losing frames. The clock is simulated.
#![cfg(not(target_arch = "wasm32"))] // proptest is native only

use std::collections::BTreeMap;

use proptest::prelude::*;
use vscp_core::{
    Event, Guid, Millis,
    register_session::{RegisterConfig, RegisterOutput, RegisterRequest, RegisterSession},
    registers::{CLASS1_PROTOCOL, Target, kind, who_is_there_frames},
    scan::{Scan, ScanOutput},
};

const IFACE: Guid = Guid([
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF5, 0, 4, 0, 0, 0, 0, 0, 0,
]);

/// A node behind `IFACE`: registers per page, read-only standard block except the page select.
struct Node {
    nickname: u8,
    pages: BTreeMap<u16, [u8; 256]>,
}

impl Node {
    fn new(nickname: u8) -> Node {
        let mut pages = BTreeMap::new();
        for p in 0..3u16 {
            let mut regs = [0u8; 256];
            for (r, v) in regs.iter_mut().enumerate() {
                *v = (r as u8).wrapping_mul(7).wrapping_add(p as u8 * 31);
            }
            pages.insert(p, regs);
        }
        Node { nickname, pages }
    }

    fn reg(&self, page: u16, r: u8) -> u8 {
        // the standard block 0x80.. is the same on every page
        let page = if r >= 0x80 { 0 } else { page };
        self.pages.get(&page).map_or(0, |regs| regs[usize::from(r)])
    }

    fn answer(&mut self, ev: &Event) -> Vec<Event> {
        let Some((dest, l1)) = ev.level1_from_level2() else {
            return Vec::new();
        };
        if dest.nickname() != self.nickname || l1.class != CLASS1_PROTOCOL {
            return Vec::new();
        }
        let reply = |data: Vec<u8>| Event {
            guid: IFACE.with_nickname(self.nickname),
            data,
            ..Event::new(CLASS1_PROTOCOL, kind::EXTENDED_PAGE_RESPONSE)
        };
        match (l1.kind, l1.data.as_slice()) {
            (kind::EXTENDED_PAGE_READ, [_, hi, lo, reg, count]) => {
                let page = u16::from_be_bytes([*hi, *lo]);
                let n = if *count == 0 {
                    256 - usize::from(*reg)
                } else {
                    usize::from(*count)
                };
                let values: Vec<u8> = (0..n)
                    .map(|i| self.reg(page, reg.wrapping_add(i as u8)))
                    .collect();
                values
                    .chunks(4)
                    .enumerate()
                    .map(|(i, c)| {
                        let mut d = vec![i as u8, *hi, *lo, reg.wrapping_add(4 * i as u8)];
                        d.extend_from_slice(c);
                        reply(d)
                    })
                    .collect()
            }
            (kind::EXTENDED_PAGE_WRITE, [_, hi, lo, reg, value]) => {
                let page = u16::from_be_bytes([*hi, *lo]);
                if *reg < 0x80 {
                    self.pages.entry(page).or_insert([0; 256])[usize::from(*reg)] = *value;
                }
                vec![reply(vec![0, *hi, *lo, *reg, self.reg(page, *reg)])]
            }
            (kind::WHO_IS_THERE, _) => {
                who_is_there_frames(IFACE.with_nickname(self.nickname), "example.org/n.xml")
                    .into_iter()
                    .map(|d| Event {
                        guid: IFACE.with_nickname(self.nickname),
                        data: d,
                        ..Event::new(CLASS1_PROTOCOL, kind::WHO_IS_THERE_RESPONSE)
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

/// The bus: events sent at `t` are answered at `t + latency`; `lose(i)` drops the i-th frame.
struct Bus {
    nodes: Vec<Node>,
    latency: u64,
    lose: Box<dyn FnMut(u64) -> bool>,
    frames: u64,
    in_flight: Vec<(Millis, Event)>,
    max_window_seen: usize,
}

impl Bus {
    fn send(&mut self, ev: &Event, now: Millis) {
        for n in &mut self.nodes {
            for reply in n.answer(ev) {
                self.frames += 1;
                if !(self.lose)(self.frames) {
                    self.in_flight.push((now.plus(self.latency), reply));
                }
            }
        }
    }

    fn due(&mut self, now: Millis) -> Vec<Event> {
        let (due, later): (Vec<_>, Vec<_>) = self.in_flight.drain(..).partition(|(t, _)| *t <= now);
        self.in_flight = later;
        due.into_iter().map(|(_, e)| e).collect()
    }
}

/// What a run saw: values by (page, register), writes (register, wanted, got), failures.
type Seen = (
    BTreeMap<(u16, u8), u8>,
    Vec<(u8, u8, u8)>,
    Vec<RegisterRequest>,
);

/// Runs the session until idle (or a time limit); returns the values, writes and failures seen.
fn run(s: &mut RegisterSession, bus: &mut Bus, now: &mut Millis) -> Seen {
    let (mut values, mut writes, mut failed) = (BTreeMap::new(), Vec::new(), Vec::new());
    let limit = now.plus(120_000);
    loop {
        while let Some(o) = s.poll_output() {
            match o {
                RegisterOutput::Send(ev) => bus.send(&ev, *now),
                RegisterOutput::Value { page, reg, value } => {
                    values.insert((page, reg), value);
                }
                RegisterOutput::Written {
                    reg, wanted, value, ..
                } => writes.push((reg, wanted, value)),
                RegisterOutput::Failed { request, .. } => failed.push(request),
            }
        }
        bus.max_window_seen = bus.max_window_seen.max(s.in_flight());
        if s.is_idle() || *now > limit {
            return (values, writes, failed);
        }
        *now = now.plus(1);
        for ev in bus.due(*now) {
            s.handle_event(&ev, *now);
        }
        if s.poll_timeout().is_some_and(|t| t <= *now) {
            s.handle_timeout(*now);
        }
    }
}

fn bus(latency: u64) -> Bus {
    Bus {
        nodes: vec![Node::new(1), Node::new(2)],
        latency,
        lose: Box::new(|_| false),
        frames: 0,
        in_flight: Vec::new(),
        max_window_seen: 0,
    }
}

fn session(nickname: u8) -> RegisterSession {
    RegisterSession::new(
        Target {
            interface: Some(IFACE),
            nickname,
        },
        RegisterConfig::default(),
    )
}

#[test]
fn reads_all_256_registers_of_a_page_in_windowed_requests() {
    let mut bus = bus(20);
    let mut s = session(2);
    let mut now = Millis(1_000);
    s.read(1, 0, 256, now);
    let (values, _, failed) = run(&mut s, &mut bus, &mut now);
    assert!(failed.is_empty());
    assert_eq!(values.len(), 256);
    let node = Node::new(2);
    for r in 0..=255u8 {
        assert_eq!(values[&(1, r)], node.reg(1, r), "register {r:#x}");
    }
    let st = s.stats();
    assert_eq!((st.sent, st.retries, st.values), (16, 0, 256));
    // 16 requests of 16 registers, 4 at a time, 20 ms each way: 4 windows
    assert!(now.0 - 1_000 < 200, "took {} ms", now.0 - 1_000);
    assert_eq!(st.last_rtt_ms, Some(20));
    assert!(
        st.timeout_ms < RegisterConfig::default().initial_timeout_ms,
        "{st:?}"
    );
}

#[test]
fn lost_frames_are_asked_again_and_only_what_is_missing() {
    let mut bus = Bus {
        lose: Box::new(|i| i % 5 == 0), // every fifth frame vanishes
        ..bus(10)
    };
    let mut s = session(1);
    let mut now = Millis(0);
    s.read(0, 0, 128, now);
    let (values, _, failed) = run(&mut s, &mut bus, &mut now);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(values.len(), 128);
    assert!(s.stats().retries > 0);
    // a retry narrows to the missing registers: far fewer frames than whole re-reads
    assert!(bus.frames < 32 + 2 * 16, "{} frames", bus.frames);
}

#[test]
fn writes_are_verified_by_the_answer() {
    let mut bus = bus(5);
    let mut s = session(1);
    let mut now = Millis(0);
    s.write(0, 0x10, 0xAB, now);
    s.write(0, 0x91, 0x55, now); // standard register: read-only on this node
    s.read(0, 0x10, 1, now);
    let (values, writes, failed) = run(&mut s, &mut bus, &mut now);
    assert!(failed.is_empty());
    assert_eq!(
        writes,
        vec![(0x10, 0xAB, 0xAB), (0x91, 0x55, Node::new(1).reg(0, 0x91))]
    );
    // the read of 0x10 waited for the write before it: it sees the new value
    assert_eq!(values[&(0, 0x10)], 0xAB);
}

#[test]
fn a_silent_node_fails_after_every_try_with_backoff() {
    let mut bus = bus(5);
    let mut s = session(9); // nobody has nickname 9
    let mut now = Millis(0);
    s.read(0, 0, 32, now);
    let (values, _, failed) = run(&mut s, &mut bus, &mut now);
    assert!(values.is_empty());
    assert_eq!(failed.len(), 2);
    let st = s.stats();
    assert_eq!((st.sent, st.retries, st.failed), (6, 4, 2));
    // 1 s, then 2 s, then 4 s
    assert!((7_000..7_100).contains(&now.0), "gave up at {now:?}");
}

#[test]
fn answers_of_other_nodes_and_interfaces_are_not_taken() {
    let mut s = session(1);
    s.read(0, 0, 4, Millis(0));
    let mut other = Event::new(CLASS1_PROTOCOL, kind::EXTENDED_PAGE_RESPONSE);
    other.data = vec![0, 0, 0, 0, 1, 2, 3, 4];
    other.guid = IFACE.with_nickname(2);
    assert!(!s.handle_event(&other, Millis(1)));
    other.guid = Guid([1; 16]).with_nickname(1);
    assert!(!s.handle_event(&other, Millis(1)));
    other.guid = IFACE.with_nickname(1);
    assert!(s.handle_event(&other, Millis(1)));
    assert!(s.is_idle());
}

#[test]
fn cancel_drops_everything() {
    let mut s = session(1);
    s.read(0, 0, 256, Millis(0));
    assert_eq!(s.pending(), 16);
    assert_eq!(s.cancel(), 16);
    assert!(s.is_idle() && s.poll_timeout().is_none());
}

#[test]
fn scan_finds_the_nodes_of_a_range_and_times_out_the_rest() {
    let mut bus = bus(15);
    let mut now = Millis(0);
    let mut scan = Scan::new(Some(IFACE), 0..=20, 8, 300, now);
    let mut found = Vec::new();
    while !scan.is_done() && now.0 < 10_000 {
        while let Some(o) = scan.poll_output() {
            match o {
                ScanOutput::Send(ev) => bus.send(&ev, now),
                ScanOutput::Found(f) => found.push(f),
            }
        }
        now = now.plus(1);
        for ev in bus.due(now) {
            scan.handle_event(&ev, now);
        }
        if scan.poll_timeout().is_some_and(|t| t <= now) {
            scan.handle_timeout(now);
        }
    }
    assert_eq!(scan.progress(), (21, 21));
    let nicks: Vec<u8> = found.iter().map(|f| f.nickname).collect();
    assert_eq!(nicks, vec![1, 2]);
    assert_eq!(found[1].guid, IFACE.with_nickname(2));
    assert_eq!(found[1].mdf_url, "example.org/n.xml");
    // 21 nicknames, 8 at a time, 300 ms each for the silent ones
    assert!(now.0 <= 1_000, "took {now:?}");
}

proptest! {
    /// Any loss pattern and latency: what arrives is right, and every register is either
    /// read or reported failed; the session ends.
    #[test]
    fn any_loss_yields_right_values_or_failures(
        seed in any::<u64>(),
        loss_pct in 0u64..60,
        latency in 1u64..400,
        first in any::<u8>(),
        count in 1u16..256,
    ) {
        let mut rng = seed | 1;
        let mut bus = Bus {
            lose: Box::new(move |_| { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; rng % 100 < loss_pct }),
            ..bus(latency)
        };
        let mut s = session(2);
        let mut now = Millis(0);
        s.read(2, first, count, now);
        let (values, _, failed) = run(&mut s, &mut bus, &mut now);
        prop_assert!(s.is_idle());
        let node = Node::new(2);
        for ((p, r), v) in &values {
            prop_assert_eq!(*v, node.reg(*p, *r));
        }
        let wanted = usize::from(count).min(256 - usize::from(first));
        let failed_regs: usize = failed.iter().map(|f| match f {
            RegisterRequest::Read { count, .. } => usize::from(*count),
            RegisterRequest::Write { .. } => 1,
        }).sum();
        prop_assert!(values.len() + failed_regs >= wanted);
        prop_assert!(bus.max_window_seen <= RegisterConfig::default().window);
    }
}

/// A Level II node: a sparse 32-bit register file, standard registers read-only.
struct Level2Node(BTreeMap<u32, u8>);

impl vscp_core::registers::Level2Registers for Level2Node {
    fn get(&self, addr: u32) -> u8 {
        self.0.get(&addr).copied().unwrap_or((addr % 251) as u8)
    }
    fn set(&mut self, addr: u32, value: u8) {
        if addr < 0xFFFF_0000 {
            self.0.insert(addr, value);
        }
    }
}

#[test]
fn level2_registers_read_and_write_in_the_32_bit_space() {
    use vscp_core::register_session::level2_address;
    let guid: Guid = "FF:FF:FF:FF:FF:FF:FF:FE:00:01:00:00:00:00:02:00"
        .parse()
        .unwrap();
    let mut node = Level2Node(BTreeMap::new());
    let config = RegisterConfig {
        chunk: 64,
        ..RegisterConfig::default()
    };
    let mut s = RegisterSession::level2(guid, config);
    let now = Millis(0);
    // page 3 in full: user registers 3×128…, then the standard block at 0xFFFFFF80
    s.read(3, 0, 256, now);
    s.write(3, 5, 0xAB, now);
    s.write(0, 0x91, 7, now); // standard: read-only
    let (mut values, mut written) = (BTreeMap::new(), Vec::new());
    while !s.is_idle() || s.has_output() {
        let mut replies = Vec::new();
        while let Some(o) = s.poll_output() {
            match o {
                RegisterOutput::Send(ev) => {
                    assert_eq!(ev.class, 1024);
                    replies.extend(vscp_core::registers::level2_answer(guid, &ev, &mut node));
                }
                RegisterOutput::Value { page, reg, value } => {
                    values.insert((page, reg), value);
                }
                RegisterOutput::Written { reg, value, .. } => written.push((reg, value)),
                RegisterOutput::Failed { request, .. } => panic!("{request:?}"),
            }
        }
        for r in &replies {
            assert!(s.handle_event(r, now));
        }
    }
    assert_eq!(values.len(), 256);
    assert_eq!(values[&(3, 0x10)], (level2_address(3, 0x10) % 251) as u8);
    assert_eq!(level2_address(3, 0x10), 3 * 128 + 0x10);
    assert_eq!(values[&(3, 0x91)], (0xFFFF_FF91u32 % 251) as u8);
    assert!(written.contains(&(5, 0xAB)), "{written:?}");
    assert!(
        written.contains(&(0x91, (0xFFFF_FF91u32 % 251) as u8)),
        "read-only stays"
    );
    // 4 reads of 64 (none across 0x80), 2 writes
    assert_eq!(s.stats().sent, 6);
}
