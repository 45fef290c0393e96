#!/usr/bin/env bash
# Random bad input against a running server: nothing may answer 5xx (see fuzz.py).
set -uo pipefail
exec /usr/bin/python3 "$(dirname "$0")/fuzz.py" "${1:-${KINESIS_ENDPOINT:-http://127.0.0.1:4567}}"
