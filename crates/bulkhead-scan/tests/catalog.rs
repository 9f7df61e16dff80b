//! The rule catalog against the code and against the shared cross-reference of artifact checks.

use bulkhead_scan::{all_rules, rules};
use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn every_rule_has_an_evaluator_and_every_evaluator_a_rule() {
    let catalog: BTreeSet<&str> = all_rules().iter().map(|r| r.id.as_str()).collect();
    let code: Vec<&str> = rules::implemented();
    let code_set: BTreeSet<&str> = code.iter().copied().collect();
    assert_eq!(code.len(), code_set.len(), "a rule is registered twice");
    let missing: Vec<_> = catalog.difference(&code_set).collect();
    let extra: Vec<_> = code_set.difference(&catalog).collect();
    assert!(
        missing.is_empty(),
        "rules without an evaluator: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "evaluators without a catalog entry: {extra:?}"
    );
}

/// The cross-reference of artifact-scanning concepts to other tools' rule IDs, reduced to facts
/// (concept names and identifiers) and kept in the repository so a clean checkout can run this
/// test (see tests/data/README.md).
fn xref() -> Option<String> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/static-checks-xref.csv");
    Some(std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

/// Split one CSV line (quoted fields with commas and doubled quotes).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (_, '"') => quoted = !quoted,
            (false, ',') => out.push(std::mem::take(&mut cur)),
            (_, c) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Tool IDs named in a cell: hadolint DLxxxx, Trivy DS-/KSV-, Checkov CKV(2)_..._N, and
/// kube-linter check names (kebab-case words outside parentheses).
fn ids_in(cell: &str, kube_linter: bool) -> Vec<String> {
    let mut out = Vec::new();
    let outside: String = {
        let mut depth = 0;
        cell.chars()
            .filter(|c| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0 && *c != ')'
            })
            .collect()
    };
    for raw in cell.split(|c: char| {
        c.is_whitespace() || c == ',' || c == ';' || c == '/' || c == '(' || c == ')'
    }) {
        let w = raw.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-');
        let is_id =
            (w.starts_with("DL") && w.len() == 6 && w[2..].chars().all(|c| c.is_ascii_digit()))
                || ((w.starts_with("DS-") || w.starts_with("KSV-"))
                    && w.rsplit('-')
                        .next()
                        .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
                || ((w.starts_with("CKV_") || w.starts_with("CKV2_"))
                    && w.rsplit('_')
                        .next()
                        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())));
        if is_id {
            out.push(w.to_string());
        }
    }
    if kube_linter {
        for w in outside.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
            let w = w.trim();
            if w.contains('-')
                && w.chars().any(|c| c.is_ascii_lowercase())
                && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && w != "opt-in"
            {
                out.push(w.to_string());
            }
        }
    }
    out
}

#[test]
fn every_concept_of_the_cross_reference_is_covered_with_its_tool_ids() {
    let Some(csv) = xref() else { return };
    let mut lines = csv.lines();
    let header = fields(lines.next().unwrap());
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (c_concept, c_artifact, c_compose) =
        (col("concept"), col("artifact"), col("compose_equivalent"));
    let tool_cols = [
        (col("hadolint"), false),
        (col("trivy"), false),
        (col("checkov"), false),
        (col("kube_linter"), true),
    ];
    let mut problems = Vec::new();
    let mut rows = 0;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f = fields(line);
        rows += 1;
        let concept = &f[c_concept];
        let claiming: Vec<_> = all_rules()
            .iter()
            .filter(|r| r.concepts.iter().any(|c| c == concept))
            .collect();
        if claiming.is_empty() {
            problems.push(format!(
                "concept not covered: {concept:?} ({})",
                f[c_artifact]
            ));
            continue;
        }
        let aliases: BTreeSet<String> = claiming
            .iter()
            .flat_map(|r| r.aliases.iter().cloned())
            .collect();
        for (c, kl) in tool_cols {
            // DL3010 appears in a note as the opposite advice ("use ADD for archives"), not as
            // an equivalent check.
            for id in ids_in(&f[c], kl).into_iter().filter(|id| id != "DL3010") {
                if !aliases.contains(&id) {
                    problems.push(format!(
                        "{concept:?}: alias {id} missing (rules {:?})",
                        claiming.iter().map(|r| &r.id).collect::<Vec<_>>()
                    ));
                }
            }
        }
        if f[c_compose].trim() != "-"
            && !f[c_compose].trim().is_empty()
            && !claiming.iter().any(|r| r.id.starts_with("compose-"))
        {
            problems.push(format!(
                "{concept:?}: has a compose equivalent ({}) but no compose rule",
                f[c_compose]
            ));
        }
    }
    assert!(
        rows >= 90,
        "expected the full cross-reference, read {rows} rows"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
