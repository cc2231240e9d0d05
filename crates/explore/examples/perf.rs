//! Per-execution cost of the strategies on one model: `cargo run --release -p explore --example perf`.
use explore::{models, Explorer, Options, Strategy};
use std::time::Instant;
fn main() {
    let p = models::hpn(3, 0, true);
    let o = Options {
        threads: 1,
        progress: false,
        ..Options::default()
    };
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..200 {
        n += Explorer::new(Strategy::Dpor, o.clone())
            .run(&p)
            .stats
            .executions;
    }
    println!(
        "dpor hpn(3,0): {:.0} exec/s",
        n as f64 / t.elapsed().as_secs_f64()
    );
    let mut o2 = o.clone();
    o2.count_traces = false;
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..200 {
        n += Explorer::new(Strategy::Dpor, o2.clone())
            .run(&p)
            .stats
            .executions;
    }
    println!(
        "dpor hpn(3,0) no trace set: {:.0} exec/s",
        n as f64 / t.elapsed().as_secs_f64()
    );
    let r = Explorer::new(
        Strategy::Random { seed: 1 },
        Options {
            max_executions: Some(100_000),
            ..o.clone()
        },
    )
    .run(&p);
    println!("random hpn(3,0): {:.0} exec/s", r.stats.executions_per_sec);
    let r = Explorer::new(
        Strategy::Random { seed: 1 },
        Options {
            max_executions: Some(100_000),
            count_traces: false,
            ..o.clone()
        },
    )
    .run(&p);
    println!(
        "random hpn(3,0) no traces: {:.0} exec/s",
        r.stats.executions_per_sec
    );
    let r = Explorer::new(
        Strategy::Dfs,
        Options {
            max_executions: Some(100_000),
            count_traces: false,
            ..o.clone()
        },
    )
    .run(&p);
    println!(
        "dfs hpn(3,0) no traces: {:.0} exec/s",
        r.stats.executions_per_sec
    );
}
