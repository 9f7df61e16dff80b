//! (evaluators of this section are being written)

use crate::registry::Evaluator;

pub const EVALUATORS: &[(&str, Evaluator)] = &[];
