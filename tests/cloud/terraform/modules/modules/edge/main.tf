variable "vpc_id" {
  type = string
}

resource "aws_subnet" "public" {
  vpc_id     = var.vpc_id
  cidr_block = "10.2.0.0/24"
}

resource "aws_internet_gateway" "this" {
  vpc_id = var.vpc_id
}

resource "aws_route_table" "public" {
  vpc_id = var.vpc_id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  domain = "vpc"
}

resource "aws_nat_gateway" "this" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public.id
}

output "nat_gateway_id" {
  value = aws_nat_gateway.this.id
}
