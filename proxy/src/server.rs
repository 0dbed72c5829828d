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
use serde::{Deserialize, Serialize};
use tokio::{net::TcpListener, sync::Semaphore};
use tower_http::services::{ServeDir, ServeFile};

use crate::{
    bridge,
    close::CloseCode,
    config::{Args, Limits},
    demo,
    limits::{ConnGuard, ConnLimits},
    linktest,
};

/// Largest websocket message from a browser (many lines may travel together).
const MAX_WS_MESSAGE: usize = 1 << 20;
/// Raw TCP connections accepted beyond the websocket cap (page loads, API calls).
const EXTRA_HTTP_CONNS: usize = 256;
/// Read chunk of each websocket (browser lines are short; big messages still arrive, in more reads).
const WS_READ_CHUNK: usize = 8 * 1024;

/// A shutdown signal every task can wait for.
#[derive(Clone, Debug)]
pub(crate) struct Shutdown(
    tokio::sync::watch::Receiver<bool>,
    Arc<tokio::sync::watch::Sender<bool>>,
);

impl Shutdown {
    /// A signal that fires on SIGINT or SIGTERM.
    pub(crate) fn on_signals() -> Shutdown {
        let s = Shutdown::new();
        let trigger = s.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let mut term = signal(SignalKind::terminate()).ok();
                let term = async {
                    match term.as_mut() {
                        Some(t) => {
                            t.recv().await;
                        }
                        None => std::future::pending().await,
                    }
                };
                tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term => {} }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
            trigger.trigger();
        });
        s
    }

    pub(crate) fn new() -> Shutdown {
        let (tx, rx) = tokio::sync::watch::channel(false);
        Shutdown(rx, Arc::new(tx))
    }

    pub(crate) fn trigger(&self) {
        let _ = self.1.send(true);
    }

    /// Was shutdown triggered?
    pub(crate) fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown was triggered.
    pub(crate) async fn wait(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// One allow-listed node.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Target {
    pub name: String,
    pub address: String,
    pub demo: bool,
}

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

/// Serves until shutdown.
pub(crate) async fn run(args: Args, shutdown: Shutdown) -> anyhow::Result<()> {
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
    if !args.static_dir.join("index.html").exists() {
        tracing::warn!(dir = %args.static_dir.display(), "console not built here: run `./x run`, or pass --static");
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(tls_acceptor(c, k)?),
        _ => None,
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("bind {}", args.listen))?;
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!(
        "vscp-proxy: console at {scheme}://{local}/  targets: {}",
        targets
            .iter()
            .map(|t| format!("{}={}", t.name, t.address))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let conns = ConnLimits::new(args.max_conns, args.max_conns_per_ip);
    let app = App {
        targets: Arc::new(targets),
        limits: args.limits()?,
        conns: conns.clone(),
        token: args.token.as_deref().map(Arc::from),
        origins: Arc::new(args.allow_origins.clone()),
        shutdown: shutdown.clone(),
        linktest: Arc::new(Semaphore::new(1)),
    };
    let router = router(app, &args.static_dir);
    let slots = Arc::new(Semaphore::new(args.max_conns + EXTRA_HTTP_CONNS));
    let handshake = Duration::from_secs(args.handshake_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => { tracing::warn!(%e, "accept"); continue }
            },
            _ = shutdown.wait() => break,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(router.clone().layer(Extension(Peer(peer))));
        let tls = tls.clone();
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
    // let open bridges send their "shutting down" close frames
    for _ in 0..30 {
        if conns.total() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
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
fn check_caller(
    app: &App,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Result<(), (CloseCode, String)> {
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
            return Err((CloseCode::BadOrigin, format!("origin {origin} not allowed")));
        }
    }
    if let Some(want) = &app.token
        && token != Some(want)
    {
        return Err((CloseCode::BadToken, "missing or wrong token".into()));
    }
    Ok(())
}

/// The address of an allow-listed target.
fn target_address(app: &App, name: &str) -> Result<String, (CloseCode, String)> {
    app.targets
        .iter()
        .find(|t| t.name == name)
        .map(|t| t.address.clone())
        .ok_or_else(|| {
            (
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
) -> Result<(String, ConnGuard), (CloseCode, String)> {
    check_caller(app, headers, q.token.as_deref())?;
    let address = target_address(app, q.target.as_deref().unwrap_or_default())?;
    let guard = app
        .conns
        .acquire(peer.ip())
        .ok_or_else(|| (CloseCode::TooManyConnections, "too many connections".into()))?;
    Ok((address, guard))
}

/// Body of `POST /api/linktest`.
#[derive(Deserialize)]
struct LinktestRequest {
    target: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    token: Option<String>,
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
        Err((_, why)) => return refused(StatusCode::FORBIDDEN, why),
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
                Err(end) => {
                    tracing::info!(%peer, reason = %end.1, "websocket refused");
                    bridge::close(socket, Some(end)).await;
                }
            }
        })
}

fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use tokio_rustls::rustls;
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(cert).context("--tls-cert")?,
    ))
    .collect::<Result<Vec<_>, _>>()?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key).context("--tls-key")?,
    ))?
    .context("no private key in --tls-key")?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
