//! [`TestDockerd`]: a private Docker daemon for one test binary.
//!
//! Each instance lives in its own directory `/tmp/bhk-<test pid>-<n>/` (short, because unix
//! socket paths are limited to 108 bytes) holding its socket, data root, exec root, pidfile,
//! daemon.json and log. It never touches the user's daemon, socket or containers. It is started
//! in its own session; on drop (or at process exit for [`TestDockerd::shared`]) its containers are
//! removed, the daemon is stopped, any process still naming its directory is killed, everything
//! mounted under the directory is unmounted and the directory is removed.
//!
//! Defaults chosen so several test daemons can run side by side on one host: `--bridge none`,
//! `--iptables=false`, `--ip6tables=false` (no shared `docker0`, no fight over iptables chains).
//! Containers that publish ports join [`TestDockerd::network`], a bridge network with its own
//! interface name and subnet; published ports are then served by `docker-proxy`.

use crate::container::ContainerSpec;
use crate::http::{encode, ApiClient, Body};
use crate::image::{find_static_busybox, rootfs_tar_with, ExtraFile, TEST_IMAGE};
use crate::rootless::{self, RootlessUser};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How to start a test daemon.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    /// Extra dockerd flags, after the harness's own (`--log-level=debug`, `--icc=false`, ...).
    pub args: Vec<String>,
    /// Written to the daemon's `--config-file`; `{}` when None. A `hosts` list here is kept and
    /// the harness's own unix socket is added to it (dockerd refuses a setting given both as a
    /// flag and in daemon.json). `bridge`, `iptables` and `ip6tables` here replace the
    /// harness's defaults. `data-root`, `exec-root` and `pidfile` belong to the harness.
    pub daemon_json: Option<Value>,
    /// Give the daemon a default bridge of its own: a bridge interface created for it (named
    /// `bhkb...`, never `docker0`), passed as `--bridge`. At cleanup the iptables rules dockerd
    /// added for that interface and the interface itself are removed. Needed for settings that
    /// act on the default bridge (`--icc=false`, which also needs `--iptables=true`).
    pub own_bridge: bool,
}

impl DaemonOptions {
    pub fn own_bridge(mut self) -> Self {
        self.own_bridge = true;
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    pub fn daemon_json(mut self, json: Value) -> Self {
        self.daemon_json = Some(json);
        self
    }
}

/// Why a daemon could not be started at all on this machine (as opposed to failing).
#[derive(Debug)]
enum StartError {
    /// A prerequisite is missing: skip outside CI, fail under CI=true.
    Unavailable(String),
    /// It should have worked and did not: always a test failure.
    Failed(String),
}

/// True when running under CI (`CI=true`): missing components are failures, never skips.
pub fn ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// A running private dockerd. See the module documentation.
pub struct TestDockerd {
    dir: PathBuf,
    options: Mutex<DaemonOptions>,
    child: Mutex<Option<Child>>,
    image: Mutex<Option<String>>,
    network: Mutex<Option<String>>,
    shared_dir: Mutex<Option<PathBuf>>,
    /// The bridge interface made for [`DaemonOptions::own_bridge`].
    bridge: Mutex<Option<String>>,
    /// Set by [`TestDockerd::swarm_init`]: leave the swarm and remove `docker_gwbridge` at cleanup.
    swarm: Mutex<bool>,
    /// Set for a daemon started by [`TestDockerd::start_rootless`].
    rootless: Option<RootlessState>,
}

/// A rootless daemon's account, network driver, and the lock that keeps it the only rootless
/// test daemon on the machine (they all share the account's data root).
struct RootlessState {
    user: RootlessUser,
    network: (&'static str, String),
    _lock: std::fs::File,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);
static SHARED: OnceLock<Result<TestDockerd, String>> = OnceLock::new();

const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

impl TestDockerd {
    /// Start a daemon with the harness defaults. Outside CI, returns None (after printing
    /// `skipped: <reason>`) when this machine cannot run one (no dockerd binary, not root);
    /// under `CI=true` that panics. A daemon that is there but fails to start always panics.
    pub fn start() -> Option<TestDockerd> {
        Self::start_with(DaemonOptions::default())
    }

    /// Start a daemon with chosen flags and daemon.json.
    pub fn start_with(options: DaemonOptions) -> Option<TestDockerd> {
        started(Self::try_start(options))
    }

    /// One daemon shared by every test of this test binary (started on first use, stopped and
    /// cleaned up when the process exits). Starting dockerd takes seconds; share it.
    pub fn shared() -> Option<&'static TestDockerd> {
        let r = SHARED.get_or_init(|| match Self::try_start(DaemonOptions::default()) {
            Ok(d) => {
                // SAFETY: registering a plain `extern "C" fn()` with atexit.
                unsafe { libc::atexit(stop_shared) };
                Ok(d)
            }
            Err(StartError::Unavailable(reason)) => Err(reason),
            Err(StartError::Failed(msg)) => Err(format!("FAILED: {msg}")),
        });
        match r {
            Ok(d) => Some(d),
            Err(msg) if msg.starts_with("FAILED: ") => panic!("{msg}"),
            Err(reason) => skip_or_fail(reason),
        }
    }

    /// A daemon not launched yet, with nothing made on it.
    fn new(dir: PathBuf, options: DaemonOptions, rootless: Option<RootlessState>) -> TestDockerd {
        TestDockerd {
            dir,
            options: Mutex::new(options),
            child: Mutex::new(None),
            image: Mutex::new(None),
            network: Mutex::new(None),
            shared_dir: Mutex::new(None),
            bridge: Mutex::new(None),
            swarm: Mutex::new(false),
            rootless,
        }
    }

    fn try_start(options: DaemonOptions) -> Result<TestDockerd, StartError> {
        let dockerd = find_program("dockerd").ok_or_else(|| {
            StartError::Unavailable(
                "no dockerd binary on PATH or in /usr/sbin, /usr/bin, /usr/local/bin (install docker.io)"
                    .into(),
            )
        })?;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(StartError::Unavailable(format!(
                "a test dockerd ({}) needs root; run the tests as root",
                dockerd.display()
            )));
        }
        let d = TestDockerd::new(new_daemon_dir()?, options, None);
        d.launch(&dockerd).map_err(StartError::Failed)?;
        Ok(d)
    }

    /// Start a rootless daemon: `dockerd-rootless.sh` (rootlesskit, then dockerd in a user
    /// namespace) run as the dedicated test account [`rootless::TEST_USER`], with every location
    /// a rootless daemon has by default: the socket, exec root and pidfile in its
    /// `XDG_RUNTIME_DIR` (this daemon's harness directory, mode 0700, owned by the account),
    /// daemon.json at `~/.config/docker/daemon.json`, the data root `~/.local/share/docker`.
    /// The account and its `/etc/subuid` and `/etc/subgid` ranges are created on first use and
    /// left in place. Skips outside CI (None, with the reason) when the machine lacks the
    /// rootless programs or user namespaces; under `CI=true` that panics; a daemon that fails
    /// to start always panics with its log.
    ///
    /// Rootless test daemons run one at a time (they share the account's data root, which is
    /// emptied when each starts and stops); a second one waits for the first to be dropped.
    /// [`TestDockerd::pid`] is rootlesskit's process; dockerd is its grandchild.
    pub fn start_rootless() -> Option<TestDockerd> {
        Self::start_rootless_with(DaemonOptions::default())
    }

    /// [`TestDockerd::start_rootless`] with chosen dockerd flags and daemon.json (written to
    /// the account's `~/.config/docker/daemon.json`). [`DaemonOptions::own_bridge`] is refused.
    pub fn start_rootless_with(options: DaemonOptions) -> Option<TestDockerd> {
        started(Self::try_start_rootless(options))
    }

    fn try_start_rootless(options: DaemonOptions) -> Result<TestDockerd, StartError> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(StartError::Unavailable(
                "a rootless test dockerd needs root to create its account; run the tests as root"
                    .into(),
            ));
        }
        if find_program("dockerd").is_none() {
            return Err(StartError::Unavailable(
                "no dockerd binary (install docker.io)".into(),
            ));
        }
        if let Some(reason) = rootless::unavailable_reason() {
            return Err(StartError::Unavailable(reason));
        }
        if options.own_bridge {
            return Err(StartError::Failed(
                "DaemonOptions::own_bridge is for root daemons; a rootless daemon's bridge lives in its own network namespace"
                    .into(),
            ));
        }
        let user = rootless::ensure_test_user().map_err(StartError::Failed)?;
        let lock = rootless::lock_file(&user.home.join(".bhk-rootless.lock"))
            .map_err(StartError::Failed)?;
        // Holding the lock, no other rootless test daemon runs: whatever the account still runs,
        // and its data root, are left by a test binary that was killed.
        kill_all(&rootless::processes_of(&user));
        let _ = std::fs::remove_dir_all(user.data_root());
        // The account is the tests' own: its configuration (daemon.json, user units) is theirs.
        let _ = std::fs::remove_dir_all(user.home.join(".config"));
        let dir = new_daemon_dir()?;
        // The account reaches its directories only: 0700 and its own.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| StartError::Failed(format!("chmod {}: {e}", dir.display())))?;
        rootless::chown(&dir, user.uid, user.gid).map_err(StartError::Failed)?;
        let d = TestDockerd::new(
            dir,
            options,
            Some(RootlessState {
                user,
                network: rootless::network_driver(),
                _lock: lock,
            }),
        );
        let launcher = rootless::launcher().expect("checked by unavailable_reason");
        d.launch(&launcher).map_err(StartError::Failed)?;
        Ok(d)
    }

    /// The account a rootless daemon runs as (None for a daemon run by root).
    pub fn rootless_user(&self) -> Option<&RootlessUser> {
        self.rootless.as_ref().map(|r| &r.user)
    }

    /// The rootlesskit network driver a rootless daemon uses, and why that one.
    pub fn rootless_network(&self) -> Option<(&str, &str)> {
        self.rootless
            .as_ref()
            .map(|r| (r.network.0, r.network.1.as_str()))
    }

    /// Write daemon.json, spawn dockerd, wait until `/_ping` answers.
    fn launch(&self, dockerd: &Path) -> Result<(), String> {
        if let Some(r) = &self.rootless {
            return self.launch_rootless(r);
        }
        let options = self.options.lock().unwrap().clone();
        let mut json = options.daemon_json.clone().unwrap_or_else(|| json!({}));
        let Some(obj) = json.as_object_mut() else {
            return Err("DaemonOptions.daemon_json must be a JSON object".into());
        };
        for owned in ["data-root", "exec-root", "pidfile"] {
            if obj.contains_key(owned) {
                return Err(format!(
                    "DaemonOptions.daemon_json sets {owned:?}, which the test harness owns"
                ));
            }
        }
        let socket_url = format!("unix://{}", self.socket_path().display());
        let mut args: Vec<String> = Vec::new();
        match obj.get_mut("hosts") {
            Some(Value::Array(hosts)) => hosts.insert(0, json!(socket_url)),
            Some(_) => return Err("daemon.json \"hosts\" must be a list".into()),
            None => args.extend(["--host".into(), socket_url]),
        }
        args.extend([
            "--data-root".into(),
            self.data_root().display().to_string(),
            "--exec-root".into(),
            self.exec_root().display().to_string(),
            "--pidfile".into(),
            self.pidfile().display().to_string(),
            "--config-file".into(),
            self.config_file().display().to_string(),
        ]);
        if options.own_bridge {
            let name = self.own_bridge_interface()?;
            args.push(format!("--bridge={name}"));
        }
        for (key, flag) in [
            ("bridge", "--bridge=none"),
            ("iptables", "--iptables=false"),
            ("ip6tables", "--ip6tables=false"),
        ] {
            let in_args = options
                .args
                .iter()
                .any(|a| a == &format!("--{key}") || a.starts_with(&format!("--{key}=")));
            let bridge_given = key == "bridge" && options.own_bridge;
            if !obj.contains_key(key) && !in_args && !bridge_given {
                args.push(flag.into());
            }
        }
        args.extend(options.args.iter().cloned());
        let text = serde_json::to_string_pretty(&json).expect("JSON serializes");
        std::fs::write(self.config_file(), text)
            .map_err(|e| format!("writing {}: {e}", self.config_file().display()))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("opening {}: {e}", self.log_path().display()))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(dockerd);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .env_remove("DOCKER_HOST");
        // SAFETY: setsid is async-signal-safe; the new session lets us signal the whole group.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("starting {}: {e}", dockerd.display()))?;
        *self.child.lock().unwrap() = Some(child);
        self.wait_ready()
    }

    /// Write the account's daemon.json, run `dockerd-rootless.sh` as the account with only the
    /// environment a login would give it, wait until `/_ping` answers.
    fn launch_rootless(&self, r: &RootlessState) -> Result<(), String> {
        let options = self.options.lock().unwrap().clone();
        let json = options.daemon_json.clone().unwrap_or_else(|| json!({}));
        let Some(obj) = json.as_object() else {
            return Err("DaemonOptions.daemon_json must be a JSON object".into());
        };
        let mut args: Vec<String> = Vec::new();
        // Without slirp4netns the daemon shares the host's network namespace, where it may not
        // make a bridge or touch iptables; with it, these are the harness's defaults anyway.
        for (key, flag) in [
            ("bridge", "--bridge=none"),
            ("iptables", "--iptables=false"),
            ("ip6tables", "--ip6tables=false"),
        ] {
            let in_args = options
                .args
                .iter()
                .any(|a| a == &format!("--{key}") || a.starts_with(&format!("--{key}=")));
            if !obj.contains_key(key) && !in_args {
                args.push(flag.into());
            }
        }
        args.extend(options.args.iter().cloned());
        let user = &r.user;
        let config = user.daemon_json();
        let config_dir = config.parent().expect("daemon.json has a directory");
        std::fs::create_dir_all(config_dir)
            .and_then(|_| {
                std::fs::write(
                    &config,
                    serde_json::to_string_pretty(&json).expect("JSON serializes"),
                )
            })
            .map_err(|e| format!("writing {}: {e}", config.display()))?;
        rootless::chown_tree(&user.home.join(".config"), user.uid, user.gid)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("opening {}: {e}", self.log_path().display()))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let launcher = rootless::launcher().ok_or("dockerd-rootless.sh is gone")?;
        let path = format!(
            "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            rootless::CONTRIB_DIR
        );
        let (net, _) = r.network;
        let mut cmd = Command::new(&launcher);
        cmd.args(&args)
            .env_clear()
            .env("HOME", &user.home)
            .env("USER", &user.name)
            .env("LOGNAME", &user.name)
            .env("XDG_RUNTIME_DIR", &self.dir)
            .env("PATH", path)
            .env("DOCKERD_ROOTLESS_ROOTLESSKIT_NET", net)
            .current_dir(&user.home)
            .uid(user.uid)
            .gid(user.gid)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        if net == "host" {
            // rootlesskit forwards ports only for a network namespace of its own.
            cmd.env("DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER", "none");
        }
        // SAFETY: setsid is async-signal-safe; the new session lets us signal the whole group.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("starting {} as {}: {e}", launcher.display(), user.name))?;
        *self.child.lock().unwrap() = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let api = self.api();
        loop {
            if let Ok(r) = api.get("/_ping") {
                if r.is_success() {
                    return Ok(());
                }
            }
            if let Some(status) = self
                .child
                .lock()
                .unwrap()
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!(
                    "test dockerd exited with {status} before answering; its log ({}):\n{}",
                    self.log_path().display(),
                    self.log_tail(30)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "test dockerd did not answer on {} within {:?}; its log:\n{}",
                    self.socket_path().display(),
                    STARTUP_TIMEOUT,
                    self.log_tail(30)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last `n` lines of the daemon's log that are not debug chatter, for failure messages
    /// (dockerd's reason to stop comes last, after a flood of debug lines when debugging is on).
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("level=debug"))
            .collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Stop the daemon and start it again with the same directories, flags and daemon.json.
    /// Containers survive (stopped unless their restart policy restarts them).
    pub fn restart(&mut self) {
        let opts = self.options.lock().unwrap().clone();
        self.restart_with(opts);
    }

    /// Stop the daemon and start it again with new flags and daemon.json (e.g. after a fix was
    /// applied to daemon.json).
    pub fn restart_with(&mut self, options: DaemonOptions) {
        self.stop_daemon();
        *self.options.lock().unwrap() = options;
        let dockerd = find_program("dockerd").expect("dockerd was found at start");
        if let Err(e) = self.launch(&dockerd) {
            panic!("restarting the test dockerd: {e}");
        }
    }

    /// Restart with the same flags and a new daemon.json.
    pub fn restart_with_daemon_json(&mut self, json: Value) {
        let opts = self.options.lock().unwrap().clone().daemon_json(json);
        self.restart_with(opts);
    }

    /// The options the daemon currently runs with.
    pub fn options(&self) -> DaemonOptions {
        self.options.lock().unwrap().clone()
    }

    /// The harness directory holding everything of this daemon.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn socket_path(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    /// `unix:///tmp/bhk-.../docker.sock`, for `DOCKER_HOST` or `--docker-host`.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket_path().display())
    }

    /// The data root (rootless: `~/.local/share/docker` of its account).
    pub fn data_root(&self) -> PathBuf {
        match self.rootless_user() {
            Some(u) => u.data_root(),
            None => self.dir.join("data"),
        }
    }

    /// The exec root (rootless: `$XDG_RUNTIME_DIR/docker`).
    pub fn exec_root(&self) -> PathBuf {
        match self.rootless {
            Some(_) => self.dir.join("docker"),
            None => self.dir.join("exec"),
        }
    }

    pub fn pidfile(&self) -> PathBuf {
        self.dir.join("docker.pid")
    }

    /// The daemon's daemon.json: its `--config-file`, or for a rootless daemon the default
    /// `~/.config/docker/daemon.json` of its account.
    pub fn config_file(&self) -> PathBuf {
        match self.rootless_user() {
            Some(u) => u.daemon_json(),
            None => self.dir.join("daemon.json"),
        }
    }

    /// A rootless daemon's `XDG_RUNTIME_DIR` (its harness directory; None for a root daemon).
    pub fn runtime_dir(&self) -> Option<&Path> {
        self.rootless.as_ref().map(|_| self.dir.as_path())
    }

    /// The socket of the containerd this dockerd started for itself.
    pub fn containerd_socket(&self) -> PathBuf {
        self.exec_root().join("containerd/containerd.sock")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("dockerd.log")
    }

    /// The dockerd process id.
    pub fn pid(&self) -> u32 {
        self.child
            .lock()
            .unwrap()
            .as_ref()
            .map(|c| c.id())
            .expect("the test dockerd is running")
    }

    /// A client for this daemon's API.
    pub fn api(&self) -> ApiClient {
        ApiClient::new(self.socket_path())
    }

    /// Import [`TEST_IMAGE`] (once per daemon) and return its ID.
    pub fn ensure_image(&self) -> String {
        let mut image = self.image.lock().unwrap();
        if let Some(id) = image.as_ref() {
            return id.clone();
        }
        let id = self.import_image(TEST_IMAGE, &[]);
        *image = Some(id.clone());
        id
    }

    /// `docker import` a busybox root file system as `reference` (`repo:tag`), with Dockerfile
    /// `changes` such as `USER 1000` or `HEALTHCHECK CMD true`. Returns the image ID.
    pub fn import_image(&self, reference: &str, changes: &[&str]) -> String {
        self.import_image_with_files(reference, changes, &[])
    }

    /// [`TestDockerd::import_image`] with extra files in the root file system (e.g.
    /// `ExtraFile::busybox_copy("/usr/sbin/sshd")`).
    pub fn import_image_with_files(
        &self,
        reference: &str,
        changes: &[&str],
        extra: &[ExtraFile],
    ) -> String {
        let busybox = find_static_busybox().unwrap_or_else(|e| {
            if ci() {
                panic!("CI=true: {e}")
            }
            panic!("{e}")
        });
        let tar = rootfs_tar_with(&busybox, extra).unwrap_or_else(|e| panic!("{e}"));
        self.import_tar(reference, changes, &tar)
    }

    /// `docker import` of a root file system tar made by the test (e.g. with
    /// [`crate::image::rootfs_tar_of`]) as `reference`, with Dockerfile `changes` (`LABEL k=v`,
    /// `ENTRYPOINT [...]`, `USER 0`). Returns the image ID.
    pub fn import_tar(&self, reference: &str, changes: &[&str], tar: &[u8]) -> String {
        let (repo, tag) = reference.rsplit_once(':').unwrap_or((reference, "latest"));
        let mut path = format!(
            "/images/create?fromSrc=-&repo={}&tag={}",
            encode(repo),
            encode(tag)
        );
        for c in changes {
            path.push_str(&format!("&changes={}", encode(c)));
        }
        let r = self
            .api()
            .request(
                "POST",
                &path,
                Some(Body {
                    content_type: "application/x-tar",
                    bytes: tar,
                }),
            )
            .and_then(|r| r.ok("importing the test image"))
            .unwrap_or_else(|e| panic!("{e}"));
        // The answer is a stream of JSON progress messages; an error arrives as {"error": ...}.
        let text = r.text();
        if let Some(err) = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
        {
            panic!("importing {reference}: {err}");
        }
        self.inspect_image(reference)["Id"]
            .as_str()
            .unwrap_or_else(|| panic!("imported {reference} has no Id"))
            .to_string()
    }

    /// Remove an image (forced, as `docker rmi -f`); nothing happens when it does not exist.
    pub fn remove_image(&self, reference: &str) {
        let _ = self
            .api()
            .delete(&format!("/images/{}?force=true", encode(reference)));
    }

    pub fn inspect_image(&self, reference: &str) -> Value {
        self.api()
            .get(&format!("/images/{}/json", encode(reference)))
            .and_then(|r| r.ok(&format!("inspecting image {reference}")))
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Create a container (the test image is imported first if needed). Returns its ID.
    pub fn create(&self, name: &str, spec: &ContainerSpec) -> String {
        self.ensure_image();
        let r = self
            .api()
            .post_json(
                &format!("/containers/create?name={}", encode(name)),
                &spec.body(),
            )
            .and_then(|r| r.ok(&format!("creating container {name}")))
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{e}"));
        r["Id"].as_str().expect("create returns an Id").to_string()
    }

    /// Start a created container.
    pub fn start_container(&self, id: &str) -> Result<(), String> {
        self.api()
            .post(&format!("/containers/{id}/start"))
            .and_then(|r| r.ok(&format!("starting container {id}")))
            .map(|_| ())
    }

    /// Create and start a container (`docker run -d`). Returns its ID.
    pub fn run(&self, name: &str, spec: &ContainerSpec) -> String {
        let id = self.create(name, spec);
        if let Err(e) = self.start_container(&id) {
            panic!("{e}");
        }
        id
    }

    /// `GET /containers/{id}/json`
    pub fn inspect(&self, id: &str) -> Value {
        self.api()
            .get(&format!("/containers/{id}/json"))
            .and_then(|r| r.ok(&format!("inspecting container {id}")))
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Wait until the container's health status is `status` (`healthy`, `unhealthy`).
    pub fn wait_health(&self, id: &str, status: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.inspect(id);
            let now = v["State"]["Health"]["Status"].as_str().unwrap_or("");
            if now == status {
                return;
            }
            if Instant::now() > deadline {
                panic!("container {id} health is {now:?}, not {status:?}, after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stop and remove a container.
    pub fn remove(&self, id: &str) {
        let _ = self
            .api()
            .delete(&format!("/containers/{id}?force=true&v=true"));
    }

    /// Every container's ID (all states).
    pub fn container_ids(&self) -> Vec<String> {
        self.api()
            .get("/containers/json?all=true")
            .and_then(|r| r.json())
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c["Id"].as_str().map(String::from))
            .collect()
    }

    /// The name of this daemon's own bridge network (created on first use) with its own
    /// interface name and subnet, for containers that publish ports.
    pub fn network(&self) -> String {
        let mut net = self.network.lock().unwrap();
        if let Some(n) = net.as_ref() {
            return n.clone();
        }
        let seed = std::process::id() as u64 * 131 + COUNTER.fetch_add(1, Ordering::SeqCst) as u64;
        let name = "bulkhead-test-net".to_string();
        let mut last_err = String::new();
        for attempt in 0..20u64 {
            let s = seed + attempt * 7;
            let subnet = format!("10.{}.{}.0/24", 200 + (s % 50), (s / 50) % 250);
            let bridge = format!("bhk{:x}", s % 0xff_ffff);
            let body = json!({
                "Name": name,
                "Driver": "bridge",
                "CheckDuplicate": true,
                "IPAM": {"Config": [{"Subnet": subnet}]},
                "Options": {"com.docker.network.bridge.name": bridge},
            });
            match self
                .api()
                .post_json("/networks/create", &body)
                .and_then(|r| r.ok("creating the test bridge network"))
            {
                Ok(_) => {
                    *net = Some(name.clone());
                    return name;
                }
                Err(e) => last_err = e,
            }
        }
        panic!("{last_err}")
    }

    /// A directory under the harness directory that is its own mount point with shared
    /// propagation, so a container can bind it with `bind-propagation=shared`. Unmounted at
    /// cleanup.
    pub fn shared_mount_dir(&self) -> PathBuf {
        let mut dir = self.shared_dir.lock().unwrap();
        if let Some(d) = dir.as_ref() {
            return d.clone();
        }
        let d = self.dir.join("shared");
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("creating {}: {e}", d.display()));
        let c = std::ffi::CString::new(d.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: plain mount(2) calls on a path we own; errors are checked.
        unsafe {
            if libc::mount(
                c.as_ptr(),
                c.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            ) != 0
            {
                panic!(
                    "bind-mounting {}: {}",
                    d.display(),
                    std::io::Error::last_os_error()
                );
            }
            if libc::mount(
                std::ptr::null(),
                c.as_ptr(),
                std::ptr::null(),
                libc::MS_SHARED,
                std::ptr::null(),
            ) != 0
            {
                panic!(
                    "making {} shared: {}",
                    d.display(),
                    std::io::Error::last_os_error()
                );
            }
        }
        *dir = Some(d.clone());
        d
    }

    /// Run the `docker` CLI against this daemon (test setup only; the product never spawns
    /// processes). Fails when no docker CLI is installed.
    pub fn docker_cli(&self, args: &[&str]) -> Result<std::process::Output, String> {
        let docker = find_program("docker")
            .ok_or("no docker CLI on PATH (install docker.io)".to_string())?;
        Command::new(docker)
            .args(args)
            .env("DOCKER_HOST", self.docker_host())
            .output()
            .map_err(|e| format!("running docker {}: {e}", args.join(" ")))
    }

    /// SIGTERM dockerd and wait for it; SIGKILL its process group if it does not stop.
    fn stop_daemon(&self) {
        let Some(mut child) = self.child.lock().unwrap().take() else {
            return;
        };
        let pid = child.id() as i32;
        // SAFETY: signalling the process we spawned.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    // SAFETY: the group is the session we created for dockerd.
                    unsafe { libc::killpg(pid, libc::SIGKILL) };
                    let _ = child.wait();
                    break;
                }
            }
        }
    }

    /// Remove containers and networks, stop the daemon, kill leftovers, unmount, remove the
    /// directory. Idempotent.
    fn shutdown(&self) {
        if self.child.lock().unwrap().is_some() {
            if *self.swarm.lock().unwrap() {
                let _ = self.api().post("/swarm/leave?force=true");
            }
            for id in self.container_ids() {
                self.remove(&id);
            }
            if let Some(n) = self.network.lock().unwrap().take() {
                let _ = self.api().delete(&format!("/networks/{n}"));
            }
        }
        self.stop_daemon();
        if let Some(name) = self.bridge.lock().unwrap().take() {
            remove_bridge(&name);
        }
        if std::mem::take(&mut *self.swarm.lock().unwrap()) {
            remove_bridge("docker_gwbridge");
        }
        cleanup_dir(&self.dir);
        if let Some(r) = &self.rootless {
            // Container processes run as subordinate ids and name no harness path; rootlesskit
            // and slirp4netns may outlive a killed session. All of them are the account's.
            for _ in 0..3 {
                let left = rootless::processes_of(&r.user);
                if left.is_empty() {
                    break;
                }
                kill_all(&left);
                std::thread::sleep(Duration::from_millis(200));
            }
            let _ = std::fs::remove_dir_all(r.user.data_root());
            let _ = std::fs::remove_dir_all(r.user.home.join(".config"));
        }
    }

    /// Make this daemon a single-manager swarm listening on a free 127.0.0.1 port; returns the
    /// advertised address (`127.0.0.1:PORT`). A swarm node needs the host-wide `docker_gwbridge`
    /// interface: when one exists already (another daemon's swarm) this refuses rather than share
    /// it. At cleanup the daemon leaves the swarm and `docker_gwbridge` is removed.
    pub fn swarm_init(&self) -> Result<String, String> {
        if Path::new("/sys/class/net/docker_gwbridge").exists() {
            return Err(
                "a docker_gwbridge interface already exists (another daemon's swarm); a test swarm would share it"
                    .into(),
            );
        }
        let port = (23777..23900)
            .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .ok_or("no free port for the swarm")?;
        let addr = format!("127.0.0.1:{port}");
        *self.swarm.lock().unwrap() = true;
        self.api()
            .post_json(
                "/swarm/init",
                &json!({"ListenAddr": addr, "AdvertiseAddr": addr}),
            )
            .and_then(|r| r.ok("initialising the test swarm"))?;
        Ok(addr)
    }

    /// Create (once) the bridge interface for [`DaemonOptions::own_bridge`].
    fn own_bridge_interface(&self) -> Result<String, String> {
        let mut bridge = self.bridge.lock().unwrap();
        if let Some(b) = bridge.as_ref() {
            return Ok(b.clone());
        }
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("bhkb{:x}", (std::process::id() * 16 + n) % 0xff_ffff);
        let ip = find_program("ip").ok_or("own_bridge needs the `ip` tool (iproute2)")?;
        let out = Command::new(ip)
            .args(["link", "add", "name", &name, "type", "bridge"])
            .output()
            .map_err(|e| format!("running ip link add: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "creating bridge {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        *bridge = Some(name.clone());
        Ok(name)
    }
}

/// Delete the iptables rules that name bridge `name` (dockerd leaves them when it stops), then
/// the interface.
fn remove_bridge(name: &str) {
    if let Some(iptables) = find_program("iptables") {
        for table in ["filter", "nat"] {
            let Ok(out) = Command::new("iptables-save").args(["-t", table]).output() else {
                continue;
            };
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let Some(rule) = line.strip_prefix("-A ") else {
                    continue;
                };
                if !rule.split_whitespace().any(|w| w == name) {
                    continue;
                }
                let mut args = vec!["-t".to_string(), table.to_string(), "-D".to_string()];
                args.extend(rule.split_whitespace().map(String::from));
                let _ = Command::new(&iptables).args(&args).output();
            }
        }
    }
    if let Some(ip) = find_program("ip") {
        let _ = Command::new(ip).args(["link", "del", name]).output();
    }
}

impl Drop for TestDockerd {
    fn drop(&mut self) {
        self.shutdown();
    }
}

extern "C" fn stop_shared() {
    if let Some(Ok(d)) = SHARED.get() {
        d.shutdown();
    }
}

/// Daemons and scratch directories that live until the process exits.
static AT_EXIT: Mutex<(Vec<&'static TestDockerd>, Vec<PathBuf>)> =
    Mutex::new((Vec::new(), Vec::new()));
static AT_EXIT_REGISTERED: OnceLock<()> = OnceLock::new();

fn register_exit_cleanup() {
    AT_EXIT_REGISTERED.get_or_init(|| {
        // SAFETY: registering a plain `extern "C" fn()` with atexit.
        unsafe { libc::atexit(clean_at_exit) };
    });
}

extern "C" fn clean_at_exit() {
    let Ok(mut state) = AT_EXIT.lock() else {
        return;
    };
    for d in state.0.drain(..) {
        d.shutdown();
    }
    for dir in state.1.drain(..) {
        cleanup_dir(&dir);
    }
}

impl TestDockerd {
    /// Keep this daemon for the rest of the test binary (e.g. in a `OnceLock` shared by several
    /// tests, where it would never be dropped); it is stopped and cleaned up at process exit.
    pub fn until_exit(self) -> &'static TestDockerd {
        register_exit_cleanup();
        let d: &'static TestDockerd = Box::leak(Box::new(self));
        AT_EXIT.lock().unwrap().0.push(d);
        d
    }
}

/// A new, empty directory for one daemon's socket, data root, exec root and pidfile
/// (`/tmp/bhk-PID-N`), after removing those test binaries that were killed left behind.
fn new_daemon_dir() -> Result<PathBuf, StartError> {
    clean_stale_dirs();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = PathBuf::from(format!("/tmp/bhk-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| StartError::Failed(format!("creating {}: {e}", dir.display())))?;
    Ok(dir)
}

/// A fresh directory `/tmp/bhk-<pid>-<name>` for test files (certificates, roots), removed at
/// process exit (and by a later run if this process is killed first).
pub fn scratch_dir(name: &str) -> PathBuf {
    register_exit_cleanup();
    let dir = PathBuf::from(format!("/tmp/bhk-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    AT_EXIT.lock().unwrap().1.push(dir.clone());
    dir
}

fn skip_or_fail<T>(reason: &str) -> Option<T> {
    if ci() {
        panic!("CI=true and a test dockerd cannot run: {reason}");
    }
    eprintln!("skipped: {reason}");
    None
}

/// Find a program on PATH or in the usual system directories (sbin is often not on a user's PATH).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .chain(
            [
                "/usr/local/sbin",
                "/usr/local/bin",
                "/usr/sbin",
                "/usr/bin",
                "/sbin",
                "/bin",
            ]
            .iter()
            .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn kill_all(pids: &[u32]) {
    for pid in pids {
        // SAFETY: the callers pass processes this harness started (see each caller).
        unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
    }
}

/// Kill every process whose command line names `dir` (dockerd, its containerd and shims),
/// unmount everything mounted under it (deepest first) and remove it.
fn cleanup_dir(dir: &Path) {
    let needle = dir.display().to_string();
    for _ in 0..2 {
        let mut killed = false;
        for pid in processes_naming(&format!("{needle}/")) {
            // SAFETY: these processes were started by this harness (they name its directory).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            killed = true;
        }
        if !killed {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(unescape_mount_path))
        .filter(|m| m == &needle || m.starts_with(&format!("{needle}/")))
        .collect();
    mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in mounts {
        if let Ok(c) = std::ffi::CString::new(m) {
            // SAFETY: unmounting a path under our own directory.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn unescape_mount_path(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\134", "\\")
}

/// A started daemon; a machine that cannot run one is a skip (None) outside CI and a failure
/// under `CI=true`; a daemon that failed to start is always a failure.
fn started(result: Result<TestDockerd, StartError>) -> Option<TestDockerd> {
    match result {
        Ok(d) => Some(d),
        Err(StartError::Unavailable(reason)) => skip_or_fail(&reason),
        Err(StartError::Failed(msg)) => panic!("{msg}"),
    }
}

/// Pids of every process but this one.
pub(crate) fn other_processes() -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .collect()
}

/// Pids of processes whose command line contains `needle`.
fn processes_naming(needle: &str) -> Vec<u32> {
    other_processes()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Clean up directories left by test binaries that were killed before they could clean up
/// (`/tmp/bhk-<pid>-<n>` whose `<pid>` no longer runs). Live test binaries' daemons are left alone.
fn clean_stale_dirs() {
    let Ok(entries) = std::fs::read_dir("/tmp") else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("bhk-") else {
            continue;
        };
        let Some(owner) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if owner != std::process::id() && !Path::new(&format!("/proc/{owner}")).exists() {
            cleanup_dir(&e.path());
        }
    }
}
