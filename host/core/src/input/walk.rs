//! Finding and reading input files without leaving the tree the user named.
//!
//! The inputs of a check in CI are a pull request's files: hostile. So:
//!
//! - a symlink inside a named directory is followed only when its target
//!   (resolved) lies inside that directory; one that leaves it, dangles or
//!   loops is a diagnostic, never read (a committed link to
//!   `/proc/self/environ` would print the CI's secrets in code frames);
//! - a directory reached twice (a link to `.` or to an ancestor) is walked
//!   once, and a file reached twice (by links, or named twice) is read once;
//! - only regular files are read, opened with `O_NONBLOCK` and without
//!   following a symlink swapped in after the check, and only up to the size
//!   cap: a FIFO, a device or a file over the cap is a diagnostic.
//!
//! A path named explicitly is the user's choice and is read as named (even a
//! symlink), under the same regular-file and size rules.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::fsutil::Unread;
use crate::report::Diagnostic;

/// Default cap on one input file: larger than any real manifest bundle (the
/// largest CRD bundles are a few MiB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;

/// A file read from disk: its display name, its bytes, and the directory its
/// configuration may read other files from (the root, as the user named it).
#[derive(Debug)]
pub struct ReadFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub root: PathBuf,
    /// Named on the command line (as opposed to found in a directory).
    pub explicit: bool,
    /// A proxy access log: not read here (logs are streamed, whatever
    /// their size), but the path to open, resolved inside the tree.
    pub log: Option<PathBuf>,
}

/// Walks named paths, remembering what it has read.
#[derive(Debug)]
pub struct Walker {
    max_bytes: u64,
    /// (device, inode) of directories walked and files read.
    seen: HashSet<(u64, u64)>,
    /// Files skipped because they were read already, under another name.
    pub repeats: usize,
    /// Entries of named directories not read (`--exclude`).
    exclude: Vec<glob::Pattern>,
    /// The entries left out by `exclude`, as walked.
    pub excluded: Vec<PathBuf>,
    /// Read every file named from now on as an access log.
    pub logs_only: bool,
}

/// Whether a file name is one the walk reads in a directory.
fn wanted(path: &Path) -> bool {
    let name = path.to_string_lossy();
    super::is_squid_config(&name)
        || super::is_access_log(&name)
        || path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

impl Walker {
    pub fn new(max_bytes: u64, exclude: Vec<glob::Pattern>) -> Walker {
        Walker {
            max_bytes,
            seen: HashSet::new(),
            repeats: 0,
            exclude,
            excluded: Vec::new(),
            logs_only: false,
        }
    }

    /// Whether an entry found under `root` is excluded: a pattern with a
    /// `/` matches its path relative to the directory named (`*` stays
    /// within one directory, `**` crosses them), one without matches any
    /// file or directory name.
    fn excluded(&self, root: &Path, path: &Path) -> bool {
        let relative = path.strip_prefix(root).unwrap_or(path);
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        self.exclude.iter().any(|p| {
            if p.as_str().contains('/') {
                p.matches_path_with(relative, options)
            } else {
                path.file_name()
                    .is_some_and(|n| p.matches_with(&n.to_string_lossy(), options))
            }
        })
    }

    /// Reads `path` (a file, or a directory searched recursively, hidden
    /// entries skipped) into `out`; problems go to `diagnostics`.
    pub fn read(
        &mut self,
        path: &Path,
        out: &mut Vec<ReadFile>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let shown = path.display();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                diagnostics.push(Diagnostic::input(
                    format!("cannot read `{shown}`: {e}"),
                    None,
                ));
                return;
            }
        };
        // The root as named (what included files are shown relative to)
        // and canonical (what containment is checked against).
        let named_root = if meta.is_dir() {
            path.to_path_buf()
        } else {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let root = std::fs::canonicalize(if named_root.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &named_root
        });
        let root = match root {
            Ok(r) => r,
            Err(e) => {
                diagnostics.push(Diagnostic::input(
                    format!("cannot read `{shown}`: {e}"),
                    None,
                ));
                return;
            }
        };
        let mut walk = Walk {
            walker: self,
            root,
            named_root,
            out,
            diagnostics,
        };
        if meta.is_dir() {
            walk.dir(path, &meta);
        } else {
            walk.file(path, &meta, true);
        }
    }
}

struct Walk<'a> {
    walker: &'a mut Walker,
    root: PathBuf,
    named_root: PathBuf,
    out: &'a mut Vec<ReadFile>,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Walk<'_> {
    fn problem(&mut self, message: String) {
        self.diagnostics.push(Diagnostic::input(message, None));
    }

    fn dir(&mut self, path: &Path, meta: &std::fs::Metadata) {
        if !self.walker.seen.insert(identity(path, meta)) {
            return; // walked already: a link back to an ancestor, or named twice
        }
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                self.problem(format!("cannot read directory `{}`: {e}", path.display()));
                return;
            }
        };
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if self.walker.excluded(&self.named_root, &entry) {
                self.walker.excluded.push(entry);
            } else {
                self.entry(&entry);
            }
        }
    }

    /// An entry found in a directory.
    fn entry(&mut self, path: &Path) {
        let shown = path.display();
        let lmeta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => return self.problem(format!("cannot read `{shown}`: {e}")),
        };
        let meta = if lmeta.file_type().is_symlink() {
            if !wanted(path) && !std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
                return; // a link to a file the walk would not read anyway
            }
            let target = match std::fs::canonicalize(path) {
                Ok(t) => t,
                Err(e) => {
                    return self.problem(format!(
                        "cannot follow symlink `{shown}`: {e} (a dangling link, or a loop)"
                    ));
                }
            };
            if !target.starts_with(&self.root) {
                return self.problem(format!(
                    "symlink `{shown}` leads outside `{}`, the directory being checked: not followed (name its target as an input to check it)",
                    if self.named_root.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        &self.named_root
                    }
                    .display()
                ));
            }
            match std::fs::metadata(&target) {
                Ok(m) => m,
                Err(e) => return self.problem(format!("cannot read `{shown}`: {e}")),
            }
        } else {
            lmeta
        };
        if meta.is_dir() {
            self.dir(path, &meta);
        } else if wanted(path) {
            self.file(path, &meta, false);
        }
    }

    /// A file to read: named by the user (`explicit`), or found by the walk.
    fn file(&mut self, path: &Path, meta: &std::fs::Metadata, explicit: bool) {
        let shown = path.display().to_string();
        if !meta.is_file() {
            return self.problem(format!(
                "`{shown}` is not a regular file (a FIFO, socket or device): not read"
            ));
        }
        if !self.walker.seen.insert(identity(path, meta)) {
            self.walker.repeats += 1;
            return; // read already, under another name
        }
        if self.walker.logs_only || super::is_access_log(&shown) {
            // Streamed later: the path to open, the walk's links resolved
            // (a found entry is opened at its checked target, without
            // following links).
            let open = if explicit {
                path.to_path_buf()
            } else {
                match std::fs::canonicalize(path) {
                    Ok(t) if t.starts_with(&self.root) => t,
                    _ => return self.problem(format!("cannot read `{shown}`: it moved")),
                }
            };
            self.out.push(ReadFile {
                name: shown,
                bytes: Vec::new(),
                root: self.named_root.clone(),
                explicit,
                log: Some(open),
            });
            return;
        }
        let max = self.walker.max_bytes;
        // Found entries had their links resolved by the walk: a link swapped
        // in since is refused. A path the user named is read as named.
        let bytes = match crate::fsutil::read_regular(path, max, explicit, |_| Ok(())) {
            Ok(b) => b,
            Err(Unread::NotRegular) => {
                return self.problem(format!("`{shown}` is not a regular file: not read"));
            }
            Err(Unread::TooLarge(n)) => {
                return self.problem(format!(
                    "`{shown}` is {n} bytes, more than the input size cap of {max} bytes (--max-input-bytes)"
                ));
            }
            Err(e) => return self.problem(format!("cannot read `{shown}`: {e}")),
        };
        self.out.push(ReadFile {
            name: shown,
            bytes,
            root: self.named_root.clone(),
            explicit,
            log: None,
        });
    }
}

/// What makes a file or directory the same one under another name: device
/// and inode.
#[cfg(unix)]
fn identity(_path: &Path, meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    (meta.dev(), meta.ino())
}

/// Where there are no inode numbers (WASI): the canonical path, hashed.
#[cfg(not(unix))]
fn identity(path: &Path, _meta: &std::fs::Metadata) -> (u64, u64) {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .hash(&mut h);
    (0, h.finish())
}
