//! `palisade netpol matrix|trace|bench`: NetworkPolicy reachability.
//!
//! The `matrix` JSON output is a contract other tools depend on: one object,
//! for each requested port the key `"<port>/<PROTOCOL>"` whose value is the
//! sorted list of allowed `[from, to]` pairs; endpoints are `namespace/name`
//! and each external IP exactly as given. Keep it stable.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::{Args, Subcommand, ValueEnum};
use palisade::{Inputs, NetworkAnalysis, NetworkPlugin, PolicySet};

use super::{Status, inputs_of, print, print_human, refuse_problems};

#[derive(Debug, Args)]
pub(crate) struct NetpolArgs {
    #[command(subcommand)]
    command: NetpolCommand,
}

#[derive(Debug, Subcommand)]
enum NetpolCommand {
    /// Every allowed ordered pair of endpoints, per port
    Matrix(MatrixArgs),
    /// Whether one connection is allowed, and which policy rule decides it
    Trace(TraceArgs),
    /// Time the matrix on a generated cluster
    Bench(BenchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MatrixFormat {
    /// Every allowed pair, per port
    Json,
    /// A grid per port (small clusters)
    Table,
    /// Equivalence classes and the class × class matrix per port, JSON: bounded by the classes, not the pods
    Classes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TraceFormat {
    Human,
    Json,
}

/// `--network-plugin`: whose reading of the corners the NetworkPolicy API
/// leaves undefined applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PluginArg {
    /// Conservative: allows whatever some conforming plugin may allow
    Generic,
    /// Calico's documented behaviour
    Calico,
    /// Cilium's documented behaviour (default configuration)
    Cilium,
}

impl From<PluginArg> for NetworkPlugin {
    fn from(p: PluginArg) -> NetworkPlugin {
        match p {
            PluginArg::Generic => NetworkPlugin::Generic,
            PluginArg::Calico => NetworkPlugin::Calico,
            PluginArg::Cilium => NetworkPlugin::Cilium,
        }
    }
}

/// Where the network plugin profile comes from: the flag, else the policy
/// set's `spec.networkPlugin`, else the embedded policy set's.
#[derive(Debug, Args)]
struct ProfileArgs {
    /// Network plugin whose reading of NetworkPolicy's undefined corners applies [default: the policy set's spec.networkPlugin, else generic]
    #[arg(long, value_enum, value_name = "PLUGIN")]
    network_plugin: Option<PluginArg>,
    /// Policy set file whose spec.networkPlugin applies (default: the embedded policies/default.yaml)
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

impl ProfileArgs {
    fn network_plugin(&self) -> anyhow::Result<NetworkPlugin> {
        if let Some(p) = self.network_plugin {
            // The flag overrides the policy set, which is then not read.
            return Ok(p.into());
        }
        Ok(match &self.policy {
            Some(path) => PolicySet::from_file(path)?.network_plugin(),
            None => PolicySet::builtin_default().network_plugin(),
        })
    }
}

#[derive(Debug, Args)]
struct MatrixArgs {
    /// Manifests (files or directories)
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Ports to evaluate: 80/TCP,81/UDP,53/SCTP
    #[arg(long, value_delimiter = ',', required = true)]
    ports: Vec<String>,
    /// External IPs to include as endpoints (empty value: none)
    #[arg(long, value_delimiter = ',', default_value = "")]
    external: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = MatrixFormat::Json)]
    format: MatrixFormat,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Debug, Args)]
struct TraceArgs {
    /// Manifests (files or directories)
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Source: NAMESPACE/NAME or an IP address
    #[arg(long)]
    from: String,
    /// Destination: NAMESPACE/NAME or an IP address
    #[arg(long)]
    to: String,
    /// Port and protocol: 80/TCP
    #[arg(long)]
    port: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = TraceFormat::Human)]
    format: TraceFormat,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Pods in the generated cluster
    #[arg(long, default_value_t = 10_000)]
    pods: usize,
    /// NetworkPolicies in the generated cluster
    #[arg(long, default_value_t = 2_000)]
    policies: usize,
    /// Namespaces in the generated cluster
    #[arg(long, default_value_t = 100)]
    namespaces: usize,
    /// Seed of the generator
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub(crate) fn run(args: NetpolArgs) -> anyhow::Result<Status> {
    match args.command {
        NetpolCommand::Matrix(a) => matrix(a),
        NetpolCommand::Trace(a) => trace(a),
        NetpolCommand::Bench(a) => bench(a),
    }
}

fn analyse(files: &[PathBuf], profile: &ProfileArgs) -> anyhow::Result<NetworkAnalysis> {
    let plugin = profile.network_plugin()?;
    let analysis = NetworkAnalysis::with_network_plugin(&inputs_of(files)?, plugin);
    refuse_problems(analysis.diagnostics())?;
    Ok(analysis)
}

/// Says on standard error which objects the matrix does not model.
fn warn_unmodelled(analysis: &NetworkAnalysis) {
    for f in analysis.unmodelled() {
        let at = f
            .location
            .as_ref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        eprintln!(
            "warning: {}",
            palisade::render::escape::line(&format!("{at}{}", f.message))
        );
    }
}

fn matrix(args: MatrixArgs) -> anyhow::Result<Status> {
    let analysis = analyse(&args.files, &args.profile)?;
    let external: Vec<String> = args
        .external
        .into_iter()
        .filter(|e| !e.is_empty())
        .collect();
    if args.format == MatrixFormat::Classes {
        let classes = analysis.matrix_by_class(&args.ports, &external)?;
        warn_unmodelled(&analysis);
        let doc = serde_json::json!({
            "version": 1,
            "expand": "a pair (i, j) of `allowed[port]` allows every member of targets[i] to every member of targets[j], but a member to itself; two external addresses never pair",
            "targets": classes.targets,
            "allowed": classes.allowed,
        });
        let mut text = serde_json::to_string(&doc)?;
        text.push('\n');
        print(&text)?;
        return Ok(Status::Pass);
    }
    let m = analysis.matrix(&args.ports, &external)?;
    warn_unmodelled(&analysis);
    let text = match args.format {
        MatrixFormat::Json | MatrixFormat::Classes => {
            let obj: serde_json::Map<String, serde_json::Value> = m
                .iter()
                .map(|(port, pairs)| {
                    let list = pairs
                        .iter()
                        .map(|(f, t)| serde_json::json!([f, t]))
                        .collect();
                    (port.clone(), serde_json::Value::Array(list))
                })
                .collect();
            let mut s = serde_json::to_string(&obj)?;
            s.push('\n');
            s
        }
        MatrixFormat::Table => table(&analysis, &external, &m),
    };
    match args.format {
        MatrixFormat::Json | MatrixFormat::Classes => print(&text)?,
        MatrixFormat::Table => print_human(&text)?,
    }
    Ok(Status::Pass)
}

fn table(
    analysis: &NetworkAnalysis,
    external: &[String],
    m: &std::collections::BTreeMap<String, Vec<(String, String)>>,
) -> String {
    let mut names = analysis.endpoints();
    names.sort();
    names.extend(external.iter().cloned());
    let width = names.iter().map(String::len).max().unwrap_or(4).max(4);
    let mut out = String::new();
    for (port, pairs) in m {
        let _ = writeln!(out, "{port} (rows: from, columns: to; X allowed, . denied)");
        for (i, n) in names.iter().enumerate() {
            let _ = writeln!(out, "  {i:>3} {n}");
        }
        let _ = write!(out, "  {:>w$}", "", w = width);
        for i in 0..names.len() {
            let _ = write!(out, " {i:>3}");
        }
        out.push('\n');
        for from in &names {
            let _ = write!(out, "  {from:>width$}");
            for to in &names {
                let cell = if from == to {
                    "-"
                } else if pairs.iter().any(|(f, t)| f == from && t == to) {
                    "X"
                } else {
                    "."
                };
                let _ = write!(out, " {cell:>3}");
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn trace(args: TraceArgs) -> anyhow::Result<Status> {
    let analysis = analyse(&args.files, &args.profile)?;
    let t = analysis.trace(&args.from, &args.to, &args.port)?;
    let text = match args.format {
        TraceFormat::Human => palisade::render::trace(&t),
        TraceFormat::Json => {
            let mut s = serde_json::to_string_pretty(&t)?;
            s.push('\n');
            s
        }
    };
    match args.format {
        TraceFormat::Json => print(&text)?,
        TraceFormat::Human => print_human(&text)?,
    }
    Ok(Status::Pass)
}

fn bench(args: BenchArgs) -> anyhow::Result<Status> {
    let start = Instant::now();
    let yaml =
        palisade::testing::generate_cluster(args.namespaces, args.pods, args.policies, args.seed);
    let generated = start.elapsed();
    let start = Instant::now();
    let analysis = NetworkAnalysis::new(&Inputs::new().text("generated.yaml", yaml));
    let loaded = start.elapsed();
    if !analysis.diagnostics().is_empty() {
        bail!(
            "the generated cluster has input problems: {:?}",
            analysis.diagnostics().first()
        );
    }
    let start = Instant::now();
    let (classes, allowed) = analysis.matrix_classes(&["80/TCP".to_string()], &[])?;
    let matrix = start.elapsed();
    let eps = analysis.endpoints();
    let start = Instant::now();
    let first = eps.first().cloned().unwrap_or_default();
    let last = eps.last().cloned().unwrap_or_default();
    analysis.trace(&first, &last, "80/TCP")?;
    let trace = start.elapsed();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cluster: {} namespaces, {} pods, {} policies (seed {})",
        args.namespaces, args.pods, args.policies, args.seed
    );
    let _ = writeln!(
        out,
        "generate YAML:          {:>9.1} ms",
        generated.as_secs_f64() * 1e3
    );
    let _ = writeln!(
        out,
        "parse + model:          {:>9.1} ms",
        loaded.as_secs_f64() * 1e3
    );
    let _ = writeln!(
        out,
        "matrix, 1 port:         {:>9.1} ms  ({classes} equivalence classes, {} allowed class pairs)",
        matrix.as_secs_f64() * 1e3,
        allowed.first().copied().unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "one trace:              {:>9.1} ms",
        trace.as_secs_f64() * 1e3
    );
    if let Some(kib) = peak_rss_kib() {
        let _ = writeln!(
            out,
            "peak memory (VmHWM):    {:>9.1} MiB",
            kib as f64 / 1024.0
        );
    }
    print(&out)?;
    Ok(Status::Pass)
}

/// Peak resident set size of this process, from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
