# shellcheck shell=bash disable=SC2034  # sourced: sets globals its callers read
# bench/lib.sh: what the benchmarks share (sourced by token.sh, authz.sh and cluster.sh).
#
#   bench_start_iamd BIN DATADIR LOG [IAMD-ARGS...]   start iamd on a free loopback port; sets
#                                                    BENCH_URL and BENCH_PID (also kept in BENCH_PIDS)
#   bench_stop_iamd PID                              SIGTERM, SIGKILL after 5 s
#   bench_stop_all                                   every iamd started here (for an EXIT trap)
#   bench_token_fixture URL BOOTFILE                 a service ID with an API key; prints the key
#   bench_token_lua KEY FILE                         the wrk script for POST /identity/token
#   bench_authz_fixture URL BOOTFILE DIR SUBJECTS PER  PDP client, service, SUBJECTS service IDs with
#                                                    PER policies each (bench/authz-setup.mjs); writes
#                                                    DIR/env.sh and DIR/subjects.txt
#   bench_authz_token URL DIR                        prints the PDP client's access token
#   bench_authz_sanity URL DIR TOKEN                 one permit and one deny through the benchmarked shape
#   bench_authz_lua DIR TOKEN FILE                   the wrk script for POST /v2/authz
#   bench_wrk_parse FILE                             sets WRK_TOTAL, WRK_ERRORS, WRK_RPS, WRK_OK_RPS,
#                                                    WRK_P50_MS, WRK_P99_MS, WRK_SOCKET_ERRORS
#
# The caller defines die() (message to stderr, exit 1) before calling these.

BENCH_GRANT='urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey'
BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_PIDS=()

bench_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bench_start_iamd() {
  local bin=$1 data=$2 log=$3
  shift 3
  BENCH_URL=
  BENCH_PID=
  local port pid
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    bench_port_in_use "$port" && continue
    rm -rf "$data"
    mkdir -p "$data"
    "$bin" --listen "127.0.0.1:$port" --data-dir "$data" "$@" >"$log" 2>&1 &
    pid=$!
    BENCH_PIDS+=("$pid")
    for _ in $(seq 300); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
        BENCH_URL="http://127.0.0.1:$port"
        BENCH_PID=$pid
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    bench_stop_iamd "$pid"
  done
  tail -20 "$log" >&2 || true
  die "iamd did not start"
}

bench_stop_iamd() {
  local pid=$1
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

bench_stop_all() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do bench_stop_iamd "$pid"; done
  BENCH_PIDS=()
}

bench_json_field() { # bench_json_field NAME < json: the first "NAME":"value" string
  sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" | head -n 1
}

bench_token_fixture() {
  local url=$1 boot_file=$2
  [[ -f $boot_file ]] || die "no bootstrap-apikey.json in the data dir"
  local boot_key account admin_token created svc_key status
  boot_key=$(tr -d '\n' <"$boot_file" | bench_json_field apikey)
  account=$(tr -d '\n' <"$boot_file" | bench_json_field account_id)
  [[ -n $boot_key && -n $account ]] || die "cannot read the bootstrap key file"
  admin_token=$(curl -fsS -X POST "$url/identity/token" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "grant_type=$BENCH_GRANT&apikey=$boot_key" | bench_json_field access_token)
  [[ -n $admin_token ]] || die "token exchange with the bootstrap key failed"
  created=$(curl -fsS -X POST "$url/v1/serviceids" \
    -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
    --data "{\"account_id\":\"$account\",\"name\":\"bench-token\",\"apikey\":{\"name\":\"bench-key\"}}")
  svc_key=$(printf '%s' "$created" | grep -o '"apikey"[[:space:]]*:[[:space:]]*"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | head -n 1)
  [[ -n $svc_key ]] || die "creating the service ID with a key failed: $created"
  # Sanity: the benchmarked request succeeds.
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/identity/token" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data "grant_type=$BENCH_GRANT&apikey=$svc_key")
  [[ $status == 200 ]] || die "service ID token exchange returned $status"
  printf '%s\n' "$svc_key"
}

bench_token_lua() {
  local key=$1 file=$2
  cat >"$file" <<EOF
wrk.method = "POST"
wrk.path = "/identity/token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.body = "grant_type=$BENCH_GRANT&apikey=$key&response_type=cloud_iam"
EOF
}

bench_authz_fixture() {
  local url=$1 boot_file=$2 dir=$3 subjects=$4 per_subject=$5
  [[ -f $boot_file ]] || die "no bootstrap-apikey.json in the data dir"
  node "$BENCH_LIB_DIR/authz-setup.mjs" "$url" "$boot_file" "$dir" "$subjects" "$per_subject" \
    || die "setup through the API failed"
}

# A value from DIR/env.sh (written by bench/authz-setup.mjs).
bench_setting() { sed -n "s/^$2=//p" "$1/env.sh"; }

bench_authz_token() {
  local url=$1 dir=$2 pdp_key token
  pdp_key=$(bench_setting "$dir" pdp_key)
  [[ -n $pdp_key ]] || die "setup wrote no settings"
  token=$(curl -fsS -X POST "$url/identity/token" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "grant_type=$BENCH_GRANT&apikey=$pdp_key" | bench_json_field access_token)
  [[ -n $token ]] || die "token exchange for the PDP client failed"
  printf '%s\n' "$token"
}

# bench_authz_decision URL DIR TOKEN SUBJECT INSTANCE: prints the response body.
bench_authz_decision() {
  local svc account
  svc=$(bench_setting "$2" svc)
  account=$(bench_setting "$2" account)
  curl -sS -X POST "$1/v2/authz" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
    --data "[{\"subject\":{\"attributes\":{\"id\":\"$4\"}},\"action\":\"$svc.thing.read\",\"resource\":{\"attributes\":{\"accountId\":\"$account\",\"serviceName\":\"$svc\",\"serviceInstance\":\"$5\"}}}]"
}

# Returns non-zero (and prints what it got) unless inst-0 is permitted and inst-none denied.
bench_authz_sanity() {
  local url=$1 dir=$2 token=$3 subject
  subject=$(bench_setting "$dir" first_subject)
  local permit deny
  permit=$(bench_authz_decision "$url" "$dir" "$token" "$subject" inst-0)
  deny=$(bench_authz_decision "$url" "$dir" "$token" "$subject" inst-none)
  if ! grep -q '"permitted"[[:space:]]*:[[:space:]]*true' <<<"$permit"; then
    echo "expected a permit for inst-0: ${permit:0:300}" >&2
    return 1
  fi
  if ! grep -q '"permitted"[[:space:]]*:[[:space:]]*false' <<<"$deny"; then
    echo "expected a deny for inst-none: ${deny:0:300}" >&2
    return 1
  fi
}

bench_authz_lua() {
  local dir=$1 token=$2 file=$3 svc account
  svc=$(bench_setting "$dir" svc)
  account=$(bench_setting "$dir" account)
  {
    echo 'local subjects = {'
    sed 's/.*/  "&",/' "$dir/subjects.txt"
    echo '}'
    cat <<EOF
wrk.method = "POST"
wrk.path = "/v2/authz"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
local fmt = '[{"subject":{"attributes":{"id":"%s"}},"action":"$svc.thing.read","resource":{"attributes":{"accountId":"$account","serviceName":"$svc","serviceInstance":"inst-%d"}}}]'
local n = #subjects
init = function(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
request = function()
  local body = string.format(fmt, subjects[math.random(n)], math.random(0, 11))
  return wrk.format(nil, nil, nil, body)
end
EOF
  } >"$file"
}

# wrk's latency with its unit (850.00us, 1.20ms, 1.05s) in milliseconds.
bench_to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.2f", n }'
}

bench_wrk_parse() {
  local file=$1
  WRK_TOTAL=$(awk '/requests in/ { print $1 }' "$file")
  WRK_ERRORS=$(awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); print $2 }' "$file")
  WRK_ERRORS=${WRK_ERRORS:-0}
  WRK_SOCKET_ERRORS=$(grep -m1 'Socket errors' "$file" || true)
  WRK_RPS=$(awk '/Requests\/sec/ { print $2 }' "$file")
  [[ -n $WRK_TOTAL && -n $WRK_RPS ]] || { cat "$file" >&2; die "cannot parse wrk output"; }
  WRK_OK_RPS=$(awk -v r="$WRK_RPS" -v t="$WRK_TOTAL" -v e="$WRK_ERRORS" 'BEGIN { printf "%.1f", (t > 0 ? r * (t - e) / t : 0) }')
  WRK_P50_MS=$(bench_to_ms "$(awk '$1 == "50%" { print $2 }' "$file")")
  WRK_P99_MS=$(bench_to_ms "$(awk '$1 == "99%" { print $2 }' "$file")")
}
