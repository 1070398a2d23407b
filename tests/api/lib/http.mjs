// HTTP helpers for the black-box API tests: plain fetch against a running iamd.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';

export const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';
export const KEY_VALUE_RE = /^iamd_[0-9A-Za-z]{71}$/;
export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
export const UUID_RE = new RegExp(`^${UUID}$`);
export const SERVICE_ID_RE = new RegExp(`^ServiceId-${UUID}$`);
export const APIKEY_ID_RE = new RegExp(`^ApiKey-${UUID}$`);
export const ACCOUNT_ID_RE = /^[0-9a-f]{32}$/;
export const USER_IAM_ID_RE = /^IBMid-[0-9A-Z]{10}$/;
export const ENTITY_TAG_RE = /^\d+-[0-9a-f]{32}$/;
export const IBM_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\+0000$/;
export const BXNIM_RE = /^BXNIM\d{4}E$/;
export const TIMEOUT_MS = 15_000;

export const basicAuth = (user, pass) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
export const apikeyBasic = (key) => basicAuth('apikey', key);

let counter = 0;
/** A name unique within this run. */
export function uniqueName(prefix = 'api-test') {
  counter += 1;
  return `${prefix}-${Date.now()}-${process.pid}-${counter}-${crypto.randomBytes(3).toString('hex')}`;
}

/** A random, well-formed service ID / API key id that exists nowhere. */
export const randomServiceId = () => `ServiceId-${crypto.randomUUID()}`;
export const randomApiKeyId = () => `ApiKey-${crypto.randomUUID()}`;
export const randomAccountId = () => crypto.randomBytes(16).toString('hex');

async function readBody(res) {
  const text = await res.text();
  let body = null;
  if (text.length > 0) {
    try { body = JSON.parse(text); } catch { body = null; }
  }
  return { status: res.status, headers: res.headers, body, text };
}

/**
 * One API call. opts.token (Bearer), opts.apikey (Basic apikey:<key>) or
 * opts.auth (raw Authorization value); opts.json (object, serialised) or
 * opts.body (raw string/Buffer, with opts.contentType); opts.headers; opts.query.
 * Returns {status, headers, body (parsed JSON or null), text}.
 */
export async function api(server, method, path, opts = {}) {
  const base = typeof server === 'string' ? server : server.url;
  const url = new URL(path, base);
  if (opts.query) {
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
  }
  const headers = { Accept: 'application/json', ...(opts.headers ?? {}) };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.apikey) headers.Authorization = apikeyBasic(opts.apikey);
  if (opts.auth) headers.Authorization = opts.auth;
  let body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['Content-Type'] = 'application/json';
  } else if (opts.body !== undefined) {
    body = opts.body;
    if (opts.contentType) headers['Content-Type'] = opts.contentType;
  }
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(opts.timeout ?? TIMEOUT_MS) });
  return readBody(res);
}

/** POST a form (object or URLSearchParams) to `path` (default /identity/token). */
export async function postForm(server, form, { path = '/identity/token', headers = {} } = {}) {
  const base = typeof server === 'string' ? server : server.url;
  const res = await fetch(new URL(path, base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
    body: new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return readBody(res);
}

/** Raw token request for the apikey grant (IBM's IamAuthenticator form). */
export function tokenRequest(url, apikey, extra = {}, headers = {}) {
  const form = { grant_type: APIKEY_GRANT, apikey, ...extra };
  for (const k of Object.keys(form)) if (form[k] === undefined) delete form[k];
  return postForm(url, form, { headers });
}

/** Exchanges an API key for a token; asserts 200 and returns the JSON body. */
export async function getToken(url, apikey) {
  const res = await tokenRequest(typeof url === 'string' ? url : url.url, apikey, { response_type: 'cloud_iam' });
  assert.equal(res.status, 200, `token exchange failed: ${res.status} ${res.text}`);
  assert.equal(typeof res.body?.access_token, 'string', `no access_token in ${res.text}`);
  return res.body;
}

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export const b64urlJson = (obj) => b64url(JSON.stringify(obj));

/** Splits a compact JWS into {header, payload, signature, parts} without verifying it. */
export function decodeJwt(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, `not a compact JWS: ${token.slice(0, 40)}...`);
  return {
    header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
    signature: parts[2],
    parts,
  };
}

/** Asserts the IBM Identity error body: {errors:[{code,message_code,message}], status_code, trace}. */
export function assertIbmError(res, status, what = '') {
  const label = what ? `${what}: ` : '';
  assert.equal(res.status, status, `${label}expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
  assert.ok(res.body && typeof res.body === 'object', `${label}error body is not JSON: ${res.text.slice(0, 200)}`);
  assert.ok(Array.isArray(res.body.errors) && res.body.errors.length >= 1, `${label}errors[] missing: ${res.text}`);
  const e = res.body.errors[0];
  assert.equal(typeof e.code, 'string', `${label}errors[0].code: ${res.text}`);
  assert.ok(e.code.length > 0, `${label}errors[0].code empty`);
  assert.equal(typeof e.message_code, 'string', `${label}errors[0].message_code: ${res.text}`);
  assert.equal(typeof e.message, 'string', `${label}errors[0].message: ${res.text}`);
  assert.ok(e.message.length > 0, `${label}errors[0].message empty`);
  assert.equal(Number(res.body.status_code), status, `${label}status_code: ${res.text}`);
  assert.equal(typeof res.body.trace, 'string', `${label}trace: ${res.text}`);
  assert.ok(res.body.trace.length > 0, `${label}trace empty`);
}

/** Asserts the IBM token-endpoint error body (errorCode/errorMessage/context.requestId + RFC 6749 error). */
export function assertTokenError(res, status, { errorCode, error } = {}) {
  if (Array.isArray(status)) {
    assert.ok(status.includes(res.status), `expected HTTP ${status.join('/')}, got ${res.status}: ${res.text.slice(0, 500)}`);
  } else {
    assert.equal(res.status, status, `expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
  }
  assert.ok(res.body && typeof res.body === 'object', `token error body is not JSON: ${res.text.slice(0, 200)}`);
  assert.match(String(res.body.errorCode), BXNIM_RE, `errorCode: ${res.text}`);
  if (errorCode) assert.equal(res.body.errorCode, errorCode, `errorCode: ${res.text}`);
  assert.equal(typeof res.body.errorMessage, 'string', `errorMessage: ${res.text}`);
  assert.ok(res.body.errorMessage.length > 0, 'errorMessage empty');
  assert.ok(res.body.context && typeof res.body.context === 'object', `context: ${res.text}`);
  assert.equal(typeof res.body.context.requestId, 'string', `context.requestId: ${res.text}`);
  assert.ok(res.body.context.requestId.length > 0, 'context.requestId empty');
  assert.equal(typeof res.body.error, 'string', `RFC 6749 error: ${res.text}`);
  assert.equal(typeof res.body.error_description, 'string', `RFC 6749 error_description: ${res.text}`);
  if (error) {
    if (Array.isArray(error)) assert.ok(error.includes(res.body.error), `error ${res.body.error} not in ${error}`);
    else assert.equal(res.body.error, error, `RFC 6749 error: ${res.text}`);
  }
  assert.equal(res.body.access_token, undefined, 'an error must not carry an access_token');
}

/** Creates a service ID as `auth` (object with token or apikey); asserts 201, returns the body. */
export async function createServiceId(server, auth, fields = {}, headers = {}) {
  const res = await api(server, 'POST', '/v1/serviceids', {
    ...auth,
    headers,
    json: { account_id: server.accountId, name: uniqueName('sid'), ...fields },
  });
  assert.equal(res.status, 201, `create service ID: ${res.status} ${res.text}`);
  return res.body;
}

/** Creates an API key as `auth`; asserts 201, returns the body (with the value). */
export async function createApiKey(server, auth, fields = {}, headers = {}) {
  const res = await api(server, 'POST', '/v1/apikeys', {
    ...auth,
    headers,
    json: { name: uniqueName('key'), ...fields },
  });
  assert.equal(res.status, 201, `create API key: ${res.status} ${res.text}`);
  return res.body;
}

/** A service ID with one API key: {sid, key (value), keyId}. */
export async function serviceIdWithKey(server, auth, fields = {}) {
  const sid = await createServiceId(server, auth, { ...fields, apikey: { name: uniqueName('sidkey'), ...(fields.apikey ?? {}) } });
  assert.ok(sid.apikey, `create with apikey returned no apikey: ${JSON.stringify(sid)}`);
  assert.match(sid.apikey.apikey, KEY_VALUE_RE);
  return { sid, key: sid.apikey.apikey, keyId: sid.apikey.id };
}

/** Follows `next` links; returns {pages, items}. */
export async function listAll(server, auth, path, query, listKey, maxPages = 50) {
  const pages = [];
  const items = [];
  let pagetoken;
  for (let i = 0; i < maxPages; i++) {
    const res = await api(server, 'GET', path, { ...auth, query: { ...query, ...(pagetoken ? { pagetoken } : {}) } });
    assert.equal(res.status, 200, `list ${path} page ${i}: ${res.status} ${res.text}`);
    pages.push(res.body);
    assert.ok(Array.isArray(res.body[listKey]), `${listKey}[] missing: ${res.text.slice(0, 300)}`);
    items.push(...res.body[listKey]);
    if (!('next' in res.body)) return { pages, items };
    assert.equal(typeof res.body.next, 'string', `next must be a string URL: ${JSON.stringify(res.body.next)}`);
    pagetoken = new URL(res.body.next, server.url).searchParams.get('pagetoken');
    assert.ok(pagetoken, `next has no pagetoken: ${res.body.next}`);
  }
  throw new Error(`more than ${maxPages} pages listing ${path}`);
}

/** Polls until fn() is truthy or the time runs out; returns the last value. */
export async function eventually(fn, { timeout = 3000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  let value;
  for (;;) {
    value = await fn();
    if (value || Date.now() >= deadline) return value;
    await new Promise((r) => setTimeout(r, interval));
  }
}
