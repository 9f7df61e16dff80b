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
