#!/usr/bin/env bash
# Cluster benchmark: token issuance (POST /identity/token, API-key grant) and
# decisions (POST /v2/authz) on
#   1. one node on SQLite,
#   2. one node on PostgreSQL,
#   3. two nodes on one PostgreSQL database (wrk against both at once, summed),
# each a bounded wrk run on loopback, printed as one table.
#
#   make build && bench/cluster.sh [path-to-iamd]
#
# Builds nothing. Uses the fixtures and wrk scripts of bench/token.sh and
# bench/authz.sh (bench/lib.sh, bench/authz-setup.mjs). PostgreSQL is a
# throwaway cluster (scripts/pg-test-cluster.sh: fsync and synchronous_commit
# off, which the token and decision paths do not depend on: they write nothing
# per request). The nodes share a pepper and KEK (IAMD_PEPPER, IAMD_KEK) and a
# --public-url, so a token from one node is accepted by the other.
#
# Environment: DURATION (seconds per run, default 10), THREADS (wrk threads in
# all, default 2), CONNECTIONS (wrk connections in all, default 32; split
# between the nodes), SUBJECTS (default 100), POLICIES_PER_SUBJECT (default 10),
# CONFIGS (default "sqlite pg1 pg2"), IAMD_BIN (instead of the argument).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-${IAMD_BIN:-$repo/build/iamd}}
duration=${DURATION:-10}
threads=${THREADS:-2}
connections=${CONNECTIONS:-32}
subjects=${SUBJECTS:-100}
per_subject=${POLICIES_PER_SUBJECT:-10}
configs=${CONFIGS:-sqlite pg1 pg2}
pg_script=$repo/scripts/pg-test-cluster.sh

die() { echo "bench/cluster.sh: $*" >&2; exit 1; }

[[ -x $bin ]] || die "$bin is not an executable (run 'make build' first, or pass the iamd path)"
for tool in wrk curl node openssl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (scripts/install-deps.sh installs wrk and node)"
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 1 && $duration -le 600 ]] || die "DURATION must be 1..600 seconds"
[[ $threads =~ ^[0-9]+$ && $threads -ge 2 && $threads -le 64 ]] || die "THREADS must be 2..64 (split between two nodes)"
[[ $connections =~ ^[0-9]+$ && $connections -ge $threads && $connections -le 4096 ]] || die "CONNECTIONS must be THREADS..4096"
[[ $subjects =~ ^[0-9]+$ && $subjects -ge 1 && $subjects -le 2000 ]] || die "SUBJECTS must be 1..2000"
[[ $per_subject =~ ^[0-9]+$ && $per_subject -ge 1 && $per_subject -le 12 ]] || die "POLICIES_PER_SUBJECT must be 1..12"
for config in $configs; do
  [[ $config =~ ^(sqlite|pg1|pg2)$ ]] || die "CONFIGS: unknown configuration $config (sqlite, pg1, pg2)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/iamd-bench-cluster.XXXXXX")
pg_dir=
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh"
cleanup() {
  bench_stop_all
  [[ -n $pg_dir ]] && "$pg_script" stop "$pg_dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every node of a configuration: the same secrets and issuer.
IAMD_PEPPER=$(openssl rand -hex 32)
IAMD_KEK=$(openssl rand -hex 32)
export IAMD_PEPPER IAMD_KEK
public_url=http://iam.bench.test

pg_url=
pg_start() { # the throwaway cluster, started once (in this shell: the EXIT trap stops it)
  [[ -z $pg_url ]] || return 0
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/iamd-bench-pg.XXXXXX")
  rmdir "$pg_dir" # pg-test-cluster.sh wants an absent or empty directory it can own
  pg_url=$("$pg_script" start "$pg_dir") || die "cannot start PostgreSQL"
}
pg_database() { # pg_database NAME: creates it on the cluster, prints its URL
  local psql=psql
  for candidate in /usr/lib/postgresql/*/bin/psql; do [[ -x $candidate ]] && psql=$candidate; done
  "$psql" --no-psqlrc -q -d "$pg_url" -c "CREATE DATABASE $1" || die "cannot create database $1"
  printf '%s\n' "${pg_url%/postgres}/$1"
}

# run_wrk LUA OUT URL...: one wrk per node at the same time, the threads and connections split between them.
# Sets ROW_RPS (2xx requests/s, summed), ROW_P50 / ROW_P99 (the worst node's), ROW_ERRORS (non-2xx, summed).
run_wrk() {
  local lua=$1 out=$2
  shift 2
  local count=$# i=0 url pids=()
  local t=$((threads / count)) c=$((connections / count))
  for url in "$@"; do
    wrk -t"$t" -c"$c" -d"${duration}s" --latency -s "$lua" "$url" >"$out.$i" 2>&1 &
    pids+=($!)
    i=$((i + 1))
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { cat "$out.$i" >&2; die "wrk failed"; }
  done
  ROW_RPS=0 ROW_P50=0 ROW_P99=0 ROW_ERRORS=0
  for ((i = 0; i < count; i++)); do
    bench_wrk_parse "$out.$i"
    ROW_RPS=$(awk -v a="$ROW_RPS" -v b="$WRK_OK_RPS" 'BEGIN { printf "%.1f", a + b }')
    ROW_P50=$(awk -v a="$ROW_P50" -v b="$WRK_P50_MS" 'BEGIN { printf "%.2f", (b > a ? b : a) }')
    ROW_P99=$(awk -v a="$ROW_P99" -v b="$WRK_P99_MS" 'BEGIN { printf "%.2f", (b > a ? b : a) }')
    ROW_ERRORS=$((ROW_ERRORS + WRK_ERRORS))
  done
}

rows=()
add_row() { rows+=("$(printf '%-24s %-10s %12s %9s %9s %8s' "$1" "$2" "$ROW_RPS" "$ROW_P50" "$ROW_P99" "$ROW_ERRORS")"); }

bench_config() {
  local config=$1 label nodes database_args=()
  [[ $config == sqlite ]] || pg_start
  case $config in
    sqlite) label="1 node, SQLite" nodes=1 ;;
    pg1) label="1 node, PostgreSQL" nodes=1 database_args=(--database "$(pg_database iamd_bench_one)") ;;
    pg2) label="2 nodes, PostgreSQL" nodes=2 database_args=(--database "$(pg_database iamd_bench_two)") ;;
  esac
  local dir=$work/$config urls=() i
  mkdir -p "$dir"
  for ((i = 1; i <= nodes; i++)); do
    bench_start_iamd "$bin" "$dir/data$i" "$dir/iamd$i.log" --public-url "$public_url" "${database_args[@]}"
    urls+=("$BENCH_URL")
  done
  echo "== $label: ${urls[*]}" >&2

  local svc_key
  svc_key=$(bench_token_fixture "${urls[0]}" "$dir/data1/bootstrap-apikey.json") || exit 1
  bench_token_lua "$svc_key" "$dir/token.lua"
  bench_authz_fixture "${urls[0]}" "$dir/data1/bootstrap-apikey.json" "$dir" "$subjects" "$per_subject"
  local pdp_token
  pdp_token=$(bench_authz_token "${urls[0]}" "$dir") || exit 1
  # Every node decides the same (the others pick the policies up within the refresh interval).
  local url tries
  for url in "${urls[@]}"; do
    for tries in $(seq 30); do
      bench_authz_sanity "$url" "$dir" "$pdp_token" 2>/dev/null && break
      ((tries < 30)) || { bench_authz_sanity "$url" "$dir" "$pdp_token"; die "decisions on $url are wrong"; }
      sleep 0.2
    done
  done
  bench_authz_lua "$dir" "$pdp_token" "$dir/authz.lua"
  echo "   fixture: $(bench_setting "$dir" policies) policies in $(bench_setting "$dir" setup_seconds)s through the API" >&2

  run_wrk "$dir/token.lua" "$dir/wrk-token" "${urls[@]}"
  add_row "$label" token
  run_wrk "$dir/authz.lua" "$dir/wrk-authz" "${urls[@]}"
  add_row "$label" decision
  for url in "${urls[@]}"; do
    curl -fsS -o /dev/null "$url/healthz" || die "a node of '$label' died during the runs"
  done
  bench_stop_all
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
for config in $configs; do bench_config "$config"; done

echo
echo "iamd $bin; $(nproc 2>/dev/null || echo "?") cores shared by iamd, PostgreSQL and wrk; ${duration}s per run,"
echo "wrk -t$threads -c$connections in all (split between the nodes); $((subjects * per_subject)) policies for the decisions;"
echo "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")"
printf '%-24s %-10s %12s %9s %9s %8s\n' configuration workload 'requests/s' 'p50 ms' 'p99 ms' 'non-2xx'
printf '%s\n' "${rows[@]}"
echo "(requests/s: 2xx answers, summed over the nodes; p50/p99: the slower node's.)"
for row in "${rows[@]}"; do
  [[ ${row##* } == 0 ]] || die "some answers were not 2xx"
done
