// Helpers for the access-management API tests (issue 3): policies, roles,
// access groups, the service registry, accounts and users, and the PDP
// (/v2/authz). Built on lib/http.mjs; nothing here changes its helpers.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';

import {
  ACCOUNT_ID_RE, TIMEOUT_MS, USER_IAM_ID_RE, api, getToken, postForm, serviceIdWithKey, uniqueName,
} from './http.mjs';

/** Role CRNs (reference 0.3 and 6.1). */
export const ROLE = Object.freeze({
  Viewer: 'crn:v1:bluemix:public:iam::::role:Viewer',
  Operator: 'crn:v1:bluemix:public:iam::::role:Operator',
  Editor: 'crn:v1:bluemix:public:iam::::role:Editor',
  Administrator: 'crn:v1:bluemix:public:iam::::role:Administrator',
  Reader: 'crn:v1:bluemix:public:iam::::serviceRole:Reader',
  Writer: 'crn:v1:bluemix:public:iam::::serviceRole:Writer',
  Manager: 'crn:v1:bluemix:public:iam::::serviceRole:Manager',
  ServiceIdCreator: 'crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator',
  UserApiKeyCreator: 'crn:v1:bluemix:public:iam-identity::::serviceRole:UserApiKeyCreator',
});

export const PLATFORM_ROLES = ['Viewer', 'Operator', 'Editor', 'Administrator'];
export const GENERIC_SERVICE_ROLES = ['Reader', 'Writer', 'Manager'];

/** IBM's ETag: `<rev>-<32 hex>`, optionally in HTTP quotes. */
export const POLICY_ETAG_RE = /^"?\d+-[0-9a-f]{32}"?$/;
/** Policy timestamps: ISO-8601 UTC with milliseconds, "2023-06-23T21:52:23.443Z". */
export const MS_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const POLICY_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const GROUP_ID_RE = /^AccessGroupId-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const PUBLIC_ACCESS_GROUP = 'AccessGroupId-PublicAccess';
export const PLACEHOLDER_DESCRIPTION =
  '**This is a unsupported policy version placeholder, to view the full content, please call GET with provided href**';
export const PLACEHOLDER_ROLE = 'crn:v1:bluemix:public:iam::::role:UnsupportedVersion';

/**
 * The access-side error envelope {trace, errors:[{code, message}], status_code}
 * (reference 2). `code` may be a string or a list of acceptable codes.
 */
export function assertAccessError(res, status, code, what = '') {
  const label = what ? `${what}: ` : '';
  assert.equal(res.status, status, `${label}expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 600)}`);
  assert.ok(res.body && typeof res.body === 'object' && !Array.isArray(res.body),
    `${label}error body is not a JSON object: ${res.text.slice(0, 300)}`);
  assert.ok(Array.isArray(res.body.errors) && res.body.errors.length >= 1, `${label}errors[] missing: ${res.text.slice(0, 400)}`);
  const e = res.body.errors[0];
  assert.equal(typeof e.code, 'string', `${label}errors[0].code: ${res.text.slice(0, 400)}`);
  if (code !== undefined) {
    if (Array.isArray(code)) assert.ok(code.includes(e.code), `${label}errors[0].code ${e.code} not in ${code}: ${res.text.slice(0, 400)}`);
    else assert.equal(e.code, code, `${label}errors[0].code: ${res.text.slice(0, 400)}`);
  }
  assert.equal(typeof e.message, 'string', `${label}errors[0].message: ${res.text.slice(0, 400)}`);
  assert.ok(e.message.length > 0, `${label}errors[0].message is empty`);
  assert.equal(Number(res.body.status_code), status, `${label}status_code: ${res.text.slice(0, 400)}`);
  assert.equal(typeof res.body.trace, 'string', `${label}trace: ${res.text.slice(0, 400)}`);
  assert.ok(res.body.trace.length > 0, `${label}trace is empty`);
}

/** 403 insufficent_permissions (IBM's spelling) in the access or identity envelope. */
export function assertDenied(res, what = '') {
  assertAccessError(res, 403, 'insufficent_permissions', what);
}

export const etagOf = (res) => res.headers.get('etag');

/** Auth object for lib/http.mjs api(): {token}. */
export const bearer = (token) => ({ token });

// ---------------------------------------------------------------- policies

function v1Attributes(attrs) {
  if (Array.isArray(attrs)) return attrs;
  return Object.entries(attrs).map(([name, value]) => ({ name, value }));
}

function v2Attributes(attrs) {
  if (Array.isArray(attrs)) return attrs;
  return Object.entries(attrs).map(([key, value]) => ({ key, operator: 'stringEquals', value }));
}

/** The subject attribute of a policy: iamId or groupId. */
function subjectPair({ iamId, groupId }) {
  if (iamId && groupId) throw new Error('one of iamId or groupId');
  if (iamId) return { name: 'iam_id', value: iamId };
  if (groupId) return { name: 'access_group_id', value: groupId };
  throw new Error('policy subject missing');
}

/**
 * A v1 policy body. roles: role names of ROLE or CRNs; resource: {name: value}
 * (stringEquals) or an explicit attribute array.
 */
export function v1Policy({ iamId, groupId, roles, resource, type = 'access', description }) {
  const body = {
    type,
    subjects: [{ attributes: [subjectPair({ iamId, groupId })] }],
    roles: roles.map((r) => ({ role_id: ROLE[r] ?? r })),
    resources: [{ attributes: v1Attributes(resource) }],
  };
  if (description !== undefined) body.description = description;
  return body;
}

/** A v2 policy body; resource: {key: value} (stringEquals) or an explicit attribute array. */
export function v2Policy({ iamId, groupId, roles, resource, type = 'access', description, rule, pattern }) {
  const s = subjectPair({ iamId, groupId });
  const body = {
    type,
    subject: { attributes: [{ key: s.name, operator: 'stringEquals', value: s.value }] },
    resource: { attributes: v2Attributes(resource) },
    control: { grant: { roles: roles.map((r) => ({ role_id: ROLE[r] ?? r })) } },
  };
  if (description !== undefined) body.description = description;
  if (rule !== undefined) body.rule = rule;
  if (pattern !== undefined) body.pattern = pattern;
  return body;
}

/** POST /v1/policies; asserts 201 and returns the body. */
export async function createV1Policy(server, auth, body) {
  const res = await api(server, 'POST', '/v1/policies', { ...auth, json: body });
  assert.equal(res.status, 201, `create v1 policy: ${res.status} ${res.text.slice(0, 600)}\nbody sent: ${JSON.stringify(body)}`);
  return res.body;
}

/** POST /v2/policies; asserts 201 and returns the body. */
export async function createV2Policy(server, auth, body) {
  const res = await api(server, 'POST', '/v2/policies', { ...auth, json: body });
  assert.equal(res.status, 201, `create v2 policy: ${res.status} ${res.text.slice(0, 600)}\nbody sent: ${JSON.stringify(body)}`);
  return res.body;
}

/**
 * Grants `roles` on `resource` (attributes without accountId, which is added)
 * to an iam_id or a group; returns the policy id.
 */
export async function grant(server, auth, { iamId, groupId, roles, resource = {}, accountId = server.accountId }) {
  const body = v1Policy({ iamId, groupId, roles, resource: { accountId, ...resource } });
  return (await createV1Policy(server, auth, body)).id;
}

/** DELETE /v1/policies/{id}; asserts 204. */
export async function deletePolicy(server, auth, id) {
  const res = await api(server, 'DELETE', `/v1/policies/${id}`, auth);
  assert.equal(res.status, 204, `delete policy ${id}: ${res.status} ${res.text.slice(0, 300)}`);
}

/** Every policy id the list answers (v1 or v2 path), following next.start. */
export async function listPolicyIds(server, auth, { path = '/v1/policies', query = {} } = {}) {
  const ids = [];
  const items = [];
  let start;
  for (let page = 0; page < 100; page++) {
    const res = await api(server, 'GET', path, {
      ...auth, query: { account_id: server.accountId, limit: 100, ...query, ...(start ? { start } : {}) },
    });
    assert.equal(res.status, 200, `list ${path}: ${res.status} ${res.text.slice(0, 300)}`);
    assert.ok(Array.isArray(res.body?.policies), `policies[] missing: ${res.text.slice(0, 300)}`);
    for (const p of res.body.policies) { ids.push(p.id); items.push(p); }
    start = res.body.next?.start;
    if (!start) return { ids, items };
  }
  throw new Error(`more than 100 pages listing ${path}`);
}

/** Attribute value by name in a v1 attribute array or key in a v2 one. */
export function attrValue(attrs, name) {
  const a = (attrs ?? []).find((x) => x.name === name || x.key === name);
  return a?.value;
}

// ---------------------------------------------------------------- identities

/** A service ID with a key and its token: {sid, key, iamId, id, auth}. */
export async function sidWithToken(server, adminAuth, fields = {}) {
  const { sid, key } = await serviceIdWithKey(server, adminAuth, fields);
  const token = (await getToken(server.url, key)).access_token;
  return { sid, key, iamId: sid.iam_id, id: sid.id, auth: { token } };
}

/** Fresh token for a key (after policy changes nothing needs a new token, but keys rotate). */
export async function tokenFor(server, key) {
  return { token: (await getToken(server.url, key)).access_token };
}

// ---------------------------------------------------------------- accounts and users

/** A password that satisfies any sane policy. */
export const strongPassword = () => `Pw-${crypto.randomBytes(9).toString('base64url')}-9a`;
export const uniqueLogin = (prefix = 'user') => `${prefix}${crypto.randomBytes(5).toString('hex')}`;

/** The account id of a POST /v1/accounts answer (`account_id` or `id`). */
export function accountIdOf(body) {
  const id = body?.account_id ?? body?.id ?? body?.account?.id;
  assert.match(String(id), ACCOUNT_ID_RE, `account id in ${JSON.stringify(body).slice(0, 300)}`);
  return id;
}

/** The owner's iam_id of a POST /v1/accounts answer (`owner.iam_id` or `owner_iam_id`). */
export function ownerIamIdOf(body) {
  const id = body?.owner?.iam_id ?? body?.owner_iam_id;
  assert.match(String(id), USER_IAM_ID_RE, `owner iam_id in ${JSON.stringify(body).slice(0, 300)}`);
  return id;
}

/** Password grant (grant_type=password), optionally from another local address. */
export function passwordGrant(server, username, password, { localAddress, headers } = {}) {
  const form = { grant_type: 'password', username, password };
  if (!localAddress) return postForm(server.url, form, { headers });
  return postFormFrom(server, form, localAddress, headers);
}

/** POST a form to /identity/token from `localAddress` (e.g. 127.0.0.2) with node:http. */
export function postFormFrom(server, form, localAddress, headers = {}) {
  return requestFrom(server, localAddress, 'POST', '/identity/token', {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

/**
 * One request from the local address `localAddress` (e.g. 127.0.0.2: the
 * server sees it as the client's address) with node:http; `body` a string.
 * Returns {status, headers (a Headers), body (parsed JSON or null), text}.
 */
export function requestFrom(server, localAddress, method, path, { headers = {}, body } = {}) {
  const u = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, localAddress,
      headers: body === undefined ? headers : { 'Content-Length': Buffer.byteLength(body), ...headers },
      timeout: TIMEOUT_MS,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
        const hdrs = new Headers();
        for (const [k, v] of Object.entries(res.headers)) hdrs.set(k, Array.isArray(v) ? v.join(', ') : String(v));
        resolve({ status: res.statusCode, headers: hdrs, body: parsed, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Creates an account as the operator, with an owner who has a password, and
 * logs the owner in: {accountId, ownerIamId, login, password, auth, body}.
 */
export async function createAccount(server, operatorAuth, { name = uniqueName('acct') } = {}) {
  const login = uniqueLogin('owner');
  const password = strongPassword();
  const res = await api(server, 'POST', '/v1/accounts', {
    ...operatorAuth, json: { name, owner: { login, email: `${login}@example.com`, password } },
  });
  assert.equal(res.status, 201, `create account: ${res.status} ${res.text.slice(0, 400)}`);
  const accountId = accountIdOf(res.body);
  const ownerIamId = ownerIamIdOf(res.body);
  const tok = await passwordGrant(server, login, password);
  assert.equal(tok.status, 200, `owner password grant: ${tok.status} ${tok.text.slice(0, 300)}`);
  return { accountId, ownerIamId, login, password, auth: { token: tok.body.access_token }, body: res.body };
}

/** Creates a user with a password in `accountId` and logs in: {user, login, password, iamId, auth}. */
export async function createUser(server, auth, accountId = server.accountId, fields = {}) {
  const login = fields.login ?? uniqueLogin('u');
  const password = fields.password ?? strongPassword();
  const res = await api(server, 'POST', `/v1/accounts/${accountId}/users`, {
    ...auth,
    json: { login, email: `${login}@example.com`, given_name: 'Given', family_name: 'Family', password, ...fields },
  });
  assert.equal(res.status, 201, `create user: ${res.status} ${res.text.slice(0, 400)}`);
  assert.match(String(res.body?.iam_id), USER_IAM_ID_RE, `user iam_id: ${res.text.slice(0, 300)}`);
  const tok = await passwordGrant(server, login, password);
  assert.equal(tok.status, 200, `user password grant: ${tok.status} ${tok.text.slice(0, 300)}`);
  return { user: res.body, login, password, iamId: res.body.iam_id, auth: { token: tok.body.access_token } };
}

// ---------------------------------------------------------------- service registry and PDP

/** A short, valid, unique service name. */
export const uniqueServiceName = (prefix = 'tsvc') => `${prefix}-${crypto.randomBytes(4).toString('hex')}`;

/**
 * A service definition with thing.read/write/delete (Reader/Writer/Manager)
 * and instance.view/manage (Viewer..Administrator).
 */
export function serviceDefinition(name, pdpClients, extra = {}) {
  const a = (noun, verb) => `${name}.${noun}.${verb}`;
  return {
    name,
    display_name: `Test service ${name}`,
    service_type: 'service',
    pdp_clients: pdpClients,
    actions: [
      { id: a('thing', 'read'), display_name: 'Read things' },
      { id: a('thing', 'write'), display_name: 'Write things' },
      { id: a('thing', 'delete'), display_name: 'Delete things' },
      { id: a('instance', 'view'), display_name: 'View instances' },
      { id: a('instance', 'manage'), display_name: 'Manage instances' },
    ],
    roles: {
      Reader: [a('thing', 'read')],
      Writer: [a('thing', 'read'), a('thing', 'write')],
      Manager: [a('thing', 'read'), a('thing', 'write'), a('thing', 'delete')],
      Viewer: [a('instance', 'view')],
      Operator: [a('instance', 'view')],
      Editor: [a('instance', 'view'), a('instance', 'manage')],
      Administrator: [a('instance', 'view'), a('instance', 'manage')],
    },
    resource_types: ['thing', 'bucket'],
    ...extra,
  };
}

/** PUT /v1/services/{name}; asserts 200 or 201 and returns the response. */
export async function registerService(server, operatorAuth, definition) {
  const res = await api(server, 'PUT', `/v1/services/${definition.name}`, { ...operatorAuth, json: definition });
  assert.ok(res.status === 201 || res.status === 200, `register service ${definition.name}: ${res.status} ${res.text.slice(0, 400)}`);
  return res;
}

/** A /v2/authz subject by iam_id. */
export const subjectById = (id, scope) => ({ attributes: scope ? { id, scope } : { id } });
/** A /v2/authz subject by token payload (base64url of the JWT's middle part). */
export const subjectByToken = (accessToken) => ({ accessTokenBody: accessToken.split('.')[1] });

/** POST /v2/authz with an array of requests. */
export const authz = (server, auth, items, headers = {}) =>
  api(server, 'POST', '/v2/authz', { ...auth, json: items, headers });

/** Asserts a /v2/authz answer: 200, one response per item; returns the `permitted` list. */
export function permittedList(res, count) {
  assert.equal(res.status, 200, `/v2/authz: ${res.status} ${res.text.slice(0, 600)}`);
  assert.ok(Array.isArray(res.body?.responses), `responses[] missing: ${res.text.slice(0, 300)}`);
  assert.equal(res.body.responses.length, count, `one response per request: ${res.text.slice(0, 600)}`);
  return res.body.responses.map((r, i) => {
    assert.equal(r.status, '200', `responses[${i}].status is the string "200": ${JSON.stringify(r).slice(0, 300)}`);
    assert.equal(typeof r.authorizationDecision?.permitted, 'boolean', `responses[${i}].authorizationDecision.permitted: ${JSON.stringify(r).slice(0, 300)}`);
    return r.authorizationDecision.permitted;
  });
}

/** One decision through /v2/authz: resolves to true/false. */
export async function decide(server, pdpAuth, subjectIamId, action, resourceAttributes) {
  const res = await authz(server, pdpAuth, [{ subject: subjectById(subjectIamId), action, resource: { attributes: resourceAttributes } }]);
  return permittedList(res, 1)[0];
}
