//! Which containers and which checks are audited (issue 2, points 6 and 7): running containers
//! by default, `--all-containers`, `--include` / `--exclude` regexes, `--label`, bulkhead's own
//! container never; `--only` / `--exclude` with check IDs in either numbering, sections and
//! control IDs; unknown IDs are usage errors naming them.

use crate::support::{
    container_names, left_out, results_by_id, Lab, Run, CREATED, HARDENED, HOSTILE, LABELLED,
    PLAIN, RUNNING_AUDITED, SELF, SELF_LABEL,
};
use crate::{audit_snapshot, lab_or_skip};
use serde_json::Value;

/// Live JSON audit of the lab with extra arguments.
fn audit_json(lab: &Lab, args: &[&str]) -> Value {
    let _gate = lab.read();
    let mut all = vec!["--format", "json", "--fail-on", "never"];
    all.extend_from_slice(args);
    let r = lab.audit(&all);
    r.expect_code(0);
    r.json()
}

/// The containers 5.13 (read-only root, one object per audited container) judged.
fn audited(doc: &Value) -> Vec<String> {
    let by_id = results_by_id(doc);
    let mut names = container_names(&by_id["5.13"]);
    names.sort();
    names
}

fn ids(doc: &Value) -> Vec<String> {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn running_containers_by_default_all_containers_adds_created_ones() {
    let lab = lab_or_skip!();
    assert_eq!(
        audited(&audit_json(lab, &["--only", "5.13"])),
        strings(RUNNING_AUDITED)
    );
    let all = audit_json(lab, &["--only", "5.13", "--all-containers"]);
    let mut want = strings(RUNNING_AUDITED);
    want.push(CREATED.to_string());
    want.sort();
    assert_eq!(audited(&all), want);
}

#[test]
fn include_and_exclude_by_name_regex() {
    let lab = lab_or_skip!();
    let doc = audit_json(lab, &["--only", "5.13", "--include", "^(plain|hardened)$"]);
    assert_eq!(audited(&doc), strings(&[HARDENED, PLAIN]));
    let repeated = audit_json(
        lab,
        &[
            "--only",
            "5.13",
            "--include",
            "^plain$",
            "--include",
            "^hardened$",
        ],
    );
    assert_eq!(audited(&repeated), strings(&[HARDENED, PLAIN]));
    // --exclude mixes check selectors (5.1) and container regexes (plain, ^host).
    let doc = audit_json(
        lab,
        &[
            "--only",
            "5",
            "--exclude",
            "5.1,plain",
            "--exclude",
            "^host",
        ],
    );
    assert_eq!(audited(&doc), strings(&[HARDENED, LABELLED]));
    assert!(!ids(&doc).contains(&"5.1".to_string()));
    assert!(ids(&doc).contains(&"5.2".to_string()));
}

#[test]
fn label_selects_by_key_or_key_and_value() {
    let lab = lab_or_skip!();
    for label in ["tier=web", "tier"] {
        let doc = audit_json(lab, &["--only", "5.13", "--label", label]);
        assert_eq!(audited(&doc), strings(&[LABELLED]), "--label {label}");
    }
    let none = audit_json(lab, &["--only", "5.13", "--label", "tier=db"]);
    assert_eq!(audited(&none), Vec::<String>::new());
    assert_eq!(results_by_id(&none)["5.13"]["status"], "not_applicable");
}

#[test]
fn bulkhead_own_container_is_never_audited() {
    let lab = lab_or_skip!();
    let everything = audit_json(lab, &["--all-containers", "--include", ".*"]);
    for res in everything["results"].as_array().unwrap() {
        assert!(
            !container_names(res).contains(&SELF.to_string()),
            "{} audits bulkhead's own container",
            res["id"]
        );
    }
    let by_name = audit_json(lab, &["--only", "5.13", "--include", "^self$"]);
    assert_eq!(audited(&by_name), Vec::<String>::new());
    let label = format!("{SELF_LABEL}=true");
    let by_label = audit_json(lab, &["--only", "5.13", "--label", &label]);
    assert_eq!(audited(&by_label), Vec::<String>::new());
}

/// PITFALL 18 (docker-bench-security): with no containers to audit, 31 checks vanish from its
/// output. Here every check is still reported; the container checks are not_applicable with
/// the reason.
#[test]
fn no_running_containers_makes_section_5_not_applicable_with_the_reason() {
    let lab = lab_or_skip!();
    let doc = audit_json(lab, &["--include", "^no-such-container$"]);
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 117, "no check vanishes");
    let container_checks: Vec<&Value> = results
        .iter()
        .filter(|r| {
            r["control"]
                .as_str()
                .unwrap()
                .starts_with("docker.container.")
        })
        .collect();
    assert!(container_checks.len() >= 29, "{}", container_checks.len());
    for r in container_checks {
        assert_eq!(r["status"], "not_applicable", "{}", r["id"]);
        let why = r["message"].as_str().unwrap_or_default();
        let platform = matches!(
            r["control"].as_str().unwrap(),
            "docker.container.apparmor" | "docker.container.selinux"
        );
        // The lab's daemon runs with bridge: none, which 5.30 names before any container.
        let bridge = r["control"] == "docker.container.no_default_bridge";
        assert!(
            why.contains("no running containers were selected")
                || (platform && why.contains("not enabled"))
                || (bridge && why.contains("no default bridge network")),
            "{}: {why:?}",
            r["id"]
        );
        assert!(r["objects"].as_array().unwrap().is_empty());
    }
    // The text report says so too.
    let _gate = lab.read();
    let text = lab.audit(&["--include", "^no-such-container$", "--only", "5.13"]);
    assert!(
        text.stdout.contains("[N/A] 5.13 - ")
            && text.stdout.contains("no running containers were selected"),
        "{text}"
    );
}

#[test]
fn only_takes_check_ids_sections_and_control_ids() {
    let lab = lab_or_skip!();
    let full = ids(&audit_snapshot(lab, &["--format", "json"]).json());
    let only = |args: &[&str]| {
        let mut all = vec!["--format", "json", "--fail-on", "never"];
        all.extend_from_slice(args);
        let r = audit_snapshot(lab, &all);
        r.expect_code(0);
        ids(&r.json())
    };
    assert_eq!(only(&["--only", "5.13"]), ["5.13"]);
    assert_eq!(
        only(&["--only", "docker.container.read_only_rootfs"]),
        ["5.13"]
    );
    let sec5: Vec<String> = full
        .iter()
        .filter(|i| i.starts_with("5."))
        .cloned()
        .collect();
    assert_eq!(sec5.len(), 32);
    assert_eq!(only(&["--only", "5"]), sec5);
    let sub11: Vec<String> = full
        .iter()
        .filter(|i| i.starts_with("1.1."))
        .cloned()
        .collect();
    assert_eq!(sub11.len(), 18);
    assert_eq!(only(&["--only", "1.1"]), sub11);
    // Comma lists and repetition, in catalog order whatever the order given.
    assert_eq!(
        only(&[
            "--only",
            "5.26,2.1",
            "--only",
            "docker.container.read_only_rootfs"
        ]),
        ["2.1", "5.13", "5.26"]
    );
    // The older numbering: 5.12 and 5.25 are the read-only root and no-new-privileges there.
    assert_eq!(
        only(&["--ids", "cis-1.2.0", "--only", "5.12,5.25"]),
        ["5.12", "5.25"]
    );
    let old = audit_snapshot(
        lab,
        &[
            "--ids",
            "cis-1.2.0",
            "--only",
            "5.12,5.25",
            "--format",
            "json",
        ],
    )
    .json();
    let controls: Vec<&str> = old["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["control"].as_str().unwrap())
        .collect();
    assert_eq!(
        controls,
        [
            "docker.container.read_only_rootfs",
            "docker.container.no_new_privileges"
        ]
    );
    assert_eq!(
        only(&[
            "--ids",
            "cis-1.2.0",
            "--only",
            "docker.container.read_only_rootfs"
        ]),
        ["5.12"]
    );
}

#[test]
fn exclude_takes_the_same_forms() {
    let lab = lab_or_skip!();
    let run = |args: &[&str]| {
        let mut all = vec!["--format", "json", "--fail-on", "never"];
        all.extend_from_slice(args);
        let r = audit_snapshot(lab, &all);
        r.expect_code(0);
        ids(&r.json())
    };
    let left = run(&[
        "--exclude",
        "5,1.1",
        "--exclude",
        "docker.image.trusted_base",
    ]);
    assert_eq!(left.len(), 117 - 32 - 18 - 1);
    assert!(left
        .iter()
        .all(|i| !i.starts_with("5.") && !i.starts_with("1.1.")));
    assert!(!left.contains(&"4.2".to_string()));
    let old = run(&["--ids", "cis-1.2.0", "--exclude", "5.12"]);
    assert!(!old.contains(&"5.12".to_string()));
    assert!(old.contains(&"5.25".to_string()));
}

fn usage_error(r: &Run, names: &str) {
    r.expect_code(2);
    assert_eq!(r.stdout, "", "a usage error prints no report\n{r}");
    assert!(
        r.stderr.contains(names),
        "stderr does not name {names:?}\n{r}"
    );
}

#[test]
fn unknown_ids_are_usage_errors_that_name_them() {
    let lab = lab_or_skip!();
    usage_error(&audit_snapshot(lab, &["--only", "9.99"]), "9.99");
    usage_error(&audit_snapshot(lab, &["--only", "5.13,5.77"]), "5.77");
    usage_error(&audit_snapshot(lab, &["--exclude", "5.99"]), "5.99");
    usage_error(
        &audit_snapshot(lab, &["--only", "docker.container.no_such_control"]),
        "docker.container.no_such_control",
    );
    // 5.32 exists in 1.6.0, not in 1.2.0's numbering.
    usage_error(
        &audit_snapshot(lab, &["--ids", "cis-1.2.0", "--only", "5.32"]),
        "5.32",
    );
    usage_error(
        &audit_snapshot(lab, &["--ids", "cis-9.9", "--only", "5.13"]),
        "cis-9.9",
    );
    usage_error(
        &audit_snapshot(lab, &["--only", "5.13", "--exclude", "5.13"]),
        "leaves no check",
    );
    let _gate = lab.read();
    usage_error(&lab.audit(&["--include", "("]), "--include");
    usage_error(&lab.audit(&["--exclude", "web["]), "--exclude");
}

#[test]
fn the_hostile_container_is_selected_by_regex_like_any_other() {
    let lab = lab_or_skip!();
    let doc = audit_json(lab, &["--only", "5.6", "--include", "^hos"]);
    assert_eq!(
        container_names(&results_by_id(&doc)["5.6"]),
        strings(&[HOSTILE])
    );
}

/// Live, `audit --exclude REGEX` and `--exclude-container REGEX` leave the same containers
/// out, each listed with the same reason; collect's `--exclude` and
/// `--exclude-container` write the same snapshot selection.
#[test]
fn exclude_regex_and_exclude_container_agree_live() {
    let lab = lab_or_skip!();
    let everything = audit_json(lab, &["--only", "5.13"]);
    assert!(audited(&everything).contains(&PLAIN.to_string()));
    let by_exclude = audit_json(lab, &["--only", "5.13", "--exclude", "^pla"]);
    let by_option = audit_json(lab, &["--only", "5.13", "--exclude-container", "^pla"]);
    let want = strings(&[HARDENED, HOSTILE, LABELLED]);
    assert_eq!(audited(&by_exclude), want);
    assert_eq!(audited(&by_option), want);
    assert_eq!(
        left_out(&by_exclude)[PLAIN],
        "name matches excluded pattern ^pla"
    );
    assert_eq!(left_out(&by_exclude), left_out(&by_option));
    assert_eq!(
        results_by_id(&by_exclude)["5.13"]["status"],
        results_by_id(&by_option)["5.13"]["status"]
    );

    let _gate = lab.read();
    let collect = |option: &str| -> Value {
        let r = crate::support::run(&[
            "collect",
            "docker",
            "--docker-host",
            &lab.host,
            option,
            "^plain$",
        ]);
        r.expect_code(0);
        r.json()
    };
    for (option, reason) in [
        ("--exclude", "name matches excluded pattern ^plain$"),
        (
            "--exclude-container",
            "name matches excluded pattern ^plain$",
        ),
    ] {
        let snap = collect(option);
        let names: Vec<&str> = snap["docker"]["containers"]["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["inspect"]["Name"].as_str().unwrap())
            .collect();
        assert!(!names.contains(&"/plain"), "{option}: {names:?}");
        assert!(names.contains(&"/hardened"), "{option}: {names:?}");
        let selection = &snap["docker"]["selection"];
        assert_eq!(
            selection["exclude"],
            serde_json::json!(["^plain$"]),
            "{option}"
        );
        let skipped = selection["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == PLAIN)
            .unwrap_or_else(|| panic!("{option}: plain not recorded as left out: {selection}"));
        assert_eq!(skipped["reason"], reason);
        assert_eq!(skipped["by_filter"], true);
    }
}
