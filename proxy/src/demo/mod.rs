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
/// The interface the Level I nodes sit behind (bytes 14–15 zero).
pub(crate) const INTERFACE_GUID: Guid = Guid([
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF5, 0, 1, 0, 0, 0, 0, 0, 0,
]);
