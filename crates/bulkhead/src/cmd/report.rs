//! `bulkhead report` (being written).

use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {}

pub fn run(_args: ReportArgs) -> Result<ExitCode, String> {
    Err("`bulkhead report` is not available yet".into())
}
