//! Reading files that a user, a repository or a pull request names:
//! regular files only, of bounded size, judged on the open descriptor.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::Path;

/// The most a configuration file (policy set, exemptions, suite, baseline,
/// plugin component, queries) may hold.
pub const MAX_CONFIG_BYTES: u64 = 64 << 20;

/// Why [`read_regular`] did not read a file.
#[derive(Debug)]
pub enum Unread {
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
pub fn read_regular(
    path: &Path,
    max: u64,
    follow: bool,
    check: impl FnOnce(&fs::Metadata) -> Result<(), String>,
) -> Result<Vec<u8>, Unread> {
    use std::io::Read as _;
    let file = open(path, follow).map_err(Unread::Io)?;
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
pub fn read_config(path: &Path, what: &str) -> Result<String, crate::Error> {
    read_text(path).map_err(|e| {
        crate::Error::new(
            crate::ErrorKind::Policy,
            format!("cannot read {what} `{}`: {e}", path.display()),
        )
    })
}

/// Opens a file to stream (an access log of any size): a regular file,
/// judged on the open descriptor; `O_NOFOLLOW` unless `follow`.
pub fn open_regular(path: &Path, follow: bool) -> Result<(fs::File, u64), Unread> {
    let file = open(path, follow).map_err(Unread::Io)?;
    let meta = file.metadata().map_err(Unread::Io)?;
    if !meta.is_file() {
        return Err(Unread::NotRegular);
    }
    Ok((file, meta.len()))
}

/// Opens `path` for reading: `O_NONBLOCK` (a FIFO cannot block the open)
/// and, unless `follow`, `O_NOFOLLOW`.
#[cfg(unix)]
fn open(path: &Path, follow: bool) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if !follow {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
}

/// Opens `path` for reading where there are no open flags to say so (WASI):
/// a symbolic link is refused by a check before the open when it is not
/// followed. Nothing there can swap the file in between: a WASI guest sees
/// only what its host preopened.
#[cfg(not(unix))]
fn open(path: &Path, follow: bool) -> io::Result<fs::File> {
    if !follow && fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a symbolic link, which is not followed here",
        ));
    }
    OpenOptions::new().read(true).open(path)
}
