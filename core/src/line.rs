//! Line framing: split a byte stream on LF, strip one CR, bound the length (protocol.md §1).

/// Longest line accepted, in bytes, terminator excluded (a full Level II event is ~2.2 kB).
pub const MAX_LINE: usize = 4096;

use std::borrow::Cow;

/// One framing result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed<'a> {
    /// A complete line, terminator removed, decoded as UTF-8 lossily (borrowed when valid).
    Line(Cow<'a, str>),
    /// A line longer than the limit was dropped (up to its LF).
    TooLong,
}

/// Accumulates bytes and cuts complete lines; memory stays below the limit.
#[derive(Clone, Debug)]
pub struct LineBuf {
    buf: Vec<u8>,
    max: usize,
    discarding: bool,
}

impl Default for LineBuf {
    fn default() -> Self {
        LineBuf::new(MAX_LINE)
    }
}

impl LineBuf {
    /// A framer for lines of at most `max` bytes.
    #[must_use]
    pub fn new(max: usize) -> LineBuf {
        LineBuf {
            buf: Vec::new(),
            max,
            discarding: false,
        }
    }

    /// Feeds bytes in any chunking; calls `sink` once per complete line or dropped line.
    pub fn push(&mut self, mut bytes: &[u8], mut sink: impl FnMut(Framed<'_>)) {
        while !bytes.is_empty() {
            let (chunk, rest, complete) = match bytes.iter().position(|b| *b == b'\n') {
                Some(i) => (
                    bytes.get(..i).unwrap_or_default(),
                    bytes.get(i + 1..).unwrap_or_default(),
                    true,
                ),
                None => (bytes, &[][..], false),
            };
            bytes = rest;
            if complete && self.buf.is_empty() && !self.discarding {
                // the whole line is in this chunk: no copy
                let line = chunk.strip_suffix(b"\r").unwrap_or(chunk);
                sink(if line.len() > self.max {
                    Framed::TooLong
                } else {
                    Framed::Line(String::from_utf8_lossy(line))
                });
                continue;
            }
            if !self.discarding {
                if self.buf.len() + chunk.len() > self.max + 1 {
                    // +1: a CR before the LF does not count
                    self.buf.clear();
                    self.discarding = true;
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            if complete {
                if self.discarding {
                    self.discarding = false;
                    sink(Framed::TooLong);
                } else {
                    if self.buf.last() == Some(&b'\r') {
                        self.buf.pop();
                    }
                    if self.buf.len() > self.max {
                        sink(Framed::TooLong);
                    } else {
                        sink(Framed::Line(String::from_utf8_lossy(&self.buf)));
                    }
                    self.buf.clear();
                }
            }
        }
    }

    /// Bytes of an unfinished line held back.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn frame(chunks: &[&[u8]], max: usize) -> Vec<Framed<'static>> {
        let mut lb = LineBuf::new(max);
        let mut out = Vec::new();
        for c in chunks {
            lb.push(c, |f| {
                out.push(match f {
                    Framed::Line(l) => Framed::Line(Cow::Owned(l.into_owned())),
                    Framed::TooLong => Framed::TooLong,
                })
            });
        }
        out
    }

    #[test]
    fn chunking_and_limits() {
        let l = |s: &str| Framed::Line(Cow::Owned(s.to_string()));
        assert_eq!(
            frame(&[b"+O", b"K\r\nab", b"c\n"], 8),
            vec![l("+OK"), l("abc")]
        );
        assert_eq!(frame(&[b"12345678\r\n"], 8), vec![l("12345678")]);
        assert_eq!(
            frame(&[b"123456789\n", b"ok\n"], 8),
            vec![Framed::TooLong, l("ok")]
        );
        assert_eq!(
            frame(&[b"1234567", b"89xxxxx", b"xx\nok\n"], 8),
            vec![Framed::TooLong, l("ok")]
        );
        assert_eq!(frame(&[b"a\rb\n"], 8), vec![l("a\rb")]);
        assert_eq!(
            frame(&[b"123456789\r\nx\n"], 8),
            vec![Framed::TooLong, l("x")]
        );
        assert_eq!(frame(&[b"\xFFa\n"], 8), vec![l("\u{FFFD}a")]);
    }
}
