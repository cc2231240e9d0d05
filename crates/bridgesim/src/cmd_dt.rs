//! `bridgesim dt ...`: device-tree subcommands.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum DtCommand {
    /// Compile a .dts/.dtso into a .dtb/.dtbo.
    Compile {},
}

pub fn run(cmd: DtCommand) -> ExitCode {
    match cmd {
        DtCommand::Compile {} => ExitCode::from(2),
    }
}
