//! A throwaway certificate authority for TLS tests (a daemon listening on tcp+TLS, a client with
//! its certificate), made with the `openssl` command-line tool during test setup. ECDSA P-256
//! keys, valid for two days.

use crate::dockerd::{ci, find_program};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA in a directory, issuing server and client certificates.
pub struct TestPki {
    dir: PathBuf,
}

/// A key pair issued by the CA.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestPki {
    /// Make a CA in `dir` (created). Outside CI, None with `skipped: ...` printed when there is
    /// no openssl binary; under `CI=true` that panics.
    pub fn new(dir: &Path) -> Option<TestPki> {
        if find_program("openssl").is_none() {
            let reason = "no openssl binary to make test certificates (install openssl)";
            if ci() {
                panic!("CI=true: {reason}");
            }
            eprintln!("skipped: {reason}");
            return None;
        }
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let pki = TestPki {
            dir: dir.to_path_buf(),
        };
        pki.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=bulkhead-test-ca",
        ]);
        Some(pki)
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Issue a certificate named `name`: for a server with subject alternative names `sans`
    /// (`IP:127.0.0.1`, `DNS:localhost`), or for a client (`client = true`).
    pub fn issue(&self, name: &str, sans: &[&str], client: bool) -> Issued {
        let key = format!("{name}-key.pem");
        let csr = format!("{name}.csr");
        let cert = format!("{name}-cert.pem");
        let ext = format!("{name}.ext");
        let mut ext_text = String::new();
        if !sans.is_empty() {
            ext_text.push_str(&format!("subjectAltName={}\n", sans.join(",")));
        }
        ext_text.push_str(if client {
            "extendedKeyUsage=clientAuth\n"
        } else {
            "extendedKeyUsage=serverAuth\n"
        });
        std::fs::write(self.dir.join(&ext), ext_text).expect("writing the extension file");
        self.openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={name}"),
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            &cert,
            "-days",
            "2",
            "-extfile",
            &ext,
        ]);
        Issued {
            cert: self.dir.join(cert),
            key: self.dir.join(key),
        }
    }

    /// A client certificate laid out as `DOCKER_CERT_PATH` expects: `dir/{ca,cert,key}.pem`.
    pub fn docker_client_dir(&self, dir: &Path) -> PathBuf {
        let issued = self.issue("client", &[], true);
        std::fs::create_dir_all(dir).expect("creating the client cert dir");
        for (from, to) in [
            (self.ca(), "ca.pem"),
            (issued.cert, "cert.pem"),
            (issued.key, "key.pem"),
        ] {
            std::fs::copy(&from, dir.join(to))
                .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
        }
        dir.to_path_buf()
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
