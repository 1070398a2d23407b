#!/usr/bin/env bash
# Runs the black-box API tests against a real iamd binary.
#   tests/api/run.sh <path-to-iamd>
# Installs the pinned npm dependencies (npm ci) when node_modules is missing or
# older than package-lock.json, then runs every *.test.mjs with node's test
# runner, two files at a time (each file starts its own iamd).
set -euo pipefail

if [[ $# -lt 1 || -z ${1:-} ]]; then
  echo "usage: $0 <path-to-iamd>" >&2
  exit 2
fi
bin=$1
if [[ ! -x $bin ]]; then
  echo "run.sh: $bin is not an executable iamd binary" >&2
  exit 2
fi
IAMD_BIN=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
export IAMD_BIN

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# npm writes node_modules/.package-lock.json on every install: use it as the stamp.
stamp=$here/node_modules/.package-lock.json
if [[ ! -d $here/node_modules || ! -f $stamp || $here/package-lock.json -nt $stamp ]]; then
  echo "run.sh: installing test dependencies (npm ci)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

shopt -s nullglob
files=("$here"/*.test.mjs)
if ((${#files[@]} == 0)); then
  echo "run.sh: no test files in $here" >&2
  exit 1
fi

# Node 20 takes files (a directory argument is not expanded there).
exec node --test --test-concurrency=2 --test-timeout=90000 --test-reporter=spec "${files[@]}"
