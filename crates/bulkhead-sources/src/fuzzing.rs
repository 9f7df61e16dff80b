//! Entry points shared by the cargo-fuzz targets (fuzz/) and the stable mutation smoke test:
//! parse arbitrary bytes and walk everything the scanner would read, so a panic anywhere on the
//! path from bytes to rule input is found. Errors are fine; panics and hangs are not.

use crate::span::Limits;
use crate::yaml::{BoolDialect, Schema};
use crate::{compose, dockerfile, kubernetes, yaml};

/// Dockerfile: parse, pick the final stage and every named target, resolve users.
pub fn dockerfile(data: &[u8]) {
    let limits = Limits::default();
    let Ok(file) = dockerfile::parse_bytes(data, &limits) else {
        return;
    };
    if let Ok(stage) = file.final_stage(None) {
        let _ = file.effective_user(stage);
        let _ = file.variables_at(stage, usize::MAX);
    }
    for s in &file.stages {
        if let Some(name) = &s.name {
            if let Ok(t) = file.final_stage(Some(name)) {
                let _ = file.effective_user(t);
            }
        }
        let _ = s.base_stage(&file);
    }
}

/// The documents the scanner reads: [`yaml::parse_stream`] (strict, document by document, the
/// way the engine parses), checked against the lenient whole-stream reading.
fn yaml_docs(data: &[u8]) -> Option<Vec<yaml::Document>> {
    let limits = Limits::default();
    let text = crate::span::check_text(data, &limits).ok()?;
    let stream = yaml::parse_stream(text, &limits);
    for e in &stream.errors {
        let _ = e.span.text(text);
        assert!(e.span.start.offset <= e.span.end.offset && e.span.end.offset <= text.len());
    }
    for d in &stream.documents {
        let _ = d.root.to_json(Schema::Yaml11);
        let _ = d.root.to_json(Schema::Core);
        let _ = d.span.text(text);
        assert!(d.root.span.end.offset <= text.len());
    }
    if stream.errors.is_empty() {
        // A stream read whole is the lenient reading without duplicate keys: the same documents.
        let lenient = yaml::parse_with(text, &limits).ok()?;
        assert_eq!(lenient.len(), stream.documents.len());
    }
    Some(stream.documents)
}

/// Compose: parse and read every service setting the rules read.
pub fn compose(data: &[u8]) {
    let Some(docs) = yaml_docs(data) else { return };
    for s in compose::services(&docs) {
        let _ = s.environment();
        let _ = s.volumes();
        let _ = s.ports();
        if let Some(n) = s.get("privileged") {
            let _ = n.as_bool(BoolDialect::Compose);
        }
        if let Some(user) = s.get("user").and_then(yaml::Node::as_str) {
            let _ = compose::interpolate_defaults(user);
        }
    }
}

/// Kubernetes: parse, list objects (List items included), pods, containers and effective values.
pub fn kubernetes(data: &[u8]) {
    let Some(docs) = yaml_docs(data) else { return };
    for o in kubernetes::objects(&docs) {
        let _ = o.display();
        if let Some(pod) = o.pod() {
            for c in pod.containers() {
                let _ = pod.effective(&c, &["runAsNonRoot"]).as_bool();
                let _ = pod.effective(&c, &["runAsUser"]).as_i64();
                let _ = pod.container_only(&c, &["privileged"]).as_bool();
                let _ = pod.apparmor(&c);
            }
        }
    }
}
