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
            // Errors quote paths and values bulkhead read, which must not act on the terminal.
            eprintln!("bulkhead: error: {}", bulkhead_facts::visible::visible(&e));
            ExitCode::from(2)
        }
    }
}
