//! Control-plane configuration (3): how users authenticate, and the audit policy. Which
//! credentials people use is not visible on a node, so 3.1 is manual with the API server's
//! authentication settings shown; the audit policy file is judged where it is named.

use super::{file_settings_result, found, manual, running};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult};
use crate::registry::Evaluator;
use bulkhead_facts::kube::{Component, Setting, APISERVER};

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    (
        "k8s.authn.no_client_certs_for_users",
        no_client_certs_for_users,
    ),
    ("k8s.authn.no_sa_tokens_for_users", no_sa_tokens_for_users),
    (
        "k8s.authn.no_bootstrap_tokens_for_users",
        no_bootstrap_tokens_for_users,
    ),
    ("k8s.logging.audit_policy", audit_policy),
    ("k8s.logging.audit_policy_coverage", audit_policy_coverage),
];

const T: &str = "controlplane";

fn show(c: &Component, flags: &[(&str, &str)]) -> Vec<ObjectResult> {
    flags
        .iter()
        .map(|(f, default)| {
            let s = c.setting_or(f, default);
            ObjectResult::new("process", c.label(), crate::model::Status::Manual).evidence(
                s.source.clone(),
                super::shown(&s),
                "review",
            )
        })
        .collect()
}

/// Manual whatever the settings say (they are only shown), so the API server's settings being
/// unknown (inside a k3s whose configuration could not be used) does not make it an error.
fn manual_with(ctx: &Context<'_>, message: &str, flags: &[(&str, &str)]) -> CheckResult {
    match found(ctx, T, APISERVER) {
        Ok((_, c)) => manual(message, show(c, flags)),
        Err(r) => r,
    }
}

/// 3.1.1
fn no_client_certs_for_users(ctx: &Context<'_>) -> CheckResult {
    manual_with(
        ctx,
        "client certificates cannot be revoked: confirm people sign in through OIDC or a webhook, not certificates signed by this CA",
        &[("client-ca-file", ""), ("oidc-issuer-url", ""), ("authentication-token-webhook-config-file", "")],
    )
}
/// 3.1.2
fn no_sa_tokens_for_users(ctx: &Context<'_>) -> CheckResult {
    manual_with(
        ctx,
        "confirm no person uses a service account token; give people OIDC or webhook identities",
        &[("oidc-issuer-url", ""), ("service-account-issuer", "")],
    )
}
/// 3.1.3
fn no_bootstrap_tokens_for_users(ctx: &Context<'_>) -> CheckResult {
    manual_with(
        ctx,
        "bootstrap tokens are for joining nodes only: confirm no person uses one",
        &[("enable-bootstrap-token-auth", "false")],
    )
}
/// 3.2.1 (manual in the benchmark): an audit policy file must be named and exist.
fn audit_policy(ctx: &Context<'_>) -> CheckResult {
    let (_, c) = match running(ctx, T, APISERVER) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let s = c.setting("audit-policy-file").unwrap_or_else(|| {
        Setting::default_value(
            "",
            "--audit-policy-file not set (no audit events are recorded)",
        )
    });
    file_settings_result(ctx, c, vec![s], "set to an existing audit policy")
}
/// 3.2.2: what the policy must cover is a judgement; its location is shown.
fn audit_policy_coverage(ctx: &Context<'_>) -> CheckResult {
    manual_with(
        ctx,
        "review the audit policy: it should record access to secrets, configmaps and tokens at Metadata level, and changes to RBAC, pods/exec and nodes",
        &[("audit-policy-file", ""), ("audit-log-path", ""), ("audit-webhook-config-file", "")],
    )
}
