//! Swarm facts from a real single-manager swarm (the testkit's private daemon made a manager on
//! a loopback port): swarm inspect (autolock, node certificate lifetime), the node list
//! (managers, addresses), the secret count and overlay networks, then the section 5.1 and 7
//! verdicts on them.

use bulkhead_checks::{catalog, AuditOptions, Context, Selection, Status};
use bulkhead_collect::{collect, CollectOptions, Want};
use bulkhead_testkit::TestDockerd;
use serde_json::json;

#[test]
fn single_manager_swarm() {
    let Some(d) = TestDockerd::start() else {
        return;
    };
    let addr = match d.swarm_init() {
        Ok(a) => a,
        Err(reason) => {
            // Not a missing component: this host already runs a swarm whose bridge the test
            // would have to share.
            eprintln!("skipped: {reason}");
            return;
        }
    };
    d.api()
        .post_json(
            "/secrets/create",
            &json!({"Name": "db-password", "Data": "c2VjcmV0"}),
        )
        .and_then(|r| r.ok("creating a secret"))
        .unwrap();
    for (name, encrypted) in [("plain-overlay", false), ("encrypted-overlay", true)] {
        let mut body = json!({"Name": name, "Driver": "overlay", "CheckDuplicate": true});
        if encrypted {
            body["Options"] = json!({"encrypted": ""});
        }
        d.api()
            .post_json("/networks/create", &body)
            .and_then(|r| r.ok("creating an overlay network"))
            .unwrap();
    }
    let s = collect(&CollectOptions {
        docker: Want::Required,
        docker_host: Some(d.docker_host()),
        kubernetes: Want::Skip,
        ..Default::default()
    })
    .unwrap();
    let docker = s.docker.as_ref().unwrap();
    let swarm = docker.swarm.value().expect("swarm facts");
    assert_eq!(swarm.state, "active");
    assert!(swarm.is_manager);
    assert_eq!(swarm.managers, 1);
    assert_eq!(swarm.autolock, Some(false));
    assert_eq!(swarm.node_cert_expiry_seconds, Some(90 * 24 * 3600));
    assert_eq!(swarm.secrets, Some(1));
    assert_eq!(swarm.advertise_addr.as_deref(), Some(addr.as_str()));
    assert_eq!(swarm.data_path_addr.as_deref(), Some("127.0.0.1"));
    let networks = docker.networks.value().unwrap();
    let enc = networks
        .iter()
        .find(|n| n.name == "encrypted-overlay")
        .unwrap();
    assert!(enc.options.contains_key("encrypted"));
    assert_eq!(enc.driver, "overlay");

    let options = AuditOptions::default();
    let ctx = Context::new(&s, &options);
    let audit = bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default());
    let result = |id: &str| {
        audit
            .outcomes
            .iter()
            .find(|o| o.check_id == id)
            .unwrap_or_else(|| panic!("{id}"))
            .result
            .clone()
    };
    assert_eq!(
        result("5.1").status,
        Status::Warn,
        "swarm mode on: confirm it is needed"
    );
    assert_eq!(result("7.1").status, Status::Pass, "one manager");
    assert_eq!(
        result("7.2").status,
        Status::Pass,
        "management port on 127.0.0.1 only"
    );
    let overlays = result("7.3");
    assert_eq!(overlays.status, Status::Fail);
    let per: Vec<(String, Status)> = overlays
        .objects
        .iter()
        .map(|o| (o.name.clone(), o.status))
        .collect();
    assert!(
        per.contains(&("plain-overlay".into(), Status::Fail)),
        "{per:?}"
    );
    assert!(
        per.contains(&("encrypted-overlay".into(), Status::Pass)),
        "{per:?}"
    );
    assert_eq!(result("7.5").status, Status::Fail, "autolock off");
}
