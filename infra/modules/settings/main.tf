# The settings every environment shares, in one place and without resources: the image,
# the ports, the health check and the container's environment. Both environment roots call
# this module with the same arguments (a test checks it), so they cannot drift apart.

locals {
  api_port     = 8080
  metrics_port = 9464
  health_path  = "/health"

  environment = {
    LISTEN_ADDR         = "0.0.0.0:${local.api_port}"
    METRICS_LISTEN_ADDR = "0.0.0.0:${local.metrics_port}"
    LOG_FORMAT          = "json"
    CATALOG_COUNT       = tostring(var.catalog_count)
    CATALOG_SEED        = tostring(var.catalog_seed)
    # Long enough for a load balancer to see /health turn 503 and stop routing here.
    SHUTDOWN_DELAY_MS  = "10000"
    REQUEST_TIMEOUT_MS = "10000"
    # One proxy in front appends the client's address to X-Forwarded-For: the ALB on AWS,
    # API Gateway on LocalStack. Rate limits count that address, not the proxy's.
    FORWARDED_HOPS        = "1"
    RATE_LIMIT_PER_CLIENT = tostring(var.rate_limit_per_client)
  }
}
