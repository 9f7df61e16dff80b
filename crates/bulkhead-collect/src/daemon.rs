//! The Docker daemon as the host sees it: which `dockerd` process serves the API endpoint, its
//! flags, the daemon.json that really applies, rootless mode, and every path the checks need,
//! resolved from that configuration (sockets, data root, TLS files, containerd socket and config,
//! systemd unit files where systemd looks for them, binaries).
//!
//! The process is found by executable name only (PITFALL 4: never `dockerd-rootless.sh`, never an
//! editor with "dockerd" in its arguments); when several dockerd processes run, the one serving
//! the endpoint is chosen by its socket file (device and inode, so that a socket mounted at
//! another path in bulkhead's container still matches), else by the data root the API reports,
//! else by its address (the rule is [`find_dockerd`]'s). Rootless Docker (PITFALL 22) uses its
//! user's home and runtime directory.

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

/// Where systemd's user manager looks for a user's units (rootless Docker runs as a user unit),
/// in its order, as `systemd-analyze --user unit-paths` lists them: `~` is the user's home,
/// `$XDG_RUNTIME_DIR` its runtime directory. Never the system's unit directories: those units
/// are the system manager's, and a system `docker.service` starts the root daemon.
const USER_UNIT_DIRS: &[&str] = &[
    "~/.config/systemd/user",
    "/etc/systemd/user",
    "$XDG_RUNTIME_DIR/systemd/user",
    "/run/systemd/user",
    "~/.local/share/systemd/user",
    "/usr/local/share/systemd/user",
    "/usr/share/systemd/user",
    "/usr/local/lib/systemd/user",
    "/usr/lib/systemd/user",
];

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
    let (config_path, config, settings) =
        configuration(found.as_ref(), rootless_dirs.as_ref(), input.fs);
    let flags = settings.flags().clone();
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
        paths.units.insert(
            unit.to_string(),
            find_unit(input.fs, unit, rootless_dirs.as_ref()),
        );
    }
    for bin in BINARIES {
        let from_process = (*bin == "dockerd")
            .then(|| found.as_ref().and_then(|p| p.exe.clone()))
            .flatten()
            .map(|e| e.trim_end_matches(" (deleted)").to_string());
        let path = from_process.or_else(|| find_binary(input.fs, bin, home));
        paths.binaries.insert(bin.to_string(), path);
    }
    let rootless_subgids = match &rootless {
        Some(r) => {
            let name = input
                .users
                .iter()
                .find(|u| u.uid == r.uid)
                .map(|u| u.name.as_str());
            input
                .fs
                .read_to_string("/etc/subgid")
                .map(|text| subordinate_ranges(&text, name, r.uid))
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    DaemonFacts {
        process,
        process_reason,
        flags,
        rootless: rootless.is_some(),
        rootless_subgids,
        config_path,
        config,
        paths,
        // Read where /proc and the file system are at hand (`crate::assemble_docker`).
        started_at: None,
        open_files_limit: None,
        config_modified_at: None,
    }
}

/// The configuration of a dockerd process (None: the defaults): the daemon.json it reads (its
/// `--config-file`, else the default of a rootful or rootless daemon), what that file holds, and
/// the settings of its flags and that file together.
fn configuration(
    process: Option<&Process>,
    rootless_dirs: Option<&(String, String)>,
    fs: &HostFs,
) -> (String, Fact<Option<serde_json::Value>>, DaemonSettings) {
    let flags = process
        .map(|p| parse_dockerd_flags(p.args()))
        .unwrap_or_default();
    let config_path = flags
        .last("config-file")
        .unwrap_or_else(|| match rootless_dirs {
            Some((home, _)) => format!("{home}/.config/docker/daemon.json"),
            None => DEFAULT_CONFIG_FILE.to_string(),
        });
    let config = read_daemon_json(fs, &config_path);
    let settings = DaemonSettings::new(
        flags,
        config.value().cloned().flatten(),
        config_path.clone(),
    );
    (config_path, config, settings)
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
///
/// The candidates are the processes named dockerd, less a child dockerd has just forked. One
/// candidate is the daemon unless its socket is provably another file than the endpoint's. Among
/// several, the first of these rules that leaves any decides:
///
/// 1. **The socket itself**: the endpoint's unix socket, as bulkhead reaches it, has the same
///    device and inode as a socket the candidate listens on, read under `--root`. This holds
///    whatever path either is seen by: in a container the host's socket is often mounted at
///    another path (`-v /srv/d.sock:/var/run/docker.sock`), where the path alone would name
///    another daemon, or none.
/// 2. **The data root the API reports** (`/info` DockerRootDir, the same directory under
///    `--root`) is the candidate's configured data root (flags, daemon.json, default): two
///    daemons cannot share one. Not for a candidate whose socket was compared and differs.
/// 3. **The address**: the candidate's `-H`/`hosts` (or default) address is the endpoint's
///    address, only where its socket could not be compared (tcp, or not visible under the root)
///    and its data root does not contradict.
///
/// When a rule leaves several, the daemon is the one whose parent is not among them (a forked
/// helper); still several, or none at all, is unavailable with the reason.
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
    let endpoint_socket = endpoint_socket_identity(input.endpoint);
    let reported_root = reported_data_root(input);
    let evidence = |p: &Process| Evidence {
        same_socket: endpoint_socket.and_then(|id| same_socket(p, id, input)),
        same_data_root: reported_root
            .as_deref()
            .map(|root| same_data_root(p, root, input)),
        same_address: endpoint_address(input.endpoint)
            .is_some_and(|wanted| listen_addresses(p, input).contains(&wanted)),
    };
    match candidates.as_slice() {
        [] => (
            Fact::Value(None),
            "no dockerd process runs on this host (matched by executable name)".into(),
        ),
        // One candidate: only its socket can rule it out (the other evidence only chooses).
        [only] if endpoint_socket.and_then(|id| same_socket(only, id, input)) != Some(false) => (
            Fact::Value(Some((*only).clone())),
            format!("the only dockerd process (pid {})", only.pid),
        ),
        many => {
            let judged: Vec<(&Process, Evidence)> =
                many.iter().map(|p| (*p, evidence(p))).collect();
            let pids = many
                .iter()
                .map(|p| p.pid.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let of_all = if many.len() == 1 {
                format!("the only dockerd process, pid {pids}")
            } else {
                format!("{} dockerd processes run (pids {pids})", many.len())
            };
            let host = &input.endpoint.host;
            let rules: [(String, Rule); 3] = [
                (
                    format!("its socket is the one {host} reaches (same device and inode)"),
                    |e| e.same_socket == Some(true),
                ),
                (
                    format!(
                        "its data root is {}, the one the API reports",
                        reported_root.as_deref().unwrap_or_default()
                    ),
                    |e| e.same_data_root == Some(true) && e.same_socket != Some(false),
                ),
                (format!("listens on {host}"), |e| {
                    e.same_address && e.same_socket.is_none() && e.same_data_root != Some(false)
                }),
            ];
            for (why, rule) in rules {
                let chosen: Vec<&Process> = judged
                    .iter()
                    .filter(|(_, e)| rule(e))
                    .map(|(p, _)| *p)
                    .collect();
                if chosen.is_empty() {
                    continue;
                }
                // dockerd forks helpers (`runc --version` on every /info call): between fork
                // and exec the child shows its parent's command line. The daemon is the one
                // whose parent is not itself chosen.
                let chosen: Vec<&Process> = chosen
                    .iter()
                    .filter(|p| !chosen.iter().any(|q| q.pid == p.ppid))
                    .copied()
                    .collect();
                return match chosen.as_slice() {
                    [one] => (
                        Fact::Value(Some((*one).clone())),
                        format!(
                            "{why} (one of {} dockerd processes: pids {pids})",
                            many.len()
                        ),
                    ),
                    several => {
                        let reason = format!(
                            "{} dockerd processes serve {host} by the same evidence ({why}; pids {pids})",
                            several.len()
                        );
                        (Fact::Unavailable(reason.clone()), reason)
                    }
                };
            }
            let mut why_not = Vec::new();
            if endpoint_socket.is_some() {
                why_not.push(format!(
                    "no socket it listens on under {} is the endpoint's socket",
                    input.fs.root().display()
                ));
            }
            if let Some(root) = &reported_root {
                why_not.push(format!("none has the data root the API reports ({root})"));
            }
            let reason = if why_not.is_empty() {
                format!("{of_all} and none listens on {host}")
            } else {
                format!(
                    "{of_all} and none listens on {host}: {}",
                    why_not.join("; ")
                )
            };
            (Fact::Unavailable(reason.clone()), reason)
        }
    }
}

/// One of [`find_dockerd`]'s rules: whether a candidate's evidence chooses it.
type Rule = fn(&Evidence) -> bool;

/// How one candidate compares with the endpoint (None: could not be compared).
struct Evidence {
    same_socket: Option<bool>,
    same_data_root: Option<bool>,
    same_address: bool,
}

/// The device and inode of the endpoint's unix socket, as this process reaches it (in a
/// container, the mounted socket: a bind mount keeps the host file's device and inode).
fn endpoint_socket_identity(endpoint: &Endpoint) -> Option<(u64, u64)> {
    let path = endpoint.host.strip_prefix("unix://")?;
    let path = if path.is_empty() {
        DEFAULT_SOCKET
    } else {
        path
    };
    crate::hostfs::file_identity(std::path::Path::new(path))
}

/// Whether a socket the candidate listens on is the endpoint's socket: None when none of its
/// sockets can be found under the root. Only sockets it certainly listens on count: `-H
/// fd://` (socket activation) takes whatever socket systemd made, so it is not compared.
fn same_socket(p: &Process, endpoint: (u64, u64), input: &DaemonInputs<'_>) -> Option<bool> {
    let hosts = configured_hosts(p, input);
    if hosts.iter().any(|h| h.starts_with("fd://")) {
        return None;
    }
    let mut sockets: Vec<String> = hosts
        .iter()
        .filter_map(|h| h.strip_prefix("unix://"))
        .map(|s| if s.is_empty() { DEFAULT_SOCKET } else { s }.to_string())
        .collect();
    if hosts.is_empty() {
        sockets.push(default_socket_of(p));
    }
    let seen: Vec<(u64, u64)> = sockets
        .iter()
        .filter_map(|s| input.fs.file_identity(s))
        .collect();
    if seen.is_empty() {
        return None;
    }
    Some(seen.contains(&endpoint))
}

/// The data root the API reports, less a user-namespace suffix (the configured root is its
/// parent then).
fn reported_data_root(input: &DaemonInputs<'_>) -> Option<String> {
    let info = input.info?;
    if info.docker_root_dir.is_empty() {
        return None;
    }
    Some(strip_userns_suffix(&info.docker_root_dir, input.info))
}

/// Whether the candidate's configured data root is the reported one: the same directory under
/// the root when both can be found there (dockerd reports it with symbolic links resolved), else
/// the same path.
fn same_data_root(p: &Process, reported: &str, input: &DaemonInputs<'_>) -> bool {
    let without_info = DaemonInputs {
        info: None,
        ..*input
    };
    let rootless = detect_rootless(Some(p), &without_info);
    let dirs = rootless
        .as_ref()
        .map(|r| (r.home.clone(), r.runtime_dir.clone()));
    let (_, _, settings) = configuration(Some(p), dirs.as_ref(), input.fs);
    let configured = resolve_paths(
        &settings,
        dirs.as_ref().map(|(h, r)| (h.as_str(), r.as_str())),
    )
    .data_root;
    match (
        input.fs.file_identity(&configured),
        input.fs.file_identity(reported),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => configured.trim_end_matches('/') == reported.trim_end_matches('/'),
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
    let mut hosts = configured_hosts(p, input);
    if hosts.is_empty() || hosts.iter().any(|h| h.starts_with("fd://")) {
        hosts.push(format!("unix://{}", default_socket_of(p)));
    }
    hosts.iter().filter_map(|h| normalize_address(h)).collect()
}

/// The addresses a dockerd process is told to listen on: its `-H` flags, else its daemon.json
/// `hosts` (empty: the default socket).
fn configured_hosts(p: &Process, input: &DaemonInputs<'_>) -> Vec<String> {
    let flags = parse_dockerd_flags(p.args());
    let hosts = flags.all("host");
    if !hosts.is_empty() {
        return hosts;
    }
    let config_path = flags
        .last("config-file")
        .unwrap_or_else(|| DEFAULT_CONFIG_FILE.to_string());
    match read_daemon_json(input.fs, &config_path).value() {
        Some(Some(v)) => v
            .get("hosts")
            .and_then(|h| h.as_array())
            .map(|list| {
                list.iter()
                    .filter_map(|h| h.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Where a dockerd listens without `-H`: the default socket, or its user's runtime directory
/// when it runs as a user (rootless).
fn default_socket_of(p: &Process) -> String {
    if p.uid != 0 {
        format!("/run/user/{}/docker.sock", p.uid)
    } else {
        DEFAULT_SOCKET.to_string()
    }
}

/// A rootless daemon's user locations.
struct Rootless {
    uid: u32,
    home: String,
    runtime_dir: String,
}

/// The `(first, count)` subordinate ID ranges `/etc/subgid` (or `/etc/subuid`) text gives the
/// user `name` or uid `uid` (`NAME:FIRST:COUNT` or `UID:FIRST:COUNT` lines).
fn subordinate_ranges(text: &str, name: Option<&str>, uid: u32) -> Vec<(u32, u32)> {
    let uid = uid.to_string();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.trim().split(':');
            let who = fields.next()?;
            let first = fields.next()?.parse().ok()?;
            let count = fields.next()?.parse().ok()?;
            (Some(who) == name || who == uid).then_some((first, count))
        })
        .collect()
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
    Some(Rootless {
        uid,
        home,
        runtime_dir,
    })
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
    // A containerd another dockerd started (its child) serves that daemon only, never this one.
    let started_by_a_dockerd = |p: &Process| {
        processes
            .iter()
            .any(|d| d.pid == p.ppid && d.is_program("dockerd"))
    };
    let system = processes.iter().find(|p| {
        p.is_program("containerd")
            && Some(p.pid) != managed.map(|m| m.pid)
            && !started_by_a_dockerd(p)
    });
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
/// holds it; for a rootless daemon (its user's home and runtime directory) the user manager's
/// directories only.
fn find_unit(fs: &HostFs, unit: &str, rootless_dirs: Option<&(String, String)>) -> Option<String> {
    let dirs: Vec<String> = match rootless_dirs {
        Some((home, runtime)) => USER_UNIT_DIRS
            .iter()
            .map(|d| {
                d.replace('~', home.trim_end_matches('/'))
                    .replace("$XDG_RUNTIME_DIR", runtime.trim_end_matches('/'))
            })
            .collect(),
        None => SYSTEMD_UNIT_DIRS.iter().map(|d| d.to_string()).collect(),
    };
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

    fn with_args(mut p: Process, extra: &[&str]) -> Process {
        p.argv.extend(extra.iter().map(|a| a.to_string()));
        p
    }

    fn chosen(input: &DaemonInputs<'_>) -> (Option<u32>, String) {
        let (found, reason) = find_dockerd(input);
        (found.value().cloned().flatten().map(|p| p.pid), reason)
    }

    /// bulkhead in a container: the host's socket `/run/b.sock` is mounted at another path (here
    /// a hard link outside the host root: the same inode, as a bind mount keeps it), and a third
    /// daemon's command line names exactly that other path. The socket itself decides.
    #[test]
    fn the_daemon_is_the_one_whose_socket_is_the_endpoints_file() {
        let host = bulkhead_testkit::TempDir::new("find-dockerd-root");
        let container = bulkhead_testkit::TempDir::new("find-dockerd-ctr");
        std::fs::create_dir_all(host.join("run")).unwrap();
        let _a = std::os::unix::net::UnixListener::bind(host.join("run/a.sock")).unwrap();
        let _b = std::os::unix::net::UnixListener::bind(host.join("run/b.sock")).unwrap();
        let mounted = container.join("docker.sock");
        std::fs::hard_link(host.join("run/b.sock"), &mounted).unwrap();
        let mounted = mounted.display().to_string();
        let processes = vec![
            dockerd(100, 1, "/run/a.sock"),
            dockerd(200, 1, "/run/b.sock"),
            // Its socket is not under the host root at that path: it cannot be compared, and
            // its address alone (the path bulkhead sees) must not win over the socket.
            dockerd(300, 1, &mounted),
        ];
        let endpoint = Endpoint {
            host: format!("unix://{mounted}"),
            ..Default::default()
        };
        let fs = HostFs::new(host.path());
        let input = DaemonInputs {
            processes: &processes,
            endpoint: &endpoint,
            info: None,
            fs: &fs,
            users: &[],
        };
        let (pid, reason) = chosen(&input);
        assert_eq!(pid, Some(200), "{reason}");
        assert!(reason.contains("same device and inode"), "{reason}");

        // The only dockerd, but its socket is provably another file: not the endpoint's daemon.
        let only_a = vec![dockerd(100, 1, "/run/a.sock")];
        let (pid, reason) = chosen(&DaemonInputs {
            processes: &only_a,
            ..input
        });
        assert_eq!(pid, None, "{reason}");
        assert!(
            reason.contains("none listens on") && reason.contains("endpoint's socket"),
            "{reason}"
        );

        // Where no socket can be compared (none of them under the root), the address decides,
        // as on a host where bulkhead and dockerd see the same paths.
        let elsewhere = vec![dockerd(100, 1, "/run/a.sock"), dockerd(300, 1, &mounted)];
        let empty_root = HostFs::new(container.join("no-root"));
        let (pid, reason) = chosen(&DaemonInputs {
            processes: &elsewhere,
            fs: &empty_root,
            ..input
        });
        assert_eq!(pid, Some(300), "{reason}");
        assert!(reason.starts_with("listens on"), "{reason}");
    }

    /// No socket to compare (the endpoint is an address of this machine, or its socket is not
    /// visible): the data root the API reports tells the daemons apart, and a daemon whose data
    /// root is another is not chosen by its address either.
    #[test]
    fn without_a_socket_to_compare_the_reported_data_root_decides() {
        let fs = HostFs::new("/nonexistent-root");
        let a = with_args(dockerd(100, 1, "/run/a.sock"), &["--data-root", "/srv/a"]);
        let b = with_args(
            dockerd(200, 1, "/run/b.sock"),
            &["-H", "tcp://127.0.0.1:2375", "--data-root", "/srv/b/"],
        );
        let processes = vec![a, b];
        let info = Info {
            docker_root_dir: "/srv/a".into(),
            ..Default::default()
        };
        let tcp = Endpoint {
            host: "tcp://127.0.0.1:2375".into(),
            local: true,
            ..Default::default()
        };
        let input = DaemonInputs {
            processes: &processes,
            endpoint: &tcp,
            info: Some(&info),
            fs: &fs,
            users: &[],
        };
        // 200 listens on the address, but the API answering there reports 100's data root
        // (a daemon.json edited since, or another listener): the data root wins.
        let (pid, reason) = chosen(&input);
        assert_eq!(pid, Some(100), "{reason}");
        assert!(reason.contains("data root is /srv/a"), "{reason}");
        // Without /info (the early pass, before the API answered), the address decides.
        let (pid, reason) = chosen(&DaemonInputs {
            info: None,
            ..input
        });
        assert_eq!(pid, Some(200), "{reason}");
        // A data root no candidate has: none is chosen, and the reason says why.
        let other = Info {
            docker_root_dir: "/var/lib/docker".into(),
            ..Default::default()
        };
        let (pid, reason) = chosen(&DaemonInputs {
            info: Some(&other),
            ..input
        });
        assert_eq!(pid, None, "{reason}");
        assert!(
            reason.contains("none has the data root the API reports (/var/lib/docker)"),
            "{reason}"
        );
        // The default data root counts as configured: a daemon without --data-root has
        // /var/lib/docker.
        let plain = vec![
            dockerd(100, 1, "/run/a.sock"),
            with_args(dockerd(200, 1, "/run/b.sock"), &["--data-root", "/srv/b"]),
        ];
        let (pid, reason) = chosen(&DaemonInputs {
            processes: &plain,
            info: Some(&other),
            ..input
        });
        assert_eq!(pid, Some(100), "{reason}");
    }

    /// A containerd that another dockerd started is that daemon's, never this one's, even when
    /// this daemon's own process is not found.
    #[test]
    fn another_daemons_containerd_is_not_taken_for_the_system_one() {
        let other = dockerd(100, 1, "/run/other.sock");
        let mut managed_by_other = dockerd(101, 100, "/unused");
        managed_by_other.comm = "containerd".into();
        managed_by_other.exe = Some("/usr/bin/containerd".into());
        managed_by_other.argv = vec![
            "containerd".into(),
            "--address".into(),
            "/run/other/containerd.sock".into(),
        ];
        let processes = vec![other, managed_by_other];
        let fs = HostFs::new("/nonexistent-root");
        let settings = DaemonSettings::default();
        let mut paths = resolve_paths(&settings, None);
        let before = paths.containerd_socket.clone();
        fill_containerd(&settings, &mut paths, None, &processes, &fs);
        assert_eq!(
            paths.containerd_socket, before,
            "the default, not the other daemon's"
        );
    }

    /// Found against a real rootless dockerd on a host with docker.io installed: the system's
    /// /lib/systemd/system/docker.service and docker.socket (the root daemon's units) were
    /// reported as the rootless daemon's. systemd's user manager never loads those.
    #[test]
    fn subordinate_ranges_are_read_by_name_or_uid() {
        let text = "alice:100000:65536\nbob:165536:65536\n1001:231072:65536\n# comment\nbroken\n";
        assert_eq!(
            subordinate_ranges(text, Some("bob"), 1000),
            [(165536, 65536)]
        );
        assert_eq!(subordinate_ranges(text, None, 1001), [(231072, 65536)]);
        assert!(subordinate_ranges(text, Some("carol"), 1002).is_empty());
    }

    #[test]
    fn a_rootless_daemons_units_are_its_users_units_only() {
        let root = bulkhead_testkit::TempDir::new("rootless-units");
        for dir in [
            "lib/systemd/system",
            "home/alice/.config/systemd/user",
            "usr/lib/systemd/user",
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "lib/systemd/system/docker.service",
            "lib/systemd/system/docker.socket",
            "lib/systemd/system/containerd.service",
            "home/alice/.config/systemd/user/docker.service",
            "usr/lib/systemd/user/containerd.service",
        ] {
            std::fs::write(root.join(file), "[Unit]\n").unwrap();
        }
        let fs = HostFs::new(root.path());
        let alice = ("/home/alice".to_string(), "/run/user/1000".to_string());
        assert_eq!(
            find_unit(&fs, "docker.service", Some(&alice)).as_deref(),
            Some("/home/alice/.config/systemd/user/docker.service")
        );
        assert_eq!(find_unit(&fs, "docker.socket", Some(&alice)), None);
        assert_eq!(
            find_unit(&fs, "containerd.service", Some(&alice)).as_deref(),
            Some("/usr/lib/systemd/user/containerd.service")
        );
        // A root daemon's units are the system's.
        assert_eq!(
            find_unit(&fs, "docker.socket", None).as_deref(),
            Some("/lib/systemd/system/docker.socket")
        );
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
