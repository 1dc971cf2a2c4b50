//! Built-in plugin `private-subnet`: the physical isolation under the
//! policy layer. Workload subnets have no route to the internet, the
//! proxy's subnet has one, the security groups around both are tight, and
//! a NetworkPolicy that opens direct egress is judged by whether the
//! network would carry it.
//!
//! The plugin reads the cloud facts of the contract (0.2.2): the host has
//! already resolved route tables, longest-prefix routes, NAT gateways and
//! their subnets, security groups and network ACLs, and where the policy
//! set places the cluster (`spec.cloud`). Without cloud inputs it reports
//! nothing.

use ipnet::IpNet;
use palisade_sdk::cloud::{
    CloudOrigin, ClusterParts, GroupPeer, Hop, Outcome, RouteExit, SecurityGroup, Subnet,
};
use palisade_sdk::{
    Context, Findings, FlowView, Peer, Plugin, PortRef, Protocol, Rule, SettingSpec, SettingType,
    Severity, Workload,
};
use serde::Deserialize;

/// Settings of the `private-subnet` plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// Namespaces out of scope for the cross-layer rule, besides the
    /// policy set's. Default: kube-system, kube-public, kube-node-lease.
    #[serde(default = "palisade_sdk::system_namespaces")]
    pub excluded_namespaces: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            excluded_namespaces: palisade_sdk::system_namespaces(),
        }
    }
}

/// The plugin.
#[derive(Debug)]
pub struct PrivateSubnet;

impl Plugin for PrivateSubnet {
    const ID: &'static str = "private-subnet";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "The private subnet under the policies: no internet route \
        for workloads, one for the proxy, tight security groups, and direct egress judged by \
        whether the network carries it.";
    type Settings = Settings;
    const SETTINGS: &'static [SettingSpec] = &[SettingSpec {
        name: "excludedNamespaces",
        kind: SettingType::TextList,
        doc: "Namespaces out of scope for PS008, besides the policy set's (default: kube-system, kube-public, kube-node-lease)",
    }];
    const RULES: &'static [Rule<Settings>] =
        &[PS001, PS002, PS003, PS004, PS005, PS006, PS007, PS008];
}

palisade_sdk::export_plugin!(PrivateSubnet);

/// Whether the nodes or the pods sit on an element.
fn hosts_workloads(parts: ClusterParts) -> bool {
    parts.nodes || parts.pods
}

/// Reports a finding at an element of the cloud inputs.
fn at<'a>(
    out: &'a mut Findings,
    origin: &CloudOrigin,
    message: String,
) -> palisade_sdk::FindingBuilder<'a> {
    out.report(origin.object, message)
        .at(origin.pointer.clone())
}

/// The hops, for a message: `a → b → c`.
fn path(hops: &[Hop]) -> String {
    hops.iter()
        .map(|h| h.what.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where the subnet's first internet route is written, else the subnet.
fn route_origin<'a>(s: &'a Subnet, hops: &'a [Hop]) -> &'a CloudOrigin {
    hops.iter()
        .find(|h| h.what.starts_with("route table"))
        .or_else(|| hops.first())
        .and_then(|h| h.origin.as_ref())
        .unwrap_or(&s.origin)
}

fn family(destination: &str) -> &'static str {
    if destination.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    }
}

const PS001: Rule<Settings> = Rule {
    id: "PS001",
    name: "workload-subnet-routes-to-internet",
    default_severity: Severity::Error,
    summary: "A subnet the cluster's workloads run in routes some internet destination out, through an internet gateway, a NAT or an egress-only gateway",
    doc: r#"## What it checks

Every subnet the policy set places the nodes or the pods in (`spec.cloud`):
its effective route table (its explicit association, else the VPC's main
table) must not carry any public destination, IPv4 or IPv6, to the internet.
The host follows each route by longest prefix, past the routes and VPC ranges
more specific than it: an internet gateway is the internet; a NAT gateway is
when the NAT's own subnet routes on to an internet gateway; an egress-only
internet gateway is IPv6's way out. Each finding cites the route and, through
a NAT, the route of the NAT's subnet. A route whose target the inputs do not
settle is reported as a warning with the reason.

## Why it matters

The private subnet is the physical layer of the design: the one place where
"no route to the internet" is a fact rather than a policy. With a default
route to a NAT, a workload that gets past its NetworkPolicy (a policy
mistake, a CNI that does not enforce egress, a pod with `hostNetwork`) goes
straight out. `::/0` through an egress-only gateway is the one people forget:
IPv4 is locked down and IPv6 is wide open.

## Example

```hcl
resource "aws_route" "workloads_default" {
  route_table_id         = aws_route_table.workloads.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.main.id
}
```

## How to fix

Remove the default routes (IPv4 and IPv6) from the workload subnets' route
table. Reach AWS services through VPC endpoints, and everything else through
the proxy.

## Settings

None. Which subnets hold workloads is the policy set's `spec.cloud`.
"#,
    check: |cx, out| {
        for s in cx.facts().subnets() {
            if !hosts_workloads(s.parts) {
                continue;
            }
            match &s.internet_routes {
                Err(why) => {
                    at(out, &s.origin, format!(
                        "workload subnet `{}`: cannot tell whether it routes to the internet: {why}",
                        s.key
                    ))
                    .severity(Severity::Warning);
                }
                Ok(routes) => {
                    for r in routes {
                        let origin = route_origin(s, &r.hops);
                        match &r.exit {
                            RouteExit::Internet => {
                                at(out, origin, format!(
                                    "workload subnet `{}` routes {} ({}) to the internet: {}",
                                    s.key,
                                    r.destination,
                                    family(&r.destination),
                                    path(&r.hops)
                                ))
                                .fix("remove the route; reach AWS services through VPC endpoints and the internet through the proxy");
                            }
                            RouteExit::Unknown(why) => {
                                at(out, origin, format!(
                                    "workload subnet `{}` may route {} ({}) to the internet: {why}",
                                    s.key,
                                    r.destination,
                                    family(&r.destination)
                                ))
                                .severity(Severity::Warning);
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    },
};

const PS002: Rule<Settings> = Rule {
    id: "PS002",
    name: "workload-subnet-assigns-public-ips",
    default_severity: Severity::Error,
    summary: "A subnet the cluster's workloads run in gives instances a public IPv4 address at launch",
    doc: r#"## What it checks

Every subnet the policy set places the nodes or the pods in must have
`map_public_ip_on_launch` off (`MapPublicIpOnLaunch: false`).

## Why it matters

A node with a public address is reachable from the internet wherever a route
to an internet gateway exists, and one route table change makes it so. A
private subnet hands out private addresses only.

## Example

```hcl
resource "aws_subnet" "workloads" {
  cidr_block              = "10.0.16.0/20"
  map_public_ip_on_launch = true
}
```

## How to fix

Set `map_public_ip_on_launch = false` (the default) on workload subnets.

## Settings

None.
"#,
    check: |cx, out| {
        for s in cx.facts().subnets() {
            if hosts_workloads(s.parts) && s.map_public_ip_on_launch {
                // The attribute, as Terraform or the AWS CLI names it.
                let terraform = cx
                    .object(s.origin.object)
                    .is_some_and(|o| o.kind.starts_with("Terraform"));
                let field = if terraform {
                    "map_public_ip_on_launch"
                } else {
                    "MapPublicIpOnLaunch"
                };
                let origin = CloudOrigin {
                    pointer: format!("{}/{field}", s.origin.pointer),
                    ..s.origin.clone()
                };
                at(out, &origin, format!(
                    "workload subnet `{}` gives every instance launched in it a public IPv4 address",
                    s.key
                ))
                .fix("set map_public_ip_on_launch = false");
            }
        }
    },
};

/// Whether a CIDR text is every address of its family.
fn every_address(cidr: &str) -> bool {
    cidr.parse::<IpNet>().is_ok_and(|n| n.prefix_len() == 0)
}

const PS003: Rule<Settings> = Rule {
    id: "PS003",
    name: "cluster-group-egress-to-everywhere",
    default_severity: Severity::Warning,
    summary: "A security group the nodes or pods carry allows egress to every address",
    doc: r#"## What it checks

Every security group the policy set gives the nodes or the pods: no egress
rule may admit `0.0.0.0/0` or `::/0` (on any protocol or port). AWS gives a
new security group exactly such a rule; Terraform removes it unless it is
written back.

## Why it matters

Security groups are the last firewall a packet meets before it leaves the
instance, and they apply whatever the NetworkPolicies and routes say. Egress
limited to the VPC (the proxy, DNS, endpoints) keeps a workload that escapes
its policy from using any route that appears later.

## Example

```hcl
egress {
  from_port   = 0
  to_port     = 0
  protocol    = "-1"
  cidr_blocks = ["0.0.0.0/0"]
}
```

## How to fix

Allow egress to the VPC's ranges (or to the proxy's and the endpoints'
security groups) only.

## Settings

None.
"#,
    check: |cx, out| {
        for g in cx.facts().security_groups() {
            if !hosts_workloads(g.parts) {
                continue;
            }
            for r in g.rules.iter().filter(|r| r.egress) {
                if let GroupPeer::Cidr(c) = &r.peer
                    && every_address(c)
                {
                    at(
                        out,
                        &r.origin,
                        format!(
                            "security group `{}` of the cluster allows egress to {c} ({})",
                            g.key,
                            ports_text(&r.protocol, r.first_port, r.last_port)
                        ),
                    )
                    .fix(
                        "limit egress to the VPC's ranges or to the proxy's and endpoints' groups",
                    );
                }
            }
        }
    },
};

fn ports_text(protocol: &str, first: u16, last: u16) -> String {
    match protocol {
        "tcp" | "udp" if first == last => format!("{protocol} {first}"),
        "tcp" | "udp" if first == 0 && last == u16::MAX => format!("{protocol}, every port"),
        "tcp" | "udp" => format!("{protocol} {first}-{last}"),
        "all" => "every protocol".to_string(),
        other => other.to_string(),
    }
}

const PS004: Rule<Settings> = Rule {
    id: "PS004",
    name: "proxy-subnet-without-internet",
    default_severity: Severity::Error,
    summary: "A subnet the proxy runs in has no route to the internet, so the proxy cannot work",
    doc: r#"## What it checks

Every subnet the policy set places the proxy in (`spec.cloud.proxy.subnets`)
must route some public destination to the internet: through an internet
gateway, or a NAT gateway whose subnet routes to one.

## Why it matters

The proxy is the one controlled exit. In a subnet without a way out it
answers every request with an error, and teams route around it: a NAT route
on the workload subnets "for now" is how the private subnet is lost.

## Example

A proxy subnet associated with the same route table as the workload subnets,
which has only the `local` route.

## How to fix

Give the proxy subnet its own route table with `0.0.0.0/0` to a NAT gateway
in a public subnet (or to an internet gateway, with a public address for the
proxy).

## Settings

None.
"#,
    check: |cx, out| {
        for s in cx.facts().subnets() {
            if !s.parts.proxy {
                continue;
            }
            match &s.internet_routes {
                Err(why) => {
                    at(
                        out,
                        &s.origin,
                        format!(
                            "proxy subnet `{}`: cannot tell whether it reaches the internet: {why}",
                            s.key
                        ),
                    )
                    .severity(Severity::Warning);
                }
                Ok(routes) if routes.iter().any(|r| r.exit == RouteExit::Internet) => {}
                Ok(routes) if !routes.is_empty() => {
                    let why: Vec<String> = routes
                        .iter()
                        .filter_map(|r| match &r.exit {
                            RouteExit::Unknown(why) => Some(format!("{}: {why}", r.destination)),
                            _ => None,
                        })
                        .collect();
                    at(
                        out,
                        &s.origin,
                        format!(
                            "proxy subnet `{}` may not reach the internet: {}",
                            s.key,
                            why.join("; ")
                        ),
                    )
                    .severity(Severity::Warning);
                }
                Ok(_) => {
                    at(out, &s.origin, format!(
                        "proxy subnet `{}` has no route to the internet: the proxy cannot reach any destination",
                        s.key
                    ))
                    .fix("route 0.0.0.0/0 from the proxy subnet to a NAT gateway in a public subnet");
                }
            }
        }
    },
};

/// Whether `peer` lies inside one of `cidrs`.
fn inside(peer: &str, cidrs: &[String]) -> bool {
    let Ok(peer) = peer.parse::<IpNet>() else {
        return false;
    };
    cidrs
        .iter()
        .filter_map(|c| c.parse::<IpNet>().ok())
        .any(|c| c.contains(&peer))
}

/// Whether a rule of `protocol` over `first..=last` admits one of `ports`
/// over TCP.
fn admits_any(protocol: &str, first: u16, last: u16, ports: &[u16]) -> bool {
    match protocol {
        "all" => true,
        "tcp" => ports.is_empty() || ports.iter().any(|p| (first..=last).contains(p)),
        _ => false,
    }
}

const PS005: Rule<Settings> = Rule {
    id: "PS005",
    name: "proxy-group-open-beyond-clients",
    default_severity: Severity::Error,
    summary: "A security group the proxy carries admits connections to the proxy's ports from beyond its clients",
    doc: r#"## What it checks

Every security group the policy set gives the proxy: each ingress rule that
admits the proxy's ports over TCP (`roles.proxy.ports`; a rule for every
protocol counts) must name a peer inside the proxy's client ranges
(`roles.proxy.clientCidrs`) or another security group.

## Why it matters

An open proxy is a way in and a way out for anyone who can reach it: the
allow-list then applies to strangers as well as to the cluster, and the
access logs fill with traffic nobody can attribute.

## Example

```hcl
ingress {
  from_port   = 3128
  to_port     = 3128
  protocol    = "tcp"
  cidr_blocks = ["0.0.0.0/0"]
}
```

## How to fix

Admit the pod network (the client CIDRs) or the nodes' security group only.

## Settings

None. The proxy's ports and client ranges are the policy set's
`roles.proxy`.
"#,
    check: |cx, out| {
        let role = cx.facts().proxy();
        for g in cx.facts().security_groups() {
            if !g.parts.proxy {
                continue;
            }
            check_proxy_group(g, &role.ports, &role.client_cidrs, out);
        }
    },
};

fn check_proxy_group(g: &SecurityGroup, ports: &[u16], clients: &[String], out: &mut Findings) {
    for r in g.rules.iter().filter(|r| !r.egress) {
        if !admits_any(&r.protocol, r.first_port, r.last_port, ports) {
            continue;
        }
        let beyond = match &r.peer {
            GroupPeer::Cidr(c) if !inside(c, clients) => c.clone(),
            GroupPeer::PrefixList(p) => format!("prefix list `{p}`"),
            _ => continue,
        };
        at(
            out,
            &r.origin,
            format!(
                "proxy security group `{}` admits {beyond} on {}, beyond the proxy's clients ({})",
                g.key,
                ports_text(&r.protocol, r.first_port, r.last_port),
                if clients.is_empty() {
                    "none declared".to_string()
                } else {
                    clients.join(", ")
                }
            ),
        )
        .fix("admit the client CIDRs or the nodes' security group only");
    }
}

const PS006: Rule<Settings> = Rule {
    id: "PS006",
    name: "default-security-group-not-restricted",
    default_severity: Severity::Warning,
    summary: "A VPC's default security group allows traffic",
    doc: r#"## What it checks

Every VPC of the cloud inputs: its default security group must have no rules.
A VPC created without an `aws_default_security_group` keeps AWS's defaults
(all traffic from members of the group, all egress), which is reported too.

## Why it matters

Anything launched without a security group gets the default one: an
endpoint, a test instance, a load balancer created by hand. CIS AWS
Foundations 5.4 asks that it restrict all traffic.

## Example

A Terraform VPC with no `aws_default_security_group` resource.

## How to fix

Adopt it and leave it empty:

```hcl
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}
```

## Settings

None.
"#,
    check: |cx, out| {
        for v in cx.facts().vpcs() {
            match &v.default_group_restricted {
                Ok((false, hop)) => {
                    let origin = hop.origin.as_ref().unwrap_or(&v.origin);
                    at(
                        out,
                        origin,
                        format!(
                            "the default security group of VPC `{}` is not restricted: {}",
                            v.key, hop.what
                        ),
                    )
                    .fix("declare aws_default_security_group for the VPC with no rules");
                }
                Ok((true, _)) => {}
                Err(why) => {
                    at(out, &v.origin, format!(
                        "cannot tell whether the default security group of VPC `{}` is restricted: {why}",
                        v.key
                    ))
                    .severity(Severity::Info);
                }
            }
        }
    },
};

const PS007: Rule<Settings> = Rule {
    id: "PS007",
    name: "vpc-without-flow-logs",
    default_severity: Severity::Warning,
    summary: "A VPC has no flow log",
    doc: r#"## What it checks

Every VPC of the cloud inputs has a flow log attached to it
(`aws_flow_log` with its `vpc_id`, or `describe-flow-logs` output naming it).
AWS CLI output without a `describe-flow-logs` answer does not tell: that is
an `info` finding saying so, not a pass.

## Why it matters

The proxy's access log shows what went through the proxy. The flow log is
the only record of what went around it: the evidence that the private subnet
held, or the trace of how it did not.

## Example

A VPC with no `aws_flow_log`.

## How to fix

```hcl
resource "aws_flow_log" "main" {
  vpc_id               = aws_vpc.main.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = aws_s3_bucket.flow_logs.arn
}
```

## Settings

None.
"#,
    check: |cx, out| {
        for v in cx.facts().vpcs() {
            match &v.flow_logs {
                Ok(true) => {}
                Ok(false) => {
                    at(out, &v.origin, format!("VPC `{}` has no flow log", v.key))
                        .fix("attach an aws_flow_log with traffic_type ALL");
                }
                Err(why) => {
                    at(
                        out,
                        &v.origin,
                        format!("cannot tell whether VPC `{}` has a flow log: {why}", v.key),
                    )
                    .severity(Severity::Info)
                    .fix("add the output of `aws ec2 describe-flow-logs` to the inputs");
                }
            }
        }
    },
};

/// Public addresses tried, in order, as the destination a block stands
/// for: a well-known host of each family.
const PROBES: &[&str] = &[
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "2606:2800:220:1::1",
    "2001:4860:4860::8888",
];

/// A public address inside `cidr` and outside `except`: a well-known one,
/// else the block's own first address.
fn probe(cidr: &str, except: &[String]) -> Option<String> {
    let block: IpNet = cidr.parse().ok()?;
    let excepted = |ip: &std::net::IpAddr| {
        except
            .iter()
            .filter_map(|e| e.parse::<IpNet>().ok())
            .any(|e| e.contains(ip))
    };
    PROBES
        .iter()
        .filter_map(|p| p.parse::<std::net::IpAddr>().ok())
        .chain([block.network()])
        .find(|ip| block.contains(ip) && !excepted(ip))
        .map(|ip| ip.to_string())
}

/// The TCP port a flow stands for: the first one its rule names, else 443.
fn flow_port(f: &FlowView<'_>) -> Option<u16> {
    if f.rule.ports.is_empty() {
        return Some(443);
    }
    f.rule
        .ports
        .iter()
        .find_map(|p| match (&p.port, p.protocol) {
            (None, Protocol::Tcp) => Some(443),
            (Some(PortRef::Number(n)), Protocol::Tcp) => Some(*n),
            _ => None,
        })
}

/// One direct destination of a workload that the policies allow.
struct Direct {
    object: u32,
    at: String,
    what: String,
    address: String,
    port: u16,
}

fn direct_destinations(cx: &Context<'_, Settings>, w: &Workload) -> Vec<Direct> {
    if w.isolation.egress.is_empty() {
        return vec![Direct {
            object: w.object,
            at: w.pod_spec_path.clone(),
            what: format!(
                "{} `{}/{}` is not isolated for egress: every destination is allowed",
                w.kind, w.namespace, w.name
            ),
            address: PROBES[0].to_string(),
            port: 443,
        }];
    }
    let mut out = Vec::new();
    for f in cx.flows(w, true) {
        let (cidr, except) = match f.peer {
            None => ("0.0.0.0/0".to_string(), Vec::new()),
            Some((Peer::IpBlock(b), _)) if b.classes.public => (b.cidr.clone(), b.except.clone()),
            Some(_) => continue,
        };
        let (Some(address), Some(port)) = (probe(&cidr, &except), flow_port(&f)) else {
            continue;
        };
        out.push(Direct {
            object: f.policy.object,
            at: f.path(),
            what: format!(
                "NetworkPolicy `{}/{}` egress rule {} lets {} `{}/{}` reach {cidr} on {port} directly",
                f.policy.namespace,
                f.policy.name,
                f.flow.rule,
                w.kind,
                w.namespace,
                w.name
            ),
            address,
            port,
        });
    }
    out
}

const PS008: Rule<Settings> = Rule {
    id: "PS008",
    name: "direct-egress-bypass",
    default_severity: Severity::Error,
    summary: "A NetworkPolicy lets a workload reach the internet without the proxy, and the network carries it (error) or is one route away from it (warning)",
    doc: r#"## What it checks

For every workload in scope that the policy set places in the cloud network
(`spec.cloud`), except the proxy's: each egress rule that allows a public
destination directly (an `ipBlock` covering public addresses, a rule with no
`to`, or no egress isolation at all) is followed through the network. The
host answers whether an interface in each of the workload's subnets, with its
security groups, can open that connection: the subnet's route (through a NAT
gateway, the NAT subnet's route), the groups' egress, the network ACLs out
and back.

- **Error**: some subnet carries it. The bypass is real; the finding cites
  the policy rule and the route, group and ACL hops.
- **Warning**: no subnet carries it (no internet route, or a firewall drops
  it). The bypass is latent: one route away.
- **Warning**: the inputs do not settle it, with the reason.

## Why it matters

A NetworkPolicy allowing `0.0.0.0/0:443` is a finding of its own (`PX001`),
but how urgent it is depends on the layer below: in a subnet with a NAT
route it is an open door today; in a private subnet it is a mistake waiting
for the next route change. Reporting the two alike either cries wolf or
hides the real one.

## Example

```yaml
egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: 443}]
```

with the workload's subnet routing `0.0.0.0/0` to a NAT gateway.

## How to fix

Allow egress only to the proxy and cluster DNS, and remove the internet
route from the workload subnets.

## Settings

`excludedNamespaces`.
"#,
    check: |cx, out| {
        let facts = cx.facts();
        for w in cx.workloads() {
            if !cx.in_scope_unless(&w.namespace, &cx.settings().excluded_namespaces)
                || facts.proxy().pods.has(w.id)
            {
                continue;
            }
            let Some(placement) = facts.workload_placement(w.id) else {
                continue;
            };
            for d in direct_destinations(cx, w) {
                let mut reached = None;
                let mut unknown = None;
                let mut blocked = None;
                for subnet in &placement.subnets {
                    let v = facts.reach(
                        subnet,
                        &placement.security_groups,
                        &d.address,
                        Protocol::Tcp,
                        d.port,
                    );
                    match v.outcome {
                        Outcome::Allowed if reached.is_none() => reached = Some((subnet, v.hops)),
                        Outcome::Unknown(why) if unknown.is_none() => unknown = Some((subnet, why)),
                        Outcome::Denied if blocked.is_none() => blocked = Some((subnet, v.hops)),
                        _ => {}
                    }
                }
                let (message, severity) = if let Some((subnet, hops)) = reached {
                    (
                        format!(
                            "{}, and subnet `{subnet}` carries it to the internet: the bypass is real ({})",
                            d.what,
                            path(&hops)
                        ),
                        Severity::Error,
                    )
                } else if let Some((subnet, why)) = unknown {
                    (
                        format!(
                            "{}; whether subnet `{subnet}` carries it is unknown: {why}",
                            d.what
                        ),
                        Severity::Warning,
                    )
                } else if let Some((subnet, hops)) = blocked {
                    (
                        format!(
                            "{}; the network does not carry it today, so the bypass is latent, one route away ({}: {})",
                            d.what,
                            subnet,
                            path(&hops)
                        ),
                        Severity::Warning,
                    )
                } else {
                    continue;
                };
                out.report(d.object, message)
                    .at(d.at)
                    .severity(severity)
                    .fix("allow egress only to the proxy and cluster DNS; keep the workload subnets without an internet route");
            }
        }
    },
};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn the_rule_table_is_well_formed() {
        assert_eq!(
            palisade_sdk::testing::rule_table_problems::<PrivateSubnet>(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn probes_are_public_addresses_inside_the_block_and_outside_its_exceptions() {
        assert_eq!(probe("0.0.0.0/0", &[]).as_deref(), Some("93.184.216.34"));
        assert_eq!(
            probe("0.0.0.0/0", &["93.184.216.0/24".to_string()]).as_deref(),
            Some("8.8.8.8")
        );
        assert_eq!(probe("::/0", &[]).as_deref(), Some("2606:2800:220:1::1"));
        assert_eq!(probe("52.94.0.0/16", &[]).as_deref(), Some("52.94.0.0"));
        assert_eq!(probe("8.8.8.8/32", &["8.8.8.8/32".to_string()]), None);
    }

    #[test]
    fn proxy_group_peers_inside_the_client_ranges_pass() {
        let clients = vec!["10.0.0.0/8".to_string()];
        assert!(inside("10.1.0.0/16", &clients));
        assert!(!inside("0.0.0.0/0", &clients));
        assert!(admits_any("tcp", 3000, 4000, &[3128]));
        assert!(!admits_any("tcp", 80, 443, &[3128]));
        assert!(admits_any("all", 0, 0, &[3128]));
        assert!(!admits_any("udp", 3128, 3128, &[3128]));
    }
}
