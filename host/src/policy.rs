//! Policy sets: which plugins run, which of their rules are on, at what
//! severity, with which settings, which namespaces are out of scope, and the
//! roles of the intended shape (`roles.rs`: the proxy, cluster DNS, allowed
//! destinations, admins), declared once for every plugin.
//!
//! ```yaml
//! apiVersion: palisade.dev/v1alpha1
//! kind: PolicySet
//! metadata:
//!   name: default
//! spec:
//!   excludedNamespaces: [kube-system, kube-public, kube-node-lease]
//!   ignoreKinds: [cert-manager.io/Certificate]
//!   exemptions: ./exemptions.yaml        # relative to this file
//!   annotationExemptions: true           # honour palisade.dev/exempt (never on control paths)
//!   proxyConfigs: [../proxy/squid.conf]  # squid configurations checked with every input
//!   networkPlugin: cilium                # generic (default) | calico | cilium
//!   roles:                               # see roles.rs for every field
//!     proxy: {namespace: egress-proxy, podSelector: {app: squid}, ports: [3128]}
//!     admins: [{kind: Group, name: platform-admins}]
//!   plugins:
//!     - builtin: default-deny
//!       disabledRules: [NP002]
//!       severity: {NP001: warning}
//!       settings: {}
//!     - path: ./rules/custom.wasm        # relative to this file
//!       sha256: 3f1c...                  # required for path plugins
//!     - plugin: team-label               # by ID: the plugin given with
//!       settings: {label: owner}         #   --plugin FILE (development)
//! ```
//!
//! A `--plugin FILE` given on the command line takes the place of the entry
//! that names its ID (`plugin: ID`) or its file (`path:`, pin not checked),
//! with that entry's settings; otherwise it joins the set with defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::input::ConfigFile;
use crate::netpol::NetworkPlugin;
use crate::report::{Location, Severity};

/// The policy set embedded in the binary (`policies/default.yaml`).
pub(crate) const DEFAULT_POLICY: &str = include_str!("../../policies/default.yaml");

/// A parsed policy set.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) excluded_namespaces: Vec<String>,
    pub(crate) ignore_kinds: Vec<String>,
    /// A kind Palisade does not evaluate is an error.
    pub(crate) strict_kinds: bool,
    pub(crate) plugins: Vec<PluginEntry>,
    pub(crate) exemptions: Option<PathBuf>,
    pub(crate) annotation_exemptions: bool,
    /// Squid configurations checked with every input (relative to the
    /// policy file).
    pub(crate) proxy_configs: Vec<PathBuf>,
    /// How squid configurations are read: the release, known names.
    pub(crate) squid: crate::SquidOptions,
    /// Whose reading of NetworkPolicy's undefined corners applies.
    pub(crate) network_plugin: NetworkPlugin,
    /// The proxy, cluster DNS, allowed destinations and admins.
    pub(crate) roles: crate::roles::Roles,
    /// Where the cluster sits in the cloud network (`spec.cloud`).
    pub(crate) cloud: crate::cloud::bind::Binding,
}

/// Where a plugin of a policy set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PluginSource {
    Builtin(String),
    File {
        path: PathBuf,
        sha256: String,
    },
    /// `plugin: ID`: the plugin with this ID, given on the command line
    /// (`--plugin FILE`, unpinned, for development).
    Supplied(String),
}

/// One plugin of a policy set.
#[derive(Debug, Clone)]
pub(crate) struct PluginEntry {
    pub(crate) source: PluginSource,
    pub(crate) disabled_rules: Vec<String>,
    pub(crate) severity: BTreeMap<String, Severity>,
    pub(crate) settings: Value,
    /// Where the entry and its settings are written, for errors.
    pub(crate) location: Option<Location>,
    /// Where its `sha256` pin is written.
    pub(crate) pin_location: Option<Location>,
    pub(crate) settings_location: Option<Location>,
    /// Where each field of the settings is written (by JSON pointer inside
    /// the settings), for errors about one setting.
    pub(crate) settings_locations: BTreeMap<String, Location>,
}

/// Every JSON pointer inside `value`, with the pointer prefix `base`.
fn pointers(value: &Value, base: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{base}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(v, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{base}/{i}");
                out.push(p.clone());
                pointers(v, &p, out);
            }
        }
        _ => {}
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSet {
    api_version: String,
    kind: String,
    #[serde(default)]
    metadata: RawMetadata,
    #[serde(default)]
    spec: RawSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMetadata {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSpec {
    #[serde(default)]
    excluded_namespaces: Vec<String>,
    #[serde(default)]
    ignore_kinds: Vec<String>,
    #[serde(default)]
    strict_kinds: bool,
    #[serde(default)]
    plugins: Vec<RawPlugin>,
    #[serde(default)]
    exemptions: Option<String>,
    #[serde(default)]
    annotation_exemptions: Option<bool>,
    #[serde(default)]
    proxy_configs: Vec<String>,
    #[serde(default)]
    network_plugin: Option<String>,
    #[serde(default)]
    squid: RawSquid,
    #[serde(default)]
    roles: Option<Value>,
    #[serde(default)]
    cloud: Option<Value>,
}

/// `spec.squid`: the squid release the configurations run on, and names
/// whose addresses are known.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSquid {
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    hosts: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPlugin {
    builtin: Option<String>,
    plugin: Option<String>,
    path: Option<String>,
    sha256: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default)]
    settings: Option<Value>,
}

const API_VERSION: &str = "palisade.dev/v1alpha1";

/// Reads a typed section of the spec (`roles`, `cloud`) at `base`: a type
/// error, else the section's first problem beyond types, located at its
/// field.
fn section<T: serde::de::DeserializeOwned>(
    value: &Value,
    base: &str,
    what: &str,
    at: &dyn Fn(&str) -> Location,
    problems: fn(&T) -> Vec<(String, String)>,
) -> Result<T, Error> {
    let typed: T = crate::model::typed(value).map_err(|errors| {
        let (path, message) = errors.into_iter().next().unwrap_or_default();
        Error::at(
            ErrorKind::Policy,
            format!("{what}: {message}"),
            at(&format!("{base}{path}")),
        )
    })?;
    if let Some((path, message)) = problems(&typed).into_iter().next() {
        return Err(Error::at(
            ErrorKind::Policy,
            format!("{what}: {message}"),
            at(&format!("{base}{path}")),
        ));
    }
    Ok(typed)
}

/// Reads `spec.squid`, each problem at its field.
fn squid_options(
    raw: RawSquid,
    at: &dyn Fn(&str) -> Location,
) -> Result<crate::SquidOptions, Error> {
    let mut options = crate::SquidOptions::default();
    if let Some(v) = raw.version {
        // `version: 6` and `version: 5.7` are YAML numbers; `"6.13"` a string.
        // `version: 6` is a YAML integer; anything with a minor must be a
        // string: the float 6.10 would read as 6.1.
        let text = match &v {
            Value::String(s) => s.clone(),
            Value::Number(n) if n.is_u64() => n.to_string(),
            _ => {
                return Err(Error::at(
                    ErrorKind::Policy,
                    format!(
                        "write the squid version as a string (`\"{v}\"`): a YAML number loses trailing zeros"
                    ),
                    at("/spec/squid/version"),
                ));
            }
        };
        options.version = text
            .parse()
            .map_err(|m: String| Error::at(ErrorKind::Policy, m, at("/spec/squid/version")))?;
    }
    for (name, ips) in raw.hosts {
        let pointer = format!(
            "/spec/squid/hosts/{}",
            name.replace('~', "~0").replace('/', "~1")
        );
        for (i, ip) in ips.iter().enumerate() {
            let ip = ip.parse::<std::net::IpAddr>().map_err(|_| {
                Error::at(
                    ErrorKind::Policy,
                    format!("`{ip}` is not an IP address"),
                    at(&format!("{pointer}/{i}")),
                )
            })?;
            options
                .resolve(&name, ip)
                .map_err(|m| Error::at(ErrorKind::Policy, m, at(&pointer)))?;
        }
    }
    Ok(options)
}

impl PolicySet {
    /// The built-in default policy set.
    pub fn builtin_default() -> PolicySet {
        match PolicySet::parse("<builtin>/default.yaml", DEFAULT_POLICY) {
            Ok(set) => set,
            // The embedded file is checked by a unit test; an empty set is the
            // safest fallback and cannot be reached in a tested build.
            Err(_) => PolicySet::empty(),
        }
    }

    /// The same policy set without its plugins: its roles, namespaces,
    /// exemptions and squid options stay. For running only a plugin under
    /// development (`palisade check --only-plugins --plugin FILE.wasm`).
    pub fn without_plugins(mut self) -> PolicySet {
        self.plugins.clear();
        self
    }

    /// A policy set without plugins.
    pub fn empty() -> PolicySet {
        PolicySet {
            name: "empty".to_string(),
            dir: PathBuf::from("."),
            excluded_namespaces: Vec::new(),
            ignore_kinds: Vec::new(),
            strict_kinds: false,
            plugins: Vec::new(),
            exemptions: None,
            annotation_exemptions: true,
            proxy_configs: Vec::new(),
            squid: crate::SquidOptions::default(),
            network_plugin: NetworkPlugin::Generic,
            roles: crate::roles::Roles::default(),
            cloud: crate::cloud::bind::Binding::default(),
        }
    }

    /// Reads a policy set file. Relative plugin paths are resolved against
    /// the file's directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<PolicySet, Error> {
        let path = path.as_ref();
        let text = crate::fsutil::read_config(path, "policy set")?;
        let mut set = PolicySet::parse(&path.display().to_string(), &text)?;
        set.dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(set)
    }

    /// Parses a policy set from text; `name` is used in error locations.
    pub fn parse(name: &str, text: &str) -> Result<PolicySet, Error> {
        Self::from_config(&ConfigFile::parse(name, text)?)
    }

    /// A policy set from a parsed file, its errors located in that file.
    pub(crate) fn from_config(file: &ConfigFile) -> Result<PolicySet, Error> {
        let at = |pointer: &str| file.at(pointer);
        let raw: RawSet = serde_json::from_value(file.value().clone()).map_err(|e| {
            Error::at(
                ErrorKind::Policy,
                format!("invalid policy set: {e}"),
                at(""),
            )
        })?;
        if raw.api_version != API_VERSION || raw.kind != "PolicySet" {
            return Err(Error::at(
                ErrorKind::Policy,
                format!(
                    "expected `apiVersion: {API_VERSION}` and `kind: PolicySet`, found `{}` `{}`",
                    raw.api_version, raw.kind
                ),
                at("/apiVersion"),
            ));
        }
        let network_plugin = match raw.spec.network_plugin.as_deref() {
            None => NetworkPlugin::Generic,
            Some(name) => NetworkPlugin::parse(name).ok_or_else(|| {
                Error::at(
                    ErrorKind::Policy,
                    format!("unknown network plugin `{name}` (expected generic, calico or cilium)"),
                    at("/spec/networkPlugin"),
                )
            })?,
        };
        let mut plugins = Vec::new();
        for (n, p) in raw.spec.plugins.into_iter().enumerate() {
            let base = format!("/spec/plugins/{n}");
            let source = match (p.builtin, p.path, p.sha256) {
                (Some(b), None, None) if p.plugin.is_none() => PluginSource::Builtin(b),
                (None, None, None) if p.plugin.is_some() => {
                    PluginSource::Supplied(p.plugin.unwrap_or_default())
                }
                (None, Some(path), Some(sha)) if p.plugin.is_none() => {
                    let sha = sha.to_ascii_lowercase();
                    if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
                        return Err(Error::at(
                            ErrorKind::Policy,
                            "`sha256` must be 64 hexadecimal digits".to_string(),
                            at(&format!("{base}/sha256")),
                        ));
                    }
                    PluginSource::File {
                        path: PathBuf::from(path),
                        sha256: sha,
                    }
                }
                (None, Some(_), None) if p.plugin.is_none() => {
                    return Err(Error::at(
                        ErrorKind::Policy,
                        "a plugin given by `path` must be pinned with `sha256` (run `sha256sum` on the file)".to_string(),
                        at(&format!("{base}/path")),
                    ));
                }
                _ => {
                    return Err(Error::at(
                        ErrorKind::Policy,
                        "a plugin entry needs one of `builtin: NAME`, `path: FILE.wasm` with `sha256`, or `plugin: ID` (given with --plugin)".to_string(),
                        at(&base),
                    ));
                }
            };
            let mut severity = BTreeMap::new();
            for (rule, s) in p.severity {
                let Some(level) = Severity::parse(&s) else {
                    return Err(Error::at(
                        ErrorKind::Policy,
                        format!(
                            "unknown severity `{s}` for `{rule}` (expected info, warning or error)"
                        ),
                        at(&format!("{base}/severity/{rule}")),
                    ));
                };
                severity.insert(rule, level);
            }
            let settings = p.settings.unwrap_or(Value::Object(Default::default()));
            let mut inside = Vec::new();
            pointers(&settings, "", &mut inside);
            let settings_locations = inside
                .into_iter()
                .map(|p| {
                    let location = at(&format!("{base}/settings{p}"));
                    (p, location)
                })
                .collect();
            plugins.push(PluginEntry {
                source,
                disabled_rules: p.disabled_rules,
                severity,
                settings,
                location: Some(at(&base)),
                pin_location: Some(at(&format!("{base}/sha256"))),
                settings_location: Some(at(&format!("{base}/settings"))),
                settings_locations,
            });
        }
        let squid = squid_options(raw.spec.squid, &at)?;
        let roles = match raw.spec.roles {
            None => crate::roles::Roles::default(),
            Some(v) => section(
                &v,
                "/spec/roles",
                "invalid roles",
                &at,
                crate::roles::Roles::problems,
            )?,
        };
        let cloud = match raw.spec.cloud {
            None => crate::cloud::bind::Binding::default(),
            Some(v) => {
                let mut binding = section(
                    &v,
                    "/spec/cloud",
                    "invalid cloud binding",
                    &at,
                    crate::cloud::bind::Binding::problems,
                )?;
                for pointer in binding.pointers().into_iter().chain([String::new()]) {
                    let location = at(&format!("/spec/cloud{pointer}"));
                    binding.locations.insert(pointer, location);
                }
                binding
            }
        };
        Ok(PolicySet {
            cloud,
            squid,
            name: raw.metadata.name,
            dir: PathBuf::from("."),
            excluded_namespaces: raw.spec.excluded_namespaces,
            ignore_kinds: raw.spec.ignore_kinds,
            strict_kinds: raw.spec.strict_kinds,
            plugins,
            exemptions: raw.spec.exemptions.map(PathBuf::from),
            annotation_exemptions: raw.spec.annotation_exemptions.unwrap_or(true),
            proxy_configs: raw
                .spec
                .proxy_configs
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            network_plugin,
            roles,
        })
    }

    /// How the policy set reads squid configurations.
    pub fn squid_options(&self) -> &crate::SquidOptions {
        &self.squid
    }

    /// The policy set's `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Namespaces whose objects are not reported on.
    pub fn excluded_namespaces(&self) -> &[String] {
        &self.excluded_namespaces
    }

    /// `spec.networkPlugin`: whose reading of NetworkPolicy's undefined
    /// corners applies ([`NetworkPlugin::Generic`] when not set).
    pub fn network_plugin(&self) -> NetworkPlugin {
        self.network_plugin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let set = PolicySet::parse("default.yaml", DEFAULT_POLICY).unwrap();
        assert_eq!(set.name, "default");
        assert!(
            set.plugins
                .iter()
                .any(|p| p.source == PluginSource::Builtin("default-deny".into()))
        );
    }

    #[test]
    fn errors_point_into_the_file() {
        let text = "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  plugins:\n    - builtin: default-deny\n      severity: {NP001: fatal}\n";
        let err = PolicySet::parse("p.yaml", text).unwrap_err();
        assert_eq!(err.location().unwrap().to_string(), "p.yaml:6:18");
        assert!(err.to_string().contains("unknown severity `fatal`"));
    }

    #[test]
    fn path_plugins_must_be_pinned() {
        let text = "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  plugins:\n    - path: x.wasm\n";
        let err = PolicySet::parse("p.yaml", text).unwrap_err();
        assert!(err.to_string().contains("sha256"), "{err}");
        assert_eq!(err.location().unwrap().line, 5);
    }

    #[test]
    fn network_plugin_is_read_and_checked_in_place() {
        let head = "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n";
        let set = PolicySet::parse("p.yaml", &format!("{head}  ignoreKinds: []\n")).unwrap();
        assert_eq!(set.network_plugin(), NetworkPlugin::Generic);
        for (name, plugin) in [
            ("generic", NetworkPlugin::Generic),
            ("calico", NetworkPlugin::Calico),
            ("cilium", NetworkPlugin::Cilium),
        ] {
            let set =
                PolicySet::parse("p.yaml", &format!("{head}  networkPlugin: {name}\n")).unwrap();
            assert_eq!(set.network_plugin(), plugin);
        }
        let err = PolicySet::parse(
            "p.yaml",
            &format!("{head}  excludedNamespaces: []\n  networkPlugin: weave\n"),
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "unknown network plugin `weave` (expected generic, calico or cilium)"
        );
        assert_eq!(err.kind(), ErrorKind::Policy);
        assert_eq!(err.location().unwrap().to_string(), "p.yaml:5:3");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let text = "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  plugns: []\n";
        let err = PolicySet::parse("p.yaml", text).unwrap_err();
        assert!(err.to_string().contains("unknown field `plugns`"), "{err}");
    }

    #[test]
    fn squid_settings_are_read_and_checked_where_written() {
        let set = |squid: &str| {
            PolicySet::parse(
                "p.yaml",
                &format!(
                    "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  squid: {squid}\n"
                ),
            )
        };
        let ok =
            set("{version: \"5.7\", hosts: {Proxy.Internal: [10.0.0.5, \"fd00::5\"]}}").unwrap();
        assert_eq!(ok.squid_options().version.to_string(), "5.7");
        assert_eq!(ok.squid_options().hosts["proxy.internal"].len(), 2);
        assert_eq!(
            set("{version: 7}")
                .unwrap()
                .squid_options()
                .version
                .to_string(),
            "7"
        );
        for (bad, says) in [
            ("{version: 6.10}", "write the squid version as a string"),
            ("{version: \"4.17\"}", "not modelled"),
            (
                "{hosts: {proxy: [nonsense]}}",
                "`nonsense` is not an IP address",
            ),
            ("{hosts: {10.0.0.1: [10.0.0.2]}}", "is not a host name"),
            ("{versoin: 6}", "unknown field"),
        ] {
            let err = set(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(err.starts_with("p.yaml:"), "located: {err}");
        }
    }
}
