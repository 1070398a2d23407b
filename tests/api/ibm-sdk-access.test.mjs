// IBM's own Node SDK, unchanged, against iamd for the access side:
// IamPolicyManagementV1 (v1 and v2 policies, custom roles) and
// IamAccessGroupsV2 (groups and members), with IamAuthenticator, pagers and
// configuration from the environment.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import { createServiceId, getToken } from './lib/http.mjs';
import { ROLE } from './lib/access.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

const require = createRequire(import.meta.url);
const IamPolicyManagementV1 = require('@ibm-cloud/platform-services/iam-policy-management/v1');
const IamAccessGroupsV2 = require('@ibm-cloud/platform-services/iam-access-groups/v2');
const { IamAuthenticator } = require('ibm-cloud-sdk-core');

let server;
let admin;
let accountId;
let policies;
let groups;
let subjectSid;

before(async () => {
  server = await startServer();
  accountId = server.accountId;
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
  const options = () => ({ authenticator: new IamAuthenticator({ apikey: server.apikey, url: server.url }), serviceUrl: server.url });
  policies = new IamPolicyManagementV1(options());
  groups = new IamAccessGroupsV2(options());
  subjectSid = await createServiceId(server, admin, { name: 'sdk-policy-subject' });
});

after(async () => {
  await stopAndCheck(server);
});

/** Runs an SDK call that must fail; returns the error (status, message, body). */
async function sdkError(promise) {
  try {
    const res = await promise;
    assert.fail(`expected the SDK call to fail, got HTTP ${res.status}: ${JSON.stringify(res.result).slice(0, 300)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

const v1Subjects = () => [{ attributes: [{ name: 'iam_id', value: subjectSid.iam_id }] }];
const v1Resources = () => [{
  attributes: [
    { name: 'accountId', value: accountId, operator: 'stringEquals' },
    { name: 'serviceType', value: 'service', operator: 'stringEquals' },
  ],
}];

describe('IamPolicyManagementV1: v1 policies (IBM IT flow)', () => {
  let policyId;
  let etag;

  test('createPolicy -> 201 with an ETag', async () => {
    const res = await policies.createPolicy({
      type: 'access', subjects: v1Subjects(), roles: [{ role_id: ROLE.Viewer }], resources: v1Resources(), description: 'SDK test policy',
    });
    assert.equal(res.status, 201);
    policyId = res.result.id;
    assert.ok(policyId);
    assert.ok(res.headers.etag, 'ETag header');
    assert.equal(res.result.roles[0].role_id, ROLE.Viewer);
    assert.equal(res.result.roles[0].display_name, 'Viewer');
    assert.equal(res.result.state, 'active');
  });

  test('getPolicy -> 200 with the ETag', async () => {
    const res = await policies.getPolicy({ policyId });
    assert.equal(res.status, 200);
    assert.equal(res.result.id, policyId);
    assert.equal(res.result.description, 'SDK test policy');
    etag = res.headers.etag;
    assert.ok(etag);
  });

  test('replacePolicy with ifMatch -> 200, new roles and ETag', async () => {
    const res = await policies.replacePolicy({
      policyId, ifMatch: etag, type: 'access', subjects: v1Subjects(), roles: [{ role_id: ROLE.Editor }], resources: v1Resources(), description: 'replaced',
    });
    assert.equal(res.status, 200);
    assert.equal(res.result.roles[0].role_id, ROLE.Editor);
    assert.ok(res.headers.etag);
    assert.notEqual(res.headers.etag, etag);
    etag = res.headers.etag;
  });

  test('replacePolicy with the stale ETag rejects (409)', async () => {
    const err = await sdkError(policies.replacePolicy({
      policyId, ifMatch: '1-00000000000000000000000000000000', type: 'access', subjects: v1Subjects(), roles: [{ role_id: ROLE.Operator }], resources: v1Resources(),
    }));
    assert.equal(err.status, 409, err.message);
    assert.ok(err.message && err.message.length > 0, 'the SDK read errors[0].message');
  });

  test('listPolicies(accountId, iamId, format=include_last_permit) finds it', async () => {
    const res = await policies.listPolicies({ accountId, iamId: subjectSid.iam_id, format: 'include_last_permit' });
    assert.equal(res.status, 200);
    assert.ok(res.result.policies.some((p) => p.id === policyId));
  });

  test('PoliciesPager with limit 1 walks next.start', async () => {
    await policies.createPolicy({
      type: 'access', subjects: v1Subjects(), roles: [{ role_id: ROLE.Viewer }],
      resources: [{ attributes: [{ name: 'accountId', value: accountId }, { name: 'serviceName', value: 'iam-groups' }] }],
    });
    const pager = new IamPolicyManagementV1.PoliciesPager(policies, { accountId, iamId: subjectSid.iam_id, limit: 1 });
    const all = await pager.getAll();
    assert.equal(all.length, 2);
    assert.equal(new Set(all.map((p) => p.id)).size, 2);
  });

  test('deletePolicy -> 204; updatePolicyState {state:active} with ifMatch restores it', async () => {
    const del = await policies.deletePolicy({ policyId });
    assert.equal(del.status, 204);
    const list = await policies.listPolicies({ accountId, iamId: subjectSid.iam_id });
    assert.ok(!list.result.policies.some((p) => p.id === policyId), 'not listed while deleted');
    let ifMatch = etag;
    try { ifMatch = (await policies.getPolicy({ policyId })).headers.etag ?? etag; } catch { /* GET of a deleted policy may be 404 */ }
    const res = await policies.updatePolicyState({ policyId, ifMatch, state: 'active' });
    assert.equal(res.status, 200);
    assert.equal(res.result.state, 'active');
    assert.equal((await policies.deletePolicy({ policyId })).status, 204);
  });

  test('getPolicy of an unknown id rejects with 404 and IBM\'s message', async () => {
    const err = await sdkError(policies.getPolicy({ policyId: '00000000-0000-4000-8000-000000000000' }));
    assert.equal(err.status, 404);
    assert.ok(err.message && err.message.length > 0);
    assert.equal(err.result?.errors?.[0]?.code, 'policy_not_found', `error body: ${JSON.stringify(err.result)}`);
  });
});

describe('IamPolicyManagementV1: v2 policies', () => {
  let id;
  const subject = () => ({ attributes: [{ key: 'iam_id', operator: 'stringEquals', value: subjectSid.iam_id }] });
  const resource = () => ({ attributes: [
    { key: 'accountId', operator: 'stringEquals', value: accountId },
    { key: 'serviceName', operator: 'stringEquals', value: 'iam-identity' },
  ] });
  const rule = {
    operator: 'and',
    conditions: [
      { key: '{{environment.attributes.current_date_time}}', operator: 'dateTimeGreaterThanOrEquals', value: '2022-12-23T00:00:00+00:00' },
      { key: '{{environment.attributes.current_date_time}}', operator: 'dateTimeLessThanOrEquals', value: '2098-12-23T23:59:59+00:00' },
    ],
  };

  test('createV2Policy with a time-based rule -> 201', async () => {
    const res = await policies.createV2Policy({
      type: 'access', control: { grant: { roles: [{ role_id: ROLE.Viewer }] } }, subject: subject(), resource: resource(),
      rule, pattern: 'time-based-conditions:once', description: 'SDK v2',
    });
    assert.equal(res.status, 201);
    id = res.result.id;
    assert.ok(id);
    assert.deepEqual(res.result.rule, rule);
    assert.equal(res.result.pattern, 'time-based-conditions:once');
  });

  test('getV2Policy -> 200', async () => {
    const res = await policies.getV2Policy({ id });
    assert.equal(res.status, 200);
    assert.equal(res.result.id, id);
    assert.deepEqual(res.result.control, { grant: { roles: [{ role_id: ROLE.Viewer }] } });
    assert.ok(res.headers.etag);
  });

  test('listV2Policies and V2PoliciesPager find it', async () => {
    const res = await policies.listV2Policies({ accountId, iamId: subjectSid.iam_id });
    assert.equal(res.status, 200);
    assert.ok(res.result.policies.some((p) => p.id === id));
    const all = await new IamPolicyManagementV1.V2PoliciesPager(policies, { accountId, iamId: subjectSid.iam_id, limit: 1 }).getAll();
    assert.ok(all.some((p) => p.id === id));
    assert.equal(new Set(all.map((p) => p.id)).size, all.length);
  });

  test('replaceV2Policy with ifMatch, then deleteV2Policy', async () => {
    const ifMatch = (await policies.getV2Policy({ id })).headers.etag;
    const res = await policies.replaceV2Policy({
      id, ifMatch, type: 'access', control: { grant: { roles: [{ role_id: ROLE.Operator }] } }, subject: subject(), resource: resource(),
    });
    assert.equal(res.status, 200);
    assert.equal(res.result.control.grant.roles[0].role_id, ROLE.Operator);
    assert.equal((await policies.deleteV2Policy({ id })).status, 204);
  });
});

describe('IamPolicyManagementV1: custom roles', () => {
  let roleId;
  const name = `SdkRole${Date.now()}`;

  test('createRole -> 201', async () => {
    const res = await policies.createRole({
      displayName: 'SDK role', actions: ['iam-identity.serviceid.get'], name, accountId, serviceName: 'iam-identity', description: 'from the SDK',
    });
    assert.equal(res.status, 201);
    roleId = res.result.id;
    assert.ok(roleId);
    assert.equal(res.result.name, name);
    assert.ok(res.result.crn.endsWith(`::customRole:${name}`));
  });

  test('getRole -> 200 with an ETag; replaceRole with ifMatch -> 200', async () => {
    const got = await policies.getRole({ roleId });
    assert.equal(got.status, 200);
    assert.ok(got.headers.etag);
    const res = await policies.replaceRole({ roleId, ifMatch: got.headers.etag, displayName: 'SDK role v2', actions: ['iam-identity.serviceid.get', 'iam-identity.apikey.get'] });
    assert.equal(res.status, 200);
    assert.equal(res.result.display_name, 'SDK role v2');
    assert.deepEqual([...res.result.actions].sort(), ['iam-identity.apikey.get', 'iam-identity.serviceid.get']);
  });

  test('listRoles(accountId, serviceName) lists it; alliamserviceroles answers', async () => {
    const res = await policies.listRoles({ accountId, serviceName: 'iam-identity' });
    assert.equal(res.status, 200);
    assert.ok(res.result.custom_roles.some((r) => r.id === roleId));
    assert.ok(res.result.system_roles.some((r) => r.crn === ROLE.Administrator));
    const all = await policies.listRoles({ accountId, serviceName: 'alliamserviceroles' });
    assert.equal(all.status, 200);
    assert.deepEqual(all.result.service_roles.map((r) => r.crn).sort(), [ROLE.Manager, ROLE.Reader, ROLE.Writer].sort());
  });

  test('a duplicate action set rejects with 409 role_conflict_error', async () => {
    const err = await sdkError(policies.createRole({
      displayName: 'dup', actions: ['iam-identity.apikey.get', 'iam-identity.serviceid.get'], name: `${name}Dup`, accountId, serviceName: 'iam-identity',
    }));
    assert.equal(err.status, 409);
    assert.ok(err.message.length > 0);
  });

  test('deleteRole -> 204; getRole then rejects with 404', async () => {
    assert.equal((await policies.deleteRole({ roleId })).status, 204);
    const err = await sdkError(policies.getRole({ roleId }));
    assert.equal(err.status, 404);
  });
});

describe('IamAccessGroupsV2: groups and members', () => {
  let groupId;
  let etag;
  const name = `SDK-Group-${Date.now()}`;

  test('createAccessGroup -> 201', async () => {
    const res = await groups.createAccessGroup({ accountId, name, description: 'SDK group' });
    assert.equal(res.status, 201);
    groupId = res.result.id;
    assert.match(groupId, /^AccessGroupId-/);
    assert.equal(res.result.name, name);
  });

  test('getAccessGroup -> 200 with an ETag', async () => {
    const res = await groups.getAccessGroup({ accessGroupId: groupId });
    assert.equal(res.status, 200);
    assert.equal(res.result.id, groupId);
    etag = res.headers.etag;
    assert.ok(etag);
  });

  test('updateAccessGroup with ifMatch -> 200', async () => {
    const res = await groups.updateAccessGroup({ accessGroupId: groupId, ifMatch: etag, name: `${name}-renamed`, description: 'updated' });
    assert.equal(res.status, 200);
    assert.equal(res.result.name, `${name}-renamed`);
    assert.equal(res.result.description, 'updated');
  });

  test('addMembersToAccessGroup -> 207 with a status per member', async () => {
    const res = await groups.addMembersToAccessGroup({ accessGroupId: groupId, members: [{ iam_id: subjectSid.iam_id, type: 'service' }] });
    assert.equal(res.status, 207);
    assert.equal(res.result.members.length, 1);
    assert.equal(res.result.members[0].iam_id, subjectSid.iam_id);
    assert.ok([200, 201].includes(Number(res.result.members[0].status_code)));
  });

  test('isMemberOfAccessGroup -> 204', async () => {
    const res = await groups.isMemberOfAccessGroup({ accessGroupId: groupId, iamId: subjectSid.iam_id });
    assert.equal(res.status, 204);
  });

  test('listAccessGroupMembers -> 200 with the member; AccessGroupMembersPager agrees', async () => {
    const res = await groups.listAccessGroupMembers({ accessGroupId: groupId, verbose: true });
    assert.equal(res.status, 200);
    assert.deepEqual(res.result.members.map((m) => m.iam_id), [subjectSid.iam_id]);
    assert.equal(res.result.members[0].type, 'service');
    const all = await new IamAccessGroupsV2.AccessGroupMembersPager(groups, { accessGroupId: groupId, limit: 1 }).getAll();
    assert.deepEqual(all.map((m) => m.iam_id), [subjectSid.iam_id]);
  });

  test('AccessGroupsPager with limit 1 walks next.href offsets', async () => {
    const second = await groups.createAccessGroup({ accountId, name: `${name}-second` });
    assert.equal(second.status, 201);
    const all = await new IamAccessGroupsV2.AccessGroupsPager(groups, { accountId, limit: 1 }).getAll();
    const ids = all.map((g) => g.id);
    assert.ok(ids.includes(groupId) && ids.includes(second.result.id), `pager found both: ${ids}`);
    assert.equal(new Set(ids).size, ids.length, 'no group twice');
    assert.equal((await groups.deleteAccessGroup({ accessGroupId: second.result.id })).status, 204);
  });

  test('removeMemberFromAccessGroup -> 204; isMemberOfAccessGroup then rejects with 404', async () => {
    const res = await groups.removeMemberFromAccessGroup({ accessGroupId: groupId, iamId: subjectSid.iam_id });
    assert.equal(res.status, 204);
    const err = await sdkError(groups.isMemberOfAccessGroup({ accessGroupId: groupId, iamId: subjectSid.iam_id }));
    assert.equal(err.status, 404);
  });

  test('a group policy created through the SDK, then deleteAccessGroup(force) -> 204', async () => {
    await groups.addMembersToAccessGroup({ accessGroupId: groupId, members: [{ iam_id: subjectSid.iam_id, type: 'service' }] });
    const p = await policies.createPolicy({
      type: 'access', subjects: [{ attributes: [{ name: 'access_group_id', value: groupId }] }], roles: [{ role_id: ROLE.Viewer }],
      resources: [{ attributes: [{ name: 'accountId', value: accountId }, { name: 'serviceName', value: 'iam-identity' }] }],
    });
    assert.equal(p.status, 201);
    const listed = await policies.listPolicies({ accountId, accessGroupId: groupId });
    assert.deepEqual(listed.result.policies.map((x) => x.id), [p.result.id]);
    const res = await groups.deleteAccessGroup({ accessGroupId: groupId, force: true });
    assert.equal(res.status, 204);
    const err = await sdkError(groups.getAccessGroup({ accessGroupId: groupId }));
    assert.equal(err.status, 404);
    const after = await policies.listPolicies({ accountId, accessGroupId: groupId });
    assert.deepEqual(after.result.policies, [], 'the group\'s policies went with it');
  });
});

describe('configuration from the environment', () => {
  const names = ['IAM_POLICY_MANAGEMENT_URL', 'IAM_POLICY_MANAGEMENT_AUTH_TYPE', 'IAM_POLICY_MANAGEMENT_APIKEY', 'IAM_POLICY_MANAGEMENT_AUTH_URL',
    'IAM_ACCESS_GROUPS_URL', 'IAM_ACCESS_GROUPS_AUTH_TYPE', 'IAM_ACCESS_GROUPS_APIKEY', 'IAM_ACCESS_GROUPS_AUTH_URL'];
  const saved = {};
  before(() => { for (const k of names) saved[k] = process.env[k]; });
  after(() => {
    for (const k of names) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  test('newInstance() with *_URL, *_AUTH_TYPE=iam, *_APIKEY, *_AUTH_URL talks to iamd', async () => {
    for (const prefix of ['IAM_POLICY_MANAGEMENT', 'IAM_ACCESS_GROUPS']) {
      process.env[`${prefix}_URL`] = server.url;
      process.env[`${prefix}_AUTH_TYPE`] = 'iam';
      process.env[`${prefix}_APIKEY`] = server.apikey;
      process.env[`${prefix}_AUTH_URL`] = server.url;
    }
    const pm = IamPolicyManagementV1.newInstance({});
    const roles = await pm.listRoles({ accountId, serviceName: 'alliamserviceroles' });
    assert.equal(roles.status, 200);
    const ag = IamAccessGroupsV2.newInstance({});
    const list = await ag.listAccessGroups({ accountId });
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.result.groups));
  });
});
