//! k3s on temporary roots with real files (real modes) and fake proc trees: its data directory
//! (`--data-dir`/`-d`, `data-dir:` in config.yaml, `K3S_DATA_DIR`, the rootless default) is
//! followed for every file of its layout, with where it came from; and a setting k3s passes
//! its embedded components from config.yaml (or a drop-in) is named with that file and line
//! in the evidence, not `(command line)`.
//!
//! Before: every k3s path was under /var/lib/rancher/k3s whatever the data directory, so a
//! k3s with `--data-dir /srv/k3s` had its real TLS keys, etcd data and kubeconfigs unjudged
//! (and stale files at the default place judged instead), and `--anonymous-auth (command
//! line)` was said of a value written in /etc/rancher/k3s/config.yaml.

use bulkhead_checks::{catalog, AuditOptions, Context, Selection, Status};
use bulkhead_collect::{collect, CollectOptions, Want};
use bulkhead_facts::Snapshot;
use bulkhead_testkit::TempDir as Temp;
use std::os::unix::fs::{symlink, PermissionsExt};

/// Write a file under the temporary root `t`, at its host path, with a mode.
fn put_file(t: &Temp, host_path: &str, content: &str, mode: u32) {
    let p = t.path().join(host_path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    std::fs::set_permissions(&p, PermissionsExt::from_mode(mode)).unwrap();
}

/// Make a directory under the temporary root `t`, at its host path, with a mode.
fn put_dir(t: &Temp, host_path: &str, mode: u32) {
    let p = t.path().join(host_path.trim_start_matches('/'));
    std::fs::create_dir_all(&p).unwrap();
    std::fs::set_permissions(&p, PermissionsExt::from_mode(mode)).unwrap();
}

/// A fake proc tree holding one k3s process (pid 700, root) with this command line,
/// environment and (when given) working directory.
fn k3s_proc(name: &str, argv: &[&str], env: &[&str], cwd: Option<&str>) -> Temp {
    let t = Temp::new(name);
    let d = t.path().join("700");
    std::fs::create_dir_all(d.join("ns")).unwrap();
    std::fs::write(
        d.join("status"),
        "Name:\tk3s-server\nPPid:\t1\nUid:\t0\t0\t0\t0\n",
    )
    .unwrap();
    std::fs::write(d.join("comm"), "k3s-server\n").unwrap();
    let mut cmdline = argv.join("\0");
    cmdline.push('\0');
    std::fs::write(d.join("cmdline"), cmdline).unwrap();
    symlink("/usr/local/bin/k3s", d.join("exe")).unwrap();
    symlink("pid:[4026531836]", d.join("ns/pid")).unwrap();
    let mut environ = env.join("\0");
    environ.push('\0');
    std::fs::write(d.join("environ"), environ).unwrap();
    if let Some(cwd) = cwd {
        symlink(cwd, d.join("cwd")).unwrap();
    }
    t
}

/// A node root with k3s's files both under /srv/k3s and, as a decoy, under the default
/// /var/lib/rancher/k3s: the default's files would pass, /srv/k3s's fail.
fn node(name: &str) -> Temp {
    let r = Temp::new(name);
    put_file(&r, "/etc/rancher/k3s/k3s.yaml", "kind: Config\n", 0o600);
    for (dir, key, kubeconfig, etcd) in [
        ("/srv/k3s", 0o644, 0o666, 0o755),
        ("/var/lib/rancher/k3s", 0o600, 0o600, 0o700),
    ] {
        put_file(&r, &format!("{dir}/server/tls/server-ca.crt"), "c", 0o644);
        put_file(&r, &format!("{dir}/server/tls/server-ca.key"), "k", key);
        put_file(
            &r,
            &format!("{dir}/server/token"),
            "K10x::server:S\n",
            0o600,
        );
        put_file(
            &r,
            &format!("{dir}/agent/kubelet.kubeconfig"),
            "kind: Config\n",
            kubeconfig,
        );
        put_dir(&r, &format!("{dir}/server/db/etcd"), etcd);
    }
    r
}

fn snapshot(root: &Temp, proc: &Temp) -> Snapshot {
    collect(&CollectOptions {
        root: root.path().to_path_buf(),
        proc: proc.path().to_path_buf(),
        docker: Want::Skip,
        kubernetes: Want::Required,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("collection failed: {e}"))
}

fn audit(s: &Snapshot) -> bulkhead_checks::Audit {
    let options = AuditOptions::default();
    let ctx = Context::new(s, &options);
    let b = catalog().kubernetes();
    bulkhead_checks::run(b, b.default_edition(), &ctx, &Selection::default())
}

fn result<'a>(au: &'a bulkhead_checks::Audit, id: &str) -> &'a bulkhead_checks::CheckResult {
    &au.outcomes
        .iter()
        .find(|o| o.check_id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
        .result
}

/// The names of the objects a check judged.
fn judged(au: &bulkhead_checks::Audit, id: &str) -> Vec<String> {
    result(au, id)
        .objects
        .iter()
        .map(|o| o.name.clone())
        .collect()
}

/// The evidence field of the first object of a check.
fn field(au: &bulkhead_checks::Audit, id: &str) -> String {
    let r = result(au, id);
    r.objects
        .iter()
        .find_map(|o| o.evidence.as_ref().map(|e| e.field.clone()))
        .unwrap_or_else(|| panic!("{id}: no evidence: {r:?}"))
}

/// The data directory recorded, with where it came from.
fn data_dir(s: &Snapshot) -> (String, String) {
    let p = &s.kubernetes.as_ref().unwrap().paths["k3s_data_dir"];
    (p.path.clone(), p.source.clone())
}

/// Every k3s file is judged under the data directory /srv/k3s, none under the default.
fn assert_judged_under_srv(au: &bulkhead_checks::Audit) {
    for (id, want) in [
        // server/tls/*.key 0644.
        ("1.1.21", Status::Fail),
        // The embedded etcd's data directory (found there, without --cluster-init) 0755.
        ("1.1.11", Status::Fail),
        // agent/kubelet.kubeconfig 0666.
        ("4.1.5", Status::Fail),
    ] {
        let r = result(au, id);
        assert_eq!(r.status, want, "{id}: {r:?}");
        let names = judged(au, id);
        assert!(!names.is_empty(), "{id}: nothing judged");
        for n in &names {
            assert!(n.starts_with("/srv/k3s/"), "{id} judged {n}");
        }
    }
    let text = format!("{au:?}");
    assert!(
        !text.contains("/var/lib/rancher/k3s/server/tls/server-ca.key"),
        "the default data directory was judged"
    );
}

#[test]
fn data_dir_on_the_command_line_is_followed() {
    let root = node("cli-root");
    for argv in [
        ["/usr/local/bin/k3s", "server", "--data-dir", "/srv/k3s"],
        ["/usr/local/bin/k3s", "server", "-d", "/srv/k3s/"],
        [
            "/usr/local/bin/k3s",
            "server",
            "--data-dir=/srv/k3s",
            "--debug",
        ],
    ] {
        let proc = k3s_proc("cli-proc", &argv, &[], None);
        let s = snapshot(&root, &proc);
        assert_eq!(
            data_dir(&s),
            ("/srv/k3s".into(), "k3s --data-dir (command line)".into()),
            "{argv:?}"
        );
        let k = s.kubernetes.as_ref().unwrap();
        assert!(k.components.contains_key("etcd"), "etcd under /srv/k3s");
        assert!(
            k.paths["kubelet_kubeconfig"]
                .source
                .contains("/srv/k3s (k3s --data-dir (command line))"),
            "{:?}",
            k.paths["kubelet_kubeconfig"]
        );
        assert_judged_under_srv(&audit(&s));
    }
}

#[test]
fn data_dir_in_config_yaml_is_followed() {
    let root = node("cfg-root");
    put_file(
        &root,
        "/etc/rancher/k3s/config.yaml",
        "# moved\ndata-dir: /srv/k3s\n",
        0o600,
    );
    let proc = k3s_proc("cfg-proc", &["/usr/local/bin/k3s", "server"], &[], None);
    let s = snapshot(&root, &proc);
    assert_eq!(
        data_dir(&s),
        (
            "/srv/k3s".into(),
            "k3s --data-dir (/etc/rancher/k3s/config.yaml, line 2)".into()
        )
    );
    assert_judged_under_srv(&audit(&s));

    // A drop-in's data-dir replaces the main file's.
    put_file(
        &root,
        "/etc/rancher/k3s/config.yaml",
        "data-dir: /var/lib/rancher/k3s\n",
        0o600,
    );
    put_file(
        &root,
        "/etc/rancher/k3s/config.yaml.d/50-dir.yaml",
        "data-dir: /srv/k3s\n",
        0o600,
    );
    let s = snapshot(&root, &proc);
    assert_eq!(
        data_dir(&s).1,
        "k3s --data-dir (/etc/rancher/k3s/config.yaml.d/50-dir.yaml, line 1)"
    );
    assert_judged_under_srv(&audit(&s));
}

#[test]
fn k3s_data_dir_in_the_environment_is_followed() {
    let root = node("env-root");
    let proc = k3s_proc(
        "env-proc",
        &["/usr/local/bin/k3s", "server"],
        &["PATH=/usr/bin", "K3S_DATA_DIR=/srv/k3s", "K3S_TOKEN=SECRET"],
        None,
    );
    let s = snapshot(&root, &proc);
    assert_eq!(
        data_dir(&s),
        ("/srv/k3s".into(), "k3s K3S_DATA_DIR (environment)".into())
    );
    assert_judged_under_srv(&audit(&s));
    assert!(!serde_json::to_string(&s).unwrap().contains("SECRET"));
}

/// The command line beats the configuration file, which beats K3S_DATA_DIR, which beats the
/// default (k3s puts the file's settings before the command line's; the variable only fills
/// in a flag no argument gives).
#[test]
fn data_dir_precedence() {
    let root = node("prec-root");
    put_file(
        &root,
        "/etc/rancher/k3s/config.yaml",
        "data-dir: /srv/b\n",
        0o600,
    );
    let env = ["K3S_DATA_DIR=/srv/c"];
    let proc = k3s_proc(
        "prec-proc",
        &["/usr/local/bin/k3s", "server", "--data-dir", "/srv/a"],
        &env,
        None,
    );
    assert_eq!(data_dir(&snapshot(&root, &proc)).0, "/srv/a");
    let proc = k3s_proc("prec-proc", &["/usr/local/bin/k3s", "server"], &env, None);
    assert_eq!(data_dir(&snapshot(&root, &proc)).0, "/srv/b");
    std::fs::remove_file(root.path().join("etc/rancher/k3s/config.yaml")).unwrap();
    assert_eq!(data_dir(&snapshot(&root, &proc)).0, "/srv/c");
    let proc = k3s_proc("prec-proc", &["/usr/local/bin/k3s", "server"], &[], None);
    let s = snapshot(&root, &proc);
    assert_eq!(
        data_dir(&s),
        ("/var/lib/rancher/k3s".into(), "k3s default".into())
    );
    // The default layout keeps its plain name.
    assert_eq!(
        s.kubernetes.as_ref().unwrap().paths["kubelet_kubeconfig"].source,
        "k3s default"
    );
    // K3S_CONFIG_FILE names the configuration file, over the default.
    put_file(&root, "/opt/k3s.yaml", "data-dir: /srv/k3s\n", 0o600);
    let proc = k3s_proc(
        "prec-proc",
        &["/usr/local/bin/k3s", "server", "-c", "/etc/none.yaml"],
        &["K3S_CONFIG_FILE=/opt/k3s.yaml"],
        None,
    );
    assert_eq!(
        data_dir(&snapshot(&root, &proc)),
        (
            "/srv/k3s".into(),
            "k3s --data-dir (/opt/k3s.yaml, line 1)".into()
        )
    );
}

/// A relative data directory is relative to k3s's working directory; when that cannot be read,
/// the directory is unknown and the checks of its files say so (never judge a guess).
#[test]
fn a_relative_data_dir_needs_the_working_directory() {
    let root = node("rel-root");
    let argv = ["/usr/local/bin/k3s", "server", "--data-dir", "k3s"];
    let proc = k3s_proc("rel-proc", &argv, &[], Some("/srv"));
    let s = snapshot(&root, &proc);
    assert_eq!(data_dir(&s).0, "/srv/k3s");
    assert_judged_under_srv(&audit(&s));

    let proc = k3s_proc("rel-proc", &argv, &[], None);
    let s = snapshot(&root, &proc);
    let k = s.kubernetes.as_ref().unwrap();
    assert!(!k.paths.contains_key("k3s_data_dir"));
    assert!(!k.paths.contains_key("kubelet_kubeconfig"));
    let why = &k.unknown_paths["k3s_data_dir"];
    assert!(
        why.contains("relative path k3s") && why.contains("working directory"),
        "{why}"
    );
    let au = audit(&s);
    for id in ["1.1.21", "1.1.20", "4.1.5", "1.1.1"] {
        let r = result(&au, id);
        assert_eq!(r.status, Status::Error, "{id}: {r:?}");
        assert!(
            r.message
                .as_deref()
                .unwrap_or_default()
                .contains("working directory"),
            "{id}: {r:?}"
        );
    }
    assert!(!format!("{au:?}").contains("/var/lib/rancher/k3s/server"));
}

/// A rootless k3s keeps its state in ~/.rancher/k3s of the user running it.
#[test]
fn rootless_k3s_uses_the_home_directory() {
    let root = node("rootless-root");
    let proc = k3s_proc(
        "rootless-proc",
        &["/usr/local/bin/k3s", "server", "--rootless"],
        &["HOME=/home/kube"],
        None,
    );
    let s = snapshot(&root, &proc);
    let (dir, source) = data_dir(&s);
    assert_eq!(dir, "/home/kube/.rancher/k3s");
    assert!(source.contains("rootless"), "{source}");
    // `~` in a given directory is the home too.
    let proc = k3s_proc(
        "rootless-proc",
        &["/usr/local/bin/k3s", "server", "--rootless", "-d", "~/k3s"],
        &["HOME=/home/kube"],
        None,
    );
    assert_eq!(data_dir(&snapshot(&root, &proc)).0, "/home/kube/k3s");
}

/// A setting written in config.yaml, a drop-in, or a `kube-apiserver-arg:`/`kubelet-arg:`
/// list entry there is named with its file and line; the command line's stays `(command line)`.
#[test]
fn evidence_names_the_k3s_configuration_file_and_line() {
    let root = node("ev-root");
    put_file(&root,
        "/etc/rancher/k3s/config.yaml",
        "token: CONFIGSECRET\nkube-apiserver-arg:\n  - \"anonymous-auth=true\"\n  - profiling=false\nkubelet-arg: read-only-port=10255\n",
        0o600,
    );
    put_file(
        &root,
        "/etc/rancher/k3s/config.yaml.d/10-authz.yaml",
        "kube-apiserver-arg+:\n  - authorization-mode=AlwaysAllow\n",
        0o600,
    );
    let proc = k3s_proc(
        "ev-proc",
        &[
            "/usr/local/bin/k3s",
            "server",
            "--kubelet-arg",
            "anonymous-auth=true",
        ],
        &[],
        None,
    );
    let s = snapshot(&root, &proc);
    let au = audit(&s);
    assert_eq!(
        field(&au, "1.2.1"),
        "--anonymous-auth (/etc/rancher/k3s/config.yaml, line 3)"
    );
    assert_eq!(
        field(&au, "1.2.15"),
        "--profiling (/etc/rancher/k3s/config.yaml, line 4)"
    );
    assert_eq!(
        field(&au, "1.2.6"),
        "--authorization-mode (/etc/rancher/k3s/config.yaml.d/10-authz.yaml, line 2)"
    );
    // A scalar (not a list) is on the key's line.
    assert_eq!(
        field(&au, "4.2.4"),
        "--read-only-port (/etc/rancher/k3s/config.yaml, line 5)"
    );
    assert_eq!(field(&au, "4.2.1"), "--anonymous-auth (command line)");
    assert_eq!(result(&au, "1.2.1").status, Status::Fail);
    assert_eq!(result(&au, "1.2.15").status, Status::Pass);
    let text = serde_json::to_string(&s).unwrap() + &format!("{au:?}");
    assert!(!text.contains("CONFIGSECRET"), "token leaked");
}

/// An empty config.yaml (or one of comments only) sets nothing; k3s starts with it.
#[test]
fn an_empty_k3s_config_sets_nothing() {
    let root = node("empty-root");
    put_file(
        &root,
        "/etc/rancher/k3s/config.yaml",
        "# nothing yet\n",
        0o600,
    );
    let proc = k3s_proc("empty-proc", &["/usr/local/bin/k3s", "agent"], &[], None);
    let s = snapshot(&root, &proc);
    let k = s.kubernetes.as_ref().unwrap();
    assert!(k.components["kubelet"].unusable_config.is_empty());
}
