// The security suite (issue 7), over real HTTP against one iamd:
//  1. JWT attacks on every Bearer-authenticated endpoint family (a read and a
//     write each): alg none, HS256 keyed with the public key, foreign and
//     injected kids, our kid with another key's signature, tokens signed by
//     the server's OWN key whose only fault is one claim (expired, nbf or iat
//     in the future, wrong iss, no exp, header alg or jku), tampered claims,
//     deleted and disabled identities, truncated, garbage and huge tokens.
//  2. Cross-account: every route that takes an id (or an account id), driven
//     by the CROSS_ACCOUNT_ROUTES table, run by three identities of other
//     accounts against a victim account's objects: 404 (or the documented
//     answer that reveals nothing), and the victim's state is unchanged.
//  3. Privilege escalation: identities with little access try to grant
//     themselves more (policies, groups, keys, settings, custom roles, users).
//  4. Secrets never in the server's logs (run at --log-level debug), audit
//     records (when GET /v1/audit/events exists) or read responses: every key
//     value, password, token, refresh token and session cookie this file used.
//  5. Timing: unknown key id, wrong checksum and a real key id with a wrong
//     secret take the same time at the token endpoint (medians within a bound).
// The crypto level (token parsing rules one by one) is tests/unit/test_crypto_jwt.c;
// the basic 401 cases on one /v1 route are in token.test.mjs.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  api, apikeyBasic, createApiKey, createServiceId, decodeJwt, getToken, listAll, postForm,
  serviceIdWithKey, tokenRequest, uniqueName,
} from './lib/http.mjs';
import {
  ROLE, createAccount, createUser, createV1Policy, createV2Policy, grant, listPolicyIds, passwordGrant,
  postFormFrom, sidWithToken, strongPassword, v1Policy, v2Policy,
} from './lib/access.mjs';
import { algNoneVariants, foreignKeys, hs256ConfusionVariants, signHs256, signRs256, tamper, tamperHeader } from './lib/jwt.mjs';
import { apikeyValue, serverSigningKeys, signWith } from './lib/forge.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

let server;
let admin; // the bootstrap account's owner (also the instance operator)

// Every secret value this file handles, by kind, for the log scan at the end.
const secrets = [];
const remember = (kind, value) => {
  if (typeof value === 'string' && value.length >= 8) secrets.push({ kind, value });
  return value;
};
const rememberTokens = (body, kind) => {
  remember(`${kind} access token`, body?.access_token);
  if (body?.refresh_token && body.refresh_token !== 'not_supported') remember(`${kind} refresh token`, body.refresh_token);
  return body;
};

before(async () => {
  // debug: the scan at the end must hold at every log level.
  // The failed-authentication limits are off here: the timing test sends hundreds of wrong keys on
  // purpose, and a 429 is a different (documented) path; tests/api/ratelimit.test.mjs covers the limits.
  server = await startServer({ args: ['--log-level', 'debug', '--failed-auth-per-address', '0', '--failed-auth-per-key', '0'] });
  assert.ok(server.apikey, 'bootstrap-apikey.json has no apikey');
  admin = { token: rememberTokens(await getToken(server.url, server.apikey), 'bootstrap').access_token };
});

after(async () => {
  await stopAndCheck(server);
});

/** A request that may also end with the connection closed (a refusal too): {status} or {status: 'closed'}. */
async function attempt(method, path, opts) {
  try {
    return await api(server, method, path, opts);
  } catch (err) {
    return { status: 'closed', text: `connection error: ${err.cause?.code ?? err.message}`, body: null };
  }
}

/** A service ID holding `roles` on each of `services` (v1 policies): {sid, key, iamId, id, auth}. */
async function sidWithRoles(grants, fields = {}) {
  const s = await sidWithToken(server, admin, fields);
  remember('service ID key', s.key);
  remember('service ID access token', s.auth.token);
  for (const [serviceName, roles] of Object.entries(grants)) {
    await grant(server, admin, { iamId: s.iamId, roles, resource: { serviceName } });
  }
  return s;
}

// ------------------------------------------------------------------------------------------------
// 1. JWT attacks
// ------------------------------------------------------------------------------------------------

describe('JWT attacks on every Bearer-authenticated endpoint family', () => {
  const marker = `jwt-attack-${crypto.randomBytes(6).toString('hex')}`;
  let fx; // objects of the bootstrap account the probes point at
  let attacks; // [{name, token}]
  let genuine; // {header, payload} of the admin's real token

  // Each family: a read and a write. `req(fx)` gives [method, path, opts].
  const FAMILIES = [
    {
      name: '/v1/serviceids',
      read: (f) => ['GET', `/v1/serviceids/${f.sid.id}`],
      write: (f) => ['POST', '/v1/serviceids', { json: { account_id: server.accountId, name: marker } }],
    },
    {
      name: '/v1/apikeys',
      read: (f) => ['GET', `/v1/apikeys/${f.keyId}`],
      write: (f) => ['POST', '/v1/apikeys', { json: { name: marker, iam_id: f.sid.iam_id } }],
    },
    {
      name: '/v1/policies',
      read: (f) => ['GET', `/v1/policies/${f.v1Policy}`],
      write: (f) => ['POST', '/v1/policies', {
        json: v1Policy({ iamId: f.sid.iam_id, roles: ['Administrator'], description: marker,
          resource: { accountId: server.accountId, serviceName: 'iam-identity' } }),
      }],
    },
    {
      name: '/v2/policies',
      read: (f) => ['GET', `/v2/policies/${f.v2Policy}`],
      write: (f) => ['POST', '/v2/policies', {
        json: v2Policy({ iamId: f.sid.iam_id, roles: ['Administrator'], description: marker,
          resource: { accountId: server.accountId, serviceName: 'iam-groups' } }),
      }],
    },
    {
      name: '/v2/groups',
      read: (f) => ['GET', `/v2/groups/${f.group}`],
      write: (f) => ['POST', '/v2/groups', { query: { account_id: server.accountId }, json: { name: marker } }],
    },
    {
      name: '/v2/authz',
      read: (f) => ['POST', '/v2/authz', {
        json: [{ subject: { attributes: { id: f.sid.iam_id } }, action: 'iam-identity.serviceid.get',
          resource: { attributes: { accountId: server.accountId, serviceName: 'iam-identity' } } }],
      }],
      write: (f) => ['POST', '/v2/authz/explain', {
        json: { subject: { attributes: { id: f.sid.iam_id } }, action: 'iam-identity.serviceid.delete',
          resource: { attributes: { accountId: server.accountId, serviceName: 'iam-identity' } } },
      }],
    },
  ];

  const send = (req, auth) => {
    const [method, path, opts = {}] = req;
    return attempt(method, path, { ...opts, ...auth });
  };

  before(async () => {
    const sid = await serviceIdWithKey(server, admin);
    remember('service ID key', sid.key);
    const g = await api(server, 'POST', '/v2/groups', { ...admin, query: { account_id: server.accountId }, json: { name: uniqueName('jwtgrp') } });
    assert.equal(g.status, 201, g.text);
    const p1 = await grant(server, admin, { iamId: sid.sid.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } });
    const p2 = await createV2Policy(server, admin, v2Policy({ iamId: sid.sid.iam_id, roles: ['Viewer'],
      resource: { accountId: server.accountId, serviceName: 'iam-groups' } }));
    fx = { sid: sid.sid, keyId: sid.keyId, group: g.body.id, v1Policy: p1, v2Policy: p2.id };

    genuine = decodeJwt(admin.token);
    const keys = await serverSigningKeys(server);
    const now = Math.floor(Date.now() / 1000);
    const active = keys.find((k) => k.kid === genuine.header.kid);
    assert.ok(active, `the admin token's kid ${genuine.header.kid} is not among the stored keys ${keys.map((k) => k.kid)}`);
    const otherOfOurs = keys.find((k) => k.kid !== active.kid);
    assert.ok(otherOfOurs, 'the keyring keeps a successor key next to the active one');
    const claims = (edit = {}) => ({ ...genuine.payload, iat: now - 5, exp: now + 600, ...edit });
    const ours = (payload, header = genuine.header) => signWith(active.privateKey, header, payload);
    const jwks = (await api(server, 'GET', '/identity/keys')).body;
    const jwk = jwks.keys.find((k) => k.kid === active.kid);
    const foreignJwk = foreignKeys().publicKey.export({ format: 'jwk' });

    // Positive control: a token forged with our own key and fresh claims is accepted,
    // so every refusal below is about the one thing that differs.
    const control = ours(claims());
    for (const family of FAMILIES) {
      const res = await send(family.read(fx), { token: control });
      assert.ok(res.status === 200, `${family.name}: a token signed with the server's key must pass: ${res.status} ${res.text?.slice(0, 300)}`);
    }

    const other = await sidWithToken(server, admin);
    const dead = await sidWithToken(server, admin);
    const deadUser = await createUser(server, admin);
    const disabledUser = await createUser(server, admin);
    remember('user password', deadUser.password);
    remember('user password', disabledUser.password);
    remember('user access token', deadUser.auth.token);
    remember('user access token', disabledUser.auth.token);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${dead.id}`, admin)).status, 204);
    assert.equal((await api(server, 'DELETE', `/v1/accounts/${server.accountId}/users/${deadUser.iamId}`, admin)).status, 204);
    const u = await api(server, 'GET', `/v1/accounts/${server.accountId}/users/${disabledUser.iamId}`, admin);
    const patched = await api(server, 'PATCH', `/v1/accounts/${server.accountId}/users/${disabledUser.iamId}`, {
      ...admin, headers: { 'If-Match': u.headers.get('etag') }, json: { state: 'DISABLED' },
    });
    assert.equal(patched.status, 200, `disable user: ${patched.text}`);

    const t = admin.token;
    const [h64, p64, s64] = t.split('.');
    attacks = [
      ...algNoneVariants(t),
      ...hs256ConfusionVariants(t, jwk),
      { name: 'HS256 keyed with the empty string', token: signHs256({ ...genuine.header, alg: 'HS256' }, genuine.payload, '') },
      { name: 'foreign key, foreign kid', token: signRs256({ alg: 'RS256', kid: 'foreign-kid', typ: 'JWT' }, claims()) },
      { name: 'foreign key, our kid', token: signRs256(genuine.header, claims()) },
      { name: 'our kid, signed by our other (successor) key', token: signWith(otherOfOurs.privateKey, genuine.header, claims()) },
      { name: 'foreign key, embedded jwk header', token: signRs256({ alg: 'RS256', kid: 'attacker', jwk: { ...foreignJwk, kid: 'attacker' } }, claims()) },
      { name: 'kid path injection', token: signRs256({ alg: 'RS256', kid: '../../../../../../etc/passwd' }, claims()) },
      { name: 'kid path to our secrets', token: signRs256({ alg: 'RS256', kid: `../secrets/kek` }, claims()) },
      { name: 'kid URL injection', token: signRs256({ alg: 'RS256', kid: 'http://127.0.0.1:1/identity/keys' }, claims()) },
      { name: 'kid SQL injection', token: signRs256({ alg: 'RS256', kid: "x' OR '1'='1" }, claims()) },
      { name: 'our kid + NUL + junk', token: signRs256({ alg: 'RS256', kid: `${active.kid}\u0000junk` }, claims()) },
      { name: 'our kid in upper case', token: signRs256({ alg: 'RS256', kid: active.kid.toUpperCase() }, claims()) },
      { name: 'kid as an array', token: signRs256({ alg: 'RS256', kid: [active.kid] }, claims()) },
      { name: 'kid 10 000 characters', token: signRs256({ alg: 'RS256', kid: 'k'.repeat(10_000) }, claims()) },
      // Signed by the server's own key: only the named claim or header is wrong.
      { name: 'own key: expired an hour ago', token: ours(claims({ iat: now - 7200, exp: now - 3600 })) },
      { name: 'own key: expired 5 minutes ago (beyond the leeway)', token: ours(claims({ iat: now - 3900, exp: now - 300 })) },
      { name: 'own key: nbf an hour from now', token: ours(claims({ nbf: now + 3600 })) },
      { name: 'own key: iat an hour from now', token: ours(claims({ iat: now + 3600, exp: now + 7200 })) },
      { name: 'own key: wrong iss', token: ours(claims({ iss: 'https://iam.cloud.ibm.com/identity' })) },
      { name: 'own key: iss of another port', token: ours(claims({ iss: 'http://127.0.0.1:1/identity' })) },
      { name: 'own key: iss missing', token: ours((({ iss, ...rest }) => rest)(claims())) },
      { name: 'own key: exp missing', token: ours((({ exp, ...rest }) => rest)(claims())) },
      { name: 'own key: exp as a string', token: ours(claims({ exp: String(now + 600) })) },
      { name: 'own key: header alg RS512', token: ours(claims(), { ...genuine.header, alg: 'RS512' }) },
      { name: 'own key: header alg PS256', token: ours(claims(), { ...genuine.header, alg: 'PS256' }) },
      { name: 'own key: jku header', token: ours(claims(), { ...genuine.header, jku: 'http://127.0.0.1:1/keys' }) },
      { name: 'own key: x5u header', token: ours(claims(), { ...genuine.header, x5u: 'http://127.0.0.1:1/cert' }) },
      { name: 'own key: unknown crit', token: ours(claims(), { ...genuine.header, crit: ['exp'] }) },
      // The genuine token edited.
      { name: 'tampered: iam_id of another identity', token: tamper(t, (p) => { p.iam_id = other.iamId; p.id = other.iamId; p.sub = other.id; }) },
      { name: 'tampered: exp pushed a year ahead', token: tamper(t, (p) => { p.exp += 365 * 86400; }) },
      { name: 'tampered: header kid of the successor', token: tamperHeader(t, (h) => { h.kid = otherOfOurs.kid; }) },
      { name: 'signature of another genuine token', token: `${h64}.${p64}.${other.auth.token.split('.')[2]}` },
      // Identities that no longer exist or may not sign in.
      { name: 'token of a deleted service ID', token: dead.auth.token },
      { name: 'token of a deleted user', token: deadUser.auth.token },
      { name: 'token of a disabled user', token: disabledUser.auth.token },
      // Truncated and garbage.
      { name: 'last character cut', token: t.slice(0, -1) },
      { name: 'cut in the middle', token: t.slice(0, Math.floor(t.length / 2)) },
      { name: 'signature removed', token: `${h64}.${p64}.` },
      { name: 'header and payload only', token: `${h64}.${p64}` },
      { name: 'empty segments', token: '..' },
      { name: 'segments swapped', token: `${p64}.${h64}.${s64}` },
      { name: 'base64 padding added', token: `${h64}=.${p64}==.${s64}=` },
      { name: 'standard base64 alphabet', token: t.replace(/-/g, '+').replace(/_/g, '/') },
      { name: 'non-base64 characters', token: `${h64}.${p64}.!!!${s64.slice(3)}` },
      { name: 'random bytes', token: crypto.randomBytes(300).toString('base64url') },
      { name: 'random three segments', token: [40, 300, 342].map((n) => crypto.randomBytes(n).toString('base64url')).join('.') },
      { name: 'header is not JSON', token: `${Buffer.from('not json').toString('base64url')}.${p64}.${s64}` },
      { name: 'payload is a JSON array', token: ours([1, 2, 3]) },
      { name: 'non-ASCII (Latin-1) bytes', token: `${h64}.${p64}.\u00e9\u00e9` },
      // Huge: longer than the verifier's cap; the largest also beyond the server's header limits.
      { name: 'huge: 16 KiB (payload padded, signed by our key)', token: ours(claims({ pad: 'x'.repeat(12_000) })) },
      { name: 'huge: 64 KiB of garbage', token: `${h64}.${'A'.repeat(64 * 1024)}.${s64}` },
      { name: 'huge: 1 MiB', token: `${t}${'A'.repeat(1024 * 1024)}` },
    ];
  });

  for (const family of FAMILIES) {
    test(`${family.name}: every attack token is refused (401) on the read and the write`, async () => {
      // The genuine token works on the read (so a 401 below is about the token).
      const ok = await send(family.read(fx), admin);
      assert.equal(ok.status, 200, `${family.name}: the genuine token: ${ok.status} ${ok.text?.slice(0, 300)}`);
      const failures = [];
      for (const kind of ['read', 'write']) {
        for (const a of attacks) {
          const res = await send(family[kind](fx), { token: a.token });
          // 401 is the answer; a huge token may also be cut off by the HTTP layer (413/431 or a closed connection).
          const huge = a.name.startsWith('huge');
          const refused = res.status === 401 || (huge && [400, 413, 431, 'closed'].includes(res.status));
          if (!refused) failures.push(`${kind} with "${a.name}": ${res.status} ${String(res.text).slice(0, 200)}`);
          else if (res.status === 401 && res.text.includes(marker)) failures.push(`${kind} with "${a.name}": the 401 echoes the request`);
        }
      }
      assert.deepEqual(failures, [], `${family.name}: attack tokens not refused:\n${failures.join('\n')}`);
      assert.equal((await send(family.read(fx), admin)).status, 200, `${family.name}: the server still serves`);
    });
  }

  test('no attack write created anything', async () => {
    const texts = [];
    texts.push(JSON.stringify((await listAll(server, admin, '/v1/serviceids', { account_id: server.accountId, pagesize: 100 }, 'serviceids')).items));
    texts.push((await api(server, 'GET', '/v1/apikeys', { ...admin, query: { account_id: server.accountId, iam_id: fx.sid.iam_id, pagesize: 100 } })).text);
    texts.push(JSON.stringify((await listPolicyIds(server, admin)).items));
    texts.push(JSON.stringify((await listPolicyIds(server, admin, { path: '/v2/policies' })).items));
    texts.push((await api(server, 'GET', '/v2/groups', { ...admin, query: { account_id: server.accountId, limit: 100 } })).text);
    for (const text of texts) assert.ok(!text.includes(marker), `an object named ${marker} exists: ${text.slice(0, 300)}`);
  });
});

// ------------------------------------------------------------------------------------------------
// 2. Cross-account
// ------------------------------------------------------------------------------------------------

/**
 * The objects of one account the table points at, created by its owner:
 * a service ID with a key, a second key, a user, a group with the service ID
 * as member, a v1 and a v2 policy, a custom role, and the current entity tags.
 */
async function buildFixture(owner, accountId, label) {
  const s = { ...server, accountId };
  const tag = `${label}-${crypto.randomBytes(4).toString('hex')}`;
  const sid = await serviceIdWithKey(s, owner.auth, { name: `sid-${tag}`, description: `victim marker ${tag}` });
  remember('service ID key', sid.key);
  const key2 = await createApiKey(s, owner.auth, { iam_id: sid.sid.iam_id, name: `key-${tag}` });
  remember('service ID key', key2.apikey);
  const user = await createUser(server, owner.auth, accountId, { given_name: `Victim${label}` });
  remember('user password', user.password);
  remember('user access token', user.auth.token);
  const g = await api(server, 'POST', '/v2/groups', { ...owner.auth, query: { account_id: accountId }, json: { name: `grp-${tag}` } });
  assert.equal(g.status, 201, g.text);
  const m = await api(server, 'PUT', `/v2/groups/${g.body.id}/members`, { ...owner.auth, json: { members: [{ iam_id: sid.sid.iam_id, type: 'service' }] } });
  assert.equal(m.status, 207, m.text);
  const p1 = await createV1Policy(server, owner.auth, v1Policy({ iamId: sid.sid.iam_id, roles: ['Viewer'], description: `pol-${tag}`,
    resource: { accountId, serviceName: 'iam-identity' } }));
  const p2 = await createV2Policy(server, owner.auth, v2Policy({ groupId: g.body.id, roles: ['Viewer'], description: `pol2-${tag}`,
    resource: { accountId, serviceName: 'iam-groups' } }));
  const role = await api(server, 'POST', '/v2/roles', { ...owner.auth, json: {
    name: `R${crypto.randomBytes(4).toString('hex')}`, display_name: `role-${tag}`, actions: ['iam-identity.apikey.get'],
    account_id: accountId, service_name: 'iam-identity' } });
  assert.equal(role.status, 201, role.text);
  // A refresh token of the user, to try to revoke it from outside.
  const login = await passwordGrant(server, user.login, user.password);
  assert.equal(login.status, 200, login.text);
  rememberTokens(login.body, 'user');
  const fixture = {
    accountId, tag, owner, sid: sid.sid, key: sid.key, keyId: sid.keyId, key2, user, group: g.body.id,
    v1: p1, v2: p2, role: role.body, refreshToken: login.body.refresh_token, accessToken: login.body.access_token,
  };
  await refreshEtags(fixture);
  return fixture;
}

/** Current entity tags of the fixture's objects (the attacker gets the real ones: the gate must not rely on them). */
async function refreshEtags(f) {
  const etag = async (path) => {
    const res = await api(server, 'GET', path, f.owner.auth);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return res.headers.get('etag') ?? res.body?.entity_tag ?? '*';
  };
  f.etags = {
    sid: await etag(`/v1/serviceids/${f.sid.id}`),
    key: await etag(`/v1/apikeys/${f.keyId}`),
    user: await etag(`/v1/accounts/${f.accountId}/users/${f.user.iamId}`),
    group: await etag(`/v2/groups/${f.group}`),
    v1: await etag(`/v1/policies/${f.v1.id}`),
    v2: await etag(`/v2/policies/${f.v2.id}`),
    role: await etag(`/v2/roles/${f.role.id}`),
    settings: await etag(`/v1/accounts/${f.accountId}/settings/identity`),
    access: await etag(`/v1/accounts/${f.accountId}/settings/access_management`),
  };
}

/** Everything the owner of the fixture's account can read about it, for a before/after comparison. */
async function accountState(f) {
  const paths = [
    `/v1/accounts/${f.accountId}`,
    `/v1/serviceids/${f.sid.id}`,
    `/v1/apikeys/${f.keyId}`,
    `/v1/apikeys/${f.key2.id}`,
    `/v1/accounts/${f.accountId}/users/${f.user.iamId}`,
    `/v1/accounts/${f.accountId}/users/${f.owner.ownerIamId}`,
    `/v2/groups/${f.group}`,
    `/v2/groups/${f.group}/members`,
    `/v1/policies/${f.v1.id}`,
    `/v2/policies/${f.v2.id}`,
    `/v2/roles/${f.role.id}`,
    `/v1/accounts/${f.accountId}/settings/identity`,
    `/v1/accounts/${f.accountId}/settings/access_management`,
    `/v1/serviceids?account_id=${f.accountId}&pagesize=100`,
    `/v1/apikeys?account_id=${f.accountId}&iam_id=${f.sid.iam_id}&pagesize=100`,
    `/v1/accounts/${f.accountId}/users?pagesize=100`,
    `/v2/groups?account_id=${f.accountId}&limit=100`,
    `/v1/policies?account_id=${f.accountId}&limit=100`,
    `/v1/policies?account_id=${f.accountId}&limit=100&state=deleted`,
    `/v2/policies?account_id=${f.accountId}&limit=100`,
    `/v2/roles?account_id=${f.accountId}&service_name=iam-identity`,
  ];
  const state = {};
  for (const p of paths) {
    const res = await api(server, 'GET', p, f.owner.auth);
    assert.equal(res.status, 200, `${p}: ${res.status} ${res.text.slice(0, 300)}`);
    // Request-bound fields (trace ids, absolute links) are not state.
    state[p] = JSON.parse(res.text, (k, v) => (['trace', 'transaction_id', 'href', 'first', 'next', 'previous'].includes(k) ? undefined : v));
  }
  return state;
}

const aId = (f) => f.accountId;
const etagHeader = (name) => (f) => ({ 'If-Match': f.etags[name] });
const DECISION = (f) => ({
  subject: { attributes: { id: f.sid.iam_id } }, action: 'iam-identity.serviceid.get',
  resource: { attributes: { accountId: f.accountId, serviceName: 'iam-identity', resourceType: 'serviceid', resource: f.sid.id } },
});

/**
 * Every route that names an object or an account, aimed at the victim fixture `v`.
 * One line per route; `expect` defaults to 404. Documented answers other than 404
 * are given with their check: they must reveal nothing and change nothing either.
 * `own` (the attacker's own fixture) is there for references across accounts.
 * `operator`: the instance operator may legitimately do this (docs/api/accounts-users.md).
 */
// A list answer's items (links, which echo the query, left out) name nothing of the victim's.
const listed = (res) => JSON.stringify(res.body ?? {}, (k, x) => (['first', 'next', 'previous', 'href'].includes(k) ? undefined : x));
const NOT_LISTED = (v) => (res) => res.status !== 200 || (!listed(res).includes(v.tag) && !listed(res).includes(v.sid.id));
const WITHHELD = (res) => res.status === 200 && Array.isArray(res.body?.responses) &&
  res.body.responses.every((r) => r.status === '403' && r.authorizationDecision === undefined);
const CROSS_ACCOUNT_ROUTES = [
  // identity: service IDs
  { method: 'GET', path: (v) => `/v1/serviceids/${v.sid.id}` },
  { method: 'PUT', path: (v) => `/v1/serviceids/${v.sid.id}`, headers: etagHeader('sid'), json: () => ({ name: 'stolen', description: 'stolen' }) },
  { method: 'DELETE', path: (v) => `/v1/serviceids/${v.sid.id}` },
  { method: 'POST', path: (v) => `/v1/serviceids/${v.sid.id}/lock` },
  { method: 'DELETE', path: (v) => `/v1/serviceids/${v.sid.id}/lock` },
  { method: 'GET', path: (v) => `/v1/serviceids?account_id=${aId(v)}` },
  { method: 'POST', path: () => '/v1/serviceids', json: (v) => ({ account_id: aId(v), name: 'planted' }) },
  // identity: API keys
  { method: 'GET', path: (v) => `/v1/apikeys/${v.keyId}` },
  { method: 'PUT', path: (v) => `/v1/apikeys/${v.keyId}`, headers: etagHeader('key'), json: () => ({ name: 'stolen' }) },
  { method: 'DELETE', path: (v) => `/v1/apikeys/${v.key2.id}` },
  { method: 'POST', path: (v) => `/v1/apikeys/${v.keyId}/lock` },
  { method: 'DELETE', path: (v) => `/v1/apikeys/${v.keyId}/lock` },
  { method: 'POST', path: (v) => `/v1/apikeys/${v.keyId}/disable` },
  { method: 'DELETE', path: (v) => `/v1/apikeys/${v.keyId}/disable` },
  { method: 'GET', path: (v) => `/v1/apikeys?account_id=${aId(v)}` },
  { method: 'GET', path: (v) => `/v1/apikeys?account_id=${aId(v)}&iam_id=${v.sid.iam_id}` },
  { method: 'GET', path: (v, own) => `/v1/apikeys?account_id=${aId(own)}&iam_id=${v.sid.iam_id}`, expect: [200, 404], check: NOT_LISTED },
  { method: 'POST', path: () => '/v1/apikeys', json: (v) => ({ name: 'planted', iam_id: v.sid.iam_id }) },
  { method: 'POST', path: () => '/v1/apikeys', json: (v) => ({ name: 'planted', iam_id: v.user.iamId }) },
  { method: 'POST', path: () => '/v1/apikeys', json: (v) => ({ name: 'planted', iam_id: v.owner.ownerIamId, account_id: aId(v) }) },
  // identity: account settings
  { method: 'GET', path: (v) => `/v1/accounts/${aId(v)}/settings/identity` },
  { method: 'PUT', path: (v) => `/v1/accounts/${aId(v)}/settings/identity`, headers: etagHeader('settings'), json: () => ({ restrict_create_service_id: 'RESTRICTED' }) },
  { method: 'GET', path: (v) => `/v1/accounts/${aId(v)}/effective_settings/identity` },
  // accounts and users
  { method: 'GET', path: (v) => `/v1/accounts/${aId(v)}`, operator: 200 },
  { method: 'GET', path: () => '/v1/accounts', expect: 200, check: (v) => (res) => !res.text.includes(aId(v)), operator: 200, operatorCheck: () => () => true },
  { method: 'GET', path: (v) => `/v1/accounts/${aId(v)}/users` },
  { method: 'POST', path: (v) => `/v1/accounts/${aId(v)}/users`, json: () => ({ login: `planted${crypto.randomBytes(3).toString('hex')}`, email: 'p@example.com', given_name: 'P', family_name: 'Q', password: strongPassword() }) },
  { method: 'GET', path: (v) => `/v1/accounts/${aId(v)}/users/${v.user.iamId}` },
  { method: 'PATCH', path: (v) => `/v1/accounts/${aId(v)}/users/${v.user.iamId}`, headers: etagHeader('user'), json: () => ({ state: 'DISABLED' }) },
  { method: 'DELETE', path: (v) => `/v1/accounts/${aId(v)}/users/${v.user.iamId}` },
  { method: 'PUT', path: (v) => `/v1/accounts/${aId(v)}/users/${v.user.iamId}/password`, json: () => ({ password: 'Stolen-password-123' }) },
  { method: 'PUT', path: (v) => `/v1/accounts/${aId(v)}/users/${v.owner.ownerIamId}/password`, json: () => ({ password: 'Stolen-password-123' }) },
  // ... and the victim's user under the attacker's own account id
  { method: 'GET', path: (v, own) => `/v1/accounts/${aId(own)}/users/${v.user.iamId}` },
  { method: 'PATCH', path: (v, own) => `/v1/accounts/${aId(own)}/users/${v.user.iamId}`, headers: () => ({ 'If-Match': '*' }), json: () => ({ state: 'DISABLED' }) },
  { method: 'DELETE', path: (v, own) => `/v1/accounts/${aId(own)}/users/${v.user.iamId}` },
  { method: 'PUT', path: (v, own) => `/v1/accounts/${aId(own)}/users/${v.user.iamId}/password`, json: () => ({ password: 'Stolen-password-123' }) },
  // policies v1 and v2
  { method: 'GET', path: (v) => `/v1/policies/${v.v1.id}` },
  { method: 'PUT', path: (v) => `/v1/policies/${v.v1.id}`, headers: etagHeader('v1'), json: (v) => v1Policy({ iamId: v.sid.iam_id, roles: ['Administrator'], resource: { accountId: aId(v), serviceName: 'iam-identity' } }) },
  { method: 'PATCH', path: (v) => `/v1/policies/${v.v1.id}`, headers: etagHeader('v1'), json: () => ({ state: 'deleted' }) },
  { method: 'DELETE', path: (v) => `/v1/policies/${v.v1.id}` },
  { method: 'GET', path: (v) => `/v2/policies/${v.v2.id}` },
  { method: 'PUT', path: (v) => `/v2/policies/${v.v2.id}`, headers: etagHeader('v2'), json: (v) => v2Policy({ groupId: v.group, roles: ['Administrator'], resource: { accountId: aId(v), serviceName: 'iam-groups' } }) },
  { method: 'PATCH', path: (v) => `/v2/policies/${v.v2.id}`, headers: etagHeader('v2'), json: () => ({ state: 'deleted' }) },
  { method: 'DELETE', path: (v) => `/v2/policies/${v.v2.id}` },
  { method: 'GET', path: (v) => `/v1/policies/${v.v2.id}` },
  { method: 'DELETE', path: (v) => `/v1/policies/${v.v2.id}` },
  // lists answer an empty list for another account (docs/api/policies.md)
  { method: 'GET', path: (v) => `/v1/policies?account_id=${aId(v)}`, expect: 200, check: NOT_LISTED },
  { method: 'GET', path: (v) => `/v2/policies?account_id=${aId(v)}`, expect: 200, check: NOT_LISTED },
  { method: 'GET', path: (v) => `/v1/policies?account_id=${aId(v)}&iam_id=${v.sid.iam_id}&state=deleted`, expect: 200, check: NOT_LISTED },
  // creating in another account: 400 invalid_body, the same whether it exists or not (docs/api/policies.md)
  { method: 'POST', path: () => '/v1/policies', expect: 400, json: (v) => v1Policy({ iamId: v.sid.iam_id, roles: ['Administrator'], resource: { accountId: aId(v), serviceName: 'iam-identity' } }) },
  { method: 'POST', path: () => '/v2/policies', expect: 400, json: (v) => v2Policy({ iamId: v.sid.iam_id, roles: ['Administrator'], resource: { accountId: aId(v), serviceName: 'iam-identity' } }) },
  // a policy in the attacker's account whose subject is the victim's identity or group
  { method: 'POST', path: () => '/v1/policies', expect: [400, 404], json: (v, own) => v1Policy({ iamId: v.sid.iam_id, roles: ['Viewer'], resource: { accountId: aId(own), serviceName: 'iam-identity' } }) },
  { method: 'POST', path: () => '/v2/policies', expect: [400, 404], json: (v, own) => v2Policy({ groupId: v.group, roles: ['Viewer'], resource: { accountId: aId(own), serviceName: 'iam-identity' } }) },
  // custom roles
  { method: 'GET', path: (v) => `/v2/roles/${v.role.id}` },
  { method: 'PUT', path: (v) => `/v2/roles/${v.role.id}`, headers: etagHeader('role'), json: () => ({ display_name: 'stolen', actions: ['iam-identity.apikey.manage'] }) },
  { method: 'DELETE', path: (v) => `/v2/roles/${v.role.id}` },
  { method: 'POST', path: () => '/v2/roles', json: (v) => ({ name: 'Planted', display_name: 'planted', actions: ['iam-identity.apikey.get'], account_id: aId(v), service_name: 'iam-identity' }) },
  { method: 'GET', path: (v) => `/v2/roles?account_id=${aId(v)}&service_name=iam-identity`, expect: 200, check: (v) => (res) => Array.isArray(res.body?.custom_roles) && res.body.custom_roles.length === 0 && !res.text.includes(v.tag) },
  // access-management settings
  { method: 'GET', path: (v) => `/v1/accounts/${aId(v)}/settings/access_management` },
  { method: 'PATCH', path: (v) => `/v1/accounts/${aId(v)}/settings/access_management`, headers: etagHeader('access'), json: () => ({ external_account_identity_interaction: { identity_types: { user: { state: 'disabled' } } } }) },
  // access groups and members
  { method: 'GET', path: (v) => `/v2/groups/${v.group}` },
  { method: 'PATCH', path: (v) => `/v2/groups/${v.group}`, headers: etagHeader('group'), json: () => ({ name: 'stolen' }) },
  { method: 'DELETE', path: (v) => `/v2/groups/${v.group}?force=true` },
  { method: 'GET', path: (v) => `/v2/groups/${v.group}/members` },
  { method: 'PUT', path: (v) => `/v2/groups/${v.group}/members`, json: (v) => ({ members: [{ iam_id: v.user.iamId, type: 'user' }] }) },
  { method: 'HEAD', path: (v) => `/v2/groups/${v.group}/members/${v.sid.iam_id}` },
  { method: 'DELETE', path: (v) => `/v2/groups/${v.group}/members/${v.sid.iam_id}` },
  { method: 'POST', path: (v) => `/v2/groups/${v.group}/members/delete`, json: (v) => ({ members: [v.sid.iam_id] }) },
  { method: 'GET', path: (v) => `/v2/groups?account_id=${aId(v)}` },
  { method: 'POST', path: (v) => `/v2/groups?account_id=${aId(v)}`, json: () => ({ name: 'planted' }) },
  { method: 'DELETE', path: (v) => `/v2/groups/_allgroups/members/${v.sid.iam_id}?account_id=${aId(v)}` },
  { method: 'PUT', path: (v) => `/v2/groups/_allgroups/members/${v.user.iamId}?account_id=${aId(v)}`, json: (v) => ({ type: 'user', groups: [v.group] }) },
  // the victim's identity into the attacker's own group: refused per member, never added
  { method: 'PUT', path: (v, own) => `/v2/groups/${own.group}/members`, expect: [207, 400, 404],
    json: (v) => ({ members: [{ iam_id: v.sid.iam_id, type: 'service' }] }),
    check: (v) => (res) => res.status !== 207 || res.body?.members?.every((m) => m.status_code !== 200 && m.status_code !== 201) },
  // decisions (PDP wire format: per item "403 unauthorized", no decision) and explain
  { method: 'POST', path: () => '/v2/authz', expect: 200, json: (v) => [DECISION(v)], check: () => WITHHELD },
  { method: 'POST', path: () => '/v2/authz/roles', expect: 200, json: (v) => [{ subject: DECISION(v).subject, resource: DECISION(v).resource }], check: () => WITHHELD },
  { method: 'PUT', path: () => '/v2/authz/bulk', expect: [403, 404],
    json: (v) => ({ subject: DECISION(v).subject, action: 'iam-identity.serviceid.get', resources: { sharedAttributes: { accountId: aId(v), serviceName: 'iam-identity' }, uniqueAttributes: [{ resourceType: 'serviceid', resource: v.sid.id }] } }),
    check: () => (res) => !res.text.includes('Permit') },
  { method: 'POST', path: () => '/v2/authz/explain', json: DECISION },
  // tokens: another account's refresh token cannot be revoked, its access token not introspected
  { method: 'POST', path: () => '/identity/introspect', expect: [200, 401, 403, 404], form: (v) => ({ token: v.accessToken }),
    check: (v) => (res) => res.status !== 200 || (res.body?.active === false && !res.text.includes(v.user.iamId)) },
  { method: 'POST', path: () => '/identity/revoke', expect: [200, 400, 401, 403, 404], form: (v) => ({ token: v.refreshToken, token_type_hint: 'refresh_token' }) },
];

describe('cross-account: every route on another account\'s objects is 404 and changes nothing', () => {
  let operator; // the instance operator (bootstrap owner): creates accounts, reads them, nothing more
  let ownerA; // owner of account A
  let adminSidA; // a service ID of A with Administrator on every built-in service of A
  let fixtureA;
  let victim; // account B's fixture
  let before_;

  before(async () => {
    operator = { name: 'instance operator (bootstrap owner)', auth: admin, operator: true };
    const a = await createAccount(server, admin);
    const b = await createAccount(server, admin);
    for (const acc of [a, b]) {
      remember('account owner password', acc.password);
      remember('account owner access token', acc.auth.token);
    }
    fixtureA = await buildFixture(a, a.accountId, 'A');
    victim = await buildFixture(b, b.accountId, 'B');
    ownerA = { name: 'owner of account A', auth: a.auth };
    const sA = { ...server, accountId: a.accountId };
    const sid = await sidWithToken(sA, a.auth);
    remember('service ID key', sid.key);
    for (const serviceName of ['iam-identity', 'iam-access-management', 'iam-groups', 'user-management']) {
      await grant(sA, a.auth, { iamId: sid.iamId, roles: ['Administrator'], resource: { serviceName } });
    }
    adminSidA = { name: 'service ID of A with Administrator on every IAM service of A', auth: sid.auth };
    before_ = await accountState(victim);
  });

  test('positive control: the attackers of A may read the same kinds of objects in A', async () => {
    const failures = [];
    for (const who of [ownerA, adminSidA]) {
      for (const route of CROSS_ACCOUNT_ROUTES.filter((r) => r.method === 'GET' || r.method === 'HEAD')) {
        const path = route.path(fixtureA, victim); // aimed at A's own objects
        if (path.includes(victim.accountId)) continue; // rows pointing at the victim on purpose
        const res = await attempt(route.method, path, who.auth);
        if (res.status !== 200 && res.status !== 204) failures.push(`${who.name}: ${route.method} ${path}: ${res.status} ${String(res.text).slice(0, 200)}`);
      }
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  test('each route answers 404 (or its documented non-revealing answer) to each attacker', async () => {
    const failures = [];
    for (const who of [operator, ownerA, adminSidA]) {
      for (const route of CROSS_ACCOUNT_ROUTES) {
        const own = who.operator ? { ...fixtureA, accountId: server.accountId } : fixtureA;
        const path = route.path(victim, own);
        const opts = { ...who.auth, headers: route.headers?.(victim) ?? {} };
        if (route.json) opts.json = route.json(victim, own);
        let res;
        if (route.form) {
          const bearer = who.auth.token;
          res = await postForm(server, route.form(victim), { path, headers: { Authorization: `Bearer ${bearer}` } });
        } else {
          res = await attempt(route.method, path, opts);
        }
        const expect = [].concat(who.operator && route.operator !== undefined ? route.operator : route.expect ?? 404);
        const check = who.operator && route.operatorCheck ? route.operatorCheck : route.check;
        const label = `${who.name}: ${route.method} ${path.replaceAll(victim.accountId, '<B>').replaceAll(fixtureA.accountId, '<A>')}`;
        if (!expect.includes(res.status)) failures.push(`${label}: ${res.status} (expected ${expect.join(' or ')}) ${String(res.text).slice(0, 200)}`);
        else if (check && !check(victim)(res)) failures.push(`${label}: ${res.status} but the answer reveals or does something: ${String(res.text).slice(0, 300)}`);
        else if (res.status === 404 && res.text && (res.text.includes(victim.tag) || res.text.includes(`Victim`))) failures.push(`${label}: the 404 carries the object's data`);
      }
    }
    assert.deepEqual(failures, [], `cross-account answers:\n${failures.join('\n')}`);
  });

  test("the victim account is unchanged, and its owner, user, keys and refresh token still work", async () => {
    const after_ = await accountState(victim);
    for (const key of Object.keys(before_)) assert.deepEqual(after_[key], before_[key], `changed: ${key}`);
    assert.equal((await tokenRequest(server.url, victim.key)).status, 200, "the victim's key still exchanges");
    assert.equal((await tokenRequest(server.url, victim.key2.apikey)).status, 200, "the victim's second key still exchanges");
    assert.equal((await passwordGrant(server, victim.user.login, victim.user.password)).status, 200, "the victim's user still signs in");
    const refreshed = await postForm(server, { grant_type: 'refresh_token', refresh_token: victim.refreshToken });
    assert.equal(refreshed.status, 200, `the victim's refresh token was not revoked: ${refreshed.text}`);
    rememberTokens(refreshed.body, 'refreshed user');
  });
});

// ------------------------------------------------------------------------------------------------
// 3. Privilege escalation
// ------------------------------------------------------------------------------------------------

describe('privilege escalation: low-privileged identities cannot raise their access', () => {
  let viewer; // Viewer on iam-identity, user-management and iam-access-management; Operator on iam-groups
  let editor; // Editor on iam-identity
  let groupsAdmin; // Administrator on iam-groups only
  let rolesAdmin; // Administrator on iam-access-management only
  let target; // a service ID created by the owner, that nobody above created
  let adminGroup; // a group holding Administrator on iam-identity

  const denied = (res, what) => assert.equal(res.status, 403, `${what}: expected 403, got ${res.status} ${res.text.slice(0, 300)}`);
  const policiesOf = async (iamId) => (await listPolicyIds(server, admin, { query: { iam_id: iamId } })).items
    .map((p) => `${p.roles.map((r) => r.role_id).sort().join('+')}@${JSON.stringify(p.resources)}`).sort();
  const mayDeleteTarget = async (who) => (await api(server, 'POST', '/v2/authz/explain', {
    ...admin, json: { subject: { attributes: { id: who.iamId } }, action: 'iam-identity.serviceid.delete',
      resource: { attributes: { accountId: server.accountId, serviceName: 'iam-identity', resourceType: 'serviceid', resource: target.id } } },
  })).body?.permitted;

  before(async () => {
    viewer = await sidWithRoles({ 'iam-identity': ['Viewer'], 'user-management': ['Viewer'], 'iam-access-management': ['Viewer'], 'iam-groups': ['Operator'] });
    editor = await sidWithRoles({ 'iam-identity': ['Editor'] });
    groupsAdmin = await sidWithRoles({ 'iam-groups': ['Administrator'] });
    rolesAdmin = await sidWithRoles({ 'iam-access-management': ['Administrator'] });
    target = await createServiceId(server, admin);
    const g = await api(server, 'POST', '/v2/groups', { ...admin, query: { account_id: server.accountId }, json: { name: uniqueName('admins') } });
    assert.equal(g.status, 201, g.text);
    adminGroup = g.body.id;
    await grant(server, admin, { groupId: adminGroup, roles: ['Administrator'], resource: { serviceName: 'iam-identity' } });
    assert.equal(await mayDeleteTarget(viewer), false, 'the viewer starts without delete');
  });

  test('a Viewer cannot grant itself Administrator (v1 and v2 create), nor grant it to its own new service ID', async () => {
    const mine = await policiesOf(viewer.iamId);
    const resource = { accountId: server.accountId, serviceName: 'iam-identity' };
    denied(await api(server, 'POST', '/v1/policies', { ...viewer.auth, json: v1Policy({ iamId: viewer.iamId, roles: ['Administrator'], resource }) }), 'v1 create');
    denied(await api(server, 'POST', '/v2/policies', { ...viewer.auth, json: v2Policy({ iamId: viewer.iamId, roles: ['Administrator'], resource }) }), 'v2 create');
    denied(await api(server, 'POST', '/v1/policies', { ...viewer.auth, json: v1Policy({ iamId: viewer.iamId, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } }) }), 'v1 create of a lesser role on another service');
    // Creating a service ID is open to everyone (IBM 6.2) and makes the creator its administrator,
    // but gives no right to write policies for it.
    const created = await createServiceId(server, viewer.auth);
    denied(await api(server, 'POST', '/v1/policies', { ...viewer.auth, json: v1Policy({ iamId: created.iam_id, roles: ['Administrator'], resource }) }), 'policy for its own new service ID');
    assert.deepEqual(await policiesOf(viewer.iamId), mine, 'no policy was added');
    assert.deepEqual(await policiesOf(created.iam_id), [], 'none for the new service ID either');
    assert.equal(await mayDeleteTarget(viewer), false);
  });

  test('a Viewer cannot raise its own policy to Administrator (v1 PUT, v2 PUT)', async () => {
    const { items } = await listPolicyIds(server, admin, { query: { iam_id: viewer.iamId } });
    const p = items.find((x) => JSON.stringify(x.resources).includes('iam-identity'));
    assert.ok(p, 'the viewer has its Viewer policy');
    const v1 = await api(server, 'GET', `/v1/policies/${p.id}`, admin);
    const v2 = await api(server, 'GET', `/v2/policies/${p.id}`, admin);
    const resource = { accountId: server.accountId, serviceName: 'iam-identity' };
    denied(await api(server, 'PUT', `/v1/policies/${p.id}`, { ...viewer.auth, headers: { 'If-Match': v1.headers.get('etag') },
      json: v1Policy({ iamId: viewer.iamId, roles: ['Administrator'], resource }) }), 'v1 PUT');
    denied(await api(server, 'PUT', `/v2/policies/${p.id}`, { ...viewer.auth, headers: { 'If-Match': v2.headers.get('etag') },
      json: v2Policy({ iamId: viewer.iamId, roles: ['Administrator'], resource }) }), 'v2 PUT');
    const after1 = await api(server, 'GET', `/v1/policies/${p.id}`, admin);
    assert.deepEqual(after1.body.roles.map((r) => r.role_id), [ROLE.Viewer], 'still Viewer');
    assert.equal(after1.headers.get('etag'), v1.headers.get('etag'), 'unchanged');
    assert.equal(await mayDeleteTarget(viewer), false);
  });

  test('an Administrator of iam-groups grants on iam-groups only: not on iam-identity, not account-wide, not by moving its policy', async () => {
    const other = await createServiceId(server, admin);
    // Positive control: it may grant on its own service.
    const ok = await api(server, 'POST', '/v1/policies', { ...groupsAdmin.auth,
      json: v1Policy({ iamId: other.iam_id, roles: ['Viewer'], resource: { accountId: server.accountId, serviceName: 'iam-groups' } }) });
    assert.equal(ok.status, 201, `grant on iam-groups: ${ok.text}`);
    const mine = await policiesOf(groupsAdmin.iamId);
    denied(await api(server, 'POST', '/v1/policies', { ...groupsAdmin.auth,
      json: v1Policy({ iamId: groupsAdmin.iamId, roles: ['Administrator'], resource: { accountId: server.accountId, serviceName: 'iam-identity' } }) }), 'grant on iam-identity');
    denied(await api(server, 'POST', '/v1/policies', { ...groupsAdmin.auth,
      json: v1Policy({ iamId: groupsAdmin.iamId, roles: ['Administrator'], resource: { accountId: server.accountId, serviceType: 'platform_service' } }) }), 'grant on every platform service');
    denied(await api(server, 'POST', '/v2/policies', { ...groupsAdmin.auth,
      json: v2Policy({ groupId: 'AccessGroupId-PublicAccess', roles: ['Administrator'], resource: { accountId: server.accountId, serviceName: 'iam-identity' } }) }), 'grant on iam-identity to Public Access');
    const moved = await api(server, 'GET', `/v1/policies/${ok.body.id}`, admin);
    denied(await api(server, 'PUT', `/v1/policies/${ok.body.id}`, { ...groupsAdmin.auth, headers: { 'If-Match': moved.headers.get('etag') },
      json: v1Policy({ iamId: other.iam_id, roles: ['Administrator'], resource: { accountId: server.accountId, serviceName: 'iam-identity' } }) }), 'move a policy from iam-groups to iam-identity');
    assert.deepEqual(await policiesOf(groupsAdmin.iamId), mine, 'no policy was added');
    assert.deepEqual((await api(server, 'GET', `/v1/policies/${ok.body.id}`, admin)).body.resources, moved.body.resources, 'the policy did not move');
  });

  test('a Viewer/Operator of iam-groups cannot join a group that holds more access', async () => {
    const member = () => api(server, 'HEAD', `/v2/groups/${adminGroup}/members/${viewer.iamId}`, admin);
    denied(await api(server, 'PUT', `/v2/groups/${adminGroup}/members`, { ...viewer.auth, json: { members: [{ iam_id: viewer.iamId, type: 'service' }] } }), 'PUT members');
    const all = await api(server, 'PUT', `/v2/groups/_allgroups/members/${viewer.iamId}`, { ...viewer.auth,
      query: { account_id: server.accountId }, json: { type: 'service', groups: [adminGroup] } });
    assert.ok([207, 403].includes(all.status), `_allgroups PUT: ${all.status} ${all.text}`);
    if (all.status === 207) assert.ok(!/"status_code":\s*20[01]/.test(all.text), `_allgroups PUT added a membership: ${all.text}`);
    denied(await api(server, 'PATCH', `/v2/groups/${adminGroup}`, { ...viewer.auth, headers: { 'If-Match': '*' }, json: { name: uniqueName('mine') } }), 'rename the group');
    assert.equal((await member()).status, 404, 'not a member');
    assert.equal(await mayDeleteTarget(viewer), false, 'no access gained');
  });

  test('Viewer and Editor cannot create a key for a service ID they have no access to; Editor cannot delete it', async () => {
    const keysOf = async (iamId) => (await api(server, 'GET', '/v1/apikeys', { ...admin, query: { account_id: server.accountId, iam_id: iamId, pagesize: 100 } })).body.apikeys.length;
    const before_ = await keysOf(target.iam_id);
    for (const [name, who] of [['Viewer', viewer], ['Editor', editor]]) {
      denied(await api(server, 'POST', '/v1/apikeys', { ...who.auth, json: { name: uniqueName('stolen'), iam_id: target.iam_id } }), `${name}: key for the target`);
      denied(await api(server, 'POST', '/v1/apikeys', { ...who.auth, json: { name: uniqueName('stolen'), iam_id: server.iamId } }), `${name}: key for the owner`);
    }
    denied(await api(server, 'DELETE', `/v1/serviceids/${target.id}`, editor.auth), 'Editor: delete the target');
    denied(await api(server, 'POST', `/v1/serviceids/${target.id}/lock`, viewer.auth), 'Viewer: lock the target');
    assert.equal(await keysOf(target.iam_id), before_, 'no key was created');
    assert.equal((await api(server, 'GET', `/v1/serviceids/${target.id}`, admin)).status, 200, 'still there');
  });

  test('a Viewer cannot change the account settings (identity and access management)', async () => {
    const settingsPath = `/v1/accounts/${server.accountId}/settings/identity`;
    const accessPath = `/v1/accounts/${server.accountId}/settings/access_management`;
    const s = await api(server, 'GET', settingsPath, admin);
    const a = await api(server, 'GET', accessPath, admin);
    denied(await api(server, 'PUT', settingsPath, { ...viewer.auth, headers: { 'If-Match': s.headers.get('etag') ?? '*' }, json: { restrict_create_service_id: 'RESTRICTED' } }), 'identity settings');
    denied(await api(server, 'PATCH', accessPath, { ...viewer.auth, headers: { 'If-Match': a.headers.get('etag') ?? '*' },
      json: { external_account_identity_interaction: { identity_types: { user: { state: 'disabled' } } } } }), 'access settings');
    denied(await api(server, 'PATCH', accessPath, { ...editor.auth, headers: { 'If-Match': a.headers.get('etag') ?? '*' },
      json: { external_account_identity_interaction: { identity_types: { user: { state: 'disabled' } } } } }), 'access settings (Editor of iam-identity)');
    assert.deepEqual((await api(server, 'GET', settingsPath, admin)).body, s.body, 'identity settings unchanged');
    assert.deepEqual((await api(server, 'GET', accessPath, admin)).body, a.body, 'access settings unchanged');
  });

  test('custom roles: a Viewer cannot create one; a role Administrator can define one but not grant it where it has no access', async () => {
    const role = (name) => ({ name, display_name: name, actions: ['iam-identity.apikey.manage', 'iam-identity.serviceid.delete'], account_id: server.accountId, service_name: 'iam-identity' });
    denied(await api(server, 'POST', '/v2/roles', { ...viewer.auth, json: role(`Esc${crypto.randomBytes(3).toString('hex')}`) }), 'Viewer creates a role');
    const created = await api(server, 'POST', '/v2/roles', { ...rolesAdmin.auth, json: role(`Esc${crypto.randomBytes(3).toString('hex')}`) });
    assert.equal(created.status, 201, `rolesAdmin defines a role: ${created.text}`);
    const mine = await policiesOf(rolesAdmin.iamId);
    denied(await api(server, 'POST', '/v1/policies', { ...rolesAdmin.auth,
      json: v1Policy({ iamId: rolesAdmin.iamId, roles: [created.body.crn], resource: { accountId: server.accountId, serviceName: 'iam-identity' } }) }), 'grant the new role to itself');
    const etag = created.headers.get('etag');
    const widen = await api(server, 'PUT', `/v2/roles/${created.body.id}`, { ...viewer.auth, headers: { 'If-Match': etag }, json: { display_name: 'x', actions: ['iam-identity.apikey.manage'] } });
    denied(widen, 'Viewer changes the role');
    assert.deepEqual(await policiesOf(rolesAdmin.iamId), mine);
  });

  test('a user with Viewer on user-management cannot enable itself, reset another password, or create accounts', async () => {
    const u = await createUser(server, admin);
    const other = await createUser(server, admin);
    for (const x of [u, other]) { remember('user password', x.password); remember('user access token', x.auth.token); }
    await grant(server, admin, { iamId: u.iamId, roles: ['Viewer'], resource: { serviceName: 'user-management' } });
    const self = await api(server, 'GET', `/v1/accounts/${server.accountId}/users/${u.iamId}`, u.auth);
    assert.equal(self.status, 200, self.text);
    denied(await api(server, 'PATCH', `/v1/accounts/${server.accountId}/users/${u.iamId}`, { ...u.auth, headers: { 'If-Match': self.headers.get('etag') }, json: { state: 'DISABLED' } }), 'own state');
    denied(await api(server, 'PUT', `/v1/accounts/${server.accountId}/users/${other.iamId}/password`, { ...u.auth, json: { password: strongPassword() } }), "another user's password");
    denied(await api(server, 'PUT', `/v1/accounts/${server.accountId}/users/${server.iamId}/password`, { ...u.auth, json: { password: strongPassword() } }), "the owner's password");
    const acct = await api(server, 'POST', '/v1/accounts', { ...u.auth, json: { name: 'mine', owner: { login: `esc${crypto.randomBytes(3).toString('hex')}`, email: 'e@example.com', password: strongPassword() } } });
    denied(acct, 'create an account');
    assert.equal((await passwordGrant(server, other.login, other.password)).status, 200, "the other user's password is unchanged");
  });
});

describe('refresh tokens of password sign-ins', () => {
  const refresh = (token) => postForm(server, { grant_type: 'refresh_token', refresh_token: token });

  test('work; end when the password changes or the user is disabled; key sessions are not tied to the password', async () => {
    const u = await createUser(server, admin);
    remember('user password', u.password);
    const first = await passwordGrant(server, u.login, u.password);
    assert.equal(first.status, 200, first.text);
    rememberTokens(first.body, 'password grant');
    const second = await refresh(first.body.refresh_token);
    assert.equal(second.status, 200, `refresh of a password session: ${second.text}`);
    rememberTokens(second.body, 'refresh grant');
    assert.equal(decodeJwt(second.body.access_token).payload.iam_id, u.iamId);
    assert.equal((await refresh(second.body.refresh_token)).status, 200, 'the refreshed refresh token works too');
    const key = await createApiKey(server, u.auth, { iam_id: u.iamId, name: uniqueName('ukey') });
    remember('user API key', key.apikey);
    const keySession = rememberTokens(await getToken(server.url, key.apikey), 'user key');

    const newPassword = remember('new user password', strongPassword());
    const changed = await api(server, 'PUT', `/v1/accounts/${server.accountId}/users/${u.iamId}/password`, {
      ...u.auth, json: { password: newPassword, current_password: u.password },
    });
    assert.equal(changed.status, 200, changed.text);
    for (const t of [first.body.refresh_token, second.body.refresh_token]) {
      const res = await refresh(t);
      assert.equal(res.status, 400, `a refresh token of the old password still works: ${res.text}`);
      assert.equal(res.body?.errorCode, 'BXNIM0407E', res.text);
    }
    assert.equal((await refresh(keySession.refresh_token)).status, 200, 'an API-key session survives a password change');
    const again = await passwordGrant(server, u.login, newPassword);
    assert.equal(again.status, 200, again.text);
    rememberTokens(again.body, 'password grant');
    assert.equal((await refresh(again.body.refresh_token)).status, 200, 'the new password session refreshes');

    const cur = await api(server, 'GET', `/v1/accounts/${server.accountId}/users/${u.iamId}`, admin);
    const disabled = await api(server, 'PATCH', `/v1/accounts/${server.accountId}/users/${u.iamId}`, {
      ...admin, headers: { 'If-Match': cur.headers.get('etag') }, json: { state: 'DISABLED' },
    });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal((await refresh(again.body.refresh_token)).status, 400, 'a disabled user cannot refresh');
    assert.equal((await refresh(keySession.refresh_token)).status, 400, 'nor through a key session');
  });
});

// ------------------------------------------------------------------------------------------------
// 4. Timing of the token endpoint
// ------------------------------------------------------------------------------------------------

describe('timing: the token endpoint does not tell unknown, malformed and wrong keys apart', () => {
  const ROUNDS = 300;
  const WARMUP = 20;
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

  test(`median times of ${ROUNDS} interleaved samples each differ by at most max(20%, 2 ms)`, { timeout: 240_000 }, async (t) => {
    // Real key ids to pair with wrong secrets, spread over several keys and client
    // addresses so that per-key or per-address failure limits do not kick in.
    const real = [];
    for (let i = 0; i < 10; i++) {
      const k = await serviceIdWithKey(server, admin);
      remember('service ID key', k.key);
      real.push(k.keyId);
    }
    const classes = {
      'unknown key id': () => apikeyValue(),
      'wrong checksum': () => apikeyValue({ badChecksum: true }),
      'real key id, wrong secret': (i) => apikeyValue({ keyId: real[i % real.length] }),
    };
    const samples = Object.fromEntries(Object.keys(classes).map((k) => [k, []]));
    const statuses = new Map();
    let n = 0;
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const order = Object.keys(classes).sort(() => Math.random() - 0.5);
      for (const name of order) {
        const value = classes[name](round);
        const localAddress = `127.0.0.${2 + (n++ % 250)}`;
        const t0 = process.hrtime.bigint();
        const res = await postFormFrom(server, { grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: value }, localAddress);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const key = `${name}: ${res.status} ${res.body?.errorCode}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (round >= WARMUP) samples[name].push(ms);
      }
    }
    // The same answer for all three (nothing to tell them apart by either), and no rate limit on the way.
    for (const [key, count] of statuses) t.diagnostic(`${key} x${count}`);
    for (const key of statuses.keys()) assert.match(key, /: 400 BXNIM0415E$/, `every class answers 400 BXNIM0415E (a 429 means the rate limit needs raising for this test): ${[...statuses.keys()]}`);
    const medians = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
    for (const [k, m] of Object.entries(medians)) t.diagnostic(`median ${k}: ${m.toFixed(3)} ms`);
    const values = Object.values(medians);
    const spread = Math.max(...values) - Math.min(...values);
    const bound = Math.max(0.2 * Math.min(...values), 2);
    t.diagnostic(`spread ${spread.toFixed(3)} ms, bound ${bound.toFixed(3)} ms`);
    assert.ok(spread <= bound, `medians ${JSON.stringify(medians)} differ by ${spread.toFixed(3)} ms > ${bound.toFixed(3)} ms`);
  });
});

// ------------------------------------------------------------------------------------------------
// 5. Secrets absent from logs, audit records and read responses (last: it scans what came before)
// ------------------------------------------------------------------------------------------------

describe('secrets never appear in logs, audit records or read responses', () => {
  let flow; // the values and the responses of the flow below

  before(async () => {
    // A flow that touches every kind of secret: service ID and user keys, their exchange,
    // client credentials, Basic apikey auth, IAM-ApiKey, passwords (good and bad), password
    // change, refresh, introspection, revocation, console sessions.
    const s = await serviceIdWithKey(server, admin);
    remember('service ID key', s.key);
    const extra = await createApiKey(server, admin, { iam_id: s.sid.iam_id, name: uniqueName('flowkey') });
    remember('service ID key', extra.apikey);
    const user = await createUser(server, admin);
    remember('user password', user.password);
    remember('user access token', user.auth.token);
    const userKey = await createApiKey(server, user.auth, { iam_id: user.iamId, name: uniqueName('userkey') });
    remember('user API key', userKey.apikey);
    rememberTokens(await getToken(server.url, s.key), 'service ID');
    rememberTokens(await getToken(server.url, userKey.apikey), 'user key');
    const cc = await postForm(server, { grant_type: 'client_credentials', client_id: s.sid.id, client_secret: extra.apikey });
    assert.equal(cc.status, 200, `client_credentials: ${cc.text}`);
    rememberTokens(cc.body, 'client credentials');
    const pw = await passwordGrant(server, user.login, user.password);
    assert.equal(pw.status, 200, pw.text);
    rememberTokens(pw.body, 'password grant');
    const refreshed = await postForm(server, { grant_type: 'refresh_token', refresh_token: pw.body.refresh_token });
    assert.equal(refreshed.status, 200, `refresh: ${refreshed.text}`);
    rememberTokens(refreshed.body, 'refresh grant');
    // Wrong secrets are secrets too (often a real one mistyped).
    const wrongPassword = remember('wrong password', `${user.password}x`);
    const wrongKey = remember('wrong API key', `${s.key.slice(0, -8)}${'A'.repeat(8)}`);
    const unknownKey = remember('unknown API key', apikeyValue());
    for (const v of [wrongKey, unknownKey]) assert.equal((await tokenRequest(server.url, v)).status, 400);
    const badLogin = await passwordGrant(server, user.login, wrongPassword);
    assert.equal(badLogin.status, 400, badLogin.text);
    assert.ok(!badLogin.text.includes(wrongPassword), 'the error does not echo the password');
    const badBasic = await api(server, 'GET', `/v1/serviceids/${s.sid.id}`, { apikey: wrongKey });
    assert.equal(badBasic.status, 401);
    const badBearer = await api(server, 'GET', `/v1/serviceids/${s.sid.id}`, { token: `${refreshed.body.access_token}x` });
    assert.equal(badBearer.status, 401);
    // Password change by the user (current password given).
    const newPassword = remember('new user password', strongPassword());
    const changed = await api(server, 'PUT', `/v1/accounts/${server.accountId}/users/${user.iamId}/password`, {
      ...user.auth, json: { password: newPassword, current_password: user.password },
    });
    assert.equal(changed.status, 200, `password change: ${changed.text}`);
    // Keys as credentials: Basic apikey:<key> and the IAM-ApiKey header.
    assert.equal((await api(server, 'GET', `/v1/serviceids/${s.sid.id}`, { apikey: server.apikey })).status, 200);
    const details = await api(server, 'GET', '/v1/apikeys/details', { ...admin, headers: { 'IAM-ApiKey': extra.apikey } });
    assert.equal(details.status, 200, `details: ${details.text}`);
    // Introspection and revocation carry tokens in the body.
    const intro = await postForm(server, { token: refreshed.body.access_token }, { path: '/identity/introspect', headers: { Authorization: apikeyBasic(server.apikey) } });
    assert.equal(intro.status, 200, intro.text);
    const revoke = await postForm(server, { token: refreshed.body.refresh_token, token_type_hint: 'refresh_token' }, { path: '/identity/revoke', headers: { Authorization: apikeyBasic(server.apikey) } });
    assert.equal(revoke.status, 200, `revoke: ${revoke.text}`);
    // Console sessions: sign in with the new password and with an API key, call the API with the cookie.
    const sessions = [];
    for (const credentials of [{ login: user.login, password: newPassword }, { apikey: userKey.apikey }]) {
      const res = await api(server, 'POST', '/console/api/session', { json: credentials, headers: { Origin: server.url } });
      assert.equal(res.status, 200, `console sign-in: ${res.text}`);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('iamd_session='))?.split(';')[0].split('=')[1];
      assert.ok(cookie, 'session cookie');
      remember('session cookie', cookie);
      remember('CSRF token', res.body.csrf_token);
      sessions.push({ cookie, csrf: res.body.csrf_token });
      const call = await api(server, 'GET', `/v1/accounts/${server.accountId}/users/${user.iamId}`, { headers: { Cookie: `iamd_session=${cookie}` } });
      assert.equal(call.status, 200, `API call with the cookie: ${call.text}`);
    }
    const out = await api(server, 'DELETE', '/console/api/session', {
      headers: { Cookie: `iamd_session=${sessions[0].cookie}`, 'X-CSRF-Token': sessions[0].csrf, Origin: server.url },
    });
    assert.ok([200, 204].includes(out.status), `sign out: ${out.status} ${out.text}`);
    flow = { s, extra, user, userKey, details };
  });

  test('read responses never carry a key value or a password', async () => {
    const reads = [
      await api(server, 'GET', `/v1/apikeys/${flow.extra.id}`, admin),
      await api(server, 'GET', '/v1/apikeys', { ...admin, query: { account_id: server.accountId, iam_id: flow.s.sid.iam_id } }),
      await api(server, 'GET', '/v1/apikeys', { ...admin, query: { account_id: server.accountId, iam_id: flow.user.iamId } }),
      await api(server, 'GET', `/v1/serviceids/${flow.s.sid.id}`, admin),
      await api(server, 'GET', `/v1/accounts/${server.accountId}/users/${flow.user.iamId}`, admin),
      await api(server, 'GET', `/v1/accounts/${server.accountId}/users`, { ...admin, query: { pagesize: 100 } }),
      flow.details,
    ];
    const leaks = [];
    for (const res of reads) {
      assert.equal(res.status, 200, res.text.slice(0, 300));
      for (const { kind, value } of secrets) {
        if (!kind.includes('token') && !kind.includes('cookie') && res.text.includes(value)) leaks.push(`${kind} in a read response: ${res.text.slice(0, 200)}`);
      }
    }
    assert.deepEqual(leaks, []);
  });

  test('no secret in the server log (stdout and stderr, --log-level debug); the bootstrap key only in its one banner', async () => {
    const log = `${server.stdout()}\n${server.stderr()}`;
    assert.ok(log.includes('"http_request"'), 'the access log is being captured');
    assert.ok(secrets.length > 40, `the suite collected its secrets (${secrets.length})`);
    const leaks = [];
    for (const { kind, value } of secrets) {
      const needles = [value];
      if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)) needles.push(value.split('.')[2]); // a JWT's signature
      const key = /^[a-z0-9]{1,16}_([0-9A-Za-z]{22})([0-9A-Za-z]{43})[0-9A-Za-z]{6}$/.exec(value);
      if (key) needles.push(key[2]); // the secret part of a key value (the key id part may be logged)
      for (const needle of needles) {
        if (log.includes(needle)) {
          const at = log.indexOf(needle);
          leaks.push(`${kind} found in the log: …${log.slice(Math.max(0, at - 120), at).replaceAll(needle, '<SECRET>')}<SECRET>…`);
          break;
        }
      }
    }
    assert.deepEqual(leaks, [], leaks.join('\n'));
    // The bootstrap key: printed exactly once, on first start, on a line of its own (the
    // banner), never inside a log line.
    const key = server.apikey;
    assert.equal(log.split(key).length - 1, 1, 'the bootstrap key appears once (the first-start banner)');
    const bannerLine = log.split('\n').find((l) => l.includes(key));
    assert.equal(bannerLine.trim(), key, `the banner line holds the key alone, not a log line: ${bannerLine.replace(key, '<KEY>')}`);
  });

  test('no secret in the audit records (GET /v1/audit/events)', async (t) => {
    const probe = await api(server, 'GET', '/v1/audit/events', { ...admin, query: { account_id: server.accountId } });
    if (probe.status === 404 && !probe.text.includes('account')) {
      t.skip('GET /v1/audit/events does not exist yet (audit trail not merged)');
      return;
    }
    assert.equal(probe.status, 200, `GET /v1/audit/events: ${probe.status} ${probe.text.slice(0, 300)}`);
    // Every page: follow any `next` link the endpoint offers.
    let text = probe.text;
    let next = probe.body?.next?.href ?? probe.body?.next;
    for (let page = 0; next && page < 200; page++) {
      const res = await api(server, 'GET', typeof next === 'string' ? next : String(next), admin);
      assert.equal(res.status, 200, res.text.slice(0, 300));
      text += res.text;
      next = res.body?.next?.href ?? res.body?.next;
    }
    assert.ok(text.length > 100, 'the audit trail has records');
    const leaks = secrets.filter(({ value }) => text.includes(value)).map(({ kind }) => kind);
    assert.ok(!text.includes(server.apikey), 'no bootstrap key in the audit records');
    assert.deepEqual(leaks, [], `secrets in audit records: ${leaks.join(', ')}`);
  });
});
