// Limits and HTTP-level behaviour: body size cap, pagesize bounds, bad page
// tokens, malformed JSON, keep-alive reuse, chunked bodies, concurrency; and,
// on a second server with small configured limits, the connection cap, the
// header cap, the query-string cap, the body cap and the whole-request
// deadline (slow loris).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import {
  APIKEY_GRANT, api, assertIbmError, createApiKey, createServiceId, decodeJwt, getToken, uniqueName,
} from './lib/http.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

let server;
let admin;
/** The second server, with small limits. */
let limited;
const LIMITS = { connections: 6, headerBytes: 8192, body: 2048, requestTimeout: 2 };

before(async () => {
  [server, limited] = await Promise.all([
    startServer(),
    startServer({
      args: ['--threads', '2', '--max-connections', String(LIMITS.connections),
        '--max-header-bytes', String(LIMITS.headerBytes), '--max-body', String(LIMITS.body),
        '--request-timeout', String(LIMITS.requestTimeout), '--connection-timeout', '30', '--metrics', 'open'],
    }),
  ]);
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
});

after(async () => {
  await Promise.all([stopAndCheck(server), stopAndCheck(limited)]);
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

// --- configured limits (the second server) ---

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A raw TCP client: connects, writes `chunks` one after the other with
 * `gapMs` between them (forever when `trickle` is true: the last chunk's
 * bytes one at a time, then more of the same), and reports what came back.
 * Resolves {data, closed (the server closed or reset), ms (connect to close),
 * hung (nothing happened within `waitMs`)}.
 */
function rawClient(port, { chunks = [], gapMs = 0, trickle = false, waitMs = 10_000 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const started = Date.now();
    let data = '';
    let done = false;
    let timer = null;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      socket.destroy();
      resolve({ data, ms: Date.now() - started, ...result });
    };
    const deadline = setTimeout(() => finish({ closed: false, hung: true }), waitMs);
    socket.on('data', (d) => { data += d; });
    socket.on('close', () => finish({ closed: true, hung: false }));
    socket.on('error', () => finish({ closed: true, hung: false }));
    socket.on('connect', () => {
      let index = 0;
      const next = () => {
        if (done) return;
        if (index < chunks.length) {
          socket.write(chunks[index++]);
        } else if (trickle) {
          socket.write('x');
        } else {
          return;
        }
        timer = setTimeout(next, gapMs);
      };
      next();
    });
  });
}

/** The HTTP status of the first response in `data`, or null. */
const statusOf = (data) => {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
  return m ? Number(m[1]) : null;
};

/** The JSON body of a raw response, or null. */
const jsonOf = (data) => {
  const at = data.indexOf('\r\n\r\n');
  try { return JSON.parse(data.slice(at + 4)); } catch { return null; }
};

/**
 * A request to the limited server on a connection of its own (fetch would keep
 * pooled connections open, and this server counts them). Resolves {status, text, body}.
 */
function limitedRequest({ method = 'GET', path, headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: limited.port, method, path, headers, agent: false }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, text, body: json });
      });
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const limitedHealthy = async () => (await limitedRequest({ path: '/healthz' })).status === 200;

/** A GET whose request line plus headers come to about `total` bytes. */
function requestWithHeaderBytes(path, total) {
  const head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Pad: `;
  return `${head}${'p'.repeat(Math.max(0, total - head.length - 4))}\r\n\r\n`;
}

describe('--max-connections', () => {
  test(`the connection after ${LIMITS.connections} open ones is closed unanswered; the server recovers`, async () => {
    const open = [];
    const connect = () => new Promise((resolve, reject) => {
      const socket = net.connect(limited.port, '127.0.0.1');
      let data = '';
      socket.on('data', (d) => {
        data += d;
        if (data.includes('{"status":"ok"}')) resolve(socket);
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`closed before answering: ${JSON.stringify(data.slice(0, 100))}`)));
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    });
    try {
      for (let i = 0; i < LIMITS.connections; i++) open.push(await connect());
      // Every one of them is served (keep-alive) and still open: the next one is over the cap.
      const over = await rawClient(limited.port, { chunks: ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], waitMs: 5000 });
      assert.equal(over.hung, false, 'the extra connection is closed, not left waiting');
      assert.equal(over.closed, true);
      assert.equal(over.data, '', 'no answer on the extra connection');
      // One open connection goes away: a new one is served again.
      open.shift().destroy();
      let served = false;
      for (let attempt = 0; attempt < 50 && !served; attempt++) {
        const again = await rawClient(limited.port, {
          chunks: ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'], waitMs: 5000,
        });
        served = statusOf(again.data) === 200;
        if (!served) await sleep(100);
      }
      assert.ok(served, 'a connection is served once one closed');
    } finally {
      for (const socket of open) socket.destroy();
    }
    assert.ok(await limitedHealthy());
    const metrics = (await limitedRequest({ path: '/metrics' })).text;
    const refused = Number(/^iamd_http_connections_refused_total (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(refused >= 1, `iamd_http_connections_refused_total counts it (${refused})`);
  });
});

describe('--max-header-bytes', () => {
  test('headers under the cap are served; over it 431 with the IBM error body; far over it 431 from MHD; all promptly', async () => {
    const under = await rawClient(limited.port, { chunks: [requestWithHeaderBytes('/healthz', LIMITS.headerBytes - 500)] });
    assert.equal(statusOf(under.data), 200, under.data.slice(0, 200));

    const over = await rawClient(limited.port, { chunks: [requestWithHeaderBytes('/healthz', LIMITS.headerBytes + 500)] });
    assert.equal(statusOf(over.data), 431, over.data.slice(0, 200));
    assertIbmError({ status: 431, text: over.data, body: jsonOf(over.data) }, 431, 'just over the cap');

    const farOver = await rawClient(limited.port, { chunks: [requestWithHeaderBytes('/healthz', LIMITS.headerBytes * 4)] });
    assert.equal(statusOf(farOver.data), 431, farOver.data.slice(0, 200));
    for (const r of [under, over, farOver]) assert.ok(r.ms < 5000, `answered in ${r.ms} ms`);
  });

  test('no header size around the cap leaves a request hanging', async () => {
    for (let total = LIMITS.headerBytes - 1000; total <= LIMITS.headerBytes + 6000; total += 250) {
      const r = await rawClient(limited.port, { chunks: [requestWithHeaderBytes('/healthz', total)], waitMs: 5000 });
      assert.equal(r.hung, false, `${total} header bytes: no answer and no close within 5 s`);
      const status = statusOf(r.data);
      assert.ok(status === null || [200, 431].includes(status), `${total} bytes: ${r.data.slice(0, 100)}`);
      if (total <= LIMITS.headerBytes - 200) assert.equal(status, 200, `${total} bytes fit`);
    }
    assert.ok(await limitedHealthy());
  });
});

describe('query strings', () => {
  test('a query string with hundreds of parameters gets a prompt 414 (it used to hang until the idle timeout)', async () => {
    for (const [target, count] of [[server, 300], [server, 1000], [limited, 150]]) {
      const query = Array.from({ length: count }, (_, i) => `a${i}=1`).join('&');
      const r = await rawClient(target.port, {
        chunks: [`GET /v1/serviceids?${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`], waitMs: 5000,
      });
      assert.equal(r.hung, false, `${count} parameters: hung`);
      assertIbmError({ status: statusOf(r.data), text: r.data, body: jsonOf(r.data) }, 414, `${count} parameters`);
    }
    const plain = await rawClient(server.port, {
      chunks: [`GET /healthz?${'&'.repeat(400)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`], waitMs: 5000,
    });
    assert.equal(statusOf(plain.data), 414, '400 bare ampersands');
    assert.ok(await healthy());
  });

  test('URLs of every length and parameter count near the cap are answered or closed, never left hanging', async () => {
    for (const length of [1000, 4000, 6000, 7000, 7600, 8000, 8150, 9000, 12000, 20000]) {
      for (const count of [1, 8, 32, 100]) {
        const params = Array.from({ length: count }, (_, i) => `p${i}=1`).join('&');
        const url = `/healthz?${params}&pad=${'x'.repeat(Math.max(0, length - params.length - 14))}`;
        const r = await rawClient(limited.port, {
          chunks: [`GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`], waitMs: 5000,
        });
        assert.equal(r.hung, false, `URL of ${url.length} bytes with ${count + 1} parameters hung`);
        const status = statusOf(r.data);
        assert.ok(status === null || [200, 414, 431].includes(status), `${url.length}/${count}: ${r.data.slice(0, 80)}`);
        if (url.length + (count + 1) * 64 > LIMITS.headerBytes && url.length < LIMITS.headerBytes * 1.4) {
          assert.equal(status, 414, `${url.length} bytes, ${count + 1} parameters: over the cap`);
        }
        if (url.length + (count + 1) * 64 < LIMITS.headerBytes - 500) assert.equal(status, 200, `${url.length}/${count} fits`);
      }
    }
    assert.ok(await limitedHealthy());
  });
});

describe('--max-body', () => {
  test(`a body of ${LIMITS.body} bytes is read; one byte more is 413`, async () => {
    const form = `grant_type=${encodeURIComponent(APIKEY_GRANT)}&apikey=${limited.apikey}`;
    const issued = await limitedRequest({
      method: 'POST', path: '/identity/token', body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(form) },
    });
    assert.equal(issued.status, 200, issued.text);
    const base = JSON.stringify({ account_id: limited.accountId, name: 'b', description: '' });
    const ofSize = (size) => base.replace('"description":""', `"description":"${'d'.repeat(size - base.length)}"`);
    const post = (body) => limitedRequest({
      method: 'POST', path: '/v1/serviceids', body,
      headers: { Authorization: `Bearer ${issued.body.access_token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    });
    assertIbmError(await post(ofSize(LIMITS.body)), 400, 'read and refused by the handler (description too long), not 413');
    assertIbmError(await post(ofSize(LIMITS.body + 1)), 413, 'one byte over');
  });
});

describe('--request-timeout (slow clients)', () => {
  const bound = (r, what) => {
    // Documented: cut once the request has taken --request-timeout seconds; the watchdog looks 4 times a second.
    assert.equal(r.hung, false, `${what}: never cut (${r.ms} ms)`);
    assert.ok(r.ms >= LIMITS.requestTimeout * 1000 - 500, `${what}: cut too early (${r.ms} ms)`);
    assert.ok(r.ms <= LIMITS.requestTimeout * 1000 + 2500, `${what}: cut too late (${r.ms} ms)`);
  };

  test('trickled headers, a trickled body and a trickled second request on a kept-alive connection are all cut', async () => {
    const headers = rawClient(limited.port, {
      chunks: ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '], gapMs: 400, trickle: true, waitMs: 15_000,
    });
    const requestLine = rawClient(limited.port, { chunks: ['G'], gapMs: 400, trickle: true, waitMs: 15_000 });
    const body = rawClient(limited.port, {
      chunks: ['POST /identity/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
        'Content-Length: 1000\r\n\r\ngrant_type='], gapMs: 400, trickle: true, waitMs: 15_000,
    });
    // Kept alive: one quick request, then idle for longer than the timeout (idle is not a slow request),
    // then the next request trickled in: timed from its first byte.
    const keptAlive = new Promise((resolve) => {
      const socket = net.connect(limited.port, '127.0.0.1');
      let data = '';
      let trickling = null;
      let startedTrickle = 0;
      const result = {};
      socket.on('data', (d) => {
        data += d;
        if (!startedTrickle && data.includes('{"status":"ok"}')) {
          startedTrickle = -1;
          setTimeout(() => {
            result.openAfterIdle = !socket.destroyed;
            startedTrickle = Date.now();
            socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
            trickling = setInterval(() => socket.write('x'), 400);
          }, LIMITS.requestTimeout * 1000 + 1000);
        }
      });
      const end = () => {
        clearInterval(trickling);
        resolve({ ...result, ms: startedTrickle > 0 ? Date.now() - startedTrickle : -1, hung: false });
      };
      socket.on('close', end);
      socket.on('error', end);
      setTimeout(() => { socket.destroy(); resolve({ ...result, hung: true, ms: -1 }); }, 20_000);
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    });
    const [h, l, b, k] = await Promise.all([headers, requestLine, body, keptAlive]);
    bound(h, 'trickled headers');
    assert.equal(h.data, '', 'no answer to a request that never completed');
    bound(l, 'trickled request line');
    bound(b, 'trickled body');
    assert.equal(k.openAfterIdle, true, 'an idle kept-alive connection outlives --request-timeout');
    bound(k, 'trickled second request');
    assert.ok(await limitedHealthy());
  });

  test('a slow request that arrives whole within the timeout is served', async () => {
    const request = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
    const chunks = request.match(/.{1,8}/gs);
    const r = await rawClient(limited.port, { chunks, gapMs: 1000 / chunks.length, waitMs: 10_000 });
    assert.equal(statusOf(r.data), 200, r.data.slice(0, 200));
  });
});

describe('page sizes on every list endpoint', () => {
  test('a page size over 100 is 400; 100 is served', async () => {
    const group = await api(server, 'POST', '/v2/groups', {
      ...admin, query: { account_id: server.accountId }, json: { name: uniqueName('limits-group') },
    });
    assert.equal(group.status, 201, group.text);
    const a = server.accountId;
    const lists = [
      ['/v1/serviceids', 'pagesize', { account_id: a }],
      ['/v1/apikeys', 'pagesize', { account_id: a, iam_id: server.iamId }],
      ['/v1/accounts', 'pagesize', {}],
      [`/v1/accounts/${a}/users`, 'pagesize', {}],
      ['/v1/profiles', 'pagesize', { account_id: a }],
      ['/v1/profile_templates', 'pagesize', { account_id: a }],
      ['/v1/account_settings_templates', 'pagesize', { account_id: a }],
      ['/v1/policies', 'limit', { account_id: a }],
      ['/v2/policies', 'limit', { account_id: a }],
      ['/v2/groups', 'limit', { account_id: a }],
      [`/v2/groups/${group.body.id}/members`, 'limit', {}],
    ];
    // Identity API lists answer IBM's Identity error body; Policy and Access Groups lists their own ({code, message}).
    const refused = (res, what) => {
      assert.equal(res.status, 400, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
      assert.equal(typeof res.body?.errors?.[0]?.code, 'string', `${what}: ${res.text.slice(0, 300)}`);
    };
    for (const [path, name, query] of lists) {
      refused(await api(server, 'GET', path, { ...admin, query: { ...query, [name]: 101 } }), `${path} ${name}=101`);
      refused(await api(server, 'GET', path, { ...admin, query: { ...query, [name]: 1000000 } }), `${path} ${name}=1000000`);
      const ok = await api(server, 'GET', path, { ...admin, query: { ...query, [name]: 100 } });
      assert.equal(ok.status, 200, `${path} ${name}=100: ${ok.text.slice(0, 300)}`);
      if (ok.body.limit !== undefined) assert.equal(Number(ok.body.limit), 100, `${path}: limit echoed`);
    }
  });
});
