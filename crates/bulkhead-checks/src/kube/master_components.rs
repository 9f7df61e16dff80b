//! The controller manager (1.3) and the scheduler (1.4): profiling, service account credentials
//! and keys, kubelet serving-certificate rotation, and binding their ports to localhost. A
//! scheduler started with `--config` takes profiling from that file and ignores its deprecated
//! `--profiling` flag.

use super::{
    file_settings_result, flag_check, not_loaded_yet, running, setting_result, setting_result_with,
};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::kube::{Setting, CONTROLLER_MANAGER, SCHEDULER};
use bulkhead_facts::Fact;
use serde_json::Value;

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    (
        "k8s.controller_manager.terminated_pod_gc",
        terminated_pod_gc,
    ),
    (
        "k8s.controller_manager.profiling_disabled",
        cm_profiling_disabled,
    ),
    (
        "k8s.controller_manager.service_account_credentials",
        service_account_credentials,
    ),
    (
        "k8s.controller_manager.service_account_private_key",
        service_account_private_key,
    ),
    ("k8s.controller_manager.root_ca", root_ca),
    (
        "k8s.controller_manager.rotate_kubelet_server_cert",
        rotate_kubelet_server_cert,
    ),
    ("k8s.controller_manager.bind_localhost", cm_bind_localhost),
    (
        "k8s.scheduler.profiling_disabled",
        scheduler_profiling_disabled,
    ),
    ("k8s.scheduler.bind_localhost", scheduler_bind_localhost),
];

const T: &str = "master";

/// 1.3.1: the right threshold depends on the cluster; the value is shown for review.
fn terminated_pod_gc(ctx: &Context<'_>) -> CheckResult {
    let (_, c) = match running(ctx, T, CONTROLLER_MANAGER) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let s = c.setting_or("terminated-pod-gc-threshold", "12500");
    setting_result_with(
        c,
        &s,
        Status::Manual,
        "a threshold suited to the cluster's size",
        None,
    )
}
/// 1.3.2
fn cm_profiling_disabled(ctx: &Context<'_>) -> CheckResult {
    flag_check(
        ctx,
        T,
        CONTROLLER_MANAGER,
        "profiling",
        Some("true"),
        "false",
        |s| s.as_bool() == Some(false),
    )
}
/// 1.3.3
fn service_account_credentials(ctx: &Context<'_>) -> CheckResult {
    flag_check(
        ctx,
        T,
        CONTROLLER_MANAGER,
        "use-service-account-credentials",
        Some("false"),
        "true",
        |s| s.as_bool() == Some(true),
    )
}
/// 1.3.4
fn service_account_private_key(ctx: &Context<'_>) -> CheckResult {
    cm_file(
        ctx,
        "service-account-private-key-file",
        "set to an existing key file",
    )
}
/// 1.3.5
fn root_ca(ctx: &Context<'_>) -> CheckResult {
    cm_file(ctx, "root-ca-file", "set to an existing CA file")
}

fn cm_file(ctx: &Context<'_>, flag: &str, expected: &str) -> CheckResult {
    let (_, c) = match running(ctx, T, CONTROLLER_MANAGER) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let s = c
        .setting(flag)
        .unwrap_or_else(|| Setting::default_value("", format!("--{flag} not set")));
    file_settings_result(ctx, c, vec![s], expected)
}
/// 1.3.6: the gate is on by default; only an explicit `false` turns rotation off.
fn rotate_kubelet_server_cert(ctx: &Context<'_>) -> CheckResult {
    let (_, c) = match running(ctx, T, CONTROLLER_MANAGER) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let gates = c.feature_gates();
    let s = match gates.get("RotateKubeletServerCertificate") {
        Some(v) => Setting::new(
            v.clone(),
            format!(
                "--feature-gates RotateKubeletServerCertificate ({})",
                c.feature_gate_origin("RotateKubeletServerCertificate")
            ),
        ),
        None => Setting::default_value(
            "true",
            "--feature-gates RotateKubeletServerCertificate not set (default true)",
        ),
    };
    setting_result(c, &s, s.as_bool() != Some(false), "not false")
}

fn localhost(s: &Setting) -> bool {
    let v = s.value.trim();
    let host = v
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(v);
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// 1.3.7 and 1.4.2: the address the component's HTTPS port listens on (0.0.0.0 when not set).
/// With `--secure-port=0` it serves no HTTPS at all, so nothing listens whatever the address.
fn bind_localhost(ctx: &Context<'_>, component: &str) -> CheckResult {
    let (_, c) = match running(ctx, T, component) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(port) = c.setting("secure-port").filter(|p| p.value.trim() == "0") {
        return setting_result_with(
            c,
            &port,
            Status::Pass,
            "127.0.0.1, or no HTTPS port",
            Some("the secure port is off: nothing listens, whatever --bind-address says".into()),
        );
    }
    flag_check(
        ctx,
        T,
        component,
        "bind-address",
        Some("0.0.0.0"),
        "127.0.0.1",
        localhost,
    )
}
/// 1.3.7
fn cm_bind_localhost(ctx: &Context<'_>) -> CheckResult {
    bind_localhost(ctx, CONTROLLER_MANAGER)
}
/// 1.4.1. Started with `--config`, the scheduler takes profiling from the file's
/// enableProfiling (true when unset) and ignores its deprecated `--profiling` flag.
fn scheduler_profiling_disabled(ctx: &Context<'_>) -> CheckResult {
    let (_, c) = match running(ctx, T, SCHEDULER) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(cfg) = c.config.as_ref() else {
        return flag_check(ctx, T, SCHEDULER, "profiling", Some("true"), "false", |s| {
            s.as_bool() == Some(false)
        });
    };
    let unknown = |why: String| {
        CheckResult::error(why.clone())
            .with_object(ObjectResult::new("process", c.label(), Status::Error).note(why))
    };
    let doc = match &cfg.content {
        Fact::Value(doc) => doc,
        Fact::Unavailable(why) => {
            return unknown(format!(
                "profiling is unknown: kube-scheduler takes enableProfiling from {} (--config), which could not be used: {why}",
                cfg.path
            ))
        }
    };
    let s = match doc.get("enableProfiling") {
        None | Some(Value::Null) => Setting::default_value(
            "true",
            format!("enableProfiling not set in {} (default true)", cfg.path),
        ),
        Some(Value::Bool(b)) => Setting::new(b.to_string(), format!("enableProfiling ({})", cfg.path)),
        Some(other) => {
            return unknown(format!(
                "enableProfiling in {} is {other}, not true or false: kube-scheduler does not start with it",
                cfg.path
            ))
        }
    };
    let ignored = c.setting("profiling").map(|f| {
        format!(
            "--profiling={} on the command line is ignored: kube-scheduler started with --config takes enableProfiling from the file",
            f.value
        )
    });
    let ok = s.as_bool() == Some(false);
    let r = setting_result_with(
        c,
        &s,
        if ok { Status::Pass } else { Status::Fail },
        "false",
        ignored,
    );
    // The scheduler reads the file only when it starts.
    match c.config_changed_after_start() {
        Some((path, modified, started)) => not_loaded_yet(
            r,
            &format!(
                "{path} changed at {modified}, after kube-scheduler started at {started}: the running scheduler may not have loaded it; restart it and audit again"
            ),
        ),
        None => r,
    }
}
/// 1.4.2
fn scheduler_bind_localhost(ctx: &Context<'_>) -> CheckResult {
    bind_localhost(ctx, SCHEDULER)
}
