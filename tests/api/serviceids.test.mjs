// Service IDs: /v1/serviceids per sections 1, 3 and 10 of the reference.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  ENTITY_TAG_RE, IBM_TIME_RE, KEY_VALUE_RE, SERVICE_ID_RE, APIKEY_ID_RE,
  api, assertIbmError, assertTokenError, createServiceId, getToken, listAll, randomAccountId,
  randomServiceId, serviceIdWithKey, tokenRequest, uniqueName,
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

const get = (id, query, auth = admin) => api(server, 'GET', `/v1/serviceids/${id}`, { ...auth, query });
const put = (id, json, etag, auth = admin) =>
  api(server, 'PUT', `/v1/serviceids/${id}`, { ...auth, json, headers: etag === undefined ? {} : { 'If-Match': etag } });
const post = (json, headers = {}, auth = admin) => api(server, 'POST', '/v1/serviceids', { ...auth, json, headers });
const etagOf = async (id) => {
  const res = await get(id);
  assert.equal(res.status, 200, res.text);
  return res.body.entity_tag;
};

function assertServiceIdShape(b, { name, description } = {}) {
  assert.match(b.id, SERVICE_ID_RE, 'id');
  assert.equal(b.iam_id, `iam-${b.id}`, 'iam_id');
  assert.match(b.entity_tag, ENTITY_TAG_RE, 'entity_tag');
  assert.equal(b.crn, `crn:v1:bluemix:public:iam-identity::a/${server.accountId}::serviceid:${b.id}`, 'crn');
  assert.equal(typeof b.locked, 'boolean', 'locked');
  assert.match(b.created_at, IBM_TIME_RE, 'created_at');
  assert.match(b.modified_at, IBM_TIME_RE, 'modified_at');
  assert.equal(b.account_id, server.accountId, 'account_id');
  assert.ok(Array.isArray(b.unique_instance_crns), 'unique_instance_crns is an array');
  if (name !== undefined) assert.equal(b.name, name);
  if (description !== undefined) assert.equal(b.description, description);
}

describe('create', () => {
  test('201 with the full model; no apikey, history or activity unless asked', async () => {
    const name = uniqueName('sid');
    const res = await post({ account_id: server.accountId, name, description: 'd1', unique_instance_crns: ['crn:v1:x:1'] });
    assert.equal(res.status, 201, res.text);
    assertServiceIdShape(res.body, { name, description: 'd1' });
    assert.equal(res.body.locked, false);
    assert.deepEqual(res.body.unique_instance_crns, ['crn:v1:x:1']);
    assert.equal(res.body.apikey, undefined, 'no apikey unless requested');
    assert.equal(res.body.history, undefined);
    assert.equal(res.body.activity, undefined);
    assert.equal(res.body.group_id, undefined, 'group_id only with show_group_id=true');
    const res2 = await post({ account_id: server.accountId, name: uniqueName('sid') });
    assert.equal(res2.status, 201);
    assert.deepEqual(res2.body.unique_instance_crns, [], 'unique_instance_crns defaults to []');
    assert.equal(res2.body.description, undefined, 'description left out when never set');
    assert.notEqual(res2.body.id, res.body.id);
  });

  test('trailing slash: POST and GET /v1/serviceids/ work', async () => {
    const name = uniqueName('slash');
    const res = await api(server, 'POST', '/v1/serviceids/', { ...admin, json: { account_id: server.accountId, name } });
    assert.equal(res.status, 201, res.text);
    const list = await api(server, 'GET', '/v1/serviceids/', { ...admin, query: { account_id: server.accountId, name } });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.serviceids.length, 1);
  });

  test('with apikey {store_value:true}: key inside the response, value usable, stored value returned later', async () => {
    const name = uniqueName('sid');
    const res = await post({
      account_id: server.accountId, name,
      apikey: { name: 'APIKey Name', description: 'k', store_value: true, expires_at: '2049-01-02T18:30:00+0000' },
    });
    assert.equal(res.status, 201, res.text);
    const k = res.body.apikey;
    assert.ok(k, 'apikey present');
    assert.match(k.id, APIKEY_ID_RE);
    assert.match(k.apikey, KEY_VALUE_RE);
    assert.equal(k.iam_id, res.body.iam_id);
    assert.equal(k.account_id, server.accountId);
    assert.equal(k.created_by, server.iamId);
    assert.equal(k.name, 'APIKey Name');
    assert.equal(k.locked, false);
    assert.equal(k.disabled, false);
    assert.match(k.expires_at ?? '', /^2049-01-02T18:30/);
    const tok = await getToken(server.url, k.apikey);
    assert.ok(tok.access_token);
    const later = await api(server, 'GET', `/v1/apikeys/${k.id}`, admin);
    assert.equal(later.status, 200, later.text);
    assert.equal(later.body.apikey, k.apikey, 'store_value=true keys return their value on GET');
    // The service ID itself does not carry the key on GET.
    const sid = await get(res.body.id);
    assert.equal(sid.body.apikey, undefined);
  });

  test('with apikey without store_value: value only in the create response', async () => {
    const { keyId, key } = await serviceIdWithKey(server, admin);
    const later = await api(server, 'GET', `/v1/apikeys/${keyId}`, admin);
    assert.equal(later.status, 200, later.text);
    assert.equal(later.body.apikey, '', 'hidden value is ""');
    assert.ok(!later.text.includes(key), 'value appears nowhere in the GET body');
  });

  test('Entity-Lock: true creates a locked service ID', async () => {
    const res = await post({ account_id: server.accountId, name: uniqueName('locked') }, { 'Entity-Lock': 'true' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.locked, true);
    const res2 = await post({ account_id: server.accountId, name: uniqueName('unlocked') }, { 'Entity-Lock': 'false' });
    assert.equal(res2.status, 201, res2.text);
    assert.equal(res2.body.locked, false);
  });

  test('bad input -> 400', async () => {
    const acct = server.accountId;
    const cases = {
      'missing name': { account_id: acct },
      'missing account_id': { name: 'x' },
      'invalid account_id': { account_id: 'invalid', name: 'x' },
      'empty name': { account_id: acct, name: '' },
      'name of 256 chars': { account_id: acct, name: 'n'.repeat(256) },
      'description of 1025 chars': { account_id: acct, name: 'x', description: 'd'.repeat(1025) },
      'name is a number': { account_id: acct, name: 5 },
      'name is null': { account_id: acct, name: null },
      'description is an object': { account_id: acct, name: 'x', description: {} },
      'unique_instance_crns is a string': { account_id: acct, name: 'x', unique_instance_crns: 'crn' },
      'unique_instance_crns holds a number': { account_id: acct, name: 'x', unique_instance_crns: [1] },
      'unknown field': { account_id: acct, name: 'x', bogus: true },
      'apikey is a string': { account_id: acct, name: 'x', apikey: 'k' },
      'apikey without name': { account_id: acct, name: 'x', apikey: { store_value: true } },
      'apikey with unknown field': { account_id: acct, name: 'x', apikey: { name: 'k', bogus: 1 } },
      'apikey value shorter than 32': { account_id: acct, name: 'x', apikey: { name: 'k', apikey: 'a'.repeat(31) } },
    };
    for (const [name, body] of Object.entries(cases)) assertIbmError(await post(body), 400, name);
    const raw = {
      'malformed JSON': '{"account_id":',
      'duplicate keys': `{"account_id":"${acct}","name":"a","name":"b"}`,
      'JSON array': '[]',
      'JSON string': '"x"',
      'empty body': '',
    };
    for (const [name, body] of Object.entries(raw)) {
      const res = await api(server, 'POST', '/v1/serviceids', { ...admin, body, contentType: 'application/json' });
      assertIbmError(res, 400, name);
    }
    assertIbmError(await post({ account_id: acct, name: 'x' }, { 'Entity-Lock': 'maybe' }), 400, 'Entity-Lock: maybe');
  });

  test('limits are inclusive: name of 255 and description of 1024 chars are accepted', async () => {
    const name = 'n'.repeat(255);
    const res = await post({ account_id: server.accountId, name, description: 'd'.repeat(1024) });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.name, name);
    assert.equal(res.body.description.length, 1024);
  });

  test("another account's id on create -> 4xx, nothing created", async () => {
    const name = uniqueName('foreign');
    const res = await post({ account_id: randomAccountId(), name });
    assert.ok([400, 403, 404].includes(res.status), `got ${res.status} ${res.text}`);
    const list = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name } });
    assert.equal(list.body.serviceids.length, 0);
  });

  test('unauthenticated create -> 401', async () => {
    const res = await api(server, 'POST', '/v1/serviceids', { json: { account_id: server.accountId, name: 'x' } });
    assertIbmError(res, 401, 'no auth');
  });
});

describe('get', () => {
  test('200 with ETag header == entity_tag, same data as create', async () => {
    const created = await createServiceId(server, admin, { description: 'desc' });
    const res = await get(created.id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('etag'), res.body.entity_tag, 'ETag header == entity_tag');
    assertServiceIdShape(res.body, { name: created.name, description: 'desc' });
    for (const f of ['id', 'iam_id', 'entity_tag', 'crn', 'created_at', 'account_id', 'name', 'locked']) {
      assert.deepEqual(res.body[f], created[f], f);
    }
    assert.equal(res.body.history, undefined, 'no history unless include_history=true');
    assert.equal(res.body.activity, undefined, 'no activity unless include_activity=true');
  });

  test('include_history=true -> non-empty history of EnityHistoryRecord', async () => {
    const created = await createServiceId(server, admin);
    const res = await get(created.id, { include_history: true });
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.body.history) && res.body.history.length >= 1, `history: ${res.text}`);
    const h = res.body.history[0];
    assert.equal(typeof h.timestamp, 'string');
    assert.equal(h.iam_id, server.iamId, 'history iam_id is the creator');
    assert.equal(typeof h.iam_id_account, 'string');
    assert.equal(typeof h.action, 'string');
    assert.ok(Array.isArray(h.params));
    assert.equal(typeof h.message, 'string');
    // An update adds a record.
    assert.equal((await put(created.id, { description: 'changed' }, res.body.entity_tag)).status, 200);
    const res2 = await get(created.id, { include_history: true });
    assert.ok(res2.body.history.length > res.body.history.length, 'update adds a history record');
  });

  test('include_activity=true -> activity.authn_count counts token exchanges at once', async () => {
    const { sid, key } = await serviceIdWithKey(server, admin);
    const before0 = await get(sid.id, { include_activity: true });
    assert.equal(before0.status, 200, before0.text);
    assert.equal(before0.body.activity?.authn_count, 0, `fresh: ${before0.text}`);
    await getToken(server.url, key);
    await getToken(server.url, key);
    const after2 = await get(sid.id, { include_activity: true });
    assert.equal(after2.body.activity?.authn_count, 2, `after two exchanges: ${after2.text}`);
    assert.equal(typeof after2.body.activity.last_authn, 'string', 'last_authn set');
  });

  test('unknown, malformed and foreign ids -> 404 with IBM error body', async () => {
    assertIbmError(await get(randomServiceId()), 404, 'random ServiceId');
    assertIbmError(await get('ServiceId-nope'), 404, 'malformed');
    assertIbmError(await get('ApiKey-' + crypto.randomUUID()), 404, 'an ApiKey id');
  });

  test('bad boolean query value -> 400', async () => {
    const created = await createServiceId(server, admin);
    assertIbmError(await get(created.id, { include_history: 'yes' }), 400, 'include_history=yes');
  });
});

describe('list', () => {
  test('name= is an exact match; IBM IT shape (length 1, offset 0, next absent)', async () => {
    const name = uniqueName('exact');
    const mine = await createServiceId(server, admin, { name });
    await createServiceId(server, admin, { name: `${name}-suffix` });
    await createServiceId(server, admin, { name: `prefix-${name}` });
    await createServiceId(server, admin, { name: name.toUpperCase() });
    const res = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name, pagesize: 100 } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.serviceids.length, 1, res.text);
    assert.equal(res.body.serviceids[0].id, mine.id);
    assert.equal(res.body.offset, 0);
    assert.equal(res.body.limit, 100, 'limit echoes pagesize');
    assert.equal(typeof res.body.first, 'string', 'first is a string URL');
    assert.ok(!('next' in res.body), `next must be left out on the last page: ${res.text}`);
    assert.equal(res.body.serviceids[0].apikey, undefined);
  });

  test('no match -> 200 with an empty serviceids array', async () => {
    const res = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name: uniqueName('none') } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.serviceids, []);
    assert.ok(!('next' in res.body));
  });

  test('default pagesize is 20', async () => {
    const res = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.limit, 20);
  });

  test('pagination with pagesize/pagetoken visits every entry once', async () => {
    const name = uniqueName('page');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await createServiceId(server, admin, { name })).id);
    const { pages, items } = await listAll(server, admin, '/v1/serviceids', { account_id: server.accountId, name, pagesize: 2 }, 'serviceids');
    assert.equal(pages.length, 3, `5 entries at pagesize 2 -> 3 pages, got ${pages.length}`);
    assert.deepEqual(pages.map((p) => p.serviceids.length), [2, 2, 1]);
    assert.deepEqual(pages.map((p) => p.offset), [0, 2, 4]);
    for (const p of pages) assert.equal(p.limit, 2);
    assert.equal(typeof pages[0].next, 'string');
    assert.equal(typeof pages[1].next, 'string');
    assert.ok(!('next' in pages[2]), 'no next on the last page');
    const seen = items.map((s) => s.id);
    assert.equal(new Set(seen).size, 5, 'no duplicates');
    assert.deepEqual([...seen].sort(), [...ids].sort());
  });

  test('exactly one full page -> no next', async () => {
    const name = uniqueName('full');
    for (let i = 0; i < 2; i++) await createServiceId(server, admin, { name });
    const res = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name, pagesize: 2 } });
    assert.equal(res.body.serviceids.length, 2);
    // A next link here is tolerable only if following it yields an empty page without a further next.
    if ('next' in res.body) {
      const token = new URL(res.body.next, server.url).searchParams.get('pagetoken');
      const p2 = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { pagetoken: token } });
      assert.equal(p2.status, 200, p2.text);
      assert.equal(p2.body.serviceids.length, 0);
      assert.ok(!('next' in p2.body));
    }
  });

  test('include_history=true on list adds history to each entry', async () => {
    const name = uniqueName('hist');
    await createServiceId(server, admin, { name });
    const res = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name, include_history: true } });
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.body.serviceids[0].history) && res.body.serviceids[0].history.length >= 1, res.text);
  });

  test("another account's id -> 403/404, never its data", async () => {
    const res = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: randomAccountId() } });
    assert.ok([403, 404].includes(res.status), `got ${res.status} ${res.text}`);
    assertIbmError(res, res.status);
  });
});

describe('update', () => {
  test('If-Match with the current entity_tag -> 200, new values, new entity_tag', async () => {
    const created = await createServiceId(server, admin, { description: 'old', unique_instance_crns: ['crn:a'] });
    const etag = await etagOf(created.id);
    const newName = uniqueName('renamed');
    const res = await put(created.id, { name: newName, description: 'new', unique_instance_crns: ['crn:b', 'crn:c'] }, etag);
    assert.equal(res.status, 200, res.text);
    assertServiceIdShape(res.body, { name: newName, description: 'new' });
    assert.deepEqual(res.body.unique_instance_crns, ['crn:b', 'crn:c']);
    assert.notEqual(res.body.entity_tag, etag, 'entity_tag changes');
    assert.ok(Number(res.body.entity_tag.split('-')[0]) > Number(etag.split('-')[0]), 'version counter grows');
    const got = await get(created.id);
    assert.equal(got.body.name, newName);
    assert.equal(got.body.description, 'new');
    assert.equal(got.body.entity_tag, res.body.entity_tag);
    assert.equal(got.headers.get('etag'), res.body.entity_tag);
  });

  test('partial update keeps other fields; "" clears description; [] clears unique_instance_crns', async () => {
    const created = await createServiceId(server, admin, { description: 'keep', unique_instance_crns: ['crn:a'] });
    let res = await put(created.id, { unique_instance_crns: [] }, await etagOf(created.id));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.unique_instance_crns, []);
    assert.equal(res.body.description, 'keep');
    assert.equal(res.body.name, created.name);
    res = await put(created.id, { description: '' }, res.body.entity_tag);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.description === undefined || res.body.description === '', `description cleared: ${res.text}`);
  });

  test('If-Match: * updates whatever version is current', async () => {
    const created = await createServiceId(server, admin);
    const res = await put(created.id, { description: 'star' }, '*');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.description, 'star');
  });

  test('missing If-Match -> 400; stale If-Match -> 409 and nothing changes', async () => {
    const created = await createServiceId(server, admin, { description: 'orig' });
    const etag = await etagOf(created.id);
    assertIbmError(await put(created.id, { description: 'x' }), 400, 'missing If-Match');
    assert.equal((await put(created.id, { description: 'first' }, etag)).status, 200);
    assertIbmError(await put(created.id, { description: 'second' }, etag), 409, 'stale If-Match');
    assert.equal((await get(created.id)).body.description, 'first');
  });

  test('unknown id -> 404 even with an invalid If-Match', async () => {
    assertIbmError(await put(randomServiceId(), { description: 'x' }, 'invalid'), 404, 'unknown id');
  });

  test('invalid bodies -> 400 and nothing changes', async () => {
    const created = await createServiceId(server, admin, { description: 'orig' });
    const etag = await etagOf(created.id);
    const cases = {
      'name ""': { name: '' },
      'name of 256 chars': { name: 'n'.repeat(256) },
      'description of 1025 chars': { description: 'd'.repeat(1025) },
      'name is a number': { name: 7 },
      'description is an array': { description: ['x'] },
      'unique_instance_crns is an object': { unique_instance_crns: { a: 1 } },
      'unknown field': { bogus: 1 },
      'read-only field id': { id: randomServiceId() },
      'read-only field account_id': { account_id: randomAccountId() },
      'read-only field locked': { locked: true },
    };
    for (const [name, body] of Object.entries(cases)) assertIbmError(await put(created.id, body, etag), 400, name);
    const malformed = await api(server, 'PUT', `/v1/serviceids/${created.id}`, {
      ...admin, body: '{"name":', contentType: 'application/json', headers: { 'If-Match': etag },
    });
    assertIbmError(malformed, 400, 'malformed JSON');
    const got = await get(created.id);
    assert.equal(got.body.entity_tag, etag, 'entity unchanged after rejected updates');
    assert.equal(got.body.description, 'orig');
  });
});

describe('lock / unlock / delete', () => {
  test('lock (empty JSON body) -> 204; locked entity refuses update and delete with 409; unlock -> 204', async () => {
    const created = await createServiceId(server, admin);
    const lock = await api(server, 'POST', `/v1/serviceids/${created.id}/lock`, {
      ...admin, body: '', contentType: 'application/json',
    });
    assert.equal(lock.status, 204, lock.text);
    assert.equal(lock.text, '', '204 has no body');
    let got = await get(created.id);
    assert.equal(got.body.locked, true);
    assertIbmError(await put(created.id, { description: 'x' }, got.body.entity_tag), 409, 'update locked');
    assertIbmError(await api(server, 'DELETE', `/v1/serviceids/${created.id}`, admin), 409, 'delete locked');
    const unlock = await api(server, 'DELETE', `/v1/serviceids/${created.id}/lock`, admin);
    assert.equal(unlock.status, 204, unlock.text);
    got = await get(created.id);
    assert.equal(got.body.locked, false);
    assert.equal((await put(created.id, { description: 'now ok' }, got.body.entity_tag)).status, 200);
  });

  test('lock / unlock of an unknown id -> 404', async () => {
    assertIbmError(await api(server, 'POST', `/v1/serviceids/${randomServiceId()}/lock`, admin), 404, 'lock unknown');
    assertIbmError(await api(server, 'DELETE', `/v1/serviceids/${randomServiceId()}/lock`, admin), 404, 'unlock unknown');
  });

  test('delete -> 204; GET, PUT, DELETE afterwards -> 404; its keys are gone too', async () => {
    const { sid, key, keyId } = await serviceIdWithKey(server, admin);
    const extra = await api(server, 'POST', '/v1/apikeys', { ...admin, json: { name: 'extra', iam_id: sid.iam_id } });
    assert.equal(extra.status, 201, extra.text);
    const del = await api(server, 'DELETE', `/v1/serviceids/${sid.id}`, admin);
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '');
    assertIbmError(await get(sid.id), 404, 'GET after delete');
    assertIbmError(await put(sid.id, { description: 'x' }, '*'), 404, 'PUT after delete');
    assertIbmError(await api(server, 'DELETE', `/v1/serviceids/${sid.id}`, admin), 404, 'second DELETE');
    assertIbmError(await api(server, 'GET', `/v1/apikeys/${keyId}`, admin), 404, 'its first key');
    assertIbmError(await api(server, 'GET', `/v1/apikeys/${extra.body.id}`, admin), 404, 'its second key');
    assertTokenError(await tokenRequest(server.url, key), 400, { errorCode: 'BXNIM0415E' });
    assertTokenError(await tokenRequest(server.url, extra.body.apikey), 400, { errorCode: 'BXNIM0415E' });
    const list = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name: sid.name } });
    assert.equal(list.body.serviceids.length, 0, 'gone from the list');
  });
});

describe('a service ID without policies has no access, even to itself (IBM semantics)', () => {
  let self;   // {sid, key, keyId}
  let other;  // another service ID in the same account
  let selfAuth;

  before(async () => {
    self = await serviceIdWithKey(server, admin);
    other = await serviceIdWithKey(server, admin);
    selfAuth = { token: (await getToken(server.url, self.key)).access_token };
  });

  test('cannot read or update itself without a policy (Bearer and Basic apikey:<key>)', async () => {
    assertIbmError(await get(self.sid.id, undefined, selfAuth), 403, 'GET itself');
    assertIbmError(await get(self.sid.id, undefined, { apikey: self.key }), 403, 'GET itself (Basic)');
    assertIbmError(await put(self.sid.id, { description: 'self-updated' }, '*', selfAuth), 403, 'PUT itself');
    const check = await get(self.sid.id);
    assert.equal(check.body.description, undefined, 'nothing changed');
  });

  test('cannot create keys for itself without a policy', async () => {
    const created = await api(server, 'POST', '/v1/apikeys', { ...selfAuth, json: { name: 'own', iam_id: self.sid.iam_id } });
    assertIbmError(created, 403, 'create own key');
  });

  test('creating another service ID is allowed (creation not restricted) and the creator administers it', async () => {
    const name = uniqueName('by-sid');
    const res = await post({ account_id: server.accountId, name }, {}, selfAuth);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.created_by ?? self.sid.iam_id, self.sid.iam_id);
    const got = await get(res.body.id, undefined, selfAuth);
    assert.equal(got.status, 200, 'the creator reads it: ' + got.text);
    const key = await api(server, 'POST', '/v1/apikeys', { ...selfAuth, json: { name: 'k', iam_id: res.body.iam_id } });
    assert.equal(key.status, 201, 'the creator makes its keys: ' + key.text);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${res.body.id}`, selfAuth)).status, 204);
  });

  test('reading, updating, locking or deleting another service ID -> 403, and it survives', async () => {
    assertIbmError(await get(other.sid.id, undefined, selfAuth), 403, 'GET other');
    assertIbmError(await put(other.sid.id, { description: 'pwned' }, '*', selfAuth), 403, 'PUT other');
    assertIbmError(await api(server, 'POST', `/v1/serviceids/${other.sid.id}/lock`, selfAuth), 403, 'lock other');
    assertIbmError(await api(server, 'DELETE', `/v1/serviceids/${other.sid.id}`, selfAuth), 403, 'DELETE other');
    const still = await get(other.sid.id);
    assert.equal(still.status, 200);
    assert.notEqual(still.body.description, 'pwned');
    assert.equal(still.body.locked, false);
  });

  test("the other service ID's keys and the user's keys are off limits -> 403", async () => {
    assertIbmError(await api(server, 'GET', `/v1/apikeys/${other.keyId}`, selfAuth), 403, "GET other's key");
    assertIbmError(await api(server, 'POST', `/v1/apikeys/${other.keyId}/disable`, selfAuth), 403, "disable other's key");
    assertIbmError(await api(server, 'DELETE', `/v1/apikeys/${other.keyId}`, selfAuth), 403, "DELETE other's key");
    assertIbmError(await api(server, 'POST', '/v1/apikeys', { ...selfAuth, json: { name: 'x', iam_id: other.sid.iam_id } }), 403, 'key for other');
    assertIbmError(await api(server, 'POST', '/v1/apikeys', { ...selfAuth, json: { name: 'x', iam_id: server.iamId } }), 403, 'key for the user');
    const k = await api(server, 'GET', `/v1/apikeys/${other.keyId}`, admin);
    assert.equal(k.status, 200);
    assert.equal(k.body.disabled, false, "other's key was not disabled");
    assert.equal((await tokenRequest(server.url, other.key)).status, 200, "other's key still works");
  });

  test('a user of the account may manage any service ID', async () => {
    const res = await put(other.sid.id, { description: 'by-user' }, '*');
    assert.equal(res.status, 200, res.text);
  });
});
