//! The `bridgesim` command line.
//!
//! Exit codes: 0 when the verdict is clean or matches the scenario's `expect`; 1 when
//! violations are found or differ from `expect`; 2 for usage or input errors; 3 for an
//! internal error (a panic: the message, the schedule it was on and the replay command are
//! printed); 130 when Ctrl-C interrupted a search (what was covered is printed first; a
//! second Ctrl-C ends the process at once). Every command's `--help` says so ([`AFTER_HELP`]).
//!
//! The command line owns what the explorer leaves to its front end: the Ctrl-C handler
//! (`Options::interrupt`), the progress bar (`Options::progress`), the panic hook and the
//! replay command printed with every schedule.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use bridgesim::scenario::{self, Prepared};
use bridgesim::timeline::page::Timelines;
use bridgesim::timeline::RunKind;
use bridgesim::verdict::{
    self, ExploreError, JsonOut, JsonResult, RulesColumn, SearchSpec, Verdict,
};
use clap::{Parser, Subcommand, ValueEnum};
use explore::{Coverage, Strategy};
use kmodel::{Config, Kernel, Replay, Schedule, ThreadOrder};

/// Exit code of an internal error (a panic anywhere).
const EXIT_INTERNAL: u8 = 3;
/// Exit code of a search interrupted by Ctrl-C.
const EXIT_INTERRUPTED: u8 = 130;
/// `--threads` at most (each search thread runs its own kernels and coroutine stacks).
const MAX_THREADS: u16 = 256;

/// mimalloc: glibc malloc's arena locks serialised the workers of a parallel search.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cmd_audit;
mod cmd_drivers;
mod cmd_dt;
mod cmd_rules;
mod html;
mod merge;

/// What every command's help ends with: output formats, exit codes, where the docs are.
const AFTER_HELP: &str = "\
Output: text, or with --json the versioned JSON described in docs/json.md.
Scenarios: a file (format: scenarios/README.md) or builtin:demo, builtin:demo-bridges.
Exit codes:
  0  clean, or as the scenario's `expect` says
  1  violations found, or differing from `expect`
  2  usage or input error (located: file:line:column and what was expected)
  3  internal error (a bug in bridgesim)";

/// The `--rules` help: the values, and the default.
fn rules_help() -> String {
    format!(
        "Rules: a release ({}), optionally with +SWITCH or +proposals on top \
         (e.g. v7.2+proposals). Default: the scenario's [rules] release, else {}",
        scenario::release_names().join(", "),
        drm::Release::LATEST
    )
}

/// `rules --release`: one column.
fn rules_column_help() -> String {
    format!(
        "Rules column: a release ({}), optionally with +SWITCH or +proposals on top \
         (e.g. v7.2+proposals)",
        scenario::release_names().join(", ")
    )
}

/// `compare --rules`: a list of columns.
fn rules_list_help() -> String {
    format!(
        "Rules columns, comma-separated: `all` (every release: {}) or releases with optional \
         +SWITCH or +proposals (e.g. all,v7.2+proposals)",
        scenario::release_names().join(", ")
    )
}

/// An executable model of the Linux DRM bridge lifetime under hot-unplug: plug and unplug an
/// add-on against a modeset under the rules of each kernel release, and get a replayable,
/// kernel-style report or an exhaustive "clean".
#[derive(Parser)]
#[command(name = "bridgesim", version, about, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum StrategyArg {
    Dpor,
    Dfs,
    Pct,
    Random,
}

/// Search options shared by explore and compare.
#[derive(clap::Args, Clone)]
struct SearchArgs {
    /// dpor (exhaustive, reduced), dfs (exhaustive, naive), pct or random.
    #[arg(long, value_enum, default_value = "dpor")]
    strategy: StrategyArg,
    /// Iterative preemption bounding up to K (dpor/dfs): the first counterexample has the
    /// fewest preemptions.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(0..=100))]
    preemption_bound: Option<u32>,
    /// Stop after N executions.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_executions: Option<u64>,
    /// Seed of pct and random.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// PCT bug depth.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=100))]
    depth: u32,
    /// OS threads to search with (results do not depend on it).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=MAX_THREADS as i64))]
    threads: Option<u16>,
    /// dpor/dfs: do not stop at the first violation; cover the whole space and report every
    /// distinct violation (slower).
    #[arg(long)]
    all: bool,
    /// dpor: how finely memory accesses are told apart. `field` (default): accesses to
    /// disjoint fields of one object commute. `object`: per whole object (the search before
    /// field-granular accesses, for comparison).
    #[arg(long, value_enum, default_value = "field")]
    granularity: GranularityArg,
    /// dpor at field granularity: how refcount operations are ordered. `release` (default):
    /// gets commute with each other and with puts that cannot release in any order of those
    /// gets. `decrement`: only puts at a count of 3 or more commute, with each other.
    #[arg(long, value_enum, default_value = "release")]
    kref: KrefArg,
    /// dpor: how a kfree is ordered. `predict` (default): it commutes with every access but
    /// another free, and each use-after-free a reordering shows is predicted from
    /// happens-before and replayed. `conflict`: it conflicts with every access to its object
    /// (the search before prediction, for comparison).
    #[arg(long, value_enum, default_value = "predict")]
    free: FreeArg,
    /// dpor: list the pairs of operations (kind, object, field) whose races create backtrack
    /// entries, with how many each creates (in --json: stats.races).
    #[arg(long)]
    stats: bool,
    /// dpor: explore only part I of a deterministic split of the space into N parts, with
    /// no coordination; `bridgesim merge` combines the parts' --json output
    /// (docs/scale-out.md).
    #[arg(long, value_name = "I/N")]
    shard: Option<explore::Shard>,
}

#[derive(Clone, Copy, ValueEnum)]
enum KrefArg {
    Release,
    Decrement,
}

#[derive(Clone, Copy, ValueEnum)]
enum FreeArg {
    Predict,
    Conflict,
}

#[derive(Clone, Copy, ValueEnum)]
enum GranularityArg {
    Field,
    Object,
}

impl SearchArgs {
    fn spec(&self) -> SearchSpec {
        let strategy = match self.strategy {
            StrategyArg::Dpor => Strategy::Dpor,
            StrategyArg::Dfs => Strategy::Dfs,
            StrategyArg::Pct => Strategy::Pct {
                depth: self.depth,
                seed: self.seed,
            },
            StrategyArg::Random => Strategy::Random { seed: self.seed },
        };
        let mut spec = SearchSpec {
            strategy,
            ..SearchSpec::default()
        };
        spec.options.preemption_bound = self.preemption_bound;
        spec.options.max_executions = self.max_executions;
        if let Some(t) = self.threads {
            spec.options.threads = t as usize;
        }
        spec.options.interrupt = Some(interrupt_flag());
        spec.options.collect = self.all;
        spec.options.granularity = match self.granularity {
            GranularityArg::Field => kmodel::Granularity::Field,
            GranularityArg::Object => kmodel::Granularity::Object,
        };
        spec.options.kref = match self.kref {
            KrefArg::Release => explore::KrefRule::Release,
            KrefArg::Decrement => explore::KrefRule::Decrement,
        };
        spec.options.free = match self.free {
            FreeArg::Predict => explore::FreeRule::Predict,
            FreeArg::Conflict => explore::FreeRule::Conflict,
        };
        spec.options.race_stats = self.stats;
        spec.options.shard = self.shard;
        spec
    }
}

/// `--html FILE`, shared by demo, run, replay, explore and compare (see `html.rs`).
#[derive(clap::Args, Clone, Default)]
struct HtmlArgs {
    /// Also write a self-contained HTML timeline of the result to FILE (docs/timeline.md).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// The Ctrl-C flag the searches watch (the handler is installed on first call). A first
/// Ctrl-C stops the search, which reports what it covered; a second ends the process.
fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let f = Arc::new(AtomicBool::new(false));
        let g = f.clone();
        // If a handler cannot be installed the flag never fires and Ctrl-C keeps its
        // default effect: the process ends.
        let _ = ctrlc::set_handler(move || {
            if g.swap(true, Ordering::SeqCst) {
                std::process::exit(EXIT_INTERRUPTED as i32);
            }
        });
        f
    })
    .clone()
}

fn interrupted() -> bool {
    interrupt_flag().load(Ordering::SeqCst)
}

/// A panic anywhere ends the process within a second with exit code 3. A panic inside an
/// execution is caught by the explorer, which ends the search and reports it (with the
/// schedule) through `ExploreError::Internal`; the watchdog covers every other panic, and a
/// search that would not end.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        eprintln!("bridgesim: internal error (a bug of bridgesim; exit code 3)");
        std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_secs(1));
            std::process::exit(EXIT_INTERNAL as i32);
        });
    }));
}

/// A progress spinner on stderr while a search runs, when stderr is a terminal.
fn progress_bar(spec: &mut SearchSpec, json: bool) -> Option<indicatif::ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} executions  {per_sec}  {elapsed}")
            .expect("valid template"),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    let p = pb.clone();
    spec.options.progress = Some(explore::Progress::new(move |n| p.set_position(n)));
    Some(pb)
}

#[derive(Subcommand)]
enum Command {
    /// Run the built-in SUNH scenarios under every release (and with the proposals) and print
    /// the verdict table and the first report.
    #[command(after_help = AFTER_HELP)]
    Demo {
        /// Print JSON (schema bridgesim/1, docs/json.md) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        html: HtmlArgs,
    },
    /// One execution of a scenario, in thread order or along a schedule.
    #[command(after_help = AFTER_HELP)]
    Run {
        /// A scenario file, or builtin:NAME.
        scenario: PathBuf,
        #[arg(long, value_name = "R", help = rules_help())]
        rules: Option<String>,
        /// A schedule string (from a report, `v1:...`) to follow.
        #[arg(long, value_name = "S")]
        schedule: Option<String>,
        /// Print JSON (schema bridgesim/1, docs/json.md) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        html: HtmlArgs,
        /// List every node no driver model claims, not only the first few.
        #[arg(long)]
        list_unmodelled: bool,
    },
    /// Re-run a reported schedule and print its report (same as run --schedule).
    #[command(after_help = AFTER_HELP)]
    Replay {
        /// A scenario file, or builtin:NAME.
        scenario: PathBuf,
        #[arg(long, value_name = "R", help = rules_help())]
        rules: Option<String>,
        /// The schedule string of the report (`v1:...`).
        #[arg(long, value_name = "S")]
        schedule: String,
        /// Print JSON (schema bridgesim/1, docs/json.md) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        html: HtmlArgs,
        /// List every node no driver model claims, not only the first few.
        #[arg(long)]
        list_unmodelled: bool,
    },
    /// Search a scenario's interleavings under one rules column.
    #[command(after_help = AFTER_HELP)]
    Explore {
        /// A scenario file, or builtin:NAME.
        scenario: PathBuf,
        #[arg(long, value_name = "R", help = rules_help())]
        rules: Option<String>,
        #[command(flatten)]
        search: SearchArgs,
        /// Print JSON (schema bridgesim/1, docs/json.md) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        html: HtmlArgs,
    },
    /// Scenarios × rules columns: each cell clean or the violation found.
    #[command(after_help = AFTER_HELP)]
    Compare {
        /// Scenario files, or builtin:NAME.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        #[arg(long, default_value = "all", value_name = "R,R...", help = rules_list_help())]
        rules: String,
        #[command(flatten)]
        search: SearchArgs,
        /// Print JSON (schema bridgesim/1, docs/json.md) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        html: HtmlArgs,
    },
    /// Each rules switch of a release (or rules column), its value and the kernel sources or
    /// upstream commits it models.
    #[command(after_help = AFTER_HELP)]
    Rules {
        #[arg(long, visible_alias = "rules", default_value_t = drm::Release::LATEST.to_string(), value_name = "R", help = rules_column_help())]
        release: String,
        /// Print JSON (schema bridgesim/1, docs/json.md) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Every driver described as data (docs/driver-format.md): its compatible strings, the
    /// releases it has a description for, and the file of each.
    #[command(after_help = AFTER_HELP)]
    Drivers {
        /// Print JSON (schema bridgesim/1, docs/json.md) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Combine the --json output of the shards of one `explore --shard I/N` search into the
    /// result of the whole search (docs/scale-out.md).
    Merge {
        /// One JSON file per shard, every shard once.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON (schema bridgesim/1) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Device-tree tools: compile and show .dts/.dtso files.
    #[command(subcommand)]
    Dt(cmd_dt::DtCommand),
    /// Read driver C (a .c file, a directory or a kernel tree) and report lifetime hazards
    /// per driver, each with its shortest path; --explore also explores each driver's stress
    /// scenarios on a synthetic board; --base/--head compares two trees.
    #[command(
        after_help = "Exit codes:\n  0  no hazard (with --base/--head: none introduced)\n  1  hazards found (introduced), one-function or explored\n  2  usage or input error\n  130  interrupted by Ctrl-C during --explore (what was covered is printed first)"
    )]
    Audit(cmd_audit::AuditArgs),
}

fn main() -> ExitCode {
    restore_sigpipe();
    install_panic_hook();
    // A panic on this thread has been reported by the hook; it ends with exit code 3, not
    // the runtime's 101.
    std::panic::catch_unwind(cli_main).unwrap_or(ExitCode::from(EXIT_INTERNAL))
}

/// The Rust runtime ignores SIGPIPE, so a write to a closed pipe (`bridgesim compare ... | head`)
/// fails, and `print!` panics on it: an internal error for what is the reader's choice. Restore
/// the default action, as a C tool has it: the process ends quietly when its reader goes.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn cli_main() -> ExitCode {
    bridgesim::fault::maybe_panic(bridgesim::fault::Site::Main);
    // Wide reports: a located error's first line names file:line:column unbroken, and is
    // never wrapped when stderr is not a terminal (a log, a pipe, a test), whatever the path.
    let width = if std::io::stderr().is_terminal() {
        200
    } else {
        100_000
    };
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(miette::MietteHandlerOpts::new().width(width).build())
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap uses 0 for --help/--version and 2 for usage errors.
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    match cli.command {
        Command::Demo { json, html } => demo(json, &html),
        Command::Run {
            scenario,
            rules,
            schedule,
            json,
            html,
            list_unmodelled,
        } => run(
            &scenario,
            rules.as_deref(),
            schedule.as_deref(),
            json,
            &html,
            list_unmodelled,
        ),
        Command::Replay {
            scenario,
            rules,
            schedule,
            json,
            html,
            list_unmodelled,
        } => run(
            &scenario,
            rules.as_deref(),
            Some(&schedule),
            json,
            &html,
            list_unmodelled,
        ),
        Command::Explore {
            scenario,
            rules,
            search,
            json,
            html,
        } => explore_cmd(&scenario, rules.as_deref(), &search, json, &html),
        Command::Compare {
            scenarios,
            rules,
            search,
            json,
            html,
        } => compare(&scenarios, &rules, &search, json, &html),
        Command::Rules { release, json } => cmd_rules::run(&release, json),
        Command::Drivers { json } => cmd_drivers::run(json),
        Command::Merge { files, json } => merge::run(&files, json),
        Command::Dt(cmd) => cmd_dt::run(cmd),
        Command::Audit(args) => cmd_audit::run(&args),
    }
}

fn usage_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn load(path: &Path) -> Result<Arc<Prepared>, ExitCode> {
    scenario::load(path).map_err(|e| {
        eprintln!("{:?}", miette::Report::new(e));
        ExitCode::from(2)
    })
}

/// The column for `--rules`, or the scenario's own release.
fn column(p: &Prepared, rules: Option<&str>) -> Result<RulesColumn, ExitCode> {
    let label = match rules {
        Some(r) => r.to_string(),
        None => match &p.scenario.file.rules.release {
            Some(r) => r.get_ref().clone(),
            None => drm::Release::LATEST.to_string(),
        },
    };
    RulesColumn::parse(&label).map_err(usage_error)
}

fn print_json(command: &str, rows: &[(String, Verdict)]) {
    let out = JsonOut {
        schema: verdict::SCHEMA,
        command,
        results: rows
            .iter()
            .map(|(s, v)| JsonResult {
                scenario: s,
                verdict: v,
            })
            .collect(),
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&out).expect("serializable")
    );
}

/// 130 when a search was interrupted, else 0 when every verdict is clean or as expected,
/// else 1.
fn exit_for(rows: &[(String, Verdict)]) -> ExitCode {
    if any_interrupted(rows) {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    let ok = rows
        .iter()
        .all(|(_, v)| v.matches_expect.unwrap_or(v.is_clean()));
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run(
    path: &Path,
    rules: Option<&str>,
    schedule: Option<&str>,
    json: bool,
    html_args: &HtmlArgs,
    list_unmodelled: bool,
) -> ExitCode {
    if let Err(c) = html::check(html_args, &[path]) {
        return c;
    }
    let p = match load(path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let col = match column(&p, rules) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let base = match p.rules(Some(col.release)) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let r = col.rules(base);
    let schedule: Option<Schedule> = match schedule.map(str::parse).transpose() {
        Ok(s) => s,
        Err(e) => return usage_error(format!("--schedule: {e}")),
    };
    let k = Kernel::new(Config::default());
    let prog = p.program(r);
    let (stop, preemptions) = match &schedule {
        Some(s) => {
            let mut rep = explore::Counting::new(Replay::new(s.clone()));
            let stop = k.run(&mut rep, move |k| prog(k));
            if let Some(step) = rep.inner.diverged() {
                eprintln!("warning: the schedule diverged at step {step}; the run went on in thread order");
            }
            (stop, rep.preemptions)
        }
        None => {
            let mut order = explore::Counting::new(ThreadOrder);
            (k.run(&mut order, move |k| prog(k)), order.preemptions)
        }
    };
    let vs = k.violations();
    let findings: Vec<verdict::Finding> = vs
        .iter()
        .map(|v| verdict::Finding {
            found: explore::Finding {
                kind: v.kind,
                object: v.obj.map(|o| k.describe(o)).unwrap_or_default(),
                message: v.message.clone(),
                schedule: k.schedule().to_string(),
                preemptions,
                ops: explore::trace_ops(&k, v.site.step),
            },
            report: k.render(v),
        })
        .collect();
    let mut v = Verdict {
        rules: col.label.clone(),
        findings,
        exhaustive: false,
        coverage: Coverage::OneExecution,
        also: Vec::new(),
        stats: explore::Stats {
            executions: 1,
            steps: k.steps().len() as u64,
            ..Default::default()
        },
        expect: None,
        matches_expect: None,
        every_violation: false,
        deferred: scenario::boot_deferred(&k.trace()),
    };
    if schedule.is_none() {
        v.expect = verdict::expectation(&p, &col.label);
        v.matches_expect = None;
    }
    let name = p.scenario.file.name.clone();
    if json {
        print_json("run", &[(name, v.clone())]);
    } else {
        println!(
            "{} under {}: {:?} after {} steps, schedule {}",
            name,
            col.label,
            stop,
            k.steps().len(),
            k.schedule()
        );
        let inert: Vec<String> = k
            .trace()
            .events
            .iter()
            .filter_map(|e| match e {
                kmodel::trace::Event::Model { what, .. } => what
                    .strip_prefix(scenario::NOT_MODELLED)
                    .map(str::to_string),
                _ => None,
            })
            .collect();
        if let Some(line) = scenario::not_modelled_summary(&inert, list_unmodelled) {
            println!("{line}");
        }
        for d in &v.deferred {
            println!("{}{d}", scenario::DEFERRED_PROBE_PENDING);
        }
        match vs.first() {
            None => println!("no violation"),
            Some(first) => {
                println!("{} violation(s); the first:\n", vs.len());
                print!("{}", k.render(first));
                for other in vs.iter().skip(1) {
                    println!(
                        "also: {} in {}: {}",
                        other.kind.name(),
                        other.obj.map(|o| k.describe(o)).unwrap_or_default(),
                        other.message
                    );
                    // A leak lists each object still allocated and the owners of its
                    // references (the final check of a run without teardown).
                    if other.kind == kmodel::ViolationKind::Leak {
                        for d in &other.details {
                            println!("  {d}");
                        }
                    }
                }
            }
        }
    }
    let kind = match schedule {
        Some(_) => RunKind::Schedule,
        None => RunKind::ThreadOrder,
    };
    if let Err(c) = html::run(html_args, &k, &p, path, &col, &v, kind, &stop) {
        return c;
    }
    if v.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Explore one scenario under one column. An input error exits 2; an internal error (a
/// panic in the search) prints the panic, the schedule it was on and how to replay it, and
/// exits 3.
fn explore_one(
    path: &str,
    p: &Arc<Prepared>,
    col: &RulesColumn,
    spec: &SearchSpec,
    json: bool,
) -> Result<Verdict, ExitCode> {
    let mut spec = spec.clone();
    let pb = progress_bar(&mut spec, json);
    let r = verdict::explore(p, col, &spec);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    r.map_err(|e| match e {
        ExploreError::Input(msg) => usage_error(msg),
        ExploreError::Internal(e) => {
            match &e.schedule {
                Some(s) => eprintln!(
                    "{e}; replay with `bridgesim replay {path} --rules {} --schedule {s}`",
                    col.label
                ),
                None => eprintln!("{e}"),
            }
            ExitCode::from(EXIT_INTERNAL)
        }
    })
}

fn print_finding(path: &str, v: &Verdict) {
    if let Some(f) = v.findings.first() {
        for line in f.report.lines() {
            println!("{line}");
        }
        println!(
            "Replay: bridgesim replay {path} --rules {} --schedule {}",
            v.rules, f.schedule
        );
    }
}

fn explore_cmd(
    path: &Path,
    rules: Option<&str>,
    search: &SearchArgs,
    json: bool,
    html_args: &HtmlArgs,
) -> ExitCode {
    if let Err(c) = html::check(html_args, &[path]) {
        return c;
    }
    let p = match load(path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let col = match column(&p, rules) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let spec = search.spec();
    let v = match explore_one(&path.display().to_string(), &p, &col, &spec, json) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let rows = vec![(p.scenario.file.name.clone(), v)];
    if json {
        print_json("explore", &rows);
    } else {
        let v = &rows[0].1;
        println!(
            "{} under {}: {} ({} executions, {} distinct traces, {} steps, {:.2}s)",
            rows[0].0,
            v.rules,
            v.summary(),
            v.stats.executions,
            v.stats.distinct_traces,
            v.stats.steps,
            v.stats.wall_secs
        );
        if !v.stats.races.is_empty() {
            println!("backtrack entries by racing pair (earlier <> later):");
            for r in &v.stats.races {
                println!("  {:>9}  {}", r.backtracks, r.pair);
            }
        }
        print_finding(&path.display().to_string(), v);
    }
    let cells = [html::cell(&p, path, &col, &rows[0].1)];
    if let Err(c) = html::explore(html_args, &cells) {
        return c;
    }
    exit_for(&rows)
}

/// Whether a search was interrupted (then the remaining ones are not run).
fn any_interrupted(rows: &[(String, Verdict)]) -> bool {
    interrupted() || rows.iter().any(|(_, v)| v.interrupted())
}

fn compare(
    paths: &[PathBuf],
    rules: &str,
    search: &SearchArgs,
    json: bool,
    html_args: &HtmlArgs,
) -> ExitCode {
    let inputs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    if let Err(c) = html::check(html_args, &inputs) {
        return c;
    }
    let cols = match RulesColumn::parse_list(rules) {
        Ok(c) => c,
        Err(e) => return usage_error(format!("--rules: {e}")),
    };
    let mut prepared = Vec::new();
    for path in paths {
        match load(path) {
            Ok(p) => prepared.push(p),
            Err(c) => return c,
        }
    }
    let spec = search.spec();
    let mut rows = Vec::new();
    let mut cells = Vec::new();
    'all: for (p, path) in prepared.iter().zip(paths) {
        for col in &cols {
            match explore_one(&path.display().to_string(), p, col, &spec, json) {
                Ok(v) => {
                    cells.push((p, path.as_path(), col, rows.len()));
                    rows.push((p.scenario.file.name.clone(), v));
                }
                Err(c) => return c,
            }
            if any_interrupted(&rows) {
                break 'all;
            }
        }
    }
    if json {
        print_json("compare", &rows);
    } else {
        print!("{}", verdict::table(&rows));
    }
    let cells: Vec<_> = cells
        .into_iter()
        .map(|(p, path, col, i)| html::cell(p, path, col, &rows[i].1))
        .collect();
    if let Err(c) = html::matrix(html_args, "bridgesim compare", &cells, Timelines::Every) {
        return c;
    }
    exit_for(&rows)
}

fn demo(json: bool, html_args: &HtmlArgs) -> ExitCode {
    if let Err(c) = html::check(html_args, &[]) {
        return c;
    }
    // The SUNH add-on as issue 5 describes it, then the same unplug with an all-bridge add-on
    // (catalog 5.15), which separates what v7.0 closes from what the panel keeps open.
    let mut parts = Vec::new();
    let names = ["builtin:demo", "builtin:demo-bridges"];
    for name in names {
        match load(Path::new(name)) {
            Ok(p) => parts.push(p),
            Err(c) => return c,
        }
    }
    let mut cols: Vec<RulesColumn> = RulesColumn::parse_list("all").expect("release names parse");
    cols.push(RulesColumn::from(
        drm::RulesColumn::new(drm::Release::LATEST).with(drm::rules::Extra::Proposals),
    ));
    let spec = SearchSpec {
        options: explore::Options {
            interrupt: Some(interrupt_flag()),
            ..explore::Options::default()
        },
        ..SearchSpec::default()
    };
    let mut rows = Vec::new();
    'all: for (p, name) in parts.iter().zip(names) {
        for col in &cols {
            // The demo prints its table at the end: no progress bar.
            match explore_one(name, p, col, &spec, true) {
                Ok(v) => rows.push((p.scenario.file.name.clone(), v)),
                Err(c) => return c,
            }
            if any_interrupted(&rows) {
                break 'all;
            }
        }
    }
    let sources = ["builtin:demo", "builtin:demo-bridges"];
    let cells: Vec<_> = (0..rows.len())
        .map(|i| {
            let (pi, ci) = (i / cols.len(), i % cols.len());
            html::cell(&parts[pi], Path::new(sources[pi]), &cols[ci], &rows[i].1)
        })
        .collect();
    let which = Timelines::FirstCounterexamplePerColumn;
    if let Err(c) = html::matrix(html_args, "bridgesim demo", &cells, which) {
        return c;
    }
    if json {
        print_json("demo", &rows);
        return exit_for(&rows);
    }
    for (i, p) in parts.iter().enumerate() {
        let head = if i == 0 { "bridgesim demo" } else { "then" };
        println!(
            "{head}: {}
",
            p.scenario.file.name
        );
        for line in p.scenario.file.description.lines() {
            println!("  {line}");
        }
        println!();
    }
    println!("Each row explores every interleaving of the unplug and the modeset (DPOR).\n");
    print!("{}", verdict::table(&rows));
    if any_interrupted(&rows) {
        println!(
            "\nInterrupted: {} of {} rows searched, the last one only in part.",
            rows.len(),
            parts.len() * cols.len()
        );
    }
    println!(
        "\nEach verdict is the first violation the search reports; \"also\" lists the other \
         violations of that same execution.\n\
         Reading it: from v7.0 the SN65DSI84 no longer touches its hardware after unplug \
         (drm_bridge_unplug, drm_bridge_enter/exit),\nand with an add-on made only of bridges \
         v7.0 is exhaustively clean. With the SUNH panel, the panel_bridge's borrowed panel\n\
         pointer (v7.1:drivers/gpu/drm/bridge/panel.c:drm_panel_bridge_add_typed; the fix is \
         posted, not merged)\nkeeps a use-after-free open in every release; only the proposals \
         column closes it."
    );
    if let Some((_, v)) = rows.iter().find(|(_, v)| !v.is_clean()) {
        println!("\nThe first violation, under {}:\n", v.rules);
        print_finding("builtin:demo", v);
    }
    exit_for(&rows)
}
