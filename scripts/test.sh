#!/usr/bin/env bash
# Runs the whole test suite: the .NET unit and integration tests, then the interop suites that drive a
# real Runnel server with stock clients (boto3, the AWS CLI, the AWS SDK for JavaScript v3, a foreign
# CBOR encoder) and the shared acceptance scripts. Ends with one line: "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
passed=0 failed=0
tally() { # tally SUITE-NAME OUTPUT-FILE: adds the last "N passed, N failed" line of a suite
  local line p f
  line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
  if [[ -z $line ]]; then echo "test: $1 printed no result; counting it as 1 failure"; failed=$((failed + 1)); phase_started=$SECONDS; return; fi
  p=${line%% passed*}; f=${line##*passed, }; f=${f%% failed*}
  passed=$((passed + p)); failed=$((failed + f))
  echo "test: $1: $line ($((SECONDS - phase_started)) s)"
  phase_started=$SECONDS
}

scripts/install-test-deps.sh || echo "test: installing test dependencies failed; interop suites may fail"

echo "test: test dependencies ready ($SECONDS s)"; phase_started=$SECONDS
echo "test: building (Release)"
if ! dotnet build Runnel.slnx -c Release -v quiet -nologo > .tmp-build.log 2>&1; then
  cat .tmp-build.log; echo "0 passed, 1 failed"; exit 1
fi
rm -f .tmp-build.log
echo "test: built ($((SECONDS - phase_started)) s)"; phase_started=$SECONDS

work=$(mktemp -d)
# A development master key made by a server under test (encryption at rest) goes here, not into the user's ~/.config.
export XDG_CONFIG_HOME=$work/config

# Style: `dotnet format --verify-no-changes` must pass (docs/../style.md); counted as one test. Of its three passes only
# whitespace can find anything here: the analyzers already ran in the build (warnings are errors), and with no
# .editorconfig no code-style rule is a warning. Whitespace on the folder needs no MSBuild workspace: 14 s, not 2 min.
if dotnet format whitespace . --folder --verify-no-changes --exclude '**/bin/**' '**/obj/**' -v q > "$work/format.log" 2>&1; then
  echo "format: 1 passed, 0 failed" > "$work/format.sum"
else
  head -20 "$work/format.log"; echo "format: 0 passed, 1 failed (run: dotnet format Runnel.slnx)" > "$work/format.sum"
fi
tally format "$work/format.sum"
trap 'kill ${server_pids:-} 2>/dev/null; wait ${server_pids:-} 2>/dev/null; scripts/nats-cluster.sh stop "$work/nats"; rm -rf "$work"' EXIT

# .NET tests: one line per project from dotnet test ("Passed!  - Failed: 0, Passed: 12, ..."). Two lanes at once, one
# per core: Runnel.Server.Tests, the longest by far, in one; the other projects one after another in the other.
dotnet_tests() { # dotnet_tests PROJECT...: runs each project's tests in turn
  local project
  for project in "$@"; do
    dotnet test "$project" -c Release --no-build -nologo -v quiet --results-directory "$work/trx/$(basename "$project" .csproj)" --logger trx 2>&1
  done
}
server_tests=tests/Runnel.Server.Tests/Runnel.Server.Tests.csproj
other_tests=(tests/Runnel.Storage.Tests/Runnel.Storage.Tests.csproj)
for project in tests/*/*.Tests.csproj; do [[ $project == "$server_tests" || $project == "${other_tests[0]}" ]] || other_tests+=("$project"); done
dotnet_tests "$server_tests" > "$work/dotnet-server.log" &
server_lane=$!
dotnet_tests "${other_tests[@]}" > "$work/dotnet-other.log"
wait "$server_lane"
cat "$work/dotnet-other.log" "$work/dotnet-server.log" > "$work/dotnet.log"
grep -E "^(Passed|Failed)!|error|\[FAIL\]" "$work/dotnet.log"
read -r dp df < <(awk '/(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) } } END { print p + 0, f + 0 }' FS='[ ,]+' "$work/dotnet.log")
summaries=$(grep -cE "(Passed|Failed)!" "$work/dotnet.log")
if ((summaries < ${#other_tests[@]} + 1)); then # a test process that ended without its summary (a crash) is a failure
  echo "test: $((${#other_tests[@]} + 1)) test projects ran, $summaries summed up their results"; df=$((df + 1))
fi
if [[ $df -gt 0 ]]; then # what failed and why, so that a failure in CI can be understood from its log
  /usr/bin/python3 - "$work/trx" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    for result in ET.parse(path).getroot().iterfind(".//t:UnitTestResult[@outcome='Failed']", ns):
        message = result.findtext(".//t:ErrorInfo/t:Message", "", ns)
        stack = result.findtext(".//t:ErrorInfo/t:StackTrace", "", ns)
        print(f"test: FAILED {result.get('testName')}\n{message}\n" + "\n".join(stack.splitlines()[:12]) + "\n")
PY
fi
echo "dotnet: $dp passed, $df failed" > "$work/dotnet.sum"; tally dotnet "$work/dotnet.sum"

# Two servers: one with the defaults a new user gets (AWS's limits on) for the acceptance scripts, one
# with limits off for the interop suites, which call faster than a shard's 5 reads a second allow.
# Each suite uses its own stream names.
start_server() { # start_server NAME EXTRA-FLAGS...: sets $url and appends the pid to $server_pids
  local name=$1; shift
  local port
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  dotnet src/Runnel/bin/Release/net10.0/runnel.dll serve --port "$port" --data-dir "$work/data-$name" "$@" > "$work/server-$name.log" 2>&1 &
  server_pids+=" $!"
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -fs "$url/health" >/dev/null 2>&1 && break; sleep 0.1; done
  if ! curl -fs "$url/health" >/dev/null 2>&1; then
    cat "$work/server-$name.log"; echo "test: server $name did not start"; echo "$passed passed, $((failed + 1)) failed"; exit 1
  fi
}
server_pids=""

run_suite() { # run_suite NAME COMMAND...
  local name=$1; shift
  local log before=() i=0
  for log in "$work"/server-*.log; do [[ -f $log ]] && before+=("$(wc -l < "$log")"); done
  timeout 600 "$@" > "$work/$name.log" 2>&1
  local rc=$? failed_before=$failed
  if ((rc != 0)) && ! grep -qE '[0-9]+ passed, [0-9]+ failed' "$work/$name.log"; then cat "$work/$name.log"; fi
  grep -E "FAIL|Error|error" "$work/$name.log" | head -20
  tally "$name" "$work/$name.log"
  if ((failed > failed_before)); then # what the servers warned of meanwhile, so that a failure in CI can be understood
    for log in "$work"/server-*.log; do
      [[ -f $log ]] || continue
      tail -n +"$((${before[i]:-0} + 1))" "$log" | grep -E "warn:|fail:" | tail -15 | sed "s|^|$(basename "$log" .log): |"
      i=$((i + 1))
    done
  fi
}

start_server defaults
acceptance=$root/../shared/acceptance
if [[ -d $acceptance ]]; then
  run_suite acceptance-quickstart /usr/bin/python3 "$acceptance/seed_quickstart.py" "$url"
  run_suite acceptance-cli bash "$acceptance/seed_cli.sh" "$url"
else
  echo "test: $acceptance not found; the shared acceptance scripts were not run"
fi
# Node.js Lambda functions run with npm's aws-lambda-ric (scripts/install-test-deps.sh installs it).
ric_flag=()
[[ -f tests/interop/lambda-node/node_modules/aws-lambda-ric/index.mjs ]] && ric_flag=(--node-runtime-client tests/interop/lambda-node/node_modules/aws-lambda-ric)
start_server interop --limits off "${ric_flag[@]}"
export KINESIS_ENDPOINT=$url
for suite in tests/interop/*/run.sh; do
  [[ -x $suite ]] || continue
  run_suite "interop-$(basename "$(dirname "$suite")")" "$suite" "$url"
done

# Signatures verified (--auth sigv4): a server with a credentials file the suite writes, stock clients signing with
# its key and with wrong ones (tests/auth).
printf '[suite]\naws_access_key_id = AKIASUITE%s\naws_secret_access_key = suite/%s+Secret\n' "$RANDOM$RANDOM" "$RANDOM" > "$work/credentials"
printf '[producer]\naws_access_key_id = AKIAPRODUCER%s\naws_secret_access_key = producer/%s\npolicy = %s\n' "$RANDOM" "$RANDOM" \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:PutRecord","kinesis:PutRecords"],"Resource":"arn:aws:kinesis:*:*:stream/policy-*"}]}' \
  >> "$work/credentials"
printf '[partner]\naws_access_key_id = AKIAPARTNER%s\naws_secret_access_key = partner/%s\naccount_id = 111122223333\n' "$RANDOM" "$RANDOM" >> "$work/credentials"
# Also over TLS: a self-signed certificate for 127.0.0.1 that the clients are told to trust.
tls_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls-key.pem" -out "$work/tls-cert.pem" > /dev/null 2>&1
start_server auth --limits off --auth sigv4 --credentials "$work/credentials" \
  --tls-port "$tls_port" --tls-cert "$work/tls-cert.pem" --tls-key "$work/tls-key.pem"
run_suite auth tests/auth/run.sh "$url" "$work/credentials" "https://127.0.0.1:$tls_port" "$work/tls-cert.pem"

# The cluster suite: three nats-servers (JetStream, R3), two Runnel nodes that keep everything in them, and
# deploy/haproxy/haproxy.cfg in front of both (its third node points nowhere). The boto3 suite runs through node A,
# the JavaScript suite through the load balancer (its calls spread over both nodes), then boto3 drives both at once;
# last, node A is killed and the quickstart runs through the load balancer once its health checks took A out.
if command -v nats-server >/dev/null 2>&1; then
  if scripts/nats-cluster.sh start "$work/nats" > "$work/nats.log" 2>&1; then
    nats_urls=$(cat "$work/nats/urls")
    # The nodes take deploy/runnel/runnel.json, as deployed, with the test's addresses and limits over it.
    start_server node-a --config deploy/runnel/runnel.json --host 127.0.0.1 --nats "$nats_urls" --limits off "${ric_flag[@]}"; node_a=$url; pid_a=${server_pids##* }
    start_server node-b --config deploy/runnel/runnel.json --host 127.0.0.1 --nats "$nats_urls" --limits off "${ric_flag[@]}"; node_b=$url
    lb=""
    if command -v haproxy >/dev/null 2>&1; then
      lb_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      stats_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      sed -e "s/^\(    bind \):4567/\1127.0.0.1:$lb_port/" -e "s/n1:4567/${node_a#http://}/" -e "s/n2:4567/${node_b#http://}/" \
          -e "s/n3:4567/127.0.0.1:9/" -e "s/127.0.0.1:8404/127.0.0.1:$stats_port/" -e "s|log /dev/log local0|log stdout format raw local0|" \
          deploy/haproxy/haproxy.cfg > "$work/haproxy.cfg"
      haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 &
      lb_pid=$!; server_pids+=" $lb_pid"
      for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$lb_port/health" >/dev/null 2>&1 && lb=http://127.0.0.1:$lb_port && break; sleep 0.1; done
      [[ -n $lb ]] || { cat "$work/haproxy.log"; echo "test: haproxy did not start (counted as a failure)"; failed=$((failed + 1)); }
    else
      echo "test: haproxy is not installed (scripts/install-test-deps.sh installs it); counted as a failure"; failed=$((failed + 1))
    fi
    run_suite cluster-python tests/interop/python/run.sh "$node_a"
    run_suite cluster-js tests/interop/js/run.sh "${lb:-$node_b}"
    run_suite cluster-cross /usr/bin/python3 tests/interop/cluster/cross_node.py "$node_a" "$node_b"
    if [[ -n $lb && -d $acceptance ]]; then
      kill -9 "$pid_a"; wait "$pid_a" 2>/dev/null
      sleep 3 # two failed checks a second apart take node A out
      run_suite cluster-lb-node-killed /usr/bin/python3 "$acceptance/seed_quickstart.py" "$lb"
    fi
  else
    cat "$work/nats.log"; echo "test: the NATS cluster did not start (counted as a failure)"; failed=$((failed + 1))
  fi
else
  echo "test: nats-server is not installed (scripts/install-test-deps.sh installs it); counted as a failure"; failed=$((failed + 1))
fi

if grep -qE "Unhandled exception|InternalFailure|fail:" "$work"/server-*.log; then
  echo "test: a server logged an internal failure (counted as a failure):"; grep -E -A5 "fail:|Unhandled" "$work"/server-*.log | head -40
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
((failed == 0))
