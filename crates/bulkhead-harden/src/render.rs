//! The plan as JSON (the `bulkhead.harden/1` contract) and as terminal text.
//!
//! JSON is produced by a serializer with one stable shape: every fix carries every key, `diff`
//! and `command` are `null` when the fix has none. Diffs and commands are masked (see
//! [`crate::diff`] and [`Fix::command`](crate::model::Fix::command)); new file content is never
//! printed unmasked.

use crate::model::{Fix, Plan, Safety, HARDEN_SCHEMA};
use serde_json::{json, Value};

fn mode_str(m: u32) -> String {
    format!("{m:04o}")
}

/// One fix as a JSON object.
pub fn fix_json(f: &Fix) -> Value {
    json!({
        "id": f.id,
        "title": f.title,
        "checks": f.checks,
        "controls": f.controls,
        "threats": f.threats,
        "target": f.target,
        "kind": f.kind.as_str(),
        "safety": f.safety.as_str(),
        "apply": if f.is_file_fix() { "automatic" } else { "manual" },
        "changes": f.changes,
        "may_break": f.may_break,
        "notes": f.notes,
        "diff": f.diff(),
        "command": f.command(),
        "edits": f.action.edits.iter().map(|e| json!({
            "path": e.path,
            "creates": e.creates(),
            "before_sha256": e.before_sha256,
            "after_sha256": e.after_sha256,
        })).collect::<Vec<_>>(),
        "attributes": f.action.attrs.iter().map(|a| json!({
            "path": a.path,
            "before": {"mode": mode_str(a.before.mode), "uid": a.before.uid, "gid": a.before.gid},
            "after": {"mode": mode_str(a.after.mode), "uid": a.after.uid, "gid": a.after.gid},
        })).collect::<Vec<_>>(),
        "steps": f.action.steps.iter().map(|s| json!({
            "comment": s.comment,
            "argv": bulkhead_facts::mask::mask_argv(&s.argv),
        })).collect::<Vec<_>>(),
        "restart": f.restart,
        "findings": f.findings,
    })
}

/// The plan as a JSON value (`schema` = "bulkhead.harden/1").
pub fn json_value(plan: &Plan, version: &str) -> Value {
    let safe = plan
        .fixes
        .iter()
        .filter(|f| f.safety == Safety::Safe)
        .count();
    json!({
        "schema": HARDEN_SCHEMA,
        "tool": {"name": "bulkhead", "version": version},
        "numbering": plan.numbering_shown().into_iter().map(|(b, e)| (b, Value::String(e))).collect::<serde_json::Map<_, _>>(),
        "root": plan.root,
        "summary": {
            "fixes": plan.fixes.len(),
            "safe": safe,
            "review": plan.fixes.len() - safe,
            "unfixed": plan.unfixed.len(),
        },
        "fixed_controls": plan.fixed_controls(),
        "fixed_checks": plan.fixed_checks(),
        "fixes": plan.fixes.iter().map(fix_json).collect::<Vec<_>>(),
        "unfixed": plan.unfixed,
        "scan": plan.scan,
    })
}

/// The plan as pretty JSON text with a final newline.
pub fn json(plan: &Plan, version: &str) -> String {
    let mut s = serde_json::to_string_pretty(&json_value(plan, version))
        .expect("a JSON value always serializes");
    s.push('\n');
    s
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}\n"))
        .collect::<String>()
}

/// The plan for a terminal: each fix with what it closes, changes and may break, then its diff or
/// command; then what stays unfixed and why.
pub fn text(plan: &Plan, dry_run: bool) -> String {
    let mut out = String::new();
    let numbering = plan
        .numbering_shown()
        .iter()
        .map(|(b, e)| format!("{b} {e}"))
        .collect::<Vec<_>>()
        .join(", ");
    out.push_str(&format!(
        "Hardening plan ({numbering}){}\n\n",
        if dry_run {
            " - dry run, nothing was changed"
        } else {
            ""
        }
    ));
    if let Some(s) = &plan.scan {
        let informational = match s.informational {
            0 => String::new(),
            n => format!(", {n} of them informational: nothing to fix there"),
        };
        out.push_str(&format!(
            "Scanned {}: {} artifact{}, {} finding{} ({} selected{informational}).\n",
            s.paths.join(", "),
            s.files,
            if s.files == 1 { "" } else { "s" },
            s.findings,
            if s.findings == 1 { "" } else { "s" },
            s.selected
        ));
        for e in &s.errors {
            out.push_str(&format!("  not scanned: {e}\n"));
        }
        out.push('\n');
    }
    if plan.fixes.is_empty() && plan.unfixed.is_empty() {
        out.push_str(match &plan.scan {
            Some(s) if s.informational > 0 => {
                "Nothing to fix: no selected check fails and the selected findings that are left are informational.\n"
            }
            Some(_) => "Nothing to fix: no selected check fails and no selected finding is left.\n",
            None => "Nothing to fix: no selected check fails.\n",
        });
        return out;
    }
    for (i, f) in plan.fixes.iter().enumerate() {
        out.push_str(&format!(
            "[{}] {} ({}, {})\n",
            i + 1,
            f.title,
            f.kind.as_str(),
            f.safety.as_str()
        ));
        if !f.checks.is_empty() || !f.controls.is_empty() {
            out.push_str(&format!(
                "    closes: {}  ({})\n",
                f.checks.join(", "),
                f.controls.join(", ")
            ));
        }
        if !f.threats.is_empty() {
            out.push_str(&format!("    threats: {}\n", f.threats.join(", ")));
        }
        out.push_str(&format!(
            "    target: {} {}{}\n",
            f.target.kind,
            f.target.name,
            f.target
                .path
                .as_ref()
                .filter(|p| **p != f.target.name)
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        ));
        for c in &f.changes {
            out.push_str(&format!("    changes: {c}\n"));
        }
        for m in &f.may_break {
            out.push_str(&format!("    may break: {m}\n"));
        }
        for n in &f.notes {
            out.push_str(&format!("    note: {n}\n"));
        }
        if let Some(r) = &f.restart {
            out.push_str(&format!(
                "    takes effect: {} {}\n",
                if r.reload_suffices {
                    "after a reload of"
                } else {
                    "after a restart of"
                },
                r.service
            ));
        }
        if let Some(d) = f.diff() {
            out.push('\n');
            out.push_str(&indent(&d, "    "));
        }
        // Already masked word by word and quoted: masking the quoted text again could eat the
        // quotes and separators that keep it one command.
        if f.is_file_fix() {
            if let Some(c) = f.attrs_command() {
                out.push_str("\n    equivalent command:\n");
                out.push_str(&indent(&c, "      "));
            }
            // A file fix may need a command after it is applied (rewriting every Secret once
            // they are encrypted): shown, never run.
            if let Some(c) = f.steps_command() {
                out.push_str("\n    then run (bulkhead never runs it):\n");
                out.push_str(&indent(&c, "      "));
            }
        } else if let Some(c) = f.command() {
            out.push_str("\n    run after review (bulkhead never runs it):\n");
            out.push_str(&indent(&c, "      "));
        }
        out.push('\n');
    }
    if !plan.unfixed.is_empty() {
        out.push_str("Not fixed:\n");
        for u in &plan.unfixed {
            // A scan rule that maps to no check has its rule ID as check and no control: the
            // words that are there, one blank between each.
            let rule = u
                .rule
                .as_ref()
                .filter(|r| **r != u.check)
                .map(|r| format!("({r})"));
            let object = u.object.as_ref().map(|o| format!("[{o}]"));
            let words: Vec<&str> = [
                Some(u.check.as_str()),
                rule.as_deref(),
                Some(u.control.as_str()),
                object.as_deref(),
            ]
            .into_iter()
            .flatten()
            .filter(|w| !w.is_empty())
            .collect();
            out.push_str(&format!("  {}: {}\n", words.join(" "), u.reason));
        }
        out.push('\n');
    }
    let safe = plan
        .fixes
        .iter()
        .filter(|f| f.safety == Safety::Safe)
        .count();
    let n = plan.fixes.len();
    out.push_str(&format!(
        "{n} {} ({safe} safe, {} {}), {} not fixed.\n",
        if n == 1 { "fix" } else { "fixes" },
        n - safe,
        if n - safe == 1 {
            "needs review"
        } else {
            "need review"
        },
        plan.unfixed.len()
    ));
    if dry_run && !plan.fixes.is_empty() {
        out.push_str("Apply the safe file fixes with --apply; add --include-review for the others. Commands are never run by bulkhead.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Unfixed;

    /// A plan of one audit with scan fixes (`harden docker --scan`) holds CIS Kubernetes check
    /// IDs of manifests too: the header and the JSON name that numbering as well, the audit's
    /// edition first and kept for its own benchmark.
    #[test]
    fn the_numbering_shown_covers_the_scan_fixes_too() {
        let plan = Plan {
            numbering: vec![("cis-docker".into(), "1.2.0".into())],
            scan: Some(crate::model::ScanSummary {
                numbering: vec![
                    ("cis-docker".into(), "1.6.0".into()),
                    ("cis-kubernetes".into(), "1.12".into()),
                ],
                ..Default::default()
            }),
            ..Plan::default()
        };
        let out = text(&plan, true);
        assert!(
            out.starts_with("Hardening plan (cis-docker 1.2.0, cis-kubernetes 1.12)"),
            "{out}"
        );
        let v = json_value(&plan, "test");
        assert_eq!(
            v["numbering"],
            json!({"cis-docker": "1.2.0", "cis-kubernetes": "1.12"})
        );
        // Not a key of its own in the JSON summary of the scan.
        assert!(v["scan"].get("numbering").is_none(), "{v}");
    }

    /// A scan rule that maps to no check has its rule as check and no control: its "Not fixed"
    /// line reads with one blank between words, like a check's.
    #[test]
    fn not_fixed_lines_have_one_blank_between_words() {
        let unfixed = |check: &str, control: &str, rule: Option<&str>| Unfixed {
            check: check.into(),
            control: control.into(),
            object: Some("Dockerfile:1 stage 0".into()),
            reason: "no automatic fix".into(),
            rule: rule.map(String::from),
        };
        let plan = Plan {
            unfixed: vec![
                unfixed(
                    "4.6",
                    "docker.image.healthcheck",
                    Some("dockerfile-healthcheck-missing"),
                ),
                unfixed("dockerfile-latest-tag", "", Some("dockerfile-latest-tag")),
                unfixed("5.12", "docker.container.read_only_rootfs", None),
            ],
            ..Plan::default()
        };
        let out = text(&plan, true);
        for line in [
            "  4.6 (dockerfile-healthcheck-missing) docker.image.healthcheck [Dockerfile:1 stage 0]: no automatic fix\n",
            "  dockerfile-latest-tag [Dockerfile:1 stage 0]: no automatic fix\n",
            "  5.12 docker.container.read_only_rootfs [Dockerfile:1 stage 0]: no automatic fix\n",
        ] {
            assert!(out.contains(line), "{line:?} in\n{out}");
        }
    }
}
