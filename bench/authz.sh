#!/usr/bin/env bash
# Decision benchmark: how many /v2/authz decisions per second does iamd answer
# over HTTP with a few thousand policies in the account?
#
#   make build && bench/authz.sh [path-to-iamd]
#
# Builds nothing. Starts iamd (default build/iamd, a release build) on a free
# loopback port with a temporary data dir, then through the API (HTTP Basic
# with the bootstrap API key, so no token churn):
#   - creates a PDP-client service ID with an API key,
#   - registers a service (PUT /v1/services/<name>) whose pdp_clients is it,
#   - creates SUBJECTS service IDs and POLICIES_PER_SUBJECT policies each on
#     that service (default 200 x 10 = 2,000 policies),
# and drives POST /v2/authz (one decision per request, random subject and
# instance, about 5 in 6 permitted) with wrk for a bounded time, using the PDP
# client's own token. Prints decisions/s and the server's CPU per decision,
# then runs build/authz_inproc (the in-process benchmark) if it exists.
#
# Environment: DURATION (seconds, default 10), THREADS (wrk -t, default 2),
# CONNECTIONS (wrk -c, default 32), SUBJECTS (default 200, max 2000),
# POLICIES_PER_SUBJECT (default 10, max 12), IAMD_BIN (instead of the argument),
# INPROC_BIN (default build/authz_inproc).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-${IAMD_BIN:-$repo/build/iamd}}
inproc=${INPROC_BIN:-$repo/build/authz_inproc}
duration=${DURATION:-10}
threads=${THREADS:-2}
connections=${CONNECTIONS:-32}
subjects=${SUBJECTS:-200}
per_subject=${POLICIES_PER_SUBJECT:-10}

die() { echo "bench/authz.sh: $*" >&2; exit 1; }

[[ -x $bin ]] || die "$bin is not an executable (run 'make build' first, or pass the iamd path)"
for tool in wrk curl node; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (scripts/install-deps.sh installs wrk and node)"
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 1 && $duration -le 600 ]] || die "DURATION must be 1..600 seconds"
[[ $threads =~ ^[0-9]+$ && $threads -ge 1 && $threads -le 64 ]] || die "THREADS must be 1..64"
[[ $connections =~ ^[0-9]+$ && $connections -ge $threads && $connections -le 4096 ]] || die "CONNECTIONS must be THREADS..4096"
[[ $subjects =~ ^[0-9]+$ && $subjects -ge 1 && $subjects -le 2000 ]] || die "SUBJECTS must be 1..2000"
[[ $per_subject =~ ^[0-9]+$ && $per_subject -ge 1 && $per_subject -le 12 ]] || die "POLICIES_PER_SUBJECT must be 1..12"

work=$(mktemp -d "${TMPDIR:-/tmp}/iamd-bench-authz.XXXXXX")
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
pid=
cleanup() {
  bench_stop_all
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_start_iamd "$bin" "$work/data" "$work/iamd.log"
url=$BENCH_URL
pid=$BENCH_PID

# Setup through the API (bench/authz-setup.mjs: JSON in and out, bounded parallelism).
bench_authz_fixture "$url" "$work/data/bootstrap-apikey.json" "$work" "$subjects" "$per_subject"
svc=$(bench_setting "$work" svc)
policies=$(bench_setting "$work" policies)
setup_seconds=$(bench_setting "$work" setup_seconds)
pdp_token=$(bench_authz_token "$url" "$work") || exit 1

# Sanity: one permit and one deny through the exact request shape wrk sends.
bench_authz_sanity "$url" "$work" "$pdp_token" || die "sanity check of the decisions failed"
bench_authz_lua "$work" "$pdp_token" "$work/authz.lua"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)

echo "iamd:        $bin (pid $pid, $url, $(nproc 2>/dev/null || echo "?") cores)"
echo "policies:    $policies over $subjects service IDs on service $svc (setup ${setup_seconds}s through the API)"
echo "wrk:         -t$threads -c$connections -d${duration}s POST /v2/authz (1 decision per request, random subject and instance)"
ticks0=$(cpu_ticks)
wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/authz.lua" "$url" >"$work/wrk.txt" 2>&1 \
  || { cat "$work/wrk.txt" >&2; die "wrk failed"; }
ticks1=$(cpu_ticks)
kill -0 "$pid" 2>/dev/null || die "iamd died during the run: $(tail -5 "$work/iamd.log")"

sed -n '/Latency Distribution/,/requests in/p' "$work/wrk.txt"
bench_wrk_parse "$work/wrk.txt"
total=$WRK_TOTAL errors=$WRK_ERRORS socket_errors=$WRK_SOCKET_ERRORS decisions_per_s=$WRK_OK_RPS
server_cpu_us=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$hz" -v t="$total" \
  'BEGIN { if (t > 0) printf "%.1f", (b - a) / hz * 1e6 / t; else print "n/a" }')

# Still answering correctly after the run.
bench_authz_sanity "$url" "$work" "$pdp_token" || die "after the run: the decisions changed"

echo
printf '%-36s %s\n' "requests:" "$total in ${duration}s (non-2xx: $errors${socket_errors:+; $socket_errors})"
printf '%-36s %s\n' "HTTP decisions/s (2xx):" "$decisions_per_s"
printf '%-36s %s\n' "server CPU per decision (us):" "$server_cpu_us"
echo "(wrk shares the machine's cores with iamd, so this understates what the server alone would reach.)"

bench_stop_all
pid=

if [[ -x $inproc ]]; then
  echo
  echo "in-process: $inproc"
  "$inproc" || die "$inproc failed"
else
  echo
  echo "in-process: $inproc not built (skipped)"
fi

if [[ $errors != 0 ]]; then
  echo "bench/authz.sh: $errors responses were not 2xx" >&2
  exit 1
fi
