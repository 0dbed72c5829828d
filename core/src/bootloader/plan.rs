//! What an upload will do, checked before anything is written: the node's bootloader must be
//! the VSCP algorithm and its firmware device code the image's (when known, e.g. from the
//! MDF's firmware list or the user); the plan says what changes.

use crate::{
    firmware::{Image, Memory},
    registers::StandardRegisters,
};

use super::VSCP_ALGORITHM;

/// What is known of the image besides its bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// The firmware device code it is built for (registers 0xA3/0xA4).
    pub device_code: Option<u16>,
    /// Its version.
    pub version: Option<(u8, u8, u8)>,
}

/// Why an upload is refused before it starts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The node's bootloader is another algorithm (or none: 0xFF).
    #[error("the node's bootloader algorithm is {0} (register 0x97), not the VSCP bootloader (0)")]
    Algorithm(u8),
    /// The image is for another kind of device.
    #[error(
        "the image is for device code 0x{image:04X}, the node has 0x{node:04X} (registers 0xA3/0xA4)"
    )]
    DeviceCode {
        /// The node's.
        node: u16,
        /// The image's.
        image: u16,
    },
}

/// A firmware version as people write it, `MAJOR.MINOR.BUILD`.
pub fn parse_version(text: &str) -> Result<(u8, u8, u8), String> {
    let t = text.trim();
    let parts: Vec<u8> = t
        .split('.')
        .map(|p| p.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("version {t:?}: expected MAJOR.MINOR.BUILD"))?;
    match parts[..] {
        [a, b, c] => Ok((a, b, c)),
        _ => Err(format!("version {t:?}: expected MAJOR.MINOR.BUILD")),
    }
}

/// A firmware device code: `0x1001` or decimal.
pub fn parse_device_code(text: &str) -> Result<u16, String> {
    let t = text.trim();
    crate::number::parse_max(t, u64::from(u16::MAX))
        .map(|v| v as u16)
        .map_err(|_| format!("device code {t:?}: a number such as 0x1001"))
}

/// An upload as the user confirms it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The node's firmware version now.
    pub current: (u8, u8, u8),
    /// The image's version, when known.
    pub new: Option<(u8, u8, u8)>,
    /// The node's firmware device code.
    pub device_code: u16,
    /// Bytes of the image per memory type.
    pub areas: Vec<(Memory, usize)>,
    /// All its bytes.
    pub bytes: usize,
}

/// Checks the node's standard registers against the image and what is known of it.
pub fn plan(std: &StandardRegisters, image: &Image, expect: &Expect) -> Result<Plan, PlanError> {
    if std.bootloader != VSCP_ALGORITHM {
        return Err(PlanError::Algorithm(std.bootloader));
    }
    if let Some(code) = expect.device_code
        && code != std.firmware_code
    {
        return Err(PlanError::DeviceCode {
            node: std.firmware_code,
            image: code,
        });
    }
    Ok(Plan {
        current: std.firmware,
        new: expect.version,
        device_code: std.firmware_code,
        areas: image.areas(),
        bytes: image.len(),
    })
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = |(a, b, c): (u8, u8, u8)| format!("{a}.{b}.{c}");
        let new = self.new.map_or_else(|| "the image's".to_string(), v);
        let areas: Vec<String> = self
            .areas
            .iter()
            .map(|(m, n)| format!("{n} bytes of {}", m.name()))
            .collect();
        write!(
            f,
            "firmware {} → {new} (device code 0x{:04X}): {}",
            v(self.current),
            self.device_code,
            areas.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn versions_and_codes_as_typed() {
        assert_eq!(parse_version(" 2.0.7 "), Ok((2, 0, 7)));
        assert!(parse_version("2.0").is_err() && parse_version("2.x.1").is_err());
        assert_eq!(parse_device_code("0x1001"), Ok(0x1001));
        assert_eq!(parse_device_code("17"), Ok(17));
        assert!(parse_device_code("0x10000").is_err());
    }

    #[test]
    fn refusals_and_the_plan() {
        let mut regs = [0u8; 128];
        regs[0x94 - 0x80..0x97 - 0x80].copy_from_slice(&[1, 2, 3]);
        regs[0x97 - 0x80] = 0;
        regs[0xA3 - 0x80..0xA5 - 0x80].copy_from_slice(&[0x10, 0x01]);
        let std = StandardRegisters::decode(&regs);
        let image = Image::from_bytes(0, vec![1; 300]);
        let expect = Expect {
            device_code: Some(0x1001),
            version: Some((2, 0, 7)),
        };
        let p = plan(&std, &image, &expect).unwrap();
        assert_eq!(
            p.to_string(),
            "firmware 1.2.3 → 2.0.7 (device code 0x1001): 300 bytes of flash"
        );
        let wrong = Expect {
            device_code: Some(0x1002),
            ..expect
        };
        assert!(
            plan(&std, &image, &wrong)
                .unwrap_err()
                .to_string()
                .contains("device code 0x1002, the node has 0x1001")
        );
        regs[0x97 - 0x80] = 0xFF;
        let none = StandardRegisters::decode(&regs);
        assert_eq!(
            plan(&none, &image, &expect),
            Err(PlanError::Algorithm(0xFF))
        );
    }
}
