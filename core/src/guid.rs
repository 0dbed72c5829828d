//! GUIDs: 16 bytes, most significant first, and their text forms (protocol.md §5).

use std::{fmt, str::FromStr};

/// A VSCP globally unique identifier. Byte 0 is the MSB; byte 15 holds a Level I nickname.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(pub [u8; 16]);

/// Why a GUID text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuidError {
    /// A character that is not a hex digit or separator.
    #[error("GUID {0:?}: not a GUID (hex bytes separated by ':')")]
    Syntax(String),
    /// The plain colon form must give exactly 16 bytes; short forms at most 16.
    #[error("GUID {text:?}: {got} bytes, expected 16")]
    Length {
        /// The text as given.
        text: String,
        /// Bytes it held.
        got: usize,
    },
    /// A UUID form whose groups are not 8-4-4-4-12 hex digits.
    #[error("GUID {0:?}: UUID form must be 8-4-4-4-12 hex digits")]
    Uuid(String),
}

impl Guid {
    /// All zeros: written `-`, means "the interface's own GUID" when sent.
    pub const ZERO: Guid = Guid([0; 16]);
    /// All `FF`: the broadcast GUID `::`.
    pub const BROADCAST: Guid = Guid([0xFF; 16]);

    /// True for the all-zero placeholder that a server replaces by the channel GUID.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }

    /// The Level I nickname (LSB, byte 15).
    #[must_use]
    pub fn nickname(&self) -> u8 {
        self.0[15]
    }

    /// This GUID with byte 15 replaced by a nickname (interface GUID + node).
    #[must_use]
    pub fn with_nickname(mut self, nickname: u8) -> Guid {
        self.0[15] = nickname;
        self
    }

    /// Appends the canonical 47-character form (`%02X` joined by `:`) to `out`.
    pub fn write_to(&self, out: &mut String) {
        crate::ascii::AsciiWriter::new(out).guid(self);
    }

    /// Display-only compact form: leading `FF` bytes become `::` (e.g. `::01`).
    #[must_use]
    pub fn compact(&self) -> String {
        let lead = self.0.iter().take_while(|b| **b == 0xFF).count();
        if lead == 0 {
            return self.to_string();
        }
        let rest: Vec<String> = self
            .0
            .iter()
            .skip(lead)
            .map(|b| format!("{b:02X}"))
            .collect();
        format!("::{}", rest.join(":"))
    }

    /// Parses the GUID field of an event line: like [`FromStr`], but an empty field is
    /// zero and un-braced short forms (`::1`, `-:1`) are refused as ambiguous.
    pub(crate) fn parse_event_field(text: &str) -> Result<Guid, GuidFieldError> {
        let t = text.trim_ascii();
        if t.starts_with("::") || t.starts_with("-:") {
            return Err(GuidFieldError::Ambiguous);
        }
        t.parse().map_err(GuidFieldError::Bad)
    }
}

/// Errors of the GUID field inside an event line.
#[derive(Debug)]
pub(crate) enum GuidFieldError {
    Ambiguous,
    Bad(GuidError),
}

/// The value of a hex digit.
pub(crate) fn hex_digit(c: u8) -> Option<u8> {
    Some(HEX_VALUE[usize::from(c)]).filter(|v| *v <= 15)
}

/// Value of each byte as a hex digit, 0xFF where it is none.
static HEX_VALUE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Fast path: exactly `XX:XX:…:XX` (47 bytes, two digits per byte).
pub(crate) fn parse_canonical(t: &[u8]) -> Option<Guid> {
    let t: &[u8; 47] = t.try_into().ok()?;
    let mut g = [0u8; 16];
    let mut bad = 0u8;
    for (i, byte) in g.iter_mut().enumerate() {
        let hi = HEX_VALUE[usize::from(t[3 * i])];
        let lo = HEX_VALUE[usize::from(t[3 * i + 1])];
        bad |= hi | lo;
        *byte = hi << 4 | lo;
    }
    let colons = (0..15).all(|i| t[3 * i + 2] == b':');
    (bad <= 15 && colons).then_some(Guid(g))
}

/// Reads hex groups separated by `:`, `-` or `,` into `out` (1–2 digits = 1 byte,
/// 3–4 digits = 2 bytes, longer groups split in byte pairs). Returns the byte count,
/// or `None` on a non-hex character or more than 16 bytes.
fn parse_groups(text: &str, out: &mut [u8; 16]) -> Option<usize> {
    let mut n = 0usize;
    for group in text.split([':', '-', ',']) {
        let group = group.trim();
        if group.is_empty() {
            continue;
        }
        let digits = group.as_bytes();
        if !digits.iter().all(|c| hex_digit(*c).is_some()) {
            return None;
        }
        // an odd-length group gets an implicit leading zero
        let mut value_bytes = Vec::with_capacity(digits.len().div_ceil(2));
        let mut start = digits.len() % 2;
        if start == 1 {
            value_bytes.push(hex_digit(*digits.first()?)?);
        }
        while start < digits.len() {
            let hi = hex_digit(*digits.get(start)?)?;
            let lo = hex_digit(*digits.get(start + 1)?)?;
            value_bytes.push(hi << 4 | lo);
            start += 2;
        }
        for b in value_bytes {
            *out.get_mut(n)? = b;
            n += 1;
        }
    }
    Some(n)
}

fn parse_uuid(t: &str) -> Option<Guid> {
    let groups: Vec<&str> = t.split('-').collect();
    if groups.iter().map(|g| g.len()).ne([8, 4, 4, 4, 12]) {
        return None;
    }
    let hex: String = groups.concat();
    let mut g = [0u8; 16];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let hi = hex_digit(*pair.first()?)?;
        let lo = hex_digit(*pair.get(1)?)?;
        *g.get_mut(i)? = hi << 4 | lo;
    }
    Some(Guid(g))
}

impl FromStr for Guid {
    type Err = GuidError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut t = text.trim_ascii();
        if let Some(fast) = parse_canonical(t.as_bytes()) {
            return Ok(fast);
        }
        if let Some(inner) = t.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            t = inner.trim();
        }
        let syntax = || GuidError::Syntax(text.to_string());
        let (fill, rest) = match t {
            "" | "-" => return Ok(Guid::ZERO),
            "::" => return Ok(Guid::BROADCAST),
            _ => match (t.strip_prefix("::"), t.strip_prefix("-:")) {
                (Some(rest), _) => (Some(0xFF), rest),
                (None, Some(rest)) => (Some(0x00), rest),
                (None, None) => (None, t),
            },
        };
        // UUID form: first group of 8+ hex digits followed by '-'
        let first = rest.split([':', '-']).next().unwrap_or_default();
        if fill.is_none() && first.len() >= 8 && rest.as_bytes().get(first.len()) == Some(&b'-') {
            return parse_uuid(rest).ok_or_else(|| GuidError::Uuid(text.to_string()));
        }
        let mut bytes = [0u8; 16];
        let n = parse_groups(rest, &mut bytes).ok_or_else(|| {
            if rest
                .split([':', '-', ','])
                .any(|g| !g.trim().bytes().all(|c| hex_digit(c).is_some()))
            {
                syntax()
            } else {
                GuidError::Length {
                    text: text.to_string(),
                    got: 17,
                }
            }
        })?;
        match fill {
            None if n == 16 => Ok(Guid(bytes)),
            None if n == 0 => Err(syntax()),
            None => Err(GuidError::Length {
                text: text.to_string(),
                got: n,
            }),
            Some(f) => {
                let mut g = [f; 16];
                let (head, _) = bytes.split_at(n);
                if let Some(tail) = g.get_mut(16 - n..) {
                    tail.copy_from_slice(head);
                }
                Ok(Guid(g))
            }
        }
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(47);
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl From<[u8; 16]> for Guid {
    fn from(b: [u8; 16]) -> Self {
        Guid(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn forms() {
        let g: Guid = "FF:FF:FF:FF:FF:FF:FF:FE:00:05:93:14:02:32:00:01"
            .parse()
            .unwrap();
        assert_eq!(g.nickname(), 1);
        assert_eq!("::1".parse::<Guid>().unwrap().compact(), "::01");
        assert_eq!("-".parse::<Guid>().unwrap(), Guid::ZERO);
        assert!(matches!(
            "1:2".parse::<Guid>(),
            Err(GuidError::Length { got: 2, .. })
        ));
        assert!(matches!("zz".parse::<Guid>(), Err(GuidError::Syntax(_))));
        assert_eq!(Guid::ZERO.with_nickname(7).nickname(), 7);
        assert!(matches!(
            Guid::parse_event_field("::1"),
            Err(GuidFieldError::Ambiguous)
        ));
    }
}
