//! The API the console calls besides its websockets: `/api/targets`, `/metrics`, `/api/mdf`
//! and `/api/linktest`, each behind the Origin and token checks.

use super::*;

/// `?token=` on the API.
#[derive(Deserialize)]
pub(super) struct TokenQuery {
    token: Option<String>,
}

/// `GET /api/targets`: the allow-list, for callers that pass the Origin and token checks;
/// with accounts, the targets the logged-in account may use (401 before a login).
pub(super) async fn targets_api(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    if let Err(refusal) = check_caller(&app, &headers, q.token.as_deref()) {
        return forbidden(refusal);
    }
    match account(&app, &headers) {
        Ok(user) => {
            let mut list = app.targets.as_ref().clone();
            list.retain(|t| user.as_ref().is_none_or(|u| u.may_use(&t.name)));
            Json(list).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A request that needs a proxy login and has none: 401.
struct NotLoggedIn;

impl IntoResponse for NotLoggedIn {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "log in to the proxy first" })),
        )
            .into_response()
    }
}

/// With accounts, the logged-in account; `None` without accounts.
fn account(app: &App, headers: &HeaderMap) -> Result<Option<accounts::User>, NotLoggedIn> {
    let Some(accounts) = &app.accounts else {
        return Ok(None);
    };
    logged_in(accounts, headers).map(Some).ok_or(NotLoggedIn)
}

/// 403 with the reason as `{"error": …}`.
pub(super) fn forbidden(refusal: Refusal) -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(serde_json::json!({ "error": refusal.reason })),
    )
        .into_response()
}

/// `GET /metrics`: the counters in Prometheus text format (token checked like the API).
pub(super) async fn metrics_api(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    match check_caller(&app, &headers, q.token.as_deref()) {
        Ok(()) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            app.metrics.render(),
        )
            .into_response(),
        Err(refusal) => forbidden(refusal),
    }
}

/// `?url=&token=` of `/api/mdf`.
#[derive(Deserialize)]
pub(super) struct MdfQuery {
    url: String,
    token: Option<String>,
}

/// `GET /api/mdf?url=`: a node's module description file (see `mdf.rs`).
pub(super) async fn mdf_api(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<MdfQuery>,
) -> Response {
    if let Err(refusal) = check_caller(&app, &headers, q.token.as_deref()) {
        return forbidden(refusal);
    }
    if let Err(e) = account(&app, &headers) {
        return e.into_response();
    }
    app.mdf.answer(&q.url).await
}

/// Checks the page's Origin and the token; used by every endpoint that reaches a node.
pub(super) fn check_caller(
    app: &App,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Result<(), Refusal> {
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

/// The address of an allow-listed link server (`mqtt` false) or MQTT broker (`mqtt` true).
pub(super) fn target_address(
    targets: &[Target],
    name: &str,
    mqtt: bool,
) -> Result<String, Refusal> {
    targets
        .iter()
        .find(|t| t.name == name && t.mqtt == mqtt)
        .map(|t| t.address.clone())
        .ok_or_else(|| {
            Refusal::new(
                CloseCode::TargetNotAllowed,
                format!("target {name:?} is not allowed"),
            )
        })
}

/// Runs linktest against an allow-listed target (one run at a time) and returns the report.
pub(super) async fn linktest_api(
    State(app): State<App>,
    headers: HeaderMap,
    Json(req): Json<LinktestRequest>,
) -> Response {
    use axum::http::StatusCode;
    let refused = |status: StatusCode, msg: String| {
        (status, Json(serde_json::json!({ "error": msg }))).into_response()
    };
    let addr = match check_caller(&app, &headers, req.token.as_deref())
        .and_then(|()| target_address(&app.targets, &req.target, false))
    {
        Ok(a) => a,
        Err(refusal) => return refused(StatusCode::FORBIDDEN, refusal.reason),
    };
    // linktest sends, sets filters and GUIDs: an engineer's work, on a target of the account
    match account(&app, &headers) {
        Err(e) => return e.into_response(),
        Ok(Some(u)) if u.level < vscp_core::policy::ENGINEER || !u.may_use(&req.target) => {
            return refused(
                StatusCode::FORBIDDEN,
                format!(
                    "account {} may not run linktest on {} (needs privilege {} and the target)",
                    u.name,
                    req.target,
                    vscp_core::policy::ENGINEER
                ),
            );
        }
        Ok(_) => {}
    }
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

/// The account a request's session cookie belongs to, if it is still logged in.
pub(super) fn logged_in(accounts: &Accounts, headers: &HeaderMap) -> Option<accounts::User> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(accounts::token_of)
        .and_then(|t| accounts.session(t))
}

/// `{"user": …, "password": …}` of `/api/login`.
#[derive(Deserialize)]
pub(super) struct LoginForm {
    user: String,
    password: String,
}

/// `POST /api/login`: checks the account (Origin checked as for the API) and sets the
/// session cookie; 401 for a wrong name or password, 429 after too many failures.
pub(super) async fn login_api(
    State(app): State<App>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    axum::Json(form): axum::Json<LoginForm>,
) -> Response {
    let Some(accounts) = app.accounts.clone() else {
        return (StatusCode::NOT_FOUND, "this proxy has no accounts").into_response();
    };
    if let Err(refusal) = check_caller(&app, &headers, None) {
        return forbidden(refusal);
    }
    // argon2 takes a while: off the connection's thread
    let result = tokio::task::spawn_blocking(move || {
        accounts
            .login(peer.ip(), &form.user, &form.password)
            .map(|t| (t, form.user))
    })
    .await;
    match result {
        Ok(Ok((token, user))) => {
            let level = app
                .accounts
                .as_ref()
                .and_then(|a| a.session(&token))
                .map_or(0, |u| u.level);
            let secure = if app.tls { "; Secure" } else { "" };
            let cookie = format!(
                "{}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
                accounts::COOKIE,
                accounts::SESSION_TIME.as_secs()
            );
            let mut resp =
                axum::Json(serde_json::json!({ "user": user, "level": level })).into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Ok(Err(accounts::LoginRefused::TooMany)) => {
            app.metrics.login_refused(true);
            (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(serde_json::json!({ "error": "too many failed logins: wait a minute" })),
            )
                .into_response()
        }
        Ok(Err(accounts::LoginRefused::Wrong)) | Err(_) => {
            app.metrics.login_refused(false);
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({ "error": "wrong user name or password" })),
            )
                .into_response()
        }
    }
}

/// `POST /api/logout`: ends the session and clears the cookie.
pub(super) async fn logout_api(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Some(accounts) = &app.accounts {
        for t in headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(accounts::token_of)
        {
            accounts.logout(t);
        }
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let clear = format!(
        "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        accounts::COOKIE
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&clear) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /api/me`: who is logged in (name, level, the event rules of SEND), `{"accounts": false}`
/// when the proxy has none, `{"accounts": true}` alone when it has and nobody is.
pub(super) async fn me_api(State(app): State<App>, headers: HeaderMap) -> Response {
    match &app.accounts {
        None => axum::Json(serde_json::json!({ "accounts": false })).into_response(),
        Some(accounts) => match logged_in(accounts, &headers) {
            Some(u) => {
                let send: Vec<String> = u.events.iter().map(ToString::to_string).collect();
                axum::Json(serde_json::json!({
                    "accounts": true, "user": u.name, "level": u.level, "send": send,
                }))
                .into_response()
            }
            None => axum::Json(serde_json::json!({ "accounts": true })).into_response(),
        },
    }
}
