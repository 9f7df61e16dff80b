//! Reaching the Docker Engine API the ways a user names it, and failing the ways a user meets:
//! tcp with and without TLS, ssh, docker CLI contexts, daemons whose API version bulkhead cannot
//! speak. Every failure must name the endpoint tried and say what to do, and no secret given in
//! the address may reach a message or a snapshot.
//!
//! The daemons are the testkit's private ones (never the machine's own): one with a tcp+TLS
//! listener whose certificate holds only the name `localhost`, one with a plain tcp listener.
//! The ssh cases use the testkit's private sshd, whose one key runs a forced command standing in
//! for the remote host's shell. Daemons whose API version is out of bulkhead's range cannot be
//! made with the installed dockerd, so those are small fakes answering as such a daemon would.

use bulkhead_collect::endpoint::{
    is_own_host, resolve, Environment, ServerCheck, Target, Transport,
};
use bulkhead_collect::{collect_with, CollectOptions, Want};
use bulkhead_facts::Snapshot;
use bulkhead_testkit::{find_program, scratch_dir, DaemonOptions, TestDockerd, TestPki, TestSshd};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Collect Docker facts with exactly these environment variables (nothing inherited from the
/// test's own environment), `--docker-host` as `flag`.
fn collect_in(vars: &[(&str, &str)], flag: Option<&str>, want: Want) -> Result<Snapshot, String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let var = move |k: &str| vars.get(k).cloned();
    let exists = |p: &str| Path::new(p).exists();
    let env = Environment {
        var: &var,
        socket_exists: &exists,
        is_own_host: &is_own_host,
    };
    collect_with(
        &CollectOptions {
            docker: want,
            docker_host: flag.map(String::from),
            kubernetes: Want::Skip,
            ..Default::default()
        },
        &env,
    )
    .map_err(|e| e.to_string())
}

fn failure(vars: &[(&str, &str)], flag: Option<&str>) -> String {
    match collect_in(vars, flag, Want::Required) {
        Ok(_) => panic!("collecting from {flag:?} with {vars:?} succeeded"),
        Err(e) => e,
    }
}

/// A loopback port nothing listens on, different on every call (tests run in parallel).
fn free_port() -> u16 {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(24200);
    loop {
        let port = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert!(port < 24400, "no free loopback port in 24200..24400");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A private daemon with a plain tcp listener on 127.0.0.1, shared by the tests of this binary.
/// Stopped at process exit.
fn plain_daemon() -> Option<&'static (&'static TestDockerd, String)> {
    static PLAIN: OnceLock<Option<(&'static TestDockerd, String)>> = OnceLock::new();
    PLAIN
        .get_or_init(|| {
            let tcp = format!("tcp://127.0.0.1:{}", free_port());
            let d = TestDockerd::start_with(
                DaemonOptions::default().daemon_json(json!({"hosts": [tcp]})),
            )?;
            Some((d.until_exit(), tcp))
        })
        .as_ref()
}

struct TlsLab {
    d: &'static TestDockerd,
    /// The CA that signed the daemon's certificate and the `good` client certificate.
    pki: TestPki,
    port: u16,
    /// A client directory (`ca.pem`, `cert.pem`, `key.pem`) the daemon trusts.
    good: PathBuf,
    /// The daemon's CA, with a client certificate from another CA.
    stranger_client: PathBuf,
    /// The right client pair, with another CA as `ca.pem`.
    wrong_ca: PathBuf,
}

/// A daemon on tcp+TLS with client certificates required, whose certificate names only
/// `localhost` (so that 127.0.0.1 is a name it does not hold). Stopped at process exit.
fn tls_lab() -> Option<&'static TlsLab> {
    static LAB: OnceLock<Option<TlsLab>> = OnceLock::new();
    LAB.get_or_init(|| {
        let scratch = scratch_dir("endpoints-tls");
        let pki = TestPki::new(&scratch.join("ca"))?;
        let other = TestPki::new(&scratch.join("other-ca"))?;
        let server = pki.issue("server", &["DNS:localhost"], false);
        let good = pki.docker_client_dir(&scratch.join("good"));
        let stranger_client = other.docker_client_dir(&scratch.join("stranger"));
        std::fs::copy(pki.ca(), stranger_client.join("ca.pem")).unwrap();
        let wrong_ca = scratch.join("wrong-ca");
        std::fs::create_dir_all(&wrong_ca).unwrap();
        for f in ["cert.pem", "key.pem"] {
            std::fs::copy(good.join(f), wrong_ca.join(f)).unwrap();
        }
        std::fs::copy(other.ca(), wrong_ca.join("ca.pem")).unwrap();
        let port = free_port();
        let d = TestDockerd::start_with(DaemonOptions::default().daemon_json(json!({
            "hosts": [format!("tcp://127.0.0.1:{port}")],
            "tls": true,
            "tlsverify": true,
            "tlscacert": pki.ca(),
            "tlscert": server.cert,
            "tlskey": server.key,
        })))?
        .until_exit();
        Some(TlsLab {
            d,
            pki,
            port,
            good,
            stranger_client,
            wrong_ca,
        })
    })
    .as_ref()
}

/// A daemon on tcp+TLS that asks for no client certificate, whose certificate (issued by the
/// TLS lab's CA, which this system does not trust) names only `localhost`. Stopped at process
/// exit.
struct OpenTlsLab {
    port: u16,
}

fn open_tls_lab() -> Option<&'static OpenTlsLab> {
    static LAB: OnceLock<Option<OpenTlsLab>> = OnceLock::new();
    LAB.get_or_init(|| {
        let scratch = scratch_dir("endpoints-open-tls");
        // The same CA as the TLS lab's: its `good` directory holds the CA that signed this
        // daemon's certificate.
        let server = tls_lab()?
            .pki
            .issue("open-server", &["DNS:localhost"], false);
        let (cert, key) = (
            scratch.join("server-cert.pem"),
            scratch.join("server-key.pem"),
        );
        std::fs::copy(&server.cert, &cert).unwrap();
        std::fs::copy(&server.key, &key).unwrap();
        let port = free_port();
        TestDockerd::start_with(DaemonOptions::default().daemon_json(json!({
            "hosts": [format!("tcp://127.0.0.1:{port}")],
            "tls": true,
            "tlsverify": false,
            "tlscert": cert,
            "tlskey": key,
        })))?
        .until_exit();
        Some(OpenTlsLab { port })
    })
    .as_ref()
}

fn tls_vars(host: &str, cert_path: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("DOCKER_HOST", host.to_string()),
        ("DOCKER_TLS_VERIFY", "1".to_string()),
        ("DOCKER_CERT_PATH", cert_path.display().to_string()),
    ]
}

fn borrowed<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

// ---------------------------------------------------------------------------------------------
// Secrets in the address.

/// A password in a tcp:// address (as some put one there for a proxy in front of the daemon) is
/// masked wherever the address is shown: in the snapshot, and in an error. The 127.0.0.1 after
/// the credentials is still recognised as this machine.
#[test]
fn a_password_in_the_address_is_never_shown() {
    const SECRET: &str = "Hunter2-Passw0rd";
    let Some((_d, tcp)) = plain_daemon() else {
        return;
    };
    let with_password = tcp.replace("tcp://", &format!("tcp://admin:{SECRET}@"));
    let s = collect_in(&[], Some(&with_password), Want::Required).expect("collect");
    let text = serde_json::to_string(&s).unwrap();
    assert!(!text.contains(SECRET), "the snapshot shows the password");
    let endpoint = &s.docker.as_ref().unwrap().endpoint;
    assert_eq!(
        endpoint.host,
        tcp.replace("tcp://", "tcp://admin:***@"),
        "{endpoint:?}"
    );
    assert!(
        endpoint.local,
        "127.0.0.1 behind credentials is this machine"
    );

    let nobody = format!("tcp://admin:{SECRET}@127.0.0.1:{}", free_port());
    let e = failure(&[("DOCKER_HOST", &nobody)], None);
    assert!(!e.contains(SECRET), "{e}");
    assert!(e.contains("tcp://admin:***@127.0.0.1:"), "{e}");

    // ssh never takes a password from the address: refused before ssh runs, without showing it.
    let e = failure(&[], Some(&format!("ssh://admin:{SECRET}@127.0.0.1:22")));
    assert!(!e.contains(SECRET), "{e}");
    assert!(e.contains("ssh://admin:***@127.0.0.1:22"), "{e}");
    assert!(e.contains("password"), "{e}");
    assert!(e.contains("ssh-agent"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// docker CLI contexts.

/// A docker CLI configuration directory (what `DOCKER_CONFIG` names), with contexts laid out as
/// the docker CLI writes them: `contexts/meta/<sha256 of the name>/meta.json`, and the TLS files
/// of the docker endpoint in `contexts/tls/<sha256 of the name>/docker/`.
struct DockerConfig {
    dir: PathBuf,
}

impl DockerConfig {
    fn new(name: &str) -> DockerConfig {
        DockerConfig {
            dir: scratch_dir(name),
        }
    }

    fn path(&self) -> String {
        self.dir.display().to_string()
    }

    fn store_key(name: &str) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(name.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn meta_json(&self, name: &str) -> PathBuf {
        self.dir
            .join("contexts/meta")
            .join(Self::store_key(name))
            .join("meta.json")
    }

    /// The context's meta.json with this text.
    fn write_meta(&self, name: &str, text: &str) -> PathBuf {
        let file = self.meta_json(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        file
    }

    /// `docker context create NAME --docker host=HOST[,skip-tls-verify=true][,ca=,cert=,key=]`:
    /// `tls` is a directory holding ca.pem, cert.pem and key.pem, and which of them to copy.
    fn context(&self, name: &str, host: &str, tls: Option<(&Path, &[&str])>, skip: bool) {
        self.write_meta(
            name,
            &json!({
                "Name": name,
                "Metadata": {},
                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip}},
            })
            .to_string(),
        );
        if let Some((from, files)) = tls {
            let dir = self
                .dir
                .join("contexts/tls")
                .join(Self::store_key(name))
                .join("docker");
            std::fs::create_dir_all(&dir).unwrap();
            for f in files {
                std::fs::copy(from.join(f), dir.join(f)).unwrap();
            }
        }
    }

    /// The directory the context's docker endpoint keeps its TLS files in.
    fn tls_dir(&self, name: &str) -> PathBuf {
        self.dir
            .join("contexts/tls")
            .join(Self::store_key(name))
            .join("docker")
    }

    /// `docker context use NAME`: the choice recorded in config.json.
    fn use_context(&self, name: &str) {
        std::fs::write(
            self.dir.join("config.json"),
            json!({"auths": {}, "currentContext": name}).to_string(),
        )
        .unwrap();
    }
}

const ALL_TLS_FILES: &[&str] = &["ca.pem", "cert.pem", "key.pem"];

/// The endpoint resolved from `--docker-host` `flag` and exactly these variables (no socket
/// exists): its address and where it came from.
fn resolve_in(flag: Option<&str>, vars: &[(&str, &str)]) -> Result<(String, String), String> {
    resolve_target(flag, vars).map(|t| (t.endpoint.host, t.endpoint.source))
}

fn resolve_target(flag: Option<&str>, vars: &[(&str, &str)]) -> Result<Target, String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let var = move |k: &str| vars.get(k).cloned();
    let exists = |_: &str| false;
    let env = Environment {
        var: &var,
        socket_exists: &exists,
        is_own_host: &is_own_host,
    };
    resolve(flag, &env).map_err(|e| e.to_string())
}

fn pair(host: &str, source: &str) -> Result<(String, String), String> {
    Ok((host.to_string(), source.to_string()))
}

/// A context selected by DOCKER_CONTEXT, or by `docker context use` (currentContext in
/// config.json, under DOCKER_CONFIG or ~/.docker), is the daemon audited: here a private daemon
/// on its unix socket. The snapshot says which context the address came from.
#[test]
fn a_selected_context_audits_the_daemon_it_names() {
    let Some((d, _)) = plain_daemon() else { return };
    let config = DockerConfig::new("endpoints-ctx-unix");
    config.context("lab", &d.docker_host(), None, false);
    let audited = |vars: &[(&str, &str)]| {
        let s = collect_in(vars, None, Want::Auto).expect("collect through a context");
        let docker = s.docker.expect("the context's daemon was audited");
        let root = docker.info.value().map(|i| i.docker_root_dir.clone());
        (docker.endpoint, root)
    };
    let (endpoint, root) = audited(&[("DOCKER_CONFIG", &config.path()), ("DOCKER_CONTEXT", "lab")]);
    assert_eq!(endpoint.host, d.docker_host(), "{endpoint:?}");
    assert_eq!(endpoint.source, "context lab", "{endpoint:?}");
    assert_eq!(endpoint.transport, "unix");
    assert!(endpoint.local && !endpoint.tls, "{endpoint:?}");
    assert_eq!(
        root.as_deref(),
        Some(d.data_root().to_str().unwrap()),
        "the daemon behind the context answered"
    );

    // `docker context use lab` with the configuration in ~/.docker.
    let home = scratch_dir("endpoints-ctx-home");
    std::fs::rename(&config.dir, home.join(".docker")).unwrap();
    let moved = DockerConfig {
        dir: home.join(".docker"),
    };
    moved.use_context("lab");
    let (endpoint, _) = audited(&[("HOME", home.to_str().unwrap())]);
    assert_eq!(
        (endpoint.host.as_str(), endpoint.source.as_str()),
        (d.docker_host().as_str(), "context lab")
    );
}

/// A context's TLS files are the ones used, as the docker CLI uses them: DOCKER_TLS_VERIFY and
/// DOCKER_CERT_PATH (here naming a CA that would fail) play no part once a context is selected.
#[test]
fn a_context_with_tls_files_connects_with_them() {
    let Some(lab) = tls_lab() else { return };
    let config = DockerConfig::new("endpoints-ctx-tls");
    let host = format!("tcp://localhost:{}", lab.port);
    config.context("secure", &host, Some((&lab.good, ALL_TLS_FILES)), false);
    let wrong = lab.wrong_ca.display().to_string();
    let vars = [
        ("DOCKER_CONFIG", config.path()),
        ("DOCKER_CONTEXT", "secure".into()),
        ("DOCKER_TLS_VERIFY", "1".into()),
        ("DOCKER_CERT_PATH", wrong),
    ];
    let s = collect_in(&borrowed(&vars), None, Want::Required).expect("collect over TLS");
    let endpoint = &s.docker.as_ref().unwrap().endpoint;
    assert_eq!(endpoint.host, host, "{endpoint:?}");
    assert_eq!(endpoint.source, "context secure");
    assert!(endpoint.tls && endpoint.local, "{endpoint:?}");

    // The same daemon through a context without TLS files: the hint is about the context.
    config.context("bare", &host, None, false);
    let e = failure(
        &[
            ("DOCKER_CONFIG", &config.path()),
            ("DOCKER_CONTEXT", "bare"),
        ],
        None,
    );
    assert!(
        e.contains(&format!("{host} (from docker context bare)")),
        "{e}"
    );
    assert!(e.contains("requires TLS"), "{e}");
    assert!(e.contains("docker context update bare"), "{e}");
    assert!(!e.contains("DOCKER_CERT_PATH"), "{e}");

    // Only a CA: the daemon is checked and no client certificate is sent, as with the CLI. This
    // daemon requires one: the message says so, and how to give the context one.
    config.context("ca-only", &host, Some((&lab.good, &["ca.pem"])), false);
    let e = failure(
        &[
            ("DOCKER_CONFIG", &config.path()),
            ("DOCKER_CONTEXT", "ca-only"),
        ],
        None,
    );
    let tls_dir = config.tls_dir("ca-only");
    assert!(
        e.contains("the daemon requires a client certificate and docker context ca-only has none"),
        "{e}"
    );
    assert!(e.contains(&tls_dir.display().to_string()), "{e}");
    assert!(e.contains("docker context update ca-only"), "{e}");
    assert!(!e.contains("DOCKER_CERT_PATH"), "{e}");
}

/// A context that skips verifying the daemon's certificate is used as the docker CLI uses it:
/// the daemon's certificate is not checked (neither its issuer nor its name), the client
/// certificate is still sent, and TLS is on even without TLS files. The warning that says so
/// is checked in the unit tests (`insecure_warning`).
#[test]
fn a_context_that_skips_tls_verification_connects_without_checking() {
    let Some(lab) = tls_lab() else { return };
    let config = DockerConfig::new("endpoints-ctx-skip");
    // 127.0.0.1 is a name the daemon's certificate does not hold, and the CA is the wrong one:
    // either would fail a check.
    let host = format!("tcp://127.0.0.1:{}", lab.port);
    config.context(
        "trusting",
        &host,
        Some((&lab.wrong_ca, ALL_TLS_FILES)),
        true,
    );
    let s = collect_in(
        &[
            ("DOCKER_CONFIG", &config.path()),
            ("DOCKER_CONTEXT", "trusting"),
        ],
        None,
        Want::Required,
    )
    .expect("SkipTLSVerify connects whatever certificate the daemon shows");
    let endpoint = s.docker.unwrap().endpoint;
    assert_eq!(endpoint.source, "context trusting");
    assert!(endpoint.tls && endpoint.local, "{endpoint:?}");

    // Without a client certificate this daemon refuses the connection, as it would the CLI's.
    config.context("trusting-bare", &host, None, true);
    let e = failure(
        &[
            ("DOCKER_CONFIG", &config.path()),
            ("DOCKER_CONTEXT", "trusting-bare"),
        ],
        None,
    );
    assert!(
        e.contains(
            "the daemon requires a client certificate and docker context trusting-bare has none"
        ),
        "{e}"
    );

    // On a unix socket TLS plays no part, so the setting changes nothing there.
    let Some((d, _)) = plain_daemon() else { return };
    config.context("local-skip", &d.docker_host(), None, true);
    let s = collect_in(
        &[
            ("DOCKER_CONFIG", &config.path()),
            ("DOCKER_CONTEXT", "local-skip"),
        ],
        None,
        Want::Required,
    )
    .expect("SkipTLSVerify is moot on a unix socket");
    let endpoint = s.docker.unwrap().endpoint;
    assert_eq!(endpoint.source, "context local-skip");
    assert!(!endpoint.tls);
}

/// A context with part of the TLS files, as the docker CLI takes it. Against a daemon that asks
/// for no client certificate: a CA alone connects; a client pair alone is checked against the
/// system's trusted roots, which did not issue this daemon's certificate, and the message says
/// so. Against the daemon that requires one, a client pair with SkipTLSVerify connects (so the
/// certificate is sent).
#[test]
fn contexts_with_part_of_the_tls_files_connect_as_the_cli_connects() {
    let (Some(open), Some(lab)) = (open_tls_lab(), tls_lab()) else {
        return;
    };
    let config = DockerConfig::new("endpoints-ctx-partial");
    let open_host = format!("tcp://localhost:{}", open.port);
    let vars = |name: &'static str| {
        [
            ("DOCKER_CONFIG", config.path()),
            ("DOCKER_CONTEXT", name.into()),
        ]
    };

    config.context("ca-only", &open_host, Some((&lab.good, &["ca.pem"])), false);
    let s = collect_in(&borrowed(&vars("ca-only")), None, Want::Required).expect(
        "a context with a CA alone connects to a daemon that asks for no client certificate",
    );
    assert!(s.docker.unwrap().endpoint.tls);

    // A CA that did not sign the daemon's certificate: named.
    config.context(
        "wrong-ca-only",
        &open_host,
        Some((&lab.wrong_ca, &["ca.pem"])),
        false,
    );
    let e = failure(&borrowed(&vars("wrong-ca-only")), None);
    assert!(
        e.contains(&format!(
            "not issued by the CA in {}",
            config.tls_dir("wrong-ca-only").join("ca.pem").display()
        )),
        "{e}"
    );

    let pair: &[&str] = &["cert.pem", "key.pem"];
    config.context("pair-only", &open_host, Some((&lab.good, pair)), false);
    let e = failure(&borrowed(&vars("pair-only")), None);
    assert!(e.contains("not issued by a CA this system trusts"), "{e}");
    assert!(
        e.contains(&format!(
            "no ca.pem in {}",
            config.tls_dir("pair-only").display()
        )),
        "{e}"
    );
    assert!(e.contains("docker context update pair-only"), "{e}");

    let lab_host = format!("tcp://localhost:{}", lab.port);
    config.context("pair-skip", &lab_host, Some((&lab.good, pair)), true);
    let s = collect_in(&borrowed(&vars("pair-skip")), None, Want::Required)
        .expect("the client pair is sent with SkipTLSVerify");
    assert!(s.docker.unwrap().endpoint.tls);

    // Half a pair: refused before connecting, with the context, the directory and the file.
    config.context(
        "lone-cert",
        &lab_host,
        Some((&lab.good, &["ca.pem", "cert.pem"])),
        false,
    );
    let e = failure(&borrowed(&vars("lone-cert")), None);
    let dir = config.tls_dir("lone-cert");
    assert!(e.contains("docker context \"lone-cert\""), "{e}");
    assert!(
        e.contains(&format!("{} is missing", dir.join("key.pem").display())),
        "{e}"
    );
    assert!(e.contains("docker context update lone-cert"), "{e}");
}

/// `--docker-host` and DOCKER_HOST name the daemon whatever context is selected (the docker CLI
/// then uses the default context, and does not even look the selected one up).
#[test]
fn docker_host_beats_docker_context() {
    let config = DockerConfig::new("endpoints-ctx-host-wins");
    config.context("prod", "tcp://10.9.9.9:2376", None, false);
    let dir = config.path();
    assert_eq!(
        resolve_in(None, &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", "prod")]),
        pair("tcp://10.9.9.9:2376", "context prod")
    );
    let with_host = [
        ("DOCKER_CONFIG", dir.as_str()),
        ("DOCKER_CONTEXT", "prod"),
        ("DOCKER_HOST", "tcp://10.1.1.1:2375"),
    ];
    assert_eq!(
        resolve_in(None, &with_host),
        pair("tcp://10.1.1.1:2375", "env")
    );
    assert_eq!(
        resolve_in(Some("unix:///tmp/flag.sock"), &with_host),
        pair("unix:///tmp/flag.sock", "flag")
    );
    // A context that does not exist is not looked up when an address is named.
    assert_eq!(
        resolve_in(
            None,
            &[
                ("DOCKER_CONFIG", &dir),
                ("DOCKER_CONTEXT", "no-such-context"),
                ("DOCKER_HOST", "tcp://10.1.1.1:2375"),
            ]
        ),
        pair("tcp://10.1.1.1:2375", "env")
    );
    config.use_context("prod");
    assert_eq!(
        resolve_in(
            Some("tcp://10.3.3.3:2375"),
            &[("DOCKER_CONFIG", dir.as_str())]
        ),
        pair("tcp://10.3.3.3:2375", "flag")
    );
}

/// DOCKER_CONTEXT wins over `docker context use` (currentContext in config.json); the context
/// named `default` is the default socket; a config.json the CLI cannot parse selects no context
/// (the CLI warns and uses the default one).
#[test]
fn docker_context_beats_the_current_context() {
    let config = DockerConfig::new("endpoints-ctx-env-wins");
    config.context("prod", "tcp://10.9.9.9:2376", None, false);
    config.context("stage", "tcp://10.2.2.2:2376", None, false);
    config.use_context("stage");
    let dir = config.path();
    assert_eq!(
        resolve_in(None, &[("DOCKER_CONFIG", &dir)]),
        pair("tcp://10.2.2.2:2376", "context stage")
    );
    assert_eq!(
        resolve_in(None, &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", "prod")]),
        pair("tcp://10.9.9.9:2376", "context prod")
    );
    assert_eq!(
        resolve_in(
            None,
            &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", "default")]
        ),
        pair("unix:///var/run/docker.sock", "default")
    );
    config.use_context("default");
    assert_eq!(
        resolve_in(None, &[("DOCKER_CONFIG", &dir)]),
        pair("unix:///var/run/docker.sock", "default")
    );
    std::fs::write(
        config.dir.join("config.json"),
        r#"{"currentContext": "stage","#,
    )
    .unwrap();
    assert_eq!(
        resolve_in(None, &[("DOCKER_CONFIG", &dir)]),
        pair("unix:///var/run/docker.sock", "default")
    );
}

/// A context that does not exist, cannot be read, or has no docker endpoint stops the run (exit
/// 2 from the command line) with the context, the file and what to do; never the default socket
/// audited in its place, nor "no Docker here".
#[test]
fn a_missing_or_broken_context_is_an_error_naming_it() {
    let config = DockerConfig::new("endpoints-ctx-missing");
    let dir = config.path();
    let missing = config.meta_json("nope");
    let e = collect_in(
        &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", "nope")],
        None,
        Want::Auto,
    )
    .expect_err("a missing context is an error");
    assert!(e.contains("\"nope\""), "{e}");
    assert!(e.contains("DOCKER_CONTEXT"), "{e}");
    assert!(e.contains(&missing.display().to_string()), "{e}");
    assert!(e.contains("docker context ls"), "{e}");

    // Selected by `docker context use`: config.json is named, and how to choose again.
    config.use_context("gone");
    let e = resolve_in(None, &[("DOCKER_CONFIG", &dir)]).unwrap_err();
    assert!(e.contains("\"gone\""), "{e}");
    assert!(
        e.contains(&config.dir.join("config.json").display().to_string()),
        "{e}"
    );
    assert!(e.contains("docker context use"), "{e}");

    // A meta.json that is not JSON.
    let broken = config.write_meta("broken", r#"{"Name": "broken","#);
    let e = resolve_in(
        None,
        &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", "broken")],
    )
    .unwrap_err();
    assert!(e.contains("\"broken\""), "{e}");
    assert!(e.contains(&broken.display().to_string()), "{e}");
    assert!(e.contains("docker context rm broken"), "{e}");

    // A context without a docker endpoint.
    let bare = config.write_meta(
        "k8s-only",
        r#"{"Name":"k8s-only","Metadata":{},"Endpoints":{}}"#,
    );
    let e = resolve_in(
        None,
        &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", "k8s-only")],
    )
    .unwrap_err();
    assert!(e.contains("\"k8s-only\""), "{e}");
    assert!(e.contains(&bare.display().to_string()), "{e}");
    assert!(e.contains("no docker endpoint"), "{e}");
    assert!(e.contains("docker context update k8s-only"), "{e}");
}

/// A context's address is taken as a named address is: ssh:// is ssh, and a password in it is
/// masked in the endpoint and in every message.
#[test]
fn a_context_address_is_taken_as_a_named_address_is() {
    const SECRET: &str = "Hunter2-Ctx-Passw0rd";
    let config = DockerConfig::new("endpoints-ctx-address");
    let dir = config.path();
    config.context("build", "ssh://me@build-host:2222", None, false);
    let t = resolve_target(
        None,
        &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", "build")],
    )
    .unwrap();
    assert_eq!(
        t.transport,
        Transport::Ssh("ssh://me@build-host:2222".into())
    );
    assert_eq!(
        (t.endpoint.transport.as_str(), t.endpoint.source.as_str()),
        ("ssh", "context build")
    );
    assert!(!t.endpoint.local);

    config.context(
        "proxied",
        &format!("tcp://admin:{SECRET}@127.0.0.1:{}", free_port()),
        None,
        false,
    );
    let vars = [
        ("DOCKER_CONFIG", dir.as_str()),
        ("DOCKER_CONTEXT", "proxied"),
    ];
    let (host, _) = resolve_in(None, &vars).unwrap();
    assert!(host.starts_with("tcp://admin:***@127.0.0.1:"), "{host}");
    let e = failure(&vars, None);
    assert!(!e.contains(SECRET), "{e}");
    assert!(e.contains("(from docker context proxied)"), "{e}");

    config.context(
        "ssh-password",
        &format!("ssh://admin:{SECRET}@build-host"),
        None,
        false,
    );
    let e = resolve_in(
        None,
        &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", "ssh-password")],
    )
    .unwrap_err();
    assert!(!e.contains(SECRET), "{e}");
    assert!(e.contains("ssh-password"), "{e}");
}

/// Contexts the installed docker CLI writes are read as it reads them: the same address, and the
/// TLS files from the directory it keeps them in.
#[test]
fn contexts_written_by_the_docker_cli_are_read_as_it_reads_them() {
    let Some(docker) = docker_cli() else { return };
    let scratch = scratch_dir("endpoints-ctx-cli");
    let Some(pki) = TestPki::new(&scratch.join("ca")) else {
        return;
    };
    let certs = pki.docker_client_dir(&scratch.join("client"));
    let config = scratch.join("config");
    // Only this scratch directory: never the machine's own ~/.docker.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(&docker)
            .args(args)
            .env_clear()
            .env("DOCKER_CONFIG", &config)
            .env("HOME", &scratch)
            .output()
            .unwrap();
        assert!(out.status.success(), "docker {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let c = |f: &str| certs.join(f).display().to_string();
    cli(&[
        "context",
        "create",
        "cli-tls",
        "--docker",
        &format!(
            "host=tcp://build-host:2376,ca={},cert={},key={}",
            c("ca.pem"),
            c("cert.pem"),
            c("key.pem")
        ),
    ]);
    cli(&["context", "use", "cli-tls"]);
    let host = cli(&[
        "context",
        "inspect",
        "--format",
        "{{.Endpoints.docker.Host}}",
    ]);
    let tls_path = cli(&["context", "inspect", "--format", "{{.Storage.TLSPath}}"]);
    let t = resolve_target(None, &[("DOCKER_CONFIG", config.to_str().unwrap())]).unwrap();
    assert_eq!(t.endpoint.host, host);
    assert_eq!(t.endpoint.source, "context cli-tls");
    let Transport::Tcp {
        tls: Some(files), ..
    } = &t.transport
    else {
        panic!("{:?}", t.transport);
    };
    let dir = Path::new(&tls_path).join("docker");
    assert_eq!(files.dir, dir);
    assert_eq!(files.server, ServerCheck::Ca(dir.join("ca.pem")));
    assert_eq!(
        (&files.cert, &files.key),
        (&Some(dir.join("cert.pem")), &Some(dir.join("key.pem")))
    );
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        assert!(dir.join(f).is_file(), "{f}");
    }

    // The partial contexts the CLI accepts, read as it reads them.
    let tls_of = |name: &str| {
        cli(&["context", "use", name]);
        match resolve_target(None, &[("DOCKER_CONFIG", config.to_str().unwrap())])
            .unwrap()
            .transport
        {
            Transport::Tcp { tls: Some(f), .. } => f,
            other => panic!("{name}: {other:?}"),
        }
    };
    cli(&[
        "context",
        "create",
        "cli-ca",
        "--docker",
        &format!("host=tcp://build-host:2376,ca={}", c("ca.pem")),
    ]);
    let f = tls_of("cli-ca");
    assert!(matches!(f.server, ServerCheck::Ca(_)), "{f:?}");
    assert_eq!((&f.cert, &f.key), (&None, &None));
    cli(&[
        "context",
        "create",
        "cli-pair",
        "--docker",
        &format!(
            "host=tcp://build-host:2376,cert={},key={}",
            c("cert.pem"),
            c("key.pem")
        ),
    ]);
    let f = tls_of("cli-pair");
    assert_eq!(f.server, ServerCheck::SystemRoots);
    assert!(f.cert.is_some() && f.key.is_some(), "{f:?}");
    cli(&[
        "context",
        "create",
        "cli-skip",
        "--docker",
        "host=tcp://build-host:2376,skip-tls-verify=true",
    ]);
    let f = tls_of("cli-skip");
    assert!(!f.verifies_server(), "{f:?}");
}

// ---------------------------------------------------------------------------------------------
// An address named by the user that does not answer.

/// DOCKER_HOST names a daemon as --docker-host does: when its socket is missing that is an
/// error naming it, not "no Docker on this host" (which would make `bulkhead collect` write a
/// snapshot without Docker and exit 0). Only a guessed socket may be absent.
#[test]
fn a_missing_socket_named_by_docker_host_is_an_error() {
    let missing = "unix:///nonexistent-bulkhead/docker.sock";
    let e = collect_in(&[("DOCKER_HOST", missing)], None, Want::Auto)
        .expect_err("a socket named by DOCKER_HOST that is missing is an error");
    assert!(e.contains("/nonexistent-bulkhead/docker.sock"), "{e}");
    assert!(e.contains("from DOCKER_HOST"), "{e}");
    let e = collect_in(&[], Some(missing), Want::Auto)
        .expect_err("a socket named by --docker-host that is missing is an error");
    assert!(e.contains("from --docker-host"), "{e}");
    // The user's rootless socket is only a guess: absent, it means no Docker. (The environment
    // says the rootless socket exists and the system one does not, so the machine's own socket
    // is never tried.)
    let vars: HashMap<&str, &str> = [("XDG_RUNTIME_DIR", "/nonexistent-bulkhead-run")].into();
    let var = |k: &str| vars.get(k).map(|v| v.to_string());
    let exists = |p: &str| p == "/nonexistent-bulkhead-run/docker.sock";
    let env = Environment {
        var: &var,
        socket_exists: &exists,
        is_own_host: &is_own_host,
    };
    let s = collect_with(
        &CollectOptions {
            docker: Want::Auto,
            kubernetes: Want::Skip,
            ..Default::default()
        },
        &env,
    )
    .expect("a guessed socket that is absent is no error under Auto");
    assert!(s.docker.is_none());
}

// ---------------------------------------------------------------------------------------------
// tcp and TLS.

/// The right certificates, and the name the daemon's certificate holds: collected.
#[test]
fn tls_with_the_right_certificates_and_name_connects() {
    let Some(lab) = tls_lab() else { return };
    let vars = tls_vars(&format!("tcp://localhost:{}", lab.port), &lab.good);
    let s = collect_in(&borrowed(&vars), None, Want::Required).expect("collect over tcp+TLS");
    let endpoint = &s.docker.as_ref().unwrap().endpoint;
    assert!(endpoint.tls && endpoint.local, "{endpoint:?}");
    assert!(lab.d.pid() > 0);
}

/// DOCKER_TLS_VERIFY with certificate files missing, as the docker CLI reads the directory: the
/// CA is needed and named when missing, with the directory it was looked for in; the client
/// pair is sent when both files are there, and one without the other is refused, naming the
/// missing file.
#[test]
fn missing_certificate_files_are_named() {
    let Some(lab) = tls_lab() else { return };
    let empty = scratch_dir("endpoints-no-certs");
    let vars = tls_vars(&format!("tcp://localhost:{}", lab.port), &empty);
    let e = failure(&borrowed(&vars), None);
    assert!(
        e.contains(&format!("{} (missing)", empty.join("ca.pem").display())),
        "{e}"
    );
    assert!(e.contains("DOCKER_CERT_PATH"), "{e}");
    assert!(e.contains(&format!("tcp://localhost:{}", lab.port)), "{e}");
    // Only the key missing: only the key named.
    let no_key = scratch_dir("endpoints-no-key");
    for f in ["ca.pem", "cert.pem"] {
        std::fs::copy(lab.good.join(f), no_key.join(f)).unwrap();
    }
    let vars = tls_vars(&format!("tcp://localhost:{}", lab.port), &no_key);
    let e = failure(&borrowed(&vars), None);
    assert!(
        e.contains(&format!("{} is missing", no_key.join("key.pem").display())),
        "{e}"
    );
    assert!(
        !e.contains(&no_key.join("ca.pem").display().to_string()),
        "{e}"
    );
    // Only the CA: no client certificate is sent, and this daemon requires one.
    let ca_only = scratch_dir("endpoints-ca-only");
    std::fs::copy(lab.good.join("ca.pem"), ca_only.join("ca.pem")).unwrap();
    let vars = tls_vars(&format!("tcp://localhost:{}", lab.port), &ca_only);
    let e = failure(&borrowed(&vars), None);
    assert!(
        e.contains("the daemon requires a client certificate and none was sent"),
        "{e}"
    );
    assert!(e.contains(&ca_only.display().to_string()), "{e}");
    assert!(e.contains("DOCKER_CERT_PATH"), "{e}");
}

/// DOCKER_TLS without DOCKER_TLS_VERIFY connects as the docker CLI does: TLS on, the daemon's
/// certificate not checked (here issued by a CA this system does not trust, for a name that is
/// not the one connected to), the client certificate in DOCKER_CERT_PATH sent when it is there.
/// DOCKER_TLS_VERIFY with the same files fails on the certificate.
#[test]
fn docker_tls_without_verify_connects_without_checking_the_daemon() {
    let (Some(open), Some(lab)) = (open_tls_lab(), tls_lab()) else {
        return;
    };
    let nothing = scratch_dir("endpoints-docker-tls-empty");
    let by_ip = format!("tcp://127.0.0.1:{}", open.port);
    let path = nothing.display().to_string();
    let s = collect_in(
        &[
            ("DOCKER_HOST", &by_ip),
            ("DOCKER_TLS", "1"),
            ("DOCKER_CERT_PATH", &path),
        ],
        None,
        Want::Required,
    )
    .expect("DOCKER_TLS connects without checking the daemon's certificate");
    let endpoint = s.docker.unwrap().endpoint;
    assert!(endpoint.tls && endpoint.local, "{endpoint:?}");

    // With DOCKER_TLS_VERIFY the wrong CA is refused.
    let e = failure(&borrowed(&tls_vars(&by_ip, &lab.wrong_ca)), None);
    assert!(e.contains("not issued by the CA in"), "{e}");
    let wrong = lab.wrong_ca.display().to_string();
    let s = collect_in(
        &[
            ("DOCKER_HOST", &by_ip),
            ("DOCKER_TLS", "1"),
            ("DOCKER_CERT_PATH", &wrong),
        ],
        None,
        Want::Required,
    )
    .expect("without DOCKER_TLS_VERIFY the CA in the directory is not used");
    assert!(s.docker.unwrap().endpoint.tls);

    // The daemon that requires a client certificate gets the one in DOCKER_CERT_PATH.
    let lab_ip = format!("tcp://127.0.0.1:{}", lab.port);
    let good = lab.good.display().to_string();
    collect_in(
        &[
            ("DOCKER_HOST", &lab_ip),
            ("DOCKER_TLS", "1"),
            ("DOCKER_CERT_PATH", &good),
        ],
        None,
        Want::Required,
    )
    .expect("DOCKER_TLS sends the client certificate");
    let e = failure(
        &[
            ("DOCKER_HOST", &lab_ip),
            ("DOCKER_TLS", "1"),
            ("DOCKER_CERT_PATH", &path),
        ],
        None,
    );
    assert!(
        e.contains("the daemon requires a client certificate and none was sent"),
        "{e}"
    );

    // DOCKER_TLS_VERIFY with a CA alone connects to the daemon that asks for no client
    // certificate.
    let ca_only = scratch_dir("endpoints-verify-ca-only");
    std::fs::copy(lab.good.join("ca.pem"), ca_only.join("ca.pem")).unwrap();
    let by_name = format!("tcp://localhost:{}", open.port);
    collect_in(
        &borrowed(&tls_vars(&by_name, &ca_only)),
        None,
        Want::Required,
    )
    .expect("DOCKER_TLS_VERIFY with a CA alone");
}

/// Each way TLS can fail gets the hint that fits it, not one hint for all.
#[test]
fn tls_failures_each_say_what_is_wrong() {
    let Some(lab) = tls_lab() else { return };
    let by_ip = format!("tcp://127.0.0.1:{}", lab.port);
    let by_name = format!("tcp://localhost:{}", lab.port);

    // The daemon's certificate names localhost only.
    let e = failure(&borrowed(&tls_vars(&by_ip, &lab.good)), None);
    assert!(e.contains(&by_ip), "{e}");
    assert!(
        e.contains("certificate does not hold the name 127.0.0.1"),
        "{e}"
    );
    assert!(e.contains("subjectAltName"), "{e}");

    // A CA that did not sign the daemon's certificate.
    let e = failure(&borrowed(&tls_vars(&by_name, &lab.wrong_ca)), None);
    assert!(
        e.contains(&format!(
            "not issued by the CA in {}",
            lab.wrong_ca.join("ca.pem").display()
        )),
        "{e}"
    );

    // A client certificate the daemon does not trust.
    let e = failure(&borrowed(&tls_vars(&by_name, &lab.stranger_client)), None);
    assert!(
        e.contains(&format!(
            "the daemon refused the client certificate {}",
            lab.stranger_client.join("cert.pem").display()
        )),
        "{e}"
    );
    assert!(
        !e.contains("client error") && !e.contains("operation was canceled"),
        "no HTTP client internals: {e}"
    );

    // Plain HTTP to the TLS listener.
    let e = failure(&[], Some(&by_ip));
    assert!(e.contains("requires TLS"), "{e}");
    assert!(e.contains("DOCKER_TLS_VERIFY=1"), "{e}");
    assert!(!e.contains('\n'), "one line: {e:?}");
    assert!(!e.contains("is dockerd listening there"), "{e}");
}

/// TLS to a daemon listening in plain HTTP.
#[test]
fn tls_to_a_plain_daemon_says_it_does_not_speak_tls() {
    let (Some(lab), Some((_d, tcp))) = (tls_lab(), plain_daemon()) else {
        return;
    };
    let e = failure(&borrowed(&tls_vars(tcp, &lab.good)), None);
    assert!(e.contains(tcp.as_str()), "{e}");
    assert!(e.contains("does not speak TLS"), "{e}");
    assert!(!e.contains("signed by"), "{e}");
    let https = tcp.replace("tcp://", "https://");
    let dir = lab.good.display().to_string();
    let e = failure(&[("DOCKER_CERT_PATH", &dir)], Some(&https));
    assert!(e.contains("does not speak TLS"), "{e}");
}

/// A host name that does not resolve, and a port where nothing listens.
#[test]
fn unresolvable_names_and_closed_ports_are_told_apart() {
    let e = failure(&[], Some("tcp://no-such-host.invalid:2376"));
    assert!(
        e.contains("the host name no-such-host.invalid does not resolve"),
        "{e}"
    );
    assert!(!e.contains("is dockerd listening there"), "{e}");
    let closed = format!("tcp://127.0.0.1:{}", free_port());
    let e = failure(&[], Some(&closed));
    assert!(e.contains(&closed), "{e}");
    assert!(e.contains("is dockerd listening there"), "{e}");
}

/// An HTTP server that is not Docker (a web server on the port named): said so, not "Docker
/// responded with status code 404:".
#[test]
fn an_http_server_that_is_not_docker_is_named_as_such() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut s, &mut buf);
            let _ = std::io::Write::write_all(
                &mut s,
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let host = format!("tcp://{addr}");
    let e = failure(&[], Some(&host));
    assert!(e.contains(&host), "{e}");
    assert!(e.contains("is not the Docker Engine API"), "{e}");
    assert!(!e.contains("404:"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// ssh.

/// One test sshd at a time: each adds its host key to root's known_hosts and takes it out again.
fn ssh_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn docker_cli() -> Option<PathBuf> {
    let found = find_program("docker");
    if found.is_none() {
        assert!(
            !bulkhead_testkit::ci(),
            "CI=true: no docker CLI for dial-stdio"
        );
        eprintln!("skipped: no docker CLI to run `docker system dial-stdio` behind sshd");
    }
    found
}

/// Collect over `url` through `sshd`'s agent.
fn ssh_failure(sshd: &TestSshd, url: &str) -> String {
    let agent = sshd.agent_socket().display().to_string();
    match collect_in(&[("SSH_AUTH_SOCK", &agent)], Some(url), Want::Required) {
        Ok(_) => panic!("collecting over {url} succeeded"),
        Err(e) => e,
    }
}

/// The remote command fails: its own words are in the message, with what to do about them.
#[test]
fn ssh_remote_command_failures_say_what_the_remote_said() {
    let _turn = ssh_turn();
    // No docker CLI on the remote host.
    let Some(sshd) = TestSshd::start(
        "ssh-no-docker",
        "PATH=/nonexistent; docker system dial-stdio",
    ) else {
        return;
    };
    let e = ssh_failure(&sshd, &sshd.url());
    assert!(e.contains(&sshd.url()), "{e}");
    assert!(e.contains("docker: "), "the remote shell's words: {e}");
    assert!(e.contains("not found"), "{e}");
    assert!(e.contains("install the docker CLI"), "{e}");
    drop(sshd);

    let Some(docker) = docker_cli() else { return };
    let Some((d, _)) = plain_daemon() else { return };
    // The remote user may not use the daemon's socket.
    let Some(setpriv) = find_program("setpriv") else {
        eprintln!("skipped: no setpriv to run the remote command unprivileged");
        return;
    };
    let forced = format!(
        "exec {} --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent DOCKER_HOST={} {} system dial-stdio",
        setpriv.display(),
        d.docker_host(),
        docker.display()
    );
    let Some(sshd) = TestSshd::start("ssh-no-access", &forced) else {
        return;
    };
    let e = ssh_failure(&sshd, &sshd.url());
    assert!(e.contains("permission denied"), "{e}");
    assert!(e.contains("docker group"), "{e}");
    drop(sshd);

    // No daemon behind the remote socket.
    let forced = format!(
        "DOCKER_HOST=unix:///nonexistent-bulkhead/docker.sock exec {} system dial-stdio",
        docker.display()
    );
    let Some(sshd) = TestSshd::start("ssh-no-daemon", &forced) else {
        return;
    };
    let e = ssh_failure(&sshd, &sshd.url());
    assert!(e.contains("/nonexistent-bulkhead/docker.sock"), "{e}");
    assert!(
        e.contains("dockerd is not running on the remote host"),
        "{e}"
    );
}

/// ssh itself fails: ssh's reason is in the message, with the hint that fits it.
#[test]
fn ssh_connection_failures_say_why() {
    let _turn = ssh_turn();
    let Some(sshd) = TestSshd::start("ssh-refusals", "exit 0") else {
        return;
    };
    // A user the host does not let in with this key.
    let url = format!("ssh://nobody@127.0.0.1:{}", sshd.port());
    let e = ssh_failure(&sshd, &url);
    assert!(e.contains(&url), "{e}");
    assert!(e.contains("Permission denied"), "{e}");
    assert!(e.contains("refused the login of nobody"), "{e}");

    // A host key that is not in known_hosts: refused, never trusted on first use.
    sshd.forget_host_key();
    let e = ssh_failure(&sshd, &sshd.url());
    assert!(e.contains("Host key verification failed"), "{e}");
    assert!(e.contains("known_hosts"), "{e}");
    let port = sshd.port();
    drop(sshd);

    // Nothing listens on the port.
    let url = format!("ssh://root@127.0.0.1:{port}");
    let e = match collect_in(&[], Some(&url), Want::Required) {
        Ok(_) => panic!("ssh to a closed port succeeded"),
        Err(e) => e,
    };
    assert!(e.contains("Connection refused"), "{e}");
    assert!(
        e.contains(&format!(
            "nothing accepts ssh connections on 127.0.0.1 port {port}"
        )),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// API versions.

/// A stand-in for a daemon of another API range: `/_ping` and unversioned `/version` report
/// `api` and `min`; a versioned path outside the range is refused with a 400 as dockerd does;
/// anything else is an empty list or object.
fn fake_daemon_answer(request_line: &str, api: &str, min: &str) -> (u16, String) {
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let parse = |v: &str| -> (u32, u32) {
        let (a, b) = v.split_once('.').unwrap_or(("0", "0"));
        (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
    };
    let (path, asked) = match path.strip_prefix("/v").and_then(|r| r.split_once('/')) {
        Some((v, rest)) if v.contains('.') => (format!("/{rest}"), Some(v.to_string())),
        _ => (path.to_string(), None),
    };
    if let Some(v) = asked {
        if parse(&v) > parse(api) {
            return (400, json!({"message": format!("client version {v} is too new. Maximum supported API version is {api}")}).to_string());
        }
        if parse(&v) < parse(min) {
            return (400, json!({"message": format!("client version {v} is too old. Minimum supported API version is {min}, please upgrade your client to a newer version")}).to_string());
        }
    }
    if path.starts_with("/_ping") {
        (200, "OK".into())
    } else if path.starts_with("/version") {
        (
            200,
            json!({"Version": "99.0.0", "ApiVersion": api, "MinAPIVersion": min, "Os": "linux", "Arch": "amd64"})
                .to_string(),
        )
    } else if path.starts_with("/info") {
        (200, json!({"ID": "fake", "Name": "fake"}).to_string())
    } else {
        (200, "[]".into())
    }
}

fn serve_fake<S: std::io::Read + std::io::Write>(mut s: S, api: &str, min: &str) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let (status, body) = fake_daemon_answer(text.lines().next().unwrap_or(""), api, min);
    let _ = write!(
        s,
        "HTTP/1.1 {status} X\r\nAPI-Version: {api}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A fake daemon of API range `min`..`api` on a loopback port: `tcp://127.0.0.1:PORT`.
fn fake_tcp_daemon(api: &'static str, min: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || serve_fake(s, api, min));
        }
    });
    format!("tcp://{addr}")
}

/// The same on a unix socket: `unix:///...`.
fn fake_unix_daemon(name: &str, api: &'static str, min: &'static str) -> String {
    let path = scratch_dir(name).join("docker.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || serve_fake(s, api, min));
        }
    });
    format!("unix://{}", path.display())
}

/// A daemon that only serves API versions newer than bulkhead speaks is a tool error that names
/// both ranges, not an audit whose every check is an error.
#[test]
fn a_daemon_too_new_for_bulkhead_is_refused_with_both_versions() {
    let newest = format!(
        "{}.{}",
        bollard::API_DEFAULT_VERSION.major_version,
        bollard::API_DEFAULT_VERSION.minor_version
    );
    for host in [
        fake_tcp_daemon("1.99", "1.98"),
        fake_unix_daemon("endpoints-fake-new", "1.99", "1.98"),
    ] {
        let e = failure(&[], Some(&host));
        assert!(e.contains(&host), "{e}");
        assert!(e.contains("1.98"), "the daemon's oldest version: {e}");
        assert!(e.contains(&newest), "bulkhead's newest version: {e}");
        assert!(e.contains("newer bulkhead"), "{e}");
    }
}

/// A daemon older than the oldest API bulkhead reads (1.24, Docker 1.12) is refused, naming it.
#[test]
fn a_daemon_too_old_for_bulkhead_is_refused() {
    for host in [
        fake_tcp_daemon("1.18", "1.12"),
        fake_unix_daemon("endpoints-fake-old", "1.18", "1.12"),
    ] {
        let e = failure(&[], Some(&host));
        assert!(e.contains(&host), "{e}");
        assert!(e.contains("API 1.18"), "{e}");
        assert!(e.contains("1.24"), "{e}");
    }
}
