// Accounts and users (ours): POST /v1/accounts (operator only), users of an
// account (create, get, patch state, delete, password), the password grant at
// /identity/token with its per-user-and-address lockout, personal API keys.

import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  USER_IAM_ID_RE, api, assertTokenError, createApiKey, decodeJwt, getToken,
} from './lib/http.mjs';
import {
  accountIdOf, assertAccessError, assertDenied, createAccount, createUser, ownerIamIdOf, passwordGrant,
  sidWithToken, strongPassword, uniqueLogin,
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

const usersPath = (accountId = server.accountId) => `/v1/accounts/${accountId}/users`;
const userPath = (iamId, accountId = server.accountId) => `${usersPath(accountId)}/${iamId}`;
const postUser = (json, auth = admin, accountId = server.accountId) => api(server, 'POST', usersPath(accountId), { ...auth, json });
const getUser = (iamId, auth = admin, accountId = server.accountId) => api(server, 'GET', userPath(iamId, accountId), auth);
const patchUser = (iamId, json, etag, auth = admin) =>
  api(server, 'PATCH', userPath(iamId), { ...auth, json, headers: etag === undefined ? {} : { 'If-Match': etag } });
const userEtag = (res) => res.headers.get('etag') ?? res.body?.entity_tag;
const postAccount = (json, auth = admin) => api(server, 'POST', '/v1/accounts', { ...auth, json });
const userBody = (login = uniqueLogin('u'), extra = {}) => ({
  login, email: `${login}@example.com`, given_name: 'Ada', family_name: 'Lovelace', password: strongPassword(), ...extra,
});

async function assertLoginWorks(login, password, iamId, accountId = server.accountId) {
  const res = await passwordGrant(server, login, password);
  assert.equal(res.status, 200, `password grant for ${login}: ${res.status} ${res.text.slice(0, 300)}`);
  const c = decodeJwt(res.body.access_token).payload;
  assert.equal(c.iam_id, iamId, 'token iam_id');
  assert.equal(c.account?.bss, accountId, 'token account.bss');
  return res.body;
}

// Expected failures come from their own loopback addresses, so that a per-address
// limit on failed logins never leaks into the tests that expect a login to work.
let failAddress = 10;
const nextFailAddress = () => `127.0.2.${failAddress++}`;

async function assertLoginFails(login, password, what) {
  const res = await passwordGrant(server, login, password, { localAddress: nextFailAddress() });
  assertTokenError(res, [400, 401, 403], {});
  assert.equal(res.body.access_token, undefined, what);
  return res;
}

describe('accounts', () => {
  test('the operator creates an account: 201, ids in IBM format, the owner logs in and has full access there', async () => {
    const login = uniqueLogin('owner');
    const password = strongPassword();
    const res = await postAccount({ name: 'Second account', owner: { login, email: `${login}@example.com`, password } });
    assert.equal(res.status, 201, res.text);
    const accountId = accountIdOf(res.body);
    const ownerIamId = ownerIamIdOf(res.body);
    assert.notEqual(accountId, server.accountId);
    assert.ok(!res.text.includes(password), 'the password is not echoed');
    assert.ok(!/argon2/i.test(res.text), 'no password hash in the answer');
    await assertLoginWorks(login, password, ownerIamId, accountId);

    const tok = (await passwordGrant(server, login, password)).body.access_token;
    const settings = await api(server, 'GET', `/v1/accounts/${accountId}/settings/identity`, { token: tok });
    assert.equal(settings.status, 200, `owner reads the new account's settings: ${settings.text}`);
    const sid = await api(server, 'POST', '/v1/serviceids', { token: tok, json: { account_id: accountId, name: 'in-new-account' } });
    assert.equal(sid.status, 201, `owner creates a service ID there: ${sid.text}`);
    const mine = await api(server, 'GET', `/v1/serviceids/${sid.body.id}`, admin);
    assert.equal(mine.status, 404, 'the first account\'s owner does not see it');
    const theirs = await api(server, 'GET', `/v1/accounts/${server.accountId}/settings/identity`, { token: tok });
    assert.ok([403, 404].includes(theirs.status), `new owner on the first account: ${theirs.status}`);
  });

  test('only the operator: another account\'s owner, a user and a service ID -> 403, nothing created', async () => {
    const other = await createAccount(server, admin);
    const u = await createUser(server, admin);
    const s = await sidWithToken(server, admin);
    for (const [who, auth] of [['other owner', other.auth], ['user', u.auth], ['service ID', s.auth]]) {
      const login = uniqueLogin('nope');
      const password = strongPassword();
      const res = await postAccount({ name: 'nope', owner: { login, email: `${login}@example.com`, password } }, auth);
      assertAccessError(res, 403, undefined, who);
      await assertLoginFails(login, password, `${who}: no owner was created`);
    }
    assert.equal((await api(server, 'POST', '/v1/accounts', { json: { name: 'x', owner: { login: uniqueLogin(), email: 'a@example.com' } } })).status, 401);
  });

  test('bad input -> 400; a login already taken -> 409', async () => {
    const login = uniqueLogin('o');
    const cases = {
      'missing name': { owner: { login, email: `${login}@example.com` } },
      'missing owner': { name: 'x' },
      'owner without login': { name: 'x', owner: { email: `${login}@example.com` } },
      'owner with a bad email': { name: 'x', owner: { login, email: 'not-an-email' } },
      'name too long': { name: 'n'.repeat(1001), owner: { login, email: `${login}@example.com` } },
    };
    for (const [what, body] of Object.entries(cases)) assertAccessError(await postAccount(body), 400, undefined, what);
    const taken = await createAccount(server, admin);
    const dup = await postAccount({ name: 'dup', owner: { login: taken.login, email: `${uniqueLogin()}@example.com`, password: strongPassword() } });
    assertAccessError(dup, 409, undefined, 'owner login already taken');
    await assertLoginWorks(taken.login, taken.password, taken.ownerIamId, taken.accountId);
  });
});

describe('users', () => {
  test('POST -> 201 with the IBM iam_id; GET -> 200 with an entity tag; no password or hash anywhere in answers', async () => {
    const body = userBody();
    const res = await postUser(body);
    assert.equal(res.status, 201, res.text);
    const u = res.body;
    assert.match(u.iam_id, USER_IAM_ID_RE);
    assert.equal(u.login, body.login);
    assert.equal(u.email, body.email);
    assert.equal(u.given_name, 'Ada');
    assert.equal(u.family_name, 'Lovelace');
    assert.equal(u.state, 'ACTIVE');
    assert.equal(u.account_id, server.accountId);
    assert.ok(!res.text.includes(body.password), 'password not echoed');
    assert.ok(!/argon2|password_hash/i.test(res.text), 'no hash');
    const got = await getUser(u.iam_id);
    assert.equal(got.status, 200, got.text);
    assert.ok(userEtag(got), 'ETag header or entity_tag');
    assert.equal(got.body.login, body.login);
    assert.ok(!/argon2|password_hash/i.test(got.text));
    await assertLoginWorks(body.login, body.password, u.iam_id);
  });

  // On PostgreSQL the hash lives in the database, not in the data dir: this reads files.
  test('passwords are stored hashed with argon2id, never in clear', { skip: process.env.IAMD_TEST_DATABASE_URL_BASE ? 'PostgreSQL: not in the data dir' : false }, async () => {
    const body = userBody();
    assert.equal((await postUser(body)).status, 201);
    let sawArgon = false;
    for (const name of await fsp.readdir(server.dataDir)) {
      const full = path.join(server.dataDir, name);
      const st = await fsp.stat(full);
      if (!st.isFile() || st.size > 64 * 1024 * 1024) continue;
      const buf = await fsp.readFile(full);
      assert.equal(buf.indexOf(body.password), -1, `${name} holds the password in clear`);
      if (buf.indexOf('$argon2id$') !== -1) sawArgon = true;
    }
    assert.ok(sawArgon, 'an $argon2id$ hash is stored in the data dir');
  });

  test('bad input -> 400; a login already taken -> 409; nothing created', async () => {
    const cases = {
      'missing login': (() => { const b = userBody(); delete b.login; return b; })(),
      'missing email': (() => { const b = userBody(); delete b.email; return b; })(),
      'bad email': userBody(undefined, { email: 'nope' }),
      'login with spaces': userBody('two words'),
      'login too long': userBody('l'.repeat(300)),
      'empty password': userBody(undefined, { password: '' }),
      'given_name too long': userBody(undefined, { given_name: 'g'.repeat(1001) }),
    };
    for (const [what, body] of Object.entries(cases)) {
      assertAccessError(await postUser(body), 400, undefined, what);
      if (body.login && body.password) await assertLoginFails(body.login, body.password, `${what}: not created`);
    }
    const first = await createUser(server, admin);
    assertAccessError(await postUser(userBody(first.login)), 409, undefined, 'login taken in the same account');
    const other = await createAccount(server, admin);
    const elsewhere = await postUser(userBody(first.login), other.auth, other.accountId);
    assertAccessError(elsewhere, 409, undefined, 'login taken in another account (logins are instance-wide)');
    await assertLoginWorks(first.login, first.password, first.iamId);
  });

  test('PATCH state: If-Match required; DISABLED blocks the password grant; ACTIVE restores it; bad state -> 400', async () => {
    const u = await createUser(server, admin);
    const etag = userEtag(await getUser(u.iamId));
    assertAccessError(await patchUser(u.iamId, { state: 'DISABLED' }), 400, undefined, 'no If-Match');
    assertAccessError(await patchUser(u.iamId, { state: 'SLEEPING' }, etag), 400, undefined, 'unknown state');
    assert.equal((await getUser(u.iamId)).body.state, 'ACTIVE', 'unchanged');
    const ownKeys = () => api(server, 'GET', '/v1/apikeys', { ...u.auth, query: { account_id: server.accountId, iam_id: u.iamId } });
    assert.equal((await ownKeys()).status, 200, 'the user lists their own keys');
    const dis = await patchUser(u.iamId, { state: 'DISABLED' }, etag);
    assert.equal(dis.status, 200, dis.text);
    assert.equal(dis.body.state, 'DISABLED');
    await assertLoginFails(u.login, u.password, 'disabled user');
    assert.equal((await ownKeys()).status, 401, 'a disabled user\'s unexpired token stops at once');
    const stale = await patchUser(u.iamId, { state: 'ACTIVE' }, etag);
    assertAccessError(stale, 409, undefined, 'stale If-Match');
    const en = await patchUser(u.iamId, { state: 'ACTIVE' }, userEtag(await getUser(u.iamId)));
    assert.equal(en.status, 200, en.text);
    await assertLoginWorks(u.login, u.password, u.iamId);
    assert.equal((await ownKeys()).status, 200, 'the token works again once ACTIVE');
  });

  test('DELETE -> 204; GET -> 404; the login, its token and its keys stop working', async () => {
    const u = await createUser(server, admin);
    const key = await createApiKey(server, u.auth, { iam_id: u.iamId });
    const del = await api(server, 'DELETE', userPath(u.iamId), admin);
    assert.equal(del.status, 204, del.text);
    const stale = await api(server, 'GET', '/v1/apikeys', { ...u.auth, query: { account_id: server.accountId, iam_id: u.iamId } });
    assert.equal(stale.status, 401, 'a deleted user\'s unexpired token stops at once');
    assert.equal((await api(server, 'GET', `/v1/apikeys/${key.id}`, admin)).status, 404, 'the user\'s API keys went with it');
    assert.equal((await getUser(u.iamId)).status, 404);
    assert.equal((await api(server, 'DELETE', userPath(u.iamId), admin)).status, 404);
    await assertLoginFails(u.login, u.password, 'deleted user');
  });

  test('PUT password: the user with current_password; the owner resets; a wrong current_password changes nothing', async () => {
    const u = await createUser(server, admin);
    const p2 = strongPassword();
    const wrong = await api(server, 'PUT', `${userPath(u.iamId)}/password`, { ...u.auth, json: { password: p2, current_password: 'not-it-at-all-1' } });
    assert.ok([400, 401, 403].includes(wrong.status), `wrong current_password: ${wrong.status} ${wrong.text}`);
    await assertLoginWorks(u.login, u.password, u.iamId);

    const self = await api(server, 'PUT', `${userPath(u.iamId)}/password`, { ...u.auth, json: { password: p2, current_password: u.password } });
    assert.ok([200, 204].includes(self.status), `self change: ${self.status} ${self.text}`);
    await assertLoginWorks(u.login, p2, u.iamId);
    await assertLoginFails(u.login, u.password, 'old password');

    const p3 = strongPassword();
    const reset = await api(server, 'PUT', `${userPath(u.iamId)}/password`, { ...admin, json: { password: p3 } });
    assert.ok([200, 204].includes(reset.status), `owner reset: ${reset.status} ${reset.text}`);
    await assertLoginWorks(u.login, p3, u.iamId);
    assertAccessError(await api(server, 'PUT', `${userPath(u.iamId)}/password`, { ...admin, json: { password: '' } }), 400, undefined, 'empty password');
  });

  test('who may administer users: the owner yes; a plain user or a service ID without a role -> 403; another account -> 403/404', async () => {
    const u = await createUser(server, admin);
    const victim = await createUser(server, admin);
    const s = await sidWithToken(server, admin);
    assertDenied(await postUser(userBody(), u.auth), 'user creating a user');
    assertDenied(await postUser(userBody(), s.auth), 'service ID creating a user');
    const etag = userEtag(await getUser(victim.iamId));
    assertDenied(await patchUser(victim.iamId, { state: 'DISABLED' }, etag, u.auth), 'user disabling another');
    assertDenied(await api(server, 'DELETE', userPath(victim.iamId), u.auth), 'user deleting another');
    assertDenied(await api(server, 'PUT', `${userPath(victim.iamId)}/password`, { ...u.auth, json: { password: strongPassword() } }), 'user resetting another\'s password');
    await assertLoginWorks(victim.login, victim.password, victim.iamId);

    const other = await createAccount(server, admin);
    const theirs = await createUser(server, other.auth, other.accountId);
    assert.equal((await getUser(theirs.iamId)).status, 404, 'their user under our account path');
    const cross = await getUser(theirs.iamId, admin, other.accountId);
    assert.ok([403, 404].includes(cross.status), `our owner on their account: ${cross.status}`);
    const crossPost = await postUser(userBody(), admin, other.accountId);
    assert.ok([403, 404].includes(crossPost.status), `creating a user in another account: ${crossPost.status}`);
  });

  test('an IAM administrator (Administrator on user-management) administers users; Viewer there only reads', async () => {
    const adm = await sidWithToken(server, admin);
    const viewer = await sidWithToken(server, admin);
    for (const [who, role] of [[adm, 'Administrator'], [viewer, 'Viewer']]) {
      const res = await api(server, 'POST', '/v1/policies', {
        ...admin, json: { type: 'access', subjects: [{ attributes: [{ name: 'iam_id', value: who.iamId }] }], roles: [{ role_id: `crn:v1:bluemix:public:iam::::role:${role}` }],
          resources: [{ attributes: [{ name: 'accountId', value: server.accountId }, { name: 'serviceName', value: 'user-management' }] }] },
      });
      assert.equal(res.status, 201, res.text);
    }
    const made = await postUser(userBody(), adm.auth);
    assert.equal(made.status, 201, `Administrator on user-management creates users: ${made.text}`);
    assert.equal((await getUser(made.body.iam_id, viewer.auth)).status, 200, 'Viewer reads users');
    assertDenied(await postUser(userBody(), viewer.auth), 'Viewer creating a user');
    assertDenied(await api(server, 'DELETE', userPath(made.body.iam_id), viewer.auth), 'Viewer deleting a user');
    assert.equal((await api(server, 'DELETE', userPath(made.body.iam_id), adm.auth)).status, 204, 'Administrator deletes');
  });

  test('a user creates a personal API key through /v1/apikeys and uses it', async () => {
    const u = await createUser(server, admin);
    const key = await createApiKey(server, u.auth, { iam_id: u.iamId });
    assert.equal(key.iam_id, u.iamId);
    const tok = await getToken(server.url, key.apikey);
    assert.equal(decodeJwt(tok.access_token).payload.iam_id, u.iamId);
  });
});

describe('password grant', () => {
  test('wrong password and unknown user -> 400 with the same errorCode (no user enumeration)', async () => {
    const u = await createUser(server, admin);
    const wrong = await passwordGrant(server, u.login, 'wrong-password-123', { localAddress: '127.0.0.5' });
    assertTokenError(wrong, 400);
    const unknown = await passwordGrant(server, uniqueLogin('ghost'), 'wrong-password-123', { localAddress: '127.0.0.5' });
    assertTokenError(unknown, 400);
    assert.equal(unknown.body.errorCode, wrong.body.errorCode, 'same answer for unknown user and wrong password');
    const missing = await passwordGrant(server, u.login, '', { localAddress: '127.0.0.5' });
    assertTokenError(missing, 400);
  });

  test('5 failures for a user from one address -> 429 with Retry-After there, even with the right password; another address is not locked out', async () => {
    const u = await createUser(server, admin);
    const from = '127.0.0.3';
    for (let i = 1; i <= 5; i++) {
      const res = await passwordGrant(server, u.login, `wrong-${i}-password`, { localAddress: from });
      assertTokenError(res, 400);
    }
    const sixth = await passwordGrant(server, u.login, 'wrong-6-password', { localAddress: from });
    assertTokenError(sixth, 429);
    const retry = sixth.headers.get('retry-after');
    assert.match(retry ?? '', /^\d+$/, `Retry-After in seconds: ${retry}`);
    assert.ok(Number(retry) > 0);
    const right = await passwordGrant(server, u.login, u.password, { localAddress: from });
    assert.equal(right.status, 429, `locked out address, right password: ${right.status} ${right.text.slice(0, 200)}`);
    assert.equal(right.body?.access_token, undefined);
    const elsewhere = await passwordGrant(server, u.login, u.password, { localAddress: '127.0.0.4' });
    assert.equal(elsewhere.status, 200, `another address is not locked out: ${elsewhere.status} ${elsewhere.text.slice(0, 200)}`);
  });

  test('one address failing for many logins is limited too (per client address); other addresses are not', async () => {
    const u = await createUser(server, admin);
    const from = '127.0.0.6';
    let limitedAt = 0;
    for (let i = 1; i <= 50; i++) {
      const res = await passwordGrant(server, uniqueLogin('spray'), 'wrong-password-123', { localAddress: from });
      if (res.status === 429) { limitedAt = i; assertTokenError(res, 429); break; }
      assertTokenError(res, 400);
    }
    assert.ok(limitedAt > 0, 'an address spraying 50 logins is rate limited');
    const right = await passwordGrant(server, u.login, u.password, { localAddress: from });
    assert.equal(right.status, 429, `the limited address, another user's right password: ${right.status}`);
    assert.match(right.headers.get('retry-after') ?? '', /^\d+$/);
    const elsewhere = await passwordGrant(server, u.login, u.password, { localAddress: '127.0.0.7' });
    assert.equal(elsewhere.status, 200, `another address: ${elsewhere.status} ${elsewhere.text.slice(0, 200)}`);
  });
});
