//! `bulkhead history`, and recording audits into the run history (`audit --store URL`).

use super::VERSION;
use crate::cli::{Benchmark, HistoryArgs, ListFormat};
use bulkhead_checks::Audit;
use bulkhead_report::Target;
use bulkhead_store::{NewRun, RunFilter, RunSummary};
use std::fmt::Write;
use std::process::ExitCode;

/// Record each audit as one run. The store receives exactly the `bulkhead.audit/1` document
/// `--format json` prints.
pub fn record(url: &str, audits: &[(Audit, Target)]) -> Result<(), String> {
    let mut store = bulkhead_store::open(url).map_err(|e| e.to_string())?;
    for (audit, target) in audits {
        let doc = serde_json::to_value(bulkhead_report::audit_json::document(
            audit, target, VERSION,
        ))
        .map_err(|e| e.to_string())?;
        let run = NewRun::from_document(&doc)?;
        let id = store.record(&run).map_err(|e| e.to_string())?;
        eprintln!(
            "bulkhead: recorded {} run {id} for {}",
            target.kind, target.host
        );
    }
    Ok(())
}

pub fn run(args: HistoryArgs) -> Result<ExitCode, String> {
    let url = args
        .store
        .clone()
        .unwrap_or_else(bulkhead_store::default_url);
    // Reading never creates a store: a mistyped --store would otherwise become a new, empty
    // history that answers "no runs recorded".
    if let Some(path) = bulkhead_store::sqlite_path(&url).filter(|p| !p.exists()) {
        if args.store.is_some() {
            return Err(format!(
                "no run history at {}: the file does not exist (runs are recorded there by `bulkhead audit --store {url}`)",
                path.display()
            ));
        }
        eprintln!(
            "bulkhead: no runs recorded yet: the default history {} does not exist (record runs with `bulkhead audit --store`)",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Nor any table: a database without bulkhead's is refused by name, not read as empty.
    let mut store = bulkhead_store::open_existing(&url).map_err(|e| e.to_string())?;
    let kind = args.kind.map(|k| match k {
        Benchmark::Docker => "docker".to_string(),
        Benchmark::Kubernetes => "kubernetes".to_string(),
    });
    let filter = RunFilter {
        host: args.host.clone(),
        kind,
        limit: if args.diff {
            None
        } else {
            Some(args.limit as usize)
        },
    };
    let runs = store.runs(&filter).map_err(|e| e.to_string())?;
    if !args.diff {
        let text = match args.format {
            ListFormat::Json => serde_json::to_string_pretty(&runs).expect("serializes") + "\n",
            ListFormat::Text => render_runs(&runs),
        };
        crate::output::emit(&text, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The two newest runs of every (host, kind), compared check by check.
    let mut pairs: Vec<(&RunSummary, &RunSummary)> = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for r in &runs {
        let key = (r.host.clone(), r.kind.clone());
        if seen.contains(&key) {
            continue;
        }
        if let Some(prev) = runs
            .iter()
            .find(|p| p.id < r.id && p.host == r.host && p.kind == r.kind)
        {
            pairs.push((prev, r));
        }
        seen.push(key);
    }
    let mut changes = Vec::new();
    let mut out = String::new();
    for (before, after) in pairs {
        let old = store.checks(before.id).map_err(|e| e.to_string())?;
        let new = store.checks(after.id).map_err(|e| e.to_string())?;
        let _ = writeln!(
            out,
            "{} {}: run {} ({}) -> run {} ({}), score {} -> {}",
            after.host,
            after.kind,
            before.id,
            before.collected_at,
            after.id,
            after.collected_at,
            before.score,
            after.score
        );
        // Runs in different numberings (or benchmark versions) show different check numbers
        // for the same control: say so, since controls are compared, not numbers.
        if (&before.numbering, &before.benchmark_version)
            != (&after.numbering, &after.benchmark_version)
        {
            let _ = writeln!(
                out,
                "  note: run {} is numbered {} ({} {}), run {} {} ({} {}); checks are matched by control, numbers are the newer run's",
                before.id,
                before.numbering,
                before.benchmark,
                before.benchmark_version,
                after.id,
                after.numbering,
                after.benchmark,
                after.benchmark_version
            );
        }
        let mut any = false;
        // A check the older run has and the newer one lacks (a narrower --only, another
        // numbering) is a change too: its verdict is no longer known.
        for o in old
            .iter()
            .filter(|o| !new.iter().any(|n| n.control == o.control))
        {
            any = true;
            let _ = writeln!(
                out,
                "  {:<8} {} -> absent  {}",
                o.check_id, o.status, o.control
            );
            changes.push(serde_json::json!({"host": after.host, "kind": after.kind, "check": o.check_id, "control": o.control, "before": o.status, "after": "absent", "before_run": before.id, "after_run": after.id}));
        }
        for n in &new {
            let prev = old
                .iter()
                .find(|o| o.control == n.control)
                .map(|o| o.status.as_str())
                .unwrap_or("absent");
            if prev != n.status {
                any = true;
                let _ = writeln!(
                    out,
                    "  {:<8} {prev} -> {}  {}",
                    n.check_id, n.status, n.control
                );
                changes.push(serde_json::json!({"host": after.host, "kind": after.kind, "check": n.check_id, "control": n.control, "before": prev, "after": n.status, "before_run": before.id, "after_run": after.id}));
            }
        }
        if !any {
            let _ = writeln!(out, "  no check changed status");
        }
    }
    if out.is_empty() {
        out = "no host has two recorded runs to compare\n".into();
    }
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&changes).expect("serializes") + "\n",
        ListFormat::Text => out,
    };
    crate::output::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

/// The statuses of a run's summary (its JSON key, its words), in the order and words of the
/// audit report's own summary line. Every one is shown, zeros too, so that the counts add up to
/// the number of checks and the columns line up from run to run.
const STATUSES: [(&str, &str); 7] = [
    ("pass", "pass"),
    ("fail", "fail"),
    ("warn", "warn"),
    ("info", "info"),
    ("manual", "manual"),
    ("not_applicable", "not applicable"),
    ("error", "error"),
];

/// "117 checks: 40 pass, 33 fail, ..." as the audit report says it, from the summary the run's
/// audit document carries (the same object `--format json` lists).
fn summary_text(summary: &serde_json::Value) -> String {
    let count = |k: &str| summary.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let counted: u64 = STATUSES.iter().map(|(k, _)| count(k)).sum();
    let total = summary
        .get("total")
        .and_then(|v| v.as_u64())
        .unwrap_or(counted);
    let mut parts: Vec<String> = STATUSES
        .iter()
        .map(|(k, shown)| format!("{} {shown}", count(k)))
        .collect();
    // A status this version does not know (recorded by a newer bulkhead) still counts.
    if total > counted {
        parts.push(format!("{} other", total - counted));
    }
    format!(
        "{total} check{}: {}",
        if total == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

fn render_runs(runs: &[RunSummary]) -> String {
    if runs.is_empty() {
        return "no runs recorded\n".into();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:<20}  {:<10}  {:<22}  {:>5}  summary",
        "run", "host", "kind", "collected", "score"
    );
    for r in runs {
        let _ = writeln!(
            out,
            "{:>6}  {:<20}  {:<10}  {:<22}  {:>5}  {}",
            r.id,
            r.host,
            r.kind,
            r.collected_at,
            r.score,
            summary_text(&r.summary)
        );
    }
    out
}
