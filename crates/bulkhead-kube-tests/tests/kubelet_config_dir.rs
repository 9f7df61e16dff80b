//! The kubelet's `--config-dir` drop-ins are part of its configuration as much as its `--config`
//! file: 4.1.9 (mode 0600 or stricter) and 4.1.10 (root:root) judge each `*.conf` drop-in the
//! running kubelet merges, as its own object, and the verdict names the file that fails. A
//! simulated kubelet (a real process under that name, with a real command line) on a temporary
//! node root whose files have real modes and owners. Without `--config-dir` the verdicts are the
//! `--config` file's alone, whatever lies in a drop-in directory on disk.

use bulkhead_checks::Status::{self, *};
use bulkhead_checks::{Audit, ObjectResult};
use bulkhead_kube_tests::{audit, collect, expect, outcome, NodeRoot, ProcView, SimComponent};

const SIM: &str = env!("CARGO_BIN_EXE_kube-sim");

const CONFIG: &str = "/var/lib/kubelet/config.yaml";
const DIR: &str = "/etc/kubernetes/kubelet.conf.d";
const BODY: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

/// A node root with a 0600 root:root `--config` file and an empty drop-in directory.
fn node() -> NodeRoot {
    let r = NodeRoot::new();
    r.write(CONFIG, BODY, 0o600, 0, 0);
    r.mkdir(DIR, 0o755, 0, 0);
    r
}

fn drop_in(r: &NodeRoot, name: &str, mode: u32, uid: u32) {
    r.write(&format!("{DIR}/{name}"), BODY, mode, uid, uid);
}

/// Run a simulated kubelet with `args` on `r` and audit what is collected.
fn audit_kubelet(r: &NodeRoot, args: &str) -> Audit {
    let args: Vec<String> = args.split_whitespace().map(String::from).collect();
    let kubelet = SimComponent::start(SIM, "kubelet", &args, &[]);
    let proc = ProcView::new(&[kubelet.pid()]);
    audit(&collect(r.path(), proc.path(), None))
}

fn with_dir() -> String {
    format!("--config={CONFIG} --config-dir={DIR}")
}

fn objects<'a>(a: &'a Audit, id: &str) -> Vec<(&'a str, Status)> {
    outcome(a, id)
        .result
        .objects
        .iter()
        .map(|o: &ObjectResult| (o.name.as_str(), o.status))
        .collect()
}

fn message(a: &Audit, id: &str) -> String {
    outcome(a, id).result.message.clone().unwrap_or_default()
}

/// A 0644 drop-in fails 4.1.9 although the `--config` file is 0600, and the verdict names it;
/// files the kubelet does not load (not `*.conf`) are not judged.
#[test]
fn a_world_readable_drop_in_fails_the_mode_check_by_name() {
    let r = node();
    drop_in(&r, "10-base.conf", 0o600, 0);
    drop_in(&r, "20-open.conf", 0o644, 0);
    drop_in(&r, "README", 0o666, 0);
    let a = audit_kubelet(&r, &with_dir());
    expect(&a, &[("4.1.9", Fail), ("4.1.10", Pass)]);
    let open = format!("{DIR}/20-open.conf");
    assert_eq!(
        objects(&a, "4.1.9"),
        vec![
            (CONFIG, Pass),
            (format!("{DIR}/10-base.conf").as_str(), Pass),
            (open.as_str(), Fail),
        ]
    );
    let m = message(&a, "4.1.9");
    assert!(m.starts_with("1 of 3 files fails"), "{m}");
    assert!(
        m.contains(&format!("{open}: grants 0044 beyond 0600")),
        "{m}"
    );
    assert!(
        !m.contains("10-base.conf:"),
        "only the failing file is named: {m}"
    );
    let o = &outcome(&a, "4.1.9").result.objects[2];
    assert_eq!(o.evidence.as_ref().unwrap().actual, "0644");
}

/// Every file 0600 root:root: both checks pass, one object per file.
#[test]
fn private_drop_ins_pass() {
    let r = node();
    drop_in(&r, "10-base.conf", 0o600, 0);
    drop_in(&r, "20-more.conf", 0o400, 0);
    let a = audit_kubelet(&r, &with_dir());
    expect(&a, &[("4.1.9", Pass), ("4.1.10", Pass)]);
    for id in ["4.1.9", "4.1.10"] {
        assert_eq!(objects(&a, id).len(), 3, "{id}");
        assert!(objects(&a, id).iter().all(|(_, s)| *s == Pass), "{id}");
    }
    assert_eq!(
        message(&a, "4.1.9"),
        format!("all 3 files pass: {CONFIG} and the *.conf drop-ins of {DIR}")
    );
}

/// A drop-in owned by uid 1000 fails 4.1.10 by name; its mode still passes 4.1.9. Drop-ins in
/// subdirectories are walked as the kubelet walks them.
#[test]
fn a_drop_in_owned_by_another_account_fails_the_owner_check() {
    let r = node();
    r.mkdir(&format!("{DIR}/site"), 0o755, 0, 0);
    drop_in(&r, "site/30-user.conf", 0o600, 1000);
    let a = audit_kubelet(&r, &with_dir());
    expect(&a, &[("4.1.9", Pass), ("4.1.10", Fail)]);
    let user = format!("{DIR}/site/30-user.conf");
    assert_eq!(
        objects(&a, "4.1.10"),
        vec![(CONFIG, Pass), (user.as_str(), Fail)]
    );
    let m = message(&a, "4.1.10");
    assert!(m.starts_with("1 of 2 files fails"), "{m}");
    assert!(
        m.contains(&format!("{user} owner 1000:1000 (uid 1000, gid 1000)")),
        "{m}"
    );
}

/// A kubelet with drop-ins and no `--config`: the drop-ins alone are judged.
#[test]
fn drop_ins_without_a_config_file_are_judged() {
    let r = node();
    drop_in(&r, "10-open.conf", 0o640, 0);
    let a = audit_kubelet(&r, &format!("--config-dir={DIR}"));
    expect(&a, &[("4.1.9", Fail), ("4.1.10", Pass)]);
    let open = format!("{DIR}/10-open.conf");
    assert_eq!(objects(&a, "4.1.9"), vec![(open.as_str(), Fail)]);
    assert!(message(&a, "4.1.9").starts_with(&format!("{open}: grants 0040")));
    // An empty drop-in directory and no --config: nothing to judge.
    let r = node();
    let a = audit_kubelet(&r, &format!("--config-dir={DIR}"));
    expect(&a, &[("4.1.9", NotApplicable), ("4.1.10", NotApplicable)]);
}

/// A `--config-dir` that is not there is an error, not a pass on the `--config` file alone: the
/// kubelet does not start without it, so what it reads is unknown.
#[test]
fn a_missing_drop_in_directory_is_an_error() {
    let r = NodeRoot::new();
    r.write(CONFIG, BODY, 0o600, 0, 0);
    let a = audit_kubelet(&r, &with_dir());
    expect(&a, &[("4.1.9", Error), ("4.1.10", Error)]);
    let objs = objects(&a, "4.1.9");
    assert_eq!(objs, vec![(CONFIG, Pass), (DIR, Error)]);
    assert!(message(&a, "4.1.9").contains("is not found under the audited root"));
}

/// Without `--config-dir` the checks judge the `--config` file alone, exactly as before: a 0644
/// file owned by uid 1000 in the usual drop-in directory changes nothing.
#[test]
fn without_config_dir_only_the_config_file_is_judged() {
    let args = format!("--config={CONFIG}");
    let bare = audit_kubelet(&node(), &args);
    let r = node();
    drop_in(&r, "20-open.conf", 0o644, 1000);
    let a = audit_kubelet(&r, &args);
    expect(&a, &[("4.1.9", Pass), ("4.1.10", Pass)]);
    for id in ["4.1.9", "4.1.10"] {
        assert_eq!(outcome(&a, id).result, outcome(&bare, id).result, "{id}");
        assert_eq!(objects(&a, id), vec![(CONFIG, Pass)], "{id}");
    }
    assert_eq!(
        message(&a, "4.1.9"),
        format!("{CONFIG} mode 0600 (kubelet --config (command line))")
    );
}
