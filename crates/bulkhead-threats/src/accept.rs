//! Risk acceptance: a YAML file in which a named owner accepts a threat, with a reason and an
//! expiry date. An accepted threat keeps its computed status beside `accepted`; an expired
//! acceptance is ignored and says so.
//!
//! Every mistake is an error at `FILE:LINE:COLUMN`, never a silent choice: a key written twice
//! in an entry (which `expires` would count?), the same threat accepted by two entries, a threat
//! ID the model does not have (IDs are case-sensitive: `K8S-E01`, not `k8s-e01`; see
//! [`check_threats`]).
//!
//! ```yaml
//! accept:
//!   - threat: DKR-R01
//!     reason: images are built and pushed only by the CI system, which signs them
//!     owner: platform-team@example.com
//!     expires: 2027-06-30
//! ```

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    pub threat: String,
    pub reason: String,
    pub owner: String,
    /// `YYYY-MM-DD`; the acceptance holds through that day.
    pub expires: String,
    /// Where the entry names its threat and which entry it is (`accept.yaml:2:5: accept[0]`),
    /// for messages about it; set by [`parse`].
    #[serde(skip)]
    pub at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptanceFile {
    accept: Vec<Acceptance>,
}

/// Parse an acceptance file. Errors read `NAME:LINE:COLUMN: ...`.
pub fn parse(text: &str, name: &str) -> Result<Vec<Acceptance>, String> {
    let (mut f, tree): (AcceptanceFile, _) =
        crate::yaml::from_yaml_with_tree(text, name).map_err(|e| {
            format!("{e} (expected `accept:` with a list of {{threat, reason, owner, expires}})")
        })?;
    let mut errs = Vec::new();
    for (i, a) in f.accept.iter_mut().enumerate() {
        a.at = Some(format!(
            "{}: accept[{i}]",
            crate::yaml::position(name, &tree, &format!("accept[{i}].threat"))
        ));
    }
    for (i, a) in f.accept.iter().enumerate() {
        // The same threat twice: which reason, owner and expiry would hold is a guess.
        if let Some(j) = f.accept[..i].iter().position(|b| b.threat == a.threat) {
            let (line, _) = crate::yaml::line_column(&tree, &format!("accept[{j}].threat"));
            errs.push(format!(
                "{} ({}): {} is already accepted by accept[{j}] on line {line}; keep one entry per threat",
                a.at.as_deref().unwrap_or(name),
                a.threat,
                a.threat
            ));
        }
    }
    for (i, a) in f.accept.iter().enumerate() {
        let at = |field: &str| {
            format!(
                "{}: accept[{i}] ({})",
                crate::yaml::position(name, &tree, &format!("accept[{i}].{field}")),
                a.threat
            )
        };
        for (field, v) in [
            ("threat", &a.threat),
            ("reason", &a.reason),
            ("owner", &a.owner),
        ] {
            if v.trim().is_empty() {
                errs.push(format!(
                    "{}: `{field}` is empty; an acceptance needs a threat, a reason and an owner",
                    at(field)
                ));
            }
        }
        if parse_date(&a.expires).is_none() {
            errs.push(format!(
                "{}: expires {:?} is not a date (YYYY-MM-DD)",
                at("expires"),
                a.expires
            ));
        }
    }
    if errs.is_empty() {
        Ok(f.accept)
    } else {
        Err(errs.join("\n"))
    }
}

/// Every acceptance names a threat of `ids` (the threats of the model being built), exactly as
/// written there. A lower-case or otherwise differently cased ID is an error that names the ID it
/// would match: threat IDs are upper case, and reading them any other way would let one file
/// mean different threats to different readers.
pub fn check_threats<'a>(
    acceptances: &[Acceptance],
    ids: impl Iterator<Item = &'a str> + Clone,
) -> Result<(), String> {
    let mut errs = Vec::new();
    for a in acceptances {
        if ids.clone().any(|id| id == a.threat) {
            continue;
        }
        let what = match a.at.as_deref() {
            Some(at) => format!("{at} ({})", a.threat),
            None => format!("risk acceptance for {}", a.threat),
        };
        match ids.clone().find(|id| id.eq_ignore_ascii_case(&a.threat)) {
            Some(id) => errs.push(format!(
                "{what}: no such threat; threat IDs are case-sensitive, did you mean {id}?"
            )),
            None => errs.push(format!(
                "{what}: no such threat (library threats are listed by `bulkhead threats --format markdown`)"
            )),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n"))
    }
}

/// `YYYY-MM-DD` as (year, month, day), validated.
pub fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let mut it = s.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    (s.trim().len() == 10 && (1..=12).contains(&m) && d >= 1 && d <= days[m as usize - 1])
        .then_some((y, m, d))
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    bulkhead_facts::time::iso_date(bulkhead_facts::time::unix_now().div_euclid(86_400))
}

/// Is the acceptance still in force on `as_of` (`YYYY-MM-DD`)?
pub fn in_force(a: &Acceptance, as_of: &str) -> bool {
    match (parse_date(&a.expires), parse_date(as_of)) {
        (Some(e), Some(now)) => now <= e,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let ok = "accept:\n  - threat: DKR-R01\n    reason: CI signs images\n    owner: ops\n    expires: 2027-06-30\n";
        let a = parse(ok, "accept.yaml").unwrap();
        assert_eq!(a[0].threat, "DKR-R01");
        assert!(in_force(&a[0], "2027-06-30"));
        assert!(!in_force(&a[0], "2027-07-01"));
        let bad = "accept:\n  - threat: DKR-R01\n    reason: ''\n    owner: ops\n    expires: 2027-02-30\n";
        let e = parse(bad, "accept.yaml").unwrap_err();
        assert!(
            e.contains("accept.yaml:3:5: accept[0] (DKR-R01): `reason` is empty"),
            "{e}"
        );
        assert!(
            e.contains("accept.yaml:5:5: accept[0] (DKR-R01): expires"),
            "{e}"
        );
        assert!(e.contains("is not a date"), "{e}");
        let e = parse("accept:\n  - threat: X\n    why: no\n", "a.yaml").unwrap_err();
        assert!(
            e.starts_with("a.yaml:3:5: accept[0]") && e.contains("why"),
            "{e}"
        );
    }

    #[test]
    fn a_key_written_twice_in_an_entry_is_an_error_naming_both_lines() {
        let text = "accept:\n  - threat: K8S-I01\n    reason: ok\n    owner: ops\n    expires: 2027-01-01\n    expires: 2030-01-01\n";
        let e = parse(text, "a12.yaml").unwrap_err();
        assert!(e.starts_with("a12.yaml:6:5: key \"expires\""), "{e}");
        assert!(e.contains("on line 5 and again on line 6"), "{e}");
    }

    #[test]
    fn the_same_threat_accepted_twice_is_an_error_naming_both_entries() {
        let text = "accept:\n  - threat: K8S-E01\n    reason: first\n    owner: ops\n    expires: 2027-06-30\n  - threat: K8S-E01\n    reason: second\n    owner: sec\n    expires: 2020-01-01\n";
        let e = parse(text, "a5.yaml").unwrap_err();
        assert_eq!(
            e,
            "a5.yaml:6:5: accept[1] (K8S-E01): K8S-E01 is already accepted by accept[0] on line 2; keep one entry per threat"
        );
    }

    #[test]
    fn unknown_and_differently_cased_threat_ids_are_errors_with_their_position() {
        let text = "accept:\n  - threat: K8S-E01\n    reason: ok\n    owner: ops\n    expires: 2027-06-30\n  - threat: K8S-X99\n    reason: typo\n    owner: ops\n    expires: 2027-06-30\n  - threat: k8s-e02\n    reason: lower case\n    owner: ops\n    expires: 2027-06-30\n";
        let a = parse(text, "a1.yaml").unwrap();
        assert_eq!(a[1].at.as_deref(), Some("a1.yaml:6:5: accept[1]"));
        let ids = ["K8S-E01", "K8S-E02"];
        let e = check_threats(&a, ids.iter().copied()).unwrap_err();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(
            lines,
            [
                "a1.yaml:6:5: accept[1] (K8S-X99): no such threat (library threats are listed by `bulkhead threats --format markdown`)",
                "a1.yaml:10:5: accept[2] (k8s-e02): no such threat; threat IDs are case-sensitive, did you mean K8S-E02?",
            ]
        );
        assert!(check_threats(&a[..1], ids.iter().copied()).is_ok());
    }

    #[test]
    fn civil_dates() {
        use bulkhead_facts::time::iso_date;
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(19_723), "2024-01-01");
        assert_eq!(iso_date(11_016), "2000-02-29");
        assert_eq!(today().len(), 10);
    }
}
