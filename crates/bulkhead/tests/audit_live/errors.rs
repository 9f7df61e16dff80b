//! Tool errors (issue 2, point 9): exit 2 with a message that says what failed and what to do.
//! A missing socket names the socket tried and where the address came from; permission denied
//! says to run as root or join the docker group; a TCP endpoint that refuses is named.

use crate::lab_or_skip;
use crate::support::{command, run, run_env, TempDir};
use std::process::Command;

fn assert_tool_error(r: &crate::support::Run, parts: &[&str]) {
    r.expect_code(2);
    assert_eq!(r.stdout, "", "an error prints no report\n{r}");
    assert!(r.stderr.starts_with("bulkhead: error: "), "{r}");
    for p in parts {
        assert!(r.stderr.contains(p), "the message lacks {p:?}\n{r}");
    }
}

#[test]
fn missing_socket_names_the_socket_and_what_to_do() {
    // The lab's dockerd, listening on a socket of its own, is the one the error should offer.
    let _lab = lab_or_skip!();
    let dir = TempDir::new("no-socket");
    let sock = dir.arg("absent.sock");
    let url = format!("unix://{sock}");
    let r = run(&["audit", "docker", "--docker-host", &url]);
    assert_tool_error(
        &r,
        &[
            &sock,
            "from --docker-host",
            "is dockerd running",
            "check the path given to --docker-host",
        ],
    );
    // The lab's dockerd runs with its own -H: the error names that socket to try instead.
    assert!(
        r.stderr.contains("audit it with --docker-host unix://")
            || r.stderr.contains("name one with --docker-host"),
        "{r}"
    );
    // The same address from DOCKER_HOST says it came from there.
    let r = run_env(&["audit", "docker"], &[("DOCKER_HOST", &url)]);
    assert_tool_error(
        &r,
        &[&sock, "from DOCKER_HOST", "check the path in DOCKER_HOST"],
    );
    // collect fails the same way.
    let r = run(&["collect", "docker", "--docker-host", &url]);
    assert_tool_error(&r, &[&sock]);
}

#[test]
fn refused_tcp_endpoint_is_named() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("tcp://127.0.0.1:{port}");
    let r = run(&["audit", "docker", "--docker-host", &url]);
    assert_tool_error(&r, &[&url, "did not answer", "refused"]);
}

#[test]
fn a_socket_file_nobody_listens_on_says_the_daemon_is_not_running() {
    let dir = TempDir::new("dead-socket");
    let path = dir.join("dead.sock");
    // A real unix socket whose listener is gone (what a crashed dockerd leaves behind).
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let url = format!("unix://{}", path.display());
    let r = run(&["audit", "docker", "--docker-host", &url]);
    assert_tool_error(&r, &[path.to_str().unwrap(), "not running"]);
}

#[test]
fn permission_denied_says_run_as_root_or_join_the_docker_group() {
    let lab = lab_or_skip!();
    let Some(runuser) = bulkhead_testkit::find_program("runuser") else {
        if bulkhead_testkit::ci() {
            panic!("CI=true and no runuser (util-linux) to run bulkhead as an unprivileged user");
        }
        eprintln!("skipped: no runuser (util-linux) to run bulkhead as an unprivileged user");
        return;
    };
    // The test daemon's socket is root's (mode 0660, group docker); nobody is not in that group.
    // Run a copy of the binary in a directory nobody can reach (the build directory may not be).
    let dir = TempDir::new("as-nobody");
    let copy = dir.join("bulkhead");
    std::fs::copy(crate::support::bulkhead(), &copy).unwrap();
    let sock = lab.d.socket_path();
    let url = lab.host.clone();
    let mut cmd = Command::new(runuser);
    cmd.args(["-u", "nobody", "--"])
        .arg(&copy)
        .args(["audit", "docker", "--docker-host", &url]);
    // Same scrubbed environment as every other run.
    let template = command(&[], &[]);
    for (k, v) in template.get_envs() {
        match v {
            None => cmd.env_remove(k),
            Some(v) => cmd.env(k, v),
        };
    }
    let out = cmd.output().expect("runuser");
    let r = crate::support::Run {
        args: vec!["(as nobody) audit docker --docker-host".into(), url.clone()],
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_tool_error(
        &r,
        &[
            "permission denied",
            sock.to_str().unwrap(),
            "run bulkhead as root or as a member of the docker group",
        ],
    );
}
