variable "name" {
  description = "Name of the load balancer and its target group."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the load balancer."
  type        = string
}

variable "vpc_cidr_block" {
  description = "Address range of the VPC, where the tasks live."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets, in at least two availability zones."
  type        = list(string)
}

variable "allowed_cidr_blocks" {
  description = "Who may reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "target_port" {
  description = "The tasks' API port."
  type        = number
}

variable "health_path" {
  description = "Path of the tasks' health check."
  type        = string
}

variable "health_check" {
  description = "Health check timings (from the settings module)."
  type = object({
    interval_seconds    = number
    timeout_seconds     = number
    healthy_threshold   = number
    unhealthy_threshold = number
    start_period        = number
  })
}

variable "deregistration_delay_seconds" {
  description = "How long a deregistering task keeps its in-flight requests; short, since requests are short."
  type        = number
  default     = 15
}

variable "certificate_arn" {
  description = "ACM certificate for an HTTPS listener; empty for HTTP only."
  type        = string
  default     = ""
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer; set false before `terraform destroy`."
  type        = bool
  default     = true
}

variable "access_logs_bucket" {
  description = "S3 bucket (with the ELB log delivery policy) for access logs; null for none."
  type        = string
  default     = null
}
