# The LocalStack environment: the same settings and network modules as real AWS, and, since
# LocalStack's free tier has neither ECS nor ELBv2, a REST API Gateway whose `{proxy+}`
# resource invokes a Lambda proxy that forwards to the service container.

module "settings" {
  source    = "../infra/modules/settings"
  name      = var.name
  image_tag = var.image_tag
}

module "network" {
  source             = "../infra/modules/network"
  name               = module.settings.name
  availability_zones = ["${var.region}a", "${var.region}b"]
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "proxy" {
  name               = "${var.name}-proxy"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

resource "aws_cloudwatch_log_group" "proxy" {
  #checkov:skip=CKV_AWS_158:Customer-managed KMS keys belong to a hardened production account; logs are encrypted with the AWS-owned key
  name              = "/aws/lambda/${var.name}-proxy"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "proxy" {
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.proxy.arn}:*"]
  }
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }
  statement {
    sid       = "Trace"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray has no resource-level permissions.
  }
}

# Network interfaces in the VPC: AWS's managed policy for exactly that.
resource "aws_iam_role_policy_attachment" "proxy_vpc" {
  role       = aws_iam_role.proxy.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy" "proxy" {
  name   = "${var.name}-proxy"
  role   = aws_iam_role.proxy.id
  policy = data.aws_iam_policy_document.proxy.json
}

# Asynchronous invocations that fail land here; API Gateway invokes synchronously, so this
# only catches what is sent to the function by other means.
resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name}-proxy-dead-letters"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
}

resource "aws_security_group" "proxy" {
  name        = "${var.name}-proxy"
  description = "The proxy reaches the service API port only"
  vpc_id      = module.network.vpc_id

  egress {
    description = "To the service API port in the VPC"
    from_port   = module.settings.api_port
    to_port     = module.settings.api_port
    protocol    = "tcp"
    cidr_blocks = [module.network.cidr_block]
  }
}

resource "aws_lambda_function" "proxy" {
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile, part of a hardened production account
  #checkov:skip=CKV_AWS_173:The environment holds no secret (a URL and a timeout); customer KMS keys belong to a hardened production account
  function_name                  = "${var.name}-proxy"
  role                           = aws_iam_role.proxy.arn
  filename                       = var.proxy_zip
  source_code_hash               = filebase64sha256(var.proxy_zip)
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = ["x86_64"]
  memory_size                    = 256
  timeout                        = var.function_timeout_seconds
  reserved_concurrent_executions = 100

  environment {
    variables = {
      TARGET_URL = var.target_url
      # Below the function's own timeout, so a slow service becomes a JSON 504.
      TARGET_TIMEOUT_MS = tostring(var.target_timeout_ms)
    }
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letters.arn
  }

  vpc_config {
    subnet_ids         = module.network.private_subnet_ids
    security_group_ids = [aws_security_group.proxy.id]
  }

  depends_on = [aws_cloudwatch_log_group.proxy, aws_iam_role_policy.proxy, aws_iam_role_policy_attachment.proxy_vpc]
}

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name
  description = "product-search through the Lambda proxy"
  endpoint_configuration {
    types = ["REGIONAL"]
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_request_validator" "this" {
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  name                        = "parameters"
  validate_request_parameters = true
  validate_request_body       = false # The service validates bodies, with the product API's messages.
}

resource "aws_api_gateway_resource" "proxy" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "{proxy+}"
}

# The product API is public; writes are guarded by the service's own bearer token.
resource "aws_api_gateway_method" "proxy" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_resource.proxy.id
  http_method          = "ANY"
  authorization        = "NONE" #checkov:skip=CKV_AWS_59:A public product API; the service authorises writes itself
  request_validator_id = aws_api_gateway_request_validator.this.id
}

resource "aws_api_gateway_integration" "proxy" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.proxy.id
  http_method             = aws_api_gateway_method.proxy.http_method
  integration_http_method = "POST"
  type                    = "AWS_PROXY"
  uri                     = aws_lambda_function.proxy.invoke_arn
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  triggers = {
    redeployment = sha1(jsonencode([aws_api_gateway_resource.proxy.id, aws_api_gateway_method.proxy.id, aws_api_gateway_integration.proxy.id]))
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_158:Customer-managed KMS keys belong to a hardened production account; logs are encrypted with the AWS-owned key
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV2_AWS_29:WAF belongs to a hardened production account; attach its web ACL to this stage
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to a backend on HTTP integrations; this one invokes Lambda
  #checkov:skip=CKV_AWS_120:A gateway cache would answer searches with results from before a write; the service caches itself and empties its cache on every write
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format          = jsonencode({ requestId = "$context.requestId", status = "$context.status", path = "$context.path", latency = "$context.responseLatency" })
  }
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Cached searches would not see writes; the service caches itself and empties its cache on every write
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"
  settings {
    metrics_enabled = true
    logging_level   = "INFO"
  }
}

resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.proxy.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/*"
}
