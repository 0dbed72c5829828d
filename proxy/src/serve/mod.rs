//! HTTP side: the accept loop (optional TLS, header time-out), static console files,
//! `/api/targets`, `/healthz` and the `/ws?target=NAME` websocket gate.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    Extension, Json, Router,
    extract::{Query, Request, State, rejection::QueryRejection},
    http::{HeaderMap, StatusCode, header},
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
use vscp_api::{CloseCode, LinktestRequest, Target};

mod accounts;
mod api;
mod files;
mod guard;
mod limits;
mod mdf;
mod node_logins;
mod shards;

use crate::{
    config::Args,
    demo, linktest,
    metrics::Metrics,
    session::{self, Audit, Caller, Limits, Refusal, Service},
    shutdown::Shutdown,
    ws,
};
use accounts::Accounts;
pub use accounts::hash_password;
use api::{
    check_caller, linktest_api, login_api, logout_api, mdf_api, me_api, metrics_api,
    target_address, targets_api,
};
use files::StaticFiles;
use guard::{HostPolicy, Throttle};
use limits::{ConnGuard, ConnLimits, connection_caps};
use mdf::MdfSources;
use shards::Shards;

/// Largest websocket message from a browser (many lines may travel together).
const MAX_WS_MESSAGE: usize = 1 << 20;
/// Raw TCP connections one IP may hold beyond its websocket cap, before any HTTP byte.
const EXTRA_HTTP_CONNS_PER_IP: usize = 16;
/// Longest pause of the accept loop after an error (e.g. out of file descriptors).
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);
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
    hosts: Arc<HostPolicy>,
    files: Arc<StaticFiles>,
    /// Refusals and session ends are logged, but not more than this allows.
    log: Arc<Throttle>,
    /// Where `/api/mdf` finds files.
    mdf: Arc<MdfSources>,
    /// Counters for `/metrics`.
    metrics: Arc<Metrics>,
    /// `/echo` is served.
    echo: bool,
    /// Proxy accounts (`--users`), when the page must log in.
    accounts: Option<Arc<Accounts>>,
    /// Served over TLS (cookies are then `Secure`).
    tls: bool,
    /// The audit log (`--audit`).
    audit: Option<Arc<Audit>>,
    /// Logins the proxy uses for nodes, by target name (SIGHUP reads them again).
    node_logins: Arc<std::sync::RwLock<Arc<node_logins::NodeLogins>>>,
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
    /// The threads connections are served on.
    shards: Shards,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// Raw TCP connections: a total and a per-IP cap, taken at accept.
    raw: ConnLimits,
    handshake: Duration,
    log: Arc<Throttle>,
    targets: Arc<Vec<Target>>,
    shutdown: Shutdown,
}

/// A setting that cannot be used: the option (its argument id) and why.
#[derive(Debug)]
pub struct SettingError {
    /// The option's argument id (`users`, `tls_cert`, …).
    pub option: &'static str,
    /// Why.
    pub error: anyhow::Error,
}

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:#}", self.option, self.error)
    }
}

impl std::error::Error for SettingError {}

/// What the settings' files hold, read once before anything starts.
struct SettingFiles {
    node_logins: node_logins::NodeLogins,
    accounts: Option<Accounts>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    mdf_dir: Option<std::path::PathBuf>,
}

impl SettingFiles {
    /// Reads every file the settings name (node logins, users, TLS certificate and key, the
    /// nodes' CA, the MDF folder, the audit file's folder); starts nothing.
    fn read(args: &Args) -> Result<SettingFiles, SettingError> {
        let at = |option: &'static str| move |error| SettingError { option, error };
        let node_logins = node_logins::load(args).map_err(at("node_logins"))?;
        let accounts = match &args.users {
            Some(users) => Some(Accounts::load(users).map_err(at("users"))?),
            None => None,
        };
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(c), Some(k)) => Some(crate::tls::acceptor(c, k).map_err(at("tls_cert"))?),
            _ => None,
        };
        let limits = args.limits().map_err(at("node_ca"))?;
        let mdf_dir = match &args.mdf_dir {
            Some(dir) => Some(
                std::fs::canonicalize(dir)
                    .with_context(|| dir.display().to_string())
                    .map_err(at("mdf_dir"))?,
            ),
            None => None,
        };
        if let Some(audit) = &args.audit {
            let folder = audit
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            if !folder.is_dir() {
                return Err(at("audit")(anyhow::anyhow!(
                    "{}: no such folder for the audit file",
                    folder.display()
                )));
            }
        }
        Ok(SettingFiles {
            node_logins,
            accounts,
            tls,
            limits,
            mdf_dir,
        })
    }
}

impl Server {
    /// Reads every file the settings name, as [`Server::bind`] does first, and starts nothing.
    pub fn check(args: &Args) -> Result<(), SettingError> {
        SettingFiles::read(args).map(|_| ())
    }

    /// Binds `--listen` (port 0 picks one) and starts the demo nodes when asked. The
    /// settings' files are read before anything starts; a bad one is a [`SettingError`].
    pub async fn bind(args: &Args, shutdown: &Shutdown) -> anyhow::Result<Server> {
        let files = SettingFiles::read(args)?;
        let targets = targets(args, shutdown).await?;
        let tls = files.tls;
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("bind {}", args.listen))?;
        let targets = Arc::new(targets);
        let (sessions, raw) = connection_caps(args);
        let log = Arc::new(Throttle::new(20, Duration::from_secs(10)));
        let app = App {
            targets: targets.clone(),
            limits: files.limits,
            conns: ConnLimits::new(sessions, args.max_conns_per_ip),
            token: args.token.as_deref().map(Arc::from),
            origins: Arc::new(args.allow_origins.clone()),
            shutdown: shutdown.clone(),
            linktest: Arc::new(Semaphore::new(1)),
            hosts: Arc::new(HostPolicy::new(&args.allow_hosts)),
            files: Arc::new(StaticFiles::new(args.static_dir.as_deref())),
            log: log.clone(),
            mdf: Arc::new(MdfSources {
                dir: files.mdf_dir,
                fetch: args
                    .mdf_fetch
                    .iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
                demo: args.demo,
            }),
            metrics: Arc::default(),
            echo: args.echo,
            tls: args.tls_cert.is_some(),
            accounts: files.accounts.map(Arc::new),
            audit: match &args.audit {
                Some(path) => Some(Arc::new(
                    Audit::open(path).with_context(|| format!("--audit {}", path.display()))?,
                )),
                None => None,
            },
            node_logins: Arc::new(std::sync::RwLock::new(Arc::new(files.node_logins))),
        };
        reload_on_hangup(
            args.clone(),
            app.accounts.clone(),
            app.node_logins.clone(),
            shutdown,
        );
        let threads = match args.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        Ok(Server {
            listener,
            shards: Shards::start(threads, shutdown, SHUTDOWN_GRACE)?,
            router: router(app),
            tls,
            raw: ConnLimits::new(raw, args.max_conns_per_ip + EXTRA_HTTP_CONNS_PER_IP),
            handshake: Duration::from_secs(args.handshake_timeout),
            log,
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
        let mut backoff = Duration::ZERO;
        loop {
            let accepted = tokio::select! {
                r = self.listener.accept() => r,
                _ = shutdown.wait() => break,
            };
            let (stream, peer) = match accepted {
                Ok(c) => {
                    backoff = Duration::ZERO;
                    c
                }
                Err(e) => {
                    // e.g. out of file descriptors: wait for sessions to end instead of spinning
                    backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                    if let Some(held) = self.log.admit() {
                        tracing::warn!(%e, ?backoff, held_back = held, "accept failed");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => continue,
                        _ = shutdown.wait() => break,
                    }
                }
            };
            let Some(permit) = self.raw.acquire(peer.ip()) else {
                if let Some(held) = self.log.admit() {
                    tracing::warn!(%peer, held_back = held, "connection refused: limit reached (total or per IP)");
                }
                continue;
            };
            let _ = stream.set_nodelay(true);
            let router = self.router.clone();
            let tls = self.tls.clone();
            let handshake = self.handshake;
            let log = self.log.clone();
            // the connection's thread watches its socket: its wake-ups stay on that thread
            let Ok(stream) = stream.into_std() else {
                continue;
            };
            self.shards.spawn(async move {
                let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
                    return;
                };
                let result = match tls {
                    Some(acceptor) => {
                        match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                            Ok(Ok(s)) => serve_http(s, router, peer, handshake, false).await,
                            _ => return,
                        }
                    }
                    None => serve_http(stream, router, peer, handshake, false).await,
                };
                match result {
                    // a browser's spare keep-alive connection that was never used
                    Err(e) if e.is_timeout() => tracing::debug!(%peer, %e, "http connection"),
                    Err(e) => {
                        if let Some(held) = log.admit() {
                            // header too large (431), not HTTP at all, …
                            tracing::info!(%peer, %e, held_back = held, "bad HTTP connection");
                        }
                    }
                    Ok(()) => {}
                }
                drop(permit);
            });
        }
        if !shutdown.sessions_ended(SHUTDOWN_GRACE).await {
            tracing::warn!("sessions still open after the shutdown grace time");
        }
        Ok(())
    }

    /// Answers the raw bytes of one HTTP/1 connection in memory, exactly as the accept loop
    /// would (Host, Origin, token, targets, static files, websocket gate), and returns
    /// what the proxy wrote back, at most `MAX_ANSWER` bytes. For fuzzing and tests.
    #[doc(hidden)]
    pub async fn answer(&self, request: &[u8]) -> Vec<u8> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        const MAX_ANSWER: usize = 1 << 20;
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
        // half-close: the request ends with the writer's shutdown, the answer still comes
        let serving = tokio::spawn(serve_http(
            server,
            self.router.clone(),
            peer,
            self.handshake,
            true,
        ));
        let mut answer = Vec::new();
        let exchange = async {
            // write and read together: a large answer must not block a large request
            let (mut rx, mut tx) = tokio::io::split(&mut client);
            let write = async {
                let _ = tx.write_all(request).await;
                let _ = tx.shutdown().await;
            };
            let read = async {
                let mut chunk = [0u8; 8192];
                while let Ok(n @ 1..) = rx.read(&mut chunk).await {
                    answer.extend_from_slice(&chunk[..n]);
                    // after a 101 the websocket speaks; its handshake answer is what counts
                    let upgraded = answer.starts_with(b"HTTP/1.1 101")
                        && answer.windows(4).any(|w| w == b"\r\n\r\n");
                    if upgraded || answer.len() >= MAX_ANSWER {
                        break;
                    }
                }
            };
            tokio::join!(write, read);
        };
        let _ = tokio::time::timeout(self.handshake, exchange).await;
        serving.abort();
        answer
    }
}

/// Serves one HTTP/1 connection (and its websocket upgrade) with the router; with
/// `half_close`, a client's shutdown of its sending side still gets the answers.
async fn serve_http<S>(
    stream: S,
    router: Router,
    peer: SocketAddr,
    handshake: Duration,
    half_close: bool,
) -> hyper::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let svc = TowerToHyperService::new(router.layer(Extension(Peer(peer))));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(handshake)
        .half_close(half_close);
    http.serve_connection(TokioIo::new(stream), svc)
        .with_upgrades()
        .await
}

/// The allow-list: `--node` entries, the demo when asked, else `local=127.0.0.1:9598`.
async fn targets(args: &Args, shutdown: &Shutdown) -> anyhow::Result<Vec<Target>> {
    let mut targets: Vec<Target> = args
        .nodes
        .iter()
        .map(|n| Target {
            name: n.name.clone(),
            address: n.address.clone(),
            demo: false,
            mqtt: false,
            demo_login: None,
            node_login: n.login.is_some(),
        })
        .collect();
    if args.demo {
        let addr = demo::spawn(
            "127.0.0.1:0".parse()?,
            args.demo_rate,
            args.site,
            Duration::ZERO,
            shutdown.clone(),
        )
        .await?;
        targets.insert(
            0,
            Target {
                name: "demo".into(),
                address: addr.to_string(),
                demo: true,
                mqtt: false,
                demo_login: Some(vscp_api::Login {
                    user: demo::USER.into(),
                    password: demo::PASSWORD.into(),
                }),
                node_login: false,
            },
        );
        tracing::info!(%addr, "demo nodes running; log in as user '{}' password '{}'", demo::USER, demo::PASSWORD);
    } else if targets.is_empty() {
        targets.push(Target {
            name: "local".into(),
            address: "127.0.0.1:9598".into(),
            demo: false,
            mqtt: false,
            demo_login: None,
            node_login: false,
        });
    }
    for (name, address) in &args.brokers {
        anyhow::ensure!(
            targets.iter().all(|t| &t.name != name),
            "--broker {name}: the name is taken by a --node"
        );
        targets.push(Target {
            name: name.clone(),
            address: address.clone(),
            demo: false,
            mqtt: true,
            demo_login: None,
            node_login: false,
        });
    }
    Ok(targets)
}

fn router(app: App) -> Router {
    let files = app.files.clone();
    Router::new()
        .route("/ws", get(ws_gate))
        .route("/mqtt", get(mqtt_gate))
        .route("/echo", get(echo_gate))
        .route("/api/targets", get(targets_api))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/linktest", axum::routing::post(linktest_api))
        .route("/api/mdf", get(mdf_api))
        .route("/metrics", get(metrics_api))
        .route("/api/login", axum::routing::post(login_api))
        .route("/api/logout", axum::routing::post(logout_api))
        .route("/api/me", get(me_api))
        .fallback(move |req: Request| async move { files.serve(req).await })
        .layer(middleware::from_fn_with_state(app.clone(), gate))
        .with_state(app)
}

/// Every request: the Host must be one the proxy answers to (DNS rebinding), and every
/// response gets the security headers. `/healthz` answers whatever the Host.
async fn gate(State(app): State<App>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_string();
    let mut resp = if req.uri().path() == "/healthz" || app.hosts.allows(&host) {
        next.run(req).await
    } else {
        if let Some(held) = app.log.admit() {
            tracing::info!(%host, held_back = held, "request refused: Host not allowed (add --allow-host)");
        }
        (
            StatusCode::MISDIRECTED_REQUEST,
            format!("host {host:?} is not allowed; start the proxy with --allow-host"),
        )
            .into_response()
    };
    app.files.secure(resp.headers_mut());
    resp
}

/// On SIGHUP, reads the users file and the node logins again: a good file takes effect
/// (sessions of removed or lowered accounts end), a bad one is refused with its reason and
/// the old one stays. Logged either way.
fn reload_on_hangup(
    args: Args,
    accounts: Option<Arc<Accounts>>,
    logins: Arc<std::sync::RwLock<Arc<node_logins::NodeLogins>>>,
    shutdown: &Shutdown,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        return;
    };
    let stop = shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = hangups.recv() => {}
                _ = stop.wait() => return,
            }
            if let (Some(accounts), Some(path)) = (&accounts, &args.users) {
                match accounts.reload(path) {
                    Ok((removed, changed)) => tracing::info!(
                        file = %path.display(), ?removed, ?changed,
                        "SIGHUP: users read again; sessions of removed or lowered accounts end"
                    ),
                    Err(e) => tracing::error!(
                        "SIGHUP: users file refused, the accounts before stay in force: {e:#}"
                    ),
                }
            }
            if args.node_logins.is_some() {
                match node_logins::load(&args) {
                    Ok(new) => {
                        *logins.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
                        tracing::info!("SIGHUP: node logins read again (new sessions use them)");
                    }
                    Err(e) => tracing::error!(
                        "SIGHUP: node logins refused, the ones before stay in force: {e:#}"
                    ),
                }
            }
        }
    });
}

/// A websocket the gate lets through: where it goes and who it is.
struct Admitted {
    address: String,
    /// The login the proxy uses for the node (`--node-logins`).
    login: Option<vscp_api::Login>,
    guard: ConnGuard,
    caller: Option<Caller>,
}

/// Decides whether a websocket may be bridged, and to where.
fn admit(
    app: &App,
    peer: SocketAddr,
    headers: &HeaderMap,
    q: &WsQuery,
    service: Service,
) -> Result<Admitted, Refusal> {
    check_caller(app, headers, q.token.as_deref())?;
    let name = q.target.as_deref().unwrap_or_default();
    let address = target_address(&app.targets, name, service == Service::Mqtt)?;
    // with accounts, a session belongs to a logged-in account that may use this target
    let caller = match &app.accounts {
        None => None,
        Some(accounts) => {
            let user = api::logged_in(accounts, headers).ok_or_else(|| {
                Refusal::new(CloseCode::LoginRequired, "log in to the proxy first")
            })?;
            if !user.may_use(name) {
                return Err(Refusal::new(
                    CloseCode::TargetNotAllowed,
                    format!("account {} may not use target {name}", user.name),
                ));
            }
            Some(Caller {
                user: user.name,
                level: user.level,
                events: user.events,
                peer,
                target: name.to_string(),
            })
        }
    };
    let guard = app
        .conns
        .acquire(peer.ip())
        .ok_or_else(|| Refusal::new(CloseCode::TooManyConnections, "too many connections"))?;
    let login = match service {
        Service::Link => app
            .node_logins
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned(),
        Service::Mqtt => None,
    };
    Ok(Admitted {
        address,
        login,
        guard,
        caller,
    })
}

/// `/ws?target=NAME`: the console's link-protocol session.
async fn ws_gate(
    State(app): State<App>,
    Extension(Peer(peer)): Extension<Peer>,
    query: Result<Query<WsQuery>, QueryRejection>,
    headers: HeaderMap,
    ws: Result<ws::Upgrade, ws::Rejected>,
) -> Response {
    upgrade(app, peer, query, &headers, ws, Service::Link)
}

/// `/echo` (with `--echo`): every message back, for conformance suites.
async fn echo_gate(State(app): State<App>, ws: Result<ws::Upgrade, ws::Rejected>) -> Response {
    if !app.echo {
        return StatusCode::NOT_FOUND.into_response();
    }
    match ws {
        Ok(ws) => ws.on_upgrade(None, MAX_WS_MESSAGE, app.limits.budget.clone(), |socket| {
            crate::ws::echo(socket, session::CLOSE_TIME)
        }),
        Err(e) => e.into_response(),
    }
}

/// `/mqtt?target=NAME`: the console's MQTT session to an allow-listed broker.
async fn mqtt_gate(
    State(app): State<App>,
    Extension(Peer(peer)): Extension<Peer>,
    query: Result<Query<WsQuery>, QueryRejection>,
    headers: HeaderMap,
    ws: Result<ws::Upgrade, ws::Rejected>,
) -> Response {
    upgrade(app, peer, query, &headers, ws, Service::Mqtt)
}

/// Upgrades (or refuses with a close code) and bridges the websocket to its service.
fn upgrade(
    app: App,
    peer: SocketAddr,
    query: Result<Query<WsQuery>, QueryRejection>,
    headers: &HeaderMap,
    ws: Result<ws::Upgrade, ws::Rejected>,
    service: Service,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            if let Some(held) = app.log.admit() {
                tracing::info!(%peer, %e, held_back = held, "bad websocket handshake");
            }
            return e.into_response();
        }
    };
    let target = match &query {
        Ok(Query(q)) => q.target.clone().unwrap_or_default(),
        Err(_) => String::new(),
    };
    // The verdict travels in the close frame: a browser cannot read a refused handshake.
    let verdict = match query {
        Ok(Query(q)) => admit(&app, peer, headers, &q, service),
        Err(e) => Err(Refusal::new(
            CloseCode::TargetNotAllowed,
            format!("bad query: {}", e.body_text()),
        )),
    };
    let (limits, shutdown, log) = (app.limits.clone(), app.shutdown.clone(), app.log.clone());
    let metrics = app.metrics.clone();
    let audit = app.audit.clone();
    let accounts = app.accounts.clone();

    let live = shutdown.session();
    // browsers drop a connection whose handshake does not choose the protocol they asked for
    let protocol = (service == Service::Mqtt).then_some("mqtt");
    let budget = app.limits.budget.clone();
    ws.on_upgrade(protocol, MAX_WS_MESSAGE, budget, move |socket| async move {
            match verdict {
                Ok(Admitted { address: addr, login, guard, caller }) => {
                    let started = std::time::Instant::now();
                    let account = caller.as_ref().map_or_else(String::new, |c| c.user.clone());
                    tracing::info!(%peer, target = %target, %addr, %account, "session start");
                    metrics.opened();
                    let watched = caller.map(|c| (c, audit.clone()));
                    if let Some((who, Some(audit))) = &watched {
                        audit.record(who, "start", serde_json::json!({}));
                    }
                    let route = session::Route { addr: &addr, service, login };
                    let revocable = match (&accounts, &watched) {
                        (Some(a), Some((who, _))) => Some((a.clone(), who.clone())),
                        _ => None,
                    };
                    let revoked = async move {
                        match revocable {
                            Some((a, who)) => a.revoked(&who.user, who.level, &who.target).await,
                            None => std::future::pending().await,
                        }
                    };
                    let end = session::run(socket, route, limits, shutdown, &metrics, watched.clone(), revoked).await;
                    if let Some((who, Some(audit))) = &watched {
                        let code = end.as_ref().map(|r| r.code.code());
                        audit.record(who, "end", serde_json::json!({ "code": code }));
                    }
                    metrics.closed(end.as_ref().map(|r| r.code));
                    drop(guard);
                    if let Some(held) = log.admit() {
                        let secs = started.elapsed().as_secs_f64();
                        match end {
                            Some(r) => tracing::info!(%peer, target = %target, %addr, %account, secs, code = r.code.code(), reason = %r.reason, held_back = held, "session end"),
                            None => tracing::info!(%peer, target = %target, %addr, %account, secs, held_back = held, "session end: browser closed"),
                        }
                    }
                }
                Err(refusal) => {
                    metrics.refused(refusal.code);
                    if let Some(held) = log.admit() {
                        tracing::info!(%peer, code = refusal.code.code(), reason = %refusal.reason, held_back = held, "websocket refused");
                    }
                    session::close(socket, Some(refusal)).await;
                }
            }
            drop(live);
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any query a browser can send gives a target refusal whose close reason fits the
        /// websocket limit and ends on a character boundary (a byte cut used to panic).
        #[test]
        fn any_query_string_is_refused_cleanly(raw in any::<Vec<u8>>(), text in any::<String>()) {
            let encoded: String = raw.iter().map(|b| format!("%{b:02X}")).collect();
            let plain: String = percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC).to_string();
            for q in [format!("target={encoded}"), format!("target={plain}&token={encoded}"), encoded.clone()] {
                let Ok(uri) = format!("/ws?{q}").parse::<axum::http::Uri>() else { continue };
                let Ok(Query(q)) = Query::<WsQuery>::try_from_uri(&uri) else { continue };
                let refusal = target_address(&[], q.target.as_deref().unwrap_or_default(), false).unwrap_err();
                let cut = session::truncate(&refusal.reason, 120);
                prop_assert!(cut.len() <= 120);
                prop_assert!(refusal.reason.starts_with(cut));
            }
        }
    }
}
