//! The compile cache holds native code, so nothing in it runs unless this
//! user wrote it for exactly this component and engine. Each test plants what
//! an attacker with write access to the cache directory (or to its parent)
//! would, then loads a built-in plugin through a fresh engine.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade::Engine;

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn engine(dir: &Path) -> Engine {
    Engine::builder()
        .cache_dir(Some(dir.to_path_buf()))
        .build()
        .unwrap()
}

/// The cache entries (compiled components) in `dir`, sorted.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = listing
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    out.sort();
    out
}

/// Loads `id` into a fresh engine on `dir`; returns the entry it created.
fn cache(dir: &Path, id: &str) -> PathBuf {
    let before = entries(dir);
    assert_eq!(engine(dir).load_builtin(id).unwrap().id(), id);
    let after = entries(dir);
    let new: Vec<&PathBuf> = after.iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1, "{after:?}");
    new[0].clone()
}

#[test]
fn an_entry_copied_from_another_plugin_is_not_run() {
    let dir = fresh_dir("swap");
    std::fs::create_dir_all(&dir).unwrap();
    let deny = cache(&dir, "default-deny");
    let squid = cache(&dir, "squid");
    // Plugin B's valid entry under plugin A's name: loading A must not run
    // B's code (it would silence A).
    std::fs::copy(&squid, &deny).unwrap();
    let plugin = engine(&dir).load_builtin("default-deny").unwrap();
    assert_eq!(plugin.id(), "default-deny");
    assert!(plugin.rules().iter().any(|r| r.id == "NP001"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_edited_entry_with_a_recomputed_checksum_is_not_run() {
    let dir = fresh_dir("forge");
    std::fs::create_dir_all(&dir).unwrap();
    let entry = cache(&dir, "default-deny");
    let mut bytes = std::fs::read(&entry).unwrap();
    // Edit the code, then recompute an unkeyed SHA-256 trailer over it, as
    // anyone could.
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    use sha2::Digest;
    let sum = sha2::Sha256::digest(&bytes[..n - 32]);
    bytes[n - 32..].copy_from_slice(&sum);
    std::fs::write(&entry, &bytes).unwrap();
    let plugin = engine(&dir).load_builtin("default-deny").unwrap();
    assert_eq!(plugin.id(), "default-deny");
    // Rejected and rewritten.
    assert_ne!(std::fs::read(&entry).unwrap(), bytes);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_symlinked_entry_is_not_followed() {
    let dir = fresh_dir("symlink");
    std::fs::create_dir_all(&dir).unwrap();
    let entry = cache(&dir, "default-deny");
    let elsewhere = fresh_dir("symlink-target");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let target = elsewhere.join("entry.cwasm");
    std::fs::rename(&entry, &target).unwrap();
    std::os::unix::fs::symlink(&target, &entry).unwrap();
    engine(&dir).load_builtin("default-deny").unwrap();
    // Not read through the link: compiled again and stored as a regular file.
    assert!(std::fs::symlink_metadata(&entry).unwrap().is_file());
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&elsewhere).unwrap();
}

#[test]
fn a_planted_temporary_file_does_not_redirect_the_write() {
    let dir = fresh_dir("tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let entry = cache(&dir, "default-deny");
    std::fs::remove_file(&entry).unwrap();
    let victim = fresh_dir("victim");
    std::fs::write(&victim, "precious").unwrap();
    // The temporary names a predictable writer would use.
    for name in [
        entry.with_extension(format!("tmp{}", std::process::id())),
        entry.with_extension("tmp"),
    ] {
        std::os::unix::fs::symlink(&victim, name).unwrap();
    }
    engine(&dir).load_builtin("default-deny").unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&entry).unwrap().is_file());
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&victim).unwrap();
}

#[test]
fn a_fifo_entry_does_not_hang_the_run() {
    let dir = fresh_dir("fifo");
    std::fs::create_dir_all(&dir).unwrap();
    let entry = cache(&dir, "default-deny");
    std::fs::remove_file(&entry).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&entry)
        .status()
        .unwrap();
    assert!(made.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.clone();
    std::thread::spawn(move || {
        let _ = tx.send(
            engine(&d)
                .load_builtin("default-deny")
                .map(|p| p.id().to_string()),
        );
    });
    let loaded = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("loading blocked on a FIFO in the cache");
    assert_eq!(loaded.unwrap(), "default-deny");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_others_may_write_is_not_used() {
    let dir = fresh_dir("shared");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let engine = engine(&dir);
    let warning = engine
        .cache_warning()
        .expect("a world-writable cache is refused");
    assert!(warning.contains("mode 777"), "{warning}");
    engine.load_builtin("default-deny").unwrap();
    assert!(entries(&dir).is_empty(), "wrote into a refused cache");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_of_another_user_is_not_used() {
    let dir = fresh_dir("owner");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    // Only root can give a directory away; CI runs as root.
    let status = std::process::Command::new("chown")
        .arg("65534")
        .arg(&dir)
        .status()
        .unwrap();
    if status.success() {
        let engine = engine(&dir);
        let warning = engine.cache_warning().expect("a foreign cache is refused");
        assert!(warning.contains("belongs to user 65534"), "{warning}");
        engine.load_builtin("default-deny").unwrap();
        assert!(entries(&dir).is_empty());
    } else {
        // Not root: the same refusal, through a key file others may read.
        let e = engine(&dir);
        assert!(e.cache_warning().is_none());
        std::fs::set_permissions(
            dir.join("cache.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert!(engine(&dir).cache_warning().is_some());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fresh_cache_is_private_and_speeds_up_the_next_load() {
    let dir = fresh_dir("private").join("nested");
    let entry = cache(&dir, "default-deny");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&entry), 0o600);
    let before = std::fs::read(&entry).unwrap();
    engine(&dir).load_builtin("default-deny").unwrap();
    // A hit: the entry was used as it was, not rewritten.
    assert_eq!(std::fs::read(&entry).unwrap(), before);
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}
