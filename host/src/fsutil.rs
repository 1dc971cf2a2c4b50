//! Writing files so that a reader sees the old content or the new one, never
//! a mix: reports and baselines are read by later CI steps, and a truncated
//! JSON report left by a full disk over the previous one would be read as a
//! different (or broken) result.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

pub(crate) use palisade_core::fsutil::{read_config, read_regular};
pub use palisade_core::fsutil::{read_limited, read_text};

/// Attempts at a fresh temporary name before giving up.
const ATTEMPTS: u32 = 16;

/// Replaces the file at `path` with `contents`, atomically.
///
/// The contents go to a new temporary file in the same directory (created
/// exclusively, under an unpredictable name `.NAME.XXXXXXXXXXXXXXXX.tmp`),
/// are flushed and synced to disk, and the temporary file is then renamed
/// over `path`. On any error the temporary file is removed, `path` keeps
/// its old content (or stays absent), and the error is returned.
///
/// If `path` was a symbolic link, the link itself is replaced by a regular
/// file. The new file has default permissions (as a newly created file).
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace_with(path, 0o666, |file| file.write_all(contents))
}

/// [`write_atomic`] with the writing done by `write` and the new file created
/// with `mode` (before the umask): the compile cache writes its entries and
/// key 0600 through it.
pub(crate) fn replace_with(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let (temp, mut file) = create_temp(path, mode)?;
    let result = write(&mut file)
        .and_then(|()| file.flush())
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            // Closed before the rename: some systems refuse to rename an open
            // file.
            drop(file);
            fs::rename(&temp, path)
        });
    match result {
        Ok(()) => {
            sync_directory(&temp);
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Creates a temporary file next to `path` that did not exist before.
fn create_temp(path: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{:016x}.tmp", unpredictable()?));
        let temp = dir.join(temp_name);
        // `create_new` is O_EXCL: a link planted under the name is not
        // followed, and O_NOFOLLOW says so twice.
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// Fills `buf` from the kernel's random source (for secrets and names
/// another process must not guess).
pub(crate) fn random_bytes(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = buf.get_mut(filled..).unwrap_or_default();
        filled += rustix::rand::getrandom(rest, rustix::rand::GetRandomFlags::empty())?;
    }
    Ok(())
}

/// A number another process cannot guess.
fn unpredictable() -> io::Result<u64> {
    let mut bytes = [0u8; 8];
    random_bytes(&mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

/// Syncs the directory holding `file`, so the rename itself survives a crash
/// (best effort: not every system can open a directory).
fn sync_directory(file: &Path) {
    if let Some(dir) = file.parent()
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("palisade-fsutil-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_file_and_leaves_nothing_else() {
        let dir = scratch("ok");
        let path = dir.join("report.json");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        write_atomic(&dir.join("fresh.json"), b"x").unwrap();
        assert_eq!(entries(&dir), ["fresh.json", "report.json"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_write_failing_half_way_keeps_the_old_file_and_no_temporary() {
        let dir = scratch("fail");
        let path = dir.join("report.json");
        fs::write(&path, "{\"old\": true}\n").unwrap();
        let e = replace_with(&path, 0o666, |f| {
            f.write_all(b"{\"tru")?;
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        })
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"old\": true}\n");
        assert_eq!(entries(&dir), ["report.json"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failing_rename_removes_the_temporary() {
        let dir = scratch("rename");
        // A non-empty directory cannot be replaced by a file.
        let path = dir.join("report.json");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), "kept").unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        assert_eq!(entries(&dir), ["report.json"]);
        assert_eq!(fs::read_to_string(path.join("keep")).unwrap(), "kept");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_error_that_creates_nothing() {
        let dir = scratch("missing");
        let e = write_atomic(&dir.join("nope/report.json"), b"new").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(entries(&dir).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporary_names_differ() {
        assert_ne!(unpredictable().unwrap(), unpredictable().unwrap());
    }
}
