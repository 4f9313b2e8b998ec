variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-west-2"
}

variable "name" {
  description = "Name of the service and its resources."
  type        = string
  default     = "product-search"
}

variable "image_tag" {
  description = "Tag of the image pushed to the ECR repository."
  type        = string
  default     = "latest"
}

variable "certificate_arn" {
  description = "ACM certificate ARN for an HTTPS listener; empty serves HTTP only."
  type        = string
  default     = ""
}

variable "write_token_secret_arn" {
  description = "ARN of an existing Secrets Manager secret holding the write token; null leaves writes open."
  type        = string
  default     = null
}

variable "master_key_secret_arn" {
  description = "ARN of an existing Secrets Manager secret holding the master key (API keys are made with it); null: no master key."
  type        = string
  default     = null
}

variable "min_tasks" {
  description = "Fewest tasks."
  type        = number
  default     = 2
}

variable "max_tasks" {
  description = "Most tasks."
  type        = number
  default     = 4
}

variable "database_instance_class" {
  description = "RDS instance class of the database."
  type        = string
  default     = "db.t4g.micro"
}

variable "database_multi_az" {
  description = "A standby database in the second availability zone, for failover."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer and the database (which then keeps a final snapshot); set false before `terraform destroy`."
  type        = bool
  default     = true
}

variable "autoscaling" {
  description = "Scale on CPU (70%) between min_tasks and max_tasks."
  type        = bool
  default     = true
}

variable "alarm_topic_arn" {
  description = "SNS topic notified by the alarms; null records alarms without notifying."
  type        = string
  default     = null
}
