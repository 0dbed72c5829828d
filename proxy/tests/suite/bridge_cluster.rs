//! Scale-out on a real clustered broker: three `nats-server` nodes (`NATS_SERVER`, else Debian's; JetStream and
//! their MQTT listeners, on loopback) and two sites, each bridged into a different node; a
//! subscriber on the third sees both sites' events, its commands reach each site, and killing
//! the node a bridge is connected to loses no QoS 1 event (the bridge fails over to the next
//! broker of its `hosts` list, keeping its session). Skipped, with a line saying so, where
//! `nats-server` is not installed (`./x test` installs it). Each node's log is left in the
//! test's temporary folder when the test fails.

use std::{
    sync::atomic::Ordering::Relaxed,
    time::{Duration, Instant},
};

use crate::common::{Line, NatsCluster, nats};
use rumqttc::QoS;
use vscp_proxy::{
    Shutdown,
    bridge::{BridgeConfig, Mode, MqttConfig, ServerConfig, run},
};

fn bridge(site: &str, server_port: u16, brokers: &[u16]) -> BridgeConfig {
    BridgeConfig {
        queue: 10_000,
        metrics: None,
        mqtt: Some(MqttConfig {
            host: String::new(),
            port: 1883,
            hosts: brokers.iter().map(|p| format!("127.0.0.1:{p}")).collect(),
            prefix: "vscp".into(),
            client_id: format!("bridge-{site}"),
            json: Default::default(),
        }),
        server: vec![ServerConfig {
            name: site.into(),
            address: format!("127.0.0.1:{server_port}"),
            user: Some("admin".into()),
            password: "secret".into(),
            mode: Mode::Stream,
            poll_ms: 100,
        }],
    }
}

/// Which node dies: the leader of the `$MQTT_msgs` stream (where nats-server keeps every QoS
/// 1 message), the node whose loss is hardest on the bridge — it lost events here until the
/// bridge kept its publishes in flight below rumqttc's packet ids (see docs/RELIABILITY.md).
/// With `CLUSTER_KILL=other` it is a node that leads neither that stream nor the cluster's
/// metadata.
fn victim(meta: Option<usize>, msgs: Option<usize>) -> usize {
    if std::env::var("CLUSTER_KILL").as_deref() != Ok("other") {
        return msgs.unwrap_or(0);
    }
    let free = |i: &usize| Some(*i) != msgs;
    (0..3)
        .filter(free)
        .find(|i| Some(*i) != meta)
        .or_else(|| (0..3).find(free))
        .unwrap_or(0)
}

/// Site a bridged into the node that will die, site b into the next, a QoS 1 subscriber
/// (persistent session) on the third, a QoS 0 subscriber on site b's node as a second
/// witness. The QoS 1 subscriber keeps its session through the loss: what the dead node held
/// of its acknowledgements is sent again after the cluster's `ack_wait` (2 s here).
#[tokio::test(flavor = "multi_thread")]
async fn two_sites_through_a_three_node_cluster_survive_the_loss_of_a_node() {
    if nats().is_none() {
        eprintln!(
            "nats-server is not installed (Debian package nats-server): cluster test skipped"
        );
        return;
    }
    // RUST_LOG=vscp_proxy=info shows the bridges' reconnections
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = std::env::temp_dir().join(format!("vscp-nats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bin = nats().unwrap_or_default();
    let version = std::process::Command::new(&bin).arg("--version").output();
    println!(
        "cluster files and logs: {}; {bin}: {}",
        dir.display(),
        version.map_or_else(
            |e| e.to_string(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_string()
        )
    );
    let mut cluster = NatsCluster::start(&dir);
    let mqtt = cluster.mqtt.clone();
    // the cluster elects its JetStream leaders before MQTT sessions can be kept
    crate::common::nats_ready(&mqtt).await;
    let (meta, msgs) = cluster.leaders("$MQTT_msgs").await;
    let (v, b, w) = {
        let v = victim(meta, msgs);
        (v, (v + 1) % 3, (v + 2) % 3)
    };
    println!("cluster: metadata leader {meta:?}, $MQTT_msgs leader {msgs:?}; n{v} will die");
    let (_a, pa) = crate::common::start_demo(0, "0");
    let (_b, pb) = crate::common::start_demo(0, "0");
    let shutdown = Shutdown::new();
    let bridge_a = tokio::spawn(run(
        bridge("site-a", pa, &[mqtt[v], mqtt[b], mqtt[w]]),
        shutdown.clone(),
    ));
    let bridge_b = tokio::spawn(run(
        bridge("site-b", pb, &[mqtt[b], mqtt[w], mqtt[v]]),
        shutdown.clone(),
    ));
    let (watcher, mut rx) = crate::common::mqtt_watcher(mqtt[w], "cluster-watcher");
    let (_plain, mut rx0) =
        crate::common::mqtt_watcher_at(mqtt[b], "plain-watcher", QoS::AtMostOnce);
    // a third witness below MQTT: a plain NATS subscriber on the third node sees what the
    // cluster routed at all, whatever its MQTT layer then delivers
    let mut core = crate::common::nats_witness(cluster.clients[w]).await;
    let (mut watch_a, mut watch_b) = (Line::open(pa).await, Line::open(pb).await);
    watch_a.cmd("RCVLOOP").await;
    watch_b.cmd("RCVLOOP").await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    // both sites' events reach a subscriber on the third node
    let (mut send_a, mut send_b) = (Line::open(pa).await, Line::open(pb).await);
    let t = Instant::now();
    send_a.send_many(81, 0..200).await;
    send_b.send_many(82, 0..200).await;
    let seen =
        crate::common::collect_marked(&mut rx, &[(81, 200), (82, 200)], Duration::from_secs(40))
            .await;
    let (seen_a, seen_b) = (seen[&81].clone(), seen[&82].clone());
    println!(
        "cluster: 400 events from two sites at the third node in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!((seen_a.len(), seen_b.len()), (200, 200));

    // commands from the third node reach each site
    for (site, n) in [("site-a", 1u8), ("site-b", 2)] {
        watcher
            .publish(
                format!("vscp/command/{site}"),
                QoS::AtLeastOnce,
                false,
                format!(r#"{{"class":20,"type":3,"data":[46,0,{n}]}}"#),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        watch_a.count(46, 1, 15).await.get(&1),
        Some(&1),
        "command to site a"
    );
    assert_eq!(
        watch_b.count(46, 1, 15).await.get(&2),
        Some(&1),
        "command to site b"
    );

    // the node bridge a is connected to dies while site a sends: no event is lost
    cluster.kill(v);
    send_a.send_many(83, 0..300).await;
    let after = crate::common::collect_marked(&mut rx, &[(83, 300)], Duration::from_secs(40))
        .await
        .remove(&83)
        .unwrap_or_default();
    shutdown.trigger();
    let counters = bridge_a.await.unwrap();
    let _ = bridge_b.await;
    let mqtt_a = &counters.iter().find(|(n, _)| n == "mqtt").unwrap().1;
    println!(
        "cluster: node n{v} killed: {} of 300 events delivered ({} duplicates), bridge a reconnected in {} ms (sent {}, acknowledged {}, dropped {}, reconnects {})",
        after.len(),
        after.values().map(|n| n - 1).sum::<u32>(),
        mqtt_a.last_reconnect_ms.load(Relaxed),
        mqtt_a.sent.load(Relaxed),
        mqtt_a.acked.load(Relaxed),
        mqtt_a.dropped.load(Relaxed),
        mqtt_a.reconnects.load(Relaxed)
    );
    let routed = crate::common::collect_marked(&mut core, &[(83, 300)], Duration::from_secs(5))
        .await
        .remove(&83)
        .unwrap_or_default();
    println!(
        "cluster: plain NATS subscriber on n{w}: {} of 300 routed by the cluster",
        routed.len()
    );
    let plain = crate::common::collect_marked(&mut rx0, &[(83, 300)], Duration::from_secs(5))
        .await
        .remove(&83)
        .unwrap_or_default();
    println!("cluster: QoS 0 subscriber on n{b}: {} of 300", plain.len());
    let missing: Vec<u64> = (0..300).filter(|n| !after.contains_key(n)).collect();
    assert!(
        missing.is_empty(),
        "lost after the node died: {} of 300, first {:?}",
        missing.len(),
        &missing[..missing.len().min(20)]
    );
    assert!(mqtt_a.reconnects.load(Relaxed) >= 1);
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
}
