//! What a check produces, in the types every layer shares: findings
//! (policy verdicts) and diagnostics (failures), kept apart, with the
//! positions they point at.

use std::fmt;

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

impl Finding {
    /// A finding about `object`, not yet located, with no path,
    /// remediation or related location (set the fields after).
    pub fn new(
        plugin: impl Into<String>,
        rule: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
        object: ObjectRef,
    ) -> Finding {
        Finding {
            plugin: plugin.into(),
            rule: rule.into(),
            severity,
            message: message.into(),
            object,
            location: None,
            path: None,
            remediation: None,
            related: Vec::new(),
        }
    }

    /// A stable fingerprint: rule, object identity (API group, kind,
    /// namespace, name) and field path — not line numbers, not the API
    /// version, not the message. Exemptions and baselines hold on to it.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest as _, Sha256};
        let group = self
            .object
            .api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g);
        let key = format!(
            "{}\0{}\0{}\0{}\0{}\0{}",
            self.rule,
            group,
            self.object.kind,
            self.object.namespace.as_deref().unwrap_or(""),
            self.object.name,
            self.path.as_deref().unwrap_or("")
        );
        let digest = Sha256::digest(key.as_bytes());
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
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
    #[doc(hidden)]
    pub fn input(message: impl Into<String>, location: Option<Location>) -> Diagnostic {
        Diagnostic {
            kind: DiagnosticKind::Input,
            message: message.into(),
            location,
            plugin: None,
            cause: None,
        }
    }

    #[doc(hidden)]
    pub fn plugin(plugin: &str, cause: PluginFailure, message: String) -> Diagnostic {
        Diagnostic {
            kind: DiagnosticKind::Plugin,
            message,
            location: None,
            plugin: Some(plugin.to_string()),
            cause: Some(cause),
        }
    }
}

/// An object Palisade read but does not evaluate: a custom resource, or a
/// Kustomize file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NotEvaluated {
    /// `group/Kind`, as counted in the report summary's `not_evaluated`.
    pub kind: String,
    /// The object, when it has a name (old kustomization files have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// Where it is written.
    pub location: Option<Location>,
}

/// The documentation and defaults of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RuleInfo {
    /// Stable ID.
    pub id: String,
    /// Kebab-case name.
    pub name: String,
    /// Severity unless a policy set overrides it.
    pub default_severity: Severity,
    /// One line.
    pub summary: String,
    /// Markdown documentation.
    pub doc: String,
}

impl RuleInfo {
    /// A rule's documentation and defaults.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        default_severity: Severity,
        summary: impl Into<String>,
        doc: impl Into<String>,
    ) -> RuleInfo {
        RuleInfo {
            id: id.into(),
            name: name.into(),
            default_severity,
            summary: summary.into(),
            doc: doc.into(),
        }
    }
}
