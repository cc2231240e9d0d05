use explore::{models, Explorer, Options, Strategy};
fn main() {
    let opts = Options {
        threads: 1,
        progress: None,
        ..Options::default()
    };
    for (name, p) in [
        ("c2x2", models::counters(2, 2)),
        ("c2x4", models::counters(2, 4)),
        ("c3x2", models::counters(3, 2)),
        ("c4x1", models::counters(4, 1)),
        ("c3x3", models::counters(3, 3)),
        ("hp3 fixed", models::hp3(true)),
        ("hp3 buggy", models::hp3(false)),
        ("hpn11 fixed", models::hpn(1, 1, true)),
        ("hpn11 buggy", models::hpn(1, 1, false)),
        ("list", models::list_walk_race()),
    ] {
        for s in [Strategy::Dpor, Strategy::Dfs] {
            if s == Strategy::Dfs && name == "c3x3" {
                continue;
            }
            let r = Explorer::new(s, opts.clone()).run(&p);
            println!("{name:12} {s:?}: exec {} complete {} blocked {} classes {} steps {} {:.3}s  cx={:?}", r.stats.executions, r.stats.complete, r.stats.sleep_blocked, r.stats.distinct_traces, r.stats.steps, r.stats.wall_secs,
                r.counterexample().map(|c| (c.kind, c.object.clone(), c.ops, c.preemptions, c.schedule.clone(), c.execution)));
        }
    }
}
