//! Section 2 fixes: keys merged into the daemon's own daemon.json (the file `--config-file`
//! names, else the default for the mode), keeping every existing key, value, comment-free layout
//! and order. One fix per file; each key says whether it is safe on its own.
//!
//! dockerd refuses to start when a setting is given both as a flag and in daemon.json, so a key
//! whose setting comes from the command line is never written: the check stays unfixed, with the
//! flag to remove named.

use super::{file_edit, ids_of, Fixer, ROOT_FILE};
use crate::edit::json;
use crate::files;
use crate::model::{Action, Fix, FixKind, Restart, Safety, Target};
use crate::planner::{Failing, PlanContext, Planned};
use bulkhead_facts::docker::{DaemonFacts, DaemonSettings};
use bulkhead_facts::mask::MASK;
use serde_json::{json, Value};

pub const FIXER: Fixer = Fixer {
    name: "daemon-json",
    handles: key_plan_exists,
    plan,
};

/// Settings dockerd applies on SIGHUP without a restart (its configuration reload).
const RELOADABLE: &[&str] = &[
    "debug",
    "live-restore",
    "authorization-plugins",
    "insecure-registries",
    "registry-mirrors",
    "labels",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "shutdown-timeout",
    "default-runtime",
    "runtimes",
    "features",
];

/// The `log-opts` dockerd's syslog driver accepts (`daemon/logger/syslog`'s ValidateLogOpt, as
/// documented at docs.docker.com/engine/logging/drivers/syslog/), plus those dockerd handles for
/// every driver (`mode`, `max-buffer-size` and the dual-logging cache `cache-*`). dockerd refuses
/// to start when `log-opts` holds any other key for the driver: switching the driver must drop them.
const SYSLOG_LOG_OPTS: &[&str] = &[
    "env",
    "env-regex",
    "labels",
    "labels-regex",
    "syslog-address",
    "syslog-facility",
    "syslog-tls-ca-cert",
    "syslog-tls-cert",
    "syslog-tls-key",
    "syslog-tls-skip-verify",
    "tag",
    "syslog-format",
    "mode",
    "max-buffer-size",
    "cache-disabled",
    "cache-max-size",
    "cache-max-file",
    "cache-compress",
];

/// Remove from `text`'s `log-opts` every key the syslog driver rejects; returns the new text and
/// the keys removed (names only: a value may be a secret such as `splunk-token`).
fn drop_non_syslog_opts(text: &str) -> Result<(String, Vec<String>), String> {
    let keys: Vec<String> = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|d| d.get("log-opts").and_then(Value::as_object).cloned())
        .map(|o| {
            o.keys()
                .filter(|k| !SYSLOG_LOG_OPTS.contains(&k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mut text = text.to_string();
    for k in &keys {
        text = json::remove(&text, &["log-opts", k]).map_err(|e| e.to_string())?;
    }
    Ok((text, keys))
}

/// Why dockerd, started with `flags` and the daemon.json `new` (the content a fix would write),
/// would refuse to start or be cut off, for the keys the fix changes (`changed`): a key also given
/// as a flag ("the following directives are specified both as a flag and in the configuration
/// file"), a combination its bridge driver rejects (`--icc=false` with `--iptables=false`), or
/// one that leaves it running with its published ports forwarded by nothing.
pub fn dockerd_rejects(
    flags: &bulkhead_facts::flags::Flags,
    config_path: &str,
    new: &str,
    changed: &[String],
) -> Option<String> {
    // A file fixed on its own (`harden --scan`): no audit says where dockerd's command line is
    // set, and the checks go by the default numbering.
    let advice = Advice::new(None, None);
    flag_rejects(flags, config_path, new, changed, &advice).or_else(|| {
        unusable_combinations(flags, config_path, new, &advice)
            .into_iter()
            .find(|c| !c.starts || changed.iter().any(|k| k == c.key))
            .map(|c| c.reason)
    })
}

/// What a reason tells the user to do about a setting no daemon.json edit can change: where
/// dockerd's command line is set, and the number of the check that turns iptables on.
struct Advice {
    /// Where a flag is removed from, as the audit found it (a noun phrase).
    command_line: String,
    /// Reloading the service manager (when a unit was found) and restarting dockerd.
    restart: &'static str,
    /// The iptables check in the plan's numbering (`2.4` in CIS Docker 1.6.0, `2.3` in 1.2.0).
    iptables_check: Option<String>,
}

/// The control whose fix sets `"iptables": true`.
const IPTABLES_CONTROL: &str = "docker.daemon.iptables_allowed";

impl Advice {
    /// For the daemon the audit described (`None`: a daemon.json fixed on its own) and the
    /// CIS Docker `edition` of the plan (`None`: the default one).
    fn new(daemon: Option<&DaemonFacts>, edition: Option<&str>) -> Advice {
        let benchmark = bulkhead_checks::catalog().docker();
        let edition = edition.unwrap_or_else(|| benchmark.default_edition());
        let iptables_check = benchmark
            .find(IPTABLES_CONTROL, edition)
            .and_then(|c| c.id_in(edition))
            .map(String::from);
        let unit = daemon.and_then(|d| d.paths.units.get("docker.service").cloned().flatten());
        // A root dockerd the service manager started is a child of pid 1; one whose parent is
        // another process (a shell, a script, a test harness) was not started from the unit,
        // whatever unit file is installed. Rootless dockerd is rootlesskit's child either way.
        let started_by = daemon
            .filter(|d| !d.rootless)
            .and_then(|d| d.process.value().cloned().flatten())
            .filter(|p| p.ppid != 1);
        let (command_line, restart) = match (daemon, unit, started_by) {
            (Some(_), _, Some(p)) => (
                format!(
                    "whatever started dockerd (pid {}, a child of pid {}, not of the service manager)",
                    p.pid, p.ppid
                ),
                "restart dockerd",
            ),
            (Some(d), Some(unit), None) => {
                let user = if d.rootless { " --user" } else { "" };
                (
                    format!(
                        "the ExecStart= line of docker.service ({unit}, the unit file the audit found) or of a drop-in that overrides it (`systemctl{user} cat docker.service` shows both, with their paths)"
                    ),
                    if d.rootless {
                        "run `systemctl --user daemon-reload` and restart dockerd"
                    } else {
                        "run `systemctl daemon-reload` and restart dockerd"
                    },
                )
            }
            (Some(_), None, None) => (
                "whatever starts dockerd (the audit found no docker.service unit file)".into(),
                "restart dockerd",
            ),
            (None, _, _) => ("the daemon's service definition".into(), "restart dockerd"),
        };
        Advice {
            command_line,
            restart,
            iptables_check,
        }
    }

    /// `the iptables check (2.4)`.
    fn iptables_check(&self) -> String {
        match &self.iptables_check {
            Some(id) => format!("the iptables check ({id})"),
            None => "the iptables check".into(),
        }
    }

    /// How to remove the flag `flag` from dockerd's command line, ending the reason.
    fn remove_flag(&self, flag: &str) -> String {
        format!(
            "remove {flag} from {}, {}, then run harden again",
            self.command_line, self.restart
        )
    }

    /// How to turn iptables on, disabled by `source` (`flag --iptables` or the daemon.json
    /// key), ending the reason. A flag is out of reach of every fix, the iptables check's own
    /// included: selecting it changes nothing.
    fn enable_iptables(&self, flags: &bulkhead_facts::flags::Flags, source: &str) -> String {
        if source.starts_with("flag") {
            let value = flags.last("iptables").unwrap_or_else(|| "false".into());
            format!(
                "No fix turns iptables on while --iptables={value} is on the dockerd command line: harden edits daemon.json, never the command line, so selecting {} changes nothing; {}",
                self.iptables_check(),
                self.remove_flag(&format!("--iptables={value}"))
            )
        } else {
            format!(
                "Select {} in the same harden run, or enable iptables first, then run harden again",
                self.iptables_check()
            )
        }
    }
}

/// The part of [`dockerd_rejects`] that concerns one key at a time: a changed key that is also
/// given as a dockerd flag. It depends on nothing but the key, so it can be judged fix by fix.
fn flag_rejects(
    flags: &bulkhead_facts::flags::Flags,
    config_path: &str,
    new: &str,
    changed: &[String],
    advice: &Advice,
) -> Option<String> {
    let config = serde_json::from_str::<Value>(new).ok();
    let flags_only = DaemonSettings::new(flags.clone(), None, config_path);
    for key in changed {
        let in_file = config
            .as_ref()
            .is_some_and(|c| c.get(key.as_str()).is_some());
        if let Some(s) = flags_only.get(key).filter(|_| in_file) {
            return Some(format!(
                "\"{key}\" is set on the dockerd command line ({}); dockerd refuses a setting given both as a flag and in daemon.json: {}",
                s.source,
                advice.remove_flag("the flag")
            ));
        }
    }
    None
}

/// A combination of settings that makes a daemon unusable.
struct Combination {
    reason: String,
    /// The key a fix must not set for the combination to work (`icc`: it is `"icc": false` that
    /// needs iptables, never `"iptables": true` that breaks anything).
    key: &'static str,
    /// dockerd still starts with it, so only a fix that sets `key` is to blame: a file that
    /// already holds the combination does not stop fixes of other keys.
    starts: bool,
}

/// The part of [`dockerd_rejects`] that concerns settings together: the combinations that make
/// a daemon unusable in the merged view of `flags` and the whole daemon.json `new`.
fn unusable_combinations(
    flags: &bulkhead_facts::flags::Flags,
    config_path: &str,
    new: &str,
    advice: &Advice,
) -> Vec<Combination> {
    let config = serde_json::from_str::<Value>(new).ok();
    let settings = DaemonSettings::new(flags.clone(), config, config_path);
    let mut found = Vec::new();
    let Some((false, ipt_src)) = settings.bool("iptables") else {
        return found;
    };
    let enable = advice.enable_iptables(flags, &ipt_src);
    if let Some((false, icc_src)) = settings.bool("icc") {
        found.push(Combination {
            reason: format!(
                "dockerd refuses \"icc\": false while iptables is disabled ({ipt_src}; icc from {icc_src}): \"You specified --iptables=false with --icc=false\" — it would not start. {enable}"
            ),
            key: "icc",
            starts: false,
        });
    }
    // Without iptables rules the userland proxy is the only thing that forwards a published
    // port: dockerd 20.10 started with both off still binds each port, so it looks open, but no
    // connection reaches the container.
    if let Some((false, proxy_src)) = settings.bool("userland-proxy") {
        found.push(Combination {
            reason: format!(
                "while iptables is disabled ({ipt_src}) the userland proxy is what forwards published ports: \"userland-proxy\": false ({proxy_src}) would leave every published port unreachable (dockerd still binds them, so they look open). {enable}"
            ),
            key: "userland-proxy",
            starts: true,
        });
    }
    found
}

/// The top-level keys whose value differs between two daemon.json texts.
pub fn changed_keys(before: &str, after: &str) -> Vec<String> {
    let obj = |t: &str| {
        serde_json::from_str::<Value>(t)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default()
    };
    let (a, b) = (obj(before), obj(after));
    let mut keys: Vec<String> = a.keys().chain(b.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.retain(|k| a.get(k) != b.get(k));
    keys
}

/// One daemon.json operation.
#[derive(Debug, Clone)]
enum Op {
    Set(&'static [&'static str], Value),
    Remove(&'static str),
}

impl Op {
    fn key(&self) -> &'static str {
        match self {
            Op::Set(p, _) => p[0],
            Op::Remove(k) => k,
        }
    }
}

/// What one control asks of daemon.json.
struct KeyPlan {
    ops: Vec<Op>,
    safety: Safety,
    change: String,
    may_break: Option<String>,
    note: Option<String>,
}

fn key_plan_exists(control: &str) -> bool {
    matches!(
        control,
        "docker.daemon.icc_disabled"
            | "docker.daemon.log_level_info"
            | "docker.daemon.iptables_allowed"
            | "docker.daemon.no_insecure_registries"
            | "docker.daemon.no_aufs"
            | "docker.daemon.tls_auth"
            | "docker.daemon.default_ulimits"
            | "docker.daemon.userns_remap"
            | "docker.daemon.authorization_plugin"
            | "docker.daemon.remote_logging"
            | "docker.daemon.no_new_privileges"
            | "docker.daemon.live_restore"
            | "docker.daemon.userland_proxy_disabled"
            | "docker.daemon.no_experimental"
    )
}

/// What sending container logs to syslog at `addr` may break on the audited engine. Docker Engine
/// 20.10 added dual logging: `docker logs` then reads a local cache whatever the driver. Over TCP
/// the syslog driver connects when a container starts, and the start fails while the collector
/// refuses the connection (both checked against dockerd 20.10).
fn remote_logging_risks(ctx: &PlanContext<'_>, addr: &str) -> String {
    let engine = ctx
        .snapshot
        .docker
        .as_ref()
        .and_then(|d| d.version.value())
        .and_then(|v| major_minor(&v.version));
    let mut risks = match engine {
        Some(v) if v >= (20, 10) => "the collector must accept the traffic: `docker logs` still works from the engine's local cache (dual logging, unless \"log-opts\" sets \"cache-disabled\"), but no other copy stays on the host".to_string(),
        Some(_) => "`docker logs` no longer shows the output of containers created after the change (this engine predates dual logging, added in 20.10); the collector must accept the traffic".to_string(),
        None => "the collector must accept the traffic; `docker logs` keeps working only on Docker Engine 20.10 or later (dual logging)".to_string(),
    };
    if addr.starts_with("tcp") {
        risks.push_str("; over TCP a container does not start while the collector refuses connections (\"failed to initialize logging driver\")");
    }
    risks
}

/// The nofile limits to write, kept within the running dockerd's own hard limit on open files:
/// without CAP_SYS_RESOURCE it cannot give a container more, and every container it starts would
/// then fail ("error setting rlimits for ready process", checked against dockerd 20.10). Lowered
/// limits come with a note saying so.
fn nofile_within_the_daemon(
    ctx: &PlanContext<'_>,
    (soft, hard): (i64, i64),
) -> (i64, i64, Option<String>) {
    let daemon = ctx.snapshot.docker.as_ref().map(|d| &d.daemon);
    let Some(own) = daemon
        .and_then(|d| d.open_files_limit)
        .and_then(|l| l.hard)
        .and_then(|h| i64::try_from(h).ok())
        .filter(|h| *h < hard && *h > 0)
    else {
        return (soft, hard, None);
    };
    let pid = daemon
        .and_then(|d| d.process.value().cloned().flatten())
        .map(|p| format!(" (pid {})", p.pid))
        .unwrap_or_default();
    let note = format!(
        "nofile {soft}/{hard} lowered to {}/{own}: the running dockerd{pid} may open at most {own} files itself and, without CAP_SYS_RESOURCE, cannot give a container more (the container would not start); raise its limit (LimitNOFILE in its service unit) first for higher defaults",
        soft.min(own)
    );
    (soft.min(own), own, Some(note))
}

/// `20.10` of an engine version such as `20.10.24+dfsg1` or `26.1.0`.
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The operations for `control`, or why it cannot be fixed in daemon.json.
fn key_plan(control: &str, ctx: &PlanContext<'_>, swarm_active: bool) -> Result<KeyPlan, String> {
    let o = ctx.options();
    let kp = |ops: Vec<Op>, safety, change: String, may_break: Option<&str>| KeyPlan {
        ops,
        safety,
        change,
        may_break: may_break.map(String::from),
        note: None,
    };
    Ok(match control {
        "docker.daemon.icc_disabled" => kp(
            vec![Op::Set(&["icc"], json!(false))],
            Safety::Review,
            "\"icc\": false — containers on the default bridge can no longer reach each other".into(),
            Some("containers that talk to each other over the default bridge lose that path; put them on a user-defined network"),
        ),
        "docker.daemon.log_level_info" => kp(
            vec![Op::Set(&["log-level"], json!("info")), Op::Set(&["debug"], json!(false))],
            Safety::Safe,
            "\"log-level\": \"info\" (and \"debug\": false) — the daemon logs what an investigation needs, without debug noise".into(),
            None,
        ),
        "docker.daemon.iptables_allowed" => kp(
            vec![Op::Set(&["iptables"], json!(true))],
            Safety::Review,
            "\"iptables\": true — Docker manages the firewall rules its networks need".into(),
            Some("hand-written firewall rules that conflict with Docker's chains change behaviour"),
        ),
        "docker.daemon.no_insecure_registries" => kp(
            vec![Op::Remove("insecure-registries")],
            Safety::Review,
            "remove \"insecure-registries\" — every registry must present a trusted TLS certificate".into(),
            Some("pulls from the listed registries fail until they serve TLS with a certificate the host trusts"),
        ),
        "docker.daemon.no_aufs" => kp(
            vec![Op::Set(&["storage-driver"], json!("overlay2"))],
            Safety::Review,
            "\"storage-driver\": \"overlay2\" — replace the deprecated aufs driver".into(),
            Some("images and containers stored by aufs are not visible to overlay2; export what you need first"),
        ),
        "docker.daemon.tls_auth" => {
            let mut p = kp(
                vec![
                    Op::Set(&["tlsverify"], json!(true)),
                    Op::Set(&["tlscacert"], json!(o.tls_ca)),
                    Op::Set(&["tlscert"], json!(o.tls_cert)),
                    Op::Set(&["tlskey"], json!(o.tls_key)),
                ],
                Safety::Review,
                "\"tlsverify\": true with CA, certificate and key — TCP clients must present a certificate signed by the CA".into(),
                Some("clients without a certificate signed by the CA can no longer use the TCP endpoint; dockerd does not start while the files are missing"),
            );
            p.note = Some(format!(
                "create {}, {} and {} (key mode 0400) before restarting the daemon",
                o.tls_ca, o.tls_cert, o.tls_key
            ));
            p
        }
        "docker.daemon.default_ulimits" => {
            let (soft, hard, note) = nofile_within_the_daemon(ctx, o.nofile_limit);
            let mut p = kp(
                vec![Op::Set(
                    &["default-ulimits", "nofile"],
                    json!({"Name": "nofile", "Hard": hard, "Soft": soft}),
                )],
                Safety::Review,
                format!(
                    "\"default-ulimits\": nofile {soft}/{hard} — containers get a bounded number of open files unless they ask for more"
                ),
                Some("programs that open more files than the limit fail with EMFILE; raise it per container with --ulimit"),
            );
            p.note = note;
            p
        }
        "docker.daemon.userns_remap" => kp(
            vec![Op::Set(&["userns-remap"], json!(o.userns_remap))],
            Safety::Review,
            format!("\"userns-remap\": \"{}\" — root in a container maps to an unprivileged host user", o.userns_remap),
            Some("existing images and containers are not visible (the daemon uses a new data directory); --privileged and host-namespace containers need --userns=host; bind-mounted files need ownership for the remapped ids"),
        ),
        "docker.daemon.authorization_plugin" => match &o.authz_plugin {
            Some(name) => kp(
                vec![Op::Set(&["authorization-plugins"], json!([name]))],
                Safety::Review,
                format!("\"authorization-plugins\": [\"{name}\"] — every API request is authorized by the plugin"),
                Some("every API request fails while the plugin is not installed or not running"),
            ),
            None => {
                return Err(
                    "an authorization plugin must be chosen and installed first; name it with --authz-plugin NAME and run harden again".into(),
                )
            }
        },
        "docker.daemon.remote_logging" => match &o.log_address {
            Some(addr) => {
                let mut p = kp(
                    vec![
                        Op::Set(&["log-driver"], json!("syslog")),
                        Op::Set(&["log-opts", "syslog-address"], json!(addr)),
                    ],
                    Safety::Review,
                    format!("\"log-driver\": \"syslog\" sending to {addr} — container logs leave the host as they are written"),
                    None,
                );
                p.may_break = Some(remote_logging_risks(ctx, addr));
                p
            }
            None => {
                return Err(
                    "a log collector must be named; give its address with --log-address udp://HOST:514 and run harden again".into(),
                )
            }
        },
        "docker.daemon.no_new_privileges" => kp(
            vec![Op::Set(&["no-new-privileges"], json!(true))],
            Safety::Review,
            "\"no-new-privileges\": true — processes in new containers cannot gain privileges through setuid or file capabilities".into(),
            Some("tools that rely on setuid inside containers (sudo, su, ping on old images) stop elevating"),
        ),
        "docker.daemon.live_restore" => {
            if swarm_active {
                return Err(
                    "live restore cannot be enabled while swarm mode is active (dockerd refuses the combination)".into(),
                );
            }
            kp(
                vec![Op::Set(&["live-restore"], json!(true))],
                Safety::Safe,
                "\"live-restore\": true — containers keep running while the daemon restarts or upgrades".into(),
                None,
            )
        }
        "docker.daemon.userland_proxy_disabled" => kp(
            vec![Op::Set(&["userland-proxy"], json!(false))],
            Safety::Review,
            "\"userland-proxy\": false — published ports are forwarded by iptables instead of a proxy process per port".into(),
            Some("on hosts without hairpin NAT support, reaching a published port through the host's own address from a container can stop working"),
        ),
        "docker.daemon.no_experimental" => kp(
            vec![Op::Set(&["experimental"], json!(false))],
            Safety::Review,
            "\"experimental\": false — experimental daemon features are switched off".into(),
            Some("workloads that use an experimental feature lose it"),
        ),
        other => return Err(format!("no daemon.json setting fixes {other}")),
    })
}

/// A setting given on dockerd's command line cannot also be written to daemon.json.
fn flag_conflict(settings: &DaemonSettings, op: &Op, advice: &Advice) -> Option<String> {
    let key = op.key();
    // `--debug`/`-D` on the command line is what makes the level debug.
    let s = settings.get(key)?;
    s.source.starts_with("flag").then(|| {
        format!(
            "\"{key}\" is set on the dockerd command line ({}); dockerd refuses a setting given both as a flag and in daemon.json: {}",
            s.source,
            advice.remove_flag("the flag")
        )
    })
}

/// Is `now` (daemon.json as it is on disk) the content the audit recorded as `audited`? The
/// collector replaces secret values with the mask (`"splunk-token": "***"`, or a part of a
/// string): where the audited string holds the mask, any text may stand on disk, and every other
/// key, value and part of a string must be equal.
fn matches_audited(audited: &Value, now: &Value) -> bool {
    match (audited, now) {
        (Value::Object(a), Value::Object(n)) => {
            a.len() == n.len()
                && a.iter()
                    .all(|(k, av)| n.get(k).is_some_and(|nv| matches_audited(av, nv)))
        }
        (Value::Array(a), Value::Array(n)) => {
            a.len() == n.len() && a.iter().zip(n).all(|(av, nv)| matches_audited(av, nv))
        }
        (Value::String(a), Value::String(n)) if a.contains(MASK) => masked_string_matches(a, n),
        _ => audited == now,
    }
}

/// Does `text` read like `masked`, each mask standing for any run of characters?
fn masked_string_matches(masked: &str, text: &str) -> bool {
    let parts: Vec<&str> = masked.split(MASK).collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    // The leftmost place of each middle part leaves the most room for the parts after it.
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// A fix whose keys may be written, with what merging it changed.
struct Accepted<'a> {
    failing: &'a Failing<'a>,
    kp: KeyPlan,
    /// `log-opts` keys removed for the syslog driver.
    dropped: Vec<String>,
    /// Top-level keys whose value the fix changed.
    changed: Vec<String>,
}

/// `text` with the operations of `kp` (the plan for `control`) merged in, and the `log-opts` keys
/// the syslog driver rejects removed when the fix switches to it; returns the new text and the
/// keys removed from `log-opts`.
fn merge(
    text: &str,
    kp: &KeyPlan,
    control: &str,
    path: &str,
) -> Result<(String, Vec<String>), String> {
    let mut text = text.to_string();
    for op in &kp.ops {
        text = match op {
            // Only touch `debug` when daemon.json has it.
            Op::Set(p, v) if p[0] == "debug" => {
                let has = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|d| d.get("debug").cloned());
                match has {
                    Some(cur) if cur != *v => json::set(&text, p, v),
                    _ => Ok(text.clone()),
                }
            }
            Op::Set(p, v) => json::set(&text, p, v),
            Op::Remove(k) => json::remove(&text, &[k]),
        }
        .map_err(|e| format!("{path}: {e}"))?;
    }
    // The syslog driver rejects the options of the driver it replaces (`max-size` of
    // json-file, `splunk-token` of splunk): dockerd would not start with them.
    if control == "docker.daemon.remote_logging" {
        return drop_non_syslog_opts(&text).map_err(|e| format!("{path}: {e}"));
    }
    Ok((text, Vec::new()))
}

fn plan(ctx: &PlanContext<'_>, failing: &[Failing<'_>]) -> Planned {
    let mut out = Planned::default();
    let unfix_all = |out: &mut Planned, reason: &str| {
        for f in failing {
            out.unfixed.push(f.unfixed(None, reason));
        }
    };
    let Some(docker) = ctx.snapshot.docker.as_ref() else {
        unfix_all(&mut out, "the snapshot holds no Docker facts");
        return out;
    };
    if !docker.endpoint.local {
        unfix_all(
            &mut out,
            &format!(
                "the daemon at {} is remote; run bulkhead harden on that host",
                docker.endpoint.host
            ),
        );
        return out;
    }
    let path = if docker.daemon.config_path.is_empty() {
        docker.daemon.paths.config_file.clone()
    } else {
        docker.daemon.config_path.clone()
    };
    let read = match files::read(&ctx.root, &path) {
        Ok(r) => r,
        Err(e) => {
            unfix_all(&mut out, &e);
            return out;
        }
    };
    let settings = DaemonSettings::from_facts(&docker.daemon);
    let advice = Advice::new(Some(&docker.daemon), failing.first().map(|f| f.edition));
    let swarm_active = docker
        .info
        .value()
        .map(|i| i.swarm.local_node_state == "active")
        .unwrap_or(false);
    let original = read.content.clone().unwrap_or_default();
    if let Err(e) = json::validate(&original).or_else(|e| {
        if original.trim().is_empty() {
            Ok(())
        } else {
            Err(e)
        }
    }) {
        unfix_all(
            &mut out,
            &format!("{path} is not valid JSON ({e}); fix it by hand first"),
        );
        return out;
    }
    // The file must be the one the audit judged: a snapshot from another host, or a file edited
    // since the audit, would turn the audit's verdicts into wrong edits. The audit holds secret
    // values masked, the disk the real ones: a masked value stands for whatever is on disk.
    if let Some(audited) = docker.daemon.config.value() {
        let now = (!original.trim().is_empty())
            .then(|| serde_json::from_str::<Value>(&original).ok())
            .flatten();
        let same = match (audited.as_ref(), now.as_ref()) {
            (None, None) => true,
            (Some(audited), Some(now)) => matches_audited(audited, now),
            _ => false,
        };
        if !same {
            unfix_all(
                &mut out,
                &format!("{path} is not what the audit read (changed since, or the snapshot comes from another host); audit again on this host"),
            );
            return out;
        }
    }
    // Each fix is judged on its own keys first (a flag that already sets one, a file that already
    // holds it); a combination of settings is judged once, on the content every accepted fix
    // writes together. The result must not depend on the order the checks come in: "icc": false
    // is fine when the same plan turns iptables on.
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut text = original.clone();
    for f in failing {
        let kp = match key_plan(f.control_id(), ctx, swarm_active) {
            Ok(kp) => kp,
            Err(reason) => {
                out.unfixed.push(f.unfixed(None, reason));
                continue;
            }
        };
        if let Some(reason) = kp.ops.iter().find_map(|op| match op {
            // `--debug` (`-D`) on the command line makes the level debug whatever daemon.json
            // says: writing log-level there would change nothing.
            Op::Set(p, _) if p[0] == "debug" => settings.flags().has("debug").then(|| {
                format!(
                    "--debug on the dockerd command line sets the log level to debug; {}",
                    advice.remove_flag("it")
                )
            }),
            op => flag_conflict(&settings, op, &advice),
        }) {
            out.unfixed.push(f.unfixed(None, reason));
            continue;
        }
        let merged = merge(&text, &kp, f.control_id(), &path).and_then(|(after, dropped)| {
            let changed = changed_keys(&text, &after);
            match flag_rejects(settings.flags(), &path, &after, &changed, &advice) {
                Some(e) => Err(e),
                None => Ok((after, dropped, changed)),
            }
        });
        let (after, dropped, changed) = match merged {
            Ok(m) => m,
            Err(e) => {
                out.unfixed.push(f.unfixed(None, e));
                continue;
            }
        };
        if after == text {
            out.unfixed.push(f.unfixed(
                None,
                format!("{path} already holds the setting; the running daemon has not loaded it yet: restart the daemon"),
            ));
            continue;
        }
        text = after;
        accepted.push(Accepted {
            failing: f,
            kp,
            dropped,
            changed,
        });
    }
    // Leave out the fixes that set the key an unusable combination forbids, and merge the others
    // again from the file as it is; when no fix set it (the file already holds the combination)
    // and dockerd would not start with it, no content this plan writes would start, so every fix
    // is left out.
    while let Some(Combination { reason, key, .. }) = (!accepted.is_empty())
        .then(|| {
            unusable_combinations(settings.flags(), &path, &text, &advice)
                .into_iter()
                .find(|c| {
                    !c.starts
                        || accepted
                            .iter()
                            .any(|a| a.changed.iter().any(|k| k == c.key))
                })
        })
        .flatten()
    {
        let blamed = accepted.iter().any(|a| a.changed.iter().any(|k| k == key));
        let (refused, kept): (Vec<Accepted>, Vec<Accepted>) = accepted
            .into_iter()
            .partition(|a| !blamed || a.changed.iter().any(|k| k == key));
        for a in &refused {
            out.unfixed.push(a.failing.unfixed(None, reason.clone()));
        }
        text = original.clone();
        accepted = Vec::new();
        for a in kept {
            match merge(&text, &a.kp, a.failing.control_id(), &path) {
                Ok((after, dropped)) => {
                    let changed = changed_keys(&text, &after);
                    text = after;
                    accepted.push(Accepted {
                        dropped,
                        changed,
                        ..a
                    });
                }
                Err(e) => out.unfixed.push(a.failing.unfixed(None, e)),
            }
        }
    }
    let mut fixed: Vec<&Failing> = Vec::new();
    let mut changes = Vec::new();
    let mut may_break = Vec::new();
    let mut notes = Vec::new();
    let mut safety = Safety::Safe;
    let mut reload_suffices = true;
    for Accepted {
        failing: f,
        kp,
        dropped,
        ..
    } in accepted
    {
        for op in &kp.ops {
            let reloadable = matches!(op, Op::Set(..)) && RELOADABLE.contains(&op.key());
            if !reloadable && op.key() != "debug" {
                reload_suffices = false;
            }
        }
        if kp.safety == Safety::Review {
            safety = Safety::Review;
        }
        changes.push(format!("{} [{}]", kp.change, kp.safety.as_str()));
        may_break.extend(kp.may_break);
        if !dropped.is_empty() {
            let list = dropped
                .iter()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ");
            changes.push(format!(
                "remove {list} from \"log-opts\" — the syslog log driver does not accept them and dockerd refuses to start with them [review]"
            ));
            may_break.push(format!(
                "the log options {list} of the previous log driver are removed (dockerd rejects them for syslog): rotation or delivery they configured no longer applies"
            ));
        }
        notes.extend(kp.note);
        fixed.push(f);
    }
    if fixed.is_empty() {
        return out;
    }
    // A full restart of a daemon without live restore stops its containers; live restore set in
    // this very file is read only when the daemon loads it, which a reload (SIGHUP) does first.
    if !reload_suffices {
        if let Some(info) = docker.info.value() {
            if !info.live_restore_enabled && info.containers_running > 0 {
                may_break.push(format!(
                    "the running daemon has live restore off, so the restart this fix needs stops its {} running container(s); restart in a maintenance window, or reload dockerd first (SIGHUP) once live-restore is in the file so they keep running",
                    info.containers_running
                ));
            }
        }
    }
    let (checks, controls) = ids_of(fixed.iter().copied());
    if read.content.is_none() {
        notes.push(format!(
            "{path} does not exist yet; it is created with mode 0644, owner root:root"
        ));
    }
    out.fixes.push(Fix {
        id: format!("daemon-json:{path}"),
        title: format!("Merge hardening settings into {path}"),
        checks,
        controls,
        threats: Vec::new(),
        target: Target::new("daemon", "dockerd", Some(path.clone())),
        kind: FixKind::DaemonJson,
        safety,
        changes,
        may_break,
        notes,
        action: Action {
            edits: vec![file_edit(&path, &read, text, ROOT_FILE)],
            ..Default::default()
        },
        restart: Some(Restart {
            service: "docker".into(),
            reload_suffices,
        }),
        findings: Vec::new(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mask_stands_for_the_value_on_disk_and_nothing_else_may_differ() {
        let audited = json!({"log-level": "debug", "log-opts": {"splunk-token": "***", "tag": "x"},
            "registry-mirrors": ["https://u:***@mirror.example"]});
        let same = json!({"log-level": "debug", "log-opts": {"tag": "x", "splunk-token": "abc"},
            "registry-mirrors": ["https://u:pw@mirror.example"]});
        assert!(matches_audited(&audited, &same));
        for changed in [
            json!({"log-level": "info", "log-opts": {"splunk-token": "abc", "tag": "x"},
                "registry-mirrors": ["https://u:pw@mirror.example"]}),
            json!({"log-level": "debug", "log-opts": {"splunk-token": "abc", "tag": "x"},
                "registry-mirrors": ["https://v:pw@mirror.example"]}),
            json!({"log-level": "debug", "log-opts": {"splunk-token": 1, "tag": "x"},
                "registry-mirrors": ["https://u:pw@mirror.example"]}),
            json!({"log-level": "debug", "log-opts": {"splunk-token": "abc"},
                "registry-mirrors": ["https://u:pw@mirror.example"]}),
            json!({"log-level": "debug", "log-opts": {"splunk-token": "abc", "tag": "x"},
                "registry-mirrors": ["https://u:pw@mirror.example", "https://m2"]}),
        ] {
            assert!(!matches_audited(&audited, &changed), "{changed}");
        }
        assert!(masked_string_matches("***", ""));
        assert!(masked_string_matches("a***b***c", "a1b2c"));
        assert!(masked_string_matches("a***a", "aa"));
        assert!(!masked_string_matches("a***a", "a"));
        assert!(!masked_string_matches("ab***b", "ab"));
        assert!(!masked_string_matches("x***", "y1"));
    }
}
