//! `palisade rbac can-i|who-can`: RBAC questions answered offline, from the
//! manifests, with aggregation and the built-in ClusterRoles.
//!
//! `can-i --manifests FILE... --queries QUERIES.json` is a contract other
//! tools depend on: QUERIES.json is a JSON list of objects with `user`,
//! `groups`, `verb`, `apiGroup`, `resource`, `subresource`, `namespace`,
//! `name`, `nonResourceURL` (empty string: not set; `apiGroup` empty is the
//! core group, except that a `resource.group` name with no `apiGroup` is
//! split as kubectl splits it); the output is one JSON list of booleans in
//! query order; exit 0. Keep it stable.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade::{AccessRequest, RbacAnalysis};

use super::{Status, inputs_of, print, print_human, refuse_problems};

#[derive(Debug, Args)]
pub(crate) struct RbacArgs {
    #[command(subcommand)]
    command: RbacCommand,
}

#[derive(Debug, Subcommand)]
enum RbacCommand {
    /// Can a user do something? (`--queries` answers a batch as JSON)
    CanI(CanIArgs),
    /// Which subjects can do something, through which binding, role and rule
    WhoCan(WhoCanArgs),
}

#[derive(Debug, Args)]
struct CanIArgs {
    /// VERB RESOURCE[/SUBRESOURCE] [NAME] [FILE...] (without --queries)
    #[arg(value_name = "ARGS")]
    args: Vec<String>,
    /// Manifests (with --queries)
    #[arg(long, num_args = 1.., value_name = "FILE")]
    manifests: Vec<PathBuf>,
    /// A JSON list of queries; prints a JSON list of booleans
    #[arg(long, value_name = "QUERIES.json")]
    queries: Option<PathBuf>,
    /// Namespace of the request
    #[arg(long, short, default_value = "")]
    namespace: String,
    /// User to ask for
    #[arg(long = "as", default_value = "")]
    as_user: String,
    /// Group of that user (repeatable)
    #[arg(long = "as-group")]
    as_groups: Vec<String>,
    /// Ask for a service account NS:NAME (user system:serviceaccount:NS:NAME, with its groups)
    #[arg(long = "as-serviceaccount", value_name = "NS:NAME")]
    as_serviceaccount: Option<String>,
    /// API group of the resource (default: resolved from the name, as
    /// kubectl does; `""` is the core group)
    #[arg(long)]
    api_group: Option<String>,
    /// Say which binding, role and rule grant it
    #[arg(long)]
    explain: bool,
    /// Do not know the built-in ClusterRoles
    #[arg(long)]
    no_builtin_roles: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum WhoFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
struct WhoCanArgs {
    /// VERB RESOURCE[/SUBRESOURCE] [NAME] FILE...
    #[arg(value_name = "ARGS", required = true)]
    args: Vec<String>,
    /// Namespace (default: any namespace)
    #[arg(long, short)]
    namespace: Option<String>,
    /// API group of the resource (default: resolved from the name, as
    /// kubectl does; `""` is the core group)
    #[arg(long)]
    api_group: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = WhoFormat::Human)]
    format: WhoFormat,
    /// Do not know the built-in ClusterRoles
    #[arg(long)]
    no_builtin_roles: bool,
}

pub(crate) fn run(args: RbacArgs) -> anyhow::Result<Status> {
    match args.command {
        RbacCommand::CanI(a) => can_i(a),
        RbacCommand::WhoCan(a) => who_can(a),
    }
}

fn analyse(files: &[PathBuf], builtin: bool) -> anyhow::Result<RbacAnalysis> {
    if files.is_empty() {
        bail!("no manifests given");
    }
    let analysis = RbacAnalysis::new(&inputs_of(files)?, builtin);
    refuse_problems(analysis.diagnostics())?;
    Ok(analysis)
}

/// The API group and plural of a resource as written: `--api-group` as
/// given, else resolved as kubectl resolves it (an unknown or ambiguous name
/// is an error, never a silent "no").
fn group_and_resource(
    analysis: &RbacAnalysis,
    api_group: Option<&str>,
    resource: &str,
) -> anyhow::Result<(String, String)> {
    match api_group {
        Some(group) => Ok((group.to_string(), resource.to_string())),
        None => Ok(analysis.resolve_resource(resource)?),
    }
}

/// VERB RESOURCE[/SUB] [NAME] FILE...: the name is the third word unless it
/// names an existing file or directory, or is `-` (standard input).
fn split_positional(
    args: &[String],
) -> anyhow::Result<(String, String, String, String, Vec<PathBuf>)> {
    let [verb, resource, rest @ ..] = args else {
        bail!("expected VERB RESOURCE[/SUBRESOURCE] [NAME] FILE...");
    };
    let (resource, sub) = resource.split_once('/').unwrap_or((resource, ""));
    let (name, files) = match rest.first() {
        Some(n) if n != "-" && !std::path::Path::new(n).exists() => (n.clone(), &rest[1..]),
        _ => (String::new(), rest),
    };
    Ok((
        verb.clone(),
        resource.to_string(),
        sub.to_string(),
        name,
        files.iter().map(PathBuf::from).collect(),
    ))
}

fn can_i(a: CanIArgs) -> anyhow::Result<Status> {
    if let Some(queries) = &a.queries {
        let analysis = analyse(&a.manifests, !a.no_builtin_roles)?;
        let text = palisade::fsutil::read_text(queries)
            .with_context(|| format!("cannot read `{}`", queries.display()))?;
        let mut list: Vec<AccessRequest> = serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not a JSON list of queries", queries.display()))?;
        // `apiGroup` is the authorizer's: kept as written, "" the core
        // group. Only the kubectl form `resource.group` (which no RBAC
        // rule can name) is split, when no apiGroup is given.
        for (i, q) in list.iter_mut().enumerate() {
            if q.api_group.is_empty() && q.resource.contains('.') {
                let (group, resource) = analysis
                    .resolve_resource(&q.resource)
                    .with_context(|| format!("query {i}"))?;
                q.api_group = group;
                q.resource = resource;
            }
        }
        let answers: Vec<bool> = list.iter().map(|q| analysis.can_i(q).is_some()).collect();
        print(&format!("{}\n", serde_json::to_string(&answers)?))?;
        return Ok(Status::Pass);
    }
    let (verb, resource, subresource, name, files) = split_positional(&a.args)?;
    let mut files = files;
    files.extend(a.manifests.iter().cloned());
    let analysis = analyse(&files, !a.no_builtin_roles)?;
    let (user, mut groups) = match &a.as_serviceaccount {
        Some(sa) => {
            let Some((ns, name)) = sa.split_once(':') else {
                bail!("--as-serviceaccount takes NS:NAME");
            };
            (
                format!("system:serviceaccount:{ns}:{name}"),
                vec![
                    "system:serviceaccounts".to_string(),
                    format!("system:serviceaccounts:{ns}"),
                    "system:authenticated".to_string(),
                ],
            )
        }
        None => (a.as_user.clone(), Vec::new()),
    };
    groups.extend(a.as_groups.iter().cloned());
    let (api_group, resource) = group_and_resource(&analysis, a.api_group.as_deref(), &resource)?;
    let request = AccessRequest {
        user,
        groups,
        verb,
        api_group,
        resource,
        subresource,
        namespace: a.namespace.clone(),
        name,
        non_resource_url: String::new(),
    };
    let grant = analysis.can_i(&request);
    let mut out = String::from(if grant.is_some() { "yes\n" } else { "no\n" });
    if a.explain {
        match &grant {
            Some(g) => {
                let _ = writeln!(
                    out,
                    "  binding: {}\n  role:    {}\n  rule {}: {}",
                    g.binding,
                    g.role,
                    g.rule_index,
                    serde_json::to_string(&g.rule)?
                );
            }
            None => out.push_str("  no binding grants it to this user or its groups\n"),
        }
    }
    print_human(&out)?;
    Ok(if grant.is_some() {
        Status::Pass
    } else {
        Status::Findings
    })
}

fn who_can(a: WhoCanArgs) -> anyhow::Result<Status> {
    let (verb, resource, subresource, name, files) = split_positional(&a.args)?;
    let analysis = analyse(&files, !a.no_builtin_roles)?;
    let (api_group, resource) = group_and_resource(&analysis, a.api_group.as_deref(), &resource)?;
    let request = AccessRequest {
        verb,
        api_group,
        resource,
        subresource,
        namespace: a.namespace.clone().unwrap_or_default(),
        name,
        ..AccessRequest::default()
    };
    let found = analysis.who_can(&request, a.namespace.is_none());
    let text = match a.format {
        WhoFormat::Json => {
            let rows: Vec<serde_json::Value> = found
                .iter()
                .map(|(s, g)| {
                    serde_json::json!({
                        "subject": s,
                        "binding": g.binding,
                        "role": g.role,
                        "ruleIndex": g.rule_index,
                        "rule": g.rule,
                        "namespace": g.namespace,
                        "workloads": analysis.workloads_of(s),
                    })
                })
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&rows)?)
        }
        WhoFormat::Human => {
            let mut out = String::new();
            if found.is_empty() {
                out.push_str("no subject can\n");
            }
            for (s, g) in &found {
                let scope = g
                    .namespace
                    .as_deref()
                    .map_or("all namespaces".to_string(), |n| format!("namespace {n}"));
                let _ = writeln!(
                    out,
                    "{s}\n  via {} -> {} rule {} ({scope})",
                    g.binding, g.role, g.rule_index
                );
                let used = analysis.workloads_of(s);
                if !used.is_empty() {
                    let _ = writeln!(
                        out,
                        "  workload service account, used by {}",
                        used.join(", ")
                    );
                }
            }
            out
        }
    };
    match a.format {
        WhoFormat::Json => print(&text)?,
        WhoFormat::Human => print_human(&text)?,
    }
    Ok(Status::Pass)
}
