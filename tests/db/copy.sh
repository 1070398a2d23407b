#!/usr/bin/env bash
# End-to-end test of `iamd db copy` with the real iamd binary.
#   tests/db/copy.sh <path-to-iamd>
#
# 1. an iamd on SQLite bootstraps; the test creates a service ID with an API
#    key and a policy, gets tokens, stops iamd;
# 2. `iamd db copy` copies the SQLite file into the target: a PostgreSQL
#    database when IAMD_TEST_DATABASE_URL_BASE is set (scripts/pg-test-cluster.sh
#    run sets it; cmake/postgres_tests.cmake registers db/copy-postgres), else
#    another SQLite file (db/copy);
# 3. a second copy into the now non-empty target is refused, --replace too (the audit trail is append-only);
# 4. a new iamd on the target, with the source's secrets copied into a fresh
#    data dir, does not bootstrap again, accepts the original API keys, accepts
#    a token signed before the copy, and sees the service ID and its policy;
# 5. the reverse direction: the target is copied back into a new SQLite file.
# A password in the PostgreSQL URL must never appear in the output.
# Needs curl and jq.
set -euo pipefail

if [[ $# -lt 1 || ! -x ${1:-} ]]; then
  echo "usage: $0 <path-to-iamd>" >&2
  exit 2
fi
IAMD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/iamd-db-copy-XXXXXX")
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- [${SECONDS}s] $*"; }

# Starts iamd with the given arguments, logging to $work/$name.log; sets pid and base.
start_iamd() {
  local name=$1
  shift
  "$IAMD" --listen 127.0.0.1:0 "$@" >"$work/$name.log" 2>&1 &
  pid=$!
  local port=""
  for _ in $(seq 1 200); do
    port=$(grep -o '(port [0-9]*' "$work/$name.log" 2>/dev/null | grep -o '[0-9]*' | head -n1 || true)
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; fail "iamd ($name) exited"; }
    sleep 0.1
  done
  [[ -n $port ]] || { cat "$work/$name.log" >&2; fail "iamd ($name) did not start"; }
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/healthz") == 200 ]] && return 0
    sleep 0.1
  done
  fail "iamd ($name) is not healthy"
}

stop_iamd() {
  kill -TERM "$pid"
  wait "$pid" || fail "iamd did not stop cleanly"
  pid=""
}

token_for() { # API key -> access token
  curl -sf -X POST "$base/identity/token" -d grant_type=urn:ibm:params:oauth:grant-type:apikey \
    --data-urlencode "apikey=$1" | jq -er .access_token
}

# Runs `iamd db copy ...`, output in $work/copy.out; returns its status.
db_copy() {
  local status=0
  "$IAMD" db copy "$@" >"$work/copy.out" 2>&1 || status=$?
  if [[ -n ${secret:-} ]] && grep -q -- "$secret" "$work/copy.out"; then
    cat "$work/copy.out" >&2
    fail "the output shows the PostgreSQL password"
  fi
  return "$status"
}

# --- the source ---
step "iamd on SQLite: bootstrap, a service ID with a key and a policy"
start_iamd source --data-dir "$work/source"
admin_key=$(jq -er .apikey "$work/source/bootstrap-apikey.json")
account=$(jq -er .account_id "$work/source/bootstrap-apikey.json")
token=$(token_for "$admin_key")
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
sid=$(curl -sf -X POST "$base/v1/serviceids" "${auth[@]}" \
  -d "{\"account_id\":\"$account\",\"name\":\"billing-app\"}" | jq -er .iam_id)
app_key=$(curl -sf -X POST "$base/v1/apikeys" "${auth[@]}" \
  -d "{\"name\":\"billing-key\",\"iam_id\":\"$sid\"}" | jq -er .apikey)
policy=$(curl -sf -X POST "$base/v1/policies" "${auth[@]}" -d "{\"type\":\"access\",
  \"subjects\":[{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"$sid\"}]}],
  \"roles\":[{\"role_id\":\"crn:v1:bluemix:public:iam::::role:Viewer\"}],
  \"resources\":[{\"attributes\":[{\"name\":\"accountId\",\"value\":\"$account\"},
                                  {\"name\":\"serviceName\",\"value\":\"iam-identity\"}]}]}" | jq -er .id)
token_for "$app_key" >/dev/null
stop_iamd

# --- the target ---
if [[ -n ${IAMD_TEST_DATABASE_URL_BASE:-} ]]; then
  pg_bin=${IAMD_PG_BIN:+$IAMD_PG_BIN/}
  "${pg_bin}createdb" --maintenance-db="$IAMD_TEST_DATABASE_URL_BASE" iamd_copy_target
  secret="s3cret-$RANDOM$RANDOM"
  # postgresql://postgres@host:port/postgres -> postgresql://postgres:SECRET@host:port/iamd_copy_target
  # (the test cluster trusts loopback: the password is never asked for, but must never be printed).
  target=$(sed -e "s|^\(postgres[a-z]*://[^@:/]*\)@|\1:$secret@|" -e 's|/[^/?]*\(?.*\)\{0,1\}$|/iamd_copy_target\1|' \
    <<<"$IAMD_TEST_DATABASE_URL_BASE")
  [[ $target == *"$secret"* ]] || fail "could not put a password into $IAMD_TEST_DATABASE_URL_BASE"
  target_label="--to"
else
  target="sqlite:$work/target.db"
  target_label=$target
fi

step "copy into an empty target"
db_copy --from "sqlite:$work/source/iamd.db" --to "$target" || { cat "$work/copy.out" >&2; fail "the copy failed"; }
cat "$work/copy.out"
grep -Eq '^apikeys +2 +2$' "$work/copy.out" || fail "no apikeys line with 2 and 2"
grep -Eq '^policies +1 +1$' "$work/copy.out" || fail "no policies line with 1 and 1"
grep -q -- "to $target_label;" "$work/copy.out" || fail "the summary does not name the target as $target_label"

step "a second copy into the non-empty target is refused"
if db_copy --from "sqlite:$work/source/iamd.db" --to "$target"; then fail "a copy into a non-empty target succeeded"; fi
grep -q 'not empty' "$work/copy.out" || { cat "$work/copy.out" >&2; fail "no 'not empty' message"; }
grep -q -- '--replace' "$work/copy.out" || fail "the refusal does not mention --replace"

step "--replace is refused while the target holds audit records (append-only; the target from IAMD_COPY_TO)"
if IAMD_COPY_TO=$target db_copy --from "sqlite:$work/source/iamd.db" --replace; then
  fail "--replace emptied an audit trail"
fi
grep -q 'append-only' "$work/copy.out" || { cat "$work/copy.out" >&2; fail "no 'append-only' message"; }

# --- a node on the target ---
step "iamd on the target with the source's secrets"
mkdir -m 0700 "$work/target-node"
cp -a "$work/source/secrets" "$work/target-node/secrets"
start_iamd target --data-dir "$work/target-node" --database "$target"
[[ ! -e $work/target-node/bootstrap-apikey.json ]] || fail "iamd bootstrapped the copied database again"
# The audit trail came along whole: its chain verifies on the target with the same pepper.
"$IAMD" audit verify --data-dir "$work/target-node" --database "$target" >"$work/verify.out" 2>&1 \
  || { cat "$work/verify.out" >&2; fail "the copied audit trail does not verify"; }
if grep -q 'first start' "$work/target.log"; then fail "iamd announced a first start"; fi
if [[ -n ${secret:-} ]] && grep -q -- "$secret" "$work/target.log"; then fail "iamd logged the password"; fi

# A token signed before the copy verifies: the signing keys came along.
code=$(curl -s -o "$work/list.json" -w '%{http_code}' "$base/v1/serviceids?account_id=$account" \
  -H "Authorization: Bearer $token")
[[ $code == 200 ]] || fail "the token signed before the copy got $code"
jq -e --arg sid "$sid" '.serviceids | map(.iam_id) | index($sid) != null' "$work/list.json" >/dev/null \
  || fail "the service ID is missing"
# The original API keys authenticate: their hashes came along and the pepper is the same.
new_admin_token=$(token_for "$admin_key") || fail "the bootstrap API key is refused"
token_for "$app_key" >/dev/null || fail "the service ID's API key is refused"
curl -sf "$base/v1/policies?account_id=$account&iam_id=$sid" -H "Authorization: Bearer $new_admin_token" \
  | jq -e --arg id "$policy" '.policies | map(.id) | index($id) != null' >/dev/null || fail "the policy is missing"
stop_iamd

# --- the reverse direction ---
step "copy the target back into a new SQLite file"
db_copy --from "$target" --to "sqlite:$work/back.db" || { cat "$work/copy.out" >&2; fail "the copy back failed"; }
grep -Eq '^apikeys +2 +2$' "$work/copy.out" || fail "the copy back has no apikeys line with 2 and 2"

step "bad usage"
if "$IAMD" db copy --from "sqlite:$work/missing.db" --to "sqlite:$work/x.db" >"$work/copy.out" 2>&1; then
  fail "a missing source was accepted"
fi
grep -q 'does not exist' "$work/copy.out" || fail "no message for a missing source"
[[ ! -e $work/missing.db ]] || fail "the missing source was created"
status=0
"$IAMD" db copy --to "sqlite:$work/x.db" >/dev/null 2>&1 || status=$?
[[ $status == 2 ]] || fail "a copy without --from exited $status, not 2"
status=0
"$IAMD" db copy --from "sqlite:$work/source/iamd.db" 'postgresql://u:hunter2-stray@127.0.0.1:1/db' \
  >"$work/copy.out" 2>&1 || status=$?
[[ $status == 2 ]] || fail "a stray location exited $status, not 2"
if grep -q hunter2-stray "$work/copy.out"; then fail "a stray URL's password was echoed"; fi
grep -q 'iamd db copy --from LOCATION --to LOCATION' <<<"$("$IAMD" db --help)" || fail "iamd db --help"
grep -q 'iamd db copy' <<<"$("$IAMD" --help)" || fail "iamd --help does not mention iamd db copy"
echo "PASS"
