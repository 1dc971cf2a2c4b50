//! A plugin whose metadata is whatever the test says.
//!
//! The metadata is a JSON text in a fixed-size static buffer between
//! `PALISADE-IMPOSTOR-METADATA:` and `END-OF-IMPOSTOR-METADATA`. Tests find the marker in the built component and overwrite the
//! JSON in place (padding with spaces), so one build yields any number of
//! impostors: plugins that claim reserved IDs, other plugins' rules, or
//! metadata far too large. The JSON:
//! `{"id": "...", "rules": ["ID", ...], "generate": N, "doc_bytes": N,
//! "summary": "...", "report_all": bool}`; `generate` adds rules
//! `GEN0000001`…, `doc_bytes` pads each rule's doc, `summary` replaces every
//! rule's summary, and `report_all` makes it report its first rule on every
//! object, ignoring the excluded namespaces it is given (as a careless
//! third-party plugin would).

#![cfg_attr(
    not(target_family = "wasm"),
    allow(
        dead_code,
        reason = "a guest does its work only when built as a component"
    )
)]

use palisade_sdk::__bindings::exports::palisade::policy::plugin::Guest;
use palisade_sdk::{Finding, Location, PluginError, PluginMetadata, RuleInfo, Severity};

/// Bytes before the JSON: the marker, which must occur once in the component.
const MARKER_LEN: usize = 27;
const CAPACITY: usize = 4096;
const END: &[u8] = b"END-OF-IMPOSTOR-METADATA";

const fn padded(text: &[u8]) -> [u8; CAPACITY] {
    let mut out = [b' '; CAPACITY];
    let mut i = 0;
    while i < text.len() {
        out[i] = text[i];
        i += 1;
    }
    let mut j = 0;
    while j < END.len() {
        out[CAPACITY - END.len() + j] = END[j];
        j += 1;
    }
    out
}

#[used]
static METADATA: [u8; CAPACITY] =
    padded(b"PALISADE-IMPOSTOR-METADATA:{\"id\": \"impostor\", \"rules\": [\"IMP001\"]}");

fn rule(id: String, doc_bytes: usize, summary: Option<&str>) -> RuleInfo {
    RuleInfo {
        name: "impostor-rule".to_string(),
        default_severity: Severity::Warning,
        summary: summary.map_or_else(|| format!("Rule {id}"), str::to_string),
        doc: "x".repeat(doc_bytes),
        id,
    }
}

/// The metadata JSON patched into [`METADATA`].
fn config() -> serde_json::Value {
    // Read through a black box, so the optimizer keeps the bytes as data.
    let bytes: &[u8] = std::hint::black_box(&METADATA[..]);
    let json = bytes
        .get(MARKER_LEN..CAPACITY - END.len())
        .unwrap_or_default();
    serde_json::from_slice(json).unwrap_or_default()
}

struct Impostor;

impl Guest for Impostor {
    fn metadata() -> PluginMetadata {
        let v = config();
        let doc_bytes = v["doc_bytes"].as_u64().unwrap_or(0) as usize;
        let summary = v["summary"].as_str();
        let mut rules: Vec<RuleInfo> = v["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str())
            .map(|id| rule(id.to_string(), doc_bytes, summary))
            .collect();
        for i in 0..v["generate"].as_u64().unwrap_or(0) {
            rules.push(rule(format!("GEN{i:07}"), doc_bytes, summary));
        }
        PluginMetadata {
            id: v["id"].as_str().unwrap_or("impostor").to_string(),
            version: "0.0.0".to_string(),
            description: "Claims what it is told to".to_string(),
            rules,
            settings: Vec::new(),
        }
    }

    fn validate_settings(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn evaluate() -> Result<Vec<Finding>, PluginError> {
        let facts = palisade_sdk::Facts::from_host();
        let v = config();
        let Some(rule) = v["rules"][0].as_str().filter(|_| v["report_all"] == true) else {
            return Ok(Vec::new());
        };
        Ok((0..facts.objects().len())
            .map(|i| Finding {
                rule: rule.to_string(),
                severity: Severity::Warning,
                message: "reported on every object".to_string(),
                object: i as u32,
                at: Location::Object,
                remediation: None,
            })
            .collect())
    }
}

// Component exports exist only on wasm (not valid native symbols).
#[cfg(target_family = "wasm")]
palisade_sdk::__bindings::__export_policy_plugin!(Impostor with_types_in palisade_sdk::__bindings);
