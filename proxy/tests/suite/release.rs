//! The release builds as users get them (`./x release`; `./x test` runs these with the
//! builds it made): a binary for another machine run under qemu-user on its own instruction
//! set, and a Debian package unpacked into a temporary root. Not run by a plain `cargo test`
//! (they need the cross builds): `VSCP_RELEASE_BIN` (and `VSCP_RUNNER`, e.g.
//! `qemu-aarch64-static`) and `VSCP_DEB` name what to test.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::common::{connect, http_get, login, rss_kib, until_status};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// The files the package installs, as docs/OPERATOR.md lists them.
const PACKAGE_FILES: &[&str] = &[
    "/etc/vscp-proxy/bridge.toml",
    "/etc/vscp-proxy/proxy.toml",
    "/usr/bin/vscp-proxy",
    "/usr/lib/systemd/system/vscp-bridge.service",
    "/usr/lib/systemd/system/vscp-proxy.service",
    "/usr/share/bash-completion/completions/vscp-proxy",
    "/usr/share/doc/vscp-proxy/OPERATOR.md",
    "/usr/share/doc/vscp-proxy/README.md",
    "/usr/share/doc/vscp-proxy/copyright",
    "/usr/share/fish/vendor_completions.d/vscp-proxy.fish",
    "/usr/share/man/man1/vscp-proxy-bootload.1.gz",
    "/usr/share/man/man1/vscp-proxy-bridge.1.gz",
    "/usr/share/man/man1/vscp-proxy-demo.1.gz",
    "/usr/share/man/man1/vscp-proxy-hash-password.1.gz",
    "/usr/share/man/man1/vscp-proxy-linktest.1.gz",
    "/usr/share/man/man1/vscp-proxy.1.gz",
    "/usr/share/zsh/vendor-completions/_vscp-proxy",
];

/// The binary started the way it runs on its machine: under `VSCP_RUNNER` when it names one
/// (a program and its arguments, split at spaces: `qemu-arm-static -L ROOT`), in the folder
/// it is in (nothing of the checkout around it).
fn command(bin: &Path) -> Command {
    let runner = std::env::var("VSCP_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut c = match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    c.current_dir(bin.parent().expect("a file in a folder"));
    c
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vscp-release-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A started proxy: its process and port, and how long it took to say where it listens.
struct Started {
    child: Child,
    port: u16,
    banner_after: Duration,
}

fn start(bin: &Path, args: &[&str]) -> Started {
    let started = Instant::now();
    let mut child = command(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let port = crate::common::announced_port(&mut child);
    Started {
        child,
        port,
        banner_after: started.elapsed(),
    }
}

/// SIGTERM, then the exit code.
fn terminate(mut child: Child) -> Option<i32> {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill");
    child.wait().unwrap().code()
}

/// `/` is the console's page, and the wasm it names is there.
async fn serves_the_console(port: u16) {
    let index = http_get(port, "/").await;
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    let wasm = index
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .find(|w| w.ends_with("_bg.wasm"))
        .unwrap_or_else(|| panic!("no wasm named in {index}"));
    let module = http_get(port, &format!("/{wasm}")).await;
    assert!(module.starts_with("HTTP/1.1 200"), "{wasm}");
}

#[tokio::test]
#[ignore = "needs a release build: VSCP_RELEASE_BIN (./x test sets it)"]
async fn release_binary_serves_on_its_instruction_set() {
    let bin = PathBuf::from(std::env::var_os("VSCP_RELEASE_BIN").expect("VSCP_RELEASE_BIN"));
    let version = command(&bin).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    println!("{}: {}", bin.display(), version.trim());
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    assert!(version.contains("commit "), "{version}");
    if let Ok(target) = std::env::var("VSCP_RELEASE_TARGET") {
        assert!(version.contains(&target), "{version} for {target}");
    }

    // copied alone into an empty folder, as a user copies it to a Pi
    let dir = temp_dir("bin");
    let bin = {
        let alone = dir.join("vscp-proxy");
        std::fs::copy(&bin, &alone).unwrap();
        alone
    };
    let config = dir.join("proxy.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\ndemo = true\n").unwrap();
    let p = start(&bin, &["--config", config.to_str().unwrap()]);
    let first_page = Instant::now();
    serves_the_console(p.port).await;
    let page_after = p.banner_after + first_page.elapsed();

    let url = format!("ws://127.0.0.1:{}/ws?target=demo", p.port);
    let mut ws = connect(&url).await;
    login(&mut ws).await;
    ws.send(Message::text("NOOP")).await.unwrap();
    let noop = until_status(&mut ws).await;
    assert_eq!(
        noop.last().map(String::as_str),
        Some("+OK - Success."),
        "{noop:?}"
    );
    ws.send(Message::text("RCVLOOP")).await.unwrap();
    let mut events = 0;
    while events < 3 {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("events in time")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            events += t
                .lines()
                .filter(|l| !l.starts_with("+OK") && !l.starts_with("-OK"))
                .filter(|l| vscp_core::Event::read_received(l).is_ok())
                .count();
        }
    }
    drop(ws);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = rss_kib(p.child.id());
    println!(
        "start to banner {:.0} ms, to the console's page and wasm {:.0} ms; RSS after one session {:.1} MiB",
        p.banner_after.as_secs_f64() * 1e3,
        page_after.as_secs_f64() * 1e3,
        rss as f64 / 1024.0
    );
    assert_eq!(terminate(p.child), Some(0), "SIGTERM ends it with exit 0");
}

/// Every file below `root`, as an absolute path of the installed system.
fn files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                todo.push(path);
            } else {
                out.push(format!("/{}", path.strip_prefix(root).unwrap().display()));
            }
        }
    }
    out.sort();
    out
}

/// The exposure `systemd-analyze security --offline=yes` rates a unit file at (0–10).
fn exposure(unit: &Path) -> f64 {
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.split("Overall exposure level for ").nth(1))
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in {text}"))
}

#[tokio::test]
#[ignore = "needs a package: VSCP_DEB (./x test sets it)"]
async fn package_unpacks_as_documented_and_serves() {
    let deb = PathBuf::from(std::env::var_os("VSCP_DEB").expect("VSCP_DEB"));
    let root = temp_dir("root");
    let ok = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&root)
        .status()
        .unwrap()
        .success();
    assert!(ok, "dpkg-deb -x {}", deb.display());
    assert_eq!(files(&root), PACKAGE_FILES);
    let operator = include_str!("../../../docs/OPERATOR.md");
    for f in PACKAGE_FILES {
        // the subcommands' man pages are named beside the first one's path
        let listed = operator.contains(&format!("`{f}`"))
            || f.strip_prefix("/usr/share/man/man1/")
                .is_some_and(|page| operator.contains(&format!("`{page}`")));
        assert!(listed, "docs/OPERATOR.md lists {f}");
    }
    // the two settings files are conffiles (kept on upgrade); the bridge's is root's only
    let control = temp_dir("control");
    assert!(
        Command::new("dpkg-deb")
            .arg("-e")
            .arg(&deb)
            .arg(&control)
            .status()
            .unwrap()
            .success()
    );
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert_eq!(
        conffiles.lines().collect::<Vec<_>>(),
        ["/etc/vscp-proxy/proxy.toml", "/etc/vscp-proxy/bridge.toml"]
    );
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("vscp-proxy.service"), "{postinst}");
    assert!(
        postinst.contains("restart"),
        "upgrades restart a running service"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| {
        std::fs::metadata(root.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("etc/vscp-proxy/bridge.toml"), 0o600);
    assert_eq!(mode("usr/bin/vscp-proxy"), 0o755);

    // both services: hardened (rated ≤ 2.0) and well-formed, their binary and man page found;
    // verify looks in the root for the targets they start after, so the system's go in too
    let units = root.join("usr/lib/systemd/system");
    for e in std::fs::read_dir("/usr/lib/systemd/system")
        .unwrap()
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "target") {
            std::fs::copy(e.path(), units.join(e.file_name())).unwrap();
        }
    }
    for unit in ["vscp-proxy", "vscp-bridge"] {
        let file = units.join(format!("{unit}.service"));
        let score = exposure(&file);
        println!("{unit}.service: exposure {score}");
        assert!(score <= 2.0, "{unit}: {score}");
        let verify = Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", root.display()))
            .arg(&file)
            .env("MANPATH", root.join("usr/share/man"))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&verify.stderr);
        assert!(
            verify.status.success() && said.trim().is_empty(),
            "{unit}: {said}"
        );
    }

    // the packaged settings are good, and the unpacked binary serves the console with them
    let bin = root.join("usr/bin/vscp-proxy");
    let config = root.join("etc/vscp-proxy/proxy.toml");
    let check = command(&bin)
        .arg("--config")
        .arg(&config)
        .arg("--check")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        said.contains("listen = \"127.0.0.1:8080\""),
        "loopback: {said}"
    );
    assert!(said.contains("demo = false"), "{said}");
    let bridge = command(&bin)
        .args(["bridge", "--check", "--config"])
        .arg(root.join("etc/vscp-proxy/bridge.toml"))
        .output()
        .unwrap();
    assert!(
        bridge.status.success(),
        "{}",
        String::from_utf8_lossy(&bridge.stderr)
    );
    // a free port instead of 8080 (which the machine may use), the rest from the file
    let p = start(
        &bin,
        &[
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
    );
    serves_the_console(p.port).await;
    let targets = http_get(p.port, "/api/targets").await;
    assert!(targets.contains(r#""name":"local""#), "{targets}");
    assert_eq!(terminate(p.child), Some(0));
}
