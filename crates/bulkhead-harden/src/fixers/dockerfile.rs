//! Image fixes at their source: the Dockerfile that builds the image gets a non-root USER (4.1)
//! and a HEALTHCHECK (4.6) in the stage the build produces.
//!
//! Which Dockerfile builds an image is not recorded in the image itself. bulkhead uses the ones
//! it can tie to a failing object — the `build:` of the compose service that created a failing
//! container — and the Dockerfiles the operator names (`--dockerfile PATH`), which it fixes for
//! every failing image check.

use super::{file_edit, ids_of, Fixer, ROOT_FILE};
use crate::edit::dockerfile as edit;
use crate::files;
use crate::fixers::container::{COMPOSE_FILES_LABEL, COMPOSE_SERVICE_LABEL, COMPOSE_WORKDIR_LABEL};
use crate::model::{Action, Fix, FixKind, Safety, Target};
use crate::planner::{Failing, PlanContext, Planned};
use bulkhead_facts::docker::ContainerFacts;
use std::collections::BTreeMap;

pub const FIXER: Fixer = Fixer {
    name: "dockerfile",
    handles: |c| c == "docker.image.non_root_user" || c == "docker.image.healthcheck",
    plan,
};

/// `dir/sub/../x` -> `dir/x` (paths from compose files are joined textually, never resolved on
/// this machine).
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The Dockerfile a container's compose service builds from, with the build target.
fn compose_dockerfile(
    ctx: &PlanContext<'_>,
    c: &ContainerFacts,
) -> Option<(String, Option<String>)> {
    let labels = &c.inspect.config.labels;
    let service = labels.get(COMPOSE_SERVICE_LABEL)?;
    let workdir = labels
        .get(COMPOSE_WORKDIR_LABEL)
        .cloned()
        .unwrap_or_default();
    for f in labels
        .get(COMPOSE_FILES_LABEL)?
        .split(',')
        .map(str::trim)
        .rev()
    {
        let path = if f.starts_with('/') {
            f.to_string()
        } else {
            format!("{workdir}/{f}")
        };
        let Ok(read) = files::read(&ctx.root, &path) else {
            continue;
        };
        let Some(text) = read.content else { continue };
        let Ok(docs) = bulkhead_sources::yaml::parse(&text) else {
            continue;
        };
        let Some(build) = bulkhead_sources::yaml::Node::path(
            &docs.first()?.root,
            &["services", service, "build"],
        ) else {
            continue;
        };
        let base = path
            .rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default();
        let (context, dockerfile, target) = match build.as_str() {
            Some(ctx_dir) => (ctx_dir.to_string(), "Dockerfile".to_string(), None),
            None => (
                build
                    .get("context")
                    .and_then(|n| n.as_str())
                    .unwrap_or(".")
                    .to_string(),
                build
                    .get("dockerfile")
                    .and_then(|n| n.as_str())
                    .unwrap_or("Dockerfile")
                    .to_string(),
                build
                    .get("target")
                    .and_then(|n| n.as_str())
                    .map(String::from),
            ),
        };
        if context.contains("://") {
            return None; // a remote build context: nothing on this host to edit
        }
        let ctx_dir = if context.starts_with('/') {
            context
        } else {
            format!("{base}/{context}")
        };
        let df = if dockerfile.starts_with('/') {
            dockerfile
        } else {
            format!("{ctx_dir}/{dockerfile}")
        };
        return Some((normalize(&df), target));
    }
    None
}

/// What one Dockerfile must get: its build target, and the failing checks that want a USER and
/// those that want a HEALTHCHECK.
struct Wanted<'a> {
    target: Option<String>,
    user: Vec<&'a Failing<'a>>,
    health: Vec<&'a Failing<'a>>,
}

impl<'a> Wanted<'a> {
    fn new(target: Option<String>) -> Self {
        Wanted {
            target,
            user: Vec::new(),
            health: Vec::new(),
        }
    }

    fn add(&mut self, f: &'a Failing<'a>, user: bool) {
        if user {
            self.user.push(f)
        } else {
            self.health.push(f)
        }
    }
}

fn plan(ctx: &PlanContext<'_>, failing: &[Failing<'_>]) -> Planned {
    let mut out = Planned::default();
    let containers: &[ContainerFacts] = ctx
        .snapshot
        .docker
        .as_ref()
        .and_then(|d| d.containers.value())
        .map(|v| v.as_slice())
        .unwrap_or(&[]);
    let mut wanted: BTreeMap<String, Wanted> = BTreeMap::new();
    for f in failing {
        let user = f.control_id() == "docker.image.non_root_user";
        for o in &f.objects {
            let c = containers.iter().find(|c| {
                o.kind == "container"
                    && (o
                        .id
                        .as_deref()
                        .is_some_and(|id| c.inspect.id.starts_with(id))
                        || c.name() == o.name)
            });
            if let Some((df, target)) = c.and_then(|c| compose_dockerfile(ctx, c)) {
                wanted
                    .entry(df)
                    .or_insert_with(|| Wanted::new(target))
                    .add(f, user);
            }
        }
        for df in &ctx.request.dockerfiles {
            wanted
                .entry(df.clone())
                .or_insert_with(|| Wanted::new(None))
                .add(f, user);
        }
        // An image check nothing ties to a Dockerfile is reported (4.1 is also fixed on the
        // container itself, by the container fixer).
        if !user
            && !wanted
                .values()
                .any(|w| w.health.iter().any(|x| std::ptr::eq(*x, f)))
        {
            for o in &f.objects {
                out.unfixed.push(f.unfixed(
                    Some(&o.name),
                    "which Dockerfile builds this image is not known; name it with --dockerfile PATH",
                ));
            }
        }
    }
    let o = ctx.options();
    for (path, w) in wanted {
        let Wanted {
            target,
            user: user_checks,
            health: health_checks,
        } = w;
        let read = match files::read(&ctx.root, &path) {
            Ok(r) => r,
            Err(e) => {
                for f in user_checks.iter().chain(&health_checks) {
                    out.unfixed.push(f.unfixed(Some(&path), e.clone()));
                }
                continue;
            }
        };
        let Some(original) = read.content.clone() else {
            for f in user_checks.iter().chain(&health_checks) {
                out.unfixed
                    .push(f.unfixed(Some(&path), "the Dockerfile does not exist"));
            }
            continue;
        };
        let mut text = original.clone();
        let mut changes = Vec::new();
        let mut may_break = Vec::new();
        let mut notes = Vec::new();
        let mut fixed: Vec<&Failing> = Vec::new();
        if !user_checks.is_empty() {
            match edit::set_user(&text, target.as_deref(), &o.container_user) {
                Ok(Some(t)) => {
                    text = t;
                    changes.push(format!(
                        "the image runs as {} (USER in the final stage)",
                        o.container_user
                    ));
                    may_break.push("files the process writes at run time must be writable by that user; build steps after the new USER line run unprivileged".into());
                    fixed.extend(user_checks.iter().copied());
                }
                Ok(None) => {
                    for f in &user_checks {
                        out.unfixed.push(f.unfixed(Some(&path), "the Dockerfile's final stage already runs as a non-root user; the running container overrides it (fix its run command)"));
                    }
                }
                Err(e) => {
                    for f in &user_checks {
                        out.unfixed
                            .push(f.unfixed(Some(&path), format!("{path}: {e}")));
                    }
                }
            }
        }
        if !health_checks.is_empty() {
            let cmd = match (&o.health_cmd, edit::exposed_port(&text, target.as_deref())) {
                (Some(c), _) => Ok(c.clone()),
                (None, Ok(Some(port))) => {
                    notes.push(format!("the probe only proves port {port} accepts connections and needs an `nc` with `-z` in the image (netcat-openbsd or Alpine's busybox; Debian's busybox nc has none); prefer an application-level check (--health-cmd)"));
                    Ok(format!("nc -z 127.0.0.1 {port} || exit 1"))
                }
                (None, Ok(None)) => Err("the final stage exposes no port and no command that proves the service works is known; give one with --health-cmd".to_string()),
                (None, Err(e)) => Err(format!("{path}: {e}")),
            };
            match cmd.and_then(|c| edit::add_healthcheck(&text, target.as_deref(), &c)) {
                Ok(Some(t)) => {
                    text = t;
                    changes.push("the image declares a HEALTHCHECK".into());
                    may_break.push("an unsuitable probe marks working containers unhealthy".into());
                    fixed.extend(health_checks.iter().copied());
                }
                Ok(None) => {
                    for f in &health_checks {
                        out.unfixed.push(f.unfixed(
                            Some(&path),
                            "the Dockerfile already has a HEALTHCHECK; rebuild the image from it",
                        ));
                    }
                }
                Err(e) => {
                    for f in &health_checks {
                        out.unfixed.push(f.unfixed(Some(&path), e.clone()));
                    }
                }
            }
        }
        if fixed.is_empty() {
            continue;
        }
        notes.push(
            "rebuild the image and recreate its containers for the change to take effect".into(),
        );
        let (checks, controls) = ids_of(fixed.iter().copied());
        out.fixes.push(Fix {
            id: format!("dockerfile:{path}"),
            title: format!("Harden the image built from {path}"),
            checks,
            controls,
            threats: Vec::new(),
            target: Target::new("image", path.clone(), Some(path.clone())),
            kind: FixKind::Dockerfile,
            safety: Safety::Review,
            changes,
            may_break,
            notes,
            action: Action {
                edits: vec![file_edit(&path, &read, text, ROOT_FILE)],
                ..Default::default()
            },
            restart: None,
            findings: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn paths_are_joined_textually() {
        assert_eq!(
            normalize("/srv/app/./web/../Dockerfile"),
            "/srv/app/Dockerfile"
        );
        assert_eq!(normalize("/srv/app//x"), "/srv/app/x");
    }
}
