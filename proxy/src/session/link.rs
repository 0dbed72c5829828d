//! One websocket ↔ one TCP connection to a node, line by line.
//!
//! Browser → node: each text message holds one or more lines separated by `\n`; each is
//! checked against the line limit and written with CRLF, flushed once no further message
//! is ready. Node → browser: all complete lines of one read go out as one message, as the
//! node sent them (each ending in its CR LF; nothing is copied: the read buffer becomes the
//! message's payload, written after its frame header), after a check of their lengths.
//! Sending awaits the websocket, so a slow browser stops the reads from the node
//! (backpressure) and memory stays bounded.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};

use vscp_api::{CloseCode, Login};

use vscp_core::policy::{self, LineGate};

use super::{
    Audit, Caller, End, Limits, Refusal, audit, bad_frame, connect, liveness::Liveness, node_login,
    replies::Replies, shutting_down,
};
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use crate::ws::{Incoming, WebSocket};

/// Room for the first read from a node. Each read that fills its room doubles the next
/// one's, up to [`READ_MAX`]: a quiet session keeps a small buffer, a flood gets big reads
/// (few syscalls and wake-ups per event).
const READ_MIN: usize = 16 * 1024;
/// Most room for one read from a node. Larger reads cost more than they save: the bytes of
/// a read are checked, copied into the websocket's frame and sent while they are still in
/// the CPU's cache (bench, CPU per flood event: 1 MiB reads 0.048 s per 1M, 512 KiB 0.046,
/// 256 KiB 0.042, 128 KiB 0.045).
const READ_MAX: usize = 256 * 1024;
/// Size of the buffered writer towards the node.
const WRITE_BUFFER: usize = 64 * 1024;
/// Read buffer for the proxy's login to a node.
const LOGIN_BUFFER: usize = 4 * 1024;

/// What a session is run with besides its websocket and node.
pub(super) struct Env<'a> {
    pub limits: &'a Limits,
    pub shutdown: Shutdown,
    pub metrics: &'a Metrics,
    /// The account and the audit log, with proxy accounts.
    pub caller: Option<&'a (Caller, Option<Arc<Audit>>)>,
}

/// Connects to the node at `addr` (over TLS with `--node-tls`), logs in with the proxy's
/// login for it if there is one, and bridges lines until either side ends.
pub(super) async fn session(
    ws: &mut WebSocket,
    addr: &str,
    login: Option<&Login>,
    env: Env<'_>,
) -> End {
    let limits = env.limits;
    let unreachable = |why: String| Refusal::new(CloseCode::NodeUnreachable, why);
    let tcp = connect(addr, limits, "node").await?;
    let Some(tls) = limits.node_tls.clone() else {
        let (rd, wr) = tcp.into_split();
        return start(ws, rd, wr, login, env).await;
    };
    let name = super::node_name(addr)?;
    let stream = tokio::time::timeout(limits.connect, tls.connect(name, tcp))
        .await
        .map_err(|_| unreachable("node TLS handshake timed out".into()))?
        .map_err(|e| unreachable(format!("node TLS handshake failed: {e}")))?;
    let (rd, wr) = tokio::io::split(stream);
    start(ws, rd, wr, login, env).await
}

/// The proxy's login first, when it keeps one for the node; the browser gets the greeting.
async fn start<R, W>(
    ws: &mut WebSocket,
    rd: R,
    mut wr: W,
    login: Option<&Login>,
    env: Env<'_>,
) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let Some(login) = login else {
        return bridge(ws, rd, wr, env).await;
    };
    // smaller than any read of the bridge, so once empty it is passed by
    let mut rd = BufReader::with_capacity(LOGIN_BUFFER, rd);
    let limits = env.limits;
    let greeting =
        node_login::log_in(&mut rd, &mut wr, login, limits.connect, limits.max_line).await?;
    if ws
        .tx
        .lock()
        .await
        .text(Bytes::from(greeting))
        .await
        .is_err()
    {
        return Ok(()); // browser gone
    }
    bridge(ws, rd, wr, env).await
}

async fn bridge<R, W>(ws: &mut WebSocket, mut tcp_r: R, tcp_w: W, env: Env<'_>) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let Env {
        limits,
        shutdown,
        metrics,
        caller,
    } = env;
    let mut tcp_w = BufWriter::with_capacity(WRITE_BUFFER, tcp_w);
    let WebSocket { rx, tx } = ws;
    let tx = &*tx;
    let live = Liveness::new(limits.idle, limits.ping);
    let touch = || live.touch();
    let node_error = |what: &str, e: std::io::Error| {
        Refusal::new(CloseCode::NodeError, format!("{what} node failed: {e}"))
    };

    // with proxy accounts, every line is judged against the account's level first, and the
    // proxy's refusals take their place among the node's replies
    let mut gate = LineGate::with_events(caller.map(|(c, _)| c.events.clone()).unwrap_or_default());
    let replies = Replies::default();
    let replies = &replies;
    let up = async {
        let mut next = rx.recv().await;
        loop {
            let msg = match next {
                Some(Ok(m)) => m,
                Some(Err(e)) => return Err(bad_frame(e)),
                None => {
                    tcp_w.flush().await.map_err(|e| node_error("write to", e))?;
                    return Ok(());
                }
            };
            match msg {
                Incoming::Text(text) => {
                    touch(); // pings and pongs are not traffic: they must not hold off the idle time-out
                    let mut written = 0;
                    for line in text.split(|b| *b == b'\n') {
                        let line = line.strip_suffix(b"\r").unwrap_or(line);
                        if line.len() > limits.max_line {
                            return Err(too_long("browser", limits.max_line));
                        }
                        if line.is_empty() {
                            continue; // never send empty lines: servers differ in how they answer
                        }
                        if let Some((who, audit)) = caller {
                            // text messages are UTF-8 (checked by the websocket)
                            let text = std::str::from_utf8(line).unwrap_or_default();
                            let verdict = gate.check(text, who.level);
                            let needs = verdict.as_ref().map_or_else(|d| d.needs, |n| *n);
                            let record =
                                audit
                                    .as_ref()
                                    .filter(|_| needs >= policy::OPERATOR)
                                    .map(|a| {
                                        a.stamp(
                                            who,
                                            "command",
                                            serde_json::json!({
                                                "command": audit::loggable(text),
                                                "needs": needs,
                                                "sent": verdict.is_ok(),
                                            }),
                                        )
                                    });
                            let Err(denied) = verdict else {
                                replies.forwarded(record);
                                write_line(&mut tcp_w, line)
                                    .await
                                    .map_err(|e| node_error("write to", e))?;
                                written += 1;
                                continue;
                            };
                            metrics.line_refused();
                            if let (Some(a), Some(r)) = (audit, record) {
                                a.write(&r);
                            }
                            tcp_w.flush().await.map_err(|e| node_error("write to", e))?;
                            let mut tx = tx.lock().await;
                            if let Some(reply) = replies.refused(Bytes::from(denied.reply()))
                                && tx.text(reply).await.is_err()
                            {
                                return Ok(()); // browser gone
                            }
                            continue;
                        }
                        write_line(&mut tcp_w, line)
                            .await
                            .map_err(|e| node_error("write to", e))?;
                        written += 1;
                    }
                    metrics.to_node(written);
                }
                Incoming::Binary(_) => {
                    return Err(Refusal::new(
                        CloseCode::BinaryMessage,
                        "binary messages are not allowed",
                    ));
                }
                // lines that came before the close still go to the node
                Incoming::Close => {
                    tcp_w.flush().await.map_err(|e| node_error("write to", e))?;
                    return Ok(());
                }
                Incoming::Pong => live.pong(),
                Incoming::Ping(payload) => {
                    if tx.lock().await.pong(payload).await.is_err() {
                        return Ok(()); // browser gone
                    }
                }
            }
            // flush once nothing more is waiting: many lines, one syscall
            next = match rx.recv().now_or_never() {
                Some(more) => more,
                None => {
                    tcp_w.flush().await.map_err(|e| node_error("write to", e))?;
                    rx.recv().await
                }
            };
        }
    };

    let down = async {
        // raw bytes from the node; a partial last line stays at the front, complete lines
        // leave as a message (their memory is reclaimed once the websocket has sent them)
        let mut buf = BytesMut::new();
        let mut room = READ_MIN;
        let mut ping = live.pinger();
        loop {
            buf.reserve(room);
            let spare = buf.capacity() - buf.len();
            let read = tokio::select! {
                r = tcp_r.read_buf(&mut buf) => r,
                due = live.next_ping(&mut ping) => {
                    due?;
                    if tx.lock().await.ping().await.is_err() {
                        return Ok(()); // browser gone
                    }
                    continue;
                }
            };
            let n = read.map_err(|e| node_error("read from", e))?;
            if n == 0 {
                return Err(Refusal::new(
                    CloseCode::NodeClosed,
                    "node closed the connection",
                ));
            }
            touch();
            if n == spare {
                room = (room * 2).min(READ_MAX);
            }
            let Some(end) = memchr::memrchr(b'\n', &buf) else {
                if buf.len() > limits.max_line + 1 {
                    return Err(too_long("node", limits.max_line));
                }
                continue;
            };
            let payload = buf.split_to(end + 1).freeze();
            let Scan { lines, ascii } = check_lines(&payload, limits.max_line)?;
            metrics.to_browser(lines, payload.len() as u64);
            let text = if ascii { payload } else { utf8(payload) };
            let mut tx = tx.lock().await;
            if caller.is_none() || !replies.due() {
                if tx.text(text).await.is_err() {
                    return Ok(()); // browser gone
                }
                continue;
            }
            let out = replies.interleave(text);
            if let Some((_, Some(audit))) = caller {
                out.answered.iter().for_each(|r| audit.write(r));
            }
            for message in out.messages {
                if tx.text(message).await.is_err() {
                    return Ok(()); // browser gone
                }
            }
        }
    };

    let end = tokio::select! {
        biased;
        _ = shutdown.wait() => return Err(shutting_down()),
        e = up => e,
        e = down => e,
        e = live.expired() => Err(e),
    };
    if let Some((_, Some(audit))) = caller {
        replies.unanswered().iter().for_each(|r| audit.write(r));
    }
    // in-process demo nodes close their side when shutdown fires, possibly while this
    // task was already reading: the browser must hear "shutting down", not "node closed"
    if shutdown.is_triggered() {
        return Err(shutting_down());
    }
    end
}

async fn write_line<W: AsyncWriteExt + Unpin>(w: &mut W, line: &[u8]) -> std::io::Result<()> {
    w.write_all(line).await?;
    w.write_all(b"\r\n").await
}

/// `bytes` when they are UTF-8, else a copy with U+FFFD for each bad sequence (a text
/// message must be UTF-8).
fn utf8(bytes: Bytes) -> Bytes {
    match std::str::from_utf8(&bytes) {
        Ok(_) => bytes,
        Err(_) => String::from_utf8_lossy(&bytes).into_owned().into(),
    }
}

fn too_long(side: &str, max_line: usize) -> Refusal {
    Refusal::new(
        CloseCode::LineTooLong,
        format!("line too long (> {max_line} bytes) from {side}"),
    )
}

/// What one pass over the bytes of a message found.
#[derive(Debug, PartialEq, Eq)]
struct Scan {
    /// Line feeds.
    lines: u64,
    /// No byte above 0x7F (so the text is UTF-8 without a further check).
    ascii: bool,
}

/// Checks complete lines (each ending in LF) against the line limit (a CR before the LF
/// not counted) and scans them. Each search looks at a window of one longest line from its
/// end, so a read of many short lines costs a few searches, not one per line.
fn check_lines(bytes: &[u8], max_line: usize) -> Result<Scan, Refusal> {
    let mut start = 0;
    while let Some(rest) = bytes.get(start..) {
        if rest.is_empty() {
            break;
        }
        // a line starting here ends within its text, a CR and the LF
        let window = rest.get(..max_line.saturating_add(2)).unwrap_or(rest);
        let Some(last) = memchr::memrchr(b'\n', window) else {
            return Err(too_long("node", max_line));
        };
        // only a single line filling the whole window can be one byte over: without its CR
        if last == max_line.saturating_add(1)
            && memchr::memchr(b'\n', window) == Some(last)
            && window.get(last - 1) != Some(&b'\r')
        {
            return Err(too_long("node", max_line));
        }
        start += last + 1;
    }
    Ok(scan(bytes))
}

/// Line feeds in `bytes` and whether all are ASCII, in one pass: counted in byte-wide lanes
/// (240 bytes at a time, so a lane cannot overflow, in whole vector widths), many times
/// faster than a search per line.
fn scan(bytes: &[u8]) -> Scan {
    let (lines, high) = bytes.chunks(240).fold((0u64, 0u8), |(lines, high), c| {
        let (n, h) = c
            .iter()
            .fold((0u8, 0u8), |(n, h), b| (n + u8::from(*b == b'\n'), h | b));
        (lines + u64::from(n), high | h)
    });
    Scan {
        lines,
        ascii: high < 0x80,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::truncate;

    #[test]
    fn line_limits_are_exact() {
        let ascii = |lines| Ok(Scan { lines, ascii: true });
        assert_eq!(check_lines(b"+OK\r\n1,2\r\n\r\n", 10), ascii(3));
        assert_eq!(check_lines(b"", 10), ascii(0));
        let latin1 = check_lines(b"caf\xE9\n", 10);
        assert_eq!(
            latin1,
            Ok(Scan {
                lines: 1,
                ascii: false
            })
        );
        // ten characters pass with or without their CR, eleven do not
        for ok in [
            &b"0123456789\n"[..],
            b"0123456789\r\n",
            b"1\n0123456789\r\n2\n",
        ] {
            assert_eq!(check_lines(ok, 10).map(|_| ()), Ok(()), "{ok:?}");
        }
        for bad in [
            &b"0123456789A\n"[..],
            b"0123456789A\r\n",
            b"1\r\n0123456789A\n2\n",
        ] {
            assert!(check_lines(bad, 10).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// The windowed check agrees with a line-by-line one on any text.
        #[test]
        fn windowed_check_agrees(lines in proptest::collection::vec("[a-c\r]{0,14}", 0..40), max in 1usize..12) {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let simple = text.split_inclusive('\n').all(|l| {
                let l = l.strip_suffix('\n').unwrap_or(l);
                l.strip_suffix('\r').unwrap_or(l).len() <= max
            });
            let got = check_lines(text.as_bytes(), max);
            proptest::prop_assert_eq!(got.is_ok(), simple, "{:?}", text);
            if let Ok(scan) = got {
                proptest::prop_assert_eq!(scan.lines as usize, lines.len());
                proptest::prop_assert!(scan.ascii);
            }
        }

        /// The lane count and the ASCII check agree with a byte-by-byte reading, across chunk
        /// boundaries.
        #[test]
        fn scan_agrees(bytes in proptest::collection::vec(proptest::prop_oneof![
            proptest::strategy::Just(b'\n'), proptest::strategy::Just(b'a'), proptest::num::u8::ANY,
        ], 0..5000)) {
            let got = scan(&bytes);
            proptest::prop_assert_eq!(got.lines, bytes.iter().filter(|&&b| b == b'\n').count() as u64);
            proptest::prop_assert_eq!(got.ascii, bytes.iter().all(|&b| b < 0x80));
        }
    }

    #[test]
    fn scan_counts_chunks_of_nothing_but_line_feeds() {
        let all = vec![b'\n'; 240 * 3 + 7];
        assert_eq!(scan(&all).lines, all.len() as u64);
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("aé", 3), "aé");
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("€", 1), "");
    }
}
