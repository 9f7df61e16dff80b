//! The catalog is data: load all of it and check it against itself and the registry.

use bulkhead_checks::{catalog, registry};
use std::collections::BTreeSet;

#[test]
fn catalog_loads_with_expected_counts() {
    let c = bulkhead_checks::catalog::load().expect("catalog parses");
    let docker = c.benchmark("cis-docker").unwrap();
    assert_eq!(
        docker.controls_in("1.6.0").len(),
        117,
        "CIS Docker 1.6.0 sections 1-7"
    );
    let k8s = c.benchmark("cis-kubernetes").unwrap();
    assert_eq!(
        k8s.controls_in("1.12").len(),
        131,
        "CIS Kubernetes cis-1.12"
    );
}

#[test]
fn ids_are_unique_per_edition_and_control_ids_stable_form() {
    let c = catalog();
    let mut seen = BTreeSet::new();
    for control in c.all_controls() {
        assert!(
            seen.insert(control.id.clone()),
            "duplicate control id {}",
            control.id
        );
        let prefix = if control.benchmark == "cis-docker" {
            "docker."
        } else {
            "k8s."
        };
        assert!(
            control.id.starts_with(prefix),
            "{} should start with {prefix}",
            control.id
        );
        assert!(
            control
                .id
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '.' || ch == '_'),
            "{}",
            control.id
        );
    }
    for b in c.benchmarks() {
        for e in &b.editions {
            let mut ids = BTreeSet::new();
            for control in &b.controls {
                if let Some(id) = control.id_in(e) {
                    assert!(
                        ids.insert(id.to_string()),
                        "{} {e}: check id {id} used twice",
                        b.id
                    );
                }
            }
        }
        for control in &b.controls {
            for e in control.ids.keys() {
                assert!(b.has_edition(e), "{}: unknown edition {e}", control.id);
            }
            assert!(
                control.id_in(b.default_edition()).is_some(),
                "{} has no id in the default edition",
                control.id
            );
        }
    }
}

#[test]
fn the_write_ups_numbering_maps() {
    let d = catalog().docker();
    assert_eq!(
        d.find("5.12", "1.2.0").unwrap().id,
        "docker.container.read_only_rootfs"
    );
    assert_eq!(
        d.find("5.25", "1.2.0").unwrap().id,
        "docker.container.no_new_privileges"
    );
    assert_eq!(
        d.find("4.5", "1.2.0").unwrap().id,
        "docker.image.content_trust"
    );
    assert_eq!(
        d.find("docker.container.read_only_rootfs", "1.6.0")
            .unwrap()
            .id_in("1.6.0"),
        Some("5.13")
    );
}

#[test]
fn every_control_is_documented_with_stride() {
    let missing: Vec<_> = catalog()
        .all_controls()
        .filter(|c| !c.is_documented() || c.stride.is_empty())
        .map(|c| c.id.clone())
        .collect();
    assert!(
        missing.is_empty(),
        "controls without rationale, remediation or STRIDE: {missing:?}"
    );
}

#[test]
fn registry_and_catalog_agree() {
    let c = catalog();
    for (id, _) in registry::all() {
        assert!(
            c.control(id).is_some(),
            "evaluator for unknown control {id}"
        );
    }
    let ids: Vec<_> = registry::all().map(|(id, _)| *id).collect();
    let unique: BTreeSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), unique.len(), "an evaluator is registered twice");
    let unevaluated: Vec<_> = c
        .all_controls()
        .filter(|ctl| ctl.automated && registry::evaluator(&ctl.id).is_none())
        .map(|ctl| ctl.id.clone())
        .collect();
    assert!(
        unevaluated.is_empty(),
        "automated controls without an evaluator: {unevaluated:?}"
    );
}
