//! The loader as it was before the one-pass builder: saphyr's own loader
//! (a tree of marked nodes), then a conversion. Kept as the oracle the
//! builder and the JSON fast path are held to.

use super::*;
use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};

pub(super) fn parse_stream(text: &str) -> (Vec<Document>, Vec<SyntaxError>) {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for (line_offset, part) in split_documents(text) {
        // saphyr's loader recurses once per level of block nesting: deep
        // enough input (`- - - … x`) overflows the stack and aborts the
        // process before any check of ours. Count levels on the event
        // stream first (an iterative parser) and refuse such a document.
        if let Some(at) = too_deep(part) {
            errors.push(SyntaxError {
                pos: Pos::from_marker(&at, line_offset),
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
            continue;
        }
        match MarkedYamlOwned::load_from_str(part) {
            Ok(nodes) => {
                let origin = helm_source(part);
                for node in &nodes {
                    let mut doc = convert_document(node, line_offset, &mut errors);
                    doc.origin.clone_from(&origin);
                    docs.push(doc);
                }
            }
            Err(e) => errors.push(SyntaxError {
                pos: Pos::from_marker(e.marker(), line_offset),
                message: format!("invalid YAML: {}", e.info()),
            }),
        }
    }
    (docs, errors)
}

fn too_deep(part: &str) -> Option<saphyr_parser::Marker> {
    use saphyr_parser::{Event, Parser};
    let mut depth = 0usize;
    for event in Parser::new_from_str(part) {
        let Ok((event, span)) = event else {
            return None; // a syntax error: the loader reports it
        };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(span.start);
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn convert_document(
    node: &MarkedYamlOwned,
    line_offset: u32,
    errors: &mut Vec<SyntaxError>,
) -> Document {
    let start = Pos::from_marker(&node.span.start, line_offset);
    let mut cx = Convert {
        positions: Positions::default(),
        errors,
        line_offset,
    };
    let root = cx.positions.open(start, None);
    let value = cx.convert(node, 0);
    cx.positions.close(root);
    let mut positions = cx.positions;
    positions.nodes.shrink_to_fit();
    Document {
        value,
        positions,
        start,
        origin: None,
    }
}

struct Convert<'a> {
    positions: Positions,
    errors: &'a mut Vec<SyntaxError>,
    line_offset: u32,
}

impl Convert<'_> {
    fn pos(&self, m: &saphyr_parser::Marker) -> Pos {
        Pos::from_marker(m, self.line_offset)
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(SyntaxError {
            pos,
            message: message.into(),
        });
    }

    fn convert(&mut self, node: &MarkedYamlOwned, depth: usize) -> Value {
        let pos = self.pos(&node.span.start);
        if depth > MAX_DEPTH {
            self.error(pos, format!("nesting deeper than {MAX_DEPTH} levels"));
            return Value::Null;
        }
        match &node.data {
            YamlDataOwned::Value(s) => scalar(s),
            YamlDataOwned::Representation(s, _, _) => Value::String(s.clone()),
            YamlDataOwned::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let i = self.positions.open(self.pos(&item.span.start), None);
                    out.push(self.convert(item, depth + 1));
                    self.positions.close(i);
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
                            let at = self.pos(&k.span.start);
                            self.error(at, "mapping keys must be scalars");
                            continue;
                        }
                    };
                    let i = self.positions.open(self.pos(&k.span.start), Some(&key));
                    let value = self.convert(v, depth + 1);
                    self.positions.close(i);
                    out.insert(key, value);
                }
                Value::Object(out)
            }
            YamlDataOwned::Tagged(tag, inner) => {
                let value = self.convert(inner, depth + 1);
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
                self.error(pos, "unresolved YAML alias");
                Value::Null
            }
            YamlDataOwned::BadValue => {
                self.error(pos, "invalid YAML value");
                Value::Null
            }
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
