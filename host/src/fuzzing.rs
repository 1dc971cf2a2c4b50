//! Thin entry points into parsers that have no public API of their own, for
//! the property tests in `tests/tests/fuzz.rs`. Not a stable API.
//!
//! Each takes text and returns plain data, so the tests can hold the parsers
//! to their promises (positions inside the text, a position for every field,
//! determinism) without the crate exposing its internal types.

use serde_json::Value;

use crate::input::yaml;

/// One parsed document: its JSON value, where its content starts, and the
/// position (line, column) of every field of the value, by JSON pointer.
pub type YamlDocument = (Value, (u32, u32), Vec<(String, u32, u32)>);

/// A syntax error: line, column and message.
pub type YamlError = (u32, u32, String);

/// Parses a YAML stream as the loader does, and looks up the position of
/// every field of every document (`""` for the document itself), in value
/// order.
pub fn yaml_positions(text: &str) -> (Vec<YamlDocument>, Vec<YamlError>) {
    let (docs, errors) = yaml::parse_stream(text);
    let documents = docs
        .iter()
        .map(|doc| {
            let mut pointers = vec![String::new()];
            let mut pointer = String::new();
            collect_pointers(&doc.value, &mut pointer, &mut pointers);
            let positions = pointers
                .into_iter()
                .map(|p| {
                    let pos = doc.pos(&p);
                    (p, pos.line, pos.column)
                })
                .collect();
            (
                doc.value.clone(),
                (doc.start.line, doc.start.column),
                positions,
            )
        })
        .collect();
    let errors = errors
        .into_iter()
        .map(|e| (e.pos.line, e.pos.column, e.message))
        .collect();
    (documents, errors)
}

/// Every JSON pointer below `value` (not `value` itself), depth first.
// INVARIANT: the loader rejects nesting deeper than 256 levels, so the
// recursion is bounded.
fn collect_pointers(value: &Value, pointer: &mut String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let len = pointer.len();
                pointer.push('/');
                yaml::push_escaped(pointer, key);
                out.push(pointer.clone());
                collect_pointers(child, pointer, out);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                out.push(pointer.clone());
                collect_pointers(child, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Parses a squid configuration embedded in a manifest (no directory: an
/// `include` is an error), and returns its problems as (line, message).
pub fn squid_errors(text: &str) -> Vec<(u32, String)> {
    crate::squid::SquidConfig::parse("squid.conf", text, &crate::squid::Files::None, 0)
        .errors
        .into_iter()
        .map(|e| (e.line, e.message))
        .collect()
}
