//! Golden outputs: the insecure kubeadm node (simulated components, real files) plus the careless
//! cluster's dump, collected live, normalised (pids, executable paths, collection time), then
//! rendered as text, JSON and JUnit and compared with golden/. `BULKHEAD_BLESS=1` rewrites them.

use bulkhead_facts::Fact;
use bulkhead_kube_tests::node::kubeadm_node;
use bulkhead_kube_tests::{audit, collect};
use bulkhead_report::{Target, TextOptions};
use std::path::PathBuf;

const SIM: &str = env!("CARGO_BIN_EXE_kube-sim");

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(name);
    bulkhead_testkit::golden::assert_golden(&path, actual);
}

#[test]
fn text_json_and_junit_match_golden() {
    // Directories the node root creates take their mode from the umask; pin it so the output
    // does not depend on the machine (this binary holds only this test).
    unsafe { libc::umask(0o022) };
    let n = kubeadm_node(false, SIM);
    let dump = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/dump-insecure.json");
    let mut s = collect(n.root.path(), n.proc.path(), Some(&dump));
    // Normalise what differs between runs.
    s.collected_at = "2026-01-01T00:00:00Z".into();
    bulkhead_kube_tests::forget_times(&mut s);
    s.host.root = "/node".into();
    s.host.proc = "/proc".into();
    s.host.kernel = Fact::Unavailable("not read in the golden test".into());
    s.host.processes = Fact::Value(vec![]);
    let k = s.kubernetes.as_mut().unwrap();
    for (i, c) in k.components.values_mut().enumerate() {
        c.process.pid = 1000 + i as u32;
        c.process.ppid = 1;
        c.process.exe = Some(format!("/usr/local/bin/{}", c.name));
        c.process.pid_ns = None;
    }
    if let Some(Fact::Value(d)) = k.cluster.as_mut() {
        d.source = "cluster-dump.json".into();
    }
    let a = audit(&s);
    let t = Target::from_snapshot("kubernetes", &s);
    let text = bulkhead_report::audit_text::render(
        &a,
        &t,
        "test",
        TextOptions {
            color: false,
            verbose: false,
        },
    );
    let pair = vec![(a, t)];
    let json = bulkhead_report::audit_json::render(&pair, "test");
    let junit = bulkhead_report::junit::render(&pair);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema"], "bulkhead.audit/1");
    assert_eq!(v["target"]["kind"], "kubernetes");
    assert_eq!(v["benchmark"]["id"], "cis-kubernetes");
    assert_eq!(v["benchmark"]["version"], "1.12");
    assert_eq!(v["results"].as_array().unwrap().len(), 131);
    assert!(v["target"]["details"]["benchmark"]["reason"]
        .as_str()
        .unwrap()
        .contains("1.12"));
    golden("insecure-node.txt", &text);
    golden("insecure-node.json", &json);
    golden("insecure-node.junit.xml", &junit);
}
