//! SARIF 2.1.0: one run; the driver lists every loaded rule with its summary
//! and documentation; each result points at the exact field (line and
//! column), with an artifact URI relative to the working directory, and
//! lists the places related to it (the workload consuming a ConfigMap key a
//! finding is located at) as `relatedLocations`.
//! Failures (input and plugin errors) are tool execution notifications, and
//! make `executionSuccessful` false.

use serde_json::{Value, json};

use crate::report::{Location, Report, Severity};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A relative URI for a file name as the report has it: `./` stripped,
/// backslashes turned into slashes, spaces and `%` escaped.
fn uri(file: &str) -> String {
    let trimmed = file.strip_prefix("./").unwrap_or(file).replace('\\', "/");
    let mut out = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        // RFC 3986: unreserved characters, sub-delimiters, `:`, `@` and `/`
        // stay; everything else (spaces, `%`, `#`, `?`, `<`, `>`, non-ASCII)
        // is percent-encoded, byte by byte.
        // (`:` is encoded too: `a:b.yaml` must not read as a scheme.)
        if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=@/".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A SARIF physical location. A position in a stream Palisade rendered
/// (`<kustomize DIR>`, `<stdin>`) is no file of the repository: when the
/// object's origin is known, the location is that file (no region: the
/// lines are the stream's, not the file's).
fn physical(loc: &Location) -> Value {
    match loc.origin_file() {
        Some(origin) => json!({
            "artifactLocation": {"uri": uri(origin)},
        }),
        _ => json!({
            "artifactLocation": {"uri": uri(&loc.file)},
            "region": {"startLine": loc.line, "startColumn": loc.column},
        }),
    }
}

/// Renders a report as SARIF 2.1.0 (pretty JSON, final newline).
pub fn sarif(report: &Report) -> String {
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|(plugin, r)| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": r.doc, "markdown": r.doc},
                "defaultConfiguration": {"level": level(r.default_severity)},
                "properties": {"plugin": plugin},
            })
        })
        .collect();
    let rule_index = |id: &str| report.rules.iter().position(|(_, r)| r.id == id);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": f.message},
                "partialFingerprints": {"palisade/v1": f.fingerprint()},
                "properties": {
                    "plugin": f.plugin,
                    "object": f.object.to_string(),
                },
            });
            if let Some(i) = rule_index(&f.rule) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(loc) = &f.location {
                result["locations"] = json!([{
                    "physicalLocation": physical(loc),
                    "logicalLocations": [{
                        "fullyQualifiedName": f.object.to_string(),
                        "kind": "resource",
                    }],
                }]);
                // A rendered stream (Helm, Kustomize): say which file the
                // object came from.
                if let Some(origin) = &loc.origin {
                    result["locations"][0]["message"] =
                        json!({"text": format!("rendered from {origin}: line {} of {}", loc.line, loc.file)});
                    result["properties"]["origin"] = json!(origin);
                }
            }
            if let Some(fix) = &f.remediation {
                result["properties"]["remediation"] = json!(fix);
            }
            if !f.related.is_empty() {
                let related: Vec<Value> = f
                    .related
                    .iter()
                    .enumerate()
                    .map(|(id, r)| {
                        let mut rel = json!({
                            "id": id,
                            "message": {"text": r.message},
                            "logicalLocations": [{
                                "fullyQualifiedName": r.object.to_string(),
                                "kind": "resource",
                            }],
                        });
                        if let Some(loc) = &r.location {
                            rel["physicalLocation"] = physical(loc);
                        }
                        rel
                    })
                    .collect();
                result["relatedLocations"] = json!(related);
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut n = json!({
                "level": "error",
                "message": {"text": d.message},
            });
            if let Some(loc) = &d.location {
                n["locations"] = json!([{"physicalLocation": physical(loc)}]);
            }
            n
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "palisade",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/palisade",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": report.diagnostics.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
