//! Who a plugin may say it is: the patterns for plugin and rule IDs, the
//! names reserved for Palisade, and the size of the metadata a plugin may
//! hand the host.
//!
//! A plugin's metadata reaches every output format and `palisade explain`, so
//! it is checked when the plugin loads:
//!
//! - a plugin ID is 1–64 characters of `a-z`, `0-9` and `-`, starting with a
//!   letter; `palisade` and the IDs of the built-in plugins are reserved for
//!   the components built into this binary;
//! - a rule ID matches [`RULE_ID_PATTERN`]; the `PAL` prefix is the host's;
//!   no two loaded plugins may declare the same rule ID;
//! - rule count, and the bytes of every text, are capped, and no text holds
//!   a control character (documentation may hold line breaks and tabs).

use crate::error::{Error, ErrorKind};
use crate::wit;

/// The documented pattern of a rule ID.
pub const RULE_ID_PATTERN: &str = "[A-Z][A-Z0-9_-]{1,31}";
/// Rule IDs starting with this belong to the host (exemption findings).
pub(crate) const HOST_RULE_PREFIX: &str = "PAL";
/// The host's own plugin name in reports.
pub(crate) const HOST_PLUGIN_ID: &str = "palisade";

/// Most rules one plugin may declare.
pub(crate) const MAX_RULES: usize = 1_000;
/// Most bytes of one rule's documentation.
pub(crate) const MAX_DOC_BYTES: usize = 64 << 10;
/// Most bytes of all of one plugin's metadata text together.
pub(crate) const MAX_METADATA_BYTES: usize = 1 << 20;
/// Most bytes of a one-line metadata field (version, rule name, summary).
const MAX_LINE_BYTES: usize = 512;
/// Most bytes of the plugin's description.
const MAX_DESCRIPTION_BYTES: usize = 4 << 10;

/// Whether `id` is a valid rule ID.
pub(crate) fn is_rule_id(id: &str) -> bool {
    let b = id.as_bytes();
    (2..=32).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_uppercase)
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

/// Whether `id` is a valid plugin ID.
fn is_plugin_id(id: &str) -> bool {
    let b = id.as_bytes();
    (1..=64).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_lowercase)
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Shows an untrusted identifier in an error: quoted, escaped, shortened.
fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(40).flat_map(char::escape_debug).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    format!("`{out}`")
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::Plugin, message)
}

/// Checks a plugin's metadata. `builtin` is the built-in ID these bytes were
/// loaded as, if they are a built-in plugin's.
pub(crate) fn check_metadata(
    meta: &wit::PluginMetadata,
    builtin: Option<&str>,
    reserved: &[&str],
) -> Result<(), Error> {
    if !is_plugin_id(&meta.id) {
        return Err(invalid(format!(
            "plugin ID {} is not valid: 1-64 characters of a-z, 0-9 and `-`, starting with a letter",
            shown(&meta.id)
        )));
    }
    let reserved_id = meta.id == HOST_PLUGIN_ID || reserved.contains(&meta.id.as_str());
    if reserved_id && builtin != Some(meta.id.as_str()) {
        return Err(invalid(format!(
            "plugin ID `{}` is reserved for Palisade's built-in plugins",
            meta.id
        )));
    }
    let plugin = &meta.id;
    // Metadata reaches `rules`, `explain`, SARIF and the rules reference:
    // no control characters (a documentation text may hold line breaks and
    // tabs), so none of it can rewrite a terminal or forge lines.
    let text = |field: &str, value: &str, max: usize, multiline: bool| -> Result<(), Error> {
        if value.len() > max {
            return Err(invalid(format!(
                "plugin `{plugin}`: {field} is {} bytes, more than {max}",
                value.len()
            )));
        }
        let allowed = |c: char| multiline && (c == '\n' || c == '\t');
        if let Some(c) = value
            .chars()
            .find(|c| crate::render::escape::is_unsafe_on_a_line(*c) && !allowed(*c))
        {
            return Err(invalid(format!(
                "plugin `{plugin}`: {field} holds the control character U+{:04X} (control, line-separator and bidi characters are refused)",
                u32::from(c)
            )));
        }
        Ok(())
    };
    let one_line = |field: &str, value: &str, max: usize| text(field, value, max, false);
    one_line("version", &meta.version, MAX_LINE_BYTES)?;
    text(
        "description",
        &meta.description,
        MAX_DESCRIPTION_BYTES,
        true,
    )?;
    if meta.rules.len() > MAX_RULES {
        return Err(invalid(format!(
            "plugin `{plugin}` declares {} rules, more than {MAX_RULES}",
            meta.rules.len()
        )));
    }
    let mut total = meta.version.len() + meta.description.len();
    for r in &meta.rules {
        if !is_rule_id(&r.id) {
            return Err(invalid(format!(
                "plugin `{plugin}` declares rule {}, which does not match {RULE_ID_PATTERN}",
                shown(&r.id)
            )));
        }
        if r.id.starts_with(HOST_RULE_PREFIX) {
            return Err(invalid(format!(
                "plugin `{plugin}` declares rule `{}`: the `{HOST_RULE_PREFIX}` prefix is reserved for Palisade's own rules",
                r.id
            )));
        }
        one_line(&format!("rule `{}` name", r.id), &r.name, MAX_LINE_BYTES)?;
        one_line(
            &format!("rule `{}` summary", r.id),
            &r.summary,
            MAX_LINE_BYTES,
        )?;
        text(&format!("rule `{}` doc", r.id), &r.doc, MAX_DOC_BYTES, true)?;
        total += r.id.len() + r.name.len() + r.summary.len() + r.doc.len();
    }
    if total > MAX_METADATA_BYTES {
        return Err(invalid(format!(
            "plugin `{plugin}` has {total} bytes of metadata, more than {MAX_METADATA_BYTES}"
        )));
    }
    let mut ids: Vec<&str> = meta.rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w.first() == w.get(1)) {
        return Err(invalid(format!(
            "plugin `{plugin}` declares rule `{}` twice",
            w.first().copied().unwrap_or_default()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_follow_the_pattern() {
        for ok in ["NP001", "SQ011", "ACME-7", "CKV_K8S_21", "AB"] {
            assert!(is_rule_id(ok), "{ok}");
        }
        for bad in [
            "",
            "A",
            "np001",
            "1NP",
            "NP 1",
            "NP\u{1b}1",
            &"A".repeat(33),
        ] {
            assert!(!is_rule_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn plugin_ids_follow_the_pattern() {
        for ok in ["default-deny", "acme-rules2", "x"] {
            assert!(is_plugin_id(ok), "{ok}");
        }
        for bad in ["", "Default", "-x", "a b", "a\u{1b}", &"a".repeat(65)] {
            assert!(!is_plugin_id(bad), "{bad:?}");
        }
    }
}
