//! YAML (and JSON, which YAML 1.2 contains) to JSON values, keeping where every
//! field came from.
//!
//! Plugins see JSON and point at fields with JSON pointers; this module builds,
//! for each document, the map from JSON pointer to `line:column` that turns
//! such a pointer back into a source position.

use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};
use serde_json::{Map, Number, Value};
use std::sync::Arc;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    /// A parser position, in a part that starts `line_offset` lines into
    /// the file.
    fn from_marker(m: &saphyr::Marker, line_offset: u32) -> Pos {
        Pos {
            line: u32::try_from(m.line())
                .unwrap_or(u32::MAX)
                .saturating_add(line_offset),
            column: u32::try_from(m.col().saturating_add(1)).unwrap_or(u32::MAX),
        }
    }
}

/// One parsed document of a stream.
#[derive(Debug)]
pub struct Document {
    pub value: Value,
    /// Where every node of `value` is written.
    pub positions: Positions,
    /// Where the document's content starts.
    pub start: Pos,
    /// The template it was rendered from: Helm's `# Source: chart/templates/x.yaml`
    /// comment above the document's content.
    pub origin: Option<Arc<str>>,
}

impl Document {
    /// Where the field at `pointer` is written, falling back to the nearest
    /// enclosing field with a position, then to the document's start.
    pub fn pos(&self, pointer: &str) -> Pos {
        self.positions.find(pointer).unwrap_or(self.start)
    }
}

/// The positions of a document's nodes, compactly: one 16-byte entry per
/// node in document order (a node's children follow it), so memory grows
/// with the number of nodes, never with their depth (a `String` pointer per
/// node made a 334 KB document of deep keys take 2.4 GiB).
#[derive(Debug, Default)]
pub struct Positions {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    /// For a mapping entry, where its key is; for a sequence item, where the
    /// item is; for the root, where the document starts.
    pos: Pos,
    /// Index just past this node's subtree: its next sibling.
    end: u32,
    /// Hash of the mapping key this node is the value of (0 for items).
    key: u32,
}

/// FNV-1a, 32 bits: tells sibling keys apart (a collision would only point
/// at a sibling's position, never change a value).
fn key_hash(key: &str) -> u32 {
    key.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

impl Positions {
    /// The position of the node at `pointer` (RFC 6901), or of its nearest
    /// ancestor that has one; `None` for an empty tree.
    pub fn find(&self, pointer: &str) -> Option<Pos> {
        self.find_from(0, pointer)
    }

    /// Like [`find`](Self::find), starting at node `root`.
    pub fn find_from(&self, root: u32, pointer: &str) -> Option<Pos> {
        let mut at = root as usize;
        let mut pos = self.nodes.get(at)?.pos;
        let Some(segments) = pointer.strip_prefix('/') else {
            return Some(pos);
        };
        for segment in segments.split('/') {
            let Some(child) = self.child(at, segment) else {
                break;
            };
            at = child;
            pos = self.nodes.get(at).map_or(pos, |n| n.pos);
        }
        Some(pos)
    }

    /// The index of the node `segment` names below node `at`: a mapping
    /// key (the last entry with that key wins, as in the value) or a
    /// sequence index.
    fn child(&self, at: usize, segment: &str) -> Option<usize> {
        let end = self.nodes.get(at)?.end as usize;
        let key = unescape(segment);
        let hash = key_hash(&key);
        let index = segment.parse::<usize>().ok();
        let mut found = None;
        let mut c = at + 1;
        let mut n = 0usize;
        while c < end {
            let node = self.nodes.get(c)?;
            if node.key == 0 && index == Some(n) {
                return Some(c);
            }
            if node.key != 0 && node.key == hash {
                found = Some(c);
            }
            c = node.end as usize;
            n += 1;
        }
        found
    }

    /// The index of the node at `pointer`, exactly (for object bases).
    pub fn index_of(&self, pointer: &str) -> Option<u32> {
        let mut at = 0usize;
        self.nodes.first()?;
        for segment in pointer.split('/').skip(1) {
            at = self.child(at, segment)?;
        }
        u32::try_from(at).ok()
    }

    /// Starts a node; returns its index for [`close`](Self::close).
    fn open(&mut self, pos: Pos, key: Option<&str>) -> usize {
        let i = self.nodes.len();
        self.nodes.push(Node {
            pos,
            end: 0,
            // 0 marks sequence items; a key hashing to 0 becomes 1.
            key: key.map_or(0, |k| key_hash(k).max(1)),
        });
        i
    }

    fn close(&mut self, i: usize) {
        let end = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        if let Some(n) = self.nodes.get_mut(i) {
            n.end = end;
        }
    }
}

/// A JSON pointer segment without its escapes (`~1` is `/`, `~0` is `~`).
fn unescape(segment: &str) -> std::borrow::Cow<'_, str> {
    if segment.contains('~') {
        segment.replace("~1", "/").replace("~0", "~").into()
    } else {
        segment.into()
    }
}

/// A problem found while parsing, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses a YAML stream. Each `---`-separated document is parsed on its
/// own, so a syntax error loses only its document, and the cost stays linear
/// however many documents are broken (a document marker at the start of a
/// line ends any block scalar, so splitting there is what YAML does).
pub fn parse_stream(text: &str) -> (Vec<Document>, Vec<SyntaxError>) {
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

/// Longest template name kept from a `# Source:` comment.
const MAX_ORIGIN: usize = 512;

/// The template named by a `# Source: PATH` comment before the document's
/// content, as `helm template` writes above every document it renders. The
/// last one counts: a template that renders only comments leaves its own
/// `# Source:` in the same part, above the next document's.
fn helm_source(part: &str) -> Option<Arc<str>> {
    part.lines()
        .take_while(|line| !carries_content(line))
        .filter_map(|line| line.trim().strip_prefix("# Source:"))
        .last()
        .map(str::trim)
        .filter(|path| !path.is_empty() && path.len() <= MAX_ORIGIN)
        .filter(|path| !path.chars().any(char::is_control))
        .map(Arc::from)
}

/// Where a document first nests deeper than [`MAX_DEPTH`], if it does.
fn too_deep(part: &str) -> Option<saphyr::Marker> {
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

/// Splits a stream before each `---` line (directives stay with the
/// document they precede), as (lines before the part, part); parts with no
/// content (comments only) are left out.
fn split_documents(text: &str) -> Vec<(u32, &str)> {
    let mut parts = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut offset = 0usize;
    let mut has_content = false;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let marker = line.starts_with("---")
            && (line.len() == 3 || line[3..].starts_with([' ', '\t', '\n', '\r']));
        if marker && has_content {
            parts.push((start_line, &text[start..offset]));
            start = offset;
            start_line = u32::try_from(n).unwrap_or(u32::MAX);
            has_content = false;
        }
        has_content |= carries_content(line);
        offset += line.len();
    }
    if has_content {
        parts.push((start_line, &text[start..]));
    }
    parts
}

/// Whether a line holds part of a document: not blank, a comment, a
/// directive or a bare `---`/`...` marker (a byte order mark aside).
fn carries_content(line: &str) -> bool {
    let t = line.trim().trim_start_matches('\u{feff}');
    let t = t.strip_prefix("---").map_or(t, str::trim_start);
    !(t.is_empty() || t.starts_with('#') || t.starts_with('%') || t == "...")
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

/// Nesting deeper than this is rejected rather than risking the stack.
const MAX_DEPTH: usize = 256;

struct Convert<'a> {
    positions: Positions,
    errors: &'a mut Vec<SyntaxError>,
    line_offset: u32,
}

impl Convert<'_> {
    fn pos(&self, m: &saphyr::Marker) -> Pos {
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

/// Appends `segment` to a JSON pointer, escaping `~` and `/` (RFC 6901).
pub fn push_escaped(pointer: &mut String, segment: &str) {
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
        assert_eq!(d.pos("/a"), Pos { line: 1, column: 1 });
        assert_eq!(d.pos("/b/1"), Pos { line: 4, column: 5 });
        assert_eq!(d.pos("/b/1/d"), Pos { line: 5, column: 5 });
        assert_eq!(d.value["b"][1]["c"], Value::String("80".into()));
        assert_eq!(d.value["b"][1]["d"], Value::from(443));
        assert_eq!(docs[1].pos("/kind"), Pos { line: 7, column: 1 });
    }

    #[test]
    fn helm_sources_name_the_template_of_each_document() {
        let text = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/empty.yaml\n# only comments\n---\n# Source: c/templates/b.yaml\n# note\nkind: B\n---\nkind: C\n# Source: not/a/header.yaml\n";
        let (docs, errors) = parse_stream(text);
        assert!(errors.is_empty(), "{errors:?}");
        // (A part with only comments loads as an empty document too.)
        let origins: Vec<Option<&str>> = docs
            .iter()
            .filter(|d| !d.value.is_null())
            .map(|d| d.origin.as_deref())
            .collect();
        assert_eq!(
            origins,
            [Some("c/templates/a.yaml"), Some("c/templates/b.yaml"), None]
        );
    }

    #[test]
    fn a_hostile_source_comment_names_nothing() {
        // The comment is the pull request's text: control characters (a
        // terminal escape) or an unbounded name are not taken as an origin.
        let escape = "# Source: c/\u{1b}[2Jx.yaml\nkind: A\n".to_string();
        let long = format!("# Source: {}\nkind: A\n", "a".repeat(MAX_ORIGIN + 1));
        for text in [escape, long] {
            let (docs, _) = parse_stream(&text);
            assert_eq!(docs[0].origin, None, "{text:?}");
        }
    }

    #[test]
    fn keys_with_slashes_are_escaped() {
        let (docs, _) = parse_stream("labels:\n  kubernetes.io/name: x\n");
        assert_eq!(docs[0].pos("/labels/kubernetes.io~1name").line, 2);
        assert_eq!(docs[0].pos("/labels/kubernetes.io~1name").column, 3);
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
        assert_eq!(docs[1].pos("/kind").line, 5);
    }

    #[test]
    fn json_parses_with_positions() {
        let (docs, errors) = parse_stream("{\"kind\": \"Pod\",\n \"metadata\": {\"name\": \"a\"}}");
        assert!(errors.is_empty());
        assert_eq!(
            docs[0].pos("/metadata/name"),
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
