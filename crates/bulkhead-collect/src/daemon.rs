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
    parse_dockerd_flags, resolve_paths, resolve_sockets, DaemonFacts, DaemonSettings, DockerPaths,
    Endpoint, Info, SocketUnit, DEFAULT_CONFIG_FILE, DEFAULT_SOCKET, SYSTEMD_UNIT_DIRS,
};
use bulkhead_facts::host::{PasswdEntry, Process};
use bulkhead_facts::mask::{is_secret_name, mask_json_argv, mask_text, MASK};
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

/// Units whose drop-ins the checks judge with the unit file (3.1 - 3.4).
pub const DROPIN_UNITS: &[&str] = &["docker.service", "docker.socket"];

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
    let Found {
        process,
        reason: process_reason,
        configuration,
    } = find_dockerd(input);
    let found = process.value().cloned().flatten();
    // The chosen process's configuration, as choosing it computed it (from the process's own
    // evidence of rootless mode). Computed anew only when there is none, or when /info's
    // `name=rootless` makes rootless a daemon whose process does not show it (dockerd seen from
    // inside its user namespace, as uid 0): its daemon.json is then its user's.
    let by_info = input
        .info
        .is_some_and(|i| i.has_security_option("rootless"));
    let Configuration {
        rootless,
        config_path,
        config,
        settings,
        mut paths,
    } = match configuration {
        Some(c) if c.rootless.is_some() || !by_info => c,
        _ => Configuration::of(
            found.as_ref(),
            detect_rootless(found.as_ref(), input),
            input.fs,
        ),
    };
    let rootless_dirs = rootless
        .as_ref()
        .map(|r| (r.home.clone(), r.runtime_dir.clone()));
    let flags = settings.flags().clone();
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
    let dirs = unit_dirs(
        rootless_dirs
            .as_ref()
            .map(|(h, r)| (h.as_str(), r.as_str())),
    );
    for unit in UNITS {
        let file = find_unit_in(input.fs, unit, &dirs);
        // Drop-ins of the units the checks judge (a drop-in can replace ExecStart or
        // ListenStream): the socket unit's are known already when it was read.
        if file.is_some() && DROPIN_UNITS.contains(unit) {
            let dropins = match &paths.socket_unit {
                Some(s) if *unit == "docker.socket" => s.dropins.clone(),
                _ => find_dropins(input.fs, unit, &dirs),
            };
            if !dropins.is_empty() {
                paths.unit_dropins.insert(unit.to_string(), dropins);
            }
        }
        paths.units.insert(unit.to_string(), file);
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

/// The configuration of a dockerd process (None: the defaults). One value serves both choosing
/// the daemon among the candidates (its sockets, data root, addresses) and describing the chosen
/// one, so that each candidate's daemon.json is read and parsed once per [`local_daemon`], and
/// every rule sees the file that process really reads.
struct Configuration {
    /// Rootless mode and its user's directories.
    rootless: Option<Rootless>,
    /// The daemon.json it reads: its `--config-file`, else the default of a rootful or rootless
    /// daemon.
    config_path: String,
    /// What that file holds.
    config: Fact<Option<serde_json::Value>>,
    /// Its flags and that file together.
    settings: DaemonSettings,
    /// The paths they resolve to (the defaults of a rootful or rootless daemon).
    paths: DockerPaths,
}

impl Configuration {
    fn of(process: Option<&Process>, rootless: Option<Rootless>, fs: &HostFs) -> Configuration {
        let flags = process
            .map(|p| parse_dockerd_flags(p.args()))
            .unwrap_or_default();
        let config_path = flags
            .last("config-file")
            .unwrap_or_else(|| match &rootless {
                Some(r) => format!("{}/.config/docker/daemon.json", r.home),
                None => DEFAULT_CONFIG_FILE.to_string(),
            });
        let config = read_daemon_json(fs, &config_path);
        let settings = DaemonSettings::new(
            flags,
            config.value().cloned().flatten(),
            config_path.clone(),
        );
        let mut paths = resolve_paths(
            &settings,
            rootless
                .as_ref()
                .map(|r| (r.home.as_str(), r.runtime_dir.as_str())),
        );
        // Socket activation: dockerd serves the sockets systemd made for docker.socket, which
        // its unit (and drop-ins) name, not the default path.
        if settings
            .list("hosts")
            .0
            .iter()
            .any(|h| h.starts_with("fd://"))
        {
            let dirs = unit_dirs(
                rootless
                    .as_ref()
                    .map(|r| (r.home.as_str(), r.runtime_dir.as_str())),
            );
            let runtime_dir = rootless.as_ref().map_or("/run", |r| r.runtime_dir.as_str());
            paths.socket_unit = read_socket_unit(fs, &dirs, "docker.socket", runtime_dir);
            let default_socket = match &rootless {
                Some(r) => format!("{}/docker.sock", r.runtime_dir),
                None => DEFAULT_SOCKET.to_string(),
            };
            // A TCP ListenStream= is a TCP listener of the daemon like a tcp:// host: every
            // reader of tcp_hosts (the TLS check, the threat model) judges it, and its source
            // says which unit file opened it.
            let (sockets, tcp, sources) =
                resolve_sockets(&settings, &default_socket, paths.socket_unit.as_ref());
            paths.sockets = sockets;
            paths.tcp_hosts.extend(tcp);
            paths.socket_sources = sources;
        }
        Configuration {
            rootless,
            config_path,
            config,
            settings,
            paths,
        }
    }

    /// The configuration of a candidate for the endpoint's daemon: rootless by the process's own
    /// evidence only, since /info's `name=rootless` says what the endpoint's daemon is, not what
    /// each candidate is (it would make a root daemon look rootless).
    fn of_candidate(p: &Process, input: &DaemonInputs<'_>) -> Configuration {
        let without_info = DaemonInputs {
            info: None,
            ..*input
        };
        Configuration::of(Some(p), detect_rootless(Some(p), &without_info), input.fs)
    }

    /// The addresses it is told to listen on: its `-H` flags, else its daemon.json `hosts`
    /// (empty: the default socket).
    fn hosts(&self) -> Vec<String> {
        self.settings.list("hosts").0
    }

    /// Where it listens without `-H` (or with `unix://`): the default socket, or the one in its
    /// user's runtime directory when rootless.
    fn default_socket(&self) -> String {
        match &self.rootless {
            Some(r) => format!("{}/docker.sock", r.runtime_dir),
            None => DEFAULT_SOCKET.to_string(),
        }
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
///
/// The candidates are the processes named dockerd, less a child dockerd has just forked. Each is
/// judged by its own [`Configuration`], the one [`local_daemon`] describes when it is chosen: a
/// rootless daemon's daemon.json is its user's and its default socket is in the runtime
/// directory its environment names, not the root daemon's. One candidate is the daemon unless
/// its socket is provably another file than the endpoint's. Among several, the first of these
/// rules that leaves any decides:
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
fn find_dockerd(input: &DaemonInputs<'_>) -> Found {
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
    // Every rule reads a candidate's configuration, and the chosen one's is the daemon's:
    // computed once each, in the candidates' order.
    let mut configurations: Vec<Configuration> = candidates
        .iter()
        .map(|p| Configuration::of_candidate(p, input))
        .collect();
    let endpoint_socket = endpoint_socket_identity(input.endpoint);
    let reported_root = reported_data_root(input);
    let socket_of = |c: &Configuration| endpoint_socket.and_then(|id| same_socket(c, id, input.fs));
    let evidence = |c: &Configuration| Evidence {
        same_socket: socket_of(c),
        same_data_root: reported_root
            .as_deref()
            .map(|root| same_data_root(c, root, input.fs)),
        same_address: endpoint_address(input.endpoint)
            .is_some_and(|wanted| listen_addresses(c).contains(&wanted)),
    };
    match candidates.as_slice() {
        [] => Found::none(
            Fact::Value(None),
            "no dockerd process runs on this host (matched by executable name)".into(),
        ),
        // One candidate: only its socket can rule it out (the other evidence only chooses).
        [only] if socket_of(&configurations[0]) != Some(false) => Found {
            process: Fact::Value(Some((*only).clone())),
            reason: format!("the only dockerd process (pid {})", only.pid),
            configuration: configurations.pop(),
        },
        many => {
            let judged: Vec<Evidence> = configurations.iter().map(evidence).collect();
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
                let chosen: Vec<usize> = (0..many.len()).filter(|&i| rule(&judged[i])).collect();
                if chosen.is_empty() {
                    continue;
                }
                // dockerd forks helpers (`runc --version` on every /info call): between fork
                // and exec the child shows its parent's command line. The daemon is the one
                // whose parent is not itself chosen.
                let chosen: Vec<usize> = chosen
                    .iter()
                    .filter(|&&i| !chosen.iter().any(|&j| many[j].pid == many[i].ppid))
                    .copied()
                    .collect();
                return match chosen.as_slice() {
                    [one] => Found {
                        process: Fact::Value(Some(many[*one].clone())),
                        reason: format!(
                            "{why} (one of {} dockerd processes: pids {pids})",
                            many.len()
                        ),
                        configuration: Some(configurations.swap_remove(*one)),
                    },
                    several => {
                        let reason = format!(
                            "{} dockerd processes serve {host} by the same evidence ({why}; pids {pids})",
                            several.len()
                        );
                        Found::none(Fact::Unavailable(reason.clone()), reason)
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
            Found::none(Fact::Unavailable(reason.clone()), reason)
        }
    }
}

/// What [`find_dockerd`] found: the process (None: no dockerd runs; unavailable: none or several
/// could be told to serve the endpoint), why, and the chosen process's configuration.
struct Found {
    process: Fact<Option<Process>>,
    reason: String,
    configuration: Option<Configuration>,
}

impl Found {
    /// No process chosen.
    fn none(process: Fact<Option<Process>>, reason: String) -> Found {
        Found {
            process,
            reason,
            configuration: None,
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
/// sockets can be found under the root. Only sockets it certainly listens on count: under `-H
/// fd://` (socket activation) it serves the sockets systemd made, which its docker.socket
/// names as of now (edited since, they may be others): such a match chooses it, no match
/// rules nothing out.
fn same_socket(c: &Configuration, endpoint: (u64, u64), fs: &HostFs) -> Option<bool> {
    let hosts = c.hosts();
    if hosts.iter().any(|h| h.starts_with("fd://")) {
        let matched = c
            .paths
            .sockets
            .iter()
            .any(|s| fs.file_identity(s) == Some(endpoint));
        return matched.then_some(true);
    }
    let mut sockets: Vec<String> = hosts
        .iter()
        .filter_map(|h| h.strip_prefix("unix://"))
        .map(|s| match s {
            "" => c.default_socket(),
            s => s.to_string(),
        })
        .collect();
    if hosts.is_empty() {
        sockets.push(c.default_socket());
    }
    let seen: Vec<(u64, u64)> = sockets.iter().filter_map(|s| fs.file_identity(s)).collect();
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
fn same_data_root(c: &Configuration, reported: &str, fs: &HostFs) -> bool {
    let configured = &c.paths.data_root;
    match (fs.file_identity(configured), fs.file_identity(reported)) {
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

/// Addresses a dockerd process listens on: its `-H` flags, else its daemon.json `hosts`, else its
/// default socket (socket activation `fd://`: the sockets of its docker.socket, or the default
/// socket without one).
fn listen_addresses(c: &Configuration) -> Vec<String> {
    let default = format!("unix://{}", c.default_socket());
    let mut hosts = c.hosts();
    if hosts.is_empty() {
        hosts.push(default.clone());
    }
    if hosts.iter().any(|h| h.starts_with("fd://")) {
        hosts.extend(c.paths.sockets.iter().map(|s| format!("unix://{s}")));
        // and its TCP ListenStream= lines.
        let tcp: Vec<String> = c
            .paths
            .tcp_hosts
            .iter()
            .filter(|h| !hosts.contains(h))
            .cloned()
            .collect();
        hosts.extend(tcp);
    }
    hosts
        .iter()
        .map(|h| if h == "unix://" { &default } else { h })
        .filter_map(|h| normalize_address(h))
        .collect()
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

/// Secret values out of daemon.json before it is kept: the value of a secret-looking key, the
/// words of an argument list (a runtime's `runtimeArgs: ["--token", "x"]`) read as the command
/// line they are, and what the text masker finds in any other string (`"labels":
/// ["db_password=***"]`, `"splunk-url": "https://u:***@splunk:8088"`, a registry mirror with a
/// password).
fn mask_json(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                match val {
                    Value::String(_) if is_secret_name(k) => *val = Value::String(MASK.into()),
                    Value::Array(items)
                        if k.to_ascii_lowercase().ends_with("args")
                            && items.iter().all(Value::is_string) =>
                    {
                        mask_json_argv(items);
                        for w in items.iter_mut() {
                            if let Value::String(s) = w {
                                *s = mask_text(s);
                            }
                        }
                    }
                    _ => mask_json(val),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask_json),
        Value::String(s) => {
            let masked = mask_text(s);
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

/// The directories the manager that runs the daemon loads units from, in precedence order: the
/// system manager's, or for a rootless daemon (its user's home and runtime directory) the user
/// manager's only.
fn unit_dirs(rootless_dirs: Option<(&str, &str)>) -> Vec<String> {
    match rootless_dirs {
        Some((home, runtime)) => USER_UNIT_DIRS
            .iter()
            .map(|d| {
                d.replace('~', home.trim_end_matches('/'))
                    .replace("$XDG_RUNTIME_DIR", runtime.trim_end_matches('/'))
            })
            .collect(),
        None => SYSTEMD_UNIT_DIRS.iter().map(|d| d.to_string()).collect(),
    }
}

/// The unit file systemd would load for `unit`: the first directory in precedence order that
/// holds it; for a rootless daemon (its user's home and runtime directory) the user manager's
/// directories only.
#[cfg(test)]
fn find_unit(fs: &HostFs, unit: &str, rootless_dirs: Option<&(String, String)>) -> Option<String> {
    let dirs = unit_dirs(rootless_dirs.map(|(h, r)| (h.as_str(), r.as_str())));
    find_unit_in(fs, unit, &dirs)
}

/// The first `dir/unit` of `dirs` that exists.
fn find_unit_in(fs: &HostFs, unit: &str, dirs: &[String]) -> Option<String> {
    dirs.iter()
        .map(|d| format!("{d}/{unit}"))
        .find(|p| fs.exists(p))
}

/// The drop-ins systemd applies to `unit`: `*.conf` in `UNIT.d/` and in the type's top-level
/// `service.d/` or `socket.d/` of every unit directory. A file name found in a directory of
/// higher precedence (and, within one directory, in the unit's own `.d` before the type's)
/// hides the same name further down; the rest apply in file-name order.
fn find_dropins(fs: &HostFs, unit: &str, dirs: &[String]) -> Vec<String> {
    let kind = unit.rsplit_once('.').map(|(_, k)| k).unwrap_or_default();
    let mut by_name: std::collections::BTreeMap<String, String> = Default::default();
    for dir in dirs {
        for sub in [format!("{dir}/{unit}.d"), format!("{dir}/{kind}.d")] {
            let Ok(names) = fs.read_dir(&sub) else {
                continue;
            };
            for name in names.into_iter().filter(|n| n.ends_with(".conf")) {
                let path = format!("{sub}/{name}");
                by_name.entry(name).or_insert(path);
            }
        }
    }
    by_name.into_values().collect()
}

/// The socket unit `unit` with its drop-ins, read from the first directory holding it; None
/// when no such unit exists. A drop-in that cannot be read adds no settings (as for systemd,
/// which skips it).
fn read_socket_unit(
    fs: &HostFs,
    dirs: &[String],
    unit: &str,
    runtime_dir: &str,
) -> Option<SocketUnit> {
    let file = find_unit_in(fs, unit, dirs)?;
    let mut texts = vec![(file.clone(), fs.read_to_string(&file).unwrap_or_default())];
    for dropin in find_dropins(fs, unit, dirs) {
        let text = fs.read_to_string(&dropin).unwrap_or_default();
        texts.push((dropin, text));
    }
    Some(SocketUnit::parse(&texts, runtime_dir))
}

/// The first `name` found in the binary directories, as the file it really is: an audit watch
/// on a symbolic link (Debian's `/usr/bin/runc -> ../sbin/runc`) records changes to the link,
/// not to the program, so the checks must ask for a rule on the program's own path.
fn find_binary(fs: &HostFs, name: &str, rootless_home: Option<&str>) -> Option<String> {
    let mut dirs: Vec<String> = Vec::new();
    if let Some(home) = rootless_home {
        dirs.push(format!("{home}/bin"));
    }
    dirs.extend(BIN_DIRS.iter().map(|d| d.to_string()));
    dirs.iter()
        .map(|d| format!("{d}/{name}"))
        .find(|p| fs.exists(p))
        .map(|p| fs.real_path(&p).unwrap_or(p))
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

    /// The review's daemon.json: labels written as `name=value`, a runtime's arguments.
    #[test]
    fn daemon_json_labels_and_runtime_arguments_are_masked() {
        let mut v = serde_json::json!({
            "labels": ["db_password=hx3-label", "api_token=hx3-token", "env=prod"],
            "runtimes": {"kata": {"path": "/usr/bin/kata",
                "runtimeArgs": ["--debug", "--token", "hx3-runtime", "--log=/var/log/kata"]}},
            "registry-mirrors": ["https://u:hx3-mirror@mirror.example.com"],
            "log-opts": {"tag": "web", "max-size": "10m"},
            "tls": true
        });
        mask_json(&mut v);
        assert!(!v.to_string().contains("hx3-"), "{v}");
        assert_eq!(
            v["labels"],
            serde_json::json!(["db_password=***", "api_token=***", "env=prod"])
        );
        assert_eq!(
            v["runtimes"]["kata"]["runtimeArgs"],
            serde_json::json!(["--debug", "--token", "***", "--log=/var/log/kata"])
        );
        assert_eq!(v["log-opts"]["tag"], "web");
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
        let Found {
            process: found,
            reason,
            ..
        } = find_dockerd(&input);
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
        let Found {
            process: found,
            reason,
            ..
        } = find_dockerd(&DaemonInputs {
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
        let Found {
            process: found,
            reason,
            ..
        } = find_dockerd(input);
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

    /// /etc/subgid names a user or a uid; other users' ranges and malformed lines are not the
    /// daemon user's.
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

    /// Found against a real rootless dockerd on a host with docker.io installed: the system's
    /// /lib/systemd/system/docker.service and docker.socket (the root daemon's units) were
    /// reported as the rootless daemon's. systemd's user manager never loads those.
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

    /// A dockerd without `-H`, as /proc shows it: where it listens is its configuration's.
    fn unconfigured_dockerd(pid: u32, ppid: u32, uid: u32, env: &[(&str, &str)]) -> Process {
        Process {
            uid,
            argv: vec!["/usr/bin/dockerd".into()],
            environ: Some(
                env.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..dockerd(pid, ppid, "/unused")
        }
    }

    /// A host with a root daemon, whose /etc/docker/daemon.json names its socket, and alice's
    /// rootless daemon (under rootlesskit, started without `--config-file`), whose socket is in
    /// the runtime directory its environment names: not `/run/user/1000`. Both sockets exist.
    struct RootAndRootless {
        root: bulkhead_testkit::TempDir,
        processes: Vec<Process>,
        users: Vec<PasswdEntry>,
    }

    const ALICE_RUNTIME_DIR: &str = "/run/alice-runtime";

    fn root_and_rootless(tag: &str) -> RootAndRootless {
        let root = bulkhead_testkit::TempDir::new(tag);
        for dir in ["etc/docker", "var/run", "run/alice-runtime", "home/alice"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(
            root.join("etc/docker/daemon.json"),
            r#"{"hosts": ["unix:///var/run/docker.sock"]}"#,
        )
        .unwrap();
        // Closing a listener leaves its socket file, which is all the comparison reads.
        for socket in ["var/run/docker.sock", "run/alice-runtime/docker.sock"] {
            std::os::unix::net::UnixListener::bind(root.join(socket)).unwrap();
        }
        let mut rootlesskit = unconfigured_dockerd(300, 1, 1000, &[]);
        rootlesskit.comm = "rootlesskit".into();
        rootlesskit.exe = Some("/usr/bin/rootlesskit".into());
        rootlesskit.argv = vec!["rootlesskit".into(), "/usr/bin/dockerd".into()];
        let processes = vec![
            unconfigured_dockerd(100, 1, 0, &[]),
            rootlesskit,
            unconfigured_dockerd(301, 300, 1000, &[("XDG_RUNTIME_DIR", ALICE_RUNTIME_DIR)]),
        ];
        let users = vec![
            PasswdEntry {
                name: "root".into(),
                uid: 0,
                gid: 0,
                home: "/root".into(),
            },
            PasswdEntry {
                name: "alice".into(),
                uid: 1000,
                gid: 1000,
                home: "/home/alice".into(),
            },
        ];
        RootAndRootless {
            root,
            processes,
            users,
        }
    }

    /// Found in review: every candidate's sockets were read from /etc/docker/daemon.json and a
    /// user's default socket was guessed as `/run/user/UID`, so the rootless daemon seemed to
    /// listen on the root daemon's socket: the rootless endpoint had no daemon, the root
    /// endpoint two. Each endpoint is served by its own daemon, described by its own
    /// configuration.
    #[test]
    fn a_rootless_daemon_listens_where_its_own_configuration_says() {
        let host = root_and_rootless("rootless-sockets");
        let fs = HostFs::new(host.root.path());
        let daemon_at = |socket: &str| {
            let endpoint = Endpoint {
                host: format!("unix://{}", host.root.join(socket).display()),
                local: true,
                ..Default::default()
            };
            local_daemon(&DaemonInputs {
                processes: &host.processes,
                endpoint: &endpoint,
                info: None,
                fs: &fs,
                users: &host.users,
            })
        };
        let pid = |d: &DaemonFacts| d.process.value().cloned().flatten().map(|p| p.pid);

        let rootful = daemon_at("var/run/docker.sock");
        assert_eq!(pid(&rootful), Some(100), "{}", rootful.process_reason);
        assert!(
            rootful.process_reason.contains("same device and inode"),
            "{}",
            rootful.process_reason
        );
        assert!(!rootful.rootless);
        assert_eq!(rootful.config_path, "/etc/docker/daemon.json");

        let rootless = daemon_at("run/alice-runtime/docker.sock");
        assert_eq!(pid(&rootless), Some(301), "{}", rootless.process_reason);
        assert!(
            rootless.process_reason.contains("same device and inode"),
            "{}",
            rootless.process_reason
        );
        assert!(rootless.rootless);
        assert_eq!(
            rootless.config_path,
            "/home/alice/.config/docker/daemon.json"
        );
        assert_eq!(
            rootless.paths.sockets,
            [format!("{ALICE_RUNTIME_DIR}/docker.sock")]
        );
    }

    /// Counts the opens of the files in one directory (inotify): each read of a daemon.json
    /// opens it once.
    struct Opens(std::os::fd::OwnedFd);

    impl Opens {
        fn in_dir(dir: &std::path::Path) -> Opens {
            use std::os::fd::{AsRawFd, FromRawFd};
            use std::os::unix::ffi::OsStrExt;
            let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
            assert!(
                fd >= 0,
                "inotify_init1: {}",
                std::io::Error::last_os_error()
            );
            // SAFETY: a new descriptor, owned by nothing else.
            let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
            let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
            // Closes too: inotify merges an event into an identical one still unread, so
            // back-to-back opens with nothing between would count as one.
            let mask = libc::IN_OPEN | libc::IN_CLOSE_NOWRITE;
            let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) };
            assert!(
                wd >= 0,
                "inotify_add_watch: {}",
                std::io::Error::last_os_error()
            );
            Opens(fd)
        }

        /// How many times `name` was opened since the last call.
        fn of(&self, name: &str) -> usize {
            use std::os::fd::AsRawFd;
            let mut count = 0;
            let mut buf = [0u8; 4096];
            loop {
                let n =
                    unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    let e = std::io::Error::last_os_error();
                    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
                    return count;
                }
                // struct inotify_event: wd, mask, cookie, len (4 bytes each), then len bytes of
                // NUL-padded name.
                let events = &buf[..n as usize];
                let mut at = 0;
                while at + 16 <= events.len() {
                    let field = |i: usize| {
                        u32::from_ne_bytes(events[at + i..at + i + 4].try_into().unwrap())
                    };
                    assert_eq!(field(4) & libc::IN_Q_OVERFLOW, 0, "inotify queue overflow");
                    let len = field(12) as usize;
                    let raw = &events[at + 16..at + 16 + len];
                    if field(4) & libc::IN_OPEN != 0
                        && raw.split(|b| *b == 0).next() == Some(name.as_bytes())
                    {
                        count += 1;
                    }
                    at += 16 + len;
                }
            }
        }
    }

    /// Found in review (the `audit docker` hot path): choosing among the candidates read each
    /// daemon.json once per rule, and describing the chosen daemon read it again. Each file is
    /// read once per `local_daemon`, with one dockerd or several, before and after /info.
    #[test]
    fn each_daemon_json_is_read_once_per_pass() {
        let host = root_and_rootless("daemon-json-reads");
        std::fs::create_dir_all(host.root.join("home/alice/.config/docker")).unwrap();
        std::fs::write(
            host.root.join("home/alice/.config/docker/daemon.json"),
            r#"{"data-root": "/home/alice/docker-data"}"#,
        )
        .unwrap();
        let fs = HostFs::new(host.root.path());
        let system = Opens::in_dir(&host.root.join("etc/docker"));
        let alices = Opens::in_dir(&host.root.join("home/alice/.config/docker"));
        let endpoint = Endpoint {
            host: format!("unix://{}", host.root.join("var/run/docker.sock").display()),
            local: true,
            ..Default::default()
        };
        // The data root rule runs only with /info; the address rule with any endpoint.
        let info = Info {
            docker_root_dir: "/var/lib/docker".into(),
            ..Default::default()
        };
        let only_root = &host.processes[..1];
        for (processes, info) in [
            (only_root, None),
            (only_root, Some(&info)),
            (&host.processes[..], None),
            (&host.processes[..], Some(&info)),
        ] {
            let d = local_daemon(&DaemonInputs {
                processes,
                endpoint: &endpoint,
                info,
                fs: &fs,
                users: &host.users,
            });
            let candidates = processes.iter().filter(|p| p.is_program("dockerd")).count();
            assert_eq!(
                d.config_path, "/etc/docker/daemon.json",
                "{}",
                d.process_reason
            );
            assert_eq!(
                system.of("daemon.json"),
                1,
                "/etc/docker/daemon.json, {candidates} dockerd, info: {}",
                info.is_some()
            );
            assert_eq!(
                alices.of("daemon.json"),
                usize::from(candidates == 2),
                "alice's daemon.json, {candidates} dockerd, info: {}",
                info.is_some()
            );
        }
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
