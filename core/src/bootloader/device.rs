//! The node's side of the VSCP bootloader, pure: memory per memory type, a block buffer whose
//! CRC is reported, programming, activation with the CRC sum checked. The demo nodes run it
//! (with a programming time and a fault knob of their own), and the tests upload to it.

use std::collections::BTreeMap;

use super::{VSCP_ALGORITHM, kind};
use crate::{firmware::crc16, guid::Guid};

/// A fault to show once: the `n`-th block data event (0-based, over the whole upload) is
/// dropped (no answer) or refused (53).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No answer to that chunk (it is lost).
    Drop(u64),
    /// Refuse that chunk.
    Nack(u64),
}

/// A node's bootloader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootDevice {
    block_size: u32,
    blocks: u32,
    /// Programmed blocks by (memory type, block number).
    memory: BTreeMap<(u8, u32), Vec<u8>>,
    /// The block being received: memory type, number, bytes so far.
    buffer: Option<(u8, u32, Vec<u8>)>,
    /// A received block waiting to be programmed: memory type, number, bytes.
    ready: Option<(u8, u32, Vec<u8>)>,
    active: bool,
    crc_sum: u16,
    chunks_seen: u64,
    fault: Option<Fault>,
}

/// The answer to one event: (type, data) of the CLASS1.PROTOCOL events to send back.
pub type Answer = Vec<(u16, Vec<u8>)>;

impl BootDevice {
    /// A bootloader with `blocks` blocks of `block_size` bytes of flash.
    #[must_use]
    pub fn new(block_size: u32, blocks: u32) -> BootDevice {
        BootDevice {
            block_size: block_size.max(1),
            blocks,
            memory: BTreeMap::new(),
            buffer: None,
            ready: None,
            active: false,
            crc_sum: 0,
            chunks_seen: 0,
            fault: None,
        }
    }

    /// Arms a fault for the next upload.
    pub fn set_fault(&mut self, fault: Option<Fault>) {
        self.fault = fault;
    }

    /// In bootloader mode (the node does nothing else)?
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The programmed bytes of one memory type from `offset` (0xFF where nothing was written).
    #[must_use]
    pub fn read(&self, memory: u8, offset: u32, len: usize) -> Vec<u8> {
        (0..len as u32)
            .map(|i| {
                let addr = offset + i;
                self.memory
                    .get(&(memory, addr / self.block_size))
                    .and_then(|b| b.get((addr % self.block_size) as usize).copied())
                    .unwrap_or(0xFF)
            })
            .collect()
    }

    /// Enter bootloader (type 12) with `data`, for the node `guid` whose page registers hold
    /// `page`: ACK with the block size and count when the algorithm and identity match.
    pub fn enter(&mut self, data: &[u8], guid: &Guid, page: u16) -> Answer {
        let g = guid.0;
        let [hi, lo] = page.to_be_bytes();
        let identity = [g[0], g[3], g[5], g[7], hi, lo];
        match data {
            [_, VSCP_ALGORITHM, rest @ ..] if rest.get(..6) == Some(&identity[..]) => {
                self.active = true;
                self.buffer = None;
                self.ready = None;
                self.crc_sum = 0;
                self.chunks_seen = 0;
                let mut ack = self.block_size.to_be_bytes().to_vec();
                ack.extend(self.blocks.to_be_bytes());
                vec![(kind::ENTER_ACK, ack)]
            }
            [_, algorithm, ..] if *algorithm != VSCP_ALGORITHM => vec![(kind::ENTER_NACK, vec![1])],
            _ => vec![(kind::ENTER_NACK, vec![2])],
        }
    }

    /// Any other bootloader event while active (activate: 48 and the node leaves its
    /// bootloader when the CRC sum matches).
    pub fn handle(&mut self, kind: u16, data: &[u8]) -> Answer {
        if !self.active {
            return Vec::new();
        }
        let be32 = |at: usize| {
            data.get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes)
        };
        match kind {
            kind::START_BLOCK => {
                let memory = data.get(4).copied().unwrap_or(0);
                let known = matches!(memory, 0..=6 | 252..=255);
                match be32(0) {
                    Some(n) if known && (memory != 0 || n < self.blocks) => {
                        self.buffer = Some((memory, n, Vec::new()));
                        vec![(kind::START_ACK, Vec::new())]
                    }
                    _ => vec![(kind::START_NACK, Vec::new())],
                }
            }
            kind::BLOCK_DATA => {
                let seen = self.chunks_seen;
                self.chunks_seen += 1;
                match self.fault {
                    Some(Fault::Drop(n)) if n == seen => {
                        self.fault = None;
                        return Vec::new();
                    }
                    Some(Fault::Nack(n)) if n == seen => {
                        self.fault = None;
                        return vec![(kind::CHUNK_NACK, Vec::new())];
                    }
                    _ => {}
                }
                let size = self.block_size as usize;
                let Some((_, n, buf)) = self.buffer.as_mut() else {
                    return vec![(kind::CHUNK_NACK, Vec::new())];
                };
                // excess data beyond the block is discarded, as the spec says
                let room = size.saturating_sub(buf.len());
                buf.extend(data.iter().take(room));
                let mut answer = vec![(kind::CHUNK_ACK, Vec::new())];
                if buf.len() == size {
                    let crc = crc16(buf);
                    let mut ack = crc.to_be_bytes().to_vec();
                    ack.extend(n.to_be_bytes());
                    answer.push((kind::BLOCK_ACK, ack));
                    self.ready = self.buffer.take();
                }
                answer
            }
            kind::PROGRAM => match (be32(0), self.ready.take()) {
                (Some(n), Some((memory, number, bytes))) if n == number => {
                    self.crc_sum = self.crc_sum.wrapping_add(crc16(&bytes));
                    self.memory.insert((memory, number), bytes);
                    vec![(kind::PROGRAM_ACK, n.to_be_bytes().to_vec())]
                }
                (n, _) => {
                    let mut nack = vec![1];
                    nack.extend(n.unwrap_or(0).to_be_bytes());
                    vec![(kind::PROGRAM_NACK, nack)]
                }
            },
            kind::ACTIVATE => {
                let sum = data.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
                if sum == Some(self.crc_sum) {
                    self.active = false;
                    vec![(kind::ACTIVATE_ACK, Vec::new())]
                } else {
                    vec![(kind::ACTIVATE_NACK, Vec::new())]
                }
            }
            kind::ABORT => {
                // a single-image node: the old firmware is gone once a block was programmed
                if self.memory.is_empty() {
                    self.active = false;
                    vec![(kind::ABORT_ACK, Vec::new())]
                } else {
                    vec![(kind::ABORT_NACK, Vec::new())]
                }
            }
            _ => Vec::new(),
        }
    }
}
