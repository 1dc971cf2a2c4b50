//! `palisade check`: evaluate inputs and report.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use palisade::{Inputs, Severity, render};

use super::{Format, PluginOpts, Status, print};

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Files or directories (searched for .yaml, .yml, .json); `-` reads standard input
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    plugins: PluginOpts,
    /// Report format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Lowest severity that fails the check (exit 1)
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Print what plugins logged to standard error
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Info,
    Warning,
    Error,
    /// Findings never fail the check (errors still do)
    Never,
}

pub(crate) fn run(args: CheckArgs) -> anyhow::Result<Status> {
    let checker = args.plugins.checker()?;
    let mut inputs = Inputs::new();
    for path in &args.paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            inputs = inputs.text("<stdin>", text);
        } else {
            inputs = inputs.path(path);
        }
    }
    let report = checker.check(&inputs);
    let text = match args.format {
        Format::Human => render::human(&report),
        Format::Json => render::json(&report),
    };
    print(&text)?;
    if args.verbose {
        for (plugin, line) in &report.plugin_log {
            eprintln!("plugin {plugin}: {line}");
        }
    }
    let threshold = match args.fail_on {
        FailOn::Info => Some(Severity::Info),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Error => Some(Severity::Error),
        FailOn::Never => None,
    };
    // A failure never reads as a pass: errors win over findings.
    Ok(if !report.diagnostics.is_empty() {
        Status::Error
    } else if threshold.is_some_and(|t| report.has_findings_at(t)) {
        Status::Findings
    } else {
        Status::Pass
    })
}
