use explore::{Explorer, Options, Strategy};
use std::sync::Arc;
fn main() {
    for init_ops in [0usize, 1, 2] {
    let p: explore::Program = Arc::new(move |k: &kmodel::Kernel| {
        let a = k.kzalloc("u32", "a", 0u32);
        let ts: Vec<_> = (0..3).map(|i| k.spawn(&format!("t{i}"), move |k| { k.read(a, |_| ()); k.write(a, |v| *v += i); })).collect();
        for _ in 0..init_ops { k.write(a, |v| *v += 1); }
        for t in ts { k.join(t); }
    });
    let o = Options { threads: 2, progress: false, leak_check: false, ..Options::default() };
    let r = Explorer::new(Strategy::Dfs, o.clone()).run(&p);
    let d = Explorer::new(Strategy::Dpor, o).run(&p);
    println!("init_ops {init_ops}: dfs {} classes {} ; dpor {} {:.2}s", r.stats.executions, r.stats.distinct_traces, d.stats.executions, r.stats.wall_secs);
    }
}
