//! The JSON report, version 1.
//!
//! ```json
//! {
//!   "version": 1,
//!   "findings": [{"plugin", "rule", "severity", "message",
//!                 "object": {"apiVersion", "kind", "namespace"?, "name"},
//!                 "location": {"file", "line", "column"} | null,
//!                 "path": "/json/pointer" | null, "remediation"?}],
//!   "errors": [{"kind": "input" | "plugin", "message",
//!               "location": {...} | null, "plugin"?, "cause"?}],
//!   "summary": {"files", "objects", "plugins",
//!               "findings": {"info"?, "warning"?, "error"?}, "errors"}
//! }
//! ```
//!
//! Fields are only added within a version; a removal or change of meaning
//! bumps `version`.

use serde::Serialize;

use crate::report::{Diagnostic, Finding, Report, Summary};

/// The version of the JSON report format.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: &'a [Finding],
    errors: &'a [Diagnostic],
    summary: &'a Summary,
}

/// Renders a report as pretty-printed JSON (with a final newline).
pub fn json(report: &Report) -> String {
    let doc = JsonReport {
        version: JSON_SCHEMA_VERSION,
        findings: &report.findings,
        errors: &report.diagnostics,
        summary: &report.summary,
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        format!(
            "{{\"version\":{JSON_SCHEMA_VERSION},\"internal-error\":{:?}}}",
            e.to_string()
        )
    });
    out.push('\n');
    out
}
