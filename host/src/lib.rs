//! Palisade checks that Kubernetes workloads in private subnets can reach the
//! outside only through the proxy, before the manifests ship.
//!
//! The host computes what the inputs mean — which pods a NetworkPolicy
//! isolates, which flows it allows — and sandboxed WebAssembly plugins decide
//! whether that is acceptable. This crate is the host: an embeddable library
//! and the `palisade` command.
//!
//! ```
//! use palisade::{Engine, Inputs, PolicySet, Severity};
//!
//! let engine = Engine::new()?;
//! let checker = engine.checker(&PolicySet::builtin_default(), Vec::new())?;
//! let report = checker.check(&Inputs::new().text(
//!     "web.yaml",
//!     "apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web, namespace: shop}
//! spec:
//!   selector: {matchLabels: {app: web}}
//!   template:
//!     metadata: {labels: {app: web}}
//!     spec: {containers: [{name: web, image: nginx}]}
//! ",
//! ));
//! assert!(report.diagnostics.is_empty());
//! let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
//! assert_eq!(rules, ["NP001", "NP002"]); // not isolated for ingress, nor egress
//! assert!(report.has_findings_at(Severity::Error));
//! # Ok::<(), palisade::Error>(())
//! ```

#![deny(missing_docs)]

mod engine;
mod error;
mod input;
mod kinds;
mod model;
mod policy;
pub mod render;
mod report;
mod runtime;

pub use engine::{
    Checker, DEFAULT_MAX_FINDINGS, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT,
    Engine, EngineBuilder, Plugin, RuleInfo, builtin_plugins,
};
pub use error::{Error, ErrorKind};
pub use input::Inputs;
pub use policy::PolicySet;
pub use report::{
    Diagnostic, DiagnosticKind, Finding, Location, ObjectRef, PluginFailure, Report, Severity,
    Summary,
};
