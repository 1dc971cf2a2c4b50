//! Command-line interface: arguments, shared options and exit statuses.

mod bench;
mod check;
mod explain;
mod kustomize;
mod netpol;
mod new;
mod path;
mod proxy;
mod rbac;
mod rules;
mod test;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use palisade::{Checker, Engine, PolicySet};

/// Check that Kubernetes workloads can leave the private subnet only through the proxy.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests against a policy set (exit 0: pass, 1: findings, 2: error)
    Check(check::CheckArgs),
    /// Run rule test suites: suite.yaml files with pass-/fail- fixtures
    Test(test::TestArgs),
    /// List every rule of the loaded plugins
    Rules(rules::RulesArgs),
    /// Show a rule's documentation
    Explain(explain::ExplainArgs),
    /// NetworkPolicy reachability: matrix, trace and benchmark
    Netpol(netpol::NetpolArgs),
    /// Squid configurations: trace a request through http_access
    Proxy(proxy::ProxyArgs),
    /// From a workload to a destination across NetworkPolicies, the proxy and the cloud network (exit 0: only through the proxy or unreachable, 1: reachable directly, 2: unknown or error)
    Path(path::PathArgs),
    /// RBAC questions answered from the manifests: can-i, who-can
    Rbac(rbac::RbacArgs),
    /// Measure plugin load (cold and cached) and per-evaluation overhead
    Bench(bench::BenchArgs),
    /// Start a plugin project: `palisade new rule NAME [DIR] --lang rust`
    New(new::NewArgs),
}

/// Exit statuses, as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// No finding at or above the threshold, and no error.
    Pass = 0,
    /// Findings at or above the threshold.
    Findings = 1,
    /// Usage, input, policy or plugin error: the check is incomplete.
    Error = 2,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

pub(crate) fn run(cli: Cli) -> anyhow::Result<Status> {
    match cli.command {
        Command::Check(a) => check::run(a),
        Command::Rules(a) => rules::run(a),
        Command::Test(a) => test::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Netpol(a) => netpol::run(a),
        Command::Rbac(a) => rbac::run(a),
        Command::Proxy(a) => proxy::run(a),
        Command::Path(a) => path::run(a),
        Command::New(a) => new::run(a),
    }
}

/// Output formats of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Text for people, with code frames.
    Human,
    /// The versioned JSON report.
    Json,
}

/// Options that load plugins: shared by every subcommand.
#[derive(Debug, Args)]
pub(crate) struct PluginOpts {
    /// Policy set file (default: the embedded policies/default.yaml)
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Also run this plugin component, unpinned (for development, with a warning): it takes the place of the policy set's entry for the same file, or of a `plugin: ID` entry, with that entry's settings; otherwise all rules on, empty settings (repeatable)
    #[arg(long = "plugin", value_name = "FILE.wasm")]
    plugins: Vec<PathBuf>,
    /// Run only the --plugin components: the policy set's own plugins are left out, its roles and settings kept
    #[arg(long, alias = "only-plugin", requires = "plugins")]
    only_plugins: bool,
    /// Instructions (fuel) per plugin call, the host work it asks for included: the deterministic budget
    #[arg(long, value_name = "N", default_value_t = palisade::DEFAULT_FUEL)]
    plugin_fuel: u64,
    /// Wall-clock deadline per plugin call, in milliseconds: a backstop behind fuel
    #[arg(long, value_name = "MS", default_value_t = palisade::DEFAULT_TIMEOUT.as_millis() as u64)]
    plugin_timeout_ms: u64,
    /// Memory cap per plugin evaluation (linear memories and tables together), in MiB
    #[arg(long, value_name = "MIB", default_value_t = palisade::DEFAULT_MEMORY_BYTES >> 20)]
    plugin_memory_mib: usize,
    /// Most findings one plugin evaluation may return
    #[arg(long, value_name = "N", default_value_t = palisade::DEFAULT_MAX_FINDINGS)]
    max_findings: usize,
    /// Most bytes of text one plugin evaluation may return
    #[arg(long, value_name = "BYTES", default_value_t = palisade::DEFAULT_MAX_OUTPUT_BYTES)]
    max_output_bytes: usize,
    /// Directory for compiled plugins [env: PALISADE_CACHE_DIR; default: $XDG_CACHE_HOME/palisade or ~/.cache/palisade]
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the compiled-plugin cache
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Evaluate plugins on up to N threads (default: the processors available); the report is the same for every N
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
}

impl PluginOpts {
    pub(crate) fn cache_dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        if let Some(dir) = &self.cache_dir {
            return Some(dir.clone());
        }
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("PALISADE_CACHE_DIR")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("palisade")))
            .or_else(|| env("HOME").map(|d| d.join(".cache").join("palisade")))
    }

    /// The engine builder with the limits of these options.
    pub(crate) fn builder(&self) -> palisade::EngineBuilder {
        Engine::builder()
            .fuel(self.plugin_fuel)
            .timeout(Duration::from_millis(self.plugin_timeout_ms))
            .memory_limit(self.plugin_memory_mib << 20)
            .max_findings(self.max_findings)
            .max_output_bytes(self.max_output_bytes)
    }

    /// The engine; a cache directory it refuses is a warning on standard
    /// error, and plugins are compiled in memory.
    pub(crate) fn engine(&self, cache_dir: Option<PathBuf>) -> anyhow::Result<Engine> {
        let engine = self.builder().cache_dir(cache_dir).build()?;
        if let Some(warning) = engine.cache_warning() {
            eprintln!("warning: {warning}");
        }
        Ok(engine)
    }

    pub(crate) fn policy(&self) -> anyhow::Result<PolicySet> {
        let policy = match &self.policy {
            Some(path) => PolicySet::from_file(path)?,
            None => PolicySet::builtin_default(),
        };
        Ok(if self.only_plugins {
            policy.without_plugins()
        } else {
            policy
        })
    }

    /// The engine and a checker for the policy set plus extra plugins.
    pub(crate) fn checker(&self) -> anyhow::Result<Checker> {
        let engine = self.engine(self.cache_dir())?;
        self.checker_with(&engine)
    }

    pub(crate) fn checker_with(&self, engine: &Engine) -> anyhow::Result<Checker> {
        let policy = self.policy()?;
        let extra = self.extra_plugins(engine)?;
        let checker = with_progress_bar(engine.checker(&policy, extra)?);
        Ok(match self.jobs {
            Some(n) => checker.with_jobs(usize::from(n)),
            None => checker,
        })
    }

    /// Whether `--policy` or `--only-plugins` was given (both choose the
    /// policy set, which a suite names itself).
    pub(crate) fn has_policy(&self) -> bool {
        self.policy.is_some() || self.only_plugins
    }

    /// The `--plugin` components, loaded.
    pub(crate) fn extra_plugins(&self, engine: &Engine) -> anyhow::Result<Vec<palisade::Plugin>> {
        self.plugins
            .iter()
            .map(|path| {
                let plugin = engine.load_plugin_file(path)?;
                // Once per file and run (`bench` loads plugins many times).
                static WARNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
                let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
                if warned.contains(path) {
                    return Ok(plugin);
                }
                warned.push(path.clone());
                eprintln!(
                    "warning: plugin `{}` ({}) is loaded unpinned, for development (--plugin); a policy set pins it with `sha256: {}`",
                    palisade::render::escape::text(&path.display().to_string()),
                    palisade::render::escape::text(plugin.id()),
                    plugin.sha256()
                );
                Ok(plugin)
            })
            .collect()
    }
}

/// Shows a progress bar on standard error while access logs of more than
/// 64 MiB in all stream, when standard error is a terminal.
pub(crate) fn with_progress_bar(checker: Checker) -> Checker {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return checker;
    }
    let bar: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);
    checker.with_log_progress(move |done, total| {
        if total < 64 << 20 {
            return;
        }
        let mut bar = bar.lock().unwrap_or_else(|e| e.into_inner());
        let b = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "reading access logs {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        b.set_position(done);
        if done >= total {
            b.finish_and_clear();
        }
    })
}

/// Files and directories as inputs; `-` reads standard input (once).
pub(crate) fn inputs_of(files: &[PathBuf]) -> anyhow::Result<palisade::Inputs> {
    with_paths(
        palisade::Inputs::new(),
        files,
        palisade::DEFAULT_MAX_FILE_BYTES,
    )
}

/// Adds files and directories to `inputs`; `-` reads standard input (at
/// most `max` bytes and one more, so the loader reports the cap; bytes, so
/// it diagnoses text that is not UTF-8), and only once.
pub(crate) fn with_paths(
    mut inputs: palisade::Inputs,
    files: &[PathBuf],
    max: u64,
) -> anyhow::Result<palisade::Inputs> {
    let mut stdin_read = false;
    for f in files {
        if f.as_os_str() == "-" {
            if std::mem::replace(&mut stdin_read, true) {
                anyhow::bail!("`-` (standard input) is named twice");
            }
            inputs = inputs.bytes("<stdin>", read_stdin(max)?);
        } else {
            inputs = inputs.path(f);
        }
    }
    Ok(inputs)
}

/// Standard input as bytes, at most one byte over `max`.
fn read_stdin(max: u64) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .context("cannot read standard input")?;
    Ok(bytes)
}

/// Analyses that need clean inputs refuse to answer on broken ones: the first
/// problem, located, and how many there are.
pub(crate) fn refuse_problems(diagnostics: &[palisade::Diagnostic]) -> anyhow::Result<()> {
    let Some(d) = diagnostics.first() else {
        return Ok(());
    };
    let at = d
        .location
        .as_ref()
        .map(|l| format!("{l}: "))
        .unwrap_or_default();
    let n = diagnostics.len();
    anyhow::bail!(
        "{at}{} ({n} input problem{} in all; fix the inputs, `palisade check` lists them)",
        d.message,
        if n == 1 { "" } else { "s" }
    )
}

/// Writes text for people to stdout with no control character but line
/// breaks and tabs: for outputs built here from names and plugin text (a
/// `netpol` table, `explain`, a trace) rather than by an escaping renderer.
pub(crate) fn print_human(text: &str) -> anyhow::Result<()> {
    print(&palisade::render::escape::text(text))
}

/// Writes to stdout as it is (machine formats, and renderers that escape
/// their fields themselves); a closed pipe (`palisade ... | head`) is not an
/// error.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}
