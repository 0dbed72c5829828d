//! The proxy's HTTP API: `GET /api/targets` and `POST /api/linktest`, typed by vscp-api.

use vscp_api::{LinktestRequest, Report, Target};
use yew::Callback;

use crate::state::ConnSettings;

/// Loads `/api/targets` from the proxy the settings name (with their token, if any).
pub fn fetch_targets(s: &ConnSettings, cb: Callback<Result<Vec<Target>, String>>) {
    let mut url = format!("{}/api/targets", s.proxy.trim_end_matches('/'));
    if !s.token.is_empty() {
        url.push_str("?token=");
        url.push_str(&String::from(js_sys::encode_uri_component(&s.token)));
    }
    wasm_bindgen_futures::spawn_local(async move {
        let r = async {
            let resp = gloo::net::http::Request::get(&url)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if !resp.ok() {
                return Err(format!("{url}: HTTP {}", resp.status()));
            }
            resp.json::<Vec<Target>>()
                .await
                .map_err(|e| format!("{url}: {e}"))
        }
        .await;
        cb.emit(r);
    });
}

/// Runs linktest on the proxy against the chosen target.
pub fn run_linktest(s: &ConnSettings, cb: Callback<Result<Report, String>>) {
    let url = format!("{}/api/linktest", s.proxy.trim_end_matches('/'));
    let body = LinktestRequest {
        target: s.target.clone(),
        user: s.user.clone(),
        password: s.password.clone(),
        token: (!s.token.is_empty()).then(|| s.token.clone()),
    };
    wasm_bindgen_futures::spawn_local(async move {
        let r = async {
            let req = gloo::net::http::Request::post(&url)
                .json(&body)
                .map_err(|e| e.to_string())?;
            let resp = req.send().await.map_err(|e| format!("{url}: {e}"))?;
            if !resp.ok() {
                let err: serde_json::Value = resp.json().await.unwrap_or_default();
                return Err(format!(
                    "linktest refused: {}",
                    err["error"].as_str().unwrap_or("HTTP error")
                ));
            }
            resp.json::<Report>().await.map_err(|e| e.to_string())
        }
        .await;
        cb.emit(r);
    });
}
