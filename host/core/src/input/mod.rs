//! Reading inputs: files, directories and in-memory texts become Kubernetes
//! objects that remember where each of their fields is written.
//!
//! INVARIANT: loading never fails as a whole. Every problem with one file or
//! document becomes a [`Diagnostic`] with its position, and everything else is
//! still loaded.

pub mod kustomize;
pub mod lines;
pub mod walk;
pub mod yaml;

pub use walk::DEFAULT_MAX_FILE_BYTES;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::report::{Diagnostic, Location, ObjectRef};
use yaml::Pos;

/// The inputs of a check: paths (files or directories, searched recursively
/// for `.yaml`, `.yml` and `.json`) and in-memory texts.
///
/// ```
/// let inputs = palisade_core::Inputs::new()
///     .path("manifests/")
///     .text("inline.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
/// # let _ = inputs;
/// ```
#[derive(Debug, Clone)]
pub struct Inputs {
    sources: Vec<InputSource>,
    max_file_bytes: u64,
    exclude: Vec<glob::Pattern>,
}

impl Default for Inputs {
    fn default() -> Inputs {
        Inputs {
            sources: Vec::new(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            exclude: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
enum InputSource {
    Path(PathBuf),
    SquidConfig(PathBuf),
    /// A proxy access log, whatever its name.
    AccessLog(PathBuf),
    Text {
        name: String,
        text: Arc<str>,
    },
    Bytes {
        name: String,
        bytes: Arc<[u8]>,
    },
    /// The output of `kubectl kustomize DIR`.
    Kustomized {
        dir: PathBuf,
        bytes: Arc<[u8]>,
    },
}

impl Inputs {
    /// No inputs yet.
    pub fn new() -> Inputs {
        Inputs::default()
    }

    /// Caps the size of each input file and text, in bytes; a larger one is
    /// a diagnostic, not read. Default: [`DEFAULT_MAX_FILE_BYTES`] (64 MiB).
    pub fn max_file_bytes(mut self, bytes: u64) -> Inputs {
        self.max_file_bytes = bytes;
        self
    }

    /// Leaves out entries of named directories that match a glob pattern:
    /// with a `/`, the path relative to the directory named
    /// (`examples/**`, `*/charts/*`); without, any file or directory name
    /// (`*.patch.yaml`, `testdata`). Paths named directly are always read.
    pub fn exclude(mut self, pattern: &str) -> Result<Inputs, crate::Error> {
        let compiled = glob::Pattern::new(pattern).map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Input,
                format!("invalid exclude pattern `{pattern}`: {e}"),
            )
        })?;
        self.exclude.push(compiled);
        Ok(self)
    }

    /// Adds raw bytes under a display name (standard input): text that is
    /// not UTF-8 is a located diagnostic.
    pub fn bytes(mut self, name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Inputs {
        self.sources.push(InputSource::Bytes {
            name: name.into(),
            bytes: bytes.into(),
        });
        self
    }

    /// Adds the output of `kubectl kustomize DIR` (or `kustomize build
    /// DIR`), checked as `<kustomize DIR>`. Files named by Kustomize's
    /// origin annotations, which are relative to `DIR`, are resolved
    /// against it.
    pub fn kustomized(mut self, dir: impl Into<PathBuf>, bytes: impl Into<Arc<[u8]>>) -> Inputs {
        self.sources.push(InputSource::Kustomized {
            dir: dir.into(),
            bytes: bytes.into(),
        });
        self
    }

    /// Adds a file or a directory (searched recursively; hidden entries are
    /// skipped; symlinks are followed only inside the directory, and only
    /// regular files are read). A path that yields no object is a
    /// diagnostic.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Inputs {
        self.sources.push(InputSource::Path(path.into()));
        self
    }

    /// Adds a proxy access log (squid's native format, a `logformat`,
    /// JSON lines; gzip or not), whatever its name. Logs are streamed when
    /// checked, never held in memory (and not subject to the size cap).
    pub fn access_log(mut self, path: impl Into<PathBuf>) -> Inputs {
        self.sources.push(InputSource::AccessLog(path.into()));
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
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    pub documents: Vec<yaml::Document>,
    /// The directory named as input that holds this file (what a squid
    /// configuration may include from); `None` for texts.
    pub root: Option<PathBuf>,
    /// The Kustomize directory this stream was rendered from.
    pub rendered_from: Option<PathBuf>,
}

/// A Kubernetes object found in the inputs.
#[derive(Debug)]
pub struct Object {
    pub file: usize,
    /// Index into the file's `documents`.
    pub document: usize,
    /// The object's node in its document's positions (the root, or
    /// `/items/3` for members of a `List`).
    pub node: u32,
    pub value: Value,
    pub id: ObjectRef,
}

/// Everything loaded from [`Inputs`].
#[derive(Debug, Default)]
pub struct Loaded {
    pub files: Vec<SourceFile>,
    pub objects: Vec<Object>,
    pub diagnostics: Vec<Diagnostic>,
    /// Where the lines of files that squid configurations include are.
    pub squid_lines: lines::LineMap,
    /// Proxy access logs: the object standing for each, the path to stream
    /// it from, and whether a symlink there is followed (a path the user
    /// named) or not (one the walk resolved).
    pub logs: Vec<(usize, PathBuf, bool)>,
    /// Objects of kinds Palisade does not evaluate (custom resources), by
    /// `group/Kind`: kept as objects, counted here.
    pub not_evaluated: std::collections::BTreeMap<String, usize>,
    /// The same objects one by one, in input order.
    pub unevaluated: Vec<crate::report::NotEvaluated>,
}

/// A text's parse: documents and syntax errors.
type Parsed = (Vec<yaml::Document>, Vec<yaml::SyntaxError>);

/// Reads the inputs' kustomizations before any object is split: the files
/// they name as patches or generator inputs (minus those some kustomization
/// lists under `resources`), with the kind they are counted as; and each
/// kustomization's parse, by its index in `texts`, for the loader to reuse.
/// A resource that `--exclude` left out (`excluded`, as walked) is a
/// diagnostic: an exclusion cannot hide what a kustomization deploys.
fn scan_kustomizations(
    texts: &[Text],
    excluded: &[PathBuf],
    diagnostics: &mut Vec<Diagnostic>,
) -> (
    std::collections::BTreeMap<PathBuf, String>,
    std::collections::HashMap<usize, Parsed>,
) {
    let excluded: Vec<PathBuf> = excluded
        .iter()
        .filter_map(|p| kustomize::normalise(p))
        .collect();
    let mut referenced = std::collections::BTreeMap::new();
    let mut resources = std::collections::BTreeSet::new();
    let mut parsed = std::collections::HashMap::new();
    for (index, t) in texts.iter().enumerate() {
        if t.squid || !kustomize::is_kustomization_file(&t.name) {
            continue;
        }
        let parse = yaml::parse_stream(&t.text);
        for doc in &parse.0 {
            referenced.extend(kustomize::referenced_files(&t.name, &doc.value));
            for (path, pointer) in kustomize::resource_files(&t.name, &doc.value) {
                if excluded
                    .iter()
                    .any(|e| path.starts_with(e) || e.starts_with(&path))
                {
                    diagnostics.push(Diagnostic::input(
                        format!(
                            "`{}` is deployed by this kustomization but left out by --exclude: narrow the pattern so it is checked",
                            path.display()
                        ),
                        Some(location(&t.name, doc.pos(&pointer))),
                    ));
                }
                resources.insert(path);
            }
        }
        parsed.insert(index, parse);
    }
    referenced.retain(|path, _| !resources.contains(path));
    (referenced, parsed)
}

/// Counts and lists an object Palisade keeps but does not evaluate (the
/// two fields of [`Loaded`], borrowed apart from its files).
fn not_evaluated(
    counts: &mut std::collections::BTreeMap<String, usize>,
    list: &mut Vec<crate::report::NotEvaluated>,
    kind: String,
    object: Option<ObjectRef>,
    location: Option<Location>,
) {
    *counts.entry(kind.clone()).or_default() += 1;
    list.push(crate::report::NotEvaluated {
        kind,
        object,
        location,
    });
}

impl Loaded {
    /// An object standing for a whole JSON or YAML file (a cloud network)
    /// as a [`ConfigFile`]: its value, located by JSON pointers from the
    /// file's root.
    pub fn file_of(&self, object: &Object) -> Option<ConfigFile> {
        let file = self.files.get(object.file)?;
        let mut doc = file.documents.get(object.document)?.clone();
        doc.value = object.value.clone();
        Some(ConfigFile {
            name: file.name.clone(),
            doc,
        })
    }

    /// Where `path` (a JSON pointer inside `object`) is written; falls back to
    /// the nearest enclosing field that has a position.
    pub fn locate(&self, object: &Object, path: Option<&str>) -> Option<Location> {
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
            // A ConfigMap whose `squid.conf` is not written line by line
            // (quoted, folded): its lines are not the file's; point at the key.
            if let Some(doc) = file.documents.get(object.document)
                && let Some(text) = object
                    .value
                    .pointer("/data/squid.conf")
                    .and_then(|v| v.as_str())
            {
                let key = doc
                    .positions
                    .find_from(object.node, "/data/squid.conf")
                    .unwrap_or(doc.start);
                if !lines::written_literally(text, &file.text, key.line) {
                    return Some(location(&file.name, key));
                }
            }
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
        let pos = doc
            .positions
            .find_from(object.node, path.unwrap_or(""))
            .unwrap_or(doc.start);
        let mut at = location(&file.name, pos);
        at.origin = origin(doc, &object.value, file.rendered_from.as_deref());
        Some(at)
    }
}

fn location(file: &str, pos: Pos) -> Location {
    Location::new(file, pos.line, pos.column)
}

/// The file `value` was rendered from: Kustomize's origin annotation on the
/// object, else Helm's `# Source:` comment on its document.
fn origin(
    doc: &yaml::Document,
    value: &Value,
    rendered_from: Option<&std::path::Path>,
) -> Option<String> {
    kustomize::origin(value, rendered_from).or_else(|| doc.origin.as_deref().map(str::to_string))
}

/// One of Palisade's own files (policy set, exemptions, test suite): a single
/// YAML document whose errors point into it.
#[derive(Debug)]
pub struct ConfigFile {
    name: String,
    doc: yaml::Document,
}

impl ConfigFile {
    /// Parses `text`; a syntax error, or anything but exactly one document,
    /// is a policy error located in the file.
    pub fn parse(name: &str, text: &str) -> Result<ConfigFile, crate::Error> {
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
            // Located: at the second document, or at the start of an empty file.
            (_, second) => Err(crate::Error::at(
                crate::ErrorKind::Policy,
                format!("`{name}` must hold exactly one YAML document"),
                location(name, second.map_or(Pos { line: 1, column: 1 }, |d| d.start)),
            )),
        }
    }

    /// The document as JSON.
    pub fn value(&self) -> &Value {
        &self.doc.value
    }

    /// Where the field at `pointer` (or its nearest parent) is written.
    pub fn at(&self, pointer: &str) -> Location {
        location(&self.name, self.doc.pos(pointer))
    }

    /// Another value read as if written in this file: a field at the same
    /// pointer is located where this file has it. (A test suite's
    /// `spec.plugins` become a policy set's, and errors about them point
    /// into the suite.)
    pub fn with_value(&self, value: Value) -> ConfigFile {
        let mut doc = self.doc.clone();
        doc.value = value;
        ConfigFile {
            name: self.name.clone(),
            doc,
        }
    }
}

/// The object standing for a proxy access log.
pub const ACCESS_LOG_KIND: &str = "ProxyAccessLog";

/// Whether a file is named as squid names its access logs: `access.log`,
/// rotated (`access.log.1`), prefixed (`proxy-access.log`,
/// `squid.access.log`), gzipped (`access.log.2.gz`).
pub fn is_access_log(name: &str) -> bool {
    let base = base_name(name);
    let base = base.strip_suffix(".gz").unwrap_or(base);
    base == "access.log"
        || base
            .strip_prefix("access.log.")
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        || base.ends_with(".access.log")
        || base.ends_with("-access.log")
        || base.ends_with("_access.log")
}

/// The object standing for a squid configuration file.
pub const SQUID_KIND: &str = "SquidConfig";
pub const SQUID_API_VERSION: &str = "palisade.dev/v1alpha1";

/// The kinds of the objects standing for cloud network files, found by
/// their content: `terraform show -json` of a plan or a state, and the AWS
/// CLI's `describe-*` output. The cloud layer reads them.
pub const TERRAFORM_PLAN_KIND: &str = "TerraformPlan";
pub const TERRAFORM_STATE_KIND: &str = "TerraformState";
pub const AWS_CLI_KIND: &str = "AwsCliOutput";

/// The top-level keys of the AWS CLI `describe-*` outputs the cloud layer
/// reads.
pub const AWS_CLI_KEYS: &[&str] = &[
    "Vpcs",
    "Subnets",
    "RouteTables",
    "InternetGateways",
    "NatGateways",
    "EgressOnlyInternetGateways",
    "SecurityGroups",
    "NetworkAcls",
    "VpcEndpoints",
    "FlowLogs",
];

/// Which cloud file a document is, by its content: Terraform JSON has a
/// string `format_version` and planned values, values or a prior state (an
/// empty state has only the versions); AWS CLI output is an object whose
/// keys include a `describe-*` list. Kubernetes objects have `kind`, so
/// neither is mistaken for one.
pub fn cloud_kind(value: &Value) -> Option<&'static str> {
    let map = value.as_object()?;
    if map.contains_key("kind") {
        return None;
    }
    if map.get("format_version").is_some_and(Value::is_string) {
        if map.contains_key("planned_values") || map.contains_key("resource_changes") {
            return Some(TERRAFORM_PLAN_KIND);
        }
        if map.contains_key("values")
            || map.contains_key("prior_state")
            || map.contains_key("terraform_version")
        {
            return Some(TERRAFORM_STATE_KIND);
        }
    }
    map.iter()
        .any(|(k, v)| AWS_CLI_KEYS.contains(&k.as_str()) && v.is_array())
        .then_some(AWS_CLI_KIND)
}

/// Whether an object stands for a whole file (a squid configuration, a
/// cloud network) rather than being a Kubernetes object.
pub fn is_file_object(id: &ObjectRef) -> bool {
    id.api_version == SQUID_API_VERSION
        && [
            SQUID_KIND,
            TERRAFORM_PLAN_KIND,
            TERRAFORM_STATE_KIND,
            AWS_CLI_KIND,
        ]
        .contains(&id.kind.as_str())
}

/// Whether a file is a squid configuration: named `squid.conf` or ending in
/// `.squid.conf` (a `.conf` file named on the command line is one too).
pub fn is_squid_config(name: &str) -> bool {
    let base = base_name(name);
    base == "squid.conf" || base.ends_with(".squid.conf")
}

/// A file name without its directories.
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// Options that change how objects are accepted.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    /// Kinds (`Kind` or `group/Kind`) accepted without evaluation and
    /// without being counted as not evaluated.
    pub ignore_kinds: Vec<String>,
    /// A kind Palisade does not evaluate is an error (exit 2), as before
    /// custom resources were accepted.
    pub strict_kinds: bool,
    /// Threads YAML streams are parsed on (0 or 1: this one). Objects,
    /// positions and diagnostics are the same for every number.
    pub jobs: usize,
}

/// Parses the YAML streams `parsed` does not hold yet (squid
/// configurations are not YAML) on up to `jobs` threads: the expensive part
/// of loading. The work is shared out by runs of documents, so one large
/// file keeps every thread busy as well as many small ones; what each
/// stream gives does not depend on the threads.
fn parse_in_parallel(
    texts: &[Text],
    parsed: &mut std::collections::HashMap<usize, Parsed>,
    jobs: usize,
) {
    let todo: Vec<usize> = (0..texts.len())
        .filter(|i| !parsed.contains_key(i) && texts.get(*i).is_some_and(|t| !t.squid))
        .collect();
    let streams: Vec<&str> = todo
        .iter()
        .filter_map(|&i| texts.get(i).map(|t| &*t.text))
        .collect();
    for (&i, stream) in todo.iter().zip(yaml::parse_streams(&streams, jobs)) {
        parsed.insert(i, stream);
    }
}

/// One text to parse, and where it came from.
struct Text {
    name: String,
    text: Arc<str>,
    squid: bool,
    /// The directory a squid configuration may read files from; `None` for
    /// texts that are not files (standard input, library texts).
    root: Option<PathBuf>,
    /// Index of the [`InputSource`] it came from.
    source: usize,
    /// The Kustomize directory it was rendered from.
    rendered_from: Option<PathBuf>,
}

/// Reads, parses and splits every input into objects.
pub fn load(inputs: &Inputs, options: &LoadOptions) -> Loaded {
    let mut loaded = Loaded::default();
    let mut texts: Vec<Text> = Vec::new();
    // Access logs: (name, root, path to open, named by the user, source).
    let mut logs: Vec<(String, PathBuf, PathBuf, bool, usize)> = Vec::new();
    let mut walker = walk::Walker::new(inputs.max_file_bytes, inputs.exclude.clone());
    // Per source: had a problem, or named only what was read already (then
    // its emptiness is no error).
    let mut diagnosed = vec![false; inputs.sources.len()];
    for (source, input) in inputs.sources.iter().enumerate() {
        let before = loaded.diagnostics.len();
        let repeats = walker.repeats;
        match input {
            InputSource::Text { name, text } => texts.push(Text {
                name: name.clone(),
                text: text.clone(),
                squid: is_squid_config(name),
                root: None,
                source,
                rendered_from: None,
            }),
            InputSource::Bytes { name, bytes } => {
                match text_of(name, bytes.to_vec(), inputs.max_file_bytes) {
                    Ok(text) => texts.push(Text {
                        name: name.clone(),
                        text: text.into(),
                        squid: is_squid_config(name),
                        root: None,
                        source,
                        rendered_from: None,
                    }),
                    Err(d) => loaded.diagnostics.push(d),
                }
            }
            InputSource::Kustomized { dir, bytes } => {
                let name = format!("<kustomize {}>", dir.display());
                match text_of(&name, bytes.to_vec(), inputs.max_file_bytes) {
                    Ok(text) => texts.push(Text {
                        name,
                        text: text.into(),
                        squid: false,
                        root: None,
                        source,
                        rendered_from: Some(dir.clone()),
                    }),
                    Err(d) => loaded.diagnostics.push(d),
                }
            }
            InputSource::Path(path)
            | InputSource::SquidConfig(path)
            | InputSource::AccessLog(path) => {
                let mut read = Vec::new();
                walker.logs_only = matches!(input, InputSource::AccessLog(_));
                walker.read(path, &mut read, &mut loaded.diagnostics);
                walker.logs_only = false;
                let forced_squid = matches!(input, InputSource::SquidConfig(_));
                for f in read {
                    if let Some(open) = f.log {
                        logs.push((f.name, f.root, open, f.explicit, source));
                        continue;
                    }
                    let squid = forced_squid
                        || is_squid_config(&f.name)
                        || (f.explicit && f.name.ends_with(".conf"));
                    match text_of(&f.name, f.bytes, inputs.max_file_bytes) {
                        Ok(text) => texts.push(Text {
                            name: f.name,
                            text: text.into(),
                            squid,
                            root: Some(f.root),
                            source,
                            rendered_from: None,
                        }),
                        Err(d) => loaded.diagnostics.push(d),
                    }
                }
            }
        }
        if (loaded.diagnostics.len() > before || walker.repeats > repeats)
            && let Some(d) = diagnosed.get_mut(source)
        {
            *d = true;
        }
    }
    // Files that the inputs' kustomizations name as patches or generator
    // inputs: partial objects and data, not manifests.
    let (referenced, mut parsed) =
        scan_kustomizations(&texts, &walker.excluded, &mut loaded.diagnostics);
    parse_in_parallel(&texts, &mut parsed, options.jobs);
    let mut objects_per_source = vec![0usize; inputs.sources.len()];
    for (index, t) in texts.into_iter().enumerate() {
        // Kustomize documents count as content too: they are recognised.
        let recognised = |l: &Loaded| l.objects.len() + l.not_evaluated.values().sum::<usize>();
        let before = (recognised(&loaded), loaded.diagnostics.len());
        let file = loaded.files.len();
        if t.squid {
            // A squid configuration (always checked, whatever names it): an
            // object standing for the file, so findings can be about it
            // (located with `/lines/<n>` paths).
            let base = base_name(&t.name).to_string();
            loaded.files.push(SourceFile {
                name: t.name,
                text: t.text,
                documents: Vec::new(),
                root: t.root,
                rendered_from: t.rendered_from.clone(),
            });
            loaded.objects.push(Object {
                file,
                document: usize::MAX,
                node: 0,
                value: Value::Object(Default::default()),
                id: ObjectRef {
                    api_version: SQUID_API_VERSION.to_string(),
                    kind: SQUID_KIND.to_string(),
                    namespace: None,
                    // The file's base name: stable wherever it is checked from.
                    name: base,
                },
            });
        } else {
            let named_by_kustomization = kustomize::normalise(std::path::Path::new(&t.name))
                .and_then(|p| referenced.get(&p).cloned());
            // A kustomization was parsed already, by the scan.
            let (documents, errors) = parsed
                .remove(&index)
                .unwrap_or_else(|| yaml::parse_stream(&t.text));
            for e in errors {
                loaded
                    .diagnostics
                    .push(Diagnostic::input(e.message, Some(location(&t.name, e.pos))));
            }
            loaded.files.push(SourceFile {
                name: t.name,
                text: t.text,
                documents,
                root: t.root,
                rendered_from: t.rendered_from.clone(),
            });
            if let Some(kind) = named_by_kustomization {
                patch_file(&mut loaded, file, &kind, options);
            } else {
                let doc_count = loaded.files.get(file).map_or(0, |f| f.documents.len());
                for document in 0..doc_count {
                    split_objects(&mut loaded, file, document, options);
                }
            }
        }
        if let Some(n) = objects_per_source.get_mut(t.source) {
            *n += recognised(&loaded).saturating_sub(before.0);
        }
        if loaded.diagnostics.len() > before.1
            && let Some(d) = diagnosed.get_mut(t.source)
        {
            *d = true;
        }
    }
    // Each access log: an object standing for it (findings point at its
    // lines), streamed by the log reader.
    for (name, root, open, follow, source) in logs {
        let file = loaded.files.len();
        let base = base_name(&name).to_string();
        loaded.files.push(SourceFile {
            name,
            text: Arc::from(""),
            documents: Vec::new(),
            root: Some(root),
            rendered_from: None,
        });
        loaded.logs.push((loaded.objects.len(), open, follow));
        loaded.objects.push(Object {
            file,
            document: usize::MAX,
            node: 0,
            value: Value::Object(Default::default()),
            id: ObjectRef {
                api_version: SQUID_API_VERSION.to_string(),
                kind: ACCESS_LOG_KIND.to_string(),
                namespace: None,
                name: base,
            },
        });
        if let Some(n) = objects_per_source.get_mut(source) {
            *n += 1;
        }
    }
    check_custom_resources(&mut loaded);
    // An input that holds nothing must not read as a pass: a misspelt CI
    // path, an empty standard input, a directory of other files.
    for (i, input) in inputs.sources.iter().enumerate() {
        if objects_per_source.get(i) == Some(&0) && diagnosed.get(i) != Some(&true) {
            let (what, file) = match input {
                InputSource::Path(p) | InputSource::SquidConfig(p) | InputSource::AccessLog(p) => {
                    (p.display().to_string(), !p.is_dir())
                }
                InputSource::Text { name, .. } | InputSource::Bytes { name, .. } => {
                    (name.clone(), true)
                }
                InputSource::Kustomized { dir, .. } => {
                    (format!("<kustomize {}>", dir.display()), true)
                }
            };
            // A file (or text) is located at its start; a directory has no
            // line to point at.
            let at = file.then(|| location(&what, Pos { line: 1, column: 1 }));
            loaded.diagnostics.push(Diagnostic::input(
                format!(
                    "no objects found in `{what}`: expected Kubernetes manifests (.yaml, .yml, .json), squid configurations, Terraform JSON, AWS CLI JSON or proxy access logs"
                ),
                at,
            ));
        }
    }
    duplicates(&mut loaded);
    loaded
}

/// Decodes a file's bytes, or says where it stops being UTF-8 text.
fn text_of(name: &str, bytes: Vec<u8>, max: u64) -> Result<String, Diagnostic> {
    if bytes.len() as u64 > max {
        return Err(Diagnostic::input(
            format!("`{name}` is more than the input size cap of {max} bytes (--max-input-bytes)"),
            None,
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let before = e.as_bytes().get(..valid).unwrap_or_default();
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = std::str::from_utf8(before.get(line_start..).unwrap_or_default())
            .map_or(1, |s| s.chars().count() + 1);
        Diagnostic::input(
            format!("`{name}` is not UTF-8 text (invalid byte at offset {valid}): not read"),
            Some(Location::new(
                name,
                u32::try_from(line).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(u32::MAX),
            )),
        )
    })
}

/// Two objects with one identity (API group, kind, namespace, name) cannot
/// both exist in a cluster: which one is meant decides the verdict, so it is
/// a located diagnostic naming both places. Both stay in the model.
fn duplicates(loaded: &mut Loaded) {
    let mut first: std::collections::HashMap<(String, &str, Option<&str>, &str), usize> =
        std::collections::HashMap::new();
    let mut found = Vec::new();
    for (i, o) in loaded.objects.iter().enumerate() {
        if is_file_object(&o.id) {
            continue; // stands for a file; two `squid.conf` in two directories are fine
        }
        let group =
            o.id.api_version
                .rsplit_once('/')
                .map_or("", |(g, _)| g)
                .to_string();
        let key = (
            group,
            o.id.kind.as_str(),
            o.id.namespace.as_deref(),
            o.id.name.as_str(),
        );
        if let Some(&j) = first.get(&key) {
            found.push((j, i));
        } else {
            first.insert(key, i);
        }
    }
    for (j, i) in found {
        let (Some(a), Some(b)) = (loaded.objects.get(j), loaded.objects.get(i)) else {
            continue;
        };
        let at_a = loaded.locate(a, Some("/metadata/name"));
        let at_b = loaded.locate(b, Some("/metadata/name"));
        let id = &b.id;
        let ns = id
            .namespace
            .as_deref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        let first_at = at_a
            .map(|l| l.to_string())
            .unwrap_or_else(|| "another input".to_string());
        loaded.diagnostics.push(Diagnostic::input(
            format!(
                "duplicate object `{} {ns}{}`: also defined at {first_at}; a cluster holds one of them, so the verdict would depend on which",
                id.kind, id.name
            ),
            at_b,
        ));
    }
}

/// Turns one document into objects: itself, or the members of a `List`.
/// A file a kustomization names as a patch or generator input: its
/// documents are partial objects or data, counted as `kind` and not
/// checked — except objects of control-path and traffic kinds
/// (NetworkPolicies, RBAC, Cilium policies…), which are checked as
/// manifests whatever a kustomization of the pull request says, so that
/// naming a file a patch cannot hide one.
fn patch_file(loaded: &mut Loaded, file: usize, kind: &str, options: &LoadOptions) {
    let documents = loaded.files.get(file).map_or(0, |f| f.documents.len());
    for document in 0..documents {
        let Some((value, start, name)) = loaded.files.get(file).and_then(|f| {
            let doc = f.documents.get(document)?;
            Some((&doc.value, doc.start, &f.name))
        }) else {
            continue;
        };
        let api_version = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let object_kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        if crate::kinds::is_control_path_kind(api_version, object_kind) {
            split_objects(loaded, file, document, options);
            continue;
        }
        let object = identify(value).ok();
        let at = Some(location(name, start));
        not_evaluated(
            &mut loaded.not_evaluated,
            &mut loaded.unevaluated,
            kind.to_string(),
            object,
            at,
        );
    }
}

fn split_objects(loaded: &mut Loaded, file: usize, document: usize, options: &LoadOptions) {
    // The objects take the document's value (no copy); its positions stay.
    let Some(value) = loaded
        .files
        .get_mut(file)
        .and_then(|f| f.documents.get_mut(document))
        .map(|d| std::mem::take(&mut d.value))
    else {
        return;
    };
    // A cloud network file: one object stands for it, read by the cloud
    // layer (findings point into it with JSON pointers from its root).
    if let Some(kind) = cloud_kind(&value) {
        let name = loaded
            .files
            .get(file)
            .map(|f| base_name(&f.name).to_string())
            .unwrap_or_default();
        let name = if document == 0 {
            name
        } else {
            format!("{name}#{document}")
        };
        loaded.objects.push(Object {
            file,
            document,
            node: 0,
            value,
            id: ObjectRef {
                api_version: SQUID_API_VERSION.to_string(),
                kind: kind.to_string(),
                namespace: None,
                name,
            },
        });
        return;
    }
    // (base pointer, value, its position node)
    let mut found: Vec<(String, Value, u32)> = Vec::new();
    let mut problems: Vec<(String, String)> = Vec::new();
    match value {
        Value::Null => {} // An empty document (comments only) is not an error.
        Value::Object(mut map) => {
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
            if kind == "List" || (kind.ends_with("List") && map.contains_key("items")) {
                let kind = kind.to_string();
                match map.remove("items") {
                    Some(Value::Array(items)) => {
                        // Each item's node, in one walk: looking each up
                        // by pointer would cost the items before it.
                        let nodes = loaded
                            .files
                            .get(file)
                            .and_then(|f| f.documents.get(document))
                            .and_then(|d| d.positions.index_of("/items").map(|i| (d, i)))
                            .map(|(d, i)| d.positions.children(i))
                            .unwrap_or_default();
                        for (i, item) in items.into_iter().enumerate() {
                            let node = nodes.get(i).copied().unwrap_or(0);
                            found.push((format!("/items/{i}"), item, node));
                        }
                    }
                    Some(Value::Null) | None => {}
                    Some(_) => problems.push((
                        "/items".to_string(),
                        format!("`items` of a `{kind}` must be a list of objects"),
                    )),
                }
            } else {
                found.push((String::new(), Value::Object(map), 0));
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
    let Some(doc) = loaded
        .files
        .get(file)
        .and_then(|f| f.documents.get(document))
    else {
        return;
    };
    // Where `pointer` (below the object at position node `node`) is.
    let at_node = |node: u32, pointer: &str| -> Location {
        let pos = doc.positions.find_from(node, pointer).unwrap_or(doc.start);
        let mut at = location(&file_name, pos);
        at.origin = doc.origin.as_deref().map(str::to_string);
        at
    };
    let at = |pointer: &str| at_node(0, pointer);
    for (pointer, message) in problems {
        loaded
            .diagnostics
            .push(Diagnostic::input(message, Some(at(&pointer))));
    }
    let kustomization_file = kustomize::is_kustomization_file(&file_name);
    for (base, value, node) in found {
        let at =
            |pointer: &str| at_node(node, pointer.strip_prefix(base.as_str()).unwrap_or(pointer));
        // Kustomize's own files (`Kustomization`, `Component`) describe how
        // to render manifests; they are none, and often have no metadata.
        // In a `kustomization.yaml`, a document without `kind` is one too
        // (old ones have neither apiVersion nor kind). Anything else there
        // is evaluated: `kubectl apply -f DIR` would apply it, so the file
        // name must not hide a Deployment.
        let kustomize = kustomize::kind_of(&value).or_else(|| {
            (kustomization_file && value.get("kind").is_none())
                .then(|| format!("{}/Kustomization", kustomize::GROUP))
        });
        if let Some(kind) = kustomize {
            let name = value.pointer("/metadata/name").and_then(Value::as_str);
            let object = name.map(|name| ObjectRef {
                api_version: value
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                kind: kind.rsplit('/').next().unwrap_or_default().to_string(),
                namespace: None,
                name: name.to_string(),
            });
            not_evaluated(
                &mut loaded.not_evaluated,
                &mut loaded.unevaluated,
                kind,
                object,
                Some(at(&base)),
            );
            continue;
        }
        match identify(&value) {
            Ok(id) => {
                if !crate::kinds::is_known(&id.api_version, &id.kind)
                    && !ignored(&options.ignore_kinds, &id)
                {
                    if options.strict_kinds {
                        loaded.diagnostics.push(Diagnostic::input(
                            format!(
                                "unknown kind `{}` (apiVersion `{}`): Palisade evaluates built-in Kubernetes kinds (strict kinds); list it under `ignoreKinds` in the policy set to accept it unevaluated",
                                id.kind, id.api_version
                            ),
                            Some(at(&format!("{base}/kind"))),
                        ));
                        continue;
                    }
                    let group = id.api_version.rsplit_once('/').map_or("", |(g, _)| g);
                    let kind = format!("{group}/{}", id.kind);
                    let id = crate::kinds::default_namespace(id.clone());
                    not_evaluated(
                        &mut loaded.not_evaluated,
                        &mut loaded.unevaluated,
                        kind,
                        Some(id),
                        Some(at(&base)),
                    );
                }
                let id = crate::kinds::default_namespace(id);
                loaded.objects.push(Object {
                    file,
                    document,
                    node,
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

/// Custom resources whose CustomResourceDefinition is in the inputs are
/// held to it: their version must be one it defines, and a cluster-scoped
/// kind carries no namespace. (Without their CRD they are only counted:
/// the cluster may define them.)
fn check_custom_resources(loaded: &mut Loaded) {
    use std::collections::BTreeMap;
    // (group, kind) -> its CRD
    let crds: BTreeMap<(String, String), crate::kinds::Crd> = loaded
        .objects
        .iter()
        .filter_map(|o| crate::kinds::Crd::of(&o.id.api_version, &o.id.kind, &o.value))
        .map(|c| ((c.group.clone(), c.kind.clone()), c))
        .collect();
    if crds.is_empty() {
        return;
    }
    let mut problems = Vec::new();
    for o in &loaded.objects {
        if crate::kinds::is_known(&o.id.api_version, &o.id.kind) {
            continue;
        }
        let (group, version) =
            o.id.api_version
                .rsplit_once('/')
                .unwrap_or(("", &o.id.api_version));
        let Some(c) = crds.get(&(group.to_string(), o.id.kind.clone())) else {
            continue;
        };
        let (versions, cluster, crd) = (&c.versions, c.cluster_scoped, &c.name);
        if !versions.iter().any(|v| v == version) {
            problems.push((
                format!(
                    "`{}` has no version `{version}`: its CustomResourceDefinition `{crd}` defines {}",
                    o.id.kind,
                    if versions.is_empty() {
                        "none".to_string()
                    } else {
                        versions.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
                    }
                ),
                loaded.locate(o, Some("/apiVersion")),
            ));
        }
        if cluster && o.value.pointer("/metadata/namespace").is_some() {
            problems.push((
                format!(
                    "`{}` is cluster-scoped (CustomResourceDefinition `{crd}`): it has no namespace",
                    o.id.kind
                ),
                loaded.locate(o, Some("/metadata/namespace")),
            ));
        }
    }
    for (message, at) in problems {
        loaded.diagnostics.push(Diagnostic::input(message, at));
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
    // No cluster accepts such names, and they would reach every report.
    for (field, value) in [
        ("/kind", Some(&kind)),
        ("/apiVersion", Some(&api_version)),
        ("/metadata/name", Some(&name)),
        ("/metadata/namespace", namespace.as_ref()),
    ] {
        if let Some(c) = value.and_then(|v| v.chars().find(|c| c.is_control())) {
            return Err((
                field,
                format!(
                    "`{}` holds the control character U+{:04X}: no Kubernetes object is named so",
                    field.trim_start_matches('/').replace('/', "."),
                    u32::from(c)
                ),
            ));
        }
    }
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
        load_text_named("t.yaml", text)
    }

    fn load_text_named(name: &str, text: &str) -> Loaded {
        load(&Inputs::new().text(name, text), &LoadOptions::default())
    }

    #[test]
    fn lists_are_flattened_and_located() {
        let loaded = load_text(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: a\n",
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        assert_eq!(loaded.objects.len(), 1);
        let obj = &loaded.objects[0];
        let loc = loaded.locate(obj, Some("/metadata/name")).unwrap();
        assert_eq!((loc.line, loc.column), (7, 5));
    }

    const WIDGET: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n";

    fn messages(loaded: &Loaded) -> Vec<String> {
        loaded
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.location.as_ref().unwrap(), d.message))
            .collect()
    }

    #[test]
    fn custom_resources_are_accepted_and_counted() {
        let loaded = load_text(WIDGET);
        let messages = messages(&loaded);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with("t.yaml:3:1 ") && messages[0].contains("no `metadata.name`")
        );
        assert_eq!(loaded.objects.len(), 2);
        assert_eq!(
            loaded.not_evaluated,
            std::collections::BTreeMap::from([("example.com/Widget".to_string(), 1)])
        );
    }

    #[test]
    fn strict_kinds_make_an_unknown_kind_an_error_at_its_line() {
        let loaded = load(
            &Inputs::new().text("t.yaml", WIDGET),
            &LoadOptions {
                strict_kinds: true,
                ..LoadOptions::default()
            },
        );
        let messages = messages(&loaded);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[1].starts_with("t.yaml:6:1 unknown kind `Widget`"),
            "{messages:?}"
        );
        assert_eq!(loaded.objects.len(), 1);
        assert!(loaded.not_evaluated.is_empty());
    }

    #[test]
    fn a_crd_in_the_inputs_holds_its_resources_to_their_versions_and_scope() {
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Cluster\n  names: {plural: widgets, singular: widget, kind: Widget}\n  versions: [{name: v1, served: true, storage: true}]\n";
        let loaded = load_text(&format!(
            "{crd}---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: ok}}\n---\napiVersion: example.com/v2\nkind: Widget\nmetadata: {{name: old}}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: scoped, namespace: shop}}\n"
        ));
        let messages = messages(&loaded);
        assert_eq!(
            messages,
            [
                "t.yaml:14:1 `Widget` has no version `v2`: its CustomResourceDefinition `widgets.example.com` defines `v1`",
                "t.yaml:20:26 `Widget` is cluster-scoped (CustomResourceDefinition `widgets.example.com`): it has no namespace",
            ]
        );
        assert_eq!(loaded.not_evaluated["example.com/Widget"], 3);
    }

    #[test]
    fn a_kustomization_cannot_hide_squid_configs_resources_or_control_paths() {
        let kustomization = "resources: [netpol.yaml]\npatches:\n  - path: replicas.yaml\n  - path: open.yaml\n  - path: netpol.yaml\nconfigMapGenerator:\n  - name: squid\n    files: [squid.conf, k=/abs/other.yaml]\n";
        let loaded = load(
            &Inputs::new()
                .text("app/kustomization.yaml", kustomization)
                .text(
                    "app/replicas.yaml",
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
                )
                .text(
                    "app/open.yaml",
                    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: open}\nspec: {endpointSelector: {}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
                )
                .text(
                    "app/netpol.yaml",
                    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n",
                )
                .text("app/squid.conf", "http_access allow all\n"),
            &LoadOptions::default(),
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let kinds: Vec<&str> = loaded.objects.iter().map(|o| o.id.kind.as_str()).collect();
        // The patch file's CiliumNetworkPolicy is checked, its ConfigMap
        // and the Deployment patch are not; the resource and the squid
        // configuration are checked although patches name them.
        assert_eq!(kinds, ["CiliumNetworkPolicy", "NetworkPolicy", SQUID_KIND]);
        let patches: Vec<String> = loaded
            .unevaluated
            .iter()
            .filter(|n| n.kind == "kustomize.config.k8s.io/Patch")
            .map(|n| {
                n.object
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string)
            })
            .collect();
        assert_eq!(patches, ["Deployment web", "ConfigMap c"]);
    }

    #[test]
    fn kustomize_files_are_recognised_and_counted() {
        let loaded = load(
            &Inputs::new()
                .text("base/kustomization.yaml", "resources: [deploy.yaml]\n")
                .text(
                    "component.yaml",
                    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: []\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n",
                ),
            &LoadOptions {
                strict_kinds: true,
                ..LoadOptions::default()
            },
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        assert_eq!(loaded.objects.len(), 1);
        assert_eq!(
            loaded.not_evaluated,
            std::collections::BTreeMap::from([
                ("kustomize.config.k8s.io/Component".to_string(), 1),
                ("kustomize.config.k8s.io/Kustomization".to_string(), 1),
            ])
        );
        // The name hides nothing: a manifest in a `kustomization.yaml` is
        // evaluated (`kubectl apply -f DIR` would apply it).
        let loaded = load_text_named(
            "kustomization.yaml",
            "resources: [a.yaml]\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: smuggled}\n",
        );
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let names: Vec<&str> = loaded.objects.iter().map(|o| o.id.name.as_str()).collect();
        assert_eq!(names, ["smuggled"]);
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
                strict_kinds: true,
                ..LoadOptions::default()
            },
        );
        assert!(loaded.diagnostics.is_empty());
        assert!(loaded.not_evaluated.is_empty());
    }

    #[test]
    fn scalar_documents_are_rejected() {
        let loaded = load_text("just a string\n");
        assert_eq!(loaded.diagnostics.len(), 1);
        assert!(loaded.objects.is_empty());
    }
}
