//! Replays the committed fuzz seed corpus (`core/fuzz/seeds/TARGET/*`, minimised with
//! `cargo fuzz cmin`) through the fuzz targets' own code, so every test run covers what the
//! fuzzer found interesting. Native only: it reads files.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

/// A fuzz target's name and what it does with one input.
type Target = (&'static str, fn(&[u8]));

#[test]
fn seed_corpus_replays_without_panics() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let targets: [Target; 5] = [
        ("event_line", harness::event_line),
        ("reply_stream", harness::reply_stream),
        ("client_session", harness::client_session),
        ("node_session", harness::node_session),
        ("mdf", harness::mdf),
    ];
    for (name, run) in targets {
        let dir = std::fs::read_dir(seeds.join(name)).expect("seed directory");
        let mut count = 0;
        for entry in dir {
            let path = entry.expect("seed entry").path();
            run(&std::fs::read(&path).expect("seed file"));
            count += 1;
        }
        assert!(count > 100, "{name}: only {count} seeds");
    }
}
