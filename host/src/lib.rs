#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]

mod address;
mod cache;
mod contract;
mod engine;
mod error;
mod exempt;
mod facts;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
mod identity;
mod input;
mod kinds;
mod model;
mod netpol;
mod policy;
pub(crate) mod rbac;
pub mod render;
mod report;
mod roles;
mod runtime;
mod settings;
pub(crate) mod squid;
pub mod suite;
#[doc(hidden)]
pub mod testing;
mod traffic;

pub use engine::{
    Checker, DEFAULT_FUEL, DEFAULT_MAX_FINDINGS, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MEMORY_BYTES,
    DEFAULT_TIMEOUT, Engine, EngineBuilder, Plugin, RuleInfo, builtin_plugins,
};
pub use error::{Error, ErrorKind};
pub use exempt::{Baseline, Date, EXEMPT_ANNOTATION, Exempted, Exemptions};
pub use identity::RULE_ID_PATTERN;
pub use input::{DEFAULT_MAX_FILE_BYTES, Inputs};
pub use netpol::trace::{AllowingRule, NearMiss, SideTrace, Trace};
pub use netpol::{NetworkAnalysis, NetworkPlugin};
pub use policy::PolicySet;
pub use rbac::{AccessRequest, Grant, RbacAnalysis, RbacRule, Subject};
pub use report::{
    Diagnostic, DiagnosticKind, Finding, Location, NotEvaluated, ObjectRef, PluginFailure,
    RelatedLocation, Report, Severity, Summary,
};
pub use squid::{
    AccessLine, Listener, ProxyConfig, ProxyOutcome, ProxyVerdict, SquidOptions, SquidVersion,
};
