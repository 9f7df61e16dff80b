//! Test harness for bulkhead's own tests (a dev-dependency only; never part of the product).
//!
//! It owns everything a test needs to run against a **real** Docker daemon without touching the
//! user's: a private `dockerd` on its own socket, data root, exec root and pidfile; a local image
//! made from a statically linked busybox (no registry is reachable); containers created with the
//! flags each check distinguishes; and cleanup of all of it.
//!
//! # API
//!
//! - [`TestDockerd::shared()`] → `Option<&'static TestDockerd>`: one daemon per test binary,
//!   started on first use and stopped at process exit. Use this unless a test must restart the
//!   daemon or needs its own flags.
//! - [`TestDockerd::start()`] / [`TestDockerd::start_with`]`(`[`DaemonOptions`]`)` → an owned
//!   daemon (stopped and cleaned up on drop) with chosen dockerd flags and daemon.json.
//!   [`TestDockerd::restart`], [`TestDockerd::restart_with`] and
//!   [`TestDockerd::restart_with_daemon_json`] stop it and start it again on the same
//!   directories (for hardening: apply a fix to daemon.json, restart, audit again).
//!   [`TestDockerd::until_exit`] keeps an owned daemon for the rest of the test binary (to share
//!   one with chosen flags between tests); [`scratch_dir`] makes a directory removed at exit,
//!   [`TempDir`] one removed when its guard is dropped.
//! - Where things are: [`TestDockerd::socket_path`], [`TestDockerd::docker_host`]
//!   (`unix://...`, for `DOCKER_HOST` / `--docker-host`), [`TestDockerd::data_root`],
//!   [`TestDockerd::exec_root`], [`TestDockerd::pidfile`], [`TestDockerd::config_file`]
//!   (daemon.json), [`TestDockerd::containerd_socket`], [`TestDockerd::log_path`],
//!   [`TestDockerd::pid`].
//! - Images: [`TestDockerd::ensure_image`] imports [`TEST_IMAGE`] (`bulkhead-test/busybox:1`:
//!   `/bin/busybox` with applet links `sh sleep ps cat id true false wget nc ...`, `/etc/passwd`
//!   with root, app (1000) and nobody); [`TestDockerd::import_image`] imports it under another
//!   name with Dockerfile changes (`USER 1000`, `HEALTHCHECK ...`);
//!   [`TestDockerd::import_image_with_files`] adds files ([`ExtraFile`]), e.g. a copy of busybox
//!   at `/usr/sbin/sshd` so a container really runs a process named sshd.
//!   [`TestDockerd::import_tar`] imports a root file system the test made, e.g. a program of
//!   this machine with the libraries it loads ([`image::program_with_libraries`], packed by
//!   [`image::rootfs_tar_of`]: bulkhead's own image without a registry);
//!   [`TestDockerd::remove_image`] removes it.
//! - Audit rules: [`KernelAuditRules`] loads rules with one key of the test's own into the
//!   running kernel (auditctl) and deletes them on drop.
//! - Containers: build a [`ContainerSpec`] with methods named after `docker run` flags
//!   (`.read_only()`, `.user("0:0")`, `.security_opt("no-new-privileges")`, `.cap_drop("ALL")`,
//!   `.pid_mode("host")`, `.bind("/etc/ssl:/etc/ssl:ro")`, `.publish("::", 8080, 80)`,
//!   `.restart("on-failure", 3)`, `.health_cmd("true", 1, 1)`, `.memory(..)`, ...), then
//!   [`TestDockerd::create`] (created only, e.g. `--privileged`, which cannot start here) or
//!   [`TestDockerd::run`] (create + start). [`TestDockerd::wait_health`],
//!   [`TestDockerd::inspect`], [`TestDockerd::remove`].
//! - [`TestDockerd::swarm_init`]: a single-manager swarm on a loopback port (left, and its
//!   `docker_gwbridge` removed, at cleanup).
//! - [`TestDockerd::network`]: a bridge network of this daemon for containers that publish
//!   ports; [`TestDockerd::shared_mount_dir`]: a shared-propagation mount point for
//!   `bind-propagation=shared`.
//! - [`TestDockerd::start_rootless`] / [`TestDockerd::start_rootless_with`]: a real rootless
//!   daemon (`dockerd-rootless.sh`: rootlesskit, then dockerd in a user namespace) run as the
//!   dedicated account [`rootless::TEST_USER`] (created once with its `/etc/subuid` and
//!   `/etc/subgid` ranges, and left in place), in that account's default locations:
//!   [`TestDockerd::runtime_dir`] (`XDG_RUNTIME_DIR`, holding the socket and exec root),
//!   `~/.config/docker/daemon.json`, `~/.local/share/docker`; [`TestDockerd::rootless_user`].
//! - [`TestPki`]: a throwaway CA (openssl) issuing server and client certificates, e.g. for a
//!   daemon on tcp+TLS (`tlscacert`/`tlscert`/`tlskey` in daemon.json) and a `DOCKER_CERT_PATH`
//!   client directory ([`TestPki::docker_client_dir`]).
//! - [`TestPostgres`]: a private PostgreSQL server listening only on a socket in its own
//!   temporary directory ([`TestPostgres::conninfo`] for a role and database of it).
//! - [`TestSshd`]: a private sshd on a loopback port whose one key runs a forced command (e.g.
//!   `docker system dial-stdio` against a test daemon), for `ssh://` endpoints.
//! - [`golden::assert_golden`]: golden-file comparison, rewritten with `BULKHEAD_BLESS=1`.
//! - [`TestDockerd::api`] → [`ApiClient`] for any other Engine API call;
//!   [`TestDockerd::docker_cli`] runs the `docker` CLI against the daemon when that is simpler.
//!
//! # Skipping and CI
//!
//! When this machine cannot run a daemon (no `dockerd` binary, not root), `start()` and
//! `shared()` print `skipped: <reason>` and return None outside CI, so a test does
//! `let Some(d) = TestDockerd::shared() else { return };`. Under `CI=true` they panic instead: a
//! missing component fails the run. A daemon that is installed but fails to start always panics
//! with the tail of its log.
//!
//! # Example
//!
//! ```no_run
//! use bulkhead_testkit::{ContainerSpec, TestDockerd};
//! let Some(d) = TestDockerd::shared() else { return };
//! let id = d.run("ro", &ContainerSpec::new().read_only().user("1000"));
//! assert_eq!(d.inspect(&id)["HostConfig"]["ReadonlyRootfs"], true);
//! ```

pub mod audit_rules;
pub mod container;
pub mod dockerd;
pub mod etcd;
pub mod golden;
pub mod http;
pub mod image;
pub mod pki;
pub mod postgres;
pub mod rootless;
pub mod shell;
pub mod sshd;
pub mod tempdir;

pub use audit_rules::KernelAuditRules;
pub use container::ContainerSpec;
pub use dockerd::{ci, find_program, scratch_dir, DaemonOptions, TestDockerd};
pub use etcd::{EtcdOptions, EtcdPki, TestEtcd};
pub use http::{ApiClient, KeepAlive, Response};
pub use image::{ExtraFile, TEST_IMAGE};
pub use pki::{Issued, TestPki};
pub use postgres::TestPostgres;
pub use rootless::RootlessUser;
pub use sshd::TestSshd;
pub use tempdir::TempDir;
