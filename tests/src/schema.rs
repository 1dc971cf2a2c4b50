//! A small JSON Schema (draft-04) validator, enough for the SARIF 2.1.0
//! schema: it supports exactly the keywords that schema uses and panics on
//! any other, so it can never pass a document by ignoring a constraint.

use serde_json::Value;

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "id",
    "title",
    "description",
    "default",
    "format",
    "definitions",
];

/// Validates `doc` against `schema` (whose `$ref`s resolve in `root`);
/// returns the violations, each with its JSON pointer.
pub fn validate(root: &Value, doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(root, root, doc, "", &mut errors);
    errors
}

fn resolve<'a>(root: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local $refs are supported: {reference}"));
    root.pointer(pointer)
        .unwrap_or_else(|| panic!("unresolvable $ref {reference}"))
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.as_i64().is_some() || v.as_u64().is_some(),
        other => panic!("unknown type {other}"),
    }
}

fn pattern_ok(pattern: &str, s: &str) -> bool {
    let hex = |c: char| c.is_ascii_hexdigit();
    match pattern {
        "[^/]+/.+" => s.find('/').is_some_and(|i| i > 0 && i + 1 < s.len()),
        "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$" =>
        {
            let parts: Vec<&str> = s.split('-').collect();
            parts.len() == 5
                && [8, 4, 4, 4, 12]
                    .iter()
                    .zip(&parts)
                    .all(|(n, p)| p.len() == *n && p.chars().all(hex))
                && parts[2].starts_with(['1', '2', '3', '4', '5'])
                && parts[3].starts_with(['8', '9', 'a', 'b', 'A', 'B'])
        }
        other => panic!("unsupported pattern {other}"),
    }
}

fn check(root: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    for (key, rule) in obj {
        match key.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "$ref" => check(root, resolve(root, rule.as_str().unwrap()), v, at, errors),
            "type" => {
                let ok = match rule {
                    Value::String(t) => type_ok(t, v),
                    Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)),
                    _ => panic!("bad type keyword"),
                };
                if !ok {
                    errors.push(format!("{at}: expected type {rule}, found {v}"));
                }
            }
            "enum" => {
                if !rule.as_array().unwrap().contains(v) {
                    errors.push(format!("{at}: {v} is not one of {rule}"));
                }
            }
            "properties" => {
                if let Some(o) = v.as_object() {
                    for (name, sub) in rule.as_object().unwrap() {
                        if let Some(child) = o.get(name) {
                            check(root, sub, child, &format!("{at}/{name}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(o) = v.as_object() {
                    let declared = obj.get("properties").and_then(Value::as_object);
                    for (name, child) in o {
                        if declared.is_some_and(|d| d.contains_key(name)) {
                            continue;
                        }
                        match rule {
                            Value::Bool(false) => {
                                errors.push(format!("{at}: unexpected property `{name}`"))
                            }
                            Value::Bool(true) => {}
                            sub => check(root, sub, child, &format!("{at}/{name}"), errors),
                        }
                    }
                }
            }
            "required" => {
                if let Some(o) = v.as_object() {
                    for name in rule.as_array().unwrap() {
                        if !o.contains_key(name.as_str().unwrap()) {
                            errors.push(format!("{at}: missing required property {name}"));
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = v.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        check(root, rule, item, &format!("{at}/{i}"), errors);
                    }
                }
            }
            "minItems" => {
                if let Some(items) = v.as_array()
                    && (items.len() as u64) < rule.as_u64().unwrap()
                {
                    errors.push(format!("{at}: fewer than {rule} items"));
                }
            }
            "uniqueItems" => {
                if rule == &Value::Bool(true)
                    && let Some(items) = v.as_array()
                {
                    for (i, a) in items.iter().enumerate() {
                        if items[..i].contains(a) {
                            errors.push(format!("{at}: duplicate item {a}"));
                        }
                    }
                }
            }
            "minimum" => {
                if let Some(n) = v.as_f64()
                    && n < rule.as_f64().unwrap()
                {
                    errors.push(format!("{at}: {n} is below the minimum {rule}"));
                }
            }
            "maximum" => {
                if let Some(n) = v.as_f64()
                    && n > rule.as_f64().unwrap()
                {
                    errors.push(format!("{at}: {n} is above the maximum {rule}"));
                }
            }
            "pattern" => {
                if let Some(s) = v.as_str()
                    && !pattern_ok(rule.as_str().unwrap(), s)
                {
                    errors.push(format!("{at}: `{s}` does not match {rule}"));
                }
            }
            "anyOf" | "oneOf" => {
                let passing = rule
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|sub| {
                        let mut e = Vec::new();
                        check(root, sub, v, at, &mut e);
                        e.is_empty()
                    })
                    .count();
                let ok = if key == "anyOf" {
                    passing >= 1
                } else {
                    passing == 1
                };
                if !ok {
                    errors.push(format!("{at}: {passing} alternatives of {key} match"));
                }
            }
            other => panic!("unsupported schema keyword `{other}` at {at}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_validator_rejects_what_it_should() {
        let schema = json!({
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"type": "integer", "minimum": 1}, "b": {"enum": ["x"]}},
            "additionalProperties": false
        });
        assert!(validate(&schema, &json!({"a": 1, "b": "x"})).is_empty());
        assert_eq!(validate(&schema, &json!({"b": "y", "c": 1})).len(), 3);
        assert_eq!(validate(&schema, &json!({"a": 0})).len(), 1);
    }
}
