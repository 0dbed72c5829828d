//! Firmware upload with the VSCP bootloader (algorithm 0, CLASS1.PROTOCOL) as a sans-io state
//! machine: enter bootloader (12) → ACK with block size and count (13) / NACK (14); per block:
//! start block (15) → 50/51, block data (16) in chunks, a window of them in flight, each
//! answered 52/53, the node's block CRC (17) / NACK (18), program block (19) → 20/21; then
//! activate new image (22, the 16-bit sum of the block CRCs) → 48/49. Abort (55) → 56/57.
//!
//! Drive it like the register session: [`BootSession::poll_output`] yields events to SEND and
//! what happened, every received event goes to [`BootSession::handle_event`], and
//! [`BootSession::handle_timeout`] runs at [`BootSession::poll_timeout`]. Time-outs follow the
//! measured round trips; a step that times out is sent again, a chunk that is refused or lost
//! restarts its block (the node's write pointer cannot be moved back otherwise), and the
//! node's CRC of every block is checked before it is programmed.

mod device;
mod plan;

use std::collections::VecDeque;

pub use device::{Answer, BootDevice, Fault};
pub use plan::{Expect, Plan, PlanError, parse_device_code, parse_version, plan};

use crate::{
    client::Millis,
    event::Event,
    firmware::{Block, Image, Memory},
    guid::Guid,
    registers::{CLASS1_PROTOCOL, Target},
    rtt::{Limits, Rtt},
};

/// The VSCP bootloader algorithm's code (register 0x97).
pub const VSCP_ALGORITHM: u8 = 0;
/// Largest chunk: a class-512 event's data less the 16-byte GUID.
pub const MAX_CHUNK: usize = 512 - 16;

/// The CLASS1.PROTOCOL types of the bootloader.
pub mod kind {
    /// Enter bootloader mode.
    pub const ENTER: u16 = 12;
    /// ACK bootloader mode (block size, block count).
    pub const ENTER_ACK: u16 = 13;
    /// NACK bootloader mode.
    pub const ENTER_NACK: u16 = 14;
    /// Start block data transfer.
    pub const START_BLOCK: u16 = 15;
    /// Block data (a chunk).
    pub const BLOCK_DATA: u16 = 16;
    /// ACK data block (its CRC, its number).
    pub const BLOCK_ACK: u16 = 17;
    /// NACK data block.
    pub const BLOCK_NACK: u16 = 18;
    /// Program data block.
    pub const PROGRAM: u16 = 19;
    /// ACK program data block.
    pub const PROGRAM_ACK: u16 = 20;
    /// NACK program data block.
    pub const PROGRAM_NACK: u16 = 21;
    /// Activate new image.
    pub const ACTIVATE: u16 = 22;
    /// Activate new image ACK.
    pub const ACTIVATE_ACK: u16 = 48;
    /// Activate new image NACK.
    pub const ACTIVATE_NACK: u16 = 49;
    /// Start block ACK.
    pub const START_ACK: u16 = 50;
    /// Start block NACK.
    pub const START_NACK: u16 = 51;
    /// Block data chunk ACK.
    pub const CHUNK_ACK: u16 = 52;
    /// Block data chunk NACK.
    pub const CHUNK_NACK: u16 = 53;
    /// Bootloader abort.
    pub const ABORT: u16 = 55;
    /// Bootloader abort ACK.
    pub const ABORT_ACK: u16 = 56;
    /// Bootloader abort NACK.
    pub const ABORT_NACK: u16 = 57;
}

/// How an upload is paced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootConfig {
    /// Bytes per block data event (8 for a Level I node; up to [`MAX_CHUNK`] through a
    /// Level II interface).
    pub chunk: usize,
    /// Chunks in flight at once.
    pub window: usize,
    /// Time-out before any round trip was measured, ms.
    pub initial_timeout_ms: u64,
    /// Shortest time-out, ms.
    pub min_timeout_ms: u64,
    /// Longest time-out; also the time a block may take to program, ms.
    pub max_timeout_ms: u64,
    /// Tries per step (enter, start, program, activate), the first included.
    pub tries: u8,
    /// Tries per block (a refused or lost chunk, a wrong CRC start it again).
    pub block_tries: u8,
}

impl Default for BootConfig {
    fn default() -> BootConfig {
        BootConfig {
            chunk: 8,
            window: 16,
            initial_timeout_ms: 1_000,
            min_timeout_ms: 100,
            max_timeout_ms: 5_000,
            tries: 3,
            block_tries: 4,
        }
    }
}

/// What identifies the node to its bootloader (it checks them before it enters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The node's GUID (registers 0xD0–0xDF).
    pub guid: Guid,
    /// Its page select registers (0x92/0x93).
    pub page: u16,
}

/// Where an upload stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes the node has acknowledged.
    pub bytes_done: u64,
    /// Bytes to send (whole blocks).
    pub bytes_total: u64,
    /// Blocks programmed.
    pub blocks_done: usize,
    /// Blocks to program.
    pub blocks_total: usize,
    /// Block restarts and repeated steps.
    pub retries: u32,
}

/// Why an upload failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BootError {
    /// The node refused the bootloader (NACK, with its code).
    #[error("the node refused to enter its bootloader (code {0})")]
    Refused(u8),
    /// No answer after every try.
    #[error("no answer from the node to {0} after every try")]
    NoAnswer(&'static str),
    /// The image has blocks the node does not have.
    #[error("the image needs {memory} block {block}, the node has {blocks} blocks of {size} bytes")]
    DoesNotFit {
        /// Memory type.
        memory: &'static str,
        /// Block number needed.
        block: u32,
        /// Blocks the node has.
        blocks: u32,
        /// Their size.
        size: u32,
    },
    /// A block failed every try.
    #[error("{memory} block {block} failed {tries} times: {why}")]
    Block {
        /// Memory type.
        memory: &'static str,
        /// Block number.
        block: u32,
        /// Tries made.
        tries: u8,
        /// The last failure.
        why: String,
    },
    /// The node refused to activate the image.
    #[error("the node refused to activate the new image (CRC sum 0x{0:04X})")]
    ActivateRefused(u16),
}

/// What the session has to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootOutput {
    /// SEND this event.
    Send(Event),
    /// The node is in its bootloader.
    Entered {
        /// Its block size, bytes.
        block_size: u32,
        /// Its number of blocks.
        blocks: u32,
    },
    /// A block was programmed.
    Programmed(Progress),
    /// The node took the new image (the CRC sum sent with activate).
    Done {
        /// The 16-bit sum of the block CRCs.
        crc: u16,
    },
    /// The upload failed; the node stays in its bootloader.
    Failed(BootError),
    /// The upload was aborted; `acknowledged`: the node confirmed it (56), else it refused
    /// (57) or did not answer and stays in its bootloader.
    Aborted {
        /// Confirmed by the node?
        acknowledged: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Entering,
    Starting,
    Sending,
    AwaitCrc,
    Programming,
    Activating,
    Aborting,
    Finished,
}

impl Step {
    fn what(self) -> &'static str {
        match self {
            Step::Entering => "enter bootloader",
            Step::Starting => "start block",
            Step::Sending | Step::AwaitCrc => "block data",
            Step::Programming => "program block",
            Step::Activating => "activate new image",
            Step::Aborting => "abort",
            Step::Finished => "nothing",
        }
    }
}

/// One firmware upload to one node (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct BootSession {
    target: Target,
    identity: Identity,
    config: BootConfig,
    image: Image,
    blocks: Vec<Block>,
    /// Index into `blocks`.
    block: usize,
    /// Tries of the current block.
    block_try: u8,
    /// Tries of the current step.
    step_try: u8,
    step: Step,
    /// Chunks of the current block sent, and acknowledged.
    sent: usize,
    acked: usize,
    /// When each chunk in flight went out (oldest first), for round trips and time-outs.
    in_flight: VecDeque<Millis>,
    /// When the current step's event went out.
    step_sent: Millis,
    deadline: Option<Millis>,
    rtt: Rtt,
    out: VecDeque<BootOutput>,
    progress: Progress,
    crc_sum: u16,
}

impl BootSession {
    /// Starts an upload of `image` to the node `target` (identified by `identity`): the
    /// first output is the enter-bootloader event.
    #[must_use]
    pub fn new(
        target: Target,
        identity: Identity,
        image: Image,
        config: BootConfig,
        now: Millis,
    ) -> BootSession {
        let limit = if target.interface.is_some() {
            MAX_CHUNK
        } else {
            8
        };
        let config = BootConfig {
            chunk: config.chunk.clamp(1, limit),
            window: config.window.max(1),
            tries: config.tries.max(1),
            block_tries: config.block_tries.max(1),
            ..config
        };
        let mut s = BootSession {
            target,
            identity,
            config,
            image,
            blocks: Vec::new(),
            block: 0,
            block_try: 0,
            step_try: 0,
            step: Step::Entering,
            sent: 0,
            acked: 0,
            in_flight: VecDeque::new(),
            step_sent: now,
            deadline: None,
            rtt: Rtt::default(),
            out: VecDeque::new(),
            progress: Progress::default(),
            crc_sum: 0,
        };
        s.send_step(now);
        s
    }

    /// Where the upload stands.
    #[must_use]
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// Over (done, failed or aborted)?
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.step == Step::Finished
    }

    /// The smoothed round trip, once measured, ms.
    #[must_use]
    pub fn round_trip_ms(&self) -> Option<u64> {
        self.rtt.srtt()
    }

    /// Aborts: sends bootloader abort (55) and waits for its answer.
    pub fn abort(&mut self, now: Millis) {
        if self.step == Step::Finished {
            return;
        }
        self.step = Step::Aborting;
        self.step_try = 0;
        self.in_flight.clear();
        self.send_step(now);
    }

    /// The next thing to do or say.
    pub fn poll_output(&mut self) -> Option<BootOutput> {
        self.out.pop_front()
    }

    /// When [`BootSession::handle_timeout`] must run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.deadline
    }

    fn limits(&self) -> Limits {
        Limits {
            initial_ms: self.config.initial_timeout_ms,
            min_ms: self.config.min_timeout_ms,
            max_ms: self.config.max_timeout_ms,
        }
    }

    fn event(&self, kind: u16, data: Vec<u8>) -> Event {
        let mut ev = self.target.event(kind, data);
        ev.head = 3 << 5; // priority 3: a bootloader is not to be hurried past other traffic
        ev
    }

    fn be32(data: &[u8], at: usize) -> Option<u32> {
        data.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    }

    fn current(&self) -> Option<&Block> {
        self.blocks.get(self.block)
    }

    fn chunks(&self) -> usize {
        self.current()
            .map_or(0, |b| b.data.len().div_ceil(self.config.chunk))
    }

    /// Sends the current step's event (not for `Sending`, which sends chunks).
    fn send_step(&mut self, now: Millis) {
        let g = self.identity.guid.0;
        let [page_hi, page_lo] = self.identity.page.to_be_bytes();
        let (kind, data, wait) = match self.step {
            Step::Entering => (
                kind::ENTER,
                vec![
                    self.target.nickname,
                    VSCP_ALGORITHM,
                    g[0],
                    g[3],
                    g[5],
                    g[7],
                    page_hi,
                    page_lo,
                ],
                self.rtt.timeout(self.limits()),
            ),
            Step::Starting => {
                let Some(b) = self.current() else { return };
                let mut data = b.number.to_be_bytes().to_vec();
                data.extend([b.memory.code, 0]);
                (kind::START_BLOCK, data, self.rtt.timeout(self.limits()))
            }
            Step::Programming => {
                let Some(b) = self.current() else { return };
                let data = b.number.to_be_bytes().to_vec();
                // writing flash takes its time
                (kind::PROGRAM, data, self.config.max_timeout_ms)
            }
            Step::Activating => (
                kind::ACTIVATE,
                self.crc_sum.to_be_bytes().to_vec(),
                self.config.max_timeout_ms,
            ),
            Step::Aborting => (kind::ABORT, vec![], self.rtt.timeout(self.limits())),
            Step::Sending | Step::AwaitCrc | Step::Finished => return,
        };
        let ev = self.event(kind, data);
        self.out.push_back(BootOutput::Send(ev));
        self.step_sent = now;
        self.deadline = Some(now.plus(wait));
    }

    /// Sends chunks until the window is full or the block is out.
    fn fill_window(&mut self, now: Millis) {
        let chunk = self.config.chunk;
        while self.in_flight.len() < self.config.window && self.sent < self.chunks() {
            let Some(b) = self.current() else { return };
            let start = self.sent * chunk;
            let data = b
                .data
                .get(start..(start + chunk).min(b.data.len()))
                .unwrap_or_default()
                .to_vec();
            let ev = self.event(kind::BLOCK_DATA, data);
            self.out.push_back(BootOutput::Send(ev));
            self.in_flight.push_back(now);
            self.sent += 1;
        }
        let timeout = self.rtt.timeout(self.limits());
        self.deadline = self.in_flight.front().map(|t| t.plus(timeout));
    }

    fn start_block(&mut self, now: Millis) {
        self.step = Step::Starting;
        self.step_try = 0;
        self.sent = 0;
        self.acked = 0;
        self.in_flight.clear();
        self.send_step(now);
    }

    /// The block failed: again from its start, or the upload fails.
    fn retry_block(&mut self, why: String, now: Millis) {
        let chunk = self.config.chunk as u64;
        let acked_bytes =
            (self.acked as u64 * chunk).min(self.current().map_or(0, |b| b.data.len() as u64));
        self.progress.bytes_done = self.progress.bytes_done.saturating_sub(acked_bytes);
        self.block_try += 1;
        if self.block_try >= self.config.block_tries {
            let (memory, block) = self
                .current()
                .map_or(("?", 0), |b| (b.memory.name(), b.number));
            let tries = self.block_try;
            return self.fail(BootError::Block {
                memory,
                block,
                tries,
                why,
            });
        }
        self.progress.retries += 1;
        self.start_block(now);
    }

    fn fail(&mut self, e: BootError) {
        self.step = Step::Finished;
        self.deadline = None;
        self.in_flight.clear();
        self.out.push_back(BootOutput::Failed(e));
    }

    fn finish(&mut self, output: BootOutput) {
        self.step = Step::Finished;
        self.deadline = None;
        self.out.push_back(output);
    }

    fn measure(&mut self, sent: Millis, now: Millis) {
        self.rtt.sample(now.0.saturating_sub(sent.0));
    }

    /// Takes an event the server showed; true when it was the node's bootloader answering.
    pub fn handle_event(&mut self, event: &Event, now: Millis) -> bool {
        let Some(ev) = event.as_level1() else {
            return false;
        };
        if ev.class != CLASS1_PROTOCOL || event.guid.nickname() != self.target.nickname {
            return false;
        }
        let data = ev.data.as_slice();
        match (self.step, ev.kind) {
            (Step::Entering, kind::ENTER_ACK) => {
                let (Some(size), Some(count)) = (Self::be32(data, 0), Self::be32(data, 4)) else {
                    return false;
                };
                self.measure(self.step_sent, now);
                self.entered(size, count, now);
            }
            (Step::Entering, kind::ENTER_NACK) => {
                self.fail(BootError::Refused(data.first().copied().unwrap_or(0)));
            }
            (Step::Starting, kind::START_ACK) => {
                self.measure(self.step_sent, now);
                self.step = Step::Sending;
                self.fill_window(now);
            }
            (Step::Starting, kind::START_NACK) => {
                self.retry_block("the node refused start block".into(), now);
            }
            (Step::Sending, kind::CHUNK_ACK) => {
                let Some(sent) = self.in_flight.pop_front() else {
                    return false;
                };
                self.measure(sent, now);
                let len = self.current().map_or(0, |b| b.data.len());
                let bytes =
                    (self.config.chunk).min(len.saturating_sub(self.acked * self.config.chunk));
                self.acked += 1;
                self.progress.bytes_done += bytes as u64;
                if self.acked == self.chunks() {
                    self.step = Step::AwaitCrc;
                    self.step_sent = now;
                    self.deadline = Some(now.plus(self.rtt.timeout(self.limits())));
                } else {
                    self.fill_window(now);
                }
            }
            (Step::Sending, kind::CHUNK_NACK) => {
                let n = self.acked;
                self.retry_block(format!("the node refused chunk {n}"), now);
            }
            (Step::AwaitCrc | Step::Sending, kind::BLOCK_ACK) => {
                let crc = data
                    .get(..2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]))
                    .unwrap_or_default();
                let want = self.current().map_or(0, |b| b.crc);
                if self.step == Step::Sending || crc != want {
                    let why =
                        format!("block CRC 0x{crc:04X} from the node, 0x{want:04X} in the image");
                    self.retry_block(why, now);
                } else {
                    self.step = Step::Programming;
                    self.step_try = 0;
                    self.send_step(now);
                }
            }
            (Step::AwaitCrc | Step::Sending, kind::BLOCK_NACK) => {
                self.retry_block("the node refused the block".into(), now);
            }
            (Step::Programming, kind::PROGRAM_ACK) => {
                let done = self.current().map_or(0, |b| b.crc);
                self.crc_sum = self.crc_sum.wrapping_add(done);
                self.progress.blocks_done += 1;
                self.out.push_back(BootOutput::Programmed(self.progress));
                self.block += 1;
                self.block_try = 0;
                if self.block < self.blocks.len() {
                    self.start_block(now);
                } else {
                    self.step = Step::Activating;
                    self.step_try = 0;
                    self.send_step(now);
                }
            }
            (Step::Programming, kind::PROGRAM_NACK) => {
                self.retry_block("the node failed to program the block".into(), now);
            }
            (Step::Activating, kind::ACTIVATE_ACK) => {
                let crc = self.crc_sum;
                self.finish(BootOutput::Done { crc });
            }
            (Step::Activating, kind::ACTIVATE_NACK) => {
                let crc = self.crc_sum;
                self.fail(BootError::ActivateRefused(crc));
            }
            (Step::Aborting, kind::ABORT_ACK) => {
                self.finish(BootOutput::Aborted { acknowledged: true })
            }
            (Step::Aborting, kind::ABORT_NACK) => {
                self.finish(BootOutput::Aborted {
                    acknowledged: false,
                });
            }
            _ => return false,
        }
        true
    }

    fn entered(&mut self, size: u32, count: u32, now: Millis) {
        self.out.push_back(BootOutput::Entered {
            block_size: size,
            blocks: count,
        });
        if size == 0 || size as usize > crate::firmware::MAX_IMAGE {
            return self.fail(BootError::DoesNotFit {
                memory: "flash",
                block: 0,
                blocks: count,
                size,
            });
        }
        self.blocks = self.image.blocks(size);
        let flash = Memory::of(0);
        if let Some(b) = self
            .blocks
            .iter()
            .find(|b| b.memory == flash && b.number >= count)
        {
            let block = b.number;
            return self.fail(BootError::DoesNotFit {
                memory: "flash",
                block,
                blocks: count,
                size,
            });
        }
        self.progress.blocks_total = self.blocks.len();
        self.progress.bytes_total = self.blocks.iter().map(|b| b.data.len() as u64).sum();
        self.block = 0;
        self.start_block(now);
    }

    /// Runs the time-outs due at `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        let Some(deadline) = self.deadline else {
            return;
        };
        if now < deadline {
            return;
        }
        match self.step {
            Step::Sending | Step::AwaitCrc => {
                let n = self.acked;
                self.retry_block(format!("no answer to chunk {n}"), now);
            }
            Step::Aborting => self.finish(BootOutput::Aborted {
                acknowledged: false,
            }),
            Step::Finished => self.deadline = None,
            step => {
                self.step_try += 1;
                if self.step_try >= self.config.tries {
                    return self.fail(BootError::NoAnswer(step.what()));
                }
                self.progress.retries += 1;
                self.send_step(now);
            }
        }
    }
}
