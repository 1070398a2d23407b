// Access groups v2 per reference section 4 (rules left out): groups,
// members (207 multi-status), membership HEAD, _allgroups, delete with force.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { api, createServiceId, getToken, randomAccountId } from './lib/http.mjs';
import {
  GROUP_ID_RE, MS_TIME_RE, assertAccessError, assertDenied, createAccount, createUser, createV1Policy, etagOf,
  listPolicyIds, sidWithToken, v1Policy,
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

const groupName = (p = 'grp') => `${p}-${crypto.randomBytes(4).toString('hex')}`;
const postGroup = (json, auth = admin, accountId = server.accountId) =>
  api(server, 'POST', '/v2/groups', { ...auth, query: { account_id: accountId }, json });
const getGroup = (id, auth = admin) => api(server, 'GET', `/v2/groups/${id}`, auth);
const patchGroup = (id, json, etag, auth = admin) =>
  api(server, 'PATCH', `/v2/groups/${id}`, { ...auth, json, headers: etag === undefined ? {} : { 'If-Match': etag } });
const listGroups = (query = {}, auth = admin) => api(server, 'GET', '/v2/groups', { ...auth, query: { account_id: server.accountId, ...query } });
const putMembers = (id, members, auth = admin) => api(server, 'PUT', `/v2/groups/${id}/members`, { ...auth, json: { members } });
const headMember = (id, iamId, auth = admin) => api(server, 'HEAD', `/v2/groups/${id}/members/${iamId}`, auth);

async function newGroup(fields = {}) {
  const res = await postGroup({ name: groupName(), ...fields });
  assert.equal(res.status, 201, `create group: ${res.text}`);
  return res.body;
}

describe('groups', () => {
  test('POST /v2/groups?account_id= -> 201 with the IBM model; GET -> 200 with ETag', async () => {
    const name = groupName('Create');
    const res = await postGroup({ name, description: 'first group' });
    assert.equal(res.status, 201, res.text);
    const g = res.body;
    assert.match(g.id, GROUP_ID_RE);
    assert.equal(g.name, name);
    assert.equal(g.description, 'first group');
    assert.equal(g.account_id, server.accountId);
    assert.match(g.created_at ?? '', MS_TIME_RE, `created_at ${g.created_at}`);
    assert.match(g.last_modified_at ?? '', MS_TIME_RE);
    assert.equal(g.created_by_id, server.iamId);
    assert.equal(g.last_modified_by_id, server.iamId);
    const got = await getGroup(g.id);
    assert.equal(got.status, 200, got.text);
    assert.ok(etagOf(got), 'GET has an ETag');
    assert.equal(got.body.name, name);
    assert.equal(got.body.id, g.id);
  });

  test('names are unique per account case-insensitively (409); limits and missing fields -> 400; nothing created', async () => {
    const name = groupName('Unique');
    await newGroup({ name });
    const before = (await listGroups({ limit: 100 })).body.total_count;
    assertAccessError(await postGroup({ name: name.toUpperCase() }), 409, undefined, 'same name, other case');
    assertAccessError(await postGroup({ name: 'x'.repeat(101) }), 400, undefined, 'name over 100 characters');
    assertAccessError(await postGroup({ name: groupName(), description: 'd'.repeat(251) }), 400, undefined, 'description over 250');
    assertAccessError(await postGroup({ description: 'no name' }), 400, undefined, 'missing name');
    assertAccessError(await postGroup({ name: '' }), 400, undefined, 'empty name');
    const noAccount = await api(server, 'POST', '/v2/groups', { ...admin, json: { name: groupName() } });
    assertAccessError(noAccount, 400, undefined, 'missing account_id');
    const raw = await api(server, 'POST', '/v2/groups', { ...admin, query: { account_id: server.accountId }, body: '{"name":', contentType: 'application/json' });
    assertAccessError(raw, 400, undefined, 'truncated JSON');
    assert.equal((await listGroups({ limit: 100 })).body.total_count, before, 'nothing created');
    // 100 characters is allowed.
    await newGroup({ name: `${'n'.repeat(92)}${crypto.randomBytes(4).toString('hex')}` });
  });

  test('another account: create there -> 403/404; its groups are 404 here', async () => {
    const res = await postGroup({ name: groupName() }, admin, randomAccountId());
    assert.ok([403, 404].includes(res.status), `create in an unknown account: ${res.status} ${res.text}`);
    const other = await createAccount(server, admin);
    const theirs = await postGroup({ name: groupName() }, other.auth, other.accountId);
    assert.equal(theirs.status, 201, theirs.text);
    assert.equal((await getGroup(theirs.body.id)).status, 404, 'another account\'s group is 404');
    assert.equal((await patchGroup(theirs.body.id, { name: 'x' }, etagOf(await getGroup(theirs.body.id, other.auth)))).status, 404);
    assert.equal((await api(server, 'DELETE', `/v2/groups/${theirs.body.id}`, { ...admin, query: { force: true } })).status, 404);
    assert.equal((await getGroup(theirs.body.id, other.auth)).status, 200, 'still there for its owner');
  });

  test('list: total_count, limit/offset paging with next.href, search, iam_id', async () => {
    const tag = crypto.randomBytes(4).toString('hex');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await newGroup({ name: `list-${tag}-${i}`, description: `searchable ${tag}` })).id);
    const all = await listGroups({ limit: 100 });
    assert.equal(all.status, 200, all.text);
    assert.ok(Array.isArray(all.body.groups));
    assert.equal(typeof all.body.total_count, 'number');
    assert.ok(all.body.total_count >= 3);
    const search = await listGroups({ search: tag, limit: 100 });
    assert.equal(search.status, 200, search.text);
    assert.deepEqual(search.body.groups.map((g) => g.id).sort(), [...ids].sort(), 'search matches name/description');
    assert.equal(search.body.total_count, 3);

    const seen = [];
    let offset = 0;
    for (let page = 0; page < 5; page++) {
      const res = await listGroups({ search: tag, limit: 1, offset });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.limit, 1);
      assert.equal(res.body.total_count, 3, 'total_count is the whole match, not the page');
      assert.ok(res.body.groups.length <= 1);
      seen.push(...res.body.groups.map((g) => g.id));
      if (!res.body.next) break;
      const next = new URL(res.body.next.href, server.url).searchParams.get('offset');
      assert.ok(next, `next.href carries offset: ${res.body.next.href}`);
      offset = Number(next);
    }
    assert.deepEqual(seen.sort(), [...ids].sort(), 'paging visits each group once');

    const s = await createServiceId(server, admin);
    const res = await putMembers(ids[1], [{ iam_id: s.iam_id, type: 'service' }]);
    assert.equal(res.status, 207, res.text);
    const mine = await listGroups({ iam_id: s.iam_id, limit: 100 });
    assert.equal(mine.status, 200, mine.text);
    const real = mine.body.groups.map((g) => g.id).filter((id) => id !== 'AccessGroupId-PublicAccess');
    assert.deepEqual(real, [ids[1]], 'iam_id filter: the groups the identity is in');
  });

  test('PATCH: If-Match required (400), stale refused, current -> 200 with a new ETag', async () => {
    const g = await newGroup();
    const etag1 = etagOf(await getGroup(g.id));
    assertAccessError(await patchGroup(g.id, { name: groupName('renamed') }), 400, undefined, 'PATCH without If-Match');
    assert.equal((await getGroup(g.id)).body.name, g.name, 'unchanged');
    const newName = groupName('Renamed');
    const ok = await patchGroup(g.id, { name: newName, description: 'new description' }, etag1);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.name, newName);
    assert.equal(ok.body.description, 'new description');
    const etag2 = etagOf(await getGroup(g.id));
    assert.notEqual(etag2, etag1, 'ETag changes');
    const stale = await patchGroup(g.id, { name: groupName('stale') }, etag1);
    assert.ok([409, 412].includes(stale.status), `stale If-Match: ${stale.status} ${stale.text}`);
    assertAccessError(stale, stale.status, undefined, 'stale If-Match');
    assert.equal((await getGroup(g.id)).body.name, newName, 'stale PATCH changed nothing');
    const other = await newGroup();
    const clash = await patchGroup(g.id, { name: other.name.toUpperCase() }, etag2);
    assertAccessError(clash, 409, undefined, 'rename onto another group\'s name');
  });

  test('unknown group -> 404 on GET, PATCH, DELETE, members', async () => {
    const id = `AccessGroupId-${crypto.randomUUID()}`;
    assertAccessError(await getGroup(id), 404, undefined, 'GET');
    assertAccessError(await patchGroup(id, { name: 'x' }, '1-00000000000000000000000000000000'), 404, undefined, 'PATCH');
    assertAccessError(await api(server, 'DELETE', `/v2/groups/${id}`, admin), 404, undefined, 'DELETE');
    assertAccessError(await putMembers(id, [{ iam_id: server.iamId, type: 'user' }]), 404, undefined, 'PUT members');
  });
});

describe('members', () => {
  test('PUT members -> 207 with a status per member; HEAD 204/404; GET lists them; DELETE one -> 204', async () => {
    const g = await newGroup();
    const s = await createServiceId(server, admin);
    const u = await createUser(server, admin);
    const missing = `iam-ServiceId-${crypto.randomUUID()}`;
    const res = await putMembers(g.id, [
      { iam_id: s.iam_id, type: 'service' },
      { iam_id: u.iamId, type: 'user' },
      { iam_id: missing, type: 'service' },
    ]);
    assert.equal(res.status, 207, res.text);
    const items = res.body?.members;
    assert.ok(Array.isArray(items) && items.length === 3, `members[] with one status each: ${res.text}`);
    const byId = Object.fromEntries(items.map((m) => [m.iam_id, m]));
    for (const [iamId, type] of [[s.iam_id, 'service'], [u.iamId, 'user']]) {
      const m = byId[iamId];
      assert.ok(m, `status for ${iamId}`);
      assert.ok([200, 201].includes(Number(m.status_code)), `${iamId} added: ${JSON.stringify(m)}`);
      assert.equal(m.type, type);
      assert.match(m.created_at ?? '', MS_TIME_RE);
      assert.equal(m.created_by_id, server.iamId);
    }
    const bad = byId[missing];
    assert.ok(bad && Number(bad.status_code) >= 400 && Number(bad.status_code) < 500, `unknown identity fails alone: ${JSON.stringify(bad)}`);
    assert.ok(Array.isArray(bad.errors) && bad.errors.length >= 1 && typeof bad.errors[0].code === 'string', 'errors[] on the failed member');

    assert.equal((await headMember(g.id, s.iam_id)).status, 204);
    assert.equal((await headMember(g.id, u.iamId)).status, 204);
    assert.equal((await headMember(g.id, missing)).status, 404);
    assert.equal((await headMember(g.id, server.iamId)).status, 404, 'not a member');

    const list = await api(server, 'GET', `/v2/groups/${g.id}/members`, admin);
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.total_count, 2);
    assert.deepEqual(list.body.members.map((m) => m.iam_id).sort(), [s.iam_id, u.iamId].sort());
    assert.deepEqual(list.body.members.map((m) => m.type).sort(), ['service', 'user']);

    const del = await api(server, 'DELETE', `/v2/groups/${g.id}/members/${s.iam_id}`, admin);
    assert.equal(del.status, 204, del.text);
    assert.equal((await headMember(g.id, s.iam_id)).status, 404);
    assert.equal((await api(server, 'DELETE', `/v2/groups/${g.id}/members/${s.iam_id}`, admin)).status, 404, 'remove twice');
  });

  test('a member of another account, a wrong type, or a bad iam_id fails per member; nothing is added for them', async () => {
    const g = await newGroup();
    const other = await createAccount(server, admin);
    const theirSid = await createServiceId({ url: server.url, accountId: other.accountId }, other.auth);
    const mine = await createServiceId(server, admin);
    const res = await putMembers(g.id, [
      { iam_id: theirSid.iam_id, type: 'service' },
      { iam_id: other.ownerIamId, type: 'user' },
      { iam_id: mine.iam_id, type: 'group' },
    ]);
    if (res.status === 207) {
      for (const m of res.body.members) assert.ok(Number(m.status_code) >= 400, `refused member ${JSON.stringify(m)}`);
    } else {
      assertAccessError(res, 400, undefined, 'bad members');
    }
    for (const id of [theirSid.iam_id, other.ownerIamId, mine.iam_id]) assert.equal((await headMember(g.id, id)).status, 404, `${id} not added`);
  });

  test('an oversized member list -> 400/413, nothing added', async () => {
    const g = await newGroup();
    const members = Array.from({ length: 1000 }, () => ({ iam_id: `iam-ServiceId-${crypto.randomUUID()}`, type: 'service' }));
    const res = await putMembers(g.id, members);
    assert.ok([400, 413].includes(res.status), `1000 members in one call: ${res.status} ${res.text.slice(0, 200)}`);
    const list = await api(server, 'GET', `/v2/groups/${g.id}/members`, admin);
    assert.equal(list.body.total_count, 0);
  });

  test('POST /members/delete -> 207 per member', async () => {
    const g = await newGroup();
    const a = await createServiceId(server, admin);
    const b = await createServiceId(server, admin);
    assert.equal((await putMembers(g.id, [{ iam_id: a.iam_id, type: 'service' }, { iam_id: b.iam_id, type: 'service' }])).status, 207);
    const res = await api(server, 'POST', `/v2/groups/${g.id}/members/delete`, { ...admin, json: { members: [a.iam_id, b.iam_id] } });
    assert.equal(res.status, 207, res.text);
    assert.equal(res.body.access_group_id, g.id);
    assert.deepEqual(res.body.members.map((m) => m.iam_id).sort(), [a.iam_id, b.iam_id].sort());
    for (const m of res.body.members) assert.ok([200, 204].includes(Number(m.status_code)), JSON.stringify(m));
    assert.equal((await headMember(g.id, a.iam_id)).status, 404);
    assert.equal((await headMember(g.id, b.iam_id)).status, 404);
  });

  test('_allgroups: PUT adds to several groups (207), DELETE removes from all (207)', async () => {
    const g1 = await newGroup();
    const g2 = await newGroup();
    const s = await createServiceId(server, admin);
    const add = await api(server, 'PUT', `/v2/groups/_allgroups/members/${s.iam_id}`, {
      ...admin, query: { account_id: server.accountId }, json: { type: 'service', groups: [g1.id, g2.id] },
    });
    assert.equal(add.status, 207, add.text);
    assert.equal(add.body.iam_id, s.iam_id);
    assert.deepEqual(add.body.groups.map((x) => x.access_group_id).sort(), [g1.id, g2.id].sort());
    for (const x of add.body.groups) assert.ok([200, 201].includes(Number(x.status_code)), JSON.stringify(x));
    assert.equal((await headMember(g1.id, s.iam_id)).status, 204);
    assert.equal((await headMember(g2.id, s.iam_id)).status, 204);

    const del = await api(server, 'DELETE', `/v2/groups/_allgroups/members/${s.iam_id}`, { ...admin, query: { account_id: server.accountId } });
    assert.equal(del.status, 207, del.text);
    assert.equal(del.body.iam_id, s.iam_id);
    assert.deepEqual(del.body.groups.map((x) => x.access_group_id).sort(), [g1.id, g2.id].sort());
    for (const x of del.body.groups) assert.ok([200, 204].includes(Number(x.status_code)), JSON.stringify(x));
    assert.equal((await headMember(g1.id, s.iam_id)).status, 404);
    assert.equal((await headMember(g2.id, s.iam_id)).status, 404);
  });
});

describe('delete', () => {
  test('a group with members needs force=true; force deletes the group, its members and its policies', async () => {
    const g = await newGroup();
    const s = await createServiceId(server, admin);
    assert.equal((await putMembers(g.id, [{ iam_id: s.iam_id, type: 'service' }])).status, 207);
    const p = await createV1Policy(server, admin, v1Policy({ groupId: g.id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-identity' } }));

    const refused = await api(server, 'DELETE', `/v2/groups/${g.id}`, admin);
    assert.ok(refused.status >= 400 && refused.status < 500, `delete with members and no force: ${refused.status} ${refused.text}`);
    assertAccessError(refused, refused.status, undefined, 'delete without force');
    assert.equal((await getGroup(g.id)).status, 200, 'group still there');
    assert.equal((await headMember(g.id, s.iam_id)).status, 204, 'member still there');

    const del = await api(server, 'DELETE', `/v2/groups/${g.id}`, { ...admin, query: { force: true } });
    assert.equal(del.status, 204, del.text);
    assert.equal((await getGroup(g.id)).status, 404);
    assert.ok(!(await listPolicyIds(server, admin)).ids.includes(p.id), 'the group\'s policy is no longer active');
    const gp = await api(server, 'GET', `/v1/policies/${p.id}`, admin);
    assert.ok(gp.status === 404 || gp.body?.state === 'deleted', `group policy after force delete: ${gp.status} ${gp.body?.state}`);
    const mine = await listGroups({ iam_id: s.iam_id });
    assert.ok(!mine.body.groups.some((x) => x.id === g.id));
  });

  test('an empty group deletes without force (204)', async () => {
    const g = await newGroup();
    assert.equal((await api(server, 'DELETE', `/v2/groups/${g.id}`, admin)).status, 204);
    assert.equal((await getGroup(g.id)).status, 404);
  });
});

describe('who may manage groups', () => {
  test('a service ID without a role -> 403; with Editor on iam-groups it may create groups and add members; Viewer only reads', async () => {
    const bare = await sidWithToken(server, admin);
    const target = await newGroup();
    const before = (await listGroups({ limit: 100 })).body.total_count;
    assertDenied(await postGroup({ name: groupName() }, bare.auth), 'create');
    assertDenied(await putMembers(target.id, [{ iam_id: bare.iamId, type: 'service' }], bare.auth), 'add self as member');
    assert.equal((await headMember(target.id, bare.iamId)).status, 404, 'not added');
    assertDenied(await patchGroup(target.id, { name: groupName() }, etagOf(await getGroup(target.id)), bare.auth), 'update');
    assertDenied(await api(server, 'DELETE', `/v2/groups/${target.id}`, { ...bare.auth, query: { force: true } }), 'delete');
    assert.equal((await listGroups({ limit: 100 })).body.total_count, before);

    const viewer = await sidWithToken(server, admin);
    await createV1Policy(server, admin, v1Policy({ iamId: viewer.iamId, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } }));
    assert.equal((await getGroup(target.id, viewer.auth)).status, 200, 'Viewer reads');
    assertDenied(await postGroup({ name: groupName() }, viewer.auth), 'Viewer cannot create');

    const editor = await sidWithToken(server, admin);
    await createV1Policy(server, admin, v1Policy({ iamId: editor.iamId, roles: ['Editor'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } }));
    const made = await postGroup({ name: groupName() }, editor.auth);
    assert.equal(made.status, 201, `Editor creates: ${made.text}`);
    const add = await putMembers(made.body.id, [{ iam_id: viewer.iamId, type: 'service' }], editor.auth);
    assert.equal(add.status, 207, add.text);
    assert.equal((await headMember(made.body.id, viewer.iamId)).status, 204);
  });
});
