//! 4.5 content trust: a system-wide shell profile snippet that exports DOCKER_CONTENT_TRUST=1,
//! so Docker clients in login shells refuse unsigned image tags.
//!
//! The fix also says what the benchmark does not: Docker has retired Docker Content Trust
//! (Notary v1) for Docker Official Images, so the lasting control is signature verification with
//! Sigstore cosign or a Notation trust policy, enforced where images are admitted.

use super::{file_edit, ids_of, Fixer, ROOT_FILE};
use crate::files;
use crate::model::{Action, Fix, FixKind, Safety, Target};
use crate::planner::{Failing, PlanContext, Planned};

pub const FIXER: Fixer = Fixer {
    name: "profile",
    handles: |c| c == "docker.image.content_trust",
    plan,
};

const EXPORT: &str = "export DOCKER_CONTENT_TRUST=1";

/// The snippet bulkhead writes into a new profile file.
pub fn snippet() -> String {
    format!(
        "# Written by bulkhead harden (CIS Docker 4.5): Docker clients in login shells pull and run\n\
         # only signed image tags. Docker has retired Content Trust signing for its Official Images;\n\
         # verify signatures with cosign or a Notation trust policy as the lasting control.\n\
         {EXPORT}\n"
    )
}

fn plan(ctx: &PlanContext<'_>, failing: &[Failing<'_>]) -> Planned {
    let mut out = Planned::default();
    let path = ctx.options().profile_path.clone();
    let read = match files::read(&ctx.root, &path) {
        Ok(r) => r,
        Err(e) => {
            for f in failing {
                out.unfixed.push(f.unfixed(None, e.clone()));
            }
            return out;
        }
    };
    let after = match &read.content {
        None => snippet(),
        Some(existing) => {
            let vars = bulkhead_facts::host::parse_env_file(existing);
            if vars.get("DOCKER_CONTENT_TRUST").map(String::as_str) == Some("1") {
                for f in failing {
                    out.unfixed.push(f.unfixed(
                        None,
                        format!("{path} already exports DOCKER_CONTENT_TRUST=1; log in again (or source it) so the shell picks it up"),
                    ));
                }
                return out;
            }
            let mut s = existing.clone();
            if !s.is_empty() && !s.ends_with('\n') {
                s.push('\n');
            }
            s.push_str(&snippet());
            s
        }
    };
    let (checks, controls) = ids_of(failing);
    out.fixes.push(Fix {
        id: format!("profile:{path}"),
        title: "Enable Docker Content Trust for login shells".into(),
        checks,
        controls,
        threats: Vec::new(),
        target: Target::new("host", "shell profile", Some(path.clone())),
        kind: FixKind::Profile,
        safety: Safety::Review,
        changes: vec![format!(
            "{path} exports DOCKER_CONTENT_TRUST=1 for every login shell"
        )],
        may_break: vec![
            "docker pull, run and build of unsigned tags fail in login shells (including Docker Official Images, whose Content Trust signatures Docker no longer maintains)".into(),
            "non-login shells, cron jobs and CI runners do not read /etc/profile.d: set the variable there too".into(),
        ],
        notes: vec![
            "Docker has retired Docker Content Trust (Notary v1) for Docker Official Images; use signature verification with Sigstore cosign (`cosign verify --key ... IMAGE`) or a Notation trust policy, enforced by an admission controller or your deployment pipeline, as the lasting control".into(),
        ],
        action: Action {
            edits: vec![file_edit(&path, &read, after, ROOT_FILE)],
            ..Default::default()
        },
        restart: None,
        findings: Vec::new(),
    });
    out
}
