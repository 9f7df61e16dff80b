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
    let mut store = bulkhead_store::open(&url).map_err(|e| e.to_string())?;
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
        let count = |k: &str| r.summary.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
        let _ = writeln!(
            out,
            "{:>6}  {:<20}  {:<10}  {:<22}  {:>5}  {} pass, {} fail, {} warn, {} error",
            r.id,
            r.host,
            r.kind,
            r.collected_at,
            r.score,
            count("pass"),
            count("fail"),
            count("warn"),
            count("error")
        );
    }
    out
}
