//! Facts about a Kubernetes node and cluster. Filled by the Kubernetes collector.

use serde::{Deserialize, Serialize};

/// Placeholder until the Kubernetes collector lands; kept so snapshots already carry the field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KubeFacts {}
