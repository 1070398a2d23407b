// Limits and HTTP-level behaviour: body size cap, pagesize bounds, bad page
// tokens, malformed JSON, keep-alive reuse, chunked bodies, concurrency.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import {
  APIKEY_GRANT, api, assertIbmError, createApiKey, createServiceId, decodeJwt, getToken, uniqueName,
} from './lib/http.mjs';
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

/** One request through node:http, so the agent, socket reuse and chunking are under our control. */
function rawRequest({ method = 'GET', path, headers = {}, body, agent, chunks }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, body: json, reused: req.reusedSocket, localPort: req.socket?.localPort });
      });
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (chunks) {
      for (const c of chunks) req.write(c);
      req.end();
    } else {
      req.end(body);
    }
  });
}

const healthy = async () => {
  const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) });
  return res.status === 200;
};

describe('request body cap (64 KiB)', () => {
  const jsonOfSize = (size) => {
    const base = JSON.stringify({ account_id: server.accountId, name: 'big', description: '' });
    return base.replace('"description":""', `"description":"${'d'.repeat(size - base.length)}"`);
  };

  test('a JSON body over 64 KiB -> 413', async () => {
    for (const size of [64 * 1024 + 1, 70 * 1024, 1024 * 1024]) {
      const body = jsonOfSize(size);
      assert.equal(body.length, size);
      let res;
      try {
        res = await api(server, 'POST', '/v1/serviceids', { ...admin, body, contentType: 'application/json' });
      } catch (err) {
        // The server answers 413 from the Content-Length alone and never reads a body that
        // large; a client still writing 1 MiB may see the connection closed (EPIPE/ECONNRESET)
        // before it reads the answer. Bodies that fit in the socket buffers must see the 413.
        const code = err.cause?.code ?? err.message;
        if (size >= 1024 * 1024 && ['EPIPE', 'ECONNRESET'].includes(code)) continue;
        assert.fail(`${size} bytes: connection failed instead of 413 (${code})`);
      }
      assert.equal(res.status, 413, `${size} bytes: ${res.status} ${res.text.slice(0, 200)}`);
    }
    assert.ok(await healthy(), 'server still serves after 413s');
  });

  test('a body of exactly 64 KiB is read (the handler answers 400 for the long description, not 413)', async () => {
    for (const size of [60 * 1024, 64 * 1024]) {
      const res = await api(server, 'POST', '/v1/serviceids', { ...admin, body: jsonOfSize(size), contentType: 'application/json' });
      assertIbmError(res, 400, `${size} bytes`);
    }
  });

  test('a token form over 64 KiB -> 413, also when sent chunked without Content-Length', async () => {
    const form = `grant_type=${encodeURIComponent(APIKEY_GRANT)}&apikey=${server.apikey}&pad=${'p'.repeat(80 * 1024)}`;
    const res = await rawRequest({
      method: 'POST', path: '/identity/token', body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(form) },
    });
    assert.equal(res.status, 413, `Content-Length body: ${res.status} ${res.text.slice(0, 200)}`);
    const chunks = [];
    for (let i = 0; i < form.length; i += 8192) chunks.push(form.slice(i, i + 8192));
    let chunked;
    try {
      chunked = await rawRequest({
        method: 'POST', path: '/identity/token', chunks,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked' },
      });
    } catch (err) {
      assert.fail(`chunked oversized body: connection failed instead of 413 (${err.message})`);
    }
    assert.equal(chunked.status, 413, `chunked body: ${chunked.status} ${chunked.text.slice(0, 200)}`);
    assert.ok(await healthy());
  });

  test('a small chunked token request works', async () => {
    const form = `grant_type=${encodeURIComponent(APIKEY_GRANT)}&apikey=${server.apikey}`;
    const res = await rawRequest({
      method: 'POST', path: '/identity/token', chunks: [form.slice(0, 10), form.slice(10)],
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof res.body.access_token, 'string');
  });
});

describe('pagination bounds', () => {
  for (const [path, extra] of [['/v1/serviceids', {}], ['/v1/apikeys', {}]]) {
    test(`${path}: pagesize outside 1..100 or not an integer -> 400`, async () => {
      const query = { account_id: server.accountId, ...extra };
      if (path === '/v1/apikeys') query.iam_id = server.iamId;
      for (const pagesize of ['0', '101', '-1', 'abc', '1.5', '1e2', '10abc', '99999999999999999999']) {
        assertIbmError(await api(server, 'GET', path, { ...admin, query: { ...query, pagesize } }), 400, `pagesize=${pagesize}`);
      }
      for (const pagesize of [1, 100]) {
        const res = await api(server, 'GET', path, { ...admin, query: { ...query, pagesize } });
        assert.equal(res.status, 200, `pagesize=${pagesize}: ${res.text}`);
        assert.equal(res.body.limit, pagesize);
      }
    });

    test(`${path}: bad pagetoken -> 400`, async () => {
      for (const pagetoken of ['garbage', 'AAAA', '%%%', 'eyJvZmZzZXQiOjF9', 'x'.repeat(2000)]) {
        assertIbmError(await api(server, 'GET', path, { ...admin, query: { pagetoken } }), 400, `pagetoken=${pagetoken.slice(0, 20)}`);
      }
    });
  }

  test('a pagetoken carries the filters: account_id and name need not be repeated', async () => {
    const name = uniqueName('tok');
    for (let i = 0; i < 3; i++) await createServiceId(server, admin, { name });
    const first = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name, pagesize: 1 } });
    assert.equal(first.status, 200, first.text);
    const token = new URL(first.body.next, server.url).searchParams.get('pagetoken');
    // The SDK way: pagesize re-sent with the token.
    const sdkStyle = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { pagetoken: token, pagesize: 1 } });
    assert.equal(sdkStyle.status, 200, sdkStyle.text);
    assert.equal(sdkStyle.body.offset, 1);
    assert.equal(sdkStyle.body.limit, 1);
    assert.equal(sdkStyle.body.serviceids.length, 1);
    assert.equal(sdkStyle.body.serviceids[0].name, name, 'the name filter is kept');
    // The token alone.
    const bare = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { pagetoken: token } });
    assert.equal(bare.status, 200, bare.text);
    assert.equal(bare.body.offset, 1);
    assert.ok(bare.body.serviceids.length >= 1 && bare.body.serviceids.length <= 2, bare.text);
    for (const s of bare.body.serviceids) assert.equal(s.name, name, 'the name filter is kept');
  });

  test('the first link of a pagetoken-only page leads to the first page of the same filtered list', async () => {
    const name = uniqueName('first');
    for (let i = 0; i < 3; i++) await createServiceId(server, admin, { name });
    const p1 = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, name, pagesize: 1 } });
    const token = new URL(p1.body.next, server.url).searchParams.get('pagetoken');
    const p2 = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { pagetoken: token } });
    assert.equal(p2.status, 200, p2.text);
    assert.equal(typeof p2.body.first, 'string');
    const back = await api(server, 'GET', new URL(p2.body.first, server.url).href, admin);
    assert.equal(back.status, 200, `following first (${p2.body.first}): ${back.status} ${back.text.slice(0, 300)}`);
    assert.equal(back.body.offset, 0);
    assert.ok(back.body.serviceids.length >= 1);
    for (const s of back.body.serviceids) assert.equal(s.name, name, `first (${p2.body.first}) lost the name filter`);
  });

  test('a pagetoken from the apikeys list is refused on the serviceids list', async () => {
    const sid = await createServiceId(server, admin);
    for (let i = 0; i < 2; i++) await createApiKey(server, admin, { iam_id: sid.iam_id });
    const first = await api(server, 'GET', '/v1/apikeys', { ...admin, query: { account_id: server.accountId, iam_id: sid.iam_id, pagesize: 1 } });
    assert.equal(first.status, 200, first.text);
    const token = new URL(first.body.next, server.url).searchParams.get('pagetoken');
    const cross = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { pagetoken: token } });
    assertIbmError(cross, 400, 'apikeys pagetoken used on serviceids');
  });
});

describe('malformed requests', () => {
  test('malformed or non-object JSON -> 400 with the IBM error body', async () => {
    const acct = server.accountId;
    const bodies = [
      '{', '{"name": }', 'null', '42', '"str"', '[{}]', `{"account_id":"${acct}","name":"a"}{"b":2}`, '\u0000',
      `{"account_id":"${acct}","name":"\\ud800"}`, // lone surrogate escape
      `{"account_id":"${acct}","name":"a\\u0000b"}`, // NUL escape
      `{"account_id":"${acct}","name":"a","name":"b"}`, // duplicate key
    ];
    for (const body of bodies) {
      const res = await api(server, 'POST', '/v1/serviceids', { ...admin, body, contentType: 'application/json' });
      assertIbmError(res, 400, `body ${JSON.stringify(body)}`);
    }
    const badUtf8 = Buffer.concat([Buffer.from(`{"account_id":"${server.accountId}","name":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    assertIbmError(await api(server, 'POST', '/v1/serviceids', { ...admin, body: badUtf8, contentType: 'application/json' }), 400, 'invalid UTF-8');
  });

  test('unknown routes -> 404', async () => {
    for (const p of ['/v1/nothing', '/v2/serviceids', '/identity/nothing', '/v1/serviceids/x/y/z']) {
      const res = await api(server, 'GET', p, admin);
      assert.equal(res.status, 404, `${p}: ${res.status}`);
    }
  });

  test('a wrong method on a known route -> 404/405, never 2xx', async () => {
    const res = await api(server, 'PATCH', '/v1/serviceids', { ...admin, json: {} });
    assert.ok([404, 405].includes(res.status), `PATCH /v1/serviceids: ${res.status}`);
    const res2 = await api(server, 'DELETE', '/identity/keys', admin);
    assert.ok([404, 405].includes(res2.status), `DELETE /identity/keys: ${res2.status}`);
  });

  test('oversized request headers are refused without taking the server down', async () => {
    let status;
    try {
      status = (await rawRequest({ path: '/healthz', headers: { 'X-Big': 'x'.repeat(64 * 1024) } })).status;
    } catch {
      status = 'closed';
    }
    assert.notEqual(status, 200, 'a 64 KiB header is not accepted');
    assert.ok(await healthy(), 'server still serves');
  });
});

describe('connections', () => {
  test('keep-alive: GET, form POST, JSON POST and GET reuse one connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const form = `grant_type=${encodeURIComponent(APIKEY_GRANT)}&apikey=${server.apikey}`;
      const json = JSON.stringify({ account_id: server.accountId, name: uniqueName('ka') });
      const steps = [
        { method: 'GET', path: '/healthz' },
        { method: 'POST', path: '/identity/token', body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(form) } },
        { method: 'POST', path: '/v1/serviceids', body: json, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json), Authorization: `Bearer ${admin.token}` } },
        { method: 'GET', path: '/identity/keys' },
        { method: 'GET', path: '/healthz' },
      ];
      const results = [];
      for (const s of steps) {
        const r = await rawRequest({ ...s, agent });
        results.push(r);
        assert.ok(r.status < 300, `${s.method} ${s.path}: ${r.status} ${r.text.slice(0, 200)}`);
        assert.notEqual((r.headers.connection ?? '').toLowerCase(), 'close', `${s.method} ${s.path} answered Connection: close`);
      }
      results.slice(1).forEach((r, i) => {
        assert.equal(r.reused, true, `request ${i + 2} (${steps[i + 1].method} ${steps[i + 1].path}) reused the socket`);
      });
      assert.equal(new Set(results.map((r) => r.localPort)).size, 1, 'one local port for every request');
    } finally {
      agent.destroy();
    }
  });

  test('40 concurrent token requests all succeed with distinct jti', async () => {
    const all = await Promise.all(Array.from({ length: 40 }, () => getToken(server.url, server.apikey)));
    const jtis = all.map((t) => decodeJwt(t.access_token).payload.jti);
    assert.equal(new Set(jtis).size, 40);
  });

  test('Transaction-Id header on responses matches the error trace', async () => {
    const res = await api(server, 'GET', `/v1/serviceids/ServiceId-${crypto.randomUUID()}`, admin);
    assertIbmError(res, 404);
    const txn = res.headers.get('transaction-id');
    assert.ok(txn, 'Transaction-Id header present');
    assert.equal(res.body.trace, txn);
  });
});
