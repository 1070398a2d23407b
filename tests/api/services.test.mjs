// The service registry (ours): PUT/GET/DELETE /v1/services/{name} and
// GET /v1/services, operator only; a registered service's roles answer in
// /v2/roles and can be granted in policies.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, createServiceId, getToken } from './lib/http.mjs';
import {
  ROLE, assertAccessError, createAccount, createUser, registerService, serviceDefinition, sidWithToken,
  uniqueServiceName, v1Policy,
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

const getService = (name, auth = admin) => api(server, 'GET', `/v1/services/${encodeURIComponent(name)}`, auth);
const putService = (name, json, auth = admin) => api(server, 'PUT', `/v1/services/${encodeURIComponent(name)}`, { ...auth, json });
const listServices = (auth = admin) => api(server, 'GET', '/v1/services', auth);
const servicesOf = (res) => (Array.isArray(res.body) ? res.body : res.body?.services);
const byName = (roles) => Object.fromEntries((roles ?? []).map((r) => [r.display_name, r]));

describe('register, read, replace, delete', () => {
  test('PUT -> 201 then 200 on replace; GET returns the definition; GET /v1/services lists it', async () => {
    const pdp = await createServiceId(server, admin);
    const name = uniqueServiceName();
    const def = serviceDefinition(name, [pdp.iam_id]);
    const res = await putService(name, def);
    assert.equal(res.status, 201, `first PUT creates: ${res.text}`);
    const got = await getService(name);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.name, name);
    assert.equal(got.body.display_name, def.display_name);
    assert.equal(got.body.service_type, 'service');
    assert.deepEqual(got.body.pdp_clients, [pdp.iam_id]);
    assert.deepEqual(got.body.actions.map((a) => a.id).sort(), def.actions.map((a) => a.id).sort());
    assert.deepEqual(Object.keys(got.body.roles).sort(), Object.keys(def.roles).sort());
    for (const [role, actions] of Object.entries(def.roles)) assert.deepEqual([...got.body.roles[role]].sort(), [...actions].sort(), `roles.${role}`);

    const again = await putService(name, { ...def, display_name: 'Renamed service' });
    assert.equal(again.status, 200, `replace answers 200: ${again.text}`);
    assert.equal((await getService(name)).body.display_name, 'Renamed service');

    const list = await listServices();
    assert.equal(list.status, 200, list.text);
    const items = servicesOf(list);
    assert.ok(Array.isArray(items), `a list of services (array or {services:[]}): ${list.text.slice(0, 200)}`);
    assert.ok(items.some((s) => s.name === name), 'the registered service is listed');
  });

  test('its roles answer in GET /v2/roles and can be granted; a role it does not define cannot', async () => {
    const name = uniqueServiceName();
    await registerService(server, admin, serviceDefinition(name, []));
    const roles = await api(server, 'GET', '/v2/roles', { ...admin, query: { account_id: server.accountId, service_name: name } });
    assert.equal(roles.status, 200, roles.text);
    const svc = byName(roles.body.service_roles);
    assert.deepEqual([...(svc.Reader?.actions ?? [])].sort(), [`${name}.thing.read`], 'Reader');
    assert.deepEqual([...(svc.Manager?.actions ?? [])].sort(), [`${name}.thing.delete`, `${name}.thing.read`, `${name}.thing.write`].sort(), 'Manager');
    assert.equal(svc.Reader.crn, ROLE.Reader);
    const sys = byName(roles.body.system_roles);
    // Platform roles carry the service's own actions from the definition; every service's
    // platform roles also carry IAM's iam.policy.* / iam.role.* actions (reference 3.7).
    const own = (role) => (sys[role]?.actions ?? []).filter((a) => a.startsWith(`${name}.`)).sort();
    assert.deepEqual(own('Viewer'), [`${name}.instance.view`], 'Viewer: the service actions of the definition');
    assert.deepEqual(own('Editor'), [`${name}.instance.manage`, `${name}.instance.view`], 'Editor');
    assert.equal(sys.Viewer.crn, ROLE.Viewer);
    assert.ok(sys.Viewer.actions.includes('iam.policy.read'), 'Viewer reads policies (3.7)');
    assert.ok(!sys.Viewer.actions.includes('iam.policy.create'), 'Viewer does not create policies');
    assert.ok(sys.Administrator.actions.includes('iam.policy.create'), 'Administrator creates policies on the service (3.7)');

    const s = await createServiceId(server, admin);
    const ok = await api(server, 'POST', '/v1/policies', { ...admin, json: v1Policy({ iamId: s.iam_id, roles: ['Reader'], resource: { accountId: server.accountId, serviceName: name } }) });
    assert.equal(ok.status, 201, ok.text);
    const bad = await api(server, 'POST', '/v1/policies', {
      ...admin, json: v1Policy({ iamId: s.iam_id, roles: [`crn:v1:bluemix:public:${name}::::serviceRole:Nope`], resource: { accountId: server.accountId, serviceName: name, serviceInstance: 'i1' } }),
    });
    assertAccessError(bad, 400, 'invalid_body', 'a service role the service does not define');
  });

  test('DELETE -> 204; then GET -> 404 and policies cannot name it any more', async () => {
    const name = uniqueServiceName();
    await registerService(server, admin, serviceDefinition(name, []));
    const del = await api(server, 'DELETE', `/v1/services/${name}`, admin);
    assert.equal(del.status, 204, del.text);
    assert.equal((await getService(name)).status, 404);
    assert.equal((await api(server, 'DELETE', `/v1/services/${name}`, admin)).status, 404, 'DELETE twice');
    const s = await createServiceId(server, admin);
    const res = await api(server, 'POST', '/v1/policies', { ...admin, json: v1Policy({ iamId: s.iam_id, roles: ['Reader'], resource: { accountId: server.accountId, serviceName: name } }) });
    assertAccessError(res, 400, 'invalid_body', 'policy on a deleted service');
  });

  test('unknown service -> 404; no credentials -> 401', async () => {
    assert.equal((await getService(uniqueServiceName())).status, 404);
    assert.equal((await api(server, 'GET', '/v1/services')).status, 401);
    assert.equal((await api(server, 'PUT', `/v1/services/${uniqueServiceName()}`, { json: serviceDefinition('x', []) })).status, 401);
  });
});

describe('only the instance operator', () => {
  let name;
  let def;
  before(async () => {
    name = uniqueServiceName();
    def = serviceDefinition(name, []);
    await registerService(server, admin, def);
  });

  async function assertRefused(auth, who) {
    const put = await putService(name, { ...def, display_name: `hijacked by ${who}` }, auth);
    assertAccessError(put, 403, undefined, `${who}: PUT existing`);
    const fresh = uniqueServiceName();
    assertAccessError(await putService(fresh, serviceDefinition(fresh, []), auth), 403, undefined, `${who}: PUT new`);
    assertAccessError(await api(server, 'DELETE', `/v1/services/${name}`, auth), 403, undefined, `${who}: DELETE`);
    const got = await getService(name);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.display_name, def.display_name, 'unchanged');
    assert.equal((await getService(fresh)).status, 404, 'nothing registered');
  }

  test('a service ID of the operator\'s account -> 403', async () => {
    const actor = await sidWithToken(server, admin);
    await assertRefused(actor.auth, 'service ID');
  });

  test('a service ID with Administrator on every service of the account -> 403 (the registry is not an account resource)', async () => {
    const actor = await sidWithToken(server, admin);
    for (const svc of ['iam-identity', 'iam-access-management', 'iam-groups']) {
      const res = await api(server, 'POST', '/v1/policies', { ...admin, json: v1Policy({ iamId: actor.iamId, roles: ['Administrator'], resource: { accountId: server.accountId, serviceName: svc } }) });
      assert.equal(res.status, 201, res.text);
    }
    await assertRefused(actor.auth, 'administrator service ID');
  });

  test('a user of the operator\'s account -> 403', async () => {
    const u = await createUser(server, admin);
    await assertRefused(u.auth, 'user');
  });

  test('the owner of another account -> 403', async () => {
    const other = await createAccount(server, admin);
    await assertRefused(other.auth, 'other account owner');
  });
});

describe('bad definitions -> 400, nothing registered', () => {
  test('each case', async () => {
    const name = uniqueServiceName();
    const good = serviceDefinition(name, []);
    const cases = {
      'name in the body differs from the path': { ...good, name: uniqueServiceName() },
      'action not prefixed with the service name': { ...good, actions: [...good.actions, { id: 'other-svc.thing.read', display_name: 'x' }] },
      'action with two parts': { ...good, actions: [...good.actions, { id: `${name}.read`, display_name: 'x' }] },
      'role maps an undefined action': { ...good, roles: { ...good.roles, Reader: [`${name}.thing.fly`] } },
      'roles is not an object': { ...good, roles: ['Reader'] },
      'unknown service_type': { ...good, service_type: 'database' },
      'pdp_clients holds something that is not an iam_id': { ...good, pdp_clients: ['bob'] },
      'pdp_clients is not an array': { ...good, pdp_clients: 'iam-ServiceId-x' },
      'actions missing': (() => { const d = { ...good }; delete d.actions; return d; })(),
    };
    const failures = [];
    for (const [what, body] of Object.entries(cases)) {
      try { assertAccessError(await putService(name, body), 400, undefined, what); } catch (err) { failures.push(err.message.split('\n')[0]); }
    }
    assert.equal((await getService(name)).status, 404, 'nothing registered under the name');
    const badName = 'Bad_Name!';
    try { assertAccessError(await putService(badName, serviceDefinition(badName, [])), 400, undefined, 'invalid service name'); } catch (err) { failures.push(err.message.split('\n')[0]); }
    const raw = await api(server, 'PUT', `/v1/services/${name}`, { ...admin, body: '{"name":', contentType: 'application/json' });
    try { assertAccessError(raw, 400, undefined, 'truncated JSON'); } catch (err) { failures.push(err.message.split('\n')[0]); }
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  test('a built-in service name cannot be registered over (4xx) and the built-in roles stay', async () => {
    for (const builtin of ['iam-identity', 'iam-groups', 'iam-access-management']) {
      const res = await putService(builtin, serviceDefinition(builtin, []));
      assert.ok([400, 403, 409].includes(res.status), `${builtin}: expected 400/403/409, got ${res.status} ${res.text}`);
      assertAccessError(res, res.status, undefined, builtin);
    }
    const roles = await api(server, 'GET', '/v2/roles', { ...admin, query: { account_id: server.accountId, service_name: 'iam-identity' } });
    const op = roles.body.system_roles.find((r) => r.display_name === 'Operator');
    assert.ok(op.actions.includes('iam-identity.apikey.create'), 'iam-identity roles unchanged');
    assert.ok(!op.actions.includes('iam-identity.thing.read'));
  });
});
