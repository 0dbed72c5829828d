//! Module description files for the console (`GET /api/mdf?url=`): a node names its MDF by a
//! URL in its registers; the proxy answers with the file of that name from `--mdf-dir`, the
//! demo nodes' own files, or a fetch from a host allowed by `--mdf-fetch` (plain http,
//! size- and time-limited, no redirects). Nothing else is ever fetched.

use std::{path::PathBuf, time::Duration};

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;

/// Largest MDF the proxy passes on.
pub(crate) const MAX_MDF: usize = 512 * 1024;
/// Time for a whole fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Host name of the demo nodes' MDF URLs.
pub(crate) const DEMO_HOST: &str = "vscp-link.local";
/// The demo nodes' files, by name.
const DEMO_FILES: [(&str, &str); 3] = [
    ("temp.xml", include_str!("../demo/mdf/temp.xml")),
    ("humid.json", include_str!("../demo/mdf/humid.json")),
    ("relay.xml", include_str!("../demo/mdf/relay.xml")),
];

/// Where MDFs may come from.
#[derive(Clone, Debug, Default)]
pub(crate) struct MdfSources {
    /// `--mdf-dir`, resolved.
    pub(crate) dir: Option<PathBuf>,
    /// `--mdf-fetch` hosts, lower case (`HOST` allows port 80 only, `HOST:PORT` that port).
    pub(crate) fetch: Vec<String>,
    /// The demo runs: its files are known.
    pub(crate) demo: bool,
}

/// `https://x` → (`Some("https")`, `x`); a URL without a scheme has none.
fn scheme(url: &str) -> (Option<&'static str>, &str) {
    let t = url.trim();
    for s in ["http", "https"] {
        if let Some(rest) = t
            .get(..s.len() + 3)
            .filter(|p| p.eq_ignore_ascii_case(&format!("{s}://")))
            .and_then(|_| t.get(s.len() + 3..))
        {
            return (Some(s), rest);
        }
    }
    (None, t)
}

/// A node's MDF URL taken apart: host (with port) and path.
fn split(url: &str) -> Option<(String, String)> {
    let rest = scheme(url).1;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let ok_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    let ok_path = path
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'#' && b != b'\\');
    (ok_host && ok_path).then(|| (host, format!("/{path}")))
}

/// The file name a URL ends in, if it is a plain one.
fn file_name(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next()?;
    let name = name.split('?').next()?;
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    plain.then_some(name)
}

fn refused(status: StatusCode, msg: String) -> Response {
    (status, Json(serde_json::json!({ "error": msg }))).into_response()
}

fn file(name: &str, body: String) -> Response {
    let kind = if name.ends_with(".json") {
        "application/json"
    } else {
        "application/xml; charset=utf-8"
    };
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r
}

impl MdfSources {
    /// Answers a node's MDF URL (see the module docs).
    pub(crate) async fn answer(&self, url: &str) -> Response {
        let Some((host, path)) = split(url) else {
            return refused(
                StatusCode::BAD_REQUEST,
                format!("{url:?} is not an MDF URL"),
            );
        };
        let name = file_name(&path);
        if let (Some(dir), Some(name)) = (&self.dir, name) {
            // size first, and the reads off the connection thread (tokio::fs)
            let candidate = dir.join(name);
            if let Ok(real) = tokio::fs::canonicalize(&candidate).await
                && real.starts_with(dir)
                && let Ok(meta) = tokio::fs::metadata(&real).await
                && meta.is_file()
            {
                if meta.len() > MAX_MDF as u64 {
                    return refused(
                        StatusCode::BAD_GATEWAY,
                        format!("{name} is over {MAX_MDF} bytes"),
                    );
                }
                return match tokio::fs::read(&real).await {
                    Ok(b) if b.len() <= MAX_MDF => {
                        file(name, String::from_utf8_lossy(&b).into_owned())
                    }
                    Ok(_) => refused(
                        StatusCode::BAD_GATEWAY,
                        format!("{name} is over {MAX_MDF} bytes"),
                    ),
                    Err(e) => refused(StatusCode::INTERNAL_SERVER_ERROR, format!("{name}: {e}")),
                };
            }
        }
        if self.demo && host == DEMO_HOST {
            return match DEMO_FILES.iter().find(|(n, _)| Some(*n) == name) {
                Some((n, body)) => file(n, (*body).to_string()),
                None => refused(StatusCode::NOT_FOUND, format!("the demo has no {path}")),
            };
        }
        if scheme(url).0 == Some("https") {
            return refused(
                StatusCode::BAD_GATEWAY,
                format!(
                    "https fetches are not supported: put {} in --mdf-dir",
                    name.unwrap_or("the file")
                ),
            );
        }
        let target = with_port(&host);
        if !self.fetch.iter().any(|a| with_port(a) == target) {
            return refused(
                StatusCode::FORBIDDEN,
                format!(
                    "the proxy may not fetch from {target}: start it with --mdf-fetch {target}, or put {} in --mdf-dir",
                    name.unwrap_or("the file")
                ),
            );
        }
        match tokio::time::timeout(FETCH_TIMEOUT, fetch(&target, &host, &path)).await {
            Ok(Ok(body)) => file(name.unwrap_or("mdf.xml"), body),
            // every failure in the same words: how it failed would tell what listens where
            failed => {
                if let Ok(Err(e)) = failed {
                    tracing::info!(%host, %path, %e, "MDF fetch failed");
                }
                refused(
                    StatusCode::BAD_GATEWAY,
                    format!(
                        "could not fetch http://{host}{path} (no answer, or not a 200 with a file of at most {MAX_MDF} bytes, within {} s)",
                        FETCH_TIMEOUT.as_secs()
                    ),
                )
            }
        }
    }
}

/// `host` with its port, `:80` when it names none.
fn with_port(host: &str) -> String {
    let has_port = match host.rsplit_once(':') {
        Some((h, p)) => {
            !h.is_empty() && p.parse::<u16>().is_ok() && (!h.starts_with('[') || h.ends_with(']'))
        }
        None => false,
    };
    if has_port {
        host.to_string()
    } else {
        format!("{host}:80")
    }
}

/// GET `http://host/path` from `addr` (host and port): the body, if the answer is 200 and
/// the body fits [`MAX_MDF`].
async fn fetch(addr: &str, host: &str, path: &str) -> anyhow::Result<String> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(conn);
    let req = hyper::Request::get(path)
        .header(header::HOST, host)
        .header(header::USER_AGENT, "vscp-proxy")
        .body(http_body_util::Empty::<bytes::Bytes>::new())?;
    let resp = sender.send_request(req).await?;
    if resp.status() != StatusCode::OK {
        driver.abort();
        anyhow::bail!("the server answered {}", resp.status());
    }
    let mut body = resp.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if bytes.len() + data.len() > MAX_MDF {
                driver.abort();
                anyhow::bail!("the file is over {MAX_MDF} bytes");
            }
            bytes.extend_from_slice(&data);
        }
    }
    driver.abort();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_file_names() {
        assert_eq!(
            split("vscp-link.local/demo/temp.xml"),
            Some(("vscp-link.local".into(), "/demo/temp.xml".into()))
        );
        assert_eq!(
            split("HTTP://Example.org:8080/a.xml").map(|s| s.0),
            Some("example.org:8080".into())
        );
        assert_eq!(scheme("https://x/y").0, Some("https"));
        assert_eq!(split("bad host/x"), None);
        assert_eq!(file_name("/a/b/c.xml"), Some("c.xml"));
        assert_eq!(file_name("/a/../.."), None);
        assert_eq!(file_name("/a/.env"), None);
        assert_eq!(file_name("/"), None);
        assert_eq!(with_port("example.org"), "example.org:80");
        assert_eq!(with_port("example.org:8080"), "example.org:8080");
        assert_eq!(with_port("[::1]"), "[::1]:80");
        assert_eq!(with_port("[::1]:81"), "[::1]:81");
    }

    #[test]
    fn demo_files_are_valid_mdfs() {
        for (name, body) in DEMO_FILES {
            let m = vscp_core::mdf::Mdf::parse(body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(format!("{}.", m.name), name[..name.find('.').unwrap() + 1]);
            assert!(
                !m.registers.is_empty() && !m.remote_vars.is_empty(),
                "{name}"
            );
            if name.starts_with("temp") {
                let fw = &m.firmware[0];
                assert_eq!(
                    (fw.target_code, fw.version, fw.file_name()),
                    (Some(0x1001), Some((4, 5, 6)), "temp-4.5.6.hex")
                );
            }
        }
    }
}
