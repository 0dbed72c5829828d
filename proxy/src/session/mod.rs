//! What one browser connection is: a websocket bridged to one TCP connection, either a line
//! session to a link server (`link`) or a byte relay to an MQTT broker (`mqtt`). Here: how a
//! session is started, connected, refused and closed, and the limits every session keeps.

mod audit;
mod link;
pub(crate) mod liveness;
mod mqtt;
mod node_login;
mod replies;

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;

use vscp_api::CloseCode;

pub(crate) use audit::{Audit, Caller};

use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use crate::ws::{Budget, RecvError, WebSocket};

/// Limits every session keeps (made from the command line by `Args::limits`).
#[derive(Clone)]
pub(crate) struct Limits {
    pub max_line: usize,
    pub idle: Duration,
    pub connect: Duration,
    /// Time between pings to the browser (`None`: no pings).
    pub ping: Option<Duration>,
    /// TLS towards nodes, when `--node-tls` is given.
    pub node_tls: Option<tokio_rustls::TlsConnector>,
    /// What all sessions may hold of unfinished browser messages.
    pub budget: std::sync::Arc<Budget>,
}

/// Close reasons are limited to 123 bytes by the websocket protocol.
const MAX_REASON: usize = 120;
/// Time a browser gets to take the close frame.
pub(crate) const CLOSE_TIME: Duration = Duration::from_secs(1);

/// Why the proxy ends (or refuses) a session: the close code and reason the browser gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: CloseCode,
    pub reason: String,
}

impl Refusal {
    pub(crate) fn new(code: CloseCode, reason: impl Into<String>) -> Refusal {
        Refusal {
            code,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code.code(), self.reason)
    }
}

/// How a bridge ended: `Ok` when the browser closed or went away.
pub(crate) type End = Result<(), Refusal>;

/// What a websocket is bridged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    /// `/ws`: lines to a link server.
    Link,
    /// `/mqtt`: MQTT packets to a broker's TCP port (`mqtt.rs`).
    Mqtt,
}

/// Where a session goes: the address, the kind of service there, and the login the proxy
/// uses for a link server (`--node-logins`).
pub(crate) struct Route<'a> {
    pub addr: &'a str,
    pub service: Service,
    pub login: Option<vscp_api::Login>,
}

/// Connects to the route's address and bridges until either side ends; always closes the
/// websocket with a code that says why, and returns that (`None`: the browser closed).
pub(crate) async fn run(
    mut ws: WebSocket,
    Route {
        addr,
        service,
        login,
    }: Route<'_>,
    limits: Limits,
    shutdown: Shutdown,
    metrics: &Metrics,
    caller: Option<(Caller, Option<std::sync::Arc<Audit>>)>,
    revoked: impl std::future::Future<Output = String>,
) -> Option<Refusal> {
    let work = async {
        match service {
            Service::Link => {
                let env = link::Env {
                    limits: &limits,
                    shutdown: shutdown.clone(),
                    metrics,
                    caller: caller.as_ref(),
                };
                link::session(&mut ws, addr, login.as_ref(), env).await
            }
            Service::Mqtt => mqtt::relay(&mut ws, addr, &limits, metrics).await,
        }
    };
    let end = tokio::select! {
        biased;
        // also while the node is still being connected to
        _ = shutdown.wait() => Err(shutting_down()),
        // the account the session was opened with was removed or lowered
        why = revoked => Err(Refusal::new(CloseCode::AccountChanged, why)),
        end = work => end,
    };
    let end = end.err();
    close(ws, end.clone()).await;
    end
}

/// Connects to `addr` (a `what`: node or broker) within the connect time-out, no Nagle.
pub(crate) async fn connect(addr: &str, limits: &Limits, what: &str) -> Result<TcpStream, Refusal> {
    let unreachable = |why: String| Refusal::new(CloseCode::NodeUnreachable, why);
    let tcp = tokio::time::timeout(limits.connect, TcpStream::connect(addr))
        .await
        .map_err(|_| unreachable(format!("{what} unreachable: connect timed out")))?
        .map_err(|e| unreachable(format!("{what} unreachable: {e}")))?;
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

pub(super) fn shutting_down() -> Refusal {
    Refusal::new(CloseCode::ShuttingDown, "proxy shutting down")
}

/// Sends the close frame for `end` (a normal close when there is none) and closes the
/// websocket, giving a browser that does not read at most [`CLOSE_TIME`].
pub(crate) async fn close(ws: WebSocket, end: Option<Refusal>) {
    let code = end.as_ref().map(|Refusal { code, reason }| {
        tracing::debug!(?code, %reason, "closing websocket");
        (code.code(), truncate(reason, MAX_REASON))
    });
    ws.close(code, CLOSE_TIME).await;
}

/// The refusal for a browser that broke the websocket protocol or its limits: RFC 6455's
/// code for it (1002, 1007 or 1009).
pub(crate) fn bad_frame(e: RecvError) -> Refusal {
    Refusal::new(e.close_code(), format!("websocket error: {e}"))
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// The name a node's certificate must carry: the host part of `HOST:PORT`.
pub(super) fn node_name(addr: &str) -> Result<ServerName<'static>, Refusal> {
    let host = addr
        .rsplit_once(':')
        .map_or(addr, |(h, _)| h)
        .trim_matches(['[', ']']);
    ServerName::try_from(host.to_string()).map_err(|e| {
        Refusal::new(
            CloseCode::NodeUnreachable,
            format!("bad node name {host}: {e}"),
        )
    })
}
