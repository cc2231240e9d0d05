//! The `bridgesim` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd_dt;

/// An executable model of the Linux DRM bridge lifetime under hot-unplug.
#[derive(Parser)]
#[command(name = "bridgesim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Device-tree tools: compile and show .dts/.dtso files.
    #[command(subcommand)]
    Dt(cmd_dt::DtCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap uses 0 for --help/--version and 2 for usage errors.
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    match cli.command {
        Command::Dt(cmd) => cmd_dt::run(cmd),
    }
}
