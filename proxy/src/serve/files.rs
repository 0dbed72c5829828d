//! The console's files: built into the binary (see `build.rs`: compressed there, ready at
//! the first request), or from a folder given with `--static` (for console development:
//! compressed once, in the background, after the start). Never a dotfile, never a path (or
//! symlink) that leaves the folder; hashed assets cached for a year, `index.html` (also the
//! answer for app routes) always revalidated, a missing asset a plain 404, and a proxy with
//! no console says how to build one. Every response carries the security headers, with a
//! content security policy that allows exactly the page's own inline scripts (by hash) and
//! its wasm. Assets go in the encoding the browser takes (brotli, gzip, or as they are).

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
    response::{Html, IntoResponse, Response},
};
use base64::Engine;
use bytes::Bytes;
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// One file of the console built into the binary, as it is and compressed.
struct Asset {
    name: &'static str,
    raw: &'static [u8],
    br: Option<&'static [u8]>,
    gzip: Option<&'static [u8]>,
}

/// The console this binary was built with (empty: built without one).
static CONSOLE: &[Asset] = include!(concat!(env!("OUT_DIR"), "/console.rs"));

/// Where the console comes from.
#[derive(Clone, Debug)]
enum Source {
    /// Built into the binary.
    Embedded,
    /// A folder (`--static`), with compressed copies of its hashed assets once made.
    Folder {
        root: PathBuf,
        packed: Arc<OnceLock<HashMap<PathBuf, Packed>>>,
    },
    /// None: every page says why and how to get one.
    Missing(Arc<str>),
}

/// The console's files, resolved once.
#[derive(Clone, Debug)]
pub(crate) struct StaticFiles {
    source: Source,
    /// The content security policy for every response.
    csp: HeaderValue,
}

/// One asset, compressed both ways.
#[derive(Debug)]
struct Packed {
    br: Bytes,
    gzip: Bytes,
    kind: &'static str,
}

/// Assets larger than this are served as they are.
const PACK_LIMIT: u64 = 32 << 20;

impl StaticFiles {
    /// The console from `dir` when given, else the one built in; logs which (or that there
    /// is none, and how to build it).
    pub(crate) fn new(dir: Option<&Path>) -> StaticFiles {
        let (source, index) = match dir {
            Some(dir) => match std::fs::canonicalize(dir) {
                Ok(root) if root.join("index.html").is_file() => {
                    let index =
                        std::fs::read_to_string(root.join("index.html")).unwrap_or_default();
                    let packed = Arc::new(OnceLock::new());
                    let (p, r) = (packed.clone(), root.clone());
                    // brotli at its best takes a few seconds for the wasm: until then assets go as they are
                    std::thread::spawn(move || p.set(pack(&r)));
                    tracing::info!(dir = %root.display(), "console from the folder given with --static");
                    (Source::Folder { root, packed }, index)
                }
                _ => {
                    let why = format!(
                        "--static {}: no console there (no index.html). Build one with `trunk build --release` \
                         (or `./x dist`), or start without --static to use the console built into the binary.",
                        dir.display()
                    );
                    tracing::warn!("{why}");
                    (Source::Missing(why.into()), String::new())
                }
            },
            None if CONSOLE.is_empty() => {
                let why = "this vscp-proxy was built without the console. Build the console first and \
                           then the proxy: `./x dist` in a source checkout (or `trunk build --release` and \
                           `cargo build --release -p vscp-proxy`), or serve a built console with --static DIR.";
                tracing::warn!("{why}");
                (Source::Missing(why.into()), String::new())
            }
            None => {
                let index = embedded("index.html")
                    .map(|a| String::from_utf8_lossy(a.raw).into_owned())
                    .unwrap_or_default();
                tracing::info!(files = CONSOLE.len(), "console built into the binary");
                (Source::Embedded, index)
            }
        };
        let csp = HeaderValue::from_str(&policy(&index))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        StaticFiles { source, csp }
    }

    /// Serves `GET` (and `HEAD`) of any path not taken by the API; other methods get 405.
    pub(crate) async fn serve(&self, req: Request) -> Response {
        if ![Method::GET, Method::HEAD].contains(req.method()) {
            let mut resp = StatusCode::METHOD_NOT_ALLOWED.into_response();
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        let Some(segments) = segments(req.uri().path()) else {
            return not_found();
        };
        match &self.source {
            Source::Embedded => serve_embedded(&segments, &req),
            Source::Folder { root, packed } => serve_folder(root, packed, &segments, req).await,
            Source::Missing(why) => missing(why),
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

/// The page of a proxy without a console: what happened and how to get one.
fn missing(why: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>vscp-proxy: no console</title></head>\
         <body><h1>vscp-proxy runs, but has no console to serve</h1><p id=\"why\">{}</p>\
         <p>The websocket and API endpoints work as usual.</p></body></html>",
        why.replace('&', "&amp;").replace('<', "&lt;")
    );
    (StatusCode::SERVICE_UNAVAILABLE, Html(page)).into_response()
}

/// The built-in file of this name.
fn embedded(name: &str) -> Option<&'static Asset> {
    CONSOLE.iter().find(|a| a.name == name)
}

/// A file of the built-in console (its files are flat); `index.html` for the root and for
/// app routes.
fn serve_embedded(segments: &[String], req: &Request) -> Response {
    let asset = match segments {
        [] => embedded("index.html"),
        [name] => embedded(name),
        _ => None,
    };
    let asset = match asset {
        Some(a) => a,
        // an asset (a name with an extension) that is not there is missing, not an app route
        None if segments.last().is_some_and(|s| s.contains('.')) => return not_found(),
        None => match embedded("index.html") {
            Some(a) => a,
            None => return not_found(),
        },
    };
    let cache = if asset.name == "index.html" {
        NO_CACHE
    } else {
        IMMUTABLE
    };
    let (body, encoding) = match encoding(
        req,
        asset.br.map(Bytes::from_static),
        asset.gzip.map(Bytes::from_static),
    ) {
        Some((body, coding)) => (body, Some(coding)),
        None => (Bytes::from_static(asset.raw), None),
    };
    bytes_response(
        req,
        body,
        media_type(Path::new(asset.name)),
        encoding,
        cache,
    )
}

/// A file of the `--static` folder.
async fn serve_folder(
    root: &Path,
    packed: &OnceLock<HashMap<PathBuf, Packed>>,
    segments: &[String],
    req: Request,
) -> Response {
    let path = segments.iter().fold(root.to_path_buf(), |p, s| p.join(s));
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
        && let Some(p) = packed.get().and_then(|all| all.get(&file))
        && let Some((body, coding)) = encoding(&req, Some(p.br.clone()), Some(p.gzip.clone()))
    {
        return bytes_response(&req, body, p.kind, Some(coding), IMMUTABLE);
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

/// The compressed body the request takes (brotli before gzip), if any.
fn encoding(
    req: &Request,
    br: Option<Bytes>,
    gzip: Option<Bytes>,
) -> Option<(Bytes, &'static str)> {
    let accepts = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match (br, gzip) {
        (Some(b), _) if accepts_encoding(accepts, "br") => Some((b, "br")),
        (_, Some(g)) if accepts_encoding(accepts, "gzip") => Some((g, "gzip")),
        _ => None,
    }
}

/// A response of `body` (none for `HEAD`) with its type, encoding and caching.
fn bytes_response(
    req: &Request,
    body: Bytes,
    kind: &'static str,
    encoding: Option<&'static str>,
    cache: &'static str,
) -> Response {
    let length = body.len();
    let body = if req.method() == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Some(coding) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
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

/// The media type of any console file, by its extension.
fn media_type(path: &Path) -> &'static str {
    compressible(path).unwrap_or(match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webmanifest") => "application/manifest+json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
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
