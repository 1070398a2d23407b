#!/usr/bin/env bash
# Runs the iamctl end-to-end tests: the real iamctl binary against a real iamd
# (each test file starts its own on a free port with a temporary data dir).
#   tests/cli/run.sh <path-to-iamctl> <path-to-iamd>
# Needs node (>= 20), curl and jq; no npm packages.
set -euo pipefail

if [[ $# -lt 2 || -z ${1:-} || -z ${2:-} ]]; then
  echo "usage: $0 <path-to-iamctl> <path-to-iamd>" >&2
  exit 2
fi
for bin in "$1" "$2"; do
  if [[ ! -x $bin ]]; then
    echo "run.sh: $bin is not an executable" >&2
    exit 2
  fi
done
IAMCTL_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
IAMD_BIN=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export IAMCTL_BIN IAMD_BIN

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
shopt -s nullglob
files=("$here"/*.test.mjs)
if ((${#files[@]} == 0)); then
  echo "run.sh: no test files in $here" >&2
  exit 1
fi
exec node --test --test-concurrency=2 --test-timeout=180000 --test-reporter=spec "${files[@]}"
