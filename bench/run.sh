#!/usr/bin/env bash
# Benchmarks Runnel against kinesalite in one run, on this machine, with the same load generator
# (bench/Runnel.Bench) and the same scenarios, one server at a time; then prints both side by side with
# the ratios Runnel/kinesalite and the targets of docs/benchmarks.md.
#
#   bench/run.sh --records 20000      smoke run, well under a minute once built
#   bench/run.sh --records 1000000    the documented run (docs/benchmarks.md)
#
# Every server it starts is stopped on exit, also on failure or Ctrl-C. Results (JSON per server, the
# comparison as text and Markdown, the server logs) go to --out, by default bench/results/latest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

records=20000 single= latency= duration=120 concurrency=16 repeat=5 out= skip_build=0 flavour=native fanout_seconds=20 encodings=1 cluster=1 firehose_seconds=30 metrics_leg=1 metrics_rounds=3
usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --records N          records per PutRecords scenario, read back by the drain (default 20000)
  --single-records N   single PutRecord requests (default records/10, between 5000 and 100000)
  --latency-records N  records of the put-to-visible scenario (default 1000; 3000 from 1M records)
  --duration SECONDS   time cap of each scenario (default 120)
  --concurrency N      requests in flight in the put scenarios (default 16)
  --startup-repeat N   launches timed per server for start-up (default 5)
  --fanout-seconds S   length of the fan-out latency phase, Runnel only (default 20; 0 skips fan-out);
                       its full-speed phase drains --records records to 5 consumers
  --no-encodings       skip the CBOR and h2c variants (runnel-bench encodings, Runnel only)
  --firehose-seconds S Firehose, Runnel only: PutRecordBatch paced at 200,000 records/s for S seconds into a GZIP
                       delivery stream (the delivery lag), then the same records as fast as they go (default 30; 0 skips)
  --no-cluster         skip the cluster: two Runnel nodes on three nats-servers at R3 (scripts/nats-cluster.sh),
                       the requests taken by the nodes in turn, measured against the cluster goals
  --no-metrics         skip the metrics leg: PutRecords and the drain against a server with --metrics off and one with
                       them and every shard-level metric on, alternating, to show what recording the metrics costs
                       (issue 17: within 5%), and GET /metrics timed with 1,000 shards monitored (under 50 ms)
  --metrics-rounds N   rounds of the metrics leg, each side's best compared (default 3)
  --out DIR            where results go (default bench/results/latest)
  --skip-build         use the Release builds already there
  --runnel native|jit  the native executable of scripts/publish.sh, the deployable form (default),
                       or the JIT build that `dotnet run` uses
EOF
}
while (($#)); do
  case $1 in
    --records) records=$2; shift 2 ;;
    --single-records) single=$2; shift 2 ;;
    --latency-records) latency=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --startup-repeat) repeat=$2; shift 2 ;;
    --fanout-seconds) fanout_seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-encodings) encodings=0; shift ;;
    --firehose-seconds) firehose_seconds=$2; shift 2 ;;
    --no-cluster) cluster=0; shift ;;
    --no-metrics) metrics_leg=0; shift ;;
    --metrics-rounds) metrics_rounds=$2; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --runnel) flavour=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [[ -z $single ]]; then single=$((records / 10)); ((single < 5000)) && single=5000; ((single > 100000)) && single=100000; fi
if [[ -z $latency ]]; then latency=1000; ((records >= 1000000)) && latency=3000; fi
out=${out:-$root/bench/results/latest}

work=$(mktemp -d "${TMPDIR:-/tmp}/runnel-bench.XXXXXX")
server_pid=
stop_server() { # stops the server started last, politely first
  [[ -n $server_pid ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
cluster_pids=()
stop_cluster() { # the cluster's Runnel nodes, politely first, then its nats-servers
  if ((${#cluster_pids[@]})); then
    kill -TERM "${cluster_pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "${cluster_pids[@]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${cluster_pids[@]}" 2>/dev/null || true
    wait "${cluster_pids[@]}" 2>/dev/null || true
    cluster_pids=()
  fi
  [[ -d $work/nats ]] && "$root/scripts/nats-cluster.sh" stop "$work/nats" > /dev/null 2>&1 || true
}
cleanup() {
  stop_server
  stop_cluster
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local py=/usr/bin/python3; [[ -x $py ]] || py=python3
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cd "$root"
runnel_dll=$root/src/Runnel/bin/Release/net10.0/runnel.dll
bench_dll=$root/bench/Runnel.Bench/bin/Release/net10.0/runnel-bench.dll
kinesalite_cli=$root/bench/node_modules/kinesalite/cli.js

native_dir=$root/bench/.runnel-native
if ((!skip_build)); then
  echo "run.sh: building Runnel and the load generator (Release)"
  for project in src/Runnel/Runnel.csproj bench/Runnel.Bench/Runnel.Bench.csproj; do
    dotnet build "$project" -c Release -nologo -v quiet > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
  done
  if [[ $flavour == native ]]; then
    "$root/scripts/publish.sh" "$native_dir" > "$work/publish.log" 2>&1 || { cat "$work/publish.log"; exit 1; }
  fi
fi
case $flavour in
  native) runnel=("$native_dir/runnel") ;;
  jit) runnel=(dotnet "$runnel_dll") ;;
  *) echo "run.sh: --runnel must be native or jit" >&2; exit 2 ;;
esac
if [[ ! -f $kinesalite_cli ]]; then
  echo "run.sh: installing kinesalite into bench/node_modules"
  (cd bench && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.md "$out"/*.txt "$out"/*.log
fsync=$("${runnel[@]}" serve --help | grep -- '--fsync POLICY' | grep -o 'default [a-z]*' | cut -d' ' -f2)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
{
  echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit:    $commit$dirty"
  echo "machine:   $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min load average before the run)"
  echo "runtimes:  .NET $(dotnet --version), node $(node --version), kinesalite $(node -p "require('$root/bench/node_modules/kinesalite/package.json').version")"
  echo "runnel:    $flavour build, --fsync $fsync (its default), --limits off (as the targets ask)"
  echo "settings:  --records $records --single-records $single --latency-records $latency --duration $duration --concurrency $concurrency"
} | tee "$out/environment.txt"

bench() { dotnet "$bench_dll" "$@"; }
common=(--records "$records" --single-records "$single" --latency-records "$latency" --duration "$duration" --concurrency "$concurrency")
# The JIT build tiers its code up over its first seconds of load: 40 warm-up rounds (about 210,000 records,
# the same for both servers) instead of 10, so that the scenarios measure it warm, as a server that has run
# for a while is.
[[ $flavour == jit ]] && common+=(--warmup 40)

# The cluster: three nats-servers and Runnel nodes on them, the load taken by the nodes in turn. Start-up, RSS,
# fan-out and the encodings are the single node's to measure; the cluster runs the put, drain and latency scenarios
# with two nodes at R3 (its goals), then PutRecords alone at R1 with one node and with two (how it scales).
cpu_ticks() { # cpu_ticks PID...: user+system clock ticks of the processes, summed
  local total=0 pid
  for pid in "$@"; do [[ -r /proc/$pid/stat ]] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$total"
}
cluster_leg() { # cluster_leg LABEL REPLICAS NODES SCENARIOS RECORDS
  local label=$1 replicas=$2 nodes=$3 scenarios=$4 leg_records=$5
  echo
  echo "== $label: $nodes Runnel node(s) on three nats-servers (JetStream, R$replicas)"
  # Three nats-servers share two cores here (in a deployment each has a machine): one Go processor each, or their
  # idle schedulers spin against each other (JetStream's own publish p99 at R3 measured 6.6-8.6 ms so, 9.7-11 ms not).
  if ! GOMAXPROCS=${GOMAXPROCS:-1} "$root/scripts/nats-cluster.sh" start "$work/nats" > "$work/nats.log" 2>&1; then
    cat "$work/nats.log"; echo "run.sh: the NATS cluster did not start"; failures+=("$label"); return
  fi
  local urls endpoints="" node port nats_pids
  urls=$(cat "$work/nats/urls")
  mapfile -t nats_pids < "$work/nats/pids"
  if [[ $scenarios == *latency* ]]; then
    # The floor under put-to-visible: JetStream's own publish latency at this replication, before any node runs.
    bench jetstream --nats "$urls" --replicas "$replicas" --records "$latency" 2>&1 | tee -a "$out/jetstream-floor.txt" || failures+=("$label jetstream floor")
  fi
  for node in $(seq 1 "$nodes"); do
    port=$(free_port)
    "${runnel[@]}" serve --port "$port" --data-dir "$work/cluster-node-$node" --nats "$urls" --replicas "$replicas" --limits off > "$out/$label-node$node.log" 2>&1 &
    cluster_pids+=($!)
    for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
    endpoints+="${endpoints:+,}http://127.0.0.1:$port"
  done
  local runnel_before nats_before rc=0
  runnel_before=$(cpu_ticks "${cluster_pids[@]}"); nats_before=$(cpu_ticks "${nats_pids[@]}")
  local leg=("${common[@]}"); leg[1]=$leg_records
  bench run --label "$label" --endpoint "$endpoints" "${leg[@]}" --scenarios "$scenarios" \
    --json "$out/$label.json" > "$work/$label.out" 2>&1 || rc=$?
  local hz; hz=$(getconf CLK_TCK)
  echo "  CPU over the scenarios: Runnel nodes $(( ($(cpu_ticks "${cluster_pids[@]}") - runnel_before) / hz )) s, nats-servers $(( ($(cpu_ticks "${nats_pids[@]}") - nats_before) / hz )) s" | tee -a "$out/cluster-cpu.txt"
  if [[ $scenarios == *latency* ]]; then
    # The floor again, right after the scenarios (the nodes still running, idle): put-to-visible follows JetStream's
    # own latency, which the load scenarios and the machine's other tenants move; a miss beside a high floor says so.
    bench jetstream --nats "$urls" --replicas "$replicas" --records "$latency" 2>&1 | sed 's/^/after the scenarios: /' | tee -a "$out/jetstream-floor.txt" || failures+=("$label jetstream floor after")
  fi
  grep -E '^  ' "$work/$label.out" || true
  if ((rc != 0)); then
    echo "run.sh: a scenario against $label failed (exit $rc); the end of its first node's log:"; tail -20 "$out/$label-node1.log"
    [[ -f $out/$label.json ]] || cat "$work/$label.out"
    failures+=("$label")
  fi
  stop_cluster
  rm -rf "$work/nats"
}
run_cluster() {
  if ! command -v nats-server >/dev/null 2>&1; then
    echo "run.sh: nats-server is not installed (scripts/install-test-deps.sh installs it); the cluster is skipped"; failures+=("runnel-cluster"); return
  fi
  echo; echo "nats-server $(nats-server --version | grep -o 'v[0-9][0-9.]*')"
  cluster_leg runnel-cluster 3 2 put100,put1k,put1,drain,latency "$records"
  local scaling=$((records < 200000 ? records : 200000))
  cluster_leg runnel-r1-1node 1 1 put100 "$scaling"
  cluster_leg runnel-r1-2nodes 1 2 put100 "$scaling"
}

# What recording the metrics costs: PutRecords and the drain against a server with --metrics off and one with them on
# and every shard-level metric enabled (issue 17: within 5% of both off), each alone on the machine. The machine's
# noise between two runs is larger than 5%, so the two alternate for --metrics-rounds rounds (off-on, then on-off, ...)
# and each side's best is compared. Then GET /metrics is timed with a 1,000-shard stream monitored (under 50 ms).
metrics_one() { # metrics_one MODE ROUND
  local mode=$1 round=$2 port pid rc flags=()
  [[ $mode == on ]] && flags=(--enhanced-monitoring)
  port=$(free_port)
  echo "== runnel-metrics-$mode, round $round: PutRecords and the drain with --metrics $mode${flags:+ and shard-level metrics on}"
  "${runnel[@]}" serve --port "$port" --data-dir "$work/metrics-$mode" --limits off --metrics "$mode" > "$out/runnel-metrics-$mode.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  rc=0
  bench run --label "runnel-metrics-$mode" --endpoint "http://127.0.0.1:$port" --server-pid "$pid" "${common[@]}" --scenarios put100,drain --drain-passes 5 \
    "${flags[@]}" --json "$work/runnel-metrics-$mode-$round.json" > "$work/runnel-metrics-$mode.out" 2>&1 || rc=$?
  grep -E '^  ' "$work/runnel-metrics-$mode.out" || true
  ((rc == 0)) || failures+=("runnel-metrics-$mode")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  rm -rf "$work/metrics-$mode"
}
run_metrics_leg() {
  local round port pid
  for round in $(seq 1 "$metrics_rounds"); do
    if ((round % 2)); then metrics_one off "$round"; metrics_one on "$round"; else metrics_one on "$round"; metrics_one off "$round"; fi
  done
  # Each side's best: each metric's best value over the rounds (the leg judges throughput only).
  for mode in off on; do
    /usr/bin/python3 - "$out/runnel-metrics-$mode.json" "$work"/runnel-metrics-"$mode"-*.json <<'PY'
import json, sys
runs = [json.load(open(path)) for path in sys.argv[2:]]
best = runs[0]
for metric in best["metrics"]:
    values = [m["value"] for run in runs for m in run["metrics"] if m["id"] == metric["id"]]
    metric["value"] = min(values) if metric["unit"] in ("ms", "s") else max(values)  # the best: the fastest, the most
best["notes"].append(f"best of {len(runs)} rounds (each metric's best value); rounds alternate which side runs first")
json.dump(best, open(sys.argv[1], "w"), indent=2)
PY
  done
  port=$(free_port)
  echo "== runnel-scrape: GET /metrics with a 1,000-shard stream's shard-level metrics enabled"
  "${runnel[@]}" serve --port "$port" --data-dir "$work/scrape" --limits off --shard-limit 2000 > "$out/runnel-scrape.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  bench scrape --label runnel-scrape --endpoint "http://127.0.0.1:$port" --server-pid "$pid" --shards 1000 --scrapes 50 \
    --json "$out/runnel-scrape.json" || failures+=("runnel-scrape")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  rm -rf "$work/scrape"
}

# Runnel, the cluster, then kinesalite: each alone on the machine while it is measured.
failures=()
servers=(runnel); ((metrics_leg)) && servers+=(runnel-metrics); ((cluster)) && servers+=(runnel-cluster); servers+=(kinesalite)
for server in "${servers[@]}"; do
  if [[ $server == runnel-cluster ]]; then run_cluster; continue; fi
  if [[ $server == runnel-metrics ]]; then run_metrics_leg; continue; fi
  port=$(free_port)
  if [[ $server == runnel ]]; then
    command="${runnel[*]} serve --port $port --data-dir $work/runnel-startup-{i} --limits off"
    serve=("${runnel[@]}" serve --port "$port" --data-dir "$work/runnel-data" --limits off)
  else
    command="node $kinesalite_cli --port $port --createStreamMs 0 --deleteStreamMs 0 --updateStreamMs 0 --shardLimit 1000"
    serve=(node "$kinesalite_cli" --port "$port" --createStreamMs 0 --deleteStreamMs 0 --updateStreamMs 0 --shardLimit 1000)
  fi
  echo
  echo "== $server: start-up ($repeat launches)"
  if ! bench startup --label "$server" --endpoint "http://127.0.0.1:$port" --repeat "$repeat" \
      --command "$command" --json "$out/$server-startup.json" > "$work/$server-startup.out" 2>&1; then
    cat "$work/$server-startup.out"; echo "run.sh: timing the start-up of $server failed"; exit 1
  fi
  grep -E '^  |median' "$work/$server-startup.out" || true

  echo "== $server: scenarios"
  "${serve[@]}" > "$out/$server.log" 2>&1 &
  server_pid=$!
  rc=0
  bench run --label "$server" --endpoint "http://127.0.0.1:$port" --server-pid "$server_pid" \
    "${common[@]}" --keep-streams --json "$out/$server.json" > "$work/$server.out" 2>&1 || rc=$?
  grep -E '^  ' "$work/$server.out" || true
  if ((rc != 0)); then
    # A failed scenario is reported and the comparison goes on with what was measured; no report at all ends the run.
    echo "run.sh: a scenario against $server failed (exit $rc); the end of its log:"; tail -20 "$out/$server.log"
    [[ -f $out/$server.json ]] || { cat "$work/$server.out"; exit 1; }
    failures+=("$server")
  fi
  if [[ $server == runnel ]]; then
    echo "  data directory after the run: $(du -sh "$work/runnel-data" | cut -f1) (streams kept)"
    if [[ $fanout_seconds != 0 ]]; then
      # kinesalite has no SubscribeToShard: enhanced fan-out is measured against its own goals only.
      echo "== runnel: enhanced fan-out (5 consumers x 4 shards)"
      bench fanout --label runnel --endpoint "http://127.0.0.1:$port" --server-pid "$server_pid" \
        --latency-seconds "$fanout_seconds" --records "$records" --json "$out/runnel-fanout.json" > "$work/runnel-fanout.out" 2>&1 || failures+=("runnel fan-out")
      grep -E '^  ' "$work/runnel-fanout.out" || cat "$work/runnel-fanout.out"
    fi
    if ((encodings)); then
      # CBOR and h2c against JSON over HTTP/1.1 on this server (kinesalite speaks neither well).
      echo "== runnel: encodings (JSON and CBOR, HTTP/1.1 and h2c)"
      bench encodings --label runnel --endpoint "http://127.0.0.1:$port" --server-pid "$server_pid" \
        --records "$records" --json "$out/runnel-encodings.json" > "$work/runnel-encodings.out" 2>&1 || failures+=("runnel encodings")
      grep -E 'best of' "$work/runnel-encodings.out" || cat "$work/runnel-encodings.out"
    fi
    if [[ $firehose_seconds != 0 ]]; then
      # Issue 16's goal: 200,000 records/s into a delivery stream with a local directory and GZIP, the delivery lag
      # within the interval plus 1 s at that rate; then the ceiling, unpaced.
      echo "== runnel: Firehose (DirectPut, GZIP, into --s3-dir)"
      fh_records=$((200000 * firehose_seconds))
      for pace in 200000 0; do
        bench firehose --endpoint "http://127.0.0.1:$port" --objects "$work/runnel-data/buckets" --records "$fh_records" --rate "$pace" \
          > "$work/runnel-firehose.out" 2>&1 || failures+=("runnel firehose (rate $pace)")
        grep -E '^  ' "$work/runnel-firehose.out" | tee -a "$out/runnel-firehose.txt" || cat "$work/runnel-firehose.out"
      done
    fi
  fi
  stop_server
  rm -rf "$work/runnel-data" "$work"/runnel-startup-*
done

echo
echo "== Runnel / kinesalite"
candidates=(--candidate "$out/runnel.json" --candidate "$out/runnel-startup.json")
[[ -f $out/runnel-encodings.json ]] && candidates+=(--candidate "$out/runnel-encodings.json")
bench compare "${candidates[@]}" \
  --baseline "$out/kinesalite.json" --baseline "$out/kinesalite-startup.json" \
  --markdown "$out/comparison.md" | tee "$out/comparison.txt"
if [[ -f $out/runnel-cluster.json ]]; then
  echo
  echo "== Runnel cluster (two nodes, R3) / kinesalite"
  bench compare --candidate "$out/runnel-cluster.json" --baseline "$out/kinesalite.json" --targets cluster \
    --markdown "$out/comparison-cluster.md" | tee "$out/comparison-cluster.txt"
fi
if [[ -f $out/runnel-metrics-on.json && -f $out/runnel-metrics-off.json ]]; then
  echo
  echo "== Metrics on / off"
  bench compare --candidate "$out/runnel-metrics-on.json" --baseline "$out/runnel-metrics-off.json" --targets metrics \
    --markdown "$out/comparison-metrics.md" | tee "$out/comparison-metrics.txt"
fi
if [[ -f $out/runnel-r1-1node.json && -f $out/runnel-r1-2nodes.json ]]; then
  echo
  echo "== R1: two Runnel nodes / one"
  bench compare --candidate "$out/runnel-r1-2nodes.json" --baseline "$out/runnel-r1-1node.json" --targets none \
    --markdown "$out/comparison-r1.md" | tee "$out/comparison-r1.txt"
fi
echo
echo "results in $out"
if ((${#failures[@]})); then echo "run.sh: scenarios failed against: ${failures[*]} (see the notes above)"; exit 1; fi
