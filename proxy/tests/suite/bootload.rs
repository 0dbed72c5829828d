//! `vscp-proxy bootload` (the binary) against `vscp-proxy demo` over TCP: an upload whose
//! version is read back, one through a lost chunk (the demo's fault knob), and one refused for
//! the wrong device code before anything is written.

use std::process::Command;

use crate::common::*;

const IFACE: &str = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:00";

/// An Intel HEX file of `data` from address 0 (extended linear address records, 16 bytes a line).
fn hex(data: &[u8]) -> String {
    let record = |kind: u8, addr: u16, bytes: &[u8]| {
        let mut b = vec![bytes.len() as u8, (addr >> 8) as u8, addr as u8, kind];
        b.extend(bytes);
        let sum = b.iter().fold(0u8, |s, x| s.wrapping_add(*x)).wrapping_neg();
        let text: String = b.iter().map(|x| format!("{x:02X}")).collect();
        format!(":{text}{sum:02X}\n")
    };
    let mut out = String::new();
    for (i, line) in data.chunks(16).enumerate() {
        let addr = i * 16;
        if addr % 0x10000 == 0 {
            out.push_str(&record(4, 0, &((addr >> 16) as u16).to_be_bytes()));
        }
        out.push_str(&record(0, addr as u16, line));
    }
    out + ":00000001FF\n"
}

/// A firmware file for the demo: its version in the first three bytes.
fn firmware(name: &str, version: [u8; 3], len: usize) -> std::path::PathBuf {
    let mut data = version.to_vec();
    data.extend((0..len - 3).map(|i| (i * 13 + 5) as u8));
    let path = tempfile(name);
    std::fs::write(&path, hex(&data)).unwrap();
    path
}

fn bootload(port: u16, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vscp-proxy"))
        .args(["bootload", &format!("127.0.0.1:{port}")])
        .args(["--user", "admin", "--password", "secret"])
        .args(extra)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn bootload_uploads_checks_and_refuses() {
    let (_demo, port) = start_demo(0, "0");
    let fw = firmware(&format!("fw-{}.hex", std::process::id()), [3, 1, 4], 20_000);
    let fw = fw.to_str().unwrap();

    // node 1, behind the demo's interface
    let node1 = ["--nickname", "1", "--hex", fw, "--interface", IFACE];

    // the wrong device code: refused before anything is written (exit 2), the node unchanged
    let (code, text) = bootload(port, &[&node1[..], &["--device-code", "0x1002"]].concat());
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("device code 0x1002, the node has 0x1001"),
        "{text}"
    );

    // the upload, the version read back
    let checked = ["--device-code", "0x1001", "--version", "3.1.4"];
    let (code, text) = bootload(port, &[&node1[..], &checked].concat());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("firmware 1.2.3 → 3.1.4"), "{text}");
    assert!(text.contains("node 1 now runs firmware 3.1.4"), "{text}");

    // node 2 loses chunk 50 (the fault knob in its registers 0x10–0x12): one block again
    let mut line = Line::open(port).await;
    for (reg, value) in [(0x10, 1), (0x11, 0), (0x12, 50)] {
        line.cmd(&format!("SEND 0,0,11,,,,-,2,{reg},{value}")).await;
    }
    let (code, text) = bootload(
        port,
        &[
            "--nickname",
            "2",
            "--hex",
            fw,
            "--version",
            "3.1.4",
            "--window",
            "4",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(" 1 retries"), "{text}");

    // a file that is not Intel HEX: refused with its line
    let bad = tempfile(&format!("bad-{}.hex", std::process::id()));
    std::fs::write(&bad, ":10000000020007\nnot hex\n").unwrap();
    let (code, text) = bootload(port, &["--nickname", "3", "--hex", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("line 1"), "{text}");
}
