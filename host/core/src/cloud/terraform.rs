//! Terraform's JSON (`terraform show -json`, of a plan or of a state) read
//! into a [`Network`].
//!
//! The format (HashiCorp, "JSON Output Format"):
//!
//! - a plan has `planned_values.root_module` (resources, and nested
//!   `child_modules`), `resource_changes` (each instance's `change`, with
//!   `after_unknown`: the attributes known only after apply, which
//!   `planned_values` omits), `configuration` (each resource's
//!   `expressions`, whose `references` name what an attribute is computed
//!   from) and `prior_state`;
//! - a state has `values.root_module`, every ID known;
//! - `format_version` is `MAJOR.MINOR`: another major version is refused.
//!
//! Links between resources go by ID when it is known (state, or a resource
//! that exists), else by the configuration's references: a route whose
//! `nat_gateway_id` is known only after apply and whose expression refers
//! to `aws_nat_gateway.a` routes to `aws_nat_gateway.a`. Where neither
//! says, the link is [`Known::Unknown`] with the reason.

use std::collections::HashMap;

use ipnet::IpNet;
use serde_json::Value;

use super::{
    Destination, Known, Nacl, NaclEntry, NatGateway, Network, Origin, Peer, Protocol, Route,
    RouteTable, SecurityGroup, SgRule, Subnet, Target, Vpc,
};
use crate::error::{Error, ErrorKind};
use crate::input::ConfigFile;

/// The `format_version` major this reader knows.
pub const FORMAT_MAJOR: u64 = 1;

/// Whether a JSON document looks like `terraform show -json` output.
pub fn is_terraform_json(value: &Value) -> bool {
    matches!(
        crate::input::cloud_kind(value),
        Some(crate::input::TERRAFORM_PLAN_KIND | crate::input::TERRAFORM_STATE_KIND)
    )
}

/// One resource instance as the file gives it.
struct Resource<'a> {
    address: String,
    kind: &'a str,
    values: &'a Value,
    /// JSON pointer of `values`.
    pointer: String,
    /// `after_unknown` of its change (plans only).
    unknown: Option<&'a Value>,
    /// Whether the plan creates it.
    created: bool,
    /// Attribute → referenced resource addresses (module-qualified).
    references: HashMap<String, Vec<String>>,
}

/// Reads one file of Terraform JSON into `network`. Problems with single
/// resources (a CIDR that does not parse) are returned as messages located
/// in the file; a format this reader does not know is an error.
pub fn read(
    file: &ConfigFile,
    object: u32,
    network: &mut Network,
) -> Result<Vec<(String, crate::report::Location)>, Error> {
    let root = file.value();
    let version = root
        .get("format_version")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u64>().ok());
    if major != Some(FORMAT_MAJOR) {
        return Err(Error::at(
            ErrorKind::Input,
            format!(
                "Terraform JSON format_version `{version}` is not one this Palisade reads (it reads {FORMAT_MAJOR}.x): regenerate it with a Terraform that writes {FORMAT_MAJOR}.x, or upgrade Palisade"
            ),
            file.at("/format_version"),
        ));
    }
    let references = configuration_references(root);
    let unknowns = after_unknown(root);
    let mut resources = Vec::new();
    // A plan's planned values are what exists after apply (unchanged
    // resources included, deleted ones gone); a state's values are what
    // exists. `prior_state` would bring deleted resources back.
    let base = ["/planned_values/root_module", "/values/root_module"]
        .into_iter()
        .find(|b| root.pointer(b).is_some());
    if let Some(base) = base
        && let Some(module) = root.pointer(base)
    {
        let mut seen = std::collections::HashSet::new();
        collect(
            module,
            base,
            &references,
            &unknowns,
            &mut seen,
            &mut resources,
        );
    }
    let mut problems = Vec::new();
    let mut instances: HashMap<String, Vec<&str>> = HashMap::new();
    for r in &resources {
        instances
            .entry(config_address(&r.address))
            .or_default()
            .push(&r.address);
        if r.address.contains('[') {
            instances
                .entry(r.address.clone())
                .or_default()
                .push(&r.address);
        }
    }
    Reader {
        file,
        object,
        resources: &resources,
        by_address: resources.iter().map(|r| (r.address.as_str(), r)).collect(),
        instances,
        by_id: resources
            .iter()
            .filter_map(|r| Some((r.values.get("id")?.as_str()?.to_string(), r.address.clone())))
            .filter(|(id, _)| !id.is_empty())
            .collect(),
        problems: &mut problems,
    }
    .build(network);
    Ok(problems)
}

/// Every resource of a module and its children, managed ones only; an
/// address already read (planned values before prior state) is skipped.
fn collect<'a>(
    module: &'a Value,
    pointer: &str,
    references: &HashMap<String, HashMap<String, Vec<String>>>,
    unknowns: &HashMap<String, (Option<&'a Value>, bool)>,
    seen: &mut std::collections::HashSet<String>,
    out: &mut Vec<Resource<'a>>,
) {
    if let Some(list) = module.get("resources").and_then(Value::as_array) {
        for (i, r) in list.iter().enumerate() {
            let (Some(address), Some(kind)) = (
                r.get("address").and_then(Value::as_str),
                r.get("type").and_then(Value::as_str),
            ) else {
                continue;
            };
            if r.get("mode").and_then(Value::as_str) != Some("managed")
                || !seen.insert(address.to_string())
            {
                continue;
            }
            let Some(values) = r.get("values") else {
                continue;
            };
            out.push(Resource {
                address: address.to_string(),
                kind,
                values,
                pointer: format!("{pointer}/resources/{i}/values"),
                unknown: unknowns.get(address).and_then(|u| u.0),
                created: unknowns.get(address).is_some_and(|u| u.1),
                references: references
                    .get(&config_address(address))
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }
    if let Some(children) = module.get("child_modules").and_then(Value::as_array) {
        for (i, child) in children.iter().enumerate() {
            collect(
                child,
                &format!("{pointer}/child_modules/{i}"),
                references,
                unknowns,
                seen,
                out,
            );
        }
    }
}

/// `module.a[0].aws_route.x["k"]` → `module.a.aws_route.x`: the address of
/// the configuration block an instance comes from.
fn config_address(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in address.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The instance key of an address's last resource (`[0]`, `["a"]`), if any.
fn instance_key(address: &str) -> Option<&str> {
    let address = address.trim_end_matches('`');
    let open = address.rfind('[')?;
    address.ends_with(']').then(|| &address[open..])
}

impl Resource<'_> {
    /// What the configuration's expression for `attr` refers to.
    fn refs(&self, attr: &str) -> &[String] {
        self.references.get(attr).map_or(&[], Vec::as_slice)
    }

    /// Its `after_unknown` at `inner` (a nested block's pointer; empty:
    /// the resource's own).
    fn unknown_at(&self, inner: &str) -> Option<&Value> {
        if inner.is_empty() {
            self.unknown
        } else {
            self.unknown?.pointer(inner)
        }
    }
}

/// Each resource change, by instance address: its `after_unknown`, and
/// whether the plan creates it. (A deposed object's change, which shares
/// the address, is not the instance's.)
fn after_unknown(root: &Value) -> HashMap<String, (Option<&Value>, bool)> {
    root.get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("deposed").is_none())
        .filter_map(|c| {
            let created = c
                .pointer("/change/actions")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x == "create"));
            Some((
                c.get("address")?.as_str()?.to_string(),
                (c.pointer("/change/after_unknown"), created),
            ))
        })
        .collect()
}

/// Each configuration block's references, by attribute, module-qualified:
/// `module.net.aws_route.x` → {`nat_gateway_id`: [`module.net.aws_nat_gateway.a`]}.
/// A reference to a module's input (`var.nat_id`) stands for what the
/// module call passes in, and one to another module's output
/// (`module.nat.id`) for what that output refers to, at any depth.
fn configuration_references(root: &Value) -> HashMap<String, HashMap<String, Vec<String>>> {
    let mut out = HashMap::new();
    if let Some(module) = root.pointer("/configuration/root_module") {
        walk_config(module, "", &HashMap::new(), &mut out, 0);
    }
    out
}

/// What a module's inputs (or outputs) refer to: name → resource addresses.
type Bindings = HashMap<String, Vec<String>>;

/// What names mean where an expression is written.
struct Scope<'a> {
    /// The module's address prefix (`module.net.`).
    prefix: &'a str,
    /// The module's inputs (`var.x`).
    vars: &'a Bindings,
    /// Its calls' outputs (`module.child.x`).
    outputs: &'a HashMap<&'a str, Bindings>,
    /// What `each.value` stands for: the resources its `for_each` names.
    each: &'a [String],
}

/// Walks one module: its resources' references, its calls' inputs (passed
/// down) and its outputs (returned up).
fn walk_config(
    module: &Value,
    prefix: &str,
    vars: &Bindings,
    out: &mut HashMap<String, HashMap<String, Vec<String>>>,
    depth: usize,
) -> Bindings {
    let calls: Vec<(&String, &Value)> = module
        .get("module_calls")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .collect();
    // Children first: a resource here may refer to their outputs, and a
    // call's inputs to a sibling's: calls are walked once each, a sibling
    // before the calls that use its outputs (a cycle, which Terraform
    // refuses, just loses those references).
    let mut outputs: HashMap<&str, Bindings> = HashMap::new();
    let uses = |call: &Value| -> Vec<String> {
        let mut names = Vec::new();
        sibling_modules(call.get("expressions").unwrap_or(&Value::Null), &mut names);
        unique(names)
    };
    let call_names: std::collections::HashSet<&str> =
        calls.iter().map(|(n, _)| n.as_str()).collect();
    let mut pending: Vec<(&String, &Value, Vec<String>)> =
        calls.iter().map(|(n, c)| (*n, *c, uses(c))).collect();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|(_, _, deps)| {
                deps.iter()
                    .all(|d| outputs.contains_key(d.as_str()) || !call_names.contains(d.as_str()))
            })
            .unwrap_or(0);
        let (name, call, _) = pending.remove(ready);
        let Some(child) = call.get("module").filter(|_| depth < 32) else {
            continue;
        };
        let mut inputs = Bindings::new();
        for (input, expr) in call
            .get("expressions")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let mut refs = Vec::new();
            let scope = Scope {
                prefix,
                vars,
                outputs: &outputs,
                each: &[],
            };
            gather_references(expr, &scope, &mut refs);
            inputs.insert(input.clone(), unique(refs));
        }
        let found = walk_config(
            child,
            &format!("{prefix}module.{name}."),
            &inputs,
            out,
            depth + 1,
        );
        outputs.insert(name.as_str(), found);
    }
    for r in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(address) = r.get("address").and_then(Value::as_str) else {
            continue;
        };
        let mut each = Vec::new();
        if let Some(expr) = r.get("for_each_expression") {
            let scope = Scope {
                prefix,
                vars,
                outputs: &outputs,
                each: &[],
            };
            gather_references(expr, &scope, &mut each);
        }
        let each = unique(each);
        let scope = Scope {
            prefix,
            vars,
            outputs: &outputs,
            each: &each,
        };
        let mut attrs: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(expressions) = r.get("expressions").and_then(Value::as_object) {
            for (attr, expr) in expressions {
                let mut refs = Vec::new();
                gather_references(expr, &scope, &mut refs);
                if !refs.is_empty() {
                    attrs.insert(attr.clone(), unique(refs));
                }
            }
        }
        out.insert(format!("{prefix}{address}"), attrs);
    }
    let mut mine = Bindings::new();
    for (name, output) in module
        .get("outputs")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let mut refs = Vec::new();
        if let Some(expr) = output.get("expression") {
            let scope = Scope {
                prefix,
                vars,
                outputs: &outputs,
                each: &[],
            };
            gather_references(expr, &scope, &mut refs);
        }
        mine.insert(name.clone(), unique(refs));
    }
    mine
}

/// `refs` without repeats, in first-seen order.
fn unique(refs: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    refs.into_iter()
        .filter(|r| seen.insert(r.clone()))
        .collect()
}

/// The modules an expression's references name (`module.nat.id` → `nat`).
fn sibling_modules(expr: &Value, out: &mut Vec<String>) {
    match expr {
        Value::Object(map) => {
            for r in map
                .get("references")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if let Some(rest) = r.strip_prefix("module.") {
                    let name = rest
                        .split(['.', '['])
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    out.push(name);
                }
            }
            map.values().for_each(|v| sibling_modules(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| sibling_modules(v, out)),
        _ => {}
    }
}

/// References anywhere inside an expression (nested blocks are arrays of
/// objects of expressions), as resource addresses; module inputs and child
/// outputs are followed.
fn gather_references(expr: &Value, scope: &Scope<'_>, out: &mut Vec<String>) {
    // Duplicates are removed by the caller (`unique`): checking here
    // would be quadratic in a hostile expression's references.
    let mut push = |full: &String| out.push(full.clone());
    match expr {
        Value::Object(map) => {
            if let Some(list) = map.get("references").and_then(Value::as_array) {
                for r in list.iter().filter_map(Value::as_str) {
                    let mut parts = r.split('.');
                    match (parts.next(), parts.next(), parts.next()) {
                        (Some("var"), Some(name), _) => {
                            scope
                                .vars
                                .get(name)
                                .into_iter()
                                .flatten()
                                .for_each(&mut push);
                        }
                        (Some("each"), Some("value"), _) => scope.each.iter().for_each(&mut push),
                        (Some("module"), Some(call), Some(output)) => {
                            let call = call.split('[').next().unwrap_or(call);
                            if let Some(refs) = scope.outputs.get(call).and_then(|o| o.get(output))
                            {
                                refs.iter().for_each(&mut push);
                            }
                        }
                        _ => {
                            if let Some(address) = resource_of_reference(r) {
                                push(&format!("{}{address}", scope.prefix));
                            }
                        }
                    }
                }
            }
            for (k, v) in map {
                if k != "references" {
                    gather_references(v, scope, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| gather_references(v, scope, out)),
        _ => {}
    }
}

/// `aws_nat_gateway.a[0].id` → `aws_nat_gateway.a[0]`; `var.x`, `local.y`,
/// `data.…`, `module.…` outputs, `each.…`: none.
fn resource_of_reference(reference: &str) -> Option<String> {
    let mut parts = reference.split('.');
    let kind = parts.next()?;
    if !kind.contains('_')
        || matches!(
            kind,
            "var" | "local" | "data" | "module" | "each" | "count" | "path" | "self" | "terraform"
        )
    {
        return None;
    }
    let name = parts.next()?;
    Some(format!("{kind}.{name}"))
}

/// A route attribute that names a target: its name, the resource types it
/// refers to, and the kind of target it makes.
type TargetAttr = (&'static str, &'static [&'static str], fn(String) -> Target);

struct Reader<'a, 'f> {
    file: &'f ConfigFile,
    object: u32,
    resources: &'a [Resource<'a>],
    by_id: HashMap<String, String>,
    /// Instance address → its resource.
    by_address: HashMap<&'a str, &'a Resource<'a>>,
    /// Configuration address (`aws_subnet.w`) and instance address →
    /// instance addresses.
    instances: HashMap<String, Vec<&'a str>>,
    problems: &'f mut Vec<(String, crate::report::Location)>,
}

/// `tags`, with the provider's `default_tags` (`tags_all`) where known.
fn tags(values: &Value) -> super::Tags {
    let mut out = super::Tags::new();
    for attr in ["tags_all", "tags"] {
        if let Some(m) = values.get(attr).and_then(Value::as_object) {
            for (k, v) in m {
                if let Some(v) = v.as_str() {
                    out.insert(k.clone(), v.to_string());
                }
            }
        }
    }
    out
}

fn text<'v>(values: &'v Value, attr: &str) -> Option<&'v str> {
    values
        .get(attr)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn strings<'v>(values: &'v Value, attr: &str) -> Vec<&'v str> {
    values
        .get(attr)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether an `after_unknown` value marks anything unknown (`true`, or a
/// list or object holding one).
fn any_unknown(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Array(items) => items.iter().any(any_unknown),
        Value::Object(map) => map.values().any(any_unknown),
        _ => false,
    }
}

fn is_unknown(unknown: Option<&Value>, attr: &str) -> bool {
    unknown
        .and_then(|u| u.get(attr))
        .is_some_and(|v| v == &Value::Bool(true))
}

fn port(values: &Value, attr: &str) -> Option<u16> {
    let n = values.get(attr)?.as_i64()?;
    u16::try_from(n.max(0)).ok()
}

impl Reader<'_, '_> {
    fn origin(&self, r: &Resource<'_>, inner: &str) -> Origin {
        let pointer = format!("{}{inner}", r.pointer);
        Origin {
            address: r.address.clone(),
            location: self.file.at(&pointer),
            object: self.object,
            pointer,
        }
    }

    fn problem(&mut self, r: &Resource<'_>, inner: &str, message: String) {
        let at = self.file.at(&format!("{}{inner}", r.pointer));
        self.problems
            .push((format!("{}: {message}", r.address), at));
    }

    fn cidr(&mut self, r: &Resource<'_>, inner: &str, text: &str) -> Option<IpNet> {
        match text.parse::<IpNet>() {
            Ok(n) => Some(n.trunc()),
            Err(_) => {
                self.problem(r, inner, format!("`{text}` is not a CIDR"));
                None
            }
        }
    }

    /// What an ID attribute links to: the resource with that ID, else the
    /// one resource of `kinds` the attribute's expression refers to. `None`
    /// when the attribute is not set.
    fn link(
        &self,
        values: &Value,
        unknown: Option<&Value>,
        references: &[String],
        attr: &str,
        kinds: &[&str],
        what: &str,
    ) -> Option<Known<String>> {
        if let Some(id) = text(values, attr) {
            return Some(Known::Yes(
                self.by_id
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string()),
            ));
        }
        if !is_unknown(unknown, attr) && values.get(attr).is_some() {
            return None;
        }
        // Unknown, yet written nowhere: an attribute the provider computes
        // (`instance_id` of a new route), not one this resource sets.
        if !is_unknown(unknown, attr) || references.is_empty() {
            return None;
        }
        let candidates: Vec<&String> = references
            .iter()
            .filter(|r| {
                let kind = r.rsplit('.').nth(1).unwrap_or_default();
                kinds.contains(&kind)
            })
            .collect();
        // `x[0].id` comes with `x` in the references: the instance named
        // wins over the resource as a whole.
        let indexed: Vec<String> = candidates
            .iter()
            .filter(|c| c.contains('['))
            .map(|c| config_address(c))
            .collect();
        let mut instances: Vec<&str> = candidates
            .iter()
            .filter(|c| c.contains('[') || !indexed.contains(c))
            .flat_map(|c| {
                self.instances
                    .get(c.as_str())
                    .into_iter()
                    .flatten()
                    .copied()
            })
            .collect();
        instances.sort_unstable();
        instances.dedup();
        // `x[count.index]`, `x[each.key]`: the instance of the same key.
        let key = instance_key(what);
        let same_key: Vec<&str> = instances
            .iter()
            .copied()
            .filter(|i| key.is_some() && instance_key(i) == key)
            .collect();
        let instances = if same_key.len() == 1 {
            same_key
        } else {
            instances
        };
        Some(match instances.as_slice() {
            [one] => Known::Yes((*one).to_string()),
            [] => Known::Unknown(format!(
                "{what} `{attr}` is known only after apply, and its expression refers to no {} of the inputs",
                kinds.join(" or ")
            )),
            many => Known::Unknown(format!(
                "{what} `{attr}` is known only after apply and could be any of {}",
                many.iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        })
    }

    /// [`Reader::link`] for an attribute of `r` itself.
    fn link_of(&self, r: &Resource<'_>, attr: &str, kinds: &[&str]) -> Option<Known<String>> {
        let what = format!("`{}`", r.address);
        self.link(r.values, r.unknown, r.refs(attr), attr, kinds, &what)
    }

    /// [`Reader::link_of`], an attribute that is not set being unknown.
    fn link_or_unknown(&self, r: &Resource<'_>, attr: &str, kinds: &[&str]) -> Known<String> {
        self.link_of(r, attr, kinds)
            .unwrap_or_else(|| Known::Unknown(format!("`{}` has no `{attr}`", r.address)))
    }

    /// The instances of `kind` that references name (`x[0]` alone when it
    /// is named, every `x[…]` for `x`).
    fn instances_named(&self, references: &[String], kind: &str) -> Vec<String> {
        let indexed: Vec<String> = references
            .iter()
            .filter(|c| c.contains('['))
            .map(|c| config_address(c))
            .collect();
        let mut out: Vec<String> = references
            .iter()
            .filter(|c| c.contains('[') || !indexed.contains(c))
            .flat_map(|c| self.instances.get(c.as_str()).into_iter().flatten())
            .filter(|a| self.kind_of(a) == Some(kind))
            .map(|a| (*a).to_string())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    fn kind_of(&self, key: &str) -> Option<&str> {
        self.by_address.get(key).map(|r| r.kind)
    }

    /// The target of a route (inline block or `aws_route`).
    /// `references` gives each attribute's references (an inline block's
    /// are its block's).
    fn target(
        &self,
        values: &Value,
        unknown: Option<&Value>,
        references: &dyn Fn(&str) -> Vec<String>,
        what: &str,
    ) -> Known<Target> {
        let attrs: [TargetAttr; 10] = [
            ("nat_gateway_id", &["aws_nat_gateway"], Target::NatGateway),
            (
                "egress_only_gateway_id",
                &["aws_egress_only_internet_gateway"],
                Target::EgressOnlyGateway,
            ),
            (
                "vpc_endpoint_id",
                &["aws_vpc_endpoint"],
                Target::VpcEndpoint,
            ),
            (
                "vpc_peering_connection_id",
                &["aws_vpc_peering_connection"],
                Target::Peering,
            ),
            (
                "transit_gateway_id",
                &["aws_ec2_transit_gateway"],
                Target::TransitGateway,
            ),
            (
                "network_interface_id",
                &["aws_network_interface"],
                Target::NatInstance,
            ),
            ("instance_id", &["aws_instance"], Target::NatInstance),
            (
                "carrier_gateway_id",
                &["aws_ec2_carrier_gateway"],
                Target::Other,
            ),
            ("local_gateway_id", &[], Target::Other),
            ("core_network_arn", &[], Target::Other),
        ];
        // `gateway_id`: an internet or VPN gateway, or `local`.
        if text(values, "gateway_id") == Some("local") {
            return Known::Yes(Target::Local);
        }
        if let Some(link) = self.link(
            values,
            unknown,
            &references("gateway_id"),
            "gateway_id",
            &["aws_internet_gateway", "aws_vpn_gateway"],
            what,
        ) {
            return match link {
                Known::Yes(key) => Known::Yes(
                    if key.starts_with("vgw-") || self.kind_of(&key) == Some("aws_vpn_gateway") {
                        Target::VpnGateway(key)
                    } else {
                        Target::InternetGateway(key)
                    },
                ),
                Known::Unknown(why) => Known::Unknown(why),
            };
        }
        for (attr, kinds, make) in attrs {
            if let Some(link) = self.link(values, unknown, &references(attr), attr, kinds, what) {
                return match link {
                    Known::Yes(key) => Known::Yes(make(key)),
                    Known::Unknown(why) => Known::Unknown(why),
                };
            }
        }
        Known::Unknown(format!("{what} names no target the inputs determine"))
    }

    fn route_destination(
        &mut self,
        r: &Resource<'_>,
        values: &Value,
        inner: &str,
        names: [&str; 3],
    ) -> Option<Destination> {
        let [v4, v6, pl] = names;
        if let Some(c) = text(values, v4).or_else(|| text(values, v6)) {
            return self.cidr(r, inner, c).map(Destination::Cidr);
        }
        if let Some(p) = text(values, pl) {
            return Some(Destination::PrefixList(
                self.by_id.get(p).cloned().unwrap_or_else(|| p.to_string()),
            ));
        }
        let unknown = r.unknown_at(inner);
        names.iter().find(|n| is_unknown(unknown, n)).map(|n| {
            Destination::Unknown(format!("`{}`'s `{n}` is known only after apply", r.address))
        })
    }

    fn build(mut self, net: &mut Network) {
        let resources = self.resources;
        for r in resources {
            match r.kind {
                "aws_vpc" => {
                    // Unknown when allocated at apply (IPAM, a generated
                    // IPv6 block).
                    let cidrs_unknown = [
                        is_unknown(r.unknown, "cidr_block"),
                        is_unknown(r.unknown, "ipv6_cidr_block"),
                    ];
                    let cidrs = text(r.values, "cidr_block")
                        .into_iter()
                        .chain(text(r.values, "ipv6_cidr_block"))
                        .filter_map(|c| c.parse::<IpNet>().ok())
                        .collect();
                    net.vpcs.push(Vpc {
                        key: r.address.clone(),
                        cidrs,
                        cidrs_unknown,
                        created: r.created,
                        flow_logs: Known::Yes(false),
                        origin: self.origin(r, ""),
                    });
                    // A state knows the main table by ID.
                    if let Some(rt) = text(r.values, "main_route_table_id") {
                        let rt = self
                            .by_id
                            .get(rt)
                            .cloned()
                            .unwrap_or_else(|| rt.to_string());
                        net.main_tables.push((
                            r.address.clone(),
                            rt,
                            self.origin(r, "/main_route_table_id"),
                        ));
                    }
                }
                "aws_flow_log" => {
                    if let Some(Known::Yes(v)) = self.link(
                        r.values,
                        r.unknown,
                        r.refs("vpc_id"),
                        "vpc_id",
                        &["aws_vpc"],
                        "flow log",
                    ) {
                        if let Some(vpc) = net.vpcs.iter_mut().find(|x| x.key == v) {
                            vpc.flow_logs = Known::Yes(true);
                        } else {
                            net.flow_log_vpcs.push(v);
                        }
                    }
                }
                "aws_subnet" => {
                    let mut cidrs = Vec::new();
                    for attr in ["cidr_block", "ipv6_cidr_block"] {
                        if let Some(c) = text(r.values, attr) {
                            cidrs.extend(self.cidr(r, &format!("/{attr}"), c));
                        }
                    }
                    net.subnets.push(Subnet {
                        key: r.address.clone(),
                        id: text(r.values, "id").map(str::to_string),
                        tags: tags(r.values),
                        vpc: self.link_or_unknown(r, "vpc_id", &["aws_vpc"]),
                        cidrs,
                        map_public_ip_on_launch: r.values.get("map_public_ip_on_launch")
                            == Some(&Value::Bool(true)),
                        origin: self.origin(r, ""),
                    });
                }
                "aws_route_table" | "aws_default_route_table" => {
                    let mut routes = Vec::new();
                    let route_refs = r.refs("route").to_vec();
                    for (i, route) in r
                        .values
                        .get("route")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        let inner = format!("/route/{i}");
                        let unknown = r.unknown_at(&inner);
                        let Some(destination) = self.route_destination(
                            r,
                            route,
                            &inner,
                            [
                                "cidr_block",
                                "ipv6_cidr_block",
                                "destination_prefix_list_id",
                            ],
                        ) else {
                            continue;
                        };
                        let target = self.target(
                            route,
                            unknown,
                            &|_| route_refs.clone(),
                            &format!("a route of `{}`", r.address),
                        );
                        routes.push(Route {
                            destination,
                            target,
                            origin: self.origin(r, &inner),
                        });
                    }
                    let table_vpc = if r.kind == "aws_default_route_table" {
                        // The default table is its VPC's main table.
                        let v = self.link_or_unknown(r, "default_route_table_id", &["aws_vpc"]);
                        let owner = match &v {
                            Known::Yes(key) if self.kind_of(key) == Some("aws_vpc") => {
                                Some(key.clone())
                            }
                            _ => resources
                                .iter()
                                .find(|x| {
                                    x.kind == "aws_vpc"
                                        && text(r.values, "default_route_table_id").is_some_and(
                                            |id| {
                                                text(x.values, "default_route_table_id") == Some(id)
                                            },
                                        )
                                })
                                .map(|x| x.address.clone()),
                        };
                        if let Some(owner) = &owner {
                            net.main_tables.push((
                                owner.clone(),
                                r.address.clone(),
                                self.origin(r, ""),
                            ));
                        }
                        owner.map_or_else(
                            || {
                                Known::Unknown(format!(
                                    "the VPC of `{}` is not in the inputs",
                                    r.address
                                ))
                            },
                            Known::Yes,
                        )
                    } else {
                        self.link_or_unknown(r, "vpc_id", &["aws_vpc"])
                    };
                    net.route_tables.push(RouteTable {
                        key: r.address.clone(),
                        vpc: table_vpc,
                        routes,
                        origin: self.origin(r, ""),
                    });
                }
                "aws_route_table_association" => {
                    let what = format!("`{}`", r.address);
                    // A gateway association (`gateway_id`) has no subnet.
                    let Some(subnet) = self.link(
                        r.values,
                        r.unknown,
                        r.refs("subnet_id"),
                        "subnet_id",
                        &["aws_subnet"],
                        &what,
                    ) else {
                        continue;
                    };
                    let table = self.link_or_unknown(
                        r,
                        "route_table_id",
                        &["aws_route_table", "aws_default_route_table"],
                    );
                    match subnet {
                        Known::Yes(subnet) => {
                            net.associations.push((subnet, table, self.origin(r, "")))
                        }
                        Known::Unknown(why) => {
                            net.loose_associations.push((why, self.origin(r, "")))
                        }
                    }
                }
                "aws_main_route_table_association" => {
                    if let (Known::Yes(v), Known::Yes(table)) = (
                        self.link_or_unknown(r, "vpc_id", &["aws_vpc"]),
                        self.link_or_unknown(
                            r,
                            "route_table_id",
                            &["aws_route_table", "aws_default_route_table"],
                        ),
                    ) {
                        net.main_tables.retain(|(x, _, _)| *x != v);
                        net.main_tables.push((v, table, self.origin(r, "")));
                    }
                }
                "aws_nat_gateway" => net.nat_gateways.push(NatGateway {
                    key: r.address.clone(),
                    subnet: self.link_or_unknown(r, "subnet_id", &["aws_subnet"]),
                    private: text(r.values, "connectivity_type") == Some("private"),
                    origin: self.origin(r, ""),
                }),
                "aws_security_group" | "aws_default_security_group" => {
                    let mut rules = Vec::new();
                    for egress in [false, true] {
                        let block = if egress { "egress" } else { "ingress" };
                        for (i, rule) in r
                            .values
                            .get(block)
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .enumerate()
                        {
                            let inner = format!("/{block}/{i}");
                            self.sg_rules(r, rule, &inner, egress, &r.address, &mut rules);
                        }
                    }
                    net.security_groups.push(SecurityGroup {
                        key: r.address.clone(),
                        id: text(r.values, "id").map(str::to_string),
                        tags: tags(r.values),
                        name: text(r.values, "name").unwrap_or("default").to_string(),
                        vpc: self.link_or_unknown(r, "vpc_id", &["aws_vpc"]),
                        rules,
                        default: r.kind == "aws_default_security_group",
                        origin: self.origin(r, ""),
                    });
                }
                _ => {}
            }
        }
        // Standalone rules and routes attach to what the first pass made.
        for r in resources {
            match r.kind {
                "aws_vpc_ipv4_cidr_block_association" | "aws_vpc_ipv6_cidr_block_association" => {
                    let Some(Known::Yes(v)) = self.link_of(r, "vpc_id", &["aws_vpc"]) else {
                        continue;
                    };
                    let Some(vpc) = net.vpcs.iter_mut().find(|x| x.key == v) else {
                        continue;
                    };
                    let block =
                        text(r.values, "cidr_block").or_else(|| text(r.values, "ipv6_cidr_block"));
                    match block.and_then(|c| c.parse::<IpNet>().ok()) {
                        Some(c) => vpc.cidrs.push(c.trunc()),
                        // Allocated at apply: the VPC's CIDRs are not known.
                        None => vpc.cidrs_unknown[usize::from(r.kind.contains("ipv6"))] = true,
                    }
                }
                "aws_route" => {
                    let Some(destination) = self.route_destination(
                        r,
                        r.values,
                        "",
                        [
                            "destination_cidr_block",
                            "destination_ipv6_cidr_block",
                            "destination_prefix_list_id",
                        ],
                    ) else {
                        continue;
                    };
                    let target = self.target(
                        r.values,
                        r.unknown,
                        &|a| r.refs(a).to_vec(),
                        &format!("`{}`", r.address),
                    );
                    let route = Route {
                        destination,
                        target,
                        origin: self.origin(r, ""),
                    };
                    // `aws_vpc.x.default_route_table_id` names the VPC's
                    // main table.
                    let table = self.link_of(
                        r,
                        "route_table_id",
                        &["aws_route_table", "aws_default_route_table", "aws_vpc"],
                    );
                    let table = match table {
                        Some(Known::Yes(key)) if self.kind_of(&key) == Some("aws_vpc") => net
                            .main_tables
                            .iter()
                            .find(|(v, _, _)| *v == key)
                            .map(|(_, t, _)| Known::Yes(t.clone()))
                            .unwrap_or_else(|| {
                                Known::Unknown(format!(
                                    "the main route table of `{key}` is not in the inputs"
                                ))
                            }),
                        Some(t) => t,
                        None => continue,
                    };
                    match table {
                        Known::Yes(table) => {
                            if let Some(t) = net.route_tables.iter_mut().find(|t| t.key == table) {
                                t.routes.push(route);
                            }
                        }
                        Known::Unknown(why) => net.loose_routes.push((route, why)),
                    }
                }
                "aws_security_group_rule" => {
                    let Some(Known::Yes(group)) = self.link_of(
                        r,
                        "security_group_id",
                        &["aws_security_group", "aws_default_security_group"],
                    ) else {
                        continue;
                    };
                    let egress = text(r.values, "type") == Some("egress");
                    let mut rules = Vec::new();
                    self.sg_rules(r, r.values, "", egress, &group, &mut rules);
                    if let Some(g) = net.security_groups.iter_mut().find(|g| g.key == group) {
                        g.rules.extend(rules);
                    }
                }
                "aws_vpc_security_group_egress_rule" | "aws_vpc_security_group_ingress_rule" => {
                    let Some(Known::Yes(group)) = self.link_of(
                        r,
                        "security_group_id",
                        &["aws_security_group", "aws_default_security_group"],
                    ) else {
                        continue;
                    };
                    let egress = r.kind.ends_with("egress_rule");
                    let Some(protocol) = text(r.values, "ip_protocol").and_then(Protocol::parse)
                    else {
                        continue;
                    };
                    let ports = (
                        port(r.values, "from_port").unwrap_or(0),
                        port(r.values, "to_port").unwrap_or(65535),
                    );
                    let mut peers = Vec::new();
                    for attr in ["cidr_ipv4", "cidr_ipv6"] {
                        if let Some(c) = text(r.values, attr) {
                            peers.extend(self.cidr(r, &format!("/{attr}"), c).map(Peer::Cidr));
                        }
                    }
                    if let Some(p) = text(r.values, "prefix_list_id") {
                        peers.push(Peer::PrefixList(p.to_string()));
                    }
                    if let Some(Known::Yes(g)) =
                        self.link_of(r, "referenced_security_group_id", &["aws_security_group"])
                    {
                        peers.push(Peer::Group(g));
                    }
                    let origin = self.origin(r, "");
                    if let Some(g) = net.security_groups.iter_mut().find(|g| g.key == group) {
                        g.rules.extend(peers.into_iter().map(|peer| SgRule {
                            egress,
                            protocol,
                            ports: if protocol == Protocol::All {
                                (0, 65535)
                            } else {
                                ports
                            },
                            peer,
                            origin: origin.clone(),
                        }));
                    }
                }
                "aws_network_acl" | "aws_default_network_acl" => {
                    let mut entries = Vec::new();
                    for egress in [false, true] {
                        let block = if egress { "egress" } else { "ingress" };
                        for (i, e) in r
                            .values
                            .get(block)
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .enumerate()
                        {
                            let inner = format!("/{block}/{i}");
                            entries
                                .extend(self.nacl_entry(r, e, &inner, egress, "rule_no", "action"));
                        }
                    }
                    let subnets = strings(r.values, "subnet_ids")
                        .into_iter()
                        .map(|id| {
                            self.by_id
                                .get(id)
                                .cloned()
                                .unwrap_or_else(|| id.to_string())
                        })
                        .chain(
                            if r.unknown
                                .and_then(|u| u.get("subnet_ids"))
                                .is_some_and(any_unknown)
                            {
                                self.instances_named(r.refs("subnet_ids"), "aws_subnet")
                            } else {
                                Vec::new()
                            },
                        )
                        .collect();
                    let default = r.kind == "aws_default_network_acl";
                    let vpc = if default {
                        // Its `vpc_id` (a state), else the VPC whose
                        // `default_network_acl_id` it manages.
                        let own = text(r.values, "default_network_acl_id");
                        match self.link_of(r, "vpc_id", &["aws_vpc"]) {
                            Some(Known::Yes(v)) => Known::Yes(v),
                            _ => resources
                                .iter()
                                .find(|x| x.kind == "aws_vpc" && own.is_some() && text(x.values, "default_network_acl_id") == own)
                                .map(|x| Known::Yes(x.address.clone()))
                                .or_else(|| {
                                    self.link_of(r, "default_network_acl_id", &["aws_vpc"])
                                        .filter(|k| matches!(k, Known::Yes(key) if self.kind_of(key) == Some("aws_vpc")))
                                })
                                .unwrap_or_else(|| Known::Unknown(format!("the VPC of `{}` is not in the inputs", r.address))),
                        }
                    } else {
                        self.link_of(r, "vpc_id", &["aws_vpc"])
                            .unwrap_or_else(|| Known::Unknown("no vpc_id".to_string()))
                    };
                    net.nacls.push(Nacl {
                        key: r.address.clone(),
                        vpc,
                        subnets,
                        entries,
                        default,
                        origin: self.origin(r, ""),
                    });
                }
                _ => {}
            }
        }
        // Rules and associations of ACLs come after the ACLs.
        for r in resources {
            match r.kind {
                "aws_network_acl_rule" => {
                    let Some(Known::Yes(acl)) = self.link_of(
                        r,
                        "network_acl_id",
                        &["aws_network_acl", "aws_default_network_acl"],
                    ) else {
                        continue;
                    };
                    let egress = r.values.get("egress") == Some(&Value::Bool(true));
                    let entries =
                        self.nacl_entry(r, r.values, "", egress, "rule_number", "rule_action");
                    if let Some(n) = net.nacls.iter_mut().find(|n| n.key == acl) {
                        n.entries.extend(entries);
                    }
                }
                "aws_network_acl_association" => {
                    if let (Some(Known::Yes(acl)), Some(Known::Yes(subnet))) = (
                        self.link_of(
                            r,
                            "network_acl_id",
                            &["aws_network_acl", "aws_default_network_acl"],
                        ),
                        self.link_of(r, "subnet_id", &["aws_subnet"]),
                    ) {
                        for n in &mut net.nacls {
                            n.subnets.retain(|s| *s != subnet);
                        }
                        if let Some(n) = net.nacls.iter_mut().find(|n| n.key == acl) {
                            n.subnets.push(subnet);
                        }
                    }
                }
                _ => {}
            }
        }
        for v in std::mem::take(&mut net.flow_log_vpcs) {
            match net.vpcs.iter_mut().find(|x| x.key == v) {
                Some(vpc) => vpc.flow_logs = Known::Yes(true),
                None => net.flow_log_vpcs.push(v),
            }
        }
    }

    /// The rules of one security-group rule block: one per peer.
    /// `group` is the group the rule belongs to (`self = true`).
    fn sg_rules(
        &mut self,
        r: &Resource<'_>,
        rule: &Value,
        inner: &str,
        egress: bool,
        group: &str,
        out: &mut Vec<SgRule>,
    ) {
        let Some(protocol) = text(rule, "protocol").and_then(Protocol::parse) else {
            self.problem(
                r,
                inner,
                "a rule without a protocol Palisade knows".to_string(),
            );
            return;
        };
        let ports = if protocol == Protocol::All {
            (0, 65535)
        } else {
            (
                port(rule, "from_port").unwrap_or(0),
                port(rule, "to_port").unwrap_or(65535),
            )
        };
        let origin = self.origin(r, inner);
        let mut push = |peer: Peer| {
            out.push(SgRule {
                egress,
                protocol,
                ports,
                peer,
                origin: origin.clone(),
            });
        };
        for attr in ["cidr_blocks", "ipv6_cidr_blocks"] {
            for c in strings(rule, attr) {
                if let Ok(n) = c.parse::<IpNet>() {
                    push(Peer::Cidr(n.trunc()));
                } else {
                    self.problems.push((
                        format!("{}: `{c}` is not a CIDR", r.address),
                        self.file.at(&format!("{}{inner}/{attr}", r.pointer)),
                    ));
                }
            }
        }
        for attr in ["prefix_list_ids"] {
            for p in strings(rule, attr) {
                push(Peer::PrefixList(p.to_string()));
            }
        }
        // Peers known only after apply (an address of a new resource).
        let unknown = r.unknown_at(inner);
        for attr in [
            "cidr_blocks",
            "ipv6_cidr_blocks",
            "prefix_list_ids",
            "security_groups",
            "source_security_group_id",
            "cidr_ipv4",
            "cidr_ipv6",
        ] {
            // Only what the configuration writes: the provider computes some
            // of these (`source_security_group_id`) for every new rule.
            let written = if inner.is_empty() {
                r.references.contains_key(attr)
            } else {
                inner
                    .split('/')
                    .nth(1)
                    .is_some_and(|block| r.references.contains_key(block))
            };
            if written && unknown.and_then(|u| u.get(attr)).is_some_and(any_unknown) {
                push(Peer::Unknown(format!(
                    "`{}`'s `{attr}` is known only after apply",
                    r.address
                )));
            }
        }
        let mut groups: Vec<String> = strings(rule, "security_groups")
            .into_iter()
            .map(|g| self.by_id.get(g).cloned().unwrap_or_else(|| g.to_string()))
            .collect();
        groups.extend(
            text(rule, "source_security_group_id")
                .map(|g| self.by_id.get(g).cloned().unwrap_or_else(|| g.to_string())),
        );
        if rule.get("self") == Some(&Value::Bool(true)) {
            groups.push(group.to_string());
        }
        for g in groups {
            push(Peer::Group(g));
        }
    }

    fn nacl_entry(
        &mut self,
        r: &Resource<'_>,
        e: &Value,
        inner: &str,
        egress: bool,
        number: &str,
        action: &str,
    ) -> Option<NaclEntry> {
        let rule_no = u32::try_from(e.get(number)?.as_i64()?).ok()?;
        let protocol = match e.get("protocol") {
            Some(Value::String(s)) => Protocol::parse(s),
            Some(Value::Number(n)) => Protocol::parse(&n.to_string()),
            _ => None,
        };
        let Some(protocol) = protocol else {
            self.problem(
                r,
                inner,
                "a network ACL rule without a protocol Palisade knows".to_string(),
            );
            return None;
        };
        let unknown = r.unknown_at(inner);
        let cidr = match text(e, "cidr_block").or_else(|| text(e, "ipv6_cidr_block")) {
            Some(c) => Known::Yes(self.cidr(r, inner, c)?),
            None if is_unknown(unknown, "cidr_block") || is_unknown(unknown, "ipv6_cidr_block") => {
                Known::Unknown(format!("`{}`'s range is known only after apply", r.address))
            }
            None => return None,
        };
        Some(NaclEntry {
            egress,
            number: rule_no,
            allow: text(e, action) == Some("allow"),
            protocol,
            ports: if protocol.has_ports() {
                (
                    port(e, "from_port").unwrap_or(0),
                    port(e, "to_port").unwrap_or(65535),
                )
            } else {
                (0, 65535)
            },
            cidr,
            origin: self.origin(r, inner),
        })
    }
}
