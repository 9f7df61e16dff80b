//! Golden assessment reports (Markdown and HTML) and threat-model Markdown from the snapshot
//! fixtures of bulkhead-threats: the write-up-like host with 4.5, 5.12 and 5.25 (CIS Docker
//! 1.2.0) selected, the hardened host with the top three failed findings by risk, and the
//! insecure kubeadm node of bulkhead-kube-tests (with its cluster dump) for the Kubernetes part.
//! Regenerate with BULKHEAD_BLESS=1 after reviewing a change.

use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
use bulkhead_facts::Snapshot;
use bulkhead_report::assessment_model::Assessment;
use bulkhead_report::Target;
use bulkhead_threats::{build, EvidenceSet, Input};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden(rel: &str, actual: &str) {
    bulkhead_testkit::golden::assert_golden(&dir().join("tests/golden").join(rel), actual);
}

/// Audit the snapshot fixture as `bulkhead report` does (CIS Docker in `edition` numbering when it
/// has Docker facts, CIS Kubernetes when it has Kubernetes facts), build the threat model and
/// render the assessment (Markdown, HTML) and the threat model (Markdown).
fn render(name: &str, edition: &str, select: &[&str]) -> (String, String, String) {
    let path = dir().join(format!(
        "../bulkhead-threats/tests/fixtures/{name}.snapshot.json"
    ));
    let s = Snapshot::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    let opts = AuditOptions::default();
    let ctx = Context::new(&s, &opts);
    let mut audits = Vec::new();
    if s.docker.is_some() {
        let a = bulkhead_checks::run(catalog().docker(), edition, &ctx, &Selection::default());
        audits.push((a, Target::from_snapshot("docker", &s)));
    }
    if s.kubernetes.is_some() {
        let b = catalog().kubernetes();
        let a = bulkhead_checks::run(b, b.default_edition(), &ctx, &Selection::default());
        audits.push((a, Target::from_snapshot("kubernetes", &s)));
    }
    let mut ev = EvidenceSet::new();
    for (a, _) in &audits {
        ev.add_audit(a);
    }
    let only: Vec<_> = audits.iter().map(|(a, _)| a.clone()).collect();
    let request = bulkhead_harden::PlanRequest {
        select: select.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let plan = bulkhead_harden::plan(&s, &only, &request);
    let fixes: BTreeSet<String> = plan
        .as_ref()
        .map(|p| p.fixed_controls())
        .unwrap_or_default();
    let tm = build(&Input {
        snapshot: &s,
        evidence: &ev,
        evidence_sources: audits
            .iter()
            .map(|(a, _)| format!("{} {}", a.benchmark.id, a.edition))
            .collect(),
        user: None,
        user_file: "",
        acceptances: &[],
        planned_fixes: &fixes,
        as_of: "2026-01-15",
        tool_version: "test",
    })
    .unwrap();
    let (findings, selection) = if select.is_empty() {
        (
            bulkhead_threats::analysis::ranked_failures(&tm, &ev)
                .into_iter()
                .take(3)
                .collect(),
            "The 3 failed checks with the highest risk.".to_string(),
        )
    } else {
        let v = select
            .iter()
            .map(|c| {
                let control = catalog().docker().find(c, edition).unwrap().id.clone();
                bulkhead_threats::analysis::analyse(&tm, &ev, &control)
            })
            .collect();
        (
            v,
            format!("Selected findings: {} (cis-{edition}).", select.join(", ")),
        )
    };
    let a = Assessment {
        tool_version: "test",
        threats: &tm,
        audits: &audits,
        findings,
        selection,
        plan: plan.as_ref().map_err(|e| e.clone()),
    };
    (
        bulkhead_report::assessment_markdown::render(&a),
        bulkhead_report::assessment_html::render(&a),
        bulkhead_report::threats_markdown::render(&tm),
    )
}

#[test]
fn writeup_assessment_analyses_the_three_selected_findings() {
    let (md, html, threats) = render("writeup", "1.2.0", &["4.5", "5.12", "5.25"]);
    golden("writeup/assessment.md", &md);
    golden("writeup/assessment.html", &html);
    golden("writeup/threats.md", &threats);
    // The write-up's structure, in order.
    let pos = |s: &str| md.find(s).unwrap_or_else(|| panic!("missing {s:?}"));
    assert!(pos("## 1. Docker threat model") < pos("## 2. Kubernetes threat model"));
    assert!(pos("## 3. Benchmark results") < pos("## 4. Analysis"));
    assert!(pos("## 4. Analysis") < pos("## 5. Hardening plan"));
    assert!(md.contains("### 1. [FAIL] 4.5 Ensure Content trust for Docker is Enabled"));
    assert!(md.contains(
        "### 2. [FAIL] 5.12 Ensure that the container's root filesystem is mounted as read only"
    ));
    assert!(md.contains("### 3. [FAIL] 5.25 Ensure that the container is restricted from acquiring additional privileges"));
    // Content trust: retired for official images, cosign/Notation as the lasting control, and
    // still DOCKER_CONTENT_TRUST=1 as the benchmark asks.
    let ct = &md[pos("### 1. [FAIL] 4.5")..pos("### 2. [FAIL] 5.12")];
    assert!(ct.contains("retired Docker Content Trust"), "{ct}");
    assert!(ct.contains("cosign") && ct.contains("Notation"));
    assert!(ct.contains("DOCKER_CONTENT_TRUST=1"));
    assert!(ct.contains("DKR-S01"), "4.5 leaves DKR-S01 open");
    assert!(md.contains("No Kubernetes node audit or cluster dump was available"));
    // Self-contained: inline SVG, no script, nothing loaded from elsewhere (the SVG namespace URI
    // is an identifier, not a fetch).
    assert!(html.contains("<svg") && !html.contains("<script"));
    for fetch in ["src=", "href=\"http", "url(http", "@import", "<link"] {
        assert!(
            !html.contains(fetch),
            "the page would fetch something: {fetch}"
        );
    }
}

#[test]
fn hardened_assessment_ranks_remaining_failures() {
    let (md, html, threats) = render("hardened", "1.6.0", &[]);
    golden("hardened/assessment.md", &md);
    golden("hardened/assessment.html", &html);
    golden("hardened/threats.md", &threats);
    assert!(md.contains("The 3 failed checks with the highest risk."));
}

#[test]
fn kubernetes_node_assessment_has_the_kubernetes_threat_model() {
    let (md, html, threats) = render("k8s-insecure", "1.6.0", &[]);
    golden("k8s-insecure/assessment.md", &md);
    golden("k8s-insecure/assessment.html", &html);
    golden("k8s-insecure/threats.md", &threats);
    let pos = |s: &str| md.find(s).unwrap_or_else(|| panic!("missing {s:?}"));
    let k8s = &md[pos("## 2. Kubernetes threat model")..pos("## 3. Benchmark results")];
    assert!(
        md[pos("## 1. Docker threat model")..pos("## 2. Kubernetes threat model")]
            .contains("No Docker engine was audited")
    );
    // The write-up's five Kubernetes threats, exposed, each with the evidence that keeps it open.
    for id in ["K8S-S01", "K8S-T01", "K8S-R01", "K8S-I01", "K8S-E01"] {
        let row = k8s
            .lines()
            .find(|l| l.starts_with(&format!("| {id} |")))
            .unwrap_or_else(|| panic!("{id} row"));
        assert!(row.contains("| exposed |"), "{row}");
    }
    // Flows say what the node's configuration shows.
    assert!(k8s.contains(
        "kubelet's serving certificate is NOT verified (no --kubelet-certificate-authority)"
    ));
    assert!(k8s.contains("none: --etcd-servers uses http://127.0.0.1:2379"));
    // The dump's namespaces, pods and service accounts are in the diagram.
    assert!(k8s.contains("Pod app/debug") && k8s.contains("Service account app/default"));
    assert!(md.contains("### CIS Kubernetes"));
    assert!(
        html.contains("id=\"kubernetes-threat-model\"")
            && html.contains("el-k8s.workload:app/pod/debug")
    );
}

/// Failing checks that harden has no automatic fix for are still failing: section 5 must list
/// each with what it needs, never say there is nothing to fix. In both formats, each entry names
/// the object it is about, so entries of one check on several objects can be told apart.
#[test]
fn plan_section_lists_failing_checks_without_an_automatic_fix() {
    let (md, html, _) = render("writeup", "1.6.0", &["1.1.1", "2.12"]);
    let plan = &md[md.find("## 5. Hardening plan").unwrap()..];
    assert!(md.contains("### 1. [FAIL] 1.1.1") && md.contains("### 2. [FAIL] 2.12"));
    assert!(!plan.contains("Nothing to fix"), "{plan}");
    assert!(
        plan.contains("No failing check has an automatic fix"),
        "{plan}"
    );
    assert!(
        plan.contains("- 2.12 (docker.daemon.authorization_plugin): ")
            && plan.contains("--authz-plugin NAME"),
        "{plan}"
    );
    assert!(
        plan.contains("- 1.1.1 (docker.host.separate_partition): "),
        "{plan}"
    );
    let plan = &html[html.find("id=\"hardening-plan\"").unwrap()..];
    assert!(!plan.contains("Nothing to fix"), "{plan}");
    assert!(
        plan.contains("No failing check has an automatic fix")
            && plan.contains("<li>2.12 (docker.daemon.authorization_plugin): ")
            && plan.contains("--authz-plugin NAME"),
        "{plan}"
    );

    let (md, html, _) = render("k8s-insecure", "1.6.0", &[]);
    let line = "2.2 (k8s.etcd.client_cert_auth) on etcd (pid 1000): ";
    assert!(
        md.contains(&format!("- {line}")),
        "Markdown names the object"
    );
    assert!(
        html.contains(&format!("<li>{line}")),
        "HTML names the object as the Markdown does"
    );
}
