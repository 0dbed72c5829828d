//! The opening handshake (RFC 6455 §4.2) as an axum extractor: the request is checked, the
//! answer is `101 Switching Protocols` (its accept key from tungstenite), and the connection
//! is handed to tokio-tungstenite once hyper has switched it.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use base64::Engine;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::WebSocket;

/// A checked websocket upgrade request.
pub(crate) struct Upgrade {
    key: HeaderValue,
    protocols: Option<HeaderValue>,
    on_upgrade: OnUpgrade,
}

/// Why a request is not a websocket handshake: the HTTP answer it gets.
#[derive(Debug)]
pub(crate) struct Rejected(StatusCode, &'static str);

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.1)
    }
}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        let mut r = (self.0, self.1).into_response();
        if self.0 == StatusCode::UPGRADE_REQUIRED {
            // the versions this server speaks (RFC 6455 §4.4)
            r.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        r
    }
}

impl<S: Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Upgrade, Rejected> {
        let bad = |why| Err(Rejected(StatusCode::BAD_REQUEST, why));
        if parts.method != Method::GET {
            return Err(Rejected(
                StatusCode::METHOD_NOT_ALLOWED,
                "a websocket handshake is a GET request",
            ));
        }
        let h = &parts.headers;
        if !has_token(h, header::CONNECTION, "upgrade") {
            return bad("Connection header did not include 'upgrade'");
        }
        if !has_token(h, header::UPGRADE, "websocket") {
            return bad("Upgrade header did not include 'websocket'");
        }
        if h.get(header::SEC_WEBSOCKET_VERSION)
            .map(HeaderValue::as_bytes)
            != Some(b"13")
        {
            return Err(Rejected(
                StatusCode::UPGRADE_REQUIRED,
                "Sec-WebSocket-Version must be 13",
            ));
        }
        let Some(key) = h.get(header::SEC_WEBSOCKET_KEY).cloned() else {
            return bad("Sec-WebSocket-Key header missing");
        };
        let nonce = base64::engine::general_purpose::STANDARD.decode(key.as_bytes());
        if !nonce.is_ok_and(|n| n.len() == 16) {
            return bad("Sec-WebSocket-Key is not 16 bytes in base64");
        }
        let protocols = h.get(header::SEC_WEBSOCKET_PROTOCOL).cloned();
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            return Err(Rejected(
                StatusCode::UPGRADE_REQUIRED,
                "this connection cannot be upgraded",
            ));
        };
        Ok(Upgrade {
            key,
            protocols,
            on_upgrade,
        })
    }
}

impl Upgrade {
    /// Answers `101 Switching Protocols` (choosing subprotocol `protocol` when the browser
    /// offered it) and runs `session` with the websocket once the connection is switched.
    pub(crate) fn on_upgrade<F, Fut>(
        self,
        protocol: Option<&'static str>,
        max_message: usize,
        budget: std::sync::Arc<super::Budget>,
        session: F,
    ) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(io) => {
                    session(WebSocket::new(TokioIo::new(io), max_message, budget).await).await
                }
                Err(e) => tracing::debug!(%e, "websocket upgrade failed"),
            }
        });
        let mut answer = Response::new(axum::body::Body::empty());
        *answer.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = answer.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(
            header::SEC_WEBSOCKET_ACCEPT,
            HeaderValue::from_str(&derive_accept_key(self.key.as_bytes()))
                .unwrap_or(HeaderValue::from_static("")),
        );
        let offered = |p: &str| {
            self.protocols
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|o| o.trim() == p))
        };
        if let Some(p) = protocol.filter(|p| offered(p)) {
            h.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(p));
        }
        answer
    }
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_tokens_are_found_in_lists() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert!(has_token(&h, header::CONNECTION, "upgrade"));
        assert!(!has_token(&h, header::UPGRADE, "websocket"));
    }
}
