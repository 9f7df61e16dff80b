//! The threat library: threats as data (`library/*.toml`, embedded), and its validation.
//!
//! A threat says what can go wrong (STRIDE letters, a description), where (target selectors
//! that match model elements and flows), when it applies (a declarative condition), which
//! controls mitigate it (stable control IDs: `prevent`, `limit`, `detect`), how likely and how
//! bad it is, what evidence raises its likelihood, and where it is catalogued elsewhere (ATT&CK,
//! Microsoft's Kubernetes threat matrix, OWASP). Its status is never written here: it is
//! computed from evidence by `evaluate.rs`.

use crate::condition::{Cond, Scope};
use crate::facts::KNOWN_FACTS;
use crate::model::{Element, ElementKind, Flow, Model, Platform};
use bulkhead_checks::Stride;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One library (or user-supplied) threat.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatDef {
    pub id: String,
    pub title: String,
    pub stride: Vec<Stride>,
    pub targets: Vec<Selector>,
    #[serde(default)]
    pub applies_when: Option<Cond>,
    pub description: String,
    pub mitigation: String,
    pub likelihood: u8,
    pub impact: u8,
    #[serde(default)]
    pub controls: Controls,
    #[serde(default)]
    pub raise: Vec<Raise>,
    #[serde(default)]
    pub refs: Refs,
    /// Set from the library file (or the user file) at load time.
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// The controls that mitigate a threat, by role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Controls {
    /// Each must hold for the threat to be mitigated.
    #[serde(default)]
    pub prevent: Vec<String>,
    /// Reduce the damage when the threat happens anyway.
    #[serde(default)]
    pub limit: Vec<String>,
    /// Record that it happened.
    #[serde(default)]
    pub detect: Vec<String>,
}

impl Controls {
    /// Every control with its role, in order: prevent, limit, detect.
    pub fn all(&self) -> impl Iterator<Item = (&str, Role)> {
        self.prevent
            .iter()
            .map(|c| (c.as_str(), Role::Prevent))
            .chain(self.limit.iter().map(|c| (c.as_str(), Role::Limit)))
            .chain(self.detect.iter().map(|c| (c.as_str(), Role::Detect)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Prevent,
    Limit,
    Detect,
}

/// Evidence that makes a threat more likely, and the control whose fix removes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Raise {
    pub when: Cond,
    pub reason: String,
    #[serde(default)]
    pub fixed_by: Option<String>,
}

/// Cross-references to public catalogs.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Refs {
    /// MITRE ATT&CK technique IDs (`T1611`, `T1552.007`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attack: Vec<String>,
    /// Microsoft Threat Matrix for Kubernetes technique and mitigation IDs (`MS-TA9018`, `MS-M9016`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ms_matrix: Vec<String>,
    /// OWASP Docker Top 10 (`D01`..`D10`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owasp_docker: Vec<String>,
    /// OWASP Kubernetes Top 10, 2022 edition (`K01`..`K10`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owasp_k8s_2022: Vec<String>,
    /// OWASP Kubernetes Top 10, 2025 edition (`K01`..`K10`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owasp_k8s_2025: Vec<String>,
}

impl Refs {
    pub fn is_empty(&self) -> bool {
        self.attack.is_empty()
            && self.ms_matrix.is_empty()
            && self.owasp_docker.is_empty()
            && self.owasp_k8s_2022.is_empty()
            && self.owasp_k8s_2025.is_empty()
    }

    /// Every reference as `catalog:id` (`attack:T1611`, `owasp-k8s-2022:K09`).
    pub fn labelled(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut add =
            |prefix: &str, ids: &[String]| v.extend(ids.iter().map(|i| format!("{prefix}:{i}")));
        add("attack", &self.attack);
        add("ms-matrix", &self.ms_matrix);
        add("owasp-docker", &self.owasp_docker);
        add("owasp-k8s-2022", &self.owasp_k8s_2022);
        add("owasp-k8s-2025", &self.owasp_k8s_2025);
        v
    }
}

/// Which model items a threat is about. Exactly one of `element`, `component`, `flow`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// An element ID, or a template ID matching all its instances (`dkr.container`).
    #[serde(default)]
    pub element: Option<String>,
    /// Every element of this component (`container`, `kubelet`).
    #[serde(default)]
    pub component: Option<String>,
    /// A flow ID, or a flow template ID matching all its instances.
    #[serde(default)]
    pub flow: Option<String>,
    /// Keep only items whose attributes satisfy this.
    #[serde(default, rename = "where")]
    pub filter: Option<Cond>,
}

/// A model item a selector matched.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    Element(&'a Element),
    Flow(&'a Flow),
}

impl Item<'_> {
    pub fn id(&self) -> &str {
        match self {
            Item::Element(e) => &e.id,
            Item::Flow(f) => &f.id,
        }
    }
}

impl Selector {
    pub fn describe(&self) -> String {
        match (&self.element, &self.component, &self.flow) {
            (Some(e), _, _) => format!("element {e}"),
            (_, Some(c), _) => format!("{c} elements"),
            (_, _, Some(f)) => format!("flow {f}"),
            _ => "nothing".into(),
        }
    }

    /// The items of `model` this selector matches, in model order.
    pub fn matches<'a>(
        &self,
        model: &'a Model,
        facts: &BTreeMap<String, serde_json::Value>,
    ) -> Vec<Item<'a>> {
        let none = |_: &str| None;
        let keep = |attrs: &BTreeMap<String, serde_json::Value>| {
            self.filter.as_ref().is_none_or(|c| {
                c.holds(&Scope {
                    facts,
                    attrs,
                    control: &none,
                })
            })
        };
        if let Some(f) = &self.flow {
            return model
                .flows
                .iter()
                .filter(|x| {
                    (&x.id == f || x.instance_of.as_ref() == Some(f)) && keep(&BTreeMap::new())
                })
                .map(Item::Flow)
                .collect();
        }
        model
            .elements
            .iter()
            .filter(|e| match (&self.element, &self.component) {
                (Some(id), _) => &e.id == id || e.instance_of.as_ref() == Some(id),
                (_, Some(c)) => &e.component == c,
                _ => false,
            })
            .filter(|e| keep(&e.attrs))
            .map(Item::Element)
            .collect()
    }
}

/// A note the report shows next to a control's analysis (e.g. what replaced a retired control).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ControlNote {
    pub control: String,
    pub title: String,
    pub text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LibraryFile {
    platform: Platform,
    #[serde(default, rename = "threat")]
    threats: Vec<ThreatDef>,
    #[serde(default, rename = "note")]
    notes: Vec<ControlNote>,
}

/// The embedded library files.
pub const FILES: &[(&str, &str)] = &[
    (
        "library/docker.toml",
        include_str!("../library/docker.toml"),
    ),
    (
        "library/kubernetes.toml",
        include_str!("../library/kubernetes.toml"),
    ),
];

/// The ten threats of the user's write-up, by stable ID and title. They must always exist.
pub const WRITE_UP_THREATS: &[(&str, &str)] = &[
    (
        "DKR-S01",
        "Spoofed daemon or registry serving spoofed images",
    ),
    ("DKR-T01", "Tampering with client or daemon configuration"),
    (
        "DKR-R01",
        "Malicious images committed without authorization",
    ),
    (
        "DKR-I01",
        "Secrets in configuration files and a misconfigured host file system",
    ),
    ("DKR-E01", "No USER, container runs as root"),
    ("K8S-S01", "Spoofed API server to kubelet connection"),
    (
        "K8S-T01",
        "Tampering with etcd configuration or pod spec files",
    ),
    (
        "K8S-R01",
        "Unauthorized kubelet changes without TLS authentication",
    ),
    ("K8S-I01", "etcd without encryption at rest or TLS"),
    ("K8S-E01", "Kubelet authorization mode AlwaysAllow"),
];

/// The parsed library.
#[derive(Debug, Clone)]
pub struct Library {
    pub threats: Vec<ThreatDef>,
    pub notes: Vec<ControlNote>,
}

impl Library {
    pub fn threat(&self, id: &str) -> Option<&ThreatDef> {
        self.threats.iter().find(|t| t.id == id)
    }

    pub fn notes_for<'a>(&'a self, control: &'a str) -> impl Iterator<Item = &'a ControlNote> + 'a {
        self.notes.iter().filter(move |n| n.control == control)
    }
}

/// The embedded library, parsed once. Errors name the file.
pub fn load() -> Result<&'static Library, String> {
    static LIBRARY: std::sync::OnceLock<Result<Library, String>> = std::sync::OnceLock::new();
    LIBRARY
        .get_or_init(parse_files)
        .as_ref()
        .map_err(Clone::clone)
}

fn parse_files() -> Result<Library, String> {
    let mut lib = Library {
        threats: Vec::new(),
        notes: Vec::new(),
    };
    for (name, text) in FILES {
        let f: LibraryFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        for mut t in f.threats {
            t.platform = Some(f.platform);
            lib.threats.push(t);
        }
        lib.notes.extend(f.notes);
    }
    Ok(lib)
}

/// The STRIDE letters that apply to each kind of DFD item (the per-element table of Microsoft's
/// method). A flow is an interaction: besides tampering, disclosure and denial of service on the
/// wire, an endpoint can be spoofed or deny its actions through it.
pub fn stride_allowed(kind: Option<ElementKind>, holds_logs: bool) -> &'static [Stride] {
    use Stride::*;
    match kind {
        Some(ElementKind::ExternalEntity) => &[S, R],
        Some(ElementKind::Process) => &[S, T, R, I, D, E],
        Some(ElementKind::DataStore) if holds_logs => &[T, R, I, D],
        Some(ElementKind::DataStore) => &[T, I, D],
        None => &[S, T, R, I, D],
    }
}

/// Check one threat definition; `known_controls` answers whether a control ID exists. Returns
/// every problem, each naming the threat and the field.
pub fn check_threat(t: &ThreatDef, known_control: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut errs = Vec::new();
    let id = &t.id;
    if t.title.trim().is_empty() {
        errs.push(format!("{id}: title is empty"));
    }
    if t.description.trim().is_empty() || t.mitigation.trim().is_empty() {
        errs.push(format!("{id}: description and mitigation must be written"));
    }
    if t.stride.is_empty() {
        errs.push(format!("{id}: stride lists no category"));
    }
    if t.targets.is_empty() {
        errs.push(format!("{id}: targets is empty"));
    }
    for s in &t.targets {
        let heads = [s.element.is_some(), s.component.is_some(), s.flow.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if heads != 1 {
            errs.push(format!(
                "{id}: a target needs exactly one of element, component, flow"
            ));
        }
    }
    for (name, v) in [("likelihood", t.likelihood), ("impact", t.impact)] {
        if !(1..=4).contains(&v) {
            errs.push(format!("{id}: {name} {v} is outside 1..4"));
        }
    }
    if t.controls.prevent.is_empty() && t.controls.limit.is_empty() {
        errs.push(format!(
            "{id}: names no mitigating control (prevent or limit)"
        ));
    }
    let mut seen = BTreeSet::new();
    for (c, _) in t.controls.all() {
        if !known_control(c) {
            errs.push(format!(
                "{id}: control {c:?} is not in the control catalog (see `bulkhead checks list`)"
            ));
        }
        if !seen.insert(c) {
            errs.push(format!("{id}: control {c:?} is listed twice"));
        }
    }
    let mut conds: Vec<&Cond> = t.applies_when.iter().collect();
    conds.extend(t.raise.iter().map(|r| &r.when));
    conds.extend(t.targets.iter().filter_map(|s| s.filter.as_ref()));
    for c in conds {
        for f in c.facts() {
            if !KNOWN_FACTS.iter().any(|(k, _)| *k == f) {
                errs.push(format!(
                    "{id}: fact {f:?} is not one bulkhead derives (see facts.rs KNOWN_FACTS)"
                ));
            }
        }
        for c in c.controls() {
            if !known_control(c) {
                errs.push(format!(
                    "{id}: condition names control {c:?}, which is not in the catalog"
                ));
            }
        }
    }
    for r in &t.raise {
        if let Some(c) = &r.fixed_by {
            if !known_control(c) {
                errs.push(format!("{id}: raise.fixed_by {c:?} is not in the catalog"));
            }
        }
    }
    errs.extend(check_refs(t));
    errs
}

fn check_refs(t: &ThreatDef) -> Vec<String> {
    let id = &t.id;
    let mut errs = Vec::new();
    if t.refs.is_empty() {
        errs.push(format!("{id}: cites no public catalog (refs)"));
    }
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    for a in &t.refs.attack {
        let ok = a
            .strip_prefix('T')
            .is_some_and(|rest| match rest.split_once('.') {
                Some((tech, sub)) => digits(tech, 4) && digits(sub, 3),
                None => digits(rest, 4),
            });
        if !ok {
            errs.push(format!(
                "{id}: {a:?} is not an ATT&CK technique ID (T1234 or T1234.001)"
            ));
        }
    }
    for m in &t.refs.ms_matrix {
        let ok = m.strip_prefix("MS-TA9").is_some_and(|r| digits(r, 3))
            || m.strip_prefix("MS-M9").is_some_and(|r| digits(r, 3));
        if !ok {
            errs.push(format!(
                "{id}: {m:?} is not a Microsoft Kubernetes threat matrix ID (MS-TA9xxx, MS-M9xxx)"
            ));
        }
    }
    let top10 = |prefix: char, v: &[String], what: &str, errs: &mut Vec<String>| {
        for x in v {
            let ok = x
                .strip_prefix(prefix)
                .and_then(|n| n.parse::<u8>().ok())
                .is_some_and(|n| (1..=10).contains(&n))
                && x.len() == 3;
            if !ok {
                errs.push(format!(
                    "{id}: {x:?} is not an {what} ID ({prefix}01..{prefix}10)"
                ));
            }
        }
    };
    top10('D', &t.refs.owasp_docker, "OWASP Docker Top 10", &mut errs);
    top10(
        'K',
        &t.refs.owasp_k8s_2022,
        "OWASP Kubernetes Top 10 2022",
        &mut errs,
    );
    top10(
        'K',
        &t.refs.owasp_k8s_2025,
        "OWASP Kubernetes Top 10 2025",
        &mut errs,
    );
    errs
}

/// Check that every selector of `t` matches something in `model`, and that each of the threat's
/// STRIDE letters applies to at least one of its targets (and each target to one letter).
pub fn check_against_model(t: &ThreatDef, model: &Model) -> Vec<String> {
    let mut errs = Vec::new();
    let facts = BTreeMap::new();
    let mut allowed_union: BTreeSet<Stride> = BTreeSet::new();
    for s in &t.targets {
        let items = s.matches(model, &facts);
        if items.is_empty() {
            errs.push(format!(
                "{}: target {} matches nothing in the reference model",
                t.id,
                s.describe()
            ));
        }
        for it in items {
            let allowed = item_stride(&it);
            if !t.stride.iter().any(|l| allowed.contains(l)) {
                errs.push(format!(
                    "{}: none of its STRIDE letters applies to {} ({})",
                    t.id,
                    it.id(),
                    allowed.iter().map(|s| s.letter()).collect::<String>()
                ));
            }
            allowed_union.extend(allowed.iter().copied());
        }
    }
    for l in &t.stride {
        if !allowed_union.contains(l) {
            errs.push(format!(
                "{}: STRIDE letter {} applies to none of its targets",
                t.id,
                l.letter()
            ));
        }
    }
    errs
}

/// The STRIDE letters that apply to a model item.
pub fn item_stride(it: &Item<'_>) -> &'static [Stride] {
    match it {
        Item::Element(e) => stride_allowed(
            Some(e.kind),
            e.attrs.get("holds_logs") == Some(&serde_json::Value::Bool(true)),
        ),
        Item::Flow(_) => stride_allowed(None, false),
    }
}
