//! The fast path for the block YAML that manifests are written in: block
//! mappings and sequences, one-line scalars (plain, quoted) and flow
//! collections, literal and folded block scalars, comments. One document
//! part is read line by line into values and positions, with no events and
//! no tokens in between.
//!
//! It reads only what it is sure of and gives up (`None`) on anything else:
//! anchors, aliases, tags, directives, tabs, carriage returns, multi-line
//! plain or quoted scalars, explicit keys, duplicate keys, nesting beyond a
//! few dozen levels, anything it cannot place. The part then goes to the
//! event builder, which reads all of YAML and reports errors where they
//! are. So a part is never read two ways: either this reads it exactly as
//! saphyr would (the tests hold both to saphyr's loader), or saphyr reads it.

use super::{Document, Pos, Positions, scalar, scalar_key};
use serde_json::{Map, Value};

/// Nesting this path takes; deeper parts go to the event builder.
const MAX_DEPTH: usize = 64;

/// Longest key this path takes (YAML bounds implicit keys at 1024
/// characters; saphyr is left to say what happens near the bound).
const MAX_KEY: usize = 512;

/// Longest line with non-ASCII text this path takes.
const MAX_COUNTED_LINE: usize = 4096;

/// The one document of `part` (a part of a stream `line_offset` lines into
/// its file), or `None` when this path cannot be sure of it.
pub(super) fn parse(part: &str, line_offset: u32) -> Option<Document> {
    if part.bytes().any(|b| b == b'\t' || b == b'\r') || part.starts_with('\u{feff}') {
        return None;
    }
    // The text after the last line break is no line.
    let ends_with_break = part.ends_with('\n');
    let body = part.strip_suffix('\n').unwrap_or(part);
    let lines: Vec<Line<'_>> = body
        .split('\n')
        .map(|text| Line {
            text,
            indent: text.len() - text.trim_start_matches(' ').len(),
            ascii: text.is_ascii(),
        })
        .collect();
    // Columns on a line with non-ASCII text are counted from its start, per
    // key: fine for lines people write, quadratic for a megabyte of flow on
    // one line. Such lines go to the event builder, which counts as it
    // reads.
    if lines
        .iter()
        .any(|l| !l.ascii && l.text.len() > MAX_COUNTED_LINE)
    {
        return None;
    }
    let mut p = Parser {
        lines,
        ends_with_break,
        at: 0,
        line_offset,
        positions: Positions::default(),
        depth: 0,
    };
    // Before the content: blank lines, comments, one bare `---`.
    let mut marker = false;
    while let Some(line) = p.lines.get(p.at) {
        let rest = line.rest(0);
        if rest.is_empty() || rest.starts_with('#') {
            p.at += 1;
        } else if !marker && line.indent == 0 && is_document_marker(line.text) {
            marker = true;
            p.at += 1;
        } else {
            break;
        }
    }
    // A document marker further on (`---`, or `...` ending the document)
    // ends this document: left to the event builder.
    if p.lines.get(p.at..)?.iter().any(|l| {
        (l.text.starts_with("---") || l.text.starts_with("..."))
            && matches!(l.text.as_bytes().get(3), None | Some(b' '))
    }) {
        return None;
    }
    let first = p.lines.get(p.at)?;
    let indent = first.indent;
    let start = p.pos(p.at, indent);
    let root = p.positions.open(start, None);
    let value = p.node(indent, indent)?;
    p.positions.close(root);
    // After it: nothing but blank lines and comments.
    p.skip_blank();
    if p.at < p.lines.len() {
        return None;
    }
    Some(Document::new(value, p.positions, start))
}

/// `---` alone on its line (a comment may follow).
fn is_document_marker(text: &str) -> bool {
    text.strip_prefix("---")
        .is_some_and(|rest| rest.trim_start_matches(' ').is_empty() || rest.starts_with(" #"))
}

struct Line<'a> {
    text: &'a str,
    /// Leading spaces.
    indent: usize,
    /// Whether columns are byte offsets (else characters are counted).
    ascii: bool,
}

impl<'a> Line<'a> {
    /// The text from byte `from`, without trailing spaces.
    fn rest(&self, from: usize) -> &'a str {
        self.text.get(from..).unwrap_or("").trim_matches(' ')
    }

    /// Whether the line holds nothing (spaces, or a comment).
    fn blank(&self) -> bool {
        let rest = self.rest(self.indent);
        rest.is_empty() || rest.starts_with('#')
    }
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    /// Whether the last line ends with a line break.
    ends_with_break: bool,
    /// The current line.
    at: usize,
    line_offset: u32,
    positions: Positions,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn line(&self, i: usize) -> Option<&Line<'a>> {
        self.lines.get(i)
    }

    fn pos(&self, line: usize, byte: usize) -> Pos {
        let column = match self.lines.get(line) {
            Some(l) if !l.ascii => l.text.get(..byte).map_or(byte, |t| t.chars().count()),
            _ => byte,
        };
        Pos {
            line: self
                .line_offset
                .saturating_add(u32::try_from(line + 1).unwrap_or(u32::MAX)),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }

    /// Moves to the next line that holds something.
    fn skip_blank(&mut self) {
        while self.line(self.at).is_some_and(Line::blank) {
            self.at += 1;
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A block node starting at byte `from` of the current line, whose
    /// lines are indented `indent` (the column of `from` for a node that
    /// starts its line or follows `- `).
    fn node(&mut self, indent: usize, from: usize) -> Option<Value> {
        let text = self.line(self.at)?.text.get(from..)?;
        if text == "-" || text.starts_with("- ") {
            self.sequence(indent)
        } else {
            self.mapping(indent, from)
        }
    }

    /// A block sequence whose `-` are at column `indent`.
    fn sequence(&mut self, indent: usize) -> Option<Value> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            let line = self.line(self.at)?;
            let after = line.text.get(indent + 1..)?;
            let content = indent + 1 + (after.len() - after.trim_start_matches(' ').len());
            let rest = line.rest(content);
            // (A block scalar as an item: saphyr places it by where its
            // content starts, not always by its `|`.)
            if rest.is_empty()
                || rest.starts_with(['#', '|', '>'])
                || rest.starts_with("- ")
                || rest == "-"
            {
                // An item on the following lines, an empty item, or a
                // sequence in a sequence: rare; left to the event builder.
                return None;
            }
            let entry = self.positions.open(self.pos(self.at, content), None);
            let item = if self.is_key_line(self.at, content) {
                self.mapping(content, content)?
            } else {
                self.inline(content, indent)?
            };
            self.positions.close(entry);
            items.push(item);
            self.skip_blank();
            let Some(next) = self.line(self.at) else {
                break;
            };
            if next.indent != indent {
                if next.indent > indent {
                    return None;
                }
                break;
            }
            let t = next.text.get(indent..).unwrap_or("");
            if !(t == "-" || t.starts_with("- ")) {
                break;
            }
        }
        self.depth -= 1;
        Some(Value::Array(items))
    }

    /// Whether byte `from` of line `line` starts a `key:` (a plain or
    /// quoted key, then `:` and a space or the end of the line).
    fn is_key_line(&self, line: usize, from: usize) -> bool {
        let Some(text) = self.line(line).and_then(|l| l.text.get(from..)) else {
            return false;
        };
        match text.as_bytes().first() {
            Some(b'"' | b'\'') => quoted_end(text).is_some_and(|end| {
                let after = text.get(end..).unwrap_or("");
                after == ":" || after.starts_with(": ")
            }),
            Some(b'{' | b'[') => false,
            _ => plain_key_end(text).is_some(),
        }
    }

    /// A block mapping whose keys are at column `indent`; the first starts
    /// at byte `from` of the current line.
    fn mapping(&mut self, indent: usize, from: usize) -> Option<Value> {
        self.enter()?;
        let mut map = Map::new();
        let mut from = from;
        loop {
            let ltext: &'a str = self.line(self.at)?.text;
            let text = ltext.get(from..)?;
            let (key, key_end) = match text.as_bytes().first()? {
                b'"' | b'\'' => {
                    let end = quoted_end(text)?;
                    if end > MAX_KEY {
                        return None;
                    }
                    let key = unquote(text.get(..end)?)?;
                    (key, end)
                }
                _ => {
                    let end = plain_key_end(text)?;
                    let raw = text.get(..end)?.trim_end_matches(' ');
                    let key = scalar(raw.into(), saphyr_parser::ScalarStyle::Plain, None)?;
                    (scalar_key(key), end)
                }
            };
            let after = text.get(key_end..)?;
            if !(after == ":" || after.starts_with(": ")) {
                return None;
            }
            let key_pos = self.pos(self.at, from);
            let value_at = from + key_end + 1;
            let rest = ltext.get(value_at..).unwrap_or("").trim_matches(' ');
            let entry = self.positions.open(key_pos, Some(&key));
            let value = if rest.is_empty() || rest.starts_with('#') {
                self.at += 1;
                self.skip_blank();
                match self.line(self.at) {
                    Some(next) if next.indent > indent => {
                        let i = next.indent;
                        self.node(i, i)?
                    }
                    // `key:` then `- item` at the key's own column.
                    Some(next)
                        if next.indent == indent
                            && next
                                .text
                                .get(indent..)
                                .is_some_and(|t| t == "-" || t.starts_with("- ")) =>
                    {
                        self.sequence(indent)?
                    }
                    _ => Value::Null,
                }
            } else {
                let after = ltext.get(value_at..)?;
                let content = value_at + (after.len() - after.trim_start_matches(' ').len());
                self.inline(content, indent)?
            };
            self.positions.close(entry);
            if map.insert(key, value).is_some() {
                // A duplicate key: an error saphyr reports, located.
                return None;
            }
            self.skip_blank();
            let Some(next) = self.line(self.at) else {
                break;
            };
            if next.indent != indent {
                if next.indent > indent {
                    return None;
                }
                break;
            }
            if next
                .text
                .get(indent..)
                .is_some_and(|t| t == "-" || t.starts_with("- "))
            {
                // A sequence at the mapping's column that no key takes.
                return None;
            }
            from = indent;
        }
        self.depth -= 1;
        Some(Value::Object(map))
    }

    /// A value written on the current line from byte `from`, in a
    /// collection whose lines are indented `parent`: a scalar, a flow
    /// collection or a block scalar. Moves past its lines.
    fn inline(&mut self, from: usize, parent: usize) -> Option<Value> {
        let ltext: &'a str = self.line(self.at)?.text;
        let text = ltext.get(from..)?;
        let value = match text.as_bytes().first()? {
            b'|' | b'>' => return self.block_scalar(from, parent),
            b'"' | b'\'' => {
                let end = quoted_end(text)?;
                let value = Value::String(unquote(text.get(..end)?)?);
                ends_line(text.get(end..)?)?;
                value
            }
            b'{' | b'[' => {
                let mut flow = Flow {
                    text: ltext,
                    at: from,
                    line: self.at,
                };
                let value = flow.value(self, 0)?;
                ends_line(ltext.get(flow.at..)?)?;
                value
            }
            _ => {
                let raw = plain_value(text)?;
                scalar(raw.into(), saphyr_parser::ScalarStyle::Plain, None)?
            }
        };
        self.at += 1;
        // A following line indented deeper would continue the scalar (or
        // be an error): left to the event builder.
        let mut next = self.at;
        while let Some(l) = self.line(next) {
            if l.rest(0).is_empty() {
                next += 1;
                continue;
            }
            if l.indent > parent && !l.rest(0).starts_with('#') {
                return None;
            }
            break;
        }
        Some(value)
    }

    /// A literal (`|`) or folded (`>`) block scalar whose header is at byte
    /// `from` of the current line, in a collection indented `parent`.
    fn block_scalar(&mut self, from: usize, parent: usize) -> Option<Value> {
        let line = self.line(self.at)?;
        let header = line.text.get(from..)?;
        let literal = header.starts_with('|');
        let rest = header.get(1..)?;
        let (chomp, rest) = match rest.as_bytes().first() {
            Some(b'-') => (Chomp::Strip, rest.get(1..)?),
            Some(b'+') => (Chomp::Keep, rest.get(1..)?),
            _ => (Chomp::Clip, rest),
        };
        ends_line(rest)?;
        // The content: lines indented deeper than the block's first line,
        // and blank lines among them.
        let first = self.at + 1;
        let mut end = first;
        let mut indent = None;
        while let Some(l) = self.line(end) {
            let is_blank = l.text.trim_start_matches(' ').is_empty();
            match indent {
                None if is_blank => {
                    if !l.text.is_empty() {
                        return None;
                    }
                }
                None => {
                    if l.indent <= parent {
                        break;
                    }
                    indent = Some(l.indent);
                }
                Some(i) => {
                    if !is_blank && l.indent < i {
                        if l.indent > parent {
                            return None;
                        }
                        break;
                    }
                }
            }
            end += 1;
        }
        let indent = indent?;
        // A scalar that ends the text without a line break: rare, left to
        // the event builder.
        if end >= self.lines.len() && !self.ends_with_break {
            return None;
        }
        let content: Vec<&str> = (first..end)
            .filter_map(|i| self.line(i))
            .map(|l| l.text.get(indent..).unwrap_or(""))
            .collect();
        // Trailing blank lines belong to the chomping.
        let body = content.len() - content.iter().rev().take_while(|l| l.is_empty()).count();
        let trailing = content.len() - body;
        let mut out = String::new();
        if literal {
            for l in content.get(..body)? {
                out.push_str(l);
                out.push('\n');
            }
        } else {
            // Folding: lines of the same indentation join with a space, an
            // empty line between them stands for a line break. Lines
            // indented further keep their breaks: left to the event builder.
            let mut empties = 0usize;
            let mut started = false;
            for l in content.get(..body)? {
                if l.is_empty() {
                    empties += 1;
                    continue;
                }
                if l.starts_with(' ') {
                    return None;
                }
                if started {
                    if empties == 0 {
                        out.push(' ');
                    } else {
                        out.extend(std::iter::repeat_n('\n', empties));
                    }
                } else {
                    out.extend(std::iter::repeat_n('\n', empties));
                }
                empties = 0;
                started = true;
                out.push_str(l);
            }
            if body > 0 {
                out.push('\n');
            }
        }
        match chomp {
            Chomp::Strip => {
                while out.ends_with('\n') {
                    out.pop();
                }
            }
            Chomp::Clip => {}
            Chomp::Keep => out.extend(std::iter::repeat_n('\n', trailing)),
        }
        if body == 0 {
            // Only blank lines: what chomping makes of them is left to
            // the event builder.
            return None;
        }
        self.at = end;
        Some(Value::String(out))
    }
}

#[derive(Clone, Copy)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// Checks that nothing but spaces and a comment follow a value (a `#`
/// with no space before it is no comment).
fn ends_line(rest: &str) -> Option<()> {
    let trimmed = rest.trim_start_matches(' ');
    (trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())).then_some(())
}

/// Characters a plain scalar may not start with (YAML's indicators), but
/// `-`, `?` and `:` followed by a non-space.
fn plain_start(text: &str) -> bool {
    let b = text.as_bytes();
    match b.first() {
        None => false,
        // (A flow indicator after one is refused in flow context; this
        // path leaves it to the event builder in both.)
        Some(b'-' | b'?' | b':') => b.get(1).is_some_and(|c| !b" ,[]{}".contains(c)),
        Some(c) => !b",[]{}#&*!|>'\"%@`".contains(c),
    }
}

/// Where a plain key ends (before its `:`): at the first `:` followed by a
/// space or the end of the line. `None` when the text is no plain key this
/// path takes.
fn plain_key_end(text: &str) -> Option<usize> {
    if !plain_start(text) {
        return None;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i)? {
            b':' if matches!(bytes.get(i + 1), None | Some(b' ')) => {
                let key = text.get(..i)?;
                return (i > 0 && i <= MAX_KEY && !key.ends_with(' '))
                    .then_some(i)
                    .filter(|_| !key.bytes().any(|b| b"[]{},#".contains(&b)));
            }
            b'#' if i > 0 && bytes.get(i - 1) == Some(&b' ') => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// A plain scalar value: the text up to a comment, when it is one this path
/// takes (no `: `, which would make it a key, no trailing `:`).
fn plain_value(text: &str) -> Option<&str> {
    if !plain_start(text) {
        return None;
    }
    let end = text.find(" #").unwrap_or(text.len());
    let value = text.get(..end)?.trim_end_matches(' ');
    if value.contains(": ") || value.ends_with(':') {
        return None;
    }
    Some(value)
}

/// The byte just past a quoted scalar that starts `text` and closes on the
/// same line.
fn quoted_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = *bytes.first()?;
    let mut i = 1;
    while i < bytes.len() {
        let b = *bytes.get(i)?;
        if quote == b'\'' && b == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        if quote == b'"' {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                return Some(i + 1);
            }
        }
        i += 1;
    }
    None
}

/// The text of a one-line quoted scalar (with its quotes), or `None` for
/// an escape this path leaves to the event builder.
fn unquote(quoted: &str) -> Option<String> {
    let inner = quoted.get(1..quoted.len().checked_sub(1)?)?;
    if quoted.starts_with('\'') {
        return Some(inner.replace("''", "'"));
    }
    if !inner.contains('\\') {
        return Some(inner.to_string());
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            '"' => '"',
            '/' => '/',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'e' => '\u{1b}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            ' ' => ' ',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => hex(&mut chars, 2)?,
            'u' => hex(&mut chars, 4)?,
            'U' => hex(&mut chars, 8)?,
            _ => return None,
        });
    }
    Some(out)
}

fn hex(chars: &mut std::str::Chars<'_>, n: usize) -> Option<char> {
    let digits: String = chars.take(n).collect();
    if digits.len() != n || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
}

/// A flow collection on one line.
struct Flow<'a> {
    text: &'a str,
    at: usize,
    line: usize,
}

impl Flow<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    fn value(&mut self, p: &mut Parser<'_>, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.mapping(p, depth),
            b'[' => self.sequence(p, depth),
            b'"' | b'\'' => self.quoted().map(Value::String),
            _ => {
                let raw = self.plain()?;
                scalar(raw.into(), saphyr_parser::ScalarStyle::Plain, None)
            }
        }
    }

    fn quoted(&mut self) -> Option<String> {
        let rest = self.text.get(self.at..)?;
        let end = quoted_end(rest)?;
        let s = unquote(rest.get(..end)?)?;
        self.at += end;
        Some(s)
    }

    /// A plain scalar in flow: up to `,`, a bracket or brace, or `: `.
    fn plain(&mut self) -> Option<&str> {
        let rest = self.text.get(self.at..)?;
        if !plain_start(rest) {
            return None;
        }
        let bytes = rest.as_bytes();
        let mut end = 0;
        while end < bytes.len() {
            match bytes.get(end)? {
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if matches!(bytes.get(end + 1), Some(b' ' | b',' | b']' | b'}') | None) => {
                    break;
                }
                b'#' if end > 0 && bytes.get(end - 1) == Some(&b' ') => return None,
                b':' => return None,
                _ => end += 1,
            }
        }
        let value = rest.get(..end)?.trim_end_matches(' ');
        if value.is_empty() {
            return None;
        }
        self.at += end;
        Some(value)
    }

    fn sequence(&mut self, p: &mut Parser<'_>, depth: usize) -> Option<Value> {
        self.at += 1;
        let mut items = Vec::new();
        self.spaces();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(Value::Array(items));
        }
        loop {
            self.spaces();
            let entry = p.positions.open(p.pos(self.line, self.at), None);
            items.push(self.value(p, depth + 1)?);
            p.positions.close(entry);
            self.spaces();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    break;
                }
                _ => return None,
            }
        }
        items.shrink_to_fit();
        Some(Value::Array(items))
    }

    fn mapping(&mut self, p: &mut Parser<'_>, depth: usize) -> Option<Value> {
        self.at += 1;
        let mut map = Map::new();
        self.spaces();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(Value::Object(map));
        }
        loop {
            self.spaces();
            let key_pos = p.pos(self.line, self.at);
            let key = match self.peek()? {
                b'"' | b'\'' => self.quoted()?,
                b'{' | b'[' => return None,
                _ => {
                    let raw = self.plain()?;
                    scalar_key(scalar(raw.into(), saphyr_parser::ScalarStyle::Plain, None)?)
                }
            };
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            if self.peek()? != b' ' {
                return None;
            }
            self.spaces();
            if matches!(self.peek()?, b',' | b'}') {
                // An empty value: left to the event builder.
                return None;
            }
            let entry = p.positions.open(key_pos, Some(&key));
            let value = self.value(p, depth + 1)?;
            p.positions.close(entry);
            if map.insert(key, value).is_some() {
                return None;
            }
            self.spaces();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    break;
                }
                _ => return None,
            }
        }
        Some(Value::Object(map))
    }
}
