#!/usr/bin/env bash
# Installs what the test suite needs, idempotently: Debian's boto3, AWS CLI v2, nats-server (the
# JetStream cluster tests start their own), haproxy (the cluster suite's load balancer), PostgreSQL (the Redshift
# tests start their own), Debian's chromium (the console's browser tests drive it with Playwright), the npm packages of the JavaScript interop tests (s3rver among them),
# and npm's aws-lambda-ric for the Lambda tests of Node.js functions (its install builds a native addon: g++, cmake, make).
# Safe to run again; does nothing when all is present.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

need_apt=()
/usr/bin/python3 -c 'import boto3' 2>/dev/null || need_apt+=(python3-boto3)
[[ -x /usr/bin/aws ]] || need_apt+=(awscli)
command -v nats-server >/dev/null 2>&1 || need_apt+=(nats-server)
command -v haproxy >/dev/null 2>&1 || need_apt+=(haproxy) # the cluster suite puts deploy/haproxy/haproxy.cfg in front of its nodes
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql) # Firehose's Redshift tests start their own PostgreSQL
command -v g++ >/dev/null 2>&1 || need_apt+=(g++) # aws-lambda-ric's install builds curl, aws-lambda-cpp and a Node addon
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v make >/dev/null 2>&1 || need_apt+=(make)
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium) # the console's browser tests (tests/Runnel.Console.Tests) drive it with Playwright
if ((${#need_apt[@]})); then
  echo "install-test-deps: installing ${need_apt[*]} with apt-get"
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -q "${need_apt[@]}" >/dev/null 2>&1 \
    || { "${sudo_cmd[@]}" apt-get update -q >/dev/null && "${sudo_cmd[@]}" apt-get install -y -q "${need_apt[@]}" >/dev/null; }
fi

if [[ -f $root/tests/interop/js/package.json ]]; then
  js=$root/tests/interop/js
  if [[ ! -d $js/node_modules || $js/package.json -nt $js/node_modules ]]; then
    echo "install-test-deps: installing npm packages in tests/interop/js"
    (cd "$js" && npm install --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules)
  fi
fi

# AWS's Lambda Runtime Interface Client for Node.js: the Lambda tests run Node.js functions with it (about a minute
# the first time: its install script builds a native addon; 4.0.2 declares Node >= 22 and works on Debian's Node 20).
# A build is kept in the user's cache, keyed by the package files, Node's version and the machine, so that a fresh
# checkout on the same machine unpacks it in a second instead.
ric=$root/tests/interop/lambda-node
if [[ -f $ric/package.json && ( ! -f $ric/node_modules/aws-lambda-ric/index.mjs || $ric/package.json -nt $ric/node_modules ) ]]; then
  key=$( (cat "$ric/package.json" "$ric/package-lock.json" 2>/dev/null; node --version; uname -m) | sha256sum | cut -c1-16)
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/runnel/lambda-node-$key.tar.gz
  if [[ -f $cache ]] && rm -rf "$ric/node_modules" && tar -xzf "$cache" -C "$ric" 2>/dev/null && [[ -f $ric/node_modules/aws-lambda-ric/index.mjs ]]; then
    echo "install-test-deps: aws-lambda-ric unpacked from $cache"
    touch "$ric/node_modules"
  else
    echo "install-test-deps: installing aws-lambda-ric in tests/interop/lambda-node (builds a native addon, about a minute)"
    (cd "$ric" && npm install --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules)
    if mkdir -p "$(dirname "$cache")" 2>/dev/null && tar -czf "$cache.$$" -C "$ric" node_modules 2>/dev/null; then
      mv "$cache.$$" "$cache"
    else
      rm -f "$cache.$$"
    fi
  fi
fi
