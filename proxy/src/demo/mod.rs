//! Simulated installation: a link-protocol server (vscp-core's `NodeSession`) with three
//! Level I nodes behind one interface — a temperature sensor, a humidity sensor and a
//! relay — plus heartbeats, who-is-there answers and registers. Every event the simulation
//! makes carries a sequence number in `obid` so clients can prove nothing was lost.
//!
//! `sim.rs` is the pure simulation (time in, events out); `server.rs` runs it behind TCP.

mod server;
mod sim;

use vscp_core::Guid;

pub use server::run_standalone;
pub(crate) use server::spawn;

/// Demo login with full rights.
pub(crate) const USER: &str = "admin";
/// Password of [`USER`].
pub(crate) const PASSWORD: &str = "secret";
/// The interface the Level I nodes of demo site 1 sit behind (bytes 14–15 zero).
#[cfg(test)]
pub(crate) const INTERFACE_GUID: Guid = interface_guid(1);

/// The interface of demo site `site` (`--site`): byte 9 is the site, so two demo
/// installations bridged together have nodes of their own.
pub(crate) const fn interface_guid(site: u8) -> Guid {
    Guid(vscp_api::demo::interface_guid(site))
}

/// The demo server's own GUID (GGID) at site `site`.
pub(crate) const fn server_guid(site: u8) -> Guid {
    Guid(vscp_api::demo::server_guid(site))
}
