//! `palisade rules`: every rule of the loaded plugins.

use std::fmt::Write as _;

use clap::Args;

use super::{PluginOpts, Status, print, print_human};

#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    #[command(flatten)]
    plugins: PluginOpts,
    /// Output format
    #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
    format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RulesFormat {
    /// A table for people
    Human,
    /// JSON
    Json,
    /// The markdown rules reference (policies/RULES.md)
    Markdown,
}

#[derive(serde::Serialize)]
struct Row<'a> {
    plugin: &'a str,
    #[serde(flatten)]
    rule: &'a palisade::RuleInfo,
}

pub(crate) fn run(args: RulesArgs) -> anyhow::Result<Status> {
    let checker = args.plugins.checker()?;
    let mut rules = checker.rules();
    rules.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let text = match args.format {
        RulesFormat::Markdown => palisade::render::rules_reference(&rules),
        RulesFormat::Json => {
            let rows: Vec<Row<'_>> = rules
                .iter()
                .map(|(plugin, rule)| Row { plugin, rule })
                .collect();
            let mut s = serde_json::to_string_pretty(&rows)?;
            s.push('\n');
            s
        }
        RulesFormat::Human => {
            let mut s = String::new();
            for (plugin, r) in &rules {
                let _ = writeln!(
                    s,
                    "{:<8} {:<8} {:<14} {}\n{:<32}{}",
                    r.id,
                    r.default_severity.as_str(),
                    plugin,
                    r.name,
                    "",
                    r.summary
                );
            }
            s
        }
    };
    match args.format {
        RulesFormat::Json => print(&text)?,
        RulesFormat::Human | RulesFormat::Markdown => print_human(&text)?,
    }
    Ok(Status::Pass)
}
