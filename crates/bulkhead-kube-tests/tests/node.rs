//! A kubeadm-like node, secure and insecure, with simulated components (real processes named
//! after each component) and a node root with real modes and owners: the user's Kubernetes
//! threats get the right verdict both ways, and each CIS Kubernetes pitfall of the reference
//! tool is checked against bulkhead.

use bulkhead_checks::Status::*;
use bulkhead_kube_tests::node::kubeadm_node;
use bulkhead_kube_tests::{audit, collect, expect, outcome, status, ProcView, SimComponent};

const SIM: &str = env!("CARGO_BIN_EXE_kube-sim");

/// Issue point 6: the user's five Kubernetes threats, secure configuration.
#[test]
fn user_threat_checks_pass_on_the_secure_node() {
    let n = kubeadm_node(true, SIM);
    let s = collect(n.root.path(), n.proc.path(), None);
    // The encryption configuration's time is read, to judge whether the API server loaded it.
    match &s.kubernetes.as_ref().unwrap().encryption {
        Some(bulkhead_facts::Fact::Value(enc)) => assert!(enc.modified_at.is_some(), "{enc:?}"),
        other => panic!("encryption configuration: {other:?}"),
    }
    let a = audit(&s);
    expect(
        &a,
        &[
            // Spoofing: API server <-> kubelet TLS, CA and strong ciphers.
            ("1.2.4", Pass),
            ("1.2.5", Pass),
            ("4.2.3", Pass),
            ("4.2.9", Pass),
            ("1.2.29", Pass),
            ("4.2.12", Pass),
            // Tampering: pod spec and etcd file modes and owners.
            ("1.1.1", Pass),
            ("1.1.2", Pass),
            ("1.1.3", Pass),
            ("1.1.4", Pass),
            ("1.1.5", Pass),
            ("1.1.6", Pass),
            ("1.1.7", Pass),
            ("1.1.8", Pass),
            ("1.1.9", Pass),
            ("1.1.10", Pass),
            ("1.1.11", Pass),
            ("1.1.12", Pass),
            // Elevation of privilege: kubelet authorization (drop-in overrides AlwaysAllow).
            ("4.2.2", Pass),
            // Information disclosure: encryption at rest, TLS to and within etcd.
            ("1.2.27", Pass),
            ("1.2.28", Pass),
            ("2.1", Pass),
            ("2.2", Pass),
            ("2.3", Pass),
            ("2.4", Pass),
            ("2.5", Pass),
            ("2.6", Pass),
            ("2.7", Manual),
            ("1.2.23", Pass),
            ("1.2.26", Pass),
            // Repudiation: kubelet authentication without anonymous access.
            ("4.2.1", Pass),
        ],
    );
    // Everything else of a hardened node passes too (policies are not applicable without a dump).
    expect(
        &a,
        &[
            ("1.2.1", Pass),
            ("1.2.2", Pass),
            ("1.2.6", Pass),
            ("1.2.7", Pass),
            ("1.2.8", Pass),
            ("1.2.15", Pass),
            ("1.3.2", Pass),
            ("1.3.3", Pass),
            ("1.3.7", Pass),
            ("1.4.1", Pass),
            ("1.4.2", Pass),
            ("4.1.1", Pass),
            ("4.1.3", Pass),
            ("4.1.5", Pass),
            ("4.1.9", Pass),
            ("4.2.4", Pass),
            ("4.2.13", Pass),
            ("4.2.14", Pass),
            ("4.3.1", Pass),
            ("5.1.1", NotApplicable),
        ],
    );
}

/// Issue point 6: the same checks fail on the insecure node.
#[test]
fn user_threat_checks_fail_on_the_insecure_node() {
    let n = kubeadm_node(false, SIM);
    let s = collect(n.root.path(), n.proc.path(), None);
    let a = audit(&s);
    expect(
        &a,
        &[
            ("1.2.4", Fail),
            ("1.2.5", Fail),
            ("4.2.3", Fail),
            ("4.2.9", Fail),
            ("1.2.29", Fail),
            ("4.2.12", Fail),
            ("1.1.1", Fail),
            ("1.1.2", Fail),
            ("1.1.7", Fail),
            ("1.1.8", Fail),
            ("1.1.9", Fail),
            ("1.1.11", Fail),
            ("1.1.12", Fail),
            ("4.2.2", Fail),
            ("1.2.27", Pass),
            ("1.2.28", Fail),
            ("2.1", Fail),
            ("2.2", Fail),
            ("2.3", Fail),
            ("2.4", Fail),
            ("2.5", Fail),
            ("2.6", Fail),
            ("2.7", Fail),
            ("1.2.23", Fail),
            ("1.2.26", Fail),
            ("4.2.1", Fail),
        ],
    );
    expect(
        &a,
        &[
            ("1.2.1", Fail),
            ("1.2.2", Fail),
            ("1.2.6", Fail),
            ("1.2.10", Fail),
            ("1.2.12", Fail),
            ("1.2.21", Fail),
            ("1.3.6", Fail),
            ("1.3.7", Fail),
            ("1.4.1", Fail),
            ("1.1.13", Fail),
            ("1.1.21", Fail),
            ("4.1.2", Fail),
            ("4.1.5", Fail),
            ("4.1.9", Fail),
            ("4.1.10", Fail),
            ("4.2.4", Fail),
            // streamingConnectionIdleTimeout: 0s in the --config file runs as the 4h default.
            ("4.2.5", Pass),
            ("4.2.6", Fail),
            ("4.2.10", Fail),
            ("4.2.11", Fail),
        ],
    );
}

/// Pitfall 1: the kubelet config is the file `--config` names (here JSON at /srv/kubelet, YAML
/// at /var/lib/kubelet/custom.yaml), `--config-dir` drop-ins apply (only `*.conf`), and flags
/// override the file.
#[test]
fn pitfall_1_kubelet_config_from_its_flag_with_drop_ins() {
    let n = kubeadm_node(true, SIM);
    let s = collect(n.root.path(), n.proc.path(), None);
    let k = s.kubernetes.as_ref().unwrap();
    let cfg = k.kubelet.as_ref().unwrap();
    assert_eq!(cfg.file.as_ref().unwrap().path, "/srv/kubelet/config.json");
    let drop_ins: Vec<&str> = cfg.drop_ins.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        drop_ins,
        vec!["/etc/kubernetes/kubelet.conf.d/50-authz.conf"],
        "README is not a drop-in"
    );
    let mode = k
        .kubelet_setting(&bulkhead_facts::kube::KubeletKey::AUTHORIZATION_MODE)
        .unwrap()
        .unwrap();
    assert_eq!(mode.value, "Webhook");
    assert!(mode.source.contains("50-authz.conf"), "{}", mode.source);
    assert_eq!(
        k.path("kubelet_config").unwrap().path,
        "/srv/kubelet/config.json"
    );

    let n = kubeadm_node(false, SIM);
    let s = collect(n.root.path(), n.proc.path(), None);
    let k = s.kubernetes.as_ref().unwrap();
    // --read-only-port=10255 on the command line overrides the file (which says nothing, default 0).
    let port = k
        .kubelet_setting(&bulkhead_facts::kube::KubeletKey::READ_ONLY_PORT)
        .unwrap()
        .unwrap();
    assert_eq!(
        (port.value.as_str(), port.source.as_str()),
        ("10255", "--read-only-port (command line)")
    );
}

/// A kubelet drop-in edited after the (real, simulated) kubelet started: the collection records
/// the kubelet's start time and each file's, and 4.2.2, which rests on the drop-in, is a warn
/// naming it until the kubelet restarts.
#[test]
fn kubelet_config_newer_than_the_running_kubelet_is_not_proven() {
    let n = kubeadm_node(true, SIM);
    let s = collect(n.root.path(), n.proc.path(), None);
    let k = s.kubernetes.as_ref().unwrap();
    assert!(k.component("kubelet").unwrap().started_at.is_some());
    let drop_in = &k.kubelet.as_ref().unwrap().drop_ins[0];
    assert!(drop_in.modified_at.is_some(), "{drop_in:?}");
    assert_eq!(k.kubelet_config_changed_after_start(), None);
    assert_eq!(status(&audit(&s), "4.2.2"), Pass);
    // Edited after the kubelet started, and not restarted.
    let file = n
        .root
        .path()
        .join("etc/kubernetes/kubelet.conf.d/50-authz.conf");
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .unwrap();
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    let o = outcome(&a, "4.2.2");
    assert_eq!(o.result.status, Warn);
    let note = o.result.objects[0].note.as_deref().unwrap_or_default();
    assert!(
        note.starts_with("/etc/kubernetes/kubelet.conf.d/50-authz.conf changed at"),
        "{note}"
    );
}

/// Pitfall 2: components by executable name. The API server's `--kubelet-*` and
/// `--etcd-servers` flags make it neither a kubelet nor etcd; kube-controller-manager is found
/// although its comm is truncated to `kube-controller`.
#[test]
fn pitfall_2_processes_matched_by_executable_name() {
    let n = kubeadm_node(false, SIM);
    let cm_pid = n.sims[1].pid();
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{cm_pid}/comm"))
            .unwrap()
            .trim(),
        "kube-controller"
    );
    let s = collect(n.root.path(), n.proc.path(), None);
    let k = s.kubernetes.as_ref().unwrap();
    assert_eq!(
        k.component("kube-controller-manager").unwrap().process.pid,
        cm_pid
    );
    let kubelet = k.component("kubelet").unwrap();
    assert!(
        kubelet.flags.has("config"),
        "the kubelet found is the kubelet process"
    );
    assert_ne!(
        kubelet.process.pid,
        n.sims[0].pid(),
        "the API server is not a kubelet"
    );
    assert_eq!(
        k.component("etcd").unwrap().process.pid,
        n.sims[3].pid(),
        "--etcd-servers is not etcd"
    );
}

/// Pitfall 3: `--flag value`, `--flag=value`, repeated list flags, and a boolean written as two
/// words (`--anonymous-auth false` sets true in pflag).
#[test]
fn pitfall_3_flag_forms() {
    let n = kubeadm_node(false, SIM);
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    let anon = &outcome(&a, "1.2.1").result;
    assert_eq!(anon.status, Fail, "{anon:?}");
    // --authorization-mode=Node,RBAC --authorization-mode=AlwaysAllow: slices accumulate.
    let authz = &outcome(&a, "1.2.6").result.objects[0];
    assert_eq!(
        authz.evidence.as_ref().unwrap().actual,
        "Node,RBAC,AlwaysAllow"
    );
    let n = kubeadm_node(true, SIM);
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    // `--audit-log-maxbackup 10` (separate word) is read, and repeated admission flags add up.
    assert_eq!(status(&a, "1.2.18"), Pass);
    assert_eq!(
        status(&a, "1.2.11"),
        Pass,
        "AlwaysPullImages is in the second --enable-admission-plugins"
    );
    assert_eq!(
        status(&a, "1.2.14"),
        Pass,
        "NodeRestriction is in the first"
    );
}

/// Pitfall 4: kube-proxy replaced (not running) is not applicable, not a failure; missing
/// optional files are not applicable with the reason.
#[test]
fn pitfall_4_missing_optional_component_is_not_applicable() {
    let n = kubeadm_node(false, SIM);
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    for id in ["4.1.3", "4.1.4", "4.3.1"] {
        let r = &outcome(&a, id).result;
        assert_eq!(r.status, NotApplicable, "{id}: {r:?}");
        assert!(
            r.message
                .as_deref()
                .unwrap()
                .contains("kube-proxy does not run"),
            "{id}: {r:?}"
        );
    }
}

/// Pitfall 6: etcd configured only through `ETCD_*` environment (as Debian's unit does).
#[test]
fn pitfall_6_etcd_settings_from_environment() {
    let n = kubeadm_node(false, SIM);
    let s = collect(n.root.path(), n.proc.path(), None);
    let etcd = s.kubernetes.as_ref().unwrap().component("etcd").unwrap();
    assert!(
        etcd.process.argv.len() == 1,
        "no flags at all: {:?}",
        etcd.process.argv
    );
    let auto = etcd.setting("auto-tls").unwrap();
    assert_eq!(auto.source, "ETCD_AUTO_TLS (environment)");
    assert_eq!(
        s.kubernetes
            .as_ref()
            .unwrap()
            .path("etcd_data_dir")
            .unwrap()
            .path,
        "/var/lib/etcd"
    );
}

/// Pitfall 7: the output says which benchmark and why.
#[test]
fn pitfall_7_benchmark_choice_is_explained() {
    let n = kubeadm_node(true, SIM);
    let s = collect(n.root.path(), n.proc.path(), None);
    let k = s.kubernetes.as_ref().unwrap();
    assert_eq!(
        (k.benchmark.id.as_str(), k.benchmark.version.as_str()),
        ("cis-kubernetes", "1.12")
    );
    assert!(
        k.benchmark.reason.contains("v1.30.2"),
        "{}",
        k.benchmark.reason
    );
    assert!(
        k.benchmark.reason.contains("kube-apiserver.yaml"),
        "{}",
        k.benchmark.reason
    );
    assert_eq!(k.platform.kind, "kubeadm");
    assert_eq!(
        k.targets.selected,
        vec!["master", "etcd", "controlplane", "node"]
    );
}

/// Pitfall 9: manual checks are not all WARN: settings bulkhead can read get a verdict (scored
/// false), judgement calls report `manual` with the value as evidence.
#[test]
fn pitfall_9_manual_checks_show_evidence() {
    let n = kubeadm_node(true, SIM);
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    let r = &outcome(&a, "1.2.20").result;
    assert_eq!(r.status, Manual);
    assert_eq!(r.objects[0].evidence.as_ref().unwrap().actual, "60s");
    let r = &outcome(&a, "1.3.1").result;
    assert_eq!(
        (
            r.status,
            r.objects[0].evidence.as_ref().unwrap().actual.as_str()
        ),
        (Manual, "10")
    );
    assert_eq!(
        status(&a, "1.2.28"),
        Pass,
        "a manual check with a readable setting gets a verdict"
    );
    assert!(!outcome(&a, "1.2.28").control.scored);
}

/// Secrets never reach the snapshot: encryption keys, token files' contents, masked values.
#[test]
fn encryption_keys_never_reach_the_snapshot() {
    for secure in [true, false] {
        let n = kubeadm_node(secure, SIM);
        let s = collect(n.root.path(), n.proc.path(), None);
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("c2VjcmV0LWtleS1ub3QtdG8tYmUtc2hvd24tMTIzNDU2"));
        let k = s.kubernetes.as_ref().unwrap();
        let enc = k.encryption.as_ref().unwrap().value().unwrap();
        let first = enc.secrets_rule().unwrap().providers[0].as_str();
        assert_eq!(
            first,
            if secure { "aescbc" } else { "identity" },
            "YAML and JSON configurations both read"
        );
    }
}

/// A kubelet started with `args`, and a proc view that shows only it.
fn kubelet_alone(args: &str) -> (SimComponent, ProcView) {
    let args: Vec<String> = args.split_whitespace().map(String::from).collect();
    let k = SimComponent::start(SIM, "kubelet", &args, &[]);
    let proc = ProcView::new(&[k.pid()]);
    (k, proc)
}

/// The message of a check, for assertions.
fn message(a: &bulkhead_checks::Audit, id: &str) -> String {
    outcome(a, id).result.message.clone().unwrap_or_default()
}

/// A kubelet configuration file that cannot be parsed is recorded with the reason (file and
/// line), and every setting it could set is an error naming it, never a default: with a valid
/// drop-in (only what the drop-in sets is known), without one (not "no config file"), and for a
/// broken drop-in after a valid one. Flags still win.
#[test]
fn unparseable_kubelet_config_files_are_errors_not_defaults() {
    let broken_main = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
authentication:\n  anonymous:\n    enabled: true\nreadOnlyPort: 10255\nevictionHard: {memory.available: 100Mi\n";
    // The secure node's JSON --config replaced by broken YAML; its drop-in 50-authz.conf is fine.
    let n = kubeadm_node(true, SIM);
    n.root
        .write("/srv/kubelet/config.json", broken_main, 0o600, 0, 0);
    let s = collect(n.root.path(), n.proc.path(), None);
    let file = s.kubernetes.as_ref().unwrap().kubelet.as_ref().unwrap();
    let why = file.file.as_ref().unwrap().content.as_result().unwrap_err();
    assert!(
        why.starts_with("/srv/kubelet/config.json: ") && why.contains("line "),
        "{why}"
    );
    let a = audit(&s);
    expect(&a, &[("4.2.1", Error), ("4.2.2", Pass), ("4.2.4", Error)]);
    let m = message(&a, "4.2.1");
    assert!(
        m.contains(
            "/srv/kubelet/config.json (kubelet --config) could set it but could not be used: line "
        ),
        "{m}"
    );

    // The insecure node's only --config file broken: an error, not the command-line default;
    // --read-only-port=10255 on its command line is still known.
    let n = kubeadm_node(false, SIM);
    n.root
        .write("/var/lib/kubelet/custom.yaml", broken_main, 0o600, 0, 0);
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(
        &a,
        &[
            ("4.2.1", Error),
            ("4.2.2", Error),
            ("4.2.4", Fail),
            ("4.2.11", Error),
        ],
    );
    assert!(
        !message(&a, "4.2.1").contains("no config file"),
        "{}",
        message(&a, "4.2.1")
    );

    // A broken drop-in after 50-authz.conf could override it.
    let n = kubeadm_node(true, SIM);
    n.root.write(
        "/etc/kubernetes/kubelet.conf.d/99-bad.conf",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthorization:\n  mode: [oops\n",
        0o600,
        0,
        0,
    );
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(&a, &[("4.2.1", Error), ("4.2.2", Error)]);
    let m = message(&a, "4.2.2");
    assert!(
        m.contains(
            "/etc/kubernetes/kubelet.conf.d/99-bad.conf (kubelet --config-dir) could set it"
        ),
        "{m}"
    );
}

/// A running kubelet cannot have a missing `--config` file or `--config-dir` (it does not
/// start without them): the settings they govern are errors naming the path and --root, not
/// command-line defaults. Drop-ins in subdirectories of `--config-dir` apply, in walk order.
#[test]
fn missing_kubelet_config_file_or_drop_in_dir_is_an_error() {
    let n = kubeadm_node(true, SIM);
    let (_k, proc) = kubelet_alone(
        "--config=/var/lib/kubelet/missing.yaml --kubeconfig=/etc/kubernetes/kubelet.conf --anonymous-auth=false",
    );
    let a = audit(&collect(n.root.path(), proc.path(), None));
    expect(
        &a,
        &[
            ("4.1.9", Error),
            ("4.2.1", Pass),
            ("4.2.2", Error),
            ("4.2.4", Error),
        ],
    );
    for id in ["4.2.2", "4.2.4"] {
        let m = message(&a, id);
        assert!(
            m.contains("/var/lib/kubelet/missing.yaml (kubelet --config) could set it")
                && m.contains("not found under the audited root")
                && m.contains("--root"),
            "{id}: {m}"
        );
    }

    let (_k, proc) = kubelet_alone(
        "--config=/srv/kubelet/config.json --config-dir=/etc/kubernetes/missing.d --kubeconfig=/etc/kubernetes/kubelet.conf",
    );
    let a = audit(&collect(n.root.path(), proc.path(), None));
    expect(&a, &[("4.2.1", Error), ("4.2.2", Error)]);
    let m = message(&a, "4.2.2");
    assert!(
        m.contains("drop-in directory (--config-dir) /etc/kubernetes/missing.d")
            && m.contains("--root"),
        "{m}"
    );

    // A drop-in in a subdirectory is merged where the walk reaches it (after 50-authz.conf).
    n.root.write(
        "/etc/kubernetes/kubelet.conf.d/60-node/10-anon.conf",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: true\n",
        0o600,
        0,
        0,
    );
    let (_k, proc) = kubelet_alone(
        "--config=/srv/kubelet/config.json --config-dir=/etc/kubernetes/kubelet.conf.d --kubeconfig=/etc/kubernetes/kubelet.conf",
    );
    let a = audit(&collect(n.root.path(), proc.path(), None));
    expect(&a, &[("4.2.1", Fail), ("4.2.2", Pass)]);
    assert!(message(&a, "4.2.1").contains("60-node/10-anon.conf"));
}

/// A kubelet configuration the kubelet would refuse to start with is no evidence of what the
/// running kubelet does: a file without apiVersion or kind, a quoted "false" for a boolean, a
/// quoted "0" for a port. Every setting such a file could set is an error naming the file, the
/// line and the reason; flags stay known. YAML 1.1 booleans (`no`, `off`) are what the kubelet's
/// go-yaml v2 makes of them: booleans.
#[test]
fn kubelet_config_files_the_kubelet_refuses_are_errors_not_values() {
    // The insecure node's --config file rewritten to look hardened, but without apiVersion and
    // kind: the kubelet refuses it, so its "false" and "Webhook" are not in force.
    let n = kubeadm_node(false, SIM);
    n.root.write(
        "/var/lib/kubelet/custom.yaml",
        "staticPodPath: /etc/kubernetes/manifests\nauthentication:\n  anonymous:\n    enabled: false\nauthorization:\n  mode: Webhook\n",
        0o600,
        0,
        0,
    );
    let s = collect(n.root.path(), n.proc.path(), None);
    let why = s.kubernetes.as_ref().unwrap().kubelet.as_ref().unwrap();
    let why = why.file.as_ref().unwrap().content.as_result().unwrap_err();
    assert!(
        why.starts_with(
            "/var/lib/kubelet/custom.yaml: line 1, column 1: the file has no apiVersion"
        ),
        "{why}"
    );
    let a = audit(&s);
    expect(&a, &[("4.2.1", Error), ("4.2.2", Error), ("4.2.4", Fail)]);
    let m = message(&a, "4.2.1");
    assert!(
        m.contains("/var/lib/kubelet/custom.yaml (kubelet --config) could set it but could not be used: line 1, column 1: the file has no apiVersion")
            && m.contains("kubelet.config.k8s.io/v1beta1"),
        "{m}"
    );

    // The secure node's JSON with a quoted "false": the kubelet's decoder refuses a string for a
    // boolean (it does not start), so 4.2.1 is unknown, not a pass on the text "false".
    let n = kubeadm_node(true, SIM);
    let quoted = std::fs::read_to_string(n.root.host("/srv/kubelet/config.json"))
        .unwrap()
        .replace(
            r#"{"anonymous": {"enabled": false}"#,
            r#"{"anonymous": {"enabled": "false"}"#,
        );
    assert!(quoted.contains(r#""enabled": "false""#));
    n.root
        .write("/srv/kubelet/config.json", &quoted, 0o600, 0, 0);
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(&a, &[("4.2.1", Error), ("4.2.4", Error), ("4.2.2", Pass)]);
    let m = message(&a, "4.2.1");
    assert!(
        m.contains("/srv/kubelet/config.json (kubelet --config) could set it but could not be used: line 5, column ")
            && m.contains("authentication.anonymous.enabled is the string \"false\", but the kubelet decodes it as a boolean"),
        "{m}"
    );

    // A drop-in with a quoted port: the merged drop-ins are what the kubelet decodes, so it is
    // refused...
    let n = kubeadm_node(true, SIM);
    let drop_in = |name: &str, text: &str| {
        n.root.write(
            &format!("/etc/kubernetes/kubelet.conf.d/{name}"),
            &format!(
                "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n{text}"
            ),
            0o600,
            0,
            0,
        )
    };
    drop_in("60-port.conf", "readOnlyPort: \"0\"\n");
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(&a, &[("4.2.4", Error), ("4.2.2", Error), ("4.2.1", Error)]);
    let m = message(&a, "4.2.4");
    assert!(
        m.contains("60-port.conf (kubelet --config-dir) could set it but could not be used: line 3, column 15: readOnlyPort is the string \"0\""),
        "{m}"
    );
    // ...unless a later drop-in sets the same key to a value the kubelet decodes.
    drop_in("70-port.conf", "readOnlyPort: 0\n");
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(&a, &[("4.2.4", Pass), ("4.2.2", Pass), ("4.2.1", Pass)]);
    // A drop-in without kind is refused by every kubelet that reads drop-ins.
    n.root.write(
        "/etc/kubernetes/kubelet.conf.d/80-nokind.conf",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nseccompDefault: true\n",
        0o600,
        0,
        0,
    );
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(&a, &[("4.2.14", Error), ("4.2.4", Error)]);
    assert!(message(&a, "4.2.14").contains("80-nokind.conf (kubelet --config-dir) could set it but could not be used: line 1, column 1: the file has no kind"));

    // YAML 1.1: `no` is the boolean false for the kubelet; a quoted "no" is a string it refuses.
    let n = kubeadm_node(false, SIM);
    let yaml11 = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /etc/kubernetes/manifests\nauthentication:\n  anonymous:\n    enabled: no\nauthorization:\n  mode: Webhook\n";
    n.root
        .write("/var/lib/kubelet/custom.yaml", yaml11, 0o600, 0, 0);
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(&a, &[("4.2.1", Pass), ("4.2.2", Pass)]);
    assert_eq!(
        outcome(&a, "4.2.1").result.objects[0]
            .evidence
            .as_ref()
            .unwrap()
            .actual,
        "false"
    );
    n.root.write(
        "/var/lib/kubelet/custom.yaml",
        &yaml11.replace("enabled: no", "enabled: \"no\""),
        0o600,
        0,
        0,
    );
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(&a, &[("4.2.1", Error), ("4.2.2", Error)]);
    assert!(
        message(&a, "4.2.1")
            .contains("line 6, column 14: authentication.anonymous.enabled is the string \"no\""),
        "{}",
        message(&a, "4.2.1")
    );
}

/// 1.1.1 to 1.1.8 judge the manifests in the kubelet's static pod directory. When the kubelet's
/// configuration that would name it cannot be used, the conventional directory is a guess: an
/// error naming the file and the reason, not a pass or a fail. When the kubelet names none, the
/// verdicts say the path is assumed.
#[test]
fn manifest_checks_do_not_judge_a_guessed_static_pod_directory() {
    let manifests = [
        "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8",
    ];
    // The insecure node's only kubelet configuration (which names staticPodPath) broken.
    let n = kubeadm_node(false, SIM);
    n.root.write(
        "/var/lib/kubelet/custom.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: [/etc/kubernetes/manifests\n",
        0o600,
        0,
        0,
    );
    let s = collect(n.root.path(), n.proc.path(), None);
    let p = s
        .kubernetes
        .as_ref()
        .unwrap()
        .path("apiserver_manifest")
        .unwrap();
    assert!(p.source.contains("assumed"), "{}", p.source);
    let a = audit(&s);
    for id in manifests {
        assert_eq!(status(&a, id), Error, "{id}: {:?}", outcome(&a, id).result);
        let m = message(&a, id);
        assert!(
            m.contains("static pod directory is unknown")
                && m.contains("/var/lib/kubelet/custom.yaml (kubelet --config) could set it but could not be used: line 4"),
            "{id}: {m}"
        );
    }
    // The same file with the type the kubelet needs: known again, and judged (0644 fails).
    n.root.write(
        "/var/lib/kubelet/custom.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /etc/kubernetes/manifests\n",
        0o600,
        0,
        0,
    );
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(&a, &[("1.1.1", Fail), ("1.1.2", Fail)]);
    assert!(
        !message(&a, "1.1.1").contains("assumed"),
        "{}",
        message(&a, "1.1.1")
    );

    // The kubelet names no static pod directory: the kubeadm default is judged, and said to be
    // assumed, in a failure as in a pass.
    n.root.write(
        "/var/lib/kubelet/custom.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
        0o600,
        0,
        0,
    );
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    expect(&a, &[("1.1.1", Fail), ("1.1.2", Fail)]);
    for id in ["1.1.1", "1.1.2"] {
        let m = message(&a, id);
        assert!(
            m.contains("path assumed, as the kubelet names no static pod directory"),
            "{id}: {m}"
        );
    }
    let n = kubeadm_node(true, SIM);
    n.root.write(
        "/srv/kubelet/config.json",
        &std::fs::read_to_string(n.root.host("/srv/kubelet/config.json"))
            .unwrap()
            .replace("\"staticPodPath\": \"/etc/kubernetes/manifests\",", ""),
        0o600,
        0,
        0,
    );
    let a = audit(&collect(n.root.path(), n.proc.path(), None));
    let r = &outcome(&a, "1.1.1").result;
    assert_eq!(r.status, Pass, "{r:?}");
    assert!(
        r.message.as_deref().unwrap().contains(
            "(kube-apiserver.yaml in /etc/kubernetes/manifests (assumed: kubeadm default, as the kubelet names no static pod directory"
        ),
        "{r:?}"
    );
    assert!(
        r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .starts_with("path assumed"),
        "{r:?}"
    );
}
