output "address" {
  description = "Host name of the database."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Name of the service's database."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user name (its password is in the secret)."
  value       = aws_db_instance.this.username
}

output "url" {
  description = "postgres:// URL without the password, TLS required."
  value       = "postgres://${aws_db_instance.this.username}@${aws_db_instance.this.address}:${aws_db_instance.this.port}/${aws_db_instance.this.db_name}?sslmode=require"
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret (JSON with username and password) that RDS manages."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "Security group of the database; the root admits the tasks into it."
  value       = aws_security_group.this.id
}
