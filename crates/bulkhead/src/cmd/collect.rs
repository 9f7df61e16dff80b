//! `bulkhead collect`: write every fact the checks need to a snapshot file, judging nothing.

use super::acquire_snapshot;
use crate::cli::{AuditTarget, CollectCmdArgs};
use std::process::ExitCode;

pub fn run(args: CollectCmdArgs) -> Result<ExitCode, String> {
    if args.source.snapshot.is_some() {
        return Err("collect reads the live host; --snapshot makes no sense here".into());
    }
    crate::output::refuse_overwriting_inputs(args.output.as_deref(), &args.source.input_files())?;
    let snapshot = acquire_snapshot(
        &args.source,
        args.target.unwrap_or(AuditTarget::All),
        &args.exclude,
    )?;
    let mut text = serde_json::to_string_pretty(&snapshot)
        .map_err(|e| format!("serializing snapshot: {e}"))?;
    text.push('\n');
    crate::output::emit(&text, args.output.as_deref())?;
    if let Some(p) = &args.output {
        eprintln!("bulkhead: snapshot written to {}", p.display());
    }
    if snapshot.docker.is_none() && snapshot.kubernetes.is_none() {
        // Not an error (the host facts are recorded as asked), but no audit can be made from
        // such a snapshot: say so now rather than when it is audited elsewhere.
        eprintln!("bulkhead: warning: {}; the snapshot holds host facts only and no benchmark can be evaluated from it (name a daemon with --docker-host, or check --root/--proc)", super::NOTHING_TO_AUDIT);
    }
    Ok(ExitCode::SUCCESS)
}
