output "dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "url" {
  description = "Base URL of the service."
  value       = "${var.certificate_arn != "" ? "https" : "http"}://${aws_lb.this.dns_name}"
}

output "security_group_id" {
  description = "Security group of the load balancer, allowed into the tasks."
  value       = aws_security_group.this.id
}

output "target_group_arn" {
  description = "Target group the ECS service registers tasks in."
  value       = aws_lb_target_group.this.arn
}

output "arn_suffix" {
  description = "ARN suffix of the load balancer, for CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group, for CloudWatch metrics."
  value       = aws_lb_target_group.this.arn_suffix
}
