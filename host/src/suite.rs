//! `palisade test`: declarative test suites for rule authors — the harness
//! the project runs its own rules through.
//!
//! A suite is a directory holding `suite.yaml`:
//!
//! ```yaml
//! apiVersion: palisade.dev/v1alpha1
//! kind: TestSuite
//! metadata: {name: NP001}
//! spec:
//!   rule: NP001               # only this rule's findings are compared (optional)
//!   policy: ../policy.yaml    # policy set, relative to this file (default: the built-in one)
//!   plugins:                  # or plugin entries, as in a policy set
//!     - builtin: default-deny
//!   roles: {proxy: {ports: [3128]}}   # with `plugins`: the policy set's roles
//!   cloud: {nodes: {subnets: [aws_subnet.private]}}   # and its cloud binding
//!   excludedNamespaces: [kube-system] # with `plugins`: the policy set's
//!   cases:                    # explicit cases (optional)
//!     - name: two files together
//!       inputs: [a.yaml, b.yaml]
//!       expect:
//!         - {rule: NP001, object: Deployment shop/web, path: /metadata/name}
//! ```
//!
//! Besides explicit cases, every `pass-*.yaml` beside it is a case that must
//! produce no finding, and every `fail-*.yaml` a case whose expected findings
//! are comment lines in the file itself:
//! `# expect: NP001 Deployment shop/web /metadata/name` (path optional).
//! Adding a case means adding a file.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::{Checker, Engine};
use crate::error::{Error, ErrorKind};
use crate::input::{ConfigFile, Inputs};
use crate::policy::PolicySet;
use crate::report::{Finding, Report};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSuite {
    api_version: String,
    kind: String,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
    #[serde(default)]
    spec: RawSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSpec {
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    plugins: Option<serde_json::Value>,
    #[serde(default)]
    excluded_namespaces: Option<Vec<String>>,
    #[serde(default)]
    roles: Option<serde_json::Value>,
    #[serde(default)]
    cloud: Option<serde_json::Value>,
    #[serde(default)]
    cases: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    inputs: Vec<String>,
    #[serde(default)]
    expect: Vec<Expected>,
}

/// One expected finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Rule ID.
    pub rule: String,
    /// `Kind namespace/name`, or `Kind name` for cluster-scoped objects.
    pub object: String,
    /// JSON pointer; when absent, any path matches.
    #[serde(default)]
    pub path: Option<String>,
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.rule, self.object)?;
        if let Some(p) = &self.path {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

/// A test case: inputs and the findings they must produce.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    inputs: Vec<PathBuf>,
    expect: Vec<Expected>,
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CaseResult {
    /// The suite's directory.
    pub suite: String,
    /// The case's name (its file name for pass-/fail- files).
    pub name: String,
    /// Expected findings that did not occur.
    pub missing: Vec<String>,
    /// Findings that occurred but were not expected (with their location).
    pub unexpected: Vec<String>,
    /// Input or plugin errors: a case with errors fails.
    pub errors: Vec<String>,
}

impl CaseResult {
    /// The result standing for a suite that could not be loaded or run
    /// (`file` is its `suite.yaml`): a case with that error.
    pub fn suite_error(file: &Path, message: &str) -> CaseResult {
        CaseResult {
            suite: file
                .parent()
                .map_or_else(String::new, |d| d.display().to_string()),
            name: "suite.yaml".to_string(),
            missing: Vec::new(),
            unexpected: Vec::new(),
            errors: vec![message.to_string()],
        }
    }

    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.errors.is_empty()
    }
}

/// A loaded suite.
#[derive(Debug)]
pub struct Suite {
    dir: PathBuf,
    rule: Option<String>,
    policy: PolicySet,
    cases: Vec<Case>,
}

impl Suite {
    /// Finds every `suite.yaml` under `paths` (files or directories).
    pub fn discover(paths: &[PathBuf]) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for p in paths {
            discover(p, &mut out);
        }
        out.sort();
        out.dedup();
        out
    }

    /// Loads `suite.yaml` and the pass-/fail- fixtures beside it.
    pub fn load(file: &Path) -> Result<Suite, Error> {
        let err = |m: String| Error::new(ErrorKind::Policy, format!("{}: {m}", file.display()));
        let text = crate::fsutil::read_text(file).map_err(|e| err(format!("cannot read: {e}")))?;
        let config = ConfigFile::parse(&file.display().to_string(), &text)?;
        let raw: RawSuite = serde_json::from_value(config.value().clone())
            .map_err(|e| err(format!("invalid suite: {e}")))?;
        let _ = raw.metadata;
        if raw.api_version != "palisade.dev/v1alpha1" || raw.kind != "TestSuite" {
            return Err(err(
                "expected `apiVersion: palisade.dev/v1alpha1` and `kind: TestSuite`".into(),
            ));
        }
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let policy = match (&raw.spec.policy, &raw.spec.plugins) {
            (Some(_), Some(_)) => {
                return Err(err("give either `policy` or `plugins`, not both".into()));
            }
            // A policy set that cannot be read is this file's problem.
            (Some(p), None) => PolicySet::from_file(dir.join(p))
                .map_err(|e| e.with_location(Some(config.at("/spec/policy"))))?,
            (None, Some(plugins)) => {
                let set = serde_json::json!({
                    "apiVersion": "palisade.dev/v1alpha1",
                    "kind": "PolicySet",
                    "metadata": {"name": "suite"},
                    "spec": {
                        "plugins": plugins,
                        "excludedNamespaces": raw.spec.excluded_namespaces.clone().unwrap_or_default(),
                        "roles": raw.spec.roles.clone().unwrap_or_else(|| serde_json::json!({})),
                        "cloud": raw.spec.cloud.clone().unwrap_or_else(|| serde_json::json!({})),
                    },
                });
                // Read in place of the suite's own text: an error about a
                // plugin (a stale pin) points at the suite's line.
                let mut set = PolicySet::from_config(&config.with_value(set))?;
                set.dir.clone_from(&dir);
                set
            }
            (None, None) => PolicySet::builtin_default(),
        };
        let mut cases: Vec<Case> = raw
            .spec
            .cases
            .into_iter()
            .map(|c| Case {
                name: c.name,
                inputs: c.inputs.iter().map(|i| dir.join(i)).collect(),
                expect: c.expect,
            })
            .collect();
        let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| err(format!("cannot list the suite directory: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        fixtures.sort();
        for f in fixtures {
            let name = f
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if !(name.ends_with(".yaml")
                || name.ends_with(".yml")
                || name.ends_with(".json")
                || name.ends_with(".conf"))
            {
                continue;
            }
            if name.starts_with("pass-") {
                cases.push(Case {
                    name,
                    inputs: vec![f],
                    expect: Vec::new(),
                });
            } else if name.starts_with("fail-") {
                let text = crate::fsutil::read_text(&f)
                    .map_err(|e| err(format!("cannot read {name}: {e}")))?;
                let expect = inline_expectations(&text).map_err(|m| err(format!("{name}: {m}")))?;
                if expect.is_empty() {
                    return Err(err(format!(
                        "{name}: a fail- fixture states what it expects with `# expect: RULE Kind namespace/name [path]` lines"
                    )));
                }
                cases.push(Case {
                    name,
                    inputs: vec![f],
                    expect,
                });
            }
        }
        Ok(Suite {
            dir,
            rule: raw.spec.rule,
            policy,
            cases,
        })
    }

    /// A checker for the suite's policy set.
    pub fn checker(&self, engine: &Engine) -> Result<Checker, Error> {
        self.checker_with(engine, Vec::new())
    }

    /// A checker for the suite's policy set plus `extra` plugins (all rules
    /// on, empty settings): how `palisade test --plugin` tests a plugin
    /// under development against its suites.
    pub fn checker_with(
        &self,
        engine: &Engine,
        extra: Vec<crate::Plugin>,
    ) -> Result<Checker, Error> {
        engine.checker(&self.policy, extra)
    }

    /// Runs every case with `engine`.
    pub fn run(&self, engine: &Engine) -> Result<Vec<CaseResult>, Error> {
        let checker = self.checker(engine)?;
        Ok((0..self.cases.len())
            .filter_map(|i| self.run_case(&checker, i))
            .map(|(result, _)| result)
            .collect())
    }

    /// The names of the cases, in the order [`Suite::run_case`] numbers
    /// them.
    pub fn case_names(&self) -> Vec<&str> {
        self.cases.iter().map(|c| c.name.as_str()).collect()
    }

    /// Runs case number `index` with `checker`: its verdict and the whole
    /// report (for snapshots). The one pass/fail engine of `palisade test`
    /// and the fixture tests.
    pub fn run_case(&self, checker: &Checker, index: usize) -> Option<(CaseResult, Report)> {
        let case = self.cases.get(index)?;
        let inputs = case
            .inputs
            .iter()
            .fold(Inputs::new(), |inputs, p| inputs.path(p));
        let report = checker.check(&inputs);
        let result = self.judge(case, &report);
        Some((result, report))
    }

    fn judge(&self, case: &Case, report: &Report) -> CaseResult {
        let relevant = |rule: &str| self.rule.as_deref().is_none_or(|r| r == rule);
        let found: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| relevant(&f.rule))
            .collect();
        let mut matched = BTreeSet::new();
        let mut missing = Vec::new();
        for e in &case.expect {
            let hit = found.iter().enumerate().find(|(i, f)| {
                !matched.contains(i)
                    && f.rule == e.rule
                    && f.object.to_string() == e.object
                    && e.path.as_ref().is_none_or(|p| f.path.as_ref() == Some(p))
            });
            match hit {
                Some((i, _)) => {
                    matched.insert(i);
                }
                None => missing.push(e.to_string()),
            }
        }
        let unexpected = found
            .iter()
            .enumerate()
            .filter(|(i, _)| !matched.contains(i))
            .map(|(_, f)| {
                let at = f
                    .location
                    .as_ref()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default();
                format!(
                    "{} {}{}{at}: {}",
                    f.rule,
                    f.object,
                    f.path.as_ref().map(|p| format!(" {p}")).unwrap_or_default(),
                    f.message
                )
            })
            .collect();
        let errors = report
            .diagnostics
            .iter()
            .map(|d| match &d.location {
                Some(l) => format!("{l}: {}", d.message),
                None => d.message.clone(),
            })
            .collect();
        CaseResult {
            suite: self.dir.display().to_string(),
            name: case.name.clone(),
            missing,
            unexpected,
            errors,
        }
    }
}

fn discover(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            discover(&e, out);
        } else if e.file_name().is_some_and(|n| n == "suite.yaml") {
            out.push(e);
        }
    }
}

/// `# expect: RULE Kind namespace/name [path]` lines.
fn inline_expectations(text: &str) -> Result<Vec<Expected>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("# expect:") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        match words.as_slice() {
            [rule, kind, object] => out.push(Expected {
                rule: rule.to_string(),
                object: format!("{kind} {object}"),
                path: None,
            }),
            [rule, kind, object, path] if path.starts_with('/') => out.push(Expected {
                rule: rule.to_string(),
                object: format!("{kind} {object}"),
                path: Some(path.to_string()),
            }),
            _ => {
                return Err(format!(
                    "line {}: expected `# expect: RULE Kind namespace/name [/json/pointer]`",
                    n + 1
                ));
            }
        }
    }
    Ok(out)
}

/// Renders case results for people: failures with a diff, then a count.
pub fn render_human(results: &[CaseResult]) -> String {
    // Messages come from plugins and names from fixtures: one line each.
    use crate::render::escape::line;
    let mut out = String::new();
    for r in results {
        let status = if r.passed() { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "{status} {}/{}", line(&r.suite), line(&r.name));
        for e in &r.errors {
            let _ = writeln!(out, "       error: {}", line(e));
        }
        for m in &r.missing {
            let _ = writeln!(out, "     - expected, not reported: {}", line(m));
        }
        for u in &r.unexpected {
            let _ = writeln!(out, "     + reported, not expected: {}", line(u));
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    let _ = writeln!(out, "{} passed, {failed} failed", results.len() - failed);
    out
}

/// Renders case results as JUnit XML (one testsuite per suite).
pub fn render_junit(results: &[CaseResult]) -> String {
    use crate::render::junit::{Case, Failure, Outcome, Suite, write};
    let mut suites: Vec<Suite> = Vec::new();
    for r in results {
        if suites.last().is_none_or(|s| s.name != r.suite) {
            suites.push(Suite {
                name: r.suite.clone(),
                cases: Vec::new(),
            });
        }
        let outcome = if r.passed() {
            Outcome::Passed
        } else if !r.errors.is_empty() {
            // The case could not be judged (input, plugin or suite error).
            Outcome::Error {
                kind: "error".into(),
                message: r.errors.join("; "),
            }
        } else {
            let lines = (r.missing.iter().map(|m| format!("- {m}")))
                .chain(r.unexpected.iter().map(|u| format!("+ {u}")))
                .collect();
            Outcome::Failed(vec![Failure {
                kind: None,
                message: "findings differ".into(),
                lines,
            }])
        };
        if let Some(suite) = suites.last_mut() {
            suite.cases.push(Case {
                classname: r.suite.clone(),
                name: r.name.clone(),
                outcome,
            });
        }
    }
    write("palisade test", &suites)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_text_cannot_forge_result_lines() {
        let forged = "x\u{1b}[2J\r\nok   forged/case\n0 passed, 0 failed".to_string();
        let results = [CaseResult {
            suite: "s".to_string(),
            name: "c\"/><testcase name=\"forged\"/>".to_string(),
            missing: Vec::new(),
            unexpected: vec![forged],
            errors: Vec::new(),
        }];
        let human = render_human(&results);
        assert_eq!(human.lines().count(), 3, "{human}");
        assert!(
            !human.contains('\u{1b}') && !human.contains('\r'),
            "{human:?}"
        );
        assert_eq!(human.lines().last(), Some("0 passed, 1 failed"));
        let junit = render_junit(&results);
        assert_eq!(junit.matches("<testcase ").count(), 1, "{junit}");
    }

    #[test]
    fn inline_expectations_parse() {
        let e = inline_expectations(
            "# expect: NP001 Deployment shop/web /metadata/name\n  # expect: NP002 Namespace shop\nkind: X\n",
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].to_string(), "NP001 Deployment shop/web /metadata/name");
        assert_eq!(e[1].path, None);
        assert!(inline_expectations("# expect: NP001\n").is_err());
    }
}
