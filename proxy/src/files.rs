//! The console's files from `--static`: never a dotfile, never a path (or symlink) that
//! leaves the folder; hashed assets cached for a year, `index.html` (also the answer for
//! app routes) always revalidated, a missing asset a plain 404. Every response carries the
//! security headers, with a content security policy that allows exactly the page's own
//! inline scripts (by hash) and its wasm.

use std::path::{Path, PathBuf};

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// The static folder, resolved once.
#[derive(Clone, Debug)]
pub(crate) struct StaticFiles {
    /// Canonical path of `--static` (`None`: it does not exist).
    root: Option<PathBuf>,
    /// The content security policy for every response.
    csp: HeaderValue,
}

impl StaticFiles {
    pub(crate) fn new(dir: &Path) -> StaticFiles {
        let root = std::fs::canonicalize(dir).ok();
        let index = root
            .as_ref()
            .and_then(|r| std::fs::read_to_string(r.join("index.html")).ok())
            .unwrap_or_default();
        let csp = HeaderValue::from_str(&policy(&index))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        StaticFiles { root, csp }
    }

    /// Serves `GET` of any path not taken by the API.
    pub(crate) async fn serve(&self, req: Request) -> Response {
        let Some(root) = &self.root else {
            return not_found();
        };
        let Some(segments) = segments(req.uri().path()) else {
            return not_found();
        };
        let path = segments.iter().fold(root.clone(), |p, s| p.join(s));
        let (file, cache) = match std::fs::canonicalize(&path) {
            // a symlink may point anywhere: only what stays inside the folder is served
            Ok(real) if !real.starts_with(root) => return not_found(),
            Ok(real) if real.is_file() => {
                let index = real.file_name().is_some_and(|n| n == "index.html");
                (real, if index { NO_CACHE } else { IMMUTABLE })
            }
            Ok(real) if real == *root => (root.join("index.html"), NO_CACHE),
            // an asset (a name with an extension) that is not there is missing, not an app route
            _ if segments.last().is_some_and(|s| s.contains('.')) => return not_found(),
            Ok(_) | Err(_) => (root.join("index.html"), NO_CACHE),
        };
        match ServeFile::new(file).oneshot(req).await {
            Ok(resp) => {
                let mut resp = resp.map(Body::new);
                if resp.status().is_success() {
                    resp.headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
                }
                resp
            }
            Err(e) => match e {},
        }
    }

    /// Adds the security headers (and `no-cache` where nothing else was said).
    pub(crate) fn secure(&self, headers: &mut HeaderMap) {
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(NO_CACHE));
    }
}

const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// The decoded path segments, or `None` for a dotfile, `..`, or a segment hiding a separator.
fn segments(path: &str) -> Option<Vec<String>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .ok()?
                .into_owned();
            let bad = s.starts_with('.') || s.contains(['/', '\\', '\0']);
            (!bad).then_some(s)
        })
        .collect()
}

/// The content security policy for the page in `index`: its own files, its inline scripts by
/// SHA-256, wasm compilation, and websockets/HTTP to any proxy the user names.
fn policy(index: &str) -> String {
    let hashes: String = inline_scripts(index)
        .map(|body| {
            let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
            let b64 = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
            format!(" 'sha256-{b64}'")
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self' ws: wss: http: https:; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// The bodies of `<script>` elements without `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (tag, after) = rest.split_once('>')?;
        let (body, _) = after.split_once("</script>")?;
        (!tag.contains("src=")).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_or_hide_are_refused() {
        assert_eq!(segments("/a/b.js"), Some(vec!["a".into(), "b.js".into()]));
        assert_eq!(segments("/"), Some(vec![]));
        for bad in [
            "/.env",
            "/a/../b",
            "/%2e%2e/x",
            "/a%2Fb",
            "/.git/config",
            "/x%00",
        ] {
            assert_eq!(segments(bad), None, "{bad}");
        }
    }

    #[test]
    fn policy_names_inline_scripts_by_hash() {
        let html =
            r#"<script type="module">import x from '/a.js';</script><script src="/b.js"></script>"#;
        assert_eq!(
            inline_scripts(html).collect::<Vec<_>>(),
            ["import x from '/a.js';"]
        );
        let p = policy(html);
        assert!(p.contains("'sha256-"), "{p}");
        assert_eq!(p.matches("'sha256-").count(), 1);
        assert!(p.contains("frame-ancestors 'none'"));
    }
}
