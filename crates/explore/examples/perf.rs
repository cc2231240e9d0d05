//! Per-execution cost of the strategies on hp3: `cargo run --release -p explore --example perf`.
use explore::{models, Explorer, Options, Strategy};
use std::time::Instant;
fn main() {
    let p = models::hp3(true);
    let o = Options {
        threads: 1,
        progress: None,
        ..Options::default()
    };
    for (name, s, ct) in [
        ("dpor", Strategy::Dpor, true),
        ("dpor, no trace set", Strategy::Dpor, false),
    ] {
        let t = Instant::now();
        let mut n = 0;
        while t.elapsed().as_secs_f64() < 1.0 {
            n += Explorer::new(
                s,
                Options {
                    count_traces: ct,
                    ..o.clone()
                },
            )
            .run(&p)
            .stats
            .executions;
        }
        println!(
            "{name} hp3: {:.0} exec/s",
            n as f64 / t.elapsed().as_secs_f64()
        );
    }
    for ct in [true, false] {
        let r = Explorer::new(
            Strategy::Random { seed: 1 },
            Options {
                max_executions: Some(300_000),
                count_traces: ct,
                ..o.clone()
            },
        )
        .run(&p);
        println!(
            "random hp3 (traces {ct}): {:.0} exec/s",
            r.stats.executions_per_sec
        );
    }
    let r = Explorer::new(
        Strategy::Dfs,
        Options {
            count_traces: false,
            ..o.clone()
        },
    )
    .run(&p);
    println!(
        "naive dfs hp3, no trace set: {:.0} exec/s",
        r.stats.executions_per_sec
    );
}
