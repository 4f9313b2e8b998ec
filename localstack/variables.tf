variable "region" {
  description = "AWS region (LocalStack accepts any)."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the service and its resources."
  type        = string
  default     = "product-search"
}

variable "image_tag" {
  description = "Tag of the service image (the compose file runs it)."
  type        = string
  default     = "latest"
}

variable "proxy_zip" {
  description = "The proxy function's deployment package, from `cargo lambda build --release --output-format zip`."
  type        = string
  default     = "proxy/target/lambda/proxy/bootstrap.zip"
}

variable "target_url" {
  description = "Where the proxy forwards requests: the service container on the shared Docker network."
  type        = string
  default     = "http://product-search:8080"
}

variable "stage" {
  description = "API Gateway stage name."
  type        = string
  default     = "test"
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the proxy's and API Gateway's logs."
  type        = number
  default     = 365
}
