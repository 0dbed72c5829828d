//! `/mqtt?target=NAME`: a browser's MQTT session carried to an allow-listed broker's TCP port
//! (Debian's mosquitto on loopback), with the `mqtt` subprotocol chosen in the handshake;
//! link targets and broker targets are not interchangeable, and text is refused.

use std::time::Duration;

use crate::common::{Broker, Proxy, close_of, free_port};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

/// MQTT 3.1.1 packets, written out: CONNECT (client id `t`, clean session), SUBSCRIBE `t`
/// at QoS 0, PUBLISH `hi` to `t` at QoS 0, and the broker's CONNACK and SUBACK.
const CONNECT: &[u8] = &[
    0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 1, b't',
];
const CONNACK: &[u8] = &[0x20, 2, 0, 0];
const SUBSCRIBE: &[u8] = &[0x82, 6, 0, 1, 0, 1, b't', 0];
const SUBACK: &[u8] = &[0x90, 3, 0, 1, 0];
const PUBLISH: &[u8] = &[0x30, 5, 0, 1, b't', b'h', b'i'];

async fn open(port: u16, target: &str) -> (crate::common::Ws, Option<String>) {
    let mut req = format!("ws://127.0.0.1:{port}/mqtt?target={target}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", "mqtt".parse().unwrap());
    let (ws, resp) = connect_async(req).await.unwrap();
    let protocol = resp
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (ws, protocol)
}

/// Reads binary messages until `want` bytes arrived (the broker may split or join packets).
async fn expect(ws: &mut crate::common::Ws, want: &[u8]) {
    let mut got = Vec::new();
    while got.len() < want.len() {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => got.extend_from_slice(&b),
            other => panic!("{other:?} after {got:?}"),
        }
    }
    assert_eq!(got, want);
}

#[tokio::test]
async fn a_browser_speaks_mqtt_to_an_allow_listed_broker_through_the_proxy() {
    let dir = std::env::temp_dir().join(format!("vscp-relay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mqtt = free_port();
    let _broker = Broker::start(&dir, mqtt);
    let proxy = Proxy::start(&["--demo", "--broker", &format!("mq=127.0.0.1:{mqtt}")]);

    let (mut ws, protocol) = open(proxy.port, "mq").await;
    assert_eq!(protocol.as_deref(), Some("mqtt"));
    ws.send(Message::Binary(CONNECT.to_vec().into()))
        .await
        .unwrap();
    expect(&mut ws, CONNACK).await;
    ws.send(Message::Binary(SUBSCRIBE.to_vec().into()))
        .await
        .unwrap();
    expect(&mut ws, SUBACK).await;
    ws.send(Message::Binary(PUBLISH.to_vec().into()))
        .await
        .unwrap();
    expect(&mut ws, PUBLISH).await;
    // text is not MQTT
    ws.send(Message::Text("SUBSCRIBE".into())).await.unwrap();
    assert_eq!(close_of(&mut ws).await.0, 1003);

    // a link target is not a broker, and a broker is not a link target
    let (mut ws, _) = open(proxy.port, "demo").await;
    assert_eq!(close_of(&mut ws).await.0, 4001);
    assert_eq!(
        crate::common::close_code(&proxy.url("target=mq")).await,
        4001
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `vscp_proxy_sessions_open` from the proxy's `/metrics`.
async fn sessions_open(port: u16) -> u64 {
    let text = crate::common::http_get(port, "/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix("vscp_proxy_sessions_open "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{text}"))
}

#[tokio::test]
async fn a_browser_that_stops_reading_does_not_hold_its_broker_session() {
    let dir = std::env::temp_dir().join(format!("vscp-relay-slow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mqtt = free_port();
    let _broker = Broker::start(&dir, mqtt);
    let proxy = Proxy::start(&[
        "--broker",
        &format!("mq=127.0.0.1:{mqtt}"),
        "--idle-timeout",
        "2",
        "--ping-interval",
        "1",
    ]);
    let (mut ws, _) = open(proxy.port, "mq").await;
    ws.send(Message::Binary(CONNECT.to_vec().into()))
        .await
        .unwrap();
    expect(&mut ws, CONNACK).await;
    ws.send(Message::Binary(SUBSCRIBE.to_vec().into()))
        .await
        .unwrap();
    expect(&mut ws, SUBACK).await;
    assert_eq!(sessions_open(proxy.port).await, 1);
    // the broker floods topic t; the browser reads nothing from now on
    let mut opts = rumqttc::MqttOptions::new("flood", "127.0.0.1", mqtt);
    opts.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(opts, 64);
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let flood = tokio::spawn(async move {
        for _ in 0..400 {
            if client
                .publish("t", rumqttc::QoS::AtMostOnce, false, vec![b'x'; 60_000])
                .await
                .is_err()
            {
                break;
            }
        }
    });
    // neither pongs nor reads: the session ends (no pong, or idle) and frees the broker
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sessions_open(proxy.port).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the session is still held"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    flood.abort();
    drop(ws);
    let _ = std::fs::remove_dir_all(&dir);
}
