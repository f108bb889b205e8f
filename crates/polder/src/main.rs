//! The `polder` command.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = polder::cli::Cli::parse();
    match polder::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
