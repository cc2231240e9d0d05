use std::sync::Arc;
fn main() {
    let p = bridgesim::scenario::load(std::path::Path::new("scenarios/demo/sunh-unplug-during-modeset.toml")).unwrap();
    for rel in [drm::Release::V6_15, drm::Release::V7_2] {
        let rules = p.rules(Some(rel)).unwrap();
        let prog: explore::Program = Arc::new(p.program(rules));
        for (strat, bound) in [(explore::Strategy::Dpor, Some(1)), (explore::Strategy::Dpor, None)] {
            let opts = explore::Options { max_executions: Some(20000), preemption_bound: bound, progress: false, ..Default::default() };
            let t = std::time::Instant::now();
            let r = explore::Explorer::new(strat, opts).run(&prog);
            println!("{rel} {strat:?} bound {bound:?}: {:?} execs {} steps {} exhaustive {} in {:?}; {:?}", r.stats.executions, r.stats.distinct_traces, r.stats.steps, r.stats.exhaustive, t.elapsed(), r.counterexample().map(|c| (c.kind, c.object.clone(), c.schedule.clone(), c.ops)));
        }
    }
}
