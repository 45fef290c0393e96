#!/usr/bin/env bash
# Builds the deployable server: one native executable (Native AOT, no .NET runtime needed on the target)
# in dist/runnel, with the SQLite library beside it. Starts in about 30 ms instead of about 200 ms.
# Usage: scripts/publish.sh [output-dir]     then: dist/runnel serve --data-dir /var/lib/runnel
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/dist}
echo "publish: compiling Runnel to a native executable in $out (about a minute)"
dotnet publish "$root/src/Runnel" -c Release -r linux-x64 -p:PublishAot=true -o "$out" -nologo -v quiet
rm -f "$out"/*.pdb "$out"/*.dbg
echo "publish: done: $out/runnel serve --help"
