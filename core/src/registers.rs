//! Register access over the link (CLASS1.PROTOCOL, CLASS2.PROTOCOL), the standard register
//! map, and discovery events: who-is-there, probe, heartbeat, capabilities (protocol.md §9–§10).

use crate::event::Event;
use crate::guid::Guid;
use crate::reply::Capabilities;

/// CLASS1.PROTOCOL.
pub const CLASS1_PROTOCOL: u16 = 0;
/// CLASS2.PROTOCOL.
pub const CLASS2_PROTOCOL: u16 = 1024;
/// CLASS1.INFORMATION.
pub const CLASS1_INFORMATION: u16 = 20;
/// CLASS2.INFORMATION.
pub const CLASS2_INFORMATION: u16 = 1026;

/// CLASS1.PROTOCOL type numbers used here.
pub mod kind {
    /// New node online / probe.
    pub const NEW_NODE_ONLINE: u16 = 2;
    /// Probe acknowledge.
    pub const PROBE_ACK: u16 = 3;
    /// Read register.
    pub const READ_REGISTER: u16 = 9;
    /// Read/write response.
    pub const RW_RESPONSE: u16 = 10;
    /// Write register.
    pub const WRITE_REGISTER: u16 = 11;
    /// Who is there?
    pub const WHO_IS_THERE: u16 = 31;
    /// Who is there response.
    pub const WHO_IS_THERE_RESPONSE: u16 = 32;
    /// Extended page read.
    pub const EXTENDED_PAGE_READ: u16 = 37;
    /// Extended page write.
    pub const EXTENDED_PAGE_WRITE: u16 = 38;
    /// Extended page response.
    pub const EXTENDED_PAGE_RESPONSE: u16 = 39;
}

/// Standard register addresses (Level I; visible on every page).
pub mod reg {
    /// Alarm status.
    pub const ALARM: u8 = 0x80;
    /// Nickname.
    pub const NICKNAME: u8 = 0x91;
    /// Page select MSB.
    pub const PAGE_MSB: u8 = 0x92;
    /// Page select LSB.
    pub const PAGE_LSB: u8 = 0x93;
    /// Firmware major version.
    pub const FIRMWARE_MAJOR: u8 = 0x94;
    /// First GUID byte (MSB).
    pub const GUID: u8 = 0xD0;
    /// First MDF URL byte.
    pub const MDF_URL: u8 = 0xE0;
}

/// Level II address of a Level I standard register: `0xFFFFFF00 + reg` (protocol.md §9.3).
#[must_use]
pub fn level2_address(level1_reg: u8) -> u32 {
    0xFFFF_FF00 | u32::from(level1_reg)
}

/// Where a Level I node is: on the link itself, or behind an interface (class 512 + c).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// The interface GUID the node is behind, if any.
    pub interface: Option<Guid>,
    /// The node's nickname.
    pub nickname: u8,
}

impl Target {
    pub(crate) fn event(&self, kind: u16, payload: Vec<u8>) -> Event {
        let ev = Event {
            data: payload,
            ..Event::new(CLASS1_PROTOCOL, kind)
        };
        match self.interface {
            Some(iface) => ev.level1_over_level2(iface, self.nickname),
            None => ev,
        }
    }

    /// Read register (type 9): `node, reg`.
    #[must_use]
    pub fn read(&self, reg: u8) -> Event {
        self.event(kind::READ_REGISTER, vec![self.nickname, reg])
    }

    /// Write register (type 11): `node, reg, value`.
    #[must_use]
    pub fn write(&self, reg: u8, value: u8) -> Event {
        self.event(kind::WRITE_REGISTER, vec![self.nickname, reg, value])
    }

    /// Extended page read (type 37): `count` registers from `reg` on `page` (0 = to 0xFF).
    #[must_use]
    pub fn read_page(&self, page: u16, reg: u8, count: u8) -> Event {
        let [hi, lo] = page.to_be_bytes();
        self.event(
            kind::EXTENDED_PAGE_READ,
            vec![self.nickname, hi, lo, reg, count],
        )
    }

    /// Extended page write (type 38): up to 4 values from `reg` on `page`.
    #[must_use]
    pub fn write_page(&self, page: u16, reg: u8, values: &[u8]) -> Event {
        let [hi, lo] = page.to_be_bytes();
        let mut data = vec![self.nickname, hi, lo, reg];
        data.extend(values.iter().take(4));
        self.event(kind::EXTENDED_PAGE_WRITE, data)
    }

    /// Who is there? (type 31) for this nickname (255 = all).
    #[must_use]
    pub fn who_is_there(&self) -> Event {
        self.event(kind::WHO_IS_THERE, vec![self.nickname])
    }
}

/// Level II register read (CLASS2.PROTOCOL type 1): `count` registers from `reg` of `guid`.
#[must_use]
pub fn level2_read(guid: Guid, reg: u32, count: u16) -> Event {
    let mut data = guid.0.to_vec();
    data.extend(reg.to_be_bytes());
    data.extend(count.min(508).to_be_bytes());
    Event {
        data,
        ..Event::new(CLASS2_PROTOCOL, 1)
    }
}

/// Level II register write (CLASS2.PROTOCOL type 2).
#[must_use]
pub fn level2_write(guid: Guid, reg: u32, values: &[u8]) -> Event {
    let mut data = guid.0.to_vec();
    data.extend(reg.to_be_bytes());
    data.extend(values.iter().take(492));
    Event {
        data,
        ..Event::new(CLASS2_PROTOCOL, 2)
    }
}

/// A Level II node's register file, as [`level2_answer`] reaches it.
pub trait Level2Registers {
    /// The value at `addr`.
    fn get(&self, addr: u32) -> u8;
    /// Writes `value` at `addr` (a read-only register keeps its value).
    fn set(&mut self, addr: u32, value: u8);
}

/// The node side of CLASS2.PROTOCOL register access: a read (1) or write (2) addressed to
/// `guid` is answered with read/write responses (3) from `regs`, at most 508 values each;
/// anything else with nothing.
pub fn level2_answer(guid: Guid, event: &Event, regs: &mut dyn Level2Registers) -> Vec<Event> {
    if event.class != CLASS2_PROTOCOL {
        return Vec::new();
    }
    let Some((to, rest)) = event.data.split_first_chunk::<16>() else {
        return Vec::new();
    };
    let Some((start, rest)) = rest.split_first_chunk::<4>() else {
        return Vec::new();
    };
    if Guid(*to) != guid {
        return Vec::new();
    }
    let start = u32::from_be_bytes(*start);
    let values: Vec<u8> = match (event.kind, rest) {
        (1, [hi, lo, ..]) => {
            let n = u32::from(u16::from_be_bytes([*hi, *lo]).min(508));
            (0..n).map(|i| regs.get(start.wrapping_add(i))).collect()
        }
        (2, values) => {
            for (i, v) in values.iter().enumerate() {
                regs.set(start.wrapping_add(i as u32), *v);
            }
            (0..values.len() as u32)
                .map(|i| regs.get(start.wrapping_add(i)))
                .collect()
        }
        _ => return Vec::new(),
    };
    values
        .chunks(508)
        .enumerate()
        .map(|(i, part)| {
            let mut data = start.wrapping_add(i as u32 * 508).to_be_bytes().to_vec();
            data.extend_from_slice(part);
            Event {
                guid,
                data,
                ..Event::new(CLASS2_PROTOCOL, 3)
            }
        })
        .collect()
}

/// A register reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterReply {
    /// Type 10: one register's value.
    Value {
        /// Replying node's nickname (GUID byte 15).
        origin: u8,
        /// Register.
        reg: u8,
        /// Value (after a write).
        value: u8,
    },
    /// Type 39: consecutive registers of a page.
    Page {
        /// Replying node's nickname.
        origin: u8,
        /// Frame index of a multi-frame reply.
        index: u8,
        /// Page.
        page: u16,
        /// First register.
        reg: u8,
        /// Values.
        values: Vec<u8>,
    },
    /// CLASS2.PROTOCOL type 3.
    Level2 {
        /// Replying node's GUID.
        origin: Guid,
        /// First register.
        reg: u32,
        /// Values.
        values: Vec<u8>,
    },
}

impl RegisterReply {
    /// Decodes a register reply event (Level I, its class-512 mirror, or Level II).
    #[must_use]
    pub fn from_event(event: &Event) -> Option<RegisterReply> {
        if event.class == CLASS2_PROTOCOL && event.kind == 3 {
            let (reg, values) = event.data.split_first_chunk::<4>()?;
            return Some(RegisterReply::Level2 {
                origin: event.guid,
                reg: u32::from_be_bytes(*reg),
                values: values.to_vec(),
            });
        }
        let ev = event.as_level1()?;
        if ev.class != CLASS1_PROTOCOL {
            return None;
        }
        let origin = event.guid.nickname();
        match (ev.kind, ev.data.as_slice()) {
            (kind::RW_RESPONSE, [reg, value, ..]) => Some(RegisterReply::Value {
                origin,
                reg: *reg,
                value: *value,
            }),
            (kind::EXTENDED_PAGE_RESPONSE, [index, hi, lo, reg, values @ ..]) => {
                Some(RegisterReply::Page {
                    origin,
                    index: *index,
                    page: u16::from_be_bytes([*hi, *lo]),
                    reg: *reg,
                    values: values.to_vec(),
                })
            }
            _ => None,
        }
    }
}

/// What a standard register (0x80–0xFF) holds, in words (`None` for 0xA5–0xCF, reserved).
#[must_use]
pub fn standard_name(reg: u8) -> Option<&'static str> {
    Some(match reg {
        0x80 => "alarm status",
        0x81 => "VSCP major version",
        0x82 => "VSCP minor version",
        0x83 => "error counter",
        0x84..=0x88 => "user id",
        0x89..=0x8C => "manufacturer device id",
        0x8D..=0x90 => "manufacturer sub device id",
        0x91 => "nickname",
        0x92 => "page select MSB",
        0x93 => "page select LSB",
        0x94 => "firmware major",
        0x95 => "firmware minor",
        0x96 => "firmware build",
        0x97 => "boot loader algorithm",
        0x98 => "buffer size",
        0x99 => "pages used",
        0x9A..=0x9D => "standard device family",
        0x9E..=0xA1 => "standard device type",
        0xA2 => "node control flags",
        0xA3..=0xA4 => "firmware device code",
        0xD0..=0xDF => "GUID",
        0xE0..=0xFF => "MDF URL",
        _ => return None,
    })
}

/// The standard register block 0x80–0xFF decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StandardRegisters {
    /// 0x80 alarm status.
    pub alarm: u8,
    /// 0x81/0x82 VSCP spec version.
    pub vscp_version: (u8, u8),
    /// 0x83 error counter.
    pub error_counter: u8,
    /// 0x84–0x88 user id.
    pub user_id: [u8; 5],
    /// 0x89–0x8C manufacturer device id.
    pub manufacturer_id: u32,
    /// 0x8D–0x90 manufacturer sub-device id.
    pub manufacturer_sub_id: u32,
    /// 0x91 nickname.
    pub nickname: u8,
    /// 0x92/0x93 selected page.
    pub page: u16,
    /// 0x94–0x96 firmware version.
    pub firmware: (u8, u8, u8),
    /// 0x97 boot-loader algorithm.
    pub bootloader: u8,
    /// 0x9A–0x9D standard device family.
    pub family: u32,
    /// 0x9E–0xA1 standard device type.
    pub device_type: u32,
    /// 0xA3/0xA4 firmware device code.
    pub firmware_code: u16,
    /// 0xD0–0xDF GUID.
    pub guid: Guid,
    /// 0xE0–0xFF MDF URL.
    pub mdf_url: String,
}

fn be32(b: &[u8]) -> u32 {
    b.iter().take(4).fold(0, |v, x| v << 8 | u32::from(*x))
}

impl StandardRegisters {
    /// Decodes the 128 registers 0x80..=0xFF.
    #[must_use]
    pub fn decode(r: &[u8; 128]) -> StandardRegisters {
        let at = |reg: usize| r.get(reg - 0x80).copied().unwrap_or_default();
        let span =
            |from: usize, len: usize| r.get(from - 0x80..from - 0x80 + len).unwrap_or_default();
        let mut guid = [0u8; 16];
        guid.copy_from_slice(span(0xD0, 16));
        let mut user_id = [0u8; 5];
        user_id.copy_from_slice(span(0x84, 5));
        StandardRegisters {
            alarm: at(0x80),
            vscp_version: (at(0x81), at(0x82)),
            error_counter: at(0x83),
            user_id,
            manufacturer_id: be32(span(0x89, 4)),
            manufacturer_sub_id: be32(span(0x8D, 4)),
            nickname: at(0x91),
            page: u16::from_be_bytes([at(0x92), at(0x93)]),
            firmware: (at(0x94), at(0x95), at(0x96)),
            bootloader: at(0x97),
            family: be32(span(0x9A, 4)),
            device_type: be32(span(0x9E, 4)),
            firmware_code: u16::from_be_bytes([at(0xA3), at(0xA4)]),
            guid: Guid(guid),
            mdf_url: mdf_text(span(0xE0, 32)),
        }
    }
}

fn mdf_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned()
}

/// Discovery and liveness events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discovery {
    /// CLASS1.PROTOCOL type 2 from the node holding that nickname.
    NewNodeOnline {
        /// The node's nickname.
        nickname: u8,
    },
    /// CLASS1.PROTOCOL type 2 from nickname 0xFF: is `target` taken?
    Probe {
        /// The nickname probed.
        target: u8,
    },
    /// CLASS1.INFORMATION type 9.
    Heartbeat {
        /// Sender nickname.
        origin: u8,
        /// User byte.
        user: u8,
        /// Zone.
        zone: u8,
        /// Sub-zone.
        subzone: u8,
    },
    /// CLASS2.INFORMATION type 2, with the node's name.
    Level2Heartbeat {
        /// The node name.
        name: String,
    },
    /// CLASS2.PROTOCOL type 20: server capabilities.
    Capabilities(Capabilities),
    /// One frame (0–6) of a who-is-there response.
    WhoIsThereFrame {
        /// Sender nickname.
        origin: u8,
        /// Frame index.
        index: u8,
        /// The 7 payload bytes (zeros where the frame carried fewer).
        bytes: [u8; 7],
        /// Payload bytes the frame carried (7 in a whole frame; some firmware sends
        /// continuation frames with none).
        carried: u8,
    },
}

impl Discovery {
    /// Recognises a discovery event (Level I, class-512 mirror or Level II).
    #[must_use]
    pub fn from_event(event: &Event) -> Option<Discovery> {
        match (event.class, event.kind) {
            (CLASS2_PROTOCOL, 20) => {
                let caps = event.data.first_chunk::<8>()?;
                return Some(Discovery::Capabilities(Capabilities(u64::from_be_bytes(
                    *caps,
                ))));
            }
            (CLASS2_INFORMATION, 2) => {
                return Some(Discovery::Level2Heartbeat {
                    name: mdf_text(&event.data),
                });
            }
            _ => {}
        }
        let ev = event.as_level1()?;
        let origin = event.guid.nickname();
        match (ev.class, ev.kind, ev.data.as_slice()) {
            (CLASS1_PROTOCOL, kind::NEW_NODE_ONLINE, [target, ..]) if origin == 0xFF => {
                Some(Discovery::Probe { target: *target })
            }
            (CLASS1_PROTOCOL, kind::NEW_NODE_ONLINE, [n, ..]) => {
                Some(Discovery::NewNodeOnline { nickname: *n })
            }
            (CLASS1_PROTOCOL, kind::WHO_IS_THERE_RESPONSE, [index, rest @ ..]) if *index < 7 => {
                let mut bytes = [0u8; 7];
                let carried = rest.len().min(7);
                bytes[..carried].copy_from_slice(&rest[..carried]);
                Some(Discovery::WhoIsThereFrame {
                    origin,
                    index: *index,
                    bytes,
                    carried: carried as u8,
                })
            }
            (CLASS1_INFORMATION, 9, [user, zone, subzone, ..]) => Some(Discovery::Heartbeat {
                origin,
                user: *user,
                zone: *zone,
                subzone: *subzone,
            }),
            _ => None,
        }
    }
}

/// The 7 who-is-there frames a node sends about itself (FW byte order: GUID byte 15 first).
#[must_use]
pub fn who_is_there_frames(guid: Guid, mdf_url: &str) -> Vec<Vec<u8>> {
    let mut payload: Vec<u8> = guid.0.iter().rev().copied().collect();
    let mut url = [0u8; 32];
    for (slot, b) in url.iter_mut().zip(mdf_url.bytes()) {
        *slot = b;
    }
    payload.extend(url);
    payload.push(0);
    payload
        .chunks(7)
        .enumerate()
        .map(|(i, c)| std::iter::once(i as u8).chain(c.iter().copied()).collect())
        .collect()
}

/// Collects who-is-there frames of one node into its GUID and MDF URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WhoIsThere {
    frames: [Option<[u8; 7]>; 7],
    /// Frames that came with fewer than 7 payload bytes, by index (bit i = frame i).
    short: u8,
}

impl WhoIsThere {
    /// Adds a frame (duplicates replace earlier copies).
    pub fn add(&mut self, index: u8, bytes: [u8; 7]) {
        self.add_carried(index, bytes, 7);
    }

    /// Adds a frame that carried `carried` payload bytes (the rest of `bytes` are zeros).
    pub fn add_carried(&mut self, index: u8, bytes: [u8; 7], carried: u8) {
        if let Some(slot) = self.frames.get_mut(usize::from(index)) {
            *slot = Some(bytes);
            let bit = 1u8 << index;
            self.short = if carried < 7 {
                self.short | bit
            } else {
                self.short & !bit
            };
        }
    }

    /// Indices of the frames that came with fewer than 7 payload bytes (read as zeros).
    #[must_use]
    pub fn short_frames(&self) -> Vec<u8> {
        (0..7).filter(|i| self.short & (1 << i) != 0).collect()
    }

    /// GUID and MDF URL once all seven frames are in.
    #[must_use]
    pub fn complete(&self) -> Option<(Guid, String)> {
        let mut all = Vec::with_capacity(49);
        for f in &self.frames {
            all.extend_from_slice(f.as_ref()?);
        }
        let mut guid = [0u8; 16];
        for (i, b) in all.iter().take(16).enumerate() {
            if let Some(slot) = guid.get_mut(15 - i) {
                *slot = *b;
            }
        }
        Some((Guid(guid), mdf_text(all.get(16..48).unwrap_or_default())))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn standard_registers_have_names() {
        assert_eq!(standard_name(0x91), Some("nickname"));
        assert_eq!(standard_name(0xD5), Some("GUID"));
        assert_eq!(standard_name(0xB0), None);
        assert_eq!(standard_name(0x10), None);
    }

    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn who_is_there_round_trip() {
        let guid: Guid = "FF:FF:FF:FF:FF:FF:FF:FE:00:05:93:14:02:32:00:01"
            .parse()
            .unwrap();
        let mut w = WhoIsThere::default();
        for f in who_is_there_frames(guid, "example.com/relay.xml") {
            let ev = Event {
                data: f,
                guid,
                ..Event::new(0, 32)
            };
            let Some(Discovery::WhoIsThereFrame { index, bytes, .. }) = Discovery::from_event(&ev)
            else {
                panic!("not a frame")
            };
            w.add(index, bytes);
        }
        assert_eq!(
            w.complete(),
            Some((guid, "example.com/relay.xml".to_string()))
        );
    }

    #[test]
    fn standard_registers() {
        let mut r = [0u8; 128];
        r[0x94 - 0x80] = 1;
        r[0x95 - 0x80] = 2;
        r[0xD0 - 0x80] = 0xAA;
        r[0xE0 - 0x80..0xE0 - 0x80 + 5].copy_from_slice(b"a.xml");
        let s = StandardRegisters::decode(&r);
        assert_eq!(
            (s.firmware, s.guid.0[0], s.mdf_url.as_str()),
            ((1, 2, 0), 0xAA, "a.xml")
        );
        assert_eq!(level2_address(0xD0), 0xFFFF_FFD0);
    }
}
