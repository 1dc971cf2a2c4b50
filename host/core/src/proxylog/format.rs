//! Squid's `logformat` language, and reading one access-log line with it.
//!
//! A definition is literal text with `%` codes:
//! `% [encoding] [-] [[0]width[.max]] [{arg}] code [{arg}]` (squid.conf's
//! `logformat`). Reading a line walks the definition: literal text must be
//! there (a run of spaces matches any run of spaces, since `%6tr` pads with
//! them), and a code's value runs up to where the next literal starts.
//! Squid's own `squid` format has a faster reader of its own
//! (`super::native_request`), held equal to this one by the tests.

use std::collections::BTreeMap;

/// Squid's built-in formats (squid.conf.documented, 5.x to 7.x). Squid
/// writes `common` and `combined` with code of its own, where what the
/// documentation spells `HTTP/%rv` is the protocol and its version
/// (`NONE/0.0` for a request it could not read): one field here.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "squid",
        "%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt",
    ),
    (
        "common",
        "%>a %[ui %[un [%tl] \"%rm %ru %rv\" %>Hs %<st %Ss:%Sh",
    ),
    (
        "combined",
        "%>a %[ui %[un [%tl] \"%rm %ru %rv\" %>Hs %<st \"%{Referer}>h\" \"%{User-Agent}>h\" %Ss:%Sh",
    ),
    ("referrer", "%ts.%03tu %>a %{Referer}>h %ru"),
    ("useragent", "%>a [%tl] \"%{User-Agent}>h\""),
];

/// Format codes, longest first where one is a prefix of another.
const CODES: &[&str] = &[
    "err_detail",
    "err_code",
    "credentials",
    ">handshake",
    "master_xaction",
    ">nfmark",
    "<nfmark",
    ">eui",
    ">qos",
    "<qos",
    ">la",
    ">lp",
    "<la",
    "<lp",
    ">rm",
    "<rm",
    ">ru",
    "<ru",
    ">rs",
    "<rs",
    ">rd",
    "<rd",
    ">rP",
    "<rP",
    ">rp",
    "<rp",
    ">rv",
    "<rv",
    ">ha",
    ">Hs",
    "<Hs",
    "<bs",
    ">st",
    "<st",
    ">sh",
    "<sh",
    "<tt",
    "<pt",
    "note",
    ">a",
    ">A",
    ">p",
    "<a",
    "<A",
    "<p",
    ">h",
    "<h",
    "sn",
    "la",
    "lp",
    "ts",
    "tu",
    "tl",
    "tg",
    "tr",
    "dt",
    "tS",
    "et",
    "ea",
    "un",
    "ul",
    "ue",
    "ui",
    "us",
    "rm",
    "ru",
    "rp",
    "rv",
    "Hs",
    "st",
    "mt",
    "Ss",
    "Sh",
    "%",
];

/// Codes whose values may hold spaces.
const SPACED: &[&str] = &[
    "tl",
    "tg",
    ">h",
    "<h",
    "note",
    "ea",
    "et",
    "err_detail",
    "credentials",
    ">ha",
];

/// One piece of a compiled format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Literal text without spaces.
    Text(String),
    /// One or more spaces.
    Space,
    /// A format code, with its argument (`%{Referer}>h`) and whether its
    /// value is written in quotes (the `"` encoding).
    Field {
        code: String,
        arg: Option<String>,
        quoted: bool,
    },
}

/// A compiled `logformat` definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    /// Its name (`squid`, or a `logformat` name).
    pub name: String,
    /// As written.
    pub definition: String,
    pub tokens: Vec<Token>,
    /// Squid's native format: read by the fast reader.
    pub native: bool,
}

impl LogFormat {
    /// A built-in format by name.
    pub fn builtin(name: &str) -> Option<LogFormat> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(n, d)| LogFormat::compile(n, d).ok())
    }

    /// Compiles a definition; `Err` says what is wrong and where.
    pub fn compile(name: &str, definition: &str) -> Result<LogFormat, String> {
        let mut tokens = Vec::new();
        let mut text = String::new();
        let flush = |text: &mut String, tokens: &mut Vec<Token>| {
            if !text.is_empty() {
                tokens.push(Token::Text(std::mem::take(text)));
            }
        };
        let bytes = definition.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes.get(i).copied().unwrap_or(b' ');
            if c == b' ' || c == b'\t' {
                flush(&mut text, &mut tokens);
                if tokens.last() != Some(&Token::Space) {
                    tokens.push(Token::Space);
                }
                i += 1;
                continue;
            }
            if c != b'%' {
                let ch = definition
                    .get(i..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or(' ');
                text.push(ch);
                i += ch.len_utf8();
                continue;
            }
            // A code: % [encoding] [-] [[0]width[.max]] [{arg}] code [{arg}]
            let start = i;
            i += 1;
            if bytes.get(i) == Some(&b'%') {
                text.push('%');
                i += 1;
                continue;
            }
            let quoted = bytes.get(i) == Some(&b'"');
            if matches!(bytes.get(i), Some(b'"' | b'[' | b'#' | b'/' | b'\'')) {
                i += 1;
            }
            if bytes.get(i) == Some(&b'-') {
                i += 1;
            }
            while bytes
                .get(i)
                .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
            {
                i += 1;
            }
            let mut arg = None;
            let read_arg = |i: &mut usize| -> Result<Option<String>, String> {
                if bytes.get(*i) != Some(&b'{') {
                    return Ok(None);
                }
                let rest = definition.get(*i + 1..).unwrap_or_default();
                let end = rest
                    .find('}')
                    .ok_or_else(|| format!("`{{` without `}}` at column {}", *i + 1))?;
                let a = rest.get(..end).unwrap_or_default().to_string();
                *i += end + 2;
                Ok(Some(a))
            };
            if let Some(a) = read_arg(&mut i)? {
                arg = Some(a);
            }
            let rest = definition.get(i..).unwrap_or_default();
            let rest = rest.strip_prefix("http::").unwrap_or(rest);
            let skipped = definition.get(i..).map_or(0, |r| r.len() - rest.len());
            let code = if let Some((ns, _)) = rest.split_once("::").filter(|(ns, _)| {
                !ns.is_empty() && ns.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_')
            }) {
                // `icap::tr`, `ssl::bump_mode`, `adapt::<last_h`, …
                let after = rest.get(ns.len() + 2..).unwrap_or_default();
                let n = after
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'<' | b'>' | b'_'))
                    .count();
                rest.get(..ns.len() + 2 + n).unwrap_or_default().to_string()
            } else {
                CODES
                    .iter()
                    .find(|c| rest.starts_with(*c))
                    .map(|c| c.to_string())
                    .ok_or_else(|| {
                        format!(
                            "unknown format code at column {}: `{}`",
                            start + 1,
                            definition.get(start..).unwrap_or_default()
                        )
                    })?
            };
            i += skipped + code.len();
            if let Some(a) = read_arg(&mut i)? {
                arg = Some(a);
            }
            flush(&mut text, &mut tokens);
            if code == "%" {
                text.push('%');
            } else {
                tokens.push(Token::Field { code, arg, quoted });
            }
        }
        flush(&mut text, &mut tokens);
        while tokens.last() == Some(&Token::Space) {
            tokens.pop();
        }
        let native = definition.trim() == BUILTIN.first().map_or("", |b| b.1);
        Ok(LogFormat {
            name: name.to_string(),
            definition: definition.to_string(),
            tokens,
            native,
        })
    }

    /// Reads one line into its fields (code → value; `-` and empty values
    /// are left out). `Err` says where the line stops fitting.
    pub fn fields<'l>(&self, line: &'l str) -> Result<Fields<'l>, String> {
        let mut out = Fields::default();
        let mut pos = 0usize;
        for (i, token) in self.tokens.iter().enumerate() {
            let rest = line.get(pos..).unwrap_or_default();
            match token {
                Token::Space => {
                    let skipped = rest.len() - rest.trim_start().len();
                    if skipped == 0 {
                        return Err(format!("expected a space at column {}", pos + 1));
                    }
                    pos += skipped;
                }
                Token::Text(t) => {
                    if !rest.starts_with(t.as_str()) {
                        return Err(format!("expected `{t}` at column {}", pos + 1));
                    }
                    pos += t.len();
                }
                Token::Field { code, arg, quoted } => {
                    // Padding before the value (`%6tr` after a literal).
                    let value_start = pos + (rest.len() - rest.trim_start_matches(' ').len());
                    let rest = line.get(value_start..).unwrap_or_default();
                    if *quoted && rest.starts_with('"') {
                        // `"…"` with `\"` inside: up to the closing quote.
                        let inner = rest.get(1..).unwrap_or_default();
                        let close = find_unescaped(inner, "\"").ok_or_else(|| {
                            format!("an unterminated quoted value at column {}", value_start + 1)
                        })?;
                        out.insert(code, arg.as_deref(), inner.get(..close).unwrap_or_default());
                        pos = value_start + close + 2;
                        continue;
                    }
                    let end = match self.tokens.get(i + 1) {
                        None => rest.len(),
                        Some(Token::Space) | Some(Token::Field { .. }) => {
                            rest.find([' ', '\t']).unwrap_or(rest.len())
                        }
                        Some(Token::Text(t)) => find_unescaped(rest, t).ok_or_else(|| {
                            format!("expected `{t}` after column {}", value_start + 1)
                        })?,
                    };
                    let value = rest.get(..end).unwrap_or_default();
                    // Squid encodes spaces in every value but dates,
                    // headers and annotations: one here means the line is
                    // not in this format.
                    if value.trim().contains([' ', '\t']) && !SPACED.contains(&code.as_str()) {
                        return Err(format!(
                            "`%{code}` at column {} holds a space: the line is not in format `{}`",
                            value_start + 1,
                            self.name
                        ));
                    }
                    out.insert(code, arg.as_deref(), value);
                    pos = value_start + end;
                }
            }
        }
        Ok(out)
    }
}

/// The first occurrence of `t` in `s` not preceded by a backslash (quoted
/// values escape their quotes).
fn find_unescaped(s: &str, t: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s.get(from..).and_then(|r| r.find(t)) {
        let at = from + i;
        if at > 0 && s.as_bytes().get(at - 1) == Some(&b'\\') && t.starts_with('"') {
            from = at + 1;
            continue;
        }
        return Some(at);
    }
    None
}

/// The fields of one line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fields<'l> {
    values: Vec<(&'static str, Option<String>, &'l str)>,
}

/// Codes as the record reads them (an unknown code is kept by a static
/// name of its kind).
fn canonical(code: &str) -> &'static str {
    CODES
        .iter()
        .find(|c| **c == code)
        .copied()
        .unwrap_or("other")
}

impl<'l> Fields<'l> {
    fn insert(&mut self, code: &str, arg: Option<&str>, value: &'l str) {
        let value = value.trim();
        if value.is_empty() || value == "-" {
            return;
        }
        self.values
            .push((canonical(code), arg.map(str::to_string), value));
    }

    /// The value of the first of `codes` present.
    pub fn get(&self, codes: &[&str]) -> Option<&'l str> {
        codes.iter().find_map(|c| {
            self.values
                .iter()
                .find(|(k, arg, _)| k == c && arg.is_none())
                .map(|(_, _, v)| *v)
        })
    }

    /// A header's value (`%{Name}>h`).
    pub fn header(&self, name: &str) -> Option<&'l str> {
        self.values
            .iter()
            .find(|(k, arg, _)| {
                *k == ">h" && arg.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(name))
            })
            .map(|(_, _, v)| *v)
    }

    /// Every field, for tests and diagnostics.
    pub fn all(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .map(|(k, a, v)| {
                let key = match a {
                    Some(a) => format!("{{{a}}}{k}"),
                    None => (*k).to_string(),
                };
                (key, (*v).to_string())
            })
            .collect()
    }
}

/// Seconds since the epoch of `%tl`/`%tg`'s default form
/// (`30/Nov/2026:11:00:00 +0000`).
pub fn parse_clf_time(text: &str) -> Option<f64> {
    let (date, zone) = text.split_once(' ').unwrap_or((text, "+0000"));
    let mut it = date.splitn(4, [':', '/']);
    let day: i64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let m: i64 = hms.next()?.parse().ok()?;
    let s: i64 = hms.next()?.parse().ok()?;
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits = zone.trim_start_matches(['+', '-']);
    let zh: i64 = digits.get(..2)?.parse().ok()?;
    let zm: i64 = digits.get(2..4)?.parse().ok()?;
    let days = days_from_civil(year, month, day);
    let local = days * 86_400 + h * 3600 + m * 60 + s;
    #[allow(clippy::cast_precision_loss, reason = "seconds since 1970 fit in f64")]
    Some((local - sign * (zh * 3600 + zm * 60)) as f64)
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn the_builtin_formats_compile() {
        for (name, _) in BUILTIN {
            let f = LogFormat::builtin(name).unwrap();
            assert!(
                f.tokens.iter().any(|t| matches!(t, Token::Field { .. })),
                "{name}"
            );
        }
        assert!(LogFormat::builtin("squid").unwrap().native);
    }

    #[test]
    fn the_native_reader_agrees_with_the_general_one() {
        let line = "1764500000.123    456 10.0.3.7 TCP_TUNNEL/200 5120 CONNECT github.com:443 - HIER_DIRECT/140.82.112.3 -";
        let general = LogFormat::builtin("squid").unwrap();
        assert_eq!(
            super::super::native_request(line).unwrap(),
            super::super::Request::from_fields(&general.fields(line).unwrap()).unwrap()
        );
        let f = general.fields(line).unwrap();
        assert_eq!(f.get(&["ts"]), Some("1764500000"));
        assert_eq!(f.get(&["tu"]), Some("123"));
        assert_eq!(f.get(&[">a"]), Some("10.0.3.7"));
        assert_eq!(f.get(&["Ss"]), Some("TCP_TUNNEL"));
        assert_eq!(f.get(&[">Hs"]), Some("200"));
        assert_eq!(f.get(&["ru"]), Some("github.com:443"));
        assert_eq!(f.get(&["un"]), None);
        assert_eq!(f.get(&["<a"]), Some("140.82.112.3"));
    }

    #[test]
    fn common_and_combined_lines_are_read_with_their_quotes_and_dates() {
        let combined = LogFormat::builtin("combined").unwrap();
        let line = r#"10.0.3.7 - alice [30/Nov/2026:11:00:00 +0100] "GET http://example.com/a?b=1 HTTP/1.1" 403 3900 "-" "curl/8.5 \"x\"" TCP_DENIED:HIER_NONE"#;
        let f = combined.fields(line).unwrap();
        assert_eq!(f.get(&[">a"]), Some("10.0.3.7"));
        assert_eq!(f.get(&["un"]), Some("alice"));
        assert_eq!(f.get(&["tl"]), Some("30/Nov/2026:11:00:00 +0100"));
        assert_eq!(f.get(&["rm"]), Some("GET"));
        assert_eq!(f.get(&["ru"]), Some("http://example.com/a?b=1"));
        assert_eq!(f.get(&[">Hs"]), Some("403"));
        assert_eq!(f.header("User-Agent"), Some(r#"curl/8.5 \"x\""#));
        assert_eq!(f.get(&["Ss"]), Some("TCP_DENIED"));
        assert_eq!(f.get(&["Sh"]), Some("HIER_NONE"));
        assert_eq!(
            parse_clf_time("30/Nov/2026:11:00:00 +0100"),
            Some(1_796_032_800.0)
        );
    }

    #[test]
    fn custom_formats_compile_with_encodings_widths_and_arguments() {
        let f = LogFormat::compile(
            "mine",
            r#"%tS %>a:%>p %"rm %#ru %-8Ss %03>Hs %{Host}>h %note{x} %ssl::bump_mode 100%%"#,
        )
        .unwrap();
        let line = r#"1764500000.5 10.0.3.7:41234 "CONNECT" api.example:443 TCP_TUNNEL 200 api.example - peek 100%"#;
        let v = f.fields(line).unwrap();
        assert_eq!(v.get(&["rm"]), Some("CONNECT"));
        assert_eq!(v.get(&[">p"]), Some("41234"));
        assert_eq!(v.header("host"), Some("api.example"));
        assert!(LogFormat::compile("bad", "%>a %nonsense").is_err());
    }

    #[test]
    fn the_issue_s_custom_format_reads_like_the_native_one_without_the_elapsed_time() {
        let f = LogFormat::compile(
            "short",
            "%ts.%03tu %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt",
        )
        .unwrap();
        assert!(!f.native);
        let v = f
            .fields("1764500000.123 10.0.3.7 TCP_DENIED/403 3900 CONNECT evil.example:443 - HIER_NONE/- text/html")
            .unwrap();
        let r = super::super::Request::from_fields(&v).unwrap();
        assert_eq!(r.client, Some("10.0.3.7".parse().unwrap()));
        assert_eq!(r.verdict, super::super::Verdict::Denied);
        assert_eq!(r.status, Some(403));
        assert_eq!(r.time, Some(1_764_500_000.123));
        assert_eq!(r.target.unwrap().host, "evil.example");
    }

    #[test]
    fn a_line_that_does_not_fit_says_where() {
        let common = LogFormat::builtin("common").unwrap();
        let e = common.fields("10.0.0.1 - - 30/Nov/2026").unwrap_err();
        assert!(e.contains("column"), "{e}");
        assert!(
            LogFormat::builtin("squid")
                .unwrap()
                .fields("12.5 1 10.0.0.1")
                .is_err()
        );
    }
}
