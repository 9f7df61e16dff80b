//! Section 6: Docker security operations. Both checks are informational: counts of images and
//! containers from the Engine API, with the objects that make the count worth a look.

use super::no_docker;
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::docker::short_image_id;
use std::collections::BTreeMap;

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("docker.ops.image_sprawl", image_sprawl),
    ("docker.ops.container_sprawl", container_sprawl),
];

/// 6.1 (info): how many images the daemon holds and how many the audited containers use. Each
/// image is listed with the containers using it, so unused ones can be pruned.
fn image_sprawl(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let docker = ctx.docker().expect("checked above");
    let images = match docker.images.as_result() {
        Ok(i) => i,
        Err(reason) => return CheckResult::error(format!("images could not be listed: {reason}")),
    };
    let mut users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let containers = docker.containers.value();
    for c in containers.into_iter().flatten() {
        users
            .entry(c.inspect.image.as_str())
            .or_default()
            .push(c.name());
    }
    let scope = if docker.selection.all_states {
        "audited containers (all states)"
    } else {
        "running audited containers"
    };
    let objects: Vec<ObjectResult> = images
        .iter()
        .map(|i| {
            let used_by = users.get(i.inspect.id.as_str());
            let o = ObjectResult::new("image", i.display_name(), Status::Info)
                .id(short_image_id(&i.inspect.id));
            match used_by {
                Some(names) => o.evidence("used by", names.join(", "), "images in use"),
                None => o
                    .evidence("used by", format!("no {scope}"), "images in use")
                    .note("not used by any audited container: remove it if nothing needs it"),
            }
        })
        .collect();
    let in_use = images
        .iter()
        .filter(|i| users.contains_key(i.inspect.id.as_str()))
        .count();
    let mut message = format!(
        "{} {}, {in_use} in use by the {scope}",
        images.len(),
        if images.len() == 1 { "image" } else { "images" }
    );
    if containers.is_none() {
        message.push_str(" (containers could not be listed)");
    }
    CheckResult::info(message).with_objects(objects)
}

/// 6.2 (info): how many containers exist and in which state, from the daemon's own counts.
fn container_sprawl(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let docker = ctx.docker().expect("checked above");
    let info = match docker.info.as_result() {
        Ok(i) => i,
        Err(reason) => {
            return CheckResult::error(format!("the daemon's counts could not be read: {reason}"))
        }
    };
    let mut message = format!(
        "{} containers: {} running, {} paused, {} stopped",
        info.containers, info.containers_running, info.containers_paused, info.containers_stopped
    );
    if info.containers_stopped > info.containers_running && info.containers_stopped > 0 {
        message.push_str(
            "; more stopped than running: remove those no longer needed (docker container prune)",
        );
    }
    CheckResult::info(message).with_object(
        ObjectResult::new("daemon", docker.endpoint.host.clone(), Status::Info).evidence(
            "Info.Containers",
            format!(
                "{} ({} running, {} paused, {} stopped)",
                info.containers,
                info.containers_running,
                info.containers_paused,
                info.containers_stopped
            ),
            "only the containers in use",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use crate::model::Status;
    use bulkhead_facts::Fact;

    #[test]
    fn image_sprawl_counts_images_in_use() {
        let f = Fixture::new()
            .image("used:1", |_| {})
            .image("unused:1", |_| {})
            .image("", |_| {})
            .container("web", |c| c.image = format!("sha256:{:0>64}", "a1"))
            .container("worker", |c| c.image = format!("sha256:{:0>64}", "a1"));
        let r = f.check("docker.ops.image_sprawl");
        assert_eq!(r.status, Status::Info);
        assert_eq!(
            r.message.as_deref(),
            Some("3 images, 1 in use by the running audited containers")
        );
        assert_eq!(r.objects.len(), 3);
        assert_eq!(
            r.objects[0].evidence.as_ref().unwrap().actual,
            "web, worker"
        );
        assert!(r.objects[1].note.as_deref().unwrap().contains("not used"));
        assert!(r.objects.iter().all(|o| o.status == Status::Info));
    }

    #[test]
    fn container_sprawl_reports_the_daemon_counts() {
        let f = Fixture::new().edit_docker(|d| {
            if let Fact::Value(i) = &mut d.info {
                i.containers = 12;
                i.containers_running = 2;
                i.containers_paused = 1;
                i.containers_stopped = 9;
            }
        });
        let r = f.check("docker.ops.container_sprawl");
        assert_eq!(r.status, Status::Info);
        assert!(r
            .message
            .as_deref()
            .unwrap()
            .starts_with("12 containers: 2 running, 1 paused, 9 stopped; more stopped"));
        let r = Fixture::new()
            .edit_docker(|d| d.info = Fact::unavailable("timeout"))
            .check("docker.ops.container_sprawl");
        assert_eq!(r.status, Status::Error);
    }
}
