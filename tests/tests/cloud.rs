//! The cloud layer (#18, first part): Terraform JSON read into a network
//! model, and routing, security groups and network ACLs evaluated as the
//! AWS documentation's examples say.
//!
//! `tests/cloud/terraform/*/` hold real Terraform output: `main.tf` and the
//! `plan.json` that `terraform show -json` gave for it (Terraform 1.11, AWS
//! provider 5.100, offline). When terraform and the provider mirror are on
//! the machine, the test plans again and fails on any difference.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use palisade_core::cloud::eval::{Exit, Outcome};
use palisade_core::cloud::{
    Destination, Known, Nacl, NaclEntry, Network, Origin, Peer, Protocol, Route, RouteTable,
    SecurityGroup, SgRule, Subnet, Target, Vpc, aws, terraform,
};
use palisade_core::input::ConfigFile;
use palisade_core::report::Location;
use palisade_tests::workspace;

fn fixture(name: &str) -> PathBuf {
    workspace().join("tests/cloud/terraform").join(name)
}

fn read(name: &str) -> Network {
    read_file(&fixture(name).join("plan.json"))
}

fn read_file(path: &Path) -> Network {
    let text = std::fs::read_to_string(path).unwrap();
    let file = ConfigFile::parse(&path.display().to_string(), &text).unwrap();
    let mut network = Network::default();
    let problems = terraform::read(&file, 0, &mut network).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    network
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

const INTERNET: &str = "93.184.216.34";

#[test]
fn a_plan_links_routes_to_gateways_whose_ids_are_known_only_after_apply() {
    let net = read("private-subnets");
    // Workload subnets (count = 2) → private table → NAT → public subnet → IGW.
    for subnet in ["aws_subnet.workloads[0]", "aws_subnet.workloads[1]"] {
        let trace = net.route(subnet, ip(INTERNET));
        assert_eq!(trace.exit, Exit::Internet, "{subnet}: {:#?}", trace.hops);
        let hops: Vec<&str> = trace.hops.iter().map(|h| h.what.as_str()).collect();
        assert_eq!(
            hops,
            [
                format!(
                    "subnet `{subnet}` is associated with route table `aws_route_table.private`"
                )
                .as_str(),
                "route table `aws_route_table.private`: 0.0.0.0/0 → NAT gateway `aws_nat_gateway.nat`",
                "NAT gateway `aws_nat_gateway.nat` sits in subnet `aws_subnet.public`",
                "subnet `aws_subnet.public` is associated with route table `aws_route_table.public`",
                "route table `aws_route_table.public`: 0.0.0.0/0 → internet gateway `aws_internet_gateway.igw`",
            ]
        );
        // Each hop cites its line in plan.json.
        assert!(
            trace
                .hops
                .iter()
                .all(|h| h.origin.as_ref().is_some_and(|o| o.location.line > 1))
        );
        // IPv6 is routed separately: ::/0 through the egress-only gateway.
        let v6 = net.route(subnet, ip("2606:2800:220:1::1"));
        assert_eq!(v6.exit, Exit::Internet);
        assert!(
            v6.hops[1]
                .what
                .contains("::/0 → egress-only internet gateway"),
            "{:?}",
            v6.hops
        );
        // The VPC itself: the local route.
        assert_eq!(net.route(subnet, ip("10.0.1.7")).exit, Exit::Local);
    }
    // No association: the VPC's main table (managed, without routes).
    let isolated = net.route("aws_subnet.isolated", ip(INTERNET));
    assert_eq!(isolated.exit, Exit::NoRoute, "{:#?}", isolated.hops);
    assert!(
        isolated.hops[0]
            .what
            .contains("main table `aws_default_route_table.main`")
    );
    // Other facts of the plan.
    assert_eq!(net.vpcs[0].flow_logs, Known::Yes(true));
    let public = net
        .subnets
        .iter()
        .find(|s| s.key == "aws_subnet.public")
        .unwrap();
    assert!(public.map_public_ip_on_launch);
    assert!(
        net.security_groups
            .iter()
            .any(|g| g.default && g.rules.is_empty())
    );
}

#[test]
fn security_groups_and_the_acl_of_the_plan() {
    let net = read("private-subnets");
    let nodes = ["aws_security_group.nodes".to_string()];
    let proxy = ["aws_security_group.proxy".to_string()];
    let to = ip(INTERNET);
    let sg = |groups: &[String], port| {
        net.security_groups_allow(groups, true, to, Protocol::Tcp, port)
            .outcome
    };
    assert_eq!(sg(&nodes, 443), Outcome::Allowed);
    assert_eq!(sg(&nodes, 22), Outcome::Allowed);
    assert_eq!(sg(&proxy, 443), Outcome::Allowed);
    assert_eq!(sg(&proxy, 80), Outcome::Denied);
    // The proxy admits its clients' group on 3128: whether 10.0.10.5 is a
    // member is not in the inputs; a public address never is.
    let ingress = net.security_groups_allow(&proxy, false, ip("10.0.10.5"), Protocol::Tcp, 3128);
    assert!(
        matches!(&ingress.outcome, Outcome::Unknown(why) if why.contains("members of `aws_security_group.nodes`")),
        "{ingress:?}"
    );
    let public = net.security_groups_allow(&proxy, false, ip(INTERNET), Protocol::Tcp, 3128);
    assert_eq!(public.outcome, Outcome::Denied);
    assert!(net.security_groups.iter().any(|g| {
        g.rules
            .iter()
            .any(|r| r.peer == Peer::Group("aws_security_group.nodes".into()))
    }));
    // The workloads' ACL: SSH out denied by rule 100, HTTPS allowed by 200
    // with its answer let in by ingress rule 100.
    let acl = |port| net.nacl_allows("aws_subnet.workloads[1]", to, Protocol::Tcp, port);
    let ssh = acl(22);
    assert_eq!(ssh.outcome, Outcome::Denied);
    assert!(
        ssh.hops[0].what.contains("rule 100 denies"),
        "{:?}",
        ssh.hops
    );
    let https = acl(443);
    assert_eq!(https.outcome, Outcome::Allowed, "{:?}", https.hops);
    assert!(
        https.hops[1].what.contains("rule 100 allows inbound"),
        "{:?}",
        https.hops
    );
    // A subnet without an ACL of its own: the default ACL of the VPC the
    // plan creates, which allows everything.
    assert_eq!(
        net.nacl_allows("aws_subnet.proxy", to, Protocol::Tcp, 443)
            .outcome,
        Outcome::Allowed
    );
}

/// What a first plan leaves open: NATs named by index (`n[0]` beside `n`
/// in the references), a generated IPv6 block, an ACL entry and a rule
/// whose ranges are a new Elastic IP's address, and computed attributes
/// (`source_security_group_id`, `instance_id`) that nothing sets.
#[test]
fn what_a_plan_leaves_open_is_unknown_and_the_rest_still_links() {
    let net = read("unknowns");
    for table in ["aws_route_table.private[0]", "aws_route_table.private[1]"] {
        let t = net.route_tables.iter().find(|t| t.key == table).unwrap();
        assert_eq!(
            t.routes.iter().map(|r| &r.target).collect::<Vec<_>>(),
            [&Known::Yes(Target::NatGateway(
                "aws_nat_gateway.n[0]".into()
            ))],
            "{table}"
        );
    }
    let private = "aws_subnet.private[1]";
    let out = net.route(private, ip(INTERNET));
    assert_eq!(out.exit, Exit::Internet, "{:#?}", out.hops);
    assert!(
        out.hops[2]
            .what
            .contains("sits in subnet `aws_subnet.public[0]`"),
        "{:?}",
        out.hops
    );
    // The IPv4 block is known: the local route decides 10.3.1.7. The IPv6
    // block is allocated at apply: a ULA address may be the VPC's.
    assert_eq!(net.route(private, ip("10.3.1.7")).exit, Exit::Local);
    assert!(
        matches!(net.route(private, ip("fd00::7")).exit, Exit::Unknown(why) if why.contains("may be local"))
    );
    // The ACL of private[0] denies 443 to an address known after apply,
    // before allowing everything: whether 93.184.216.34 is it is not known.
    let acl = net.nacl_allows("aws_subnet.private[0]", ip(INTERNET), Protocol::Tcp, 443);
    assert!(
        matches!(&acl.outcome, Outcome::Unknown(why) if why.contains("rule 100")),
        "{acl:?}"
    );
    assert_eq!(
        net.nacl_allows("aws_subnet.private[0]", ip(INTERNET), Protocol::Tcp, 80)
            .outcome,
        Outcome::Allowed
    );
    // private[1] has the new VPC's default ACL.
    assert_eq!(
        net.nacl_allows(private, ip(INTERNET), Protocol::Tcp, 443)
            .outcome,
        Outcome::Allowed
    );
    // The nodes' group: a rule to an address known after apply, and one to
    // its own members (`self`), nothing computed.
    let nodes = net
        .security_groups
        .iter()
        .find(|g| g.key == "aws_security_group.nodes")
        .unwrap();
    let peers: Vec<&Peer> = nodes.rules.iter().map(|r| &r.peer).collect();
    assert_eq!(peers.len(), 2, "{peers:?}");
    assert!(
        peers
            .iter()
            .any(|p| matches!(p, Peer::Unknown(why) if why.contains("`cidr_blocks`"))),
        "{peers:?}"
    );
    assert!(peers.contains(&&Peer::Group("aws_security_group.nodes".into())));
    let sg = net.security_groups_allow(
        std::slice::from_ref(&nodes.key),
        true,
        ip(INTERNET),
        Protocol::Tcp,
        443,
    );
    assert!(matches!(sg.outcome, Outcome::Unknown(_)), "{sg:?}");
}

/// A plan's deleted resources are gone: `prior_state` is not read when
/// there are planned values.
#[test]
fn resources_a_plan_deletes_do_not_count() {
    let text = r#"{"format_version": "1.2",
      "planned_values": {"root_module": {"resources": [
        {"address": "aws_route_table.t", "mode": "managed", "type": "aws_route_table", "name": "t",
         "values": {"id": "rtb-1", "vpc_id": "vpc-1", "route": []}}]}},
      "prior_state": {"format_version": "1.0", "values": {"root_module": {"resources": [
        {"address": "aws_route.igw", "mode": "managed", "type": "aws_route", "name": "igw",
         "values": {"route_table_id": "rtb-1", "destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"}}]}}}}"#;
    let file = ConfigFile::parse("plan.json", text).unwrap();
    let mut net = Network::default();
    terraform::read(&file, 0, &mut net).unwrap();
    assert_eq!(net.route_tables.len(), 1);
    assert!(
        net.route_tables[0].routes.is_empty(),
        "{:?}",
        net.route_tables[0].routes
    );
}

/// Modules: the NAT's ID reaches the workloads' route through a module
/// output and a variable, and each association's subnet through
/// `for_each = aws_subnet.this` (`each.value.id`).
#[test]
fn references_are_followed_through_module_outputs_variables_and_for_each() {
    let net = read("modules");
    for key in ["a", "b"] {
        let subnet = format!("module.workloads.aws_subnet.this[\"{key}\"]");
        let trace = net.route(&subnet, ip(INTERNET));
        assert_eq!(trace.exit, Exit::Internet, "{subnet}: {:#?}", trace.hops);
        assert_eq!(
            trace.hops.iter().map(|h| h.what.as_str()).collect::<Vec<_>>(),
            [
                format!("subnet `{subnet}` is associated with route table `module.workloads.aws_route_table.this`").as_str(),
                "route table `module.workloads.aws_route_table.this`: 0.0.0.0/0 → NAT gateway `module.edge.aws_nat_gateway.this`",
                "NAT gateway `module.edge.aws_nat_gateway.this` sits in subnet `module.edge.aws_subnet.public`",
                "subnet `module.edge.aws_subnet.public` is associated with route table `module.edge.aws_route_table.public`",
                "route table `module.edge.aws_route_table.public`: 0.0.0.0/0 → internet gateway `module.edge.aws_internet_gateway.this`",
            ]
        );
    }
}

/// The whole question, "can an interface in this subnet with these groups
/// open this connection, and how": route, groups, the subnet's ACL both
/// ways, and the ACL of the NAT gateway's subnet.
#[test]
fn reach_composes_route_groups_and_every_acl_on_the_way() {
    let mut net = read("private-subnets");
    let nodes = ["aws_security_group.nodes".to_string()];
    let subnet = "aws_subnet.workloads[0]";
    let https = net.reach(subnet, &nodes, ip(INTERNET), Protocol::Tcp, 443);
    assert_eq!(https.outcome, Outcome::Allowed, "{:#?}", https.hops);
    assert_eq!(https.exit, Exit::Internet);
    let said: Vec<&str> = https.hops.iter().map(|h| h.what.as_str()).collect();
    assert!(
        said.iter()
            .any(|h| h.contains("NAT gateway `aws_nat_gateway.nat`")),
        "{said:#?}"
    );
    assert!(
        said.iter()
            .any(|h| h.contains("security group `aws_security_group.nodes` allows egress")),
        "{said:#?}"
    );
    assert!(said.iter().any(|h| h.contains("subnet `aws_subnet.public` has its new VPC's default network ACL")), "{said:#?}");
    // SSH: the workloads' ACL denies it, whatever the route says.
    let ssh = net.reach(subnet, &nodes, ip(INTERNET), Protocol::Tcp, 22);
    assert_eq!(ssh.outcome, Outcome::Denied);
    assert_eq!(ssh.exit, Exit::Internet);
    // No route: denied. The proxy's group allows only 443.
    let isolated = net.reach(
        "aws_subnet.isolated",
        &nodes,
        ip(INTERNET),
        Protocol::Tcp,
        443,
    );
    assert_eq!(
        (isolated.outcome, isolated.exit),
        (Outcome::Denied, Exit::NoRoute)
    );
    let proxy = ["aws_security_group.proxy".to_string()];
    assert_eq!(
        net.reach("aws_subnet.proxy", &proxy, ip(INTERNET), Protocol::Tcp, 80)
            .outcome,
        Outcome::Denied
    );
    assert_eq!(
        net.reach("aws_subnet.proxy", &proxy, ip(INTERNET), Protocol::Tcp, 443)
            .outcome,
        Outcome::Allowed
    );
    // The NAT's subnet with an ACL that lets answers in only above 32767:
    // a NAT gateway answers on 1024-65535, so it depends on the port.
    net.nacls.push(Nacl {
        key: "nat-acl".into(),
        vpc: Known::Yes("aws_vpc.main".into()),
        subnets: vec!["aws_subnet.public".into()],
        entries: vec![
            entry(true, 100, true, Protocol::All, (0, 65535), "0.0.0.0/0"),
            entry(false, 100, true, Protocol::Tcp, (32768, 65535), "0.0.0.0/0"),
        ],
        default: false,
        origin: origin("nat-acl"),
    });
    let partly = net.reach(subnet, &nodes, ip(INTERNET), Protocol::Tcp, 443);
    assert!(
        matches!(&partly.outcome, Outcome::Unknown(why) if why.contains("`nat-acl`")),
        "{partly:#?}"
    );
}

/// "A route to an internet gateway or a NAT for any internet destination":
/// every route that carries some public address out, after what more
/// specific routes take; IPv6 through the egress-only gateway included.
#[test]
fn internet_routes_are_found_for_any_public_destination() {
    let net = read("private-subnets");
    let routes = |subnet: &str| match net.internet_routes(subnet) {
        Known::Yes(r) => r
            .iter()
            .map(|r| (r.destination.to_string(), r.exit.clone()))
            .collect::<Vec<_>>(),
        Known::Unknown(why) => panic!("{subnet}: {why}"),
    };
    assert_eq!(
        routes("aws_subnet.workloads[1]"),
        [
            ("::/0".to_string(), Exit::Internet),
            ("0.0.0.0/0".to_string(), Exit::Internet)
        ]
    );
    assert_eq!(
        routes("aws_subnet.public"),
        [("0.0.0.0/0".to_string(), Exit::Internet)]
    );
    assert_eq!(routes("aws_subnet.isolated"), Vec::<(String, Exit)>::new());
    let table = |routes: Vec<Route>| {
        vpc_with(
            RouteTable {
                key: "rt".into(),
                vpc: Known::Yes("vpc".into()),
                routes,
                origin: origin("rt"),
            },
            None,
        )
    };
    let found = |net: &Network| match net.internet_routes("a") {
        Known::Yes(r) => r
            .iter()
            .map(|r| r.destination.to_string())
            .collect::<Vec<_>>(),
        Known::Unknown(why) => panic!("{why}"),
    };
    // One public /24 to the IGW under a default route to a VPN.
    let narrow = table(vec![
        route("0.0.0.0/0", Target::VpnGateway("vgw".into())),
        route("8.8.8.0/24", Target::InternetGateway("igw".into())),
    ]);
    assert_eq!(found(&narrow), ["8.8.8.0/24"]);
    // Private ranges only: no internet destination.
    let private = table(vec![route(
        "10.0.0.0/8",
        Target::InternetGateway("igw".into()),
    )]);
    assert_eq!(found(&private), Vec::<String>::new());
    // A default route entirely shadowed by more specific ones elsewhere.
    let shadowed = table(vec![
        route("0.0.0.0/0", Target::InternetGateway("igw".into())),
        route("0.0.0.0/1", Target::Peering("pcx".into())),
        route("128.0.0.0/1", Target::TransitGateway("tgw".into())),
    ]);
    assert_eq!(found(&shadowed), Vec::<String>::new());
    // Half of it shadowed: the other half still goes out.
    let half = table(vec![
        route("0.0.0.0/0", Target::InternetGateway("igw".into())),
        route("0.0.0.0/1", Target::Peering("pcx".into())),
    ]);
    assert_eq!(found(&half), ["0.0.0.0/0"]);
}

/// The default security group: restricted when managed without rules;
/// AWS's allow rules when a new VPC leaves it alone; unknown otherwise.
#[test]
fn a_default_group_is_restricted_only_when_managed_without_rules() {
    let managed = read("private-subnets");
    assert!(matches!(
        managed.default_group_restricted("aws_vpc.main"),
        Known::Yes((true, _))
    ));
    let left_alone = read("modules");
    let Known::Yes((restricted, hop)) = left_alone.default_group_restricted("aws_vpc.main") else {
        panic!("a VPC the plan creates has AWS's default group");
    };
    assert!(!restricted && hop.what.contains("AWS creates"), "{hop:?}");
    let cli = {
        let text =
            std::fs::read_to_string(workspace().join("tests/cloud/aws-cli/account.json")).unwrap();
        let file = ConfigFile::parse("account.json", &text).unwrap();
        let mut net = Network::default();
        aws::read(&file, 0, &mut net);
        net
    };
    assert!(matches!(
        cli.default_group_restricted("vpc-0e9801d129EXAMPLE"),
        Known::Yes((false, _))
    ));
    let state = read_file(&workspace().join("tests/cloud/terraform-state/existing-vpc.json"));
    assert!(matches!(
        state.default_group_restricted("aws_vpc.main"),
        Known::Unknown(_)
    ));
}

/// A state (every ID known, resources in a module keyed by `for_each`):
/// links go by ID. The subnet someone forgot to associate falls back to
/// the main table, which routes to the internet gateway.
#[test]
fn a_state_links_by_id_and_a_forgotten_association_means_the_main_table() {
    let net = read_file(&workspace().join("tests/cloud/terraform-state/existing-vpc.json"));
    let a = net.route("module.workloads.aws_subnet.this[\"a\"]", ip(INTERNET));
    assert_eq!(a.exit, Exit::NoRoute, "{:#?}", a.hops);
    let b = net.route("module.workloads.aws_subnet.this[\"b\"]", ip(INTERNET));
    assert_eq!(b.exit, Exit::Internet, "{:#?}", b.hops);
    assert_eq!(
        b.hops.iter().map(|h| h.what.as_str()).collect::<Vec<_>>(),
        [
            "subnet `module.workloads.aws_subnet.this[\"b\"]` has no route table of its own: VPC `aws_vpc.main`'s main table `aws_route_table.main`",
            "route table `aws_route_table.main`: 0.0.0.0/0 → internet gateway `aws_internet_gateway.public`",
        ]
    );
    // The gateway endpoint's prefix-list route: AWS service addresses only.
    let private = net
        .route_tables
        .iter()
        .find(|t| t.key.ends_with("aws_route_table.private"))
        .unwrap();
    assert_eq!(
        private
            .routes
            .iter()
            .map(|r| (&r.destination, &r.target))
            .collect::<Vec<_>>(),
        [(
            &Destination::PrefixList("pl-6da54004".into()),
            &Known::Yes(Target::VpcEndpoint("vpce-0s3".into()))
        )]
    );
}

/// An account as `aws ec2 describe-*` gives it: IDs everywhere, the local
/// route written out, a blackhole route, a gateway endpoint's prefix list.
#[test]
fn aws_cli_output_is_read_with_every_link_by_id() {
    let path = workspace().join("tests/cloud/aws-cli/account.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let file = ConfigFile::parse("account.json", &text).unwrap();
    assert!(aws::is_aws_cli_json(file.value()));
    assert!(!terraform::is_terraform_json(file.value()));
    let mut net = Network::default();
    assert_eq!(aws::read(&file, 0, &mut net), Vec::new());
    let private = "subnet-0bb1c79de3EXAMPLE";
    let out = net.route(private, ip(INTERNET));
    assert_eq!(out.exit, Exit::Internet, "{:#?}", out.hops);
    assert_eq!(
        out.hops.iter().map(|h| h.what.as_str()).collect::<Vec<_>>(),
        [
            "subnet `subnet-0bb1c79de3EXAMPLE` is associated with route table `rtb-0c6a2b1ff9EXAMPLE`",
            "route table `rtb-0c6a2b1ff9EXAMPLE`: 0.0.0.0/0 → NAT gateway `nat-05dba92075EXAMPLE`",
            "NAT gateway `nat-05dba92075EXAMPLE` sits in subnet `subnet-0a7d7e6c4aEXAMPLE`",
            "subnet `subnet-0a7d7e6c4aEXAMPLE` is associated with route table `rtb-09ba434c1bEXAMPLE`",
            "route table `rtb-09ba434c1bEXAMPLE`: 0.0.0.0/0 → internet gateway `igw-06d1a1d1d1EXAMPLE`",
        ]
    );
    // Each hop's line is the route's own in the file.
    assert_eq!(
        out.hops[1].origin.as_ref().map(|o| o.location.line),
        Some(124)
    );
    assert_eq!(
        net.route(private, ip("2606:2800:220:1::1")).exit,
        Exit::Internet
    );
    assert_eq!(net.route(private, ip("10.0.9.9")).exit, Exit::Local);
    let peered = net.route(private, ip("172.31.5.5"));
    assert_eq!(peered.exit, Exit::NoRoute);
    assert!(
        peered.hops[1].what.contains("blackhole"),
        "{:?}",
        peered.hops
    );
    // No association: the main table, which routes to the internet gateway.
    let main = net.route("subnet-0c2f2e2b1bEXAMPLE", ip(INTERNET));
    assert_eq!(main.exit, Exit::Internet);
    assert!(
        main.hops[0]
            .what
            .contains("main table `rtb-09ba434c1bEXAMPLE`")
    );
    // Groups: the default one's allow-all egress; the nodes' to the proxy
    // subnet, and to a prefix list whose addresses are not in the inputs.
    let out = |g: &str, port, to: &str| {
        net.security_groups_allow(&[g.to_string()], true, ip(to), Protocol::Tcp, port)
            .outcome
    };
    assert_eq!(out("sg-0a2b3c4d5eEXAMPLE", 22, INTERNET), Outcome::Allowed);
    assert_eq!(
        out("sg-0b5e7c9d1fEXAMPLE", 3128, "10.0.2.9"),
        Outcome::Allowed
    );
    assert!(
        matches!(out("sg-0b5e7c9d1fEXAMPLE", 443, INTERNET), Outcome::Unknown(why) if why.contains("`pl-63a5400a`"))
    );
    assert_eq!(out("sg-0b5e7c9d1fEXAMPLE", 80, INTERNET), Outcome::Denied);
    assert!(
        net.security_groups
            .iter()
            .any(|g| g.default && g.name == "default")
    );
    // The default ACL as AWS writes it: 100 allows, 32767 denies.
    assert_eq!(
        net.nacl_allows(private, ip(INTERNET), Protocol::Tcp, 443)
            .outcome,
        Outcome::Allowed
    );
    assert_eq!(net.vpcs[0].flow_logs, Known::Yes(false));
    let public = net
        .subnets
        .iter()
        .find(|s| s.key == "subnet-0a7d7e6c4aEXAMPLE")
        .unwrap();
    assert!(public.map_public_ip_on_launch);
    // Without a `describe-flow-logs` answer, whether a VPC has a flow log
    // is unknown; with one (even in another file), a VPC it does not name
    // has none.
    let vpcs = r#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}"#;
    let mut alone = Network::default();
    aws::read(
        &ConfigFile::parse("vpcs.json", vpcs).unwrap(),
        0,
        &mut alone,
    );
    assert!(matches!(alone.vpcs[0].flow_logs, Known::Unknown(_)));
    let logs = r#"{"FlowLogs": [{"ResourceId": "vpc-2"}]}"#;
    aws::read(
        &ConfigFile::parse("logs.json", logs).unwrap(),
        1,
        &mut alone,
    );
    assert_eq!(alone.vpcs[0].flow_logs, Known::Yes(false));
}

/// `tests/cloud/terraform/*/plan.json` is what Terraform makes of
/// `main.tf`, when Terraform and the provider mirror are here to say so.
#[test]
fn the_committed_plans_are_terraform_s_own_output() {
    let mirror = Path::new("/opt/tf-plugins");
    let terraform = std::process::Command::new("terraform")
        .arg("version")
        .output();
    if !mirror.is_dir() || !terraform.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "terraform or its provider mirror is not on this machine: the committed plans are not regenerated"
        );
        return;
    }
    // The fixtures, and the demo's networks.
    let dirs = std::fs::read_dir(workspace().join("tests/cloud/terraform"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .chain(
            ["secure", "insecure"].map(|v| workspace().join("tests/demo").join(v).join("network")),
        );
    for dir in dirs {
        let name = dir
            .strip_prefix(workspace())
            .unwrap()
            .to_string_lossy()
            .replace('/', "_");
        let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("terraform")
            .join(name);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        copy_tf(&dir, &work);
        let run = |args: &[&str]| {
            let out = std::process::Command::new("terraform")
                .args(args)
                .current_dir(&work)
                .env("TF_IN_AUTOMATION", "1")
                .env("CHECKPOINT_DISABLE", "1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "terraform {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        run(&[
            "init",
            "-input=false",
            "-plugin-dir",
            mirror.to_str().unwrap(),
        ]);
        run(&["plan", "-refresh=false", "-input=false", "-out=plan"]);
        let fresh: serde_json::Value =
            serde_json::from_slice(&run(&["show", "-json", "plan"])).unwrap();
        let committed: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
        // The time of the plan, and the order of `relevant_attributes`,
        // change from run to run.
        let strip = |mut v: serde_json::Value| {
            let map = v.as_object_mut().unwrap();
            map.remove("timestamp");
            if let Some(serde_json::Value::Array(list)) = map.get_mut("relevant_attributes") {
                list.sort_by_key(serde_json::Value::to_string);
            }
            v
        };
        assert!(
            strip(fresh) == strip(committed),
            "{}: plan.json is not what terraform plans now; regenerate it (see tests/tests/cloud.rs)",
            dir.display()
        );
    }
}

/// The `.tf` files of a fixture, its modules included.
fn copy_tf(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tf(&path, &target);
        } else if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn another_major_format_version_is_refused() {
    let text = r#"{"format_version": "2.0", "planned_values": {"root_module": {}}}"#;
    let file = ConfigFile::parse("plan.json", text).unwrap();
    assert!(terraform::is_terraform_json(file.value()));
    let e = terraform::read(&file, 0, &mut Network::default()).unwrap_err();
    assert!(e.message().contains("format_version `2.0`"), "{e}");
    assert_eq!(e.location().map(|l| (l.line, l.column)), Some((1, 2)));
}

// Semantics held to the AWS documentation's own examples, on networks
// built by hand.

fn origin(address: &str) -> Origin {
    Origin {
        address: address.to_string(),
        location: Location::new("hand.json", 1, 1),
        object: 0,
        pointer: String::new(),
    }
}

fn cidr(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn route(dest: &str, target: Target) -> Route {
    Route {
        destination: Destination::Cidr(cidr(dest)),
        target: Known::Yes(target),
        origin: origin(dest),
    }
}

fn vpc_with(table: RouteTable, main: Option<RouteTable>) -> Network {
    let mut net = Network::default();
    net.vpcs.push(Vpc {
        key: "vpc".into(),
        cidrs: vec![cidr("10.0.0.0/16"), cidr("2001:db8:1234:1a00::/56")],
        cidrs_unknown: [false, false],
        created: false,
        flow_logs: Known::Yes(false),
        origin: origin("vpc"),
    });
    for s in ["a", "b"] {
        net.subnets.push(Subnet {
            key: s.into(),
            id: None,
            tags: Default::default(),
            vpc: Known::Yes("vpc".into()),
            cidrs: Vec::new(),
            map_public_ip_on_launch: false,
            origin: origin(s),
        });
    }
    net.associations
        .push(("a".into(), Known::Yes(table.key.clone()), origin("assoc")));
    net.route_tables.push(table);
    if let Some(main) = main {
        net.main_tables
            .push(("vpc".into(), main.key.clone(), origin("main")));
        net.route_tables.push(main);
    }
    net
}

/// "Route priority" (VPC User Guide, Route tables): the most specific
/// route wins; a route to 172.31.0.0/24 beats 172.31.0.0/16; IPv4 and IPv6
/// routes do not compete.
#[test]
fn the_most_specific_route_wins_and_the_families_are_apart() {
    let table = RouteTable {
        key: "rt".into(),
        vpc: Known::Yes("vpc".into()),
        routes: vec![
            route("0.0.0.0/0", Target::InternetGateway("igw".into())),
            route("::/0", Target::EgressOnlyGateway("eigw".into())),
            route("172.31.0.0/16", Target::Peering("pcx".into())),
            route("172.31.0.0/24", Target::VpnGateway("vgw".into())),
        ],
        origin: origin("rt"),
    };
    let net = vpc_with(table, None);
    let via = |to: &str| {
        let t = net.route("a", ip(to));
        (t.exit, t.hops.last().unwrap().what.clone())
    };
    assert_eq!(
        via("172.31.0.9"),
        (
            Exit::Elsewhere,
            "route table `rt`: 172.31.0.0/24 → VPN gateway `vgw`".into()
        )
    );
    assert_eq!(
        via("172.31.5.9"),
        (
            Exit::Elsewhere,
            "route table `rt`: 172.31.0.0/16 → VPC peering connection `pcx`".into()
        )
    );
    assert_eq!(via("8.8.8.8").0, Exit::Internet);
    assert_eq!(
        via("2001:4860::8888").1,
        "route table `rt`: ::/0 → egress-only internet gateway `eigw`"
    );
    // The VPC's own CIDRs: the local route, IPv4 and IPv6.
    assert_eq!(via("10.0.3.4").0, Exit::Local);
    assert_eq!(via("2001:db8:1234:1a00::5").0, Exit::Local);
    // An egress-only gateway carries IPv6 only.
    let v4_only = RouteTable {
        key: "rt".into(),
        vpc: Known::Yes("vpc".into()),
        routes: vec![route("0.0.0.0/0", Target::EgressOnlyGateway("eigw".into()))],
        origin: origin("rt"),
    };
    assert_eq!(
        vpc_with(v4_only, None).route("a", ip("8.8.8.8")).exit,
        Exit::NoRoute
    );
}

/// "Main route tables": a subnet not explicitly associated uses the VPC's
/// main route table; without it in the inputs, the route is unknown.
#[test]
fn a_subnet_without_an_association_uses_the_main_table() {
    let private = RouteTable {
        key: "private".into(),
        vpc: Known::Yes("vpc".into()),
        routes: vec![route("0.0.0.0/0", Target::NatGateway("nat".into()))],
        origin: origin("private"),
    };
    let main = RouteTable {
        key: "main".into(),
        vpc: Known::Yes("vpc".into()),
        routes: vec![route("0.0.0.0/0", Target::InternetGateway("igw".into()))],
        origin: origin("main"),
    };
    let net = vpc_with(private.clone(), Some(main));
    let b = net.route("b", ip("8.8.8.8"));
    assert_eq!(b.exit, Exit::Internet);
    assert!(b.hops[0].what.contains("main table `main`"), "{:?}", b.hops);
    // `a` goes to a NAT gateway that is not in the inputs.
    assert!(
        matches!(net.route("a", ip("8.8.8.8")).exit, Exit::Unknown(why) if why.contains("`nat` is not in the inputs"))
    );
    let without_main = vpc_with(private, None);
    assert!(
        matches!(without_main.route("b", ip("8.8.8.8")).exit, Exit::Unknown(why) if why.contains("main route table is not in the inputs"))
    );
}

fn entry(
    egress: bool,
    number: u32,
    allow: bool,
    protocol: Protocol,
    ports: (u16, u16),
    to: &str,
) -> NaclEntry {
    NaclEntry {
        egress,
        number,
        allow,
        protocol,
        ports,
        cidr: Known::Yes(cidr(to)),
        origin: origin(&format!("rule {number}")),
    }
}

fn with_acl(entries: Vec<NaclEntry>) -> Network {
    let mut net = Network::default();
    net.nacls.push(Nacl {
        key: "acl".into(),
        vpc: Known::Yes("vpc".into()),
        subnets: vec!["a".into()],
        entries,
        default: false,
        origin: origin("acl"),
    });
    net
}

/// "Network ACLs" (VPC User Guide): rules are evaluated from the lowest
/// number up, the first match decides, `*` denies what none matches; the
/// custom ACL example allows HTTP and HTTPS out and the responses in on
/// 32768-65535.
#[test]
fn acl_rules_are_ordered_stateless_and_need_the_ephemeral_ports() {
    let example = with_acl(vec![
        entry(true, 100, true, Protocol::Tcp, (80, 80), "0.0.0.0/0"),
        entry(true, 110, true, Protocol::Tcp, (443, 443), "0.0.0.0/0"),
        entry(false, 140, true, Protocol::Tcp, (32768, 65535), "0.0.0.0/0"),
    ]);
    let to = ip("203.0.113.9");
    assert_eq!(
        example.nacl_allows("a", to, Protocol::Tcp, 443).outcome,
        Outcome::Allowed
    );
    let ssh = example.nacl_allows("a", to, Protocol::Tcp, 22);
    assert_eq!(ssh.outcome, Outcome::Denied);
    assert!(
        ssh.hops[0].what.contains("so `*` denies it"),
        "{:?}",
        ssh.hops
    );
    // Order is by number, not by position: 100 denies before 200 allows.
    let ordered = with_acl(vec![
        entry(true, 200, true, Protocol::All, (0, 65535), "0.0.0.0/0"),
        entry(
            true,
            100,
            false,
            Protocol::Tcp,
            (443, 443),
            "203.0.113.0/24",
        ),
        entry(false, 100, true, Protocol::All, (0, 65535), "0.0.0.0/0"),
    ]);
    assert_eq!(
        ordered.nacl_allows("a", to, Protocol::Tcp, 443).outcome,
        Outcome::Denied
    );
    assert_eq!(
        ordered
            .nacl_allows("a", ip("198.51.100.1"), Protocol::Tcp, 443)
            .outcome,
        Outcome::Allowed
    );
    // Stateless: without the answer's way in, the connection fails.
    let no_return = with_acl(vec![entry(
        true,
        100,
        true,
        Protocol::Tcp,
        (443, 443),
        "0.0.0.0/0",
    )]);
    let v = no_return.nacl_allows("a", to, Protocol::Tcp, 443);
    assert_eq!(v.outcome, Outcome::Denied);
    assert!(v.hops[1].what.contains("ephemeral ports"), "{:?}", v.hops);
    // Half the ephemeral range: it depends on the port the client picks.
    let half = with_acl(vec![
        entry(true, 100, true, Protocol::Tcp, (443, 443), "0.0.0.0/0"),
        entry(false, 100, true, Protocol::Tcp, (49152, 65535), "0.0.0.0/0"),
    ]);
    assert!(matches!(
        half.nacl_allows("a", to, Protocol::Tcp, 443).outcome,
        Outcome::Unknown(_)
    ));
}

/// "Security group rules": allow rules only, the union of the groups,
/// stateful (no inbound rule is needed for the answer).
#[test]
fn security_groups_are_a_stateful_union_of_allows() {
    let rule = |protocol, ports, to: &str| SgRule {
        egress: true,
        protocol,
        ports,
        peer: Peer::Cidr(cidr(to)),
        origin: origin("rule"),
    };
    let group = |key: &str, rules| SecurityGroup {
        key: key.into(),
        id: None,
        tags: Default::default(),
        name: key.into(),
        vpc: Known::Yes("vpc".into()),
        rules,
        default: false,
        origin: origin(key),
    };
    let mut net = Network::default();
    net.security_groups.push(group(
        "web",
        vec![rule(Protocol::Tcp, (443, 443), "0.0.0.0/0")],
    ));
    net.security_groups.push(group(
        "dns",
        vec![rule(Protocol::Udp, (53, 53), "10.0.0.2/32")],
    ));
    net.security_groups.push(group("none", Vec::new()));
    let both = ["web".to_string(), "dns".to_string()];
    let out = |groups: &[String], p, port, to: &str| {
        net.security_groups_allow(groups, true, ip(to), p, port)
            .outcome
    };
    assert_eq!(out(&both, Protocol::Tcp, 443, "8.8.8.8"), Outcome::Allowed);
    assert_eq!(out(&both, Protocol::Udp, 53, "10.0.0.2"), Outcome::Allowed);
    assert_eq!(out(&both, Protocol::Udp, 53, "8.8.8.8"), Outcome::Denied);
    assert_eq!(
        out(&["none".to_string()], Protocol::Tcp, 443, "8.8.8.8"),
        Outcome::Denied
    );
    // No inbound rules, yet the answer to an allowed request comes back:
    // nothing to check inbound for a security group.
    assert!(
        net.security_groups
            .iter()
            .all(|g| g.rules.iter().all(|r| r.egress))
    );
    // A group outside the inputs may allow anything.
    assert!(
        matches!(out(&["sg-0123".to_string()], Protocol::Tcp, 443, "8.8.8.8"), Outcome::Unknown(why) if why.contains("`sg-0123` is not in the inputs"))
    );
}
