//! A real etcd (Debian's etcd-server) started by the test on free loopback ports with its own
//! data directory: with TLS and client-certificate authentication and without, configured once
//! by flags and once only by `ETCD_*` environment. The collector reads the running process
//! through a proc view holding only this etcd; files are the real ones under `/`.

use bulkhead_checks::Status::*;
use bulkhead_kube_tests::{audit, collect, expect, outcome, ProcView};
use bulkhead_testkit::{EtcdOptions, TestEtcd};

fn etcd_account() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("etcd:"))?;
    let f: Vec<&str> = line.split(':').collect();
    Some((f[2].parse().ok()?, f[3].parse().ok()?))
}

fn audit_etcd(e: &TestEtcd) -> bulkhead_checks::Audit {
    let proc = ProcView::new(&[e.pid()]);
    let mut s = collect(std::path::Path::new("/"), proc.path(), None);
    let k = s.kubernetes.as_mut().unwrap();
    assert_eq!(
        k.targets.selected,
        vec!["etcd"],
        "only etcd runs in this view"
    );
    // As `--targets master,etcd`: the data-directory checks are in the master group.
    k.select_targets(&["master".into(), "etcd".into()]).unwrap();
    audit(&s)
}

fn secure(via_env: bool) {
    let run_as = etcd_account();
    let Some(e) = TestEtcd::start(EtcdOptions {
        tls: true,
        client_cert_auth: true,
        peer_client_cert_auth: true,
        via_env,
        run_as,
        ..Default::default()
    }) else {
        return;
    };
    // The probe used below for automatic TLS: here etcd refuses a client without a certificate.
    assert!(!e.answers_without_client_cert());
    let a = audit_etcd(&e);
    expect(
        &a,
        &[
            ("2.1", Pass),
            ("2.2", Pass),
            ("2.3", Pass),
            ("2.4", Pass),
            ("2.5", Pass),
            ("2.6", Pass),
            ("1.1.11", Pass),
        ],
    );
    if run_as.is_some() {
        expect(&a, &[("1.1.12", Pass)]);
    }
    let ev = outcome(&a, "2.2").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    let want = if via_env {
        "ETCD_CLIENT_CERT_AUTH (environment)"
    } else {
        "--client-cert-auth (command line)"
    };
    assert_eq!(ev.field, want);
    assert_eq!(ev.actual, "true", "the switch is not masked as a secret");
    let data = outcome(&a, "1.1.11").result.objects[0].name.clone();
    assert_eq!(
        data,
        e.data_dir().display().to_string(),
        "data directory from the running etcd"
    );
}

fn plain(via_env: bool) {
    let Some(e) = TestEtcd::start(EtcdOptions {
        via_env,
        ..Default::default()
    }) else {
        return;
    };
    let a = audit_etcd(&e);
    expect(
        &a,
        &[
            ("2.1", Fail),
            ("2.2", Fail),
            ("2.3", Pass),
            ("2.4", Fail),
            ("2.5", Fail),
            ("2.6", Pass),
            ("2.7", Fail),
        ],
    );
    // Not the etcd account's, so the owner check fails on a node that has one.
    if etcd_account().is_some() {
        expect(&a, &[("1.1.12", Fail)]);
    }
}

#[test]
fn etcd_with_tls_and_client_certs_by_flags() {
    secure(false);
}

#[test]
fn etcd_with_tls_and_client_certs_by_environment() {
    secure(true);
}

#[test]
fn etcd_without_tls_by_flags() {
    plain(false);
}

#[test]
fn etcd_without_tls_by_environment() {
    plain(true);
}

/// TLS with a CA file for clients' and peers' certificates but no client-certificate switches:
/// etcd asks for certificates anyway (a CA file turns the checking on), and refuses a client
/// without one. 2.2 and 2.5 pass on the CA files, saying so; a reading of the switches alone
/// would fail them.
#[test]
fn etcd_with_a_ca_file_asks_for_certificates_without_the_switch() {
    let Some(e) = TestEtcd::start(EtcdOptions {
        tls: true,
        ..Default::default()
    }) else {
        return;
    };
    assert!(!e.answers_without_client_cert());
    let a = audit_etcd(&e);
    expect(
        &a,
        &[("2.1", Pass), ("2.2", Pass), ("2.4", Pass), ("2.5", Pass)],
    );
    let r = &outcome(&a, "2.2").result;
    let ev = r.objects[0].evidence.clone().unwrap();
    assert_eq!(ev.field, "--trusted-ca-file (command line)");
    assert!(
        r.message.as_deref().unwrap_or_default().contains(
            "--client-cert-auth is not on, but etcd requires a certificate signed by this CA"
        ),
        "{r:?}"
    );
}

/// TLS without a CA file or the switches: encrypted, but etcd answers anyone.
#[test]
fn etcd_with_tls_but_no_client_cert_auth() {
    let Some(e) = TestEtcd::start(EtcdOptions {
        tls: true,
        no_trusted_ca: true,
        ..Default::default()
    }) else {
        return;
    };
    assert!(e.answers_without_client_cert());
    let a = audit_etcd(&e);
    expect(
        &a,
        &[("2.1", Pass), ("2.2", Fail), ("2.4", Pass), ("2.5", Fail)],
    );
}

/// Automatic TLS on both sides with client-certificate authentication switched on: etcd's
/// self-signed certificate replaces a side's TLS settings, the switch with them, so etcd answers
/// a client that shows no certificate. 2.2 and 2.5 fail although their switches are on (judged by
/// the switches alone they would pass); 2.3 and 2.6 fail for the automatic TLS itself.
#[test]
fn etcd_with_automatic_tls_ignores_client_cert_auth() {
    let Some(e) = TestEtcd::start(EtcdOptions {
        auto_tls: true,
        client_cert_auth: true,
        peer_client_cert_auth: true,
        ..Default::default()
    }) else {
        return;
    };
    assert!(e.answers_without_client_cert());
    let a = audit_etcd(&e);
    expect(
        &a,
        &[
            ("2.1", Fail),
            ("2.2", Fail),
            ("2.3", Fail),
            ("2.4", Fail),
            ("2.5", Fail),
            ("2.6", Fail),
        ],
    );
    for (id, callers) in [("2.2", "clients"), ("2.5", "peers")] {
        let message = outcome(&a, id).result.message.clone().unwrap_or_default();
        assert!(
            message.contains(&format!("asks {callers} for none")),
            "{id}: {message}"
        );
    }
}
