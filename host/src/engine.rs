//! The embedding API: [`Engine`] (runtime and limits), [`Plugin`] (a loaded,
//! sandboxed component and its rules) and [`Checker`] (a policy set ready to
//! check inputs).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::contract::{Evaluation, Facts};
use crate::error::{Error, ErrorKind};
use crate::input::{self, Inputs, LoadOptions};
use crate::model;
use crate::policy::{PluginEntry, PluginSource, PolicySet};
use crate::report::{Diagnostic, Finding, PluginFailure, Report, RuleInfo, Severity};
use crate::runtime::{Called, CompiledPlugin, Limits, LoadFailure, Runtime};
use crate::wit;

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// Default fuel of one plugin call: how many WebAssembly instructions it may
/// execute, host work for its queries included. The primary budget: the same
/// plugin on the same input gets the same verdict on every machine.
pub const DEFAULT_FUEL: u64 = 20_000_000_000;
/// Default wall-clock deadline of one plugin call: a backstop behind fuel,
/// for a host far slower than expected.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on a plugin's linear memory: 256 MiB.
pub const DEFAULT_MEMORY_BYTES: usize = 256 << 20;
/// Default cap on the findings one evaluation may return.
pub const DEFAULT_MAX_FINDINGS: usize = 10_000;
/// Default cap on the bytes of text one evaluation may return: 16 MiB.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 16 << 20;

/// Configures an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineBuilder {
    limits: Limits,
    cache_dir: Option<PathBuf>,
    metering: bool,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            limits: Limits {
                fuel: DEFAULT_FUEL,
                timeout: DEFAULT_TIMEOUT,
                memory_bytes: DEFAULT_MEMORY_BYTES,
                max_findings: DEFAULT_MAX_FINDINGS,
                max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
                objects: 0,
            },
            cache_dir: None,
            metering: true,
        }
    }
}

impl EngineBuilder {
    /// Instructions one plugin call may execute (wasmtime fuel), counting
    /// the host work its queries cause. Deterministic: unlike the deadline,
    /// it does not depend on the machine. Default: 2 × 10^10, about 3 s of
    /// plugin work on the development machine
    /// ([`DEFAULT_FUEL`]).
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.limits.fuel = fuel;
        self
    }

    /// Wall-clock deadline of one plugin call, enforced by epoch
    /// interruption in steps of 10 ms: a backstop behind [`fuel`](Self::fuel).
    /// Default: 60 s ([`DEFAULT_TIMEOUT`]), far beyond what the default
    /// fuel takes, so only a host many times slower reaches it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = timeout;
        self
    }

    /// Cap on a plugin's memory, in bytes: all its linear memories and
    /// tables together. Default: 256 MiB
    /// ([`DEFAULT_MEMORY_BYTES`]).
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.limits.memory_bytes = bytes;
        self
    }

    /// Cap on the number of findings one evaluation may return. Default:
    /// 10 000 ([`DEFAULT_MAX_FINDINGS`]).
    pub fn max_findings(mut self, n: usize) -> Self {
        self.limits.max_findings = n;
        self
    }

    /// Cap on the text (messages, paths, remediation) one evaluation may
    /// return, in bytes. Default: 16 MiB ([`DEFAULT_MAX_OUTPUT_BYTES`]).
    pub fn max_output_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_output_bytes = bytes;
        self
    }

    /// Directory for compiled plugins, so later runs skip compilation.
    /// Default: none (compile in every process). Its files are loaded as
    /// native code, so it is created mode 0700, and it is not used (see
    /// [`Engine::cache_warning`]) when it or an entry belongs to another user
    /// or others may write it; every entry is authenticated with a key kept
    /// in it. Never share it across trust boundaries (such as a CI cache
    /// that untrusted pull requests can write).
    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.cache_dir = dir;
        self
    }

    /// Turns fuel metering off: only to measure what metering costs
    /// (`palisade bench`). Without it, the fuel budget does not hold.
    #[doc(hidden)]
    pub fn without_fuel_metering(mut self) -> Self {
        self.metering = false;
        self
    }

    /// Builds the engine; rejects zero limits.
    pub fn build(self) -> Result<Engine, Error> {
        let l = &self.limits;
        if l.fuel == 0 || l.timeout.is_zero() || l.memory_bytes == 0 || l.max_output_bytes == 0 {
            return Err(Error::new(
                ErrorKind::Engine,
                "fuel, timeout, memory limit and output limit must be greater than zero",
            ));
        }
        let runtime = Runtime::new(self.cache_dir, self.metering)
            .map_err(|e| Error::new(ErrorKind::Engine, e))?;
        Ok(Engine {
            runtime: Arc::new(runtime),
            limits: self.limits,
        })
    }
}

/// Runs sandboxed policy plugins. Cheap to clone; clones share compiled
/// plugins.
#[derive(Debug, Clone)]
pub struct Engine {
    runtime: Arc<Runtime>,
    limits: Limits,
}

/// A loaded plugin: compiled, checked against the sandbox allowlist, and
/// described by its metadata.
#[derive(Debug, Clone)]
pub struct Plugin {
    /// The file it was read from (canonical), when it was loaded by
    /// [`Engine::load_plugin_file`].
    origin: Option<PathBuf>,
    id: String,
    version: String,
    description: String,
    rules: Vec<RuleInfo>,
    settings: Vec<crate::settings::Setting>,
    inner: Arc<CompiledPlugin>,
}

impl Plugin {
    /// The plugin's ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The plugin's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// What the plugin checks.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The plugin's rules.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// SHA-256 of the component, hex.
    pub fn sha256(&self) -> &str {
        &self.inner.sha256
    }
}

/// The IDs of the plugins built into this library.
pub fn builtin_plugins() -> impl Iterator<Item = &'static str> {
    BUILTIN_PLUGINS.iter().map(|(id, _)| *id)
}

impl Engine {
    /// An engine with default limits and no compile cache.
    pub fn new() -> Result<Engine, Error> {
        EngineBuilder::default().build()
    }

    /// Starts configuring an engine.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Why the configured cache directory is not used (it is not private to
    /// this user, or cannot be created); plugins are then compiled in memory.
    pub fn cache_warning(&self) -> Option<&str> {
        self.runtime.cache_warning()
    }

    /// Loads a plugin component from its bytes: compiles it (or takes it
    /// from the cache), rejects imports outside the sandbox allowlist and
    /// components of another world, and reads and checks its metadata (IDs,
    /// reserved names, sizes: see [`crate::RULE_ID_PATTERN`]).
    pub fn load_plugin(&self, bytes: &[u8]) -> Result<Plugin, Error> {
        self.load_given(bytes, None)
    }

    /// A plugin given by its bytes (not by a built-in's name), with their
    /// SHA-256 when the caller has it already.
    fn load_given(&self, bytes: &[u8], digest: Option<[u8; 32]>) -> Result<Plugin, Error> {
        // The built-in plugins' IDs are theirs alone: bytes identical to a
        // built-in plugin are that plugin, whatever path they came by.
        let builtin = BUILTIN_PLUGINS
            .iter()
            .find(|(_, b)| *b == bytes)
            .map(|(id, _)| *id);
        self.load(bytes, builtin, digest)
    }

    /// Loads a plugin component from a file, unpinned: for `--plugin`
    /// during development. A policy set's entry for the same file (or
    /// naming its ID with `plugin:`) takes this plugin, see
    /// [`Engine::checker`].
    pub fn load_plugin_file(&self, path: &std::path::Path) -> Result<Plugin, Error> {
        let bytes = crate::fsutil::read_limited(path).map_err(|e| {
            Error::new(
                ErrorKind::Plugin,
                format!("cannot read plugin `{}`: {e}", path.display()),
            )
        })?;
        let mut plugin = self
            .load_plugin(&bytes)
            .map_err(|e| Error::new(e.kind(), format!("plugin `{}`: {e}", path.display())))?;
        plugin.origin = std::fs::canonicalize(path).ok();
        Ok(plugin)
    }

    fn load(
        &self,
        bytes: &[u8],
        builtin: Option<&str>,
        digest: Option<[u8; 32]>,
    ) -> Result<Plugin, Error> {
        let compiled = self.runtime.load(bytes, digest).map_err(|f| match f {
            LoadFailure::Compile(m) => Error::new(
                ErrorKind::Plugin,
                format!("not a valid WebAssembly component: {m}"),
            ),
            LoadFailure::ForbiddenImport(names) => Error::new(
                ErrorKind::ForbiddenImport,
                format!(
                    "plugin imports {names}, which the sandbox does not provide (plugins may import only the `palisade:policy` interfaces and the WASI interfaces Rust's standard library requires; build Python and JavaScript plugins with WASI stubbed out: `componentize-py … --stub-wasi`, `componentize-js … -d stdio random clocks http fetch-event`)"
                ),
            ),
            LoadFailure::WrongWorld(m) => Error::new(
                ErrorKind::WrongWorld,
                format!("component does not implement the `palisade:policy/policy-plugin` world: {m}"),
            ),
            LoadFailure::Version(built, speaks) => Error::new(
                ErrorKind::ContractVersion,
                format!(
                    "plugin was built for palisade:policy@{built}, this host speaks palisade:policy@{speaks} (it runs plugins built for 0.2.0 up to {speaks}): rebuild the plugin against the `wit/` directory of this release"
                ),
            ),
        })?;
        let meta = compiled
            .call(&self.limits, None, |p, store| {
                p.palisade_policy_plugin().call_metadata(store)
            })
            .result;
        let meta = meta.map_err(|(cause, m)| {
            Error::new(
                ErrorKind::Plugin,
                format!(
                    "plugin failed while reporting its metadata ({}): {m}",
                    cause.as_str()
                ),
            )
        })?;
        let reserved: Vec<&str> = builtin_plugins().collect();
        crate::identity::check_metadata(&meta, builtin, &reserved)?;
        let settings = meta
            .settings
            .into_iter()
            .map(|s| crate::settings::Setting {
                name: s.name,
                kind: crate::settings::Kind::from_wit(s.type_),
                doc: s.doc,
            })
            .collect();
        let rules: Vec<RuleInfo> = meta
            .rules
            .into_iter()
            .map(|r| {
                RuleInfo::new(
                    r.id,
                    r.name,
                    severity_from_wit(r.default_severity),
                    r.summary,
                    r.doc,
                )
            })
            .collect();
        Ok(Plugin {
            origin: None,
            id: meta.id,
            version: meta.version,
            description: meta.description,
            rules,
            settings,
            inner: Arc::new(compiled),
        })
    }

    /// Loads a built-in plugin by ID.
    pub fn load_builtin(&self, id: &str) -> Result<Plugin, Error> {
        let Some((builtin, bytes)) = BUILTIN_PLUGINS.iter().find(|(b, _)| *b == id) else {
            let known: Vec<&str> = builtin_plugins().collect();
            return Err(Error::new(
                ErrorKind::Policy,
                format!(
                    "no built-in plugin `{id}` (built-in plugins: {})",
                    known.join(", ")
                ),
            ));
        };
        self.load(bytes, Some(builtin), None)
    }

    /// Checks `settings` (JSON) against the settings the plugin declares,
    /// then asks the plugin whether it accepts them.
    pub fn validate_settings(&self, plugin: &Plugin, settings: &str) -> Result<(), Error> {
        let value: serde_json::Value = serde_json::from_str(settings).map_err(|e| {
            Error::new(
                ErrorKind::InvalidSettings,
                format!("plugin `{}` settings are not JSON: {e}", plugin.id),
            )
        })?;
        crate::settings::check(&plugin.settings, &value).map_err(|(path, message)| {
            Error::new(
                ErrorKind::InvalidSettings,
                format!(
                    "plugin `{}` settings{}: {message}",
                    plugin.id,
                    if path.is_empty() {
                        String::new()
                    } else {
                        format!(" at `{path}`")
                    }
                ),
            )
        })?;
        self.ask_plugin_about_settings(plugin, settings)
    }

    /// The plugin's own `validate-settings`, for settings that already fit
    /// the declared ones.
    fn ask_plugin_about_settings(&self, plugin: &Plugin, settings: &str) -> Result<(), Error> {
        let result = plugin
            .inner
            .call(&self.limits, None, |p, store| {
                p.palisade_policy_plugin()
                    .call_validate_settings(store, settings)
            })
            .result;
        let result = result.map_err(|(cause, m)| {
            Error::new(
                ErrorKind::Plugin,
                format!(
                    "plugin `{}` failed while validating its settings ({}): {m}",
                    plugin.id,
                    cause.as_str()
                ),
            )
        })?;
        result.map_err(|m| {
            Error::new(
                ErrorKind::InvalidSettings,
                format!(
                    "plugin `{}` rejected its settings: {}",
                    plugin.id,
                    crate::render::escape::line(&m)
                ),
            )
        })
    }

    /// Loads every plugin of a policy set, validates its settings and returns
    /// a checker. `extra` plugins run with all rules on and empty settings.
    pub fn checker(&self, policy: &PolicySet, mut extra: Vec<Plugin>) -> Result<Checker, Error> {
        let mut plugins = policy
            .plugins
            .iter()
            .map(|entry| self.configure(policy, entry, &mut extra))
            .collect::<Result<Vec<_>, _>>()?;
        for plugin in extra {
            self.validate_settings(&plugin, "{}")?;
            let enabled = plugin.rules.iter().map(|r| r.id.clone()).collect();
            plugins.push(Configured {
                plugin,
                settings: "{}".to_string(),
                enabled,
                severity: BTreeMap::new(),
            });
        }
        unique_identities(&plugins)?;
        let exemptions = match &policy.exemptions {
            Some(path) => Some(crate::Exemptions::from_file(policy.dir.join(path))?),
            None => None,
        };
        Ok(Checker {
            engine: self.clone(),
            plugins,
            excluded_namespaces: policy.excluded_namespaces.clone(),
            load_options: LoadOptions {
                ignore_kinds: policy.ignore_kinds.clone(),
                strict_kinds: policy.strict_kinds,
                jobs: 1,
            },
            exemptions,
            baseline: None,
            jobs: std::thread::available_parallelism().map_or(1, usize::from),
            annotation_exemptions: policy.annotation_exemptions,
            proxy_configs: policy
                .proxy_configs
                .iter()
                .map(|p| policy.dir.join(p))
                .collect(),
            squid: policy.squid.clone(),
            today: crate::Date::today(),
            network_plugin: policy.network_plugin,
            roles: policy.roles.clone(),
            cloud: policy.cloud.clone(),
            log_progress: None,
        })
    }

    /// One plugin entry of a policy set: loaded (a file checked against its
    /// pinned SHA-256), settings validated, rule switches checked.
    /// An extra plugin (`--plugin`) takes the place of the entry naming its
    /// ID or its file, and is taken out of `extra`.
    fn configure(
        &self,
        policy: &PolicySet,
        entry: &PluginEntry,
        extra: &mut Vec<Plugin>,
    ) -> Result<Configured, Error> {
        let mut take = |is: &dyn Fn(&Plugin) -> bool| {
            let i = extra.iter().position(is)?;
            Some(extra.remove(i))
        };
        let plugin = match &entry.source {
            PluginSource::Builtin(id) => self.load_builtin(id),
            PluginSource::File { path, sha256 } => {
                let file = policy.dir.join(path);
                let canonical = std::fs::canonicalize(&file).ok();
                match take(&|p| canonical.is_some() && p.origin == canonical) {
                    Some(p) => Ok(p),
                    None => self.load_pinned(&file, sha256),
                }
            }
            PluginSource::Supplied(id) => take(&|p| p.id == *id).ok_or_else(|| {
                Error::new(
                    ErrorKind::Policy,
                    format!(
                        "plugin `{id}` is named by ID only: give its file with `--plugin FILE`"
                    ),
                )
            }),
        }
        .map_err(|e| {
            // A pin that no longer fits is located at the pin itself.
            let at = if e.kind() == ErrorKind::Checksum {
                entry.pin_location.clone()
            } else {
                entry.location.clone()
            };
            e.with_location(at)
        })?;
        let settings = entry.settings.to_string();
        // A setting of the wrong type is located at itself.
        if let Err((path, message)) = crate::settings::check(&plugin.settings, &entry.settings) {
            return Err(Error::new(
                ErrorKind::InvalidSettings,
                format!("plugin `{}` settings: {message}", plugin.id),
            )
            .with_location(
                entry
                    .settings_locations
                    .get(&path)
                    .cloned()
                    .or_else(|| entry.settings_location.clone()),
            ));
        }
        self.ask_plugin_about_settings(&plugin, &settings)
            .map_err(|e| e.with_location(entry.settings_location.clone()))?;
        for rule in entry.disabled_rules.iter().chain(entry.severity.keys()) {
            if !plugin.rules.iter().any(|r| r.id == *rule) {
                return Err(Error::new(
                    ErrorKind::Policy,
                    format!("plugin `{}` has no rule `{rule}`", plugin.id),
                )
                .with_location(entry.location.clone()));
            }
        }
        let enabled = plugin
            .rules
            .iter()
            .filter(|r| !entry.disabled_rules.contains(&r.id))
            .map(|r| r.id.clone())
            .collect();
        Ok(Configured {
            plugin,
            settings,
            enabled,
            severity: entry.severity.clone(),
        })
    }

    /// A plugin file whose SHA-256 must be `sha256`.
    fn load_pinned(&self, path: &std::path::Path, sha256: &str) -> Result<Plugin, Error> {
        let bytes = crate::fsutil::read_limited(path).map_err(|e| {
            Error::new(
                ErrorKind::Plugin,
                format!("cannot read plugin `{}`: {e}", path.display()),
            )
        })?;
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        let actual = crate::cache::hex(&digest);
        if actual != sha256 {
            return Err(Error::new(
                ErrorKind::Checksum,
                format!(
                    "plugin `{}` has sha256 {actual}, but its pin is {sha256} (if it was rebuilt on purpose, update the pin)",
                    path.display()
                ),
            ));
        }
        self.load_given(&bytes, Some(digest))
    }
}

/// Plugin IDs, and rule IDs across plugins, are unique.
fn unique_identities(plugins: &[Configured]) -> Result<(), Error> {
    let mut seen: Vec<&str> = Vec::new();
    let mut rule_owner: BTreeMap<&str, &str> = BTreeMap::new();
    for c in plugins {
        if seen.contains(&c.plugin.id.as_str()) {
            return Err(Error::new(
                ErrorKind::Policy,
                format!("plugin `{}` is loaded twice", c.plugin.id),
            ));
        }
        seen.push(&c.plugin.id);
        for r in &c.plugin.rules {
            if let Some(owner) = rule_owner.insert(&r.id, &c.plugin.id) {
                return Err(Error::new(
                    ErrorKind::Policy,
                    format!(
                        "plugins `{owner}` and `{}` both declare rule `{}`: rule IDs must be unique across the loaded plugins",
                        c.plugin.id, r.id
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
struct Configured {
    plugin: Plugin,
    settings: String,
    enabled: Vec<String>,
    severity: BTreeMap<String, Severity>,
}

/// A policy set with its plugins loaded: checks inputs.
#[derive(Debug, Clone)]
pub struct Checker {
    engine: Engine,
    plugins: Vec<Configured>,
    excluded_namespaces: Vec<String>,
    load_options: LoadOptions,
    exemptions: Option<crate::Exemptions>,
    baseline: Option<crate::Baseline>,
    /// Threads plugins are evaluated on.
    jobs: usize,
    annotation_exemptions: bool,
    today: crate::Date,
    proxy_configs: Vec<std::path::PathBuf>,
    squid: crate::SquidOptions,
    network_plugin: crate::NetworkPlugin,
    roles: crate::roles::Roles,
    cloud: crate::cloud::bind::Binding,
    log_progress: Option<LogProgress>,
}

/// Hears how far the access logs have been read: (bytes read, bytes in
/// all).
#[derive(Clone)]
struct LogProgress(Arc<dyn Fn(u64, u64) + Send + Sync>);

impl std::fmt::Debug for LogProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogProgress")
    }
}

impl Checker {
    /// Calls `progress` with (bytes read, bytes in all) while access logs
    /// stream (every 16 MiB and at the end of each log): for a progress
    /// bar.
    pub fn with_log_progress(
        mut self,
        progress: impl Fn(u64, u64) + Send + Sync + 'static,
    ) -> Checker {
        self.log_progress = Some(LogProgress(Arc::new(progress)));
        self
    }

    /// Uses `exemptions` (replacing any the policy set names).
    pub fn with_exemptions(mut self, exemptions: crate::Exemptions) -> Checker {
        self.exemptions = Some(exemptions);
        self
    }

    /// Evaluates plugins on up to `jobs` threads (default: the processors
    /// available). The report is the same whatever the number.
    pub fn with_jobs(mut self, jobs: usize) -> Checker {
        self.jobs = jobs.max(1);
        self
    }

    /// Takes out findings the baseline accepts (known before), in the same
    /// stage as exemptions; they stay in `Report::baselined`.
    pub fn with_baseline(mut self, baseline: crate::Baseline) -> Checker {
        self.baseline = Some(baseline);
        self
    }

    /// Makes a kind Palisade does not evaluate (a custom resource) an
    /// error, as the policy set's `strictKinds` does (default: such objects
    /// are accepted and counted in `Summary::not_evaluated`).
    pub fn with_strict_kinds(mut self, strict: bool) -> Checker {
        self.load_options.strict_kinds = strict;
        self
    }

    /// Judges exemption expiry as of `today` (default: the system date, UTC).
    pub fn with_today(mut self, today: crate::Date) -> Checker {
        self.today = today;
        self
    }

    /// The loaded plugins, in policy-set order.
    pub fn plugins(&self) -> impl Iterator<Item = &Plugin> {
        self.plugins.iter().map(|c| &c.plugin)
    }

    /// Every rule: each loaded plugin's, then the host's own (`PAL…`,
    /// about exemptions and traffic objects it does not model), as
    /// (plugin ID, rule).
    pub fn rules(&self) -> Vec<(String, RuleInfo)> {
        let mut out: Vec<(String, RuleInfo)> = self
            .plugins
            .iter()
            .flat_map(|c| {
                c.plugin
                    .rules
                    .iter()
                    .map(|r| (c.plugin.id.clone(), r.clone()))
            })
            .collect();
        out.extend(
            crate::exempt::host_rules()
                .into_iter()
                .chain([crate::traffic::rule()])
                .map(|r| ("palisade".to_string(), r)),
        );
        out
    }

    /// Loads the inputs, builds the model and evaluates every plugin. Never
    /// fails as a whole: unreadable inputs and failing plugins are
    /// diagnostics in the report, and everything else is still evaluated.
    pub fn check(&self, inputs: &Inputs) -> Report {
        // load → model → facts
        let prepared = self.prepare(inputs);
        // evaluate
        let evaluated = self.evaluate_all(&prepared);
        // suppress: exemptions (file and annotations), then the baseline
        let suppressed = self.suppress(evaluated.findings, &prepared.loaded);
        // report
        self.report(prepared, evaluated.diagnostics, evaluated.log, suppressed)
    }

    /// Every plugin on the shared facts, then the host's own traffic
    /// findings; findings on excluded namespaces are dropped here, for every
    /// plugin, whether or not it reads the policy set's list.
    fn evaluate_all(&self, prepared: &Prepared) -> Evaluated {
        let mut out = Evaluated::default();
        let calls = self.run_plugins(&prepared.facts);
        for (c, Called { result, log, .. }) in self.plugins.iter().zip(calls) {
            out.log
                .extend(log.into_iter().map(|line| (c.plugin.id.clone(), line)));
            match result {
                Ok(findings) => out.findings.extend(
                    findings
                        .into_iter()
                        .map(|f| self.finding(c, f, &prepared.loaded, &prepared.facts.model.env))
                        .filter(|f| !self.excluded(&f.object)),
                ),
                Err((cause, message)) => out.diagnostics.push(Diagnostic::plugin(
                    &c.plugin.id,
                    cause,
                    format!("plugin `{}` {message}", c.plugin.id),
                )),
            }
        }
        out.findings.extend(crate::traffic::findings(
            &prepared.loaded,
            &self.excluded_namespaces,
        ));
        out
    }

    /// Every plugin's evaluation, in policy-set order, on up to `jobs`
    /// threads. Each call has its own store, fuel and memory, and the
    /// facts are shared read-only (converted once, whichever thread asks
    /// first), so the results do not depend on the thread count.
    fn run_plugins(&self, facts: &Arc<Facts>) -> Vec<Called<Vec<wit::Finding>>> {
        let limits = &self.engine.limits.for_objects(facts.model.objects.len());
        crate::parallel::map(self.plugins.len(), self.jobs, |i| {
            self.plugins.get(i).map(|c| self.evaluate(c, facts, limits))
        })
        .into_iter()
        .map(|called| {
            called.flatten().unwrap_or_else(|| Called {
                result: Err((
                    PluginFailure::Trap,
                    "was not evaluated: its evaluation thread failed".to_string(),
                )),
                log: Vec::new(),
                fuel: 0,
            })
        })
        .collect()
    }

    /// The report: the check's diagnostics, the findings left after
    /// suppression, the counts and the texts renderers quote.
    fn report(
        &self,
        prepared: Prepared,
        diagnostics: Vec<Diagnostic>,
        log: Vec<(String, String)>,
        suppressed: Suppressed,
    ) -> Report {
        let Prepared {
            loaded,
            diagnostics: input_diagnostics,
            ..
        } = prepared;
        let mut report = Report {
            findings: suppressed.kept,
            exempted: suppressed.exempted,
            baselined: suppressed.baselined,
            diagnostics: input_diagnostics,
            plugin_log: log,
            ..Report::default()
        };
        report.diagnostics.extend(diagnostics);
        report.rules = self.rules();
        report.summary.files = loaded.files.len();
        report.summary.objects = loaded.objects.len();
        report.summary.not_evaluated = loaded.not_evaluated.clone();
        report.not_evaluated = loaded.unevaluated.clone();
        report.summary.plugins = self.plugins.len();
        report.summary.baselined = report.baselined.len();
        report.summary.baseline_stale = suppressed.baseline_stale;
        report.sources = loaded
            .files
            .iter()
            .map(|f| (f.name.clone(), f.text.clone()))
            .collect();
        if let Some(ex) = &self.exemptions {
            let (name, text) = ex.source();
            report.sources.insert(name, text);
        }
        report.finish();
        report
    }

    /// Whether an object is in a namespace the policy set excludes (a
    /// Namespace object by its own name). RBAC objects never are: who may
    /// do what, even inside kube-system, is a control path whatever the
    /// namespace (a binding there can hand its tokens and Secrets to
    /// everyone).
    fn excluded(&self, object: &crate::report::ObjectRef) -> bool {
        if object.api_version.starts_with("rbac.authorization.k8s.io/") {
            return false;
        }
        let namespace = match (&object.namespace, object.kind.as_str()) {
            (Some(ns), _) => ns,
            (None, "Namespace") if object.api_version == "v1" => &object.name,
            (None, _) => return false,
        };
        self.excluded_namespaces.contains(namespace)
    }

    /// Suppression, in one stage: the exemptions file and
    /// `palisade.dev/exempt` annotations (with the host's `PAL` findings
    /// about them), then the baseline.
    fn suppress(&self, findings: Vec<Finding>, loaded: &input::Loaded) -> Suppressed {
        let mut facts = BTreeMap::new();
        for o in &loaded.objects {
            let labels = model::labels_at(&o.value, &["metadata", "labels"]);
            let annotation = o
                .value
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(crate::EXEMPT_ANNOTATION))
                .map(|v| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    let at = loaded.locate(o, Some("/metadata/annotations/palisade.dev~1exempt"));
                    (text, at)
                });
            facts.insert(
                o.id.clone(),
                crate::exempt::ObjectFacts {
                    labels,
                    exempt_annotation: annotation,
                },
            );
        }
        let applied = crate::exempt::apply(
            findings,
            self.exemptions.as_ref(),
            self.annotation_exemptions,
            self.today,
            &facts,
        );
        let (kept, baselined, baseline_stale) = match &self.baseline {
            Some(b) => b.split(applied.kept),
            None => (applied.kept, Vec::new(), 0),
        };
        Suppressed {
            kept,
            exempted: applied.exempted,
            baselined,
            baseline_stale,
        }
    }

    /// `palisade path`: whether a workload reaches a destination directly,
    /// only through the proxy, or not at all, with the hop and `file:line`
    /// that decides at each layer (NetworkPolicies, squid, the cloud
    /// network the policy set places the cluster in). Problems with the
    /// inputs come back with the report: a path over broken inputs is not
    /// an answer.
    pub fn path(
        &self,
        inputs: &Inputs,
        query: &crate::path::PathQuery,
    ) -> Result<(crate::path::PathReport, Vec<Diagnostic>), Error> {
        let prepared = self.prepare(inputs);
        let analysis = crate::NetworkAnalysis::with_network_plugin(inputs, self.network_plugin);
        let facts = crate::path::PathFacts {
            loaded: &prepared.loaded,
            facts: &prepared.facts,
            analysis: &analysis,
        };
        let report = crate::path::trace(&facts, query)?;
        Ok((report, prepared.diagnostics))
    }

    /// `palisade proxy audit`: the check of `inputs` (access logs among
    /// them, with the manifests or pod lists that place their clients),
    /// with what the logs show per client beside its report.
    pub fn audit(&self, inputs: &Inputs) -> crate::audit::Audit {
        let prepared = self.prepare(inputs);
        let attributor = crate::proxylog::attribute::Attributor::new(
            &prepared.facts.model,
            &prepared.facts.roles,
        );
        let clients = crate::audit::clients(&prepared.logs.observed, &attributor);
        let logs = prepared.logs.logs.clone();
        let evaluated = self.evaluate_all(&prepared);
        let suppressed = self.suppress(evaluated.findings, &prepared.loaded);
        let report = self.report(prepared, evaluated.diagnostics, evaluated.log, suppressed);
        crate::audit::Audit {
            logs,
            clients,
            report,
        }
    }

    /// `palisade proxy replay`: every request of the access logs among
    /// `inputs`, evaluated against `new` and against `old` (else squid's
    /// logged verdict); the requests whose verdict changes, by client and
    /// destination. Input problems come back beside it.
    pub fn replay(
        &self,
        inputs: &Inputs,
        new: &crate::ProxyConfig,
        old: Option<&crate::ProxyConfig>,
    ) -> (crate::audit::ReplayReport, Vec<Diagnostic>) {
        let prepared = self.prepare_with(inputs, false);
        let mut diagnostics = prepared.diagnostics.clone();
        let attributor = crate::proxylog::attribute::Attributor::new(
            &prepared.facts.model,
            &prepared.facts.roles,
        );
        let mut replay =
            crate::proxylog::replay::Replay::new(new.parsed(), old.map(|o| o.parsed()));
        let (logs, problems) = crate::proxylog::for_each_log(
            &prepared.loaded,
            &[new.parsed()],
            &mut |_, _| {},
            |log, r, line| replay.add(r, log, line),
        );
        diagnostics.extend(problems);
        (
            crate::audit::replay_report(replay, logs, &attributor),
            diagnostics,
        )
    }

    /// Loads inputs and computes the facts every plugin of the check shares.
    fn prepare(&self, inputs: &Inputs) -> Prepared {
        self.prepare_with(inputs, true)
    }

    /// [`Checker::prepare`], reading the access logs or not.
    fn prepare_with(&self, inputs: &Inputs, read_logs: bool) -> Prepared {
        let mut inputs = inputs.clone();
        for p in &self.proxy_configs {
            inputs = inputs.squid_config(p);
        }
        let options = LoadOptions {
            jobs: self.jobs,
            ..self.load_options.clone()
        };
        let mut loaded = input::load(&inputs, &options);
        let (mut model, model_diags) = model::build(&loaded, self.network_plugin);
        crate::netpol::flows::resolve(&mut model, self.network_plugin);
        let (rbac, rbac_diags) = crate::rbac::Rbac::build(&loaded.objects, true, &loaded);
        let (proxies, proxy_diags) =
            crate::squid::Proxies::collect(&mut loaded, crate::squid::Files::of, &self.squid);
        let mut diagnostics = loaded.diagnostics.clone();
        diagnostics.extend(model_diags);
        diagnostics.extend(rbac_diags);
        diagnostics.extend(proxy_diags);
        let roles = self.roles.resolve(&model);
        let configs: Vec<&crate::squid::SquidConfig> =
            proxies.configs.iter().map(|(c, _, _)| c).collect();
        let (logs, log_diags) = if read_logs {
            let progress = self.log_progress.clone();
            crate::proxylog::collect(&loaded, &configs, &mut |done, total| {
                if let Some(p) = &progress {
                    (p.0)(done, total);
                }
            })
        } else {
            Default::default()
        };
        diagnostics.extend(log_diags);
        let (network, cloud_diags) = crate::cloud::collect(&loaded);
        let (placements, binding_diags) = self.cloud.resolve(&network);
        diagnostics.extend(cloud_diags);
        diagnostics.extend(binding_diags);
        let facts = Facts::new(
            model,
            rbac,
            proxies,
            roles,
            self.excluded_namespaces.clone(),
        )
        .with_cloud(network, placements)
        .with_observed(&logs);
        Prepared {
            loaded,
            logs,
            facts: Arc::new(facts),
            diagnostics,
        }
    }

    /// Benchmark support for `palisade bench`: per plugin, the median time
    /// of one evaluation (fresh store and instance, the facts it asks for,
    /// lifting and checking the findings) over `iterations` runs, and the
    /// fuel it used.
    #[doc(hidden)]
    pub fn time_evaluations(
        &self,
        inputs: &Inputs,
        iterations: usize,
    ) -> Vec<(String, Duration, u64)> {
        let prepared = self.prepare(inputs);
        let mut out = Vec::new();
        for c in &self.plugins {
            let mut fuel = 0;
            let mut times: Vec<Duration> = (0..iterations.max(1))
                .map(|_| {
                    let start = std::time::Instant::now();
                    let limits = self
                        .engine
                        .limits
                        .for_objects(prepared.facts.model.objects.len());
                    fuel = self.evaluate(c, &prepared.facts, &limits).fuel;
                    start.elapsed()
                })
                .collect();
            times.sort();
            out.push((
                c.plugin.id.clone(),
                times.get(times.len() / 2).copied().unwrap_or_default(),
                fuel,
            ));
        }
        out
    }

    /// One evaluation under `limits`, with the output checked against the
    /// contract.
    fn evaluate(
        &self,
        c: &Configured,
        facts: &Arc<Facts>,
        limits: &Limits,
    ) -> Called<Vec<wit::Finding>> {
        let evaluation = Arc::new(Evaluation {
            facts: facts.clone(),
            settings: c.settings.clone(),
            enabled_rules: c.enabled.clone(),
        });
        let called = c.plugin.inner.call(limits, Some(evaluation), |p, store| {
            p.palisade_policy_plugin().call_evaluate(store)
        });
        let objects = facts.model.objects.len();
        Called {
            result: called.result.and_then(|r| self.check_output(c, objects, r)),
            log: called.log,
            fuel: called.fuel,
        }
    }

    /// Checks a plugin's output against the limits and the contract.
    fn check_output(
        &self,
        c: &Configured,
        objects: usize,
        result: Result<Vec<wit::Finding>, wit::PluginError>,
    ) -> Result<Vec<wit::Finding>, (PluginFailure, String)> {
        let limits = &self.engine.limits;
        let findings = result.map_err(|e| {
            (
                PluginFailure::PluginError,
                format!("reported an error: {}", e.message),
            )
        })?;
        if findings.len() > limits.max_findings {
            return Err((
                PluginFailure::OutputLimit,
                format!(
                    "returned {} findings, more than the limit of {}",
                    findings.len(),
                    limits.max_findings
                ),
            ));
        }
        let bytes: usize = findings
            .iter()
            .map(|f| {
                f.rule.len()
                    + f.message.len()
                    + match &f.at {
                        wit::Location::Field(p) => p.len(),
                        wit::Location::Object | wit::Location::Line(_) => 0,
                    }
                    + f.remediation.as_ref().map_or(0, String::len)
            })
            .sum();
        if bytes > limits.max_output_bytes {
            return Err((
                PluginFailure::OutputLimit,
                format!(
                    "returned {bytes} bytes of findings, more than the limit of {}",
                    limits.max_output_bytes
                ),
            ));
        }
        let mut kept = Vec::with_capacity(findings.len());
        for f in findings {
            if !c.plugin.rules.iter().any(|r| r.id == f.rule) {
                return Err((
                    PluginFailure::MalformedOutput,
                    format!("returned a finding for undeclared rule `{}`", f.rule),
                ));
            }
            if f.object as usize >= objects {
                return Err((
                    PluginFailure::MalformedOutput,
                    format!(
                        "returned a finding about object {} but the inputs have {objects} objects",
                        f.object,
                    ),
                ));
            }
            if let wit::Location::Field(p) = &f.at
                && !(p.is_empty() || p.starts_with('/'))
            {
                return Err((
                    PluginFailure::MalformedOutput,
                    format!("returned a field path `{p}` that is not a JSON pointer"),
                ));
            }
            if c.enabled.contains(&f.rule) {
                kept.push(f);
            }
        }
        Ok(kept)
    }

    /// A plugin's finding as the report has it: located through the
    /// position maps, or, for a container variable whose value comes from a
    /// ConfigMap key, at that key with the workload as related location
    /// (`model::env::EnvFacts::relocate`, the one place that decides it).
    fn finding(
        &self,
        c: &Configured,
        f: wit::Finding,
        loaded: &input::Loaded,
        env: &model::env::EnvFacts,
    ) -> Finding {
        let object = loaded.objects.get(f.object as usize);
        // Inside the host a line of a proxy configuration is the path
        // `/lines/<n>`, which `Loaded::locate` resolves.
        let path = match f.at {
            wit::Location::Object => None,
            wit::Location::Field(p) => Some(p),
            wit::Location::Line(n) => Some(format!("/lines/{n}")),
        };
        let relocated = path
            .as_deref()
            .and_then(|p| env.relocate(loaded, f.object as usize, p));
        let (location, related, path) = match relocated {
            Some(r) => (r.location, r.related.into_iter().collect(), r.path.or(path)),
            None => (
                object.and_then(|o| loaded.locate(o, path.as_deref())),
                Vec::new(),
                path,
            ),
        };
        let severity = c
            .severity
            .get(&f.rule)
            .copied()
            .unwrap_or_else(|| severity_from_wit(f.severity));
        let object = object
            .map(|o| o.id.clone())
            .unwrap_or_else(|| crate::report::ObjectRef {
                api_version: String::new(),
                kind: String::new(),
                namespace: None,
                name: String::new(),
            });
        let mut finding = Finding::new(&c.plugin.id, f.rule, severity, f.message, object);
        finding.location = location;
        finding.path = path;
        finding.remediation = f.remediation;
        finding.related = related;
        finding
    }
}

/// What evaluating every plugin gave.
#[derive(Debug, Default)]
struct Evaluated {
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    /// (plugin ID, `level: message`).
    log: Vec<(String, String)>,
}

/// What suppression left, and what it took out.
#[derive(Debug)]
struct Suppressed {
    kept: Vec<Finding>,
    exempted: Vec<crate::Exempted>,
    baselined: Vec<Finding>,
    baseline_stale: usize,
}

/// Everything a check needs before any plugin runs.
struct Prepared {
    loaded: input::Loaded,
    /// The access logs, read (what `audit` tabulates).
    logs: crate::proxylog::Logs,
    /// The facts, with each container's environment and its provenance
    /// (`model.env`) for locating findings.
    facts: Arc<Facts>,
    diagnostics: Vec<Diagnostic>,
}

fn severity_from_wit(s: wit::Severity) -> Severity {
    match s {
        wit::Severity::Info => Severity::Info,
        wit::Severity::Warning => Severity::Warning,
        wit::Severity::Error => Severity::Error,
    }
}
