//! Links from threats to the controls that mitigate them, from the threat library of
//! bulkhead-threats (harden depends on threats, never the reverse).

use crate::request::ThreatLink;

/// Every threat of the library with its mitigating controls. Empty until the threat library is
/// available to this crate.
pub fn library_links() -> Vec<ThreatLink> {
    Vec::new()
}
