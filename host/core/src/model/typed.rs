//! Reading a manifest's JSON into Kubernetes' typed structures, with every
//! wrong type reported at its own field.
//!
//! serde stops at the first error and says where only as a path; a manifest
//! with three wrong fields then took three runs to fix, each error located at
//! the object's start. Here each error's path becomes a JSON pointer (so the
//! diagnostic points at the field), a value of the expected type stands in
//! for the wrong one, and deserialization is tried again, up to
//! `MAX_ERRORS` times.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Most wrong fields reported for one object.
const MAX_ERRORS: usize = 32;

/// Deserializes `value`, or returns every wrong field as (JSON pointer
/// relative to `value`, message).
pub fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, Vec<(String, String)>> {
    // The usual case: the value fits, read in place with no copy.
    if let Ok(t) = <T as serde::Deserialize>::deserialize(value) {
        return Ok(t);
    }
    // Else a copy to patch: each wrong field gets a stand-in, so that every
    // error of the object is found.
    let mut value = value.clone();
    let mut errors: Vec<(String, String)> = Vec::new();
    loop {
        let result: Result<T, _> = serde_path_to_error::deserialize(&value);
        let e = match result {
            Ok(t) if errors.is_empty() => return Ok(t),
            Ok(_) => return Err(errors),
            Err(e) => e,
        };
        let segments = segments(e.path());
        let pointer = pointer(&segments);
        let message = e.inner().to_string();
        // The same place twice: the stand-in did not fit; stop there.
        if errors.iter().any(|(p, _)| *p == pointer) {
            return Err(errors);
        }
        let stand_in = stand_in(&message);
        errors.push((pointer, message));
        let fixed = match stand_in {
            Some(v) => replace(&mut value, &segments, v),
            None => false,
        };
        if !fixed || errors.len() >= MAX_ERRORS {
            return Err(errors);
        }
    }
}

/// A value of the type serde expected (read from its message: "invalid
/// type: string \"x\", expected i32"), to stand in for a wrong one so the
/// fields after it are checked too. `None` when the message names no type
/// (a missing field, an unknown variant).
fn stand_in(message: &str) -> Option<Value> {
    let expected = message.split("expected ").nth(1)?;
    let e = expected.to_ascii_lowercase();
    if e.contains("string") || e.contains("char") {
        Some(Value::String(String::new()))
    } else if e.contains("bool") {
        Some(Value::Bool(false))
    } else if e.contains("sequence") || e.contains("vec") {
        Some(Value::Array(Vec::new()))
    } else if e.contains("struct") || e.contains("map") {
        Some(Value::Object(serde_json::Map::new()))
    } else if [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "integer", "number",
    ]
    .iter()
    .any(|t| e.contains(t))
    {
        Some(Value::from(0))
    } else {
        None
    }
}

/// The path's segments (map keys and sequence indices).
fn segments(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Map { key } => Some(key.clone()),
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect()
}

fn pointer(segments: &[String]) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        crate::input::yaml::push_escaped(&mut out, s);
    }
    out
}

/// Puts `new` at `segments` in `value`; false when there is no such place.
fn replace(value: &mut Value, segments: &[String], new: Value) -> bool {
    let mut at = value;
    for s in segments {
        at = match at {
            Value::Object(map) => match map.get_mut(s) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(items) => match s.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    *at = new;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodSpec;

    #[test]
    fn every_wrong_field_is_reported_at_its_place() {
        let spec = serde_json::json!({
            "containers": [
                {"name": "a", "image": "i", "ports": [{"containerPort": "eighty"}]},
                {"name": 7, "image": "i"}
            ],
            "hostNetwork": "yes"
        });
        let errors = typed::<PodSpec>(&spec).unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/containers/0/ports/0/containerPort",
                "/containers/1/name",
                "/hostNetwork"
            ],
            "{errors:?}"
        );
        assert!(errors[0].1.contains("invalid type"), "{errors:?}");
    }

    #[test]
    fn a_valid_value_deserializes() {
        let spec = serde_json::json!({"containers": [{"name": "a", "image": "i"}]});
        assert!(typed::<PodSpec>(&spec).is_ok());
    }
}
