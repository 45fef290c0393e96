#!/usr/bin/env bash
# The JavaScript interop suites: @aws-sdk/client-kinesis with its default HTTP/2 (h2c) handler, and raw
# CBOR requests encoded with the npm `cbor` package, against a running Kinesis endpoint.
# Usage: run.sh [ENDPOINT] [TEST-NAME-SUBSTRING]; ENDPOINT defaults to $KINESIS_ENDPOINT.
# Needs node_modules: scripts/install-test-deps.sh (or `npm ci` here) installs them.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
endpoint=${1:-${KINESIS_ENDPOINT:-}}
if [[ -z $endpoint ]]; then echo "usage: $0 ENDPOINT (or set KINESIS_ENDPOINT)"; echo "0 passed, 1 failed"; exit 2; fi
if [[ ! -d $here/node_modules/@aws-sdk/client-kinesis || ! -d $here/node_modules/cbor ]]; then
  echo "FAIL setup: node_modules missing in $here (run scripts/install-test-deps.sh)"; echo "0 passed, 1 failed"; exit 1
fi
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL http_proxy HTTP_PROXY
# The SDK warns that its 2027 releases will need node 22; the pinned version runs on node 20.
export NODE_NO_WARNINGS=1
cd "$here" && exec timeout 150 node run.js "$endpoint" "${2:-}"
