//! etcd started with a `--config-file` takes every setting from that YAML file and ignores its
//! flags and `ETCD_*` environment, so a fix that added or changed a flag would change nothing.
//! The fixes edit the file instead (`client-transport-security.auto-tls: false`), keeping
//! its comments and layout, and claim a check only when its evaluator passes on etcd as the
//! edited file leaves it. A file the audit could not use, or one harden cannot read or parse
//! now, is not edited: no fix, and the reason names the file.
//!
//! Each node is built in code (etcd's command line as the collector records it, its file read
//! as the collector reads it) with the file under a temporary root; the plan is applied there
//! and the node judged again as etcd restarted on the edited file.

mod common;

use bulkhead_checks::Status;
use bulkhead_facts::kube::*;
use bulkhead_facts::{Fact, Snapshot};
use bulkhead_harden::apply::{apply, ApplyOptions};
use bulkhead_harden::{plan, FixKind};
use common::{kube_audit, kube_component, kube_node, put, request, status, temp_root};
use std::path::Path;

const CONFIG: &str = "/etc/etcd/etcd.yaml";
const CERT: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUB3Vsa2hlYWQ=\n-----END CERTIFICATE-----\n";
const KEY: &str =
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIGJ1bGtoZWFk\n-----END EC PRIVATE KEY-----\n";

/// Flags that would pass 2.3 and 2.6, were they read: etcd ignores them beside its file.
const FLAGS: &[&str] = &["--auto-tls=false", "--peer-auto-tls=false"];

/// The file: TLS for clients from certificate files, and automatic TLS on for both sides, which
/// etcd ignores beside the files (clients) or without https:// URLs (peers, on etcd's default).
const TEXT: &str = "# etcd of the test node\nname: node-1\ndata-dir: /var/lib/etcd\nlisten-client-urls: https://127.0.0.1:2379\nclient-transport-security:\n  cert-file: /etc/etcd/pki/server.crt   # the serving pair\n  key-file: /etc/etcd/pki/server.key\n  trusted-ca-file: /etc/etcd/pki/ca.crt\n  auto-tls: true\npeer-transport-security:\n  auto-tls: true   # unused\n";

/// The configuration file as the collector records it.
fn read_as_collected(root: &Path) -> Fact<serde_json::Value> {
    match std::fs::read_to_string(root.join(CONFIG.trim_start_matches('/'))) {
        Ok(text) => match bulkhead_collect::kube::decode_etcd_config(&text) {
            Ok(v) => Fact::Value(v),
            Err(e) => Fact::Unavailable(format!("{CONFIG}: {e}")),
        },
        Err(e) => Fact::Unavailable(format!("cannot read {CONFIG}: {e}")),
    }
}

/// A node running etcd with `--config-file` and `flags`, its file read from under `root`.
fn node(root: &Path, flags: &[&str]) -> Snapshot {
    let args: Vec<String> = std::iter::once(format!("--config-file={CONFIG}"))
        .chain(flags.iter().map(|f| f.to_string()))
        .collect();
    let mut etcd = kube_component(ETCD, "/usr/bin/etcd", &args);
    etcd.config = Some(ConfigFile {
        path: CONFIG.into(),
        source: "etcd --config-file".into(),
        content: read_as_collected(root),
        modified_at: None,
    });
    kube_node(root, vec![etcd], KubeFacts::default())
}

const SELECT: [&str; 2] = ["2.3", "2.6"];

/// `s` as the collector leaves it when etcd's configuration file cannot be used: its content is
/// unavailable, for `why`.
fn config_unusable(s: &mut bulkhead_facts::Snapshot, why: String) {
    let etcd = s
        .kubernetes
        .as_mut()
        .unwrap()
        .components
        .get_mut(ETCD)
        .unwrap();
    etcd.config.as_mut().unwrap().content = Fact::Unavailable(why);
}

/// etcd's file turns automatic TLS on for both sides, while the flags beside it say the
/// opposite: the fix edits the file in its two sections (comments kept, no flag touched), and
/// etcd restarted on the applied file passes 2.3 and 2.6.
#[test]
fn etcd_config_file_is_edited_and_the_reaudit_passes() {
    let root = temp_root("etcd-config");
    put(&root, CONFIG, TEXT);
    let s = node(&root, FLAGS);
    let before = kube_audit(&s, &SELECT);
    for id in SELECT {
        assert_eq!(status(&before, id), Status::Fail, "{id} before");
    }
    let p = plan(&s, &[before], &request(&root, &SELECT)).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.fixes);
    let fix = &p.fixes[0];
    assert_eq!(fix.kind, FixKind::EtcdConfig);
    assert_eq!(fix.id, format!("etcd-config:{CONFIG}"));
    assert_eq!(
        fix.title,
        format!("Harden etcd's configuration file {CONFIG}")
    );
    assert_eq!(fix.target.path.as_deref(), Some(CONFIG));
    assert_eq!(fix.checks, vec!["2.3", "2.6"]);
    assert_eq!(
        fix.changes,
        vec![
            "client-transport-security.auto-tls: false",
            "peer-transport-security.auto-tls: false"
        ]
    );
    assert!(
        fix.notes[0].contains(&format!(
            "etcd takes every setting from {CONFIG} (etcd --config-file) and ignores its flags"
        )),
        "{:?}",
        fix.notes
    );
    assert_eq!(
        fix.restart.as_ref().map(|r| r.service.as_str()),
        Some("etcd")
    );
    assert_eq!(fix.action.edits.len(), 1);
    let edit = &fix.action.edits[0];
    assert_eq!(edit.path, CONFIG);
    assert_eq!(
        edit.after,
        TEXT.replace("  auto-tls: true", "  auto-tls: false")
    );

    apply(
        &p,
        &ApplyOptions {
            root: root.to_path_buf(),
            include_review: true,
            state_dir: Some(root.join("state")),
        },
    )
    .unwrap();
    let written = std::fs::read_to_string(root.join(CONFIG.trim_start_matches('/'))).unwrap();
    assert_eq!(written, edit.after);
    // etcd restarted on the edited file, with the same command line.
    let again = kube_audit(&node(&root, FLAGS), &SELECT);
    for id in SELECT {
        assert_eq!(status(&again, id), Status::Pass, "{id} after");
    }
}

/// A file holding nothing but a comment sets nothing: etcd serves its defaults, plain HTTP on
/// localhost, where it asks for no client certificate whatever the file says. Writing
/// `client-cert-auth` would not close 2.2, so nothing is edited, and the reason says what is
/// missing, in the file's terms.
#[test]
fn an_empty_etcd_config_file_serves_plain_http_and_is_not_edited() {
    let root = temp_root("etcd-config-empty");
    put(&root, CONFIG, "# settings below\n");
    let s = node(&root, FLAGS);
    let before = kube_audit(&s, &["2.2"]);
    assert_eq!(status(&before, "2.2"), Status::Fail);
    let p = plan(&s, &[before], &request(&root, &["2.2"])).unwrap();
    assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
    assert_eq!(
        p.unfixed[0].reason,
        "etcd asks for no certificate on plain-HTTP listen-client-urls (http://localhost:2379): serve its clients only on https:// with client-transport-security.cert-file and client-transport-security.key-file, and set client-transport-security.trusted-ca-file to the CA that signs the clients' certificates; harden neither makes certificates nor guesses which CA signs them"
    );
}

/// The checks failed on a file that has become unusable (the audit was made before, or by an
/// earlier bulkhead that read it differently): no fix is planned, no flag is added, and each
/// check's reason names the file and why.
#[test]
fn an_unusable_etcd_config_file_is_not_edited() {
    let root = temp_root("etcd-config-unusable");
    put(&root, CONFIG, TEXT);
    let good = node(&root, FLAGS);
    let before = kube_audit(&good, &SELECT);
    for id in SELECT {
        assert_eq!(status(&before, id), Status::Fail, "{id} before");
    }
    // Plan from `s` and the audit before: no fix, both checks unfixed in their order.
    let no_fix = |s: &Snapshot| {
        let p = plan(s, std::slice::from_ref(&before), &request(&root, &SELECT)).unwrap();
        assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
        assert_eq!(p.unfixed.len(), 2, "{:#?}", p.unfixed);
        assert_eq!(
            p.unfixed
                .iter()
                .map(|u| u.check.as_str())
                .collect::<Vec<_>>(),
            SELECT
        );
        p
    };

    // What the snapshot holds: the audit could not use the file.
    let why = format!("{CONFIG}: line 3, column 5: invalid YAML: did not find expected key");
    let mut s = good.clone();
    config_unusable(&mut s, why.clone());
    let p = no_fix(&s);
    for u in &p.unfixed {
        assert!(
            u.reason.starts_with(&format!(
                "etcd takes its settings only from {CONFIG} (etcd --config-file), ignoring its flags and ETCD_* variables, and that file could not be used: {why}; "
            )) && u.reason.ends_with("correct the file by hand, then run harden again"),
            "{}",
            u.reason
        );
    }

    // The file on disk no longer parses.
    put(
        &root,
        CONFIG,
        "name: node-1\nclient-transport-security: {cert-file: /x\n",
    );
    let p = no_fix(&good);
    for u in &p.unfixed {
        assert!(
            u.reason.starts_with(&format!("{CONFIG} (etcd --config-file): line "))
                && u.reason.contains("invalid YAML")
                && u.reason.ends_with(
                    "harden does not edit a file etcd would not start with: correct it by hand, then run harden again"
                ),
            "{}",
            u.reason
        );
    }

    // A directory where the file should be: the OS error, naming the file.
    std::fs::remove_file(root.join(CONFIG.trim_start_matches('/'))).unwrap();
    std::fs::create_dir(root.join(CONFIG.trim_start_matches('/'))).unwrap();
    let p = no_fix(&good);
    for u in &p.unfixed {
        assert!(
            u.reason.starts_with(&format!(
                "etcd takes its settings only from {CONFIG} (etcd --config-file), which harden cannot read now: cannot read {CONFIG}"
            )),
            "{}",
            u.reason
        );
    }

    // Gone from under the root: etcd may read it in its own mount namespace.
    std::fs::remove_dir(root.join(CONFIG.trim_start_matches('/'))).unwrap();
    let p = no_fix(&good);
    assert!(
        p.unfixed[0]
            .reason
            .contains("which was not found under --root")
            && p.unfixed[0]
                .reason
                .contains("set client-transport-security.auto-tls: false there by hand"),
        "{}",
        p.unfixed[0].reason
    );
}

/// A fresh audit of an etcd whose configuration file cannot be used has the etcd checks in
/// error, not failed: harden plans nothing for them and lists each with the audit's reason, so
/// the plan is not silently shorter than the audit.
#[test]
fn checks_the_audit_could_not_judge_are_listed_not_planned() {
    let root = temp_root("etcd-config-unjudged");
    put(&root, CONFIG, TEXT);
    let mut s = node(&root, FLAGS);
    let why = format!("{CONFIG}: line 3, column 5: invalid YAML: did not find expected key");
    config_unusable(&mut s, why.clone());
    let audit = kube_audit(&s, &SELECT);
    for id in SELECT {
        assert_eq!(status(&audit, id), Status::Error, "{id}");
    }
    let p = plan(&s, std::slice::from_ref(&audit), &request(&root, &SELECT)).unwrap();
    assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
    assert_eq!(
        p.unfixed
            .iter()
            .map(|u| u.check.as_str())
            .collect::<Vec<_>>(),
        SELECT
    );
    for u in &p.unfixed {
        assert!(
            u.reason.starts_with("the audit could not judge it (")
                && u.reason.contains(&why)
                && u.reason
                    .ends_with("correct what it names, then run harden again"),
            "{}",
            u.reason
        );
    }
    // Without a selection too: an audit error is never dropped from the plan.
    let p = plan(&s, std::slice::from_ref(&audit), &request(&root, &[])).unwrap();
    for id in SELECT {
        assert!(
            p.unfixed.iter().any(|u| u.check == id),
            "{id}: {:#?}",
            p.unfixed
        );
    }
}

/// etcd's file serves both sides on https:// with nothing but automatic TLS, and the pairs are
/// next to its CA files. With 2.1, 2.3, 2.4 and 2.6 selected, the TLS fixes give each side its
/// pair, and the switches are planned on their result: four fixes of the one file, each built on
/// the previous one's content, all reviewed. Applied together they leave a file etcd restarts
/// with, passing the four checks; the switches alone are refused by apply, changing nothing.
#[test]
fn automatic_tls_goes_off_in_the_file_after_the_pairs() {
    let root = temp_root("etcd-config-auto-tls-pairs");
    for name in ["ca.crt", "server.crt", "peer.crt"] {
        put(&root, &format!("/etc/etcd/pki/{name}"), CERT);
    }
    for name in ["server.key", "peer.key"] {
        put(&root, &format!("/etc/etcd/pki/{name}"), KEY);
    }
    let text = "# etcd of the test node\nname: node-1\nlisten-client-urls: https://127.0.0.1:2379\nadvertise-client-urls: https://127.0.0.1:2379\nlisten-peer-urls: https://127.0.0.1:2380\ninitial-advertise-peer-urls: https://127.0.0.1:2380\nclient-transport-security:\n  trusted-ca-file: /etc/etcd/pki/ca.crt\n  auto-tls: true\npeer-transport-security:\n  trusted-ca-file: /etc/etcd/pki/ca.crt\n  auto-tls: true\n";
    put(&root, CONFIG, text);
    let select = ["2.1", "2.3", "2.4", "2.6"];
    let s = node(&root, &[]);
    let before = kube_audit(&s, &select);
    for id in select {
        assert_eq!(status(&before, id), Status::Fail, "{id} before");
    }
    let p = plan(&s, &[before], &request(&root, &select)).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let ids: Vec<&str> = p.fixes.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            format!("etcd-config:{CONFIG}#client-tls"),
            format!("etcd-config:{CONFIG}#peer-tls"),
            format!("etcd-config:{CONFIG}#no-auto-tls"),
            format!("etcd-config:{CONFIG}#no-peer-auto-tls"),
        ]
    );
    assert_eq!(
        p.fixes[2].changes,
        vec!["client-transport-security.auto-tls: false"]
    );
    assert_eq!(
        p.fixes[3].changes,
        vec!["peer-transport-security.auto-tls: false"]
    );
    for pair in p.fixes.windows(2) {
        let (a, b) = (&pair[0].action.edits[0], &pair[1].action.edits[0]);
        assert_eq!(b.before.as_deref(), Some(a.after.as_str()));
    }
    assert!(p
        .fixes
        .iter()
        .all(|f| f.safety == bulkhead_harden::Safety::Review));

    // The switches without the pairs: refused, the file untouched.
    let mut alone = p.clone();
    alone
        .fixes
        .retain(|f| f.checks == ["2.3"] || f.checks == ["2.6"]);
    let opts = ApplyOptions {
        root: root.to_path_buf(),
        include_review: true,
        state_dir: Some(root.join("state")),
    };
    let refused = match apply(&alone, &opts) {
        Ok(_) => panic!("the switches were applied without the pairs"),
        Err(e) => e.to_string(),
    };
    assert!(refused.contains(CONFIG), "{refused}");
    assert_eq!(
        std::fs::read_to_string(root.join(CONFIG.trim_start_matches('/'))).unwrap(),
        text
    );

    apply(&p, &opts).unwrap();
    let written = std::fs::read_to_string(root.join(CONFIG.trim_start_matches('/'))).unwrap();
    assert_eq!(written, p.fixes[3].action.edits[0].after);
    assert!(
        written.starts_with("# etcd of the test node\n"),
        "{written}"
    );
    let again = kube_audit(&node(&root, &[]), &select);
    for id in select {
        assert_eq!(status(&again, id), Status::Pass, "{id} after");
    }
}
