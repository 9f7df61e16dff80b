//! Renderers. They format what the engine decided and never compute a verdict themselves.

pub mod assessment_html;
pub mod assessment_markdown;
pub mod assessment_model;
pub mod audit_json;
pub mod audit_text;
pub mod docker_bench;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod scan_github;
pub mod scan_json;
pub mod scan_junit;
pub mod scan_sarif;
pub mod scan_text;
pub mod target;
pub mod threats_html;
pub mod threats_markdown;
pub mod threats_text;
pub mod xml;

pub use target::Target;

/// Presentation switches shared by the text renderers.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub color: bool,
    /// Also list passing and not-applicable objects under each check.
    pub verbose: bool,
}
