// The web console's server side: static assets built into the binary (security
// headers, ETag and 304, client-side routes, 404), sign-in sessions at
// /console/api/session (password and API key, cookie flags, rate limits, the
// account's session settings), API calls authenticated by the session cookie
// with CSRF and Origin checks, sign-out, and sessions ending when their
// identity or sign-in key goes away.

import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import {
  TIMEOUT_MS, USER_IAM_ID_RE, api, assertIbmError, createApiKey, getToken, serviceIdWithKey, uniqueName,
} from './lib/http.mjs';
import { createAccount, createUser, strongPassword, uniqueLogin } from './lib/access.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..', '..', 'web');

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
const SESSION = '/console/api/session';

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = { token: (await getToken(server.url, server.apikey)).access_token };
});

after(async () => {
  await stopAndCheck(server);
});

/** A raw request (no JSON parsing of the body), returning the bytes too. */
async function raw(method, urlPath, headers = {}) {
  const res = await fetch(new URL(urlPath, server.url), { method, headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: bytes.toString('utf8') };
}

function assertConsoleHeaders(res, what) {
  assert.equal(res.headers.get('content-security-policy'), CSP, `${what}: CSP`);
  assert.ok(!/unsafe-inline|unsafe-eval/.test(res.headers.get('content-security-policy')), `${what}: no unsafe-*`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', `${what}: Referrer-Policy`);
  assert.equal(res.headers.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
}

/** The iamd_session Set-Cookie line of a response, or undefined. */
function sessionSetCookie(res) {
  return res.headers.getSetCookie().find((line) => line.startsWith('iamd_session='));
}

/** Cookie value from a sign-in answer (asserted present). */
function cookieOf(res) {
  const line = sessionSetCookie(res);
  assert.ok(line, `no iamd_session cookie in ${JSON.stringify(res.headers.getSetCookie())}`);
  return line.slice('iamd_session='.length).split(';')[0];
}

/** Signs in with {login,password} or {apikey}; returns {res, cookie, csrf, body}. */
async function signIn(credentials, headers = {}) {
  const res = await api(server, 'POST', SESSION, { json: credentials, headers });
  assert.equal(res.status, 200, `sign-in: ${res.status} ${res.text.slice(0, 400)}`);
  return { res, cookie: cookieOf(res), csrf: res.body.csrf_token, body: res.body };
}

/** An API call carrying the session cookie (and the CSRF token when `csrf` is given). */
function withSession(method, urlPath, session, { csrf, json, headers = {}, query } = {}) {
  const h = { Cookie: `iamd_session=${session.cookie}`, ...headers };
  if (csrf) h['X-CSRF-Token'] = csrf;
  return api(server, method, urlPath, { json, headers: h, query });
}

/** POST JSON from a given local address (the password limits count per address). */
function postJsonFrom(urlPath, json, localAddress) {
  const u = new URL(urlPath, server.url);
  const payload = JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST', localAddress,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      timeout: TIMEOUT_MS,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let body = null;
        try { body = text ? JSON.parse(text) : null; } catch { body = null; }
        resolve({ status: res.statusCode, headers: res.headers, body, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

async function serviceIdNames() {
  const res = await api(server, 'GET', '/v1/serviceids', { ...admin, query: { account_id: server.accountId, pagesize: 100 } });
  assert.equal(res.status, 200, res.text);
  return res.body.serviceids.map((s) => s.name);
}

/** A JavaScript or CSS file of web/ other than index.html (the one index.html refers to when it does). */
async function someAsset(indexHtml) {
  const referenced = [...indexHtml.matchAll(/(?:src|href)="\/console\/([^"?#]+\.(?:js|css|svg))"/g)].map((m) => m[1]);
  for (const rel of referenced) {
    try {
      return { rel, bytes: await fsp.readFile(path.join(webDir, rel)) };
    } catch { /* referenced but not on disk: try the next */ }
  }
  for (const name of await fsp.readdir(webDir)) {
    if (/\.(js|css)$/.test(name)) return { rel: name, bytes: await fsp.readFile(path.join(webDir, name)) };
  }
  return null;
}

describe('static assets', () => {
  test('/, /console and /console/ answer index.html from the binary with the security headers', async () => {
    const onDisk = await fsp.readFile(path.join(webDir, 'index.html'));
    let etag;
    for (const p of ['/', '/console', '/console/']) {
      const res = await raw('GET', p);
      assert.equal(res.status, 200, `${p}: ${res.status}`);
      assert.match(res.headers.get('content-type'), /^text\/html; charset=utf-8$/, p);
      assert.ok(res.bytes.equals(onDisk), `${p}: the body is web/index.html`);
      assertConsoleHeaders(res, p);
      assert.equal(res.headers.get('cache-control'), 'no-cache', `${p}: index.html is revalidated`);
      assert.match(res.headers.get('etag'), /^"[0-9a-f]{32}"$/, `${p}: strong ETag`);
      if (etag) assert.equal(res.headers.get('etag'), etag, `${p}: same ETag`);
      etag = res.headers.get('etag');
      assert.equal(sessionSetCookie(res), undefined, 'no cookie for anonymous pages');
    }
    const head = await raw('HEAD', '/console/');
    assert.equal(head.status, 200);
    assert.equal(head.bytes.length, 0, 'HEAD has no body');
    assert.equal(head.headers.get('etag'), etag);
    assert.equal(Number(head.headers.get('content-length')), onDisk.length, 'HEAD gives the length');
    assertConsoleHeaders(head, 'HEAD');
  });

  test('other assets: their content type, public caching for an hour, their own ETag', async () => {
    const index = await raw('GET', '/console/');
    const asset = await someAsset(index.text);
    assert.ok(asset, 'web/ has a JavaScript or CSS file');
    const res = await raw('GET', `/console/${asset.rel}`);
    assert.equal(res.status, 200, `${asset.rel}: ${res.status}`);
    assert.ok(res.bytes.equals(asset.bytes), `${asset.rel}: the body is the file`);
    const type = asset.rel.endsWith('.css') ? /^text\/css/ : asset.rel.endsWith('.svg') ? /^image\/svg\+xml/ : /^text\/javascript/;
    assert.match(res.headers.get('content-type'), type);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=3600');
    assert.match(res.headers.get('etag'), /^"[0-9a-f]{32}"$/);
    assert.notEqual(res.headers.get('etag'), index.headers.get('etag'));
    assertConsoleHeaders(res, asset.rel);
  });

  test('If-None-Match with the ETag (also weak or in a list) -> 304 without a body; another tag -> 200', async () => {
    const first = await raw('GET', '/console/');
    const etag = first.headers.get('etag');
    for (const value of [etag, `W/${etag}`, `"0000", ${etag}`, '*']) {
      const res = await raw('GET', '/console/', { 'If-None-Match': value });
      assert.equal(res.status, 304, `If-None-Match: ${value}`);
      assert.equal(res.bytes.length, 0);
      assert.equal(res.headers.get('etag'), etag);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assertConsoleHeaders(res, '304');
    }
    const other = await raw('GET', '/console/', { 'If-None-Match': '"00000000000000000000000000000000"' });
    assert.equal(other.status, 200);
    assert.ok(other.bytes.equals(first.bytes));
  });

  test('client-side routes (no file extension) answer index.html; unknown files and API paths are 404', async () => {
    const index = await raw('GET', '/console/');
    for (const p of ['/console/serviceids', '/console/serviceids/', '/console/serviceids/ServiceId-123/apikeys',
      '/console/users/IBMid-ABC/policies/x']) {
      const res = await raw('GET', p);
      assert.equal(res.status, 200, `${p}: ${res.status}`);
      assert.ok(res.bytes.equals(index.bytes), `${p}: index.html`);
      assert.equal(res.headers.get('cache-control'), 'no-cache', p);
      assertConsoleHeaders(res, p);
    }
    for (const p of ['/console/no-such-file.js', '/console/views/nothing.css', '/console/a/b/c/missing.png']) {
      const res = await api(server, 'GET', p);
      assertIbmError(res, 404, p);
      assertConsoleHeaders(res, p);
    }
    assertIbmError(await api(server, 'GET', '/console/api/nothing'), 404, 'unknown console API path');
    assertIbmError(await api(server, 'GET', '/console/api'), 404, '/console/api');
  });
});

describe('sign-in', () => {
  let user;

  before(async () => {
    user = await createUser(server, admin);
  });

  test('by login and password: 200 with the session, an HttpOnly SameSite=Strict browser-session cookie', async () => {
    const res = await api(server, 'POST', SESSION, { json: { login: user.login, password: user.password } });
    assert.equal(res.status, 200, res.text);
    const b = res.body;
    assert.equal(b.iam_id, user.iamId);
    assert.match(b.iam_id, USER_IAM_ID_RE);
    assert.equal(b.account_id, server.accountId);
    assert.equal(b.kind, 'user');
    assert.equal(b.login, user.login);
    assert.equal(typeof b.name, 'string');
    assert.ok(b.name.length > 0);
    assert.match(b.csrf_token, TOKEN_RE);
    assert.equal(b.idle_timeout, 7200, 'the default session_invalidation_in_seconds');
    const expires = Date.parse(b.expires_at);
    assert.ok(Number.isFinite(expires), `expires_at parses: ${b.expires_at}`);
    assert.ok(Math.abs(expires - (Date.now() + 86400_000)) < 120_000, `expires_at is a day away: ${b.expires_at}`);
    assert.ok(!res.text.includes(user.password), 'the password is not echoed');
    assert.equal(res.headers.get('cache-control'), 'no-store');

    const line = sessionSetCookie(res);
    assert.ok(line, 'Set-Cookie iamd_session');
    const [pair, ...attributes] = line.split(';').map((s) => s.trim());
    assert.match(pair, /^iamd_session=[A-Za-z0-9_-]{43}$/, '256-bit base64url value');
    const attrs = attributes.map((a) => a.toLowerCase());
    assert.ok(attrs.includes('httponly'), line);
    assert.ok(attrs.includes('samesite=strict'), line);
    assert.ok(attrs.includes('path=/'), line);
    assert.ok(!attrs.some((a) => a.startsWith('max-age') || a.startsWith('expires')), `a browser-session cookie: ${line}`);
    assert.ok(!attrs.includes('secure'), 'not Secure over plain HTTP');
    assert.notEqual(pair.split('=')[1], b.csrf_token, 'the CSRF token is not the cookie');
  });

  test('each sign-in gets its own cookie and CSRF token', async () => {
    const a = await signIn({ login: user.login, password: user.password });
    const b = await signIn({ login: user.login, password: user.password });
    assert.notEqual(a.cookie, b.cookie);
    assert.notEqual(a.csrf, b.csrf);
  });

  test('by API key: a user key gives kind user; a service ID key gives kind serviceid without login', async () => {
    const mine = await signIn({ apikey: server.apikey });
    assert.equal(mine.body.kind, 'user');
    assert.equal(mine.body.iam_id, server.iamId);
    assert.equal(typeof mine.body.login, 'string');

    const { sid, key } = await serviceIdWithKey(server, admin);
    const s = await signIn({ apikey: key });
    assert.equal(s.body.kind, 'serviceid');
    assert.equal(s.body.iam_id, sid.iam_id);
    assert.equal(s.body.account_id, server.accountId);
    assert.equal(s.body.name, sid.name);
    assert.equal('login' in s.body, false, 'no login for a service ID');
    assert.match(s.body.csrf_token, TOKEN_RE);
    assert.ok(!s.res.text.includes(key), 'the key is not echoed');
  });

  test('wrong credentials -> 401 IBM error and no cookie; malformed bodies -> 400', async () => {
    const cases = [
      { login: user.login, password: 'wrong-password-123' },
      { login: uniqueLogin('nobody'), password: strongPassword() },
      { apikey: 'iamd_not-a-key' },
      { apikey: `${server.apikey.slice(0, -4)}AAAA` },
    ];
    for (const json of cases) {
      const res = await postJsonFrom(SESSION, json, '127.0.4.1');
      assert.equal(res.status, 401, `${JSON.stringify(json)}: ${res.text}`);
      assert.equal(typeof res.body?.errors?.[0]?.message, 'string');
      assert.equal(res.body.status_code, 401);
      assert.equal(res.headers['set-cookie'], undefined, 'no cookie on failure');
    }
    const bad = [
      {},
      { login: user.login },
      { password: user.password },
      { login: user.login, password: user.password, apikey: server.apikey },
      { login: user.login, password: user.password, remember: true },
      { login: '', password: '' },
      { apikey: '' },
      { apikey: 42 },
    ];
    for (const json of bad) {
      const res = await api(server, 'POST', SESSION, { json });
      assertIbmError(res, 400, JSON.stringify(json));
      assert.equal(sessionSetCookie(res), undefined);
    }
    assertIbmError(await api(server, 'POST', SESSION, { body: '{"login":', contentType: 'application/json' }), 400, 'bad JSON');
  });

  test('too many wrong passwords from an address -> 429 with Retry-After; another address still signs in', async () => {
    const victim = await createUser(server, admin);
    const from = '127.0.4.2';
    for (let i = 0; i < 5; i++) {
      const res = await postJsonFrom(SESSION, { login: victim.login, password: `wrong-password-${i}x` }, from);
      assert.equal(res.status, 401, `attempt ${i}: ${res.text}`);
    }
    const refused = await postJsonFrom(SESSION, { login: victim.login, password: victim.password }, from);
    assert.equal(refused.status, 429, refused.text);
    assert.ok(Number(refused.headers['retry-after']) >= 1, `Retry-After: ${refused.headers['retry-after']}`);
    assert.equal(refused.body.status_code, 429);
    assert.equal(refused.headers['set-cookie'], undefined);
    const elsewhere = await postJsonFrom(SESSION, { login: victim.login, password: victim.password }, '127.0.4.3');
    assert.equal(elsewhere.status, 200, elsewhere.text);
  });

  test("an Origin other than the server's on sign-in -> 403", async () => {
    const res = await api(server, 'POST', SESSION, {
      json: { login: user.login, password: user.password }, headers: { Origin: 'https://evil.example' },
    });
    assertIbmError(res, 403, 'cross-origin sign-in');
    assert.equal(res.body.errors[0].code, 'csrf_token_invalid');
    assert.equal(sessionSetCookie(res), undefined);
    const same = await api(server, 'POST', SESSION, {
      json: { login: user.login, password: user.password }, headers: { Origin: server.url },
    });
    assert.equal(same.status, 200, same.text);
  });

  test("the account's session settings shape the session; max_sessions_per_identity evicts the oldest", async () => {
    const account = await createAccount(server, admin);
    const settingsPath = `/v1/accounts/${account.accountId}/settings/identity`;
    const put = await api(server, 'PUT', settingsPath, {
      ...account.auth,
      headers: { 'If-Match': '*' },
      json: { session_invalidation_in_seconds: '900', session_expiration_in_seconds: '3600', max_sessions_per_identity: '2' },
    });
    assert.equal(put.status, 200, put.text);
    const creds = { login: account.login, password: account.password };
    const first = await signIn(creds);
    assert.equal(first.body.idle_timeout, 900);
    assert.equal(first.body.account_id, account.accountId);
    const expires = Date.parse(first.body.expires_at);
    assert.ok(Math.abs(expires - (Date.now() + 3600_000)) < 120_000, `expires_at an hour away: ${first.body.expires_at}`);
    const second = await signIn(creds);
    assert.equal((await withSession('GET', SESSION, first)).status, 200, 'two sessions fit');
    const third = await signIn(creds);
    assertIbmError(await withSession('GET', SESSION, first), 401, 'the oldest session was evicted');
    assert.equal((await withSession('GET', SESSION, second)).status, 200);
    assert.equal((await withSession('GET', SESSION, third)).status, 200);
  });
});

describe('session use', () => {
  let user;

  before(async () => {
    user = await createUser(server, admin);
  });

  test('GET /console/api/session: 200 with the same session; without or with a bad cookie 401 (cookie cleared)', async () => {
    const s = await signIn({ login: user.login, password: user.password });
    const res = await withSession('GET', SESSION, s);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.iam_id, user.iamId);
    assert.equal(res.body.csrf_token, s.csrf, 'the same CSRF token');
    assert.equal(res.body.expires_at, s.body.expires_at);
    assert.equal(res.body.kind, 'user');
    assert.equal(res.body.login, user.login);

    assertIbmError(await api(server, 'GET', SESSION), 401, 'no cookie');
    const bad = await withSession('GET', SESSION, { cookie: 'A'.repeat(43) });
    assertIbmError(bad, 401, 'unknown cookie');
    assert.match(sessionSetCookie(bad) ?? '', /^iamd_session=;.*Max-Age=0/i, 'the stale cookie is cleared');
    assertIbmError(await withSession('GET', SESSION, { cookie: 'garbage' }), 401, 'malformed cookie');
    // Other cookies around ours do not matter.
    const mixed = await api(server, 'GET', SESSION, { headers: { Cookie: `theme=dark; iamd_session=${s.cookie}; lang=en` } });
    assert.equal(mixed.status, 200, mixed.text);
  });

  test('the cookie authenticates API calls; a write needs X-CSRF-Token (403 and nothing created without it)', async () => {
    const s = await signIn({ apikey: server.apikey });
    const list = await withSession('GET', '/v1/serviceids', s, { query: { account_id: server.accountId } });
    assert.equal(list.status, 200, list.text);
    assert.ok(Array.isArray(list.body.serviceids));

    const name = uniqueName('csrf');
    const json = { account_id: server.accountId, name };
    const missing = await withSession('POST', '/v1/serviceids', s, { json });
    assertIbmError(missing, 403, 'no CSRF header');
    assert.equal(missing.body.errors[0].code, 'csrf_token_invalid');
    const wrong = await withSession('POST', '/v1/serviceids', s, { json, csrf: 'B'.repeat(43) });
    assertIbmError(wrong, 403, 'wrong CSRF token');
    assert.equal(wrong.body.errors[0].code, 'csrf_token_invalid');
    const other = await signIn({ apikey: server.apikey });
    const foreign = await withSession('POST', '/v1/serviceids', s, { json, csrf: other.csrf });
    assertIbmError(foreign, 403, "another session's CSRF token");
    const cookieAsToken = await withSession('POST', '/v1/serviceids', s, { json, csrf: s.cookie });
    assertIbmError(cookieAsToken, 403, 'the cookie value is not the CSRF token');
    assert.ok(!(await serviceIdNames()).includes(name), 'nothing was created');

    const created = await withSession('POST', '/v1/serviceids', s, { json, csrf: s.csrf });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.name, name);
    assert.ok((await serviceIdNames()).includes(name));

    // Writes of every method are checked: PUT, DELETE (and the sign-out below).
    const id = created.body.id;
    const noCsrfDelete = await withSession('DELETE', `/v1/serviceids/${id}`, s);
    assertIbmError(noCsrfDelete, 403, 'DELETE without CSRF');
    const noCsrfPut = await withSession('PUT', `/v1/serviceids/${id}`, s, { json: { name: 'x' }, headers: { 'If-Match': '*' } });
    assertIbmError(noCsrfPut, 403, 'PUT without CSRF');
    assert.ok((await serviceIdNames()).includes(name), 'still there');
    const deleted = await withSession('DELETE', `/v1/serviceids/${id}`, s, { csrf: s.csrf });
    assert.equal(deleted.status, 204, deleted.text);
  });

  test('a cross-origin Origin is refused on writes even with the CSRF token; the own origin passes', async () => {
    const s = await signIn({ apikey: server.apikey });
    const name = uniqueName('origin');
    const json = { account_id: server.accountId, name };
    for (const origin of ['https://evil.example', 'null', `http://localhost:${server.port + 1}`, `https://127.0.0.1:${server.port}`]) {
      const res = await withSession('POST', '/v1/serviceids', s, { json, csrf: s.csrf, headers: { Origin: origin } });
      assertIbmError(res, 403, `Origin ${origin}`);
      assert.equal(res.body.errors[0].code, 'csrf_token_invalid');
    }
    assert.ok(!(await serviceIdNames()).includes(name), 'nothing was created');
    // Reads are not refused for their Origin (the browser's same-origin policy keeps the answer from other sites).
    const read = await withSession('GET', '/v1/serviceids', s, { query: { account_id: server.accountId }, headers: { Origin: 'https://evil.example' } });
    assert.equal(read.status, 200, read.text);
    const same = await withSession('POST', '/v1/serviceids', s, { json, csrf: s.csrf, headers: { Origin: server.url } });
    assert.equal(same.status, 201, same.text);
  });

  test('an Authorization header wins over the cookie (the cookie is then ignored)', async () => {
    const s = await signIn({ login: user.login, password: user.password });
    // Valid bearer + cookie: the bearer's identity, and no CSRF needed.
    const name = uniqueName('bearer');
    const res = await api(server, 'POST', '/v1/serviceids', {
      ...admin, headers: { Cookie: `iamd_session=${s.cookie}` }, json: { account_id: server.accountId, name },
    });
    assert.equal(res.status, 201, res.text);
    const got = await api(server, 'GET', `/v1/serviceids/${res.body.id}`, { ...admin, query: { include_history: true } });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.history?.[0]?.iam_id, server.iamId, `created by the bearer, not the session: ${got.text.slice(0, 400)}`);
    // A bad bearer with a good cookie: 401, the cookie does not rescue it.
    const bad = await api(server, 'GET', '/v1/serviceids', {
      auth: 'Bearer not-a-token', headers: { Cookie: `iamd_session=${s.cookie}` }, query: { account_id: server.accountId },
    });
    assertIbmError(bad, 401, 'bad bearer');
  });

  test('sign-out: needs the CSRF header; then 204, the cookie cleared and the session gone on the server', async () => {
    const s = await signIn({ login: user.login, password: user.password });
    assertIbmError(await withSession('DELETE', SESSION, s), 403, 'sign-out without CSRF');
    assertIbmError(await withSession('DELETE', SESSION, s, { csrf: s.csrf, headers: { Origin: 'https://evil.example' } }), 403, 'cross-origin sign-out');
    assert.equal((await withSession('GET', SESSION, s)).status, 200, 'still signed in');

    const out = await withSession('DELETE', SESSION, s, { csrf: s.csrf });
    assert.equal(out.status, 204, out.text);
    const line = sessionSetCookie(out);
    assert.match(line ?? '', /^iamd_session=;/, `cleared: ${line}`);
    assert.match(line, /Max-Age=0/i);
    assert.match(line, /HttpOnly/i);
    assert.match(line, /SameSite=Strict/i);
    assert.match(line, /Path=\//);

    assertIbmError(await withSession('GET', SESSION, s), 401, 'the session is gone');
    assertIbmError(await withSession('GET', '/v1/serviceids', s, { query: { account_id: server.accountId } }), 401, 'API call after sign-out');
    assertIbmError(await withSession('DELETE', SESSION, s, { csrf: s.csrf }), 401, 'second sign-out');
  });

  test('signing in again from a browser that has a session replaces it', async () => {
    const s = await signIn({ login: user.login, password: user.password });
    const again = await signIn({ login: user.login, password: user.password }, { Cookie: `iamd_session=${s.cookie}` });
    assert.notEqual(again.cookie, s.cookie);
    assertIbmError(await withSession('GET', SESSION, s), 401, 'the previous session ended');
    assert.equal((await withSession('GET', SESSION, again)).status, 200);
  });
});

describe('sessions end with their identity', () => {
  test("a disabled user's session stops working at once and stays ended after re-enabling", async () => {
    const u = await createUser(server, admin);
    const s = await signIn({ login: u.login, password: u.password });
    assert.equal((await withSession('GET', SESSION, s)).status, 200);
    const userPath = `/v1/accounts/${server.accountId}/users/${u.iamId}`;
    const disable = await api(server, 'PATCH', userPath, { ...admin, headers: { 'If-Match': '*' }, json: { state: 'DISABLED' } });
    assert.equal(disable.status, 200, disable.text);
    assertIbmError(await withSession('GET', SESSION, s), 401, 'disabled user: session');
    assertIbmError(await withSession('GET', '/v1/serviceids', s, { query: { account_id: server.accountId } }), 401, 'disabled user: API');
    const refused = await postJsonFrom(SESSION, { login: u.login, password: u.password }, '127.0.4.4');
    assert.equal(refused.status, 401, `a disabled user cannot sign in: ${refused.text}`);
    const enable = await api(server, 'PATCH', userPath, { ...admin, headers: { 'If-Match': '*' }, json: { state: 'ACTIVE' } });
    assert.equal(enable.status, 200, enable.text);
    assertIbmError(await withSession('GET', SESSION, s), 401, 'the ended session does not come back');
    assert.equal((await signIn({ login: u.login, password: u.password })).body.iam_id, u.iamId);
  });

  test("a deleted user's session and a deleted service ID's session stop working", async () => {
    const u = await createUser(server, admin);
    const us = await signIn({ login: u.login, password: u.password });
    const del = await api(server, 'DELETE', `/v1/accounts/${server.accountId}/users/${u.iamId}`, admin);
    assert.equal(del.status, 204, del.text);
    assertIbmError(await withSession('GET', SESSION, us), 401, 'deleted user');

    const { sid, key } = await serviceIdWithKey(server, admin);
    const ss = await signIn({ apikey: key });
    assert.equal((await withSession('GET', '/v1/serviceids', ss, { query: { account_id: server.accountId } })).status, 200);
    const gone = await api(server, 'DELETE', `/v1/serviceids/${sid.id}`, admin);
    assert.equal(gone.status, 204, gone.text);
    assertIbmError(await withSession('GET', SESSION, ss), 401, 'deleted service ID');
  });

  test('a session signed in with an API key ends when that key is disabled or deleted', async () => {
    const { key, keyId } = await serviceIdWithKey(server, admin);
    const s = await signIn({ apikey: key });
    const disable = await api(server, 'POST', `/v1/apikeys/${keyId}/disable`, admin);
    assert.equal(disable.status, 204, disable.text);
    assertIbmError(await withSession('GET', SESSION, s), 401, 'key disabled');

    const userKey = await createApiKey(server, admin, { iam_id: server.iamId });
    const t = await signIn({ apikey: userKey.apikey });
    assert.equal((await withSession('GET', SESSION, t)).status, 200);
    const removed = await api(server, 'DELETE', `/v1/apikeys/${userKey.id}`, admin);
    assert.equal(removed.status, 204, removed.text);
    assertIbmError(await withSession('GET', SESSION, t), 401, 'key deleted');
  });
});
