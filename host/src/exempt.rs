//! Exemptions that live outside the manifests (a file with a reason and an
//! expiry date for every entry), the in-manifest `palisade.dev/exempt`
//! annotation, and baselines.
//!
//! Exemptions never hide failures: only findings are exempted, and an expired
//! or unused exemption is itself a finding.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, ErrorKind};
use crate::input::ConfigFile;
use palisade_core::report::RuleInfo;
use palisade_core::report::{Finding, Location, ObjectRef, Severity};

/// The annotation through which an object exempts itself from rules:
/// `palisade.dev/exempt: "NP001,NP002: reason"`.
pub const EXEMPT_ANNOTATION: &str = "palisade.dev/exempt";

/// Whether an object is on the control paths: a control-path kind, or a custom
/// resource that changes traffic (a CiliumNetworkPolicy must not silence
/// the warning about itself).
fn on_control_path(object: &ObjectRef) -> bool {
    crate::kinds::is_control_path_kind(&object.api_version, &object.kind)
}

/// A calendar date (`YYYY-MM-DD`), for exemption expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.trim().splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month: u32 = parts.next()?.parse().ok()?;
        let day: u32 = parts.next()?.parse().ok()?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// Today, in UTC, from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    /// The civil date `days` after 1970-01-01 (Howard Hinnant's algorithm).
    fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Rules the host itself reports about exemptions.
pub(crate) fn host_rules() -> Vec<RuleInfo> {
    vec![
        RuleInfo::new(
            "PAL001",
            "exemption-expired",
            Severity::Error,
            "An exemption is past its expiry date and no longer exempts anything",
            "## What it checks\n\nEvery entry of the exemptions file carries an `expires` date. From that day on the entry stops exempting, and this finding points at it.\n\n## Why it matters\n\nExemptions are debts with a due date; an exemption that outlives its reason silently weakens the policy.\n\n## How to fix\n\nFix the finding it exempted, or renew the exemption with a new reason and date.\n",
        ),
        RuleInfo::new(
            "PAL002",
            "exemption-unused",
            Severity::Warning,
            "An exemption matched no finding",
            "## What it checks\n\nAn entry of the exemptions file that matched no finding in this run.\n\n## Why it matters\n\nStale exemptions hide future regressions of the same object.\n\n## How to fix\n\nRemove the entry.\n",
        ),
        RuleInfo::new(
            "PAL003",
            "exemption-annotation-ignored",
            Severity::Warning,
            "A palisade.dev/exempt annotation was not honoured",
            "## What it checks\n\nA `palisade.dev/exempt` annotation that Palisade ignored: it is malformed (`RULE-ID[,RULE-ID]: reason`), it sits on an object of the control paths (NetworkPolicies, RBAC, service accounts, namespaces, admission webhooks), or the policy set disables annotation exemptions.\n\n## Why it matters\n\nAn object that can exempt itself defeats the check; on control paths, whoever can edit the object could silence the rule guarding it.\n\n## How to fix\n\nMove the exemption to the exemptions file, with a reason and an expiry date.\n",
        ),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawFile {
    api_version: String,
    kind: String,
    #[serde(default)]
    exemptions: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    rules: Vec<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    reason: String,
    expires: String,
}

#[derive(Debug, Clone)]
struct Entry {
    rules: Vec<String>,
    namespace: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    reason: String,
    expires: Date,
    location: Location,
}

/// A parsed exemptions file.
#[derive(Debug, Clone)]
pub struct Exemptions {
    file: String,
    text: std::sync::Arc<str>,
    entries: Vec<Entry>,
}

impl Exemptions {
    /// Reads an exemptions file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Exemptions, Error> {
        let path = path.as_ref();
        let text = crate::fsutil::read_config(path, "exemptions")?;
        Exemptions::parse(&path.display().to_string(), &text)
    }

    /// Parses an exemptions file; `name` is used in locations.
    pub fn parse(name: &str, text: &str) -> Result<Exemptions, Error> {
        let file = ConfigFile::parse(name, text)?;
        let at = |pointer: &str| file.at(pointer);
        let raw: RawFile = serde_json::from_value(file.value().clone()).map_err(|e| {
            Error::at(
                ErrorKind::Policy,
                format!("invalid exemptions file: {e} (every entry needs `rules`, `reason` and `expires`)"),
                at(""),
            )
        })?;
        if raw.api_version != "palisade.dev/v1alpha1" || raw.kind != "Exemptions" {
            return Err(Error::at(
                ErrorKind::Policy,
                "expected `apiVersion: palisade.dev/v1alpha1` and `kind: Exemptions`",
                at("/apiVersion"),
            ));
        }
        let mut entries = Vec::new();
        for (i, e) in raw.exemptions.into_iter().enumerate() {
            let base = format!("/exemptions/{i}");
            if e.reason.trim().is_empty() {
                return Err(Error::at(
                    ErrorKind::Policy,
                    "an exemption needs a non-empty `reason`",
                    at(&format!("{base}/reason")),
                ));
            }
            if e.rules.is_empty() {
                return Err(Error::at(
                    ErrorKind::Policy,
                    "an exemption needs at least one rule ID in `rules`",
                    at(&format!("{base}/rules")),
                ));
            }
            let Some(expires) = Date::parse(&e.expires) else {
                return Err(Error::at(
                    ErrorKind::Policy,
                    format!("`expires` must be a date YYYY-MM-DD, found `{}`", e.expires),
                    at(&format!("{base}/expires")),
                ));
            };
            entries.push(Entry {
                rules: e.rules,
                namespace: e.namespace,
                kind: e.kind,
                name: e.name,
                labels: e.labels,
                reason: e.reason,
                expires,
                location: at(&base),
            });
        }
        Ok(Exemptions {
            file: name.to_string(),
            text: text.into(),
            entries,
        })
    }

    pub(crate) fn source(&self) -> (String, std::sync::Arc<str>) {
        (self.file.clone(), self.text.clone())
    }
}

impl Entry {
    fn matches(&self, f: &Finding, labels: &BTreeMap<String, String>) -> bool {
        self.rules.contains(&f.rule)
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| f.object.namespace.as_ref() == Some(ns))
            && self.kind.as_ref().is_none_or(|k| *k == f.object.kind)
            && self.name.as_ref().is_none_or(|n| *n == f.object.name)
            && self
                .labels
                .as_ref()
                .is_none_or(|want| want.iter().all(|(k, v)| labels.get(k) == Some(v)))
    }
}

/// A finding taken out of the report, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Exempted {
    /// The finding.
    pub finding: Finding,
    /// The reason given.
    pub reason: String,
    /// Where the exemption is written.
    pub by: Option<Location>,
}

fn exemption_object(file: &str, index: usize) -> ObjectRef {
    ObjectRef {
        api_version: "palisade.dev/v1alpha1".into(),
        kind: "Exemption".into(),
        namespace: None,
        name: format!("{file}#{index}"),
    }
}

fn host_finding(
    rule: &str,
    severity: Severity,
    message: String,
    object: ObjectRef,
    location: Option<Location>,
    fix: &str,
) -> Finding {
    let mut f = Finding::new("palisade", rule, severity, message, object);
    f.location = location;
    f.remediation = Some(fix.into());
    f
}

/// What applying exemptions did.
pub(crate) struct Applied {
    pub(crate) kept: Vec<Finding>,
    pub(crate) exempted: Vec<Exempted>,
}

/// Per object: labels, annotations and where its annotation is written.
pub(crate) struct ObjectFacts {
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) exempt_annotation: Option<(String, Option<Location>)>,
}

/// Applies the exemptions file and the annotations to `findings`.
pub(crate) fn apply(
    findings: Vec<Finding>,
    file: Option<&Exemptions>,
    annotations_allowed: bool,
    today: Date,
    objects: &BTreeMap<ObjectRef, ObjectFacts>,
) -> Applied {
    let mut kept = Vec::new();
    let mut exempted = Vec::new();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let empty = BTreeMap::new();
    for f in findings {
        let facts = objects.get(&f.object);
        let labels = facts.map_or(&empty, |o| &o.labels);
        // The exemptions file.
        if let Some(ex) = file {
            let hit = ex
                .entries
                .iter()
                .enumerate()
                .find(|(_, e)| e.matches(&f, labels));
            if let Some((i, e)) = hit {
                used.insert(i);
                if e.expires > today {
                    exempted.push(Exempted {
                        finding: f,
                        reason: e.reason.clone(),
                        by: Some(e.location.clone()),
                    });
                    continue;
                }
            }
        }
        // The annotation, where it is honoured (see `ignored_annotations`).
        if let Some((value, location)) = facts.and_then(|o| o.exempt_annotation.as_ref())
            && annotations_allowed
            && !on_control_path(&f.object)
            && let Some((rules, reason)) = parse_annotation(value)
            && rules.contains(&f.rule)
        {
            exempted.push(Exempted {
                finding: f,
                reason,
                by: location.clone(),
            });
            continue;
        }
        kept.push(f);
    }
    kept.extend(ignored_annotations(objects, annotations_allowed));
    if let Some(ex) = file {
        kept.extend(stale_entries(ex, &used, today));
    }
    Applied { kept, exempted }
}

/// PAL003 for every annotation that is not honoured, whether or not a
/// finding concerns its object: the attempt itself matters.
fn ignored_annotations(
    objects: &BTreeMap<ObjectRef, ObjectFacts>,
    annotations_allowed: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (object, facts) in objects {
        let Some((value, location)) = &facts.exempt_annotation else {
            continue;
        };
        let why = if parse_annotation(value).is_none() {
            format!("it is malformed (expected `RULE-ID[,RULE-ID]: reason`, found `{value}`)")
        } else if on_control_path(object) {
            format!(
                "`{}` objects are on the control paths and cannot exempt themselves",
                object.kind
            )
        } else if !annotations_allowed {
            "the policy set disables annotation exemptions".to_string()
        } else {
            continue;
        };
        out.push(host_finding(
            "PAL003",
            Severity::Warning,
            format!("the `{EXEMPT_ANNOTATION}` annotation of {object} is ignored: {why}"),
            object.clone(),
            location.clone(),
            "move the exemption to the exemptions file, with a reason and an expiry date",
        ));
    }
    out
}

/// PAL001 for expired entries of the exemptions file, PAL002 for entries
/// that matched nothing (`used` holds those that did).
fn stale_entries(ex: &Exemptions, used: &BTreeSet<usize>, today: Date) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, e) in ex.entries.iter().enumerate() {
        let object = exemption_object(&ex.file, i);
        if e.expires <= today {
            out.push(host_finding(
                "PAL001",
                Severity::Error,
                format!(
                    "exemption for {} expired on {} (reason: {}); it no longer exempts anything",
                    e.rules.join(", "),
                    e.expires,
                    e.reason
                ),
                object,
                Some(e.location.clone()),
                "fix what it exempted, or renew it with a new reason and expiry date",
            ));
        } else if !used.contains(&i) {
            out.push(host_finding(
                "PAL002",
                Severity::Warning,
                format!(
                    "exemption for {} matched no finding (reason: {})",
                    e.rules.join(", "),
                    e.reason
                ),
                object,
                Some(e.location.clone()),
                "remove the entry",
            ));
        }
    }
    out
}

/// `"NP001,NP002: reason"` → (rules, reason); the reason must not be empty.
fn parse_annotation(value: &str) -> Option<(Vec<String>, String)> {
    let (rules, reason) = value.split_once(':')?;
    let rules: Vec<String> = rules
        .split(',')
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    let reason = reason.trim().to_string();
    (!rules.is_empty() && !reason.is_empty()).then_some((rules, reason))
}

/// The stable fingerprint of a finding ([`Finding::fingerprint`]).
pub(crate) fn fingerprint(f: &Finding) -> String {
    f.fingerprint()
}

/// A set of accepted findings, by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    version: u32,
    findings: Vec<BaselineEntry>,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct BaselineEntry {
    fingerprint: String,
    rule: String,
    object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

impl Baseline {
    /// Reads a baseline written by [`Baseline::render`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Baseline, Error> {
        let path = path.as_ref();
        let text = crate::fsutil::read_config(path, "baseline")?;
        Baseline::parse(&path.display().to_string(), &text)
    }

    /// Parses a baseline's text; `name` names it in errors.
    pub fn parse(name: &str, text: &str) -> Result<Baseline, Error> {
        let raw: RawBaseline = serde_json::from_str(text).map_err(|e| {
            Error::new(ErrorKind::Policy, format!("invalid baseline `{name}`: {e}"))
        })?;
        if raw.version != 1 {
            return Err(Error::new(
                ErrorKind::Policy,
                format!("baseline `{name}` has version {}, expected 1", raw.version),
            ));
        }
        Ok(Baseline {
            fingerprints: raw.findings.into_iter().map(|e| e.fingerprint).collect(),
        })
    }

    /// A baseline file accepting `findings` (sorted, deterministic JSON).
    pub fn render(findings: &[Finding]) -> String {
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .map(|f| BaselineEntry {
                fingerprint: fingerprint(f),
                rule: f.rule.clone(),
                object: f.object.to_string(),
                path: f.path.clone(),
            })
            .collect();
        entries.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        entries.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        let mut out = serde_json::to_string_pretty(&RawBaseline {
            version: 1,
            findings: entries,
        })
        .unwrap_or_default();
        out.push('\n');
        out
    }

    /// Splits findings into those the baseline does not hold and those it
    /// accepts; also returns how many baseline entries matched nothing.
    pub(crate) fn split(&self, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Finding>, usize) {
        let mut seen = BTreeSet::new();
        let mut kept = Vec::new();
        let mut accepted = Vec::new();
        for f in findings {
            let fp = fingerprint(&f);
            if self.fingerprints.contains(&fp) {
                seen.insert(fp);
                accepted.push(f);
            } else {
                kept.push(f);
            }
        }
        (kept, accepted, self.fingerprints.len() - seen.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_compare_and_come_from_the_epoch() {
        assert!(Date::parse("2026-02-29").is_none());
        assert!(Date::parse("2028-02-29").is_some());
        assert!(Date::parse("2026-13-01").is_none());
        assert!(Date::parse("2026-01-31") < Date::parse("2026-02-01"));
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days(20_418).to_string(), "2025-11-26");
        assert_eq!(Date::from_days(11_016).to_string(), "2000-02-29");
    }

    #[test]
    fn annotations_need_rules_and_a_reason() {
        assert_eq!(
            parse_annotation("NP001, NP002: legacy batch job"),
            Some((
                vec!["NP001".into(), "NP002".into()],
                "legacy batch job".into()
            ))
        );
        assert_eq!(parse_annotation("NP001"), None);
        assert_eq!(parse_annotation("NP001:  "), None);
        assert_eq!(parse_annotation(": reason"), None);
    }
}
