//! `bulkhead audit`: collect (or load a snapshot), evaluate, render, exit by `--fail-on`.

use super::{acquire_snapshot, edition_for, known_numberings, split_excludes, VERSION};
use crate::cli::{AuditArgs, AuditFormat, AuditTarget, FailOn};
use bulkhead_checks::{catalog, Audit, AuditOptions, Benchmark, Context, Selection, Status};
use bulkhead_facts::time::unix_now;
use bulkhead_report::{Target, TextOptions};
use std::process::ExitCode;

pub fn run(args: AuditArgs) -> Result<ExitCode, String> {
    let start = unix_now();
    args.source.refuse_live_paths_with_snapshot()?;
    crate::output::refuse_overwriting_inputs(
        args.out.output.as_deref(),
        &args.source.input_files(),
    )?;
    let target = args.target.unwrap_or(AuditTarget::All);
    let (check_excludes, container_excludes) = split_excludes(&args.select.exclude);
    // A mistyped check ID is reported before the host is read, not after.
    refuse_unknown_selectors_early(target, &args, &check_excludes)?;
    // The store too, before a collection that may take minutes: a wrong URL or password, an
    // unreachable server, a history this user may not write fail now, with nothing printed.
    // The run itself is recorded after the report is out, so a failure to record never loses
    // the report.
    let mut store = match &args.store {
        Some(url) => Some(super::history::open_for_recording(url)?),
        None => None,
    };
    let snapshot = acquire_snapshot(&args.source, target, &container_excludes)?;
    warn_when_the_selection_matches_nothing(&snapshot, &container_excludes);
    let audits = evaluate(&snapshot, target, &args, check_excludes)?;
    if audits.iter().all(|(a, _)| a.outcomes.is_empty()) {
        return Err(format!(
            "the selection leaves no check to run (--only {} --exclude {}); see `bulkhead checks list`",
            display_list(&args.select.only),
            display_list(&args.select.exclude)
        ));
    }
    let mut end = unix_now();
    // A snapshot is evaluated offline: its documents carry the time its facts were collected,
    // so the same snapshot always renders the same report (docker-bench-json included).
    let mut start = start;
    if args.source.snapshot.is_some() {
        if let Some(t) = bulkhead_facts::time::rfc3339_to_unix(&snapshot.collected_at) {
            (start, end) = (t, t);
        }
    }
    let to_file = args.out.output.is_some();
    let text = match args.format {
        AuditFormat::Text => {
            let opts = TextOptions {
                color: args.out.color.enabled(to_file),
                verbose: args.verbose,
            };
            audits
                .iter()
                .map(|(a, t)| bulkhead_report::audit_text::render(a, t, VERSION, opts))
                .collect::<Vec<_>>()
                .join("\n")
        }
        AuditFormat::Json => bulkhead_report::audit_json::render(&audits, VERSION),
        AuditFormat::DockerBenchJson => {
            let docker: Vec<_> = audits
                .iter()
                .filter(|(a, _)| a.benchmark.id == "cis-docker")
                .collect();
            match docker.as_slice() {
                [(a, _)] => bulkhead_report::docker_bench::render(a, VERSION, start, end),
                _ => return Err(
                    "--format docker-bench-json needs a Docker audit (run `bulkhead audit docker`)"
                        .into(),
                ),
            }
        }
        AuditFormat::Junit => bulkhead_report::junit::render(&audits),
    };
    crate::output::emit(&text, args.out.output.as_deref())?;
    if let Some(store) = store.as_mut() {
        super::history::record(store.as_mut(), &audits)?;
    }
    let code = exit_code(&audits, args.fail_on);
    // The process ends right after this: handing the snapshot and the results back to the
    // allocator one object at a time (tens of thousands of them at 50 containers) only delays
    // the exit. The operating system reclaims the memory at once.
    std::mem::forget(audits);
    std::mem::forget(snapshot);
    Ok(code)
}

/// A container filter that leaves out every container (a typo in `--include` or `--label`) would
/// otherwise show only as section 5 being not applicable: say it on stderr as well, where a CI
/// log shows it. `by_exclude` are the container regexes of audit's `--exclude`; the others are
/// named as `--exclude-container`, the form that means a container in every command.
fn warn_when_the_selection_matches_nothing(
    snapshot: &bulkhead_facts::Snapshot,
    by_exclude: &[String],
) {
    let Some(docker) = &snapshot.docker else {
        return;
    };
    let sel = &docker.selection;
    let filtered = !(sel.include.is_empty() && sel.exclude.is_empty() && sel.labels.is_empty());
    let audited = docker.containers.value().map_or(0, |c| c.len());
    let by_filter = sel.skipped.iter().filter(|s| s.by_filter).count();
    if filtered && audited == 0 && by_filter > 0 {
        let mut given: Vec<String> = Vec::new();
        given.extend(sel.include.iter().map(|p| format!("--include {p}")));
        given.extend(sel.exclude.iter().map(|p| match by_exclude.contains(p) {
            true => format!("--exclude {p}"),
            false => format!("--exclude-container {p}"),
        }));
        given.extend(sel.labels.iter().map(|l| format!("--label {l}")));
        eprintln!(
            "bulkhead: warning: the container selection ({}) leaves out all {by_filter} containers it was applied to; no container is audited",
            given.join(" ")
        );
    }
}

/// Evaluate every benchmark the target asks for and the snapshot holds facts for.
pub fn evaluate(
    snapshot: &bulkhead_facts::Snapshot,
    target: AuditTarget,
    args: &AuditArgs,
    check_excludes: Vec<String>,
) -> Result<Vec<(Audit, Target)>, String> {
    // `--targets` replaces the Kubernetes targets detected on the node (also for a snapshot).
    let with_targets;
    let snapshot = match snapshot.kubernetes.is_some() && !args.targets.is_empty() {
        true => {
            let mut s = snapshot.clone();
            if let Some(k) = s.kubernetes.as_mut() {
                k.select_targets(&args.targets)?;
            }
            with_targets = s;
            &with_targets
        }
        false => snapshot,
    };
    let cat = catalog();
    let mut plan = Vec::new();
    if matches!(target, AuditTarget::Docker | AuditTarget::All) {
        match &snapshot.docker {
            Some(_) => plan.push((cat.docker(), "docker")),
            None if target == AuditTarget::Docker => {
                return Err("this snapshot holds no Docker facts".into())
            }
            None => {}
        }
    }
    if matches!(target, AuditTarget::Kubernetes | AuditTarget::All) {
        match &snapshot.kubernetes {
            Some(_) => plan.push((cat.kubernetes(), "kubernetes")),
            None if target == AuditTarget::Kubernetes => {
                return Err("this snapshot holds no Kubernetes facts".into())
            }
            None => {}
        }
    }
    if plan.is_empty() {
        if let Some(path) = &args.source.snapshot {
            return Err(format!(
                "the snapshot {} holds neither Docker nor Kubernetes facts: where it was collected, bulkhead found neither a Docker engine nor Kubernetes components; collect it again naming the daemon (`bulkhead collect --docker-host URL`) or where they run",
                path.display()
            ));
        }
        return Err(format!(
            "{}; name one with `bulkhead audit docker --docker-host URL` or check --root/--proc",
            super::NOTHING_TO_AUDIT
        ));
    }
    let mut editions = Vec::new();
    for (b, _) in &plan {
        let e = match &args.select.ids {
            None => b.default_edition().to_string(),
            Some(ids) => match edition_for(Some(ids), b) {
                Some(e) => e,
                None if plan.len() > 1 => b.default_edition().to_string(),
                None => return Err(super::no_such_numbering(ids, b)),
            },
        };
        editions.push(e);
    }
    if let Some(ids) = &args.select.ids {
        if !plan
            .iter()
            .zip(&editions)
            .any(|((b, _), e)| edition_for(Some(ids), b).as_deref() == Some(e.as_str()))
        {
            return Err(format!(
                "--ids {ids}: unknown numbering (known: {})",
                known_numberings().join(", ")
            ));
        }
    }
    let pairs: Vec<_> = plan
        .iter()
        .zip(&editions)
        .map(|((b, _), e)| (*b, e.as_str()))
        .collect();
    refuse_unknown_selectors(&pairs, &args.select.only, &check_excludes)?;
    let selection = Selection::new(args.select.only.clone(), check_excludes);
    let options = AuditOptions {
        trusted_users: (!args.trusted_users.is_empty()).then(|| args.trusted_users.clone()),
    };
    let ctx = Context::new(snapshot, &options);
    Ok(plan
        .iter()
        .zip(&editions)
        .map(|((b, kind), e)| {
            (
                bulkhead_checks::run(b, e, &ctx, &selection),
                Target::from_snapshot(kind, snapshot),
            )
        })
        .collect())
}

/// `--only` and `--exclude` IDs that name no check, section or control of any benchmark in
/// `pairs` (each in its numbering): an error naming the option and the IDs.
fn refuse_unknown_selectors(
    pairs: &[(&Benchmark, &str)],
    only: &[String],
    check_excludes: &[String],
) -> Result<(), String> {
    for (option, tokens) in [("--only", only), ("--exclude", check_excludes)] {
        let unknown = Selection::new(tokens.to_vec(), Vec::new()).unknown_tokens(pairs);
        if !unknown.is_empty() {
            let hints: String = unknown
                .iter()
                .filter_map(|t| other_numbering(pairs, t))
                .map(|h| format!("; {h}"))
                .collect();
            return Err(format!(
                "{option} {}: names no check, section or control in the selected numbering (see `bulkhead checks list`){hints}",
                unknown.join(",")
            ));
        }
    }
    Ok(())
}

/// When `token` is a check's ID in another numbering of one of `pairs`' benchmarks: a sentence
/// naming that numbering and the check's ID in the selected one (`5.32` given with `--ids
/// cis-1.2.0`, where that check is 5.31).
fn other_numbering(pairs: &[(&Benchmark, &str)], token: &str) -> Option<String> {
    pairs.iter().find_map(|(b, selected)| {
        b.editions
            .iter()
            .filter(|e| e.as_str() != *selected)
            .find_map(|e| {
                let c = b.controls.iter().find(|c| c.id_in(e) == Some(token))?;
                Some(match c.id_in(selected) {
                    Some(here) => format!(
                        "{token} is the cis-{e} number of the check that cis-{selected} numbers {here}"
                    ),
                    None => format!(
                        "{token} is the cis-{e} number of a check cis-{selected} does not have (control {})",
                        c.id
                    ),
                })
            })
    })
}

/// Before anything is collected: `--ids`, and the IDs of `--only` and `--exclude`, against every
/// benchmark the target may audit, in the numbering `--ids` gives (each benchmark's own when it
/// does not apply). The audit checks them again once it knows which benchmarks the host holds
/// facts for.
fn refuse_unknown_selectors_early(
    target: AuditTarget,
    args: &AuditArgs,
    check_excludes: &[String],
) -> Result<(), String> {
    // Without --ids or selectors nothing is parsed: the other platform's catalog costs time.
    if args.select.ids.is_none() && args.select.only.is_empty() && check_excludes.is_empty() {
        return Ok(());
    }
    let cat = catalog();
    let benchmarks = match target {
        AuditTarget::Docker => vec![cat.docker()],
        AuditTarget::Kubernetes => vec![cat.kubernetes()],
        AuditTarget::All => vec![cat.docker(), cat.kubernetes()],
    };
    let ids = args.select.ids.as_deref();
    if let Some(ids) = ids {
        // A numbering no candidate has is its own error (as the audit would report it).
        if benchmarks
            .iter()
            .all(|b| edition_for(Some(ids), b).is_none())
        {
            return Err(match benchmarks.as_slice() {
                [b] => super::no_such_numbering(ids, b),
                _ => format!(
                    "--ids {ids}: unknown numbering (known: {})",
                    known_numberings().join(", ")
                ),
            });
        }
    }
    let editions: Vec<String> = benchmarks
        .iter()
        .map(|b| edition_for(ids, b).unwrap_or_else(|| b.default_edition().to_string()))
        .collect();
    let pairs: Vec<(&Benchmark, &str)> = benchmarks
        .iter()
        .zip(&editions)
        .map(|(b, e)| (*b, e.as_str()))
        .collect();
    refuse_unknown_selectors(&pairs, &args.select.only, check_excludes)
}

/// 0 when nothing reaches `--fail-on`, 1 when something does.
pub fn exit_code(audits: &[(Audit, Target)], fail_on: FailOn) -> ExitCode {
    let threshold = match fail_on {
        FailOn::Never => return ExitCode::SUCCESS,
        FailOn::Fail => Status::Fail,
        FailOn::Warn => Status::Warn,
        FailOn::Info => Status::Info,
        FailOn::Error => Status::Error,
    };
    let hit = audits
        .iter()
        .flat_map(|(a, _)| &a.outcomes)
        .any(|o| o.result.status.reaches(threshold));
    if hit {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn display_list(values: &[String]) -> String {
    if values.is_empty() {
        "(none)".into()
    } else {
        values.join(",")
    }
}
