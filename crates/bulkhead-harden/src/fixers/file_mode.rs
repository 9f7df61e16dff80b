//! File permission and ownership fixes (CIS Docker section 3, CIS Kubernetes 1.1 and 4.1).
//!
//! Modes are fixed as bitmasks: only the bits the benchmark does not allow are removed
//! (`mode & allowed`), so a stricter file never becomes looser (0600 stays 0600 where 0644 is
//! allowed). Owners are set by number, resolved from the audited host's own passwd and group.

use super::{ids_of, Fixer};
use crate::files;
use crate::model::{Action, AttrChange, FileAttrs, Fix, FixKind, Safety, Target};
use crate::planner::{Failing, PlanContext, Planned};
use bulkhead_facts::host::{FileFact, FileKind};
use std::collections::BTreeMap;

pub const FIXER: Fixer = Fixer {
    name: "file-mode",
    handles: |c| requirement(c).is_some() || is_mode_control(c),
    plan,
};

/// What a control requires of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// At most these permission bits.
    Mode(u32),
    /// This user and group (names on the audited host).
    Owner(&'static str, &'static str),
}

fn is_mode_control(c: &str) -> bool {
    (c.starts_with("docker.files.") || c.starts_with("k8s.files.")) && c.ends_with("_mode")
}

/// The requirement of each file control. Mode controls not listed here take the limit from the
/// evaluator's evidence (`0644 or stricter`).
pub fn requirement(control: &str) -> Option<Requirement> {
    use Requirement::*;
    Some(match control {
        "docker.files.docker_service_mode" | "docker.files.docker_socket_unit_mode" => Mode(0o644),
        "docker.files.etc_docker_mode" => Mode(0o755),
        "docker.files.registry_certs_mode"
        | "docker.files.tls_ca_mode"
        | "docker.files.tls_cert_mode" => Mode(0o444),
        "docker.files.tls_key_mode" => Mode(0o400),
        "docker.files.docker_sock_mode" | "docker.files.containerd_sock_mode" => Mode(0o660),
        "docker.files.daemon_json_mode"
        | "docker.files.etc_default_docker_mode"
        | "docker.files.etc_sysconfig_docker_mode" => Mode(0o644),
        "docker.files.docker_sock_owner" => Owner("root", "docker"),
        c if c.starts_with("docker.files.") && c.ends_with("_owner") => Owner("root", "root"),
        "k8s.files.apiserver_manifest_mode"
        | "k8s.files.controller_manager_manifest_mode"
        | "k8s.files.scheduler_manifest_mode"
        | "k8s.files.etcd_manifest_mode"
        | "k8s.files.cni_config_mode"
        | "k8s.files.admin_conf_mode"
        | "k8s.files.scheduler_conf_mode"
        | "k8s.files.controller_manager_conf_mode"
        | "k8s.files.pki_key_mode"
        | "k8s.files.kubelet_service_mode"
        | "k8s.files.proxy_kubeconfig_mode"
        | "k8s.files.kubelet_kubeconfig_mode"
        | "k8s.files.kubelet_config_mode" => Mode(0o600),
        "k8s.files.etcd_data_dir_mode" => Mode(0o700),
        "k8s.files.pki_cert_mode" | "k8s.files.kubelet_client_ca_mode" => Mode(0o644),
        "k8s.files.etcd_data_dir_owner" => Owner("etcd", "etcd"),
        c if c.starts_with("k8s.files.") && c.ends_with("_owner") => Owner("root", "root"),
        _ => return None,
    })
}

/// `0644 or stricter` -> 0o644.
fn mode_from_evidence(expected: &str) -> Option<u32> {
    let word = expected.split_whitespace().next()?;
    bulkhead_facts::Mode::parse(word).map(|m| m.0)
}

fn plan(ctx: &PlanContext<'_>, failing: &[Failing<'_>]) -> Planned {
    let mut out = Planned::default();
    let host = &ctx.snapshot.host;
    // path -> (current attrs, wanted attrs, the failing checks, kind, notes)
    struct Pending<'a> {
        before: FileAttrs,
        after: FileAttrs,
        failing: Vec<&'a Failing<'a>>,
        is_socket: bool,
        changes: Vec<String>,
    }
    let mut by_path: BTreeMap<String, Pending> = BTreeMap::new();
    for f in failing {
        let objects: Vec<_> = f.objects.iter().filter(|o| o.kind == "file").collect();
        if objects.is_empty() {
            out.unfixed
                .push(f.unfixed(None, "the check names no file to fix"));
            continue;
        }
        for o in objects {
            let path = o.name.clone();
            let (stat_attrs, is_socket) = match host.file(&path) {
                Some(FileFact::Present(st)) => (
                    FileAttrs {
                        mode: st.mode.0,
                        uid: st.uid,
                        gid: st.gid,
                    },
                    st.kind == FileKind::Socket,
                ),
                _ => match files::resolve(&ctx.root, &path)
                    .and_then(|p| std::fs::metadata(&p).map_err(|e| format!("{path}: {e}")))
                {
                    Ok(m) => {
                        use std::os::unix::fs::FileTypeExt;
                        (files::attrs_of(&m), m.file_type().is_socket())
                    }
                    Err(e) => {
                        out.unfixed
                            .push(f.unfixed(Some(&path), format!("cannot stat the file: {e}")));
                        continue;
                    }
                },
            };
            let req = match requirement(f.control_id()) {
                Some(r) => r,
                None => match o
                    .evidence
                    .as_ref()
                    .and_then(|e| mode_from_evidence(&e.expected))
                {
                    Some(m) => Requirement::Mode(m),
                    None => {
                        out.unfixed.push(
                            f.unfixed(Some(&path), "the required mode is not known for this check"),
                        );
                        continue;
                    }
                },
            };
            let entry = by_path.entry(path.clone()).or_insert_with(|| Pending {
                before: stat_attrs,
                after: stat_attrs,
                failing: Vec::new(),
                is_socket,
                changes: Vec::new(),
            });
            match req {
                Requirement::Mode(allowed) => {
                    let new_mode = entry.after.mode & allowed;
                    if new_mode != entry.after.mode {
                        entry.changes.push(format!(
                            "mode {:04o} -> {:04o}: removes {:04o}, the bits beyond {:04o}",
                            entry.after.mode,
                            new_mode,
                            entry.after.mode & !allowed & 0o7777,
                            allowed
                        ));
                        entry.after.mode = new_mode;
                    }
                }
                Requirement::Owner(user, group) => {
                    let uid = if user == "root" {
                        Some(0)
                    } else {
                        host.users
                            .value()
                            .and_then(|u| u.iter().find(|e| e.name == user))
                            .map(|e| e.uid)
                    };
                    let gid = match (group, host.group(group)) {
                        (_, Some(g)) => Some(g.gid),
                        ("root", None) => Some(0),
                        // A socket owned by root:root when no docker group exists is what the
                        // check accepts.
                        ("docker", None) => Some(0),
                        _ => None,
                    };
                    let (Some(uid), Some(gid)) = (uid, gid) else {
                        out.unfixed.push(f.unfixed(
                            Some(&path),
                            format!("the host has no {user}:{group} account to own the file; create it first"),
                        ));
                        continue;
                    };
                    if (entry.after.uid, entry.after.gid) != (uid, gid) {
                        entry.changes.push(format!(
                            "owner {}:{} -> {uid}:{gid} ({user}:{group})",
                            entry.after.uid, entry.after.gid
                        ));
                        entry.after.uid = uid;
                        entry.after.gid = gid;
                    }
                }
            }
            entry.failing.push(f);
        }
    }
    for (path, p) in by_path {
        if p.before == p.after {
            for f in &p.failing {
                out.unfixed.push(f.unfixed(
                    Some(&path),
                    "the file on disk already meets the requirement (it changed after the audit); audit again",
                ));
            }
            continue;
        }
        let (checks, controls) = ids_of(p.failing.iter().copied());
        let owner_changes = (p.before.uid, p.before.gid) != (p.after.uid, p.after.gid);
        let mut may_break = Vec::new();
        let mut notes = Vec::new();
        let mut safety = Safety::Safe;
        if owner_changes && p.before.uid != 0 {
            safety = Safety::Review;
            may_break.push(format!(
                "a process running as uid {} that reads or writes the file loses access",
                p.before.uid
            ));
        }
        if p.is_socket {
            safety = Safety::Review;
            may_break
                .push("clients outside the socket's owner and group lose access to the API".into());
            notes.push("the daemon recreates its socket when it restarts: make the change lasting in the socket unit (SocketMode=0660, SocketUser=root, SocketGroup=docker)".into());
        }
        out.fixes.push(Fix {
            id: format!("file-mode:{path}"),
            title: format!("Restrict {path}"),
            checks,
            controls,
            threats: Vec::new(),
            target: Target::new("file", path.clone(), Some(path.clone())),
            kind: FixKind::FileMode,
            safety,
            changes: p.changes,
            may_break,
            notes,
            action: Action {
                attrs: vec![AttrChange {
                    path: path.clone(),
                    before: p.before,
                    after: p.after,
                }],
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
    use super::*;

    #[test]
    fn limits_from_the_table_and_from_evidence() {
        assert_eq!(
            requirement("docker.files.tls_key_mode"),
            Some(Requirement::Mode(0o400))
        );
        assert_eq!(
            requirement("docker.files.docker_sock_owner"),
            Some(Requirement::Owner("root", "docker"))
        );
        assert_eq!(mode_from_evidence("0640 or stricter"), Some(0o640));
        assert_eq!(mode_from_evidence("root:root"), None);
    }
}
