//! The proxy's HTTP API: `GET /api/targets`, `POST /api/linktest` and `GET /api/mdf`.

use vscp_api::{LinktestRequest, Report, Target};
use yew::Callback;

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

/// Loads `/api/targets` from the proxy the settings name (with their token, if any).
pub fn fetch_targets(s: &ConnSettings, cb: Callback<Result<Vec<Target>, String>>) {
    let url = api_url(s, "/api/targets", "");
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

/// Asks the proxy for a node's module description file (`/api/mdf?url=`): its text, or the
/// proxy's reason for not having it.
pub fn fetch_mdf(s: &ConnSettings, mdf_url: &str, cb: Callback<Result<String, String>>) {
    let enc = |t: &str| String::from(js_sys::encode_uri_component(t));
    let mut url = format!(
        "{}/api/mdf?url={}",
        s.proxy.trim_end_matches('/'),
        enc(mdf_url)
    );
    if !s.token.is_empty() {
        url.push_str(&format!("&token={}", enc(&s.token)));
    }
    let shown = mdf_url.to_string();
    wasm_bindgen_futures::spawn_local(async move {
        let r = async {
            let resp = gloo::net::http::Request::get(&url)
                .send()
                .await
                .map_err(|e| format!("MDF {shown}: {e}"))?;
            if !resp.ok() {
                let err: serde_json::Value = resp.json().await.unwrap_or_default();
                return Err(format!(
                    "MDF {shown}: {}",
                    err["error"].as_str().unwrap_or("HTTP error")
                ));
            }
            resp.text().await.map_err(|e| format!("MDF {shown}: {e}"))
        }
        .await;
        cb.emit(r);
    });
}
