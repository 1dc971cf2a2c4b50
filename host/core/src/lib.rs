//! Palisade's semantics, with no sandbox: what Kubernetes manifests and
//! proxy configurations mean, computed once and tested in one place.
//!
//! - [`input`]: files and texts read with positions (`file:line:column` for
//!   every field), YAML and JSON split into objects, Kustomize files;
//! - [`model`]: namespaces, workloads and their containers' effective
//!   environment, NetworkPolicies in normalized form, which policy isolates
//!   which workload and the flows it allows;
//! - [`netpol`]: one connection decided, the full matrix through
//!   equivalence classes, traces, network plugin profiles;
//! - [`rbac`]: the authorizer's semantics — aggregation, bindings, `can-i`
//!   and `who-can`;
//! - [`squid`]: squid configurations parsed with lines and includes, and
//!   the `http_access` evaluator held against real squid releases;
//! - [`roles`]: which workloads play the proxy, cluster DNS, the allowed
//!   destinations, and who the admins are;
//! - [`facts`], [`address`], [`kinds`], [`traffic`]: the plain data the
//!   contract hands plugins, address classification, built-in kinds and
//!   the traffic-changing custom resources Palisade does not model;
//! - [`report`], [`error`]: findings, diagnostics and setup errors.
//!
//! It depends on no WebAssembly runtime and builds for `wasm32-wasip2`,
//! so plugin tests and other embedders can use the real semantics. The
//! `palisade` crate adds the sandbox, the engine, the pipeline and the
//! renderers. Its API is not a stable contract before 1.0.

pub mod address;
pub mod cloud;
pub mod error;
pub mod facts;
pub mod fsutil;
pub mod input;
pub mod kinds;
pub mod model;
pub mod netpol;
pub mod network_plugin;
pub mod parallel;
pub mod proxylog;
pub mod rbac;
pub mod report;
pub mod roles;
pub mod squid;
pub mod traffic;
pub mod traffic_kinds;

pub use error::{Error, ErrorKind};
pub use input::Inputs;
pub use network_plugin::NetworkPlugin;
pub use report::{Diagnostic, Finding, Location, ObjectRef, RuleInfo, Severity};
pub use squid::SquidOptions;
