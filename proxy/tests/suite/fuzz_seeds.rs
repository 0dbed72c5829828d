//! Replays the committed seed corpus of the proxy's fuzz target (`proxy/fuzz/seeds/http_request`)
//! through the target's own code: every raw request is answered without a panic and nothing
//! from outside the static folder is served.

#[path = "../../fuzz/harness.rs"]
mod harness;

#[test]
fn seed_corpus_replays_without_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/http_request");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("seed directory") {
        let path = entry.expect("seed entry").path();
        harness::http_request(&std::fs::read(&path).expect("seed file"));
        count += 1;
    }
    assert!(count >= 1_000, "only {count} seeds");
}

/// The harness really reaches the proxy: each kind of seed gets the answer it should.
#[test]
fn seeds_get_the_proxys_answers() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/http_request");
    let status = |name: &str| {
        let answer = harness::answer(&std::fs::read(dir.join(name)).expect("seed"));
        let text = String::from_utf8_lossy(&answer).into_owned();
        (text.get(9..12).unwrap_or_default().to_string(), text)
    };
    for (seed, want) in [
        ("index", "200"),
        ("asset", "200"),
        ("app-route", "200"),
        ("missing-asset", "404"),
        ("dotfile", "404"),
        ("dotdot", "404"),
        ("encoded-dotdot", "404"),
        ("symlink", "404"),
        ("rebinding", "421"),
        ("healthz", "200"),
        ("targets-token", "200"),
        ("targets-bad-origin", "403"),
        ("targets-no-token", "403"),
        ("ws-hall", "101"),
        ("ws-not-upgrade", "400"),
        ("linktest", "200"),
        ("linktest-bad-json", "400"),
    ] {
        let (got, text) = status(seed);
        assert_eq!(got, want, "{seed}: {text}");
    }
    assert!(status("index").1.contains("<p>console</p>"));
    assert!(status("targets-token").1.contains("127.0.0.1:9"));
}
