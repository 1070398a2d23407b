// The audit trail (docs/api/audit.md): what is recorded for state-changing
// calls (request and outcome records, actor, action, target, outcome),
// refusals, sign-in and sign-out, what is NOT recorded per request (reads,
// tokens, decisions), that no secret reaches a record, GET /v1/audit/events
// with its filters and keyset pagination, account isolation, the permission
// needed, fail-closed and best-effort modes with the audit table made
// unwritable from the database side, token requests and failed
// authentications counted into aggregate records (on a second server that
// flushes every 100 ms; the first one flushes only at exit, so its tests see
// no background writes), and `iamd audit verify` on an intact and on a
// tampered database. Runs on SQLite (sqlite3 CLI) and on PostgreSQL (psql).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import {
  APIKEY_GRANT, APIKEY_ID_RE, api, assertIbmError, assertTokenError, createApiKey, createServiceId, eventually,
  getToken, postForm, randomServiceId, serviceIdWithKey, tokenRequest, uniqueName,
} from './lib/http.mjs';
import { createAccount, grant, sidWithToken } from './lib/access.mjs';
import { iamdBinary, startServer, stopAndCheck } from './lib/server.mjs';

const execFileAsync = promisify(execFile);
const EVENTS = '/v1/audit/events';
const HEX64 = /^[0-9a-f]{64}$/;
const MS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let server;
let admin;

// Token and authentication aggregates are flushed with the usage counters; at the longest interval
// they reach this server's table only at exit, so the row counts below see no background writes.
const QUIET = ['--usage-flush-ms', '600000'];

before(async () => {
  server = await startServer({ args: QUIET });
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
});

after(async () => {
  await stopAndCheck(server);
});

// ------------------------------------------------------------------ helpers

/** Runs SQL on the server's database behind its back (sqlite3 or psql); returns stdout. */
async function sql(srv, statement) {
  if (srv.databaseUrl) {
    const psql = process.env.IAMD_PG_BIN ? path.join(process.env.IAMD_PG_BIN, 'psql') : 'psql';
    const { stdout } = await execFileAsync(psql, [srv.databaseUrl, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1',
      '-c', statement], { timeout: 30_000 });
    return stdout;
  }
  const { stdout } = await execFileAsync('sqlite3', ['-cmd', '.timeout 5000', path.join(srv.dataDir, 'iamd.db'),
    statement], { timeout: 30_000 });
  return stdout;
}

/** Every record in the table, whatever its account, as text (for secret searches and counts). */
const rowCount = async (srv) => Number((await sql(srv, 'SELECT count(*) FROM audit_events')).trim());

/** Makes inserts into audit_events fail, as a full disk or a revoked grant would. */
const BLOCK = {
  sqlite: ["CREATE TRIGGER audit_test_block BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'blocked'); END",
    'DROP TRIGGER audit_test_block'],
  postgres: ['ALTER TABLE audit_events ADD CONSTRAINT audit_test_block CHECK (seq < 0) NOT VALID',
    'ALTER TABLE audit_events DROP CONSTRAINT audit_test_block'],
};
const block = (srv) => sql(srv, BLOCK[srv.databaseUrl ? 'postgres' : 'sqlite'][0]);
const unblock = (srv) => sql(srv, BLOCK[srv.databaseUrl ? 'postgres' : 'sqlite'][1]);

/** Drops the append-only triggers, as someone with write access to the database could. */
const dropGuards = (srv) => sql(srv, srv.databaseUrl
  ? 'DROP TRIGGER audit_events_no_change ON audit_events'
  : 'DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete');

/** `iamd audit verify` on the server's data dir and database: {code, stdout, stderr}. */
async function verify(srv, extra = []) {
  const args = ['audit', 'verify', '--data-dir', srv.dataDir, ...(srv.databaseUrl ? ['--database', srv.databaseUrl] : []),
    ...extra];
  try {
    const { stdout, stderr } = await execFileAsync(iamdBinary(), args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const listEvents = (query, auth = admin, srv = server) => api(srv, 'GET', EVENTS, { ...auth, query });

/** Every event of the account matching `query`, following next links (newest first). */
async function allEvents(query = {}, auth = admin, srv = server) {
  const events = [];
  let pagetoken;
  for (let page = 0; page < 100; page++) {
    const res = await listEvents(pagetoken ? { pagetoken, limit: 100 } : { account_id: srv.accountId, limit: 100, ...query },
      auth, srv);
    assert.equal(res.status, 200, `list events: ${res.status} ${res.text.slice(0, 300)}`);
    events.push(...res.body.events);
    if (!res.body.next) return events;
    pagetoken = new URL(res.body.next).searchParams.get('pagetoken');
  }
  throw new Error('more than 100 pages of events');
}

/** The records of one request (by its Transaction-Id), oldest first. */
async function recordsOf(res, srv = server, auth = admin) {
  const id = res.headers.get('transaction-id');
  assert.ok(id, 'Transaction-Id header');
  return (await allEvents({}, auth, srv)).filter((e) => e.request_id === id).reverse();
}

/** Asserts a request left exactly a request record and an outcome record, as described. */
function assertPair(records, { action, status, outcome = 'success', targetType, targetId, actor }) {
  assert.equal(records.length, 2, `two records per request, got ${JSON.stringify(records)}`);
  const [request, result] = records;
  assert.equal(request.phase, 'request');
  assert.equal(request.outcome, 'pending');
  assert.equal(request.status, 0);
  assert.equal(result.phase, 'outcome');
  assert.equal(result.outcome, outcome);
  assert.equal(result.status, status);
  assert.ok(result.seq > request.seq, 'the outcome comes after the request');
  for (const record of records) {
    assert.equal(record.action, action);
    assert.equal(record.target.type, targetType);
    assert.equal(record.target.account_id, server.accountId);
    if (actor) assert.equal(record.actor.iam_id, actor);
    assert.equal(record.actor.client_address, '127.0.0.1');
    assert.match(record.time, MS_TIME);
    assert.match(record.hash, HEX64);
    assert.match(record.prev_hash, HEX64);
  }
  if (targetId) assert.equal(result.target.id, targetId);
  return { request, result };
}

// ------------------------------------------------------------------ recording

describe('what is recorded', () => {
  test('service ID create, update, delete: a request and an outcome record each, actor and target', async () => {
    const create = await api(server, 'POST', '/v1/serviceids', {
      ...admin, json: { account_id: server.accountId, name: uniqueName('audited') },
    });
    assert.equal(create.status, 201, create.text);
    const sid = create.body;
    const created = assertPair(await recordsOf(create), {
      action: 'iam-identity.serviceid.create', status: 201, targetType: 'serviceid', targetId: sid.id,
      actor: server.iamId,
    });
    assert.equal(created.request.target.id, null, 'the id is not known before the handler runs');
    assert.equal(created.result.method, 'POST');
    assert.equal(created.result.route, '/v1/serviceids');
    assert.equal(created.result.actor.account_id, server.accountId);
    assert.equal(created.result.error_code, null);

    const update = await api(server, 'PUT', `/v1/serviceids/${sid.id}`, {
      ...admin, headers: { 'If-Match': '*' }, json: { description: 'audited change' },
    });
    assert.equal(update.status, 200, update.text);
    const updated = assertPair(await recordsOf(update), {
      action: 'iam-identity.serviceid.update', status: 200, targetType: 'serviceid', targetId: sid.id,
    });
    assert.equal(updated.request.target.id, sid.id, 'a path id is known before the handler runs');
    assert.equal(updated.result.route, '/v1/serviceids/{id}', 'the route template, not the path');

    const remove = await api(server, 'DELETE', `/v1/serviceids/${sid.id}`, admin);
    assert.equal(remove.status, 204, remove.text);
    assertPair(await recordsOf(remove), {
      action: 'iam-identity.serviceid.delete', status: 204, targetType: 'serviceid', targetId: sid.id,
    });

    const byTarget = await allEvents({ target: sid.id, outcome: 'success' });
    assert.deepEqual(byTarget.map((e) => e.action),
      ['iam-identity.serviceid.delete', 'iam-identity.serviceid.update', 'iam-identity.serviceid.create']);
  });

  test('API key create, update, delete; Basic authentication names the key used', async () => {
    const sid = await createServiceId(server, admin);
    const create = await api(server, 'POST', '/v1/apikeys', {
      apikey: server.apikey, json: { name: uniqueName('audited-key'), iam_id: sid.iam_id },
    });
    assert.equal(create.status, 201, create.text);
    const { result } = assertPair(await recordsOf(create), {
      action: 'iam-identity.apikey.create', status: 201, targetType: 'apikey', targetId: create.body.id,
    });
    assert.match(result.actor.apikey_id, APIKEY_ID_RE, 'the key the caller authenticated with');

    const update = await api(server, 'PUT', `/v1/apikeys/${create.body.id}`, {
      ...admin, headers: { 'If-Match': '*' }, json: { name: uniqueName('renamed') },
    });
    assert.equal(update.status, 200, update.text);
    assertPair(await recordsOf(update), {
      action: 'iam-identity.apikey.update', status: 200, targetType: 'apikey', targetId: create.body.id,
    });
    const lock = await api(server, 'POST', `/v1/apikeys/${create.body.id}/lock`, admin);
    assert.equal(lock.status, 204, lock.text);
    assertPair(await recordsOf(lock), {
      action: 'iam-identity.apikey.lock', status: 204, targetType: 'apikey', targetId: create.body.id,
    });
    const unlock = await api(server, 'DELETE', `/v1/apikeys/${create.body.id}/lock`, admin);
    assert.equal(unlock.status, 204, unlock.text);
    const remove = await api(server, 'DELETE', `/v1/apikeys/${create.body.id}`, admin);
    assert.equal(remove.status, 204, remove.text);
    assertPair(await recordsOf(remove), {
      action: 'iam-identity.apikey.delete', status: 204, targetType: 'apikey', targetId: create.body.id,
    });
  });

  test('refusals are recorded with their outcome: 400 validation, 404 unknown id, 403 not allowed, 409', async () => {
    const invalid = await api(server, 'POST', '/v1/serviceids', {
      ...admin, json: { account_id: server.accountId, name: uniqueName('x'), unknown_field: 1 },
    });
    assertIbmError(invalid, 400);
    const bad = assertPair(await recordsOf(invalid), {
      action: 'iam-identity.serviceid.create', status: 400, outcome: 'failure', targetType: 'serviceid',
    });
    assert.equal(bad.result.message_code, invalid.body.errors[0].message_code);
    assert.equal(bad.result.error_code, invalid.body.errors[0].code);
    assert.equal(bad.result.target.id, null);

    const missing = randomServiceId();
    const notFound = await api(server, 'DELETE', `/v1/serviceids/${missing}`, admin);
    assertIbmError(notFound, 404);
    const nf = assertPair(await recordsOf(notFound), {
      action: 'iam-identity.serviceid.delete', status: 404, outcome: 'failure', targetType: 'serviceid',
      targetId: missing,
    });
    assert.equal(nf.result.message_code, 'BXNIM0103E');

    const weak = await sidWithToken(server, admin);
    const victim = await createServiceId(server, admin);
    const denied = await api(server, 'DELETE', `/v1/serviceids/${victim.id}`, weak.auth);
    assertIbmError(denied, 403);
    const dn = assertPair(await recordsOf(denied), {
      action: 'iam-identity.serviceid.delete', status: 403, outcome: 'failure', targetType: 'serviceid',
      targetId: victim.id, actor: weak.iamId,
    });
    assert.equal(dn.result.actor.account_id, server.accountId);
    assert.equal(dn.result.message_code, 'BXNIM0513E');

    const stale = await api(server, 'PUT', `/v1/serviceids/${weak.id}`, {
      ...admin, headers: { 'If-Match': '1-00000000000000000000000000000000' }, json: { description: 'x' },
    });
    assert.equal(stale.status, 409, stale.text);
    assertPair(await recordsOf(stale), {
      action: 'iam-identity.serviceid.update', status: 409, outcome: 'failure', targetType: 'serviceid',
      targetId: weak.id,
    });
  });

  test('an unauthenticated write is recorded (401), outside every account: only verify and the database see it', async () => {
    const before = await rowCount(server);
    const res = await api(server, 'POST', '/v1/serviceids', {
      json: { account_id: server.accountId, name: uniqueName('anon') },
    });
    assertIbmError(res, 401);
    assert.equal(await rowCount(server), before + 2, 'a request and an outcome record');
    const id = res.headers.get('transaction-id');
    const rows = await sql(server, `SELECT phase || ',' || outcome || ',' || status || ',' || coalesce(account_id, '-') ` +
      `FROM audit_events WHERE request_id = '${id}' ORDER BY seq`);
    assert.deepEqual(rows.trim().split('\n'), ['request,pending,0,-', 'outcome,failure,401,-']);
    assert.equal((await recordsOf(res)).length, 0, 'not listed in the account');
  });

  test('console sign-in and sign-out are recorded with the identity that signed in', async () => {
    const signIn = await api(server, 'POST', '/console/api/session', { json: { apikey: server.apikey } });
    assert.equal(signIn.status, 200, signIn.text);
    const cookie = signIn.headers.getSetCookie().find((line) => line.startsWith('iamd_session=')).split(';')[0];
    // Before the handler runs nobody is signed in: the request record has no actor and no account (so it is
    // in no account's list); the outcome names who signed in.
    const created = await recordsOf(signIn);
    assert.equal(created.length, 1);
    assert.equal(created[0].phase, 'outcome');
    assert.equal(created[0].action, 'iam-identity.session.create');
    assert.equal(created[0].outcome, 'success');
    assert.equal(created[0].status, 200);
    assert.equal(created[0].actor.iam_id, server.iamId);
    assert.match(created[0].actor.apikey_id, APIKEY_ID_RE);
    assert.equal(created[0].target.account_id, server.accountId);
    const id = signIn.headers.get('transaction-id');
    const rows = await sql(server, `SELECT phase || ',' || coalesce(actor_iam_id, '-') || ',' || coalesce(account_id, '-') ` +
      `FROM audit_events WHERE request_id = '${id}' ORDER BY seq`);
    assert.equal(rows.trim().split('\n')[0], 'request,-,-');

    const signOut = await api(server, 'DELETE', '/console/api/session', {
      headers: { Cookie: cookie, 'X-CSRF-Token': signIn.body.csrf_token },
    });
    assert.equal(signOut.status, 204, signOut.text);
    assertPair(await recordsOf(signOut), {
      action: 'iam-identity.session.delete', status: 204, targetType: 'session', actor: server.iamId,
    });
  });

  test('reads, tokens and authorization decisions write nothing per request (tokens are counted in batches)', async () => {
    const sid = await createServiceId(server, admin);
    const before = await rowCount(server);
    assert.equal((await api(server, 'GET', `/v1/serviceids/${sid.id}`, admin)).status, 200);
    assert.equal((await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId } })).status, 200);
    await getToken(server.url, server.apikey);
    const bad = await api(server, 'POST', '/identity/token', {
      body: 'grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=wrong', contentType: 'application/x-www-form-urlencoded',
    });
    assert.ok(bad.status >= 400 && bad.status < 500, bad.text);
    const decision = await api(server, 'POST', '/v2/authz', {
      ...admin,
      json: [{ subject: { attributes: { id: server.iamId } }, action: 'iam-identity.serviceid.get',
        resource: { attributes: { accountId: server.accountId, serviceName: 'iam-identity' } } }],
    });
    assert.ok(decision.status < 500, decision.text);
    assert.equal((await listEvents({ account_id: server.accountId })).status, 200);
    assert.equal(await rowCount(server), before);
  });

  test('no secret in any record: key values, the bootstrap key, passwords, tokens, cookies', async () => {
    const { key } = await serviceIdWithKey(server, admin);
    const userKey = await createApiKey(server, admin, { iam_id: server.iamId });
    const supplied = `iamd_supplied${'Z'.repeat(40)}`;
    const sid = await createServiceId(server, admin);
    const own = await api(server, 'POST', '/v1/apikeys', { ...admin, json: { name: 'own', iam_id: sid.iam_id, apikey: supplied } });
    assert.equal(own.status, 201, own.text);
    const account = await createAccount(server, admin);
    const signIn = await api(server, 'POST', '/console/api/session', { json: { apikey: key } });
    assert.equal(signIn.status, 200, signIn.text);
    const cookie = signIn.headers.getSetCookie().find((line) => line.startsWith('iamd_session=')).split(';')[0].split('=')[1];
    const secrets = [key, userKey.apikey, supplied, server.apikey, account.password, admin.token, account.auth.token,
      cookie, signIn.body.csrf_token];
    const listed = JSON.stringify(await allEvents());
    const stored = await sql(server, 'SELECT * FROM audit_events');
    assert.ok(listed.length > 1000 && stored.length > 1000, 'there are records to search');
    for (const secret of secrets) {
      assert.ok(secret && secret.length >= 16, 'a real secret');
      assert.ok(!listed.includes(secret), `a secret appears in the listed records (${secret.slice(0, 6)}...)`);
      assert.ok(!stored.includes(secret), `a secret appears in the audit table (${secret.slice(0, 6)}...)`);
    }
  });
});

// ------------------------------------------------------------------ reading

describe('GET /v1/audit/events', () => {
  test('newest first, IBM paging with limit and next; pages neither overlap nor skip', async () => {
    for (let i = 0; i < 3; i++) await createServiceId(server, admin);
    const all = await allEvents();
    assert.ok(all.length >= 8);
    const seqs = all.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first');

    const first = await listEvents({ account_id: server.accountId, limit: 3 });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.limit, 3);
    assert.equal(first.body.events.length, 3);
    assert.match(first.body.first, /\/v1\/audit\/events\?account_id=[0-9a-f]{32}&limit=3$/);
    assert.equal(typeof first.body.next, 'string');
    const paged = [];
    let res = first;
    for (let i = 0; i < 100; i++) {
      paged.push(...res.body.events.map((e) => e.seq));
      if (!res.body.next) break;
      const next = new URL(res.body.next);
      assert.equal(next.searchParams.get('account_id'), server.accountId, 'next repeats the filters');
      res = await api(server, 'GET', `${next.pathname}${next.search}`, admin);
      assert.equal(res.status, 200, res.text);
    }
    /* Records written after the first page (none here: reads are not recorded) would not shift pages anyway. */
    assert.deepEqual(paged, seqs);
  });

  test('filters: actor, action, target, outcome, from/to; they survive paging', async () => {
    const weak = await sidWithToken(server, admin);
    const victim = await createServiceId(server, admin);
    assertIbmError(await api(server, 'DELETE', `/v1/serviceids/${victim.id}`, weak.auth), 403);
    assertIbmError(await api(server, 'POST', `/v1/serviceids/${victim.id}/lock`, weak.auth), 403);

    const byActor = await allEvents({ actor: weak.iamId });
    assert.equal(byActor.length, 4);
    assert.ok(byActor.every((e) => e.actor.iam_id === weak.iamId));
    const failures = await allEvents({ actor: weak.iamId, outcome: 'failure' });
    assert.equal(failures.length, 2);
    assert.ok(failures.every((e) => e.status === 403 && e.message_code === 'BXNIM0513E'));
    const pending = await allEvents({ actor: weak.iamId, outcome: 'pending' });
    assert.equal(pending.length, 2);
    const byAction = await allEvents({ action: 'iam-identity.serviceid.create', outcome: 'success' });
    assert.ok(byAction.length >= 1 && byAction.every((e) => e.action === 'iam-identity.serviceid.create' && e.status === 201));
    const byTarget = await allEvents({ target: victim.id });
    assert.ok(byTarget.length >= 5 && byTarget.every((e) => e.target.id === victim.id));
    assert.deepEqual(byTarget.filter((e) => e.phase === 'outcome').map((e) => e.action),
      ['iam-identity.serviceid.lock', 'iam-identity.serviceid.delete', 'iam-identity.serviceid.create']);

    const newest = byActor[0];
    const past = '2001-01-01T00:00:00Z';
    const future = '2999-01-01T00:00:00Z';
    assert.equal((await allEvents({ actor: weak.iamId, to: past })).length, 0);
    assert.equal((await allEvents({ actor: weak.iamId, from: future })).length, 0);
    assert.equal((await allEvents({ actor: weak.iamId, from: past, to: future })).length, 4);
    const fromNewestSecond = newest.time.slice(0, 19) + 'Z';
    assert.ok((await allEvents({ actor: weak.iamId, from: fromNewestSecond })).some((e) => e.seq === newest.seq));

    const page = await listEvents({ account_id: server.accountId, actor: weak.iamId, limit: 1 });
    assert.equal(page.body.events.length, 1);
    const next = new URL(page.body.next);
    const second = await api(server, 'GET', EVENTS, { ...admin, query: { pagetoken: next.searchParams.get('pagetoken') } });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.events[0].actor.iam_id, weak.iamId, 'the pagetoken carries the filter');
    assert.ok(second.body.events[0].seq < page.body.events[0].seq);
  });

  test('GET /v1/audit/events/{seq}: one record; unknown, malformed and out-of-account seqs are 404', async () => {
    const [latest] = (await listEvents({ account_id: server.accountId, limit: 1 })).body.events;
    const one = await api(server, 'GET', `${EVENTS}/${latest.seq}`, admin);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body, latest);
    assertIbmError(await api(server, 'GET', `${EVENTS}/99999999999`, admin), 404);
    assertIbmError(await api(server, 'GET', `${EVENTS}/abc`, admin), 404);
    assertIbmError(await api(server, 'GET', `${EVENTS}/0`, admin), 404);
    const anon = (await sql(server, 'SELECT seq FROM audit_events WHERE account_id IS NULL LIMIT 1')).trim();
    assertIbmError(await api(server, 'GET', `${EVENTS}/${anon}`, admin), 404);
  });

  test('bad input: 400 for limit, outcome, times, pagetoken and a missing account_id; 401 without credentials', async () => {
    const base = { account_id: server.accountId };
    for (const limit of ['0', '101', 'abc', '-1', '']) assertIbmError(await listEvents({ ...base, limit }), 400, `limit=${limit}`);
    assertIbmError(await listEvents({ ...base, outcome: 'maybe' }), 400);
    assertIbmError(await listEvents({ ...base, from: 'yesterday' }), 400);
    assertIbmError(await listEvents({ ...base, to: '2024-13-45T00:00:00Z' }), 400);
    assertIbmError(await listEvents({ ...base, from: '2024-01-02T00:00:00Z', to: '2024-01-01T00:00:00Z' }), 400);
    assertIbmError(await listEvents({ ...base, pagetoken: 'not-a-token' }), 400);
    assertIbmError(await listEvents({ ...base, pagetoken: Buffer.from('{"b":0,"f":{}}').toString('base64url') }), 400);
    assertIbmError(await listEvents({ ...base, actor: 'x'.repeat(300) }), 400);
    assertIbmError(await listEvents({}), 400);
    assertIbmError(await api(server, 'GET', EVENTS, { query: base }), 401);
  });

  test("another account's records are never visible", async () => {
    const other = await createAccount(server, admin);
    const mine = await allEvents();
    assert.ok(mine.length > 0);
    assertIbmError(await listEvents({ account_id: server.accountId }, other.auth), 404);
    assertIbmError(await api(server, 'GET', `${EVENTS}/${mine[0].seq}`, other.auth), 404);
    assertIbmError(await api(server, 'GET', `${EVENTS}/${mine[0].seq}`, { ...other.auth, query: { account_id: server.accountId } }), 404);
    const theirs = await allEvents({}, other.auth, { ...server, accountId: other.accountId });
    const mySeqs = new Set(mine.map((e) => e.seq));
    assert.ok(theirs.every((e) => !mySeqs.has(e.seq) && e.target.account_id === other.accountId));
    // Their own writes land in their own list, not in ours.
    const created = await api(server, 'POST', '/v1/serviceids', {
      ...other.auth, json: { account_id: other.accountId, name: uniqueName('theirs') },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.headers.get('transaction-id');
    assert.equal((await allEvents({}, other.auth, { ...server, accountId: other.accountId })).filter((e) => e.request_id === id).length, 2);
    assert.equal((await allEvents()).filter((e) => e.request_id === id).length, 0);
    // Admin of A trying to read B's list: 404, and B's account id in A's path changes nothing.
    assertIbmError(await listEvents({ account_id: other.accountId }), 404);
  });

  test('reading needs iam-identity.audit.read (Administrator on iam-identity); Viewer and Operator are 403', async () => {
    const operator = await sidWithToken(server, admin);
    assertIbmError(await listEvents({ account_id: server.accountId }, operator.auth), 403);
    await grant(server, admin, { iamId: operator.iamId, roles: ['Viewer', 'Operator', 'Editor'], resource: { serviceName: 'iam-identity' } });
    assertIbmError(await listEvents({ account_id: server.accountId }, operator.auth), 403);
    const [any] = (await listEvents({ account_id: server.accountId, limit: 1 })).body.events;
    assertIbmError(await api(server, 'GET', `${EVENTS}/${any.seq}`, operator.auth), 403);

    const auditor = await sidWithToken(server, admin);
    await grant(server, admin, { iamId: auditor.iamId, roles: ['Administrator'], resource: { serviceName: 'iam-identity' } });
    const allowed = await listEvents({ account_id: server.accountId, limit: 5 }, auditor.auth);
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.body.events.length, 5);
    const one = await api(server, 'GET', `${EVENTS}/${any.seq}`, auditor.auth);
    assert.equal(one.status, 200, one.text);
  });
});

// ------------------------------------------------------------------ failure modes

describe('when the audit table cannot be written', () => {
  test('fail-closed (the default): writes are refused with 503 and change nothing; reads and tokens go on', async () => {
    const kept = await createServiceId(server, admin);
    const name = uniqueName('never');
    await block(server);
    try {
      const create = await api(server, 'POST', '/v1/serviceids', { ...admin, json: { account_id: server.accountId, name } });
      assertIbmError(create, 503);
      assert.equal(create.body.errors[0].message_code, 'BXNIM0503E');
      const remove = await api(server, 'DELETE', `/v1/serviceids/${kept.id}`, admin);
      assertIbmError(remove, 503);
      const anon = await api(server, 'POST', '/v1/serviceids', { json: { account_id: server.accountId, name } });
      assertIbmError(anon, 503, 'refused before authentication could matter');
      assert.equal((await api(server, 'GET', `/v1/serviceids/${kept.id}`, admin)).status, 200, 'reads work');
      await getToken(server.url, server.apikey); // the token path never writes the trail
    } finally {
      await unblock(server);
    }
    assert.equal((await api(server, 'GET', `/v1/serviceids/${kept.id}`, admin)).status, 200, 'the delete did not happen');
    const list = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name } });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.serviceids.length, 0, 'the create did not happen');
    // Back to normal: writes work and are recorded again.
    const again = await api(server, 'POST', '/v1/serviceids', { ...admin, json: { account_id: server.accountId, name } });
    assert.equal(again.status, 201, again.text);
    assert.equal((await recordsOf(again)).length, 2);
  });

  test('best-effort: the write goes through, the failure is logged', async () => {
    const relaxed = await startServer({ args: ['--audit-mode', 'best-effort', ...QUIET] });
    try {
      const auth = { token: (await getToken(relaxed.url, relaxed.apikey)).access_token };
      await block(relaxed);
      let create;
      try {
        create = await api(relaxed, 'POST', '/v1/serviceids', {
          ...auth, json: { account_id: relaxed.accountId, name: uniqueName('relaxed') },
        });
      } finally {
        await unblock(relaxed);
      }
      assert.equal(create.status, 201, create.text);
      assert.match(relaxed.stderr(), /"event":"audit_write_failed"/);
      assert.equal((await recordsOf(create, relaxed, auth)).length, 0);
      const fine = await api(relaxed, 'POST', '/v1/serviceids', {
        ...auth, json: { account_id: relaxed.accountId, name: uniqueName('relaxed') },
      });
      assert.equal((await recordsOf(fine, relaxed, auth)).length, 2);
      assert.equal((await verify(relaxed)).code, 0, 'a skipped record leaves no hole in the chain');
    } finally {
      await stopAndCheck(relaxed);
    }
  });

  test('an unknown --audit-mode is refused at start (exit 2)', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'iamd-audit-mode-'));
    try {
      await assert.rejects(
        execFileAsync(iamdBinary(), ['--audit-mode', 'sometimes', '--data-dir', dir, '--listen', '127.0.0.1:0'], { timeout: 20_000 }),
        (err) => err.code === 2 && /audit-mode/.test(err.stderr));
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------ token requests and failed authentications

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(text) {
  let c = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** `key` (iamd_ <22 key id> <43 secret> <6 CRC-32>) with another secret and a valid checksum: a wrong value of its id. */
function wrongSecretOf(key) {
  const head = key.slice(0, 27) + [...key.slice(27, 70)].map((ch) => BASE62[(BASE62.indexOf(ch) + 1) % 62]).join('');
  let crc = crc32(head);
  let tail = '';
  for (let i = 0; i < 6; i++) {
    tail = BASE62[crc % 62] + tail;
    crc = Math.floor(crc / 62);
  }
  return head + tail;
}

describe('token requests and failed authentications: counted, written in batches', () => {
  let busy;
  let busyAdmin;
  const FLUSH_MS = 100;

  before(async () => {
    busy = await startServer({ args: ['--usage-flush-ms', String(FLUSH_MS)] });
    busyAdmin = { token: (await getToken(busy.url, busy.apikey)).access_token };
  });
  after(async () => {
    await stopAndCheck(busy);
  });

  /** Aggregate records as stored (every account, or none), by an SQL condition; newest last. */
  async function storedAggregates(condition) {
    const out = await sql(busy, "SELECT seq || '|' || count || '|' || coalesce(actor_apikey_id, '-') || '|' || " +
      "coalesce(account_id, '-') || '|' || coalesce(message_code, '-') || '|' || coalesce(error_code, '-') || '|' || " +
      "status || '|' || coalesce(mechanism, '-') || '|' || route || '|' || method FROM audit_events " +
      `WHERE phase = 'aggregate' AND ${condition} ORDER BY seq`);
    return out.trim().split('\n').filter(Boolean).map((line) => {
      const [seq, count, apikeyId, accountId, messageCode, errorCode, status, mechanism, route, method] = line.split('|');
      return { seq: Number(seq), count: Number(count), apikeyId, accountId, messageCode, errorCode, status: Number(status),
        mechanism, route, method };
    });
  }
  const total = (records) => records.reduce((sum, r) => sum + r.count, 0);
  /** Waits until the records matching `condition` count `expected` events (then two more flushes: no more come). */
  async function settledAggregates(condition, expected) {
    // Generous: under make test's parallel suites (ASan, PostgreSQL, Chromium on two cores) a flush can lag.
    const reached = await eventually(async () => total(await storedAggregates(condition)) >= expected,
      { timeout: 30_000, interval: FLUSH_MS });
    if (!reached) {
      // What the server said besides its access log, to tell a slow flush from a lost one.
      const said = busy.stderr().split('\n').filter((l) => l && !l.includes('"http_request"')).slice(-20).join('\n');
      assert.fail(`records of ${condition} never counted ${expected} events: ` +
        `${JSON.stringify(await storedAggregates(condition))}\nserver log (not access lines):\n${said}`);
    }
    await new Promise((r) => setTimeout(r, 3 * FLUSH_MS));
    return storedAggregates(condition);
  }

  test('N tokens with one key: aggregate records whose counts sum to N, the key id as target, no secret', async () => {
    const { sid, key, keyId } = await serviceIdWithKey(busy, busyAdmin);
    const N = 7;
    const ids = [];
    const tokens = [];
    for (let i = 0; i < N; i++) {
      const res = await tokenRequest(busy.url, key);
      assert.equal(res.status, 200, res.text);
      ids.push(res.headers.get('transaction-id'));
      tokens.push(res.body.access_token);
    }
    const stored = await settledAggregates(`target_id = '${keyId}' AND outcome = 'success'`, N);
    assert.equal(total(stored), N, 'every token counted once');

    // Through the API: the account's list, filtered like any record.
    const listed = await allEvents({ action: 'iam-identity.token.create', target: keyId, outcome: 'success' },
      busyAdmin, busy);
    assert.equal(listed.reduce((sum, e) => sum + e.count, 0), N);
    for (const e of listed) {
      assert.equal(e.phase, 'aggregate');
      assert.ok(e.count >= 1);
      assert.equal(e.method, 'POST');
      assert.equal(e.route, '/identity/token');
      assert.equal(e.mechanism, APIKEY_GRANT);
      assert.equal(e.status, 200);
      assert.equal(e.target.type, 'apikey');
      assert.equal(e.target.id, keyId);
      assert.equal(e.target.account_id, busy.accountId);
      assert.equal(e.actor.iam_id, sid.iam_id);
      assert.equal(e.actor.apikey_id, keyId);
      assert.equal(e.actor.client_address, '127.0.0.1');
      assert.equal(e.error_code, null);
      assert.match(e.window_start, MS_TIME);
      assert.ok(e.window_start <= e.time, 'the window starts before it ends');
      assert.ok(ids.includes(e.request_id), 'request_id is the Transaction-Id of a request it counts');
    }
    assert.ok(listed.some((e) => e.request_id === ids[0]), 'the first record names the first request');

    const text = JSON.stringify(listed) + await sql(busy, 'SELECT * FROM audit_events');
    for (const secret of [key, busy.apikey, busyAdmin.token, ...tokens]) {
      assert.ok(!text.includes(secret), `a secret in the audit records (${secret.slice(0, 8)}...)`);
    }
  });

  test('refused token requests: a failure record with the error code; the key id when the value names one', async () => {
    const { sid, key, keyId } = await serviceIdWithKey(busy, busyAdmin);
    // A wrong value of an existing key id: refused like an unknown key (no lookup on the token path); the
    // id is recorded, and the flush names the key's account so that account sees the guesses at its key.
    const wrong = wrongSecretOf(key);
    for (let i = 0; i < 3; i++) assertTokenError(await tokenRequest(busy.url, wrong), 400, { errorCode: 'BXNIM0415E' });
    const guessed = await settledAggregates(`actor_apikey_id = '${keyId}' AND outcome = 'failure'`, 3);
    assert.equal(total(guessed), 3);
    for (const r of guessed) {
      assert.equal(r.messageCode, 'BXNIM0415E');
      assert.equal(r.errorCode, 'invalid_grant');
      assert.equal(r.status, 400);
      assert.equal(r.accountId, busy.accountId, "the guesses at a key are in the key's account");
      assert.equal(r.mechanism, APIKEY_GRANT);
    }
    const listedGuesses = (await allEvents({ action: 'iam-identity.token.create', target: keyId, outcome: 'failure' },
      busyAdmin, busy)).filter((e) => e.message_code === 'BXNIM0415E');
    assert.equal(listedGuesses.reduce((sum, e) => sum + e.count, 0), 3, "the key's account lists the guesses");
    for (const e of listedGuesses) assert.equal(e.actor.iam_id, null, 'the guesser is not the key owner');
    // A well-formed value whose key id names no key (a deleted key): the id is recorded, no account.
    const gone = await serviceIdWithKey(busy, busyAdmin);
    assert.equal((await api(busy, 'DELETE', `/v1/apikeys/${gone.keyId}`, busyAdmin)).status, 204);
    assertTokenError(await tokenRequest(busy.url, gone.key), 400, { errorCode: 'BXNIM0415E' });
    const orphan = await settledAggregates(`actor_apikey_id = '${gone.keyId}' AND outcome = 'failure'`, 1);
    assert.equal(total(orphan), 1);
    for (const r of orphan) assert.equal(r.accountId, '-', 'an id that names no key belongs to no account');
    // A value in no key format: recorded without a key id.
    const marker = uniqueName('not-a-key');
    const before = total(await storedAggregates("actor_apikey_id IS NULL AND message_code = 'BXNIM0415E'"));
    assertTokenError(await tokenRequest(busy.url, marker), 400, { errorCode: 'BXNIM0415E' });
    const unknown = await settledAggregates("actor_apikey_id IS NULL AND message_code = 'BXNIM0415E'", before + 1);
    assert.equal(total(unknown), before + 1);
    // A disabled key is a known key: its record is in its account, with the owner and the code.
    assert.equal((await api(busy, 'POST', `/v1/apikeys/${keyId}/disable`, busyAdmin)).status, 204);
    assertTokenError(await tokenRequest(busy.url, key), 400, { errorCode: 'BXNIM0416E' });
    const disabled = await eventually(async () => {
      const list = (await allEvents({ action: 'iam-identity.token.create', target: keyId, outcome: 'failure' },
        busyAdmin, busy)).filter((e) => e.message_code === 'BXNIM0416E');
      return list.length ? list : null;
    }, { timeout: 30_000, interval: FLUSH_MS });
    assert.equal(disabled?.length, 1, 'one record for the disabled key, in its account');
    assert.equal(disabled[0].count, 1);
    assert.equal(disabled[0].actor.iam_id, sid.iam_id);
    assert.equal(disabled[0].target.account_id, busy.accountId);
    assert.equal(disabled[0].error_code, 'invalid_grant');
    // Neither the wrong value nor the marker was kept anywhere.
    const text = await sql(busy, 'SELECT * FROM audit_events');
    assert.ok(!text.includes(wrong) && !text.includes(wrong.slice(27, 70)), 'no part of the wrong secret');
    assert.ok(!text.includes(marker), 'no refused value');
    // Unsupported and malformed token requests are counted too, without echoing the client's grant type.
    const odd = uniqueName('grant');
    assertTokenError(await postForm(busy, { grant_type: odd, apikey: key }), 400, { errorCode: 'BXNIM0106E' });
    const unsupported = await settledAggregates("message_code = 'BXNIM0106E'", 1);
    assert.equal(unsupported[0].mechanism, '-');
    assert.ok(!(await sql(busy, 'SELECT * FROM audit_events')).includes(odd));
  });

  test('failed authentications on the APIs: iam-identity.authenticate records; no credentials at all is not one', async () => {
    const { key, keyId } = await serviceIdWithKey(busy, busyAdmin);
    // Not counted: a request without credentials (on a route of its own, so its absence can be checked).
    assertIbmError(await api(busy, 'GET', `/v1/serviceids/${randomServiceId()}`), 401);
    const wrong = wrongSecretOf(key);
    for (let i = 0; i < 2; i++) assertIbmError(await api(busy, 'GET', '/v1/serviceids', { apikey: wrong, query: { account_id: busy.accountId } }), 401);
    assertIbmError(await api(busy, 'GET', '/v1/serviceids', { token: 'not.a.token', query: { account_id: busy.accountId } }), 401);
    const basic = await settledAggregates(`action = 'iam-identity.authenticate' AND actor_apikey_id = '${keyId}'`, 2);
    assert.equal(total(basic), 2);
    assert.deepEqual(basic.map((r) => [r.mechanism, r.route, r.method, r.status, r.messageCode, r.accountId]),
      [['basic-apikey', '/v1/serviceids', 'GET', 401, 'BXNIM0415E', busy.accountId]]); // the key's account
    const bearer = await settledAggregates("action = 'iam-identity.authenticate' AND mechanism = 'bearer' " +
      "AND route = '/v1/serviceids'", 1);
    assert.equal(bearer[0].status, 401);
    assert.equal(bearer[0].messageCode, 'BXNIM0407E');
    assert.deepEqual(await storedAggregates("route = '/v1/serviceids/{id}'"), [], 'no credentials: no record');
    // A write refused for its credentials has its request and outcome records, and is counted here as well.
    const write = await api(busy, 'POST', '/v1/serviceids', { apikey: wrong, json: { account_id: busy.accountId, name: 'x' } });
    assertIbmError(write, 401);
    const counted = await settledAggregates(`action = 'iam-identity.authenticate' AND actor_apikey_id = '${keyId}' ` +
      "AND method = 'POST'", 1);
    assert.equal(total(counted), 1, 'one credential check, counted once');
  });

  test('not fail-closed: tokens are issued while the trail cannot be written, and the counts arrive afterwards', async () => {
    const { key, keyId } = await serviceIdWithKey(busy, busyAdmin);
    await block(busy);
    try {
      for (let i = 0; i < 4; i++) assert.equal((await tokenRequest(busy.url, key)).status, 200);
      await new Promise((r) => setTimeout(r, 4 * FLUSH_MS)); // several flushes fail meanwhile
      assert.deepEqual(await storedAggregates(`target_id = '${keyId}'`), []);
    } finally {
      await unblock(busy);
    }
    assert.match(busy.stderr(), /"event":"audit_batch_flush_failed"/);
    assert.equal((await tokenRequest(busy.url, key)).status, 200);
    const stored = await settledAggregates(`target_id = '${keyId}' AND outcome = 'success'`, 5);
    assert.equal(total(stored), 5, 'the counts kept through the failed flushes, none lost or doubled');
  });

  test('the chain verifies after token activity; verify reports the events the records count', async () => {
    const issued = "action = 'iam-identity.token.create' AND outcome = 'success'";
    const before = total(await storedAggregates(issued));
    await Promise.all([1, 2, 3, 4, 5].map(() => getToken(busy.url, busy.apikey)));
    assert.equal(total(await settledAggregates(issued, before + 5)), before + 5);
    // Nothing is pending now and no request comes before verify: the table holds still.
    const [records, events] = (await sql(busy, "SELECT count(*) || '|' || sum(count) FROM audit_events")).trim()
      .split('|').map(Number);
    const ok = await verify(busy);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, new RegExp(`audit chain intact: ${records} records verified \\(${events} events counted\\)`));
    assert.ok(events > 0 && records > 0);
  });
});

// ------------------------------------------------------------------ verify (last: it tampers with the database)

describe('iamd audit verify', () => {
  test('an intact chain: exit 0, the count and the head; an anchor from an earlier run is accepted', async () => {
    const count = await rowCount(server);
    const ok = await verify(server);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, new RegExp(`audit chain intact: ${count} records verified`));
    const head = ok.stdout.match(/head: (\d+:[0-9a-f]{64})/)[1];
    assert.equal(Number(head.split(':')[0]), count);
    await createServiceId(server, admin);
    const anchored = await verify(server, ['--anchor', head]);
    assert.equal(anchored.code, 0, anchored.stdout);
    const wrong = `${head.split(':')[0]}:${'0'.repeat(64)}`;
    const mismatch = await verify(server, ['--anchor', wrong]);
    assert.equal(mismatch.code, 1, mismatch.stdout);
    assert.match(mismatch.stdout, new RegExp(`broken at seq ${head.split(':')[0]}`));
    assert.equal((await verify(server, ['--anchor', 'nonsense'])).code, 2);
    assert.equal((await verify(server, ['extra-argument'])).code, 2);
  });

  test('the database refuses UPDATE and DELETE of records (append-only triggers)', async () => {
    await assert.rejects(sql(server, "UPDATE audit_events SET outcome = 'success' WHERE seq = 2"));
    await assert.rejects(sql(server, 'DELETE FROM audit_events WHERE seq = 2'));
    assert.equal((await verify(server)).code, 0);
  });

  test('records cut from the end: exit 1 at the first missing seq', async () => {
    await dropGuards(server);
    const count = await rowCount(server);
    await sql(server, `DELETE FROM audit_events WHERE seq > ${count - 2}`);
    const cut = await verify(server);
    assert.equal(cut.code, 1, cut.stdout);
    assert.match(cut.stdout, new RegExp(`broken at seq ${count - 1}:`));
  });

  test('a changed record: exit 1 at its seq (the earliest break is reported)', async () => {
    await sql(server, "UPDATE audit_events SET outcome = 'success', status = 201 WHERE seq = 3");
    const changed = await verify(server);
    assert.equal(changed.code, 1, changed.stdout);
    assert.match(changed.stdout, /broken at seq 3: /);
    assert.match(changed.stdout, /2 records verified before the break/);
  });

  test('a wrong pepper cannot verify anything; a missing one is exit 3', async () => {
    const env = { ...process.env, IAMD_PEPPER: 'ab'.repeat(32) };
    const args = ['audit', 'verify', '--data-dir', server.dataDir, ...(server.databaseUrl ? ['--database', server.databaseUrl] : [])];
    await assert.rejects(execFileAsync(iamdBinary(), args, { env, timeout: 60_000 }),
      (err) => err.code === 1 && /broken at seq 1:/.test(err.stdout));
    const empty = await fsp.mkdtemp(path.join(os.tmpdir(), 'iamd-audit-empty-'));
    try {
      await assert.rejects(execFileAsync(iamdBinary(), ['audit', 'verify', '--data-dir', empty], { timeout: 60_000 }),
        (err) => err.code === 3 && /pepper/.test(err.stderr));
    } finally {
      await fsp.rm(empty, { recursive: true, force: true });
    }
  });
});
