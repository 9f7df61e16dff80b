//! etcd (2): TLS for clients and peers, client-certificate authentication, no self-signed
//! automatic TLS, and a CA of its own. Settings come from the command line, else from the
//! `ETCD_*` environment of the process or its service's environment file; an etcd
//! `--config-file` replaces both. When that file could not be read or decoded, what etcd runs
//! with is unknown: the checks are errors naming the file and the reason, never a fail (nor a
//! pass) judged on flags or defaults etcd ignores.

use super::{file_settings_result, not_loaded_yet, running, setting_result, setting_result_with};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::kube::{
    etcd_config_key, etcd_env_name, Component, EtcdSide, EtcdTls, Setting, APISERVER, ETCD,
};

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("k8s.etcd.client_tls", |ctx: &Context<'_>| {
        judged(ctx, client_tls(ctx), CLIENT_TLS)
    }),
    ("k8s.etcd.client_cert_auth", |ctx: &Context<'_>| {
        judged(ctx, client_cert_auth(ctx), CLIENT_CERT_AUTH)
    }),
    ("k8s.etcd.no_auto_tls", |ctx: &Context<'_>| {
        judged(ctx, no_auto_tls(ctx), &["auto-tls"])
    }),
    ("k8s.etcd.peer_tls", |ctx: &Context<'_>| {
        judged(ctx, peer_tls(ctx), PEER_TLS)
    }),
    ("k8s.etcd.peer_client_cert_auth", |ctx: &Context<'_>| {
        judged(ctx, peer_client_cert_auth(ctx), PEER_CLIENT_CERT_AUTH)
    }),
    ("k8s.etcd.no_peer_auto_tls", |ctx: &Context<'_>| {
        judged(ctx, no_peer_auto_tls(ctx), &["peer-auto-tls"])
    }),
    ("k8s.etcd.unique_ca", |ctx: &Context<'_>| {
        judged(ctx, unique_ca(ctx), &["trusted-ca-file"])
    }),
];

/// The settings each check reads (for [`awaiting_restart`]).
const CLIENT_TLS: &[&str] = &["cert-file", "key-file", "listen-client-urls"];
const CLIENT_CERT_AUTH: &[&str] = &[
    "client-cert-auth",
    "trusted-ca-file",
    "listen-client-urls",
    "auto-tls",
    "cert-file",
    "key-file",
];
const PEER_TLS: &[&str] = &["peer-cert-file", "peer-key-file", "listen-peer-urls"];
const PEER_CLIENT_CERT_AUTH: &[&str] = &[
    "peer-client-cert-auth",
    "peer-trusted-ca-file",
    "listen-peer-urls",
    "peer-auto-tls",
    "peer-cert-file",
    "peer-key-file",
];

/// A result judged on what the running etcd has, with what waits for its next start.
fn judged(ctx: &Context<'_>, r: CheckResult, flags: &[&str]) -> CheckResult {
    awaiting_restart(ctx, in_force(ctx, r), flags)
}

/// A result short of a pass names the variables of etcd's service environment file that set
/// `flags` but are not in the running etcd's environment (`harden` writes its fixes there):
/// they take effect only when etcd restarts, so without this the check would seem to ignore a
/// fix that was applied.
fn awaiting_restart(ctx: &Context<'_>, mut r: CheckResult, flags: &[&str]) -> CheckResult {
    if !matches!(r.status, Status::Fail | Status::Warn) {
        return r;
    }
    let Some(c) = etcd_found(ctx) else {
        return r;
    };
    let mut by_file: Vec<(&str, Vec<String>)> = Vec::new();
    for (path, var, value) in flags.iter().filter_map(|f| c.pending_setting(f)) {
        let set = format!("{var}={value}");
        match by_file.iter_mut().find(|(p, _)| *p == path) {
            Some((_, vars)) => vars.push(set),
            None => by_file.push((path, vec![set])),
        }
    }
    if by_file.is_empty() {
        return r;
    }
    let files: Vec<String> = by_file
        .iter()
        .map(|(path, vars)| format!("{path} sets {}", vars.join(" and ")))
        .collect();
    let many = by_file.iter().map(|(_, v)| v.len()).sum::<usize>() > 1;
    let why = format!(
        "{}, which the running etcd (pid {}) does not have: restart etcd to apply {}, then audit again",
        files.join("; "),
        c.process.pid,
        if many { "them" } else { "it" }
    );
    r.message = Some(match r.message.take() {
        Some(m) => format!("{m}; {why}"),
        None => why.clone(),
    });
    let label = c.label();
    for o in r
        .objects
        .iter_mut()
        .filter(|o| o.name == label && matches!(o.status, Status::Fail | Status::Warn))
    {
        o.note = Some(match o.note.take() {
            Some(earlier) => format!("{earlier}; {why}"),
            None => why.clone(),
        });
    }
    r
}

/// A pass resting on etcd's configuration file is a warn while the file is newer than the
/// running etcd, which reads it only when it starts.
fn in_force(ctx: &Context<'_>, r: CheckResult) -> CheckResult {
    let changed = etcd_found(ctx).and_then(Component::config_changed_after_start);
    match changed {
        Some((path, modified, started)) => not_loaded_yet(
            r,
            &format!(
                "{path} changed at {modified}, after etcd started at {started}: the running etcd \
                 may not have loaded this setting; restart it and audit again"
            ),
        ),
        None => r,
    }
}

const T: &str = "etcd";

/// The etcd the audit found, if any (for what qualifies a result already judged).
fn etcd_found<'a>(ctx: &Context<'a>) -> Option<&'a Component> {
    ctx.snapshot.kubernetes.as_ref()?.component(ETCD)
}

fn etcd<'a>(ctx: &Context<'a>) -> Result<&'a Component, CheckResult> {
    running(ctx, T, ETCD).map(|(_, c)| c)
}

/// etcd's value of `flag` (None: not set), or the error result saying which file leaves it
/// unknown.
fn setting(c: &Component, flag: &str) -> Result<Option<Setting>, CheckResult> {
    c.try_setting(flag).map_err(|why| unknown(c, why))
}

/// The error result of a setting of etcd `c` that cannot be known, saying `why`.
fn unknown(c: &Component, why: String) -> CheckResult {
    CheckResult::error(why.clone())
        .with_object(ObjectResult::new("process", c.label(), Status::Error).note(why))
}

/// Where `flag` was looked for and not found: in the configuration file when etcd has one
/// (its flags and environment are ignored then), else on the command line and in the
/// environment. `default` is etcd's own value then, if it has one worth showing.
fn not_set(c: &Component, flag: &str, default: Option<&str>) -> String {
    match (&c.config, default) {
        (Some(cfg), None) => format!("{} not set in {}", etcd_config_key(flag), cfg.path),
        (Some(cfg), Some(d)) => format!(
            "{} not set in {} (default {d})",
            etcd_config_key(flag),
            cfg.path
        ),
        (None, None) => format!("--{flag} not set (nor {})", etcd_env_name(flag)),
        (None, Some(d)) => format!(
            "--{flag} not set (nor {}; default {d})",
            etcd_env_name(flag)
        ),
    }
}

fn unset(c: &Component, flag: &str) -> Setting {
    Setting::default_value("", not_set(c, flag, None))
}

/// Cert and key must be set; and URLs served in plain HTTP defeat them. A failure's message says
/// why it fails. A listen-URL setting left unset is judged at etcd's default, which is plain
/// HTTP on localhost: etcd then serves without TLS whatever certificates it was given (it logs
/// "serving insecure client requests"), so the certificates alone prove nothing.
fn tls_pair(
    ctx: &Context<'_>,
    cert: &str,
    key: &str,
    urls_flag: &str,
    default_urls: &str,
) -> CheckResult {
    let c = match etcd(ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (cert_s, key_s, urls_s) = match (setting(c, cert), setting(c, key), setting(c, urls_flag)) {
        (Ok(a), Ok(b), Ok(u)) => (a, b, u),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    };
    let settings = vec![
        cert_s.unwrap_or_else(|| unset(c, cert)),
        key_s.unwrap_or_else(|| unset(c, key)),
    ];
    let mut r = file_settings_result(ctx, c, settings, "set to an existing file");
    // Inside k3s, listen URLs no --etcd-arg gives are k3s's (https), not etcd's plain-HTTP
    // default: nothing to judge then.
    if urls_s.is_none() && super::inside_k3s(c) {
        return r;
    }
    let urls = urls_s.unwrap_or_else(|| {
        Setting::default_value(default_urls, not_set(c, urls_flag, Some(default_urls)))
    });
    let plain: Vec<String> = urls
        .items()
        .into_iter()
        .filter(|u| u.starts_with("http://"))
        .collect();
    if !plain.is_empty() {
        let why = format!("serves plain HTTP on {}", plain.join(", "));
        r.objects.push(
            ObjectResult::new("process", c.label(), Status::Fail)
                .evidence(urls.source.clone(), urls.value.clone(), "https:// only")
                .note(why.clone()),
        );
        // The reason leads the message; the certificate settings follow only when they
        // fail too (then their message already says why).
        let cert_reason = r.message.take().filter(|_| r.status == Status::Fail);
        r.message = Some(match cert_reason {
            Some(m) => format!("{}: {why}; {m}", urls.source),
            None => format!("{}: {why}", urls.source),
        });
        r.status = Status::Fail;
    }
    r
}

fn switch(ctx: &Context<'_>, flag: &str, want: bool) -> CheckResult {
    let c = match etcd(ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let s = match setting(c, flag) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let s = s.unwrap_or_else(|| Setting::default_value("false", not_set(c, flag, Some("false"))));
    setting_result(
        c,
        &s,
        s.as_bool().unwrap_or(false) == want,
        if want { "true" } else { "false or not set" },
    )
}

/// 2.1
fn client_tls(ctx: &Context<'_>) -> CheckResult {
    tls_pair(
        ctx,
        "cert-file",
        "key-file",
        "listen-client-urls",
        "http://localhost:2379",
    )
}
/// Client-certificate authentication on one side, judged by what etcd enforces. etcd asks for
/// a certificate when `client-cert-auth` is on or a `trusted-ca-file` is given (either one), but
/// not on a plain-HTTP URL, and not under its automatic certificate, which replaces the side's
/// TLS settings, switch and CA included. With the switch and no CA file it checks certificates
/// against the host's system trust store: any public CA's certificate gets in, which fails.
fn cert_auth(ctx: &Context<'_>, side: EtcdSide) -> CheckResult {
    let c = match etcd(ctx) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let flag = side.flag("client-cert-auth");
    let s = match setting(c, &flag) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let s = s.unwrap_or_else(|| Setting::default_value("false", not_set(c, &flag, Some("false"))));
    let tls = match EtcdTls::of(c, side) {
        Ok(t) => t,
        Err(why) => return unknown(c, why),
    };
    // What makes etcd ask for certificates: the switch, else the CA file.
    let switched = s.as_bool() == Some(true);
    let Some(asking) = (if switched {
        Some(&s)
    } else {
        tls.trusted_ca.as_ref()
    }) else {
        return setting_result(c, &s, false, "true");
    };
    // Where etcd asks for no certificate after all: the setting that decides it, what it
    // should be, and why.
    let plain = tls.plain_urls();
    let ignored = if !plain.is_empty() {
        let flag = side.listen_urls_flag();
        let urls = tls.urls.clone().unwrap_or_else(|| {
            Setting::default_value(
                side.default_urls(),
                not_set(c, flag, Some(side.default_urls())),
            )
        });
        let why = format!(
            "{} asks for certificates, but etcd asks for none on plain-HTTP URLs ({}): {} connect there without one",
            asking.source,
            plain.join(", "),
            side.callers()
        );
        Some((urls, "https:// only".to_string(), why))
    } else if tls.automatic() {
        let flag = side.flag("auto-tls");
        let (cert, key) = (
            c.setting_name(&side.flag("cert-file")),
            c.setting_name(&side.flag("key-file")),
        );
        let auto = c
            .setting(&flag)
            .unwrap_or_else(|| Setting::default_value("true", c.setting_name(&flag)));
        let why = format!(
            "{} asks for certificates, but neither {cert} nor {key} is set: etcd serves its automatic certificate, which replaces these TLS settings and asks {} for none",
            asking.source,
            side.callers()
        );
        Some((auto, format!("false, or {cert} and {key} set"), why))
    } else {
        None
    };
    match ignored {
        Some((decides, expected, why)) => {
            setting_result_with(c, &decides, Status::Fail, &expected, Some(why))
        }
        // The switch alone: etcd requires a certificate but, with no CA file of its own,
        // verifies it against the host's system trust store, so a client certificate any
        // public CA issued gets in, and the cluster's own (signed by a private CA) does not.
        None if switched && tls.trusted_ca.is_none() => {
            let ca_flag = side.flag("trusted-ca-file");
            setting_result_with(
                c,
                &unset(c, &ca_flag),
                Status::Fail,
                "a CA file that signs only the cluster's own certificates",
                Some(format!(
                    "{} is on, but with no {} etcd checks the certificates of its {} against the host's system trust store: one issued by any public CA is accepted",
                    s.source,
                    c.setting_name(&ca_flag),
                    side.callers()
                )),
            )
        }
        None if switched => setting_result(c, &s, true, "true"),
        None => setting_result_with(
            c,
            asking,
            Status::Pass,
            &format!("{} true, or a CA file", c.setting_name(&flag)),
            Some(format!(
                "{} is not on, but etcd requires a certificate signed by this CA from its {} whenever the CA file is given",
                c.setting_name(&flag),
                side.callers()
            )),
        ),
    }
}

/// 2.2
fn client_cert_auth(ctx: &Context<'_>) -> CheckResult {
    cert_auth(ctx, EtcdSide::Client)
}
/// 2.3
fn no_auto_tls(ctx: &Context<'_>) -> CheckResult {
    switch(ctx, "auto-tls", false)
}
/// 2.4
fn peer_tls(ctx: &Context<'_>) -> CheckResult {
    tls_pair(
        ctx,
        "peer-cert-file",
        "peer-key-file",
        "listen-peer-urls",
        "http://localhost:2380",
    )
}
/// 2.5
fn peer_client_cert_auth(ctx: &Context<'_>) -> CheckResult {
    cert_auth(ctx, EtcdSide::Peer)
}
/// 2.6
fn no_peer_auto_tls(ctx: &Context<'_>) -> CheckResult {
    switch(ctx, "peer-auto-tls", false)
}
/// 2.7 (manual in the benchmark): etcd must trust a CA of its own. Sharing the API server's
/// client CA file is certainly not unique; different files need a person to confirm.
fn unique_ca(ctx: &Context<'_>) -> CheckResult {
    let (k, c) = match running(ctx, T, ETCD) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let s = match setting(c, "trusted-ca-file") {
        Ok(s) => s,
        Err(r) => return r,
    };
    // `--trusted-ca-file=` names no file: etcd trusts no CA of its own.
    let Some(s) = s.filter(|s| !s.value.trim().is_empty()) else {
        return setting_result(
            c,
            &unset(c, "trusted-ca-file"),
            false,
            "set to a CA used only for etcd",
        );
    };
    let api_ca = k
        .component(APISERVER)
        .and_then(|a| a.setting("client-ca-file"));
    match api_ca {
        Some(a) if a.value == s.value => setting_result_with(
            c,
            &s,
            Status::Fail,
            "a CA used only for etcd",
            Some(format!("the same file is the API server's client CA ({}), so any client certificate of the cluster is trusted by etcd", a.source)),
        ),
        Some(a) => setting_result_with(
            c,
            &s,
            Status::Manual,
            "a CA used only for etcd",
            Some(format!("differs from the API server's client CA file {}; confirm it is a different CA", a.value)),
        ),
        None => setting_result_with(c, &s, Status::Manual, "a CA used only for etcd", Some("confirm no other component's clients are signed by this CA".into())),
    }
}
