//! The on-disk cache of compiled plugins: native code, so trusted storage.
//!
//! Compiling a component with Cranelift takes tens to hundreds of
//! milliseconds; deserializing it takes well under one. Deserializing runs no
//! check on the machine code: whoever can write an entry that Palisade loads
//! runs native code outside the sandbox. So an entry is loaded only when all
//! of these hold (host/ARCHITECTURE.md, "Compile cache", states the threat
//! model):
//!
//! - the directory and the entry belong to the user running Palisade and are
//!   writable by nobody else (else: a warning, and compiling in memory);
//! - the entry is a regular file of bounded size, opened without following
//!   symlinks and without blocking (a FIFO or device is never read);
//! - its trailer is an HMAC-SHA256, under a secret key kept in the cache
//!   directory (mode 0600), over the entry's whole identity — the
//!   component's SHA-256, the engine's compatibility hash, Palisade's version
//!   — and the artifact. An artifact moved under another component's name,
//!   edited, or written by anyone without the key is rejected and rewritten.
//!
//! Writes go through [`crate::fsutil::replace_with`]: a fresh, randomly
//! named file created with `O_EXCL` and `O_NOFOLLOW`, mode 0600, renamed
//! over the entry; a failed write removes its temporary file.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Entries larger than this are not read: a compiled Rust plugin is a few
/// MiB, a Python or JavaScript one 40-45 MiB.
pub(crate) const MAX_ENTRY_BYTES: u64 = 256 << 20;
/// What the entries may take together. Each rebuild of a Python or
/// JavaScript plugin during development adds a 40 MiB entry; past this, the
/// least recently used entries are removed (a use refreshes an entry's
/// modification time).
pub(crate) const MAX_CACHE_BYTES: u64 = 1 << 30;
/// What an entry starts with; changes whenever the layout does.
const MAGIC: &[u8; 16] = b"palisade-cwasm2\0";
const TAG_BYTES: usize = 32;
const KEY_FILE: &str = "cache.key";
/// One SHA-256 block: HMAC uses such a key as it is.
const KEY_BYTES: usize = 64;

/// An opened cache directory: checked, with its key.
#[derive(Debug)]
pub(crate) struct DiskCache {
    dir: PathBuf,
    key: [u8; KEY_BYTES],
}

/// What identifies one entry: the component and the engine that compiled it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryId<'a> {
    /// SHA-256 of the component's bytes.
    pub(crate) component: &'a [u8; 32],
    /// The engine's compatibility hash (configuration and wasmtime version),
    /// folded to 32 bytes.
    pub(crate) engine: &'a [u8; 32],
}

impl EntryId<'_> {
    fn file_name(&self) -> String {
        format!("{}-{}.cwasm", hex(self.component), &hex(self.engine)[..16])
    }
}

impl DiskCache {
    /// Opens (creating it mode 0700 when missing) a cache directory. Refuses,
    /// saying why, a directory that is not ours or that others may write,
    /// and a key file that is not ours, not private or not a regular file.
    pub(crate) fn open(dir: &Path) -> Result<DiskCache, String> {
        let shown = dir.display();
        if let Err(e) = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
        {
            return Err(format!("cannot create cache directory `{shown}`: {e}"));
        }
        let meta = std::fs::metadata(dir)
            .map_err(|e| format!("cannot read cache directory `{shown}`: {e}"))?;
        if !meta.is_dir() {
            return Err(format!("cache directory `{shown}` is not a directory"));
        }
        trusted(&meta, 0o022).map_err(|why| format!("cache directory `{shown}` {why}"))?;
        let key = read_or_create_key(&dir.join(KEY_FILE))?;
        Ok(DiskCache {
            dir: dir.to_path_buf(),
            key,
        })
    }

    /// The artifact stored for `id`, when there is one that passes every
    /// check; `None` otherwise (a miss: the caller compiles and stores).
    pub(crate) fn get(&self, id: EntryId<'_>) -> Option<Vec<u8>> {
        let data = read_private(&self.dir.join(id.file_name()), 0o022, MAX_ENTRY_BYTES).ok()?;
        let body = data.strip_prefix(MAGIC)?;
        let split = body.len().checked_sub(TAG_BYTES)?;
        let (artifact, tag) = body.split_at(split);
        self.mac(id, artifact).verify_slice(tag).ok()?;
        // Recently used: the last to be evicted. The entry itself, never a
        // symlink's target.
        let _ = rustix::fs::utimensat(
            rustix::fs::CWD,
            self.dir.join(id.file_name()),
            &rustix::fs::Timestamps {
                last_access: NOW,
                last_modification: NOW,
            },
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        );
        Some(artifact.to_vec())
    }

    /// Stores `artifact` for `id`. Failures are not errors (the next run
    /// compiles again); the temporary file never outlives this call.
    pub(crate) fn put(&self, id: EntryId<'_>, artifact: &[u8]) {
        let tag = self.mac(id, artifact).finalize().into_bytes();
        let _ = crate::fsutil::replace_with(&self.dir.join(id.file_name()), 0o600, |f| {
            f.write_all(MAGIC)?;
            f.write_all(artifact)?;
            f.write_all(&tag)
        });
        self.evict(MAX_CACHE_BYTES);
    }

    /// Removes the least recently used entries until they take at most
    /// `budget` bytes together. Only files named as entries are counted or
    /// removed (the key and anything else in the directory stay).
    fn evict(&self, budget: u64) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = dir
            .filter_map(|e| {
                let e = e.ok()?;
                if !is_entry_name(e.file_name().to_str()?) {
                    return None;
                }
                let meta = e.metadata().ok()?;
                (meta.is_file()).then_some(())?;
                Some((meta.modified().ok()?, meta.len(), e.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
        entries.sort();
        for (_, len, path) in entries {
            if total <= budget {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }

    fn mac(&self, id: EntryId<'_>, artifact: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&self.key.into());
        mac.update(MAGIC);
        mac.update(id.component);
        mac.update(id.engine);
        let version = env!("CARGO_PKG_VERSION").as_bytes();
        mac.update(&(version.len() as u64).to_le_bytes());
        mac.update(version);
        mac.update(&(artifact.len() as u64).to_le_bytes());
        mac.update(artifact);
        mac
    }
}

/// `rustix::fs::Timestamps` for "now" (`UTIME_NOW`).
const NOW: rustix::fs::Timespec = rustix::fs::Timespec {
    tv_sec: 0,
    tv_nsec: rustix::fs::UTIME_NOW,
};

/// Whether `name` is an entry's file name (`EntryId::file_name`).
fn is_entry_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".cwasm") else {
        return false;
    };
    let hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    matches!(stem.split_once('-'), Some((c, e)) if c.len() == 64 && e.len() == 16 && hex(c) && hex(e))
}

/// Whether metadata describes something the current user owns and that
/// nobody in `forbidden_mode` bits may touch.
fn trusted(meta: &std::fs::Metadata, forbidden_mode: u32) -> Result<(), String> {
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "belongs to user {} and Palisade runs as user {me}",
            meta.uid()
        ));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & forbidden_mode != 0 {
        return Err(format!(
            "has mode {mode:03o}: others may write it (it must be {:03o} at most)",
            0o777 & !forbidden_mode
        ));
    }
    Ok(())
}

/// Reads a regular file that the current user owns, that no `forbidden_mode`
/// bit allows, no larger than `max`, without following a symlink at `path`
/// and without blocking on a FIFO.
fn read_private(path: &Path, forbidden_mode: u32, max: u64) -> Result<Vec<u8>, String> {
    crate::fsutil::read_regular(path, max, false, |meta| trusted(meta, forbidden_mode))
        .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// The cache's secret key: read (it must be ours, private, regular), or made
/// from the system's random source on first use.
fn read_or_create_key(path: &Path) -> Result<[u8; KEY_BYTES], String> {
    match read_private(path, 0o077, KEY_BYTES as u64) {
        Ok(bytes) => {
            return bytes
                .try_into()
                .map_err(|_| format!("cache key `{}` is damaged", path.display()));
        }
        Err(why) if path.symlink_metadata().is_ok() => return Err(why),
        Err(_) => {}
    }
    let mut key = [0u8; KEY_BYTES];
    crate::fsutil::random_bytes(&mut key).map_err(|e| format!("cannot make a cache key: {e}"))?;
    crate::fsutil::replace_with(path, 0o600, |f| f.write_all(&key))
        .map_err(|e| format!("cannot write cache key `{}`: {e}", path.display()))?;
    // Another process may have won the race: use whatever is there now.
    let bytes = read_private(path, 0o077, KEY_BYTES as u64)?;
    bytes
        .try_into()
        .map_err(|_| format!("cache key `{}` is damaged", path.display()))
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("palisade-cache-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn entries_are_bound_to_their_identity() {
        let dir = temp_dir("bind");
        let cache = DiskCache::open(&dir).unwrap();
        let (a, b, engine) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let id_a = EntryId {
            component: &a,
            engine: &engine,
        };
        let id_b = EntryId {
            component: &b,
            engine: &engine,
        };
        cache.put(id_a, b"artifact of a");
        assert_eq!(cache.get(id_a).as_deref(), Some(&b"artifact of a"[..]));
        // Moved under another component's name: rejected.
        std::fs::copy(dir.join(id_a.file_name()), dir.join(id_b.file_name())).unwrap();
        assert_eq!(cache.get(id_b), None);
        // Another engine: a different entry.
        let other_engine = [4u8; 32];
        let id_other = EntryId {
            component: &a,
            engine: &other_engine,
        };
        assert_eq!(cache.get(id_other), None);
        // A fresh key (another cache) does not accept our entry.
        std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
        let rekeyed = DiskCache::open(&dir).unwrap();
        assert_eq!(rekeyed.get(id_a), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_least_recently_used_entries_go_first_and_nothing_else() {
        let dir = temp_dir("evict");
        let cache = DiskCache::open(&dir).unwrap();
        let engine = [9u8; 32];
        let components: Vec<[u8; 32]> = (1..=3).map(|i| [i; 32]).collect();
        let ids: Vec<EntryId<'_>> = components
            .iter()
            .map(|c| EntryId {
                component: c,
                engine: &engine,
            })
            .collect();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for (n, id) in ids.iter().enumerate() {
            cache.put(*id, &[0u8; 1000]);
            // Written in order, an hour apart.
            let file = std::fs::File::options()
                .append(true)
                .open(dir.join(id.file_name()))
                .unwrap();
            file.set_modified(old + std::time::Duration::from_secs(60 * n as u64))
                .unwrap();
        }
        std::fs::write(dir.join("notes.txt"), [0u8; 5000]).unwrap();
        // The oldest was used just now: the second oldest goes.
        assert!(cache.get(ids[0]).is_some());
        let entry_len = std::fs::metadata(dir.join(ids[0].file_name()))
            .unwrap()
            .len();
        cache.evict(2 * entry_len);
        let left: Vec<bool> = ids
            .iter()
            .map(|id| dir.join(id.file_name()).exists())
            .collect();
        assert_eq!(left, [true, false, true]);
        assert!(dir.join("notes.txt").exists() && dir.join(KEY_FILE).exists());
        assert!(is_entry_name(&ids[0].file_name()));
        assert!(!is_entry_name("cache.key") && !is_entry_name("x-y.cwasm"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_directory_is_private_and_refused_when_others_may_write() {
        let dir = temp_dir("mode");
        DiskCache::open(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let key_mode = std::fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(key_mode, 0o600);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = DiskCache::open(&dir).unwrap_err();
        assert!(err.contains("mode 777"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
