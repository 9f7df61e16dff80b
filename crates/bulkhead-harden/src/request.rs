//! What the caller asks the planner for, and the values fixes write where the benchmark leaves
//! the choice to the operator (a memory limit, a user, a log collector's address).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which failing checks to plan for, and where the host's files are.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    /// `--select`: check IDs in the audits' numbering (`5.12`), sections (`5`) or stable control
    /// IDs (`docker.container.read_only_rootfs`). Empty: every failing check. An explicitly
    /// selected check is also planned when it is `warn` or `manual`, not only `fail`.
    pub select: Vec<String>,
    /// `--threat`: plan only for controls that mitigate these threats (`DKR-E01`).
    pub threats: Vec<String>,
    /// The directory the host's files are read under (and written under by apply). Default: the
    /// snapshot's own root.
    pub root: Option<PathBuf>,
    pub options: FixOptions,
    /// Paths each container wrote to its root file system (the Docker API's
    /// `GET /containers/{id}/changes`), by full container ID. `--read-only` gets a tmpfs for
    /// each directory written; without this list only the usual scratch directories are kept
    /// writable, and the fix says so.
    pub container_writes: BTreeMap<String, Vec<ChangedPath>>,
    /// The facts come from a saved snapshot (`--snapshot`), which does not hold what containers
    /// wrote: `container_writes` is empty because there was no daemon to ask, not because it did
    /// not answer, and the note of a read-only fix says so.
    pub from_snapshot: bool,
    /// Dockerfiles to fix for the image checks (USER, HEALTHCHECK), besides those a compose
    /// service's `build:` names.
    pub dockerfiles: Vec<String>,
    /// Threat library links (threat ID -> mitigating control IDs). `None`: the library of
    /// bulkhead-threats.
    pub threat_links: Option<Vec<ThreatLink>>,
}

/// One entry of a container's file system changes (`GET /containers/{id}/changes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedPath {
    pub path: String,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Modified,
    Added,
    Deleted,
}

/// One threat and the controls that mitigate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatLink {
    pub threat: String,
    pub controls: Vec<String>,
}

/// Values written by fixes where the operator chooses. Defaults are conservative starting points;
/// every fix that uses one says so and is marked for review.
#[derive(Debug, Clone)]
pub struct FixOptions {
    /// `--user` for containers and `USER` for Dockerfiles.
    pub container_user: String,
    pub pids_limit: i64,
    /// `--memory`, in Docker's notation.
    pub memory: String,
    pub cpu_shares: i64,
    /// `--restart on-failure:N`.
    pub restart_retries: u32,
    /// `--health-cmd` (shell form inside the container). Default: derived from the container's
    /// published ports, else a check that its main process is alive.
    pub health_cmd: Option<String>,
    /// Where container logs go (2.13): `udp://host:514`, `tcp://host:514`. Without it 2.13 is
    /// left unfixed with the reason.
    pub log_address: Option<String>,
    /// The authorization plugin to enable (2.12). Without it 2.12 is left unfixed.
    pub authz_plugin: Option<String>,
    /// `userns-remap` value (2.9).
    pub userns_remap: String,
    /// TLS files for a daemon that listens on TCP (2.7).
    pub tls_ca: String,
    pub tls_cert: String,
    pub tls_key: String,
    /// `default-ulimits` nofile soft and hard limits (2.8).
    pub nofile_limit: (i64, i64),
    /// The profile snippet for content trust (4.5).
    pub profile_path: String,
    /// The audit rules file (1.1.x).
    pub audit_rules_path: String,
    /// The generated EncryptionConfiguration (1.2.27/1.2.28).
    pub encryption_config_path: String,
}

impl Default for FixOptions {
    fn default() -> Self {
        FixOptions {
            container_user: "1000:1000".into(),
            pids_limit: 100,
            memory: "512m".into(),
            cpu_shares: 512,
            restart_retries: 5,
            health_cmd: None,
            log_address: None,
            authz_plugin: None,
            userns_remap: "default".into(),
            tls_ca: "/etc/docker/tls/ca.pem".into(),
            tls_cert: "/etc/docker/tls/server-cert.pem".into(),
            tls_key: "/etc/docker/tls/server-key.pem".into(),
            nofile_limit: (65536, 65536),
            profile_path: "/etc/profile.d/bulkhead-content-trust.sh".into(),
            audit_rules_path: "/etc/audit/rules.d/bulkhead-docker.rules".into(),
            encryption_config_path: "/etc/kubernetes/enc/encryption-config.yaml".into(),
        }
    }
}

/// Checks of the values an operator chooses for fixes. A value that would not close the check it
/// is written for (a root user, an unlimited limit, a local log socket), or that Docker would
/// refuse, is rejected before anything is planned: a plan must never claim a check closed by a
/// change that leaves it open. Each function returns the value to use, or why it is refused; the
/// CLI uses them as argument parsers and [`FixOptions::validate`] for any other caller.
pub mod values {
    /// Docker refuses a memory limit below 6 MiB.
    pub const MIN_MEMORY_BYTES: u64 = 6 * 1024 * 1024;
    /// The range of `--cpu-shares` the kernel honours (0 means "the default weight").
    pub const CPU_SHARES: std::ops::RangeInclusive<i64> = 2..=262_144;

    /// A user or group name as passwd and Dockerfiles take it, or a numeric id.
    fn is_id_or_name(s: &str) -> bool {
        let mut chars = s.chars();
        match chars.next() {
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => {}
            _ => return false,
        }
        s.len() <= 64 && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    }

    /// Does this user part name root (by name or as uid 0, `000` included)?
    fn is_root(user: &str) -> bool {
        user == "root"
            || (user.bytes().all(|b| b.is_ascii_digit()) && user.trim_start_matches('0').is_empty())
    }

    /// `--user`: `USER[:GROUP]`, names or numeric ids; never root (4.1 asks for a non-root user).
    pub fn container_user(v: &str) -> Result<String, String> {
        let (user, group) = match v.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (v, None),
        };
        if !is_id_or_name(user) || group.is_some_and(|g| !is_id_or_name(g)) {
            return Err(
                "not a user: give USER or USER:GROUP, names or numeric ids (1000:1000)".into(),
            );
        }
        if user.bytes().all(|b| b.is_ascii_digit()) && user.parse::<u32>().is_err() {
            return Err("the user id is out of range".into());
        }
        if is_root(user) {
            return Err("names root (uid 0), which is what 4.1 fails on: give a non-root user such as 1000:1000".into());
        }
        Ok(v.to_string())
    }

    /// `--memory`: a positive size in Docker's notation, a number with an optional unit b, k, m
    /// or g (either case), at least 6 MiB.
    pub fn memory(v: &str) -> Result<String, String> {
        let bad = || {
            "not a size: give a whole number with an optional unit b, k, m or g (512m)".to_string()
        };
        let (digits, unit) = match v.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => (&v[..i], c.to_ascii_lowercase()),
            _ => (v, 'b'),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let scale: u64 = match unit {
            'b' => 1,
            'k' => 1 << 10,
            'm' => 1 << 20,
            'g' => 1 << 30,
            _ => return Err(bad()),
        };
        let bytes = digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(scale))
            .filter(|b| *b <= i64::MAX as u64)
            .ok_or_else(|| "is too large".to_string())?;
        if bytes == 0 {
            return Err(
                "0 means no limit, which is what 5.11 fails on: give a positive size (512m)".into(),
            );
        }
        if bytes < MIN_MEMORY_BYTES {
            return Err("is below 6m, the smallest memory limit Docker accepts".into());
        }
        Ok(v.to_string())
    }

    /// `--cpu-shares`: a relative weight the kernel honours, 2 to 262144 (0 means the default
    /// weight, which is what the check fails on).
    pub fn cpu_shares(v: &str) -> Result<i64, String> {
        let n: i64 = v.parse().map_err(|_| "not a whole number".to_string())?;
        if !CPU_SHARES.contains(&n) {
            return Err(format!(
                "CPU shares must be {} to {} (0 leaves the default weight, which is what 5.12 fails on)",
                CPU_SHARES.start(),
                CPU_SHARES.end()
            ));
        }
        Ok(n)
    }

    /// `--pids-limit`: a positive number of processes (0 and -1 mean unlimited).
    pub fn pids_limit(v: &str) -> Result<i64, String> {
        let n: i64 = v.parse().map_err(|_| "not a whole number".to_string())?;
        if n <= 0 {
            return Err("0 and below mean no limit, which is what 5.29 fails on: give a positive number (100)".into());
        }
        Ok(n)
    }

    /// `--health-cmd`: one line of shell (it is written into Dockerfiles and compose files too,
    /// where a line break would start another instruction).
    pub fn health_cmd(v: &str) -> Result<String, String> {
        if v.trim().is_empty() {
            return Err("is empty: give a command that exits 0 when the service works".into());
        }
        if v.chars().any(char::is_control) {
            return Err(
                "holds a line break or another control character: give one line of shell".into(),
            );
        }
        Ok(v.to_string())
    }

    /// `--log-address`: a remote syslog collector, `udp://`, `tcp://` or `tcp+tls://` HOST[:PORT]
    /// (a local socket keeps the logs on the host, and dockerd refuses to start with an address
    /// it cannot parse).
    pub fn log_address(v: &str) -> Result<String, String> {
        let Some((scheme, rest)) = v.split_once("://") else {
            return Err(
                "not an address: give udp://HOST:PORT, tcp://HOST:PORT or tcp+tls://HOST:PORT"
                    .into(),
            );
        };
        match scheme {
            "udp" | "tcp" | "tcp+tls" => {}
            "unix" | "unixgram" => {
                return Err("a local socket keeps the logs on this host; 2.13 asks for a remote collector (udp://HOST:514)".into())
            }
            _ => return Err(format!("unknown scheme {scheme:?}: give udp://, tcp:// or tcp+tls://")),
        }
        let (host_ok, port) = match rest.strip_prefix('[') {
            // An IPv6 address, in brackets.
            Some(r) => match r.split_once(']') {
                Some((h, p)) => (
                    !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit() || ":.".contains(c)),
                    p,
                ),
                None => (false, ""),
            },
            None => {
                let host = rest.split(':').next().unwrap_or("");
                (
                    !host.is_empty()
                        && host
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
                    &rest[host.len()..],
                )
            }
        };
        if !host_ok {
            return Err("names no host: give udp://HOST:PORT ([ADDRESS] for IPv6)".into());
        }
        if let Some(p) = port.strip_prefix(':') {
            let digits = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            if !digits || !p.parse::<u16>().is_ok_and(|p| p > 0) {
                return Err(format!("port {p:?} is not a port number (1 to 65535)"));
            }
        } else if !port.is_empty() {
            return Err("not an address: only HOST:PORT may follow the scheme".into());
        }
        Ok(v.to_string())
    }

    /// `--authz-plugin`: a plugin name as `docker plugin ls` shows it.
    pub fn authz_plugin(v: &str) -> Result<String, String> {
        if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-:/@".contains(c))
        {
            return Err("not a plugin name (letters, digits and _ . - : / @)".into());
        }
        Ok(v.to_string())
    }

    /// `--userns-remap`: `default` or USER[:GROUP] whose subordinate ids the daemon uses; never
    /// root (2.9 asks that container root map to an unprivileged host user).
    pub fn userns_remap(v: &str) -> Result<String, String> {
        let (user, group) = match v.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (v, None),
        };
        if !is_id_or_name(user) || group.is_some_and(|g| !is_id_or_name(g)) {
            return Err("not a user: give default or USER[:GROUP]".into());
        }
        if is_root(user) {
            return Err("root maps container root to host root, which is what 2.9 fails on: give default or an unprivileged user".into());
        }
        Ok(v.to_string())
    }
}

impl FixOptions {
    /// Refuse values that would not close the checks they are written for, naming the option
    /// and the value (the CLI's parsers catch these first; this guards every other caller).
    pub fn validate(&self) -> Result<(), String> {
        fn check<T>(flag: &str, value: &str, r: Result<T, String>) -> Result<(), String> {
            r.map(|_| ()).map_err(|e| format!("{flag} {value:?}: {e}"))
        }
        check(
            "--user",
            &self.container_user,
            values::container_user(&self.container_user),
        )?;
        check("--memory", &self.memory, values::memory(&self.memory))?;
        let shares = self.cpu_shares.to_string();
        check("--cpu-shares", &shares, values::cpu_shares(&shares))?;
        let pids = self.pids_limit.to_string();
        check("--pids-limit", &pids, values::pids_limit(&pids))?;
        if let Some(h) = &self.health_cmd {
            check("--health-cmd", h, values::health_cmd(h))?;
        }
        if let Some(a) = &self.log_address {
            check("--log-address", a, values::log_address(a))?;
        }
        if let Some(p) = &self.authz_plugin {
            check("--authz-plugin", p, values::authz_plugin(p))?;
        }
        check(
            "--userns-remap",
            &self.userns_remap,
            values::userns_remap(&self.userns_remap),
        )?;
        if !(1..=5).contains(&self.restart_retries) {
            return Err(format!(
                "restart retries {}: 5.15 asks for on-failure with 1 to 5 retries",
                self.restart_retries
            ));
        }
        let (soft, hard) = self.nofile_limit;
        if soft <= 0 || soft > hard {
            return Err(format!(
                "nofile limit {soft}/{hard}: the soft limit must be positive and at most the hard one"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::values::*;
    use super::FixOptions;

    #[test]
    fn users_that_are_root_are_refused() {
        for ok in ["1000", "1000:1000", "app", "app:app", "10001:0", "nobody"] {
            assert_eq!(container_user(ok).as_deref(), Ok(ok));
        }
        for root in [
            "0",
            "000",
            "0:0",
            "0:1000",
            "root",
            "root:root",
            "root:staff",
        ] {
            assert!(container_user(root).unwrap_err().contains("root"), "{root}");
        }
        for bad in [
            "",
            ":1000",
            "1000:",
            "a b",
            "-x",
            "a:b:c",
            "99999999999",
            "x\ny",
        ] {
            assert!(container_user(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn memory_is_a_positive_size_docker_accepts() {
        for ok in [
            "512m", "512M", "6m", "1g", "1G", "6291456", "65536k", "6291456b",
        ] {
            assert_eq!(memory(ok).as_deref(), Ok(ok));
        }
        assert!(memory("0").unwrap_err().contains("no limit"));
        assert!(memory("0m").unwrap_err().contains("no limit"));
        assert!(memory("1k").unwrap_err().contains("6m"));
        for bad in [
            "banana",
            "",
            "m",
            "-1",
            "1.5g",
            "512mb",
            "1t",
            "99999999999999g",
            " 512m",
        ] {
            assert!(memory(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits_that_mean_unlimited_are_refused() {
        assert_eq!(cpu_shares("512"), Ok(512));
        assert_eq!(cpu_shares("2"), Ok(2));
        assert_eq!(cpu_shares("262144"), Ok(262_144));
        for bad in ["0", "1", "-5", "262145", "x"] {
            assert!(cpu_shares(bad).is_err(), "{bad}");
        }
        assert_eq!(pids_limit("100"), Ok(100));
        for bad in ["0", "-1", "x", ""] {
            assert!(pids_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn daemon_values_must_do_what_their_check_asks() {
        for ok in [
            "udp://logs.example:514",
            "tcp://10.0.0.5:601",
            "tcp+tls://logs.example:6514",
            "udp://logs",
            "udp://[2001:db8::1]:514",
        ] {
            assert_eq!(log_address(ok).as_deref(), Ok(ok));
        }
        assert!(log_address("unix:///dev/log")
            .unwrap_err()
            .contains("local socket"));
        for bad in [
            "logs.example:514",
            "http://logs:514",
            "udp://",
            "udp://:514",
            "udp://h:0",
            "udp://h:99999",
            "udp://h:+514",
            "udp://h/x",
            "udp://[::1",
        ] {
            assert!(log_address(bad).is_err(), "{bad}");
        }
        assert!(userns_remap("default").is_ok());
        assert!(userns_remap("dockremap:dockremap").is_ok());
        assert!(userns_remap("root").is_err());
        assert!(userns_remap("0:0").is_err());
        assert!(authz_plugin("openpolicyagent/opa-docker-authz-v2:0.8").is_ok());
        assert!(authz_plugin("").is_err());
        assert!(authz_plugin("a b").is_err());
        assert!(health_cmd("curl -fsS http://127.0.0.1/health || exit 1").is_ok());
        assert!(health_cmd("  ").is_err());
        assert!(health_cmd("true\nUSER root").is_err());
    }

    #[test]
    fn validate_names_the_option_and_the_value() {
        assert_eq!(FixOptions::default().validate(), Ok(()));
        let e = FixOptions {
            container_user: "0:0".into(),
            ..FixOptions::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.starts_with("--user \"0:0\": "), "{e}");
        let e = FixOptions {
            memory: "banana".into(),
            ..FixOptions::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.starts_with("--memory \"banana\": "), "{e}");
        let e = FixOptions {
            cpu_shares: 0,
            ..FixOptions::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.starts_with("--cpu-shares \"0\": "), "{e}");
    }
}
