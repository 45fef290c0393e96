#!/usr/bin/env bash
# The boto3 interop suite: Debian's python3-boto3 against a running Kinesis endpoint.
# Usage: run.sh [ENDPOINT] [TEST-ID-SUBSTRING]; ENDPOINT defaults to $KINESIS_ENDPOINT.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
endpoint=${1:-${KINESIS_ENDPOINT:-}}
if [[ -z $endpoint ]]; then echo "usage: $0 ENDPOINT (or set KINESIS_ENDPOINT)"; echo "0 passed, 1 failed"; exit 2; fi
# Never let a stray profile or proxy change what boto3 sends.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE http_proxy HTTP_PROXY
export NO_PROXY='*' no_proxy='*' PYTHONDONTWRITEBYTECODE=1
exec timeout 540 /usr/bin/python3 "$here/run_tests.py" "$endpoint" "${2:-}"
