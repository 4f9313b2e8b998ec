terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

# No endpoints here: `tflocal` points the provider at LocalStack, and the same code applies
# to real AWS with plain `terraform`.
provider "aws" {
  region = var.region
  default_tags {
    tags = { Service = var.name, ManagedBy = "terraform" }
  }
}
