//! vscp-proxy: serves the vscp-link console and carries its websockets to allow-listed VSCP
//! link-protocol servers (TCP port 9598) and MQTT brokers. `serve/` is the HTTP side, `session/`
//! one browser connection, `ws/` the websocket transport, `bridge/` the `bridge` subcommand.
//!
//! Run it next to a node: `vscp-proxy --node hall=192.168.1.20:9598`, then open
//! `http://127.0.0.1:8080/`. `vscp-proxy --demo` adds simulated nodes in-process;
//! `vscp-proxy demo` runs only the simulated node on 127.0.0.1:9598 for other clients;
//! `vscp-proxy linktest HOST:PORT --user U --password P` checks any link-protocol server.
//!
//! As a library (what the binary and the tests use):
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! use clap::Parser;
//! let args = vscp_proxy::Args::parse_from(["vscp-proxy", "--demo", "--listen", "127.0.0.1:0"]);
//! let shutdown = vscp_proxy::Shutdown::new();
//! let server = vscp_proxy::Server::bind(&args, &shutdown).await?;
//! println!("{}", server.banner());
//! server.run().await // until shutdown.trigger()
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bootload;
pub mod bridge;
mod config;
pub mod config_file;
mod credentials;
mod demo;
pub mod link_client;
mod linktest;
mod metrics;
mod serve;
mod session;
mod shutdown;
mod tls;
mod ws;

pub use bootload::{Outcome as BootloadOutcome, drive_upload, read_standard, run as bootload};
pub use config::{
    Args, BootloadArgs, BridgeArgs, DemoArgs, LinktestArgs, LogFormat, ServerLogin, Sub,
};
pub use demo::run_standalone as run_demo;
pub use linktest::{Options as LinktestOptions, run as linktest};
pub use serve::{Server, SettingError, hash_password};
pub use shutdown::Shutdown;
