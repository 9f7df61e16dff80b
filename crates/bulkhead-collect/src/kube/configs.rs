//! Configuration files of the components, read where the running configuration points: the
//! kubelet's `--config` (YAML or JSON, at any path) and its `--config-dir` drop-ins (`*.conf`,
//! sorted, later wins), etcd's `--config-file` and its service's environment file, kube-proxy's
//! and kube-scheduler's `--config` (each replaces the flags it covers), and the
//! EncryptionConfiguration, AuthenticationConfiguration and
//! AuthorizationConfiguration named by the API server (of the last two, only the anonymous
//! section and the authorizers' types are kept). A file only the
//! component can see (a ConfigMap mounted into its container) is read through
//! `/proc/<pid>/root`. Secret values are masked before anything is stored; encryption keys are
//! never kept at all. The kubelet's files are read as its own decoder reads them
//! ([`kubelet_decode`]): one it would refuse to start with is recorded as unavailable, with the
//! line and the reason, never as values. etcd's `--config-file` likewise ([`decode_etcd_config`]):
//! a file that is missing, unreadable, not YAML, or one etcd would refuse is unavailable with the
//! reason, and since etcd then ignores its flags and environment, every etcd setting is unknown.

use super::{k3s, Inputs};
use crate::hostfs::HostFs;
use bulkhead_facts::host::{parse_env_file, HostFacts};
use bulkhead_facts::kube::{
    mask_document, mask_env, AuthenticationConfig, AuthorizationConfig, Component, ConfigFile,
    EncryptionConfig, KubeFacts, KubeletConfig, APISERVER, ETCD, KUBELET, PROXY, SCHEDULER,
};
use bulkhead_facts::Fact;
use bulkhead_sources::kubelet_decode::{self, Mistyped, Role};
use bulkhead_sources::yaml::{self, BoolDialect, Node, NodeKind, Schema, Style};
use serde_json::Value;
use std::path::Path;

/// Environment files a distribution's etcd service reads (Debian, then RHEL).
pub const ETCD_ENV_FILES: &[&str] = &["/etc/default/etcd", "/etc/etcd/etcd.conf"];

/// Parse the first document of a YAML or JSON text into JSON values (YAML 1.1 typing, as the
/// Kubernetes components decode their files).
pub fn parse_document(text: &str) -> Result<Value, String> {
    let docs = bulkhead_sources::yaml::parse(text).map_err(|e| e.to_string())?;
    let doc = docs
        .into_iter()
        .next()
        .ok_or_else(|| "the file holds no document".to_string())?;
    Ok(doc.root.to_json(bulkhead_sources::yaml::Schema::Yaml11))
}

/// Read a file the component names: under the audited root, else inside the component's own
/// mount namespace. Returns the text and a description of where it was read.
pub fn read_for(
    fs: &HostFs,
    proc: &Path,
    pid: Option<u32>,
    path: &str,
) -> Result<(String, Option<String>), String> {
    match fs.read_to_string(path) {
        Ok(t) => Ok((t, None)),
        Err(e) => {
            if let Some(pid) = pid {
                let inside = proc
                    .join(pid.to_string())
                    .join("root")
                    .join(path.trim_start_matches('/'));
                let inside_text = bulkhead_sources::file::read_regular_text(
                    &inside,
                    bulkhead_sources::file::MAX_CONFIG_BYTES,
                );
                if let Ok(t) = inside_text {
                    return Ok((
                        t,
                        Some(format!(
                            "inside the process's mount namespace ({})",
                            inside.display()
                        )),
                    ));
                }
            }
            Err(format!("cannot read {}: {e}", fs.describe(path)))
        }
    }
}

/// The JSON type etcd decodes a field of its configuration file as.
#[derive(Debug, Clone, Copy)]
enum EtcdKind {
    /// A Go string: any scalar is taken (sigs.k8s.io/yaml turns `true` or `5` into text for a
    /// string field); a list or a mapping is refused.
    Str,
    /// A Go bool: an unquoted YAML 1.1 boolean (`true`, `no`, `on`, ...); a quoted one, a number
    /// or any other text is refused.
    Bool,
    /// A structure with these fields (others are not judged).
    Section(&'static [(&'static str, EtcdKind)]),
}

/// `client-transport-security` and `peer-transport-security` (etcd's securityConfig).
const ETCD_SECURITY: &[(&str, EtcdKind)] = &[
    ("cert-file", EtcdKind::Str),
    ("key-file", EtcdKind::Str),
    ("client-cert-auth", EtcdKind::Bool),
    ("trusted-ca-file", EtcdKind::Str),
    ("auto-tls", EtcdKind::Bool),
];

/// The fields of etcd's configuration file that bulkhead reads (the checks' settings and the
/// data directory), typed as etcd's configYAML declares them.
const ETCD_FIELDS: &[(&str, EtcdKind)] = &[
    ("name", EtcdKind::Str),
    ("data-dir", EtcdKind::Str),
    ("listen-client-urls", EtcdKind::Str),
    ("listen-peer-urls", EtcdKind::Str),
    (
        "client-transport-security",
        EtcdKind::Section(ETCD_SECURITY),
    ),
    ("peer-transport-security", EtcdKind::Section(ETCD_SECURITY)),
];

/// What a node holds, for a refusal: `the string "true"`, `the number 1`, `a list`.
fn etcd_shown(n: &Node) -> String {
    match &n.kind {
        NodeKind::Seq(_) => "a list".into(),
        NodeKind::Map(_) => "a mapping".into(),
        NodeKind::Scalar(s) => match n.to_json(Schema::Yaml11) {
            Value::Number(x) => format!("the number {x}"),
            Value::Bool(b) => format!("the boolean {b}"),
            _ if s.style == Style::Plain => format!("the text {:?}", s.value),
            _ => format!("the string {:?}", s.value),
        },
    }
}

/// Values of `map` whose type etcd refuses, in file order: (line, column, reason).
fn etcd_mistyped(
    map: &Node,
    fields: &[(&str, EtcdKind)],
    prefix: &str,
    out: &mut Vec<(u32, u32, String)>,
) {
    for (name, kind) in fields {
        let Some(v) = map.get(name) else { continue };
        if v.is_null() {
            // JSON null leaves etcd's default in place.
            continue;
        }
        let key = format!("{prefix}{name}");
        let refused = match kind {
            EtcdKind::Str => (!matches!(v.kind, NodeKind::Scalar(_))).then(|| {
                "etcd decodes it as a string (one value; lists are written comma-separated)"
                    .to_string()
            }),
            EtcdKind::Bool => v
                .as_bool(BoolDialect::Kubernetes)
                .is_none()
                .then(|| "etcd decodes it as a boolean (true or false, unquoted)".to_string()),
            EtcdKind::Section(inner) => {
                if v.is_map() {
                    etcd_mistyped(v, inner, &format!("{key}."), out);
                    None
                } else {
                    Some("etcd decodes it as a mapping of settings".to_string())
                }
            }
        };
        if let Some(why) = refused {
            out.push((
                v.span.start.line,
                v.span.start.column,
                format!(
                    "{key} is {}, but {why} and does not start with this file",
                    etcd_shown(v)
                ),
            ));
        }
    }
}

/// etcd's configuration file read as etcd reads it: sigs.k8s.io/yaml (go-yaml v2, so YAML 1.1
/// scalars) decoded into etcd's typed configuration. Only the first document counts; an empty
/// file, or one holding only comments, sets nothing (etcd's defaults). A file etcd would refuse
/// to start with is an error with the line and the reason: a document that is not a mapping, or
/// a value of the wrong type among the fields bulkhead reads (a quoted `"true"` for
/// `client-cert-auth`, a list for `listen-client-urls`). Fields bulkhead does not read are not
/// judged.
pub fn decode_etcd_config(text: &str) -> Result<Value, String> {
    let docs = yaml::parse(text).map_err(|e| e.to_string())?;
    let Some(doc) = docs.into_iter().next() else {
        return Ok(Value::Object(Default::default()));
    };
    let root = &doc.root;
    if root.is_null() {
        return Ok(Value::Object(Default::default()));
    }
    if !root.is_map() {
        return Err(format!(
            "line {}, column {}: the file holds {}, not a mapping of settings, and etcd does not start with it",
            root.span.start.line,
            root.span.start.column,
            etcd_shown(root)
        ));
    }
    let mut mistyped = Vec::new();
    etcd_mistyped(root, ETCD_FIELDS, "", &mut mistyped);
    mistyped.sort();
    if let Some((line, column, why)) = mistyped.first() {
        let more = match mistyped.len() - 1 {
            0 => String::new(),
            n => format!(
                " (and {n} more such value{})",
                if n == 1 { "" } else { "s" }
            ),
        };
        return Err(format!("line {line}, column {column}: {why}{more}"));
    }
    Ok(root.to_json(Schema::Yaml11))
}

/// A component configuration file (kube-proxy's KubeProxyConfiguration, kube-scheduler's
/// KubeSchedulerConfiguration) read as its component decodes it: a document of another kind, or
/// of none, stops the component, so such a file is an error with the reason, never values.
fn decode_component_config(text: &str, kind: &str, component: &str) -> Result<Value, String> {
    let v = parse_document(text)?;
    match v.get("kind").and_then(Value::as_str) {
        Some(k) if k == kind => Ok(v),
        Some(k) => Err(format!(
            "its kind is {k:?}, not {kind}, and {component} does not start with it"
        )),
        None => Err(format!(
            "it has no kind (expected {kind}), and {component} does not start with it"
        )),
    }
}

/// A configuration file that `c` names, read where `c` sees it and decoded by `parse` (the
/// component's own reading of the text).
fn config_file_as(
    fs: &HostFs,
    proc: &Path,
    c: &Component,
    path: &str,
    source: &str,
    parse: impl FnOnce(&str) -> Result<Value, String>,
) -> ConfigFile {
    let mut inside = false;
    let content = read_for(fs, proc, Some(c.process.pid), path)
        .map_err(|e| {
            if fs.exists(path) {
                e
            } else {
                // The component refuses to start without a configuration file it names, so a
                // running one read a file bulkhead does not see.
                let under = if fs.root() == Path::new("/") {
                    String::new()
                } else {
                    format!(" ({})", fs.root().display())
                };
                format!(
                    "{path}: not found under the audited root{under}, yet {source} names it and \
                     {} does not start without it (is the host's root mounted at --root?)",
                    c.name
                )
            }
        })
        .and_then(|(text, where_read)| {
            inside = where_read.is_some();
            let mut v = parse(&text).map_err(|e| format!("{path}: {e}"))?;
            mask_document(&mut v);
            Ok(v)
        });
    ConfigFile {
        path: path.to_string(),
        source: source.to_string(),
        content: content.into(),
        modified_at: modified_where_read(fs, proc, c, path, inside),
    }
}

/// The modification time (RFC 3339) of the file that was read for `c`: the host's, or, when it
/// was read `inside` the component's own mount namespace, that one.
fn modified_where_read(
    fs: &HostFs,
    proc: &Path,
    c: &Component,
    path: &str,
    inside: bool,
) -> Option<String> {
    let modified = if inside {
        let in_namespace = proc
            .join(c.process.pid.to_string())
            .join("root")
            .join(path.trim_start_matches('/'));
        crate::hostfs::modified_at(&in_namespace)
    } else {
        fs.modified(path)
    };
    modified.map(bulkhead_facts::time::rfc3339_utc)
}

/// The kubelet's drop-ins in the order it merges them: it walks `--config-dir` depth first with
/// each directory's entries sorted by name, and loads every non-directory whose name ends in
/// `.conf` (symbolic links to directories are not descended into). It does not start when any
/// directory of the walk cannot be listed, a missing `--config-dir` included; the error says so.
fn drop_in_files(fs: &HostFs, dir: &str) -> Result<Vec<String>, String> {
    let names = fs.read_dir(dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "the kubelet's drop-in directory (--config-dir) {} is not found under the \
                 audited root, and the kubelet does not start without it (is the host's root \
                 mounted at --root?)",
                fs.describe(dir)
            )
        } else {
            format!(
                "cannot list the kubelet's drop-in directory (--config-dir) {}: {e}",
                fs.describe(dir)
            )
        }
    })?;
    let real_dir = fs
        .resolve(dir)
        .map_err(|e| format!("{}: {e}", fs.describe(dir)))?;
    let base = dir.trim_end_matches('/');
    let mut out = Vec::new();
    for name in names {
        let child = format!("{base}/{name}");
        let is_dir = std::fs::symlink_metadata(real_dir.join(&name)).is_ok_and(|m| m.is_dir());
        if is_dir {
            out.extend(drop_in_files(fs, &child)?);
        } else if name.ends_with(".conf") {
            out.push(child);
        }
    }
    Ok(out)
}

/// A kubelet configuration file read as the kubelet decodes it (see [`kubelet_decode`]): a file
/// the kubelet refuses outright is unavailable with the reason and line; the values of the wrong
/// type are returned beside it, because whether they stop the kubelet depends on the other files.
fn kubelet_file(
    fs: &HostFs,
    proc: &Path,
    c: &Component,
    path: &str,
    source: &str,
    role: Role,
) -> (ConfigFile, Vec<Mistyped>) {
    let mut mistyped = Vec::new();
    let file = config_file_as(fs, proc, c, path, source, |text| {
        let d = kubelet_decode::decode(text, role)?;
        mistyped = d.mistyped;
        Ok(d.value)
    });
    (file, mistyped)
}

/// Make a file the kubelet refuses unavailable, naming the first value it cannot decode (and how
/// many more there are), so every setting the file could set is unknown rather than read.
fn refuse(file: &mut ConfigFile, mistyped: &[&Mistyped]) {
    if let Some(why) = kubelet_decode::refusal(mistyped) {
        file.content = Fact::Unavailable(format!("{}: {why}", file.path));
    }
}

/// The kubelet merges its drop-ins as JSON (a JSON merge patch: mappings key by key, anything
/// else replaced whole) and decodes the merged document: a drop-in's mistyped value stops it only
/// if no later drop-in replaces it. A later null, which deletes the key, is not counted, since the
/// earlier value is then the one bulkhead would read.
fn weigh_drop_ins(read: Vec<(ConfigFile, Vec<Mistyped>)>) -> Vec<ConfigFile> {
    let later_sets = |after: usize, path: &[String]| {
        read[after + 1..].iter().any(|(f, _)| {
            f.content
                .value()
                .is_some_and(|doc| kubelet_decode::replaces(doc, path))
        })
    };
    let verdicts: Vec<Vec<&Mistyped>> = read
        .iter()
        .enumerate()
        .map(|(i, (_, mistyped))| {
            mistyped
                .iter()
                .filter(|m| !later_sets(i, &m.path))
                .collect()
        })
        .collect();
    read.iter()
        .zip(verdicts)
        .map(|((file, _), left)| {
            let mut file = file.clone();
            refuse(&mut file, &left);
            file
        })
        .collect()
}

/// Read every configuration file the running components name.
pub fn read_all(k: &mut KubeFacts, _host: &mut HostFacts, input: &Inputs<'_>) {
    let fs = input.fs;
    if let Some(c) = k.components.get_mut(ETCD) {
        // etcd reads only its own environment: a variable of the service's file is in force only
        // if the running etcd has it, with that value (the file may have been edited since etcd
        // started, or may belong to a service that is not the one running etcd, such as a
        // distribution's unit beside kubeadm's static pod). When the environment can be read,
        // the file's other variables are dropped, so that they never stand in for a setting;
        // when it cannot, the file is all there is.
        let environ = std::fs::read(input.proc.join(c.process.pid.to_string()).join("environ"))
            .ok()
            .map(|raw| {
                raw.split(|b| *b == 0)
                    .filter_map(|kv| {
                        let kv = String::from_utf8_lossy(kv);
                        kv.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                    })
                    .collect::<std::collections::BTreeMap<String, String>>()
            });
        for path in ETCD_ENV_FILES {
            if let Ok(text) = fs.read_to_string(path) {
                let (vars, pending): (Vec<_>, Vec<_>) = parse_env_file(&text)
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("ETCD_"))
                    .partition(|(k, v)| environ.as_ref().is_none_or(|env| env.get(k) == Some(v)));
                c.env_files
                    .insert(path.to_string(), mask_env(vars.into_iter().collect()));
                if !pending.is_empty() {
                    c.pending_env
                        .insert(path.to_string(), mask_env(pending.into_iter().collect()));
                }
            }
        }
        // etcd reads ETCD_CONFIG_FILE only when --config-file is empty or not given, and reads
        // its flags and environment only when neither names a file.
        let cfg_path = match c.flags.last("config-file").filter(|p| !p.is_empty()) {
            Some(p) => Some((p, "etcd --config-file")),
            None => c
                .env
                .get("ETCD_CONFIG_FILE")
                .filter(|p| !p.is_empty())
                .map(|p| (p.clone(), "etcd ETCD_CONFIG_FILE")),
        };
        if let Some((p, source)) = cfg_path {
            let cf = config_file_as(fs, input.proc, c, &p, source, decode_etcd_config);
            c.config = Some(cf);
        }
    }
    if let Some(c) = k.components.get(KUBELET) {
        let mut cfg = KubeletConfig::default();
        // The kubelet treats an empty --config or --config-dir as not given.
        if let Some(p) = c.flags.last("config").filter(|p| !p.is_empty()) {
            let (mut file, mistyped) =
                kubelet_file(fs, input.proc, c, &p, "kubelet --config", Role::Config);
            // The --config file is decoded on its own: any value of the wrong type stops the
            // kubelet, whatever the drop-ins or flags say.
            refuse(&mut file, &mistyped.iter().collect::<Vec<_>>());
            cfg.file = Some(file);
        }
        // A kubelet inside k3s (1.29 and later) is started with `--config-dir` naming k3s's own
        // drop-in directory; a `--kubelet-arg config-dir=...` comes after it and wins. The flags
        // k3s passes it win over the drop-ins, as on any kubelet.
        // The directory is under k3s's data directory (unknown with it: no drop-in is read).
        let k3s_dir = k
            .paths
            .get(super::paths::K3S_DATA_DIR)
            .map(|d| k3s::join(&d.path, k3s::KUBELET_CONFIG_DIR));
        let config_dir = match c.flags.last("config-dir") {
            Some(d) => Some((d, "kubelet --config-dir".to_string())),
            None if c.source.starts_with("inside k3s ") => k3s_dir
                .filter(|d| fs.exists(d))
                .map(|d| {
                    let source = match k.paths.get(super::paths::K3S_DATA_DIR) {
                        Some(dd) if dd.configured => format!(
                            "kubelet --config-dir (given by k3s, under its data directory {} from {})",
                            dd.path, dd.source
                        ),
                        _ => "kubelet --config-dir (given by k3s)".to_string(),
                    };
                    (d, source)
                }),
            None => None,
        };
        if let Some((dir, source)) = config_dir.filter(|(d, _)| !d.is_empty()) {
            match drop_in_files(fs, &dir) {
                Ok(paths) => {
                    let read: Vec<(ConfigFile, Vec<Mistyped>)> = paths
                        .iter()
                        .map(|p| kubelet_file(fs, input.proc, c, p, &source, Role::DropIn))
                        .collect();
                    cfg.drop_ins = weigh_drop_ins(read);
                }
                Err(e) => cfg.drop_in_dir_error = Some(e),
            }
            cfg.drop_in_dir = Some(dir);
        }
        k.kubelet = Some(cfg);
    }
    // kube-proxy and kube-scheduler treat an empty --config as not given.
    if let Some(c) = k.components.get(PROXY) {
        if let Some(p) = c.flags.last("config").filter(|p| !p.is_empty()) {
            k.proxy_config = Some(config_file_as(
                fs,
                input.proc,
                c,
                &p,
                "kube-proxy --config",
                |t| decode_component_config(t, "KubeProxyConfiguration", PROXY),
            ));
        }
    }
    if let Some(c) = k.components.get_mut(SCHEDULER) {
        if let Some(p) = c.flags.last("config").filter(|p| !p.is_empty()) {
            let file = config_file_as(fs, input.proc, c, &p, "kube-scheduler --config", |t| {
                decode_component_config(t, "KubeSchedulerConfiguration", SCHEDULER)
            });
            c.config = Some(file);
        }
    }
    if let Some(c) = k.components.get(APISERVER) {
        let proc = input.proc;
        if let Some(p) = c.flags.last("encryption-provider-config") {
            let read = read_decoded(fs, proc, c, &p, EncryptionConfig::from_value);
            k.encryption = Some(
                read.map(|(mut cfg, inside)| {
                    cfg.modified_at = modified_where_read(fs, proc, c, &p, inside);
                    cfg
                })
                .into(),
            );
        }
        if let Some(p) = c.flags.last("authentication-config") {
            let read = read_decoded(fs, proc, c, &p, AuthenticationConfig::from_value);
            k.authentication = Some(read.map(|(cfg, _)| cfg).into());
        }
        if let Some(p) = c.flags.last("authorization-config") {
            let read = read_decoded(fs, proc, c, &p, AuthorizationConfig::from_value);
            k.authorization = Some(read.map(|(cfg, _)| cfg).into());
        }
    }
}

/// The file at `path` that `c` names, read (through its own mount namespace when the host has no
/// such file) and decoded by `decode`; with whether it was read inside that namespace.
fn read_decoded<T>(
    fs: &HostFs,
    proc: &Path,
    c: &Component,
    path: &str,
    decode: impl FnOnce(&str, &Value) -> Result<T, String>,
) -> Result<(T, bool), String> {
    let (text, where_read) = read_for(fs, proc, Some(c.process.pid), path)?;
    let v = parse_document(&text).map_err(|e| format!("{path}: {e}"))?;
    Ok((decode(path, &v)?, where_read.is_some()))
}

/// The version in a static pod manifest's image tag (`registry.k8s.io/kube-apiserver:v1.30.2`).
pub fn manifest_image_version(text: &str) -> Option<String> {
    let v = parse_document(text).ok()?;
    let image = v.pointer("/spec/containers/0/image")?.as_str()?;
    let tag = image.rsplit_once(':')?.1;
    tag.starts_with('v').then(|| tag.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A drop-in as `kubelet_file` reads it, without a file system.
    fn drop_in(name: &str, body: &str) -> (ConfigFile, Vec<Mistyped>) {
        let path = format!("/etc/kubernetes/kubelet.conf.d/{name}");
        let text = format!(
            "apiVersion: {}\nkind: {}\n{body}",
            kubelet_decode::API_VERSION,
            kubelet_decode::KIND
        );
        let (content, mistyped) = match kubelet_decode::decode(&text, Role::DropIn) {
            Ok(d) => (Fact::Value(d.value), d.mistyped),
            Err(e) => (Fact::Unavailable(format!("{path}: {e}")), vec![]),
        };
        let file = ConfigFile {
            path,
            source: "kubelet --config-dir".into(),
            content,
            modified_at: None,
        };
        (file, mistyped)
    }

    /// etcd's configuration file is read as etcd decodes it: YAML 1.1 booleans, scalars taken
    /// as text for string fields, nothing but defaults from an empty file; a file etcd refuses
    /// (not a mapping, a value of the wrong type among the fields bulkhead reads, not YAML) is
    /// an error with the line.
    #[test]
    fn etcd_config_files_are_decoded_as_etcd_decodes_them() {
        let v = decode_etcd_config(
            "# etcd\nname: n1\nlisten-client-urls: https://127.0.0.1:2379\nclient-transport-security:\n  client-cert-auth: yes\n  cert-file: /pki/etcd.crt\n  auto-tls: null\npeer-transport-security:\nunknown-field: [1, 2]\n",
        )
        .unwrap();
        assert_eq!(v["client-transport-security"]["client-cert-auth"], true);
        assert_eq!(v["listen-client-urls"], "https://127.0.0.1:2379");
        assert_eq!(decode_etcd_config("").unwrap(), serde_json::json!({}));
        assert_eq!(
            decode_etcd_config("# nothing set\n").unwrap(),
            serde_json::json!({})
        );
        // A string field takes any scalar.
        assert!(decode_etcd_config("name: 5\ndata-dir: true\n").is_ok());
        let err = |text: &str| decode_etcd_config(text).unwrap_err();
        assert_eq!(
            err("name: n1\nclient-transport-security:\n  client-cert-auth: \"true\"\n"),
            "line 3, column 21: client-transport-security.client-cert-auth is the string \"true\", but etcd decodes it as a boolean (true or false, unquoted) and does not start with this file"
        );
        assert_eq!(
            err("peer-transport-security: {auto-tls: 1}\nlisten-peer-urls: [https://a:2380, https://b:2380]\n"),
            "line 1, column 37: peer-transport-security.auto-tls is the number 1, but etcd decodes it as a boolean (true or false, unquoted) and does not start with this file (and 1 more such value)"
        );
        assert_eq!(
            err("client-transport-security: enabled\n"),
            "line 1, column 28: client-transport-security is the text \"enabled\", but etcd decodes it as a mapping of settings and does not start with this file"
        );
        assert_eq!(
            err("- name: n1\n"),
            "line 1, column 1: the file holds a list, not a mapping of settings, and etcd does not start with it"
        );
        let e = err("name: n1\nclient-transport-security: {cert-file: /x\n");
        assert!(e.starts_with("line ") && e.contains("invalid YAML"), "{e}");
    }

    fn reasons(files: &[ConfigFile]) -> Vec<Option<String>> {
        files
            .iter()
            .map(|f| f.content.as_result().err().map(|e| e.to_string()))
            .collect()
    }

    /// The kubelet decodes the merged drop-ins: a mistyped value is refused unless a later drop-in
    /// sets the same key (to anything but null); the others of a refused file are counted.
    #[test]
    fn a_mistyped_drop_in_value_counts_unless_a_later_drop_in_sets_it() {
        let files = weigh_drop_ins(vec![
            drop_in(
                "10-a.conf",
                "readOnlyPort: \"0\"\nseccompDefault: \"true\"\n",
            ),
            drop_in("20-b.conf", "readOnlyPort: 0\n"),
        ]);
        let r = reasons(&files);
        assert_eq!(
            r[0].as_deref(),
            Some("/etc/kubernetes/kubelet.conf.d/10-a.conf: line 4, column 17: seccompDefault is the string \"true\", but the kubelet decodes it as a boolean (true or false, unquoted) and does not start with this file")
        );
        assert_eq!(r[1], None);
        let files = weigh_drop_ins(vec![
            drop_in("10-a.conf", "readOnlyPort: \"0\"\n"),
            drop_in("20-b.conf", "readOnlyPort: 0\n"),
        ]);
        assert_eq!(reasons(&files), [None, None]);
        // A list is replaced whole: a later clusterDNS replaces the mistyped entry of the earlier.
        let files = weigh_drop_ins(vec![
            drop_in("10-a.conf", "clusterDNS: [10.96.0.10, 7]\n"),
            drop_in("20-b.conf", "clusterDNS: [10.96.0.10]\n"),
        ]);
        assert_eq!(reasons(&files), [None, None]);
        // Gates merge key by key: another gate does not replace a mistyped one.
        let files = weigh_drop_ins(vec![
            drop_in("10-a.conf", "featureGates: {A: \"true\"}\n"),
            drop_in("20-b.conf", "featureGates: {B: true}\n"),
        ]);
        assert!(reasons(&files)[0]
            .as_deref()
            .unwrap()
            .contains("featureGates.A is the string"));
        // Null removes a key in a JSON merge, but bulkhead keeps reading the earlier value then:
        // not counted as setting it.
        let files = weigh_drop_ins(vec![
            drop_in("10-a.conf", "readOnlyPort: \"0\"\nmaxPods: x\n"),
            drop_in("20-b.conf", "readOnlyPort: null\n"),
        ]);
        let r = reasons(&files);
        assert!(
            r[0].as_deref().unwrap().ends_with(
                "line 3, column 15: readOnlyPort is the string \"0\", but the kubelet decodes it as a whole number (32-bit, unquoted) and does not start with this file (and 1 more such value)"
            ),
            "{r:?}"
        );
    }
}
