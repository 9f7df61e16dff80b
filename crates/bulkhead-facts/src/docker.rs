//! Facts about a Docker engine: what the Engine API reported, and the daemon's own configuration
//! (process flags, daemon.json, the paths they resolve to).
//!
//! API objects keep Docker's JSON field names (`HostConfig.ReadonlyRootfs`), so a snapshot reads
//! like `docker inspect` output; only the fields some check, threat or fix needs are kept.

use crate::flags::{FlagSpec, Flags};
use crate::host::Process;
use crate::Fact;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Label that marks bulkhead's own container, which is never audited.
pub const SELF_LABEL: &str = "io.bulkhead.self";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DockerFacts {
    pub endpoint: Endpoint,
    pub version: Fact<Version>,
    pub info: Fact<Info>,
    pub daemon: DaemonFacts,
    pub containers: Fact<Vec<ContainerFacts>>,
    /// How containers were selected, and every container left out with the reason.
    pub selection: ContainerSelection,
    pub images: Fact<Vec<ImageFacts>>,
    pub networks: Fact<Vec<Network>>,
    pub swarm: Fact<SwarmFacts>,
}

/// Where the Engine API was reached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// As given: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`, `ssh://user@host`.
    pub host: String,
    /// `unix`, `tcp` or `ssh`.
    pub transport: String,
    pub tls: bool,
    /// With TLS: whether the daemon's certificate was verified (against the given CA, or the
    /// system's roots). False when `DOCKER_TLS` was set without `DOCKER_TLS_VERIFY`, or a docker
    /// context says `SkipTLSVerify`: the answers may come from whoever holds that address. Left
    /// out without TLS and in snapshots written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verified: Option<bool>,
    /// Where the address came from: `flag` (--docker-host), `env` (DOCKER_HOST), `context NAME`
    /// (a docker CLI context), `rootless` (the user's rootless socket) or `default`.
    pub source: String,
    /// True when the daemon runs on the host whose files and processes were read. False for a
    /// remote daemon: then host-side checks are not applicable rather than mixing two hosts.
    pub local: bool,
    /// Negotiated API version.
    #[serde(default)]
    pub api_version: String,
}

/// The engine's version. Over a unix socket bulkhead does not ask `GET /version`: dockerd runs
/// `runc --version` and `docker-init --version` to answer it, about as much of the daemon's CPU
/// time as 30 container inspects, for nothing a check needs that `GET /info` and the `/_ping`
/// headers do not say. The version is then assembled from those ([`VersionSource::InfoAndPing`]):
/// the components carry the commits `/info` reports instead of their version numbers, and
/// `MinAPIVersion` and `Arch` stay empty. Over tcp and ssh, where connecting asks `/version`
/// anyway, it is that answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    /// Where the fields below were read; left out for `GET /version` (and in snapshots written
    /// before it was recorded).
    #[serde(default, skip_serializing_if = "VersionSource::is_version")]
    pub source: VersionSource,
    pub version: String,
    pub api_version: String,
    /// Docker spells it `MinAPIVersion`; older snapshots wrote `MinApiVersion`.
    #[serde(default, rename = "MinAPIVersion", alias = "MinApiVersion")]
    pub min_api_version: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub kernel_version: String,
    #[serde(default)]
    pub experimental: bool,
    #[serde(default)]
    pub components: Vec<VersionComponent>,
}

/// Which answers a [`Version`] was read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionSource {
    /// `GET /version`.
    #[default]
    Version,
    /// `GET /info` (the engine's version, kernel, OS, the components' commits) and the headers of
    /// `GET /_ping` (API version, experimental).
    InfoAndPing,
}

impl VersionSource {
    pub fn is_version(&self) -> bool {
        *self == VersionSource::Version
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionComponent {
    pub name: String,
    /// Empty when only the commit is known (a version read from `/info`).
    #[serde(default)]
    pub version: String,
    /// The commit the daemon reports for it (`/info`'s `ContainerdCommit`, `RuncCommit`,
    /// `InitCommit`); distributions put their package version there.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit: String,
}

/// `GET /info`, the fields checks read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Info {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub server_version: String,
    pub driver: String,
    pub logging_driver: String,
    pub cgroup_driver: String,
    pub cgroup_version: String,
    pub docker_root_dir: String,
    pub live_restore_enabled: bool,
    pub experimental_build: bool,
    /// e.g. `name=seccomp,profile=builtin`, `name=apparmor`, `name=userns`, `name=rootless`.
    pub security_options: Vec<String>,
    pub containers: u64,
    pub containers_running: u64,
    pub containers_paused: u64,
    pub containers_stopped: u64,
    pub images: u64,
    pub operating_system: String,
    /// `linux` or `windows`.
    #[serde(rename = "OSType")]
    pub os_type: String,
    pub kernel_version: String,
    pub swarm: SwarmInfo,
    pub containerd_commit: Commit,
    pub runc_commit: Commit,
    pub init_commit: Commit,
}

/// A component's commit as `/info` reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Commit {
    #[serde(rename = "ID")]
    pub id: String,
}

impl Info {
    pub fn has_security_option(&self, name: &str) -> bool {
        self.security_options
            .iter()
            .any(|o| o.split(',').any(|kv| kv == format!("name={name}")))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SwarmInfo {
    #[serde(rename = "NodeID")]
    pub node_id: String,
    /// `inactive`, `pending`, `active`, `error`, `locked`.
    pub local_node_state: String,
    pub control_available: bool,
    pub managers: u64,
    pub nodes: u64,
}

/// A container: its inspect document, and what bulkhead saw of it from the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerFacts {
    pub inspect: Container,
    /// Processes running in the container, read from the host's /proc (same PID namespace as the
    /// container's init process), never by executing anything inside it.
    pub processes: Fact<Vec<Process>>,
}

impl ContainerFacts {
    /// The name without Docker's leading slash.
    pub fn name(&self) -> &str {
        self.inspect.name.trim_start_matches('/')
    }

    pub fn short_id(&self) -> &str {
        &self.inspect.id[..self.inspect.id.len().min(12)]
    }
}

/// Docker writes an empty Go slice or map as `null` (`"Env": null` for an image without
/// environment). Where the snapshot holds a plain list or map, `null` reads as empty.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `GET /containers/{id}/json`, the fields checks read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub created: String,
    /// Image ID (sha256:...).
    pub image: String,
    pub state: ContainerState,
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    #[serde(deserialize_with = "null_as_default")]
    pub mounts: Vec<MountPoint>,
    pub network_settings: NetworkSettings,
    pub app_armor_profile: String,
    pub process_label: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`.
    pub status: String,
    pub running: bool,
    pub pid: i64,
    pub health: Option<Health>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Health {
    /// `starting`, `healthy`, `unhealthy`, `none`.
    pub status: String,
    pub failing_streak: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerConfig {
    pub user: String,
    /// The image as the user named it (`nginx:1.25`).
    pub image: String,
    #[serde(deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    pub healthcheck: Option<HealthConfig>,
    /// `NAME=value`, secret values masked.
    #[serde(deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    /// `["NONE"]` disables a health check inherited from the image.
    #[serde(deserialize_with = "null_as_default")]
    pub test: Vec<String>,
    pub interval: i64,
    pub timeout: i64,
    pub retries: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub privileged: bool,
    pub readonly_rootfs: bool,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub security_opt: Option<Vec<String>>,
    pub network_mode: String,
    pub pid_mode: String,
    pub ipc_mode: String,
    #[serde(rename = "UTSMode")]
    pub uts_mode: String,
    pub userns_mode: String,
    pub cgroup_parent: String,
    pub cgroupns_mode: String,
    pub memory: i64,
    pub memory_swap: i64,
    pub cpu_shares: i64,
    pub nano_cpus: i64,
    pub cpu_quota: i64,
    pub cpuset_cpus: String,
    pub pids_limit: Option<i64>,
    pub restart_policy: RestartPolicy,
    pub devices: Option<Vec<DeviceMapping>>,
    pub ulimits: Option<Vec<Ulimit>>,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub binds: Option<Vec<String>>,
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub readonly_paths: Option<Vec<String>>,
    pub masked_paths: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    /// `""`/`no`, `always`, `unless-stopped`, `on-failure`.
    pub name: String,
    pub maximum_retry_count: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceMapping {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountPoint {
    /// `bind`, `volume`, `tmpfs`, `npipe`.
    #[serde(rename = "Type")]
    pub kind: String,
    pub name: String,
    pub source: String,
    pub destination: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkSettings {
    /// `"80/tcp" -> [bindings]` (null when exposed but not published).
    pub ports: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub networks: Option<BTreeMap<String, EndpointSettings>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointSettings {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
}

/// An image: its inspect document and its history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageFacts {
    pub inspect: Image,
    pub history: Fact<Vec<HistoryItem>>,
}

impl ImageFacts {
    /// The first tag, else the short ID.
    pub fn display_name(&self) -> String {
        self.inspect
            .repo_tags
            .iter()
            .find(|t| *t != "<none>:<none>")
            .cloned()
            .unwrap_or_else(|| short_image_id(&self.inspect.id).to_string())
    }
}

pub fn short_image_id(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    &id[..id.len().min(12)]
}

/// `GET /images/{id}/json`, the fields checks read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Image {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: String,
    pub config: ImageConfig,
    pub os: String,
    pub architecture: String,
    pub size: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageConfig {
    pub user: String,
    pub healthcheck: Option<HealthConfig>,
    /// `NAME=value`, secret values masked.
    pub env: Vec<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
}

/// `GET /images/{id}/history`, one layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HistoryItem {
    pub id: String,
    pub created: i64,
    /// The instruction that made the layer, secret values masked.
    pub created_by: String,
    pub tags: Option<Vec<String>>,
    pub size: i64,
    pub comment: String,
}

/// `GET /networks`, the fields checks read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Network {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub scope: String,
    pub internal: bool,
    pub ingress: bool,
    pub options: BTreeMap<String, String>,
    /// Container ID -> endpoint. Only a network's own inspect (`GET /networks/{id}`) fills it,
    /// and bulkhead reads the list alone, so it is empty in its snapshots (snapshots of versions
    /// that inspected each network hold it); no check reads it.
    pub containers: BTreeMap<String, serde_json::Value>,
}

/// Swarm state beyond `/info`: only read when this node is an active manager.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SwarmFacts {
    /// `inactive`, `active`, ... as in `/info`.
    pub state: String,
    pub is_manager: bool,
    /// Manager nodes reachable in the cluster.
    pub managers: u64,
    pub autolock: Option<bool>,
    /// Node certificate lifetime in seconds (`Spec.CAConfig.NodeCertExpiry`).
    pub node_cert_expiry_seconds: Option<i64>,
    pub secrets: Option<u64>,
    /// The address used for management (data path address is separate when set).
    pub advertise_addr: Option<String>,
    pub data_path_addr: Option<String>,
}

/// How the audited containers were chosen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerSelection {
    pub all_states: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub labels: Vec<String>,
    /// Every container not audited, with why.
    pub skipped: Vec<SkippedContainer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedContainer {
    pub id: String,
    pub name: String,
    pub state: String,
    pub reason: String,
    /// Selected, but its inspect failed: the checks report it as an error, not as left out.
    /// False for a container the selection left out and for one removed between the list and
    /// its inspect.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
    /// Left out by a filter the user gave (`--include`, `--exclude`, `--label`), as opposed to
    /// its state, bulkhead's own label or a failed inspect.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_filter: bool,
}

/// The daemon as seen on the host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DaemonFacts {
    /// The dockerd process serving the API endpoint, found by executable name. None when no
    /// dockerd runs on this host (or when the daemon is remote).
    pub process: Fact<Option<Process>>,
    /// Why this process was chosen (e.g. "the only dockerd", "listens on /run/docker.sock").
    pub process_reason: String,
    /// Flags parsed from the process's command line.
    pub flags: Flags,
    /// Rootless Docker (dockerd run by a non-root user through rootlesskit).
    pub rootless: bool,
    /// Rootless Docker: the subordinate group IDs of the user running the daemon, as
    /// `(first, count)` ranges from /etc/subgid. Groups inside the daemon's user namespace
    /// (its `docker` group, which owns its socket) are these on the host, held by no one else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rootless_subgids: Vec<(u32, u32)>,
    /// The daemon.json that applies: `--config-file` when given, else the default for the mode.
    pub config_path: String,
    /// Its parsed content; `Value(None)` when the file does not exist.
    pub config: Fact<Option<serde_json::Value>>,
    /// Every path the checks need, resolved from the daemon's real configuration.
    pub paths: DockerPaths,
    /// When the dockerd process started (RFC 3339, whole seconds), from /proc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When its daemon.json was last modified (RFC 3339, whole seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_modified_at: Option<String>,
    /// The dockerd process's own limit on open files (`Max open files` in /proc/PID/limits):
    /// without CAP_SYS_RESOURCE it cannot give a container a higher one, and the container then
    /// does not start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_files_limit: Option<ResourceLimit>,
}

/// A soft and a hard resource limit of a process; None is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLimit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

impl DaemonFacts {
    /// `(modified, started)` when daemon.json changed after the running dockerd started: the
    /// file then holds settings the daemon has not necessarily loaded (most take effect only at
    /// the next start); see [`crate::time::changed_after`].
    pub fn config_changed_after_start(&self) -> Option<(&str, &str)> {
        let modified = self.config_modified_at.as_deref()?;
        let started = self.started_at.as_deref()?;
        crate::time::changed_after(modified, started).then_some((modified, started))
    }
}

/// Paths resolved from the running configuration, falling back to documented defaults. Each
/// `Option` is None when the configuration names no such thing (e.g. no TLS certificate).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DockerPaths {
    /// Unix sockets the daemon listens on (`hosts`, `-H unix://...`, or the default).
    pub sockets: Vec<String>,
    pub tcp_hosts: Vec<String>,
    pub data_root: String,
    pub exec_root: String,
    pub containerd_socket: Option<String>,
    pub config_dir: String,
    pub config_file: String,
    pub certs_dir: String,
    pub tls_ca: Option<String>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    /// systemd unit name (`docker.service`, `docker.socket`, `containerd.service`) -> the unit
    /// file systemd would load: the first found in [`SYSTEMD_UNIT_DIRS`] order.
    pub units: BTreeMap<String, Option<String>>,
    /// Where each socket of `sockets` was named: `flag --host`, `/etc/docker/daemon.json
    /// hosts`, `ListenStream= in /lib/systemd/system/docker.socket` (socket activation) or
    /// dockerd's default. Also holds the TCP listeners of `tcp_hosts` that socket activation
    /// made (a TCP `ListenStream=`, keyed `tcp://ADDR:PORT`); those named in `hosts` are not
    /// listed (their source is that of `hosts`). Empty in snapshots older than this field.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub socket_sources: BTreeMap<String, String>,
    /// Socket activation (`-H fd://`): the docker.socket unit as systemd would load it (unit
    /// file and drop-ins), the sockets it listens on and how systemd creates them. None when the
    /// daemon is not socket-activated or no docker.socket unit exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_unit: Option<SocketUnit>,
    /// Unit name (`docker.service`, `docker.socket`) -> its drop-in files (`*.conf` in
    /// `NAME.d/` and the type's `service.d/` or `socket.d/` in every unit directory), a name
    /// in a directory of higher precedence hiding the same name below, in the order systemd
    /// applies them (by file name). Units without drop-ins are left out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unit_dropins: BTreeMap<String, Vec<String>>,
    pub default_env_files: Vec<String>,
    pub containerd_config: String,
    /// Binary name -> host path (`dockerd`, `containerd`, `containerd-shim`,
    /// `containerd-shim-runc-v1`, `containerd-shim-runc-v2`, `runc`) when found.
    pub binaries: BTreeMap<String, Option<String>>,
}

/// dockerd's boolean flags: they never take the next word as their value.
pub const DOCKERD_BOOLEAN_FLAGS: &[&str] = &[
    "debug",
    "D",
    "tls",
    "tlsverify",
    "icc",
    "ip-forward",
    "ip-masq",
    "iptables",
    "ip6tables",
    "ipv6",
    "live-restore",
    "no-new-privileges",
    "selinux-enabled",
    "userland-proxy",
    "experimental",
    "raw-logs",
    "init",
    "rootless",
    "validate",
    "version",
    "v",
    "help",
    "disable-legacy-registry",
    "ip-forward-no-drop",
    "allow-nondistributable-artifacts-all",
];

pub const DOCKERD_FLAG_SPEC: FlagSpec<'static> = FlagSpec {
    booleans: DOCKERD_BOOLEAN_FLAGS,
    short: &[
        ("H", "host"),
        ("D", "debug"),
        ("G", "group"),
        ("g", "graph"),
        ("l", "log-level"),
        ("p", "pidfile"),
        ("b", "bridge"),
        ("s", "storage-driver"),
    ],
};

/// Parse dockerd's command line (arguments after argv\[0\]).
pub fn parse_dockerd_flags(args: &[String]) -> Flags {
    Flags::parse(args, DOCKERD_FLAG_SPEC)
}

/// One daemon setting and where its value came from. dockerd refuses to start when a setting is
/// given both as a flag and in daemon.json, so at most one source applies; when both appear (a
/// daemon started before daemon.json was edited) the flag is what runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub value: serde_json::Value,
    /// `flag --icc` or `daemon.json icc`.
    pub source: String,
}

/// The daemon's effective settings: flags and daemon.json merged under one set of names (the
/// daemon.json key names).
#[derive(Debug, Clone, Default)]
pub struct DaemonSettings {
    flags: Flags,
    config: Option<serde_json::Value>,
    config_path: String,
}

/// daemon.json keys whose command-line flag has a different name or accumulates.
const FLAG_FOR_KEY: &[(&str, &str)] = &[
    ("hosts", "host"),
    ("insecure-registries", "insecure-registry"),
    ("authorization-plugins", "authorization-plugin"),
    ("default-ulimits", "default-ulimit"),
    ("storage-opts", "storage-opt"),
    ("log-opts", "log-opt"),
    ("registry-mirrors", "registry-mirror"),
    ("labels", "label"),
    ("dns", "dns"),
];

const ACCUMULATING_KEYS: &[&str] = &[
    "hosts",
    "insecure-registries",
    "authorization-plugins",
    "default-ulimits",
    "storage-opts",
    "log-opts",
    "registry-mirrors",
    "labels",
    "dns",
];

impl DaemonSettings {
    pub fn new(
        flags: Flags,
        config: Option<serde_json::Value>,
        config_path: impl Into<String>,
    ) -> Self {
        DaemonSettings {
            flags,
            config,
            config_path: config_path.into(),
        }
    }

    pub fn from_facts(d: &DaemonFacts) -> Self {
        DaemonSettings::new(
            d.flags.clone(),
            d.config.value().cloned().flatten(),
            d.config_path.clone(),
        )
    }

    /// The command-line flag (without `--`) that sets the daemon.json key `key`.
    pub fn flag_name(key: &str) -> &str {
        FLAG_FOR_KEY
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, f)| *f)
            .unwrap_or(key)
    }

    /// The setting for a daemon.json key, from the command line or daemon.json. Lists and maps
    /// (hosts, log-opts, ...) come back as JSON arrays; for log-opts/storage-opts each item is
    /// `k=v`.
    pub fn get(&self, key: &str) -> Option<Setting> {
        let flag = Self::flag_name(key);
        if self.flags.has(flag) {
            let value = if ACCUMULATING_KEYS.contains(&key) {
                serde_json::Value::Array(
                    self.flags
                        .all(flag)
                        .into_iter()
                        .map(serde_json::Value::String)
                        .collect(),
                )
            } else {
                let v = self.flags.last(flag).unwrap_or_default();
                match crate::flags::parse_go_bool(&v) {
                    Some(b) if DOCKERD_BOOLEAN_FLAGS.contains(&flag) => serde_json::Value::Bool(b),
                    _ => serde_json::Value::String(v),
                }
            };
            return Some(Setting {
                value,
                source: format!("flag --{flag}"),
            });
        }
        let v = self.config.as_ref()?.get(key)?;
        let value = match v {
            // log-opts and storage-opts are maps in daemon.json ("log-opts": {"max-size": "10m"}),
            // lists in some older files; present both as `k=v` items.
            serde_json::Value::Object(m)
                if key == "log-opts" || key == "storage-opts" || key == "default-ulimits" =>
            {
                if key == "default-ulimits" {
                    v.clone()
                } else {
                    serde_json::Value::Array(
                        m.iter()
                            .map(|(k, v)| {
                                serde_json::Value::String(format!(
                                    "{k}={}",
                                    v.as_str()
                                        .map(String::from)
                                        .unwrap_or_else(|| v.to_string())
                                ))
                            })
                            .collect(),
                    )
                }
            }
            other => other.clone(),
        };
        Some(Setting {
            value,
            source: format!("{} {key}", self.config_path_label()),
        })
    }

    /// How a setting read from daemon.json names its source (`/etc/docker/daemon.json icc`):
    /// this prefix.
    pub fn config_path_label(&self) -> &str {
        if self.config_path.is_empty() {
            "daemon.json"
        } else {
            &self.config_path
        }
    }

    /// A boolean setting. daemon.json booleans may be JSON booleans or (wrongly) strings; both
    /// are read as dockerd reads them.
    pub fn bool(&self, key: &str) -> Option<(bool, String)> {
        let s = self.get(key)?;
        let b = match &s.value {
            serde_json::Value::Bool(b) => Some(*b),
            serde_json::Value::String(v) => crate::flags::parse_go_bool(v),
            _ => None,
        }?;
        Some((b, s.source))
    }

    /// A string setting.
    pub fn string(&self, key: &str) -> Option<(String, String)> {
        let s = self.get(key)?;
        let v = match &s.value {
            serde_json::Value::String(v) => v.clone(),
            serde_json::Value::Null => return None,
            other => other.to_string(),
        };
        Some((v, s.source))
    }

    /// A list setting (hosts, insecure-registries, authorization-plugins, ...), empty when unset.
    pub fn list(&self, key: &str) -> (Vec<String>, Option<String>) {
        match self.get(key) {
            Some(Setting {
                value: serde_json::Value::Array(a),
                source,
            }) => (
                a.iter()
                    .map(|v| {
                        v.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect(),
                Some(source),
            ),
            Some(Setting {
                value: serde_json::Value::String(s),
                source,
            }) => (vec![s], Some(source)),
            Some(Setting {
                value: serde_json::Value::Object(m),
                source,
            }) => (m.keys().cloned().collect(), Some(source)),
            Some(_) | None => (Vec::new(), None),
        }
    }

    pub fn flags(&self) -> &Flags {
        &self.flags
    }

    pub fn config(&self) -> Option<&serde_json::Value> {
        self.config.as_ref()
    }
}

/// Where the system manager looks for unit files, in its precedence order (`man systemd.unit`,
/// "Unit File Load Path"; `systemd-analyze unit-paths`): the first directory holding a unit's
/// file wins. `/lib/systemd/system` is where a Debian system without merged /usr installs
/// packaged units (on a merged-/usr system it is `/usr/lib/systemd/system` itself).
pub const SYSTEMD_UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/run/systemd/generator.late",
];

/// A value of a unit setting and the file (unit file or drop-in) that set it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitValue {
    pub value: String,
    pub file: String,
}

/// A socket unit (docker.socket) as systemd loads it: its file, its drop-ins applied in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SocketUnit {
    /// The unit file.
    pub file: String,
    /// Its drop-ins, in the order they apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropins: Vec<String>,
    /// `ListenStream=` values in force (an empty assignment empties the list), specifiers
    /// `%t` and `%%` expanded.
    #[serde(default)]
    pub listen_streams: Vec<UnitValue>,
    /// The other `Listen*=` settings in force (`ListenDatagram=`, `ListenFIFO=`, ...), as
    /// `KEY=VALUE`: systemd passes them to the service as file descriptors too, interleaved
    /// with the streams in unit order, so with any of them `fd://N` cannot be told apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_listens: Vec<UnitValue>,
    /// `SocketUser=`, `SocketGroup=`, `SocketMode=` (the last assignment wins; unset: systemd
    /// creates the socket as root:root, mode 0666).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_user: Option<UnitValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_group: Option<UnitValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_mode: Option<UnitValue>,
}

impl SocketUnit {
    /// Parse the `[Socket]` settings of a socket unit from its file and drop-ins, given in the
    /// order systemd applies them as `(path, text)`. `runtime_dir` is what `%t` stands for
    /// (`/run` for the system manager).
    pub fn parse(files: &[(String, String)], runtime_dir: &str) -> SocketUnit {
        let mut unit = SocketUnit {
            file: files.first().map(|(p, _)| p.clone()).unwrap_or_default(),
            dropins: files.iter().skip(1).map(|(p, _)| p.clone()).collect(),
            ..Default::default()
        };
        for (path, text) in files {
            let mut section = String::new();
            // Lines ending in a backslash continue on the next line.
            let mut logical = String::new();
            for raw in text.lines() {
                if let Some(part) = raw.strip_suffix('\\') {
                    logical.push_str(part);
                    logical.push(' ');
                    continue;
                }
                logical.push_str(raw);
                let line = std::mem::take(&mut logical);
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                    continue;
                }
                if line.starts_with('[') {
                    section = line.trim_matches(|c| c == '[' || c == ']').to_string();
                    continue;
                }
                if section != "Socket" {
                    continue;
                }
                let Some((key, value)) = line.split_once('=') else {
                    continue;
                };
                let value = expand_specifiers(value.trim(), runtime_dir);
                let at = |value: String| UnitValue {
                    value,
                    file: path.clone(),
                };
                let key = key.trim();
                match key {
                    // systemd: an empty assignment to any Listen setting removes every socket
                    // of the unit, not only those of its own type.
                    k if k.starts_with("Listen") && value.is_empty() => {
                        unit.listen_streams.clear();
                        unit.other_listens.clear();
                    }
                    "ListenStream" => unit.listen_streams.push(at(value)),
                    "ListenDatagram"
                    | "ListenSequentialPacket"
                    | "ListenFIFO"
                    | "ListenSpecial"
                    | "ListenNetlink"
                    | "ListenMessageQueue"
                    | "ListenUSBFunction" => unit.other_listens.push(at(format!("{key}={value}"))),
                    "SocketUser" => unit.socket_user = (!value.is_empty()).then(|| at(value)),
                    "SocketGroup" => unit.socket_group = (!value.is_empty()).then(|| at(value)),
                    "SocketMode" => unit.socket_mode = (!value.is_empty()).then(|| at(value)),
                    _ => {}
                }
            }
        }
        unit
    }

    /// The `ListenStream=` values that are socket files (absolute paths), with the file that
    /// named each. Addresses, ports and abstract sockets (`@name`) are no files.
    pub fn socket_files(&self) -> impl Iterator<Item = &UnitValue> {
        self.listen_streams
            .iter()
            .filter(|v| v.value.starts_with('/'))
    }

    /// The `ListenStream=` values that are TCP addresses, as `tcp://ADDR:PORT`, with the
    /// setting that named each; see [`listen_stream_tcp`].
    pub fn tcp_listeners(&self) -> impl Iterator<Item = (String, &UnitValue)> {
        self.listen_streams
            .iter()
            .filter_map(|v| listen_stream_tcp(&v.value).map(|h| (h, v)))
    }
}

/// A `ListenStream=` value that is a TCP address, as dockerd's `tcp://ADDR:PORT`: systemd
/// reads `IPv4:PORT`, `[IPv6]:PORT` (an `%iface` scope allowed) and a bare `PORT`. A bare port
/// is bound on every address: systemd makes it `[::]:PORT`, dual-stack (IPv4 too) unless
/// `BindIPv6Only=ipv6-only` or the `net.ipv6.bindv6only` sysctl, and `0.0.0.0:PORT` only when
/// the host has no IPv6; it is recorded as `tcp://[::]:PORT` either way (every address).
/// Paths, abstract sockets (`@name`), `vsock:` and anything else are None.
pub fn listen_stream_tcp(value: &str) -> Option<String> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0);
    if let Some(p) = port(value) {
        return Some(format!("tcp://[::]:{p}"));
    }
    if let Some(rest) = value.strip_prefix('[') {
        let (addr, p) = rest.split_once("]:")?;
        let ip = addr.split('%').next().unwrap_or(addr);
        ip.parse::<std::net::Ipv6Addr>().ok()?;
        return Some(format!("tcp://[{addr}]:{}", port(p)?));
    }
    let (addr, p) = value.rsplit_once(':')?;
    addr.parse::<std::net::Ipv4Addr>().ok()?;
    Some(format!("tcp://{addr}:{}", port(p)?))
}

/// The specifiers a socket path may use: `%t` (the runtime directory) and `%%`.
fn expand_specifiers(value: &str, runtime_dir: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('%', Some('t')) => {
                out.push_str(runtime_dir);
                chars.next();
            }
            ('%', Some('%')) => {
                out.push('%');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The unix sockets the daemon listens on, the TCP listeners socket activation gives it, and
/// where each was named: `unix://` addresses of its `hosts` (flag or daemon.json), the
/// `ListenStream=` sockets of its socket unit for `fd://` (socket activation; without a unit,
/// the default socket, said to be assumed), the default socket when no address is given. TCP
/// addresses of `hosts` itself are not returned (they are `tcp_hosts` already, named by
/// `hosts`).
///
/// `fd://N` (dockerd keeps only the socket systemd passed as descriptor N and closes the
/// rest) is modelled as the unit's `ListenStream=` number N-2 in unit order (systemd passes
/// a unit's sockets from descriptor 3 in the order of its Listen lines). When that cannot be
/// told (other Listen settings in the unit, N out of range or not a number) every socket of
/// the unit is taken, and the source says so.
///
/// TLS: with `fd://` dockerd wraps every TCP socket it is passed in TLS when its TLS settings
/// (`--tls`/`--tlsverify` flags or daemon.json `tls`/`tlsverify`, with the tlscacert,
/// tlscert and tlskey files) are on, exactly as for `tcp://`: its `listenFD` hands its TLS
/// configuration to go-systemd's `activation.TLSListeners`, which calls `tls.NewListener` on
/// each listener whose network is `tcp` (unix sockets stay plain), and client certificates
/// are required when tlsverify is on. Without those settings a TCP socket from socket
/// activation is plain HTTP, and dockerd neither warns nor refuses to start for it (its
/// "binding to IP address without --tlsverify" warning and refusal look at `tcp://` hosts
/// only). So a socket-activated TCP listener is judged by the same TLS settings as a
/// `tcp://` host.
pub fn resolve_sockets(
    settings: &DaemonSettings,
    default_socket: &str,
    socket_unit: Option<&SocketUnit>,
) -> (Vec<String>, Vec<String>, BTreeMap<String, String>) {
    let (hosts, source) = settings.list("hosts");
    let source = source.unwrap_or_default();
    let mut sockets: Vec<String> = Vec::new();
    let mut tcp: Vec<String> = Vec::new();
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |path: String, from: String, tcp_host: bool| {
        let list = if tcp_host { &mut tcp } else { &mut sockets };
        if !list.contains(&path) && !(tcp_host && hosts.contains(&path)) {
            list.push(path.clone());
            sources.insert(path, from);
        }
    };
    for h in &hosts {
        if let Some(p) = h.strip_prefix("unix://") {
            let path = if p.is_empty() { default_socket } else { p };
            add(path.to_string(), source.clone(), false);
        } else if let Some(fd) = h.strip_prefix("fd://") {
            match socket_unit {
                // systemd loads no socket unit without a Listen setting: what made the socket
                // dockerd got is not this file.
                Some(unit) if unit.listen_streams.is_empty() => add(
                    default_socket.to_string(),
                    format!(
                        "assumed: {source} is {h} (socket activation) but {} sets no ListenStream=, so dockerd's default",
                        unit.file
                    ),
                    false,
                ),
                Some(unit) => {
                    let all = || unit.listen_streams.iter().collect::<Vec<_>>();
                    let (streams, how) = if fd.is_empty() || fd == "*" {
                        (all(), format!("socket activation: {source} is {h}"))
                    } else {
                        let index = fd.parse::<usize>().ok().and_then(|n| n.checked_sub(3));
                        match index {
                            Some(i)
                                if unit.other_listens.is_empty()
                                    && i < unit.listen_streams.len() =>
                            {
                                (
                                    vec![&unit.listen_streams[i]],
                                    format!(
                                        "socket activation: {source} is {h}, the unit's ListenStream= number {}, as systemd passes its sockets from descriptor 3 in unit order, assuming docker.socket is the only socket unit of docker.service",
                                        i + 1
                                    ),
                                )
                            }
                            _ => (
                                all(),
                                format!(
                                    "socket activation: {source} is {h}, one descriptor, but which socket of the unit it is cannot be told (other Listen settings, or no such ListenStream=), so all of them are assumed"
                                ),
                            ),
                        }
                    };
                    for v in streams {
                        let from = format!("ListenStream= in {} ({how})", v.file);
                        if v.value.starts_with('/') {
                            add(v.value.clone(), from, false);
                        } else if let Some(host) = listen_stream_tcp(&v.value) {
                            let from = if host.starts_with("tcp://[::]:")
                                && !v.value.starts_with('[')
                            {
                                format!(
                                    "ListenStream={} in {} ({how}; a bare port: systemd binds every address, IPv6 and IPv4)",
                                    v.value, v.file
                                )
                            } else {
                                format!("ListenStream={} in {} ({how})", v.value, v.file)
                            };
                            add(host, from, true);
                        }
                    }
                }
                None => add(
                    default_socket.to_string(),
                    format!(
                        "assumed: {source} is {h} (socket activation) but no docker.socket unit was read, so dockerd's default"
                    ),
                    false,
                ),
            }
        }
    }
    if hosts.is_empty() {
        add(
            default_socket.to_string(),
            "dockerd's default (no -H flag, no hosts in daemon.json)".into(),
            false,
        );
    }
    (sockets, tcp, sources)
}

/// Default locations for rootful Docker.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
pub const DEFAULT_CONFIG_FILE: &str = "/etc/docker/daemon.json";
pub const DEFAULT_DATA_ROOT: &str = "/var/lib/docker";
pub const DEFAULT_EXEC_ROOT: &str = "/var/run/docker";
pub const DEFAULT_CONTAINERD_SOCKET: &str = "/run/containerd/containerd.sock";

/// Resolve the daemon's paths from its settings. `rootless_home` is the home directory of the
/// user running a rootless daemon (its XDG locations then apply), and `rootless_runtime_dir` that
/// user's `XDG_RUNTIME_DIR`.
pub fn resolve_paths(settings: &DaemonSettings, rootless: Option<(&str, &str)>) -> DockerPaths {
    let (default_socket, default_config, default_data, default_exec) = match rootless {
        Some((home, run)) => (
            format!("{run}/docker.sock"),
            format!("{home}/.config/docker/daemon.json"),
            format!("{home}/.local/share/docker"),
            format!("{run}/docker"),
        ),
        None => (
            DEFAULT_SOCKET.to_string(),
            DEFAULT_CONFIG_FILE.to_string(),
            DEFAULT_DATA_ROOT.to_string(),
            DEFAULT_EXEC_ROOT.to_string(),
        ),
    };
    let (hosts, _) = settings.list("hosts");
    let tcp_hosts = hosts
        .iter()
        .filter(|h| h.starts_with("tcp://") || h.starts_with("http://"))
        .cloned()
        .collect();
    // Socket activation (`fd://`) is resolved through the socket unit by the collector, which
    // reads it; without it, the default socket is assumed and said to be.
    let (sockets, _, socket_sources) = resolve_sockets(settings, &default_socket, None);
    let data_root = settings
        .string("data-root")
        .or_else(|| settings.string("graph"))
        .map(|(v, _)| v)
        .unwrap_or(default_data);
    let exec_root = settings
        .string("exec-root")
        .map(|(v, _)| v)
        .unwrap_or(default_exec);
    let containerd_socket = settings.string("containerd").map(|(v, _)| v).or_else(|| {
        if rootless.is_some() {
            None
        } else {
            Some(DEFAULT_CONTAINERD_SOCKET.to_string())
        }
    });
    let config_file = settings
        .flags()
        .last("config-file")
        .unwrap_or(default_config);
    let config_dir = match rootless {
        Some((home, _)) => format!("{home}/.config/docker"),
        None => "/etc/docker".to_string(),
    };
    DockerPaths {
        sockets,
        tcp_hosts,
        data_root,
        exec_root,
        containerd_socket,
        certs_dir: format!("{config_dir}/certs.d"),
        config_dir,
        config_file,
        tls_ca: settings.string("tlscacert").map(|(v, _)| v),
        tls_cert: settings.string("tlscert").map(|(v, _)| v),
        tls_key: settings.string("tlskey").map(|(v, _)| v),
        units: BTreeMap::new(),
        socket_sources,
        socket_unit: None,
        unit_dropins: BTreeMap::new(),
        default_env_files: vec!["/etc/default/docker".into(), "/etc/sysconfig/docker".into()],
        containerd_config: "/etc/containerd/config.toml".into(),
        binaries: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// daemon.json newer than the daemon by more than the margin a start time needs.
    #[test]
    fn config_changed_after_start_needs_both_times_and_a_margin() {
        let at = |started: Option<&str>, modified: Option<&str>| DaemonFacts {
            started_at: started.map(String::from),
            config_modified_at: modified.map(String::from),
            ..Default::default()
        };
        let started = Some("2026-11-28T10:00:00Z");
        assert_eq!(
            at(started, Some("2026-11-28T10:05:00Z")).config_changed_after_start(),
            Some(("2026-11-28T10:05:00Z", "2026-11-28T10:00:00Z"))
        );
        assert_eq!(
            at(started, Some("2026-11-28T10:00:02Z")).config_changed_after_start(),
            None
        );
        assert_eq!(
            at(started, Some("2026-11-28T09:00:00Z")).config_changed_after_start(),
            None
        );
        assert_eq!(
            at(None, Some("2026-11-28T10:05:00Z")).config_changed_after_start(),
            None
        );
        assert_eq!(at(started, None).config_changed_after_start(), None);
    }

    fn flags(s: &str) -> Flags {
        parse_dockerd_flags(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn container_inspect_with_null_lists_and_maps_reads_them_as_empty() {
        // As dockerd 20.10 writes it for a container of an image without environment, labels
        // or health check test: Go's nil slices and maps come out as null.
        let text = r#"{"Id":"abc","Name":"/web","Mounts":null,
            "Config":{"Env":null,"Labels":null,"Cmd":null,"Healthcheck":{"Test":null}},
            "HostConfig":{"CapAdd":null,"Binds":null}}"#;
        let c: Container = serde_json::from_str(text).expect("null lists and maps are accepted");
        assert_eq!(c.name, "/web");
        assert!(c.mounts.is_empty());
        assert!(c.config.env.is_empty());
        assert!(c.config.labels.is_empty());
        assert_eq!(c.config.cmd, None);
        assert_eq!(c.config.healthcheck.map(|h| h.test), Some(vec![]));
        assert_eq!(c.host_config.cap_add, None);
        // A value that is there is still read.
        let c: Container = serde_json::from_value(json!({"Config": {"Env": ["A=1"]}})).unwrap();
        assert_eq!(c.config.env, vec!["A=1".to_string()]);
    }

    #[test]
    fn flag_beats_missing_json_key() {
        // PITFALL 2.3: --log-level=debug on the command line must be seen even though
        // daemon.json has no log-level key.
        let s = DaemonSettings::new(
            flags("--log-level=debug"),
            Some(json!({"icc": false})),
            "/etc/docker/daemon.json",
        );
        assert_eq!(s.string("log-level").unwrap().0, "debug");
        assert_eq!(
            s.bool("icc").unwrap(),
            (false, "/etc/docker/daemon.json icc".to_string())
        );
    }

    #[test]
    fn listen_stream_tcp_addresses() {
        assert_eq!(
            listen_stream_tcp("2375").as_deref(),
            Some("tcp://[::]:2375")
        );
        assert_eq!(
            listen_stream_tcp("0.0.0.0:2376").as_deref(),
            Some("tcp://0.0.0.0:2376")
        );
        assert_eq!(
            listen_stream_tcp("[::]:2375").as_deref(),
            Some("tcp://[::]:2375")
        );
        assert_eq!(
            listen_stream_tcp("127.0.0.1:2375").as_deref(),
            Some("tcp://127.0.0.1:2375")
        );
        for not_tcp in [
            "/run/docker.sock",
            "@abstract",
            "vsock:2:1234",
            "host:2375",
            "0",
        ] {
            assert_eq!(listen_stream_tcp(not_tcp), None, "{not_tcp}");
        }
        // An empty assignment to any Listen setting removes every socket.
        let unit = SocketUnit::parse(
            &[(
                "/u".into(),
                "[Socket]\nListenStream=2375\nListenDatagram=\nListenStream=/run/d.sock\n".into(),
            )],
            "/run",
        );
        assert_eq!(unit.listen_streams.len(), 1);
        assert_eq!(unit.tcp_listeners().count(), 0);
    }

    #[test]
    fn tls_from_daemon_json() {
        let s = DaemonSettings::new(
            flags(""),
            Some(
                json!({"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"], "tlsverify": true, "tlscacert": "/etc/docker/ca.pem", "tlscert": "/etc/docker/cert.pem", "tlskey": "/etc/docker/key.pem"}),
            ),
            "/etc/docker/daemon.json",
        );
        let p = resolve_paths(&s, None);
        assert_eq!(p.tcp_hosts, vec!["tcp://0.0.0.0:2376"]);
        assert_eq!(p.tls_ca.as_deref(), Some("/etc/docker/ca.pem"));
        assert!(s.bool("tlsverify").unwrap().0);
    }

    #[test]
    fn paths_follow_configuration() {
        let s = DaemonSettings::new(
            flags("-H unix:///tmp/d.sock --data-root /srv/docker --config-file /opt/d.json --containerd /run/c.sock"),
            None,
            "/opt/d.json",
        );
        let p = resolve_paths(&s, None);
        assert_eq!(p.sockets, vec!["/tmp/d.sock"]);
        assert_eq!(p.data_root, "/srv/docker");
        assert_eq!(p.config_file, "/opt/d.json");
        assert_eq!(p.containerd_socket.as_deref(), Some("/run/c.sock"));
        let r = resolve_paths(
            &DaemonSettings::default(),
            Some(("/home/u", "/run/user/1000")),
        );
        assert_eq!(r.sockets, vec!["/run/user/1000/docker.sock"]);
        assert_eq!(r.config_file, "/home/u/.config/docker/daemon.json");
        assert_eq!(r.data_root, "/home/u/.local/share/docker");
    }

    #[test]
    fn log_opts_map_is_listed() {
        let s = DaemonSettings::new(
            flags(""),
            Some(json!({"log-opts": {"max-size": "10m"}, "cgroup-parent": "/x"})),
            "",
        );
        assert_eq!(s.list("log-opts").0, vec!["max-size=10m"]);
        assert_eq!(s.string("cgroup-parent").unwrap().0, "/x");
    }
}
