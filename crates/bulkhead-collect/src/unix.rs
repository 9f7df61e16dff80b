//! The Engine API over a unix socket, with connections reused.
//!
//! bollard's own unix client turns connection pooling off, so every request opens a new
//! connection. An audit sends one request per container and per image; reusing a handful of
//! connections spares the daemon accepting and serving dozens of fresh ones, which is most of
//! what separates a collection from the raw API time on a small machine.
//!
//! Beside the bollard client, [`RawGet`] sends a plain GET over the same pooled connections and
//! answers the body as it came. The per-container inspects use it: the document is parsed once,
//! straight into the snapshot's types, instead of into bollard's model, back to JSON and again.

use crate::endpoint::versioned;
use bollard::{BollardRequest, ClientVersion, Docker};
use futures_util::future::BoxFuture;
use http_body_util::BodyExt;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use hyperlocal::UnixConnector;
use std::sync::Arc;
use std::time::Duration;

/// Idle connections kept per socket: the collector's inspect concurrency plus the few requests
/// that run beside it (info, version, images, networks).
const POOLED: usize = 16;

/// `GET /v{api}{path}`: the status code and the whole body, or what failed on the way.
pub type RawGet =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<(u16, Bytes), String>> + Send + Sync>;

/// A Docker client for the unix socket at `socket`, and a [`RawGet`] over the same connections
/// whose request paths name the `negotiated` API version (see [`versioned`]; the client's own
/// requests are versioned by the caller, `endpoint::naming_version`).
pub fn client(
    socket: &str,
    timeout_secs: u64,
    negotiated: Option<&ClientVersion>,
) -> Result<(Docker, RawGet), bollard::errors::Error> {
    let negotiated = negotiated.copied();
    let http = Arc::new(
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(POOLED)
            .build(UnixConnector),
    );
    let socket = socket.to_string();
    let raw: RawGet = {
        let http = Arc::clone(&http);
        let socket = socket.clone();
        let timeout = Duration::from_secs(timeout_secs);
        Arc::new(move |path: String| {
            let http = Arc::clone(&http);
            let uri: hyper::Uri =
                hyperlocal::Uri::new(&socket, &versioned(&path, negotiated.as_ref())).into();
            Box::pin(async move {
                let mut request = BollardRequest::new(bollard::body_full(Bytes::new()));
                *request.uri_mut() = uri;
                let exchange = async {
                    let response = http.request(request).await.map_err(|e| e.to_string())?;
                    let status = response.status().as_u16();
                    let body = response
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| format!("reading the answer: {e}"))?
                        .to_bytes();
                    Ok((status, body))
                };
                tokio::time::timeout(timeout, exchange)
                    .await
                    .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
            }) as BoxFuture<'static, _>
        })
    };
    let transport = move |req: BollardRequest| {
        let http = Arc::clone(&http);
        let socket = socket.clone();
        async move {
            let (mut parts, body) = req.into_parts();
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            parts.uri = hyperlocal::Uri::new(&socket, path).into();
            http.request(BollardRequest::from_parts(parts, body))
                .await
                .map_err(bollard::errors::Error::from)
        }
    };
    // The address only fills the request URI bollard builds; the transport replaces it.
    let docker = Docker::connect_with_custom_transport(
        transport,
        Some("http://docker"),
        timeout_secs,
        negotiated.as_ref().unwrap_or(bollard::API_DEFAULT_VERSION),
    )?;
    Ok((docker, raw))
}
