//! Rule evaluation: one small function per rule, grouped by artifact, listed in explicit
//! registries (no macros). Rules report hits (rule, span, object, message, optional fix and the
//! spans of any secret values); the engine turns hits into findings.

pub mod compose;
pub mod daemon;
pub mod dockerfile;
pub mod kubernetes;
pub mod shell;

use crate::fixes::{json, yaml, Splice};
use crate::model::{ArtifactKind, Edit, Fix, Safety};
use bulkhead_sources::yaml::Node;
use bulkhead_sources::{LineIndex, Span};
use std::cell::OnceCell;

/// A rule's verdict on one place.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: &'static str,
    pub span: Span,
    pub object: String,
    pub message: String,
    pub fix: Option<Fix>,
    /// Byte ranges holding secret values: masked in every snippet and never printed.
    pub secrets: Vec<Span>,
    /// The statement the finding belongs to when `span` is only part of it (a command inside a
    /// RUN heredoc): a suppression comment on or above the statement covers the finding too.
    pub within: Option<Span>,
}

/// What rules write into. Fixes are made with the editors of [`crate::fixes`] (one
/// implementation of each kind of edit, shared with bulkhead-harden) and recorded as byte edits.
pub struct Out<'t> {
    pub text: &'t str,
    pub lines: &'t LineIndex,
    pub hits: Vec<Hit>,
    /// The file's YAML indentation, learned on the first YAML fix.
    yaml_layout: OnceCell<yaml::Layout>,
    /// The files of a compose project whose merged services the rules judge: spans and fixes
    /// then belong to the file their offset names (see [`crate::compose_project`]).
    project: Option<&'t crate::compose_project::Project>,
}

impl<'t> Out<'t> {
    pub fn new(text: &'t str, lines: &'t LineIndex) -> Self {
        Out {
            text,
            lines,
            hits: Vec::new(),
            yaml_layout: OnceCell::new(),
            project: None,
        }
    }

    /// An `Out` for the merged services of a compose project.
    pub(crate) fn for_project(project: &'t crate::compose_project::Project) -> Self {
        let first = &project.files[0];
        Out {
            project: Some(project),
            ..Out::new(&first.text, &first.lines)
        }
    }

    /// The source text `span` covers, in whichever file of a project it is.
    pub fn span_text(&self, span: Span) -> &str {
        match self.project {
            Some(p) => p.span_text(span),
            None => span.text(self.text),
        }
    }

    /// An edit of compose service `service`, made by `edit` from the text, its indentation, the
    /// service's mapping and its name. In a project it edits the file and service definition
    /// that hold `value` (the service's first definition when `None`, for a setting to add),
    /// and makes none for a value inherited through `extends`.
    pub fn compose_edit(
        &self,
        service: &bulkhead_sources::compose::Service<'_>,
        value: Option<&Node>,
        edit: impl FnOnce(&str, &yaml::Layout, &Node, &str) -> Option<Splice>,
    ) -> Option<Edit> {
        if let Some(p) = self.project {
            return p.service_edit(service.node, value, edit);
        }
        let layout = self.layout();
        edit(self.text, layout, service.node, service.name).map(|s| self.splice(s))
    }

    /// Set `key` of compose service `service` to `value` (see [`Out::compose_edit`]).
    pub fn compose_set(
        &self,
        service: &bulkhead_sources::compose::Service<'_>,
        key: &str,
        value: serde_json::Value,
    ) -> Option<Edit> {
        self.compose_edit(service, service.get(key), |text, layout, node, _| {
            yaml::set_in(text, layout, node, &[], key, &value).ok()
        })
    }

    fn layout(&self) -> &yaml::Layout {
        self.yaml_layout.get_or_init(|| {
            bulkhead_sources::yaml::parse(self.text)
                .map(|docs| yaml::Layout::of(self.text, &docs))
                .unwrap_or(yaml::Layout {
                    unit: 2,
                    indentless: false,
                })
        })
    }

    /// A splice of the text as a finding's edit.
    pub fn splice(&self, s: Splice) -> Edit {
        s.to_edit(self.text, self.lines)
    }

    /// Set `key` (below `path`, mappings created as needed) in the YAML mapping `node` to
    /// `value`, keeping everything else as written (see [`crate::fixes::yaml::set_in`]). `None`
    /// when the YAML cannot take the key there (a flow scalar, a mapping that only merges
    /// another).
    pub fn yaml_set(
        &self,
        node: &Node,
        path: &[&str],
        key: &str,
        value: serde_json::Value,
    ) -> Option<Edit> {
        let layout = self.layout();
        let segs: Vec<yaml::Seg> = path.iter().map(|k| yaml::Seg::Key(k)).collect();
        yaml::set_in(self.text, layout, node, &segs, key, &value)
            .ok()
            .map(|s| self.splice(s))
    }

    /// Set the member at `path` of a JSON document (daemon.json) to `value`, keeping the other
    /// members, their order and the file's indentation (see [`crate::fixes::json::set`]).
    pub fn json_set(&self, path: &[&str], value: serde_json::Value) -> Option<Edit> {
        json::set_splice(self.text, path, &value)
            .ok()
            .map(|s| self.splice(s))
    }

    pub fn hit(
        &mut self,
        rule: &'static str,
        span: Span,
        object: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Hit {
        self.hits.push(Hit {
            rule,
            span,
            object: object.into(),
            message: message.into(),
            fix: None,
            secrets: Vec::new(),
            within: None,
        });
        self.hits.last_mut().expect("just pushed")
    }

    /// An edit replacing `span` with `replacement`.
    pub fn edit(&self, span: Span, replacement: impl Into<String>) -> Edit {
        Edit {
            offset: span.start.offset,
            length: span.end.offset - span.start.offset,
            replacement: replacement.into(),
            line: span.start.line,
            column: span.start.column,
        }
    }

    /// An edit inserting `text` at byte `offset`.
    pub fn insert(&self, offset: usize, text: impl Into<String>) -> Edit {
        let p = self.lines.pos(self.text, offset);
        Edit {
            offset: p.offset,
            length: 0,
            replacement: text.into(),
            line: p.line,
            column: p.column,
        }
    }
}

impl Hit {
    pub fn fix(
        &mut self,
        description: impl Into<String>,
        safety: Safety,
        edits: Vec<Edit>,
    ) -> &mut Self {
        if !edits.is_empty() {
            self.fix = Some(Fix {
                description: description.into(),
                safety,
                edits,
            });
        }
        self
    }

    pub fn secret(&mut self, span: Span) -> &mut Self {
        self.secrets.push(span);
        self
    }

    /// The finding is part of the statement at `statement` (see [`Hit::within`]); recorded only
    /// when the finding's own span is narrower.
    pub fn within(&mut self, statement: Span) -> &mut Self {
        if statement != self.span {
            self.within = Some(statement);
        }
        self
    }
}

/// Registry entries: rule ID -> evaluation function.
pub type DockerfileRule = fn(&dockerfile::Ctx<'_>, &mut Out<'_>);
pub type ComposeRule = fn(&compose::Ctx<'_>, &mut Out<'_>);
pub type KubernetesRule = fn(&kubernetes::Ctx<'_>, &mut Out<'_>);
pub type DaemonRule = fn(&daemon::Ctx<'_>, &mut Out<'_>);

/// Rules about the suppressions of a file rather than its content, evaluated by the engine
/// (which reads the suppressions): a suppression that gives no reason, per artifact kind.
pub const SUPPRESSION_WITHOUT_REASON: &[(ArtifactKind, &str)] = &[
    (
        ArtifactKind::Dockerfile,
        "dockerfile-suppression-without-reason",
    ),
    (ArtifactKind::Compose, "compose-suppression-without-reason"),
    (ArtifactKind::Kubernetes, "k8s-suppression-without-reason"),
];

/// The rule for a suppression without a reason in a file of `kind` (JSON files have none).
pub fn suppression_without_reason(kind: ArtifactKind) -> Option<&'static str> {
    SUPPRESSION_WITHOUT_REASON
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, id)| *id)
}

/// Every rule ID that has an evaluator, for the test that matches code and catalog.
pub fn implemented() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    v.extend(dockerfile::REGISTRY.iter().map(|(id, _)| *id));
    v.extend(compose::REGISTRY.iter().map(|(id, _)| *id));
    v.extend(kubernetes::REGISTRY.iter().map(|(id, _)| *id));
    v.extend(daemon::REGISTRY.iter().map(|(id, _)| *id));
    v.extend(SUPPRESSION_WITHOUT_REASON.iter().map(|(_, id)| *id));
    v
}

// ---- helpers shared by several artifacts ----

/// Words in a name that often look secret but name a non-secret setting.
const NOT_SECRET_NAME_ENDINGS: &[&str] = &[
    "_method",
    "_host",
    "_port",
    "_url",
    "_uri",
    "_endpoint",
    "_issuer",
    "_user",
    "_username",
    "_name",
    "_length",
    "_ttl",
    "_timeout",
    "_expiry",
    "_version",
    "_provider",
    "_header",
    "_realm",
    "_scope",
    "_backend",
    "_policy",
    "_strategy",
];

/// Does `name = value` look like a secret written literally? References (`${X}`, `$X`,
/// `$(cmd)`), empty values, booleans and plain numbers do not count.
pub fn is_literal_secret(name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace('-', "_");
    if !bulkhead_facts::mask::is_secret_name(name)
        || NOT_SECRET_NAME_ENDINGS.iter().any(|e| lower.ends_with(e))
    {
        return false;
    }
    let v = value.trim();
    !(v.is_empty()
        || v.starts_with('$')
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "none"
        )
        || (v.len() < 4 && v.chars().all(|c| c.is_ascii_digit())))
}

/// Credentials found in any text: (start, end, description) of the secret part. Token
/// formats, URL userinfo passwords, curl/wget password options and Authorization header values
/// come from the shared masking ([`bulkhead_facts::mask::credential_spans`], so what a rule
/// reports is what every output masks); private keys are added here.
pub fn secret_patterns(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut out = bulkhead_facts::mask::credential_spans(text);
    let mut from = 0;
    while let Some(i) = text[from..].find("-----BEGIN ") {
        let i = from + i;
        let rest = &text[i..];
        from = i + 11;
        let Some(hdr_end) = rest
            .find("-----\n")
            .or_else(|| rest[11..].find("-----").map(|x| x + 11))
        else {
            continue;
        };
        if !rest[..hdr_end].contains("PRIVATE KEY") {
            continue;
        }
        let end = rest
            .find("-----END")
            .and_then(|e| rest[e..].find("KEY-----").map(|k| e + k + 8))
            .unwrap_or(hdr_end + 5);
        if !out.iter().any(|o| o.0 < i + end && i < o.1) {
            out.push((i, i + end, "a private key"));
        }
        from = i + end;
    }
    out.sort();
    out
}

/// `path` as the kernel resolves it when nothing on the way is a symbolic link: empty and `.`
/// components dropped, `..` taking the one before it away (never above `/`), no trailing `/`.
/// `//etc`, `/etc/`, `/etc/.`, `/./etc` and `/srv/../etc` are all `/etc`. A relative path stays
/// relative (`~/.ssh/.` is `~/.ssh`, `./a/../b` is `b`, `.` stays `.`).
pub fn clean_host_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                // `/..` is `/`; a relative path keeps the `..` it cannot resolve.
                _ if absolute => {}
                _ => parts.push(".."),
            },
            c => parts.push(c),
        }
    }
    match (absolute, parts.is_empty()) {
        (true, _) => format!("/{}", parts.join("/")),
        (false, true) => ".".to_string(),
        (false, false) => parts.join("/"),
    }
}

/// Directories of the host whose mount exposes or endangers it, with what they hold.
const SENSITIVE_DIRS: &[(&str, &str)] = &[
    ("/boot", "the host's kernel and boot loader"),
    ("/dev", "the host's devices"),
    ("/etc", "the host's configuration, accounts and credentials"),
    ("/lib", "the host's libraries"),
    ("/lib64", "the host's libraries"),
    ("/proc", "the host's processes and kernel settings"),
    ("/sys", "the host's kernel and hardware settings"),
    ("/usr", "the host's programs and libraries"),
    ("/bin", "the host's programs"),
    ("/sbin", "the host's programs"),
    ("/var/run", "the host's runtime state and sockets"),
    ("/run", "the host's runtime state and sockets"),
    ("/var/lib/docker", "Docker's images, containers and volumes"),
    (
        "/var/lib/containerd",
        "containerd's images and container file systems",
    ),
    (
        "/var/lib/etcd",
        "etcd's data: every object of the cluster, its Secrets included",
    ),
    (
        "/var/lib/kubelet",
        "the kubelet's credentials and the volumes and secrets of every pod on the node",
    ),
    ("/root", "root's home directory"),
    ("/home", "the users' home directories"),
    (
        "/var/log",
        "the host's logs, which the kubelet and agents read as root",
    ),
];

/// Why a host path is sensitive (see [`sensitive_host_dir`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SensitiveDir {
    /// `/`: the host's whole file system.
    Root,
    /// One of the sensitive directories (`dir`, holding `what`) or a path below it.
    Within {
        dir: &'static str,
        what: &'static str,
    },
    /// A parent of sensitive directories (`/var` holds `/var/run`, `/var/lib/kubelet`, ...):
    /// its mount exposes all of them.
    Contains(Vec<&'static str>),
}

impl SensitiveDir {
    /// What a mount of `path` (as written) exposes, for a finding's message.
    pub fn describe(&self, path: &str) -> String {
        match self {
            SensitiveDir::Root => "the host's whole file system: its configuration and \
                credentials, the kubelet's state and the container runtime sockets"
                .to_string(),
            SensitiveDir::Within { dir, what } if clean_host_path(path) == *dir => what.to_string(),
            SensitiveDir::Within { dir, what } => format!("inside {dir}, {what}"),
            SensitiveDir::Contains(dirs) => {
                let list = match dirs.as_slice() {
                    [one] => one.to_string(),
                    [init @ .., last] => format!("{} and {last}", init.join(", ")),
                    [] => String::new(),
                };
                format!(
                    "a parent of the sensitive host {} {list}, which the mount exposes with \
                     everything else below it",
                    if dirs.len() == 1 {
                        "directory"
                    } else {
                        "directories"
                    }
                )
            }
        }
    }
}

/// Why a mount of host path `path` exposes or endangers the host: it is `/`, one of the
/// sensitive directories or below one (the reference tool checks exact paths only, PITFALLS CIS
/// Docker 11), or a parent of some of them (`/var`, `/var/lib`). The path is compared once
/// cleaned ([`clean_host_path`]): `//etc`, `/etc/.` and `/./etc` are `/etc`. Relative paths are
/// not judged here.
pub fn sensitive_host_dir(path: &str) -> Option<SensitiveDir> {
    if !path.starts_with('/') {
        return None;
    }
    let p = clean_host_path(path);
    if p == "/" {
        return Some(SensitiveDir::Root);
    }
    if let Some((dir, what)) = SENSITIVE_DIRS
        .iter()
        .find(|(d, _)| p == *d || p.starts_with(&format!("{d}/")))
    {
        return Some(SensitiveDir::Within { dir, what });
    }
    let below: Vec<&'static str> = SENSITIVE_DIRS
        .iter()
        .map(|(d, _)| *d)
        .filter(|d| d.starts_with(&format!("{p}/")))
        .collect();
    (!below.is_empty()).then_some(SensitiveDir::Contains(below))
}

/// Host paths whose mount exposes or endangers the host (see [`sensitive_host_dir`]).
pub fn sensitive_host_path(path: &str) -> bool {
    sensitive_host_dir(path).is_some()
}

/// What the credential files and directories of a home directory hold, by their path in it.
const HOME_CREDENTIALS: &[(&str, &str)] = &[
    (".ssh", "SSH private keys"),
    (".aws", "AWS credentials"),
    (".kube", "Kubernetes cluster credentials"),
    (".docker", "container registry logins"),
    (".config/gcloud", "Google Cloud credentials"),
    (".azure", "Azure credentials"),
    (".gnupg", "GnuPG private keys"),
    (".netrc", "passwords for remote hosts"),
    (".git-credentials", "Git passwords and tokens"),
];

/// What a host path in a home directory (`~/.ssh`, `$HOME/.aws`, `${HOME}/.kube/config`,
/// `/root/.docker`, `/home/ci/.ssh/id_ed25519`) holds when it is a credential file or
/// directory, or inside one; the whole home holds all of them.
pub fn home_credentials(path: &str) -> Option<&'static str> {
    let p = &clean_host_path(path);
    let in_home = ["~", "$HOME", "${HOME}", "/root"]
        .iter()
        .find_map(|home| p.strip_prefix(home))
        .or_else(|| {
            let user = p.strip_prefix("/home/")?;
            Some(user.find('/').map_or("", |i| &user[i..]))
        })?;
    if in_home.is_empty() {
        return Some("the credentials of that user (SSH keys, cloud, cluster and registry logins)");
    }
    let rest = in_home.strip_prefix('/')?;
    HOME_CREDENTIALS
        .iter()
        .find(|(name, _)| rest == *name || rest.starts_with(&format!("{name}/")))
        .map(|(_, what)| *what)
}

/// Container runtime sockets (Docker, containerd, CRI-O, Podman), or the directories that hold
/// them.
pub fn runtime_socket(path: &str) -> Option<&'static str> {
    let p = clean_host_path(path);
    const SOCKETS: &[(&str, &str)] = &[
        ("docker.sock", "the Docker socket"),
        ("containerd.sock", "the containerd socket"),
        ("crio.sock", "the CRI-O socket"),
        ("podman.sock", "the Podman socket"),
        ("dockershim.sock", "the dockershim socket"),
    ];
    if let Some((_, name)) = SOCKETS.iter().find(|(s, _)| p.ends_with(s)) {
        return Some(name);
    }
    match p.as_str() {
        "/var/run"
        | "/run"
        | "/var/run/docker"
        | "/run/docker"
        | "/run/containerd"
        | "/var/run/containerd"
        | "/var/run/crio"
        | "/run/crio" => Some("a directory holding container runtime sockets"),
        _ => None,
    }
}

/// Image reference parts: registry (None for Docker Hub), tag, digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: Option<String>,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

pub fn parse_image(image: &str) -> ImageRef {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d.to_string())),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(rest[last_slash + i + 1..].to_string()),
        ),
        None => (rest, None),
    };
    let first = name.split('/').next().unwrap_or("");
    let registry = (name.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost"))
        .then(|| first.to_string());
    ImageRef {
        registry,
        tag,
        digest,
    }
}

/// Safe sysctls per the Pod Security Standards (namespaced and isolated).
pub const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// Capabilities that give near-root power over the kernel or host.
pub const DANGEROUS_CAPS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "SYS_TIME",
    "NET_ADMIN",
    "DAC_READ_SEARCH",
    "BPF",
    "PERFMON",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "SYSLOG",
    "SYS_CHROOT",
    "MKNOD",
];

pub fn cap_name(c: &str) -> String {
    c.trim()
        .to_ascii_uppercase()
        .trim_start_matches("CAP_")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images() {
        assert_eq!(parse_image("nginx").tag, None);
        assert_eq!(parse_image("nginx:latest").tag.as_deref(), Some("latest"));
        let r = parse_image("registry.example.com:5000/team/app:1.2@sha256:abc");
        assert_eq!(r.registry.as_deref(), Some("registry.example.com:5000"));
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(parse_image("library/nginx:1").registry, None);
    }

    #[test]
    fn sensitive_paths_include_subdirectories_and_sockets() {
        // PITFALLS CIS Docker 11: subdirectories, /var/run and the sockets count.
        for p in [
            "/",
            "/etc",
            "/etc/ssl/",
            "/var/run",
            "/home/alice",
            "/proc/1",
        ] {
            assert!(sensitive_host_path(p), "{p}");
        }
        for p in ["/srv/data", "/opt/app", "/data"] {
            assert!(!sensitive_host_path(p), "{p}");
        }
        // PITFALLS "Artifact scanners" 5: containerd.sock is missed by Trivy and Checkov.
        assert!(runtime_socket("/run/containerd/containerd.sock").is_some());
        assert!(runtime_socket("/var/run/docker.sock").is_some());
        assert!(runtime_socket("/srv/app.sock").is_none());
    }

    #[test]
    fn host_paths_are_cleaned_like_the_kernel_resolves_them() {
        for (path, clean) in [
            ("/", "/"),
            ("//", "/"),
            ("/.", "/"),
            ("/..", "/"),
            ("/etc", "/etc"),
            ("/etc/", "/etc"),
            ("//etc", "/etc"),
            ("/etc/.", "/etc"),
            ("/./etc", "/etc"),
            ("/etc//ssl/./certs/", "/etc/ssl/certs"),
            ("/srv/../etc", "/etc"),
            ("/../../etc", "/etc"),
            ("~/.ssh/.", "~/.ssh"),
            ("./a/../b", "b"),
            ("../a", "../a"),
            (".", "."),
            ("", "."),
        ] {
            assert_eq!(clean_host_path(path), clean, "{path:?}");
        }
    }

    #[test]
    fn sensitive_paths_are_recognised_however_they_are_spelled() {
        for p in [
            "/etc",
            "/etc/",
            "//etc",
            "/etc/.",
            "/./etc",
            "/etc//",
            "/srv/../etc",
            "//",
            "/.",
            "/var/lib/kubelet/",
            "//var//lib/kubelet/pods",
            "/var/lib/etcd/member",
            "/proc/./1",
        ] {
            assert!(sensitive_host_path(p), "{p:?}");
        }
        assert_eq!(sensitive_host_dir("//"), Some(SensitiveDir::Root));
        assert!(matches!(
            sensitive_host_dir("/./etc/"),
            Some(SensitiveDir::Within { dir: "/etc", .. })
        ));
        // Look-alikes are not the directories they resemble.
        for p in [
            "/etcetera",
            "/variable",
            "/va",
            "/rootfs",
            "/srv/etc",
            "etc",
            "./etc",
        ] {
            assert!(!sensitive_host_path(p), "{p:?}");
        }
        assert!(runtime_socket("//var/run/docker.sock/.").is_some());
        assert!(runtime_socket("/var/run/").is_some());
        assert!(runtime_socket("/./run//containerd").is_some());
        assert_eq!(home_credentials("//root/./.ssh/"), Some("SSH private keys"));
    }

    #[test]
    fn parents_of_sensitive_directories_are_sensitive_and_say_what_they_hold() {
        // /var is none of the directories but holds several of them: mounting it exposes the
        // runtime sockets under /var/run and the kubelet's credentials all the same.
        let Some(SensitiveDir::Contains(dirs)) = sensitive_host_dir("/var") else {
            panic!("/var: {:?}", sensitive_host_dir("/var"));
        };
        assert_eq!(
            dirs,
            [
                "/var/run",
                "/var/lib/docker",
                "/var/lib/containerd",
                "/var/lib/etcd",
                "/var/lib/kubelet",
                "/var/log"
            ]
        );
        let why = sensitive_host_dir("/var/").unwrap().describe("/var/");
        assert!(
            why.contains("parent") && why.contains("/var/run") && why.contains("/var/lib/kubelet"),
            "{why}"
        );
        let Some(SensitiveDir::Contains(dirs)) = sensitive_host_dir("//var/lib/.") else {
            panic!("/var/lib");
        };
        assert_eq!(
            dirs,
            [
                "/var/lib/docker",
                "/var/lib/containerd",
                "/var/lib/etcd",
                "/var/lib/kubelet"
            ]
        );
        // /usr is one of the directories itself.
        assert!(matches!(
            sensitive_host_dir("/usr"),
            Some(SensitiveDir::Within { dir: "/usr", .. })
        ));
        assert!(sensitive_host_dir("/usr/local/bin").is_some());
        // A sibling of sensitive directories is not their parent.
        for p in [
            "/var/lib/app",
            "/var/cache",
            "/var/lib/kubeletx",
            "/opt",
            "/srv",
            "/data",
        ] {
            assert_eq!(sensitive_host_dir(p), None, "{p}");
        }
        let why = sensitive_host_dir("/etc/kubernetes")
            .unwrap()
            .describe("/etc/kubernetes");
        assert!(why.starts_with("inside /etc"), "{why}");
        let why = sensitive_host_dir("/").unwrap().describe("/");
        assert!(why.contains("whole file system"), "{why}");
    }

    #[test]
    fn home_credential_directories_are_named() {
        for (path, what) in [
            ("~/.ssh", "SSH private keys"),
            ("~/.ssh/", "SSH private keys"),
            ("${HOME}/.aws/credentials", "AWS credentials"),
            ("$HOME/.kube/config", "Kubernetes cluster credentials"),
            ("/root/.docker", "container registry logins"),
            ("/home/ci/.config/gcloud", "Google Cloud credentials"),
        ] {
            assert_eq!(home_credentials(path), Some(what), "{path}");
        }
        assert!(home_credentials("~").is_some());
        assert!(home_credentials("/home/ci").is_some());
        for path in [
            "~/src/app",
            "$HOMEDIR/.ssh",
            "/srv/.ssh",
            "~/.sshd",
            "/home",
            "./.aws",
        ] {
            assert_eq!(home_credentials(path), None, "{path}");
        }
    }

    #[test]
    fn secret_heuristics() {
        assert!(is_literal_secret("DB_PASSWORD", "hunter2"));
        assert!(!is_literal_secret("DB_PASSWORD", "${DB_PASSWORD}"));
        assert!(!is_literal_secret("DB_PASSWORD_FILE", "/run/secrets/db"));
        assert!(!is_literal_secret("AUTH_METHOD", "basic"));
        assert!(!is_literal_secret("APP_NAME", "x"));
        let t = "x AKIAABCDEFGHIJKLMNOP y ghp_0123456789abcdefghijklmnopqrstuvwxyz";
        let found = secret_patterns(t);
        assert_eq!(found.len(), 2);
        assert_eq!(&t[found[0].0..found[0].1], "AKIAABCDEFGHIJKLMNOP");
        let t = "k: |\n  -----BEGIN RSA PRIVATE KEY-----\n  MIIE\n  -----END RSA PRIVATE KEY-----\nu: https://a:pw12345@h\n";
        let found: Vec<&str> = secret_patterns(t).iter().map(|f| f.2).collect();
        assert_eq!(found, vec!["a private key", "a password in a URL"]);
    }
}
