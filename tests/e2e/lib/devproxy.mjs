// Development aid: serves web/ and emulates the console's session API
// (/console/api/session) in front of a real iamd, so the console can be built
// and its tests run before (or without) a binary that embeds web/.
//
//   node tests/e2e/lib/devproxy.mjs --upstream http://127.0.0.1:8080 [--port 8081]
//
// It follows the contract the real server implements (src/api/console*.c):
// static files under /console/, index.html for / and /console/<route>, the
// same CSP, an HttpOnly SameSite=Strict iamd_session cookie, a CSRF token that
// unsafe methods must echo in X-CSRF-Token. Behind the cookie it holds an
// access token obtained from /identity/token and forwards /v1, /v2 and
// /identity calls to the upstream with it. The real server is authoritative;
// the e2e suite runs against it unless IAMD_E2E_PROXY=1.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const webRoot = path.resolve(here, '..', '..', '..', 'web');

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
};

function ibmError(status, code, messageCode, message) {
  return { errors: [{ code, message_code: messageCode, message }], status_code: status, trace: crypto.randomBytes(16).toString('hex') };
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size > 65536) { reject(new Error('too large')); req.destroy(); } else chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function cookieOf(req) {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'iamd_session') return v.join('=');
  }
  return null;
}

function decodeJwt(token) {
  const payload = token.split('.')[1];
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** Starts the proxy; resolves to { url, port, close() }. */
export async function startDevProxy({ upstream, port = 0, host = '127.0.0.1' }) {
  const sessions = new Map(); // cookie -> session

  function publicSession(s) {
    const { token, ...rest } = s; // eslint-disable-line no-unused-vars
    return rest;
  }

  function live(req) {
    const c = cookieOf(req);
    if (!c) return null;
    const s = sessions.get(c);
    if (!s) return null;
    const now = Math.floor(Date.now() / 1000);
    if (now > s.expires_at || now - s.last_seen > s.idle_timeout) { sessions.delete(c); return null; }
    return { cookie: c, s };
  }

  async function handleSession(req, res) {
    if (req.method === 'GET') {
      const l = live(req);
      if (!l) return send(res, 401, ibmError(401, 'invalid_session', 'BXNIM0308E', 'No valid session. Sign in.'));
      l.s.last_seen = Math.floor(Date.now() / 1000);
      return send(res, 200, publicSession(l.s));
    }
    if (req.method === 'DELETE') {
      const l = live(req);
      if (!l) return send(res, 401, ibmError(401, 'invalid_session', 'BXNIM0308E', 'No valid session. Sign in.'));
      if (req.headers['x-csrf-token'] !== l.s.csrf_token) return send(res, 403, ibmError(403, 'csrf_token_invalid', 'BXNIM0513E', 'Missing or invalid CSRF token.'));
      sessions.delete(l.cookie);
      res.writeHead(204, { 'Set-Cookie': 'iamd_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0', 'Cache-Control': 'no-store' });
      return res.end();
    }
    if (req.method !== 'POST') return send(res, 405, ibmError(405, 'method_not_allowed', 'BXNIM0405E', 'Method not allowed.'));
    let body;
    try { body = JSON.parse((await readBody(req)).toString('utf8')); } catch {
      return send(res, 400, ibmError(400, 'invalid_body', 'BXNIM0109E', 'The body is not valid JSON.'));
    }
    const form = new URLSearchParams();
    if (typeof body.apikey === 'string' && body.apikey) {
      form.set('grant_type', 'urn:ibm:params:oauth:grant-type:apikey');
      form.set('apikey', body.apikey);
    } else if (typeof body.login === 'string' && typeof body.password === 'string') {
      form.set('grant_type', 'password');
      form.set('username', body.login);
      form.set('password', body.password);
    } else {
      return send(res, 400, ibmError(400, 'invalid_body', 'BXNIM0109E', 'Give login and password, or apikey.'));
    }
    const r = await fetch(`${upstream}/identity/token`, { method: 'POST', body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    const tok = await r.json().catch(() => ({}));
    if (r.status === 429) {
      return send(res, 429, ibmError(429, 'too_many_requests', 'BXNIM0431E', 'Too many failed sign-in attempts. Try again later.'),
        { 'Retry-After': r.headers.get('retry-after') ?? '60' });
    }
    if (r.status !== 200) return send(res, 401, ibmError(401, 'invalid_credentials', 'BXNIM0602E', 'The credentials are not valid.'));
    const claims = decodeJwt(tok.access_token);
    const now = Math.floor(Date.now() / 1000);
    const s = {
      iam_id: claims.iam_id, account_id: claims.account?.bss, name: claims.name ?? claims.sub,
      ...(form.get('username') ? { login: form.get('username').toLowerCase() } : {}),
      kind: claims.sub_type === 'ServiceId' ? 'serviceid' : 'user',
      csrf_token: crypto.randomBytes(32).toString('base64url'),
      expires_at: now + Math.min(86400, tok.expires_in ?? 3600), idle_timeout: 7200, last_seen: now, token: tok.access_token,
    };
    const cookie = crypto.randomBytes(32).toString('base64url');
    sessions.set(cookie, s);
    return send(res, 200, publicSession(s), { 'Set-Cookie': `iamd_session=${cookie}; Path=/; HttpOnly; SameSite=Strict` });
  }

  async function forward(req, res) {
    const headers = { ...req.headers };
    delete headers.host; delete headers.cookie; delete headers.connection; delete headers['content-length'];
    const l = live(req);
    if (l && !headers.authorization) {
      if (!['GET', 'HEAD'].includes(req.method) && req.headers['x-csrf-token'] !== l.s.csrf_token) {
        return send(res, 403, ibmError(403, 'csrf_token_invalid', 'BXNIM0513E', 'Missing or invalid CSRF token.'));
      }
      l.s.last_seen = Math.floor(Date.now() / 1000);
      headers.authorization = `Bearer ${l.s.token}`;
    }
    delete headers['x-csrf-token'];
    const body = ['GET', 'HEAD'].includes(req.method) ? undefined : await readBody(req);
    const r = await fetch(`${upstream}${req.url}`, { method: req.method, headers, body, redirect: 'manual' });
    const out = {};
    r.headers.forEach((v, k) => { if (!['content-encoding', 'transfer-encoding', 'connection', 'content-length'].includes(k)) out[k] = v; });
    const buf = Buffer.from(await r.arrayBuffer());
    res.writeHead(r.status, out);
    res.end(buf);
  }

  function serveStatic(req, res) {
    const url = new URL(req.url, 'http://x');
    let rel = null;
    if (url.pathname === '/' || url.pathname === '/console' || url.pathname === '/console/') rel = 'index.html';
    else if (url.pathname.startsWith('/console/')) {
      const sub = url.pathname.slice('/console/'.length);
      const last = sub.split('/').pop();
      rel = last.includes('.') ? sub : 'index.html';
    }
    const full = rel && path.resolve(webRoot, rel);
    if (!full || !full.startsWith(webRoot + path.sep) || !fs.existsSync(full) || !fs.statSync(full).isFile()) {
      return send(res, 404, ibmError(404, 'not_found', 'BXNIM0404E', 'No such API endpoint.'));
    }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(full)] ?? 'application/octet-stream',
      'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY', 'Cache-Control': 'no-cache',
    });
    res.end(fs.readFileSync(full));
  }

  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    const done = (err) => { if (!res.headersSent) send(res, 502, ibmError(502, 'bad_gateway', 'BXNIM0500E', String(err?.message ?? err))); else res.end(); };
    if (p === '/console/api/session') handleSession(req, res).catch(done);
    else if (/^\/(v1|v2|identity|oidc|healthz)(\/|$)/.test(p)) forward(req, res).catch(done);
    else serveStatic(req, res);
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const actual = server.address().port;
  return { url: `http://${host}:${actual}`, port: actual, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
  const p = await startDevProxy({ upstream: arg('--upstream', 'http://127.0.0.1:8080'), port: Number(arg('--port', '8081')) });
  console.log(`console dev proxy on ${p.url}`);
}
