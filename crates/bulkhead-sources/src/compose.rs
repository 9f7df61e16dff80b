//! Docker Compose files: services and the runtime settings the scanner reads, with spans.
//!
//! Owns: finding services (`services:` at the top, and the legacy version-1 layout where services
//! are top-level keys), reading `environment` in both list (`- KEY=value`) and mapping form,
//! reading volumes in short (`/src:/dst:ro`) and long form, and ports in short and long form
//! (IPv6 bindings such as `[::]:80:80` included, PITFALLS CIS Docker 13). Booleans are read the
//! way compose-go reads them ([`BoolDialect::Compose`]). [`interpolate_defaults`] reads
//! `${VAR:-default}` as compose does when the variable is not set; the scanner never looks at
//! its own environment.

use crate::yaml::{Document, Node};

/// One service of a compose file.
#[derive(Debug, Clone, Copy)]
pub struct Service<'d> {
    pub name: &'d str,
    pub key: &'d Node,
    pub node: &'d Node,
}

/// Services of a parsed compose file (the first document holds them).
pub fn services(docs: &[Document]) -> Vec<Service<'_>> {
    let Some(doc) = docs.first() else {
        return Vec::new();
    };
    let root = &doc.root;
    let map = match root.get("services") {
        Some(s) => s.as_map().unwrap_or(&[]),
        None => return Vec::new(),
    };
    map.iter()
        .filter(|(_, v)| v.is_map())
        .filter_map(|(k, v)| {
            Some(Service {
                name: k.as_str()?,
                key: k,
                node: v,
            })
        })
        .collect()
}

/// Does the first document look like a compose file?
pub fn looks_like_compose(docs: &[Document]) -> bool {
    docs.first()
        .and_then(|d| d.root.get("services"))
        .is_some_and(Node::is_map)
}

/// An environment variable of a service: name, value (if written) and the node to point at.
#[derive(Debug, Clone)]
pub struct EnvVar<'d> {
    pub name: String,
    pub value: Option<String>,
    pub node: &'d Node,
}

impl<'d> Service<'d> {
    pub fn get(&self, key: &str) -> Option<&'d Node> {
        self.node.get(key)
    }

    /// `environment:` in list or mapping form.
    pub fn environment(&self) -> Vec<EnvVar<'d>> {
        let Some(env) = self.node.get("environment") else {
            return Vec::new();
        };
        if let Some(items) = env.as_seq() {
            return items
                .iter()
                .filter_map(|n| {
                    let s = n.as_str()?;
                    let (k, v) = match s.split_once('=') {
                        Some((k, v)) => (k, Some(v.to_string())),
                        None => (s, None),
                    };
                    Some(EnvVar {
                        name: k.trim().to_string(),
                        value: v,
                        node: n,
                    })
                })
                .collect();
        }
        env.as_map()
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, v)| {
                Some(EnvVar {
                    name: k.as_str()?.to_string(),
                    value: if v.is_null() {
                        None
                    } else {
                        v.as_str().map(str::to_string)
                    },
                    node: v,
                })
            })
            .collect()
    }

    /// Volumes as (host source, container target, read-only, node). Named volumes have a source
    /// without a `/`; anonymous volumes have no source.
    pub fn volumes(&self) -> Vec<Volume<'d>> {
        let Some(list) = self.node.get("volumes").and_then(Node::as_seq) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|n| {
                if let Some(s) = n.as_str() {
                    let parts: Vec<&str> = s.split(':').collect();
                    let (source, target, mode) = match parts.len() {
                        1 => (None, parts[0], ""),
                        2 => (Some(parts[0]), parts[1], ""),
                        _ => (Some(parts[0]), parts[1], parts[2]),
                    };
                    return Some(Volume {
                        source: source.map(str::to_string),
                        target: target.to_string(),
                        read_only: mode.split(',').any(|m| m == "ro"),
                        node: n,
                    });
                }
                let source = n.get("source").and_then(Node::as_str).map(str::to_string);
                let target = n.get("target").and_then(Node::as_str)?.to_string();
                let read_only = n
                    .get("read_only")
                    .and_then(|b| b.as_bool(crate::yaml::BoolDialect::Compose))
                    .unwrap_or(false);
                Some(Volume {
                    source,
                    target,
                    read_only,
                    node: n,
                })
            })
            .collect()
    }

    /// Published ports as (host IP, host port, node). Entries without a host port publish on a
    /// random port of every interface.
    pub fn ports(&self) -> Vec<Port<'d>> {
        let Some(list) = self.node.get("ports").and_then(Node::as_seq) else {
            return Vec::new();
        };
        list.iter()
            .map(|n| {
                if let Some(s) = n.as_str() {
                    let (ip, rest) = split_host_ip(s);
                    let parts: Vec<&str> = rest.split(':').collect();
                    let host_port = if parts.len() >= 2 {
                        Some(parts[0].to_string())
                    } else {
                        None
                    };
                    let container = parts.last().unwrap_or(&"").split('/').next().unwrap_or("");
                    Port {
                        host_ip: ip.map(str::to_string),
                        host_port,
                        container_port: container.to_string(),
                        node: n,
                    }
                } else {
                    let scalar = |k: &str| n.get(k).and_then(Node::as_str).map(str::to_string);
                    Port {
                        host_ip: scalar("host_ip"),
                        host_port: scalar("published"),
                        container_port: scalar("target").unwrap_or_default(),
                        node: n,
                    }
                }
            })
            .collect()
    }
}

/// The host IP of a short-syntax port (`IP:HOST:CONTAINER`) and the rest. As Docker reads it,
/// the IP is everything before the last two fields, so an IPv6 address may be written without
/// brackets (`::1:9090:9090` publishes on the loopback address `::1`).
fn split_host_ip(s: &str) -> (Option<&str>, &str) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some(end) = rest.find("]:") {
            return (Some(&rest[..end]), &rest[end + 2..]);
        }
    }
    match s.rmatch_indices(':').nth(1) {
        Some((at, _)) => (Some(&s[..at]), &s[at + 1..]),
        None => (None, s),
    }
}

/// A value after compose's interpolation with every variable unset: the text, and the variables
/// whose default was used, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpolated {
    pub value: String,
    pub defaulted: Vec<String>,
}

/// Interpolate `s` the way compose does when no variable is set: `${VAR:-default}` and
/// `${VAR-default}` give the default, `${VAR:+alt}` and `${VAR+alt}` nothing, `$$` a `$`.
/// `None` when the value depends on a variable without a default (`$VAR`, `${VAR}`, `${VAR:?err}`),
/// which only the deploying environment knows. The scanning process's own environment is never
/// read: it is not the environment the file is deployed with, and it may hold secrets.
pub fn interpolate_defaults(s: &str) -> Option<Interpolated> {
    let mut out = Interpolated {
        value: String::with_capacity(s.len()),
        defaulted: Vec::new(),
    };
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.value.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.value.push('$');
            rest = r;
        } else if let Some(body) = after.strip_prefix('{') {
            // The closing brace, allowing nested `${...}` in a default.
            let mut depth = 1;
            let end = body.char_indices().find_map(|(j, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(j)
            })?;
            let inner = &body[..end];
            let name_len = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, op) = inner.split_at(name_len);
            if name.is_empty() {
                return None;
            }
            let word = |p: &str| op.strip_prefix(p);
            if let Some(default) = word(":-").or_else(|| word("-")) {
                let d = interpolate_defaults(default)?;
                out.value.push_str(&d.value);
                out.defaulted.push(name.to_string());
                out.defaulted.extend(d.defaulted);
            } else if word(":+").or_else(|| word("+")).is_none() {
                // `${VAR}`, `${VAR:?err}`, `${VAR?err}` or an unknown form: needs the variable.
                return None;
            }
            rest = &body[end + 1..];
        } else if after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return None;
        } else {
            out.value.push('$');
            rest = after;
        }
    }
    out.value.push_str(rest);
    Some(out)
}

#[derive(Debug, Clone)]
pub struct Volume<'d> {
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub node: &'d Node,
}

#[derive(Debug, Clone)]
pub struct Port<'d> {
    pub host_ip: Option<String>,
    pub host_port: Option<String>,
    pub container_port: String,
    pub node: &'d Node,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse, BoolDialect};

    #[test]
    fn services_environment_volumes_ports() {
        let text = "services:\n  web:\n    image: nginx\n    privileged: \"yes\"\n    environment:\n      - DB_PASSWORD=hunter2\n      - PLAIN\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n      - type: bind\n        source: /etc\n        target: /host-etc\n    ports:\n      - \"[::]:8080:80\"\n      - 127.0.0.1:9000:9000\n      - 443\n  db:\n    environment:\n      POSTGRES_PASSWORD: s3cret\n";
        let docs = parse(text).unwrap();
        assert!(looks_like_compose(&docs));
        let s = services(&docs);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].get("privileged")
                .unwrap()
                .as_bool(BoolDialect::Compose),
            Some(true)
        );
        let env = s[0].environment();
        assert_eq!(env[0].name, "DB_PASSWORD");
        assert_eq!(env[0].value.as_deref(), Some("hunter2"));
        assert_eq!(env[0].node.span.start.line, 6);
        assert_eq!(env[1].value, None);
        let vols = s[0].volumes();
        assert_eq!(vols[0].source.as_deref(), Some("/var/run/docker.sock"));
        assert!(vols[0].read_only);
        assert_eq!(vols[1].target, "/host-etc");
        let ports = s[0].ports();
        assert_eq!(ports[0].host_ip.as_deref(), Some("::"));
        assert_eq!(ports[0].host_port.as_deref(), Some("8080"));
        assert_eq!(ports[1].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(ports[2].host_port, None);
        assert_eq!(s[1].environment()[0].value.as_deref(), Some("s3cret"));
    }

    #[test]
    fn unbracketed_ipv6_host_ip_is_everything_before_the_ports() {
        let text = "services:\n  web:\n    ports:\n      - \"::1:9090:9090\"\n      - \"fe80::1:8080-8081:80-81/udp\"\n      - \":::53:53\"\n      - \"8443:443\"\n";
        let docs = parse(text).unwrap();
        let ports = services(&docs)[0].ports();
        let got: Vec<(Option<&str>, Option<&str>, &str)> = ports
            .iter()
            .map(|p| {
                (
                    p.host_ip.as_deref(),
                    p.host_port.as_deref(),
                    p.container_port.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some("::1"), Some("9090"), "9090"),
                (Some("fe80::1"), Some("8080-8081"), "80-81"),
                (Some("::"), Some("53"), "53"),
                (None, Some("8443"), "443"),
            ]
        );
    }

    #[test]
    fn interpolation_uses_defaults_and_never_the_environment() {
        let v = |s: &str| interpolate_defaults(s).map(|i| (i.value, i.defaulted));
        assert_eq!(
            v("${APP_UID:-0}"),
            Some(("0".into(), vec!["APP_UID".into()]))
        );
        assert_eq!(
            v("${U-1000}:${G:-${GID:-0}}"),
            Some(("1000:0".into(), vec!["U".into(), "G".into(), "GID".into()]))
        );
        assert_eq!(v("a$$b${X:+y}"), Some(("a$b".into(), vec![])));
        assert_eq!(v("plain"), Some(("plain".into(), vec![])));
        assert_eq!(v("${APP_UID}"), None);
        assert_eq!(v("$APP_UID"), None);
        assert_eq!(v("${APP_UID:?must be set}"), None);
        assert_eq!(v("${UNCLOSED:-0"), None);
        // Even a variable set in this process is treated as unset.
        assert!(std::env::var("PATH").is_ok());
        assert_eq!(
            v("${PATH:-none}"),
            Some(("none".into(), vec!["PATH".into()]))
        );
        assert_eq!(v("${PATH}"), None);
    }
}
