//! The `bulkhead` command: argument parsing, wiring of the pipeline stages, exit codes.
//!
//! Exit codes: 0 when no result reaches `--fail-on`, 1 when one does, 2 for usage or tool errors.

mod cli;
mod cmd;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bulkhead: error: {e}");
            ExitCode::from(2)
        }
    }
}
