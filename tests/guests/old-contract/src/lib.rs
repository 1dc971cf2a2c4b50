//! A plugin built against `palisade:policy@0.1.0` (a stand-in with its
//! export's name and version): the host speaks 0.2 and must refuse it at
//! load, naming both versions.

#![cfg_attr(
    not(target_family = "wasm"),
    allow(
        dead_code,
        reason = "a guest does its work only when built as a component"
    )
)]
#![allow(
    unsafe_code,
    reason = "wit-bindgen export glue generated in this crate"
)]

wit_bindgen::generate!({
    inline: "package palisade:policy@0.1.0; interface plugin { metadata: func() -> string; } world policy-plugin { export plugin; }",
});

struct Old;

impl exports::palisade::policy::plugin::Guest for Old {
    fn metadata() -> String {
        "old".to_string()
    }
}

// Component exports exist only on wasm (not valid native symbols).
#[cfg(target_family = "wasm")]
export!(Old);
