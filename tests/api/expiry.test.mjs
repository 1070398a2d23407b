// API key expiry: a key whose expires_at has passed no longer authenticates.
// The server refuses an expires_at in the past, so this file makes a key that
// expires at the next minute boundary (5 to 65 s from now) and waits for it.
// It is a file of its own so that the wait overlaps the other files.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { api, assertIbmError, assertTokenError, createApiKey, createServiceId, getToken, tokenRequest } from './lib/http.mjs';
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pad = (n) => String(n).padStart(2, '0');
const ibmSeconds = (d) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:00+0000`;

test('an expired key -> 4xx with an errorCode at the token endpoint and 401 as Basic credentials', { timeout: 120_000 }, async () => {
  const sid = await createServiceId(server, admin);
  const expiry = new Date(Math.ceil((Date.now() + 5000) / 60000) * 60000);
  const k = await createApiKey(server, admin, { iam_id: sid.iam_id, expires_at: ibmSeconds(expiry) });
  const k2 = await createApiKey(server, admin, { iam_id: sid.iam_id }); // never expires
  assert.match(k.expires_at ?? '', new RegExp(`^${ibmSeconds(expiry).slice(0, 16)}`), `expires_at ${k.expires_at}`);
  assert.equal((await tokenRequest(server.url, k.apikey)).status, 200, 'works before it expires');

  await sleep(Math.max(0, expiry.getTime() - Date.now()) + 2000);

  const res = await tokenRequest(server.url, k.apikey);
  if (res.status === 200) {
    // Find out whether it is refused a little later (a leeway) or never, for the report.
    let refusedAfter = null;
    for (let i = 0; i < 40; i++) {
      await sleep(1000);
      if ((await tokenRequest(server.url, k.apikey)).status !== 200) { refusedAfter = Math.round((Date.now() - expiry.getTime()) / 1000); break; }
    }
    assert.fail(`key expired at ${expiry.toISOString()} still got a token 2 s later; ` +
      (refusedAfter === null ? 'still accepted 40 s later' : `refused only ${refusedAfter} s after expiry`));
  }
  assertTokenError(res, [400, 401, 403]);
  assertIbmError(await api(server, 'GET', `/v1/serviceids/${sid.id}`, { apikey: k.apikey }), 401, 'expired key as Basic credentials');
  assert.equal((await tokenRequest(server.url, k2.apikey)).status, 200, 'a sibling key without expiry still works');
  const got = await api(server, 'GET', `/v1/apikeys/${k.id}`, admin);
  assert.equal(got.status, 200, 'the expired key still exists');
});
