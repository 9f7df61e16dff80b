//! Shared test support: fixtures, the audit-to-threat-model pipeline, and golden files.

#![allow(dead_code)]

pub mod fixtures;

use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
use bulkhead_facts::kube::Targets;
use bulkhead_facts::{Fact, Snapshot};
use bulkhead_threats::{build, Acceptance, EvidenceSet, Finding, Input, ThreatModel, UserModel};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// A snapshot fixture from tests/fixtures (the Kubernetes ones come from the kubeadm-like nodes of
/// bulkhead-kube-tests, which checks that they still match).
pub fn snapshot_file(name: &str) -> Snapshot {
    let path = crate_dir().join(format!("tests/fixtures/{name}.snapshot.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Snapshot::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A Kubernetes snapshot fixture with nothing of Kubernetes running on the host: no component,
/// no kubelet or kube-proxy configuration, targets detected again (policies only). What is left
/// is the cluster dump, as when `bulkhead threats --cluster-dump` runs on a workstation.
pub fn dump_only(name: &str) -> Snapshot {
    let mut s = snapshot_file(name);
    s.host.processes = Fact::Value(vec![]);
    let k = s.kubernetes.as_mut().expect("a Kubernetes fixture");
    assert!(k.cluster.is_some(), "{name} holds a cluster dump");
    k.components.clear();
    k.kubelet = None;
    k.proxy_config = None;
    k.encryption = None;
    k.targets = Targets::detect(&k.components, true);
    s
}

/// A Kubernetes snapshot fixture audited on its node without `--cluster-dump`: the dump removed
/// and the targets detected again (so the policies target is not selected), as `bulkhead threats`
/// run on the node with no other argument.
pub fn without_dump(name: &str) -> Snapshot {
    let mut s = snapshot_file(name);
    let k = s.kubernetes.as_mut().expect("a Kubernetes fixture");
    assert!(k.cluster.is_some(), "{name} holds a cluster dump");
    k.cluster = None;
    k.targets = Targets::detect(&k.components, false);
    s
}

/// A Kubernetes snapshot fixture as an EKS worker: the control-plane processes removed and the
/// platform relabelled, so the provider runs the control plane.
pub fn eks_worker(name: &str) -> Snapshot {
    let mut s = snapshot_file(name);
    let k = s.kubernetes.as_mut().expect("a Kubernetes fixture");
    k.platform.kind = "eks".into();
    k.platform.managed = true;
    for c in [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "etcd",
    ] {
        k.components.remove(c);
    }
    s
}

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compare `actual` with the golden file at `rel` (under tests/), or write it when
/// BULKHEAD_BLESS=1.
pub fn golden(rel: &str, actual: &str) {
    bulkhead_testkit::golden::assert_golden(&crate_dir().join("tests").join(rel), actual);
}

/// Audit `snapshot` with CIS Docker in `edition` numbering, and with CIS Kubernetes when it holds
/// Kubernetes facts (as `bulkhead threats` does), and collect the evidence.
pub fn evidence(snapshot: &Snapshot, edition: &str) -> (EvidenceSet, Vec<String>) {
    let opts = AuditOptions::default();
    let ctx = Context::new(snapshot, &opts);
    let mut ev = EvidenceSet::new();
    let mut sources = Vec::new();
    if snapshot.docker.is_some() {
        let a = bulkhead_checks::run(catalog().docker(), edition, &ctx, &Selection::default());
        ev.add_audit(&a);
        sources.push(format!("cis-docker {edition}"));
    }
    if snapshot.kubernetes.is_some() {
        let b = catalog().kubernetes();
        let a = bulkhead_checks::run(b, b.default_edition(), &ctx, &Selection::default());
        ev.add_audit(&a);
        sources.push(format!("cis-kubernetes {}", b.default_edition()));
    }
    (ev, sources)
}

pub struct Options<'a> {
    pub edition: &'a str,
    pub fixes: &'a [&'a str],
    pub user: Option<&'a UserModel>,
    pub accept: &'a [Acceptance],
    pub as_of: &'a str,
    /// Findings of another source (an artifact scan) added to the audit's evidence.
    pub findings: &'a [Finding],
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            edition: "1.2.0",
            fixes: &[],
            user: None,
            accept: &[],
            as_of: "2026-01-15",
            findings: &[],
        }
    }
}

pub fn model(snapshot: &Snapshot, o: Options<'_>) -> Result<ThreatModel, String> {
    let (mut ev, sources) = evidence(snapshot, o.edition);
    for f in o.findings {
        ev.add_finding(f.clone());
    }
    let fixes: BTreeSet<String> = o.fixes.iter().map(|s| s.to_string()).collect();
    build(&Input {
        snapshot,
        evidence: &ev,
        evidence_sources: sources,
        user: o.user,
        user_file: "model.yaml",
        acceptances: o.accept,
        planned_fixes: &fixes,
        as_of: o.as_of,
        tool_version: "test",
    })
}

/// The write-up's three fixes: content trust (4.5), read-only root file system (5.12) and
/// no-new-privileges (5.25), all in CIS Docker 1.2.0 numbering.
pub const WRITE_UP_FIXES: &[&str] = &[
    "docker.image.content_trust",
    "docker.container.read_only_rootfs",
    "docker.container.no_new_privileges",
];

/// Checks the audit runs that are no control of any threat, each with the reason. Anything else
/// the audit can fail must change some threat's status, or its failure would never reach the
/// register. Keep this list short: a check that bears on a threat belongs in that threat.
pub const NOT_A_THREAT_CONTROL: &[(&str, &str)] = &[
    (
        "docker.daemon.no_aufs",
        "aufs is an unmaintained storage driver whose risk is kernel crashes and lost data under \
         load, a reliability problem rather than a path an attacker takes; the audit reports it",
    ),
    ("docker.swarm.disabled_if_unneeded", SWARM),
    ("docker.swarm.min_managers", SWARM),
    ("docker.swarm.bind_interface", SWARM),
    ("docker.swarm.overlay_encrypted", SWARM),
    ("docker.swarm.autolock", SWARM),
    ("docker.swarm.autolock_rotation", SWARM),
    ("docker.swarm.node_cert_rotation", SWARM),
    ("docker.swarm.ca_rotation", SWARM),
    ("docker.swarm.plane_separation", SWARM),
];

/// Why the swarm mode checks are in [`NOT_A_THREAT_CONTROL`].
const SWARM: &str = "swarm mode is outside the reference model of a Docker host (no manager, Raft \
     store or overlay network items), so no threat can target what these checks judge; a swarm \
     model would bring its own threats";

/// README's user model: an orders database beside the `web` container, reached over a flow
/// declared unencrypted, and the threat APP-I01 on that flow whose only control is icc.
pub const ORDERS_MODEL: &str = r#"
elements:
  - id: app.db
    name: Orders database
    kind: data_store
    component: postgres
    boundary: dkr.b.host
flows:
  - id: app.f.web_db
    name: Order queries
    from: dkr.container:web
    to: app.db
    protocol: PostgreSQL wire protocol
    port: "5432"
    authentication: password
    encryption: none
threats:
  - id: APP-I01
    title: Order data read off the wire
    stride: [I]
    targets: [{ flow: app.f.web_db }]
    description: Queries and results cross the host network in plain text.
    mitigation: Require TLS (sslmode=verify-full) between the service and the database.
    likelihood: 2
    impact: 3
    controls: { prevent: [docker.daemon.icc_disabled] }
    refs: { attack: [T1040] }
"#;
