//! `palisade explain RULE-ID`: a rule's documentation, from its metadata.

use clap::Args;

use super::{PluginOpts, Status, print_human};

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The rule ID (for example NP001)
    rule: String,
    #[command(flatten)]
    plugins: PluginOpts,
}

pub(crate) fn run(args: ExplainArgs) -> anyhow::Result<Status> {
    let checker = args.plugins.checker()?;
    let wanted = args.rule.to_ascii_uppercase();
    let rules = checker.rules();
    let Some((plugin, rule)) = rules.iter().find(|(_, r)| r.id == wanted) else {
        let mut known: Vec<&str> = rules.iter().map(|(_, r)| r.id.as_str()).collect();
        known.sort_unstable();
        anyhow::bail!(
            "no loaded rule has the ID `{}` (known rules: {})",
            args.rule,
            known.join(", ")
        );
    };
    print_human(&format!(
        "# {} {}\n\n{}\n\nPlugin: `{plugin}`. Default severity: {}.\n\n{}",
        rule.id,
        rule.name,
        rule.summary,
        rule.default_severity,
        rule.doc.trim_end().to_string() + "\n"
    ))?;
    Ok(Status::Pass)
}
