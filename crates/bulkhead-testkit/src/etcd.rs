//! A real etcd (Debian's `etcd-server`, `/usr/bin/etcd`) for tests: started on free loopback
//! ports with its own data directory, with or without TLS and client-certificate
//! authentication, configured either by command-line flags or only by `ETCD_*` environment
//! variables (as Debian's unit does), optionally as another user. Certificates are made in the
//! test setup with the `openssl` command-line tool, which also serves as a TLS client that shows
//! no certificate; nothing else is executed.
//!
//! # API
//!
//! - [`EtcdOptions`]: `tls` (client and peer certificates from a test CA, which etcd trusts for
//!   its clients' certificates unless `no_trusted_ca`), `auto_tls` (https with etcd's own
//!   self-signed certificates, no files), `client_cert_auth`, `peer_client_cert_auth`, `via_env`
//!   (every setting as `ETCD_*` instead of flags), `run_as` (uid, gid), `extra_args`.
//! - [`TestEtcd::start`] → `Option<TestEtcd>`: None (with `skipped: <reason>` printed) when etcd
//!   or openssl is missing outside CI; under `CI=true` a missing component panics. An etcd that
//!   finds its port taken is started again on others. The etcd is killed and its directory
//!   removed on drop.
//! - [`TestEtcd::pid`], [`TestEtcd::client_url`], [`TestEtcd::data_dir`], [`TestEtcd::pki`]
//!   (paths of the CA, server and client pairs), [`TestEtcd::dir`].
//! - [`TestEtcd::answers_without_client_cert`] (and [`etcd_answers_without_client_cert`] for an
//!   etcd started otherwise): whether etcd answers an HTTPS request from a client with no
//!   certificate (`openssl s_client`), to show whether it really asks for one.
//! - [`free_ports`]: two distinct free loopback ports, for an etcd started otherwise.

use crate::dockerd::{ci, find_program};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How to start etcd.
#[derive(Debug, Clone, Default)]
pub struct EtcdOptions {
    /// Serve clients and peers over TLS with certificates from a test CA.
    pub tls: bool,
    /// With `tls`, leave out `--trusted-ca-file` and `--peer-trusted-ca-file` (either one makes
    /// etcd ask for certificates, whatever `client_cert_auth` says).
    pub no_trusted_ca: bool,
    /// Serve clients and peers over TLS with etcd's own self-signed certificates (`--auto-tls`,
    /// `--peer-auto-tls`), without certificate files.
    pub auto_tls: bool,
    /// Require client certificates (`--client-cert-auth`).
    pub client_cert_auth: bool,
    /// Require peer certificates (`--peer-client-cert-auth`).
    pub peer_client_cert_auth: bool,
    /// Configure etcd only through `ETCD_*` environment variables, no flags.
    pub via_env: bool,
    /// Run as this uid and gid (the data directory is chowned to it).
    pub run_as: Option<(u32, u32)>,
    /// More arguments, as given.
    pub extra_args: Vec<String>,
}

/// Paths of the test PKI.
#[derive(Debug, Clone)]
pub struct EtcdPki {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// A running etcd. Killed, and its directory removed, on drop.
pub struct TestEtcd {
    child: Child,
    dir: PathBuf,
    data_dir: PathBuf,
    client_url: String,
    pki: Option<EtcdPki>,
}

fn skip(reason: &str) -> Option<TestEtcd> {
    if ci() {
        panic!("CI=true and the real etcd cannot run: {reason}");
    }
    eprintln!("skipped: {reason}");
    None
}

/// Two distinct free loopback ports (both held until both are found).
pub fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("a bound address").port();
    (port(&a), port(&b))
}

/// Create `dir` with mode 0700, owned by `owner` (uid, gid) when given.
fn make_private_dir(dir: &Path, owner: Option<(u32, u32)>) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    if let Some((uid, gid)) = owner {
        let _ = std::os::unix::fs::chown(dir, Some(uid), Some(gid));
    }
}

/// The etcd command `options` describe, listening on `client_url` and `peer_url`.
#[allow(clippy::too_many_arguments)]
fn etcd_command(
    etcd: &Path,
    dir: &Path,
    data_dir: &Path,
    options: &EtcdOptions,
    pki: Option<&EtcdPki>,
    n: u32,
    client_url: &str,
    peer_url: &str,
) -> Command {
    let name = format!("bulkhead-test-{n}");
    let mut settings: Vec<(&str, String)> = vec![
        ("name", name.clone()),
        ("data-dir", data_dir.display().to_string()),
        ("listen-client-urls", client_url.to_string()),
        ("advertise-client-urls", client_url.to_string()),
        ("listen-peer-urls", peer_url.to_string()),
        ("initial-advertise-peer-urls", peer_url.to_string()),
        ("initial-cluster", format!("{name}={peer_url}")),
    ];
    if let Some(p) = pki {
        settings.extend([
            ("cert-file", p.server_cert.display().to_string()),
            ("key-file", p.server_key.display().to_string()),
            ("peer-cert-file", p.server_cert.display().to_string()),
            ("peer-key-file", p.server_key.display().to_string()),
        ]);
        if !options.no_trusted_ca {
            settings.extend([
                ("trusted-ca-file", p.ca_cert.display().to_string()),
                ("peer-trusted-ca-file", p.ca_cert.display().to_string()),
            ]);
        }
    }
    if options.auto_tls {
        settings.extend([
            ("auto-tls", "true".into()),
            ("peer-auto-tls", "true".into()),
        ]);
    }
    if options.client_cert_auth {
        settings.push(("client-cert-auth", "true".into()));
    }
    if options.peer_client_cert_auth {
        settings.push(("peer-client-cert-auth", "true".into()));
    }
    let mut cmd = Command::new(etcd);
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    if options.via_env {
        for (k, v) in &settings {
            cmd.env(
                format!("ETCD_{}", k.to_ascii_uppercase().replace('-', "_")),
                v,
            );
        }
    } else {
        for (k, v) in &settings {
            cmd.arg(format!("--{k}={v}"));
        }
    }
    cmd.args(&options.extra_args);
    if let Some((uid, gid)) = options.run_as {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

/// Start `cmd` logging to `dir`/etcd.log and wait until it listens on `client_port`; else kill
/// it and say why, with the end of its log.
fn spawn_listening(mut cmd: Command, dir: &Path, client_port: u16) -> Result<Child, String> {
    let log = std::fs::File::create(dir.join("etcd.log")).unwrap();
    cmd.stdout(log.try_clone().unwrap()).stderr(log);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting {:?}: {e}", cmd.get_program()));
    let addr: SocketAddr = format!("127.0.0.1:{client_port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let log = || tail(&std::fs::read_to_string(dir.join("etcd.log")).unwrap_or_default());
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(child);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "etcd exited ({status}) before listening:\n{}",
                log()
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "etcd did not listen on {addr} within 20s:\n{}",
                log()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Make a CA and a server and client pair signed by it (server valid for 127.0.0.1).
fn make_pki(dir: &Path) -> EtcdPki {
    std::fs::create_dir_all(dir).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=bulkhead-test-etcd-ca",
        ],
    );
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    for name in ["server", "client"] {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let crt = format!("{name}.crt");
        let subj = format!("/CN=bulkhead-test-{name}");
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &subj,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                "san.cnf",
            ],
        );
    }
    EtcdPki {
        ca_cert: dir.join("ca.crt"),
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.crt"),
        client_key: dir.join("client.key"),
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestEtcd {
    /// Start etcd as `options` say and wait until its client port accepts connections.
    pub fn start(options: EtcdOptions) -> Option<TestEtcd> {
        let Some(etcd) = find_program("etcd") else {
            return skip("no etcd binary (apt-get install etcd-server)");
        };
        if options.tls && find_program("openssl").is_none() {
            return skip("no openssl binary to make test certificates");
        }
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("bulkhead-etcd-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data_dir = dir.join("data");
        make_private_dir(&data_dir, None);
        let pki = options.tls.then(|| make_pki(&dir.join("pki")));
        if let Some((uid, gid)) = options.run_as {
            for p in std::iter::once(dir.clone()).chain([data_dir.clone(), dir.join("pki")]) {
                let _ = std::os::unix::fs::chown(&p, Some(uid), Some(gid));
            }
            if let Some(pki) = &pki {
                for p in [
                    &pki.server_key,
                    &pki.client_key,
                    &pki.server_cert,
                    &pki.client_cert,
                    &pki.ca_cert,
                ] {
                    let _ = std::os::unix::fs::chown(p, Some(uid), Some(gid));
                }
            }
        }
        let scheme = if options.tls || options.auto_tls {
            "https"
        } else {
            "http"
        };
        // A port found free may be taken by another test before etcd binds it: etcd then exits
        // with "address already in use", and another pair of ports is tried.
        let mut attempt = 0;
        let (child, client_url) = loop {
            attempt += 1;
            let (client_port, peer_port) = free_ports();
            let client_url = format!("{scheme}://127.0.0.1:{client_port}");
            let peer_url = format!("{scheme}://127.0.0.1:{peer_port}");
            let cmd = etcd_command(
                &etcd,
                &dir,
                &data_dir,
                &options,
                pki.as_ref(),
                n,
                &client_url,
                &peer_url,
            );
            match spawn_listening(cmd, &dir, client_port) {
                Ok(child) => break (child, client_url),
                Err(log) if attempt < 3 && log.contains("address already in use") => {
                    // etcd may have begun its data directory: start the next one afresh.
                    let _ = std::fs::remove_dir_all(&data_dir);
                    make_private_dir(&data_dir, options.run_as);
                }
                Err(log) => panic!("{log}"),
            }
        };
        Some(TestEtcd {
            child,
            dir,
            data_dir,
            client_url,
            pki,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn client_url(&self) -> &str {
        &self.client_url
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn pki(&self) -> Option<&EtcdPki> {
        self.pki.as_ref()
    }

    /// [`etcd_answers_without_client_cert`] on this etcd's client URL.
    pub fn answers_without_client_cert(&self) -> bool {
        let authority = self
            .client_url
            .strip_prefix("https://")
            .unwrap_or_else(|| panic!("etcd serves {} without TLS", self.client_url));
        etcd_answers_without_client_cert(authority)
    }
}

/// Whether the etcd at `authority` (`127.0.0.1:2379`, TLS) answers `GET /version` from a client
/// that shows no certificate: true with etcd's answer, false when it refuses the handshake.
/// Panics when the probe itself cannot run (no openssl) or the answer is not etcd's.
pub fn etcd_answers_without_client_cert(authority: &str) -> bool {
    match https_get_without_client_cert(authority, "/version") {
        Ok(answer) => {
            assert!(answer.contains("etcdserver"), "not etcd's answer: {answer}");
            true
        }
        Err(why) => {
            assert!(
                why.contains("gave no HTTP answer"),
                "the probe failed: {why}"
            );
            false
        }
    }
}

/// `GET path` over TLS to `authority` (`127.0.0.1:2379`) from a client that shows no certificate
/// and does not verify the server's (`openssl s_client`): the whole HTTP answer, or what went
/// wrong (the handshake refused, no openssl, no answer within 10 s). It shows whether a server
/// really asks its clients for a certificate.
pub fn https_get_without_client_cert(authority: &str, path: &str) -> Result<String, String> {
    https_get(authority, path, &[])
}

/// `GET path` over TLS to `authority` from a client that verifies the server's certificate
/// against `ca` and shows `client` (certificate and key): the whole HTTP answer, or what went
/// wrong. It succeeds only when the server serves a certificate that CA signed (never etcd's
/// automatic, self-signed one) and accepts the client's.
pub fn https_get_verified(
    authority: &str,
    path: &str,
    ca: &std::path::Path,
    client: &crate::pki::Issued,
) -> Result<String, String> {
    let args = [
        "-verify_return_error".as_ref(),
        "-CAfile".as_ref(),
        ca.as_os_str(),
        "-cert".as_ref(),
        client.cert.as_os_str(),
        "-key".as_ref(),
        client.key.as_os_str(),
    ];
    https_get(authority, path, &args)
}

/// `GET path` through `openssl s_client -connect authority -quiet` with `extra` arguments.
fn https_get(authority: &str, path: &str, extra: &[&std::ffi::OsStr]) -> Result<String, String> {
    let openssl = find_program("openssl").ok_or("no openssl binary")?;
    let mut child = Command::new(openssl)
        .args(["s_client", "-connect", authority, "-quiet"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting openssl: {e}"))?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n");
    // -quiet ignores the end of its input: the server ends the exchange after an HTTP/1.0 answer.
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), request.as_bytes())
        .map_err(|e| format!("writing the request: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no answer from {authority} within 10 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let answer = String::from_utf8_lossy(&out.stdout).into_owned();
    if answer.starts_with("HTTP/") {
        Ok(answer)
    } else {
        Err(format!(
            "{authority} gave no HTTP answer ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
