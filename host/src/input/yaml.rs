//! YAML (and JSON, which YAML 1.2 contains) to JSON values, keeping where every
//! field came from.
//!
//! Plugins see JSON and point at fields with JSON pointers; this module builds,
//! for each document, the map from JSON pointer to `line:column` that turns
//! such a pointer back into a source position.

use std::collections::HashMap;

use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};
use serde_json::{Map, Number, Value};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Pos {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl Pos {
    fn from_marker(m: &saphyr::Marker) -> Pos {
        Pos {
            line: u32::try_from(m.line()).unwrap_or(u32::MAX),
            column: u32::try_from(m.col().saturating_add(1)).unwrap_or(u32::MAX),
        }
    }
}

/// One parsed document of a stream.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) value: Value,
    /// JSON pointer → position. For a mapping entry, the position of its key;
    /// for a sequence item, the position of the item.
    pub(crate) positions: HashMap<String, Pos>,
    /// Where the document's content starts.
    pub(crate) start: Pos,
}

impl Document {
    /// Where the field at `pointer` is written, falling back to the nearest
    /// enclosing field with a position, then to the document's start.
    pub(crate) fn pos(&self, pointer: &str) -> Pos {
        let mut p = pointer.to_string();
        loop {
            if let Some(pos) = self.positions.get(&p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return self.start,
            }
        }
    }
}

/// A problem found while parsing, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) pos: Pos,
    pub(crate) message: String,
}

/// Parses a YAML stream. A syntax error does not lose the stream's other
/// documents: the stream is then split at `---` lines and each part is parsed
/// on its own.
pub(crate) fn parse_stream(text: &str) -> (Vec<Document>, Vec<SyntaxError>) {
    match MarkedYamlOwned::load_from_str(text) {
        Ok(docs) => {
            let mut out = Vec::new();
            let mut errors = Vec::new();
            for node in &docs {
                out.push(convert_document(node, &mut errors));
            }
            (out, errors)
        }
        Err(_) => parse_split(text),
    }
}

/// Fallback for streams with a syntax error: parse each `---`-separated part
/// separately, so only the broken documents are lost.
fn parse_split(text: &str) -> (Vec<Document>, Vec<SyntaxError>) {
    let mut parts: Vec<(usize, String)> = Vec::new();
    let mut current = String::new();
    let mut start_line = 0usize;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if line.starts_with("---") && (line.len() == 3 || line[3..].starts_with([' ', '\n', '\r']))
        {
            parts.push((start_line, std::mem::take(&mut current)));
            start_line = n;
        }
        current.push_str(line);
    }
    parts.push((start_line, current));

    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for (line_offset, part) in parts {
        if part.trim().is_empty() || is_only_comments(&part) {
            continue;
        }
        // Pad with newlines so the parser reports positions in file terms.
        let padded = format!("{}{}", "\n".repeat(line_offset), part);
        match MarkedYamlOwned::load_from_str(&padded) {
            Ok(nodes) => {
                for node in &nodes {
                    docs.push(convert_document(node, &mut errors));
                }
            }
            Err(e) => {
                errors.push(SyntaxError {
                    pos: Pos::from_marker(e.marker()),
                    message: format!("invalid YAML: {}", e.info()),
                });
            }
        }
    }
    (docs, errors)
}

fn is_only_comments(part: &str) -> bool {
    part.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

fn convert_document(node: &MarkedYamlOwned, errors: &mut Vec<SyntaxError>) -> Document {
    let mut positions = HashMap::new();
    let mut pointer = String::new();
    let start = Pos::from_marker(&node.span.start);
    let value = convert(node, &mut pointer, &mut positions, errors, 0);
    positions.entry(String::new()).or_insert(start);
    Document {
        value,
        positions,
        start,
    }
}

/// Nesting deeper than this is rejected rather than risking the stack.
const MAX_DEPTH: usize = 256;

fn convert(
    node: &MarkedYamlOwned,
    pointer: &mut String,
    positions: &mut HashMap<String, Pos>,
    errors: &mut Vec<SyntaxError>,
    depth: usize,
) -> Value {
    let pos = Pos::from_marker(&node.span.start);
    if depth > MAX_DEPTH {
        errors.push(SyntaxError {
            pos,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
        return Value::Null;
    }
    match &node.data {
        YamlDataOwned::Value(s) => scalar(s),
        YamlDataOwned::Representation(s, _, _) => Value::String(s.clone()),
        YamlDataOwned::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                positions.insert(pointer.clone(), Pos::from_marker(&item.span.start));
                out.push(convert(item, pointer, positions, errors, depth + 1));
                pointer.truncate(len);
            }
            Value::Array(out)
        }
        YamlDataOwned::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter() {
                let key = match &k.data {
                    YamlDataOwned::Value(s) => scalar_key(s),
                    YamlDataOwned::Representation(s, _, _) => s.clone(),
                    _ => {
                        errors.push(SyntaxError {
                            pos: Pos::from_marker(&k.span.start),
                            message: "mapping keys must be scalars".to_string(),
                        });
                        continue;
                    }
                };
                let len = pointer.len();
                pointer.push('/');
                push_escaped(pointer, &key);
                positions.insert(pointer.clone(), Pos::from_marker(&k.span.start));
                let value = convert(v, pointer, positions, errors, depth + 1);
                pointer.truncate(len);
                out.insert(key, value);
            }
            Value::Object(out)
        }
        YamlDataOwned::Tagged(tag, inner) => {
            let value = convert(inner, pointer, positions, errors, depth + 1);
            if tag.suffix == "str" {
                match value {
                    Value::Number(n) => Value::String(n.to_string()),
                    Value::Bool(b) => Value::String(b.to_string()),
                    other => other,
                }
            } else {
                value
            }
        }
        YamlDataOwned::Alias(_) => {
            errors.push(SyntaxError {
                pos,
                message: "unresolved YAML alias".to_string(),
            });
            Value::Null
        }
        YamlDataOwned::BadValue => {
            errors.push(SyntaxError {
                pos,
                message: "invalid YAML value".to_string(),
            });
            Value::Null
        }
    }
}

fn scalar(s: &ScalarOwned) -> Value {
    match s {
        ScalarOwned::Null => Value::Null,
        ScalarOwned::Boolean(b) => Value::Bool(*b),
        ScalarOwned::Integer(i) => Value::Number((*i).into()),
        ScalarOwned::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.into_inner().to_string())),
        ScalarOwned::String(s) => Value::String(s.clone()),
    }
}

fn scalar_key(s: &ScalarOwned) -> String {
    match scalar(s) {
        Value::String(s) => s,
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

/// Appends `segment` to a JSON pointer, escaping `~` and `/` (RFC 6901).
pub(crate) fn push_escaped(pointer: &mut String, segment: &str) {
    for c in segment.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_point_at_keys_and_items() {
        let text = "a: 1\nb:\n  - x\n  - c: \"80\"\n    d: 443\n---\nkind: Pod\n";
        let (docs, errors) = parse_stream(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(docs.len(), 2);
        let d = &docs[0];
        assert_eq!(d.positions["/a"], Pos { line: 1, column: 1 });
        assert_eq!(d.positions["/b/1"], Pos { line: 4, column: 5 });
        assert_eq!(d.positions["/b/1/d"], Pos { line: 5, column: 5 });
        assert_eq!(d.value["b"][1]["c"], Value::String("80".into()));
        assert_eq!(d.value["b"][1]["d"], Value::from(443));
        assert_eq!(docs[1].positions["/kind"], Pos { line: 7, column: 1 });
    }

    #[test]
    fn keys_with_slashes_are_escaped() {
        let (docs, _) = parse_stream("labels:\n  kubernetes.io/name: x\n");
        assert!(
            docs[0]
                .positions
                .contains_key("/labels/kubernetes.io~1name")
        );
    }

    #[test]
    fn a_broken_document_keeps_the_others() {
        let text = "kind: A\n---\nkind: [unclosed\n---\nkind: C\n";
        let (docs, errors) = parse_stream(text);
        let kinds: Vec<&str> = docs
            .iter()
            .filter_map(|d| d.value["kind"].as_str())
            .collect();
        assert_eq!(kinds, vec!["A", "C"]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pos.line, 4, "{errors:?}");
        assert_eq!(docs[1].positions["/kind"].line, 5);
    }

    #[test]
    fn json_parses_with_positions() {
        let (docs, errors) = parse_stream("{\"kind\": \"Pod\",\n \"metadata\": {\"name\": \"a\"}}");
        assert!(errors.is_empty());
        assert_eq!(
            docs[0].positions["/metadata/name"],
            Pos {
                line: 2,
                column: 15
            }
        );
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let (_docs, errors) = parse_stream(&text);
        assert!(
            !errors.is_empty(),
            "a billion-laughs document must be rejected"
        );
    }
}
