//! etcd started with a `--config-file` (or `ETCD_CONFIG_FILE`) takes every setting from that
//! file and ignores its flags and `ETCD_*` environment. A simulated etcd (a real process named
//! etcd, with a real command line and environment) on a temporary node root: when the file it
//! names is missing, is not a file, is not YAML, or holds a value etcd refuses, the collected
//! fact carries the reason (the path, the OS error or the line) and the etcd checks (2.1 to 2.7)
//! are errors naming the file, never fails (or passes) judged on defaults or on flags etcd
//! ignores. A readable file is judged on its values.

use bulkhead_checks::Status::*;
use bulkhead_facts::Snapshot;
use bulkhead_kube_tests::{
    audit, collect, expect, outcome, status, NodeRoot, ProcView, SimComponent,
};

const SIM: &str = env!("CARGO_BIN_EXE_kube-sim");

const CONFIG: &str = "/etc/etcd/etcd.yaml";

/// Flags that would pass every TLS check, were they read.
const GOOD_FLAGS: &str = "--name=node-1 --cert-file=/etc/etcd/pki/server.crt --key-file=/etc/etcd/pki/server.key \
 --client-cert-auth=true --trusted-ca-file=/etc/etcd/pki/ca.crt --listen-client-urls=https://127.0.0.1:2379 \
 --peer-cert-file=/etc/etcd/pki/peer.crt --peer-key-file=/etc/etcd/pki/peer.key --peer-client-cert-auth=true \
 --peer-trusted-ca-file=/etc/etcd/pki/ca.crt \
 --listen-peer-urls=https://10.0.0.10:2380";

const ETCD_CHECKS: [&str; 7] = ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"];

/// A node root with etcd's certificates in place.
fn node() -> NodeRoot {
    let r = NodeRoot::new();
    r.mkdir("/etc/etcd", 0o755, 0, 0);
    r.mkdir("/etc/etcd/pki", 0o755, 0, 0);
    for f in ["ca", "server", "peer"] {
        r.write(
            &format!("/etc/etcd/pki/{f}.crt"),
            "-----BEGIN CERTIFICATE-----\n",
            0o644,
            0,
            0,
        );
        r.write(
            &format!("/etc/etcd/pki/{f}.key"),
            "-----BEGIN PRIVATE KEY-----\n",
            0o600,
            0,
            0,
        );
    }
    r
}

/// Start a simulated etcd with `args` and `env`, collect from `root` through a proc view that
/// holds only it.
fn collect_etcd(root: &NodeRoot, args: &str, env: &[(&str, &str)]) -> Snapshot {
    let args: Vec<String> = args.split_whitespace().map(String::from).collect();
    let etcd = SimComponent::start(SIM, "etcd", &args, env);
    let proc = ProcView::new(&[etcd.pid()]);
    collect(root.path(), proc.path(), None)
}

/// Why the etcd configuration file could not be used, as collected.
fn config_reason(s: &Snapshot) -> String {
    let etcd = s.kubernetes.as_ref().unwrap().component("etcd").unwrap();
    let cfg = etcd
        .config
        .as_ref()
        .expect("the configuration file is recorded");
    assert_eq!(cfg.path, CONFIG);
    cfg.content
        .as_result()
        .expect_err("the configuration file could not be used")
        .to_string()
}

fn message(a: &bulkhead_checks::Audit, id: &str) -> String {
    outcome(a, id).result.message.clone().unwrap_or_default()
}

/// Every etcd check is an error naming the file and carrying `reason`.
fn all_errors_naming_the_file(s: &Snapshot, source: &str, reason: &str) {
    let a = audit(s);
    for id in ETCD_CHECKS {
        assert_eq!(status(&a, id), Error, "{id}: {:?}", outcome(&a, id).result);
        let m = message(&a, id);
        assert!(
            m.contains(&format!(
                "etcd takes its settings only from {CONFIG} ({source})"
            )) && m.ends_with(reason),
            "{id}: {m}"
        );
    }
}

/// (1) The file named on the command line is not under the audited root.
#[test]
fn missing_config_file_is_an_error_naming_it() {
    let root = node();
    let s = collect_etcd(&root, &format!("--config-file={CONFIG} {GOOD_FLAGS}"), &[]);
    let why = config_reason(&s);
    assert!(
        why.starts_with(&format!("{CONFIG}: not found under the audited root"))
            && why.contains("etcd --config-file names it")
            && why.contains("--root"),
        "{why}"
    );
    all_errors_naming_the_file(&s, "etcd --config-file", &why);
}

/// (2) A file that is not YAML, one etcd refuses (a quoted boolean), and a path that cannot be
/// read as a file (the OS error is kept).
#[test]
fn unreadable_config_file_is_an_error_with_the_reason() {
    let root = node();
    let args = format!("--config-file={CONFIG} {GOOD_FLAGS}");

    root.write(
        CONFIG,
        "name: node-1\nclient-transport-security:\n  cert-file: /etc/etcd/pki/server.crt\n  key-file: [oops\n",
        0o600,
        0,
        0,
    );
    let s = collect_etcd(&root, &args, &[]);
    let why = config_reason(&s);
    assert!(
        why.starts_with(&format!("{CONFIG}: line ")) && why.contains("invalid YAML"),
        "{why}"
    );
    all_errors_naming_the_file(&s, "etcd --config-file", &why);

    root.write(
        CONFIG,
        "name: node-1\nclient-transport-security:\n  client-cert-auth: \"true\"\n",
        0o600,
        0,
        0,
    );
    let s = collect_etcd(&root, &args, &[]);
    let why = config_reason(&s);
    assert_eq!(
        why,
        format!("{CONFIG}: line 3, column 21: client-transport-security.client-cert-auth is the string \"true\", but etcd decodes it as a boolean (true or false, unquoted) and does not start with this file")
    );
    all_errors_naming_the_file(&s, "etcd --config-file", &why);

    std::fs::remove_file(root.host(CONFIG)).unwrap();
    root.mkdir(CONFIG, 0o755, 0, 0);
    let s = collect_etcd(&root, &args, &[]);
    let why = config_reason(&s);
    assert!(
        why.starts_with("cannot read ")
            && why.contains(CONFIG)
            && why.contains("is a directory, not a regular file"),
        "{why}"
    );
    all_errors_naming_the_file(&s, "etcd --config-file", &why);
}

/// `ETCD_CONFIG_FILE` names the file when `--config-file` does not: the same error, naming the
/// variable.
#[test]
fn config_file_named_by_the_environment_is_read_the_same_way() {
    let root = node();
    let s = collect_etcd(&root, GOOD_FLAGS, &[("ETCD_CONFIG_FILE", CONFIG)]);
    let why = config_reason(&s);
    assert!(why.contains("etcd ETCD_CONFIG_FILE names it"), "{why}");
    all_errors_naming_the_file(&s, "etcd ETCD_CONFIG_FILE", &why);
}

/// (3) A readable file is judged on its values, and the flags etcd ignores do not count; an
/// empty `--config-file=` is no file, so the flags are read.
#[test]
fn readable_config_file_is_judged_on_its_values() {
    let root = node();
    root.write(
        CONFIG,
        "# etcd configuration\nname: node-1\nlisten-client-urls: https://127.0.0.1:2379\n\
client-transport-security:\n  cert-file: /etc/etcd/pki/server.crt   # server\n  key-file: '/etc/etcd/pki/server.key'\n  \
client-cert-auth: yes\n  trusted-ca-file: /etc/etcd/pki/ca.crt\npeer-transport-security:\n  auto-tls: true\n",
        0o600,
        0,
        0,
    );
    // The command line says the opposite of the file: etcd ignores it.
    let s = collect_etcd(
        &root,
        &format!(
            "--config-file={CONFIG} --client-cert-auth=false --peer-auto-tls=false {GOOD_FLAGS}"
        ),
        &[],
    );
    let etcd = s.kubernetes.as_ref().unwrap().component("etcd").unwrap();
    assert!(
        etcd.config.as_ref().unwrap().content.value().is_some(),
        "{:?}",
        etcd.config
    );
    let a = audit(&s);
    expect(
        &a,
        &[
            ("2.1", Pass),
            ("2.2", Pass),
            ("2.3", Pass),
            ("2.4", Fail),
            ("2.5", Fail),
            ("2.6", Fail),
            ("2.7", Manual),
        ],
    );
    let ev = outcome(&a, "2.2").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    assert_eq!(
        (ev.field.as_str(), ev.actual.as_str()),
        (
            "client-transport-security.client-cert-auth (/etc/etcd/etcd.yaml)",
            "true"
        )
    );
    assert!(
        message(&a, "2.4").starts_with(
            "listen-peer-urls not set in /etc/etcd/etcd.yaml (default http://localhost:2380)"
        ),
        "{}",
        message(&a, "2.4")
    );

    // An empty --config-file= names no file: etcd reads its flags.
    let s = collect_etcd(&root, &format!("--config-file= {GOOD_FLAGS}"), &[]);
    let etcd = s.kubernetes.as_ref().unwrap().component("etcd").unwrap();
    assert!(etcd.config.is_none(), "{:?}", etcd.config);
    let a = audit(&s);
    expect(
        &a,
        &[
            ("2.1", Pass),
            ("2.2", Pass),
            ("2.3", Pass),
            ("2.4", Pass),
            ("2.5", Pass),
            ("2.6", Pass),
        ],
    );
}

/// The data directory, judged by 1.1.11 and 1.1.12, is etcd's `data-dir` as etcd takes it: from
/// the configuration file when it has one (the `--data-dir` flag beside it is ignored), else
/// `<name>.etcd` in its working directory with the file's `name`. When the file could not be
/// used, no directory is guessed: both checks are errors naming the file and the reason.
#[test]
fn data_directory_comes_from_the_config_file_or_is_unknown() {
    let root = node();
    root.mkdir("/var/lib/etcd", 0o755, 0, 0);
    root.mkdir("/var/lib/etcd-from-file", 0o700, 998, 997);
    root.mkdir("/node-7.etcd", 0o700, 998, 997);
    let args = format!("--config-file={CONFIG} --data-dir=/var/lib/etcd {GOOD_FLAGS}");
    let data_dir = |s: &Snapshot| {
        s.kubernetes
            .as_ref()
            .unwrap()
            .path("etcd_data_dir")
            .cloned()
    };

    root.write(
        CONFIG,
        "name: node-1\ndata-dir: /var/lib/etcd-from-file\n",
        0o600,
        0,
        0,
    );
    let s = collect_etcd(&root, &args, &[]);
    let p = data_dir(&s).expect("the data directory is known");
    assert_eq!(
        (p.path.as_str(), p.source.as_str()),
        (
            "/var/lib/etcd-from-file",
            "etcd data-dir (/etc/etcd/etcd.yaml)"
        )
    );
    let a = audit(&s);
    expect(&a, &[("1.1.11", Pass), ("1.1.12", Pass)]);
    assert_eq!(
        outcome(&a, "1.1.11").result.objects[0].name,
        "/var/lib/etcd-from-file"
    );

    // No data-dir in the file: <name>.etcd in etcd's working directory (the simulated etcd
    // runs in /), with the file's name, not the flag's.
    root.write(CONFIG, "name: node-7\n", 0o600, 0, 0);
    let s = collect_etcd(&root, &args, &[]);
    let p = data_dir(&s).expect("the data directory is known");
    assert_eq!(
        (p.path.as_str(), p.source.as_str()),
        (
            "/node-7.etcd",
            "etcd working directory (no data-dir in /etc/etcd/etcd.yaml)"
        )
    );
    expect(&audit(&s), &[("1.1.11", Pass), ("1.1.12", Pass)]);

    // A file etcd would refuse: the directory is unknown, and nothing stands in for it.
    root.write(CONFIG, "name: node-1\ndata-dir: [oops\n", 0o600, 0, 0);
    let s = collect_etcd(&root, &args, &[]);
    let why = config_reason(&s);
    assert_eq!(data_dir(&s), None, "no guessed data directory");
    let a = audit(&s);
    for id in ["1.1.11", "1.1.12"] {
        assert_eq!(status(&a, id), Error, "{id}: {:?}", outcome(&a, id).result);
        let m = message(&a, id);
        assert!(
            m.starts_with("the etcd data directory is unknown, so no directory is judged: data-dir is unknown: etcd takes its settings only from /etc/etcd/etcd.yaml (etcd --config-file)")
                && m.ends_with(&why),
            "{id}: {m}"
        );
    }
}
