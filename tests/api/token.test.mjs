// Token endpoint, JWKS, OIDC discovery, client_credentials, refresh,
// introspection, revocation, and hand-built attack tokens against /v1.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';

import {
  APIKEY_GRANT, BXNIM_RE, KEY_VALUE_RE, SERVICE_ID_RE, UUID_RE,
  api, apikeyBasic, assertIbmError, assertTokenError, basicAuth, b64urlJson, createApiKey,
  createServiceId, decodeJwt, getToken, postForm, serviceIdWithKey, tokenRequest, uniqueName,
} from './lib/http.mjs';
import { algNoneVariants, foreignKeys, hs256ConfusionVariants, signRs256, tamper, tamperHeader } from './lib/jwt.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

let server;
let admin;        // {token: <user access token>}
let userToken;    // full token response for the bootstrap key
let svc;          // {sid, key, keyId}
let jwks;

before(async () => {
  server = await startServer();
  assert.ok(server.apikey, 'bootstrap-apikey.json has no apikey');
  userToken = await getToken(server.url, server.apikey);
  admin = { token: userToken.access_token };
  svc = await serviceIdWithKey(server, admin);
  const res = await api(server, 'GET', '/identity/keys');
  assert.equal(res.status, 200, `GET /identity/keys: ${res.status} ${res.text}`);
  jwks = res.body;
});

after(async () => {
  await stopAndCheck(server);
});

// A /v1 call that any valid token may make; used as the target of the attack tokens.
const probe = (auth) => api(server, 'GET', `/v1/serviceids/${svc.sid.id}`, auth);

function assertTokenResponseShape(res, label) {
  assert.equal(res.status, 200, `${label}: ${res.status} ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${label}: content-type`);
  const b = res.body;
  assert.equal(typeof b.access_token, 'string');
  const parts = b.access_token.split('.');
  assert.equal(parts.length, 3, 'compact JWS has three segments');
  for (const p of parts) {
    assert.match(p, /^[A-Za-z0-9_-]+$/, 'segments are unpadded base64url');
  }
  assert.equal(typeof b.refresh_token, 'string', 'refresh_token is a string');
  assert.equal(b.token_type, 'Bearer');
  assert.equal(b.expires_in, 3600);
  assert.equal(b.scope, 'ibm openid');
  const { header, payload } = decodeJwt(b.access_token);
  assert.equal(header.alg, 'RS256');
  assert.equal(typeof header.kid, 'string');
  assert.ok(header.kid.length > 0);
  assert.equal(b.expiration, payload.exp, 'expiration == JWT exp');
  assert.equal(b.expires_in, payload.exp - payload.iat, 'expires_in == exp - iat');
  return { header, payload };
}

function assertCommonClaims(payload) {
  const now = Math.floor(Date.now() / 1000);
  assert.equal(payload.id, payload.iam_id, 'id == iam_id');
  assert.equal(payload.account?.bss, server.accountId, 'account.bss');
  assert.equal(payload.account?.valid, true, 'account.valid');
  assert.equal(payload.iss, `${server.url}/identity`, 'iss');
  assert.equal(payload.scope, 'ibm openid');
  assert.equal(payload.client_id, 'default');
  assert.equal(payload.acr, 1);
  assert.deepEqual(payload.amr, ['pwd']);
  assert.match(payload.jti, UUID_RE, 'jti is a uuid');
  assert.ok(Number.isInteger(payload.iat) && Math.abs(payload.iat - now) <= 60, `iat ${payload.iat} vs now ${now}`);
  assert.equal(payload.exp - payload.iat, 3600);
  assert.equal(typeof payload.identifier, 'string');
  assert.ok(payload.identifier.length > 0, 'identifier');
  assert.equal(typeof payload.sub, 'string');
  assert.ok(payload.sub.length > 0, 'sub');
}

describe('apikey grant (IBM flow)', () => {
  test('user key: IamAuthenticator form with Basic bx:bx gives the IBM token response', async () => {
    const res = await tokenRequest(server.url, server.apikey, { response_type: 'cloud_iam' },
      { Authorization: basicAuth('bx', 'bx') });
    const { payload } = assertTokenResponseShape(res, 'token');
    assertCommonClaims(payload);
    assert.equal(payload.iam_id, server.iamId);
    assert.equal(payload.realmid, 'IBMid');
    assert.equal(payload.sub_type, 'IBMid');
    assert.equal(payload.grant_type, APIKEY_GRANT);
  });

  test('form parameters in any order, without response_type, without Basic', async () => {
    const body = `response_type=cloud_iam&apikey=${encodeURIComponent(server.apikey)}&grant_type=${encodeURIComponent(APIKEY_GRANT)}`;
    const res = await api(server, 'POST', '/identity/token', { body, contentType: 'application/x-www-form-urlencoded' });
    assertTokenResponseShape(res, 'reordered form');
    const res2 = await tokenRequest(server.url, server.apikey);
    assertTokenResponseShape(res2, 'no response_type');
  });

  test('service ID key: claims per section 9.4, refresh_token "not_supported"', async () => {
    const res = await tokenRequest(server.url, svc.key, { response_type: 'cloud_iam' });
    const { payload } = assertTokenResponseShape(res, 'service ID token');
    assertCommonClaims(payload);
    assert.equal(payload.iam_id, `iam-${svc.sid.id}`);
    assert.equal(payload.realmid, 'iam');
    assert.equal(payload.sub, svc.sid.id);
    assert.equal(payload.identifier, svc.sid.id);
    assert.equal(payload.sub_type, 'ServiceId');
    assert.equal(payload.grant_type, APIKEY_GRANT);
    if (payload.name !== undefined) assert.equal(payload.name, svc.sid.name);
    assert.equal(res.body.refresh_token, 'not_supported');
  });

  test('every token has a fresh jti', async () => {
    const a = decodeJwt((await getToken(server.url, svc.key)).access_token).payload;
    const b = decodeJwt((await getToken(server.url, svc.key)).access_token).payload;
    assert.notEqual(a.jti, b.jti);
  });

  test('POST /oidc/token is an alias of /identity/token', async () => {
    const res = await postForm(server, { grant_type: APIKEY_GRANT, apikey: svc.key, response_type: 'cloud_iam' },
      { path: '/oidc/token', headers: { Authorization: basicAuth('bx', 'bx') } });
    const { payload } = assertTokenResponseShape(res, '/oidc/token');
    assert.equal(payload.iam_id, `iam-${svc.sid.id}`);
    const set = createLocalJWKSet(jwks);
    await jwtVerify(res.body.access_token, set, { algorithms: ['RS256'], issuer: `${server.url}/identity` });
  });

  test('a token works on /v1 (positive control for the 401 tests)', async () => {
    const res = await probe(admin);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.id, svc.sid.id);
  });
});

describe('JWKS and OIDC discovery', () => {
  test('GET /identity/keys is an RS256 JWKS', () => {
    assert.ok(Array.isArray(jwks.keys) && jwks.keys.length >= 1, JSON.stringify(jwks));
    for (const k of jwks.keys) {
      assert.equal(k.kty, 'RSA');
      assert.equal(k.e, 'AQAB');
      assert.equal(k.alg, 'RS256');
      assert.equal(k.use, 'sig');
      assert.equal(typeof k.kid, 'string');
      assert.match(k.n, /^[A-Za-z0-9_-]+$/, 'n is unpadded base64url');
      assert.ok(Buffer.from(k.n, 'base64url').length >= 256, 'modulus is at least 2048 bits');
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
        assert.equal(k[priv], undefined, `JWKS must not publish private member ${priv}`);
      }
    }
    const kids = jwks.keys.map((k) => k.kid);
    assert.equal(new Set(kids).size, kids.length, 'kids are unique');
    const { header } = decodeJwt(admin.token);
    assert.ok(kids.includes(header.kid), `token kid ${header.kid} is published`);
  });

  test('user and service ID tokens verify with jose against the JWKS', async () => {
    const set = createLocalJWKSet(jwks);
    const issuer = `${server.url}/identity`;
    const u = await jwtVerify(admin.token, set, { algorithms: ['RS256'], issuer });
    assert.equal(u.payload.iam_id, server.iamId);
    assert.equal(u.protectedHeader.alg, 'RS256');
    const s = await jwtVerify((await getToken(server.url, svc.key)).access_token, set, { algorithms: ['RS256'], issuer });
    assert.equal(s.payload.iam_id, `iam-${svc.sid.id}`);
  });

  test('GET /identity/.well-known/openid-configuration', async () => {
    const res = await api(server, 'GET', '/identity/.well-known/openid-configuration');
    assert.equal(res.status, 200, res.text);
    const d = res.body;
    const issuer = `${server.url}/identity`;
    assert.equal(d.issuer, issuer);
    for (const field of ['token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint']) {
      assert.equal(typeof d[field], 'string', field);
      const u = new URL(d[field]); // absolute, as OIDC discovery requires
      assert.equal(u.origin, server.url, `${field} points at this server`);
    }
    assert.ok(Array.isArray(d.grant_types_supported));
    for (const g of [APIKEY_GRANT, 'refresh_token', 'client_credentials']) {
      assert.ok(d.grant_types_supported.includes(g), `grant_types_supported has ${g}`);
    }
    assert.ok(Array.isArray(d.id_token_signing_alg_values_supported));
    assert.ok(d.id_token_signing_alg_values_supported.includes('RS256'));

    const keys = await api(server, 'GET', new URL(d.jwks_uri).pathname);
    assert.equal(keys.status, 200);
    assert.deepEqual(keys.body.keys.map((k) => k.kid).sort(), jwks.keys.map((k) => k.kid).sort());
    const tok = await postForm(server, { grant_type: APIKEY_GRANT, apikey: svc.key }, { path: new URL(d.token_endpoint).pathname });
    assert.equal(tok.status, 200, `token_endpoint works: ${tok.text}`);
  });
});

describe('token endpoint errors', () => {
  test('unknown, well-formed key -> 400 BXNIM0415E with IBM context and RFC 6749 fields', async () => {
    const bogus = 'iamd_' + crypto.randomBytes(64).toString('base64').replace(/[^0-9A-Za-z]/g, '').padEnd(71, 'a').slice(0, 71);
    const res = await tokenRequest(server.url, bogus, { response_type: 'cloud_iam' });
    assertTokenError(res, 400, { errorCode: 'BXNIM0415E' });
  });

  test('garbage key, key with a corrupted checksum, a key one character off -> 400 BXNIM0415E', async () => {
    const last = svc.key.at(-1);
    const flippedLast = svc.key.slice(0, -1) + (last === 'a' ? 'b' : 'a');
    const mid = 30; // inside the secret
    const flippedSecret = svc.key.slice(0, mid) + (svc.key[mid] === 'Z' ? 'Y' : 'Z') + svc.key.slice(mid + 1);
    for (const value of ['abc', 'x'.repeat(200), flippedLast, flippedSecret, svc.key + 'a', svc.key.slice(0, -1)]) {
      const res = await tokenRequest(server.url, value);
      assertTokenError(res, 400, { errorCode: 'BXNIM0415E' });
    }
  });

  test('missing apikey -> 400 invalid_request', async () => {
    const res = await postForm(server, { grant_type: APIKEY_GRANT });
    assertTokenError(res, 400, { error: 'invalid_request' });
    const empty = await postForm(server, { grant_type: APIKEY_GRANT, apikey: '' });
    assertTokenError(empty, 400);
  });

  test('missing grant_type -> 400 invalid_request', async () => {
    const res = await postForm(server, { apikey: svc.key });
    assertTokenError(res, 400, { error: 'invalid_request' });
  });

  test('unsupported grant_type -> 400 unsupported_grant_type', async () => {
    for (const grant of ['authorization_code', 'urn:ibm:params:oauth:grant-type:assume', 'implicit', 'bogus']) {
      const res = await postForm(server, { grant_type: grant, apikey: svc.key, username: 'u', password: 'p' });
      assertTokenError(res, 400, { error: 'unsupported_grant_type' });
    }
  });

  test('a JSON body is not a form -> 400, no token', async () => {
    const res = await api(server, 'POST', '/identity/token', { json: { grant_type: APIKEY_GRANT, apikey: svc.key } });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body?.access_token, undefined);
  });

  test('GET /identity/token is not a token request', async () => {
    const res = await api(server, 'GET', `/identity/token?grant_type=${encodeURIComponent(APIKEY_GRANT)}&apikey=${svc.key}`);
    assert.ok(res.status >= 400 && res.status < 500, `GET gave ${res.status}`);
    assert.equal(res.body?.access_token, undefined);
  });

  test('disabled key -> 4xx with errorCode; enabled again -> works', async () => {
    const { key, keyId } = await serviceIdWithKey(server, admin);
    assert.equal((await api(server, 'POST', `/v1/apikeys/${keyId}/disable`, admin)).status, 204);
    const res = await tokenRequest(server.url, key);
    assertTokenError(res, [400, 401, 403]);
    assert.equal((await api(server, 'DELETE', `/v1/apikeys/${keyId}/disable`, admin)).status, 204);
    assert.equal((await tokenRequest(server.url, key)).status, 200);
  });

  test('a key created with a past expires_at is refused on create or never gets a token', async () => {
    const sid = await createServiceId(server, admin);
    const res = await api(server, 'POST', '/v1/apikeys', { ...admin, json: { name: uniqueName('expired'), iam_id: sid.iam_id, expires_at: '2020-01-02T18:30+0000' } });
    if (res.status === 201) {
      assertTokenError(await tokenRequest(server.url, res.body.apikey), [400, 401, 403]);
    } else {
      assertIbmError(res, 400, 'past expires_at on create');
    }
    // expiry.test.mjs waits for a real expiry.
  });

  test('deleted key -> 400 BXNIM0415E', async () => {
    const sid = await createServiceId(server, admin);
    const k = await createApiKey(server, admin, { iam_id: sid.iam_id });
    assert.equal((await tokenRequest(server.url, k.apikey)).status, 200);
    assert.equal((await api(server, 'DELETE', `/v1/apikeys/${k.id}`, admin)).status, 204);
    assertTokenError(await tokenRequest(server.url, k.apikey), 400, { errorCode: 'BXNIM0415E' });
  });

  test('key of a deleted service ID -> 400 BXNIM0415E', async () => {
    const { sid, key } = await serviceIdWithKey(server, admin);
    assert.equal((await tokenRequest(server.url, key)).status, 200);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${sid.id}`, admin)).status, 204);
    assertTokenError(await tokenRequest(server.url, key), 400, { errorCode: 'BXNIM0415E' });
  });
});

describe('client_credentials grant', () => {
  test('client_id = service ID id, client_secret = its key (form) -> access token', async () => {
    const res = await postForm(server, { grant_type: 'client_credentials', client_id: svc.sid.id, client_secret: svc.key });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.token_type, 'Bearer');
    const { payload } = decodeJwt(res.body.access_token);
    assert.equal(payload.iam_id, `iam-${svc.sid.id}`);
    assert.equal(payload.sub, svc.sid.id);
    await jwtVerify(res.body.access_token, createLocalJWKSet(jwks), { algorithms: ['RS256'], issuer: `${server.url}/identity` });
    // It authenticates on /v1 (a service ID without policies is then refused with 403, not 401).
    const use = await probe({ token: res.body.access_token });
    assert.equal(use.status, 403, `client_credentials token on /v1: ${use.text}`);
  });

  test('client credentials in HTTP Basic -> access token', async () => {
    const res = await postForm(server, { grant_type: 'client_credentials' },
      { headers: { Authorization: basicAuth(svc.sid.id, svc.key) } });
    assert.equal(res.status, 200, res.text);
    assert.equal(decodeJwt(res.body.access_token).payload.iam_id, `iam-${svc.sid.id}`);
  });

  test('wrong secret, unknown client, key of another service ID -> 401 invalid_client', async () => {
    const other = await serviceIdWithKey(server, admin);
    const cases = [
      { name: 'wrong secret', client_id: svc.sid.id, client_secret: 'iamd_' + 'A'.repeat(71) },
      { name: 'unknown client', client_id: `ServiceId-${crypto.randomUUID()}`, client_secret: svc.key },
      { name: "another service ID's key", client_id: svc.sid.id, client_secret: other.key },
      { name: 'user key as secret', client_id: svc.sid.id, client_secret: server.apikey },
    ];
    for (const c of cases) {
      const res = await postForm(server, { grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret });
      assert.equal(res.status, 401, `${c.name}: ${res.status} ${res.text}`);
      assert.equal(res.body?.error, 'invalid_client', `${c.name}: ${res.text}`);
      assert.equal(res.body?.access_token, undefined);
    }
    const basic = await postForm(server, { grant_type: 'client_credentials' },
      { headers: { Authorization: basicAuth(svc.sid.id, 'iamd_' + 'B'.repeat(71)) } });
    assert.equal(basic.status, 401, `Basic wrong secret: ${basic.text}`);
    assert.equal(basic.body?.error, 'invalid_client');
  });
});

describe('refresh_token grant', () => {
  test("a user token's refresh_token gives a new access token for the same identity", async () => {
    const first = await getToken(server.url, server.apikey);
    assert.notEqual(first.refresh_token, 'not_supported');
    assert.ok(first.refresh_token.length >= 16, 'refresh token looks like a secret');
    const res = await postForm(server, { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      { headers: { Authorization: basicAuth('bx', 'bx') } });
    assert.equal(res.status, 200, res.text);
    assertTokenResponseShape(res, 'refresh');
    const a = decodeJwt(first.access_token).payload;
    const b = decodeJwt(res.body.access_token).payload;
    assert.equal(b.iam_id, a.iam_id);
    assert.equal(b.account.bss, a.account.bss);
    assert.notEqual(b.jti, a.jti);
    assert.equal((await probe({ token: res.body.access_token })).status, 200);
  });

  test('"not_supported", garbage and missing refresh tokens -> 400 invalid_grant / invalid_request', async () => {
    for (const rt of ['not_supported', 'garbage', crypto.randomBytes(32).toString('base64url')]) {
      const res = await postForm(server, { grant_type: 'refresh_token', refresh_token: rt });
      assertTokenError(res, 400, { error: 'invalid_grant' });
    }
    const missing = await postForm(server, { grant_type: 'refresh_token' });
    assertTokenError(missing, 400, { error: 'invalid_request' });
  });

  test('an access token is not a refresh token', async () => {
    const res = await postForm(server, { grant_type: 'refresh_token', refresh_token: admin.token });
    assertTokenError(res, 400, { error: 'invalid_grant' });
  });
});

describe('introspection (RFC 7662)', () => {
  const introspect = (token, headers) => postForm(server, { token }, { path: '/identity/introspect', headers });

  test('active token with Basic apikey:<key> caller', async () => {
    const tok = await getToken(server.url, svc.key);
    const claims = decodeJwt(tok.access_token).payload;
    const res = await introspect(tok.access_token, { Authorization: apikeyBasic(server.apikey) });
    assert.equal(res.status, 200, res.text);
    const b = res.body;
    assert.equal(b.active, true);
    assert.equal(b.sub, claims.sub);
    assert.equal(b.iam_id, claims.iam_id);
    assert.equal(b.exp, claims.exp);
    assert.equal(b.iat, claims.iat);
    assert.equal(b.iss, claims.iss);
    assert.equal(b.client_id, 'default');
    assert.equal(b.scope, 'ibm openid');
    assert.equal(typeof b.token_type, 'string');
  });

  test('active token with Bearer caller', async () => {
    const res = await introspect(admin.token, { Authorization: `Bearer ${admin.token}` });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.active, true);
    assert.equal(res.body.iam_id, server.iamId);
  });

  test('garbage, tampered, forged and foreign tokens -> {active:false}', async () => {
    const auth = { Authorization: apikeyBasic(server.apikey) };
    const { header, payload } = decodeJwt(admin.token);
    const bad = {
      garbage: 'not-a-token',
      empty3: '..',
      tampered: tamper(admin.token, (p) => { p.iam_id = `iam-${svc.sid.id}`; }),
      'exp edited': tamper(admin.token, (p) => { p.exp += 3600; }),
      'alg none': algNoneVariants(admin.token)[0].token,
      'HS256 with public key': hs256ConfusionVariants(admin.token, jwks.keys[0])[0].token,
      'foreign key, same kid': signRs256(header, payload),
    };
    for (const [name, token] of Object.entries(bad)) {
      const res = await introspect(token, auth);
      assert.equal(res.status, 200, `${name}: ${res.status} ${res.text}`);
      assert.equal(res.body.active, false, `${name}: ${res.text}`);
      assert.equal(res.body.iam_id, undefined, `${name}: inactive response leaks claims`);
    }
  });

  test('unauthenticated or wrongly authenticated caller -> 401', async () => {
    const none = await introspect(admin.token, {});
    assert.equal(none.status, 401, none.text);
    assert.notEqual(none.body?.active, true);
    const wrong = await introspect(admin.token, { Authorization: apikeyBasic('iamd_' + 'C'.repeat(71)) });
    assert.equal(wrong.status, 401, wrong.text);
    assert.notEqual(wrong.body?.active, true);
  });

  test('missing token parameter -> 400', async () => {
    const res = await postForm(server, {}, { path: '/identity/introspect', headers: { Authorization: apikeyBasic(server.apikey) } });
    assert.equal(res.status, 400, res.text);
  });
});

describe('revocation (RFC 7009)', () => {
  test('a revoked refresh token no longer works; others still do', async () => {
    const one = await getToken(server.url, server.apikey);
    const two = await getToken(server.url, server.apikey);
    const res = await postForm(server, { token: one.refresh_token },
      { path: '/identity/revoke', headers: { Authorization: apikeyBasic(server.apikey) } });
    assert.equal(res.status, 200, res.text);
    const again = await postForm(server, { grant_type: 'refresh_token', refresh_token: one.refresh_token });
    assertTokenError(again, 400, { error: 'invalid_grant' });
    const other = await postForm(server, { grant_type: 'refresh_token', refresh_token: two.refresh_token });
    assert.equal(other.status, 200, `an unrelated refresh token must survive: ${other.text}`);
  });

  test('revoking an unknown token is not an error (RFC 7009 2.2)', async () => {
    const res = await postForm(server, { token: 'no-such-token' },
      { path: '/identity/revoke', headers: { Authorization: apikeyBasic(server.apikey) } });
    assert.equal(res.status, 200, res.text);
  });
});

describe('attack tokens on /v1 -> 401 with the IBM error body', () => {
  const expect401 = async (name, auth) => {
    const res = await probe(auth);
    assertIbmError(res, 401, name);
    assert.equal(res.body.id, undefined, `${name}: no resource data in a 401`);
  };

  test('no Authorization header', () => expect401('none', {}));

  test('malformed Authorization values', async () => {
    const cases = {
      'Bearer (empty)': 'Bearer ',
      'Bearer garbage': 'Bearer garbage',
      'Bearer a.b.c': 'Bearer a.b.c',
      'Bearer with padded segments': `Bearer ${admin.token.split('.').map((p) => p + '==').join('.')}`,
      'Bearer with 4 segments': `Bearer ${admin.token}.AAAA`,
      'Bearer with 2 segments': `Bearer ${admin.token.split('.').slice(0, 2).join('.')}`,
      'token without scheme': admin.token,
      'Basic garbage': 'Basic !!!',
      'Basic apikey:<unknown key>': apikeyBasic('iamd_' + 'D'.repeat(71)),
      'Basic apikey:<empty>': apikeyBasic(''),
      'Digest scheme': `Digest ${admin.token}`,
    };
    for (const [name, auth] of Object.entries(cases)) await expect401(name, { auth });
  });

  test('alg none', async () => {
    for (const v of algNoneVariants(admin.token)) await expect401(v.name, { token: v.token });
  });

  test('HS256 signed with the JWKS public key material', async () => {
    const kid = decodeJwt(admin.token).header.kid;
    const jwk = jwks.keys.find((k) => k.kid === kid) ?? jwks.keys[0];
    for (const v of hs256ConfusionVariants(admin.token, jwk)) await expect401(v.name, { token: v.token });
  });

  test('tampered payload (signature kept)', async () => {
    const edits = {
      'iam_id changed to the service ID': (p) => { p.iam_id = `iam-${svc.sid.id}`; p.id = p.iam_id; },
      'account changed': (p) => { p.account.bss = crypto.randomBytes(16).toString('hex'); },
      'one claim added': (p) => { p.admin = true; },
    };
    for (const [name, edit] of Object.entries(edits)) await expect401(name, { token: tamper(admin.token, edit) });
  });

  test('expired: exp edited into the past (signature no longer matches)', async () => {
    await expect401('exp in the past', { token: tamper(admin.token, (p) => { p.exp = p.iat - 10; }) });
    await expect401('exp far in the future', { token: tamper(admin.token, (p) => { p.exp = p.exp + 86400 * 365; }) });
  });

  test('header edits: unknown kid, crit, embedded jwk', async () => {
    await expect401('unknown kid', { token: tamperHeader(admin.token, (h) => { h.kid = 'no-such-kid'; }) });
    await expect401('no kid', { token: tamperHeader(admin.token, (h) => { delete h.kid; }) });
    await expect401('unknown crit', { token: tamperHeader(admin.token, (h) => { h.crit = ['x-unknown']; h['x-unknown'] = 1; }) });
  });

  test('signed by a foreign RSA key: foreign kid, our kid, embedded jwk, wrong iss', async () => {
    const { header, payload } = decodeJwt(admin.token);
    const foreignJwk = foreignKeys().publicKey.export({ format: 'jwk' });
    const now = Math.floor(Date.now() / 1000);
    const cases = {
      'foreign kid': signRs256({ alg: 'RS256', kid: 'foreign-kid' }, payload),
      'our kid, foreign signature': signRs256(header, payload),
      'embedded jwk header': signRs256({ alg: 'RS256', kid: 'attacker', jwk: { ...foreignJwk, kid: 'attacker' } }, payload),
      'jku header': signRs256({ alg: 'RS256', kid: 'attacker', jku: 'http://127.0.0.1:1/keys' }, payload),
      'wrong iss': signRs256({ alg: 'RS256', kid: 'foreign-kid' }, { ...payload, iss: 'https://iam.cloud.ibm.com/identity' }),
      'wrong iss, our kid': signRs256(header, { ...payload, iss: 'http://evil.example/identity', iat: now, exp: now + 3600 }),
    };
    for (const [name, token] of Object.entries(cases)) await expect401(name, { token });
  });

  test("a token from another iamd instance (own keys, own issuer) -> 401", async () => {
    const other = await startServer();
    try {
      const tok = await getToken(other.url, other.apikey);
      await expect401('foreign server token', { token: tok.access_token });
      const intro = await postForm(server, { token: tok.access_token },
        { path: '/identity/introspect', headers: { Authorization: apikeyBasic(server.apikey) } });
      assert.equal(intro.status, 200, intro.text);
      assert.equal(intro.body.active, false, 'a foreign token is not active here');
      // And the other server's key is unknown here.
      assertTokenError(await tokenRequest(server.url, other.apikey), 400, { errorCode: 'BXNIM0415E' });
    } finally {
      await stopAndCheck(other);
    }
  });

  test('an oversized bearer token is rejected, not crashed on', async () => {
    const huge = admin.token + 'A'.repeat(6000);
    let status;
    try {
      status = (await probe({ token: huge })).status;
    } catch (err) {
      status = `connection error (${err.cause?.code ?? err.message})`; // closing the connection is a refusal too
    }
    assert.ok(![200, 500].includes(status) && !(status >= 500), `oversized token gave ${status}`);
    assert.equal((await probe(admin)).status, 200, 'server still serves');
  });

  test('a token of a deleted service ID no longer authenticates on /v1', async () => {
    const { sid, key } = await serviceIdWithKey(server, admin);
    const tok = (await getToken(server.url, key)).access_token;
    // Authenticated (403: no policy), not refused as a credential (401).
    assert.equal((await api(server, 'GET', `/v1/serviceids/${sid.id}`, { token: tok })).status, 403);
    assert.equal((await api(server, 'DELETE', `/v1/serviceids/${sid.id}`, admin)).status, 204);
    assertIbmError(await api(server, 'GET', `/v1/apikeys?account_id=${server.accountId}&iam_id=${sid.iam_id}`, { token: tok }), 401, 'deleted identity');
  });
});
