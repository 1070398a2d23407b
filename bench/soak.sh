#!/usr/bin/env bash
# Soak test: a bounded mixed load at 200 concurrent connections against a release iamd, to show
# that it keeps answering without errors and without its memory growing.
#
#   bench/soak.sh [path-to-iamd]            # DURATION=60 by default
#   DURATION=20 bench/soak.sh               # a short run
#
# Uses build/iamd (a release build, RelWithDebInfo as `make build` makes it); builds it first
# when it is missing. Starts iamd on a free loopback port with a temporary data dir, sets up
# through the API (bootstrap key): KEYS service IDs with an API key each, a registered service
# whose PDP client is one of them, and a policy per service ID on that service. Then wrk drives,
# over CONNECTIONS connections for DURATION seconds, a random mix of
#   40% POST /identity/token      (apikey grant, one of the KEYS keys: an RS256 signature each)
#   35% POST /v2/authz            (one decision, random subject and instance, PDP client token)
#   15% GET  /v1/serviceids       (a list page, account owner token)
#   10% POST /v1/serviceids       (a create with a unique name, account owner token)
# and prints requests/s, the latency percentiles (p50, p90, p99, max), the answers by HTTP
# status, and iamd's resident memory (VmRSS of /proc/PID/status) before the load, at half time,
# after it, and the peak (VmHWM).
#
# Exit status: non-zero when any answer was not 2xx (none is asked for), a socket error
# happened, iamd died, or the RSS grew in the second half of the run by more than
# MAX_RSS_GROWTH_MB (default 32): the first half fills the caches (SQLite pages, the service
# IDs created), so growth after it suggests a leak.
#
# Environment: DURATION (seconds, 5..21600, default 60), CONNECTIONS (default 200), THREADS
# (wrk -t, default 2), KEYS (service IDs with keys, default 20), MAX_RSS_GROWTH_MB,
# IAMD_BIN (instead of the argument).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-${IAMD_BIN:-$repo/build/iamd}}
duration=${DURATION:-60}
connections=${CONNECTIONS:-200}
threads=${THREADS:-2}
nkeys=${KEYS:-20}
max_growth_mb=${MAX_RSS_GROWTH_MB:-32}

die() { echo "bench/soak.sh: $*" >&2; exit 1; }

for tool in wrk curl node; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (scripts/install-deps.sh installs wrk and node)"
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 5 && $duration -le 21600 ]] || die "DURATION must be 5..21600 seconds"
[[ $threads =~ ^[0-9]+$ && $threads -ge 1 && $threads -le 64 ]] || die "THREADS must be 1..64"
[[ $connections =~ ^[0-9]+$ && $connections -ge $threads && $connections -le 4096 ]] || die "CONNECTIONS must be THREADS..4096"
[[ $nkeys =~ ^[0-9]+$ && $nkeys -ge 1 && $nkeys -le 500 ]] || die "KEYS must be 1..500"
[[ $max_growth_mb =~ ^[0-9]+$ ]] || die "MAX_RSS_GROWTH_MB must be a number of MiB"

if [[ ! -x $bin && $bin == "$repo/build/iamd" ]]; then
  echo "bench/soak.sh: building the release iamd (build/, RelWithDebInfo)" >&2
  [[ -f $repo/build/CMakeCache.txt ]] || cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIAMD_TESTS=OFF >/dev/null
  cmake --build "$repo/build" --target iamd -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
[[ -x $bin ]] || die "$bin is not an executable"

work=$(mktemp -d "${TMPDIR:-/tmp}/iamd-soak.XXXXXX")
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

# Start iamd on a free port (retry if another process takes the port first). Tokens outlive the run.
ttl=$((duration + 600 > 3600 ? duration + 600 : 3600))
url=
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" && continue
  rm -rf "$work/data"
  mkdir -p "$work/data"
  "$bin" --listen "127.0.0.1:$port" --data-dir "$work/data" --token-ttl "$ttl" --log-level warn >"$work/iamd.log" 2>&1 &
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

# Setup through the API (node: JSON in and out), written out as a Lua prelude for wrk.
cat >"$work/setup.mjs" <<'EOF'
import fs from 'node:fs';
const [url, bootFile, outFile, nKeys] = process.argv.slice(2);
const boot = JSON.parse(fs.readFileSync(bootFile, 'utf8'));
const account = boot.account_id;
const basic = 'Basic ' + Buffer.from(`apikey:${boot.apikey}`).toString('base64');
const svc = `soak-${Math.random().toString(16).slice(2, 8)}`;

async function call(method, path, body, want, auth = basic) {
  const res = await fetch(url + path, {
    method, headers: { Authorization: auth, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!want.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}
async function token(apikey) {
  const res = await fetch(`${url}/identity/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }).toString(),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

const sids = [];
for (let i = 0; i < Number(nKeys); i++) {
  sids.push(await call('POST', '/v1/serviceids', { account_id: account, name: `soak-key-${i}`, apikey: { name: `soak-key-${i}` } }, [201]));
}
const pdp = sids[0];
const A = (verb) => `${svc}.thing.${verb}`;
await call('PUT', `/v1/services/${svc}`, {
  name: svc, display_name: 'Soak service', service_type: 'service', pdp_clients: [pdp.iam_id],
  actions: ['read', 'write'].map((v) => ({ id: A(v), display_name: v })),
  roles: { Reader: [A('read')], Writer: [A('read'), A('write')], Manager: [A('read'), A('write')],
    Viewer: [], Operator: [], Editor: [], Administrator: [] },
  resource_types: ['thing'],
}, [200, 201]);
for (const [i, s] of sids.entries()) {
  await call('POST', '/v1/policies', {
    type: 'access', subjects: [{ attributes: [{ name: 'iam_id', value: s.iam_id }] }],
    roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Reader' }],
    resources: [{ attributes: [{ name: 'accountId', value: account }, { name: 'serviceName', value: svc },
      { name: 'serviceInstance', value: `inst-${i % 4}` }] }],
  }, [201]);
}
const ownerToken = await token(boot.apikey);
const pdpToken = await token(pdp.apikey.apikey);
const lua = (s) => JSON.stringify(s); // JSON strings of ASCII are valid Lua strings
fs.writeFileSync(outFile, [
  `account = ${lua(account)}`,
  `service = ${lua(svc)}`,
  `owner_token = ${lua(ownerToken)}`,
  `pdp_token = ${lua(pdpToken)}`,
  `keys = { ${sids.map((s) => lua(s.apikey.apikey)).join(', ')} }`,
  `subjects = { ${sids.map((s) => lua(s.iam_id)).join(', ')} }`,
].join('\n') + '\n');
EOF
node "$work/setup.mjs" "$url" "$work/data/bootstrap-apikey.json" "$work/prelude.lua" "$nkeys" \
  || die "setup through the API failed (log: $(tail -3 "$work/iamd.log" | tr '\n' ' '))"

cat "$work/prelude.lua" - >"$work/soak.lua" <<'EOF'
local grant = "urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey"
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  statuses = {}
  mix = { token = 0, authz = 0, list = 0, create = 0 }
  error_bodies = {}
  created = 0
end

local function token_request()
  mix.token = mix.token + 1
  return wrk.format("POST", "/identity/token",
    { ["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json" },
    "grant_type=" .. grant .. "&apikey=" .. keys[math.random(#keys)])
end

local function authz_request()
  mix.authz = mix.authz + 1
  local body = string.format('[{"subject":{"attributes":{"id":"%s"}},"action":"%s.thing.read",' ..
    '"resource":{"attributes":{"accountId":"%s","serviceName":"%s","serviceInstance":"inst-%d"}}}]',
    subjects[math.random(#subjects)], service, account, service, math.random(0, 5))
  return wrk.format("POST", "/v2/authz",
    { ["Content-Type"] = "application/json", ["Accept"] = "application/json", ["Authorization"] = "Bearer " .. pdp_token },
    body)
end

local function list_request()
  mix.list = mix.list + 1
  return wrk.format("GET", "/v1/serviceids?account_id=" .. account .. "&pagesize=20",
    { ["Accept"] = "application/json", ["Authorization"] = "Bearer " .. owner_token })
end

local function create_request()
  mix.create = mix.create + 1
  created = created + 1
  local body = string.format('{"account_id":"%s","name":"soak-%d-%d-%d"}', account, id, created, math.random(1, 1000000000))
  return wrk.format("POST", "/v1/serviceids",
    { ["Content-Type"] = "application/json", ["Accept"] = "application/json", ["Authorization"] = "Bearer " .. owner_token },
    body)
end

function request()
  local r = math.random()
  if r < 0.40 then return token_request()
  elseif r < 0.75 then return authz_request()
  elseif r < 0.90 then return list_request()
  else return create_request() end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status < 200 or status > 299) and #error_bodies < 3 then
    table.insert(error_bodies, status .. " " .. string.sub(body or "", 1, 200))
  end
end

function done(summary, latency, requests)
  local by_status, by_type, samples = {}, {}, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do by_status[status] = (by_status[status] or 0) + n end
    for kind, n in pairs(thread:get("mix")) do by_type[kind] = (by_type[kind] or 0) + n end
    for _, b in ipairs(thread:get("error_bodies")) do table.insert(samples, b) end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("SOAK requests %d\n", summary.requests))
  io.write(string.format("SOAK rps %.1f\n", summary.requests / seconds))
  for _, p in ipairs({ 50, 90, 99 }) do
    io.write(string.format("SOAK p%d_ms %.2f\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("SOAK max_ms %.2f\n", latency.max / 1000))
  local non2xx = 0
  for status, n in pairs(by_status) do
    io.write(string.format("SOAK status %d %d\n", status, n))
    if status < 200 or status > 299 then non2xx = non2xx + n end
  end
  io.write(string.format("SOAK non2xx %d\n", non2xx))
  local e = summary.errors
  io.write(string.format("SOAK socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("SOAK socket_detail connect %d, read %d, write %d, timeout %d\n", e.connect, e.read, e.write, e.timeout))
  for kind, n in pairs(by_type) do io.write(string.format("SOAK sent %s %d\n", kind, n)) end
  for _, b in ipairs(samples) do io.write("SOAK error_sample " .. b .. "\n") end
end
EOF

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo "iamd:        $bin (pid $pid, $url, $(nproc 2>/dev/null || echo "?") cores)"
echo "wrk:         -t$threads -c$connections -d${duration}s: 40% token, 35% /v2/authz, 15% list, 10% create ($nkeys keys)"
rss_before=$(rss_kib)
( sleep $((duration / 2)); rss_kib >"$work/rss-mid" ) &
mid_sampler=$!
wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 10s --latency -s "$work/soak.lua" "$url" >"$work/wrk.txt" 2>&1 \
  || { cat "$work/wrk.txt" >&2; die "wrk failed"; }
wait "$mid_sampler" 2>/dev/null || true
kill -0 "$pid" 2>/dev/null || die "iamd died during the run: $(tail -5 "$work/iamd.log")"
rss_after=$(rss_kib)
rss_mid=$(cat "$work/rss-mid" 2>/dev/null || echo "$rss_before")
rss_peak=$(hwm_kib)

value() { awk -v k="$1" '$1 == "SOAK" && $2 == k { print $3; exit }' "$work/wrk.txt"; }
requests=$(value requests)
[[ -n $requests ]] || { cat "$work/wrk.txt" >&2; die "cannot parse wrk output"; }
non2xx=$(value non2xx)
socket_errors=$(value socket_errors)
growth_kib=$((rss_after - rss_mid))

# Still answering after the run.
status=$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")
[[ $status == 200 ]] || die "after the run: /healthz answered $status"

echo
printf '%-28s %s in %ss\n' "requests:" "$requests" "$duration"
printf '%-28s %s\n' "requests/s:" "$(value rps)"
printf '%-28s p50 %s ms, p90 %s ms, p99 %s ms, max %s ms\n' "latency:" "$(value p50_ms)" "$(value p90_ms)" "$(value p99_ms)" "$(value max_ms)"
printf '%-28s %s\n' "sent:" "$(awk '$1 == "SOAK" && $2 == "sent" { printf "%s %s  ", $3, $4 }' "$work/wrk.txt")"
printf '%-28s %s\n' "answers by status:" "$(awk '$1 == "SOAK" && $2 == "status" { printf "%s x%s  ", $3, $4 }' "$work/wrk.txt")"
printf '%-28s %s (socket errors: %s)\n' "errors (non-2xx):" "$non2xx" "$(sed -n 's/^SOAK socket_detail //p' "$work/wrk.txt")"
printf '%-28s before %s, half time %s, after %s, peak %s\n' "iamd RSS:" \
  "$(mib "$rss_before")" "$(mib "$rss_mid")" "$(mib "$rss_after")" "$(mib "$rss_peak")"
printf '%-28s %s (bound %s MiB)\n' "RSS growth, second half:" "$(mib "$growth_kib")" "$max_growth_mb"
sed -n 's/^SOAK error_sample /error sample: /p' "$work/wrk.txt"

status=0
if [[ $non2xx != 0 || $socket_errors != 0 ]]; then
  echo "bench/soak.sh: $non2xx answers were not 2xx, $socket_errors socket errors" >&2
  status=1
fi
if ((growth_kib > max_growth_mb * 1024)); then
  echo "bench/soak.sh: RSS grew by $(mib "$growth_kib") in the second half (bound ${max_growth_mb} MiB)" >&2
  status=1
fi
exit $status
