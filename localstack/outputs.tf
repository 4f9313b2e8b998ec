output "invoke_url" {
  description = "The stage's URL as AWS names it."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "localstack_url" {
  description = "The stage's URL on LocalStack's edge port: the base URL for load tests."
  value       = "${var.localstack_endpoint}/restapis/${aws_api_gateway_rest_api.this.id}/${var.stage}/_user_request_"
}

output "api_port" {
  description = "The service container's API port (from the shared settings)."
  value       = module.settings.api_port
}
