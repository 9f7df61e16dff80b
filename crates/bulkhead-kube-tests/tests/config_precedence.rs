//! Which setting wins, component by component, on real processes and real files: kube-proxy and
//! kube-scheduler started with `--config` ignore the flags the file covers (the reverse of the
//! kubelet); the kubelet's flags come from variables of its systemd unit's environment files
//! (kubeadm's layout), and the verdict names the file to change; the API server's deprecated
//! `--admission-control` names every plugin that runs; etcd reads only its own environment, so
//! a variable its service file gained after it started is not one of its settings.

use bulkhead_checks::Status::*;
use bulkhead_kube_tests::{
    audit, collect, expect, outcome, NodeRoot, ProcView, SimComponent, TempDir,
};

const SIM: &str = env!("CARGO_BIN_EXE_kube-sim");

fn a(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn note(a: &bulkhead_checks::Audit, id: &str) -> String {
    outcome(a, id).result.objects[0]
        .note
        .clone()
        .unwrap_or_default()
}

/// kube-proxy with `--config` and flags that contradict it: the file's metricsBindAddress
/// (0.0.0.0) is what it serves, not the `--metrics-bind-address=127.0.0.1:10249` beside it, and
/// its kubeconfig is the file's clientConnection.kubeconfig (0644), not the `--kubeconfig`
/// (0600) it ignores. The file lives outside the node root, as a ConfigMap mounted into the
/// kube-proxy container does: both it and the kubeconfig it names are read through the
/// process's own root.
#[test]
fn kube_proxy_takes_its_config_file_over_its_flags() {
    let r = NodeRoot::new();
    r.write(
        "/etc/kubernetes/proxy.conf",
        "apiVersion: v1\nkind: Config\n",
        0o600,
        0,
        0,
    );
    let inside = TempDir::new("proxy-cm");
    let dir = inside.path().display().to_string();
    let kubeconfig = format!("{dir}/kubeconfig.conf");
    std::fs::write(&kubeconfig, "apiVersion: v1\nkind: Config\n").unwrap();
    std::fs::set_permissions(
        &kubeconfig,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let config = format!("{dir}/config.conf");
    std::fs::write(
        &config,
        format!("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmetricsBindAddress: 0.0.0.0:10249\nclientConnection:\n  kubeconfig: {kubeconfig}\n"),
    )
    .unwrap();
    let sims = [SimComponent::start(
        SIM,
        "kube-proxy",
        &a(&format!(
            "--config={config} --metrics-bind-address=127.0.0.1:10249 --kubeconfig=/etc/kubernetes/proxy.conf"
        )),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let s = collect(r.path(), proc.path(), None);
    assert!(!r.host(&config).exists() && !r.host(&kubeconfig).exists());
    let au = audit(&s);
    expect(&au, &[("4.3.1", Fail), ("4.1.3", Fail), ("4.1.4", Pass)]);
    let ev = outcome(&au, "4.3.1").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    assert_eq!(ev.field, format!("metricsBindAddress ({config})"));
    assert_eq!(ev.actual, "0.0.0.0:10249");
    assert!(
        note(&au, "4.3.1")
            .contains("--metrics-bind-address=127.0.0.1:10249 on the command line is ignored"),
        "{}",
        note(&au, "4.3.1")
    );
    let judged = &outcome(&au, "4.1.3").result.objects[0];
    assert_eq!(judged.name, kubeconfig, "the file kube-proxy connects with");
    assert!(
        note(&au, "4.1.3")
            .contains("--kubeconfig=/etc/kubernetes/proxy.conf on the command line is ignored"),
        "{}",
        note(&au, "4.1.3")
    );

    // A file that is not a KubeProxyConfiguration stops kube-proxy: nothing is known of it.
    std::fs::write(&config, "apiVersion: v1\nkind: ConfigMap\n").unwrap();
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("4.3.1", Error), ("4.1.3", Error), ("4.1.4", Error)]);
    let m = outcome(&au, "4.3.1").result.message.clone().unwrap();
    assert!(
        m.contains("its kind is \"ConfigMap\", not KubeProxyConfiguration"),
        "{m}"
    );
}

const SCHED_CONFIG: &str = "/etc/kubernetes/scheduler-config.yaml";

/// kube-scheduler with `--config` ignores its deprecated `--profiling` and `--kubeconfig`
/// flags: profiling is on by default in the file (1.4.1 fails although `--profiling=false` is on
/// the command line), and 1.1.15 judges the kubeconfig the file names. `enableProfiling: false`
/// in the file passes whatever the flag says.
#[test]
fn kube_scheduler_takes_its_config_file_over_its_deprecated_flags() {
    let r = NodeRoot::new();
    r.mkdir("/etc/kubernetes", 0o755, 0, 0);
    for (f, mode) in [("scheduler.conf", 0o600), ("sched.kubeconfig", 0o644)] {
        r.write(
            &format!("/etc/kubernetes/{f}"),
            "apiVersion: v1\nkind: Config\n",
            mode,
            0,
            0,
        );
    }
    let write_config = |extra: &str| {
        r.write(
            SCHED_CONFIG,
            &format!("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nclientConnection:\n  kubeconfig: /etc/kubernetes/sched.kubeconfig\n{extra}"),
            0o600,
            0,
            0,
        )
    };
    write_config("");
    let sims = [SimComponent::start(
        SIM,
        "kube-scheduler",
        &a(&format!("--config={SCHED_CONFIG} --profiling=false --kubeconfig=/etc/kubernetes/scheduler.conf --bind-address=127.0.0.1")),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(
        &au,
        &[
            ("1.4.1", Fail),
            ("1.4.2", Pass),
            ("1.1.15", Fail),
            ("1.1.16", Pass),
        ],
    );
    let ev = outcome(&au, "1.4.1").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    assert_eq!(
        ev.field,
        format!("enableProfiling not set in {SCHED_CONFIG} (default true)")
    );
    assert!(note(&au, "1.4.1").contains("--profiling=false on the command line is ignored"));
    assert_eq!(
        outcome(&au, "1.1.15").result.objects[0].name,
        "/etc/kubernetes/sched.kubeconfig"
    );

    write_config("enableProfiling: false\n");
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("1.4.1", Pass)]);
    // Edited after the scheduler started, and not restarted: a pass resting on the file is not
    // proven.
    std::fs::File::options()
        .write(true)
        .open(r.host(SCHED_CONFIG))
        .unwrap()
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .unwrap();
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("1.4.1", Warn)]);
    assert!(
        note(&au, "1.4.1").starts_with(&format!("{SCHED_CONFIG} changed at")),
        "{}",
        note(&au, "1.4.1")
    );
}

/// kubeadm's kubelet service: the unit, its 10-kubeadm.conf drop-in (the one in
/// /etc/systemd/system hides the packaged one of the same name) and the environment files it
/// names. The running kubelet's command line is what systemd expanded from them: its
/// `--read-only-port=10255` beats `readOnlyPort: 0` of the config file, and the verdict says it
/// was written in `$KUBELET_EXTRA_ARGS` of /etc/default/kubelet. That file (0644) is judged with
/// the unit files (4.1.1): it holds kubelet flags; the hidden drop-in's file is not read.
#[test]
fn kubelet_flags_are_traced_to_the_unit_environment_files() {
    let r = NodeRoot::new();
    r.write(
        "/usr/lib/systemd/system/kubelet.service",
        "[Unit]\nDescription=kubelet\n[Service]\nExecStart=/usr/bin/kubelet\n",
        0o600,
        0,
        0,
    );
    r.write(
        "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "[Service]\nEnvironmentFile=-/etc/sysconfig/kubelet\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_EXTRA_ARGS\n",
        0o600,
        0,
        0,
    );
    r.write(
        "/etc/sysconfig/kubelet",
        "KUBELET_EXTRA_ARGS=--read-only-port=10255\n",
        0o600,
        0,
        0,
    );
    r.write(
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "[Service]\n\
         Environment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"\n\
         Environment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\n\
         EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\n\
         # kubeadm's advice: the user's flags go here\n\
         EnvironmentFile=-/etc/default/kubelet\n\
         ExecStart=\n\
         ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n",
        0o600,
        0,
        0,
    );
    r.mkdir("/var/lib/kubelet", 0o700, 0, 0);
    r.write(
        "/var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n",
        0o644,
        0,
        0,
    );
    r.write(
        "/etc/default/kubelet",
        "KUBELET_EXTRA_ARGS=--read-only-port=10255 --registry-password=hunter2-not-for-snapshots\n",
        0o644,
        0,
        0,
    );
    r.write(
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 0\nrotateCertificates: true\nauthentication:\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n",
        0o600,
        0,
        0,
    );
    r.write(
        "/etc/kubernetes/kubelet.conf",
        "apiVersion: v1\nkind: Config\n",
        0o600,
        0,
        0,
    );
    // What systemd runs: $VAR words split on white space, in ExecStart order.
    let sims = [SimComponent::start(
        SIM,
        "kubelet",
        &a("--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf \
            --config=/var/lib/kubelet/config.yaml \
            --container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10 \
            --read-only-port=10255 --registry-password=hunter2-not-for-snapshots"),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let s = collect(r.path(), proc.path(), None);
    let kubelet = &s.kubernetes.as_ref().unwrap().components["kubelet"];
    let files: Vec<&str> = kubelet.env_files.keys().map(String::as_str).collect();
    assert_eq!(
        files,
        [
            "/etc/default/kubelet",
            "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "/var/lib/kubelet/kubeadm-flags.env"
        ],
        "the hidden drop-in's environment file is not the service's"
    );
    assert_eq!(
        kubelet.env_files["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"]
            ["KUBELET_CONFIG_ARGS"],
        "--config=/var/lib/kubelet/config.yaml"
    );
    // A variable's value is a piece of the command line, masked as the kubelet's argv is.
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("hunter2"), "a secret reached the snapshot");
    assert_eq!(
        kubelet.env_files["/etc/default/kubelet"]["KUBELET_EXTRA_ARGS"],
        "--read-only-port=10255 --registry-password=***"
    );
    let au = audit(&s);
    expect(&au, &[("4.2.4", Fail), ("4.1.1", Fail), ("4.1.2", Pass)]);
    let ev = outcome(&au, "4.2.4").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    assert_eq!(ev.field, "--read-only-port (command line)");
    assert_eq!(
        note(&au, "4.2.4"),
        "written in $KUBELET_EXTRA_ARGS of /etc/default/kubelet (the kubelet's systemd unit expands it into the command line): change it there"
    );
    let r411 = &outcome(&au, "4.1.1").result;
    let failing: Vec<(&str, &str)> = r411
        .objects
        .iter()
        .filter(|o| o.status == Fail)
        .map(|o| (o.name.as_str(), o.note.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(failing.len(), 1, "{r411:?}");
    assert_eq!(failing[0].0, "/etc/default/kubelet");
    assert!(
        failing[0].1.contains("environment file of the kubelet's service (EnvironmentFile= of /etc/systemd/system/kubelet.service.d/10-kubeadm.conf)"),
        "{}",
        failing[0].1
    );
    // kubeadm-flags.env is 0644 in a 0700 directory: private in effect.
    assert!(r411
        .objects
        .iter()
        .any(|o| o.name == "/var/lib/kubelet/kubeadm-flags.env" && o.status == Pass));
    assert!(!r411
        .objects
        .iter()
        .any(|o| o.name == "/etc/sysconfig/kubelet"));
}

/// The deprecated `--admission-control` on a running API server: the plugins it lists run, the
/// default ones it leaves out (ServiceAccount) do not.
#[test]
fn deprecated_admission_control_names_every_plugin_that_runs() {
    let r = NodeRoot::new();
    let sims = [SimComponent::start(
        SIM,
        "kube-apiserver",
        &a("--authorization-mode=Node,RBAC --admission-control=NamespaceLifecycle,NodeRestriction,AlwaysAdmit"),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(
        &au,
        &[
            ("1.2.10", Fail),
            ("1.2.12", Fail),
            ("1.2.13", Pass),
            ("1.2.14", Pass),
            ("1.2.9", Fail),
        ],
    );
    assert!(note(&au, "1.2.12").ends_with("ServiceAccount is not listed, so it is off"));
}

/// etcd's service file edited after etcd started (or a distribution's file beside a static-pod
/// etcd): variables the running etcd does not have are not its settings. The same variable in
/// its environment is, and is shown as coming from there.
#[test]
fn etcd_service_file_variables_count_only_in_the_running_etcd() {
    let r = NodeRoot::new();
    r.write(
        "/etc/default/etcd",
        "# edited, etcd not restarted yet\nETCD_CLIENT_CERT_AUTH=true\nETCD_PEER_CLIENT_CERT_AUTH=true\n",
        0o644,
        0,
        0,
    );
    let flags = a("--name=node-1 --data-dir=/var/lib/etcd --cert-file=/etc/etcd/server.crt --key-file=/etc/etcd/server.key \
        --listen-client-urls=https://127.0.0.1:2379 --peer-cert-file=/etc/etcd/peer.crt --peer-key-file=/etc/etcd/peer.key \
        --listen-peer-urls=https://10.0.0.10:2380");
    let stale = [SimComponent::start(SIM, "etcd", &flags, &[])];
    let proc = ProcView::new(&[stale[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("2.2", Fail), ("2.5", Fail)]);
    // The failure says what waits in the file for etcd's next start (as after `harden --apply`).
    let pid = stale[0].pid();
    for (id, var) in [
        ("2.2", "ETCD_CLIENT_CERT_AUTH"),
        ("2.5", "ETCD_PEER_CLIENT_CERT_AUTH"),
    ] {
        let m = outcome(&au, id).result.message.clone().unwrap_or_default();
        assert!(
            m.ends_with(&format!(
                "/etc/default/etcd sets {var}=true, which the running etcd (pid {pid}) does not have: restart etcd to apply it, then audit again"
            )),
            "{id}: {m}"
        );
    }
    let loaded = [SimComponent::start(
        SIM,
        "etcd",
        &flags,
        &[
            ("ETCD_CLIENT_CERT_AUTH", "true"),
            ("ETCD_PEER_CLIENT_CERT_AUTH", "true"),
            // The switches alone would have etcd check certificates against the system's
            // public CAs (a fail); with its CA files it checks them against the cluster's.
            ("ETCD_TRUSTED_CA_FILE", "/etc/etcd/ca.crt"),
            ("ETCD_PEER_TRUSTED_CA_FILE", "/etc/etcd/ca.crt"),
        ],
    )];
    let proc = ProcView::new(&[loaded[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("2.2", Pass), ("2.5", Pass)]);
    let ev = outcome(&au, "2.2").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    assert_eq!(ev.field, "ETCD_CLIENT_CERT_AUTH (environment)");
}

/// 4.2.10 on a kubelet whose configuration file leaves rotateCertificates out: the kubelet's
/// default is false, so its client certificate is never renewed.
#[test]
fn kubelet_without_rotate_certificates_does_not_rotate() {
    let r = NodeRoot::new();
    r.write(
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
        0o600,
        0,
        0,
    );
    let sims = [SimComponent::start(
        SIM,
        "kubelet",
        &a("--config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf"),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("4.2.10", Fail)]);
    let ev = outcome(&au, "4.2.10").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    assert_eq!(ev.actual, "false");
}
