//! Firmware images for the VSCP bootloader: an Intel HEX file read into memory areas (the
//! bootloader's abstract address ranges say which memory type an address is), cut into the
//! node's blocks, each with its CRC-16/CCITT-FALSE.

use std::collections::BTreeMap;

/// Largest image accepted (all memory types), bytes.
pub const MAX_IMAGE: usize = 16 << 20;

/// The CRC the bootloader uses: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF; "123456789"
/// gives 0x29B1).
#[must_use]
pub fn crc16(data: &[u8]) -> u16 {
    crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740).checksum(data)
}

/// A memory type of the bootloader (byte 4 of start block) and where its addresses start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Memory {
    /// The code sent with start block (0 flash, 1 EEPROM/data, 2 config, 3 RAM, 4 user id,
    /// 5 fuses, 6 bootloader, 253–255 user areas).
    pub code: u8,
    /// First address of its range.
    pub base: u32,
}

impl Memory {
    /// The memory type of an address, by the bootloader's abstract ranges.
    #[must_use]
    pub fn of(addr: u32) -> Memory {
        let (code, base) = match addr {
            0x0000_0000..=0x3FFF_FFFF => (0, 0),
            0x4000_0000..=0xBFFF_FFFF => (3, 0x4000_0000),
            0xC100_0000..=0xC1FF_FFFF => (4, 0xC100_0000),
            0xC200_0000..=0xC2FF_FFFF => (2, 0xC200_0000),
            0xC300_0000..=0xC3FF_FFFF => (1, 0xC300_0000),
            0xC400_0000..=0xC4FF_FFFF => (6, 0xC400_0000),
            0xC500_0000..=0xC5FF_FFFF => (5, 0xC500_0000),
            0xD000_0000..=0xDFFF_FFFF => (253, 0xD000_0000),
            0xE000_0000..=0xEFFF_FFFF => (254, 0xE000_0000),
            0xF000_0000..=0xFFFF_FFFF => (255, 0xF000_0000),
            // 0xC0000000–0xC0FFFFFF is not assigned: kept apart as a user area
            _ => (252, 0xC000_0000),
        };
        Memory { code, base }
    }

    /// Its name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self.code {
            0 => "flash",
            1 => "EEPROM",
            2 => "config",
            3 => "RAM",
            4 => "user id",
            5 => "fuses",
            6 => "bootloader",
            _ => "user area",
        }
    }
}

/// Why a HEX file cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// A line is not an Intel HEX record.
    #[error("line {line}: {why}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// Two records write the same address.
    #[error("line {line}: address 0x{addr:08X} written twice")]
    Overlap {
        /// Line of the second record.
        line: usize,
        /// The address.
        addr: u32,
    },
    /// No data at all.
    #[error("the file holds no data records")]
    Empty,
    /// Larger than [`MAX_IMAGE`].
    #[error("image larger than {} MiB", MAX_IMAGE >> 20)]
    TooLarge,
}

/// A firmware image: bytes by absolute address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    /// Runs of consecutive bytes, by start address.
    runs: BTreeMap<u32, Vec<u8>>,
    len: usize,
}

/// One block to program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Memory type.
    pub memory: Memory,
    /// Block number within its memory type.
    pub number: u32,
    /// The block's bytes (0xFF where the image has none).
    pub data: Vec<u8>,
    /// Its CRC.
    pub crc: u16,
}

impl Image {
    /// Reads an Intel HEX file (data, extended segment and linear address, start and end
    /// records).
    pub fn from_hex(text: &str) -> Result<Image, HexError> {
        let mut image = Image::default();
        let mut upper: u32 = 0;
        let mut written: BTreeMap<u64, usize> = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let record = raw.trim();
            if record.is_empty() {
                continue;
            }
            let parsed = ihex::Record::from_record_string(record).map_err(|e| HexError::Line {
                line,
                why: e.to_string(),
            })?;
            match parsed {
                ihex::Record::Data { offset, value } => {
                    let addr = upper.wrapping_add(u32::from(offset));
                    let end = addr as u64 + value.len() as u64;
                    // a run that would overlap one already read
                    let clash = written
                        .range(..end)
                        .next_back()
                        .filter(|(start, n)| **start + **n as u64 > u64::from(addr));
                    if let Some((start, _)) = clash {
                        return Err(HexError::Overlap {
                            line,
                            addr: addr.max(*start as u32),
                        });
                    }
                    if image.len + value.len() > MAX_IMAGE {
                        return Err(HexError::TooLarge);
                    }
                    written.insert(u64::from(addr), value.len());
                    image.len += value.len();
                    image.insert(addr, value);
                }
                ihex::Record::ExtendedSegmentAddress(seg) => upper = u32::from(seg) << 4,
                ihex::Record::ExtendedLinearAddress(hi) => upper = u32::from(hi) << 16,
                ihex::Record::EndOfFile => break,
                ihex::Record::StartSegmentAddress { .. } | ihex::Record::StartLinearAddress(_) => {}
            }
        }
        if image.len == 0 {
            return Err(HexError::Empty);
        }
        Ok(image)
    }

    /// An image of `data` at `addr` (for tests and tools).
    #[must_use]
    pub fn from_bytes(addr: u32, data: Vec<u8>) -> Image {
        let mut image = Image {
            len: data.len(),
            ..Image::default()
        };
        image.insert(addr, data);
        image
    }

    fn insert(&mut self, addr: u32, value: Vec<u8>) {
        // joins a run that ends right here
        if let Some((start, run)) = self.runs.range_mut(..addr).next_back()
            && *start as u64 + run.len() as u64 == u64::from(addr)
        {
            run.extend(value);
            return;
        }
        self.runs.insert(addr, value);
    }

    /// Bytes of data in the image.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// No data?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes per memory type.
    #[must_use]
    pub fn areas(&self) -> Vec<(Memory, usize)> {
        let mut areas: BTreeMap<Memory, usize> = BTreeMap::new();
        for (&start, run) in &self.runs {
            // a run may cross into the next range: count byte by byte only there
            let first = Memory::of(start);
            let last = Memory::of(start.wrapping_add(run.len().saturating_sub(1) as u32));
            if first == last {
                *areas.entry(first).or_default() += run.len();
            } else {
                for i in 0..run.len() as u32 {
                    *areas.entry(Memory::of(start.wrapping_add(i))).or_default() += 1;
                }
            }
        }
        areas.into_iter().collect()
    }

    /// The image as blocks of `block_size` bytes, by memory type and block number.
    #[must_use]
    pub fn blocks(&self, block_size: u32) -> Vec<Block> {
        let size = block_size.max(1);
        let mut blocks: BTreeMap<(Memory, u32), Vec<u8>> = BTreeMap::new();
        for (&start, run) in &self.runs {
            for (i, byte) in run.iter().enumerate() {
                let addr = start.wrapping_add(i as u32);
                let memory = Memory::of(addr);
                let offset = addr - memory.base;
                let data = blocks
                    .entry((memory, offset / size))
                    .or_insert_with(|| vec![0xFF; size as usize]);
                if let Some(slot) = data.get_mut((offset % size) as usize) {
                    *slot = *byte;
                }
            }
        }
        blocks
            .into_iter()
            .map(|((memory, number), data)| Block {
                memory,
                number,
                crc: crc16(&data),
                data,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
        assert_eq!(crc16(&[]), 0xFFFF);
    }

    #[test]
    fn hex_files_become_blocks() {
        // 4 bytes at 0x0000, 2 at 0x0010; 2 bytes of EEPROM (0xC3000000)
        let hex =
            ":0400000001020304F2\n:02001000AABB89\n:02000004C30037\n:020000001122CB\n:00000001FF\n";
        let image = Image::from_hex(hex).unwrap();
        assert_eq!(image.len(), 8);
        let blocks = image.blocks(16);
        assert_eq!(blocks.len(), 3);
        assert_eq!((blocks[0].memory.code, blocks[0].number), (0, 0));
        assert_eq!(&blocks[0].data[..5], &[1, 2, 3, 4, 0xFF]);
        assert_eq!((blocks[1].memory.code, blocks[1].number), (0, 1));
        assert_eq!(&blocks[1].data[..3], &[0xAA, 0xBB, 0xFF]);
        assert_eq!(blocks[1].crc, crc16(&blocks[1].data));
        assert_eq!((blocks[2].memory.name(), blocks[2].number), ("EEPROM", 0));
        let areas: Vec<_> = image.areas().iter().map(|(m, n)| (m.name(), *n)).collect();
        assert_eq!(areas, [("flash", 6), ("EEPROM", 2)]);
        assert_eq!(&blocks[2].data[..2], &[0x11, 0x22]);
    }

    #[test]
    fn bad_files_say_which_line() {
        let cases = [
            (":0400000001020304F2\nhello\n", "line 2"),
            (":0400000001020304F3\n", "line 1"),
            (
                ":0400000001020304F2\n:0400000001020304F2\n",
                "written twice",
            ),
            (":00000001FF\n", "no data"),
        ];
        for (text, why) in cases {
            let e = Image::from_hex(text).unwrap_err().to_string();
            assert!(e.contains(why), "{text:?}: {e}");
        }
    }
}
