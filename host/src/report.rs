//! What a check produces: findings (policy verdicts) and diagnostics
//! (failures), kept apart.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

pub use palisade_core::report::{
    Diagnostic, DiagnosticKind, Finding, Location, NotEvaluated, ObjectRef, PluginFailure,
    RelatedLocation, RuleInfo, Severity,
};

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
    /// Findings a baseline accepts (counted in `summary.baselined`): known
    /// before, not reported again.
    pub baselined: Vec<Finding>,
    /// Objects read but not evaluated, in input order (counted by kind in
    /// `summary.not_evaluated`).
    pub not_evaluated: Vec<NotEvaluated>,
    pub(crate) sources: BTreeMap<String, Arc<str>>,
}

impl Report {
    /// Drops findings the baseline accepts, counting them and the baseline
    /// entries that no longer occur. Diagnostics are never affected.
    pub fn apply_baseline(&mut self, baseline: &crate::Baseline) {
        let findings = std::mem::take(&mut self.findings);
        let (kept, accepted, stale) = baseline.split(findings);
        self.findings = kept;
        self.baselined.extend(accepted);
        self.summary.baselined = self.baselined.len();
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
        let order = |a: &Finding, b: &Finding| {
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
        };
        self.findings.sort_by(order);
        self.baselined.sort_by(order);
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
