//! Palisade's test harness: shared helpers for the suites in `tests/tests/`.
//!
//! - `sandbox.rs`: hostile guest plugins (built by `build.rs` from
//!   `tests/guests/`) end within their limits with the right typed error.
//! - `fixtures.rs`: every built-in rule's pass and fail fixtures under
//!   `tests/fixtures/rules/<plugin>/<RULE>/`, with insta snapshots of the report.
//! - `inputs.rs`: malformed and adversarial inputs give positioned diagnostics
//!   and never hide the rest of the input.
//! - `fuzz.rs`: structure-aware property tests of every parser of untrusted
//!   text (YAML with positions, squid, policy sets, exemptions, suites),
//!   bounded by `PALISADE_FUZZ_CASES`.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers abort the test on setup failure"
)]

pub mod schema;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use palisade::{Engine, Report};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Paths of the hostile guest components.
pub mod guests {
    /// Misbehaves as `settings.behaviour` says.
    pub const HOSTILE: &str = env!("PALISADE_GUEST_HOSTILE");
    /// Imports a WASI filesystem interface.
    pub const ESCAPE_FS: &str = env!("PALISADE_GUEST_ESCAPE_FS");
    /// Imports a WASI sockets interface.
    pub const ESCAPE_NET: &str = env!("PALISADE_GUEST_ESCAPE_NET");
    /// A component of another world.
    pub const WRONG_WORLD: &str = env!("PALISADE_GUEST_WRONG_WORLD");
    /// Claims the metadata patched into its bytes (see `impostor`).
    pub const IMPOSTOR: &str = env!("PALISADE_GUEST_IMPOSTOR");
    /// Built against the frozen `palisade:policy@0.2.0` (`tests/wit-0.2.0`).
    pub const FROZEN: &str = env!("PALISADE_GUEST_FROZEN");
    /// Exports `palisade:policy/plugin@0.1.0`, a contract this host no
    /// longer speaks.
    pub const OLD_CONTRACT: &str = env!("PALISADE_GUEST_OLD_CONTRACT");
    /// `plugins/examples/proxy-clients/rust`, the Rust third of the
    /// three-language example.
    pub const PROXY_CLIENTS_RUST: &str = env!("PALISADE_GUEST_PROXY_CLIENTS_RUST");
}

/// The fuel of [`engine`]: enough for every built-in plugin on every
/// fixture, small enough that an endless loop ends in well under a second.
pub const TEST_FUEL: u64 = 400_000_000;

/// One engine per test binary (compiled plugins are shared), with short
/// limits so hostile guests end quickly. Fuel decides; the wall-clock
/// backstop is far out of reach, so no result depends on machine speed.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::builder()
            .fuel(TEST_FUEL)
            .timeout(Duration::from_secs(60))
            .memory_limit(64 << 20)
            .max_findings(1_000)
            .max_output_bytes(1 << 20)
            .build()
            .unwrap_or_else(|e| panic!("engine: {e}"))
    })
}

/// Replaces the workspace path in rendered output so snapshots are portable.
pub fn portable(text: &str) -> String {
    text.replace(&format!("{}/", workspace().display()), "")
}

/// The rule IDs of a report's findings, in report order.
pub fn rules(report: &Report) -> Vec<&str> {
    report.findings.iter().map(|f| f.rule.as_str()).collect()
}
