//! What every evaluated threat model keeps, whatever the system: checked over every snapshot
//! fixture (Docker hosts, Kubernetes nodes, a cluster dump read where nothing of Kubernetes runs,
//! a managed control plane) and with findings of an artifact scan added to the evidence.
//!
//! The invariant: a threat that is `not_applicable` cites no evidence that keeps it open (a
//! failure, a verdict that needs review, an error). Either the evidence shows the threat here, and
//! then it is judged, or it does not apply, and then that evidence belongs to other threats.
//! Also: every check that fails on a fixture is a control of some threat of its model, so no
//! failure stays out of the register.

mod support;

use bulkhead_checks::Status;
use bulkhead_threats::{Finding, ThreatModel, ThreatStatus};
use support::{dump_only, eks_worker, fixtures, model, snapshot_file, Options, WRITE_UP_FIXES};

/// Every threat of `tm` that is not applicable yet cites evidence that does not pass, as lines.
fn contradictions(tm: &ThreatModel) -> Vec<String> {
    tm.threats
        .iter()
        .filter(|t| t.status == ThreatStatus::NotApplicable)
        .flat_map(|t| {
            t.evidence
                .iter()
                .filter(|e| !matches!(e.status, Status::Pass | Status::NotApplicable))
                .map(move |e| {
                    format!(
                        "{} ({}): {} {} on {}",
                        t.id, t.reason, e.check, e.status, e.object
                    )
                })
        })
        .collect()
}

fn scan_finding(control: &str, rule: &str, object: &str) -> Finding {
    Finding {
        control: control.into(),
        rule: rule.into(),
        object: object.into(),
        status: Status::Fail,
        message: format!("{object} breaks {control}"),
        source: "scan".into(),
    }
}

#[test]
fn no_threat_is_not_applicable_while_citing_evidence_that_keeps_it_open() {
    let socket = [scan_finding(
        "docker.container.no_docker_socket",
        "compose-docker-socket",
        "compose.yaml:9 service agent",
    )];
    let host_network = [scan_finding(
        "k8s.pss.no_host_network",
        "k8s-host-namespaces",
        "pod.yaml:6 Pod/app/sniffer",
    )];
    let cases: Vec<(&str, ThreatModel)> = vec![
        (
            "writeup",
            model(
                &fixtures::writeup(),
                Options {
                    fixes: WRITE_UP_FIXES,
                    ..Default::default()
                },
            )
            .unwrap(),
        ),
        (
            "hardened",
            model(
                &fixtures::hardened(),
                Options {
                    edition: "1.6.0",
                    ..Default::default()
                },
            )
            .unwrap(),
        ),
        (
            "writeup with a scanned socket mount",
            model(
                &fixtures::writeup(),
                Options {
                    findings: &socket,
                    ..Default::default()
                },
            )
            .unwrap(),
        ),
        (
            "k8s-insecure",
            model(&snapshot_file("k8s-insecure"), Options::default()).unwrap(),
        ),
        (
            "k8s-secure",
            model(&snapshot_file("k8s-secure"), Options::default()).unwrap(),
        ),
        (
            "k8s-insecure dump only",
            model(&dump_only("k8s-insecure"), Options::default()).unwrap(),
        ),
        (
            "k8s-secure dump only",
            model(&dump_only("k8s-secure"), Options::default()).unwrap(),
        ),
        (
            "k8s-secure dump only with a scanned hostNetwork pod",
            model(
                &dump_only("k8s-secure"),
                Options {
                    findings: &host_network,
                    ..Default::default()
                },
            )
            .unwrap(),
        ),
        (
            "k8s-insecure as an EKS worker",
            model(&eks_worker("k8s-insecure"), Options::default()).unwrap(),
        ),
        (
            "k8s-secure as an EKS worker",
            model(&eks_worker("k8s-secure"), Options::default()).unwrap(),
        ),
    ];
    let mut problems = Vec::new();
    for (name, tm) in &cases {
        problems.extend(
            contradictions(tm)
                .into_iter()
                .map(|p| format!("{name}: {p}")),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A preventive control that fails shows the threat on this system even where the model has no
/// item for it: a compose file that mounts the Docker socket, scanned before any such container
/// runs, makes the socket threat exposed rather than not applicable.
#[test]
fn failing_preventive_evidence_is_judged_when_the_model_has_no_target() {
    let before = model(&fixtures::writeup(), Options::default()).unwrap();
    let s04 = before.threat("DKR-S04").unwrap();
    assert_eq!(s04.status, ThreatStatus::NotApplicable, "{}", s04.reason);
    let finding = [scan_finding(
        "docker.container.no_docker_socket",
        "compose-docker-socket",
        "compose.yaml:9 service agent",
    )];
    let after = model(
        &fixtures::writeup(),
        Options {
            findings: &finding,
            ..Default::default()
        },
    )
    .unwrap();
    let s04 = after.threat("DKR-S04").unwrap();
    assert!(s04.targets.is_empty(), "no container mounts the socket yet");
    assert_eq!(s04.status, ThreatStatus::Exposed, "{}", s04.reason);
    assert!(
        s04.reason.contains("docker.container.no_docker_socket")
            && s04.reason.contains("no item of the model"),
        "{}",
        s04.reason
    );
    assert!(s04
        .evidence
        .iter()
        .any(|e| e.source == "scan" && e.status == Status::Fail));
}

/// A threat whose condition does not hold stays not applicable when one of its controls fails
/// for other reasons: no TCP listener means no remote client to impersonate, whatever the
/// authorization plugin says. That failure is left to the threats it bears on, and a note says
/// so.
#[test]
fn failing_evidence_of_a_threat_that_does_not_apply_is_left_to_other_threats() {
    let tm = model(&fixtures::writeup(), Options::default()).unwrap();
    for id in ["DKR-S03", "DKR-R03"] {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::NotApplicable, "{id}: {}", t.reason);
        assert!(
            t.evidence.iter().all(|e| e.status != Status::Fail),
            "{id}: {:?}",
            t.evidence
        );
        assert!(
            t.notes.iter().any(|n| n.contains("2.11")),
            "{id} says which observations it leaves out: {:?}",
            t.notes
        );
    }
    // The same failure still keeps open the threats it does bear on.
    assert!(tm
        .threats
        .iter()
        .filter(|t| t.status != ThreatStatus::NotApplicable)
        .any(|t| t
            .evidence
            .iter()
            .any(|e| e.check == "2.11" && e.status == Status::Fail)));
}

/// Every failing check of every fixture is a control of a threat in that fixture's model (the
/// checks listed in `NOT_A_THREAT_CONTROL` aside): a failure always reaches the register.
#[test]
fn every_failing_check_is_cited_by_a_threat_of_its_model() {
    let cases = [
        ("writeup", fixtures::writeup()),
        ("hardened", fixtures::hardened()),
        ("k8s-insecure", snapshot_file("k8s-insecure")),
        ("k8s-secure", snapshot_file("k8s-secure")),
        ("k8s-insecure, dump only", dump_only("k8s-insecure")),
    ];
    let mut problems = Vec::new();
    for (name, snapshot) in &cases {
        let (evidence, _) = support::evidence(snapshot, "1.2.0");
        let tm = model(snapshot, Options::default()).unwrap();
        for control in evidence.failing_controls() {
            let cited = tm
                .threats
                .iter()
                .any(|t| t.controls.iter().any(|c| c.control == control));
            let listed = support::NOT_A_THREAT_CONTROL
                .iter()
                .any(|(c, _)| *c == control);
            if !cited && !listed {
                problems.push(format!(
                    "{name}: {} ({control}) fails, and no threat cites it",
                    evidence.check_id(&control).unwrap_or("?")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
