//! The JSON report, version 1.
//!
//! ```json
//! {
//!   "version": 1,
//!   "findings": [{"plugin", "rule", "severity", "message",
//!                 "object": {"apiVersion", "kind", "namespace"?, "name"},
//!                 "location": {"file", "line", "column"} | null,
//!                 "path": "/json/pointer" | null, "remediation"?,
//!                 "related"?: [{"message", "object", "path",
//!                               "location": {...} | null}],
//!                 "fingerprint"}],
//!   "errors": [{"kind": "input" | "plugin", "message",
//!               "location": {...} | null, "plugin"?, "cause"?}],
//!   "exempted": [{"finding", "reason", "by"}],   (with --show-exempted)
//!   "notEvaluated"?: [{"kind": "group/Kind", "object"?, "location"}],
//!   "summary": {"files", "objects", "plugins",
//!               "findings": {"info"?, "warning"?, "error"?}, "errors",
//!               "exempted", "baselined", "baselineStale",
//!               "notEvaluated"?: {"group/Kind": count}}
//! }
//! ```
//!
//! Fields are only added within a version; a removal or change of meaning
//! bumps `version`.

use serde::Serialize;

use crate::exempt::Exempted;
use crate::report::{Diagnostic, Finding, NotEvaluated, Report, Summary};

/// The version of the JSON report format.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [Diagnostic],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    exempted: &'a [Exempted],
    #[serde(rename = "notEvaluated", skip_serializing_if = "<[_]>::is_empty")]
    not_evaluated: &'a [NotEvaluated],
    summary: &'a Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    fingerprint: String,
}

/// Renders a report as pretty-printed JSON (with a final newline).
pub fn json(report: &Report) -> String {
    let doc = JsonReport {
        version: JSON_SCHEMA_VERSION,
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding {
                finding: f,
                fingerprint: f.fingerprint(),
            })
            .collect(),
        errors: &report.diagnostics,
        exempted: &report.exempted,
        not_evaluated: &report.not_evaluated,
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
