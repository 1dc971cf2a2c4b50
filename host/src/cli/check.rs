//! `palisade check`: evaluate inputs and report.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use palisade::{Baseline, Date, Exemptions, Inputs, Report, Severity, fsutil, render};

use super::{PluginOpts, Status, print};

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Files or directories (searched for .yaml, .yml, .json); `-` reads standard input [default: . unless --kustomize is given]
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Leave out entries of the directories checked that match this glob (repeatable): with a `/`, the path under the directory (`examples/**`); without, any name (`*.patch.yaml`)
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Render this Kustomize directory with `kubectl kustomize` and check the stream (repeatable) [env: PALISADE_KUBECTL names kubectl]
    #[arg(long, value_name = "DIR")]
    kustomize: Vec<PathBuf>,
    /// Largest input file (or standard input) read, in bytes; a larger one is an error
    #[arg(long, value_name = "BYTES", default_value_t = palisade::DEFAULT_MAX_FILE_BYTES)]
    max_input_bytes: u64,
    #[command(flatten)]
    plugins: PluginOpts,
    /// Report format on standard output
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// Also write a report to a file, as FORMAT=PATH (repeatable), for example sarif=palisade.sarif
    #[arg(long = "output", value_name = "FORMAT=PATH")]
    outputs: Vec<String>,
    /// Lowest severity that fails the check (exit 1)
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Exemptions file (replaces the one the policy set names)
    #[arg(long, value_name = "FILE")]
    exemptions: Option<PathBuf>,
    /// Judge exemption expiry as of this date, YYYY-MM-DD [env: PALISADE_NOW; default: today, UTC]
    #[arg(long, value_name = "DATE")]
    now: Option<String>,
    /// List exempted findings (they are always counted)
    #[arg(long)]
    show_exempted: bool,
    /// Report only findings not in this baseline
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the current findings as a baseline and exit 0 (errors still exit 2)
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Print the objects not evaluated and what plugins logged to standard error
    #[arg(long, short)]
    verbose: bool,
    /// Make a kind Palisade does not evaluate (a custom resource) an error
    /// (exit 2) instead of counting it as not evaluated
    #[arg(long)]
    strict_kinds: bool,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// Text for people, with code frames
    Human,
    /// The versioned JSON report
    Json,
    /// SARIF 2.1.0
    Sarif,
    /// JUnit XML
    Junit,
    /// GitHub Actions workflow annotations
    Github,
    /// wgpolicyk8s.io/v1alpha2 PolicyReport and ClusterPolicyReport YAML
    Policyreport,
}

impl ReportFormat {
    fn render(self, report: &Report) -> String {
        match self {
            ReportFormat::Human => render::human(report),
            ReportFormat::Json => render::json(report),
            ReportFormat::Sarif => render::sarif(report),
            ReportFormat::Junit => render::junit(report),
            ReportFormat::Github => render::github(report),
            ReportFormat::Policyreport => render::policyreport(report),
        }
    }
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
    let outputs = args
        .outputs
        .iter()
        .map(|o| {
            let (format, path) = o
                .split_once('=')
                .with_context(|| format!("`--output {o}`: expected FORMAT=PATH"))?;
            let format = ReportFormat::from_str(format, true).map_err(|_| {
                anyhow::anyhow!(
                    "`--output {o}`: unknown format `{format}` (human, json, sarif, junit, github, policyreport)"
                )
            })?;
            Ok((format, PathBuf::from(path)))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let today = match args
        .now
        .clone()
        .or_else(|| std::env::var("PALISADE_NOW").ok())
    {
        Some(s) => match Date::parse(&s) {
            Some(d) => d,
            None => bail!("`{s}` is not a date YYYY-MM-DD (--now or PALISADE_NOW)"),
        },
        None => Date::today(),
    };
    let mut checker = args.plugins.checker()?.with_today(today);
    if args.strict_kinds {
        checker = checker.with_strict_kinds(true);
    }
    if let Some(path) = &args.exemptions {
        checker = checker.with_exemptions(Exemptions::from_file(path)?);
    }
    if let Some(path) = &args.baseline {
        checker = checker.with_baseline(Baseline::from_file(path)?);
    }
    let mut inputs = Inputs::new().max_file_bytes(args.max_input_bytes);
    for pattern in &args.exclude {
        inputs = inputs.exclude(pattern)?;
    }
    for dir in &args.kustomize {
        let stream = super::kustomize::render(dir, args.max_input_bytes)?;
        inputs = inputs.kustomized(dir, stream);
    }
    let default_path = [PathBuf::from(".")];
    let paths = if args.paths.is_empty() && args.kustomize.is_empty() {
        &default_path[..]
    } else {
        &args.paths[..]
    };
    let inputs = super::with_paths(inputs, paths, args.max_input_bytes)?;
    let mut report = checker.check(&inputs);

    if let Some(path) = &args.write_baseline {
        // Every current finding: new ones and those the old baseline held.
        let mut all = report.findings.clone();
        all.extend(report.baselined.iter().cloned());
        fsutil::write_atomic(path, Baseline::render(&all).as_bytes())
            .with_context(|| format!("cannot write baseline `{}`", path.display()))?;
        eprintln!(
            "wrote {} finding{} to baseline `{}`",
            all.len(),
            if all.len() == 1 { "" } else { "s" },
            path.display()
        );
    }
    if !args.show_exempted {
        report.exempted.clear();
    }

    for (format, path) in &outputs {
        fsutil::write_atomic(path, format.render(&report).as_bytes())
            .with_context(|| format!("cannot write report `{}`", path.display()))?;
    }
    print(&args.format.render(&report))?;
    if args.verbose {
        eprint!("{}", render::not_evaluated(&report));
        eprint!("{}", render::plugin_log(&report));
    }
    let threshold = match args.fail_on {
        FailOn::Info => Some(Severity::Info),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Error => Some(Severity::Error),
        FailOn::Never => None,
    };
    // A failure never reads as a pass: errors win over findings, baselines
    // and --fail-on.
    Ok(if !report.diagnostics.is_empty() {
        Status::Error
    } else if args.write_baseline.is_some() {
        Status::Pass
    } else if threshold.is_some_and(|t| report.has_findings_at(t)) {
        Status::Findings
    } else {
        Status::Pass
    })
}
