//! The explorer's benchmark table (checkers.md §9). Run with
//! `cargo bench -p explore --features anchors --bench explore` (add `-- --quick` to skip the slowest rows and
//! the million-execution memory run).
//!
//! Prints, in one run: naive DFS and DPOR on the mutex counters and the hotplug models
//! (executions, distinct traces, time, executions/s); DPOR on the buggy models (executions
//! to the first use-after-free, trace length); PCT and random mean executions to the first
//! use-after-free; the same hp3 model on shuttle (DFS, PCT) and loom; and the memory of a
//! million executions.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use explore::{models, Explorer, Options, Program, Strategy};

/// Peak resident set size of this process in KiB (`VmHWM`), on Linux.
fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

/// Current resident set size of this process in KiB (`VmRSS`), on Linux.
fn rss_kib() -> Option<u64> {
    proc_status_kib("VmRSS:")
}

fn proc_status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// mimalloc: glibc malloc's arena locks serialised the workers of a parallel search.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn opts(threads: usize) -> Options {
    Options {
        threads,
        progress: None,
        ..Options::default()
    }
}

fn row(name: &str, strategy: &str, r: &explore::Report) {
    let s = &r.stats;
    let verdict = match r.counterexample() {
        Some(c) => format!("{} at exec {} ({} ops)", c.kind.name(), c.execution, c.ops),
        None => format!("clean, {}", r.coverage),
    };
    println!(
        "| {name:<14} | {strategy:<10} | {:>11} | {:>8} | {:>8.3} | {:>10.0} | {verdict} |",
        s.executions, s.distinct_traces, s.wall_secs, s.executions_per_sec
    );
}

fn header() {
    println!("| model          | strategy   |  executions |  classes |   time s |     exec/s | verdict |");
    println!("|---|---|---:|---:|---:|---:|---|");
}

type Make = fn(bool) -> Program;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let threads = explore::available_cores();
    println!("explore benchmark: {threads} worker threads, release build\n");

    // Measured first, before the naive DFS rows churn the allocator.
    println!("## DPOR throughput (1 thread, warm, repeated runs)\n");
    let mut dpor_hp3_rate = 0.0;
    for (name, p) in [
        ("counter 3x3", models::counters(3, 3)),
        ("hp3 fixed", models::hp3(true)),
        ("hpn(3,0) fixed", models::hpn(3, 0, true)),
        ("hpn(2,2) fixed", models::hpn(2, 2, true)),
    ] {
        Explorer::new(Strategy::Dpor, opts(1)).run(&p);
        let t = Instant::now();
        let (mut execs, mut steps) = (0, 0);
        while t.elapsed().as_secs_f64() < if quick { 0.3 } else { 1.0 } {
            let r = Explorer::new(Strategy::Dpor, opts(1)).run(&p);
            execs += r.stats.executions;
            steps += r.stats.steps;
        }
        let secs = t.elapsed().as_secs_f64();
        if name == "hp3 fixed" {
            dpor_hp3_rate = execs as f64 / secs;
        }
        println!(
            "{name}: {:.0} executions/s, {:.0} steps/s ({:.1} steps per execution)",
            execs as f64 / secs,
            steps as f64 / secs,
            steps as f64 / execs as f64
        );
    }

    println!();
    println!("## Mutex counters (n threads x k locked increments)\n");
    header();
    let dfs_cap = if quick { 300_000 } else { 5_000_000 };
    for (n, k) in [(2, 4), (3, 2), (4, 1), (3, 3)] {
        let p = models::counters(n, k);
        let name = format!("counter {n}x{k}");
        let d = Explorer::new(Strategy::Dpor, opts(threads)).run(&p);
        row(&name, "dpor", &d);
        let d1 = Explorer::new(Strategy::Dpor, opts(1)).run(&p);
        row(&name, "dpor 1 thr", &d1);
        if (n, k) != (3, 3) {
            let o = Options {
                max_executions: Some(dfs_cap),
                ..opts(threads)
            };
            row(&name, "naive dfs", &Explorer::new(Strategy::Dfs, o).run(&p));
        }
    }

    println!("\n## DPOR on {threads} threads against 1 (same executions, same verdict)\n");
    println!("| model | executions | 1 thread s | {threads} threads s | speed-up |");
    println!("|---|---:|---:|---:|---:|");
    let mut big = vec![
        ("counter 3x4", models::counters(3, 4)),
        ("hpn(3,1) fixed", models::hpn(3, 1, true)),
    ];
    if !quick {
        big.push(("counter 4x3", models::counters(4, 3)));
    }
    for (name, p) in big {
        let one = Explorer::new(Strategy::Dpor, opts(1)).run(&p);
        let many = Explorer::new(Strategy::Dpor, opts(threads)).run(&p);
        assert_eq!(one.stats.executions, many.stats.executions, "{name}");
        println!(
            "| {name} | {} | {:.3} | {:.3} | {:.2}x |",
            one.stats.executions,
            one.stats.wall_secs,
            many.stats.wall_secs,
            one.stats.wall_secs / many.stats.wall_secs
        );
    }

    println!("\n## Hotplug models, fixed (exhaustive) and buggy (to the first violation)\n");
    header();
    let hp: Vec<(&str, Make)> = vec![
        ("hp", |f| models::hotplug(1, 0, f, true)),
        ("hp3", models::hp3),
        ("hpn(1,1)", |f| models::hpn(1, 1, f)),
        ("hpn(2,1)", |f| models::hpn(2, 1, f)),
        ("hpn(3,0)", |f| models::hpn(3, 0, f)),
    ];
    for (name, make) in &hp {
        for fixed in [true, false] {
            let p = make(fixed);
            let label = format!("{name} {}", if fixed { "fixed" } else { "buggy" });
            row(
                &label,
                "dpor",
                &Explorer::new(Strategy::Dpor, opts(threads)).run(&p),
            );
            let o = Options {
                max_executions: Some(dfs_cap),
                ..opts(threads)
            };
            row(
                &label,
                "naive dfs",
                &Explorer::new(Strategy::Dfs, o).run(&p),
            );
        }
    }

    println!("\n## PCT and random: mean executions to the first violation (200 seeds)\n");
    println!("| model | PCT d=1 | PCT d=2 | PCT d=3 | random | checkers.md §9 (d=2) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, make, anchor) in [
        ("hp buggy", hp[0].1, "3.7"),
        ("hp3 buggy", hp[1].1, "11.9"),
        ("hpn(1,1) buggy", hp[2].1, "20.8"),
    ] {
        let p = make(false);
        let mean = |s: &dyn Fn(u64) -> Strategy| {
            let mut total = 0u64;
            let mut found = 0;
            for seed in 0..200 {
                let o = Options {
                    max_executions: Some(10_000),
                    minimize: false,
                    ..opts(1)
                };
                let r = Explorer::new(s(seed), o).run(&p);
                if let Some(c) = r.counterexample() {
                    total += c.execution;
                    found += 1;
                }
            }
            if found == 0 {
                "never (0/200)".to_string()
            } else if found < 200 {
                format!("{:.1} ({found}/200)", total as f64 / found as f64)
            } else {
                format!("{:.1}", total as f64 / found as f64)
            }
        };
        println!(
            "| {name} | {} | {} | {} | {} | {anchor} |",
            mean(&|seed| Strategy::Pct { depth: 1, seed }),
            mean(&|seed| Strategy::Pct { depth: 2, seed }),
            mean(&|seed| Strategy::Pct { depth: 3, seed }),
            mean(&|seed| Strategy::Random { seed }),
        );
    }

    println!("\n## The same hp3 on shuttle 0.9.10 and loom 0.7.3\n");
    println!("| tool | model | executions | time s | exec/s | verdict |");
    println!("|---|---|---:|---:|---:|---|");
    std::panic::set_hook(Box::new(|_| {}));
    for fixed in [true, false] {
        let label = if fixed { "hp3 fixed" } else { "hp3 buggy" };
        let cap = if quick { 200_000 } else { 2_000_000 };
        let (n, secs, failed) = shuttle_hp3::dfs(fixed, cap);
        println!(
            "| shuttle dfs | {label} | {n} | {secs:.2} | {:.0} | {} |",
            n as f64 / secs,
            if failed {
                "UAF found"
            } else if n >= cap {
                "clean, truncated"
            } else {
                "clean"
            }
        );
        if !fixed {
            let mut total = 0;
            let mut found = 0;
            for seed in 0..200 {
                if let Some(n) = shuttle_hp3::pct_first_failure(seed, 2, 10_000) {
                    total += n;
                    found += 1;
                }
            }
            println!(
                "| shuttle pct d=2 | {label} | mean {:.1} to UAF ({found}/200 seeds) | | | |",
                total as f64 / found.max(1) as f64
            );
        }
        let (n, secs, failed) = loom_hp3::run(fixed);
        println!(
            "| loom | {label} | {n} | {secs:.2} | {:.0} | {} |",
            n as f64 / secs,
            if failed {
                "UAF found"
            } else if fixed {
                "clean"
            } else {
                "clean (missed the UAF)"
            }
        );
    }
    let _ = std::panic::take_hook();
    for fixed in [true, false] {
        let label = if fixed { "hp3 fixed" } else { "hp3 buggy" };
        let r = Explorer::new(Strategy::Dpor, opts(1)).run(&models::hp3(fixed));
        println!(
            "| explore dpor | {label} | {} | {:.4} | {:.0} | {} |",
            r.stats.executions,
            r.stats.wall_secs,
            r.stats.executions_per_sec,
            r.counterexample()
                .map(|c| format!("UAF, {} ops", c.ops))
                .unwrap_or("clean".into())
        );
    }
    println!(
        "| explore dpor | hp3 fixed | repeated searches | | {dpor_hp3_rate:.0} | per-execution speed, 1 thread (from the throughput section) |"
    );
    let o = Options {
        max_executions: Some(200_000),
        ..opts(1)
    };
    let r = Explorer::new(Strategy::Random { seed: 1 }, o).run(&models::hp3(true));
    println!(
        "| explore random | hp3 fixed | {} | {:.2} | {:.0} | per-execution speed, 1 thread |",
        r.stats.executions, r.stats.wall_secs, r.stats.executions_per_sec
    );

    if !quick {
        println!("\n## Memory: one million executions\n");
        let p = models::hp3(true);
        for (label, count_traces) in [("traces counted", true), ("traces not counted", false)] {
            let o = Options {
                max_executions: Some(10_000),
                count_traces,
                ..opts(threads)
            };
            Explorer::new(Strategy::Random { seed: 5 }, o.clone()).run(&p);
            let (rss0, hwm0) = (rss_kib().unwrap_or(0), peak_rss_kib().unwrap_or(0));
            let o = Options {
                max_executions: Some(1_000_000),
                ..o
            };
            let r = Explorer::new(Strategy::Random { seed: 5 }, o).run(&p);
            let (rss1, hwm1) = (rss_kib().unwrap_or(0), peak_rss_kib().unwrap_or(0));
            println!(
                "random on hp3 fixed, {label}: {} executions in {:.1} s; VmRSS {rss0} -> {rss1} KiB, VmHWM {hwm0} -> {hwm1} KiB ({} distinct traces)",
                r.stats.executions, r.stats.wall_secs, r.stats.distinct_traces
            );
        }
    }
}

/// The hp3 model of checkers.md §8 for a checker whose `Arc`, `Mutex`, `thread` and atomics
/// are in scope where it is expanded: the refcount and the freed flag as atomics, the registry
/// as a mutex-protected `Option`. Defines `Obj`, `put` and `model(fixed, counter)`, which
/// counts its executions in `counter`.
macro_rules! hp3_model {
    ($AtomicUsize:ident) => {
        struct Obj {
            refs: $AtomicUsize,
            freed: AtomicBool,
        }

        fn put(o: &Obj) {
            assert!(!o.freed.load(Ordering::SeqCst), "put after free");
            if o.refs.fetch_sub(1, Ordering::SeqCst) == 1 {
                o.freed.store(true, Ordering::SeqCst);
            }
        }

        fn model(fixed: bool, counter: &'static AtomicUsize) -> impl Fn() + Send + Sync + 'static {
            move || {
                counter.fetch_add(1, Ordering::Relaxed);
                let o = Arc::new(Obj {
                    refs: $AtomicUsize::new(2),
                    freed: AtomicBool::new(false),
                });
                let reg = Arc::new(Mutex::new(Some(o.clone())));
                let r2 = reg.clone();
                let unplug = thread::spawn(move || {
                    let e = r2.lock().unwrap().take();
                    if let Some(o) = e {
                        put(&o);
                    }
                });
                let o2 = o.clone();
                let modeset = thread::spawn(move || {
                    assert!(!o2.freed.load(Ordering::SeqCst), "use after free");
                    put(&o2);
                });
                let e = {
                    let g = reg.lock().unwrap();
                    let e = g.clone();
                    if let (Some(o), true) = (&e, fixed) {
                        o.refs.fetch_add(1, Ordering::SeqCst);
                    }
                    e
                };
                if let Some(o) = e {
                    assert!(!o.freed.load(Ordering::SeqCst), "use after free");
                    if fixed {
                        put(&o);
                    }
                }
                unplug.join().unwrap();
                modeset.join().unwrap();
                assert!(o.freed.load(Ordering::SeqCst), "leak");
            }
        }
    };
}

/// hp3 on shuttle.
mod shuttle_hp3 {
    use super::*;
    use shuttle::scheduler::{DfsScheduler, PctScheduler};
    use shuttle::sync::atomic::{AtomicBool, AtomicUsize as SAtomicUsize};
    use shuttle::sync::{Arc, Mutex};
    use shuttle::{thread, Config, FailurePersistence, Runner};

    hp3_model!(SAtomicUsize);

    fn config() -> Config {
        let mut c = Config::new();
        c.failure_persistence = FailurePersistence::None;
        c.silence_warnings = true;
        c
    }

    /// Executions of DFS (to exhaustion, `cap`, or the first failure), time, failed.
    pub fn dfs(fixed: bool, cap: usize) -> (usize, f64, bool) {
        static N: AtomicUsize = AtomicUsize::new(0);
        N.store(0, Ordering::Relaxed);
        let t = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| {
            Runner::new(DfsScheduler::new(Some(cap), false), config()).run(model(fixed, &N))
        }));
        (
            N.load(Ordering::Relaxed),
            t.elapsed().as_secs_f64(),
            r.is_err(),
        )
    }

    /// The execution number of PCT's first failure, if any within `iters`.
    pub fn pct_first_failure(seed: u64, depth: usize, iters: usize) -> Option<usize> {
        static N: AtomicUsize = AtomicUsize::new(0);
        N.store(0, Ordering::Relaxed);
        let r = catch_unwind(AssertUnwindSafe(|| {
            Runner::new(PctScheduler::new_from_seed(seed, depth, iters), config())
                .run(model(false, &N))
        }));
        r.is_err().then(|| N.load(Ordering::Relaxed))
    }
}

/// hp3 on loom, all threads spawned from the model's main thread (loom's own main).
mod loom_hp3 {
    use super::*;
    use loom::sync::atomic::{AtomicBool, AtomicUsize as LAtomicUsize};
    use loom::sync::{Arc, Mutex};
    use loom::thread;

    hp3_model!(LAtomicUsize);

    /// Executions, time, whether a failure was reported.
    pub fn run(fixed: bool) -> (usize, f64, bool) {
        static N: AtomicUsize = AtomicUsize::new(0);
        N.store(0, Ordering::Relaxed);
        let t = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| loom::model(model(fixed, &N))));
        (
            N.load(Ordering::Relaxed),
            t.elapsed().as_secs_f64(),
            r.is_err(),
        )
    }
}
