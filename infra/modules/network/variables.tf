variable "name" {
  description = "Name prefix of the network's resources."
  type        = string
}

variable "cidr_block" {
  description = "Address range of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  description = "Availability zones to spread subnets over, named so the set never changes by itself (the load balancer needs two)."
  type        = list(string)
}

variable "flow_log_destination_arn" {
  description = "CloudWatch log group ARN for VPC flow logs of rejected traffic; null for none."
  type        = string
  default     = null
}

variable "flow_log_role_arn" {
  description = "IAM role that lets VPC flow logs write to the destination."
  type        = string
  default     = null
}
