//! The control catalog: metadata as data (TOML under `catalog/`, compiled to JSON by
//! `build.rs`), embedded in the binary.
//!
//! A control has a stable ID that never changes (`docker.container.read_only_rootfs`); each
//! benchmark edition maps it to that edition's numbering (`5.13` in CIS Docker 1.6.0, `5.12` in
//! 1.2.0). A new edition is a new column of IDs in these files, not new code.

use crate::model::Stride;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One benchmark (CIS Docker, CIS Kubernetes) with every control it holds.
#[derive(Debug, Deserialize)]
pub struct Benchmark {
    /// `cis-docker`, `cis-kubernetes`.
    pub id: String,
    pub name: String,
    /// Editions whose numbering the controls carry; the first is the default.
    pub editions: Vec<String>,
    /// Edition -> section ID -> title. Editions without their own table use the default's.
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(skip)]
    pub controls: Vec<Control>,
}

/// A control: what must hold, why, and how to make it hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Stable ID, never renumbered.
    pub id: String,
    /// Edition -> the check's ID in that edition's numbering.
    pub ids: BTreeMap<String, String>,
    pub title: String,
    /// The benchmark calls it Automated (can be checked by a tool) rather than Manual.
    pub automated: bool,
    /// Counts toward the score.
    pub scored: bool,
    pub stride: Vec<Stride>,
    pub rationale: String,
    pub remediation: String,
    /// How bulkhead evaluates it: which facts it reads and what passes (shown by `checks explain`).
    #[serde(default)]
    pub evaluation: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// Kubernetes: the target group (`master`, `etcd`, `controlplane`, `node`, `policies`).
    #[serde(default)]
    pub target: Option<String>,
    /// Kubernetes: the component examined (`kube-apiserver`, `kubelet`, `etcd`, ...).
    #[serde(default)]
    pub component: Option<String>,
    /// The benchmark this control belongs to (filled at load time).
    #[serde(skip)]
    pub benchmark: String,
}

impl Control {
    /// The check's ID in `edition`, if the check exists there.
    pub fn id_in(&self, edition: &str) -> Option<&str> {
        self.ids.get(edition).map(String::as_str)
    }

    /// IDs in every edition other than `edition`, keyed `<benchmark>-<edition>`.
    pub fn aliases(&self, except: &str) -> BTreeMap<String, String> {
        self.ids
            .iter()
            .filter(|(e, _)| e.as_str() != except)
            .map(|(e, id)| (format!("{}-{e}", self.benchmark), id.clone()))
            .collect()
    }

    /// Whether every line of rationale and remediation has been written (no placeholder left).
    pub fn is_documented(&self) -> bool {
        let written = |s: &str| !s.trim().is_empty() && s.trim() != "TODO";
        written(&self.rationale) && written(&self.remediation)
    }
}

impl Benchmark {
    pub fn default_edition(&self) -> &str {
        &self.editions[0]
    }

    /// Does this benchmark know `edition`?
    pub fn has_edition(&self, edition: &str) -> bool {
        self.editions.iter().any(|e| e == edition)
    }

    /// Section titles for `edition` (falling back to the default edition's).
    pub fn section_titles(&self, edition: &str) -> &BTreeMap<String, String> {
        self.sections
            .get(edition)
            .unwrap_or_else(|| &self.sections[self.default_edition()])
    }

    /// Find a control by stable ID, or by its check ID in `edition`.
    pub fn find(&self, key: &str, edition: &str) -> Option<&Control> {
        self.controls
            .iter()
            .find(|c| c.id == key)
            .or_else(|| self.controls.iter().find(|c| c.id_in(edition) == Some(key)))
    }

    /// Controls that exist in `edition`, in that edition's numbering order.
    pub fn controls_in(&self, edition: &str) -> Vec<&Control> {
        let mut v: Vec<&Control> = self
            .controls
            .iter()
            .filter(|c| c.id_in(edition).is_some())
            .collect();
        v.sort_by(|a, b| compare_check_ids(a.id_in(edition).unwrap(), b.id_in(edition).unwrap()));
        v
    }
}

/// Order check IDs numerically part by part (`5.2` < `5.10`).
pub fn compare_check_ids(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| {
        s.split('.')
            .map(|p| p.parse::<u32>().unwrap_or(u32::MAX))
            .collect::<Vec<_>>()
    };
    parts(a).cmp(&parts(b))
}

/// Every benchmark, loaded once from the embedded TOML.
pub struct Catalog {
    pub benchmarks: Vec<Benchmark>,
}

impl Catalog {
    pub fn benchmark(&self, id: &str) -> Option<&Benchmark> {
        self.benchmarks.iter().find(|b| b.id == id)
    }

    pub fn docker(&self) -> &Benchmark {
        self.benchmark("cis-docker")
            .expect("cis-docker catalog is embedded")
    }

    pub fn kubernetes(&self) -> &Benchmark {
        self.benchmark("cis-kubernetes")
            .expect("cis-kubernetes catalog is embedded")
    }

    /// Look a control up by its stable ID across all benchmarks.
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.benchmarks
            .iter()
            .flat_map(|b| b.controls.iter())
            .find(|c| c.id == id)
    }

    pub fn all_controls(&self) -> impl Iterator<Item = &Control> {
        self.benchmarks.iter().flat_map(|b| b.controls.iter())
    }
}

/// The embedded catalog files: (benchmark directory, TOML file name, its content as JSON).
/// `build.rs` compiles them from `catalog/`.
pub const FILES: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));

#[derive(Deserialize)]
struct ControlFile {
    control: Vec<Control>,
}

/// Parse the embedded catalog. Errors name the file and the problem.
pub fn load() -> Result<Catalog, String> {
    let mut benchmarks: Vec<Benchmark> = Vec::new();
    for (dir, name, text) in FILES {
        if *name == "benchmark.toml" {
            let b: Benchmark =
                serde_json::from_str(text).map_err(|e| format!("catalog/{dir}/{name}: {e}"))?;
            benchmarks.push(b);
        }
    }
    for (dir, name, text) in FILES {
        if *name == "benchmark.toml" {
            continue;
        }
        let f: ControlFile =
            serde_json::from_str(text).map_err(|e| format!("catalog/{dir}/{name}: {e}"))?;
        let b = benchmarks
            .iter_mut()
            .find(|b| b.id == *dir)
            .ok_or_else(|| format!("catalog/{dir}: no benchmark.toml"))?;
        for mut c in f.control {
            c.benchmark = b.id.clone();
            b.controls.push(c);
        }
    }
    Ok(Catalog { benchmarks })
}

/// The catalog, parsed on first use. The embedded files are validated by tests, so a failure
/// here is a build defect.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| load().unwrap_or_else(|e| panic!("embedded catalog is invalid: {e}")))
}
