//! HTTP side: the accept loop (optional TLS, header time-out), static console files,
//! `/api/targets`, `/healthz` and the `/ws?target=NAME` websocket gate.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Extension, Json, Router,
    extract::{Query, State, WebSocketUpgrade},
    http::{HeaderMap, HeaderValue, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use serde::Deserialize;
use tokio::{net::TcpListener, sync::Semaphore};
use tower_http::services::{ServeDir, ServeFile};
use vscp_api::{CloseCode, LinktestRequest, Target};

use crate::{
    bridge::{self, Refusal},
    config::{Args, Limits},
    demo,
    limits::{ConnGuard, ConnLimits},
    linktest,
    shutdown::Shutdown,
};

/// Largest websocket message from a browser (many lines may travel together).
const MAX_WS_MESSAGE: usize = 1 << 20;
/// Raw TCP connections accepted beyond the websocket cap (page loads, API calls).
const EXTRA_HTTP_CONNS: usize = 256;
/// Read chunk of each websocket (browser lines are short; big messages still arrive, in more reads).
const WS_READ_CHUNK: usize = 8 * 1024;
/// How long open sessions get to send their "shutting down" close frames.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

#[derive(Clone)]
struct App {
    targets: Arc<Vec<Target>>,
    limits: Limits,
    conns: ConnLimits,
    token: Option<Arc<str>>,
    origins: Arc<Vec<String>>,
    shutdown: Shutdown,
    linktest: Arc<Semaphore>,
}

#[derive(Clone, Copy)]
struct Peer(SocketAddr);

#[derive(Deserialize)]
struct WsQuery {
    target: Option<String>,
    token: Option<String>,
}

/// A bound proxy, ready to serve (`bind`, then `run`).
pub struct Server {
    listener: TcpListener,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    slots: Arc<Semaphore>,
    handshake: Duration,
    targets: Arc<Vec<Target>>,
    shutdown: Shutdown,
}

impl Server {
    /// Binds `--listen` (port 0 picks one) and starts the demo nodes when asked.
    pub async fn bind(args: &Args, shutdown: &Shutdown) -> anyhow::Result<Server> {
        let targets = targets(args, shutdown).await?;
        if !args.static_dir.join("index.html").exists() {
            tracing::warn!(dir = %args.static_dir.display(), "console not built here: run `./x run`, or pass --static");
        }
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(c), Some(k)) => Some(crate::tls::acceptor(c, k)?),
            _ => None,
        };
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("bind {}", args.listen))?;
        let targets = Arc::new(targets);
        let app = App {
            targets: targets.clone(),
            limits: args.limits()?,
            conns: ConnLimits::new(args.max_conns, args.max_conns_per_ip),
            token: args.token.as_deref().map(Arc::from),
            origins: Arc::new(args.allow_origins.clone()),
            shutdown: shutdown.clone(),
            linktest: Arc::new(Semaphore::new(1)),
        };
        Ok(Server {
            listener,
            router: router(app, &args.static_dir),
            tls,
            slots: Arc::new(Semaphore::new(args.max_conns + EXTRA_HTTP_CONNS)),
            handshake: Duration::from_secs(args.handshake_timeout),
            targets,
            shutdown: shutdown.clone(),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The line printed at start: where the console is and which targets are allowed.
    pub fn banner(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let local = self
            .local_addr()
            .map_or_else(|e| e.to_string(), |a| a.to_string());
        let targets: Vec<String> = self
            .targets
            .iter()
            .map(|t| format!("{}={}", t.name, t.address))
            .collect();
        format!(
            "vscp-proxy: console at {scheme}://{local}/  targets: {}",
            targets.join(", ")
        )
    }

    /// Serves until shutdown, then gives open sessions a moment to say why they close.
    pub async fn run(self) -> anyhow::Result<()> {
        let shutdown = self.shutdown.clone();
        loop {
            let (stream, peer) = tokio::select! {
                r = self.listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => { tracing::warn!(%e, "accept"); continue }
                },
                _ = shutdown.wait() => break,
            };
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "connection limit reached");
                continue;
            };
            let _ = stream.set_nodelay(true);
            let svc = TowerToHyperService::new(self.router.clone().layer(Extension(Peer(peer))));
            let tls = self.tls.clone();
            let handshake = self.handshake;
            tokio::spawn(async move {
                let mut http = hyper::server::conn::http1::Builder::new();
                http.timer(TokioTimer::new()).header_read_timeout(handshake);
                let result = match tls {
                    Some(acceptor) => {
                        match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                            Ok(Ok(s)) => {
                                http.serve_connection(TokioIo::new(s), svc)
                                    .with_upgrades()
                                    .await
                            }
                            _ => return,
                        }
                    }
                    None => {
                        http.serve_connection(TokioIo::new(stream), svc)
                            .with_upgrades()
                            .await
                    }
                };
                if let Err(e) = result {
                    tracing::debug!(%peer, %e, "http connection");
                }
                drop(permit);
            });
        }
        if !shutdown.sessions_ended(SHUTDOWN_GRACE).await {
            tracing::warn!("sessions still open after the shutdown grace time");
        }
        Ok(())
    }
}

/// The allow-list: `--node` entries, the demo when asked, else `local=127.0.0.1:9598`.
async fn targets(args: &Args, shutdown: &Shutdown) -> anyhow::Result<Vec<Target>> {
    let mut targets: Vec<Target> = args
        .nodes
        .iter()
        .map(|(n, a)| Target {
            name: n.clone(),
            address: a.clone(),
            demo: false,
        })
        .collect();
    if args.demo {
        let addr = demo::spawn("127.0.0.1:0".parse()?, args.demo_rate, shutdown.clone()).await?;
        targets.insert(
            0,
            Target {
                name: "demo".into(),
                address: addr.to_string(),
                demo: true,
            },
        );
        tracing::info!(%addr, "demo nodes running; log in as user '{}' password '{}'", demo::USER, demo::PASSWORD);
    } else if targets.is_empty() {
        targets.push(Target {
            name: "local".into(),
            address: "127.0.0.1:9598".into(),
            demo: false,
        });
    }
    Ok(targets)
}

fn router(app: App, static_dir: &Path) -> Router {
    let files = ServeDir::new(static_dir).fallback(ServeFile::new(static_dir.join("index.html")));
    Router::new()
        .route("/ws", get(ws_gate))
        .route(
            "/api/targets",
            get(|State(app): State<App>| async move { Json(app.targets.as_ref().clone()) }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/linktest", axum::routing::post(linktest_api))
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .with_state(app)
}

/// `index.html` must be revalidated; Trunk's hashed assets never change.
async fn cache_headers(req: axum::extract::Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    let value = if path == "/"
        || path.ends_with(".html")
        || path.starts_with("/api/")
        || path == "/healthz"
    {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    if !path.starts_with("/ws") {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    resp
}

/// Checks the page's Origin and the token; used by every endpoint that reaches a node.
fn check_caller(app: &App, headers: &HeaderMap, token: Option<&str>) -> Result<(), Refusal> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let same_host = origin.split_once("://").is_some_and(|(_, h)| h == host);
        let allowed = if app.origins.is_empty() {
            same_host
        } else {
            app.origins.iter().any(|o| o == origin)
        };
        if !allowed {
            return Err(Refusal::new(
                CloseCode::BadOrigin,
                format!("origin {origin} not allowed"),
            ));
        }
    }
    if let Some(want) = &app.token
        && token != Some(want)
    {
        return Err(Refusal::new(CloseCode::BadToken, "missing or wrong token"));
    }
    Ok(())
}

/// The address of an allow-listed target.
fn target_address(app: &App, name: &str) -> Result<String, Refusal> {
    app.targets
        .iter()
        .find(|t| t.name == name)
        .map(|t| t.address.clone())
        .ok_or_else(|| {
            Refusal::new(
                CloseCode::TargetNotAllowed,
                format!("target {name:?} is not allowed"),
            )
        })
}

/// Decides whether a websocket may be bridged, and to where.
fn admit(
    app: &App,
    peer: SocketAddr,
    headers: &HeaderMap,
    q: &WsQuery,
) -> Result<(String, ConnGuard), Refusal> {
    check_caller(app, headers, q.token.as_deref())?;
    let address = target_address(app, q.target.as_deref().unwrap_or_default())?;
    let guard = app
        .conns
        .acquire(peer.ip())
        .ok_or_else(|| Refusal::new(CloseCode::TooManyConnections, "too many connections"))?;
    Ok((address, guard))
}

/// Runs linktest against an allow-listed target (one run at a time) and returns the report.
async fn linktest_api(
    State(app): State<App>,
    headers: HeaderMap,
    Json(req): Json<LinktestRequest>,
) -> Response {
    use axum::http::StatusCode;
    let refused = |status: StatusCode, msg: String| {
        (status, Json(serde_json::json!({ "error": msg }))).into_response()
    };
    let addr = match check_caller(&app, &headers, req.token.as_deref())
        .and_then(|()| target_address(&app, &req.target))
    {
        Ok(a) => a,
        Err(refusal) => return refused(StatusCode::FORBIDDEN, refusal.reason),
    };
    let Ok(_running) = app.linktest.clone().try_acquire_owned() else {
        return refused(
            StatusCode::TOO_MANY_REQUESTS,
            "a linktest is already running".into(),
        );
    };
    let options = linktest::Options {
        addr,
        credentials: (!req.user.is_empty()).then(|| (req.user.clone(), req.password.clone())),
        throughput: 0,
        rounds: 50,
    };
    Json(linktest::run(&options).await).into_response()
}

async fn ws_gate(
    State(app): State<App>,
    Extension(Peer(peer)): Extension<Peer>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> impl IntoResponse {
    // The verdict travels in the close frame: a browser cannot read a refused handshake.
    let verdict = admit(&app, peer, &headers, &q);
    let (limits, shutdown) = (app.limits.clone(), app.shutdown.clone());
    let live = shutdown.session();
    ws.max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        // tungstenite zero-fills its read chunk: the 128 KiB default would cost that much RSS per session
        .read_buffer_size(WS_READ_CHUNK)
        .on_upgrade(move |socket| async move {
            match verdict {
                Ok((addr, guard)) => {
                    tracing::info!(%peer, %addr, "bridge open");
                    bridge::run(socket, addr, limits, shutdown).await;
                    drop(guard);
                }
                Err(refusal) => {
                    tracing::info!(%peer, %refusal, "websocket refused");
                    bridge::close(socket, Some(refusal)).await;
                }
            }
            drop(live);
        })
}
