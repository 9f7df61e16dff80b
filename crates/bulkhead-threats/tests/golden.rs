//! Golden outputs from snapshot fixtures (a host like the write-up's, and the same host
//! hardened), and the behaviours the threat model promises: pruning from facts, instances per
//! container, the mounted socket as a flow, status and severity from evidence, acceptance and
//! user additions.

mod support;

use bulkhead_facts::docker::{DaemonSettings, MountPoint};
use bulkhead_facts::Snapshot;
use bulkhead_threats::{accept, svg, ThreatStatus, UserModel};
use support::{fixtures, golden, model, Options, WRITE_UP_FIXES};

fn fixture_file(name: &str, s: &Snapshot) {
    let mut json = serde_json::to_string_pretty(s).unwrap();
    json.push('\n');
    golden(&format!("fixtures/{name}.snapshot.json"), &json);
    // The file on disk is what `bulkhead threats --snapshot` reads: it must load back.
    let back = Snapshot::from_json(&json).expect("fixture snapshot loads");
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        serde_json::to_string(s).unwrap()
    );
}

fn all_outputs(name: &str, tm: &bulkhead_threats::ThreatModel) {
    golden(&format!("golden/{name}/threats.json"), &tm.to_json());
    golden(&format!("golden/{name}/dfd.svg"), &svg::render(tm, None));
    golden(
        &format!("golden/{name}/dfd.dot"),
        &bulkhead_threats::dot::render(tm),
    );
    golden(
        &format!("golden/{name}/dfd.mmd"),
        &bulkhead_threats::mermaid::render(tm),
    );
    golden(
        &format!("golden/{name}/otm.json"),
        &bulkhead_threats::otm::render(tm),
    );
}

fn status(tm: &bulkhead_threats::ThreatModel, id: &str) -> ThreatStatus {
    tm.threat(id)
        .unwrap_or_else(|| panic!("{id} evaluated"))
        .status
}

#[test]
fn writeup_host_golden_and_statuses() {
    let s = fixtures::writeup();
    fixture_file("writeup", &s);
    let tm = model(
        &s,
        Options {
            fixes: WRITE_UP_FIXES,
            ..Default::default()
        },
    )
    .unwrap();
    all_outputs("writeup", &tm);
    // The three failed findings of the write-up leave their threats exposed.
    for (id, control) in [
        ("DKR-S01", "docker.image.content_trust"),
        ("DKR-T02", "docker.container.read_only_rootfs"),
        ("DKR-E02", "docker.container.no_new_privileges"),
    ] {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::Exposed, "{id}: {}", t.reason);
        assert!(
            t.reason.contains(control),
            "{id} cites {control}: {}",
            t.reason
        );
        assert!(
            t.evidence
                .iter()
                .any(|e| e.control == control && e.status == bulkhead_checks::Status::Fail),
            "{id} cites failing evidence for {control}"
        );
    }
    // Numbering: the evidence uses CIS Docker 1.2.0 IDs, as the write-up does.
    let t = tm.threat("DKR-T02").unwrap();
    assert!(t
        .evidence
        .iter()
        .any(|e| e.check == "5.12" && e.object == "container web"));
    let e = tm.threat("DKR-E02").unwrap();
    assert!(e.evidence.iter().any(|e| e.check == "5.25"));
    assert!(tm
        .threat("DKR-S01")
        .unwrap()
        .evidence
        .iter()
        .any(|e| e.check == "4.5"));
    // The container runs as root (no USER): DKR-E01 exposed.
    assert_eq!(status(&tm, "DKR-E01"), ThreatStatus::Exposed);
    // The write-up's fixes lower the projected severity of the threats they close.
    let t2 = tm.threat("DKR-T02").unwrap();
    assert!(
        t2.projected_severity < t2.severity,
        "T02 {} -> {}",
        t2.severity,
        t2.projected_severity
    );
    // No TCP listener: no remote client, no TCP flow, TCP-only threats not applicable.
    assert!(tm.elements.iter().all(|e| e.id != "dkr.remote_client"));
    assert!(tm.flows.iter().all(|f| f.id != "dkr.f.tcp_api"));
    assert_eq!(status(&tm, "DKR-S03"), ThreatStatus::NotApplicable);
    // One container instance, in its own trust boundary inside the host.
    let c = tm
        .elements
        .iter()
        .find(|e| e.id == "dkr.container:web")
        .expect("container instance");
    assert_eq!(c.boundary.as_deref(), Some("dkr.b.container:web"));
    assert_eq!(c.attrs["runs_as_root"], serde_json::json!(true));
    // No Kubernetes on this host: no Kubernetes threats listed.
    assert!(tm.threats.iter().all(|t| !t.id.starts_with("K8S-")));
}

#[test]
fn hardened_host_golden_and_statuses() {
    let s = fixtures::hardened();
    fixture_file("hardened", &s);
    let tm = model(
        &s,
        Options {
            edition: "1.6.0",
            ..Default::default()
        },
    )
    .unwrap();
    all_outputs("hardened", &tm);
    for id in ["DKR-E01", "DKR-T02", "DKR-E02", "DKR-S01"] {
        let t = tm.threat(id).unwrap();
        assert!(
            matches!(
                t.status,
                ThreatStatus::Mitigated | ThreatStatus::PartiallyMitigated
            ),
            "{id} on the hardened host: {} ({})",
            t.status,
            t.reason
        );
        assert!(
            t.severity < bulkhead_threats::Severity::High,
            "{id}: {}",
            t.severity
        );
    }
    assert_eq!(status(&tm, "DKR-E01"), ThreatStatus::Mitigated);
    assert_eq!(status(&tm, "DKR-T02"), ThreatStatus::Mitigated);
    let writeup = model(&fixtures::writeup(), Options::default()).unwrap();
    let exposed = |tm: &bulkhead_threats::ThreatModel| {
        tm.threats
            .iter()
            .filter(|t| t.status == ThreatStatus::Exposed)
            .count()
    };
    assert!(
        exposed(&tm) < exposed(&writeup),
        "hardening reduces exposed threats: {} vs {}",
        exposed(&tm),
        exposed(&writeup)
    );
}

#[test]
fn tcp_listener_exists_only_when_dockerd_listens_on_tcp() {
    let mut s = fixtures::writeup();
    let d = &mut s.docker.as_mut().unwrap().daemon;
    // The hosts move from the command line (-H fd://) to daemon.json, as dockerd requires.
    d.flags = bulkhead_facts::docker::parse_dockerd_flags(&[
        "--containerd=/run/containerd/containerd.sock".to_string(),
    ]);
    let config =
        serde_json::json!({"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"]});
    d.config = bulkhead_facts::Fact::Value(Some(config.clone()));
    d.paths = bulkhead_facts::docker::resolve_paths(
        &DaemonSettings::new(d.flags.clone(), Some(config), "/etc/docker/daemon.json"),
        None,
    );
    let tm = model(&s, Options::default()).unwrap();
    let f = tm
        .flows
        .iter()
        .find(|f| f.id == "dkr.f.tcp_api")
        .expect("TCP flow present");
    assert_eq!(f.port, "tcp://0.0.0.0:2375");
    assert_eq!(f.authentication, "none");
    assert_eq!(f.encryption, "none");
    assert!(f.crosses.contains(&"dkr.b.network".to_string()));
    assert_ne!(status(&tm, "DKR-S03"), ThreatStatus::NotApplicable);
    let s03 = tm.threat("DKR-S03").unwrap();
    assert!(s03
        .likelihood
        .raised_by
        .iter()
        .any(|r| r.contains("does not verify client certificates")));
}

#[test]
fn mounted_docker_socket_is_a_flow_from_the_container_to_the_daemon() {
    let mut s = fixtures::writeup();
    let c = &mut s.docker.as_mut().unwrap().containers;
    if let bulkhead_facts::Fact::Value(v) = c {
        v[0].inspect.mounts.push(MountPoint {
            kind: "bind".into(),
            source: "/var/run/docker.sock".into(),
            destination: "/var/run/docker.sock".into(),
            rw: true,
            ..Default::default()
        });
    }
    let tm = model(&s, Options::default()).unwrap();
    let f = tm
        .flows
        .iter()
        .find(|f| f.id == "dkr.f.socket:web")
        .expect("socket flow");
    assert_eq!(
        (f.from.as_str(), f.to.as_str()),
        ("dkr.container:web", "dkr.dockerd")
    );
    let s04 = tm.threat("DKR-S04").unwrap();
    assert!(s04.targets.contains(&"dkr.f.socket:web".to_string()));
    assert_ne!(s04.status, ThreatStatus::NotApplicable);
    // Evidence raises the likelihood of running as root.
    let e01 = tm.threat("DKR-E01").unwrap();
    assert!(
        e01.likelihood.current > e01.likelihood.base,
        "{:?}",
        e01.likelihood
    );
    assert!(e01
        .likelihood
        .raised_by
        .iter()
        .any(|r| r.contains("Docker socket")));
    // Without the mount there is no such flow and S04 is not applicable.
    let plain = model(&fixtures::writeup(), Options::default()).unwrap();
    assert!(plain
        .flows
        .iter()
        .all(|f| f.instance_of.as_deref() != Some("dkr.f.socket")));
    assert_eq!(status(&plain, "DKR-S04"), ThreatStatus::NotApplicable);
}

#[test]
fn risk_acceptance_applies_until_it_expires() {
    let accepted = accept::parse(
        "accept:\n  - threat: DKR-R01\n    reason: CI signs every image it pushes\n    owner: platform-team\n    expires: 2026-06-30\n",
        "accept.yaml",
    )
    .unwrap();
    let s = fixtures::writeup();
    let tm = model(
        &s,
        Options {
            accept: &accepted,
            ..Default::default()
        },
    )
    .unwrap();
    let r = tm.threat("DKR-R01").unwrap();
    assert_eq!(r.status, ThreatStatus::Accepted);
    assert!(r.computed_status.is_some() && r.computed_status != Some(ThreatStatus::Accepted));
    assert_eq!(r.acceptance.as_ref().unwrap().owner, "platform-team");
    let later = model(
        &s,
        Options {
            accept: &accepted,
            as_of: "2026-07-01",
            ..Default::default()
        },
    )
    .unwrap();
    let r = later.threat("DKR-R01").unwrap();
    assert_ne!(r.status, ThreatStatus::Accepted);
    assert!(r.notes.iter().any(|n| n.contains("expired on 2026-06-30")));
    let unknown = accept::parse(
        "accept:\n  - threat: DKR-Z99\n    reason: r\n    owner: o\n    expires: 2030-01-01\n",
        "a.yaml",
    )
    .unwrap();
    let e = model(
        &s,
        Options {
            accept: &unknown,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.starts_with("a.yaml:2:5: accept[0] (DKR-Z99): no such threat"),
        "{e}"
    );
}

#[test]
fn user_model_adds_elements_flows_and_threats() {
    let yaml = support::ORDERS_MODEL;
    let user = UserModel::parse(yaml, "model.yaml").unwrap();
    let tm = model(
        &fixtures::writeup(),
        Options {
            user: Some(&user),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(tm
        .elements
        .iter()
        .any(|e| e.id == "app.db" && e.origin == "user"));
    let f = tm.flows.iter().find(|f| f.id == "app.f.web_db").unwrap();
    assert_eq!(f.crosses, vec!["dkr.b.container:web".to_string()]);
    let t = tm.threat("APP-I01").expect("user threat evaluated");
    assert_eq!(t.origin, "user");
    assert_eq!(t.targets, vec!["app.f.web_db".to_string()]);
    assert_ne!(t.status, ThreatStatus::NotApplicable);
    let bad = UserModel::parse("flows:\n  - {id: x, name: x, from: nowhere, to: dkr.dockerd, protocol: p, port: '1', authentication: a, encryption: e}\n", "model.yaml").unwrap();
    let e = model(
        &fixtures::writeup(),
        Options {
            user: Some(&bad),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.contains("model.yaml:2:6: flow \"x\" connects \"nowhere\""),
        "{e}"
    );
    let e = UserModel::parse(
        "elements:\n  - {id: a, name: a, kind: database, component: c}\n",
        "model.yaml",
    )
    .unwrap_err();
    assert!(
        e.starts_with("model.yaml:2:"),
        "the error names the line of the wrong kind: {e}"
    );
    assert!(
        e.contains("elements[0].kind") && e.contains("database"),
        "{e}"
    );
}

#[test]
fn json_contract_fields() {
    let tm = model(
        &fixtures::writeup(),
        Options {
            fixes: WRITE_UP_FIXES,
            ..Default::default()
        },
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&tm.to_json()).unwrap();
    assert_eq!(v["schema"], "bulkhead.threats/1");
    for k in ["elements", "flows", "boundaries", "threats"] {
        assert!(
            v[k].as_array().is_some_and(|a| !a.is_empty()),
            "{k}[] present"
        );
    }
    for t in v["threats"].as_array().unwrap() {
        for k in [
            "id", "title", "stride", "status", "severity", "targets", "controls", "evidence",
            "refs",
        ] {
            assert!(t.get(k).is_some(), "threat {} has {k}", t["id"]);
        }
        for l in t["stride"].as_array().unwrap() {
            assert!(["S", "T", "R", "I", "D", "E"].contains(&l.as_str().unwrap()));
        }
        for e in t["evidence"].as_array().unwrap() {
            for k in ["check", "object", "status", "confidence"] {
                assert!(e.get(k).is_some(), "evidence of {} has {k}", t["id"]);
            }
        }
    }
    for f in v["flows"].as_array().unwrap() {
        for k in ["protocol", "port", "authentication", "encryption"] {
            assert!(f[k].is_string(), "flow {} has {k}", f["id"]);
        }
    }
}

/// The `width` and `height` attributes of a rendered diagram.
fn svg_size(svg: &str) -> (i64, i64) {
    let attr = |name: &str| -> i64 {
        let start = svg.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        svg[start..].split('"').next().unwrap().parse().unwrap()
    };
    (attr("width"), attr("height"))
}

/// A container name of 5,000 characters (one word, as a hostile or generated name can be) is
/// cut in its box, its boundary's label and the flow legend, whole in their tooltips: before,
/// the diagram grew to 42,624 × 3,184 px. Markup in it stays text.
#[test]
fn diagram_cuts_a_very_long_name_and_keeps_it_in_the_tooltip() {
    let long = format!("<img src=x onerror=alert(1)>{}", "B".repeat(5000));
    let mut s = fixtures::writeup();
    if let bulkhead_facts::Fact::Value(v) = &mut s.docker.as_mut().unwrap().containers {
        v[0].inspect.name = format!("/{long}");
    }
    let tm = model(&s, Options::default()).unwrap();
    let svg = svg::render(&tm, None);
    let (w, h) = svg_size(&svg);
    assert!(w <= 2500 && h <= 800, "diagram is {w} x {h} px");
    assert!(!svg.contains("<img"), "markup of the name reached the SVG");
    // The box: at most six lines, the last one ending in an ellipsis.
    let names = svg.matches("class=\"element-name\"").count();
    assert!(names <= 6 * tm.elements.len(), "{names} name lines");
    assert!(svg.contains("BBBB…</text>"), "the cut is marked");
    // Every cut label has the whole name in a tooltip.
    let whole = bulkhead_threats::svg::esc(&long);
    assert!(svg.contains(&format!("<title>Container {whole} · trust")));
    assert!(svg.contains(&format!("<title>{whole} (process)")));
}

/// A host with 500 containers: each boundary column draws its first boxes and one box that
/// says how many more there are, in the worst status among them and linking to the first of
/// them in the element table; their flows are counted in the legend, not drawn. Before, the
/// diagram was 65,250 px tall.
#[test]
fn diagram_of_500_containers_sums_up_the_column_it_cannot_show() {
    let mut s = fixtures::writeup();
    if let bulkhead_facts::Fact::Value(v) = &mut s.docker.as_mut().unwrap().containers {
        let base = v[0].clone();
        v.clear();
        for i in 0..500 {
            let mut c = base.clone();
            c.inspect.id = format!("{:064x}", 0xabc000 + i);
            c.inspect.name = format!("/web-{i:03}");
            v.push(c);
        }
    }
    let tm = model(&s, Options::default()).unwrap();
    assert_eq!(
        tm.elements
            .iter()
            .filter(|e| e.id.starts_with("dkr.container:"))
            .count(),
        500
    );
    let svg = svg::render(&tm, None);
    let (_, h) = svg_size(&svg);
    assert!(h <= 3000, "diagram is {h} px tall");
    assert!(svg.contains("data-element=\"dkr.container:web-014\""));
    assert!(!svg.contains("data-element=\"dkr.container:web-015\""));
    assert!(
        svg.contains("<a href=\"#el-dkr.container:web-015\"><g class=\"more\" data-count=\"485\" data-status=\"exposed\">"),
        "summary box"
    );
    assert!(svg.contains("… and 485 more</text>"));
    assert!(svg.contains("… and 485 more flows of the elements not drawn</text>"));
    assert!(
        !svg.contains("→ web-015:"),
        "flow legend lists a flow not drawn"
    );
}

/// The diagram's accessible name is its own title, which names the host and the time of the
/// evidence: a generic `aria-label` used to take its place for a screen reader.
#[test]
fn diagram_is_named_by_its_title() {
    let tm = model(&fixtures::writeup(), Options::default()).unwrap();
    let svg = svg::render(&tm, None);
    let open = &svg[..svg.find('>').unwrap()];
    assert!(!open.contains("aria-label="), "{open}");
    let id = open
        .split("aria-labelledby=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("aria-labelledby on the svg element");
    let title = svg
        .split(&format!("<title id=\"{id}\">"))
        .nth(1)
        .and_then(|r| r.split("</title>").next())
        .expect("the title the svg is labelled by");
    assert!(
        title.starts_with("Data-flow diagram of ") && title.contains(&tm.system.host),
        "{title}"
    );
}
