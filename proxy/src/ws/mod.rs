//! The proxy's websocket server side: the opening handshake checked as an axum extractor
//! ([`Upgrade`]), then tokio-tungstenite's RFC 6455 protocol over the upgraded connection,
//! split into a [`Receiver`] of the browser's messages and a [`Sender`] (payloads are
//! `Bytes`: a node's read buffer goes out as it is).

mod budget;
mod handshake;

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use futures_util::{
    SinkExt, StreamExt,
    stream::{SplitSink, SplitStream},
};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        self, Message,
        protocol::{
            CloseFrame, Role, WebSocketConfig,
            frame::{
                Frame,
                coding::{CloseCode as Rfc, Data, OpCode},
            },
        },
    },
};
use vscp_api::CloseCode;

pub(crate) use budget::Budget;
pub(crate) use handshake::{Rejected, Upgrade};

use budget::{Metered, OverBudget, Share};

/// The upgraded connection.
type Io = TokioIo<Upgraded>;
type Stream = WebSocketStream<Metered<Io>>;

/// Bytes tungstenite reads from the browser at a time (it zero-fills its read chunk: the
/// 128 KiB default would cost that much memory per session).
const READ_CHUNK: usize = 8 * 1024;

/// A message from the browser.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A text message (UTF-8, checked).
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping (answered by the session).
    Ping(Bytes),
    /// A pong.
    Pong,
    /// The browser's close frame.
    Close,
}

/// Why a message could not be received: the browser broke the protocol or a limit, or the
/// connection failed.
#[derive(Debug)]
pub(crate) struct RecvError(tungstenite::Error);

impl RecvError {
    /// The RFC 6455 close code that says why: 1007 for text that is not UTF-8, 1009 for a
    /// message over the limit, 1013 when the proxy's message budget is used up, 1002 for any
    /// other protocol error.
    pub(crate) fn close_code(&self) -> CloseCode {
        match &self.0 {
            tungstenite::Error::Utf8(_) => CloseCode::InvalidText,
            tungstenite::Error::Capacity(_) => CloseCode::TooBig,
            tungstenite::Error::Io(e) if e.get_ref().is_some_and(|e| e.is::<OverBudget>()) => {
                CloseCode::Busy
            }
            _ => CloseCode::ProtocolError,
        }
    }
}

impl std::fmt::Display for RecvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An upgraded websocket: its two halves, usable at the same time.
pub(crate) struct WebSocket {
    pub(crate) rx: Receiver,
    /// Behind a lock: replies to pings and data go out from different futures.
    pub(crate) tx: tokio::sync::Mutex<Sender>,
}

impl WebSocket {
    /// A websocket over `io`, taking messages of at most `max_message` bytes, what it holds
    /// of unfinished messages charged to `budget`.
    pub(crate) async fn new(io: Io, max_message: usize, budget: Arc<Budget>) -> WebSocket {
        let share = Share::new(budget);
        let io = Metered::new(io, share.clone());
        let config = WebSocketConfig::default()
            .max_message_size(Some(max_message))
            .max_frame_size(Some(max_message))
            .read_buffer_size(READ_CHUNK)
            // each send is written at once (the session awaits it: backpressure)
            .write_buffer_size(0);
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        let (tx, rx) = ws.split();
        WebSocket {
            rx: Receiver(rx, share),
            tx: tokio::sync::Mutex::new(Sender(tx)),
        }
    }

    /// Closes with `code` and `reason` (a normal close when `None`), then reads what the
    /// browser still sends until its close frame comes back or `wait` passes, so that the
    /// connection ends cleanly instead of with a reset.
    pub(crate) async fn close(self, code: Option<(u16, &str)>, wait: Duration) {
        let WebSocket { mut rx, tx } = self;
        let mut tx = tx.into_inner();
        let drain = async {
            let frame = CloseFrame {
                code: Rfc::from(code.map_or(1000, |c| c.0)),
                reason: code.map_or("", |c| c.1).into(),
            };
            if tx.0.send(Message::Close(Some(frame))).await.is_err() {
                return;
            }
            while let Some(Ok(m)) = rx.0.next().await {
                if m.is_close() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(wait, drain).await;
        let _ = tokio::time::timeout(Duration::from_millis(100), tx.0.close()).await;
    }
}

/// The browser's messages, in order.
pub(crate) struct Receiver(SplitStream<Stream>, Share);

impl Receiver {
    /// The next message, or `None` once the browser's side of the connection has ended.
    /// Cancel-safe: a message is never lost by dropping the future.
    pub(crate) async fn recv(&mut self) -> Option<Result<Incoming, RecvError>> {
        loop {
            let Some(next) = self.0.next().await else {
                self.1.release(); // the browser is gone: nothing it sent is kept any more
                return None;
            };
            // a whole message, or an error that ends the session: what was held goes back
            self.1.release();
            return Some(Ok(match next {
                Ok(Message::Text(t)) => Incoming::Text(Bytes::from(t)),
                Ok(Message::Binary(b)) => Incoming::Binary(b),
                Ok(Message::Ping(p)) => Incoming::Ping(p),
                Ok(Message::Pong(_)) => Incoming::Pong,
                Ok(Message::Close(_)) => Incoming::Close,
                Ok(Message::Frame(_)) => continue,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    return None;
                }
                Err(e) => return Some(Err(RecvError(e))),
            }));
        }
    }
}

/// Messages to the browser, each sent whole and in order.
pub(crate) struct Sender(SplitSink<Stream, Message>);

impl Sender {
    /// Sends a text message. `text` must be UTF-8, which the caller has checked (browsers
    /// fail the connection otherwise): the node's lines are scanned once, when they are split,
    /// and go out as one raw text frame, without a second pass.
    pub(crate) async fn text(&mut self, text: Bytes) -> Result<(), tungstenite::Error> {
        debug_assert!(std::str::from_utf8(&text).is_ok());
        let frame = Frame::message(text, OpCode::Data(Data::Text), true);
        self.0.send(Message::Frame(frame)).await
    }

    /// Sends a binary message.
    pub(crate) async fn binary(&mut self, bytes: Bytes) -> Result<(), tungstenite::Error> {
        self.0.send(Message::Binary(bytes)).await
    }

    /// Sends a ping.
    pub(crate) async fn ping(&mut self) -> Result<(), tungstenite::Error> {
        self.0.send(Message::Ping(Bytes::new())).await
    }

    /// Answers a ping with its payload.
    pub(crate) async fn pong(&mut self, payload: Bytes) -> Result<(), tungstenite::Error> {
        self.0.send(Message::Pong(payload)).await
    }
}

/// Sends every message back until the peer closes (the `/echo` route); a protocol error
/// closes with its RFC 6455 code.
pub(crate) async fn echo(ws: WebSocket, close_time: Duration) {
    let WebSocket { mut rx, tx } = ws;
    let end = {
        let mut tx = tx.lock().await;
        loop {
            let sent = match rx.recv().await {
                None | Some(Ok(Incoming::Close)) => break None,
                Some(Err(e)) => break Some((e.close_code().code(), e.to_string())),
                Some(Ok(Incoming::Text(t))) => tx.text(t).await,
                Some(Ok(Incoming::Binary(b))) => tx.binary(b).await,
                Some(Ok(Incoming::Ping(p))) => tx.pong(p).await,
                Some(Ok(Incoming::Pong)) => Ok(()),
            };
            if sent.is_err() {
                return;
            }
        }
    };
    let ws = WebSocket { rx, tx };
    let reason = end.as_ref().map(|(c, r)| (*c, r.get(..100).unwrap_or(r)));
    ws.close(reason, close_time).await;
}
