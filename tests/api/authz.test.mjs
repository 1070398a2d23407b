// Decisions for other services (reference section 5): POST /v2/authz,
// PUT /v2/authz/bulk, POST /v2/authz/roles in IBM's wire format, answered for
// the caller's own registered service only; grants through groups and
// PublicAccess, wildcards, any-of, hierarchy, time conditions, cross-account,
// and read-your-writes after policy and registry changes.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, createServiceId, getToken } from './lib/http.mjs';
import {
  PUBLIC_ACCESS_GROUP, ROLE, authz, createAccount, createV1Policy, createV2Policy, decide, deletePolicy, etagOf, grant,
  permittedList, registerService, serviceDefinition, sidWithToken, subjectById, subjectByToken, uniqueServiceName,
  v1Policy, v2Policy,
} from './lib/access.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

let server;
let admin;
let pdp;          // the registered service's PDP client (a service ID with a token)
let svc;          // its service name
let otherSvc;     // a service pdp is not a client of
let def;

before(async () => {
  server = await startServer();
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
  pdp = await sidWithToken(server, admin, { name: 'pdp-client' });
  svc = uniqueServiceName('books');
  def = serviceDefinition(svc, [pdp.iamId]);
  await registerService(server, admin, def);
  otherSvc = uniqueServiceName('other');
  const stranger = await createServiceId(server, admin);
  await registerService(server, admin, serviceDefinition(otherSvc, [stranger.iam_id]));
});

after(async () => {
  await stopAndCheck(server);
});

const A = (noun, verb) => `${svc}.${noun}.${verb}`;
const READ = () => A('thing', 'read');
const WRITE = () => A('thing', 'write');
const res = (extra = {}) => ({ accountId: server.accountId, serviceName: svc, ...extra });
const item = (iamId, action, attributes) => ({ subject: subjectById(iamId), action, resource: { attributes } });
const can = (iamId, action, attributes) => decide(server, pdp.auth, iamId, action, attributes);
const subject = () => createServiceId(server, admin);

describe('POST /v2/authz wire format', () => {
  let s;
  before(async () => {
    s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Reader'], resource: { serviceName: svc, serviceInstance: 'inst-1' } });
  });

  test('a permit: status "200", permitted, obligation {actions, maxCacheAgeSeconds, subject, resource, environment}, cacheKeyPattern', async () => {
    const r = await authz(server, pdp.auth, [{
      subject: subjectById(s.iam_id, 'ibm openid'), action: READ(), resource: { attributes: res({ serviceInstance: 'inst-1' }) }, environment: { attributes: {} },
    }]);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /json/);
    const [one] = r.body.responses;
    assert.equal(one.status, '200', 'status is a string');
    const d = one.authorizationDecision;
    assert.equal(d.permitted, true, JSON.stringify(one));
    const o = d.obligation;
    assert.ok(o && typeof o === 'object', 'obligation on a permit');
    assert.ok(Array.isArray(o.actions) && o.actions.includes(READ()), `obligation.actions has the action: ${JSON.stringify(o.actions)}`);
    assert.ok(!o.actions.includes(WRITE()), 'obligation.actions lists only actions the subject holds');
    assert.ok(Number.isInteger(o.maxCacheAgeSeconds) && o.maxCacheAgeSeconds > 0, `maxCacheAgeSeconds: ${o.maxCacheAgeSeconds}`);
    assert.equal(o.subject?.attributes?.id, s.iam_id, 'obligation.subject');
    const ra = o.resource?.attributes;
    assert.ok(ra && typeof ra === 'object', 'obligation.resource.attributes');
    assert.equal(ra.serviceName, svc, 'obligation scope names the service');
    assert.equal(ra.serviceInstance, 'inst-1', 'obligation scope is not broader than the granting policy');
    assert.ok('environment' in o, 'obligation.environment');
    const ckp = r.body.cacheKeyPattern;
    assert.ok(ckp && Array.isArray(ckp.order) && Array.isArray(ckp.subject) && Array.isArray(ckp.resource), `cacheKeyPattern: ${JSON.stringify(ckp)}`);
  });

  test('a deny is status "200" with permitted false', async () => {
    const [p] = permittedList(await authz(server, pdp.auth, [item(s.iam_id, WRITE(), res({ serviceInstance: 'inst-1' }))]), 1);
    assert.equal(p, false);
  });

  test('responses come back in request order', async () => {
    const none = await subject();
    const items = [
      item(s.iam_id, READ(), res({ serviceInstance: 'inst-1' })),
      item(s.iam_id, WRITE(), res({ serviceInstance: 'inst-1' })),
      item(none.iam_id, READ(), res({ serviceInstance: 'inst-1' })),
      item(s.iam_id, READ(), res({ serviceInstance: 'inst-2' })),
      item(s.iam_id, READ(), res({ serviceInstance: 'inst-1', resourceType: 'thing', resource: 't1' })),
      item(s.iam_id, A('thing', 'delete'), res({ serviceInstance: 'inst-1' })),
    ];
    assert.deepEqual(permittedList(await authz(server, pdp.auth, items), 6), [true, false, false, false, true, false]);
  });

  test('resource by CRN', async () => {
    const crn = (acct, inst, type = '', resource = '') => `crn:v1:bluemix:public:${svc}:us-south:a/${acct}:${inst}:${type}:${resource}`;
    const items = [
      { subject: subjectById(s.iam_id), action: READ(), resource: { crn: crn(server.accountId, 'inst-1') } },
      { subject: subjectById(s.iam_id), action: READ(), resource: { crn: crn(server.accountId, 'inst-1', 'thing', 'x') } },
      { subject: subjectById(s.iam_id), action: READ(), resource: { crn: crn(server.accountId, 'inst-2') } },
      { subject: subjectById(s.iam_id), action: READ(), resource: { crn: crn('0123456789abcdef0123456789abcdef', 'inst-1') } },
    ];
    assert.deepEqual(permittedList(await authz(server, pdp.auth, items), 4), [true, true, false, false]);
  });

  test('subject by accessTokenBody (the JWT payload only) decides like the iam_id', async () => {
    const t = await sidWithToken(server, admin);
    await grant(server, admin, { iamId: t.iamId, roles: ['Writer'], resource: { serviceName: svc, serviceInstance: 'tok' } });
    const bare = await sidWithToken(server, admin);
    const items = [
      { subject: subjectByToken(t.auth.token), action: WRITE(), resource: { attributes: res({ serviceInstance: 'tok' }) } },
      { subject: subjectByToken(t.auth.token), action: A('thing', 'delete'), resource: { attributes: res({ serviceInstance: 'tok' }) } },
      { subject: subjectByToken(bare.auth.token), action: READ(), resource: { attributes: res({ serviceInstance: 'tok' }) } },
    ];
    assert.deepEqual(permittedList(await authz(server, pdp.auth, items), 3), [true, false, false]);
  });

  test('Accept: application/vnd.authz.v2+json is answered', async () => {
    const r = await authz(server, pdp.auth, [item(s.iam_id, READ(), res({ serviceInstance: 'inst-1' }))], { Accept: 'application/vnd.authz.v2+json' });
    assert.deepEqual(permittedList(r, 1), [true]);
  });

  test('up to 100 requests per call; 101 -> 400; malformed bodies -> 400', async () => {
    const hundred = Array.from({ length: 100 }, (_, i) => item(s.iam_id, READ(), res({ serviceInstance: i % 2 ? 'inst-1' : 'inst-2' })));
    const got = permittedList(await authz(server, pdp.auth, hundred), 100);
    assert.deepEqual(got, hundred.map((_, i) => i % 2 === 1));
    const over = await authz(server, pdp.auth, [...hundred, item(s.iam_id, READ(), res({ serviceInstance: 'inst-1' }))]);
    assert.equal(over.status, 400, `101 requests: ${over.status} ${over.text.slice(0, 200)}`);
    assert.equal(over.body?.responses, undefined, 'no decisions for a refused batch');
    const obj = await api(server, 'POST', '/v2/authz', { ...pdp.auth, json: item(s.iam_id, READ(), res({ serviceInstance: 'inst-1' })) });
    assert.equal(obj.status, 400, `an object instead of an array: ${obj.status}`);
    const raw = await api(server, 'POST', '/v2/authz', { ...pdp.auth, body: '[{"subject":', contentType: 'application/json' });
    assert.equal(raw.status, 400, `truncated JSON: ${raw.status}`);
  });

  test('an item without an action or subject is refused (400 overall or a non-200 item), never permitted', async () => {
    const r = await authz(server, pdp.auth, [
      { subject: subjectById(s.iam_id), resource: { attributes: res({ serviceInstance: 'inst-1' }) } },
      { action: READ(), resource: { attributes: res({ serviceInstance: 'inst-1' }) } },
    ]);
    if (r.status === 200) {
      for (const x of r.body.responses) assert.notEqual(x.status, '200', `malformed item answered: ${JSON.stringify(x)}`);
    } else {
      assert.equal(r.status, 400, r.text);
    }
  });

  test('no credentials -> 401', async () => {
    const r = await api(server, 'POST', '/v2/authz', { json: [item(s.iam_id, READ(), res({ serviceInstance: 'inst-1' }))] });
    assert.equal(r.status, 401);
  });
});

describe('only the registered service\'s own PDP clients', () => {
  test('an item about another service -> that item 403 "unauthorized to make this request"; the others are answered', async () => {
    const s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Manager'], resource: { serviceName: svc } });
    await grant(server, admin, { iamId: s.iam_id, roles: ['Manager'], resource: { serviceName: otherSvc } });
    const r = await authz(server, pdp.auth, [
      item(s.iam_id, READ(), res()),
      item(s.iam_id, `${otherSvc}.thing.read`, { accountId: server.accountId, serviceName: otherSvc }),
      item(s.iam_id, 'iam-identity.serviceid.get', { accountId: server.accountId, serviceName: 'iam-identity' }),
    ]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.responses.length, 3);
    assert.equal(r.body.responses[0].status, '200');
    assert.equal(r.body.responses[0].authorizationDecision.permitted, true);
    for (const i of [1, 2]) {
      const x = r.body.responses[i];
      assert.equal(x.status, '403', `item ${i}: ${JSON.stringify(x)}`);
      assert.equal(x.authorizationDecision, undefined, 'no decision in a refused item');
      assert.equal(x.error?.errors?.[0]?.message, 'unauthorized to make this request', JSON.stringify(x));
      assert.equal(typeof x.error.errors[0].code, 'string');
    }
  });

  test('iamd\'s own services: the account owner may ask about its account, another account\'s owner may not', async () => {
    const s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } });
    const target = { accountId: server.accountId, serviceName: 'iam-identity', resourceType: 'serviceid', resource: s.id };
    const mine = await authz(server, admin, [
      item(s.iam_id, 'iam-identity.serviceid.get', target),
      item(s.iam_id, 'iam-identity.serviceid.delete', target),
    ]);
    assert.deepEqual(permittedList(mine, 2), [true, false]);
    const other = await createAccount(server, admin);
    const theirs = await authz(server, other.auth, [item(s.iam_id, 'iam-identity.serviceid.get', target)]);
    if (theirs.status === 200) {
      assert.equal(theirs.body.responses[0].status, '403', JSON.stringify(theirs.body));
      assert.equal(theirs.body.responses[0].authorizationDecision, undefined);
    } else {
      assert.equal(theirs.status, 403, theirs.text);
    }
  });

  test('a caller that is no service\'s PDP client gets 403 on every item', async () => {
    const s = await sidWithToken(server, admin);
    await grant(server, admin, { iamId: s.iamId, roles: ['Manager'], resource: { serviceName: svc } });
    const r = await authz(server, s.auth, [item(s.iamId, READ(), res())]);
    if (r.status === 200) {
      assert.equal(r.body.responses[0].status, '403', JSON.stringify(r.body));
      assert.equal(r.body.responses[0].error?.errors?.[0]?.message, 'unauthorized to make this request');
    } else {
      assert.equal(r.status, 403, r.text);
    }
  });
});

describe('what grants', () => {
  test('through an access group; membership changes show in the next decision', async () => {
    const g = await api(server, 'POST', '/v2/groups', { ...admin, query: { account_id: server.accountId }, json: { name: `writers-${Date.now()}` } });
    assert.equal(g.status, 201, g.text);
    await grant(server, admin, { groupId: g.body.id, roles: ['Writer'], resource: { serviceName: svc } });
    const s = await subject();
    assert.equal(await can(s.iam_id, WRITE(), res()), false, 'not a member yet');
    const add = await api(server, 'PUT', `/v2/groups/${g.body.id}/members`, { ...admin, json: { members: [{ iam_id: s.iam_id, type: 'service' }] } });
    assert.equal(add.status, 207, add.text);
    assert.equal(await can(s.iam_id, WRITE(), res({ serviceInstance: 'any' })), true, 'member: granted through the group');
    assert.equal(await can(s.iam_id, A('thing', 'delete'), res()), false, 'only the group role\'s actions');
    assert.equal((await api(server, 'DELETE', `/v2/groups/${g.body.id}/members/${s.iam_id}`, admin)).status, 204);
    assert.equal(await can(s.iam_id, WRITE(), res()), false, 'removed: denied at once');
  });

  test('AccessGroupId-PublicAccess: a policy on it reaches every identity of the account', async () => {
    const id = await grant(server, admin, { groupId: PUBLIC_ACCESS_GROUP, roles: ['Reader'], resource: { serviceName: svc, serviceInstance: 'public' } });
    const fresh = await subject();
    assert.equal(await can(fresh.iam_id, READ(), res({ serviceInstance: 'public' })), true, 'implicit member');
    assert.equal(await can(fresh.iam_id, READ(), res({ serviceInstance: 'private' })), false);
    assert.equal(await can(fresh.iam_id, WRITE(), res({ serviceInstance: 'public' })), false);
    await deletePolicy(server, admin, id);
    assert.equal(await can(fresh.iam_id, READ(), res({ serviceInstance: 'public' })), false, 'after the policy is deleted');
  });

  test('hierarchy: absent attributes are wildcards; serviceType=service covers registered services; resourceGroupId', async () => {
    const s1 = await subject();
    await grant(server, admin, { iamId: s1.iam_id, roles: ['Reader'], resource: { serviceName: svc } });
    assert.equal(await can(s1.iam_id, READ(), res({ serviceInstance: 'i9', resourceType: 'thing', resource: 'r9' })), true, 'service-level policy covers everything below');
    const s2 = await subject();
    await grant(server, admin, { iamId: s2.iam_id, roles: ['Reader'], resource: { serviceType: 'service' } });
    assert.equal(await can(s2.iam_id, READ(), res({ serviceInstance: 'i1' })), true, 'serviceType=service: all IAM-enabled services');
    const s3 = await subject();
    await grant(server, admin, { iamId: s3.iam_id, roles: ['Reader'], resource: { resourceGroupId: 'rg-1' } });
    assert.equal(await can(s3.iam_id, READ(), res({ resourceGroupId: 'rg-1', serviceInstance: 'i1' })), true, 'resource group policy');
    assert.equal(await can(s3.iam_id, READ(), res({ resourceGroupId: 'rg-2', serviceInstance: 'i1' })), false, 'another resource group');
    assert.equal(await can(s3.iam_id, READ(), res({ serviceInstance: 'i1' })), false, 'no resource group given');
    const s4 = await subject();
    await grant(server, admin, { iamId: s4.iam_id, roles: ['Reader'], resource: { serviceName: svc, serviceInstance: 'i1', resourceType: 'bucket', resource: 'b1' } });
    assert.equal(await can(s4.iam_id, READ(), res({ serviceInstance: 'i1', resourceType: 'bucket', resource: 'b1' })), true);
    assert.equal(await can(s4.iam_id, READ(), res({ serviceInstance: 'i1' })), false, 'a resource-level policy does not cover the instance');
    assert.equal(await can(s4.iam_id, READ(), res({ serviceInstance: 'i1', resourceType: 'thing', resource: 'b1' })), false, 'other resource type');
  });

  test('platform roles grant the service\'s platform actions, service roles the service actions', async () => {
    const s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Viewer'], resource: { serviceName: svc } });
    assert.equal(await can(s.iam_id, A('instance', 'view'), res()), true);
    assert.equal(await can(s.iam_id, A('instance', 'manage'), res()), false);
    assert.equal(await can(s.iam_id, READ(), res()), false, 'Viewer does not read things');
  });
});

describe('wildcards and any-of', () => {
  test('stringMatch: * (zero or more), ? (exactly one), anchored, {{*}} literal', async () => {
    const s = await subject();
    const pol = (resource) => createV1Policy(server, admin, v1Policy({
      iamId: s.iam_id, roles: ['Reader'],
      resource: [
        { name: 'accountId', value: server.accountId }, { name: 'serviceName', value: svc },
        { name: 'resourceType', value: 'bucket' }, { name: 'resource', value: resource, operator: 'stringMatch' },
      ],
    }));
    await pol('dev-*');
    await pol('log?');
    await pol('lit{{*}}');
    const r = (resource) => res({ serviceInstance: 'i1', resourceType: 'bucket', resource });
    const cases = [
      ['dev-1', true], ['dev-', true], ['dev-a/b/c', true], ['prod-1', false], ['xdev-1', false], ['dev', false],
      ['log1', true], ['logs', true], ['log12', false], ['log', false],
      ['lit*', true], ['litx', false], ['lit', false],
    ];
    const got = permittedList(await authz(server, pdp.auth, cases.map(([v]) => item(s.iam_id, READ(), r(v)))), cases.length);
    assert.deepEqual(Object.fromEntries(cases.map(([v], i) => [v, got[i]])), Object.fromEntries(cases));
  });

  test('v2 stringEqualsAnyOf and stringMatchAnyOf', async () => {
    const s = await subject();
    await createV2Policy(server, admin, v2Policy({
      iamId: s.iam_id, roles: ['Reader'],
      resource: [
        { key: 'accountId', operator: 'stringEquals', value: server.accountId },
        { key: 'serviceName', operator: 'stringEquals', value: svc },
        { key: 'serviceInstance', operator: 'stringEqualsAnyOf', value: ['a1', 'a2'] },
      ],
    }));
    await createV2Policy(server, admin, v2Policy({
      iamId: s.iam_id, roles: ['Writer'],
      resource: [
        { key: 'accountId', operator: 'stringEquals', value: server.accountId },
        { key: 'serviceName', operator: 'stringEquals', value: svc },
        { key: 'serviceInstance', operator: 'stringMatchAnyOf', value: ['x-*', 'y?'] },
      ],
    }));
    const cases = [
      [READ(), 'a1', true], [READ(), 'a2', true], [READ(), 'a3', false], [READ(), 'a1x', false],
      [WRITE(), 'x-1', true], [WRITE(), 'y1', true], [WRITE(), 'y12', false], [WRITE(), 'z', false], [WRITE(), 'a1', false],
    ];
    const got = permittedList(await authz(server, pdp.auth, cases.map(([a, inst]) => item(s.iam_id, a, res({ serviceInstance: inst })))), cases.length);
    assert.deepEqual(got, cases.map((c) => c[2]), JSON.stringify(cases.map((c, i) => [c[0], c[1], got[i]])));
  });
});

describe('time-based conditions (v2 rule)', () => {
  const dt = (op, value) => ({ key: '{{environment.attributes.current_date_time}}', operator: op, value });
  const dow = (days) => ({ key: '{{environment.attributes.day_of_week}}', operator: 'dayOfWeekAnyOf', value: days });

  test('a once-window in the past denies; a window around now permits', async () => {
    const past = await subject();
    await createV2Policy(server, admin, v2Policy({
      iamId: past.iam_id, roles: ['Reader'], resource: res(), pattern: 'time-based-conditions:once',
      rule: { operator: 'and', conditions: [dt('dateTimeGreaterThanOrEquals', '2020-01-01T00:00:00+00:00'), dt('dateTimeLessThanOrEquals', '2020-01-02T00:00:00+00:00')] },
    }));
    assert.equal(await can(past.iam_id, READ(), res()), false, 'expired window');
    const future = await subject();
    await createV2Policy(server, admin, v2Policy({
      iamId: future.iam_id, roles: ['Reader'], resource: res(), pattern: 'time-based-conditions:once',
      rule: { operator: 'and', conditions: [dt('dateTimeGreaterThanOrEquals', '2098-01-01T00:00:00+00:00'), dt('dateTimeLessThanOrEquals', '2099-01-01T00:00:00+00:00')] },
    }));
    assert.equal(await can(future.iam_id, READ(), res()), false, 'window not started');
    const now = await subject();
    await createV2Policy(server, admin, v2Policy({
      iamId: now.iam_id, roles: ['Reader'], resource: res(), pattern: 'time-based-conditions:once',
      rule: { operator: 'and', conditions: [dt('dateTimeGreaterThanOrEquals', '2020-01-01T00:00:00+00:00'), dt('dateTimeLessThanOrEquals', '2099-01-01T00:00:00-05:00')] },
    }));
    assert.equal(await can(now.iam_id, READ(), res()), true, 'window includes now');
  });

  test('weekly: every day permits; every day but today (UTC) denies', async (t) => {
    const utc = new Date();
    const minutesToMidnight = (24 * 60) - (utc.getUTCHours() * 60 + utc.getUTCMinutes());
    if (minutesToMidnight < 2) { t.skip('too close to midnight UTC'); return; }
    const today = ((utc.getUTCDay() + 6) % 7) + 1; // 1 = Monday .. 7 = Sunday
    const all = [1, 2, 3, 4, 5, 6, 7].map((d) => `${d}+00:00`);
    const a = await subject();
    await createV2Policy(server, admin, v2Policy({
      iamId: a.iam_id, roles: ['Reader'], resource: res(), pattern: 'time-based-conditions:weekly:all-day',
      rule: { operator: 'and', conditions: [dow(all)] },
    }));
    assert.equal(await can(a.iam_id, READ(), res()), true, 'every day');
    const b = await subject();
    await createV2Policy(server, admin, v2Policy({
      iamId: b.iam_id, roles: ['Reader'], resource: res(), pattern: 'time-based-conditions:weekly:all-day',
      rule: { operator: 'and', conditions: [dow(all.filter((d) => d !== `${today}+00:00`))] },
    }));
    assert.equal(await can(b.iam_id, READ(), res()), false, `every day but today (${today})`);
  });
});

describe('cross-account', () => {
  test('a subject of account A is denied on account B resources, and B\'s subjects on A\'s; B\'s own policies work in B', async () => {
    const s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Manager'], resource: { serviceName: svc } });
    const b = await createAccount(server, admin);
    const bRes = (extra = {}) => ({ accountId: b.accountId, serviceName: svc, ...extra });
    assert.equal(await can(s.iam_id, READ(), res()), true, 'in its own account');
    assert.equal(await can(s.iam_id, READ(), bRes()), false, 'A subject on B resources');
    const crnB = `crn:v1:bluemix:public:${svc}:us-south:a/${b.accountId}:i1::`;
    const [viaCrn] = permittedList(await authz(server, pdp.auth, [{ subject: subjectById(s.iam_id), action: READ(), resource: { crn: crnB } }]), 1);
    assert.equal(viaCrn, false, 'A subject on a B CRN');
    assert.equal(await can(b.ownerIamId, READ(), res()), false, 'B\'s owner on A resources');

    const bSid = await createServiceId({ url: server.url, accountId: b.accountId }, b.auth);
    const pol = await api(server, 'POST', '/v1/policies', {
      ...b.auth, json: v1Policy({ iamId: bSid.iam_id, roles: ['Reader'], resource: { accountId: b.accountId, serviceName: svc } }),
    });
    assert.equal(pol.status, 201, `B's owner grants in B: ${pol.text}`);
    assert.equal(await can(bSid.iam_id, READ(), bRes()), true, 'B subject on B resources (the PDP client answers for every account)');
    assert.equal(await can(bSid.iam_id, READ(), res()), false, 'B subject on A resources');
  });
});

describe('read-your-writes', () => {
  test('create, replace, delete and restore of a policy each show in the next decision', async () => {
    const s = await subject();
    assert.equal(await can(s.iam_id, READ(), res()), false);
    const p = await createV1Policy(server, admin, v1Policy({ iamId: s.iam_id, roles: ['Reader'], resource: res() }));
    assert.equal(await can(s.iam_id, READ(), res()), true, 'after create');
    assert.equal(await can(s.iam_id, WRITE(), res()), false);
    const cur = await api(server, 'GET', `/v1/policies/${p.id}`, admin);
    const put = await api(server, 'PUT', `/v1/policies/${p.id}`, {
      ...admin, json: v1Policy({ iamId: s.iam_id, roles: ['Writer'], resource: res() }), headers: { 'If-Match': etagOf(cur) },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(await can(s.iam_id, WRITE(), res()), true, 'after replace');
    await deletePolicy(server, admin, p.id);
    assert.equal(await can(s.iam_id, READ(), res()), false, 'after delete');
    const del = await api(server, 'GET', `/v1/policies/${p.id}`, admin);
    const restore = await api(server, 'PATCH', `/v1/policies/${p.id}`, {
      ...admin, json: { state: 'active' }, headers: { 'If-Match': del.status === 200 ? etagOf(del) : etagOf(put) },
    });
    assert.equal(restore.status, 200, restore.text);
    assert.equal(await can(s.iam_id, WRITE(), res()), true, 'after restore');
  });

  test('deleting the subject, or the group that granted, removes the access at once', async () => {
    const s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Reader'], resource: { serviceName: svc } });
    assert.equal(await can(s.iam_id, READ(), res()), true);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${s.id}`, admin)).status, 204);
    assert.equal(await can(s.iam_id, READ(), res()), false, 'a deleted service ID holds nothing');

    const m = await subject();
    const g = await api(server, 'POST', '/v2/groups', { ...admin, query: { account_id: server.accountId }, json: { name: `gone-${Date.now()}` } });
    assert.equal(g.status, 201, g.text);
    await grant(server, admin, { groupId: g.body.id, roles: ['Reader'], resource: { serviceName: svc } });
    assert.equal((await api(server, 'PUT', `/v2/groups/${g.body.id}/members`, { ...admin, json: { members: [{ iam_id: m.iam_id, type: 'service' }] } })).status, 207);
    assert.equal(await can(m.iam_id, READ(), res()), true);
    assert.equal((await api(server, 'DELETE', `/v2/groups/${g.body.id}`, { ...admin, query: { force: true } })).status, 204);
    assert.equal(await can(m.iam_id, READ(), res()), false, 'the group and its policies are gone');
  });

  test('a change to the service\'s role map shows in the next decision', async () => {
    const s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Reader'], resource: { serviceName: svc, serviceInstance: 'remap' } });
    assert.equal(await can(s.iam_id, WRITE(), res({ serviceInstance: 'remap' })), false);
    await registerService(server, admin, { ...def, roles: { ...def.roles, Reader: [READ(), WRITE()] } });
    try {
      assert.equal(await can(s.iam_id, WRITE(), res({ serviceInstance: 'remap' })), true, 'Reader now includes write');
    } finally {
      await registerService(server, admin, def);
    }
    assert.equal(await can(s.iam_id, WRITE(), res({ serviceInstance: 'remap' })), false, 'map restored');
  });
});

describe('PUT /v2/authz/bulk', () => {
  test('one subject and action over many resources: decisions in uniqueAttributes order', async () => {
    const s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Reader'], resource: { serviceName: svc, serviceInstance: 'b1' } });
    await grant(server, admin, { iamId: s.iam_id, roles: ['Reader'], resource: { serviceName: svc, serviceInstance: 'b3' } });
    const r = await api(server, 'PUT', '/v2/authz/bulk', {
      ...pdp.auth,
      json: {
        subject: subjectById(s.iam_id), action: READ(),
        resources: { sharedAttributes: { serviceName: svc, accountId: server.accountId }, uniqueAttributes: [{ serviceInstance: 'b1' }, { serviceInstance: 'b2' }, { serviceInstance: 'b3' }] },
        environment: { attributes: {} },
      },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.decisions.map((d) => d.decision), ['Permit', 'Deny', 'Permit']);
    const o = r.body.decisions[0].obligation;
    assert.ok(o && Array.isArray(o.actions) && o.actions.includes(READ()), `obligation on a Permit: ${JSON.stringify(r.body.decisions[0])}`);
    assert.ok(Number.isInteger(o.maxCacheAgeSeconds) && o.maxCacheAgeSeconds > 0);
  });

  test('bulk about a service the caller is not a client of -> 403, no decisions', async () => {
    const s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Reader'], resource: { serviceName: otherSvc } });
    const r = await api(server, 'PUT', '/v2/authz/bulk', {
      ...pdp.auth,
      json: { subject: subjectById(s.iam_id), action: `${otherSvc}.thing.read`, resources: { sharedAttributes: { serviceName: otherSvc, accountId: server.accountId }, uniqueAttributes: [{ serviceInstance: 'x' }] } },
    });
    assert.equal(r.status, 403, r.text);
    assert.ok(!r.text.includes('Permit'));
  });
});

describe('POST /v2/authz/roles', () => {
  test('service roles in roleActions, platform roles in platformExtensions, each with its actions', async () => {
    const s = await subject();
    await grant(server, admin, { iamId: s.iam_id, roles: ['Reader', 'Viewer'], resource: { serviceName: svc, serviceInstance: 'r1' } });
    const none = await subject();
    const r = await api(server, 'POST', '/v2/authz/roles', {
      ...pdp.auth,
      json: [
        { subject: subjectById(s.iam_id), resource: { attributes: res({ serviceInstance: 'r1' }) } },
        { subject: subjectById(none.iam_id), resource: { attributes: res({ serviceInstance: 'r1' }) } },
      ],
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.responses.length, 2);
    const [one, two] = r.body.responses;
    assert.equal(one.status, '200');
    assert.equal(one.attributes?.serviceName, svc);
    assert.ok(one.subjectId && typeof one.subjectId === 'object', 'subjectId');
    const reader = one.roleActions.find((x) => x.role?.crn === ROLE.Reader);
    assert.ok(reader, `Reader in roleActions: ${JSON.stringify(one.roleActions)}`);
    assert.equal(reader.role.displayName, 'Reader');
    assert.equal(typeof reader.role.description, 'string');
    assert.deepEqual(reader.actions.map((a) => a.action), [READ()]);
    assert.ok(!one.roleActions.some((x) => x.role?.crn === ROLE.Viewer), 'platform roles are not in roleActions');
    const viewer = one.platformExtensions?.roleActions?.find((x) => x.role?.crn === ROLE.Viewer);
    assert.ok(viewer, `Viewer in platformExtensions.roleActions: ${JSON.stringify(one.platformExtensions)}`);
    // The service's own Viewer actions, plus IAM's iam.policy.read / iam.role.read that every
    // service's platform roles carry (reference 3.7).
    assert.deepEqual(viewer.actions.map((a) => a.action).filter((a) => a.startsWith(`${svc}.`)), [A('instance', 'view')]);
    assert.ok(viewer.actions.every((a) => a.action.startsWith(`${svc}.`) || a.action.startsWith('iam.')), JSON.stringify(viewer.actions));
    assert.equal(two.status, '200');
    assert.deepEqual(two.roleActions, []);
    assert.deepEqual(two.platformExtensions?.roleActions ?? [], []);
  });

  test('roles about another service -> that item 403', async () => {
    const s = await subject();
    const r = await api(server, 'POST', '/v2/authz/roles', {
      ...pdp.auth, json: [{ subject: subjectById(s.iam_id), resource: { attributes: { accountId: server.accountId, serviceName: otherSvc } } }],
    });
    if (r.status === 200) {
      assert.equal(r.body.responses[0].status, '403', JSON.stringify(r.body));
      assert.equal(r.body.responses[0].roleActions, undefined);
    } else {
      assert.equal(r.status, 403, r.text);
    }
  });
});
