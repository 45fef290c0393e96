#!/usr/bin/env bash
# Signatures verified end to end (issue 18): stock clients against a server started with --auth sigv4 and
# --credentials FILE, signing with the file's key and with wrong ones, over HTTP/1.1, h2c and (given the server's TLS
# endpoint and the certificate to trust) TLS; /metrics with HTTP Basic as Prometheus scrapes it.
# Usage: run.sh ENDPOINT CREDENTIALS-FILE [TLS-ENDPOINT CA-FILE]. Ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
endpoint=${1:?usage: run.sh ENDPOINT CREDENTIALS-FILE [TLS-ENDPOINT CA-FILE]} credentials=${2:?usage: run.sh ENDPOINT CREDENTIALS-FILE}
tls_endpoint=${3:-} ca=${4:-}
value() { # value SECTION NAME: a value of the credentials file
  awk -v section="[$1]" -v name="$2" '/^\[/ { inside = ($0 == section) } inside && $1 == name { sub(/^[^=]*= */, ""); print; exit }' "$credentials"
}
first=$(sed -n 's/^\[\(.*\)\]$/\1/p' "$credentials" | head -1)
key=$(value "$first" aws_access_key_id) secret=$(value "$first" aws_secret_access_key)
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE http_proxy HTTP_PROXY
passed=0 failed=0
check() { # check NAME COMMAND...: the command must succeed
  if out=$("${@:2}" 2>&1); then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $1: $out" | head -5; fi
}
refused() { # refused NAME ERROR-TYPE COMMAND...: the command must fail with the error type
  if out=$("${@:3}" 2>&1); then failed=$((failed + 1)); echo "FAIL $1: it succeeded"; return; fi
  if grep -q "$2" <<<"$out"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $1: $out" | head -5; fi
}
cli() { timeout 60 env AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2" /usr/bin/aws --endpoint-url "$endpoint" "${@:3}"; }
tls_cli() { timeout 60 env AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2" /usr/bin/aws --endpoint-url "$tls_endpoint" --ca-bundle "$ca" "${@:3}"; }

check "boto3 with the file's key" timeout 120 /usr/bin/python3 "$here/boto3_signed.py" "$endpoint" "$key" "$secret"
check "AWS CLI v2 with the file's key" cli "$key" "$secret" kinesis list-streams
refused "AWS CLI v2 with a wrong secret" InvalidSignatureException cli "$key" "not-the-secret" kinesis list-streams
refused "AWS CLI v2 with an unknown key" UnrecognizedClientException cli AKIAUNKNOWN0000000 "$secret" kinesis list-streams
refused "CloudWatch (query protocol) with a wrong secret" InvalidSignatureException cli "$key" "not-the-secret" cloudwatch list-metrics
check "Lambda (REST) with the file's key" cli "$key" "$secret" lambda list-functions
refused "Lambda (REST) with a wrong secret" InvalidSignatureException cli "$key" "not-the-secret" lambda list-functions
if [[ -n $(value producer aws_access_key_id) ]]; then # a key with an IAM policy (docs/security.md)
  check "boto3 with a producer key: its policy allows writing one stream, nothing else" timeout 120 /usr/bin/python3 "$here/boto3_policy.py" \
    "$endpoint" "$key" "$secret" "$(value producer aws_access_key_id)" "$(value producer aws_secret_access_key)"
  refused "AWS CLI v2 with the producer key: describe-stream-summary of another stream" AccessDeniedException \
    cli "$(value producer aws_access_key_id)" "$(value producer aws_secret_access_key)" kinesis describe-stream-summary --stream-name other
  refused "AWS CLI v2 with the producer key: lambda get-function, which its policy does not allow" AccessDeniedException \
    cli "$(value producer aws_access_key_id)" "$(value producer aws_secret_access_key)" lambda get-function --function-name any
fi
if [[ -n $(value partner aws_access_key_id) ]]; then # a key of another account (docs/security.md, "Accounts")
  check "boto3 as two accounts: the same stream name is two streams, each under its own account's ARN" timeout 120 /usr/bin/python3 "$here/boto3_accounts.py" \
    "$endpoint" "$key" "$secret" "$(value partner aws_access_key_id)" "$(value partner aws_secret_access_key)" "$(value partner account_id)"
  sees_only_own() { # a stream of the file's first key's account, then what the other account lists (nothing of it)
    cli "$key" "$secret" kinesis create-stream --stream-name accounts-cli --shard-count 1 || return 1
    local listed; listed=$(cli "$(value partner aws_access_key_id)" "$(value partner aws_secret_access_key)" kinesis list-streams --query 'StreamNames' --output text)
    cli "$key" "$secret" kinesis delete-stream --stream-name accounts-cli
    ! grep -q accounts-cli <<<"$listed"
  }
  check "AWS CLI v2 as the other account does not list the first account's streams" sees_only_own
fi
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "/metrics refuses a scrape without credentials (401)" test "$(status "$endpoint/metrics")" = 401
check "/metrics answers HTTP Basic with the file's key (Prometheus's basic_auth)" test "$(status -u "$key:$secret" "$endpoint/metrics")" = 200
answer=$(curl -s -w ' %{http_code}' -u "$key:wrong" "$endpoint/metrics")
check "/metrics refuses HTTP Basic with a wrong secret (400 UnrecognizedClientException)" test "${answer: -3}" = 400 -a -n "$(grep -o UnrecognizedClientException <<<"$answer")"
if [[ -n $tls_endpoint ]]; then
  check "boto3 over TLS with the file's key" env REQUESTS_CA_BUNDLE="$ca" AWS_CA_BUNDLE="$ca" timeout 120 /usr/bin/python3 "$here/boto3_signed.py" "$tls_endpoint" "$key" "$secret"
  check "AWS CLI v2 over TLS with the file's key" tls_cli "$key" "$secret" kinesis list-streams
  refused "AWS CLI v2 over TLS with a wrong secret" InvalidSignatureException tls_cli "$key" "not-the-secret" kinesis list-streams
  check "/metrics over TLS with HTTP Basic" test "$(status --cacert "$ca" -u "$key:$secret" "$tls_endpoint/metrics")" = 200
fi
js=$here/../interop/js
if [[ -d $js/node_modules/@aws-sdk/client-kinesis ]]; then
  cp "$here/js_signed.mjs" "$js/.auth-check.mjs"
  check "JavaScript SDK over HTTP/1.1 and h2c" timeout 120 node "$js/.auth-check.mjs" "$endpoint" "$key" "$secret"
  if [[ -n $tls_endpoint ]]; then
    check "JavaScript SDK over TLS (HTTP/1.1 and HTTP/2 by ALPN)" timeout 120 node "$js/.auth-check.mjs" "$tls_endpoint" "$key" "$secret" "$ca"
  fi
  rm -f "$js/.auth-check.mjs"
else
  failed=$((failed + 1)); echo "FAIL the JavaScript SDK is not installed (scripts/install-test-deps.sh)"
fi
echo "auth: $passed passed, $failed failed"
