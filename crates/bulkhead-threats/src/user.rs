//! A user's additions to the model: elements, flows, boundaries and threats in a YAML file
//! (`bulkhead threats --model FILE`). Items use the same shapes as the reference models and the
//! library, so anything the built-in model can say, a user can say too.
//!
//! ```yaml
//! elements:
//!   - id: app.db
//!     name: Orders database
//!     kind: data_store
//!     component: postgres
//!     boundary: dkr.b.host
//! flows:
//!   - id: app.f.web_db
//!     name: Order queries
//!     from: dkr.container:web
//!     to: app.db
//!     protocol: PostgreSQL wire protocol
//!     port: "5432"
//!     authentication: password
//!     encryption: none
//! threats:
//!   - id: APP-I01
//!     title: Order data read off the wire
//!     stride: [I]
//!     targets: [{ flow: app.f.web_db }]
//!     description: ...
//!     mitigation: ...
//!     likelihood: 2
//!     impact: 3
//!     controls: { prevent: [docker.daemon.icc_disabled] }
//!     refs: { attack: [T1040] }
//! ```

use crate::library::ThreatDef;
use crate::model::Platform;
use crate::reference::{BoundaryItem, ElementItem, FlowItem, Template};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserModel {
    #[serde(default)]
    pub boundaries: Vec<BoundaryItem>,
    #[serde(default)]
    pub elements: Vec<ElementItem>,
    #[serde(default)]
    pub flows: Vec<FlowItem>,
    #[serde(default)]
    pub threats: Vec<ThreatDef>,
    /// Where each item's `id` is written (`model.yaml:12:7`), for messages about it.
    #[serde(skip)]
    pub positions: BTreeMap<String, String>,
}

impl UserModel {
    /// Parse a model file; errors read `NAME:LINE:COLUMN: ...`.
    pub fn parse(text: &str, name: &str) -> Result<UserModel, String> {
        let (mut m, tree): (UserModel, _) = crate::yaml::from_yaml_with_tree(text, name)?;
        let ids: Vec<(&str, usize, String)> = (m
            .boundaries
            .iter()
            .enumerate()
            .map(|(i, b)| ("boundaries", i, b.id.clone())))
        .chain(
            m.elements
                .iter()
                .enumerate()
                .map(|(i, e)| ("elements", i, e.id.clone())),
        )
        .chain(
            m.flows
                .iter()
                .enumerate()
                .map(|(i, f)| ("flows", i, f.id.clone())),
        )
        .chain(
            m.threats
                .iter()
                .enumerate()
                .map(|(i, t)| ("threats", i, t.id.clone())),
        )
        .collect();
        for (list, i, id) in ids {
            m.positions
                .entry(id)
                .or_insert_with(|| crate::yaml::position(name, &tree, &format!("{list}[{i}].id")));
        }
        Ok(m)
    }

    /// `FILE:LINE:COLUMN` of the item with this ID, or None when the file does not define it.
    pub fn position(&self, id: &str) -> Option<&str> {
        self.positions.get(id).map(String::as_str)
    }

    /// The additions as a template (its items carry their own platform, Docker by default).
    pub fn template(&self) -> Template {
        Template {
            platform: Platform::Docker,
            when: None,
            boundaries: self.boundaries.clone(),
            elements: self.elements.clone(),
            flows: self.flows.clone(),
        }
    }
}
