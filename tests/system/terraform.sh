#!/usr/bin/env bash
# Terraform checks on every root, against the provider mirror in /opt/tf-plugins:
# fmt, init -backend=false and validate; then a real apply and destroy of the AWS root
# against a local moto_server (the provider pointed at it by a test-only override file; ECS,
# ELBv2 and RDS are not in LocalStack's free services: tests/system/localstack.sh applies the
# LocalStack root to a real LocalStack); then checkov, hadolint, the Dockerfile's build stage
# followed over its build context (tests/system/docker_build.py) and the parity of the roots.
source "$(dirname "$0")/lib.sh"
terraform=/usr/local/bin/terraform
mirror=/opt/tf-plugins
[[ -x $terraform ]] || { echo "FAIL: terraform is not installed at $terraform" >&2; exit 1; }
[[ -d $mirror/registry.terraform.io/hashicorp/aws ]] ||
  { echo "FAIL: the hashicorp/aws provider mirror is missing under $mirror" >&2; exit 1; }
export TF_CLI_CONFIG_FILE="$work/terraform.rc"
cat >"$TF_CLI_CONFIG_FILE" <<HCL
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
HCL
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
venv="$root/.venv/bin"

echo "-- terraform fmt"
$terraform fmt -check -recursive -diff "$root/infra" "$root/localstack"

# A copy of the Terraform tree, so init and apply leave nothing in the working tree.
mkdir -p "$work/tree"
(cd "$root" && tar --exclude=.terraform --exclude='*.tfstate*' --exclude=target -cf - infra localstack) |
  tar -xf - -C "$work/tree"
roots=(infra/envs/aws localstack)
for r in "${roots[@]}"; do
  echo "-- init and validate $r"
  (cd "$work/tree/$r" && $terraform init -backend=false -no-color >/dev/null && $terraform validate -no-color)
done

echo "-- apply and destroy against moto_server"
moto_port=$(free_port)
# AWS-managed IAM policies (the Lambda VPC access policy) exist only when moto loads them.
MOTO_IAM_LOAD_MANAGED_POLICIES=true "$venv/moto_server" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$moto_port/moto-api/" 60
endpoint="http://127.0.0.1:$moto_port"
for r in infra/envs/aws; do
  dir="$work/tree/$r"
  cat >"$dir/moto_override.tf" <<HCL
provider "aws" {
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {
    apigateway             = "$endpoint"
    applicationautoscaling = "$endpoint"
    cloudwatch             = "$endpoint"
    ec2                    = "$endpoint"
    ecr                    = "$endpoint"
    ecs                    = "$endpoint"
    elbv2                  = "$endpoint"
    iam                    = "$endpoint"
    lambda                 = "$endpoint"
    logs                   = "$endpoint"
    rds                    = "$endpoint"
    secretsmanager         = "$endpoint"
    sqs                    = "$endpoint"
    sts                    = "$endpoint"
  }
}
HCL
  # moto_server never finishes registering an ECS scalable target, so the moto run leaves
  # autoscaling off; validate and checkov still cover it.
  vars=(-var deletion_protection=false -var autoscaling=false)
  (
    cd "$dir"
    $terraform init -no-color >/dev/null
    timeout 600 $terraform apply -auto-approve -no-color "${vars[@]}" >"$work/apply.log" 2>&1 ||
      { tail -40 "$work/apply.log"; echo "FAIL: apply of $r"; exit 1; }
    created=$($terraform state list | wc -l)
    timeout 600 $terraform destroy -auto-approve -no-color "${vars[@]}" >"$work/destroy.log" 2>&1 ||
      { tail -40 "$work/destroy.log"; echo "FAIL: destroy of $r"; exit 1; }
    [[ -z $($terraform state list) ]] || { echo "FAIL: $r left resources behind"; exit 1; }
    echo "ok: $r applied ($created resources) and destroyed"
  )
done

echo "-- checkov"
"$venv/checkov" -d "$root/infra" -d "$root/localstack" --file "$root/Dockerfile" \
  --skip-path .terraform --skip-path target --quiet --compact -o cli >"$work/checkov.txt" 2>&1 ||
  { cat "$work/checkov.txt"; echo "FAIL: checkov found failing checks"; exit 1; }
grep -E "^(terraform|dockerfile) scan results" -A3 "$work/checkov.txt" | grep -E "Passed" || true

echo "-- hadolint"
"$venv/hadolint" "$root/Dockerfile"

echo "-- the Dockerfile's build stage over its build context (no Docker engine here)"
python3 "$root/tests/system/docker_build.py" "$root" >"$work/docker_build.txt" ||
  { cat "$work/docker_build.txt"; exit 1; }
tail -1 "$work/docker_build.txt"

echo "-- parity of the environment roots"
"$venv/python" "$root/tests/system/parity.py" "$root/infra/envs/aws/main.tf" "$root/localstack/main.tf"
echo "PASS: terraform checks"
