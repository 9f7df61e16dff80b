//! An element's status comes from the evidence about that element, and a threat none of whose
//! controls applies stays open unless its own condition says it does not apply.

mod support;

use bulkhead_checks::Status;
use bulkhead_threats::evaluate::NOTHING_MITIGATES;
use bulkhead_threats::{svg, Severity, ThreatModel, ThreatStatus, UserModel};
use support::{fixtures, model, Options};

const HARDENED: &str = "dkr.container:hardened";
const WEB: &str = "dkr.container:web";

/// The SVG tag of one element (its `<g class="element" ...>` opening tag).
fn element_tag<'a>(svg: &'a str, id: &str) -> &'a str {
    let at = svg
        .find(&format!("data-element=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} drawn"));
    let start = svg[..at].rfind("<g ").unwrap();
    let end = at + svg[at..].find('>').unwrap();
    &svg[start..=end]
}

fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let start = tag.find(&key).unwrap_or_else(|| panic!("{name} in {tag}")) + key.len();
    tag[start..].split('"').next().unwrap()
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// A container run `--read-only --user 1000 --memory 64m --pids-limit 50 --cpu-shares 512
/// --cap-drop ALL --security-opt no-new-privileges` next to one run as the write-up's: its own
/// evidence passes, so the threats that evidence mitigates are mitigated on it, in every format,
/// while the threats stay exposed overall (and on `web`). Before, it was drawn exposed with all
/// eight threats listed, coloured by the neighbour's failures.
#[test]
fn hardened_container_among_exposed_ones_is_drawn_by_its_own_evidence() {
    let tm = model(&fixtures::mixed(), Options::default()).unwrap();
    // Its own evidence passes.
    for control in [
        "docker.container.read_only_rootfs",
        "docker.container.no_new_privileges",
    ] {
        let items: Vec<_> = tm
            .threats
            .iter()
            .flat_map(|t| &t.evidence)
            .filter(|e| e.control == control && e.object == "container hardened")
            .collect();
        assert!(!items.is_empty(), "{control} judged hardened");
        assert!(items.iter().all(|e| e.status == Status::Pass), "{items:?}");
    }
    let mitigated_here = ["DKR-T02", "DKR-D01", "DKR-E01"];
    for id in mitigated_here {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::Exposed, "{id}: {}", t.reason);
        assert_eq!(
            ThreatModel::status_on(t, WEB),
            ThreatStatus::Exposed,
            "{id} on web"
        );
        let on = t.by_target.iter().find(|x| x.target == HARDENED).unwrap();
        assert_eq!(on.status, ThreatStatus::Mitigated, "{id}: {}", on.reason);
    }
    // Not evaluated overall (no-new-privileges needs review on web), verified on hardened.
    let e02 = tm.threat("DKR-E02").unwrap();
    assert_eq!(e02.status, ThreatStatus::Unknown, "{}", e02.reason);
    assert_eq!(
        ThreatModel::status_on(e02, HARDENED),
        ThreatStatus::Mitigated
    );
    // No threat is worse on hardened than the evidence about it says: none is exposed there.
    for (t, s) in tm.threats_on(HARDENED) {
        assert_ne!(s, ThreatStatus::Exposed, "{} on hardened", t.id);
    }
    assert_eq!(tm.worst_status(WEB), Some(ThreatStatus::Exposed));
    assert_ne!(tm.worst_status(HARDENED), Some(ThreatStatus::Exposed));

    // SVG: status, colour and the threats split into open and mitigated; data-threats keeps
    // listing every threat of the element.
    let drawing = svg::render(&tm, None);
    let hard = element_tag(&drawing, HARDENED);
    let status = attr(hard, "data-status");
    assert_ne!(status, "exposed", "{hard}");
    let all = words(attr(hard, "data-threats"));
    let open = words(attr(hard, "data-open-threats"));
    let mitigated = words(attr(hard, "data-mitigated-threats"));
    for id in mitigated_here {
        assert!(all.contains(&id), "{hard}");
        assert!(mitigated.contains(&id) && !open.contains(&id), "{hard}");
    }
    assert_eq!(all.len(), tm.threats_of(HARDENED).count());
    let web = element_tag(&drawing, WEB);
    assert_eq!(attr(web, "data-status"), "exposed");
    for id in mitigated_here {
        assert!(words(attr(web, "data-open-threats")).contains(&id), "{web}");
    }
    // Its tooltip says both.
    let t02 = tm.threat("DKR-T02").unwrap();
    assert!(drawing.contains(&format!(
        "DKR-T02 {} (mitigated here, exposed overall)",
        svg::esc(&t02.title)
    )));

    // DOT: the node's colour and its tooltip's statuses are its own.
    let dot = bulkhead_threats::dot::render(&tm);
    let node = dot
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("\"{HARDENED}\" [")))
        .unwrap();
    assert!(!node.contains(ThreatStatus::Exposed.colour()), "{node}");
    assert!(node.contains("DKR-T02 mitigated"), "{node}");
    let node = dot
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("\"{WEB}\" [")))
        .unwrap();
    assert!(node.contains(ThreatStatus::Exposed.colour()), "{node}");

    // Mermaid: the exposed class holds web, not hardened.
    let mmd = bulkhead_threats::mermaid::render(&tm);
    let exposed = mmd
        .lines()
        .find(|l| l.trim_start().starts_with("class ") && l.ends_with(" exposed"))
        .unwrap();
    assert!(exposed.contains("dkr_container_web"), "{exposed}");
    assert!(!exposed.contains("dkr_container_hardened"), "{exposed}");

    // OTM: the threat's state on the component is its own.
    let otm: serde_json::Value = serde_json::from_str(&bulkhead_threats::otm::render(&tm)).unwrap();
    let component = otm["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == HARDENED)
        .unwrap();
    let t02 = component["threats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["threat"] == "DKR-T02")
        .unwrap();
    assert_eq!(t02["state"], "MITIGATED");

    // JSON: each threat says its status on each target.
    let json: serde_json::Value = serde_json::from_str(&tm.to_json()).unwrap();
    let t02 = json["threats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "DKR-T02")
        .unwrap();
    let on = t02["by_target"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["target"] == HARDENED)
        .unwrap();
    assert_eq!(on["status"], "mitigated");
    assert!(on["reason"].is_string());
}

/// A daemon started with `--bridge=none` has no default bridge network (its network list holds
/// none; checks 2.2 and 5.30 are not applicable): no container can spoof neighbours on it, so
/// DKR-S06 does not apply, and says why. Before, it was unknown with severity medium.
#[test]
fn spoofing_on_the_default_bridge_does_not_apply_without_one() {
    let s = fixtures::no_default_bridge();
    let tm = model(&s, Options::default()).unwrap();
    let s06 = tm.threat("DKR-S06").unwrap();
    for c in [
        "docker.daemon.icc_disabled",
        "docker.container.no_default_bridge",
    ] {
        let c = s06.controls.iter().find(|x| x.control == c).unwrap();
        assert_eq!(c.status, Some(Status::NotApplicable), "{}", c.control);
    }
    assert_eq!(s06.status, ThreatStatus::NotApplicable, "{}", s06.reason);
    assert!(
        s06.reason.contains("docker.daemon.default_bridge"),
        "{}",
        s06.reason
    );
    assert_eq!(s06.severity, Severity::None);
    assert!(s06
        .by_target
        .iter()
        .all(|x| x.status == ThreatStatus::NotApplicable));

    // daemon.json `"bridge": "none"` says the same, even before the network list is read.
    let mut s = fixtures::writeup();
    let d = s.docker.as_mut().unwrap();
    d.daemon.config = bulkhead_facts::Fact::Value(Some(serde_json::json!({"bridge": "none"})));
    d.networks = bulkhead_facts::Fact::Unavailable("not collected".into());
    let tm = model(&s, Options::default()).unwrap();
    assert_eq!(
        tm.threat("DKR-S06").unwrap().status,
        ThreatStatus::NotApplicable
    );

    // With the default bridge, it applies.
    let tm = model(&fixtures::writeup(), Options::default()).unwrap();
    assert_ne!(
        tm.threat("DKR-S06").unwrap().status,
        ThreatStatus::NotApplicable
    );
}

/// The README's user model on a daemon without a default bridge: the flow is declared
/// unencrypted and its threat's only control (icc) does not apply there. Nothing bulkhead
/// checks mitigates it, so it stays open (unknown, with its severity), never not applicable.
/// Only the threat's own condition makes it not apply.
#[test]
fn a_threat_whose_every_control_is_not_applicable_stays_open() {
    let yaml = format!(
        "{}{}",
        support::ORDERS_MODEL,
        r#"  - id: APP-I02
    title: Order data read off the TCP API
    stride: [I]
    targets: [{ flow: app.f.web_db }]
    applies_when: { fact: docker.daemon.tcp_listener, equals: true }
    description: Only with a TCP listener.
    mitigation: Close it.
    likelihood: 2
    impact: 3
    controls: { prevent: [docker.daemon.icc_disabled] }
    refs: { attack: [T1040] }
"#
    );
    let user = UserModel::parse(&yaml, "model.yaml").unwrap();
    let tm = model(
        &fixtures::no_default_bridge(),
        Options {
            user: Some(&user),
            ..Default::default()
        },
    )
    .unwrap();
    let t = tm.threat("APP-I01").unwrap();
    assert_eq!(
        t.controls[0].status,
        Some(Status::NotApplicable),
        "icc does not apply without a default bridge"
    );
    assert_eq!(t.status, ThreatStatus::Unknown, "{}", t.reason);
    assert_eq!(t.reason, NOTHING_MITIGATES);
    assert_eq!(
        t.severity,
        Severity::of_score(2 * 3),
        "likelihood 2 x impact 3"
    );
    assert_ne!(t.severity, Severity::None);
    assert_eq!(
        ThreatModel::status_on(t, "app.f.web_db"),
        ThreatStatus::Unknown
    );
    // Its own condition is false: not applicable, and says why.
    let t = tm.threat("APP-I02").unwrap();
    assert_eq!(t.status, ThreatStatus::NotApplicable, "{}", t.reason);
    assert!(t.reason.starts_with("applies only when"), "{}", t.reason);
}
