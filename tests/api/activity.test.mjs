// The inactive-identities report of the IBM Identity API (reference section
// 7): POST /v1/activity/accounts/{account_id}/report -> 202 {reference},
// GET .../report/{reference} ("latest" too) -> 200 Report. Which identities
// are listed (used vs never used), the Report's fields, bad input, another
// account, permissions, a second node reading the stored report, and IBM's
// own SDK (IamIdentityV1 createReport/getReport) unchanged.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import {
  IBM_TIME_RE, api, assertIbmError, createServiceId, getToken, serviceIdWithKey,
} from './lib/http.mjs';
import { assertDenied, createAccount, createUser, grant, sidWithToken, uniqueLogin } from './lib/access.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

const require = createRequire(import.meta.url);
const IamIdentityV1 = require('@ibm-cloud/platform-services/iam-identity/v1');
const { IamAuthenticator } = require('ibm-cloud-sdk-core');

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
});

after(async () => {
  await stopAndCheck(server);
});

const reportPath = (accountId = server.accountId) => `/v1/activity/accounts/${accountId}/report`;

/** POST a report; asserts 202 and returns the reference. */
async function createReport(auth, query = { type: 'inactive', duration: '720' }, accountId = server.accountId) {
  const res = await api(server, 'POST', reportPath(accountId), { ...auth, query });
  assert.equal(res.status, 202, `create report: ${res.status} ${res.text.slice(0, 400)}`);
  assert.equal(typeof res.body?.reference, 'string', res.text);
  assert.ok(res.body.reference.length > 0);
  assert.deepEqual(Object.keys(res.body), ['reference']);
  return res.body.reference;
}

/** GET a report; asserts 200 and returns it. */
async function getReport(auth, reference, accountId = server.accountId, base = server) {
  const res = await api(base, 'GET', `${reportPath(accountId)}/${reference}`, auth);
  assert.equal(res.status, 200, `get report ${reference}: ${res.status} ${res.text.slice(0, 400)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return res.body;
}

const ibmTime = (text) => Date.parse(text.replace(/\+0000$/, '+00:00'));

describe('the inactive-identities report', () => {
  let used;       // a service ID whose key made a token
  let unused;     // a service ID whose key never did
  let keyless;    // a service ID without keys
  let signedIn;   // a user who signed in with a password
  let neverUser;  // a user who never signed in
  let reference;
  let report;

  before(async () => {
    used = await serviceIdWithKey(server, admin);
    await getToken(server.url, used.key);
    unused = await serviceIdWithKey(server, admin);
    keyless = await createServiceId(server, admin);
    signedIn = await createUser(server, admin);
    const login = uniqueLogin('never');
    const res = await api(server, 'POST', `/v1/accounts/${server.accountId}/users`, {
      ...admin, json: { login, email: `${login}@example.com`, given_name: 'Never', family_name: 'Seen' },
    });
    assert.equal(res.status, 201, res.text);
    neverUser = res.body;
    reference = await createReport(admin);
    report = await getReport(admin, reference);
  });

  test("the Report's fields", () => {
    assert.equal(report.created_by, server.iamId);
    assert.equal(report.reference, reference);
    assert.equal(report.report_duration, '720');
    assert.match(report.report_start_time, IBM_TIME_RE);
    assert.match(report.report_end_time, IBM_TIME_RE);
    assert.equal(ibmTime(report.report_end_time) - ibmTime(report.report_start_time), 720 * 3600 * 1000);
    assert.ok(Math.abs(ibmTime(report.report_end_time) - Date.now()) < 5 * 60 * 1000, 'ends now');
    for (const list of ['users', 'apikeys', 'serviceids', 'profiles']) assert.ok(Array.isArray(report[list]), list);
    assert.deepEqual(report.profiles, []);
  });

  test('never-used service IDs and keys are listed; used ones are not', () => {
    const sids = new Map(report.serviceids.map((s) => [s.id, s]));
    assert.deepEqual(sids.get(unused.sid.id), { id: unused.sid.id, name: unused.sid.name });
    assert.deepEqual(sids.get(keyless.id), { id: keyless.id, name: keyless.name });
    assert.equal(sids.has(used.sid.id), false, 'a service ID whose key made a token is active');

    const keys = new Map(report.apikeys.map((k) => [k.id, k]));
    assert.deepEqual(keys.get(unused.keyId), {
      id: unused.keyId, name: unused.sid.apikey.name, type: 'serviceid',
      serviceid: { id: unused.sid.id, name: unused.sid.name },
    });
    assert.equal(keys.has(used.keyId), false, 'a key that made a token is active');
    for (const key of report.apikeys) assert.notEqual(key.iam_id, server.iamId, 'the bootstrap key was used');
  });

  test('users who never signed in are listed; users who did are not', () => {
    const users = new Map(report.users.map((u) => [u.iam_id, u]));
    assert.deepEqual(users.get(neverUser.iam_id), {
      iam_id: neverUser.iam_id, name: 'Never Seen', username: neverUser.login, email: neverUser.email,
    });
    assert.equal(users.has(signedIn.iamId), false, 'a password sign-in is activity');
    assert.equal(users.has(server.iamId), false, "the owner's key was used");
  });

  test('a key that authenticates leaves the next report, and latest is the newest report', async () => {
    const before = await getReport(admin, 'latest');
    assert.equal(before.reference, reference);
    // HTTP Basic apikey authentication is a use of the key too (authenticated, then not allowed: no policy).
    const res = await api(server, 'GET', `/v1/serviceids/${unused.sid.id}`, { apikey: unused.key });
    assertDenied(res, 'the key authenticated');
    const next = await createReport(admin, { duration: '1h' });
    assert.notEqual(next, reference);
    const latest = await getReport(admin, 'latest');
    assert.equal(latest.reference, next);
    assert.equal(latest.report_duration, '1');
    assert.equal(latest.apikeys.some((k) => k.id === unused.keyId), false, 'used since');
    assert.equal(latest.serviceids.some((s) => s.id === unused.sid.id), false, 'its service ID too');
    assert.ok(latest.serviceids.some((s) => s.id === keyless.id));
    // The first report is unchanged.
    assert.deepEqual(await getReport(admin, reference), report);
  });

  test('type and duration default to inactive and 720 hours', async () => {
    const ref = await createReport(admin, {});
    assert.equal((await getReport(admin, ref)).report_duration, '720');
  });

  test('bad type or duration is 400 and makes no report', async () => {
    const latest = (await getReport(admin, 'latest')).reference;
    const bad = [{ duration: '0' }, { duration: '-1' }, { duration: 'abc' }, { duration: '720d' },
      { duration: '8761' }, { duration: '' }, { duration: '0720' }, { duration: ' 720' }, { duration: '1.5' },
      { duration: '99999999999999999999' }, { type: 'mfa_status' }, { type: '' }];
    for (const query of bad) {
      const res = await api(server, 'POST', reportPath(), { ...admin, query });
      assertIbmError(res, 400, JSON.stringify(query));
      assert.equal(res.body.errors[0].message_code, 'BXNIM0110E', JSON.stringify(query));
    }
    assert.equal((await getReport(admin, 'latest')).reference, latest);
    await createReport(admin, { duration: '8760' }); // the bound itself is fine
  });

  test('an unknown reference is 404', async () => {
    for (const ref of ['test123', '00000000-0000-4000-8000-000000000000', 'x'.repeat(200)]) {
      const res = await api(server, 'GET', `${reportPath()}/${ref}`, admin);
      assertIbmError(res, 404, ref);
      assert.equal(res.body.errors[0].message_code, 'BXNIM0112E');
    }
  });

  test('another account is 404, both ways', async () => {
    const other = await createAccount(server, admin);
    for (const [method, path] of [['POST', reportPath(other.accountId)],
      ['GET', `${reportPath(other.accountId)}/latest`], ['GET', `${reportPath(other.accountId)}/${reference}`]]) {
      const res = await api(server, method, path, admin);
      assertIbmError(res, 404, `${method} ${path}`);
      assert.equal(res.body.errors[0].message_code, 'BXNIM0105E');
    }
    // The other account's owner has no report of ours, even with the right reference.
    const res = await api(server, 'GET', `${reportPath(other.accountId)}/${reference}`, other.auth);
    assertIbmError(res, 404);
    assert.equal(res.body.errors[0].message_code, 'BXNIM0112E');
    const theirs = await createReport(other.auth, {}, other.accountId);
    const mine = await api(server, 'GET', `${reportPath()}/${theirs}`, admin);
    assertIbmError(mine, 404);
    // Their report lists their identities only.
    const body = await getReport(other.auth, theirs, other.accountId);
    assert.equal(body.serviceids.some((s) => s.id === keyless.id), false);
    assert.equal(body.users.some((u) => u.iam_id === neverUser.iam_id), false);
  });

  test('only Administrator on iam-identity (or the owner) may create and read reports', async () => {
    const plain = await sidWithToken(server, admin);
    const viewer = await sidWithToken(server, admin);
    const administrator = await sidWithToken(server, admin);
    await grant(server, admin, { iamId: viewer.iamId, roles: ['Viewer', 'Operator', 'Editor'], resource: { serviceName: 'iam-identity' } });
    await grant(server, admin, { iamId: administrator.iamId, roles: ['Administrator'], resource: { serviceName: 'iam-identity' } });
    for (const who of [plain, viewer]) {
      assertDenied(await api(server, 'POST', reportPath(), who.auth), 'create');
      assertDenied(await api(server, 'GET', `${reportPath()}/${reference}`, who.auth), 'get');
      assertDenied(await api(server, 'GET', `${reportPath()}/latest`, who.auth), 'latest');
    }
    const ref = await createReport(administrator.auth);
    const body = await getReport(administrator.auth, ref);
    assert.equal(body.created_by, administrator.iamId);
    assert.equal((await getReport(administrator.auth, reference)).reference, reference);
    assertIbmError(await api(server, 'POST', reportPath()), 401);
    assertIbmError(await api(server, 'GET', `${reportPath()}/${reference}`), 401);
  });

  test('another node on the same database reads the stored report', async () => {
    const second = await startServer({ dataDir: server.dataDir });
    try {
      // Each node's tokens name its own URL as issuer: authenticate there with the key itself.
      assert.deepEqual(await getReport({ apikey: server.apikey }, reference, server.accountId, second), report);
    } finally {
      await stopAndCheck(second);
    }
  });
});

describe("IBM's SDK (IamIdentityV1) against iamd", () => {
  let service;

  before(() => {
    service = new IamIdentityV1({
      authenticator: new IamAuthenticator({ apikey: server.apikey, url: server.url }),
      serviceUrl: server.url,
    });
  });

  test('createReport, getReport (200 at once), getReport latest, unknown reference', async () => {
    const created = await service.createReport({ accountId: server.accountId, type: 'inactive', duration: '120' });
    assert.equal(created.status, 202);
    const { reference } = created.result;
    assert.equal(typeof reference, 'string');
    const got = await service.getReport({ accountId: server.accountId, reference });
    assert.equal(got.status, 200);
    assert.equal(got.result.created_by, server.iamId);
    assert.equal(got.result.reference, reference);
    assert.equal(got.result.report_duration, '120');
    assert.match(got.result.report_start_time, IBM_TIME_RE);
    assert.match(got.result.report_end_time, IBM_TIME_RE);
    const latest = await service.getReport({ accountId: server.accountId, reference: 'latest' });
    assert.equal(latest.result.reference, reference);
    await assert.rejects(service.getReport({ accountId: server.accountId, reference: 'test123' }),
      (err) => err.status === 404);
  });
});
