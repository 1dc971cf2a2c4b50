//! The human report: one block per finding or failure, with a code frame of
//! the offending line, then a summary line.
//!
//! Everything that comes from plugins or inputs (messages, fixes, object and
//! file names, rule and plugin IDs, source lines) is written through
//! `escape::line`, so it stays on its line and cannot drive the terminal: a
//! hostile name cannot print a fake `error[…]` block or summary.
//!
//! Output is bounded by the number of findings, not by the size of the
//! inputs: a code frame shows at most [`FRAME_COLUMNS`] columns of the line
//! around the column at fault (with `…` where it is cut), and after
//! [`FRAME_BUDGET`] bytes of code frames the remaining findings are listed
//! without one, with a note before the summary.

use std::fmt::Write as _;

use super::escape::{line as esc, push_visible};
use crate::report::{DiagnosticKind, Location, Report, Severity};

/// The most display columns of a source line a code frame shows, `…` marks
/// included. A line is cut around the column at fault; characters count as
/// one column each, escapes (`\u{1b}`) as their length, a tab as four.
pub const FRAME_COLUMNS: usize = 120;

/// Columns kept left of the column at fault when a line is cut, when the
/// line goes on long enough to the right.
const FRAME_LEFT_CONTEXT: usize = 40;

/// Bytes of code frames (the source and caret lines) after which findings
/// and failures are listed without one. Machine formats (JSON, SARIF) carry
/// every location regardless.
pub const FRAME_BUDGET: usize = 256 * 1024;

/// How a tab in a source line is shown.
const TAB: &str = "    ";

/// Renders a report for a terminal (plain text, no colour).
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let mut frames = Frames {
        report,
        used: 0,
        omitted: 0,
        line_starts: std::collections::HashMap::new(),
    };
    for d in &report.diagnostics {
        let tag = match (d.kind, d.cause) {
            (DiagnosticKind::Plugin, Some(cause)) => format!("error[plugin:{}]", cause.as_str()),
            (DiagnosticKind::Plugin, None) => "error[plugin]".to_string(),
            (DiagnosticKind::Input, _) => "error[input]".to_string(),
        };
        let _ = writeln!(out, "{tag}: {}", esc(&d.message));
        if let Some(loc) = &d.location {
            frames.write(&mut out, loc);
        }
        out.push('\n');
    }
    for f in &report.findings {
        let _ = writeln!(out, "{}[{}]: {}", f.severity, esc(&f.rule), esc(&f.message));
        let object = f.object.to_string();
        match &f.location {
            Some(loc) => frames.write(&mut out, loc),
            None => {
                let _ = writeln!(out, "  --> {}", esc(&object));
            }
        }
        let pad = f.location.as_ref().map_or(1, |l| l.line.to_string().len());
        let pad = " ".repeat(pad);
        if let Some(fix) = &f.remediation {
            let _ = writeln!(out, "{pad} = fix: {}", esc(fix));
        }
        for r in &f.related {
            let at = r
                .location
                .as_ref()
                .map_or_else(|| r.object.to_string(), ToString::to_string);
            let _ = writeln!(out, "{pad} = note: {} ({})", esc(&r.message), esc(&at));
        }
        let _ = writeln!(out, "{pad} = {} (plugin {})", esc(&object), esc(&f.plugin));
        out.push('\n');
    }
    for e in &report.exempted {
        let f = &e.finding;
        let at = f
            .location
            .as_ref()
            .map(|l| format!(" at {}", esc(&l.to_string())))
            .unwrap_or_default();
        let by =
            e.by.as_ref()
                .map(|l| format!(" ({})", esc(&l.to_string())))
                .unwrap_or_default();
        let _ = writeln!(
            out,
            "exempted[{}]: {}{at}\n  = reason: {}{by}\n",
            esc(&f.rule),
            esc(&f.message),
            esc(&e.reason)
        );
    }
    if frames.omitted > 0 {
        let _ = writeln!(
            out,
            "note: {} code frame{} omitted after {} KiB of code frames (every location is listed above)",
            frames.omitted,
            plural(frames.omitted),
            FRAME_BUDGET / 1024
        );
    }
    summary(&mut out, report);
    out
}

/// What plugins logged, for people: `plugin ID: level: message`, one line
/// each, escaped like the human report (a plugin cannot forge other lines of
/// standard error either).
pub fn plugin_log(report: &Report) -> String {
    let mut out = String::new();
    for (plugin, line) in &report.plugin_log {
        let _ = writeln!(out, "plugin {}: {}", esc(plugin), esc(line));
    }
    out
}

/// The objects read but not evaluated, one line each, for `--verbose`.
pub fn not_evaluated(report: &Report) -> String {
    let mut out = String::new();
    for n in &report.not_evaluated {
        let what = match &n.object {
            Some(o) => {
                // A patch names the kind it patches.
                let kind = if n.kind.rsplit('/').next() == Some(o.kind.as_str()) {
                    String::new()
                } else {
                    format!("{} ", o.kind)
                };
                match &o.namespace {
                    Some(ns) => format!("{} {kind}{ns}/{}", n.kind, o.name),
                    None => format!("{} {kind}{}", n.kind, o.name),
                }
            }
            None => n.kind.clone(),
        };
        let at = n
            .location
            .as_ref()
            .map_or_else(String::new, |l| format!(" at {l}"));
        let _ = writeln!(out, "note: not evaluated: {}{}", esc(&what), esc(&at));
    }
    out
}

/// Writes code frames while the budget lasts, and counts those it omits.
struct Frames<'r> {
    report: &'r Report,
    /// Bytes of source and caret lines written so far.
    used: usize,
    /// Frames left out for want of budget.
    omitted: usize,
    /// Byte offset of each line of each file framed so far: finding a line
    /// is then a lookup, not a scan of the file per frame.
    line_starts: std::collections::HashMap<String, Vec<usize>>,
}

impl Frames<'_> {
    /// `  --> file:line:col` and, while the budget lasts, the source line
    /// (or a window of it) with a caret under the token.
    fn write(&mut self, out: &mut String, loc: &Location) {
        let number = loc.line.to_string();
        let pad = " ".repeat(number.len());
        let _ = writeln!(out, "{pad}--> {}", esc(&loc.to_string()));
        let Some(text) = self.report.source(&loc.file) else {
            return;
        };
        // Checked before looking for the line: past the budget, a frame
        // costs nothing.
        if self.used >= FRAME_BUDGET {
            self.omitted += 1;
            return;
        }
        let starts = self.line_starts.entry(loc.file.clone()).or_insert_with(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let Some(&begin) = starts
            .get((loc.line as usize).saturating_sub(1))
            .filter(|b| **b < text.len())
        else {
            return;
        };
        let rest = text.get(begin..).unwrap_or_default();
        // As `str::lines` gives it: up to `\n`, without a trailing `\r`.
        let line = rest.split('\n').next().unwrap_or_default();
        let line = line.strip_suffix('\r').unwrap_or(line);
        let start = out.len();
        let w = window(line, (loc.column as usize).saturating_sub(1));
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{number} | {}", w.text);
        let _ = writeln!(
            out,
            "{pad} | {}{}",
            " ".repeat(w.caret_at),
            "^".repeat(w.caret_width)
        );
        self.used += out.len() - start;
    }
}

/// What a code frame shows of a source line.
#[derive(Debug, PartialEq, Eq)]
struct Window {
    /// The line or a piece of it, escaped, with `…` where it is cut.
    text: String,
    /// Display columns before the caret.
    caret_at: usize,
    /// Columns the caret underlines (at least 1).
    caret_width: usize,
}

/// The piece of `line` around character `col` that fits [`FRAME_COLUMNS`]:
/// [`FRAME_LEFT_CONTEXT`] columns to its left and the rest to its right,
/// or more to the left when the line ends sooner. The caret underlines the
/// token at `col` (up to `:`, space, `,`, `}` or `]`), within the window.
fn window(line: &str, col: usize) -> Window {
    // Byte offset of the column (the end of the line when past it).
    let offset = if line.is_ascii() {
        col.min(line.len())
    } else {
        line.char_indices().nth(col).map_or(line.len(), |(i, _)| i)
    };
    let (before, after) = line.split_at_checked(offset).unwrap_or((line, ""));
    // A line that fits is shown whole; otherwise leave room for `…` on
    // either side.
    let (_, _, too_long) = cells(line.chars(), FRAME_COLUMNS);
    let room = if too_long {
        FRAME_COLUMNS - 2
    } else {
        FRAME_COLUMNS
    };
    let (_, left_wanted, _) = cells(before.chars().rev(), FRAME_LEFT_CONTEXT);
    let (right, right_width, right_cut) = cells(after.chars(), room - left_wanted);
    let (mut left, left_width, left_cut) = cells(before.chars().rev(), room - right_width);
    left.reverse();

    let mut text = String::new();
    if left_cut {
        text.push('…');
    }
    for c in left.iter().chain(&right) {
        push_cell(&mut text, *c);
    }
    if right_cut {
        text.push('…');
    }
    let caret_width = right
        .iter()
        .take_while(|c| !matches!(c, ':' | ' ' | ',' | '}' | ']'))
        .map(|c| cell_width(*c))
        .sum::<usize>()
        .max(1);
    Window {
        text,
        caret_at: usize::from(left_cut) + left_width,
        caret_width,
    }
}

/// Takes characters while their cells fit in `budget` columns: (characters,
/// their width, whether some were left).
fn cells(chars: impl Iterator<Item = char>, budget: usize) -> (Vec<char>, usize, bool) {
    let mut taken = Vec::new();
    let mut width = 0;
    for c in chars {
        let w = cell_width(c);
        if width + w > budget {
            return (taken, width, true);
        }
        width += w;
        taken.push(c);
    }
    (taken, width, false)
}

/// Appends a source character as a code frame shows it.
fn push_cell(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str(TAB),
        c => push_visible(out, c),
    }
}

/// The display columns of a source character in a code frame.
fn cell_width(c: char) -> usize {
    let mut s = String::new();
    push_cell(&mut s, c);
    s.chars().count()
}

fn summary(out: &mut String, report: &Report) {
    let s = &report.summary;
    let total: usize = s.findings.values().sum();
    let mut by = Vec::new();
    for sev in [Severity::Error, Severity::Warning, Severity::Info] {
        if let Some(n) = s.findings.get(&sev) {
            by.push(format!("{n} {sev}"));
        }
    }
    let findings = match total {
        0 => "no findings".to_string(),
        1 => format!("1 finding ({})", by.join(", ")),
        n => format!("{n} findings ({})", by.join(", ")),
    };
    let errors = match s.errors {
        0 => String::new(),
        1 => ", 1 error that prevented a complete check".to_string(),
        n => format!(", {n} errors that prevented a complete check"),
    };
    let mut extra = String::new();
    if s.exempted > 0 {
        extra.push_str(&format!(", {} exempted", s.exempted));
    }
    if s.baselined > 0 || s.baseline_stale > 0 {
        extra.push_str(&format!(
            ", {} in the baseline ({} baseline entr{} no longer occur{})",
            s.baselined,
            s.baseline_stale,
            if s.baseline_stale == 1 { "y" } else { "ies" },
            if s.baseline_stale == 1 { "s" } else { "" }
        ));
    }
    let unevaluated: usize = s.not_evaluated.values().sum();
    let unevaluated = if unevaluated == 0 {
        String::new()
    } else {
        format!(
            " ({unevaluated} not evaluated: {})",
            s.not_evaluated
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let _ = writeln!(
        out,
        "{findings}{extra}{errors}: {} file{}, {} object{}{unevaluated}, {} plugin{}",
        s.files,
        plural(s.files),
        s.objects,
        plural(s.objects),
        s.plugins,
        plural(s.plugins)
    );
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text above the caret.
    fn under(w: &Window) -> String {
        w.text
            .chars()
            .skip(w.caret_at)
            .take(w.caret_width)
            .collect()
    }

    #[test]
    fn a_short_line_is_shown_whole() {
        let w = window("  name: api", 2);
        assert_eq!(
            w,
            Window {
                text: "  name: api".to_string(),
                caret_at: 2,
                caret_width: 4
            }
        );
    }

    #[test]
    fn a_line_of_exactly_the_frame_width_is_not_cut() {
        let line = "x".repeat(FRAME_COLUMNS);
        assert_eq!(window(&line, 60).text, line);
        let longer = format!("{}^{}", "x".repeat(60), "x".repeat(FRAME_COLUMNS - 60));
        let w = window(&longer, 60);
        assert!(w.text.chars().count() <= FRAME_COLUMNS, "{}", w.text);
        assert!(w.text.starts_with('…'), "{}", w.text);
        assert_eq!(w.text.chars().nth(w.caret_at), Some('^'));
    }

    #[test]
    fn a_long_line_is_cut_around_the_column_with_the_caret_in_place() {
        let line = format!("{}KEY: v{}", "a".repeat(100_000), "b".repeat(100_000));
        let w = window(&line, 100_000);
        assert_eq!(w.text.chars().count(), FRAME_COLUMNS);
        assert!(
            w.text.starts_with('…') && w.text.ends_with('…'),
            "{}",
            w.text
        );
        assert_eq!(w.caret_at, 1 + FRAME_LEFT_CONTEXT);
        let under = under(&w);
        assert_eq!(under, "KEY");
    }

    #[test]
    fn near_the_end_of_a_long_line_the_window_shows_more_on_the_left() {
        let line = format!("{}end", "x".repeat(1_000));
        let w = window(&line, 1_000);
        assert_eq!(w.text.chars().count(), FRAME_COLUMNS - 1);
        assert!(w.text.starts_with('…') && w.text.ends_with("end"));
        let under = under(&w);
        assert_eq!(under, "end");
    }

    #[test]
    fn control_characters_and_tabs_in_the_source_keep_the_caret_aligned() {
        let w = window("\t\x1b[2J: é\u{9b}x", 8);
        assert_eq!(w.text, "    \\u{1b}[2J: é\\u{9b}x");
        let under = under(&w);
        assert_eq!(under, "\\u{9b}x");
        assert!(!w.text.chars().any(char::is_control));
    }
}
