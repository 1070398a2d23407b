// Explain (ours): POST /v2/authz/explain answers for a subject, action and
// resource whether it is permitted, which policies and group memberships
// granted it, and when denied, the nearest policies and what they lack.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, createServiceId, getToken, uniqueName } from './lib/http.mjs';
import { ROLE, assertAccessError, assertDenied, createV2Policy, grant, sidWithToken, v2Policy } from './lib/access.mjs';
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

const explain = (json, auth = admin) => api(server, 'POST', '/v2/authz/explain', { ...auth, json });
const sidResource = (id) => ({ attributes: { accountId: server.accountId, serviceName: 'iam-identity', resourceType: 'serviceid', resource: id } });
const body = (iamId, action, resource) => ({ subject: { attributes: { id: iamId } }, action, resource });
const roleIds = (roles) => (roles ?? []).map((r) => (typeof r === 'string' ? r : r.role_id ?? r.crn));

function assertShape(b, { permitted, action, iamId }) {
  assert.equal(b.permitted, permitted, `permitted: ${JSON.stringify(b).slice(0, 600)}`);
  assert.equal(b.action, action);
  assert.equal(b.subject?.iam_id, iamId);
  assert.ok(Array.isArray(b.subject.groups), 'subject.groups[]');
  assert.ok(Array.isArray(b.granted_by), 'granted_by[]');
  assert.ok(Array.isArray(b.near_misses), 'near_misses[]');
  for (const n of b.near_misses) {
    assert.equal(typeof n.policy_id, 'string');
    assert.ok(Array.isArray(n.missing) && n.missing.length >= 1, `near miss says what is missing: ${JSON.stringify(n)}`);
    for (const m of n.missing) assert.equal(typeof m, 'string');
  }
}

describe('POST /v2/authz/explain', () => {
  test('a direct grant names the policy and its roles', async () => {
    const s = await createServiceId(server, admin);
    const t = await createServiceId(server, admin);
    const pid = await grant(server, admin, { iamId: s.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } });
    const res = await explain(body(s.iam_id, 'iam-identity.serviceid.get', sidResource(t.id)));
    assert.equal(res.status, 200, res.text);
    assertShape(res.body, { permitted: true, action: 'iam-identity.serviceid.get', iamId: s.iam_id });
    const g = res.body.granted_by.find((x) => x.policy_id === pid);
    assert.ok(g, `granted_by names ${pid}: ${JSON.stringify(res.body.granted_by)}`);
    assert.equal(g.via_group_id ?? null, null, 'a direct policy has no via_group_id');
    assert.deepEqual(roleIds(g.roles), [ROLE.Viewer]);
  });

  test('a grant through a group names the group; subject.groups lists it', async () => {
    const s = await createServiceId(server, admin);
    const grp = await api(server, 'POST', '/v2/groups', { ...admin, query: { account_id: server.accountId }, json: { name: uniqueName('explain') } });
    assert.equal(grp.status, 201, grp.text);
    const gid = grp.body.id;
    assert.equal((await api(server, 'PUT', `/v2/groups/${gid}/members`, { ...admin, json: { members: [{ iam_id: s.iam_id, type: 'service' }] } })).status, 207);
    const pid = await grant(server, admin, { groupId: gid, roles: ['Operator'], resource: { serviceName: 'iam-identity' } });
    const res = await explain(body(s.iam_id, 'iam-identity.apikey.create', sidResource(s.id)));
    assert.equal(res.status, 200, res.text);
    assertShape(res.body, { permitted: true, action: 'iam-identity.apikey.create', iamId: s.iam_id });
    assert.ok(res.body.subject.groups.includes(gid), `subject.groups: ${JSON.stringify(res.body.subject.groups)}`);
    const g = res.body.granted_by.find((x) => x.policy_id === pid);
    assert.ok(g, JSON.stringify(res.body.granted_by));
    assert.equal(g.via_group_id, gid);
    assert.deepEqual(roleIds(g.roles), [ROLE.Operator]);
  });

  test('denied by role: the nearest policy is listed with what it lacks', async () => {
    const s = await createServiceId(server, admin);
    const pid = await grant(server, admin, { iamId: s.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } });
    const res = await explain(body(s.iam_id, 'iam-identity.serviceid.update', sidResource(s.id)));
    assert.equal(res.status, 200, res.text);
    assertShape(res.body, { permitted: false, action: 'iam-identity.serviceid.update', iamId: s.iam_id });
    assert.deepEqual(res.body.granted_by, []);
    const n = res.body.near_misses.find((x) => x.policy_id === pid);
    assert.ok(n, `near_misses names ${pid}: ${JSON.stringify(res.body.near_misses)}`);
    assert.ok(n.missing.some((m) => /role|action|serviceid\.update/i.test(m)), `says a role/action is missing: ${JSON.stringify(n.missing)}`);
  });

  test('denied by resource: a policy scoped to another service ID says the resource differs', async () => {
    const s = await createServiceId(server, admin);
    const t1 = await createServiceId(server, admin);
    const t2 = await createServiceId(server, admin);
    const pid = await grant(server, admin, { iamId: s.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity', resourceType: 'serviceid', resource: t1.id } });
    const res = await explain(body(s.iam_id, 'iam-identity.serviceid.get', sidResource(t2.id)));
    assert.equal(res.status, 200, res.text);
    assertShape(res.body, { permitted: false, action: 'iam-identity.serviceid.get', iamId: s.iam_id });
    const n = res.body.near_misses.find((x) => x.policy_id === pid);
    assert.ok(n, JSON.stringify(res.body.near_misses));
    assert.ok(n.missing.some((m) => /resource/i.test(m)), `names the resource attribute: ${JSON.stringify(n.missing)}`);
  });

  test('denied by time: an expired v2 window is a near miss with its condition', async () => {
    const s = await createServiceId(server, admin);
    const p = await createV2Policy(server, admin, v2Policy({
      iamId: s.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-identity' }, pattern: 'time-based-conditions:once',
      rule: {
        operator: 'and',
        conditions: [
          { key: '{{environment.attributes.current_date_time}}', operator: 'dateTimeGreaterThanOrEquals', value: '2020-01-01T00:00:00+00:00' },
          { key: '{{environment.attributes.current_date_time}}', operator: 'dateTimeLessThanOrEquals', value: '2020-01-02T00:00:00+00:00' },
        ],
      },
    }));
    const res = await explain(body(s.iam_id, 'iam-identity.serviceid.get', sidResource(s.id)));
    assert.equal(res.status, 200, res.text);
    assertShape(res.body, { permitted: false, action: 'iam-identity.serviceid.get', iamId: s.iam_id });
    const n = res.body.near_misses.find((x) => x.policy_id === p.id);
    assert.ok(n, JSON.stringify(res.body.near_misses));
    assert.ok(n.missing.some((m) => /condition|time|date|rule/i.test(m)), `names the time condition: ${JSON.stringify(n.missing)}`);
  });

  test('no policy at all: not permitted, nothing granted, no near misses', async () => {
    const s = await createServiceId(server, admin);
    const res = await explain(body(s.iam_id, 'iam-identity.serviceid.get', sidResource(s.id)));
    assert.equal(res.status, 200, res.text);
    assertShape(res.body, { permitted: false, action: 'iam-identity.serviceid.get', iamId: s.iam_id });
    assert.deepEqual(res.body.granted_by, []);
    assert.deepEqual(res.body.near_misses, []);
  });

  test('the answer agrees with enforcement', async () => {
    const s = await sidWithToken(server, admin);
    const t = await createServiceId(server, admin);
    await grant(server, admin, { iamId: s.iamId, roles: ['Editor'], resource: { serviceName: 'iam-identity' } });
    for (const [action, call, ok] of [
      ['iam-identity.serviceid.get', () => api(server, 'GET', `/v1/serviceids/${t.id}`, s.auth), 200],
      ['iam-identity.serviceid.delete', () => api(server, 'DELETE', `/v1/serviceids/${t.id}`, s.auth), 403],
    ]) {
      const ex = await explain(body(s.iamId, action, sidResource(t.id)));
      assert.equal(ex.status, 200, ex.text);
      const real = await call();
      assert.equal(real.status, ok, real.text);
      assert.equal(ex.body.permitted, ok === 200, `${action}: explain ${ex.body.permitted}, API ${real.status}`);
    }
  });

  test('resource by CRN is accepted', async () => {
    const s = await createServiceId(server, admin);
    await grant(server, admin, { iamId: s.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } });
    const crn = `crn:v1:bluemix:public:iam-identity::a/${server.accountId}::serviceid:${s.id}`;
    const res = await explain(body(s.iam_id, 'iam-identity.serviceid.get', { crn }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.permitted, true);
  });

  test('only an account administrator may ask: a service ID without a role -> 403; no credentials -> 401', async () => {
    const s = await sidWithToken(server, admin);
    assertDenied(await explain(body(s.iamId, 'iam-identity.serviceid.get', sidResource(s.id)), s.auth), 'service ID explaining itself');
    assert.equal((await api(server, 'POST', '/v2/authz/explain', { json: body(s.iamId, 'iam-identity.serviceid.get', sidResource(s.id)) })).status, 401);
  });

  test('bad input -> 400', async () => {
    const s = await createServiceId(server, admin);
    const cases = {
      'missing action': { subject: { attributes: { id: s.iam_id } }, resource: sidResource(s.id) },
      'missing subject': { action: 'iam-identity.serviceid.get', resource: sidResource(s.id) },
      'missing resource': { subject: { attributes: { id: s.iam_id } }, action: 'iam-identity.serviceid.get' },
      'array body': [body(s.iam_id, 'iam-identity.serviceid.get', sidResource(s.id))],
    };
    for (const [what, json] of Object.entries(cases)) assertAccessError(await explain(json), 400, undefined, what);
  });
});
