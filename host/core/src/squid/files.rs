//! Which host files a squid configuration may make Palisade read, and how
//! they are read.
//!
//! Configurations come from pull requests under review, so `include` and
//! `hosts_file` are hostile: they may name `/proc/self/environ`, climb out
//! of the repository with `..` or a symlink, or name a FIFO that blocks a
//! reader forever. Contents of a file that is read can surface in
//! diagnostics and code frames. So a file is read only when its canonical
//! path (symlinks resolved) lies inside a root directory, it is a regular
//! file, and it is not larger than [`MAX_FILE_BYTES`].

use std::path::{Component, Path, PathBuf};

use crate::input::SourceFile;

/// Largest file `include` or `hosts_file` may make Palisade read: 16 MiB.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Which host files a configuration may make Palisade read (through
/// `include` and `hosts_file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Files {
    /// None: a configuration embedded in a ConfigMap (its text is not a file
    /// of the tree, and the paths it names are paths of the proxy's pod).
    None,
    /// Regular files whose canonical path lies inside `root`. Relative paths
    /// are resolved from the directory of the file that names them.
    Confined {
        /// The directory, as named (it is canonicalized when the
        /// configuration is parsed; names of included files are shown
        /// relative to it as named).
        root: PathBuf,
    },
}

impl Files {
    /// What an input file may read: inside the directory the user named
    /// (for a file named alone, its own directory); nothing for texts
    /// (standard input, library texts).
    pub fn of(file: &SourceFile) -> Files {
        match &file.root {
            Some(root) => Files::Confined { root: root.clone() },
            None => Files::None,
        }
    }
}

/// The directory of a file as named (`""` when the name has no directory:
/// the current one).
pub fn parent_dir(file: &Path) -> PathBuf {
    file.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A root directory, as named and canonical.
#[derive(Debug, Clone)]
pub struct Root {
    named: PathBuf,
    canonical: PathBuf,
    /// Absolute but with symlinks kept: absolute paths written through a
    /// symlinked prefix (`/tmp` on some systems) are inside too.
    absolute: PathBuf,
}

/// Why a path named by `include` or `hosts_file` is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It resolves (lexically, or through a symlink) outside the root.
    Outside,
    /// It does not resolve (it does not exist, or a directory on the way
    /// cannot be searched).
    Unresolved(String),
    /// It is not a regular file (a directory, FIFO, socket or device).
    NotRegular,
    /// It is larger than the limit.
    TooLarge,
    /// Reading failed, or the text is not UTF-8.
    Unreadable(String),
}

impl Refusal {
    /// The reason, to follow "`include x`: ".
    pub fn describe(&self, root: &Root) -> String {
        match self {
            Refusal::Outside => format!(
                "the file is outside `{}`, the directory of the configuration: Palisade reads no file outside it",
                root.named_display()
            ),
            Refusal::Unresolved(e) => format!("cannot read the file: {e}"),
            Refusal::NotRegular => "not a regular file: Palisade reads only regular files".into(),
            Refusal::TooLarge => {
                format!("the file is larger than {} MiB", MAX_FILE_BYTES >> 20)
            }
            Refusal::Unreadable(e) => format!("cannot read the file: {e}"),
        }
    }
}

impl Root {
    /// Canonicalizes `named` (`""` is the current directory).
    pub fn new(named: &Path) -> Result<Root, String> {
        let dir = if named.as_os_str().is_empty() {
            Path::new(".")
        } else {
            named
        };
        let cannot =
            |e: std::io::Error| format!("cannot resolve the directory `{}`: {e}", named.display());
        let canonical = std::fs::canonicalize(dir).map_err(cannot)?;
        let absolute = normalize(&std::path::absolute(dir).map_err(cannot)?);
        Ok(Root {
            named: named.to_path_buf(),
            canonical,
            absolute,
        })
    }

    fn named_display(&self) -> String {
        if self.named.as_os_str().is_empty() {
            ".".into()
        } else {
            self.named.display().to_string()
        }
    }

    /// Whether a canonical path lies inside the root.
    pub fn contains(&self, canonical: &Path) -> bool {
        canonical.starts_with(&self.canonical)
    }

    /// Resolves `target` (absolute, or relative to the canonical directory
    /// `dir`) to a canonical path inside the root.
    ///
    /// A path that leaves the root lexically is refused before the file
    /// system is asked anything, so that error messages do not tell whether
    /// host paths outside the tree exist.
    pub fn resolve(&self, dir: &Path, target: &str) -> Result<PathBuf, Refusal> {
        let joined = dir.join(target);
        let lexical = normalize(&joined);
        if !(lexical.starts_with(&self.canonical) || lexical.starts_with(&self.absolute)) {
            return Err(Refusal::Outside);
        }
        let canonical =
            std::fs::canonicalize(&joined).map_err(|e| Refusal::Unresolved(e.to_string()))?;
        if !self.contains(&canonical) {
            return Err(Refusal::Outside);
        }
        Ok(canonical)
    }

    /// How a canonical path inside the root is shown: relative to the root
    /// as it was named (so `proxy/conf.d/a.conf`, not an absolute path).
    pub fn display(&self, canonical: &Path) -> String {
        match canonical.strip_prefix(&self.canonical) {
            Ok(rel) => self.named.join(rel).display().to_string(),
            Err(_) => canonical.display().to_string(),
        }
    }
}

/// Removes `.` and folds `..` without asking the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Reads a regular file of at most `max` bytes as UTF-8 text, without
/// following a final symlink ([`crate::fsutil::read_regular`]).
pub fn read_regular(path: &Path, max: u64) -> Result<String, Refusal> {
    use crate::fsutil::Unread;
    let bytes = crate::fsutil::read_regular(path, max, false, |_| Ok(())).map_err(|e| match e {
        Unread::NotRegular => Refusal::NotRegular,
        Unread::TooLarge(_) => Refusal::TooLarge,
        Unread::Io(e) => Refusal::Unreadable(e.to_string()),
        Unread::Refused(why) => Refusal::Unreadable(why),
    })?;
    String::from_utf8(bytes).map_err(|_| Refusal::Unreadable("it is not UTF-8 text".into()))
}

/// Most directory entries the `include` patterns of one configuration may
/// look at, all patterns counted.
pub const MAX_GLOB_ENTRIES: usize = 100_000;
/// Most `*` in one name of an `include` pattern.
const MAX_STARS: usize = 8;

/// The files an `include` pattern names, as glob(3) gives them to squid:
/// sorted byte-wise (squid runs in the C locale), `*` and `?` not matching a
/// leading dot, and each one resolved as [`Root::resolve`] resolves a plain
/// path (so a match that is a symlink out of the root is refused, not
/// read). Directories named by the pattern are read only inside the root.
pub fn glob(
    root: &Root,
    dir: &Path,
    pattern: &str,
    seen_entries: &mut usize,
) -> Result<Vec<PathBuf>, Refusal> {
    let lexical = normalize(&dir.join(pattern));
    if !(lexical.starts_with(&root.canonical) || lexical.starts_with(&root.absolute)) {
        return Err(Refusal::Outside);
    }
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    // Directories reached so far (canonical, inside the root), each with
    // the path as it will be shown to `Root::resolve`.
    let mut frontier: Vec<PathBuf> = vec![PathBuf::new()];
    let components: Vec<Component<'_>> = lexical.components().collect();
    for (i, c) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        let Component::Normal(name) = c else {
            for p in &mut frontier {
                p.push(c.as_os_str());
            }
            continue;
        };
        let name = name.to_string_lossy();
        if !name.contains(['*', '?', '[']) {
            for p in &mut frontier {
                p.push(name.as_ref());
            }
            continue;
        }
        // The matcher backtracks on `*`: a name component of many stars
        // against long file names would cost exponential time.
        if name.matches('*').count() > MAX_STARS {
            return Err(Refusal::Unresolved(format!(
                "the pattern has more than {MAX_STARS} `*` in one name"
            )));
        }
        let matcher = glob::Pattern::new(&name)
            .map_err(|e| Refusal::Unresolved(format!("invalid pattern: {e}")))?;
        let mut next = Vec::new();
        for p in &frontier {
            // Only directories inside the root are listed.
            let Ok(canonical) = std::fs::canonicalize(p) else {
                continue;
            };
            if !root.contains(&canonical) {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&canonical) else {
                continue;
            };
            for e in entries.flatten() {
                *seen_entries += 1;
                if *seen_entries > MAX_GLOB_ENTRIES {
                    return Err(Refusal::Unresolved(format!(
                        "the configuration's `include` patterns look at more than {MAX_GLOB_ENTRIES} directory entries"
                    )));
                }
                let file_name = e.file_name();
                let Some(s) = file_name.to_str() else {
                    continue;
                };
                if matcher.matches_with(s, options) {
                    let candidate = p.join(s);
                    // Intermediate components must be directories.
                    if last || candidate.is_dir() {
                        next.push(candidate);
                    }
                }
            }
        }
        frontier = next;
    }
    // glob(3) sorts the names it returns (by the whole path as matched):
    // the order of the names decides, not where symlinks lead.
    frontier.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    let mut paths: Vec<PathBuf> = Vec::new();
    for p in frontier {
        // Anything that resolves outside the root (a symlinked match) is
        // refused as a plain path would be; matches that vanished are
        // skipped.
        match root.resolve(Path::new("/"), &p.to_string_lossy()) {
            Ok(canonical) => paths.push(canonical),
            Err(Refusal::Unresolved(_)) => {}
            Err(r) => return Err(r),
        }
    }
    Ok(paths)
}
