//! `/mqtt?target=NAME`: the console's MQTT session carried to an allow-listed broker's TCP
//! port (`--broker NAME=HOST:PORT`), for brokers without a websocket listener or not
//! reachable from the browser. Binary websocket messages (subprotocol `mqtt`) pass to the
//! broker unchanged and back; the MQTT session itself is the console's. The limits of link
//! sessions apply: connect and idle time-outs, the message size, and backpressure (nothing is
//! read from the broker while the browser has not taken the last message).

use axum::extract::ws::{Message, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vscp_api::CloseCode;

use crate::{
    bridge::{self, End, Refusal},
    config::Limits,
    metrics::Metrics,
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
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        tokio::select! {
            msg = ws.recv() => match msg {
                None | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Err(e)) => {
                    return Err(Refusal::new(CloseCode::BadFrame, format!("websocket error: {e}")));
                }
                Some(Ok(Message::Binary(bytes))) => {
                    wr.write_all(&bytes).await.map_err(broker_error)?;
                    metrics.to_node(1);
                }
                Some(Ok(Message::Text(_))) => {
                    return Err(Refusal::new(CloseCode::BadFrame, "MQTT travels in binary messages"));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            },
            n = rd.read(&mut buf) => {
                let n = n.map_err(broker_error)?;
                if n == 0 {
                    return Err(Refusal::new(CloseCode::NodeClosed, "broker closed the connection"));
                }
                metrics.to_browser(1, n as u64);
                if ws.send(Message::Binary(buf[..n].to_vec().into())).await.is_err() {
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
