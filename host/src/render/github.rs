//! GitHub Actions workflow commands: one annotation per finding and per
//! failure (`::error file=…,line=…,col=…,title=RULE::message`).
//!
//! Every value goes through `escape.rs`: control characters become
//! visible escapes, so a hostile message cannot end the command and start
//! another, nor colour or hide the log.

use std::fmt::Write as _;

use super::escape::{github_data as data, github_property as property};
use crate::report::{Report, Severity};

/// Renders a report as workflow annotations.
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let title = match d.cause {
            Some(c) => format!("palisade {}", c.as_str()),
            None => "palisade input error".to_string(),
        };
        match &d.location {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "::error file={},line={},col={},title={}::{}",
                    property(&l.file),
                    l.line,
                    l.column,
                    property(&title),
                    data(&d.message)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "::error title={}::{}",
                    property(&title),
                    data(&d.message)
                );
            }
        }
    }
    for f in &report.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let origin = f
            .location
            .as_ref()
            .and_then(|l| l.origin.as_ref())
            .map_or_else(String::new, |o| format!(", from {o}"));
        let message = data(&format!("{} ({}{origin})", f.message, f.object));
        match &f.location {
            // A rendered stream is no file of the pull request: annotate the
            // file the object came from (the line is the stream's, in the
            // message).
            Some(l) if l.origin_file().is_some() => {
                let origin = l.origin_file().unwrap_or_default();
                let message = data(&format!(
                    "{} ({}, line {} of {})",
                    f.message, f.object, l.line, l.file
                ));
                let _ = writeln!(
                    out,
                    "::{command} file={},title={}::{message}",
                    property(origin),
                    property(&f.rule)
                );
            }
            Some(l) => {
                let _ = writeln!(
                    out,
                    "::{command} file={},line={},col={},title={}::{message}",
                    property(&l.file),
                    l.line,
                    l.column,
                    property(&f.rule)
                );
            }
            None => {
                let _ = writeln!(out, "::{command} title={}::{message}", property(&f.rule));
            }
        }
    }
    out
}
