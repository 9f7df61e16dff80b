//! One explicit registry from control ID to evaluator. No macro magic: each section module lists
//! its evaluators, and a test checks the registry against the catalog in both directions.

use crate::engine::Context;
use crate::model::CheckResult;

/// A check: a pure function of the snapshot.
pub type Evaluator = fn(&Context<'_>) -> CheckResult;

/// Every evaluator, by stable control ID.
pub fn all() -> impl Iterator<Item = &'static (&'static str, Evaluator)> {
    crate::docker::EVALUATORS
        .iter()
        .chain(crate::kube::EVALUATORS.iter())
        .flat_map(|s| s.iter())
}

pub fn evaluator(control_id: &str) -> Option<Evaluator> {
    all().find(|(id, _)| *id == control_id).map(|(_, e)| *e)
}
