//! Codec and session throughput (criterion). Run with `cargo bench -p vscp-core --bench codec`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vscp_core::{
    ClientConfig, ClientSession, Event, Guid, Millis, Output, ReceiveMode, SessionEvent,
};

const LEVEL1: &str =
    "256,10,6,77,,1700000000123456789,FF:FF:FF:FF:FF:FF:FF:FE:00:05:93:14:02:32:00:01,136,129,1,7";

fn level2_line() -> String {
    let mut ev: Event = LEVEL1.parse().unwrap();
    ev.class = 1024;
    ev.data = (0..487u32).map(|i| (i * 7 % 256) as u8).collect();
    ev.to_string()
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("event");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse level I line", |b| {
        b.iter(|| black_box(LEVEL1).parse::<Event>().unwrap())
    });
    let ev: Event = LEVEL1.parse().unwrap();
    let mut out = String::with_capacity(256);
    g.bench_function("format level I line", |b| {
        b.iter(|| {
            out.clear();
            black_box(&ev).write_to(&mut out);
            black_box(out.len())
        })
    });
    let l2 = level2_line();
    g.bench_function("parse level II line (487 data bytes)", |b| {
        b.iter(|| black_box(l2.as_str()).parse::<Event>().unwrap())
    });
    let ev2: Event = l2.parse().unwrap();
    g.bench_function("format level II line (487 data bytes)", |b| {
        b.iter(|| {
            out.clear();
            black_box(&ev2).write_to(&mut out);
            black_box(out.len())
        })
    });
    g.bench_function("parse GUID", |b| {
        b.iter(|| {
            black_box("FF:FF:FF:FF:FF:FF:FF:FE:00:05:93:14:02:32:00:01")
                .parse::<Guid>()
                .unwrap()
        })
    });
    g.finish();
}

/// A client session in the receive loop fed 1,000,000 event lines in 64 KiB chunks.
fn session(c: &mut Criterion) {
    const N: usize = 1_000_000;
    let mut stream = String::with_capacity(N * (LEVEL1.len() + 2));
    for _ in 0..N {
        stream.push_str(LEVEL1);
        stream.push_str("\r\n");
    }
    let mut g = c.benchmark_group("session");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("stream 1M events", |b| {
        b.iter(|| {
            let config = ClientConfig {
                receive: ReceiveMode::Stream,
                ..ClientConfig::default()
            };
            let mut s = ClientSession::new(config, Millis(0));
            s.handle_bytes(b"+OK\r\n+OK\r\n", Millis(0)); // greeting, RCVLOOP reply
            while s.poll_output().is_some() {}
            let mut events = 0usize;
            for chunk in stream.as_bytes().chunks(64 * 1024) {
                s.handle_bytes(chunk, Millis(1));
                while let Some(o) = s.poll_output() {
                    events += usize::from(matches!(o, Output::Event(SessionEvent::Received(_))));
                }
            }
            assert_eq!(events, N);
        })
    });
    g.finish();
}

criterion_group!(benches, codec, session);
criterion_main!(benches);
