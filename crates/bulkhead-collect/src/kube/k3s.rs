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
//! A configuration file (or drop-in) that cannot be read or parsed stops k3s when it starts, so
//! the running k3s read a version of it that bulkhead cannot see: every flag it passes is then
//! unknown. Each embedded component records such a file in its `unusable_config`, with the
//! reason (line and column where known); the checks turn every setting of the component into
//! an error naming it.

use super::configs::parse_document;
use super::Inputs;
use bulkhead_facts::flags::{FlagSpec, Flags};
use bulkhead_facts::host::Process;
use bulkhead_facts::kube::{
    mask_component_argv, parse_component_flags, Component, APISERVER, CONTROLLER_MANAGER, ETCD,
    KUBELET, PROXY, SCHEDULER,
};
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

/// The default configuration file and drop-in directory of k3s.
pub const CONFIG_FILE: &str = "/etc/rancher/k3s/config.yaml";

/// Where k3s 1.29 and later keeps the KubeletConfiguration drop-ins it writes for its kubelet
/// (`00-k3s-defaults.conf`), passing the directory as the kubelet's `--config-dir`.
pub const KUBELET_CONFIG_DIR: &str = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d";

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

/// The k3s arguments in force: the configuration file's (and its drop-ins') as `--key=value`
/// words first, then the command line's. Files that exist but cannot be read or parsed (and a
/// drop-in directory that cannot be listed) are returned beside them: (path, reason).
fn effective_args(p: &Process, input: &Inputs<'_>) -> (Vec<String>, Vec<(String, String)>) {
    let cli: Vec<String> = p.args().iter().skip(1).cloned().collect();
    let cli_flags = Flags::parse(
        &cli,
        FlagSpec {
            booleans: K3S_BOOLEANS,
            short: &[("c", "config")],
        },
    );
    let config = cli_flags
        .last("config")
        .unwrap_or_else(|| CONFIG_FILE.to_string());
    let mut notes = Vec::new();
    let mut files = vec![config.clone()];
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
    let mut settings: BTreeMap<String, Vec<String>> = BTreeMap::new();
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
        let doc = match parse_document(&text) {
            Ok(Value::Object(m)) => m,
            Ok(Value::Null) => continue,
            Ok(other) => {
                let what = match other {
                    Value::Array(_) => "a list",
                    _ => "a single value",
                };
                notes.push((
                    f.clone(),
                    format!("it holds {what}, not a mapping of k3s settings"),
                ));
                continue;
            }
            Err(e) => {
                // The parser's reason, masked in case it quotes the file.
                notes.push((f.clone(), bulkhead_facts::mask::mask_text(&e)));
                continue;
            }
        };
        for (key, v) in doc {
            let (key, append) = match key.strip_suffix('+') {
                Some(k) => (k.to_string(), true),
                None => (key, false),
            };
            let values: Vec<String> = match v {
                Value::Array(items) => items.iter().filter_map(scalar).collect(),
                other => scalar(&other).into_iter().collect(),
            };
            let entry = settings.entry(key).or_default();
            if !append {
                entry.clear();
            }
            entry.extend(values);
        }
    }
    let mut args = Vec::new();
    for (key, values) in settings {
        for v in values {
            args.push(format!("--{key}={v}"));
        }
    }
    args.extend(cli);
    (args, notes)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
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
pub fn embedded(p: &Process, input: &Inputs<'_>, started_at: Option<String>) -> Vec<Component> {
    let sub = p.args().first().cloned().unwrap_or_default();
    let server = match sub.as_str() {
        "server" => true,
        "agent" => false,
        _ => return vec![],
    };
    let (args, unusable) = effective_args(p, input);
    let flags = Flags::parse(
        &args,
        FlagSpec {
            booleans: K3S_BOOLEANS,
            short: &[("c", "config")],
        },
    );
    let on = |name: &str| {
        flags
            .last(name)
            .and_then(|v| bulkhead_facts::flags::parse_go_bool(v.trim()))
            .unwrap_or(false)
    };
    // Embedded etcd runs with --cluster-init, or on a server that joined an etcd cluster (its
    // data directory exists); never with an external datastore.
    let etcd = !on("disable-etcd")
        && flags
            .last("datastore-endpoint")
            .is_none_or(|e| e.is_empty())
        && (on("cluster-init") || input.fs.exists("/var/lib/rancher/k3s/server/db/etcd"));
    let mut process = p.clone();
    process.argv = mask_component_argv(&p.argv);
    process.environ = None;
    let mut out = Vec::new();
    for (name, option, disabled_by, server_only) in EMBEDDED {
        if (*server_only && !server) || on(disabled_by) || (*name == ETCD && !etcd) {
            continue;
        }
        let passed: Vec<String> = flags
            .occurrences
            .iter()
            .filter(|o| o.name == *option)
            .filter_map(|o| o.value.as_deref().map(pass_through_flag))
            .collect();
        out.push(Component {
            name: name.to_string(),
            process: process.clone(),
            cwd: None,
            flags: parse_component_flags(name, &passed),
            env: BTreeMap::new(),
            env_files: BTreeMap::new(),
            pending_env: BTreeMap::new(),
            config: None,
            unusable_config: unusable.iter().cloned().collect(),
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
