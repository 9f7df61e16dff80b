//! Section 5 from a cluster dump (`--cluster-dump`): a hardened cluster's dump (YAML, kind: List)
//! and a careless one's (JSON, as `kubectl get -o json` writes it).

use bulkhead_checks::Status::*;
use bulkhead_kube_tests::{audit, collect, expect, outcome, NodeRoot, ProcView};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn audit_dump(name: &str) -> (bulkhead_facts::Snapshot, bulkhead_checks::Audit) {
    let root = NodeRoot::new();
    let proc = ProcView::new(&[]);
    let s = collect(root.path(), proc.path(), Some(&fixture(name)));
    let a = audit(&s);
    (s, a)
}

#[test]
fn hardened_cluster_passes_section_5() {
    let (s, a) = audit_dump("dump-secure.yaml");
    assert_eq!(
        s.kubernetes.as_ref().unwrap().targets.selected,
        vec!["policies"]
    );
    expect(
        &a,
        &[
            ("5.1.1", Pass),
            ("5.1.2", Pass),
            ("5.1.3", Pass),
            ("5.1.4", Pass),
            ("5.1.5", Pass),
            ("5.1.6", Pass),
            ("5.1.8", Pass),
            ("5.2.1", Pass),
            ("5.2.2", Pass),
            ("5.2.3", Pass),
            ("5.2.4", Pass),
            ("5.2.5", Pass),
            ("5.2.6", Pass),
            ("5.2.7", Pass),
            ("5.2.8", Pass),
            ("5.2.9", Pass),
            ("5.2.10", Pass),
            ("5.2.11", Pass),
            ("5.2.12", Pass),
            ("5.3.2", Pass),
            ("5.4.1", Pass),
            ("5.6.2", Pass),
            ("5.6.3", Pass),
            ("5.6.4", Pass),
            ("5.1.7", Manual),
            ("5.4.2", Manual),
            ("5.6.1", Manual),
        ],
    );
    // Node targets are not applicable without node components, with the reason.
    let r = &outcome(&a, "1.2.1").result;
    assert_eq!(r.status, NotApplicable);
    assert!(
        r.message
            .as_deref()
            .unwrap()
            .contains("no control-plane component"),
        "{r:?}"
    );
}

#[test]
fn careless_cluster_fails_section_5() {
    let (_, a) = audit_dump("dump-insecure.json");
    expect(
        &a,
        &[
            ("5.1.1", Fail),
            ("5.1.2", Fail),
            ("5.1.3", Warn),
            ("5.1.4", Fail),
            ("5.1.5", Fail),
            ("5.1.6", Warn),
            ("5.2.1", Warn),
            ("5.2.2", Fail),
            ("5.2.3", Fail),
            ("5.2.5", Fail),
            ("5.2.6", Fail),
            ("5.2.7", Fail),
            ("5.2.8", Fail),
            ("5.2.9", Fail),
            ("5.2.11", Fail),
            ("5.2.12", Fail),
            ("5.3.2", Fail),
            ("5.4.1", Fail),
            ("5.6.2", Fail),
            ("5.6.3", Fail),
            ("5.6.4", Fail),
        ],
    );
}

/// Scanner pitfall 3: `kind: List` (kubectl's output) is read, not ignored; kinds no check reads
/// are counted, not dropped silently; secret values never reach the snapshot.
#[test]
fn kind_list_is_read_and_secrets_are_not_kept() {
    let (s, _) = audit_dump("dump-insecure.json");
    let text = serde_json::to_string(&s).unwrap();
    assert!(!text.contains("aHVudGVyMg=="), "secret data stored");
    assert!(
        !text.contains("plain-text-token-123"),
        "secret-looking env value stored"
    );
    let dump = s
        .kubernetes
        .as_ref()
        .unwrap()
        .cluster
        .as_ref()
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(dump.of_kind("Pod").count(), 3);
    let (s, _) = audit_dump("dump-secure.yaml");
    let dump = s
        .kubernetes
        .as_ref()
        .unwrap()
        .cluster
        .as_ref()
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(dump.ignored_kinds.get("Service"), Some(&1));
}

/// Scanner pitfall 4: pod-level securityContext is inherited unless the container overrides it;
/// init containers count.
#[test]
fn effective_security_context_per_container() {
    let (_, a) = audit_dump("dump-insecure.json");
    let seccomp = &outcome(&a, "5.6.2").result.objects;
    let by = |name: &str| {
        seccomp
            .iter()
            .find(|o| o.name.ends_with(name))
            .unwrap_or_else(|| panic!("{name}: {seccomp:?}"))
    };
    assert_eq!(
        by("initContainer setup").status,
        Pass,
        "inherits the pod's RuntimeDefault"
    );
    assert_eq!(
        by("container sidecar").status,
        Pass,
        "inherits the pod's RuntimeDefault"
    );
    assert_eq!(
        by("container shell").status,
        Fail,
        "overrides with Unconfined"
    );
    let root = &outcome(&a, "5.2.7").result.objects;
    let setup = root
        .iter()
        .find(|o| o.name.ends_with("initContainer setup"))
        .unwrap();
    assert_eq!(
        setup.status, Fail,
        "an init container running as uid 0 counts"
    );
    // kube-system findings are warnings (system add-ons), elsewhere failures.
    let privileged = &outcome(&a, "5.2.2").result.objects;
    let proxy = privileged
        .iter()
        .find(|o| o.name.starts_with("kube-system/"))
        .unwrap();
    assert_eq!(proxy.status, Warn);
}

/// A dump that cannot be parsed is an error naming the file, never silently empty.
#[test]
fn unreadable_dump_is_an_error_with_the_reason() {
    let root = NodeRoot::new();
    root.write("/dump.yaml", "items: [unclosed\n", 0o644, 0, 0);
    let proc = ProcView::new(&[]);
    let s = collect(root.path(), proc.path(), Some(&root.host("/dump.yaml")));
    let a = audit(&s);
    let r = &outcome(&a, "5.2.2").result;
    assert_eq!(r.status, Error);
    assert!(r.message.as_deref().unwrap().contains("dump.yaml"), "{r:?}");
}
