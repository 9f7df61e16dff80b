//! 1.1.3-1.1.18 auditing: an audit rules file watching every Docker path that is not audited
//! yet, at the paths the daemon really uses (its binaries, data root, configuration file, units,
//! sockets) as resolved in the snapshot, never the textbook defaults.

use super::{file_edit, ids_of, Fixer, ROOT_FILE};
use crate::files;
use crate::model::{Action, Fix, FixKind, Restart, Safety, Target};
use crate::planner::{Failing, PlanContext, Planned};
use bulkhead_facts::docker::DockerPaths;
use bulkhead_facts::host::FileFact;

pub const FIXER: Fixer = Fixer {
    name: "audit-rules",
    handles: |c| c.starts_with("docker.audit."),
    plan,
};

/// The key every rule carries, so `ausearch -k docker` finds the events.
pub const AUDIT_KEY: &str = "docker";

/// The host paths a control asks to audit, from the daemon's resolved configuration.
fn paths_for(control: &str, p: &DockerPaths) -> Vec<String> {
    let bin = |name: &str| p.binaries.get(name).cloned().flatten();
    let unit = |name: &str| p.units.get(name).cloned().flatten();
    let v: Vec<Option<String>> = match control {
        "docker.audit.dockerd" => vec![bin("dockerd")],
        "docker.audit.run_containerd" => vec![Some("/run/containerd".into())],
        "docker.audit.data_root" => vec![Some(p.data_root.clone())],
        "docker.audit.etc_docker" => vec![Some(p.config_dir.clone())],
        "docker.audit.docker_service" => vec![unit("docker.service")],
        "docker.audit.containerd_sock" => vec![p.containerd_socket.clone()],
        "docker.audit.docker_socket" => vec![unit("docker.socket")],
        "docker.audit.etc_default_docker" => vec![Some("/etc/default/docker".into())],
        "docker.audit.daemon_json" => vec![Some(p.config_file.clone())],
        "docker.audit.containerd_config" => vec![Some(p.containerd_config.clone())],
        "docker.audit.etc_sysconfig_docker" => vec![Some("/etc/sysconfig/docker".into())],
        "docker.audit.containerd_binary" => vec![bin("containerd")],
        "docker.audit.containerd_shim" => vec![bin("containerd-shim")],
        "docker.audit.containerd_shim_runc_v1" => vec![bin("containerd-shim-runc-v1")],
        "docker.audit.containerd_shim_runc_v2" => vec![bin("containerd-shim-runc-v2")],
        "docker.audit.runc" => vec![bin("runc")],
        _ => vec![],
    };
    v.into_iter().flatten().filter(|s| !s.is_empty()).collect()
}

/// One watch rule in auditctl syntax.
pub fn watch_rule(path: &str) -> String {
    format!("-w {path} -p rwxa -k {AUDIT_KEY}")
}

fn plan(ctx: &PlanContext<'_>, failing: &[Failing<'_>]) -> Planned {
    let mut out = Planned::default();
    let Some(docker) = ctx.snapshot.docker.as_ref() else {
        for f in failing {
            out.unfixed
                .push(f.unfixed(None, "the snapshot holds no Docker facts"));
        }
        return out;
    };
    let path = ctx.options().audit_rules_path.clone();
    let read = match files::read(&ctx.root, &path) {
        Ok(r) => r,
        Err(e) => {
            for f in failing {
                out.unfixed.push(f.unfixed(None, e.clone()));
            }
            return out;
        }
    };
    let existing = read.content.clone().unwrap_or_default();
    let present: Vec<String> = bulkhead_facts::host::parse_audit_rules(&existing)
        .into_iter()
        .filter_map(|r| r.path)
        .collect();
    let mut new_rules: Vec<String> = Vec::new();
    let mut fixed: Vec<&Failing> = Vec::new();
    for f in failing {
        // The failing objects name the paths; the resolved configuration fills in when a check
        // reports at the check level only.
        let mut paths: Vec<String> = f
            .objects
            .iter()
            .filter(|o| o.name.starts_with('/'))
            .map(|o| o.name.clone())
            .collect();
        if paths.is_empty() {
            paths = paths_for(f.control_id(), &docker.daemon.paths);
        }
        // A path that does not exist on the host cannot be watched (auditctl refuses it).
        paths.retain(|p| !matches!(ctx.snapshot.host.file(p), Some(FileFact::Missing)));
        if paths.is_empty() {
            out.unfixed
                .push(f.unfixed(None, "no existing path to audit was found for this check"));
            continue;
        }
        for p in paths {
            if !present.contains(&p) && !new_rules.contains(&p) {
                new_rules.push(p);
            }
        }
        fixed.push(f);
    }
    if new_rules.is_empty() {
        for f in fixed {
            out.unfixed.push(f.unfixed(
                None,
                format!("{path} already watches these paths; load it with `augenrules --load`"),
            ));
        }
        return out;
    }
    let mut after = existing.clone();
    if after.is_empty() {
        after.push_str(
            "## Written by bulkhead harden: watch the Docker daemon's files (CIS Docker 1.1).\n",
        );
    } else if !after.ends_with('\n') {
        after.push('\n');
    }
    for p in &new_rules {
        after.push_str(&watch_rule(p));
        after.push('\n');
    }
    let (checks, controls) = ids_of(fixed.iter().copied());
    out.fixes.push(Fix {
        id: format!("audit-rules:{path}"),
        title: "Audit the Docker daemon's files".into(),
        checks,
        controls,
        threats: Vec::new(),
        target: Target::new("host", "audit rules", Some(path.clone())),
        kind: FixKind::AuditRules,
        safety: Safety::Safe,
        changes: new_rules
            .iter()
            .map(|p| {
                format!("watch {p} (reads, writes, executions, attribute changes; key {AUDIT_KEY})")
            })
            .collect(),
        may_break: vec![
            "busy paths (the data root) add audit log volume; rotate the audit log".into(),
        ],
        notes: vec![
            "rules in /etc/audit/rules.d load at boot; load them now with `augenrules --load`"
                .into(),
        ],
        action: Action {
            edits: vec![file_edit(
                &path,
                &read,
                after,
                crate::model::FileAttrs {
                    mode: 0o640,
                    ..ROOT_FILE
                },
            )],
            ..Default::default()
        },
        restart: Some(Restart {
            service: "auditd".into(),
            reload_suffices: true,
        }),
        findings: Vec::new(),
    });
    out
}
