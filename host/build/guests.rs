//! Builds guest crates of this workspace as WebAssembly components.
//!
//! Shared by `host/build.rs` (the built-in plugins it embeds) and
//! `tests/build.rs` (the hostile guests of the sandbox suite), so that a plain
//! `cargo build` or `cargo test` is all a newcomer runs.
//!
//! The nested cargo uses its own target directory (the outer build holds the
//! lock on the main one) and the `plugin` profile (small, stripped, LTO). When
//! the `wasm32-wasip2` standard library is missing it is added with rustup, as
//! cargo-component does, because rustup's automatic installs are off on the
//! machines this project runs on.

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const GUEST_TARGET: &str = "wasm32-wasip2";

/// Builds `packages` and returns the directory holding their `.wasm` files.
pub(crate) fn build_guests(workspace: &Path, packages: &[&str]) -> Result<PathBuf, String> {
    ensure_target()?;
    let target_dir = guest_target_dir(workspace);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .arg("build")
        .arg("--locked")
        .arg("--target")
        .arg(GUEST_TARGET)
        .arg("--profile")
        .arg("plugin")
        .arg("--target-dir")
        .arg(&target_dir);
    for p in packages {
        cmd.arg("-p").arg(p);
    }
    // The outer build's flags and wrappers are for the host target, not ours.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run cargo to build the guest plugins: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building the guest plugins ({}) for {GUEST_TARGET} failed:\n{}{}",
            packages.join(", "),
            String::from_utf8_lossy(&output.stderr),
            dev_null_hint()
        ));
    }
    Ok(target_dir.join(GUEST_TARGET).join("plugin"))
}

/// Cargo learns about a target by running `rustc -` with stdin on `/dev/null`.
/// On a machine where `/dev/null` has become a regular file (a `> /dev/null`
/// run while it was missing recreates it as one), that file holds whatever was
/// written to it, rustc compiles it, and the build fails with errors about
/// text nobody wrote as Rust. Say so rather than leave that a mystery.
fn dev_null_hint() -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::metadata("/dev/null") {
            Ok(m) if m.file_type().is_char_device() => String::new(),
            _ => "\nnote: /dev/null on this machine is not the null device, so programs that read it \
                  (cargo's rustc probe among them) read what others wrote there; restore it with \
                  `rm -f /dev/null && mknod -m 666 /dev/null c 1 3` (as root)\n"
                .to_string(),
        }
    }
    #[cfg(not(unix))]
    {
        String::new()
    }
}

/// `<workspace>/target/guests`, or beside an overridden `CARGO_TARGET_DIR`.
fn guest_target_dir(workspace: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("guests"),
        None => workspace.join("target").join("guests"),
    }
}

/// Adds the `wasm32-wasip2` target to the active toolchain when its standard
/// library is not installed.
fn ensure_target() -> Result<(), String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run `{rustc} --print sysroot`: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(GUEST_TARGET).exists() {
        return Ok(());
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", GUEST_TARGET]);
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        cmd.args(["--toolchain", &toolchain]);
    }
    let status = cmd.status().map_err(|e| {
        format!("the {GUEST_TARGET} target is not installed and rustup could not be run ({e}); install it with `rustup target add {GUEST_TARGET}`")
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the {GUEST_TARGET} target is not installed and `rustup target add {GUEST_TARGET}` failed"
        ))
    }
}
