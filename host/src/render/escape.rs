//! Escaping for every renderer, in one place.
//!
//! Findings, plugin logs, object names and file names are hostile: plugins are
//! third-party code and manifests come from untrusted pull requests. Whatever
//! they contain, a report must not let them forge other lines (a fake
//! `error[NP001]` or summary), drive the terminal (ANSI escape sequences that
//! clear the screen or hide text), or break the document structure (a JUnit
//! testcase, a YAML key). Each format has its own rules, so there is one
//! function per format here, and renderers use nothing else:
//!
//! | function | for | what it does |
//! |---|---|---|
//! | [`line`] | human and GitHub output: any single-line field | control and layout characters as visible escapes (`\n`, `\u{1b}`) |
//! | `github_data`, `github_property` | GitHub workflow commands | [`line`], then the runner's `%XX` escapes |
//! | `xml` | JUnit attributes and text | entities and character references; characters XML 1.0 forbids become U+FFFD |
//! | `yaml` | PolicyReport scalars | plain when unambiguous, else double-quoted with escapes for everything YAML does not print |
//!
//! JSON and SARIF need nothing here: serde escapes what JSON requires, and a
//! JSON reader gets the exact text back.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal or log viewer as is: C0 controls
/// (including TAB, CR, LF and ESC, which starts ANSI sequences), DEL, C1
/// controls (including CSI, U+009B, a one-character ESC `[`), the Unicode line
/// and paragraph separators, and the bidirectional formatting characters that
/// can make a line display in another order than it reads ("Trojan Source").
pub(crate) fn is_unsafe_on_a_line(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// Makes hostile text safe to print as (part of) one line for people: a
/// terminal, a CI log, a GitHub annotation.
///
/// Characters that could move the cursor, start an escape sequence, end the
/// line or reorder it (see `is_unsafe_on_a_line`) are written as visible
/// Rust-style escapes: TAB, LF and CR as `\t`, `\n`, `\r`, any other as
/// `\u{1b}` (lowercase hex, no padding). Everything else, backslashes
/// included, is kept as is, so ordinary text (and Windows paths) read the
/// same; the escapes are for reading, not for decoding back.
pub fn line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_on_a_line) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

/// A whole multi-line text (a rendered report): line breaks and tabs kept,
/// every other character [`line`] escapes escaped. A last line of defence
/// for the command's output: each renderer escapes its fields already.
pub fn text(s: &str) -> Cow<'_, str> {
    let keep = |c: char| c == '\n' || c == '\t';
    if !s.chars().any(|c| is_unsafe_on_a_line(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if keep(c) {
            out.push(c);
        } else {
            push_visible(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// Appends `c` to `out`, escaped as [`line`] does.
pub(crate) fn push_visible(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if is_unsafe_on_a_line(c) => {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
        c => out.push(c),
    }
}

/// The message of a GitHub workflow command (after `::`): [`line`], then
/// `%`, CR and LF as `%25`, `%0D`, `%0A`, as the runner expects. After
/// [`line`] there is no CR or LF left; the runner's escapes are kept so the
/// function is right on its own.
pub(crate) fn github_data(s: &str) -> String {
    line(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value of a GitHub workflow command (`file=`, `title=`):
/// [`github_data`], plus `:` and `,` as `%3A` and `%2C`, which would otherwise
/// end the value.
pub(crate) fn github_property(s: &str) -> String {
    github_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Whether XML 1.0 allows `c` in a document at all (the `Char` production).
/// Lone surrogates cannot occur in a Rust string.
fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r'
        | '\u{20}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fffd}'
        | '\u{10000}'..='\u{10ffff}')
}

/// Text for an XML 1.0 attribute value (double-quoted) or element content,
/// such that a parser reads back exactly the input, except that characters
/// XML forbids (C0 controls other than TAB, LF and CR; U+FFFE, U+FFFF) become
/// U+FFFD, as there is no way to write them.
///
/// `&`, `<`, `>`, `"` and `'` are entities. TAB, LF and CR are character
/// references, because a parser would otherwise normalise them (to spaces in
/// attributes, CR to LF everywhere). DEL and C1 controls are character
/// references too: XML 1.0 allows them literally, XML 1.1 only as references.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' | '\u{7f}'..='\u{9f}' => {
                out.push_str(&format!("&#x{:X};", u32::from(c)));
            }
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{fffd}'),
        }
    }
    out
}

/// A YAML scalar for a string, such that any YAML 1.2 parser (and YAML 1.1
/// ones) reads back exactly the input.
///
/// Strings made only of ASCII letters, digits, `_`, `.`, `/` and `-`, starting
/// with a letter or `_`, and not one of the words YAML 1.1 reads as a
/// boolean, null or number, are written plain. Anything else is
/// double-quoted: `"` and `\` are escaped, and so is every character outside
/// YAML's printable set or that some parser could take for a line break or a
/// byte order mark (C0 controls, DEL, C1 controls including NEL, U+2028,
/// U+2029, U+FEFF, U+FFFE, U+FFFF) — as `\t`, `\n`, `\r` or `\uXXXX`.
pub(crate) fn yaml(s: &str) -> String {
    if yaml_plain(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}' => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a string can be written unquoted and still read back as the same
/// string (no indicator characters, not a boolean, null or number).
fn yaml_plain(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "nan" | "inf"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "a\x1b[2J\r\nerror[NP001]: forged\u{9b}31m\u{7f}\u{202e}z\tb";

    #[test]
    fn line_leaves_no_control_character_and_keeps_ordinary_text() {
        let out = line(HOSTILE);
        assert_eq!(
            out,
            "a\\u{1b}[2J\\r\\nerror[NP001]: forged\\u{9b}31m\\u{7f}\\u{202e}z\\tb"
        );
        assert!(!out.chars().any(is_unsafe_on_a_line));
        assert!(matches!(
            line("C:\\dir\\f.yaml: `ok` é 中"),
            Cow::Borrowed("C:\\dir\\f.yaml: `ok` é 中")
        ));
    }

    #[test]
    fn github_escapes_leave_one_line_and_no_property_separator() {
        let data = github_data("100% \r\n::error::x\x1b");
        assert_eq!(data, "100%25 \\r\\n::error::x\\u{1b}");
        let prop = github_property("a,b:c%\n");
        assert_eq!(prop, "a%2Cb%3Ac%25\\n");
    }

    #[test]
    fn xml_escapes_markup_and_replaces_what_xml_forbids() {
        assert_eq!(
            xml("\"/><testcase name='x'>&\t\n\r\u{1b}\u{7f}\u{85}\u{ffff}\u{fffe}\u{10000}"),
            "&quot;/&gt;&lt;testcase name=&apos;x&apos;&gt;&amp;&#x9;&#xA;&#xD;\u{fffd}&#x7F;&#x85;\u{fffd}\u{fffd}\u{10000}"
        );
    }

    #[test]
    fn yaml_quotes_unless_plain_and_escapes_what_yaml_does_not_print() {
        assert_eq!(yaml("palisade-shop"), "palisade-shop");
        assert_eq!(yaml("yes"), "\"yes\"");
        assert_eq!(yaml("1.0"), "\"1.0\"");
        assert_eq!(yaml(""), "\"\"");
        assert_eq!(
            yaml("a\"\\\t\n\u{7f}\u{85}\u{2028}\u{feff}\u{ffff}é"),
            "\"a\\\"\\\\\\t\\n\\u007F\\u0085\\u2028\\uFEFF\\uFFFFé\""
        );
    }
}
