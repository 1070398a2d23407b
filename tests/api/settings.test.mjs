// Account settings (section 6) and the empty stub lists IBM's IT cleanup needs (section 10.10).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ENTITY_TAG_RE, api, assertIbmError, getToken, randomAccountId, serviceIdWithKey } from './lib/http.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

let server;
let admin;
let path;

before(async () => {
  server = await startServer();
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
  path = `/v1/accounts/${server.accountId}/settings/identity`;
});

after(async () => {
  await stopAndCheck(server);
});

const RESTRICT = ['RESTRICTED', 'NOT_RESTRICTED', 'NOT_SET'];
const MFA = ['NONE', 'NONE_NO_ROPC', 'TOTP', 'TOTP4ALL', 'LEVEL1', 'LEVEL2', 'LEVEL3'];

const getSettings = (query, auth = admin) => api(server, 'GET', path, { ...auth, query });
const putSettings = (json, etag, auth = admin) =>
  api(server, 'PUT', path, { ...auth, json, headers: etag === undefined ? {} : { 'If-Match': etag } });

describe('account settings', () => {
  test('GET: IBM IT fields, history always present, string-typed numbers, ETag == entity_tag', async () => {
    const res = await getSettings();
    assert.equal(res.status, 200, res.text);
    const b = res.body;
    assert.equal(b.account_id, server.accountId);
    assert.match(b.entity_tag, ENTITY_TAG_RE);
    assert.equal(res.headers.get('etag'), b.entity_tag, 'ETag header == entity_tag');
    assert.ok(Array.isArray(b.history), 'history present even without include_history');
    assert.ok(RESTRICT.includes(b.restrict_create_service_id), `restrict_create_service_id ${b.restrict_create_service_id}`);
    assert.ok(RESTRICT.includes(b.restrict_create_platform_apikey), `restrict_create_platform_apikey ${b.restrict_create_platform_apikey}`);
    assert.ok(MFA.includes(b.mfa), `mfa ${b.mfa}`);
    for (const f of ['session_expiration_in_seconds', 'session_invalidation_in_seconds',
      'system_access_token_expiration_in_seconds', 'system_refresh_token_expiration_in_seconds']) {
      assert.equal(typeof b[f], 'string', `${f} is a string (got ${JSON.stringify(b[f])})`);
    }
    if (b.max_sessions_per_identity !== undefined) assert.equal(typeof b.max_sessions_per_identity, 'string');
    if (b.user_mfa !== undefined) assert.ok(Array.isArray(b.user_mfa));
  });

  test('PUT with If-Match echoes every field it sent; entity_tag == ETag; GET agrees; history grows', async () => {
    const etag = (await getSettings()).body.entity_tag;
    const sent = {
      restrict_create_service_id: 'NOT_RESTRICTED',
      restrict_create_platform_apikey: 'RESTRICTED',
      restrict_user_list_visibility: 'NOT_RESTRICTED',
      allowed_ip_addresses: '192.0.2.0/24,198.51.100.7',
      mfa: 'TOTP',
      session_expiration_in_seconds: '86400',
      session_invalidation_in_seconds: '7200',
      max_sessions_per_identity: '10',
      system_access_token_expiration_in_seconds: '3600',
      system_refresh_token_expiration_in_seconds: '259200',
      user_mfa: [{ iam_id: server.iamId, mfa: 'NONE' }],
      restrict_user_domains: [{ realm_id: 'IBMid', invitation_email_allow_patterns: ['*.*@example.com'], restrict_invitation: false }],
    };
    const res = await putSettings(sent, etag);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.account_id, server.accountId);
    assert.equal(res.body.entity_tag, res.headers.get('etag'), 'IBM IT: result.entity_tag === res.headers.etag');
    assert.notEqual(res.body.entity_tag, etag);
    for (const [k, v] of Object.entries(sent)) {
      if (k === 'user_mfa') {
        assert.equal(res.body.user_mfa?.[0]?.iam_id, server.iamId, 'user_mfa[0].iam_id');
        assert.equal(res.body.user_mfa?.[0]?.mfa, 'NONE', 'user_mfa[0].mfa');
      } else {
        assert.deepEqual(res.body[k], v, `${k} echoed`);
      }
    }
    const got = await getSettings({ include_history: true });
    assert.equal(got.body.entity_tag, res.body.entity_tag);
    assert.equal(got.body.mfa, 'TOTP');
    assert.equal(got.body.session_expiration_in_seconds, '86400');
    assert.ok(got.body.history.length >= 1, 'the update is in the history');
  });

  test('IBM IT update body (NOT_RESTRICTED, NONE, 86400/7200) and NOT_SET', async () => {
    let etag = (await getSettings()).body.entity_tag;
    let res = await putSettings({
      restrict_create_service_id: 'NOT_RESTRICTED', restrict_create_platform_apikey: 'NOT_RESTRICTED',
      mfa: 'NONE', session_expiration_in_seconds: '86400', session_invalidation_in_seconds: '7200',
    }, etag);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.restrict_create_service_id, 'NOT_RESTRICTED');
    assert.equal(res.body.mfa, 'NONE');
    etag = res.body.entity_tag;
    res = await putSettings({ session_expiration_in_seconds: 'NOT_SET', restrict_create_service_id: 'NOT_SET' }, etag);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.session_expiration_in_seconds, 'NOT_SET');
    assert.equal(res.body.restrict_create_service_id, 'NOT_SET');
    assert.equal(res.body.mfa, 'NONE', 'fields not sent are kept');
  });

  test('If-Match required (400), stale (409), * accepted', async () => {
    const etag = (await getSettings()).body.entity_tag;
    assertIbmError(await putSettings({ mfa: 'NONE' }), 400, 'missing If-Match');
    const ok = await putSettings({ mfa: 'LEVEL1' }, etag);
    assert.equal(ok.status, 200, ok.text);
    assertIbmError(await putSettings({ mfa: 'NONE' }, etag), 409, 'stale If-Match');
    assert.equal((await getSettings()).body.mfa, 'LEVEL1', 'stale update changed nothing');
    const star = await putSettings({ mfa: 'NONE' }, '*');
    assert.equal(star.status, 200, star.text);
    assert.equal(star.body.mfa, 'NONE');
  });

  test('invalid values -> 400 and nothing changes', async () => {
    const before0 = (await getSettings()).body;
    const cases = {
      'mfa bogus': { mfa: 'BOGUS' },
      'mfa lowercase': { mfa: 'none' },
      'restrict_create_service_id bogus': { restrict_create_service_id: 'MAYBE' },
      'restrict_user_list_visibility bogus': { restrict_user_list_visibility: 'SOMETIMES' },
      'session_expiration_in_seconds as a number': { session_expiration_in_seconds: 86400 },
      'session_expiration_in_seconds below 900': { session_expiration_in_seconds: '10' },
      'session_expiration_in_seconds above 86400': { session_expiration_in_seconds: '86401' },
      'session_expiration_in_seconds not a number': { session_expiration_in_seconds: 'ten' },
      'system_access_token_expiration_in_seconds above 3600': { system_access_token_expiration_in_seconds: '7200' },
      'user_mfa not an array': { user_mfa: 'x' },
      'user_mfa entry with bad mfa': { user_mfa: [{ iam_id: server.iamId, mfa: 'BOGUS' }] },
      'unknown field': { bogus: 'x' },
      'account_id is not settable': { account_id: randomAccountId() },
    };
    for (const [name, body] of Object.entries(cases)) {
      assertIbmError(await putSettings(body, before0.entity_tag), 400, name);
    }
    const malformed = await api(server, 'PUT', path, { ...admin, body: '{', contentType: 'application/json', headers: { 'If-Match': '*' } });
    assertIbmError(malformed, 400, 'malformed JSON');
    const after0 = (await getSettings()).body;
    assert.equal(after0.entity_tag, before0.entity_tag, 'rejected updates change nothing');
  });

  test("another account's settings -> 403/404; unauthenticated -> 401", async () => {
    const other = `/v1/accounts/${randomAccountId()}/settings/identity`;
    const g = await api(server, 'GET', other, admin);
    assert.ok([403, 404].includes(g.status), `GET other: ${g.status} ${g.text}`);
    assertIbmError(g, g.status);
    const p = await api(server, 'PUT', other, { ...admin, json: { mfa: 'NONE' }, headers: { 'If-Match': '*' } });
    assert.ok([403, 404].includes(p.status), `PUT other: ${p.status} ${p.text}`);
    assertIbmError(await api(server, 'GET', path), 401, 'no auth');
  });

  test('a service ID may not change the account settings', async () => {
    const { key } = await serviceIdWithKey(server, admin);
    const sidAuth = { token: (await getToken(server.url, key)).access_token };
    const res = await putSettings({ mfa: 'TOTP4ALL' }, '*', sidAuth);
    assertIbmError(res, 403, 'service ID PUT settings');
    assert.notEqual((await getSettings()).body.mfa, 'TOTP4ALL');
  });
});

describe('stub lists IBM IT cleanup calls', () => {
  for (const [p, key] of [
    ['/v1/profiles', 'profiles'],
    ['/v1/profile_templates', 'profile_templates'],
    ['/v1/account_settings_templates', 'account_settings_templates'],
  ]) {
    test(`GET ${p} -> 200 with an empty ${key} list`, async () => {
      const res = await api(server, 'GET', p, { ...admin, query: { account_id: server.accountId } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body[key], [], `${key}: ${res.text}`);
      assert.ok(!('next' in res.body));
      const unauth = await api(server, 'GET', p, { query: { account_id: server.accountId } });
      assertIbmError(unauth, 401, `${p} without auth`);
    });
  }
});
