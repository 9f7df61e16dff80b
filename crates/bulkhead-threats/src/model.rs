//! The instantiated data-flow model of one real system: elements (external entities, processes,
//! data stores), data flows between them, and the trust boundaries that contain them.
//!
//! A [`Model`] is what the reference templates (see `reference.rs`) become once pruned and
//! instantiated from a snapshot's facts, plus whatever the user added in a model file.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The DFD kind of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementKind {
    ExternalEntity,
    Process,
    DataStore,
}

impl ElementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ElementKind::ExternalEntity => "external_entity",
            ElementKind::Process => "process",
            ElementKind::DataStore => "data_store",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ElementKind::ExternalEntity => "external entity",
            ElementKind::Process => "process",
            ElementKind::DataStore => "data store",
        }
    }
}

impl fmt::Display for ElementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which reference model an element, flow or boundary belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Docker,
    Kubernetes,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::Docker, Platform::Kubernetes];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Docker => "docker",
            Platform::Kubernetes => "kubernetes",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Platform::Docker => "Docker",
            Platform::Kubernetes => "Kubernetes",
        }
    }
}

/// A trust boundary: everything inside shares one level of trust.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boundary {
    pub id: String,
    pub name: String,
    /// `user`, `host`, `container`, `network`, `internet`, `control_plane`, `node`, `pod`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// 0 (untrusted) to 100 (fully trusted), as OTM's `trustRating`.
    pub trust: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub platform: Platform,
    /// Layout hint: position among its siblings, left to right.
    #[serde(default)]
    pub rank: u32,
    /// `reference` (from the built-in model) or `user` (from a model file).
    pub origin: String,
}

/// A DFD element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    pub id: String,
    pub name: String,
    pub kind: ElementKind,
    /// What it is: `dockerd`, `container`, `kubelet`, `etcd`, ...
    pub component: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<String>,
    pub platform: Platform,
    /// Observed properties: listen addresses, user, privileged, mounts, ...
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, serde_json::Value>,
    /// The template this is an instance of (`dkr.container` for `dkr.container:web`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_of: Option<String>,
    /// Layout hint: column inside its boundary.
    #[serde(default)]
    pub rank: u32,
    pub origin: String,
}

/// A data flow between two elements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub id: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub protocol: String,
    /// Port, socket path or `-` when the flow has no address (a fork/exec).
    pub port: String,
    /// How the receiving side knows who is talking (`mTLS`, `unix file permissions`, `none`).
    pub authentication: String,
    /// How the data is protected in transit (`TLS`, `none`, `local only`).
    pub encryption: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<String>,
    #[serde(default)]
    pub bidirectional: bool,
    pub platform: Platform,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_of: Option<String>,
    /// Trust boundaries this flow crosses (computed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crosses: Vec<String>,
    pub origin: String,
}

/// The model of one real system.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub elements: Vec<Element>,
    pub flows: Vec<Flow>,
    pub boundaries: Vec<Boundary>,
}

impl Model {
    pub fn element(&self, id: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.id == id)
    }

    pub fn flow(&self, id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.id == id)
    }

    pub fn boundary(&self, id: &str) -> Option<&Boundary> {
        self.boundaries.iter().find(|b| b.id == id)
    }

    pub fn platforms(&self) -> Vec<Platform> {
        Platform::ALL
            .into_iter()
            .filter(|p| self.elements.iter().any(|e| e.platform == *p))
            .collect()
    }

    /// The chain of boundaries containing `boundary`, innermost first.
    pub fn boundary_chain(&self, boundary: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = boundary.map(String::from);
        while let Some(id) = cur {
            if out.contains(&id) {
                break; // a cycle is reported by validation; never loop here
            }
            cur = self.boundary(&id).and_then(|b| b.parent.clone());
            out.push(id);
        }
        out
    }

    /// Fill each flow's `crosses`: the boundaries entered or left between its two ends.
    pub fn compute_crossings(&mut self) {
        let crossings: Vec<Vec<String>> = self
            .flows
            .iter()
            .map(|f| {
                let a =
                    self.boundary_chain(self.element(&f.from).and_then(|e| e.boundary.as_deref()));
                let b =
                    self.boundary_chain(self.element(&f.to).and_then(|e| e.boundary.as_deref()));
                let mut x: Vec<String> = a
                    .iter()
                    .filter(|id| !b.contains(id))
                    .chain(b.iter().filter(|id| !a.contains(id)))
                    .cloned()
                    .collect();
                x.sort();
                x
            })
            .collect();
        for (f, x) in self.flows.iter_mut().zip(crossings) {
            f.crosses = x;
        }
    }
}
