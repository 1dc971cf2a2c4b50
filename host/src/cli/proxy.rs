//! `palisade proxy trace`: would squid let this client make this request,
//! and which `http_access` line (or the implicit rule) decides?

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade::{ProxyConfig, SquidOptions, SquidVersion};

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
    /// Destination HOST:PORT (a name, an IPv4 address, or [IPv6]): the
    /// request is `CONNECT HOST:PORT` or `METHOD http://HOST:PORT/`
    #[arg(long, required_unless_present = "url", conflicts_with = "url")]
    to: Option<String>,
    /// The absolute URL of a non-CONNECT request (`http://host/path`), so
    /// that URL, path and scheme ACLs are evaluated
    #[arg(long)]
    url: Option<String>,
    /// HTTP method (CONNECT for tunnels)
    #[arg(long, default_value = "GET")]
    method: String,
    /// The squid release whose behaviour to follow (5.7, 6, 7, …)
    #[arg(long, default_value_t = SquidVersion::DEFAULT)]
    squid_version: SquidVersion,
    /// What a name resolves to, NAME=IP (repeatable); names without a
    /// known address make `dst` ACLs depend on DNS
    #[arg(long, value_name = "NAME=IP")]
    resolve: Vec<String>,
    /// The squid port the client connects to (default: the first http_port)
    #[arg(long)]
    local_port: Option<u16>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub(crate) fn run(args: ProxyArgs) -> anyhow::Result<Status> {
    let ProxyCommand::Trace(a) = args.command;
    let mut options = SquidOptions {
        version: a.squid_version,
        ..SquidOptions::default()
    };
    for r in &a.resolve {
        let (name, ip) = r
            .split_once('=')
            .with_context(|| format!("`--resolve {r}`: expected NAME=IP"))?;
        let ip: IpAddr = ip
            .trim_matches(['[', ']'])
            .parse()
            .with_context(|| format!("`--resolve {r}`: `{ip}` is not an IP address"))?;
        options
            .resolve(name, ip)
            .map_err(|m| anyhow::anyhow!("`--resolve {r}`: {m}"))?;
    }
    // The same rules as `palisade check`: the configuration's directory is
    // the root outside which `include` and `hosts_file` read nothing.
    let config = ProxyConfig::from_file_with(&a.config, &options)?;
    let errors = config.errors();
    if !errors.is_empty() {
        bail!(
            "{} (the configuration has {} problem{}, read as squid {})",
            errors.join("; "),
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            a.squid_version
        );
    }
    let method = a.method.to_ascii_uppercase();
    let (v, request) = match (&a.to, &a.url) {
        (_, Some(url)) => (
            config.trace_url(a.client, &method, url, a.local_port)?,
            format!("{method} {url}"),
        ),
        (Some(to), None) => {
            let (host, port) = to
                .rsplit_once(':')
                .with_context(|| format!("`--to {to}`: expected HOST:PORT"))?;
            let port: u16 = port
                .parse()
                .with_context(|| format!("`--to {to}`: invalid port"))?;
            let v = config.trace(
                a.client,
                &method,
                host.trim_matches(['[', ']']),
                port,
                a.local_port,
            );
            (v, format!("{method} {to}"))
        }
        (None, None) => bail!("give `--to HOST:PORT` or `--url URL`"),
    };
    let text = match a.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&v)?),
        Format::Human => {
            let verdict = match (v.depends_on_dns, v.allowed) {
                (true, _) => "DEPENDS ON DNS",
                (false, true) => "ALLOWED",
                (false, false) => "DENIED",
            };
            let mut s = format!(
                "{} -> {request}: {verdict} (squid {})\n",
                a.client, a.squid_version
            );
            if v.outcomes.len() > 1 {
                for o in &v.outcomes {
                    let at = match &o.line {
                        Some(l) => format!(
                            "{}:{}: `http_access {} {}`",
                            l.file,
                            l.line,
                            if l.allow { "allow" } else { "deny" },
                            l.acls.join(" ")
                        ),
                        None => "the implicit last rule".to_string(),
                    };
                    s.push_str(&format!(
                        "  {} by {at}\n    if {}\n",
                        if o.allowed { "allowed" } else { "denied" },
                        o.assuming.join("\n    and ")
                    ));
                }
                s.push_str(
                    "  note: give the names' addresses with `--resolve NAME=IP` for one answer\n",
                );
            } else {
                s.push_str(&format!("  {}\n", v.reason));
            }
            for w in config.warnings() {
                s.push_str(&format!("  warning: {w}\n"));
            }
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
