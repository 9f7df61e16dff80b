//! `harden --scan`: the fixes of the scanner's findings, planned from real artifacts in a
//! temporary directory (a Dockerfile whose final stage runs as root while its builder stage has a
//! USER, a compose file with a privileged service, no read_only and a secret in its environment,
//! a commented Kubernetes Deployment without securityContext, a daemon.json), applied by the same
//! machinery as host fixes (backups beside the files, atomic writes keeping mode and owner,
//! refusal of files changed since the plan, journal, rollback), and checked by scanning again.
//!
//! Nothing is mocked: the files are real, with real modes and owners, and the scan is
//! bulkhead-scan's.

mod common;

use bulkhead_harden::apply::{apply, partition, rollback, ApplyError, ApplyOptions};
use bulkhead_harden::files::sha256_hex;
use bulkhead_harden::scan_fixes::{plan, ScanPlan, ScanRequest};
use bulkhead_harden::{render, FixKind, Plan, Safety};
use common::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A secret written into the compose file: it must never be printed.
const SECRET: &str = "Sup3rSecretValue-77";

const DOCKERFILE: &str = "# builder: unprivileged\nFROM golang:1.22 AS build\nUSER builder\nRUN go build -o /out/app .\n\n# the image that ships\nFROM debian:12.5\nADD app.conf /etc/app.conf\nCOPY --from=build /out/app /usr/local/bin/app\nEXPOSE 8080\nCMD [\"app\"]\n";

fn compose() -> String {
    format!("# shop stack\nservices:\n  web:\n    image: shop:1.4   # pinned\n    privileged: true\n    environment:\n      DB_PASSWORD: {SECRET}\n    ports:\n      - \"127.0.0.1:8080:8080\"\n")
}

const DEPLOYMENT: &str = "# the shop's web tier\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop   # production\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        # the application\n        - name: app\n          image: shop:1.4\n          ports:\n            - containerPort: 8080   # http\n";

const DAEMON_JSON: &str = "{\n    \"icc\": true,\n    \"log-driver\": \"journald\"\n}\n";

/// The four artifacts, with modes and owners a rewrite must keep.
fn artifacts(dir: &Path) -> BTreeMap<&'static str, String> {
    let files: BTreeMap<&'static str, String> = [
        ("app/Dockerfile", DOCKERFILE.to_string()),
        ("app/compose.yaml", compose()),
        ("deploy/web.yaml", DEPLOYMENT.to_string()),
        ("etc/daemon.json", DAEMON_JSON.to_string()),
    ]
    .into_iter()
    .collect();
    for (name, content) in &files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
    }
    let c = dir.join("app/compose.yaml");
    std::fs::set_permissions(&c, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(&c, Some(1234), Some(2345)).unwrap();
    std::fs::set_permissions(
        dir.join("etc/daemon.json"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    files
}

fn request(dir: &Path, numbering: &[(&str, &str)]) -> ScanRequest {
    ScanRequest {
        paths: vec![dir.to_path_buf()],
        numbering: numbering
            .iter()
            .map(|(b, e)| (b.to_string(), e.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn as_plan(sp: &ScanPlan) -> Plan {
    Plan {
        numbering: vec![("cis-docker".into(), "1.2.0".into())],
        root: "/".into(),
        fixes: sp.fixes.clone(),
        unfixed: sp.unfixed.clone(),
        scan: Some(sp.summary.clone()),
    }
}

fn options(dir: &Path, include_review: bool) -> ApplyOptions {
    ApplyOptions {
        root: PathBuf::from("/"),
        include_review,
        state_dir: Some(dir.join("state")),
    }
}

fn rel(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// (rule, object) of every finding a new scan of `dir` reports, per file name relative to dir.
fn rescan(dir: &Path) -> Vec<(String, String, String)> {
    let r = bulkhead_scan::scan_paths(&[dir.to_path_buf()], &Default::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r.findings
        .into_iter()
        .map(|f| {
            let p = f
                .location
                .path
                .strip_prefix(&format!("{}/", dir.display()))
                .unwrap_or(&f.location.path)
                .to_string();
            (p, f.rule, f.object)
        })
        .collect()
}

fn mode_owner(p: &Path) -> (u32, u32, u32) {
    let m = std::fs::metadata(p).unwrap();
    (m.mode() & 0o7777, m.uid(), m.gid())
}

#[test]
fn scan_fixes_are_planned_applied_with_backups_verified_by_a_rescan_and_rolled_back() {
    let dir = temp_root("scan-e2e");
    let originals = artifacts(&dir);
    let sp = plan(&request(&dir, &[("cis-docker", "1.2.0")])).unwrap();
    assert_eq!(sp.summary.files, 4, "{:?}", sp.summary);
    let fix = |kind: FixKind, object: &str| {
        sp.fixes
            .iter()
            .find(|f| f.kind == kind && f.target.name == object && f.safety == Safety::Review)
            .unwrap_or_else(|| {
                panic!(
                    "no {kind:?} fix for {object}: {:#?}",
                    sp.fixes.iter().map(|f| &f.id).collect::<Vec<_>>()
                )
            })
    };

    // Dockerfile: PITFALLS "Artifact scanners" 1 - the builder's USER does not hide the root
    // final stage; the USER goes into the final stage, after its build steps.
    let df = fix(FixKind::Dockerfile, "stage 1");
    assert_eq!(df.target.kind, "image");
    assert_eq!(
        df.target.path.as_deref(),
        Some(rel(&dir, "app/Dockerfile").as_str())
    );
    assert!(df.checks.contains(&"4.1".to_string()), "{:?}", df.checks);
    assert!(df
        .controls
        .contains(&"docker.image.non_root_user".to_string()));
    assert!(
        df.threats.contains(&"DKR-E01".to_string()),
        "{:?}",
        df.threats
    );
    let d = df.diff().unwrap();
    assert!(
        d.contains(" COPY --from=build /out/app /usr/local/bin/app\n+USER 10001:10001\n"),
        "{d}"
    );
    // The ADD -> COPY fix is safe and comes first in the file's chain.
    let safe = sp
        .fixes
        .iter()
        .find(|f| f.kind == FixKind::Dockerfile && f.safety == Safety::Safe)
        .expect("the safe Dockerfile fix");
    assert!(safe
        .diff()
        .unwrap()
        .contains("+COPY app.conf /etc/app.conf\n"));
    assert_eq!(
        df.action.edits[0].before_sha256.as_deref(),
        Some(safe.action.edits[0].after_sha256.as_str()),
        "the review fix builds on the safe one"
    );

    // Compose: privileged, read_only, no-new-privileges in CIS Docker 1.2.0 numbering.
    let web = fix(FixKind::Compose, "service web");
    assert_eq!(web.target.kind, "compose-service");
    for check in ["5.4", "5.12", "5.25"] {
        assert!(
            web.checks.contains(&check.to_string()),
            "{check}: {:?}",
            web.checks
        );
    }
    let d = web.diff().unwrap();
    assert!(
        d.contains("-    privileged: true\n+    privileged: false\n"),
        "{d}"
    );
    assert!(d.contains("+    read_only: true\n"), "{d}");
    assert!(d.contains("+      - no-new-privileges:true\n"), "{d}");
    assert!(d.contains("DB_PASSWORD: ***"), "{d}");

    // Kubernetes: one securityContext block for both settings, comments kept.
    let app = fix(
        FixKind::PodSecurityContext,
        "Deployment/shop/web container app",
    );
    assert_eq!(app.target.kind, "workload");
    let rules: Vec<&str> = app.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        vec!["k8s-privilege-escalation", "k8s-writable-root-fs"]
    );
    assert!(app.diff().unwrap().contains(
        "+          securityContext:\n+            allowPrivilegeEscalation: false\n+            readOnlyRootFilesystem: true\n"
    ));

    // daemon.json: keys merged after the last one with the file's four-space indentation.
    let daemon = fix(FixKind::DaemonJson, "daemon.json");
    assert!(daemon
        .diff()
        .unwrap()
        .contains("-    \"icc\": true,\n+    \"icc\": false,\n"));

    // A secret never reaches a diff, the text view or the JSON contract.
    let p = as_plan(&sp);
    let json = render::json(&p, "test");
    let text = render::text(&p, true);
    for out in [&json, &text] {
        assert!(!out.contains(SECRET), "a secret was printed");
    }
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema"], "bulkhead.harden/1");
    let kinds: Vec<&str> = v["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for k in [
        "dockerfile",
        "compose",
        "pod-security-context",
        "daemon-json",
    ] {
        assert!(kinds.contains(&k), "{k}: {kinds:?}");
    }
    for f in v["fixes"].as_array().unwrap() {
        for key in ["checks", "threats", "target", "safety", "diff", "findings"] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
        assert_eq!(f["apply"], "automatic");
        assert!(f["command"].is_null());
    }
    assert_eq!(v["scan"]["files"], 4);

    // Apply everything: backups beside each file, mode and owner kept.
    let before_meta = mode_owner(&dir.join("app/compose.yaml"));
    let report = apply(&p, &options(&dir, true)).unwrap();
    assert_eq!(report.applied.len(), p.fixes.len());
    assert_eq!(
        report.backups.len(),
        4,
        "one backup per file, however many fixes"
    );
    for (path, backup) in &report.backups {
        let name = Path::new(path)
            .strip_prefix(&*dir)
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(backup.parent(), dir.join(name).parent(), "beside {name}");
        assert_eq!(&std::fs::read_to_string(backup).unwrap(), &originals[name]);
    }
    assert_eq!(mode_owner(&dir.join("app/compose.yaml")), before_meta);
    assert_eq!(mode_owner(&dir.join("etc/daemon.json")).0, 0o600);
    let deployed = std::fs::read_to_string(dir.join("deploy/web.yaml")).unwrap();
    for comment in [
        "# the shop's web tier",
        "namespace: shop   # production",
        "# the application",
        "- containerPort: 8080   # http",
    ] {
        assert!(deployed.contains(comment), "{comment} lost:\n{deployed}");
    }
    assert!(
        std::fs::read_to_string(dir.join("app/compose.yaml"))
            .unwrap()
            .contains(&format!("DB_PASSWORD: {SECRET}")),
        "the secret itself stays where the user put it"
    );

    // Scanning again: every fixed finding is gone, and the backups are not scanned.
    let after = rescan(&dir);
    for f in p.fixes.iter().flat_map(|f| &f.findings) {
        let name = f.path.strip_prefix(&format!("{}/", dir.display())).unwrap();
        assert!(
            !after
                .iter()
                .any(|(p, r, o)| p == name && *r == f.rule && *o == f.object),
            "{} still reported on {} {}",
            f.rule,
            name,
            f.object
        );
    }
    assert!(
        after.iter().all(|(p, _, _)| !p.ends_with(".bak")),
        "{after:?}"
    );
    assert!(
        after.iter().any(|(_, r, _)| r == "compose-secret-env"),
        "a finding without a fix is still reported"
    );

    // Rollback restores every byte, mode and owner.
    let rb = rollback(&options(&dir, true)).unwrap();
    assert_eq!(rb.restored.len(), 4);
    for (name, content) in &originals {
        assert_eq!(
            &std::fs::read_to_string(dir.join(name)).unwrap(),
            content,
            "{name}"
        );
    }
    assert_eq!(mode_owner(&dir.join("app/compose.yaml")), before_meta);
}

#[test]
fn a_file_changed_between_plan_and_apply_is_refused_and_nothing_is_written() {
    let dir = temp_root("scan-changed");
    let originals = artifacts(&dir);
    let p = as_plan(&plan(&request(&dir, &[])).unwrap());
    let changed = format!("{}\n    restart: always\n", compose().trim_end());
    std::fs::write(dir.join("app/compose.yaml"), &changed).unwrap();
    let err = apply(&p, &options(&dir, true)).unwrap_err();
    match &err {
        ApplyError::Refused(m) => assert!(
            m.contains("app/compose.yaml") && m.contains("changed after the plan read it"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    // Nothing was written: the other files are untouched and no backup exists.
    for (name, content) in &originals {
        let now = std::fs::read_to_string(dir.join(name)).unwrap();
        let expected = if *name == "app/compose.yaml" {
            &changed
        } else {
            content
        };
        assert_eq!(&now, expected, "{name}");
    }
    assert!(walk(&dir)
        .iter()
        .all(|p| !p.to_string_lossy().ends_with(".bak")));
}

#[test]
fn safe_fixes_apply_alone_and_review_fixes_need_the_safe_ones_they_build_on() {
    let dir = temp_root("scan-safe");
    artifacts(&dir);
    let p = as_plan(&plan(&request(&dir, &[])).unwrap());
    let (chosen, skipped) = partition(&p, &options(&dir, false));
    assert!(chosen.iter().all(|f| f.safety == Safety::Safe));
    assert!(!skipped.is_empty());
    let report = apply(&p, &options(&dir, false)).unwrap();
    assert!(!report.applied.is_empty());
    let df = std::fs::read_to_string(dir.join("app/Dockerfile")).unwrap();
    assert!(df.contains("COPY app.conf /etc/app.conf"), "{df}");
    assert!(
        !df.contains("USER 10001"),
        "a review fix was applied:\n{df}"
    );
    // The review fix of the old plan builds on content the file no longer has (the safe fix is
    // in it now): applying it alone is refused, and a new plan starts from the file as it is.
    let review_only = Plan {
        fixes: p
            .fixes
            .iter()
            .filter(|f| f.safety == Safety::Review && f.kind == FixKind::Dockerfile)
            .cloned()
            .collect(),
        ..p.clone()
    };
    let again = plan(&request(&dir, &[])).unwrap();
    assert!(
        again.fixes.iter().all(|f| f.safety == Safety::Review),
        "the safe fixes are done"
    );
    let fresh = again
        .fixes
        .iter()
        .find(|f| f.kind == FixKind::Dockerfile)
        .unwrap();
    assert_eq!(
        fresh.action.edits[0].after_sha256, review_only.fixes[0].action.edits[0].after_sha256,
        "the new plan writes what the chain would have"
    );
    rollback(&options(&dir, false)).unwrap();
    let err = apply(&review_only, &options(&dir, true)).unwrap_err();
    assert!(
        matches!(&err, ApplyError::Refused(m) if m.contains("app/Dockerfile")),
        "{err:?}"
    );
}

#[test]
fn select_and_threat_choose_scan_findings() {
    let dir = temp_root("scan-select");
    artifacts(&dir);
    let with = |select: &[&str], threats: &[&str]| {
        let mut r = request(&dir, &[("cis-docker", "1.2.0")]);
        r.select = select.iter().map(|s| s.to_string()).collect();
        r.threats = threats.iter().map(|s| s.to_string()).collect();
        plan(&r)
    };
    let rules = |sp: &ScanPlan| {
        let mut v: Vec<String> = sp
            .fixes
            .iter()
            .flat_map(|f| f.findings.iter().map(|x| x.rule.clone()))
            .collect();
        v.sort();
        v
    };
    // 5.12 in CIS Docker 1.2.0 is the read-only root file system, in compose and (through the
    // Kubernetes rule's Docker twin) in the Deployment.
    let sp = with(&["5.12"], &[]).unwrap();
    assert_eq!(
        rules(&sp),
        vec!["compose-read-only", "k8s-writable-root-fs"]
    );
    assert!(sp
        .fixes
        .iter()
        .all(|f| f.checks.contains(&"5.12".to_string())));
    // A scan rule, or its alias, selects that rule only.
    assert_eq!(
        rules(&with(&["compose-privileged"], &[]).unwrap()),
        vec!["compose-privileged"]
    );
    assert_eq!(
        rules(&with(&["DL3020"], &[]).unwrap()),
        vec!["dockerfile-add-instead-of-copy"]
    );
    // A threat selects the findings whose control mitigates it.
    let sp = with(&[], &["DKR-E01"]).unwrap();
    assert!(
        rules(&sp).contains(&"dockerfile-no-user".to_string()),
        "{:?}",
        rules(&sp)
    );
    assert!(!rules(&sp).contains(&"dockerfile-add-instead-of-copy".to_string()));
    // Unknown names are errors, not empty plans.
    let e = with(&["no-such-rule"], &[]).unwrap_err();
    assert!(e.contains("no-such-rule"), "{e}");
    assert!(with(&[], &["DKR-X99"]).unwrap_err().contains("DKR-X99"));
}

/// Run by the re-executed child only: apply the plan of the directory the parent named.
#[test]
fn scan_fault_child() {
    let Ok(dir) = std::env::var("BULKHEAD_SCAN_FAULT_CHILD") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let p = as_plan(&plan(&request(&dir, &[])).unwrap());
    let _ = apply(&p, &options(&dir, true));
    std::fs::write(dir.join("child-finished"), "1").unwrap();
}

#[test]
fn killed_between_backup_and_rename_every_artifact_is_whole() {
    for point in ["after-backup", "edit-before-rename"] {
        let dir = temp_root(&format!("scan-fault-{point}"));
        let originals = artifacts(&dir);
        let p = as_plan(&plan(&request(&dir, &[])).unwrap());
        kill_child_at_failpoint("scan_fault_child", "BULKHEAD_SCAN_FAULT_CHILD", &dir, point);
        // Each artifact is the original or the end of its chain, never anything between.
        for (name, content) in &originals {
            let now = std::fs::read_to_string(dir.join(name)).unwrap();
            let last = p
                .fixes
                .iter()
                .flat_map(|f| &f.action.edits)
                .rfind(|e| e.path == rel(&dir, name))
                .unwrap();
            assert!(
                now == *content || sha256_hex(now.as_bytes()) == last.after_sha256,
                "{point}: {name} is neither old nor new:\n{now}"
            );
        }
        rollback(&options(&dir, true)).unwrap();
        for (name, content) in &originals {
            assert_eq!(
                &std::fs::read_to_string(dir.join(name)).unwrap(),
                content,
                "{point}: {name}"
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// dockerd refuses to start with `"icc": false` while iptables is off ("You specified
/// --iptables=false with --icc=false"): the scan fix of the daemon.json the audited dockerd
/// reads is checked against that daemon's flags, a file is checked against itself, and a fix
/// of the running daemon's file asks for a restart.
#[test]
fn daemon_json_fixes_dockerd_would_refuse_are_not_planned() {
    use bulkhead_harden::scan_fixes::RunningDaemon;
    let dir = temp_root("scan-icc-iptables");
    let file = dir.join("daemon.json");
    std::fs::write(&file, "{}\n").unwrap();
    let request = |daemon: Option<RunningDaemon>, select: &[&str]| ScanRequest {
        paths: vec![file.clone()],
        options: bulkhead_scan::ScanOptions {
            kind: Some(bulkhead_scan::ArtifactKind::DaemonJson),
            ..Default::default()
        },
        select: select.iter().map(|s| s.to_string()).collect(),
        threat_links: Some(vec![]),
        daemon,
        ..Default::default()
    };
    let running = |args: &[&str]| RunningDaemon {
        config_file: file.clone(),
        flags: bulkhead_facts::docker::parse_dockerd_flags(
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ),
    };
    // The running dockerd has --iptables=false: icc is refused, the others still planned.
    let p = plan(&request(Some(running(&["--iptables=false"])), &[])).unwrap();
    let icc = p
        .unfixed
        .iter()
        .find(|u| u.check == "2.2")
        .unwrap_or_else(|| panic!("2.2 unfixed: {:#?}", p.unfixed));
    assert!(icc.reason.contains("--iptables=false"), "{}", icc.reason);
    assert!(!p.fixes.is_empty());
    for f in &p.fixes {
        let after = &f.action.edits[0].after;
        assert!(!after.contains("\"icc\""), "{after}");
        assert!(f.restart.is_some(), "the running daemon's file: restart");
    }
    // Without a running daemon (or another file), the file alone: no conflict in `{}`.
    let p = plan(&request(None, &["2.2"])).unwrap();
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.unfixed);
    assert!(p.fixes[0].restart.is_none());
    // A file that turns iptables off itself: the scanner's icc fix turns it back on, so 2.2
    // alone is planned and writes a file dockerd starts with.
    std::fs::write(&file, "{\"iptables\": false}\n").unwrap();
    let p = plan(&request(None, &["2.2"])).unwrap();
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.unfixed);
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let v: serde_json::Value = serde_json::from_str(&p.fixes[0].action.edits[0].after).unwrap();
    assert_eq!(v, serde_json::json!({"iptables": true, "icc": false}));
}

/// The member names of a daemon.json text, in file order (a duplicate shows twice).
fn json_keys(text: &str) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    // serde_json sorts the members and keeps the last of a duplicated key silently: find each
    // in the text instead (the values here hold no quoted member names).
    let mut keys: Vec<(usize, String)> = v
        .as_object()
        .unwrap()
        .keys()
        .map(|k| {
            let quoted = format!("\"{k}\":");
            assert_eq!(
                text.matches(&quoted).count(),
                1,
                "{k} written twice:\n{text}"
            );
            (text.find(&quoted).unwrap(), k.clone())
        })
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

/// dockerd refuses `"icc": false` while `"iptables": false` ("ICC=false uses iptables to
/// function"). In a scanned daemon.json that disables iptables, the fix of 2.2 turns iptables back
/// on in the same fix: 2.2 selected alone plans one fix writing the combination dockerd starts
/// with (its review note says iptables comes back on), every fix together writes `iptables` once,
/// and after apply a new scan reports neither daemon-icc nor daemon-iptables.
#[test]
fn the_icc_fix_of_a_file_without_iptables_turns_iptables_back_on() {
    let dir = temp_root("scan-icc-fix-iptables");
    let file = dir.join("daemon.json");
    let original = "{\n    \"iptables\": false,\n    \"log-driver\": \"journald\"\n}\n";
    let request = |select: &[&str]| ScanRequest {
        paths: vec![file.clone()],
        select: select.iter().map(|s| s.to_string()).collect(),
        threat_links: Some(vec![]),
        ..Default::default()
    };
    for (select, refused) in [
        (&["2.2"][..], false),
        (&["daemon-icc"][..], false),
        (&[][..], false),
        (&["2.2"][..], true),
        (&[][..], true),
    ] {
        // `refused`: the file already holds the combination dockerd refuses.
        let text = if refused {
            original.replace("\"log-driver\"", "\"icc\": false,\n    \"log-driver\"")
        } else {
            original.to_string()
        };
        std::fs::write(&file, &text).unwrap();
        let sp = plan(&request(select)).unwrap();
        assert!(
            !sp.unfixed
                .iter()
                .any(|u| u.check == "2.2" || u.check == "2.4"),
            "{select:?}: {:#?}",
            sp.unfixed
        );
        let review: Vec<_> = sp
            .fixes
            .iter()
            .filter(|f| f.safety == Safety::Review)
            .collect();
        assert_eq!(review.len(), 1, "{select:?}: {:#?}", sp.fixes);
        let icc_fix = review[0];
        assert!(
            icc_fix.checks.contains(&"2.2".to_string()),
            "{:?}",
            icc_fix.checks
        );
        let after = &icc_fix.action.edits[0].after;
        let keys = json_keys(after);
        if select == ["2.2"] {
            // Only icc and iptables change; the file's other members stay as they were.
            let expected = if refused {
                ["iptables", "icc", "log-driver"]
            } else {
                ["iptables", "log-driver", "icc"]
            };
            assert_eq!(keys, expected, "{after}");
        }
        let v: serde_json::Value = serde_json::from_str(after).unwrap();
        assert_eq!(
            (&v["icc"], &v["iptables"]),
            (&serde_json::json!(false), &serde_json::json!(true)),
            "{after}"
        );
        // The change and the review note say that iptables comes back on.
        assert!(
            icc_fix
                .changes
                .iter()
                .any(|c| c.starts_with("daemon-icc") && c.contains("\"iptables\": true")),
            "{:?}",
            icc_fix.changes
        );
        assert!(
            icc_fix
                .may_break
                .iter()
                .any(|m| m.contains("turns iptables back on")),
            "{:?}",
            icc_fix.may_break
        );

        // Apply, and scan again: JSON, iptables once, neither finding left.
        let p = as_plan(&sp);
        apply(&p, &options(&dir, true)).unwrap();
        let written = std::fs::read_to_string(&file).unwrap();
        json_keys(&written);
        let left = rescan(&dir);
        for rule in ["daemon-icc", "daemon-iptables"] {
            assert!(
                !left.iter().any(|(_, r, _)| r == rule),
                "{select:?}: {rule} left: {left:?}\n{written}"
            );
        }
        rollback(&options(&dir, true)).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        let _ = std::fs::remove_dir_all(dir.join("state"));
    }
}

/// A Kubernetes manifest written as JSON gets JSON edits (kubectl and jq read the result), and
/// apply refuses, changing nothing, to write any fixed content that no longer parses in the
/// file's own format.
#[test]
fn a_json_manifest_stays_json_and_unparsable_content_is_never_written() {
    let dir = temp_root("scan-pod-json");
    let pod = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\n    \"containers\": [\n      {\"name\": \"c\", \"image\": \"busybox:1.36\", \"securityContext\": {\"privileged\": true}}\n    ]\n  }\n}\n";
    let file = dir.join("pod.json");
    std::fs::write(&file, pod).unwrap();
    let sp = plan(&ScanRequest {
        paths: vec![file.clone()],
        threat_links: Some(vec![]),
        ..Default::default()
    })
    .unwrap();
    assert!(!sp.fixes.is_empty(), "{:#?}", sp.unfixed);
    let p = as_plan(&sp);
    apply(&p, &options(&dir, true)).unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&after).unwrap_or_else(|e| panic!("not JSON ({e}):\n{after}"));
    assert_eq!(
        v["spec"]["containers"][0]["securityContext"]["privileged"],
        false
    );
    rollback(&options(&dir, true)).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pod);

    // The safety net: a fix whose content is not JSON any more is refused before any write.
    let mut bad = as_plan(&sp);
    bad.fixes.truncate(1);
    let e = &mut bad.fixes[0].action.edits[0];
    e.after = e.after.replacen("\"privileged\"", "privileged", 1);
    e.after_sha256 = sha256_hex(e.after.as_bytes());
    let err = apply(&bad, &options(&dir, true)).unwrap_err();
    assert!(
        matches!(&err, ApplyError::Refused(m) if m.contains("no longer valid JSON")),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pod);
}

/// The proof on a real dockerd (the testkit's private daemon, with a default bridge of its own):
/// the daemon.json that the fix of 2.2 writes for a file holding `"icc": false` with
/// `"iptables": false` starts dockerd, with icc off on its default bridge, while the file as it
/// was does not start ("You specified --iptables=false with --icc=false"). Skipped, with the
/// reason printed, where no test dockerd can run (not root, no dockerd); under CI=true the
/// testkit fails instead.
#[test]
fn a_real_dockerd_starts_with_the_fixed_file_and_refuses_the_original() {
    use bulkhead_testkit::{DaemonOptions, TestDockerd};
    let dir = temp_root("scan-icc-dockerd");
    let file = dir.join("daemon.json");
    let refused = "{\n  \"icc\": false,\n  \"iptables\": false\n}\n";
    std::fs::write(&file, refused).unwrap();
    let sp = plan(&ScanRequest {
        paths: vec![file.clone()],
        select: vec!["2.2".into()],
        threat_links: Some(vec![]),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(sp.fixes.len(), 1, "{:#?}", sp.unfixed);
    let after = &sp.fixes[0].action.edits[0].after;
    let fixed: serde_json::Value = serde_json::from_str(after).unwrap();
    assert_eq!(fixed, serde_json::json!({"icc": false, "iptables": true}));

    let Some(d) = TestDockerd::start_with(DaemonOptions::default().own_bridge().daemon_json(fixed))
    else {
        return;
    };
    let bridge = d.api().get("/networks/bridge").unwrap().json().unwrap();
    assert_eq!(
        bridge["Options"]["com.docker.network.bridge.enable_icc"], "false",
        "{bridge}"
    );
    drop(d);

    // The original: dockerd exits before it answers, naming the combination.
    let original: serde_json::Value = serde_json::from_str(refused).unwrap();
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        TestDockerd::start_with(DaemonOptions::default().daemon_json(original))
    }));
    let err = match started {
        Ok(_) => panic!("dockerd started with \"icc\": false and \"iptables\": false"),
        Err(e) => e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    };
    assert!(
        err.contains("--iptables=false with --icc=false"),
        "dockerd failed for another reason: {err}"
    );
}

/// The API server refuses a container whose securityContext turns privilege escalation off while
/// it is privileged, or while it adds `CAP_SYS_ADMIN` by that name (pod validation: "cannot set
/// `allowPrivilegeEscalation` to false and `privileged` to true"). The JSON schema accepts both,
/// so a fix writing it would pass every offline check and fail at `kubectl apply`: the scanner
/// offers no escalation fix for such a container (its message says why), harden leaves it
/// unfixed, and no plan writes the refused combination.
#[test]
fn an_escalation_fix_the_api_server_would_refuse_is_not_planned() {
    let dir = temp_root("scan-ape-privileged");
    let file = dir.join("pod.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: prod\nspec:\n  containers:\n    - name: a\n      image: app:1.0\n      securityContext:\n        privileged: true\n    - name: b\n      image: app:1.0\n      securityContext:\n        capabilities:\n          add: [\"CAP_SYS_ADMIN\"]\n    - name: c\n      image: app:1.0\n      securityContext:\n        capabilities:\n          add: [SYS_ADMIN]\n",
    )
    .unwrap();
    let request = |select: &[&str]| ScanRequest {
        paths: vec![file.clone()],
        select: select.iter().map(|s| s.to_string()).collect(),
        threat_links: Some(vec![]),
        ..Default::default()
    };
    let p = plan(&request(&["k8s-privilege-escalation"])).unwrap();
    let unfixed: Vec<String> = p
        .unfixed
        .iter()
        .map(|u| u.object.clone().unwrap_or_default())
        .collect();
    assert_eq!(unfixed.len(), 2, "{:#?}", p.unfixed);
    assert!(
        unfixed[0].contains("container a") && unfixed[1].contains("container b"),
        "{unfixed:?}"
    );
    // `SYS_ADMIN` without the prefix passes the API server's check: container c is fixed.
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.fixes);
    assert!(
        p.fixes[0].target.name.ends_with("container c"),
        "{:?}",
        p.fixes[0].target
    );
    // Every fix together: no edit leaves a container with the combination the API server
    // refuses.
    let p = plan(&request(&[])).unwrap();
    assert!(!p.fixes.is_empty());
    for f in &p.fixes {
        for e in &f.action.edits {
            let docs: Vec<serde_json::Value> = vec![bulkhead_scan_yaml(&e.after)];
            let containers = docs[0]["spec"]["containers"].as_array().unwrap().clone();
            for c in containers {
                let sc = &c["securityContext"];
                if sc["allowPrivilegeEscalation"] == serde_json::json!(false) {
                    assert_ne!(sc["privileged"], serde_json::json!(true), "{}", e.after);
                    assert!(
                        !sc["capabilities"]["add"]
                            .as_array()
                            .is_some_and(|a| a.contains(&serde_json::json!("CAP_SYS_ADMIN"))),
                        "{}",
                        e.after
                    );
                }
            }
        }
    }
}

/// A YAML document as JSON, read with bulkhead's own parser.
fn bulkhead_scan_yaml(text: &str) -> serde_json::Value {
    let docs = bulkhead_sources::yaml::parse(text).unwrap();
    docs[0].root.to_json(bulkhead_sources::yaml::Schema::Yaml11)
}

/// `docker compose -f FILE` reads that file alone, without the override file compose would
/// otherwise read beside it: the note of a fix in a base and override pair names both files, in
/// compose's order, or following it would deploy the base file's `privileged: true`.
#[test]
fn the_compose_note_names_every_file_of_a_base_and_override_pair() {
    let dir = temp_root("scan-compose-pair");
    let app = dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("docker-compose.yml"),
        "services:\n  web:\n    image: shop:1.4\n    privileged: true\n",
    )
    .unwrap();
    std::fs::write(
        app.join("docker-compose.override.yml"),
        "services:\n  web:\n    privileged: true\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("compose.prod.yaml"),
        "services:\n  api:\n    image: api:2.0\n    privileged: true\n",
    )
    .unwrap();
    let p = plan(&ScanRequest {
        paths: vec![dir.to_path_buf()],
        threat_links: Some(vec![]),
        ..Default::default()
    })
    .unwrap();
    let base = app.join("docker-compose.yml").display().to_string();
    let over = app
        .join("docker-compose.override.yml")
        .display()
        .to_string();
    let pair = format!("`docker compose -f {base} -f {over} up -d`");
    let mut seen = 0;
    for f in &p.fixes {
        let note = f
            .notes
            .iter()
            .find(|n| n.starts_with("recreate the service"))
            .unwrap_or_else(|| panic!("{:#?}", f.notes));
        let path = f.target.path.clone().unwrap();
        if path.ends_with("compose.prod.yaml") {
            assert!(
                note.contains(&format!("`docker compose -f {path} up -d`")),
                "{note}"
            );
        } else {
            assert!(note.contains(&pair), "{note}");
            seen += 1;
        }
    }
    assert!(seen >= 2, "fixes in both files of the pair: {:#?}", p.fixes);

    // Only the base file scanned: compose still reads the override beside it, so the note
    // names both (found by review: `harden --scan compose.yaml` said `-f compose.yaml`).
    let p = plan(&ScanRequest {
        paths: vec![app.join("docker-compose.yml")],
        threat_links: Some(vec![]),
        ..Default::default()
    })
    .unwrap();
    assert!(!p.fixes.is_empty());
    for f in &p.fixes {
        assert!(f.notes.iter().any(|n| n.contains(&pair)), "{:#?}", f.notes);
    }
}

/// A StatefulSet whose container `b` merges container `a` (`- &c {...}`, then `- <<: *c`).
const MERGED_CONTAINERS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: prod\nspec:\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      automountServiceAccountToken: false\n      containers:\n        - &c\n          name: a\n          image: db:1.0\n          securityContext:\n            runAsNonRoot: true\n            runAsUser: 10001\n        - <<: *c\n          name: b\n";

/// A compose file whose service `api` is repeated whole by `api2` and merged by `api3`.
const SHARED_SERVICES: &str = "services:\n  api: &api\n    image: api:1.0\n    read_only: true\n  api2: *api\n  api3:\n    <<: *api\n    command: [\"worker\"]\n";

/// Plan the artifact `name` holding `content` in a new directory.
fn plan_one(test: &str, name: &str, content: &str) -> (TempRoot, ScanPlan) {
    let dir = temp_root(test);
    std::fs::write(dir.join(name), content).unwrap();
    let sp = plan(&ScanRequest {
        paths: vec![dir.to_path_buf()],
        threat_links: Some(vec![]),
        ..Default::default()
    })
    .unwrap();
    (dir, sp)
}

/// Every failing finding the plan's scan selected is either named by a fix or listed as not
/// fixed, never both and never neither; and once every fix is applied, a new scan no longer
/// reports the first and still reports the second: the plan and the rescan agree.
fn assert_plan_and_rescan_agree(dir: &Path, sp: &ScanPlan) {
    let named = |f: &bulkhead_scan::Finding| {
        sp.fixes
            .iter()
            .flat_map(|x| &x.findings)
            .filter(|x| x.rule == f.rule && x.object == f.object && x.line == f.location.line)
            .count()
    };
    let listed = |f: &bulkhead_scan::Finding| {
        let at = format!("{}:{} {}", f.location.path, f.location.line, f.object);
        sp.unfixed
            .iter()
            .filter(|u| {
                u.rule.as_deref() == Some(f.rule.as_str())
                    && u.object.as_deref() == Some(at.as_str())
            })
            .count()
    };
    let failing: Vec<&bulkhead_scan::Finding> = sp
        .report
        .findings
        .iter()
        .filter(|f| f.status == bulkhead_checks::Status::Fail)
        .collect();
    for f in &failing {
        assert_eq!(
            named(f) + listed(f),
            1,
            "{} of {} (line {}): named by {} fixes, listed unfixed {} times",
            f.rule,
            f.object,
            f.location.line,
            named(f),
            listed(f)
        );
    }
    apply(&as_plan(sp), &options(dir, true)).unwrap();
    let after = bulkhead_scan::scan_paths(&[dir.to_path_buf()], &Default::default());
    let reported = |f: &bulkhead_scan::Finding| {
        after
            .findings
            .iter()
            .any(|x| x.rule == f.rule && x.object == f.object)
    };
    // `verify` checks what the applied fixes name, the findings they remove through an anchor
    // included, and finds each of them gone.
    let baseline = bulkhead_harden::verify::ScanBaseline {
        inputs: vec![dir.to_path_buf()],
        target: None,
        kind: None,
        config: None,
        findings: sp
            .fixes
            .iter()
            .flat_map(|x| &x.findings)
            .map(|f| bulkhead_harden::verify::FindingStatus {
                rule: f.rule.clone(),
                title: String::new(),
                path: f.path.clone(),
                real_path: sp.real_paths[&f.path].clone(),
                line: f.line,
                object: f.object.clone(),
            })
            .collect(),
    };
    for c in bulkhead_harden::verify::compare_scan(&baseline, &after) {
        assert_eq!(
            c.after,
            bulkhead_checks::Status::Pass,
            "verify: {} of {}",
            c.rule,
            c.object
        );
    }
    for f in &failing {
        assert_eq!(
            reported(f),
            listed(f) == 1,
            "{} of {}: the plan says {}, the rescan {}",
            f.rule,
            f.object,
            if listed(f) == 1 { "not fixed" } else { "fixed" },
            if reported(f) {
                "still reports it"
            } else {
                "no longer does"
            }
        );
    }
}

/// Setting a key inside container `a`'s anchored mapping changes container `b`, which merges it:
/// the fix of `a` says so, counts `b`'s findings the edit removes as its own (no fix of `b`, and
/// they are not listed as unfixed), writes only into `a`, and a rescan after `--apply` agrees.
#[test]
fn a_fix_inside_an_anchored_container_names_the_container_merging_it() {
    let (dir, sp) = plan_one("scan-anchor-sts", "db.yaml", MERGED_CONTAINERS);
    let a = "StatefulSet/prod/db container a";
    let b = "StatefulSet/prod/db container b";
    let fixes: Vec<&str> = sp.fixes.iter().map(|f| f.target.name.as_str()).collect();
    assert_eq!(fixes, [a], "{:#?}", sp.fixes);
    let fix = &sp.fixes[0];
    assert_eq!(fix.safety, Safety::Review);
    let shared: Vec<&String> = fix
        .notes
        .iter()
        .filter(|n| n.contains(" merges "))
        .collect();
    assert_eq!(
        shared,
        [&format!("{b} (line 21) merges {a} through <<: *c: it gets securityContext.allowPrivilegeEscalation and securityContext.readOnlyRootFilesystem from this change, which it does not set itself; so this fix also removes its k8s-privilege-escalation and k8s-writable-root-fs (counted as fixed here)")]
    );
    let found: Vec<(&str, &str)> = fix
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.object.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("k8s-privilege-escalation", a),
            ("k8s-writable-root-fs", a),
            ("k8s-privilege-escalation", b),
            ("k8s-writable-root-fs", b),
        ]
    );
    assert!(
        fix.findings[2]
            .description
            .starts_with("fixed through the anchor: "),
        "{:?}",
        fix.findings[2]
    );
    for rule in ["k8s-privilege-escalation", "k8s-writable-root-fs"] {
        assert!(
            !sp.unfixed.iter().any(|u| u.rule.as_deref() == Some(rule)
                && u.object.as_deref().is_some_and(|o| o.ends_with(b))),
            "{rule} of b listed unfixed: {:#?}",
            sp.unfixed
        );
    }
    assert_plan_and_rescan_agree(&dir, &sp);
    // The keys went into the anchored mapping; b is still written as a merge.
    let written = std::fs::read_to_string(dir.join("db.yaml")).unwrap();
    assert_eq!(
        written,
        MERGED_CONTAINERS.replace(
            "            runAsUser: 10001\n",
            "            runAsUser: 10001\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n"
        )
    );
}

/// Container `b` has its writable root file system accepted (an inline suppression), yet merges
/// `a`'s securityContext: `a`'s fix is still planned (as a host compose fix of a shared service
/// is), needs review, and its note says `b` gets readOnlyRootFilesystem too, without counting a
/// finding `b` does not have.
#[test]
fn a_fix_reaching_a_container_not_reported_for_it_says_what_that_container_gets() {
    let manifest = MERGED_CONTAINERS.replace(
        "          name: b\n",
        "          name: b   # bulkhead:ignore k8s-writable-root-fs b writes its cache to /var/cache\n",
    );
    let (dir, sp) = plan_one("scan-anchor-sts-ignored", "db.yaml", &manifest);
    let fix = &sp.fixes[0];
    assert_eq!(sp.fixes.len(), 1, "{:#?}", sp.fixes);
    assert_eq!(fix.safety, Safety::Review);
    let note = fix
        .notes
        .iter()
        .find(|n| n.contains(" merges "))
        .unwrap_or_else(|| panic!("{:#?}", fix.notes));
    assert!(
        note.contains("securityContext.readOnlyRootFilesystem")
            && note.ends_with(
                "so this fix also removes its k8s-privilege-escalation (counted as fixed here)"
            ),
        "{note}"
    );
    assert_plan_and_rescan_agree(&dir, &sp);
}

/// `api2: *api` is the same mapping as `api`, and `api3` merges it: the fix of `api` says what
/// both get, counts their no-new-privileges findings as its own (`api2`'s has no fix of its own
/// in the scanner, `api3`'s does), and a rescan after `--apply` agrees with the plan.
#[test]
fn a_fix_of_an_anchored_service_names_the_services_repeating_and_merging_it() {
    let (dir, sp) = plan_one("scan-anchor-compose", "compose.yaml", SHARED_SERVICES);
    let fixes: Vec<&str> = sp.fixes.iter().map(|f| f.target.name.as_str()).collect();
    assert_eq!(fixes, ["service api"], "{:#?}", sp.fixes);
    let fix = &sp.fixes[0];
    let shared: Vec<&str> = fix
        .notes
        .iter()
        .map(String::as_str)
        .filter(|n| n.contains(" merges ") || n.contains(" repeats "))
        .collect();
    assert_eq!(
        shared,
        [
            "service api2 (line 5) repeats service api through *api: it is the same node, so it gets security_opt from this change too; so this fix also removes its compose-no-new-privileges (counted as fixed here)",
            "service api3 (line 7) merges service api through <<: *api: it gets security_opt from this change, which it does not set itself; so this fix also removes its compose-no-new-privileges (counted as fixed here)",
        ]
    );
    let found: Vec<(&str, &str)> = fix
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.object.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("compose-no-new-privileges", "service api"),
            ("compose-no-new-privileges", "service api2"),
            ("compose-no-new-privileges", "service api3"),
        ]
    );
    assert!(fix.checks.contains(&"5.26".to_string()), "{:?}", fix.checks);
    assert!(
        !sp.unfixed
            .iter()
            .any(|u| u.rule.as_deref() == Some("compose-no-new-privileges")),
        "{:#?}",
        sp.unfixed
    );
    assert_plan_and_rescan_agree(&dir, &sp);
    let written = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    assert_eq!(
        written,
        SHARED_SERVICES.replace(
            "    read_only: true\n",
            "    read_only: true\n    security_opt:\n      - no-new-privileges:true\n"
        )
    );
}

/// An informational finding (an image not pinned by digest) fails nothing and has no fix: when
/// it is all `--select` names, the plan says that is why nothing is to be done, instead of
/// claiming no selected finding is left; the count is on the Scanned line and in the JSON.
#[test]
fn selected_informational_findings_are_counted_not_lost() {
    let dir = temp_root("scan-informational");
    let file = dir.join("Dockerfile");
    std::fs::write(&file, "FROM debian:12\nUSER 10001\nHEALTHCHECK NONE\n").unwrap();
    let sp = plan(&ScanRequest {
        paths: vec![file.clone()],
        select: vec!["dockerfile-image-not-pinned".into()],
        threat_links: Some(vec![]),
        ..Default::default()
    })
    .unwrap();
    assert_eq!((sp.summary.selected, sp.summary.informational), (1, 1));
    assert!(sp.fixes.is_empty() && sp.unfixed.is_empty());
    let p = as_plan(&sp);
    let text = render::text(&p, true);
    assert!(
        text.contains("(1 selected, 1 of them informational: nothing to fix there)")
            && text.contains("the selected findings that are left are informational"),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&render::json(&p, "test")).unwrap();
    assert_eq!(v["scan"]["informational"], 1, "{v}");
}

/// The `unfixed` entry of finding `rule` on `object` (its object ends with it), and its reason.
fn unfixed_reason<'p>(sp: &'p ScanPlan, rule: &str, object: &str) -> &'p str {
    let found: Vec<&bulkhead_harden::Unfixed> = sp
        .unfixed
        .iter()
        .filter(|u| {
            u.rule.as_deref() == Some(rule)
                && u.object.as_deref().is_some_and(|o| o.ends_with(object))
        })
        .collect();
    assert_eq!(found.len(), 1, "{rule} of {object}: {:#?}", sp.unfixed);
    &found[0].reason
}

/// A Deployment with one privileged container and one plain one, neither setting
/// allowPrivilegeEscalation.
const PRIVILEGED_AND_PLAIN: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n      containers:\n        - name: agent\n          image: shop/agent:1.4\n          securityContext:\n            privileged: true\n        - name: app\n          image: shop/app:1.4\n        - name: admin\n          image: shop/admin:1.4\n          securityContext:\n            capabilities:\n              add: [CAP_SYS_ADMIN]\n";

/// The scanner offers no allowPrivilegeEscalation fix for a privileged container or one that
/// adds CAP_SYS_ADMIN (the API server refuses both together), while the plain container beside
/// it gets one. Its "Not fixed" entry says so for that container, and what clears the way (this
/// plan's fix taking the privilege away, by its title; CAP_SYS_ADMIN by hand), in the text and
/// the JSON alike, not the rule's advice to set it "on every container", which cannot be followed
/// there.
#[test]
fn a_fix_withheld_from_one_container_says_why_for_that_container() {
    let (dir, sp) = plan_one("scan-withheld-ape", "web.yaml", PRIVILEGED_AND_PLAIN);
    let path = dir.join("web.yaml").display().to_string();
    let fixed = |rule: &str, object: &str| {
        sp.fixes
            .iter()
            .flat_map(|f| &f.findings)
            .any(|x| x.rule == rule && x.object.ends_with(object))
    };
    assert!(fixed("k8s-privilege-escalation", "container app"));
    assert!(fixed("k8s-privileged", "container agent"));
    let agent = unfixed_reason(&sp, "k8s-privilege-escalation", "container agent");
    assert_eq!(
        agent,
        format!("allowPrivilegeEscalation is not false, and the API server refuses it false beside privileged: true, so the scanner offers no fix for this container: apply this plan's fix \"Harden Deployment/shop/web container agent in {path}\", which sets privileged: false, then run harden again to set it")
    );
    let admin = unfixed_reason(&sp, "k8s-privilege-escalation", "container admin");
    assert!(
        admin.contains("beside capabilities.add CAP_SYS_ADMIN, so the scanner offers no fix")
            && admin.contains("remove CAP_SYS_ADMIN from capabilities.add")
            && !admin.contains("privileged: false"),
        "{admin}"
    );
    for why in [agent, admin] {
        assert!(!why.contains("on every container"), "{why}");
    }
    // The same words reach the text and the JSON.
    let p = as_plan(&sp);
    let text = render::text(&p, true);
    assert!(
        text.contains(&format!(
            "k8s.pss.no_privilege_escalation [{path}:11 Deployment/shop/web container agent]: {agent}\n"
        )),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&render::json(&p, "test")).unwrap();
    assert!(
        v["unfixed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["reason"] == agent && u["rule"] == "k8s-privilege-escalation"),
        "{v}"
    );
    assert_plan_and_rescan_agree(&dir, &sp);

    // Without the privileged fix in the plan, the step is the user's.
    let dir = temp_root("scan-withheld-ape-select");
    std::fs::write(dir.join("web.yaml"), PRIVILEGED_AND_PLAIN).unwrap();
    let sp = plan(&ScanRequest {
        paths: vec![dir.to_path_buf()],
        select: vec!["k8s-privilege-escalation".into()],
        threat_links: Some(vec![]),
        ..Default::default()
    })
    .unwrap();
    let agent = unfixed_reason(&sp, "k8s-privilege-escalation", "container agent");
    assert!(
        agent
            .ends_with(": set privileged: false (k8s-privileged), then run harden again to set it"),
        "{agent}"
    );
}

/// A finding without a fix is listed with what the scan found on its object, before the rule's
/// advice: a compose service that inherits `privileged: true` through `extends` from a file of
/// its own is reported at that file's line, and the entry says where the value comes from.
#[test]
fn a_finding_without_a_fix_says_what_the_scan_found_on_its_object() {
    let dir = temp_root("scan-no-fix-message");
    std::fs::write(
        dir.join("base.yaml"),
        "services:\n  base:\n    image: shop/base:1.4\n    privileged: true\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("compose.yaml"),
        "services:\n  web:\n    extends:\n      file: base.yaml\n      service: base\n    image: shop/web:1.4\n    read_only: true\n    security_opt: [\"no-new-privileges:true\"]\n    user: \"10001\"\n    cap_drop: [ALL]\n    mem_limit: 512m\n    cpus: 1\n    pids_limit: 100\n",
    )
    .unwrap();
    let sp = plan(&ScanRequest {
        paths: vec![dir.join("compose.yaml")],
        threat_links: Some(vec![]),
        ..Default::default()
    })
    .unwrap();
    assert!(sp.fixes.is_empty(), "{:#?}", sp.fixes);
    let why = unfixed_reason(&sp, "compose-privileged", "service web");
    assert_eq!(
        why,
        "privileged: true gives the service every capability and host device (inherited through extends from service base); the scanner has no automatic fix for it: Remove privileged: true and add only the capability the service needs"
    );
}

/// The scanner's health check probes the port the final stage EXPOSEs: without one it offers no
/// fix, and the entry says so. An informational finding it has a fix for (MAINTAINER) is
/// planned, so it is not counted as "informational: nothing to fix there" too: each selected
/// finding is counted once, as fixed, not fixed or informational.
#[test]
fn a_dockerfile_without_a_port_says_why_it_gets_no_health_check_and_counts_add_up() {
    let (_dir, sp) = plan_one(
        "scan-no-port",
        "Dockerfile",
        "FROM debian:12.5\nMAINTAINER me\nADD app.conf /etc/app.conf\nUSER 10001\nCMD [\"app\"]\n",
    );
    let why = unfixed_reason(&sp, "dockerfile-healthcheck-missing", "stage 0");
    assert!(
        why.starts_with("the final stage defines no HEALTHCHECK; it EXPOSEs no port for a generated probe to check, so the scanner has no automatic fix for it: Add HEALTHCHECK"),
        "{why}"
    );
    let fixed: usize = sp.fixes.iter().map(|f| f.findings.len()).sum();
    assert!(sp
        .fixes
        .iter()
        .flat_map(|f| &f.findings)
        .any(|f| f.rule == "dockerfile-maintainer"));
    let s = &sp.summary;
    assert_eq!(s.informational, 1, "the image not pinned by digest: {s:?}");
    assert_eq!(
        s.selected,
        fixed + sp.unfixed.len() + s.informational,
        "{s:?}"
    );
    // With a port the scanner's probe is planned.
    let (_dir, sp) = plan_one(
        "scan-port",
        "Dockerfile",
        "FROM debian:12.5\nUSER 10001\nEXPOSE 8080\nCMD [\"app\"]\n",
    );
    assert!(sp
        .fixes
        .iter()
        .flat_map(|f| &f.findings)
        .any(|f| f.rule == "dockerfile-healthcheck-missing"));
}

/// A Pod whose container `b` merges container `a`'s securityContext and is privileged.
const MERGED_PRIVILEGED: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: prod}\nspec:\n  automountServiceAccountToken: false\n  containers:\n    - name: a\n      image: \"x:1\"\n      securityContext: &sc\n        runAsNonRoot: true\n    - name: b\n      image: \"x:1\"\n      securityContext:\n        <<: *sc\n        privileged: true\n";

/// Setting allowPrivilegeEscalation in container `a`'s anchored securityContext would reach
/// privileged container `b` through its merge, which the API server refuses: `a`'s entry says
/// how its fix reaches `b` before why `b` is refused, and the file's entries are in file order.
#[test]
fn a_fix_refused_for_another_container_says_how_it_reaches_it() {
    let dir = temp_root("scan-refused-anchor");
    std::fs::write(dir.join("pod.yaml"), MERGED_PRIVILEGED).unwrap();
    let sp = plan(&ScanRequest {
        paths: vec![dir.to_path_buf()],
        select: vec!["k8s-privilege-escalation".into()],
        threat_links: Some(vec![]),
        ..Default::default()
    })
    .unwrap();
    assert!(sp.fixes.is_empty(), "{:#?}", sp.fixes);
    let a = unfixed_reason(&sp, "k8s-privilege-escalation", "container a");
    assert!(
        a.starts_with("securityContext of Pod/prod/p container b (line 14) merges securityContext of Pod/prod/p container a through <<: *sc, so this fix would change it too, and the API server refuses Pod/prod/p container b: allowPrivilegeEscalation: false beside privileged: true"),
        "{a}"
    );
    let b = unfixed_reason(&sp, "k8s-privilege-escalation", "container b");
    assert!(
        b.contains("beside privileged: true, so the scanner offers no fix"),
        "{b}"
    );
    let objects: Vec<&str> = sp
        .unfixed
        .iter()
        .filter_map(|u| u.object.as_deref())
        .collect();
    assert!(
        objects.len() == 2 && objects[0].ends_with(":7 Pod/prod/p container a"),
        "{objects:?}"
    );
}

/// A scan fix lists its controls in the order of its checks, as a host fix does, and one of
/// daemon.json (an object named after its file) is titled by the file alone.
#[test]
fn a_scan_fix_pairs_checks_with_controls_and_names_daemon_json_once() {
    let (dir, sp) = plan_one(
        "scan-daemon-order",
        "daemon.json",
        "{\n  \"iptables\": false,\n  \"userland-proxy\": true,\n  \"log-level\": \"debug\",\n  \"icc\": true\n}\n",
    );
    let path = dir.join("daemon.json").display().to_string();
    let safe = sp.fixes.iter().find(|f| f.safety == Safety::Safe).unwrap();
    assert_eq!(safe.checks, ["2.3", "2.15"]);
    assert_eq!(
        safe.controls,
        ["docker.daemon.log_level_info", "docker.daemon.live_restore"]
    );
    assert_eq!(safe.title, format!("Safe fixes for {path}"));
    let review = sp
        .fixes
        .iter()
        .find(|f| f.safety == Safety::Review)
        .unwrap();
    assert_eq!(review.title, format!("Harden {path}"));
    let catalog = bulkhead_checks::catalog();
    let docker = catalog.benchmark("cis-docker").unwrap();
    for f in &sp.fixes {
        let at: Vec<usize> = f
            .controls
            .iter()
            .map(|c| {
                let id = catalog
                    .control(c)
                    .and_then(|c| c.id_in(docker.default_edition()))
                    .unwrap();
                f.checks.iter().position(|x| x == id).unwrap()
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{f:#?}");
    }
}

/// Every file under `dir` whose name ends in `.bak` (a backup harden wrote beside a file).
fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                todo.push(p);
            } else if p.to_string_lossy().ends_with(".bak") {
                out.push(p);
            }
        }
    }
    out
}

/// A scan fix's backup holds the artifact as it was, secrets included (a compose file's
/// `MYSQL_ROOT_PASSWORD`), in the source tree: once rollback has restored the file from it, it
/// is deleted, so that nothing is left to be committed by accident. The files are restored byte
/// for byte, with their modes, and the report says where each backup was and that it is gone.
/// While it exists, a backup is never more readable than its file.
#[test]
fn rollback_of_scan_fixes_leaves_no_backup_with_secrets_in_the_tree() {
    let dir = temp_root("scan-rollback-backups");
    let compose = "services:\n  db:\n    image: mysql:8.0.36\n    privileged: true\n    environment:\n      - MYSQL_ROOT_PASSWORD=Sup3rSecretValue-77\n";
    let path = dir.join("src/compose.yaml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, compose).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let originals: BTreeMap<&str, String> = [
        ("src/compose.yaml", compose.to_string()),
        ("src/Dockerfile", DOCKERFILE.to_string()),
    ]
    .into_iter()
    .collect();
    std::fs::write(dir.join("src/Dockerfile"), DOCKERFILE).unwrap();
    let sp = plan(&request(&dir.join("src"), &[("cis-docker", "1.2.0")])).unwrap();
    let p = as_plan(&sp);
    let opts = ApplyOptions {
        root: PathBuf::from("/"),
        include_review: true,
        state_dir: Some(dir.join("state")),
    };
    let report = apply(&p, &opts).unwrap();
    assert_eq!(report.backups.len(), 2, "{:?}", report.backups);
    let baks = backups_in(&dir.join("src"));
    assert_eq!(baks.len(), 2, "{baks:?}");
    for b in &baks {
        let m = std::fs::metadata(b).unwrap().mode() & 0o777;
        let of = std::fs::metadata(b.to_string_lossy().split(".bulkhead-").next().unwrap())
            .unwrap()
            .mode()
            & 0o777;
        assert_eq!(
            m & !of,
            0,
            "{}: {m:o}, wider than its file's {of:o}",
            b.display()
        );
    }
    let rb = rollback(&opts).unwrap();
    assert_eq!(rb.restored.len(), 2, "{rb:?}");
    for (name, content) in &originals {
        assert_eq!(
            std::fs::read(dir.join("src").join(name.trim_start_matches("src/"))).unwrap(),
            content.as_bytes(),
            "{name} restored byte for byte"
        );
    }
    assert_eq!(mode_owner(&path).0, 0o640);
    assert!(
        backups_in(&dir).is_empty(),
        "backups left in the tree: {:?}",
        backups_in(&dir)
    );
    // The report says where each backup was and that it is deleted.
    for b in &baks {
        assert!(
            rb.restored
                .iter()
                .any(|r| r.contains(&format!("from its backup {}, now deleted", b.display()))),
            "{b:?} not named: {:?}",
            rb.restored
        );
    }
    // Nothing anywhere under the tree still holds the secret but the file itself.
    let mut todo = vec![dir.join("src")];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else if e.path() != path {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                assert!(!text.contains("Sup3rSecretValue-77"), "{:?}", e.path());
            }
        }
    }
}
