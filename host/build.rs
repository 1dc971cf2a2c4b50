//! Builds the built-in plugins as WebAssembly components so that the library
//! can embed them (`include_bytes!`) and `palisade check` needs nothing
//! installed.

#[path = "build/guests.rs"]
mod guests;

use std::path::PathBuf;

/// Built-in plugins: (package, component file name).
const BUILTIN: &[(&str, &str)] = &[
    (
        "palisade-plugin-default-deny",
        "palisade_plugin_default_deny.wasm",
    ),
    (
        "palisade-plugin-proxy-egress",
        "palisade_plugin_proxy_egress.wasm",
    ),
    (
        "palisade-plugin-rbac-control-paths",
        "palisade_plugin_rbac_control_paths.wasm",
    ),
    ("palisade-plugin-squid", "palisade_plugin_squid.wasm"),
    (
        "palisade-plugin-private-subnet",
        "palisade_plugin_private_subnet.wasm",
    ),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let workspace = manifest.parent().map(PathBuf::from).unwrap_or_default();
    for dir in ["plugins", "wit", "Cargo.lock"] {
        println!("cargo::rerun-if-changed={}", workspace.join(dir).display());
    }
    println!("cargo::rerun-if-changed=build/guests.rs");

    let packages: Vec<&str> = BUILTIN.iter().map(|(p, _)| *p).collect();
    let dir = match guests::build_guests(&workspace, &packages) {
        Ok(dir) => dir,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let mut table = String::from(
        "/// Built-in plugins: (id, component bytes).\npub(crate) const BUILTIN_PLUGINS: &[(&str, &[u8])] = &[\n",
    );
    for (package, file) in BUILTIN {
        let id = package.trim_start_matches("palisade-plugin-");
        let path = dir.join(file);
        table.push_str(&format!(
            "    ({id:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    table.push_str("];\n");
    if let Err(e) = std::fs::write(out.join("builtin_plugins.rs"), table) {
        eprintln!("error: cannot write builtin_plugins.rs: {e}");
        std::process::exit(1);
    }
}
