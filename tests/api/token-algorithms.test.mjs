// token-algorithms.test.mjs: --token-alg ES256 and EdDSA issue tokens that verify against the
// published JWKS with the configured algorithm only; the key type in the JWKS follows the setting.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startServer } from './lib/server.mjs';

for (const [alg, kty, crv] of [['ES256', 'EC', 'P-256'], ['EdDSA', 'OKP', 'Ed25519']]) {
  describe(`--token-alg ${alg}`, () => {
    let server;
    after(async () => server && server.stop());

    test(`tokens are ${alg}, verify with the JWKS, and RS256 is refused`, async () => {
      server = await startServer({ args: ['--token-alg', alg] });
      const res = await fetch(`${server.url}/identity/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: server.apikey }),
      });
      assert.equal(res.status, 200);
      const body = await res.json();
      const header = decodeProtectedHeader(body.access_token);
      assert.equal(header.alg, alg);
      const jwks = await (await fetch(`${server.url}/identity/keys`)).json();
      assert.ok(jwks.keys.length >= 2, 'active and next key published');
      for (const key of jwks.keys) {
        assert.equal(key.kty, kty);
        assert.equal(key.crv, crv);
        assert.equal(key.alg, alg);
        assert.equal(key.d, undefined, 'no private part published');
      }
      const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), {
        algorithms: [alg], issuer: `${server.url}/identity`,
      });
      assert.equal(payload.iam_id, server.iamId);
      assert.equal(body.expiration, payload.exp);
      await assert.rejects(jwtVerify(body.access_token, createLocalJWKSet(jwks), { algorithms: ['RS256'] }));
      // The token works on /v1 (the owner may read the account settings).
      const settings = await fetch(`${server.url}/v1/accounts/${server.accountId}/settings/identity`, {
        headers: { Authorization: `Bearer ${body.access_token}` },
      });
      assert.equal(settings.status, 200);
    });
  });
}

test('--token-alg with an unknown algorithm refuses to start', async () => {
  await assert.rejects(startServer({ args: ['--token-alg', 'HS256'] }));
});
