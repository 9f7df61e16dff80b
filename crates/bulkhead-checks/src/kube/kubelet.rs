//! The kubelet (4.2) and kube-proxy (4.3).
//!
//! The kubelet's settings are what the kubelet really uses: a command-line flag, else the
//! configuration file named by its `--config` flag merged with its `--config-dir` drop-ins, else
//! the default, which differs with and without a configuration file (anonymous access and
//! AlwaysAllow are the defaults only without one). A setting no flag fixes is an error, never a
//! default, while a file that could set it cannot be read or parsed, or is one the kubelet's
//! decoder refuses (no `apiVersion` or `kind`, a quoted `"false"` for a boolean: the collector
//! records such a file as unavailable with the line and the reason): the running kubelet loaded
//! a version of that file bulkhead does not see. A flag its systemd unit put on the command line
//! through a variable is traced to the file that holds it.
//!
//! kube-proxy is the other way round: started with `--config`, it takes its settings from that
//! file alone and ignores the flags beside it.

use super::{
    cipher_result, file_settings_result, guard, is_set, not_loaded_yet, running, setting_result,
    setting_result_with,
};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::kube::{
    json_scalar, Component, KubeFacts, KubeletKey, Setting, KUBELET, PROXY,
};

/// Every kubelet check goes through [`in_force`]: the kubelet reads its configuration files
/// only when it starts.
pub const EVALUATORS: &[(&str, Evaluator)] = &[
    (
        "k8s.kubelet.anonymous_auth_disabled",
        |ctx: &Context<'_>| in_force(ctx, anonymous_auth_disabled(ctx)),
    ),
    (
        "k8s.kubelet.authorization_not_always_allow",
        |ctx: &Context<'_>| in_force(ctx, authorization_not_always_allow(ctx)),
    ),
    ("k8s.kubelet.client_ca", |ctx: &Context<'_>| {
        in_force(ctx, client_ca(ctx))
    }),
    (
        "k8s.kubelet.read_only_port_disabled",
        |ctx: &Context<'_>| in_force(ctx, read_only_port_disabled(ctx)),
    ),
    ("k8s.kubelet.streaming_idle_timeout", |ctx: &Context<'_>| {
        in_force(ctx, streaming_idle_timeout(ctx))
    }),
    ("k8s.kubelet.iptables_util_chains", |ctx: &Context<'_>| {
        in_force(ctx, iptables_util_chains(ctx))
    }),
    ("k8s.kubelet.no_hostname_override", |ctx: &Context<'_>| {
        in_force(ctx, no_hostname_override(ctx))
    }),
    ("k8s.kubelet.event_qps", |ctx: &Context<'_>| {
        in_force(ctx, event_qps(ctx))
    }),
    ("k8s.kubelet.tls_cert", |ctx: &Context<'_>| {
        in_force(ctx, tls_cert(ctx))
    }),
    ("k8s.kubelet.rotate_certificates", |ctx: &Context<'_>| {
        in_force(ctx, rotate_certificates(ctx))
    }),
    (
        "k8s.kubelet.rotate_server_certificate",
        |ctx: &Context<'_>| in_force(ctx, rotate_server_certificate(ctx)),
    ),
    ("k8s.kubelet.strong_ciphers", |ctx: &Context<'_>| {
        in_force(ctx, strong_ciphers(ctx))
    }),
    ("k8s.kubelet.pod_pids_limit", |ctx: &Context<'_>| {
        in_force(ctx, pod_pids_limit(ctx))
    }),
    ("k8s.kubelet.seccomp_default", |ctx: &Context<'_>| {
        in_force(ctx, seccomp_default(ctx))
    }),
    ("k8s.proxy.metrics_localhost", metrics_localhost),
];

const T: &str = "node";

/// A pass on a setting the kubelet takes from its configuration files (a value there, or the
/// default that applies with a file) is a warn while one of the files is newer than the running
/// kubelet: it reads them only when it starts, so `bulkhead verify` after `harden --apply` must
/// not call a fix proven before the kubelet restarts. A flag on its command line is in force.
fn in_force(ctx: &Context<'_>, r: CheckResult) -> CheckResult {
    let Some(k) = ctx.snapshot.kubernetes.as_ref() else {
        return r;
    };
    let r = match k.component(KUBELET) {
        Some(c) => with_flag_origins(c, r),
        None => r,
    };
    let Some((path, modified, started)) = k.kubelet_config_changed_after_start() else {
        return r;
    };
    not_loaded_yet(
        r,
        &format!(
            "{path} changed at {modified}, after the kubelet started at {started}: the running \
             kubelet may not have loaded this setting; restart it (e.g. `systemctl restart kubelet`) \
             and audit again"
        ),
    )
}

/// Where a flag on the kubelet's command line was written, when its systemd unit put it there
/// through a variable (`$KUBELET_EXTRA_ARGS` of /etc/default/kubelet, `$KUBELET_KUBEADM_ARGS` of
/// kubeadm-flags.env, an `Environment=` line of a drop-in): the file to change. Only a variable
/// whose words the running command line holds, in a row, counts: a file edited since the
/// kubelet started, or one of a unit that did not start it, is not where its flags came from.
/// None when no such variable holds the flag.
pub(crate) fn flag_origin(c: &Component, flag: &str) -> Option<String> {
    let bare = format!("--{flag}");
    let eq = format!("--{flag}=");
    let argv = &c.process.argv;
    let on_command_line = |words: &[&str]| {
        argv.windows(words.len())
            .any(|w| w.iter().zip(words).all(|(a, b)| a == b))
    };
    let places: Vec<String> = c
        .env_files
        .iter()
        .flat_map(|(file, vars)| {
            vars.iter()
                .filter(|(_, v)| {
                    let words: Vec<&str> = v.split_whitespace().collect();
                    words.iter().any(|w| *w == bare || w.starts_with(&eq))
                        && on_command_line(&words)
                })
                .map(move |(var, _)| format!("${var} of {file}"))
        })
        .collect();
    match places.len() {
        0 => None,
        1 => Some(format!(
            "written in {} (the kubelet's systemd unit expands it into the command line): change it there",
            places[0]
        )),
        _ => Some(format!(
            "written in {} (the kubelet's systemd unit expands them into the command line; the last one there wins): change them there",
            places.join(" and ")
        )),
    }
}

/// Each object judged on a kubelet flag says where the flag was written (see [`flag_origin`]).
fn with_flag_origins(c: &Component, mut r: CheckResult) -> CheckResult {
    let mut first_origin = None;
    for o in r.objects.iter_mut() {
        let Some(field) = o.evidence.as_ref().map(|e| e.field.clone()) else {
            continue;
        };
        let Some(flag) = field
            .strip_suffix(" (command line)")
            .and_then(|f| f.strip_prefix("--"))
            .and_then(|f| f.split_whitespace().next())
        else {
            continue;
        };
        if let Some(origin) = flag_origin(c, flag) {
            o.note = Some(match o.note.take() {
                Some(earlier) => format!("{earlier}; {origin}"),
                None => origin.clone(),
            });
            first_origin.get_or_insert(origin);
        }
    }
    if let (Some(origin), 1) = (first_origin, r.objects.len()) {
        r.message = Some(match r.message.take() {
            Some(m) => format!("{m}; {origin}"),
            None => origin,
        });
    }
    r
}

fn kubelet<'a>(ctx: &Context<'a>) -> Result<(&'a KubeFacts, &'a Component), CheckResult> {
    running(ctx, T, KUBELET)
}

/// The kubelet's value of `key`, or the error result saying which file leaves it unknown.
fn setting(k: &KubeFacts, c: &Component, key: &KubeletKey) -> Result<Setting, CheckResult> {
    k.kubelet_setting(key)
        .expect("kubelet runs")
        .map_err(|why| unknown(c, why))
}

const ROTATION_GATE: &str = "RotateKubeletServerCertificate";

/// The RotateKubeletServerCertificate feature gate (on by default since it went beta).
fn rotation_gate(k: &KubeFacts, c: &Component) -> Result<Setting, CheckResult> {
    k.kubelet_feature_gate(ROTATION_GATE, true)
        .expect("kubelet runs")
        .map_err(|why| unknown(c, why))
}

fn unknown(c: &Component, why: String) -> CheckResult {
    CheckResult::error(why.clone())
        .with_object(ObjectResult::new("process", c.label(), Status::Error).note(why))
}

fn judge(
    ctx: &Context<'_>,
    key: KubeletKey,
    expected: &str,
    ok: impl Fn(&Setting) -> bool,
) -> CheckResult {
    with_kubelet(ctx, |k, c| {
        let s = setting(k, c, &key)?;
        Ok(setting_result(c, &s, ok(&s), expected))
    })
}

/// Run `f` on the running kubelet, or return why it cannot be judged.
fn with_kubelet(
    ctx: &Context<'_>,
    f: impl FnOnce(&KubeFacts, &Component) -> Result<CheckResult, CheckResult>,
) -> CheckResult {
    match kubelet(ctx) {
        Ok((k, c)) => f(k, c).unwrap_or_else(|r| r),
        Err(r) => r,
    }
}

/// 4.2.1
fn anonymous_auth_disabled(ctx: &Context<'_>) -> CheckResult {
    judge(ctx, KubeletKey::ANONYMOUS_AUTH, "false", |s| {
        s.as_bool() == Some(false)
    })
}
/// 4.2.2
fn authorization_not_always_allow(ctx: &Context<'_>) -> CheckResult {
    judge(
        ctx,
        KubeletKey::AUTHORIZATION_MODE,
        "Webhook (not AlwaysAllow)",
        |s| !s.items().iter().any(|m| m == "AlwaysAllow") && is_set(s),
    )
}
/// 4.2.3: client certificates presented to the kubelet (the API server's) must be verified.
fn client_ca(ctx: &Context<'_>) -> CheckResult {
    with_kubelet(ctx, |k, c| {
        let s = setting(k, c, &KubeletKey::CLIENT_CA_FILE)?;
        Ok(file_settings_result(
            ctx,
            c,
            vec![s],
            "set to an existing CA file",
        ))
    })
}
/// 4.2.4 (manual in the benchmark): the unauthenticated read-only port must be off.
fn read_only_port_disabled(ctx: &Context<'_>) -> CheckResult {
    judge(ctx, KubeletKey::READ_ONLY_PORT, "0", |s| {
        s.value.trim() == "0"
    })
}
/// 4.2.5 (manual in the benchmark): 0 keeps idle streams open for ever. A zero in the `--config`
/// file itself is not what runs: the kubelet decodes that file with its defaults, which replace
/// a zero timeout by 4h (kubeadm writes `streamingConnectionIdleTimeout: 0s` on every node). A
/// zero from a flag or a `--config-dir` drop-in (merged after the defaults) is really zero.
fn streaming_idle_timeout(ctx: &Context<'_>) -> CheckResult {
    with_kubelet(ctx, |k, c| {
        let key = KubeletKey::STREAMING_IDLE_TIMEOUT;
        let s = setting(k, c, &key)?;
        // A Go duration is zero when every number in it is zero (`0`, `0s`, `0h0m0s`).
        let v = s.value.trim();
        let zero = v.is_empty() || v.chars().filter(char::is_ascii_digit).all(|d| d == '0');
        let in_config_file = k
            .kubelet
            .as_ref()
            .and_then(|cfg| cfg.file.as_ref())
            .is_some_and(|f| s.source == format!("{} ({})", key.config, f.path));
        Ok(if zero && in_config_file {
            setting_result_with(
                c,
                &s,
                Status::Pass,
                "not 0",
                Some(
                    "the kubelet replaces a zero here with its default of 4h when it loads this file, so 4h is in force"
                        .into(),
                ),
            )
        } else {
            setting_result(c, &s, !zero, "not 0")
        })
    })
}
/// 4.2.6
fn iptables_util_chains(ctx: &Context<'_>) -> CheckResult {
    judge(ctx, KubeletKey::IPTABLES_UTIL_CHAINS, "true", |s| {
        s.as_bool() == Some(true)
    })
}
/// 4.2.7 (manual in the benchmark): some clouds need it, so a set value is for review.
fn no_hostname_override(ctx: &Context<'_>) -> CheckResult {
    with_kubelet(ctx, |k, c| {
        let s = setting(k, c, &KubeletKey::HOSTNAME_OVERRIDE)?;
        Ok(if is_set(&s) {
            setting_result_with(c, &s, Status::Warn, "not set", Some("the node name differs from the host name, which can break TLS name checks; confirm the cloud provider needs it".into()))
        } else {
            setting_result(c, &s, true, "not set")
        })
    })
}
/// 4.2.8 (manual): the right rate is a judgement; 0 means unlimited.
fn event_qps(ctx: &Context<'_>) -> CheckResult {
    with_kubelet(ctx, |k, c| {
        let s = setting(k, c, &KubeletKey::EVENT_QPS)?;
        let note = (s.value.trim() == "0").then(|| "0 means no limit".to_string());
        Ok(setting_result_with(
            c,
            &s,
            Status::Manual,
            "a rate that captures the events the cluster needs",
            note,
        ))
    })
}
/// 4.2.9 (manual in the benchmark): the kubelet's serving certificate must be a real one, from
/// files or from the cluster CA by server TLS bootstrap; otherwise it serves a self-signed one
/// the API server cannot verify. Server TLS bootstrap counts only while the
/// RotateKubeletServerCertificate gate is on: the kubelet refuses `serverTLSBootstrap` without it.
fn tls_cert(ctx: &Context<'_>) -> CheckResult {
    with_kubelet(ctx, |k, c| {
        let expected = "certificate files, or server TLS bootstrap";
        let cert = setting(k, c, &KubeletKey::TLS_CERT_FILE)?;
        let key = setting(k, c, &KubeletKey::TLS_KEY_FILE)?;
        if is_set(&cert) || is_set(&key) {
            return Ok(file_settings_result(
                ctx,
                c,
                vec![cert, key],
                "set to an existing file",
            ));
        }
        let boot = setting(k, c, &KubeletKey::SERVER_TLS_BOOTSTRAP)?;
        if boot.as_bool() != Some(true) {
            return Ok(setting_result_with(
                c,
                &cert,
                Status::Fail,
                expected,
                Some("neither certificate files nor serverTLSBootstrap: the kubelet serves a self-signed certificate".into()),
            ));
        }
        let gate = rotation_gate(k, c)?;
        if gate.as_bool() == Some(false) {
            return Ok(setting_result_with(
                c,
                &boot,
                Status::Fail,
                expected,
                Some(format!(
                    "no certificate files, and server TLS bootstrap needs the {ROTATION_GATE} gate, which is off ({}: {}): the kubelet does not accept serverTLSBootstrap without it",
                    gate.source, gate.value
                )),
            ));
        }
        Ok(setting_result_with(
            c,
            &boot,
            Status::Pass,
            expected,
            Some("the serving certificate is requested from the cluster CA and rotated".into()),
        ))
    })
}
/// 4.2.10: judged on the kubelet's effective value. The benchmark takes "not set" for on, but
/// the kubelet's default is false, with a configuration file or without: left unset, the kubelet
/// never renews its client certificate, exactly as with an explicit false.
fn rotate_certificates(ctx: &Context<'_>) -> CheckResult {
    with_kubelet(ctx, |k, c| {
        let s = setting(k, c, &KubeletKey::ROTATE_CERTIFICATES)?;
        if s.is_default {
            return Ok(setting_result_with(
                c,
                &s,
                Status::Fail,
                "true",
                Some("not set, and the kubelet's default is false: it never renews its client certificate, which then expires in service or stays valid long after a compromise; set rotateCertificates: true".into()),
            ));
        }
        Ok(setting_result(
            c,
            &s,
            s.as_bool() != Some(false),
            "not false",
        ))
    })
}
/// 4.2.11 (manual in the benchmark): the gate must be on; the serving certificate then rotates
/// only with server TLS bootstrap, which the note says.
fn rotate_server_certificate(ctx: &Context<'_>) -> CheckResult {
    with_kubelet(ctx, |k, c| {
        let s = rotation_gate(k, c)?;
        if s.as_bool() == Some(false) {
            return Ok(setting_result(c, &s, false, "true"));
        }
        let boot = setting(k, c, &KubeletKey::SERVER_TLS_BOOTSTRAP)?;
        let note = if boot.as_bool() == Some(true) {
            "server TLS bootstrap is on, so the serving certificate rotates".to_string()
        } else {
            format!(
                "the gate is on, but rotation happens only with serverTLSBootstrap ({}: {})",
                boot.source,
                super::shown(&boot)
            )
        };
        Ok(setting_result_with(c, &s, Status::Pass, "true", Some(note)))
    })
}
/// 4.2.12 (manual in the benchmark)
fn strong_ciphers(ctx: &Context<'_>) -> CheckResult {
    with_kubelet(ctx, |k, c| {
        let mut s = setting(k, c, &KubeletKey::TLS_CIPHER_SUITES)?;
        // pflag string slices accumulate across repeated flags (wherever each was written: the
        // command line, or a k3s configuration file's --kubelet-arg entries).
        if !s.is_default && c.flags.has("tls-cipher-suites") {
            s.value = c.flags.list("tls-cipher-suites", true).join(",");
            s.source = c.flag_list_source("tls-cipher-suites");
        }
        Ok(cipher_result(c, &s))
    })
}
/// 4.2.13 (manual in the benchmark): -1 (the default) means no limit.
fn pod_pids_limit(ctx: &Context<'_>) -> CheckResult {
    judge(ctx, KubeletKey::POD_PIDS_LIMIT, "a positive limit", |s| {
        s.value.trim().parse::<i64>().is_ok_and(|n| n > 0)
    })
}
/// 4.2.14 (manual in the benchmark)
fn seccomp_default(ctx: &Context<'_>) -> CheckResult {
    judge(ctx, KubeletKey::SECCOMP_DEFAULT, "true", |s| {
        s.as_bool() == Some(true)
    })
}
/// 4.3.1: kube-proxy is optional (Cilium and others replace it). Started with `--config`, it
/// takes every setting from that file and ignores its flags (`--metrics-bind-address` included):
/// the file's metricsBindAddress decides, else the default 127.0.0.1:10249.
fn metrics_localhost(ctx: &Context<'_>) -> CheckResult {
    let k = match guard(ctx, T) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let Some(c) = k.component(PROXY) else {
        return CheckResult::not_applicable("kube-proxy does not run on this node (an optional component: a CNI such as Cilium may replace it)");
    };
    let expected = "a loopback address (127.0.0.1)";
    let default = || {
        Setting::default_value(
            "127.0.0.1:10249",
            "--metrics-bind-address / metricsBindAddress not set (default 127.0.0.1:10249)",
        )
    };
    let flag = c.setting("metrics-bind-address");
    let (s, note) = match &k.proxy_config {
        Some(cfg) => {
            let doc = match &cfg.content {
                bulkhead_facts::Fact::Value(doc) => doc,
                bulkhead_facts::Fact::Unavailable(why) => {
                    return unknown(
                        c,
                        format!(
                            "the metrics address is unknown: kube-proxy takes it from {} (--config), which could not be used: {why}",
                            cfg.path
                        ),
                    )
                }
            };
            let s = doc
                .get("metricsBindAddress")
                .and_then(json_scalar)
                .filter(|v| !v.is_empty())
                .map(|v| Setting::new(v, format!("metricsBindAddress ({})", cfg.path)))
                .unwrap_or_else(|| {
                    Setting::default_value(
                        "127.0.0.1:10249",
                        format!(
                            "metricsBindAddress not set in {} (default 127.0.0.1:10249)",
                            cfg.path
                        ),
                    )
                });
            let ignored = flag.map(|f| {
                format!(
                    "--metrics-bind-address={} on the command line is ignored: kube-proxy started with --config takes this setting from the file only",
                    f.value
                )
            });
            (s, ignored)
        }
        None => match flag {
            Some(f) if f.value.trim().is_empty() => {
                return setting_result_with(
                    c,
                    &f,
                    Status::Pass,
                    expected,
                    Some("empty: kube-proxy serves no metrics".into()),
                )
            }
            Some(f) => (f, None),
            None => (default(), None),
        },
    };
    let ok = is_loopback(&bind_host(&s.value));
    setting_result_with(
        c,
        &s,
        if ok { Status::Pass } else { Status::Fail },
        expected,
        note,
    )
}

/// The host of a bind address: `127.0.0.1:10249` -> `127.0.0.1`, `[::1]:10249` -> `::1`; an
/// address without a port (kube-proxy adds its default port) is the host itself, IPv6 included.
fn bind_host(addr: &str) -> String {
    let a = addr.trim();
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match a.matches(':').count() {
        1 => a.split(':').next().unwrap_or(a).to_string(),
        _ => a.to_string(),
    }
}

fn is_loopback(host: &str) -> bool {
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}
