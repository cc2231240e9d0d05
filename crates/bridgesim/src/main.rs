//! The `bridgesim` command line.
//!
//! Exit codes: 0 when the verdict is clean or matches the scenario's `expect`; 1 when
//! violations are found or differ from `expect`; 2 for usage or input errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use bridgesim::scenario::{self, Prepared};
use bridgesim::verdict::{self, JsonOut, JsonResult, RulesColumn, SearchSpec, Verdict};
use clap::{Parser, Subcommand, ValueEnum};
use explore::Strategy;
use kmodel::{Config, Kernel, Replay, Schedule, ThreadOrder};

/// mimalloc: glibc malloc's arena locks serialised the workers of a parallel search.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cmd_dt;

/// An executable model of the Linux DRM bridge lifetime under hot-unplug.
#[derive(Parser)]
#[command(name = "bridgesim", version, about)]
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
    #[arg(long, value_name = "K")]
    preemption_bound: Option<u32>,
    /// Stop after N executions.
    #[arg(long, value_name = "N")]
    max_executions: Option<u64>,
    /// Seed of pct and random.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// PCT bug depth.
    #[arg(long, default_value_t = 2)]
    depth: u32,
    /// OS threads to search with (results do not depend on it).
    #[arg(long)]
    threads: Option<usize>,
    /// dpor/dfs: do not stop at the first violation; cover the whole space and report every
    /// distinct violation (slower).
    #[arg(long)]
    all: bool,
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
            spec.options.threads = t.max(1);
        }
        spec.options.interrupt = Some(explore::ctrlc_flag());
        spec.options.collect = self.all;
        spec
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the built-in SUNH scenarios under every release and print the verdict table.
    Demo {
        /// Print JSON (schema bridgesim/1) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// One execution of a scenario, in thread order or along a schedule.
    Run {
        /// A scenario file, or builtin:NAME.
        scenario: PathBuf,
        /// Rules: a release (v6.15 … v7.2), optionally +SWITCH or +proposals.
        #[arg(long)]
        rules: Option<String>,
        /// A schedule string (from a report) to follow.
        #[arg(long)]
        schedule: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Re-run a reported schedule and print its report (same as run --schedule).
    Replay {
        scenario: PathBuf,
        #[arg(long)]
        rules: Option<String>,
        #[arg(long)]
        schedule: String,
        #[arg(long)]
        json: bool,
    },
    /// Search a scenario's interleavings.
    Explore {
        scenario: PathBuf,
        #[arg(long)]
        rules: Option<String>,
        #[command(flatten)]
        search: SearchArgs,
        #[arg(long)]
        json: bool,
    },
    /// Scenarios × releases: each cell clean or the violation found.
    Compare {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// `all`, or a comma-separated list of rules columns.
        #[arg(long, default_value = "all")]
        rules: String,
        #[command(flatten)]
        search: SearchArgs,
        #[arg(long)]
        json: bool,
    },
    /// Device-tree tools: compile and show .dts/.dtso files.
    #[command(subcommand)]
    Dt(cmd_dt::DtCommand),
}

fn main() -> ExitCode {
    // Wide reports: a located error's first line names file:line:column unbroken.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().width(200).build())
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
        Command::Demo { json } => demo(json),
        Command::Run {
            scenario,
            rules,
            schedule,
            json,
        } => run(&scenario, rules.as_deref(), schedule.as_deref(), json),
        Command::Replay {
            scenario,
            rules,
            schedule,
            json,
        } => run(&scenario, rules.as_deref(), Some(&schedule), json),
        Command::Explore {
            scenario,
            rules,
            search,
            json,
        } => explore_cmd(&scenario, rules.as_deref(), &search, json),
        Command::Compare {
            scenarios,
            rules,
            search,
            json,
        } => compare(&scenarios, &rules, &search, json),
        Command::Dt(cmd) => cmd_dt::run(cmd),
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

fn exit_for(rows: &[(String, Verdict)]) -> ExitCode {
    let ok = rows
        .iter()
        .all(|(_, v)| v.matches_expect.unwrap_or(v.is_clean()));
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run(path: &Path, rules: Option<&str>, schedule: Option<&str>, json: bool) -> ExitCode {
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
    let stop = match &schedule {
        Some(s) => {
            let mut rep = Replay::new(s.clone());
            let stop = k.run(&mut rep, move |k| prog(k));
            if let Some(step) = rep.diverged() {
                eprintln!("warning: the schedule diverged at step {step}; the run went on in thread order");
            }
            stop
        }
        None => k.run(&mut ThreadOrder, move |k| prog(k)),
    };
    let vs = k.violations();
    let findings: Vec<verdict::Finding> = vs
        .iter()
        .map(|v| verdict::Finding {
            kind: v.kind,
            object: v.obj.map(|o| k.describe(o)).unwrap_or_default(),
            message: v.message.clone(),
            schedule: k.schedule().to_string(),
            preemptions: 0,
            ops: v.site.step,
            report: k.render(v),
        })
        .collect();
    let mut v = Verdict {
        rules: col.label.clone(),
        findings,
        exhaustive: false,
        also: Vec::new(),
        stats: explore::Stats {
            executions: 1,
            steps: k.steps().len() as u64,
            ..Default::default()
        },
        expect: None,
        matches_expect: None,
        every_violation: false,
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
        if !inert.is_empty() {
            println!(
                "{} node(s) not modelled (inert): {}",
                inert.len(),
                inert.join("; ")
            );
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
                }
            }
        }
    }
    if v.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn explore_one(
    p: &Arc<Prepared>,
    col: &RulesColumn,
    spec: &SearchSpec,
) -> Result<Verdict, ExitCode> {
    verdict::explore(p, col, spec).map_err(usage_error)
}

fn print_finding(path: &str, v: &Verdict) {
    if let Some(f) = v.findings.first() {
        // The explorer's own replay hint lacks the scenario; print the full command instead.
        for line in f.report.lines().filter(|l| !l.starts_with("replay: ")) {
            println!("{line}");
        }
        println!(
            "Replay: bridgesim replay {path} --rules {} --schedule {}",
            v.rules, f.schedule
        );
    }
}

fn explore_cmd(path: &Path, rules: Option<&str>, search: &SearchArgs, json: bool) -> ExitCode {
    let p = match load(path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let col = match column(&p, rules) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let mut spec = search.spec();
    spec.options.progress = !json;
    let v = match explore_one(&p, &col, &spec) {
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
        print_finding(&path.display().to_string(), v);
    }
    exit_for(&rows)
}

fn compare(paths: &[PathBuf], rules: &str, search: &SearchArgs, json: bool) -> ExitCode {
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
    let mut spec = search.spec();
    spec.options.progress = !json;
    let mut rows = Vec::new();
    for p in &prepared {
        for col in &cols {
            match explore_one(p, col, &spec) {
                Ok(v) => rows.push((p.scenario.file.name.clone(), v)),
                Err(c) => return c,
            }
        }
    }
    if json {
        print_json("compare", &rows);
    } else {
        print!("{}", verdict::table(&rows));
    }
    exit_for(&rows)
}

fn demo(json: bool) -> ExitCode {
    // The SUNH add-on as issue 5 describes it, then the same unplug with an all-bridge add-on
    // (catalog 5.15), which separates what v7.0 closes from what the panel keeps open.
    let mut parts = Vec::new();
    for name in ["builtin:demo", "builtin:demo-bridges"] {
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
            progress: false,
            ..explore::Options::default()
        },
        ..SearchSpec::default()
    };
    let mut rows = Vec::new();
    for p in &parts {
        for col in &cols {
            match explore_one(p, col, &spec) {
                Ok(v) => rows.push((p.scenario.file.name.clone(), v)),
                Err(c) => return c,
            }
        }
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
    println!(
        "\nEach verdict is the first violation the search reports; \"also\" lists the other \
         violations of that same execution.\n\
         Reading it: from v7.0 the SN65DSI84 no longer touches its hardware after unplug \
         (drm_bridge_unplug, drm_bridge_enter/exit),\nand with an add-on made only of bridges \
         v7.0 is exhaustively clean. With the SUNH panel, the panel_bridge's borrowed panel\n\
         pointer (upstream.md §5.11: fix posted, not merged) keeps a use-after-free open in \
         every release; only the proposals column closes it."
    );
    if let Some((_, v)) = rows.iter().find(|(_, v)| !v.is_clean()) {
        println!("\nThe first violation, under {}:\n", v.rules);
        print_finding("builtin:demo", v);
    }
    exit_for(&rows)
}
