//! `/mqtt?target=NAME`: the console's MQTT session carried to an allow-listed broker's TCP
//! port (`--broker NAME=HOST:PORT`), for brokers without a websocket listener or not
//! reachable from the browser. Binary websocket messages (subprotocol `mqtt`) pass to the
//! broker unchanged and back; the MQTT session itself is the console's. The limits of link
//! sessions apply: connect and idle time-outs, the message size, and backpressure (nothing is
//! read from the broker while the browser has not taken the last message).

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vscp_api::CloseCode;

use super::{End, Limits, Refusal, liveness::Liveness};
use crate::{
    metrics::Metrics,
    ws::{Incoming, WebSocket},
};

/// Bytes read from the broker at a time (one websocket message at most).
const READ_CHUNK: usize = 16 * 1024;

/// Carries MQTT bytes between the websocket and the broker until either side ends, with the
/// pings, idle time-out and slow-reader rule of link sessions: a browser that stops reading
/// stops the reads from the broker, and its session ends at the idle time-out.
pub(crate) async fn relay(
    ws: &mut WebSocket,
    addr: &str,
    limits: &Limits,
    metrics: &Metrics,
) -> End {
    let (mut rd, mut wr) = super::connect(addr, limits, "broker").await?.into_split();
    let broker_error =
        |e: std::io::Error| Refusal::new(CloseCode::NodeError, format!("broker failed: {e}"));
    let WebSocket { rx, tx } = ws;
    let tx = &*tx;
    let live = Liveness::new(limits.idle, limits.ping);

    let up = async {
        loop {
            match rx.recv().await {
                None | Some(Ok(Incoming::Close)) => return Ok(()),
                Some(Err(e)) => return Err(super::bad_frame(e)),
                Some(Ok(Incoming::Binary(bytes))) => {
                    live.touch();
                    wr.write_all(&bytes).await.map_err(broker_error)?;
                    metrics.to_node(1);
                }
                Some(Ok(Incoming::Text(_))) => {
                    return Err(Refusal::new(
                        CloseCode::UnsupportedData,
                        "MQTT travels in binary messages",
                    ));
                }
                Some(Ok(Incoming::Ping(payload))) => {
                    if tx.lock().await.pong(payload).await.is_err() {
                        return Ok(()); // browser gone
                    }
                }
                Some(Ok(Incoming::Pong)) => live.pong(),
            }
        }
    };

    let down = async {
        let mut buf = BytesMut::new();
        let mut ping = live.pinger();
        loop {
            buf.reserve(READ_CHUNK);
            tokio::select! {
                n = rd.read_buf(&mut buf) => {
                    let n = n.map_err(broker_error)?;
                    if n == 0 {
                        return Err(Refusal::new(CloseCode::NodeClosed, "broker closed the connection"));
                    }
                    live.touch();
                    metrics.to_browser(1, n as u64);
                    // awaited: a browser that does not read stops the reads from the broker
                    if tx.lock().await.binary(buf.split().freeze()).await.is_err() {
                        return Ok(()); // browser gone
                    }
                }
                due = live.next_ping(&mut ping) => {
                    due?;
                    if tx.lock().await.ping().await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    };

    tokio::select! {
        e = up => e,
        e = down => e,
        e = live.expired() => Err(e),
    }
}
