#!/usr/bin/env python3
"""Writes a Terraform plan (`terraform show -json` shape) of about N
resources, the same for the same N: VPCs of 40 subnets each, with public
and private route tables, NAT and internet gateways, standalone routes,
associations (by `count.index`, as real configurations write them),
security groups with inline and standalone rules, and network ACLs. Every
ID is known only after apply, so every link goes through the
configuration's references, as in a real first plan.

    python3 tests/bench/gen-terraform.py 5000 > plan.json

Real plans of this repository's fixtures (tests/cloud/terraform) are
Terraform's own output; this one is generated for scale only.
"""

import argparse
import json
import sys

SUBNETS = 40


def resource(address, kind, values):
    name = address.split(".")[-1].split("[")[0]
    r = {"address": address, "mode": "managed", "type": kind, "name": name,
         "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
         "values": values, "sensitive_values": {}}
    if "[" in address:
        r["index"] = int(address.split("[")[1].rstrip("]"))
    return r


def refs(*names):
    out = []
    for n in names:
        out += [n + ".id", n]
    return {"references": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("resources", type=int)
    n = ap.parse_args().resources
    planned, changes, config = [], [], []

    def add(address, kind, values, unknown, expressions=None):
        planned.append(resource(address, kind, values))
        changes.append({"address": address, "mode": "managed", "type": kind,
                        "name": address.split(".")[-1].split("[")[0],
                        "provider_name": "registry.terraform.io/hashicorp/aws",
                        "change": {"actions": ["create"], "before": None, "after": values,
                                   "after_unknown": dict(unknown, id=True),
                                   "before_sensitive": False, "after_sensitive": {}}})
        base = address.split("[")[0]
        if expressions is not None and not any(c["address"] == base for c in config[-8:]):
            config.append({"address": base, "mode": "managed", "type": kind,
                           "name": base.split(".")[-1], "provider_config_key": "aws",
                           "expressions": expressions, "schema_version": 0})

    per_vpc = 8 + 3 * SUBNETS
    vpcs = max(1, n // per_vpc)
    for v in range(vpcs):
        vpc = f"aws_vpc.v{v}"
        add(vpc, "aws_vpc", {"cidr_block": f"10.{v % 250}.0.0/16"}, {"vpc_id": True}, {})
        vref = refs(vpc)
        igw, nat, pub, priv = (f"aws_internet_gateway.v{v}", f"aws_nat_gateway.v{v}",
                               f"aws_route_table.public{v}", f"aws_route_table.private{v}")
        add(igw, "aws_internet_gateway", {}, {"vpc_id": True}, {"vpc_id": vref})
        add(f"aws_subnet.public{v}", "aws_subnet", {"cidr_block": f"10.{v % 250}.250.0/24",
            "map_public_ip_on_launch": True}, {"vpc_id": True}, {"vpc_id": vref})
        add(nat, "aws_nat_gateway", {"connectivity_type": "public"}, {"subnet_id": True},
            {"subnet_id": refs(f"aws_subnet.public{v}")})
        add(pub, "aws_route_table", {"route": [{"cidr_block": "0.0.0.0/0", "ipv6_cidr_block": "",
            "nat_gateway_id": "", "egress_only_gateway_id": "", "destination_prefix_list_id": ""}]},
            {"vpc_id": True, "route": [{"gateway_id": True}]}, {"vpc_id": vref, "route": refs(igw)})
        add(f"aws_route_table_association.public{v}", "aws_route_table_association", {},
            {"subnet_id": True, "route_table_id": True},
            {"subnet_id": refs(f"aws_subnet.public{v}"), "route_table_id": refs(pub)})
        add(priv, "aws_route_table", {"route": []}, {"vpc_id": True}, {"vpc_id": vref})
        add(f"aws_route.nat{v}", "aws_route", {"destination_cidr_block": "0.0.0.0/0"},
            {"route_table_id": True, "nat_gateway_id": True},
            {"route_table_id": refs(priv), "nat_gateway_id": refs(nat)})
        for s in range(SUBNETS):
            subnet = f"aws_subnet.w{v}[{s}]"
            add(subnet, "aws_subnet", {"cidr_block": f"10.{v % 250}.{s}.0/24",
                "map_public_ip_on_launch": False}, {"vpc_id": True}, {"vpc_id": vref})
            add(f"aws_route_table_association.w{v}[{s}]", "aws_route_table_association", {},
                {"subnet_id": True, "route_table_id": True},
                {"subnet_id": {"references": [f"aws_subnet.w{v}", "count.index"]},
                 "route_table_id": refs(priv)})
            sg = f"aws_security_group.w{v}_{s}"
            add(sg, "aws_security_group", {"name": f"w{v}-{s}", "ingress": [], "egress": [
                {"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                 "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False}]},
                {"vpc_id": True}, {"vpc_id": vref})
        add(f"aws_network_acl.v{v}", "aws_network_acl", {
            "egress": [{"rule_no": 100, "action": "allow", "protocol": "-1", "from_port": 0,
                        "to_port": 0, "cidr_block": "0.0.0.0/0", "ipv6_cidr_block": ""}],
            "ingress": [{"rule_no": 100, "action": "allow", "protocol": "tcp", "from_port": 1024,
                         "to_port": 65535, "cidr_block": "0.0.0.0/0", "ipv6_cidr_block": ""}]},
            {"vpc_id": True, "subnet_ids": True},
            {"vpc_id": vref, "subnet_ids": {"references": [f"aws_subnet.w{v}"]}})
    plan = {"format_version": "1.2", "terraform_version": "1.11.4",
            "planned_values": {"root_module": {"resources": planned}},
            "resource_changes": changes,
            "configuration": {"provider_config": {}, "root_module": {"resources": config}}}
    json.dump(plan, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
