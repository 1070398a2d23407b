// GET /metrics (Prometheus text format 0.0.4) and GET /readyz: the output
// parses, counters move with token requests and decisions, no account id,
// iam_id, key id, key value or token appears in it, who may read it
// (--metrics off: 404; token: Bearer IAMD_METRICS_TOKEN), and readiness
// turning 503 when the database is gone while liveness stays 200.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import {
  decide, grant, registerService, serviceDefinition, sidWithToken, uniqueServiceName,
} from './lib/access.mjs';
import { APIKEY_GRANT, api, createApiKey, createServiceId, getToken } from './lib/http.mjs';
import { databaseUrlBase, startServer, stopAndCheck } from './lib/server.mjs';

const execFileAsync = promisify(execFile);
const METRICS_TOKEN = crypto.randomBytes(24).toString('base64url'); // 32 characters

let server;   // --metrics token
let admin;

before(async () => {
  server = await startServer({ args: ['--metrics', 'token'], env: { IAMD_METRICS_TOKEN: METRICS_TOKEN } });
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
      'iamd_signing_key_available']) {
      assert.ok(types.has(family), `${family} is exported`);
    }
    assert.equal(valueOf(samples, 'iamd_store_up'), 1);
    assert.ok(valueOf(samples, 'iamd_store_revision') >= valueOf(samples, 'iamd_engine_revision'));
    const started = valueOf(samples, 'iamd_start_time_seconds');
    assert.ok(started > Date.now() / 1000 - 600 && started <= Date.now() / 1000 + 1, `start time ${started}`);
    assert.equal(valueOf(samples, 'iamd_signing_key_available'), 1);
    assert.ok(valueOf(samples, 'iamd_http_connections_active') >= 1, 'this scrape is an open connection');
    // Every histogram: buckets rise to +Inf, which equals _count.
    const series = new Map();
    for (const [key, value] of samples) {
      const m = /^iamd_http_request_duration_seconds_bucket\{(.*),le="([^"]+)"\}$/.exec(key);
      if (!m) continue;
      if (!series.has(m[1])) series.set(m[1], []);
      series.get(m[1]).push([m[2] === '+Inf' ? Infinity : Number(m[2]), value]);
    }
    assert.ok(series.size >= 1, 'at least one route has a histogram');
    for (const [labels, buckets] of series) {
      buckets.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1], `${labels}: cumulative`);
      assert.equal(buckets.at(-1)[0], Infinity, `${labels}: ends with +Inf`);
      assert.equal(buckets.at(-1)[1], samples.get(`iamd_http_request_duration_seconds_count{${labels}}`), `${labels}: +Inf = count`);
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
