//! The cloud network a cluster runs in: VPCs, subnets, route tables,
//! gateways, security groups and network ACLs, read from Terraform plan or
//! state JSON (`terraform.rs`), and what they let through (`eval.rs`).
//!
//! The model is provider-neutral where the semantics are (a route table is
//! longest-prefix routing to a target, a firewall is stateful or stateless
//! rules); AWS is the provider read today. Every element keeps where it is
//! written (`Origin`), so each verdict cites the line that decides it.
//!
//! INVARIANT: what the inputs leave open is [`Known::Unknown`] with the
//! reason, never a guess: an ID known only after apply that no reference
//! links, a resource outside the inputs, a prefix list's contents.

pub mod aws;
pub mod bind;
pub mod eval;
pub mod terraform;

use ipnet::IpNet;

use crate::report::Location;

/// A resource's tags, by key.
pub type Tags = std::collections::BTreeMap<String, String>;

/// A value the inputs determine, or why they do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known<T> {
    /// Determined.
    Yes(T),
    /// Not determined, and why (`nat_gateway_id is known only after apply`).
    Unknown(String),
}

impl<T> Known<T> {
    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Known::Yes(v) => Some(v),
            Known::Unknown(_) => None,
        }
    }
}

/// Where an element is written: its file, line and column, and its
/// Terraform address (or cloud ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `module.net.aws_route.nat[0]`, or `rtb-0abc` for inputs without
    /// addresses.
    pub address: String,
    /// The JSON value it was read from.
    pub location: Location,
    /// The input object (the file) it belongs to: its index among the
    /// loaded objects.
    pub object: u32,
    /// The JSON pointer of the value within that file.
    pub pointer: String,
}

/// A gateway or other next hop of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Within the VPC.
    Local,
    /// An internet gateway: the internet, both ways.
    InternetGateway(String),
    /// A NAT gateway: the internet, outbound, through the subnet it sits in.
    NatGateway(String),
    /// An instance or network interface acting as NAT.
    NatInstance(String),
    /// An egress-only internet gateway (IPv6): the internet, outbound.
    EgressOnlyGateway(String),
    /// A VPC endpoint (gateway endpoint prefix lists, or a firewall).
    VpcEndpoint(String),
    /// A VPC peering connection: leaves the VPC.
    Peering(String),
    /// A transit gateway: leaves the VPC.
    TransitGateway(String),
    /// A virtual private gateway (VPN): leaves the VPC.
    VpnGateway(String),
    /// Anything else (carrier, local or core-network gateways): leaves the VPC.
    Other(String),
    /// A route whose target is gone (state `blackhole`): traffic is dropped.
    Blackhole,
}

impl Target {
    /// What kind of hop it is, for messages (`a NAT gateway`).
    pub fn describe(&self) -> String {
        match self {
            Target::Local => "local (within the VPC)".to_string(),
            Target::InternetGateway(k) => format!("internet gateway `{k}`"),
            Target::NatGateway(k) => format!("NAT gateway `{k}`"),
            Target::NatInstance(k) => format!("NAT instance `{k}`"),
            Target::EgressOnlyGateway(k) => format!("egress-only internet gateway `{k}`"),
            Target::VpcEndpoint(k) => format!("VPC endpoint `{k}`"),
            Target::Peering(k) => format!("VPC peering connection `{k}`"),
            Target::TransitGateway(k) => format!("transit gateway `{k}`"),
            Target::VpnGateway(k) => format!("VPN gateway `{k}`"),
            Target::Other(k) => format!("gateway `{k}`"),
            Target::Blackhole => "a blackhole (its target was deleted: dropped)".to_string(),
        }
    }
}

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An IPv4 or IPv6 block.
    Cidr(IpNet),
    /// A managed prefix list (`pl-…`): AWS service addresses, not the
    /// inputs'.
    PrefixList(String),
    /// Not determined by the inputs (known only after apply), and why.
    Unknown(String),
}

/// One route of a route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub destination: Destination,
    pub target: Known<Target>,
    pub origin: Origin,
}

/// A route table and its routes (inline and standalone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    /// Its key: Terraform address, else ID.
    pub key: String,
    pub vpc: Known<String>,
    pub routes: Vec<Route>,
    pub origin: Origin,
}

/// A VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    pub key: String,
    /// Its CIDRs, as far as the inputs give them.
    pub cidrs: Vec<IpNet>,
    /// Whether its IPv4 and its IPv6 CIDRs are not all known (allocated at
    /// apply: IPAM, a generated IPv6 block).
    pub cidrs_unknown: [bool; 2],
    /// Whether these inputs create it (a plan's `create`): then its
    /// default network ACL is AWS's, which allows everything.
    pub created: bool,
    /// Whether a flow log is attached (to the VPC itself); unknown for AWS
    /// CLI output without a `describe-flow-logs` answer.
    pub flow_logs: Known<bool>,
    pub origin: Origin,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub key: String,
    /// Its cloud ID (`subnet-0abc…`), when known.
    pub id: Option<String>,
    /// Its tags (`Name` among them).
    pub tags: Tags,
    pub vpc: Known<String>,
    pub cidrs: Vec<IpNet>,
    pub map_public_ip_on_launch: bool,
    pub origin: Origin,
}

/// A NAT gateway: where it sits decides whether it reaches the internet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatGateway {
    pub key: String,
    pub subnet: Known<String>,
    /// `connectivity_type = "private"`: no internet at all.
    pub private: bool,
    pub origin: Origin,
}

/// A transport protocol as firewalls name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `-1` / `all`.
    All,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    /// Another IP protocol number.
    Number(u8),
}

impl Protocol {
    /// Parses a firewall's protocol (`tcp`, `6`, `-1`, `all`).
    pub fn parse(text: &str) -> Option<Protocol> {
        Some(match text.to_ascii_lowercase().as_str() {
            "-1" | "all" => Protocol::All,
            "tcp" | "6" => Protocol::Tcp,
            "udp" | "17" => Protocol::Udp,
            "icmp" | "1" => Protocol::Icmp,
            "icmpv6" | "58" => Protocol::Icmpv6,
            other => Protocol::Number(other.parse().ok()?),
        })
    }

    /// Whether a rule for `self` covers traffic of `p`.
    pub fn covers(self, p: Protocol) -> bool {
        self == Protocol::All || self == p
    }

    /// Whether ports mean anything for it.
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }
}

/// Who a security-group rule admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Cidr(IpNet),
    /// Members of another security group.
    Group(String),
    PrefixList(String),
    /// Not determined by the inputs, and why.
    Unknown(String),
}

/// One rule of a security group: stateful, allow only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SgRule {
    pub egress: bool,
    pub protocol: Protocol,
    /// Inclusive port range (ignored unless TCP or UDP).
    pub ports: (u16, u16),
    pub peer: Peer,
    pub origin: Origin,
}

/// A security group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub key: String,
    /// Its cloud ID (`sg-0abc…`), when known.
    pub id: Option<String>,
    pub name: String,
    pub tags: Tags,
    pub vpc: Known<String>,
    pub rules: Vec<SgRule>,
    /// A VPC's default group (`aws_default_security_group`, `default`).
    pub default: bool,
    pub origin: Origin,
}

/// One entry of a network ACL: stateless, ordered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NaclEntry {
    pub egress: bool,
    pub number: u32,
    pub allow: bool,
    pub protocol: Protocol,
    pub ports: (u16, u16),
    pub cidr: Known<IpNet>,
    pub origin: Origin,
}

/// A network ACL and the subnets it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nacl {
    pub key: String,
    pub vpc: Known<String>,
    pub subnets: Vec<String>,
    pub entries: Vec<NaclEntry>,
    /// A VPC's default ACL: subnets without another one get it.
    pub default: bool,
    pub origin: Origin,
}

/// Everything the cloud inputs say, linked: references are keys of this
/// network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub route_tables: Vec<RouteTable>,
    /// Explicit associations: (subnet, route table, where written).
    pub associations: Vec<(String, Known<String>, Origin)>,
    /// Associations whose subnet the inputs do not determine: any subnet
    /// without an association of its own may be theirs.
    pub loose_associations: Vec<(String, Origin)>,
    /// Routes whose route table the inputs do not determine: they may be
    /// in any table.
    pub loose_routes: Vec<(Route, String)>,
    /// Main route tables: (VPC, route table, where written).
    pub main_tables: Vec<(String, String, Origin)>,
    pub nat_gateways: Vec<NatGateway>,
    pub security_groups: Vec<SecurityGroup>,
    pub nacls: Vec<Nacl>,
    /// VPCs with a flow log whose VPC is not (yet) read.
    pub flow_log_vpcs: Vec<String>,
    /// Whether some AWS CLI output answered `describe-flow-logs`: then a
    /// VPC it does not name has none.
    pub flow_logs_listed: bool,
}

/// Reads every cloud file among the loaded objects (Terraform plan or
/// state JSON, AWS CLI output) into one network. Problems with single
/// resources, and a format this host does not read, are diagnostics
/// located in their file; the rest is still read.
pub fn collect(loaded: &crate::input::Loaded) -> (Network, Vec<crate::Diagnostic>) {
    use crate::input::{AWS_CLI_KIND, TERRAFORM_PLAN_KIND, TERRAFORM_STATE_KIND};
    let mut network = Network::default();
    let mut diagnostics = Vec::new();
    for (i, object) in loaded.objects.iter().enumerate() {
        if !crate::input::is_file_object(&object.id) {
            continue;
        }
        let kind = object.id.kind.as_str();
        if ![TERRAFORM_PLAN_KIND, TERRAFORM_STATE_KIND, AWS_CLI_KIND].contains(&kind) {
            continue;
        }
        let Some(file) = loaded.file_of(object) else {
            continue;
        };
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let problems = if kind == AWS_CLI_KIND {
            aws::read(&file, index, &mut network)
        } else {
            match terraform::read(&file, index, &mut network) {
                Ok(problems) => problems,
                Err(e) => {
                    diagnostics.push(crate::Diagnostic::input(
                        e.message().to_string(),
                        e.location().cloned(),
                    ));
                    continue;
                }
            }
        };
        diagnostics.extend(
            problems
                .into_iter()
                .map(|(message, at)| crate::Diagnostic::input(message, Some(at))),
        );
    }
    (network, diagnostics)
}
