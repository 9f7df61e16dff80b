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

    /// Every control of the benchmark's current edition, shown in `edition`: those `edition`
    /// numbers first, in its order, then those it does not number (checks newer than it), in the
    /// current edition's order. An audit evaluates them all, whatever the numbering it is shown
    /// in: a numbering changes names, never which checks count.
    pub fn controls_shown_in(&self, edition: &str) -> Vec<&Control> {
        let mut v = self.controls_in(edition);
        let current = self.default_edition();
        if edition != current {
            v.extend(
                self.controls_in(current)
                    .into_iter()
                    .filter(|c| c.id_in(edition).is_none()),
            );
        }
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

/// Every benchmark, each parsed from the embedded catalog on first use: an audit of one
/// platform never pays for parsing the other's prose.
pub struct Catalog {
    /// In `BENCHMARK_IDS` order.
    slots: [OnceLock<Benchmark>; 2],
}

/// The benchmarks the catalog holds, in the order they are listed.
const BENCHMARK_IDS: [&str; 2] = ["cis-docker", "cis-kubernetes"];

impl Catalog {
    const fn empty() -> Catalog {
        Catalog {
            slots: [OnceLock::new(), OnceLock::new()],
        }
    }

    pub fn benchmark(&self, id: &str) -> Option<&Benchmark> {
        let i = BENCHMARK_IDS.iter().position(|b| *b == id)?;
        Some(self.slots[i].get_or_init(|| {
            load_benchmark(id).unwrap_or_else(|e| panic!("embedded catalog is invalid: {e}"))
        }))
    }

    /// Every benchmark (parsing any not parsed yet).
    pub fn benchmarks(&self) -> impl Iterator<Item = &Benchmark> {
        BENCHMARK_IDS.iter().filter_map(|id| self.benchmark(id))
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
        self.benchmarks()
            .flat_map(|b| b.controls.iter())
            .find(|c| c.id == id)
    }

    pub fn all_controls(&self) -> impl Iterator<Item = &Control> {
        self.benchmarks().flat_map(|b| b.controls.iter())
    }
}

/// The embedded catalog files: (benchmark directory, TOML file name, its content as JSON).
/// `build.rs` compiles them from `catalog/`.
pub const FILES: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));

#[derive(Deserialize)]
struct ControlFile {
    control: Vec<Control>,
}

/// Parse the whole embedded catalog now. Errors name the file and the problem.
pub fn load() -> Result<Catalog, String> {
    let catalog = Catalog::empty();
    for (slot, id) in catalog.slots.iter().zip(BENCHMARK_IDS) {
        let _ = slot.set(load_benchmark(id)?);
    }
    Ok(catalog)
}

/// Parse one benchmark's files: its `benchmark.toml`, then its controls in file order.
fn load_benchmark(id: &str) -> Result<Benchmark, String> {
    let files = FILES.iter().filter(|(dir, _, _)| *dir == id);
    let mut benchmark: Option<Benchmark> = None;
    for (dir, name, text) in files.clone() {
        if *name == "benchmark.toml" {
            benchmark =
                Some(serde_json::from_str(text).map_err(|e| format!("catalog/{dir}/{name}: {e}"))?);
        }
    }
    let mut b = benchmark.ok_or_else(|| format!("catalog/{id}: no benchmark.toml"))?;
    if b.id != id {
        return Err(format!(
            "catalog/{id}/benchmark.toml: id is {:?}, not the directory's name",
            b.id
        ));
    }
    for (dir, name, text) in files {
        if *name == "benchmark.toml" {
            continue;
        }
        let f: ControlFile =
            serde_json::from_str(text).map_err(|e| format!("catalog/{dir}/{name}: {e}"))?;
        for mut c in f.control {
            c.benchmark = b.id.clone();
            b.controls.push(c);
        }
    }
    Ok(b)
}

/// The catalog; each benchmark is parsed on first use. The embedded files are validated by
/// tests, so a failure here is a build defect.
pub fn catalog() -> &'static Catalog {
    static CATALOG: Catalog = Catalog::empty();
    &CATALOG
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An audit of one platform parses only that benchmark's files.
    #[test]
    fn a_benchmark_is_parsed_on_first_use_only() {
        let catalog = Catalog::empty();
        assert!(catalog.docker().controls.len() > 100);
        assert!(catalog.slots[1].get().is_none(), "Kubernetes left unparsed");
        assert!(catalog.benchmark("cis-nothing").is_none());
        assert_eq!(catalog.benchmarks().count(), 2);
        assert!(catalog.slots.iter().all(|s| s.get().is_some()));
    }
}
