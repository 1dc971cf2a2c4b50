//! The AWS CLI's JSON for a live account read into a [`Network`]: the
//! output of `aws ec2 describe-vpcs`, `describe-subnets`,
//! `describe-route-tables`, `describe-internet-gateways`,
//! `describe-nat-gateways`, `describe-egress-only-internet-gateways`,
//! `describe-security-groups`, `describe-network-acls`,
//! `describe-vpc-endpoints` and `describe-flow-logs`, one per file or merged
//! into one object. Everything is keyed by its ID (`subnet-0abc`), and
//! every ID is known, so links are exact; a resource outside the files is
//! named by its ID and is "not in the inputs".

use ipnet::IpNet;
use serde_json::Value;

use super::{
    Destination, Known, Nacl, NaclEntry, NatGateway, Network, Origin, Peer, Protocol, Route,
    RouteTable, SecurityGroup, SgRule, Subnet, Target, Vpc,
};
use crate::input::ConfigFile;
use crate::report::Location;

/// Whether a JSON document is the output of one or more `describe-*` calls.
pub fn is_aws_cli_json(value: &Value) -> bool {
    crate::input::cloud_kind(value) == Some(crate::input::AWS_CLI_KIND)
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn items<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = (usize, &'v Value)> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// `Tags: [{Key, Value}]`.
fn tags(v: &Value) -> super::Tags {
    items(v, "Tags")
        .filter_map(|(_, t)| {
            Some((
                text(t, "Key")?.to_string(),
                t.get("Value")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

fn known(id: Option<&str>, what: &str) -> Known<String> {
    id.map_or_else(
        || Known::Unknown(format!("{what} is not given")),
        |s| Known::Yes(s.to_string()),
    )
}

/// Reads one file; problems with single entries (a CIDR that does not
/// parse) come back located.
pub fn read(file: &ConfigFile, object: u32, net: &mut Network) -> Vec<(String, Location)> {
    let root = file.value();
    let mut problems = Vec::new();
    let origin = |id: &str, pointer: &str| Origin {
        address: id.to_string(),
        location: file.at(pointer),
        object,
        pointer: pointer.to_string(),
    };
    let cidr = |text: &str, pointer: &str, problems: &mut Vec<(String, Location)>| match text
        .parse::<IpNet>()
    {
        Ok(n) => Some(n.trunc()),
        Err(_) => {
            problems.push((format!("`{text}` is not a CIDR"), file.at(pointer)));
            None
        }
    };
    for (i, v) in items(root, "Vpcs") {
        let Some(id) = text(v, "VpcId") else { continue };
        let at = format!("/Vpcs/{i}");
        let mut cidrs = Vec::new();
        // Only associated blocks have a local route.
        let associated = |a: &Value, state: &str| {
            a.pointer(state)
                .and_then(Value::as_str)
                .is_none_or(|s| s == "associated")
        };
        for (j, a) in items(v, "CidrBlockAssociationSet")
            .filter(|(_, a)| associated(a, "/CidrBlockState/State"))
        {
            cidrs.extend(text(a, "CidrBlock").and_then(|c| {
                cidr(
                    c,
                    &format!("{at}/CidrBlockAssociationSet/{j}"),
                    &mut problems,
                )
            }));
        }
        if cidrs.is_empty() {
            cidrs.extend(text(v, "CidrBlock").and_then(|c| cidr(c, &at, &mut problems)));
        }
        for (j, a) in items(v, "Ipv6CidrBlockAssociationSet")
            .filter(|(_, a)| associated(a, "/Ipv6CidrBlockState/State"))
        {
            cidrs.extend(text(a, "Ipv6CidrBlock").and_then(|c| {
                cidr(
                    c,
                    &format!("{at}/Ipv6CidrBlockAssociationSet/{j}"),
                    &mut problems,
                )
            }));
        }
        net.vpcs.push(Vpc {
            key: id.to_string(),
            cidrs,
            cidrs_unknown: [false, false],
            created: false,
            flow_logs: Known::Unknown(
                "the AWS CLI output holds no `describe-flow-logs` answer".to_string(),
            ),
            origin: origin(id, &at),
        });
    }
    for (i, s) in items(root, "Subnets") {
        let Some(id) = text(s, "SubnetId") else {
            continue;
        };
        let at = format!("/Subnets/{i}");
        let mut cidrs: Vec<IpNet> = text(s, "CidrBlock")
            .and_then(|c| cidr(c, &at, &mut problems))
            .into_iter()
            .collect();
        for (j, a) in items(s, "Ipv6CidrBlockAssociationSet") {
            cidrs.extend(text(a, "Ipv6CidrBlock").and_then(|c| {
                cidr(
                    c,
                    &format!("{at}/Ipv6CidrBlockAssociationSet/{j}"),
                    &mut problems,
                )
            }));
        }
        net.subnets.push(Subnet {
            key: id.to_string(),
            id: Some(id.to_string()),
            tags: tags(s),
            vpc: known(text(s, "VpcId"), "its VpcId"),
            cidrs,
            map_public_ip_on_launch: s.get("MapPublicIpOnLaunch") == Some(&Value::Bool(true)),
            origin: origin(id, &at),
        });
    }
    for (i, t) in items(root, "RouteTables") {
        let Some(id) = text(t, "RouteTableId") else {
            continue;
        };
        let at = format!("/RouteTables/{i}");
        let mut routes = Vec::new();
        for (j, r) in items(t, "Routes") {
            let pointer = format!("{at}/Routes/{j}");
            let destination = if let Some(c) =
                text(r, "DestinationCidrBlock").or_else(|| text(r, "DestinationIpv6CidrBlock"))
            {
                match cidr(c, &pointer, &mut problems) {
                    Some(n) => Destination::Cidr(n),
                    None => continue,
                }
            } else if let Some(pl) = text(r, "DestinationPrefixListId") {
                Destination::PrefixList(pl.to_string())
            } else {
                continue;
            };
            routes.push(Route {
                destination,
                target: Known::Yes(route_target(r)),
                origin: origin(id, &pointer),
            });
        }
        for (j, a) in items(t, "Associations") {
            let pointer = format!("{at}/Associations/{j}");
            if a.pointer("/AssociationState/State")
                .and_then(Value::as_str)
                .is_some_and(|s| s != "associated")
            {
                continue;
            }
            if a.get("Main") == Some(&Value::Bool(true)) {
                if let Some(vpc) = text(t, "VpcId") {
                    net.main_tables
                        .push((vpc.to_string(), id.to_string(), origin(id, &pointer)));
                }
            } else if let Some(subnet) = text(a, "SubnetId") {
                net.associations.push((
                    subnet.to_string(),
                    Known::Yes(id.to_string()),
                    origin(id, &pointer),
                ));
            }
        }
        net.route_tables.push(RouteTable {
            key: id.to_string(),
            vpc: known(text(t, "VpcId"), "its VpcId"),
            routes,
            origin: origin(id, &at),
        });
    }
    for (i, n) in items(root, "NatGateways") {
        let Some(id) = text(n, "NatGatewayId") else {
            continue;
        };
        if matches!(text(n, "State"), Some("deleted" | "deleting" | "failed")) {
            continue;
        }
        net.nat_gateways.push(NatGateway {
            key: id.to_string(),
            subnet: known(text(n, "SubnetId"), "its SubnetId"),
            private: text(n, "ConnectivityType") == Some("private"),
            origin: origin(id, &format!("/NatGateways/{i}")),
        });
    }
    for (i, g) in items(root, "SecurityGroups") {
        let Some(id) = text(g, "GroupId") else {
            continue;
        };
        let at = format!("/SecurityGroups/{i}");
        let mut rules = Vec::new();
        for (egress, key) in [(false, "IpPermissions"), (true, "IpPermissionsEgress")] {
            for (j, p) in items(g, key) {
                let pointer = format!("{at}/{key}/{j}");
                let Some(protocol) = text(p, "IpProtocol").and_then(Protocol::parse) else {
                    problems.push((
                        "a rule without a protocol Palisade knows".to_string(),
                        file.at(&pointer),
                    ));
                    continue;
                };
                let port = |k: &str| {
                    p.get(k)
                        .and_then(Value::as_i64)
                        .and_then(|n| u16::try_from(n.max(0)).ok())
                };
                let ports = if protocol.has_ports() {
                    (
                        port("FromPort").unwrap_or(0),
                        port("ToPort").unwrap_or(65535),
                    )
                } else {
                    (0, 65535)
                };
                let mut peers = Vec::new();
                for (list, field) in [("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")] {
                    for (k, r) in items(p, list) {
                        peers.extend(
                            text(r, field)
                                .and_then(|c| {
                                    cidr(c, &format!("{pointer}/{list}/{k}"), &mut problems)
                                })
                                .map(Peer::Cidr),
                        );
                    }
                }
                for (_, r) in items(p, "PrefixListIds") {
                    peers.extend(text(r, "PrefixListId").map(|x| Peer::PrefixList(x.to_string())));
                }
                for (_, r) in items(p, "UserIdGroupPairs") {
                    peers.extend(text(r, "GroupId").map(|x| Peer::Group(x.to_string())));
                }
                for peer in peers {
                    rules.push(SgRule {
                        egress,
                        protocol,
                        ports,
                        peer,
                        origin: origin(id, &pointer),
                    });
                }
            }
        }
        net.security_groups.push(SecurityGroup {
            key: id.to_string(),
            id: Some(id.to_string()),
            tags: tags(g),
            name: text(g, "GroupName").unwrap_or_default().to_string(),
            vpc: known(text(g, "VpcId"), "its VpcId"),
            rules,
            default: text(g, "GroupName") == Some("default"),
            origin: origin(id, &at),
        });
    }
    for (i, a) in items(root, "NetworkAcls") {
        let Some(id) = text(a, "NetworkAclId") else {
            continue;
        };
        let at = format!("/NetworkAcls/{i}");
        let mut entries = Vec::new();
        for (j, e) in items(a, "Entries") {
            let pointer = format!("{at}/Entries/{j}");
            let (Some(number), Some(protocol)) = (
                e.get("RuleNumber")
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok()),
                text(e, "Protocol").and_then(Protocol::parse),
            ) else {
                problems.push((
                    "a network ACL entry without a rule number or a protocol Palisade knows"
                        .to_string(),
                    file.at(&pointer),
                ));
                continue;
            };
            let Some(block) = text(e, "CidrBlock")
                .or_else(|| text(e, "Ipv6CidrBlock"))
                .and_then(|c| cidr(c, &pointer, &mut problems))
            else {
                continue;
            };
            let port = |k: &str| {
                e.pointer(k)
                    .and_then(Value::as_i64)
                    .and_then(|n| u16::try_from(n.max(0)).ok())
            };
            entries.push(NaclEntry {
                egress: e.get("Egress") == Some(&Value::Bool(true)),
                number,
                allow: text(e, "RuleAction") == Some("allow"),
                protocol,
                ports: if protocol.has_ports() {
                    (
                        port("/PortRange/From").unwrap_or(0),
                        port("/PortRange/To").unwrap_or(65535),
                    )
                } else {
                    (0, 65535)
                },
                cidr: Known::Yes(block),
                origin: origin(id, &pointer),
            });
        }
        net.nacls.push(Nacl {
            key: id.to_string(),
            vpc: known(text(a, "VpcId"), "its VpcId"),
            subnets: items(a, "Associations")
                .filter_map(|(_, x)| text(x, "SubnetId").map(str::to_string))
                .collect(),
            entries,
            default: a.get("IsDefault") == Some(&Value::Bool(true)),
            origin: origin(id, &at),
        });
    }
    if root.get("FlowLogs").is_some_and(Value::is_array) {
        net.flow_logs_listed = true;
    }
    for (_, f) in items(root, "FlowLogs") {
        if let Some(vpc) = text(f, "ResourceId").filter(|r| r.starts_with("vpc-")) {
            net.flow_log_vpcs.push(vpc.to_string());
        }
    }
    // Flow logs may come in a file of their own, before or after the VPCs.
    let pending = std::mem::take(&mut net.flow_log_vpcs);
    for v in pending {
        match net.vpcs.iter_mut().find(|x| x.key == v) {
            Some(vpc) => vpc.flow_logs = Known::Yes(true),
            None => net.flow_log_vpcs.push(v),
        }
    }
    if net.flow_logs_listed {
        for vpc in &mut net.vpcs {
            if matches!(vpc.flow_logs, Known::Unknown(_)) {
                vpc.flow_logs = Known::Yes(false);
            }
        }
    }
    problems
}

/// A route field that names a target, and the kind of target it makes.
type FieldTarget = (&'static str, fn(String) -> Target);

/// A route's target, by the field that names it (`GatewayId` holds `local`,
/// internet, VPN and gateway-endpoint IDs alike); a `blackhole` route drops.
fn route_target(r: &Value) -> Target {
    if text(r, "State") == Some("blackhole") {
        return Target::Blackhole;
    }
    if let Some(g) = text(r, "GatewayId") {
        return match g {
            "local" => Target::Local,
            g if g.starts_with("igw-") => Target::InternetGateway(g.to_string()),
            g if g.starts_with("vgw-") => Target::VpnGateway(g.to_string()),
            g if g.starts_with("vpce-") => Target::VpcEndpoint(g.to_string()),
            g => Target::Other(g.to_string()),
        };
    }
    let fields: [FieldTarget; 8] = [
        ("NatGatewayId", Target::NatGateway),
        ("EgressOnlyInternetGatewayId", Target::EgressOnlyGateway),
        ("TransitGatewayId", Target::TransitGateway),
        ("VpcPeeringConnectionId", Target::Peering),
        ("InstanceId", Target::NatInstance),
        ("NetworkInterfaceId", Target::NatInstance),
        ("CarrierGatewayId", Target::Other),
        ("LocalGatewayId", Target::Other),
    ];
    fields
        .iter()
        .find_map(|(field, make)| text(r, field).map(|id| make(id.to_string())))
        .unwrap_or_else(|| {
            Target::Other(text(r, "CoreNetworkArn").unwrap_or("unnamed").to_string())
        })
}
