# What a first plan leaves open, and the references that still settle it:
# NATs by index (`element(…, count.index)` and an explicit `[0]`), a VPC
# whose IPv6 block AWS allocates at apply, an ACL entry and a security
# group rule whose ranges are a new Elastic IP's address.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "AKIAFAKEFAKEFAKEFAKE"
  secret_key                  = "fakefakefakefakefakefakefakefakefakefake"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

resource "aws_vpc" "main" {
  cidr_block                       = "10.3.0.0/16"
  assign_generated_ipv6_cidr_block = true
}

resource "aws_internet_gateway" "igw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "public" {
  count      = 2
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.3.${count.index}.0/24"
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.igw.id
  }
}

resource "aws_route_table_association" "public" {
  count          = 2
  subnet_id      = element(aws_subnet.public[*].id, count.index)
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  count  = 2
  domain = "vpc"
}

resource "aws_nat_gateway" "n" {
  count         = 2
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
}

resource "aws_subnet" "private" {
  count      = 2
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.3.${count.index + 10}.0/24"
}

resource "aws_route_table" "private" {
  count  = 2
  vpc_id = aws_vpc.main.id
}

resource "aws_route" "nat" {
  count                  = 2
  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  # Both tables use the first NAT.
  nat_gateway_id = aws_nat_gateway.n[0].id
}

resource "aws_route_table_association" "private" {
  count          = 2
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

resource "aws_network_acl" "private" {
  vpc_id     = aws_vpc.main.id
  subnet_ids = [aws_subnet.private[0].id]
  egress {
    rule_no    = 100
    action     = "deny"
    protocol   = "tcp"
    from_port  = 443
    to_port    = 443
    cidr_block = "${aws_eip.nat[1].public_ip}/32"
  }
  egress {
    rule_no    = 200
    action     = "allow"
    protocol   = "-1"
    from_port  = 0
    to_port    = 0
    cidr_block = "0.0.0.0/0"
  }
  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "tcp"
    from_port  = 1024
    to_port    = 65535
    cidr_block = "0.0.0.0/0"
  }
}

resource "aws_security_group" "nodes" {
  name   = "nodes"
  vpc_id = aws_vpc.main.id
}

resource "aws_security_group_rule" "to_nat_ip" {
  type              = "egress"
  security_group_id = aws_security_group.nodes.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = ["${aws_eip.nat[0].public_ip}/32"]
}

resource "aws_security_group_rule" "self" {
  type              = "egress"
  security_group_id = aws_security_group.nodes.id
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
  self              = true
}
