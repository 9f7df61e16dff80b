//! Finding the node components by executable name, never by a substring of a command line (the
//! API server's `--kubelet-*` flags do not make it a kubelet, `--etcd-servers` does not make it
//! etcd), and reading their raw command line and environment again so Kubernetes switches that
//! merely look secret (`--client-cert-auth`) keep their values while real secrets are masked.

use super::Inputs;
use bulkhead_facts::host::{HostFacts, Process};
use bulkhead_facts::kube::{
    mask_component_argv, mask_env, parse_component_flags, Component, COMPONENTS, ETCD,
};
use std::collections::BTreeMap;

pub struct Found {
    pub components: BTreeMap<String, Component>,
    pub absent: BTreeMap<String, String>,
}

/// Look for every component among the host's processes.
pub fn find(host: &HostFacts, input: &Inputs<'_>) -> Found {
    let mut components = BTreeMap::new();
    let mut absent = BTreeMap::new();
    let processes = match host.processes.as_result() {
        Ok(p) => p.as_slice(),
        Err(why) => {
            for c in COMPONENTS {
                absent.insert(c.to_string(), format!("processes could not be read: {why}"));
            }
            return Found { components, absent };
        }
    };
    for name in COMPONENTS {
        let mut matches: Vec<&Process> = processes.iter().filter(|p| p.is_program(name)).collect();
        matches.sort_by_key(|p| p.pid);
        // A component started by another instance of itself (a wrapper re-exec) is one component:
        // keep the outermost.
        let Some(first) = matches.first().copied() else {
            absent.insert(
                name.to_string(),
                format!(
                    "{name} does not run on this node (no process named {name} in {})",
                    input.proc.display()
                ),
            );
            continue;
        };
        if let Some(c) = read_component(name, first, input) {
            let mut c = c;
            c.other_pids = matches[1..].iter().map(|p| p.pid).collect();
            components.insert(name.to_string(), c);
        } else {
            absent.insert(
                name.to_string(),
                format!("{name} (pid {}) exited while it was read", first.pid),
            );
        }
    }
    Found { components, absent }
}

fn split_nul(raw: &[u8]) -> Vec<String> {
    raw.split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// Read one component's process again, raw, and parse it.
fn read_component(name: &str, p: &Process, input: &Inputs<'_>) -> Option<Component> {
    let dir = input.proc.join(p.pid.to_string());
    let argv = split_nul(&std::fs::read(dir.join("cmdline")).ok()?);
    let args: Vec<String> = argv.iter().skip(1).cloned().collect();
    let flags = parse_component_flags(name, &args);
    let env = if name == ETCD {
        let raw = std::fs::read(dir.join("environ"))
            .map(|r| split_nul(&r))
            .unwrap_or_default();
        mask_env(
            raw.iter()
                .filter_map(|a| a.split_once('='))
                .filter(|(k, _)| k.starts_with("ETCD_"))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    } else {
        BTreeMap::new()
    };
    let cwd = std::fs::read_link(dir.join("cwd"))
        .ok()
        .map(|c| c.to_string_lossy().into_owned());
    let mut process = p.clone();
    process.argv = mask_component_argv(&argv);
    // The host collector keeps environments of several daemons; the component's settings are in
    // `env` (only ETCD_*), so the full environment is not repeated here.
    process.environ = None;
    Some(Component {
        name: name.to_string(),
        process,
        cwd,
        flags,
        env,
        env_files: BTreeMap::new(),
        pending_env: BTreeMap::new(),
        config: None,
        unusable_config: BTreeMap::new(),
        source: "process".into(),
        other_pids: vec![],
        started_at: crate::procfs::start_time(input.proc, p.pid)
            .map(bulkhead_facts::time::rfc3339_utc),
    })
}
