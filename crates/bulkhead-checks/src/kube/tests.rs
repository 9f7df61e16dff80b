//! Evaluator tests from fixtures: the CIS Kubernetes pitfalls of the reference tool that are
//! about judging (bitmasks, effective access, missing files, managed control planes, k3s), and
//! edge cases of individual checks.

use super::fixture::KubeFixture;
use crate::model::Status::*;
use serde_json::json;

const API: &str = "kube-apiserver";

/// Pitfall 5 (and the decimal-mode pitfall): modes are bitmasks, and a 0644 file in a 0700
/// directory is private in effect; the note shows both.
#[test]
fn pitfall_5_effective_access_through_parent_directories() {
    let f = KubeFixture::new()
        .component(API, &[])
        .path(
            "apiserver_manifest",
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            false,
        )
        .file_in(
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            0o644,
            0,
            0,
            &[
                ("/", 0o755, 0),
                ("/etc", 0o755, 0),
                ("/etc/kubernetes", 0o755, 0),
                ("/etc/kubernetes/manifests", 0o700, 0),
            ],
        );
    let r = f.run("k8s.files.apiserver_manifest_mode");
    assert_eq!(r.status, Pass, "{r:?}");
    let o = &r.objects[0];
    assert_eq!(o.evidence.as_ref().unwrap().field, "effective mode");
    assert_eq!(o.evidence.as_ref().unwrap().actual, "0600");
    assert!(
        o.note.as_deref().unwrap().contains("file mode 0644"),
        "{o:?}"
    );
    // The same file in an open directory fails; 0622 (passes a decimal "<= 644") fails 0600.
    let f = KubeFixture::new()
        .component(API, &[])
        .path("apiserver_manifest", "/m.yaml", false)
        .file("/m.yaml", 0o622, 0, 0);
    assert_eq!(f.run("k8s.files.apiserver_manifest_mode").status, Fail);
    let f = KubeFixture::new()
        .component(API, &[])
        .path("apiserver_manifest", "/m.yaml", false)
        .file("/m.yaml", 0o400, 0, 0);
    assert_eq!(f.run("k8s.files.apiserver_manifest_mode").status, Pass);
}

/// Pitfall 4: a missing conventional file is not applicable with the reason; a file the running
/// configuration names but bulkhead cannot see is an error (check --root), never a silent pass.
#[test]
fn pitfall_4_missing_files() {
    let f = KubeFixture::new()
        .component(API, &[])
        .path(
            "apiserver_manifest",
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            false,
        )
        .missing("/etc/kubernetes/manifests/kube-apiserver.yaml");
    let r = f.run("k8s.files.apiserver_manifest_mode");
    assert_eq!(r.status, NotApplicable, "{r:?}");
    assert!(r.message.unwrap().contains("does not exist"));
    let f = KubeFixture::new()
        .component("kubelet", &["--config=/srv/k.yaml"])
        .path("kubelet_config", "/srv/k.yaml", true)
        .missing("/srv/k.yaml");
    let r = f.run("k8s.files.kubelet_config_mode");
    assert_eq!(r.status, Error, "{r:?}");
    assert!(r.message.unwrap().contains("--root"));
}

/// Owners by uid and gid; names from the node's accounts; the etcd data directory wants the
/// node's etcd account.
#[test]
fn owners_by_number() {
    let f = KubeFixture::new()
        .component("etcd", &["--data-dir=/var/lib/etcd"])
        .path("etcd_data_dir", "/var/lib/etcd", true)
        .dir("/var/lib/etcd", 0o700, 998, 0);
    let r = f.run("k8s.files.etcd_data_dir_owner");
    assert_eq!(r.status, Fail, "uid right, gid wrong: {r:?}");
    assert_eq!(
        r.objects[0].evidence.as_ref().unwrap().expected,
        "etcd:etcd (uid 998, gid 997)"
    );
    // Pitfall 8 of CIS Docker's kind: "root:root" by name on another host is not enough; uid 0
    // with gid 0 is what counts.
    let f = KubeFixture::new()
        .component(API, &[])
        .path("apiserver_manifest", "/m.yaml", false)
        .file("/m.yaml", 0o600, 0, 997);
    assert_eq!(f.run("k8s.files.apiserver_manifest_owner").status, Fail);
}

/// Pitfall 8: a managed control plane makes master, etcd and control-plane checks not
/// applicable (provider-managed), never fail; node checks still run.
#[test]
fn pitfall_8_managed_control_plane_is_not_applicable() {
    let f = KubeFixture::new()
        .component(
            "kubelet",
            &["--anonymous-auth=false", "--authorization-mode=Webhook"],
        )
        .managed("eks");
    for id in [
        "k8s.apiserver.authorization_not_always_allow",
        "k8s.etcd.client_cert_auth",
        "k8s.logging.audit_policy",
        "k8s.files.apiserver_manifest_mode",
    ] {
        let r = f.run(id);
        assert_eq!(r.status, NotApplicable, "{id}: {r:?}");
        assert!(
            r.message
                .as_deref()
                .unwrap()
                .contains("provider-managed control plane (Amazon EKS"),
            "{id}: {r:?}"
        );
    }
    assert_eq!(f.run("k8s.kubelet.anonymous_auth_disabled").status, Pass);
}

/// Targets: a check of a target nothing runs for says why; `--targets` says it was not chosen.
#[test]
fn targets_explain_not_applicable() {
    let mut f = KubeFixture::new().component("kubelet", &[]);
    let r = f.run("k8s.apiserver.profiling_disabled");
    assert_eq!(r.status, NotApplicable);
    assert!(r.message.unwrap().contains("no control-plane component"));
    f.kube().select_targets(&["master".into()]).unwrap();
    let r = f.run("k8s.kubelet.anonymous_auth_disabled");
    assert!(r.message.unwrap().contains("not selected by --targets"));
    let r = f.run("k8s.apiserver.profiling_disabled");
    assert!(
        r.message.unwrap().contains("kube-apiserver does not run"),
        "forced target, missing component"
    );
}

/// 1.2.16: a log path without an audit policy records nothing (the API server audits no
/// request without --audit-policy-file), so it fails, saying why; with a policy it passes.
#[test]
fn audit_log_path_needs_a_policy() {
    let run = |args: &[&str]| {
        KubeFixture::new()
            .component(API, args)
            .run("k8s.apiserver.audit_log_path")
    };
    let r = run(&["--audit-log-path=/var/log/kubernetes/audit.log"]);
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("--audit-log-path (command line): /var/log/kubernetes/audit.log (--audit-policy-file is not set: the API server records no audit events, so nothing is written there)")
    );
    assert_eq!(
        run(&[
            "--audit-log-path=-",
            "--audit-policy-file=/etc/kubernetes/audit-policy.yaml"
        ])
        .status,
        Pass
    );
    assert_eq!(run(&[]).status, Fail);
}

/// 1.2.6 to 1.2.8 with `--authorization-config`, which replaces `--authorization-mode` (the
/// API server does not start with both): the file's authorizers are judged as the flag's modes
/// would be; an unreadable file leaves them unknown, and a snapshot without the file's content
/// (an older bulkhead's) asks for a review.
#[test]
fn authorizers_from_the_authorization_configuration() {
    use bulkhead_facts::kube::AuthorizationConfig;
    use bulkhead_facts::Fact;
    let flag = "--authorization-config=/etc/kubernetes/authz.yaml";
    let node = |types: Option<&[&str]>| {
        let mut f = KubeFixture::new().component(API, &[flag]);
        f.kube().authorization = types.map(|t| {
            let list: Vec<serde_json::Value> = t
                .iter()
                .map(|t| json!({"type": t, "name": t.to_lowercase()}))
                .collect();
            let doc = json!({"kind": "AuthorizationConfiguration", "authorizers": list});
            Fact::Value(
                AuthorizationConfig::from_value("/etc/kubernetes/authz.yaml", &doc).unwrap(),
            )
        });
        f
    };
    let ids = [
        "k8s.apiserver.authorization_not_always_allow",
        "k8s.apiserver.authorization_node",
        "k8s.apiserver.authorization_rbac",
    ];
    let statuses = |f: &KubeFixture| ids.map(|id| f.run(id).status);
    let good = node(Some(&["Node", "RBAC", "Webhook"]));
    assert_eq!(statuses(&good), [Pass, Pass, Pass]);
    let r = good.run("k8s.apiserver.authorization_rbac");
    assert_eq!(
        r.message.as_deref(),
        Some("authorizers (/etc/kubernetes/authz.yaml): Node,RBAC,Webhook")
    );
    assert_eq!(statuses(&node(Some(&["AlwaysAllow"]))), [Fail, Fail, Fail]);
    let mut unreadable = node(None);
    unreadable.kube().authorization = Some(Fact::Unavailable(
        "cannot read /etc/kubernetes/authz.yaml: Permission denied".into(),
    ));
    assert_eq!(statuses(&unreadable), [Error, Error, Error]);
    assert_eq!(statuses(&node(None)), [Warn, Warn, Warn]);
}

/// 1.2.1 with an AuthenticationConfiguration: its `anonymous` section decides when it has one
/// (the API server refuses --anonymous-auth beside it): off passes, on for the health paths
/// alone passes (what kubeadm's probes need), on for anything more fails. Without the section
/// the flag and its default decide; an unreadable file leaves it unknown.
#[test]
fn anonymous_access_from_the_authentication_configuration() {
    use bulkhead_facts::kube::AuthenticationConfig;
    use bulkhead_facts::Fact;
    let run = |flags: &[&str], doc: Option<serde_json::Value>| {
        let mut args = vec!["--authentication-config=/etc/kubernetes/authn.yaml"];
        args.extend_from_slice(flags);
        let mut f = KubeFixture::new().component(API, &args);
        f.kube().authentication = Some(match doc {
            Some(d) => Fact::Value(
                AuthenticationConfig::from_value("/etc/kubernetes/authn.yaml", &d).unwrap(),
            ),
            None => {
                Fact::Unavailable("cannot read /etc/kubernetes/authn.yaml: No such file".into())
            }
        });
        f.run("k8s.apiserver.anonymous_auth_disabled")
    };
    let doc = |anonymous: serde_json::Value| {
        Some(
            json!({"apiVersion": "apiserver.config.k8s.io/v1beta1", "kind": "AuthenticationConfiguration", "anonymous": anonymous}),
        )
    };
    let r = run(&[], doc(json!({"enabled": false})));
    assert_eq!(r.status, Pass, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("anonymous (/etc/kubernetes/authn.yaml): enabled: false")
    );
    let health = doc(
        json!({"enabled": true, "conditions": [{"path": "/livez"}, {"path": "/readyz"}, {"path": "/healthz"}]}),
    );
    let r = run(&[], health);
    assert_eq!(r.status, Pass, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("anonymous (/etc/kubernetes/authn.yaml): enabled: true, on /livez, /readyz, /healthz (anonymous requests are served on the health paths alone)")
    );
    let r = run(&[], doc(json!({"enabled": true})));
    assert_eq!(r.status, Fail, "{r:?}");
    let r = run(
        &[],
        doc(json!({"enabled": true, "conditions": [{"path": "/livez"}, {"path": "/version"}]})),
    );
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(r
        .message
        .unwrap()
        .ends_with("(anonymous requests are served on /version too)"));
    // No anonymous section: the flag's default (true) decides.
    let none = Some(
        json!({"apiVersion": "apiserver.config.k8s.io/v1beta1", "kind": "AuthenticationConfiguration", "jwt": []}),
    );
    let r = run(&[], none.clone());
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(run(&["--anonymous-auth=false"], none).status, Pass);
    // Unreadable: unknown, unless the flag is given (the file cannot then hold the section).
    let r = run(&[], None);
    assert_eq!(r.status, Error, "{r:?}");
    assert!(r
        .message
        .unwrap()
        .contains("cannot read /etc/kubernetes/authn.yaml"));
    assert_eq!(run(&["--anonymous-auth=false"], None).status, Pass);
}

/// 1.2.28 on an encryption configuration newer than the running API server: a pass is a warn
/// naming both times (the API server reads the file when it starts), unless the API server
/// reloads it automatically; an older file changes nothing.
#[test]
fn encryption_config_newer_than_the_api_server() {
    let run = |flags: &[&str], modified: &str| {
        let mut f = KubeFixture::new().component(API, flags).encryption(
            json!({"kind": "EncryptionConfiguration", "resources": [
                {"resources": ["secrets"], "providers": [{"aescbc": {}}, {"identity": {}}]}
            ]}),
        );
        let k = f.kube();
        k.components.get_mut(API).unwrap().started_at = Some("2026-11-28T10:00:00Z".into());
        if let Some(bulkhead_facts::Fact::Value(cfg)) = k.encryption.as_mut() {
            cfg.modified_at = Some(modified.into());
        }
        f.run("k8s.apiserver.encryption_providers")
    };
    let flag = "--encryption-provider-config=/etc/kubernetes/enc.yaml";
    let r = run(&[flag], "2026-11-28T10:05:00Z");
    assert_eq!(r.status, Warn, "{r:?}");
    let note = r.objects[0].note.as_deref().unwrap();
    assert!(
        note.starts_with("/etc/kubernetes/enc.yaml changed at 2026-11-28T10:05:00Z, after the API server started at 2026-11-28T10:00:00Z"),
        "{note}"
    );
    // `bulkhead verify` tells a warn a restart settles by this note.
    assert!(crate::is_not_loaded_note(note), "{note}");
    let reload = "--encryption-provider-config-automatic-reload=true";
    assert_eq!(run(&[flag, reload], "2026-11-28T10:05:00Z").status, Pass);
    assert_eq!(run(&[flag], "2026-11-28T09:00:00Z").status, Pass);
}

/// 1.2.28: provider order decides; a rule for `*.*` covers secrets; no rule for secrets fails.
#[test]
fn encryption_provider_order_decides() {
    let enc = |rules: serde_json::Value| {
        KubeFixture::new()
            .component(
                API,
                &["--encryption-provider-config=/etc/kubernetes/enc.yaml"],
            )
            .encryption(json!({"kind": "EncryptionConfiguration", "resources": rules}))
            .run("k8s.apiserver.encryption_providers")
            .status
    };
    assert_eq!(
        enc(json!([{"resources": ["secrets"], "providers": [{"kms": {}}, {"identity": {}}]}])),
        Pass
    );
    assert_eq!(
        enc(json!([{"resources": ["*.*"], "providers": [{"secretbox": {}}]}])),
        Pass
    );
    assert_eq!(
        enc(json!([{"resources": ["secrets"], "providers": [{"identity": {}}, {"aesgcm": {}}]}])),
        Fail
    );
    assert_eq!(
        enc(json!([{"resources": ["configmaps"], "providers": [{"aescbc": {}}]}])),
        Fail
    );
    let none = KubeFixture::new()
        .component(API, &[])
        .run("k8s.apiserver.encryption_providers");
    assert_eq!(none.status, Fail);
    let unreadable = {
        let mut f = KubeFixture::new().component(API, &["--encryption-provider-config=/x.yaml"]);
        f.kube().encryption = Some(bulkhead_facts::Fact::Unavailable(
            "cannot read /x.yaml".into(),
        ));
        f
    };
    assert_eq!(
        unreadable.run("k8s.apiserver.encryption_providers").status,
        Error
    );
    assert_eq!(
        unreadable
            .run("k8s.apiserver.encryption_provider_config")
            .status,
        Error
    );
}

/// Kubelet defaults differ with and without a config file (kube-bench fails both).
#[test]
fn kubelet_defaults_follow_the_config_file() {
    let flags_only = KubeFixture::new().component("kubelet", &[]);
    assert_eq!(
        flags_only.run("k8s.kubelet.anonymous_auth_disabled").status,
        Fail
    );
    assert_eq!(
        flags_only
            .run("k8s.kubelet.authorization_not_always_allow")
            .status,
        Fail
    );
    assert_eq!(
        flags_only.run("k8s.kubelet.read_only_port_disabled").status,
        Fail
    );
    let with_config = KubeFixture::new()
        .component("kubelet", &["--config=/srv/kubelet/config.json"])
        .kubelet_config(json!({"kind": "KubeletConfiguration"}));
    assert_eq!(
        with_config
            .run("k8s.kubelet.anonymous_auth_disabled")
            .status,
        Pass
    );
    assert_eq!(
        with_config
            .run("k8s.kubelet.authorization_not_always_allow")
            .status,
        Pass
    );
    assert_eq!(
        with_config
            .run("k8s.kubelet.read_only_port_disabled")
            .status,
        Pass
    );
    // A flag beats the file.
    let flag_wins = KubeFixture::new()
        .component(
            "kubelet",
            &[
                "--config=/srv/kubelet/config.json",
                "--authorization-mode=AlwaysAllow",
            ],
        )
        .kubelet_config(json!({"authorization": {"mode": "Webhook"}}));
    assert_eq!(
        flag_wins
            .run("k8s.kubelet.authorization_not_always_allow")
            .status,
        Fail
    );
}

/// A kubelet configuration file newer than the running kubelet: a pass resting on it (a value
/// or a default that applies with a file) is a warn naming both times; a flag is in force, a
/// failure stays one, and an older file changes nothing.
#[test]
fn kubelet_config_newer_than_the_kubelet() {
    let node = |args: &[&str], modified: &str| {
        let mut f = KubeFixture::new()
            .component("kubelet", args)
            .kubelet_config(json!({"authorization": {"mode": "Webhook"}, "readOnlyPort": 10255}));
        let k = f.kube();
        k.components.get_mut("kubelet").unwrap().started_at = Some("2026-11-28T10:00:00Z".into());
        let file = k.kubelet.as_mut().unwrap().file.as_mut().unwrap();
        file.modified_at = Some(modified.into());
        f
    };
    let config = ["--config=/srv/kubelet/config.json"];
    let stale = node(&config, "2026-11-28T10:05:00Z");
    let r = stale.run("k8s.kubelet.authorization_not_always_allow");
    assert_eq!(r.status, Warn);
    let note = r.objects[0].note.as_deref().unwrap();
    assert!(
        note.starts_with("/srv/kubelet/config.json changed at 2026-11-28T10:05:00Z, after the kubelet started at 2026-11-28T10:00:00Z"),
        "{note}"
    );
    // `bulkhead verify` tells a warn a restart settles by this note.
    assert!(crate::is_not_loaded_note(note), "{note}");
    // Anonymous access off is the default that applies because a file is in use.
    assert_eq!(
        stale.run("k8s.kubelet.anonymous_auth_disabled").status,
        Warn
    );
    assert_eq!(
        stale.run("k8s.kubelet.read_only_port_disabled").status,
        Fail
    );
    let flag = node(
        &[
            "--config=/srv/kubelet/config.json",
            "--authorization-mode=Webhook",
        ],
        "2026-11-28T10:05:00Z",
    );
    assert_eq!(
        flag.run("k8s.kubelet.authorization_not_always_allow")
            .status,
        Pass
    );
    let mut fresh = node(&config, "2026-11-28T09:00:00Z");
    let r = fresh.run("k8s.kubelet.authorization_not_always_allow");
    assert_eq!(r.status, Pass);
    assert_eq!(r.objects[0].note, None);
    // A drop-in newer than the kubelet counts as much as the main file.
    let cfg = fresh.kube().kubelet.as_mut().unwrap();
    cfg.drop_ins.push(bulkhead_facts::kube::ConfigFile {
        path: "/etc/kubernetes/kubelet.conf.d/50-x.conf".into(),
        source: "kubelet --config-dir".into(),
        content: bulkhead_facts::Fact::Value(json!({"readOnlyPort": 0})),
        modified_at: Some("2026-11-28T10:05:00Z".into()),
    });
    let r = fresh.run("k8s.kubelet.read_only_port_disabled");
    assert_eq!(r.status, Warn);
    assert!(r.objects[0]
        .note
        .as_deref()
        .unwrap()
        .starts_with("/etc/kubernetes/kubelet.conf.d/50-x.conf changed at"));
}

/// etcd's configuration file newer than the running etcd: a pass resting on it is a warn naming
/// both times (etcd reads it only when it starts); a failure stays one, and an older file changes
/// nothing.
#[test]
fn etcd_config_newer_than_etcd() {
    use bulkhead_facts::kube::{ConfigFile, ETCD};
    let node = |modified: &str| {
        let mut f = KubeFixture::new().component("etcd", &["--config-file=/etc/etcd/etcd.yaml"]);
        let etcd = f.kube().components.get_mut(ETCD).unwrap();
        etcd.started_at = Some("2026-11-28T10:00:00Z".into());
        etcd.config = Some(ConfigFile {
            path: "/etc/etcd/etcd.yaml".into(),
            source: "etcd --config-file".into(),
            content: bulkhead_facts::Fact::Value(json!({
                "client-transport-security": {"auto-tls": false},
                "peer-transport-security": {"auto-tls": true}
            })),
            modified_at: Some(modified.into()),
        });
        f
    };
    let stale = node("2026-11-28T10:05:00Z");
    let r = stale.run("k8s.etcd.no_auto_tls");
    assert_eq!(r.status, Warn, "{r:?}");
    assert!(
        r.objects[0].note.as_deref().unwrap().starts_with(
            "/etc/etcd/etcd.yaml changed at 2026-11-28T10:05:00Z, after etcd started at 2026-11-28T10:00:00Z: the running etcd may not have loaded this setting"
        ),
        "{r:?}"
    );
    assert_eq!(stale.run("k8s.etcd.no_peer_auto_tls").status, Fail);
    let r = node("2026-11-28T09:00:00Z").run("k8s.etcd.no_auto_tls");
    assert_eq!(r.status, Pass);
    assert_eq!(r.objects[0].note, None);
}

/// Cipher suites: every listed suite must be strong; unset falls back to Go's list.
#[test]
fn cipher_suites() {
    let run = |args: &[&str]| {
        KubeFixture::new()
            .component(API, args)
            .run("k8s.apiserver.strong_ciphers")
    };
    assert_eq!(
        run(&["--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256"])
            .status,
        Pass
    );
    let weak = run(&[
        "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_CBC_SHA",
    ]);
    assert_eq!(weak.status, Fail);
    assert!(weak
        .message
        .unwrap()
        .contains("TLS_RSA_WITH_AES_256_CBC_SHA"));
    assert_eq!(run(&[]).status, Fail);
}

/// A fix written to etcd's service environment file after etcd started is not in force: 2.2
/// and 2.5 still fail (the running etcd does not have it), and say which file holds the value
/// and that a restart applies it. A flag the command line sets, or an etcd with a configuration
/// file (which ignores its environment), would not take the file's value at a restart, so then
/// nothing is said about it.
#[test]
fn etcd_value_waiting_for_a_restart_is_named() {
    let file = "/etc/default/etcd";
    let node = |argv: &[&str]| {
        KubeFixture::new().component("etcd", argv).pending_etcd_env(
            file,
            &[
                ("ETCD_CLIENT_CERT_AUTH", "true"),
                ("ETCD_PEER_CLIENT_CERT_AUTH", "true"),
                ("ETCD_TRUSTED_CA_FILE", "/pki/ca.crt"),
            ],
        )
    };
    let tls = [
        "--cert-file=/pki/etcd.crt",
        "--key-file=/pki/etcd.key",
        "--listen-client-urls=https://127.0.0.1:2379",
    ];
    let f = node(&tls);
    let r = f.run("k8s.etcd.client_cert_auth");
    assert_eq!(r.status, Fail, "{r:?}");
    let m = r.message.as_deref().unwrap();
    assert!(
        m.contains("/etc/default/etcd sets ETCD_CLIENT_CERT_AUTH=true and ETCD_TRUSTED_CA_FILE=/pki/ca.crt, which the running etcd (pid ")
            && m.ends_with("does not have: restart etcd to apply them, then audit again"),
        "{m}"
    );
    let o = r.objects.iter().find(|o| o.kind == "process").unwrap();
    assert!(o.note.as_deref().unwrap().contains("restart etcd"), "{o:?}");
    let r = f.run("k8s.etcd.peer_client_cert_auth");
    assert_eq!(r.status, Fail);
    let m = r.message.as_deref().unwrap();
    assert!(
        m.contains("sets ETCD_PEER_CLIENT_CERT_AUTH=true,") && m.contains("apply it,"),
        "{m}"
    );
    // Not about a check that does not read the variable, nor about a pass.
    assert!(!f
        .run("k8s.etcd.no_auto_tls")
        .message
        .unwrap_or_default()
        .contains("restart"));
    // The command line decides: the file's value would not apply at a restart either. (An
    // empty --trusted-ca-file names no CA: etcd then asks for no certificate, so 2.2 fails and
    // 2.7 finds no CA of etcd's own.)
    let mut argv = tls.to_vec();
    argv.push("--client-cert-auth=false");
    argv.push("--trusted-ca-file=");
    let r = node(&argv).run("k8s.etcd.client_cert_auth");
    assert_eq!(r.status, Fail);
    assert!(!r.message.unwrap().contains(file));
    let r = node(&argv).run("k8s.etcd.unique_ca");
    assert_eq!(r.status, Fail, "{r:?}");
}

/// etcd: URLs served over plain HTTP fail 2.1 even with certificates; the same CA file as the
/// API server's client CA fails 2.7.
#[test]
fn etcd_tls_urls_and_unique_ca() {
    let f = KubeFixture::new()
        .component(API, &["--client-ca-file=/pki/ca.crt"])
        .component(
            "etcd",
            &[
                "--cert-file=/pki/etcd.crt",
                "--key-file=/pki/etcd.key",
                "--listen-client-urls=https://127.0.0.1:2379,http://10.0.0.1:2379",
                "--trusted-ca-file=/pki/ca.crt",
            ],
        );
    let r = f.run("k8s.etcd.client_tls");
    assert_eq!(r.status, Fail, "{r:?}");
    // The message of a failure says why, not the settings that pass.
    assert_eq!(
        r.message.as_deref(),
        Some("--listen-client-urls (command line): serves plain HTTP on http://10.0.0.1:2379"),
        "{r:?}"
    );
    assert_eq!(f.run("k8s.etcd.unique_ca").status, Fail);
    // Peer URLs in plain HTTP, and a peer key that is missing: both reasons, nothing passing.
    let f = KubeFixture::new()
        .component(
            "etcd",
            &[
                "--peer-cert-file=/pki/peer.crt",
                "--peer-key-file=/pki/peer.key",
                "--listen-peer-urls=http://10.0.0.1:2380",
            ],
        )
        .missing("/pki/peer.key");
    let r = f.run("k8s.etcd.peer_tls");
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("--listen-peer-urls (command line): serves plain HTTP on http://10.0.0.1:2380; --peer-key-file (command line): /pki/peer.key (/pki/peer.key does not exist on the node)"),
        "{r:?}"
    );
    // All well: every setting with its value.
    let f = KubeFixture::new().component(
        "etcd",
        &[
            "--cert-file=/pki/etcd.crt",
            "--key-file=/pki/etcd.key",
            "--listen-client-urls=https://127.0.0.1:2379",
        ],
    );
    let r = f.run("k8s.etcd.client_tls");
    assert_eq!(r.status, Pass, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("--cert-file (command line): /pki/etcd.crt; --key-file (command line): /pki/etcd.key")
    );
    let f = KubeFixture::new().component("etcd", &[]).etcd_env(&[
        ("ETCD_CLIENT_CERT_AUTH", "true"),
        ("ETCD_TRUSTED_CA_FILE", "/pki/etcd-ca.crt"),
        ("ETCD_AUTO_TLS", "false"),
        ("ETCD_CERT_FILE", "/pki/etcd.crt"),
        ("ETCD_KEY_FILE", "/pki/etcd.key"),
        ("ETCD_LISTEN_CLIENT_URLS", "https://127.0.0.1:2379"),
    ]);
    assert_eq!(f.run("k8s.etcd.client_cert_auth").status, Pass);
    assert_eq!(f.run("k8s.etcd.no_auto_tls").status, Pass);
}

/// 2.2 and 2.5 judge the authentication etcd enforces, not the switch alone: etcd asks for a
/// certificate when the switch is on or a trusted CA file is given, but not on plain-HTTP URLs
/// (its default ones included), and not under its automatic certificate, which replaces a side's
/// TLS settings (a real etcd 3.4 behaves so; see the real-etcd tests of bulkhead-kube-tests).
#[test]
fn etcd_client_cert_auth_must_be_in_effect() {
    let run = |args: &[&str], id: &str| KubeFixture::new().component("etcd", args).run(id);
    let r = run(&["--client-cert-auth=true"], "k8s.etcd.client_cert_auth");
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("--listen-client-urls not set (nor ETCD_LISTEN_CLIENT_URLS; default http://localhost:2379): http://localhost:2379 (--client-cert-auth (command line) asks for certificates, but etcd asks for none on plain-HTTP URLs (http://localhost:2379): clients connect there without one)")
    );
    let automatic = [
        "--client-cert-auth=true",
        "--auto-tls",
        "--listen-client-urls=https://127.0.0.1:2379",
    ];
    let r = run(&automatic, "k8s.etcd.client_cert_auth");
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("--auto-tls (command line): true (--client-cert-auth (command line) asks for certificates, but neither --cert-file nor --key-file is set: etcd serves its automatic certificate, which replaces these TLS settings and asks clients for none)")
    );
    let ev = r.objects[0].evidence.as_ref().unwrap();
    assert_eq!(
        (ev.field.as_str(), ev.actual.as_str(), ev.expected.as_str()),
        (
            "--auto-tls (command line)",
            "true",
            "false, or --cert-file and --key-file set"
        )
    );
    // With certificate files etcd does not use automatic TLS, and the switch holds...
    let files = [
        &automatic[..],
        &["--cert-file=/pki/etcd.crt", "--key-file=/pki/etcd.key"],
    ]
    .concat();
    let with_ca = [&files[..], &["--trusted-ca-file=/pki/etcd-ca.crt"]].concat();
    assert_eq!(run(&with_ca, "k8s.etcd.client_cert_auth").status, Pass);
    // ... but without a CA file of its own etcd checks client certificates against the host's
    // system trust store (a real etcd refuses the cluster's own; see bulkhead-kube-tests).
    let r = run(&files, "k8s.etcd.client_cert_auth");
    assert_eq!(r.status, Fail, "{r:?}");
    let ev = r.objects[0].evidence.as_ref().unwrap();
    assert_eq!(
        (ev.field.as_str(), ev.actual.as_str()),
        (
            "--trusted-ca-file not set (nor ETCD_TRUSTED_CA_FILE)",
            "none"
        )
    );
    assert!(
        r.message
            .unwrap()
            .contains("against the host's system trust store"),
        "the reason is given"
    );
    // A trusted CA file makes etcd ask for certificates without the switch...
    let ca = [
        "--cert-file=/pki/etcd.crt",
        "--key-file=/pki/etcd.key",
        "--listen-client-urls=https://127.0.0.1:2379",
        "--trusted-ca-file=/pki/etcd-ca.crt",
    ];
    let r = run(&ca, "k8s.etcd.client_cert_auth");
    assert_eq!(r.status, Pass, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("--trusted-ca-file (command line): /pki/etcd-ca.crt (--client-cert-auth is not on, but etcd requires a certificate signed by this CA from its clients whenever the CA file is given)")
    );
    // ... but not on plain HTTP.
    let r = run(
        &[&ca[..], &["--listen-client-urls=http://10.0.0.1:2379"]].concat(),
        "k8s.etcd.client_cert_auth",
    );
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(
        r.message
            .unwrap()
            .ends_with("(--trusted-ca-file (command line) asks for certificates, but etcd asks for none on plain-HTTP URLs (http://10.0.0.1:2379): clients connect there without one)")
    );
    // Peers alike, with their own settings.
    let r = run(
        &[
            "--peer-client-cert-auth=true",
            "--peer-auto-tls=true",
            "--listen-peer-urls=https://10.0.0.1:2380",
            "--cert-file=/pki/etcd.crt",
        ],
        "k8s.etcd.peer_client_cert_auth",
    );
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(
        r.message.unwrap().contains("asks peers for none"),
        "the client's certificate file is not the peers'"
    );
}

/// etcd given certificates but no listen URLs serves etcd's default, plain HTTP on localhost
/// (a real etcd 3.4 logs "serving insecure client requests on 127.0.0.1:2379" and answers
/// `curl http://localhost:2379/health`): the certificate files alone must not pass 2.1 or 2.4.
#[test]
fn etcd_default_listen_urls_are_plain_http() {
    let f = KubeFixture::new().component(
        "etcd",
        &[
            "--cert-file=/pki/etcd.crt",
            "--key-file=/pki/etcd.key",
            "--peer-cert-file=/pki/peer.crt",
            "--peer-key-file=/pki/peer.key",
            "--client-cert-auth=true",
        ],
    );
    let r = f.run("k8s.etcd.client_tls");
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("--listen-client-urls not set (nor ETCD_LISTEN_CLIENT_URLS; default http://localhost:2379): serves plain HTTP on http://localhost:2379"),
        "{r:?}"
    );
    let r = f.run("k8s.etcd.peer_tls");
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("--listen-peer-urls not set (nor ETCD_LISTEN_PEER_URLS; default http://localhost:2380): serves plain HTTP on http://localhost:2380"),
        "{r:?}"
    );
    // The same URLs set to https by environment: both pass.
    let f = f.etcd_env(&[
        ("ETCD_LISTEN_CLIENT_URLS", "https://127.0.0.1:2379"),
        ("ETCD_LISTEN_PEER_URLS", "https://10.0.0.10:2380"),
    ]);
    assert_eq!(f.run("k8s.etcd.client_tls").status, Pass);
    assert_eq!(f.run("k8s.etcd.peer_tls").status, Pass);
}

/// `--anonymous-auth false` (two words) reads as true: the verdict says so, and says how the
/// command line reads, since a person sees "false" there. `--anonymous-auth=false` gets no such
/// note.
#[test]
fn boolean_flag_written_as_two_words_is_explained() {
    let f = KubeFixture::new().component(
        "kubelet",
        &["--anonymous-auth", "false", "--authorization-mode=Webhook"],
    );
    let r = f.run("k8s.kubelet.anonymous_auth_disabled");
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(
        r.objects[0].note.as_deref(),
        Some("written `--anonymous-auth false`: a boolean flag does not take the next word, so it reads as true and `false` is a stray argument; to mean false, write --anonymous-auth=false"),
        "{r:?}"
    );
    assert!(
        r.message
            .as_deref()
            .unwrap()
            .starts_with("--anonymous-auth (command line): true (written `--anonymous-auth false`"),
        "{r:?}"
    );
    let f = KubeFixture::new().component(API, &["--profiling", "0", "--anonymous-auth=false"]);
    let r = f.run("k8s.apiserver.profiling_disabled");
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(
        r.objects[0]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("to mean 0, write --profiling=0")),
        "{r:?}"
    );
    let r = f.run("k8s.apiserver.anonymous_auth_disabled");
    assert_eq!(r.status, Pass, "{r:?}");
    assert_eq!(r.objects[0].note, None, "{r:?}");
}

/// Every evaluator returns a verdict with a reason on an empty node (nothing silently dropped).
#[test]
fn every_check_says_why_on_an_empty_snapshot() {
    let f = KubeFixture::new();
    for (id, eval) in super::EVALUATORS.iter().flat_map(|s| s.iter()) {
        let ctx = crate::engine::Context::new(&f.snapshot, &f.options);
        let r = eval(&ctx);
        assert!(
            r.message.as_deref().is_some_and(|m| !m.is_empty()),
            "{id}: {r:?}"
        );
    }
}

/// File sets: directories are judged for ownership, only files for modes; 0640 keys fail 0600.
#[test]
fn pki_file_set() {
    let f = KubeFixture::new()
        .component(API, &[])
        .file_set(
            "pki",
            &[
                "/etc/kubernetes/pki",
                "/etc/kubernetes/pki/ca.crt",
                "/etc/kubernetes/pki/ca.key",
            ],
        )
        .dir("/etc/kubernetes/pki", 0o755, 0, 0)
        .file("/etc/kubernetes/pki/ca.crt", 0o644, 0, 0)
        .file("/etc/kubernetes/pki/ca.key", 0o640, 0, 0);
    let keys = f.run("k8s.files.pki_key_mode");
    assert_eq!((keys.status, keys.objects.len()), (Fail, 1), "{keys:?}");
    let owners = f.run("k8s.files.pki_owner");
    assert_eq!(
        (owners.status, owners.objects.len()),
        (Pass, 3),
        "{owners:?}"
    );
}

/// Policies come from the dump only: without one they are not applicable with the way to get
/// one; with one, the default namespace check names what lives there.
#[test]
fn policies_need_a_dump() {
    let f = KubeFixture::new().component("kubelet", &[]);
    let r = f.run("k8s.general.no_default_namespace");
    assert_eq!(r.status, NotApplicable);
    assert!(r.message.unwrap().contains("--cluster-dump"));
    let f = KubeFixture::new().dump(vec![json!({"kind": "List", "items": [
        {"kind": "Pod", "metadata": {"name": "web", "namespace": "default"}, "spec": {"containers": [{"name": "c"}]}},
        {"kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "default"}}
    ]})]);
    let r = f.run("k8s.general.no_default_namespace");
    assert_eq!(r.status, Fail);
    assert_eq!(
        r.objects.len(),
        1,
        "the default service account itself is expected: {r:?}"
    );
}

/// A workload's template is judged whenever no Pod of the dump stands for it: a Deployment
/// scaled to zero and a CronJob between runs are not hidden by an unrelated Pod (a dump of a
/// real cluster always holds some).
#[test]
fn workload_templates_are_judged_beside_unrelated_pods() {
    let f = KubeFixture::new().dump(vec![json!({"kind": "List", "items": [
        {"kind": "Pod", "metadata": {"name": "fine", "namespace": "app"},
         "spec": {"containers": [{"name": "c"}]}},
        {"kind": "Deployment", "metadata": {"name": "admin", "namespace": "app"},
         "spec": {"replicas": 0, "template": {"spec": {"containers": [
            {"name": "tool", "securityContext": {"privileged": true}}]}}}},
        {"kind": "CronJob", "metadata": {"name": "nightly", "namespace": "app"},
         "spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostPID": true,
            "containers": [{"name": "job"}]}}}}}}
    ]})]);
    let r = f.run("k8s.pss.no_privileged");
    assert_eq!(r.status, Fail, "{r:?}");
    let failing: Vec<&str> = r
        .objects
        .iter()
        .filter(|o| o.status == Fail)
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(failing, ["app/Deployment admin container tool"], "{r:?}");
    let r = f.run("k8s.pss.no_host_pid");
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(
        r.objects
            .iter()
            .any(|o| o.status == Fail && o.name.contains("CronJob nightly")),
        "{r:?}"
    );
}

/// A workload whose Pods are in the dump is judged through them, as they run, and only once:
/// through its ReplicaSet, or, when the dump lacks the ReplicaSet, through the name the
/// Deployment gave it (NAME-HASH, HASH the Pod's pod-template-hash label). A ReplicaSet or Job
/// controlled by a workload of the dump is judged through its owner.
#[test]
fn a_workload_with_pods_in_the_dump_is_judged_through_them_once() {
    let template = json!({"spec": {"containers": [
        {"name": "web", "securityContext": {"privileged": true}}]}});
    let pod = |name: &str, owner: &str| {
        json!({"kind": "Pod", "metadata": {"name": name, "namespace": "app",
            "labels": {"pod-template-hash": "5d8f7c"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": owner, "controller": true}]},
         "spec": {"containers": [{"name": "web", "securityContext": {"privileged": false}}]}})
    };
    let deployment = json!({"kind": "Deployment", "metadata": {"name": "web", "namespace": "app"},
        "spec": {"template": template.clone()}});
    let replica_set = json!({"kind": "ReplicaSet", "metadata": {"name": "web-5d8f7c",
        "namespace": "app", "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": true}]},
        "spec": {"template": template}});
    for items in [
        vec![
            deployment.clone(),
            replica_set.clone(),
            pod("web-5d8f7c-x1", "web-5d8f7c"),
        ],
        vec![deployment.clone(), pod("web-5d8f7c-x1", "web-5d8f7c")],
    ] {
        let f = KubeFixture::new().dump(vec![json!({"kind": "List", "items": items})]);
        let r = f.run("k8s.pss.no_privileged");
        let names: Vec<&str> = r.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["app/web-5d8f7c-x1 container web"], "{r:?}");
        assert_eq!(r.status, Pass, "{r:?}");
    }
    // Without Pods, the Deployment's template is judged, and its ReplicaSet not a second time.
    let f = KubeFixture::new().dump(vec![
        json!({"kind": "List", "items": [deployment, replica_set]}),
    ]);
    let r = f.run("k8s.pss.no_privileged");
    let names: Vec<&str> = r.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["app/Deployment web container web"], "{r:?}");
    assert_eq!(r.status, Fail, "{r:?}");
}

/// A kubelet configuration file that cannot be parsed leaves every setting it could set
/// unknown: an error naming the file and the reason, never a default (with or without a valid
/// drop-in) nor an earlier file's value; a flag, or a later valid file that sets the key, is
/// still known.
#[test]
fn unparseable_kubelet_config_is_an_error_not_a_default() {
    use bulkhead_facts::Fact;
    let why = "/srv/kubelet/config.json: line 9 column 1: did not find expected ',' or '}'";
    let broken = |args: &[&str]| {
        KubeFixture::new()
            .component("kubelet", args)
            .kubelet_config(json!({}))
            .kubelet_config_unusable(why)
    };
    let config = ["--config=/srv/kubelet/config.json"];
    // No drop-in: not "no config file (command-line default true)".
    let f = broken(&config);
    for id in [
        "k8s.kubelet.anonymous_auth_disabled",
        "k8s.kubelet.authorization_not_always_allow",
        "k8s.kubelet.read_only_port_disabled",
        "k8s.kubelet.tls_cert",
        "k8s.kubelet.rotate_server_certificate",
        "k8s.kubelet.client_ca",
        "k8s.files.kubelet_client_ca_mode",
    ] {
        let r = f.run(id);
        assert_eq!(r.status, Error, "{id}: {r:?}");
        let m = r.message.as_deref().unwrap();
        assert!(
            m.contains("/srv/kubelet/config.json (kubelet --config) could set it")
                && m.contains("line 9 column 1"),
            "{id}: {m}"
        );
    }
    // A valid drop-in: what it sets is known, the rest is not (no KubeletConfiguration default).
    let f = broken(&config).kubelet_drop_in(
        "50-authz.conf",
        Fact::Value(json!({"authorization": {"mode": "Webhook"}})),
    );
    assert_eq!(
        f.run("k8s.kubelet.authorization_not_always_allow").status,
        Pass
    );
    let r = f.run("k8s.kubelet.anonymous_auth_disabled");
    assert_eq!(r.status, Error, "{r:?}");
    assert!(r.message.as_deref().unwrap().starts_with(
        "--anonymous-auth is not on the command line, and authentication.anonymous.enabled is unknown"
    ));
    assert_eq!(r.objects[0].status, Error);
    // A flag is known whatever the files hold.
    let f = broken(&[
        "--config=/srv/kubelet/config.json",
        "--anonymous-auth=false",
    ]);
    assert_eq!(f.run("k8s.kubelet.anonymous_auth_disabled").status, Pass);
    // A broken later drop-in could override the earlier one's value.
    let f = KubeFixture::new()
        .component("kubelet", &config)
        .kubelet_config(json!({"authentication": {"anonymous": {"enabled": false}}}))
        .kubelet_drop_in(
            "50-authz.conf",
            Fact::Value(json!({"authorization": {"mode": "Webhook"}})),
        )
        .kubelet_drop_in(
            "99-bad.conf",
            Fact::Unavailable(
                "/etc/kubernetes/kubelet.conf.d/99-bad.conf: line 5 column 1: bad".into(),
            ),
        );
    for id in [
        "k8s.kubelet.authorization_not_always_allow",
        "k8s.kubelet.anonymous_auth_disabled",
    ] {
        let r = f.run(id);
        assert_eq!(r.status, Error, "{id}: {r:?}");
        assert!(
            r.message
                .as_deref()
                .unwrap()
                .contains("99-bad.conf (kubelet --config-dir) could set it but could not be used: line 5 column 1: bad"),
            "{id}: {r:?}"
        );
    }
}

/// Drop-ins without a `--config` file merge over the command-line defaults (anonymous access,
/// AlwaysAllow), not the KubeletConfiguration ones.
#[test]
fn kubelet_drop_ins_alone_keep_the_command_line_defaults() {
    let f = KubeFixture::new()
        .component("kubelet", &["--config-dir=/etc/kubernetes/kubelet.conf.d"])
        .kubelet_drop_in(
            "50-port.conf",
            bulkhead_facts::Fact::Value(json!({"readOnlyPort": 0})),
        );
    let r = f.run("k8s.kubelet.anonymous_auth_disabled");
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(r
        .message
        .as_deref()
        .unwrap()
        .contains("command-line default true"));
    assert_eq!(f.run("k8s.kubelet.read_only_port_disabled").status, Pass);
}

/// 4.2.9 and 4.2.11: server TLS bootstrap counts only while the RotateKubeletServerCertificate
/// gate is on (the kubelet refuses it otherwise); a gate on the command line beats the file.
#[test]
fn server_tls_bootstrap_needs_the_rotation_gate() {
    let node = |args: &[&str], cfg: serde_json::Value| {
        let mut all = vec!["--config=/srv/kubelet/config.json"];
        all.extend_from_slice(args);
        KubeFixture::new()
            .component("kubelet", &all)
            .kubelet_config(cfg)
    };
    let gated_off = json!({
        "serverTLSBootstrap": true,
        "featureGates": {"RotateKubeletServerCertificate": false}
    });
    let f = node(&[], gated_off.clone());
    let r = f.run("k8s.kubelet.tls_cert");
    assert_eq!(r.status, Fail, "{r:?}");
    let note = r.objects[0].note.as_deref().unwrap();
    assert!(
        note.contains("RotateKubeletServerCertificate gate, which is off (featureGates.RotateKubeletServerCertificate (/srv/kubelet/config.json): false)"),
        "{note}"
    );
    assert!(r.message.as_deref().unwrap().contains("which is off"));
    assert_eq!(f.run("k8s.kubelet.rotate_server_certificate").status, Fail);
    // The gate left at its default.
    let f = node(&[], json!({"serverTLSBootstrap": true}));
    assert_eq!(f.run("k8s.kubelet.tls_cert").status, Pass);
    assert_eq!(f.run("k8s.kubelet.rotate_server_certificate").status, Pass);
    // The command line turns the gate on over the file.
    let f = node(
        &["--feature-gates=RotateKubeletServerCertificate=true"],
        gated_off,
    );
    assert_eq!(f.run("k8s.kubelet.tls_cert").status, Pass);
    assert_eq!(f.run("k8s.kubelet.rotate_server_certificate").status, Pass);
    // ...and off over the file.
    let f = node(
        &["--feature-gates=RotateKubeletServerCertificate=false"],
        json!({"serverTLSBootstrap": true}),
    );
    assert_eq!(f.run("k8s.kubelet.tls_cert").status, Fail);
}

/// 1.1.1 to 1.1.8: with the kubelet's configuration that could name the static pod directory
/// unusable, the conventional manifests are a guess, so the checks report an error naming the
/// file and the reason (a `--pod-manifest-path` flag still names it); where the kubelet names no
/// directory, or no kubelet runs, the verdicts say the path is assumed.
#[test]
fn manifest_checks_on_an_unknown_static_pod_directory_are_errors() {
    let manifests = [
        ("k8s.files.apiserver_manifest_mode", "apiserver_manifest"),
        ("k8s.files.apiserver_manifest_owner", "apiserver_manifest"),
        (
            "k8s.files.controller_manager_manifest_mode",
            "controller_manager_manifest",
        ),
        (
            "k8s.files.controller_manager_manifest_owner",
            "controller_manager_manifest",
        ),
        ("k8s.files.scheduler_manifest_mode", "scheduler_manifest"),
        ("k8s.files.scheduler_manifest_owner", "scheduler_manifest"),
        ("k8s.files.etcd_manifest_mode", "etcd_manifest"),
        ("k8s.files.etcd_manifest_owner", "etcd_manifest"),
    ];
    let node = |kubelet_args: &[&str]| {
        let mut f = KubeFixture::new()
            .component(API, &[])
            .component("kubelet", kubelet_args);
        for (_, role) in manifests {
            let path = format!("/etc/kubernetes/manifests/{role}.yaml");
            f = f.path(role, &path, false).file(&path, 0o644, 0, 0);
        }
        f
    };
    let why = "/srv/kubelet/config.json: line 3, column 16: staticPodPath is the number 7, but the kubelet decodes it as a string (quote it) and does not start with this file";
    let f = node(&["--config=/srv/kubelet/config.json"])
        .kubelet_config(json!({}))
        .kubelet_config_unusable(why);
    for (id, _) in manifests {
        let r = f.run(id);
        assert_eq!(r.status, Error, "{id}: {r:?}");
        let m = r.message.as_deref().unwrap();
        assert!(
            m.starts_with("the kubelet's static pod directory is unknown, so /etc/kubernetes/manifests/")
                && m.contains("/srv/kubelet/config.json (kubelet --config) could set it but could not be used: line 3, column 16: staticPodPath is the number 7"),
            "{id}: {m}"
        );
        assert_eq!(r.objects[0].status, Error, "{id}");
    }
    // The flag names the directory whatever the file holds: judged, and not assumed.
    let f = node(&[
        "--config=/srv/kubelet/config.json",
        "--pod-manifest-path=/etc/kubernetes/manifests",
    ])
    .kubelet_config(json!({}))
    .kubelet_config_unusable(why);
    let r = f.run("k8s.files.apiserver_manifest_mode");
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(!r.message.as_deref().unwrap().contains("assumed"), "{r:?}");
    // A readable configuration without staticPodPath: judged, and the path said to be assumed.
    let f = node(&["--config=/srv/kubelet/config.json"])
        .kubelet_config(json!({"kind": "KubeletConfiguration"}));
    let r = f.run("k8s.files.apiserver_manifest_mode");
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(
        r.message.as_deref().unwrap().contains(
            "path assumed, as the kubelet names no static pod directory (no staticPodPath or --pod-manifest-path)"
        ),
        "{r:?}"
    );
    let r = f.run("k8s.files.apiserver_manifest_owner");
    assert_eq!(r.status, Pass, "{r:?}");
    assert!(
        r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .starts_with("path assumed"),
        "{r:?}"
    );
    // No kubelet at all: assumed too.
    let f = KubeFixture::new()
        .component(API, &[])
        .path("apiserver_manifest", "/m.yaml", false)
        .file("/m.yaml", 0o600, 0, 0);
    let r = f.run("k8s.files.apiserver_manifest_mode");
    assert_eq!(r.status, Pass, "{r:?}");
    assert_eq!(
        r.objects[0].note.as_deref(),
        Some("path assumed, as no kubelet runs on this node to name its static pod directory")
    );
}

/// etcd started with a `--config-file` takes every setting from it and ignores its flags and
/// `ETCD_*` environment. When bulkhead could not use that file (missing, unreadable, not YAML,
/// refused by etcd), every etcd check is an error naming the file and the reason: not a fail on
/// etcd's defaults, nor a verdict on flags etcd ignores. A usable file is judged on its values.
#[test]
fn etcd_config_file_that_could_not_be_used_is_an_error_not_a_fail() {
    use bulkhead_facts::kube::{ConfigFile, ETCD};
    use bulkhead_facts::Fact;
    const CHECKS: [&str; 7] = [
        "k8s.etcd.client_tls",
        "k8s.etcd.client_cert_auth",
        "k8s.etcd.no_auto_tls",
        "k8s.etcd.peer_tls",
        "k8s.etcd.peer_client_cert_auth",
        "k8s.etcd.no_peer_auto_tls",
        "k8s.etcd.unique_ca",
    ];
    let with_config = |content: Fact<serde_json::Value>| {
        let mut f = KubeFixture::new()
            .component(
                "etcd",
                &[
                    "--config-file=/etc/etcd/etcd.yaml",
                    "--client-cert-auth=true",
                    "--cert-file=/pki/etcd.crt",
                    "--key-file=/pki/etcd.key",
                    "--listen-client-urls=https://127.0.0.1:2379",
                ],
            )
            .etcd_env(&[("ETCD_PEER_AUTO_TLS", "false")]);
        f.kube().components.get_mut(ETCD).unwrap().config = Some(ConfigFile {
            path: "/etc/etcd/etcd.yaml".into(),
            source: "etcd --config-file".into(),
            content,
            modified_at: None,
        });
        f
    };
    for why in [
        "/etc/etcd/etcd.yaml: not found under the audited root, yet etcd --config-file names it and etcd does not start without it (is the host's root mounted at --root?)",
        "cannot read /etc/etcd/etcd.yaml: Permission denied (os error 13)",
        "/etc/etcd/etcd.yaml: line 3, column 5: invalid YAML: did not find expected key",
    ] {
        let f = with_config(Fact::Unavailable(why.into()));
        for id in CHECKS {
            let r = f.run(id);
            assert_eq!(r.status, Error, "{id}: {r:?}");
            let m = r.message.as_deref().unwrap();
            assert!(
                m.contains("etcd takes its settings only from /etc/etcd/etcd.yaml (etcd --config-file)")
                    && m.ends_with(why),
                "{id}: {m}"
            );
            assert_eq!(r.objects[0].status, Error, "{id}");
            assert_eq!(r.objects[0].note.as_deref(), Some(m), "{id}");
        }
        assert!(f
            .run("k8s.etcd.client_cert_auth")
            .message
            .unwrap()
            .starts_with("client-transport-security.client-cert-auth is unknown: "));
    }
    // A usable file is what counts, whatever the flags say: client-cert-auth is false there.
    let f = with_config(Fact::Value(json!({
        "client-transport-security": {
            "cert-file": "/pki/etcd.crt",
            "key-file": "/pki/etcd.key",
            "client-cert-auth": false
        },
        "listen-client-urls": "https://127.0.0.1:2379",
        "peer-transport-security": {"auto-tls": true}
    })));
    let r = f.run("k8s.etcd.client_cert_auth");
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("client-transport-security.client-cert-auth (/etc/etcd/etcd.yaml): false")
    );
    assert_eq!(f.run("k8s.etcd.client_tls").status, Pass);
    assert_eq!(f.run("k8s.etcd.no_auto_tls").status, Pass);
    assert_eq!(f.run("k8s.etcd.no_peer_auto_tls").status, Fail);
    // Unset in the file: etcd's default, not the flag or the variable.
    let r = f.run("k8s.etcd.peer_tls");
    assert_eq!(r.status, Fail, "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("listen-peer-urls not set in /etc/etcd/etcd.yaml (default http://localhost:2380): serves plain HTTP on http://localhost:2380; peer-transport-security.cert-file not set in /etc/etcd/etcd.yaml: none; peer-transport-security.key-file not set in /etc/etcd/etcd.yaml: none"),
        "{r:?}"
    );
}

/// etcd takes `data-dir` (and the `name` its default directory derives from) only from its
/// `--config-file` when it has one. When that file could not be used, the data directory is
/// unknown: 1.1.11 and 1.1.12 are errors naming the file and the reason, even where a snapshot
/// still records a guessed path, and never a verdict on the `--data-dir` flag etcd ignores.
#[test]
fn etcd_data_dir_checks_error_when_the_config_file_could_not_be_used() {
    use bulkhead_facts::kube::{ConfigFile, ETCD};
    use bulkhead_facts::Fact;
    let with_config = |content: Fact<serde_json::Value>| {
        let mut f = KubeFixture::new()
            .component(
                "etcd",
                &[
                    "--config-file=/etc/etcd/etcd.yaml",
                    "--data-dir=/var/lib/etcd",
                ],
            )
            .path("etcd_data_dir", "/var/lib/etcd", true)
            .dir("/var/lib/etcd", 0o700, 998, 997);
        f.kube().components.get_mut(ETCD).unwrap().config = Some(ConfigFile {
            path: "/etc/etcd/etcd.yaml".into(),
            source: "etcd --config-file".into(),
            content,
            modified_at: None,
        });
        f
    };
    let why = "cannot read /etc/etcd/etcd.yaml: Permission denied (os error 13)";
    let f = with_config(Fact::Unavailable(why.into()));
    for id in [
        "k8s.files.etcd_data_dir_mode",
        "k8s.files.etcd_data_dir_owner",
    ] {
        let r = f.run(id);
        assert_eq!(r.status, Error, "{id}: {r:?}");
        let m = r.message.as_deref().unwrap();
        assert!(
            m.starts_with("the etcd data directory is unknown, so no directory is judged: data-dir is unknown: etcd takes its settings only from /etc/etcd/etcd.yaml (etcd --config-file)")
                && m.ends_with(why),
            "{id}: {m}"
        );
        assert_eq!(r.objects[0].status, Error, "{id}");
        assert_eq!(r.objects[0].kind, "process", "{id}");
    }
    // A usable file: the directory the collector resolved from it is judged.
    let f = with_config(Fact::Value(json!({"data-dir": "/var/lib/etcd"})));
    assert_eq!(f.run("k8s.files.etcd_data_dir_mode").status, Pass);
    assert_eq!(f.run("k8s.files.etcd_data_dir_owner").status, Pass);
}

/// kube-proxy started with `--config` takes every setting from that file and ignores its flags:
/// the file's metricsBindAddress decides 4.3.1 (its default when unset), a flag beside it is
/// named as ignored, and a file kube-proxy could not use leaves the address unknown. Without
/// `--config`, the flag decides. Hosts are judged as addresses: any loopback one passes,
/// bracketed or bare IPv6 included.
#[test]
fn kube_proxy_config_file_beats_its_flags() {
    use bulkhead_facts::Fact;
    const CFG: &str = "/var/lib/kube-proxy/config.conf";
    let proxy = |args: &[&str], cfg: Option<Fact<serde_json::Value>>| {
        let f = KubeFixture::new().component("kube-proxy", args);
        match cfg {
            Some(c) => f.proxy_config(CFG, c),
            None => f,
        }
    };
    let r = proxy(
        &[
            "--config=/var/lib/kube-proxy/config.conf",
            "--metrics-bind-address=127.0.0.1:10249",
        ],
        Some(Fact::Value(
            json!({"kind": "KubeProxyConfiguration", "metricsBindAddress": "0.0.0.0:10249"}),
        )),
    )
    .run("k8s.proxy.metrics_localhost");
    assert_eq!(r.status, Fail, "{r:?}");
    let o = &r.objects[0];
    assert_eq!(
        o.evidence.as_ref().unwrap().field,
        format!("metricsBindAddress ({CFG})")
    );
    assert!(
        o.note
            .as_deref()
            .unwrap()
            .contains("--metrics-bind-address=127.0.0.1:10249 on the command line is ignored"),
        "{o:?}"
    );
    // Unset in the file: the default, whatever the flag says.
    let r = proxy(
        &[
            "--config=/var/lib/kube-proxy/config.conf",
            "--metrics-bind-address=0.0.0.0:10249",
        ],
        Some(Fact::Value(json!({"kind": "KubeProxyConfiguration"}))),
    )
    .run("k8s.proxy.metrics_localhost");
    assert_eq!(r.status, Pass, "{r:?}");
    assert_eq!(
        r.objects[0].evidence.as_ref().unwrap().actual,
        "127.0.0.1:10249"
    );
    let r = proxy(
        &["--config=/var/lib/kube-proxy/config.conf"],
        Some(Fact::Unavailable(format!("{CFG}: its kind is \"Pod\", not KubeProxyConfiguration, and kube-proxy does not start with it"))),
    )
    .run("k8s.proxy.metrics_localhost");
    assert_eq!(r.status, Error, "{r:?}");
    assert!(r
        .message
        .as_deref()
        .unwrap()
        .contains("not KubeProxyConfiguration"));
    for (addr, want) in [
        ("0.0.0.0:10249", Fail),
        ("[::]:10249", Fail),
        ("10.0.0.5", Fail),
        ("127.0.0.2:10249", Pass),
        ("[::1]:10249", Pass),
        ("::1", Pass),
        ("localhost:10249", Pass),
    ] {
        let flag = format!("--metrics-bind-address={addr}");
        let r = proxy(&[flag.as_str()], None).run("k8s.proxy.metrics_localhost");
        assert_eq!(r.status, want, "{addr}: {r:?}");
    }
}

/// kube-proxy's kubeconfig (4.1.3, 4.1.4) is the one its `--config` file names; a `--kubeconfig`
/// flag beside it is ignored and said to be; a file that could not be used is an error.
#[test]
fn kube_proxy_kubeconfig_comes_from_its_config_file() {
    use bulkhead_facts::Fact;
    let base = || {
        KubeFixture::new().component(
            "kube-proxy",
            &[
                "--config=/var/lib/kube-proxy/config.conf",
                "--kubeconfig=/etc/kubernetes/proxy.conf",
            ],
        )
    };
    let f = base()
        .proxy_config(
            "/var/lib/kube-proxy/config.conf",
            Fact::Value(json!({"kind": "KubeProxyConfiguration", "clientConnection": {"kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf"}})),
        )
        .path("proxy_kubeconfig", "/var/lib/kube-proxy/kubeconfig.conf", true)
        .file("/var/lib/kube-proxy/kubeconfig.conf", 0o644, 0, 0);
    let r = f.run("k8s.files.proxy_kubeconfig_mode");
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(
        r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("--kubeconfig=/etc/kubernetes/proxy.conf on the command line is ignored"),
        "{r:?}"
    );
    let r = base()
        .proxy_config(
            "/var/lib/kube-proxy/config.conf",
            Fact::Unavailable("cannot read /var/lib/kube-proxy/config.conf: denied".into()),
        )
        .run("k8s.files.proxy_kubeconfig_owner");
    assert_eq!(r.status, Error, "{r:?}");
    let r = base()
        .proxy_config(
            "/var/lib/kube-proxy/config.conf",
            Fact::Value(json!({"kind": "KubeProxyConfiguration"})),
        )
        .run("k8s.files.proxy_kubeconfig_mode");
    assert_eq!(r.status, NotApplicable, "{r:?}");
    assert!(r
        .message
        .as_deref()
        .unwrap()
        .contains("in-cluster credentials; --kubeconfig="));
}

/// kube-scheduler started with `--config` ignores its deprecated `--profiling` and
/// `--kubeconfig` flags: enableProfiling of the file decides 1.4.1 (true when unset), and the
/// file's clientConnection.kubeconfig is the kubeconfig of 1.1.15 and 1.1.16.
#[test]
fn kube_scheduler_config_file_beats_its_deprecated_flags() {
    use bulkhead_facts::Fact;
    const CFG: &str = "/etc/kubernetes/scheduler-config.yaml";
    let sched = |args: &[&str], content: Fact<serde_json::Value>| {
        KubeFixture::new()
            .component("kube-scheduler", args)
            .component_config("kube-scheduler", CFG, content)
    };
    let with_flag = [
        "--config=/etc/kubernetes/scheduler-config.yaml",
        "--profiling=false",
        "--kubeconfig=/etc/kubernetes/scheduler.conf",
    ];
    let r = sched(
        &with_flag,
        Fact::Value(json!({"kind": "KubeSchedulerConfiguration"})),
    )
    .run("k8s.scheduler.profiling_disabled");
    assert_eq!(r.status, Fail, "{r:?}");
    let o = &r.objects[0];
    assert_eq!(o.evidence.as_ref().unwrap().actual, "true");
    assert!(
        o.note
            .as_deref()
            .unwrap()
            .contains("--profiling=false on the command line is ignored"),
        "{o:?}"
    );
    let r = sched(
        &[
            "--config=/etc/kubernetes/scheduler-config.yaml",
            "--profiling=true",
        ],
        Fact::Value(json!({"kind": "KubeSchedulerConfiguration", "enableProfiling": false})),
    )
    .run("k8s.scheduler.profiling_disabled");
    assert_eq!(r.status, Pass, "{r:?}");
    let r = sched(&with_flag, Fact::Value(json!({"enableProfiling": "false"})))
        .run("k8s.scheduler.profiling_disabled");
    assert_eq!(
        r.status, Error,
        "a quoted boolean stops the scheduler: {r:?}"
    );
    let r = sched(
        &with_flag,
        Fact::Unavailable(format!("cannot read {CFG}: denied")),
    )
    .run("k8s.scheduler.profiling_disabled");
    assert_eq!(r.status, Error, "{r:?}");
    // The kubeconfig: the file's, with the flag named as ignored; unknown when the file is.
    let f = sched(
        &with_flag,
        Fact::Value(json!({"kind": "KubeSchedulerConfiguration", "clientConnection": {"kubeconfig": "/etc/kubernetes/sched.kubeconfig"}})),
    )
    .path("scheduler_kubeconfig", "/etc/kubernetes/sched.kubeconfig", true)
    .file("/etc/kubernetes/sched.kubeconfig", 0o644, 0, 0);
    let r = f.run("k8s.files.scheduler_conf_mode");
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(r.objects[0]
        .note
        .as_deref()
        .unwrap()
        .contains("--kubeconfig=/etc/kubernetes/scheduler.conf on the command line is ignored"));
    assert_eq!(f.run("k8s.files.scheduler_conf_owner").status, Pass);
    let r = sched(
        &with_flag,
        Fact::Unavailable(format!("cannot read {CFG}: denied")),
    )
    .run("k8s.files.scheduler_conf_owner");
    assert_eq!(r.status, Error, "{r:?}");
}

/// The deprecated `--admission-control` names every admission plugin that runs: those listed
/// are on, and the ones on by default that it leaves out are off. With
/// `--enable-admission-plugins` beside it the API server does not start: an error, no verdict.
#[test]
fn deprecated_admission_control_lists_every_plugin_that_runs() {
    let f = KubeFixture::new().component(
        API,
        &["--admission-control=NamespaceLifecycle,NodeRestriction,AlwaysAdmit"],
    );
    for (id, want) in [
        ("k8s.apiserver.admission_no_always_admit", Fail),
        ("k8s.apiserver.admission_service_account", Fail),
        ("k8s.apiserver.admission_namespace_lifecycle", Pass),
        ("k8s.apiserver.admission_node_restriction", Pass),
        ("k8s.apiserver.admission_event_rate_limit", Fail),
    ] {
        let r = f.run(id);
        assert_eq!(r.status, want, "{id}: {r:?}");
        assert_eq!(
            r.objects[0].evidence.as_ref().unwrap().field,
            "--admission-control (command line)",
            "{id}"
        );
    }
    let note = f.run("k8s.apiserver.admission_service_account").objects[0]
        .note
        .clone()
        .unwrap();
    assert!(
        note.ends_with("ServiceAccount is not listed, so it is off"),
        "{note}"
    );
    let both = KubeFixture::new().component(
        API,
        &[
            "--admission-control=NodeRestriction",
            "--enable-admission-plugins=NodeRestriction",
        ],
    );
    assert_eq!(
        both.run("k8s.apiserver.admission_node_restriction").status,
        Error
    );
}

/// 4.2.10 is judged on the kubelet's effective value: unset, the kubelet's default is false
/// (with a configuration file or without), so its client certificate is never renewed.
#[test]
fn kubelet_rotate_certificates_unset_is_false() {
    let r = KubeFixture::new()
        .component("kubelet", &["--config=/srv/kubelet/config.json"])
        .kubelet_config(json!({"kind": "KubeletConfiguration"}))
        .run("k8s.kubelet.rotate_certificates");
    assert_eq!(r.status, Fail, "{r:?}");
    assert!(r
        .message
        .as_deref()
        .unwrap()
        .contains("the kubelet's default is false"));
    let r = KubeFixture::new()
        .component("kubelet", &["--config=/srv/kubelet/config.json"])
        .kubelet_config(json!({"rotateCertificates": true}))
        .run("k8s.kubelet.rotate_certificates");
    assert_eq!(r.status, Pass, "{r:?}");
}

/// A kubelet flag its systemd unit put on the command line through a variable is traced to the
/// file that holds it, the place to change it; two places are both named. A variable whose words
/// the running command line does not hold (a file edited since the kubelet started) is not.
#[test]
fn kubelet_flags_are_traced_to_the_service_files_that_hold_them() {
    let f = KubeFixture::new()
        .component(
            "kubelet",
            &[
                "--config=/var/lib/kubelet/config.yaml",
                "--read-only-port",
                "10255",
                "--read-only-port=10255",
                "--anonymous-auth=false",
            ],
        )
        .kubelet_config(json!({"readOnlyPort": 0}))
        .service_env(
            "kubelet",
            "/etc/default/kubelet",
            &[(
                "KUBELET_EXTRA_ARGS",
                "--read-only-port=10255 --anonymous-auth=false",
            )],
        )
        .service_env(
            "kubelet",
            "/var/lib/kubelet/kubeadm-flags.env",
            &[("KUBELET_KUBEADM_ARGS", "--read-only-port 10255")],
        )
        .service_env(
            "kubelet",
            "/etc/sysconfig/kubelet",
            &[("KUBELET_EXTRA_ARGS", "--read-only-port=0")],
        );
    let r = f.run("k8s.kubelet.read_only_port_disabled");
    assert_eq!(r.status, Fail, "{r:?}");
    let note = r.objects[0].note.clone().unwrap();
    assert_eq!(
        note,
        "written in $KUBELET_EXTRA_ARGS of /etc/default/kubelet and $KUBELET_KUBEADM_ARGS of /var/lib/kubelet/kubeadm-flags.env (the kubelet's systemd unit expands them into the command line; the last one there wins): change them there"
    );
    let r = f.run("k8s.kubelet.anonymous_auth_disabled");
    assert_eq!(r.status, Pass);
    assert!(r.message.as_deref().unwrap().ends_with("written in $KUBELET_EXTRA_ARGS of /etc/default/kubelet (the kubelet's systemd unit expands it into the command line): change it there"));
    // A setting from the configuration file is not traced to the unit.
    let r = f.run("k8s.kubelet.authorization_not_always_allow");
    assert!(r.objects.iter().all(|o| o.note.is_none()), "{r:?}");
}

/// 1.3.7 and 1.4.2: any loopback address passes; with `--secure-port=0` nothing listens.
#[test]
fn bind_address_checks_read_addresses_and_the_secure_port() {
    for (args, want) in [
        (vec!["--bind-address=127.0.0.1"], Pass),
        (vec!["--bind-address=::1"], Pass),
        (vec!["--bind-address=0.0.0.0"], Fail),
        (vec![], Fail),
        (vec!["--secure-port=0"], Pass),
        (vec!["--secure-port=10259", "--bind-address=10.0.0.1"], Fail),
    ] {
        let r = KubeFixture::new()
            .component("kube-scheduler", &args)
            .run("k8s.scheduler.bind_localhost");
        assert_eq!(r.status, want, "{args:?}: {r:?}");
        let r = KubeFixture::new()
            .component("kube-controller-manager", &args)
            .run("k8s.controller_manager.bind_localhost");
        assert_eq!(r.status, want, "{args:?}: {r:?}");
    }
}

/// 1.1.13 and 1.1.14 on a control-plane node that keeps no administrator kubeconfig (removed
/// once the cluster was set up): not applicable, and the message says which files are absent
/// rather than counting them.
#[test]
fn removed_admin_kubeconfigs_are_named_as_absent() {
    let f = KubeFixture::new()
        .component(API, &[])
        .path("admin_conf", "/etc/kubernetes/admin.conf", false)
        .path(
            "super_admin_conf",
            "/etc/kubernetes/super-admin.conf",
            false,
        )
        .missing("/etc/kubernetes/admin.conf")
        .missing("/etc/kubernetes/super-admin.conf");
    for id in ["k8s.files.admin_conf_mode", "k8s.files.admin_conf_owner"] {
        let r = f.run(id);
        assert_eq!(r.status, NotApplicable, "{id}: {r:?}");
        assert_eq!(
            r.message.as_deref(),
            Some("no administrator kubeconfig is kept on this node: /etc/kubernetes/admin.conf (kubeadm default), /etc/kubernetes/super-admin.conf (kubeadm default) do not exist"),
            "{id}"
        );
    }
    // One present: judged, the absent one stays not applicable beside it.
    let f = KubeFixture::new()
        .component(API, &[])
        .path("admin_conf", "/etc/kubernetes/admin.conf", false)
        .path(
            "super_admin_conf",
            "/etc/kubernetes/super-admin.conf",
            false,
        )
        .file("/etc/kubernetes/admin.conf", 0o644, 0, 0)
        .missing("/etc/kubernetes/super-admin.conf");
    assert_eq!(f.run("k8s.files.admin_conf_mode").status, Fail);
}

/// A flag k3s passed from its configuration file is a flag the process started with, like one
/// on the command line: a kubelet configuration file newer than the process does not make it
/// "not loaded yet". Defaults and configuration-file values are not flags.
#[test]
fn flags_from_a_k3s_configuration_file_are_given_to_the_process() {
    use super::given_as_flag;
    assert!(given_as_flag("--anonymous-auth (command line)"));
    assert!(given_as_flag(
        "--anonymous-auth (/etc/rancher/k3s/config.yaml, line 3)"
    ));
    assert!(given_as_flag(
        "--tls-cipher-suites (/etc/rancher/k3s/config.yaml, line 3; command line)"
    ));
    assert!(given_as_flag(
        "--feature-gates RotateKubeletServerCertificate (/etc/rancher/k3s/config.yaml.d/a.yaml, line 1)"
    ));
    assert!(!given_as_flag(
        "authentication.anonymous.enabled (/var/lib/kubelet/config.yaml)"
    ));
    assert!(!given_as_flag("--anonymous-auth not set (default true)"));
    assert!(!given_as_flag(
        "--read-only-port / readOnlyPort not set (KubeletConfiguration default 0)"
    ));
    assert!(!given_as_flag("ETCD_CLIENT_CERT_AUTH (/etc/default/etcd)"));
}
