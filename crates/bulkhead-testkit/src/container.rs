//! [`ContainerSpec`]: the body of `POST /containers/create`, built with methods named after the
//! `docker run` flags they stand for, so a test reads like the command line it replaces.

use crate::image::TEST_IMAGE;
use serde_json::{json, Map, Value};

/// A container to create. Defaults: the test image, `sleep 100000`, network mode `none`.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    config: Map<String, Value>,
    host_config: Map<String, Value>,
}

impl Default for ContainerSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl ContainerSpec {
    pub fn new() -> Self {
        let mut config = Map::new();
        config.insert("Image".into(), json!(TEST_IMAGE));
        config.insert("Cmd".into(), json!(["sleep", "100000"]));
        let mut host_config = Map::new();
        host_config.insert("NetworkMode".into(), json!("none"));
        ContainerSpec {
            config,
            host_config,
        }
    }

    /// The JSON body for `POST /containers/create`.
    pub fn body(&self) -> Value {
        let mut body = self.config.clone();
        body.insert("HostConfig".into(), Value::Object(self.host_config.clone()));
        Value::Object(body)
    }

    /// Set any top-level container config field (escape hatch).
    pub fn config(mut self, key: &str, value: Value) -> Self {
        self.config.insert(key.into(), value);
        self
    }

    /// Set any `HostConfig` field (escape hatch).
    pub fn host(mut self, key: &str, value: Value) -> Self {
        self.host_config.insert(key.into(), value);
        self
    }

    fn push_host(mut self, key: &str, item: Value) -> Self {
        let entry = self
            .host_config
            .entry(key.to_string())
            .or_insert_with(|| json!([]));
        if let Value::Array(a) = entry {
            a.push(item);
        }
        self
    }

    /// `IMAGE`
    pub fn image(self, image: &str) -> Self {
        self.config("Image", json!(image))
    }

    /// The command (`docker run IMAGE CMD...`).
    pub fn cmd(self, argv: &[&str]) -> Self {
        self.config("Cmd", json!(argv))
    }

    /// `--label KEY=VALUE`
    pub fn label(mut self, key: &str, value: &str) -> Self {
        let labels = self
            .config
            .entry("Labels".to_string())
            .or_insert_with(|| json!({}));
        labels[key] = json!(value);
        self
    }

    /// `--env NAME=VALUE`
    pub fn env(mut self, assignment: &str) -> Self {
        let env = self
            .config
            .entry("Env".to_string())
            .or_insert_with(|| json!([]));
        if let Value::Array(a) = env {
            a.push(json!(assignment));
        }
        self
    }

    /// `--user USER`
    pub fn user(self, user: &str) -> Self {
        self.config("User", json!(user))
    }

    /// `--read-only`
    pub fn read_only(self) -> Self {
        self.host("ReadonlyRootfs", json!(true))
    }

    /// `--privileged`
    pub fn privileged(self) -> Self {
        self.host("Privileged", json!(true))
    }

    /// `--security-opt OPT` (e.g. `no-new-privileges`, `seccomp=unconfined`).
    pub fn security_opt(self, opt: &str) -> Self {
        self.push_host("SecurityOpt", json!(opt))
    }

    /// `--cap-add CAP`
    pub fn cap_add(self, cap: &str) -> Self {
        self.push_host("CapAdd", json!(cap))
    }

    /// `--cap-drop CAP` (`ALL` drops every capability).
    pub fn cap_drop(self, cap: &str) -> Self {
        self.push_host("CapDrop", json!(cap))
    }

    /// `--network MODE` (`host`, `none`, `bridge`, a network name).
    pub fn network(self, mode: &str) -> Self {
        self.host("NetworkMode", json!(mode))
    }

    /// `--pid MODE`
    pub fn pid_mode(self, mode: &str) -> Self {
        self.host("PidMode", json!(mode))
    }

    /// `--ipc MODE`
    pub fn ipc_mode(self, mode: &str) -> Self {
        self.host("IpcMode", json!(mode))
    }

    /// `--uts MODE`
    pub fn uts_mode(self, mode: &str) -> Self {
        self.host("UTSMode", json!(mode))
    }

    /// `--userns MODE`
    pub fn userns_mode(self, mode: &str) -> Self {
        self.host("UsernsMode", json!(mode))
    }

    /// `-v SRC:DST[:OPTS]`
    pub fn bind(self, spec: &str) -> Self {
        self.push_host("Binds", json!(spec))
    }

    /// `--mount type=bind,source=SRC,target=DST,bind-propagation=PROP`
    pub fn bind_mount(self, source: &str, target: &str, propagation: Option<&str>) -> Self {
        let mut m = json!({"Type": "bind", "Source": source, "Target": target});
        if let Some(p) = propagation {
            m["BindOptions"] = json!({ "Propagation": p });
        }
        self.push_host("Mounts", m)
    }

    /// `-p HOST_IP:HOST_PORT:CONTAINER_PORT/tcp` (`host_ip` `"::"` binds IPv6).
    pub fn publish(mut self, host_ip: &str, host_port: u16, container_port: u16) -> Self {
        let key = format!("{container_port}/tcp");
        let bindings = self
            .host_config
            .entry("PortBindings".to_string())
            .or_insert_with(|| json!({}));
        let list = bindings
            .as_object_mut()
            .expect("PortBindings is an object")
            .entry(key.clone())
            .or_insert_with(|| json!([]));
        if let Value::Array(a) = list {
            a.push(json!({"HostIp": host_ip, "HostPort": host_port.to_string()}));
        }
        let exposed = self
            .config
            .entry("ExposedPorts".to_string())
            .or_insert_with(|| json!({}));
        exposed[key] = json!({});
        self
    }

    /// `--restart NAME[:MAX]`
    pub fn restart(self, name: &str, max_retries: i64) -> Self {
        self.host(
            "RestartPolicy",
            json!({"Name": name, "MaximumRetryCount": max_retries}),
        )
    }

    /// `--health-cmd CMD --health-interval SECS --health-retries N` (CMD run by `/bin/sh -c`
    /// inside the container: test-authored text, never anything read from an audited host).
    pub fn health_cmd(self, cmd: &str, interval_secs: u64, retries: i64) -> Self {
        let ns = (interval_secs as i64) * 1_000_000_000;
        self.config(
            "Healthcheck",
            json!({"Test": ["CMD-SHELL", cmd], "Interval": ns, "Timeout": ns, "Retries": retries}),
        )
    }

    /// `--memory BYTES`
    pub fn memory(self, bytes: i64) -> Self {
        self.host("Memory", json!(bytes))
    }

    /// `--cpu-shares N`
    pub fn cpu_shares(self, shares: i64) -> Self {
        self.host("CpuShares", json!(shares))
    }

    /// `--pids-limit N`
    pub fn pids_limit(self, limit: i64) -> Self {
        self.host("PidsLimit", json!(limit))
    }

    /// `--device HOST:CONTAINER:PERMS`
    pub fn device(self, host: &str, container: &str, perms: &str) -> Self {
        self.push_host(
            "Devices",
            json!({"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": perms}),
        )
    }

    /// `--ulimit NAME=SOFT:HARD`
    pub fn ulimit(self, name: &str, soft: i64, hard: i64) -> Self {
        self.push_host("Ulimits", json!({"Name": name, "Soft": soft, "Hard": hard}))
    }

    /// `--cgroup-parent PATH`
    pub fn cgroup_parent(self, parent: &str) -> Self {
        self.host("CgroupParent", json!(parent))
    }
}
