//! Configuration files of the components, read where the running configuration points: the
//! kubelet's `--config` (YAML or JSON, at any path) and its `--config-dir` drop-ins (`*.conf`,
//! sorted, later wins), etcd's `--config-file` and its service's environment file, kube-proxy's
//! `--config`, and the EncryptionConfiguration named by the API server. A file only the
//! component can see (a ConfigMap mounted into its container) is read through
//! `/proc/<pid>/root`. Secret values are masked before anything is stored; encryption keys are
//! never kept at all. The kubelet's files are read as its own decoder reads them
//! ([`kubelet_decode`]): one it would refuse to start with is recorded as unavailable, with the
//! line and the reason, never as values.

use super::Inputs;
use crate::hostfs::HostFs;
use bulkhead_facts::host::{parse_env_file, HostFacts};
use bulkhead_facts::kube::{
    mask_document, mask_env, Component, ConfigFile, EncryptionConfig, KubeFacts, KubeletConfig,
    APISERVER, ETCD, KUBELET, PROXY,
};
use bulkhead_facts::Fact;
use bulkhead_sources::kubelet_decode::{self, Mistyped, Role};
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
                if let Ok(t) = std::fs::read_to_string(&inside) {
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

fn config_file(fs: &HostFs, proc: &Path, c: &Component, path: &str, source: &str) -> ConfigFile {
    config_file_as(fs, proc, c, path, source, parse_document)
}

/// [`config_file`] with the component's own reading of the text.
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
    // The modification time of the file that was read: the host's, or the one in the
    // component's own mount namespace.
    let modified = if inside {
        let in_namespace = proc
            .join(c.process.pid.to_string())
            .join("root")
            .join(path.trim_start_matches('/'));
        crate::hostfs::modified_at(&in_namespace)
    } else {
        fs.modified(path)
    };
    ConfigFile {
        path: path.to_string(),
        source: source.to_string(),
        content: content.into(),
        modified_at: modified.map(bulkhead_facts::time::rfc3339_utc),
    }
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
        for path in ETCD_ENV_FILES {
            if let Ok(text) = fs.read_to_string(path) {
                let vars = parse_env_file(&text)
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("ETCD_"))
                    .collect();
                c.env_files.insert(path.to_string(), mask_env(vars));
            }
        }
        let cfg_path = c
            .flags
            .last("config-file")
            .or_else(|| c.env.get("ETCD_CONFIG_FILE").cloned());
        if let Some(p) = cfg_path {
            let cf = config_file(fs, input.proc, c, &p, "etcd --config-file");
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
        if let Some(dir) = c.flags.last("config-dir").filter(|d| !d.is_empty()) {
            match drop_in_files(fs, &dir) {
                Ok(paths) => {
                    let read: Vec<(ConfigFile, Vec<Mistyped>)> = paths
                        .iter()
                        .map(|p| {
                            kubelet_file(fs, input.proc, c, p, "kubelet --config-dir", Role::DropIn)
                        })
                        .collect();
                    cfg.drop_ins = weigh_drop_ins(read);
                }
                Err(e) => cfg.drop_in_dir_error = Some(e),
            }
            cfg.drop_in_dir = Some(dir);
        }
        k.kubelet = Some(cfg);
    }
    if let Some(c) = k.components.get(PROXY) {
        if let Some(p) = c.flags.last("config") {
            k.proxy_config = Some(config_file(fs, input.proc, c, &p, "kube-proxy --config"));
        }
    }
    if let Some(c) = k.components.get(APISERVER) {
        if let Some(p) = c.flags.last("encryption-provider-config") {
            let parsed = read_for(fs, input.proc, Some(c.process.pid), &p).and_then(|(text, _)| {
                let v = parse_document(&text).map_err(|e| format!("{p}: {e}"))?;
                EncryptionConfig::from_value(&p, &v)
            });
            k.encryption = Some(parsed.into());
        }
    }
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
