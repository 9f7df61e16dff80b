//! 4.5 content trust: a system-wide shell profile snippet that exports DOCKER_CONTENT_TRUST=1,
//! so Docker clients in login shells refuse unsigned image tags. Where the audit found profiles
//! that set the variable to a false value, those assignments are changed instead: the check
//! fails while any of them stays, and one more file would not win over them.
//!
//! The fix also says what the benchmark does not: Docker has retired Docker Content Trust
//! (Notary v1) for Docker Official Images, so the lasting control is signature verification with
//! Sigstore cosign or a Notation trust policy, enforced where images are admitted.

use super::{file_edit, ids_of, Fixer, ROOT_FILE};
use crate::files;
use crate::model::{Action, Fix, FixKind, Safety, Target};
use crate::planner::{Failing, PlanContext, Planned};
use bulkhead_checks::Status;

pub const FIXER: Fixer = Fixer {
    name: "profile",
    handles: |c| c == "docker.image.content_trust",
    plan,
};

const EXPORT: &str = "export DOCKER_CONTENT_TRUST=1";
const VARIABLE: &str = "DOCKER_CONTENT_TRUST";
/// How 4.5 names the environment bulkhead itself ran in (its other objects are profile paths).
const AUDITING_PROCESS: &str = "auditing process";

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
    // The places the audit found turning content trust off.
    let mut off_files: Vec<&str> = Vec::new();
    let mut off_in_process: Option<&str> = None;
    for o in failing.iter().flat_map(|f| f.objects.iter()) {
        if o.kind != "environment" || o.status != Status::Fail {
            continue;
        }
        let actual = o.evidence.as_ref().map(|e| e.actual.as_str());
        if o.name.starts_with('/') {
            if !off_files.contains(&o.name.as_str()) {
                off_files.push(&o.name);
            }
        } else if o.name == AUDITING_PROCESS && actual != Some("unset") {
            off_in_process = actual;
        }
    }
    if let Some(value) = off_in_process {
        for f in failing {
            out.unfixed.push(f.unfixed(
                Some(AUDITING_PROCESS),
                format!(
                    "the environment bulkhead ran in has {VARIABLE}={value}, which turns content trust off there; bulkhead changes files, not a running shell's environment: unset it in that shell (and wherever its login or service environment sets it), then audit again"
                ),
            ));
        }
    }
    if !off_files.is_empty() {
        for path in off_files {
            turn_on_in(ctx, failing, path, &mut out);
        }
        return out;
    }
    if off_in_process.is_some() {
        return out;
    }
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

/// The lines of `text` that assign DOCKER_CONTENT_TRUST (as the collector reads them: optional
/// `export`, comments skipped) set to 1, with indentation, `export` and what follows the value
/// (a comment) kept.
/// None when no line changes.
fn with_trust_on(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let t = body.trim_start();
        let rest = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
        match rest
            .strip_prefix(VARIABLE)
            .and_then(|r| r.strip_prefix('='))
        {
            Some(value) if !t.starts_with('#') => {
                let prefix = &body[..body.len() - rest.len()];
                // The value is one word, quoted or not; what follows it (spaces, a comment)
                // stays as written.
                let end = match value.chars().next() {
                    Some(q @ ('"' | '\'')) => value[1..].find(q).map_or(value.len(), |i| i + 2),
                    _ => value
                        .find(|c: char| c.is_whitespace() || c == ';')
                        .unwrap_or(value.len()),
                };
                let tail = &value[end..];
                out.push_str(&format!("{prefix}{VARIABLE}=1{tail}{ending}"));
            }
            _ => out.push_str(line),
        }
    }
    (out != text).then_some(out)
}

/// The fix for one profile file that turns content trust off: its assignments set to 1.
fn turn_on_in(ctx: &PlanContext<'_>, failing: &[Failing<'_>], path: &str, out: &mut Planned) {
    let read = match files::read(&ctx.root, path) {
        Ok(r) => r,
        Err(e) => {
            for f in failing {
                out.unfixed.push(f.unfixed(Some(path), e.clone()));
            }
            return;
        }
    };
    let Some(after) = read.content.as_deref().and_then(with_trust_on) else {
        for f in failing {
            out.unfixed.push(f.unfixed(
                Some(path),
                format!("{path} no longer assigns {VARIABLE} as the audit read it (it changed, or is missing under the root): audit again"),
            ));
        }
        return;
    };
    let (checks, controls) = ids_of(failing);
    out.fixes.push(Fix {
        id: format!("profile:{path}"),
        title: format!("Turn Docker Content Trust on in {path}"),
        checks,
        controls,
        threats: Vec::new(),
        target: Target::new("host", "shell profile", Some(path.to_string())),
        kind: FixKind::Profile,
        safety: Safety::Review,
        changes: vec![format!(
            "{path} sets {VARIABLE}=1 where it turned content trust off"
        )],
        may_break: vec![
            "docker pull, run and build of unsigned tags fail for whoever reads this file (including Docker Official Images, whose Content Trust signatures Docker no longer maintains)".into(),
            format!("{VARIABLE} was turned off here, perhaps on purpose because such pulls failed: ask whoever set it before applying"),
        ],
        notes: vec![
            "Docker has retired Docker Content Trust (Notary v1) for Docker Official Images; use signature verification with Sigstore cosign (`cosign verify --key ... IMAGE`) or a Notation trust policy, enforced by an admission controller or your deployment pipeline, as the lasting control".into(),
        ],
        action: Action {
            edits: vec![file_edit(path, &read, after, ROOT_FILE)],
            ..Default::default()
        },
        restart: None,
        findings: Vec::new(),
    });
}

#[cfg(test)]
mod tests {
    use crate::{plan, FixKind, PlanRequest};
    use bulkhead_checks::{catalog, AuditOptions, Context, Selection, Status};
    use std::collections::BTreeMap;

    /// A profile that turns content trust off (`DOCKER_CONTENT_TRUST=0`, often set on purpose
    /// once Docker Official Images stopped pulling with it) keeps 4.5 failing however many
    /// other profiles turn it on, and is read after bulkhead's own file in /etc/profile.d. The
    /// fix is to change the assignments the audit named, not to add one more file.
    #[test]
    fn profiles_that_turn_content_trust_off_are_the_ones_changed() {
        let root = bulkhead_testkit::TempDir::new("harden-profile-off");
        let put = |path: &str, text: &str| {
            let p = root.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        let env_file = "LANG=C.UTF-8\nDOCKER_CONTENT_TRUST=0\n";
        let profile = "# docker defaults\n  export DOCKER_CONTENT_TRUST=\"false\"   # official images\nexport DOCKER_BUILDKIT=1\n";
        put("/etc/environment", env_file);
        put("/etc/profile.d/zz-docker.sh", profile);
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../bulkhead-threats/tests/fixtures/writeup.snapshot.json"
        );
        let mut snap =
            bulkhead_facts::Snapshot::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        snap.host.environment.clear();
        snap.host.profile_environment = BTreeMap::from([
            (
                "/etc/environment".to_string(),
                BTreeMap::from([("DOCKER_CONTENT_TRUST".to_string(), "0".to_string())]),
            ),
            (
                "/etc/profile.d/zz-docker.sh".to_string(),
                BTreeMap::from([("DOCKER_CONTENT_TRUST".to_string(), "false".to_string())]),
            ),
        ]);
        let opts = AuditOptions::default();
        let ctx = Context::new(&snap, &opts);
        let audit = bulkhead_checks::run(
            catalog().docker(),
            "1.2.0",
            &ctx,
            &Selection::new(vec!["4.5".into()], vec![]),
        );
        assert_eq!(audit.outcomes[0].result.status, Status::Fail);
        let request = PlanRequest {
            select: vec!["4.5".into()],
            root: Some(root.to_path_buf()),
            threat_links: Some(vec![]),
            ..Default::default()
        };
        let p = plan(&snap, std::slice::from_ref(&audit), &request).unwrap();
        assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
        let edited: BTreeMap<&str, &str> = p
            .fixes
            .iter()
            .filter(|f| f.kind == FixKind::Profile)
            .map(|f| {
                assert_eq!(f.checks, vec!["4.5"]);
                let e = &f.action.edits[0];
                (e.path.as_str(), e.after.as_str())
            })
            .collect();
        // Only the two files that turn it off, each with its layout and comments kept.
        assert_eq!(
            edited,
            BTreeMap::from([
                ("/etc/environment", "LANG=C.UTF-8\nDOCKER_CONTENT_TRUST=1\n"),
                (
                    "/etc/profile.d/zz-docker.sh",
                    "# docker defaults\n  export DOCKER_CONTENT_TRUST=1   # official images\nexport DOCKER_BUILDKIT=1\n"
                ),
            ])
        );
        // Read as the collector reads them, both now turn it on.
        for after in edited.values() {
            let vars = bulkhead_facts::host::parse_env_file(after);
            assert_eq!(vars["DOCKER_CONTENT_TRUST"], "1", "{after}");
        }

        // The environment bulkhead itself runs in turns it off: no file fixes that.
        snap.host.profile_environment.clear();
        snap.host
            .environment
            .insert("DOCKER_CONTENT_TRUST".into(), "0".into());
        let ctx = Context::new(&snap, &opts);
        let audit = bulkhead_checks::run(
            catalog().docker(),
            "1.2.0",
            &ctx,
            &Selection::new(vec!["4.5".into()], vec![]),
        );
        let p = plan(&snap, std::slice::from_ref(&audit), &request).unwrap();
        assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
        assert!(
            p.unfixed
                .iter()
                .any(|u| u.check == "4.5" && u.reason.contains("DOCKER_CONTENT_TRUST=0")),
            "{:#?}",
            p.unfixed
        );
    }
}
