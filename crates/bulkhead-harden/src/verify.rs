//! Verify: audit again and compare. For each selected check the status before and after, and
//! every threat whose status changed. The "before" side is the audit taken when the plan was
//! made (kept in the state directory by `harden --apply`), so `bulkhead verify` can run later,
//! after a restart, in another process.

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
        }
    }

    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("baseline.json")
    }

    pub fn save(&self, state_dir: &Path) -> Result<PathBuf, String> {
        std::fs::create_dir_all(state_dir)
            .map_err(|e| format!("creating {}: {e}", state_dir.display()))?;
        let p = Self::path(state_dir);
        let tmp = state_dir.join(".baseline.json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_string_pretty(self).expect("baseline serializes"),
        )
        .and_then(|_| std::fs::rename(&tmp, &p))
        .map_err(|e| format!("writing {}: {e}", p.display()))?;
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
            })
        })
        .collect()
}

/// One selected check before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckChange {
    pub check: String,
    pub control: String,
    pub title: String,
    pub before: Status,
    pub after: Option<Status>,
}

/// One threat whose status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreatChange {
    pub id: String,
    pub title: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub checks: Vec<CheckChange>,
    pub threats: Vec<ThreatChange>,
}

impl Verification {
    /// Selected checks that still fail (or could not be evaluated) after hardening.
    pub fn still_failing(&self) -> Vec<&CheckChange> {
        self.checks
            .iter()
            .filter(|c| matches!(c.after, Some(Status::Fail) | Some(Status::Error) | None))
            .filter(|c| c.before == Status::Fail)
            .collect()
    }
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
        .map(|c| CheckChange {
            check: c.check.clone(),
            control: c.control.clone(),
            title: c.title.clone(),
            before: c.status,
            after: now
                .iter()
                .find(|n| n.control == c.control)
                .map(|n| n.status),
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
    Verification { checks, threats }
}

/// The verification as terminal text.
pub fn text(v: &Verification) -> String {
    let mut out = String::from("Verification: audited again\n\n");
    let w = v
        .checks
        .iter()
        .map(|c| c.check.len())
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&format!(
        "  {:w$}  {:<14} {:<14} {}\n",
        "check", "before", "after", "title"
    ));
    for c in &v.checks {
        let after = c.after.map(|s| s.as_str()).unwrap_or("not evaluated");
        let mark = match (c.before, c.after) {
            (b, Some(Status::Pass)) if b != Status::Pass => " fixed",
            (Status::Fail, Some(Status::Fail)) => " still failing",
            _ => "",
        };
        out.push_str(&format!(
            "  {:w$}  {:<14} {:<14} {}{mark}\n",
            c.check,
            c.before.as_str(),
            after,
            c.title
        ));
    }
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
