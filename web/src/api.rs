//! The proxy's HTTP API: `GET /api/targets`, `POST /api/linktest`, `GET /api/mdf`, and the
//! proxy login (`/api/me`, `/api/login`, `/api/logout`).

use gloo::net::http::{Request, Response};
use vscp_api::{LinktestRequest, Report, Target};
use yew::Callback;

use crate::account::{Account, Me};
use crate::state::ConnSettings;

/// `PROXY/path?query` with the settings' token added, if any (`query` may be empty).
fn api_url(s: &ConnSettings, path: &str, query: &str) -> String {
    let mut params: Vec<String> = (!query.is_empty())
        .then(|| query.to_string())
        .into_iter()
        .collect();
    if !s.token.is_empty() {
        params.push(format!("token={}", encode(&s.token)));
    }
    let base = format!("{}{path}", s.proxy.trim_end_matches('/'));
    if params.is_empty() {
        base
    } else {
        format!("{base}?{}", params.join("&"))
    }
}

fn encode(t: &str) -> String {
    String::from(js_sys::encode_uri_component(t))
}

/// Awaits a request; a failed or refused one becomes `what: reason` (the proxy's
/// `{"error": …}` when it gave one).
async fn answer(
    sent: impl std::future::Future<Output = Result<Response, gloo::net::Error>>,
    what: &str,
) -> Result<Response, String> {
    let resp = sent.await.map_err(|e| format!("{what}: {e}"))?;
    if resp.ok() {
        return Ok(resp);
    }
    let err: serde_json::Value = resp.json().await.unwrap_or_default();
    Err(format!(
        "{what}: {}",
        err["error"]
            .as_str()
            .map_or_else(|| format!("HTTP {}", resp.status()), str::to_string)
    ))
}

/// Loads `/api/targets` from the proxy the settings name (with their token, if any).
pub fn fetch_targets(s: &ConnSettings, cb: Callback<Result<Vec<Target>, String>>) {
    let url = api_url(s, "/api/targets", "");
    wasm_bindgen_futures::spawn_local(async move {
        let r = async {
            let resp = answer(Request::get(&url).send(), &url).await?;
            resp.json::<Vec<Target>>()
                .await
                .map_err(|e| format!("{url}: {e}"))
        };
        cb.emit(r.await);
    });
}

/// Runs linktest on the proxy against the chosen target.
pub fn run_linktest(s: &ConnSettings, cb: Callback<Result<Report, String>>) {
    let url = api_url(s, "/api/linktest", "");
    let body = LinktestRequest {
        target: s.target.clone(),
        user: s.user.clone(),
        password: s.password.clone(),
        token: (!s.token.is_empty()).then(|| s.token.clone()),
    };
    wasm_bindgen_futures::spawn_local(async move {
        let r = async {
            let req = Request::post(&url).json(&body).map_err(|e| e.to_string())?;
            let resp = answer(req.send(), "linktest refused").await?;
            resp.json::<Report>().await.map_err(|e| e.to_string())
        };
        cb.emit(r.await);
    });
}

/// Asks the proxy for a node's module description file (`/api/mdf?url=`): its text, or the
/// proxy's reason for not having it.
pub fn fetch_mdf(s: &ConnSettings, mdf_url: &str, cb: Callback<Result<String, String>>) {
    let url = api_url(s, "/api/mdf", &format!("url={}", encode(mdf_url)));
    let what = format!("MDF {mdf_url}");
    wasm_bindgen_futures::spawn_local(async move {
        let r = async {
            let resp = answer(Request::get(&url).send(), &what).await?;
            resp.text().await.map_err(|e| format!("{what}: {e}"))
        };
        cb.emit(r.await);
    });
}

/// Asks the proxy who the page is logged in as (`GET /api/me`).
pub fn fetch_me(s: &ConnSettings, cb: Callback<Account>) {
    let url = api_url(s, "/api/me", "");
    wasm_bindgen_futures::spawn_local(async move {
        let account = match Request::get(&url).send().await {
            Ok(resp) => match resp.json::<Me>().await {
                Ok(me) => me.into(),
                // a proxy from before accounts, or not a proxy: nothing to log in to
                Err(_) => Account::Open,
            },
            Err(_) => Account::Unknown,
        };
        cb.emit(account);
    });
}

/// Logs in to the proxy (`POST /api/login`; the proxy sets the session cookie) and says who
/// the page is then, or why not.
pub fn proxy_login(s: &ConnSettings, user: String, password: String, cb: Callback<Account>) {
    let url = api_url(s, "/api/login", "");
    let me = api_url(s, "/api/me", "");
    let body = serde_json::json!({ "user": user, "password": password });
    wasm_bindgen_futures::spawn_local(async move {
        let r = async {
            let req = Request::post(&url).json(&body).map_err(|e| e.to_string())?;
            answer(req.send(), "login refused").await?;
            let resp = answer(Request::get(&me).send(), "login").await?;
            resp.json::<Me>().await.map_err(|e| e.to_string())
        };
        cb.emit(match r.await {
            Ok(me) => me.into(),
            Err(e) => Account::LoggedOut(Some(e)),
        });
    });
}

/// Logs out of the proxy (`POST /api/logout`).
pub fn proxy_logout(s: &ConnSettings, cb: Callback<Account>) {
    let url = api_url(s, "/api/logout", "");
    wasm_bindgen_futures::spawn_local(async move {
        let _ = Request::post(&url).send().await;
        cb.emit(Account::LoggedOut(None));
    });
}
