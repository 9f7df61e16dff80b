//! `bulkhead threats` (being written).

use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct ThreatsArgs {}

pub fn run(_args: ThreatsArgs) -> Result<ExitCode, String> {
    Err("`bulkhead threats` is not available yet".into())
}
