//! k3s runs the API server, controller manager, scheduler, kubelet, kube-proxy and (embedded)
//! etcd inside one `k3s server` process (`k3s agent`: the kubelet and kube-proxy). No process of
//! those names exists, so each is recorded as a component of that process, with the flags k3s
//! passes it through: `--kube-apiserver-arg`, `--kubelet-arg`, `--etcd-arg` ... from
//! /etc/rancher/k3s/config.yaml, then its `config.yaml.d/*.yaml` drop-ins (by name; a key ending
//! in `+` appends to a list, any other replaces), then the command line. k3s turns the file's
//! settings into arguments placed before the command line's, and each pass-through list becomes
//! `--key=value` flags of the component where the last value of a key wins. k3s's own built-in
//! arguments are not known here (they change with its version): a setting no pass-through gives
//! is left unset, and the checks say it is k3s's to choose rather than judge an upstream default.
//!
//! Each flag keeps where it was written: a pass-through entry of config.yaml (or a drop-in) is
//! recorded with the file and line ([`FlagOccurrence::origin`]), so the evidence says
//! `--anonymous-auth (/etc/rancher/k3s/config.yaml, line 3)`, not `(command line)`.
//!
//! k3s keeps its state under its data directory ([`data_dir`]): `/var/lib/rancher/k3s` unless
//! `--data-dir`/`-d`, `data-dir:` in the configuration, or `K3S_DATA_DIR` moves it. Every path of
//! the k3s layout (server TLS, the embedded etcd's data, the agent's kubeconfigs, the kubelet's
//! drop-in directory) is taken under the effective one, with where it came from.
//!
//! A configuration file (or drop-in) that cannot be read or parsed stops k3s when it starts, so
//! the running k3s read a version of it that bulkhead cannot see: every flag it passes is then
//! unknown. Each embedded component records such a file in its `unusable_config`, with the
//! reason (line and column where known); the checks turn every setting of the component into
//! an error naming it.

use super::Inputs;
use bulkhead_facts::flags::{FlagOccurrence, FlagSpec, Flags, COMMAND_LINE};
use bulkhead_facts::host::Process;
use bulkhead_facts::kube::{
    mask_component_argv, parse_component_flags, Component, ResolvedPath, APISERVER,
    CONTROLLER_MANAGER, ETCD, KUBELET, PROXY, SCHEDULER,
};
use bulkhead_sources::yaml::{self, NodeKind, Schema};
use serde_json::Value;
use std::collections::BTreeMap;

/// The `k3s` switches that take no value.
const K3S_BOOLEANS: &[&str] = &[
    "cluster-init",
    "cluster-reset",
    "disable-apiserver",
    "disable-controller-manager",
    "disable-scheduler",
    "disable-etcd",
    "disable-kube-proxy",
    "disable-agent",
    "disable-cloud-controller",
    "disable-network-policy",
    "disable-helm-controller",
    "protect-kernel-defaults",
    "secrets-encryption",
    "selinux",
    "rootless",
    "debug",
    "embedded-registry",
    "prefer-bundled-bin",
    "docker",
];

/// k3s's short options that bulkhead reads.
const K3S_SHORT: &[(&str, &str)] = &[("c", "config"), ("d", "data-dir")];

/// The default configuration file and drop-in directory of k3s.
pub const CONFIG_FILE: &str = "/etc/rancher/k3s/config.yaml";

/// k3s's data directory when nothing moves it and it runs as root (not rootless).
pub const DEFAULT_DATA_DIR: &str = "/var/lib/rancher/k3s";

/// The source of the default data directory (the name of the k3s layout in evidence).
pub const DEFAULT_SOURCE: &str = "k3s default";

/// Where k3s 1.29 and later keeps the KubeletConfiguration drop-ins it writes for its kubelet
/// (`00-k3s-defaults.conf`), under its data directory, passing the directory as the kubelet's
/// `--config-dir`.
pub const KUBELET_CONFIG_DIR: &str = "agent/etc/kubelet.conf.d";

/// Components k3s embeds: (component, pass-through option, disabled by, server only).
const EMBEDDED: &[(&str, &str, &str, bool)] = &[
    (APISERVER, "kube-apiserver-arg", "disable-apiserver", true),
    (
        CONTROLLER_MANAGER,
        "kube-controller-manager-arg",
        "disable-controller-manager",
        true,
    ),
    (SCHEDULER, "kube-scheduler-arg", "disable-scheduler", true),
    (ETCD, "etcd-arg", "disable-etcd", true),
    (KUBELET, "kubelet-arg", "disable-agent", false),
    (PROXY, "kube-proxy-arg", "disable-kube-proxy", false),
];

/// What bulkhead reads of one running k3s: its arguments in force and its data directory.
pub struct K3s {
    /// The configuration file's (and its drop-ins') settings as flags first, each with its
    /// file and line as origin, then the command line's (raw values: never stored).
    flags: Flags,
    /// Files that exist but cannot be read or parsed (and a drop-in directory that cannot be
    /// listed): (path, reason).
    unusable: Vec<(String, String)>,
    /// The effective data directory and where it came from, or why it cannot be known.
    pub data_dir: Result<ResolvedPath, String>,
}

impl K3s {
    /// `path` under the data directory (`server/tls`), when the directory is known.
    pub fn under(&self, rel: &str) -> Option<String> {
        self.data_dir.as_ref().ok().map(|d| join(&d.path, rel))
    }
}

/// `rel` under `dir`.
pub fn join(dir: &str, rel: &str) -> String {
    format!("{}/{rel}", dir.trim_end_matches('/'))
}

/// The variables of k3s's environment that say where its files are (nothing else is used).
const ENV_READ: &[&str] = &["K3S_CONFIG_FILE", "K3S_DATA_DIR", "HOME"];

/// Those variables of `p`'s environment, as the process scan read it (masked like every
/// daemon's environment).
fn environment(p: &Process) -> BTreeMap<String, String> {
    p.environ
        .iter()
        .flatten()
        .filter(|(k, _)| ENV_READ.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Read a running `k3s server` or `k3s agent`.
pub fn read(p: &Process, input: &Inputs<'_>) -> K3s {
    let env = environment(p);
    let cwd = std::fs::read_link(input.proc.join(p.pid.to_string()).join("cwd"))
        .ok()
        .map(|c| c.to_string_lossy().into_owned());
    let cli: Vec<String> = p.args().iter().skip(1).cloned().collect();
    let cli_flags = Flags::parse(
        &cli,
        FlagSpec {
            booleans: K3S_BOOLEANS,
            short: K3S_SHORT,
        },
    );
    // k3s's configfilearg: K3S_CONFIG_FILE, when set and not empty, wins over --config/-c (the
    // first one on the command line); else the default, which may be missing.
    let config = env
        .get("K3S_CONFIG_FILE")
        .filter(|v| !v.is_empty())
        .cloned()
        .or_else(|| {
            cli_flags
                .occurrences
                .iter()
                .find(|o| o.name == "config")
                .and_then(|o| o.value.clone())
        })
        .unwrap_or_else(|| CONFIG_FILE.to_string());
    let config = match (&cwd, config.starts_with('/')) {
        (Some(cwd), false) => join(cwd, &config),
        _ => config,
    };
    let (mut occurrences, unusable) = config_occurrences(&config, input);
    occurrences.extend(cli_flags.occurrences);
    let flags = Flags {
        occurrences,
        positional: cli_flags.positional,
    };
    let data_dir = data_dir(p, &flags, &env, cwd.as_deref(), input);
    K3s {
        flags,
        unusable,
        data_dir,
    }
}

/// The settings of the configuration file and its `config.yaml.d/*.yaml` drop-ins (by name; a
/// key ending in `+` appends to a list, any other replaces), as flag occurrences whose origin is
/// the file and line: k3s turns them into arguments placed before the command line's.
fn config_occurrences(
    config: &str,
    input: &Inputs<'_>,
) -> (Vec<FlagOccurrence>, Vec<(String, String)>) {
    let mut notes = Vec::new();
    let mut files = vec![config.to_string()];
    let dir = format!("{config}.d");
    let names = match input.fs.read_dir(&dir) {
        Ok(names) => names,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(e) => {
            notes.push((
                dir.clone(),
                format!("cannot list {}: {e}", input.fs.describe(&dir)),
            ));
            vec![]
        }
    };
    let mut drop_ins: Vec<String> = names
        .into_iter()
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    drop_ins.sort();
    files.extend(drop_ins);
    // Key -> (value, origin) in the order k3s gives them.
    let mut settings: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for f in &files {
        let text = match input.fs.read_to_string(f) {
            Ok(t) => t,
            // No file: nothing set there (k3s runs without a configuration file).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                notes.push((
                    f.clone(),
                    format!("cannot read {}: {e}", input.fs.describe(f)),
                ));
                continue;
            }
        };
        let docs = match yaml::parse(&text) {
            Ok(d) => d,
            Err(e) => {
                // The parser's reason, masked in case it quotes the file.
                notes.push((f.clone(), bulkhead_facts::mask::mask_text(&e.to_string())));
                continue;
            }
        };
        // An empty file (or one of comments only) sets nothing.
        let Some(root) = docs.into_iter().next().map(|d| d.root) else {
            continue;
        };
        let entries = match &root.kind {
            NodeKind::Map(entries) => entries,
            _ if root.is_null() => continue,
            other => {
                let what = match other {
                    NodeKind::Seq(_) => "a list",
                    _ => "a single value",
                };
                notes.push((
                    f.clone(),
                    format!("it holds {what}, not a mapping of k3s settings"),
                ));
                continue;
            }
        };
        for (k, v) in entries {
            let Some(key) = scalar(&k.to_json(Schema::Yaml11)) else {
                continue;
            };
            let (key, append) = match key.strip_suffix('+') {
                Some(k) => (k.to_string(), true),
                None => (key, false),
            };
            let at = |line: u32| format!("{f}, line {line}");
            let values: Vec<(String, String)> = match &v.kind {
                NodeKind::Seq(items) => items
                    .iter()
                    .filter_map(|i| {
                        scalar(&i.to_json(Schema::Yaml11)).map(|s| (s, at(i.span.start.line)))
                    })
                    .collect(),
                _ => scalar(&v.to_json(Schema::Yaml11))
                    .map(|s| (s, at(k.span.start.line)))
                    .into_iter()
                    .collect(),
            };
            let entry = settings.entry(key).or_default();
            if !append {
                entry.clear();
            }
            entry.extend(values);
        }
    }
    let mut out = Vec::new();
    for (key, values) in settings {
        for (v, origin) in values {
            out.push(FlagOccurrence {
                name: key.clone(),
                value: Some(v),
                origin: Some(origin),
            });
        }
    }
    (out, notes)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_on(flags: &Flags, name: &str) -> bool {
    flags
        .last(name)
        .and_then(|v| bulkhead_facts::flags::parse_go_bool(v.trim()))
        .unwrap_or(false)
}

/// k3s's data directory, as k3s decides it. Precedence (k3s's configfilearg places the
/// configuration file's settings before the command line's, and urfave/cli takes the last
/// occurrence; an environment variable only supplies the flag's value when no argument gives
/// one): `--data-dir`/`-d` on the command line, then `data-dir:` in config.yaml and its
/// drop-ins (the last file that sets it), then `K3S_DATA_DIR` in k3s's environment (read by
/// the agent, and by the server since k3s 1.2x; older servers ignore it), then the default:
/// `/var/lib/rancher/k3s` for root, `${HOME}/.rancher/k3s` for a rootless (`--rootless`) or
/// non-root k3s server (HOME from k3s's environment, else the user's home in /etc/passwd).
/// `~` and `${HOME}` in the value are expanded the same way. A relative directory is relative
/// to k3s's working directory (`/proc/<pid>/cwd`); when that cannot be read, or the home is
/// unknown, the directory is unknown (Err, with why) rather than guessed.
fn data_dir(
    p: &Process,
    flags: &Flags,
    env: &BTreeMap<String, String>,
    cwd: Option<&str>,
    input: &Inputs<'_>,
) -> Result<ResolvedPath, String> {
    let given = flags
        .occurrences
        .iter()
        .rev()
        .find(|o| o.name == "data-dir")
        .map(|o| {
            (
                o.value.clone().unwrap_or_default(),
                format!(
                    "k3s --data-dir ({})",
                    o.origin.as_deref().unwrap_or(COMMAND_LINE)
                ),
            )
        })
        .or_else(|| {
            env.get("K3S_DATA_DIR")
                .filter(|v| !v.is_empty())
                .map(|v| (v.clone(), "k3s K3S_DATA_DIR (environment)".to_string()))
        })
        .filter(|(v, _)| !v.is_empty());
    let server = p.args().first().is_some_and(|s| s == "server");
    let home = || -> Result<String, String> {
        if let Some(h) = env.get("HOME").filter(|h| !h.is_empty()) {
            return Ok(h.clone());
        }
        input
            .accounts
            .users
            .iter()
            .find(|u| u.uid == p.uid)
            .map(|u| u.home.clone())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                format!(
                    "its home directory is unknown (no HOME in k3s's environment, pid {}, and no home for uid {} in /etc/passwd)",
                    p.pid, p.uid
                )
            })
    };
    let (value, source, configured) = match given {
        Some((v, source)) => (v, source, true),
        None if is_on(flags, "rootless") || (server && p.uid != 0) => {
            let why = if is_on(flags, "rootless") {
                "rootless"
            } else {
                "not run as root"
            };
            let h = home().map_err(|e| {
                format!(
                    "k3s's data directory is ${{HOME}}/.rancher/k3s (k3s default, {why}), but {e}"
                )
            })?;
            (
                join(&h, ".rancher/k3s"),
                format!("{DEFAULT_SOURCE} ({why}: ${{HOME}}/.rancher/k3s)"),
                false,
            )
        }
        None => (
            DEFAULT_DATA_DIR.to_string(),
            DEFAULT_SOURCE.to_string(),
            false,
        ),
    };
    // resolvehome: `~` and ${HOME} (or $HOME) are the home directory.
    let value = if value.starts_with('~') || value.contains("$HOME") || value.contains("${HOME}") {
        let h = home().map_err(|e| format!("{source} is {value}, but {e}"))?;
        let v = value.replace("${HOME}", &h).replace("$HOME", &h);
        match v.strip_prefix('~') {
            Some(rest) => format!("{h}{rest}"),
            None => v,
        }
    } else {
        value
    };
    let value = if value.starts_with('/') {
        value
    } else {
        match cwd {
            Some(cwd) => join(cwd, value.trim_start_matches("./")),
            None => {
                return Err(format!(
                    "{source} is the relative path {value}, which k3s takes relative to its working directory, and that could not be read (/proc/{}/cwd)",
                    p.pid
                ))
            }
        }
    };
    let value = if value.len() > 1 {
        value.trim_end_matches('/').to_string()
    } else {
        value
    };
    Ok(if configured {
        ResolvedPath::configured(value, source)
    } else {
        ResolvedPath::conventional(value, source)
    })
}

/// A pass-through value (`key=value`, optionally written `--key=value`) as the component's flag.
fn pass_through_flag(v: &str) -> String {
    let v = v.trim_start_matches('-');
    match v.split_once('=') {
        Some((k, val)) => format!("--{k}={val}"),
        None => format!("--{v}=true"),
    }
}

/// The components a running `k3s server` or `k3s agent` carries, keyed by name.
pub fn embedded(
    p: &Process,
    k3s: &K3s,
    input: &Inputs<'_>,
    started_at: Option<String>,
) -> Vec<Component> {
    let sub = p.args().first().cloned().unwrap_or_default();
    let server = match sub.as_str() {
        "server" => true,
        "agent" => false,
        _ => return vec![],
    };
    let flags = &k3s.flags;
    let on = |name: &str| is_on(flags, name);
    // Embedded etcd runs with --cluster-init, or on a server that joined an etcd cluster (its
    // data directory exists under k3s's data directory); never with an external datastore.
    let etcd = !on("disable-etcd")
        && flags
            .last("datastore-endpoint")
            .is_none_or(|e| e.is_empty())
        && (on("cluster-init")
            || k3s
                .under("server/db/etcd")
                .is_some_and(|d| input.fs.exists(&d)));
    let mut process = p.clone();
    process.argv = mask_component_argv(&p.argv);
    process.environ = None;
    let unusable: BTreeMap<String, String> = k3s.unusable.iter().cloned().collect();
    let mut out = Vec::new();
    for (name, option, disabled_by, server_only) in EMBEDDED {
        if (*server_only && !server) || on(disabled_by) || (*name == ETCD && !etcd) {
            continue;
        }
        let given: Vec<&FlagOccurrence> = flags
            .occurrences
            .iter()
            .filter(|o| o.name == *option && o.value.is_some())
            .collect();
        let passed: Vec<String> = given
            .iter()
            .filter_map(|o| o.value.as_deref().map(pass_through_flag))
            .collect();
        let mut component_flags = parse_component_flags(name, &passed);
        // Each pass-through value is one `--key=value` word, so one occurrence: it keeps the
        // place it was written (a configuration file and line; the command line has none).
        if component_flags.occurrences.len() == given.len() {
            for (o, from) in component_flags.occurrences.iter_mut().zip(&given) {
                o.origin = from.origin.clone();
            }
        }
        out.push(Component {
            name: name.to_string(),
            process: process.clone(),
            cwd: None,
            flags: component_flags,
            env: BTreeMap::new(),
            env_files: BTreeMap::new(),
            pending_env: BTreeMap::new(),
            config: None,
            unusable_config: unusable.clone(),
            source: format!("inside k3s {sub}, pid {}; flags from --{option}", p.pid),
            other_pids: vec![],
            started_at: started_at.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_through_values_become_flags() {
        assert_eq!(
            pass_through_flag("anonymous-auth=false"),
            "--anonymous-auth=false"
        );
        assert_eq!(pass_through_flag("--profiling=false"), "--profiling=false");
        assert_eq!(pass_through_flag("a=b=c"), "--a=b=c");
        assert_eq!(
            pass_through_flag("protect-kernel-defaults"),
            "--protect-kernel-defaults=true"
        );
    }
}
