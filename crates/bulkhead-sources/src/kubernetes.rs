//! Kubernetes manifests: objects, pod carriers, containers and their EFFECTIVE security settings.
//!
//! Owns: splitting a parsed stream into objects (multi-document YAML, JSON, `kind: List` and
//! `*List` kinds as `kubectl get -o yaml` writes them), finding the pod spec in every pod carrier
//! (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob,
//! PodTemplate), listing containers, init containers and ephemeral containers, and computing a
//! container's effective security value: a container `securityContext` field overrides the pod's
//! (the reference scanners' top false positive, PITFALLS "Artifact scanners" 4).

use crate::yaml::{BoolDialect, Document, Node, Schema};

/// Kinds whose objects carry a pod template, and the key path to the pod spec.
pub const POD_CARRIERS: &[(&str, &[&str])] = &[
    ("Pod", &["spec"]),
    ("Deployment", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("ReplicationController", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    (
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
    ("PodTemplate", &["template", "spec"]),
];

/// One Kubernetes object of a file.
#[derive(Debug, Clone, Copy)]
pub struct Object<'d> {
    pub node: &'d Node,
    /// 0-based document in the stream.
    pub document: usize,
    /// Position inside a `List`'s `items` (`None` at top level).
    pub item: Option<usize>,
}

impl<'d> Object<'d> {
    pub fn kind(&self) -> &'d str {
        self.node.get("kind").and_then(Node::as_str).unwrap_or("")
    }
    pub fn api_version(&self) -> &'d str {
        self.node
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or("")
    }
    pub fn name(&self) -> &'d str {
        self.node
            .path(&["metadata", "name"])
            .or_else(|| self.node.path(&["metadata", "generateName"]))
            .and_then(Node::as_str)
            .unwrap_or("")
    }
    pub fn namespace(&self) -> Option<&'d str> {
        self.node
            .path(&["metadata", "namespace"])
            .and_then(Node::as_str)
    }

    /// `Kind/namespace/name` (namespace left out when not written).
    pub fn display(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{}/{}/{}", self.kind(), ns, self.name()),
            None => format!("{}/{}", self.kind(), self.name()),
        }
    }

    pub fn annotations(&self) -> Option<&'d Node> {
        self.node.path(&["metadata", "annotations"])
    }

    /// The pod this object runs, if it is a pod carrier.
    pub fn pod(&self) -> Option<Pod<'d>> {
        let kind = self.kind();
        let (_, path) = POD_CARRIERS.iter().find(|(k, _)| *k == kind)?;
        let spec = self.node.path(path)?;
        if !spec.is_map() {
            return None;
        }
        // The pod's own metadata: the template's for carriers, the object's for a Pod.
        let meta_path = &path[..path.len() - 1];
        let metadata = if kind == "Pod" {
            self.node.get("metadata")
        } else {
            self.node.path(meta_path).and_then(|t| t.get("metadata"))
        };
        Some(Pod {
            object: *self,
            spec,
            metadata,
        })
    }
}

/// Every object in a parsed stream: top-level documents that are mappings with a `kind`, and the
/// items of `List` kinds (nested lists included, bounded by the parser's depth limit).
pub fn objects(docs: &[Document]) -> Vec<Object<'_>> {
    let mut out = Vec::new();
    for doc in docs {
        collect(&doc.root, doc.index, None, &mut out);
    }
    out
}

fn collect<'d>(node: &'d Node, document: usize, item: Option<usize>, out: &mut Vec<Object<'d>>) {
    if !node.is_map() {
        return;
    }
    let kind = node.get("kind").and_then(Node::as_str).unwrap_or("");
    let items = node.get("items").and_then(Node::as_seq);
    if (kind == "List" || kind.ends_with("List")) && items.is_some() {
        for (i, it) in items.unwrap_or(&[]).iter().enumerate() {
            collect(it, document, Some(item.unwrap_or(i)), out);
        }
        return;
    }
    if !kind.is_empty() {
        out.push(Object {
            node,
            document,
            item,
        });
    }
}

/// Does this stream look like Kubernetes (some document has `apiVersion` and `kind`)?
pub fn looks_like_kubernetes(docs: &[Document]) -> bool {
    docs.iter()
        .any(|d| d.root.get("apiVersion").is_some() && d.root.get("kind").is_some())
}

/// A pod spec with the object that carries it.
#[derive(Debug, Clone, Copy)]
pub struct Pod<'d> {
    pub object: Object<'d>,
    pub spec: &'d Node,
    /// The pod's metadata (the template's for controllers), for annotations.
    pub metadata: Option<&'d Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Container,
    Init,
    Ephemeral,
}

impl ContainerKind {
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Container => "containers",
            ContainerKind::Init => "initContainers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ContainerKind::Container => "container",
            ContainerKind::Init => "initContainer",
            ContainerKind::Ephemeral => "ephemeralContainer",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Container<'d> {
    pub kind: ContainerKind,
    pub node: &'d Node,
    pub index: usize,
}

impl<'d> Container<'d> {
    pub fn name(&self) -> &'d str {
        self.node.get("name").and_then(Node::as_str).unwrap_or("")
    }
    pub fn security_context(&self) -> Option<&'d Node> {
        self.node.get("securityContext")
    }
}

/// Where an effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Container,
    Pod,
    /// Set in neither: the runtime default applies.
    Unset,
}

/// A container's effective value of a security setting and the node that decided it.
#[derive(Debug, Clone, Copy)]
pub struct Effective<'d> {
    pub node: Option<&'d Node>,
    pub origin: Origin,
}

impl<'d> Effective<'d> {
    pub fn as_bool(&self) -> Option<bool> {
        self.node?.as_bool(BoolDialect::Kubernetes)
    }
    pub fn as_i64(&self) -> Option<i64> {
        self.node?.as_i64(Schema::Yaml11)
    }
    pub fn as_str(&self) -> Option<&'d str> {
        self.node?.as_str()
    }
}

impl<'d> Pod<'d> {
    /// Containers, init containers and ephemeral containers, in that order.
    pub fn containers(&self) -> Vec<Container<'d>> {
        let mut out = Vec::new();
        for kind in [
            ContainerKind::Container,
            ContainerKind::Init,
            ContainerKind::Ephemeral,
        ] {
            if let Some(list) = self.spec.get(kind.field()).and_then(Node::as_seq) {
                for (index, node) in list.iter().enumerate().filter(|(_, n)| n.is_map()) {
                    out.push(Container { kind, node, index });
                }
            }
        }
        out
    }

    pub fn security_context(&self) -> Option<&'d Node> {
        self.spec.get("securityContext")
    }

    /// The effective value of a field that exists in both the pod and the container security
    /// context (`runAsNonRoot`, `runAsUser`, `runAsGroup`, `seccompProfile`, `appArmorProfile`,
    /// `seLinuxOptions`): the container's when it sets it (a null counts as unset), else the pod's.
    pub fn effective(&self, c: &Container<'d>, path: &[&str]) -> Effective<'d> {
        if let Some(n) = c
            .security_context()
            .and_then(|sc| sc.path(path))
            .filter(|n| !n.is_null())
        {
            return Effective {
                node: Some(n),
                origin: Origin::Container,
            };
        }
        if let Some(n) = self
            .security_context()
            .and_then(|sc| sc.path(path))
            .filter(|n| !n.is_null())
        {
            return Effective {
                node: Some(n),
                origin: Origin::Pod,
            };
        }
        Effective {
            node: None,
            origin: Origin::Unset,
        }
    }

    /// A container-only field (`privileged`, `allowPrivilegeEscalation`,
    /// `readOnlyRootFilesystem`, `capabilities`, `procMount`).
    pub fn container_only(&self, c: &Container<'d>, path: &[&str]) -> Effective<'d> {
        match c
            .security_context()
            .and_then(|sc| sc.path(path))
            .filter(|n| !n.is_null())
        {
            Some(n) => Effective {
                node: Some(n),
                origin: Origin::Container,
            },
            None => Effective {
                node: None,
                origin: Origin::Unset,
            },
        }
    }

    /// The container's AppArmor profile type: `securityContext.appArmorProfile.type` (container,
    /// then pod) or the older annotation `container.apparmor.security.beta.kubernetes.io/<name>`.
    pub fn apparmor(&self, c: &Container<'d>) -> Option<(String, &'d Node)> {
        let e = self.effective(c, &["appArmorProfile", "type"]);
        if let Some(n) = e.node {
            return Some((n.as_str().unwrap_or("").to_string(), n));
        }
        let key = format!(
            "container.apparmor.security.beta.kubernetes.io/{}",
            c.name()
        );
        let n = self.metadata?.path(&["annotations"])?.get(&key)?;
        let v = n.as_str().unwrap_or("");
        let ty = match v {
            "runtime/default" => "RuntimeDefault",
            "unconfined" => "Unconfined",
            v if v.starts_with("localhost/") => "Localhost",
            _ => v,
        };
        Some((ty.to_string(), n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    #[test]
    fn container_setting_overrides_pod_setting() {
        // PITFALLS "Artifact scanners" 4: pod-level vs container-level inheritance.
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod}\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      initContainers:\n        - name: init\n          securityContext:\n            runAsNonRoot: false\n      containers:\n        - name: app\n        - name: side\n          securityContext: {runAsNonRoot: null}\n      ephemeralContainers:\n        - name: debug\n";
        let docs = parse(text).unwrap();
        let objs = objects(&docs);
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].display(), "Deployment/prod/web");
        let pod = objs[0].pod().unwrap();
        let cs = pod.containers();
        let names: Vec<_> = cs.iter().map(|c| (c.name(), c.kind)).collect();
        assert_eq!(
            names,
            vec![
                ("app", ContainerKind::Container),
                ("side", ContainerKind::Container),
                ("init", ContainerKind::Init),
                ("debug", ContainerKind::Ephemeral)
            ]
        );
        let eff: Vec<_> = cs
            .iter()
            .map(|c| {
                let e = pod.effective(c, &["runAsNonRoot"]);
                (e.as_bool(), e.origin)
            })
            .collect();
        assert_eq!(
            eff,
            vec![
                (Some(true), Origin::Pod),
                (Some(true), Origin::Pod),
                (Some(false), Origin::Container),
                (Some(true), Origin::Pod)
            ]
        );
    }

    #[test]
    fn kind_list_items_are_objects() {
        // PITFALLS "Artifact scanners" 3: Trivy returns nothing for `kind: List`.
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec: {containers: [{name: c}]}\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata: {name: b}\n  spec:\n    jobTemplate:\n      spec:\n        template:\n          spec:\n            containers: [{name: j}]\n";
        let docs = parse(text).unwrap();
        let objs = objects(&docs);
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].item, Some(1));
        let pod = objs[1].pod().unwrap();
        assert_eq!(pod.containers()[0].name(), "j");
        assert_eq!(pod.containers()[0].node.span.start.line, 16);
    }

    #[test]
    fn every_pod_carrier_is_found() {
        for (kind, path) in POD_CARRIERS {
            let mut yaml = format!("apiVersion: x/v1\nkind: {kind}\nmetadata: {{name: n}}\n");
            let mut indent = String::new();
            for p in path.iter() {
                yaml.push_str(&format!("{indent}{p}:\n"));
                indent.push_str("  ");
            }
            yaml.push_str(&format!("{indent}containers: [{{name: c}}]\n"));
            let docs = parse(&yaml).unwrap();
            let objs = objects(&docs);
            let pod = objs[0].pod().unwrap_or_else(|| panic!("{kind}: no pod"));
            assert_eq!(pod.containers().len(), 1, "{kind}");
        }
    }

    #[test]
    fn apparmor_from_field_or_annotation() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/a: unconfined\nspec:\n  containers:\n  - name: a\n  - name: b\n    securityContext: {appArmorProfile: {type: RuntimeDefault}}\n";
        let docs = parse(text).unwrap();
        let objs = objects(&docs);
        let pod = objs[0].pod().unwrap();
        let cs = pod.containers();
        assert_eq!(pod.apparmor(&cs[0]).unwrap().0, "Unconfined");
        assert_eq!(pod.apparmor(&cs[1]).unwrap().0, "RuntimeDefault");
    }
}
