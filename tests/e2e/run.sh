#!/usr/bin/env bash
# Runs the console's end-to-end tests: a real iamd, Debian's Chromium driven
# by playwright-core, axe-core on every page, screenshots into
# $IAMD_TEST_OUTPUT (default <repo>/test-output/e2e).
#   tests/e2e/run.sh <path-to-iamd>
# Installs the pinned npm dependencies (npm ci) when node_modules is missing or
# older than package-lock.json. IAMD_CHROMIUM overrides /usr/bin/chromium.
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

chromium=${IAMD_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium ]]; then
  echo "run.sh: $chromium is missing (apt-get install chromium; scripts/install-deps.sh does it)" >&2
  exit 1
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export IAMD_TEST_OUTPUT=${IAMD_TEST_OUTPUT:-$repo/test-output/e2e}
mkdir -p "$IAMD_TEST_OUTPUT"

# npm writes node_modules/.package-lock.json on every install: use it as the stamp.
stamp=$here/node_modules/.package-lock.json
if [[ ! -d $here/node_modules || ! -f $stamp || $here/package-lock.json -nt $stamp ]]; then
  echo "run.sh: installing test dependencies (npm ci)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Two files in parallel: each starts its own iamd and Chromium.
exec node --test --test-concurrency=2 --test-timeout=120000 --test-reporter=spec "$here"/*.test.mjs
