//! Validation of the threat library and the reference models, as data: every threat is
//! well-formed, cites real controls and public catalog IDs, targets something the reference
//! models contain with STRIDE letters that apply to it, and together the threats give every
//! element every STRIDE category that applies to its kind, and every boundary-crossing flow a
//! spoofing threat; and every check the audit runs bears on some threat, or is listed below with
//! the reason it does not.

mod support;

use bulkhead_checks::Stride;
use bulkhead_threats::facts::{Facts, Instance};
use bulkhead_threats::library::{self, item_stride, Item, WRITE_UP_THREATS};
use bulkhead_threats::model::{Model, Platform};
use bulkhead_threats::reference;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

fn known_control(c: &str) -> bool {
    bulkhead_checks::catalog().control(c).is_some()
}

/// The reference models with every optional item present: a TCP listener, a container with the
/// Docker socket and a host directory mounted, a Kubernetes node with kube-proxy, the read-only
/// port open and no workload known (so the generic pods element appears), etcd on the node, and a
/// cluster dump's namespace with a workload and the service account it uses.
fn maximal_model() -> Model {
    let mut facts = Facts::default();
    for (k, v) in [
        ("docker.present", json!(true)),
        ("docker.daemon.tcp_listener", json!(true)),
        ("k8s.present", json!(true)),
        ("k8s.etcd.local", json!(true)),
        ("k8s.cluster.workloads", json!(1)),
    ] {
        facts.values.insert(k.into(), v);
    }
    let instance = |key: &str, attrs: &[(&str, serde_json::Value)]| Instance {
        key: key.into(),
        name: key.into(),
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    };
    facts.instances.insert(
        "container".into(),
        vec![instance(
            "web",
            &[
                ("docker_socket_mounted", json!(true)),
                ("has_host_mounts", json!(true)),
            ],
        )],
    );
    facts.instances.insert(
        "node".into(),
        vec![instance(
            "n1",
            &[
                ("kube_proxy", json!(true)),
                ("read_only_port", json!(10255)),
                ("workloads", json!(0)),
            ],
        )],
    );
    facts
        .instances
        .insert("namespace".into(), vec![instance("app", &[])]);
    facts.instances.insert(
        "workload".into(),
        vec![instance(
            "app/pod/web",
            &[("namespace", json!("app")), ("node", json!("n1"))],
        )],
    );
    facts.instances.insert(
        "service_account".into(),
        vec![instance("app/default", &[("namespace", json!("app"))])],
    );
    let none = |_: &str| None;
    let inputs = reference::Inputs {
        facts: &facts,
        control: &none,
    };
    let templates = reference::templates().expect("reference models parse");
    let pairs: Vec<_> = templates.iter().map(|t| (t.platform, t)).collect();
    let mut m = reference::instantiate(&pairs, &inputs, "reference");
    reference::check_references(&m, "reference model").expect("reference model is consistent");
    m.compute_crossings();
    m
}

#[test]
fn library_parses_and_is_large_enough() {
    let lib = library::load().expect("library parses");
    assert!(
        lib.threats.len() >= 40,
        "the library holds {} threats; at least 40 are required",
        lib.threats.len()
    );
    let mut ids = BTreeSet::new();
    for t in &lib.threats {
        assert!(ids.insert(t.id.clone()), "{} is defined twice", t.id);
        let prefix = match t.platform {
            Some(Platform::Docker) => "DKR-",
            Some(Platform::Kubernetes) => "K8S-",
            None => panic!("{} has no platform", t.id),
        };
        let rest =
            t.id.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("{} should start with {prefix}", t.id));
        let letter = rest.chars().next().unwrap();
        assert!(
            "STRIDE".contains(letter)
                && rest[1..].len() == 2
                && rest[1..].chars().all(|c| c.is_ascii_digit()),
            "{}: IDs read PLATFORM-<STRIDE letter><two digits>",
            t.id
        );
        assert!(
            t.stride.iter().any(|s| s.letter() == letter),
            "{}: its ID letter {letter} is not among its STRIDE categories",
            t.id
        );
    }
}

#[test]
fn write_up_threats_exist_with_their_titles() {
    let lib = library::load().unwrap();
    for (id, title) in WRITE_UP_THREATS {
        let t = lib
            .threat(id)
            .unwrap_or_else(|| panic!("{id} is missing from the library"));
        assert_eq!(&t.title, title, "{id} keeps the write-up's title");
    }
    assert_eq!(WRITE_UP_THREATS.len(), 10);
}

#[test]
fn every_threat_is_well_formed_and_cites_real_controls() {
    let lib = library::load().unwrap();
    let errors: Vec<String> = lib
        .threats
        .iter()
        .flat_map(|t| library::check_threat(t, &known_control))
        .collect();
    assert!(
        errors.is_empty(),
        "library problems:\n{}",
        errors.join("\n")
    );
    for n in &lib.notes {
        assert!(
            known_control(&n.control),
            "note for unknown control {}",
            n.control
        );
    }
}

#[test]
fn every_threat_targets_the_reference_model_with_applicable_stride() {
    let lib = library::load().unwrap();
    let m = maximal_model();
    let errors: Vec<String> = lib
        .threats
        .iter()
        .flat_map(|t| library::check_against_model(t, &m))
        .collect();
    assert!(
        errors.is_empty(),
        "targeting problems:\n{}",
        errors.join("\n")
    );
}

#[test]
fn every_element_gets_every_applicable_stride_category() {
    let lib = library::load().unwrap();
    let m = maximal_model();
    let facts = BTreeMap::new();
    let mut covered: BTreeMap<String, BTreeSet<Stride>> = BTreeMap::new();
    for t in &lib.threats {
        for s in &t.targets {
            for it in s.matches(&m, &facts) {
                covered
                    .entry(it.id().to_string())
                    .or_default()
                    .extend(t.stride.iter().copied());
            }
        }
    }
    let mut missing = Vec::new();
    for e in &m.elements {
        let have = covered.get(&e.id).cloned().unwrap_or_default();
        for s in item_stride(&Item::Element(e)) {
            if !have.contains(s) {
                missing.push(format!("{} ({}) has no {} threat", e.id, e.kind, s.name()));
            }
        }
    }
    // Per interaction: a flow that crosses a trust boundary can carry a spoofed connection.
    for f in m.flows.iter().filter(|f| !f.crosses.is_empty()) {
        let have = covered.get(&f.id).cloned().unwrap_or_default();
        if !have.contains(&Stride::S) {
            missing.push(format!(
                "flow {} crosses {:?} but no threat covers a spoofed connection on it",
                f.id, f.crosses
            ));
        }
    }
    assert!(missing.is_empty(), "coverage gaps:\n{}", missing.join("\n"));
    // The maximal model really has every kind of item, so the loop above checked something.
    for id in [
        "dkr.container:web",
        "k8s.proxy:n1",
        "k8s.pods:n1",
        "k8s.workload:app/pod/web",
        "k8s.sa:app/default",
        "k8s.etcd_peers",
    ] {
        assert!(
            m.elements.iter().any(|e| e.id == id),
            "the maximal model has {id}"
        );
    }
    for id in [
        "k8s.f.readonly:n1",
        "k8s.f.proxy_api:n1",
        "k8s.f.run_workload:app/pod/web",
        "k8s.f.sa_api:app/default",
        "k8s.f.etcd_peer",
    ] {
        assert!(
            m.flows.iter().any(|f| f.id == id),
            "the maximal model has {id}"
        );
    }
    assert!(m.flows.iter().filter(|f| !f.crosses.is_empty()).count() >= 10);
}

#[test]
fn validators_reject_broken_threats() {
    // The checks above are only worth something if they can fail: feed them a broken threat.
    let broken: library::ThreatDef = toml::from_str(
        r#"
id = "DKR-E99"
title = "Broken"
stride = ["E"]
targets = [{ element = "dkr.cli" }]
description = "x"
mitigation = "y"
likelihood = 5
impact = 2
controls.prevent = ["docker.no.such.control"]
refs.attack = ["1611"]
refs.owasp_docker = ["D11"]
applies_when = { fact = "docker.no_such_fact", equals = true }
"#,
    )
    .unwrap();
    let errs = library::check_threat(&broken, &known_control).join("\n");
    assert!(errs.contains("likelihood 5 is outside 1..4"), "{errs}");
    assert!(
        errs.contains("\"docker.no.such.control\" is not in the control catalog"),
        "{errs}"
    );
    assert!(
        errs.contains("\"1611\" is not an ATT&CK technique ID"),
        "{errs}"
    );
    assert!(
        errs.contains("\"D11\" is not an OWASP Docker Top 10 ID"),
        "{errs}"
    );
    assert!(
        errs.contains("fact \"docker.no_such_fact\" is not one bulkhead derives"),
        "{errs}"
    );
    let m = maximal_model();
    let errs = library::check_against_model(&broken, &m).join("\n");
    assert!(
        errs.contains("none of its STRIDE letters applies to dkr.cli"),
        "an external entity cannot be elevated: {errs}"
    );
}

#[test]
fn library_files_reject_unknown_fields() {
    let text = "platform = \"docker\"\n[[threat]]\nid = \"DKR-S99\"\ntitle = \"t\"\nstride = [\"S\"]\ntargets = [{ element = \"dkr.cli\" }]\ndescription = \"d\"\nmitigation = \"m\"\nlikelihood = 1\nimpact = 1\nseverity = \"high\"\n";
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct F {
        platform: String,
        threat: Vec<library::ThreatDef>,
    }
    let e = toml::from_str::<F>(text)
        .err()
        .expect("a status or severity written into the library is refused");
    assert!(e.to_string().contains("severity"), "{e}");
}

#[test]
fn every_check_the_audit_runs_is_a_control_of_some_threat_or_listed_with_a_reason() {
    let lib = library::load().unwrap();
    let cited: BTreeSet<&str> = lib
        .threats
        .iter()
        .flat_map(|t| t.controls.all().map(|(c, _)| c))
        .collect();
    let listed: BTreeMap<&str, &str> = support::NOT_A_THREAT_CONTROL.iter().copied().collect();
    assert_eq!(
        listed.len(),
        support::NOT_A_THREAT_CONTROL.len(),
        "a control is listed twice"
    );
    let catalog = bulkhead_checks::catalog();
    let mut problems = Vec::new();
    for b in [catalog.docker(), catalog.kubernetes()] {
        for c in &b.controls {
            // Every catalog entry has an evaluator or is explicitly manual (a test of the checks
            // crate); one that is evaluated can fail, or ask for review, either way it is
            // evidence for the register.
            if bulkhead_checks::registry::evaluator(&c.id).is_none() {
                continue;
            }
            let shown = c.id_in(&b.editions[0]).unwrap_or(&c.id);
            match (cited.contains(c.id.as_str()), listed.get(c.id.as_str())) {
                (false, None) => problems.push(format!(
                    "{} {shown} ({}) is no control of any threat: add it to the threat it bears on, or list it in tests/support NOT_A_THREAT_CONTROL with the reason",
                    b.id, c.id
                )),
                (true, Some(_)) => problems.push(format!(
                    "{} is a control of a threat and listed in NOT_A_THREAT_CONTROL: remove it from the list",
                    c.id
                )),
                _ => {}
            }
        }
    }
    for (c, reason) in &listed {
        if !known_control(c) {
            problems.push(format!(
                "NOT_A_THREAT_CONTROL names {c}, which is not in the catalog"
            ));
        }
        if reason.split_whitespace().count() < 8 {
            problems.push(format!(
                "NOT_A_THREAT_CONTROL: {c} needs a reason in a sentence"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checks the review found outside the register: each now decides, limits or detects a
/// threat, and the pod network has a threat of its own.
#[test]
fn formerly_uncited_kubernetes_checks_bear_on_threats() {
    let lib = library::load().unwrap();
    let role_of = |threat: &str, control: &str| {
        lib.threat(threat)
            .unwrap_or_else(|| panic!("{threat} exists"))
            .controls
            .all()
            .find(|(c, _)| *c == control)
            .map(|(_, r)| r)
    };
    use bulkhead_threats::library::Role;
    for (threat, control, role) in [
        (
            "K8S-T08",
            "k8s.apiserver.deny_service_external_ips",
            Role::Prevent,
        ),
        (
            "K8S-I07",
            "k8s.network.cni_supports_policies",
            Role::Prevent,
        ),
        (
            "K8S-I07",
            "k8s.network.policies_per_namespace",
            Role::Prevent,
        ),
        ("K8S-I07", "k8s.general.no_default_namespace", Role::Limit),
        ("K8S-I07", "k8s.kubelet.iptables_util_chains", Role::Limit),
        ("K8S-D02", "k8s.kubelet.streaming_idle_timeout", Role::Limit),
        ("K8S-S01", "k8s.kubelet.no_hostname_override", Role::Limit),
        ("K8S-E02", "k8s.pss.no_windows_hostprocess", Role::Prevent),
        ("K8S-E02", "k8s.general.no_default_namespace", Role::Limit),
    ] {
        assert_eq!(role_of(threat, control), Some(role), "{threat} {control}");
    }
}
