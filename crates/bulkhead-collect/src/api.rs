//! Everything read from the Docker Engine API, over one client: version and info (over a unix
//! socket the version from `/info` and `/_ping`, see [`VersionFrom`]), one container
//! list plus one inspect per selected container, images (inspect and history), the network list
//! and swarm state. Independent requests run concurrently.
//!
//! bollard's typed answers are turned into the snapshot's own types (which keep Docker's JSON
//! field names) through JSON, and secret values (environment variables, labels, command lines,
//! health checks, image history) are masked on the way. Where the transport offers plain GETs
//! (the unix socket), the container inspects, one per container, are parsed straight from the
//! daemon's JSON instead.

use crate::endpoint::Ping;
use crate::select::{Listed, Selector};
use crate::unix::RawGet;
use bollard::query_parameters::{
    InspectContainerOptions, ListContainersOptionsBuilder, ListImagesOptionsBuilder,
    ListNetworksOptions, ListNodesOptions, ListSecretsOptions,
};
use bollard::Docker;
use bulkhead_facts::docker::{
    Container, ContainerSelection, HistoryItem, Image, ImageFacts, Info, Network, SwarmFacts,
    Version, VersionComponent, VersionSource,
};
use bulkhead_facts::mask::{mask_argv, mask_assignment, mask_text};
use bulkhead_facts::Fact;
use futures_util::stream::{self, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Requests in flight at once for per-object calls (inspects): enough to keep the daemon busy
/// on every core without opening hundreds of connections. Over ssh every connection is an ssh
/// session of its own, so there one at a time.
pub const CONCURRENCY: usize = 8;
pub const SSH_CONCURRENCY: usize = 1;

/// What the API reported.
pub struct ApiFacts {
    pub version: Fact<Version>,
    pub info: Fact<Info>,
    /// Inspect documents of the selected containers, by name.
    pub containers: Fact<Vec<Container>>,
    pub selection: ContainerSelection,
    pub images: Fact<Vec<ImageFacts>>,
    pub networks: Fact<Vec<Network>>,
    pub swarm: Fact<SwarmFacts>,
}

/// bollard's typed value -> the snapshot's type, through JSON text (same field names). Text
/// rather than `serde_json::Value`: building a map per JSON object for every inspect document
/// cost more than writing and reading the bytes.
fn convert<T: DeserializeOwned>(v: impl Serialize, what: &str) -> Result<T, String> {
    let json = serde_json::to_vec(&v).map_err(|e| format!("{what}: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("{what}: unexpected shape: {e}"))
}

fn api_err(what: &str, e: bollard::errors::Error) -> String {
    format!("{what} failed: {e}")
}

/// How the engine's version is learnt.
pub enum VersionFrom {
    /// `GET /version`, already asked when connecting.
    Known(bollard::models::SystemVersion),
    /// `/info` and these `/_ping` headers, without asking `/version` (see [`Version`]).
    InfoAndPing(Ping),
    /// Ask `GET /version`.
    Ask,
}

/// Read everything from the API. `raw_get`, when given, serves the container inspects.
pub async fn collect(
    docker: &Docker,
    raw_get: Option<&RawGet>,
    selector: &Selector,
    version_from: VersionFrom,
    concurrency: usize,
) -> ApiFacts {
    let (version, info, containers, images, networks) = futures_util::join!(
        version(docker, &version_from),
        info(docker),
        containers(docker, raw_get, selector, concurrency),
        images(docker, concurrency),
        networks(docker),
    );
    let version = match version_from {
        VersionFrom::InfoAndPing(ping) => version_from_info(&info, &ping),
        _ => version.expect("asked or known"),
    };
    let swarm = match &info {
        Fact::Value(i) => swarm(docker, i).await,
        Fact::Unavailable(r) => Fact::Unavailable(format!("swarm state unknown: {r}")),
    };
    let (containers, selection) = containers;
    ApiFacts {
        version,
        info,
        containers,
        selection,
        images,
        networks,
        swarm,
    }
}

/// `GET /version` as known or asked; None when it is not to be asked.
async fn version(docker: &Docker, from: &VersionFrom) -> Option<Fact<Version>> {
    match from {
        VersionFrom::Known(v) => Some(convert(v, "GET /version").into()),
        VersionFrom::InfoAndPing(_) => None,
        VersionFrom::Ask => Some(match docker.version().await {
            Ok(v) => convert(v, "GET /version").into(),
            Err(e) => Fact::Unavailable(api_err("GET /version", e)),
        }),
    }
}

/// The engine's version from `/info` and the `/_ping` headers, as `/version` would say it where
/// they say the same: the engine's version, the API version, the kernel, the OS and whether
/// experimental features are on; the components by the commits `/info` reports. Without `/info`
/// the `Server` header still names the engine's version.
fn version_from_info(info: &Fact<Info>, ping: &Ping) -> Fact<Version> {
    let mut v = Version {
        source: VersionSource::InfoAndPing,
        api_version: ping.api_version.clone().unwrap_or_default(),
        os: ping.os_type.clone().unwrap_or_default(),
        experimental: ping.experimental.unwrap_or(false),
        ..Default::default()
    };
    match info {
        Fact::Value(i) => {
            v.version = if i.server_version.is_empty() {
                ping.engine_version().unwrap_or_default().to_string()
            } else {
                i.server_version.clone()
            };
            v.kernel_version = i.kernel_version.clone();
            if !i.os_type.is_empty() {
                v.os = i.os_type.clone();
            }
            v.experimental = ping.experimental.unwrap_or(i.experimental_build);
            v.components = [
                ("containerd", &i.containerd_commit),
                ("runc", &i.runc_commit),
                ("docker-init", &i.init_commit),
            ]
            .into_iter()
            .filter(|(_, c)| !c.id.is_empty())
            .map(|(name, c)| VersionComponent {
                name: name.into(),
                commit: c.id.clone(),
                ..Default::default()
            })
            .collect();
        }
        Fact::Unavailable(reason) => match ping.engine_version() {
            Some(engine) => v.version = engine.to_string(),
            None => {
                return Fact::Unavailable(format!(
                    "the engine's version is read from GET /info, which failed ({reason}), and /_ping named no version"
                ))
            }
        },
    }
    Fact::Value(v)
}

async fn info(docker: &Docker) -> Fact<Info> {
    match docker.info().await {
        Ok(v) => convert(v, "GET /info").into(),
        Err(e) => Fact::Unavailable(api_err("GET /info", e)),
    }
}

async fn containers(
    docker: &Docker,
    raw_get: Option<&RawGet>,
    selector: &Selector,
    concurrency: usize,
) -> (Fact<Vec<Container>>, ContainerSelection) {
    let options = ListContainersOptionsBuilder::new().all(true).build();
    let list = match docker.list_containers(Some(options)).await {
        Ok(l) => l,
        Err(e) => {
            return (
                Fact::Unavailable(api_err("GET /containers/json", e)),
                ContainerSelection::default(),
            )
        }
    };
    let listed: Vec<Listed> = list
        .into_iter()
        .map(|c| Listed {
            id: c.id.unwrap_or_default(),
            name: c
                .names
                .and_then(|n| n.into_iter().next())
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            state: c.state.map(|s| s.to_string()).unwrap_or_default(),
            labels: c.labels.unwrap_or_default().into_iter().collect(),
        })
        .collect();
    let (chosen, mut selection) = selector.select(listed);
    let results: Vec<(Listed, Result<Container, String>)> = stream::iter(chosen)
        .map(|c| async move {
            let what = format!("inspect of container {}", c.name);
            let r = match raw_get {
                Some(get) => inspect_raw(get, &c.id, &what).await,
                None => match docker
                    .inspect_container(&c.id, None::<InspectContainerOptions>)
                    .await
                {
                    Ok(v) => convert::<Container>(v, &what),
                    Err(e) => Err(api_err(&what, e)),
                },
            };
            (c, r)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut out = Vec::new();
    for (listed, r) in results {
        match r {
            Ok(mut c) => {
                mask_container(&mut c);
                out.push(c);
            }
            // Removed between list and inspect: nothing to audit, but say so. Any other failure
            // leaves a selected container unread, which the checks report as an error.
            Err(reason) => selection
                .skipped
                .push(bulkhead_facts::docker::SkippedContainer {
                    unreadable: !reason.contains("status code 404"),
                    id: listed.id,
                    name: listed.name,
                    state: listed.state,
                    reason,
                    by_filter: false,
                }),
        }
    }
    out.sort_by(|a, b| natural_order(&a.name, &b.name));
    (Fact::Value(out), selection)
}

/// Names in the order people number them: `web-2` before `web-10`. Runs of digits compare by
/// value, the rest by character; names equal that way (`web-01`, `web-1`) fall back to plain
/// order, so that the order is total and the same on every run.
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> impl Iterator<Item = (bool, &str)> {
        let mut rest = s;
        std::iter::from_fn(move || {
            let first = rest.chars().next()?;
            let digits = first.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digits)
                .unwrap_or(rest.len());
            let (chunk, tail) = rest.split_at(end);
            rest = tail;
            Some((digits, chunk))
        })
    }
    let by_value = |x: &str, y: &str| {
        let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
        x.len().cmp(&y.len()).then_with(|| x.cmp(y))
    };
    let mut left = chunks(a);
    let mut right = chunks(b);
    loop {
        let order = match (left.next(), right.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some((true, x)), Some((true, y))) => by_value(x, y),
            (Some((_, x)), Some((_, y))) => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
}

/// `GET /containers/{id}/json` parsed straight into [`Container`].
async fn inspect_raw(get: &RawGet, id: &str, what: &str) -> Result<Container, String> {
    let (status, body) = get(format!("/containers/{id}/json"))
        .await
        .map_err(|e| format!("{what} failed: {e}"))?;
    if status != 200 {
        return Err(format!("{what} failed: {}", refusal(status, &body)));
    }
    // The whole answer is checked for UTF-8 at once, then parsed as text: parsed from bytes,
    // each of its thousands of strings would be checked on its own, at a cost several times
    // that of the one pass.
    let text =
        std::str::from_utf8(&body).map_err(|e| format!("{what}: the answer is not UTF-8: {e}"))?;
    serde_json::from_str(text).map_err(|e| format!("{what}: unexpected shape: {e}"))
}

/// A refusal as bollard words it: the status code and the daemon's `message`.
fn refusal(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Refusal {
        message: String,
    }
    let message = serde_json::from_slice::<Refusal>(body)
        .map(|r| r.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_string());
    format!("Docker responded with status code {status}: {message}")
}

fn mask_container(c: &mut Container) {
    c.config.env = c.config.env.iter().map(|a| mask_assignment(a)).collect();
    mask_labels(&mut c.config.labels);
    if let Some(cmd) = &mut c.config.cmd {
        *cmd = mask_argv(cmd);
    }
    if let Some(ep) = &mut c.config.entrypoint {
        *ep = mask_argv(ep);
    }
    mask_health(&mut c.config.healthcheck);
}

/// An image's configuration masked as a container's is: environment, labels, health check.
fn mask_image(image: &mut Image) {
    image.config.env = image
        .config
        .env
        .iter()
        .map(|a| mask_assignment(a))
        .collect();
    if let Some(labels) = &mut image.config.labels {
        mask_labels(labels);
    }
    mask_health(&mut image.config.healthcheck);
}

/// Labels carry configuration too (`api_token=...`), judged like environment variables.
fn mask_labels(labels: &mut std::collections::BTreeMap<String, String>) {
    for (key, value) in labels.iter_mut() {
        let masked = mask_assignment(&format!("{key}={value}"));
        if let Some((_, v)) = masked.split_once('=') {
            if v != value {
                *value = v.to_string();
            }
        }
    }
}

/// A health check is a command line (`["CMD", "curl", ...]`) or a shell script
/// (`["CMD-SHELL", "curl ... || exit 1"]`) after its kind, masked as a command line is.
fn mask_health(health: &mut Option<bulkhead_facts::docker::HealthConfig>) {
    if let Some(test) = health.as_mut().map(|h| &mut h.test) {
        if test.len() > 1 {
            let masked = mask_argv(&test[1..]);
            test.truncate(1);
            test.extend(masked);
        }
    }
}

/// A line of an image's history, masked as text; also the words of a command line that docker
/// writes there as a list of quoted words without commas (`CMD ["sh" "-c" "--token" "x"]`,
/// `HEALTHCHECK &{["CMD" "curl" ...] ...}`), which the text masker does not read as one
/// command line: each such list is masked as the command line it is.
fn mask_history_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    let mut from = 0;
    while let Some(i) = line[from..].find("[\"").map(|i| from + i) {
        from = i + 1;
        let Some((words, end)) = quoted_words(&line[i + 1..]) else {
            continue;
        };
        let masked = mask_argv(&words.iter().map(|(w, _)| w.clone()).collect::<Vec<_>>());
        if masked.iter().zip(&words).all(|(m, (w, _))| m == w) {
            continue;
        }
        out.push_str(&line[at..=i]);
        for (k, (m, (w, raw))) in masked.iter().zip(&words).enumerate() {
            if k > 0 {
                out.push(' ');
            }
            if m == w {
                out.push_str(raw);
            } else {
                out.push_str(&quote(m));
            }
        }
        at = i + 1 + end;
        from = at;
    }
    out.push_str(&line[at..]);
    mask_text(&out)
}

/// The words of a list of double-quoted words separated by one blank and closed by `]` (Go's
/// `%q` of a `[]string`), each as its value and its quoted source, and the length of the
/// source up to the closing `]` (excluded); None when the text does not begin so.
fn quoted_words(text: &str) -> Option<(Vec<(String, &str)>, usize)> {
    let b = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i;
        let mut value = String::new();
        i += 1;
        loop {
            match b.get(i)? {
                b'"' => break,
                b'\\' => {
                    let c = *b.get(i + 1)?;
                    match c {
                        b'n' => value.push('\n'),
                        b't' => value.push('\t'),
                        b'r' => value.push('\r'),
                        b'"' | b'\\' => value.push(c as char),
                        _ => {
                            value.push('\\');
                            value.push(c as char);
                        }
                    }
                    i += 2;
                }
                _ => {
                    let ch = text[i..].chars().next()?;
                    value.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        i += 1;
        words.push((value, &text[start..i]));
        match b.get(i)? {
            b']' => return Some((words, i)),
            b' ' => i += 1,
            _ => return None,
        }
    }
}

/// A word quoted as Go's `%q` quotes the plain ones.
fn quote(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

async fn images(docker: &Docker, concurrency: usize) -> Fact<Vec<ImageFacts>> {
    let options = ListImagesOptionsBuilder::new().all(false).build();
    let list = match docker.list_images(Some(options)).await {
        Ok(l) => l,
        Err(e) => return Fact::Unavailable(api_err("GET /images/json", e)),
    };
    let results: Vec<Result<ImageFacts, String>> = stream::iter(list)
        .map(|summary| async move {
            let id = summary.id.clone();
            let (inspect, history) =
                futures_util::join!(docker.inspect_image(&id), docker.image_history(&id));
            let mut inspect: Image = match inspect {
                Ok(v) => convert(v, &format!("inspect of image {id}"))?,
                Err(e) => return Err(api_err(&format!("inspect of image {id}"), e)),
            };
            mask_image(&mut inspect);
            let history: Fact<Vec<HistoryItem>> = match history {
                Ok(h) => match convert::<Vec<HistoryItem>>(h, &format!("history of image {id}")) {
                    Ok(mut items) => {
                        for item in &mut items {
                            item.created_by = mask_history_line(&item.created_by);
                        }
                        Fact::Value(items)
                    }
                    Err(e) => Fact::Unavailable(e),
                },
                Err(e) => Fact::Unavailable(api_err(&format!("history of image {id}"), e)),
            };
            Ok(ImageFacts { inspect, history })
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    // An image removed between list and inspect is gone; any other failure is reported.
    let mut out = Vec::new();
    for r in results {
        match r {
            Ok(i) => out.push(i),
            Err(e) if e.contains("404") || e.contains("No such image") => {}
            Err(e) => return Fact::Unavailable(e),
        }
    }
    out.sort_by(|a, b| (a.display_name(), &a.inspect.id).cmp(&(b.display_name(), &b.inspect.id)));
    Fact::Value(out)
}

/// The networks, from their list alone. The list gives every field the checks read (name,
/// driver, scope, options); a network's own inspect adds only its attached containers, which
/// no check reads, at the cost of one more request to the daemon per network.
async fn networks(docker: &Docker) -> Fact<Vec<Network>> {
    let list = match docker.list_networks(None::<ListNetworksOptions>).await {
        Ok(l) => l,
        Err(e) => return Fact::Unavailable(api_err("GET /networks", e)),
    };
    let mut out = Vec::with_capacity(list.len());
    for n in list {
        match convert::<Network>(n, "GET /networks") {
            Ok(n) => out.push(n),
            Err(e) => return Fact::Unavailable(e),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Fact::Value(out)
}

/// Swarm facts beyond `/info`, read only on an active manager.
async fn swarm(docker: &Docker, info: &Info) -> Fact<SwarmFacts> {
    let s = &info.swarm;
    let mut facts = SwarmFacts {
        state: s.local_node_state.clone(),
        is_manager: s.control_available,
        managers: s.managers,
        ..Default::default()
    };
    if s.local_node_state != "active" || !s.control_available {
        return Fact::Value(facts);
    }
    let (swarm, nodes, secrets) = futures_util::join!(
        docker.inspect_swarm(),
        docker.list_nodes(None::<ListNodesOptions>),
        docker.list_secrets(None::<ListSecretsOptions>),
    );
    let swarm: serde_json::Value = match swarm.map_err(|e| api_err("GET /swarm", e)) {
        Ok(v) => serde_json::to_value(v).unwrap_or_default(),
        Err(e) => return Fact::Unavailable(e),
    };
    facts.autolock = swarm["Spec"]["EncryptionConfig"]["AutoLockManagers"].as_bool();
    facts.node_cert_expiry_seconds = swarm["Spec"]["CAConfig"]["NodeCertExpiry"]
        .as_i64()
        .map(|ns| ns / 1_000_000_000);
    match nodes {
        Ok(nodes) => {
            let nodes: Vec<serde_json::Value> = nodes
                .into_iter()
                .filter_map(|n| serde_json::to_value(n).ok())
                .collect();
            facts.managers = nodes
                .iter()
                .filter(|n| !n["ManagerStatus"].is_null())
                .count() as u64;
            if let Some(me) = nodes.iter().find(|n| n["ID"] == s.node_id.as_str()) {
                facts.advertise_addr = me["ManagerStatus"]["Addr"].as_str().map(String::from);
                facts.data_path_addr = me["Status"]["Addr"].as_str().map(String::from);
            }
        }
        Err(e) => return Fact::Unavailable(api_err("GET /nodes", e)),
    }
    match secrets {
        Ok(list) => facts.secrets = Some(list.len() as u64),
        Err(e) => return Fact::Unavailable(api_err("GET /secrets", e)),
    }
    Fact::Value(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ping() -> Ping {
        Ping {
            api_version: Some("1.41".into()),
            server: Some("Docker/20.10.24+dfsg1 (linux)".into()),
            experimental: Some(true),
            os_type: Some("linux".into()),
        }
    }

    /// Without `/version`, the engine's version is what `/info` and `/_ping` say, and each
    /// component is named by the commit `/info` reports (an empty commit names none).
    #[test]
    fn the_version_from_info_and_ping() {
        let mut info = Info {
            server_version: "20.10.24+dfsg1".into(),
            kernel_version: "6.1.0-18-amd64".into(),
            os_type: "linux".into(),
            ..Default::default()
        };
        info.containerd_commit.id = "1.6.20~ds1-1+deb12u3".into();
        info.runc_commit.id = "v1.1.12-0-g51d5e94".into();
        let v = version_from_info(&Fact::Value(info), &ping());
        let v = v.value().unwrap();
        assert_eq!(v.source, VersionSource::InfoAndPing);
        assert_eq!(v.version, "20.10.24+dfsg1");
        assert_eq!(v.api_version, "1.41");
        assert_eq!(v.kernel_version, "6.1.0-18-amd64");
        assert_eq!(v.os, "linux");
        assert!(v.experimental, "Docker-Experimental: true");
        let components: Vec<(&str, &str, &str)> = v
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.version.as_str(), c.commit.as_str()))
            .collect();
        assert_eq!(
            components,
            [
                ("containerd", "", "1.6.20~ds1-1+deb12u3"),
                ("runc", "", "v1.1.12-0-g51d5e94")
            ]
        );
    }

    /// When `/info` fails the `Server` header still names the engine; without it the version is
    /// unavailable, with both reasons.
    #[test]
    fn the_version_without_info() {
        let failed = Fact::unavailable("GET /info failed: timed out");
        let v = version_from_info(&failed, &ping());
        assert_eq!(v.value().unwrap().version, "20.10.24+dfsg1");
        assert!(v.value().unwrap().components.is_empty());
        let bare = Ping {
            server: None,
            ..ping()
        };
        let reason = version_from_info(&failed, &bare)
            .as_result()
            .unwrap_err()
            .to_string();
        assert!(reason.contains("GET /info failed: timed out"), "{reason}");
        assert!(reason.contains("/_ping named no version"), "{reason}");
    }

    /// What a container's inspect keeps: secret-named variables and labels masked whole,
    /// credentials inside other values masked in place, everything else as the daemon said.
    #[test]
    fn container_secrets_are_masked_in_env_labels_and_command() {
        let mut c = Container::default();
        c.config.env = vec![
            "DATABASE_URL=postgres://app:hunter2d@db/x".into(),
            "PASS=hunter2f".into(),
            "MODE=production".into(),
        ];
        c.config.labels.insert("api_token".into(), "zzz9".into());
        c.config.labels.insert("tier".into(), "web".into());
        c.config.cmd = Some(vec![
            "curl".into(),
            "-H".into(),
            "Authorization: Bearer hunter2G".into(),
        ]);
        mask_container(&mut c);
        assert_eq!(
            c.config.env,
            [
                "DATABASE_URL=postgres://app:***@db/x",
                "PASS=***",
                "MODE=production"
            ]
        );
        assert_eq!(c.config.labels["api_token"], "***");
        assert_eq!(c.config.labels["tier"], "web");
        let cmd = c.config.cmd.unwrap().join(" ");
        assert!(!cmd.contains("hunter2G"), "{cmd}");
    }

    /// The review's image (build/Dockerfile): its labels, health check and the history line
    /// of its exec-form CMD, as docker writes them; and a container's health check.
    #[test]
    fn image_labels_health_checks_and_history_commands_are_masked() {
        let mut image: Image = serde_json::from_value(serde_json::json!({
            "Config": {
                "Env": ["DB_PASSWORD=zq8-env"],
                "Labels": {"secret_label": "zq8-label", "tier": "web"},
                "Healthcheck": {"Test": ["CMD-SHELL", "wget -q --password=zq8-health http://x || exit 1"]}
            }
        }))
        .unwrap();
        mask_image(&mut image);
        let json = serde_json::to_string(&image).unwrap();
        assert!(!json.contains("zq8-"), "{json}");
        let labels = image.config.labels.as_ref().unwrap();
        assert_eq!(
            (labels["secret_label"].as_str(), labels["tier"].as_str()),
            ("***", "web")
        );
        assert_eq!(
            image.config.healthcheck.unwrap().test,
            ["CMD-SHELL", "wget -q --password=*** http://x || exit 1"]
        );

        let mut c = Container::default();
        c.config.healthcheck = Some(bulkhead_facts::docker::HealthConfig {
            test: vec![
                "CMD".into(),
                "curl".into(),
                "-u".into(),
                "admin:zq8-curl".into(),
                "http://x".into(),
            ],
            ..Default::default()
        });
        mask_container(&mut c);
        let test = &c.config.healthcheck.as_ref().unwrap().test;
        assert_eq!(test[..3], ["CMD", "curl", "-u"]);
        assert!(!test.join(" ").contains("zq8-"), "{test:?}");

        // Docker writes a CMD or ENTRYPOINT in exec form as quoted words without commas.
        assert_eq!(
            mask_history_line(
                r#"/bin/sh -c #(nop)  CMD ["sh" "-c" "sleep 100000" "--" "--token" "zq8-cmd"]"#
            ),
            r#"/bin/sh -c #(nop)  CMD ["sh" "-c" "sleep 100000" "--" "--token" "***"]"#
        );
        assert_eq!(
            mask_history_line(
                r#"HEALTHCHECK &{["CMD" "curl" "-H" "Authorization: Bearer zq8-bearer" "--" "say \"hi\""] "0s" "0s" "0s" "0s" '\x00'}"#
            ),
            r#"HEALTHCHECK &{["CMD" "curl" "-H" "Authorization: Bearer ***" "--" "say \"hi\""] "0s" "0s" "0s" "0s" '\x00'}"#
        );
        // Text as before: no list, or nothing to mask in it.
        assert_eq!(
            mask_history_line("ENV DB_PASSWORD=zq8-x"),
            "ENV DB_PASSWORD=***"
        );
        let plain = r#"CMD ["nginx" "-g" "daemon off;"]"#;
        assert_eq!(mask_history_line(plain), plain);
        assert_eq!(mask_history_line(r#"RUN echo ["x"#), r#"RUN echo ["x"#);
    }

    #[test]
    fn container_names_sort_as_people_number_them() {
        let mut names = vec![
            "web-10", "web-2", "db", "web-1", "web-01", "web-1a", "web-", "a10b2", "a10b10", "a9",
        ];
        names.sort_by(|a, b| natural_order(a, b));
        assert_eq!(
            names,
            [
                "a9", "a10b2", "a10b10", "db", "web-", "web-01", "web-1", "web-1a", "web-2",
                "web-10"
            ]
        );
        // Digits and letters at the same place compare as characters: digits first, as in
        // plain order.
        assert!(natural_order("x1", "xa").is_lt());
        assert!(natural_order("c9", "c10").is_lt());
        assert!(natural_order("c10", "c9").is_gt());
        assert!(natural_order("same", "same").is_eq());
    }

    #[test]
    fn a_refusal_names_the_status_and_the_daemons_message() {
        assert_eq!(
            refusal(404, br#"{"message":"No such container: 0123abc"}"#),
            "Docker responded with status code 404: No such container: 0123abc"
        );
        // Not the daemon's JSON (a proxy in between): the text as it came.
        assert_eq!(
            refusal(502, b"Bad Gateway\n"),
            "Docker responded with status code 502: Bad Gateway"
        );
    }
}
