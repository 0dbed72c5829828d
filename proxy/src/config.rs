//! Command line: every limit has a flag and a documented default.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args as ClapArgs, Parser, Subcommand};

/// Websocket-to-TCP proxy for the VSCP link protocol; serves the vscp-link console.
#[derive(Parser, Debug, Clone)]
#[command(version = env!("VSCP_VERSION_LINE"), about)]
pub struct Args {
    /// Address to serve HTTP/websocket on (loopback by default; expose it on purpose).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Allowed target `NAME=HOST:PORT` (repeatable). The browser picks by NAME, never by address.
    /// `NAME=HOST:PORT,login=ENTRY`: the proxy logs in to the node with entry ENTRY of
    /// --node-logins, and the browser never learns the node's password.
    /// Default: `local=127.0.0.1:9598` unless --demo is given.
    #[arg(long = "node", value_parser = parse_node_arg)]
    pub nodes: Vec<NodeArg>,
    /// Node logins the proxy keeps (TOML: `[ENTRY]` tables with `user` and `password`), named by
    /// `--node NAME=HOST:PORT,login=ENTRY`; needs --users or --token.
    #[arg(long)]
    pub node_logins: Option<PathBuf>,
    /// Allowed MQTT broker `NAME=HOST:PORT` (repeatable): the console's broker connection
    /// reaches its TCP port through `/mqtt?target=NAME` (for brokers without a websocket
    /// listener, or not reachable from the browser).
    #[arg(long = "broker", value_parser = parse_node)]
    pub brokers: Vec<(String, String)>,
    /// Serve the console from this folder (Trunk's `dist/`, for console development) instead
    /// of the one built into the binary.
    #[arg(long = "static")]
    pub static_dir: Option<PathBuf>,
    /// Start simulated nodes in-process and allow them as target `demo`.
    #[arg(long)]
    pub demo: bool,
    /// Serve `/echo`, a websocket that sends every message back (for conformance suites such
    /// as Autobahn against the proxy's websocket side; Host, Origin and limits still apply).
    #[arg(long)]
    pub echo: bool,
    /// With --demo: additionally flood this many measurement events per second (load tests).
    #[arg(long, default_value_t = 0)]
    pub demo_rate: u32,
    /// With --demo: the site number in the demo GUIDs (byte 9), so several demo
    /// installations bridged together have nodes of their own.
    #[arg(long, default_value_t = 1)]
    pub site: u8,
    /// Allowed page Origin (repeatable). Default: the origin of the page this proxy serves
    /// (same host). Requests without an Origin header (non-browser clients) are allowed.
    #[arg(long = "allow-origin")]
    pub allow_origins: Vec<String>,
    /// Host name the proxy may be reached by (repeatable). Default: IP addresses and
    /// `localhost` only, so a web page cannot reach it by DNS rebinding.
    #[arg(long = "allow-host")]
    pub allow_hosts: Vec<String>,
    /// Shared secret the browser must present as `token=` on the websocket URL (and on
    /// `/api/targets`).
    #[arg(long)]
    pub token: Option<String>,
    /// Proxy accounts (TOML `[[user]]`: name, password_hash, role or level, targets): the
    /// page logs in to the proxy, and each line goes to a node only at the account's level.
    #[arg(long)]
    pub users: Option<PathBuf>,
    /// Append one JSON line per session start and end and per command of level 4 or more.
    #[arg(long)]
    pub audit: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS/WSS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Speak TLS to every node (`--node` addresses must then use the certificate's host name).
    #[arg(long, requires = "node_ca")]
    pub node_tls: bool,
    /// PEM file of the CA certificate(s) that node certificates must chain to (with --node-tls).
    #[arg(long)]
    pub node_ca: Option<PathBuf>,
    /// Most websocket sessions at once.
    #[arg(long, default_value_t = 1024)]
    pub max_conns: usize,
    /// Most websocket sessions from one IP address.
    #[arg(long, default_value_t = 64)]
    pub max_conns_per_ip: usize,
    /// Longest protocol line in bytes, each direction (a full Level II event is ~2.2 kB).
    #[arg(long, default_value_t = vscp_core::MAX_LINE)]
    pub max_line: usize,
    /// Close a session after this many seconds without traffic either way.
    #[arg(long, default_value_t = 300)]
    pub idle_timeout: u64,
    /// Seconds to wait for a TCP connect to a node.
    #[arg(long, default_value_t = 5)]
    pub connect_timeout: u64,
    /// Seconds a client has to send its HTTP request headers (slowloris guard).
    #[arg(long, default_value_t = 10)]
    pub handshake_timeout: u64,
    /// Connection threads (0: one per core). Each connection is served by one of them from
    /// start to end. One thread forwards millions of events a second and, busy with several
    /// sessions, handles their messages in batches; more spread many busy browsers over cores.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// MiB that all sessions together may hold of browser messages not yet received whole
    /// (each message is at most 1 MiB); past it, the session whose read would exceed it is
    /// closed with 1013 "proxy busy". Memory for messages is this plus 8 KiB per session.
    #[arg(long, default_value_t = 64)]
    pub message_budget: usize,
    /// Seconds between websocket pings to the browser; a browser that misses one pong is
    /// gone and its session ends (0: never ping).
    #[arg(long, default_value_t = 20)]
    pub ping_interval: u64,
    /// Folder of module description files: a node's MDF URL is answered with the file of
    /// the same name from here (`/api/mdf?url=`).
    #[arg(long)]
    pub mdf_dir: Option<PathBuf>,
    /// Host whose MDF URLs the proxy may fetch over http: `HOST` allows port 80 only,
    /// `HOST:PORT` that port (repeatable; at most 512 KiB, 5 s, no redirects).
    #[arg(long = "mdf-fetch")]
    pub mdf_fetch: Vec<String>,
    /// Read the settings from this TOML file (every option has a key of the same name;
    /// targets as `[[node]]` tables). An option on the command line wins over the file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Check the settings (the file, the users, node logins and TLS files they name), print
    /// them (secrets as ***) and exit: 0 when good, 2 with the reason.
    #[arg(long)]
    pub check: bool,
    /// Log lines as text, or one JSON object per line (for log collectors).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Subcommand.
    #[command(subcommand)]
    pub command: Option<Sub>,
}

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Words (colours only on a terminal).
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum Sub {
    /// Run only the simulated installation as a link-protocol server (for other clients).
    Demo(DemoArgs),
    /// Check a link-protocol server for conformance; exit code 1 when a check fails.
    Linktest(LinktestArgs),
    /// Bridge link servers to each other (every event one shows is SENT into the others).
    Bridge(BridgeArgs),
    /// Read a password from standard input and print its hash for a `--users` file.
    HashPassword,
    /// Put new firmware on a node with the VSCP bootloader; exit code 0 done, 1 failed, 2 refused.
    Bootload(BootloadArgs),
}

/// A link server to connect to and the login for it (`linktest`, `bootload`).
#[derive(ClapArgs, Debug, Clone)]
pub struct ServerLogin {
    /// The server, `HOST:PORT`.
    pub addr: String,
    /// Login user (omit for servers without login).
    #[arg(long)]
    pub user: Option<String>,
    /// Login password.
    #[arg(long, default_value = "")]
    pub password: String,
}

impl ServerLogin {
    /// The credentials for a client session, when a user is given.
    #[must_use]
    pub fn credentials(&self) -> Option<(String, String)> {
        self.user.clone().map(|u| (u, self.password.clone()))
    }
}

/// Options of `bootload`.
#[derive(ClapArgs, Debug, Clone)]
pub struct BootloadArgs {
    /// The link server and its login.
    #[command(flatten)]
    pub server: ServerLogin,
    /// The node's nickname.
    #[arg(long)]
    pub nickname: u8,
    /// The firmware, an Intel HEX file.
    #[arg(long)]
    pub hex: PathBuf,
    /// The interface GUID the node sits behind (events then go as Level I over Level II).
    #[arg(long)]
    pub interface: Option<String>,
    /// The firmware device code the image is for (refused when the node's 0xA3/0xA4 differ).
    #[arg(long, value_parser = vscp_core::bootloader::parse_device_code)]
    pub device_code: Option<u16>,
    /// The image's version `MAJOR.MINOR.BUILD` (checked against the node after activation).
    #[arg(long, value_parser = vscp_core::bootloader::parse_version)]
    pub version: Option<(u8, u8, u8)>,
    /// Bytes per block data event (8 for Level I; up to 496 through a Level II interface).
    #[arg(long, default_value_t = 8)]
    pub chunk: usize,
    /// Block data events in flight at once.
    #[arg(long, default_value_t = 16)]
    pub window: usize,
}

/// Options of `bridge`.
#[derive(ClapArgs, Debug, Clone)]
pub struct BridgeArgs {
    /// The configuration file (TOML: `[[server]]` entries; see docs/OPERATOR.md).
    #[arg(long)]
    pub config: PathBuf,
    /// Only check the file (every value in range) and exit: 0 when good, 2 with the reason.
    #[arg(long)]
    pub check: bool,
}

/// Options of `linktest`.
#[derive(ClapArgs, Debug, Clone)]
pub struct LinktestArgs {
    /// The server and its login.
    #[command(flatten)]
    pub server: ServerLogin,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also SEND this many events and report SEND/s.
    #[arg(long, default_value_t = 0)]
    pub throughput: u32,
    /// Also run this many NOOP round trips and report failures and latency.
    #[arg(long, default_value_t = 0)]
    pub rounds: u32,
}

/// Options of the standalone demo node.
#[derive(ClapArgs, Debug, Clone)]
pub struct DemoArgs {
    /// Address of the link-protocol server.
    #[arg(long, default_value = "127.0.0.1:9598")]
    pub listen: SocketAddr,
    /// Flood this many extra measurement events per second.
    #[arg(long, default_value_t = 0)]
    pub demo_rate: u32,
    /// The site number in the demo GUIDs (byte 9).
    #[arg(long, default_value_t = 1)]
    pub site: u8,
    /// The nodes answer each event after this many ms (a slow bus, for benchmarks).
    #[arg(long, default_value_t = 0)]
    pub reply_delay_ms: u64,
}

/// One `--node`: a target's name, its address and the node login the proxy uses, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeArg {
    /// Target name.
    pub name: String,
    /// `HOST:PORT`.
    pub address: String,
    /// Entry of `--node-logins`.
    pub login: Option<String>,
}

fn parse_node_arg(s: &str) -> Result<NodeArg, String> {
    let (target, login) = match s.split_once(',') {
        Some((t, opt)) => match opt.split_once('=') {
            Some(("login", entry)) if !entry.is_empty() => (t, Some(entry.to_string())),
            _ => return Err("after the address only `,login=ENTRY`".into()),
        },
        None => (s, None),
    };
    let (name, address) = parse_node(target)?;
    Ok(NodeArg {
        name,
        address,
        login,
    })
}

fn parse_node(s: &str) -> Result<(String, String), String> {
    let (name, addr) = s.split_once('=').ok_or("expected NAME=HOST:PORT")?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("NAME: letters, digits, - and _".into());
    }
    if addr
        .rsplit_once(':')
        .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
    {
        return Err("expected HOST:PORT".into());
    }
    Ok((name.to_string(), addr.to_string()))
}

impl Args {
    /// The limits every session keeps.
    pub(crate) fn limits(&self) -> anyhow::Result<crate::session::Limits> {
        let node_tls = match (&self.node_tls, &self.node_ca) {
            (true, Some(ca)) => Some(crate::tls::connector(ca)?),
            _ => None,
        };
        Ok(crate::session::Limits {
            max_line: self.max_line,
            idle: Duration::from_secs(self.idle_timeout),
            connect: Duration::from_secs(self.connect_timeout),
            ping: (self.ping_interval > 0).then(|| Duration::from_secs(self.ping_interval)),
            node_tls,
            budget: crate::ws::Budget::new(self.message_budget.saturating_mul(1 << 20)),
        })
    }
}
