//! `bridgesim dt ...`: device-tree subcommands.
//!
//! Exit codes: 0 ok, 2 for usage or input errors (the error is printed as a
//! miette report).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use kmodel::of::DeviceTree;

mod display_graph;

#[derive(Subcommand)]
pub enum DtCommand {
    /// Compile a .dts/.dtso (or re-emit a .dtb/.dtbo) into a .dtb/.dtbo,
    /// with dtc's `-@` semantics (`__symbols__`; `__fixups__` and
    /// `__local_fixups__` for overlays).
    Compile {
        /// Input: .dts, .dtso, .dtb or .dtbo.
        file: PathBuf,
        /// Include search directory (cpp -I and dtc -i).
        #[arg(short = 'I', value_name = "DIR")]
        include: Vec<PathBuf>,
        /// Output .dtb/.dtbo.
        #[arg(short = 'o', value_name = "OUT")]
        output: PathBuf,
        /// Accepted for dtc compatibility; symbols are always generated.
        #[arg(short = '@')]
        symbols: bool,
        /// On an error, list every level of a long include chain (it is
        /// summarised otherwise).
        #[arg(long)]
        full_include_chain: bool,
    },
    /// Print the resolved tree (dts-like) and its display graph.
    Show {
        /// Input: .dts, .dtso, .dtb or .dtbo.
        file: PathBuf,
        /// Include search directory (cpp -I and dtc -i).
        #[arg(short = 'I', value_name = "DIR")]
        include: Vec<PathBuf>,
        /// Overlay to apply, optionally relative to a target node
        /// (`FILE[:TARGET-PATH]`); repeatable, applied in order.
        #[arg(long = "overlay", value_name = "FILE[:TARGET-PATH]")]
        overlays: Vec<String>,
        /// Print only the display graph.
        #[arg(long)]
        graph_only: bool,
        /// On an error, list every level of a long include chain (it is
        /// summarised otherwise).
        #[arg(long)]
        full_include_chain: bool,
    },
}

fn report(e: impl Into<miette::Report>) -> ExitCode {
    eprintln!("{:?}", e.into());
    ExitCode::from(2)
}

fn options(include: &[PathBuf]) -> dts::Options {
    dts::Options {
        include_dirs: include.to_vec(),
        ..Default::default()
    }
}

/// `dts::load`, its error with the whole include chain when asked.
fn load(
    file: &Path,
    opts: &dts::Options,
    full_chain: bool,
) -> Result<dts::Compiled, dts::DtsError> {
    dts::load(file, opts).map_err(|e| {
        if full_chain {
            e.with_full_include_chain()
        } else {
            e
        }
    })
}

/// Loads the base and applies the overlays; the text of `show`.
pub fn show_text(
    file: &Path,
    include: &[PathBuf],
    overlays: &[String],
    graph_only: bool,
    full_chain: bool,
) -> Result<String, miette::Report> {
    let opts = options(include);
    let mut tree: DeviceTree = load(file, &opts, full_chain)?.tree;
    for spec in overlays {
        let (ovf, target) = match spec.rsplit_once(':') {
            Some((f, t)) if t.starts_with('/') => (f, Some(t)),
            _ => (spec.as_str(), None),
        };
        let ov = load(Path::new(ovf), &opts, full_chain)?;
        let base = match target {
            Some(t) => Some(tree.of_find_node_by_path(t).ok_or_else(|| {
                miette::miette!("{spec}: overlay target node {t} not found in the base tree")
            })?),
            None => None,
        };
        tree.of_overlay_apply(&ov.tree, base)
            .map_err(|e| miette::miette!("{ovf}: overlay does not apply: {e}"))?;
    }
    let mut out = String::new();
    if !graph_only {
        out.push_str(&dts::print::to_dts(&tree));
        out.push('\n');
    }
    out.push_str(&display_graph::render(&tree));
    Ok(out)
}

pub fn run(cmd: DtCommand) -> ExitCode {
    match cmd {
        DtCommand::Compile {
            file,
            include,
            output,
            symbols: _,
            full_include_chain,
        } => {
            let c = match load(&file, &options(&include), full_include_chain) {
                Ok(c) => c,
                Err(e) => return report(e),
            };
            if let Some(i) = bridgesim::output::overwritten_input(
                &output,
                c.sources.iter().map(PathBuf::as_path),
            ) {
                return report(miette::miette!(
                    "{}: refusing to overwrite the input {}; expected a different -o file",
                    output.display(),
                    i.display()
                ));
            }
            let blob = dts::fdt::write_dtb(&c.tree);
            if let Err(e) = bridgesim::output::write_atomic(&output, &blob) {
                return report(miette::miette!("{}: cannot write: {e}", output.display()));
            }
            ExitCode::SUCCESS
        }
        DtCommand::Show {
            file,
            include,
            overlays,
            graph_only,
            full_include_chain,
        } => match show_text(&file, &include, &overlays, graph_only, full_include_chain) {
            Ok(s) => {
                print!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => report(e),
        },
    }
}
