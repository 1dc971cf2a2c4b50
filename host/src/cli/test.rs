//! `palisade test`: run declarative rule test suites (`suite.yaml` and the
//! pass-/fail- fixtures beside it). Exit 0: every case passed; 1: a case's
//! findings differ from its expectations; 2: a suite could not be loaded or a
//! case hit an input or plugin error.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use palisade::suite::{self, Suite};

use super::{PluginOpts, Status, print};

#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// Suite files or directories searched for suite.yaml
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    plugins: PluginOpts,
    /// Output format
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    /// One line per case, with a diff for failures
    Human,
    /// JUnit XML
    Junit,
    /// JSON list of case results
    Json,
}

pub(crate) fn run(args: TestArgs) -> anyhow::Result<Status> {
    if args.plugins.has_policy() {
        anyhow::bail!(
            "`palisade test` takes no --policy or --only-plugins: each suite names its policy set (`spec.policy` or `spec.plugins` in suite.yaml)"
        );
    }
    let engine = args.plugins.engine(args.plugins.cache_dir())?;
    // `--plugin`: the plugin under development joins every suite's policy.
    let extra = args.plugins.extra_plugins(&engine)?;
    let files = Suite::discover(&args.paths);
    if files.is_empty() {
        anyhow::bail!("no suite.yaml under {:?}", args.paths);
    }
    let mut results = Vec::new();
    let mut load_errors = Vec::new();
    for file in &files {
        let run = Suite::load(file).and_then(|suite| {
            let checker = suite.checker_with(&engine, extra.clone())?;
            Ok((0..suite.case_names().len())
                .filter_map(|i| suite.run_case(&checker, i))
                .map(|(result, _)| result)
                .collect::<Vec<_>>())
        });
        match run {
            Ok(r) => results.extend(r),
            Err(e) => {
                // In every format: a suite that does not load is a failed
                // run, never an absent one.
                // Located errors name the file already.
                let message = if e.location().is_some() {
                    e.to_string()
                } else {
                    format!("{}: {e}", file.display())
                };
                results.push(suite::CaseResult::suite_error(file, &message));
                load_errors.push(message);
            }
        }
    }
    let text = match args.format {
        TestFormat::Human => suite::render_human(&results),
        TestFormat::Junit => suite::render_junit(&results),
        TestFormat::Json => {
            let mut s = serde_json::to_string_pretty(&results)?;
            s.push('\n');
            s
        }
    };
    print(&text)?;
    for e in &load_errors {
        eprintln!("error: {}", palisade::render::escape::text(e));
    }
    Ok(
        if !load_errors.is_empty() || results.iter().any(|r| !r.errors.is_empty()) {
            Status::Error
        } else if results.iter().any(|r| !r.passed()) {
            Status::Findings
        } else {
            Status::Pass
        },
    )
}
