//! The human report: one block per finding or failure, with a code frame of
//! the offending line, then a summary line.
//!
//! Everything that comes from plugins or inputs (messages, fixes, object and
//! file names, rule and plugin IDs, source lines) is written through
//! `escape::line`, so it stays on its line and cannot drive the terminal: a
//! hostile name cannot print a fake `error[…]` block or summary.

use std::fmt::Write as _;

use super::escape::{line as esc, push_visible};
use crate::report::{DiagnosticKind, Location, Report, Severity};

/// Renders a report for a terminal (plain text, no colour).
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let tag = match (d.kind, d.cause) {
            (DiagnosticKind::Plugin, Some(cause)) => format!("error[plugin:{}]", cause.as_str()),
            (DiagnosticKind::Plugin, None) => "error[plugin]".to_string(),
            (DiagnosticKind::Input, _) => "error[input]".to_string(),
        };
        let _ = writeln!(out, "{tag}: {}", esc(&d.message));
        if let Some(loc) = &d.location {
            frame(&mut out, report, loc);
        }
        out.push('\n');
    }
    for f in &report.findings {
        let _ = writeln!(out, "{}[{}]: {}", f.severity, esc(&f.rule), esc(&f.message));
        let object = f.object.to_string();
        match &f.location {
            Some(loc) => frame(&mut out, report, loc),
            None => {
                let _ = writeln!(out, "  --> {}", esc(&object));
            }
        }
        let pad = f.location.as_ref().map_or(1, |l| l.line.to_string().len());
        let pad = " ".repeat(pad);
        if let Some(fix) = &f.remediation {
            let _ = writeln!(out, "{pad} = fix: {}", esc(fix));
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

/// `  --> file:line:col` and the source line with a caret under the token.
fn frame(out: &mut String, report: &Report, loc: &Location) {
    let number = loc.line.to_string();
    let pad = " ".repeat(number.len());
    let _ = writeln!(out, "{pad}--> {}", esc(&loc.to_string()));
    let Some(text) = report.source(&loc.file) else {
        return;
    };
    let Some(line) = text.lines().nth((loc.line as usize).saturating_sub(1)) else {
        return;
    };
    let col = (loc.column as usize).saturating_sub(1);
    // The source line escaped like any other text; the caret counts the
    // escapes' columns.
    let visible = |chars: &mut dyn Iterator<Item = char>| {
        let mut s = String::new();
        for c in chars {
            push_visible(&mut s, c);
        }
        s
    };
    let rest = visible(
        &mut line
            .chars()
            .skip(col)
            .take_while(|c| !matches!(c, ':' | ' ' | ',' | '}' | ']')),
    );
    let width = rest.chars().count().max(1);
    let indent = " ".repeat(visible(&mut line.chars().take(col)).chars().count());
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{number} | {}", esc(line));
    let _ = writeln!(out, "{pad} | {indent}{}", "^".repeat(width));
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
    let _ = writeln!(
        out,
        "{findings}{extra}{errors}: {} file{}, {} object{}, {} plugin{}",
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
