//! Where the Docker Engine API is, and how to reach it.
//!
//! The daemon is chosen as the docker CLI chooses it: `--docker-host`, else `DOCKER_HOST`, else
//! the docker CLI context selected by `DOCKER_CONTEXT`, else the one `docker context use` recorded
//! (`currentContext` in `$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`), else the
//! current user's rootless socket (`$XDG_RUNTIME_DIR/docker.sock`) when that exists and the
//! default does not, else `unix:///var/run/docker.sock`. The context named `default` is the
//! default socket. TLS for a tcp address comes from `DOCKER_TLS_VERIFY` / `DOCKER_TLS` and the
//! certificates in `DOCKER_CERT_PATH` (default `DOCKER_CONFIG`, else `~/.docker`, as the docker
//! CLI); for a context, from the files the context keeps (the environment plays no part then, as
//! with the CLI).
//!
//! TLS is set up as the CLI sets it up. `DOCKER_TLS_VERIFY` checks the daemon's certificate
//! against `ca.pem` (required); `DOCKER_TLS` alone turns TLS on without checking it. A context
//! checks it against its `ca.pem`, else against the system's trusted roots, unless it sets
//! `SkipTLSVerify`. `cert.pem` and `key.pem`, when both are there, are sent as the client
//! certificate; one without the other stops the run (the CLI would quietly send none). A
//! connection whose daemon certificate is not checked is made, as the CLI makes it, with a
//! warning on stderr that says how to have it checked ([`insecure_warning`]).
//!
//! A context is read from the CLI's store: `contexts/meta/<sha256 of the name>/meta.json` in the
//! configuration directory, its TLS files in `contexts/tls/<sha256 of the name>/docker/`. A
//! selected context that is missing, unreadable or without a docker endpoint stops the run with
//! what to do: auditing the default socket instead would audit another daemon than the one
//! `docker` talks to.
//!
//! A password in the address (`tcp://user:password@host`) is masked in the endpoint recorded and
//! in every message; ssh takes none from an address, so an `ssh://` address with one is refused.
//!
//! An endpoint is *local* when it is a unix socket or a tcp/ssh address of this machine (a
//! loopback address, one of its interface addresses, or its host name). For any other endpoint
//! the host's files and processes belong to a different machine and are not read (PITFALL 21).
//!
//! Connecting negotiates the API version: the daemon is asked at the oldest version current
//! daemons still serve, and the client then speaks the daemon's version (or bollard's newest,
//! whichever is older). Failures become a [`CollectError`] that names the endpoint and says what
//! to do.

use crate::CollectError;
use bollard::{ClientVersion, Docker};
use bulkhead_facts::docker::{Endpoint, DEFAULT_SOCKET};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Seconds before an API request is abandoned.
const TIMEOUT_SECS: u64 = 60;

/// How the API is reached.
#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    Unix(PathBuf),
    /// `host:port`, plain or TLS.
    Tcp {
        address: String,
        tls: Option<TlsFiles>,
    },
    /// `ssh://[user@]host[:port]`: the system's `ssh` client runs `docker system dial-stdio` on
    /// the host, as the docker CLI does (see [`crate::ssh`]).
    Ssh(String),
}

/// How tcp+TLS is set up: how the daemon's certificate is checked, and the client certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsFiles {
    /// The directory the files are looked for in: `DOCKER_CERT_PATH` (or its default), or the
    /// context's TLS directory.
    pub dir: PathBuf,
    pub server: ServerCheck,
    /// `cert.pem` in `dir`, when it is there.
    pub cert: Option<PathBuf>,
    /// `key.pem` in `dir`, when it is there.
    pub key: Option<PathBuf>,
    /// Where the directory came from (`DOCKER_CERT_PATH`, `DOCKER_CONFIG`, `~/.docker`, or
    /// `context NAME`).
    pub source: String,
    /// What turned TLS on: `https://`, `DOCKER_TLS_VERIFY`, `DOCKER_TLS`, or the TLS files or
    /// SkipTLSVerify of a docker context.
    pub enabled_by: String,
}

/// How the daemon's certificate is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerCheck {
    /// Against the CA certificates in this file, and only those.
    Ca(PathBuf),
    /// Against the system's trusted roots: a docker context whose TLS files hold no `ca.pem`.
    SystemRoots,
    /// Not at all, as the docker CLI does then: why (`DOCKER_TLS is set without
    /// DOCKER_TLS_VERIFY`, or the context's SkipTLSVerify).
    Skipped(String),
}

impl TlsFiles {
    /// Whether the daemon's certificate is checked.
    pub fn verifies_server(&self) -> bool {
        !matches!(self.server, ServerCheck::Skipped(_))
    }
}

/// A resolved endpoint: what is recorded in the snapshot, and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// `source` is `flag`, `env`, `context NAME` (a docker CLI context), `rootless` or `default`.
    pub endpoint: Endpoint,
    pub transport: Transport,
    /// `SSH_AUTH_SOCK`, for the ssh client of an `ssh://` endpoint.
    pub ssh_auth_sock: Option<String>,
}

/// What endpoint resolution consults, so tests can supply it.
pub struct Environment<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub socket_exists: &'a dyn Fn(&str) -> bool,
    /// Is this host name or address this machine?
    pub is_own_host: &'a dyn Fn(&str) -> bool,
}

impl Environment<'static> {
    /// The real process environment and file system.
    pub fn process() -> Self {
        Environment {
            var: &|k| std::env::var(k).ok().filter(|v| !v.is_empty()),
            socket_exists: &|p| std::path::Path::new(p).exists(),
            is_own_host: &is_own_host,
        }
    }
}

/// Resolve the endpoint from `--docker-host` and the environment.
pub fn resolve(flag: Option<&str>, env: &Environment<'_>) -> Result<Target, CollectError> {
    let mut context = None;
    let (host, source) = match flag.filter(|f| !f.is_empty()) {
        Some(f) => (f.to_string(), "flag".to_string()),
        None => match (env.var)("DOCKER_HOST") {
            Some(h) => (h, "env".into()),
            // As the docker CLI: an address named by flag or DOCKER_HOST wins over a context,
            // and the context is then not even looked up.
            None => match selected_context(env)? {
                Some(c) => {
                    let chosen = (c.host.clone(), format!("context {}", c.name));
                    context = Some(c);
                    chosen
                }
                None => {
                    let rootless = (env.var)("XDG_RUNTIME_DIR")
                        .map(|d| format!("{}/docker.sock", d.trim_end_matches('/')))
                        .filter(|s| (env.socket_exists)(s) && !(env.socket_exists)(DEFAULT_SOCKET));
                    match rootless {
                        Some(s) => (format!("unix://{s}"), "rootless".into()),
                        None => (format!("unix://{DEFAULT_SOCKET}"), "default".into()),
                    }
                }
            },
        },
    };
    // What is recorded and shown: the address with any password in it masked. The address as
    // given is kept in `Transport` only, to connect with.
    let shown = mask_address(&host);
    let named = |what: &str| match (source.as_str(), &context) {
        ("flag", _) => format!("--docker-host {what}"),
        ("env", _) => format!("DOCKER_HOST={what}"),
        (_, Some(c)) => format!(
            "{what} (from docker context {}, {})",
            c.name,
            c.meta.display()
        ),
        _ => what.to_string(),
    };
    let (transport, local) = if let Some(path) = host.strip_prefix("unix://") {
        (Transport::Unix(PathBuf::from(path)), true)
    } else if host.starts_with('/') {
        (Transport::Unix(PathBuf::from(&host)), true)
    } else if let Some(rest) = host
        .strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("https://"))
        .or_else(|| host.strip_prefix("http://"))
    {
        let address = rest.trim_end_matches('/').to_string();
        let https = host.starts_with("https://");
        let tls = match &context {
            Some(c) => c.tls(https),
            None => {
                let verify = (env.var)("DOCKER_TLS_VERIFY").is_some();
                let tls_only = (env.var)("DOCKER_TLS").is_some();
                let enabled_by = if https {
                    Some("https://")
                } else if verify {
                    Some("DOCKER_TLS_VERIFY")
                } else if tls_only {
                    Some("DOCKER_TLS")
                } else {
                    None
                };
                // As the docker CLI: DOCKER_TLS turns TLS on and DOCKER_TLS_VERIFY also has the
                // daemon's certificate checked; DOCKER_TLS alone leaves it unchecked.
                enabled_by.map(|by| tls_files(env, by, verify || !tls_only))
            }
        };
        let local = (env.is_own_host)(host_part(without_userinfo(&address)));
        (Transport::Tcp { address, tls }, local)
    } else if let Some(rest) = host.strip_prefix("ssh://") {
        if rest
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
        {
            return Err(CollectError(format!(
                "{}: ssh takes no password from the address; give ssh a key instead (loaded in ssh-agent, SSH_AUTH_SOCK, or in ~/.ssh) and name the endpoint as ssh://USER@HOST[:PORT]",
                named(&shown)
            )));
        }
        let local = (env.is_own_host)(host_part(without_userinfo(rest)));
        (Transport::Ssh(host.clone()), local)
    } else {
        let fix = match &context {
            Some(c) => format!(
                " (`docker context update {} --docker host=ADDRESS`)",
                c.name
            ),
            None => String::new(),
        };
        return Err(CollectError(format!(
            "{}: not a Docker endpoint; use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST{fix}",
            named(&shown)
        )));
    };
    let (kind, tls, tls_verified) = match &transport {
        Transport::Unix(_) => ("unix", false, None),
        Transport::Tcp { tls, .. } => (
            "tcp",
            tls.is_some(),
            tls.as_ref().map(TlsFiles::verifies_server),
        ),
        Transport::Ssh(_) => ("ssh", false, None),
    };
    Ok(Target {
        endpoint: Endpoint {
            host: shown,
            transport: kind.into(),
            tls,
            tls_verified,
            source,
            local,
            api_version: String::new(),
        },
        transport,
        ssh_auth_sock: (env.var)("SSH_AUTH_SOCK"),
    })
}

/// A docker CLI context, as read from the CLI's context store.
struct Context {
    name: String,
    /// `<config dir>/contexts/meta/<sha256 of the name>/meta.json`
    meta: PathBuf,
    /// The docker endpoint's address, as the context gives it.
    host: String,
    skip_tls_verify: bool,
    /// `<config dir>/contexts/tls/<sha256 of the name>/docker`: the endpoint's TLS files.
    tls_dir: PathBuf,
}

/// The part of a context's `meta.json` that bulkhead reads. Fields are optional because the CLI
/// takes a missing or null value as empty, while a value of the wrong type makes the file
/// unreadable to it, as to serde here. Endpoints other than `docker` (another tool's) are left
/// unparsed, so that their shape does not matter.
#[derive(serde::Deserialize)]
struct ContextMeta {
    #[serde(rename = "Endpoints", default)]
    endpoints: Option<std::collections::HashMap<String, serde_json::Value>>,
}

#[derive(serde::Deserialize)]
struct DockerEndpointMeta {
    #[serde(rename = "Host", default)]
    host: Option<String>,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: Option<bool>,
}

/// The docker CLI's configuration directory: `DOCKER_CONFIG`, else `~/.docker`.
fn config_dir(env: &Environment<'_>) -> Option<PathBuf> {
    match (env.var)("DOCKER_CONFIG") {
        Some(d) => Some(PathBuf::from(d)),
        None => Some(PathBuf::from((env.var)("HOME")?).join(".docker")),
    }
}

/// The lower-case hex sha256 of a context's name: the name of its directories in the store (so
/// that any name is a safe directory name).
fn store_key(name: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The context the docker CLI would use when no address is named: `DOCKER_CONTEXT`, else
/// `currentContext` in config.json. None for none or the context named `default` (the default
/// socket); an error, saying what to do, for one that cannot be used.
fn selected_context(env: &Environment<'_>) -> Result<Option<Context>, CollectError> {
    let dir = config_dir(env);
    let (name, selected_by, choose_another) = match (env.var)("DOCKER_CONTEXT") {
        Some(name) => {
            let by = format!("DOCKER_CONTEXT={name}");
            (name, by, "set DOCKER_CONTEXT to another context (`docker context ls` lists them), or unset it to audit this host's default socket".to_string())
        }
        None => {
            // `docker context use NAME` records the choice in config.json. The CLI takes a
            // config.json it cannot read or parse as empty (with a warning): no context, the
            // default socket, which is then the daemon `docker` talks to.
            let Some(dir) = &dir else { return Ok(None) };
            let file = dir.join("config.json");
            let Some(name) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .and_then(|config| config.get("currentContext")?.as_str().map(String::from))
            else {
                return Ok(None);
            };
            let by = format!(
                "currentContext in {}, set by `docker context use {name}`",
                file.display()
            );
            (name, by, "choose another with `docker context use NAME` (`docker context ls` lists them), or `docker context use default` to audit this host's default socket".to_string())
        }
    };
    if name.is_empty() || name == "default" {
        return Ok(None);
    }
    let Some(dir) = dir else {
        return Err(CollectError(format!(
            "{selected_by} selects a docker context, but neither DOCKER_CONFIG nor HOME is set, so the docker CLI's configuration directory is unknown: set DOCKER_CONFIG to it (usually ~/.docker of the user whose context it is)"
        )));
    };
    let key = store_key(&name);
    let meta = dir
        .join("contexts")
        .join("meta")
        .join(&key)
        .join("meta.json");
    let context = format!("docker context \"{name}\" ({selected_by})");
    let text = std::fs::read_to_string(&meta).map_err(|e| {
        CollectError(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{context} does not exist: there is no {} in the docker CLI's configuration directory {}; {choose_another}",
                meta.display(),
                dir.display()
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "{context} cannot be read: permission denied on {}; run bulkhead as the user whose context it is, or point DOCKER_CONFIG at a configuration directory this user may read",
                meta.display()
            ),
            _ => format!("{context} cannot be read: {}: {e}", meta.display()),
        })
    })?;
    let recreate = format!(
        "recreate it (`docker context rm {name}`, then `docker context create {name} --docker host=ADDRESS`), or {choose_another}"
    );
    let broken = |e: serde_json::Error| {
        CollectError(format!(
            "{context} cannot be read: {} is not a context as the docker CLI writes it ({e}); {recreate}",
            meta.display()
        ))
    };
    let parsed: ContextMeta = serde_json::from_str(&text).map_err(broken)?;
    let docker = parsed
        .endpoints
        .and_then(|mut endpoints| endpoints.remove("docker"))
        .filter(|d| !d.is_null())
        .map(serde_json::from_value::<DockerEndpointMeta>)
        .transpose()
        .map_err(broken)?;
    let Some(docker) = docker else {
        return Err(CollectError(format!(
            "{context} has no docker endpoint ({}): it names no Docker daemon; give it one with `docker context update {name} --docker host=ADDRESS`, or {choose_another}",
            meta.display()
        )));
    };
    Ok(Some(Context {
        // A docker endpoint without an address is the default socket to the CLI.
        host: docker
            .host
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| format!("unix://{DEFAULT_SOCKET}")),
        skip_tls_verify: docker.skip_tls_verify.unwrap_or(false),
        tls_dir: dir.join("contexts").join("tls").join(&key).join("docker"),
        name,
        meta,
    }))
}

impl Context {
    /// TLS for the context's tcp address, as the docker CLI sets it up: on when the context
    /// keeps TLS files or sets SkipTLSVerify, or for an `https://` address. The daemon's
    /// certificate is checked against the context's `ca.pem`, else against the system's trusted
    /// roots, unless the context sets SkipTLSVerify; `cert.pem` and `key.pem` are the client
    /// certificate (one without the other is refused before connecting, by [`precheck`]).
    fn tls(&self, https: bool) -> Option<TlsFiles> {
        let name = &self.name;
        let found = |file: &str| Some(self.tls_dir.join(file)).filter(|p| present(p));
        let (ca, cert, key) = (found("ca.pem"), found("cert.pem"), found("key.pem"));
        let has_files = ca.is_some() || cert.is_some() || key.is_some();
        if !https && !has_files && !self.skip_tls_verify {
            return None;
        }
        let server = match ca {
            // The CLI keeps the CA in its configuration then, but checks nothing against it.
            _ if self.skip_tls_verify => ServerCheck::Skipped(format!(
                "docker context {name} sets SkipTLSVerify in {}",
                self.meta.display()
            )),
            Some(ca) => ServerCheck::Ca(ca),
            None => ServerCheck::SystemRoots,
        };
        Some(TlsFiles {
            dir: self.tls_dir.clone(),
            server,
            cert,
            key,
            source: format!("context {name}"),
            enabled_by: if https {
                format!("https:// in docker context {name}")
            } else if has_files {
                format!("the TLS files of docker context {name}")
            } else {
                format!("SkipTLSVerify in docker context {name}")
            },
        })
    }
}

/// Whether `path` is there, as the docker CLI asks (a file it may not read counts: reading it
/// then fails with the reason).
fn present(path: &Path) -> bool {
    !matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// The command that gives context `name` (address `shown`, masked) a CA and a client certificate.
fn context_update(name: &str, shown: &str) -> String {
    format!("`docker context update {name} --docker \"host={shown},ca=CA.pem,cert=CERT.pem,key=KEY.pem\"`")
}

/// The docker context an endpoint came from.
fn context_of(endpoint: &Endpoint) -> Option<&str> {
    endpoint.source.strip_prefix("context ")
}

/// The endpoint as messages name it: its address (masked), and the docker context it came from.
fn shown(target: &Target) -> String {
    match context_of(&target.endpoint) {
        Some(name) => format!("{} (from docker context {name})", target.endpoint.host),
        None => target.endpoint.host.clone(),
    }
}

/// `user:password@host:port` -> `host:port`.
fn without_userinfo(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(_, h)| h)
}

/// TLS from the environment (`enabled_by` turned it on; `verify`: DOCKER_TLS_VERIFY, or no
/// DOCKER_TLS), with the files where the docker CLI looks for them.
fn tls_files(env: &Environment<'_>, enabled_by: &str, verify: bool) -> TlsFiles {
    // As the docker CLI: DOCKER_CERT_PATH, else its configuration directory.
    let (dir, source) = match (env.var)("DOCKER_CERT_PATH") {
        Some(d) => (PathBuf::from(d), "DOCKER_CERT_PATH"),
        None => match (env.var)("DOCKER_CONFIG") {
            Some(d) => (PathBuf::from(d), "DOCKER_CONFIG"),
            None => (
                PathBuf::from((env.var)("HOME").unwrap_or_else(|| "/root".into())).join(".docker"),
                "~/.docker",
            ),
        },
    };
    // The CLI requires ca.pem whenever TLS is on, and checks nothing against it without
    // DOCKER_TLS_VERIFY: it is required here only when it is used. The client certificate is
    // sent when its files are there.
    let found = |file: &str| Some(dir.join(file)).filter(|p| present(p));
    TlsFiles {
        server: if verify {
            ServerCheck::Ca(dir.join("ca.pem"))
        } else {
            ServerCheck::Skipped("DOCKER_TLS is set without DOCKER_TLS_VERIFY".into())
        },
        cert: found("cert.pem"),
        key: found("key.pem"),
        dir,
        source: source.into(),
        enabled_by: enabled_by.into(),
    }
}

/// `host:port`, `[::1]:2376`, `host` -> the host.
fn host_part(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => address,
    }
}

/// Is `host` this machine: `localhost`, a loopback address, one of its interface addresses, or
/// its host name?
pub fn is_own_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback() || ip.is_unspecified() || own_addresses().contains(&ip);
    }
    own_hostname().is_some_and(|h| h.eq_ignore_ascii_case(host))
}

fn own_hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    Some(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// The addresses of this machine's interfaces.
fn own_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills a linked list we walk read-only and free once.
    unsafe {
        if libc::getifaddrs(&mut ifap) != 0 {
            return out;
        }
        let mut cur = ifap;
        while !cur.is_null() {
            let addr = (*cur).ifa_addr;
            if !addr.is_null() {
                match (*addr).sa_family as i32 {
                    libc::AF_INET => {
                        let sin = addr as *const libc::sockaddr_in;
                        out.push(IpAddr::from(
                            u32::from_be((*sin).sin_addr.s_addr).to_be_bytes(),
                        ));
                    }
                    libc::AF_INET6 => {
                        let sin6 = addr as *const libc::sockaddr_in6;
                        out.push(IpAddr::from((*sin6).sin6_addr.s6_addr));
                    }
                    _ => {}
                }
            }
            cur = (*cur).ifa_next;
        }
        libc::freeifaddrs(ifap);
    }
    out
}

/// A client for `target` whose requests name the `negotiated` API version (None: the probe that
/// learns it, whose requests name none), with plain GETs where the transport offers them.
fn client(
    target: &Target,
    negotiated: Option<&ClientVersion>,
) -> Result<(Docker, Option<crate::unix::RawGet>), CollectError> {
    let host = shown(target);
    // The version bollard is built with never reaches a request path (see `versioned`): the
    // probe names none and `naming_version` names the negotiated one. Every transport gets the
    // same nominal value.
    let version = negotiated.unwrap_or(bollard::API_DEFAULT_VERSION);
    let r = match &target.transport {
        Transport::Unix(path) => {
            crate::unix::client(&path.to_string_lossy(), TIMEOUT_SECS, negotiated)
                .map(|(docker, raw)| (docker, Some(raw)))
        }
        Transport::Tcp { address, tls: None } => {
            Docker::connect_with_http(address, TIMEOUT_SECS, version).map(|d| (d, None))
        }
        Transport::Tcp {
            address,
            tls: Some(t),
        } => {
            return tls_client(address, t, version)
                .map(|docker| (naming_version(docker, negotiated), None))
                .map_err(|e| {
                    CollectError(format!(
                        "cannot set up TLS to the Docker API at {host}: {e}"
                    ))
                })
        }
        Transport::Ssh(url) => {
            crate::ssh::client(url, target.ssh_auth_sock.clone(), TIMEOUT_SECS, negotiated)
                .map(|d| (d, None))
        }
    };
    r.map(|(docker, raw)| (naming_version(docker, negotiated), raw))
        .map_err(|e| CollectError(format!("cannot set up a Docker API client for {host}: {e}")))
}

/// An HTTPS client for `address` set up as `t` says. bollard's own TLS client needs a CA file,
/// a client certificate and a key, and always checks the daemon's certificate; the docker CLI
/// also connects with a CA alone, with a client certificate checked against the system's roots,
/// and without checking the daemon's certificate. The requests go through the same hyper client
/// bollard would use, so its errors read the same.
fn tls_client(address: &str, t: &TlsFiles, version: &ClientVersion) -> Result<Docker, String> {
    let config = tls_config(t)?;
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnector::from((http, config));
    let mut builder =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new());
    // As bollard's TLS client: a connection per request.
    builder.pool_max_idle_per_host(0);
    let client = builder.build(https);
    let transport = move |request: bollard::BollardRequest| {
        let response = client.request(request);
        async move { response.await.map_err(bollard::errors::Error::from) }
    };
    Docker::connect_with_custom_transport(
        transport,
        Some(format!("https://{address}")),
        TIMEOUT_SECS,
        version,
    )
    .map_err(|e| e.to_string())
}

/// The rustls configuration for `t`; errors name the file that cannot be used.
fn tls_config(t: &TlsFiles) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::{pem::PemObject, PrivateKeyDer};
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match &t.server {
        ServerCheck::Skipped(_) => builder
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(AnyServerCertificate(provider))),
        ServerCheck::Ca(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(read_certificates(ca, "CA")?);
            if added == 0 {
                return Err(format!(
                    "the CA certificate {} holds no certificate that can be used: give the PEM certificate of the CA that signed the daemon's certificate",
                    ca.display()
                ));
            }
            builder.with_root_certificates(roots)
        }
        ServerCheck::SystemRoots => {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = rustls::RootCertStore::empty();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                let why = found
                    .errors
                    .first()
                    .map_or(String::new(), |e| format!(" ({e})"));
                return Err(format!(
                    "there is no ca.pem in {}, so the daemon's certificate is to be checked against the system's trusted CAs, and none could be loaded{why}: give the context the CA that signed the daemon's certificate",
                    t.dir.display()
                ));
            }
            builder.with_root_certificates(roots)
        }
    };
    match (&t.cert, &t.key) {
        (Some(cert), Some(key)) => {
            let chain = read_certificates(cert, "client")?;
            let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                format!(
                    "the client key {} holds no private key in PEM form that can be used ({e}): give the unencrypted PEM key of the client certificate, as the docker CLI needs it too",
                    key.display()
                )
            })?;
            builder.with_client_auth_cert(chain, private).map_err(|e| {
                format!(
                    "the client certificate {} and key {} cannot be used together ({e}): give the key that belongs to the certificate",
                    cert.display(),
                    key.display()
                )
            })
        }
        // A half pair is refused earlier (`precheck`).
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// The certificates in the PEM file `path` (a `what` certificate).
fn read_certificates(
    path: &Path,
    what: &str,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let unusable = |e: rustls::pki_types::pem::Error| {
        format!(
            "the {what} certificate {} cannot be read as PEM certificates ({e}): give it in PEM form, as the docker CLI needs it too",
            path.display()
        )
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(unusable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unusable)?;
    if certs.is_empty() {
        return Err(format!(
            "the {what} certificate {} holds no PEM certificate: give it in PEM form, as the docker CLI needs it too",
            path.display()
        ));
    }
    Ok(certs)
}

/// Accepts whatever certificate the daemon shows, as the docker CLI does with `DOCKER_TLS` alone
/// or a context's SkipTLSVerify; the handshake's signatures are still checked, so the
/// connection is at least with the holder of that certificate's key.
#[derive(Debug)]
struct AnyServerCertificate(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The warning for a connection that does not check the daemon's certificate: why, and how to
/// have it checked. None when it is checked (or there is no TLS).
pub fn insecure_warning(target: &Target) -> Option<String> {
    let Transport::Tcp { tls: Some(t), .. } = &target.transport else {
        return None;
    };
    let ServerCheck::Skipped(why) = &t.server else {
        return None;
    };
    let fix = match context_of(&target.endpoint) {
        Some(name) => format!(
            "give the context the CA that signed the daemon's certificate, which also clears SkipTLSVerify: {}",
            context_update(name, &target.endpoint.host)
        ),
        None => format!(
            "set DOCKER_TLS_VERIFY=1, with the CA that signed the daemon's certificate as ca.pem in {} ({})",
            t.dir.display(),
            t.source
        ),
    };
    Some(format!(
        "the certificate of the Docker daemon at {} is not verified ({why}; the docker CLI does not verify it then either), so whoever answers at that address, or intercepts the connection, is audited as that daemon; to verify it, {fix}",
        shown(target)
    ))
}

/// `docker` with every request path under the `negotiated` API version (see [`versioned`]),
/// whatever the transport; unchanged for the probe (`negotiated` None).
fn naming_version(docker: Docker, negotiated: Option<&ClientVersion>) -> Docker {
    let Some(negotiated) = negotiated.copied() else {
        return docker;
    };
    docker.with_request_modifier(move |mut request| {
        *request.uri_mut() = versioned_uri(request.uri(), &negotiated);
        request
    })
}

/// `uri` with its path under the `negotiated` version; scheme and authority kept.
fn versioned_uri(uri: &hyper::Uri, negotiated: &ClientVersion) -> hyper::Uri {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    // `/v1.41` before a valid path keeps it valid; should it not, the request goes as it was.
    let Ok(path) = versioned(path, Some(negotiated)).parse() else {
        return uri.clone();
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path);
    hyper::Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

/// When the socket tried does not exist: the unix sockets that running dockerd processes were
/// told to listen on (`-H unix://PATH`, `--host=...`), as a sentence to append to the error, so
/// that a user whose daemon listens elsewhere learns where. Read from `proc` only on this error
/// path; empty when there is none.
fn running_elsewhere(proc: &Path, tried: &Path) -> String {
    let mut found: Vec<String> = Vec::new();
    let Ok(dir) = std::fs::read_dir(proc) else {
        return String::new();
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let argv: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_dockerd = argv
            .first()
            .is_some_and(|a0| a0.rsplit('/').next() == Some("dockerd"));
        if !is_dockerd {
            continue;
        }
        for host in bulkhead_facts::docker::parse_dockerd_flags(&argv[1..]).all("host") {
            let Some(socket) = host.strip_prefix("unix://") else {
                continue;
            };
            if !socket.is_empty() && Path::new(socket) != tried && is_socket(Path::new(socket)) {
                found.push(format!(
                    "unix://{} (dockerd, pid {pid})",
                    mask_address(socket)
                ));
            }
        }
    }
    found.sort();
    found.dedup();
    match found.as_slice() {
        [] => String::new(),
        [one] => format!(
            ". A dockerd listens on {one}: audit it with --docker-host {}",
            one.split(' ').next().unwrap_or_default()
        ),
        many => format!(
            ". Running dockerd processes listen on {}: name one with --docker-host",
            many.join(", ")
        ),
    }
}

/// Connect to a unix socket, with errors that say what to do.
fn connect_unix(
    target: &Target,
    path: &Path,
) -> Result<std::os::unix::net::UnixStream, CollectError> {
    // The address with where it came from; `shown` names only a context.
    let host = &target.endpoint.host;
    let from = source_text(&target.endpoint.source);
    let elsewhere = match (context_of(&target.endpoint), target.endpoint.source.as_str()) {
        (Some(name), _) => format!(
            "fix the context's address (`docker context update {name} --docker host=ADDRESS`), select another context, or name the daemon with --docker-host or DOCKER_HOST"
        ),
        // The address was named: repeating "name the daemon" would send the user in a circle.
        (None, "flag") => "check the path given to --docker-host".into(),
        (None, "env") => "check the path in DOCKER_HOST".into(),
        (None, _) => "name the daemon with --docker-host or DOCKER_HOST".into(),
    };
    std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        // The path is the address as given (`unix:///path?password=x` names that path): shown
        // masked as the address is.
        CollectError(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "no Docker socket at {} (endpoint {host}, {from}): is dockerd running? Start it, or {elsewhere}{}",
                mask_address(&path.display().to_string()),
                running_elsewhere(Path::new("/proc"), path),
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "permission denied connecting to {} (endpoint {}): run bulkhead as root or as a member of the docker group",
                mask_address(&path.display().to_string()),
                shown(target)
            ),
            std::io::ErrorKind::ConnectionRefused if !is_socket(path) => format!(
                "{} is not a socket (endpoint {host}, {from}): name dockerd's unix socket, such as unix:///var/run/docker.sock",
                mask_address(&path.display().to_string()),
            ),
            std::io::ErrorKind::ConnectionRefused => format!(
                "nothing listens on {} (endpoint {}): the socket file exists but dockerd is not running; start it",
                mask_address(&path.display().to_string()),
                shown(target)
            ),
            _ => format!(
                "cannot connect to {} (endpoint {}): {e}",
                mask_address(&path.display().to_string()),
                shown(target)
            ),
        })
    })
}

/// An address or socket path as shown: passwords and tokens in it masked, also when it is
/// written without a scheme (`user:password@host:port`, a path with a `?password=` query),
/// which the masker reads as the URL it would be with one.
fn mask_address(address: &str) -> String {
    if address.contains("://") {
        return bulkhead_facts::mask::mask_credentials(address);
    }
    let masked = bulkhead_facts::mask::mask_credentials(&format!("tcp://{address}"));
    match masked.strip_prefix("tcp://") {
        Some(rest) => rest.to_string(),
        None => bulkhead_facts::mask::MASK.to_string(),
    }
}

fn is_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

/// What dockerd says in the headers of its answer to `GET /_ping`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ping {
    /// `API-Version`: the newest API version the daemon serves.
    pub api_version: Option<String>,
    /// `Server`: `Docker/20.10.24+dfsg1 (linux)`.
    pub server: Option<String>,
    /// `Docker-Experimental`.
    pub experimental: Option<bool>,
    /// `OSType`.
    pub os_type: Option<String>,
}

impl Ping {
    /// From the header lines of the answer (after the status line, up to the blank line).
    fn from_headers<'a>(lines: impl Iterator<Item = &'a str>) -> Ping {
        let mut ping = Ping::default();
        for (name, value) in lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
        {
            let value = value.trim().to_string();
            match name.trim().to_ascii_lowercase().as_str() {
                "api-version" => ping.api_version = Some(value),
                "server" => ping.server = Some(value),
                "docker-experimental" => ping.experimental = value.parse().ok(),
                "ostype" => ping.os_type = Some(value),
                _ => {}
            }
        }
        ping
    }

    /// The engine's version from the `Server` header (`Docker/20.10.24+dfsg1 (linux)`).
    pub fn engine_version(&self) -> Option<&str> {
        let rest = self.server.as_deref()?.strip_prefix("Docker/")?;
        let version = rest.split_whitespace().next()?;
        (!version.is_empty()).then_some(version)
    }
}

/// `GET /_ping` on a unix socket: the cheapest way to learn the daemon's API version (`/version`
/// makes dockerd run `runc --version` and `docker-init --version` and query containerd), and
/// with the other headers what [`crate::api`] needs to leave `/version` out.
fn ping_unix(target: &Target, path: &Path) -> Result<Ping, CollectError> {
    ping_unix_within(
        target,
        path,
        std::time::Duration::from_secs(PING_TIMEOUT_SECS),
    )
}

/// How long `/_ping` may take: dockerd answers it at once, without touching containers, so a
/// socket that stays silent this long belongs to a daemon that is stuck (or to something else).
/// Shorter than [`TIMEOUT_SECS`], which leaves room for slow requests on a busy daemon.
const PING_TIMEOUT_SECS: u64 = 20;

fn ping_unix_within(
    target: &Target,
    path: &Path,
    timeout: std::time::Duration,
) -> Result<Ping, CollectError> {
    use std::io::{ErrorKind, Read, Write};
    let mut stream = connect_unix(target, path)?;
    let fail = |e: std::io::Error| {
        // A read timeout surfaces as EAGAIN ("Resource temporarily unavailable"), which says
        // nothing about what happened.
        let why = if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
            format!(
                "nothing came back within {} s; the socket accepts connections but no one answers on it (a dockerd that is stuck or still starting, or a socket that is not Docker's)",
                timeout.as_secs_f64()
            )
        } else {
            e.to_string()
        };
        CollectError(format!(
            "the Docker API at {} did not answer /_ping: {why}",
            shown(target)
        ))
    };
    stream.set_read_timeout(Some(timeout)).map_err(fail)?;
    stream
        .write_all(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        .map_err(fail)?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buf).map_err(fail)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.lines();
    let status_ok = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .is_some_and(|code| code == "200");
    if !status_ok {
        return Err(CollectError(format!(
            "the Docker API at {} answered /_ping with {:?}: is this a Docker socket?",
            shown(target),
            text.lines().next().unwrap_or("nothing")
        )));
    }
    Ok(Ping::from_headers(lines))
}

/// Check what can be checked before speaking HTTP, for errors that say what to do.
fn precheck(target: &Target) -> Result<(), CollectError> {
    match &target.transport {
        Transport::Unix(path) => connect_unix(target, path).map(|_| ()),
        Transport::Tcp { tls: Some(t), .. } => precheck_tls(target, t),
        _ => Ok(()),
    }
}

/// The TLS files, before connecting: a client certificate without its key (or the reverse) is
/// refused, and every file that is to be used but cannot be read is named.
fn precheck_tls(target: &Target, t: &TlsFiles) -> Result<(), CollectError> {
    // The address; what turned TLS on names the context it came from, if any.
    let host = &target.endpoint.host;
    let context = context_of(&target.endpoint);
    let dir = t.dir.display();
    let lone = match (&t.cert, &t.key) {
        (Some(_), None) => Some(("cert.pem", "key.pem")),
        (None, Some(_)) => Some(("key.pem", "cert.pem")),
        _ => None,
    };
    if let Some((has, lacks)) = lone {
        let (what, fix) = match context {
            Some(name) => (
                format!("docker context \"{name}\" (endpoint {host}) keeps {has} without {lacks} in {dir}"),
                format!(
                    "give the context both, {}, or remove {} to connect without a client certificate",
                    context_update(name, host),
                    t.dir.join(has).display()
                ),
            ),
            None => (
                format!(
                    "TLS is on for {host} ({}), and {dir} (from {}) holds {has} without {lacks}",
                    t.enabled_by, t.source
                ),
                format!(
                    "put the {lacks} that belongs to {} beside it, set DOCKER_CERT_PATH to the directory holding both, or remove {} to connect without a client certificate",
                    t.dir.join(has).display(),
                    t.dir.join(has).display()
                ),
            ),
        };
        return Err(CollectError(format!(
            "{what}: {} is missing. A client certificate needs both files; the docker CLI would quietly connect without one, bulkhead stops instead. To fix it, {fix}",
            t.dir.join(lacks).display()
        )));
    }
    // Every file to be used that cannot be read, so that one run shows all that is wrong.
    let ca = match &t.server {
        ServerCheck::Ca(ca) => Some(ca),
        _ => None,
    };
    let unreadable: Vec<String> = [
        ("CA certificate", ca),
        ("client certificate", t.cert.as_ref()),
        ("client key", t.key.as_ref()),
    ]
    .into_iter()
    .filter_map(|(what, p)| {
        let p = p?;
        let e = std::fs::File::open(p).err()?;
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "missing".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Some(format!("the {what} {} ({why})", p.display()))
    })
    .collect();
    if unreadable.is_empty() {
        return Ok(());
    }
    let fix = match context {
        Some(name) => format!(
            "run bulkhead as the user whose context it is, or give the context files it may read, {}",
            context_update(name, host)
        ),
        None => format!(
            "set DOCKER_CERT_PATH to the directory holding ca.pem, the CA that signed the daemon's certificate (with cert.pem and key.pem when the daemon asks for a client certificate); now {dir}, from {}",
            t.source
        ),
    };
    Err(CollectError(format!(
        "TLS is on for {host} ({}) but {} cannot be read; {fix}",
        t.enabled_by,
        unreadable.join(", "),
    )))
}

fn source_text(source: &str) -> String {
    match source {
        "flag" => "from --docker-host".into(),
        "env" => "from DOCKER_HOST".into(),
        "rootless" => "the rootless socket in XDG_RUNTIME_DIR".into(),
        _ => match source.strip_prefix("context ") {
            Some(name) => format!("from docker context {name}"),
            None => "the default".into(),
        },
    }
}

/// Explain a failed first request: what failed, in the words of whatever refused (the daemon,
/// the TLS library, ssh or the remote command), and the one hint that fits that failure.
fn explain(target: &Target, e: &bollard::errors::Error) -> CollectError {
    let host = shown(target);
    let chain = without_client_wrappers(&error_chain(e));
    // A hint follows after "; ": the daemon's own sentence loses its full stop (and an empty
    // message from the server its dangling colon).
    let chain = chain.trim_end_matches(['.', ':']);
    let hint = match &target.transport {
        Transport::Tcp { address, tls } => tcp_hint(address, tls.as_ref(), target, chain),
        Transport::Ssh(url) => ssh_hint(url, chain),
        Transport::Unix(_) => String::new(),
    };
    // The address shown is masked already; this also catches a credential a lower layer
    // might have repeated.
    CollectError(bulkhead_facts::mask::mask_credentials(&format!(
        "the Docker API at {host} did not answer: {chain}{hint}"
    )))
}

/// The hint for a failed tcp endpoint (`address` as given, `tls` when TLS is on). For a docker
/// context, TLS is fixed in the context (the environment plays no part then).
fn tcp_hint(address: &str, tls: Option<&TlsFiles>, target: &Target, chain: &str) -> String {
    let name = host_part(without_userinfo(address));
    let context = context_of(&target.endpoint);
    // The address masked, for commands suggested to the user.
    let masked = &target.endpoint.host;
    let said = chain.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| said.contains(w));
    if has(&["dns error", "failed to lookup address"]) {
        return format!(
            "; the host name {name} does not resolve: check the name in the endpoint (DNS or /etc/hosts)"
        );
    }
    if has(&["connection refused"]) {
        return "; is dockerd listening there (`hosts` in daemon.json or -H tcp://...)?".into();
    }
    // bollard says "Docker responded" of any HTTP server; dockerd serves `/version` at any
    // API version, so a 404 for it comes from something else.
    if has(&["status code 404"]) {
        return format!(
            "; what answers at {} is not the Docker Engine API (it has no /version): check the address and port",
            without_userinfo(address)
        );
    }
    let Some(t) = tls else {
        if let Some(ctx) = context.filter(|_| has(&["http request to an https server"])) {
            return format!(
                "; the daemon there requires TLS: give docker context {ctx} its CA and a client certificate it trusts, {}",
                context_update(ctx, masked)
            );
        }
        if has(&["http request to an https server"]) {
            return "; the daemon there requires TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory holding the client certificate it trusts (ca.pem, cert.pem, key.pem)".into();
        }
        if let Some(ctx) = context.filter(|_| has(&["connection closed", "reset"])) {
            return format!(
                "; if the daemon requires TLS, give docker context {ctx} its TLS files, {}",
                context_update(ctx, masked)
            );
        }
        if has(&["connection closed", "reset"]) {
            return "; if the daemon requires TLS, set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH"
                .into();
        }
        return "; is dockerd listening there (`hosts` in daemon.json or -H tcp://...)?".into();
    };
    // rustls's words for each failure (bulkhead cannot name rustls's error types: they reach it
    // only as text through bollard and hyper).
    if has(&["invalidcontenttype", "corrupt message"]) {
        let without_tls = match context {
            // `docker context update` with a bare address drops the context's TLS files.
            Some(ctx) => format!(
                "drop the TLS files of docker context {ctx} (`docker context update {ctx} --docker host={masked}`)"
            ),
            None => "name it without TLS (tcp://, DOCKER_TLS_VERIFY and DOCKER_TLS unset)".into(),
        };
        format!(
            "; the daemon at {} does not speak TLS (it answered in plain HTTP): {without_tls}, or turn TLS on in the daemon (tlsverify, tlscacert, tlscert, tlskey)",
            without_userinfo(address)
        )
    } else if has(&["not valid for name"]) {
        format!(
            "; the daemon's certificate does not hold the name {name}: connect with a name or address it holds, or give the daemon a certificate with {name} in its subjectAltName"
        )
    } else if has(&[
        "unknownissuer",
        "unknown issuer",
        "badsignature",
        "bad signature",
    ]) {
        // BadSignature: a CA of the same name as the issuer, but another key.
        let fix = match context {
            Some(ctx) => format!(
                "give docker context {ctx} the CA that signed the daemon's certificate, {}",
                context_update(ctx, masked)
            ),
            None => "set DOCKER_CERT_PATH to the directory whose ca.pem is the CA that signed the daemon's certificate".into(),
        };
        match &t.server {
            ServerCheck::Ca(ca) => format!(
                "; the daemon's certificate was not issued by the CA in {}: {fix}",
                ca.display()
            ),
            _ => format!(
                "; the daemon's certificate was not issued by a CA this system trusts (there is no ca.pem in {}, so it was checked against the system's trusted CAs): {fix}",
                t.dir.display()
            ),
        }
    } else if has(&[
        "badcertificate",
        "bad certificate",
        "unknownca",
        "unknown ca",
        "certificaterequired",
        "certificate required",
    ]) {
        match (&t.cert, context) {
            (Some(cert), _) => format!(
                "; the daemon refused the client certificate {}: it accepts only client certificates issued by its own CA (tlscacert); use a client certificate and key that CA issued",
                cert.display()
            ),
            (None, Some(ctx)) => format!(
                "; the daemon requires a client certificate and docker context {ctx} has none (no cert.pem and key.pem in {}): give it a client certificate and key issued by the daemon's CA (tlscacert), {}",
                t.dir.display(),
                context_update(ctx, masked)
            ),
            (None, None) => format!(
                "; the daemon requires a client certificate and none was sent (no cert.pem and key.pem in {}, from {}): put a client certificate and key issued by the daemon's CA (tlscacert) there as cert.pem and key.pem",
                t.dir.display(),
                t.source
            ),
        }
    } else if has(&["expired"]) {
        format!(
            "; a certificate has expired: renew it (the daemon's, or the client's in {})",
            match context {
                Some(ctx) => format!("docker context {ctx}"),
                None => "DOCKER_CERT_PATH".into(),
            }
        )
    } else {
        let server = match &t.server {
            ServerCheck::Ca(ca) => {
                format!("the daemon's certificate is signed by {}", ca.display())
            }
            ServerCheck::SystemRoots => {
                "the daemon's certificate is signed by a CA this system trusts".into()
            }
            ServerCheck::Skipped(_) => "the daemon speaks TLS there".into(),
        };
        match (&t.cert, &t.key) {
            (Some(cert), Some(key)) => format!(
                "; check that {server} and that {} / {} are the client pair it trusts",
                cert.display(),
                key.display()
            ),
            _ => format!("; check that {server}, and whether it asks for a client certificate (none was sent)"),
        }
    }
}

/// The hint for a failed `ssh://` endpoint: ssh's own failure (see [`crate::ssh`]), or the
/// remote `docker system dial-stdio`'s.
fn ssh_hint(url: &str, chain: &str) -> String {
    let rest = url.strip_prefix("ssh://").unwrap_or(url);
    let (user, address) = match rest.rsplit_once('@') {
        Some((u, a)) => (Some(u), a),
        None => (None, rest),
    };
    let address = address.trim_end_matches('/');
    let host = host_part(address);
    let port = match address.rsplit_once(':') {
        Some((_, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => p,
        _ => "22",
    };
    let user = user.map_or("your user".to_string(), |u| u.to_string());
    let said = chain.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| said.contains(w));
    if said.contains(crate::ssh::REMOTE_COMMAND) {
        return if has(&["not found"]) && !has(&["dial unix"]) {
            format!(
                "; install the docker CLI on {host} (the remote end of an ssh endpoint runs `docker system dial-stdio` there), or put it on the PATH of a non-interactive ssh session of {user}"
            )
        } else if has(&["permission denied"]) {
            format!(
                "; {user} may not use the Docker socket on {host}: add {user} to the docker group there (and log in again), or name a user who may"
            )
        } else if has(&[
            "no such file or directory",
            "connection refused",
            "cannot connect to the docker daemon",
            "is the docker daemon running",
        ]) {
            format!("; dockerd is not running on the remote host {host} (or listens elsewhere): start it there")
        } else {
            "; that is what the remote command said on the remote host".into()
        };
    }
    if has(&["host key verification failed"]) {
        let changed = if has(&["identification has changed"]) {
            format!(
                " If {host} was reinstalled, remove the old key with `ssh-keygen -R '[{host}]:{port}'` first."
            )
        } else {
            String::new()
        };
        return format!(
            "; bulkhead checks host keys strictly against ~/.ssh/known_hosts and never adds one: check the key's fingerprint and record it, e.g. by connecting once with `ssh -p {port} {user}@{host}`.{changed}"
        );
    }
    if has(&["permission denied ("]) {
        return format!(
            "; {host} refused the login of {user}: check the user name in the endpoint (ssh://USER@HOST) and that a key {user} may log in with is loaded in ssh-agent (SSH_AUTH_SOCK) or in ~/.ssh (bulkhead cannot answer a password prompt)"
        );
    }
    if has(&["connection refused"]) {
        return format!(
            "; nothing accepts ssh connections on {host} port {port}: check the port in the endpoint and that sshd runs there"
        );
    }
    if has(&["could not resolve hostname"]) {
        return format!(
            "; the host name {host} does not resolve: check the name in the endpoint (DNS, /etc/hosts or ~/.ssh/config)"
        );
    }
    if has(&["timed out", "no route to host", "network is unreachable"]) {
        return format!(
            "; {host} port {port} cannot be reached: check the address, and any firewall between"
        );
    }
    "; check that `ssh` reaches the host without a password prompt (a key in ssh-agent or ~/.ssh), that the host's key is in known_hosts (connect once with ssh), and that the remote user may use the docker socket".into()
}

/// The chain without the HTTP client's own layers ("Error in the hyper legacy client", "client
/// error (Connect)"), which name the library rather than the problem.
fn without_client_wrappers(chain: &str) -> String {
    // hyper's legacy client names the stage that failed as "client error (Connect)",
    // "(SendRequest)", "(Canceled)"...; a TLS alert from the daemon arrives as one or the other
    // depending on timing, with "operation was canceled" and "connection error" around it.
    const WRAPPERS: &[&str] = &[
        "Error in the hyper legacy client",
        "operation was canceled",
        "connection error",
    ];
    // The daemon's messages end in a newline ("Client sent an HTTP request to an HTTPS
    // server.\n"): the message is one line.
    let chain = chain.trim();
    let kept: Vec<&str> = chain
        .split(": ")
        .map(str::trim)
        .filter(|part| !WRAPPERS.contains(part) && !part.starts_with("client error ("))
        .collect();
    if kept.is_empty() {
        chain.to_string()
    } else {
        kept.join(": ")
    }
}

/// An error with its causes, `outer: inner: innermost`. Many errors already print their cause
/// (bollard's "Error in the hyper legacy client: client error (Connect)"), so a cause whose text
/// is already shown is not repeated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut chain = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !chain.contains(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        cause = c.source();
    }
    chain
}

/// Whether a failure means "no Docker here" (skipped under `Want::Auto`) rather than a Docker
/// that is there but cannot be used.
pub fn is_absent(target: &Target) -> bool {
    match &target.transport {
        Transport::Unix(path) => matches!(
            std::os::unix::net::UnixStream::connect(path).map_err(|e| e.kind()),
            Err(std::io::ErrorKind::NotFound) | Err(std::io::ErrorKind::ConnectionRefused)
        ),
        _ => false,
    }
}

/// Whether the user named the endpoint (`--docker-host`, `DOCKER_HOST` or a docker context)
/// rather than bulkhead guessing it (the default or the rootless socket).
pub fn is_named(target: &Target) -> bool {
    matches!(target.endpoint.source.as_str(), "flag" | "env")
        || context_of(&target.endpoint).is_some()
}

/// A client speaking the negotiated API version.
pub struct Connection {
    pub docker: Docker,
    /// `1.41`
    pub api_version: String,
    /// `GET /version`, when negotiating needed it (not over a unix socket).
    pub version: Option<bollard::models::SystemVersion>,
    /// The headers of `GET /_ping`, over a unix socket: with `/info` they stand in for
    /// `/version` (see [`bulkhead_facts::docker::Version`]).
    pub ping: Option<Ping>,
    /// Plain GETs beside bollard, where the transport offers them (the unix socket).
    pub raw_get: Option<crate::unix::RawGet>,
}

/// Connect and negotiate the API version: over a unix socket from `/_ping`'s `API-Version`
/// header, otherwise from `GET /version` asked at the oldest version current daemons serve.
pub async fn connect(target: &Target) -> Result<Connection, CollectError> {
    if let Some(warning) = insecure_warning(target) {
        eprintln!("bulkhead: warning: {warning}");
    }
    let newest = bollard::API_DEFAULT_VERSION;
    let (server, version, ping) = match &target.transport {
        Transport::Unix(path) => {
            let ping = ping_unix(target, path)?;
            match ping.api_version.as_deref().and_then(parse_api_version) {
                // A daemon newer than bulkhead may no longer serve bulkhead's newest version,
                // and only `/version` says which it still serves: asked below, as for tcp (its
                // answer is reused by the collection, so this costs no request).
                Some(v) if newer(&v, newest) => (None, None, None),
                Some(v) => (Some(v), None, Some(ping)),
                None => (None, None, None),
            }
        }
        _ => (None, None, None),
    };
    let (server, version) = match server {
        Some(v) => (v, version),
        None => {
            precheck(target)?;
            let (probe, _) = client(target, None)?;
            let version = probe.version().await.map_err(|e| explain(target, &e))?;
            let server = version
                .api_version
                .as_deref()
                .and_then(parse_api_version)
                .ok_or_else(|| {
                    CollectError(format!(
                        "the Docker API at {} reported no usable API version",
                        shown(target)
                    ))
                })?;
            (server, Some(version))
        }
    };
    let chosen = if newer(newest, &server) {
        server
    } else {
        *newest
    };
    check_api_range(target, &server, version.as_ref(), &chosen)?;
    let (docker, raw_get) = client(target, Some(&chosen))?;
    Ok(Connection {
        docker,
        raw_get,
        api_version: format!("{}.{}", chosen.major_version, chosen.minor_version),
        version,
        ping,
    })
}

/// `path_and_query` under the negotiated API version: `/info` -> `/v1.41/info`; as it is before
/// negotiation (`negotiated` None), so that any daemon answers the probe.
///
/// bollard (0.21) builds each request URI by joining the request's absolute path onto
/// `/v{version}`, and the join drops the version: the daemon would then answer at its own newest
/// API version, whatever was negotiated. Every client [`client`] builds puts it back, through a
/// request modifier ([`naming_version`]), as does the unix socket's [`crate::unix::RawGet`]. A
/// path that already names a version is left as it is.
pub(crate) fn versioned(path_and_query: &str, negotiated: Option<&ClientVersion>) -> String {
    let names_version = path_and_query
        .strip_prefix("/v")
        .and_then(|rest| rest.split(['/', '?']).next())
        .and_then(parse_api_version)
        .is_some();
    match negotiated {
        Some(v) if !names_version => {
            format!("/v{}.{}{path_and_query}", v.major_version, v.minor_version)
        }
        _ => path_and_query.to_string(),
    }
}

/// The oldest API version bulkhead reads (Docker 1.12): the container, image and daemon fields
/// the checks judge are not all there before it.
const OLDEST_API: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 24,
};

fn newer(a: &ClientVersion, b: &ClientVersion) -> bool {
    (a.major_version, a.minor_version) > (b.major_version, b.minor_version)
}

fn show(v: &ClientVersion) -> String {
    format!("{}.{}", v.major_version, v.minor_version)
}

/// A daemon whose API range and bulkhead's do not meet is a tool error naming both, rather than
/// an audit in which every request the daemon refuses becomes an `error` check.
fn check_api_range(
    target: &Target,
    server: &ClientVersion,
    version: Option<&bollard::models::SystemVersion>,
    chosen: &ClientVersion,
) -> Result<(), CollectError> {
    let host = shown(target);
    if newer(&OLDEST_API, server) {
        return Err(CollectError(format!(
            "the Docker daemon at {host} serves API {} at most, older than the oldest bulkhead reads ({}, Docker 1.12): upgrade Docker on that host",
            show(server),
            show(&OLDEST_API)
        )));
    }
    let oldest_served = version
        .and_then(|v| v.min_api_version.as_deref())
        .and_then(parse_api_version);
    if let Some(min) = oldest_served.filter(|min| newer(min, chosen)) {
        return Err(CollectError(format!(
            "the Docker daemon at {host} serves API {} to {}, and bulkhead speaks API {} at most: use a newer bulkhead",
            show(&min),
            show(server),
            show(chosen)
        )));
    }
    Ok(())
}

fn parse_api_version(v: &str) -> Option<ClientVersion> {
    let (a, b) = v.split_once('.')?;
    Some(ClientVersion {
        major_version: a.parse().ok()?,
        minor_version: b.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The `/_ping` headers dockerd 20.10 sends (names in any case), and a Server header that is
    /// not Docker's (Podman's compatible API), which names no engine version.
    #[test]
    fn ping_headers() {
        let answer = "Api-Version: 1.41\r\nCache-Control: no-cache\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\n\r\nOK";
        let ping = Ping::from_headers(answer.split("\r\n"));
        assert_eq!(
            ping,
            Ping {
                api_version: Some("1.41".into()),
                server: Some("Docker/20.10.24+dfsg1 (linux)".into()),
                experimental: Some(false),
                os_type: Some("linux".into()),
            }
        );
        assert_eq!(ping.engine_version(), Some("20.10.24+dfsg1"));
        let other = Ping::from_headers(["SERVER: Libpod/4.3.1 (linux)", ""].into_iter());
        assert_eq!(other.engine_version(), None);
        assert_eq!(other.api_version, None);
    }

    /// An error that prints its cause inside its own text (as bollard's do), or not.
    #[derive(Debug)]
    struct Layer {
        text: &'static str,
        prints_cause: bool,
        cause: Option<Box<Layer>>,
    }

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.text)?;
            match &self.cause {
                Some(c) if self.prints_cause => write!(f, ": {c}"),
                _ => Ok(()),
            }
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.cause.as_deref().map(|c| c as _)
        }
    }

    /// A socket that accepts connections and never answers (a stuck dockerd) used to fail after
    /// a minute with "Resource temporarily unavailable (os error 11)".
    #[test]
    fn a_silent_socket_is_reported_as_silent() {
        let dir = std::env::temp_dir().join(format!("bhc-silent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("docker.sock");
        let _ = std::fs::remove_file(&sock);
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let held = std::thread::spawn(move || listener.accept().map(|(conn, _)| conn));
        let target = resolve_with(Some(&format!("unix://{}", sock.display())), &[], &[]).unwrap();
        let Transport::Unix(path) = &target.transport else {
            panic!("a unix target")
        };
        let e = ping_unix_within(&target, path, std::time::Duration::from_millis(200))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "the Docker API at unix://{} did not answer /_ping: nothing came back within 0.2 s; the socket accepts connections but no one answers on it (a dockerd that is stuck or still starting, or a socket that is not Docker's)",
                sock.display()
            )
        );
        drop(held.join());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn error_chain_names_each_cause_once() {
        let innermost = Layer {
            text: "Connection refused (os error 111)",
            prints_cause: false,
            cause: None,
        };
        let connect = Layer {
            text: "client error (Connect)",
            prints_cause: false,
            cause: Some(Box::new(innermost)),
        };
        let outer = Layer {
            text: "Error in the hyper legacy client",
            prints_cause: true,
            cause: Some(Box::new(connect)),
        };
        assert_eq!(
            error_chain(&outer),
            "Error in the hyper legacy client: client error (Connect): Connection refused (os error 111)"
        );
    }

    #[test]
    fn a_refused_tcp_connection_is_explained_once_with_a_hint() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let target = resolve_with(Some(&format!("tcp://127.0.0.1:{port}")), &[], &[]).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let Err(e) = runtime.block_on(connect(&target)) else {
            panic!("nothing listens on port {port}, yet the connection succeeded");
        };
        let message = e.to_string();
        assert!(
            message.starts_with(&format!(
                "the Docker API at tcp://127.0.0.1:{port} did not answer"
            )),
            "{message}"
        );
        assert!(message.contains("Connection refused"), "{message}");
        assert!(message.contains("is dockerd listening there"), "{message}");
        assert!(
            !message.contains("hyper"),
            "no HTTP library internals: {message}"
        );
        let segments: Vec<&str> = message.split(": ").collect();
        for (i, s) in segments.iter().enumerate() {
            assert!(
                !segments[i + 1..].contains(s),
                "{s:?} is repeated in: {message}"
            );
        }
    }

    #[test]
    fn versioned_paths() {
        let v = ClientVersion {
            major_version: 1,
            minor_version: 41,
        };
        assert_eq!(versioned("/info", Some(&v)), "/v1.41/info");
        assert_eq!(
            versioned("/containers/json?all=true", Some(&v)),
            "/v1.41/containers/json?all=true"
        );
        assert_eq!(versioned("/v1.43/info", Some(&v)), "/v1.43/info");
        assert_eq!(versioned("/volumes", Some(&v)), "/v1.41/volumes");
        assert_eq!(versioned("/version", None), "/version");
    }

    #[test]
    fn versioned_uris_keep_scheme_authority_and_query() {
        let v = ClientVersion {
            major_version: 1,
            minor_version: 41,
        };
        let uri: hyper::Uri = "https://127.0.0.1:2376/containers/json?all=true"
            .parse()
            .unwrap();
        assert_eq!(
            versioned_uri(&uri, &v).to_string(),
            "https://127.0.0.1:2376/v1.41/containers/json?all=true"
        );
    }

    /// The URIs a client's requests reach its transport with, for the requests `send` makes.
    fn uris_sent(
        negotiated: Option<&ClientVersion>,
        send: impl AsyncFnOnce(&Docker),
    ) -> Vec<String> {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = std::sync::Arc::clone(&seen);
        // A transport that records each request and answers none (no daemon in a unit test).
        let transport = move |req: bollard::BollardRequest| {
            record.lock().unwrap().push(req.uri().to_string());
            async {
                Err(bollard::errors::Error::IOError {
                    err: std::io::Error::other("recorded"),
                })
            }
        };
        let docker = Docker::connect_with_custom_transport(
            transport,
            Some("http://10.0.0.7:2376"),
            5,
            bollard::API_DEFAULT_VERSION,
        )
        .unwrap();
        let docker = naming_version(docker, negotiated);
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(send(&docker));
        let seen = seen.lock().unwrap().clone();
        seen
    }

    #[test]
    fn every_request_of_a_client_names_the_negotiated_version() {
        let v = ClientVersion {
            major_version: 1,
            minor_version: 41,
        };
        let sent = uris_sent(Some(&v), async |d| {
            let _ = d.info().await;
            let _ = d.version().await;
            let _ = d
                .list_containers(Some(
                    bollard::query_parameters::ListContainersOptionsBuilder::new()
                        .all(true)
                        .build(),
                ))
                .await;
        });
        assert_eq!(
            sent,
            [
                "http://10.0.0.7:2376/v1.41/info",
                "http://10.0.0.7:2376/v1.41/version",
                "http://10.0.0.7:2376/v1.41/containers/json?all=true&size=false",
            ]
        );
        // The probe that learns the version names none, so that any daemon answers it.
        let probe = uris_sent(None, async |d| {
            let _ = d.version().await;
        });
        assert_eq!(probe, ["http://10.0.0.7:2376/version"]);
    }

    fn resolve_with(
        flag: Option<&str>,
        vars: &[(&str, &str)],
        sockets: &[&str],
    ) -> Result<Target, CollectError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let sockets: Vec<String> = sockets.iter().map(|s| s.to_string()).collect();
        let var = move |k: &str| vars.get(k).cloned();
        let exists = move |p: &str| sockets.iter().any(|s| s == p);
        let own = |h: &str| h == "10.0.0.7" || h == "127.0.0.1" || h == "localhost";
        resolve(
            flag,
            &Environment {
                var: &var,
                socket_exists: &exists,
                is_own_host: &own,
            },
        )
    }

    /// The review's addresses: one without a scheme (refused as no endpoint) and a socket path
    /// with a query (no socket there); neither error shows the password.
    #[test]
    fn addresses_without_a_scheme_and_socket_paths_are_masked_in_errors() {
        let e = resolve_with(Some("u:kp2-bare@127.0.0.1:1"), &[], &[]).unwrap_err();
        assert!(!e.0.contains("kp2-"), "{}", e.0);
        assert!(
            e.0.starts_with("--docker-host u:***@127.0.0.1:1: not a Docker endpoint"),
            "{}",
            e.0
        );
        let t = resolve_with(
            Some("unix:///tmp/bulkhead-no-such.sock?password=kp2-query"),
            &[],
            &[],
        )
        .unwrap();
        let e = precheck(&t).unwrap_err();
        assert!(!e.0.contains("kp2-"), "{}", e.0);
        assert!(
            e.0.starts_with("no Docker socket at /tmp/bulkhead-no-such.sock?password=***"),
            "{}",
            e.0
        );
        assert_eq!(mask_address("/var/run/docker.sock"), "/var/run/docker.sock");
        assert_eq!(mask_address("10.0.0.7:2375"), "10.0.0.7:2375");
    }

    #[test]
    fn precedence_flag_env_rootless_default() {
        let t = resolve_with(
            Some("unix:///tmp/a.sock"),
            &[("DOCKER_HOST", "tcp://10.9.9.9:2375")],
            &[],
        )
        .unwrap();
        assert_eq!(t.endpoint.source, "flag");
        assert_eq!(t.transport, Transport::Unix("/tmp/a.sock".into()));
        let t = resolve_with(None, &[("DOCKER_HOST", "tcp://10.9.9.9:2375")], &[]).unwrap();
        assert_eq!(
            (t.endpoint.source.as_str(), t.endpoint.local),
            ("env", false)
        );
        // PITFALL 22: the user's rootless socket when the default one does not exist.
        let t = resolve_with(
            None,
            &[("XDG_RUNTIME_DIR", "/run/user/1000")],
            &["/run/user/1000/docker.sock"],
        )
        .unwrap();
        assert_eq!(t.endpoint.host, "unix:///run/user/1000/docker.sock");
        assert_eq!(t.endpoint.source, "rootless");
        let t = resolve_with(
            None,
            &[("XDG_RUNTIME_DIR", "/run/user/1000")],
            &["/run/user/1000/docker.sock", "/var/run/docker.sock"],
        )
        .unwrap();
        assert_eq!(
            t.endpoint.source, "default",
            "the system socket wins when both exist"
        );
        assert_eq!(t.endpoint.host, "unix:///var/run/docker.sock");
    }

    #[test]
    fn remote_and_local_tcp_and_ssh() {
        // PITFALL 21: a remote daemon is marked so host-side checks are not mixed in.
        let remote = resolve_with(Some("tcp://10.9.9.9:2376"), &[], &[]).unwrap();
        assert!(!remote.endpoint.local);
        let own = resolve_with(Some("tcp://10.0.0.7:2376"), &[], &[]).unwrap();
        assert!(own.endpoint.local);
        let lo = resolve_with(Some("tcp://127.0.0.1:2375"), &[], &[]).unwrap();
        assert!(lo.endpoint.local && !lo.endpoint.tls);
        let ssh = resolve_with(Some("ssh://me@build-host:2222"), &[], &[]).unwrap();
        assert_eq!(ssh.endpoint.transport, "ssh");
        assert!(!ssh.endpoint.local);
        let ssh_local = resolve_with(Some("ssh://me@localhost"), &[], &[]).unwrap();
        assert!(ssh_local.endpoint.local);
        assert!(resolve_with(Some("ftp://x"), &[], &[]).is_err());
    }

    /// The TLS of a resolved target.
    fn tls_of(t: &Target) -> &TlsFiles {
        match &t.transport {
            Transport::Tcp { tls: Some(f), .. } => f,
            other => panic!("no TLS: {other:?}"),
        }
    }

    /// A fresh scratch directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("bulkhead-endpoint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Files with these names in `dir` (their content plays no part before connecting).
    fn put(dir: &Path, files: &[&str]) {
        std::fs::create_dir_all(dir).unwrap();
        for f in files {
            std::fs::write(dir.join(f), "-----BEGIN CERTIFICATE-----\n").unwrap();
        }
    }

    #[test]
    fn tls_from_environment() {
        let t = resolve_with(
            None,
            &[
                ("DOCKER_HOST", "tcp://10.9.9.9:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", "/certs"),
            ],
            &[],
        )
        .unwrap();
        assert!(t.endpoint.tls);
        match &t.transport {
            Transport::Tcp {
                address,
                tls: Some(f),
            } => {
                assert_eq!(address, "10.9.9.9:2376");
                assert_eq!(f.server, ServerCheck::Ca(PathBuf::from("/certs/ca.pem")));
                assert_eq!(f.dir, PathBuf::from("/certs"));
                // Not there: no client certificate, as with the CLI.
                assert_eq!((&f.cert, &f.key), (&None, &None));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            insecure_warning(&t),
            None,
            "the daemon's certificate is checked"
        );
        // Without DOCKER_CERT_PATH the certificates are in the CLI's configuration directory:
        // DOCKER_CONFIG when set, as the docker CLI reads them, else ~/.docker.
        for (env, dir) in [
            (
                vec![("DOCKER_CONFIG", "/etc/dockercfg"), ("HOME", "/home/u")],
                "/etc/dockercfg",
            ),
            (vec![("HOME", "/home/u")], "/home/u/.docker"),
        ] {
            let mut vars = vec![
                ("DOCKER_HOST", "tcp://10.9.9.9:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
            ];
            vars.extend(env);
            let f = tls_of(&resolve_with(None, &vars, &[]).unwrap()).clone();
            assert_eq!(f.dir, PathBuf::from(dir));
            assert_eq!(f.server, ServerCheck::Ca(PathBuf::from(dir).join("ca.pem")));
        }
        // DOCKER_TLS_VERIFY needs the CA; the message names it and where it was looked for.
        let e = precheck(
            &resolve_with(
                None,
                &[
                    ("DOCKER_HOST", "tcp://10.9.9.9:2376"),
                    ("DOCKER_TLS_VERIFY", "1"),
                    ("DOCKER_CERT_PATH", "/nonexistent-certs"),
                ],
                &[],
            )
            .unwrap(),
        )
        .unwrap_err();
        assert!(e.0.contains("/nonexistent-certs/ca.pem (missing)"), "{e}");
        assert!(e.0.contains("DOCKER_CERT_PATH"), "{e}");
        assert!(
            !e.0.contains("cert.pem ("),
            "the client pair is optional: {e}"
        );
    }

    /// As the docker CLI: DOCKER_TLS alone turns TLS on without checking the daemon's
    /// certificate, and the client certificate in DOCKER_CERT_PATH is still sent; no CA is
    /// needed then. The target says so, and the warning names the variable that turns checking
    /// on.
    #[test]
    fn docker_tls_alone_connects_without_checking_the_daemon() {
        let certs = scratch("docker-tls");
        put(&certs, &["cert.pem", "key.pem"]);
        let path = certs.display().to_string();
        let t = resolve_with(
            None,
            &[
                ("DOCKER_HOST", "tcp://10.9.9.9:2376"),
                ("DOCKER_TLS", "1"),
                ("DOCKER_CERT_PATH", &path),
            ],
            &[],
        )
        .unwrap();
        assert!(t.endpoint.tls);
        // The snapshot records it, so every report can say so.
        assert_eq!(t.endpoint.tls_verified, Some(false));
        let f = tls_of(&t);
        assert!(!f.verifies_server());
        assert_eq!(
            f.server,
            ServerCheck::Skipped("DOCKER_TLS is set without DOCKER_TLS_VERIFY".into())
        );
        assert_eq!(f.cert, Some(certs.join("cert.pem")));
        assert_eq!(f.key, Some(certs.join("key.pem")));
        assert_eq!(f.enabled_by, "DOCKER_TLS");
        precheck(&t).expect("no ca.pem is needed when nothing is checked against it");
        let w = insecure_warning(&t).expect("a warning");
        assert!(w.contains("tcp://10.9.9.9:2376"), "{w}");
        assert!(w.contains("not verified"), "{w}");
        assert!(
            w.contains("DOCKER_TLS is set without DOCKER_TLS_VERIFY"),
            "{w}"
        );
        assert!(w.contains("set DOCKER_TLS_VERIFY=1"), "{w}");
        assert!(w.contains(&format!("ca.pem in {path}")), "{w}");
        assert!(!w.contains('\n'), "one line: {w:?}");

        // DOCKER_TLS_VERIFY wins (whatever its value, as with the CLI), and https:// alone
        // checks the certificate; https:// with DOCKER_TLS alone does not.
        for (vars, checked) in [
            (vec![("DOCKER_TLS", "1"), ("DOCKER_TLS_VERIFY", "0")], true),
            (vec![], true),
            (vec![("DOCKER_TLS", "1")], false),
        ] {
            let mut vars = vars;
            vars.push(("DOCKER_CERT_PATH", &path));
            let t = resolve_with(Some("https://10.9.9.9:2376"), &vars, &[]).unwrap();
            assert_eq!(tls_of(&t).verifies_server(), checked, "{vars:?}");
            assert_eq!(t.endpoint.tls_verified, Some(checked), "{vars:?}");
            assert_eq!(insecure_warning(&t).is_some(), !checked, "{vars:?}");
        }
        // Without any TLS variable: plain tcp, nothing to warn about.
        let plain = resolve_with(Some("tcp://10.9.9.9:2375"), &[], &[]).unwrap();
        assert!(!plain.endpoint.tls);
        assert_eq!(plain.endpoint.tls_verified, None);
        assert_eq!(insecure_warning(&plain), None);
        std::fs::remove_dir_all(&certs).unwrap();
    }

    /// A client certificate without its key (or the reverse) in DOCKER_CERT_PATH stops the run
    /// before connecting, naming the directory and the missing file.
    #[test]
    fn half_a_client_pair_in_the_cert_path_is_refused() {
        for (has, lacks) in [("cert.pem", "key.pem"), ("key.pem", "cert.pem")] {
            let certs = scratch(&format!("half-{has}"));
            put(&certs, &["ca.pem", has]);
            let path = certs.display().to_string();
            for tls_var in ["DOCKER_TLS_VERIFY", "DOCKER_TLS"] {
                let t = resolve_with(
                    None,
                    &[
                        ("DOCKER_HOST", "tcp://10.9.9.9:2376"),
                        (tls_var, "1"),
                        ("DOCKER_CERT_PATH", &path),
                    ],
                    &[],
                )
                .unwrap();
                let e = precheck(&t).unwrap_err().0;
                assert!(
                    e.contains(&format!("{} is missing", certs.join(lacks).display())),
                    "{e}"
                );
                assert!(e.contains(&format!("holds {has} without {lacks}")), "{e}");
                assert!(e.contains("DOCKER_CERT_PATH"), "{e}");
                assert!(e.contains("tcp://10.9.9.9:2376"), "{e}");
                assert!(e.contains("docker CLI"), "says how bulkhead differs: {e}");
            }
            std::fs::remove_dir_all(&certs).unwrap();
        }
    }

    /// A docker CLI configuration directory holding context `name` with a docker endpoint at
    /// `host` and these TLS files.
    fn context_config(dir: &Path, name: &str, host: &str, skip: bool, files: &[&str]) -> PathBuf {
        let key = store_key(name);
        let meta = dir.join("contexts/meta").join(&key);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            serde_json::json!({
                "Name": name,
                "Metadata": {},
                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip}},
            })
            .to_string(),
        )
        .unwrap();
        let tls = dir.join("contexts/tls").join(&key).join("docker");
        if !files.is_empty() {
            put(&tls, files);
        }
        tls
    }

    /// Contexts with part of the TLS files, as the docker CLI takes them: a CA alone checks the
    /// daemon and sends no client certificate; a client pair alone is checked against the
    /// system's roots; SkipTLSVerify checks nothing (and turns TLS on by itself).
    #[test]
    fn contexts_with_part_of_the_tls_files() {
        let config = scratch("ctx-partial");
        let dir = config.display().to_string();
        let resolve_context = |name: &str| {
            resolve_with(
                None,
                &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", name)],
                &[],
            )
        };
        let tls = context_config(
            &config,
            "ca-only",
            "tcp://10.9.9.9:2376",
            false,
            &["ca.pem"],
        );
        let t = resolve_context("ca-only").unwrap();
        let f = tls_of(&t);
        assert_eq!(f.server, ServerCheck::Ca(tls.join("ca.pem")));
        assert_eq!((&f.cert, &f.key), (&None, &None));
        assert_eq!(f.enabled_by, "the TLS files of docker context ca-only");
        precheck(&t).unwrap();

        let tls = context_config(
            &config,
            "pair-only",
            "tcp://10.9.9.9:2376",
            false,
            &["cert.pem", "key.pem"],
        );
        let t = resolve_context("pair-only").unwrap();
        let f = tls_of(&t);
        assert_eq!(f.server, ServerCheck::SystemRoots);
        assert_eq!(f.cert, Some(tls.join("cert.pem")));
        assert_eq!(f.key, Some(tls.join("key.pem")));
        assert_eq!(insecure_warning(&t), None);
        precheck(&t).unwrap();

        // SkipTLSVerify: nothing is checked, a CA the context keeps included; the client pair
        // is still sent.
        context_config(
            &config,
            "skip",
            "tcp://10.9.9.9:2376",
            true,
            &["ca.pem", "cert.pem", "key.pem"],
        );
        let t = resolve_context("skip").unwrap();
        let f = tls_of(&t);
        assert!(!f.verifies_server());
        assert!(f.cert.is_some() && f.key.is_some());
        let w = insecure_warning(&t).expect("a warning");
        assert!(w.contains("SkipTLSVerify"), "{w}");
        assert!(w.contains("(from docker context skip)"), "{w}");
        assert!(
            w.contains(&config.join("contexts/meta").display().to_string()),
            "{w}"
        );
        assert!(w.contains("docker context update skip"), "{w}");
        assert!(!w.contains('\n'), "{w:?}");

        // SkipTLSVerify without TLS files turns TLS on, as with the CLI.
        context_config(&config, "skip-bare", "tcp://10.9.9.9:2376", true, &[]);
        let t = resolve_context("skip-bare").unwrap();
        assert!(t.endpoint.tls);
        let f = tls_of(&t);
        assert!(!f.verifies_server());
        assert_eq!((&f.cert, &f.key), (&None, &None));
        assert_eq!(f.enabled_by, "SkipTLSVerify in docker context skip-bare");

        // Neither files nor SkipTLSVerify: plain tcp.
        context_config(&config, "plain", "tcp://10.9.9.9:2375", false, &[]);
        assert!(!resolve_context("plain").unwrap().endpoint.tls);
        std::fs::remove_dir_all(&config).unwrap();
    }

    /// A context keeping a client certificate without its key (or the reverse) is refused
    /// before connecting: the message names the context, its TLS directory and the missing
    /// file, and says what to do.
    #[test]
    fn a_context_with_half_a_client_pair_is_refused() {
        let config = scratch("ctx-half");
        let dir = config.display().to_string();
        for (name, has, lacks) in [
            ("lone-cert", "cert.pem", "key.pem"),
            ("lone-key", "key.pem", "cert.pem"),
        ] {
            let tls = context_config(
                &config,
                name,
                "tcp://10.9.9.9:2376",
                false,
                &["ca.pem", has],
            );
            let t = resolve_with(
                None,
                &[("DOCKER_CONFIG", &dir), ("DOCKER_CONTEXT", name)],
                &[],
            )
            .unwrap();
            let e = precheck(&t).unwrap_err().0;
            assert!(e.contains(&format!("docker context \"{name}\"")), "{e}");
            assert!(e.contains(&tls.display().to_string()), "{e}");
            assert!(
                e.contains(&format!("{} is missing", tls.join(lacks).display())),
                "{e}"
            );
            assert!(e.contains(&format!("docker context update {name}")), "{e}");
            assert!(
                e.contains(&format!("remove {}", tls.join(has).display())),
                "{e}"
            );
        }
        std::fs::remove_dir_all(&config).unwrap();
    }

    /// Credentials in a tcp address do not hide that the address is this machine (the masked
    /// address is what is recorded).
    #[test]
    fn credentials_in_the_address_do_not_hide_a_local_daemon() {
        for (given, shown) in [
            (
                "tcp://admin:s3cret@127.0.0.1:2376",
                "tcp://admin:***@127.0.0.1:2376",
            ),
            (
                "tcp://admin:p@ss@10.0.0.7:2376",
                "tcp://admin:***@10.0.0.7:2376",
            ),
            (
                "https://admin:s3cret@localhost:2376/",
                "https://admin:***@localhost:2376/",
            ),
        ] {
            let t = resolve_with(Some(given), &[], &[]).unwrap();
            assert!(t.endpoint.local, "{given}");
            assert_eq!(t.endpoint.host, shown);
        }
        let remote = resolve_with(Some("tcp://admin:s3cret@10.9.9.9:2376"), &[], &[]).unwrap();
        assert!(!remote.endpoint.local);
    }

    /// A regular file given as the socket is named as not a socket, not as a daemon that is down.
    #[test]
    fn a_file_that_is_not_a_socket_is_named_as_such() {
        let file =
            std::env::temp_dir().join(format!("bulkhead-not-a-socket-{}", std::process::id()));
        std::fs::write(&file, "{}").unwrap();
        let t = resolve_with(Some(&format!("unix://{}", file.display())), &[], &[]).unwrap();
        let e = precheck(&t).unwrap_err();
        std::fs::remove_file(&file).unwrap();
        assert!(e.0.contains("is not a socket"), "{e}");
        assert!(!e.0.contains("dockerd is not running"), "{e}");
    }

    #[test]
    fn missing_socket_error_says_what_to_do() {
        let t = resolve_with(Some("unix:///nonexistent/docker.sock"), &[], &[]).unwrap();
        let e = precheck(&t).unwrap_err();
        assert!(e.0.contains("/nonexistent/docker.sock"), "{e}");
        assert!(e.0.contains("is dockerd running"), "{e}");
        // Named with --docker-host: the advice is to check that path, not to name a daemon.
        assert!(e.0.contains("check the path given to --docker-host"), "{e}");
        assert!(!e.0.contains("name the daemon with"), "{e}");
        assert!(is_absent(&t));
    }

    /// A missing socket's error names the sockets running dockerd processes listen on (read
    /// from their command lines under a /proc), skipping addresses that are no socket.
    #[test]
    fn a_missing_socket_names_where_running_daemons_listen() {
        let dir = std::env::temp_dir().join(format!("bulkhead-elsewhere-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let proc = dir.join("proc");
        let socket = dir.join("d.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let process = |pid: u32, argv: &[&str]| {
            std::fs::create_dir_all(proc.join(pid.to_string())).unwrap();
            let mut raw = argv.join("\0");
            raw.push('\0');
            std::fs::write(proc.join(pid.to_string()).join("cmdline"), raw).unwrap();
        };
        let tried = Path::new("/var/run/docker.sock");
        assert_eq!(running_elsewhere(&proc, tried), "");
        let listen = format!("--host=unix://{}", socket.display());
        process(
            41,
            &[
                "/usr/bin/dockerd",
                &listen,
                "-H",
                "unix:///nonexistent/x.sock",
            ],
        );
        process(42, &["sleep", "-H", "unix:///tmp"]);
        assert_eq!(
            running_elsewhere(&proc, tried),
            format!(
                ". A dockerd listens on unix://{0} (dockerd, pid 41): audit it with --docker-host unix://{0}",
                socket.display()
            )
        );
        // The socket tried is not offered again.
        assert_eq!(running_elsewhere(&proc, &socket), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The directory names the docker CLI gives a context (checked against `docker context
    /// create prod` of Docker 28.2: `contexts/meta/6754af96.../meta.json`).
    #[test]
    fn context_store_keys_are_the_clis() {
        assert_eq!(
            store_key("prod"),
            "6754af9632a2745e85c293e5aac0863370d9bd3330b9938c00cadfd215227d77"
        );
    }

    #[test]
    fn host_parts() {
        assert_eq!(host_part("10.0.0.1:2376"), "10.0.0.1");
        assert_eq!(host_part("[::1]:2376"), "::1");
        assert_eq!(host_part("build-host"), "build-host");
        assert!(is_own_host("127.0.0.1"));
        assert!(is_own_host("::1"));
        assert!(!is_own_host("192.0.2.55"));
    }
}
