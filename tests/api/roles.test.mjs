// Roles: GET /v2/roles (system, service and custom roles, the
// alliamserviceroles pseudo-service) and custom-role CRUD per reference 3.4.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { api, createApiKey, createServiceId, getToken } from './lib/http.mjs';
import {
  GENERIC_SERVICE_ROLES, MS_TIME_RE, PLATFORM_ROLES, POLICY_ETAG_RE, ROLE, assertAccessError, assertDenied,
  createV1Policy, etagOf, sidWithToken, v1Policy,
} from './lib/access.mjs';
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

const listRoles = (query, auth = admin) => api(server, 'GET', '/v2/roles', { ...auth, query });
const getRole = (id, auth = admin) => api(server, 'GET', `/v2/roles/${id}`, auth);
const postRole = (json, auth = admin) => api(server, 'POST', '/v2/roles', { ...auth, json });
const putRole = (id, json, etag, auth = admin) =>
  api(server, 'PUT', `/v2/roles/${id}`, { ...auth, json, headers: etag === undefined ? {} : { 'If-Match': etag } });
const roleName = (prefix) => `${prefix}${crypto.randomBytes(4).toString('hex')}`;
const byName = (roles) => Object.fromEntries((roles ?? []).map((r) => [r.display_name, r]));

function assertRoleCollection(res) {
  assert.equal(res.status, 200, res.text);
  for (const k of ['custom_roles', 'service_roles', 'system_roles']) {
    assert.ok(Array.isArray(res.body?.[k]), `${k}[]: ${res.text.slice(0, 300)}`);
  }
  for (const r of [...res.body.service_roles, ...res.body.system_roles]) {
    assert.equal(typeof r.display_name, 'string', 'display_name');
    assert.equal(typeof r.crn, 'string', 'crn');
    assert.equal(typeof r.description, 'string', `description of ${r.crn}`);
    assert.ok(Array.isArray(r.actions), `actions[] of ${r.crn}`);
    for (const a of r.actions) assert.equal(typeof a, 'string', `actions are strings (${r.crn})`);
  }
}

async function customRoleIds(serviceName = 'iam-identity') {
  const res = await listRoles({ account_id: server.accountId, service_name: serviceName });
  assertRoleCollection(res);
  return res.body.custom_roles.map((r) => r.id).sort();
}

describe('GET /v2/roles', () => {
  test('service_name=iam-identity: platform roles with IBM\'s action table (reference 6.1) and its service roles', async () => {
    const res = await listRoles({ account_id: server.accountId, service_name: 'iam-identity' });
    assertRoleCollection(res);
    const sys = byName(res.body.system_roles);
    for (const name of PLATFORM_ROLES) {
      assert.ok(sys[name], `system role ${name}`);
      assert.equal(sys[name].crn, ROLE[name]);
    }
    const has = (role, action) => sys[role].actions.includes(action);
    for (const role of PLATFORM_ROLES) assert.ok(has(role, 'iam-identity.serviceid.get'), `${role} has serviceid.get`);
    assert.ok(!has('Viewer', 'iam-identity.serviceid.update'), 'Viewer cannot update service IDs');
    for (const role of ['Editor', 'Operator', 'Administrator']) assert.ok(has(role, 'iam-identity.serviceid.update'), `${role} has serviceid.update`);
    for (const role of ['Operator', 'Administrator']) {
      assert.ok(has(role, 'iam-identity.serviceid.delete'), `${role} has serviceid.delete`);
      assert.ok(has(role, 'iam-identity.apikey.create'), `${role} has apikey.create`);
      assert.ok(has(role, 'iam-identity.apikey.delete'), `${role} has apikey.delete`);
    }
    assert.ok(!has('Editor', 'iam-identity.serviceid.delete'), 'IBM oddity: Editor cannot delete service IDs');
    assert.ok(!has('Editor', 'iam-identity.apikey.create'), 'IBM oddity: Editor cannot create keys');
    assert.ok(!has('Viewer', 'iam-identity.apikey.get'), 'Viewer cannot read keys');
    assert.ok(has('Administrator', 'iam-identity.apikey.manage'), 'Administrator manages every key');
    assert.ok(!has('Operator', 'iam-identity.apikey.manage'), 'only Administrator has apikey.manage');
    for (const role of PLATFORM_ROLES) assert.ok(has(role, 'iam-identity.account.get'), `${role} reads account settings`);
    assert.ok(!has('Viewer', 'iam-identity.account.update'));
    for (const role of PLATFORM_ROLES) assert.ok(!has(role, 'iam-identity.serviceid.create'), `${role} does not carry serviceid.create`);

    const svc = Object.fromEntries(res.body.service_roles.map((r) => [r.crn, r]));
    assert.ok(svc[ROLE.ServiceIdCreator], 'ServiceIdCreator is a service role of iam-identity');
    assert.ok(svc[ROLE.ServiceIdCreator].actions.includes('iam-identity.serviceid.create'));
    assert.ok(svc[ROLE.UserApiKeyCreator], 'UserApiKeyCreator is a service role of iam-identity');
    assert.ok(svc[ROLE.UserApiKeyCreator].actions.includes('iam-identity.user-apikey.create'));
  });

  test('service_name=alliamserviceroles: the platform roles plus Reader, Writer and Manager', async () => {
    const res = await listRoles({ account_id: server.accountId, service_name: 'alliamserviceroles' });
    assertRoleCollection(res);
    const sys = byName(res.body.system_roles);
    for (const name of PLATFORM_ROLES) assert.equal(sys[name]?.crn, ROLE[name], `system role ${name}`);
    const svcNames = res.body.service_roles.map((r) => r.display_name).sort();
    assert.deepEqual(svcNames, [...GENERIC_SERVICE_ROLES].sort(), 'service roles are exactly Reader, Writer, Manager');
    const svc = byName(res.body.service_roles);
    for (const name of GENERIC_SERVICE_ROLES) assert.equal(svc[name].crn, ROLE[name]);
  });

  test('unknown service_name -> 400 or an empty collection, never another service\'s roles', async () => {
    const res = await listRoles({ account_id: server.accountId, service_name: 'no-such-service-zz' });
    if (res.status === 200) {
      assert.deepEqual(res.body.service_roles, []);
      assert.deepEqual(res.body.custom_roles, []);
    } else {
      assertAccessError(res, 400);
    }
  });

  test('no credentials -> 401', async () => {
    assert.equal((await api(server, 'GET', '/v2/roles', { query: { account_id: server.accountId } })).status, 401);
  });
});

describe('custom roles', () => {
  const baseRole = (name, actions, extra = {}) => ({
    display_name: `Display ${name}`, name, actions, account_id: server.accountId, service_name: 'iam-identity',
    description: 'test role', ...extra,
  });

  test('POST -> 201 with the IBM model; GET -> 200 with ETag; listed in custom_roles', async () => {
    const name = roleName('KeyReader');
    const res = await postRole(baseRole(name, ['iam-identity.apikey.get', 'iam-identity.apikey.list']));
    assert.equal(res.status, 201, res.text);
    const r = res.body;
    assert.match(r.id, /^[0-9a-f]+$/, 'id is hex');
    assert.match(Buffer.from(r.id, 'hex').toString('utf8'), new RegExp(`^customRole-[0-9a-f]{32}-${name}$`), 'id is hex of customRole-<32 hex>-<Name>');
    assert.match(r.crn, new RegExp(`^crn:v1:(ibmcloud|bluemix):public:iam-access-management::a/${server.accountId}::customRole:${name}$`), `crn: ${r.crn}`);
    assert.equal(r.name, name);
    assert.equal(r.display_name, `Display ${name}`);
    assert.equal(r.description, 'test role');
    assert.deepEqual([...r.actions].sort(), ['iam-identity.apikey.get', 'iam-identity.apikey.list']);
    assert.equal(r.account_id, server.accountId);
    assert.equal(r.service_name, 'iam-identity');
    assert.match(r.created_at ?? '', MS_TIME_RE);
    assert.match(r.last_modified_at ?? '', MS_TIME_RE);
    assert.equal(r.created_by_id, server.iamId);
    assert.match(r.href ?? '', new RegExp(`^https?://.+/v2/roles/${r.id}$`), `href: ${r.href}`);
    const got = await getRole(r.id);
    assert.equal(got.status, 200, got.text);
    const etag = etagOf(got);
    assert.match(etag ?? '', POLICY_ETAG_RE, `ETag on GET: ${etag}`);
    if (etagOf(res)) assert.equal(etagOf(res), etag, 'the create ETag (when sent) is the GET ETag');
    assert.equal(etagOf(await getRole(r.id)), etag, 'reads do not move the ETag');
    assert.equal(got.body.crn, r.crn);
    assert.ok((await customRoleIds()).includes(r.id), 'listed under custom_roles for its service');
    const others = await listRoles({ account_id: server.accountId, service_name: 'iam-groups' });
    assert.ok(!others.body.custom_roles.some((x) => x.id === r.id), 'not listed for another service');
  });

  test('PUT: no If-Match -> 400, current -> 200 with a new ETag, stale -> 409; DELETE -> 204 then 404 role_not_found', async () => {
    const name = roleName('Updater');
    const created = await postRole(baseRole(name, ['iam-identity.serviceid.get']));
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    const etag1 = etagOf(await getRole(id));
    const body = { display_name: 'Renamed', actions: ['iam-identity.serviceid.get', 'iam-identity.serviceid.update'], description: 'changed' };
    assertAccessError(await putRole(id, body), 400, undefined, 'PUT without If-Match');
    assert.equal((await getRole(id)).body.display_name, `Display ${name}`, 'unchanged after 400');
    const ok = await putRole(id, body, etag1);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.display_name, 'Renamed');
    assert.deepEqual([...ok.body.actions].sort(), ['iam-identity.serviceid.get', 'iam-identity.serviceid.update']);
    assert.equal(ok.body.name, name, 'name is immutable');
    assert.notEqual(etagOf(ok), etag1);
    const stale = await putRole(id, { display_name: 'Stale', actions: ['iam-identity.serviceid.get'] }, etag1);
    assertAccessError(stale, 409, undefined, 'stale If-Match');
    assert.equal((await getRole(id)).body.display_name, 'Renamed', 'stale PUT changed nothing');
    const del = await api(server, 'DELETE', `/v2/roles/${id}`, admin);
    assert.equal(del.status, 204, del.text);
    assertAccessError(await getRole(id), 404, 'role_not_found', 'GET after delete');
    assertAccessError(await api(server, 'DELETE', `/v2/roles/${id}`, admin), 404, 'role_not_found', 'DELETE twice');
    assert.ok(!(await customRoleIds()).includes(id));
  });

  test('an identical action set under another name -> 409 role_conflict_error, nothing created', async () => {
    const first = await postRole(baseRole(roleName('Dup'), ['iam-identity.serviceid.get', 'iam-identity.apikey.get']));
    assert.equal(first.status, 201, first.text);
    const before = await customRoleIds();
    const dup = await postRole(baseRole(roleName('DupOther'), ['iam-identity.apikey.get', 'iam-identity.serviceid.get']));
    assertAccessError(dup, 409, 'role_conflict_error', 'same actions, other order and name');
    assert.deepEqual(await customRoleIds(), before);
    // Replacing another role to the same action set conflicts as well.
    const second = await postRole(baseRole(roleName('Dup'), ['iam-identity.serviceid.get']));
    assert.equal(second.status, 201, second.text);
    const res = await putRole(second.body.id, { display_name: 'x', actions: ['iam-identity.serviceid.get', 'iam-identity.apikey.get'] },
      etagOf(await getRole(second.body.id)));
    assertAccessError(res, 409, 'role_conflict_error', 'PUT to a duplicate action set');
  });

  test('bad input -> 400 invalid_body, nothing created', async () => {
    const before = await customRoleIds();
    const cases = {
      'unknown action': baseRole(roleName('Bad'), ['iam-identity.serviceid.explode']),
      'action of another service': baseRole(roleName('Bad'), ['iam-groups.groups.read']),
      'malformed action': baseRole(roleName('Bad'), ['serviceid-get']),
      'no actions': baseRole(roleName('Bad'), []),
      'lower-case name': baseRole(`lower${crypto.randomBytes(3).toString('hex')}`, ['iam-identity.account.get']),
      'name with a space': baseRole('Two Words', ['iam-identity.account.get']),
      'missing display_name': (() => { const b = baseRole(roleName('Bad'), ['iam-identity.account.get']); delete b.display_name; return b; })(),
      'unknown service_name': baseRole(roleName('Bad'), ['iam-identity.account.get'], { service_name: 'no-such-service-zz' }),
      'missing account_id': (() => { const b = baseRole(roleName('Bad'), ['iam-identity.account.get']); delete b.account_id; return b; })(),
    };
    const failures = [];
    for (const [what, body] of Object.entries(cases)) {
      try { assertAccessError(await postRole(body), 400, 'invalid_body', what); } catch (err) { failures.push(err.message.split('\n')[0]); }
    }
    assert.deepEqual(await customRoleIds(), before, 'nothing created');
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  test('another account\'s account_id -> refused (4xx), nothing created', async () => {
    const before = await customRoleIds();
    const res = await postRole(baseRole(roleName('Foreign'), ['iam-identity.account.get'], { account_id: crypto.randomBytes(16).toString('hex') }));
    assert.ok([400, 403, 404].includes(res.status), `expected 400/403/404, got ${res.status}: ${res.text}`);
    assertAccessError(res, res.status);
    assert.deepEqual(await customRoleIds(), before);
  });

  test('a service ID without a role cannot create roles (403 insufficent_permissions)', async () => {
    const actor = await sidWithToken(server, admin);
    const before = await customRoleIds();
    assertDenied(await postRole(baseRole(roleName('Sneaky'), ['iam-identity.apikey.manage']), actor.auth), 'create role');
    assert.deepEqual(await customRoleIds(), before);
  });
});

describe('custom roles in policies', () => {
  test('a custom role grants exactly its actions; deleting the role removes the grant', async () => {
    const name = roleName('KeyGetter');
    const role = await postRole({
      display_name: 'Key getter', name, actions: ['iam-identity.apikey.get'], account_id: server.accountId, service_name: 'iam-identity',
    });
    assert.equal(role.status, 201, role.text);
    const actor = await sidWithToken(server, admin);
    const target = await createServiceId(server, admin);
    const key = await createApiKey(server, admin, { iam_id: target.iam_id });
    assertDenied(await api(server, 'GET', `/v1/apikeys/${key.id}`, actor.auth), 'before the policy');

    await createV1Policy(server, admin, v1Policy({
      iamId: actor.iamId, roles: [role.body.crn], resource: { accountId: server.accountId, serviceName: 'iam-identity' },
    }));
    const got = await api(server, 'GET', `/v1/apikeys/${key.id}`, actor.auth);
    assert.equal(got.status, 200, `custom role grants apikey.get: ${got.text}`);
    const upd = await api(server, 'PUT', `/v1/apikeys/${key.id}`, { ...actor.auth, json: { description: 'x' }, headers: { 'If-Match': got.body.entity_tag } });
    assertDenied(upd, 'apikey.update is not in the custom role');

    const del = await api(server, 'DELETE', `/v2/roles/${role.body.id}`, admin);
    assert.equal(del.status, 204, del.text);
    assertDenied(await api(server, 'GET', `/v1/apikeys/${key.id}`, actor.auth), 'after the role was deleted');
  });

  test('a custom role of one service in a policy on another service -> 400, nothing created', async () => {
    const role = await postRole({
      display_name: 'Acct reader', name: roleName('AcctReader'), actions: ['iam-identity.account.get'], account_id: server.accountId, service_name: 'iam-identity',
    });
    assert.equal(role.status, 201, role.text);
    const s = await createServiceId(server, admin);
    const res = await api(server, 'POST', '/v1/policies', {
      ...admin, json: v1Policy({ iamId: s.iam_id, roles: [role.body.crn], resource: { accountId: server.accountId, serviceName: 'iam-groups' } }),
    });
    assertAccessError(res, 400, 'invalid_body', 'custom role on the wrong service');
    const list = await api(server, 'GET', '/v1/policies', { ...admin, query: { account_id: server.accountId, iam_id: s.iam_id } });
    assert.deepEqual(list.body.policies, []);
  });
});
