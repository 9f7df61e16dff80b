//! `--format json` against docs/json-audit.md (issue 2, point 8): every field of the
//! `bulkhead.audit/1` contract, checked against what the daemon itself reports; counts that add
//! up; the older numbering with its aliases; secrets masked in every format.

use crate::support::{
    container_names, object_statuses, results_by_id, run, HARDENED, HOSTILE, LABELLED, PLAIN,
    RUNNING_AUDITED, SECRET_VALUE,
};
use crate::{audit_snapshot, lab_or_skip, lab_snapshot};
use std::collections::BTreeMap;

const STATUSES: &[&str] = &[
    "pass",
    "fail",
    "warn",
    "info",
    "manual",
    "not_applicable",
    "error",
];

fn is_rfc3339_utc_seconds(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn hostnames() -> Vec<String> {
    ["/etc/hostname", "/proc/sys/kernel/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn every_field_of_the_contract_from_a_live_audit() {
    let lab = lab_or_skip!();
    let _gate = lab.read();
    let r = lab.audit(&["--format", "json"]);
    r.expect_code(1);
    let doc = r.json();
    let version = lab
        .d
        .api()
        .get("/version")
        .and_then(|r| r.json())
        .expect("GET /version");

    assert_eq!(doc["schema"], "bulkhead.audit/1");
    assert_eq!(doc["tool"]["name"], "bulkhead");
    assert_eq!(doc["tool"]["version"], env!("CARGO_PKG_VERSION"));

    let t = &doc["target"];
    assert_eq!(t["kind"], "docker");
    let host = t["host"].as_str().expect("target.host");
    assert!(
        hostnames().iter().any(|h| h == host),
        "target.host {host:?}"
    );
    assert_eq!(t["engine_version"], version["Version"]);
    assert_eq!(t["api_version"], version["ApiVersion"]);
    assert_eq!(t["endpoint"], lab.host.as_str());
    assert_eq!(t["local"], true);
    assert_eq!(t["rootless"], false);
    let collected = t["collected_at"].as_str().expect("collected_at");
    assert!(is_rfc3339_utc_seconds(collected), "{collected}");

    assert_eq!(
        doc["benchmark"],
        serde_json::json!({"id": "cis-docker", "version": "1.6.0", "numbering": "cis-1.6.0", "not_numbered": 0})
    );

    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 117, "every check of CIS Docker 1.6.0");
    let mut ids = std::collections::BTreeSet::new();
    let mut controls = std::collections::BTreeSet::new();
    for res in results {
        let id = res["id"].as_str().expect("id");
        assert!(ids.insert(id.to_string()), "duplicate id {id}");
        let control = res["control"].as_str().expect("control");
        assert!(control.starts_with("docker."), "{control}");
        assert!(
            controls.insert(control.to_string()),
            "duplicate control {control}"
        );
        assert!(!res["title"].as_str().expect("title").is_empty());
        assert_eq!(res["section"], id.split('.').next().unwrap(), "{id}");
        let status = res["status"].as_str().expect("status");
        assert!(STATUSES.contains(&status), "{id}: {status}");
        if matches!(status, "not_applicable" | "error") {
            let why = res["message"].as_str().unwrap_or("");
            assert!(!why.is_empty(), "{id} is {status} without a reason");
        }
        assert!(
            res["scored"].is_boolean() && res["automated"].is_boolean(),
            "{id}"
        );
        let stride = res["stride"].as_str().expect("stride");
        assert!(
            stride.chars().all(|c| "STRIDE".contains(c)),
            "{id}: {stride}"
        );
        for (k, v) in res["aliases"].as_object().expect("aliases") {
            assert!(k.starts_with("cis-docker-") && v.is_string(), "{id}: {k}");
        }
        assert!(!res["remediation"]
            .as_str()
            .expect("remediation")
            .trim()
            .is_empty());
        for o in res["objects"].as_array().expect("objects") {
            assert!(o["kind"].is_string(), "{id}: {o}");
            let st = o["status"].as_str().expect("object status");
            assert!(STATUSES.contains(&st), "{id}: {o}");
            if o["kind"] == "container" {
                let name = o["name"].as_str().unwrap();
                assert!(!name.starts_with('/'), "{id}: leading slash in {name}");
                assert!(
                    RUNNING_AUDITED.contains(&name),
                    "{id}: unexpected container {name}"
                );
                assert_eq!(o["id"], lab.short_id(name), "{id}: {name}");
            }
            if let Some(e) = o.get("evidence") {
                for f in ["field", "actual", "expected"] {
                    assert!(e[f].is_string(), "{id}: evidence.{f} in {o}");
                }
            }
        }
    }

    // Per-object verdicts roll up to the check, in the selected (1.6.0) numbering.
    let by_id = results_by_id(&doc);
    let expect = |id: &str, pass: &[&str]| {
        let want: BTreeMap<String, String> = RUNNING_AUDITED
            .iter()
            .map(|n| {
                let st = if pass.contains(n) { "pass" } else { "fail" };
                (n.to_string(), st.to_string())
            })
            .collect();
        assert_eq!(object_statuses(&by_id[id]), want, "{id}");
        assert_eq!(by_id[id]["status"], "fail", "{id}");
    };
    expect("5.13", &[HARDENED]);
    expect("5.26", &[HARDENED]);
    expect("4.1", &[HARDENED]);
    expect("5.27", &[]); // no container of the lab has a health check
    expect("5.6", &[HARDENED, LABELLED, PLAIN]);
    let r513 = &by_id["5.13"];
    assert_eq!(r513["control"], "docker.container.read_only_rootfs");
    assert_eq!(r513["section"], "5");
    assert_eq!(r513["scored"], true);
    assert_eq!(r513["aliases"]["cis-docker-1.2.0"], "5.12");
    let plain = r513["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == PLAIN)
        .unwrap();
    assert_eq!(
        plain["evidence"],
        serde_json::json!({"field": "HostConfig.ReadonlyRootfs", "actual": "false", "expected": "true"})
    );
    assert_eq!(by_id["5.26"]["aliases"]["cis-docker-1.2.0"], "5.25");
    // The hostile bind source comes back byte for byte once the JSON is parsed.
    let hostile = by_id["5.6"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == HOSTILE)
        .unwrap();
    let actual = hostile["evidence"]["actual"].as_str().unwrap();
    assert!(
        actual.contains(&lab.hostile_source),
        "5.6 evidence {actual:?} does not name {:?}",
        lab.hostile_source
    );

    // The summary counts add up.
    let s = &doc["summary"];
    let mut sum = 0;
    for st in STATUSES {
        let n = results.iter().filter(|r| r["status"] == *st).count();
        assert_eq!(s[st], n, "summary.{st}");
        sum += n;
    }
    assert_eq!(s["total"], sum);
    assert_eq!(sum, results.len());
    let scored = |st: &str| {
        results
            .iter()
            .filter(|r| r["scored"] == true && r["status"] == st)
            .count() as i64
    };
    assert_eq!(s["score"], scored("pass") - scored("fail"));
    let pct =
        (scored("pass") as f64 * 1000.0 / (scored("pass") + scored("fail")) as f64).round() / 10.0;
    assert_eq!(s["score_percent"].as_f64(), Some(pct));
}

#[test]
fn older_numbering_ids_with_aliases_to_the_current_one() {
    let lab = lab_or_skip!();
    let current = results_by_id(&audit_snapshot(lab, &["--format", "json"]).json());
    let r = audit_snapshot(lab, &["--format", "json", "--ids", "cis-1.2.0"]);
    r.expect_code(1);
    let doc = r.json();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(doc["benchmark"]["id"], "cis-docker");
    assert_eq!(doc["benchmark"]["version"], "1.6.0");
    assert_eq!(doc["benchmark"]["numbering"], "cis-1.2.0");
    // Every check is evaluated whatever the numbering; those 1.2.0 has no number for are
    // counted in not_numbered and listed under their control ID in section "unnumbered".
    assert_eq!(results.len(), 117, "no check left out by the numbering");
    let unnumbered: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["section"] == "unnumbered")
        .collect();
    assert_eq!(
        doc["benchmark"]["not_numbered"].as_u64().unwrap() as usize,
        unnumbered.len(),
        "not_numbered counts the checks 1.2.0 has no number for"
    );
    assert!(!unnumbered.is_empty());
    for r in &unnumbered {
        assert_eq!(r["id"], r["control"], "{r}");
    }
    let by_id = results_by_id(&doc);
    for (old, new, control) in [
        ("5.12", "5.13", "docker.container.read_only_rootfs"),
        ("5.25", "5.26", "docker.container.no_new_privileges"),
    ] {
        let res = &by_id[old];
        assert_eq!(res["control"], control);
        assert_eq!(res["aliases"]["cis-docker-1.6.0"], new);
        assert!(res["aliases"].get("cis-docker-1.2.0").is_none(), "{res}");
        assert_eq!(res["section"], "5");
        // Same verdict and objects as under the current number.
        assert_eq!(res["status"], current[new]["status"]);
        assert_eq!(res["objects"], current[new]["objects"]);
    }
    // Every result is the same check as the control's 1.6.0 result.
    for res in results {
        let new = res["aliases"]["cis-docker-1.6.0"]
            .as_str()
            .expect("1.6.0 alias");
        assert_eq!(res["control"], current[new]["control"]);
    }
}

#[test]
fn secret_values_never_reach_any_output() {
    let lab = lab_or_skip!();
    let snap = lab_snapshot(lab);
    let snapshot_text = std::fs::read_to_string(&snap).unwrap();
    assert!(
        snapshot_text.contains("DB_PASSWORD="),
        "the labelled container's variable is collected"
    );
    assert!(
        !snapshot_text.contains(SECRET_VALUE),
        "secret in the snapshot"
    );
    for format in ["text", "json", "docker-bench-json", "junit"] {
        let r = audit_snapshot(lab, &["--format", format, "-v"]);
        assert!(!r.stdout.is_empty(), "{r}");
        assert!(!r.stdout.contains(SECRET_VALUE), "secret in {format}");
    }
    let _gate = lab.read();
    let live = run(&["collect", "docker", "--docker-host", &lab.host]);
    live.expect_code(0);
    assert!(
        !live.stdout.contains(SECRET_VALUE),
        "secret in collect's stdout"
    );
}

#[test]
fn container_objects_name_only_audited_containers() {
    let lab = lab_or_skip!();
    let doc = audit_snapshot(lab, &["--format", "json"]).json();
    for res in doc["results"].as_array().unwrap() {
        for name in container_names(res) {
            assert!(
                RUNNING_AUDITED.contains(&name.as_str()),
                "{}: {name}",
                res["id"]
            );
        }
    }
}
