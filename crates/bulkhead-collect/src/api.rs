//! Everything read from the Docker Engine API, over one client: version and info, one container
//! list plus one inspect per selected container, images (inspect and history), networks (with
//! their containers) and swarm state. Independent requests run concurrently.
//!
//! bollard's typed answers are turned into the snapshot's own types (which keep Docker's JSON
//! field names) through JSON, and secret values (environment variables, command lines, image
//! history) are masked on the way. Where the transport offers plain GETs (the unix socket), the
//! container inspects, one per container, are parsed straight from the daemon's JSON instead.

use crate::select::{Listed, Selector};
use crate::unix::RawGet;
use bollard::query_parameters::{
    InspectContainerOptions, InspectNetworkOptions, ListContainersOptionsBuilder,
    ListImagesOptionsBuilder, ListNetworksOptions, ListNodesOptions, ListSecretsOptions,
};
use bollard::Docker;
use bulkhead_facts::docker::{
    Container, ContainerSelection, HistoryItem, Image, ImageFacts, Info, Network, SwarmFacts,
    Version,
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

/// Read everything from the API. `known_version` is `GET /version` when connecting already
/// asked for it; `raw_get`, when given, serves the container inspects.
pub async fn collect(
    docker: &Docker,
    raw_get: Option<&RawGet>,
    selector: &Selector,
    known_version: Option<bollard::models::SystemVersion>,
    concurrency: usize,
) -> ApiFacts {
    let (version, info, containers, images, networks) = futures_util::join!(
        version(docker, known_version),
        info(docker),
        containers(docker, raw_get, selector, concurrency),
        images(docker, concurrency),
        networks(docker, concurrency),
    );
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

async fn version(docker: &Docker, known: Option<bollard::models::SystemVersion>) -> Fact<Version> {
    if let Some(v) = known {
        return convert(v, "GET /version").into();
    }
    match docker.version().await {
        Ok(v) => convert(v, "GET /version").into(),
        Err(e) => Fact::Unavailable(api_err("GET /version", e)),
    }
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
    serde_json::from_slice(&body).map_err(|e| format!("{what}: unexpected shape: {e}"))
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
    // Labels carry configuration too (`api_token=...`), judged like environment variables.
    for (key, value) in c.config.labels.iter_mut() {
        let masked = mask_assignment(&format!("{key}={value}"));
        if let Some((_, v)) = masked.split_once('=') {
            if v != value {
                *value = v.to_string();
            }
        }
    }
    if let Some(cmd) = &mut c.config.cmd {
        *cmd = mask_argv(cmd);
    }
    if let Some(ep) = &mut c.config.entrypoint {
        *ep = mask_argv(ep);
    }
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
            inspect.config.env = inspect
                .config
                .env
                .iter()
                .map(|a| mask_assignment(a))
                .collect();
            let history: Fact<Vec<HistoryItem>> = match history {
                Ok(h) => match convert::<Vec<HistoryItem>>(h, &format!("history of image {id}")) {
                    Ok(mut items) => {
                        for item in &mut items {
                            item.created_by = mask_text(&item.created_by);
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

async fn networks(docker: &Docker, concurrency: usize) -> Fact<Vec<Network>> {
    let list = match docker.list_networks(None::<ListNetworksOptions>).await {
        Ok(l) => l,
        Err(e) => return Fact::Unavailable(api_err("GET /networks", e)),
    };
    let results: Vec<Result<Network, String>> = stream::iter(list)
        .map(|n| async move {
            let id = n.id.clone().unwrap_or_default();
            match docker
                .inspect_network(&id, None::<InspectNetworkOptions>)
                .await
            {
                Ok(v) => convert::<Network>(v, &format!("inspect of network {id}")),
                Err(e) => Err(api_err(&format!("inspect of network {id}"), e)),
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut out = Vec::new();
    for r in results {
        match r {
            Ok(n) => out.push(n),
            Err(e) if e.contains("404") => {}
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
