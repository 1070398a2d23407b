#!/usr/bin/env bash
# Runs the black-box API tests against iamd on PostgreSQL.
#   tests/api/run-postgres.sh <path-to-iamd>
# Starts a throwaway PostgreSQL cluster (scripts/pg-test-cluster.sh: initdb in
# a temporary directory, a free loopback port), runs tests/api/run.sh with
# IAMD_TEST_DATABASE_URL_BASE set to it, so every iamd the tests start gets a
# fresh database of its own (tests/api/lib/server.mjs), then stops the cluster
# and removes it, whatever the outcome. Exits with the suite's status.
set -euo pipefail

if [[ $# -lt 1 || -z ${1:-} ]]; then
  echo "usage: $0 <path-to-iamd>" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$here/../../scripts/pg-test-cluster.sh" run "$here/run.sh" "$@"
