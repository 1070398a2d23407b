// Limits on failed API-key authentications (issue 7), against an iamd started
// with --failed-auth-per-address 5 --failed-auth-per-key 3 (window 300 s).
// Clients come from distinct loopback addresses (127.0.0.x as the socket's
// source address), since the server counts per client address.
//
// The rules under test, as docs/operations.md states them:
//   - an address with 5 failures in the window is refused (429, Retry-After)
//     before any work, whatever key it brings, the right one included, on the
//     token endpoint and on HTTP Basic apikey alike; other addresses are not;
//   - a key id with more than 3 failures gets 429 for WRONG values only; its
//     right value keeps working from any address that is not itself over the
//     address limit (no lockout of a key's owner by guessing at it);
//   - successes do not count; X-Forwarded-For is not trusted.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { APIKEY_GRANT, KEY_VALUE_RE, apikeyBasic, getToken, serviceIdWithKey } from './lib/http.mjs';
import { postFormFrom, requestFrom } from './lib/access.mjs';
import { unknownValue, withChecksum, wrongValueOf } from './lib/keyformat.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

const PER_ADDRESS = 5;
const PER_KEY = 3;
const WINDOW = 300;

let server;
let admin;

before(async () => {
  server = await startServer({
    args: ['--failed-auth-per-address', String(PER_ADDRESS), '--failed-auth-per-key', String(PER_KEY),
      '--failed-auth-window', String(WINDOW)],
  });
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
});

after(async () => {
  await stopAndCheck(server);
});

/** POST /identity/token with the apikey grant from `from`. */
const token = (from, apikey, headers = {}) => postFormFrom(server, { grant_type: APIKEY_GRANT, apikey }, from, headers);

function assertTokenError(res, status, errorCode, label) {
  assert.equal(res.status, status, `${label}: ${res.status} ${res.text.slice(0, 300)}`);
  assert.equal(res.body?.errorCode, errorCode, `${label}: ${res.text.slice(0, 300)}`);
  assert.equal(res.body?.access_token, undefined, label);
}

/** 429 with IBM's token error, `too_many_requests`, and a Retry-After within the window. */
function assertRefused(res, label) {
  assertTokenError(res, 429, 'BXNIM0431E', label);
  assert.equal(res.body.error, 'too_many_requests', label);
  assert.match(res.body.errorMessage, /Try again in \d+ seconds/, label);
  assertRetryAfter(res, label);
}

function assertRetryAfter(res, label) {
  const retry = res.headers.get('retry-after');
  assert.match(String(retry), /^\d+$/, `${label}: Retry-After ${retry}`);
  assert.ok(Number(retry) >= 1 && Number(retry) <= WINDOW, `${label}: Retry-After ${retry} outside 1..${WINDOW}`);
}

describe('failed API key authentications', () => {
  let svc;

  before(async () => {
    svc = await serviceIdWithKey(server, admin);
    // The helper's format matches the server's: a real key's checksum is what it computes.
    assert.match(svc.key, KEY_VALUE_RE);
    assert.equal(withChecksum(svc.key.slice(0, -6)), svc.key, 'the test builds checksums the way iamd does');
  });

  test('the right key works from a clean address', async () => {
    const res = await token('127.0.0.9', svc.key);
    assert.equal(res.status, 200, res.text);
  });

  test('an address with too many failures gets 429 and Retry-After, for any key', async () => {
    const from = '127.0.0.2';
    for (let i = 0; i < PER_ADDRESS; i++) assertTokenError(await token(from, unknownValue()), 400, 'BXNIM0415E', `failure ${i + 1}`);
    assertRefused(await token(from, unknownValue()), 'one failure too many');
    // Refused before the work: the right key from this address too ...
    assertRefused(await token(from, svc.key), 'the right key from the refused address');
    // ... on the APIs' HTTP Basic apikey authentication as well (IBM's error body there).
    const basic = await requestFrom(server, from, 'GET', `/v1/serviceids/${svc.sid.id}`, {
      headers: { Authorization: apikeyBasic(svc.key), Accept: 'application/json' },
    });
    assert.equal(basic.status, 429, basic.text);
    assert.equal(basic.body?.errors?.[0]?.code, 'too_many_requests', basic.text);
    assert.equal(basic.body?.errors?.[0]?.message_code, 'BXNIM0431E', basic.text);
    assert.equal(Number(basic.body?.status_code), 429, basic.text);
    assertRetryAfter(basic, 'Basic apikey');
    // A token the address already holds is not an API key: it still works.
    const bearer = await requestFrom(server, from, 'GET', `/v1/serviceids/${svc.sid.id}`, {
      headers: { Authorization: `Bearer ${admin.token}`, Accept: 'application/json' },
    });
    assert.equal(bearer.status, 200, bearer.text);
    // Another address is not concerned.
    assert.equal((await token('127.0.0.3', svc.key)).status, 200);
  });

  test("a flood of wrong values for one key id from many addresses never locks out the key's right value", async () => {
    const target = await serviceIdWithKey(server, admin);
    const attackers = ['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'];
    for (const [i, from] of attackers.entries()) {
      const res = await token(from, wrongValueOf(target.key));
      if (i < PER_KEY) assertTokenError(res, 400, 'BXNIM0415E', `wrong value ${i + 1} from ${from}`);
      else assertRefused(res, `wrong value ${i + 1} from ${from}`);
    }
    // The right value: from an address that failed once, from a fresh one, and as client_credentials.
    assert.equal((await token('127.0.0.10', target.key)).status, 200, 'right value from a failing address');
    assert.equal((await token('127.0.0.20', target.key)).status, 200, 'right value from a fresh address');
    const credentials = { grant_type: 'client_credentials', client_id: target.sid.id, client_secret: target.key };
    const cc = await postFormFrom(server, credentials, '127.0.0.21');
    assert.equal(cc.status, 200, cc.text);
    // The key id stays over its limit for wrong values, from anywhere ...
    assertRefused(await token('127.0.0.20', wrongValueOf(target.key)), 'another wrong value');
    // ... while other key ids are not concerned.
    assertTokenError(await token('127.0.0.20', wrongValueOf(svc.key)), 400, 'BXNIM0415E', 'another key id');
  });

  test('successes do not count', async () => {
    const from = '127.0.0.30';
    for (let i = 0; i < PER_ADDRESS - 1; i++) assertTokenError(await token(from, unknownValue()), 400, 'BXNIM0415E', `failure ${i + 1}`);
    for (let i = 0; i < 2 * PER_ADDRESS; i++) assert.equal((await token(from, svc.key)).status, 200, `success ${i + 1}`);
    assertTokenError(await token(from, unknownValue()), 400, 'BXNIM0415E', `failure ${PER_ADDRESS}`);
    assertRefused(await token(from, svc.key), 'over the limit only now');
  });

  test('a value in no known format counts for its address only', async () => {
    const from = '127.0.0.40';
    const foreign = `legacy-${crypto.randomBytes(24).toString('hex')}`;
    // More than the per-key limit with the same value: still 400, as there is no key id to count.
    for (let i = 0; i < PER_ADDRESS; i++) assertTokenError(await token(from, foreign), 400, 'BXNIM0415E', `failure ${i + 1}`);
    assertRefused(await token(from, foreign), 'the address is over its limit');
  });

  test('X-Forwarded-For does not change who the client is', async () => {
    const from = '127.0.0.50';
    for (let i = 0; i < PER_ADDRESS; i++) {
      const res = await token(from, unknownValue(), { 'X-Forwarded-For': `198.51.100.${i + 1}` });
      assertTokenError(res, 400, 'BXNIM0415E', `failure ${i + 1}`);
    }
    assertRefused(await token(from, svc.key, { 'X-Forwarded-For': '203.0.113.9' }), 'a forged X-Forwarded-For');
  });
});
