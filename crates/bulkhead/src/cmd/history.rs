//! `bulkhead history`, and recording audits into the run history (`audit --store URL`).

use super::VERSION;
use crate::cli::{Benchmark, HistoryArgs, ListFormat};
use bulkhead_checks::{Audit, Status};
use bulkhead_report::Target;
use bulkhead_store::{human_bytes, NewRun, Prune, PruneReport, RunFilter, RunSummary, Store};
use std::collections::HashMap;
use std::fmt::Write;
use std::process::ExitCode;

/// Open the store an audit records into (`audit --store URL`), before the audit collects
/// anything: the connection, the tables (created when missing), the schema version, and the
/// right to write (SQLite: a trial write, rolled back; PostgreSQL: the role's grants). A store
/// that cannot be used fails the audit at once (exit 2), before a collection that may take
/// minutes, instead of after its report.
pub fn open_for_recording(url: &str) -> Result<Box<dyn Store>, String> {
    warn_of_a_password_on_the_command_line(url);
    bulkhead_store::open(url).map_err(|e| {
        format!("{e}; the audit was not run (--store, or BULKHEAD_STORE, names the run history it records into)")
    })
}

/// A store URL that carries the database password, given on the command line, shows the
/// password to every user of the host for as long as bulkhead runs (`ps`, /proc/PID/cmdline)
/// and leaves it in shell history: say so, and where the password goes instead. The URL is not
/// repeated. Nothing is said for a URL taken from BULKHEAD_STORE, which only the process's own
/// user (and root) can read.
fn warn_of_a_password_on_the_command_line(url: &str) {
    let url = url.trim();
    let on_command_line = std::env::args_os().skip(1).any(|a| {
        let a = a.to_string_lossy();
        a.trim() == url || a.strip_prefix("--store=").is_some_and(|v| v.trim() == url)
    });
    if on_command_line && bulkhead_store::url_has_password(url) {
        eprintln!("bulkhead: warning: the password in --store is visible to every user of this host while bulkhead runs (ps, /proc/PID/cmdline) and stays in shell history; give it in PGPASSWORD or the password file (~/.pgpass, mode 0600), or the whole URL in BULKHEAD_STORE");
    }
}

/// Record each audit as one run, into the store [`open_for_recording`] opened, after the
/// report was printed (so that a failure to record never loses the report). The store receives
/// exactly the `bulkhead.audit/1` document `--format json` prints. The runs of one audit
/// (Docker and Kubernetes) are recorded together or not at all: an audit that exits with a
/// store error has left no run behind, so running it again does not record its Docker run
/// twice.
pub fn record(store: &mut dyn Store, audits: &[(Audit, Target)]) -> Result<(), String> {
    let not_recorded = |e: String| {
        format!("{e}; the audit's report was written, but its run was not recorded: run the audit again to record it")
    };
    let runs = audits
        .iter()
        .map(|(audit, target)| {
            let doc = serde_json::to_value(bulkhead_report::audit_json::document(
                audit, target, VERSION,
            ))
            .map_err(|e| e.to_string())?;
            NewRun::from_document(&doc)
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(not_recorded)?;
    let ids = store
        .record_all(&runs)
        .map_err(|e| not_recorded(e.to_string()))?;
    for (id, (_, target)) in ids.iter().zip(audits) {
        // The host name is the audited host's (or snapshot's) word: characters that would act on
        // a terminal are written as escapes, as in every other output.
        let line = format!(
            "bulkhead: recorded {} run {id} for {}",
            target.kind, target.host
        );
        eprintln!("{}", bulkhead_facts::visible::visible(&line));
    }
    Ok(())
}

pub fn run(args: HistoryArgs) -> Result<ExitCode, String> {
    // Blanks around the URL (a value pasted into a Secret) are no part of it, as for audit.
    let url = args
        .store
        .as_deref()
        .map(str::trim)
        .map_or_else(bulkhead_store::default_url, String::from);
    // An empty BULKHEAD_STORE (a variable declared for a value that never came) names no store;
    // taken as a file name it would be reported as a history at "" that does not exist.
    if url.is_empty() {
        return Err("the run history to read is empty (--store or BULKHEAD_STORE is set to nothing): name it, as sqlite:PATH or postgres://USER@HOST/DATABASE, or unset BULKHEAD_STORE to read the default history".into());
    }
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
    warn_of_a_password_on_the_command_line(&url);
    let kind = args.kind.map(|k| match k {
        Benchmark::Docker => "docker".to_string(),
        Benchmark::Kubernetes => "kubernetes".to_string(),
    });
    if args.prune {
        return prune(&url, &args, kind);
    }
    let now = bulkhead_facts::time::unix_now();
    let (collected_since, collected_before) = window(&args, now)?;
    // Nor any table: a database without bulkhead's is refused by name, not read as empty.
    let mut store = bulkhead_store::open_existing(&url).map_err(|e| e.to_string())?;
    if let (Some(from), Some(to)) = (args.from, args.to) {
        let pair = chosen_pair(store.as_mut(), from, to)?;
        return compare_and_emit(store.as_mut(), &[pair], &args, String::new());
    }
    let filter = RunFilter {
        host: args.host.clone(),
        kind,
        limit: if args.diff {
            None
        } else {
            Some(args.limit as usize)
        },
        collected_since,
        collected_before,
    };
    let runs = store.runs(&filter).map_err(|e| e.to_string())?;
    // A --host, --kind or window that matches no run of a store that holds runs (a mistyped
    // host name, a host that never recorded, a quiet week) is said as such, not as an empty
    // history.
    let narrowed = filter.host.is_some() || filter.kind.is_some() || filter.has_window();
    let unmatched = if runs.is_empty() && narrowed {
        let any = store
            .runs(&RunFilter {
                limit: Some(1),
                ..RunFilter::default()
            })
            .map_err(|e| e.to_string())?;
        (!any.is_empty()).then(|| no_match(&filter))
    } else {
        None
    };
    if !args.diff {
        let text = match (args.format, &unmatched) {
            (ListFormat::Json, _) => {
                serde_json::to_string_pretty(&runs).expect("serializes") + "\n"
            }
            (ListFormat::Text, Some(message)) => message.clone(),
            (ListFormat::Text, None) => render_runs(&runs),
        };
        crate::output::emit(&text, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let pairs = newest_pairs(&runs);
    let nothing = unmatched.unwrap_or_else(|| "no host has two recorded runs to compare\n".into());
    compare_and_emit(store.as_mut(), &pairs, &args, nothing)
}

/// The two newest runs of every (host, kind), older first. Newest by when the facts were
/// collected (then by run ID): a snapshot recorded after a later live audit is the older state
/// of the host, and comparing in recording order would run time backwards.
fn newest_pairs(runs: &[RunSummary]) -> Vec<(RunSummary, RunSummary)> {
    let mut by_collection: Vec<&RunSummary> = runs.iter().collect();
    by_collection.sort_by_key(|r| std::cmp::Reverse(collection_order(r)));
    let mut pairs = Vec::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (i, r) in by_collection.iter().enumerate() {
        let key = (r.host.as_str(), r.kind.as_str());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        if let Some(prev) = by_collection[i + 1..]
            .iter()
            .find(|p| (p.host.as_str(), p.kind.as_str()) == key)
        {
            pairs.push(((*prev).clone(), (*r).clone()));
        }
    }
    pairs
}

/// When a run's facts were collected, as (Unix seconds, nanoseconds), for ordering runs: the
/// collection time is the collecting host's text, and compared as text a time with fractions of
/// a second (`...T10:00:00.5Z`) sorts before the same second without them (`...T10:00:00Z`),
/// half a second earlier. None for a time that does not read as one (not written by bulkhead).
fn collected_time(collected_at: &str) -> Option<(i64, u32)> {
    bulkhead_facts::time::rfc3339_to_unix_nanos(collected_at)
}

/// A run's place in collection order, oldest first: by when its facts were collected (a time
/// that does not read as one before every time that does), then by run ID.
fn collection_order(r: &RunSummary) -> (Option<(i64, u32)>, i64) {
    (collected_time(&r.collected_at), r.id)
}

/// The runs `--from` and `--to` name, as (before, after). Each ID must be a run of the store,
/// the two must differ, and they must be of one kind: a docker and a kubernetes run share no
/// check, and listing every check of both as appeared and disappeared would hide that the
/// comparison means nothing. Runs of two hosts are allowed (a new node against a known good
/// one); the comparison says so.
fn chosen_pair(
    store: &mut dyn Store,
    from: i64,
    to: i64,
) -> Result<(RunSummary, RunSummary), String> {
    if from == to {
        return Err(format!(
            "--from and --to both name run {from}: name two runs to compare (`bulkhead history` lists them with their IDs)"
        ));
    }
    let before = store.run(from).map_err(|e| format!("--from {from}: {e}"))?;
    let after = store.run(to).map_err(|e| format!("--to {to}: {e}"))?;
    if before.kind != after.kind {
        return Err(format!(
            "run {from} (--from) is a {} run and run {to} (--to) a {} run: runs of different kinds share no check to compare; name two runs of one kind (`bulkhead history --kind {}` lists them)",
            before.kind, after.kind, before.kind
        ));
    }
    Ok((before, after))
}

/// Compare each pair, print the comparison (text or JSON, `nothing` when there was no pair),
/// and choose the exit code: 1 when --fail-on-regression is given and a pair regressed.
fn compare_and_emit(
    store: &mut dyn Store,
    pairs: &[(RunSummary, RunSummary)],
    args: &HistoryArgs,
    nothing: String,
) -> Result<ExitCode, String> {
    let mut changes = Vec::new();
    let mut out = String::new();
    let mut regressions = 0;
    for (before, after) in pairs {
        regressions += compare(store, before, after, &mut out, &mut changes)?;
    }
    if out.is_empty() {
        out = nothing;
    }
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&changes).expect("serializes") + "\n",
        ListFormat::Text => out,
    };
    crate::output::emit(&text, None)?;
    if args.fail_on_regression && regressions > 0 {
        eprintln!(
            "bulkhead: --fail-on-regression: {regressions} check{s} or object{s} moved into fail or error",
            s = if regressions == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a status change is a regression for --fail-on-regression: into fail or error from
/// any other status, `absent` (a check or object the older run did not have) included. Leaving
/// fail or error, or disappearing, never is.
fn regressed(before: &str, after: &str) -> bool {
    before != after && matches!(after, "fail" | "error")
}

/// Compare two runs check by check and, within each check both have, object by object: the
/// text goes to `out`, one JSON entry per listed check to `changes`. Returns how many checks
/// and objects regressed (see [`regressed`]).
fn compare(
    store: &mut dyn Store,
    before: &RunSummary,
    after: &RunSummary,
    out: &mut String,
    changes: &mut Vec<serde_json::Value>,
) -> Result<usize, String> {
    let old = store.checks(before.id).map_err(|e| e.to_string())?;
    let new = store.checks(after.id).map_err(|e| e.to_string())?;
    // The objects of each check come from the runs' stored audit documents.
    let old_doc = store.document(before.id).map_err(|e| e.to_string())?;
    let new_doc = store.document(after.id).map_err(|e| e.to_string())?;
    let old_results = results_by_control(&old_doc);
    let new_results = results_by_control(&new_doc);
    let other_host = before.host != after.host;
    // Two hosts (--from and --to) are both named, so a difference between them is not read as
    // a change of one host over time.
    let hosts = if other_host {
        format!("{} -> {}", before.host, after.host)
    } else {
        after.host.clone()
    };
    let _ = writeln!(
        out,
        "{hosts} {}: run {} ({}) -> run {} ({}), score {} -> {}",
        after.kind,
        before.id,
        before.collected_at,
        after.id,
        after.collected_at,
        before.score,
        after.score
    );
    if other_host {
        let _ = writeln!(
            out,
            "  note: run {} is of host {}, run {} of host {}: this compares two hosts, not one host over time",
            before.id, before.host, after.id, after.host
        );
    }
    if collected_time(&before.collected_at) > collected_time(&after.collected_at) {
        let _ = writeln!(
            out,
            "  note: run {} was collected after run {}; they are compared as named, --from before --to",
            before.id, after.id
        );
    }
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
    let entry = |check: &str,
                 control: &str,
                 from: &str,
                 to: &str,
                 objects: Vec<serde_json::Value>| {
        let mut e = serde_json::json!({"host": after.host, "kind": after.kind, "check": check, "control": control, "before": from, "after": to, "before_run": before.id, "after_run": after.id, "objects": objects});
        if other_host {
            e["before_host"] = before.host.clone().into();
        }
        e
    };
    let mut any = false;
    let mut regressions = 0;
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
        changes.push(entry(
            &o.check_id,
            &o.control,
            &o.status,
            "absent",
            Vec::new(),
        ));
    }
    for n in &new {
        let prev = old
            .iter()
            .find(|o| o.control == n.control)
            .map(|o| o.status.as_str());
        // Objects are compared only for a check both runs have: a check that appeared or
        // disappeared is reported as a whole.
        let objects = match prev {
            Some(_) => diff_objects(
                old_results.get(n.control.as_str()).copied(),
                new_results.get(n.control.as_str()).copied(),
            ),
            None => Vec::new(),
        };
        let prev = prev.unwrap_or("absent");
        if prev == n.status && objects.is_empty() {
            continue;
        }
        any = true;
        regressions += usize::from(regressed(prev, &n.status))
            + objects
                .iter()
                .filter(|c| regressed(&c.before, &c.after))
                .count();
        let _ = writeln!(
            out,
            "  {:<8} {prev} -> {}  {}",
            n.check_id, n.status, n.control
        );
        for c in &objects {
            let _ = writeln!(out, "      {}", c.text());
        }
        let objects: Vec<serde_json::Value> = objects.iter().map(ObjectChange::json).collect();
        changes.push(entry(&n.check_id, &n.control, prev, &n.status, objects));
    }
    if !any {
        let _ = writeln!(out, "  no check or object changed status");
    }
    Ok(regressions)
}

/// `--since` and `--until` as the listing's window of collection times (Unix seconds, since
/// inclusive, until exclusive), `now` being Unix seconds. A window that ends before it starts
/// would list nothing whatever the history holds: a usage error rather than an empty list.
fn window(args: &HistoryArgs, now: i64) -> Result<(Option<i64>, Option<i64>), String> {
    let since = args.since.map(|s| s.moment(now));
    let until = args.until.map(|u| u.moment(now));
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return Err(format!(
                "--since ({}) is not before --until ({}): no run can have been collected in that window",
                bulkhead_facts::time::rfc3339_utc(s),
                bulkhead_facts::time::rfc3339_utc(u)
            ));
        }
    }
    Ok((since, until))
}

/// `--older-than`, `--since` and `--until`: an age in whole days, or a moment (a date is its
/// midnight, UTC). One type and one parser for all three, so that they accept the same forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaysOrDate {
    Days(u32),
    At(i64),
}

impl DaysOrDate {
    /// The moment it names, `now` being Unix seconds: DAYS days before now, or the date's.
    fn moment(self, now: i64) -> i64 {
        match self {
            DaysOrDate::Days(days) => now - i64::from(days) * 86_400,
            DaysOrDate::At(t) => t,
        }
    }
}

/// Parse `--older-than`, `--since` or `--until`: `90` (days), `2026-01-31` or
/// `2026-01-31T12:00:00Z`.
pub fn parse_days_or_date(value: &str) -> Result<DaysOrDate, String> {
    let v = value.trim();
    let days = v.strip_suffix('d').unwrap_or(v);
    if !days.is_empty() && days.bytes().all(|b| b.is_ascii_digit()) {
        return days
            .parse::<u32>()
            .map(DaysOrDate::Days)
            .map_err(|_| format!("{v} days is more than bulkhead counts"));
    }
    let moment = if v.len() == 10 {
        format!("{v}T00:00:00Z")
    } else {
        v.to_string()
    };
    // Read back as written, so that 2026-02-30 or 25:00 are refused rather than rolled over.
    bulkhead_facts::time::rfc3339_to_unix(&moment)
        .filter(|t| bulkhead_facts::time::rfc3339_utc(*t) == moment)
        .map(DaysOrDate::At)
        .ok_or_else(|| {
            format!("{v} is neither a number of days (90) nor a date (2026-01-31, or 2026-01-31T12:00:00Z in UTC)")
        })
}

/// `history --prune`: plan (and with --apply, make) the deletion of old runs, and say per host
/// what it was.
fn prune(url: &str, args: &HistoryArgs, kind: Option<String>) -> Result<ExitCode, String> {
    let now = bulkhead_facts::time::unix_now();
    let policy = Prune {
        host: args.host.clone(),
        kind,
        keep_last: args.keep_last.map(|n| n as usize),
        recorded_before: args.older_than.map(|o| o.moment(now)),
        include_latest: args.include_latest,
    };
    // A dry run opens the store as a listing does, read-only: it cannot change anything.
    let mut store = if args.apply {
        bulkhead_store::open_for_pruning(url)
    } else {
        bulkhead_store::open_existing(url)
    }
    .map_err(|e| e.to_string())?;
    let report = store
        .prune(&policy, args.apply)
        .map_err(|e| e.to_string())?;
    let text = match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&report).expect("serializes") + "\n",
        ListFormat::Text => render_prune(&report, &policy, args),
    };
    crate::output::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

/// What a prune did or would do, for people.
fn render_prune(r: &PruneReport, policy: &Prune, args: &HistoryArgs) -> String {
    let mut rules = Vec::new();
    if let Some(n) = policy.keep_last {
        rules.push(format!(
            "keeping each host's newest {n} run{} of each kind",
            if n == 1 { "" } else { "s" }
        ));
    }
    if let (Some(o), Some(t)) = (args.older_than, policy.recorded_before) {
        let when = bulkhead_facts::time::rfc3339_utc(t);
        rules.push(match o {
            DaysOrDate::Days(d) => format!(
                "deleting only runs recorded more than {d} day{} ago, before {when}",
                if d == 1 { "" } else { "s" }
            ),
            DaysOrDate::At(_) => format!("deleting only runs recorded before {when}"),
        });
    }
    let mut scope = Vec::new();
    if let Some(h) = &policy.host {
        scope.push(format!("host {h}"));
    }
    if let Some(k) = &policy.kind {
        scope.push(format!("kind {k}"));
    }
    let scope = if scope.is_empty() {
        String::new()
    } else {
        format!(" of {}", scope.join(" and "))
    };
    let mut out = String::new();
    let verb = if r.applied { "deleted" } else { "would delete" };
    let _ = writeln!(
        out,
        "{}: {verb} {} of {} run{}{scope} ({})",
        r.store,
        r.delete,
        r.runs,
        if r.runs == 1 { "" } else { "s" },
        rules.join("; ")
    );
    if !r.hosts.is_empty() {
        let heading = if r.applied { "deleted" } else { "delete" };
        let _ = writeln!(
            out,
            "  {:<20}  {:<10}  {:>7}  {:>6}",
            "host", "kind", heading, "keep"
        );
        for g in &r.hosts {
            let _ = write!(
                out,
                "  {:<20}  {:<10}  {:>7}  {:>6}",
                g.host, g.kind, g.delete, g.keep
            );
            if g.latest_kept {
                out.push_str("  (latest run kept, though older)");
            }
            out.push('\n');
        }
    }
    let latest = r.hosts.iter().filter(|g| g.latest_kept).count();
    if latest > 0 {
        let _ = writeln!(
            out,
            "{latest} host{} kept {} latest run though it is older than --older-than (--include-latest deletes it too, for hosts that are gone)",
            if latest == 1 { "" } else { "s" },
            if latest == 1 { "its" } else { "their" }
        );
    }
    if let Some(size) = r.file_size {
        let freed = size.before.saturating_sub(size.after);
        let _ = writeln!(
            out,
            "freed {}: the file went from {} to {}",
            human_bytes(freed),
            human_bytes(size.before),
            human_bytes(size.after)
        );
    }
    for note in &r.notes {
        let _ = writeln!(out, "note: {note}");
    }
    if !r.applied && r.delete > 0 {
        let _ = writeln!(
            out,
            "dry run: nothing was deleted; add --apply to delete {} run{}",
            if r.delete == 1 { "this" } else { "these" },
            if r.delete == 1 { "" } else { "s" }
        );
    }
    out
}

/// What a listing says when --host, --kind, --since or --until matched none of the store's runs.
fn no_match(filter: &RunFilter) -> String {
    let mut what = Vec::new();
    if let Some(host) = &filter.host {
        what.push(format!("host {host}"));
    }
    if let Some(kind) = &filter.kind {
        what.push(format!("kind {kind}"));
    }
    let of = if what.is_empty() {
        String::new()
    } else {
        format!(" of {}", what.join(" and "))
    };
    if !filter.has_window() {
        return format!(
            "no runs{of} recorded; the store holds runs of others (`bulkhead history` without --host and --kind lists them; a host is named as its runs show it)\n"
        );
    }
    let at = bulkhead_facts::time::rfc3339_utc;
    let when = match (filter.collected_since, filter.collected_before) {
        (Some(s), Some(b)) => format!("from {} to before {}", at(s), at(b)),
        (Some(s), None) => format!("since {}", at(s)),
        (None, Some(b)) => format!("before {}", at(b)),
        (None, None) => unreachable!("a window"),
    };
    let mut flags = vec!["--since", "--until"];
    if !what.is_empty() {
        flags.splice(0..0, ["--host", "--kind"]);
    }
    format!(
        "no runs{of} collected {when} recorded; the store holds other runs (`bulkhead history` without {} lists them)\n",
        flags.join(", ").replacen(", --until", " and --until", 1)
    )
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

/// A value read from the store (a host name, above all, is whatever the audited host said) as
/// one cell of a text table: every character that would act on a terminal, line breaks and
/// tabs included, written as an escape (`\n`, `\t`, `\u001b`), so that the value stays on its
/// row, is measured as it is shown, and cannot move the cursor or recolour the listing.
/// ([`crate::output::emit`] escapes the whole output as well; this escapes each cell first,
/// its colour sequences too, before the columns are measured.)
fn cell(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c == '\x1b' || bulkhead_facts::visible::acts_on_terminal(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// How many terminal columns `text` takes: one per character, except combining marks and
/// zero-width characters (none) and the wide East Asian characters and emoji (two). An
/// approximation of wcwidth for the ranges a host name may hold, enough to keep the columns of
/// the listing in line.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x0300..=0x036F | 0x200B..=0x200F | 0x20D0..=0x20FF | 0xFE00..=0xFE0F => 0,
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x1F900..=0x1F9FF
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// A cell of a text table, padded with blanks to `width` display columns (left or right
/// aligned); a cell wider than that is written whole.
fn pad(text: &str, width: usize, right: bool) -> String {
    let blanks = " ".repeat(width.saturating_sub(display_width(text)));
    if right {
        format!("{blanks}{text}")
    } else {
        format!("{text}{blanks}")
    }
}

/// Columns of the run listing: header, right-aligned, least width. The widths are those of the
/// widest cell shown (and of the header), at least these.
const RUN_COLUMNS: [(&str, bool, usize); 5] = [
    ("run", true, 6),
    ("host", false, 20),
    ("kind", false, 10),
    ("collected", false, 22),
    ("score", true, 5),
];

/// A cell wider than this (a host name of 41 characters or more, a collection time that is no
/// time) does not widen its column: it is written whole on its own row, pushing that row's later
/// cells to the right, and every other row keeps columns as wide as their own cells need. One
/// run stays one line (for grep and awk), and a single odd value cannot spread every row of the
/// listing across the screen.
const MAX_COLUMN_WIDTH: usize = 40;

/// The run listing: one line per run, in the order given (the store's, newest recorded first),
/// the columns as wide as the cells shown need (see [`RUN_COLUMNS`] and [`MAX_COLUMN_WIDTH`]),
/// two blanks between columns, the summary last.
fn render_runs(runs: &[RunSummary]) -> String {
    if runs.is_empty() {
        return "no runs recorded\n".into();
    }
    let rows: Vec<[String; 5]> = runs
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                cell(&r.host),
                cell(&r.kind),
                cell(&r.collected_at),
                r.score.to_string(),
            ]
        })
        .collect();
    let widths: Vec<usize> = RUN_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (header, _, least))| {
            rows.iter()
                .map(|row| display_width(&row[i]))
                .filter(|w| *w <= MAX_COLUMN_WIDTH)
                .chain([*least, header.len()])
                .max()
                .unwrap_or(*least)
        })
        .collect();
    let line = |cells: [&str; 5], summary: &str| -> String {
        let mut l = String::new();
        for (i, ((_, right, _), text)) in RUN_COLUMNS.iter().zip(cells).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(&pad(text, widths[i], *right));
        }
        l.push_str("  ");
        l.push_str(summary);
        l.push('\n');
        l
    };
    let mut out = line(RUN_COLUMNS.map(|(header, _, _)| header), "summary");
    for (r, row) in runs.iter().zip(&rows) {
        out.push_str(&line(
            row.each_ref().map(String::as_str),
            &summary_text(&r.summary),
        ));
    }
    out
}

/// The `results[]` entries of a stored audit document, by control ID (how `--diff` matches
/// checks). A document without results gives an empty map.
fn results_by_control(doc: &serde_json::Value) -> HashMap<&str, &serde_json::Value> {
    doc.get("results")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r.get("control")?.as_str()?, r)))
        .collect()
}

/// The name of an object as `--diff` matches it: the recorded name without a trailing
/// ` (pid N)`, so that a daemon or control-plane process that restarted (as it must, to take a
/// fix) is still the same object.
fn name_identity(name: &str) -> &str {
    name.strip_suffix(')')
        .and_then(|rest| rest.rsplit_once(" (pid "))
        .filter(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        .map_or(name, |(base, _)| base)
}

/// One object of one check in one run: every `objects[]` entry with the same identity (kind and
/// name; kind and ID when the name is missing). A process checked for several flags has one
/// entry per flag, so an object may have several statuses.
struct ObjectGroup<'a> {
    kind: &'a str,
    name: &'a str,
    id: &'a str,
    statuses: Vec<&'a str>,
}

impl<'a> ObjectGroup<'a> {
    /// What the object is matched by: its kind, then its name (true) without a pid, or its ID
    /// (false) when it has no name.
    fn key(&self) -> (&'a str, bool, &'a str) {
        if self.name.is_empty() {
            (self.kind, false, self.id)
        } else {
            (self.kind, true, name_identity(self.name))
        }
    }

    /// The object's status as the check's own roll-up would count it: the most decisive of its
    /// entries (a failure beats an error, an error beats a pass, ...).
    fn status(&self) -> &'a str {
        let rank = |s: &str| Status::parse(s).map_or(5, Status::rollup_rank);
        let mut best = self.statuses[0];
        for s in &self.statuses[1..] {
            if rank(s) > rank(best) {
                best = s;
            }
        }
        best
    }

    /// Its statuses in a fixed order, for comparing two runs whatever the entry order.
    fn sorted(&self) -> Vec<&'a str> {
        let mut v = self.statuses.clone();
        v.sort_unstable();
        v
    }
}

fn object_groups(result: Option<&serde_json::Value>) -> Vec<ObjectGroup<'_>> {
    let mut groups: Vec<ObjectGroup<'_>> = Vec::new();
    let mut index: HashMap<(&str, bool, &str), usize> = HashMap::new();
    let objects = result
        .and_then(|r| r.get("objects"))
        .and_then(|o| o.as_array())
        .into_iter()
        .flatten();
    for o in objects {
        let text = |k: &str| o.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        let g = ObjectGroup {
            kind: text("kind"),
            name: text("name"),
            id: text("id"),
            statuses: vec![text("status")],
        };
        match index.get(&g.key()) {
            Some(&i) => groups[i].statuses.push(g.statuses[0]),
            None => {
                index.insert(g.key(), groups.len());
                groups.push(g);
            }
        }
    }
    groups
}

/// An object of a check whose status differs between two runs, or that only one of them has.
#[derive(Debug, PartialEq)]
struct ObjectChange {
    kind: String,
    /// As the newer run recorded it (the older one's for an object that disappeared).
    name: String,
    id: String,
    before: String,
    after: String,
    /// The older run's name and ID of the object, when they differ from the newer run's: a
    /// container recreated under its name has a new ID, a restarted process a new pid.
    before_name: String,
    before_id: String,
    /// Every entry's status on each side, when either side has more than one.
    statuses: Option<(Vec<String>, Vec<String>)>,
}

impl ObjectChange {
    fn new(old: Option<&ObjectGroup>, new: Option<&ObjectGroup>) -> ObjectChange {
        let shown = new.or(old).expect("one side has the object");
        let status = |g: Option<&ObjectGroup>| g.map_or("absent", |g| g.status()).to_string();
        let all = |g: Option<&ObjectGroup>| {
            g.map(|g| g.statuses.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default()
        };
        // Only a difference between two recorded values: a name or ID one run lacks is no news.
        let (before_name, before_id) = match (old, new) {
            (Some(o), Some(n)) => (changed(o.name, n.name), changed(o.id, n.id)),
            _ => ("", ""),
        };
        let multiple =
            old.is_some_and(|g| g.statuses.len() > 1) || new.is_some_and(|g| g.statuses.len() > 1);
        ObjectChange {
            kind: shown.kind.to_string(),
            name: shown.name.to_string(),
            id: shown.id.to_string(),
            before: status(old),
            after: status(new),
            before_name: before_name.to_string(),
            before_id: before_id.to_string(),
            statuses: multiple.then(|| (all(old), all(new))),
        }
    }

    /// `container web: fail -> pass`, with what else changed in parentheses.
    fn text(&self) -> String {
        let mut line = self.kind.clone();
        let name = if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        };
        if !name.is_empty() {
            line.push(' ');
            line.push_str(name);
        }
        let _ = write!(line, ": {} -> {}", self.before, self.after);
        let mut notes = Vec::new();
        if let Some((before, after)) = &self.statuses {
            notes.push(format!("{} -> {}", counts(before), counts(after)));
        }
        // A restarted process shows its new pid in its name; any other difference is a rename.
        if !self.before_name.is_empty()
            && name_identity(&self.before_name) != name_identity(&self.name)
        {
            notes.push(format!("was {}", self.before_name));
        }
        if !self.before_id.is_empty() {
            notes.push(format!("id {} -> {}", self.before_id, self.id));
        }
        if !notes.is_empty() {
            let _ = write!(line, " ({})", notes.join("; "));
        }
        line
    }

    fn json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "kind": self.kind,
            "name": self.name,
            "before": self.before,
            "after": self.after,
        });
        let m = v.as_object_mut().expect("an object");
        for (key, value) in [
            ("id", &self.id),
            ("before_name", &self.before_name),
            ("before_id", &self.before_id),
        ] {
            if !value.is_empty() {
                m.insert(key.into(), value.as_str().into());
            }
        }
        if let Some((before, after)) = &self.statuses {
            m.insert(
                "statuses".into(),
                serde_json::json!({"before": before, "after": after}),
            );
        }
        v
    }
}

/// The older value when both runs recorded one and they differ, else "".
fn changed<'a>(before: &'a str, after: &str) -> &'a str {
    if before.is_empty() || after.is_empty() || before == after {
        ""
    } else {
        before
    }
}

/// "1 pass, 2 fail" for the entries of one object; "absent" for none.
fn counts(statuses: &[String]) -> String {
    if statuses.is_empty() {
        return "absent".into();
    }
    let mut order: Vec<&str> = STATUSES.iter().map(|(k, _)| *k).collect();
    for s in statuses {
        if !order.contains(&s.as_str()) {
            order.push(s);
        }
    }
    order
        .iter()
        .filter_map(|k| {
            let n = statuses.iter().filter(|s| s == k).count();
            (n > 0).then(|| format!("{n} {k}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The objects of one check that changed between two runs: those whose status differs, those
/// only the newer run has (`absent -> ...`) and those only the older one has (`... -> absent`).
/// Objects are matched by kind and name, so a container recreated under the same name is the
/// same object; an object left unmatched is then matched by kind and ID (a renamed container,
/// an object whose name one run lacks). Evidence is not compared: only statuses count.
fn diff_objects(
    old: Option<&serde_json::Value>,
    new: Option<&serde_json::Value>,
) -> Vec<ObjectChange> {
    let old = object_groups(old);
    let new = object_groups(new);
    let mut partner: Vec<Option<usize>> = vec![None; new.len()];
    let mut taken = vec![false; old.len()];
    let by_key: HashMap<_, usize> = old.iter().enumerate().map(|(i, g)| (g.key(), i)).collect();
    for (n, g) in new.iter().enumerate() {
        if let Some(&o) = by_key.get(&g.key()) {
            partner[n] = Some(o);
            taken[o] = true;
        }
    }
    let mut by_id: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, g) in old.iter().enumerate() {
        if !taken[i] && !g.id.is_empty() {
            by_id.entry((g.kind, g.id)).or_insert(i);
        }
    }
    for (n, g) in new.iter().enumerate() {
        if partner[n].is_some() || g.id.is_empty() {
            continue;
        }
        if let Some(o) = by_id.remove(&(g.kind, g.id)) {
            partner[n] = Some(o);
            taken[o] = true;
        }
    }
    let mut changes = Vec::new();
    for (n, g) in new.iter().enumerate() {
        let o = partner[n].map(|o| &old[o]);
        if o.is_some_and(|o| o.sorted() == g.sorted()) {
            continue;
        }
        changes.push(ObjectChange::new(o, Some(g)));
    }
    for (o, g) in old.iter().enumerate() {
        if !taken[o] {
            changes.push(ObjectChange::new(Some(g), None));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(id: i64, host: &str, collected_at: &str) -> RunSummary {
        RunSummary {
            id,
            host: host.into(),
            kind: "docker".into(),
            benchmark: "cis-docker".into(),
            benchmark_version: "1.8.0".into(),
            numbering: "cis-1.8.0".into(),
            tool_version: "0.0.0".into(),
            collected_at: collected_at.into(),
            recorded_at: collected_at.into(),
            score: 80,
            summary: json!({"total": 3, "pass": 2, "fail": 1}),
        }
    }

    /// Where each column of a line of the listing is anchored, in display columns: the end of
    /// the right-aligned run and score, the start of host, kind, collected and summary. Fields
    /// are separated by two blanks or more (no field here holds two blanks in a row).
    fn starts(line: &str) -> Vec<usize> {
        let mut spans = Vec::new();
        let mut rest = line.trim_start();
        let mut at = display_width(&line[..line.len() - rest.len()]);
        while !rest.is_empty() {
            let end = rest.find("  ").unwrap_or(rest.len());
            let field = &rest[..end];
            spans.push((at, at + display_width(field)));
            let after = rest[end..].trim_start();
            at += display_width(&rest[..rest.len() - after.len()]);
            rest = after;
        }
        assert_eq!(spans.len(), 6, "{line}");
        vec![
            spans[0].1, spans[1].0, spans[2].0, spans[3].0, spans[4].1, spans[5].0,
        ]
    }

    /// The columns line up whatever the length of the host names: up to 40 columns the host
    /// column widens to the longest; a longer name is written whole on its own row without
    /// widening the column for the others. The header lines up too, and nothing is cut.
    #[test]
    fn the_listing_lines_up_for_any_host_name() {
        let hosts = [
            "a",
            "node-01.example.com",
            "a-name-of-exactly-twenty-five",
            "forty-characters-long-host-name-abcdefgh",
            "a-very-long-host-name-of-a-cluster-node.eu-west-1.compute.internal",
            "节点-一",
        ];
        assert_eq!(display_width(hosts[3]), 40);
        let runs: Vec<RunSummary> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| run(100 - i as i64, h, "2026-01-01T10:00:00Z"))
            .collect();
        let text = render_runs(&runs);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + hosts.len(), "{text}");
        for h in hosts {
            assert!(text.contains(&format!("  {h}  ")), "{h} whole in\n{text}");
        }
        let long = lines
            .iter()
            .find(|l| l.contains(hosts[4]))
            .expect("long host listed");
        // Every line but the long host's has its fields at the same columns as the header's.
        let header = starts(lines[0]);
        for l in lines.iter().filter(|l| *l != long) {
            assert_eq!(starts(l), header, "\n{}\n{l}", lines[0]);
        }
        // The host column is as wide as the 40-character name, not the longer one.
        assert_eq!(header[2] - header[1], 40 + 2, "{text}");
        // The wide characters take two columns each: 节点-一 is padded as 7 columns wide.
        let cjk = lines.iter().find(|l| l.contains(hosts[5])).unwrap();
        assert!(
            cjk.contains(&format!("{}{}docker", hosts[5], " ".repeat(42 - 7))),
            "{cjk}"
        );
        // The long name's row: the name whole, its later fields pushed right by as much as the
        // name overflows the column, and still in line with each other.
        let over = display_width(hosts[4]) - 40;
        let shifted: Vec<usize> = header
            .iter()
            .enumerate()
            .map(|(i, at)| if i >= 2 { at + over } else { *at })
            .collect();
        assert_eq!(starts(long), shifted, "\n{}\n{long}", lines[0]);
        // Short names keep the least widths: the listing reads as it always has.
        let short = render_runs(&[run(7, "lab-host", "2026-01-01T00:00:00Z")]);
        assert_eq!(
            short,
            format!(
                "{:>6}  {:<20}  {:<10}  {:<22}  {:>5}  summary\n{:>6}  {:<20}  {:<10}  {:<22}  {:>5}  {}\n",
                "run", "host", "kind", "collected", "score",
                7, "lab-host", "docker", "2026-01-01T00:00:00Z", 80,
                "3 checks: 2 pass, 1 fail, 0 warn, 0 info, 0 manual, 0 not applicable, 0 error"
            )
        );
    }

    /// A host name is the audited host's own text: a line break, a tab or an escape sequence in
    /// it is written as an escape, measured as shown, and keeps the row on one line in line.
    #[test]
    fn a_hostile_host_name_stays_on_its_row_and_in_its_column() {
        let runs = [
            run(
                2,
                "evil\nhost\t\u{1b}[31mred\u{1b}[0m",
                "2026-01-01T10:00:00Z",
            ),
            run(1, "plain", "2026-01-01T10:00:00Z"),
        ];
        let text = render_runs(&runs);
        assert!(!text.contains('\u{1b}') && !text.contains('\t'), "{text:?}");
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(
            text.contains(r"evil\nhost\t\u001b[31mred\u001b[0m  "),
            "{text}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(starts(lines[1]), starts(lines[0]), "{text}");
        assert_eq!(starts(lines[2]), starts(lines[0]), "{text}");
    }

    /// Collection times with fractions of a second order as times, not as text (where
    /// `10:00:00.5Z` sorts before `10:00:00Z`); a time that is no time is the oldest.
    #[test]
    fn runs_order_by_collection_time_with_fractions_of_a_second() {
        assert_eq!(
            collected_time("2026-01-01T10:00:00.5Z"),
            Some((1_767_261_600, 500_000_000))
        );
        assert_eq!(
            collected_time("2026-01-01T10:00:00.000000001Z"),
            Some((1_767_261_600, 1))
        );
        assert_eq!(
            collected_time("2026-01-01T10:00:00Z"),
            Some((1_767_261_600, 0))
        );
        assert_eq!(collected_time("yesterday"), None);
        assert!(collected_time("2026-01-01T10:00:00.5Z") > collected_time("2026-01-01T10:00:00Z"));
        assert!(
            collected_time("2026-01-01T10:00:00.25Z") < collected_time("2026-01-01T10:00:00.5Z")
        );
        assert!(
            collected_time("2026-01-01T10:00:00.999Z") < collected_time("2026-01-01T10:00:01Z")
        );
        // Run 1 collected half a second after run 2 (recorded first): run 1 is the newest.
        let runs = [
            run(1, "h", "2026-01-01T10:00:00.5Z"),
            run(2, "h", "2026-01-01T10:00:00Z"),
            run(3, "h", "not a time"),
        ];
        let pairs = newest_pairs(&runs);
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].0.id, pairs[0].1.id), (2, 1));
    }

    fn result(objects: serde_json::Value) -> serde_json::Value {
        json!({"id": "1.2.4", "control": "c", "status": "fail", "objects": objects})
    }

    fn lines(old: serde_json::Value, new: serde_json::Value) -> Vec<String> {
        diff_objects(Some(&result(old)), Some(&result(new)))
            .iter()
            .map(ObjectChange::text)
            .collect()
    }

    #[test]
    fn only_statuses_count_not_evidence() {
        let old = json!([{"kind": "file", "name": "/etc/docker", "status": "fail", "evidence": {"actual": "0777"}}]);
        let new = json!([{"kind": "file", "name": "/etc/docker", "status": "fail", "evidence": {"actual": "0775"}}]);
        assert!(lines(old, new).is_empty());
    }

    #[test]
    fn a_restarted_process_is_the_same_object() {
        let old = json!([{"kind": "daemon", "name": "dockerd (pid 1000)", "status": "fail"}]);
        let new = json!([{"kind": "daemon", "name": "dockerd (pid 2000)", "status": "pass"}]);
        let changes = diff_objects(Some(&result(old)), Some(&result(new)));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].text(), "daemon dockerd (pid 2000): fail -> pass");
        let j = changes[0].json();
        assert_eq!(j["name"], "dockerd (pid 2000)");
        assert_eq!(j["before_name"], "dockerd (pid 1000)");
        assert_eq!(name_identity("kube-apiserver (pid 12)"), "kube-apiserver");
        assert_eq!(name_identity("web (pid x)"), "web (pid x)");
        assert_eq!(name_identity("(pid 1)"), "(pid 1)");
    }

    #[test]
    fn recreated_renamed_and_unnamed_objects() {
        let old = json!([
            {"kind": "container", "name": "web", "id": "aaaa", "status": "fail"},
            {"kind": "container", "name": "old-name", "id": "bbbb", "status": "fail"},
            {"kind": "image", "name": "", "id": "cccc", "status": "fail"},
            {"kind": "container", "name": "gone", "id": "dddd", "status": "pass"}
        ]);
        let new = json!([
            {"kind": "container", "name": "web", "id": "eeee", "status": "pass"},
            {"kind": "container", "name": "new-name", "id": "bbbb", "status": "pass"},
            {"kind": "image", "id": "cccc", "status": "pass"},
            {"kind": "container", "name": "new", "id": "ffff", "status": "fail"}
        ]);
        assert_eq!(
            lines(old, new),
            [
                "container web: fail -> pass (id aaaa -> eeee)",
                "container new-name: fail -> pass (was old-name)",
                "image cccc: fail -> pass",
                "container new: absent -> fail",
                "container gone: pass -> absent",
            ]
        );
    }

    /// A process checked for two flags has two entries: fixing one of them is a change even
    /// though the process still fails as a whole.
    #[test]
    fn several_entries_of_one_object_compare_as_a_whole() {
        let p = |a: &str, b: &str| {
            json!([
                {"kind": "process", "name": "etcd (pid 7)", "status": a, "evidence": {"field": "--cert-file"}},
                {"kind": "process", "name": "etcd (pid 7)", "status": b, "evidence": {"field": "--key-file"}}
            ])
        };
        assert_eq!(
            lines(p("fail", "fail"), p("pass", "fail")),
            ["process etcd (pid 7): fail -> fail (2 fail -> 1 pass, 1 fail)"]
        );
        assert_eq!(
            lines(p("fail", "pass"), p("pass", "pass")),
            ["process etcd (pid 7): fail -> pass (1 pass, 1 fail -> 2 pass)"]
        );
        assert!(lines(p("fail", "pass"), p("pass", "fail")).is_empty());
        let j = diff_objects(
            Some(&result(p("fail", "fail"))),
            Some(&result(p("pass", "fail"))),
        )[0]
        .json();
        assert_eq!(j["statuses"]["before"], json!(["fail", "fail"]));
        assert_eq!(j["statuses"]["after"], json!(["pass", "fail"]));
    }

    /// --fail-on-regression: a move into fail or error from any other status, `absent`
    /// included, is a regression; staying, improving or disappearing is not.
    #[test]
    fn a_regression_is_a_move_into_fail_or_error() {
        for (before, after) in [
            ("pass", "fail"),
            ("absent", "fail"),
            ("warn", "error"),
            ("fail", "error"),
            ("error", "fail"),
            ("not_applicable", "fail"),
            ("absent", "error"),
        ] {
            assert!(regressed(before, after), "{before} -> {after}");
        }
        for (before, after) in [
            ("fail", "fail"),
            ("error", "error"),
            ("fail", "pass"),
            ("fail", "absent"),
            ("pass", "warn"),
            ("absent", "pass"),
        ] {
            assert!(!regressed(before, after), "{before} -> {after}");
        }
    }

    /// --since and --until take --older-than's forms, through the one parser; DAYS count back
    /// from now.
    #[test]
    fn days_or_date_names_a_moment() {
        let now = 1_767_225_600 + 10 * 86_400;
        assert_eq!(
            parse_days_or_date("7").unwrap().moment(now),
            now - 7 * 86_400
        );
        assert_eq!(
            parse_days_or_date("7d").unwrap().moment(now),
            now - 7 * 86_400
        );
        assert_eq!(
            parse_days_or_date("2026-01-01").unwrap().moment(now),
            1_767_225_600
        );
        assert_eq!(
            parse_days_or_date("2026-01-01T12:00:00Z")
                .unwrap()
                .moment(now),
            1_767_225_600 + 43_200
        );
        assert!(parse_days_or_date("2026-02-30").is_err());
        assert!(parse_days_or_date("last week").is_err());
    }

    #[test]
    fn a_document_without_objects_has_none_to_compare() {
        assert!(diff_objects(None, Some(&json!({"control": "c"}))).is_empty());
        let doc = json!({"results": [{"control": "a"}, {"id": "x"}]});
        assert_eq!(results_by_control(&doc).len(), 1);
    }
}
