//! The Docker daemon as the host sees it: which `dockerd` process serves the API endpoint, its
//! flags, the daemon.json that really applies, rootless mode, and every path the checks need,
//! resolved from that configuration (sockets, data root, TLS files, containerd socket and config,
//! systemd unit files where systemd looks for them, binaries).
//!
//! The process is found by executable name only (PITFALL 4: never `dockerd-rootless.sh`, never an
//! editor with "dockerd" in its arguments); when several dockerd processes run, the one listening
//! on the endpoint's socket is chosen. Rootless Docker (PITFALL 22) uses its user's home and
//! runtime directory.

use crate::hostfs::HostFs;
use bulkhead_facts::docker::{
    parse_dockerd_flags, resolve_paths, DaemonFacts, DaemonSettings, Endpoint, Info,
    DEFAULT_CONFIG_FILE, DEFAULT_SOCKET, SYSTEMD_UNIT_DIRS,
};
use bulkhead_facts::host::{PasswdEntry, Process};
use bulkhead_facts::mask::{is_secret_name, mask_credentials, MASK};
use bulkhead_facts::Fact;

/// Where binaries are looked for, in order.
pub const BIN_DIRS: &[&str] = &[
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/bin",
    "/sbin",
];

/// Binaries the audit rules (1.1.x) name.
pub const BINARIES: &[&str] = &[
    "dockerd",
    "containerd",
    "containerd-shim",
    "containerd-shim-runc-v1",
    "containerd-shim-runc-v2",
    "runc",
];

/// Unit files the checks name.
pub const UNITS: &[&str] = &["docker.service", "docker.socket", "containerd.service"];

/// Where systemd looks for a user's units (rootless Docker runs as a user unit), after `~/.config`.
const USER_UNIT_DIRS: &[&str] = &["/etc/systemd/user", "/usr/lib/systemd/user"];

/// What the daemon facts are derived from.
pub struct DaemonInputs<'a> {
    pub processes: &'a [Process],
    pub endpoint: &'a Endpoint,
    pub info: Option<&'a Info>,
    pub fs: &'a HostFs,
    pub users: &'a [PasswdEntry],
}

/// The daemon's facts for a daemon on this host.
pub fn local_daemon(input: &DaemonInputs<'_>) -> DaemonFacts {
    let (process, process_reason) = find_dockerd(input);
    let found = process.value().cloned().flatten();
    let rootless = detect_rootless(found.as_ref(), input);
    let rootless_dirs = rootless
        .as_ref()
        .map(|r| (r.home.clone(), r.runtime_dir.clone()));
    let flags = found
        .as_ref()
        .map(|p| parse_dockerd_flags(p.args()))
        .unwrap_or_default();
    let config_path = flags
        .last("config-file")
        .unwrap_or_else(|| match &rootless_dirs {
            Some((home, _)) => format!("{home}/.config/docker/daemon.json"),
            None => DEFAULT_CONFIG_FILE.to_string(),
        });
    let config = read_daemon_json(input.fs, &config_path);
    let settings = DaemonSettings::new(
        flags.clone(),
        config.value().cloned().flatten(),
        config_path.clone(),
    );
    let mut paths = resolve_paths(
        &settings,
        rootless_dirs
            .as_ref()
            .map(|(h, r)| (h.as_str(), r.as_str())),
    );
    // The data root the API reports is authoritative when none is configured (under
    // userns-remap it is `<data-root>/<uid>.<gid>`: the configured root is its parent).
    if settings.string("data-root").is_none() && settings.string("graph").is_none() {
        if let Some(reported) = input.info.map(|i| i.docker_root_dir.as_str()) {
            if !reported.is_empty() {
                paths.data_root = strip_userns_suffix(reported, input.info);
            }
        }
    }
    fill_tls_defaults(&settings, &mut paths, found.as_ref(), input.users);
    fill_containerd(
        &settings,
        &mut paths,
        found.as_ref(),
        input.processes,
        input.fs,
    );
    let home = rootless_dirs.as_ref().map(|(h, _)| h.as_str());
    for unit in UNITS {
        paths
            .units
            .insert(unit.to_string(), find_unit(input.fs, unit, home));
    }
    for bin in BINARIES {
        let from_process = (*bin == "dockerd")
            .then(|| found.as_ref().and_then(|p| p.exe.clone()))
            .flatten()
            .map(|e| e.trim_end_matches(" (deleted)").to_string());
        let path = from_process.or_else(|| find_binary(input.fs, bin, home));
        paths.binaries.insert(bin.to_string(), path);
    }
    DaemonFacts {
        process,
        process_reason,
        flags,
        rootless: rootless.is_some(),
        config_path,
        config,
        paths,
        // Read where /proc and the file system are at hand (`crate::assemble_docker`).
        started_at: None,
        open_files_limit: None,
        config_modified_at: None,
    }
}

/// The daemon's facts when the API endpoint is a remote daemon: nothing of the host is read.
pub fn remote_daemon(endpoint: &Endpoint, info: Option<&Info>) -> DaemonFacts {
    let reason = format!(
        "remote daemon: the API endpoint {} is another machine, whose processes and files bulkhead does not read",
        endpoint.host
    );
    let mut paths = resolve_paths(&DaemonSettings::default(), None);
    if let Some(i) = info.filter(|i| !i.docker_root_dir.is_empty()) {
        paths.data_root = strip_userns_suffix(&i.docker_root_dir, info);
    }
    DaemonFacts {
        process: Fact::Unavailable("remote daemon".into()),
        process_reason: reason.clone(),
        rootless: info.is_some_and(|i| i.has_security_option("rootless")),
        config_path: String::new(),
        config: Fact::Unavailable(reason),
        paths,
        ..Default::default()
    }
}

/// `/srv/docker/100000.100000` -> `/srv/docker` when user-namespace remapping is on.
fn strip_userns_suffix(root: &str, info: Option<&Info>) -> String {
    let userns = info.is_some_and(|i| i.has_security_option("userns"));
    if let Some((parent, last)) = root.rsplit_once('/') {
        let remapped = last
            .split_once('.')
            .is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok());
        if userns && remapped && !parent.is_empty() {
            return parent.to_string();
        }
    }
    root.to_string()
}

/// Find the dockerd serving the endpoint, and say why that one.
fn find_dockerd(input: &DaemonInputs<'_>) -> (Fact<Option<Process>>, String) {
    let named: Vec<&Process> = input
        .processes
        .iter()
        .filter(|p| p.is_program("dockerd"))
        .collect();
    // A child dockerd has just forked (to exec `runc --version` on an /info call) still shows
    // its parent's command line: it is the same daemon, not another one.
    let candidates: Vec<&Process> = named
        .iter()
        .filter(|p| {
            !named
                .iter()
                .any(|parent| parent.pid == p.ppid && parent.argv == p.argv)
        })
        .copied()
        .collect();
    match candidates.as_slice() {
        [] => (
            Fact::Value(None),
            "no dockerd process runs on this host (matched by executable name)".into(),
        ),
        [only] => (
            Fact::Value(Some((*only).clone())),
            format!("the only dockerd process (pid {})", only.pid),
        ),
        many => {
            let wanted = endpoint_address(input.endpoint);
            let matching: Vec<&&Process> = many
                .iter()
                .filter(|p| {
                    listen_addresses(p, input)
                        .iter()
                        .any(|a| Some(a) == wanted.as_ref())
                })
                .collect();
            // dockerd forks helpers (`runc --version` on every /info call): between fork and
            // exec the child shows its parent's command line. The daemon is the one whose parent
            // is not itself a match.
            let matching: Vec<&&Process> = matching
                .iter()
                .filter(|p| !matching.iter().any(|q| q.pid == p.ppid))
                .copied()
                .collect();
            let pids = many
                .iter()
                .map(|p| p.pid.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            match matching.as_slice() {
                [one] => (
                    Fact::Value(Some((**one).clone())),
                    format!(
                        "listens on {} (one of {} dockerd processes: pids {pids})",
                        input.endpoint.host,
                        many.len()
                    ),
                ),
                [] => {
                    let reason = format!(
                        "{} dockerd processes run (pids {pids}) and none listens on {}",
                        many.len(),
                        input.endpoint.host
                    );
                    (Fact::Unavailable(reason.clone()), reason)
                }
                several => {
                    let reason = format!(
                        "{} dockerd processes listen on {} (pids {pids})",
                        several.len(),
                        input.endpoint.host
                    );
                    (Fact::Unavailable(reason.clone()), reason)
                }
            }
        }
    }
}

/// A comparable form of an API address: `unix:/run/docker.sock` (`/var/run` folded into `/run`),
/// `tcp:127.0.0.1:2376`.
fn normalize_address(addr: &str) -> Option<String> {
    if let Some(path) = addr.strip_prefix("unix://") {
        let path = if path.is_empty() {
            DEFAULT_SOCKET
        } else {
            path
        };
        let path = match path.strip_prefix("/var/run/") {
            Some(rest) => format!("/run/{rest}"),
            None => path.to_string(),
        };
        return Some(format!("unix:{path}"));
    }
    if addr.starts_with('/') {
        return normalize_address(&format!("unix://{addr}"));
    }
    for scheme in ["tcp://", "http://", "https://"] {
        if let Some(rest) = addr.strip_prefix(scheme) {
            let rest = rest.trim_end_matches('/');
            // Credentials in the address (`user:***@`, as endpoints are recorded) are not part
            // of where the daemon listens.
            let rest = rest.rsplit_once('@').map_or(rest, |(_, address)| address);
            let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "2375"));
            let host = match host {
                "" | "0.0.0.0" | "[::]" | "localhost" => "127.0.0.1",
                h => h,
            };
            return Some(format!("tcp:{host}:{port}"));
        }
    }
    None
}

fn endpoint_address(e: &Endpoint) -> Option<String> {
    normalize_address(&e.host)
}

/// Addresses a dockerd process listens on: its `-H` flags, else its daemon.json `hosts`, else the
/// default socket (socket activation `fd://` is the default socket too).
fn listen_addresses(p: &Process, input: &DaemonInputs<'_>) -> Vec<String> {
    let flags = parse_dockerd_flags(p.args());
    let mut hosts = flags.all("host");
    if hosts.is_empty() {
        let config_path = flags
            .last("config-file")
            .unwrap_or_else(|| DEFAULT_CONFIG_FILE.to_string());
        if let Some(Some(v)) = read_daemon_json(input.fs, &config_path).value() {
            if let Some(list) = v.get("hosts").and_then(|h| h.as_array()) {
                hosts = list
                    .iter()
                    .filter_map(|h| h.as_str().map(String::from))
                    .collect();
            }
        }
    }
    if hosts.is_empty() || hosts.iter().any(|h| h.starts_with("fd://")) {
        let default = if p.uid != 0 {
            format!("/run/user/{}/docker.sock", p.uid)
        } else {
            DEFAULT_SOCKET.to_string()
        };
        hosts.push(format!("unix://{default}"));
    }
    hosts.iter().filter_map(|h| normalize_address(h)).collect()
}

/// A rootless daemon's user locations.
struct Rootless {
    home: String,
    runtime_dir: String,
}

/// Rootless Docker: dockerd run by a non-root uid, under rootlesskit, with `--rootless`, or
/// reporting `name=rootless` in its security options.
fn detect_rootless(process: Option<&Process>, input: &DaemonInputs<'_>) -> Option<Rootless> {
    let by_info = input
        .info
        .is_some_and(|i| i.has_security_option("rootless"));
    let uid = match process {
        Some(p) => {
            let parent_is_rootlesskit = input
                .processes
                .iter()
                .find(|q| q.pid == p.ppid)
                .is_some_and(|q| q.is_program("rootlesskit"));
            let flagged = parse_dockerd_flags(p.args()).bool("rootless") == Some(true);
            if p.uid == 0 && !parent_is_rootlesskit && !flagged && !by_info {
                return None;
            }
            Some(p.uid)
        }
        None if by_info => uid_from_socket(&input.endpoint.host),
        None => return None,
    };
    let uid = uid.unwrap_or(0);
    let home = input
        .users
        .iter()
        .find(|u| u.uid == uid)
        .map(|u| u.home.clone())
        .unwrap_or_else(|| format!("/home/{uid}"));
    let runtime_dir = process
        .and_then(|p| p.environ.as_ref())
        .and_then(|e| e.get("XDG_RUNTIME_DIR").cloned())
        .unwrap_or_else(|| format!("/run/user/{uid}"));
    Some(Rootless { home, runtime_dir })
}

/// `unix:///run/user/1000/docker.sock` -> 1000.
fn uid_from_socket(host: &str) -> Option<u32> {
    host.strip_prefix("unix:///run/user/")?
        .split('/')
        .next()?
        .parse()
        .ok()
}

/// Read daemon.json: absent is `Value(None)`; unreadable or invalid JSON is unavailable with a
/// reason naming the file (and line). Values under secret-looking keys are masked.
pub fn read_daemon_json(fs: &HostFs, path: &str) -> Fact<Option<serde_json::Value>> {
    let text = match fs.read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Fact::Value(None),
        Err(e) => return Fact::Unavailable(format!("cannot read {}: {e}", fs.describe(path))),
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(mut v) => {
            mask_json(&mut v);
            Fact::Value(Some(v))
        }
        Err(e) => Fact::Unavailable(format!(
            "{} is not valid JSON: line {}, column {}: {e}; fix the file (dockerd refuses to start with it)",
            fs.describe(path),
            e.line(),
            e.column()
        )),
    }
}

/// Secret values out of daemon.json before it is kept: the value of a secret-looking key, and
/// credentials inside any other string (`"splunk-url": "https://u:***@splunk:8088"`, a
/// registry mirror with a password).
fn mask_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if is_secret_name(k) && val.is_string() {
                    *val = serde_json::Value::String(MASK.into());
                } else {
                    mask_json(val);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(mask_json),
        serde_json::Value::String(s) => {
            let masked = mask_credentials(s);
            if masked != *s {
                *s = masked;
            }
        }
        _ => {}
    }
}

/// With TLS on and no certificate paths configured, dockerd uses `~/.docker/{ca,cert,key}.pem`
/// of the user it runs as (or `DOCKER_CERT_PATH` from its environment).
fn fill_tls_defaults(
    settings: &DaemonSettings,
    paths: &mut bulkhead_facts::docker::DockerPaths,
    process: Option<&Process>,
    users: &[PasswdEntry],
) {
    let tls_on = settings.bool("tlsverify").is_some_and(|(b, _)| b)
        || settings.bool("tls").is_some_and(|(b, _)| b);
    if !tls_on {
        return;
    }
    let uid = process.map(|p| p.uid).unwrap_or(0);
    let dir = process
        .and_then(|p| p.environ.as_ref())
        .and_then(|e| e.get("DOCKER_CERT_PATH").cloned())
        .unwrap_or_else(|| {
            let home = users
                .iter()
                .find(|u| u.uid == uid)
                .map(|u| u.home.clone())
                .unwrap_or_else(|| "/root".into());
            format!("{}/.docker", home.trim_end_matches('/'))
        });
    let verify = settings.bool("tlsverify").is_some_and(|(b, _)| b);
    if paths.tls_ca.is_none() && verify {
        paths.tls_ca = Some(format!("{dir}/ca.pem"));
    }
    if paths.tls_cert.is_none() {
        paths.tls_cert = Some(format!("{dir}/cert.pem"));
    }
    if paths.tls_key.is_none() {
        paths.tls_key = Some(format!("{dir}/key.pem"));
    }
}

/// The containerd this daemon uses: `--containerd` when given; else the containerd dockerd
/// started itself (a child process: socket under the exec root); else the system containerd
/// (its `--address` / `--config` flags, its config's `[grpc] address`, or the defaults).
fn fill_containerd(
    settings: &DaemonSettings,
    paths: &mut bulkhead_facts::docker::DockerPaths,
    dockerd: Option<&Process>,
    processes: &[Process],
    fs: &HostFs,
) {
    let containerd_flags = |p: &Process| {
        bulkhead_facts::flags::Flags::parse(
            p.args(),
            bulkhead_facts::flags::FlagSpec {
                booleans: &[],
                short: &[("a", "address"), ("c", "config")],
            },
        )
    };
    let managed = dockerd.and_then(|d| {
        processes
            .iter()
            .find(|p| p.ppid == d.pid && p.is_program("containerd"))
    });
    let system = processes
        .iter()
        .find(|p| p.is_program("containerd") && Some(p.pid) != managed.map(|m| m.pid));
    if let Some(m) = managed {
        let f = containerd_flags(m);
        paths.containerd_config = f
            .last("config")
            .unwrap_or_else(|| format!("{}/containerd/containerd.toml", paths.exec_root));
    } else if let Some(s) = system {
        if let Some(c) = containerd_flags(s).last("config") {
            paths.containerd_config = c;
        }
    }
    if settings.string("containerd").is_some() {
        return;
    }
    let process = managed.or(system);
    let from_flag = process.and_then(|p| containerd_flags(p).last("address"));
    let from_config = grpc_address(fs, &paths.containerd_config);
    let socket = from_flag
        .or(from_config)
        .or_else(|| managed.map(|_| format!("{}/containerd/containerd.sock", paths.exec_root)));
    if let Some(s) = socket {
        paths.containerd_socket = Some(s);
    }
}

/// `[grpc] address` of a containerd config file.
fn grpc_address(fs: &HostFs, config: &str) -> Option<String> {
    let text = fs.read_to_string(config).ok()?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    doc.get("grpc")?
        .get("address")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The unit file systemd would load for `unit`: the first directory in precedence order that
/// holds it (a rootless daemon's user unit directories first).
fn find_unit(fs: &HostFs, unit: &str, rootless_home: Option<&str>) -> Option<String> {
    let mut dirs: Vec<String> = Vec::new();
    if let Some(home) = rootless_home {
        dirs.push(format!("{home}/.config/systemd/user"));
        dirs.extend(USER_UNIT_DIRS.iter().map(|d| d.to_string()));
    }
    dirs.extend(SYSTEMD_UNIT_DIRS.iter().map(|d| d.to_string()));
    dirs.iter()
        .map(|d| format!("{d}/{unit}"))
        .find(|p| fs.exists(p))
}

fn find_binary(fs: &HostFs, name: &str, rootless_home: Option<&str>) -> Option<String> {
    let mut dirs: Vec<String> = Vec::new();
    if let Some(home) = rootless_home {
        dirs.push(format!("{home}/bin"));
    }
    dirs.extend(BIN_DIRS.iter().map(|d| d.to_string()));
    dirs.iter()
        .map(|d| format!("{d}/{name}"))
        .find(|p| fs.exists(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dockerd(pid: u32, ppid: u32, socket: &str) -> Process {
        Process {
            pid,
            ppid,
            comm: "dockerd".into(),
            exe: Some("/usr/sbin/dockerd".into()),
            argv: vec![
                "dockerd".into(),
                "--host".into(),
                format!("unix://{socket}"),
            ],
            uid: 0,
            pid_ns: None,
            environ: None,
            no_new_privs: None,
        }
    }

    /// Found against a real dockerd: each /info call makes dockerd fork `runc --version`, and a
    /// process list read in that moment holds a child with the daemon's own command line.
    #[test]
    fn a_forked_child_with_the_daemons_command_line_is_not_a_second_daemon() {
        let processes = vec![
            dockerd(100, 1, "/tmp/a.sock"),
            dockerd(200, 1, "/tmp/b.sock"),
            dockerd(201, 200, "/tmp/b.sock"),
        ];
        let endpoint = Endpoint {
            host: "unix:///tmp/b.sock".into(),
            ..Default::default()
        };
        let fs = HostFs::new("/nonexistent-root");
        let input = DaemonInputs {
            processes: &processes,
            endpoint: &endpoint,
            info: None,
            fs: &fs,
            users: &[],
        };
        let (found, reason) = find_dockerd(&input);
        assert_eq!(
            found.value().cloned().flatten().map(|p| p.pid),
            Some(200),
            "{reason}"
        );
        // With one daemon, its forked child does not make the choice ambiguous either, whatever
        // the endpoint.
        let one = vec![
            dockerd(200, 1, "/tmp/b.sock"),
            dockerd(201, 200, "/tmp/b.sock"),
        ];
        let ssh = Endpoint {
            host: "ssh://me@localhost".into(),
            ..Default::default()
        };
        let (found, reason) = find_dockerd(&DaemonInputs {
            processes: &one,
            endpoint: &ssh,
            ..input
        });
        assert_eq!(found.value().cloned().flatten().map(|p| p.pid), Some(200));
        assert_eq!(reason, "the only dockerd process (pid 200)");
    }

    #[test]
    fn addresses_compare_in_one_form() {
        let n = |a: &str| normalize_address(a).unwrap();
        assert_eq!(
            n("unix:///var/run/docker.sock"),
            n("unix:///run/docker.sock")
        );
        assert_eq!(n("unix://"), "unix:/run/docker.sock", "the default socket");
        assert_eq!(n("/tmp/d.sock"), "unix:/tmp/d.sock");
        assert_eq!(n("tcp://0.0.0.0:2376"), n("tcp://127.0.0.1:2376"));
        assert_eq!(n("tcp://10.0.0.5"), "tcp:10.0.0.5:2375");
        assert_ne!(n("tcp://10.0.0.5:2376"), n("tcp://10.0.0.6:2376"));
        assert_eq!(normalize_address("ssh://me@host"), None);
    }
}
