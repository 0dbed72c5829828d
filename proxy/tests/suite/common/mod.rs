//! What the proxy's socket tests share: starting the proxy (in-process or as the binary),
//! websocket helpers, a vscp-core client over the websocket, and a stand-in node.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, protocol::CloseFrame},
};
use vscp_core::{ClientConfig, Command as Cmd, Event, Millis, ReceiveMode, SessionEvent};
use vscp_proxy::link_client::{LinkClient, Wire};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A running proxy: in-process on its own runtime thread (`start`), or as the binary a
/// user runs (`process`: signals, memory). Stopped on drop.
pub struct Proxy {
    pub port: u16,
    pub run: Run,
}

pub enum Run {
    InProcess(vscp_proxy::Shutdown, Option<std::thread::JoinHandle<()>>),
    Process(Child),
}

impl Proxy {
    /// In-process on port 0, with its own two-thread runtime (the test's runtime stays apart).
    pub fn start(args: &[&str]) -> Proxy {
        use clap::Parser;
        let mut all = vec!["vscp-proxy", "--listen", "127.0.0.1:0"];
        if !args.contains(&"--static") {
            all.extend(["--static", "/nonexistent"]);
        }
        all.extend(args);
        let args = vscp_proxy::Args::try_parse_from(all).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let shutdown = vscp_proxy::Shutdown::new();
                let server = vscp_proxy::Server::bind(&args, &shutdown).await.unwrap();
                tx.send((server.local_addr().unwrap().port(), shutdown.clone()))
                    .unwrap();
                server.run().await.unwrap();
            });
        });
        let (port, shutdown) = rx.recv().unwrap();
        Proxy {
            port,
            run: Run::InProcess(shutdown, Some(thread)),
        }
    }

    /// The binary, as a user starts it.
    pub fn process(args: &[&str]) -> Proxy {
        Proxy::process_with(args, Stdio::null(), "")
    }

    /// The binary with its log (stderr) going to `log`, under the shell `prelude`
    /// (e.g. `ulimit -n 300;`).
    pub fn process_with(args: &[&str], log: impl Into<Stdio>, prelude: &str) -> Proxy {
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(format!("{prelude} exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_vscp-proxy"))
            .args(["--listen", "127.0.0.1:0"])
            .args(if args.contains(&"--static") {
                &[][..]
            } else {
                &["--static", "/nonexistent"][..]
            })
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse().ok());
        Proxy {
            port: port.unwrap_or_else(|| panic!("no port in {line:?}")),
            run: Run::Process(child),
        }
    }

    pub fn url(&self, query: &str) -> String {
        format!("ws://127.0.0.1:{}/ws?{query}", self.port)
    }

    pub fn pid(&self) -> u32 {
        match &self.run {
            Run::Process(child) => child.id(),
            Run::InProcess(..) => panic!("a process-level test needs Proxy::process"),
        }
    }

    pub fn rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        s.lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        match &mut self.run {
            Run::InProcess(shutdown, thread) => {
                shutdown.trigger();
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
            Run::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

pub async fn connect(url: &str) -> Ws {
    connect_async(url).await.unwrap().0
}

/// Reads messages until the websocket closes; returns the close code and reason.
pub async fn close_of(ws: &mut Ws) -> (u16, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("close in time")
        {
            Some(Ok(Message::Close(Some(CloseFrame { code, reason })))) => {
                return (code.into(), reason.to_string());
            }
            Some(Ok(Message::Close(None))) | None => return (1005, String::new()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return (1006, e.to_string()),
        }
    }
}

/// The close code a fresh websocket to `url` ends with.
pub async fn close_code(url: &str) -> u16 {
    close_of(&mut connect(url).await).await.0
}

/// Does the status line that ends the next reply say `+OK`?
pub async fn answers_ok(ws: &mut Ws) -> bool {
    until_status(ws)
        .await
        .last()
        .is_some_and(|l| l.starts_with("+OK"))
}

/// Reads lines until one starts with `+OK`/`-OK`; returns all lines read.
pub async fn until_status(ws: &mut Ws) -> Vec<String> {
    until_statuses(ws, 1).await
}

/// Reads lines until `n` status lines were seen (replies may share one message).
pub async fn until_statuses(ws: &mut Ws, mut n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("reply in time")
            .unwrap()
            .unwrap();
        let Message::Text(t) = msg else {
            panic!("unexpected {msg:?}")
        };
        assert!(t.ends_with('\n'), "a message holds complete lines: {t:?}");
        for l in t.lines() {
            lines.push(l.to_string());
            if l.starts_with("+OK") || l.starts_with("-OK") {
                n -= 1;
                if n == 0 {
                    return lines;
                }
            }
        }
    }
}

pub async fn login(ws: &mut Ws) {
    until_status(ws).await; // greeting
    ws.send(Message::text("USER admin\nPASS secret"))
        .await
        .unwrap(); // two lines, one message
    let replies = until_statuses(ws, 2).await;
    assert_eq!(
        replies,
        [
            "+OK - User name accepted, password please",
            "+OK - Ready to work."
        ]
    );
}

/// The proxy's websocket as a link client's wire: the session's lines go out in one text
/// message (separated by `\n`), each text message's lines come in.
pub struct WsWire {
    pub ws: Ws,
    last: Vec<u8>,
}

impl WsWire {
    pub fn new(ws: Ws) -> WsWire {
        WsWire {
            ws,
            last: Vec::new(),
        }
    }
}

impl Wire for WsWire {
    async fn send(&mut self, lines: &str) -> std::io::Result<()> {
        let text: Vec<&str> = lines.lines().map(str::trim_end).collect();
        self.ws
            .send(Message::text(text.join("\n")))
            .await
            .map_err(std::io::Error::other)
    }

    async fn recv(&mut self) -> std::io::Result<&[u8]> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    self.last.clear();
                    self.last.extend_from_slice(t.as_bytes());
                    if !self.last.ends_with(b"\n") {
                        self.last.push(b'\n');
                    }
                    return Ok(&self.last);
                }
                Some(Ok(Message::Close(_))) | None => return Ok(&[]),
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                Some(Ok(_)) => {}
            }
        }
    }
}

/// A vscp-core client session over the proxy's websocket (logged in as the demo's admin),
/// keeping every event.
pub struct WsClient {
    pub client: LinkClient<WsWire>,
    pub events: Vec<SessionEvent>,
}

impl WsClient {
    pub async fn open(url: &str, receive: ReceiveMode) -> WsClient {
        let ws = connect(url).await;
        let config = ClientConfig {
            credentials: Some(("admin".into(), "secret".into())),
            receive,
            ..ClientConfig::default()
        };
        WsClient {
            client: LinkClient::new(WsWire::new(ws), config),
            events: Vec::new(),
        }
    }

    /// A client in the receive loop: opened, logged in, streaming.
    pub async fn streaming(url: &str) -> WsClient {
        let mut c = WsClient::open(url, ReceiveMode::Stream).await;
        c.pump_until(|evs| {
            evs.iter()
                .any(|e| matches!(e, SessionEvent::State(vscp_core::State::Streaming)))
        })
        .await;
        c
    }

    pub fn now(&self) -> Millis {
        self.client.now()
    }

    /// Pumps until `done` says so (or panics after 20 s).
    pub async fn pump_until(&mut self, mut done: impl FnMut(&[SessionEvent]) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let events = self.client.flush().await;
            self.events.extend(events);
            if done(&self.events) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out; events: {:?}",
                self.events.last()
            );
            self.client.input(Some(deadline)).await;
        }
    }

    pub async fn run(&mut self, cmd: &str) -> vscp_core::Reply {
        let now = self.now();
        let id = self
            .client
            .session
            .send(Cmd::parse_lenient(cmd).unwrap(), now)
            .unwrap();
        self.pump_until(|evs| {
            evs.iter()
                .any(|e| matches!(e, SessionEvent::Reply { id: i, .. } if *i == id))
        })
        .await;
        let pos = self
            .events
            .iter()
            .position(|e| matches!(e, SessionEvent::Reply { id: i, .. } if *i == id))
            .unwrap();
        match self.events.remove(pos) {
            SessionEvent::Reply { reply: Ok(r), .. } => r,
            other => panic!("{cmd}: {other:?}"),
        }
    }

    pub fn received(&self) -> Vec<&Event> {
        self.events
            .iter()
            .filter_map(|e| {
                if let SessionEvent::Received(ev) = e {
                    Some(ev)
                } else {
                    None
                }
            })
            .collect()
    }
}

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
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let port = line
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (Demo(child), port)
}

/// A logged-in line client of a demo server (raw TCP, no proxy).
use tokio::io::AsyncBufReadExt;

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

/// mosquitto with a config in `dir` (persistence there); killed on drop.
pub struct Broker(pub Child);

impl Broker {
    pub fn start(dir: &std::path::Path, port: u16) -> Broker {
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n",
                dir.display()
            ),
        )
        .unwrap();
        let broker = Broker(
            Command::new("mosquitto")
                .arg("-c")
                .arg(&conf)
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("mosquitto (Debian package mosquitto) must be installed"),
        );
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return broker;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("mosquitto did not start");
    }

    /// SIGTERM: mosquitto saves its sessions and exits.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// CPU seconds (user + system) a process has used, from `/proc/PID/stat` (0 if unreadable).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// One cluster node; killed on drop.
pub struct Node(pub Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `nats-server` binary: `NATS_SERVER` when set (`./x` sets it to the current server it
/// installs), else Debian's, where installed.
pub fn nats() -> Option<String> {
    std::env::var("NATS_SERVER")
        .ok()
        .into_iter()
        .chain([
            "/usr/sbin/nats-server".into(),
            "/usr/bin/nats-server".into(),
        ])
        .find(|p| std::path::Path::new(p).exists())
}

/// A three-node `nats-server` cluster with JetStream and MQTT listeners on loopback (its
/// files and each node's log in a folder): its nodes `n0`–`n2` (killed on drop), their MQTT
/// and monitoring ports. A QoS 1 message a subscriber has not acknowledged goes again after
/// 2 s (30 s by default): when a node dies, the acknowledgements on their way through it are
/// lost with it.
pub struct NatsCluster {
    pub nodes: Vec<Option<Node>>,
    pub mqtt: Vec<u16>,
    pub monitor: Vec<u16>,
    /// Each node's port for NATS clients (the core protocol).
    pub clients: Vec<u16>,
}

impl NatsCluster {
    pub fn start(dir: &std::path::Path) -> NatsCluster {
        let bin =
            nats().expect("nats-server (NATS_SERVER, or the Debian package) must be installed");
        // twelve distinct ports (three for each node's clients, routes, MQTT and monitoring):
        // all held until each is known, since a port given back can be handed out again
        let held: Vec<std::net::TcpListener> = (0..12)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let all: Vec<u16> = held
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        drop(held);
        let (clients, routes, mqtt, monitor) = (
            all[0..3].to_vec(),
            all[3..6].to_vec(),
            all[6..9].to_vec(),
            all[9..12].to_vec(),
        );
        let route_list = routes
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(", ");
        let nodes = (0..3)
            .map(|i| {
                let conf = dir.join(format!("n{i}.conf"));
                std::fs::write(
                    &conf,
                    format!(
                        "server_name: n{i}\nlisten: 127.0.0.1:{}\nhttp: 127.0.0.1:{}\n\
                         jetstream {{ store_dir: \"{}\" }}\n\
                         cluster {{ name: vscp, listen: 127.0.0.1:{}, routes: [{route_list}] }}\n\
                         mqtt {{ listen: 127.0.0.1:{}, ack_wait: \"2s\" }}\n",
                        clients[i],
                        monitor[i],
                        dir.join(format!("js{i}")).display(),
                        routes[i],
                        mqtt[i]
                    ),
                )
                .unwrap();
                let child = Command::new(&bin)
                    .arg("-c")
                    .arg(&conf)
                    .arg("--log")
                    .arg(dir.join(format!("n{i}.log")))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                Some(Node(child))
            })
            .collect();
        NatsCluster {
            nodes,
            mqtt,
            monitor,
            clients,
        }
    }

    /// The node that leads the cluster's metadata and the one that leads `stream` (e.g.
    /// `$MQTT_msgs`, where nats-server keeps every QoS 1 message), as a running node's
    /// monitoring endpoint (`/jsz`) sees them.
    pub async fn leaders(&self, stream: &str) -> (Option<usize>, Option<usize>) {
        let Some(i) = self.nodes.iter().position(Option::is_some) else {
            return (None, None);
        };
        // HTTP/1.0: the whole body as it is, never chunked
        let request = "GET /jsz?accounts=true&streams=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        let text = http(self.monitor[i], request).await;
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let jsz: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let index = |name: &serde_json::Value| {
            name.as_str()
                .and_then(|n| n.strip_prefix('n'))
                .and_then(|n| n.parse().ok())
        };
        let meta = index(&jsz["meta_cluster"]["leader"]);
        let streams = jsz["account_details"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|a| a["stream_detail"].as_array().into_iter().flatten());
        let lead = streams
            .filter(|s| s["name"] == stream)
            .find_map(|s| index(&s["cluster"]["leader"]));
        (meta, lead)
    }

    /// Kills node `i` (at once, as a crash would).
    pub fn kill(&mut self, i: usize) {
        self.nodes[i] = None;
    }
}

/// Waits until each node of a cluster takes a persistent MQTT session (its JetStream is up:
/// the cluster elects its leaders first), at most 90 s a node.
pub async fn nats_ready(mqtt_ports: &[u16]) {
    use rumqttc::{AsyncClient, ConnectReturnCode, Event as Mqtt, MqttOptions, Packet};
    for &port in mqtt_ports {
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        loop {
            let mut opts = MqttOptions::new(format!("probe-{port}"), "127.0.0.1", port);
            opts.set_clean_session(false);
            let (_client, mut eventloop) = AsyncClient::new(opts, 8);
            let acked = tokio::time::timeout(Duration::from_secs(5), async {
                loop {
                    match eventloop.poll().await {
                        Ok(Mqtt::Incoming(Packet::ConnAck(a))) => {
                            return a.code == ConnectReturnCode::Success;
                        }
                        Ok(_) => {}
                        Err(_) => return false,
                    }
                }
            })
            .await;
            if acked == Ok(true) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "cluster node {port} never took a session"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

/// One HTTP/1.1 request on a fresh loopback connection; the whole response as text.
pub async fn http(port: u16, request: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut resp)).await;
    String::from_utf8_lossy(&resp).into_owned()
}

/// The text of a `GET path` request with this Host header (the connection closes after it).
pub fn get(path: &str, host: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

/// `GET path` from 127.0.0.1:`port`; the whole response as text.
pub async fn http_get(port: u16, path: &str) -> String {
    http(port, &get(path, "127.0.0.1")).await
}

pub fn tempfile(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vscp-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A websocket frame sent as raw bytes after a handshake by hand (masked, as a client must).
pub async fn raw_ws(port: u16) -> TcpStream {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!(
        "GET /ws?target=demo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    // the response head byte by byte: the first frame (a node's greeting) may follow in the
    // same segment and must stay unread
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") && head.len() < 4096 {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

pub fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n < 65_536 => {
            f.push(0x80 | 126);
            f.extend((n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend((n as u64).to_be_bytes());
        }
    }
    let key = [1u8, 2, 3, 4];
    f.extend(key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// The server's frames (opcode, payload) on a raw connection, read until `enough` holds, the
/// connection ends or 10 s have passed.
pub async fn raw_frames(
    tcp: &mut TcpStream,
    enough: impl Fn(&[(u8, Vec<u8>)]) -> bool,
) -> Vec<(u8, Vec<u8>)> {
    let (mut all, mut frames) = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while !enough(&frames) {
        let Ok(Ok(n)) = tokio::time::timeout_at(until, tcp.read(&mut buf)).await else {
            break;
        };
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
        // take the complete (unmasked) frames off the front
        while all.len() >= 2 {
            let (op, len7) = (all[0] & 0x0F, (all[1] & 0x7F) as usize);
            let (len, head) = match len7 {
                126 if all.len() >= 4 => (u16::from_be_bytes([all[2], all[3]]) as usize, 4),
                127 if all.len() >= 10 => (
                    u64::from_be_bytes(all[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                126 | 127 => break,
                n => (n, 2),
            };
            if all.len() < head + len {
                break;
            }
            frames.push((op, all[head..head + len].to_vec()));
            all.drain(..head + len);
        }
    }
    frames
}

/// The close code in the first close frame the server sends (skipping other frames).
pub async fn raw_close_code(tcp: &mut TcpStream) -> Option<u16> {
    let is_close = |(op, _): &(u8, Vec<u8>)| *op == 8;
    let frames = raw_frames(tcp, |f| f.iter().any(is_close)).await;
    let (_, payload) = frames.into_iter().find(is_close)?;
    Some(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]))
}

/// A QoS 1 subscriber of `vscp/#` at the broker on `port` (persistent session `id`, packets
/// up to 4 MiB so that it sees large commands too); (topic, JSON) of each publish.
pub fn mqtt_watcher(
    port: u16,
    id: &str,
) -> (
    rumqttc::AsyncClient,
    tokio::sync::mpsc::UnboundedReceiver<(String, serde_json::Value)>,
) {
    mqtt_watcher_at(port, id, rumqttc::QoS::AtLeastOnce)
}

/// A subscriber of `vscp/#` at `qos`: at QoS 1 with a persistent session, at QoS 0 with a
/// clean one (nats-server then delivers without JetStream).
pub fn mqtt_watcher_at(
    port: u16,
    id: &str,
    qos: rumqttc::QoS,
) -> (
    rumqttc::AsyncClient,
    tokio::sync::mpsc::UnboundedReceiver<(String, serde_json::Value)>,
) {
    use rumqttc::{AsyncClient, Event as Mqtt, MqttOptions, Packet, QoS};
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    opts.set_clean_session(qos == QoS::AtMostOnce)
        .set_keep_alive(Duration::from_secs(5))
        .set_max_packet_size(4 << 20, 4 << 20);
    let (client, mut eventloop) = AsyncClient::new(opts, 64);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let sub = client.clone();
    let who = id.to_string();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                // a resumed session keeps its subscription; subscribing again would make
                // nats-server start the subscription afresh, past what waited for it
                Ok(Mqtt::Incoming(Packet::ConnAck(ack))) if ack.session_present => {
                    eprintln!("mqtt watcher {who}: session resumed");
                }
                Ok(Mqtt::Incoming(Packet::ConnAck(_))) => {
                    let _ = sub.try_subscribe("vscp/#", qos);
                }
                Ok(Mqtt::Incoming(Packet::Publish(p))) => {
                    if let Ok(v) = serde_json::from_slice(&p.payload) {
                        let _ = tx.send((p.topic.clone(), v));
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("mqtt watcher {who}: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    (client, rx)
}

/// CLASS1.INFORMATION ON events with data `marker, hi, lo` from a watcher, counted by marker
/// and number, until each marker of `want` has its count of distinct numbers (or `limit`
/// passed); every one was published at `{prefix}/…/20/3/…` (command topics are skipped).
/// A plain NATS subscriber (the core protocol, no MQTT, no JetStream) to every subject under
/// `vscp.` on the node at `port`: each message the broker routed, as (MQTT topic, JSON), in
/// the shape `collect_marked` reads. A witness of what reached the broker's routing.
pub async fn nats_witness(
    port: u16,
) -> tokio::sync::mpsc::UnboundedReceiver<(String, serde_json::Value)> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (rd, mut wr) = tcp.into_split();
    wr.write_all(b"CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false}\r\nSUB vscp.> 1\r\nPING\r\n")
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut rd = tokio::io::BufReader::new(rd);
        let mut line = String::new();
        loop {
            line.clear();
            if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                ["PING"] => {
                    let _ = wr.write_all(b"PONG\r\n").await;
                }
                ["MSG", subject, _sid, .., size] => {
                    let mut payload = vec![0; size.parse::<usize>().unwrap_or(0) + 2];
                    if rd.read_exact(&mut payload).await.is_err() {
                        return;
                    }
                    payload.truncate(payload.len() - 2);
                    let json = serde_json::from_slice(&payload).unwrap_or_default();
                    let _ = tx.send((subject.replace('.', "/"), json));
                }
                _ => {}
            }
        }
    });
    rx
}

pub async fn collect_marked(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, serde_json::Value)>,
    want: &[(u64, usize)],
    limit: Duration,
) -> std::collections::HashMap<u64, std::collections::HashMap<u64, u32>> {
    use std::collections::HashMap;
    let mut seen: HashMap<u64, HashMap<u64, u32>> = HashMap::new();
    let deadline = tokio::time::Instant::now() + limit;
    let done = |seen: &HashMap<u64, HashMap<u64, u32>>| {
        want.iter()
            .all(|(m, n)| seen.get(m).map_or(0, HashMap::len) >= *n)
    };
    while !done(&seen) {
        let Ok(Some((topic, v))) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            break;
        };
        if topic.contains("/command/") || topic.contains("/servers/") {
            continue; // what the tests publish, and the bridges' server lists
        }
        // the bridge publishes the 2026 keys by default
        let data: Vec<u64> = v["data"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_u64()).collect())
            .unwrap_or_default();
        if v["class"] == 20 && v["type"] == 3 && data.len() == 3 {
            assert!(topic.contains("/20/3/"), "{topic}");
            *seen
                .entry(data[0])
                .or_default()
                .entry(data[1] * 256 + data[2])
                .or_insert(0) += 1;
        }
    }
    seen
}
