//! `--restart-daemon`: make dockerd load the hardened daemon.json, then wait until its API
//! answers again. Opt-in, because a restart interrupts the daemon (containers keep running only
//! with live-restore).
//!
//! How, without running any program:
//! - a dockerd managed by systemd (its cgroup is `docker.service`) is restarted — or reloaded,
//!   when every changed setting is one dockerd reloads — by asking systemd over the system
//!   D-Bus (`RestartUnit`/`ReloadUnit`), exactly what `systemctl` would ask;
//! - any other dockerd can only be reloaded: it gets SIGHUP (after checking that the process is
//!   still dockerd), which makes it re-read daemon.json for the settings it can reload. When a
//!   full restart is needed, bulkhead says so instead of killing a daemon it cannot start again.

use crate::{dbus, docker_api};
use bulkhead_facts::Snapshot;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How the daemon was made to load its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestartMethod {
    /// systemd restarted (or reloaded) the unit.
    Systemd {
        unit: String,
        reload: bool,
        job: String,
    },
    /// SIGHUP to the daemon process.
    Signal { pid: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartReport {
    pub method: RestartMethod,
    /// Time until the API answered again.
    pub waited: Duration,
}

impl std::fmt::Display for RestartReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.method {
            RestartMethod::Systemd { unit, reload, .. } => write!(
                f,
                "systemd {} {unit}; the API answered again after {:.1}s",
                if *reload { "reloaded" } else { "restarted" },
                self.waited.as_secs_f64()
            ),
            RestartMethod::Signal { pid } => write!(
                f,
                "sent SIGHUP to dockerd (pid {pid}) to reload daemon.json; the API answers ({:.1}s)",
                self.waited.as_secs_f64()
            ),
        }
    }
}

/// What happened to the files a service reads, for [`advice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilesWere {
    /// `--apply` changed them.
    Applied,
    /// `--rollback` put them back.
    RolledBack,
}

/// One line per service still running on the files as they were before an apply (or a
/// rollback): what to restart or reload for the change to take effect. Services appear once, in
/// the order given; dockerd is left out when `docker_handled` (this run restarted it, or said why
/// it could not).
pub fn advice(
    restarts: &[&crate::model::Restart],
    files: FilesWere,
    docker_handled: bool,
) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut lines = Vec::new();
    for r in restarts {
        if seen.contains(&r.service.as_str()) || (r.service == "docker" && docker_handled) {
            continue;
        }
        seen.push(&r.service);
        // A service needs only a reload when every one of its changes allows it.
        let reload = restarts
            .iter()
            .filter(|x| x.service == r.service)
            .all(|x| x.reload_suffices);
        let (what, how) = match r.service.as_str() {
            "docker" => {
                // An --apply run again with --restart-daemon restarts a dockerd whose
                // daemon.json is newer than it; a rollback, once done, cannot be run again.
                let again = match files {
                    FilesWere::Applied => ", or this harden command again with --restart-daemon",
                    FilesWere::RolledBack => "",
                };
                if reload {
                    (
                        "dockerd loads the changed settings of daemon.json when it reloads",
                        format!("reload it (`systemctl reload docker`, or SIGHUP to dockerd{again})"),
                    )
                } else {
                    (
                        "dockerd reads daemon.json when it starts",
                        format!("restart it (`systemctl restart docker` for the packaged service{again})"),
                    )
                }
            }
            "kubelet" => (
                "the kubelet reads its configuration when it starts",
                "restart it (`systemctl restart kubelet`)".into(),
            ),
            "etcd" => (
                "etcd reads its configuration when it starts",
                "restart it the way it runs (`systemctl restart etcd`, or, as a static pod, move its manifest out of the manifests directory and back)".to_string(),
            ),
            "kube-apiserver" => (
                "the API server reads the changed file when it starts",
                "restart it (as a static pod: move its manifest out of the manifests directory and back)".to_string(),
            ),
            "auditd" => (
                "the kernel's audit rules are loaded from the rules files",
                "load them (`augenrules --load`, or `systemctl restart auditd`)".to_string(),
            ),
            other => (
                "the service reads the changed files when it starts",
                format!("{} {other}", if reload { "reload" } else { "restart" }),
            ),
        };
        let then = match files {
            FilesWere::Applied => "then run `bulkhead verify`",
            FilesWere::RolledBack => "for the restored settings to take effect",
        };
        lines.push(format!("{what}: {how}, {then}."));
    }
    lines
}

/// The systemd unit whose cgroup holds `pid`, from `<proc>/<pid>/cgroup`.
pub fn systemd_unit_of(proc_root: &Path, pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(proc_root.join(pid.to_string()).join("cgroup")).ok()?;
    text.lines()
        .filter_map(|l| l.rsplit(':').next())
        .flat_map(|path| path.split('/'))
        .find(|seg| seg.ends_with(".service"))
        .map(String::from)
}

fn is_dockerd(proc_root: &Path, pid: u32) -> bool {
    std::fs::read_to_string(proc_root.join(pid.to_string()).join("comm"))
        .map(|c| c.trim() == "dockerd")
        .unwrap_or(false)
}

fn alive(proc_root: &Path, pid: u32) -> bool {
    proc_root.join(pid.to_string()).exists() && is_dockerd(proc_root, pid)
}

/// Restart or reload the daemon of `snapshot` and wait (up to `timeout`) until it answers.
pub fn restart_docker(
    snapshot: &Snapshot,
    proc_root: &Path,
    reload_suffices: bool,
    timeout: Duration,
) -> Result<RestartReport, String> {
    let docker = snapshot
        .docker
        .as_ref()
        .ok_or("the snapshot holds no Docker facts")?;
    if !docker.endpoint.local {
        return Err(format!(
            "the daemon at {} is remote; restart it on its own host",
            docker.endpoint.host
        ));
    }
    let socket: PathBuf = docker_api::socket_of(&docker.endpoint.host)
        .map(PathBuf::from)
        .ok_or_else(|| {
            format!(
                "{} is not a unix socket; restart the daemon by hand",
                docker.endpoint.host
            )
        })?;
    let pid = docker
        .daemon
        .process
        .value()
        .cloned()
        .flatten()
        .map(|p| p.pid)
        .ok_or("no dockerd process was found on this host; restart the daemon by hand")?;
    if !is_dockerd(proc_root, pid) {
        return Err(format!("process {pid} is no longer dockerd; audit again"));
    }
    let start = Instant::now();
    match systemd_unit_of(proc_root, pid) {
        Some(unit) => {
            let bus = dbus::system_bus_path();
            let job = dbus::systemd_unit_action(&bus, &unit, reload_suffices)
                .map_err(|e| format!("asking systemd to restart {unit}: {e}"))?;
            if !reload_suffices {
                // The old process goes away first; then the new one must answer.
                while alive(proc_root, pid) {
                    if start.elapsed() > timeout {
                        return Err(format!("dockerd (pid {pid}) did not stop within {}s", timeout.as_secs()));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            docker_api::wait_until_answering(&socket, timeout.saturating_sub(start.elapsed()))?;
            Ok(RestartReport {
                method: RestartMethod::Systemd {
                    unit,
                    reload: reload_suffices,
                    job,
                },
                waited: start.elapsed(),
            })
        }
        None if reload_suffices => {
            // SAFETY: kill with a pid checked to be dockerd just above and a valid signal number.
            let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGHUP) };
            if rc != 0 {
                return Err(format!("SIGHUP to dockerd (pid {pid}): {}", std::io::Error::last_os_error()));
            }
            docker_api::wait_until_answering(&socket, timeout)?;
            Ok(RestartReport {
                method: RestartMethod::Signal { pid },
                waited: start.elapsed(),
            })
        }
        None => Err(format!(
            "dockerd (pid {pid}) is not run by systemd and the changed settings need a full restart, which bulkhead cannot do for a daemon it did not start: restart it the way it was started, then run `bulkhead verify`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Restart;

    fn needs(service: &str, reload_suffices: bool) -> Restart {
        Restart {
            service: service.into(),
            reload_suffices,
        }
    }

    /// One line per service, in the order of the fixes; a reload only when every change of that
    /// service allows it; dockerd left out once this run restarted it.
    #[test]
    fn advice_names_each_service_once_and_what_loads_its_files() {
        let (docker_reload, docker_restart, kubelet) = (
            needs("docker", true),
            needs("docker", false),
            needs("kubelet", false),
        );
        let lines = advice(&[&docker_reload, &kubelet], FilesWere::Applied, false);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("dockerd loads the changed settings of daemon.json when it reloads: reload it (`systemctl reload docker`, or SIGHUP to dockerd, or this harden command again with --restart-daemon), then run `bulkhead verify`."), "{lines:?}");
        assert!(lines[1].starts_with("the kubelet reads its configuration when it starts: restart it (`systemctl restart kubelet`)"), "{lines:?}");

        let lines = advice(
            &[&docker_reload, &docker_restart],
            FilesWere::Applied,
            false,
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("dockerd reads daemon.json when it starts: restart it"),
            "{lines:?}"
        );

        assert_eq!(
            advice(&[&docker_restart, &kubelet], FilesWere::Applied, true).len(),
            1,
            "dockerd was restarted in this run"
        );
        // A rollback cannot be run again: no "run it again" advice, and no verify to run.
        let lines = advice(&[&docker_restart], FilesWere::RolledBack, false);
        assert_eq!(lines, ["dockerd reads daemon.json when it starts: restart it (`systemctl restart docker` for the packaged service), for the restored settings to take effect."]);
        assert!(advice(&[], FilesWere::Applied, false).is_empty());
    }

    #[test]
    fn unit_from_cgroup_files() {
        let dir = std::env::temp_dir().join(format!("bulkhead-cgroup-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("42")).unwrap();
        std::fs::write(dir.join("42/cgroup"), "0::/system.slice/docker.service\n").unwrap();
        assert_eq!(systemd_unit_of(&dir, 42).as_deref(), Some("docker.service"));
        std::fs::create_dir_all(dir.join("43")).unwrap();
        std::fs::write(
            dir.join("43/cgroup"),
            "0::/user.slice/user-0.slice/session-3.scope\n",
        )
        .unwrap();
        assert_eq!(systemd_unit_of(&dir, 43), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
