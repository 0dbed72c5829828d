//! RFC 6455 framing, server side and sans-io: [`Decoder`] takes the browser's (masked)
//! frames off the front of a byte buffer and hands out whole messages; [`header`] builds the
//! header of an (unmasked) server frame, whose payload is written after it as it is.

use bytes::{Buf, Bytes, BytesMut};

/// Frame opcodes (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Opcode {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A message from the browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A text message; its bytes are valid UTF-8.
    Text(Bytes),
    Binary(Bytes),
    Ping(Bytes),
    Pong(Bytes),
    /// The browser's close frame: its code (when it gave one).
    Close(Option<u16>),
}

/// Why the browser's bytes are not a websocket stream the proxy accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Violation {
    /// Against RFC 6455 (reserved bits or opcodes, unmasked or fragmented control frames…).
    Protocol(&'static str),
    /// A message longer than the limit (known from its frame headers, before its bytes come).
    TooLong { limit: usize },
    /// A text message or close reason that is not UTF-8.
    NotUtf8,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::Protocol(why) => write!(f, "protocol error: {why}"),
            Violation::TooLong { limit } => write!(f, "message longer than {limit} bytes"),
            Violation::NotUtf8 => f.write_str("text that is not UTF-8"),
        }
    }
}

/// Reassembles the browser's messages from frames, within a message size limit.
#[derive(Debug)]
pub(crate) struct Decoder {
    max_message: usize,
    /// A fragmented message in progress: its opcode and the payload so far.
    partial: Option<(Opcode, BytesMut)>,
}

impl Decoder {
    /// A decoder for messages of at most `max_message` bytes.
    pub(crate) fn new(max_message: usize) -> Decoder {
        Decoder {
            max_message,
            partial: None,
        }
    }

    /// The next whole message from the front of `buf` (its frames are taken off), or `None`
    /// while `buf` does not hold one yet. A violation ends the stream: the caller closes.
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Incoming>, Violation> {
        loop {
            let Some(head) = Head::parse(buf)? else {
                return Ok(None);
            };
            let so_far = self.partial.as_ref().map_or(0, |(_, p)| p.len());
            if !head.opcode.is_control() && so_far.saturating_add(head.len) > self.max_message {
                return Err(Violation::TooLong {
                    limit: self.max_message,
                });
            }
            if buf.len() - head.size < head.len {
                // the whole frame is needed; its room is made once, not read by read
                buf.reserve(head.size + head.len - buf.len());
                return Ok(None);
            }
            buf.advance(head.size);
            let mut payload = buf.split_to(head.len);
            unmask(&mut payload, head.mask);
            if let Some(message) = self.frame(head, payload)? {
                return Ok(Some(message));
            }
        }
    }

    /// One unmasked frame: a message when it completes one.
    fn frame(&mut self, head: Head, payload: BytesMut) -> Result<Option<Incoming>, Violation> {
        let whole = match (head.opcode, self.partial.take()) {
            (Opcode::Close, partial) => {
                self.partial = partial;
                return close(&payload).map(Some);
            }
            (Opcode::Ping, partial) => {
                self.partial = partial;
                return Ok(Some(Incoming::Ping(payload.freeze())));
            }
            (Opcode::Pong, partial) => {
                self.partial = partial;
                return Ok(Some(Incoming::Pong(payload.freeze())));
            }
            (Opcode::Text | Opcode::Binary, Some(_)) => {
                return Err(Violation::Protocol("new message before the last one ended"));
            }
            (Opcode::Continuation, None) => {
                return Err(Violation::Protocol("continuation without a message"));
            }
            (opcode @ (Opcode::Text | Opcode::Binary), None) if head.fin => (opcode, payload),
            (opcode @ (Opcode::Text | Opcode::Binary), None) => {
                self.partial = Some((opcode, payload));
                return Ok(None);
            }
            (Opcode::Continuation, Some((opcode, mut so_far))) => {
                so_far.extend_from_slice(&payload);
                if !head.fin {
                    self.partial = Some((opcode, so_far));
                    return Ok(None);
                }
                (opcode, so_far)
            }
        };
        match whole {
            (Opcode::Text, text) => match std::str::from_utf8(&text) {
                Ok(_) => Ok(Some(Incoming::Text(text.freeze()))),
                Err(_) => Err(Violation::NotUtf8),
            },
            (_, bytes) => Ok(Some(Incoming::Binary(bytes.freeze()))),
        }
    }
}

/// A frame header from the browser.
#[derive(Clone, Copy, Debug)]
struct Head {
    fin: bool,
    opcode: Opcode,
    mask: [u8; 4],
    /// Payload length.
    len: usize,
    /// Header length.
    size: usize,
}

impl Head {
    /// The header at the front of `buf`, `None` until all of it is there.
    fn parse(buf: &[u8]) -> Result<Option<Head>, Violation> {
        let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
            return Ok(None);
        };
        if b0 & 0x70 != 0 {
            return Err(Violation::Protocol(
                "reserved bits set (no extension was agreed)",
            ));
        }
        let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(Violation::Protocol("reserved opcode"))?;
        let fin = b0 & 0x80 != 0;
        if b1 & 0x80 == 0 {
            return Err(Violation::Protocol("unmasked frame from the browser"));
        }
        let (len, at) = match b1 & 0x7F {
            126 => match buf.get(2..4) {
                Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
                None => return Ok(None),
            },
            127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                Some(b) => (u64::from_be_bytes(b), 10),
                None => return Ok(None),
            },
            n => (u64::from(n), 2),
        };
        if opcode.is_control() && (!fin || len > 125) {
            return Err(Violation::Protocol(
                "control frame fragmented or over 125 bytes",
            ));
        }
        let Some(mask) = buf
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
        else {
            return Ok(None);
        };
        Ok(Some(Head {
            fin,
            opcode,
            mask,
            // a length that does not fit in memory is over any limit
            len: usize::try_from(len).unwrap_or(usize::MAX),
            size: at + 4,
        }))
    }
}

/// XORs `payload` with the frame's masking key (four bytes at a time where possible).
fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let mut words = payload.chunks_exact_mut(4);
    for word in &mut words {
        for (b, m) in word.iter_mut().zip(mask) {
            *b ^= m;
        }
    }
    for (b, m) in words.into_remainder().iter_mut().zip(mask) {
        *b ^= m;
    }
}

/// A close frame's payload: nothing, or a valid code and a UTF-8 reason.
fn close(payload: &[u8]) -> Result<Incoming, Violation> {
    match payload {
        [] => Ok(Incoming::Close(None)),
        [_] => Err(Violation::Protocol("close frame of one byte")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let allowed = matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999);
            if !allowed {
                return Err(Violation::Protocol("close code not allowed on the wire"));
            }
            std::str::from_utf8(reason).map_err(|_| Violation::NotUtf8)?;
            Ok(Incoming::Close(Some(code)))
        }
    }
}

/// The header of a final, unmasked frame of `len` payload bytes; its bytes are
/// `.0[..size]` with `size` in `.1`.
pub(crate) fn header(opcode: Opcode, len: usize) -> ([u8; 10], usize) {
    let mut h = [0u8; 10];
    h[0] = 0x80 | opcode as u8;
    let size = match len {
        0..=125 => {
            h[1] = len as u8;
            2
        }
        126..=0xFFFF => {
            h[1] = 126;
            h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        }
        _ => {
            h[1] = 127;
            h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        }
    };
    (h, size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A frame as a browser sends it (masked with `key`).
    fn masked(fin: bool, opcode: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut f = vec![u8::from(fin) << 7 | opcode];
        match payload.len() {
            n @ 0..=125 => f.push(0x80 | n as u8),
            n @ 126..=0xFFFF => {
                f.push(0x80 | 126);
                f.extend((n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend((n as u64).to_be_bytes());
            }
        }
        f.extend(key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        f
    }

    fn decode_all(bytes: &[u8], max: usize) -> Result<Vec<Incoming>, Violation> {
        let (mut d, mut buf, mut out) = (Decoder::new(max), BytesMut::from(bytes), Vec::new());
        while let Some(m) = d.decode(&mut buf)? {
            out.push(m);
        }
        Ok(out)
    }

    #[test]
    fn messages_fragments_and_control_frames_between_them() {
        let key = [9, 8, 7, 6];
        let mut s = masked(true, 1, b"NOOP\r\n", key);
        s.extend(masked(false, 2, b"ab", key));
        s.extend(masked(true, 9, b"ping", key)); // between the fragments
        s.extend(masked(false, 0, b"cd", key));
        s.extend(masked(true, 0, b"e", key));
        s.extend(masked(true, 10, b"", key));
        s.extend(masked(true, 8, &[0x03, 0xE8, b'b', b'y', b'e'], key));
        s.extend(masked(true, 8, b"", key));
        assert_eq!(
            decode_all(&s, 100),
            Ok(vec![
                Incoming::Text(Bytes::from_static(b"NOOP\r\n")),
                Incoming::Ping(Bytes::from_static(b"ping")),
                Incoming::Binary(Bytes::from_static(b"abcde")),
                Incoming::Pong(Bytes::new()),
                Incoming::Close(Some(1000)),
                Incoming::Close(None),
            ])
        );
    }

    #[test]
    fn violations_are_named() {
        let key = [1, 2, 3, 4];
        let protocol = |bytes: &[u8]| matches!(decode_all(bytes, 100), Err(Violation::Protocol(_)));
        assert!(protocol(&[0x81, 0x00])); // not masked
        assert!(protocol(&masked(true, 0x41, b"x", key)[..])); // RSV3... rsv bit
        assert!(protocol(&masked(true, 3, b"x", key))); // reserved opcode
        assert!(protocol(&masked(false, 9, b"x", key))); // fragmented ping
        assert!(protocol(&masked(true, 9, &[0; 126], key))); // long ping
        assert!(protocol(&masked(true, 0, b"x", key))); // continuation alone
        assert!(protocol(&masked(true, 8, &[3], key))); // one-byte close
        assert!(protocol(&masked(true, 8, &1005u16.to_be_bytes(), key)));
        let mut two = masked(false, 1, b"a", key);
        two.extend(masked(true, 1, b"b", key));
        assert!(protocol(&two));
        assert_eq!(
            decode_all(&masked(true, 1, &[0xC3, 0x28], key), 100),
            Err(Violation::NotUtf8)
        );
        // too long: known from the header alone, and across fragments
        assert_eq!(
            decode_all(&masked(true, 2, &[0; 101], key)[..14], 100),
            Err(Violation::TooLong { limit: 100 })
        );
        let mut parts = masked(false, 2, &[0; 60], key);
        parts.extend(masked(true, 0, &[0; 60], key));
        assert_eq!(
            decode_all(&parts, 100),
            Err(Violation::TooLong { limit: 100 })
        );
        // a 2^63 length is refused, not allocated
        let mut huge = vec![0x82, 0xFF];
        huge.extend(u64::MAX.to_be_bytes());
        huge.extend(key);
        assert_eq!(
            decode_all(&huge, 100),
            Err(Violation::TooLong { limit: 100 })
        );
    }

    #[test]
    fn headers_of_every_length_form() {
        for (len, size) in [(0, 2), (125, 2), (126, 4), (65_535, 4), (65_536, 10)] {
            let (h, n) = header(Opcode::Text, len);
            assert_eq!(n, size);
            assert_eq!(h[0], 0x81);
            let parsed = match h[1] {
                126 => usize::from(u16::from_be_bytes([h[2], h[3]])),
                127 => u64::from_be_bytes(h[2..10].try_into().unwrap()) as usize,
                n => usize::from(n),
            };
            assert_eq!(parsed, len);
        }
    }

    proptest! {
        /// Messages cut into frames, the stream cut anywhere into reads: the same messages.
        #[test]
        fn any_split_gives_the_same_messages(
            msgs in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300), 1usize..4), 0..8),
            key in any::<[u8; 4]>(),
            cuts in proptest::collection::vec(1usize..200, 1..20),
        ) {
            let mut stream = Vec::new();
            let mut want = Vec::new();
            for (text, body, pieces) in &msgs {
                let body = if *text { String::from_utf8_lossy(body).into_owned().into_bytes() } else { body.clone() };
                let step = body.len() / pieces + 1;
                let chunks: Vec<&[u8]> = if body.is_empty() { vec![&[][..]] } else { body.chunks(step).collect() };
                for (i, c) in chunks.iter().enumerate() {
                    let op = if i > 0 { 0 } else if *text { 1 } else { 2 };
                    stream.extend(masked(i + 1 == chunks.len(), op, c, key));
                }
                let b = Bytes::from(body);
                want.push(if *text { Incoming::Text(b) } else { Incoming::Binary(b) });
            }
            let (mut d, mut buf, mut got) = (Decoder::new(1 << 20), BytesMut::new(), Vec::new());
            let mut rest = &stream[..];
            for cut in cuts.iter().cycle() {
                let (now, later) = rest.split_at((*cut).min(rest.len()));
                buf.extend_from_slice(now);
                rest = later;
                while let Some(m) = d.decode(&mut buf).unwrap() {
                    got.push(m);
                }
                if rest.is_empty() {
                    break;
                }
            }
            prop_assert_eq!(got, want);
            prop_assert!(buf.is_empty());
        }

        /// Any bytes: a message, a wait or a violation, never a panic, and the buffer is not
        /// grown past the limit.
        #[test]
        fn any_bytes_are_decoded_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let (mut d, mut buf) = (Decoder::new(256), BytesMut::from(&bytes[..]));
            while let Ok(Some(_)) = d.decode(&mut buf) {}
            prop_assert!(buf.capacity() <= 256 + 14 + 400);
        }
    }
}
