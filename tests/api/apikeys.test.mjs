// API keys: /v1/apikeys per sections 1, 4 and 10 of the reference.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  APIKEY_ID_RE, ENTITY_TAG_RE, IBM_TIME_RE, KEY_VALUE_RE,
  api, assertIbmError, assertTokenError, createApiKey, createServiceId, decodeJwt, getToken,
  listAll, randomApiKeyId, serviceIdWithKey, tokenRequest, uniqueName,
} from './lib/http.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
});

after(async () => {
  await stopAndCheck(server);
});

const get = (id, query, auth = admin) => api(server, 'GET', `/v1/apikeys/${id}`, { ...auth, query });
const put = (id, json, etag, auth = admin) =>
  api(server, 'PUT', `/v1/apikeys/${id}`, { ...auth, json, headers: etag === undefined ? {} : { 'If-Match': etag } });
const post = (json, headers = {}, auth = admin) => api(server, 'POST', '/v1/apikeys', { ...auth, json, headers });
const etagOf = async (id) => {
  const res = await get(id);
  assert.equal(res.status, 200, res.text);
  return res.body.entity_tag;
};

function assertApiKeyShape(b, { iamId, name, description } = {}) {
  assert.match(b.id, APIKEY_ID_RE, 'id');
  assert.equal(b.crn, `crn:v1:bluemix:public:iam-identity::a/${server.accountId}::apikey:${b.id}`, 'crn');
  assert.match(b.entity_tag, ENTITY_TAG_RE, 'entity_tag');
  assert.equal(typeof b.locked, 'boolean', 'locked');
  assert.equal(typeof b.disabled, 'boolean', 'disabled');
  assert.match(b.created_at, IBM_TIME_RE, 'created_at');
  assert.match(b.modified_at, IBM_TIME_RE, 'modified_at');
  assert.equal(typeof b.created_by, 'string', 'created_by');
  assert.equal(typeof b.support_sessions, 'boolean', 'support_sessions');
  assert.ok(['none', 'disable', 'delete'].includes(b.action_when_leaked), `action_when_leaked: ${b.action_when_leaked}`);
  assert.equal(b.account_id, server.accountId, 'account_id');
  assert.equal(typeof b.apikey, 'string', 'apikey is always a string');
  if (iamId !== undefined) assert.equal(b.iam_id, iamId, 'iam_id');
  if (name !== undefined) assert.equal(b.name, name, 'name');
  if (description !== undefined) assert.equal(b.description, description, 'description');
}

// --- key format helpers (keyformat: iamd_ <22 key id> <43 secret> <6 CRC-32>, base62 big-endian) ---
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(text) {
  let c = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const ALPHABETS = {
  '0-9A-Za-z': '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  '0-9a-zA-Z': '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
};
function base62Decode(text, alphabet) {
  let v = 0n;
  for (const ch of text) v = v * 62n + BigInt(alphabet.indexOf(ch));
  return v;
}

describe('create', () => {
  test('user key: 201 with the full model and the value; the value gets a token', async () => {
    const name = uniqueName('ukey');
    const res = await post({ name, iam_id: server.iamId, description: 'my key', account_id: server.accountId });
    assert.equal(res.status, 201, res.text);
    assertApiKeyShape(res.body, { iamId: server.iamId, name, description: 'my key' });
    assert.match(res.body.apikey, KEY_VALUE_RE, 'value on create');
    assert.equal(res.body.created_by, server.iamId);
    assert.equal(res.body.locked, false);
    assert.equal(res.body.disabled, false);
    assert.equal(res.body.support_sessions, false, 'IT expects support_sessions false by default');
    const tok = await getToken(server.url, res.body.apikey);
    const claims = decodeJwt(tok.access_token).payload;
    assert.equal(claims.iam_id, server.iamId);
    assert.equal(claims.realmid, 'IBMid');
  });

  test('account_id is optional and defaults to the identity\'s account', async () => {
    const res = await post({ name: uniqueName('noacct'), iam_id: server.iamId });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.account_id, server.accountId);
  });

  test('key value format: iamd_ + key id (the ApiKey uuid) + secret + CRC-32, all base62', async () => {
    const k = await createApiKey(server, admin, { iam_id: server.iamId });
    const v = k.apikey;
    assert.match(v, KEY_VALUE_RE);
    const body = v.slice(5);
    const idPart = body.slice(0, 22);
    const checkPart = body.slice(65);
    const expectedUuid = k.id.slice('ApiKey-'.length).replace(/-/g, '');
    const matches = Object.entries(ALPHABETS).filter(([, alphabet]) =>
      base62Decode(checkPart, alphabet) === BigInt(crc32(v.slice(0, 70))) &&
      base62Decode(idPart, alphabet).toString(16).padStart(32, '0') === expectedUuid);
    assert.equal(matches.length, 1,
      `the 6-char tail must be the base62 CRC-32 of the first 70 chars and the 22-char head must encode ${k.id}`);
    // Two keys never share the secret.
    const k2 = await createApiKey(server, admin, { iam_id: server.iamId });
    assert.notEqual(k2.apikey.slice(27, 70), v.slice(27, 70));
  });

  test('expires_at with and without seconds; kept at least to the minute', async () => {
    for (const input of ['2049-01-02T18:30:00+0000', '2049-01-02T18:30+0000']) {
      const res = await post({ name: uniqueName('exp'), iam_id: server.iamId, expires_at: input });
      assert.equal(res.status, 201, `${input}: ${res.text}`);
      assert.match(res.body.expires_at ?? '', /^2049-01-02T18:30/, `${input} -> ${res.body.expires_at}`);
      assert.match((await get(res.body.id)).body.expires_at ?? '', /^2049-01-02T18:30/);
      assert.equal((await tokenRequest(server.url, res.body.apikey)).status, 200, 'a key expiring in 2049 works');
    }
  });

  test('Entity-Lock / Entity-Disable headers', async () => {
    const res = await post({ name: uniqueName('ld'), iam_id: server.iamId }, { 'Entity-Lock': 'true', 'Entity-Disable': 'true' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.locked, true);
    assert.equal(res.body.disabled, true);
    assertTokenError(await tokenRequest(server.url, res.body.apikey), [400, 401, 403]);
    const res2 = await post({ name: uniqueName('ld'), iam_id: server.iamId }, { 'Entity-Lock': 'false', 'Entity-Disable': 'false' });
    assert.equal(res2.status, 201, res2.text);
    assert.equal(res2.body.locked, false);
    assert.equal(res2.body.disabled, false);
  });

  test('store_value=true on a user key -> 400', async () => {
    assertIbmError(await post({ name: uniqueName('sv'), iam_id: server.iamId, store_value: true }), 400, 'store_value user key');
  });

  test('service ID key with store_value=true returns its value on GET, details and update; without it, ""', async () => {
    const sid = await createServiceId(server, admin);
    const stored = await createApiKey(server, admin, { iam_id: sid.iam_id, store_value: true });
    assert.equal(stored.created_by, server.iamId);
    assert.equal(stored.iam_id, sid.iam_id);
    const got = await get(stored.id);
    assert.equal(got.body.apikey, stored.apikey);
    const det = await api(server, 'GET', '/v1/apikeys/details', { ...admin, headers: { 'IAM-ApiKey': stored.apikey } });
    assert.equal(det.status, 200, det.text);
    assert.equal(det.body.apikey, stored.apikey);
    const upd = await put(stored.id, { description: 'x' }, got.body.entity_tag);
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.apikey, stored.apikey);

    const hidden = await createApiKey(server, admin, { iam_id: sid.iam_id, store_value: false });
    const got2 = await get(hidden.id);
    assert.equal(got2.body.apikey, '');
    assert.ok(!got2.text.includes(hidden.apikey));
  });

  test('client-supplied values: < 32 chars -> 400; >= 32 accepted, echoed, usable; duplicate refused', async () => {
    const sid = await createServiceId(server, admin);
    assertIbmError(await post({ name: 'short', iam_id: sid.iam_id, apikey: 'a'.repeat(31) }), 400, '31 chars');
    const value = 'Client-Supplied_' + crypto.randomBytes(24).toString('base64url');
    assert.ok(value.length >= 32);
    const res = await post({ name: 'own value', iam_id: sid.iam_id, apikey: value });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.apikey, value);
    const tok = await getToken(server.url, value);
    assert.equal(decodeJwt(tok.access_token).payload.iam_id, sid.iam_id);
    const exact32 = crypto.randomBytes(24).toString('base64url');
    assert.equal(exact32.length, 32);
    assert.equal((await post({ name: '32', iam_id: sid.iam_id, apikey: exact32 })).status, 201, '32 chars accepted');
    const dup = await post({ name: 'dup', iam_id: sid.iam_id, apikey: value });
    assert.ok([400, 409].includes(dup.status), `duplicate value: ${dup.status} ${dup.text}`);
    assertIbmError(dup, dup.status);
  });

  test('bad input -> 400', async () => {
    const cases = {
      'missing name': { iam_id: server.iamId },
      'missing iam_id': { name: 'x' },
      'empty name': { name: '', iam_id: server.iamId },
      'name of 256 chars': { name: 'n'.repeat(256), iam_id: server.iamId },
      'description of 1025 chars': { name: 'x', iam_id: server.iamId, description: 'd'.repeat(1025) },
      'name is a number': { name: 1, iam_id: server.iamId },
      'iam_id is a number': { name: 'x', iam_id: 1 },
      'store_value is a string': { name: 'x', iam_id: server.iamId, store_value: 'true' },
      'support_sessions is a string': { name: 'x', iam_id: server.iamId, support_sessions: 'no' },
      'action_when_leaked bogus': { name: 'x', iam_id: server.iamId, action_when_leaked: 'explode' },
      'expires_at garbage': { name: 'x', iam_id: server.iamId, expires_at: 'tomorrow' },
      'expires_at is a number': { name: 'x', iam_id: server.iamId, expires_at: 2524608000 },
      'unknown field': { name: 'x', iam_id: server.iamId, bogus: 1 },
      'invalid account_id': { name: 'x', iam_id: server.iamId, account_id: 'invalid' },
    };
    for (const [name, body] of Object.entries(cases)) assertIbmError(await post(body), 400, name);
    for (const [name, body] of Object.entries({ 'malformed JSON': '{"name":"x",', 'not an object': '[1]', 'empty body': '' })) {
      assertIbmError(await api(server, 'POST', '/v1/apikeys', { ...admin, body, contentType: 'application/json' }), 400, name);
    }
  });

  test('a key for an identity that does not exist -> 400/404', async () => {
    for (const iamId of [`iam-ServiceId-${crypto.randomUUID()}`, 'IBMid-ZZZZZZZZZZ', 'nonsense']) {
      const res = await post({ name: 'x', iam_id: iamId });
      assert.ok([400, 404].includes(res.status), `${iamId}: ${res.status} ${res.text}`);
      assertIbmError(res, res.status, iamId);
    }
  });

  test('action_when_leaked and support_sessions are stored', async () => {
    const res = await post({ name: uniqueName('awl'), iam_id: server.iamId, action_when_leaked: 'disable', support_sessions: true });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.action_when_leaked, 'disable');
    assert.equal(res.body.support_sessions, true);
  });
});

describe('get and details', () => {
  test('user key: value hidden as "", ETag == entity_tag', async () => {
    const k = await createApiKey(server, admin, { iam_id: server.iamId, description: 'd' });
    const res = await get(k.id);
    assert.equal(res.status, 200, res.text);
    assertApiKeyShape(res.body, { iamId: server.iamId, name: k.name, description: 'd' });
    assert.equal(res.body.apikey, '', 'user key values are never returned after create');
    assert.ok(!res.text.includes(k.apikey));
    assert.equal(res.headers.get('etag'), res.body.entity_tag);
    assert.equal(res.body.entity_tag, k.entity_tag);
    assert.equal(res.body.history, undefined);
    assert.equal(res.body.activity, undefined);
  });

  test('include_history and include_activity (authn_count counts exchanges, visible at once)', async () => {
    const { keyId, key } = await serviceIdWithKey(server, admin);
    const h = await get(keyId, { include_history: true, include_activity: true });
    assert.equal(h.status, 200, h.text);
    assert.ok(Array.isArray(h.body.history) && h.body.history.length >= 1, `history: ${h.text}`);
    const rec = h.body.history[0];
    for (const f of ['timestamp', 'iam_id', 'iam_id_account', 'action', 'message']) assert.equal(typeof rec[f], 'string', `history.${f}`);
    assert.ok(Array.isArray(rec.params), 'history.params');
    assert.equal(h.body.activity?.authn_count, 0, `fresh key: ${h.text}`);
    for (let i = 0; i < 3; i++) await getToken(server.url, key);
    const a = await get(keyId, { include_activity: true });
    assert.equal(a.body.activity?.authn_count, 3, `after 3 exchanges: ${a.text}`);
    assert.equal(typeof a.body.activity.last_authn, 'string');
    // Failed exchanges do not count.
    await tokenRequest(server.url, key + 'x');
    const b = await get(keyId, { include_activity: true });
    assert.equal(b.body.activity?.authn_count, 3);
  });

  test('GET /v1/apikeys/details with IAM-ApiKey = bootstrap key (IBM IT getApiKeysDetails)', async () => {
    const res = await api(server, 'GET', '/v1/apikeys/details', { ...admin, headers: { 'IAM-ApiKey': server.apikey }, query: { include_history: true } });
    assert.equal(res.status, 200, res.text);
    assertApiKeyShape(res.body, { iamId: server.iamId });
    assert.equal(res.body.created_by, server.iamId, 'created_by == bootstrap iam_id');
    assert.equal(res.body.locked, false);
    assert.ok(res.body.apikey === '' || res.body.apikey === undefined, 'no value');
    assert.ok(!res.text.includes(server.apikey), 'the value is not echoed');
    assert.ok(Array.isArray(res.body.history) && res.body.history.length >= 1, 'history with include_history');
    const byId = await get(res.body.id);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.name, res.body.name);
  });

  test('details: unknown value -> 400/404; missing header -> 400', async () => {
    const unknown = await api(server, 'GET', '/v1/apikeys/details', { ...admin, headers: { 'IAM-ApiKey': 'iamd_' + 'Q'.repeat(71) } });
    assert.ok([400, 404].includes(unknown.status), `unknown: ${unknown.status} ${unknown.text}`);
    assertIbmError(unknown, unknown.status);
    assertIbmError(await api(server, 'GET', '/v1/apikeys/details', admin), 400, 'missing IAM-ApiKey');
  });

  test('unknown ids -> 404 on every verb', async () => {
    const id = randomApiKeyId();
    assertIbmError(await get(id), 404, 'GET');
    assertIbmError(await put(id, { name: 'x' }, 'invalid'), 404, 'PUT');
    assertIbmError(await api(server, 'DELETE', `/v1/apikeys/${id}`, admin), 404, 'DELETE');
    assertIbmError(await api(server, 'POST', `/v1/apikeys/${id}/lock`, admin), 404, 'lock');
    assertIbmError(await api(server, 'DELETE', `/v1/apikeys/${id}/lock`, admin), 404, 'unlock');
    assertIbmError(await api(server, 'POST', `/v1/apikeys/${id}/disable`, admin), 404, 'disable');
    assertIbmError(await api(server, 'DELETE', `/v1/apikeys/${id}/disable`, admin), 404, 'enable');
    assertIbmError(await get('ApiKey-garbage'), 404, 'malformed id');
  });
});

describe('list', () => {
  test("a service ID's keys, paged with pagesize/pagetoken, values hidden", async () => {
    const sid = await createServiceId(server, admin);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await createApiKey(server, admin, { iam_id: sid.iam_id, name: `k${i}` })).id);
    const otherSid = await createServiceId(server, admin);
    await createApiKey(server, admin, { iam_id: otherSid.iam_id });
    const { pages, items } = await listAll(server, admin, '/v1/apikeys',
      { account_id: server.accountId, iam_id: sid.iam_id, pagesize: 2 }, 'apikeys');
    assert.deepEqual(pages.map((p) => p.apikeys.length), [2, 2, 1]);
    assert.deepEqual(pages.map((p) => p.offset), [0, 2, 4]);
    for (const p of pages) {
      assert.equal(p.limit, 2);
      assert.equal(typeof p.first, 'string');
    }
    assert.ok(!('next' in pages[2]));
    assert.deepEqual(items.map((k) => k.id).sort(), [...ids].sort());
    for (const k of items) {
      assert.equal(k.iam_id, sid.iam_id);
      assert.ok(k.apikey === '' || k.apikey === undefined, 'no values in a list');
    }
  });

  test("the user's keys (IBM IT listApiKeys: pagesize 100, pagetoken loop, name count)", async () => {
    const name = uniqueName('it');
    await createApiKey(server, admin, { iam_id: server.iamId, name });
    await createApiKey(server, admin, { iam_id: server.iamId, name });
    const { pages, items } = await listAll(server, admin, '/v1/apikeys',
      { account_id: server.accountId, iam_id: server.iamId, pagesize: 100, include_history: true }, 'apikeys');
    assert.equal(pages[0].limit, 100);
    assert.equal(items.filter((k) => k.name === name).length, 2);
    for (const k of items) {
      assert.equal(k.iam_id, server.iamId);
      assert.ok(Array.isArray(k.history), 'include_history=true adds history');
    }
    const det = await api(server, 'GET', '/v1/apikeys/details', { ...admin, headers: { 'IAM-ApiKey': server.apikey } });
    assert.ok(items.some((k) => k.id === det.body.id), 'the bootstrap key is listed');
  });

  test('type= filters user and service ID keys (scope=account)', async () => {
    const sid = await createServiceId(server, admin);
    const sk = await createApiKey(server, admin, { iam_id: sid.iam_id });
    const uk = await createApiKey(server, admin, { iam_id: server.iamId });
    const svcKeys = (await listAll(server, admin, '/v1/apikeys', { account_id: server.accountId, scope: 'account', type: 'serviceid', pagesize: 100 }, 'apikeys')).items;
    const userKeys = (await listAll(server, admin, '/v1/apikeys', { account_id: server.accountId, scope: 'account', type: 'user', pagesize: 100 }, 'apikeys')).items;
    assert.ok(svcKeys.some((k) => k.id === sk.id) && !svcKeys.some((k) => k.id === uk.id), 'type=serviceid');
    assert.ok(userKeys.some((k) => k.id === uk.id) && !userKeys.some((k) => k.id === sk.id), 'type=user');
    for (const k of svcKeys) assert.match(k.iam_id, /^iam-ServiceId-/);
  });
});

describe('update', () => {
  test('If-Match -> 200 with new name, description, expires_at; new entity_tag', async () => {
    const k = await createApiKey(server, admin, { iam_id: server.iamId, description: 'old' });
    const etag = await etagOf(k.id);
    const res = await put(k.id, { name: 'renamed', description: 'This is an updated description', expires_at: '2049-06-01T00:00:00+0000' }, etag);
    assert.equal(res.status, 200, res.text);
    assertApiKeyShape(res.body, { iamId: server.iamId, name: 'renamed', description: 'This is an updated description' });
    assert.match(res.body.expires_at ?? '', /^2049-06-01T00:00/);
    assert.notEqual(res.body.entity_tag, etag);
    assert.equal(res.body.apikey, '', 'update does not reveal a user key value');
    const got = await get(k.id);
    assert.equal(got.body.name, 'renamed');
    assert.equal(got.headers.get('etag'), res.body.entity_tag);
  });

  test('missing If-Match -> 400; stale -> 409; unknown field, bad types, limits -> 400', async () => {
    const k = await createApiKey(server, admin, { iam_id: server.iamId, description: 'orig' });
    const etag = await etagOf(k.id);
    assertIbmError(await put(k.id, { description: 'x' }), 400, 'missing If-Match');
    const cases = {
      'name ""': { name: '' },
      'name of 256 chars': { name: 'n'.repeat(256) },
      'description of 1025 chars': { description: 'd'.repeat(1025) },
      'name is a number': { name: 3 },
      'support_sessions is a string': { support_sessions: 'yes' },
      'action_when_leaked bogus': { action_when_leaked: 'explode' },
      'expires_at garbage': { expires_at: 'soon' },
      'unknown field': { bogus: true },
      'iam_id is read-only': { iam_id: 'IBMid-AAAAAAAAAA' },
      'apikey is read-only': { apikey: 'a'.repeat(40) },
      'store_value is not updatable': { store_value: true },
    };
    for (const [name, body] of Object.entries(cases)) assertIbmError(await put(k.id, body, etag), 400, name);
    assert.equal((await put(k.id, { description: 'first' }, etag)).status, 200);
    assertIbmError(await put(k.id, { description: 'second' }, etag), 409, 'stale If-Match');
    assert.equal((await get(k.id)).body.description, 'first');
  });
});

describe('lock, disable, delete', () => {
  test('lock -> 204; locked key refuses update and delete (409); unlock -> 204', async () => {
    const k = await createApiKey(server, admin, { iam_id: server.iamId });
    const lock = await api(server, 'POST', `/v1/apikeys/${k.id}/lock`, { ...admin, body: '', contentType: 'application/json' });
    assert.equal(lock.status, 204, lock.text);
    assert.equal(lock.text, '');
    const got = await get(k.id);
    assert.equal(got.body.locked, true);
    assertIbmError(await put(k.id, { description: 'x' }, got.body.entity_tag), 409, 'update locked');
    assertIbmError(await api(server, 'DELETE', `/v1/apikeys/${k.id}`, admin), 409, 'delete locked');
    assert.equal((await api(server, 'DELETE', `/v1/apikeys/${k.id}/lock`, admin)).status, 204);
    assert.equal((await get(k.id)).body.locked, false);
    assert.equal((await api(server, 'DELETE', `/v1/apikeys/${k.id}`, admin)).status, 204);
  });

  test('disable -> 204 and the key stops working; enable -> 204 and it works again', async () => {
    const { keyId, key } = await serviceIdWithKey(server, admin);
    const dis = await api(server, 'POST', `/v1/apikeys/${keyId}/disable`, { ...admin, body: '', contentType: 'application/json' });
    assert.equal(dis.status, 204, dis.text);
    assert.equal((await get(keyId)).body.disabled, true);
    assertTokenError(await tokenRequest(server.url, key), [400, 401, 403]);
    const basic = await api(server, 'GET', '/v1/apikeys', { apikey: key, query: { account_id: server.accountId } });
    assertIbmError(basic, 401, 'Basic apikey:<disabled key>');
    assert.equal((await api(server, 'DELETE', `/v1/apikeys/${keyId}/disable`, admin)).status, 204);
    assert.equal((await get(keyId)).body.disabled, false);
    assert.equal((await tokenRequest(server.url, key)).status, 200);
  });

  test('delete -> 204; GET afterwards 404; the value no longer gets a token; second delete 404', async () => {
    const k = await createApiKey(server, admin, { iam_id: server.iamId });
    assert.equal((await tokenRequest(server.url, k.apikey)).status, 200);
    const del = await api(server, 'DELETE', `/v1/apikeys/${k.id}`, admin);
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    assertIbmError(await get(k.id), 404, 'GET after delete');
    assertTokenError(await tokenRequest(server.url, k.apikey), 400, { errorCode: 'BXNIM0415E' });
    assertIbmError(await api(server, 'DELETE', `/v1/apikeys/${k.id}`, admin), 404, 'second delete');
    const det = await api(server, 'GET', '/v1/apikeys/details', { ...admin, headers: { 'IAM-ApiKey': k.apikey } });
    assert.ok([400, 404].includes(det.status), `details of a deleted key: ${det.status}`);
  });
});
