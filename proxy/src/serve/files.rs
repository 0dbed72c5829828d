//! The console's files from `--static`: never a dotfile, never a path (or symlink) that
//! leaves the folder; hashed assets cached for a year, `index.html` (also the answer for
//! app routes) always revalidated, a missing asset a plain 404. Every response carries the
//! security headers, with a content security policy that allows exactly the page's own
//! inline scripts (by hash) and its wasm. Hashed text and wasm assets are compressed once
//! (brotli and gzip, in memory, on a thread of their own) and served in the encoding the
//! browser takes.

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
};

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
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
    /// Compressed copies of the hashed assets, once made.
    packed: Arc<OnceLock<HashMap<PathBuf, Packed>>>,
}

/// One asset, compressed both ways.
#[derive(Debug)]
struct Packed {
    br: bytes::Bytes,
    gzip: bytes::Bytes,
    kind: &'static str,
}

/// Assets larger than this are served as they are.
const PACK_LIMIT: u64 = 32 << 20;

impl StaticFiles {
    pub(crate) fn new(dir: &Path) -> StaticFiles {
        let root = std::fs::canonicalize(dir).ok();
        let index = root
            .as_ref()
            .and_then(|r| std::fs::read_to_string(r.join("index.html")).ok())
            .unwrap_or_default();
        let csp = HeaderValue::from_str(&policy(&index))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        let packed = Arc::new(OnceLock::new());
        if let Some(root) = root.clone() {
            let packed = packed.clone();
            // brotli at its best takes a few seconds for the wasm: until then assets go as they are
            std::thread::spawn(move || packed.set(pack(&root)));
        }
        StaticFiles { root, csp, packed }
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
        if cache == IMMUTABLE
            && let Some(resp) = self.packed_response(&file, &req)
        {
            return resp;
        }
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

    /// The compressed copy of `file` in an encoding the request accepts, if there is one.
    fn packed_response(&self, file: &Path, req: &Request) -> Option<Response> {
        let packed = self.packed.get()?.get(file)?;
        if ![Method::GET, Method::HEAD].contains(req.method()) {
            return None;
        }
        let accepts = req
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let (body, encoding) = if accepts_encoding(accepts, "br") {
            (packed.br.clone(), "br")
        } else if accepts_encoding(accepts, "gzip") {
            (packed.gzip.clone(), "gzip")
        } else {
            return None;
        };
        let length = body.len();
        let body = if req.method() == Method::HEAD {
            Body::empty()
        } else {
            Body::from(body)
        };
        let mut resp = Response::new(body);
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(packed.kind));
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        Some(resp)
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

/// Does an `Accept-Encoding` value take `coding` (named, or `*`, and not with `q=0`)?
fn accepts_encoding(header: &str, coding: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
    })
}

/// The media type of a compressible asset, by its extension.
fn compressible(path: &Path) -> Option<&'static str> {
    Some(match path.extension()?.to_str()? {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "txt" | "xml" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// Compresses every compressible file directly in `root` (Trunk's output is flat).
fn pack(root: &Path) -> HashMap<PathBuf, Packed> {
    let files = std::fs::read_dir(root).into_iter().flatten().flatten();
    files
        .filter_map(|entry| {
            let path = entry.path();
            let kind = compressible(&path)?;
            let meta = entry.metadata().ok()?;
            if !meta.is_file() || meta.len() > PACK_LIMIT {
                return None;
            }
            let raw = std::fs::read(&path).ok()?;
            let mut br = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut raw.as_slice(), &mut br, &params).ok()?;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(&raw).ok()?;
            let packed = Packed {
                br: br.into(),
                gzip: gz.finish().ok()?.into(),
                kind,
            };
            Some((path, packed))
        })
        .collect()
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
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts_encoding("gzip, deflate, br, zstd", "br"));
        assert!(accepts_encoding("gzip;q=1.0, br;q=0.5", "br"));
        assert!(!accepts_encoding("gzip, br;q=0", "br"));
        assert!(accepts_encoding("*", "gzip"));
        assert!(!accepts_encoding("identity", "gzip"));
        assert!(!accepts_encoding("", "br"));
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
