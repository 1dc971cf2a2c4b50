//! `palisade bench`: measures what a run costs — loading plugins cold
//! (compiling) and warm (from the on-disk cache), and one evaluation per
//! plugin (fresh store and instance, call, lifting the findings).
//!
//! Figures are medians over `--iterations` runs in this process; compare runs
//! made in the same session on the same machine.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use palisade::Inputs;

use super::{PluginOpts, Status, print};

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Inputs to evaluate
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    plugins: PluginOpts,
    /// Repetitions of each measurement
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Also measure the cloud layer on this Terraform JSON (plan or state):
    /// reading and linking it, then routing every subnet to a public IPv4
    /// and IPv6 address with its network ACL, and every security group's
    /// egress (repeatable)
    #[arg(long, value_name = "FILE.json")]
    terraform: Vec<PathBuf>,
    /// Measure only the access-log reader on this log (repeatable): read,
    /// parse and fold every request on one thread, then the process's peak
    /// memory. Nothing else runs, so the peak is the reader's.
    #[arg(long, value_name = "LOG")]
    access_log: Vec<PathBuf>,
}

/// The process's peak resident memory (Linux `VmHWM`), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn bench_logs(logs: &[PathBuf], n: usize) -> anyhow::Result<Status> {
    use std::fmt::Write as _;
    let mut out = String::new();
    for log in logs {
        let size = std::fs::metadata(log)?.len();
        let mut last = None;
        let time = median(n, || {
            let file = std::fs::File::open(log)?;
            let mut observed = palisade_core::proxylog::Observed::default();
            palisade_core::proxylog::read(file, None, 0, &mut observed, |_| {})?;
            last = Some(observed);
            Ok(())
        })?;
        let observed = last.unwrap_or_default();
        #[allow(clippy::cast_precision_loss, reason = "throughput figures")]
        let mbps = observed.bytes_read as f64 / 1e6 / time.as_secs_f64().max(1e-9);
        #[allow(clippy::cast_precision_loss, reason = "throughput figures")]
        let lps = observed.lines as f64 / time.as_secs_f64().max(1e-9);
        let _ = writeln!(
            out,
            "access log {}: {:.1} MB on disk, {:.1} MB of text, {} lines, {} requests in {} entries, {} malformed\n  read, parse and fold (one thread): {:.3} s median of {n}: {mbps:.0} MB/s of text, {:.2} M lines/s",
            log.display(),
            size as f64 / 1e6,
            observed.bytes_read as f64 / 1e6,
            observed.lines,
            observed.requests,
            observed.entries.len(),
            observed.malformed,
            time.as_secs_f64(),
            lps / 1e6
        );
    }
    if let Some(peak) = peak_rss() {
        #[allow(clippy::cast_precision_loss, reason = "memory figures")]
        let _ = writeln!(
            out,
            "peak resident memory of the process: {:.1} MiB",
            peak as f64 / 1048576.0
        );
    }
    print(&out)?;
    Ok(Status::Pass)
}

pub(crate) fn run(args: BenchArgs) -> anyhow::Result<Status> {
    let n = args.iterations.max(1);
    if !args.access_log.is_empty() {
        return bench_logs(&args.access_log, n);
    }
    let scratch = std::env::temp_dir().join(format!("palisade-bench-{}", std::process::id()));

    // Cold: a new engine without a cache compiles every plugin.
    let cold = median(n.min(5), || {
        let engine = args.plugins.engine(None)?;
        args.plugins.checker_with(&engine).map(|_| ())
    })?;
    // Warm: a new engine whose cache already holds the compiled plugins.
    {
        let engine = args.plugins.engine(Some(scratch.clone()))?;
        args.plugins.checker_with(&engine)?;
    }
    let warm = median(n, || {
        let engine = args.plugins.engine(Some(scratch.clone()))?;
        args.plugins.checker_with(&engine).map(|_| ())
    })?;
    let _ = std::fs::remove_dir_all(&scratch);

    let engine = args.plugins.engine(None)?;
    let checker = args.plugins.checker_with(&engine)?;
    let inputs = super::inputs_of(&args.paths)?;
    // The loader alone: reading, parsing with positions, splitting into
    // objects; on one thread and on all.
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let load = |jobs: usize| {
        let options = palisade_core::input::LoadOptions {
            jobs,
            ..Default::default()
        };
        let bytes: usize = palisade_core::input::load(&inputs, &options)
            .files
            .iter()
            .map(|f| f.text.len())
            .sum();
        median(n, || {
            palisade_core::input::load(&inputs, &options);
            Ok(())
        })
        .map(|t| (t, bytes))
    };
    let (load_one, bytes) = load(1)?;
    let (load_all, _) = load(threads)?;
    let check = median(n, || {
        checker.check(&inputs);
        Ok(())
    })?;
    let per_plugin = checker.time_evaluations(&inputs, n);
    let empty = checker.time_evaluations(&Inputs::new(), n);
    // The same evaluations without fuel metering: what the deterministic
    // budget costs.
    let unmetered = args.plugins.builder().without_fuel_metering().build()?;
    let unmetered = args.plugins.checker_with(&unmetered)?;
    let per_plugin_unmetered = unmetered.time_evaluations(&inputs, n);

    let mut out = String::new();
    out.push_str(&format!("iterations: {n} (median)\n"));
    out.push_str(&format!(
        "load plugins, cold (compile):      {}\n",
        fmt(cold)
    ));
    out.push_str(&format!(
        "load plugins, warm (disk cache):   {}\n",
        fmt(warm)
    ));
    let rate = |t: Duration| bytes as f64 / 1e6 / t.as_secs_f64().max(1e-9);
    out.push_str(&format!(
        "load inputs, 1 thread:             {} ({:.1} MB/s of {bytes} bytes)\n",
        fmt(load_one),
        rate(load_one)
    ));
    out.push_str(&format!(
        "load inputs, {threads} threads:            {} ({:.1} MB/s)\n",
        fmt(load_all),
        rate(load_all)
    ));
    out.push_str(&format!(
        "check inputs (load+model+eval):    {}\n",
        fmt(check)
    ));
    for (((plugin, t, f), (_, t0, _)), (_, tu, _)) in
        per_plugin.iter().zip(&empty).zip(&per_plugin_unmetered)
    {
        out.push_str(&format!(
            "evaluate {plugin}: {} on the inputs, {} on an empty model (instantiate + call + lift); {f} fuel; {} without fuel metering\n",
            fmt(*t),
            fmt(*t0),
            fmt(*tu)
        ));
    }
    if !args.terraform.is_empty() {
        out.push_str(&cloud(&args.terraform, n)?);
    }
    print(&out)?;
    Ok(Status::Pass)
}

/// The cloud layer's cost on Terraform JSON files.
fn cloud(files: &[PathBuf], n: usize) -> anyhow::Result<String> {
    use palisade_core::cloud::{Network, Protocol, terraform};
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let text = palisade::fsutil::read_text(f)
                .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", f.display()))?;
            Ok((f.display().to_string(), text))
        })
        .collect::<anyhow::Result<_>>()?;
    let load = || -> anyhow::Result<Network> {
        let mut net = Network::default();
        for (name, text) in &texts {
            let file = palisade_core::input::ConfigFile::parse(name, text)?;
            terraform::read(&file, 0, &mut net)?;
        }
        Ok(net)
    };
    let net = load()?;
    let loaded = median(n, || load().map(|_| ()))?;
    let v4: std::net::IpAddr = "93.184.216.34".parse()?;
    let v6: std::net::IpAddr = "2606:2800:220:1::1".parse()?;
    let groups: Vec<String> = net.security_groups.iter().map(|g| g.key.clone()).collect();
    let evaluated = median(n, || {
        for s in &net.subnets {
            std::hint::black_box(net.route(&s.key, v4));
            std::hint::black_box(net.route(&s.key, v6));
            std::hint::black_box(net.nacl_allows(&s.key, v4, Protocol::Tcp, 443));
        }
        for g in &groups {
            std::hint::black_box(net.security_groups_allow(
                std::slice::from_ref(g),
                true,
                v4,
                Protocol::Tcp,
                443,
            ));
        }
        Ok(())
    })?;
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    Ok(format!(
        "cloud: read and link {} subnets, {} route tables, {} security groups, {} network ACLs ({bytes} bytes): {}\n\
         cloud: route every subnet to the internet (IPv4, IPv6), its ACL, every group's egress: {}\n",
        net.subnets.len(),
        net.route_tables.len(),
        net.security_groups.len(),
        net.nacls.len(),
        fmt(loaded),
        fmt(evaluated)
    ))
}

fn median(n: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times.get(times.len() / 2).copied().unwrap_or_default())
}

fn fmt(d: Duration) -> String {
    if d >= Duration::from_millis(10) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    }
}
