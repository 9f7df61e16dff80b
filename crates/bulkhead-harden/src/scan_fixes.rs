//! Scan fixes: `bulkhead harden --scan PATH...` turns the fixes the scanner attaches to its
//! findings into harden [`Fix`]es, applied by the same safe machinery as host fixes (backup,
//! atomic write, refusal of changed files, journal, rollback) and verified by scanning again.
//!
//! The artifacts are found and scanned exactly as `bulkhead scan` does (bulkhead-scan's
//! discovery, rules, suppressions and configuration). Every selected finding the scanner has a
//! fix for is fixed; the other failing ones are listed as unfixed, never dropped, each with what
//! the scan found on its object and the rule's advice, or why no fix is offered for that object
//! when its rule fixes others (see [`no_fix_reason`]).
//!
//! One [`Fix`] covers one object of one artifact (a Dockerfile stage, a compose service, a
//! Kubernetes container or pod, daemon.json) and one safety class: the scanner marks each fix
//! safe or review, and `--apply` without `--include-review` must be able to apply the safe ones
//! alone. A group is applied to the text in memory and the text is scanned again, round after
//! round, until none of the group's findings is left: fixes whose edits meet at one place (two
//! keys added to one new securityContext, USER and HEALTHCHECK before the same CMD) are made one
//! after the other, each on the text the previous one produced, as ruff does. The diff of a fix
//! is therefore exactly what apply writes, and a re-scan of the result no longer reports what
//! the fix names.
//!
//! The fixes of one artifact form a chain: each edit's `before_sha256` is the content the
//! previous fix of the file produces (safe fixes first, then the ones that need review), so
//! apply can write any prefix of them, and refuses the whole plan when the file changed since
//! it was scanned.
//!
//! An edit inside a YAML node that other places merge or repeat through an anchor changes them
//! too. The fix names each of those places in its notes ([`yaml::anchor_users`] on every place
//! the edit changes, as the host compose fixer does), and every selected finding of the file
//! the edit removes besides its own (a container's that merges the fixed one) is counted as
//! that fix's, so that no later fix or `unfixed` entry names it again. A fix the scanner marks
//! safe is planned as one needing review once it changes another object, after the other safe
//! fixes of the file.

use crate::edit::yaml;
use crate::files::sha256_hex;
use crate::model::{
    Action, FileEdit, Fix, FixKind, FixedFinding, Safety, ScanSummary, Target, Unfixed,
};
use crate::request::ThreatLink;
use bulkhead_checks::{Benchmark, Control, Selection, Status};
use bulkhead_scan::{ArtifactKind, Finding, Input, ScanOptions, ScanReport};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Rounds of fix-and-rescan per group; each round fixes at least one finding, and a group
/// rarely has more than three findings that meet at one place.
const MAX_ROUNDS: usize = 16;

/// What to scan and which findings to fix.
#[derive(Debug, Clone, Default)]
pub struct ScanRequest {
    /// Files or directories, as given to `--scan`.
    pub paths: Vec<PathBuf>,
    /// How to scan (configuration, `--target`, `--kind`), as `bulkhead scan` would.
    pub options: ScanOptions,
    /// `--select`: check IDs in `numbering`, sections, control IDs, or scan rule IDs and their
    /// aliases (`compose-privileged`, `DL3002`). Empty: every finding.
    pub select: Vec<String>,
    /// `--threat`: only findings whose control mitigates one of these threats.
    pub threats: Vec<String>,
    /// `benchmark id -> edition` for the check IDs fixes carry (`cis-docker` -> `1.2.0`).
    /// A benchmark not listed uses its default edition.
    pub numbering: Vec<(String, String)>,
    /// Threat library links; `None`: the library of bulkhead-threats.
    pub threat_links: Option<Vec<ThreatLink>>,
    /// The audited host's running dockerd, when there is one: a scanned daemon.json that is the
    /// file it reads is checked against its command-line flags, and its fixes ask for a restart.
    pub daemon: Option<RunningDaemon>,
}

/// The dockerd whose daemon.json a scan may reach.
#[derive(Debug, Clone, Default)]
pub struct RunningDaemon {
    /// The daemon.json it reads, as a path on this machine (links resolved when it exists).
    pub config_file: PathBuf,
    /// Its command-line flags.
    pub flags: bulkhead_facts::flags::Flags,
}

/// The scan fixes and what the scan saw.
#[derive(Debug, Clone, Default)]
pub struct ScanPlan {
    pub fixes: Vec<Fix>,
    pub unfixed: Vec<Unfixed>,
    pub summary: ScanSummary,
    /// The scan the plan was made from.
    pub report: ScanReport,
    /// Each scanned artifact's path on this machine (links resolved), by the path the scan
    /// reported.
    pub real_paths: BTreeMap<String, PathBuf>,
}

/// Scan `request.paths` and plan the fixes of the selected findings. Planning only reads.
pub fn plan(request: &ScanRequest) -> Result<ScanPlan, String> {
    let links = request
        .threat_links
        .clone()
        .unwrap_or_else(crate::threats::library_links);
    let selector = Selector::new(request, &links)?;
    let report = bulkhead_scan::scan_paths(&request.paths, &request.options);
    let mut out = ScanPlan {
        summary: ScanSummary {
            paths: request
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            files: report.files.len(),
            findings: report.findings.len(),
            selected: 0,
            informational: 0,
            errors: report
                .errors
                .iter()
                .map(|e| e.to_string())
                .chain(report.skipped.iter().map(|e| format!("{e} (skipped)")))
                // `bulkhead scan --kind` is `--scan-kind` here.
                .map(|e| e.replace("pass --kind", "pass --scan-kind"))
                .collect(),
            numbering: bulkhead_checks::catalog()
                .benchmarks()
                .map(|b| (b.id.clone(), selector.edition(b).to_string()))
                .collect(),
        },
        ..Default::default()
    };
    let mut done: BTreeSet<PathBuf> = BTreeSet::new();
    let projects = compose_projects(&report);
    for file in &report.files {
        let selected: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.location.path == file.path && selector.selected(f))
            .collect();
        out.summary.selected += selected.len();
        // An informational finding the scanner has a fix for (MAINTAINER) is planned like the
        // others: only those without one are "nothing to fix there".
        out.summary.informational += selected
            .iter()
            .filter(|f| f.status != Status::Fail && f.fix.is_none())
            .count();
        // Failing findings the scanner has no fix for: unfixed, unless a fix of another finding
        // of the file removes them too (an edit of a node other objects share through an anchor).
        let no_fix: Vec<&Finding> = selected
            .iter()
            .filter(|f| f.fix.is_none() && f.status == Status::Fail)
            .copied()
            .collect();
        let fixable: Vec<&Finding> = selected.into_iter().filter(|f| f.fix.is_some()).collect();
        let real = if fixable.is_empty() {
            None
        } else {
            let real = std::fs::canonicalize(&file.path)
                .map_err(|e| format!("{}: cannot resolve the scanned file: {e}", file.path))?;
            // The same file reached through two --scan paths is planned once.
            done.insert(real.clone()).then_some(real)
        };
        let Some(real) = real else {
            // Read again for the reasons only: one that cannot be read gets the rule's advice.
            let text = std::fs::read_to_string(&file.path).ok();
            out.unfixed.extend(no_fix.iter().map(|f| {
                let why = no_fix_reason(f, text.as_deref(), &out.fixes, &request.options);
                selector.unfixed(f, why)
            }));
            continue;
        };
        out.real_paths.insert(file.path.clone(), real.clone());
        let daemon = request
            .daemon
            .as_ref()
            .filter(|d| file.kind == ArtifactKind::DaemonJson && same_file(&d.config_file, &real));
        let deployed_with = projects
            .get(&file.path)
            .cloned()
            .unwrap_or_else(|| vec![file.path.clone()]);
        let planned = plan_file(
            &file.path,
            &deployed_with,
            file.kind,
            &real,
            &fixable,
            &no_fix,
            &request.options,
            &selector,
            &links,
            daemon,
        )?;
        out.fixes.extend(planned.0);
        out.unfixed.extend(planned.1);
    }
    out.report = report;
    Ok(out)
}

/// Why a failing finding without a fix is left, about its own object: what the scan found there
/// (the rule's advice alone leaves out what is particular to it, such as a value inherited
/// through `extends`), then the advice. When the scanner withholds from this object a fix its
/// rule makes for others, for a reason the artifact shows, the reason is said: no port for a
/// health probe, or a container the API server would refuse with the fix, where the rule's
/// advice cannot be followed and what clears the way is said instead. `text`: the artifact as
/// scanned (`None` when it could not be read again); `fixes`: the plan's fixes so far.
fn no_fix_reason(f: &Finding, text: Option<&str>, fixes: &[Fix], options: &ScanOptions) -> String {
    if f.rule == "k8s-privilege-escalation" {
        if let Some(why) = text.and_then(|t| escalation_withheld(f, t, fixes)) {
            return why;
        }
    }
    let advice = bulkhead_scan::catalog::rule(&f.rule)
        .map(|r| r.fix.trim_end_matches('.').to_string())
        .unwrap_or_else(|| "see `bulkhead scan --list-rules`".into());
    // The scanner probes the port the final stage exposes; without one it has nothing to probe.
    let no_port = f.rule == "dockerfile-healthcheck-missing"
        && text.is_some_and(|t| {
            matches!(
                crate::edit::dockerfile::exposed_port(t, options.target.as_deref()),
                Ok(None)
            )
        });
    let why = if no_port {
        "it EXPOSEs no port for a generated probe to check, so "
    } else {
        ""
    };
    format!(
        "{}; {why}the scanner has no automatic fix for it: {advice}",
        f.message.trim_end_matches('.')
    )
}

/// Why no fix sets `allowPrivilegeEscalation: false` on the container of finding `f`: the API
/// server refuses it there (see [`escalation_blockers`]), so the scanner offers none. The
/// privilege goes first, by this plan's fix of `k8s-privileged` when it has one for this
/// container; `None` when nothing in `text` stands in the way.
fn escalation_withheld(f: &Finding, text: &str, fixes: &[Fix]) -> Option<String> {
    let (_, why, _) = escalation_states(text)
        .into_iter()
        .find(|(name, why, _)| *name == f.object && !why.is_empty())?;
    let mut first = Vec::new();
    if why.contains(&PRIVILEGED) {
        // Its own fix, or another object's whose edit reaches it through an anchor.
        let by = fixes.iter().find(|x| {
            x.findings.iter().any(|g| {
                g.rule == "k8s-privileged" && g.object == f.object && g.path == f.location.path
            })
        });
        first.push(match by {
            Some(x) => format!(
                "apply this plan's fix \"{}\", which sets privileged: false",
                x.title
            ),
            None => "set privileged: false (k8s-privileged)".to_string(),
        });
    }
    if why.contains(&SYS_ADMIN) {
        first.push(
            "remove CAP_SYS_ADMIN from capabilities.add (k8s-dangerous-capabilities, no automatic fix)"
                .to_string(),
        );
    }
    Some(format!(
        "allowPrivilegeEscalation is not false, and the API server refuses it false beside {}, so the scanner offers no fix for this container: {}, then run harden again to set it",
        why.join(" and "),
        first.join(", and ")
    ))
}

/// One object's fixes of one safety class.
#[derive(Clone)]
struct Group<'f> {
    object: String,
    safety: bulkhead_scan::Safety,
    /// The findings of the first scan, in file order.
    findings: Vec<&'f Finding>,
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    std::fs::canonicalize(a).unwrap_or_else(|_| a.to_path_buf()) == b
}

#[allow(clippy::too_many_arguments)]
fn plan_file(
    path: &str,
    deployed_with: &[String],
    kind: ArtifactKind,
    real: &std::path::Path,
    fixable: &[&Finding],
    no_fix: &[&Finding],
    options: &ScanOptions,
    selector: &Selector<'_>,
    links: &[ThreatLink],
    daemon: Option<&RunningDaemon>,
) -> Result<(Vec<Fix>, Vec<Unfixed>), String> {
    let original = std::fs::read_to_string(real)
        .map_err(|e| format!("{path}: cannot read the scanned file: {e}"))?;
    let mut groups: Vec<Group> = Vec::new();
    for safety in [bulkhead_scan::Safety::Safe, bulkhead_scan::Safety::Review] {
        for f in fixable {
            if f.fix.as_ref().map(|x| x.safety) != Some(safety) {
                continue;
            }
            match groups
                .iter_mut()
                .find(|g| g.safety == safety && g.object == f.object)
            {
                Some(g) => g.findings.push(f),
                None => groups.push(Group {
                    object: f.object.clone(),
                    safety,
                    findings: vec![f],
                }),
            }
        }
    }
    let both: BTreeSet<String> = groups
        .iter()
        .filter(|g| g.safety == bulkhead_scan::Safety::Review)
        .map(|g| g.object.clone())
        .filter(|o| {
            groups
                .iter()
                .any(|g| g.safety == bulkhead_scan::Safety::Safe && g.object == *o)
        })
        .collect();
    let mut fixes = Vec::new();
    // Findings left unfixed, with the reason; listed in the order of the file at the end.
    let mut unfixed: Vec<(&Finding, String)> = Vec::new();
    let mut text = original.clone();
    let no_flags = bulkhead_facts::flags::Flags::default();
    let flags = daemon.map(|d| &d.flags).unwrap_or(&no_flags);
    // daemon.json: a content dockerd refuses to start with is never planned. Against the
    // running daemon's flags when this is the file it reads, else against the file alone.
    // A Kubernetes manifest: a container the API server refuses is never planned either.
    let rejects = |before: &str, after: &str| match kind {
        ArtifactKind::DaemonJson => {
            let changed = crate::fixers::daemon_json::changed_keys(before, after);
            crate::fixers::daemon_json::dockerd_rejects(flags, path, after, &changed)
        }
        ArtifactKind::Kubernetes => {
            api_server_rejects(before, after).map(|why| through_anchor(kind, before, after, why))
        }
        _ => None,
    };
    // The selected findings of the file no fix has accounted for yet, fixable or not: a fix
    // that removes one of another object (through an anchor they share) counts it as its own.
    let mut open: Vec<&Finding> = no_fix.iter().chain(fixable).copied().collect();
    // Groups to plan, in chain order; `true`: a safe group planned as one needing review,
    // after the other safe ones, because its edit changes other objects too.
    let mut queue: Vec<(Group, bool)> = groups.into_iter().map(|g| (g, false)).collect();
    let mut next = 0;
    while next < queue.len() {
        let (first, demoted) = queue[next].clone();
        next += 1;
        // What an earlier fix removed already is that fix's.
        let mut g = first.clone();
        g.findings
            .retain(|f| open.iter().any(|o| std::ptr::eq(*o, *f)));
        if g.findings.is_empty() {
            continue;
        }
        let mut left_out: Vec<(&Finding, String)> = Vec::new();
        let outcome = loop {
            let outcome = match fix_group(path, kind, &text, &g, options) {
                Ok(o) => o,
                Err(e) => {
                    for f in &g.findings {
                        left_out.push((*f, e.clone()));
                    }
                    break None;
                }
            };
            let Some(reason) = rejects(&text, &outcome.text) else {
                break Some(outcome);
            };
            // Leave out the findings whose fix alone is refused (all of them when only their
            // combination is), and plan the rest.
            let alone = |f: &&Finding| {
                let one = Group {
                    object: g.object.clone(),
                    safety: g.safety,
                    findings: vec![*f],
                };
                fix_group(path, kind, &text, &one, options)
                    .ok()
                    .and_then(|o| rejects(&text, &o.text))
            };
            let mut refused: Vec<(&Finding, String)> = g
                .findings
                .iter()
                .filter_map(|f| alone(f).map(|r| (*f, r)))
                .collect();
            if refused.is_empty() {
                refused = g.findings.iter().map(|f| (*f, reason.clone())).collect();
            }
            for (f, r) in &refused {
                left_out.push((*f, r.clone()));
            }
            g.findings
                .retain(|f| !refused.iter().any(|(r, _)| std::ptr::eq(*r, *f)));
            if g.findings.is_empty() {
                break None;
            }
        };
        let shared = match &outcome {
            Some(o) if o.text != text => anchor_sharers(kind, &text, &o.text),
            _ => Vec::new(),
        };
        // A safe fix that changes other objects than the one it names needs a human to read it
        // (as a host compose fix of a shared service does): it is planned again after the other
        // safe fixes, so that `--apply` without `--include-review` can still write those alone.
        let spreads = shared.iter().any(|s| !s.inherited.is_empty());
        if spreads && g.safety == bulkhead_scan::Safety::Safe && !demoted {
            let at = queue[next..]
                .iter()
                .position(|(q, d)| q.safety == bulkhead_scan::Safety::Review || *d)
                .map_or(queue.len(), |p| next + p);
            queue.insert(at, (first, true));
            continue;
        }
        open.retain(|o| !first.findings.iter().any(|f| std::ptr::eq(*o, *f)));
        unfixed.extend(left_out);
        let Some(outcome) = outcome else {
            continue;
        };
        for f in &outcome.left {
            unfixed.push((
                *f,
                "its fix did not remove the finding; fix it by hand".into(),
            ));
        }
        if outcome.text == text {
            continue;
        }
        // The findings this edit removes besides its own: those of the objects that share what
        // it changes (and any other it happens to settle), as the first scan saw them.
        let also = removed_too(path, kind, &text, &outcome, &mut open, options);
        let mut fix = group_fix(
            path,
            deployed_with,
            kind,
            &g,
            &outcome.fixed,
            selector,
            links,
        );
        add_shared(&mut fix, &shared, &also, selector, links);
        if demoted {
            fix.safety = Safety::Review;
            fix.title = fix_title(kind, &g.object, path, Safety::Review);
        }
        if let Some(d) = daemon {
            fix.notes[0] = format!(
                "{path} is the daemon.json the audited dockerd reads ({}): it loads the change when it restarts (--restart-daemon)",
                d.config_file.display()
            );
            fix.restart = Some(crate::model::Restart {
                service: "docker".into(),
                reload_suffices: false,
            });
        }
        if g.safety == bulkhead_scan::Safety::Safe && both.contains(&g.object) {
            fix.id.push_str("#safe");
        }
        fix.action.edits.push(FileEdit {
            path: path.to_string(),
            before_sha256: Some(sha256_hex(text.as_bytes())),
            after_sha256: sha256_hex(outcome.text.as_bytes()),
            create_attrs: None,
            before: Some(text.clone()),
            after: outcome.text.clone(),
            real_path: Some(real.to_path_buf()),
            generated_secret: false,
        });
        fixes.push(fix);
        text = outcome.text;
    }
    // What no fix removed, of the findings without a fix of their own, with the others left,
    // in the order of the file: the list is read beside it. A stable sort keeps the scan's
    // order of the findings at one place.
    let mut left: Vec<(&Finding, String)> = no_fix
        .iter()
        .filter(|f| open.iter().any(|o| std::ptr::eq(*o, **f)))
        .map(|f| (*f, no_fix_reason(f, Some(&original), &fixes, options)))
        .collect();
    left.extend(unfixed);
    left.sort_by_key(|(f, _)| (f.location.line, f.location.column));
    let left = left
        .into_iter()
        .map(|(f, why)| selector.unfixed(f, why))
        .collect();
    Ok((fixes, left))
}

/// The findings of `open` (selected findings of the file no fix has accounted for) that the
/// edit from `before` to `outcome.text` removes besides the group's own, in the order of the
/// first scan; they leave `open`. A finding is matched by rule and object: the rule reported
/// on that object fewer times after the edit than before.
fn removed_too<'f>(
    path: &str,
    kind: ArtifactKind,
    before: &str,
    outcome: &GroupOutcome<'f>,
    open: &mut Vec<&'f Finding>,
    options: &ScanOptions,
) -> Vec<&'f Finding> {
    let count = |text: &str| {
        let mut n: BTreeMap<(String, String), usize> = BTreeMap::new();
        for f in rescan(path, kind, text, options).findings {
            *n.entry((f.rule, f.object)).or_default() += 1;
        }
        n
    };
    let after = count(&outcome.text);
    let mut budget: BTreeMap<(String, String), usize> = count(before)
        .into_iter()
        .map(|(k, n)| {
            let own = outcome
                .fixed
                .iter()
                .filter(|(f, _)| f.rule == k.0 && f.object == k.1)
                .count();
            let gone = n.saturating_sub(after.get(&k).copied().unwrap_or(0));
            (k, gone.saturating_sub(own))
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut out = Vec::new();
    open.retain(
        |f| match budget.get_mut(&(f.rule.clone(), f.object.clone())) {
            Some(n) if *n > 0 => {
                *n -= 1;
                out.push(*f);
                false
            }
            _ => true,
        },
    );
    out
}

/// A place that reads what a fix changes because it merges or repeats an anchored node the
/// edit lands in (found by [`yaml::anchor_users`], as the host compose fixer finds them).
#[derive(Debug, Clone)]
struct Sharer {
    /// Who, where, what and how: `service worker (line 6) merges service web through <<: *default`.
    lead: String,
    merge: bool,
    /// What it reads differently after the edit, as dotted paths below it, in the order of the
    /// document (`security_opt`, `securityContext.readOnlyRootFilesystem`).
    inherited: Vec<String>,
    /// The objects, as the scanner names them, that it is or holds.
    objects: Vec<String>,
}

/// One step of a path into a JSON value.
fn step<'v>(v: &'v serde_json::Value, s: &yaml::SegBuf) -> Option<&'v serde_json::Value> {
    match s {
        yaml::SegBuf::Key(k) => v.get(k.as_str()),
        yaml::SegBuf::Index(i) => v.get(*i),
    }
}

/// The paths (from `at`) where `a` and `b` differ: into mappings key by key and into lists of
/// equal length item by item; anything else that differs is one place.
fn changed_paths(
    a: &serde_json::Value,
    b: &serde_json::Value,
    at: &mut Vec<yaml::SegBuf>,
    out: &mut Vec<Vec<yaml::SegBuf>>,
) {
    use serde_json::Value;
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: Vec<&String> = x
                .keys()
                .chain(y.keys().filter(|k| !x.contains_key(*k)))
                .collect();
            for k in keys {
                at.push(yaml::SegBuf::Key(k.clone()));
                let null = Value::Null;
                changed_paths(
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    at,
                    out,
                );
                at.pop();
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                at.push(yaml::SegBuf::Index(i));
                changed_paths(p, q, at, out);
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

/// `securityContext.readOnlyRootFilesystem`, `containers[1]`.
fn dotted(path: &[yaml::SegBuf]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            yaml::SegBuf::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            yaml::SegBuf::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The objects of document `doc` the scanner reports on, by path: compose services
/// (`service web`), Kubernetes objects (`Deployment/prod/web`) and their containers
/// (`Deployment/prod/web container app`).
fn object_places(
    kind: ArtifactKind,
    docs: &[bulkhead_sources::yaml::Document],
    doc: usize,
) -> Vec<(Vec<yaml::SegBuf>, String)> {
    use bulkhead_sources::kubernetes;
    use yaml::SegBuf;
    let Some(d) = docs.get(doc) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match kind {
        ArtifactKind::Compose => {
            for (k, _) in d
                .root
                .get("services")
                .and_then(|s| s.as_map())
                .unwrap_or_default()
            {
                if let Some(name) = k.as_str() {
                    out.push((
                        vec![SegBuf::Key("services".into()), SegBuf::Key(name.into())],
                        format!("service {name}"),
                    ));
                }
            }
        }
        ArtifactKind::Kubernetes => {
            for o in kubernetes::objects(std::slice::from_ref(d)) {
                let mut at: Vec<SegBuf> = match o.item {
                    Some(i) => vec![SegBuf::Key("items".into()), SegBuf::Index(i)],
                    None => Vec::new(),
                };
                out.push((at.clone(), o.display()));
                let Some(pod) = o.pod() else {
                    continue;
                };
                if let Some((_, spec)) = kubernetes::POD_CARRIERS
                    .iter()
                    .find(|(k, _)| *k == o.kind())
                {
                    at.extend(spec.iter().map(|k| SegBuf::Key(k.to_string())));
                }
                for c in pod.containers() {
                    let mut p = at.clone();
                    p.push(SegBuf::Key(c.kind.field().into()));
                    p.push(SegBuf::Index(c.index));
                    out.push((
                        p,
                        format!("{} {} {}", o.display(), c.kind.label(), c.name()),
                    ));
                }
            }
        }
        _ => {}
    }
    out
}

/// `path` in the words of the scanner's objects: the object itself, `X of OBJECT` below one,
/// else the path.
fn describe(path: &[yaml::SegBuf], places: &[(Vec<yaml::SegBuf>, String)]) -> String {
    let holder = places
        .iter()
        .filter(|(p, _)| path.starts_with(p))
        .max_by_key(|(p, _)| p.len());
    match holder {
        Some((p, label)) if p.len() == path.len() => label.clone(),
        Some((p, label)) => format!("{} of {label}", dotted(&path[p.len()..])),
        None if path.is_empty() => "the document root".into(),
        None => dotted(path),
    }
}

/// The places that read what the edit from `before` to `after` changes through an anchor: for
/// every place the edit changes, the aliases and merges of an anchor carried by that node or by
/// a mapping or list holding it ([`yaml::anchor_users`] on the text before the edit), each
/// once, with what it reads differently after the edit. Compose files and Kubernetes manifests
/// only; empty when a text does not parse.
fn anchor_sharers(kind: ArtifactKind, before: &str, after: &str) -> Vec<Sharer> {
    use bulkhead_sources::yaml::{parse, Schema};
    if !matches!(kind, ArtifactKind::Compose | ArtifactKind::Kubernetes) {
        return Vec::new();
    }
    let (Ok(b), Ok(a)) = (parse(before), parse(after)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut seen: BTreeSet<(usize, usize, usize, String)> = BTreeSet::new();
    for (d, (db, da)) in b.iter().zip(&a).enumerate() {
        let (was, now) = (db.root.to_json(Schema::Core), da.root.to_json(Schema::Core));
        let mut changed = Vec::new();
        changed_paths(&was, &now, &mut Vec::new(), &mut changed);
        if changed.is_empty() {
            continue;
        }
        let places = object_places(kind, &b, d);
        for place in &changed {
            let steps: Vec<yaml::Seg> = place.iter().map(yaml::SegBuf::as_seg).collect();
            let Ok(users) = yaml::anchor_users(before, d, &steps) else {
                continue;
            };
            for u in users {
                if !seen.insert((d, u.anchor_line, u.line, u.label.clone())) {
                    continue;
                }
                let carrier = &place[..u.carrier_depth.min(place.len())];
                let read = |v: &'_ serde_json::Value| -> serde_json::Value {
                    u.path
                        .iter()
                        .try_fold(v, |v, s| step(v, s))
                        .cloned()
                        .unwrap_or(serde_json::Value::Null)
                };
                let mut inherited = Vec::new();
                changed_paths(&read(&was), &read(&now), &mut Vec::new(), &mut inherited);
                let inherited: Vec<String> = inherited
                    .iter()
                    .map(|p| match dotted(p) {
                        s if s.is_empty() => "its value".to_string(),
                        s => s,
                    })
                    .collect();
                // The objects it is, is inside of, or holds.
                let inside = places
                    .iter()
                    .filter(|(p, _)| u.path.starts_with(p))
                    .max_by_key(|(p, _)| p.len());
                let mut objects: Vec<String> = inside.map(|(_, l)| l.clone()).into_iter().collect();
                for (p, l) in &places {
                    if p.starts_with(&u.path) && !objects.contains(l) {
                        objects.push(l.clone());
                    }
                }
                let how = if u.merge { "merges" } else { "repeats" };
                out.push(Sharer {
                    lead: format!(
                        "{} (line {}) {how} {} through {}",
                        describe(&u.path, &places),
                        u.line,
                        describe(carrier, &places),
                        u.written
                    ),
                    merge: u.merge,
                    inherited,
                    objects,
                });
            }
        }
    }
    out
}

/// Say in `fix` which places share what it changes, and count the findings of other objects
/// its edit removes (`also`) as its own: in `findings`, `changes`, `checks`, `controls` and
/// `threats`, and in the note of the place they are removed through.
fn add_shared(
    fix: &mut Fix,
    shared: &[Sharer],
    also: &[&Finding],
    selector: &Selector<'_>,
    links: &[ThreatLink],
) {
    // For each of `also`, the place (an index into `shared`) it is removed through.
    let mut via: Vec<Option<usize>> = vec![None; also.len()];
    for (n, s) in shared.iter().enumerate() {
        let keys = crate::fixers::container::and_list(&s.inherited);
        let mut note = if s.inherited.is_empty() {
            format!("{}: this change does not alter what it reads", s.lead)
        } else if s.merge {
            format!(
                "{}: it gets {keys} from this change, which it does not set itself",
                s.lead
            )
        } else {
            format!(
                "{}: it is the same node, so it gets {keys} from this change too",
                s.lead
            )
        };
        let mut mine: Vec<&Finding> = Vec::new();
        for (f, v) in also.iter().zip(via.iter_mut()) {
            if v.is_none() && !s.inherited.is_empty() && s.objects.contains(&f.object) {
                *v = Some(n);
                mine.push(f);
            }
        }
        if let [first, ..] = mine.as_slice() {
            let one = mine.iter().all(|f| f.object == first.object);
            let named: Vec<String> = mine
                .iter()
                .map(|f| {
                    if one {
                        f.rule.clone()
                    } else {
                        format!("{} of {}", f.rule, f.object)
                    }
                })
                .collect();
            note.push_str(&format!(
                "; so this fix also removes {}{} (counted as fixed here)",
                if one { "its " } else { "" },
                crate::fixers::container::and_list(&named)
            ));
        }
        fix.notes.push(note);
    }
    for (f, v) in also.iter().zip(&via) {
        let description = match v {
            Some(n) => format!("fixed through the anchor: {}", shared[*n].lead),
            None => "removed by this change too".to_string(),
        };
        for c in selector.checks(f) {
            if !fix.checks.contains(&c) {
                fix.checks.push(c);
            }
        }
        if let Some(c) = &f.control {
            if !fix.controls.contains(c) {
                fix.controls.push(c.clone());
            }
        }
        fix.changes.push(format!(
            "{} of {} (line {}): {description}",
            f.rule, f.object, f.location.line
        ));
        fix.findings.push(FixedFinding {
            rule: f.rule.clone(),
            path: f.location.path.clone(),
            line: f.location.line,
            object: f.object.clone(),
            description,
        });
    }
    if !also.is_empty() {
        fix.checks
            .sort_by(|a, b| bulkhead_checks::catalog::compare_check_ids(a, b));
        selector.order_controls(&mut fix.controls, &fix.checks);
        fix.threats = crate::planner::threats_for(&fix.controls, links);
    }
}

/// What the API server refuses `allowPrivilegeEscalation: false` beside in container `c`:
/// `privileged: true`, and `capabilities.add` holding `CAP_SYS_ADMIN` (its pod validation
/// compares the name as written, so `SYS_ADMIN` passes).
fn escalation_blockers(
    pod: &bulkhead_sources::kubernetes::Pod<'_>,
    c: &bulkhead_sources::kubernetes::Container<'_>,
) -> Vec<&'static str> {
    let mut why = Vec::new();
    if pod.container_only(c, &["privileged"]).as_bool() == Some(true) {
        why.push(PRIVILEGED);
    }
    let sys_admin = pod
        .container_only(c, &["capabilities", "add"])
        .node
        .and_then(|n| n.as_seq())
        .is_some_and(|caps| caps.iter().any(|n| n.as_str() == Some("CAP_SYS_ADMIN")));
    if sys_admin {
        why.push(SYS_ADMIN);
    }
    why
}

const PRIVILEGED: &str = "privileged: true";
const SYS_ADMIN: &str = "capabilities.add CAP_SYS_ADMIN";

/// Each container of a manifest as the scanner names it (`Kind/namespace/name container NAME`),
/// with what the API server refuses `allowPrivilegeEscalation: false` beside in it and whether
/// it sets that already.
fn escalation_states(text: &str) -> Vec<(String, Vec<&'static str>, bool)> {
    use bulkhead_sources::kubernetes;
    let Ok(docs) = bulkhead_sources::yaml::parse(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for pod in kubernetes::objects(&docs).iter().filter_map(|o| o.pod()) {
        for c in pod.containers() {
            let off = pod
                .container_only(&c, &["allowPrivilegeEscalation"])
                .as_bool()
                == Some(false);
            out.push((
                format!("{} {} {}", pod.object.display(), c.kind.label(), c.name()),
                escalation_blockers(&pod, &c),
                off,
            ));
        }
    }
    out
}

/// The containers of a manifest that the API server refuses to admit because of their security
/// context: `allowPrivilegeEscalation: false` beside one of [`escalation_blockers`]. Each as
/// `Kind/namespace/name container NAME: what`.
fn refused_containers(text: &str) -> Vec<String> {
    escalation_states(text)
        .into_iter()
        .filter(|(_, _, off)| *off)
        .flat_map(|(name, why, _)| {
            why.into_iter()
                .map(move |w| format!("{name}: allowPrivilegeEscalation: false beside {w}"))
        })
        .collect()
}

/// Why the API server would refuse the manifest `after` when it admits `before` (a container
/// it refuses that `before` does not have), or `None`.
fn api_server_rejects(before: &str, after: &str) -> Option<String> {
    let old = refused_containers(before);
    let new: Vec<String> = refused_containers(after)
        .into_iter()
        .filter(|c| !old.contains(c))
        .collect();
    (!new.is_empty()).then(|| {
        format!(
            "the API server refuses {} (\"cannot set `allowPrivilegeEscalation` to false and ...\"): take the privilege away first (k8s-privileged, k8s-dangerous-capabilities)",
            new.join("; ")
        )
    })
}

/// `why` the API server refuses the containers it names (see [`api_server_rejects`]), led by
/// how the edit reaches those of them that merge or repeat the edited node through an anchor:
/// the entry is another container's finding, which alone does not explain why they are named.
fn through_anchor(kind: ArtifactKind, before: &str, after: &str, why: String) -> String {
    let leads: Vec<String> = anchor_sharers(kind, before, after)
        .into_iter()
        .filter(|s| {
            !s.inherited.is_empty() && s.objects.iter().any(|o| why.contains(&format!("{o}: ")))
        })
        .map(|s| s.lead)
        .collect();
    match leads.len() {
        0 => why,
        1 => format!("{}, so this fix would change it too, and {why}", leads[0]),
        _ => format!(
            "{}, so this fix would change them too, and {why}",
            leads.join("; ")
        ),
    }
}

/// What fixing one group did.
struct GroupOutcome<'f> {
    text: String,
    /// Findings of the first scan whose fix was applied, with the fix's description.
    fixed: Vec<(&'f Finding, String)>,
    /// Findings of the first scan still reported after their fix.
    left: Vec<&'f Finding>,
}

/// Scan `text` as the artifact at `path`.
fn rescan(path: &str, kind: ArtifactKind, text: &str, options: &ScanOptions) -> ScanReport {
    let opts = ScanOptions {
        kind: Some(kind),
        threads: 1,
        ..options.clone()
    };
    bulkhead_scan::scan_inputs(
        &[Input {
            path: path.to_string(),
            bytes: text.as_bytes().to_vec(),
            kind: Some(kind),
        }],
        &opts,
    )
}

/// Apply the group's fixes round after round (see the module documentation).
fn fix_group<'f>(
    path: &str,
    kind: ArtifactKind,
    start: &str,
    g: &Group<'f>,
    options: &ScanOptions,
) -> Result<GroupOutcome<'f>, String> {
    // Each rule is fixed at most as often as the first scan reported it on this object, so a
    // fix that does not remove its finding cannot be applied twice.
    let mut budget: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &g.findings {
        *budget.entry(f.rule.as_str()).or_default() += 1;
    }
    let rules: BTreeSet<String> = budget.keys().map(|r| r.to_string()).collect();
    let ours = |f: &Finding| {
        f.object == g.object
            && rules.contains(&f.rule)
            && f.fix.as_ref().is_some_and(|x| x.safety == g.safety)
    };
    let mut text = start.to_string();
    let mut fixed: Vec<(&'f Finding, String)> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let report = rescan(path, kind, &text, options);
        if let Some(e) = report.errors.first() {
            return Err(format!(
                "the fixed text no longer scans ({e}); nothing of this group is planned"
            ));
        }
        let candidates: Vec<Finding> = report
            .findings
            .into_iter()
            .filter(|f| ours(f) && budget.get(f.rule.as_str()).is_some_and(|n| *n > 0))
            .collect();
        let planned = bulkhead_scan::fixes::plan(&candidates, bulkhead_scan::Safety::Review);
        let Some(file_fix) = planned.first() else {
            break;
        };
        let next = bulkhead_scan::fixes::apply(&text, file_fix)?;
        if next == text {
            break;
        }
        for (rule, _, description) in &file_fix.fixes {
            if let Some(n) = budget.get_mut(rule.as_str()) {
                *n -= 1;
            }
            // Name the finding as the first scan saw it (its line in the file on disk).
            if let Some(first) = g
                .findings
                .iter()
                .find(|f| f.rule == *rule && !fixed.iter().any(|(x, _)| std::ptr::eq(*x, **f)))
            {
                fixed.push((first, description.clone()));
            }
        }
        text = next;
    }
    let after = rescan(path, kind, &text, options);
    let mut left: Vec<&'f Finding> = Vec::new();
    for f in after.findings.iter().filter(|f| ours(f)) {
        if let Some(first) = g
            .findings
            .iter()
            .find(|x| x.rule == f.rule && !left.iter().any(|l| std::ptr::eq(*l, **x)))
        {
            left.push(first);
        }
    }
    fixed.retain(|(f, _)| !left.iter().any(|l| std::ptr::eq(*l, *f)));
    Ok(GroupOutcome { text, fixed, left })
}

fn fix_kind(kind: ArtifactKind) -> FixKind {
    match kind {
        ArtifactKind::Dockerfile => FixKind::Dockerfile,
        ArtifactKind::Compose => FixKind::Compose,
        ArtifactKind::Kubernetes => FixKind::PodSecurityContext,
        ArtifactKind::DaemonJson => FixKind::DaemonJson,
    }
}

fn target_kind(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::Dockerfile => "image",
        ArtifactKind::Compose => "compose-service",
        ArtifactKind::Kubernetes => "workload",
        ArtifactKind::DaemonJson => "daemon",
    }
}

/// The compose files `docker compose` reads together, by each file's scanned path: a base file
/// and its override file in one directory under compose's default names, paired as
/// `bulkhead scan` pairs them. Files that are not paired are left out.
fn compose_projects(report: &ScanReport) -> BTreeMap<String, Vec<String>> {
    let scanned: Vec<&str> = report
        .files
        .iter()
        .filter(|f| f.kind == ArtifactKind::Compose)
        .map(|f| f.path.as_str())
        .collect();
    // Compose reads the files under its default names in the directory whether or not they
    // were scanned (`harden --scan compose.yaml` beside a compose.override.yaml): those present
    // on disk take part in the pairing too.
    let mut compose: Vec<String> = scanned.iter().map(|p| p.to_string()).collect();
    for path in &scanned {
        let dir = std::path::Path::new(path)
            .parent()
            .unwrap_or(std::path::Path::new(""));
        for name in bulkhead_scan::COMPOSE_BASE_FILES
            .iter()
            .chain(bulkhead_scan::COMPOSE_OVERRIDE_FILES.iter())
        {
            let sibling = dir.join(name).to_string_lossy().into_owned();
            if !compose.contains(&sibling) && std::path::Path::new(&sibling).is_file() {
                compose.push(sibling);
            }
        }
    }
    let names: Vec<&str> = compose.iter().map(String::as_str).collect();
    let mut out = BTreeMap::new();
    for project in bulkhead_scan::compose_projects(&names) {
        if project.len() < 2 {
            continue;
        }
        let files: Vec<String> = project.iter().map(|&i| names[i].to_string()).collect();
        for f in &files {
            out.insert(f.clone(), files.clone());
        }
    }
    out
}

/// How the change reaches what runs. `deployed_with`: the files compose reads together with
/// `path` (the base file and its override file), `path` alone otherwise.
fn takes_effect(kind: ArtifactKind, path: &str, deployed_with: &[String]) -> String {
    match kind {
        ArtifactKind::Dockerfile => {
            "rebuild the image and recreate its containers for the change to take effect".into()
        }
        ArtifactKind::Compose => {
            // `-f` replaces compose's own choice of files: naming one file of a base and override
            // pair would deploy a model without the other (its settings, and the fix when it is
            // there).
            let files: String = deployed_with
                .iter()
                .map(|f| format!(" -f {}", crate::shell::quote(f)))
                .collect();
            format!("recreate the service (`docker compose{files} up -d`) for the change to take effect")
        }
        ArtifactKind::Kubernetes => {
            format!("apply the manifest (`kubectl apply -f {path}`) for the change to take effect")
        }
        ArtifactKind::DaemonJson => "dockerd reads daemon.json when it starts: restart it where this file is deployed for the change to take effect".into(),
    }
}

/// The review note of a daemon-icc fix that also sets `"iptables": true`.
const ICC_TURNS_IPTABLES_ON: &str = "the file disables iptables and dockerd refuses \"icc\": false without it, so the fix turns iptables back on: Docker manages the host's iptables rules again, next to your own";

/// What a reviewed fix of `rule` may break, in bulkhead's words.
fn may_break(rule: &str) -> &'static str {
    match rule {
        "dockerfile-root-final-stage" | "dockerfile-no-user" | "compose-user-root" => {
            "files the process writes at run time must be writable by uid 10001, and ports below 1024 need a capability or a higher port"
        }
        "dockerfile-healthcheck-missing" => {
            "the probe needs an nc with -z in the image (netcat-openbsd or Alpine's busybox; Debian's busybox nc has no -z); an unsuitable probe marks working containers unhealthy"
        }
        "compose-privileged" | "k8s-privileged" => {
            "devices and kernel features the workload reached through privileged mode stop working; add only the capabilities it needs"
        }
        "compose-no-new-privileges" | "k8s-privilege-escalation" | "daemon-no-new-privileges" => {
            "setuid programs (sudo, su, ping in some images) no longer gain privileges"
        }
        "compose-read-only" | "k8s-writable-root-fs" => {
            "writes outside volumes fail; mount a tmpfs (compose) or an emptyDir (Kubernetes) where the workload writes"
        }
        "k8s-host-pid" | "k8s-host-ipc" | "k8s-host-network" => {
            "agents that need the node's processes, IPC or network (monitoring, CNI, node tools) stop working"
        }
        "k8s-sa-token-automount" => {
            "a workload that calls the Kubernetes API needs its token mounted explicitly (a projected volume)"
        }
        "daemon-icc" => {
            "containers on the default bridge reach each other only through published ports or user-defined networks"
        }
        "daemon-userland-proxy" => {
            "published ports on the loopback address rely on hairpin NAT in the kernel instead of docker-proxy"
        }
        "daemon-iptables" => "Docker manages the host's iptables rules again, next to your own",
        "daemon-experimental" => "experimental daemon features in use stop working",
        _ => "the change alters how the artifact runs; test it before deploying",
    }
}

/// The title of a fix of `object` in the artifact at `path`. daemon.json is one object named
/// after its file: "Harden daemon.json in daemon.json" would name it twice.
fn fix_title(kind: ArtifactKind, object: &str, path: &str, safety: Safety) -> String {
    let what = match kind {
        ArtifactKind::DaemonJson => path.to_string(),
        _ => format!("{object} in {path}"),
    };
    match safety {
        Safety::Safe => format!("Safe fixes for {what}"),
        Safety::Review => format!("Harden {what}"),
    }
}

fn group_fix(
    path: &str,
    deployed_with: &[String],
    kind: ArtifactKind,
    g: &Group<'_>,
    fixed: &[(&Finding, String)],
    selector: &Selector<'_>,
    links: &[ThreatLink],
) -> Fix {
    let mut checks: Vec<String> = Vec::new();
    let mut controls: Vec<String> = Vec::new();
    let mut changes = Vec::new();
    let mut may: Vec<String> = Vec::new();
    for (f, description) in fixed {
        for c in selector.checks(f) {
            if !checks.contains(&c) {
                checks.push(c);
            }
        }
        if let Some(c) = &f.control {
            if !controls.contains(c) {
                controls.push(c.clone());
            }
        }
        changes.push(format!(
            "{} (line {}): {description}",
            f.rule, f.location.line
        ));
        if g.safety == bulkhead_scan::Safety::Review {
            // daemon-icc's fix of a file that disables iptables turns iptables back on (dockerd
            // refuses icc=false without it): what that may break is said too, and only that
            // when icc was off already.
            let notes = if f.rule == "daemon-icc" && description.contains("\"iptables\": true") {
                if description.contains("\"icc\": false") {
                    vec![may_break(&f.rule), ICC_TURNS_IPTABLES_ON]
                } else {
                    vec![ICC_TURNS_IPTABLES_ON]
                }
            } else {
                vec![may_break(&f.rule)]
            };
            for m in notes {
                if !may.iter().any(|x| x == m) {
                    may.push(m.to_string());
                }
            }
        }
    }
    checks.sort_by(|a, b| bulkhead_checks::catalog::compare_check_ids(a, b));
    selector.order_controls(&mut controls, &checks);
    let safety = match g.safety {
        bulkhead_scan::Safety::Safe => Safety::Safe,
        bulkhead_scan::Safety::Review => Safety::Review,
    };
    let fk = fix_kind(kind);
    Fix {
        id: format!("{}:{path}#{}", fk.as_str(), g.object),
        title: fix_title(kind, &g.object, path, safety),
        checks,
        threats: crate::planner::threats_for(&controls, links),
        controls,
        target: Target::new(target_kind(kind), g.object.clone(), Some(path.to_string())),
        kind: fk,
        safety,
        changes,
        may_break: may,
        notes: vec![
            takes_effect(kind, path, deployed_with),
            format!("found by `bulkhead scan {path}`; scan again (or harden --apply --verify) to see the findings gone"),
        ],
        action: Action::default(),
        restart: None,
        findings: fixed
            .iter()
            .map(|(f, description)| FixedFinding {
                rule: f.rule.clone(),
                path: f.location.path.clone(),
                line: f.location.line,
                object: f.object.clone(),
                description: description.clone(),
            })
            .collect(),
    }
}

/// `--select` and `--threat` for findings, and the check IDs a finding carries in the plan's
/// numbering.
struct Selector<'a> {
    tokens: Vec<String>,
    threat_controls: Option<BTreeSet<String>>,
    numbering: &'a [(String, String)],
}

impl<'a> Selector<'a> {
    fn new(request: &'a ScanRequest, links: &[ThreatLink]) -> Result<Selector<'a>, String> {
        let tokens: Vec<String> = request
            .select
            .iter()
            .flat_map(|s| s.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let s = Selector {
            tokens,
            threat_controls: crate::planner::controls_of_threats(&request.threats, links)?,
            numbering: &request.numbering,
        };
        let catalog = bulkhead_checks::catalog();
        let pairs: Vec<(&Benchmark, &str)> =
            catalog.benchmarks().map(|b| (b, s.edition(b))).collect();
        let unknown: Vec<&String> = s
            .tokens
            .iter()
            .filter(|t| bulkhead_scan::catalog::lookup(t).is_none())
            .filter(|t| {
                !Selection::new(vec![(*t).clone()], Vec::new())
                    .unknown_tokens(&pairs)
                    .is_empty()
            })
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "--select: {} names no check, section, control or scan rule (see `bulkhead checks list` and `bulkhead scan --list-rules`)",
                unknown.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(s)
    }

    /// The edition check IDs are shown in for benchmark `b`.
    fn edition(&self, b: &'a Benchmark) -> &'a str {
        self.numbering
            .iter()
            .find(|(id, _)| *id == b.id)
            .map(|(_, e)| e.as_str())
            .filter(|e| b.has_edition(e))
            .unwrap_or_else(|| b.default_edition())
    }

    /// The controls a finding's references name: its own control, and the checks of other
    /// benchmarks it corresponds to (a Kubernetes rule's CIS Docker twin).
    fn controls(&self, f: &Finding) -> Vec<(&'static Control, &'static Benchmark)> {
        let catalog = bulkhead_checks::catalog();
        let mut out: Vec<(&'static Control, &'static Benchmark)> = Vec::new();
        let mut push = |c: &'static Control, b: &'static Benchmark| {
            if !out.iter().any(|(x, _)| x.id == c.id) {
                out.push((c, b));
            }
        };
        if let Some(c) = f.control.as_deref().and_then(|c| catalog.control(c)) {
            if let Some(b) = catalog.benchmark(&c.benchmark) {
                push(c, b);
            }
        }
        for (key, id) in &f.benchmark_refs {
            for b in catalog.benchmarks() {
                let Some(edition) = key.strip_prefix(&format!("{}-", b.id)) else {
                    continue;
                };
                if !b.has_edition(edition) {
                    continue;
                }
                if let Some(c) = b.controls.iter().find(|c| c.id_in(edition) == Some(id)) {
                    push(c, b);
                }
            }
        }
        out
    }

    /// Put `controls` in the order of their check IDs in `checks` (sorted), those without one
    /// there last (stable): a fix's `closes: 2.3, 2.15 (log level, live restore)` then reads
    /// pairwise, as a host fix's does. (A Kubernetes rule's CIS Docker twin is a check with no
    /// control in the list, so the two lists can differ in length.)
    fn order_controls(&self, controls: &mut [String], checks: &[String]) {
        let catalog = bulkhead_checks::catalog();
        let at = |c: &String| {
            catalog
                .control(c)
                .and_then(|c| {
                    let b = catalog.benchmark(&c.benchmark)?;
                    c.id_in(self.edition(b))
                })
                .and_then(|id| checks.iter().position(|x| x == id))
                .unwrap_or(usize::MAX)
        };
        controls.sort_by_key(at);
    }

    /// The finding's check IDs in the plan's numbering.
    fn checks(&self, f: &Finding) -> Vec<String> {
        self.controls(f)
            .into_iter()
            .filter_map(|(c, b)| c.id_in(self.edition(b)).map(String::from))
            .collect()
    }

    fn selected(&self, f: &Finding) -> bool {
        if let Some(tc) = &self.threat_controls {
            if !f.control.as_ref().is_some_and(|c| tc.contains(c)) {
                return false;
            }
        }
        if self.tokens.is_empty() {
            return true;
        }
        let rule = bulkhead_scan::catalog::rule(&f.rule);
        let controls = self.controls(f);
        self.tokens.iter().any(|t| {
            rule.is_some_and(|r| r.is_named(t))
                || controls.iter().any(|(c, b)| {
                    Selection::new(vec![t.clone()], Vec::new()).includes(c, b, self.edition(b))
                })
        })
    }

    /// An unfixed entry for a finding.
    fn unfixed(&self, f: &Finding, reason: String) -> Unfixed {
        Unfixed {
            check: self
                .checks(f)
                .into_iter()
                .next()
                .unwrap_or_else(|| f.rule.clone()),
            control: f.control.clone().unwrap_or_default(),
            object: Some(format!(
                "{}:{} {}",
                f.location.path, f.location.line, f.object
            )),
            reason,
            rule: Some(f.rule.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `\n` not preceded by `\r`, with the text before it.
    fn bare_lf(text: &str) -> Option<String> {
        let b = text.as_bytes();
        (0..b.len())
            .find(|&i| b[i] == b'\n' && (i == 0 || b[i - 1] != b'\r'))
            .map(|i| format!("{:?}", &text[i.saturating_sub(40)..i + 1]))
    }

    /// Artifacts saved by a Windows editor (CRLF line ends, some with a byte order mark) are
    /// fixed in their own style: each fix of the chain writes CRLF lines only, and the mark stays
    /// where there was one and appears nowhere else.
    #[test]
    fn crlf_artifacts_are_fixed_with_crlf_lines_and_keep_their_byte_order_mark() {
        let dir =
            std::env::temp_dir().join(format!("bulkhead-harden-scan-crlf-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let files = [
            ("Dockerfile", false, "FROM debian:12.5\nADD app.conf /etc/app.conf\nRUN apt-get install -y curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*\nEXPOSE 8080\nCMD [\"app\"]\n"),
            ("compose.yaml", true, "# shop\nservices:\n  web:\n    image: shop:1.4   # pinned\n    privileged: true\n    ports:\n      - \"127.0.0.1:8080:8080\"\n"),
            ("web.yaml", true, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: shop:1.4\n"),
            ("daemon.json", false, "{\n  \"icc\": true,\n  \"log-driver\": \"journald\"\n}\n"),
        ];
        for (name, bom, text) in files {
            let bom = if bom { "\u{feff}" } else { "" };
            std::fs::write(
                dir.join(name),
                format!("{bom}{}", text.replace('\n', "\r\n")),
            )
            .unwrap();
        }
        let planned = plan(&ScanRequest {
            paths: vec![dir.clone()],
            ..Default::default()
        });
        let _ = std::fs::remove_dir_all(&dir);
        let planned = planned.unwrap();
        for (name, bom, _) in files {
            let edits: Vec<&FileEdit> = planned
                .fixes
                .iter()
                .flat_map(|f| &f.action.edits)
                .filter(|e| e.path.ends_with(&format!("/{name}")))
                .collect();
            assert!(!edits.is_empty(), "{name}: no fix planned");
            for e in edits {
                assert_eq!(bare_lf(&e.after), None, "{name}: bare LF in\n{}", e.after);
                assert_eq!(
                    e.after.starts_with('\u{feff}'),
                    bom,
                    "{name}: byte order mark"
                );
                assert_eq!(
                    e.after.matches('\u{feff}').count(),
                    usize::from(bom),
                    "{name}"
                );
            }
        }
    }

    /// The last guard before a manifest is written: an edit that leaves a container with
    /// `allowPrivilegeEscalation: false` beside `privileged: true` or an added `CAP_SYS_ADMIN`
    /// (which the API server refuses) is rejected, one that only keeps such a container as it
    /// was is not, and `SYS_ADMIN` without the prefix is no reason.
    #[test]
    fn manifests_the_api_server_refuses_are_rejected() {
        let pod = |a: &str, b: &str| {
            format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: x:1\n      securityContext: {a}\n    - name: b\n      image: x:1\n      securityContext: {b}\n")
        };
        let before = pod("{privileged: true}", "{capabilities: {add: [SYS_ADMIN]}}");
        let refused = pod(
            "{privileged: true, allowPrivilegeEscalation: false}",
            "{capabilities: {add: [SYS_ADMIN]}}",
        );
        let why = api_server_rejects(&before, &refused).expect("refused");
        assert!(
            why.contains("Pod/p container a") && why.contains("privileged: true"),
            "{why}"
        );
        let admitted = pod(
            "{privileged: false, allowPrivilegeEscalation: false}",
            "{capabilities: {add: [SYS_ADMIN]}, allowPrivilegeEscalation: false}",
        );
        assert_eq!(api_server_rejects(&before, &admitted), None);
        let sys_admin = pod(
            "{privileged: true}",
            "{capabilities: {add: [CAP_SYS_ADMIN]}, allowPrivilegeEscalation: false}",
        );
        assert!(api_server_rejects(&before, &sys_admin)
            .is_some_and(|w| w.contains("container b") && w.contains("CAP_SYS_ADMIN")));
        // Already refused before the edit: not this edit's doing.
        assert_eq!(api_server_rejects(&refused, &refused), None);
    }
}
