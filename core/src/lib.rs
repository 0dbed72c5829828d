//! vscp-core: the VSCP tcp/ip link protocol as a deterministic state machine.
//!
//! It never touches a socket or a clock: bytes and the current time go in; lines to send,
//! events and the next wake-up time come out. It builds for native targets and for
//! `wasm32-unknown-unknown`, and bad input is a typed error, never a panic.
//!
//! Every driver runs the same loop: one input, drain [`ClientSession::poll_output`] to
//! `None`, then wait for bytes or [`ClientSession::poll_timeout`]. A blocking TCP driver:
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::time::{Duration, Instant};
//! use vscp_core::{ClientConfig, ClientSession, Millis, Output, SessionEvent};
//!
//! fn main() -> std::io::Result<()> {
//! let mut tcp = std::net::TcpStream::connect("127.0.0.1:9598")?;
//! let start = Instant::now();
//! let now = || Millis(start.elapsed().as_millis() as u64);
//! let config = ClientConfig { credentials: Some(("admin".into(), "secret".into())), ..Default::default() };
//! let mut session = ClientSession::new(config, now());
//! let mut buf = [0u8; 4096];
//! loop {
//!     while let Some(out) = session.poll_output() {
//!         match out {
//!             Output::Transmit(line) => tcp.write_all(line.as_bytes())?,
//!             Output::Event(SessionEvent::Received(ev)) => println!("event {ev}"),
//!             Output::Event(SessionEvent::Closed(why)) => return Ok::<_, std::io::Error>(println!("closed: {why}")),
//!             Output::Event(other) => println!("{other:?}"),
//!         }
//!     }
//!     let wait = session.poll_timeout().map_or(1_000, |t| t.0.saturating_sub(now().0).max(1));
//!     tcp.set_read_timeout(Some(Duration::from_millis(wait)))?;
//!     match tcp.read(&mut buf) {
//!         Ok(0) => session.handle_close("server closed"),
//!         Ok(n) => session.handle_bytes(&buf[..n], now()),
//!         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
//!             session.handle_timeout(now())
//!         }
//!         Err(e) => session.handle_close(&e.to_string()),
//!     }
//! }
//! }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod ascii;
pub mod bootloader;
mod client;
mod command;
mod datetime;
mod event;
pub mod event_forms;
mod filter;
pub mod firmware;
mod guid;
mod line;
mod measure_request;
mod node;
mod number;
mod reply;
mod rtt;

pub mod mdf;
pub mod measurement;
pub mod names;
pub mod policy;
pub mod register_session;
pub mod registers;
pub mod scan;

pub use client::{
    Adaptation, ClientConfig, ClientSession, CloseReason, CommandId, MAX_QUEUE, MAX_REPLY_LINES,
    Millis, NoReply, Output, ProtocolError, ReceiveMode, SendError, SessionEvent, State,
};
pub use command::{COMMANDS, Command, CommandInfo, CommandParseError, InterfaceArg};
pub use datetime::utc_string;
pub use event::{
    Event, EventParseError, Field, LEVEL1_OVER_LEVEL2, MAX_DATA, MAX_DATA_LEVEL1, SourceLine,
    Stamp, TimeForm, Unread, parse_data,
};
pub use filter::{Filter, FilterParseError, FilterPart};
pub use guid::{Guid, GuidError};
pub use line::{Framed, LineBuf, MAX_LINE};
pub use measure_request::{MeasurementRequest, ValueFormat};
pub use measurement::{Measurement, MeasurementError};
pub use node::{
    MemoryNode, Node, NodeConfig, NodeOutput, NodeSession, SendRefused, stamp_if_unknown,
};
pub use number::NumberError;
pub use reply::{Capabilities, Info, Interface, Reply, ReplyError, Stat, Status, Version};
