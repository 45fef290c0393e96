#!/usr/bin/env bash
# A three-node NATS JetStream cluster on this machine, for trying `runnel serve --nats` and for the cluster suite.
#   scripts/nats-cluster.sh start DIR   starts three nats-servers (JetStream on, max_payload 16MB, bound to 127.0.0.1)
#                                       keeping their stores, configs and logs in DIR; prints the URLs for --nats
#                                       (also written to DIR/urls) once the cluster has a JetStream leader
#   scripts/nats-cluster.sh stop DIR    stops them (SIGTERM, then SIGKILL after 10 s)
# Ports come from 20000-32000, below the kernel's ephemeral range, so no client socket takes one meanwhile.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
if [[ -z $cmd || -z $dir ]]; then sed -n 2,6p "$0"; exit 2; fi

free_port() { # a port nobody listens on, from 20000-32000
  /usr/bin/python3 - <<'PY'
import random, socket
for _ in range(200):
    port = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); s.close(); print(port); break
    except OSError:
        s.close()
PY
}

case $cmd in
  start)
    command -v nats-server >/dev/null || { echo "nats-server is not installed: run scripts/install-test-deps.sh" >&2; exit 1; }
    mkdir -p "$dir"
    clients=() routes=()
    for i in 0 1 2; do clients+=("$(free_port)"); routes+=("$(free_port)"); done
    route_list=$(printf 'nats-route://127.0.0.1:%s, ' "${routes[@]}"); route_list=${route_list%, }
    : > "$dir/pids"
    for i in 0 1 2; do
      mkdir -p "$dir/n$i"
      cat > "$dir/n$i.conf" <<CONF
server_name: runnel-n$i
listen: 127.0.0.1:${clients[$i]}
max_payload: 16MB
jetstream { store_dir: "$dir/n$i" }
cluster {
  name: runnel
  listen: 127.0.0.1:${routes[$i]}
  routes: [$route_list]
}
CONF
      nats-server -c "$dir/n$i.conf" > "$dir/n$i.log" 2>&1 &
      echo $! >> "$dir/pids"
    done
    urls=$(printf 'nats://127.0.0.1:%s,' "${clients[@]}"); urls=${urls%,}
    echo "$urls" > "$dir/urls"
    # Healthy once every node answers /healthz... nats-server 2.9 has no HTTP port here, so wait for the log line
    # that a JetStream meta leader was elected (or this node follows one).
    for _ in $(seq 1 300); do
      ready=0
      for i in 0 1 2; do grep -qE "JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader" "$dir/n$i.log" 2>/dev/null && ready=$((ready + 1)); done
      ((ready >= 1)) && grep -q "Server is ready" "$dir/n0.log" && grep -q "Server is ready" "$dir/n1.log" && grep -q "Server is ready" "$dir/n2.log" && break
      sleep 0.1
    done
    if ! grep -qE "metadata leader" "$dir"/n*.log; then
      echo "the NATS cluster in $dir elected no JetStream leader within 30 s; see $dir/n*.log" >&2; "$0" stop "$dir"; exit 1
    fi
    echo "$urls"
    ;;
  stop)
    [[ -f $dir/pids ]] || exit 0
    pids=$(cat "$dir/pids")
    kill $pids 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 $pids 2>/dev/null || break; sleep 0.1; done
    kill -9 $pids 2>/dev/null || true
    rm -f "$dir/pids"
    ;;
  *) sed -n 2,6p "$0"; exit 2 ;;
esac
