//! `palisade proxy trace`: would squid let this client make this request,
//! and which `http_access` line (or the implicit rule) decides?

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade::ProxyConfig;

use super::{Status, print, print_human};

#[derive(Debug, Args)]
pub(crate) struct ProxyArgs {
    #[command(subcommand)]
    command: ProxyCommand,
}

#[derive(Debug, Subcommand)]
enum ProxyCommand {
    /// Evaluate one request against a squid.conf
    Trace(TraceArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Debug, Args)]
struct TraceArgs {
    /// The squid configuration file (`include` and `hosts_file` are read
    /// only inside its directory)
    config: PathBuf,
    /// Client address
    #[arg(long)]
    client: IpAddr,
    /// Destination HOST:PORT (a name, an IPv4 address, or [IPv6])
    #[arg(long)]
    to: String,
    /// HTTP method (CONNECT for tunnels)
    #[arg(long, default_value = "GET")]
    method: String,
    /// The squid port the client connects to (default: the first http_port)
    #[arg(long)]
    local_port: Option<u16>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub(crate) fn run(args: ProxyArgs) -> anyhow::Result<Status> {
    let ProxyCommand::Trace(a) = args.command;
    // The same rules as `palisade check`: the configuration's directory is
    // the root outside which `include` and `hosts_file` read nothing.
    let config = ProxyConfig::from_file(&a.config)?;
    let errors = config.errors();
    if !errors.is_empty() {
        bail!(
            "{} (the configuration has {} problem{})",
            errors.join("; "),
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
    }
    let (host, port) =
        a.to.rsplit_once(':')
            .with_context(|| format!("`--to {}`: expected HOST:PORT", a.to))?;
    let port: u16 = port
        .parse()
        .with_context(|| format!("`--to {}`: invalid port", a.to))?;
    let method = a.method.to_ascii_uppercase();
    let v = config.trace(
        a.client,
        &method,
        host.trim_matches(['[', ']']),
        port,
        a.local_port,
    );
    let text = match a.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&v)?),
        Format::Human => {
            let mut s = format!(
                "{} -> {method} {}: {}\n  {}\n",
                a.client,
                a.to,
                if v.allowed { "ALLOWED" } else { "DENIED" },
                v.reason
            );
            if !v.unsupported.is_empty() {
                s.push_str(&format!(
                    "  note: ACL types not evaluated (treated as not matching): {}\n",
                    v.unsupported.join(", ")
                ));
            }
            s
        }
    };
    match a.format {
        Format::Json => print(&text)?,
        Format::Human => print_human(&text)?,
    }
    Ok(Status::Pass)
}
