//! Scheduling points per second: a 3-thread program doing heap reads/writes and kref
//! gets/puts, under the no-preemption scheduler and under one that switches at every point.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kmodel::*;

const ITERS: u32 = 2_000;

fn program(k: &Kernel) {
    for t in 0..3 {
        k.spawn(
            if t == 0 {
                "a"
            } else if t == 1 {
                "b"
            } else {
                "c"
            },
            move |k| {
                let o = k.kzalloc("struct foo", "foo", 0u64);
                let r = k.kref_init(o.id(), "owner");
                for _ in 0..ITERS {
                    k.write(o, |v| *v += 1);
                    k.read(o, |v| *v);
                    k.kref_get(r, "loop");
                    k.kref_put(r, "loop", |_| ());
                }
                k.kref_put(r, "owner", move |k| k.kfree(o));
            },
        );
    }
}

fn points() -> u64 {
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, program);
    k.steps().len() as u64
}

fn bench(c: &mut Criterion) {
    let n = points();
    let mut g = c.benchmark_group("sched_points");
    g.throughput(Throughput::Elements(n));
    for (name, events) in [
        ("thread-order", true),
        ("thread-order/no-events", false),
        ("round-robin", true),
    ] {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let k = Kernel::new(Config {
                    record_events: events,
                    ..Config::default()
                });
                if name == "round-robin" {
                    k.run(&mut RoundRobin, program);
                } else {
                    k.run(&mut ThreadOrder, program);
                }
                assert_eq!(k.steps().len() as u64, n);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
