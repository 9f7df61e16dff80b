//! Helpers for the Kubernetes end-to-end tests: temporary node roots with real files, modes and
//! owners; simulated components (the `kube-sim` binary copied under each component's name and
//! started with a component's command line); a proc view that shows the collector only this
//! test's processes; and one call that collects and audits.
//!
//! The proc view is a directory of symbolic links `<pid> -> /proc/<pid>` given as `--proc`: every
//! file read through it is the real kernel's (comm, exe, cmdline, environ), but processes of
//! other tests (or other etcds on the machine) stay out of the audit.

pub mod node;

use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
use bulkhead_collect::{CollectOptions, Want};
use bulkhead_facts::Snapshot;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use bulkhead_testkit::TempDir;

/// A node's root file system in a temporary directory. Paths given to it are host paths.
pub struct NodeRoot {
    pub dir: TempDir,
}

/// uid and gid of the unprivileged `kube` account the node roots define.
pub const KUBE_UID: u32 = 1500;

impl NodeRoot {
    /// A root with /etc/passwd (root, etcd 998, kube 1500), /etc/group and /etc/hostname.
    pub fn new() -> NodeRoot {
        let r = NodeRoot {
            dir: TempDir::new("root"),
        };
        r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\netcd:x:998:997:etcd:/var/lib/etcd:/usr/sbin/nologin\nkube:x:1500:1500:kube:/home/kube:/bin/sh\n", 0o644, 0, 0);
        r.write(
            "/etc/group",
            "root:x:0:\netcd:x:997:\nkube:x:1500:\n",
            0o644,
            0,
            0,
        );
        r.write("/etc/hostname", "node-1\n", 0o644, 0, 0);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn host(&self, host_path: &str) -> PathBuf {
        self.dir.path().join(host_path.trim_start_matches('/'))
    }

    /// Write a file with a real mode and owner (parents created 0755 root).
    pub fn write(&self, host_path: &str, text: &str, mode: u32, uid: u32, gid: u32) {
        let p = self.host(host_path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&p, Some(uid), Some(gid)).unwrap();
    }

    pub fn mkdir(&self, host_path: &str, mode: u32, uid: u32, gid: u32) {
        let p = self.host(host_path);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&p, Some(uid), Some(gid)).unwrap();
    }
}

impl Default for NodeRoot {
    fn default() -> Self {
        Self::new()
    }
}

/// A running simulated component. Killed on drop.
pub struct SimComponent {
    child: Child,
    _bin: TempDir,
}

impl SimComponent {
    /// Start `kube-sim` under the name `component` with `args`; argv\[0\] is
    /// `/usr/local/bin/<component>` as on a real node. `env` is its whole environment.
    pub fn start(
        sim_binary: &str,
        component: &str,
        args: &[String],
        env: &[(&str, &str)],
    ) -> SimComponent {
        let bin = TempDir::new("bin");
        let exe = bin.path().join(component);
        std::fs::copy(sim_binary, &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut cmd = Command::new(&exe);
        cmd.arg0(format!("/usr/local/bin/{component}"))
            .args(args)
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Another test thread may fork while the copy is still open for writing; exec then fails
        // with ETXTBSY until that child has exec'd. Retry briefly.
        let mut tries = 0;
        let child = loop {
            match cmd.spawn() {
                Ok(c) => break c,
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("starting simulated {component}: {e}"),
            }
        };
        // Wait until the kernel shows the new program (exec done).
        let comm_path = format!("/proc/{}/comm", child.id());
        let want: String = component.chars().take(15).collect();
        for _ in 0..200 {
            if std::fs::read_to_string(&comm_path)
                .map(|c| c.trim() == want)
                .unwrap_or(false)
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        SimComponent { child, _bin: bin }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SimComponent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A proc view holding only the given processes (links to their real /proc directories), and
/// the machine-wide `stat` (whose boot time dates the processes' starts).
pub struct ProcView {
    pub dir: TempDir,
}

impl ProcView {
    pub fn new(pids: &[u32]) -> ProcView {
        let dir = TempDir::new("proc");
        for pid in pids {
            std::os::unix::fs::symlink(format!("/proc/{pid}"), dir.path().join(pid.to_string()))
                .unwrap();
        }
        std::os::unix::fs::symlink("/proc/stat", dir.path().join("stat")).unwrap();
        ProcView { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Collect Kubernetes facts (Docker skipped) from `root` and `proc`, with an optional dump.
pub fn collect(root: &Path, proc: &Path, dump: Option<&Path>) -> Snapshot {
    let options = CollectOptions {
        root: root.to_path_buf(),
        proc: proc.to_path_buf(),
        docker: Want::Skip,
        kubernetes: Want::Required,
        cluster_dump: dump.map(Path::to_path_buf),
        ..Default::default()
    };
    bulkhead_collect::collect(&options).unwrap_or_else(|e| panic!("collection failed: {e}"))
}

/// Clear the times a collection records (when each component started, when each of its
/// configuration files changed): they differ from run to run, and golden outputs must not.
pub fn forget_times(s: &mut Snapshot) {
    let Some(k) = s.kubernetes.as_mut() else {
        return;
    };
    for c in k.components.values_mut() {
        c.started_at = None;
        if let Some(f) = c.config.as_mut() {
            f.modified_at = None;
        }
    }
    if let Some(cfg) = k.kubelet.as_mut() {
        for f in cfg.file.iter_mut().chain(cfg.drop_ins.iter_mut()) {
            f.modified_at = None;
        }
    }
    if let Some(f) = k.proxy_config.as_mut() {
        f.modified_at = None;
    }
    if let Some(bulkhead_facts::Fact::Value(enc)) = k.encryption.as_mut() {
        enc.modified_at = None;
    }
}

/// Run the CIS Kubernetes benchmark over a snapshot.
pub fn audit(snapshot: &Snapshot) -> bulkhead_checks::Audit {
    let options = AuditOptions::default();
    let ctx = Context::new(snapshot, &options);
    let b = catalog().kubernetes();
    bulkhead_checks::run(b, b.default_edition(), &ctx, &Selection::default())
}

/// The status of the check with this ID (`1.2.6`).
pub fn status(audit: &bulkhead_checks::Audit, check_id: &str) -> bulkhead_checks::Status {
    audit
        .outcomes
        .iter()
        .find(|o| o.check_id == check_id)
        .unwrap_or_else(|| panic!("no check {check_id}"))
        .result
        .status
}

/// The whole outcome of a check, for messages.
pub fn outcome<'a>(
    audit: &'a bulkhead_checks::Audit,
    check_id: &str,
) -> &'a bulkhead_checks::Outcome {
    audit
        .outcomes
        .iter()
        .find(|o| o.check_id == check_id)
        .unwrap()
}

/// Assert the status of each check in `cases`, listing every wrong verdict with its outcome.
pub fn expect(audit: &bulkhead_checks::Audit, cases: &[(&str, bulkhead_checks::Status)]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(id, want)| status(audit, id) != *want)
        .map(|(id, want)| {
            format!(
                "{id}: want {want}, got {} ({:?})",
                status(audit, id),
                outcome(audit, id).result
            )
        })
        .collect();
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}

/// Whether this test run must not skip (CI=true).
pub fn ci() -> bool {
    bulkhead_testkit::ci()
}
