//! The `vscp-proxy` command: see the library's documentation and `vscp-proxy --help`.

use vscp_proxy::{LinktestOptions, LogFormat, Server, Shutdown, Sub};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut loaded = match vscp_proxy::config_file::load(std::env::args_os().collect()) {
        Ok(l) => l,
        Err(e) => e.exit(), // --help and --version exit 0; a refusal 2
    };
    init_logs(loaded.args.log_format);
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(std::path::PathBuf::from);
    for id in loaded.args.use_credentials(credentials.as_deref()) {
        tracing::info!("{id}: read from the service's credentials");
    }
    let args = loaded.args;
    if args.command.is_none() {
        if let Err(e) = Server::check(&args) {
            eprintln!("vscp-proxy: {}: {:#}", loaded.origins.of(e.option), e.error);
            std::process::exit(2);
        }
        if args.check {
            print!(
                "{}",
                vscp_proxy::config_file::describe(&loaded.matches, &loaded.origins)
            );
            println!("# good: the settings and the files they name were read");
            return Ok(());
        }
    }
    let shutdown = Shutdown::on_signals();
    match args.command {
        Some(Sub::HashPassword) => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!password.is_empty(), "no password on standard input");
            println!("{}", vscp_proxy::hash_password(password)?);
            Ok(())
        }
        Some(Sub::Demo(d)) => vscp_proxy::run_demo(d, shutdown).await,
        Some(Sub::Bootload(b)) => {
            let outcome = vscp_proxy::bootload(&b).await;
            match &outcome {
                vscp_proxy::BootloadOutcome::Done => println!("done"),
                vscp_proxy::BootloadOutcome::Failed(why) => {
                    eprintln!("vscp-proxy bootload: failed: {why}")
                }
                vscp_proxy::BootloadOutcome::Refused(why) => {
                    eprintln!("vscp-proxy bootload: refused: {why}")
                }
            }
            std::process::exit(outcome.code());
        }
        Some(Sub::Bridge(b)) => {
            let config = match vscp_proxy::bridge::BridgeConfig::load(&b.config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("vscp-proxy bridge: {e:#}");
                    std::process::exit(2);
                }
            };
            if b.check {
                println!(
                    "{}: good ({} server(s){})",
                    b.config.display(),
                    config.server.len(),
                    if config.mqtt.is_some() {
                        " and [mqtt]"
                    } else {
                        ""
                    }
                );
                return Ok(());
            }
            for (name, c) in vscp_proxy::bridge::run(config, shutdown).await {
                use std::sync::atomic::Ordering::Relaxed;
                eprintln!(
                    "{name}: {} received, {} sent, {} dropped, {} echoes, {} looped, {} reconnects, {} unreadable, {} bad lines, {} refused",
                    c.received.load(Relaxed),
                    c.sent.load(Relaxed),
                    c.dropped.load(Relaxed),
                    c.echoes.load(Relaxed),
                    c.looped.load(Relaxed),
                    c.reconnects.load(Relaxed),
                    c.unreadable.load(Relaxed),
                    c.bad_lines.load(Relaxed),
                    c.refused.load(Relaxed)
                );
            }
            Ok(())
        }
        Some(Sub::Linktest(t)) => {
            let options = LinktestOptions {
                credentials: t.server.credentials(),
                addr: t.server.addr,
                throughput: t.throughput,
                rounds: t.rounds,
            };
            let report = vscp_proxy::linktest(&options).await;
            if report.needs_login && !t.json {
                eprintln!(
                    "linktest {}: the server wants a login: give --user and --password",
                    report.server
                );
                std::process::exit(2);
            }
            if t.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.text());
            }
            std::process::exit(if report.needs_login {
                2
            } else {
                i32::from(report.failed > 0)
            });
        }
        None => {
            let server = match Server::bind(&args, &shutdown).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("vscp-proxy: {e:#}");
                    std::process::exit(2);
                }
            };
            println!("{}", server.banner());
            server.run().await
        }
    }
}

/// Logs to standard error: words (coloured only on a terminal) or JSON, one event a line.
fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "vscp_proxy=info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}
