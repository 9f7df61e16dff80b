//! etcd's transport security (2.1 for clients, 2.4 for peers) fixed with the certificate
//! material the node already has, never with material harden makes: kubeadm's
//! `/etc/kubernetes/pki/etcd/server.crt` and `server.key` (or `peer.*`), or the same names in
//! a directory another setting names (etcd's CA files, the API server's `--etcd-cafile`). Each
//! file must be a regular, non-empty PEM file under `--root` of the right kind (a certificate, an
//! unencrypted private key): a link out of the root or a FIFO is never used. Plain HTTP listen
//! URLs are switched to https:// with their advertised URLs, and the API server of the node
//! follows when it reaches etcd there (or the fix is refused when it could not). Without a
//! usable pair, the check stays unfixed with what is missing and how to make it.
//!
//! Each node is built in code (etcd's command line as the kubelet would start it from its
//! manifest, or its file or environment file as the collector reads them), with real files
//! under a temporary root; the plan's edited files are then judged again as etcd restarted
//! on them.

mod common;

use bulkhead_checks::Status;
use bulkhead_facts::kube::*;
use bulkhead_facts::{Fact, Snapshot};
use bulkhead_harden::{plan, FixKind, Safety};
use common::{kube_audit, kube_component, kube_node, put, request, status, temp_root};
use std::collections::BTreeMap;
use std::path::Path;

const ETCD_MANIFEST: &str = "/etc/kubernetes/manifests/etcd.yaml";
const API_MANIFEST: &str = "/etc/kubernetes/manifests/kube-apiserver.yaml";
const PKI: &str = "/etc/kubernetes/pki/etcd";
const CERT: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUB3Vsa2hlYWQ=\n-----END CERTIFICATE-----\n";
const KEY: &str =
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIGJ1bGtoZWFk\n-----END EC PRIVATE KEY-----\n";

/// A kubeadm etcd manifest with `flags`, mounting kubeadm's certificate directory.
fn etcd_manifest(flags: &[&str]) -> String {
    let mut m = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n");
    for f in flags {
        m.push_str(&format!("    - {f}\n"));
    }
    m.push_str("    image: registry.k8s.io/etcd:3.5.12-0\n    name: etcd\n    volumeMounts:\n    - mountPath: /var/lib/etcd\n      name: etcd-data\n    - mountPath: /etc/kubernetes/pki/etcd\n      name: etcd-certs\n  hostNetwork: true\n  volumes:\n  - hostPath:\n      path: /etc/kubernetes/pki/etcd\n      type: DirectoryOrCreate\n    name: etcd-certs\n  - hostPath:\n      path: /var/lib/etcd\n      type: DirectoryOrCreate\n    name: etcd-data\n");
    m
}

fn api_manifest(flags: &[&str]) -> String {
    let mut m = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n");
    for f in flags {
        m.push_str(&format!("    - {f}\n"));
    }
    m.push_str("    image: registry.k8s.io/kube-apiserver:v1.30.2\n    name: kube-apiserver\n  hostNetwork: true\n");
    m
}

/// The command (without the program) a manifest gives its first container.
fn args_of(manifest: &str) -> Vec<String> {
    let docs = bulkhead_sources::yaml::parse(manifest).unwrap();
    let c = docs[0]
        .root
        .to_json(bulkhead_sources::yaml::Schema::Core)
        .pointer("/spec/containers/0/command")
        .cloned()
        .unwrap();
    c.as_array().unwrap()[1..]
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path.trim_start_matches('/'))).unwrap()
}

/// A kubeadm node running etcd (and the API server, when its manifest is there) as the kubelet
/// starts them from their manifests under `root`.
fn static_node(root: &Path) -> Snapshot {
    let mut paths = BTreeMap::new();
    let mut components = vec![kube_component(
        ETCD,
        "/usr/local/bin/etcd",
        &args_of(&read(root, ETCD_MANIFEST)),
    )];
    paths.insert(
        "etcd_manifest".to_string(),
        ResolvedPath::configured(ETCD_MANIFEST, "kubelet staticPodPath (test)"),
    );
    if root.join(API_MANIFEST.trim_start_matches('/')).exists() {
        components.push(kube_component(
            APISERVER,
            "/usr/local/bin/kube-apiserver",
            &args_of(&read(root, API_MANIFEST)),
        ));
        paths.insert(
            "apiserver_manifest".to_string(),
            ResolvedPath::configured(API_MANIFEST, "kubelet staticPodPath (test)"),
        );
    }
    kube_node(
        root,
        components,
        KubeFacts {
            platform: Platform {
                kind: "kubeadm".into(),
                managed: false,
                evidence: vec![],
            },
            paths,
            ..Default::default()
        },
    )
}

fn pki(root: &Path, names: &[(&str, &str)]) {
    for (name, content) in names {
        put(root, &format!("{PKI}/{name}"), content);
    }
}

/// kubeadm's server pair is there, etcd serves https:// with its automatic certificate: the fix
/// points --cert-file and --key-file at the pair (review, with what clients must do), and etcd
/// restarted from the edited manifest passes 2.1.
#[test]
fn kubeadm_pair_is_given_to_etcd() {
    let root = temp_root("etcd-tls-pair");
    pki(
        &root,
        &[("ca.crt", CERT), ("server.crt", CERT), ("server.key", KEY)],
    );
    let flags = [
        "--name=node-1",
        "--data-dir=/var/lib/etcd",
        "--listen-client-urls=https://127.0.0.1:2379",
        "--advertise-client-urls=https://10.0.0.10:2379",
        "--auto-tls=true",
    ];
    put(&root, ETCD_MANIFEST, &etcd_manifest(&flags));
    let s = static_node(&root);
    let before = kube_audit(&s, &["2.1"]);
    assert_eq!(status(&before, "2.1"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["2.1"])).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.fixes);
    let fix = &p.fixes[0];
    assert_eq!(fix.kind, FixKind::StaticPod);
    assert_eq!(fix.safety, Safety::Review);
    assert_eq!(fix.checks, vec!["2.1"]);
    assert_eq!(fix.id, format!("static-pod:{ETCD_MANIFEST}#client-tls"));
    assert_eq!(
        fix.changes,
        vec![
            format!("--cert-file={PKI}/server.crt"),
            format!("--key-file={PKI}/server.key"),
        ]
    );
    assert!(
        fix.notes[0].starts_with(&format!(
            "{PKI}/server.crt and {PKI}/server.key were found in {PKI} (the directory of etcd's --trusted-ca-file)"
        )) || fix.notes[0].starts_with(&format!(
            "{PKI}/server.crt and {PKI}/server.key were found in {PKI} (kubeadm's etcd directory)"
        )),
        "{:?}",
        fix.notes
    );
    let mb = fix.may_break.join("\n");
    assert!(
        mb.contains("harden checked only that they are PEM files"),
        "{mb}"
    );
    assert!(
        mb.contains("the API server needs --etcd-servers with https:// URLs and --etcd-cafile naming that CA, and --etcd-certfile/--etcd-keyfile"),
        "{mb}"
    );
    assert_eq!(fix.action.edits.len(), 1);
    let after = fix.action.edits[0].after.clone();
    assert!(
        after.contains(&format!(
            "    - --cert-file={PKI}/server.crt\n    - --key-file={PKI}/server.key\n"
        )),
        "{after}"
    );
    // etcd as the kubelet restarts it from the edited manifest.
    put(&root, ETCD_MANIFEST, &after);
    assert_eq!(
        status(&kube_audit(&static_node(&root), &["2.1"]), "2.1"),
        Status::Pass
    );
}

/// Plain HTTP listen URLs switch to https:// (same host and port) with the advertised URLs, and
/// the API server of the node, which reaches etcd there and trusts etcd's CA, follows in the
/// same fix. Without --etcd-cafile the API server would be cut off: the fix is refused, saying
/// so and naming the CA file next to the pair.
#[test]
fn http_urls_switch_with_the_api_server() {
    let root = temp_root("etcd-tls-http");
    pki(
        &root,
        &[("ca.crt", CERT), ("server.crt", CERT), ("server.key", KEY)],
    );
    let flags = [
        "--name=node-1",
        "--listen-client-urls=http://127.0.0.1:2379,http://10.0.0.10:2379",
        "--advertise-client-urls=http://10.0.0.10:2379",
    ];
    put(&root, ETCD_MANIFEST, &etcd_manifest(&flags));
    put(
        &root,
        API_MANIFEST,
        &api_manifest(&[
            "--etcd-servers=http://127.0.0.1:2379",
            "--authorization-mode=Node,RBAC",
        ]),
    );
    let s = static_node(&root);
    let before = kube_audit(&s, &["2.1"]);
    assert_eq!(status(&before, "2.1"), Status::Fail);
    let p = plan(&s, std::slice::from_ref(&before), &request(&root, &["2.1"])).unwrap();
    assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
    assert_eq!(
        p.unfixed[0].reason,
        format!("the API server on this node reaches etcd at http://127.0.0.1:2379 (--etcd-servers (command line)): with etcd on https:// it could not verify etcd's certificate (it has no --etcd-cafile) and would lose its storage; harden does not guess which CA signed etcd's certificate: give the API server --etcd-cafile naming that CA ({PKI}/ca.crt is there, if that CA signed it), then run harden again")
    );

    put(
        &root,
        API_MANIFEST,
        &api_manifest(&[
            "--etcd-servers=http://127.0.0.1:2379",
            &format!("--etcd-cafile={PKI}/ca.crt"),
            "--authorization-mode=Node,RBAC",
        ]),
    );
    let s = static_node(&root);
    let p = plan(&s, std::slice::from_ref(&before), &request(&root, &["2.1"])).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let fix = &p.fixes[0];
    assert_eq!(
        fix.changes,
        vec![
            format!("--cert-file={PKI}/server.crt"),
            format!("--key-file={PKI}/server.key"),
            "--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.10:2379".into(),
            "--advertise-client-urls=https://10.0.0.10:2379".into(),
            format!("kube-apiserver: --etcd-servers=https://127.0.0.1:2379 (in {API_MANIFEST})"),
        ]
    );
    let mb = fix.may_break.join("\n");
    assert!(
        mb.contains("every client URL of etcd changes from http:// to https:// (http://127.0.0.1:2379, http://10.0.0.10:2379 becomes https://127.0.0.1:2379,https://10.0.0.10:2379)"),
        "{mb}"
    );
    assert_eq!(fix.action.edits.len(), 2);
    assert_eq!(fix.action.edits[1].path, API_MANIFEST);
    assert!(fix.action.edits[1]
        .after
        .contains("    - --etcd-servers=https://127.0.0.1:2379\n"));
    put(&root, ETCD_MANIFEST, &fix.action.edits[0].after);
    put(&root, API_MANIFEST, &fix.action.edits[1].after);
    assert_eq!(
        status(&kube_audit(&static_node(&root), &["2.1"]), "2.1"),
        Status::Pass
    );
}

/// A certificate without its key, a key that is a link out of the root, a FIFO: none is used.
/// The check stays unfixed, and the reason says what is missing where, and how to make it.
#[test]
fn incomplete_or_unsafe_material_is_not_used() {
    let root = temp_root("etcd-tls-missing");
    pki(&root, &[("server.crt", CERT)]);
    let flags = [
        "--name=node-1",
        "--listen-client-urls=http://127.0.0.1:2379",
        "--advertise-client-urls=http://127.0.0.1:2379",
    ];
    put(&root, ETCD_MANIFEST, &etcd_manifest(&flags));
    let s = static_node(&root);
    let before = kube_audit(&s, &["2.1"]);
    let unfixed = |root: &Path| {
        let p = plan(&s, std::slice::from_ref(&before), &request(root, &["2.1"])).unwrap();
        assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
        assert_eq!(p.unfixed.len(), 1, "{:#?}", p.unfixed);
        p.unfixed[0].reason.clone()
    };
    let reason = unfixed(&root);
    assert_eq!(
        reason,
        format!("neither --cert-file nor --key-file is set, and harden found no certificate and key to give etcd for its clients: it looked for server.crt and server.key, or server.pem and server-key.pem in {PKI} (kubeadm's etcd directory): {PKI}/server.key is missing. On a kubeadm node, `kubeadm init phase certs etcd-server` writes {PKI}/server.crt and server.key from etcd's CA ({PKI}/ca.crt and ca.key); elsewhere, issue a serving certificate from the CA etcd's clients trust (the API server's --etcd-cafile), naming every address they connect to, and write it and its unencrypted key as PEM files etcd can read (the key readable by no one else). Then run harden again, or set --cert-file and --key-file to them and --listen-client-urls to https:// yourself; harden never makes keys or certificates")
    );

    // The key, a link to a real key outside the root: resolved inside the root, it points at
    // nothing, and nothing outside is read.
    let outside = temp_root("etcd-tls-outside");
    put(&outside, "/server.key", KEY);
    let key = root.join(PKI.trim_start_matches('/')).join("server.key");
    std::os::unix::fs::symlink(outside.join("server.key"), &key).unwrap();
    let reason = unfixed(&root);
    assert!(
        reason.contains(&format!("{PKI}/server.key: the symbolic link {PKI}/server.key points to {}, which does not exist", outside.join("server.key").display())),
        "{reason}"
    );
    // The same with a relative link climbing out: `..` stops at the root.
    std::fs::remove_file(&key).unwrap();
    let up = "../".repeat(root.components().count() + 4);
    std::os::unix::fs::symlink(
        format!("{up}{}", outside.join("server.key").display()),
        &key,
    )
    .unwrap();
    let reason = unfixed(&root);
    assert!(reason.contains("which does not exist"), "{reason}");

    // A FIFO where the key should be: refused without being opened.
    std::fs::remove_file(&key).unwrap();
    let c = std::ffi::CString::new(key.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a path this test owns.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reason = unfixed(&root);
    assert!(
        reason.contains(&format!("cannot read {PKI}/server.key")) && reason.contains("FIFO"),
        "{reason}"
    );

    // Not PEM, or an encrypted key etcd cannot use.
    std::fs::remove_file(&key).unwrap();
    pki(
        &root,
        &[(
            "server.key",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )],
    );
    let reason = unfixed(&root);
    assert!(
        reason.contains(&format!(
            "{PKI}/server.key holds no unencrypted PEM private key"
        )),
        "{reason}"
    );
    pki(&root, &[("server.key", KEY), ("server.crt", "")]);
    let reason = unfixed(&root);
    assert!(
        reason.contains(&format!("{PKI}/server.crt is empty")),
        "{reason}"
    );
}

/// etcd reading a `--config-file` gets the pair and https:// in that file, named by its keys;
/// etcd configured through /etc/default/etcd gets ETCD_* variables there. In both, the
/// material is found next to the CA file etcd already trusts (not kubeadm's directory).
#[test]
fn config_file_and_environment_file_are_edited_where_etcd_reads_them() {
    let root = temp_root("etcd-tls-config");
    for name in ["ca.crt", "server.crt", "peer.crt"] {
        put(&root, &format!("/etc/etcd/pki/{name}"), CERT);
    }
    for name in ["server.key", "peer.key"] {
        put(&root, &format!("/etc/etcd/pki/{name}"), KEY);
    }
    const CONFIG: &str = "/etc/etcd/etcd.yaml";
    let text = "# etcd of the test node\nname: node-1\nlisten-client-urls: http://127.0.0.1:2379\nadvertise-client-urls: http://127.0.0.1:2379\nclient-transport-security:\n  trusted-ca-file: /etc/etcd/pki/ca.crt\n";
    put(&root, CONFIG, text);
    let config_node = |root: &Path| {
        let mut etcd = kube_component(ETCD, "/usr/bin/etcd", &[format!("--config-file={CONFIG}")]);
        etcd.config = Some(ConfigFile {
            path: CONFIG.into(),
            source: "etcd --config-file".into(),
            content: Fact::Value(
                bulkhead_collect::kube::decode_etcd_config(&read(root, CONFIG)).unwrap(),
            ),
            modified_at: None,
        });
        kube_node(root, vec![etcd], KubeFacts::default())
    };
    let s = config_node(&root);
    let before = kube_audit(&s, &["2.1"]);
    assert_eq!(status(&before, "2.1"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["2.1"])).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let fix = &p.fixes[0];
    assert_eq!(fix.kind, FixKind::EtcdConfig);
    assert_eq!(
        fix.changes,
        vec![
            "client-transport-security.cert-file: /etc/etcd/pki/server.crt",
            "client-transport-security.key-file: /etc/etcd/pki/server.key",
            "listen-client-urls: https://127.0.0.1:2379",
            "advertise-client-urls: https://127.0.0.1:2379",
        ]
    );
    assert!(fix.notes[0].contains("found in /etc/etcd/pki (the directory of etcd's client-transport-security.trusted-ca-file)"), "{:?}", fix.notes);
    assert!(
        fix.may_break
            .iter()
            .any(|m| m.contains("no API server runs on this node")),
        "{:?}",
        fix.may_break
    );
    put(&root, CONFIG, &fix.action.edits[0].after);
    assert!(read(&root, CONFIG).starts_with("# etcd of the test node\n"));
    assert_eq!(
        status(&kube_audit(&config_node(&root), &["2.1"]), "2.1"),
        Status::Pass
    );

    // /etc/default/etcd (Debian's etcd-server), peers on plain HTTP: 2.4.
    const ENV: &str = "/etc/default/etcd";
    let env_text = "# etcd\nETCD_NAME=node-1\nETCD_PEER_TRUSTED_CA_FILE=/etc/etcd/pki/ca.crt\nETCD_LISTEN_PEER_URLS=http://10.0.0.10:2380\nETCD_INITIAL_ADVERTISE_PEER_URLS=http://10.0.0.10:2380\nETCD_INITIAL_CLUSTER=node-1=http://10.0.0.10:2380,node-2=http://10.0.0.11:2380\n";
    put(&root, ENV, env_text);
    let env_node = |root: &Path| {
        let vars: BTreeMap<String, String> = read(root, ENV)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        let mut etcd = kube_component(ETCD, "/usr/bin/etcd", &[]);
        etcd.env = vars.clone();
        etcd.env_files.insert(ENV.into(), vars);
        kube_node(root, vec![etcd], KubeFacts::default())
    };
    let s = env_node(&root);
    let before = kube_audit(&s, &["2.4"]);
    assert_eq!(status(&before, "2.4"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["2.4"])).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let fix = &p.fixes[0];
    assert_eq!(fix.kind, FixKind::ServiceConfig);
    assert_eq!(fix.id, format!("service-config:{ENV}#peer-tls"));
    assert_eq!(
        fix.restart.as_ref().map(|r| r.service.as_str()),
        Some("etcd")
    );
    assert_eq!(
        fix.changes,
        vec![
            "ETCD_PEER_CERT_FILE=/etc/etcd/pki/peer.crt",
            "ETCD_PEER_KEY_FILE=/etc/etcd/pki/peer.key",
            "ETCD_LISTEN_PEER_URLS=https://10.0.0.10:2380",
            "ETCD_INITIAL_ADVERTISE_PEER_URLS=https://10.0.0.10:2380",
            "ETCD_INITIAL_CLUSTER=node-1=https://10.0.0.10:2380,node-2=http://10.0.0.11:2380",
        ]
    );
    assert!(
        fix.may_break
            .iter()
            .any(|m| m
                .contains("etcdctl member update MEMBER_ID --peer-urls=https://10.0.0.10:2380")),
        "{:?}",
        fix.may_break
    );
    put(&root, ENV, &fix.action.edits[0].after);
    assert_eq!(
        status(&kube_audit(&env_node(&root), &["2.4"]), "2.4"),
        Status::Pass
    );
}

/// etcd running as a uid that cannot read root's 0600 key is not given it.
#[test]
fn a_key_etcd_cannot_read_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let root = temp_root("etcd-tls-unreadable");
    pki(&root, &[("peer.crt", CERT), ("peer.key", KEY)]);
    let key = root.join(PKI.trim_start_matches('/')).join("peer.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let flags = [
        "--name=node-1",
        "--listen-peer-urls=https://127.0.0.1:2380",
        "--peer-auto-tls=true",
    ];
    put(&root, ETCD_MANIFEST, &etcd_manifest(&flags));
    let mut s = static_node(&root);
    let me = unsafe { libc::geteuid() };
    s.kubernetes
        .as_mut()
        .unwrap()
        .components
        .get_mut(ETCD)
        .unwrap()
        .process
        .uid = me + 1;
    let before = kube_audit(&s, &["2.4"]);
    let p = plan(&s, &[before], &request(&root, &["2.4"])).unwrap();
    assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
    assert!(
        p.unfixed[0].reason.contains(&format!(
            "etcd runs as uid {} and cannot read {PKI}/peer.key",
            me + 1
        )) && p.unfixed[0]
            .reason
            .contains("`kubeadm init phase certs etcd-peer`"),
        "{}",
        p.unfixed[0].reason
    );
}

/// Selected with 2.1 (2.4), the automatic certificate check 2.3 (2.6) of a side that serves
/// https:// with nothing but etcd's automatic certificate is planned on the result of the TLS
/// fix that gives the side kubeadm's pair: a second fix of the same manifest, chained on the
/// first's edit (its `before` is the first's `after`), reviewed like it, and etcd restarted from
/// the manifest both leave passes both checks. The order of the selection does not matter.
#[test]
fn automatic_tls_goes_off_on_top_of_the_pair_the_same_plan_gives() {
    for (side, tls, auto, flags, pair, changes) in [
        (
            "client",
            "2.1",
            "2.3",
            [
                "--name=node-1",
                "--data-dir=/var/lib/etcd",
                "--listen-client-urls=https://127.0.0.1:2379",
                "--advertise-client-urls=https://10.0.0.10:2379",
                "--auto-tls=true",
            ],
            [("server.crt", CERT), ("server.key", KEY)],
            vec![
                format!("--cert-file={PKI}/server.crt"),
                format!("--key-file={PKI}/server.key"),
            ],
        ),
        (
            "peer",
            "2.4",
            "2.6",
            [
                "--name=node-1",
                "--data-dir=/var/lib/etcd",
                "--listen-peer-urls=https://10.0.0.10:2380",
                "--initial-advertise-peer-urls=https://10.0.0.10:2380",
                "--peer-auto-tls=true",
            ],
            [("peer.crt", CERT), ("peer.key", KEY)],
            vec![
                format!("--peer-cert-file={PKI}/peer.crt"),
                format!("--peer-key-file={PKI}/peer.key"),
            ],
        ),
    ] {
        let root = temp_root(&format!("etcd-tls-auto-{side}"));
        pki(&root, &pair);
        put(&root, ETCD_MANIFEST, &etcd_manifest(&flags));
        let s = static_node(&root);
        let before = kube_audit(&s, &[tls, auto]);
        assert_eq!(status(&before, tls), Status::Fail);
        assert_eq!(status(&before, auto), Status::Fail);
        // Alone, the switch is refused: the side has no certificate files to serve.
        let p = plan(&s, std::slice::from_ref(&before), &request(&root, &[auto])).unwrap();
        assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
        assert!(
            p.unfixed[0].reason.contains("first, then run harden again"),
            "{}",
            p.unfixed[0].reason
        );
        for select in [[auto, tls], [tls, auto]] {
            let p = plan(&s, std::slice::from_ref(&before), &request(&root, &select)).unwrap();
            assert!(p.unfixed.is_empty(), "{side}: {:#?}", p.unfixed);
            assert_eq!(p.fixes.len(), 2, "{side}: {:#?}", p.fixes);
            let (first, second) = (&p.fixes[0], &p.fixes[1]);
            assert_eq!(first.checks, vec![tls]);
            assert_eq!(first.changes, changes);
            assert_eq!(second.checks, vec![auto]);
            let (tag, flag) = match side {
                "client" => ("no-auto-tls", "--auto-tls"),
                _ => ("no-peer-auto-tls", "--peer-auto-tls"),
            };
            assert_eq!(second.id, format!("static-pod:{ETCD_MANIFEST}#{tag}"));
            assert_eq!(second.kind, FixKind::StaticPod);
            assert_eq!(second.changes, vec![format!("{flag}=false")]);
            // Reviewed: chosen without the fix it builds on, apply would refuse it.
            assert_eq!(second.safety, Safety::Review);
            assert!(
                second.notes[0].starts_with(&format!("planned on the result of fix {}", first.id)),
                "{:?}",
                second.notes
            );
            assert_eq!(second.action.edits.len(), 1);
            let (e1, e2) = (&first.action.edits[0], &second.action.edits[0]);
            assert_eq!(
                (e1.path.as_str(), e2.path.as_str()),
                (ETCD_MANIFEST, ETCD_MANIFEST)
            );
            assert_eq!(e2.before.as_deref(), Some(e1.after.as_str()));
            assert_eq!(e2.before_sha256.as_deref(), Some(e1.after_sha256.as_str()));
            assert!(
                e2.after.contains(&format!("    - {flag}=false\n")),
                "{}",
                e2.after
            );
            for c in &changes {
                assert!(e2.after.contains(&format!("    - {c}\n")), "{}", e2.after);
            }
            // etcd as the kubelet restarts it from the manifest both fixes leave.
            let root2 = temp_root(&format!("etcd-tls-auto-{side}-after"));
            pki(&root2, &pair);
            put(&root2, ETCD_MANIFEST, &e2.after);
            let after = kube_audit(&static_node(&root2), &[tls, auto]);
            assert_eq!(status(&after, tls), Status::Pass, "{side}");
            assert_eq!(status(&after, auto), Status::Pass, "{side}");
        }
    }
}

/// Without a certificate pair on the node, the TLS check stays unfixed, and so does the
/// automatic certificate check, with the reason it has alone: no certificate files will exist.
#[test]
fn automatic_tls_stays_on_when_no_pair_will_be_given() {
    for (tls, auto, flags) in [
        (
            "2.1",
            "2.3",
            [
                "--name=node-1",
                "--listen-client-urls=https://127.0.0.1:2379",
                "--advertise-client-urls=https://127.0.0.1:2379",
                "--auto-tls=true",
            ],
        ),
        (
            "2.4",
            "2.6",
            [
                "--name=node-1",
                "--listen-peer-urls=https://10.0.0.10:2380",
                "--initial-advertise-peer-urls=https://10.0.0.10:2380",
                "--peer-auto-tls=true",
            ],
        ),
    ] {
        let root = temp_root(&format!("etcd-tls-auto-none-{tls}"));
        pki(&root, &[("ca.crt", CERT)]);
        put(&root, ETCD_MANIFEST, &etcd_manifest(&flags));
        let s = static_node(&root);
        let before = kube_audit(&s, &[tls, auto]);
        let alone = plan(&s, std::slice::from_ref(&before), &request(&root, &[auto])).unwrap();
        assert!(alone.fixes.is_empty(), "{:#?}", alone.fixes);
        let refused = alone.unfixed[0].reason.clone();
        assert!(
            refused.starts_with("etcd serves its ")
                && refused.contains("with its automatic certificate")
                && refused.ends_with("first, then run harden again"),
            "{refused}"
        );
        let p = plan(
            &s,
            std::slice::from_ref(&before),
            &request(&root, &[tls, auto]),
        )
        .unwrap();
        assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
        assert_eq!(p.unfixed.len(), 2, "{:#?}", p.unfixed);
        let reason = |id: &str| {
            p.unfixed
                .iter()
                .find(|u| u.check == id)
                .unwrap_or_else(|| panic!("{id} unfixed: {:#?}", p.unfixed))
                .reason
                .clone()
        };
        assert!(
            reason(tls).contains("harden found no certificate and key"),
            "{}",
            reason(tls)
        );
        assert_eq!(reason(auto), refused);
    }
}

/// The same through /etc/default/etcd: the peer pair, then ETCD_PEER_AUTO_TLS=false on its
/// result, in the one file, and etcd restarted by its service from it passes 2.4 and 2.6.
#[test]
fn automatic_peer_tls_goes_off_in_the_environment_file_after_the_pair() {
    let root = temp_root("etcd-tls-auto-env");
    put(&root, "/etc/etcd/pki/ca.crt", CERT);
    put(&root, "/etc/etcd/pki/peer.crt", CERT);
    put(&root, "/etc/etcd/pki/peer.key", KEY);
    const ENV: &str = "/etc/default/etcd";
    let env_text = "ETCD_NAME=node-1\nETCD_PEER_TRUSTED_CA_FILE=/etc/etcd/pki/ca.crt\nETCD_LISTEN_PEER_URLS=https://10.0.0.10:2380\nETCD_INITIAL_ADVERTISE_PEER_URLS=https://10.0.0.10:2380\nETCD_PEER_AUTO_TLS=true\n";
    put(&root, ENV, env_text);
    let env_node = |root: &Path| {
        let vars: BTreeMap<String, String> = read(root, ENV)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut etcd = kube_component(ETCD, "/usr/bin/etcd", &[]);
        etcd.env = vars.clone();
        etcd.env_files.insert(ENV.into(), vars);
        kube_node(root, vec![etcd], KubeFacts::default())
    };
    let s = env_node(&root);
    let before = kube_audit(&s, &["2.4", "2.6"]);
    assert_eq!(status(&before, "2.4"), Status::Fail);
    assert_eq!(status(&before, "2.6"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["2.6", "2.4"])).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 2, "{:#?}", p.fixes);
    assert_eq!(p.fixes[0].id, format!("service-config:{ENV}#peer-tls"));
    assert_eq!(
        p.fixes[1].id,
        format!("service-config:{ENV}#no-peer-auto-tls")
    );
    assert_eq!(p.fixes[1].changes, vec!["ETCD_PEER_AUTO_TLS=false"]);
    let (e1, e2) = (&p.fixes[0].action.edits[0], &p.fixes[1].action.edits[0]);
    assert_eq!(e2.before.as_deref(), Some(e1.after.as_str()));
    put(&root, ENV, &e2.after);
    let after = kube_audit(&env_node(&root), &["2.4", "2.6"]);
    assert_eq!(status(&after, "2.4"), Status::Pass);
    assert_eq!(status(&after, "2.6"), Status::Pass);
}
