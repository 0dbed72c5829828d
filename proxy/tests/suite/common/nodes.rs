//! Link-protocol servers for the proxy to reach: a scripted stand-in node, the demo as its
//! own process, and a logged-in line client of it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A stand-in node on `addr`: greets, then answers its first line with `reply` (raw bytes)
/// and closes when `close` is set.
pub async fn fake_node(listener: tokio::net::TcpListener, reply: &'static [u8], close: bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut tcp, _) = listener.accept().await.unwrap();
    tcp.write_all(b"+OK - fake node\r\n").await.unwrap();
    let mut buf = [0u8; 256];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(buf[..n].ends_with(b"\r\n"), "CRLF towards the node");
    tcp.write_all(reply).await.unwrap();
    if close {
        return; // dropped: the node goes away
    }
    let _ = tcp.read(&mut buf).await; // until the proxy closes
}

/// The demo process; killed when dropped (also when an assertion fails).
pub struct Demo(pub Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `vscp-proxy demo` on `port` (0: any) flooding `rate` events/s; the process and its port.
pub fn start_demo(port: u16, rate: &str) -> (Demo, u16) {
    start_demo_with(port, &["--demo-rate", rate])
}

/// `vscp-proxy demo` on `port` (0: any) with more options; the process and its port.
pub fn start_demo_with(port: u16, options: &[&str]) -> (Demo, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vscp-proxy"))
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .args(options)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let port = super::announced_port(&mut child);
    (Demo(child), port)
}

/// A logged-in line client of a demo server (raw TCP, no proxy).
pub struct Line {
    pub rd: tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
    pub wr: tokio::net::tcp::OwnedWriteHalf,
}

impl Line {
    pub async fn open(port: u16) -> Line {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (rd, wr) = tcp.into_split();
        let mut l = Line {
            rd: tokio::io::BufReader::new(rd),
            wr,
        };
        l.until_ok().await;
        for c in ["USER admin", "PASS secret"] {
            l.cmd(c).await;
        }
        l
    }

    pub async fn until_ok(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut s = String::new();
            assert!(self.rd.read_line(&mut s).await.unwrap() > 0, "closed");
            let s = s.trim_end().to_string();
            if s.starts_with("+OK") || s.starts_with("-OK") {
                assert!(s.starts_with("+OK"), "{s}");
                return lines;
            }
            lines.push(s);
        }
    }

    pub async fn cmd(&mut self, c: &str) -> Vec<String> {
        self.wr
            .write_all(format!("{c}\r\n").as_bytes())
            .await
            .unwrap();
        self.until_ok().await
    }

    /// Collects events (class 20, type 3, data `marker, hi, lo`) for `secs`, counting each.
    pub async fn count(
        &mut self,
        marker: u8,
        want: usize,
        secs: u64,
    ) -> std::collections::HashMap<u16, u32> {
        let mut seen = std::collections::HashMap::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while seen.len() < want {
            let mut s = String::new();
            match tokio::time::timeout_at(deadline, self.rd.read_line(&mut s)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => break,
            }
            let Ok(ev) = vscp_core::Event::read_received(s.trim_end()) else {
                continue;
            };
            if (ev.class, ev.kind) == (20, 3)
                && ev.data.first() == Some(&marker)
                && ev.data.len() == 3
            {
                *seen
                    .entry(u16::from_be_bytes([ev.data[1], ev.data[2]]))
                    .or_insert(0) += 1;
            }
        }
        seen
    }

    pub async fn send_many(&mut self, marker: u8, range: std::ops::Range<u16>) {
        for i in range {
            let [hi, lo] = i.to_be_bytes();
            self.cmd(&format!("SEND 0,20,3,,,,-,{marker},{hi},{lo}"))
                .await;
        }
    }
}

/// Waits until the bridge serving `/metrics` on `metrics` has each of `servers` logged in
/// (`vscp_bridge_up` 1), at most 20 s.
pub async fn bridge_up(metrics: u16, servers: &[&str]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        // the metrics listener may not be bound yet
        let text = match TcpStream::connect(("127.0.0.1", metrics)).await {
            Ok(_) => super::http_get(metrics, "/metrics").await,
            Err(e) => e.to_string(),
        };
        if servers
            .iter()
            .all(|s| text.contains(&format!("vscp_bridge_up{{server=\"{s}\"}} 1")))
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bridge sessions {servers:?} not up: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
