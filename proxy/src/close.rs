//! Websocket close codes the console turns into words (4000–4999 is the private range).

/// Why the proxy closed a websocket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseCode {
    /// `target=` names no allow-listed node.
    TargetNotAllowed = 4001,
    /// TCP connect to the node failed or timed out.
    NodeUnreachable = 4002,
    /// The node closed the TCP connection.
    NodeClosed = 4003,
    /// A line over the limit, in either direction.
    LineTooLong = 4004,
    /// No traffic for the idle time-out.
    IdleTimeout = 4005,
    /// `--token` set and the browser's token is missing or wrong.
    BadToken = 4006,
    /// The page's Origin is not allowed.
    BadOrigin = 4007,
    /// The proxy is shutting down.
    ShuttingDown = 4008,
    /// Binary messages are not part of the protocol.
    BinaryMessage = 4009,
    /// Text that is not UTF-8, or a websocket protocol error.
    BadFrame = 4010,
    /// Connection limit (total or per IP) reached.
    TooManyConnections = 4011,
    /// Reading from or writing to the node failed.
    NodeError = 4012,
}
