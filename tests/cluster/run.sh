#!/usr/bin/env bash
# Runs the multi-node tests (tests/cluster/cluster.test.mjs) against an iamd binary.
#   tests/cluster/run.sh <path-to-iamd>
# The suite starts its own throwaway PostgreSQL cluster (scripts/pg-test-cluster.sh)
# and three iamd nodes on one database, and removes everything when done. It needs
# PostgreSQL's server programs (Debian's postgresql) and node; no npm packages.
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
exec node --test --test-timeout=180000 --test-reporter=spec "$here/cluster.test.mjs"
