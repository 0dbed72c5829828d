//! `vscp-proxy bootload`: firmware upload to one node through a link server, for headless and
//! scripted use. It reads the node's standard registers, checks the plan (bootloader algorithm,
//! device code), runs vscp-core's bootloader session with a progress bar, and reads the
//! firmware version back once the node is up again.
//!
//! Exit codes: 0 uploaded (and the version read back matches `--version` when given), 1 the
//! upload or the check after it failed, 2 refused before writing (file, plan, login).

use std::time::{Duration, Instant};

use anyhow::Context;
use vscp_core::{
    ClientConfig, Command, Guid, ReceiveMode, SessionEvent,
    bootloader::{BootConfig, BootError, BootOutput, BootSession, Expect, Identity, plan},
    firmware::Image,
    register_session::{RegisterConfig, RegisterOutput, RegisterSession},
    registers::{StandardRegisters, Target},
};

use crate::{
    config::BootloadArgs,
    link_client::{LinkClient, Wire},
};

/// Longest wait for the node after activation.
const COME_BACK: Duration = Duration::from_secs(10);

/// How a run ended, as an exit code.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Uploaded and checked.
    Done,
    /// Failed during or after the upload.
    Failed(String),
    /// Refused before anything was written.
    Refused(String),
}

impl Outcome {
    /// The process exit code.
    #[must_use]
    pub fn code(&self) -> i32 {
        match self {
            Outcome::Done => 0,
            Outcome::Failed(_) => 1,
            Outcome::Refused(_) => 2,
        }
    }
}

/// Runs `bootload` (prints the plan, a progress bar on a terminal, and the result).
pub async fn run(args: &BootloadArgs) -> Outcome {
    match upload(args).await {
        Ok(o) => o,
        Err(e) => Outcome::Refused(format!("{e:#}")),
    }
}

async fn upload(args: &BootloadArgs) -> anyhow::Result<Outcome> {
    let text =
        std::fs::read_to_string(&args.hex).with_context(|| format!("{}", args.hex.display()))?;
    let image = Image::from_hex(&text).with_context(|| format!("{}", args.hex.display()))?;
    let interface: Option<Guid> = args
        .interface
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--interface: {e}"))?;
    let target = Target {
        interface,
        nickname: args.nickname,
    };
    let config = ClientConfig {
        credentials: args.server.credentials(),
        receive: ReceiveMode::Stream,
        ..ClientConfig::default()
    };
    let mut client = LinkClient::connect(&args.server.addr, config, Duration::from_secs(5))
        .await
        .with_context(|| format!("connect to {}", args.server.addr))?;
    let std = read_standard(&mut client, target)
        .await
        .context("reading the node's standard registers")?;
    let expect = Expect {
        device_code: args.device_code,
        version: args.version,
    };
    let plan = match plan(&std, &image, &expect) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::Refused(e.to_string())),
    };
    eprintln!("node {} ({}): {plan}", args.nickname, std.guid);
    let boot = BootConfig {
        chunk: args.chunk,
        window: args.window,
        ..BootConfig::default()
    };
    let identity = Identity {
        guid: std.guid,
        page: std.page,
    };
    let started = Instant::now();
    let mut session = BootSession::new(target, identity, image, boot, client.now());
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta} left {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let end = drive_upload(&mut client, &mut session, &bar).await;
    bar.finish_and_clear();
    let took = started.elapsed();
    let p = session.progress();
    match end {
        BootOutput::Done { crc } => eprintln!(
            "uploaded {} bytes in {} blocks in {:.2} s ({:.0} bytes/s, {} retries), CRC sum 0x{crc:04X}",
            p.bytes_total,
            p.blocks_total,
            took.as_secs_f64(),
            p.bytes_total as f64 / took.as_secs_f64().max(1e-6),
            p.retries
        ),
        BootOutput::Failed(e) => {
            return Ok(Outcome::Failed(format!(
                "{e} (the node stays in its bootloader: run bootload again)"
            )));
        }
        other => return Ok(Outcome::Failed(format!("upload ended: {other:?}"))),
    }
    // the node starts again with the new image: its version read back
    let back = tokio::time::timeout(COME_BACK, read_standard(&mut client, target)).await;
    let Ok(Ok(after)) = back else {
        return Ok(Outcome::Failed(
            "the node did not answer after activation".into(),
        ));
    };
    let (a, b, c) = after.firmware;
    eprintln!("node {} now runs firmware {a}.{b}.{c}", args.nickname);
    client.quit().await;
    Ok(match args.version {
        Some(want) if want != after.firmware => Outcome::Failed(format!(
            "the node reports {a}.{b}.{c}, not the version given ({}.{}.{})",
            want.0, want.1, want.2
        )),
        _ => Outcome::Done,
    })
}

/// Reads registers 0x80–0xFF of page 0.
pub async fn read_standard<W: Wire>(
    client: &mut LinkClient<W>,
    target: Target,
) -> anyhow::Result<StandardRegisters> {
    let mut regs = RegisterSession::new(target, RegisterConfig::default());
    let mut values = [0u8; 128];
    regs.read(0, 0x80, 128, client.now());
    loop {
        while let Some(o) = regs.poll_output() {
            match o {
                RegisterOutput::Send(ev) => send(client, ev)?,
                RegisterOutput::Value { reg, value, .. } => {
                    if let Some(v) = values.get_mut(usize::from(reg).wrapping_sub(0x80)) {
                        *v = value;
                    }
                }
                RegisterOutput::Written { .. } => {}
                RegisterOutput::Failed { request, .. } => {
                    anyhow::bail!("no answer to {request:?}")
                }
            }
        }
        if regs.is_idle() {
            return Ok(StandardRegisters::decode(&values));
        }
        let wake = regs.poll_timeout().map(|t| client.instant(t));
        for ev in received(client, wake).await? {
            regs.handle_event(&ev, client.now());
        }
        regs.handle_timeout(client.now());
    }
}

/// Runs the bootloader session to its end over `client`; the last thing it said.
pub async fn drive_upload<W: Wire>(
    client: &mut LinkClient<W>,
    session: &mut BootSession,
    bar: &indicatif::ProgressBar,
) -> BootOutput {
    loop {
        while let Some(o) = session.poll_output() {
            match o {
                BootOutput::Send(ev) => {
                    if send(client, ev).is_err() {
                        return BootOutput::Failed(BootError::NoAnswer(
                            "SEND (the link server session is closed)",
                        ));
                    }
                }
                BootOutput::Entered { block_size, blocks } => {
                    bar.set_message(format!("({blocks} blocks of {block_size} bytes)"));
                }
                BootOutput::Programmed(_) => {}
                end => return end,
            }
        }
        let p = session.progress();
        bar.set_length(p.bytes_total);
        bar.set_position(p.bytes_done);
        let wake = session.poll_timeout().map(|t| client.instant(t));
        match received(client, wake).await {
            Ok(events) => {
                for ev in events {
                    session.handle_event(&ev, client.now());
                }
            }
            Err(_) => {
                return BootOutput::Failed(BootError::NoAnswer(
                    "the link server (connection lost)",
                ));
            }
        }
        session.handle_timeout(client.now());
    }
}

fn send<W: Wire>(client: &mut LinkClient<W>, ev: vscp_core::Event) -> anyhow::Result<()> {
    let now = client.now();
    client
        .session
        .send(Command::Send(ev), now)
        .map_err(|e| anyhow::anyhow!("SEND: {e:?}"))?;
    Ok(())
}

/// Flushes, waits for input until `wake` (or briefly), and returns the events received; an
/// error once the connection is gone.
async fn received<W: Wire>(
    client: &mut LinkClient<W>,
    wake: Option<Instant>,
) -> anyhow::Result<Vec<vscp_core::Event>> {
    let mut events = Vec::new();
    let mut take = |evs: Vec<SessionEvent>| -> anyhow::Result<()> {
        for e in evs {
            match e {
                SessionEvent::Received(ev) => events.push(ev),
                SessionEvent::Closed(why) => anyhow::bail!("connection closed: {why:?}"),
                SessionEvent::ProtocolError(e) => {
                    tracing::warn!("a line from the server not used: {e}")
                }
                SessionEvent::Connected { .. }
                | SessionEvent::State(_)
                | SessionEvent::Reply { .. }
                | SessionEvent::Adapted(_) => {}
            }
        }
        Ok(())
    };
    take(client.flush().await)?;
    let wake = wake.unwrap_or_else(|| Instant::now() + Duration::from_millis(50));
    if !client.input(Some(wake)).await {
        anyhow::bail!("connection closed");
    }
    take(client.flush().await)?;
    Ok(events)
}
