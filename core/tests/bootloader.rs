//! The bootloader session against the node side (`BootDevice`) with simulated time and
#![cfg(not(target_arch = "wasm32"))] // proptest is native only
//! latency: full uploads read back byte for byte, lost and refused chunks, a wrong CRC, abort,
//! a refused identity, and arbitrary replies (no panic, bounded output).

use std::collections::BTreeMap;

use vscp_core::{
    Event, Guid, Millis,
    bootloader::{BootConfig, BootDevice, BootError, BootOutput, BootSession, Fault, Identity},
    firmware::{Image, crc16},
    registers::Target,
};

const IFACE: &str = "FF:FF:FF:FF:FF:FF:FF:F5:00:01:00:00:00:00:00:00";

fn node_guid() -> Guid {
    IFACE.parse::<Guid>().unwrap().with_nickname(1)
}

fn target() -> Target {
    Target {
        interface: Some(IFACE.parse().unwrap()),
        nickname: 1,
    }
}

fn identity() -> Identity {
    Identity {
        guid: node_guid(),
        page: 0,
    }
}

/// A test image: `len` bytes of a pattern from address 0.
fn image(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// An upload of `len` bytes to node 1 with the default pacing, started at 0.
fn fresh(len: usize) -> BootSession {
    BootSession::new(
        target(),
        identity(),
        Image::from_bytes(0, image(len)),
        BootConfig::default(),
        Millis(0),
    )
}

struct Run {
    outputs: Vec<BootOutput>,
    device: BootDevice,
    sent: usize,
    took_ms: u64,
}

/// Runs an upload with `latency` ms each way until the session finishes; `abort_after`
/// blocks programmed, it aborts.
fn run(
    data: Vec<u8>,
    config: BootConfig,
    mut device: BootDevice,
    latency: u64,
    abort_after: Option<usize>,
) -> Run {
    let mut now = Millis(0);
    let mut s = BootSession::new(
        target(),
        identity(),
        Image::from_bytes(0, data),
        config,
        now,
    );
    // events to the session by arrival time (a sequence number keeps their order)
    let mut inbox: BTreeMap<(u64, u64), Event> = BTreeMap::new();
    let mut seq = 0;
    let (mut outputs, mut sent) = (Vec::new(), 0);
    for _ in 0..10_000_000 {
        while let Some(o) = s.poll_output() {
            match &o {
                BootOutput::Send(ev) => {
                    sent += 1;
                    let inner = ev.as_level1().unwrap().into_owned();
                    let answer = if inner.kind == 12 {
                        device.enter(&inner.data, &node_guid(), 0)
                    } else {
                        device.handle(inner.kind, &inner.data)
                    };
                    for (kind, data) in answer {
                        let reply = Event {
                            guid: node_guid(),
                            data,
                            ..Event::new(0, kind)
                        };
                        inbox.insert((now.0 + 2 * latency, seq), reply);
                        seq += 1;
                    }
                }
                BootOutput::Programmed(p) if Some(p.blocks_done) == abort_after => s.abort(now),
                _ => {}
            }
            outputs.push(o);
        }
        if s.is_finished() {
            return Run {
                outputs,
                device,
                sent,
                took_ms: now.0,
            };
        }
        let next_event = inbox.keys().next().map(|k| k.0);
        let next = match (next_event, s.poll_timeout()) {
            (Some(a), Some(b)) => a.min(b.0),
            (a, b) => a.or(b.map(|m| m.0)).expect("something to wait for"),
        };
        now = Millis(next.max(now.0));
        while let Some(entry) = inbox.first_entry() {
            if entry.key().0 > now.0 {
                break;
            }
            let ev = entry.remove();
            s.handle_event(&ev, now);
        }
        s.handle_timeout(now);
    }
    panic!("the upload did not finish");
}

fn done(outputs: &[BootOutput]) -> Option<u16> {
    outputs.iter().find_map(|o| match o {
        BootOutput::Done { crc } => Some(*crc),
        _ => None,
    })
}

#[test]
fn a_full_upload_reads_back() {
    let data = image(64 * 1024);
    let r = run(
        data.clone(),
        BootConfig::default(),
        BootDevice::new(256, 1024),
        1,
        None,
    );
    let crc = done(&r.outputs).expect("done");
    let want = data
        .chunks(256)
        .fold(0u16, |sum, b| sum.wrapping_add(crc16(b)));
    assert_eq!(crc, want);
    assert_eq!(r.device.read(0, 0, data.len()), data);
    assert!(!r.device.is_active(), "the node left its bootloader");
    // 1 enter, per block: start, 32 chunks, program; activate
    assert_eq!(r.sent, 1 + 256 * 34 + 1);
    // a window of 16 chunks in flight: far fewer round trips than events
    assert!(r.took_ms < 2 * 256 * 6, "{} ms", r.took_ms);
}

#[test]
fn larger_chunks_through_a_level2_interface() {
    let data = image(10_000);
    let config = BootConfig {
        chunk: 256,
        ..BootConfig::default()
    };
    let r = run(data.clone(), config, BootDevice::new(1024, 64), 1, None);
    assert!(done(&r.outputs).is_some());
    // the last block is padded with 0xFF
    let mut want = data.clone();
    want.resize(10 * 1024, 0xFF);
    assert_eq!(r.device.read(0, 0, want.len()), want);
    assert_eq!(r.sent, 1 + 10 * (1 + 4 + 1) + 1);
}

#[test]
fn lost_and_refused_chunks_restart_their_block() {
    for fault in [Fault::Drop(100), Fault::Nack(37), Fault::Drop(0)] {
        let data = image(4096);
        let mut device = BootDevice::new(256, 64);
        device.set_fault(Some(fault));
        let r = run(data.clone(), BootConfig::default(), device, 3, None);
        assert!(
            done(&r.outputs).is_some(),
            "{fault:?}: {:?}",
            r.outputs.last()
        );
        assert_eq!(r.device.read(0, 0, data.len()), data, "{fault:?}");
        let retries = r
            .outputs
            .iter()
            .filter_map(|o| match o {
                BootOutput::Programmed(p) => Some(p.retries),
                _ => None,
            })
            .max();
        assert!(retries >= Some(1), "{fault:?}");
    }
}

#[test]
fn abort_and_refusals_are_reported() {
    // abort before anything was programmed: the node leaves its bootloader
    let mut device = BootDevice::new(256, 64);
    let g = node_guid().0;
    let entered = device.enter(&[1, 0, g[0], g[3], g[5], g[7], 0, 0], &node_guid(), 0);
    assert_eq!(entered[0].0, 13);
    let mut s = fresh(64);
    s.abort(Millis(1));
    let abort = std::iter::from_fn(|| s.poll_output()).last();
    let Some(BootOutput::Send(ev)) = abort else {
        panic!("{abort:?}")
    };
    let inner = ev.as_level1().unwrap().into_owned();
    assert_eq!(inner.kind, 55);
    let (kind, data) = device.handle(inner.kind, &inner.data).remove(0);
    s.handle_event(
        &Event {
            guid: node_guid(),
            data,
            ..Event::new(0, kind)
        },
        Millis(2),
    );
    assert_eq!(
        s.poll_output(),
        Some(BootOutput::Aborted { acknowledged: true })
    );
    assert!(!device.is_active());
    // abort midway: a single-image node cannot go back, and says so
    let r = run(
        image(4096),
        BootConfig::default(),
        BootDevice::new(256, 64),
        1,
        Some(3),
    );
    assert_eq!(
        r.outputs.last(),
        Some(&BootOutput::Aborted {
            acknowledged: false
        })
    );
    assert!(r.device.is_active(), "still in its bootloader");
    // an image larger than the node
    let r = run(
        image(4096),
        BootConfig::default(),
        BootDevice::new(256, 8),
        1,
        None,
    );
    assert!(matches!(
        r.outputs.last(),
        Some(BootOutput::Failed(BootError::DoesNotFit { block: 8, .. }))
    ));
}

#[test]
fn a_node_that_does_not_answer_fails_cleanly() {
    let mut s = fresh(64);
    while let Some(t) = s.poll_timeout() {
        s.handle_timeout(t);
    }
    let last = std::iter::from_fn(|| s.poll_output()).last();
    assert_eq!(
        last,
        Some(BootOutput::Failed(BootError::NoAnswer("enter bootloader")))
    );
    assert!(s.is_finished());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any replies at any time: no panic, and output stays bounded by what was sent.
        #[test]
        fn any_replies(replies in proptest::collection::vec((0u16..64, proptest::collection::vec(any::<u8>(), 0..12), 0u64..50), 0..200)) {
            let mut s = fresh(2048);
            let mut now = Millis(0);
            let mut outputs = 0usize;
            for (kind, data, dt) in replies {
                now = now.plus(dt);
                let ev = Event { guid: node_guid(), data, ..Event::new(0, kind) };
                s.handle_event(&ev, now);
                s.handle_timeout(now);
                while s.poll_output().is_some() {
                    outputs += 1;
                }
                prop_assert!(outputs < 100_000);
            }
        }
    }
}
