//! `bulkhead harden` and `bulkhead verify` (being written).

use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct HardenArgs {}

#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {}

pub fn run(_args: HardenArgs) -> Result<ExitCode, String> {
    Err("`bulkhead harden` is not available yet".into())
}

pub fn run_verify(_args: VerifyArgs) -> Result<ExitCode, String> {
    Err("`bulkhead verify` is not available yet".into())
}
