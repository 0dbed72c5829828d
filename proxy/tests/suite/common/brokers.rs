//! MQTT brokers on loopback: Debian's mosquitto, a three-node nats-server cluster, and
//! subscribers that collect what they publish.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::*;

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
