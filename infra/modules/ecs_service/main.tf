# The service on ECS Fargate: a cluster, a log group with retention, least-privilege roles,
# the task definition built from the shared settings, the service behind the load balancer
# (only the load balancer reaches the API port; nothing reaches the metrics port from it),
# and CPU target tracking between the minimum and maximum task counts.

data "aws_region" "current" {}

locals {
  # The database URL carries no password; DATABASE_PASSWORD comes from Secrets Manager.
  environment = merge(var.environment, var.database == null ? {} : { DATABASE_URL = var.database.url })
  # The secrets the task reads at start: the write token, the master key, the database's.
  secret_arns = compact([
    var.write_token_secret_arn,
    var.master_key_secret_arn,
    var.database == null ? null : var.database.password_secret_arn,
  ])
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Customer-managed KMS keys belong to a hardened production account; logs are encrypted with the AWS-owned key
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "assume_ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Used by ECS to start the task: pull the image, write logs, read the write token, the
# master key and the database password (only those secrets).
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [var.repository_arn]
  }
  statement {
    sid       = "AuthenticateToRegistry"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource-level permissions.
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  dynamic "statement" {
    for_each = length(local.secret_arns) == 0 ? [] : [local.secret_arns]
    content {
      sid       = "ReadSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "${var.name}-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# The application itself calls no AWS API, so its role has no permissions at all.
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([{
    name                   = var.name
    image                  = var.image
    essential              = true
    readonlyRootFilesystem = true
    stopTimeout            = var.stop_timeout_seconds
    portMappings = [
      { containerPort = var.api_port, protocol = "tcp" },
      { containerPort = var.metrics_port, protocol = "tcp" },
    ]
    environment = [for key, value in local.environment : { name = key, value = value }]
    secrets = concat(
      var.write_token_secret_arn == null ? [] : [
        { name = "WRITE_TOKEN", valueFrom = var.write_token_secret_arn }
      ],
      var.master_key_secret_arn == null ? [] : [
        { name = "MASTER_KEY", valueFrom = var.master_key_secret_arn }
      ],
      # The password alone, taken from the secret's JSON: never a plain environment variable.
      var.database == null ? [] : [
        { name = "DATABASE_PASSWORD", valueFrom = "${var.database.password_secret_arn}:password::" }
      ],
    )
    healthCheck = {
      command     = ["CMD", "/usr/local/bin/product-search", "healthcheck"]
      interval    = var.health_check.interval_seconds
      timeout     = var.health_check.timeout_seconds
      retries     = var.health_check.unhealthy_threshold
      startPeriod = var.health_check.start_period
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = var.name
      }
    }
  }])
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "The API port from the load balancer only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "API from the load balancer"
    from_port       = var.api_port
    to_port         = var.api_port
    protocol        = "tcp"
    security_groups = [var.load_balancer_security_group_id]
  }

  egress {
    description = "HTTPS out, for ECR, CloudWatch Logs and Secrets Manager"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  dynamic "egress" {
    for_each = var.database == null ? [] : [var.database.security_group_id]
    content {
      description     = "PostgreSQL, to the database only"
      from_port       = 5432
      to_port         = 5432
      protocol        = "tcp"
      security_groups = [egress.value]
    }
  }
}

resource "aws_ecs_service" "this" {
  name                               = var.name
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = var.min_tasks
  launch_type                        = "FARGATE"
  health_check_grace_period_seconds  = var.health_check.start_period
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = var.name
    container_port   = var.api_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Autoscaling owns the task count after creation.
  lifecycle {
    ignore_changes = [desired_count]
  }
}

resource "aws_appautoscaling_target" "this" {
  count              = var.autoscaling ? 1 : 0
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_tasks
  max_capacity       = var.max_tasks
}

resource "aws_appautoscaling_policy" "cpu" {
  count              = var.autoscaling ? 1 : 0
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.cpu_target_percent
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
    scale_in_cooldown  = 120
    scale_out_cooldown = 60
  }
}
