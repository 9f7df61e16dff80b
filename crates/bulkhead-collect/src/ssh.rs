//! The `ssh://[user@]host[:port]` transport, as the docker CLI does it: one ssh master
//! connection to the host (the system's OpenSSH client, through the `openssh` crate), and for
//! each API connection a `docker system dial-stdio` session over it, speaking HTTP/1.1 on its
//! standard input and output. This is the one place bulkhead starts a process (`ssh`); the
//! address comes from `--docker-host`/`DOCKER_HOST`, never from an audited file.
//!
//! Host keys are checked strictly against the user's known_hosts (an unknown host is refused,
//! never trusted on first use); keys come from the user's ssh configuration and agent
//! (`SSH_AUTH_SOCK`). bollard's own ssh connector is not used: it drops the port of
//! `ssh://host:port`.

use bollard::{BollardRequest, ClientVersion, Docker};
use hyper_util::rt::TokioIo;
use openssh::{KnownHosts, Session, SessionBuilder, Stdio};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OnceCell;

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
                .map_err(|e| io_error(&format!("ssh to {}", target.destination), e))
        })
        .await?
        .clone();
    let mut child = session
        .arc_command("docker")
        .arg("system")
        .arg("dial-stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .await
        .map_err(|e| io_error("running `docker system dial-stdio` over ssh", e))?;
    let (Some(stdin), Some(stdout)) = (child.stdin().take(), child.stdout().take()) else {
        return Err(io_error(
            "docker system dial-stdio",
            "no standard input or output",
        ));
    };
    let io = TokioIo::new(Duplex { stdin, stdout });
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| io_error("HTTP over ssh", e))?;
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
    sender
        .send_request(req)
        .await
        .map_err(|e| bollard::errors::Error::HyperResponseError { err: e })
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
