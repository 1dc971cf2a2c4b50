//! The sandboxed WebAssembly runtime: compiling (and caching) plugin
//! components, checking what they import, and running one evaluation under
//! its limits.
//!
//! INVARIANT: plugin code runs only inside a `Store` that has an epoch
//! deadline and a memory limiter. Every call into a plugin goes through
//! [`CompiledPlugin::call`], which sets both.
//!
//! INVARIANT: a plugin has no ambient authority. Its only host function is
//! `log`; the WASI imports that Rust's standard library wires in are defined
//! as traps, except `wasi:random/insecure-seed`, which returns a constant.
//! Anything else it imports is rejected at load, naming the import.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, ResourceLimiter, Store, Trap};

use crate::report::PluginFailure;

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        world: "policy-plugin",
        path: "../wit",
    });
}

use bindings::palisade::policy::log::Level;
pub(crate) use bindings::palisade::policy::types as wit;

/// How often the epoch ticks; deadlines are rounded up to a whole tick.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// At most this much log text is kept per evaluation.
const MAX_LOG_BYTES: usize = 64 * 1024;

/// The limits of one plugin evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) timeout: Duration,
    pub(crate) memory_bytes: usize,
    pub(crate) max_findings: usize,
    pub(crate) max_output_bytes: usize,
}

/// The wasmtime engine with its epoch ticker and in-process compile cache.
pub(crate) struct Runtime {
    engine: wasmtime::Engine,
    cache_dir: Option<PathBuf>,
    compiled: Mutex<HashMap<[u8; 32], Component>>,
    ticker: Mutex<Option<Arc<AtomicBool>>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cache_dir", &self.cache_dir)
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
}

impl Runtime {
    pub(crate) fn new(cache_dir: Option<PathBuf>) -> Result<Runtime, String> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.max_wasm_stack(1 << 20);
        config.parallel_compilation(true);
        let engine = wasmtime::Engine::new(&config).map_err(|e| e.to_string())?;
        Ok(Runtime {
            engine,
            cache_dir,
            compiled: Mutex::new(HashMap::new()),
            ticker: Mutex::new(None),
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
    /// on-disk cache (keyed by content hash and engine configuration).
    fn compile(&self, bytes: &[u8]) -> Result<Component, LoadFailure> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if let Ok(map) = self.compiled.lock()
            && let Some(c) = map.get(&digest)
        {
            return Ok(c.clone());
        }
        let path = self
            .cache_dir
            .as_ref()
            .map(|dir| dir.join(format!("{}.cwasm", self.cache_key(&digest))));
        let component = match path.as_deref().and_then(|p| self.read_cached(p)) {
            Some(c) => c,
            None => {
                let c = Component::new(&self.engine, bytes)
                    .map_err(|e| LoadFailure::Compile(format!("{e:#}")))?;
                if let Some(p) = &path {
                    write_cached(p, &c);
                }
                c
            }
        };
        if let Ok(mut map) = self.compiled.lock() {
            map.insert(digest, component.clone());
        }
        Ok(component)
    }

    fn cache_key(&self, digest: &[u8; 32]) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        format!("{}-{:016x}", hex(digest), h.finish())
    }

    /// Reads a cached artifact written by [`write_cached`]: the serialized
    /// component followed by its SHA-256. A corrupt or incompatible file is
    /// ignored (and rewritten after compiling).
    fn read_cached(&self, path: &Path) -> Option<Component> {
        let data = std::fs::read(path).ok()?;
        let split = data.len().checked_sub(32)?;
        let (artifact, sum) = data.split_at(split);
        if Sha256::digest(artifact).as_slice() != sum {
            return None;
        }
        // SAFETY: the artifact was produced by `Component::serialize` of this
        // engine configuration (the file name includes its compatibility hash)
        // and its checksum matches. The cache directory must be writable only by
        // the user running Palisade: documented on `EngineBuilder::cache_dir`.
        #[expect(unsafe_code, reason = "loading our own precompiled artifact")]
        let component = unsafe { Component::deserialize(&self.engine, artifact) };
        component.ok()
    }

    /// Loads and checks a plugin component.
    pub(crate) fn load(self: &Arc<Self>, bytes: &[u8]) -> Result<CompiledPlugin, LoadFailure> {
        let component = self.compile(bytes)?;
        let mut linker: Linker<State> = Linker::new(&self.engine);
        let ty = component.component_type();
        let mut forbidden = Vec::new();
        for (name, _) in ty.imports(&self.engine) {
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
                ImportClass::StdRuntime => {}
                ImportClass::Forbidden => forbidden.push(format!("`{name}`")),
            }
        }
        if !forbidden.is_empty() {
            forbidden.sort();
            return Err(LoadFailure::ForbiddenImport(forbidden.join(", ")));
        }
        bindings::PolicyPlugin::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)
            .map_err(|e| LoadFailure::Compile(format!("{e:#}")))?;
        linker
            .define_unknown_imports_as_traps(&component)
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
            sha256: hex(&Sha256::digest(bytes).into()),
        })
    }
}

fn write_cached(path: &Path, component: &Component) {
    let Ok(mut data) = component.serialize() else {
        return;
    };
    let sum = Sha256::digest(&data);
    data.extend_from_slice(&sum);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Write to a temporary name and rename, so a concurrent reader never sees
    // a partial file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, &data).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

pub(crate) fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    if unversioned == "palisade:policy/log" || unversioned == "palisade:policy/types" {
        if name.ends_with("@0.1.0") {
            ImportClass::Contract
        } else {
            ImportClass::Forbidden
        }
    } else if unversioned == "wasi:random/insecure-seed" {
        ImportClass::Seed
    } else if STD_RUNTIME_IMPORTS.contains(&unversioned) {
        ImportClass::StdRuntime
    } else {
        ImportClass::Forbidden
    }
}

/// Per-evaluation state of a store.
pub(crate) struct State {
    limiter: Limiter,
    log: Vec<(Level, String)>,
    log_bytes: usize,
}

impl bindings::palisade::policy::log::Host for State {
    fn log(&mut self, level: Level, message: String) {
        if self.log_bytes + message.len() <= MAX_LOG_BYTES {
            self.log_bytes += message.len();
            self.log.push((level, message));
        }
    }
}

impl bindings::palisade::policy::types::Host for State {}

/// Caps linear memory and remembers whether the cap was hit, so that the
/// resulting trap can be reported as what it is.
struct Limiter {
    memory_bytes: usize,
    hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.hit = true;
            Ok(false)
        } else {
            Ok(true)
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
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

impl CompiledPlugin {
    /// Runs `f` against a fresh instance in a fresh store with `limits`;
    /// returns its result and what the plugin logged (also when it failed).
    pub(crate) fn call<R>(
        &self,
        limits: &Limits,
        f: impl FnOnce(&bindings::PolicyPlugin, &mut Store<State>) -> wasmtime::Result<R>,
    ) -> (Result<R, CallError>, Vec<String>) {
        let state = State {
            limiter: Limiter {
                memory_bytes: limits.memory_bytes,
                hit: false,
            },
            log: Vec::new(),
            log_bytes: 0,
        };
        let mut store = Store::new(&self.runtime.engine, state);
        store.limiter(|s| &mut s.limiter);
        let ticks = limits
            .timeout
            .as_millis()
            .div_ceil(EPOCH_TICK.as_millis())
            .max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|instance| f(&instance, &mut store));
        let state = store.into_data();
        let log: Vec<String> = state
            .log
            .iter()
            .map(|(l, m)| format!("{}: {m}", level_name(*l)))
            .collect();
        let result = result.map_err(|e| classify_error(&e, &state, limits));
        (result, log)
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
        .log
        .iter()
        .rev()
        .find(|(l, _)| *l == Level::Fatal)
        .map(|(_, m)| m.clone());
    if state.limiter.hit {
        return (
            PluginFailure::MemoryLimit,
            format!(
                "exceeded the memory limit of {} MiB",
                limits.memory_bytes >> 20
            ),
        );
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => (
            PluginFailure::Timeout,
            format!("ran past the deadline of {} ms", limits.timeout.as_millis()),
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
