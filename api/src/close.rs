//! Websocket close codes of the proxy and their meaning: RFC 6455's own codes for protocol
//! errors, the private range (4000–4999) for the proxy's other reasons.

/// Defines [`CloseCode`], its list and its words from one table.
macro_rules! close_codes {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal => $words:literal,)*) => {
        /// Why the proxy closed a websocket.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum CloseCode {
            $($(#[doc = $doc])* $name = $code,)*
        }

        impl CloseCode {
            /// Every code, in numeric order.
            pub const ALL: &[CloseCode] = &[$(CloseCode::$name,)*];

            /// What it means, in words for the user.
            #[must_use]
            pub fn describe(self) -> &'static str {
                match self {
                    $(CloseCode::$name => $words,)*
                }
            }
        }
    };
}

close_codes! {
    /// The browser broke the websocket protocol (RFC 6455).
    ProtocolError = 1002 => "websocket protocol error",
    /// A message of a kind this route does not take (text on `/mqtt`).
    UnsupportedData = 1003 => "message type not accepted here",
    /// A text message that is not UTF-8 (RFC 6455).
    InvalidText = 1007 => "text message that is not UTF-8",
    /// A message over the proxy's size limit (RFC 6455).
    TooBig = 1009 => "message too large",
    /// The proxy's budget for messages being received is used up (many large messages at once).
    Busy = 1013 => "proxy busy: try again later",
    /// `target=` names no allow-listed node.
    TargetNotAllowed = 4001 => "target not allowed by the proxy",
    /// TCP connect to the node failed or timed out.
    NodeUnreachable = 4002 => "node unreachable",
    /// The node closed the TCP connection.
    NodeClosed = 4003 => "node closed the connection",
    /// A line over the limit, in either direction.
    LineTooLong = 4004 => "line too long",
    /// No traffic for the idle time-out.
    IdleTimeout = 4005 => "closed after idle time-out",
    /// `--token` set and the browser's token is missing or wrong.
    BadToken = 4006 => "proxy token missing or wrong",
    /// The page's Origin is not allowed.
    BadOrigin = 4007 => "this page's origin is not allowed by the proxy",
    /// The proxy is shutting down.
    ShuttingDown = 4008 => "proxy shutting down",
    /// Binary messages are not part of the protocol.
    BinaryMessage = 4009 => "binary message refused",
    /// Connection limit (total or per IP) reached.
    TooManyConnections = 4011 => "too many connections to the proxy",
    /// Reading from or writing to the node failed.
    NodeError = 4012 => "node connection failed",
    /// The browser did not answer a ping: it is gone.
    NoPong = 4013 => "browser stopped answering pings",
    /// The proxy has accounts (`--users`) and the browser has not logged in to it.
    LoginRequired = 4014 => "log in to the proxy first",
    /// The node refused the login the proxy keeps for it (`--node-logins`).
    NodeLoginFailed = 4015 => "the node refused the proxy's login",
    /// The proxy account of the session was removed, lowered or kept from the target (the
    /// users file was read again).
    AccountChanged = 4016 => "the proxy account was removed or changed",
}

/// A number that is not one of the proxy's close codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownCloseCode(pub u16);

impl CloseCode {
    /// The number on the wire.
    #[must_use]
    pub fn code(self) -> u16 {
        self as u16
    }

    /// Would connecting again give the same refusal (a setting must change first)?
    #[must_use]
    pub fn is_permanent(self) -> bool {
        matches!(
            self,
            CloseCode::TargetNotAllowed
                | CloseCode::BadToken
                | CloseCode::BadOrigin
                | CloseCode::LoginRequired
                | CloseCode::NodeLoginFailed
                | CloseCode::AccountChanged
        )
    }
}

impl TryFrom<u16> for CloseCode {
    type Error = UnknownCloseCode;

    fn try_from(code: u16) -> Result<Self, Self::Error> {
        CloseCode::ALL
            .iter()
            .copied()
            .find(|c| c.code() == code)
            .ok_or(UnknownCloseCode(code))
    }
}

impl std::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.describe(), self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for &c in CloseCode::ALL {
            assert_eq!(CloseCode::try_from(c.code()), Ok(c));
        }
        assert_eq!(CloseCode::try_from(1000), Err(UnknownCloseCode(1000)));
        assert_eq!(CloseCode::try_from(4017), Err(UnknownCloseCode(4017)));
        assert_eq!(CloseCode::try_from(4010), Err(UnknownCloseCode(4010)));
    }

    /// The operator manual's table is the user's copy of this list: it must say the same.
    #[test]
    fn manual_table_matches() {
        let manual = include_str!("../../docs/OPERATOR.md");
        let rows: Vec<(u16, &str)> = manual
            .lines()
            .filter_map(|l| {
                let mut cells = l.trim().strip_prefix('|')?.strip_suffix('|')?.split('|');
                let code = cells.next()?.trim().parse().ok()?;
                Some((code, cells.next()?.trim()))
            })
            .collect();
        let want: Vec<(u16, &str)> = CloseCode::ALL
            .iter()
            .map(|c| (c.code(), c.describe()))
            .collect();
        assert_eq!(
            rows, want,
            "docs/OPERATOR.md close-code table differs from CloseCode"
        );
    }
}
