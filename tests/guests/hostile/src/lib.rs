//! A plugin that misbehaves on request: `settings.behaviour` picks how
//! (`echo` reports `settings.message`, `settings.fix` and logs `settings.log`
//! for every object, for the output-escaping tests).
//!
//! Used by the sandbox suite to check that every misbehaviour ends within its
//! limit with the right typed error, and that the next evaluation works.

#![cfg_attr(
    not(target_family = "wasm"),
    allow(
        dead_code,
        reason = "a guest does its work only when built as a component"
    )
)]

use palisade_sdk::__bindings::exports::palisade::policy::plugin::Guest;
use palisade_sdk::{
    Facts, Finding, Location, PluginError, PluginMetadata, ProxyRequest, RuleInfo, Setting,
    SettingType, Severity,
};
use std::hint::black_box;

struct Hostile;

fn behaviour(settings: &str) -> String {
    serde_json::from_str::<serde_json::Value>(settings)
        .ok()
        .and_then(|v| {
            v.get("behaviour")
                .and_then(|b| b.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "ok".to_string())
}

/// A string setting, empty when absent (for `echo`).
fn setting(settings: &str, key: &str) -> String {
    serde_json::from_str::<serde_json::Value>(settings)
        .ok()
        .and_then(|v| v.get(key).and_then(|b| b.as_str()).map(str::to_string))
        .unwrap_or_default()
}

fn finding(rule: &str, object: u32, message: String) -> Finding {
    Finding {
        rule: rule.to_string(),
        severity: Severity::Warning,
        message,
        object,
        at: Location::Field("/metadata/name".to_string()),
        remediation: None,
    }
}

fn recurse(n: u64) -> u64 {
    if black_box(n) == u64::MAX {
        return 0;
    }
    black_box(recurse(n + 1)) + 1
}

impl Guest for Hostile {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            id: "hostile".to_string(),
            version: "0.0.0".to_string(),
            description: "Misbehaves on request".to_string(),
            rules: vec![RuleInfo {
                id: "HOSTILE001".to_string(),
                name: "object-exists".to_string(),
                default_severity: Severity::Warning,
                summary: "Reports every object (when behaving)".to_string(),
                doc: "## What it checks\n\nNothing real.\n".to_string(),
            }],
            settings: ["behaviour", "message", "fix", "log"]
                .into_iter()
                .map(|name| Setting {
                    name: name.to_string(),
                    type_: SettingType::Text,
                    doc: "What to do, and what to say".to_string(),
                })
                .collect(),
        }
    }

    fn validate_settings(settings: String) -> Result<(), String> {
        match behaviour(&settings).as_str() {
            "ok" | "loop" | "alloc" | "recurse" | "panic" | "many-findings" | "huge-message"
            | "undeclared-rule" | "unknown-object" | "bad-path" | "error" | "wasi-call"
            | "many-queries" | "big-selector" | "echo" | "raw-json" => Ok(()),
            other => Err(format!("unknown behaviour `{other}`")),
        }
    }

    fn evaluate() -> Result<Vec<Finding>, PluginError> {
        palisade_sdk::install_panic_hook();
        let facts = Facts::from_host();
        let settings = facts.settings().to_string();
        match behaviour(&settings).as_str() {
            "loop" => loop {
                black_box(());
            },
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "recurse" => Ok(vec![finding("HOSTILE001", 0, recurse(0).to_string())]),
            #[expect(clippy::panic, reason = "this guest panics on purpose")]
            "panic" => panic!("plugin bug: deliberate panic"),
            "many-findings" => Ok((0..20_000)
                .map(|i| finding("HOSTILE001", 0, format!("finding {i}")))
                .collect()),
            "huge-message" => Ok(vec![finding("HOSTILE001", 0, "x".repeat(32 << 20))]),
            "undeclared-rule" => Ok(vec![finding("NOPE001", 0, "undeclared".to_string())]),
            "unknown-object" => Ok(vec![finding("HOSTILE001", 1_000_000, "nobody".to_string())]),
            "bad-path" => {
                let mut f = finding("HOSTILE001", 0, "bad path".to_string());
                f.at = Location::Field("metadata.name".to_string());
                Ok(vec![f])
            }
            // Says what the policy set tells it to: hostile text in every
            // field a plugin controls (message, remediation, log line).
            "echo" => {
                palisade_sdk::log(palisade_sdk::LogLevel::Warn, &setting(&settings, "log"));
                Ok(facts
                    .objects()
                    .iter()
                    .map(|o| {
                        let mut f = finding("HOSTILE001", o.id, setting(&settings, "message"));
                        f.remediation = Some(setting(&settings, "fix"));
                        f
                    })
                    .collect())
            }
            // Repeats everything the host tells it about every object (and
            // every container's environment), in messages and the log: what
            // a careless (or greedy) plugin could print.
            "raw-json" => {
                let dump = |o: &palisade_sdk::SourceObject| {
                    let labels: Vec<String> = o
                        .labels
                        .iter()
                        .chain(&o.annotations)
                        .map(|l| format!("{}={}", l.key, l.value))
                        .collect();
                    format!("{o:?} {}", labels.join(" "))
                };
                for o in facts.objects() {
                    palisade_sdk::log(palisade_sdk::LogLevel::Info, &dump(o));
                }
                for w in facts.workloads() {
                    palisade_sdk::log(palisade_sdk::LogLevel::Info, &format!("{w:?}"));
                }
                Ok(facts
                    .objects()
                    .iter()
                    .map(|o| finding("HOSTILE001", o.id, dump(o)))
                    .collect())
            }
            // Asks the host far more than its fuel pays for: each verdict
            // is host work, priced against the plugin's fuel.
            // A selector far larger than the inputs, asked about again and
            // again: host work priced by its size.
            "big-selector" => {
                let selector = palisade_sdk::LabelSelector {
                    requirements: (0..200_000)
                        .map(|i| palisade_sdk::SelectorRequirement {
                            key: format!("k{i}"),
                            operator: palisade_sdk::SelectorOperator::Exists,
                            values: Vec::new(),
                        })
                        .collect(),
                };
                let mut matched = 0;
                for _ in 0..1_000 {
                    matched += facts.select_workloads(None, &selector).len();
                }
                Ok(vec![finding("HOSTILE001", 0, format!("{matched} matched"))])
            }
            "many-queries" => {
                let mut allowed = 0u32;
                for i in 0..1_000_000u32 {
                    let request = ProxyRequest {
                        client: "10.0.0.1".to_string(),
                        method: "GET".to_string(),
                        host: format!("h{i}.example"),
                        port: 443,
                    };
                    for p in 0..facts.proxies().len() {
                        let p = u32::try_from(p).unwrap_or(u32::MAX);
                        if facts.evaluate_proxy(p, &request).is_some_and(|v| v.allowed) {
                            allowed += 1;
                        }
                    }
                    black_box(facts.who_can(&palisade_sdk::AccessQuery {
                        verb: "get".to_string(),
                        api_group: String::new(),
                        resource: format!("r{i}"),
                        subresource: None,
                        name: None,
                        non_resource_url: None,
                        scope: palisade_sdk::AccessScope::AnyNamespace,
                    }));
                }
                Ok(vec![finding("HOSTILE001", 0, format!("{allowed} allowed"))])
            }
            "error" => Err(PluginError {
                message: "cannot evaluate this".to_string(),
            }),
            // Reading the environment goes through a WASI import that std
            // requires and the sandbox links as a trap.
            "wasi-call" => Ok(vec![finding(
                "HOSTILE001",
                0,
                format!("{:?}", std::env::var("HOME")),
            )]),
            _ => {
                let seen = format!("saw {} objects", facts.objects().len());
                palisade_sdk::log(palisade_sdk::LogLevel::Info, &seen);
                Ok(facts
                    .objects()
                    .iter()
                    .map(|o| finding("HOSTILE001", o.id, format!("saw {} {}", o.kind, o.name)))
                    .collect())
            }
        }
    }
}

// Component exports exist only on wasm (not valid native symbols).
#[cfg(target_family = "wasm")]
palisade_sdk::__bindings::__export_policy_plugin!(Hostile with_types_in palisade_sdk::__bindings);
