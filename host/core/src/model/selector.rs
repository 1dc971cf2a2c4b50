//! Label selectors: normalization from the API form and matching, exactly as
//! `k8s.io/apimachinery/pkg/labels` defines them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as ApiSelector;

use crate::facts::{LabelSelector, SelectorOperator, SelectorRequirement};

/// Normalizes an API selector: `matchLabels` entries become `In` with one
/// value; requirements keep their order (matchLabels first, sorted by key).
/// Returns an error message for selectors the API server would reject.
pub fn normalize(sel: &ApiSelector) -> Result<LabelSelector, String> {
    let mut requirements = Vec::new();
    if let Some(labels) = &sel.match_labels {
        for (k, v) in labels {
            requirements.push(SelectorRequirement {
                key: k.clone(),
                operator: SelectorOperator::In,
                values: vec![v.clone()],
            });
        }
    }
    for expr in sel.match_expressions.iter().flatten() {
        let values = expr.values.clone().unwrap_or_default();
        let operator = match expr.operator.as_str() {
            "In" => SelectorOperator::In,
            "NotIn" => SelectorOperator::NotIn,
            "Exists" => SelectorOperator::Exists,
            "DoesNotExist" => SelectorOperator::DoesNotExist,
            other => {
                return Err(format!(
                    "unknown selector operator `{other}` (expected In, NotIn, Exists or DoesNotExist)"
                ));
            }
        };
        match operator {
            SelectorOperator::In | SelectorOperator::NotIn if values.is_empty() => {
                return Err(format!(
                    "selector operator `{}` on key `{}` needs at least one value",
                    expr.operator, expr.key
                ));
            }
            SelectorOperator::Exists | SelectorOperator::DoesNotExist if !values.is_empty() => {
                return Err(format!(
                    "selector operator `{}` on key `{}` takes no values",
                    expr.operator, expr.key
                ));
            }
            _ => {}
        }
        requirements.push(SelectorRequirement {
            key: expr.key.clone(),
            operator,
            values,
        });
    }
    Ok(LabelSelector { requirements })
}

/// The selector as `kubectl` writes one (`app=web,tier in (a,b),!legacy`).
pub fn display(sel: &LabelSelector) -> String {
    sel.requirements
        .iter()
        .map(|r| match r.operator {
            SelectorOperator::In if r.values.len() == 1 => format!("{}={}", r.key, r.values[0]),
            SelectorOperator::In => format!("{} in ({})", r.key, r.values.join(",")),
            SelectorOperator::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
            SelectorOperator::Exists => r.key.clone(),
            SelectorOperator::DoesNotExist => format!("!{}", r.key),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether `labels` satisfy every requirement. `NotIn` and `DoesNotExist`
/// match objects that lack the key; an empty selector matches everything.
pub fn matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    sel.requirements.iter().all(|r| {
        let value = labels.get(&r.key);
        match r.operator {
            SelectorOperator::In => value.is_some_and(|v| r.values.contains(v)),
            SelectorOperator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
            SelectorOperator::Exists => value.is_some(),
            SelectorOperator::DoesNotExist => value.is_none(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> ApiSelector {
        ApiSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: key.to_string(),
                operator: op.to_string(),
                values: if values.is_empty() {
                    None
                } else {
                    Some(values.iter().map(|v| v.to_string()).collect())
                },
            }]),
        }
    }

    /// (operator, values, object labels, matches)
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        bool,
    );

    #[test]
    fn operators_follow_apimachinery() {
        let cases: &[Case] = &[
            ("In", &["a"], &[("k", "a")], true),
            ("In", &["a"], &[("k", "b")], false),
            ("In", &["a"], &[], false),
            ("NotIn", &["a"], &[("k", "a")], false),
            ("NotIn", &["a"], &[("k", "b")], true),
            ("NotIn", &["a"], &[], true),
            ("Exists", &[], &[("k", "")], true),
            ("Exists", &[], &[], false),
            ("DoesNotExist", &[], &[("k", "x")], false),
            ("DoesNotExist", &[], &[], true),
        ];
        for (op, values, object, want) in cases {
            let sel = normalize(&expr("k", op, values)).unwrap();
            assert_eq!(
                matches(&sel, &labels(object)),
                *want,
                "{op} {values:?} on {object:?}"
            );
        }
    }

    #[test]
    fn empty_selector_matches_everything() {
        let sel = normalize(&ApiSelector::default()).unwrap();
        assert!(matches(&sel, &labels(&[])));
        assert!(matches(&sel, &labels(&[("a", "b")])));
    }

    #[test]
    fn invalid_requirements_are_rejected() {
        assert!(normalize(&expr("k", "In", &[])).is_err());
        assert!(normalize(&expr("k", "Exists", &["x"])).is_err());
        assert!(normalize(&expr("k", "Equals", &["x"])).is_err());
    }
}
