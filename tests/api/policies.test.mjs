// Policy Management: /v1/policies and /v2/policies per reference section 3
// (create 201 + ETag, get, replace with If-Match, state restore, soft delete,
// list filters, v2 placeholders in v1 lists, conflicts, bad input).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { api, createServiceId, getToken } from './lib/http.mjs';
import {
  MS_TIME_RE, PLACEHOLDER_DESCRIPTION, PLACEHOLDER_ROLE, POLICY_ETAG_RE, POLICY_ID_RE, ROLE,
  assertAccessError, assertDenied, attrValue, createAccount, createV1Policy, createV2Policy, etagOf,
  listPolicyIds, sidWithToken, v1Policy, v2Policy,
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

const sid = () => createServiceId(server, admin);
const identityResource = (extra = {}) => ({ accountId: server.accountId, serviceName: 'iam-identity', ...extra });
const getV1 = (id, auth = admin) => api(server, 'GET', `/v1/policies/${id}`, auth);
const getV2 = (id, auth = admin) => api(server, 'GET', `/v2/policies/${id}`, auth);
const ifMatch = (etag) => (etag === undefined ? {} : { 'If-Match': etag });
const putV1 = (id, json, etag, auth = admin) => api(server, 'PUT', `/v1/policies/${id}`, { ...auth, json, headers: ifMatch(etag) });
const putV2 = (id, json, etag, auth = admin) => api(server, 'PUT', `/v2/policies/${id}`, { ...auth, json, headers: ifMatch(etag) });
const patchV1 = (id, json, etag, auth = admin) => api(server, 'PATCH', `/v1/policies/${id}`, { ...auth, json, headers: ifMatch(etag) });
const roleIdsV1 = (p) => (p.roles ?? []).map((r) => r.role_id).sort();
const roleIdsV2 = (p) => (p.control?.grant?.roles ?? []).map((r) => r.role_id).sort();

function assertV1Shape(p, { iamId, roles, description } = {}) {
  assert.match(p.id, POLICY_ID_RE, 'id is a lowercase uuid');
  assert.equal(p.type, 'access');
  assert.equal(p.subjects?.length, 1, 'one subject');
  if (iamId) assert.equal(attrValue(p.subjects[0].attributes, 'iam_id'), iamId, 'subject iam_id');
  assert.ok(Array.isArray(p.roles) && p.roles.length >= 1, 'roles[]');
  for (const r of p.roles) {
    assert.equal(typeof r.role_id, 'string');
    assert.equal(typeof r.display_name, 'string', `roles[].display_name for ${r.role_id}`);
    assert.ok(r.display_name.length > 0);
  }
  if (roles) assert.deepEqual(roleIdsV1(p), roles.map((r) => ROLE[r] ?? r).sort(), 'role ids');
  assert.equal(p.resources?.length, 1, 'one resource');
  assert.equal(attrValue(p.resources[0].attributes, 'accountId'), server.accountId, 'resource accountId');
  assert.match(p.href ?? '', new RegExp(`^https?://.+/v1/policies/${p.id}$`), `href: ${p.href}`);
  assert.match(p.created_at ?? '', MS_TIME_RE, `created_at: ${p.created_at}`);
  assert.match(p.last_modified_at ?? '', MS_TIME_RE, `last_modified_at: ${p.last_modified_at}`);
  assert.equal(p.created_by_id, server.iamId, 'created_by_id');
  assert.equal(p.last_modified_by_id, server.iamId, 'last_modified_by_id');
  assert.equal(p.state, 'active');
  if (description !== undefined) assert.equal(p.description, description);
}

describe('v1 policy lifecycle', () => {
  let subject;
  let created;
  let createEtag;

  before(async () => {
    subject = await sid();
  });

  test('POST /v1/policies -> 201 with ETag and the IBM model (roles enriched with display_name)', async () => {
    const body = v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource(), description: 'read service IDs' });
    const res = await api(server, 'POST', '/v1/policies', { ...admin, json: body });
    assert.equal(res.status, 201, res.text);
    createEtag = etagOf(res);
    assert.match(createEtag ?? '', POLICY_ETAG_RE, `ETag on create: ${createEtag}`);
    assertV1Shape(res.body, { iamId: subject.iam_id, roles: ['Viewer'], description: 'read service IDs' });
    assert.equal(res.body.roles[0].display_name, 'Viewer');
    assert.equal(attrValue(res.body.resources[0].attributes, 'serviceName'), 'iam-identity');
    created = res.body;
  });

  test('GET /v1/policies/{id} -> 200, the same ETag and data', async () => {
    const res = await getV1(created.id);
    assert.equal(res.status, 200, res.text);
    assert.equal(etagOf(res), createEtag, 'ETag unchanged by reads');
    assertV1Shape(res.body, { iamId: subject.iam_id, roles: ['Viewer'], description: 'read service IDs' });
    assert.equal(res.body.id, created.id);
    assert.equal(res.body.created_at, created.created_at);
  });

  test('PUT: no If-Match -> 400, stale -> 409 policy_conflict_error (nothing changes); current -> 200 with a new ETag', async () => {
    const replacement = v1Policy({ iamId: subject.iam_id, roles: ['Operator'], resource: identityResource(), description: 'operate' });
    assertAccessError(await putV1(created.id, replacement), 400, undefined, 'PUT without If-Match');
    let now = await getV1(created.id);
    assert.deepEqual(roleIdsV1(now.body), [ROLE.Viewer], 'unchanged after the 400');
    assert.equal(etagOf(now), createEtag);

    const ok = await putV1(created.id, replacement, createEtag);
    assert.equal(ok.status, 200, ok.text);
    const newEtag = etagOf(ok);
    assert.match(newEtag ?? '', POLICY_ETAG_RE, 'ETag on replace');
    assert.notEqual(newEtag, createEtag, 'a replace changes the ETag');
    assertV1Shape(ok.body, { iamId: subject.iam_id, roles: ['Operator'], description: 'operate' });
    assert.equal(ok.body.id, created.id, 'same id');
    assert.equal(ok.body.created_at, created.created_at, 'created_at kept');
    assert.ok(Date.parse(ok.body.last_modified_at) >= Date.parse(created.created_at), 'last_modified_at moves forward');

    const stale = await putV1(created.id, v1Policy({ iamId: subject.iam_id, roles: ['Editor'], resource: identityResource() }), createEtag);
    assertAccessError(stale, 409, 'policy_conflict_error', 'PUT with a stale If-Match');
    now = await getV1(created.id);
    assert.deepEqual(roleIdsV1(now.body), [ROLE.Operator], 'stale replace changed nothing');
    assert.equal(etagOf(now), newEtag, 'GET answers the ETag of the replace');
  });

  test('PUT cannot change the type (400, nothing changes)', async () => {
    const cur = await getV1(created.id);
    const body = v1Policy({ iamId: subject.iam_id, roles: ['Operator'], resource: identityResource(), type: 'authorization' });
    assertAccessError(await putV1(created.id, body, etagOf(cur)), 400, undefined, 'type change');
    const after = await getV1(created.id);
    assert.equal(after.body.type, 'access');
    assert.equal(etagOf(after), etagOf(cur));
  });

  test('DELETE -> 204 (soft): gone from the default list, visible as deleted; PATCH {state:active} with If-Match restores it', async () => {
    const before = await getV1(created.id);
    const lastEtag = etagOf(before);
    const del = await api(server, 'DELETE', `/v1/policies/${created.id}`, admin);
    assert.equal(del.status, 204, del.text);
    assert.equal(del.text, '', '204 has no body');

    const active = await listPolicyIds(server, admin, { query: { iam_id: subject.iam_id } });
    assert.ok(!active.ids.includes(created.id), 'a deleted policy is not in the default (active) list');
    const deleted = await listPolicyIds(server, admin, { query: { iam_id: subject.iam_id, state: 'deleted' } });
    const got = await getV1(created.id);
    if (got.status === 200) {
      assert.equal(got.body.state, 'deleted', 'GET of a deleted policy shows state deleted');
    } else {
      assert.equal(got.status, 404, `GET after delete: ${got.status} ${got.text}`);
      assert.ok(deleted.ids.includes(created.id), 'list state=deleted shows the deleted policy');
    }
    for (const p of deleted.items) assert.equal(p.state, 'deleted', `state=deleted lists only deleted policies (${p.id})`);

    assertAccessError(await patchV1(created.id, { state: 'active' }), 400, undefined, 'PATCH without If-Match');
    const etag = got.status === 200 ? etagOf(got) : lastEtag;
    const restore = await patchV1(created.id, { state: 'active' }, etag);
    assert.equal(restore.status, 200, restore.text);
    assert.equal(restore.body.state, 'active');
    assert.equal(restore.body.id, created.id);
    const again = await getV1(created.id);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.state, 'active');
    assert.deepEqual(roleIdsV1(again.body), [ROLE.Operator], 'restored with its roles');
    const listed = await listPolicyIds(server, admin, { query: { iam_id: subject.iam_id } });
    assert.ok(listed.ids.includes(created.id), 'restored policy is listed again');
  });

  test('unknown policy id: GET/PUT/PATCH/DELETE -> 404 policy_not_found', async () => {
    const id = crypto.randomUUID();
    assertAccessError(await getV1(id), 404, 'policy_not_found', 'GET');
    assertAccessError(await putV1(id, v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource() }), '1-00000000000000000000000000000000'),
      404, 'policy_not_found', 'PUT');
    assertAccessError(await patchV1(id, { state: 'active' }, '1-00000000000000000000000000000000'), 404, 'policy_not_found', 'PATCH');
    assertAccessError(await api(server, 'DELETE', `/v1/policies/${id}`, admin), 404, 'policy_not_found', 'DELETE');
    assertAccessError(await getV2(id), 404, 'policy_not_found', 'GET v2');
  });

  test('no credentials -> 401 on list, create, get', async () => {
    assert.equal((await api(server, 'GET', '/v1/policies', { query: { account_id: server.accountId } })).status, 401);
    assert.equal((await api(server, 'POST', '/v1/policies', { json: v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource() }) })).status, 401);
    assert.equal((await api(server, 'GET', `/v1/policies/${created.id}`)).status, 401);
    assert.equal((await api(server, 'GET', '/v2/policies', { query: { account_id: server.accountId } })).status, 401);
  });
});

describe('conflicts', () => {
  test('identical subject + resource -> 409 policy_conflict_error naming the existing policy; nothing created', async () => {
    const s = await sid();
    const first = await createV1Policy(server, admin, v1Policy({ iamId: s.iam_id, roles: ['Viewer'], resource: identityResource() }));
    const before = await listPolicyIds(server, admin, { query: { iam_id: s.iam_id } });
    const dup = await api(server, 'POST', '/v1/policies', {
      ...admin, json: v1Policy({ iamId: s.iam_id, roles: ['Operator'], resource: identityResource() }),
    });
    assertAccessError(dup, 409, 'policy_conflict_error', 'same subject and resource, other roles');
    const conflictId = dup.body.errors[0].details?.conflicts_with?.policy?.id;
    if (conflictId !== undefined) assert.equal(conflictId, first.id, 'details.conflicts_with.policy.id names the existing policy');
    // Attribute order is not part of a resource's identity.
    const reordered = {
      type: 'access',
      subjects: [{ attributes: [{ name: 'iam_id', value: s.iam_id }] }],
      roles: [{ role_id: ROLE.Editor }],
      resources: [{ attributes: [{ name: 'serviceName', value: 'iam-identity' }, { name: 'accountId', value: server.accountId }] }],
    };
    assertAccessError(await api(server, 'POST', '/v1/policies', { ...admin, json: reordered }), 409, 'policy_conflict_error', 'reordered attributes');
    // Same through v2.
    const v2dup = await api(server, 'POST', '/v2/policies', { ...admin, json: v2Policy({ iamId: s.iam_id, roles: ['Editor'], resource: identityResource() }) });
    assertAccessError(v2dup, 409, 'policy_conflict_error', 'v2 duplicate of a v1 policy');
    const after = await listPolicyIds(server, admin, { query: { iam_id: s.iam_id } });
    assert.deepEqual(after.ids.sort(), before.ids.sort(), 'no policy was created');
    // A different resource for the same subject is not a conflict.
    const other = await createV1Policy(server, admin, v1Policy({ iamId: s.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } }));
    assert.notEqual(other.id, first.id);
  });

  test('a deleted policy does not conflict: the same subject + resource can be created again', async () => {
    const s = await sid();
    const body = v1Policy({ iamId: s.iam_id, roles: ['Viewer'], resource: identityResource() });
    const first = await createV1Policy(server, admin, body);
    assert.equal((await api(server, 'DELETE', `/v1/policies/${first.id}`, admin)).status, 204);
    const second = await createV1Policy(server, admin, body);
    assert.notEqual(second.id, first.id);
  });
});

describe('v2 policies', () => {
  test('POST /v2/policies -> 201 with ETag and the v2 model; GET -> 200 same ETag', async () => {
    const s = await sid();
    const body = v2Policy({ iamId: s.iam_id, roles: ['Viewer'], resource: identityResource(), description: 'v2 viewer' });
    const res = await api(server, 'POST', '/v2/policies', { ...admin, json: body });
    assert.equal(res.status, 201, res.text);
    const etag = etagOf(res);
    assert.match(etag ?? '', POLICY_ETAG_RE, 'ETag on v2 create');
    const p = res.body;
    assert.match(p.id, POLICY_ID_RE);
    assert.equal(p.type, 'access');
    assert.equal(p.description, 'v2 viewer');
    assert.deepEqual(p.subject?.attributes, [{ key: 'iam_id', operator: 'stringEquals', value: s.iam_id }], 'subject');
    const acct = p.resource?.attributes?.find((a) => a.key === 'accountId');
    assert.deepEqual(acct, { key: 'accountId', operator: 'stringEquals', value: server.accountId });
    assert.deepEqual(roleIdsV2(p), [ROLE.Viewer], 'control.grant.roles');
    assert.equal(p.state, 'active');
    assert.match(p.href ?? '', new RegExp(`^https?://.+/v2/policies/${p.id}$`), `href: ${p.href}`);
    assert.match(p.created_at ?? '', MS_TIME_RE);
    assert.match(p.last_modified_at ?? '', MS_TIME_RE);
    assert.equal(p.created_by_id, server.iamId);
    const got = await getV2(p.id);
    assert.equal(got.status, 200, got.text);
    assert.equal(etagOf(got), etag);
    assert.deepEqual(got.body.subject, p.subject);
    assert.deepEqual(got.body.control, p.control);
  });

  test('PUT /v2/policies/{id}: no If-Match -> 400, stale -> 409, current -> 200; DELETE -> 204', async () => {
    const s = await sid();
    const p = await createV2Policy(server, admin, v2Policy({ iamId: s.iam_id, roles: ['Viewer'], resource: identityResource() }));
    const etag1 = etagOf(await getV2(p.id));
    const next = v2Policy({ iamId: s.iam_id, roles: ['Editor'], resource: identityResource() });
    assertAccessError(await putV2(p.id, next), 400, undefined, 'no If-Match');
    const ok = await putV2(p.id, next, etag1);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(roleIdsV2(ok.body), [ROLE.Editor]);
    assert.notEqual(etagOf(ok), etag1, 'new ETag');
    assertAccessError(await putV2(p.id, v2Policy({ iamId: s.iam_id, roles: ['Operator'], resource: identityResource() }), etag1),
      409, 'policy_conflict_error', 'stale If-Match');
    assert.deepEqual(roleIdsV2((await getV2(p.id)).body), [ROLE.Editor], 'stale PUT changed nothing');
    const del = await api(server, 'DELETE', `/v2/policies/${p.id}`, admin);
    assert.equal(del.status, 204, del.text);
    const active = await listPolicyIds(server, admin, { path: '/v2/policies', query: { iam_id: s.iam_id } });
    assert.ok(!active.ids.includes(p.id), 'deleted v2 policy not listed as active');
    const deleted = await listPolicyIds(server, admin, { path: '/v2/policies', query: { iam_id: s.iam_id, state: 'deleted' } });
    const got = await getV2(p.id);
    assert.ok((got.status === 200 && got.body.state === 'deleted') || deleted.ids.includes(p.id),
      `deleted v2 policy visible as deleted (GET ${got.status} ${got.body?.state}; deleted list ${deleted.ids})`);
  });

  test('time-based conditions: rule and pattern are stored and echoed', async () => {
    const s = await sid();
    const rule = {
      operator: 'and',
      conditions: [
        { key: '{{environment.attributes.current_date_time}}', operator: 'dateTimeGreaterThanOrEquals', value: '2020-01-01T00:00:00+00:00' },
        { key: '{{environment.attributes.current_date_time}}', operator: 'dateTimeLessThanOrEquals', value: '2099-12-31T23:59:59+00:00' },
      ],
    };
    const p = await createV2Policy(server, admin, v2Policy({
      iamId: s.iam_id, roles: ['Viewer'], resource: identityResource(), rule, pattern: 'time-based-conditions:once',
    }));
    assert.equal(p.pattern, 'time-based-conditions:once');
    assert.deepEqual(p.rule, rule);
    const got = await getV2(p.id);
    assert.deepEqual(got.body.rule, rule);
  });

  test('GET /v2/policies lists v1-created policies in the v2 shape', async () => {
    const s = await sid();
    const p1 = await createV1Policy(server, admin, v1Policy({ iamId: s.iam_id, roles: ['Viewer'], resource: identityResource() }));
    const { items } = await listPolicyIds(server, admin, { path: '/v2/policies', query: { iam_id: s.iam_id } });
    const p = items.find((x) => x.id === p1.id);
    assert.ok(p, `v1 policy ${p1.id} in the v2 list`);
    assert.deepEqual(p.subject?.attributes, [{ key: 'iam_id', operator: 'stringEquals', value: s.iam_id }]);
    assert.deepEqual(roleIdsV2(p), [ROLE.Viewer]);
    assert.equal(attrValue(p.resource?.attributes, 'serviceName'), 'iam-identity');
  });

  test('GET /v1/policies shows a v2 policy as the unsupported-version placeholder', async () => {
    const s = await sid();
    const p2 = await createV2Policy(server, admin, v2Policy({ iamId: s.iam_id, roles: ['Viewer'], resource: identityResource() }));
    const { items } = await listPolicyIds(server, admin);
    const ph = items.find((x) => x.id === p2.id);
    assert.ok(ph, `v2 policy ${p2.id} appears in the unfiltered v1 list`);
    assert.equal(ph.description, PLACEHOLDER_DESCRIPTION);
    assert.equal(attrValue(ph.subjects?.[0]?.attributes, 'iam_id'), 'unsupported version');
    assert.deepEqual(roleIdsV1(ph), [PLACEHOLDER_ROLE]);
    const attrs = ph.resources?.[0]?.attributes ?? [];
    assert.deepEqual(attrs.map((a) => a.name), ['accountId'], 'only the accountId resource attribute');
    assert.equal(attrValue(attrs, 'accountId'), server.accountId);
    assert.match(ph.href ?? '', new RegExp(`/v2/policies/${p2.id}$`), `placeholder href points at /v2: ${ph.href}`);
  });
});

describe('list filters', () => {
  test('account_id is required (400)', async () => {
    assertAccessError(await api(server, 'GET', '/v1/policies', admin), 400, undefined, 'v1 without account_id');
    assertAccessError(await api(server, 'GET', '/v2/policies', admin), 400, undefined, 'v2 without account_id');
  });

  test('iam_id, type, paging with next.start', async () => {
    const a = await sid();
    const b = await sid();
    const pa = [];
    for (const svc of ['iam-identity', 'iam-groups', 'iam-access-management']) {
      pa.push((await createV1Policy(server, admin, v1Policy({ iamId: a.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: svc } }))).id);
    }
    const pb = (await createV1Policy(server, admin, v1Policy({ iamId: b.iam_id, roles: ['Viewer'], resource: identityResource() }))).id;

    const onlyA = await listPolicyIds(server, admin, { query: { iam_id: a.iam_id } });
    assert.deepEqual(onlyA.ids.sort(), [...pa].sort(), 'iam_id filter: exactly the subject\'s policies');
    for (const p of onlyA.items) assert.equal(attrValue(p.subjects[0].attributes, 'iam_id'), a.iam_id);
    assert.ok(!onlyA.ids.includes(pb));

    const paged = await listPolicyIds(server, admin, { query: { iam_id: a.iam_id, limit: 1 } });
    assert.deepEqual(paged.ids.sort(), [...pa].sort(), 'limit=1 pages through every policy once via next.start');

    const access = await listPolicyIds(server, admin, { query: { iam_id: a.iam_id, type: 'access' } });
    assert.deepEqual(access.ids.sort(), [...pa].sort(), 'type=access');
    const authorization = await listPolicyIds(server, admin, { query: { iam_id: a.iam_id, type: 'authorization' } });
    assert.deepEqual(authorization.ids, [], 'type=authorization: none of these');
  });

  test('access_group_id filter', async () => {
    const g = await api(server, 'POST', '/v2/groups', { ...admin, query: { account_id: server.accountId }, json: { name: `pol-filter-${Date.now()}` } });
    assert.equal(g.status, 201, `create group: ${g.text}`);
    const gp = await createV1Policy(server, admin, v1Policy({ groupId: g.body.id, roles: ['Viewer'], resource: identityResource() }));
    const s = await sid();
    await createV1Policy(server, admin, v1Policy({ iamId: s.iam_id, roles: ['Viewer'], resource: identityResource() }));
    const listed = await listPolicyIds(server, admin, { query: { access_group_id: g.body.id } });
    assert.deepEqual(listed.ids, [gp.id]);
    assert.equal(attrValue(listed.items[0].subjects[0].attributes, 'access_group_id'), g.body.id);
  });
});

describe('bad input -> 400 invalid_body, nothing changes', () => {
  let subject;
  let other;
  const otherAccount = async () => {
    if (!other) {
      const acct = await createAccount(server, admin);
      const osid = await createServiceId({ url: server.url, accountId: acct.accountId }, acct.auth);
      other = { ...acct, sid: osid };
    }
    return other;
  };

  before(async () => {
    subject = await sid();
  });

  const anyOf = (op, n) => v2Policy({
    iamId: subject.iam_id, roles: ['Viewer'],
    resource: [
      { key: 'accountId', operator: 'stringEquals', value: server.accountId },
      { key: 'serviceName', operator: 'stringEquals', value: 'iam-identity' },
      { key: 'resource', operator: op, value: Array.from({ length: n }, (_, i) => `ServiceId-${i}`) },
    ],
  });
  const timeCond = (op, value) => ({ key: '{{environment.attributes.current_date_time}}', operator: op, value });

  const cases = () => ({
    'unknown role': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['crn:v1:bluemix:public:iam::::role:Superuser'], resource: identityResource() })],
    'malformed role CRN (not a CRN)': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['Viewer-please'], resource: identityResource() })],
    'malformed role CRN (no role name)': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['crn:v1:bluemix:public:iam::::role:'], resource: identityResource() })],
    'malformed role CRN (too few fields)': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['crn:v1:bluemix:role:Viewer'], resource: identityResource() })],
    'service role of another service': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['ServiceIdCreator'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } })],
    'unknown service': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'no-such-service-x1' } })],
    'unknown attribute': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource({ colour: 'blue' }) })],
    'v1 operator not allowed (stringEqualsAnyOf)': ['v1', v1Policy({
      iamId: subject.iam_id, roles: ['Viewer'],
      resource: [{ name: 'accountId', value: server.accountId }, { name: 'serviceName', value: 'iam-identity', operator: 'stringEqualsAnyOf' }],
    })],
    'v2 subject operator not allowed (stringMatch on iam_id)': ['v2', {
      ...v2Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource() }),
      subject: { attributes: [{ key: 'iam_id', operator: 'stringMatch', value: 'iam-ServiceId-*' }] },
    }],
    'v2 resource operator not allowed (dateTimeLessThan)': ['v2', v2Policy({
      iamId: subject.iam_id, roles: ['Viewer'],
      resource: [{ key: 'accountId', operator: 'stringEquals', value: server.accountId }, { key: 'serviceName', operator: 'dateTimeLessThan', value: 'iam-identity' }],
    })],
    'stringEqualsAnyOf with 11 values': ['v2', anyOf('stringEqualsAnyOf', 11)],
    'stringMatchAnyOf with 11 values': ['v2', anyOf('stringMatchAnyOf', 11)],
    'missing accountId': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } })],
    'only accountId (no service, service type or resource group)': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId } })],
    'two resources': ['v1', {
      ...v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource() }),
      resources: [{ attributes: [{ name: 'accountId', value: server.accountId }, { name: 'serviceName', value: 'iam-identity' }] },
        { attributes: [{ name: 'accountId', value: server.accountId }, { name: 'serviceName', value: 'iam-groups' }] }],
    }],
    'two subjects': ['v1', {
      ...v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource() }),
      subjects: [{ attributes: [{ name: 'iam_id', value: subject.iam_id }] }, { attributes: [{ name: 'iam_id', value: server.iamId }] }],
    }],
    'no subjects': ['v1', { ...v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource() }), subjects: [] }],
    'no roles': ['v1', { ...v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource() }), roles: [] }],
    'unknown type': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource(), type: 'everything' })],
    'empty attribute value': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource({ resourceType: '' }) })],
    'attribute value of 1001 characters': ['v1', v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource({ resource: 'x'.repeat(1001) }) })],
    'v2 rule without pattern': ['v2', v2Policy({
      iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource(),
      rule: { operator: 'and', conditions: [timeCond('dateTimeGreaterThanOrEquals', '2020-01-01T00:00:00+00:00'), timeCond('dateTimeLessThanOrEquals', '2099-01-01T00:00:00+00:00')] },
    })],
    'v2 rule with 11 conditions': ['v2', v2Policy({
      iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource(), pattern: 'time-based-conditions:once',
      rule: {
        operator: 'and',
        conditions: [...Array.from({ length: 10 }, () => timeCond('dateTimeGreaterThanOrEquals', '2020-01-01T00:00:00+00:00')),
          timeCond('dateTimeLessThanOrEquals', '2099-01-01T00:00:00+00:00')],
      },
    })],
    'v2 GreaterThanOrEquals without a LessThanOrEquals': ['v2', v2Policy({
      iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource(), pattern: 'time-based-conditions:once',
      rule: { operator: 'and', conditions: [timeCond('dateTimeGreaterThanOrEquals', '2020-01-01T00:00:00+00:00')] },
    })],
    'v2 unknown rule operator': ['v2', v2Policy({
      iamId: subject.iam_id, roles: ['Viewer'], resource: identityResource(), pattern: 'time-based-conditions:once',
      rule: { operator: 'and', conditions: [timeCond('dateTimeRoughly', '2020-01-01T00:00:00+00:00'), timeCond('dateTimeLessThanOrEquals', '2099-01-01T00:00:00+00:00')] },
    })],
  });

  test('each case -> 400 invalid_body; the account\'s policies are unchanged', async () => {
    const before = await listPolicyIds(server, admin);
    const failures = [];
    for (const [name, [version, body]] of Object.entries(cases())) {
      const res = await api(server, 'POST', `/${version}/policies`, { ...admin, json: body });
      try {
        assertAccessError(res, 400, 'invalid_body', name);
      } catch (err) {
        failures.push(err.message.split('\n')[0]);
      }
    }
    const raw = await api(server, 'POST', '/v1/policies', { ...admin, body: '{"type":"access",', contentType: 'application/json' });
    try { assertAccessError(raw, 400, 'invalid_body', 'truncated JSON'); } catch (err) { failures.push(err.message.split('\n')[0]); }
    const after = await listPolicyIds(server, admin);
    assert.deepEqual(after.ids.sort(), before.ids.sort(), 'no policy was created by bad input');
    assert.deepEqual(failures, [], `cases not answered 400 invalid_body:\n${failures.join('\n')}`);
  });

  test('10 values in an any-of is the limit, not over it (201)', async () => {
    const p = await createV2Policy(server, admin, anyOf('stringEqualsAnyOf', 10));
    assert.equal(p.resource.attributes.find((a) => a.key === 'resource').value.length, 10);
  });

  test('a subject of another account -> 400, nothing created', async () => {
    const o = await otherAccount();
    const before = await listPolicyIds(server, admin);
    const res = await api(server, 'POST', '/v1/policies', { ...admin, json: v1Policy({ iamId: o.sid.iam_id, roles: ['Viewer'], resource: identityResource() }) });
    assertAccessError(res, 400, 'invalid_body', 'subject in another account');
    const res2 = await api(server, 'POST', '/v1/policies', { ...admin, json: v1Policy({ iamId: o.ownerIamId, roles: ['Viewer'], resource: identityResource() }) });
    assertAccessError(res2, 400, 'invalid_body', 'user of another account');
    assert.deepEqual((await listPolicyIds(server, admin)).ids.sort(), before.ids.sort());
  });

  test('accountId of another account -> 400, nothing created in either account', async () => {
    const o = await otherAccount();
    const before = await listPolicyIds(server, admin);
    const res = await api(server, 'POST', '/v1/policies', {
      ...admin, json: v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: { accountId: o.accountId, serviceName: 'iam-identity' } }),
    });
    assertAccessError(res, 400, 'invalid_body', 'resource accountId of another account');
    assert.deepEqual((await listPolicyIds(server, admin)).ids.sort(), before.ids.sort());
    const theirs = await api(server, 'GET', '/v1/policies', { ...o.auth, query: { account_id: o.accountId, iam_id: subject.iam_id } });
    assert.equal(theirs.status, 200, theirs.text);
    assert.deepEqual(theirs.body.policies, [], 'nothing created in the other account');
  });

  test('a replace with bad input -> 400 and the policy is unchanged', async () => {
    const p = await createV1Policy(server, admin, v1Policy({ iamId: subject.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } }));
    const cur = await getV1(p.id);
    const bad = v1Policy({ iamId: subject.iam_id, roles: ['crn:v1:bluemix:public:iam::::role:Superuser'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } });
    assertAccessError(await putV1(p.id, bad, etagOf(cur)), 400, 'invalid_body', 'replace with an unknown role');
    const after = await getV1(p.id);
    assert.equal(etagOf(after), etagOf(cur));
    assert.deepEqual(roleIdsV1(after.body), [ROLE.Viewer]);
  });
});

describe('who may manage policies', () => {
  test('a service ID without a role: create -> 403 insufficent_permissions; list -> 200 without others\' policies', async () => {
    const actor = await sidWithToken(server, admin);
    const target = await sid();
    await createV1Policy(server, admin, v1Policy({ iamId: target.iam_id, roles: ['Viewer'], resource: identityResource() }));
    const before = await listPolicyIds(server, admin);
    const res = await api(server, 'POST', '/v1/policies', { ...actor.auth, json: v1Policy({ iamId: actor.iamId, roles: ['Administrator'], resource: identityResource() }) });
    assertDenied(res, 'self-granting Administrator');
    const res2 = await api(server, 'POST', '/v2/policies', { ...actor.auth, json: v2Policy({ iamId: target.iam_id, roles: ['Viewer'], resource: identityResource() }) });
    assertDenied(res2, 'v2 create');
    assert.deepEqual((await listPolicyIds(server, admin)).ids.sort(), before.ids.sort(), 'nothing created');
    const list = await api(server, 'GET', '/v1/policies', { ...actor.auth, query: { account_id: server.accountId } });
    assert.equal(list.status, 200, `list by a service ID without access is 200, not 403: ${list.text}`);
    for (const p of list.body.policies) {
      assert.equal(attrValue(p.subjects?.[0]?.attributes, 'iam_id'), actor.iamId, `a policy of another subject leaked: ${p.id}`);
    }
  });
});
