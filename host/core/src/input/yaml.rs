//! YAML (and JSON, which YAML 1.2 contains) to JSON values, keeping where every
//! field came from.
//!
//! Plugins see JSON and point at fields with JSON pointers; this module builds,
//! for each document, the map from JSON pointer to `line:column` that turns
//! such a pointer back into a source position.

mod block;
mod json;
#[cfg(test)]
mod oracle;

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
    fn from_marker(m: &saphyr_parser::Marker, line_offset: u32) -> Pos {
        Pos {
            line: u32::try_from(m.line())
                .unwrap_or(u32::MAX)
                .saturating_add(line_offset),
            column: u32::try_from(m.col().saturating_add(1)).unwrap_or(u32::MAX),
        }
    }
}

/// One parsed document of a stream.
#[derive(Debug, Clone)]
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
    /// A parsed document, its positions trimmed to their size (documents
    /// live as long as the check).
    fn new(value: Value, mut positions: Positions, start: Pos) -> Document {
        positions.nodes.shrink_to_fit();
        Document {
            value,
            positions,
            start,
            origin: None,
        }
    }

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
#[derive(Debug, Default, Clone)]
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

    /// The indices of the children of node `at`, in order (the items of
    /// a sequence, the entries of a mapping): one walk, however many.
    pub fn children(&self, at: u32) -> Vec<u32> {
        let Some(end) = self.nodes.get(at as usize).map(|n| n.end) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut c = at.saturating_add(1);
        while c < end {
            out.push(c);
            c = self.nodes.get(c as usize).map_or(end, |n| n.end.max(c + 1));
        }
        out
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
    parse_streams(&[text], 1).pop().unwrap_or_default()
}

/// Parses several streams on up to `jobs` threads, one result per stream,
/// in order. The unit of work is a run of documents, not a stream, so one
/// large file keeps every thread busy; what each document gives does not
/// depend on the thread that parsed it.
pub fn parse_streams(texts: &[&str], jobs: usize) -> Vec<(Vec<Document>, Vec<SyntaxError>)> {
    // A JSON text is one document; it takes the fast path when it can.
    let mut out: Vec<(Vec<Document>, Vec<SyntaxError>)> = Vec::with_capacity(texts.len());
    let mut parts: Vec<(usize, u32, &str)> = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        match json::parse(text) {
            Some(doc) => out.push((vec![doc], Vec::new())),
            None => {
                out.push(Default::default());
                parts.extend(
                    split_documents(text)
                        .into_iter()
                        .map(|(line, part)| (i, line, part)),
                );
            }
        }
    }
    // Runs of about an eighth of a thread's share of the bytes: small enough
    // to balance, large enough that handing them out costs nothing.
    let total: usize = parts.iter().map(|p| p.2.len()).sum();
    let target = (total / (jobs.max(1) * 8)).max(64 * 1024);
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (k, part) in parts.iter().enumerate() {
        bytes += part.2.len();
        if bytes >= target {
            runs.push(start..k + 1);
            start = k + 1;
            bytes = 0;
        }
    }
    if start < parts.len() {
        runs.push(start..parts.len());
    }
    let parse_run = |run: &std::ops::Range<usize>| {
        parts
            .get(run.clone())
            .unwrap_or_default()
            .iter()
            .map(|&(_, line, part)| parse_part(part, line))
            .collect::<Vec<_>>()
    };
    let parsed = crate::parallel::map(runs.len(), jobs, |r| runs.get(r).map(parse_run));
    for (run, result) in runs.iter().zip(parsed) {
        // A run whose worker died is parsed here, like any other.
        let result = result.flatten().unwrap_or_else(|| parse_run(run));
        for (&(file, _, _), (docs, errors)) in parts
            .get(run.clone())
            .unwrap_or_default()
            .iter()
            .zip(result)
        {
            if let Some((d, e)) = out.get_mut(file) {
                d.extend(docs);
                e.extend(errors);
            }
        }
    }
    out
}

/// Parses one document part, `line_offset` lines into its file: its
/// documents, or nothing and the error that stopped it.
fn parse_part(part: &str, line_offset: u32) -> (Vec<Document>, Vec<SyntaxError>) {
    if let Some(mut doc) = block::parse(part, line_offset) {
        doc.origin = helm_source(part);
        return (vec![doc], Vec::new());
    }
    let mut builder = Builder::new(line_offset, part.len());
    // A value the builder refuses (a duplicate key, an alias bomb) stops
    // the building; a syntax error anywhere in the part still wins over it,
    // as in saphyr's loader, which parses the whole part first.
    let mut refused = None;
    for event in saphyr_parser::Parser::new_from_str(part) {
        match event {
            Ok((event, span)) => {
                if refused.is_none()
                    && let Err(e) = builder.event(event, span)
                {
                    if builder.too_deep {
                        return (Vec::new(), vec![e]);
                    }
                    refused = Some(e);
                }
            }
            Err(e) => {
                let error = SyntaxError {
                    pos: Pos::from_marker(e.marker(), line_offset),
                    message: format!("invalid YAML: {}", e.info()),
                };
                return (Vec::new(), vec![error]);
            }
        }
    }
    if let Some(e) = refused {
        return (Vec::new(), vec![e]);
    }
    let origin = helm_source(part);
    let mut docs = builder.docs;
    for doc in &mut docs {
        doc.origin.clone_from(&origin);
    }
    (docs, builder.errors)
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

/// Nesting deeper than this is rejected rather than risking the stack of
/// whatever walks the values later.
const MAX_DEPTH: usize = 256;

/// Nodes that aliases may produce in one document part, in all: a few
/// nested anchors would otherwise expand into billions ("billion laughs").
/// The count is saphyr's (one per node, and one more per mapping entry),
/// and a string counts one more per 64 bytes, so one long anchored string
/// is no cheaper bomb. A part may produce at most a few nodes per byte of
/// its own text, so many small parts cannot multiply the input either.
const ALIAS_BUDGET: usize = 100_000;
/// Alias nodes every part may produce, however short.
const ALIAS_FLOOR: usize = 1_000;
/// Alias nodes a part may produce per byte of its text.
const ALIAS_PER_BYTE: usize = 4;

/// The alias budget of a part of `bytes` bytes.
fn alias_budget(bytes: usize) -> usize {
    ALIAS_BUDGET.min(ALIAS_FLOOR.saturating_add(bytes.saturating_mul(ALIAS_PER_BYTE)))
}

/// Builds JSON values and their positions from the parser's events in one
/// pass, with no tree in between and no recursion (nesting costs heap, not
/// stack). It resolves scalars, tags and aliases as saphyr's loader does,
/// and refuses what saphyr refuses (duplicate keys, alias bombs), so
/// values are exactly those of YAML 1.2's core schema.
struct Builder {
    line_offset: u32,
    positions: Positions,
    /// The collections being built, innermost last.
    stack: Vec<Frame>,
    /// The finished root of the current document, and where it starts.
    root: Option<(Value, Pos)>,
    /// Open collections that are thrown away (the value of a non-scalar
    /// key): their nodes are dropped.
    discarding: usize,
    /// Open collections whose errors are not reported: those thrown away,
    /// and collections used as keys (built, to tell equal keys apart, then
    /// dropped; saphyr's loader never converted them).
    quiet: usize,
    /// Anchored values, and the position nodes of their children (with
    /// `end` relative to the first).
    anchors: std::collections::HashMap<usize, Anchored>,
    alias_budget: usize,
    /// Nesting went past [`MAX_DEPTH`]: reported at once, before any later
    /// syntax error (the old loader counted depth in a first pass).
    too_deep: bool,
    docs: Vec<Document>,
    errors: Vec<SyntaxError>,
}

/// An anchored node: its value (`None`: refused by the core schema), the
/// position nodes of its children (with `end` relative to the first), and
/// whether it carries a tag of its own (which makes it no key, as in
/// saphyr).
struct Anchored {
    value: Option<Value>,
    nodes: Vec<Node>,
    tagged: bool,
}

struct Frame {
    collection: Collection,
    role: Role,
    anchor: usize,
    /// `positions.nodes.len()` when the collection started: its children
    /// follow.
    children: usize,
}

enum Collection {
    Sequence(Vec<Value>),
    Mapping {
        map: Map<String, Value>,
        key: Key,
        /// Every key with its kind, once one key is not a string: YAML
        /// holds `80` and `"80"` different keys though JSON writes them
        /// alike, so only the same text of the same kind is a duplicate.
        /// (`None` while all keys are strings: the usual case, free.)
        typed_keys: Option<std::collections::HashSet<(String, u8)>>,
    },
}

/// What a mapping expects next.
enum Key {
    Expected,
    Scalar {
        text: String,
        kind: u8,
        pos: Pos,
    },
    /// A key that is no scalar: its value is skipped.
    Invalid,
    /// A collection as a key: no key either, but saphyr still refuses a
    /// second equal one, so its text is kept for that.
    Collection {
        text: String,
        pos: Pos,
    },
}

/// What a node is to its parent.
#[derive(Clone, Copy)]
enum Role {
    /// A value: the position node `entry` stands for it.
    Value { entry: usize },
    /// A mapping key, starting at `pos`.
    Key { pos: Pos },
    /// Thrown away.
    Discard,
}

/// A scalar key's kind, as YAML tells keys apart.
const KEY_STRING: u8 = 0;
/// A collection as a key (by its JSON text).
const KEY_COLLECTION: u8 = 5;

/// Whether a mapping already has key `text` of `kind`; records it.
fn duplicate_key(
    map: &Map<String, Value>,
    typed_keys: &mut Option<std::collections::HashSet<(String, u8)>>,
    text: String,
    kind: u8,
) -> bool {
    if kind != KEY_STRING && typed_keys.is_none() {
        // Every key so far was a string.
        *typed_keys = Some(map.keys().map(|k| (k.clone(), KEY_STRING)).collect());
    }
    match typed_keys {
        None => map.contains_key(&text),
        // A hash set: a mapping of a million keys must not cost a
        // million searches of a list.
        Some(seen) => !seen.insert((text, kind)),
    }
}

fn key_kind(value: &Value) -> u8 {
    match value {
        Value::String(_) => KEY_STRING,
        Value::Null => 1,
        Value::Bool(_) => 2,
        Value::Number(n) if n.is_f64() => 4,
        Value::Number(_) => 3,
        Value::Array(_) | Value::Object(_) => KEY_COLLECTION,
    }
}

impl Builder {
    fn new(line_offset: u32, bytes: usize) -> Builder {
        Builder {
            line_offset,
            positions: Positions::default(),
            stack: Vec::new(),
            root: None,
            discarding: 0,
            quiet: 0,
            anchors: std::collections::HashMap::new(),
            alias_budget: alias_budget(bytes),
            too_deep: false,
            docs: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn pos(&self, m: &saphyr_parser::Marker) -> Pos {
        Pos::from_marker(m, self.line_offset)
    }

    fn fatal(&self, pos: Pos, message: impl Into<String>) -> Result<(), SyntaxError> {
        Err(SyntaxError {
            pos,
            message: message.into(),
        })
    }

    /// A problem in a value that stays: reported, unless the value is
    /// thrown away.
    fn error(&mut self, pos: Pos, message: &str) {
        if self.quiet == 0 {
            self.errors.push(SyntaxError {
                pos,
                message: message.to_string(),
            });
        }
    }

    fn event(
        &mut self,
        event: saphyr_parser::Event<'_>,
        span: saphyr_parser::Span,
    ) -> Result<(), SyntaxError> {
        use saphyr_parser::Event;
        let pos = self.pos(&span.start);
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd => Ok(()),
            Event::DocumentStart(_) => {
                self.stack.clear();
                self.root = None;
                self.positions = Positions::default();
                Ok(())
            }
            Event::DocumentEnd => {
                self.end_document(pos);
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                let role = self.begin(pos);
                let tagged = tag.as_deref().is_some_and(|t| !t.is_yaml_core_schema());
                let value = scalar(text, style, tag.as_deref());
                let children = self.positions.nodes.len();
                self.finish(value, role, anchor, children, pos, tagged)
            }
            Event::Alias(id) => {
                let role = self.begin(pos);
                let Some(Anchored {
                    value,
                    nodes,
                    tagged,
                }) = self.anchors.get(&id)
                else {
                    // saphyr-parser refuses unknown anchors; kept safe anyway.
                    return self.finish(None, role, 0, self.positions.nodes.len(), pos, false);
                };
                let mut budget = self.alias_budget;
                if !within_budget(value.as_ref().unwrap_or(&Value::Null), &mut budget) {
                    return self.fatal(
                        pos,
                        "invalid YAML: alias expansion exceeded the maximum node budget (possible billion-laughs attack)",
                    );
                }
                self.alias_budget = budget;
                let (value, tagged) = (value.clone(), *tagged);
                let children = self.positions.nodes.len();
                if let Role::Value { .. } = role {
                    let base = u32::try_from(children).unwrap_or(u32::MAX);
                    self.positions.nodes.extend(nodes.iter().map(|n| Node {
                        end: n.end.saturating_add(base),
                        ..*n
                    }));
                }
                self.finish(value, role, 0, children, pos, tagged)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.too_deep = true;
                    return self.fatal(pos, format!("nesting deeper than {MAX_DEPTH} levels"));
                }
                let role = self.begin(pos);
                match role {
                    Role::Value { .. } => {}
                    Role::Key { .. } => self.quiet += 1,
                    Role::Discard => {
                        self.quiet += 1;
                        self.discarding += 1;
                    }
                }
                let collection = if matches!(event, Event::SequenceStart(..)) {
                    Collection::Sequence(Vec::new())
                } else {
                    Collection::Mapping {
                        map: Map::new(),
                        key: Key::Expected,
                        typed_keys: None,
                    }
                };
                self.stack.push(Frame {
                    collection,
                    role,
                    anchor,
                    children: self.positions.nodes.len(),
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                match frame.role {
                    Role::Value { .. } => {}
                    Role::Key { .. } => self.quiet = self.quiet.saturating_sub(1),
                    Role::Discard => {
                        self.quiet = self.quiet.saturating_sub(1);
                        self.discarding = self.discarding.saturating_sub(1);
                    }
                }
                let value = match frame.collection {
                    Collection::Sequence(mut items) => {
                        items.shrink_to_fit();
                        Value::Array(items)
                    }
                    Collection::Mapping { map, .. } => Value::Object(map),
                };
                self.finish(
                    Some(value),
                    frame.role,
                    frame.anchor,
                    frame.children,
                    pos,
                    false,
                )
            }
        }
    }

    /// A node starts at `pos`: what it is to its parent. A value gets its
    /// position node now, so that its children's follow it.
    fn begin(&mut self, pos: Pos) -> Role {
        let discarding = self.discarding > 0;
        match self.stack.last_mut() {
            None => Role::Value {
                entry: self.positions.open(pos, None),
            },
            Some(Frame {
                collection: Collection::Sequence(_),
                ..
            }) => {
                if discarding {
                    Role::Discard
                } else {
                    Role::Value {
                        entry: self.positions.open(pos, None),
                    }
                }
            }
            Some(Frame {
                collection: Collection::Mapping { key, .. },
                ..
            }) => match key {
                Key::Expected => Role::Key { pos },
                Key::Invalid | Key::Collection { .. } => Role::Discard,
                Key::Scalar { .. } if discarding => Role::Discard,
                Key::Scalar { text, pos, .. } => Role::Value {
                    entry: self.positions.open(*pos, Some(text)),
                },
            },
        }
    }

    /// A node is complete: `None` is a value the core schema refuses
    /// (`!!int abc`). Records its anchor and hands it to its parent.
    fn finish(
        &mut self,
        value: Option<Value>,
        role: Role,
        anchor: usize,
        children: usize,
        pos: Pos,
        tagged: bool,
    ) -> Result<(), SyntaxError> {
        if anchor > 0 {
            let base = u32::try_from(children).unwrap_or(u32::MAX);
            let nodes = self
                .positions
                .nodes
                .get(children..)
                .unwrap_or_default()
                .iter()
                .map(|n| Node {
                    end: n.end.saturating_sub(base),
                    ..*n
                })
                .collect();
            self.anchors.insert(
                anchor,
                Anchored {
                    value: value.clone(),
                    nodes,
                    tagged,
                },
            );
        }
        match role {
            Role::Discard => {
                self.positions.nodes.truncate(children);
                // A mapping thrown away still has its keys checked for
                // duplicates, as saphyr checks every mapping it loads.
                let keyed = matches!(
                    self.stack.last(),
                    Some(Frame {
                        collection: Collection::Mapping {
                            key: Key::Scalar { .. },
                            ..
                        },
                        ..
                    })
                );
                if keyed {
                    return self.deliver(Value::Null);
                }
                if let Some(Frame {
                    collection:
                        Collection::Mapping {
                            map,
                            key,
                            typed_keys,
                        },
                    ..
                }) = self.stack.last_mut()
                    && let Key::Collection { text, pos } = std::mem::replace(key, Key::Expected)
                    && duplicate_key(map, typed_keys, text, KEY_COLLECTION)
                {
                    return self.fatal(pos, "invalid YAML: duplicated key in mapping");
                }
                self.set_key(Key::Expected);
                Ok(())
            }
            Role::Key { pos: key_pos } => {
                self.positions.nodes.truncate(children);
                let key = match value {
                    Some(v) if !tagged && !matches!(v, Value::Array(_) | Value::Object(_)) => {
                        let kind = key_kind(&v);
                        Key::Scalar {
                            text: scalar_key(v),
                            kind,
                            pos: key_pos,
                        }
                    }
                    Some(v) if !tagged => {
                        self.error(key_pos, "mapping keys must be scalars");
                        // saphyr places a duplicate collection key
                        // where the collection ends.
                        Key::Collection {
                            text: v.to_string(),
                            pos,
                        }
                    }
                    _ => {
                        self.error(key_pos, "mapping keys must be scalars");
                        Key::Invalid
                    }
                };
                self.set_key(key);
                Ok(())
            }
            Role::Value { entry } => {
                self.positions.close(entry);
                let value = value.unwrap_or_else(|| {
                    self.error(pos, "invalid YAML value");
                    Value::Null
                });
                self.deliver(value)
            }
        }
    }

    fn set_key(&mut self, new: Key) {
        if let Some(Frame {
            collection: Collection::Mapping { key, .. },
            ..
        }) = self.stack.last_mut()
        {
            *key = new;
        }
    }

    /// Puts a finished value into its parent, or makes it the root.
    fn deliver(&mut self, value: Value) -> Result<(), SyntaxError> {
        let Some(frame) = self.stack.last_mut() else {
            let start = self
                .positions
                .nodes
                .first()
                .map_or(Pos { line: 1, column: 1 }, |n| n.pos);
            self.root = Some((value, start));
            return Ok(());
        };
        match &mut frame.collection {
            Collection::Sequence(items) => items.push(value),
            Collection::Mapping {
                map,
                key,
                typed_keys,
            } => {
                if let Key::Scalar { text, kind, pos } = std::mem::replace(key, Key::Expected) {
                    if duplicate_key(map, typed_keys, text.clone(), kind) {
                        return self.fatal(pos, "invalid YAML: duplicated key in mapping");
                    }
                    map.insert(text, value);
                }
            }
        }
        Ok(())
    }

    fn end_document(&mut self, pos: Pos) {
        let (value, start) = self.root.take().unwrap_or_else(|| {
            // An empty document: saphyr's loader makes it a bad value.
            self.positions.open(pos, None);
            self.positions.close(0);
            self.error(pos, "invalid YAML value");
            (Value::Null, pos)
        });
        let positions = std::mem::take(&mut self.positions);
        self.stack.clear();
        self.docs.push(Document::new(value, positions, start));
    }
}

/// Whether `value` fits in `budget` nodes, counted as saphyr counts them;
/// takes what it uses.
fn within_budget(value: &Value, budget: &mut usize) -> bool {
    let mut spend = |units: usize| match budget.checked_sub(units) {
        Some(left) => {
            *budget = left;
            true
        }
        None => false,
    };
    let mut todo = vec![value];
    while let Some(v) = todo.pop() {
        if !spend(1) {
            return false;
        }
        match v {
            Value::Array(items) => todo.extend(items),
            Value::Object(map) => {
                for (key, child) in map {
                    if !spend(1 + key.len() / 64) {
                        return false;
                    }
                    todo.push(child);
                }
            }
            Value::String(s) if !spend(s.len() / 64) => return false,
            _ => {}
        }
    }
    true
}

/// A scalar as YAML 1.2's core schema reads it, with saphyr's rules: a
/// quoted scalar is a string; a core tag (`!!int`) must fit or the value is
/// refused (`None`); another tag reads the scalar as if untagged, and a
/// local `!str` makes a number or boolean its text.
fn scalar(
    text: std::borrow::Cow<'_, str>,
    style: saphyr_parser::ScalarStyle,
    tag: Option<&saphyr_parser::Tag>,
) -> Option<Value> {
    use saphyr::Scalar;
    let core = tag.filter(|t| t.is_yaml_core_schema());
    let parsed = match core {
        Some(t) => {
            let tag = std::borrow::Cow::Borrowed(t);
            Scalar::parse_from_cow_and_metadata(text, style, Some(&tag))?
        }
        None => Scalar::parse_from_cow_and_metadata(text, style, None)?,
    };
    let value = scalar_value(parsed);
    if tag.is_some_and(|t| !t.is_yaml_core_schema() && t.suffix == "str") {
        return Some(match value {
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            other => other,
        });
    }
    Some(value)
}

/// A resolved scalar as JSON. A float JSON cannot hold (`.inf`, `.nan`)
/// becomes its text.
pub(super) fn scalar_value(s: saphyr::Scalar<'_>) -> Value {
    use saphyr::Scalar;
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Number(i.into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.into_inner().to_string())),
        Scalar::String(s) => Value::String(exact(s)),
    }
}

/// A string in an allocation of its own size: the scanner's grow as they
/// are pushed to, and values live as long as the check.
fn exact(s: std::borrow::Cow<'_, str>) -> String {
    match s {
        std::borrow::Cow::Owned(s) if s.capacity() == s.len() => s,
        s => s.as_ref().to_owned(),
    }
}

/// A scalar key's text: strings as they are, others as JSON writes them.
fn scalar_key(v: Value) -> String {
    match v {
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

    /// What a parse gives, in a form to compare: per document its value,
    /// start, origin and the position of every field; then the errors.
    type Outcome = (
        Vec<(Value, Pos, Option<Arc<str>>, Vec<(String, Pos)>)>,
        Vec<SyntaxError>,
    );

    fn outcome((docs, errors): (Vec<Document>, Vec<SyntaxError>)) -> Outcome {
        fn pointers(value: &Value, at: &mut String, out: &mut Vec<String>) {
            let children: Vec<(String, &Value)> = match value {
                Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v))
                    .collect(),
                _ => Vec::new(),
            };
            for (segment, child) in children {
                let len = at.len();
                at.push('/');
                push_escaped(at, &segment);
                out.push(at.clone());
                pointers(child, at, out);
                at.truncate(len);
            }
        }
        let docs = docs
            .into_iter()
            .map(|d| {
                let mut all = vec![String::new()];
                pointers(&d.value, &mut String::new(), &mut all);
                let positions = all
                    .into_iter()
                    .map(|p| {
                        let pos = d.pos(&p);
                        (p, pos)
                    })
                    .collect();
                (d.value, d.start, d.origin, positions)
            })
            .collect();
        (docs, errors)
    }

    /// Where two outcomes first differ, for a readable failure.
    fn difference(got: &Outcome, want: &Outcome) -> String {
        if got.1 != want.1 {
            return format!("errors: {:?} against {:?}", got.1, want.1);
        }
        if got.0.len() != want.0.len() {
            return format!("{} documents against {}", got.0.len(), want.0.len());
        }
        for (k, (g, w)) in got.0.iter().zip(&want.0).enumerate() {
            if g.0 != w.0 {
                return format!("document {k}: value {} against {}", g.0, w.0);
            }
            if g.1 != w.1 {
                return format!("document {k}: start {:?} against {:?}", g.1, w.1);
            }
            if g.2 != w.2 {
                return format!("document {k}: origin {:?} against {:?}", g.2, w.2);
            }
            for (a, b) in g.3.iter().zip(&w.3) {
                if a != b {
                    return format!("document {k}: {a:?} against {b:?}");
                }
            }
        }
        "equal".to_string()
    }

    /// Texts where YAML's corners are: aliases, tags, odd keys, styles,
    /// breaks, errors, and JSON.
    const CORNERS: &[&str] = &[
        "a: &x {b: 1, c: [1, 2]}\nd: *x\ne: [*x, *x]\n",
        "- &s 80\n- *s\n- !!str 80\n- !str 80\n- !str true\n- !custom 1.5\n- !!int abc\n- !!float 1\n- !!null ~\n- !!bool yes\n",
        "80: a\n\"80\": b\n",
        "80: a\n\"80\": b\n80: c\n",
        "\"80\": a\n80: b\n\"80\": c\n",
        "a: 1\na: 2\n",
        "? [x, y]\n: v\nk: w\n",
        "? {a: 1}\n: {b: [1, 2, {c: 3}]}\nafter: 1\n",
        "~: a\nnull: b\ntrue: c\n1.5: d\n0x10: e\n",
        "s: |\n  line one\n  line two\nf: >-\n  folded\n  text\np: plain\n  continued\n",
        "q: 'single ''quoted'''\nd: \"double \\u00e9 \\t\"\n",
        "k: v\r\nl:\r\n  - 1\r\n",
        "\u{feff}kind: Pod\nmetadata: {name: é, labels: {a: b}}\n",
        "kind: A\n...\n---\nkind: B\n",
        "--- !!map\nkind: A\n--- &r\n- 1\n",
        "a: [1, 2\n",
        "a: b: c\n",
        "x: *nope\n",
        "{\"kind\": \"Pod\",\n \"metadata\": {\"name\": \"a\", \"labels\": {}}, \"n\": [1, -0, 1.5e3, 12345678901234567890, -2.5E-3, true, false, null]}",
        "[{\"a\": \"\\u00e9\\ud83d\\ude00\\/\\\"\"}, []]\n",
        "{\"a\": 1, \"a\": 2}",
        "{\"é\": {\"ü\": [\"x\", \"ß\"]}, \"b\": 1}",
        "\t{\"a\": 1}",
        "{\"a\": 1}\r{\"b\": 2}",
        "{\"a\": 1}\n{\"b\": 2}\n",
        "{a: 1, b: [x, y]}",
        "kind: A\n---\n---\nkind: C\n",
        "# Source: chart/templates/a.yaml\nkind: A\nlist:\n- a\n- b: 1\n  c: 2\n",
    ];

    /// The YAML and JSON texts of the repository: fixtures, demos, policies.
    fn repository_texts() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut todo = vec![
            root.join("tests"),
            root.join("policies"),
            root.join("plugins"),
        ];
        let mut out = Vec::new();
        while let Some(dir) = todo.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    todo.push(path);
                } else if path
                    .extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
                    && let Ok(text) = std::fs::read_to_string(&path)
                {
                    out.push((path, text));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_one_pass_builder_agrees_with_saphyrs_loader() {
        let texts = repository_texts();
        assert!(texts.len() > 100, "found only {} texts", texts.len());
        let corners = CORNERS
            .iter()
            .map(|t| (std::path::PathBuf::from("corner"), (*t).to_string()));
        let mut json = 0;
        for (path, text) in texts.into_iter().chain(corners) {
            let fast = json::parse(&text).is_some();
            json += usize::from(fast);
            let want = outcome(oracle::parse_stream(&text));
            let got = outcome(parse_stream(&text));
            // Where YAML refuses a text that is plain JSON (a tab before
            // the root), JSON's reading counts.
            if fast && want.0.is_empty() {
                assert_eq!(got.0.len(), 1, "{text:?}");
                continue;
            }
            assert_eq!(got, want, "{}: {text:?}", path.display());
            // Each document written as JSON, pretty and compact, is read
            // alike by both paths.
            for (value, ..) in &want.0 {
                if !matches!(value, Value::Object(_) | Value::Array(_)) {
                    continue;
                }
                for text in [
                    serde_json::to_string_pretty(value).unwrap_or_default(),
                    serde_json::to_string(value).unwrap_or_default(),
                ] {
                    json += usize::from(json::parse(&text).is_some());
                    let want = outcome(oracle::parse_stream(&text));
                    assert_eq!(
                        outcome(parse_stream(&text)),
                        want,
                        "{}: {text}",
                        path.display()
                    );
                }
            }
        }
        assert!(json > 500, "the JSON fast path took only {json} texts");
    }

    /// How many of the repository's document parts the block fast path
    /// reads: it is the path manifests take, so most must.
    #[test]
    fn the_block_path_reads_most_manifests() {
        let (mut parts, mut fast) = (0, 0);
        for (_, text) in repository_texts() {
            if json::parse(&text).is_some() {
                continue;
            }
            for (line, part) in split_documents(&text) {
                parts += 1;
                fast += usize::from(block::parse(part, line).is_some());
            }
        }
        assert!(
            fast * 10 >= parts * 8,
            "the block path read {fast} of {parts} parts"
        );
    }

    /// The repository's YAML, mutated the ways hands and tools break it
    /// (lines dropped, doubled, swapped or shifted; indicators, quotes,
    /// comments, anchors, tags and other characters dropped in), reads the
    /// same through the fast paths as through saphyr's loader: the same
    /// values, positions and errors.
    #[test]
    fn mutated_yaml_reads_as_saphyr_reads_it() {
        const TOKENS: &[&str] = &[
            ": ", "- ", "-", "#", " #", "'", "\"", "''", "|", "|-", ">", ">+", "{", "}", "[", "]",
            ",", "&a ", "*a", "!t ", "!!str ", "\\", "\\u00e9", "é", "  ", " ", "?", "~", "null",
            "1.5", "0x1F", "'a'", "\"b\\n\"", "{a: 1}", "[1, 2]", "...", "---", "\n", "\n  ",
            "\n- ", "%", "@", "`", ":", "k: v", "\"k\": v",
        ];
        // A fixed xorshift: the same cases on every run. A longer local
        // campaign: PALISADE_YAML_MUTANTS=500 PALISADE_YAML_SEED=7.
        let env = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let mutants = env("PALISADE_YAML_MUTANTS", 12);
        let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ env("PALISADE_YAML_SEED", 0);
        let mut next = move |n: usize| -> usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let (mut cases, mut fast) = (0, 0);
        for (path, text) in repository_texts() {
            if path.extension().is_some_and(|e| e == "json") || text.len() > 20_000 {
                continue;
            }
            for _ in 0..mutants {
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                for _ in 0..=next(3) {
                    let n = lines.len().max(1);
                    let i = next(n);
                    match next(6) {
                        0 if !lines.is_empty() => {
                            lines.remove(i.min(lines.len() - 1));
                        }
                        1 if !lines.is_empty() => {
                            let l = lines[i.min(lines.len() - 1)].clone();
                            lines.insert(i.min(lines.len()), l);
                        }
                        2 if lines.len() > 1 => {
                            let (j, last) = (next(lines.len()), lines.len() - 1);
                            lines.swap(i.min(last), j);
                        }
                        3 if !lines.is_empty() => {
                            let l = &mut lines[i.min(n - 1)];
                            if next(2) == 0 {
                                l.insert_str(0, &" ".repeat(1 + next(2)));
                            } else if l.starts_with(' ') {
                                l.remove(0);
                            }
                        }
                        _ if !lines.is_empty() => {
                            let l = &mut lines[i.min(n - 1)];
                            let mut at = next(l.len() + 1);
                            while !l.is_char_boundary(at) {
                                at -= 1;
                            }
                            l.insert_str(at, TOKENS[next(TOKENS.len())]);
                        }
                        _ => {}
                    }
                }
                let mutant = lines.join("\n") + if next(4) == 0 { "" } else { "\n" };
                cases += 1;
                fast += split_documents(&mutant)
                    .iter()
                    .filter(|(line, part)| block::parse(part, *line).is_some())
                    .count();
                let want = outcome(oracle::parse_stream(&mutant));
                let got = outcome(parse_stream(&mutant));
                // Tags on keys hit bugs of saphyr's loader: a key whose
                // core tag does not fit (`!!int a:`) is taken for no key,
                // and the next node becomes the key, dropping the entry in
                // silence. There the builder reports an error instead; it
                // may report more errors than saphyr, never fewer, and
                // where both accept the text they read it alike.
                if mutant.contains('!') && !got.1.is_empty() {
                    continue;
                }
                assert!(
                    got == want,
                    "{}: {}, mutated:\n{mutant}",
                    path.display(),
                    difference(&got, &want)
                );
            }
        }
        assert!(
            cases > 1000 && fast > 500,
            "{cases} cases, {fast} parts read fast"
        );
    }

    #[test]
    fn a_long_line_of_non_ascii_flow_goes_to_the_builder() {
        // Counting columns from the line's start for every key would be
        // quadratic on one long line; the builder counts as it reads.
        let entries: Vec<String> = (0..2000).map(|i| format!("k{i}: é{i}")).collect();
        let text = format!("data: {{{}}}\n", entries.join(", "));
        assert!(block::parse(&text, 0).is_none());
        let (docs, errors) = parse_stream(&text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(docs[0].value["data"]["k1999"], Value::from("é1999"));
        assert_eq!(
            outcome(parse_stream(&text)),
            outcome(oracle::parse_stream(&text))
        );
    }

    #[test]
    fn a_quoted_key_beyond_the_bound_goes_to_the_builder() {
        // YAML bounds implicit keys; the fast path leaves long ones, quoted
        // or plain, to saphyr's reading.
        let text = format!("\"{}\": v\n", "k".repeat(1100));
        assert!(block::parse(&text, 0).is_none());
        assert_eq!(
            outcome(parse_stream(&text)),
            outcome(oracle::parse_stream(&text))
        );
    }

    #[test]
    fn aliases_cannot_multiply_the_input() {
        // One long anchored string, aliased many times; many short parts
        // that each expand: both refused, located at the alias.
        let long = format!(
            "a: &a \"{}\"\nb: [{}]\n",
            "x".repeat(1 << 20),
            ["*a"; 200].join(", ")
        );
        let part = format!(
            "a: &a [{}]\nb: [{}]\n",
            ["1"; 50].join(", "),
            ["*a"; 50].join(", ")
        );
        for text in [long, part] {
            let (docs, errors) = parse_stream(&text);
            assert!(docs.is_empty(), "expanded");
            assert!(errors[0].message.contains("alias expansion"), "{errors:?}");
        }
        // Aliases as people use them stay.
        let (docs, errors) = parse_stream("d: &d {cpu: 1, memory: 1Gi}\na: *d\nb: *d\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(docs[0].value["b"]["memory"], Value::from("1Gi"));
    }

    #[test]
    fn parsing_on_threads_gives_what_one_thread_gives() {
        let mut text: String = (0..3000)
            .map(|i| format!("kind: K{i}\nmetadata: {{name: n{i}, labels: {{a: b}}}}\n---\n"))
            .collect();
        text.push_str("kind: [broken\n");
        let texts = [text.as_str(), "a: 1", text.as_str()];
        let one: Vec<Outcome> = parse_streams(&texts, 1).into_iter().map(outcome).collect();
        for jobs in [2, 3, 8] {
            let many: Vec<Outcome> = parse_streams(&texts, jobs)
                .into_iter()
                .map(outcome)
                .collect();
            assert_eq!(many, one, "{jobs} threads");
        }
        assert_eq!(one[2].0.len(), 3000);
        assert_eq!(one[2].1.len(), 1);
        assert_eq!(one[2].1[0].pos.line, 9002);
    }

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
