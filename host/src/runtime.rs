//! The sandboxed WebAssembly runtime: compiling (and caching) plugin
//! components, checking what they import, and running one evaluation under
//! its limits.
//!
//! INVARIANT: plugin code runs only inside a `Store` that has an epoch
//! deadline and a memory limiter. Every call into a plugin goes through
//! [`CompiledPlugin::call`], which sets both.
//!
//! INVARIANT: a plugin has no ambient authority. Its host functions are the
//! contract's (`facts`, `ports`, `log`: facts about the inputs, computed by
//! the host); the WASI imports that Rust's standard library wires in are
//! defined as traps, except `wasi:random/insecure-seed`, which returns a
//! constant. Anything else it imports is rejected at load, naming the
//! import.
//!
//! INVARIANT: a plugin built against another version of the contract than
//! one this host speaks (`CONTRACT_VERSION`, and every earlier patch
//! release of its minor version) is refused at load with both versions
//! named, before anything is linked.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, ResourceLimiter, Store, Trap};

use crate::cache::{DiskCache, EntryId};
use crate::contract::{Evaluation, Session};
use crate::report::PluginFailure;

/// The contract version this host speaks. Plugins built against
/// `0.2.0 ..= CONTRACT_VERSION` load (wasmtime links `0.2.x` imports and
/// exports to the host's `0.2.z` ones when x ≤ z).
pub(crate) const CONTRACT_VERSION: (u64, u64, u64) = (0, 2, 3);

use crate::wit::Level;
use crate::wit::bindings;

/// How often the epoch ticks; deadlines are rounded up to a whole tick.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The limits of one plugin evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Instructions (wasmtime fuel) one call may execute: the deterministic
    /// budget, the same on every machine.
    pub(crate) fuel: u64,
    /// Wall-clock backstop: only reached when the host is far slower than
    /// expected, or blocked.
    pub(crate) timeout: Duration,
    pub(crate) memory_bytes: usize,
    pub(crate) max_findings: usize,
    pub(crate) max_output_bytes: usize,
    /// The objects the budget was grown for (`Limits::for_objects`).
    pub(crate) objects: usize,
}

/// What an evaluation's budget grows by, per object of the inputs: a large
/// input is never cut off by a constant meant for a small one.
/// 2 000 000 fuel is about 80 times what the built-in plugins spend per
/// object at 50 000 objects, and 1.6 times what the JavaScript example
/// (`plugins/examples/proxy-clients`, interpreted by StarlingMonkey) spends
/// per object of a generated cluster; 2 ms and 4 KiB likewise leave room
/// for the facts a plugin asks for and the wall clock of a busy machine.
pub(crate) const FUEL_PER_OBJECT: u64 = 2_000_000;
pub(crate) const DEADLINE_PER_OBJECT: Duration = Duration::from_millis(2);
pub(crate) const MEMORY_PER_OBJECT: usize = 4 << 10;

impl Limits {
    /// The limits of an evaluation over `objects` objects: the configured
    /// ones (what an empty input gets), plus the per-object allowances.
    pub(crate) fn for_objects(&self, objects: usize) -> Limits {
        let n = objects as u64;
        Limits {
            fuel: self.fuel.saturating_add(FUEL_PER_OBJECT.saturating_mul(n)),
            timeout: self.timeout.saturating_add(
                DEADLINE_PER_OBJECT.saturating_mul(u32::try_from(objects).unwrap_or(u32::MAX)),
            ),
            memory_bytes: self
                .memory_bytes
                .saturating_add(MEMORY_PER_OBJECT.saturating_mul(objects)),
            objects,
            ..*self
        }
    }

    /// The fuel, for messages: `400000000`, or
    /// `400000000 + 2000000 × 12 objects = 424000000` when it grew with
    /// the input.
    fn fuel_text(&self) -> String {
        match self.objects {
            0 => self.fuel.to_string(),
            n => format!(
                "{} + {FUEL_PER_OBJECT} × {n} objects = {}",
                self.fuel
                    .saturating_sub(FUEL_PER_OBJECT.saturating_mul(n as u64)),
                self.fuel
            ),
        }
    }

    /// The deadline, for messages, as `fuel_text` says it.
    fn deadline_text(&self) -> String {
        let total = self.timeout.as_millis();
        match self.objects {
            0 => format!("{total} ms"),
            n => {
                let per = DEADLINE_PER_OBJECT.as_millis();
                let grown = per.saturating_mul(n as u128);
                format!(
                    "{} ms + {per} ms × {n} objects = {total} ms",
                    total.saturating_sub(grown)
                )
            }
        }
    }

    /// The memory cap, for messages, in MiB (and KiB per object).
    fn memory_text(&self) -> String {
        match self.objects {
            0 => format!("{} MiB", self.memory_bytes >> 20),
            n => format!(
                "{} MiB + {} KiB × {n} objects",
                self.memory_bytes
                    .saturating_sub(MEMORY_PER_OBJECT.saturating_mul(n))
                    >> 20,
                MEMORY_PER_OBJECT >> 10
            ),
        }
    }
}

/// The wasmtime engine with its epoch ticker and in-process compile cache.
pub(crate) struct Runtime {
    engine: wasmtime::Engine,
    /// The engine's compatibility hash (wasmtime version and configuration).
    engine_hash: [u8; 32],
    disk: Option<DiskCache>,
    cache_warning: Option<String>,
    compiled: Mutex<HashMap<[u8; 32], Component>>,
    ticker: Mutex<Option<Arc<AtomicBool>>>,
    /// Whether calls are metered with fuel (always, but for measuring what
    /// metering costs).
    metering: bool,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("disk", &self.disk)
            .finish_non_exhaustive()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Ok(guard) = self.ticker.lock()
            && let Some(stop) = guard.as_ref()
        {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

/// Why a component could not be loaded.
#[derive(Debug)]
pub(crate) enum LoadFailure {
    Compile(String),
    ForbiddenImport(String),
    WrongWorld(String),
    /// Built for a contract version this host does not speak: (the
    /// version it was built for, the version the host speaks).
    Version(String, String),
}

/// The `palisade:policy` version a component name carries, if it is one of
/// the contract's (`palisade:policy/facts@0.2.0`).
fn contract_version(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("palisade:policy/")?;
    Some(rest.split_once('@').map_or("", |(_, v)| v))
}

/// Whether this host runs a plugin built against `version`.
fn speaks(version: &str) -> bool {
    let mut parts = version.split('.').map(str::parse::<u64>);
    let (Some(Ok(major)), Some(Ok(minor)), Some(Ok(patch)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (m, n, p) = CONTRACT_VERSION;
    major == m && minor == n && patch <= p
}

/// The first contract version among a component's imports and exports
/// that this host does not speak.
fn foreign_version(component: &Component, engine: &wasmtime::Engine) -> Option<String> {
    let ty = component.component_type();
    let names: Vec<String> = ty
        .imports(engine)
        .map(|(n, _)| n.to_string())
        .chain(ty.exports(engine).map(|(n, _)| n.to_string()))
        .collect();
    names
        .iter()
        .filter_map(|n| contract_version(n))
        .find(|v| !speaks(v))
        .map(|v| {
            if v.is_empty() {
                "an unversioned contract".to_string()
            } else {
                v.to_string()
            }
        })
}

impl Runtime {
    pub(crate) fn new(cache_dir: Option<PathBuf>, metering: bool) -> Result<Runtime, String> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.max_wasm_stack(1 << 20);
        config.parallel_compilation(true);
        config.consume_fuel(metering);
        let engine = wasmtime::Engine::new(&config).map_err(|e| e.to_string())?;
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_hash: [u8; 32] = hasher.0.finalize().into();
        let (disk, cache_warning) = match cache_dir.as_deref().map(DiskCache::open) {
            None => (None, None),
            Some(Ok(disk)) => (Some(disk), None),
            Some(Err(why)) => (
                None,
                Some(format!(
                    "not using the compile cache: {why}; compiling in memory"
                )),
            ),
        };
        Ok(Runtime {
            engine,
            engine_hash,
            disk,
            cache_warning,
            compiled: Mutex::new(HashMap::new()),
            ticker: Mutex::new(None),
            metering,
        })
    }

    /// Starts the thread that advances the epoch, once.
    fn ensure_ticker(self: &Arc<Self>) {
        let Ok(mut guard) = self.ticker.lock() else {
            return;
        };
        if guard.is_some() {
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        *guard = Some(stop.clone());
        let weak: Weak<Runtime> = Arc::downgrade(self);
        let engine = self.engine.clone();
        let spawned = std::thread::Builder::new()
            .name("palisade-epoch".to_string())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) && weak.strong_count() > 0 {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            });
        if spawned.is_err() {
            *guard = None;
        }
    }

    /// Compiles `bytes`, or takes the compiled form from the in-process or
    /// on-disk cache (see `cache.rs` for when a disk entry is trusted).
    /// Also returns the component's SHA-256 (hashing a 20 MB Python
    /// component takes tens of milliseconds: once is enough).
    fn compile(
        &self,
        bytes: &[u8],
        digest: Option<[u8; 32]>,
    ) -> Result<(Component, [u8; 32]), LoadFailure> {
        let digest: [u8; 32] = digest.unwrap_or_else(|| Sha256::digest(bytes).into());
        if let Ok(map) = self.compiled.lock()
            && let Some(c) = map.get(&digest)
        {
            return Ok((c.clone(), digest));
        }
        let id = EntryId {
            component: &digest,
            engine: &self.engine_hash,
        };
        let cached = self.disk.as_ref().and_then(|disk| {
            let artifact = disk.get(id)?;
            // SAFETY: `DiskCache::get` returns only an artifact that this
            // user's cache holds, in a file nobody else may write, under an
            // HMAC (with the cache's private key) over this component's hash,
            // this engine's compatibility hash, Palisade's version and the
            // bytes: that is, bytes `Component::serialize` produced for this
            // very component and engine (ARCHITECTURE.md, "Compile cache").
            #[expect(unsafe_code, reason = "loading our own authenticated artifact")]
            let component = unsafe { Component::deserialize(&self.engine, &artifact) };
            component.ok()
        });
        let component = match cached {
            Some(c) => c,
            None => {
                // Forbidden imports are refused before compiling: a guest
                // built with WASI is 10-40 MB, seconds of compiling and a
                // cache entry. (A cached component compiled, so it passed;
                // the check after compiling stays: it is the one that
                // counts.)
                if let Some(forbidden) = forbidden_before_compile(bytes) {
                    return Err(LoadFailure::ForbiddenImport(forbidden));
                }
                let c = Component::new(&self.engine, bytes)
                    .map_err(|e| LoadFailure::Compile(format!("{e:#}")))?;
                if let Some(disk) = &self.disk
                    && let Ok(artifact) = c.serialize()
                {
                    disk.put(id, &artifact);
                }
                c
            }
        };
        if let Ok(mut map) = self.compiled.lock() {
            map.insert(digest, component.clone());
        }
        Ok((component, digest))
    }

    /// Why the disk cache is not used, when it was asked for and refused.
    pub(crate) fn cache_warning(&self) -> Option<&str> {
        self.cache_warning.as_deref()
    }

    /// Loads and checks a plugin component.
    /// `digest`: the bytes' SHA-256, when the caller has it already (a
    /// pinned plugin was hashed to check its pin).
    pub(crate) fn load(
        self: &Arc<Self>,
        bytes: &[u8],
        digest: Option<[u8; 32]>,
    ) -> Result<CompiledPlugin, LoadFailure> {
        let (component, digest) = self.compile(bytes, digest)?;
        if let Some(version) = foreign_version(&component, &self.engine) {
            let (m, n, p) = CONTRACT_VERSION;
            return Err(LoadFailure::Version(version, format!("{m}.{n}.{p}")));
        }
        let mut linker: Linker<State> = Linker::new(&self.engine);
        let ty = component.component_type();
        let mut forbidden = Vec::new();
        for (name, item) in ty.imports(&self.engine) {
            match classify_import(name) {
                ImportClass::Contract => {}
                ImportClass::Seed => {
                    let mut instance = linker
                        .instance(name)
                        .map_err(|e| LoadFailure::Compile(format!("{e:#}")))?;
                    instance
                        .func_wrap("insecure-seed", |_, (): ()| {
                            Ok(((0x7061_6c69_7361_6465_u64, 0x0123_4567_89ab_cdef_u64),))
                        })
                        .map_err(|e| LoadFailure::Compile(format!("{e:#}")))?;
                }
                ImportClass::StdRuntime => stub_as_traps(&mut linker, name, &item.ty, &self.engine)
                    .map_err(|e| LoadFailure::Compile(format!("{e:#}")))?,
                ImportClass::Forbidden => forbidden.push(format!("`{name}`")),
            }
        }
        if !forbidden.is_empty() {
            forbidden.sort();
            return Err(LoadFailure::ForbiddenImport(forbidden.join(", ")));
        }
        // The contract's interfaces, at this host's version: wasmtime links
        // a plugin's `@0.2.x` imports to them for any x up to ours.
        bindings::PolicyPlugin::add_to_linker::<State, HasSelf<Session>>(&mut linker, |s| {
            &mut s.session
        })
        .map_err(|e| LoadFailure::Compile(format!("{e:#}")))?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| LoadFailure::WrongWorld(format!("{e:#}")))?;
        let pre = bindings::PolicyPluginPre::new(pre)
            .map_err(|e| LoadFailure::WrongWorld(format!("{e:#}")))?;
        self.ensure_ticker();
        Ok(CompiledPlugin {
            runtime: self.clone(),
            pre,
            sha256: crate::cache::hex(&digest),
        })
    }
}

/// The forbidden imports of a component, read from its top-level import
/// section without compiling it; `None` when there are none, when the bytes
/// do not parse (the compiler then says why), or when an import is of
/// another contract version (refused after compiling, with both versions).
fn forbidden_before_compile(bytes: &[u8]) -> Option<String> {
    use wasmparser::{Parser, Payload};
    let mut depth = 0usize;
    let mut forbidden = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) if depth == 0 => break,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let name = import.ok()?.name.name;
                    if contract_version(name).is_some_and(|v| !speaks(v)) {
                        return None;
                    }
                    if matches!(classify_import(name), ImportClass::Forbidden) {
                        forbidden.push(format!("`{name}`"));
                    }
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    if contract_version(export.ok()?.name.name).is_some_and(|v| !speaks(v)) {
                        return None;
                    }
                }
            }
            _ => {}
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    forbidden.sort();
    Some(forbidden.join(", "))
}

/// Defines every function of the import instance `name` as a trap, and
/// its resources as empty host resources: the WASI interfaces Rust's
/// standard library imports whether or not a plugin uses them. (wasmtime's
/// `define_unknown_imports_as_traps` would also stub the contract's
/// interfaces, at the plugin's exact version, before semver-compatible
/// linking could find the host's.)
fn stub_as_traps(
    linker: &mut Linker<State>,
    name: &str,
    item: &wasmtime::component::types::ComponentItem,
    engine: &wasmtime::Engine,
) -> wasmtime::Result<()> {
    use wasmtime::component::types::ComponentItem;
    let ComponentItem::ComponentInstance(instance_type) = item else {
        return Ok(());
    };
    let mut instance = linker.instance(name)?;
    for (export, export_item) in instance_type.exports(engine) {
        match export_item.ty {
            ComponentItem::ComponentFunc(_) => {
                let qualified = format!("{name}#{export}");
                instance.func_new(export, move |_, _, _, _| {
                    Err(wasmtime::Error::msg(format!(
                        "`{qualified}` is not available in the sandbox"
                    )))
                })?;
            }
            ComponentItem::Resource(_) => {
                instance.resource(
                    export,
                    wasmtime::component::ResourceType::host::<()>(),
                    |_, _| Ok(()),
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Feeds `Hash` output into SHA-256, so a `Hash` value becomes a digest that
/// is stable across processes.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        0
    }
}

enum ImportClass {
    /// `palisade:policy/*`: the contract.
    Contract,
    /// `wasi:random/insecure-seed`: answered with a constant.
    Seed,
    /// WASI interfaces Rust's std runtime imports on `wasm32-wasip2`; defined
    /// as traps.
    StdRuntime,
    Forbidden,
}

/// WASI interfaces that `std` on `wasm32-wasip2` imports whether or not the
/// plugin uses them. They are linked as traps: calling one fails the
/// evaluation.
const STD_RUNTIME_IMPORTS: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stderr",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stderr",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:clocks/monotonic-clock",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
];

fn classify_import(name: &str) -> ImportClass {
    let unversioned = name.split('@').next().unwrap_or(name);
    if matches!(
        unversioned,
        "palisade:policy/types"
            | "palisade:policy/facts"
            | "palisade:policy/ports"
            | "palisade:policy/cloud"
            | "palisade:policy/observed"
            | "palisade:policy/log"
    ) {
        // The version was checked before (`foreign_version`).
        ImportClass::Contract
    } else if unversioned == "wasi:random/insecure-seed" {
        ImportClass::Seed
    } else if STD_RUNTIME_IMPORTS.contains(&unversioned) {
        ImportClass::StdRuntime
    } else {
        ImportClass::Forbidden
    }
}

/// Per-call state of a store: the memory limiter, and what the plugin can
/// reach (`contract::Session`).
pub(crate) struct State {
    limiter: Limiter,
    session: Session,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").finish_non_exhaustive()
    }
}

/// Takes the cost of host work from the store's fuel when a host call
/// returns (see `contract::Session::charge`).
fn price_host_calls(
    mut store: wasmtime::StoreContextMut<'_, State>,
    hook: wasmtime::CallHook,
) -> wasmtime::Result<()> {
    match hook {
        wasmtime::CallHook::CallingHost => {
            let left = store.get_fuel().unwrap_or(u64::MAX);
            store.data_mut().session.entering(left);
        }
        wasmtime::CallHook::ReturningFromHost => {
            let cost = store.data_mut().session.take_cost();
            if cost > 0
                && let Ok(left) = store.get_fuel()
            {
                if cost >= left {
                    store.data_mut().session.host_out_of_fuel = true;
                    return Err(Trap::OutOfFuel.into());
                }
                store.set_fuel(left - cost)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// What one table element is counted as against the memory cap (a
/// function reference is a pointer; wasmtime stores no more per element).
const TABLE_ELEMENT_BYTES: usize = 8;

/// Caps the memory of one evaluation — every linear memory and every table
/// of every core instance of the component, together — and remembers whether
/// the cap was hit, so that the resulting trap is reported as what it is.
#[derive(Debug)]
pub(crate) struct Limiter {
    cap: usize,
    used: usize,
    hit: bool,
}

impl Limiter {
    pub(crate) fn new(cap: usize) -> Limiter {
        Limiter {
            cap,
            used: 0,
            hit: false,
        }
    }

    /// Accounts for a growth from `current` to `desired` bytes, if it fits.
    fn grow(&mut self, current: usize, desired: usize) -> bool {
        let used = self.used.saturating_sub(current).saturating_add(desired);
        if used > self.cap {
            self.hit = true;
            false
        } else {
            self.used = used;
            true
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(current, desired))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(
            current.saturating_mul(TABLE_ELEMENT_BYTES),
            desired.saturating_mul(TABLE_ELEMENT_BYTES),
        ))
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}

/// A loaded plugin: compiled, import-checked, pre-instantiated.
pub(crate) struct CompiledPlugin {
    runtime: Arc<Runtime>,
    pre: bindings::PolicyPluginPre<State>,
    pub(crate) sha256: String,
}

impl std::fmt::Debug for CompiledPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPlugin")
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

/// A failed call: the cause, and a message for people.
pub(crate) type CallError = (PluginFailure, String);

/// What one call gave: its result, what the plugin logged (also when it
/// failed), and the fuel it used.
#[derive(Debug)]
pub(crate) struct Called<R> {
    pub(crate) result: Result<R, CallError>,
    pub(crate) log: Vec<String>,
    pub(crate) fuel: u64,
}

impl CompiledPlugin {
    /// Runs `f` against a fresh instance in a fresh store with `limits`.
    pub(crate) fn call<R>(
        &self,
        limits: &Limits,
        evaluation: Option<Arc<Evaluation>>,
        f: impl FnOnce(&bindings::PolicyPlugin, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> Called<R> {
        let state = State {
            limiter: Limiter::new(limits.memory_bytes),
            session: Session::new(evaluation, self.runtime.metering),
        };
        let mut store = Store::new(&self.runtime.engine, state);
        store.limiter(|s| &mut s.limiter);
        if self.runtime.metering {
            store.call_hook(price_host_calls);
        }
        let ticks = limits
            .timeout
            .as_millis()
            .div_ceil(EPOCH_TICK.as_millis())
            .max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        if self.runtime.metering && store.set_fuel(limits.fuel).is_err() {
            return Called {
                result: Err((PluginFailure::Trap, "fuel metering is off".to_string())),
                log: Vec::new(),
                fuel: 0,
            };
        }
        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|instance| f(&instance, &mut store));
        let fuel = store
            .get_fuel()
            .map_or(0, |left| limits.fuel.saturating_sub(left));
        let state = store.into_data();
        let log: Vec<String> = state
            .session
            .log
            .iter()
            .map(|(l, m)| format!("{}: {m}", level_name(*l)))
            .collect();
        let result = result.map_err(|e| classify_error(&e, &state, limits));
        Called { result, log, fuel }
    }
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
        Level::Fatal => "fatal",
    }
}

fn classify_error(e: &wasmtime::Error, state: &State, limits: &Limits) -> CallError {
    let panic_message = state
        .session
        .log
        .iter()
        .rev()
        .find(|(l, _)| *l == Level::Fatal)
        .map(|(_, m)| m.clone());
    if state.limiter.hit {
        return (
            PluginFailure::MemoryLimit,
            format!("exceeded the memory limit of {}", limits.memory_text()),
        );
    }
    if state.session.host_out_of_fuel {
        return (
            PluginFailure::OutOfFuel,
            format!(
                "ran out of fuel: the host work it asked for (facts, who-can, proxy verdicts) and its own instructions need more than its {} fuel",
                limits.fuel_text()
            ),
        );
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => (
            PluginFailure::OutOfFuel,
            format!(
                "ran out of fuel: executed more than {} instructions",
                limits.fuel_text()
            ),
        ),
        Some(Trap::Interrupt) => (
            PluginFailure::Timeout,
            format!(
                "ran past the wall-clock deadline of {}",
                limits.deadline_text()
            ),
        ),
        Some(Trap::StackOverflow) => (
            PluginFailure::StackOverflow,
            "exhausted the WebAssembly stack (unbounded recursion?)".to_string(),
        ),
        Some(_) if panic_message.is_some() => (
            PluginFailure::Panic,
            format!("panicked: {}", panic_message.unwrap_or_default()),
        ),
        Some(trap) => (PluginFailure::Trap, format!("trapped: {trap}")),
        None => match panic_message {
            Some(m) => (PluginFailure::Panic, format!("panicked: {m}")),
            None => (PluginFailure::Trap, format!("trapped: {}", root_message(e))),
        },
    }
}

/// The innermost cause of an error chain, in one line.
fn root_message(e: &wasmtime::Error) -> String {
    e.chain()
        .last()
        .map(|c| c.to_string())
        .unwrap_or_else(|| e.to_string())
        .replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with three memories and a table, and functions that grow
    /// each by the given amount (returning the old size, or -1 if refused).
    const GROWER: &str = r#"(module
        (memory $a 0) (memory $b 0) (memory $c 0)
        (table $t 0 funcref)
        (func (export "grow-a") (param i32) (result i32) (memory.grow $a (local.get 0)))
        (func (export "grow-b") (param i32) (result i32) (memory.grow $b (local.get 0)))
        (func (export "grow-c") (param i32) (result i32) (memory.grow $c (local.get 0)))
        (func (export "grow-t") (param i32) (result i32)
            (table.grow $t (ref.null func) (local.get 0))))"#;

    fn grower(cap: usize) -> (Store<Limiter>, wasmtime::Instance) {
        let engine = wasmtime::Engine::default();
        let module = wasmtime::Module::new(&engine, wat::parse_str(GROWER).unwrap()).unwrap();
        let mut store = Store::new(&engine, Limiter::new(cap));
        store.limiter(|l| l);
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
        (store, instance)
    }

    fn grow(store: &mut Store<Limiter>, instance: &wasmtime::Instance, f: &str, n: i32) -> i32 {
        instance
            .get_typed_func::<i32, i32>(&mut *store, f)
            .unwrap()
            .call(&mut *store, n)
            .unwrap()
    }

    #[test]
    fn one_cap_covers_every_memory_together() {
        // 10 MiB for everything: 100 pages (6.25 MiB) fit once, not twice.
        let (mut store, instance) = grower(10 << 20);
        assert_eq!(grow(&mut store, &instance, "grow-a", 100), 0);
        assert_eq!(grow(&mut store, &instance, "grow-b", 100), -1);
        assert!(store.data().hit);
        assert_eq!(grow(&mut store, &instance, "grow-c", 50), 0);
        assert_eq!(grow(&mut store, &instance, "grow-a", 10), 100);
    }

    #[test]
    fn tables_count_against_the_cap() {
        let (mut store, instance) = grower(10 << 20);
        // Two million elements are 16 MiB of pointers.
        assert_eq!(grow(&mut store, &instance, "grow-t", 2_000_000), -1);
        assert_eq!(grow(&mut store, &instance, "grow-t", 1_000), 0);
        // What the table holds leaves less for memories.
        assert_eq!(grow(&mut store, &instance, "grow-a", 160), -1);
        assert_eq!(grow(&mut store, &instance, "grow-a", 150), 0);
    }
}
