//! A component of another world: it exports `run` instead of the
//! `palisade:policy/plugin` interface, so loading it must fail.

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
    inline: "package test:other@0.1.0; world other { export run: func() -> u32; }",
});

struct Other;

impl Guest for Other {
    fn run() -> u32 {
        42
    }
}

// Component exports exist only on wasm (not valid native symbols).
#[cfg(target_family = "wasm")]
export!(Other);
