# The insecure demo's network: the secure demo's, with what goes wrong in
# practice. The workload subnets route 0.0.0.0/0 to the NAT gateway ("for
# now") and ::/0 to an egress-only gateway; one gives out public addresses;
# the nodes' group allows all egress; the proxy's admits the world on 3128;
# the default security group keeps AWS's rules; there is no flow log.
#
# Regenerate plan.json (tests/tests/cloud.rs does, and compares):
#   terraform init -plugin-dir=MIRROR && terraform plan -refresh=false -out=plan
#   terraform show -json plan > plan.json
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
  cidr_block                       = "10.0.0.0/16"
  assign_generated_ipv6_cidr_block = true
}

resource "aws_egress_only_internet_gateway" "eigw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_internet_gateway" "igw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "public" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.0.0/24"
  tags       = { Name = "public", "palisade.dev/layer" = "public" }
}

resource "aws_subnet" "proxy" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
  tags       = { Name = "proxy", "palisade.dev/layer" = "proxy" }
}

resource "aws_subnet" "workloads" {
  count                   = 2
  vpc_id                  = aws_vpc.main.id
  cidr_block              = "10.0.${16 * (count.index + 1)}.0/20"
  map_public_ip_on_launch = count.index == 1
  tags                    = { Name = "workloads-${count.index}", "palisade.dev/layer" = "workloads" }
}

resource "aws_eip" "nat" {
  domain = "vpc"
}

resource "aws_nat_gateway" "nat" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public.id
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.igw.id
  }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "proxy" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route" "proxy_nat" {
  route_table_id         = aws_route_table.proxy.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.nat.id
}

resource "aws_route_table_association" "proxy" {
  subnet_id      = aws_subnet.proxy.id
  route_table_id = aws_route_table.proxy.id
}

# The workloads' table: the VPC, and S3 through a gateway endpoint.
resource "aws_route_table" "workloads" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table_association" "workloads" {
  count          = 2
  subnet_id      = aws_subnet.workloads[count.index].id
  route_table_id = aws_route_table.workloads.id
}

resource "aws_route" "workloads_nat" {
  route_table_id         = aws_route_table.workloads.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.nat.id
}

resource "aws_route" "workloads_ipv6" {
  route_table_id              = aws_route_table.workloads.id
  destination_ipv6_cidr_block = "::/0"
  egress_only_gateway_id      = aws_egress_only_internet_gateway.eigw.id
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.eu-west-1.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.workloads.id]
}

resource "aws_security_group" "nodes" {
  name   = "nodes"
  vpc_id = aws_vpc.main.id
  tags   = { "palisade.dev/layer" = "workloads" }
  egress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
}

resource "aws_security_group" "proxy" {
  name   = "proxy"
  vpc_id = aws_vpc.main.id
  tags   = { "palisade.dev/layer" = "proxy" }
  ingress {
    from_port   = 3128
    to_port     = 3128
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
