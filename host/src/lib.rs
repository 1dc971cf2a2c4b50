#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]

pub mod audit;
mod cache;
mod contract;
mod engine;
mod exempt;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
mod identity;
pub mod path;
mod policy;
pub mod render;
mod report;
mod runtime;
mod settings;
pub mod suite;
#[doc(hidden)]
pub mod testing;
mod wit;

// The semantics: palisade-core (host/core), with no sandbox in it.
pub(crate) use palisade_core::{
    address, cloud, error, facts, input, kinds, model, netpol, parallel, proxylog, rbac, roles,
    squid, traffic,
};

pub use engine::{
    Checker, DEFAULT_FUEL, DEFAULT_MAX_FINDINGS, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MEMORY_BYTES,
    DEFAULT_TIMEOUT, Engine, EngineBuilder, Plugin, builtin_plugins,
};
pub use exempt::{Baseline, Date, EXEMPT_ANNOTATION, Exempted, Exemptions};
pub use identity::RULE_ID_PATTERN;
pub use palisade_core::error::{Error, ErrorKind};
pub use palisade_core::input::{DEFAULT_MAX_FILE_BYTES, Inputs, is_access_log};
pub use palisade_core::netpol::trace::{AllowingRule, NearMiss, SideTrace, Trace};
pub use palisade_core::netpol::{ClassMatrix, NetworkAnalysis, NetworkPlugin};
pub use palisade_core::rbac::{AccessRequest, Grant, RbacAnalysis, RbacRule, Subject};
pub use palisade_core::squid::{
    AccessLine, Listener, ProxyConfig, ProxyOutcome, ProxyVerdict, SquidOptions, SquidVersion,
};
pub use policy::PolicySet;
pub use report::{
    Diagnostic, DiagnosticKind, Finding, Location, NotEvaluated, ObjectRef, PluginFailure,
    RelatedLocation, Report, RuleInfo, Severity, Summary,
};
