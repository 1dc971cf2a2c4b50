//! `palisade path`: from a workload to a destination across every layer.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use palisade::path::{PathQuery, PathVerdict};
use palisade::{Engine, PolicySet};

use super::{Status, inputs_of, print, print_human, refuse_problems};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct PathArgs {
    /// Manifests, squid configurations, Terraform plan or state JSON, AWS
    /// CLI output (files or directories)
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,
    /// The workload: NAMESPACE/NAME
    #[arg(long)]
    from: String,
    /// The destination: HOST:PORT or IP:PORT ([IPv6]:PORT)
    #[arg(long)]
    to: String,
    /// The method the proxy sees [default: CONNECT for 443, else GET]
    #[arg(long)]
    method: Option<String>,
    /// The address a host name stands for, NAME=IP [default: a public address]
    #[arg(long, value_name = "NAME=IP")]
    resolve: Option<String>,
    /// Policy set whose roles (the proxy, DNS) and cloud binding apply (default: the embedded one)
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Exit 0 when the destination is reachable only through the proxy or not
/// at all, 1 when it is reachable directly (a bypass), 2 when the inputs
/// do not settle it or have problems.
pub(crate) fn run(a: PathArgs) -> anyhow::Result<Status> {
    let (host, port) =
        a.to.rsplit_once(':')
            .with_context(|| format!("`--to {}`: expected HOST:PORT", a.to))?;
    let host = host.trim_matches(['[', ']']).to_string();
    let port: u16 = port
        .parse()
        .with_context(|| format!("`--to {}`: invalid port", a.to))?;
    let address = match &a.resolve {
        None => None,
        Some(r) => {
            let (name, ip) = r
                .split_once('=')
                .with_context(|| format!("`--resolve {r}`: expected NAME=IP"))?;
            anyhow::ensure!(
                name.eq_ignore_ascii_case(&host),
                "`--resolve {r}` names another host than `--to {}`",
                a.to
            );
            Some(
                ip.trim_matches(['[', ']'])
                    .parse::<IpAddr>()
                    .with_context(|| format!("`--resolve {r}`: `{ip}` is not an IP address"))?,
            )
        }
    };
    let method = a
        .method
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_else(|| if port == 443 { "CONNECT" } else { "GET" }.to_string());
    let policy = match &a.policy {
        Some(p) => PolicySet::from_file(p)?,
        None => PolicySet::builtin_default(),
    }
    .without_plugins();
    let checker = Engine::new()?.checker(&policy, Vec::new())?;
    let query = PathQuery {
        from: a.from,
        host,
        port,
        method,
        address,
    };
    let (report, diagnostics) = checker.path(&inputs_of(&a.inputs)?, &query)?;
    refuse_problems(&diagnostics)?;
    match a.format {
        Format::Json => print(&format!("{}\n", serde_json::to_string_pretty(&report)?))?,
        Format::Human => print_human(&palisade::path::render(&report))?,
    }
    Ok(match report.verdict {
        PathVerdict::ReachableOnlyThroughProxy | PathVerdict::Unreachable => Status::Pass,
        PathVerdict::ReachableDirectly => Status::Findings,
        PathVerdict::Unknown(_) => Status::Error,
    })
}
