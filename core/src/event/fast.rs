//! One pass over the common shape of an event line: plain decimal numbers, empty or
//! decimal timestamp, `-`/empty/canonical GUID and decimal or short `0x` data bytes.
//! Anything else — and every error — is left to the general reader in the parent module,
//! so both readers always agree (a property test checks it).

use super::{Event, MAX_DATA, MAX_DATA_LEVEL1, Stamp};
use crate::guid::{self, Guid};

/// Reads `line` when it has the common shape; `None` means "use the general reader".
pub(super) fn parse(line: &[u8]) -> Option<Event> {
    let mut c = Cursor { b: line, i: 0 };
    let head = c.field(u64::from(u16::MAX), false)? as u16;
    let class = c.field(u64::from(u16::MAX), false)? as u16;
    let kind = c.field(u64::from(u16::MAX), false)? as u16;
    let obid = c.field(u64::from(u32::MAX), true)? as u32;
    c.comma()?; // empty datetime
    let stamp = match c.peek() {
        Some(b',') => Stamp::Unknown,
        _ => Stamp::Unix(c.decimal(u64::MAX)?),
    };
    c.comma()?;
    let guid = c.guid()?;
    let data = match c.peek() {
        None => Vec::new(),
        Some(_) => {
            c.comma()?;
            c.data()?
        }
    };
    Some(Event {
        head,
        class,
        kind,
        obid,
        stamp,
        guid,
        data,
        unread: Vec::new(),
        line: super::SourceLine::default(),
    })
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn comma(&mut self) -> Option<()> {
        (self.peek()? == b',').then(|| self.i += 1)
    }

    /// 1–19 decimal digits no larger than `max`.
    #[inline(always)]
    fn decimal(&mut self, max: u64) -> Option<u64> {
        let start = self.i;
        let mut v = 0u64;
        // eight digits at a time while they last (nanosecond timestamps have 19)
        while let Some(eight) = self
            .b
            .get(self.i..self.i + 8)
            .and_then(|w| eight_digits(u64::from_le_bytes(w.try_into().ok()?)))
        {
            if self.i - start > 8 {
                return None;
            }
            v = v * 100_000_000 + eight;
            self.i += 8;
        }
        while let Some(d) = self
            .peek()
            .map(|c| c.wrapping_sub(b'0'))
            .filter(|d| *d < 10)
        {
            if self.i - start == 19 {
                return None;
            }
            v = v * 10 + u64::from(d);
            self.i += 1;
        }
        (self.i > start && v <= max).then_some(v)
    }

    #[inline(always)]
    /// A decimal header field and its comma; `may_be_empty` reads an empty field as 0.
    fn field(&mut self, max: u64, may_be_empty: bool) -> Option<u64> {
        let v = if may_be_empty && self.peek() == Some(b',') {
            0
        } else {
            self.decimal(max)?
        };
        self.comma()?;
        Some(v)
    }

    /// `-`, empty or the canonical 47-character form, up to the next comma or the end.
    fn guid(&mut self) -> Option<Guid> {
        let rest = self.b.get(self.i..)?;
        let (guid, len) = match rest.first() {
            None | Some(b',') => (Guid::ZERO, 0),
            Some(b'-') => (Guid::ZERO, 1),
            _ => (guid::parse_canonical(rest.get(..47)?)?, 47),
        };
        self.i += len;
        matches!(self.peek(), None | Some(b',')).then_some(guid)
    }

    /// Data bytes to the end of the line: 1–3 decimal digits or `0x` with 1–2 hex digits.
    ///
    /// The commas are found eight bytes at a time, so that reading one byte does not wait
    /// for the length of the one before it.
    fn data(&mut self) -> Option<Vec<u8>> {
        // every byte takes at least two characters with its comma
        if self.b.len().saturating_sub(self.i) < 2 * MAX_DATA_LEVEL1 {
            self.data_upto::<MAX_DATA_LEVEL1>()
        } else {
            self.data_upto::<MAX_DATA>()
        }
    }

    /// [`Self::data`] with room for `N` bytes.
    fn data_upto<const N: usize>(&mut self) -> Option<Vec<u8>> {
        let b = self.b;
        let mut data = [0u8; N];
        let mut n = 0;
        let mut token = self.i;
        let mut pos = self.i;
        while let Some(chunk) = b.get(pos..pos + 8) {
            let mut commas = comma_bits(u64::from_le_bytes(chunk.try_into().ok()?));
            while commas != 0 {
                let at = pos + (commas.trailing_zeros() / 8) as usize;
                commas &= commas - 1;
                *data.get_mut(n)? = data_byte(b, token, at)?;
                n += 1;
                token = at + 1;
            }
            pos += 8;
        }
        for (k, c) in b.get(pos..)?.iter().enumerate() {
            if *c == b',' {
                *data.get_mut(n)? = data_byte(b, token, pos + k)?;
                n += 1;
                token = pos + k + 1;
            }
        }
        *data.get_mut(n)? = data_byte(b, token, b.len())?;
        self.i = b.len();
        data.get(..=n).map(<[u8]>::to_vec)
    }
}

/// The value of eight decimal digits (the first in the lowest byte), if all are digits.
fn eight_digits(word: u64) -> Option<u64> {
    let x = word ^ 0x3030_3030_3030_3030; // digits become 0..=9 with a clear high nibble
    if (x.wrapping_add(0x0606_0606_0606_0606) | x) & 0xF0F0_F0F0_F0F0_F0F0 != 0 {
        return None;
    }
    // combine neighbours: pairs of digits, then fours, then all eight
    let x = (x * 10 + (x >> 8)) & 0x00FF_00FF_00FF_00FF;
    let x = (x * 100 + (x >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((x * 10_000 + (x >> 32)) & 0xFFFF_FFFF)
}

/// The high bit of every byte of `word` that is a comma.
fn comma_bits(word: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let x = word ^ 0x2C2C_2C2C_2C2C_2C2C; // commas become zero bytes
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The data byte in `b[token..end]`.
#[inline(always)]
fn data_byte(b: &[u8], token: usize, end: usize) -> Option<u8> {
    let len = end.wrapping_sub(token);
    // the four bytes that end with the token, so its digits sit in the high bytes
    let four = end.checked_sub(4).and_then(|s| b.get(s..end));
    if let (true, Some(four)) = (len.wrapping_sub(1) < 3, four) {
        let keep = u32::MAX << ((4 - len) * 8);
        let x = (u32::from_le_bytes(four.try_into().ok()?) ^ 0x3030_3030) & keep;
        let digits = (x.wrapping_add(0x0606_0606) | x) & 0xF0F0_F0F0 == 0;
        let v = (x >> 8 & 0xF) * 100 + (x >> 16 & 0xF) * 10 + (x >> 24 & 0xF);
        if digits && v <= 255 {
            return Some(v as u8);
        }
    }
    hex_byte(b.get(token..end)?)
}

/// `0x` with 1–2 hex digits.
#[inline(never)]
fn hex_byte(token: &[u8]) -> Option<u8> {
    match token {
        [b'0', b'x' | b'X', hex @ ..] if (1..=2).contains(&hex.len()) => hex
            .iter()
            .try_fold(0u8, |v, c| Some(v << 4 | guid::hex_digit(*c)?)),
        _ => None,
    }
}
