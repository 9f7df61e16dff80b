//! `bulkhead scan` (being written).

use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct ScanArgs {}

pub fn run(_args: ScanArgs) -> Result<ExitCode, String> {
    Err("`bulkhead scan` is not available yet".into())
}
