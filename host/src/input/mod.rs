//! Reading inputs: files, directories and in-memory texts become Kubernetes
//! objects that remember where each of their fields is written.
//!
//! INVARIANT: loading never fails as a whole. Every problem with one file or
//! document becomes a [`Diagnostic`] with its position, and everything else is
//! still loaded.

pub(crate) mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::report::{Diagnostic, Location, ObjectRef};
use yaml::Pos;

/// The inputs of a check: paths (files or directories, searched recursively
/// for `.yaml`, `.yml` and `.json`) and in-memory texts.
///
/// ```
/// let inputs = palisade::Inputs::new()
///     .path("manifests/")
///     .text("inline.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
/// # let _ = inputs;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    sources: Vec<InputSource>,
}

#[derive(Debug, Clone)]
enum InputSource {
    Path(PathBuf),
    SquidConfig(PathBuf),
    Text { name: String, text: Arc<str> },
}

impl Inputs {
    /// No inputs yet.
    pub fn new() -> Inputs {
        Inputs::default()
    }

    /// Adds a file or a directory (searched recursively; hidden entries are
    /// skipped).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Inputs {
        self.sources.push(InputSource::Path(path.into()));
        self
    }

    /// Adds a squid configuration file, whatever its name.
    pub fn squid_config(mut self, path: impl Into<PathBuf>) -> Inputs {
        self.sources.push(InputSource::SquidConfig(path.into()));
        self
    }

    /// Adds a text under a display name (for standard input, `<stdin>`).
    pub fn text(mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> Inputs {
        self.sources.push(InputSource::Text {
            name: name.into(),
            text: text.into(),
        });
        self
    }
}

/// One parsed input file.
#[derive(Debug)]
pub(crate) struct SourceFile {
    pub(crate) name: String,
    pub(crate) text: Arc<str>,
    pub(crate) documents: Vec<yaml::Document>,
}

/// A Kubernetes object found in the inputs.
#[derive(Debug)]
pub(crate) struct Object {
    pub(crate) file: usize,
    /// Index into the file's `documents`.
    pub(crate) document: usize,
    /// JSON pointer of the object inside its document (`""`, or `/items/3`
    /// for members of a `List`).
    pub(crate) base: String,
    pub(crate) value: Value,
    pub(crate) id: ObjectRef,
}

/// Everything loaded from [`Inputs`].
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub(crate) files: Vec<SourceFile>,
    pub(crate) objects: Vec<Object>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Where the lines of files that squid configurations include are.
    pub(crate) squid_lines: crate::squid::LineMap,
}

impl Loaded {
    /// Where `path` (a JSON pointer inside `object`) is written; falls back to
    /// the nearest enclosing field that has a position.
    pub(crate) fn locate(&self, object: &Object, path: Option<&str>) -> Option<Location> {
        let file = self.files.get(object.file)?;
        // Lines of a squid configuration (a file, or a ConfigMap's
        // squid.conf, whose lines are numbered in its file).
        if let Some(line) = path
            .and_then(|p| p.strip_prefix("/lines/"))
            .and_then(|n| n.parse::<u32>().ok())
        {
            // A number above the configuration's last line is a line of a
            // file it includes.
            let (file, line) = self
                .squid_lines
                .origin(object.file, line)
                .and_then(|(f, l)| Some((self.files.get(f)?, l)))
                .unwrap_or((file, line));
            let column = file
                .text
                .lines()
                .nth((line as usize).saturating_sub(1))
                .map_or(1, |l| l.len() - l.trim_start().len() + 1);
            return Some(location(
                &file.name,
                Pos {
                    line,
                    column: u32::try_from(column).unwrap_or(1),
                },
            ));
        }
        let doc = file.documents.get(object.document)?;
        let pointer = format!("{}{}", object.base, path.unwrap_or(""));
        Some(location(&file.name, doc.pos(&pointer)))
    }
}

fn location(file: &str, pos: Pos) -> Location {
    Location {
        file: file.to_string(),
        line: pos.line,
        column: pos.column,
    }
}

/// One of Palisade's own files (policy set, exemptions, test suite): a single
/// YAML document whose errors point into it.
#[derive(Debug)]
pub(crate) struct ConfigFile {
    name: String,
    doc: yaml::Document,
}

impl ConfigFile {
    /// Parses `text`; a syntax error, or anything but exactly one document,
    /// is a policy error located in the file.
    pub(crate) fn parse(name: &str, text: &str) -> Result<ConfigFile, crate::Error> {
        let (docs, errors) = yaml::parse_stream(text);
        if let Some(e) = errors.first() {
            return Err(crate::Error::at(
                crate::ErrorKind::Policy,
                e.message.clone(),
                location(name, e.pos),
            ));
        }
        let mut docs = docs.into_iter();
        match (docs.next(), docs.next()) {
            (Some(doc), None) => Ok(ConfigFile {
                name: name.to_string(),
                doc,
            }),
            _ => Err(crate::Error::new(
                crate::ErrorKind::Policy,
                format!("`{name}` must hold exactly one YAML document"),
            )),
        }
    }

    /// The document as JSON.
    pub(crate) fn value(&self) -> &Value {
        &self.doc.value
    }

    /// Where the field at `pointer` (or its nearest parent) is written.
    pub(crate) fn at(&self, pointer: &str) -> Location {
        location(&self.name, self.doc.pos(pointer))
    }
}

/// The object standing for a squid configuration file.
pub(crate) const SQUID_KIND: &str = "SquidConfig";
pub(crate) const SQUID_API_VERSION: &str = "palisade.dev/v1alpha1";

/// Whether a file is a squid configuration: named `squid.conf` or ending in
/// `.squid.conf` (a `.conf` file named on the command line is one too).
fn is_squid_config(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base == "squid.conf" || base.ends_with(".squid.conf")
}

/// Options that change how objects are accepted.
#[derive(Debug, Default, Clone)]
pub(crate) struct LoadOptions {
    /// Kinds (`Kind` or `group/Kind`) accepted without evaluation.
    pub(crate) ignore_kinds: Vec<String>,
}

/// Reads, parses and splits every input into objects.
pub(crate) fn load(inputs: &Inputs, options: &LoadOptions) -> Loaded {
    let mut loaded = Loaded::default();
    let mut texts: Vec<(String, Arc<str>, bool)> = Vec::new();
    for source in &inputs.sources {
        match source {
            InputSource::Text { name, text } => {
                texts.push((name.clone(), text.clone(), is_squid_config(name)));
            }
            InputSource::Path(path) => read_path(path, true, &mut texts, &mut loaded.diagnostics),
            InputSource::SquidConfig(path) => match std::fs::read_to_string(path) {
                Ok(text) => texts.push((path.display().to_string(), text.into(), true)),
                Err(e) => loaded.diagnostics.push(Diagnostic::input(
                    format!("cannot read squid configuration `{}`: {e}", path.display()),
                    None,
                )),
            },
        }
    }
    for (name, text, squid) in texts {
        if squid {
            // A squid configuration: an object standing for the file, so
            // findings can be about it (located with `/lines/<n>` paths).
            let file = loaded.files.len();
            loaded.files.push(SourceFile {
                name: name.clone(),
                text,
                documents: Vec::new(),
            });
            loaded.objects.push(Object {
                file,
                document: usize::MAX,
                base: String::new(),
                value: Value::Object(Default::default()),
                id: ObjectRef {
                    api_version: SQUID_API_VERSION.to_string(),
                    kind: SQUID_KIND.to_string(),
                    namespace: None,
                    // The file's base name: stable wherever it is checked from.
                    name: name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string(),
                },
            });
            continue;
        }
        let (documents, errors) = yaml::parse_stream(&text);
        for e in errors {
            loaded
                .diagnostics
                .push(Diagnostic::input(e.message, Some(location(&name, e.pos))));
        }
        let file = loaded.files.len();
        loaded.files.push(SourceFile {
            name,
            text,
            documents,
        });
        let doc_count = loaded.files.get(file).map_or(0, |f| f.documents.len());
        for document in 0..doc_count {
            split_objects(&mut loaded, file, document, options);
        }
    }
    loaded
}

fn read_path(
    path: &Path,
    explicit: bool,
    texts: &mut Vec<(String, Arc<str>, bool)>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let display = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            diagnostics.push(Diagnostic::input(
                format!("cannot read `{display}`: {e}"),
                None,
            ));
            return;
        }
    };
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                diagnostics.push(Diagnostic::input(
                    format!("cannot read directory `{display}`: {e}"),
                    None,
                ));
                return;
            }
        };
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden {
                read_path(&entry, false, texts, diagnostics);
            }
        }
        return;
    }
    let wanted = explicit
        || is_squid_config(&display)
        || path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
    if !wanted {
        return;
    }
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => {
                let squid = is_squid_config(&display)
                    || (explicit && path.extension().is_some_and(|e| e == "conf"));
                texts.push((display, text.into(), squid));
            }
            Err(e) => diagnostics.push(Diagnostic::input(
                format!("`{display}` is not UTF-8 text: {e}"),
                None,
            )),
        },
        Err(e) => diagnostics.push(Diagnostic::input(
            format!("cannot read `{display}`: {e}"),
            None,
        )),
    }
}

/// Turns one document into objects: itself, or the members of a `List`.
fn split_objects(loaded: &mut Loaded, file: usize, document: usize, options: &LoadOptions) {
    let Some(doc) = loaded
        .files
        .get(file)
        .and_then(|f| f.documents.get(document))
    else {
        return;
    };
    let mut found: Vec<(String, Value)> = Vec::new();
    let mut problems: Vec<(String, String)> = Vec::new();
    match &doc.value {
        Value::Null => {} // An empty document (comments only) is not an error.
        Value::Object(map) => {
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
            if kind == "List" || (kind.ends_with("List") && map.contains_key("items")) {
                match map.get("items") {
                    Some(Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            found.push((format!("/items/{i}"), item.clone()));
                        }
                    }
                    Some(Value::Null) | None => {}
                    Some(_) => problems.push((
                        "/items".to_string(),
                        format!("`items` of a `{kind}` must be a list of objects"),
                    )),
                }
            } else {
                found.push((String::new(), doc.value.clone()));
            }
        }
        _ => problems.push((
            String::new(),
            "expected a Kubernetes object (a mapping with apiVersion, kind and metadata)"
                .to_string(),
        )),
    }
    let file_name = loaded
        .files
        .get(file)
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let at = |pointer: &str| -> Location { location(&file_name, doc.pos(pointer)) };
    for (pointer, message) in problems {
        loaded
            .diagnostics
            .push(Diagnostic::input(message, Some(at(&pointer))));
    }
    for (base, value) in found {
        match identify(&value) {
            Ok(id) => {
                if !crate::kinds::is_known(&id.api_version, &id.kind)
                    && !ignored(&options.ignore_kinds, &id)
                {
                    loaded.diagnostics.push(Diagnostic::input(
                        format!(
                            "unknown kind `{}` (apiVersion `{}`): Palisade evaluates built-in Kubernetes kinds; list it under `ignoreKinds` in the policy set to accept it unevaluated",
                            id.kind, id.api_version
                        ),
                        Some(at(&format!("{base}/kind"))),
                    ));
                    continue;
                }
                let id = crate::kinds::default_namespace(id);
                loaded.objects.push(Object {
                    file,
                    document,
                    base,
                    value,
                    id,
                });
            }
            Err((field, message)) => loaded.diagnostics.push(Diagnostic::input(
                message,
                Some(at(&format!("{base}{field}"))),
            )),
        }
    }
}

fn ignored(ignore: &[String], id: &ObjectRef) -> bool {
    let group = id.api_version.rsplit_once('/').map_or("", |(g, _)| g);
    ignore
        .iter()
        .any(|k| *k == id.kind || *k == format!("{group}/{}", id.kind))
}

/// Reads apiVersion, kind, namespace and name, or says which is missing.
fn identify(value: &Value) -> Result<ObjectRef, (&'static str, String)> {
    let Value::Object(map) = value else {
        return Err((
            "",
            "expected a Kubernetes object (a mapping with apiVersion, kind and metadata)"
                .to_string(),
        ));
    };
    let string = |field: &'static str| -> Result<String, (&'static str, String)> {
        match map.get(field) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(_) => Err((
                match field {
                    "kind" => "/kind",
                    _ => "/apiVersion",
                },
                format!("`{field}` must be a non-empty string"),
            )),
            None => Err(("", format!("object has no `{field}`"))),
        }
    };
    let kind = string("kind")?;
    let api_version = string("apiVersion")?;
    let metadata = match map.get("metadata") {
        Some(Value::Object(m)) => m,
        Some(_) => return Err(("/metadata", "`metadata` must be a mapping".to_string())),
        None => return Err(("", format!("`{kind}` object has no `metadata`"))),
    };
    let name = match metadata.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => {
            return Err((
                "/metadata/name",
                "`metadata.name` must be a non-empty string".to_string(),
            ));
        }
        None => {
            return Err((
                "/metadata",
                format!(
                    "`{kind}` object has no `metadata.name` (generateName is not supported: name the object)"
                ),
            ));
        }
    };
    let namespace = match metadata.get("namespace") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        None | Some(Value::Null) => None,
        Some(_) => {
            return Err((
                "/metadata/namespace",
                "`metadata.namespace` must be a string".to_string(),
            ));
        }
    };
    Ok(ObjectRef {
        api_version,
        kind,
        namespace,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Loaded {
        load(&Inputs::new().text("t.yaml", text), &LoadOptions::default())
    }

    #[test]
    fn lists_are_flattened_and_located() {
        let loaded = load_text(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: a\n",
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        assert_eq!(loaded.objects.len(), 1);
        let obj = &loaded.objects[0];
        assert_eq!(obj.base, "/items/0");
        let loc = loaded.locate(obj, Some("/metadata/name")).unwrap();
        assert_eq!((loc.line, loc.column), (7, 5));
    }

    #[test]
    fn missing_name_and_unknown_kind_are_diagnosed_with_positions() {
        let loaded = load_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n",
        );
        let messages: Vec<String> = loaded
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.location.as_ref().unwrap(), d.message))
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("t.yaml:3:1 "), "{messages:?}");
        assert!(messages[0].contains("no `metadata.name`"));
        assert!(
            messages[1].starts_with("t.yaml:6:1 unknown kind `Widget`"),
            "{messages:?}"
        );
        assert_eq!(loaded.objects.len(), 1);
    }

    #[test]
    fn ignored_kinds_are_accepted() {
        let loaded = load(
            &Inputs::new().text(
                "t.yaml",
                "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
            ),
            &LoadOptions {
                ignore_kinds: vec!["example.com/Widget".to_string()],
            },
        );
        assert!(loaded.diagnostics.is_empty());
    }

    #[test]
    fn scalar_documents_are_rejected() {
        let loaded = load_text("just a string\n");
        assert_eq!(loaded.diagnostics.len(), 1);
        assert!(loaded.objects.is_empty());
    }
}
