#!/usr/bin/env bash
# The AWS CLI v2 interop suite: Debian's /usr/bin/aws (not a pyenv `aws` shim, which may be v1)
# against a running Kinesis endpoint. Each test is a function run in its own subshell with `set -e`;
# a failing test prints its reason. Ends with the line "N passed, M failed".
# Usage: run.sh [ENDPOINT] [TEST-NAME-SUBSTRING]; ENDPOINT defaults to $KINESIS_ENDPOINT.
set -uo pipefail
endpoint=${1:-${KINESIS_ENDPOINT:-}}
only=${2:-}
if [[ -z $endpoint ]]; then echo "usage: $0 ENDPOINT (or set KINESIS_ENDPOINT)"; echo "0 passed, 1 failed"; exit 2; fi
endpoint=${endpoint%/}

AWS=/usr/bin/aws
if [[ ! -x $AWS ]]; then echo "FAIL setup: $AWS is missing (scripts/install-test-deps.sh installs it)"; echo "0 passed, 1 failed"; exit 1; fi
export AWS_ACCESS_KEY_ID=interop AWS_SECRET_ACCESS_KEY=interop AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export NO_PROXY='*' no_proxy='*'
unset AWS_MAX_ATTEMPTS AWS_RETRY_MODE AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL http_proxy HTTP_PROXY
ACCOUNT=000000000000
REGION=us-east-1

run_id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
prefix="interop-cli-$run_id"
work=$(mktemp -d)
touch "$work/streams"

kin() { timeout 30 "$AWS" --endpoint-url "$endpoint" --output json kinesis "$@"; }
# kin_text QUERY ARGS...: one value (or tab-separated values) picked out with a JMESPath query.
kin_text() { local query=$1; shift; kin "$@" --query "$query" --output text; }

assert_eq() { # assert_eq EXPECTED ACTUAL WHAT
  if [[ "$1" != "$2" ]]; then echo "$3: expected [$1], got [$2]"; return 1; fi
}
assert_match() { # assert_match REGEX ACTUAL WHAT
  if [[ ! "$2" =~ $1 ]]; then echo "$3: [$2] does not match /$1/"; return 1; fi
}
json() { # json EXPRESSION: evaluates a Python expression over the JSON document `d` read from stdin
  /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); r = $1; print(r if isinstance(r, str) else json.dumps(r))"
}
b64() { printf '%s' "$1" | base64 -w0; }

new_stream() { # new_stream TAG SHARDS [nowait]: creates a stream, waits until it is ACTIVE, prints its name
  local name="$prefix-$1-$RANDOM"
  echo "$name" >> "$work/streams"
  kin create-stream --stream-name "$name" --shard-count "$2" >&2
  [[ ${3:-} == nowait ]] || kin wait stream-exists --stream-name "$name" >&2
  echo "$name"
}

cleanup() { # deletes every stream this run created; raw requests, as starting the CLI once per stream is slow
  local name
  while read -r name; do
    [[ -n $name ]] && curl -s -o /dev/null --max-time 10 -X POST "$endpoint/" \
      -H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Target: Kinesis_20131202.DeleteStream' \
      -H 'Authorization: AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=abc' \
      -H 'X-Amz-Date: 20260101T000000Z' --data "{\"StreamName\":\"$name\"}"
  done < "$work/streams"
  rm -rf "$work"
}
trap cleanup EXIT

# ---- tests -------------------------------------------------------------------------------------

test_create_stream_wait_describe_and_create_again() {
  local s; s=$(new_stream create 2)
  local out; out=$(kin describe-stream-summary --stream-name "$s")
  assert_eq ACTIVE "$(json 'd["StreamDescriptionSummary"]["StreamStatus"]' <<<"$out")" StreamStatus
  assert_eq 2 "$(json 'd["StreamDescriptionSummary"]["OpenShardCount"]' <<<"$out")" OpenShardCount
  assert_eq 24 "$(json 'd["StreamDescriptionSummary"]["RetentionPeriodHours"]' <<<"$out")" RetentionPeriodHours
  assert_eq "arn:aws:kinesis:$REGION:$ACCOUNT:stream/$s" "$(json 'd["StreamDescriptionSummary"]["StreamARN"]' <<<"$out")" StreamARN
  assert_eq PROVISIONED "$(json 'd["StreamDescriptionSummary"]["StreamModeDetails"]["StreamMode"]' <<<"$out")" StreamMode
  # Creating it again fails with AWS's exit code and text.
  local rc=0 err
  err=$(kin create-stream --stream-name "$s" --shard-count 1 2>&1 >/dev/null) || rc=$?
  assert_eq 254 "$rc" "exit code"
  assert_eq "An error occurred (ResourceInUseException) when calling the CreateStream operation: Stream $s under account $ACCOUNT already exists." \
    "$(tr -d '\n' <<<"$err")" "error text"
}

test_put_record_text_and_binary_then_get_records() {
  local s; s=$(new_stream put 2)
  # Both records go to shard 0 (hash key 0), the text one by --data, the binary one from a file.
  local put shard seq
  put=$(kin put-record --stream-name "$s" --partition-key pk-1 --explicit-hash-key 0 --cli-binary-format raw-in-base64-out --data 'hello interop')
  shard=$(json 'd["ShardId"]' <<<"$put"); seq=$(json 'd["SequenceNumber"]' <<<"$put")
  assert_eq shardId-000000000000 "$shard" ShardId
  assert_match '^[1-9][0-9]*$' "$seq" SequenceNumber
  /usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4)' > "$work/binary.bin"
  local seq2; seq2=$(kin_text SequenceNumber put-record --stream-name "$s" --partition-key pk-2 --explicit-hash-key 0 \
    --cli-binary-format raw-in-base64-out --data "fileb://$work/binary.bin")
  local it; it=$(kin_text ShardIterator get-shard-iterator --stream-name "$s" --shard-id "$shard" \
    --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$seq")
  local got; got=$(kin get-records --shard-iterator "$it")
  assert_eq "$(b64 'hello interop')" "$(json 'd["Records"][0]["Data"]' <<<"$got")" "text Data (base64 in CLI output)"
  assert_eq "$(base64 -w0 "$work/binary.bin")" "$(json 'd["Records"][1]["Data"]' <<<"$got")" "binary Data round trip"
  assert_eq '["pk-1", "pk-2"]' "$(json '[r["PartitionKey"] for r in d["Records"]]' <<<"$got")" PartitionKeys
  assert_eq "[\"$seq\", \"$seq2\"]" "$(json '[r["SequenceNumber"] for r in d["Records"]]' <<<"$got")" SequenceNumbers
  assert_eq true "$(json '"NextShardIterator" in d and "MillisBehindLatest" in d' <<<"$got")" "NextShardIterator and MillisBehindLatest present"
}

test_put_records_and_every_iterator_type() {
  local s; s=$(new_stream iterators 2)
  # Everything goes to shard 1 (the top of the hash key space), so its contents are exactly these records.
  local top=340282366920938463463374607431768211455
  local put; put=$(kin put-records --stream-name "$s" --cli-binary-format raw-in-base64-out --records \
    "[{\"Data\":\"one\",\"PartitionKey\":\"a\",\"ExplicitHashKey\":\"$top\"},
      {\"Data\":\"two\",\"PartitionKey\":\"b\",\"ExplicitHashKey\":\"$top\"},
      {\"Data\":\"three\",\"PartitionKey\":\"c\",\"ExplicitHashKey\":\"$top\"}]")
  assert_eq 0 "$(json 'd["FailedRecordCount"]' <<<"$put")" FailedRecordCount
  assert_eq '["shardId-000000000001", "shardId-000000000001", "shardId-000000000001"]' "$(json '[r["ShardId"] for r in d["Records"]]' <<<"$put")" "ShardIds"
  local first; first=$(json 'd["Records"][0]["SequenceNumber"]' <<<"$put")
  local all; all="$(b64 one)	$(b64 two)	$(b64 three)"
  local it
  it=$(kin_text ShardIterator get-shard-iterator --stream-name "$s" --shard-id shardId-000000000001 --shard-iterator-type TRIM_HORIZON)
  assert_eq "$all" "$(kin_text 'Records[].Data' get-records --shard-iterator "$it")" TRIM_HORIZON
  it=$(kin_text ShardIterator get-shard-iterator --stream-name "$s" --shard-id shardId-000000000001 --shard-iterator-type AFTER_SEQUENCE_NUMBER --starting-sequence-number "$first")
  assert_eq "$(b64 two)	$(b64 three)" "$(kin_text 'Records[].Data' get-records --shard-iterator "$it")" AFTER_SEQUENCE_NUMBER
  it=$(kin_text ShardIterator get-shard-iterator --stream-name "$s" --shard-id shardId-000000000001 --shard-iterator-type AT_TIMESTAMP --timestamp $(( $(date +%s) - 3600 )))
  assert_eq "$all" "$(kin_text 'Records[].Data' get-records --shard-iterator "$it")" AT_TIMESTAMP
  it=$(kin_text ShardIterator get-shard-iterator --stream-name "$s" --shard-id shardId-000000000001 --shard-iterator-type LATEST)
  assert_eq "" "$(kin_text 'Records[].Data' get-records --shard-iterator "$it")" LATEST
}

test_list_shards() {
  local s; s=$(new_stream shards 3)
  assert_eq "shardId-000000000000	shardId-000000000001	shardId-000000000002" \
    "$(kin_text 'Shards[].ShardId' list-shards --stream-name "$s")" "all shards"
  assert_eq "shardId-000000000002" \
    "$(kin_text 'Shards[].ShardId' list-shards --stream-name "$s" --exclusive-start-shard-id shardId-000000000001)" "ExclusiveStartShardId"
  local page; page=$(kin list-shards --stream-name "$s" --max-results 1 --no-paginate)
  assert_eq '["shardId-000000000000"]' "$(json '[x["ShardId"] for x in d["Shards"]]' <<<"$page")" "first page"
  local token; token=$(json 'd["NextToken"]' <<<"$page")
  assert_eq "shardId-000000000001	shardId-000000000002" \
    "$(kin_text 'Shards[].ShardId' list-shards --next-token "$token" --no-paginate)" "page after NextToken"
}

test_list_streams_pagination() {
  local a b c
  # Listed in any state, so no need to wait for ACTIVE.
  a=$(new_stream list-a 1 nowait); b=$(new_stream list-b 1 nowait); c=$(new_stream list-c 1 nowait)
  # The full listing (the CLI follows NextToken two names at a time), then the same listing cut after
  # our second stream with --max-items and resumed with --starting-token (the CLI's wrap of NextToken).
  local all; all=$(kin list-streams --page-size 2 | json 'd["StreamNames"]')
  assert_eq "[\"$a\", \"$b\", \"$c\"]" "$(json '[n for n in d if n.startswith("'"$prefix"'-list-")]' <<<"$all")" "our streams in the full listing"
  local n; n=$(json 'd.index("'"$b"'") + 1' <<<"$all")
  local first; first=$(kin list-streams --max-items "$n" --page-size 1)
  assert_eq "$(json "d[:$n]" <<<"$all")" "$(json 'd["StreamNames"]' <<<"$first")" "first --max-items page"
  assert_eq "$(json 'd["StreamNames"]' <<<"$first")" "$(json '[x["StreamName"] for x in d["StreamSummaries"]]' <<<"$first")" "StreamSummaries parallel to StreamNames"
  local token; token=$(json 'd["NextToken"]' <<<"$first")
  local second; second=$(kin list-streams --max-items 2 --page-size 1 --starting-token "$token")
  assert_eq "$(json "d[$n:$n + 2]" <<<"$all")" "$(json 'd["StreamNames"]' <<<"$second")" "page after --starting-token"
  assert_eq "$c" "$(json 'd["StreamNames"][0]' <<<"$second")" "next stream"
}

test_tags() {
  local s; s=$(new_stream tags 1)
  kin add-tags-to-stream --stream-name "$s" --tags team=data,env=test,empty= >/dev/null
  assert_eq "empty		env	test	team	data" "$(kin_text 'Tags[].[Key,Value][]' list-tags-for-stream --stream-name "$s" | tr '\n' '\t' | sed 's/\t$//')" "tags"
  local page; page=$(kin list-tags-for-stream --stream-name "$s" --exclusive-start-tag-key empty --limit 1)
  assert_eq '[[{"Key": "env", "Value": "test"}], true]' "$(json '[d["Tags"], d["HasMoreTags"]]' <<<"$page")" "ExclusiveStartTagKey and Limit"
  kin remove-tags-from-stream --stream-name "$s" --tag-keys env empty >/dev/null
  assert_eq '[{"Key": "team", "Value": "data"}]' "$(kin list-tags-for-stream --stream-name "$s" | json 'd["Tags"]')" "after remove"
}

test_retention() {
  local s; s=$(new_stream retention 1)
  # A retention change may leave the stream UPDATING for a while, as on AWS: the waiter waits for ACTIVE.
  kin increase-stream-retention-period --stream-name "$s" --retention-period-hours 48 >/dev/null
  assert_eq 48 "$(kin_text StreamDescriptionSummary.RetentionPeriodHours describe-stream-summary --stream-name "$s")" "after increase"
  kin wait stream-exists --stream-name "$s"
  kin decrease-stream-retention-period --stream-name "$s" --retention-period-hours 24 >/dev/null
  kin wait stream-exists --stream-name "$s"
  assert_eq 24 "$(kin_text StreamDescription.RetentionPeriodHours describe-stream --stream-name "$s")" "after decrease"
  local rc=0 err
  err=$(kin decrease-stream-retention-period --stream-name "$s" --retention-period-hours 12 2>&1 >/dev/null) || rc=$?
  assert_eq 254 "$rc" "exit code"
  assert_eq "An error occurred (InvalidArgumentException) when calling the DecreaseStreamRetentionPeriod operation: Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short." \
    "$(tr -d '\n' <<<"$err")" "error text"
}

test_not_found_error() {
  local s="$prefix-missing-$RANDOM"
  local rc=0 err
  err=$(kin describe-stream-summary --stream-name "$s" 2>&1 >/dev/null) || rc=$?
  assert_eq 254 "$rc" "exit code"
  assert_eq "An error occurred (ResourceNotFoundException) when calling the DescribeStreamSummary operation: Stream $s under account $ACCOUNT not found." \
    "$(tr -d '\n' <<<"$err")" "error text"
}

test_delete_stream() {
  local s; s=$(new_stream delete 1)
  kin delete-stream --stream-name "$s"
  # The waiter succeeds only once DescribeStream answers ResourceNotFoundException.
  kin wait stream-not-exists --stream-name "$s"
}

test_cloudwatch_metric_statistics() {
  local s; s=$(new_stream cw 1)
  kin put-records --stream-name "$s" --records "Data=$(b64 a),PartitionKey=k1" "Data=$(b64 b),PartitionKey=k2" >/dev/null
  local start end
  start=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:00Z); end=$(date -u -d '+2 min' +%Y-%m-%dT%H:%M:00Z)
  local stats; stats=$(timeout 30 "$AWS" --endpoint-url "$endpoint" --output json cloudwatch get-metric-statistics --namespace AWS/Kinesis \
    --metric-name IncomingRecords --dimensions "Name=StreamName,Value=$s" --start-time "$start" --end-time "$end" --period 720 --statistics Sum)
  assert_eq '[2.0, "Count"]' "$(json '[d["Datapoints"][0]["Sum"], d["Datapoints"][0]["Unit"]]' <<<"$stats")" "get-metric-statistics"
  local percentiles; percentiles=$(timeout 30 "$AWS" --endpoint-url "$endpoint" --output json cloudwatch get-metric-statistics --namespace AWS/Kinesis \
    --metric-name IncomingRecords --dimensions "Name=StreamName,Value=$s" --start-time "$start" --end-time "$end" --period 720 --extended-statistics p99 p50)
  assert_eq '{"p99": 2.0, "p50": 2.0}' "$(json 'd["Datapoints"][0]["ExtendedStatistics"]' <<<"$percentiles")" "get-metric-statistics --extended-statistics"
  local names; names=$(timeout 30 "$AWS" --endpoint-url "$endpoint" --output text cloudwatch list-metrics --namespace AWS/Kinesis \
    --dimensions "Name=StreamName,Value=$s" --query 'Metrics[].MetricName')
  assert_match 'PutRecords\.TotalRecords' "$names" "list-metrics"
  local data; data=$(timeout 30 "$AWS" --endpoint-url "$endpoint" --output json cloudwatch get-metric-data --start-time "$start" --end-time "$end" \
    --metric-data-queries "[{\"Id\":\"bytes\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"AWS/Kinesis\",\"MetricName\":\"IncomingBytes\",\"Dimensions\":[{\"Name\":\"StreamName\",\"Value\":\"$s\"}]},\"Period\":720,\"Stat\":\"Sum\"}},{\"Id\":\"perRecord\",\"Expression\":\"bytes / 2\"}]")
  assert_eq '[[2.0], [1.0]]' "$(json '[r["Values"] for r in d["MetricDataResults"]]' <<<"$data")" "get-metric-data"
}

test_cloudwatch_alarms() {
  local a="cli-alarm-$RANDOM$RANDOM"
  cw() { timeout 30 "$AWS" --endpoint-url "$endpoint" cloudwatch "$@"; }
  cw put-metric-alarm --alarm-name "$a" --namespace AWS/Kinesis --metric-name IncomingRecords --dimensions Name=StreamName,Value=orders \
    --statistic Sum --period 60 --evaluation-periods 2 --threshold 10 --comparison-operator GreaterThanThreshold \
    --treat-missing-data ignore # no data: the minute's evaluation keeps the state set by hand below
  cw wait alarm-exists --alarm-names "$a"
  assert_eq "INSUFFICIENT_DATA" "$(cw --output text describe-alarms --alarm-names "$a" --query 'MetricAlarms[0].StateValue')" "new alarm"
  cw set-alarm-state --alarm-name "$a" --state-value ALARM --state-reason "testing alarm"
  assert_eq "ALARM	testing alarm" "$(cw --output text describe-alarms --alarm-names "$a" --query 'MetricAlarms[0].[StateValue,StateReason]')" "set-alarm-state"
  assert_eq "Alarm updated from INSUFFICIENT_DATA to ALARM" \
    "$(cw --output text describe-alarm-history --alarm-name "$a" --history-item-type StateUpdate --query 'AlarmHistoryItems[0].HistorySummary')" "history"
  cw delete-alarms --alarm-names "$a"
  assert_eq "0" "$(cw --output json describe-alarms --alarm-names "$a" | json 'len(d["MetricAlarms"])')" "delete-alarms"
  local err; err=$(cw set-alarm-state --alarm-name "$a" --state-value OK --state-reason x 2>&1) && { echo "set-alarm-state of a deleted alarm succeeded"; return 1; }
  assert_match 'ResourceNotFound' "$err" "missing alarm"
}

# ---- runner ------------------------------------------------------------------------------------
# Each CLI call costs a second of Python start-up, so the tests run two at a time. The list-streams
# test compares whole listings, so it runs first, alone.

test_lambda_function_by_http_endpoint() {
  # The function's code: a small HTTP server answering each POSTed event with {"got": EVENT} (issue 20).
  local port_file="$work/lambda-port-$BASHPID"
  /usr/bin/python3 - "$port_file" <<'PY' &
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        data = json.dumps({"got": event}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(server.server_address[1]))
server.timeout = 30
server.handle_request(); server.handle_request()
PY
  local server=$!
  trap "kill $server 2>/dev/null" RETURN
  for _ in $(seq 50); do [[ -s $port_file ]] && break; sleep 0.1; done
  local name="$prefix-fn-$RANDOM" out
  lam() { timeout 30 "$AWS" --endpoint-url "$endpoint" --output json lambda "$@"; }
  out=$(lam create-function --function-name "$name" --package-type Image --code "ImageUri=http://127.0.0.1:$(cat "$port_file")/" \
    --role "arn:aws:iam::$ACCOUNT:role/test" --timeout 10)
  assert_eq "arn:aws:lambda:$REGION:$ACCOUNT:function:$name" "$(json 'd["FunctionArn"]' <<<"$out")" FunctionArn
  out=$(lam invoke --function-name "$name" --cli-binary-format raw-in-base64-out --payload '{"n": 7}' "$work/$name.out")
  assert_eq 200 "$(json 'd["StatusCode"]' <<<"$out")" StatusCode
  assert_eq '{"got": {"n": 7}}' "$(cat "$work/$name.out")" "the function's answer"
  assert_eq "$name" "$(lam list-functions --query "Functions[?FunctionName=='$name'].FunctionName" --output text)" list-functions
  lam delete-function --function-name "$name"
  local rc=0 err
  err=$(lam get-function --function-name "$name" 2>&1 >/dev/null) || rc=$?
  assert_eq 254 "$rc" "exit code"
  assert_eq "An error occurred (ResourceNotFoundException) when calling the GetFunction operation: Function not found: arn:aws:lambda:$REGION:$ACCOUNT:function:$name" \
    "$(tr -d '\n' <<<"$err")" "error text"
}

test_lambda_function_from_a_zip_with_a_bootstrap() {
  # A custom runtime (provided.al2023): the zip's bootstrap serves Lambda's Runtime API (issue 20).
  local dir="$work/zip-$BASHPID" name="$prefix-zip-$RANDOM" out
  mkdir -p "$dir"
  cat > "$dir/bootstrap" <<'PY'
#!/usr/bin/python3
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        rid, event = r.headers["Lambda-Runtime-Aws-Request-Id"], json.loads(r.read())
    body = json.dumps({"handler": os.environ["_HANDLER"], "got": event}).encode()
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=body, method="POST")).read()
PY
  chmod +x "$dir/bootstrap"
  (cd "$dir" && /usr/bin/python3 -c 'import zipfile; z = zipfile.ZipFile("code.zip", "w"); z.write("bootstrap"); z.close()')
  lam() { timeout 30 "$AWS" --endpoint-url "$endpoint" --output json lambda "$@"; }
  out=$(lam create-function --function-name "$name" --runtime provided.al2023 --handler my.handler --zip-file "fileb://$dir/code.zip" \
    --role "arn:aws:iam::$ACCOUNT:role/test")
  assert_eq "Zip provided.al2023" "$(json 'd["PackageType"] + " " + d["Runtime"]' <<<"$out")" "PackageType and Runtime"
  out=$(lam invoke --function-name "$name" --cli-binary-format raw-in-base64-out --payload '{"n": 8}' "$dir/answer.json")
  assert_eq 200 "$(json 'd["StatusCode"]' <<<"$out")" StatusCode
  assert_eq '{"handler": "my.handler", "got": {"n": 8}}' "$(cat "$dir/answer.json")" "the function's answer"
  lam delete-function --function-name "$name"
}

test_lambda_event_source_mapping() {
  # create-event-source-mapping as the issue names it: a stream's records reach a custom runtime's bootstrap, which
  # appends each record's data to a file; the mapping is read, listed, updated and deleted (issue 20).
  local dir="$work/esm-$BASHPID" name="$prefix-esm-$RANDOM" stream out uuid
  mkdir -p "$dir"
  stream=$(new_stream esm 1)
  cat > "$dir/bootstrap" <<'PY'
#!/usr/bin/python3
import base64, json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        rid, event = r.headers["Lambda-Runtime-Aws-Request-Id"], json.loads(r.read())
    with open(os.environ["OUT"], "a") as out:
        for record in event["Records"]:
            out.write(base64.b64decode(record["kinesis"]["data"]).decode() + "\n")
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=b"{}", method="POST")).read()
PY
  chmod +x "$dir/bootstrap"
  (cd "$dir" && /usr/bin/python3 -c 'import zipfile; z = zipfile.ZipFile("code.zip", "w"); z.write("bootstrap"); z.close()')
  lam() { timeout 30 "$AWS" --endpoint-url "$endpoint" --output json lambda "$@"; }
  lam create-function --function-name "$name" --runtime provided.al2023 --handler h --zip-file "fileb://$dir/code.zip" \
    --role "arn:aws:iam::$ACCOUNT:role/test" --environment "Variables={OUT=$dir/out.txt}" > /dev/null
  out=$(lam create-event-source-mapping --function-name "$name" --event-source-arn "arn:aws:kinesis:$REGION:$ACCOUNT:stream/$stream" \
    --starting-position TRIM_HORIZON --batch-size 5)
  uuid=$(json 'd["UUID"]' <<<"$out")
  assert_eq "Creating 5" "$(json 'd["State"] + " " + str(d["BatchSize"])' <<<"$out")" "create-event-source-mapping"
  for i in 1 2 3; do kin put-record --stream-name "$stream" --partition-key k --data "$(printf 'record-%s' "$i" | base64)" > /dev/null; done
  for _ in $(seq 100); do [[ $(wc -l < "$dir/out.txt" 2>/dev/null || echo 0) -ge 3 ]] && break; sleep 0.2; done
  assert_eq "record-1 record-2 record-3" "$(tr '\n' ' ' < "$dir/out.txt" | sed 's/ $//')" "the records the function got"
  assert_eq "Enabled" "$(lam get-event-source-mapping --uuid "$uuid" | json 'd["State"]')" "get-event-source-mapping"
  assert_eq "$uuid" "$(lam list-event-source-mappings --function-name "$name" | json 'd["EventSourceMappings"][0]["UUID"]')" "list-event-source-mappings"
  assert_eq "50" "$(lam update-event-source-mapping --uuid "$uuid" --batch-size 50 | json 'str(d["BatchSize"])')" "update-event-source-mapping"
  assert_eq "Deleting" "$(lam delete-event-source-mapping --uuid "$uuid" | json 'd["State"]')" "delete-event-source-mapping"
  lam delete-function --function-name "$name"
}

serial=(test_list_streams_pagination)
budget=100 # seconds: tests not started by then are reported as failed, so the suite stays under two minutes
run_one() {
  if ((SECONDS - started > budget)); then echo "not started: the suite's ${budget}s budget was spent" > "$work/$1.log"; echo 1 > "$work/$1.rc"; return; fi
  ( set -eo pipefail; "$1" ) > "$work/$1.log" 2>&1; echo $? > "$work/$1.rc"
}
selected=()
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
  [[ -n $only && $t != *"$only"* ]] || selected+=("$t")
done
started=$SECONDS
for t in "${selected[@]}"; do [[ " ${serial[*]} " == *" $t "* ]] && run_one "$t"; done
for t in "${selected[@]}"; do
  [[ " ${serial[*]} " == *" $t "* ]] && continue
  run_one "$t" &
  while (($(jobs -rp | wc -l) >= 2)); do wait -n; done
done
wait
passed=0 failed=0
for t in "${selected[@]}"; do
  if [[ $(cat "$work/$t.rc" 2>/dev/null) == 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $t: $(tail -n 5 "$work/$t.log" | tr '\n' ' ')"
  fi
done
echo "cli: $((passed + failed)) tests in $((SECONDS - started))s against $endpoint ($("$AWS" --version 2>&1 | cut -d' ' -f1))"
echo "$passed passed, $failed failed"
((failed == 0))
