//! `bridgesim audit PATH...`: real driver C in, lifetime hazards out (crate `audit`).
//!
//! Exit codes: 0 no hazard (or, with --base/--head, none introduced), 1 hazards found (or
//! introduced), one-function or explored, 2 usage or input errors, 130 when Ctrl-C stopped
//! `--explore` (what was covered is printed first).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use audit::report::{render, render_diff};
use audit::{Audit, Options};

/// `bridgesim audit` arguments.
#[derive(clap::Args)]
pub struct AuditArgs {
    /// A .c file, a directory, or a kernel tree (its drivers/gpu/drm/bridge).
    #[arg(required_unless_present_all = ["base", "head"], conflicts_with_all = ["base", "head"])]
    paths: Vec<PathBuf>,
    /// The release to audit under (default: the tree's top Makefile VERSION/PATCHLEVEL, else
    /// a path component named after a release, else every release).
    #[arg(long, value_name = "R")]
    release: Option<String>,
    /// Only this function's hazards (the replay of one finding).
    #[arg(long, value_name = "F")]
    function: Option<String>,
    /// Patch review: the tree before the change (with --head).
    #[arg(long, value_name = "DIR", requires = "head")]
    base: Option<PathBuf>,
    /// Patch review: the tree after the change (with --base).
    #[arg(long, value_name = "DIR", requires = "base")]
    head: Option<PathBuf>,
    /// Also write each extracted driver as a description in the drivers-as-data format
    /// (docs/driver-format.md): DIR/<driver>/<release>.toml.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["base", "head"])]
    emit_model: Option<PathBuf>,
    /// Also write each driver's stress scenarios (a synthetic board, the add-on overlay that
    /// carries the driver, its description, one scenario per stress):
    /// DIR/<driver>/<release>/<stress>.toml, each rerun with `bridgesim explore`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["base", "head"])]
    emit_scenarios: Option<PathBuf>,
    /// Explore each driver's stress scenarios under the selected releases (and with the
    /// proposals), a bounded search per scenario, and report the violations on the driver's
    /// objects with their shortest schedule and a replay command.
    #[arg(long)]
    explore: bool,
    /// Executions per scenario and rules column when exploring (a bound: the result says
    /// whether it covered the whole space).
    #[arg(long, value_name = "N", default_value_t = bridgesim::audit_explore::DEFAULT_BUDGET,
          value_parser = clap::value_parser!(u64).range(1..))]
    explore_budget: u64,
    /// List every unknown call, not only the first few per driver.
    #[arg(long)]
    list_unknown: bool,
    /// Print JSON (schema bridgesim-audit/1; bridgesim-audit/2 with --explore) instead of
    /// text.
    #[arg(long)]
    json: bool,
}

fn progress(json: bool) -> Option<indicatif::ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(0);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files  {msg}")
            .expect("valid template"),
    );
    Some(pb)
}

fn run_one(paths: &[PathBuf], opts: &Options, json: bool) -> Result<Audit, ExitCode> {
    let pb = progress(json);
    let mut tick = |i: usize, n: usize, f: &Path| {
        if let Some(pb) = &pb {
            pb.set_length(n as u64);
            pb.set_position(i as u64);
            pb.set_message(
                f.file_name()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default(),
            );
        }
    };
    let r = audit::audit(paths, opts, &mut tick);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    r.map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

pub fn run(args: &AuditArgs) -> ExitCode {
    let release = match args.release.as_deref().map(str::parse::<drm::Release>) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            eprintln!("error: --release: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = Options {
        release,
        function: args.function.clone(),
    };
    if let (Some(base), Some(head)) = (&args.base, &args.head) {
        let b = match run_one(std::slice::from_ref(base), &opts, args.json) {
            Ok(a) => a,
            Err(c) => return c,
        };
        let h = match run_one(std::slice::from_ref(head), &opts, args.json) {
            Ok(a) => a,
            Err(c) => return c,
        };
        let d = audit::diff(b, h);
        let explored = if args.explore {
            let xb = match explore_paths(args, std::slice::from_ref(base), &opts) {
                Ok(x) => x,
                Err(c) => return c,
            };
            let xh = match explore_paths(args, std::slice::from_ref(head), &opts) {
                Ok(x) => x,
                Err(c) => return c,
            };
            let xd = bridgesim::audit_explore::diff(&xb, &xh);
            Some((xb, xd))
        } else {
            None
        };
        if args.json {
            let mut v = serde_json::to_value(&d).expect("serializable");
            if let Some((xb, xd)) = &explored {
                v["schema"] = serde_json::Value::from(SCHEMA_EXPLORED);
                v["explored"] = serde_json::json!({ "bound": xb.bound, "diff": xd });
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&v).expect("serializable")
            );
        } else {
            print!("{}", render_diff(&d));
            if let Some((xb, xd)) = &explored {
                print!("{}", bridgesim::audit_explore::render_diff(xd, xb));
            }
        }
        if explored.as_ref().is_some_and(|(xb, _)| xb.interrupted) || crate::interrupted() {
            return ExitCode::from(crate::EXIT_INTERRUPTED);
        }
        let introduced = explored
            .as_ref()
            .is_some_and(|(_, xd)| !xd.introduced.is_empty());
        return ExitCode::from(u8::from(d.introduces_hazards() || introduced));
    }
    let a = match run_one(&args.paths, &opts, args.json) {
        Ok(a) => a,
        Err(c) => return c,
    };
    if let Some(dir) = &args.emit_model {
        match audit::report::emit_models(&args.paths, &opts, dir) {
            Ok(files) => {
                let gaps: usize = files.iter().map(|(_, n)| n.len()).sum();
                eprintln!(
                    "wrote {} description(s) under {} ({gaps} construct(s) not expressed, each a comment in its file)",
                    files.len(),
                    dir.display()
                );
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let explored = if args.emit_scenarios.is_some() || args.explore {
        match scenarios(args, &opts) {
            Ok(x) => x,
            Err(c) => return c,
        }
    } else {
        None
    };
    if args.json {
        let mut v = serde_json::to_value(&a).expect("serializable");
        if let Some(x) = &explored {
            v["schema"] = serde_json::Value::from(SCHEMA_EXPLORED);
            v["explored"] = serde_json::to_value(x).expect("serializable");
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&v).expect("serializable")
        );
    } else {
        print!("{}", render(&a, args.list_unknown));
        if let Some(x) = &explored {
            print!("{}", bridgesim::audit_explore::render(x));
        }
    }
    if explored.as_ref().is_some_and(|x| x.interrupted) {
        return ExitCode::from(crate::EXIT_INTERRUPTED);
    }
    let explored_hazards = explored.as_ref().is_some_and(|x| x.hazard_count() > 0);
    ExitCode::from(u8::from(a.has_hazards() || explored_hazards))
}

/// The JSON schema of an audit that explored its stress scenarios (`--explore`): the audit's
/// `bridgesim-audit/1` fields plus `explored` (docs/audit.md).
pub const SCHEMA_EXPLORED: &str = "bridgesim-audit/2";

/// `--emit-scenarios DIR` and `--explore`: generate each driver's stress scenarios, write
/// them, and explore them when asked.
fn scenarios(
    args: &AuditArgs,
    opts: &Options,
) -> Result<Option<bridgesim::audit_explore::Exploration>, ExitCode> {
    let sets = audit::report::stress_sets(&args.paths, opts).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    if let Some(dir) = &args.emit_scenarios {
        if let Err(e) = bridgesim::audit_explore::write_sets(&sets, dir) {
            eprintln!("error: {}: cannot write the scenarios: {e}", dir.display());
            return Err(ExitCode::from(2));
        }
        let n: usize = sets.iter().map(|s| s.scenarios.len()).sum();
        eprintln!(
            "wrote {n} stress scenario(s) of {} driver(s) under {} (DIR/<driver>/<release>/<stress>.toml; rerun one with `bridgesim explore`)",
            sets.iter().filter(|s| s.not_generated.is_none()).count(),
            dir.display()
        );
    }
    if !args.explore {
        return Ok(None);
    }
    explore_sets(args, &sets).map(Some)
}

/// Generate and explore the stress scenarios of the drivers under `paths` (the `--base` or
/// `--head` tree), in a temporary directory.
fn explore_paths(
    args: &AuditArgs,
    paths: &[PathBuf],
    opts: &Options,
) -> Result<bridgesim::audit_explore::Exploration, ExitCode> {
    let sets = audit::report::stress_sets(paths, opts).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    explore_sets(args, &sets)
}

fn explore_sets(
    args: &AuditArgs,
    sets: &[audit::stress::StressSet],
) -> Result<bridgesim::audit_explore::Exploration, ExitCode> {
    let pb = progress(args.json);
    let progress_cb: Option<bridgesim::audit_explore::Progress> = pb.clone().map(|pb| {
        Box::new(move |i: usize, n: usize, d: &str| {
            pb.set_length(n as u64);
            pb.set_position(i as u64);
            pb.set_message(format!("exploring {d}"));
        }) as bridgesim::audit_explore::Progress
    });
    let x = bridgesim::audit_explore::explore_sets(
        sets,
        &bridgesim::audit_explore::ExploreOpts {
            budget: args.explore_budget,
            emit_dir: args.emit_scenarios.clone(),
            progress: progress_cb,
            interrupt: Some(crate::interrupt_flag()),
        },
    );
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    x.map_err(|e| {
        eprintln!("error: cannot write the scenarios: {e}");
        ExitCode::from(2)
    })
}
