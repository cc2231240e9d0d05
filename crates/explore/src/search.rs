//! Running a search: [`Explorer::run`] over the tree strategies (with idle workers taking
//! subtrees) and the random strategies (chunks of numbered executions), then the report.

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use kmodel::{Kernel, Schedule};

use crate::exec::{panic_message, run_one, ExecOutcome, Recording, Runner};
use crate::options::{Options, Strategy, DEFAULT_SAMPLES, TRACE_SET_CAP};
use crate::pool::{Pool, Shared};
use crate::random::{PctSched, RandomSched, Rng};
use crate::replay::{config_for, first_failure_of, measure, minimize, replay_with};
use crate::report::{
    Counterexample, Coverage, Finding, Found, InternalError, Outcome, Part, RaceCount, Report,
    ShardStats, Stats,
};
use crate::tree::{Backtrack, Engine, Mode, Split, Take, Task};
use crate::Program;

/// Runs one search.
pub struct Explorer {
    pub strategy: Strategy,
    pub options: Options,
}

/// Executions a tree worker runs between updates of the shared count (without a budget).
const TICK_BATCH: u64 = 32;

/// What the workers of one tree search share.
struct TreeCtx<'a> {
    explorer: &'a Explorer,
    shared: &'a Shared,
    mode: Mode,
    pool: Option<&'a Pool>,
    /// The split of a search in leaf order (first-violation DPOR, shards).
    split: Option<Split>,
}

impl Explorer {
    pub fn new(strategy: Strategy, options: Options) -> Self {
        Explorer { strategy, options }
    }

    fn runner(&self, program: &Program) -> Runner {
        let mut r = Runner::new(
            program.clone(),
            config_for(&self.options),
            self.options.count_traces,
        );
        r.relation = crate::hb::Relation {
            granularity: self.options.granularity,
            kref: self.options.kref,
            free: self.options.free,
        };
        r.race_stats = self.options.race_stats;
        r
    }

    /// Search `program` and report.
    pub fn run(&self, program: &Program) -> Report {
        let start = Instant::now();
        let threads = self.options.threads.max(1);
        let budget = if self.strategy.is_tree() {
            self.options.max_executions
        } else {
            Some(self.options.max_executions.unwrap_or(DEFAULT_SAMPLES))
        };
        let shared = Shared::new(
            budget,
            self.options.progress.clone(),
            self.options.interrupt.clone(),
        );
        let mut stats = Stats {
            threads,
            ..Stats::default()
        };
        let total = match self.strategy {
            Strategy::Dfs | Strategy::Dpor => {
                let base = if self.strategy == Strategy::Dfs {
                    Mode::Dfs
                } else {
                    Mode::Dpor
                };
                match self.options.preemption_bound {
                    None if base == Mode::Dpor && self.options.shard.is_some() => {
                        let (part, s) = self.run_shard(program, &shared);
                        stats.shard = Some(s);
                        part
                    }
                    None if base == Mode::Dpor && !self.options.collect => {
                        self.run_first_violation(program, threads, &shared)
                    }
                    None => self.run_tree(program, base, threads, &shared, None),
                    Some(b) => {
                        let mut total = Part::finished();
                        for c in 0..=b {
                            total.absorb(self.run_tree(
                                program,
                                Mode::Bounded(c),
                                threads,
                                &shared,
                                None,
                            ));
                            stats.bound_reached = Some(c);
                            if total.ends_search() || !total.finished {
                                break;
                            }
                        }
                        total
                    }
                }
            }
            Strategy::Random { seed } => self.run_random(program, seed, None, threads, &shared),
            Strategy::Pct { depth, seed } => {
                self.run_random(program, seed, Some(depth.max(1)), threads, &shared)
            }
        };
        stats.handed_out = shared.handed_out.load(Ordering::Relaxed);
        if let Some((k, n)) = *shared.pct.lock().unwrap_or_else(|e| e.into_inner()) {
            stats.pct_k = Some(k);
            stats.pct_threads = Some(n);
        }
        let c = &total.counts;
        stats.executions = c.executions;
        stats.complete = c.complete;
        stats.sleep_blocked = c.sleep_blocked;
        stats.blocked_backtracks = c.blocked_backtracks;
        stats.steps = c.steps;
        stats.predicted = c.predicted;
        stats.distinct_traces = if self.options.count_traces {
            total.classes.len() as u64
        } else {
            0
        };
        stats.traces_capped = total.classes.len() >= TRACE_SET_CAP;
        let collecting = self.options.collect && self.strategy.is_tree();
        let coverage = self.coverage(&total, &shared, collecting);
        stats.exhaustive = coverage.is_exhaustive();
        stats.truncated = matches!(coverage, Coverage::Truncated { .. });
        stats.interrupted = matches!(coverage, Coverage::Interrupted { .. });
        stats.granularity = self.options.granularity;
        stats.kref = self.options.kref;
        stats.free = self.options.free;
        let Part {
            classes,
            found,
            collected,
            panic,
            races,
            ..
        } = total;
        stats.races = races
            .into_iter()
            .map(|(pair, backtracks)| RaceCount { pair, backtracks })
            .collect();
        stats
            .races
            .sort_by(|a, b| b.backtracks.cmp(&a.backtracks).then(a.pair.cmp(&b.pair)));
        let findings: Vec<Finding> = collected
            .iter()
            .map(|(f, sched, _)| {
                let (preemptions, ops) = measure(program, sched, &self.options, f.step);
                Finding {
                    kind: f.kind,
                    object: f.object.clone(),
                    message: f.message.clone(),
                    schedule: sched.to_string(),
                    preemptions,
                    ops,
                }
            })
            .collect();
        // A collecting search reports its first finding as the counterexample.
        let found = found.or_else(|| {
            collected
                .into_iter()
                .next()
                .map(|(failure, schedule, execution)| Found {
                    failure,
                    schedule,
                    execution,
                })
        });
        let outcome = match (panic, found) {
            (Some(e), _) => Outcome::InternalError(e),
            (None, None) => Outcome::Clean,
            (None, Some(f)) => {
                let (cx, spent) = self.counterexample(program, f);
                stats.minimize_executions = spent;
                Outcome::Violation(Box::new(cx))
            }
        };
        stats.wall_secs = start.elapsed().as_secs_f64();
        if stats.wall_secs > 0.0 {
            stats.steps_per_sec = stats.steps as f64 / stats.wall_secs;
            stats.executions_per_sec = stats.executions as f64 / stats.wall_secs;
        }
        let traces = self.options.keep_traces.then(|| {
            let mut v: Vec<u128> = classes.into_iter().collect();
            v.sort_unstable();
            v
        });
        Report {
            strategy: self.strategy,
            stats,
            coverage,
            outcome,
            findings,
            traces,
        }
    }

    /// What the search covered: the first reason it stopped short, else the whole space
    /// (within the bound, if any).
    fn coverage(&self, total: &Part, shared: &Shared, collecting: bool) -> Coverage {
        let executions = total.counts.executions;
        if total.panic.is_some() {
            Coverage::Aborted { executions }
        } else if total.found.is_some() && !collecting {
            Coverage::FirstViolation { executions }
        } else if shared.interrupted() {
            Coverage::Interrupted { executions }
        } else if !self.strategy.is_tree() {
            Coverage::Sampled { executions }
        } else if !total.finished {
            Coverage::Truncated {
                executions,
                limit: shared.budget.unwrap_or(executions),
            }
        } else if let Some(bound) = self.options.preemption_bound {
            Coverage::UpToPreemptions { bound }
        } else if let (Some(s), Strategy::Dpor) = (self.options.shard, self.strategy) {
            Coverage::Shard {
                index: s.index,
                count: s.count,
                executions,
            }
        } else {
            Coverage::Exhaustive
        }
    }

    /// Tree search. With `threads > 1`, idle workers take subtrees from the running
    /// engines ([`Engine::offer`]) and each engine merges what it handed out at the point
    /// where it would have explored it itself, so the result is that of one thread.
    ///
    /// A panic anywhere ends the search: executions catch their own ([`run_one`]), and a
    /// panic of the search code itself is caught per task and for the owner, so no thread
    /// waits for a result that never comes.
    fn run_tree(
        &self,
        program: &Program,
        mode: Mode,
        threads: usize,
        shared: &Shared,
        split: Option<Split>,
    ) -> Part {
        let pool = Pool::default();
        let ctx = TreeCtx {
            explorer: self,
            shared,
            mode,
            pool: (threads > 1).then_some(&pool),
            split,
        };
        std::thread::scope(|s| {
            for _ in 1..threads {
                let (ctx, pool, runner) = (&ctx, &pool, self.runner(program));
                s.spawn(move || {
                    let closed = || pool.closed.load(Ordering::Relaxed);
                    while let Some(task) = pool.pop_or_wait(&closed, true) {
                        ctx.run_task_guarded(&runner, &task);
                    }
                });
            }
            let owner = catch_unwind(AssertUnwindSafe(|| {
                let mut engine = Engine::new(mode).with_split(split);
                ctx.explore(&self.runner(program), &mut engine, None)
            }));
            if owner.is_err() {
                shared.stop();
            }
            pool.close();
            owner.unwrap_or_else(|p| Part {
                panic: Some(InternalError {
                    message: panic_message(p),
                    schedule: None,
                }),
                ..Part::default()
            })
        })
    }

    /// DPOR to the first violation in leaf order (the `shard` module: the first violation
    /// of the lowest leaf that has one, which a merge of first-violation shards reports).
    ///
    /// Plain DPOR runs first, to learn whether there is a violation at all at DPOR's cost: a
    /// clean space is covered by it alone. A violation on its first execution is the
    /// leaf-order first too (both orders start with the same execution: the current thread
    /// first, else the lowest, nothing asleep). A later one sends the search round again in
    /// leaf order, which stops at its own first violation; the executions of both count. If
    /// that second search is cut short (budget, Ctrl-C) before a violation, DPOR's is
    /// reported.
    fn run_first_violation(&self, program: &Program, threads: usize, shared: &Shared) -> Part {
        let mut dpor = self.run_tree(program, Mode::Dpor, threads, shared, None);
        let later = dpor.found.as_ref().is_some_and(|f| f.execution > 1);
        if !later || dpor.panic.is_some() {
            return dpor;
        }
        let leaves = crate::shard::FIRST_VIOLATION_LEAVES;
        let split = match crate::shard::split(&self.runner(program), leaves, Take::All) {
            Ok((split, _)) => split,
            Err(e) => {
                dpor.panic = Some(e);
                return dpor;
            }
        };
        let ordered = self.run_tree(program, Mode::Dpor, threads, shared, Some(split));
        if ordered.ends_search() {
            dpor.found = None;
        }
        dpor.absorb(ordered);
        dpor
    }

    /// One shard of a split search (see the `shard` module): the search in leaf order, on
    /// this OS thread, cut at the roots of the other shards' leaves.
    fn run_shard(&self, program: &Program, shared: &Shared) -> (Part, ShardStats) {
        let shard = self.options.shard.expect("a sharded search");
        let runner = self.runner(program);
        let leaves = if self.options.collect {
            crate::shard::LEAVES_PER_SHARD * shard.count as u64
        } else {
            crate::shard::FIRST_VIOLATION_LEAVES
        };
        let (split, runs) = match crate::shard::split(&runner, leaves, Take::Shard(shard)) {
            Ok(s) => s,
            Err(e) => {
                let part = Part {
                    panic: Some(e),
                    ..Part::default()
                };
                let s = ShardStats {
                    shard,
                    split: leaves,
                    leaves: 0,
                    explored: 0,
                    prefix_executions: 0,
                    first_leaf: None,
                    all: self.options.collect,
                };
                return (part, s);
            }
        };
        let ctx = TreeCtx {
            explorer: self,
            shared,
            mode: Mode::Dpor,
            pool: None,
            split: Some(split),
        };
        let mut engine = Engine::new(Mode::Dpor).with_split(Some(split));
        let part = ctx.explore(&runner, &mut engine, None);
        // The leaves of this shard the search reached, less the one it stopped in.
        let mine = (0..engine.leaves_reached)
            .filter(|l| l % shard.count as u64 == shard.index as u64)
            .count() as u64;
        let stopped_in_one = !part.finished || part.ends_search();
        let s = ShardStats {
            shard,
            split: leaves,
            leaves: engine.leaves_reached,
            explored: mine.saturating_sub(stopped_in_one as u64),
            prefix_executions: runs + part.counts.prefix_executions,
            first_leaf: part.leaf,
            all: self.options.collect,
        };
        (part, s)
    }

    /// PCT (`depth = Some(d)`) or random search over numbered executions, in chunks.
    fn run_random(
        &self,
        program: &Program,
        seed: u64,
        depth: Option<u32>,
        threads: usize,
        shared: &Shared,
    ) -> Part {
        const CHUNK: u64 = 64;
        let budget = shared.budget.unwrap_or(DEFAULT_SAMPLES);
        let runner0 = self.runner(program);
        // Execution `i`: its outcome, PCT's count of points with a choice, and the number
        // of threads; or the panic, with the schedule it was on.
        let one = |runner: &Runner, i: u64, k: Option<u32>| {
            let nthreads =
                |kr: &Kernel| kr.with_steps(|s| s.iter().map(|s| s.tid.0 + 1).max().unwrap_or(1));
            let fresh = || -> Box<dyn kmodel::Scheduler> {
                let rng = Rng::for_execution(seed, i);
                match depth {
                    Some(d) => Box::new(PctSched::new(rng, d, k)),
                    None => Box::new(RandomSched { rng }),
                }
            };
            let run = match depth {
                Some(d) => {
                    let mut s = PctSched::new(Rng::for_execution(seed, i), d, k);
                    run_one(runner, &mut s).map(|(kr, stop)| (kr, stop, s.count))
                }
                None => {
                    let mut s = RandomSched {
                        rng: Rng::for_execution(seed, i),
                    };
                    run_one(runner, &mut s).map(|(kr, stop)| (kr, stop, 0))
                }
            };
            match run {
                Ok((kr, stop, count)) => Ok((
                    ExecOutcome::with_class(runner, &kr, stop),
                    count,
                    nthreads(&kr),
                )),
                Err(message) => {
                    // Run it again, recording, for the schedule it panics on.
                    let mut rec = Recording {
                        inner: fresh(),
                        choices: Vec::new(),
                    };
                    let _ = run_one(runner, &mut rec);
                    Err(InternalError {
                        message,
                        schedule: Some(Schedule(rec.choices).to_string()),
                    })
                }
            }
        };
        // PCT learns k (points with more than one enabled thread) from execution 0.
        let mut first = Part::finished();
        shared.tick();
        let k0 = match one(&runner0, 0, None) {
            Ok((out0, k0, n0)) => {
                if depth.is_some() {
                    *shared.pct.lock().unwrap_or_else(|e| e.into_inner()) = Some((k0.max(1), n0));
                }
                record(&mut first, &out0);
                k0
            }
            Err(e) => {
                first.counts.executions += 1;
                first.panic = Some(e);
                return first;
            }
        };
        if first.found.is_some() || budget <= 1 {
            return first;
        }
        let k = depth.map(|_| k0.max(1));
        let nchunks = (budget - 1).div_ceil(CHUNK) as usize;
        // Chunk results are folded in chunk order as soon as their predecessors are in, so
        // memory holds only the chunks in flight, never one record per chunk or execution.
        // Traces go to one map (trace -> first part that saw it): its size is the number of
        // distinct traces.
        let seen: Mutex<HashMap<u128, usize>> =
            Mutex::new(first.classes.drain().map(|h| (h, 0)).collect());
        let fold = Mutex::new(Fold {
            next: 0,
            acc: Part::finished(),
            pending: BTreeMap::new(),
            closed: false,
        });
        let next = AtomicUsize::new(0);
        let work = |runner: &Runner| loop {
            let c = next.fetch_add(1, Ordering::Relaxed);
            if c >= nchunks {
                break;
            }
            let mut part = Part::default();
            if c < shared.best.load(Ordering::Relaxed) && !shared.stopped() {
                part.finished = true;
                let lo = 1 + c as u64 * CHUNK;
                let hi = (lo + CHUNK).min(budget);
                for i in lo..hi {
                    match one(runner, i, k) {
                        Ok((out, _, _)) => record(&mut part, &out),
                        Err(e) => {
                            part.counts.executions += 1;
                            part.panic = Some(e);
                        }
                    }
                    if part.ends_search() {
                        shared.best.fetch_min(c, Ordering::Relaxed);
                        if part.panic.is_some() {
                            shared.stop();
                        }
                        break;
                    }
                    let go_on = shared.tick();
                    if c > shared.best.load(Ordering::Relaxed) || (!go_on && i + 1 < hi) {
                        part.finished = false;
                        break;
                    }
                }
            }
            {
                let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                for h in part.classes.drain() {
                    if seen.len() < TRACE_SET_CAP || seen.contains_key(&h) {
                        let e = seen.entry(h).or_insert(c + 1);
                        *e = (*e).min(c + 1);
                    }
                }
            }
            fold.lock().unwrap_or_else(|e| e.into_inner()).add(c, part);
        };
        if threads <= 1 {
            work(&runner0);
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    let (work, runner) = (&work, self.runner(program));
                    s.spawn(move || work(&runner));
                }
            });
        }
        let fold = fold.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut acc = fold.acc;
        // Traces first seen after the failing chunk belong to dropped executions.
        let last = if acc.ends_search() {
            fold.next
        } else {
            usize::MAX
        };
        for (h, c) in seen.into_inner().unwrap_or_else(|e| e.into_inner()) {
            if c == 0 {
                first.classes.insert(h);
            } else if c <= last {
                acc.classes.insert(h);
            }
        }
        first.absorb(acc);
        first
    }

    /// Minimise, replay with events on and render.
    fn counterexample(&self, program: &Program, f: Found) -> (Counterexample, u64) {
        let found_schedule = f.schedule.clone();
        let (schedule, spent) = if self.options.minimize {
            minimize(program, &f.schedule, &self.options, 200_000)
        } else {
            (f.schedule.clone(), 0)
        };
        let r = replay_with(program, &schedule, &self.options);
        let found_r = replay_with(program, &found_schedule, &self.options);
        let v = first_failure_of(&r).unwrap_or_else(|| f.failure.clone());
        let cx = Counterexample {
            schedule: schedule.to_string(),
            found_schedule: found_schedule.to_string(),
            kind: v.kind,
            object: v.object,
            message: v.message,
            preemptions: r.preemptions,
            found_preemptions: found_r.preemptions,
            ops: r
                .ops
                .unwrap_or_else(|| measure(program, &schedule, &self.options, v.step).1),
            execution: f.execution,
            report: r.report,
        };
        (cx, spent)
    }
}

impl TreeCtx<'_> {
    /// Explore the subtree of `engine` to its end, the first violation (unless collecting),
    /// a stop, a panic, or `cancel`.
    fn explore(&self, runner: &Runner, engine: &mut Engine, cancel: Option<&AtomicBool>) -> Part {
        let collect = self.explorer.options.collect;
        let mut part = Part::finished();
        let mut first = true;
        let mut unticked = 0;
        loop {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                part.finished = false;
                break;
            }
            if !first {
                let bt = engine.backtrack();
                if let Some(pool) = self.pool {
                    pool.queued
                        .fetch_sub(std::mem::take(&mut engine.reclaimed), Ordering::Relaxed);
                }
                match bt {
                    Backtrack::Run => {}
                    Backtrack::Done => break,
                    Backtrack::Wait(task) => {
                        let later = self.wait_for(runner, &task);
                        engine.absorb(&later.requests);
                        part.absorb(later);
                        if part.ends_search() || !part.finished {
                            break;
                        }
                        continue;
                    }
                }
            }
            first = false;
            let (mut out, asleep) = match engine.run(runner) {
                Ok(r) => r,
                Err(e) => {
                    part.counts.executions += 1;
                    part.panic = Some(e);
                    self.shared.stop();
                    break;
                }
            };
            if engine.outside {
                // A shard's prefix execution: no execution of its leaves.
                part.counts.prefix_executions += 1;
                continue;
            }
            part.record(out.steps, !asleep && out.is_finished(), out.class);
            part.counts.sleep_blocked += asleep as u64;
            for r in &out.races {
                *part.races.entry(r.clone()).or_default() += 1;
            }
            let execution = part.counts.executions;
            let predicted = std::mem::take(&mut out.predicted);
            if collect {
                for f in &out.failures {
                    if !part
                        .collected
                        .iter()
                        .any(|(g, _, _)| crate::report::same_finding(g, f))
                    {
                        let sched = out.schedule.clone().unwrap_or_default();
                        part.collected.push((f.clone(), sched, execution));
                        part.leaf = part.leaf.or(engine.leaf);
                    }
                }
                for p in &predicted {
                    part.counts.predicted += 1;
                    match crate::predict::confirm(runner, p) {
                        Ok((f, sched)) => {
                            if !part
                                .collected
                                .iter()
                                .any(|(g, _, _)| crate::report::same_finding(g, &f))
                            {
                                part.collected.push((f, sched, execution));
                                part.leaf = part.leaf.or(engine.leaf);
                            }
                        }
                        Err(e) => {
                            part.panic = Some(e);
                            break;
                        }
                    }
                }
                if part.panic.is_some() {
                    self.shared.stop();
                    break;
                }
            } else if let Some(f) = out.failure {
                part.leaf = engine.leaf;
                part.found = Some(Found {
                    failure: f,
                    schedule: out.schedule.unwrap_or_default(),
                    execution,
                });
                break;
            } else if let Some(p) = predicted.first() {
                // The first use-after-free a reordering of this execution shows.
                part.counts.predicted += 1;
                match crate::predict::confirm(runner, p) {
                    Ok((failure, schedule)) => {
                        part.leaf = engine.leaf;
                        part.found = Some(Found {
                            failure,
                            schedule,
                            execution,
                        })
                    }
                    Err(e) => {
                        part.panic = Some(e);
                        self.shared.stop();
                    }
                }
                break;
            }
            // Without a budget the shared count is bumped in batches: one counter written
            // by every worker on every execution costs more than the bookkeeping it serves.
            unticked += 1;
            if (self.shared.budget.is_some() || unticked == TICK_BATCH)
                && !self.shared.tick_n(std::mem::take(&mut unticked))
            {
                part.finished = false;
                break;
            }
            // Small searches stay on one thread: a worker's first task costs it fresh
            // coroutine stacks, more than a few dozen executions.
            let warm =
                self.shared.total.load(Ordering::Relaxed) >= self.explorer.options.offer_after;
            if let Some(pool) = self.pool.filter(|p| warm && p.hungry()) {
                if let Some(task) = engine.offer() {
                    pool.push(task);
                }
            }
        }
        self.shared.tick_n(unticked);
        // Whatever is still out comes later in search order than where this stopped. After a
        // violation or a panic it is dropped; after a stop (the execution budget, Ctrl-C, a
        // cancel) what the workers ran until then is part of what was covered: their
        // executions count against the budget and their violations are real.
        let running = engine.cancel_offers();
        if let Some(pool) = self.pool {
            pool.queued
                .fetch_sub(std::mem::take(&mut engine.reclaimed), Ordering::Relaxed);
        }
        if !part.ends_search() {
            for task in running {
                part.absorb(self.wait_for(runner, &task));
            }
        }
        part.counts.blocked_backtracks += engine.blocked_backtracks;
        part.requests = std::mem::take(&mut engine.requests);
        part
    }

    /// [`TreeCtx::run_task`], turning a panic of the search code into the task's result so
    /// that its owner, waiting for it, ends the search instead of waiting forever.
    fn run_task_guarded(&self, runner: &Runner, task: &Task) {
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| self.run_task(runner, task))) {
            self.shared.stop();
            task.finish(Part {
                panic: Some(InternalError {
                    message: panic_message(p),
                    schedule: None,
                }),
                ..Part::default()
            });
            if let Some(pool) = self.pool {
                pool.notify();
            }
        }
    }

    fn run_task(&self, runner: &Runner, task: &Task) {
        let stack = task.take_stack();
        let part = if task.cancel.load(Ordering::Relaxed) {
            Part::default()
        } else {
            self.shared.handed_out.fetch_add(1, Ordering::Relaxed);
            self.explore(
                runner,
                &mut Engine::from_stack(self.mode, stack).with_split(self.split),
                Some(&task.cancel),
            )
        };
        task.finish(part);
        if let Some(pool) = self.pool {
            pool.notify();
        }
    }

    /// The result of a handed-out subtree; meanwhile, explore other handed-out subtrees.
    ///
    /// Helping nests (a helped task may wait and help in turn), so it stops at
    /// `MAX_NESTING` levels on one OS thread to bound the stack; the task waited for is
    /// running (queued ones are taken back instead of waited for), so waiting always ends.
    fn wait_for(&self, runner: &Runner, task: &Task) -> Part {
        const MAX_NESTING: u32 = 24;
        thread_local! {
            static NESTING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }
        let pool = self.pool.expect("tasks exist only with workers");
        let help = NESTING.with(|n| n.get()) < MAX_NESTING;
        while let Some(other) = pool.pop_or_wait(&|| task.is_ready(), help) {
            NESTING.with(|n| n.set(n.get() + 1));
            self.run_task_guarded(runner, &other);
            NESTING.with(|n| n.set(n.get() - 1));
        }
        task.take_result()
    }
}

/// Chunk results of a random search, folded in chunk order.
///
/// # Invariants
///
/// `acc` sums chunks `0..next`; `pending` holds finished chunks `> next`; once a folded chunk
/// ends the search (a failure or a panic), `closed` is set and nothing more is folded
/// (`next` is then that chunk + 1).
struct Fold {
    next: usize,
    acc: Part,
    pending: BTreeMap<usize, Part>,
    closed: bool,
}

impl Fold {
    fn add(&mut self, c: usize, part: Part) {
        if self.closed {
            return;
        }
        self.pending.insert(c, part);
        while let Some(p) = self.pending.remove(&self.next) {
            self.next += 1;
            self.acc.absorb(p);
            if self.acc.ends_search() {
                self.closed = true;
                self.pending.clear();
                return;
            }
        }
    }
}

/// Count an execution of a random strategy in `part` (its first failure ends the part).
fn record(part: &mut Part, out: &ExecOutcome) {
    part.record(out.steps, out.is_finished(), out.class);
    if let Some(f) = &out.failure {
        part.found = Some(Found {
            failure: f.clone(),
            schedule: out.schedule.clone().unwrap_or_default(),
            execution: part.counts.executions,
        });
    }
}
