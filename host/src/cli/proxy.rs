//! `palisade proxy trace`: would squid let this client make this request,
//! and which `http_access` line (or the implicit rule) decides?
//! `palisade proxy audit`: what the access logs show went out, per client,
//! judged by the access-log rules; `--suggest-allowlist` prints the
//! smallest allow-list covering it. `palisade proxy replay`: what a new
//! configuration would change for the logged requests.

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
    /// What access logs show went out, per workload, and what breaks the rules (exit 0: nothing at error, 1: findings, 2: problems)
    Audit(AuditArgs),
    /// Replay logged requests through a new squid.conf: what breaks, what opens (exit 0: no change, 1: changes, 2: problems)
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
struct AuditArgs {
    /// Access logs (`access.log`, `*.log`, `*.log.N`, `*.gz`, `*.jsonl`) and manifests or
    /// `kubectl get pods -A -o json` output that place their clients; directories are searched
    #[arg(value_name = "LOG_OR_MANIFEST", required = true)]
    inputs: Vec<PathBuf>,
    /// The squid configuration in use (its `logformat` and `access_log` say how the logs are written)
    #[arg(long, value_name = "FILE")]
    config: Vec<PathBuf>,
    /// Policy set: roles (the proxy's clients) and the squid plugin's allowedDestinations (default: the embedded one)
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Print the smallest squid allow-list covering the allowed calls instead
    #[arg(long)]
    suggest_allowlist: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// Access logs, and manifests or pod lists that place their clients
    #[arg(value_name = "LOG_OR_MANIFEST", required = true)]
    inputs: Vec<PathBuf>,
    /// The new squid configuration
    #[arg(long, value_name = "NEW.conf")]
    config: PathBuf,
    /// The configuration the logs were written under (default: squid's logged verdicts)
    #[arg(long, value_name = "OLD.conf")]
    against: Option<PathBuf>,
    /// The squid release whose behaviour to follow (5.7, 6, 7, …)
    #[arg(long, default_value_t = SquidVersion::DEFAULT)]
    squid_version: SquidVersion,
    /// Policy set whose roles place the clients (default: the embedded one)
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Whether a named file is an access log: by squid's names, or by the
/// extensions logs take (`.log`, `.log.N`, `.gz`, `.jsonl`).
fn is_log(path: &std::path::Path) -> bool {
    let name = path.to_string_lossy();
    if path.is_dir() {
        return false;
    }
    palisade::is_access_log(&name)
        || name.ends_with(".log")
        || name.ends_with(".gz")
        || name.ends_with(".jsonl")
        || name
            .rsplit_once(".log.")
            .is_some_and(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()))
}

fn audit_inputs(paths: &[PathBuf], configs: &[PathBuf]) -> anyhow::Result<palisade::Inputs> {
    let mut inputs = palisade::Inputs::new();
    for p in paths {
        inputs = if is_log(p) {
            inputs.access_log(p)
        } else {
            inputs.path(p)
        };
    }
    for c in configs {
        inputs = inputs.squid_config(c);
    }
    Ok(inputs)
}

fn policy_set(path: Option<&PathBuf>) -> anyhow::Result<palisade::PolicySet> {
    Ok(match path {
        Some(p) => palisade::PolicySet::from_file(p)?,
        None => palisade::PolicySet::builtin_default(),
    })
}

fn audit(a: AuditArgs) -> anyhow::Result<Status> {
    let policy = policy_set(a.policy.as_ref())?;
    let checker = super::with_progress_bar(palisade::Engine::new()?.checker(&policy, Vec::new())?);
    let audit = checker.audit(&audit_inputs(&a.inputs, &a.config)?);
    if audit.logs.is_empty() {
        anyhow::bail!(
            "no access log among the inputs (name them `access.log*`, `*.log`, `*.gz` or `*.jsonl`)"
        );
    }
    let problems = !audit.report.diagnostics.is_empty();
    if a.suggest_allowlist {
        let suggestion = palisade::audit::suggest(&audit.clients);
        match a.format {
            Format::Json => print(&format!("{}\n", serde_json::to_string_pretty(&suggestion)?))?,
            Format::Human => print_human(&palisade::audit::render_suggestion(&suggestion))?,
        }
        super::refuse_problems(&audit.report.diagnostics)?;
        return Ok(Status::Pass);
    }
    // The findings about the logs (the access-log rules), then problems.
    let findings: Vec<&palisade::Finding> = audit
        .report
        .findings
        .iter()
        .filter(|f| f.object.kind == "ProxyAccessLog")
        .collect();
    match a.format {
        Format::Json => {
            let report: serde_json::Value =
                serde_json::from_str(&palisade::render::json(&audit.report))?;
            let value = serde_json::json!({
                "logs": audit.logs,
                "clients": audit.clients,
                "findings": report["findings"].as_array().map(|f| f
                    .iter()
                    .filter(|x| x["object"]["kind"] == "ProxyAccessLog")
                    .cloned()
                    .collect::<Vec<_>>()),
                "errors": report["errors"],
            });
            print(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        }
        Format::Human => {
            let mut text = palisade::audit::render_audit(&audit);
            if !findings.is_empty() {
                text.push('\n');
                for f in &findings {
                    let at = f
                        .location
                        .as_ref()
                        .map(|l| format!("{l}: "))
                        .unwrap_or_default();
                    text.push_str(&format!(
                        "{}[{}]: {at}{}\n",
                        f.severity.as_str(),
                        f.rule,
                        f.message
                    ));
                }
            }
            for d in &audit.report.diagnostics {
                let at = d
                    .location
                    .as_ref()
                    .map(|l| format!("{l}: "))
                    .unwrap_or_default();
                text.push_str(&format!("error[input]: {at}{}\n", d.message));
            }
            print_human(&text)?;
        }
    }
    Ok(if problems {
        Status::Error
    } else if findings
        .iter()
        .any(|f| f.severity == palisade::Severity::Error)
    {
        Status::Findings
    } else {
        Status::Pass
    })
}

fn replay(a: ReplayArgs) -> anyhow::Result<Status> {
    let options = SquidOptions {
        version: a.squid_version,
        ..SquidOptions::default()
    };
    let load = |p: &PathBuf| -> anyhow::Result<ProxyConfig> {
        let c = ProxyConfig::from_file_with(p, &options)?;
        if !c.errors().is_empty() {
            bail!("`{}`: {}", p.display(), c.errors().join("; "));
        }
        Ok(c)
    };
    let new = load(&a.config)?;
    let old = a.against.as_ref().map(load).transpose()?;
    let policy = policy_set(a.policy.as_ref())?.without_plugins();
    let checker = palisade::Engine::new()?.checker(&policy, Vec::new())?;
    let (report, diagnostics) = checker.replay(&audit_inputs(&a.inputs, &[])?, &new, old.as_ref());
    if report.logs.is_empty() {
        anyhow::bail!(
            "no access log among the inputs (name them `access.log*`, `*.log`, `*.gz` or `*.jsonl`)"
        );
    }
    match a.format {
        Format::Json => print(&format!("{}\n", serde_json::to_string_pretty(&report)?))?,
        Format::Human => print_human(&palisade::audit::render_replay(&report))?,
    }
    super::refuse_problems(&diagnostics)?;
    Ok(if report.changes.is_empty() {
        Status::Pass
    } else {
        Status::Findings
    })
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
    let a = match args.command {
        ProxyCommand::Trace(a) => a,
        ProxyCommand::Audit(a) => return audit(a),
        ProxyCommand::Replay(a) => return replay(a),
    };
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
