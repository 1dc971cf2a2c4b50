//! Renderers: a report as text for people or as JSON for machines. Each
//! returns a `String`; the library never prints.
//!
//! Output is deterministic: the report is sorted, and nothing here depends on
//! the clock, the environment or hash order.

#[doc(hidden)]
pub mod escape;
mod github;
mod human;
mod json;
pub(crate) mod junit;
mod policyreport;
mod reference;
mod sarif;

pub use github::github;
pub use human::{FRAME_BUDGET, FRAME_COLUMNS, human, not_evaluated, plugin_log};
pub use json::{JSON_SCHEMA_VERSION, json};
pub use junit::junit;
pub use policyreport::policyreport;
pub use reference::rules_reference;
pub use sarif::sarif;

/// Renders a connection trace for people.
pub fn trace(t: &crate::Trace) -> String {
    crate::netpol::trace::human(t)
}
