//! Builds the hostile guests of the sandbox suite as WebAssembly components
//! and tells the tests where they are.

#[path = "../host/build/guests.rs"]
mod guests;

use std::path::PathBuf;

const GUESTS: &[(&str, &str)] = &[
    ("HOSTILE", "palisade-guest-hostile"),
    ("ESCAPE_FS", "palisade-guest-fs"),
    ("ESCAPE_NET", "palisade-guest-net"),
    ("WRONG_WORLD", "palisade-guest-wrong-world"),
    ("IMPOSTOR", "palisade-guest-impostor"),
    ("FROZEN", "palisade-guest-frozen"),
    ("OLD_CONTRACT", "palisade-guest-old-contract"),
    ("PROXY_CLIENTS_RUST", "palisade-example-proxy-clients"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let workspace = manifest.parent().map(PathBuf::from).unwrap_or_default();
    for dir in [
        "tests/guests",
        "tests/wit-0.2.0",
        "plugins/sdk",
        "plugins/examples/proxy-clients/rust",
        "wit",
        "Cargo.lock",
    ] {
        println!("cargo::rerun-if-changed={}", workspace.join(dir).display());
    }
    println!("cargo::rerun-if-changed=../host/build/guests.rs");
    let packages: Vec<&str> = GUESTS.iter().map(|(_, p)| *p).collect();
    let dir = match guests::build_guests(&workspace, &packages) {
        Ok(dir) => dir,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    };
    for (name, package) in GUESTS {
        let file = dir.join(format!("{}.wasm", package.replace('-', "_")));
        println!("cargo::rustc-env=PALISADE_GUEST_{name}={}", file.display());
    }
}
