variable "name" {
  description = "Name of the database instance and its resources."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets the database may live in (two availability zones at least)."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL version, pinned so that an apply never upgrades by surprise."
  type        = string
  default     = "16.4"
}

variable "instance_class" {
  description = "Instance class; the small default fits a catalogue of a few million products."
  type        = string
  default     = "db.t4g.micro"
}

variable "allocated_storage_gb" {
  description = "Storage at creation, GiB; it may grow to five times this by itself."
  type        = number
  default     = 20
}

variable "database_name" {
  description = "Name of the database the service uses."
  type        = string
  default     = "products"
}

variable "master_username" {
  description = "Master user; its password is generated and kept by RDS in Secrets Manager."
  type        = string
  default     = "product_search"
}

variable "multi_az" {
  description = "A standby in a second availability zone, for failover (doubles the cost)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the database, and keep a final snapshot; set false before `terraform destroy`."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery)."
  type        = number
  default     = 7
}
