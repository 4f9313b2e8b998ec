variable "name" {
  description = "Name of the cluster, service, task family and container."
  type        = string
}

variable "image" {
  description = "Full image reference, repository URL and tag."
  type        = string
}

variable "repository_arn" {
  description = "ECR repository the image is pulled from."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the tasks."
  type        = list(string)
}

variable "load_balancer_security_group_id" {
  description = "Security group of the load balancer: the only source allowed into the API port."
  type        = string
}

variable "target_group_arn" {
  description = "Target group the service registers its tasks in."
  type        = string
}

variable "api_port" {
  description = "The container's API port."
  type        = number
}

variable "metrics_port" {
  description = "The container's metrics port; exposed inside the VPC only for scrapers placed there."
  type        = number
}

variable "environment" {
  description = "Environment variables of the container."
  type        = map(string)
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

variable "stop_timeout_seconds" {
  description = "Seconds between SIGTERM and SIGKILL."
  type        = number
}

variable "write_token_secret_arn" {
  description = "Secrets Manager secret holding the write token; null leaves writes open."
  type        = string
  default     = null
}

variable "master_key_secret_arn" {
  description = "Secrets Manager secret holding the master key; with it every search and write needs an API key. Null: no master key."
  type        = string
  default     = null
}

variable "database" {
  description = "The store of record: a postgres:// URL without password, the Secrets Manager secret whose JSON `password` key holds it, and the database's security group (the tasks may reach it on 5432). Null: each task keeps its own in-memory catalogue."
  type = object({
    url                 = string
    password_secret_arn = string
    security_group_id   = string
  })
  default = null
}

variable "cpu" {
  description = "Task CPU units (1024 = one vCPU)."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 2048
}

variable "min_tasks" {
  description = "Fewest tasks; also the count at creation."
  type        = number
  default     = 2
}

variable "max_tasks" {
  description = "Most tasks autoscaling may run."
  type        = number
  default     = 4
}

variable "autoscaling" {
  description = "Scale on CPU between min_tasks and max_tasks; false keeps min_tasks."
  type        = bool
  default     = true
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation autoscaling aims for."
  type        = number
  default     = 70
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the service's logs."
  type        = number
  default     = 365
}
