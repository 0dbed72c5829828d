//! vscp-api: what vscp-proxy and the vscp-link console agree on, in one place.
//!
//! The websocket close codes (and the words the console shows for them), the allow-listed
//! targets of `GET /api/targets`, the request and report of `POST /api/linktest`, the MQTT
//! topic layout and server list the bridge and the console share, and the demo's GUIDs.
//! Pure data with serde; builds for native and wasm32.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod close;
pub mod demo;
mod linktest;
pub mod topics;

pub use close::{CloseCode, UnknownCloseCode};
pub use linktest::{Check, LinktestRequest, Outcome, Report};

use serde::{Deserialize, Serialize};

/// One allow-listed node, as `GET /api/targets` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Name the browser asks for (`/ws?target=NAME`).
    pub name: String,
    /// Node address, `HOST:PORT`.
    pub address: String,
    /// One of the proxy's simulated nodes?
    pub demo: bool,
    /// An MQTT broker (`/mqtt?target=NAME`, `--broker`) rather than a link server (`/ws`).
    #[serde(default)]
    pub mqtt: bool,
    /// The login of the proxy's demo nodes, which the page shows; never set for a real node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo_login: Option<Login>,
    /// The proxy logs in to this node itself (`--node …,login=ENTRY`): the page sends no
    /// login and never learns the node's password.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub node_login: bool,
}

/// A user name and password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}
