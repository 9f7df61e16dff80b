//! Facts about a Kubernetes node and its cluster, filled by the Kubernetes collector.
//!
//! This module owns the model (components found by executable name, their flags, environment and
//! configuration files, the kubelet configuration the kubelet really uses, the paths the running
//! configuration points at, the platform, the benchmark choice, the targets, the encryption
//! configuration and the cluster dump) and the pure rules that read it: which setting wins
//! (command line over environment over file over default), how kubelet drop-ins merge, which
//! encryption provider protects secrets. Nothing here performs I/O.

use crate::flags::{parse_go_bool, FlagSpec, Flags};
use crate::host::Process;
use crate::mask;
use crate::Fact;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The benchmark bulkhead evaluates Kubernetes nodes against.
pub const BENCHMARK_ID: &str = "cis-kubernetes";
/// Its edition (cis-1.12 uses the check IDs of CIS Kubernetes 2.0).
pub const BENCHMARK_VERSION: &str = "1.12";

pub const APISERVER: &str = "kube-apiserver";
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";
pub const SCHEDULER: &str = "kube-scheduler";
pub const ETCD: &str = "etcd";
pub const KUBELET: &str = "kubelet";
pub const PROXY: &str = "kube-proxy";

/// Every node component bulkhead looks for, by executable name.
pub const COMPONENTS: [&str; 6] = [
    APISERVER,
    CONTROLLER_MANAGER,
    SCHEDULER,
    ETCD,
    KUBELET,
    PROXY,
];

/// The benchmark's target groups, in report order.
pub const TARGETS: [&str; 5] = ["master", "etcd", "controlplane", "node", "policies"];

/// Everything the Kubernetes collector learned about this node (and the cluster dump, if given).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KubeFacts {
    pub platform: Platform,
    /// The Kubernetes version, when something on the node tells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionFact>,
    /// Which benchmark was used, and why.
    pub benchmark: BenchmarkChoice,
    pub targets: Targets,
    /// Components found running, keyed by component name (`kube-apiserver`, `etcd`, ...). A
    /// component that is not running is absent; `absent` says why for each one.
    pub components: BTreeMap<String, Component>,
    /// Component name -> why it is not in `components` (no such process on this node).
    #[serde(default)]
    pub absent: BTreeMap<String, String>,
    /// The kubelet's configuration as the kubelet reads it: `--config`, then `--config-dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet: Option<KubeletConfig>,
    /// kube-proxy's `--config` file, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_config: Option<ConfigFile>,
    /// Files the checks judge, by role (`apiserver_manifest`, `kubelet_kubeconfig`, ...): where the
    /// running configuration points, else the platform's conventional path. Their stats are in
    /// `HostFacts.files`.
    pub paths: BTreeMap<String, ResolvedPath>,
    /// Files the checks judge as a set, by role (`pki`, `cni`, `kubelet_service`): every path
    /// found, each also in `HostFacts.files`.
    #[serde(default)]
    pub file_sets: BTreeMap<String, FileSet>,
    /// The EncryptionConfiguration named by the API server's `--encryption-provider-config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Fact<EncryptionConfig>>,
    /// The AuthenticationConfiguration named by the API server's `--authentication-config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Fact<AuthenticationConfig>>,
    /// The AuthorizationConfiguration named by the API server's `--authorization-config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Fact<AuthorizationConfig>>,
    /// Roles of `paths` (and `file_sets`) whose location cannot be known, with why: a k3s data
    /// directory given as a relative path when k3s's working directory cannot be read, so no
    /// path under it stands in for the file. The checks of those roles are errors saying so.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unknown_paths: BTreeMap<String, String>,
    /// Cluster objects from `--cluster-dump` (policies, section 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<Fact<ClusterDump>>,
}

impl KubeFacts {
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.get(name)
    }

    pub fn path(&self, role: &str) -> Option<&ResolvedPath> {
        self.paths.get(role)
    }

    /// Is `target` among the targets being audited?
    pub fn target_selected(&self, target: &str) -> bool {
        self.targets.selected.iter().any(|t| t == target)
    }

    /// Replace the detected targets by an explicit list (`--targets`). Unknown names are an error
    /// naming the known ones.
    pub fn select_targets(&mut self, list: &[String]) -> Result<(), String> {
        let mut selected = Vec::new();
        for t in list.iter().flat_map(|t| t.split(',')).map(str::trim) {
            if t.is_empty() {
                continue;
            }
            if !TARGETS.contains(&t) {
                return Err(format!(
                    "--targets: unknown target {t:?} (known: {})",
                    TARGETS.join(", ")
                ));
            }
            if !selected.iter().any(|s| s == t) {
                selected.push(t.to_string());
            }
        }
        selected.sort_by_key(|t| TARGETS.iter().position(|k| k == t));
        self.targets.selected = selected;
        self.targets.source = "--targets".into();
        Ok(())
    }

    /// The kubelet's effective value for `key`, with where it came from, or why it cannot be
    /// known; None when no kubelet runs.
    pub fn kubelet_setting(&self, key: &KubeletKey) -> Option<Result<Setting, String>> {
        let kubelet = self.component(KUBELET)?;
        Some(kubelet_setting(kubelet, self.kubelet.as_ref(), key))
    }

    /// The running kubelet's value of a feature gate (see [`kubelet_feature_gate`]).
    pub fn kubelet_feature_gate(
        &self,
        gate: &str,
        default: bool,
    ) -> Option<Result<Setting, String>> {
        let kubelet = self.component(KUBELET)?;
        Some(kubelet_feature_gate(
            kubelet,
            self.kubelet.as_ref(),
            gate,
            default,
        ))
    }

    /// A kubelet configuration file (`--config` or a drop-in) changed after the running kubelet
    /// started: `(path, modified, started)`. The kubelet reads them only when it starts, so a
    /// setting that is not on its command line is then not necessarily the one in force.
    pub fn kubelet_config_changed_after_start(&self) -> Option<(&str, &str, &str)> {
        let started = self.component(KUBELET)?.started_at.as_deref()?;
        let config = self.kubelet.as_ref()?;
        config
            .file
            .iter()
            .chain(config.drop_ins.iter())
            .find_map(|f| {
                let modified = f.modified_at.as_deref()?;
                crate::time::changed_after(modified, started).then_some((
                    f.path.as_str(),
                    modified,
                    started,
                ))
            })
    }
}

/// The Kubernetes version and what told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionFact {
    pub version: String,
    /// e.g. `image of /etc/kubernetes/manifests/kube-apiserver.yaml`.
    pub source: String,
}

/// What kind of Kubernetes this node belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `kubeadm`, `k3s`, `rke2`, `eks`, `gke`, `aks` or `generic`.
    pub kind: String,
    /// True for a provider-managed control plane (EKS, GKE, AKS): the master, etcd and
    /// control-plane checks belong to the provider.
    pub managed: bool,
    /// What was seen that says so (a file, a process, a node label).
    pub evidence: Vec<String>,
}

impl Platform {
    /// The provider's name for messages: `Amazon EKS`, `Google GKE`, `Azure AKS`.
    pub fn provider_name(&self) -> &str {
        match self.kind.as_str() {
            "eks" => "Amazon EKS",
            "gke" => "Google GKE",
            "aks" => "Azure AKS",
            "k3s" => "k3s",
            "rke2" => "RKE2",
            "kubeadm" => "kubeadm",
            _ => "Kubernetes",
        }
    }

    /// Decide the platform from markers seen on the node: files that exist (host paths), names of
    /// running programs, and node labels / provider IDs from the cluster dump. The first strong
    /// marker wins; managed providers are checked first because a managed node may also carry
    /// kubeadm-like files.
    pub fn detect(files: &[String], programs: &[String], node_markers: &[String]) -> Platform {
        let has_file = |p: &str| {
            files
                .iter()
                .any(|f| f == p || f.starts_with(&format!("{p}/")))
        };
        let has_prog = |p: &str| programs.iter().any(|x| x == p);
        let node = |prefix: &str| node_markers.iter().find(|m| m.contains(prefix)).cloned();
        let found = |kind: &str, managed: bool, evidence: Vec<String>| -> Option<Platform> {
            (!evidence.is_empty()).then(|| Platform {
                kind: kind.into(),
                managed,
                evidence,
            })
        };
        let managed_checks: [(&str, &[&str], &[&str]); 3] = [
            (
                "eks",
                &["/etc/eks", "/etc/kubernetes/kubelet/kubelet-config.json"],
                &["aws://", "eks.amazonaws.com/"],
            ),
            (
                "gke",
                &["/home/kubernetes/kubelet-config.yaml", "/etc/gke"],
                &["gce://", "cloud.google.com/gke-"],
            ),
            (
                "aks",
                &["/etc/kubernetes/azure.json", "/var/lib/azure"],
                &["azure://", "kubernetes.azure.com/"],
            ),
        ];
        for (kind, paths, markers) in managed_checks {
            let mut ev: Vec<String> = paths
                .iter()
                .filter(|p| has_file(p))
                .map(|p| format!("file {p}"))
                .collect();
            ev.extend(
                markers
                    .iter()
                    .filter_map(|m| node(m))
                    .map(|m| format!("node {m}")),
            );
            if let Some(p) = found(kind, true, ev) {
                return p;
            }
        }
        for (kind, prog, paths) in [
            ("k3s", "k3s", ["/etc/rancher/k3s", "/var/lib/rancher/k3s"]),
            (
                "rke2",
                "rke2",
                ["/etc/rancher/rke2", "/var/lib/rancher/rke2"],
            ),
        ] {
            let mut ev: Vec<String> = Vec::new();
            if has_prog(prog) {
                ev.push(format!("process {prog}"));
            }
            ev.extend(
                paths
                    .iter()
                    .filter(|p| has_file(p))
                    .map(|p| format!("file {p}")),
            );
            if let Some(p) = found(kind, false, ev) {
                return p;
            }
        }
        let kubeadm: Vec<String> = [
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            "/etc/kubernetes/kubelet.conf",
            "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "/var/lib/kubelet/kubeadm-flags.env",
        ]
        .iter()
        .filter(|p| has_file(p))
        .map(|p| format!("file {p}"))
        .collect();
        if let Some(p) = found("kubeadm", false, kubeadm) {
            return p;
        }
        Platform {
            kind: "generic".into(),
            managed: false,
            evidence: vec!["no platform marker found".into()],
        }
    }
}

/// The benchmark used and the reason it was chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchmarkChoice {
    pub id: String,
    pub version: String,
    pub reason: String,
}

impl BenchmarkChoice {
    /// cis-1.12 is the one edition bulkhead carries; the reason says so, with the version and
    /// platform that were detected, rather than silently falling back as kube-bench does.
    pub fn choose(version: Option<&VersionFact>, platform: &Platform) -> BenchmarkChoice {
        let mut reason = format!(
            "CIS Kubernetes Benchmark {BENCHMARK_VERSION} (check IDs of 2.0) is the edition bulkhead carries"
        );
        match version {
            Some(v) => reason.push_str(&format!(
                "; Kubernetes {} detected from {}",
                v.version, v.source
            )),
            None => reason.push_str("; the Kubernetes version could not be read on this node"),
        }
        if platform.managed {
            reason.push_str(&format!(
                "; {} manages the control plane, so its master, etcd and control-plane checks are not applicable here",
                platform.provider_name()
            ));
        } else if matches!(platform.kind.as_str(), "k3s" | "rke2") {
            reason.push_str(&format!(
                "; {} layout recognised: its own paths are used",
                platform.provider_name()
            ));
        }
        BenchmarkChoice {
            id: BENCHMARK_ID.into(),
            version: BENCHMARK_VERSION.into(),
            reason,
        }
    }
}

/// Which target groups are audited, and why each was detected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// Target -> what on the node makes it apply.
    pub detected: BTreeMap<String, String>,
    pub selected: Vec<String>,
    /// `detected` or `--targets`.
    pub source: String,
}

impl Targets {
    /// Detect targets from the running components and the presence of a cluster dump.
    pub fn detect(components: &BTreeMap<String, Component>, has_dump: bool) -> Targets {
        let running = |c: &str| components.contains_key(c);
        let mut detected = BTreeMap::new();
        let masters: Vec<&str> = [APISERVER, CONTROLLER_MANAGER, SCHEDULER]
            .into_iter()
            .filter(|c| running(c))
            .collect();
        if !masters.is_empty() {
            detected.insert("master".into(), format!("{} running", masters.join(", ")));
        }
        if running(ETCD) {
            detected.insert("etcd".into(), "etcd running".into());
        }
        if running(APISERVER) {
            detected.insert("controlplane".into(), "kube-apiserver running".into());
        }
        let nodes: Vec<&str> = [KUBELET, PROXY]
            .into_iter()
            .filter(|c| running(c))
            .collect();
        if !nodes.is_empty() {
            detected.insert("node".into(), format!("{} running", nodes.join(", ")));
        }
        if has_dump {
            detected.insert("policies".into(), "cluster dump given".into());
        }
        let selected = TARGETS
            .iter()
            .filter(|t| detected.contains_key(**t))
            .map(|t| t.to_string())
            .collect();
        Targets {
            detected,
            selected,
            source: "detected".into(),
        }
    }
}

/// A path the checks judge and where bulkhead learned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedPath {
    pub path: String,
    /// `kubelet --kubeconfig`, `kube-apiserver --client-ca-file`, `kubeadm default`, ...
    pub source: String,
    /// True when the running configuration names this path (a missing file then means bulkhead
    /// cannot see what the component reads); false for a conventional default (a missing file
    /// then means the layout does not use it).
    #[serde(default)]
    pub configured: bool,
}

impl ResolvedPath {
    /// A path named by the running configuration.
    pub fn configured(path: impl Into<String>, source: impl Into<String>) -> Self {
        ResolvedPath {
            path: path.into(),
            source: source.into(),
            configured: true,
        }
    }

    /// A conventional path of the platform's layout.
    pub fn conventional(path: impl Into<String>, source: impl Into<String>) -> Self {
        ResolvedPath {
            path: path.into(),
            source: source.into(),
            configured: false,
        }
    }
}

/// A set of files judged together (every file in the PKI directory, every CNI file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSet {
    /// The directories searched and where they came from.
    pub roots: Vec<ResolvedPath>,
    /// Every path found (directories included), each present in `HostFacts.files`.
    pub paths: Vec<String>,
    /// Roots that could not be listed, with the reason (missing directories are not listed here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unreadable: BTreeMap<String, String>,
}

/// A configuration file and its parsed content (YAML read into JSON values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    pub path: String,
    /// What named it: `kubelet --config`, `kubelet --config-dir`, `etcd --config-file`.
    pub source: String,
    /// The parsed document, secret values masked; unavailable with the reason (missing, malformed).
    pub content: Fact<Value>,
    /// When the file was last modified (RFC 3339, whole seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<String>,
}

/// A value that was read and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub value: String,
    /// `--authorization-mode (command line)`, `ETCD_CLIENT_CERT_AUTH (environment)`,
    /// `authentication.anonymous.enabled (/var/lib/kubelet/config.yaml)`, `default`.
    pub source: String,
    /// True when nothing set it and `value` is the component's built-in default.
    #[serde(default)]
    pub is_default: bool,
}

impl Setting {
    pub fn new(value: impl Into<String>, source: impl Into<String>) -> Self {
        Setting {
            value: value.into(),
            source: source.into(),
            is_default: false,
        }
    }

    pub fn default_value(value: impl Into<String>, why: impl Into<String>) -> Self {
        Setting {
            value: value.into(),
            source: why.into(),
            is_default: true,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        parse_go_bool(self.value.trim())
    }

    /// Comma-separated items, trimmed.
    pub fn items(&self) -> Vec<String> {
        self.value
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// A component found running on the node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// The component name (`kube-controller-manager`, not the 15-byte comm).
    pub name: String,
    /// The process, argv with secret values masked.
    pub process: Process,
    /// The process's working directory (etcd keeps `<name>.etcd` there without `--data-dir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Flags parsed from the command line (every form, last wins), secret values masked.
    pub flags: Flags,
    /// Variables of the process environment this component reads its settings from (`ETCD_*`
    /// for etcd), secret values masked.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Environment files the component's service reads (`/etc/default/etcd`): path -> variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env_files: BTreeMap<String, BTreeMap<String, String>>,
    /// Variables of those environment files that the running process does not have with that
    /// value (etcd only, and only when its environment could be read): path -> variables. They
    /// are not in force; they take effect when the service next starts the process. Kept apart
    /// so that a failing check can say a fix is waiting for a restart.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending_env: BTreeMap<String, BTreeMap<String, String>>,
    /// The component's own configuration file (`etcd --config-file`), when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigFile>,
    /// Files the component's settings come from that could not be read or parsed, path ->
    /// reason (line and column where known): for a component inside k3s, k3s's config.yaml or
    /// a drop-in. Its settings are then unknown.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unusable_config: BTreeMap<String, String>,
    /// Where the flags came from: `process` (its own command line) or, for k3s, the argument
    /// list that passes them in (`k3s --kube-apiserver-arg`).
    #[serde(default = "process_source")]
    pub source: String,
    /// Other processes of the same component (a second kubelet), by pid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_pids: Vec<u32>,
    /// When the process started (RFC 3339, whole seconds), from /proc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
}

fn process_source() -> String {
    "process".into()
}

impl Component {
    /// A short label for evidence: `kube-apiserver (pid 812)`.
    pub fn label(&self) -> String {
        if self.source == "process" {
            format!("{} (pid {})", self.name, self.process.pid)
        } else {
            format!("{} ({})", self.name, self.source)
        }
    }

    /// The value of `flag` (without dashes) as this component sees it: the command line first;
    /// for etcd, a `--config-file` replaces flags and environment, and the `ETCD_*` environment
    /// of the process, then the service's environment files, stand in for missing flags.
    ///
    /// None both when nothing sets it and when it cannot be known (an etcd configuration file
    /// that could not be read); [`Component::try_setting`] tells the two apart.
    pub fn setting(&self, flag: &str) -> Option<Setting> {
        self.try_setting(flag).ok().flatten()
    }

    /// [`Component::setting`], or why the value cannot be known. etcd started with a
    /// `--config-file` (or `ETCD_CONFIG_FILE`) takes every setting from that file and ignores its
    /// flags and `ETCD_*` environment, so when the file could not be read or decoded, every etcd
    /// setting is unknown: the error names the file and says why, and no flag or variable stands
    /// in for it.
    pub fn try_setting(&self, flag: &str) -> Result<Option<Setting>, String> {
        if self.name == ETCD {
            if let Some(cfg) = &self.config {
                return match &cfg.content {
                    Fact::Value(v) => Ok(etcd_config_value(v, flag).map(|val| {
                        Setting::new(val, format!("{} ({})", etcd_config_key(flag), cfg.path))
                    })),
                    Fact::Unavailable(why) => Err(format!(
                        "{} is unknown: etcd takes its settings only from {} ({}), ignoring its \
                         flags and ETCD_* variables, and that file could not be used: {why}",
                        etcd_config_key(flag),
                        cfg.path,
                        cfg.source
                    )),
                };
            }
        }
        Ok(self.flag_or_env(flag))
    }

    /// The component's configuration file (etcd's `--config-file`) changed after the process
    /// started: `(path, modified, started)`. It is read only at start, so what the file says now
    /// is not necessarily what the process runs with.
    pub fn config_changed_after_start(&self) -> Option<(&str, &str, &str)> {
        let started = self.started_at.as_deref()?;
        let file = self.config.as_ref()?;
        let modified = file.modified_at.as_deref()?;
        crate::time::changed_after(modified, started).then_some((
            file.path.as_str(),
            modified,
            started,
        ))
    }

    /// How the component names `flag` where it takes its settings: the key of etcd's
    /// configuration file when it has one, else `--flag`.
    pub fn setting_name(&self, flag: &str) -> String {
        match (&self.config, self.name == ETCD) {
            (Some(_), true) => etcd_config_key(flag),
            _ => format!("--{flag}"),
        }
    }

    /// The command line, then (for etcd) its environment and its service's environment files.
    fn flag_or_env(&self, flag: &str) -> Option<Setting> {
        if let Some(v) = self.flags.last(flag) {
            return Some(Setting::new(v, self.flag_source(flag)));
        }
        if self.name == ETCD {
            let var = etcd_env_name(flag);
            if let Some(v) = self.env.get(&var) {
                return Some(Setting::new(v.clone(), format!("{var} (environment)")));
            }
            for (path, vars) in &self.env_files {
                if let Some(v) = vars.get(&var) {
                    return Some(Setting::new(v.clone(), format!("{var} ({path})")));
                }
            }
        }
        None
    }

    /// How evidence names the winning `--flag` and where it was written: `--flag (command line)`,
    /// or, for a flag k3s passes its embedded component from a configuration file, `--flag
    /// (/etc/rancher/k3s/config.yaml, line 4)` (the form of `ETCD_X (/etc/default/etcd)` and
    /// `readOnlyPort (/var/lib/kubelet/config.yaml)`).
    pub fn flag_source(&self, flag: &str) -> String {
        format!(
            "--{flag} ({})",
            self.flags
                .origin(flag)
                .unwrap_or(crate::flags::COMMAND_LINE)
        )
    }

    /// [`Component::flag_source`] for a flag whose occurrences accumulate (string slices): every
    /// place an occurrence was written, in order.
    pub fn flag_list_source(&self, flag: &str) -> String {
        let origins = self.flags.origins(flag);
        if origins.is_empty() {
            return format!("--{flag} ({})", crate::flags::COMMAND_LINE);
        }
        format!("--{flag} ({})", origins.join("; "))
    }

    /// A value of `flag` that only waits for a restart: an etcd variable its service's
    /// environment file sets (`path`, variable, value) that the running etcd does not have, for a
    /// flag neither its command line nor a configuration file decides (etcd would take the value
    /// from the file's variable at its next start). None for other components.
    pub fn pending_setting(&self, flag: &str) -> Option<(&str, String, &str)> {
        if self.name != ETCD || self.config.is_some() || self.flags.last(flag).is_some() {
            return None;
        }
        let var = etcd_env_name(flag);
        self.pending_env
            .iter()
            .find_map(|(path, vars)| Some((path.as_str(), var.clone(), vars.get(&var)?.as_str())))
    }

    /// `setting`, else the built-in default described by `why`.
    pub fn setting_or(&self, flag: &str, default: &str) -> Setting {
        self.setting(flag).unwrap_or_else(|| {
            let why = if default.is_empty() {
                format!("--{flag} not set")
            } else {
                format!("--{flag} not set (default {default})")
            };
            Setting::default_value(default, why)
        })
    }

    /// Where the winning value of feature gate `gate` was written (see [`Flags::origin`]):
    /// the last `--feature-gates` occurrence that names it.
    pub fn feature_gate_origin(&self, gate: &str) -> &str {
        self.flags
            .occurrences
            .iter()
            .rev()
            .filter(|o| o.name == "feature-gates")
            .find(|o| {
                o.value
                    .as_deref()
                    .is_some_and(|v| parse_feature_gates(v).contains_key(gate))
            })
            .and_then(|o| o.origin.as_deref())
            .unwrap_or(crate::flags::COMMAND_LINE)
    }

    /// Feature gates given on the command line (`--feature-gates=A=true,B=false`), last wins.
    pub fn feature_gates(&self) -> BTreeMap<String, String> {
        parse_feature_gates(&self.flags.all("feature-gates").join(","))
    }
}

/// `ETCD_` + the flag name in upper case with dashes as underscores: `client-cert-auth` ->
/// `ETCD_CLIENT_CERT_AUTH`.
pub fn etcd_env_name(flag: &str) -> String {
    format!("ETCD_{}", flag.to_ascii_uppercase().replace('-', "_"))
}

/// Where an etcd flag lives in etcd's YAML configuration file.
pub fn etcd_config_key(flag: &str) -> String {
    match flag {
        "cert-file" | "key-file" | "client-cert-auth" | "trusted-ca-file" | "auto-tls" => {
            format!("client-transport-security.{flag}")
        }
        f if f.starts_with("peer-") => {
            let inner = &f["peer-".len()..];
            let inner = if inner == "client-cert-auth" {
                "client-cert-auth"
            } else {
                inner
            };
            format!("peer-transport-security.{inner}")
        }
        f => f.to_string(),
    }
}

/// The two listeners etcd serves, each with its own TLS settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtcdSide {
    Client,
    Peer,
}

impl EtcdSide {
    /// This side's name of a TLS flag: `cert-file` stays, or becomes `peer-cert-file`.
    pub fn flag(self, name: &str) -> String {
        match self {
            EtcdSide::Client => name.to_string(),
            EtcdSide::Peer => format!("peer-{name}"),
        }
    }

    /// The flag naming the URLs this side listens on.
    pub fn listen_urls_flag(self) -> &'static str {
        match self {
            EtcdSide::Client => "listen-client-urls",
            EtcdSide::Peer => "listen-peer-urls",
        }
    }

    /// What etcd listens on when the URLs are not set: plain HTTP on localhost.
    pub fn default_urls(self) -> &'static str {
        match self {
            EtcdSide::Client => "http://localhost:2379",
            EtcdSide::Peer => "http://localhost:2380",
        }
    }

    /// Who connects on this side, for messages.
    pub fn callers(self) -> &'static str {
        match self {
            EtcdSide::Client => "clients",
            EtcdSide::Peer => "peers",
        }
    }
}

/// How one side of a running etcd serves TLS, from its effective settings. etcd generates a
/// self-signed certificate for a side only when `auto-tls` is on and neither `cert-file` nor
/// `key-file` is given; that certificate then replaces the side's TLS settings, so it asks for no
/// client certificate whatever `client-cert-auth` says (etcd 3.4 and 3.5). An `https://` URL
/// with neither the files nor automatic TLS stops etcd at start.
#[derive(Debug, Clone)]
pub struct EtcdTls {
    pub side: EtcdSide,
    /// The listen URLs as set (None: etcd's default, [`EtcdSide::default_urls`]).
    pub urls: Option<Setting>,
    /// Neither `cert-file` nor `key-file` is set.
    pub no_cert_files: bool,
    pub auto_tls: bool,
    pub trusted_ca: Option<Setting>,
}

impl EtcdTls {
    /// One side of etcd `c`, or why its settings are unknown (see [`Component::try_setting`]).
    pub fn of(c: &Component, side: EtcdSide) -> Result<EtcdTls, String> {
        let get = |name: &str| c.try_setting(&side.flag(name));
        // An empty file setting (`--trusted-ca-file=`) names no file: etcd loads nothing.
        let file = |name: &str| get(name).map(|s| s.filter(|s| !s.value.trim().is_empty()));
        Ok(EtcdTls {
            side,
            urls: c.try_setting(side.listen_urls_flag())?,
            no_cert_files: file("cert-file")?.is_none() && file("key-file")?.is_none(),
            auto_tls: get("auto-tls")?.and_then(|s| s.as_bool()).unwrap_or(false),
            trusted_ca: file("trusted-ca-file")?,
        })
    }

    /// The listen URLs served without TLS (`http://`).
    pub fn plain_urls(&self) -> Vec<String> {
        self.urls_with(&["http://"])
    }

    /// The listen URLs served with TLS (`https://`, `unixs://`).
    pub fn tls_urls(&self) -> Vec<String> {
        self.urls_with(&["https://", "unixs://"])
    }

    fn urls_with(&self, schemes: &[&str]) -> Vec<String> {
        let items = match &self.urls {
            Some(s) => s.items(),
            None => vec![self.side.default_urls().to_string()],
        };
        items
            .into_iter()
            .filter(|u| {
                let u = u.to_ascii_lowercase();
                schemes.iter().any(|s| u.starts_with(s))
            })
            .collect()
    }

    /// The side's certificate is etcd's automatic one.
    pub fn automatic(&self) -> bool {
        self.auto_tls && self.no_cert_files
    }
}

fn etcd_config_value(v: &Value, flag: &str) -> Option<String> {
    let key = etcd_config_key(flag);
    let mut cur = v;
    for part in key.split('.') {
        cur = cur.get(part)?;
    }
    json_scalar(cur)
}

/// A JSON scalar as text (`true`, `5`, `"x"` -> `x`); lists are joined with commas.
pub fn json_scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(json_scalar)
                .collect::<Vec<_>>()
                .join(","),
        ),
        Value::Object(_) => Some(v.to_string()),
    }
}

/// Parse `A=true,B=false` into a map.
pub fn parse_feature_gates(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// Boolean flags of each component: pflag never lets them take the next word, so
/// `--anonymous-auth false` really sets `true` and leaves `false` as a stray argument. etcd uses
/// Go's `flag` package, which treats its booleans the same way.
pub fn boolean_flags(component: &str) -> &'static [&'static str] {
    match component {
        APISERVER => &[
            "anonymous-auth",
            "profiling",
            "service-account-lookup",
            "service-account-extend-token-expiration",
            "allow-privileged",
            "enable-aggregator-routing",
            "enable-bootstrap-token-auth",
            "enable-priority-and-fairness",
            "enable-garbage-collector",
            "enable-logs-handler",
            "audit-log-compress",
            "kubelet-https",
            "logtostderr",
            "alsologtostderr",
            "contention-profiling",
            "strict-transport-security-directives-disabled",
        ],
        CONTROLLER_MANAGER => &[
            "profiling",
            "use-service-account-credentials",
            "leader-elect",
            "allocate-node-cidrs",
            "configure-cloud-routes",
            "enable-dynamic-provisioning",
            "enable-garbage-collector",
            "enable-hostpath-provisioner",
            "enable-taint-manager",
            "contention-profiling",
            "logtostderr",
            "alsologtostderr",
        ],
        SCHEDULER => &[
            "profiling",
            "leader-elect",
            "contention-profiling",
            "logtostderr",
            "alsologtostderr",
        ],
        ETCD => &[
            "client-cert-auth",
            "peer-client-cert-auth",
            "auto-tls",
            "peer-auto-tls",
            "enable-v2",
            "enable-pprof",
            "debug",
            "force-new-cluster",
            "strict-reconfig-check",
            "enable-grpc-gateway",
            "version",
        ],
        KUBELET => &[
            "anonymous-auth",
            "rotate-certificates",
            "rotate-server-certificates",
            "make-iptables-util-chains",
            "protect-kernel-defaults",
            "seccomp-default",
            "fail-swap-on",
            "register-node",
            "register-schedulable",
            "serialize-image-pulls",
            "cgroups-per-qos",
            "exit-on-lock-contention",
            "keep-terminated-pod-volumes",
            "enable-server",
            "enable-debugging-handlers",
            "enable-controller-attach-detach",
            "kernel-memcg-notification",
            "localStorageCapacityIsolation",
            "logtostderr",
            "alsologtostderr",
        ],
        PROXY => &[
            "masquerade-all",
            "cleanup",
            "profiling",
            "bind-address-hard-fail",
            "logtostderr",
            "alsologtostderr",
        ],
        _ => &[],
    }
}

/// Parse a component's command line (argv without argv\[0\]) into flags, masking secret values
/// (switches, numbers and file paths stay visible: see [`mask::should_mask`]).
pub fn parse_component_flags(component: &str, args: &[String]) -> Flags {
    let mut flags = Flags::parse(
        args,
        FlagSpec {
            booleans: boolean_flags(component),
            short: &[],
        },
    );
    for o in &mut flags.occurrences {
        if let Some(v) = o.value.as_mut() {
            if mask::should_mask(&o.name, v) {
                *v = mask::MASK.into();
            } else {
                // `--etcd-servers=https://root:PASSWORD@...`: the scheme and host stay evidence.
                *v = mask::mask_credentials(v);
            }
        }
    }
    flags
}

/// Mask a component's argv for display: secret flag values hidden; switches, numbers and file
/// paths kept as evidence (see [`mask::should_mask`]).
pub fn mask_component_argv(argv: &[String]) -> Vec<String> {
    mask::mask_argv(argv)
}

/// Mask an environment map: secret values hidden, known non-secret names kept.
pub fn mask_env(env: BTreeMap<String, String>) -> BTreeMap<String, String> {
    env.into_iter()
        .map(|(k, v)| {
            if mask::should_mask(&k, &v) {
                (k, mask::MASK.to_string())
            } else {
                let v = mask::mask_credentials(&v);
                (k, v)
            }
        })
        .collect()
}

/// Mask secret-looking keys anywhere in a parsed document (a kubelet config or kubeconfig never
/// needs its secrets in a snapshot): see [`mask_values`].
pub fn mask_document(v: &mut Value) {
    mask_values(v);
}

/// Secret values anywhere in a parsed document or Kubernetes object, by name and by form as
/// the rest of the snapshot is masked:
///
/// - a string under a secret-looking key, or each string of a list under one (an annotation
///   such as `example.com/api-token` or `vault.hashicorp.com/agent-inject-token`, a kubelet's
///   `staticPodURLHeader: {X-Api-Key: [...]}`), unless harmless (see [`mask::should_mask`]);
/// - the `value` of a `{name, value}` entry (an env variable, an HTTP header of a probe or of a
///   kubeconfig's exec plugin) whose name looks secret;
/// - the words of a `command` or `args` list, read as the command line they are;
/// - in every other string, what the masker finds by form (`https://u:***@host`,
///   `?token=***`, `Authorization: Bearer ***`, `NAME=***` words), the string read as the
///   value of its key (`key: value`, as a header is written) so that what the key tells the
///   masker counts too.
pub fn mask_values(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(name)), Some(Value::String(val))) =
                (map.get("name").cloned(), map.get_mut("value"))
            {
                if mask::should_mask(&name, val) {
                    *val = mask::MASK.into();
                } else {
                    mask_keyed_string(&name, val);
                }
            }
            for (k, val) in map.iter_mut() {
                match val {
                    Value::String(s) if mask::should_mask(k, s) => *s = mask::MASK.into(),
                    Value::String(s) => mask_keyed_string(k, s),
                    Value::Array(items)
                        if (k == "command" || k == "args")
                            && items.iter().all(Value::is_string) =>
                    {
                        mask::mask_json_argv(items)
                    }
                    Value::Array(items) => {
                        for item in items.iter_mut() {
                            match item {
                                Value::String(s) if mask::should_mask(k, s) => {
                                    *s = mask::MASK.into()
                                }
                                Value::String(s) => mask_keyed_string(k, s),
                                other => mask_values(other),
                            }
                        }
                    }
                    _ => mask_values(val),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_values),
        Value::String(s) => {
            let masked = mask::mask_text(s);
            if masked != *s {
                *s = masked;
            }
        }
        _ => {}
    }
}

/// A string masked by [`mask::mask_text`] as the value of `key: value`, as an HTTP header is
/// written (`Authorization: Bearer x`); all of it when the masker takes the key with it.
fn mask_keyed_string(key: &str, s: &mut String) {
    let masked = mask::mask_text(&format!("{key}: {s}"));
    match masked.strip_prefix(key).and_then(|m| m.strip_prefix(": ")) {
        Some(value) if value == s.as_str() => {}
        Some(value) => *s = value.to_string(),
        None => *s = mask::MASK.into(),
    }
}

/// The kubelet's configuration files, as the kubelet reads them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KubeletConfig {
    /// The file named by `--config`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<ConfigFile>,
    /// The directory named by `--config-dir`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_in_dir: Option<String>,
    /// Its `*.conf` files in the order the kubelet applies them (sorted by name, subdirectories
    /// walked where they sort; later wins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop_ins: Vec<ConfigFile>,
    /// Why the `--config-dir` directory could not be listed. The kubelet does not start when it
    /// cannot walk it, so any drop-in it really read is unknown here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_in_dir_error: Option<String>,
}

impl KubeletConfig {
    /// Is a `--config` file in use? Then the KubeletConfiguration defaults apply to unset fields
    /// (anonymous auth off, Webhook authorization). Without one the command-line defaults apply
    /// (anonymous auth on, AlwaysAllow), drop-ins or not: the kubelet merges drop-ins over its
    /// flag defaults, and a drop-in is not defaulted on its own.
    pub fn in_use(&self) -> bool {
        self.file.is_some()
    }

    /// The value of a dotted key after merging the file and its drop-ins, with the file that set
    /// it last; or why it cannot be known: a file that could set it (the `--config` file, or a
    /// drop-in after the last file that sets it) could not be read or parsed, or the drop-in
    /// directory could not be listed. The running kubelet read a version of that file that
    /// bulkhead cannot see (the kubelet does not start with a file it cannot load), so neither a
    /// default nor an earlier file's value is known to be in force.
    pub fn resolve(&self, dotted: &str) -> Result<Option<(Value, String)>, String> {
        let mut found = None;
        let mut blocked: Option<String> = None;
        for f in self.file.iter().chain(self.drop_ins.iter()) {
            match &f.content {
                Fact::Value(doc) => {
                    if let Some(v) = lookup_path(doc, dotted) {
                        found = Some((v.clone(), f.path.clone()));
                        blocked = None;
                    }
                }
                Fact::Unavailable(reason) => {
                    let reason = reason
                        .strip_prefix(&format!("{}: ", f.path))
                        .unwrap_or(reason);
                    blocked = Some(format!(
                        "{dotted} is unknown: {} ({}) could set it but could not be used: {reason}",
                        f.path, f.source
                    ));
                }
            }
        }
        if let Some(why) = &self.drop_in_dir_error {
            return Err(format!(
                "{dotted} is unknown: a drop-in could set it: {why}"
            ));
        }
        match blocked {
            Some(why) => Err(why),
            None => Ok(found),
        }
    }

    /// The value of a dotted key (`authentication.anonymous.enabled`) after merging the file and
    /// its drop-ins, with the file that set it last. Files that could not be read are skipped:
    /// [`KubeletConfig::resolve`] says when that leaves the value unknown.
    pub fn lookup(&self, dotted: &str) -> Option<(Value, String)> {
        let mut found = None;
        for f in self.file.iter().chain(self.drop_ins.iter()) {
            if let Fact::Value(doc) = &f.content {
                if let Some(v) = lookup_path(doc, dotted) {
                    found = Some((v.clone(), f.path.clone()));
                }
            }
        }
        found
    }

    /// The merged document (objects merged key by key, later files winning; lists replaced).
    pub fn merged(&self) -> Value {
        let mut out = Value::Object(Default::default());
        for f in self.file.iter().chain(self.drop_ins.iter()) {
            if let Fact::Value(doc) = &f.content {
                merge_json(&mut out, doc);
            }
        }
        out
    }
}

/// Deep-merge `patch` into `base`: objects key by key, anything else replaced.
pub fn merge_json(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge_json(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// Follow a dotted path through nested objects.
pub fn lookup_path<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in dotted.split('.') {
        cur = cur.get(part)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// A kubelet setting: its flag, its KubeletConfiguration field, and its defaults.
#[derive(Debug, Clone, Copy)]
pub struct KubeletKey {
    /// Flag name without dashes; None when the setting has no flag.
    pub flag: Option<&'static str>,
    /// Dotted KubeletConfiguration path (`authentication.anonymous.enabled`).
    pub config: &'static str,
    /// Default when a configuration file is in use (KubeletConfiguration v1beta1 defaults).
    pub default_with_config: Option<&'static str>,
    /// Default when the kubelet runs from flags alone.
    pub default_flags_only: Option<&'static str>,
}

impl KubeletKey {
    pub const ANONYMOUS_AUTH: KubeletKey = KubeletKey {
        flag: Some("anonymous-auth"),
        config: "authentication.anonymous.enabled",
        default_with_config: Some("false"),
        default_flags_only: Some("true"),
    };
    pub const AUTHORIZATION_MODE: KubeletKey = KubeletKey {
        flag: Some("authorization-mode"),
        config: "authorization.mode",
        default_with_config: Some("Webhook"),
        default_flags_only: Some("AlwaysAllow"),
    };
    pub const WEBHOOK_AUTHN: KubeletKey = KubeletKey {
        flag: Some("authentication-token-webhook"),
        config: "authentication.webhook.enabled",
        default_with_config: Some("true"),
        default_flags_only: Some("false"),
    };
    pub const CLIENT_CA_FILE: KubeletKey = KubeletKey {
        flag: Some("client-ca-file"),
        config: "authentication.x509.clientCAFile",
        default_with_config: None,
        default_flags_only: None,
    };
    pub const READ_ONLY_PORT: KubeletKey = KubeletKey {
        flag: Some("read-only-port"),
        config: "readOnlyPort",
        default_with_config: Some("0"),
        default_flags_only: Some("10255"),
    };
    pub const STREAMING_IDLE_TIMEOUT: KubeletKey = KubeletKey {
        flag: Some("streaming-connection-idle-timeout"),
        config: "streamingConnectionIdleTimeout",
        default_with_config: Some("4h0m0s"),
        default_flags_only: Some("4h0m0s"),
    };
    pub const IPTABLES_UTIL_CHAINS: KubeletKey = KubeletKey {
        flag: Some("make-iptables-util-chains"),
        config: "makeIPTablesUtilChains",
        default_with_config: Some("true"),
        default_flags_only: Some("true"),
    };
    pub const HOSTNAME_OVERRIDE: KubeletKey = KubeletKey {
        flag: Some("hostname-override"),
        config: "hostnameOverride",
        default_with_config: None,
        default_flags_only: None,
    };
    pub const EVENT_QPS: KubeletKey = KubeletKey {
        flag: Some("event-qps"),
        config: "eventRecordQPS",
        default_with_config: Some("50"),
        default_flags_only: Some("50"),
    };
    pub const TLS_CERT_FILE: KubeletKey = KubeletKey {
        flag: Some("tls-cert-file"),
        config: "tlsCertFile",
        default_with_config: None,
        default_flags_only: None,
    };
    pub const TLS_KEY_FILE: KubeletKey = KubeletKey {
        flag: Some("tls-private-key-file"),
        config: "tlsPrivateKeyFile",
        default_with_config: None,
        default_flags_only: None,
    };
    pub const ROTATE_CERTIFICATES: KubeletKey = KubeletKey {
        flag: Some("rotate-certificates"),
        config: "rotateCertificates",
        default_with_config: Some("false"),
        default_flags_only: Some("false"),
    };
    pub const SERVER_TLS_BOOTSTRAP: KubeletKey = KubeletKey {
        flag: Some("rotate-server-certificates"),
        config: "serverTLSBootstrap",
        default_with_config: Some("false"),
        default_flags_only: Some("false"),
    };
    pub const TLS_CIPHER_SUITES: KubeletKey = KubeletKey {
        flag: Some("tls-cipher-suites"),
        config: "tlsCipherSuites",
        default_with_config: None,
        default_flags_only: None,
    };
    pub const POD_PIDS_LIMIT: KubeletKey = KubeletKey {
        flag: Some("pod-max-pids"),
        config: "podPidsLimit",
        default_with_config: Some("-1"),
        default_flags_only: Some("-1"),
    };
    pub const SECCOMP_DEFAULT: KubeletKey = KubeletKey {
        flag: Some("seccomp-default"),
        config: "seccompDefault",
        default_with_config: Some("false"),
        default_flags_only: Some("false"),
    };
    pub const KUBECONFIG: KubeletKey = KubeletKey {
        flag: Some("kubeconfig"),
        config: "",
        default_with_config: None,
        default_flags_only: None,
    };
    pub const STATIC_POD_PATH: KubeletKey = KubeletKey {
        flag: Some("pod-manifest-path"),
        config: "staticPodPath",
        default_with_config: None,
        default_flags_only: None,
    };
}

/// The kubelet's effective value for `key`: a command-line flag overrides the configuration
/// files, which override the defaults (which differ with and without a configuration file). An
/// error says why the value cannot be known (see [`KubeletConfig::resolve`]); a flag is known
/// whatever the files hold.
pub fn kubelet_setting(
    kubelet: &Component,
    config: Option<&KubeletConfig>,
    key: &KubeletKey,
) -> Result<Setting, String> {
    if let Some(flag) = key.flag {
        if let Some(v) = kubelet.flags.last(flag) {
            return Ok(Setting::new(v, kubelet.flag_source(flag)));
        }
    }
    if let (Some(cfg), false) = (config, key.config.is_empty()) {
        let found = cfg.resolve(key.config).map_err(|why| match key.flag {
            Some(flag) => format!("--{flag} is not on the command line, and {why}"),
            None => why,
        })?;
        if let Some((v, path)) = found {
            if let Some(text) = json_scalar(&v) {
                return Ok(Setting::new(text, format!("{} ({path})", key.config)));
            }
        }
    }
    let in_use = config.is_some_and(KubeletConfig::in_use);
    let default = if in_use {
        key.default_with_config
    } else {
        key.default_flags_only
    };
    let name = key
        .flag
        .map(|f| format!("--{f}"))
        .unwrap_or_else(|| key.config.to_string());
    Ok(match default {
        Some(d) => Setting::default_value(
            d,
            if in_use {
                format!(
                    "{name} / {} not set (KubeletConfiguration default {d})",
                    key.config
                )
            } else {
                format!("{name} not set and no config file (command-line default {d})")
            },
        ),
        None => Setting::default_value("", format!("{name} / {} not set", key.config)),
    })
}

/// The kubelet's effective value of a feature gate: `--feature-gates` on its command line (gate
/// by gate), else `featureGates` in its configuration files, else the gate's `default`. An error
/// says why the value cannot be known.
pub fn kubelet_feature_gate(
    kubelet: &Component,
    config: Option<&KubeletConfig>,
    gate: &str,
    default: bool,
) -> Result<Setting, String> {
    if let Some(v) = kubelet.feature_gates().get(gate) {
        return Ok(Setting::new(
            v.clone(),
            format!(
                "--feature-gates {gate} ({})",
                kubelet.feature_gate_origin(gate)
            ),
        ));
    }
    let dotted = format!("featureGates.{gate}");
    if let Some(cfg) = config {
        let found = cfg.resolve(&dotted).map_err(|why| {
            format!("--feature-gates does not set {gate} on the command line, and {why}")
        })?;
        if let Some((v, path)) = found {
            return Ok(Setting::new(
                json_scalar(&v).unwrap_or_default(),
                format!("{dotted} ({path})"),
            ));
        }
    }
    Ok(Setting::default_value(
        default.to_string(),
        format!("{gate} gate not set (default {default})"),
    ))
}

/// The EncryptionConfiguration the API server uses: per resource group, the provider names in
/// order. Key material is never kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionConfig {
    pub path: String,
    pub rules: Vec<EncryptionRule>,
    /// When the file was last modified (RFC 3339, whole seconds): the API server reads it when
    /// it starts, unless it runs with `--encryption-provider-config-automatic-reload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionRule {
    /// `secrets`, `configmaps`, `*.apps`, `*.*`.
    pub resources: Vec<String>,
    /// Provider names in order: the first encrypts new writes (`identity`, `aescbc`, `aesgcm`,
    /// `secretbox`, `kms`).
    pub providers: Vec<String>,
}

/// What the checks need of the API server's AuthenticationConfiguration (`--authentication-config`,
/// Kubernetes 1.30 and later): its `anonymous` section. Nothing else of the file (JWT issuers,
/// claim rules) is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationConfig {
    pub path: String,
    /// The `anonymous` section (Kubernetes 1.32 and later); None when the file has none, and
    /// `--anonymous-auth` decides. The API server refuses to start with both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<AnonymousAuth>,
}

/// Anonymous requests as an AuthenticationConfiguration allows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonymousAuth {
    pub enabled: bool,
    /// The paths of its `conditions`: anonymous requests are served on these alone; empty, on
    /// every path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

impl AuthenticationConfig {
    /// Read an AuthenticationConfiguration document (YAML already turned into JSON). The error
    /// says what is wrong with it.
    pub fn from_value(path: &str, doc: &Value) -> Result<AuthenticationConfig, String> {
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != "AuthenticationConfiguration" {
            return Err(format!(
                "{path}: kind is {kind:?}, expected \"AuthenticationConfiguration\""
            ));
        }
        let anonymous = match doc.get("anonymous") {
            None | Some(Value::Null) => None,
            Some(Value::Object(a)) => {
                let enabled = match a.get("enabled") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => {
                        return Err(format!(
                            "{path}: anonymous.enabled is {other}, not true or false"
                        ))
                    }
                };
                let paths = match a.get("conditions") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(conditions)) => conditions
                        .iter()
                        .map(|c| {
                            c.get("path")
                                .and_then(Value::as_str)
                                .map(String::from)
                                .ok_or_else(|| {
                                    format!("{path}: an anonymous condition has no path: {c}")
                                })
                        })
                        .collect::<Result<_, _>>()?,
                    Some(other) => {
                        return Err(format!(
                            "{path}: anonymous.conditions is {other}, not a list"
                        ))
                    }
                };
                Some(AnonymousAuth { enabled, paths })
            }
            Some(other) => return Err(format!("{path}: anonymous is {other}, not a mapping")),
        };
        Ok(AuthenticationConfig {
            path: path.into(),
            anonymous,
        })
    }
}

/// What the checks need of the API server's AuthorizationConfiguration (`--authorization-config`,
/// Kubernetes 1.30 and later, in place of `--authorization-mode`): the types of its authorizers,
/// in order. Webhook settings are not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationConfig {
    pub path: String,
    /// `Node`, `RBAC`, `Webhook`, `AlwaysAllow`, ... as the file lists them.
    pub authorizers: Vec<String>,
}

impl AuthorizationConfig {
    /// Read an AuthorizationConfiguration document (YAML already turned into JSON). The error
    /// says what is wrong with it.
    pub fn from_value(path: &str, doc: &Value) -> Result<AuthorizationConfig, String> {
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != "AuthorizationConfiguration" {
            return Err(format!(
                "{path}: kind is {kind:?}, expected \"AuthorizationConfiguration\""
            ));
        }
        let Some(list) = doc.get("authorizers").and_then(Value::as_array) else {
            return Err(format!("{path}: no `authorizers` list"));
        };
        let authorizers = list
            .iter()
            .map(|a| {
                a.get("type")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .ok_or_else(|| format!("{path}: an authorizer has no type: {a}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(AuthorizationConfig {
            path: path.into(),
            authorizers,
        })
    }
}

/// Providers that really encrypt what they write.
pub const ENCRYPTING_PROVIDERS: &[&str] = &["aescbc", "aesgcm", "secretbox", "kms"];

impl EncryptionConfig {
    /// Read an EncryptionConfiguration document (YAML already turned into JSON). The error says
    /// what is wrong with it.
    pub fn from_value(path: &str, doc: &Value) -> Result<EncryptionConfig, String> {
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != "EncryptionConfiguration" {
            return Err(format!(
                "{path}: kind is {kind:?}, expected \"EncryptionConfiguration\""
            ));
        }
        let Some(resources) = doc.get("resources").and_then(Value::as_array) else {
            return Err(format!("{path}: no `resources` list"));
        };
        let rules = resources
            .iter()
            .map(|r| EncryptionRule {
                resources: r
                    .get("resources")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
                providers: r
                    .get("providers")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|p| p.as_object()?.keys().next().cloned())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        Ok(EncryptionConfig {
            path: path.into(),
            rules,
            modified_at: None,
        })
    }

    /// The rule the API server applies to secrets: the first whose resources name `secrets`
    /// (or the wildcards `*.` and `*.*`, which cover the core group).
    pub fn secrets_rule(&self) -> Option<&EncryptionRule> {
        self.rules.iter().find(|r| {
            r.resources
                .iter()
                .any(|x| x == "secrets" || x == "*." || x == "*.*")
        })
    }
}

/// Objects from a cluster dump, kept only as far as the policy checks need them. Secret values,
/// ConfigMap data and `last-applied-configuration` annotations are never stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterDump {
    /// The file it was read from.
    pub source: String,
    pub objects: Vec<KubeObject>,
    /// Kinds present in the dump that no check reads, with counts (shown, not silently dropped).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ignored_kinds: BTreeMap<String, usize>,
}

/// One object of the dump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeObject {
    pub kind: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The object as dumped, sanitised.
    pub body: Value,
}

/// Kinds the policy checks read.
pub const DUMP_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "Namespace",
    "NetworkPolicy",
    "Node",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "Secret",
];

impl ClusterDump {
    /// Build from parsed documents: `kind: List` (and `*List` kinds) are flattened, kinds no check
    /// reads are counted, objects are sanitised.
    pub fn from_documents(source: &str, docs: Vec<Value>) -> ClusterDump {
        let mut dump = ClusterDump {
            source: source.into(),
            ..Default::default()
        };
        let mut queue: Vec<Value> = docs;
        queue.reverse();
        while let Some(doc) = queue.pop() {
            if doc.is_null() {
                continue;
            }
            let kind = doc
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(items) = doc.get("items").and_then(Value::as_array) {
                if kind == "List" || kind.ends_with("List") || kind.is_empty() {
                    // Keep document order: push the items so they pop first-to-last.
                    let item_kind = kind.strip_suffix("List").unwrap_or("").to_string();
                    for item in items.iter().rev() {
                        let mut item = item.clone();
                        if item.get("kind").is_none() && !item_kind.is_empty() {
                            item["kind"] = Value::String(item_kind.clone());
                        }
                        queue.push(item);
                    }
                    continue;
                }
            }
            if !DUMP_KINDS.contains(&kind.as_str()) {
                let label = if kind.is_empty() {
                    "(no kind)".to_string()
                } else {
                    kind
                };
                *dump.ignored_kinds.entry(label).or_default() += 1;
                continue;
            }
            let meta = doc.get("metadata");
            let name = meta
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let namespace = meta
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .map(String::from);
            let api_version = doc
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let mut body = doc;
            sanitize_object(&kind, &mut body);
            dump.objects.push(KubeObject {
                kind,
                api_version,
                namespace,
                name,
                body,
            });
        }
        dump
    }

    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a KubeObject> + 'a {
        self.objects.iter().filter(move |o| o.kind == kind)
    }

    pub fn has_kind(&self, kind: &str) -> bool {
        self.objects.iter().any(|o| o.kind == kind)
    }
}

/// Remove what must never reach a snapshot: secret values, last-applied annotations (a copy of
/// the whole object, secrets included), literal values of secret-looking env variables.
fn sanitize_object(kind: &str, body: &mut Value) {
    if let Some(ann) = body
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        ann.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
    if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    if kind == "Secret" {
        if let Some(obj) = body.as_object_mut() {
            for field in ["data", "stringData"] {
                if let Some(Value::Object(d)) = obj.get_mut(field) {
                    for v in d.values_mut() {
                        *v = Value::String(mask::MASK.into());
                    }
                }
            }
        }
        mask_values(body);
        return;
    }
    if let Some(obj) = body.as_object_mut() {
        // Node status carries the kubelet version; keep only that.
        if let Some(info) = obj
            .remove("status")
            .and_then(|s| s.get("nodeInfo").cloned())
            .filter(|_| kind == "Node")
        {
            obj.insert("status".into(), serde_json::json!({ "nodeInfo": info }));
        }
    }
    mask_env_values(body);
    // Annotations, labels, webhook URLs, probe paths and every other string: by name and by form.
    mask_values(body);
}

/// Secret values out of a pod spec wherever they sit: env entries (`{name, value}`) under a
/// secret-looking name, credentials inside other env values, and secret flag values and
/// credentials in containers' `command` and `args`.
fn mask_env_values(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(name)), Some(Value::String(val))) =
                (map.get("name").cloned(), map.get_mut("value"))
            {
                if mask::is_secret_name(&name) && !val.is_empty() {
                    *val = mask::MASK.into();
                } else {
                    *val = mask::mask_credentials(val);
                }
            }
            for key in ["command", "args"] {
                if let Some(Value::Array(words)) = map.get_mut(key) {
                    if words.iter().all(Value::is_string) {
                        mask::mask_json_argv(words);
                    }
                }
            }
            map.values_mut().for_each(mask_env_values);
        }
        Value::Array(items) => items.iter_mut().for_each(mask_env_values),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn component(name: &str, args: &[&str]) -> Component {
        let argv: Vec<String> = std::iter::once(name)
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        Component {
            name: name.into(),
            flags: parse_component_flags(name, &argv[1..]),
            process: Process {
                pid: 1,
                comm: name.chars().take(15).collect(),
                argv: mask_component_argv(&argv),
                ..Default::default()
            },
            cwd: None,
            env: BTreeMap::new(),
            env_files: BTreeMap::new(),
            pending_env: BTreeMap::new(),
            config: None,
            unusable_config: BTreeMap::new(),
            source: "process".into(),
            other_pids: vec![],
            started_at: None,
        }
    }

    /// An unset flag's source says so, and names the default only when there is one.
    #[test]
    fn an_unset_flag_names_its_default_only_when_it_has_one() {
        let c = component(APISERVER, &["--profiling=false"]);
        let s = c.setting_or("anonymous-auth", "true");
        assert_eq!(
            (s.value.as_str(), s.source.as_str()),
            ("true", "--anonymous-auth not set (default true)")
        );
        let s = c.setting_or("oidc-issuer-url", "");
        assert_eq!(
            (s.value.as_str(), s.source.as_str()),
            ("", "--oidc-issuer-url not set")
        );
        assert_eq!(
            c.setting_or("profiling", "true").source,
            "--profiling (command line)"
        );
    }

    #[test]
    fn pitfall_3_flags_in_every_form_last_wins() {
        // CIS Kubernetes pitfall 3: `--flag=value`, `--flag value`, repeated, comma lists.
        let c = component(
            APISERVER,
            &[
                "--authorization-mode=AlwaysAllow",
                "--authorization-mode",
                "Node,RBAC",
                "--profiling",
                "false",
                "--enable-admission-plugins=NodeRestriction,EventRateLimit",
            ],
        );
        assert_eq!(
            c.setting("authorization-mode").unwrap().items(),
            vec!["Node", "RBAC"]
        );
        // pflag: a boolean never takes the next word, so `--profiling false` means true.
        assert_eq!(c.setting("profiling").unwrap().as_bool(), Some(true));
        assert_eq!(c.flags.positional, vec!["false"]);
    }

    #[test]
    fn kubernetes_switches_are_not_masked_but_secrets_are() {
        let c = component(
            ETCD,
            &[
                "--client-cert-auth=true",
                "--peer-client-cert-auth",
                "--initial-cluster-token=s3cret",
            ],
        );
        assert_eq!(c.setting("client-cert-auth").unwrap().value, "true");
        assert_eq!(
            c.setting("initial-cluster-token").unwrap().value,
            mask::MASK
        );
        assert!(c
            .process
            .argv
            .contains(&"--client-cert-auth=true".to_string()));
        assert!(c
            .process
            .argv
            .contains(&"--initial-cluster-token=***".to_string()));
        let a = component(
            APISERVER,
            &["--kubelet-certificate-authority", "/pki/ca.crt"],
        );
        assert_eq!(a.process.argv[2], "/pki/ca.crt");
    }

    #[test]
    fn pitfall_6_etcd_environment_is_a_fallback() {
        let mut c = component(ETCD, &["--name=n1"]);
        c.env.insert("ETCD_CLIENT_CERT_AUTH".into(), "true".into());
        let mut file = BTreeMap::new();
        file.insert("ETCD_CERT_FILE".into(), "/etc/etcd/server.crt".into());
        c.env_files.insert("/etc/default/etcd".into(), file);
        let s = c.setting("client-cert-auth").unwrap();
        assert_eq!(
            (s.value.as_str(), s.source.as_str()),
            ("true", "ETCD_CLIENT_CERT_AUTH (environment)")
        );
        assert_eq!(
            c.setting("cert-file").unwrap().source,
            "ETCD_CERT_FILE (/etc/default/etcd)"
        );
        // The command line wins over the environment.
        let mut c2 = component(ETCD, &["--client-cert-auth=false"]);
        c2.env.insert("ETCD_CLIENT_CERT_AUTH".into(), "true".into());
        assert_eq!(
            c2.setting("client-cert-auth").unwrap().as_bool(),
            Some(false)
        );
    }

    /// An AuthorizationConfiguration keeps the types of its authorizers, in order.
    #[test]
    fn authorization_configuration_authorizer_types() {
        let p = "/etc/kubernetes/authz.yaml";
        let doc = json!({"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AuthorizationConfiguration",
            "authorizers": [{"type": "Node", "name": "node"}, {"type": "RBAC", "name": "rbac"},
                {"type": "Webhook", "name": "opa", "webhook": {"timeout": "3s"}}]});
        assert_eq!(
            AuthorizationConfig::from_value(p, &doc)
                .unwrap()
                .authorizers,
            ["Node", "RBAC", "Webhook"]
        );
        let e = AuthorizationConfig::from_value(
            p,
            &json!({"kind": "AuthorizationConfiguration", "authorizers": [{"name": "x"}]}),
        )
        .unwrap_err();
        assert!(e.contains("an authorizer has no type"), "{e}");
        let e = AuthorizationConfig::from_value(p, &json!({"kind": "AuthorizationConfiguration"}))
            .unwrap_err();
        assert_eq!(e, format!("{p}: no `authorizers` list"));
    }

    /// An AuthenticationConfiguration keeps only its anonymous section, and says what is wrong
    /// with one the API server would not take.
    #[test]
    fn authentication_configuration_anonymous_section() {
        let p = "/etc/kubernetes/authn.yaml";
        let read = |doc: Value| AuthenticationConfig::from_value(p, &doc);
        let kind = |extra: Value| {
            let mut d = json!({"apiVersion": "apiserver.config.k8s.io/v1beta1", "kind": "AuthenticationConfiguration"});
            d.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            d
        };
        assert_eq!(read(kind(json!({"jwt": []}))).unwrap().anonymous, None);
        assert_eq!(
            read(kind(
                json!({"anonymous": {"enabled": true, "conditions": [{"path": "/livez"}]}})
            ))
            .unwrap()
            .anonymous,
            Some(AnonymousAuth {
                enabled: true,
                paths: vec!["/livez".into()]
            })
        );
        assert_eq!(
            read(kind(json!({"anonymous": {}}))).unwrap().anonymous,
            Some(AnonymousAuth::default()),
            "enabled defaults to false"
        );
        for (doc, why) in [
            (json!({"kind": "Pod"}), "kind is \"Pod\""),
            (
                kind(json!({"anonymous": {"enabled": "yes"}})),
                "anonymous.enabled is \"yes\"",
            ),
            (
                kind(json!({"anonymous": {"enabled": true, "conditions": {"path": "/livez"}}})),
                "anonymous.conditions is",
            ),
            (
                kind(json!({"anonymous": {"enabled": true, "conditions": [{}]}})),
                "an anonymous condition has no path",
            ),
        ] {
            let e = read(doc).unwrap_err();
            assert!(e.starts_with(p) && e.contains(why), "{e}");
        }
    }

    /// etcd makes its own certificate for a side only with auto-tls on and neither certificate
    /// file given; the listen URLs split by scheme, and unset ones are etcd's plain default.
    #[test]
    fn etcd_tls_of_each_side() {
        let c = component(
            ETCD,
            &[
                "--listen-client-urls=https://10.0.0.1:2379,HTTP://127.0.0.1:2379",
                "--auto-tls",
                "--peer-auto-tls=true",
                "--peer-key-file=/etc/etcd/peer.key",
            ],
        );
        let client = EtcdTls::of(&c, EtcdSide::Client).unwrap();
        assert!(client.automatic());
        assert_eq!(client.tls_urls(), vec!["https://10.0.0.1:2379"]);
        assert_eq!(client.plain_urls(), vec!["HTTP://127.0.0.1:2379"]);
        assert!(client.trusted_ca.is_none());
        let peer = EtcdTls::of(&c, EtcdSide::Peer).unwrap();
        assert!(peer.auto_tls);
        assert!(
            !peer.automatic(),
            "a certificate file turns automatic TLS off"
        );
        assert!(peer.urls.is_none());
        assert_eq!(peer.plain_urls(), vec!["http://localhost:2380"]);
        assert!(peer.tls_urls().is_empty());
    }

    #[test]
    fn etcd_config_file_replaces_flags() {
        let mut c = component(
            ETCD,
            &["--config-file=/etc/etcd/etcd.yaml", "--client-cert-auth"],
        );
        c.config = Some(ConfigFile {
            path: "/etc/etcd/etcd.yaml".into(),
            source: "etcd --config-file".into(),
            content: Fact::Value(
                json!({"client-transport-security": {"client-cert-auth": false}, "peer-transport-security": {"client-cert-auth": true}}),
            ),
            modified_at: None,
        });
        assert_eq!(
            c.setting("client-cert-auth").unwrap().as_bool(),
            Some(false)
        );
        assert_eq!(
            c.setting("peer-client-cert-auth").unwrap().as_bool(),
            Some(true)
        );
    }

    /// An etcd configuration file that could not be used leaves every etcd setting unknown: the
    /// flags and environment it replaces do not stand in for it, and the reason names the file.
    #[test]
    fn unusable_etcd_config_file_makes_settings_unknown() {
        let mut c = component(
            ETCD,
            &[
                "--config-file=/etc/etcd/etcd.yaml",
                "--client-cert-auth=true",
            ],
        );
        c.env
            .insert("ETCD_CERT_FILE".into(), "/etc/etcd/server.crt".into());
        c.config = Some(ConfigFile {
            path: "/etc/etcd/etcd.yaml".into(),
            source: "etcd --config-file".into(),
            content: Fact::Unavailable(
                "/etc/etcd/etcd.yaml: line 2, column 1: invalid YAML: mapping values are not allowed".into(),
            ),
            modified_at: None,
        });
        let why = c.try_setting("client-cert-auth").unwrap_err();
        assert_eq!(
            why,
            "client-transport-security.client-cert-auth is unknown: etcd takes its settings only from /etc/etcd/etcd.yaml (etcd --config-file), ignoring its flags and ETCD_* variables, and that file could not be used: /etc/etcd/etcd.yaml: line 2, column 1: invalid YAML: mapping values are not allowed"
        );
        assert!(c.try_setting("cert-file").is_err());
        assert!(c
            .try_setting("name")
            .unwrap_err()
            .starts_with("name is unknown: "));
        assert_eq!(c.setting("client-cert-auth"), None);
        // Without a configuration file, flags and environment are known.
        c.config = None;
        assert_eq!(
            c.try_setting("cert-file").unwrap().unwrap().source,
            "ETCD_CERT_FILE (environment)"
        );
        assert_eq!(c.try_setting("auto-tls"), Ok(None));
        // Other components never have an unknown setting.
        let k = component(KUBELET, &["--read-only-port=0"]);
        assert_eq!(k.try_setting("read-only-port").unwrap().unwrap().value, "0");
    }

    fn kubelet_cfg(file: Value, drop_ins: Vec<Value>) -> KubeletConfig {
        KubeletConfig {
            file: Some(ConfigFile {
                path: "/srv/kubelet/custom.json".into(),
                source: "kubelet --config".into(),
                content: Fact::Value(file),
                modified_at: None,
            }),
            drop_in_dir: Some("/etc/kubernetes/kubelet.conf.d".into()),
            drop_ins: drop_ins
                .into_iter()
                .enumerate()
                .map(|(i, d)| ConfigFile {
                    path: format!("/etc/kubernetes/kubelet.conf.d/{i}0-x.conf"),
                    source: "kubelet --config-dir".into(),
                    content: Fact::Value(d),
                    modified_at: None,
                })
                .collect(),
            drop_in_dir_error: None,
        }
    }

    #[test]
    fn pitfall_1_kubelet_config_drop_ins_then_flags() {
        let cfg = kubelet_cfg(
            json!({"authentication": {"anonymous": {"enabled": true}, "webhook": {"enabled": true}}, "authorization": {"mode": "AlwaysAllow"}}),
            vec![json!({"authorization": {"mode": "Webhook"}})],
        );
        let k = component(
            KUBELET,
            &[
                "--config=/srv/kubelet/custom.json",
                "--anonymous-auth=false",
            ],
        );
        let anon = kubelet_setting(&k, Some(&cfg), &KubeletKey::ANONYMOUS_AUTH).unwrap();
        assert_eq!(anon.value, "false");
        assert_eq!(anon.source, "--anonymous-auth (command line)");
        let mode = kubelet_setting(&k, Some(&cfg), &KubeletKey::AUTHORIZATION_MODE).unwrap();
        assert_eq!(mode.value, "Webhook");
        assert_eq!(
            mode.source,
            "authorization.mode (/etc/kubernetes/kubelet.conf.d/00-x.conf)"
        );
        // Merging keeps sibling keys of the base file.
        assert_eq!(
            cfg.merged()["authentication"]["webhook"]["enabled"],
            json!(true)
        );
    }

    #[test]
    fn kubelet_defaults_depend_on_a_config_file() {
        let k = component(KUBELET, &[]);
        let none = kubelet_setting(&k, None, &KubeletKey::ANONYMOUS_AUTH).unwrap();
        assert_eq!((none.value.as_str(), none.is_default), ("true", true));
        let cfg = kubelet_cfg(json!({"kind": "KubeletConfiguration"}), vec![]);
        let with = kubelet_setting(&k, Some(&cfg), &KubeletKey::AUTHORIZATION_MODE).unwrap();
        assert_eq!(with.value, "Webhook");
        // Drop-ins without a --config file merge over the command-line defaults.
        let mut drop_ins_only = kubelet_cfg(json!({}), vec![json!({"readOnlyPort": 0})]);
        drop_ins_only.file = None;
        let anon = kubelet_setting(&k, Some(&drop_ins_only), &KubeletKey::ANONYMOUS_AUTH).unwrap();
        assert_eq!((anon.value.as_str(), anon.is_default), ("true", true));
        let port = kubelet_setting(&k, Some(&drop_ins_only), &KubeletKey::READ_ONLY_PORT).unwrap();
        assert_eq!(port.value, "0");
    }

    /// A configuration file that could not be read or parsed leaves every setting it could set
    /// unknown (never a default or an earlier file's value); a flag, or a later file that sets
    /// the key, is still known.
    #[test]
    fn unusable_kubelet_config_files_make_settings_unknown() {
        let k = component(
            KUBELET,
            &["--config=/srv/kubelet/custom.json", "--read-only-port=0"],
        );
        let broken = |cfg: &mut ConfigFile| {
            cfg.content = Fact::Unavailable("/x: line 9 column 1: did not find expected ','".into())
        };
        // The --config file broken, a valid drop-in setting only authorization.mode.
        let mut cfg = kubelet_cfg(
            json!({}),
            vec![json!({"authorization": {"mode": "Webhook"}})],
        );
        broken(cfg.file.as_mut().unwrap());
        let anon = kubelet_setting(&k, Some(&cfg), &KubeletKey::ANONYMOUS_AUTH).unwrap_err();
        assert!(
            anon.contains("/srv/kubelet/custom.json (kubelet --config) could set it")
                && anon.contains("line 9"),
            "{anon}"
        );
        let mode = kubelet_setting(&k, Some(&cfg), &KubeletKey::AUTHORIZATION_MODE).unwrap();
        assert_eq!(mode.value, "Webhook");
        let port = kubelet_setting(&k, Some(&cfg), &KubeletKey::READ_ONLY_PORT).unwrap();
        assert_eq!(port.source, "--read-only-port (command line)");
        // A broken later drop-in could override the earlier one.
        let mut cfg = kubelet_cfg(
            json!({"authentication": {"anonymous": {"enabled": false}}}),
            vec![json!({"authorization": {"mode": "Webhook"}}), json!({})],
        );
        broken(&mut cfg.drop_ins[1]);
        for key in [KubeletKey::ANONYMOUS_AUTH, KubeletKey::AUTHORIZATION_MODE] {
            let e = kubelet_setting(&k, Some(&cfg), &key).unwrap_err();
            assert!(e.contains("10-x.conf (kubelet --config-dir)"), "{e}");
        }
        // A drop-in directory that could not be listed hides every drop-in.
        let mut cfg = kubelet_cfg(json!({"authorization": {"mode": "Webhook"}}), vec![]);
        cfg.drop_in_dir_error = Some("/etc/kubernetes/kubelet.conf.d does not exist".into());
        let e = kubelet_setting(&k, Some(&cfg), &KubeletKey::AUTHORIZATION_MODE).unwrap_err();
        assert!(e.contains("kubelet.conf.d does not exist"), "{e}");
        // Feature gates follow the same rule, and a gate on the command line is known.
        let e = kubelet_feature_gate(&k, Some(&cfg), "RotateKubeletServerCertificate", true)
            .unwrap_err();
        assert!(
            e.contains("and featureGates.RotateKubeletServerCertificate is unknown"),
            "{e}"
        );
        let gated = component(
            KUBELET,
            &["--feature-gates=RotateKubeletServerCertificate=false"],
        );
        let g = kubelet_feature_gate(&gated, Some(&cfg), "RotateKubeletServerCertificate", true)
            .unwrap();
        assert_eq!(g.value, "false");
    }

    #[test]
    fn encryption_provider_order() {
        let doc = json!({"kind": "EncryptionConfiguration", "resources": [
            {"resources": ["configmaps"], "providers": [{"aescbc": {}}]},
            {"resources": ["secrets"], "providers": [{"identity": {}}, {"aescbc": {"keys": [{"name": "k", "secret": "x"}]}}]}
        ]});
        let e = EncryptionConfig::from_value("/etc/k/enc.yaml", &doc).unwrap();
        assert_eq!(
            e.secrets_rule().unwrap().providers,
            vec!["identity", "aescbc"]
        );
        assert!(
            !serde_json::to_string(&e).unwrap().contains("\"x\""),
            "keys are never kept"
        );
        assert!(EncryptionConfig::from_value("p", &json!({"kind": "Pod"})).is_err());
    }

    /// A component flag whose name looks harmless keeps its evidence (scheme, host, port) and
    /// loses the password it carries.
    #[test]
    fn component_flags_lose_url_passwords() {
        let f = parse_component_flags(
            "kube-apiserver",
            &["--etcd-servers=https://root:EtcdUrlPw-1001@127.0.0.1:2379".to_string()],
        );
        assert_eq!(
            f.last("etcd-servers").as_deref(),
            Some("https://root:***@127.0.0.1:2379")
        );
    }

    /// Credentials a pod spec holds outside secret-named variables: a URL password in an env
    /// value, secret flags in args (`--x=v` and `--x v`), a bearer token in a command line.
    #[test]
    fn dump_masks_credentials_in_env_values_args_and_commands() {
        let docs = vec![json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "app"},
            "spec": {"containers": [{"name": "c",
                "command": ["sh", "-c", "curl -H 'Authorization: Bearer CmdBearer-6677' http://x"],
                "args": ["--db-password=ArgPassw0rd-3344", "--token", "ArgToken-2211", "--port=80"],
                "env": [{"name": "DATABASE_URL", "value": "postgres://app:UrlPassw0rd-8899@db:5432/app"},
                        {"name": "MODE", "value": "prod"}]}]}})];
        let d = ClusterDump::from_documents("dump.yaml", docs);
        let text = serde_json::to_string(&d).unwrap();
        for secret in [
            "CmdBearer-6677",
            "ArgPassw0rd-3344",
            "ArgToken-2211",
            "UrlPassw0rd-8899",
        ] {
            assert!(!text.contains(secret), "{secret} kept: {text}");
        }
        for evidence in ["--port=80", "postgres://app:***@db:5432/app", "prod"] {
            assert!(text.contains(evidence), "{evidence} lost: {text}");
        }
    }

    /// The review's cluster dump (cluster.yaml): secrets outside env values and argument lists,
    /// in annotations (of a namespace, a deployment and its pod template, a service account, a
    /// node, a Secret), a webhook's URL and a probe's path. Evidence stays.
    #[test]
    fn dump_masks_annotations_webhook_urls_and_probe_paths() {
        let docs = vec![json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default",
                "annotations": {"example.com/api-token": "wm5-ns-annotation"}}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default",
                "labels": {"app": "web"},
                "annotations": {"example.com/db-password": "wm5-db-password", "example.com/owner": "team-a"}},
             "spec": {"template": {"metadata": {"annotations": {
                    "vault.hashicorp.com/agent-inject-token": "wm5-vault",
                    "container.apparmor.security.beta.kubernetes.io/web": "runtime/default"}},
                "spec": {"containers": [{"name": "web", "image": "nginx",
                    "livenessProbe": {"httpGet": {"path": "/health?token=wm5-probe-path", "port": 80,
                        "httpHeaders": [{"name": "Authorization", "value": "Bearer wm5-header"}]}}}]}}}},
            {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
             "metadata": {"name": "vw"},
             "webhooks": [{"name": "a.b.c", "clientConfig": {
                "url": "https://u:wm5-userinfo@hook.example.com/validate?token=wm5-query"}}]},
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": "default",
                "annotations": {"example.com/token": "wm5-sa-token"}}},
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "annotations": {
                "node.example.com/bootstrap-token": "wm5-bootstrap",
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock"}}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "default",
                "annotations": {"example.com/api-token": "wm5-secret-annotation"}},
             "data": {"password": "d201LXNlY3JldA=="}}
        ]})];
        let d = ClusterDump::from_documents("cluster.yaml", docs);
        let text = serde_json::to_string(&d).unwrap();
        assert!(!text.contains("wm5-"), "{text}");
        assert!(!text.contains("d201LXNlY3JldA=="), "{text}");
        for evidence in [
            "\"example.com/owner\":\"team-a\"",
            "runtime/default",
            "unix:///run/containerd/containerd.sock",
            "https://u:***@hook.example.com/validate?token=***",
            "/health?token=***",
            "\"example.com/api-token\":\"***\"",
        ] {
            assert!(text.contains(evidence), "{evidence} lost: {text}");
        }
    }

    /// A kubelet configuration's headers for the static pod URL are a map of lists.
    #[test]
    fn documents_mask_lists_under_secret_names_and_header_values() {
        let mut v = json!({"kind": "KubeletConfiguration",
            "staticPodURL": "https://pods.example.com/node1",
            "staticPodURLHeader": {"X-Api-Key": ["wm5-api-key"], "Authorization": ["Bearer wm5-bearer"],
                                   "Accept": ["application/json"]},
            "clusterDNS": ["10.96.0.10"]});
        mask_document(&mut v);
        let text = v.to_string();
        assert!(!text.contains("wm5-"), "{text}");
        assert_eq!(v["staticPodURLHeader"]["X-Api-Key"], json!(["***"]));
        assert_eq!(
            v["staticPodURLHeader"]["Authorization"],
            json!(["Bearer ***"])
        );
        assert_eq!(
            v["staticPodURLHeader"]["Accept"],
            json!(["application/json"])
        );
        assert_eq!(v["clusterDNS"], json!(["10.96.0.10"]));
        assert_eq!(v["staticPodURL"], "https://pods.example.com/node1");
        // A kubeconfig's exec plugin: its arguments and its environment.
        let mut v = json!({"users": [{"name": "u", "user": {"exec": {"command": "get-token",
            "args": ["--token", "wm5-exec-arg"], "env": [{"name": "API_TOKEN", "value": "wm5-exec-env"}]}}}]});
        mask_document(&mut v);
        assert!(!v.to_string().contains("wm5-"), "{v}");
    }

    #[test]
    fn dump_flattens_lists_and_drops_secret_values() {
        let docs = vec![json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "app"}, "data": {"password": "aHVudGVyMg=="}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "app", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"}},
             "spec": {"containers": [{"name": "c", "env": [{"name": "DB_PASSWORD", "value": "hunter2"}]}]}, "status": {"phase": "Running"}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}}
        ]})];
        let d = ClusterDump::from_documents("dump.yaml", docs);
        assert_eq!(d.objects.len(), 2);
        assert_eq!(d.ignored_kinds.get("Service"), Some(&1));
        let text = serde_json::to_string(&d).unwrap();
        assert!(!text.contains("aHVudGVyMg=="));
        assert!(!text.contains("hunter2"));
        assert!(!text.contains("last-applied"));
        assert_eq!(d.objects[1].namespace.as_deref(), Some("app"));
    }

    #[test]
    fn platform_markers() {
        let p = Platform::detect(&["/etc/eks/release".into()], &[], &[]);
        assert_eq!((p.kind.as_str(), p.managed), ("eks", true));
        let p = Platform::detect(&[], &["k3s".into()], &[]);
        assert_eq!((p.kind.as_str(), p.managed), ("k3s", false));
        let p = Platform::detect(&[], &[], &["providerID gce://proj/zone/node".into()]);
        assert_eq!(p.kind, "gke");
        let p = Platform::detect(
            &["/etc/kubernetes/manifests/kube-apiserver.yaml".into()],
            &[],
            &[],
        );
        assert_eq!(p.kind, "kubeadm");
        assert_eq!(Platform::detect(&[], &[], &[]).kind, "generic");
    }

    #[test]
    fn targets_follow_components_and_can_be_forced() {
        let mut comps = BTreeMap::new();
        comps.insert(KUBELET.to_string(), component(KUBELET, &[]));
        let t = Targets::detect(&comps, false);
        assert_eq!(t.selected, vec!["node"]);
        let mut f = KubeFacts {
            targets: t,
            ..Default::default()
        };
        f.select_targets(&["policies,master".into()]).unwrap();
        assert_eq!(f.targets.selected, vec!["master", "policies"]);
        assert!(f
            .select_targets(&["workers".into()])
            .unwrap_err()
            .contains("known: master"));
    }
}
