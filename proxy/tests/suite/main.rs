//! vscp-proxy's integration tests: one test binary, a module per area, everything over real
//! sockets and processes on 127.0.0.1. Run them with `cargo nextest run -p vscp-proxy` (each
//! test its own process; `.config/nextest.toml` keeps the load tests from overlapping and
//! starts the long ones first) or `cargo test -p vscp-proxy`.
//!
//! # Layout
//! - `common`: starting the proxy, the demo and brokers; websocket and link-client helpers.
//! - the proxy's sides: `proxy` (forwarding, refusals, load, TLS), `http_edges`, `ws_edges`,
//!   `limits`, `node_faults`, `server_variants` (sloppy link servers), `accounts`,
//!   `mqtt_session`, `config_file`, `fuzz_seeds`;
//! - the subcommands: `bootload`, `linktest`, `bridge_config`, `bridge_servers`,
//!   `bridge_mqtt`, `bridge_cluster`;
//! - long runs: `soak`; and `release` (the cross builds under qemu, ignored unless `./x`
//!   names the files).

mod common;

mod accounts;
mod bootload;
mod bridge_cluster;
mod bridge_config;
mod bridge_mqtt;
mod bridge_servers;
mod config_file;
mod fuzz_seeds;
mod http_edges;
mod limits;
mod linktest;
mod mqtt_session;
mod node_faults;
mod proxy;
mod release;
mod server_variants;
mod soak;
mod ws_edges;
