#!/usr/bin/env bash
# Token issuance benchmark: how close does POST /identity/token get to the
# machine's RSA-2048 signing rate?
#
#   make build && bench/token.sh [path-to-iamd]
#
# Builds nothing. Starts iamd (default build/iamd, a release build) on a free
# loopback port with a temporary data dir, creates a service ID with an API key
# through the API using the bootstrap key, drives POST /identity/token with wrk
# for a bounded time, then runs `openssl speed rsa2048` on the same cores and
# prints tokens/s, signatures/s and their ratio. Stops the server at the end.
#
# Environment: DURATION (seconds, default 10), THREADS (wrk -t, default 2),
# CONNECTIONS (wrk -c, default 32), SPEED_SECONDS (openssl, default 3),
# MULTI (openssl speed -multi, default 2), IAMD_BIN (instead of the argument).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-${IAMD_BIN:-$repo/build/iamd}}
duration=${DURATION:-10}
threads=${THREADS:-2}
connections=${CONNECTIONS:-32}
speed_seconds=${SPEED_SECONDS:-3}
cores=${MULTI:-2} # openssl speed -multi: the processes signing in parallel (the machine has 2 cores)

die() { echo "bench/token.sh: $*" >&2; exit 1; }

[[ -x $bin ]] || die "$bin is not an executable (run 'make build' first, or pass the iamd path)"
for tool in wrk curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (scripts/install-deps.sh installs wrk)"
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 1 && $duration -le 600 ]] || die "DURATION must be 1..600 seconds"

work=$(mktemp -d "${TMPDIR:-/tmp}/iamd-bench.XXXXXX")
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

svc_key=$(bench_token_fixture "$url" "$work/data/bootstrap-apikey.json") || exit 1
bench_token_lua "$svc_key" "$work/token.lua"

cpu_ticks() { # utime + stime of the server, in clock ticks
  awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0
}
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)

echo "iamd:        $bin (pid $pid, $url, $(nproc 2>/dev/null || echo "?") cores)"
echo "wrk:         -t$threads -c$connections -d${duration}s POST /identity/token (service ID API key, RS256)"
ticks0=$(cpu_ticks)
wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/token.lua" "$url" >"$work/wrk.txt" 2>&1 \
  || { cat "$work/wrk.txt" >&2; die "wrk failed"; }
ticks1=$(cpu_ticks)
kill -0 "$pid" 2>/dev/null || die "iamd died during the run: $(tail -5 "$work/iamd.log")"

sed -n '/Latency Distribution/,/requests in/p' "$work/wrk.txt"
bench_wrk_parse "$work/wrk.txt"
total=$WRK_TOTAL errors=$WRK_ERRORS socket_errors=$WRK_SOCKET_ERRORS tokens_per_s=$WRK_OK_RPS
server_cpu_us=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$hz" -v t="$total" \
  'BEGIN { if (t > 0) printf "%.0f", (b - a) / hz * 1e6 / t; else print "n/a" }')

# Stop the server before measuring the CPU's own signing rate.
bench_stop_all
pid=

echo
echo "openssl speed -seconds $speed_seconds -multi $cores rsa2048"
openssl speed -seconds "$speed_seconds" -multi "$cores" rsa2048 >"$work/speed.txt" 2>/dev/null \
  || { cat "$work/speed.txt" >&2; die "openssl speed failed"; }
# The header row names the columns ("sign verify sign/s verify/s"); the rsa 2048 row has the same
# columns at its end (OpenSSL 3.0: "rsa 2048 bits 0.000298s 0.000015s   3354.3  66895.0").
sign_per_s=$(awk '
  /sign\/s/ { for (i = 1; i <= NF; i++) if ($i == "sign/s") col = i; hdr = NF; next }
  /^rsa +2048 +bits/ && col { off = NF - hdr; print $(col + off); exit }' "$work/speed.txt")
[[ -n $sign_per_s ]] || { cat "$work/speed.txt" >&2; die "cannot parse openssl speed output"; }
sign_cpu_us=$(awk -v s="$sign_per_s" -v c="$cores" 'BEGIN { printf "%.0f", c * 1e6 / s }')
ratio=$(awk -v t="$tokens_per_s" -v s="$sign_per_s" 'BEGIN { printf "%.1f", 100 * t / s }')

echo
printf '%-34s %s\n' "requests:" "$total in ${duration}s (non-2xx: $errors${socket_errors:+; $socket_errors})"
printf '%-34s %s\n' "tokens/s (2xx):" "$tokens_per_s"
printf '%-34s %s\n' "RSA-2048 sign/s ($cores processes):" "$sign_per_s"
printf '%-34s %s%%\n' "tokens/s / sign/s:" "$ratio"
printf '%-34s %s\n' "server CPU per token (us):" "$server_cpu_us"
printf '%-34s %s\n' "RSA-2048 sign CPU (us):" "$sign_cpu_us"
echo "(wrk shares the same $cores cores with iamd, so the ratio understates what the server alone would reach.)"
if [[ $errors != 0 ]]; then
  echo "bench/token.sh: $errors responses were not 2xx" >&2
  exit 1
fi
