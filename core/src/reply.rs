//! Server replies: `+OK`/`-OK` status lines and the data lines before them (protocol.md §3).

use std::fmt;

use crate::guid::Guid;
use crate::number;

/// A status line: `+OK[ - text]` or `-OK[ - text]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Status {
    /// `+OK` (true) or `-OK` (false).
    pub ok: bool,
    /// The free text after the prefix and its ` - ` separator.
    pub text: String,
}

impl Status {
    /// Classifies a line: `Some` for a status line, `None` for a data line.
    #[must_use]
    pub fn parse(line: &str) -> Option<Status> {
        let line = line.trim_end_matches(['\r', '\n']);
        let (ok, rest) = match (line.strip_prefix("+OK"), line.strip_prefix("-OK")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => return None,
        };
        let text = rest.strip_prefix(" - ").unwrap_or(rest).trim();
        Some(Status {
            ok,
            text: text.to_string(),
        })
    }

    /// A success status with this text.
    #[must_use]
    pub fn ok(text: &str) -> Status {
        Status {
            ok: true,
            text: text.to_string(),
        }
    }

    /// A failure status with this text.
    #[must_use]
    pub fn err(text: &str) -> Status {
        Status {
            ok: false,
            text: text.to_string(),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.ok { "+OK" } else { "-OK" })?;
        if !self.text.is_empty() {
            write!(f, " - {}", self.text)?;
        }
        Ok(())
    }
}

/// A whole reply: the data lines and the closing status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// Success flag (see [`Status::ok`]); after `RETR`, `-OK` with events before it counts as success.
    pub ok: bool,
    /// Status text.
    pub text: String,
    /// Data lines in order (bounded by the session).
    pub lines: Vec<String>,
}

/// A reply whose data did not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {got:?}")]
pub struct ReplyError {
    /// What the reply should have held.
    pub expected: &'static str,
    /// What it held.
    pub got: String,
}

fn malformed(expected: &'static str, got: &str) -> ReplyError {
    ReplyError {
        expected,
        got: got.to_string(),
    }
}

/// `VERS`: `major,minor,release[,build]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Version {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Release.
    pub release: u32,
    /// Build: absent on old servers, non-numeric on some.
    pub build: Option<u32>,
}

impl fmt::Display for Version {
    /// `15.2.0.0` (`15.2.0` when the server gave no build).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.release)?;
        if let Some(b) = self.build {
            write!(f, ".{b}")?;
        }
        Ok(())
    }
}

/// `STAT`: seven counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stat {
    /// Undefined by SPEC (daemon: bus-off count).
    pub a: u64,
    /// Undefined by SPEC (daemon: bus warnings).
    pub b: u64,
    /// Undefined by SPEC (overruns).
    pub c: u64,
    /// Received data bytes.
    pub rx_data: u64,
    /// Received frames.
    pub rx_frames: u64,
    /// Transmitted data bytes.
    pub tx_data: u64,
    /// Transmitted frames.
    pub tx_frames: u64,
}

/// `INFO`: `status,errcode,errsubcode,"errstr"`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Info {
    /// Channel status.
    pub channel_status: u64,
    /// Last error code.
    pub error_code: u64,
    /// Last error sub-code.
    pub error_subcode: u64,
    /// Last error text.
    pub error_str: String,
}

/// One row of `INTERFACE LIST`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Interface {
    /// Interface id.
    pub id: u32,
    /// Interface type (1 internal, 2 Level I driver, 3 Level II driver, 4 tcp/ip, …).
    pub kind: u16,
    /// Interface GUID.
    pub guid: Guid,
    /// Name (the daemon appends ` | Started at …`).
    pub name: String,
}

impl Interface {
    /// The name without the daemon's ` | Started at …` suffix.
    #[must_use]
    pub fn short_name(&self) -> &str {
        self.name.split(" | ").next().unwrap_or(&self.name).trim()
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{},{},{}", self.id, self.kind, self.guid, self.name)
    }
}

/// The 64-bit capability word of `WCYD` and CLASS2.PROTOCOL type 20 (protocol.md §10.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Capabilities(pub u64);

impl Capabilities {
    /// Bit numbers and their meaning.
    pub const NAMES: [(u8, &'static str); 19] = [
        (63, "remote variables"),
        (62, "decision matrix"),
        (61, "multi-interface"),
        (15, "tcp/ip link"),
        (14, "UDP"),
        (13, "multicast announce"),
        (12, "raw Ethernet"),
        (11, "web server"),
        (10, "websocket"),
        (9, "REST"),
        (8, "multicast channel"),
        (6, "IPv6"),
        (5, "IPv4"),
        (4, "SSL/TLS"),
        (3, "multiple connections"),
        (2, "AES-256"),
        (1, "AES-192"),
        (0, "AES-128"),
        (7, "reserved bit 7"),
    ];

    /// Is this bit set?
    #[must_use]
    pub fn has(&self, bit: u8) -> bool {
        bit < 64 && self.0 >> bit & 1 == 1
    }

    /// Names of the set bits, highest first.
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(b, _)| self.has(*b))
            .map(|(_, n)| *n)
            .collect()
    }

    /// Parses `XX-XX-XX-XX-XX-XX-XX-XX[ decimal]` (separator `-` or `:`).
    pub fn parse(text: &str) -> Result<Capabilities, ReplyError> {
        let hex = text.split_whitespace().next().unwrap_or_default();
        let groups: Vec<&str> = hex.split(['-', ':']).collect();
        if groups.len() != 8 {
            return Err(malformed("8 hex bytes XX-XX-…", text));
        }
        let mut v = 0u64;
        for g in groups {
            let b =
                u8::from_str_radix(g, 16).map_err(|_| malformed("8 hex bytes XX-XX-…", text))?;
            v = v << 8 | u64::from(b);
        }
        Ok(Capabilities(v))
    }
}

impl fmt::Display for Capabilities {
    /// `XX-XX-XX-XX-XX-XX-XX-XX`, as vscpd sends it: no decimal suffix (a client library
    /// reads it into the last byte).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0.to_be_bytes();
        let hex: Vec<String> = b.iter().map(|x| format!("{x:02X}")).collect();
        f.write_str(&hex.join("-"))
    }
}

impl Reply {
    fn first(&self, expected: &'static str) -> Result<&str, ReplyError> {
        self.lines
            .first()
            .map(String::as_str)
            .ok_or_else(|| malformed(expected, ""))
    }

    /// `CDTA`: the number of waiting events (trailing blanks tolerated).
    pub fn count(&self) -> Result<u32, ReplyError> {
        let l = self.first("a count")?;
        number::parse(l).map_err(|_| malformed("a count", l))
    }

    /// `CHID`: the channel id.
    pub fn channel_id(&self) -> Result<u32, ReplyError> {
        self.count().map_err(|e| ReplyError {
            expected: "a channel id",
            ..e
        })
    }

    /// `GGID`: the channel GUID.
    pub fn guid(&self) -> Result<Guid, ReplyError> {
        let l = self.first("a GUID")?;
        l.parse().map_err(|_| malformed("a GUID", l))
    }

    /// `VERS`: 3 or 4 numbers; a non-numeric build is `None`.
    pub fn version(&self) -> Result<Version, ReplyError> {
        let l = self.first("major,minor,release[,build]")?;
        let f: Vec<&str> = l.split(',').collect();
        let n = |i: usize| -> Result<u32, ReplyError> {
            f.get(i)
                .and_then(|t| number::parse(t).ok())
                .ok_or_else(|| malformed("major,minor,release[,build]", l))
        };
        if !(3..=4).contains(&f.len()) {
            return Err(malformed("major,minor,release[,build]", l));
        }
        Ok(Version {
            major: n(0)?,
            minor: n(1)?,
            release: n(2)?,
            build: n(3).ok(),
        })
    }

    /// `STAT`: seven counters.
    pub fn stat(&self) -> Result<Stat, ReplyError> {
        let l = self.first("seven counters")?;
        let v: Vec<u64> = l.split(',').filter_map(|t| number::parse(t).ok()).collect();
        match v.as_slice() {
            &[a, b, c, rx_data, rx_frames, tx_data, tx_frames] => Ok(Stat {
                a,
                b,
                c,
                rx_data,
                rx_frames,
                tx_data,
                tx_frames,
            }),
            _ => Err(malformed("seven counters", l)),
        }
    }

    /// `INFO`: three numbers and a quoted string.
    pub fn info(&self) -> Result<Info, ReplyError> {
        const WHAT: &str = "status,code,subcode,\"text\"";
        let l = self.first(WHAT)?;
        let mut f = l.splitn(4, ',');
        let mut n = || {
            f.next()
                .and_then(|t| number::parse::<u64>(t).ok())
                .ok_or_else(|| malformed(WHAT, l))
        };
        let (channel_status, error_code, error_subcode) = (n()?, n()?, n()?);
        let s = f.next().unwrap_or_default().trim();
        let error_str = s
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(s)
            .to_string();
        Ok(Info {
            channel_status,
            error_code,
            error_subcode,
            error_str,
        })
    }

    /// `WCYD`: from the data line, or from the status text (servers before 14.0).
    pub fn capabilities(&self) -> Result<Capabilities, ReplyError> {
        match self.lines.first() {
            Some(l) => Capabilities::parse(l),
            None => Capabilities::parse(&self.text),
        }
    }

    /// `INTERFACE LIST`: rows `id,type,GUID,name`; the optional `<n> rows` line is skipped.
    pub fn interfaces(&self) -> Result<Vec<Interface>, ReplyError> {
        const WHAT: &str = "id,type,GUID,name";
        self.lines
            .iter()
            .filter(|l| !is_row_count(l))
            .map(|l| {
                let mut f = l.splitn(4, ',');
                let mut next = || f.next().ok_or_else(|| malformed(WHAT, l));
                let (id, kind, guid, name) = (next()?, next()?, next()?, next()?);
                Ok(Interface {
                    id: number::parse(id).map_err(|_| malformed(WHAT, l))?,
                    kind: number::parse(kind).map_err(|_| malformed(WHAT, l))?,
                    guid: guid.parse().map_err(|_| malformed(WHAT, l))?,
                    name: name.to_string(),
                })
            })
            .collect()
    }

    /// `CHALLENGE`: the session id (an even number of hex digits) in the status text, or
    /// in a data line before a plain `+OK - Success.`.
    pub fn challenge(&self) -> Result<String, ReplyError> {
        let t = self.lines.first().unwrap_or(&self.text).trim();
        if !t.is_empty() && t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(t.to_string())
        } else {
            Err(malformed("hex session id", t))
        }
    }
}

/// Is this the optional `<n> rows` count line of `INTERFACE`?
fn is_row_count(line: &str) -> bool {
    line.trim()
        .strip_suffix(" rows")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn status_display_round_trip() {
        for s in ["+OK", "-OK - Unknown command", "+OK - Success."] {
            assert_eq!(Status::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Status::parse("1,2,3"), None);
    }

    #[test]
    fn capabilities_text() {
        // read with or without FW's decimal suffix; written as vscpd does, without it
        let c = Capabilities::parse("00-00-00-00-00-00-80-07 32775").unwrap();
        assert_eq!(c.to_string(), "00-00-00-00-00-00-80-07");
        assert_eq!(Capabilities::parse("00-00-00-00-00-00-80-07"), Ok(c));
        assert_eq!(c.names(), ["tcp/ip link", "AES-256", "AES-192", "AES-128"]);
        assert!(Capabilities::parse("00-00").is_err());
    }
}
