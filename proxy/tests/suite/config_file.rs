//! `vscp-proxy --config FILE`, run as a user runs it: the commented example passes `--check`;
//! each kind of bad file is refused with words naming the file, the line and the key, exit
//! code 2 and nothing started; the command line wins over the file; a proxy with no console
//! says how to build one.

use std::process::Command;

/// Runs the binary with `args` in an empty folder; (exit code, stdout, stderr).
fn proxy(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vscp-proxy"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A file of `text` in the temporary folder; its path.
fn file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("vscp-config-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn the_example_passes_check() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/proxy.example.toml");
    let (code, out, err) = proxy(&["--config", example, "--check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("listen = \"127.0.0.1:8080\"  # line "),
        "{out}"
    );
    assert!(out.contains("node = [\"local=127.0.0.1:9598\"]"), "{out}");
    assert!(out.contains("demo = false  # line "), "{out}");
    assert!(out.contains("# good"), "{out}");
}

#[test]
fn the_command_line_wins_and_secrets_stay_hidden() {
    let f = file(
        "wins.toml",
        "max-conns = 10\ntoken = \"hunter2\"\ndemo = true\n",
    );
    let (code, out, err) = proxy(&["--config", &f, "--check", "--max-conns", "5"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("max-conns = 5  # command line"), "{out}");
    assert!(out.contains("token = \"***\"  # line 2"), "{out}");
    assert!(!out.contains("hunter2"), "{out}");
}

#[test]
fn every_bad_file_is_named_with_its_line_and_key() {
    let users = file(
        "users.toml",
        "[[user]]\nname = \"a\"\npassword_hash = \"x\"\nrole = \"viewer\"\n",
    );
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_pem = file("cert.pem", &cert.cert.pem());
    let wrong_key = file("other-key.pem", &other.signing_key.serialize_pem());
    let cases: Vec<(String, Vec<&str>)> = vec![
        (String::new(), vec!["no settings in it"]),
        ("listen = [\n".into(), vec!["not TOML", "invalid array"]),
        ("demo = true\nlisen = \"x\"\n".into(), vec![":2", "key `lisen`", "not a setting", "listen, node"]),
        ("listen = \"nope\"\n".into(), vec![":1", "key `listen`", "invalid value 'nope'"]),
        ("demo = \"yes\"\n".into(), vec![":1", "key `demo`", "true or false"]),
        (
            "[[node]]\nname = \"a\"\naddress = \"h:1\"\n[[node]]\nname = \"a\"\naddress = \"h:2\"\n".into(),
            vec!["key `node`", "two targets named \"a\""],
        ),
        ("[[node]]\nname = \"a\"\naddress = \"nowhere\"\n".into(), vec!["key `node`", "expected HOST:PORT"]),
        ("[[node]]\nname = \"a\"\nport = 1\n".into(), vec!["`port` is not a field", "name, address, login"]),
        ("demo = true\nusers = \"/no/such/users.toml\"\n".into(), vec![":2, key `users`", "/no/such/users.toml", "No such file"]),
        (format!("demo = true\nusers = \"{users}\"\n"), vec![":2, key `users`", "password_hash"]),
        (
            format!("demo = true\ntls-cert = \"{cert_pem}\"\ntls-key = \"{wrong_key}\"\n"),
            vec![":2, key `tls-cert`"],
        ),
        ("demo = true\ntls-cert = \"/x.pem\"\n".into(), vec!["tls-key"]),
    ];
    for (text, words) in cases {
        let f = file("bad.toml", &text);
        for check in [true, false] {
            let mut args = vec!["--config", f.as_str()];
            if check {
                args.push("--check");
            }
            let (code, out, err) = proxy(&args);
            assert_eq!(code, 2, "{text:?}: {out}{err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(!out.contains("console at"), "nothing started: {out}");
            assert!(err.contains(&f), "names the file: {err}");
            for w in &words {
                assert!(err.contains(w), "{text:?}: {w:?} in {err}");
            }
        }
    }
    let (code, _, err) = proxy(&["--config", "/no/such/proxy.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("/no/such/proxy.toml") && err.contains("No such file"),
        "{err}"
    );
}

#[tokio::test]
async fn a_proxy_without_a_console_says_how_to_build_one() {
    let p = crate::common::Proxy::start(&["--static", "/no/console/here"]);
    let page = crate::common::http_get(p.port, "/").await;
    assert!(page.starts_with("HTTP/1.1 503"), "{page}");
    assert!(page.contains("no console"), "{page}");
    assert!(page.contains("trunk build --release"), "{page}");
    let route = crate::common::http_get(p.port, "/nodes").await;
    assert!(route.starts_with("HTTP/1.1 503"), "{route}");
    // the API still answers
    let targets = crate::common::http_get(p.port, "/api/targets").await;
    assert!(targets.starts_with("HTTP/1.1 200"), "{targets}");
}

#[test]
fn logs_are_lines_a_service_manager_keeps() {
    use std::io::{BufRead, BufReader};
    for json in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vscp-proxy"));
        cmd.args(["--demo", "--listen", "127.0.0.1:0", "--static", "/nowhere"]);
        if json {
            cmd.args(["--log-format", "json"]);
        }
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first: Vec<String> = (0..2).map(|_| lines.next().unwrap().unwrap()).collect();
        let _ = child.kill();
        let _ = child.wait();
        for line in &first {
            assert!(
                !line.contains('\u{1b}'),
                "no colour codes without a terminal: {line:?}"
            );
            if json {
                let v: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert!(
                    v["level"].is_string() && v["fields"]["message"].is_string(),
                    "{v}"
                );
            } else {
                assert!(line.contains(" WARN ") || line.contains(" INFO "), "{line}");
            }
        }
    }
}
