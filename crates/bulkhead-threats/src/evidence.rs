//! Evidence: what the audit (and, when given, the artifact scan) observed for each control.
//!
//! Threats cite evidence; they never read the host. Each item says which control and check it
//! comes from, the object it is about, the status and the observed value. Audit outcomes are
//! added with [`EvidenceSet::add_audit`]; findings of `bulkhead scan` (or any other source that
//! maps to a stable control ID) with [`EvidenceSet::add_finding`].
//!
//! A check that had nothing to read because an input was not given (the policy checks without a
//! cluster dump, the control-plane and node checks of a cluster known only from its dump) reports
//! `not_applicable`, as the audit's vocabulary requires. For a threat that verdict means "not
//! evaluated", never "does not apply here": [`EvidenceSet::missing_inputs`] tells the two apart
//! from the snapshot and the catalog, not from the checks' messages.

use bulkhead_checks::{Audit, Status};
use bulkhead_facts::kube::KubeFacts;
use bulkhead_facts::Snapshot;
use serde::Serialize;
use std::collections::BTreeMap;

/// An input the audit was not given, without which a group of checks judges nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingInput {
    /// No cluster dump: the Kubernetes policy checks (CIS section 5, target `policies`) read
    /// the cluster's objects only from `--cluster-dump`.
    ClusterDump,
    /// `--targets` left the policies target out, so the policy checks did not run.
    PoliciesTarget,
    /// The cluster dump shows that the cluster exists, so its control plane does, but no
    /// control-plane component runs where the audit ran: the master, etcd and control-plane
    /// checks (targets `master`, `etcd`, `controlplane`) had nothing to read.
    ControlPlaneNode,
    /// The cluster dump shows the cluster has nodes (it lists them, or workloads that run on
    /// them), but no kubelet or kube-proxy runs where the audit ran: the node checks (target
    /// `node`) had nothing to read.
    KubeletNode,
    /// `--targets` left out the control-plane or node target these checks belong to, on a
    /// cluster the dump shows.
    NodeTargets,
}

impl MissingInput {
    pub fn as_str(self) -> &'static str {
        match self {
            MissingInput::ClusterDump => "cluster_dump",
            MissingInput::PoliciesTarget => "policies_target",
            MissingInput::ControlPlaneNode => "control_plane_node",
            MissingInput::KubeletNode => "kubelet_node",
            MissingInput::NodeTargets => "node_targets",
        }
    }

    /// What was missing and how to supply it, for reasons.
    pub fn describe(self) -> &'static str {
        match self {
            MissingInput::ClusterDump => "no cluster dump was given (pass --cluster-dump FILE)",
            MissingInput::PoliciesTarget => {
                "--targets left out the policies target (add policies to --targets)"
            }
            MissingInput::ControlPlaneNode => {
                "the audit did not run where the dump's cluster runs its control plane (run \
                 bulkhead on a control-plane node, or pass --snapshot FILE collected there)"
            }
            MissingInput::KubeletNode => {
                "the audit did not run on a node of the dump's cluster (run bulkhead on a node, \
                 or pass --snapshot FILE collected there)"
            }
            MissingInput::NodeTargets => {
                "--targets left out the control-plane or node target these checks belong to \
                 (add it to --targets where those components run)"
            }
        }
    }
}

/// One observation backing (or undermining) a control.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceItem {
    /// The check's ID in the numbering the audit was shown in (`5.12`), or a scan rule ID.
    pub check: String,
    /// The stable control ID.
    pub control: String,
    /// What the observation is about: `container web`, `file /etc/docker/daemon.json`, `daemon`;
    /// [`NO_OBJECT`] when the check judged the host (or cluster) as a whole, not one object.
    pub object: String,
    pub status: Status,
    /// The observed value, secret values masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// `cis-docker 1.2.0`, `cis-kubernetes 1.12`, `scan`.
    pub source: String,
    /// high: an automated check read it; low: a manual check or a verdict that needs review.
    pub confidence: Confidence,
}

/// The `object` of an observation that is about no one object: the check judged the host (or the
/// cluster) as a whole. Kept as is in the JSON; text renderings leave the object out instead.
pub const NO_OBJECT: &str = "-";

impl EvidenceItem {
    /// The object this observation is about, or None when it is about the host (or cluster) as
    /// a whole, so that a rendering says `4.12 manual: ...` rather than `4.12 manual on -: ...`.
    pub fn named_object(&self) -> Option<&str> {
        Some(self.object.as_str()).filter(|o| !o.is_empty() && *o != NO_OBJECT)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A finding from another source (artifact scan, attestation) that maps to a control.
#[derive(Debug, Clone)]
pub struct Finding {
    pub control: String,
    /// Rule or check ID in that source's own numbering.
    pub rule: String,
    /// `Dockerfile:12`, `compose.yaml:4`.
    pub object: String,
    pub status: Status,
    pub message: String,
    /// `scan`, `attestation`, ...
    pub source: String,
}

/// Every control's evidence.
#[derive(Debug, Clone, Default)]
pub struct EvidenceSet {
    items: Vec<EvidenceItem>,
    /// Control -> the check-level verdicts (one per source).
    verdicts: BTreeMap<String, Vec<Status>>,
    /// Control -> check ID in the displayed numbering.
    check_ids: BTreeMap<String, String>,
    /// Built on first use by [`EvidenceSet::object_status`], dropped when evidence is added.
    by_object: std::sync::OnceLock<ObjectIndex>,
}

/// Control -> object key -> the worst verdict on objects with that key (see
/// [`EvidenceSet::object_status`]).
type ObjectIndex = std::collections::HashMap<String, std::collections::HashMap<String, Status>>;

impl EvidenceSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add every outcome of an audit: one item per object, or one for the check when it judged
    /// no object.
    pub fn add_audit(&mut self, audit: &Audit) {
        self.by_object = std::sync::OnceLock::new();
        let source = format!("{} {}", audit.benchmark.id, audit.edition);
        for o in &audit.outcomes {
            let control = o.control.id.clone();
            let confidence = if o.control.automated
                && !matches!(
                    o.result.status,
                    Status::Warn | Status::Manual | Status::Error
                ) {
                Confidence::High
            } else {
                Confidence::Low
            };
            self.verdicts
                .entry(control.clone())
                .or_default()
                .push(o.result.status);
            self.check_ids
                .entry(control.clone())
                .or_insert_with(|| o.check_id.clone());
            if o.result.objects.is_empty() {
                self.items.push(EvidenceItem {
                    check: o.check_id.clone(),
                    control: control.clone(),
                    object: NO_OBJECT.into(),
                    status: o.result.status,
                    actual: o
                        .result
                        .message
                        .as_deref()
                        .map(bulkhead_facts::mask::mask_text),
                    source: source.clone(),
                    confidence,
                });
            }
            for obj in &o.result.objects {
                let actual = obj
                    .evidence
                    .as_ref()
                    .map(|e| format!("{} = {}", e.field, e.actual))
                    .or_else(|| obj.note.clone())
                    .map(|a| bulkhead_facts::mask::mask_text(&a));
                self.items.push(EvidenceItem {
                    check: o.check_id.clone(),
                    control: control.clone(),
                    object: format!("{} {}", obj.kind, obj.name),
                    status: obj.status,
                    actual,
                    source: source.clone(),
                    confidence,
                });
            }
        }
    }

    /// Add a finding from another source. Its status joins the control's verdict.
    pub fn add_finding(&mut self, f: Finding) {
        self.by_object = std::sync::OnceLock::new();
        self.verdicts
            .entry(f.control.clone())
            .or_default()
            .push(f.status);
        self.items.push(EvidenceItem {
            check: f.rule,
            control: f.control,
            object: f.object,
            status: f.status,
            actual: Some(bulkhead_facts::mask::mask_text(&f.message)),
            source: f.source,
            confidence: Confidence::Medium,
        });
    }

    /// The control's verdict across sources, None when nothing was observed for it. Sources
    /// combine as per-object results roll up to a check: a known failure wins over an error, an
    /// error over a pass, anything over not applicable.
    pub fn status(&self, control: &str) -> Option<Status> {
        self.verdicts
            .get(control)?
            .iter()
            .copied()
            .max_by_key(|s| s.rollup_rank())
    }

    /// The control's check ID in the displayed numbering, when it was audited.
    pub fn check_id(&self, control: &str) -> Option<&str> {
        self.check_ids.get(control).map(String::as_str)
    }

    pub fn items_for<'a>(
        &'a self,
        control: &'a str,
    ) -> impl Iterator<Item = &'a EvidenceItem> + 'a {
        self.items.iter().filter(move |i| i.control == control)
    }

    /// The worst verdict (by [`Status::rollup_rank`]) of `control` on the objects with `key`: an
    /// object in lower case (`container web`), or, for an object inside a container
    /// (`container app/debug container shell`), its first two words with the space after them
    /// (`container app/debug `). An index built once, so that finding the evidence about each of
    /// hundreds of model items does not read every observation each time.
    pub fn object_status(&self, control: &str, key: &str) -> Option<Status> {
        let index = self.by_object.get_or_init(|| {
            let mut index = ObjectIndex::new();
            for i in &self.items {
                let object = i.object.to_lowercase();
                let mut keys = vec![object.clone()];
                if let Some(rest) = object.strip_prefix("container ") {
                    if let Some(space) = rest.find(' ') {
                        keys.push(object[.."container ".len() + space + 1].to_string());
                    }
                }
                let per_key = index.entry(i.control.clone()).or_default();
                for k in keys {
                    per_key
                        .entry(k)
                        .and_modify(|s| {
                            if i.status.rollup_rank() > s.rollup_rank() {
                                *s = i.status;
                            }
                        })
                        .or_insert(i.status);
                }
            }
            index
        });
        index.get(control)?.get(key).copied()
    }

    pub fn items(&self) -> &[EvidenceItem] {
        &self.items
    }

    /// Controls the evidence calls not applicable only because an input was missing, with that
    /// input. The signal is structural: the control's catalog target and what the snapshot holds,
    /// never the checks' messages. The policy checks (`policies`) miss the cluster dump, or the
    /// target was left out of `--targets`. The master, etcd, control-plane and node checks miss
    /// the node they read when a cluster dump proves the cluster (and, for the node checks, that
    /// it has nodes) exists but the target was not audited here: "not applicable" would say the API
    /// server or the kubelets are absent from a cluster that has them. A control another source
    /// judged (a scanned manifest) is not listed: its verdict is then not `not_applicable`.
    pub fn missing_inputs(&self, snapshot: &Snapshot) -> BTreeMap<String, MissingInput> {
        let Some(k) = snapshot.kubernetes.as_ref() else {
            return BTreeMap::new();
        };
        self.verdicts
            .keys()
            .filter(|c| self.status(c) == Some(Status::NotApplicable))
            .filter_map(|c| {
                let target = bulkhead_checks::catalog().control(c)?.target.as_deref()?;
                missing_for_target(k, target).map(|m| (c.clone(), m))
            })
            .collect()
    }

    /// Controls whose verdict is a failure, in the order they were added.
    pub fn failing_controls(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for i in &self.items {
            if self.status(&i.control) == Some(Status::Fail) && !seen.contains(&i.control) {
                seen.push(i.control.clone());
            }
        }
        seen
    }
}

/// Kinds of cluster object that show the cluster has nodes, each running a kubelet.
const NODE_EVIDENCE: &[&str] = &[
    "Node",
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];

/// The input whose absence left the checks of `target` with nothing to read, if any.
fn missing_for_target(k: &KubeFacts, target: &str) -> Option<MissingInput> {
    let by_targets = k.targets.source == "--targets";
    match target {
        "policies" => {
            if !k.target_selected("policies") {
                // Detection selects the policies target exactly when a dump was given.
                Some(if by_targets {
                    MissingInput::PoliciesTarget
                } else {
                    MissingInput::ClusterDump
                })
            } else if k.cluster.is_none() {
                Some(MissingInput::ClusterDump)
            } else {
                // A dump that could not be read makes the checks report an error, which already
                // counts as not evaluated.
                None
            }
        }
        "master" | "etcd" | "controlplane" => {
            // A provider runs a managed control plane: its checks are the provider's, and the
            // threats say so. k3s runs it inside its own process on this very node, where no
            // other node would show more.
            let proven = k.cluster.is_some() && !k.platform.managed && k.platform.kind != "k3s";
            (proven && !k.target_selected(target)).then_some(if by_targets {
                MissingInput::NodeTargets
            } else {
                MissingInput::ControlPlaneNode
            })
        }
        "node" => {
            // Nodes in the dump, or workloads, which run on nodes (the model draws a stand-in
            // node for them when none was audited).
            let nodes = k
                .cluster
                .as_ref()
                .and_then(|d| d.value())
                .is_some_and(|d| NODE_EVIDENCE.iter().any(|kind| d.has_kind(kind)));
            (nodes && !k.target_selected("node")).then_some(if by_targets {
                MissingInput::NodeTargets
            } else {
                MissingInput::KubeletNode
            })
        }
        _ => None,
    }
}
