//! Finding the nodes behind an interface: who-is-there (CLASS1.PROTOCOL 31) to each nickname
//! of a range, a few at a time, each answered by seven frames with the node's GUID and MDF
//! URL or by silence until its time-out. Sans-io, like the sessions: time in, events out.

use std::{
    collections::{BTreeMap, VecDeque},
    ops::RangeInclusive,
};

use crate::{
    client::Millis,
    event::Event,
    guid::Guid,
    registers::{Discovery, Target, WhoIsThere},
};

/// A node that answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Its nickname.
    pub nickname: u8,
    /// Its GUID.
    pub guid: Guid,
    /// Its MDF URL.
    pub mdf_url: String,
    /// Frames of its answer that carried fewer than 7 bytes (read as zeros; some firmware
    /// sends its continuation frames empty). Where a frame of the GUID (0–2) was short, the
    /// GUID is the one its events come with.
    pub short_frames: Vec<u8>,
}

/// What the scan has to say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanOutput {
    /// SEND this event.
    Send(Event),
    /// A node answered completely.
    Found(Found),
}

/// A scan of a nickname range (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    interface: Option<Guid>,
    /// Next nickname to ask (`u16` so the range can end at 255).
    next: u16,
    end: u16,
    total: u16,
    window: usize,
    timeout_ms: u64,
    /// Asked and not yet answered or timed out: nickname → deadline.
    asking: BTreeMap<u8, Millis>,
    frames: BTreeMap<u8, WhoIsThere>,
    done: u16,
    found: Vec<Found>,
    out: VecDeque<ScanOutput>,
}

impl Scan {
    /// Starts a scan of `nicknames` behind `interface` (`None`: nodes on the link itself),
    /// `window` nicknames at a time, each given `timeout_ms` to answer.
    #[must_use]
    pub fn new(
        interface: Option<Guid>,
        nicknames: RangeInclusive<u8>,
        window: usize,
        timeout_ms: u64,
        now: Millis,
    ) -> Scan {
        let (start, end) = (u16::from(*nicknames.start()), u16::from(*nicknames.end()));
        let mut scan = Scan {
            interface,
            next: start,
            end,
            total: (end + 1).saturating_sub(start),
            window: window.max(1),
            timeout_ms,
            asking: BTreeMap::new(),
            frames: BTreeMap::new(),
            done: 0,
            found: Vec::new(),
            out: VecDeque::new(),
        };
        scan.pump(now);
        scan
    }

    /// Nicknames finished (answered or timed out) and the size of the range.
    #[must_use]
    pub fn progress(&self) -> (u16, u16) {
        (self.done, self.total)
    }

    /// Every nickname was asked and answered or timed out (or the scan was cancelled).
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.next > self.end && self.asking.is_empty()
    }

    /// Stops asking; what was found stays.
    pub fn cancel(&mut self) {
        self.next = self.end + 1;
        self.asking.clear();
        self.frames.clear();
    }

    /// The nodes found so far, in the order they answered.
    #[must_use]
    pub fn found(&self) -> &[Found] {
        &self.found
    }

    /// Takes a received event; returns whether it was a who-is-there frame for this scan.
    pub fn handle_event(&mut self, event: &Event, now: Millis) -> bool {
        let Some(Discovery::WhoIsThereFrame {
            origin,
            index,
            bytes,
            carried,
        }) = Discovery::from_event(event)
        else {
            return false;
        };
        let behind = self
            .interface
            .is_none_or(|i| i.with_nickname(0) == event.guid.with_nickname(0));
        if !behind || !self.asking.contains_key(&origin) {
            return false;
        }
        let frames = self.frames.entry(origin).or_default();
        frames.add_carried(index, bytes, carried);
        if let Some((guid, mdf_url)) = frames.complete() {
            let short_frames = frames.short_frames();
            self.asking.remove(&origin);
            self.frames.remove(&origin);
            self.done += 1;
            // frames 0–2 hold the GUID: when one came short, the events' own GUID names it
            let guid = if short_frames.iter().any(|i| *i <= 2) {
                event.guid
            } else {
                guid
            };
            let found = Found {
                nickname: origin,
                guid,
                mdf_url,
                short_frames,
            };
            self.found.push(found.clone());
            self.out.push_back(ScanOutput::Found(found));
            self.pump(now);
        } else if let Some(deadline) = self.asking.get_mut(&origin) {
            // frames are coming: give the rest time
            *deadline = now.plus(self.timeout_ms);
        }
        true
    }

    /// Gives up on nicknames whose time is over, and asks the next ones.
    pub fn handle_timeout(&mut self, now: Millis) {
        let before = self.asking.len();
        self.asking.retain(|_, deadline| *deadline > now);
        self.done += (before - self.asking.len()) as u16;
        self.pump(now);
    }

    /// When [`Scan::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.asking.values().min().copied()
    }

    /// Outputs are waiting for [`Scan::poll_output`].
    #[must_use]
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// The next output, until `None`.
    pub fn poll_output(&mut self) -> Option<ScanOutput> {
        self.out.pop_front()
    }

    fn pump(&mut self, now: Millis) {
        while self.asking.len() < self.window && self.next <= self.end {
            let nickname = self.next as u8;
            self.next += 1;
            self.asking.insert(nickname, now.plus(self.timeout_ms));
            let target = Target {
                interface: self.interface,
                nickname,
            };
            self.out.push_back(ScanOutput::Send(target.who_is_there()));
        }
    }
}
