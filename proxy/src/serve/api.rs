//! The API the console calls besides its websockets: `/api/targets`, `/metrics`, `/api/mdf`
//! and `/api/linktest`, each behind the Origin and token checks.

use super::*;

/// `?token=` on the API.
#[derive(Deserialize)]
pub(super) struct TokenQuery {
    token: Option<String>,
}

/// `GET /api/targets`: the allow-list, for callers that pass the Origin and token checks.
pub(super) async fn targets_api(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    match check_caller(&app, &headers, q.token.as_deref()) {
        Ok(()) => Json(app.targets.as_ref().clone()).into_response(),
        Err(refusal) => forbidden(refusal),
    }
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
