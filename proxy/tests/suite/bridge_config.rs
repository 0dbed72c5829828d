//! `vscp-proxy bridge` refuses every out-of-range value at start, naming the key and the
//! allowed range, with exit code 2 and never a panic; `--check` checks a file without running.

use std::process::Command;

const GOOD: &str = "[[server]]\nname = \"a\"\naddress = \"127.0.0.1:9598\"\n[[server]]\nname = \"b\"\naddress = \"127.0.0.1:9599\"\n";

fn bridge(config: &str, check: bool) -> (i32, String, String) {
    let path = std::env::temp_dir().join(format!(
        "vscp-bridge-{}-{}.toml",
        std::process::id(),
        config.len()
    ));
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vscp-proxy"));
    cmd.args(["bridge", "--config"]).arg(&path);
    if check {
        cmd.arg("--check");
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_file(&path);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_bad_value_is_named_and_nothing_panics() {
    let (code, out, _) = bridge(GOOD, true);
    assert_eq!(code, 0);
    assert!(out.contains("good (2 server(s))"), "{out}");
    let mqtt = "[mqtt]\nhost = \"127.0.0.1\"\n";
    for (config, words) in [
        (
            format!("queue = 2305843009213693952\n{GOOD}"),
            "queue = 2305843009213693952: must be 1 to 1000000",
        ),
        (format!("queue = 0\n{GOOD}"), "queue = 0: must be 1"),
        (format!("queue = -1\n{GOOD}"), "queue"),
        (
            format!("{GOOD}{mqtt}client_id = \"\"\n"),
            "client_id = \"\": must be 1 to 256 bytes",
        ),
        (
            format!("{GOOD}{mqtt}prefix = \"vscp/#\"\n"),
            "prefix = \"vscp/#\"",
        ),
        (
            format!("{GOOD}poll_ms = 0\n"),
            "poll_ms = 0: must be 10 to 3600000 ms",
        ),
        (
            GOOD.replace("127.0.0.1:9599", "nowhere"),
            "address = \"nowhere\": must be HOST:PORT",
        ),
        (GOOD.replace("\"b\"", "\"a\""), "name is used by another"),
        (format!("{GOOD}colour = \"blue\"\n"), "colour"),
        (
            "[[server]]\nname = \"a\"\naddress = \"127.0.0.1:1\"\n".to_string(),
            "two [[server]] entries",
        ),
    ] {
        for check in [true, false] {
            let (code, _, err) = bridge(&config, check);
            assert_eq!(code, 2, "{config}: {err}");
            assert!(err.contains(words), "{config}: {err}");
            assert!(!err.contains("panicked"), "{config}: {err}");
        }
    }
}
