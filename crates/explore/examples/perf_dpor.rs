//! DPOR alone on the 3x3 counters, for profiling.
use explore::{models, Explorer, Options, Strategy};
use std::time::Instant;
fn main() {
    let p = models::counters(3, 3);
    let o = Options {
        threads: 1,
        progress: None,
        count_traces: false,
        ..Options::default()
    };
    let t = Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < 3.0 {
        n += Explorer::new(Strategy::Dpor, o.clone())
            .run(&p)
            .stats
            .executions;
    }
    println!(
        "dpor counter 3x3: {:.0} exec/s",
        n as f64 / t.elapsed().as_secs_f64()
    );
}
