//! `/mqtt?target=NAME`: the console's MQTT session carried to an allow-listed broker's TCP
//! port (`--broker NAME=HOST:PORT`), for brokers without a websocket listener or not
//! reachable from the browser. Binary websocket messages (subprotocol `mqtt`) pass to the
//! broker unchanged and back; the MQTT session itself is the console's. The limits of link
//! sessions apply: connect and idle time-outs, the message size, and backpressure (nothing is
//! read from the broker while the browser has not taken the last message).

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vscp_api::CloseCode;

use crate::{
    bridge::{self, End, Refusal},
    config::Limits,
    metrics::Metrics,
    ws::{Incoming, WebSocket},
};

/// Bytes read from the broker at a time (one websocket message at most).
const READ_CHUNK: usize = 16 * 1024;

/// Carries MQTT bytes between the websocket and the broker until either side ends.
pub(crate) async fn relay(
    ws: &mut WebSocket,
    addr: &str,
    limits: &Limits,
    metrics: &Metrics,
) -> End {
    let (mut rd, mut wr) = bridge::connect(addr, limits, "broker").await?.into_split();
    let broker_error =
        |e: std::io::Error| Refusal::new(CloseCode::NodeError, format!("broker failed: {e}"));
    let mut buf = BytesMut::new();
    loop {
        buf.reserve(READ_CHUNK);
        tokio::select! {
            msg = ws.rx.recv() => match msg {
                None | Some(Ok(Incoming::Close)) => return Ok(()),
                Some(Err(e)) => return Err(bridge::bad_frame(e)),
                Some(Ok(Incoming::Binary(bytes))) => {
                    wr.write_all(&bytes).await.map_err(broker_error)?;
                    metrics.to_node(1);
                }
                Some(Ok(Incoming::Text(_))) => {
                    return Err(Refusal::new(CloseCode::UnsupportedData, "MQTT travels in binary messages"));
                }
                Some(Ok(Incoming::Ping(payload))) => {
                    if ws.tx.get_mut().pong(payload).await.is_err() {
                        return Ok(()); // browser gone
                    }
                }
                Some(Ok(Incoming::Pong)) => {}
            },
            n = rd.read_buf(&mut buf) => {
                let n = n.map_err(broker_error)?;
                if n == 0 {
                    return Err(Refusal::new(CloseCode::NodeClosed, "broker closed the connection"));
                }
                metrics.to_browser(1, n as u64);
                if ws.tx.get_mut().binary(buf.split().freeze()).await.is_err() {
                    return Ok(()); // browser gone
                }
            }
            _ = tokio::time::sleep(limits.idle) => {
                return Err(Refusal::new(
                    CloseCode::IdleTimeout,
                    format!("idle for {} s", limits.idle.as_secs()),
                ));
            }
        }
    }
}
