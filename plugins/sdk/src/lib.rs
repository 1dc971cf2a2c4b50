//! Write Palisade policy plugins in Rust.
//!
//! A plugin is a WebAssembly component that implements the `palisade:policy`
//! contract in `wit/policy.wit`. This crate generates the bindings for that
//! contract and puts a small, typed layer over them:
//!
//! - [`Rule`]: a rule's stable ID, documentation and check function, declared
//!   side by side, so the docs that `palisade explain` prints live next to the
//!   logic they describe;
//! - [`Plugin`]: the plugin's identity, its settings type and its rule table;
//! - [`export_plugin!`]: wires a [`Plugin`] to the component exports;
//! - [`Context`]: the model the host computed, with lookups plugins need often;
//! - [`testing`]: builders for unit-testing rule logic natively with
//!   `cargo test`, without a WebAssembly runtime.
//!
//! ```
//! use palisade_sdk::{Context, Findings, Plugin, Rule, Severity};
//!
//! #[derive(Default, serde::Deserialize)]
//! struct Settings {}
//!
//! struct MyPlugin;
//! impl Plugin for MyPlugin {
//!     const ID: &'static str = "my-plugin";
//!     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
//!     const DESCRIPTION: &'static str = "What my plugin checks";
//!     type Settings = Settings;
//!     const RULES: &'static [Rule<Settings>] = &[Rule {
//!         id: "MY001",
//!         name: "host-network-used",
//!         default_severity: Severity::Error,
//!         summary: "Workloads must not use the host network",
//!         doc: "...",
//!         check: |cx, out| {
//!             for w in cx.workloads().filter(|w| w.host_network) {
//!                 out.report(w.object, "uses the host network").at(format!("{}/hostNetwork", w.pod_spec_path));
//!             }
//!         },
//!     }];
//! }
//! palisade_sdk::export_plugin!(MyPlugin);
//! ```

#![deny(missing_docs)]

mod bindings {
    #![allow(missing_docs, unreachable_pub, reason = "generated code")]
    #![allow(clippy::all, reason = "generated code")]
    wit_bindgen::generate!({
        world: "policy-plugin",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "__export_policy_plugin",
        default_bindings_module: "palisade_sdk::__bindings",
        additional_derives: [PartialEq, Eq, PartialOrd, Ord, Clone],
    });
}

pub mod testing;

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use bindings::palisade::policy::log::Level as LogLevel;
pub use bindings::palisade::policy::types::{
    AccessAnswer, AccessGrant, AccessQuery, AccessScope, Container, ContainerPort, EnvVar, Flow,
    IpBlock, Isolation, Label, LabelSelector, NetworkPolicy, Peer, PeerMatch, PluginError,
    PluginMetadata, PodPeer, PolicyRule, PortRef, PortSpec, Protocol, RbacBinding, RbacFacts,
    RbacRole, RbacRule, RbacSubject, Request, RuleInfo, SelectorOperator, SelectorRequirement,
    Severity, SourceObject, Workload,
};
pub use bindings::palisade::policy::types::{Finding, Namespace};
pub use bindings::palisade::policy::types::{
    ProxyAnswer, ProxyConfig, ProxyQuery, SquidAccess, SquidAcl, SquidListener,
};

#[doc(hidden)]
pub mod __bindings {
    pub use crate::bindings::*;
    pub use serde_json;
}

/// One rule: identity, documentation and logic, declared together.
///
/// `check` receives the evaluation context and appends findings. It runs only
/// when the policy set enables the rule.
pub struct Rule<S: 'static> {
    /// Stable ID, never reused: upper-case prefix and number (`NP001`).
    pub id: &'static str,
    /// Kebab-case name that reads as the problem (`workload-not-isolated-for-ingress`).
    pub name: &'static str,
    /// Severity unless the policy set overrides it.
    pub default_severity: Severity,
    /// One line, shown by `palisade rules`.
    pub summary: &'static str,
    /// Markdown with the headings `What it checks`, `Why it matters`,
    /// `Example`, `How to fix` and `Settings`; shown by `palisade explain`.
    pub doc: &'static str,
    /// The rule's logic.
    pub check: fn(&Context<'_, S>, &mut Findings),
}

impl<S> std::fmt::Debug for Rule<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A policy plugin: identity, settings and rules.
pub trait Plugin {
    /// Stable plugin ID (`default-deny`).
    const ID: &'static str;
    /// Plugin version, usually `env!("CARGO_PKG_VERSION")`.
    const VERSION: &'static str;
    /// One paragraph on what the plugin checks.
    const DESCRIPTION: &'static str;
    /// Settings, deserialized from the policy set's JSON. Unknown fields
    /// should be rejected (`#[serde(deny_unknown_fields)]`).
    type Settings: serde::de::DeserializeOwned + Default + 'static;
    /// Every rule of the plugin.
    const RULES: &'static [Rule<Self::Settings>];

    /// Checks settings beyond what deserialization checks. The default accepts
    /// whatever deserializes.
    fn validate(_settings: &Self::Settings) -> Result<(), String> {
        Ok(())
    }

    /// RBAC questions ("who can VERB RESOURCE here?") the host answers in
    /// `request.rbac.answers`, in this order. The default asks none.
    fn access_queries(_settings: &Self::Settings) -> Vec<AccessQuery> {
        Vec::new()
    }

    /// Requests the host evaluates against every proxy config of the
    /// inputs, answered in `request.proxy_answers`. The default asks none.
    fn proxy_queries(_settings: &Self::Settings) -> Vec<ProxyQuery> {
        Vec::new()
    }
}

/// The plugin's proxy queries for `settings` JSON.
pub fn proxy_queries<P: Plugin>(settings: &str) -> Vec<ProxyQuery> {
    parse_settings::<P>(settings)
        .map(|s| P::proxy_queries(&s))
        .unwrap_or_default()
}

/// The plugin's access queries for `settings` JSON (none when the settings
/// do not parse: `validate-settings` reports that).
pub fn access_queries<P: Plugin>(settings: &str) -> Vec<AccessQuery> {
    parse_settings::<P>(settings)
        .map(|s| P::access_queries(&s))
        .unwrap_or_default()
}

/// Namespaces the platform manages, out of scope by default.
pub const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// [`SYSTEM_NAMESPACES`] as owned strings, for settings defaults.
pub fn system_namespaces() -> Vec<String> {
    SYSTEM_NAMESPACES.iter().map(|s| s.to_string()).collect()
}

/// What a rule sees: the request from the host, its parsed settings, and
/// indexes over the model.
#[derive(Debug)]
pub struct Context<'a, S> {
    request: &'a Request,
    settings: &'a S,
    rule: &'static str,
    severity: Severity,
}

impl<'a, S> Context<'a, S> {
    /// The plugin's settings.
    pub fn settings(&self) -> &'a S {
        self.settings
    }

    /// The whole request, for anything the helpers do not cover.
    pub fn request(&self) -> &'a Request {
        self.request
    }

    /// Whether objects in `namespace` may be reported on (the policy set may
    /// exclude namespaces; their objects still take part in the model).
    pub fn in_scope(&self, namespace: &str) -> bool {
        !self
            .request
            .excluded_namespaces
            .iter()
            .any(|n| n == namespace)
    }

    /// Whether objects in `namespace` may be reported on, with the plugin's
    /// own `also_excluded` namespaces on top of the policy set's.
    pub fn in_scope_unless(&self, namespace: &str, also_excluded: &[String]) -> bool {
        self.in_scope(namespace) && !also_excluded.iter().any(|n| n == namespace)
    }

    /// Workloads whose namespace is in scope.
    pub fn workloads(&self) -> impl Iterator<Item = &'a Workload> + '_ {
        self.request
            .workloads
            .iter()
            .filter(|w| self.in_scope(&w.namespace))
    }

    /// NetworkPolicies whose namespace is in scope.
    pub fn network_policies(&self) -> impl Iterator<Item = &'a NetworkPolicy> + '_ {
        self.request
            .network_policies
            .iter()
            .filter(|p| self.in_scope(&p.namespace))
    }

    /// The source object with this ID.
    pub fn object(&self, id: u32) -> Option<&'a SourceObject> {
        self.request.objects.get(id as usize)
    }

    /// The NetworkPolicy at this index of `request.network_policies`.
    pub fn network_policy(&self, index: u32) -> Option<&'a NetworkPolicy> {
        self.request.network_policies.get(index as usize)
    }

    /// What `workload` may send (`egress`) or receive: each flow with its
    /// policy, rule, and peer with what the peer matches (no peer: every pod
    /// and address). Empty when the workload is not isolated in that
    /// direction — then everything is allowed.
    pub fn flows(&self, workload: &'a Workload, egress: bool) -> Vec<FlowView<'a>> {
        let flows = if egress {
            &workload.egress_flows
        } else {
            &workload.ingress_flows
        };
        flows
            .iter()
            .filter_map(|flow| {
                let policy = self.network_policy(flow.policy)?;
                let rules = if egress {
                    &policy.egress
                } else {
                    &policy.ingress
                };
                let rule = rules.get(flow.rule as usize)?;
                let peer = match flow.peer {
                    None => None,
                    Some(i) => Some((rule.peers.get(i as usize)?, rule.matches.get(i as usize)?)),
                };
                Some(FlowView {
                    flow,
                    policy,
                    rule,
                    peer,
                })
            })
            .collect()
    }

    /// The ID of the rule being checked.
    pub fn rule_id(&self) -> &'static str {
        self.rule
    }

    /// The severity findings of this rule get by default.
    pub fn severity(&self) -> Severity {
        self.severity
    }
}

/// A flow with the policy, rule and peer it refers to.
#[derive(Debug, Clone, Copy)]
pub struct FlowView<'a> {
    /// The flow as the host sent it.
    pub flow: &'a Flow,
    /// The policy that allows it.
    pub policy: &'a NetworkPolicy,
    /// The rule that allows it.
    pub rule: &'a PolicyRule,
    /// The peer and what it matches; `None`: every pod and address.
    pub peer: Option<(&'a Peer, &'a PeerMatch)>,
}

/// Findings being collected for one rule.
#[derive(Debug)]
pub struct Findings {
    rule: &'static str,
    severity: Severity,
    out: Vec<Finding>,
}

/// A finding being built; see [`Findings::report`].
#[derive(Debug)]
pub struct FindingBuilder<'a> {
    finding: &'a mut Finding,
}

impl FindingBuilder<'_> {
    /// Points the finding at a field: a JSON pointer inside the object
    /// (`/spec/podSelector`).
    pub fn at(self, path: impl Into<String>) -> Self {
        self.finding.path = Some(path.into());
        self
    }

    /// Adds remediation text.
    pub fn fix(self, remediation: impl Into<String>) -> Self {
        self.finding.remediation = Some(remediation.into());
        self
    }

    /// Overrides the rule's default severity for this finding.
    pub fn severity(self, severity: Severity) -> Self {
        self.finding.severity = severity;
        self
    }
}

impl Findings {
    /// Starts collecting findings for `rule`.
    pub fn new(rule: &'static str, severity: Severity) -> Self {
        Findings {
            rule,
            severity,
            out: Vec::new(),
        }
    }

    /// Reports a finding about `object` (a source-object ID).
    pub fn report(&mut self, object: u32, message: impl Into<String>) -> FindingBuilder<'_> {
        self.out.push(Finding {
            rule: self.rule.to_string(),
            severity: self.severity,
            message: message.into(),
            object,
            path: None,
            remediation: None,
        });
        let last = self.out.len() - 1;
        FindingBuilder {
            finding: &mut self.out[last],
        }
    }

    /// The findings collected so far.
    pub fn into_vec(self) -> Vec<Finding> {
        self.out
    }
}

/// Parses settings JSON (an empty string or `null` means defaults) and runs
/// [`Plugin::validate`].
pub fn parse_settings<P: Plugin>(json: &str) -> Result<P::Settings, String> {
    let trimmed = json.trim();
    let settings: P::Settings = if trimmed.is_empty() || trimmed == "null" {
        P::Settings::default()
    } else {
        serde_json::from_str(trimmed).map_err(|e| format!("invalid settings: {e}"))?
    };
    P::validate(&settings)?;
    Ok(settings)
}

/// The plugin's metadata as the contract describes it.
pub fn metadata<P: Plugin>() -> PluginMetadata {
    PluginMetadata {
        id: P::ID.to_string(),
        version: P::VERSION.to_string(),
        description: P::DESCRIPTION.to_string(),
        rules: P::RULES
            .iter()
            .map(|r| RuleInfo {
                id: r.id.to_string(),
                name: r.name.to_string(),
                default_severity: r.default_severity,
                summary: r.summary.to_string(),
                doc: r.doc.to_string(),
            })
            .collect(),
    }
}

/// Runs every enabled rule of `P` over `request`: what the `evaluate` export
/// does, callable natively from tests.
pub fn evaluate<P: Plugin>(request: &Request) -> Result<Vec<Finding>, PluginError> {
    let settings =
        parse_settings::<P>(&request.settings).map_err(|message| PluginError { message })?;
    let mut all = Vec::new();
    for rule in P::RULES {
        if !request.enabled_rules.iter().any(|r| r == rule.id) {
            continue;
        }
        let cx = Context {
            request,
            settings: &settings,
            rule: rule.id,
            severity: rule.default_severity,
        };
        let mut out = Findings::new(rule.id, rule.default_severity);
        (rule.check)(&cx, &mut out);
        all.extend(out.into_vec());
    }
    Ok(all)
}

/// Sends a message to the host's log for this evaluation. Off WebAssembly
/// (native tests) messages go to stderr.
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_family = "wasm")]
    bindings::palisade::policy::log::log(level, message);
    #[cfg(not(target_family = "wasm"))]
    eprintln!("[{level:?}] {message}");
}

/// Installs a panic hook that reports the panic message to the host with the
/// `fatal` log level before the plugin aborts, so the host can say why the
/// plugin failed. Called by the exported functions; idempotent.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let mut message = String::new();
            if let Some(s) = info.payload().downcast_ref::<&str>() {
                message.push_str(s);
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                message.push_str(s);
            } else {
                message.push_str("panic with a non-string payload");
            }
            if let Some(loc) = info.location() {
                let _ = write!(message, " (at {}:{})", loc.file(), loc.line());
            }
            log(LogLevel::Fatal, &message);
        }));
    });
}

/// Label lookups on the model's label lists.
pub trait Labels {
    /// The value of `key`, if present.
    fn label(&self, key: &str) -> Option<&str>;
    /// The labels as a map.
    fn to_map(&self) -> BTreeMap<&str, &str>;
}

impl Labels for [Label] {
    fn label(&self, key: &str) -> Option<&str> {
        self.iter().find(|l| l.key == key).map(|l| l.value.as_str())
    }

    fn to_map(&self) -> BTreeMap<&str, &str> {
        self.iter()
            .map(|l| (l.key.as_str(), l.value.as_str()))
            .collect()
    }
}

/// Implements the component exports for a [`Plugin`].
///
/// Invoke once, at the root of the plugin crate: `palisade_sdk::export_plugin!(MyPlugin);`
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            #[cfg_attr(
                not(target_family = "wasm"),
                allow(dead_code, reason = "component exports exist only on wasm")
            )]
            struct __PalisadeExport;
            impl $crate::__bindings::exports::palisade::policy::plugin::Guest for __PalisadeExport {
                fn metadata() -> $crate::PluginMetadata {
                    $crate::install_panic_hook();
                    $crate::metadata::<$plugin>()
                }
                fn validate_settings(settings: ::std::string::String) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::install_panic_hook();
                    $crate::parse_settings::<$plugin>(&settings).map(|_| ())
                }
                fn access_queries(settings: ::std::string::String) -> ::std::vec::Vec<$crate::AccessQuery> {
                    $crate::install_panic_hook();
                    $crate::access_queries::<$plugin>(&settings)
                }
                fn proxy_queries(settings: ::std::string::String) -> ::std::vec::Vec<$crate::ProxyQuery> {
                    $crate::install_panic_hook();
                    $crate::proxy_queries::<$plugin>(&settings)
                }
                fn evaluate(
                    request: $crate::Request,
                ) -> ::std::result::Result<::std::vec::Vec<$crate::Finding>, $crate::PluginError> {
                    $crate::install_panic_hook();
                    $crate::evaluate::<$plugin>(&request)
                }
            }
            // Native builds (unit tests) link no component exports: their
            // names are not valid native symbols.
            #[cfg(target_family = "wasm")]
            $crate::__bindings::__export_policy_plugin!(__PalisadeExport with_types_in $crate::__bindings);
        };
    };
}
