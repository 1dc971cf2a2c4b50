//! What a check produces: findings (policy verdicts) and diagnostics
//! (failures), kept apart.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// How serious a finding is, from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a check by default.
    Info,
    /// Likely a problem.
    Warning,
    /// A violation of the intended shape.
    Error,
}

impl Severity {
    /// The lower-case name used in reports and policy sets.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `info`, `warning` or `error`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A position in an input file (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// The file as it was named on the command line (or found under a named
    /// directory); `<stdin>` for standard input.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The file this text was rendered from, when `file` is a rendered
    /// stream: the template named by Helm's `# Source:` comment at the top of
    /// the document, or the file in Kustomize's `config.kubernetes.io/origin`
    /// annotation. `line` and `column` stay positions in `file`: the
    /// template's own lines are not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Location {
    /// A position in `file` with no origin.
    pub fn new(file: impl Into<String>, line: u32, column: u32) -> Location {
        Location {
            file: file.into(),
            line,
            column,
            origin: None,
        }
    }
}

impl Location {
    /// The file to annotate when `file` is a stream Palisade rendered or
    /// read (`<stdin>`, `<kustomize DIR>`): the origin, when it is a plain
    /// relative path (not a URL, not climbing out with `..`).
    pub fn origin_file(&self) -> Option<&str> {
        let origin = self.origin.as_deref()?;
        let plain = self.file.starts_with('<')
            && !origin.contains("://")
            && !origin.starts_with('/')
            && !origin.split('/').any(|part| part == "..");
        plain.then_some(origin)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)?;
        if let Some(origin) = &self.origin {
            write!(f, " (from {origin})")?;
        }
        Ok(())
    }
}

/// Identifies a Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace` (defaulted to `default` for namespaced kinds);
    /// absent for cluster-scoped objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A policy verdict: a rule found something wrong with an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// The plugin that reported it.
    pub plugin: String,
    /// The rule's stable ID.
    pub rule: String,
    /// Severity after the policy set's overrides.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// The object it is about.
    pub object: ObjectRef,
    /// Where the field at fault (or the object) is written.
    pub location: Option<Location>,
    /// JSON pointer to the field inside the object, when the rule named one.
    pub path: Option<String>,
    /// How to fix it, when the rule says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// Other places that explain the finding, set by the host: when a
    /// finding about a container's variable is located at the ConfigMap key
    /// its value comes from, the workload that consumes that key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedLocation>,
}

/// A place related to a finding, with what it has to do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RelatedLocation {
    /// How this place relates to the finding (written by the host).
    pub message: String,
    /// The object it is in.
    pub object: ObjectRef,
    /// JSON pointer to the field inside the object.
    pub path: String,
    /// Where that field is written.
    pub location: Option<Location>,
}

/// Why a plugin evaluation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginFailure {
    /// It executed more instructions than its fuel allows (the
    /// deterministic budget), counting the host work its queries cost.
    OutOfFuel,
    /// It ran past the wall-clock deadline (the backstop behind fuel).
    Timeout,
    /// It tried to grow its linear memory past the cap.
    MemoryLimit,
    /// It exhausted the WebAssembly stack (usually unbounded recursion).
    StackOverflow,
    /// It panicked; the message is included when the plugin reported it.
    Panic,
    /// Any other trap (including a call to a WASI function the sandbox does
    /// not provide).
    Trap,
    /// It returned more findings or more bytes than allowed.
    OutputLimit,
    /// Its output broke the contract (unknown rule ID, unknown object,
    /// invalid field path).
    MalformedOutput,
    /// It returned an error of its own.
    PluginError,
}

impl PluginFailure {
    /// Short kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginFailure::OutOfFuel => "out-of-fuel",
            PluginFailure::Timeout => "timeout",
            PluginFailure::MemoryLimit => "memory-limit",
            PluginFailure::StackOverflow => "stack-overflow",
            PluginFailure::Panic => "panic",
            PluginFailure::Trap => "trap",
            PluginFailure::OutputLimit => "output-limit",
            PluginFailure::MalformedOutput => "malformed-output",
            PluginFailure::PluginError => "plugin-error",
        }
    }
}

/// What kind of failure a diagnostic reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticKind {
    /// An input could not be read, parsed or understood.
    Input,
    /// A plugin evaluation failed.
    Plugin,
}

/// A failure: something that could not be checked. Any diagnostic makes a
/// check fail (exit status 2): a failure never reads as a pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Input or plugin.
    pub kind: DiagnosticKind,
    /// What went wrong.
    pub message: String,
    /// Where, for input diagnostics.
    pub location: Option<Location>,
    /// The plugin, for plugin diagnostics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// The cause, for plugin diagnostics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<PluginFailure>,
}

impl Diagnostic {
    pub(crate) fn input(message: impl Into<String>, location: Option<Location>) -> Diagnostic {
        Diagnostic {
            kind: DiagnosticKind::Input,
            message: message.into(),
            location,
            plugin: None,
            cause: None,
        }
    }

    pub(crate) fn plugin(plugin: &str, cause: PluginFailure, message: String) -> Diagnostic {
        Diagnostic {
            kind: DiagnosticKind::Plugin,
            message,
            location: None,
            plugin: Some(plugin.to_string()),
            cause: Some(cause),
        }
    }
}

/// Counts over a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Summary {
    /// Input files read.
    pub files: usize,
    /// Kubernetes objects found.
    pub objects: usize,
    /// Plugins evaluated.
    pub plugins: usize,
    /// Findings per severity.
    pub findings: BTreeMap<Severity, usize>,
    /// Diagnostics (failures).
    pub errors: usize,
    /// Findings exempted by the exemptions file or annotations.
    pub exempted: usize,
    /// Findings suppressed by a baseline.
    pub baselined: usize,
    /// Baseline entries that matched no finding (fixed since).
    pub baseline_stale: usize,
    /// Objects of kinds Palisade does not evaluate (custom resources), by
    /// `group/Kind`; kinds the policy set lists under `ignoreKinds` are not
    /// counted.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub not_evaluated: BTreeMap<String, usize>,
}

/// An object Palisade read but does not evaluate: a custom resource, or a
/// Kustomize file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NotEvaluated {
    /// `group/Kind`, as counted in [`Summary::not_evaluated`].
    pub kind: String,
    /// The object, when it has a name (old kustomization files have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// Where it is written.
    pub location: Option<Location>,
}

/// The outcome of a check: findings and diagnostics, sorted, plus the source
/// texts that renderers quote.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Report {
    /// Policy verdicts, sorted by file, position and rule.
    pub findings: Vec<Finding>,
    /// Failures, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub summary: Summary,
    /// What plugins logged during evaluation: (plugin ID, `level: message`).
    pub plugin_log: Vec<(String, String)>,
    /// Every rule that was loaded: (plugin ID, rule), including the host's
    /// own `PAL` rules about exemptions.
    pub rules: Vec<(String, crate::RuleInfo)>,
    /// Findings taken out by exemptions, with their reasons.
    pub exempted: Vec<crate::exempt::Exempted>,
    /// Objects read but not evaluated, in input order (counted by kind in
    /// `summary.not_evaluated`).
    pub not_evaluated: Vec<NotEvaluated>,
    pub(crate) sources: BTreeMap<String, Arc<str>>,
}

impl Finding {
    /// A stable fingerprint: rule, object identity (API group, kind,
    /// namespace, name) and field path; not line numbers or messages.
    pub fn fingerprint(&self) -> String {
        crate::exempt::fingerprint(self)
    }
}

impl Report {
    /// Drops findings the baseline accepts, counting them and the baseline
    /// entries that no longer occur. Diagnostics are never affected.
    pub fn apply_baseline(&mut self, baseline: &crate::Baseline) {
        let findings = std::mem::take(&mut self.findings);
        let (kept, suppressed, stale) = baseline.apply(findings);
        self.findings = kept;
        self.summary.baselined = suppressed;
        self.summary.baseline_stale = stale;
        self.finish();
    }

    /// The text of an input file, for quoting it.
    pub fn source(&self, file: &str) -> Option<&str> {
        self.sources.get(file).map(|s| &**s)
    }

    /// Whether any finding is at or above `threshold`.
    pub fn has_findings_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }

    /// Sorts findings and diagnostics and computes the summary, so output is
    /// byte-identical across runs.
    pub(crate) fn finish(&mut self) {
        self.findings.sort_by(|a, b| {
            (
                &a.location,
                &a.rule,
                &a.object,
                &a.path,
                &a.message,
                &a.plugin,
            )
                .cmp(&(
                    &b.location,
                    &b.rule,
                    &b.object,
                    &b.path,
                    &b.message,
                    &b.plugin,
                ))
        });
        self.findings.dedup();
        self.diagnostics.sort_by(|a, b| {
            (&a.kind, &a.location, &a.plugin, &a.message).cmp(&(
                &b.kind,
                &b.location,
                &b.plugin,
                &b.message,
            ))
        });
        self.summary.findings.clear();
        for f in &self.findings {
            *self.summary.findings.entry(f.severity).or_default() += 1;
        }
        self.summary.errors = self.diagnostics.len();
        self.exempted.sort_by(|a, b| {
            (&a.finding.location, &a.finding.rule, &a.finding.object).cmp(&(
                &b.finding.location,
                &b.finding.rule,
                &b.finding.object,
            ))
        });
        self.summary.exempted = self.exempted.len();
    }
}
