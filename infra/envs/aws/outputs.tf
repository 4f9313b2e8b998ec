output "url" {
  description = "Base URL of the service behind the load balancer."
  value       = module.alb.url
}

output "repository_url" {
  description = "ECR repository to push the image to."
  value       = module.ecr.repository_url
}

output "cluster_name" {
  description = "ECS cluster of the service."
  value       = module.service.cluster_name
}

output "log_group_name" {
  description = "CloudWatch log group of the tasks."
  value       = module.service.log_group_name
}

output "database_address" {
  description = "Host name of the RDS database (reachable from inside the VPC only)."
  value       = module.database.address
}

output "database_secret_arn" {
  description = "Secrets Manager secret with the database's master user and password, managed by RDS."
  value       = module.database.master_user_secret_arn
}
