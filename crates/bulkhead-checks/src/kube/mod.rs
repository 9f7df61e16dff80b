//! CIS Kubernetes Benchmark checks (being written).

use crate::registry::Evaluator;

pub const EVALUATORS: &[&[(&str, Evaluator)]] = &[];
