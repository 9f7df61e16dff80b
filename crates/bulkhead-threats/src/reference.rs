//! Reference models (templates as data under `models/`) and their instantiation from facts.
//!
//! A template lists boundaries, elements and flows. Instantiation keeps an item only when its
//! `when` condition holds, repeats `per`-instance items for every instance of a family (container,
//! node, workload, ...) that passes `instance_when`, and fills `{placeholders}` from facts and
//! instance attributes. An element takes its instance's attributes, except those whose name
//! starts with `_` (texts only meant for placeholders). The same item shapes are used for a
//! user's model file.

use crate::condition::{Cond, Scope};
use crate::facts::{Facts, Instance};
use crate::model::{Boundary, Element, ElementKind, Flow, Model, Platform};
use bulkhead_checks::Status;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One reference model file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub platform: Platform,
    #[serde(default)]
    pub when: Option<Cond>,
    #[serde(default, rename = "boundary")]
    pub boundaries: Vec<BoundaryItem>,
    #[serde(default, rename = "element")]
    pub elements: Vec<ElementItem>,
    #[serde(default, rename = "flow")]
    pub flows: Vec<FlowItem>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryItem {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub trust: u8,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub rank: u32,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub when: Option<Cond>,
    #[serde(default)]
    pub per: Option<String>,
    #[serde(default)]
    pub instance_when: Option<Cond>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElementItem {
    pub id: String,
    pub name: String,
    pub kind: ElementKind,
    pub component: String,
    #[serde(default)]
    pub boundary: Option<String>,
    #[serde(default)]
    pub rank: u32,
    #[serde(default)]
    pub attrs: BTreeMap<String, Value>,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub when: Option<Cond>,
    #[serde(default)]
    pub per: Option<String>,
    #[serde(default)]
    pub instance_when: Option<Cond>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowItem {
    pub id: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port: String,
    pub authentication: String,
    pub encryption: String,
    #[serde(default)]
    pub data: Vec<String>,
    #[serde(default)]
    pub bidirectional: bool,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub when: Option<Cond>,
    #[serde(default)]
    pub per: Option<String>,
    #[serde(default)]
    pub instance_when: Option<Cond>,
}

/// The embedded reference models: (file name, text).
pub const FILES: &[(&str, &str)] = &[
    ("models/docker.toml", include_str!("../models/docker.toml")),
    (
        "models/kubernetes.toml",
        include_str!("../models/kubernetes.toml"),
    ),
];

/// Parse the embedded reference models. Errors name the file.
pub fn templates() -> Result<Vec<Template>, String> {
    FILES
        .iter()
        .map(|(name, text)| toml::from_str(text).map_err(|e| format!("{name}: {e}")))
        .collect()
}

/// What instantiation reads: facts, and the rolled-up status of each control.
pub struct Inputs<'a> {
    pub facts: &'a Facts,
    pub control: &'a dyn Fn(&str) -> Option<Status>,
}

impl Inputs<'_> {
    fn holds(&self, c: &Option<Cond>, attrs: &BTreeMap<String, Value>) -> bool {
        c.as_ref().is_none_or(|c| {
            c.holds(&Scope {
                facts: &self.facts.values,
                attrs,
                control: self.control,
            })
        })
    }

    /// The instances an item is built for: one with no attributes for a plain item, else every
    /// instance of its family that passes `instance_when`.
    fn instances(&self, per: &Option<String>, filter: &Option<Cond>) -> Vec<Option<&Instance>> {
        match per {
            None => vec![None],
            Some(family) => self
                .facts
                .instances(family)
                .iter()
                .filter(|i| self.holds(filter, &scope_attrs(i)))
                .map(Some)
                .collect(),
        }
    }
}

/// Mask an attribute value whose name looks secret, unless it is a switch, a number or a path.
fn mask_attr(name: &str, v: &mut Value) {
    match v {
        Value::String(s) if bulkhead_facts::mask::should_mask(name, s) => {
            *s = bulkhead_facts::mask::MASK.into();
        }
        Value::Array(items) => items.iter_mut().for_each(|x| mask_attr(name, x)),
        _ => {}
    }
}

/// An instance's attributes plus `key` and `name`, for placeholders and conditions.
fn scope_attrs(i: &Instance) -> BTreeMap<String, Value> {
    let mut a = i.attrs.clone();
    a.insert("key".into(), Value::String(i.key.clone()));
    a.insert("name".into(), Value::String(i.name.clone()));
    a
}

/// Attribute values from a template: interpolated, and `true`/`false` read as booleans.
fn attr_value(inputs: &Inputs<'_>, v: &Value, attrs: &BTreeMap<String, Value>) -> Value {
    match v {
        Value::String(s) => match inputs.facts.interpolate(s, attrs).as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_string()),
        },
        other => other.clone(),
    }
}

fn suffixed(id: &str, inst: Option<&Instance>) -> String {
    match inst {
        Some(i) => format!("{id}:{}", i.key),
        None => id.to_string(),
    }
}

/// Instantiate templates into one model. `origin` is `reference` or `user`.
pub fn instantiate(
    templates: &[(Platform, &Template)],
    inputs: &Inputs<'_>,
    origin: &str,
) -> Model {
    let mut m = Model::default();
    let empty = BTreeMap::new();
    for (platform, t) in templates {
        if !inputs.holds(&t.when, &empty) {
            continue;
        }
        for b in &t.boundaries {
            if !inputs.holds(&b.when, &empty) {
                continue;
            }
            for inst in inputs.instances(&b.per, &b.instance_when) {
                let attrs = inst.map(scope_attrs).unwrap_or_default();
                m.boundaries.push(Boundary {
                    id: suffixed(&b.id, inst),
                    name: inputs.facts.interpolate(&b.name, &attrs),
                    kind: b.kind.clone(),
                    trust: b.trust,
                    parent: b
                        .parent
                        .as_ref()
                        .map(|p| inputs.facts.interpolate(p, &attrs)),
                    platform: b.platform.unwrap_or(*platform),
                    rank: b.rank,
                    origin: origin.into(),
                });
            }
        }
        for e in &t.elements {
            if !inputs.holds(&e.when, &empty) {
                continue;
            }
            for inst in inputs.instances(&e.per, &e.instance_when) {
                let scope = inst.map(scope_attrs).unwrap_or_default();
                let mut attrs: BTreeMap<String, Value> = inst
                    .map(|i| {
                        i.attrs
                            .iter()
                            .filter(|(k, _)| !k.starts_with('_'))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                for (k, v) in &e.attrs {
                    attrs.insert(k.clone(), attr_value(inputs, v, &scope));
                }
                for (k, v) in attrs.iter_mut() {
                    mask_attr(k, v);
                }
                m.elements.push(Element {
                    id: suffixed(&e.id, inst),
                    name: inputs.facts.interpolate(&e.name, &scope),
                    kind: e.kind,
                    component: e.component.clone(),
                    boundary: e
                        .boundary
                        .as_ref()
                        .map(|b| inputs.facts.interpolate(b, &scope)),
                    platform: e.platform.unwrap_or(*platform),
                    attrs,
                    instance_of: inst.map(|_| e.id.clone()),
                    rank: e.rank,
                    origin: origin.into(),
                });
            }
        }
        for f in &t.flows {
            if !inputs.holds(&f.when, &empty) {
                continue;
            }
            for inst in inputs.instances(&f.per, &f.instance_when) {
                let scope = inst.map(scope_attrs).unwrap_or_default();
                m.flows.push(Flow {
                    id: suffixed(&f.id, inst),
                    name: inputs.facts.interpolate(&f.name, &scope),
                    from: inputs.facts.interpolate(&f.from, &scope),
                    to: inputs.facts.interpolate(&f.to, &scope),
                    protocol: inputs.facts.interpolate(&f.protocol, &scope),
                    port: inputs.facts.interpolate(&f.port, &scope),
                    authentication: inputs.facts.interpolate(&f.authentication, &scope),
                    encryption: inputs.facts.interpolate(&f.encryption, &scope),
                    data: f.data.clone(),
                    bidirectional: f.bidirectional,
                    platform: f.platform.unwrap_or(*platform),
                    instance_of: inst.map(|_| f.id.clone()),
                    crosses: Vec::new(),
                    origin: origin.into(),
                });
            }
        }
    }
    m
}

/// Check a model's references: every flow end and boundary exists, IDs are unique, no boundary
/// is its own ancestor. `what` names the source in messages.
pub fn check_references(m: &Model, what: &str) -> Result<(), String> {
    let problems = reference_problems(m);
    if problems.is_empty() {
        return Ok(());
    }
    Err(problems
        .iter()
        .map(|(_, p)| format!("{what}: {p}"))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Every reference problem of a model, as (ID of the item at fault, message).
pub fn reference_problems(m: &Model) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for id in m
        .boundaries
        .iter()
        .map(|b| &b.id)
        .chain(m.elements.iter().map(|e| &e.id))
        .chain(m.flows.iter().map(|f| &f.id))
    {
        if !seen.insert(id.clone()) {
            errors.push((id.clone(), format!("the ID {id:?} is used twice")));
        }
    }
    for b in &m.boundaries {
        if let Some(p) = &b.parent {
            if m.boundary(p).is_none() {
                errors.push((
                    b.id.clone(),
                    format!(
                        "boundary {:?} names parent {p:?}, which does not exist",
                        b.id
                    ),
                ));
            }
        }
        if m.boundary_chain(Some(&b.id)).len() > m.boundaries.len() {
            errors.push((
                b.id.clone(),
                format!("boundary {:?} is its own ancestor", b.id),
            ));
        }
    }
    for e in &m.elements {
        if let Some(b) = &e.boundary {
            if m.boundary(b).is_none() {
                errors.push((
                    e.id.clone(),
                    format!(
                        "element {:?} is in boundary {b:?}, which does not exist",
                        e.id
                    ),
                ));
            }
        }
    }
    for f in &m.flows {
        for end in [&f.from, &f.to] {
            if m.element(end).is_none() {
                errors.push((
                    f.id.clone(),
                    format!(
                        "flow {:?} connects {end:?}, which is not an element (known: {})",
                        f.id,
                        m.elements
                            .iter()
                            .map(|e| e.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    errors
}
