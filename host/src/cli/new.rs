//! `palisade new rule NAME [DIR] --lang rust|python|js`: a plugin project
//! that builds and passes its own suite as generated. The language's SDK is
//! written into the project with the contract it speaks, so the project
//! builds with its registry's tools alone (cargo, pip, npm), wherever it is
//! put.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};

use super::{Status, print};

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    #[command(subcommand)]
    what: NewCommand,
}

#[derive(Debug, Subcommand)]
enum NewCommand {
    /// A plugin project with one example rule, a suite with a pass and a
    /// fail fixture, a build script and a README
    Rule(RuleArgs),
}

#[derive(Debug, Args)]
struct RuleArgs {
    /// The plugin's name: lower case letters, digits and dashes (`team-label`)
    name: String,
    /// Where to write the project (default: a directory named NAME); it must
    /// not exist or be empty
    dir: Option<PathBuf>,
    /// The language of the plugin
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    lang: Lang,
    /// The example rule's ID (default: the name's initials and 001, `TL001`)
    #[arg(long)]
    id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    Rust,
    Python,
    Js,
}

pub(crate) fn run(args: NewArgs) -> anyhow::Result<Status> {
    match args.what {
        NewCommand::Rule(a) => rule(a),
    }
}

/// A project's files: (path, template). Templates say `{{name}}`, `{{id}}`,
/// `{{crate}}`, `{{wasm}}` (where the build puts the component) and
/// `{{contract}}`.
type Files = &'static [(&'static str, &'static str)];

/// What every project has: a suite with a pass and a fail case.
const SHARED: Files = &[
    (
        "suite.yaml",
        include_str!("../../templates/shared/suite.yaml.in"),
    ),
    (
        "pass-labelled.yaml",
        include_str!("../../templates/shared/pass-labelled.yaml.in"),
    ),
    (
        "fail-unlabelled.yaml",
        include_str!("../../templates/shared/fail-unlabelled.yaml.in"),
    ),
];

/// A Rust plugin project: cargo and crates.io build it.
const RUST: Files = &[
    (
        "Cargo.toml",
        include_str!("../../templates/rust/Cargo.toml.in"),
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/rust/src/lib.rs.in"),
    ),
    ("build.sh", include_str!("../../templates/rust/build.sh.in")),
    (
        "README.md",
        include_str!("../../templates/rust/README.md.in"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/rust/gitignore.in"),
    ),
    (
        "vendor/palisade-sdk/Cargo.toml",
        include_str!("../../templates/rust/sdk-Cargo.toml.in"),
    ),
    // The SDK itself, byte for byte.
    (
        "vendor/palisade-sdk/src/lib.rs",
        include_str!("../../../plugins/sdk/src/lib.rs"),
    ),
    (
        "vendor/palisade-sdk/src/testing.rs",
        include_str!("../../../plugins/sdk/src/testing.rs"),
    ),
    (
        "vendor/palisade-sdk/wit/policy.wit",
        include_str!("../../../plugins/sdk/wit/policy.wit"),
    ),
];

/// A Python plugin project: pip and componentize-py build it.
const PYTHON: Files = &[
    ("app.py", include_str!("../../templates/python/app.py.in")),
    (
        "build.sh",
        include_str!("../../templates/python/build.sh.in"),
    ),
    (
        "README.md",
        include_str!("../../templates/python/README.md.in"),
    ),
    (
        ".gitignore",
        include_str!("../../templates/python/gitignore.in"),
    ),
    // The SDK and the contract, byte for byte.
    (
        "sdk/palisade_sdk/__init__.py",
        include_str!("../../../plugins/sdk-python/palisade_sdk/__init__.py"),
    ),
    (
        "wit/policy.wit",
        include_str!("../../../plugins/sdk-python/palisade_sdk/wit/policy.wit"),
    ),
];

/// A JavaScript plugin project: npm and componentize-js build it.
const JS: Files = &[
    ("app.js", include_str!("../../templates/js/app.js.in")),
    ("build.sh", include_str!("../../templates/js/build.sh.in")),
    (
        "package.json",
        include_str!("../../templates/js/package.json.in"),
    ),
    (
        "jsconfig.json",
        include_str!("../../templates/js/jsconfig.json.in"),
    ),
    ("README.md", include_str!("../../templates/js/README.md.in")),
    (
        ".gitignore",
        include_str!("../../templates/js/gitignore.in"),
    ),
    // The SDK, its declarations and the contract, byte for byte.
    (
        "sdk/palisade.js",
        include_str!("../../../plugins/sdk-js/palisade.js"),
    ),
    (
        "sdk/palisade.d.ts",
        include_str!("../../../plugins/sdk-js/palisade.d.ts"),
    ),
    (
        "sdk/types/policy-plugin.d.ts",
        include_str!("../../../plugins/sdk-js/types/policy-plugin.d.ts"),
    ),
    (
        "sdk/types/interfaces/palisade-policy-facts.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/palisade-policy-facts.d.ts"),
    ),
    (
        "sdk/types/interfaces/palisade-policy-log.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/palisade-policy-log.d.ts"),
    ),
    (
        "sdk/types/interfaces/palisade-policy-plugin.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/palisade-policy-plugin.d.ts"),
    ),
    (
        "sdk/types/interfaces/palisade-policy-ports.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/palisade-policy-ports.d.ts"),
    ),
    (
        "sdk/types/interfaces/palisade-policy-types.d.ts",
        include_str!("../../../plugins/sdk-js/types/interfaces/palisade-policy-types.d.ts"),
    ),
    (
        "wit/policy.wit",
        include_str!("../../../plugins/sdk-js/wit/policy.wit"),
    ),
];

fn rule(args: RuleArgs) -> anyhow::Result<Status> {
    let name = args.name;
    if !valid_name(&name) {
        bail!(
            "`{name}` is not a plugin name: use lower case letters, digits and dashes, starting with a letter (`team-label`)"
        );
    }
    let id = args.id.unwrap_or_else(|| default_id(&name));
    if !valid_id(&id) {
        bail!(
            "`{id}` is not a rule ID: an upper case letter, then 1 to 31 upper case letters, digits, `_` or `-` (`TL001`)"
        );
    }
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read `{}`", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "`{}` exists and is not empty: give a new directory",
            dir.display()
        );
    }
    let crate_name = name.replace('-', "_");
    let (files, wasm) = match args.lang {
        Lang::Rust => (
            RUST,
            format!("target/wasm32-wasip2/release/{crate_name}.wasm"),
        ),
        Lang::Python => (PYTHON, format!("{name}.wasm")),
        Lang::Js => (JS, format!("{name}.wasm")),
    };
    let vars = [
        ("{{name}}", name.as_str()),
        ("{{wasm}}", wasm.as_str()),
        ("{{crate}}", crate_name.as_str()),
        ("{{id}}", id.as_str()),
        ("{{sdk_version}}", env!("CARGO_PKG_VERSION")),
        ("{{contract}}", contract()),
    ];
    let mut written = Vec::new();
    for (path, template) in files.iter().chain(SHARED) {
        let text = vars
            .iter()
            .fold((*template).to_string(), |t, (k, v)| t.replace(k, v));
        let file = dir.join(path);
        write_new(&file, &text)?;
        written.push(*path);
    }
    make_executable(&dir.join("build.sh"))?;
    let mut out = format!("created {} ({} files):\n", dir.display(), written.len());
    for w in &written {
        out.push_str(&format!("  {w}\n"));
    }
    out.push_str(&format!(
        "next:\n  cd {}\n  ./build.sh\n  palisade test .\n",
        dir.display()
    ));
    print(&out)?;
    Ok(Status::Pass)
}

/// The contract version the vendored SDK speaks, from its WIT's
/// `package palisade:policy@X;`.
fn contract() -> &'static str {
    include_str!("../../../plugins/sdk/wit/policy.wit")
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("package palisade:policy@")?
                .strip_suffix(';')
        })
        .unwrap_or("0.2")
}

fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && !name.ends_with('-')
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// `[A-Z][A-Z0-9_-]{1,31}`, the host's rule ID pattern.
fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    (2..=32).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

/// The initials of the name's parts (its first two letters for one part),
/// upper case, then `001`.
fn default_id(name: &str) -> String {
    let parts: Vec<&str> = name.split('-').filter(|p| !p.is_empty()).collect();
    let letters: String = if parts.len() > 1 {
        parts.iter().filter_map(|p| p.chars().next()).collect()
    } else {
        name.chars()
            .filter(char::is_ascii_alphabetic)
            .take(2)
            .collect()
    };
    let mut id: String = letters.to_ascii_uppercase().chars().take(8).collect();
    if id.len() < 2 {
        id.push('X');
    }
    id.push_str("001");
    id
}

/// Writes a file that must not exist yet, with its directories.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make `{}` executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_ids_are_initials() {
        assert_eq!(super::default_id("team-label"), "TL001");
        assert_eq!(super::default_id("owners"), "OW001");
        assert_eq!(super::default_id("a"), "AX001");
        assert!(super::valid_id(&super::default_id("x-1-y")));
        assert!(!super::valid_name("Team"));
        assert!(!super::valid_name("team-"));
        assert!(super::valid_name("team-label2"));
    }
}
