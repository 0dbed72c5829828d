//! Logging in to a node on the browser's behalf (`--node-logins`): the proxy reads the
//! greeting, sends USER and PASS itself, and hands the browser the greeting only, so the
//! page starts on a logged-in connection without ever seeing the password.

use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use vscp_api::{CloseCode, Login};

use super::Refusal;

/// Logs in within `time`; the greeting's lines (to pass on) when the node took the login.
pub(super) async fn log_in<R, W>(
    rd: &mut R,
    wr: &mut W,
    login: &Login,
    time: Duration,
    max_line: usize,
) -> Result<Vec<u8>, Refusal>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let work = async {
        let mut greeting = Vec::new();
        if !reply(rd, &mut greeting, max_line).await? {
            return Err(failed("the node's greeting was -OK"));
        }
        for (word, value) in [("USER", &login.user), ("PASS", &login.password)] {
            let line = format!("{word} {value}\r\n");
            wr.write_all(line.as_bytes()).await.map_err(io)?;
            wr.flush().await.map_err(io)?;
            if !reply(rd, &mut Vec::new(), max_line).await? {
                return Err(Refusal::new(
                    CloseCode::NodeLoginFailed,
                    format!("the node refused {word} (check --node-logins)"),
                ));
            }
        }
        Ok(greeting)
    };
    tokio::time::timeout(time, work)
        .await
        .map_err(|_| failed("the node did not answer the proxy's login in time"))?
}

/// Reads lines into `into` up to a `+OK` (true) or `-OK` (false) line.
async fn reply<R: AsyncBufRead + Unpin>(
    rd: &mut R,
    into: &mut Vec<u8>,
    max_line: usize,
) -> Result<bool, Refusal> {
    loop {
        let start = into.len();
        let limit = (max_line + 2) as u64;
        let n = (&mut *rd)
            .take(limit)
            .read_until(b'\n', into)
            .await
            .map_err(io)?;
        let line = &into[start..];
        if n == 0 {
            return Err(Refusal::new(
                CloseCode::NodeClosed,
                "node closed the connection during the proxy's login",
            ));
        }
        if !line.ends_with(b"\n") {
            return Err(Refusal::new(
                CloseCode::LineTooLong,
                "line too long from node",
            ));
        }
        if line.starts_with(b"+OK") {
            return Ok(true);
        }
        if line.starts_with(b"-OK") {
            return Ok(false);
        }
    }
}

fn io(e: std::io::Error) -> Refusal {
    Refusal::new(
        CloseCode::NodeError,
        format!("proxy's login to the node failed: {e}"),
    )
}

fn failed(why: &str) -> Refusal {
    Refusal::new(CloseCode::NodeError, why.to_string())
}
