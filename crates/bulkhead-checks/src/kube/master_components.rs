//! The controller manager (1.3) and the scheduler (1.4): profiling, service account credentials
//! and keys, kubelet serving-certificate rotation, and binding their ports to localhost.

use super::{file_settings_result, flag_check, running, setting_result, setting_result_with};
use crate::engine::Context;
use crate::model::{CheckResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::kube::{Setting, CONTROLLER_MANAGER, SCHEDULER};

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
            "--feature-gates RotateKubeletServerCertificate (command line)",
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
    v == "127.0.0.1" || v == "::1" || v == "localhost"
}
/// 1.3.7
fn cm_bind_localhost(ctx: &Context<'_>) -> CheckResult {
    flag_check(
        ctx,
        T,
        CONTROLLER_MANAGER,
        "bind-address",
        Some("0.0.0.0"),
        "127.0.0.1",
        localhost,
    )
}
/// 1.4.1
fn scheduler_profiling_disabled(ctx: &Context<'_>) -> CheckResult {
    flag_check(ctx, T, SCHEDULER, "profiling", Some("true"), "false", |s| {
        s.as_bool() == Some(false)
    })
}
/// 1.4.2
fn scheduler_bind_localhost(ctx: &Context<'_>) -> CheckResult {
    flag_check(
        ctx,
        T,
        SCHEDULER,
        "bind-address",
        Some("0.0.0.0"),
        "127.0.0.1",
        localhost,
    )
}
