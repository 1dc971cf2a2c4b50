//! `wgpolicyk8s.io/v1alpha2` reports: a PolicyReport per namespace and a
//! ClusterPolicyReport for cluster-scoped objects, as a multi-document YAML
//! stream that `kubectl apply -f` accepts.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::escape;
use crate::report::{Finding, Report, Severity};

fn result(f: &Finding) -> Value {
    let (result, severity) = match f.severity {
        Severity::Error => ("fail", "high"),
        Severity::Warning => ("warn", "medium"),
        Severity::Info => ("warn", "info"),
    };
    let mut resource = json!({
        "apiVersion": f.object.api_version,
        "kind": f.object.kind,
        "name": f.object.name,
    });
    if let Some(ns) = &f.object.namespace {
        resource["namespace"] = json!(ns);
    }
    let mut properties = serde_json::Map::new();
    if let Some(l) = &f.location {
        properties.insert("location".into(), json!(l.to_string()));
    }
    if let Some(p) = &f.path {
        properties.insert("path".into(), json!(p));
    }
    json!({
        "source": "palisade",
        "policy": f.plugin,
        "rule": f.rule,
        "result": result,
        "severity": severity,
        "message": f.message,
        "scored": true,
        "resources": [resource],
        "properties": properties,
    })
}

fn summary(results: &[Value]) -> Value {
    let count = |r: &str| results.iter().filter(|v| v["result"] == r).count();
    json!({"pass": 0, "fail": count("fail"), "warn": count("warn"), "error": 0, "skip": 0})
}

/// Renders a report as PolicyReport and ClusterPolicyReport objects.
pub fn policyreport(report: &Report) -> String {
    let mut by_namespace: BTreeMap<Option<&str>, Vec<Value>> = BTreeMap::new();
    for f in &report.findings {
        by_namespace
            .entry(f.object.namespace.as_deref())
            .or_default()
            .push(result(f));
    }
    let mut out = String::new();
    for (ns, results) in by_namespace {
        let mut doc = json!({
            "apiVersion": "wgpolicyk8s.io/v1alpha2",
            "kind": if ns.is_some() { "PolicyReport" } else { "ClusterPolicyReport" },
            "metadata": {
                "name": match ns { Some(ns) => format!("palisade-{ns}"), None => "palisade".to_string() },
                "labels": {"app.kubernetes.io/managed-by": "palisade"},
            },
            "summary": summary(&results),
            "results": results,
        });
        if let Some(ns) = ns {
            doc["metadata"]["namespace"] = json!(ns);
        }
        out.push_str("---\n");
        yaml(&doc, 0, &mut out);
    }
    out
}

/// A small block-style YAML emitter; strings are plain or double-quoted as
/// `escape::yaml` decides, so any YAML parser reads back exactly the text
/// (JSON's escapes alone leave DEL, C1 controls and U+FFFF raw, which YAML
/// forbids).
fn yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, val) in map {
                out.push_str(&pad);
                out.push_str(&scalar(&Value::String(k.clone())));
                out.push(':');
                inline_or_block(val, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // First key on the dash line, the rest indented.
                        let mut first = true;
                        for (k, val) in m {
                            if first {
                                out.push(' ');
                                first = false;
                            } else {
                                out.push_str(&" ".repeat(indent + 2));
                            }
                            out.push_str(&scalar(&Value::String(k.clone())));
                            out.push(':');
                            inline_or_block(val, indent + 2, out);
                        }
                    }
                    other => inline_or_block(other, indent, out),
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn inline_or_block(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            yaml(v, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            yaml(v, indent + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
        Value::String(s) => escape::yaml(s),
        other => other.to_string(),
    }
}
