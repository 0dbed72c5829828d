//! What the proxy's fuzz target does with its input, shared by the cargo-fuzz target and by
//! vscp-proxy's `fuzz_seeds` test, which replays the committed seed corpus on every run.

use std::{path::PathBuf, sync::OnceLock};

use clap::Parser;
use vscp_proxy::{Args, Server, Shutdown};

/// Written outside the static folder (a file beside it and a symlink's target): no answer
/// may ever contain it.
const SECRET: &str = "SECRET-OUTSIDE-STATIC";
/// The fuzzer's own token; seeds carry it, so both sides of the token check are reached.
pub const TOKEN: &str = "fuzz-token";

struct Harness {
    runtime: tokio::runtime::Runtime,
    server: Server,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("vscp-proxy-fuzz-{}", std::process::id()));
        let root = static_folder(&base);
        let args = Args::parse_from([
            "vscp-proxy",
            "--listen",
            "127.0.0.1:0",
            // port 9 (discard): nothing listens on loopback, so a bridge ends at once
            "--node",
            "hall=127.0.0.1:9",
            "--token",
            TOKEN,
            "--handshake-timeout",
            "2",
            "--static",
            root.to_str().expect("utf-8 temp path"),
        ]);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime
            .block_on(Server::bind(&args, &Shutdown::new()))
            .expect("bind");
        Harness { runtime, server }
    })
}

/// `base/secret.txt`, and `base/static/` with an index, an asset, a dotfile and a symlink
/// to the secret.
fn static_folder(base: &std::path::Path) -> PathBuf {
    let root = base.join("static");
    std::fs::create_dir_all(root.join("assets")).expect("static folder");
    let secret = base.join("secret.txt");
    std::fs::write(&secret, SECRET).expect("secret");
    std::fs::write(root.join(".env"), SECRET).expect("dotfile");
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><script>1</script><p>console</p>",
    )
    .expect("index");
    std::fs::write(root.join("assets/app-1.js"), "console.log(1)").expect("asset");
    #[cfg(unix)]
    {
        let _ = std::os::unix::fs::symlink(&secret, root.join("leak.txt"));
    }
    root
}

/// What the proxy writes back to one HTTP/1 connection that sent `data`.
pub fn answer(data: &[u8]) -> Vec<u8> {
    let h = harness();
    h.runtime.block_on(h.server.answer(data))
}

/// Any bytes as one HTTP/1 connection: answered without a panic, and nothing from outside
/// the static folder (nor its dotfile) in the answer.
pub fn http_request(data: &[u8]) {
    let answer = answer(data);
    assert!(
        !answer.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "served a file from outside the static folder: {:?}",
        String::from_utf8_lossy(data)
    );
}
