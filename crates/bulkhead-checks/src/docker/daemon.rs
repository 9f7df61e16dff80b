//! Section 2: the daemon's configuration. One merged view of the running dockerd's flags and its
//! daemon.json ([`DaemonSettings`](bulkhead_facts::docker::DaemonSettings)), and, where the Engine
//! API reports the value in force (storage driver, logging driver, live restore, security
//! options, experimental), that report, which also works for a remote daemon.
//!
//! How a setting is looked up ([`lookup`]): a flag on the running command line wins; otherwise
//! daemon.json; otherwise dockerd's default. dockerd refuses to start when a key is both a flag and
//! in daemon.json, so a key found in daemon.json is in force even when the command line could not
//! be read, unless the file changed after dockerd started: a pass resting on it is then a warn
//! ([`verdict`]). When neither source can be read the check is an error that says which one.

use super::{host_side_guard, is_rootless, no_docker};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::docker::Setting;
use bulkhead_facts::mask::mask_text;
use bulkhead_facts::Fact;
use serde_json::Value;

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("docker.daemon.rootless", rootless),
    ("docker.daemon.icc_disabled", icc_disabled),
    ("docker.daemon.log_level_info", log_level_info),
    ("docker.daemon.iptables_allowed", iptables_allowed),
    (
        "docker.daemon.no_insecure_registries",
        no_insecure_registries,
    ),
    ("docker.daemon.no_aufs", no_aufs),
    ("docker.daemon.tls_auth", tls_auth),
    ("docker.daemon.default_ulimits", default_ulimits),
    ("docker.daemon.userns_remap", userns_remap),
    ("docker.daemon.default_cgroup_parent", default_cgroup_parent),
    ("docker.daemon.base_device_size", base_device_size),
    ("docker.daemon.authorization_plugin", authorization_plugin),
    ("docker.daemon.remote_logging", remote_logging),
    ("docker.daemon.no_new_privileges", no_new_privileges),
    ("docker.daemon.live_restore", live_restore),
    (
        "docker.daemon.userland_proxy_disabled",
        userland_proxy_disabled,
    ),
    ("docker.daemon.seccomp_profile", seccomp_profile),
    ("docker.daemon.no_experimental", no_experimental),
];

// ---------------------------------------------------------------------------------------------
// Looking settings up, and reporting them

/// The setting `key` (a daemon.json key name) as the running daemon has it: `Ok(None)` when
/// neither the command line nor daemon.json sets it (dockerd's default applies). Err is the result
/// to report instead (remote daemon, unreadable daemon.json, unknown command line).
fn lookup(ctx: &Context<'_>, key: &str) -> Result<Option<Setting>, CheckResult> {
    if let Some(r) = host_side_guard(ctx) {
        return Err(r);
    }
    let daemon = &ctx.docker().expect("guarded").daemon;
    let settings = ctx.daemon_settings();
    let process_known = matches!(daemon.process, Fact::Value(Some(_)));
    let found = settings.get(key);
    if process_known
        && found
            .as_ref()
            .is_some_and(|s| s.source.starts_with("flag "))
    {
        return Ok(found);
    }
    if let Fact::Unavailable(reason) = &daemon.config {
        return Err(CheckResult::error(format!(
            "the daemon's configuration file {} could not be read ({reason}); {} is not on the command line, so the `{key}` in force cannot be determined",
            daemon.config_path,
            flag_label(key)
        )));
    }
    if found.is_none() && !process_known {
        let why = match &daemon.process {
            Fact::Unavailable(reason) => reason.clone(),
            _ => "no dockerd process was found on this host".to_string(),
        };
        return Err(CheckResult::error(format!(
            "dockerd's command line is unknown ({why}) and {} does not set `{key}`: the value in force cannot be determined",
            daemon.config_path
        )));
    }
    Ok(found)
}

/// How the command-line flag that sets daemon.json key `key` is written: `--log-level (-l)`.
fn flag_label(key: &str) -> String {
    let flag = bulkhead_facts::docker::DaemonSettings::flag_name(key);
    let short = bulkhead_facts::docker::DOCKERD_FLAG_SPEC
        .short
        .iter()
        .find(|(_, long)| *long == flag)
        .map(|(s, _)| format!(" (-{s})"))
        .unwrap_or_default();
    format!("`--{flag}`{short}")
}

fn lookup_bool(ctx: &Context<'_>, key: &str) -> Result<Option<(bool, String)>, CheckResult> {
    let Some(s) = lookup(ctx, key)? else {
        return Ok(None);
    };
    // daemon.json is decoded into typed fields: `"icc": "false"` is not false, it is a file
    // dockerd refuses to start with. Reading it as the word it spells would judge a setting
    // the daemon never had.
    if !s.source.starts_with("flag ") && !s.value.is_boolean() {
        return Err(CheckResult::error(format!(
            "{} is {}, not a JSON boolean: dockerd refuses to start with this file (write {key}: true or false, without quotes), so the value in force is unknown",
            s.source, s.value
        )));
    }
    let b = match &s.value {
        Value::Bool(b) => Some(*b),
        Value::String(v) => bulkhead_facts::flags::parse_go_bool(v),
        _ => None,
    };
    Ok(b.map(|b| (b, s.source)))
}

fn lookup_string(ctx: &Context<'_>, key: &str) -> Result<Option<(String, String)>, CheckResult> {
    Ok(lookup(ctx, key)?.and_then(|s| match s.value {
        Value::String(v) => Some((v, s.source)),
        Value::Null => None,
        other => Some((other.to_string(), s.source)),
    }))
}

/// A list setting's items (hosts, registries, plugins, storage options), empty when unset.
fn lookup_list(ctx: &Context<'_>, key: &str) -> Result<(Vec<String>, Option<String>), CheckResult> {
    Ok(match lookup(ctx, key)? {
        None => (Vec::new(), None),
        Some(s) => {
            let items = match &s.value {
                Value::Array(a) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect(),
                Value::String(v) => vec![v.clone()],
                Value::Object(m) => m.keys().cloned().collect(),
                Value::Null => vec![],
                other => vec![other.to_string()],
            };
            (
                items
                    .into_iter()
                    .filter(|i: &String| !i.is_empty())
                    .collect(),
                Some(s.source),
            )
        }
    })
}

/// The evidence field for a setting that neither dockerd's command line nor its configuration
/// file sets, so that its default is in force: the setting is still named (`live-restore (not
/// set)`).
fn unset(key: &str) -> String {
    format!("{key} (not set)")
}

/// The daemon as an object of a result: `dockerd (pid N)` when the process is known.
fn daemon_object(ctx: &Context<'_>, status: Status) -> ObjectResult {
    let name = ctx
        .docker()
        .and_then(|d| d.daemon.process.value().cloned().flatten())
        .map(|p| format!("dockerd (pid {})", p.pid))
        .unwrap_or_else(|| "dockerd".to_string());
    ObjectResult::new("daemon", name, status)
}

/// One verdict on the daemon with its evidence. Values shown are masked like every output.
///
/// A pass that rests on daemon.json while the file changed after dockerd started is a warn:
/// the running daemon has not necessarily loaded what the file says, and `bulkhead verify`
/// after `harden --apply` must not call a fix proven before dockerd restarts.
fn verdict(
    ctx: &Context<'_>,
    status: Status,
    message: impl Into<String>,
    field: impl Into<String>,
    actual: impl AsRef<str>,
    expected: impl Into<String>,
) -> CheckResult {
    let field = field.into();
    let (status, not_loaded) = as_loaded(ctx, status, &field);
    let (status, note) = match set_twice(ctx, &field) {
        Some(why) => (
            if status == Status::Pass {
                Status::Warn
            } else {
                status
            },
            Some(match not_loaded {
                Some(earlier) => format!("{why}; {earlier}"),
                None => why,
            }),
        ),
        None => (status, not_loaded),
    };
    let mut obj = daemon_object(ctx, status).evidence(field, mask_text(actual.as_ref()), expected);
    obj.note = note;
    CheckResult::new(status, message).with_object(obj)
}

/// Why a setting read from a flag (`field` is its source, `flag --NAME`) is a problem when the
/// daemon's configuration file sets it too: dockerd refuses to start when one directive comes
/// from both, so the file gained it after this daemon started, and the next start (a reboot, an
/// upgrade) fails until one of the two goes. The flag is what the running daemon has.
fn set_twice(ctx: &Context<'_>, field: &str) -> Option<String> {
    field.strip_prefix("flag --")?;
    let settings = ctx.daemon_settings();
    let (key, value) = settings
        .config()?
        .as_object()?
        .iter()
        .find(|(k, _)| settings.get(k).is_some_and(|s| s.source == field))?;
    Some(format!(
        "{} also sets {key} = {}: dockerd will not start while a setting is given both on its \
         command line and in its configuration file (the file changed after this daemon \
         started); keep it in one place",
        settings.config_path_label(),
        mask_text(&value.to_string())
    ))
}

/// `status` as it stands, or a warn with the reason when it is a pass resting on a daemon.json
/// setting the running dockerd may not have loaded ([`config_not_loaded`]).
fn as_loaded(ctx: &Context<'_>, status: Status, field: &str) -> (Status, Option<String>) {
    match (status == Status::Pass)
        .then(|| config_not_loaded(ctx, field))
        .flatten()
    {
        Some(why) => (Status::Warn, Some(why)),
        None => (status, None),
    }
}

/// Why a setting read from daemon.json (`field` is its source) may not be in force: the file
/// changed after the running dockerd started. None when it came from elsewhere (a flag, the
/// API, the default) or the file is not newer than the daemon.
fn config_not_loaded(ctx: &Context<'_>, field: &str) -> Option<String> {
    let daemon = &ctx.docker()?.daemon;
    let label = ctx.daemon_settings().config_path_label();
    field.strip_prefix(label)?.strip_prefix(' ')?;
    let (modified, started) = daemon.config_changed_after_start()?;
    Some(format!(
        "{label} changed at {modified}, after dockerd started at {started}: the running daemon \
         may not have loaded this setting; restart dockerd (e.g. `systemctl restart docker`) and \
         audit again"
    ))
}

/// Add `note` to the verdict's object, before any note it already carries (such as why a
/// daemon.json setting may not be in force).
fn with_note(mut r: CheckResult, note: impl Into<String>) -> CheckResult {
    if let Some(o) = r.objects.first_mut() {
        let note = note.into();
        o.note = Some(match o.note.take() {
            Some(earlier) => format!("{note}; {earlier}"),
            None => note,
        });
    }
    r
}

/// The note for a setting the running daemon (as its API reports it) does not have while its
/// configuration asks for it: dockerd was not reloaded or restarted after the change, which
/// is what a user who just ran `harden --apply` needs to read beside the failure.
fn configured_not_in_force(source: &str, value: &str, reloadable: bool) -> String {
    let how = if reloadable {
        "reload dockerd (`systemctl reload docker`, or SIGHUP)"
    } else {
        "restart dockerd (e.g. `systemctl restart docker`)"
    };
    format!("{source} = {value}, which the running dockerd has not loaded: {how} and audit again")
}

// ---------------------------------------------------------------------------------------------
// 2.1 - 2.9

/// 2.1 (manual): rootless Docker passes; a daemon running as root is left to judgement, with the
/// process's uid as evidence.
fn rootless(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let docker = ctx.docker().expect("checked");
    let expected = "an unprivileged user (rootless mode)";
    if is_rootless(ctx) {
        let (field, actual) = match docker.daemon.process.value().cloned().flatten() {
            Some(p) if docker.daemon.rootless => (
                "dockerd process".to_string(),
                format!("rootless, run by uid {}", p.uid),
            ),
            _ => (
                "Info.SecurityOptions".to_string(),
                "name=rootless".to_string(),
            ),
        };
        return verdict(
            ctx,
            Status::Pass,
            "the daemon runs rootless",
            field,
            actual,
            expected,
        );
    }
    match docker.daemon.process.value().cloned().flatten() {
        Some(p) if docker.endpoint.local => verdict(
            ctx,
            Status::Manual,
            format!(
                "the daemon runs as uid {}; consider rootless mode where its limits are acceptable",
                p.uid
            ),
            "dockerd process uid",
            if p.uid == 0 {
                "0 (root)".to_string()
            } else {
                p.uid.to_string()
            },
            expected,
        ),
        _ => {
            let options = docker
                .info
                .value()
                .map(|i| i.security_options.join("; "))
                .unwrap_or_else(|| "not read".into());
            verdict(
                ctx,
                Status::Manual,
                "the API does not report rootless mode; confirm whether the daemon can run rootless",
                "Info.SecurityOptions",
                options,
                expected,
            )
        }
    }
}

/// The default bridge's ICC option as the API reports it (the value in force, also remotely).
fn bridge_icc_option(ctx: &Context<'_>) -> Option<String> {
    let networks = ctx.docker()?.networks.value()?;
    let bridge = networks
        .iter()
        .find(|n| n.name == "bridge" && n.driver == "bridge")?;
    bridge
        .options
        .get("com.docker.network.bridge.enable_icc")
        .cloned()
}

/// 2.2: inter-container communication on the default bridge is off (`icc: false`).
fn icc_disabled(ctx: &Context<'_>) -> CheckResult {
    let judge = |icc: bool, field: String| {
        let (status, message) = if icc {
            (
                Status::Fail,
                "containers on the default bridge can reach each other freely",
            )
        } else {
            (
                Status::Pass,
                "traffic between containers on the default bridge is restricted",
            )
        };
        verdict(ctx, status, message, field, icc.to_string(), "false")
    };
    let from_network = || {
        bridge_icc_option(ctx).and_then(|v| {
            bulkhead_facts::flags::parse_go_bool(&v).map(|b| {
                judge(
                    b,
                    "network bridge option com.docker.network.bridge.enable_icc".to_string(),
                )
            })
        })
    };
    if let Ok(Some((bridge, _))) = lookup_string(ctx, "bridge") {
        if bridge == "none" {
            return CheckResult::not_applicable(
                "the default bridge network is disabled (bridge: none)",
            );
        }
    }
    match lookup_bool(ctx, "icc") {
        Ok(Some((icc, source))) => judge(icc, source),
        Ok(None) => judge(true, unset("icc")),
        Err(e) => from_network().unwrap_or(e),
    }
}

/// 2.3: log level `info`. `debug: true` (or `-D`) forces debug whatever `log-level` says.
/// PITFALL 1: a `--log-level` flag counts even when daemon.json has no such key.
fn log_level_info(ctx: &Context<'_>) -> CheckResult {
    let debug = match lookup_bool(ctx, "debug") {
        Ok(d) => d,
        Err(e) => return log_level_unknown(ctx, e),
    };
    if let Some((true, source)) = debug {
        return verdict(
            ctx,
            Status::Fail,
            "debug mode is on: the daemon logs at debug level",
            source,
            "debug=true",
            "info",
        );
    }
    match lookup_string(ctx, "log-level") {
        Err(e) => e,
        Ok(None) => verdict(
            ctx,
            Status::Pass,
            "log level is info (the default)",
            unset("log-level"),
            "info",
            "info",
        ),
        Ok(Some((level, source))) if level.eq_ignore_ascii_case("info") => verdict(
            ctx,
            Status::Pass,
            "log level is info",
            source,
            level,
            "info",
        ),
        Ok(Some((level, source))) => verdict(
            ctx,
            Status::Fail,
            format!("log level is {level}"),
            source,
            level,
            "info",
        ),
    }
}

/// 2.3 when `debug` could not be looked up. With daemon.json unreadable, a `--log-level` other
/// than info on the command line still fails (`debug` could only make it debug); anything else
/// is unknown, and the error names both flags looked for on the command line.
fn log_level_unknown(ctx: &Context<'_>, e: CheckResult) -> CheckResult {
    let Some(d) = ctx.docker() else { return e };
    let Fact::Unavailable(reason) = &d.daemon.config else {
        return e;
    };
    if !matches!(d.daemon.process, Fact::Value(Some(_))) {
        return e;
    }
    if let Some((level, source)) = ctx.daemon_settings().string("log-level") {
        if source.starts_with("flag ") && !level.eq_ignore_ascii_case("info") {
            return verdict(
                ctx,
                Status::Fail,
                format!("log level is {level}"),
                source,
                level,
                "info",
            );
        }
    }
    CheckResult::error(format!(
        "the daemon's configuration file {} could not be read ({reason}); neither {} nor a {} other than info is on the command line, so the log level in force cannot be determined",
        d.daemon.config_path,
        flag_label("debug"),
        flag_label("log-level"),
    ))
}

/// 2.4: dockerd may manage iptables (`iptables` not false).
fn iptables_allowed(ctx: &Context<'_>) -> CheckResult {
    match lookup_bool(ctx, "iptables") {
        Err(e) => e,
        Ok(None) => verdict(ctx, Status::Pass, "dockerd manages iptables (the default)", unset("iptables"), "true", "true"),
        Ok(Some((true, source))) => verdict(ctx, Status::Pass, "dockerd manages iptables", source, "true", "true"),
        Ok(Some((false, source))) => verdict(
            ctx,
            Status::Fail,
            "dockerd may not manage iptables: published ports and isolation rules are left to hand-made rules",
            source,
            "false",
            "true",
        ),
    }
}

/// 2.5: no insecure registries configured. One object per registry.
fn no_insecure_registries(ctx: &Context<'_>) -> CheckResult {
    let (registries, source) = match lookup_list(ctx, "insecure-registries") {
        Ok(v) => v,
        Err(e) => return e,
    };
    if registries.is_empty() {
        return verdict(
            ctx,
            Status::Pass,
            "no insecure registry is configured",
            unset("insecure-registries"),
            "none",
            "none",
        );
    }
    let source = source.unwrap_or_default();
    let objects = registries
        .iter()
        .map(|r| {
            ObjectResult::new("registry", mask_text(r), Status::Fail).evidence(
                source.clone(),
                "insecure (plain HTTP or unverified TLS)",
                "TLS with a verified certificate",
            )
        })
        .collect();
    CheckResult::new(
        Status::Fail,
        format!(
            "{} insecure registr{} configured",
            registries.len(),
            if registries.len() == 1 { "y" } else { "ies" }
        ),
    )
    .with_objects(objects)
}

/// 2.6: the storage driver in use (from the API) is not aufs.
fn no_aufs(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let info = match ctx.docker().expect("checked").info.as_result() {
        Ok(i) => i,
        Err(reason) => {
            return CheckResult::error(format!("the daemon's info could not be read: {reason}"))
        }
    };
    let status = if info.driver == "aufs" {
        Status::Fail
    } else {
        Status::Pass
    };
    verdict(
        ctx,
        status,
        format!("storage driver is {}", info.driver),
        "Info.Driver",
        &info.driver,
        "not aufs",
    )
}

/// Is a `hosts` entry a TCP listener? Everything but unix, fd, npipe and ssh addresses is
/// (`tcp://`, `http://`, and the bare `host:port` form dockerd also accepts).
fn is_tcp_host(h: &str) -> bool {
    !(h.starts_with("unix://")
        || h.starts_with("fd://")
        || h.starts_with("npipe://")
        || h.starts_with("ssh://"))
}

/// 2.7: every TCP listener requires TLS with client-certificate verification.
/// PITFALL 2: TLS settings in daemon.json are read like their flags.
fn tls_auth(ctx: &Context<'_>) -> CheckResult {
    let (hosts, hosts_source) = match lookup_list(ctx, "hosts") {
        Ok(v) => v,
        Err(e) => return e,
    };
    let hosts_source = hosts_source.unwrap_or_default();
    let mut tcp: Vec<(String, String)> = hosts
        .iter()
        .filter(|h| is_tcp_host(h))
        .map(|h| (h.clone(), hosts_source.clone()))
        .collect();
    // Socket activation (fd://): a TCP ListenStream= of docker.socket, which the collector
    // resolved into tcp_hosts with its source. dockerd wraps such a socket in TLS by the same
    // settings as a tcp:// host (see bulkhead_facts::docker::resolve_sockets).
    let paths = ctx.docker().map(|d| &d.daemon.paths);
    if let Some(paths) = paths {
        for h in &paths.tcp_hosts {
            if let Some(from) = paths.socket_sources.get(h) {
                if !tcp.iter().any(|(t, _)| t == h) {
                    tcp.push((h.clone(), from.clone()));
                }
            }
        }
    }
    if tcp.is_empty() {
        let listed = if hosts.is_empty() {
            "the default unix socket".to_string()
        } else {
            hosts.join(", ")
        };
        // Under socket activation systemd creates the sockets; a TCP ListenStream in
        // docker.socket would not show in the daemon's own settings.
        let activation = if hosts.iter().any(|h| h.starts_with("fd://")) {
            match paths.and_then(|p| p.socket_unit.as_ref()) {
                Some(unit) => format!(
                    "; with socket activation (fd://) the listening sockets come from {}, whose ListenStream= lines name no TCP address dockerd is given",
                    unit.file
                ),
                None => "; with socket activation (fd://) the listening sockets come from the docker.socket unit, which was not read, so a TCP ListenStream= there cannot be seen".to_string(),
            }
        } else {
            String::new()
        };
        return CheckResult::not_applicable(format!(
            "the daemon listens on no TCP socket ({listed}){activation}"
        ));
    }
    let verify = match lookup_bool(ctx, "tlsverify") {
        Ok(v) => v.or_else(|| tls_verify_from_environment(ctx)),
        Err(e) => return e,
    };
    let tls = match lookup_bool(ctx, "tls") {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut files = Vec::new();
    for key in ["tlscacert", "tlscert", "tlskey"] {
        match lookup_string(ctx, key) {
            Ok(Some((v, _))) => files.push(format!("{key}={v}")),
            Ok(None) => {}
            Err(e) => return e,
        }
    }
    let certs = if files.len() == 3 {
        files.join(", ")
    } else {
        format!(
            "{}{}dockerd's default certificate locations for the rest",
            files.join(", "),
            if files.is_empty() { "" } else { "; " }
        )
    };
    let expected = "tlsverify=true with a CA, certificate and key";
    let (status, field, actual, note) = match (&verify, &tls) {
        (Some((true, source)), _) => (Status::Pass, source.clone(), format!("tlsverify=true ({certs})"), None),
        (_, Some((true, source))) => (
            Status::Fail,
            source.clone(),
            "tls=true, tlsverify not set".to_string(),
            Some("TLS without client verification encrypts the connection but lets any client that reaches the port control the daemon"),
        ),
        (Some((false, source)), _) => (Status::Fail, source.clone(), "tlsverify=false, tls not set".to_string(), Some("plain TCP: anyone who reaches the port controls the daemon")),
        _ => (
            Status::Fail,
            unset("tlsverify"),
            "no TLS".to_string(),
            Some("plain TCP: anyone who reaches the port controls the daemon"),
        ),
    };
    // As in `verdict`: verification that only a daemon.json newer than dockerd asks for is
    // not proven in force.
    let (status, not_loaded) = as_loaded(ctx, status, &field);
    let note = not_loaded.as_deref().or(note);
    let objects = tcp
        .iter()
        .map(|(h, from)| {
            let where_from = format!("listener from {from}");
            ObjectResult::new("listener", mask_text(h), status)
                .evidence(field.clone(), mask_text(&actual), expected)
                .note(match note {
                    Some(n) => format!("{n} ({where_from})"),
                    None => where_from,
                })
        })
        .collect();
    let message = match status {
        Status::Pass => "every TCP listener requires TLS client verification".to_string(),
        Status::Warn => "daemon.json asks every TCP listener for TLS client verification, but dockerd may not have loaded it".to_string(),
        _ => format!(
            "TCP listener without TLS client verification: {}",
            note.unwrap_or_default()
        ),
    };
    CheckResult::new(status, message).with_objects(objects)
}

/// dockerd's `--tlsverify` defaults to its `DOCKER_TLS_VERIFY` environment variable.
fn tls_verify_from_environment(ctx: &Context<'_>) -> Option<(bool, String)> {
    let p = ctx.docker()?.daemon.process.value()?.as_ref()?;
    let v = p.environ.as_ref()?.get("DOCKER_TLS_VERIFY")?;
    (!v.is_empty()).then(|| (true, "dockerd environment DOCKER_TLS_VERIFY".to_string()))
}

/// 2.8 (manual): show the daemon-wide default ulimits for a person to judge.
fn default_ulimits(ctx: &Context<'_>) -> CheckResult {
    match lookup(ctx, "default-ulimits") {
        Err(e) => e,
        Ok(None) => verdict(
            ctx,
            Status::Manual,
            "no default ulimits: containers inherit dockerd's own limits; decide whether that is appropriate",
            unset("default-ulimits"),
            "none (dockerd's own limits apply)",
            "limits chosen for the workload (e.g. nofile, nproc)",
        ),
        Ok(Some(s)) => {
            let shown = match &s.value {
                Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| {
                        let soft = v.get("Soft").map(Value::to_string).unwrap_or_default();
                        let hard = v.get("Hard").map(Value::to_string).unwrap_or_default();
                        format!("{k}={soft}:{hard}")
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            // A default above what dockerd may open itself cannot be given to a container
            // unless dockerd may raise limits (CAP_SYS_RESOURCE): each start then fails.
            let own = ctx
                .docker()
                .and_then(|d| d.daemon.open_files_limit)
                .and_then(|l| l.hard);
            if let (Some(wanted), Some(own)) = (nofile_hard(&s.value), own) {
                if wanted > own {
                    return verdict(
                        ctx,
                        Status::Warn,
                        format!("default ulimits are set ({shown}), but a nofile limit of {wanted} is above the {own} open files dockerd may have itself: unless dockerd may raise limits (CAP_SYS_RESOURCE), no container it starts gets past \"error setting rlimits\"; lower the default or raise dockerd's own limit"),
                        s.source,
                        shown,
                        format!("limits chosen for the workload, nofile at most {own}"),
                    );
                }
            }
            verdict(
                ctx,
                Status::Manual,
                format!("default ulimits are set ({shown}); confirm they suit the workload"),
                s.source,
                shown,
                "limits chosen for the workload (e.g. nofile, nproc)",
            )
        }
    }
}

/// The hard nofile limit of a `default-ulimits` setting: daemon.json's `{"nofile": {"Hard": N}}`
/// or the flag's `nofile=SOFT:HARD` (`nofile=N` sets both).
fn nofile_hard(value: &Value) -> Option<u64> {
    match value {
        Value::Object(m) => m.get("nofile")?.get("Hard")?.as_u64(),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find_map(|v| {
            let limits = v.strip_prefix("nofile=")?;
            limits.rsplit(':').next()?.parse().ok()
        }),
        _ => None,
    }
}

/// 2.9: containers' root is remapped to an unprivileged host range. The API's security options
/// say whether remapping is in force (also remotely); rootless mode achieves the same.
fn userns_remap(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let expected = "a user namespace remap (userns-remap) or rootless mode";
    if is_rootless(ctx) {
        return with_note(
            verdict(
                ctx,
                Status::Pass,
                "rootless mode: the whole daemon runs in a user namespace",
                "Info.SecurityOptions",
                "name=rootless",
                expected,
            ),
            "container root maps to the unprivileged user running the daemon",
        );
    }
    if let Some(info) = ctx.docker().expect("checked").info.value() {
        let on = info.has_security_option("userns");
        let configured = lookup_string(ctx, "userns-remap").ok().flatten();
        let r = verdict(
            ctx,
            if on { Status::Pass } else { Status::Fail },
            if on {
                "user namespace remapping is in force"
            } else {
                "containers' root is the host's root (no user namespace remap)"
            },
            "Info.SecurityOptions",
            if on { "name=userns" } else { "no name=userns" },
            expected,
        );
        return match configured {
            Some((v, source)) if !on && !v.is_empty() => {
                with_note(r, configured_not_in_force(&source, &v, false))
            }
            Some((v, source)) => with_note(r, format!("{source} = {v}")),
            None => r,
        };
    }
    match lookup_string(ctx, "userns-remap") {
        Err(e) => e,
        Ok(Some((v, source))) if !v.is_empty() => verdict(
            ctx,
            Status::Pass,
            format!("userns-remap is {v}"),
            source,
            v,
            expected,
        ),
        Ok(_) => verdict(
            ctx,
            Status::Fail,
            "no user namespace remap is configured",
            unset("userns-remap"),
            "none",
            expected,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// 2.10 - 2.18

/// 2.10: containers use the default cgroup parent; a daemon-wide `cgroup-parent` needs review.
/// PITFALL 3: `cgroup-parent` in daemon.json is seen like the flag.
fn default_cgroup_parent(ctx: &Context<'_>) -> CheckResult {
    match lookup_string(ctx, "cgroup-parent") {
        Err(e) => e,
        Ok(Some((v, source))) if !v.is_empty() => verdict(
            ctx,
            Status::Warn,
            format!(
                "containers are placed under cgroup parent {v}: confirm its limits are intended"
            ),
            source,
            v,
            "the default cgroup parent, or one reviewed by a person",
        ),
        Ok(_) => verdict(
            ctx,
            Status::Pass,
            "containers use the default cgroup parent",
            unset("cgroup-parent"),
            "the default",
            "the default cgroup parent",
        ),
    }
}

/// 2.11: the devicemapper base size (`dm.basesize`) is left alone unless needed.
fn base_device_size(ctx: &Context<'_>) -> CheckResult {
    let (opts, source) = match lookup_list(ctx, "storage-opts") {
        Ok(v) => v,
        Err(e) => return e,
    };
    match opts
        .iter()
        .find(|o| o.trim_start().starts_with("dm.basesize"))
    {
        Some(opt) => verdict(
            ctx,
            Status::Warn,
            format!("the base device size is changed ({opt}): confirm it is needed"),
            source.unwrap_or_default(),
            opt,
            "dm.basesize not set unless needed",
        ),
        None => verdict(
            ctx,
            Status::Pass,
            "the base device size is not changed",
            source.unwrap_or_else(|| unset("storage-opts")),
            if opts.is_empty() {
                "no storage options".to_string()
            } else {
                opts.join(", ")
            },
            "dm.basesize not set",
        ),
    }
}

/// 2.12: an authorization plugin vets API requests.
fn authorization_plugin(ctx: &Context<'_>) -> CheckResult {
    match lookup_list(ctx, "authorization-plugins") {
        Err(e) => e,
        Ok((plugins, Some(source))) if !plugins.is_empty() => {
            let list = plugins.join(", ");
            verdict(
                ctx,
                Status::Pass,
                format!("authorization plugins: {list}"),
                source,
                list,
                "at least one authorization plugin",
            )
        }
        Ok(_) => verdict(
            ctx,
            Status::Fail,
            "no authorization plugin: anyone who can reach the API may do everything",
            unset("authorization-plugins"),
            "none",
            "at least one authorization plugin",
        ),
    }
}

/// Logging drivers that only keep logs on this host.
const LOCAL_ONLY_DRIVERS: &[&str] = &["json-file", "local", "none"];

/// 2.13: container logs leave the host. The driver in force comes from the API; for syslog the
/// address (a log option, read from the host-side configuration) says whether it is remote.
fn remote_logging(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let info = match ctx.docker().expect("checked").info.as_result() {
        Ok(i) => i,
        Err(reason) => {
            return CheckResult::error(format!("the daemon's info could not be read: {reason}"))
        }
    };
    let driver = info.logging_driver.as_str();
    let field = "Info.LoggingDriver";
    let expected = "a driver that ships logs off the host (syslog to a remote address, gelf, fluentd, splunk, awslogs, ...)";
    if LOCAL_ONLY_DRIVERS.contains(&driver) {
        let r = verdict(
            ctx,
            Status::Fail,
            format!("logging driver {driver} keeps logs only on this host"),
            field,
            driver,
            expected,
        );
        return match lookup_string(ctx, "log-driver") {
            Ok(Some((configured, source))) if configured != driver => {
                with_note(r, configured_not_in_force(&source, &configured, false))
            }
            _ => r,
        };
    }
    match driver {
        "syslog" => {
            let address = lookup_list(ctx, "log-opts").ok().and_then(|(opts, _)| {
                opts.iter()
                    .find_map(|o| o.strip_prefix("syslog-address=").map(String::from))
            });
            match address {
                Some(a) if !a.starts_with("unix") => verdict(
                    ctx,
                    Status::Pass,
                    format!("logs go to syslog at {a}"),
                    field,
                    format!("syslog, syslog-address={a}"),
                    expected,
                ),
                Some(a) => verdict(
                    ctx,
                    Status::Warn,
                    format!("logs go to the local syslog ({a}): confirm syslog forwards them"),
                    field,
                    format!("syslog, syslog-address={a}"),
                    expected,
                ),
                None => verdict(
                    ctx,
                    Status::Warn,
                    "logs go to the local syslog: confirm syslog forwards them off the host",
                    field,
                    "syslog (local)",
                    expected,
                ),
            }
        }
        "journald" => verdict(
            ctx,
            Status::Warn,
            "logs go to the local journal: confirm it is forwarded off the host",
            field,
            driver,
            expected,
        ),
        "" => CheckResult::error("the API reported no logging driver"),
        _ => verdict(
            ctx,
            Status::Pass,
            format!("logs are shipped by the {driver} driver"),
            field,
            driver,
            expected,
        ),
    }
}

/// 2.14: containers get no-new-privileges by default.
fn no_new_privileges(ctx: &Context<'_>) -> CheckResult {
    match lookup_bool(ctx, "no-new-privileges") {
        Err(e) => e,
        Ok(Some((true, source))) => verdict(
            ctx,
            Status::Pass,
            "containers dockerd creates cannot gain privileges through setuid binaries by default (containers created before it loaded the setting keep what they had)",
            source,
            "true",
            "true",
        ),
        Ok(Some((false, source))) => verdict(
            ctx,
            Status::Fail,
            "no-new-privileges is off",
            source,
            "false",
            "true",
        ),
        Ok(None) => verdict(
            ctx,
            Status::Fail,
            "no-new-privileges is not set daemon-wide",
            unset("no-new-privileges"),
            "false",
            "true",
        ),
    }
}

fn swarm_active(ctx: &Context<'_>) -> bool {
    let Some(d) = ctx.docker() else { return false };
    d.info
        .value()
        .is_some_and(|i| i.swarm.local_node_state == "active")
        || d.swarm.value().is_some_and(|s| s.state == "active")
}

/// 2.15: live restore keeps containers running across daemon restarts. Not applicable in swarm
/// mode, where Docker does not support it.
fn live_restore(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    if swarm_active(ctx) {
        return CheckResult::not_applicable(
            "swarm mode is active, and live restore is incompatible with it",
        );
    }
    if let Some(info) = ctx.docker().expect("checked").info.value() {
        let on = info.live_restore_enabled;
        let r = verdict(
            ctx,
            if on { Status::Pass } else { Status::Fail },
            if on {
                "live restore is enabled"
            } else {
                "live restore is off: restarting dockerd stops every container"
            },
            "Info.LiveRestoreEnabled",
            on.to_string(),
            "true",
        );
        return match lookup_bool(ctx, "live-restore") {
            Ok(Some((true, source))) if !on => {
                with_note(r, configured_not_in_force(&source, "true", true))
            }
            _ => r,
        };
    }
    match lookup_bool(ctx, "live-restore") {
        Err(e) => e,
        Ok(Some((true, source))) => verdict(
            ctx,
            Status::Pass,
            "live restore is enabled",
            source,
            "true",
            "true",
        ),
        Ok(Some((false, source))) => verdict(
            ctx,
            Status::Fail,
            "live restore is off",
            source,
            "false",
            "true",
        ),
        Ok(None) => verdict(
            ctx,
            Status::Fail,
            "live restore is off (the default)",
            unset("live-restore"),
            "false",
            "true",
        ),
    }
}

/// 2.16: published ports are served by iptables rules, not the userland proxy process.
/// With iptables off the proxy is the only thing that forwards a published port, which the
/// message says either way: disabling it first cuts every published port off.
fn userland_proxy_disabled(ctx: &Context<'_>) -> CheckResult {
    let iptables_off = match lookup_bool(ctx, "iptables") {
        Ok(Some((false, source))) => Some(source),
        _ => None,
    };
    let message = |base: &str, enabled: bool| {
        match (&iptables_off, enabled) {
        (None, _) => base.to_string(),
        (Some(source), true) => format!(
            "{base}; iptables is off ({source}), so the proxy is what forwards published ports: enable iptables before disabling it"
        ),
        (Some(source), false) => format!(
            "{base}; iptables is off too ({source}), so nothing forwards published ports to containers"
        ),
    }
    };
    match lookup_bool(ctx, "userland-proxy") {
        Err(e) => e,
        Ok(Some((false, source))) => verdict(
            ctx,
            Status::Pass,
            message("the userland proxy is disabled", false),
            source,
            "false",
            "false",
        ),
        Ok(Some((true, source))) => verdict(
            ctx,
            Status::Fail,
            message("the userland proxy is enabled", true),
            source,
            "true",
            "false",
        ),
        Ok(None) => verdict(
            ctx,
            Status::Fail,
            message("the userland proxy is enabled (the default)", true),
            unset("userland-proxy"),
            "true",
            "false",
        ),
    }
}

/// 2.17 (manual): show the daemon-wide seccomp profile. Unconfined or no seccomp at all is
/// flagged for review (warn); a built-in or custom profile is left to judgement (manual).
fn seccomp_profile(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let expected = "the built-in profile, or a custom profile reviewed for this workload";
    let Some(info) = ctx.docker().expect("checked").info.value() else {
        return match lookup_string(ctx, "seccomp-profile") {
            Err(e) => e,
            Ok(Some((p, source))) if p == "unconfined" => verdict(
                ctx,
                Status::Warn,
                "seccomp is disabled for every container by default",
                source,
                p,
                expected,
            ),
            Ok(Some((p, source))) => verdict(
                ctx,
                Status::Manual,
                format!("custom seccomp profile {p}: review it"),
                source,
                p,
                expected,
            ),
            Ok(None) => verdict(
                ctx,
                Status::Manual,
                "the built-in seccomp profile applies",
                unset("seccomp-profile"),
                "builtin",
                expected,
            ),
        };
    };
    let option = info
        .security_options
        .iter()
        .find(|o| o.split(',').any(|kv| kv == "name=seccomp"));
    let profile = option.and_then(|o| o.split(',').find_map(|kv| kv.strip_prefix("profile=")));
    let field = "Info.SecurityOptions";
    match (option, profile) {
        (None, _) => verdict(ctx, Status::Warn, "the daemon reports no seccomp support: system calls are not filtered", field, "no name=seccomp", expected),
        (Some(o), Some("unconfined")) => verdict(ctx, Status::Warn, "seccomp is disabled for every container by default", field, o, expected),
        (Some(o), Some("builtin" | "default") | None) => verdict(ctx, Status::Manual, "the built-in seccomp profile applies; decide whether a stricter custom profile is appropriate", field, o, expected),
        (Some(o), Some(p)) => verdict(ctx, Status::Manual, format!("custom seccomp profile {p}: review it"), field, o, expected),
    }
}

/// 2.18: experimental features are off, on every engine version.
/// PITFALL 8: docker-bench stops evaluating this after Docker 19.03.
fn no_experimental(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let docker = ctx.docker().expect("checked");
    let from_api = match (docker.version.value(), docker.info.value()) {
        (Some(v), _) if v.experimental => Some(("Version.Experimental", true)),
        (_, Some(i)) if i.experimental_build => Some(("Info.ExperimentalBuild", true)),
        (Some(_), _) => Some(("Version.Experimental", false)),
        (None, Some(_)) => Some(("Info.ExperimentalBuild", false)),
        (None, None) => None,
    };
    let judge = |on: bool, field: String| {
        verdict(
            ctx,
            if on { Status::Fail } else { Status::Pass },
            if on {
                "experimental features are enabled"
            } else {
                "experimental features are off"
            },
            field,
            on.to_string(),
            "false",
        )
    };
    match from_api {
        Some((field, on)) => judge(on, field.to_string()),
        None => match lookup_bool(ctx, "experimental") {
            Err(e) => e,
            Ok(Some((on, source))) => judge(on, source),
            Ok(None) => judge(false, unset("experimental")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use crate::model::{CheckResult, Status};
    use bulkhead_facts::Fact;
    use serde_json::json;

    fn evidence(r: &CheckResult) -> (String, String) {
        let e = r.objects[0].evidence.as_ref().expect("evidence");
        (e.field.clone(), e.actual.clone())
    }

    /// daemon.json changed after dockerd started: a pass that rests on the file is a warn that
    /// says so (verify after harden must not call it fixed before a restart); a flag, the API's
    /// report and a failure are judged as before, and an older file changes nothing.
    #[test]
    fn a_pass_from_a_daemon_json_newer_than_the_daemon_is_a_warn() {
        let fixture = |modified: &str| {
            let mut f = Fixture::new().dockerd(
                "--icc=false",
                Some(json!({"no-new-privileges": true, "userland-proxy": true})),
            );
            f.docker().daemon.started_at = Some("2026-11-28T10:00:00Z".into());
            f.docker().daemon.config_modified_at = Some(modified.into());
            f
        };
        let stale = fixture("2026-11-28T10:05:00Z");
        let r = stale.check("docker.daemon.no_new_privileges");
        assert_eq!(r.status, Status::Warn);
        let note = r.objects[0].note.as_deref().unwrap();
        assert!(
            note.starts_with("/etc/docker/daemon.json changed at 2026-11-28T10:05:00Z, after dockerd started at 2026-11-28T10:00:00Z"),
            "{note}"
        );
        assert!(crate::is_not_loaded_note(note), "{note}");
        assert_eq!(
            stale.check("docker.daemon.icc_disabled").status,
            Status::Pass,
            "a flag is in force"
        );
        assert_eq!(
            stale.check("docker.daemon.userland_proxy_disabled").status,
            Status::Fail,
            "a failure stays a failure"
        );
        let fresh = fixture("2026-11-28T09:00:00Z");
        let r = fresh.check("docker.daemon.no_new_privileges");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.objects[0].note, None);
        // TLS on a TCP listener, asked for by the newer file only.
        let mut f = Fixture::new().dockerd(
            "",
            Some(json!({"hosts": ["tcp://0.0.0.0:2376"], "tlsverify": true})),
        );
        assert_eq!(f.check("docker.daemon.tls_auth").status, Status::Pass);
        f.docker().daemon.started_at = Some("2026-11-28T10:00:00Z".into());
        f.docker().daemon.config_modified_at = Some("2026-11-28T10:05:00Z".into());
        let r = f.check("docker.daemon.tls_auth");
        assert_eq!(r.status, Status::Warn);
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("may not have loaded"));
    }

    /// A setting neither the command line nor daemon.json sets is still named in the evidence,
    /// with the default in force as the value.
    #[test]
    fn an_unset_setting_is_named_in_the_evidence() {
        let f = Fixture::new().dockerd("", Some(json!({})));
        for (control, field, actual) in [
            (
                "docker.daemon.no_new_privileges",
                "no-new-privileges (not set)",
                "false",
            ),
            (
                "docker.daemon.userland_proxy_disabled",
                "userland-proxy (not set)",
                "true",
            ),
            (
                "docker.daemon.authorization_plugin",
                "authorization-plugins (not set)",
                "none",
            ),
            (
                "docker.daemon.log_level_info",
                "log-level (not set)",
                "info",
            ),
            (
                "docker.daemon.default_ulimits",
                "default-ulimits (not set)",
                "none (dockerd's own limits apply)",
            ),
        ] {
            let r = f.check(control);
            assert_eq!(evidence(&r), (field.into(), actual.into()), "{control}");
        }
    }

    /// Seen in review: `--icc=true` on the command line while daemon.json says `"icc": false`
    /// was reported on the flag alone. dockerd refuses to start with a directive in both places,
    /// so the file was edited after the daemon started and the next start fails: the verdict
    /// (from the flag, which is what runs) says so, and a pass becomes a warn.
    #[test]
    fn a_setting_on_the_command_line_and_in_daemon_json_is_flagged() {
        let f = Fixture::new().dockerd(
            "--icc=true --userland-proxy=false",
            Some(json!({"icc": false, "userland-proxy": false, "log-level": "info"})),
        );
        let r = f.check("docker.daemon.icc_disabled");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(evidence(&r), ("flag --icc".into(), "true".into()));
        let note = r.objects[0].note.as_deref().unwrap();
        assert!(note.contains("also sets icc = false"), "{note}");
        assert!(note.contains("dockerd will not start"), "{note}");
        let r = f.check("docker.daemon.userland_proxy_disabled");
        assert_eq!(r.status, Status::Warn, "{r:?}");
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("also sets userland-proxy = false"));
        // Only in the file, or only on the command line: no such note.
        let r = f.check("docker.daemon.log_level_info");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.objects[0].note, None);
        let f = Fixture::new().dockerd("--icc=false", Some(json!({"log-level": "info"})));
        let r = f.check("docker.daemon.icc_disabled");
        assert_eq!((r.status, r.objects[0].note.clone()), (Status::Pass, None));
    }

    #[test]
    fn pitfall_1_log_level_flag_counts_without_daemon_json_key() {
        // docker-bench reads only daemon.json's log-level; the flag below goes unnoticed there.
        let f = Fixture::new().dockerd("--log-level=debug", Some(json!({"icc": false})));
        let r = f.check("docker.daemon.log_level_info");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(evidence(&r), ("flag --log-level".into(), "debug".into()));
        let f = Fixture::new().dockerd("-l warn", None);
        assert_eq!(f.check("docker.daemon.log_level_info").status, Status::Fail);
        let f = Fixture::new().dockerd("", Some(json!({"log-level": "info"})));
        let r = f.check("docker.daemon.log_level_info");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(evidence(&r).0, "/etc/docker/daemon.json log-level");
        assert_eq!(
            Fixture::new()
                .dockerd("", None)
                .check("docker.daemon.log_level_info")
                .status,
            Status::Pass
        );
        // debug mode forces debug level, whatever log-level says.
        let f = Fixture::new().dockerd("-D", Some(json!({"log-level": "info"})));
        assert_eq!(f.check("docker.daemon.log_level_info").status, Status::Fail);
    }

    #[test]
    fn pitfall_2_tls_settings_in_daemon_json_are_read() {
        // docker-bench never reads tls/tlsverify from daemon.json and reports this as plain TCP.
        let cfg = json!({
            "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
            "tlsverify": true,
            "tlscacert": "/etc/docker/tls/ca.pem",
            "tlscert": "/etc/docker/tls/server.pem",
            "tlskey": "/etc/docker/tls/server-key.pem"
        });
        let r = Fixture::new()
            .dockerd("", Some(cfg))
            .check("docker.daemon.tls_auth");
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert_eq!(r.objects[0].name, "tcp://0.0.0.0:2376");
        let (field, actual) = evidence(&r);
        assert_eq!(field, "/etc/docker/daemon.json tlsverify");
        assert!(
            actual.contains("tlscacert=/etc/docker/tls/ca.pem"),
            "{actual}"
        );
    }

    #[test]
    fn tls_without_verification_fails_with_note_and_plain_tcp_fails() {
        let cfg =
            json!({"hosts": ["tcp://0.0.0.0:2376"], "tls": true, "tlscert": "/c", "tlskey": "/k"});
        let r = Fixture::new()
            .dockerd("", Some(cfg))
            .check("docker.daemon.tls_auth");
        assert_eq!(r.status, Status::Fail);
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("without client verification"));
        let r = Fixture::new()
            .dockerd("-H fd:// -H tcp://127.0.0.1:2375", None)
            .check("docker.daemon.tls_auth");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.objects.len(), 1);
        assert_eq!(r.objects[0].name, "tcp://127.0.0.1:2375");
        // Flags work the same way, including the DOCKER_TLS_VERIFY default.
        let r = Fixture::new()
            .dockerd(
                "-H tcp://0.0.0.0:2376 --tlsverify --tlscacert /ca --tlscert /c --tlskey /k",
                None,
            )
            .check("docker.daemon.tls_auth");
        assert_eq!(r.status, Status::Pass);
        let mut f = Fixture::new().dockerd("-H tcp://0.0.0.0:2376", None);
        if let Fact::Value(Some(p)) = &mut f.docker().daemon.process {
            p.environ = Some([("DOCKER_TLS_VERIFY".to_string(), "1".to_string())].into());
        }
        let r = f.check("docker.daemon.tls_auth");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(evidence(&r).0, "dockerd environment DOCKER_TLS_VERIFY");
    }

    #[test]
    fn tls_not_on_tcp_is_not_applicable() {
        let r = Fixture::new()
            .dockerd("-H fd://", None)
            .check("docker.daemon.tls_auth");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r.message.unwrap().contains("no TCP socket (fd://)"));
        let r = Fixture::new()
            .dockerd("", None)
            .check("docker.daemon.tls_auth");
        assert_eq!(r.status, Status::NotApplicable);
    }

    #[test]
    fn pitfall_3_cgroup_parent_in_daemon_json_is_seen() {
        // docker-bench's daemon.json branch for cgroup-parent never matches and reports PASS.
        let f = Fixture::new().dockerd("", Some(json!({"cgroup-parent": "/batch"})));
        let r = f.check("docker.daemon.default_cgroup_parent");
        assert_eq!(r.status, Status::Warn);
        assert_eq!(
            evidence(&r),
            (
                "/etc/docker/daemon.json cgroup-parent".into(),
                "/batch".into()
            )
        );
        let f = Fixture::new().dockerd("--cgroup-parent=/batch", None);
        assert_eq!(
            f.check("docker.daemon.default_cgroup_parent").status,
            Status::Warn
        );
        let f = Fixture::new().dockerd("", None);
        assert_eq!(
            f.check("docker.daemon.default_cgroup_parent").status,
            Status::Pass
        );
    }

    #[test]
    fn pitfall_8_experimental_is_evaluated_on_every_version() {
        // docker-bench reports INFO "(Deprecated)" for any engine newer than 19.03.
        let f = Fixture::new().engine(|_, v| {
            v.version = "24.0.7".into();
            v.experimental = true;
        });
        let r = f.check("docker.daemon.no_experimental");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(evidence(&r), ("Version.Experimental".into(), "true".into()));
        let f = Fixture::new().engine(|_, v| v.version = "26.1.0".into());
        assert_eq!(
            f.check("docker.daemon.no_experimental").status,
            Status::Pass
        );
        // Without an API answer the daemon setting decides.
        let mut f = Fixture::new().dockerd("--experimental", None);
        f.docker().version = Fact::unavailable("timeout");
        f.docker().info = Fact::unavailable("timeout");
        assert_eq!(
            f.check("docker.daemon.no_experimental").status,
            Status::Fail
        );
    }

    #[test]
    fn pitfall_22_rootless_passes_and_rootful_is_manual_with_evidence() {
        // docker-bench never detects rootless mode and prints a note for every daemon.
        let r = Fixture::new()
            .rootless("alice", 1000, "", None)
            .check("docker.daemon.rootless");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(evidence(&r).1, "rootless, run by uid 1000");
        let r = Fixture::new()
            .dockerd("", None)
            .check("docker.daemon.rootless");
        assert_eq!(r.status, Status::Manual);
        assert_eq!(
            evidence(&r),
            ("dockerd process uid".into(), "0 (root)".into())
        );
        assert_eq!(r.objects[0].name, "dockerd (pid 4242)");
        // Rootless reported by the API of a remote daemon.
        let r = Fixture::new()
            .engine(|i, _| {
                i.security_options = vec![
                    "name=seccomp,profile=builtin".into(),
                    "name=rootless".into(),
                ]
            })
            .remote()
            .check("docker.daemon.rootless");
        assert_eq!(r.status, Status::Pass);
    }

    #[test]
    fn live_restore_with_swarm_active_is_not_applicable() {
        // docker-bench reports PASS "(Incompatible with swarm mode)".
        let f = Fixture::new()
            .dockerd("", None)
            .engine(|i, _| i.swarm.local_node_state = "active".into());
        let r = f.check("docker.daemon.live_restore");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r.message.unwrap().contains("swarm"));
        let f = Fixture::new().engine(|i, _| i.live_restore_enabled = true);
        assert_eq!(f.check("docker.daemon.live_restore").status, Status::Pass);
        assert_eq!(
            Fixture::new().check("docker.daemon.live_restore").status,
            Status::Fail
        );
    }

    /// The API reports what the running dockerd does; daemon.json what it will do once it loads
    /// the file. A setting the file asks for and the daemon lacks is still a failure, and its
    /// note says the file has not been loaded and how to load it (after `harden --apply`, the
    /// failure alone read as if the fix had not worked).
    #[test]
    fn a_setting_the_file_asks_for_and_the_daemon_lacks_says_it_is_not_loaded() {
        let f = Fixture::new().dockerd("", Some(json!({"live-restore": true})));
        let r = f.check("docker.daemon.live_restore");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            r.objects[0].note.as_deref(),
            Some(
                "/etc/docker/daemon.json live-restore = true, which the running dockerd has not \
                 loaded: reload dockerd (`systemctl reload docker`, or \
                 SIGHUP) and audit again"
            )
        );
        // In force: no note.
        let f = Fixture::new()
            .dockerd("", Some(json!({"live-restore": true})))
            .engine(|i, _| i.live_restore_enabled = true);
        assert_eq!(f.check("docker.daemon.live_restore").objects[0].note, None);

        let f = Fixture::new().dockerd("", Some(json!({"userns-remap": "default"})));
        let r = f.check("docker.daemon.userns_remap");
        assert_eq!(r.status, Status::Fail);
        let note = r.objects[0].note.as_deref().unwrap();
        assert!(
            note.contains(
                "userns-remap = default, which the running dockerd has not loaded: restart dockerd"
            ),
            "{note}"
        );

        let f = Fixture::new()
            .dockerd("", Some(json!({"log-driver": "syslog"})))
            .engine(|i, _| i.logging_driver = "json-file".into());
        let r = f.check("docker.daemon.remote_logging");
        assert_eq!(r.status, Status::Fail);
        let note = r.objects[0].note.as_deref().unwrap();
        assert!(
            note.contains("log-driver = syslog, which the running dockerd has not loaded"),
            "{note}"
        );
    }

    /// Default ulimits above what dockerd may open itself stop every container from starting
    /// (unless dockerd may raise limits): a warn naming both numbers, from daemon.json or the flag.
    #[test]
    fn default_ulimits_above_the_daemons_own_limit_are_a_warn() {
        let with_limit = |flags: &str, config: Option<serde_json::Value>, hard: Option<u64>| {
            let mut f = Fixture::new().dockerd(flags, config);
            f.docker().daemon.open_files_limit = Some(bulkhead_facts::docker::ResourceLimit {
                soft: Some(1024),
                hard,
            });
            f.check("docker.daemon.default_ulimits")
        };
        let file = json!({"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 65536, "Hard": 65536}}});
        let r = with_limit("", Some(file.clone()), Some(20000));
        assert_eq!(r.status, Status::Warn, "{r:?}");
        let m = r.message.unwrap_or_default();
        assert!(m.contains("65536") && m.contains("20000"), "{m}");
        let r = with_limit("--default-ulimit nofile=1024:65536", None, Some(20000));
        assert_eq!(r.status, Status::Warn, "{r:?}");
        for roomy in [Some(1048576), None] {
            assert_eq!(
                with_limit("", Some(file.clone()), roomy).status,
                Status::Manual
            );
        }
    }

    /// With iptables off the userland proxy is what forwards published ports: the verdict stays
    /// the benchmark's, and the message says what turning the proxy off does then.
    #[test]
    fn userland_proxy_verdict_names_iptables_being_off() {
        let message = |flags: &str| {
            let r = Fixture::new()
                .dockerd(flags, None)
                .check("docker.daemon.userland_proxy_disabled");
            (r.status, r.message.unwrap_or_default())
        };
        let (status, m) = message("--iptables=false");
        assert_eq!(status, Status::Fail);
        assert!(
            m.contains("iptables is off (flag --iptables)")
                && m.contains("enable iptables before disabling it"),
            "{m}"
        );
        let (status, m) = message("--iptables=false --userland-proxy=false");
        assert_eq!(status, Status::Pass);
        assert!(m.contains("nothing forwards published ports"), "{m}");
        let (status, m) = message("");
        assert_eq!(status, Status::Fail);
        assert!(!m.contains("iptables"), "{m}");
    }

    /// daemon.json decodes into typed fields: `"userland-proxy": "false"` is a file dockerd
    /// refuses ("cannot unmarshal string into Go struct field ... of type bool", checked against
    /// dockerd 20.10), not the proxy disabled, and the check says so instead of judging the word.
    #[test]
    fn a_quoted_boolean_in_daemon_json_is_not_read_as_the_word_it_spells() {
        for value in [json!("false"), json!(0)] {
            let r = Fixture::new()
                .dockerd("", Some(json!({"userland-proxy": value})))
                .check("docker.daemon.userland_proxy_disabled");
            assert_eq!(r.status, Status::Error, "{r:?}");
            let m = r.message.unwrap_or_default();
            assert!(
                m.contains("not a JSON boolean") && m.contains("refuses to start"),
                "{m}"
            );
        }
        // A flag's value is text by nature.
        assert_eq!(
            Fixture::new()
                .dockerd("--userland-proxy=false", None)
                .check("docker.daemon.userland_proxy_disabled")
                .status,
            Status::Pass
        );
    }

    #[test]
    fn icc_from_flags_json_default_and_bridge_option() {
        assert_eq!(
            Fixture::new()
                .dockerd("--icc=false", None)
                .check("docker.daemon.icc_disabled")
                .status,
            Status::Pass
        );
        assert_eq!(
            Fixture::new()
                .dockerd("", Some(json!({"icc": false})))
                .check("docker.daemon.icc_disabled")
                .status,
            Status::Pass
        );
        let r = Fixture::new()
            .dockerd("", None)
            .check("docker.daemon.icc_disabled");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(evidence(&r), ("icc (not set)".into(), "true".into()));
        // A remote daemon: the default bridge's option is the value in force.
        let mut f = Fixture::new().remote();
        let mut bridge = bulkhead_facts::docker::Network {
            name: "bridge".into(),
            driver: "bridge".into(),
            ..Default::default()
        };
        bridge.options.insert(
            "com.docker.network.bridge.enable_icc".into(),
            "false".into(),
        );
        f.docker().networks = Fact::Value(vec![bridge]);
        let r = f.check("docker.daemon.icc_disabled");
        assert_eq!(r.status, Status::Pass);
        let r = Fixture::new()
            .dockerd("--bridge none", None)
            .check("docker.daemon.icc_disabled");
        assert_eq!(r.status, Status::NotApplicable);
    }

    #[test]
    fn pitfall_21_settings_checks_on_a_remote_daemon_are_not_applicable() {
        // docker-bench reads the local dockerd and daemon.json whatever DOCKER_HOST points at.
        let f = Fixture::new().dockerd("--icc=false", None).remote();
        for id in [
            "docker.daemon.log_level_info",
            "docker.daemon.iptables_allowed",
            "docker.daemon.tls_auth",
            "docker.daemon.no_new_privileges",
        ] {
            let r = f.check(id);
            assert_eq!(r.status, Status::NotApplicable, "{id}");
            assert!(r.message.unwrap().contains("remote daemon"), "{id}");
        }
    }

    #[test]
    fn unknown_command_line_is_an_error_unless_daemon_json_settles_it() {
        // No dockerd process seen: flags are unknown. A daemon.json key is still in force
        // (dockerd refuses a flag that repeats it); a key it lacks cannot be known.
        let f = Fixture::new().daemon("", Some(json!({"no-new-privileges": true})));
        assert_eq!(
            f.check("docker.daemon.no_new_privileges").status,
            Status::Pass
        );
        let r = f.check("docker.daemon.userland_proxy_disabled");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("no dockerd process was found"));
        let mut f = Fixture::new().dockerd("", None);
        f.docker().daemon.config = Fact::unavailable("permission denied");
        let r = f.check("docker.daemon.iptables_allowed");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("permission denied"));
        // ... but a flag on the known command line settles it anyway.
        let mut f = Fixture::new().dockerd("--iptables=false", None);
        f.docker().daemon.config = Fact::unavailable("permission denied");
        assert_eq!(
            f.check("docker.daemon.iptables_allowed").status,
            Status::Fail
        );
    }

    #[test]
    fn boolean_settings_read_defaults_correctly() {
        let f = Fixture::new().dockerd("", None);
        assert_eq!(
            f.check("docker.daemon.iptables_allowed").status,
            Status::Pass
        );
        assert_eq!(
            f.check("docker.daemon.no_new_privileges").status,
            Status::Fail
        );
        assert_eq!(
            f.check("docker.daemon.userland_proxy_disabled").status,
            Status::Fail
        );
        assert_eq!(
            f.check("docker.daemon.authorization_plugin").status,
            Status::Fail
        );
        assert_eq!(
            f.check("docker.daemon.base_device_size").status,
            Status::Pass
        );
        let f = Fixture::new().dockerd(
            "--iptables=false --no-new-privileges --userland-proxy=false --authorization-plugin=opa",
            None,
        );
        assert_eq!(
            f.check("docker.daemon.iptables_allowed").status,
            Status::Fail
        );
        assert_eq!(
            f.check("docker.daemon.no_new_privileges").status,
            Status::Pass
        );
        assert_eq!(
            f.check("docker.daemon.userland_proxy_disabled").status,
            Status::Pass
        );
        assert_eq!(
            f.check("docker.daemon.authorization_plugin").status,
            Status::Pass
        );
    }

    #[test]
    fn insecure_registries_listed_per_registry() {
        let f = Fixture::new().dockerd(
            "--insecure-registry reg.local:5000 --insecure-registry 10.0.0.0/8",
            None,
        );
        let r = f.check("docker.daemon.no_insecure_registries");
        assert_eq!(r.status, Status::Fail);
        let names: Vec<_> = r.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, vec!["reg.local:5000", "10.0.0.0/8"]);
        let f = Fixture::new().dockerd("", Some(json!({"insecure-registries": []})));
        assert_eq!(
            f.check("docker.daemon.no_insecure_registries").status,
            Status::Pass
        );
    }

    #[test]
    fn storage_and_logging_drivers_come_from_the_api() {
        let f = Fixture::new().engine(|i, _| i.driver = "aufs".into());
        assert_eq!(f.check("docker.daemon.no_aufs").status, Status::Fail);
        let f = Fixture::new().engine(|i, _| i.driver = "overlay2".into());
        assert_eq!(f.check("docker.daemon.no_aufs").status, Status::Pass);
        // Fixture default: json-file.
        assert_eq!(
            Fixture::new().check("docker.daemon.remote_logging").status,
            Status::Fail
        );
        let f = Fixture::new().engine(|i, _| i.logging_driver = "gelf".into());
        assert_eq!(f.check("docker.daemon.remote_logging").status, Status::Pass);
        let f = Fixture::new().engine(|i, _| i.logging_driver = "journald".into());
        assert_eq!(f.check("docker.daemon.remote_logging").status, Status::Warn);
        let f = Fixture::new()
            .dockerd("", Some(json!({"log-driver": "syslog", "log-opts": {"syslog-address": "tcp+tls://logs.example:6514"}})))
            .engine(|i, _| i.logging_driver = "syslog".into());
        assert_eq!(f.check("docker.daemon.remote_logging").status, Status::Pass);
        let f = Fixture::new()
            .dockerd(
                "",
                Some(json!({"log-opts": {"syslog-address": "unixgram:///dev/log"}})),
            )
            .engine(|i, _| i.logging_driver = "syslog".into());
        assert_eq!(f.check("docker.daemon.remote_logging").status, Status::Warn);
    }

    #[test]
    fn base_device_size_and_ulimits_and_userns() {
        let f = Fixture::new().dockerd("", Some(json!({"storage-opts": ["dm.basesize=20G"]})));
        assert_eq!(
            f.check("docker.daemon.base_device_size").status,
            Status::Warn
        );
        let f = Fixture::new().dockerd("", Some(json!({"default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}}})));
        let r = f.check("docker.daemon.default_ulimits");
        assert_eq!(r.status, Status::Manual);
        assert_eq!(evidence(&r).1, "nofile=64000:64000");
        let r = Fixture::new()
            .dockerd("", None)
            .check("docker.daemon.default_ulimits");
        assert_eq!(r.status, Status::Manual);
        assert_eq!(evidence(&r).1, "none (dockerd's own limits apply)");
        // userns: the API's security options are the value in force.
        let f = Fixture::new().dockerd("--userns-remap default", None);
        assert_eq!(
            f.check("docker.daemon.userns_remap").status,
            Status::Fail,
            "configured but not reported in force"
        );
        let f = f.engine(|i, _| i.security_options = vec!["name=userns".into()]);
        let r = f.check("docker.daemon.userns_remap");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(
            r.objects[0].note.as_deref(),
            Some("flag --userns-remap = default")
        );
        assert_eq!(
            Fixture::new()
                .rootless("bob", 1001, "", None)
                .check("docker.daemon.userns_remap")
                .status,
            Status::Pass
        );
    }

    #[test]
    fn seccomp_profile_shown_for_review() {
        let f = Fixture::new()
            .engine(|i, _| i.security_options = vec!["name=seccomp,profile=builtin".into()]);
        let r = f.check("docker.daemon.seccomp_profile");
        assert_eq!(r.status, Status::Manual);
        assert_eq!(evidence(&r).1, "name=seccomp,profile=builtin");
        let f = Fixture::new()
            .engine(|i, _| i.security_options = vec!["name=seccomp,profile=unconfined".into()]);
        assert_eq!(
            f.check("docker.daemon.seccomp_profile").status,
            Status::Warn
        );
        assert_eq!(
            Fixture::new().check("docker.daemon.seccomp_profile").status,
            Status::Warn
        );
    }
}
