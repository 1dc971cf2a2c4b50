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
    let mut suites = Vec::new();
    for (plugin, rules) in &by_plugin {
        let mut cases = Vec::new();
        for (rule, objects) in rules {
            let classname = format!("{plugin}.{rule}");
            if objects.is_empty() {
                cases.push(Case::passed(classname, format!("{rule}: no findings")));
                continue;
            }
            for (object, findings) in objects {
                let failures = findings
                    .iter()
                    .map(|f| {
                        let at = f
                            .location
                            .as_ref()
                            .map(|l| format!("{l}: "))
                            .unwrap_or_default();
                        let mut lines = vec![format!("{at}{}", f.message)];
                        lines.extend(f.remediation.as_ref().map(|r| format!("fix: {r}")));
                        Failure {
                            kind: Some(f.severity.to_string()),
                            message: f.message.clone(),
                            lines,
                        }
                    })
                    .collect();
                cases.push(Case {
                    classname: classname.clone(),
                    name: format!("{rule} {object}"),
                    outcome: Outcome::Failed(failures),
                });
            }
        }
        for d in report
            .diagnostics
            .iter()
            .filter(|d| d.plugin.as_deref() == Some(*plugin))
        {
            cases.push(Case {
                classname: (*plugin).to_string(),
                name: "evaluation".into(),
                outcome: Outcome::Error {
                    kind: d.cause.map_or("error", |c| c.as_str()).to_string(),
                    message: d.message.clone(),
                },
            });
        }
        suites.push(Suite {
            name: (*plugin).to_string(),
            cases,
        });
    }
    let input_errors: Vec<Case> = report
        .diagnostics
        .iter()
        .filter(|d| d.plugin.is_none())
        .map(|d| Case {
            classname: "palisade.input".into(),
            name: d
                .location
                .as_ref()
                .map_or_else(|| "input".to_string(), ToString::to_string),
            outcome: Outcome::Error {
                kind: "input".into(),
                message: d.message.clone(),
            },
        })
        .collect();
    if !input_errors.is_empty() {
        suites.push(Suite {
            name: "inputs".into(),
            cases: input_errors,
        });
    }
    write("palisade", &suites)
}

/// A JUnit test suite; its counts are derived from its cases.
pub(crate) struct Suite {
    pub(crate) name: String,
    pub(crate) cases: Vec<Case>,
}

/// A JUnit test case.
pub(crate) struct Case {
    pub(crate) classname: String,
    pub(crate) name: String,
    pub(crate) outcome: Outcome,
}

impl Case {
    pub(crate) fn passed(classname: String, name: String) -> Case {
        Case {
            classname,
            name,
            outcome: Outcome::Passed,
        }
    }
}

/// How a case ended.
pub(crate) enum Outcome {
    Passed,
    /// Verdicts that differ from what was wanted (findings, or a test
    /// case's differences).
    Failed(Vec<Failure>),
    /// The check itself could not run.
    Error {
        kind: String,
        message: String,
    },
}

/// One `<failure>`: an optional `type`, a one-line message and a text of
/// lines.
pub(crate) struct Failure {
    pub(crate) kind: Option<String>,
    pub(crate) message: String,
    pub(crate) lines: Vec<String>,
}

/// Writes a JUnit document: the one writer for `check` reports and
/// `palisade test` results. Every attribute and text goes through
/// `escape::xml`.
pub(crate) fn write(name: &str, suites: &[Suite]) -> String {
    let count = |suite: &Suite, f: fn(&Outcome) -> bool| {
        suite.cases.iter().filter(|c| f(&c.outcome)).count()
    };
    let failed = |o: &Outcome| matches!(o, Outcome::Failed(_));
    let errored = |o: &Outcome| matches!(o, Outcome::Error { .. });
    let mut body = String::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for suite in suites {
        let (t, f, e) = (
            suite.cases.len(),
            count(suite, failed),
            count(suite, errored),
        );
        (tests, failures, errors) = (tests + t, failures + f, errors + e);
        let _ = writeln!(
            body,
            "  <testsuite name=\"{}\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\">",
            xml(&suite.name)
        );
        for case in &suite.cases {
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&case.classname),
                xml(&case.name)
            );
            match &case.outcome {
                Outcome::Passed => {
                    let _ = writeln!(body, "{open}/>");
                }
                Outcome::Failed(list) => {
                    let _ = writeln!(body, "{open}>");
                    for failure in list {
                        let kind = failure
                            .kind
                            .as_ref()
                            .map(|k| format!(" type=\"{}\"", xml(k)))
                            .unwrap_or_default();
                        let text: Vec<String> = failure.lines.iter().map(|l| xml(l)).collect();
                        let _ = writeln!(
                            body,
                            "      <failure{kind} message=\"{}\">{}</failure>",
                            xml(&failure.message),
                            text.join("\n")
                        );
                    }
                    body.push_str("    </testcase>\n");
                }
                Outcome::Error { kind, message } => {
                    let _ = writeln!(
                        body,
                        "{open}>\n      <error type=\"{}\" message=\"{}\"/>\n    </testcase>",
                        xml(kind),
                        xml(message)
                    );
                }
            }
        }
        body.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n{body}</testsuites>\n",
        xml(name)
    )
}
