//! A private PostgreSQL server for one test: `initdb` into a temporary directory, listening only
//! on a Unix socket in that directory (never a server of the machine, never a TCP port), with
//! `trust` authentication for the superuser `bulkhead`. Stopped and removed on drop.

use crate::tempdir::TempDir;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The port only names the socket file (`.s.PGSQL.<port>`): each server has a directory of its
/// own, so every server can use the same one.
const PORT: u16 = 5999;

pub struct TestPostgres {
    dir: TempDir,
    bin: PathBuf,
    /// PostgreSQL refuses to run as root: as root, its programs run as the `postgres` system user.
    as_postgres: bool,
}

impl TestPostgres {
    /// Start a server. None (after printing `skipped: ...`) when the server binaries are not
    /// installed, except under `CI=true`, where that panics: a missing component fails the run.
    pub fn start() -> Option<TestPostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
            let mut versions: Vec<PathBuf> = d
                .flatten()
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("initdb").exists())
                .collect();
            versions.sort();
            versions.pop()
        });
        let Some(bin) = bin else {
            if crate::ci() {
                panic!("CI=true but no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)");
            }
            eprintln!("skipped: PostgreSQL server binaries not installed");
            return None;
        };
        let dir = TempDir::new("postgres");
        let as_postgres = unsafe { libc::geteuid() } == 0;
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown of the test data directory to postgres failed");
        }
        let pg = TestPostgres {
            dir,
            bin,
            as_postgres,
        };
        let data = pg.dir.arg("data");
        pg.run(&[
            "initdb",
            "-D",
            &data,
            "-A",
            "trust",
            "-U",
            "bulkhead",
            "--no-sync",
        ]);
        let opts = format!("-k {} -c listen_addresses= -p {PORT} -F", pg.dir.display());
        let log = pg.dir.arg("log");
        pg.run(&[
            "pg_ctl", "-D", &data, "-o", &opts, "-w", "-l", &log, "start",
        ]);
        Some(pg)
    }

    /// The directory holding the server's socket (libpq's `host=`).
    pub fn socket_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// A libpq connection string for `user` on database `dbname` of this server.
    pub fn conninfo(&self, user: &str, dbname: &str) -> String {
        format!(
            "host={} port={PORT} user={user} dbname={dbname}",
            self.dir.display()
        )
    }

    /// Run `sql` with psql as the server's owner (`bulkhead`) on database `postgres`, stopping at
    /// the first error (which panics with psql's output); what it printed, unaligned and
    /// without headers, trimmed.
    pub fn psql(&self, sql: &str) -> String {
        let socket = self.socket_dir().display().to_string();
        let port = PORT.to_string();
        let out = self.run(&[
            "psql",
            "-h",
            &socket,
            "-p",
            &port,
            "-U",
            "bulkhead",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qtA",
            "-c",
            sql,
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Run one of the server's programs (`initdb`, `pg_ctl`, `psql`, ...) with `argv[1..]`;
    /// panics with its output when it fails.
    pub fn run(&self, argv: &[&str]) -> Output {
        let exe = self.bin.join(argv[0]);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(&argv[1..])
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
        assert!(
            out.status.success(),
            "{argv:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let data = self.dir.arg("data");
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        // Best effort: a server that failed to start has nothing to stop.
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}
