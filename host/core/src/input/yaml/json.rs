//! The fast path for JSON texts (`kubectl get -o json`, generated
//! manifests): one document, built with its positions straight from the
//! bytes, with the values YAML gives the same text (JSON is YAML 1.2).
//!
//! It takes only plain JSON and gives up (`None`) on anything else: then
//! the YAML parser reads the text, and reports whatever is wrong with it
//! where it is. So a text is never read two ways: either this reads it
//! exactly as YAML would, or YAML reads it.

use super::{Document, MAX_DEPTH, Pos, Positions};
use serde_json::{Map, Value};

/// The document of a text that is one JSON object or array, or `None`.
pub(super) fn parse(text: &str) -> Option<Document> {
    let bytes = text.as_bytes();
    let mut p = Parser {
        bytes,
        at: 0,
        line: 1,
        line_start: 0,
        column_at: (0, 1),
        positions: Positions::default(),
        depth: 0,
    };
    p.skip_space()?;
    if !matches!(p.peek(), Some(b'{' | b'[')) {
        return None;
    }
    let start = p.pos();
    let root = p.positions.open(start, None);
    let value = p.value()?;
    p.positions.close(root);
    p.skip_space()?;
    if p.at != bytes.len() {
        return None;
    }
    Some(Document::new(value, p.positions, start))
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The line `at` is on (1-based), and the offset where it starts.
    line: u32,
    line_start: usize,
    /// A known (offset, column) on the current line: columns count
    /// characters, and counting from here keeps a long line linear.
    column_at: (usize, u32),
    positions: Positions,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips JSON whitespace, counting lines. A carriage return not
    /// followed by a line feed is a line break to YAML: left to it.
    fn skip_space(&mut self) -> Option<()> {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' => self.at += 1,
                b'\n' => self.newline(self.at + 1),
                b'\r' if self.bytes.get(self.at + 1) == Some(&b'\n') => self.newline(self.at + 2),
                b'\r' => return None,
                _ => break,
            }
        }
        Some(())
    }

    fn newline(&mut self, next: usize) {
        self.at = next;
        self.line = self.line.saturating_add(1);
        self.line_start = next;
        self.column_at = (next, 1);
    }

    /// Where `at` is, in characters from the line's start.
    fn pos(&mut self) -> Pos {
        let (from, column) = if self.column_at.0 >= self.line_start && self.column_at.0 <= self.at {
            self.column_at
        } else {
            (self.line_start, 1)
        };
        let chars = self
            .bytes
            .get(from..self.at)
            .unwrap_or_default()
            .iter()
            .filter(|b| (**b & 0xC0) != 0x80)
            .count();
        let column = column.saturating_add(u32::try_from(chars).unwrap_or(u32::MAX));
        self.column_at = (self.at, column);
        Pos {
            line: self.line,
            column,
        }
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string().map(Value::String),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Option<Value> {
        let end = self.at + word.len();
        if self.bytes.get(self.at..end)? != word.as_bytes() {
            return None;
        }
        self.at = end;
        Some(value)
    }

    /// A JSON number, resolved by YAML's core schema (so `1e3` is a float
    /// and an integer too large for 64 bits one too).
    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        let token = std::str::from_utf8(self.bytes.get(start..self.at)?).ok()?;
        Some(super::scalar_value(saphyr::Scalar::parse_from_cow(
            token.into(),
        )))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn string(&mut self) -> Option<String> {
        self.at += 1; // the opening quote
        let mut out = String::new();
        loop {
            let run = self.at;
            while self
                .peek()
                .is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20)
            {
                self.at += 1;
            }
            // Runs end on ASCII bytes, so they are whole characters.
            let text = std::str::from_utf8(self.bytes.get(run..self.at)?).ok()?;
            match self.peek()? {
                // Most strings are one run: one allocation of their size.
                b'"' if out.is_empty() => {
                    self.at += 1;
                    return Some(text.to_owned());
                }
                b'"' => {
                    self.at += 1;
                    out.push_str(text);
                    return Some(out.as_str().to_owned());
                }
                b'\\' => {
                    out.push_str(text);
                    self.at += 1;
                    let c = match self.peek()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.at += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return None,
                    };
                    self.at += 1;
                    out.push(c);
                }
                // A control character: not JSON.
                _ => return None,
            }
        }
    }

    /// The character of `\uXXXX` (after the `u`), joining a surrogate
    /// pair; a lone surrogate gives up.
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high);
        }
        if self.bytes.get(self.at..self.at + 2)? != b"\\u" {
            return None;
        }
        self.at += 2;
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return None;
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = std::str::from_utf8(self.bytes.get(self.at..self.at + 4)?).ok()?;
        let n = u32::from_str_radix(digits, 16).ok()?;
        if digits.starts_with(['+', '-']) {
            return None;
        }
        self.at += 4;
        Some(n)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn array(&mut self) -> Option<Value> {
        self.enter()?;
        self.at += 1;
        let mut items = Vec::new();
        self.skip_space()?;
        if self.peek()? == b']' {
            self.at += 1;
        } else {
            loop {
                self.skip_space()?;
                let pos = self.pos();
                let entry = self.positions.open(pos, None);
                items.push(self.value()?);
                self.positions.close(entry);
                self.skip_space()?;
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        items.shrink_to_fit();
        Some(Value::Array(items))
    }

    fn object(&mut self) -> Option<Value> {
        self.enter()?;
        self.at += 1;
        let mut map = Map::new();
        self.skip_space()?;
        if self.peek()? == b'}' {
            self.at += 1;
        } else {
            loop {
                self.skip_space()?;
                if self.peek()? != b'"' {
                    return None;
                }
                let pos = self.pos();
                let key = self.string()?;
                self.skip_space()?;
                if self.peek()? != b':' {
                    return None;
                }
                self.at += 1;
                self.skip_space()?;
                let entry = self.positions.open(pos, Some(&key));
                let value = self.value()?;
                self.positions.close(entry);
                // A duplicate key is an error YAML reports, located.
                if map.insert(key, value).is_some() {
                    return None;
                }
                self.skip_space()?;
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(Value::Object(map))
    }
}
