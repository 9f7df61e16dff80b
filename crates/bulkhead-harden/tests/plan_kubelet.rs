//! Kubelet configuration fixes judged before they claim anything: the planned file texts are
//! decoded as the kubelet decodes them, put in place of the kubelet's configuration in the
//! snapshot, and the real evaluators audit the result. A file the kubelet refuses (no
//! apiVersion/kind, a value of the wrong JSON type) is never edited, nor is any fix planned
//! while the kubelet would refuse one of its files on the restart the fix needs. A fix that sets `serverTLSBootstrap` also
//! turns on the feature gate the kubelet needs for it (it refuses to start otherwise); a gate
//! turned off on the command line, or a later drop-in that cannot be read, leaves the check
//! unfixed with the reason instead of a claim the edit would not keep.

mod common;

use bulkhead_checks::Status;
use bulkhead_facts::kube::*;
use bulkhead_facts::{Fact, Snapshot};
use bulkhead_harden::{plan, FixKind};
use common::{kube_audit, kube_component, kube_node, put, request, status, temp_root};
use serde_json::Value;
use std::path::Path;

const CONFIG: &str = "/var/lib/kubelet/custom.yaml";

/// The insecure node's kubelet configuration (bulkhead-kube-tests): anonymous access,
/// AlwaysAllow, no rotation, and the server-certificate gate turned off.
const INSECURE: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /etc/kubernetes/manifests\nauthentication:\n  anonymous:\n    enabled: true\nauthorization:\n  mode: AlwaysAllow\nstreamingConnectionIdleTimeout: 0s\nrotateCertificates: false\nfeatureGates:\n  RotateKubeletServerCertificate: false\n";

fn parse(text: &str) -> Fact<Value> {
    match bulkhead_sources::yaml::parse(text) {
        Ok(docs) => Fact::Value(docs[0].root.to_json(bulkhead_sources::yaml::Schema::Yaml11)),
        Err(e) => Fact::Unavailable(e.to_string()),
    }
}

fn config_file(path: &str, source: &str, content: Fact<Value>) -> ConfigFile {
    ConfigFile {
        path: path.into(),
        source: source.into(),
        content,
        modified_at: None,
    }
}

/// A node running only a kubelet with `args`, its `--config` file holding `text`.
fn node(root: &Path, args: &[&str], text: &str) -> Snapshot {
    put(root, CONFIG, text);
    let args: Vec<String> = std::iter::once(format!("--config={CONFIG}"))
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    kube_node(
        root,
        vec![kube_component(KUBELET, "/usr/bin/kubelet", &args)],
        KubeFacts {
            kubelet: Some(KubeletConfig {
                file: Some(config_file(CONFIG, "kubelet --config", parse(text))),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
}

/// 4.2.11: serverTLSBootstrap alone leaves the gate off, which the kubelet refuses; the fix
/// turns the gate on in the file that turns it off, and the configuration it writes passes
/// 4.2.11 (and 4.2.9, which credits server TLS bootstrap only with the gate on).
#[test]
fn server_tls_bootstrap_fix_turns_its_gate_on() {
    let root = temp_root("kubelet-gate");
    let s = node(&root, &[], INSECURE);
    let before = kube_audit(&s, &["4.2"]);
    assert_eq!(status(&before, "4.2.11"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["4.2.11"])).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let fix = p
        .fixes
        .iter()
        .find(|f| f.kind == FixKind::KubeletConfig)
        .expect("a kubelet fix");
    assert_eq!(fix.checks, vec!["4.2.11"]);
    assert_eq!(
        fix.changes,
        vec![
            "featureGates.RotateKubeletServerCertificate: true",
            "serverTLSBootstrap: true"
        ]
    );
    let after = &fix.action.edits[0].after;
    assert!(
        after.contains("featureGates:\n  RotateKubeletServerCertificate: true\n"),
        "{after}"
    );
    assert!(
        !after.contains("RotateKubeletServerCertificate: false"),
        "{after}"
    );
    // Audit the node as the fix leaves it.
    let fixed = node(&root, &[], after);
    let a = kube_audit(&fixed, &["4.2"]);
    assert_eq!(status(&a, "4.2.11"), Status::Pass);
    assert_eq!(status(&a, "4.2.9"), Status::Pass);
}

/// A gate turned off on the command line cannot be fixed in a file, and the field without it
/// would keep the kubelet from starting: unfixed, with the reason, and no edit at all.
#[test]
fn gate_off_on_the_command_line_is_not_claimed() {
    let root = temp_root("kubelet-gate-flag");
    let text = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
    let s = node(
        &root,
        &["--feature-gates=RotateKubeletServerCertificate=false"],
        text,
    );
    assert_gate_fix_refused(
        &s,
        &root,
        "which --feature-gates turns off on the kubelet's command line",
    );
}

/// 4.2.11 fails on node `s` and its plan edits no kubelet configuration: the one check is left
/// unfixed with a reason that says `why`.
fn assert_gate_fix_refused(s: &Snapshot, root: &Path, why: &str) {
    let before = kube_audit(s, &["4.2"]);
    assert_eq!(status(&before, "4.2.11"), Status::Fail);
    let p = plan(s, &[before], &request(root, &["4.2.11"])).unwrap();
    assert!(
        p.fixes.iter().all(|f| f.kind != FixKind::KubeletConfig),
        "{:#?}",
        p.fixes
    );
    assert_eq!(p.unfixed.len(), 1, "{:#?}", p.unfixed);
    assert!(p.unfixed[0].reason.contains(why), "{}", p.unfixed[0].reason);
}

/// The same gate turned off by a flag that k3s writes for the kubelet from its own
/// configuration file (`kubelet-arg:` in /etc/rancher/k3s/config.yaml): still a flag, which
/// the kubelet's file cannot override; unfixed, naming the file and line.
#[test]
fn gate_off_in_a_k3s_configuration_file_is_not_claimed() {
    let root = temp_root("kubelet-gate-k3s");
    let text = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
    let mut s = node(
        &root,
        &["--feature-gates=RotateKubeletServerCertificate=false"],
        text,
    );
    let origin = "/etc/rancher/k3s/config.yaml, line 4";
    let kube = s.kubernetes.as_mut().unwrap();
    let kubelet = kube.components.get_mut(KUBELET).unwrap();
    for o in &mut kubelet.flags.occurrences {
        if o.name == "feature-gates" {
            o.origin = Some(origin.to_string());
        }
    }
    assert_gate_fix_refused(
        &s,
        &root,
        &format!("a --feature-gates flag written in {origin} turns off"),
    );
}

/// The edit lands in the `--config` file, but a later drop-in that cannot be parsed could set
/// the same field: the edited configuration would leave the check an error, so the fix does
/// not claim it and does not write the edit.
#[test]
fn an_edit_a_broken_later_drop_in_could_override_is_not_claimed() {
    let root = temp_root("kubelet-broken-drop-in");
    let clean = node(&root, &[], INSECURE);
    let before = kube_audit(&clean, &["4.2"]);
    assert_eq!(status(&before, "4.2.1"), Status::Fail);
    assert_eq!(status(&before, "4.2.2"), Status::Fail);
    // Since the audit, a drop-in directory gained a broken drop-in after one that is fine (with
    // the apiVersion and kind the kubelet needs in a drop-in, or it would refuse that one too).
    const AUTHZ_DROP_IN: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthorization:\n  mode: AlwaysAllow\n";
    let mut s = clean.clone();
    let cfg = s.kubernetes.as_mut().unwrap().kubelet.as_mut().unwrap();
    cfg.drop_in_dir = Some("/etc/kubernetes/kubelet.conf.d".into());
    cfg.drop_ins = vec![
        config_file(
            "/etc/kubernetes/kubelet.conf.d/50-authz.conf",
            "kubelet --config-dir",
            parse(AUTHZ_DROP_IN),
        ),
        config_file(
            "/etc/kubernetes/kubelet.conf.d/99-bad.conf",
            "kubelet --config-dir",
            Fact::Unavailable(
                "/etc/kubernetes/kubelet.conf.d/99-bad.conf: line 4 column 1: unexpected end"
                    .into(),
            ),
        ),
    ];
    put(
        &root,
        "/etc/kubernetes/kubelet.conf.d/50-authz.conf",
        AUTHZ_DROP_IN,
    );
    let p = plan(&s, &[before], &request(&root, &["4.2.1", "4.2.2"])).unwrap();
    assert!(
        p.fixes.iter().all(|f| f.kind != FixKind::KubeletConfig),
        "{:#?}",
        p.fixes
    );
    assert_eq!(p.unfixed.len(), 2, "{:#?}", p.unfixed);
    for u in &p.unfixed {
        assert!(
            u.reason
                .starts_with("the edited kubelet configuration would still leave it error:")
                && u.reason
                    .contains("99-bad.conf (kubelet --config-dir) could set it"),
            "{}",
            u.reason
        );
    }
}

const DROP_IN_DIR: &str = "/etc/kubernetes/kubelet.conf.d";

/// `s` with these drop-ins (path, text) in its kubelet's `--config-dir`, on disk and in the
/// snapshot, each read into the snapshot as `read` reads it.
fn with_drop_ins(
    root: &Path,
    mut s: Snapshot,
    drop_ins: &[(&str, &str)],
    read: fn(&str) -> Fact<Value>,
) -> Snapshot {
    let cfg = s.kubernetes.as_mut().unwrap().kubelet.as_mut().unwrap();
    cfg.drop_in_dir = Some(DROP_IN_DIR.into());
    for (path, text) in drop_ins {
        put(root, path, text);
        cfg.drop_ins
            .push(config_file(path, "kubelet --config-dir", read(text)));
    }
    s
}

fn no_kubelet_fix(p: &bulkhead_harden::Plan) {
    assert!(
        p.fixes.iter().all(|f| f.kind != FixKind::KubeletConfig),
        "{:#?}",
        p.fixes
    );
}

/// A `--config` file with one value of the wrong JSON type elsewhere in it (`maxPods: "110"`)
/// is one the kubelet refuses to start with. This snapshot read it as plain YAML (as a snapshot
/// saved by an earlier bulkhead did), so the audit fails 4.2.1 and 4.2.2 rather than erroring;
/// harden reads the file it would edit and must judge it as the kubelet does: no edit is
/// planned, and the reason names the file, the line, why, and what to correct by hand.
#[test]
fn a_config_the_kubelet_refuses_is_not_edited() {
    let root = temp_root("kubelet-refused-config");
    let text = format!("{INSECURE}maxPods: \"110\"\n");
    let s = node(&root, &[], &text);
    let before = kube_audit(&s, &["4.2"]);
    assert_eq!(status(&before, "4.2.1"), Status::Fail);
    assert_eq!(status(&before, "4.2.2"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["4.2.1", "4.2.2"])).unwrap();
    no_kubelet_fix(&p);
    assert_eq!(p.unfixed.len(), 2, "{:#?}", p.unfixed);
    for u in &p.unfixed {
        assert_eq!(
            u.reason,
            format!("{CONFIG}: line 13, column 10: maxPods is the string \"110\", but the kubelet decodes it as a whole number (32-bit, unquoted) and does not start with this file; harden does not edit a file the kubelet refuses: correct it by hand (write maxPods as 110, without quotes), then run harden again")
        );
    }
}

/// The drop-in that sets `authorization.mode` last has no apiVersion (nor kind): the kubelet
/// refuses it, so the fix that would land in it is not planned, and the reason says which lines
/// the file needs.
#[test]
fn a_drop_in_without_api_version_is_not_edited() {
    let root = temp_root("kubelet-drop-in-no-version");
    let drop_in = "/etc/kubernetes/kubelet.conf.d/50-authz.conf";
    let s = with_drop_ins(
        &root,
        node(&root, &[], INSECURE),
        &[(drop_in, "authorization:\n  mode: AlwaysAllow\n")],
        parse,
    );
    let before = kube_audit(&s, &["4.2"]);
    assert_eq!(status(&before, "4.2.2"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["4.2.2"])).unwrap();
    no_kubelet_fix(&p);
    assert_eq!(p.unfixed.len(), 1, "{:#?}", p.unfixed);
    let why = &p.unfixed[0].reason;
    assert!(
        why.starts_with(&format!(
            "{drop_in}: line 1, column 1: the file has no apiVersion; the kubelet (since Kubernetes 1.32) merges a drop-in only as kubelet.config.k8s.io/v1beta1 KubeletConfiguration"
        )) && why.ends_with("harden does not edit a file the kubelet refuses: correct it by hand (add the top-level `apiVersion: kubelet.config.k8s.io/v1beta1` and `kind: KubeletConfiguration`), then run harden again"),
        "{why}"
    );
}

/// The audit read a `--config` file the kubelet refuses as unavailable (as the collector does),
/// and 4.2.1 fails on a drop-in's value. The edit would land in the drop-in, which is fine, but
/// the kubelet restarted by the fix would still refuse the `--config` file and not start: not
/// planned, naming the file that needs correcting.
#[test]
fn another_file_the_kubelet_refuses_blocks_the_fix() {
    let root = temp_root("kubelet-refused-other");
    let text =
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: \"110\"\n";
    let mut s = node(&root, &[], text);
    let cfg = s.kubernetes.as_mut().unwrap().kubelet.as_mut().unwrap();
    cfg.file.as_mut().unwrap().content = Fact::Unavailable(format!("{CONFIG}: line 3, column 10: maxPods is the string \"110\", but the kubelet decodes it as a whole number (32-bit, unquoted) and does not start with this file"));
    let drop_in = "/etc/kubernetes/kubelet.conf.d/50-anon.conf";
    let s = with_drop_ins(
        &root,
        s,
        &[(drop_in, "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: true\n")],
        parse,
    );
    let before = kube_audit(&s, &["4.2"]);
    assert_eq!(status(&before, "4.2.1"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["4.2.1"])).unwrap();
    no_kubelet_fix(&p);
    assert_eq!(p.unfixed.len(), 1, "{:#?}", p.unfixed);
    let why = &p.unfixed[0].reason;
    assert!(
        why.starts_with(&format!(
            "{CONFIG} (kubelet --config): line 3, column 10: maxPods is the string \"110\""
        )) && why.contains("correct it by hand (write maxPods as 110, without quotes)"),
        "{why}"
    );
}

/// Files the kubelet accepts still get their fixes: YAML 1.1 booleans, quoted strings, a
/// mistyped drop-in value that a later drop-in replaces (the kubelet decodes only the merged
/// result), and an edit in each file that sets a field last.
#[test]
fn files_the_kubelet_accepts_still_get_their_fixes() {
    let root = temp_root("kubelet-accepted");
    let text = format!("{INSECURE}maxPods: 110\nstaticPodURL: \"\"\nserializeImagePulls: no\n");
    let early = "/etc/kubernetes/kubelet.conf.d/10-port.conf";
    let late = "/etc/kubernetes/kubelet.conf.d/50-authz.conf";
    let header = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
    let s = with_drop_ins(
        &root,
        node(&root, &[], &text),
        &[
            (early, &format!("{header}readOnlyPort: \"10255\"\n")),
            (
                late,
                &format!("{header}readOnlyPort: 10255\nauthorization:\n  mode: AlwaysAllow\n"),
            ),
        ],
        parse,
    );
    let before = kube_audit(&s, &["4.2"]);
    for id in ["4.2.1", "4.2.2", "4.2.4"] {
        assert_eq!(status(&before, id), Status::Fail, "{id}");
    }
    let p = plan(&s, &[before], &request(&root, &["4.2.1", "4.2.2", "4.2.4"])).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let kubelet: Vec<_> = p
        .fixes
        .iter()
        .filter(|f| f.kind == FixKind::KubeletConfig)
        .collect();
    let claimed: Vec<(&str, Vec<String>)> = kubelet
        .iter()
        .map(|f| (f.target.path.as_deref().unwrap(), f.checks.clone()))
        .collect();
    assert_eq!(
        claimed,
        [
            (late, vec!["4.2.2".to_string(), "4.2.4".to_string()]),
            (CONFIG, vec!["4.2.1".to_string()]),
        ],
        "{kubelet:#?}"
    );
}

/// `--anonymous-auth false` on the kubelet's command line reads as true and overrides the file:
/// the reason quotes the command line as written and says how the kubelet reads it, not
/// `--anonymous-auth=true`, which appears nowhere in the service files.
#[test]
fn a_two_word_boolean_flag_is_quoted_as_written() {
    let root = temp_root("kubelet-two-words");
    let s = node(&root, &["--anonymous-auth", "false"], INSECURE);
    let before = kube_audit(&s, &["4.2"]);
    assert_eq!(status(&before, "4.2.1"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["4.2.1"])).unwrap();
    assert_eq!(p.unfixed.len(), 1, "{:#?}", p.unfixed);
    assert!(
        p.unfixed[0].reason.starts_with(
            "`--anonymous-auth false` (read as --anonymous-auth=true: a boolean flag does not take the next word) on the kubelet's command line overrides its config file"
        ),
        "{}",
        p.unfixed[0].reason
    );
}

/// 4.2.1 on a kubelet that authenticates callers no other way (no client CA, token review by
/// the API server off): refusing anonymous requests refuses everyone, the API server included,
/// and the fix says so among what it may break. With a client CA it does not.
#[test]
fn refusing_anonymous_requests_names_the_missing_authenticators() {
    let root = temp_root("kubelet-anonymous");
    let alone = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: true\n  webhook:\n    enabled: false\n";
    let may_break = |text: &str| {
        let s = node(&root, &[], text);
        let before = kube_audit(&s, &["4.2.1"]);
        assert_eq!(status(&before, "4.2.1"), Status::Fail);
        let p = plan(&s, &[before], &request(&root, &["4.2.1"])).unwrap();
        let fix = p
            .fixes
            .iter()
            .find(|f| f.kind == FixKind::KubeletConfig)
            .expect("a kubelet fix");
        assert_eq!(fix.checks, vec!["4.2.1"]);
        fix.may_break.clone()
    };
    assert_eq!(
        may_break(alone),
        vec![
            "unauthenticated requests to the kubelet API are refused".to_string(),
            format!("the kubelet has no other way to authenticate a caller (--client-ca-file / authentication.x509.clientCAFile not set; authentication.webhook.enabled ({CONFIG}) = false): every request to its API is refused, the API server's logs, exec and port-forward included"),
        ]
    );
    let with_ca = alone.replace(
        "  webhook:\n",
        "  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n  webhook:\n",
    );
    assert_eq!(
        may_break(&with_ca),
        vec!["unauthenticated requests to the kubelet API are refused"]
    );
}

/// A snapshot planned on another machine (or a kubelet file removed since the audit): the file
/// to edit is not here, and the fix says so instead of failing on an empty text ("the file has
/// no document 1").
#[test]
fn a_kubelet_file_missing_on_this_host_is_named() {
    let root = temp_root("kubelet-missing-here");
    let s = node(&root, &[], INSECURE);
    let before = kube_audit(&s, &["4.2"]);
    assert_eq!(status(&before, "4.2.1"), Status::Fail);
    std::fs::remove_file(root.join(CONFIG.trim_start_matches('/'))).unwrap();
    let p = plan(&s, &[before], &request(&root, &["4.2.1"])).unwrap();
    no_kubelet_fix(&p);
    let reason = &p.unfixed[0].reason;
    assert!(
        reason.starts_with(&format!(
            "{CONFIG} does not exist on this host, though the audit read it"
        )),
        "{reason}"
    );
}
