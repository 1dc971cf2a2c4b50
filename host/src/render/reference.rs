//! The rules reference (`policies/RULES.md`), generated from the rules' own
//! metadata so it cannot drift from what `palisade explain` prints.

use std::fmt::Write as _;

use crate::report::RuleInfo;

/// Renders every rule as a markdown reference: an index table, then each
/// rule's documentation with its headings one level down.
pub fn rules_reference(rules: &[(String, RuleInfo)]) -> String {
    let mut rules: Vec<&(String, RuleInfo)> = rules.iter().collect();
    rules.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let mut out = String::from(
        "# Rules reference\n\n<!-- Generated from the rules' metadata by `palisade rules --format markdown`; a test keeps it current. Do not edit. -->\n\n| ID | name | plugin | default severity | summary |\n|---|---|---|---|---|\n",
    );
    for (plugin, r) in &rules {
        let _ = writeln!(
            out,
            "| [{}](#{}) | `{}` | `{plugin}` | {} | {} |",
            r.id,
            r.id.to_lowercase(),
            r.name,
            r.default_severity,
            r.summary.replace('|', "\\|")
        );
    }
    for (plugin, r) in &rules {
        let _ = write!(
            out,
            "\n## {}\n\n`{}` · plugin `{plugin}` · default severity {}\n\n{}\n\n",
            r.id, r.name, r.default_severity, r.summary
        );
        for line in r.doc.trim_end().lines() {
            if line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
