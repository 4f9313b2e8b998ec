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
  description = "Where the proxy forwards requests: the service container on the shared Docker network, or the service on this host (host.sh passes it)."
  type        = string
  default     = "http://product-search:8080"
}

variable "localstack_endpoint" {
  description = "LocalStack's edge URL, for the stage URL in the outputs only (tflocal points the provider at LocalStack itself)."
  type        = string
  default     = "http://localhost:4566"
}

variable "function_timeout_seconds" {
  description = "The proxy function's timeout."
  type        = number
  default     = 30
}

variable "target_timeout_ms" {
  description = "How long the proxy waits for the service; below the function's timeout, a slow service becomes a JSON 504."
  type        = number
  default     = 25000
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
