//! What a cloud network lets through, hop by hop, as AWS documents it:
//!
//! - **Routing** ("Route tables", "Route priority"): a subnet uses the route
//!   table explicitly associated with it, else its VPC's main table. The
//!   most specific route that matches the destination wins; IPv4 and IPv6
//!   routes are separate tables in one. Every table holds the `local`
//!   route for the VPC's CIDRs. A NAT gateway reaches the internet only
//!   through the route table of the subnet it sits in (a private one never).
//! - **Security groups** ("Security group rules"): allow rules only, the
//!   union of every group an interface carries; stateful, so the response
//!   to an allowed request is allowed whatever the other direction says.
//! - **Network ACLs** ("Network ACLs"): rules in order of their number, the
//!   first that matches decides, and `*` denies the rest; stateless, so the
//!   response (to the client's ephemeral port) must be allowed inbound too.
//!   A subnet without an ACL of its own has its VPC's default ACL, which
//!   allows everything unless it is managed.
//!
//! Whatever the inputs leave open makes the verdict [`Outcome::Unknown`],
//! with the reason.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{
    Destination, Known, Nacl, NaclEntry, Network, Origin, Peer, Protocol, RouteTable, SgRule,
    Target,
};

/// The ephemeral ports a Linux client (a node, a pod) answers on:
/// `net.ipv4.ip_local_port_range`'s default.
pub const LINUX_EPHEMERAL: (u16, u16) = (32768, 60999);

/// The source ports a NAT gateway uses ("NAT gateways", VPC User Guide:
/// its network ACL must let answers in on 1024-65535).
pub const NAT_GATEWAY_PORTS: (u16, u16) = (1024, 65535);

/// One step of a path: what decided, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub what: String,
    pub origin: Option<Origin>,
}

/// A verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    Unknown(String),
}

/// A verdict with the hops that decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub hops: Vec<Hop>,
}

/// Where the route for a destination leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// To the internet (internet gateway, a NAT that reaches one,
    /// egress-only gateway for IPv6).
    Internet,
    /// Stays in the VPC.
    Local,
    /// Leaves the VPC for a network beyond the inputs (peering, transit or
    /// VPN gateway, endpoint, other).
    Elsewhere,
    /// No route matches: dropped.
    NoRoute,
    Unknown(String),
}

/// The route a subnet's traffic to one address takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTrace {
    pub exit: Exit,
    pub hops: Vec<Hop>,
    /// The subnets of the NAT gateways the traffic goes through.
    pub nat_subnets: Vec<String>,
}

impl Network {
    /// The route table a subnet uses: its explicit association, else its
    /// VPC's main table.
    pub fn route_table_of(&self, subnet: &str) -> Known<(&RouteTable, Hop)> {
        let table = |key: &str| self.route_tables.iter().find(|t| t.key == key);
        if let Some((_, rt, origin)) = self.associations.iter().find(|(s, _, _)| s == subnet) {
            let rt = match rt {
                Known::Yes(rt) => rt,
                Known::Unknown(why) => return Known::Unknown(why.clone()),
            };
            return match table(rt) {
                Some(t) => Known::Yes((
                    t,
                    Hop {
                        what: format!("subnet `{subnet}` is associated with route table `{rt}`"),
                        origin: Some(origin.clone()),
                    },
                )),
                None => Known::Unknown(format!(
                    "route table `{rt}` of subnet `{subnet}` is not in the inputs"
                )),
            };
        }
        let Some(s) = self.subnets.iter().find(|s| s.key == subnet) else {
            return Known::Unknown(format!("subnet `{subnet}` is not in the inputs"));
        };
        if let Some((why, _)) = self.loose_associations.first() {
            return Known::Unknown(format!(
                "subnet `{subnet}` has no route table association of its own, but {why}: it may be this subnet's"
            ));
        }
        let vpc = match &s.vpc {
            Known::Yes(v) => v,
            Known::Unknown(why) => return Known::Unknown(why.clone()),
        };
        match self.main_tables.iter().find(|(v, _, _)| v == vpc) {
            Some((_, rt, origin)) => match table(rt) {
                Some(t) => Known::Yes((
                    t,
                    Hop {
                        what: format!(
                            "subnet `{subnet}` has no route table of its own: VPC `{vpc}`'s main table `{rt}`"
                        ),
                        origin: Some(origin.clone()),
                    },
                )),
                None => Known::Unknown(format!(
                    "main route table `{rt}` of VPC `{vpc}` is not in the inputs"
                )),
            },
            None => Known::Unknown(format!(
                "subnet `{subnet}` has no route table association, and VPC `{vpc}`'s main route table is not in the inputs"
            )),
        }
    }

    /// The VPC CIDRs of a route table's VPC (its `local` route), of the
    /// family of `ip`; `None` when the inputs do not give them.
    fn local_cidrs(&self, table: &RouteTable, ip: IpAddr) -> Option<Vec<IpNet>> {
        let vpc = table.vpc.known()?;
        let vpc = self.vpcs.iter().find(|v| v.key == *vpc)?;
        if vpc.cidrs_unknown[usize::from(ip.is_ipv6())] {
            return None;
        }
        Some(vpc.cidrs.clone())
    }

    /// Where `table` sends traffic to `ip`: the most specific matching
    /// route (the `local` route wins a tie).
    ///
    /// What the inputs leave open makes the target unknown: a route of the
    /// table whose destination is not known, a route whose table is not
    /// known that would match more specifically, or (for an address that is
    /// not public) a VPC whose CIDRs are not known. A VPC whose CIDRs are
    /// not known is taken to hold no public address.
    pub fn select_route(&self, table: &RouteTable, ip: IpAddr) -> Option<(Known<Target>, Hop)> {
        let open = |why: String, origin: &Origin| {
            Some((
                Known::Unknown(why.clone()),
                Hop {
                    what: format!("route table `{}`: {why}", table.key),
                    origin: Some(origin.clone()),
                },
            ))
        };
        if let Some((route, why)) = table.routes.iter().find_map(|r| match &r.destination {
            Destination::Unknown(why) => Some((r, why)),
            _ => None,
        }) {
            return open(
                format!("a route's destination is not known ({why})"),
                &route.origin,
            );
        }
        let mut best: Option<(u8, Known<Target>, Hop)> = None;
        let local = match self.local_cidrs(table, ip) {
            Some(cidrs) => cidrs,
            None if !is_public(ip) => {
                return open(
                    format!("its VPC's CIDRs are not in the inputs, so {ip} may be local"),
                    &table.origin,
                );
            }
            None => Vec::new(),
        };
        for cidr in local {
            if cidr.contains(&ip)
                && best
                    .as_ref()
                    .is_none_or(|(len, _, _)| cidr.prefix_len() >= *len)
            {
                best = Some((
                    cidr.prefix_len(),
                    Known::Yes(Target::Local),
                    Hop {
                        what: format!(
                            "route table `{}`: {cidr} → local (the VPC's own route)",
                            table.key
                        ),
                        origin: Some(table.origin.clone()),
                    },
                ));
            }
        }
        for route in &table.routes {
            let Destination::Cidr(cidr) = route.destination else {
                continue;
            };
            if !cidr.contains(&ip)
                || best
                    .as_ref()
                    .is_some_and(|(len, _, _)| cidr.prefix_len() <= *len)
            {
                continue;
            }
            let to = match &route.target {
                Known::Yes(t) => t.describe(),
                Known::Unknown(why) => format!("an unknown target ({why})"),
            };
            best = Some((
                cidr.prefix_len(),
                route.target.clone(),
                Hop {
                    what: format!("route table `{}`: {cidr} → {to}", table.key),
                    origin: Some(route.origin.clone()),
                },
            ));
        }
        for (route, why) in &self.loose_routes {
            let more_specific = match &route.destination {
                Destination::Cidr(c) => {
                    c.contains(&ip)
                        && best
                            .as_ref()
                            .is_none_or(|(len, _, _)| c.prefix_len() >= *len)
                }
                Destination::Unknown(_) => true,
                Destination::PrefixList(_) => false,
            };
            if more_specific {
                return open(
                    format!(
                        "route `{}` may be in this table ({why})",
                        route.origin.address
                    ),
                    &route.origin,
                );
            }
        }
        best.map(|(_, t, h)| (t, h))
    }

    /// Where a subnet's traffic to `ip` leaves: the route, and for a NAT
    /// gateway the route of the subnet it sits in.
    pub fn route(&self, subnet: &str, ip: IpAddr) -> RouteTrace {
        self.route_at(subnet, ip, 0)
    }

    fn route_at(&self, subnet: &str, ip: IpAddr, depth: usize) -> RouteTrace {
        let mut hops = Vec::new();
        let mut nat_subnets = Vec::new();
        let table = match self.route_table_of(subnet) {
            Known::Yes((t, hop)) => {
                hops.push(hop);
                t
            }
            Known::Unknown(why) => {
                return RouteTrace {
                    exit: Exit::Unknown(why),
                    hops,
                    nat_subnets,
                };
            }
        };
        let Some((target, hop)) = self.select_route(table, ip) else {
            hops.push(Hop {
                what: format!("route table `{}` has no route to {ip}", table.key),
                origin: Some(table.origin.clone()),
            });
            return RouteTrace {
                exit: Exit::NoRoute,
                hops,
                nat_subnets,
            };
        };
        hops.push(hop);
        let exit = match target {
            Known::Unknown(why) => Exit::Unknown(why),
            Known::Yes(Target::Local) => Exit::Local,
            Known::Yes(Target::Blackhole) => Exit::NoRoute,
            Known::Yes(Target::InternetGateway(_)) => Exit::Internet,
            Known::Yes(Target::EgressOnlyGateway(_)) => {
                if ip.is_ipv6() {
                    Exit::Internet
                } else {
                    Exit::NoRoute
                }
            }
            Known::Yes(Target::NatInstance(k)) => Exit::Unknown(format!(
                "NAT instance `{k}`: whether it forwards to the internet depends on the instance"
            )),
            Known::Yes(Target::NatGateway(k)) => {
                let Some(nat) = self.nat_gateways.iter().find(|n| n.key == k) else {
                    return RouteTrace {
                        exit: Exit::Unknown(format!("NAT gateway `{k}` is not in the inputs")),
                        hops,
                        nat_subnets,
                    };
                };
                if nat.private {
                    hops.push(Hop {
                        what: format!(
                            "NAT gateway `{k}` is private: it does not reach the internet"
                        ),
                        origin: Some(nat.origin.clone()),
                    });
                    return RouteTrace {
                        exit: Exit::Elsewhere,
                        hops,
                        nat_subnets,
                    };
                }
                match &nat.subnet {
                    Known::Unknown(why) => Exit::Unknown(why.clone()),
                    Known::Yes(s) if depth < 4 => {
                        hops.push(Hop {
                            what: format!("NAT gateway `{k}` sits in subnet `{s}`"),
                            origin: Some(nat.origin.clone()),
                        });
                        let onward = self.route_at(s, ip, depth + 1);
                        hops.extend(onward.hops);
                        nat_subnets.push(s.clone());
                        nat_subnets.extend(onward.nat_subnets);
                        match onward.exit {
                            // A NAT gateway's subnet must route to an
                            // internet gateway; the NAT itself is the exit.
                            Exit::Internet => Exit::Internet,
                            other => other,
                        }
                    }
                    Known::Yes(_) => {
                        Exit::Unknown("NAT gateways route through each other in a loop".to_string())
                    }
                }
            }
            Known::Yes(
                Target::VpcEndpoint(_)
                | Target::Peering(_)
                | Target::TransitGateway(_)
                | Target::VpnGateway(_)
                | Target::Other(_),
            ) => Exit::Elsewhere,
        };
        RouteTrace {
            exit,
            hops,
            nat_subnets,
        }
    }

    /// Whether the security groups `groups` (the union) let an interface
    /// open a connection to `ip` (`egress`) or accept one from it.
    pub fn security_groups_allow(
        &self,
        groups: &[String],
        egress: bool,
        ip: IpAddr,
        protocol: Protocol,
        port: u16,
    ) -> Verdict {
        let mut hops = Vec::new();
        let mut unknown: Option<String> = None;
        for key in groups {
            let Some(group) = self.security_groups.iter().find(|g| g.key == *key) else {
                unknown.get_or_insert(format!(
                    "security group `{key}` is not in the inputs (a group created outside them may allow everything)"
                ));
                continue;
            };
            for rule in group.rules.iter().filter(|r| r.egress == egress) {
                if !rule_covers(rule, protocol, port) {
                    continue;
                }
                match &rule.peer {
                    Peer::Cidr(cidr) if cidr.contains(&ip) => {
                        hops.push(Hop {
                            what: format!(
                                "security group `{key}` allows {} {} {} ({})",
                                if egress { "egress" } else { "ingress" },
                                protocol_text(rule.protocol, rule.ports),
                                if egress { "to" } else { "from" },
                                cidr
                            ),
                            origin: Some(rule.origin.clone()),
                        });
                        return Verdict {
                            outcome: Outcome::Allowed,
                            hops,
                        };
                    }
                    Peer::PrefixList(pl) => {
                        unknown.get_or_insert(format!(
                            "security group `{key}` allows prefix list `{pl}`, whose addresses are not in the inputs"
                        ));
                    }
                    // Members of a group are interfaces of the VPC (or a
                    // peered one): never a public address.
                    Peer::Group(g) if !is_public(ip) => {
                        unknown.get_or_insert(format!(
                            "security group `{key}` allows members of `{g}`, and whether {ip} is one is not in the inputs"
                        ));
                    }
                    Peer::Unknown(why) => {
                        unknown.get_or_insert(format!(
                            "security group `{key}` has a rule whose peer is not known ({why})"
                        ));
                    }
                    Peer::Cidr(_) | Peer::Group(_) => {}
                }
            }
        }
        let outcome = match unknown {
            Some(why) => Outcome::Unknown(why),
            None => {
                hops.push(Hop {
                    what: format!(
                        "no rule of security group(s) {} allows {} {} {ip}",
                        groups
                            .iter()
                            .map(|g| format!("`{g}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if egress { "egress" } else { "ingress" },
                        protocol_text(protocol, (port, port)),
                    ),
                    origin: groups
                        .first()
                        .and_then(|k| self.security_groups.iter().find(|g| g.key == *k))
                        .map(|g| g.origin.clone()),
                });
                Outcome::Denied
            }
        };
        Verdict { outcome, hops }
    }

    /// The network ACL of a subnet: its own, else its VPC's default one
    /// when the inputs manage it; `None` when neither is in the inputs.
    pub fn nacl_of(&self, subnet: &str) -> Option<&Nacl> {
        if let Some(n) = self
            .nacls
            .iter()
            .find(|n| n.subnets.iter().any(|s| s == subnet))
        {
            return Some(n);
        }
        let vpc = self.subnets.iter().find(|s| s.key == subnet)?.vpc.known()?;
        self.nacls
            .iter()
            .find(|n| n.default && n.vpc.known() == Some(vpc))
    }

    /// Whether a subnet's network ACL lets it send to `ip` on `port`, and
    /// lets the answer back in on the client's ephemeral ports.
    pub fn nacl_allows(&self, subnet: &str, ip: IpAddr, protocol: Protocol, port: u16) -> Verdict {
        self.nacl_allows_with(subnet, ip, protocol, port, LINUX_EPHEMERAL)
    }

    /// [`Network::nacl_allows`] for a client that answers on `ephemeral`
    /// ports (a NAT gateway: [`NAT_GATEWAY_PORTS`]).
    pub fn nacl_allows_with(
        &self,
        subnet: &str,
        ip: IpAddr,
        protocol: Protocol,
        port: u16,
        ephemeral: (u16, u16),
    ) -> Verdict {
        let Some(nacl) = self.nacl_of(subnet) else {
            // A VPC these inputs create has AWS's default ACL, which allows
            // everything; of any other, the inputs say nothing.
            let created = self
                .subnets
                .iter()
                .find(|s| s.key == subnet)
                .and_then(|s| s.vpc.known())
                .and_then(|v| self.vpcs.iter().find(|x| x.key == *v))
                .is_some_and(|v| v.created);
            return if created {
                Verdict {
                    outcome: Outcome::Allowed,
                    hops: vec![Hop {
                        what: format!(
                            "subnet `{subnet}` has its new VPC's default network ACL, which allows all traffic"
                        ),
                        origin: None,
                    }],
                }
            } else {
                Verdict {
                    outcome: Outcome::Unknown(format!(
                        "the network ACL of subnet `{subnet}` is not in the inputs"
                    )),
                    hops: Vec::new(),
                }
            };
        };
        let sorted = |egress: bool| {
            let mut entries: Vec<&NaclEntry> =
                nacl.entries.iter().filter(|e| e.egress == egress).collect();
            entries.sort_by_key(|e| e.number);
            entries
        };
        let (outbound, inbound) = (sorted(true), sorted(false));
        let mut hops = Vec::new();
        let out = first_match(&outbound, ip, protocol, (port, port));
        let (decided, hop) = describe_match(nacl, true, ip, protocol, (port, port), &out);
        hops.push(hop);
        match decided {
            Outcome::Allowed => {}
            other => {
                return Verdict {
                    outcome: other,
                    hops,
                };
            }
        }
        if !protocol.has_ports() {
            let back = first_match(&inbound, ip, protocol, (0, 0));
            let (outcome, hop) = describe_match(nacl, false, ip, protocol, (0, 0), &back);
            hops.push(hop);
            return Verdict { outcome, hops };
        }
        // The answer comes back to the client's ephemeral port: every port
        // of the range must be let in (the client may pick any).
        let (lo, hi) = ephemeral;
        let mut cuts: Vec<u16> = vec![lo];
        for e in &inbound {
            for p in [e.ports.0, e.ports.1.saturating_add(1)] {
                if p > lo && p <= hi {
                    cuts.push(p);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut verdicts = Vec::new();
        for (i, start) in cuts.iter().enumerate() {
            let end = cuts.get(i + 1).map_or(hi, |n| n - 1);
            let m = first_match(&inbound, ip, protocol, (*start, end));
            let (outcome, hop) = describe_match(nacl, false, ip, protocol, (*start, end), &m);
            verdicts.push((outcome, hop));
        }
        let note = |mut hop: Hop| {
            hop.what = format!(
                "{} (the answer comes back to the client's ephemeral ports {lo}-{hi}; the ACL is stateless)",
                hop.what
            );
            hop
        };
        if let Some((outcome, hop)) = verdicts
            .iter()
            .find(|(o, _)| matches!(o, Outcome::Unknown(_)))
        {
            hops.push(note(hop.clone()));
            return Verdict {
                outcome: outcome.clone(),
                hops,
            };
        }
        let denied = verdicts
            .iter()
            .filter(|(o, _)| *o == Outcome::Denied)
            .count();
        let Some((_, first)) = verdicts
            .iter()
            .find(|(o, _)| *o == Outcome::Denied)
            .or(verdicts.first())
        else {
            return Verdict {
                outcome: Outcome::Allowed,
                hops,
            };
        };
        let outcome = if denied == 0 {
            hops.push(first.clone());
            Outcome::Allowed
        } else if denied == verdicts.len() {
            hops.push(note(first.clone()));
            Outcome::Denied
        } else {
            hops.push(note(first.clone()));
            Outcome::Unknown(format!(
                "network ACL `{}` lets answers in on some ephemeral ports only: it depends on the port the client picks",
                nacl.key
            ))
        };
        Verdict { outcome, hops }
    }
}

/// Whether an interface can open a connection, and how (see
/// [`Network::reach`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// Allowed, denied, or unknown and why.
    pub outcome: Outcome,
    /// Where the route leads.
    pub exit: Exit,
    /// Every hop that decides, in order: route, groups, network ACLs.
    pub hops: Vec<Hop>,
}

impl Network {
    /// Whether an interface in `subnet` carrying `groups` can open a
    /// connection to `ip` on `port`, and how: the route (through a NAT
    /// gateway, the route of its subnet), the groups' egress, the subnet's
    /// network ACL both ways, and the ACL of each NAT gateway's subnet (out
    /// to `ip`, answers in on [`NAT_GATEWAY_PORTS`]). A route that leaves
    /// the VPC (peering, transit or VPN gateway, endpoint) goes beyond the
    /// inputs: unknown. Not checked: the NAT subnet's ACL for the leg from
    /// the client to the NAT.
    pub fn reach(
        &self,
        subnet: &str,
        groups: &[String],
        ip: IpAddr,
        protocol: Protocol,
        port: u16,
    ) -> Reach {
        let route = self.route(subnet, ip);
        let mut hops = route.hops;
        let mut unknown: Option<String> = None;
        let mut denied = false;
        match &route.exit {
            Exit::NoRoute => denied = true,
            Exit::Unknown(why) => unknown = Some(why.clone()),
            Exit::Elsewhere => {
                unknown = Some(format!(
                    "the route to {ip} leaves the VPC for a network beyond the inputs"
                ));
            }
            Exit::Internet | Exit::Local => {}
        }
        let mut checks = vec![
            self.security_groups_allow(groups, true, ip, protocol, port),
            self.nacl_allows(subnet, ip, protocol, port),
        ];
        if route.exit == Exit::Internet {
            for nat in &route.nat_subnets {
                checks.push(self.nacl_allows_with(nat, ip, protocol, port, NAT_GATEWAY_PORTS));
            }
        }
        for check in checks {
            match check.outcome {
                Outcome::Denied => denied = true,
                Outcome::Unknown(why) => {
                    unknown.get_or_insert(why);
                }
                Outcome::Allowed => {}
            }
            hops.extend(check.hops);
        }
        let outcome = if denied {
            Outcome::Denied
        } else if let Some(why) = unknown {
            Outcome::Unknown(why)
        } else {
            Outcome::Allowed
        };
        Reach {
            outcome,
            exit: route.exit,
            hops,
        }
    }
}

/// A route of a subnet's table that takes some public destination out to
/// the internet (see [`Network::internet_routes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetRoute {
    /// The route's destination.
    pub destination: IpNet,
    /// A public address of it that this route carries (no more specific
    /// route takes it), the one the exit was traced for.
    pub probe: IpAddr,
    /// `Internet`, or unknown and why.
    pub exit: Exit,
    pub hops: Vec<Hop>,
}

impl Network {
    /// The routes of a subnet's table that carry some public destination
    /// out of the VPC to the internet, IPv4 and IPv6 alike (`::/0` through
    /// an egress-only gateway is one): whatever more specific routes and the
    /// VPC's own range take is left out, exactly (interval arithmetic). A
    /// route to a NAT gateway counts when the NAT's subnet routes that
    /// destination on to the internet. Routes whose outcome the inputs do
    /// not settle are listed with an unknown exit.
    pub fn internet_routes(&self, subnet: &str) -> Known<Vec<InternetRoute>> {
        let (table, _) = match self.route_table_of(subnet) {
            Known::Yes(t) => t,
            Known::Unknown(why) => return Known::Unknown(why),
        };
        let mut dests: Vec<IpNet> = table
            .routes
            .iter()
            .filter_map(|r| match r.destination {
                Destination::Cidr(c) => Some(c),
                _ => None,
            })
            .collect();
        // The VPC's known ranges take what they hold (the `local` route).
        dests.extend(
            table
                .vpc
                .known()
                .and_then(|v| self.vpcs.iter().find(|x| x.key == *v))
                .map(|v| v.cidrs.clone())
                .unwrap_or_default(),
        );
        let mut out = Vec::new();
        for route in &table.routes {
            let Destination::Cidr(dest) = route.destination else {
                continue;
            };
            let shadow: Vec<IpNet> = dests
                .iter()
                .copied()
                .filter(|d| d.prefix_len() > dest.prefix_len() && dest.contains(d))
                .collect();
            let probe = match public_probe(dest, &shadow) {
                None => continue,
                Some(Some(probe)) => probe,
                Some(None) => {
                    out.push(InternetRoute {
                        destination: dest,
                        probe: dest.network(),
                        exit: Exit::Unknown(format!(
                            "{dest} carries public addresses, and none of Palisade's probe addresses is among them"
                        )),
                        hops: Vec::new(),
                    });
                    continue;
                }
            };
            let trace = self.route(subnet, probe);
            match trace.exit {
                Exit::Internet | Exit::Unknown(_) => out.push(InternetRoute {
                    destination: dest,
                    probe,
                    exit: trace.exit,
                    hops: trace.hops,
                }),
                _ => {}
            }
        }
        Known::Yes(out)
    }
}

/// Whether `dest` has public addresses outside every block of `shadow`
/// (exactly, by interval arithmetic), and if so a witness among a few
/// candidates (`None` when none of them is one).
fn public_probe(dest: IpNet, shadow: &[IpNet]) -> Option<Option<IpAddr>> {
    let except: Vec<String> = shadow.iter().map(ToString::to_string).collect();
    let (_, classes) = crate::address::of_block(&dest.to_string(), &except)?;
    if !classes.contains(crate::address::Classes::PUBLIC) {
        return None;
    }
    let well_known = [
        "93.184.216.34",
        "8.8.8.8",
        "1.1.1.1",
        "2606:2800:220:1::1",
        "2001:4860:4860::8888",
    ];
    let candidates = well_known
        .iter()
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .chain([dest.network(), dest.broadcast()])
        .chain(shadow.iter().filter_map(|s| next_after(s.broadcast())));
    for ip in candidates {
        if dest.contains(&ip) && !shadow.iter().any(|s| s.contains(&ip)) && is_public(ip) {
            return Some(Some(ip));
        }
    }
    Some(None)
}

/// The address after `ip`, if any.
fn next_after(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(v4) => u32::from(v4)
            .checked_add(1)
            .map(|n| IpAddr::from(n.to_be_bytes())),
        IpAddr::V6(v6) => u128::from(v6)
            .checked_add(1)
            .map(|n| IpAddr::from(n.to_be_bytes())),
    }
}

impl Network {
    /// Whether a VPC's default security group is restricted (no rule at
    /// all), with the group that says so. AWS creates every VPC's default
    /// group allowing all traffic among its members and all egress; a VPC
    /// these inputs create without managing that group keeps those rules.
    pub fn default_group_restricted(&self, vpc: &str) -> Known<(bool, Hop)> {
        if let Some(g) = self
            .security_groups
            .iter()
            .find(|g| g.default && g.vpc.known().is_some_and(|v| v == vpc))
        {
            let restricted = g.rules.is_empty();
            return Known::Yes((
                restricted,
                Hop {
                    what: if restricted {
                        format!(
                            "the default security group `{}` of `{vpc}` has no rules",
                            g.key
                        )
                    } else {
                        format!(
                            "the default security group `{}` of `{vpc}` has {} rule(s)",
                            g.key,
                            g.rules.len()
                        )
                    },
                    origin: Some(g.origin.clone()),
                },
            ));
        }
        match self.vpcs.iter().find(|v| v.key == vpc) {
            Some(v) if v.created => Known::Yes((
                false,
                Hop {
                    what: format!(
                        "`{vpc}` is created without managing its default security group, which AWS creates allowing all traffic among its members and all egress"
                    ),
                    origin: Some(v.origin.clone()),
                },
            )),
            _ => Known::Unknown(format!(
                "the default security group of `{vpc}` is not in the inputs"
            )),
        }
    }
}

/// How an ACL decides traffic.
enum Match<'a> {
    /// This entry decides.
    Entry(&'a NaclEntry),
    /// This entry, whose range is not known, comes first and may decide.
    Open(&'a NaclEntry, &'a str),
    /// None matches: `*` denies.
    Star,
}

/// The first entry (of `entries`, in rule-number order) that matches
/// traffic of `protocol` on every port of `ports` with the other end at
/// `ip`.
fn first_match<'a>(
    entries: &[&'a NaclEntry],
    ip: IpAddr,
    protocol: Protocol,
    ports: (u16, u16),
) -> Match<'a> {
    for e in entries {
        if !e.protocol.covers(protocol)
            || (e.protocol.has_ports() && !(e.ports.0 <= ports.0 && ports.1 <= e.ports.1))
        {
            continue;
        }
        match &e.cidr {
            Known::Yes(c) if c.contains(&ip) => return Match::Entry(e),
            Known::Yes(_) => {}
            Known::Unknown(why) => return Match::Open(e, why),
        }
    }
    Match::Star
}

fn describe_match(
    nacl: &Nacl,
    egress: bool,
    ip: IpAddr,
    protocol: Protocol,
    ports: (u16, u16),
    m: &Match<'_>,
) -> (Outcome, Hop) {
    let direction = if egress {
        "outbound to"
    } else {
        "inbound from"
    };
    match m {
        Match::Entry(e) => (
            if e.allow {
                Outcome::Allowed
            } else {
                Outcome::Denied
            },
            Hop {
                what: format!(
                    "network ACL `{}` rule {} {} {direction} {ip} {}",
                    nacl.key,
                    e.number,
                    if e.allow { "allows" } else { "denies" },
                    protocol_text(protocol, ports)
                ),
                origin: Some(e.origin.clone()),
            },
        ),
        Match::Open(e, why) => (
            Outcome::Unknown(format!(
                "network ACL `{}` rule {} may decide {direction} {ip}, and its range is not known ({why})",
                nacl.key, e.number
            )),
            Hop {
                what: format!(
                    "network ACL `{}` rule {}: its range is not known ({why})",
                    nacl.key, e.number
                ),
                origin: Some(e.origin.clone()),
            },
        ),
        Match::Star => (
            Outcome::Denied,
            Hop {
                what: format!(
                    "network ACL `{}`: no rule matches {direction} {ip} {}, so `*` denies it",
                    nacl.key,
                    protocol_text(protocol, ports)
                ),
                origin: Some(nacl.origin.clone()),
            },
        ),
    }
}

/// Whether an address is public (not private, shared, loopback,
/// link-local or metadata).
fn is_public(ip: IpAddr) -> bool {
    crate::address::of_address(&ip.to_string()) == Some(crate::address::Classes::PUBLIC)
}

fn rule_covers(rule: &SgRule, protocol: Protocol, port: u16) -> bool {
    rule.protocol.covers(protocol)
        && (rule.protocol == Protocol::All
            || !protocol.has_ports()
            || (rule.ports.0 <= port && port <= rule.ports.1))
}

fn protocol_text(protocol: Protocol, ports: (u16, u16)) -> String {
    let name = match protocol {
        Protocol::All => return "all traffic".to_string(),
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
        Protocol::Icmp => return "ICMP".to_string(),
        Protocol::Icmpv6 => return "ICMPv6".to_string(),
        Protocol::Number(n) => return format!("protocol {n}"),
    };
    if ports.0 == ports.1 {
        format!("{name} {}", ports.0)
    } else {
        format!("{name} {}-{}", ports.0, ports.1)
    }
}
