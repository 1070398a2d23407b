// Enforcement on iamd itself (reference 6.1-6.2, 3.7): every identity
// endpoint of issue 2 denies a service ID without the role and allows it with
// the role; scoping to one service ID; the creator rule; the account
// restrictions on service ID and user API key creation; locked service IDs'
// policies; who may manage policies; grants through groups.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, createApiKey, createServiceId, getToken, uniqueName } from './lib/http.mjs';
import {
  assertAccessError, assertDenied, createUser, createV1Policy, etagOf, grant, sidWithToken, v1Policy, v2Policy,
} from './lib/access.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

let server;
let admin;
const actors = {};

before(async () => {
  server = await startServer();
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
  actors.bare = await sidWithToken(server, admin, { name: 'actor-bare' });
  for (const role of ['Viewer', 'Editor', 'Operator', 'Administrator']) {
    const a = await sidWithToken(server, admin, { name: `actor-${role}` });
    await grant(server, admin, { iamId: a.iamId, roles: [role], resource: { serviceName: 'iam-identity' } });
    actors[role.toLowerCase()] = a;
  }
});

after(async () => {
  await stopAndCheck(server);
});

const settingsPath = () => `/v1/accounts/${server.accountId}/settings/identity`;
const sidGet = (id, auth = admin) => api(server, 'GET', `/v1/serviceids/${id}`, auth);
const keyGet = (id, auth = admin) => api(server, 'GET', `/v1/apikeys/${id}`, auth);
const pick = (res, fields) => JSON.stringify([res.status, ...fields.map((f) => res.body?.[f])]);
const sidSnapshot = async (id) => pick(await sidGet(id), ['entity_tag', 'name', 'description', 'locked']);
const keySnapshot = async (id) => pick(await keyGet(id), ['entity_tag', 'name', 'description', 'locked', 'disabled']);
async function keysOf(iamId) {
  const res = await api(server, 'GET', '/v1/apikeys', { ...admin, query: { account_id: server.accountId, iam_id: iamId, pagesize: 100 } });
  assert.equal(res.status, 200, res.text);
  return JSON.stringify(res.body.apikeys.map((k) => k.id).sort());
}
async function settingsSnapshot() {
  const res = await api(server, 'GET', settingsPath(), admin);
  return pick(res, ['entity_tag', 'session_invalidation_in_seconds']);
}
async function targetSid() {
  return { sid: await createServiceId(server, admin, { name: uniqueName('target') }) };
}
async function targetKey() {
  const sid = await createServiceId(server, admin, { name: uniqueName('target') });
  const key = await createApiKey(server, admin, { iam_id: sid.iam_id });
  return { sid, key };
}
async function setSettings(fields) {
  const cur = await api(server, 'GET', settingsPath(), admin);
  assert.equal(cur.status, 200, cur.text);
  const res = await api(server, 'PUT', settingsPath(), { ...admin, json: fields, headers: { 'If-Match': cur.body.entity_tag } });
  assert.equal(res.status, 200, `settings update: ${res.text}`);
}
const withIfMatch = (etag) => ({ 'If-Match': etag });

/*
 * One row per identity endpoint of issue 2. `denied` actors must get 403
 * insufficent_permissions and change nothing (snapshot before == after);
 * the `allowed` actor gets `status`. Roles per reference 6.1; lock, unlock,
 * disable and enable are gated by the update action (principal.h).
 */
const endpoints = [
  {
    name: 'GET /v1/serviceids/{id}', denied: ['bare'], allowed: 'viewer', status: 200, setup: targetSid,
    call: (t, auth) => sidGet(t.sid.id, auth), snapshot: (t) => sidSnapshot(t.sid.id),
  },
  {
    name: 'PUT /v1/serviceids/{id}', denied: ['bare', 'viewer'], allowed: 'editor', status: 200, setup: targetSid,
    call: async (t, auth) => api(server, 'PUT', `/v1/serviceids/${t.sid.id}`, {
      ...auth, json: { description: 'changed' }, headers: withIfMatch((await sidGet(t.sid.id)).body.entity_tag),
    }),
    snapshot: (t) => sidSnapshot(t.sid.id),
    verify: async (t) => assert.equal((await sidGet(t.sid.id)).body.description, 'changed'),
  },
  {
    name: 'DELETE /v1/serviceids/{id}', denied: ['bare', 'viewer', 'editor'], allowed: 'operator', status: 204, setup: targetSid,
    call: (t, auth) => api(server, 'DELETE', `/v1/serviceids/${t.sid.id}`, auth), snapshot: (t) => sidSnapshot(t.sid.id),
    verify: async (t) => assert.equal((await sidGet(t.sid.id)).status, 404),
  },
  {
    name: 'POST /v1/serviceids/{id}/lock', denied: ['bare', 'viewer'], allowed: 'editor', status: 204, setup: targetSid,
    call: (t, auth) => api(server, 'POST', `/v1/serviceids/${t.sid.id}/lock`, auth), snapshot: (t) => sidSnapshot(t.sid.id),
    verify: async (t) => assert.equal((await sidGet(t.sid.id)).body.locked, true),
  },
  {
    name: 'DELETE /v1/serviceids/{id}/lock', denied: ['bare', 'viewer'], allowed: 'editor', status: 204,
    setup: async () => {
      const t = await targetSid();
      assert.equal((await api(server, 'POST', `/v1/serviceids/${t.sid.id}/lock`, admin)).status, 204);
      return t;
    },
    call: (t, auth) => api(server, 'DELETE', `/v1/serviceids/${t.sid.id}/lock`, auth), snapshot: (t) => sidSnapshot(t.sid.id),
    verify: async (t) => assert.equal((await sidGet(t.sid.id)).body.locked, false),
  },
  {
    name: 'POST /v1/apikeys (key for a service ID)', denied: ['bare', 'viewer', 'editor'], allowed: 'operator', status: 201, setup: targetSid,
    call: (t, auth) => api(server, 'POST', '/v1/apikeys', { ...auth, json: { name: uniqueName('k'), iam_id: t.sid.iam_id } }),
    snapshot: (t) => keysOf(t.sid.iam_id),
  },
  {
    name: 'GET /v1/apikeys/{id}', denied: ['bare', 'viewer'], allowed: 'editor', status: 200, setup: targetKey,
    call: (t, auth) => keyGet(t.key.id, auth), snapshot: (t) => keySnapshot(t.key.id),
  },
  {
    name: 'GET /v1/apikeys?iam_id= (list)', denied: ['bare', 'viewer'], allowed: 'editor', status: 200, setup: targetKey,
    call: (t, auth) => api(server, 'GET', '/v1/apikeys', { ...auth, query: { account_id: server.accountId, iam_id: t.sid.iam_id } }),
    snapshot: (t) => keySnapshot(t.key.id),
    verify: (t, res) => assert.deepEqual(res.body.apikeys.map((k) => k.id), [t.key.id]),
  },
  {
    name: 'PUT /v1/apikeys/{id}', denied: ['bare', 'viewer'], allowed: 'editor', status: 200, setup: targetKey,
    call: async (t, auth) => api(server, 'PUT', `/v1/apikeys/${t.key.id}`, {
      ...auth, json: { description: 'changed' }, headers: withIfMatch((await keyGet(t.key.id)).body.entity_tag),
    }),
    snapshot: (t) => keySnapshot(t.key.id),
  },
  {
    name: 'DELETE /v1/apikeys/{id}', denied: ['bare', 'viewer', 'editor'], allowed: 'operator', status: 204, setup: targetKey,
    call: (t, auth) => api(server, 'DELETE', `/v1/apikeys/${t.key.id}`, auth), snapshot: (t) => keySnapshot(t.key.id),
    verify: async (t) => assert.equal((await keyGet(t.key.id)).status, 404),
  },
  {
    name: 'POST /v1/apikeys/{id}/lock', denied: ['bare', 'viewer'], allowed: 'editor', status: 204, setup: targetKey,
    call: (t, auth) => api(server, 'POST', `/v1/apikeys/${t.key.id}/lock`, auth), snapshot: (t) => keySnapshot(t.key.id),
    verify: async (t) => assert.equal((await keyGet(t.key.id)).body.locked, true),
  },
  {
    name: 'DELETE /v1/apikeys/{id}/lock', denied: ['bare', 'viewer'], allowed: 'editor', status: 204,
    setup: async () => {
      const t = await targetKey();
      assert.equal((await api(server, 'POST', `/v1/apikeys/${t.key.id}/lock`, admin)).status, 204);
      return t;
    },
    call: (t, auth) => api(server, 'DELETE', `/v1/apikeys/${t.key.id}/lock`, auth), snapshot: (t) => keySnapshot(t.key.id),
    verify: async (t) => assert.equal((await keyGet(t.key.id)).body.locked, false),
  },
  {
    name: 'POST /v1/apikeys/{id}/disable', denied: ['bare', 'viewer'], allowed: 'editor', status: 204, setup: targetKey,
    call: (t, auth) => api(server, 'POST', `/v1/apikeys/${t.key.id}/disable`, auth), snapshot: (t) => keySnapshot(t.key.id),
    verify: async (t) => assert.equal((await keyGet(t.key.id)).body.disabled, true),
  },
  {
    name: 'DELETE /v1/apikeys/{id}/disable', denied: ['bare', 'viewer'], allowed: 'editor', status: 204,
    setup: async () => {
      const t = await targetKey();
      assert.equal((await api(server, 'POST', `/v1/apikeys/${t.key.id}/disable`, admin)).status, 204);
      return t;
    },
    call: (t, auth) => api(server, 'DELETE', `/v1/apikeys/${t.key.id}/disable`, auth), snapshot: (t) => keySnapshot(t.key.id),
    verify: async (t) => assert.equal((await keyGet(t.key.id)).body.disabled, false),
  },
  {
    name: 'GET /v1/accounts/{id}/settings/identity', denied: ['bare'], allowed: 'viewer', status: 200, setup: async () => ({}),
    call: (t, auth) => api(server, 'GET', settingsPath(), auth), snapshot: () => settingsSnapshot(),
  },
  {
    name: 'PUT /v1/accounts/{id}/settings/identity', denied: ['bare', 'viewer'], allowed: 'editor', status: 200, setup: async () => ({}),
    call: async (t, auth) => api(server, 'PUT', settingsPath(), {
      ...auth, json: { session_invalidation_in_seconds: '3600' },
      headers: withIfMatch((await api(server, 'GET', settingsPath(), admin)).body.entity_tag),
    }),
    snapshot: () => settingsSnapshot(),
  },
];

describe('every identity endpoint: denied without the role, allowed with it', () => {
  for (const e of endpoints) {
    test(`${e.name}: ${e.denied.join(', ')} -> 403; ${e.allowed} -> ${e.status}`, async () => {
      const t = await e.setup();
      const before = await e.snapshot(t);
      for (const who of e.denied) {
        assertDenied(await e.call(t, actors[who].auth), `${e.name} as ${who}`);
        assert.equal(await e.snapshot(t), before, `${e.name} as ${who}: a denied call changed nothing`);
      }
      const res = await e.call(t, actors[e.allowed].auth);
      assert.equal(res.status, e.status, `${e.name} as ${e.allowed}: ${res.status} ${res.text.slice(0, 400)}`);
      if (e.verify) await e.verify(t, res);
    });
  }

  test('GET /v1/serviceids (list): bare sees nothing it may not read; viewer sees the target', async () => {
    // As IBM lists policies: what the caller may read, an empty list rather than 403.
    const t = await targetSid();
    const list = (auth) => api(server, 'GET', '/v1/serviceids', { ...auth, query: { account_id: server.accountId, name: t.sid.name } });
    const bare = await list(actors.bare.auth);
    assert.equal(bare.status, 200, bare.text);
    assert.deepEqual(bare.body.serviceids, [], 'the target is hidden from a caller without read');
    const viewer = await list(actors.viewer.auth);
    assert.equal(viewer.status, 200, viewer.text);
    assert.deepEqual(viewer.body.serviceids.map((x) => x.id), [t.sid.id], 'the list shows the target');
  });

  test('a service ID with no policy may not even read itself or list its own keys', async () => {
    const { bare } = actors;
    assertDenied(await sidGet(bare.id, bare.auth), 'GET itself');
    assertDenied(await api(server, 'GET', '/v1/apikeys', { ...bare.auth, query: { account_id: server.accountId, iam_id: bare.iamId } }), 'list own keys');
    assertDenied(await api(server, 'POST', '/v1/apikeys', { ...bare.auth, json: { name: uniqueName('k'), iam_id: bare.iamId } }), 'create a key for itself');
  });

  test('Administrator on iam-identity: every action, including apikey.manage', async () => {
    const t = await targetKey();
    const a = actors.administrator.auth;
    assert.equal((await sidGet(t.sid.id, a)).status, 200);
    assert.equal((await keyGet(t.key.id, a)).status, 200);
    assert.equal((await api(server, 'POST', '/v1/apikeys', { ...a, json: { name: uniqueName('k'), iam_id: t.sid.iam_id } })).status, 201);
    assert.equal((await api(server, 'DELETE', `/v1/apikeys/${t.key.id}`, a)).status, 204);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${t.sid.id}`, a)).status, 204);
  });

  test('the account owner may do everything', async () => {
    const t = await targetKey();
    assert.equal((await keyGet(t.key.id)).status, 200);
    assert.equal((await api(server, 'POST', `/v1/serviceids/${t.sid.id}/lock`, admin)).status, 204);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${t.sid.id}/lock`, admin)).status, 204);
    assert.equal((await api(server, 'DELETE', `/v1/apikeys/${t.key.id}`, admin)).status, 204);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${t.sid.id}`, admin)).status, 204);
  });
});

describe('scoping and grants through groups', () => {
  test('resourceType=serviceid, resource=<ServiceId-x> grants on that service ID only', async () => {
    const t1 = await createServiceId(server, admin);
    const t2 = await createServiceId(server, admin);
    const a = await sidWithToken(server, admin);
    await grant(server, admin, { iamId: a.iamId, roles: ['Editor'], resource: { serviceName: 'iam-identity', resourceType: 'serviceid', resource: t1.id } });
    assert.equal((await sidGet(t1.id, a.auth)).status, 200, 'get the scoped service ID');
    assertDenied(await sidGet(t2.id, a.auth), 'get another service ID');
    const upd = await api(server, 'PUT', `/v1/serviceids/${t1.id}`, { ...a.auth, json: { description: 'mine' }, headers: withIfMatch((await sidGet(t1.id)).body.entity_tag) });
    assert.equal(upd.status, 200, upd.text);
    const upd2 = await api(server, 'PUT', `/v1/serviceids/${t2.id}`, { ...a.auth, json: { description: 'not mine' }, headers: withIfMatch((await sidGet(t2.id)).body.entity_tag) });
    assertDenied(upd2, 'update another service ID');
    assert.notEqual((await sidGet(t2.id)).body.description, 'not mine');
    assertDenied(await api(server, 'PUT', settingsPath(), {
      ...a.auth, json: { session_invalidation_in_seconds: '3600' }, headers: withIfMatch((await api(server, 'GET', settingsPath(), admin)).body.entity_tag),
    }), 'a service-ID-scoped Editor does not edit account settings');
  });

  test('a role held through an access group counts; removing the member removes it', async () => {
    const g = await api(server, 'POST', '/v2/groups', { ...admin, query: { account_id: server.accountId }, json: { name: uniqueName('operators') } });
    assert.equal(g.status, 201, g.text);
    await grant(server, admin, { groupId: g.body.id, roles: ['Operator'], resource: { serviceName: 'iam-identity' } });
    const a = await sidWithToken(server, admin);
    const t = await createServiceId(server, admin);
    assertDenied(await sidGet(t.id, a.auth), 'before joining');
    const add = await api(server, 'PUT', `/v2/groups/${g.body.id}/members`, { ...admin, json: { members: [{ iam_id: a.iamId, type: 'service' }] } });
    assert.equal(add.status, 207, add.text);
    assert.equal((await sidGet(t.id, a.auth)).status, 200, 'read through the group');
    assert.equal((await api(server, 'DELETE', `/v2/groups/${g.body.id}/members/${a.iamId}`, admin)).status, 204);
    assertDenied(await sidGet(t.id, a.auth), 'after leaving');
    assert.equal((await sidGet(t.id)).status, 200, 'still exists');
  });

  test('a deleted policy stops granting at once; a restored one grants again', async () => {
    const a = await sidWithToken(server, admin);
    const t = await createServiceId(server, admin);
    const id = await grant(server, admin, { iamId: a.iamId, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } });
    assert.equal((await sidGet(t.id, a.auth)).status, 200);
    const before = await api(server, 'GET', `/v1/policies/${id}`, admin);
    assert.equal((await api(server, 'DELETE', `/v1/policies/${id}`, admin)).status, 204);
    assertDenied(await sidGet(t.id, a.auth), 'after delete');
    const cur = await api(server, 'GET', `/v1/policies/${id}`, admin);
    const restore = await api(server, 'PATCH', `/v1/policies/${id}`, {
      ...admin, json: { state: 'active' }, headers: withIfMatch(cur.status === 200 ? etagOf(cur) : etagOf(before)),
    });
    assert.equal(restore.status, 200, restore.text);
    assert.equal((await sidGet(t.id, a.auth)).status, 200, 'after restore');
  });
});

describe('the creator rule', () => {
  test('a user with no policy who creates a service ID administers it; another user does not', async () => {
    const u = await createUser(server, admin);
    const other = await createUser(server, admin);
    const res = await api(server, 'POST', '/v1/serviceids', { ...u.auth, json: { account_id: server.accountId, name: uniqueName('mine') } });
    assert.equal(res.status, 201, `by default anyone in the account may create a service ID: ${res.text}`);
    const s = res.body;
    assert.equal((await sidGet(s.id, u.auth)).status, 200, 'creator reads it');
    const upd = await api(server, 'PUT', `/v1/serviceids/${s.id}`, { ...u.auth, json: { description: 'by creator' }, headers: withIfMatch(s.entity_tag) });
    assert.equal(upd.status, 200, upd.text);
    const key = await api(server, 'POST', '/v1/apikeys', { ...u.auth, json: { name: uniqueName('k'), iam_id: s.iam_id } });
    assert.equal(key.status, 201, `creator creates its keys: ${key.text}`);
    assertDenied(await sidGet(s.id, other.auth), 'another user');
    assertDenied(await api(server, 'DELETE', `/v1/serviceids/${s.id}`, other.auth), 'another user deleting');
    assert.equal((await api(server, 'DELETE', `/v1/apikeys/${key.body.id}`, u.auth)).status, 204);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${s.id}`, u.auth)).status, 204, 'creator deletes it');
  });
});

describe('account restrictions (serial; settings restored after each)', () => {
  test('restrict_create_service_id=RESTRICTED: owner and everyone denied without ServiceIdCreator; with it allowed and the creator administers', async () => {
    const creator = await sidWithToken(server, admin);
    await grant(server, admin, { iamId: creator.iamId, roles: ['ServiceIdCreator'], resource: { serviceName: 'iam-identity' } });
    const u = await createUser(server, admin);
    await setSettings({ restrict_create_service_id: 'RESTRICTED' });
    try {
      const tried = [];
      const create = (auth) => {
        const name = uniqueName('restricted');
        tried.push(name);
        return api(server, 'POST', '/v1/serviceids', { ...auth, json: { account_id: server.accountId, name } });
      };
      assertDenied(await create(admin), 'account owner without ServiceIdCreator');
      assertDenied(await create(actors.bare.auth), 'bare service ID');
      assertDenied(await create(actors.administrator.auth), 'Administrator on iam-identity (no ServiceIdCreator)');
      assertDenied(await create(u.auth), 'plain user');
      for (const name of tried) {
        const found = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name } });
        assert.deepEqual(found.body.serviceids, [], `nothing created under ${name}`);
      }

      const made = await create(creator.auth);
      assert.equal(made.status, 201, `ServiceIdCreator creates: ${made.text}`);
      assert.equal((await sidGet(made.body.id, creator.auth)).status, 200, 'the creator administers it (read)');
      const key = await api(server, 'POST', '/v1/apikeys', { ...creator.auth, json: { name: uniqueName('k'), iam_id: made.body.iam_id } });
      assert.equal(key.status, 201, `the creator administers it (keys): ${key.text}`);

      await grant(server, admin, { iamId: server.iamId, roles: ['ServiceIdCreator'], resource: { serviceName: 'iam-identity' } });
      assert.equal((await create(admin)).status, 201, 'the owner with ServiceIdCreator');
    } finally {
      await setSettings({ restrict_create_service_id: 'NOT_SET' });
    }
  });

  test('restrict_create_platform_apikey=RESTRICTED gates user API keys only (UserApiKeyCreator)', async () => {
    const u = await createUser(server, admin);
    await setSettings({ restrict_create_platform_apikey: 'RESTRICTED' });
    try {
      const mine = () => api(server, 'POST', '/v1/apikeys', { ...u.auth, json: { name: uniqueName('uk'), iam_id: u.iamId } });
      assertDenied(await mine(), 'user key without UserApiKeyCreator');
      const t = await createServiceId(server, admin);
      const sidKey = await api(server, 'POST', '/v1/apikeys', { ...admin, json: { name: uniqueName('sk'), iam_id: t.iam_id } });
      assert.equal(sidKey.status, 201, `service ID keys are unaffected (owner): ${sidKey.text}`);
      const opKey = await api(server, 'POST', '/v1/apikeys', { ...actors.operator.auth, json: { name: uniqueName('sk'), iam_id: t.iam_id } });
      assert.equal(opKey.status, 201, `service ID keys are unaffected (Operator): ${opKey.text}`);
      await grant(server, admin, { iamId: u.iamId, roles: ['UserApiKeyCreator'], resource: { serviceName: 'iam-identity' } });
      const ok = await mine();
      assert.equal(ok.status, 201, `with UserApiKeyCreator: ${ok.text}`);
    } finally {
      await setSettings({ restrict_create_platform_apikey: 'NOT_SET' });
    }
    const u2 = await createUser(server, admin);
    const again = await api(server, 'POST', '/v1/apikeys', { ...u2.auth, json: { name: uniqueName('uk'), iam_id: u2.iamId } });
    assert.equal(again.status, 201, `unrestricted again: ${again.text}`);
  });
});

describe('locked service IDs', () => {
  test('their policies cannot be created, replaced or deleted (409); they can still leave groups', async () => {
    const l = await createServiceId(server, admin);
    const p = await createV1Policy(server, admin, v1Policy({ iamId: l.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-identity' } }));
    const g = await api(server, 'POST', '/v2/groups', { ...admin, query: { account_id: server.accountId }, json: { name: uniqueName('lockgrp') } });
    assert.equal(g.status, 201, g.text);
    assert.equal((await api(server, 'PUT', `/v2/groups/${g.body.id}/members`, { ...admin, json: { members: [{ iam_id: l.iam_id, type: 'service' }] } })).status, 207);
    assert.equal((await api(server, 'POST', `/v1/serviceids/${l.id}/lock`, admin)).status, 204);

    const before = await api(server, 'GET', `/v1/policies/${p.id}`, admin);
    const etag = etagOf(before);
    assertAccessError(await api(server, 'POST', '/v1/policies', {
      ...admin, json: v1Policy({ iamId: l.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } }),
    }), 409, undefined, 'create for a locked service ID');
    assertAccessError(await api(server, 'POST', '/v2/policies', {
      ...admin, json: v2Policy({ iamId: l.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-access-management' } }),
    }), 409, undefined, 'v2 create for a locked service ID');
    assertAccessError(await api(server, 'PUT', `/v1/policies/${p.id}`, {
      ...admin, json: v1Policy({ iamId: l.iam_id, roles: ['Editor'], resource: { accountId: server.accountId, serviceName: 'iam-identity' } }), headers: withIfMatch(etag),
    }), 409, undefined, 'replace');
    assertAccessError(await api(server, 'DELETE', `/v1/policies/${p.id}`, admin), 409, undefined, 'delete');
    const after = await api(server, 'GET', `/v1/policies/${p.id}`, admin);
    assert.equal(after.body.state, 'active');
    assert.equal(etagOf(after), etag, 'unchanged');
    const list = await api(server, 'GET', '/v1/policies', { ...admin, query: { account_id: server.accountId, iam_id: l.iam_id } });
    assert.deepEqual(list.body.policies.map((x) => x.id), [p.id], 'no policy added');

    assert.equal((await api(server, 'DELETE', `/v2/groups/${g.body.id}/members/${l.iam_id}`, admin)).status, 204, 'leaves a group while locked');
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${l.id}/lock`, admin)).status, 204);
    assert.equal((await api(server, 'DELETE', `/v1/policies/${p.id}`, admin)).status, 204, 'unlocked: delete works');
  });
});

describe('who may manage policies (reference 3.7)', () => {
  test('Administrator on a service grants on that service only; Editor grants nothing', async () => {
    const adm = await sidWithToken(server, admin);
    await grant(server, admin, { iamId: adm.iamId, roles: ['Administrator'], resource: { serviceName: 'iam-identity' } });
    const ed = await sidWithToken(server, admin);
    await grant(server, admin, { iamId: ed.iamId, roles: ['Editor'], resource: { serviceName: 'iam-identity' } });
    const b = await createServiceId(server, admin);
    const onIdentity = v1Policy({ iamId: b.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-identity' } });
    const onGroups = v1Policy({ iamId: b.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } });
    assertDenied(await api(server, 'POST', '/v1/policies', { ...ed.auth, json: onIdentity }), 'Editor cannot create policies');
    assertDenied(await api(server, 'POST', '/v1/policies', { ...adm.auth, json: onGroups }), 'Administrator on iam-identity, policy on iam-groups');
    const ok = await api(server, 'POST', '/v1/policies', { ...adm.auth, json: onIdentity });
    assert.equal(ok.status, 201, `Administrator on iam-identity grants on iam-identity: ${ok.text}`);
    const groupsPolicy = await createV1Policy(server, admin, onGroups);
    assertDenied(await api(server, 'DELETE', `/v1/policies/${groupsPolicy.id}`, adm.auth), 'delete a policy on another service');
    assert.equal((await api(server, 'GET', `/v1/policies/${groupsPolicy.id}`, admin)).body.state, 'active');
    assert.equal((await api(server, 'DELETE', `/v1/policies/${ok.body.id}`, adm.auth)).status, 204, 'delete on its own service');
  });
});
