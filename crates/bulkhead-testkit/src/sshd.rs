//! [`TestSshd`]: a private OpenSSH server on a loopback port whose only key runs one forced
//! command, for tests of `ssh://` Docker endpoints. The docker CLI's ssh transport (and
//! bollard's) runs `docker system dial-stdio` on the remote host; the forced command runs it
//! against the test daemon's socket, so the user's daemon is never reached.
//!
//! Everything lives in a scratch directory: host key, client key, `authorized_keys`, sshd's
//! config, pidfile and log, and an `ssh-agent` holding the client key. A client reaches the server
//! with `SSH_AUTH_SOCK` = [`TestSshd::agent_socket`]. The ssh client only reads the user's own
//! `~/.ssh/known_hosts`, so the server's host key is added there for `[127.0.0.1]:PORT` (a client
//! checking host keys strictly then accepts it) and removed again on drop, with sshd and
//! ssh-agent.

use crate::dockerd::{ci, find_program, scratch_dir};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestSshd {
    dir: PathBuf,
    port: u16,
    sshd: Child,
    agent: Child,
    known_hosts: PathBuf,
    known_hosts_existed: bool,
    known_hosts_old_existed: bool,
}

fn skip<T>(reason: &str) -> Option<T> {
    if ci() {
        panic!("CI=true: {reason}");
    }
    eprintln!("skipped: {reason}");
    None
}

fn run(program: &Path, args: &[&str], env: &[(&str, &Path)]) -> Result<(), String> {
    let mut c = Command::new(program);
    c.args(args).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c
        .output()
        .map_err(|e| format!("running {}: {e}", program.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl TestSshd {
    /// Start sshd on a free 127.0.0.1 port accepting one generated key for `root`, whose every
    /// session runs `forced_command` (test-authored text). Outside CI None (after printing
    /// `skipped: ...`) when OpenSSH's server or client tools are missing or not root; under
    /// `CI=true` that panics.
    pub fn start(name: &str, forced_command: &str) -> Option<TestSshd> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return skip("a test sshd accepting root needs root");
        }
        let mut tools = Vec::new();
        for t in ["sshd", "ssh", "ssh-keygen", "ssh-agent", "ssh-add"] {
            match find_program(t) {
                Some(p) => tools.push(p),
                None => {
                    return skip(&format!(
                        "no {t} binary (install openssh-server and openssh-client)"
                    ))
                }
            }
        }
        let (sshd, keygen, agent_bin, add) = (&tools[0], &tools[2], &tools[3], &tools[4]);
        let dir = scratch_dir(name);
        let host_key = dir.join("host_ed25519");
        let client_key = dir.join("client_ed25519");
        for key in [&host_key, &client_key] {
            run(
                keygen,
                &["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()],
                &[],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let public = std::fs::read_to_string(dir.join("client_ed25519.pub")).unwrap();
        let command = forced_command.replace('\\', "\\\\").replace('"', "\\\"");
        std::fs::write(
            dir.join("authorized_keys"),
            format!("command=\"{command}\",no-pty,no-port-forwarding {public}"),
        )
        .unwrap();
        let port = (22220..22400)
            .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .expect("a free port");
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nAllowUsers root\nMaxStartups 100\n",
                host_key.display(),
                dir.join("sshd.pid").display(),
                dir.join("authorized_keys").display()
            ),
        )
        .unwrap();
        // sshd refuses to start without its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
        let sshd = Command::new(sshd)
            .args(["-D", "-e", "-f", config.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting sshd: {e}"));
        let agent_socket = dir.join("agent.sock");
        let agent = Command::new(agent_bin)
            .args(["-D", "-a", agent_socket.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting ssh-agent: {e}"));
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        let known_hosts = PathBuf::from(home).join(".ssh/known_hosts");
        let known_hosts_old = known_hosts.with_file_name("known_hosts.old");
        let known_hosts_existed = known_hosts.exists();
        let known_hosts_old_existed = known_hosts_old.exists();
        // A key learned for this address and port by an earlier, killed run would now differ.
        if known_hosts_existed {
            let _ = Command::new(keygen)
                .args([
                    "-R",
                    &format!("[127.0.0.1]:{port}"),
                    "-f",
                    known_hosts.to_str().unwrap_or_default(),
                ])
                .output();
        }
        let host_public = std::fs::read_to_string(dir.join("host_ed25519.pub")).unwrap();
        std::fs::create_dir_all(known_hosts.parent().unwrap()).unwrap();
        let mut kh = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&known_hosts)
            .unwrap_or_else(|e| panic!("opening {}: {e}", known_hosts.display()));
        std::io::Write::write_all(
            &mut kh,
            format!("[127.0.0.1]:{port} {}", host_public.trim_end()).as_bytes(),
        )
        .and_then(|_| std::io::Write::write_all(&mut kh, b"\n"))
        .unwrap();
        let mut me = TestSshd {
            dir,
            port,
            sshd,
            agent,
            known_hosts_existed,
            known_hosts_old_existed,
            known_hosts,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let up =
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && agent_socket.exists();
            if up {
                break;
            }
            if let Ok(Some(status)) = me.sshd.try_wait() {
                panic!(
                    "test sshd exited with {status}: {}",
                    std::fs::read_to_string(me.dir.join("sshd.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "test sshd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        run(
            add,
            &[client_key.to_str().unwrap()],
            &[("SSH_AUTH_SOCK", &agent_socket)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        me.port = port;
        Some(me)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ssh://root@127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("ssh://root@127.0.0.1:{}", self.port)
    }

    /// The agent holding the client key: the client process needs it as `SSH_AUTH_SOCK`.
    pub fn agent_socket(&self) -> PathBuf {
        self.dir.join("agent.sock")
    }

    /// Take this server's host key out of root's known_hosts again, so that a client checking
    /// host keys strictly meets an unknown host (as on a first connection to a new machine).
    pub fn forget_host_key(&self) {
        let keygen = find_program("ssh-keygen").expect("ssh-keygen was found at start");
        run(
            &keygen,
            &[
                "-R",
                &format!("[127.0.0.1]:{}", self.port),
                "-f",
                self.known_hosts.to_str().unwrap_or_default(),
            ],
            &[],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }

    /// sshd's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        for child in [&mut self.sshd, &mut self.agent] {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Forget the host key the client learned, leaving root's known_hosts as it was.
        if self.known_hosts_existed {
            if let Some(keygen) = find_program("ssh-keygen") {
                let _ = Command::new(keygen)
                    .args([
                        "-R",
                        &format!("[127.0.0.1]:{}", self.port),
                        "-f",
                        self.known_hosts.to_str().unwrap_or_default(),
                    ])
                    .output();
            }
            if !self.known_hosts_old_existed {
                let _ = std::fs::remove_file(self.known_hosts.with_file_name("known_hosts.old"));
            }
        } else {
            let _ = std::fs::remove_file(&self.known_hosts);
        }
    }
}
