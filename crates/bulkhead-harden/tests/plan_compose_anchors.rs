//! Compose services that share settings through YAML anchors: patching a service whose mapping
//! (or one holding it) carries an anchor also changes every mapping that merges or repeats it,
//! and the fix says which, and what they inherit. Snapshots are built in code.

mod common;

use bulkhead_facts::docker::*;
use bulkhead_facts::Fact;
use bulkhead_harden::{plan, Fix, Plan, PlanRequest, Safety};
use common::*;
use std::collections::BTreeMap;

const FILE: &str = "/srv/app/compose.yaml";

/// The usual pattern: `worker` is `web` with another command.
const COMPOSE: &str = "services:\n  web: &default\n    image: app:1\n    environment: {A: \"1\"}\n  worker:\n    <<: *default\n    command: [\"worker\"]\n  db:\n    image: postgres:16\n";

/// A running container that docker compose started for `service` of [`FILE`]; `order` starts
/// its name (containers are planned by name) and makes its ID.
fn from_compose(service: &str, order: char) -> ContainerFacts {
    ContainerFacts {
        inspect: Container {
            id: std::iter::repeat_n(order, 64).collect(),
            name: format!("/{order}-app-{service}-1"),
            image: "sha256:abc".into(),
            state: ContainerState {
                status: "running".into(),
                running: true,
                pid: 100,
                health: None,
            },
            config: ContainerConfig {
                image: "app:1".into(),
                labels: BTreeMap::from([
                    (
                        "com.docker.compose.project.config_files".into(),
                        FILE.into(),
                    ),
                    (
                        "com.docker.compose.project.working_dir".into(),
                        "/srv/app".into(),
                    ),
                    ("com.docker.compose.service".into(), service.into()),
                ]),
                ..Default::default()
            },
            ..Default::default()
        },
        processes: Fact::Value(vec![]),
    }
}

/// Plan with `compose` as the file and the containers of `failing` failing read-only root
/// filesystem, no-new-privileges and capabilities.
fn plan_for(compose: &str, failing: &[(&str, char)]) -> Plan {
    let root = temp_root("compose-anchors");
    put(&root, FILE, compose);
    let containers: Vec<ContainerFacts> =
        failing.iter().map(|(s, id)| from_compose(s, *id)).collect();
    let mut snap = snapshot(&root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(containers.clone());
    let fails = fail_containers(&containers);
    let audit = docker_audit(
        "1.2.0",
        vec![
            ("docker.container.read_only_rootfs", fails.clone()),
            ("docker.container.no_new_privileges", fails.clone()),
            ("docker.container.capabilities", fails),
        ],
    );
    let request = PlanRequest {
        root: Some(root.to_path_buf()),
        threat_links: Some(vec![]),
        ..Default::default()
    };
    plan(&snap, &[audit], &request).unwrap()
}

fn compose_fix<'p>(p: &'p Plan, service: &str) -> &'p Fix {
    p.fix(&format!("compose:{FILE}#{service}"))
        .unwrap_or_else(|| panic!("no compose fix for {service}: {:#?}", p.fixes))
}

/// The notes of a fix about other places that use its service's anchor.
fn sharing_notes(f: &Fix) -> Vec<&str> {
    f.notes
        .iter()
        .map(String::as_str)
        .filter(|n| n.contains(" merges ") || n.contains(" repeats "))
        .collect()
}

#[test]
fn a_service_merged_by_another_says_what_that_one_inherits() {
    let p = plan_for(COMPOSE, &[("web", 'a'), ("db", 'c')]);
    let web = compose_fix(&p, "web");
    assert_eq!(
        sharing_notes(web),
        ["worker (line 6) merges web through <<: *default: it inherits read_only, tmpfs, security_opt and cap_drop from this change unless it sets them itself"]
    );
    assert_eq!(web.safety, Safety::Review);
    // The patch itself is the usual one: web gets the keys, the merge is left as written.
    let after = &web.action.edits[0].after;
    assert!(
        after.contains("  worker:\n    <<: *default\n    command: [\"worker\"]\n"),
        "{after}"
    );
    assert!(after.contains("    read_only: true\n"), "{after}");
    // A service without anchors gets no such note.
    assert_eq!(sharing_notes(compose_fix(&p, "db")), Vec::<&str>::new());
}

#[test]
fn only_keys_the_other_mapping_does_not_set_itself_are_named() {
    let compose = COMPOSE.replace(
        "    command: [\"worker\"]\n",
        "    command: [\"worker\"]\n    read_only: false\n    security_opt: [\"label:disable\"]\n",
    );
    let p = plan_for(&compose, &[("web", 'a')]);
    assert_eq!(
        sharing_notes(compose_fix(&p, "web")),
        ["worker (line 6) merges web through <<: *default: it inherits tmpfs and cap_drop from this change unless it sets them itself"]
    );
    // Several anchors to merge, and an alias of the whole service.
    let compose = format!(
        "x-base: &base\n  restart: always\n{}  copy: *default\n",
        COMPOSE.replace("<<: *default", "<<: [*base, *default]")
    );
    let p = plan_for(&compose, &[("web", 'a')]);
    assert_eq!(
        sharing_notes(compose_fix(&p, "web")),
        [
            "worker (line 8) merges web through <<: [*base, *default]: it inherits read_only, tmpfs, security_opt and cap_drop from this change unless it sets them itself",
            "copy (line 12) repeats web through *default: it is the same mapping, so it gets read_only, tmpfs, security_opt and cap_drop from this change too",
        ]
    );
}

#[test]
fn an_anchor_on_the_services_mapping_is_named_too() {
    let compose = format!(
        "{}x-all:\n  <<: *svcs\n",
        COMPOSE.replace("services:\n", "services: &svcs\n")
    );
    let p = plan_for(&compose, &[("db", 'c')]);
    assert_eq!(
        sharing_notes(compose_fix(&p, "db")),
        ["x-all (line 11) merges services, which holds db, through <<: *svcs: its db gets read_only, tmpfs, security_opt and cap_drop from this change"]
    );
}

#[test]
fn a_merging_service_patched_in_the_same_plan_is_said_to_be() {
    // Containers are planned by name. web first: worker's fix, made on web's result, sets
    // read_only and cap_drop itself but takes the merged tmpfs and security_opt as they are.
    let p = plan_for(COMPOSE, &[("web", 'a'), ("worker", 'b')]);
    let web = compose_fix(&p, "web");
    assert_eq!(
        sharing_notes(web),
        ["worker (line 6) merges web through <<: *default; worker is patched too, but its own fix does not set tmpfs and security_opt, which it inherits from this change"]
    );
    assert_eq!(web.safety, Safety::Review);
    let worker = compose_fix(&p, "worker");
    assert_eq!(sharing_notes(worker), Vec::<&str>::new());
    let last = &worker.action.edits[0].after;
    let own = &last[last.find("  worker:\n").unwrap()..last.find("  db:\n").unwrap()];
    assert!(
        own.contains("read_only: true") && own.contains("cap_drop:"),
        "{own}"
    );
    assert!(
        !own.contains("tmpfs") && !own.contains("security_opt"),
        "{own}"
    );
    // worker first: it has its own values of every key web's fix writes.
    let p = plan_for(COMPOSE, &[("web", 'b'), ("worker", 'a')]);
    let web = compose_fix(&p, "web");
    assert_eq!(
        sharing_notes(web),
        ["worker (line 6) merges web through <<: *default; worker is patched too and inherits nothing from this change"]
    );
    assert_eq!(web.safety, Safety::Review);
}
