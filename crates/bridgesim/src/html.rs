//! `--html FILE`: the HTML timeline of run, replay, explore, compare and demo
//! (`bridgesim::timeline`, docs/timeline.md).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use bridgesim::scenario::Prepared;
use bridgesim::timeline::page::{self, CellInput, Page, Timelines};
use bridgesim::timeline::{self, RunKind, Timeline};
use bridgesim::verdict::{RulesColumn, Verdict};
use kmodel::{Kernel, Stop};

use crate::HtmlArgs;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: --html: {msg}");
    ExitCode::from(2)
}

/// Before any work: the file must not be one of the inputs, nor a directory, and its
/// directory must exist.
pub fn check(args: &HtmlArgs, inputs: &[&Path]) -> Result<(), ExitCode> {
    let Some(out) = &args.html else {
        return Ok(());
    };
    if out.is_dir() {
        return Err(fail(format!("{} is a directory", out.display())));
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(fail(format!(
                "the directory of {} does not exist",
                out.display()
            )));
        }
    }
    if let Ok(o) = out.canonicalize() {
        for i in inputs {
            if i.canonicalize().is_ok_and(|i| i == o) {
                return Err(fail(format!(
                    "{} is an input file; refusing to overwrite it",
                    out.display()
                )));
            }
        }
    }
    Ok(())
}

fn write(args: &HtmlArgs, page: impl FnOnce() -> Result<Page, String>) -> Result<(), ExitCode> {
    let Some(out) = &args.html else {
        return Ok(());
    };
    let page = page().map_err(fail)?;
    bridgesim::output::write_atomic(out, page.render().as_bytes())
        .map_err(|e| fail(format!("cannot write {}: {e}", out.display())))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// A matrix cell for `p` as the command line named it.
pub fn cell<'a>(
    p: &'a Arc<Prepared>,
    path: &Path,
    col: &'a RulesColumn,
    v: &'a Verdict,
) -> CellInput<'a> {
    CellInput {
        prepared: p,
        source: path.display().to_string(),
        column: col,
        verdict: v,
    }
}

/// `run` and `replay`: the execution just run.
#[allow(clippy::too_many_arguments)]
pub fn run(
    args: &HtmlArgs,
    k: &Kernel,
    p: &Prepared,
    path: &Path,
    col: &RulesColumn,
    v: &Verdict,
    kind: RunKind,
    stop: &Stop,
) -> Result<(), ExitCode> {
    write(args, || {
        let verdict = if v.is_clean() {
            "no violation in this execution".to_string()
        } else {
            v.summary()
        };
        let mut h = timeline::header(p, &path.display().to_string(), col, verdict, kind)?;
        h.stop = timeline::stop_text(stop);
        h.schedule = k.schedule().to_string();
        let t = Timeline::from_kernel(k, h);
        Ok(Page {
            title: format!("bridgesim run: {} under {}", t.header.scenario, col.label),
            timelines: vec![t],
            open: true,
            ..Page::default()
        })
    })
}

/// `explore`: the counterexample, or the thread-order run of a clean verdict.
pub fn explore(args: &HtmlArgs, cells: &[CellInput<'_>]) -> Result<(), ExitCode> {
    write(args, || {
        let timelines = cells
            .iter()
            .map(page::for_verdict)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            title: "bridgesim explore".to_string(),
            timelines,
            open: true,
            ..Page::default()
        })
    })
}

/// `compare` and `demo`: the matrix and its timelines.
pub fn matrix(
    args: &HtmlArgs,
    title: &str,
    cells: &[CellInput<'_>],
    which: Timelines,
) -> Result<(), ExitCode> {
    write(args, || {
        let intro = vec![match which {
            Timelines::Every => "Each cell links to its timeline: the counterexample, replayed \
                                 to the end, or for a clean cell the run in thread order."
                .to_string(),
            Timelines::FirstCounterexamplePerColumn => {
                "Each release with a violation links to the timeline of its first \
                 counterexample, replayed to the end."
                    .to_string()
            }
        }];
        page::matrix_page(title, intro, cells, which)
    })
}
