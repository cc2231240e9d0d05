//! Whole searches of hp3 with DPOR, repeated: per-search overhead, for profiling.
use explore::{models, Explorer, Options, Strategy};
use std::time::Instant;

/// mimalloc: glibc malloc's arena locks serialised the workers of a parallel search.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let p = models::hp3(true);
    let o = Options {
        threads: 1,
        progress: None,
        ..Options::default()
    };
    let t = Instant::now();
    let (mut n, mut searches) = (0, 0);
    while t.elapsed().as_secs_f64() < 3.0 {
        n += Explorer::new(Strategy::Dpor, o.clone())
            .run(&p)
            .stats
            .executions;
        searches += 1;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "dpor hp3: {:.0} exec/s over {searches} searches",
        n as f64 / s
    );
}
