variable "vpc_id" {
  type = string
}

variable "nat_gateway_id" {
  type = string
}

variable "subnets" {
  type = map(string)
}

resource "aws_subnet" "this" {
  for_each   = var.subnets
  vpc_id     = var.vpc_id
  cidr_block = each.value
}

resource "aws_route_table" "this" {
  vpc_id = var.vpc_id
}

resource "aws_route" "default" {
  route_table_id         = aws_route_table.this.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = var.nat_gateway_id
}

resource "aws_route_table_association" "this" {
  for_each       = aws_subnet.this
  subnet_id      = each.value.id
  route_table_id = aws_route_table.this.id
}
