//! Writing ASCII text fast: plain byte stores into a small stack buffer that is appended
//! to the `String` in chunks, instead of a `String::push` per character.

use crate::guid::Guid;

const CHUNK: usize = 256;

/// Appends ASCII text to a `String`; flushed when dropped.
pub(crate) struct AsciiWriter<'a> {
    out: &'a mut String,
    buf: [u8; CHUNK],
    len: usize,
}

/// `,` and the decimal digits of every byte value, padded to 4 bytes, and the used length.
static COMMA_DEC: [([u8; 4], usize); 256] = {
    let mut t = [([0u8; 4], 0usize); 256];
    let mut v = 0;
    while v < 256 {
        let (h, d, o) = ((v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8);
        t[v] = if v >= 100 {
            ([b',', b'0' + h, b'0' + d, b'0' + o], 4)
        } else if v >= 10 {
            ([b',', b'0' + d, b'0' + o, 0], 3)
        } else {
            ([b',', b'0' + o, 0, 0], 2)
        };
        v += 1;
    }
    t
};

/// Every byte value as two upper-case hex digits and `:`.
static HEX_COLON: [[u8; 4]; 256] = {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut t = [[0u8; 4]; 256];
    let mut v = 0;
    while v < 256 {
        t[v] = [HEX[v >> 4], HEX[v & 15], b':', 0];
        v += 1;
    }
    t
};

impl<'a> AsciiWriter<'a> {
    /// A writer appending to `out`.
    pub(crate) fn new(out: &'a mut String) -> Self {
        AsciiWriter {
            out,
            buf: [0; CHUNK],
            len: 0,
        }
    }

    /// Makes room for `n` ≤ [`CHUNK`] more bytes.
    #[inline]
    fn room(&mut self, n: usize) {
        if self.len + n > CHUNK {
            self.flush();
        }
    }

    /// Stores four bytes and keeps the first `used` of them.
    #[inline]
    fn put4(&mut self, four: [u8; 4], used: usize) {
        self.room(4);
        if let Some(dst) = self.buf.get_mut(self.len..self.len + 4) {
            dst.copy_from_slice(&four);
            self.len += used;
        }
    }

    /// One ASCII character.
    #[inline]
    pub(crate) fn byte(&mut self, c: u8) {
        self.put4([c, 0, 0, 0], 1);
    }

    /// `,` and then `v` in decimal.
    #[inline]
    pub(crate) fn comma_u64(&mut self, v: u64) {
        match COMMA_DEC.get(v as usize).filter(|_| v < 256) {
            Some((four, used)) => self.put4(*four, *used),
            None => {
                self.byte(b',');
                self.u64(v);
            }
        }
    }

    /// `v` in decimal.
    pub(crate) fn u64(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || i == 0 {
                break;
            }
        }
        self.room(20);
        let digits = digits.get(i..).unwrap_or_default();
        if let Some(dst) = self.buf.get_mut(self.len..self.len + digits.len()) {
            dst.copy_from_slice(digits);
            self.len += digits.len();
        }
    }

    /// The canonical 47-character GUID form.
    pub(crate) fn guid(&mut self, guid: &Guid) {
        self.room(48);
        let mut len = self.len;
        for b in &guid.0 {
            if let (Some(dst), Some(four)) = (
                self.buf.get_mut(len..len + 4),
                HEX_COLON.get(usize::from(*b)),
            ) {
                dst.copy_from_slice(four);
                len += 3;
            }
        }
        self.len = len - 1; // no ':' after the last byte
    }

    /// `,` and the byte in decimal, for each byte.
    pub(crate) fn comma_bytes(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(CHUNK / 4 - 1) {
            self.room(4 * chunk.len());
            let mut len = self.len;
            for b in chunk {
                let (four, used) = COMMA_DEC[usize::from(*b)];
                if let Some(dst) = self.buf.get_mut(len..len + 4) {
                    dst.copy_from_slice(&four);
                    len += used;
                }
            }
            self.len = len;
        }
    }

    /// The text written so far, for writers that need a `String`.
    pub(crate) fn string(&mut self) -> &mut String {
        self.flush();
        self.out
    }

    fn flush(&mut self) {
        if let Some(text) = self.buf.get(..self.len) {
            // only ASCII is ever stored
            self.out
                .push_str(std::str::from_utf8(text).unwrap_or_default());
        }
        self.len = 0;
    }
}

impl Drop for AsciiWriter<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn numbers_match_display_across_chunks() {
        let mut s = String::new();
        let mut want = String::new();
        {
            let mut w = AsciiWriter::new(&mut s);
            for v in (0..300u64).chain([1000, u64::from(u32::MAX), u64::MAX]) {
                w.u64(v);
                w.comma_u64(v);
                want.push_str(&format!("{v},{v}"));
            }
        }
        assert_eq!(s, want);
    }
}
