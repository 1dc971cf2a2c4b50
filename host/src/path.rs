//! `palisade path`: can a workload reach a destination, and how, across
//! every layer — the NetworkPolicies, the squid proxy and the cloud
//! network under them. Each hop cites the object and `file:line` that
//! decides it.
//!
//! Two legs are traced:
//!
//! - **direct**: the workload's NetworkPolicy egress to the destination,
//!   then, from each subnet the policy set places it in, the route (through
//!   a NAT gateway, the NAT subnet's route), its security groups and the
//!   network ACLs;
//! - **proxied**: its egress to the proxy, the proxy's ingress policy,
//!   squid's `http_access` for the workload's address, and the proxy's own
//!   route and security groups to the destination.
//!
//! The verdict: reachable directly (a bypass, whatever the proxy says);
//! else reachable only through the proxy; else unreachable; and unknown,
//! with the reason, wherever the inputs leave a deciding hop open.

use std::net::IpAddr;

use serde::Serialize;

use crate::cloud::eval::{Hop as CloudHop, Outcome};
use crate::input::Loaded;
use crate::report::Location;

/// What a path query asks.
#[derive(Debug, Clone)]
pub struct PathQuery {
    /// `namespace/name` of the workload.
    pub from: String,
    /// The destination host name or IP address.
    pub host: String,
    /// The destination port (TCP).
    pub port: u16,
    /// The HTTP method the proxy sees (`CONNECT` for TLS).
    pub method: String,
    /// The address to assume for a host name (`--resolve`).
    pub address: Option<IpAddr>,
}

/// The verdict of a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "kebab-case")]
pub enum PathVerdict {
    /// Only through the proxy: the direct leg is closed, the proxied open.
    ReachableOnlyThroughProxy,
    /// Directly, without the proxy.
    ReachableDirectly,
    /// Neither leg is open.
    Unreachable,
    /// The inputs leave a deciding hop open, and why.
    Unknown(String),
}

impl std::fmt::Display for PathVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathVerdict::ReachableOnlyThroughProxy => {
                f.write_str("reachable only through the proxy")
            }
            PathVerdict::ReachableDirectly => f.write_str("reachable directly (bypass)"),
            PathVerdict::Unreachable => f.write_str("unreachable"),
            PathVerdict::Unknown(why) => write!(f, "unknown because {why}"),
        }
    }
}

/// How one hop or leg ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HopOutcome {
    /// Lets the traffic on.
    Allowed,
    /// Stops it.
    Denied,
    /// Not settled by the inputs.
    Unknown,
}

/// One hop: its layer, what decides, and where that is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathHop {
    /// `networkpolicy`, `squid`, `route`, `security-group`, `network-acl`
    /// or `cloud`.
    pub layer: &'static str,
    /// For people.
    pub what: String,
    /// Where it is written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// One leg: its outcome, why, and its hops in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leg {
    /// Whether the leg is open.
    pub outcome: HopOutcome,
    /// Why, in one line.
    pub reason: String,
    /// The hops that decide, in order.
    pub hops: Vec<PathHop>,
}

/// The answer of `palisade path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathReport {
    /// The workload, `namespace/name`.
    pub from: String,
    /// `HOST:PORT` as asked.
    pub to: String,
    /// The method the proxy sees.
    pub method: String,
    /// The address the direct leg and the cloud hops were traced for.
    pub address: String,
    /// How that address was chosen when the destination is a name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumed: Option<String>,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: PathVerdict,
    /// Without the proxy.
    pub direct: Leg,
    /// Through the proxy.
    pub proxied: Leg,
}

/// A public address a name stands for when it is not resolved: the
/// address classes, not the address, decide every layer's verdict.
const ASSUMED_PUBLIC: &str = "93.184.216.34";

/// The facts a path is traced over.
pub(crate) struct PathFacts<'a> {
    pub(crate) loaded: &'a Loaded,
    pub(crate) facts: &'a crate::contract::Facts,
    pub(crate) analysis: &'a crate::NetworkAnalysis,
}

impl PathFacts<'_> {
    fn object_location(&self, object: crate::facts::ObjectId, pointer: &str) -> Option<Location> {
        let o = self.loaded.objects.get(object.index())?;
        self.loaded.locate(o, Some(pointer))
    }

    /// Where `pointer` of NetworkPolicy `namespace/name` is written.
    fn policy_location(&self, policy: &str, pointer: &str) -> Option<Location> {
        let (ns, name) = policy.split_once('/')?;
        let p = self
            .facts
            .model
            .network_policies
            .iter()
            .find(|p| p.namespace == ns && p.name == name)?;
        self.object_location(p.object, pointer)
    }

    /// Where rule `rule` of NetworkPolicy `namespace/name` is written.
    fn rule_location(&self, policy: &str, direction: &str, rule: usize) -> Option<Location> {
        self.policy_location(policy, &format!("/spec/{direction}/{rule}"))
    }

    /// Where the workload `namespace/name` (or the pod) is written.
    fn workload_location(&self, who: &str) -> Option<Location> {
        let (ns, name) = who.split_once('/')?;
        let w = self
            .facts
            .model
            .workloads
            .iter()
            .find(|w| w.namespace == ns && w.name == name)?;
        self.object_location(w.object, &w.pod_spec_path)
    }

    fn cloud_hop(&self, h: &CloudHop) -> PathHop {
        let what = h.what.as_str();
        let layer = if what.contains("security group") {
            "security-group"
        } else if what.contains("network ACL") {
            "network-acl"
        } else if what.starts_with("route table")
            || what.starts_with("subnet")
            || what.starts_with("NAT")
        {
            "route"
        } else {
            "cloud"
        };
        PathHop {
            layer,
            what: h.what.clone(),
            location: h.origin.as_ref().map(|o| o.location.clone()),
        }
    }

    /// The NetworkPolicy hops of a connection from `from` to `to`
    /// (`namespace/name` or an address) on `port`/TCP.
    fn netpol(&self, from: &str, to: &str, port: u16) -> Result<(bool, Vec<PathHop>), String> {
        let t = self
            .analysis
            .trace(from, to, &format!("{port}/TCP"))
            .map_err(|e| e.message().to_string())?;
        let mut hops = Vec::new();
        let mut side = |direction: &str, s: &crate::netpol::trace::SideTrace, who: &str| {
            let open = s.verdict == "allowed";
            if s.allowed_by.is_empty() || !open {
                hops.push(PathHop {
                    layer: "networkpolicy",
                    what: format!("{direction} of {who}: {} ({})", s.verdict, s.reason),
                    location: s
                        .isolated_by
                        .first()
                        .and_then(|p| self.policy_location(p, "/spec/podSelector"))
                        .or_else(|| self.workload_location(who)),
                });
            }
            if open {
                for r in &s.allowed_by {
                    hops.push(PathHop {
                        layer: "networkpolicy",
                        what: format!(
                            "{direction} of {who}: allowed by NetworkPolicy `{}` {direction} rule {}",
                            r.policy, r.rule
                        ),
                        location: self.rule_location(&r.policy, direction, r.rule),
                    });
                }
            }
            open
        };
        let out = side("egress", &t.egress, from);
        // The ingress side matters only when the destination is a pod.
        let inn = if to.parse::<IpAddr>().is_ok() {
            true
        } else {
            side("ingress", &t.ingress, to)
        };
        Ok((out && inn, hops))
    }

    /// The cloud hops from a placement to `ip:port`/TCP: allowed when some
    /// subnet carries it (its hops), else unknown or denied.
    fn cloud(
        &self,
        placement: Option<&crate::cloud::bind::Placement>,
        ip: IpAddr,
        port: u16,
        who: &str,
    ) -> (HopOutcome, String, Vec<PathHop>) {
        let Some(p) = placement else {
            let why = if self.facts.network.subnets.is_empty() {
                "the inputs hold no cloud network (give Terraform plan or state JSON, or AWS CLI output)".to_string()
            } else {
                format!("the policy set places {who} in no subnet (`spec.cloud`)")
            };
            return (
                HopOutcome::Unknown,
                why.clone(),
                vec![PathHop {
                    layer: "cloud",
                    what: why,
                    location: None,
                }],
            );
        };
        let mut first_denied = None;
        let mut first_unknown = None;
        for subnet in &p.subnets {
            let r = self.facts.network.reach(
                subnet,
                &p.security_groups,
                ip,
                crate::cloud::Protocol::Tcp,
                port,
            );
            let hops: Vec<PathHop> = r.hops.iter().map(|h| self.cloud_hop(h)).collect();
            match r.outcome {
                Outcome::Allowed => {
                    return (
                        HopOutcome::Allowed,
                        format!("subnet `{subnet}` carries it to {ip}:{port}"),
                        hops,
                    );
                }
                Outcome::Unknown(why) => {
                    first_unknown.get_or_insert((format!("subnet `{subnet}`: {why}"), hops));
                }
                Outcome::Denied => {
                    first_denied.get_or_insert((
                        format!("no subnet of {who} carries it (subnet `{subnet}`)"),
                        hops,
                    ));
                }
            }
        }
        if let Some((why, hops)) = first_unknown {
            return (HopOutcome::Unknown, why, hops);
        }
        match first_denied {
            Some((why, hops)) => (HopOutcome::Denied, why, hops),
            None => (
                HopOutcome::Unknown,
                format!("{who} has no subnet"),
                Vec::new(),
            ),
        }
    }
}

/// Traces both legs and gives the verdict.
pub(crate) fn trace(f: &PathFacts<'_>, q: &PathQuery) -> Result<PathReport, crate::Error> {
    let model = &f.facts.model;
    let (ns, name) = q.from.split_once('/').ok_or_else(|| {
        crate::Error::new(
            crate::ErrorKind::Input,
            format!("`--from {}`: expected NAMESPACE/WORKLOAD", q.from),
        )
    })?;
    let (wi, workload) = model
        .workloads
        .iter()
        .enumerate()
        .find(|(_, w)| w.namespace == ns && w.name == name)
        .ok_or_else(|| {
            crate::Error::new(
                crate::ErrorKind::Input,
                format!("no workload `{}` in the inputs", q.from),
            )
        })?;
    let (ip, assumed) = match (q.host.parse::<IpAddr>(), q.address) {
        (Ok(ip), _) => (ip, None),
        (Err(_), Some(ip)) => (
            ip,
            Some(format!("`{}` resolved to {ip} (--resolve)", q.host)),
        ),
        (Err(_), None) => (
            ASSUMED_PUBLIC
                .parse()
                .unwrap_or(IpAddr::from([93, 184, 216, 34])),
            Some(format!(
                "`{}` is not resolved: the public address {ASSUMED_PUBLIC} stands for it (give --resolve NAME=IP for another)",
                q.host
            )),
        ),
    };
    let id = crate::facts::WorkloadId::from_contract(u32::try_from(wi).unwrap_or(u32::MAX));
    let is_proxy = f.facts.roles.proxy.workloads.contains(&id);
    let placement = f.facts.placements.of_workload(is_proxy);

    // Direct: NetworkPolicy egress, then the cloud network.
    let direct = match f.netpol(&q.from, &ip.to_string(), q.port) {
        Err(why) => Leg {
            outcome: HopOutcome::Unknown,
            reason: why,
            hops: Vec::new(),
        },
        Ok((false, hops)) => Leg {
            outcome: HopOutcome::Denied,
            reason: "the NetworkPolicies deny it".to_string(),
            hops,
        },
        Ok((true, mut hops)) => {
            let (outcome, reason, cloud) = f.cloud(placement, ip, q.port, &q.from);
            hops.extend(cloud);
            Leg {
                outcome,
                reason,
                hops,
            }
        }
    };

    // Proxied: to the proxy, squid, then the proxy's network.
    let proxied = proxied_leg(f, q, workload, is_proxy, ip);

    let verdict = match (&direct.outcome, &proxied.outcome) {
        (HopOutcome::Allowed, _) => PathVerdict::ReachableDirectly,
        (HopOutcome::Unknown, _) => PathVerdict::Unknown(format!("direct: {}", direct.reason)),
        (HopOutcome::Denied, HopOutcome::Allowed) => PathVerdict::ReachableOnlyThroughProxy,
        (HopOutcome::Denied, HopOutcome::Unknown) => {
            PathVerdict::Unknown(format!("through the proxy: {}", proxied.reason))
        }
        (HopOutcome::Denied, HopOutcome::Denied) => PathVerdict::Unreachable,
    };
    Ok(PathReport {
        from: q.from.clone(),
        to: if q.host.contains(':') {
            format!("[{}]:{}", q.host, q.port)
        } else {
            format!("{}:{}", q.host, q.port)
        },
        method: q.method.clone(),
        address: ip.to_string(),
        assumed,
        verdict,
        direct,
        proxied,
    })
}

fn proxied_leg(
    f: &PathFacts<'_>,
    q: &PathQuery,
    workload: &crate::facts::Workload,
    is_proxy: bool,
    ip: IpAddr,
) -> Leg {
    let denied = |reason: String, hops| Leg {
        outcome: HopOutcome::Denied,
        reason,
        hops,
    };
    let unknown = |reason: String, hops| Leg {
        outcome: HopOutcome::Unknown,
        reason,
        hops,
    };
    if is_proxy {
        return denied("the workload is the proxy itself".to_string(), Vec::new());
    }
    let roles = &f.facts.roles;
    let model = &f.facts.model;
    let Some(proxy) = roles
        .proxy
        .workloads
        .first()
        .and_then(|i| model.workloads.get(i.index()))
    else {
        return unknown(
            format!(
                "no workload of the inputs is the proxy (`roles.proxy`: namespace `{}`)",
                roles.proxy.namespace
            ),
            Vec::new(),
        );
    };
    let proxy_name = format!("{}/{}", proxy.namespace, proxy.name);
    let Some(&proxy_port) = roles.proxy_ports.first() else {
        return unknown("the proxy role declares no port".to_string(), Vec::new());
    };
    let mut hops = match f.netpol(&q.from, &proxy_name, proxy_port) {
        Err(why) => return unknown(why, Vec::new()),
        Ok((false, hops)) => {
            return denied(
                format!("the NetworkPolicies deny it the proxy `{proxy_name}` on {proxy_port}"),
                hops,
            );
        }
        Ok((true, hops)) => hops,
    };
    // squid, for the workload's address.
    let Some((config, object, _)) = f.facts.proxies.configs.first() else {
        return unknown(
            "the inputs hold no squid configuration for the proxy".to_string(),
            hops,
        );
    };
    let (client, client_note) = match workload
        .pod_ips
        .first()
        .and_then(|a| a.parse::<IpAddr>().ok())
    {
        Some(a) => (a, String::new()),
        None => match roles
            .client_cidrs
            .first()
            .and_then(|c| c.parse::<ipnet::IpNet>().ok())
        {
            Some(net) => (
                net.hosts().next().unwrap_or(net.addr()),
                " (an address of the client CIDRs: the workload's own is not in the inputs)"
                    .to_string(),
            ),
            None => {
                return unknown(
                    "the workload's address is not in the inputs and the proxy declares no client CIDRs"
                        .to_string(),
                    hops,
                );
            }
        },
    };
    let local_port = config
        .listeners
        .iter()
        .find(|l| l.port == proxy_port)
        .or_else(|| config.listeners.first())
        .map(|l| l.port);
    let request =
        crate::squid::ProxyRequest::to_host(client, &q.method, &q.host, q.port, local_port);
    // The name stands for the address the other hops are traced for, for
    // `dst` ACLs too (an IP literal keeps squid's reverse lookup).
    let v = if q.host.parse::<IpAddr>().is_ok() {
        config.evaluate(&request)
    } else {
        let mut config = config.clone();
        config.known.insert(q.host.to_ascii_lowercase(), vec![ip]);
        config.evaluate(&request)
    };
    let location = match &v.line {
        Some(l) => Some(Location::new(l.file.clone(), l.line, 1)),
        None => f.object_location(*object, ""),
    };
    hops.push(PathHop {
        layer: "squid",
        what: format!(
            "squid: {} {}:{} from {client}{client_note}: {}",
            q.method, q.host, q.port, v.reason
        ),
        location,
    });
    if v.depends_on_dns {
        return unknown(
            format!(
                "squid's verdict depends on what DNS answers for `{}`",
                q.host
            ),
            hops,
        );
    }
    if !v.allowed {
        return denied("squid denies it".to_string(), hops);
    }
    // The proxy's own egress policy.
    match f.netpol(&proxy_name, &ip.to_string(), q.port) {
        Err(why) => return unknown(why, hops),
        Ok((open, more)) => {
            hops.extend(more);
            if !open {
                return denied(
                    format!("the NetworkPolicies deny the proxy `{proxy_name}` the destination"),
                    hops,
                );
            }
        }
    }
    let proxy_placement = &f.facts.placements.proxy;
    let placement = (!proxy_placement.subnets.is_empty()).then_some(proxy_placement);
    let (outcome, reason, cloud) = f.cloud(placement, ip, q.port, "the proxy");
    hops.extend(cloud);
    Leg {
        outcome,
        reason,
        hops,
    }
}

/// The human rendering.
pub fn render(r: &PathReport) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "{} -> {} ({}): {}", r.from, r.to, r.method, r.verdict);
    if let Some(a) = &r.assumed {
        let _ = writeln!(s, "  note: {a}");
    }
    for (name, leg) in [("direct", &r.direct), ("through the proxy", &r.proxied)] {
        let outcome = match leg.outcome {
            HopOutcome::Allowed => "open",
            HopOutcome::Denied => "closed",
            HopOutcome::Unknown => "unknown",
        };
        let _ = writeln!(s, "\n{name}: {outcome}: {}", leg.reason);
        for h in &leg.hops {
            let _ = writeln!(s, "  [{}] {}", h.layer, h.what);
            if let Some(at) = &h.location {
                let _ = writeln!(s, "      at {at}");
            }
        }
    }
    s
}
