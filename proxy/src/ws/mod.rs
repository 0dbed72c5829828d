//! The proxy's websocket server side (RFC 6455, no extensions): the handshake as an axum
//! extractor ([`Upgrade`]), then a [`Receiver`] of the browser's messages and a [`Sender`]
//! that writes each frame's header and payload with one vectored write — the payload is
//! never copied, so a read buffer from a node goes out as it is.

mod frame;
mod handshake;

use std::io::{self, IoSlice};

use bytes::{Bytes, BytesMut};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};

pub(crate) use frame::{Incoming, Violation};
pub(crate) use handshake::{Rejected, Upgrade};

use frame::{Decoder, Opcode};

/// The upgraded connection.
type Io = TokioIo<Upgraded>;

/// Bytes read from the browser per read call (messages may span reads).
const READ_CHUNK: usize = 8 * 1024;

/// Why a message could not be received.
#[derive(Debug)]
pub(crate) enum RecvError {
    /// The browser broke the protocol or a limit.
    Violation(Violation),
    Io(io::Error),
}

impl std::fmt::Display for RecvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecvError::Violation(v) => v.fmt(f),
            RecvError::Io(e) => e.fmt(f),
        }
    }
}

/// An upgraded websocket: its two halves, usable at the same time.
pub(crate) struct WebSocket {
    pub(crate) rx: Receiver,
    /// Behind a lock: replies to pings and data go out from different futures.
    pub(crate) tx: tokio::sync::Mutex<Sender>,
}

impl WebSocket {
    /// A websocket over `io`, taking messages of at most `max_message` bytes.
    pub(crate) fn new(io: Io, max_message: usize) -> WebSocket {
        let (rd, wr) = tokio::io::split(io);
        WebSocket {
            rx: Receiver {
                io: rd,
                buf: BytesMut::new(),
                decoder: Decoder::new(max_message),
            },
            tx: tokio::sync::Mutex::new(Sender {
                io: wr,
                pending: None,
            }),
        }
    }
}

/// The browser's messages, in order.
pub(crate) struct Receiver {
    io: ReadHalf<Io>,
    buf: BytesMut,
    decoder: Decoder,
}

impl Receiver {
    /// The next message, or `None` once the browser's side of the connection has ended.
    /// Cancel-safe: a message is never lost by dropping the future.
    pub(crate) async fn recv(&mut self) -> Option<Result<Incoming, RecvError>> {
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(message)) => return Some(Ok(message)),
                Ok(None) => {}
                Err(v) => return Some(Err(RecvError::Violation(v))),
            }
            if self.buf.capacity() == self.buf.len() {
                self.buf.reserve(READ_CHUNK);
            }
            match self.io.read_buf(&mut self.buf).await {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(RecvError::Io(e))),
            }
        }
    }
}

/// Frames to the browser. Each goes out whole and in order, even when a send is dropped
/// half-way: the rest of that frame goes first on the next send.
pub(crate) struct Sender {
    io: WriteHalf<Io>,
    pending: Option<Pending>,
}

/// A frame being written.
struct Pending {
    head: [u8; 10],
    head_len: usize,
    payload: Bytes,
    /// Bytes of head and payload written so far.
    done: usize,
}

impl Sender {
    /// Sends a text message; `text` must be UTF-8 (browsers fail the connection otherwise).
    pub(crate) async fn text(&mut self, text: Bytes) -> io::Result<()> {
        debug_assert!(std::str::from_utf8(&text).is_ok());
        self.send(Opcode::Text, text).await
    }

    /// Sends a binary message.
    pub(crate) async fn binary(&mut self, bytes: Bytes) -> io::Result<()> {
        self.send(Opcode::Binary, bytes).await
    }

    /// Sends a ping.
    pub(crate) async fn ping(&mut self) -> io::Result<()> {
        self.send(Opcode::Ping, Bytes::new()).await
    }

    /// Answers a ping with its payload.
    pub(crate) async fn pong(&mut self, payload: Bytes) -> io::Result<()> {
        self.send(Opcode::Pong, payload).await
    }

    /// Sends a close frame (with `code` and `reason`, at most 123 bytes, when given) and
    /// ends the proxy's side of the connection.
    pub(crate) async fn close(&mut self, code: Option<(u16, &str)>) -> io::Result<()> {
        let payload = match code {
            Some((code, reason)) => [&code.to_be_bytes()[..], reason.as_bytes()].concat(),
            None => Vec::new(),
        };
        self.send(Opcode::Close, payload.into()).await?;
        self.io.shutdown().await
    }

    async fn send(&mut self, opcode: Opcode, payload: Bytes) -> io::Result<()> {
        self.finish().await?;
        let (head, head_len) = frame::header(opcode, payload.len());
        self.pending = Some(Pending {
            head,
            head_len,
            payload,
            done: 0,
        });
        self.finish().await
    }

    /// Writes what is left of the pending frame.
    async fn finish(&mut self) -> io::Result<()> {
        while let Some(p) = &mut self.pending {
            let head = p
                .head
                .get(p.done.min(p.head_len)..p.head_len)
                .unwrap_or_default();
            let body = p
                .payload
                .get(p.done.saturating_sub(p.head_len)..)
                .unwrap_or_default();
            let n = self
                .io
                .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            p.done += n;
            if p.done >= p.head_len + p.payload.len() {
                self.pending = None;
            }
        }
        self.io.flush().await
    }
}
