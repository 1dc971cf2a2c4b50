//! Writing files so that a reader sees the old content or the new one, never
//! a mix: reports and baselines are read by later CI steps, and a truncated
//! JSON report left by a full disk over the previous one would be read as a
//! different (or broken) result.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// The most a configuration file (policy set, exemptions, suite, baseline,
/// plugin component, queries) may hold.
pub(crate) const MAX_CONFIG_BYTES: u64 = 64 << 20;

/// Why [`read_regular`] did not read a file.
#[derive(Debug)]
pub(crate) enum Unread {
    /// Opening or reading failed (it does not exist, a symlink where none
    /// is followed, permissions).
    Io(io::Error),
    /// It is a directory, FIFO, socket or device.
    NotRegular,
    /// It holds more than the cap; its size when known.
    TooLarge(u64),
    /// The caller's check on its metadata refused it, saying why.
    Refused(String),
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::Io(e) => write!(f, "{e}"),
            Unread::NotRegular => f.write_str("not a regular file (a FIFO, socket or device)"),
            Unread::TooLarge(n) => write!(f, "too large ({n} bytes)"),
            Unread::Refused(why) => f.write_str(why),
        }
    }
}

/// Reads a file that must be a regular file of at most `max` bytes: opened
/// `O_NONBLOCK` (a FIFO cannot block the open) and, unless `follow`,
/// `O_NOFOLLOW`; the type, `check` and the size are judged on the open
/// descriptor, so nothing swapped in after a caller's own checks is read.
/// Every reader of untrusted paths goes through it: inputs, squid includes,
/// configuration files, the compile cache.
pub(crate) fn read_regular(
    path: &Path,
    max: u64,
    follow: bool,
    check: impl FnOnce(&fs::Metadata) -> Result<(), String>,
) -> Result<Vec<u8>, Unread> {
    use std::io::Read as _;
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if !follow {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(Unread::Io)?;
    let meta = file.metadata().map_err(Unread::Io)?;
    if !meta.is_file() {
        return Err(Unread::NotRegular);
    }
    check(&meta).map_err(Unread::Refused)?;
    if meta.len() > max {
        return Err(Unread::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Unread::Io)?;
    // A file that grew since, or reports no size (/proc).
    if bytes.len() as u64 > max {
        return Err(Unread::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads a file the user or a repository names as configuration: a regular
/// file of at most `MAX_CONFIG_BYTES` (`read_regular`). `/dev/zero` or
/// a FIFO named as a policy in a pull request's suite is an error, not a
/// hang.
pub fn read_limited(path: &Path) -> io::Result<Vec<u8>> {
    read_regular(path, MAX_CONFIG_BYTES, true, |_| Ok(())).map_err(|e| match e {
        Unread::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidInput, other.to_string()),
    })
}

/// [`read_limited`], as UTF-8 text.
pub fn read_text(path: &Path) -> io::Result<String> {
    String::from_utf8(read_limited(path)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))
}

/// One of the user's configuration files (policy set, exemptions,
/// baseline), as text; `what` names it in the error.
pub(crate) fn read_config(path: &Path, what: &str) -> Result<String, crate::Error> {
    read_text(path).map_err(|e| {
        crate::Error::new(
            crate::ErrorKind::Policy,
            format!("cannot read {what} `{}`: {e}", path.display()),
        )
    })
}

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
