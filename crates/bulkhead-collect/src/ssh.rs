//! The `ssh://[user@]host[:port]` transport, as the docker CLI does it: one ssh master
//! connection to the host (the system's OpenSSH client, through the `openssh` crate), and for
//! each API connection a `docker system dial-stdio` session over it, speaking HTTP/1.1 on its
//! standard input and output. This is the one place bulkhead starts a process (`ssh`); the
//! address comes from `--docker-host`, `DOCKER_HOST` or the user's own docker context store,
//! never from an audited file.
//!
//! Host keys are checked strictly against the user's known_hosts (an unknown host is refused,
//! never trusted on first use); keys come from the user's ssh configuration and agent
//! (`SSH_AUTH_SOCK`). bollard's own ssh connector is not used: it drops the port of
//! `ssh://host:port`.
//!
//! What ssh and the remote command print on failure is kept for the error: ssh's reason (an
//! unknown host key, a refused login, a closed port) and the remote command's standard error (no
//! docker CLI there, no access to the socket, no daemon). The latter is read by bulkhead rather
//! than passed through to its own standard error.

use bollard::{BollardRequest, ClientVersion, Docker};
use hyper_util::rt::TokioIo;
use openssh::{KnownHosts, Session, SessionBuilder, Stdio};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OnceCell;

/// What marks a failure of the remote `docker system dial-stdio`, for `endpoint::explain`
/// (lower case: it is matched against lowered text).
pub(crate) const REMOTE_COMMAND: &str = "`docker system dial-stdio` failed on the remote host";

/// The most of the remote command's standard error kept for a message.
const STDERR_KEPT: usize = 8 * 1024;

/// Where to connect and how.
#[derive(Clone)]
struct Target {
    builder: SessionBuilder,
    destination: String,
}

/// A client whose every request runs over `docker system dial-stdio` on the ssh host.
pub fn client(
    url: &str,
    ssh_auth_sock: Option<String>,
    timeout_secs: u64,
    negotiated: Option<&ClientVersion>,
) -> Result<Docker, bollard::errors::Error> {
    let mut builder = SessionBuilder::default();
    builder
        .known_hosts_check(KnownHosts::Strict)
        .connect_timeout(std::time::Duration::from_secs(timeout_secs.min(30)));
    if let Some(sock) = ssh_auth_sock {
        builder.ssh_auth_sock(sock);
    }
    // `resolve` turns ssh://user@host:port into options (it is given the full URL, unlike in
    // bollard's connector, so the port is kept).
    let (builder, destination) = builder.resolve(url);
    let target = Arc::new(Target {
        builder: builder.into_owned(),
        destination: destination.to_string(),
    });
    let session: Arc<OnceCell<Arc<Session>>> = Arc::new(OnceCell::new());
    let transport = move |req: BollardRequest| {
        let target = target.clone();
        let session = session.clone();
        async move { request(&target, &session, req).await }
    };
    let version = negotiated.unwrap_or(bollard::API_DEFAULT_VERSION);
    Docker::connect_with_custom_transport(transport, Some(url), timeout_secs, version)
}

fn io_error(what: &str, e: impl std::fmt::Display) -> bollard::errors::Error {
    bollard::errors::Error::IOError {
        err: std::io::Error::other(format!("{what}: {e}")),
    }
}

async fn request(
    target: &Target,
    session: &OnceCell<Arc<Session>>,
    mut req: BollardRequest,
) -> Result<hyper::Response<hyper::body::Incoming>, bollard::errors::Error> {
    let session = session
        .get_or_try_init(|| async {
            target
                .builder
                .connect(&target.destination)
                .await
                .map(Arc::new)
                .map_err(|e| {
                    io_error(
                        &format!("ssh to {} failed", target.destination),
                        ssh_reason(&e),
                    )
                })
        })
        .await?
        .clone();
    let mut child = session
        .arc_command("docker")
        .arg("system")
        .arg("dial-stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .await
        .map_err(|e| io_error("running `docker system dial-stdio` over ssh", e))?;
    let (Some(stdin), Some(stdout)) = (child.stdin().take(), child.stdout().take()) else {
        return Err(io_error(
            "docker system dial-stdio",
            "no standard input or output",
        ));
    };
    let stderr = child.stderr().take().map(|e| tokio::spawn(read_stderr(e)));
    let io = TokioIo::new(Duplex { stdin, stdout });
    let (mut sender, connection) = match hyper::client::conn::http1::handshake(io).await {
        Ok(pair) => pair,
        Err(e) => return Err(remote_failure(stderr, io_error("HTTP over ssh", e)).await),
    };
    // The connection runs until the response body has been read; the remote command lives as
    // long as it does.
    tokio::spawn(async move {
        let _ = connection.await;
        let _ = child.disconnect().await;
    });
    // Origin-form request target, as over a unix socket (the path already names the negotiated
    // version: `endpoint::naming_version`).
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    *req.uri_mut() = path.parse().map_err(|e| io_error("request path", e))?;
    req.headers_mut().insert(
        hyper::header::HOST,
        hyper::header::HeaderValue::from_static("docker"),
    );
    match sender.send_request(req).await {
        Ok(response) => Ok(response),
        Err(e) => Err(remote_failure(
            stderr,
            bollard::errors::Error::HyperResponseError { err: e },
        )
        .await),
    }
}

/// The remote command's standard error, up to [`STDERR_KEPT`] bytes; read to its end so that
/// the command never blocks on a full pipe.
async fn read_stderr(mut stderr: openssh::ChildStderr) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let mut read = ReadBuf::new(&mut buf);
        let done = std::future::poll_fn(|cx| Pin::new(&mut stderr).poll_read(cx, &mut read)).await;
        let n = read.filled().len();
        if done.is_err() || n == 0 {
            break;
        }
        let room = STDERR_KEPT.saturating_sub(kept.len());
        kept.extend_from_slice(&read.filled()[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// The error for an exchange that failed: what the remote command said on its standard error
/// when it said anything (the HTTP failure is only its consequence), else `e`.
async fn remote_failure(
    stderr: Option<tokio::task::JoinHandle<String>>,
    e: bollard::errors::Error,
) -> bollard::errors::Error {
    let Some(stderr) = stderr else { return e };
    // The command has exited or is about to (its output ended): its standard error ends too.
    let said = match tokio::time::timeout(std::time::Duration::from_secs(5), stderr).await {
        Ok(Ok(text)) => summary(&text),
        _ => String::new(),
    };
    if said.is_empty() {
        e
    } else {
        io_error(REMOTE_COMMAND, said)
    }
}

/// The lines of `text` worth a message, joined with "; ": warnings (such as the docker CLI's
/// about its config file) only when nothing else was said; at most the last three.
fn summary(text: &str) -> String {
    // Each line's final full stop goes: the lines are joined with "; ".
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim().trim_end_matches('.'))
        .filter(|l| !l.is_empty())
        .collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with("WARNING"))
        .collect();
    let chosen = if errors.is_empty() { lines } else { errors };
    chosen[chosen.len().saturating_sub(3)..].join("; ")
}

/// What ssh said about a failed connection (openssh keeps ssh's standard error as the cause of
/// its "failed to connect to the remote host"). A changed host key comes with a banner of a dozen
/// lines; its gist is kept.
fn ssh_reason(e: &openssh::Error) -> String {
    let said = std::error::Error::source(e)
        .map(|c| c.to_string())
        .unwrap_or_default();
    if said.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        return "the host key differs from the one recorded in known_hosts (REMOTE HOST IDENTIFICATION HAS CHANGED); Host key verification failed".into();
    }
    let lines: Vec<&str> = said
        .lines()
        .map(|l| l.trim().trim_end_matches('.'))
        .filter(|l| !l.is_empty() && !l.starts_with('@'))
        .collect();
    if lines.is_empty() {
        e.to_string()
    } else {
        lines[lines.len().saturating_sub(3)..].join("; ")
    }
}

/// The remote command's standard output and input as one byte stream.
struct Duplex {
    stdin: openssh::ChildStdin,
    stdout: openssh::ChildStdout,
}

impl AsyncRead for Duplex {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for Duplex {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stdin).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdin).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdin).poll_shutdown(cx)
    }
}
