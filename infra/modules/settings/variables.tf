variable "name" {
  description = "Name of the service, used for every resource it owns."
  type        = string
  default     = "product-search"
}

variable "image_tag" {
  description = "Tag of the service image in its repository."
  type        = string
  default     = "latest"
}

variable "catalog_count" {
  description = "Products each task generates at start-up."
  type        = number
  default     = 100000
}

variable "rate_limit_per_client" {
  description = "Requests per second each client address may make; 0 turns the limit off."
  type        = number
  default     = 0
}

variable "catalog_seed" {
  description = "Seed of the generated catalogue: every task serves the same products."
  type        = number
  default     = 42
}
