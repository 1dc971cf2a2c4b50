# Modules, as most VPCs are written: the NAT lives in one module, the
# workload subnets and their routes in another, linked through a module
# output and a variable. Every ID is known only after apply.
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
  cidr_block = "10.2.0.0/16"
}

module "edge" {
  source = "./modules/edge"
  vpc_id = aws_vpc.main.id
}

module "workloads" {
  source         = "./modules/routes"
  vpc_id         = aws_vpc.main.id
  nat_gateway_id = module.edge.nat_gateway_id
  subnets        = { a = "10.2.10.0/24", b = "10.2.11.0/24" }
}
