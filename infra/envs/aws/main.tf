# The service on real AWS: ECR, a VPC, an ALB in public subnets, ECS Fargate tasks in private
# subnets sharing one PostgreSQL (RDS) as the store of record, autoscaling on CPU, and alarms
# on errors, latency and unhealthy hosts.

module "settings" {
  source    = "../../modules/settings"
  name      = var.name
  image_tag = var.image_tag
}

module "network" {
  source             = "../../modules/network"
  name               = module.settings.name
  availability_zones = ["${var.region}a", "${var.region}b"]
}

module "ecr" {
  source = "../../modules/ecr"
  name   = module.settings.name
}

module "alb" {
  source          = "../../modules/alb"
  name            = module.settings.name
  vpc_id          = module.network.vpc_id
  vpc_cidr_block  = module.network.cidr_block
  subnet_ids      = module.network.public_subnet_ids
  target_port     = module.settings.api_port
  health_path     = module.settings.health_path
  health_check    = module.settings.health_check
  certificate_arn = var.certificate_arn

  deletion_protection = var.deletion_protection
}

module "database" {
  source              = "../../modules/database"
  name                = module.settings.name
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.private_subnet_ids
  instance_class      = var.database_instance_class
  multi_az            = var.database_multi_az
  deletion_protection = var.deletion_protection
}

# The one way into the database: from the tasks, on 5432.
resource "aws_vpc_security_group_ingress_rule" "database_from_tasks" {
  description                  = "PostgreSQL from the service tasks"
  security_group_id            = module.database.security_group_id
  referenced_security_group_id = module.service.security_group_id
  from_port                    = 5432
  to_port                      = 5432
  ip_protocol                  = "tcp"
}

module "service" {
  source                          = "../../modules/ecs_service"
  name                            = module.settings.name
  image                           = "${module.ecr.repository_url}:${module.settings.image_tag}"
  repository_arn                  = module.ecr.repository_arn
  vpc_id                          = module.network.vpc_id
  subnet_ids                      = module.network.private_subnet_ids
  load_balancer_security_group_id = module.alb.security_group_id
  target_group_arn                = module.alb.target_group_arn
  api_port                        = module.settings.api_port
  metrics_port                    = module.settings.metrics_port
  environment                     = module.settings.environment
  health_check                    = module.settings.health_check
  stop_timeout_seconds            = module.settings.stop_timeout_seconds
  write_token_secret_arn          = var.write_token_secret_arn
  master_key_secret_arn           = var.master_key_secret_arn
  database = {
    url                 = module.database.url
    password_secret_arn = module.database.master_user_secret_arn
    security_group_id   = module.database.security_group_id
  }
  min_tasks   = var.min_tasks
  max_tasks   = var.max_tasks
  autoscaling = var.autoscaling
}

locals {
  alarm_actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  lb_dimensions = { LoadBalancer = module.alb.arn_suffix, TargetGroup = module.alb.target_group_arn_suffix }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-5xx-rate"
  alarm_description   = "More than 1% of requests answered 5xx for 5 minutes"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 5
  threshold           = 1
  alarm_actions       = local.alarm_actions
  treat_missing_data  = "notBreaching"

  metric_query {
    id          = "rate"
    expression  = "100 * errors / MAX([errors, requests])"
    label       = "5xx percent"
    return_data = true
  }
  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = local.lb_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.lb_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  alarm_name          = "${var.name}-p99-latency"
  alarm_description   = "p99 target response time above 250 ms for 5 minutes"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.lb_dimensions
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0.25
  alarm_actions       = local.alarm_actions
  treat_missing_data  = "notBreaching"
}

resource "aws_cloudwatch_metric_alarm" "unhealthy" {
  alarm_name          = "${var.name}-unhealthy-hosts"
  alarm_description   = "A target has been unhealthy for 3 minutes"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.lb_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  alarm_actions       = local.alarm_actions
  treat_missing_data  = "breaching"
}
