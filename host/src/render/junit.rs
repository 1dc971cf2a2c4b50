//! JUnit XML: one testsuite per plugin, one testcase per rule × object with
//! findings (a failure each), and one passing testcase per rule without
//! findings. Failures of the check itself are `<error>`s in a `palisade`
//! suite, so a CI dashboard never shows an incomplete check as green.
//!
//! Every attribute and text is written with `escape::xml`, file names
//! included, so no name or message can add markup, and characters XML 1.0
//! forbids are replaced rather than making the document unreadable.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::xml;
use crate::report::{Finding, Report};

/// Renders a report as JUnit XML.
pub fn junit(report: &Report) -> String {
    // plugin -> rule -> object -> findings
    let mut by_plugin: BTreeMap<&str, BTreeMap<&str, BTreeMap<String, Vec<&Finding>>>> =
        BTreeMap::new();
    for (plugin, rule) in &report.rules {
        by_plugin
            .entry(plugin.as_str())
            .or_default()
            .entry(rule.id.as_str())
            .or_default();
    }
    for f in &report.findings {
        by_plugin
            .entry(f.plugin.as_str())
            .or_default()
            .entry(f.rule.as_str())
            .or_default()
            .entry(f.object.to_string())
            .or_default()
            .push(f);
    }
    let mut suites = String::new();
    let (mut total_tests, mut total_failures) = (0usize, 0usize);
    for (plugin, rules) in &by_plugin {
        let mut cases = String::new();
        let (mut tests, mut failures) = (0usize, 0usize);
        for (rule, objects) in rules {
            if objects.is_empty() {
                tests += 1;
                let _ = writeln!(
                    cases,
                    "    <testcase classname=\"{}.{}\" name=\"{}: no findings\"/>",
                    xml(plugin),
                    xml(rule),
                    xml(rule)
                );
                continue;
            }
            for (object, findings) in objects {
                tests += 1;
                failures += 1;
                let _ = writeln!(
                    cases,
                    "    <testcase classname=\"{}.{}\" name=\"{} {}\">",
                    xml(plugin),
                    xml(rule),
                    xml(rule),
                    xml(object)
                );
                for f in findings {
                    let at = f
                        .location
                        .as_ref()
                        .map(|l| format!("{}: ", xml(&l.to_string())))
                        .unwrap_or_default();
                    let _ = writeln!(
                        cases,
                        "      <failure type=\"{}\" message=\"{}\">{at}{}{}</failure>",
                        f.severity,
                        xml(&f.message),
                        xml(&f.message),
                        f.remediation
                            .as_ref()
                            .map(|r| format!("\nfix: {}", xml(r)))
                            .unwrap_or_default()
                    );
                }
                cases.push_str("    </testcase>\n");
            }
        }
        total_tests += tests;
        total_failures += failures;
        let errors: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.plugin.as_deref() == Some(*plugin))
            .collect();
        for d in &errors {
            tests += 1;
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{}\" name=\"evaluation\">\n      <error type=\"{}\" message=\"{}\"/>\n    </testcase>",
                xml(plugin),
                d.cause.map(|c| c.as_str()).unwrap_or("error"),
                xml(&d.message)
            );
        }
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\">\n{cases}  </testsuite>",
            xml(plugin),
            errors.len()
        );
    }
    let input_errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.plugin.is_none())
        .collect();
    if !input_errors.is_empty() {
        let mut cases = String::new();
        for d in &input_errors {
            let at = d
                .location
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_else(|| "input".to_string());
            let _ = writeln!(
                cases,
                "    <testcase classname=\"palisade.input\" name=\"{}\">\n      <error type=\"input\" message=\"{}\"/>\n    </testcase>",
                xml(&at),
                xml(&d.message)
            );
        }
        let _ = writeln!(
            suites,
            "  <testsuite name=\"inputs\" tests=\"{n}\" failures=\"0\" errors=\"{n}\">\n{cases}  </testsuite>",
            n = input_errors.len()
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"palisade\" tests=\"{}\" failures=\"{total_failures}\" errors=\"{}\">\n{suites}</testsuites>\n",
        total_tests + report.diagnostics.len(),
        report.diagnostics.len()
    )
}
