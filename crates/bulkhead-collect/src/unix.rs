//! The Engine API over a unix socket, with connections reused.
//!
//! bollard's own unix client turns connection pooling off, so every request opens a new
//! connection. An audit sends one request per container and per image; reusing a handful of
//! connections spares the daemon accepting and serving dozens of fresh ones, which is most of
//! what separates a collection from the raw API time on a small machine.

use bollard::{BollardRequest, ClientVersion, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use hyperlocal::UnixConnector;
use std::sync::Arc;

/// Idle connections kept per socket: the collector's inspect concurrency plus the few requests
/// that run beside it (info, version, images, networks).
const POOLED: usize = 16;

/// A Docker client for the unix socket at `socket`.
pub fn client(
    socket: &str,
    timeout_secs: u64,
    version: &ClientVersion,
) -> Result<Docker, bollard::errors::Error> {
    let http = Arc::new(
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(POOLED)
            .build(UnixConnector),
    );
    let socket = socket.to_string();
    let transport = move |req: BollardRequest| {
        let http = Arc::clone(&http);
        let socket = socket.clone();
        async move {
            let (mut parts, body) = req.into_parts();
            let path = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            parts.uri = hyperlocal::Uri::new(&socket, path).into();
            http.request(BollardRequest::from_parts(parts, body))
                .await
                .map_err(bollard::errors::Error::from)
        }
    };
    // The address only fills the request URI bollard builds; the transport replaces it.
    Docker::connect_with_custom_transport(transport, Some("http://docker"), timeout_secs, version)
}
