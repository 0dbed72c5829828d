//! Reads all 256 registers of demo node 1 through the proxy (websocket → proxy → demo node)
//! with vscp-core's register session, as the console does: prints the time, requests and
//! retries per full page, with the default window of 4 and with one request at a time.
//! Run: `cargo bench -p vscp-proxy --bench registers` (part of `./x bench`).

#[path = "../tests/suite/common/mod.rs"]
#[allow(dead_code, unused_imports)] // a bench uses a part of the tests' helpers
mod common;

use std::time::{Duration, Instant};

use vscp_core::{
    Command, Guid, SessionEvent,
    register_session::{RegisterConfig, RegisterOutput, RegisterSession},
    registers::{StandardRegisters, Target},
};

const ROUNDS: usize = 7;

/// One full page read; returns (elapsed, requests, retries).
async fn read_page(c: &mut common::WsClient, window: usize) -> (Duration, u64, u64) {
    let iface: Guid = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:00"
        .parse()
        .unwrap();
    let config = RegisterConfig {
        window,
        ..RegisterConfig::default()
    };
    let mut regs = RegisterSession::new(
        Target {
            interface: Some(iface),
            nickname: 1,
        },
        config,
    );
    let mut values = [None; 256];
    let started = Instant::now();
    regs.read(0, 0, 256, c.now());
    let client = &mut c.client;
    loop {
        while let Some(o) = regs.poll_output() {
            match o {
                RegisterOutput::Send(ev) => {
                    let now = client.now();
                    client.session.send(Command::Send(ev), now).unwrap();
                }
                RegisterOutput::Value { reg, value, .. } => values[usize::from(reg)] = Some(value),
                RegisterOutput::Written { .. } => {}
                RegisterOutput::Failed { request, .. } => panic!("{request:?} failed"),
            }
        }
        if regs.is_idle() {
            break;
        }
        let mut answered = false;
        for event in client.flush().await {
            if let SessionEvent::Received(ev) = event {
                answered |= regs.handle_event(&ev, client.now());
            }
        }
        if answered {
            continue; // the register session may have more to send now
        }
        let wake = regs
            .poll_timeout()
            .map_or(Instant::now() + Duration::from_millis(50), |t| {
                client.instant(t)
            });
        client.input(Some(wake)).await;
        regs.handle_timeout(client.now());
    }
    let elapsed = started.elapsed();
    let block: Vec<u8> = values[0x80..]
        .iter()
        .map(|v| v.expect("every register read"))
        .collect();
    let std = StandardRegisters::decode(block.as_slice().try_into().unwrap());
    assert_eq!(std.guid, iface.with_nickname(1));
    let st = regs.stats();
    (elapsed, st.sent, st.retries)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let p = common::Proxy::start(&["--demo"]);
        let mut c = common::WsClient::streaming(&p.url("target=demo")).await;
        println!(
            "full page (256 registers) of demo node 1 through the proxy, {ROUNDS} rounds each:"
        );
        println!("| window | median | min | max | requests | retries |");
        println!("|---|---|---|---|---|---|");
        for window in [4, 1] {
            let mut runs = Vec::new();
            for _ in 0..ROUNDS {
                runs.push(read_page(&mut c, window).await);
            }
            runs.sort_by_key(|r| r.0);
            let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
            println!(
                "| {window} | {} | {} | {} | {} | {} |",
                ms(runs[ROUNDS / 2].0),
                ms(runs[0].0),
                ms(runs[ROUNDS - 1].0),
                runs[ROUNDS / 2].1,
                runs.iter().map(|r| r.2).sum::<u64>()
            );
        }
    });
}
