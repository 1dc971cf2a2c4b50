//! A plugin that opens a socket: its component imports a WASI interface outside the
//! sandbox allowlist, so loading it must fail and name the import.

#![cfg_attr(
    not(target_family = "wasm"),
    allow(
        dead_code,
        reason = "a guest does its work only when built as a component"
    )
)]

use palisade_sdk::__bindings::exports::palisade::policy::plugin::Guest;
use palisade_sdk::{Finding, PluginError, PluginMetadata};

struct Escape;

impl Guest for Escape {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            id: "escape-net".to_string(),
            version: "0.0.0".to_string(),
            description: "Tries to leave the sandbox".to_string(),
            rules: Vec::new(),
            settings: Vec::new(),
        }
    }

    fn validate_settings(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn evaluate() -> Result<Vec<Finding>, PluginError> {
        std::net::TcpStream::connect("127.0.0.1:9").map_err(|e| PluginError {
            message: e.to_string(),
        })?;
        Ok(Vec::new())
    }
}

// Component exports exist only on wasm (not valid native symbols).
#[cfg(target_family = "wasm")]
palisade_sdk::__bindings::__export_policy_plugin!(Escape with_types_in palisade_sdk::__bindings);
