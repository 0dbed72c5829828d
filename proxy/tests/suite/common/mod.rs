//! What the proxy's socket tests share, a file a concern:
//! - `proxy`: the proxy under test, in-process or as the binary;
//! - `ws`: websocket clients of it (replies, close codes, a vscp-core session, raw frames);
//! - `nodes`: link servers behind it (a stand-in node, the demo process, a line client);
//! - `brokers`: mosquitto, a nats-server cluster and MQTT subscribers;
//! - `host`: free ports, plain HTTP, CPU seconds, temp files.

mod brokers;
mod host;
mod nodes;
mod proxy;
mod ws;

pub use brokers::*;
pub use host::*;
pub use nodes::*;
pub use proxy::*;
pub use ws::*;
