// iamctl: policies of service IDs, users and access groups; roles; access
// groups and their members; users (users, user-invite, user-remove).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { cliFor, expectOneLineError, expectStatus, loginHome, parsePairs, parseTable, request } from './lib/cli.mjs';
import { uniqueName } from '../api/lib/http.mjs';
import { startServer, stopAndCheck } from '../api/lib/server.mjs';

const VIEWER = 'crn:v1:bluemix:public:iam::::role:Viewer';
const OPERATOR = 'crn:v1:bluemix:public:iam::::role:Operator';

let server;
let cli;
before(async () => {
  server = await startServer();
  cli = cliFor(loginHome(server, server.apikey));
});
after(async () => { await stopAndCheck(server); });

const attributes = (policy) => Object.fromEntries(policy.resources[0].attributes.map((a) => [a.name, a.value]));

describe('service policies and roles', () => {
  let sid;
  before(() => {
    sid = uniqueName('pol');
    expectStatus(cli(['service-id-create', sid]), 0);
  });

  test('roles: table and json; an unknown service has none', () => {
    const res = cli(['roles', '--service-name', 'iam-identity']);
    expectStatus(res, 0);
    const table = parseTable(res.stdout);
    assert.deepEqual(table.headers, ['NAME', 'ROLE', 'TYPE', 'CRN', 'DESCRIPTION']);
    assert.ok(table.rows.some((r) => r[0] === 'Viewer' && r[2] === 'platform' && r[3] === VIEWER));
    assert.ok(table.rows.some((r) => r[1] === 'ServiceIdCreator' && r[2] === 'service'));
    const all = cli(['roles', '--output', 'json']).json();
    assert.ok(all.service_roles.some((r) => r.display_name === 'Reader'));
    expectOneLineError(cli(['roles', '--service', 'no-such-service']), 1, /no roles for service 'no-such-service'/);
  });

  test('create from flags (names and CRNs), list, get, update, delete', () => {
    const created = cli(['service-policy-create', sid, '--roles', 'Viewer, operator', '--service-name', 'iam-identity',
      '-d', 'ops access', '--output', 'json']);
    expectStatus(created, 0);
    const policy = created.json();
    assert.deepEqual(policy.roles.map((r) => r.role_id).sort(), [OPERATOR, VIEWER].sort());
    assert.deepEqual(policy.subjects[0].attributes[0].name, 'iam_id');
    assert.match(policy.subjects[0].attributes[0].value, /^iam-ServiceId-/);
    assert.deepEqual(attributes(policy), { accountId: server.accountId, serviceName: 'iam-identity' });
    assert.equal(policy.description, 'ops access');

    const narrow = cli(['service-policy-create', sid, '--roles', VIEWER, '--service-name', 'iam-identity',
      '--resource-type', 'serviceid', '--resource', 'ServiceId-00000000-0000-4000-8000-000000000000']);
    expectStatus(narrow, 0);
    const narrowId = parsePairs(narrow.stdout)['Policy ID'];
    assert.match(parsePairs(narrow.stdout).Resources, /resourceType=serviceid, resource=ServiceId-/);

    const list = cli(['service-policies', sid]);
    expectStatus(list, 0);
    const table = parseTable(list.stdout);
    assert.deepEqual(table.headers, ['POLICY ID', 'ROLES', 'RESOURCES', 'DESCRIPTION']);
    const row = table.rows.find((r) => r[0] === policy.id);
    assert.equal(row[1], 'Viewer, Operator');
    assert.equal(row[2], 'serviceName=iam-identity');
    assert.equal(cli(['service-policies', sid, '--output', 'json']).json().length, 2);

    const got = cli(['service-policy', sid, policy.id]);
    expectStatus(got, 0);
    assert.equal(parsePairs(got.stdout).Roles, 'Viewer, Operator');
    assert.match(parsePairs(got.stdout).Version, /^\d+-[0-9a-f]{32}$/);

    const upd = cli(['service-policy-update', sid, policy.id, '--roles', 'Administrator', '--output', 'json']);
    expectStatus(upd, 0);
    assert.deepEqual(upd.json().roles.map((r) => r.role_id), ['crn:v1:bluemix:public:iam::::role:Administrator']);
    assert.deepEqual(attributes(upd.json()), attributes(policy), 'the resource is kept');
    assert.equal(upd.json().description, 'ops access', 'the description is kept');
    const moved = cli(['service-policy-update', sid, policy.id, '--service-name', 'iam-groups', '--output', 'json']);
    expectStatus(moved, 0);
    assert.equal(attributes(moved.json()).serviceName, 'iam-groups');
    expectOneLineError(cli(['service-policy-update', sid, policy.id]), 2, /nothing to change/);

    expectStatus(cli(['service-policy-delete', sid, narrowId, '-f']), 0);
    const after = cli(['service-policies', sid, '--output', 'json']).json();
    assert.deepEqual(after.map((p) => p.id), [policy.id]);
  });

  test('bad input: unknown role or service, no roles, conflicts, a policy of someone else', () => {
    const unknown = cli(['service-policy-create', sid, '--roles', 'Superuser', '--service-name', 'iam-identity']);
    expectOneLineError(unknown, 1, /unknown role 'Superuser' for iam-identity \(roles there: Viewer, Operator/);
    expectOneLineError(cli(['service-policy-create', sid, '--roles', 'Viewer', '--service-name', 'no-such-svc']), 1,
      /service 'no-such-svc' has no roles/);
    expectOneLineError(cli(['service-policy-create', sid, '--service-name', 'iam-identity']), 2, /give --roles/);
    expectOneLineError(cli(['service-policy-create', sid, '--roles', 'Viewer,', '--service-name', 'iam-identity']), 2,
      /empty role name/);
    expectOneLineError(cli(['service-policy-create', sid, '--roles', 'Viewer', '--service-name', 'iam-identity',
      '--account-management']), 2, /exclude each other/);
    expectOneLineError(cli(['service-policy-create', 'no-such-sid', '--roles', 'Viewer']), 1, /no service ID named/);
    expectStatus(cli(['service-policy-create', sid, '--roles', 'Operator', '--service-name', 'iam-access-management']), 0);
    expectOneLineError(cli(['service-policy-create', sid, '--roles', 'Viewer', '--service-name', 'iam-access-management']),
      1, /policy_conflict_error/);
    const other = uniqueName('other');
    expectStatus(cli(['service-id-create', other]), 0);
    const theirs = cli(['service-policy-create', other, '--roles', 'Viewer', '-q']).stdout.trim();
    expectOneLineError(cli(['service-policy', sid, theirs]), 1, /is not a policy of/);
    expectOneLineError(cli(['service-policy-delete', sid, theirs, '-f']), 1, /is not a policy of/);
    expectOneLineError(cli(['service-policy', sid, '00000000-0000-4000-8000-000000000000']), 1, /policy_not_found|not_found/);
  });

  test('--file: a whole IBM v1 policy; the subject is filled in', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iamctl-policy-'));
    const file = path.join(dir, 'policy.json');
    fs.writeFileSync(file, JSON.stringify({
      type: 'access',
      roles: [{ role_id: VIEWER }],
      resources: [{ attributes: [{ name: 'accountId', value: server.accountId }, { name: 'serviceName', value: 'user-management' }] }],
    }));
    const res = cli(['service-policy-create', sid, '-f', file, '--output', 'json']);
    expectStatus(res, 0);
    assert.equal(attributes(res.json()).serviceName, 'user-management');
    expectOneLineError(cli(['service-policy-create', sid, '-f', file, '--roles', 'Viewer']), 2, /--file excludes/);
    fs.writeFileSync(file, '{"type": "access",');
    expectOneLineError(cli(['service-policy-create', sid, '-f', file]), 1, /is not a JSON policy/);
  });
});

describe('users and access groups', () => {
  const email = `${uniqueName('dana')}@example.com`;
  let groupName;

  test('user-invite, users, user policies', () => {
    groupName = uniqueName('devs');
    expectStatus(cli(['access-group-create', groupName, '-d', 'Developers']), 0);
    expectOneLineError(cli(['user-invite', 'not-an-email', '--given-name', 'A', '--family-name', 'B']), 2, /not an e-mail/);
    expectOneLineError(cli(['user-invite', email]), 2, /--given-name and --family-name/);
    const invited = cli(['user-invite', email, '--given-name', 'Dana', '--family-name', 'Scully', '--access-groups', groupName]);
    expectStatus(invited, 0);
    const shown = parsePairs(invited.stdout);
    assert.match(shown['IAM ID'], /^IBMid-[0-9A-Z]{10}$/);
    assert.equal(shown.Login, email.toLowerCase());
    assert.match(invited.stdout, new RegExp(`Added IBMid-\\S+ to access group ${groupName}`));
    expectOneLineError(cli(['user-invite', email, '--given-name', 'D', '--family-name', 'S']), 1, /BXNIM0520E/);

    const users = cli(['users']);
    expectStatus(users, 0);
    const table = parseTable(users.stdout);
    assert.deepEqual(table.headers, ['LOGIN', 'EMAIL', 'NAME', 'IAM ID', 'STATE']);
    assert.ok(table.rows.some((r) => r[1] === email && r[2] === 'Dana Scully' && r[4] === 'ACTIVE'));
    assert.ok(cli(['users', '--output', 'json']).json().some((u) => u.iam_id === server.iamId));

    const created = cli(['user-policy-create', email, '--roles', 'Viewer', '--service-name', 'iam-groups', '--output', 'json']);
    expectStatus(created, 0);
    const policyId = created.json().id;
    assert.equal(created.json().subjects[0].attributes[0].value, shown['IAM ID']);
    assert.equal(parseTable(cli(['user-policies', email]).stdout).rows[0][0], policyId);
    expectStatus(cli(['user-policy', shown['IAM ID'], policyId]), 0);
    expectStatus(cli(['user-policy-update', email, policyId, '--roles', 'Editor']), 0);
    assert.match(cli(['user-policy', email, policyId]).stdout, /^Roles +Editor$/m);
    expectStatus(cli(['user-policy-delete', email, policyId, '-f']), 0);
    expectOneLineError(cli(['user-policies', 'nobody@example.com']), 1, /no user 'nobody@example.com'/);
  });

  test('access groups: list, get, update, members, policies, delete', async () => {
    const list = cli(['access-groups']);
    expectStatus(list, 0);
    const table = parseTable(list.stdout);
    assert.deepEqual(table.headers, ['NAME', 'ID', 'DESCRIPTION']);
    assert.ok(table.rows.some((r) => r[0] === 'Public Access'));
    const group = table.rows.find((r) => r[0] === groupName);
    assert.ok(group, list.stdout);
    const groupId = group[1];
    assert.equal(cli(['access-group', groupName.toUpperCase(), '--output', 'json']).json().id, groupId);
    expectOneLineError(cli(['access-group', 'no-such-group']), 1, /no access group named/);
    expectOneLineError(cli(['access-group-create', groupName]), 1, /\(conflict\)/);

    const renamed = uniqueName('team');
    expectStatus(cli(['access-group-update', groupId, '-n', renamed, '-d', 'The team']), 0);
    assert.equal(cli(['access-group', renamed, '--output', 'json']).json().description, 'The team');

    // Members: the user invited above, and two service IDs.
    const users = cli(['access-group-users', renamed]);
    expectStatus(users, 0);
    assert.deepEqual(parseTable(users.stdout).headers, ['NAME', 'EMAIL', 'IAM ID', 'ADDED AT']);
    assert.ok(parseTable(users.stdout).rows.some((r) => r[1] === email));
    const s1 = uniqueName('m1');
    const s2 = uniqueName('m2');
    expectStatus(cli(['service-id-create', s1]), 0);
    expectStatus(cli(['service-id-create', s2]), 0);
    const added = cli(['access-group-service-id-add', renamed, s1, s2]);
    expectStatus(added, 0);
    assert.equal(added.stdout.match(/^Added /gm).length, 2);
    const again = cli(['access-group-service-id-add', renamed, s1]);
    expectOneLineError(again, 1, /was not added: .*\(conflict\)/);
    const sids = cli(['access-group-service-ids', renamed, '--output', 'json']).json();
    assert.deepEqual(sids.map((m) => m.name).sort(), [s1, s2].sort());
    expectStatus(cli(['access-group-service-id-remove', renamed, s2]), 0);
    assert.equal(cli(['access-group-service-ids', renamed, '--output', 'json']).json().length, 1);
    expectStatus(cli(['access-group-user-remove', renamed, email]), 0);
    expectOneLineError(cli(['access-group-user-remove', renamed, email]), 1, /not_found/);
    expectStatus(cli(['access-group-user-add', renamed, email]), 0);

    // Group policies.
    const policy = cli(['access-group-policy-create', renamed, '--roles', 'Viewer', '--service-name', 'iam-identity', '-q']);
    expectStatus(policy, 0);
    const policyId = policy.stdout.trim();
    assert.equal(cli(['access-group-policies', renamed, '--output', 'json']).json()[0].subjects[0].attributes[0].value, groupId);
    expectStatus(cli(['access-group-policy', renamed, policyId]), 0);
    expectStatus(cli(['access-group-policy-update', renamed, policyId, '--roles', 'Operator']), 0);
    // The member service ID now may read service IDs through the group.
    const decision = cli(['authz', s1, 'iam-identity.serviceid.get', 'iam-identity']);
    expectStatus(decision, 0);
    expectStatus(cli(['access-group-policy-delete', renamed, policyId, '-f']), 0);

    // Delete: members need -r (force); user-remove.
    expectOneLineError(cli(['access-group-delete', renamed, '-f']), 1, /conflict/);
    expectStatus(cli(['access-group-delete', renamed, '-f', '-r']), 0);
    const check = await request(server, 'GET', `/v2/groups/${groupId}`, { apikey: server.apikey });
    assert.equal(check.status, 404);
    expectStatus(cli(['user-remove', email, '-f']), 0);
    expectOneLineError(cli(['user-remove', email, '-f']), 1, /no user/);
  });
});
