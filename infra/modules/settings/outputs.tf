output "name" {
  description = "Name of the service."
  value       = var.name
}

output "image_tag" {
  description = "Tag of the service image."
  value       = var.image_tag
}

output "api_port" {
  description = "Port of the API in the container."
  value       = local.api_port
}

output "metrics_port" {
  description = "Port of the Prometheus metrics listener in the container; never routed through a load balancer."
  value       = local.metrics_port
}

output "health_path" {
  description = "Path of the health check."
  value       = local.health_path
}

output "health_check" {
  description = "Health check timings shared by the load balancer and the container."
  value = {
    interval_seconds    = 10
    timeout_seconds     = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
    start_period        = 30
  }
}

output "environment" {
  description = "Environment variables of the service container."
  value       = local.environment
}

output "stop_timeout_seconds" {
  description = "Seconds a task may take to drain after SIGTERM; well above the request timeout plus the shutdown delay."
  value       = 30
}
