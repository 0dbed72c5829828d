//! vscp-proxy: serves the vscp-link console and bridges its websockets to VSCP link-protocol
//! servers (TCP port 9598) on an allow-list.
//!
//! Run it next to a node: `vscp-proxy --node hall=192.168.1.20:9598`, then open
//! `http://127.0.0.1:8080/`. `vscp-proxy --demo` adds simulated nodes in-process;
//! `vscp-proxy demo` runs only the simulated node on 127.0.0.1:9598 for other clients;
//! `vscp-proxy linktest HOST:PORT --user U --password P` checks any link-protocol server.

mod bridge;
mod close;
mod config;
mod demo;
mod limits;
mod linktest;
mod server;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "vscp_proxy=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = config::Args::parse();
    let shutdown = server::Shutdown::on_signals();
    match args.command {
        Some(config::Sub::Demo(d)) => demo::run_standalone(d, shutdown).await,
        Some(config::Sub::Linktest(t)) => {
            let options = linktest::Options {
                addr: t.addr,
                credentials: t.user.map(|u| (u, t.password)),
                throughput: t.throughput,
                rounds: t.rounds,
            };
            let report = linktest::run(&options).await;
            if t.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.text());
            }
            std::process::exit(i32::from(report.failed > 0));
        }
        None => server::run(args, shutdown).await,
    }
}
