// GET /metrics (Prometheus text format 0.0.4) and GET /readyz: the output
// parses, counters move with token requests and decisions, the caches count
// their hits and misses and report their sizes, usage counters wait for the
// batched write, 429s of the failed-authentication limits are counted by what
// was over its limit, every database call lands in the store histogram, no
// account id, iam_id, key id, key value or token appears in it, who may read
// it (--metrics off: 404; token: Bearer IAMD_METRICS_TOKEN), and readiness
// turning 503 when the database is gone while liveness stays 200.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import {
  decide, grant, postFormFrom, registerService, serviceDefinition, sidWithToken, uniqueServiceName,
} from './lib/access.mjs';
import { APIKEY_GRANT, api, createApiKey, createServiceId, getToken } from './lib/http.mjs';
import { unknownValue, wrongValueOf } from './lib/keyformat.mjs';
import { databaseUrlBase, startServer, stopAndCheck } from './lib/server.mjs';

const execFileAsync = promisify(execFile);
const METRICS_TOKEN = crypto.randomBytes(24).toString('base64url'); // 32 characters

const PER_ADDRESS = 5; // --failed-auth-per-address
const PER_KEY = 3;     // --failed-auth-per-key

let server;   // --metrics token; usage written only at exit, so pending usage stays visible
let admin;

before(async () => {
  server = await startServer({
    args: ['--metrics', 'token', '--usage-flush-ms', '600000', '--failed-auth-per-address', String(PER_ADDRESS),
      '--failed-auth-per-key', String(PER_KEY)],
    env: { IAMD_METRICS_TOKEN: METRICS_TOKEN },
  });
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
});

after(async () => {
  await stopAndCheck(server);
});

const scrape = (target = server, token = METRICS_TOKEN) =>
  api(target, 'GET', '/metrics', token ? { auth: `Bearer ${token}`, headers: { Accept: 'text/plain' } } : {});

/**
 * Parses the text exposition format 0.0.4 strictly enough to catch what a
 * Prometheus server would refuse: every sample belongs to a family declared
 * by one # TYPE line before it, names and labels are well formed, values are
 * numbers, and no series repeats. Returns Map("name{labels}" -> value) and the types.
 */
function parseExposition(text) {
  const types = new Map();
  const samples = new Map();
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
  const sampleRe = new RegExp(`^(${NAME})(\\{(?:${LABEL})(?:,${LABEL})*\\})? (-?[0-9.e+-]+|\\+Inf|NaN)$`);
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type), `type of ${name}: ${type}`);
      assert.ok(!types.has(name), `${name} declared twice`);
      types.set(name, type);
      continue;
    }
    const m = sampleRe.exec(line);
    assert.ok(m, `not a valid sample line: ${JSON.stringify(line)}`);
    const [, name, labels = '', value] = m;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(family), `${name}: no # TYPE before it`);
    if (family !== name) assert.equal(types.get(family), 'histogram', `${name}: suffix of a non-histogram`);
    const key = `${name}${labels}`;
    assert.ok(!samples.has(key), `series repeated: ${key}`);
    samples.set(key, Number(value));
  }
  return { types, samples };
}

/** The value of one series, 0 when absent (counters not yet incremented are still listed, but be lenient). */
const valueOf = (samples, key) => samples.get(key) ?? 0;

async function metricsNow() {
  const res = await scrape();
  assert.equal(res.status, 200, res.text.slice(0, 300));
  return parseExposition(res.text).samples;
}

/**
 * The metrics once the engine has caught up with the database (service IDs
 * and keys are picked up by its revision poll, every --engine-refresh-ms):
 * from then on no write of this file moves the snapshot the caches are bound
 * to until the next write. Waits for a state, not for a time.
 */
async function metricsSettled() {
  for (let attempt = 0; attempt < 100; attempt++) {
    const samples = await metricsNow();
    if (samples.get('iamd_engine_revision') === samples.get('iamd_store_revision')) return samples;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('the engine never caught up with the store revision');
}

const deltaOf = (from, to) => (key) => valueOf(to, key) - valueOf(from, key);

describe('GET /metrics', () => {
  test('text format 0.0.4 that parses; histograms are cumulative', async () => {
    const res = await scrape();
    assert.equal(res.status, 200, res.text.slice(0, 300));
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const { types, samples } = parseExposition(res.text);
    for (const family of ['iamd_build_info', 'iamd_http_requests_total', 'iamd_http_request_duration_seconds',
      'iamd_http_connections_active', 'iamd_tokens_issued_total', 'iamd_token_failures_total',
      'iamd_authz_decisions_total', 'iamd_store_failures_total', 'iamd_engine_revision', 'iamd_store_up',
      'iamd_store_read_seconds', 'iamd_store_revision', 'iamd_start_time_seconds',
      'iamd_signing_key_available', 'iamd_store_call_duration_seconds', 'iamd_store_confirmed_age_seconds',
      'iamd_engine_policies', 'iamd_credential_cache_lookups_total', 'iamd_credential_cache_entries',
      'iamd_credential_cache_capacity', 'iamd_verified_token_cache_lookups_total',
      'iamd_verified_token_cache_entries', 'iamd_usage_pending_entries', 'iamd_auth_rate_limited_total',
      'iamd_auth_rate_limit_entries']) {
      assert.ok(types.has(family), `${family} is exported`);
    }
    assert.equal(types.get('iamd_store_call_duration_seconds'), 'histogram');
    for (const result of ['hit', 'miss']) {
      assert.ok(samples.has(`iamd_credential_cache_lookups_total{result="${result}"}`), result);
      assert.ok(samples.has(`iamd_verified_token_cache_lookups_total{result="${result}"}`), result);
    }
    for (const series of ['credential="apikey",kind="address"', 'credential="apikey",kind="key"',
      'credential="password",kind="address"', 'credential="password",kind="login"']) {
      assert.ok(samples.has(`iamd_auth_rate_limited_total{${series}}`), series);
      assert.ok(samples.has(`iamd_auth_rate_limit_entries{${series}}`), series);
    }
    // The database was called (bootstrap, the engine's polls, this scrape's revision read) and took time.
    assert.ok(valueOf(samples, 'iamd_store_call_duration_seconds_count') >= 1);
    assert.ok(valueOf(samples, 'iamd_store_call_duration_seconds_sum') > 0);
    // Confirmed against the database within a poll or two (--engine-refresh-ms 500), far from --max-staleness.
    const age = valueOf(samples, 'iamd_store_confirmed_age_seconds');
    assert.ok(age >= 0 && age < 30, `confirmed age ${age}`);
    assert.ok(Number.isInteger(samples.get('iamd_engine_policies')) && samples.get('iamd_engine_policies') >= 0);
    assert.equal(valueOf(samples, 'iamd_credential_cache_capacity'), 16384);
    assert.equal(valueOf(samples, 'iamd_store_up'), 1);
    assert.ok(valueOf(samples, 'iamd_store_revision') >= valueOf(samples, 'iamd_engine_revision'));
    const started = valueOf(samples, 'iamd_start_time_seconds');
    assert.ok(started > Date.now() / 1000 - 600 && started <= Date.now() / 1000 + 1, `start time ${started}`);
    assert.equal(valueOf(samples, 'iamd_signing_key_available'), 1);
    assert.ok(valueOf(samples, 'iamd_http_connections_active') >= 1, 'this scrape is an open connection');
    // Every histogram: buckets rise to +Inf, which equals _count.
    const series = new Map();
    for (const [key, value] of samples) {
      const m = /^(iamd_[a-z_]+_seconds)_bucket\{(?:(.*),)?le="([^"]+)"\}$/.exec(key);
      if (!m) continue;
      const count = m[2] ? `${m[1]}_count{${m[2]}}` : `${m[1]}_count`;
      if (!series.has(count)) series.set(count, []);
      series.get(count).push([m[3] === '+Inf' ? Infinity : Number(m[3]), value]);
    }
    assert.ok(series.has('iamd_store_call_duration_seconds_count'), 'the store histogram');
    assert.ok(series.size >= 2, 'at least one route has a histogram');
    for (const [count, buckets] of series) {
      buckets.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1], `${count}: cumulative`);
      assert.equal(buckets.at(-1)[0], Infinity, `${count}: ends with +Inf`);
      assert.equal(buckets.at(-1)[1], samples.get(count), `${count}: +Inf = count`);
    }
  });

  test('counters move after a token request, a failed one and two decisions', async () => {
    const pdp = await sidWithToken(server, admin, { name: 'metrics-pdp' });
    const svc = uniqueServiceName('metrics');
    await registerService(server, admin, serviceDefinition(svc, [pdp.iamId]));
    const subject = await createServiceId(server, admin);
    await grant(server, admin, { iamId: subject.iam_id, roles: ['Reader'], resource: { serviceName: svc } });

    const before = await metricsNow();
    await getToken(server.url, server.apikey);
    const failed = await api(server, 'POST', '/identity/token', {
      body: `grant_type=${encodeURIComponent(APIKEY_GRANT)}&apikey=not-a-key`, contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(failed.status, 400);
    const attributes = { accountId: server.accountId, serviceName: svc };
    assert.equal(await decide(server, pdp.auth, subject.iam_id, `${svc}.thing.read`, attributes), true);
    assert.equal(await decide(server, pdp.auth, subject.iam_id, `${svc}.thing.write`, attributes), false);
    const afterwards = await metricsNow();

    const delta = (key) => valueOf(afterwards, key) - valueOf(before, key);
    assert.equal(delta('iamd_tokens_issued_total{grant_type="apikey"}'), 1);
    assert.equal(delta('iamd_token_failures_total{reason="invalid_grant"}'), 1);
    assert.equal(delta('iamd_authz_decisions_total{decision="permit"}'), 1);
    assert.equal(delta('iamd_authz_decisions_total{decision="deny"}'), 1);
    assert.equal(delta('iamd_http_requests_total{method="POST",route="/identity/token",code="2xx"}'), 1);
    assert.equal(delta('iamd_http_requests_total{method="POST",route="/identity/token",code="4xx"}'), 1);
    assert.equal(delta('iamd_http_requests_total{method="POST",route="/v2/authz",code="2xx"}'), 2);
    assert.equal(delta('iamd_http_request_duration_seconds_count{method="POST",route="/v2/authz"}'), 2);
    assert.ok(delta('iamd_http_requests_total{method="GET",route="/metrics",code="2xx"}') >= 1);
    assert.ok(valueOf(afterwards, 'iamd_engine_revision') > valueOf(before, 'iamd_engine_revision') - 1);
  });

  test('a second token with the same key is a credential-cache hit; usage waits for the batched write', async () => {
    const sid = await createServiceId(server, admin);
    const key = await createApiKey(server, admin, { iam_id: sid.iam_id });
    const start = await metricsSettled();
    await getToken(server.url, key.apikey);
    const once = await metricsNow();
    await getToken(server.url, key.apikey);
    const twice = await metricsNow();

    const first = deltaOf(start, once);
    assert.equal(first('iamd_credential_cache_lookups_total{result="miss"}'), 1, 'a new key is read from the database');
    assert.equal(first('iamd_credential_cache_lookups_total{result="hit"}'), 0);
    assert.equal(first('iamd_credential_cache_entries'), 1, 'and remembered');
    assert.equal(first('iamd_usage_pending_entries'), 1, 'its first use waits for the batched write');
    // The key by its hash and its service ID were read (and the issuance audited): at least two calls.
    assert.ok(first('iamd_store_call_duration_seconds_count') >= 2, 'the database calls are measured');
    const second = deltaOf(once, twice);
    assert.equal(second('iamd_credential_cache_lookups_total{result="hit"}'), 1, 'the second token is answered from memory');
    assert.equal(second('iamd_credential_cache_lookups_total{result="miss"}'), 0);
    assert.equal(second('iamd_credential_cache_entries'), 0);
    assert.equal(second('iamd_usage_pending_entries'), 0, 'the same key: the same pending entry');
  });

  test('an access token used twice is verified once: a verified-token cache miss, then a hit', async () => {
    const sid = await createServiceId(server, admin);
    const reader = { token: (await getToken(server.url, server.apikey)).access_token }; // the owner's, new
    const start = await metricsSettled();
    assert.equal((await api(server, 'GET', `/v1/serviceids/${sid.id}`, reader)).status, 200);
    const once = await metricsNow();
    assert.equal((await api(server, 'GET', `/v1/serviceids/${sid.id}`, reader)).status, 200);
    const twice = await metricsNow();

    const first = deltaOf(start, once);
    assert.equal(first('iamd_verified_token_cache_lookups_total{result="miss"}'), 1);
    assert.equal(first('iamd_verified_token_cache_lookups_total{result="hit"}'), 0);
    assert.equal(first('iamd_verified_token_cache_entries'), 1);
    const second = deltaOf(once, twice);
    assert.equal(second('iamd_verified_token_cache_lookups_total{result="hit"}'), 1);
    assert.equal(second('iamd_verified_token_cache_lookups_total{result="miss"}'), 0);
    assert.equal(second('iamd_verified_token_cache_entries'), 0);

    // A write that can end an identity forgets what the caches held.
    const other = await createServiceId(server, admin);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${other.id}`, admin)).status, 204);
    const forgotten = await metricsSettled();
    assert.equal(valueOf(forgotten, 'iamd_verified_token_cache_entries'), 0);
    assert.equal(valueOf(forgotten, 'iamd_credential_cache_entries'), 0);
  });

  test('the engine counts the policies it compiled', async () => {
    const subject = await createServiceId(server, admin);
    const start = await metricsSettled();
    await grant(server, admin, { iamId: subject.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } });
    const granted = await metricsSettled();
    assert.equal(deltaOf(start, granted)('iamd_engine_policies'), 1);
  });

  test('429s of the failed-authentication limits are counted by what was over its limit', async () => {
    const sid = await createServiceId(server, admin);
    const key = await createApiKey(server, admin, { iam_id: sid.iam_id });
    const token = (from, apikey) => postFormFrom(server, { grant_type: APIKEY_GRANT, apikey }, from);
    const start = await metricsNow();
    // The key id: wrong values from fresh addresses, PER_KEY answered 400, the next one 429.
    for (let i = 1; i <= PER_KEY; i++) assert.equal((await token(`127.0.1.${i}`, wrongValueOf(key.apikey))).status, 400);
    assert.equal((await token('127.0.1.9', wrongValueOf(key.apikey))).status, 429);
    const keyed = await metricsNow();
    let delta = deltaOf(start, keyed);
    assert.equal(delta('iamd_auth_rate_limited_total{credential="apikey",kind="key"}'), 1);
    assert.equal(delta('iamd_auth_rate_limited_total{credential="apikey",kind="address"}'), 0);
    assert.equal(delta('iamd_auth_rate_limit_entries{credential="apikey",kind="key"}'), 1, 'one key id');
    assert.equal(delta('iamd_auth_rate_limit_entries{credential="apikey",kind="address"}'), PER_KEY + 1, 'four addresses');
    assert.equal(delta('iamd_token_failures_total{reason="too_many_requests"}'), 1);

    // The address: PER_ADDRESS failures, then refused before any work.
    for (let i = 0; i < PER_ADDRESS; i++) assert.equal((await token('127.0.2.1', unknownValue())).status, 400);
    assert.equal((await token('127.0.2.1', unknownValue())).status, 429);
    const addressed = await metricsNow();
    delta = deltaOf(keyed, addressed);
    assert.equal(delta('iamd_auth_rate_limited_total{credential="apikey",kind="address"}'), 1);
    assert.equal(delta('iamd_auth_rate_limited_total{credential="apikey",kind="key"}'), 0);
    assert.equal(delta('iamd_auth_rate_limit_entries{credential="apikey",kind="address"}'), 1);
    assert.equal(delta('iamd_auth_rate_limited_total{credential="password",kind="address"}'), 0);
  });

  test('no account id, iam_id, key id, key value or token in the output', async () => {
    const sid = await createServiceId(server, admin);
    const key = await createApiKey(server, admin, { iam_id: sid.iam_id });
    const token = (await getToken(server.url, key.apikey)).access_token;
    await api(server, 'GET', `/v1/serviceids/${sid.id}`, admin);
    await api(server, 'GET', `/v1/apikeys/${key.id}`, admin);
    await api(server, 'GET', `/v1/serviceids/ServiceId-${crypto.randomUUID()}`, admin);
    const { text } = await scrape();
    for (const secret of [server.accountId, server.iamId, sid.id, sid.iam_id, key.id, key.apikey, token,
      admin.token, METRICS_TOKEN]) {
      assert.ok(!text.includes(secret), `the metrics contain ${secret.slice(0, 12)}...`);
    }
    assert.doesNotMatch(text, /ServiceId-|ApiKey-|IBMid-|iam-ServiceId|[0-9a-f]{32}/, 'no identifiers of any kind');
    assert.match(text, /route="\/v1\/serviceids\/\{id\}"/, 'routes are templates');
  });

  test('--metrics token: without or with a wrong bearer token 401; --metrics off (the default): 404', async () => {
    const none = await scrape(server, null);
    assert.equal(none.status, 401, none.text.slice(0, 200));
    assert.doesNotMatch(none.text, /iamd_/);
    const wrong = await scrape(server, `${METRICS_TOKEN}x`);
    assert.equal(wrong.status, 401);
    const short = await scrape(server, METRICS_TOKEN.slice(0, -1));
    assert.equal(short.status, 401);
    const right = await scrape(server, METRICS_TOKEN);
    assert.equal(right.status, 200);
    // A valid IAM token is not a metrics credential.
    assert.equal((await scrape(server, admin.token)).status, 401);
  });
});

describe('GET /readyz', () => {
  test('200 naming the checks when the database answers and a key signs', async () => {
    const res = await api(server, 'GET', '/readyz');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { status: 'ready', checks: { database: 'ok', signing_key: 'ok' } });
  });

  test('503 naming the database when it is gone; /healthz (liveness) stays 200; /metrics is off by default', async () => {
    const doomed = await startServer();
    try {
      assert.equal((await api(doomed, 'GET', '/readyz')).status, 200);
      assert.equal((await scrape(doomed, null)).status, 404, '--metrics off');
      assert.equal((await scrape(doomed, METRICS_TOKEN)).status, 404, '--metrics off ignores tokens');
      if (databaseUrlBase) {
        // PostgreSQL: the database is dropped under the running server.
        const name = new URL(doomed.databaseUrl).pathname.slice(1);
        const dropdb = process.env.IAMD_PG_BIN ? path.join(process.env.IAMD_PG_BIN, 'dropdb') : 'dropdb';
        await execFileAsync(dropdb, [`--maintenance-db=${databaseUrlBase}`, '--force', name], { timeout: 30_000 });
      } else {
        // SQLite: the file is deleted under the running server (it would go on writing into the unlinked file).
        await fsp.rm(path.join(doomed.dataDir, 'iamd.db'));
      }
      let res;
      for (let attempt = 0; attempt < 50; attempt++) {
        res = await api(doomed, 'GET', '/readyz');
        if (res.status === 503) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.status, 'not_ready');
      assert.notEqual(res.body.checks.database, 'ok', res.text);
      assert.equal(res.body.checks.signing_key, 'ok');
      assert.equal((await api(doomed, 'GET', '/healthz')).status, 200, 'still alive');
    } finally {
      await stopAndCheck(doomed);
    }
  });
});
