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
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Start iamd on a free port (retry if another process takes the port first).
url=
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" && continue
  rm -rf "$work/data"
  mkdir -p "$work/data"
  "$bin" --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/iamd.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
      url="http://127.0.0.1:$port"
      break 2
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
done
[[ -n $url ]] || { tail -20 "$work/iamd.log" >&2 || true; die "iamd did not start"; }
[[ -f $work/data/bootstrap-apikey.json ]] || die "no bootstrap-apikey.json in the data dir"

# Setup through the API with a small node script (JSON in and out, bounded parallelism).
cat >"$work/setup.mjs" <<'EOF'
import fs from 'node:fs';
const [url, bootFile, outDir, nSubjects, perSubject] = process.argv.slice(2);
const boot = JSON.parse(fs.readFileSync(bootFile, 'utf8'));
const account = boot.account_id;
const auth = 'Basic ' + Buffer.from(`apikey:${boot.apikey}`).toString('base64');
const svc = `bench-${Math.random().toString(16).slice(2, 8)}`;

async function call(method, path, body, want) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url + path, {
      method, headers: { Authorization: auth, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (want.includes(res.status)) return text ? JSON.parse(text) : null;
    if ((res.status === 429 || res.status >= 500) && attempt < 3) { await new Promise((r) => setTimeout(r, 200)); continue; }
    throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  }
}
async function pool(n, limit, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    for (;;) { const i = next++; if (i >= n) return; out[i] = await fn(i); }
  }));
  return out;
}

const pdp = await call('POST', '/v1/serviceids', { account_id: account, name: 'bench-pdp', apikey: { name: 'bench-pdp-key' } }, [201]);
const A = (noun, verb) => `${svc}.${noun}.${verb}`;
await call('PUT', `/v1/services/${svc}`, {
  name: svc, display_name: 'Benchmark service', service_type: 'service', pdp_clients: [pdp.iam_id],
  actions: [['thing', 'read'], ['thing', 'write'], ['thing', 'delete'], ['instance', 'view']].map(([n, v]) => ({ id: A(n, v), display_name: `${n} ${v}` })),
  roles: {
    Reader: [A('thing', 'read')], Writer: [A('thing', 'read'), A('thing', 'write')],
    Manager: [A('thing', 'read'), A('thing', 'write'), A('thing', 'delete')],
    Viewer: [A('instance', 'view')], Operator: [A('instance', 'view')], Editor: [A('instance', 'view')], Administrator: [A('instance', 'view')],
  },
  resource_types: ['thing', 'bucket'],
}, [200, 201]);

const t0 = Date.now();
const sids = await pool(Number(nSubjects), 16, (i) => call('POST', '/v1/serviceids', { account_id: account, name: `bench-subject-${i}` }, [201]));
const roles = ['crn:v1:bluemix:public:iam::::serviceRole:Reader', 'crn:v1:bluemix:public:iam::::serviceRole:Writer'];
const per = Number(perSubject);
const total = sids.length * per;
await pool(total, 16, (k) => {
  const s = sids[Math.floor(k / per)];
  const j = k % per;
  const attributes = [{ name: 'accountId', value: account }, { name: 'serviceName', value: svc }];
  if (j < 10) attributes.push({ name: 'serviceInstance', value: `inst-${j}` });
  else attributes.push({ name: 'resourceType', value: 'bucket' }, { name: 'resource', value: `dev-${j}-*`, operator: 'stringMatch' });
  return call('POST', '/v1/policies', {
    type: 'access', subjects: [{ attributes: [{ name: 'iam_id', value: s.iam_id }] }],
    roles: [{ role_id: roles[j % 2] }], resources: [{ attributes }],
  }, [201]);
});
const secs = (Date.now() - t0) / 1000;
fs.writeFileSync(`${outDir}/subjects.txt`, sids.map((s) => s.iam_id).join('\n') + '\n');
fs.writeFileSync(`${outDir}/env.sh`, [
  `svc=${svc}`, `account=${account}`, `pdp_key=${pdp.apikey.apikey}`, `policies=${total}`,
  `setup_seconds=${secs.toFixed(1)}`, `first_subject=${sids[0].iam_id}`,
].join('\n') + '\n');
EOF
node "$work/setup.mjs" "$url" "$work/data/bootstrap-apikey.json" "$work" "$subjects" "$per_subject" \
  || die "setup through the API failed (log: $(tail -3 "$work/iamd.log" | tr '\n' ' '))"
setting() { sed -n "s/^$1=//p" "$work/env.sh"; }
svc=$(setting svc)
account=$(setting account)
pdp_key=$(setting pdp_key)
policies=$(setting policies)
setup_seconds=$(setting setup_seconds)
first_subject=$(setting first_subject)
[[ -n $svc && -n $account && -n $pdp_key && -n $first_subject ]] || die "setup wrote no settings"

json_field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" | head -n 1; }
grant='urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey'
pdp_token=$(curl -fsS -X POST "$url/identity/token" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data "grant_type=$grant&apikey=$pdp_key" | json_field access_token)
[[ -n $pdp_token ]] || die "token exchange for the PDP client failed"

# Sanity: one permit and one deny through the exact request shape wrk sends.
decision() { # decision SUBJECT INSTANCE -> prints the response body
  curl -sS -X POST "$url/v2/authz" -H "Authorization: Bearer $pdp_token" -H 'Content-Type: application/json' \
    --data "[{\"subject\":{\"attributes\":{\"id\":\"$1\"}},\"action\":\"$svc.thing.read\",\"resource\":{\"attributes\":{\"accountId\":\"$account\",\"serviceName\":\"$svc\",\"serviceInstance\":\"$2\"}}}]"
}
decision "$first_subject" inst-0 | grep -q '"permitted"[[:space:]]*:[[:space:]]*true' \
  || die "sanity: expected a permit for inst-0: $(decision "$first_subject" inst-0 | head -c 300)"
decision "$first_subject" inst-none | grep -q '"permitted"[[:space:]]*:[[:space:]]*false' \
  || die "sanity: expected a deny for inst-none: $(decision "$first_subject" inst-none | head -c 300)"

{
  echo 'local subjects = {'
  sed 's/.*/  "&",/' "$work/subjects.txt"
  echo '}'
  cat <<EOF
wrk.method = "POST"
wrk.path = "/v2/authz"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer $pdp_token"
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
} >"$work/authz.lua"

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
total=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
errors=$(awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); print $2 }' "$work/wrk.txt")
socket_errors=$(grep -m1 'Socket errors' "$work/wrk.txt" || true)
rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt")
errors=${errors:-0}
[[ -n $total && -n $rps ]] || { cat "$work/wrk.txt" >&2; die "cannot parse wrk output"; }
decisions_per_s=$(awk -v r="$rps" -v t="$total" -v e="$errors" 'BEGIN { printf "%.1f", (t > 0 ? r * (t - e) / t : 0) }')
server_cpu_us=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$hz" -v t="$total" \
  'BEGIN { if (t > 0) printf "%.1f", (b - a) / hz * 1e6 / t; else print "n/a" }')

# Still answering correctly after the run.
decision "$first_subject" inst-0 | grep -q '"permitted"[[:space:]]*:[[:space:]]*true' || die "after the run: the permit is gone"

echo
printf '%-36s %s\n' "requests:" "$total in ${duration}s (non-2xx: $errors${socket_errors:+; $socket_errors})"
printf '%-36s %s\n' "HTTP decisions/s (2xx):" "$decisions_per_s"
printf '%-36s %s\n' "server CPU per decision (us):" "$server_cpu_us"
echo "(wrk shares the machine's cores with iamd, so this understates what the server alone would reach.)"

kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
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
