//! The effective environment of every container: each variable's value and
//! where it comes from (the workload, a ConfigMap key or a Secret key, with
//! its `file:line:column`), resolved as the kubelet resolves it.
//!
//! # Kubernetes' rules, and where they are written
//!
//! The kubelet builds a container's environment in
//! `makeEnvironmentVariables` (kubernetes/kubernetes,
//! `pkg/kubelet/kubelet_pods.go`):
//!
//! 1. `envFrom` first, in order, into one map: every key of the ConfigMap's
//!    `data` (not `binaryData`) or the Secret's `data`, with the source's
//!    `prefix` in front. A later source overwrites an earlier one ("When a
//!    key exists in multiple sources, the value associated with the last
//!    source will take precedence", the `Container.envFrom` API
//!    documentation). A name that is not a valid variable name is skipped
//!    (the kubelet records an `InvalidEnvironmentVariableNames` event); since
//!    KEP-4369 (stable in 1.34) a valid name is any non-empty run of
//!    printable ASCII other than `=` ("may consist of any printable ASCII
//!    characters except '='", the v1.37 API documentation this crate builds
//!    against). A missing source fails the container unless it is
//!    `optional`.
//! 2. Then `env`, in order, each entry overwriting the map: "Values defined
//!    by an Env with a duplicate key will take precedence" (same
//!    documentation). Two `env` entries of one name: the later one is in
//!    effect (the map is overwritten; the API server warns that the second
//!    "hides previous definition"). A non-empty `value` is expanded first;
//!    otherwise `valueFrom` is resolved: `configMapKeyRef` and
//!    `secretKeyRef` read `data[key]`; an `optional` reference whose object
//!    or key is absent sets nothing at all (the kubelet `continue`s, so a
//!    value `envFrom` gave the same name stays); a non-optional one fails
//!    the container. `fieldRef`, `resourceFieldRef` and `fileKeyRef` are
//!    known only on the node.
//! 3. `$(VAR)` expansion (`third_party/forked/golang/expansion`; the
//!    `EnvVar.value` API documentation and the task "Define Dependent
//!    Environment Variables",
//!    <https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/>):
//!    "Variable references $(VAR_NAME) are expanded using the previously
//!    defined environment variables in the container and any service
//!    environment variables. If a variable cannot be resolved, the reference
//!    in the input string will be unchanged. Double $$ are reduced to a
//!    single $ ... Escaped references will never be expanded". "Previously
//!    defined" is the map of step 1 and 2 so far: every `envFrom` variable
//!    and the `env` entries before this one. [`expand`] follows the forked
//!    Go code (an unterminated `$(` is kept and scanning goes on after it),
//!    except that a non-ASCII character after a lone `$` is kept whole
//!    where the Go code, reading one byte, garbles it.
//!
//! # What the inputs cannot say
//!
//! - An object missing from the inputs is **unknown**, never empty: a
//!   reference to it, or to a variable that takes its value from it, has no
//!   value ([`EnvValue::Unknown`]), whether or not it is `optional` (the
//!   inputs do not say whether it exists). An `envFrom` source missing from
//!   the inputs defines names nobody can list: they cannot be appended, and
//!   a `$(VAR)` reference that nothing known defines is then unknown too
//!   (the missing source likely defines it). A value that a known source
//!   gives is kept even when a later missing source could override it
//!   ([`EnvEntry::maybe_overridden_by`] says so): otherwise every variable
//!   would vanish behind any Secret kept out of the repository, the usual
//!   case.
//! - A `$(VAR)` reference that only a service link could define
//!   (`…_SERVICE_HOST`, `…_SERVICE_PORT`, `…_PORT…`: services are not
//!   modelled) is unknown.
//! - Secret values are never read: a variable from a Secret, or expanded
//!   from one, is [`EnvValue::Secret`], which holds nothing. Only key names
//!   and positions are kept.
//! - A ConfigMap `data` value that is not a string (the API server would
//!   reject the object) is unknown.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Container;
use serde_json::Value;

use crate::facts;
use crate::input::{Loaded, Object};
use crate::report::{Location, RelatedLocation};

/// A variable's value, as far as the inputs tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// Known from the inputs (after `$(VAR)` expansion).
    Known(String),
    /// Comes from a Secret (directly or through expansion); never kept.
    Secret,
    /// Not determined by the inputs (see the module documentation).
    Unknown,
    /// Known text around `$(NAME)` references Palisade cannot resolve (a
    /// runtime field, a variable a missing `envFrom` source or a Service
    /// link may define), which stay as written, as the kubelet leaves a
    /// reference it cannot resolve. `http://evil.example$(X_PORT)` still
    /// names its host.
    Partial(String),
    /// The entry sets nothing: an `optional` reference to a key that its
    /// object, present in the inputs, lacks.
    Unset,
}

/// ConfigMap or Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    ConfigMap,
    Secret,
}

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `env[j].value` of the workload (after expansion), or no value at all.
    Literal,
    /// `env[j].valueFrom.fieldRef`, `resourceFieldRef` or `fileKeyRef`:
    /// known only on the node.
    Runtime,
    /// A key of a ConfigMap or Secret, through `env[j].valueFrom` or
    /// `envFrom[k]`.
    Key {
        kind: SourceKind,
        name: String,
        key: String,
        /// The object (index into the loaded objects), when the inputs hold
        /// it.
        object: Option<usize>,
        /// Where the key is written (`data.<KEY>`), when the object has it.
        at: Option<Location>,
    },
}

/// One entry of a container's environment, as plugins receive it (with its
/// provenance, which stays in the host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub name: String,
    pub value: EnvValue,
    pub origin: Origin,
    /// JSON pointer, in the workload, of what declares it: `…/env/<j>` or
    /// `…/envFrom/<k>`.
    pub declared: String,
    /// False when a later `env` entry of the same name replaces it, or when
    /// it sets nothing.
    pub in_effect: bool,
    /// For entries from `envFrom`: the later `envFrom` sources (indices)
    /// that the inputs do not hold, any of which may define this name too.
    pub maybe_overridden_by: Vec<usize>,
}

impl EnvEntry {
    /// The value plugins see: only what the inputs say and is no secret.
    pub fn fact(&self) -> facts::EnvVar {
        facts::EnvVar {
            name: self.name.clone(),
            value: match &self.value {
                EnvValue::Known(v) | EnvValue::Partial(v) => Some(v.clone()),
                EnvValue::Secret | EnvValue::Unknown | EnvValue::Unset => None,
            },
        }
    }
}

/// The environment of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEnv {
    /// The container's name.
    pub container: String,
    /// JSON pointer of the container in its workload
    /// (`<pod spec>/containers/<i>` or `<pod spec>/initContainers/<i>`).
    pub pointer: String,
    /// Exactly `facts::Container::env`: the manifest's `env` entries in order,
    /// then each variable only `envFrom` defines, sorted by name.
    pub entries: Vec<EnvEntry>,
    /// How many entries the manifest's `env` has.
    pub declared: usize,
}

/// Every container's environment, by workload object.
#[derive(Debug, Default)]
pub struct EnvFacts {
    by_object: BTreeMap<usize, Vec<ContainerEnv>>,
}

/// Where a finding goes instead of where its path points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocated {
    pub location: Option<Location>,
    pub related: Option<RelatedLocation>,
    /// The finding's path, when the plugin's cannot stay: an appended
    /// variable's index moves whenever a source gains or loses a key, so
    /// its findings are named `<container>/envFrom/<k>/<NAME>` (the
    /// source, then the variable), which fingerprints and exemptions can
    /// hold on to.
    pub path: Option<String>,
}

impl EnvFacts {
    pub fn insert(&mut self, object: usize, containers: Vec<ContainerEnv>) {
        if !containers.is_empty() {
            self.by_object.insert(object, containers);
        }
    }

    /// The environments of a workload's containers.
    #[cfg(test)]
    pub fn of(&self, object: usize) -> &[ContainerEnv] {
        self.by_object.get(&object).map_or(&[], Vec::as_slice)
    }

    /// **The one place where a finding's location follows provenance.** A
    /// path `<container>/env/<j>` (or below it, except `…/name`) whose entry
    /// took its value from a ConfigMap key that the inputs hold is located
    /// at that key (`data.<KEY>`), with the workload's declaration as the
    /// related location. An entry appended from `envFrom` whose key cannot
    /// be shown (a Secret's, never quoted; an unknown one) is located at its
    /// `envFrom` entry in the workload. Anything else: `None` (located where
    /// the path points).
    pub fn relocate(&self, loaded: &Loaded, object: usize, path: &str) -> Option<Relocated> {
        let workload = loaded.objects.get(object)?;
        for c in self.by_object.get(&object)? {
            let Some(rest) = path
                .strip_prefix(c.pointer.as_str())
                .and_then(|r| r.strip_prefix("/env/"))
            else {
                continue;
            };
            let (index, below) = rest.split_once('/').unwrap_or((rest, ""));
            let entry_index: usize = index.parse().ok()?;
            let entry = c.entries.get(entry_index)?;
            let appended = entry_index >= c.declared;
            let path = appended.then(|| {
                format!(
                    "{}/{}",
                    entry.declared,
                    entry.name.replace('~', "~0").replace('/', "~1")
                )
            });
            if !appended && (below == "name" || below.starts_with("name/")) {
                return None;
            }
            return match &entry.origin {
                Origin::Key {
                    kind: SourceKind::ConfigMap,
                    name,
                    key,
                    at: Some(at),
                    ..
                } => Some(Relocated {
                    location: Some(at.clone()),
                    related: Some(RelatedLocation {
                        message: format!(
                            "`{}` of container `{}` comes from ConfigMap `{name}` key `{key}` through {}",
                            entry.name,
                            c.container,
                            if appended { "`envFrom`" } else { "`valueFrom`" },
                        ),
                        object: workload.id.clone(),
                        path: entry.declared.clone(),
                        location: loaded.locate(workload, Some(&entry.declared)),
                    }),
                    path,
                }),
                _ if appended => Some(Relocated {
                    location: loaded.locate(workload, Some(&entry.declared)),
                    related: None,
                    path,
                }),
                _ => None,
            };
        }
        None
    }
}

/// The ConfigMaps and Secrets of the inputs, by (namespace, kind, name).
#[derive(Debug, Default)]
pub struct Sources<'a> {
    by_name: BTreeMap<(&'a str, SourceKindKey, &'a str), usize>,
    /// Variables `envFrom` may still add, all containers counted: a
    /// ConfigMap of many keys consumed by many containers must not cost
    /// keys × containers entries.
    budget: std::cell::Cell<usize>,
    /// The budget ran out: some `envFrom` sources were not read.
    pub exhausted: std::cell::Cell<bool>,
}

/// Most variables `envFrom` adds to the model, all containers counted.
pub const MAX_ENV_FROM_ENTRIES: usize = 1_000_000;
/// Longest value `$(VAR)` expansion may build: past it the value is
/// unknown (references that double a value at every step would otherwise
/// grow it exponentially).
pub const MAX_EXPANDED_BYTES: usize = 64 << 10;

/// `SourceKind` as a map key.
type SourceKindKey = u8;

fn kind_key(kind: SourceKind) -> SourceKindKey {
    match kind {
        SourceKind::ConfigMap => 0,
        SourceKind::Secret => 1,
    }
}

impl<'a> Sources<'a> {
    pub fn of(loaded: &'a Loaded) -> Sources<'a> {
        let mut by_name = BTreeMap::new();
        for (i, o) in loaded.objects.iter().enumerate() {
            let kind = match (o.id.api_version.as_str(), o.id.kind.as_str()) {
                ("v1", "ConfigMap") => SourceKind::ConfigMap,
                ("v1", "Secret") => SourceKind::Secret,
                _ => continue,
            };
            let ns = o.id.namespace.as_deref().unwrap_or("default");
            by_name.insert((ns, kind_key(kind), o.id.name.as_str()), i);
        }
        Sources {
            by_name,
            budget: std::cell::Cell::new(MAX_ENV_FROM_ENTRIES),
            exhausted: std::cell::Cell::new(false),
        }
    }

    /// Takes `n` entries from the budget; false (and nothing taken) when
    /// fewer are left.
    fn take(&self, n: usize) -> bool {
        match self.budget.get().checked_sub(n) {
            Some(left) => {
                self.budget.set(left);
                true
            }
            None => {
                self.exhausted.set(true);
                false
            }
        }
    }

    fn get(&self, namespace: &str, kind: SourceKind, name: &str) -> Option<usize> {
        self.by_name
            .get(&(namespace, kind_key(kind), name))
            .copied()
    }
}

/// What one key of a source resolves to.
struct KeyLookup {
    /// The object, when the inputs hold it.
    object: Option<usize>,
    /// The key's value (never a Secret's), or `None` when the object lacks
    /// the key; `Some(Unknown)` when the object is missing.
    value: Option<EnvValue>,
    at: Option<Location>,
}

/// Reads one key of a ConfigMap's `data` or a Secret's `data`/`stringData`
/// (a Secret's value is never read).
fn lookup(
    loaded: &Loaded,
    sources: &Sources<'_>,
    namespace: &str,
    kind: SourceKind,
    name: &str,
    key: &str,
) -> KeyLookup {
    let Some(i) = sources.get(namespace, kind, name) else {
        return KeyLookup {
            object: None,
            value: Some(EnvValue::Unknown),
            at: None,
        };
    };
    let Some(obj) = loaded.objects.get(i) else {
        return KeyLookup {
            object: None,
            value: Some(EnvValue::Unknown),
            at: None,
        };
    };
    let (value, pointer) = match kind {
        SourceKind::ConfigMap => match obj.value.get("data").and_then(|d| d.get(key)) {
            Some(Value::String(s)) => (Some(EnvValue::Known(s.clone())), Some("data")),
            Some(_) => (Some(EnvValue::Unknown), Some("data")),
            None => (None, None),
        },
        // `stringData` is merged over `data` when the Secret is written.
        SourceKind::Secret => {
            let has = |field: &str| obj.value.get(field).and_then(|d| d.get(key)).is_some();
            if has("stringData") {
                (Some(EnvValue::Secret), Some("stringData"))
            } else if has("data") {
                (Some(EnvValue::Secret), Some("data"))
            } else {
                (None, None)
            }
        }
    };
    let at = pointer.and_then(|field| loaded.locate(obj, Some(&key_pointer(field, key))));
    KeyLookup {
        object: Some(i),
        value,
        at,
    }
}

fn key_pointer(field: &str, key: &str) -> String {
    let mut p = format!("/{field}/");
    crate::input::yaml::push_escaped(&mut p, key);
    p
}

/// The keys (sorted) of a source's variables, for `envFrom`: a
/// ConfigMap's `data` (not `binaryData`), a Secret's `data` and
/// `stringData`.
fn keys_of(obj: &Object, kind: SourceKind) -> Vec<String> {
    let fields: &[&str] = match kind {
        SourceKind::ConfigMap => &["data"],
        SourceKind::Secret => &["data", "stringData"],
    };
    let mut keys: Vec<String> = fields
        .iter()
        .filter_map(|f| obj.value.get(*f).and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A valid variable name since KEP-4369: non-empty printable ASCII
/// without `=`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'=')
}

/// Whether an undefined `$(name)` could be a service link variable, which
/// the kubelet defines for the Services of the namespace (not modelled).
fn service_link_like(name: &str) -> bool {
    name.ends_with("_SERVICE_HOST") || name.contains("_SERVICE_PORT") || name.contains("_PORT")
}

/// Expands `$(VAR)` references in `input` as Kubernetes does
/// (`third_party/forked/golang/expansion/expand.go`): `$$` is `$`; `$(NAME)`
/// is the value of NAME in `vars`, or stays as written when NAME is not
/// there; `$` before anything else, a `$` at the end and an unterminated
/// `$(` stay as written. `undefined` decides what a reference to a name not
/// in `vars` yields: `None` keeps it literal (Kubernetes), `Some(v)` makes
/// the whole value `v`.
///
/// The result is [`EnvValue::Secret`] when any referenced value is a
/// Secret's, else [`EnvValue::Partial`] when any is unknown (kept as
/// written).
pub fn expand(
    input: &str,
    vars: &BTreeMap<String, EnvValue>,
    undefined: impl Fn(&str) -> Option<EnvValue>,
) -> EnvValue {
    let mut out = String::with_capacity(input.len());
    let mut secret = false;
    let mut partial = false;
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        let Some(next) = after.chars().next() else {
            // A `$` at the very end stays.
            out.push('$');
            rest = "";
            break;
        };
        match next {
            '$' => {
                out.push('$');
                rest = after.get(1..).unwrap_or_default();
            }
            '(' => match after.find(')') {
                Some(close) => {
                    let name = after.get(1..close).unwrap_or_default();
                    let literal = |out: &mut String| {
                        out.push_str("$(");
                        out.push_str(name);
                        out.push(')');
                    };
                    match vars.get(name) {
                        Some(EnvValue::Known(v)) | Some(EnvValue::Partial(v)) => {
                            if out.len().saturating_add(v.len()) > MAX_EXPANDED_BYTES {
                                return EnvValue::Unknown;
                            }
                            partial |= matches!(vars.get(name), Some(EnvValue::Partial(_)));
                            out.push_str(v);
                        }
                        Some(EnvValue::Secret) => secret = true,
                        Some(EnvValue::Unknown) => {
                            partial = true;
                            literal(&mut out);
                        }
                        Some(EnvValue::Unset) | None => match undefined(name) {
                            Some(EnvValue::Secret) => secret = true,
                            Some(EnvValue::Unknown) => {
                                partial = true;
                                literal(&mut out);
                            }
                            _ => literal(&mut out),
                        },
                    }
                    rest = after.get(close + 1..).unwrap_or_default();
                }
                None => {
                    // Incomplete reference: kept, scanning goes on after `(`.
                    out.push_str("$(");
                    rest = after.get(1..).unwrap_or_default();
                }
            },
            other => {
                out.push('$');
                out.push(other);
                rest = after.get(other.len_utf8()..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    if secret {
        EnvValue::Secret
    } else if partial {
        EnvValue::Partial(out)
    } else {
        EnvValue::Known(out)
    }
}

/// The effective environment of one container of a workload in
/// `namespace`; `pointer` is the container's JSON pointer in the workload.
pub fn container_env(
    loaded: &Loaded,
    sources: &Sources<'_>,
    namespace: &str,
    pointer: String,
    c: &Container,
) -> ContainerEnv {
    // Step 1: envFrom, the last source winning. name -> (source index, entry)
    let mut from_sources: BTreeMap<String, (usize, EnvEntry)> = BTreeMap::new();
    let mut missing_sources: Vec<usize> = Vec::new();
    for (k, source) in c.env_from.iter().flatten().enumerate() {
        let (kind, name) = match (&source.config_map_ref, &source.secret_ref) {
            (Some(cm), _) => (SourceKind::ConfigMap, cm.name.as_str()),
            (None, Some(s)) => (SourceKind::Secret, s.name.as_str()),
            (None, None) => continue,
        };
        let Some(i) = sources.get(namespace, kind, name) else {
            missing_sources.push(k);
            continue;
        };
        let Some(obj) = loaded.objects.get(i) else {
            continue;
        };
        let keys = keys_of(obj, kind);
        if !sources.take(keys.len()) {
            // Not read: what it would set is unknown, as for a source
            // missing from the inputs (the model reports the budget).
            missing_sources.push(k);
            continue;
        }
        let prefix = source.prefix.as_deref().unwrap_or_default();
        for key in keys {
            let var = format!("{prefix}{key}");
            if !valid_name(&var) {
                continue;
            }
            let found = lookup(loaded, sources, namespace, kind, name, &key);
            let entry = EnvEntry {
                name: var.clone(),
                value: found.value.unwrap_or(EnvValue::Unknown),
                origin: Origin::Key {
                    kind,
                    name: name.to_string(),
                    key,
                    object: found.object,
                    at: found.at,
                },
                declared: format!("{pointer}/envFrom/{k}"),
                in_effect: true,
                maybe_overridden_by: Vec::new(),
            };
            from_sources.insert(var, (k, entry));
        }
    }
    for (k, entry) in from_sources.values_mut() {
        entry.maybe_overridden_by = missing_sources.iter().copied().filter(|m| m > k).collect();
    }

    // Step 2: env, in order, expanding against what is defined so far.
    let mut defined: BTreeMap<String, EnvValue> = from_sources
        .iter()
        .map(|(name, (_, e))| (name.clone(), e.value.clone()))
        .collect();
    let some_source_missing = !missing_sources.is_empty();
    let undefined =
        |name: &str| (some_source_missing || service_link_like(name)).then_some(EnvValue::Unknown);
    let mut entries: Vec<EnvEntry> = Vec::new();
    for (j, e) in c.env.iter().flatten().enumerate() {
        let declared = format!("{pointer}/env/{j}");
        let literal = e.value.as_deref().unwrap_or_default();
        let (value, origin) = if !literal.is_empty() {
            (expand(literal, &defined, undefined), Origin::Literal)
        } else if let Some(from) = &e.value_from {
            let by_key = |kind: SourceKind, name: &str, key: &str, optional: Option<bool>| {
                let found = lookup(loaded, sources, namespace, kind, name, key);
                let value = match found.value {
                    Some(v) => v,
                    // The object is there without the key: an optional
                    // reference sets nothing; otherwise the container
                    // cannot start, and has no environment to speak of.
                    None if optional == Some(true) => EnvValue::Unset,
                    None => EnvValue::Unknown,
                };
                let origin = Origin::Key {
                    kind,
                    name: name.to_string(),
                    key: key.to_string(),
                    object: found.object,
                    at: found.at,
                };
                (value, origin)
            };
            if let Some(r) = &from.config_map_key_ref {
                by_key(SourceKind::ConfigMap, &r.name, &r.key, r.optional)
            } else if let Some(r) = &from.secret_key_ref {
                by_key(SourceKind::Secret, &r.name, &r.key, r.optional)
            } else {
                (EnvValue::Unknown, Origin::Runtime)
            }
        } else {
            (EnvValue::Known(String::new()), Origin::Literal)
        };
        if value != EnvValue::Unset {
            defined.insert(e.name.clone(), value.clone());
        }
        entries.push(EnvEntry {
            name: e.name.clone(),
            in_effect: value != EnvValue::Unset,
            value,
            origin,
            declared,
            maybe_overridden_by: Vec::new(),
        });
    }
    // A later entry of the same name that sets something replaces an
    // earlier one.
    for j in 0..entries.len() {
        let replaced = entries
            .iter()
            .skip(j + 1)
            .any(|later| entries.get(j).is_some_and(|e| later.name == e.name) && later.in_effect);
        if replaced && let Some(e) = entries.get_mut(j) {
            e.in_effect = false;
        }
    }

    // Step 3: the variables only envFrom defines, after the manifest's env.
    let declared = entries.len();
    for (name, (_, entry)) in from_sources {
        let overridden = entries
            .iter()
            .take(declared)
            .any(|e| e.name == name && e.value != EnvValue::Unset);
        if !overridden {
            entries.push(entry);
        }
    }
    ContainerEnv {
        container: c.name.clone(),
        pointer,
        entries,
        declared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Inputs, LoadOptions, load};

    /// The environment of the first container of the first workload.
    fn env_of(text: &str) -> (Loaded, ContainerEnv) {
        let loaded = load(&Inputs::new().text("t.yaml", text), &LoadOptions::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let (model, diags) = super::super::build(&loaded, crate::NetworkPlugin::Generic);
        assert!(diags.is_empty(), "{diags:?}");
        let object = model.workloads.first().map(|w| w.object.index()).unwrap();
        let env = model.env.of(object).first().cloned().unwrap();
        // What plugins get is exactly the entries.
        let wit_env: Vec<facts::EnvVar> = env.entries.iter().map(EnvEntry::fact).collect();
        let container = model
            .workloads
            .first()
            .and_then(|w| w.containers.first())
            .unwrap();
        assert_eq!(
            format!("{:?}", container.env),
            format!("{wit_env:?}"),
            "the wit list is the entries"
        );
        (loaded, env)
    }

    fn pod(env: &str, env_from: &str, rest: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: ns}}\nspec:\n  containers:\n  - name: c\n    image: i\n    env: {env}\n    envFrom: {env_from}\n{rest}"
        )
    }

    const CM: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: proxy, namespace: ns}\ndata:\n  HTTPS_PROXY: http://cm.example:3128\n  NO_PROXY: .svc\n  bad=name: x\nbinaryData:\n  BLOB: aGk=\n";

    fn values(env: &ContainerEnv) -> Vec<(String, Option<String>)> {
        env.entries
            .iter()
            .map(|e| (e.name.clone(), e.fact().value))
            .collect()
    }

    fn pairs(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn env_overrides_env_from_and_env_from_only_names_are_appended_sorted() {
        let (loaded, env) = env_of(&pod(
            "[{name: HTTPS_PROXY, value: http://squid:3128}]",
            "[{configMapRef: {name: proxy}}]",
            CM,
        ));
        // binaryData and names with `=` never become variables.
        assert_eq!(
            values(&env),
            pairs(&[
                ("HTTPS_PROXY", Some("http://squid:3128")),
                ("NO_PROXY", Some(".svc")),
            ])
        );
        assert_eq!(env.declared, 1);
        let no_proxy = &env.entries[1];
        assert_eq!(no_proxy.declared, "/spec/containers/0/envFrom/0");
        let Origin::Key {
            kind,
            name,
            key,
            at,
            ..
        } = &no_proxy.origin
        else {
            panic!("{no_proxy:?}")
        };
        assert_eq!(
            (*kind, name.as_str(), key.as_str()),
            (SourceKind::ConfigMap, "proxy", "NO_PROXY")
        );
        // The key's own line in the ConfigMap.
        let at = at.clone().unwrap();
        let line = loaded.files[0]
            .text
            .lines()
            .nth(at.line as usize - 1)
            .unwrap();
        assert!(line.trim_start().starts_with("NO_PROXY:"), "{line}");
    }

    #[test]
    fn the_last_env_from_source_wins_and_prefix_names_the_variables() {
        let other = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: ns}\ndata: {HTTPS_PROXY: http://other:1}\n";
        let (_, env) = env_of(&pod(
            "[]",
            "[{configMapRef: {name: proxy}}, {configMapRef: {name: other}}, {prefix: P_, configMapRef: {name: other}}]",
            &format!("{CM}{other}"),
        ));
        assert_eq!(
            values(&env),
            pairs(&[
                ("HTTPS_PROXY", Some("http://other:1")),
                ("NO_PROXY", Some(".svc")),
                ("P_HTTPS_PROXY", Some("http://other:1")),
            ])
        );
        assert_eq!(env.entries[0].declared, "/spec/containers/0/envFrom/1");
    }

    #[test]
    fn missing_objects_are_unknown_whether_optional_or_not() {
        let (_, env) = env_of(&pod(
            "[{name: A, valueFrom: {configMapKeyRef: {name: nowhere, key: A}}}, {name: B, valueFrom: {configMapKeyRef: {name: nowhere, key: B, optional: true}}}, {name: C, value: '$(UNDEFINED)'}]",
            "[{configMapRef: {name: proxy}}, {configMapRef: {name: absent, optional: true}}]",
            CM,
        ));
        assert_eq!(
            values(&env),
            pairs(&[
                ("A", None),
                ("B", None),
                // Perhaps defined by the missing source: kept as written,
                // as a value with an unresolved part.
                ("C", Some("$(UNDEFINED)")),
                ("HTTPS_PROXY", Some("http://cm.example:3128")),
                ("NO_PROXY", Some(".svc")),
            ])
        );
        assert_eq!(env.entries[0].value, EnvValue::Unknown);
        assert_eq!(env.entries[1].value, EnvValue::Unknown);
        assert_eq!(
            env.entries[2].value,
            EnvValue::Partial("$(UNDEFINED)".into())
        );
        // The known value is kept, and says what could override it.
        assert_eq!(env.entries[3].maybe_overridden_by, [1]);
    }

    #[test]
    fn optional_keys_absent_from_a_present_object_set_nothing() {
        let (_, env) = env_of(&pod(
            "[{name: HTTPS_PROXY, valueFrom: {configMapKeyRef: {name: proxy, key: MISSING, optional: true}}}, {name: B, valueFrom: {configMapKeyRef: {name: proxy, key: BLOB}}}]",
            "[{configMapRef: {name: proxy}}]",
            CM,
        ));
        // The optional miss sets nothing, so envFrom's value stays in
        // effect (appended); binaryData is not readable by configMapKeyRef.
        assert_eq!(
            values(&env),
            pairs(&[
                ("HTTPS_PROXY", None),
                ("B", None),
                ("HTTPS_PROXY", Some("http://cm.example:3128")),
                ("NO_PROXY", Some(".svc")),
            ])
        );
        assert_eq!(env.entries[0].value, EnvValue::Unset);
        assert!(!env.entries[0].in_effect);
        assert_eq!(env.entries[1].value, EnvValue::Unknown);
    }

    #[test]
    fn secrets_are_hidden_and_expansions_of_them_too() {
        let secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ns}\nstringData: {HTTPS_PROXY: 'http://user:hunter2@evil:3128'}\ndata: {TOKEN: aHVudGVyMg==}\n";
        let (_, env) = env_of(&pod(
            "[{name: T, valueFrom: {secretKeyRef: {name: creds, key: TOKEN}}}, {name: URL, value: 'http://$(T)@x'}]",
            "[{secretRef: {name: creds}}]",
            secret,
        ));
        assert_eq!(
            values(&env),
            pairs(&[
                ("T", None),
                ("URL", None),
                ("HTTPS_PROXY", None),
                ("TOKEN", None)
            ])
        );
        assert_eq!(env.entries[1].value, EnvValue::Secret);
        assert_eq!(env.entries[2].value, EnvValue::Secret);
        assert!(!format!("{env:?}").contains("hunter2"), "{env:?}");
    }

    #[test]
    fn duplicate_env_names_leave_the_later_one_in_effect() {
        let (_, env) = env_of(&pod(
            "[{name: A, value: one}, {name: B, value: '$(A)'}, {name: A, value: two}, {name: C, value: '$(A)'}]",
            "[]",
            "",
        ));
        assert_eq!(
            values(&env),
            pairs(&[
                ("A", Some("one")),
                ("B", Some("one")),
                ("A", Some("two")),
                ("C", Some("two")),
            ])
        );
        assert!(!env.entries[0].in_effect);
        assert!(env.entries[2].in_effect);
    }

    #[test]
    fn expansion_follows_kubernetes() {
        let vars: BTreeMap<String, EnvValue> = [
            ("A", EnvValue::Known("a".to_string())),
            ("S", EnvValue::Secret),
            ("U", EnvValue::Unknown),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let x = |s: &str| expand(s, &vars, |_| None);
        let known = |s: &str| EnvValue::Known(s.to_string());
        assert_eq!(x("$(A)"), known("a"));
        assert_eq!(x("x$(A)y$(A)"), known("xaya"));
        assert_eq!(x("$$(A)"), known("$(A)"));
        assert_eq!(x("$$$(A)"), known("$a"));
        assert_eq!(x("$(NOPE)"), known("$(NOPE)"));
        assert_eq!(x("$(A"), known("$(A"));
        assert_eq!(x("$(A $$"), known("$(A $"));
        assert_eq!(x("$A"), known("$A"));
        assert_eq!(x("a$"), known("a$"));
        assert_eq!(x("$()"), known("$()"));
        assert_eq!(x("€$é"), known("€$é"));
        assert_eq!(x("$(S)$(U)"), EnvValue::Secret);
        // Unknown references stay as written around what is known.
        assert_eq!(x("$(U)"), EnvValue::Partial("$(U)".into()));
        assert_eq!(
            x("h://e.x$(U)/$(A)"),
            EnvValue::Partial("h://e.x$(U)/a".into())
        );
        // Only earlier entries and envFrom count: a later definition does not.
        let (_, env) = env_of(&pod(
            "[{name: X, value: '$(LATER):$(NO_PROXY)'}, {name: LATER, value: l}]",
            "[{configMapRef: {name: proxy}}]",
            CM,
        ));
        assert_eq!(
            env.entries[0].fact().value.as_deref(),
            Some("$(LATER):.svc")
        );
    }

    #[test]
    fn doubling_references_stop_at_a_bounded_size() {
        // V{n} = $(V{n-1})$(V{n-1}): 2^40 bytes if nothing stopped it.
        let mut env = String::from("[{name: V0, value: xxxxxxxxxxxxxxxx}");
        for i in 1..=40 {
            env.push_str(&format!(
                ", {{name: V{i}, value: '$(V{p})$(V{p})'}}",
                p = i - 1
            ));
        }
        env.push(']');
        let (_, env) = env_of(&pod(&env, "[]", ""));
        let sizes: Vec<Option<usize>> = env
            .entries
            .iter()
            .map(|e| e.fact().value.map(|v| v.len()))
            .collect();
        // 16 · 2^12 = 64 KiB is the largest that fits; the next is
        // unknown, and those after it only repeat references to it.
        assert_eq!(sizes[12], Some(MAX_EXPANDED_BYTES));
        assert_eq!(sizes[13], None);
        assert!(
            sizes
                .iter()
                .all(|s| s.is_none_or(|s| s <= MAX_EXPANDED_BYTES)),
            "{sizes:?}"
        );
    }

    #[test]
    fn service_link_references_stay_as_written_and_runtime_fields_are_unknown() {
        let (_, env) = env_of(&pod(
            "[{name: P, value: 'http://$(SQUID_SERVICE_HOST):3128'}, {name: N, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]",
            "[]",
            "",
        ));
        assert_eq!(
            values(&env),
            pairs(&[
                ("P", Some("http://$(SQUID_SERVICE_HOST):3128")),
                ("N", None)
            ])
        );
        assert_eq!(
            env.entries[0].value,
            EnvValue::Partial("http://$(SQUID_SERVICE_HOST):3128".into())
        );
        assert_eq!(env.entries[1].origin, Origin::Runtime);
    }

    #[test]
    fn names_are_valid_as_kubernetes_1_34_has_them() {
        assert!(valid_name("HTTPS_PROXY"));
        assert!(valid_name("1.weird-name"));
        assert!(!valid_name(""));
        assert!(!valid_name("a=b"));
        assert!(!valid_name("tab\there"));
        assert!(!valid_name("é"));
    }
}
