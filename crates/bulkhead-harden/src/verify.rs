//! Verify: audit again and compare. For each selected check the status before and after, and
//! every threat whose status changed. The "before" side is the audit taken when the plan was
//! made (kept in the state directory by `harden --apply`), so `bulkhead verify` can run later,
//! after a restart, in another process.
//!
//! Scan fixes (`harden --scan`) are verified by scanning the same paths again: each finding a
//! fix named is looked up by artifact (its real path), rule and object; gone is `pass`, still
//! reported is `fail`.

use bulkhead_checks::{Audit, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const BASELINE_SCHEMA: &str = "bulkhead.harden-baseline/1";

/// One check's status as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStatus {
    pub benchmark: String,
    pub check: String,
    pub control: String,
    pub title: String,
    pub status: Status,
    /// The containers (`container web`) the check did not pass on. verify needs them to tell a
    /// fixed container from one that is simply not there to audit any more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_passing: Vec<String>,
}

/// What verify compares against: the audit before hardening, the checks the user selected (or
/// the plan fixed), and the threat statuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub schema: String,
    pub numbering: Vec<(String, String)>,
    /// Control IDs to show.
    pub selected: Vec<String>,
    pub checks: Vec<CheckStatus>,
    /// Threat ID -> (title, status).
    pub threats: BTreeMap<String, (String, String)>,
    /// Whether the host was audited (false for `harden --scan` alone: verify then only scans).
    #[serde(default = "audited_by_default")]
    pub audited: bool,
    /// What `--scan` fixed, to scan again.
    #[serde(default)]
    pub scan: Option<ScanBaseline>,
}

fn audited_by_default() -> bool {
    true
}

/// The scan side of a baseline: what to scan again and the findings the applied fixes named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanBaseline {
    /// The `--scan` paths, absolute.
    pub inputs: Vec<PathBuf>,
    /// `--target` (the Dockerfile stage judged as the one that ships).
    pub target: Option<String>,
    /// `--kind` (how YAML/JSON files no name identifies are read).
    pub kind: Option<bulkhead_scan::ArtifactKind>,
    /// The scan configuration file used, absolute.
    pub config: Option<PathBuf>,
    pub findings: Vec<FindingStatus>,
}

/// A finding as the scan before hardening reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingStatus {
    pub rule: String,
    pub title: String,
    /// As the scan named the artifact.
    pub path: String,
    /// Where the artifact is (links resolved): what the next scan's findings are matched on.
    pub real_path: PathBuf,
    pub line: u32,
    pub object: String,
}

impl Baseline {
    pub fn new(
        audits: &[Audit],
        selected: Vec<String>,
        threats: BTreeMap<String, (String, String)>,
    ) -> Baseline {
        Baseline {
            schema: BASELINE_SCHEMA.into(),
            numbering: audits
                .iter()
                .map(|a| (a.benchmark.id.clone(), a.edition.clone()))
                .collect(),
            selected,
            checks: statuses(audits),
            threats,
            audited: true,
            scan: None,
        }
    }

    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("baseline.json")
    }

    /// Write the baseline to `state_dir` as the journals are written: the state directory made
    /// (0700) or refused when someone else could have put anything in it, then the file written
    /// atomically through a temporary file created exclusively (O_EXCL: never through a link
    /// planted at its name) and removed on any error, mode 0600 whatever the umask, owned by the
    /// user running bulkhead, with no ACL inherited from the directory: it records the host's
    /// audit state.
    pub fn save(&self, state_dir: &Path) -> Result<PathBuf, String> {
        use crate::apply::{prepare_state_dir, remove_stale_temporaries, write_atomic, Xattrs};
        prepare_state_dir(state_dir)?;
        let p = Self::path(state_dir);
        let text = serde_json::to_string_pretty(self).expect("baseline serializes");
        let attrs = crate::model::FileAttrs {
            mode: 0o600,
            uid: 0,
            gid: 0,
        }
        .with_owner_of_process();
        write_atomic(&p, text.as_bytes(), attrs, "baseline", Xattrs::Private)?;
        // Temporary files a killed run left (saving happens under the harden lock, so none is
        // being written), and the one earlier versions wrote, which kept the audit state
        // readable by all (mode 0644) when a write failed.
        remove_stale_temporaries(&p);
        let _ = std::fs::remove_file(state_dir.join(".baseline.json.tmp"));
        Ok(p)
    }

    pub fn load(state_dir: &Path) -> Result<Baseline, String> {
        let p = Self::path(state_dir);
        let text = std::fs::read_to_string(&p).map_err(|e| {
            format!(
                "cannot read {} ({e}): run `bulkhead harden --apply` first; it records the audit to compare against",
                p.display()
            )
        })?;
        let b: Baseline =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        if b.schema != BASELINE_SCHEMA {
            return Err(format!("{}: unknown schema {}", p.display(), b.schema));
        }
        Ok(b)
    }
}

pub fn statuses(audits: &[Audit]) -> Vec<CheckStatus> {
    audits
        .iter()
        .flat_map(|a| {
            a.outcomes.iter().map(move |o| CheckStatus {
                benchmark: a.benchmark.id.clone(),
                check: o.check_id.clone(),
                control: o.control.id.clone(),
                title: o.control.title.clone(),
                status: o.result.status,
                not_passing: o
                    .result
                    .objects
                    .iter()
                    // Containers only: they are what a fix recreates, and what then may not
                    // be there; other objects are renamed by a restart (`dockerd (pid N)`).
                    .filter(|x| x.kind == "container")
                    .filter(|x| matches!(x.status, Status::Fail | Status::Warn | Status::Error))
                    .map(object_key)
                    .collect(),
            })
        })
        .collect()
}

/// How an object is recognised across two audits: by kind and name (a recreated container
/// keeps its name, not its ID).
fn object_key(o: &bulkhead_checks::ObjectResult) -> String {
    format!("{} {}", o.kind, o.name)
}

/// One selected check before and after. Serialized with its [`Verdict`] as `verdict`, so a
/// pipeline reads what became of it as the text and the exit code decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckChange {
    pub check: String,
    pub control: String,
    pub title: String,
    pub before: Status,
    pub after: Option<Status>,
    /// Objects the check did not pass on before that the new audit does not show at all (a
    /// recreated container that is not running, or was never started): their fix is not
    /// proven, whatever the check's status says.
    pub gone: Vec<String>,
    /// Containers the check did not pass on before that it passes on now: what a fix applied
    /// one container at a time has achieved so far.
    pub fixed: Vec<String>,
    /// Containers the check does not pass on now (failing, warning or in error), whether they
    /// did before or are new to it: what is left to fix.
    pub not_passing: Vec<String>,
    /// Why a check that failed is a warn now rather than a pass (a file newer than the process
    /// that reads it: restart it), or the note of the one object it still fails on (such as a
    /// setting daemon.json asks for that dockerd has not loaded), from the new audit.
    pub reason: Option<String>,
}

/// What became of one selected check, decided once for the text, the JSON and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It did not pass before and passes now on every object it failed on.
    Fixed,
    /// It failed before and fails now.
    StillFailing,
    /// It failed before and only warns now: the fix is written but the process that reads it
    /// has not restarted, so the audit cannot see it take effect.
    NotProvenYet,
    /// It failed before and warns now for another reason: a person must judge what is left
    /// (such as logs sent to the local journal: are they forwarded?). Not held against the exit
    /// code, as no restart or fix of bulkhead's settles it.
    WarnsNow,
    /// Objects it failed on are no longer there to audit, or it could not be evaluated now.
    NotProven,
    /// It failed before and no longer applies (not applicable, info or manual now).
    NoLongerApplies,
    /// It did not fail before and fails now: hardening broke it (or something else changed).
    Regressed,
    /// Nothing to say: it passed before, or did not fail and still does not pass.
    Unchanged,
}

impl CheckChange {
    pub fn verdict(&self) -> Verdict {
        // A pass (or nothing left to check) over the containers that are left says nothing
        // about those that went away.
        let gone = self.before != Status::Pass && !self.gone.is_empty();
        match (self.before, self.after) {
            (b, Some(Status::Pass)) if b != Status::Pass && !gone => Verdict::Fixed,
            // A setting written (daemon.json, etcd's environment file) that the running
            // process has not loaded: not in force yet, so neither proven nor failing.
            (Status::Fail, Some(Status::Fail | Status::Warn))
                if self
                    .reason
                    .as_deref()
                    .is_some_and(bulkhead_checks::is_pending_setting_note) =>
            {
                Verdict::NotProvenYet
            }
            (Status::Fail, Some(Status::Fail)) => Verdict::StillFailing,
            (Status::Fail, Some(Status::Warn)) => Verdict::WarnsNow,
            _ if gone => Verdict::NotProven,
            (Status::Fail, Some(Status::Error) | None) => Verdict::NotProven,
            (Status::Fail, Some(_)) => Verdict::NoLongerApplies,
            (_, Some(Status::Fail)) => Verdict::Regressed,
            _ => Verdict::Unchanged,
        }
    }
}

impl Serialize for CheckChange {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// The fields as written, plus the verdict they add up to.
        #[derive(Serialize)]
        struct Written<'a> {
            check: &'a str,
            control: &'a str,
            title: &'a str,
            before: Status,
            after: Option<Status>,
            verdict: Verdict,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            gone: &'a [String],
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            fixed: &'a [String],
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            not_passing: &'a [String],
            #[serde(skip_serializing_if = "Option::is_none")]
            reason: Option<&'a str>,
        }
        Written {
            check: &self.check,
            control: &self.control,
            title: &self.title,
            before: self.before,
            after: self.after,
            verdict: self.verdict(),
            gone: &self.gone,
            fixed: &self.fixed,
            not_passing: &self.not_passing,
            reason: self.reason.as_deref(),
        }
        .serialize(serializer)
    }
}

/// One threat whose status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreatChange {
    pub id: String,
    pub title: String,
    pub before: String,
    pub after: String,
}

/// One finding a scan fix named, before and after scanning again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    pub rule: String,
    pub title: String,
    pub path: String,
    /// Its line before the fix.
    pub line: u32,
    pub object: String,
    /// `fail`: the scan before hardening reported it.
    pub before: Status,
    /// `pass` when the new scan no longer reports it, `fail` when it still does, `error` when
    /// the artifact could not be scanned.
    pub after: Status,
    /// Why the artifact could not be scanned, with the place (`error` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Serialized as `checks`, `summary` ([`Verification::summary`]), `threats` and `findings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub checks: Vec<CheckChange>,
    pub threats: Vec<ThreatChange>,
    /// Scan findings the applied fixes named, scanned again (empty without `--scan`).
    pub findings: Vec<FindingChange>,
    /// Whether the host was audited again (false when only artifacts were fixed).
    pub audited: bool,
}

impl Serialize for Verification {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Written<'a> {
            checks: &'a [CheckChange],
            summary: VerifySummary,
            threats: &'a [ThreatChange],
            findings: &'a [FindingChange],
        }
        Written {
            checks: &self.checks,
            summary: self.summary(),
            threats: &self.threats,
            findings: &self.findings,
        }
        .serialize(serializer)
    }
}

/// What became of the selected checks that failed before hardening, counted by verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerifySummary {
    /// Selected checks that failed before hardening.
    pub failed: usize,
    /// Of those, passing now or no longer applying.
    pub fixed: usize,
    pub still_failing: usize,
    pub not_proven_yet: usize,
    pub not_proven: usize,
    /// Of those, warning now for a reason a person must judge (not held against the exit code).
    pub warns_now: usize,
    /// Selected checks that did not fail before and fail now.
    pub regressed: usize,
}

impl Verification {
    /// The checks that failed before, counted by what became of them.
    pub fn summary(&self) -> VerifySummary {
        let failed: Vec<Verdict> = self
            .checks
            .iter()
            .filter(|c| c.before == Status::Fail)
            .map(CheckChange::verdict)
            .collect();
        let count = |want: &[Verdict]| failed.iter().filter(|v| want.contains(v)).count();
        VerifySummary {
            failed: failed.len(),
            fixed: count(&[Verdict::Fixed, Verdict::NoLongerApplies]),
            still_failing: count(&[Verdict::StillFailing]),
            not_proven_yet: count(&[Verdict::NotProvenYet]),
            not_proven: count(&[Verdict::NotProven]),
            warns_now: count(&[Verdict::WarnsNow]),
            regressed: self
                .checks
                .iter()
                .filter(|c| c.verdict() == Verdict::Regressed)
                .count(),
        }
    }

    /// Selected checks that failed before hardening and are not shown fixed now: they still
    /// fail or could not be evaluated, they only warn (the fix is written but the process that
    /// reads it has not restarted: not proven yet), or their failing objects are no longer
    /// there to audit ([`CheckChange::gone`]); and those that did not fail before and fail
    /// now. Any of them makes verify exit 1.
    pub fn not_fixed(&self) -> Vec<&CheckChange> {
        self.checks
            .iter()
            .filter(|c| {
                (c.before == Status::Fail
                    && !matches!(
                        c.verdict(),
                        Verdict::Fixed | Verdict::NoLongerApplies | Verdict::WarnsNow
                    ))
                    || c.verdict() == Verdict::Regressed
            })
            .collect()
    }

    /// Findings a fix named that the new scan still reports (or could not look at).
    pub fn findings_left(&self) -> Vec<&FindingChange> {
        self.findings
            .iter()
            .filter(|f| f.after != Status::Pass)
            .collect()
    }
}

/// The findings of `baseline` against a new scan of its inputs, matched by the artifact's real
/// path (a relative path the new scan reports is taken from the current directory), rule and
/// object: line numbers move when a fix adds lines.
pub fn compare_scan(
    baseline: &ScanBaseline,
    after: &bulkhead_scan::ScanReport,
) -> Vec<FindingChange> {
    let real_of = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| PathBuf::from(p));
    let reported: Vec<(PathBuf, &bulkhead_scan::Finding)> = after
        .findings
        .iter()
        .map(|f| (real_of(&f.location.path), f))
        .collect();
    let failed: Vec<(PathBuf, &bulkhead_scan::FileError)> =
        after.errors.iter().map(|e| (real_of(&e.path), e)).collect();
    let mut used: Vec<usize> = Vec::new();
    baseline
        .findings
        .iter()
        .map(|b| {
            let hit = reported.iter().enumerate().position(|(i, (real, f))| {
                !used.contains(&i)
                    && *real == b.real_path
                    && f.rule == b.rule
                    && f.object == b.object
            });
            let error = failed.iter().find(|(real, _)| *real == b.real_path);
            let (after, reason) = match (hit, error) {
                (Some(i), _) => {
                    used.push(i);
                    (Status::Fail, None)
                }
                (None, Some((_, e))) => (Status::Error, Some(e.to_string())),
                (None, None) => (Status::Pass, None),
            };
            FindingChange {
                rule: b.rule.clone(),
                title: b.title.clone(),
                path: b.path.clone(),
                line: b.line,
                object: b.object.clone(),
                before: Status::Fail,
                after,
                reason,
            }
        })
        .collect()
}

/// Compare the baseline with a new audit (and new threat statuses).
pub fn compare(
    baseline: &Baseline,
    after: &[Audit],
    threats_after: &BTreeMap<String, (String, String)>,
) -> Verification {
    let now = statuses(after);
    let checks = baseline
        .checks
        .iter()
        .filter(|c| baseline.selected.is_empty() || baseline.selected.contains(&c.control))
        .map(|c| {
            let found = now.iter().find(|n| n.control == c.control);
            let audited_now: Vec<String> = after
                .iter()
                .flat_map(|a| a.outcomes.iter())
                .filter(|o| o.control.id == c.control)
                .flat_map(|o| o.result.objects.iter().map(object_key))
                .collect();
            let not_passing: Vec<String> = found.map(|n| n.not_passing.clone()).unwrap_or_default();
            // A check the new audit did not run says nothing about its objects.
            let (gone, fixed) = match found {
                Some(_) => c
                    .not_passing
                    .iter()
                    .filter(|k| !not_passing.contains(k))
                    .cloned()
                    .partition(|k| !audited_now.contains(k)),
                None => (Vec::new(), Vec::new()),
            };
            // What keeps a check that failed from passing now: the note of the object it only
            // warns on (a file newer than the process reading it), or, when it still fails on
            // its one object, that object's note (such as a daemon.json setting dockerd has
            // not loaded).
            let objects_now = || {
                after
                    .iter()
                    .flat_map(|a| a.outcomes.iter())
                    .filter(|o| o.control.id == c.control)
                    .flat_map(|o| o.result.objects.iter())
            };
            let reason = match (c.status, found.map(|n| n.status)) {
                // A note saying a restart settles it comes first: any one such object keeps
                // the check from being proven until the restart.
                (Status::Fail, Some(Status::Warn)) => {
                    let notes = || {
                        objects_now()
                            .filter(|x| x.status == Status::Warn)
                            .filter_map(|x| x.note.clone())
                    };
                    notes()
                        .find(|n| bulkhead_checks::is_pending_setting_note(n))
                        .or_else(|| notes().next())
                }
                // Every object it still fails on has a setting written that the running
                // process has not loaded (daemon.json, etcd's environment file): the note that
                // names the reload or restart, so that the check is not proven yet rather
                // than still failing.
                (Status::Fail, Some(Status::Fail))
                    if {
                        let mut failing = objects_now()
                            .filter(|x| x.status == Status::Fail)
                            .peekable();
                        failing.peek().is_some()
                            && failing.all(|x| {
                                x.note
                                    .as_deref()
                                    .is_some_and(bulkhead_checks::is_pending_setting_note)
                            })
                    } =>
                {
                    objects_now()
                        .filter(|x| x.status == Status::Fail)
                        .find_map(|x| x.note.clone())
                }
                (Status::Fail, Some(Status::Fail)) if objects_now().count() == 1 => {
                    objects_now().next().and_then(|x| x.note.clone())
                }
                _ => None,
            };
            CheckChange {
                // The new audit is in the numbering verify was asked for (`--ids`); the
                // baseline keeps the one harden used. Only a check the new audit lacks keeps
                // the baseline's number.
                check: found.map_or_else(|| c.check.clone(), |n| n.check.clone()),
                control: c.control.clone(),
                title: c.title.clone(),
                before: c.status,
                after: found.map(|n| n.status),
                gone,
                fixed,
                not_passing,
                reason,
            }
        })
        .collect();
    let threats = threats_after
        .iter()
        .filter_map(|(id, (title, after))| {
            let before = baseline
                .threats
                .get(id)
                .map(|(_, s)| s.as_str())
                .unwrap_or("absent");
            (before != after).then(|| ThreatChange {
                id: id.clone(),
                title: title.clone(),
                before: before.to_string(),
                after: after.clone(),
            })
        })
        .collect();
    Verification {
        checks,
        threats,
        findings: Vec::new(),
        audited: baseline.audited,
    }
}

/// The verification as terminal text.
pub fn text(v: &Verification) -> String {
    let mut out = String::new();
    if v.audited {
        out.push_str(&audit_text(v));
    }
    if !v.findings.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&scan_text(&v.findings));
    }
    out
}

fn scan_text(findings: &[FindingChange]) -> String {
    let mut out = String::from("Verification: the artifacts scanned again\n\n");
    let place = |f: &FindingChange| format!("{}:{}", f.path, f.line);
    let w = findings
        .iter()
        .map(|f| place(f).len())
        .max()
        .unwrap_or(0)
        .max(8);
    let r = findings
        .iter()
        .map(|f| f.rule.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let verdict = |f: &FindingChange| match f.after {
        Status::Pass => "fixed",
        Status::Fail => "still reported",
        _ => "could not be scanned",
    };
    // The verdict has a column of its own, before the object, so that it never reads as part
    // of the object's name.
    let v = findings
        .iter()
        .map(|f| verdict(f).len())
        .max()
        .unwrap_or(0)
        .max("verdict".len());
    out.push_str(&format!(
        "  {:w$}  {:r$}  {:<7} {:<7} {:v$}  {}\n",
        "artifact", "rule", "before", "after", "verdict", "object"
    ));
    for f in findings {
        out.push_str(&format!(
            "  {:w$}  {:r$}  {:<7} {:<7} {:v$}  {}\n",
            place(f),
            f.rule,
            f.before.as_str(),
            f.after.as_str(),
            verdict(f),
            f.object
        ));
        match (f.after, &f.reason) {
            (Status::Pass | Status::Fail, _) | (_, None) => {}
            (_, Some(why)) => out.push_str(&format!("{}note: {why}\n", " ".repeat(w + 4))),
        }
    }
    let left = findings.iter().filter(|f| f.after != Status::Pass).count();
    out.push_str(&format!(
        "\n{} of {} finding{} fixed.\n",
        findings.len() - left,
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    ));
    out
}

/// The words the text shows for a check's verdict, in a column of its own.
fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Fixed => "fixed",
        Verdict::StillFailing => "still failing",
        // Not failing any more, not passing either (e.g. daemon.json fixed but dockerd not yet
        // restarted): the audit's note says what is missing.
        Verdict::NotProvenYet => "not proven yet",
        Verdict::NotProven => "not proven",
        Verdict::NoLongerApplies => "no longer applies",
        Verdict::WarnsNow => "warns now",
        Verdict::Regressed => "now failing",
        Verdict::Unchanged => "unchanged",
    }
}

fn audit_text(v: &Verification) -> String {
    let mut out = String::from("Verification: audited again\n\n");
    let w = v
        .checks
        .iter()
        .map(|c| c.check.len())
        .max()
        .unwrap_or(5)
        .max(5);
    // The verdict has a column of its own, before the title, so that it never reads as part
    // of the title; what explains it goes on the lines under the row.
    let vw = v
        .checks
        .iter()
        .map(|c| verdict_label(c.verdict()).len())
        .max()
        .unwrap_or(0)
        .max("verdict".len());
    out.push_str(&format!(
        "  {:w$}  {:<14}  {:<14}  {:vw$}  {}\n",
        "check", "before", "after", "verdict", "title"
    ));
    let indent = " ".repeat(w + 4);
    for c in &v.checks {
        let after = c.after.map(|s| s.as_str()).unwrap_or("not evaluated");
        let verdict = c.verdict();
        out.push_str(&format!(
            "  {:w$}  {:<14}  {:<14}  {:vw$}  {}\n",
            c.check,
            c.before.as_str(),
            after,
            verdict_label(verdict),
            c.title
        ));
        if verdict == Verdict::NotProven && !c.gone.is_empty() {
            out.push_str(&format!("{indent}no longer audited: {}\n", listed(&c.gone)));
        } else if let Some(why) = &c.reason {
            out.push_str(&format!("{indent}note: {why}\n"));
        } else if matches!(
            verdict,
            Verdict::NotProvenYet | Verdict::NotProven | Verdict::WarnsNow
        ) {
            out.push_str(&format!("{indent}note: see `bulkhead audit`\n"));
        }
        // Which containers a check that did not pass has been fixed on, and which are left:
        // containers are recreated one at a time, and a check stays failing until the last.
        if c.before != Status::Pass {
            for (label, keys) in [("fixed on", &c.fixed), ("not passing on", &c.not_passing)] {
                if !keys.is_empty() {
                    out.push_str(&format!("{indent}{label}: {}\n", listed(keys)));
                }
            }
        }
    }
    out.push_str(&checks_summary(v));
    if v.threats.is_empty() {
        out.push_str("\nNo threat changed status.\n");
    } else {
        out.push_str("\nThreats whose status changed:\n");
        for t in &v.threats {
            out.push_str(&format!(
                "  {}  {} -> {}  {}\n",
                t.id, t.before, t.after, t.title
            ));
        }
    }
    out
}

/// One line under the checks: how many of those that failed are fixed, and what keeps the
/// others from counting (the reason verify exits 1).
fn checks_summary(v: &Verification) -> String {
    let counts = v.summary();
    let regressed = match counts.regressed {
        0 => String::new(),
        1 => "\n1 check that did not fail before fails now.\n".to_string(),
        n => format!("\n{n} checks that did not fail before fail now.\n"),
    };
    if counts.failed == 0 {
        return format!("\nNone of these checks failed before hardening.\n{regressed}");
    }
    let mut line = format!(
        "\n{} of {} check{} that failed {} fixed",
        counts.fixed,
        counts.failed,
        if counts.failed == 1 { "" } else { "s" },
        if counts.fixed == 1 || counts.failed == 1 {
            "is"
        } else {
            "are"
        }
    );
    let left = [
        (counts.still_failing, "still failing"),
        (
            counts.not_proven_yet,
            "not proven yet (restart what each note names, then verify again)",
        ),
        (counts.not_proven, "not proven"),
        (
            counts.warns_now,
            "warning now (what a person must judge is in its note)",
        ),
    ];
    let left: Vec<String> = left
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if !left.is_empty() {
        line.push_str(": ");
        line.push_str(&left.join(", "));
    }
    line.push_str(".\n");
    line.push_str(regressed.trim_start_matches('\n'));
    line
}

/// Object keys for one line: the first few, then how many more.
fn listed(keys: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut text = keys
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > SHOWN {
        text.push_str(&format!(
            " and {} more (`--format json` lists them all)",
            keys.len() - SHOWN
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The write-up host's snapshot (bulkhead-threats' fixture).
    fn writeup() -> bulkhead_facts::Snapshot {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../bulkhead-threats/tests/fixtures/writeup.snapshot.json"
        );
        bulkhead_facts::Snapshot::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// A check `before` and `after`, with no objects and no reason.
    fn change(check: &str, before: Status, after: Status) -> CheckChange {
        CheckChange {
            check: check.into(),
            control: format!("docker.{check}"),
            title: format!("title {check}"),
            before,
            after: Some(after),
            gone: vec![],
            fixed: vec![],
            not_passing: vec![],
            reason: None,
        }
    }

    /// The cells of check `id`'s row in the text (columns are at least two spaces apart; a
    /// cell has single spaces at most): check, before, after, verdict, title.
    fn cells(text: &str, id: &str) -> Vec<String> {
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no row {id} in {text}"));
        row.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    }

    /// The verdict cell of check `id`'s row.
    fn verdict_of(text: &str, id: &str) -> String {
        cells(text, id)[3].clone()
    }

    /// The lines under check `id`'s row (its note, the containers), trimmed.
    fn details(text: &str, id: &str) -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.trim_start().starts_with(&format!("{id} ")))
            .skip(1)
            .take_while(|l| l.starts_with("         ") && !l.trim().is_empty())
            .map(|l| l.trim().to_string())
            .collect()
    }

    /// The audit's note on a warn that a restart settles (a file newer than its process).
    const PENDING: &str = "/etc/docker/daemon.json changed at 10:05, after dockerd started at \
                           10:00: the running daemon may not have loaded this setting; restart it";

    /// Each row says what became of a check: fixed, still failing, not proven yet (a restart
    /// settles it), or warning for what a person must judge.
    #[test]
    fn each_check_row_says_what_became_of_it() {
        let mut restarted_later = change("2.13", Status::Fail, Status::Warn);
        restarted_later.reason = Some(PENDING.into());
        let mut to_judge = change("2.12", Status::Fail, Status::Warn);
        to_judge.reason = Some("logs go to the local journal: confirm it is forwarded".into());
        let v = Verification {
            checks: vec![
                restarted_later,
                to_judge,
                change("2.14", Status::Fail, Status::Warn),
                change("2.15", Status::Fail, Status::Pass),
                change("2.16", Status::Fail, Status::Fail),
            ],
            threats: vec![],
            findings: vec![],
            audited: true,
        };
        let text = text(&v);
        // The verdict is a column of its own, before the title; what explains it is the line
        // under the row, never words after the title.
        assert!(
            text.starts_with(
                "Verification: audited again\n\n  check  before          after           verdict         title\n"
            ),
            "{text}"
        );
        assert_eq!(
            cells(&text, "2.13"),
            ["2.13", "fail", "warn", "not proven yet", "title 2.13"],
            "{text}"
        );
        assert_eq!(
            details(&text, "2.13"),
            [format!("note: {PENDING}")],
            "{text}"
        );
        assert_eq!(
            cells(&text, "2.12"),
            ["2.12", "fail", "warn", "warns now", "title 2.12"],
            "{text}"
        );
        assert_eq!(
            details(&text, "2.12"),
            ["note: logs go to the local journal: confirm it is forwarded"],
            "{text}"
        );
        assert_eq!(verdict_of(&text, "2.14"), "warns now", "{text}");
        assert_eq!(
            details(&text, "2.14"),
            ["note: see `bulkhead audit`"],
            "{text}"
        );
        assert_eq!(
            cells(&text, "2.15"),
            ["2.15", "fail", "pass", "fixed", "title 2.15"],
            "{text}"
        );
        assert!(details(&text, "2.15").is_empty(), "{text}");
        assert_eq!(
            cells(&text, "2.16"),
            ["2.16", "fail", "fail", "still failing", "title 2.16"],
            "{text}"
        );
        // The verdicts line up under their heading, and every title starts in one column.
        let col = |l: &str, needle: &str| l.find(needle).unwrap();
        let head = text.lines().nth(2).unwrap();
        for id in ["2.13", "2.12", "2.15", "2.16"] {
            let row = text
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{id} ")))
                .unwrap();
            let verdict = verdict_of(&text, id);
            assert_eq!(col(row, &verdict), col(head, "verdict"), "{text}");
            assert_eq!(
                col(row, &format!("title {id}")),
                col(head, "title"),
                "{text}"
            );
            assert!(row.ends_with(&format!("title {id}")), "{row}");
        }
        assert!(
            text.contains(
                "\n1 of 5 checks that failed is fixed: 1 still failing, 1 not proven yet \
                 (restart what each note names, then verify again), 2 warning now (what a \
                 person must judge is in its note).\n"
            ),
            "{text}"
        );
        // A fix the running process has not loaded proves nothing: it counts against the exit
        // code as a check still failing does. A warn no restart settles does not (verify would
        // exit 1 for ever on it).
        let not_fixed: Vec<&str> = v.not_fixed().iter().map(|c| c.check.as_str()).collect();
        assert_eq!(not_fixed, ["2.13", "2.16"]);
    }

    /// A finding scanned again has its verdict in a column of its own too, before the object,
    /// and why an artifact could not be scanned on the line under it.
    #[test]
    fn each_finding_row_has_its_verdict_apart_from_the_object() {
        let finding = |object: &str, after: Status, reason: Option<&str>| FindingChange {
            rule: "DF001".into(),
            title: "t".into(),
            path: "Dockerfile".into(),
            line: 3,
            object: object.into(),
            before: Status::Fail,
            after,
            reason: reason.map(String::from),
        };
        let v = Verification {
            checks: vec![],
            threats: vec![],
            findings: vec![
                finding("stage web", Status::Pass, None),
                finding("stage api", Status::Fail, None),
                finding("stage db", Status::Error, Some("Dockerfile: unreadable")),
            ],
            audited: false,
        };
        let t = text(&v);
        let rows: Vec<Vec<&str>> = t
            .lines()
            .filter(|l| l.trim_start().starts_with("Dockerfile:3"))
            .map(|l| {
                l.split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .collect();
        assert_eq!(
            rows,
            [
                [
                    "Dockerfile:3",
                    "DF001",
                    "fail",
                    "pass",
                    "fixed",
                    "stage web"
                ],
                [
                    "Dockerfile:3",
                    "DF001",
                    "fail",
                    "fail",
                    "still reported",
                    "stage api"
                ],
                [
                    "Dockerfile:3",
                    "DF001",
                    "fail",
                    "error",
                    "could not be scanned",
                    "stage db"
                ],
            ],
            "{t}"
        );
        let under_db = t
            .lines()
            .skip_while(|l| !l.ends_with("stage db"))
            .nth(1)
            .unwrap();
        assert_eq!(under_db.trim(), "note: Dockerfile: unreadable", "{t}");
        assert!(!t.contains("stage web fixed"), "{t}");
    }

    /// The JSON carries each check's verdict beside its statuses, as the text and the exit code
    /// decide it, and leaves out the empty lists.
    #[test]
    fn each_check_serializes_with_its_verdict() {
        let mut pending = change("2.14", Status::Fail, Status::Warn);
        pending.reason = Some(PENDING.into());
        let json = serde_json::to_value(vec![pending, change("2.15", Status::Fail, Status::Pass)])
            .unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"check": "2.14", "control": "docker.2.14", "title": "title 2.14",
                 "before": "fail", "after": "warn", "verdict": "not_proven_yet",
                 "reason": PENDING},
                {"check": "2.15", "control": "docker.2.15", "title": "title 2.15",
                 "before": "fail", "after": "pass", "verdict": "fixed"},
            ])
        );
        let v = Verification {
            checks: vec![
                change("2.14", Status::Fail, Status::Warn),
                change("2.15", Status::Fail, Status::Pass),
                change("2.16", Status::Pass, Status::Pass),
            ],
            threats: vec![],
            findings: vec![],
            audited: true,
        };
        assert_eq!(
            serde_json::to_value(&v).unwrap()["summary"],
            serde_json::json!({"failed": 2, "fixed": 1, "still_failing": 0,
                               "not_proven_yet": 0, "not_proven": 0, "warns_now": 1,
                               "regressed": 0})
        );
    }

    /// A selected check that passed before hardening and fails after it was broken by it (or
    /// by something else since): its row says so, the last line counts it, verify exits 1.
    #[test]
    fn a_check_that_passed_and_fails_now_is_a_regression() {
        let v = Verification {
            checks: vec![
                change("2.3", Status::Pass, Status::Fail),
                change("2.14", Status::Fail, Status::Pass),
            ],
            threats: vec![],
            findings: vec![],
            audited: true,
        };
        let not_fixed: Vec<&str> = v.not_fixed().iter().map(|c| c.check.as_str()).collect();
        assert_eq!(not_fixed, ["2.3"]);
        let text = text(&v);
        assert_eq!(verdict_of(&text, "2.3"), "now failing", "{text}");
        assert!(
            text.contains(
                "\n1 of 1 check that failed is fixed.\n1 check that did not fail before fails now.\n"
            ),
            "{text}"
        );
        assert_eq!(serde_json::to_value(&v).unwrap()["summary"]["regressed"], 1);
    }

    /// A check that failed and no longer applies (the file it judged was removed) is not held
    /// against the exit code, and its row says so rather than nothing.
    #[test]
    fn a_check_that_no_longer_applies_is_not_counted_as_failing() {
        let v = Verification {
            checks: vec![change("3.1", Status::Fail, Status::NotApplicable)],
            threats: vec![],
            findings: vec![],
            audited: true,
        };
        assert!(v.not_fixed().is_empty(), "{v:?}");
        let text = text(&v);
        assert_eq!(verdict_of(&text, "3.1"), "no longer applies", "{text}");
        assert!(
            text.contains("\n1 of 1 check that failed is fixed.\n"),
            "{text}"
        );
    }

    /// `bulkhead verify --ids cis-1.2.0` after a harden in the default numbering shows the
    /// checks under their cis-1.2.0 numbers, as its help says ("Numbering of the output").
    #[test]
    fn checks_are_shown_in_the_numbering_verify_audits_in() {
        use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
        let snapshot = writeup();
        let opts = AuditOptions::default();
        let ctx = Context::new(&snapshot, &opts);
        let audit = |edition: &str| {
            bulkhead_checks::run(catalog().docker(), edition, &ctx, &Selection::default())
        };
        let control = "docker.daemon.no_new_privileges";
        let baseline = Baseline::new(&[audit("1.6.0")], vec![control.into()], BTreeMap::new());
        assert_eq!(
            baseline
                .checks
                .iter()
                .find(|c| c.control == control)
                .unwrap()
                .check,
            "2.14"
        );
        let v = compare(&baseline, &[audit("1.2.0")], &BTreeMap::new());
        assert_eq!(v.checks.len(), 1);
        assert_eq!(v.checks[0].check, "2.17", "{:?}", v.checks);
        assert_eq!(v.checks[0].control, control);
    }

    /// A daemon.json fix the running dockerd has not loaded yet: the check went from fail to
    /// warn, and verify gives the new audit's note (the file, both times) as the reason.
    #[test]
    fn a_check_that_only_warns_now_carries_the_audits_reason() {
        use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
        let before = writeup();
        let audit = |snap: &bulkhead_facts::Snapshot| {
            let opts = AuditOptions::default();
            let ctx = Context::new(snap, &opts);
            bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default())
        };
        let control = "docker.daemon.no_new_privileges";
        let baseline = Baseline::new(&[audit(&before)], vec![control.into()], BTreeMap::new());
        let was = baseline
            .checks
            .iter()
            .find(|c| c.control == control)
            .unwrap();
        assert_eq!(was.status, Status::Fail, "{was:?}");
        let mut after = before.clone();
        let docker = after.docker.as_mut().unwrap();
        let mut config = match &docker.daemon.config {
            bulkhead_facts::Fact::Value(Some(v)) => v.clone(),
            _ => serde_json::json!({}),
        };
        config["no-new-privileges"] = serde_json::json!(true);
        docker.daemon.config = bulkhead_facts::Fact::Value(Some(config));
        docker.daemon.started_at = Some("2026-11-28T10:00:00Z".into());
        docker.daemon.config_modified_at = Some("2026-11-28T10:05:00Z".into());
        let v = compare(&baseline, &[audit(&after)], &BTreeMap::new());
        assert_eq!(v.checks[0].after, Some(Status::Warn), "{:?}", v.checks);
        let reason = v.checks[0].reason.as_deref().unwrap();
        assert!(
            reason.contains("changed at 2026-11-28T10:05:00Z"),
            "{reason}"
        );
        let t = text(&v);
        let id = &v.checks[0].check;
        assert_eq!(verdict_of(&t, id), "not proven yet", "{t}");
        assert_eq!(details(&t, id), [format!("note: {reason}")], "{t}");
        assert_eq!(v.not_fixed().len(), 1, "until dockerd restarts: {v:?}");
    }

    /// A daemon.json setting the daemon's API does not show yet (live-restore written, dockerd
    /// not reloaded) fails with a note naming the reload: not proven yet, like a warn a restart
    /// settles, and never "still failing". Without the setting in the file it still fails. So
    /// does a check failing on objects of which only some wait for a restart.
    #[test]
    fn a_setting_written_but_not_loaded_by_the_daemon_is_not_proven_yet() {
        use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
        let before = writeup();
        let audit = |snap: &bulkhead_facts::Snapshot| {
            let opts = AuditOptions::default();
            let ctx = Context::new(snap, &opts);
            bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default())
        };
        let control = "docker.daemon.live_restore";
        let mut before = before;
        if let bulkhead_facts::Fact::Value(i) = &mut before.docker.as_mut().unwrap().info {
            i.live_restore_enabled = false;
        }
        let baseline = Baseline::new(&[audit(&before)], vec![control.into()], BTreeMap::new());
        let was = baseline.checks.iter().find(|c| c.control == control);
        assert_eq!(was.map(|c| c.status), Some(Status::Fail));
        let written = |live_restore: bool| {
            let mut after = before.clone();
            let docker = after.docker.as_mut().unwrap();
            let mut config = match &docker.daemon.config {
                bulkhead_facts::Fact::Value(Some(v)) => v.clone(),
                _ => serde_json::json!({}),
            };
            config["live-restore"] = serde_json::json!(live_restore);
            docker.daemon.config = bulkhead_facts::Fact::Value(Some(config));
            docker.daemon.started_at = Some("2026-11-28T10:00:00Z".into());
            docker.daemon.config_modified_at = Some("2026-11-28T10:05:00Z".into());
            compare(&baseline, &[audit(&after)], &BTreeMap::new())
        };
        let v = written(true);
        let c = &v.checks[0];
        assert_eq!(c.after, Some(Status::Fail), "{c:?}");
        assert_eq!(c.verdict(), Verdict::NotProvenYet, "{c:?}");
        let reason = c.reason.as_deref().unwrap();
        assert!(
            reason.contains("live-restore = true, which the running dockerd has not loaded")
                && reason.contains("reload dockerd"),
            "{reason}"
        );
        let t = text(&v);
        assert_eq!(verdict_of(&t, &c.check), "not proven yet", "{t}");
        assert_eq!(details(&t, &c.check), [format!("note: {reason}")], "{t}");
        assert_eq!(v.summary().not_proven_yet, 1);
        assert_eq!(v.not_fixed().len(), 1, "until dockerd reloads: {v:?}");
        let v = written(false);
        assert_eq!(v.checks[0].verdict(), Verdict::StillFailing, "{v:?}");
        // etcd's variant of the note, and a failure only part of which waits for a restart.
        let etcd = "/etc/default/etcd sets ETCD_CLIENT_CERT_AUTH=true, which the running etcd \
                    (pid 7) does not have: restart etcd to apply it, then audit again";
        assert!(bulkhead_checks::is_pending_setting_note(etcd));
        let mut c = change("2.2", Status::Fail, Status::Fail);
        c.reason = Some(etcd.into());
        assert_eq!(c.verdict(), Verdict::NotProvenYet);
        c.reason = Some("--client-cert-auth is not set".into());
        assert_eq!(c.verdict(), Verdict::StillFailing);
    }

    /// A recreated container that is not running when verify audits again (it crashed under its
    /// new read-only root, or the new `docker run` failed after the old one was renamed away)
    /// is simply not audited: the check then passes on the other containers or does not apply.
    /// That proves nothing, and verify must not show it as fixed.
    #[test]
    fn a_failing_container_that_is_no_longer_audited_is_not_proven_fixed() {
        use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
        use bulkhead_facts::Fact;
        let snapshot = writeup();
        let control = "docker.container.read_only_rootfs";
        let audit = |snap: &bulkhead_facts::Snapshot| {
            let opts = AuditOptions::default();
            let ctx = Context::new(snap, &opts);
            bulkhead_checks::run(
                catalog().docker(),
                "1.2.0",
                &ctx,
                &Selection::new(vec!["5.12".into()], vec![]),
            )
        };
        let before = audit(&snapshot);
        let baseline = Baseline::new(
            std::slice::from_ref(&before),
            vec![control.into()],
            BTreeMap::new(),
        );
        let with_containers = |edit: &dyn Fn(&mut Vec<bulkhead_facts::docker::ContainerFacts>)| {
            let mut s = snapshot.clone();
            let d = s.docker.as_mut().unwrap();
            let mut list = d.containers.value().cloned().unwrap();
            edit(&mut list);
            d.containers = Fact::Value(list);
            s
        };
        let row = |v: &Verification| v.checks.iter().find(|c| c.control == control).cloned();

        // Fixed for real: web runs again, read-only.
        let fixed = with_containers(&|l| {
            for c in l.iter_mut() {
                c.inspect.host_config.readonly_rootfs = true;
            }
        });
        let v = compare(&baseline, &[audit(&fixed)], &BTreeMap::new());
        assert_eq!(row(&v).unwrap().after, Some(Status::Pass));
        assert!(v.not_fixed().is_empty(), "{v:?}");
        assert_eq!(verdict_of(&text(&v), "5.12"), "fixed", "{}", text(&v));

        // web is gone: nothing is left to audit.
        let gone = with_containers(&|l| l.clear());
        let v = compare(&baseline, &[audit(&gone)], &BTreeMap::new());
        let r = row(&v).unwrap();
        assert_eq!(r.after, Some(Status::NotApplicable));
        assert_eq!(r.gone, vec!["container web".to_string()]);
        assert_eq!(v.not_fixed().len(), 1, "{v:?}");
        let t = text(&v);
        assert_eq!(verdict_of(&t, "5.12"), "not proven", "{t}");
        assert_eq!(
            details(&t, "5.12")[0],
            "no longer audited: container web",
            "{t}"
        );

        // web is gone and another, read-only container passes: still not proven for web.
        let other = with_containers(&|l| {
            for c in l.iter_mut() {
                c.inspect.name = "/web-2".into();
                c.inspect.host_config.readonly_rootfs = true;
            }
        });
        let v = compare(&baseline, &[audit(&other)], &BTreeMap::new());
        let r = row(&v).unwrap();
        assert_eq!(r.after, Some(Status::Pass));
        assert_eq!(r.gone, vec!["container web".to_string()]);
        assert_eq!(v.not_fixed().len(), 1, "{v:?}");
        assert_eq!(verdict_of(&text(&v), "5.12"), "not proven", "{}", text(&v));
    }

    /// Containers are recreated one at a time, and a per-container check keeps failing until the
    /// last one is fixed: verify names the containers fixed so far and those left, new ones
    /// included, so progress shows before the check's status moves.
    #[test]
    fn a_check_still_failing_names_the_containers_fixed_and_those_left() {
        use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
        use bulkhead_facts::Fact;
        let control = "docker.container.read_only_rootfs";
        let audit = |snap: &bulkhead_facts::Snapshot| {
            let opts = AuditOptions::default();
            let ctx = Context::new(snap, &opts);
            bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default())
        };
        // The write-up's container `web` under several names, each read-only or not.
        let with = |containers: &[(&str, bool)]| {
            let mut s = writeup();
            let d = s.docker.as_mut().unwrap();
            let web = d.containers.value().unwrap()[0].clone();
            let list = containers
                .iter()
                .map(|(name, read_only)| {
                    let mut c = web.clone();
                    c.inspect.name = format!("/{name}");
                    c.inspect.id = format!("{name}-id");
                    c.inspect.host_config.readonly_rootfs = *read_only;
                    c
                })
                .collect();
            d.containers = Fact::Value(list);
            s
        };
        let before = with(&[("web", false), ("api", false), ("db", false)]);
        let baseline = Baseline::new(&[audit(&before)], vec![control.into()], BTreeMap::new());
        // web fixed, api not yet, db removed, and a new writable container, cache.
        let after = with(&[("web", true), ("api", false), ("cache", false)]);
        let v = compare(&baseline, &[audit(&after)], &BTreeMap::new());
        let row = &v.checks[0];
        assert_eq!(row.after, Some(Status::Fail), "{row:?}");
        assert_eq!(row.fixed, vec!["container web".to_string()]);
        assert_eq!(row.gone, vec!["container db".to_string()]);
        let mut left = row.not_passing.clone();
        left.sort();
        assert_eq!(left, vec!["container api", "container cache"]);
        let t = text(&v);
        let detail = |l: &str| t.lines().any(|line| line.trim() == l);
        assert!(detail("fixed on: container web"), "{t}");
        assert!(
            detail("not passing on: container api, container cache")
                || detail("not passing on: container cache, container api"),
            "{t}"
        );
        let json = serde_json::to_value(row).unwrap();
        assert_eq!(json["fixed"], serde_json::json!(["container web"]));

        // Once the last one is fixed the check passes, and those fixed since are named.
        let baseline = Baseline::new(&[audit(&after)], vec![control.into()], BTreeMap::new());
        let all_fixed = with(&[("web", true), ("api", true), ("cache", true)]);
        let v = compare(&baseline, &[audit(&all_fixed)], &BTreeMap::new());
        assert_eq!(v.checks[0].after, Some(Status::Pass));
        let mut fixed = v.checks[0].fixed.clone();
        fixed.sort();
        assert_eq!(fixed, vec!["container api", "container cache"]);
        let t = text(&v);
        assert_eq!(verdict_of(&t, &v.checks[0].check), "fixed", "{t}");
        // A check that passed before lists nothing: there was nothing to fix.
        let passing = Baseline::new(&[audit(&all_fixed)], vec![control.into()], BTreeMap::new());
        let v = compare(&passing, &[audit(&all_fixed)], &BTreeMap::new());
        assert!(!text(&v).contains("fixed on"), "{}", text(&v));
    }

    /// Fifty containers left make a line a person can still read; JSON keeps the whole list.
    #[test]
    fn a_long_list_of_containers_is_cut_short_saying_how_many_more() {
        let keys: Vec<String> = (1..=50).map(|i| format!("container c{i}")).collect();
        let line = listed(&keys);
        assert!(line.starts_with("container c1, container c2,"), "{line}");
        assert!(line.contains("container c8 and 42 more"), "{line}");
        assert!(!line.contains("container c9,"), "{line}");
        assert_eq!(listed(&keys[..2]), "container c1, container c2");
    }

    #[test]
    fn scan_findings_are_matched_by_artifact_rule_and_object() {
        let dir = std::env::temp_dir().join(format!("bulkhead-verify-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let compose = dir.join("compose.yaml");
        std::fs::write(&compose, "services:\n  web:\n    image: nginx:1.25\n").unwrap();
        let real = std::fs::canonicalize(&compose).unwrap();
        let finding = |rule: &str, object: &str| FindingStatus {
            rule: rule.into(),
            title: String::new(),
            path: "compose.yaml".into(),
            real_path: real.clone(),
            line: 2,
            object: object.into(),
        };
        let baseline = ScanBaseline {
            inputs: vec![dir.clone()],
            target: None,
            kind: None,
            config: None,
            findings: vec![
                finding("compose-read-only", "service web"),
                finding("compose-privileged", "service web"),
            ],
        };
        // The new scan still reports read_only (on another line), and not privileged.
        let report = bulkhead_scan::scan_paths(std::slice::from_ref(&dir), &Default::default());
        let after = compare_scan(&baseline, &report);
        let status = |rule: &str| after.iter().find(|c| c.rule == rule).unwrap().after;
        assert_eq!(status("compose-read-only"), Status::Fail);
        assert_eq!(status("compose-privileged"), Status::Pass);
        // An artifact the new scan could not read is not called fixed.
        std::fs::write(&compose, "services: [\n").unwrap();
        let report = bulkhead_scan::scan_paths(std::slice::from_ref(&dir), &Default::default());
        let after = compare_scan(&baseline, &report);
        assert!(after.iter().all(|c| c.after == Status::Error));
        // And it says why, at the place the scan stopped.
        for c in &after {
            let why = c.reason.as_deref().unwrap_or_default();
            assert!(why.contains("compose.yaml:2:1: invalid YAML"), "{why}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
