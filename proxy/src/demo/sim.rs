//! The simulated installation, pure: three Level I nodes (temperature, humidity, relay) with
//! their registers, reports, heartbeats, answers and a VSCP bootloader each. Time comes in as
//! [`Millis`]; events come out. The server in `server.rs` gives them sequence numbers and time
//! stamps.
//!
//! Bootloader: 512 blocks of 256 bytes of flash (algorithm 0 in register 0x97, the device
//! code in 0xA3/0xA4). After an image is activated the node starts again (new node online)
//! and reports the version the image's first three flash bytes hold. Registers 0x10–0x12 of
//! page 0 are the demo's fault knob for the next upload: 0x10 = 1 drops, 2 refuses the chunk
//! whose number (over the whole upload, from 0) 0x11/0x12 hold.

use vscp_core::{
    Event, Guid, Millis,
    bootloader::{self, BootDevice, Fault},
    registers::{
        CLASS1_INFORMATION, CLASS1_PROTOCOL, CLASS2_INFORMATION, Level2Registers, kind,
        level2_answer, who_is_there_frames,
    },
};

#[cfg(test)]
use super::INTERFACE_GUID;

/// CLASS1.MEASUREMENT.
const MEASUREMENT: u16 = 10;
/// CLASS1.CONTROL.
const CONTROL: u16 = 30;
/// Heartbeat period of every node, ms.
const HEARTBEAT_MS: u64 = 5_000;

/// The nodes and their drifting values.
pub(super) struct Sim {
    interface: Guid,
    nodes: Vec<SimNode>,
    level2: Level2Node,
    rng: Rng,
    next_heartbeat: Millis,
}

impl Sim {
    /// The three demo nodes behind `interface`; `start` has their new-node-online events.
    pub(super) fn new(interface: Guid) -> Sim {
        let node = |nickname, role, mdf, interval| {
            SimNode::new(interface.with_nickname(nickname), role, mdf, interval)
        };
        Sim {
            interface,
            nodes: vec![
                node(1, Role::Temperature, "vscp-link.local/demo/temp.xml", 2),
                node(2, Role::Humidity, "vscp-link.local/demo/humid.json", 3),
                node(3, Role::Relay, "vscp-link.local/demo/relay.xml", 0),
            ],
            level2: Level2Node::new(Guid(vscp_api::demo::level2_node_guid(interface.0[9]))),
            rng: Rng(0x2545_F491_4F6C_DD1D),
            next_heartbeat: Millis(0),
        }
    }

    /// What the nodes say when they come up.
    pub(super) fn start(&self) -> Vec<Event> {
        self.nodes
            .iter()
            .map(|n| n.event(CLASS1_PROTOCOL, kind::NEW_NODE_ONLINE, vec![n.nickname]))
            .collect()
    }

    /// Measurements that are due (each sensor at its interval register) and heartbeats.
    pub(super) fn tick(&mut self, now: Millis) -> Vec<Event> {
        let mut out = Vec::new();
        for n in self.nodes.iter_mut() {
            let interval = n.reg(REG_INTERVAL);
            // a node in its bootloader does nothing else
            if n.role == Role::Relay || interval == 0 || now < n.next_report || n.boot.is_active() {
                continue;
            }
            n.next_report = now.plus(u64::from(interval) * 1_000);
            n.value += (self.rng.next_f64() - 0.5) * 0.4;
            out.push(match n.role {
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
            });
        }
        if now >= self.next_heartbeat {
            self.next_heartbeat = now.plus(HEARTBEAT_MS);
            let l2 = &self.level2;
            out.push(Event {
                class: CLASS2_INFORMATION,
                kind: 2, // Level II heartbeat, with its name
                data: b"level2-demo".to_vec(),
                guid: l2.guid,
                head: 3 << 5,
                ..Event::default()
            });
            for n in self.nodes.iter().filter(|n| !n.boot.is_active()) {
                out.push(n.event(
                    CLASS1_INFORMATION,
                    9,
                    vec![0, n.reg(REG_ZONE), n.reg(REG_SUBZONE)],
                ));
            }
        }
        out
    }

    /// What the nodes answer to an event a client sent.
    pub(super) fn answer(&mut self, ev: &Event) -> Vec<Event> {
        let guid = self.level2.guid;
        let mut out = level2_answer(guid, ev, &mut self.level2);
        out.extend(answer(self.interface, &mut self.nodes, ev));
        out
    }

    /// Load-test event `i` of a flood (`--demo-rate`), from node 9.
    pub(super) fn flood_event(&self, i: u64) -> Event {
        let mut ev = Event::new(MEASUREMENT, 1);
        ev.guid = self.interface.with_nickname(9);
        ev.data = vec![0x60, (i >> 8) as u8, i as u8];
        ev
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
    guid: Guid,
    nickname: u8,
    role: Role,
    regs: [u8; 256],
    value: f64,
    next_report: Millis,
    boot: BootDevice,
}

/// The demo's Level II node: 1,024 user registers from address 0, the standard registers at
/// 0xFFFFFF80 (read-only; no bootloader: 0x97 is 0xFF).
struct Level2Node {
    guid: Guid,
    user: Vec<u8>,
    standard: [u8; 128],
}

impl Level2Node {
    fn new(guid: Guid) -> Level2Node {
        let mut standard = [0u8; 128];
        standard[0x81 - 0x80] = 1; // VSCP spec 1.13
        standard[0x82 - 0x80] = 13;
        standard[0x94 - 0x80..0x97 - 0x80].copy_from_slice(&[2, 1, 0]);
        standard[0x97 - 0x80] = 0xFF;
        standard[0x50..0x60].copy_from_slice(&guid.0);
        Level2Node {
            guid,
            user: (0..1024u32).map(|a| (a % 256) as u8).collect(),
            standard,
        }
    }
}

impl Level2Registers for Level2Node {
    fn get(&self, addr: u32) -> u8 {
        match addr {
            0xFFFF_FF80.. => self.standard[(addr - 0xFFFF_FF80) as usize],
            a => self.user.get(a as usize).copied().unwrap_or(0),
        }
    }

    fn set(&mut self, addr: u32, value: u8) {
        if let Some(slot) = self.user.get_mut(addr as usize) {
            *slot = value;
        }
    }
}

/// The demo nodes' flash: blocks and their size.
const BOOT_BLOCK: u32 = 256;
const BOOT_BLOCKS: u32 = 512;
/// The fault knob's registers (page 0).
const REG_FAULT: u8 = 0x10;

/// Application registers.
const REG_INTERVAL: u8 = 0x00;
const REG_ZONE: u8 = 0x01;
const REG_SUBZONE: u8 = 0x02;
const REG_RELAY_STATE: u8 = 0x03;

impl SimNode {
    fn new(guid: Guid, role: Role, mdf: &str, interval: u8) -> SimNode {
        let nickname = guid.nickname();
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
        regs[0x97] = bootloader::VSCP_ALGORITHM;
        // firmware device code: one per kind of node
        regs[0xA3] = 0x10;
        regs[0xA4] = match role {
            Role::Temperature => 1,
            Role::Humidity => 2,
            Role::Relay => 3,
        };
        regs[0xD0..0xE0].copy_from_slice(&guid.0);
        for (slot, b) in regs[0xE0..].iter_mut().zip(mdf.bytes()) {
            *slot = b;
        }
        let value = match role {
            Role::Temperature => 21.5,
            Role::Humidity => 45.0,
            Role::Relay => 0.0,
        };
        SimNode {
            guid,
            nickname,
            role,
            regs,
            value,
            next_report: Millis(0),
            boot: BootDevice::new(BOOT_BLOCK, BOOT_BLOCKS),
        }
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
            guid: self.guid,
            head: 3 << 5,
            ..Event::default()
        }
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

fn answer(interface: Guid, nodes: &mut [SimNode], ev: &Event) -> Vec<Event> {
    let Some(l1) = ev.as_level1() else {
        return Vec::new();
    };
    // for class 512+ the destination is the interface GUID with the nickname in byte 15:
    // another site's interface is not this bus
    let to = ev.level1_from_level2().map(|(g, _)| g);
    if to.is_some_and(|g| g.with_nickname(0) != interface) {
        return Vec::new();
    }
    let dest = to.map(|g| g.nickname());
    let d = &l1.data;
    let mut out = Vec::new();
    for n in nodes.iter_mut() {
        let addressed = |node_byte: Option<&u8>| match (dest, node_byte) {
            (Some(to), _) => to == n.nickname || to == 0xFF,
            (None, Some(b)) => *b == n.nickname || *b == 0xFF,
            (None, None) => true,
        };
        // in its bootloader a node answers nothing but the bootloader's events
        if l1.class == CLASS1_PROTOCOL && (n.boot.is_active() || l1.kind == bootloader::kind::ENTER)
        {
            out.extend(boot_answer(n, l1.kind, d, dest));
            continue;
        }
        match (l1.class, l1.kind) {
            (CLASS1_PROTOCOL, kind::WHO_IS_THERE) if addressed(d.first()) => {
                let url = String::from_utf8_lossy(&n.regs[0xE0..])
                    .trim_end_matches('\0')
                    .to_string();
                for f in who_is_there_frames(n.guid, &url) {
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

/// A bootloader event for `n` (enter: addressed by its nickname byte; the others by the
/// Level II destination, or to every node in its bootloader on a Level I bus).
fn boot_answer(n: &mut SimNode, kind: u16, d: &[u8], dest: Option<u8>) -> Vec<Event> {
    let answer = if kind == bootloader::kind::ENTER {
        if d.first() != Some(&n.nickname) {
            return Vec::new();
        }
        let [mode, hi, lo] = [REG_FAULT, REG_FAULT + 1, REG_FAULT + 2].map(|r| n.reg(r));
        let chunk = u64::from(u16::from_be_bytes([hi, lo]));
        n.boot.set_fault(match mode {
            1 => Some(Fault::Drop(chunk)),
            2 => Some(Fault::Nack(chunk)),
            _ => None,
        });
        let page = u16::from_be_bytes([n.reg(0x92), n.reg(0x93)]);
        n.boot.enter(d, &n.guid, page)
    } else if dest.is_none_or(|to| to == n.nickname) {
        n.boot.handle(kind, d)
    } else {
        return Vec::new();
    };
    let mut out: Vec<Event> = answer
        .into_iter()
        .map(|(k, data)| n.event(CLASS1_PROTOCOL, k, data))
        .collect();
    if kind == bootloader::kind::ACTIVATE && !n.boot.is_active() {
        // started again with the new image: its version from the image's first bytes
        let version = n.boot.read(0, 0, 3);
        if version.iter().any(|b| *b != 0xFF) {
            n.regs[0x94..0x97].copy_from_slice(&version);
        }
        out.push(n.event(CLASS1_PROTOCOL, kind::NEW_NODE_ONLINE, vec![n.nickname]));
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

#[cfg(test)]
mod tests {
    use super::*;
    use vscp_core::registers::RegisterReply;

    fn to(nickname: u8, class: u16, k: u16, data: &[u8]) -> Event {
        let mut ev = Event::new(class, k);
        ev.data = data.to_vec();
        ev.guid = INTERFACE_GUID.with_nickname(nickname);
        ev
    }

    #[test]
    fn sensors_report_at_their_interval_and_heartbeat() {
        let mut sim = Sim::new(INTERFACE_GUID);
        assert_eq!(sim.start().len(), 3);
        let first = sim.tick(Millis(0));
        assert_eq!(first.iter().filter(|e| e.class == MEASUREMENT).count(), 2);
        assert_eq!(
            first
                .iter()
                .filter(|e| e.class == CLASS1_INFORMATION)
                .count(),
            3
        );
        assert!(sim.tick(Millis(1_000)).is_empty());
        // temperature every 2 s, humidity every 3 s
        let at2 = sim.tick(Millis(2_000));
        assert_eq!(at2.len(), 1);
        assert_eq!(at2[0].guid.nickname(), 1);
    }

    #[test]
    fn registers_read_write_and_relay() {
        let mut sim = Sim::new(INTERFACE_GUID);
        let read = sim.answer(&to(0, CLASS1_PROTOCOL, kind::READ_REGISTER, &[1, 0xD0]));
        assert_eq!(
            read.iter().find_map(RegisterReply::from_event),
            Some(RegisterReply::Value {
                origin: 1,
                reg: 0xD0,
                value: 0xFF
            })
        );
        // interval of node 1 to 0: it stops reporting
        sim.answer(&to(
            0,
            CLASS1_PROTOCOL,
            kind::WRITE_REGISTER,
            &[1, REG_INTERVAL, 0],
        ));
        assert!(
            sim.tick(Millis(10_000))
                .iter()
                .all(|e| e.guid.nickname() != 1 || e.class != MEASUREMENT)
        );
        // read-only register stays
        sim.answer(&to(0, CLASS1_PROTOCOL, kind::WRITE_REGISTER, &[1, 0xD0, 0]));
        assert_eq!(sim.nodes[0].reg(0xD0), 0xFF);
        // relay on: CLASS1.INFORMATION On
        let on = sim.answer(&to(0, CONTROL, 5, &[0, 255, 255]));
        assert_eq!((on[0].class, on[0].kind), (CLASS1_INFORMATION, 3));
    }

    /// vscp-core's register session against the demo's node model: a full page read through
    /// the interface, the standard registers decoded, a write checked by its answer.
    #[test]
    fn register_session_reads_and_writes_a_demo_node() {
        use vscp_core::{
            register_session::{RegisterConfig, RegisterOutput, RegisterSession},
            registers::{StandardRegisters, Target},
        };
        let mut sim = Sim::new(INTERFACE_GUID);
        let target = Target {
            interface: Some(INTERFACE_GUID),
            nickname: 1,
        };
        let mut s = RegisterSession::new(target, RegisterConfig::default());
        let mut regs = [0u8; 256];
        let mut written = Vec::new();
        let mut now = Millis(0);
        s.read(0, 0, 256, now);
        s.write(0, REG_INTERVAL, 7, now);
        loop {
            let mut replies = Vec::new();
            while let Some(o) = s.poll_output() {
                match o {
                    RegisterOutput::Send(ev) => replies.extend(sim.answer(&ev)),
                    RegisterOutput::Value { reg, value, .. } => regs[usize::from(reg)] = value,
                    RegisterOutput::Written { reg, value, .. } => written.push((reg, value)),
                    RegisterOutput::Failed { request, .. } => panic!("{request:?} failed"),
                }
            }
            if s.is_idle() {
                break;
            }
            now = now.plus(1);
            for r in &replies {
                s.handle_event(r, now);
            }
        }
        let std = StandardRegisters::decode(regs[0x80..].try_into().unwrap());
        assert_eq!(std.guid, INTERFACE_GUID.with_nickname(1));
        assert_eq!(std.mdf_url, "vscp-link.local/demo/temp.xml");
        assert_eq!(std.firmware, (1, 2, 3));
        assert_eq!(written, vec![(REG_INTERVAL, 7)]);
        assert_eq!(sim.nodes[0].reg(REG_INTERVAL), 7);
        assert_eq!(s.stats().retries, 0);
    }

    /// vscp-core's bootloader session against a demo node: every chunk answered, a refused
    /// chunk (the fault knob) costs one block restart, and after activation the node reports
    /// the image's version and says it is online again.
    #[test]
    fn bootloader_upload_to_a_demo_node() {
        use vscp_core::{
            bootloader::{BootConfig, BootOutput, BootSession, Identity},
            firmware::Image,
            registers::Target,
        };
        let mut sim = Sim::new(INTERFACE_GUID);
        // refuse chunk 40 of the upload
        for (r, v) in [(REG_FAULT, 2), (REG_FAULT + 1, 0), (REG_FAULT + 2, 40)] {
            sim.answer(&to(0, CLASS1_PROTOCOL, kind::WRITE_REGISTER, &[1, r, v]));
        }
        let mut image = vec![2, 0, 7]; // version 2.0.7
        image.extend((0..5000u32).map(|i| i as u8));
        let target = Target {
            interface: Some(INTERFACE_GUID),
            nickname: 1,
        };
        let identity = Identity {
            guid: INTERFACE_GUID.with_nickname(1),
            page: 0,
        };
        let now = Millis(0);
        let mut s = BootSession::new(
            target,
            identity,
            Image::from_bytes(0, image.clone()),
            BootConfig::default(),
            now,
        );
        let mut seen = Vec::new();
        while !s.is_finished() {
            let mut replies = Vec::new();
            while let Some(o) = s.poll_output() {
                match o {
                    BootOutput::Send(ev) => replies.extend(sim.answer(&ev)),
                    other => seen.push(other),
                }
            }
            assert!(
                !replies.is_empty() || s.is_finished(),
                "no answer after {:?}",
                seen.last()
            );
            for r in &replies {
                s.handle_event(r, now);
            }
            // measurements stop while the node is in its bootloader
            assert!(
                !sim.nodes[0].boot.is_active()
                    || sim
                        .tick(Millis(60_000))
                        .iter()
                        .all(|e| e.guid.nickname() != 1)
            );
        }
        seen.extend(std::iter::from_fn(|| s.poll_output()));
        assert!(
            matches!(seen.last(), Some(BootOutput::Done { .. })),
            "{seen:?}"
        );
        assert_eq!(s.progress().retries, 1, "one block restarted");
        assert_eq!(sim.nodes[0].boot.read(0, 0, image.len()), image);
        assert_eq!(&sim.nodes[0].regs[0x94..0x97], &[2, 0, 7]);
    }

    /// The Level II node through vscp-core's register session: user space and standard
    /// registers by CLASS2.PROTOCOL, a write checked by its answer.
    #[test]
    fn level2_node_registers() {
        use vscp_core::register_session::{RegisterConfig, RegisterOutput, RegisterSession};
        let mut sim = Sim::new(INTERFACE_GUID);
        let guid = sim.level2.guid;
        let mut s = RegisterSession::level2(guid, RegisterConfig::default());
        s.read(1, 0, 256, Millis(0));
        s.write(1, 3, 0x5A, Millis(0));
        let (mut values, mut written) = (vec![None; 256], None);
        while !s.is_idle() || s.has_output() {
            let mut replies = Vec::new();
            while let Some(o) = s.poll_output() {
                match o {
                    RegisterOutput::Send(ev) => replies.extend(sim.answer(&ev)),
                    RegisterOutput::Value { reg, value, .. } => {
                        values[usize::from(reg)] = Some(value)
                    }
                    RegisterOutput::Written { value, .. } => written = Some(value),
                    RegisterOutput::Failed { request, .. } => panic!("{request:?}"),
                }
            }
            for r in &replies {
                s.handle_event(r, Millis(1));
            }
        }
        // page 1, register 3 is address 131
        assert_eq!(values[3], Some(131));
        assert_eq!(written, Some(0x5A));
        assert_eq!(values[0x94], Some(2), "firmware major from 0xFFFFFF94");
        let std: Vec<u8> = values[0xD0..0xE0].iter().map(|v| v.unwrap()).collect();
        assert_eq!(std, guid.0);
    }
}
