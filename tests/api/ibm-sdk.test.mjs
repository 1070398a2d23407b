// IBM's own Node SDK, unchanged, against iamd: the flows of IBM's integration
// test for IAM Identity (service IDs, API keys, account settings, cleanup
// lists), the IamAuthenticator token flow, and configuration from the
// environment as the IT does it.

import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';

import { api, decodeJwt } from './lib/http.mjs';
import { startServer, stopAndCheck } from './lib/server.mjs';

const require = createRequire(import.meta.url);
const IamIdentityV1 = require('@ibm-cloud/platform-services/iam-identity/v1');
const { IamAuthenticator, readExternalSources } = require('ibm-cloud-sdk-core');

let server;
let service;
let accountId;
let iamId;
let apikey;

const now = Date.now();
const apikeyName = `Node-SDK-IT-ApiKey-${now}`;
const serviceIdName = `Node-SDK-IT-ServiceId-${now}`;
const newDescription = 'This is an updated description';

before(async () => {
  server = await startServer();
  ({ accountId, iamId, apikey } = server);
  service = new IamIdentityV1({
    authenticator: new IamAuthenticator({ apikey, url: server.url }),
    serviceUrl: server.url,
  });
});

after(async () => {
  await stopAndCheck(server);
});

/** Runs an SDK call that must fail; returns the error (status, result...). */
async function sdkError(promise) {
  try {
    const res = await promise;
    assert.fail(`expected the SDK call to fail, got HTTP ${res.status}: ${JSON.stringify(res.result).slice(0, 300)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

function pageTokenFromUrl(next) {
  if (!next) return null;
  return new URL(next, server.url).searchParams.get('pagetoken');
}

describe('IamAuthenticator', () => {
  test('authenticate(requestOptions) sets Authorization: Bearer <RS256 JWT> and caches it', async () => {
    const auth = new IamAuthenticator({ apikey, url: server.url });
    const opts = { headers: {} };
    await auth.authenticate(opts);
    const header = opts.headers.Authorization;
    assert.match(header ?? '', /^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const token = header.slice('Bearer '.length);
    const jwks = (await api(server, 'GET', '/identity/keys')).body;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { algorithms: ['RS256'], issuer: `${server.url}/identity` });
    assert.equal(payload.iam_id, iamId);
    const opts2 = { headers: {} };
    await auth.authenticate(opts2);
    assert.equal(opts2.headers.Authorization, header, 'the token manager reuses a valid token');
  });

  test('with clientId/clientSecret bx:bx (sent as Basic) the token flow still works', async () => {
    const auth = new IamAuthenticator({ apikey, url: server.url, clientId: 'bx', clientSecret: 'bx' });
    const opts = { headers: {} };
    await auth.authenticate(opts);
    assert.equal(decodeJwt(opts.headers.Authorization.slice(7)).payload.iam_id, iamId);
  });

  test('a url ending in /identity/token is accepted (the SDK strips it)', async () => {
    const auth = new IamAuthenticator({ apikey, url: `${server.url}/identity/token` });
    const opts = { headers: {} };
    await auth.authenticate(opts);
    assert.match(opts.headers.Authorization, /^Bearer /);
  });

  test('a wrong apikey makes authenticate() reject with the 400', async () => {
    const auth = new IamAuthenticator({ apikey: 'iamd_' + 'W'.repeat(71), url: server.url });
    const err = await sdkError(auth.authenticate({ headers: {} }));
    assert.equal(err.status, 400, `status ${err.status}: ${err.message}`);
  });
});

describe('API keys (IBM IT flow)', () => {
  let apikeyId1;
  let apikeyEtag1;
  let apikeyId2;

  test('createApiKey1 (expiresAt 2049-01-02T18:30:00+0000)', async () => {
    const res = await service.createApiKey({ name: apikeyName, iamId, description: 'NodeSDK test apikey #1', expiresAt: '2049-01-02T18:30:00+0000' });
    assert.equal(res.status, 201);
    apikeyId1 = res.result.id;
    assert.ok(apikeyId1);
    assert.equal(typeof res.result.apikey, 'string');
    assert.ok(res.result.apikey.length >= 32);
  });

  test('createApiKey2', async () => {
    const res = await service.createApiKey({ name: apikeyName, iamId, description: 'NodeSDK test apikey #2' });
    assert.equal(res.status, 201);
    apikeyId2 = res.result.id;
    assert.ok(apikeyId2);
  });

  test('getApiKey (includeHistory, includeActivity)', async () => {
    assert.ok(apikeyId1, 'created');
    const res = await service.getApiKey({ id: apikeyId1, includeHistory: true, includeActivity: true });
    assert.equal(res.status, 200);
    const r = res.result;
    assert.equal(r.id, apikeyId1);
    assert.equal(r.name, apikeyName);
    assert.equal(r.iam_id, iamId);
    assert.equal(r.account_id, accountId);
    assert.equal(r.created_by, iamId);
    assert.ok(r.created_at);
    assert.equal(r.locked, false);
    assert.equal(r.disabled, false);
    assert.ok(r.crn);
    assert.equal(r.support_sessions, false);
    assert.ok(r.action_when_leaked);
    assert.ok(Array.isArray(r.history) && r.history.length > 0, 'Go IT: non-empty history');
    assert.equal(typeof r.activity?.authn_count, 'number', 'Go IT: activity.authn_count');
    apikeyEtag1 = r.entity_tag;
    assert.ok(apikeyEtag1);
    assert.equal(res.headers.etag, apikeyEtag1, 'ETag header == entity_tag');
  });

  test('getApiKeysDetails (iamApiKey = the configured key): created_by == iam_id', async () => {
    const res = await service.getApiKeysDetails({ iamApiKey: apikey, includeHistory: true });
    assert.equal(res.status, 200);
    assert.equal(res.result.iam_id, iamId);
    assert.equal(res.result.account_id, accountId);
    assert.equal(res.result.created_by, iamId);
    assert.ok(res.result.created_at);
    assert.equal(res.result.locked, false);
    assert.ok(Array.isArray(res.result.history) && res.result.history.length > 0);
  });

  test('listApiKeys (pagesize 100 and a pagetoken loop) finds both keys', async () => {
    let pageToken = null;
    const found = [];
    let pages = 0;
    do {
      const res = await service.listApiKeys({ accountId, iamId, pagesize: 100, includeHistory: true, ...(pageToken !== null && { pagetoken: pageToken }) });
      assert.equal(res.status, 200);
      assert.equal(res.result.limit, 100);
      assert.ok(Array.isArray(res.result.apikeys));
      found.push(...res.result.apikeys.filter((k) => k.name === apikeyName));
      pageToken = pageTokenFromUrl(res.result.next);
      pages += 1;
    } while (pageToken != null && pages < 20);
    assert.equal(found.length, 2);
  });

  test('listApiKeys one key per page (Go IT style pagination) visits every key', async () => {
    let pageToken = null;
    const ids = [];
    let pages = 0;
    do {
      const res = await service.listApiKeys({ accountId, iamId, pagesize: 1, ...(pageToken !== null && { pagetoken: pageToken }) });
      assert.equal(res.result.limit, 1);
      assert.ok(res.result.apikeys.length <= 1);
      ids.push(...res.result.apikeys.map((k) => k.id));
      pageToken = pageTokenFromUrl(res.result.next);
      pages += 1;
    } while (pageToken != null && pages < 50);
    assert.ok(ids.includes(apikeyId1) && ids.includes(apikeyId2));
    assert.equal(new Set(ids).size, ids.length, 'no key twice');
  });

  test('updateApiKey with ifMatch', async () => {
    assert.ok(apikeyEtag1, 'etag from getApiKey');
    const res = await service.updateApiKey({ id: apikeyId1, ifMatch: apikeyEtag1, description: newDescription, expiresAt: '2049-01-02T18:30:00+0000' });
    assert.equal(res.status, 200);
    assert.equal(res.result.description, newDescription);
    assert.notEqual(res.result.entity_tag, apikeyEtag1);
  });

  test("updateApiKey with IBM's Node IT body verbatim (expiresAt 2026-01-02T18:30:00+0000, now in the past)", async () => {
    const etag = (await service.getApiKey({ id: apikeyId1 })).result.entity_tag;
    const res = await service.updateApiKey({ id: apikeyId1, ifMatch: etag, description: newDescription, expiresAt: '2026-01-02T18:30:00+0000' });
    assert.equal(res.status, 200);
    assert.equal(res.result.description, newDescription);
  });

  test('updateApiKey with a stale ifMatch is refused', async () => {
    const err = await sdkError(service.updateApiKey({ id: apikeyId1, ifMatch: apikeyEtag1, description: 'stale' }));
    assert.equal(err.status, 409, err.message);
  });

  test('lockApiKey / unlockApiKey', async () => {
    assert.equal((await service.lockApiKey({ id: apikeyId2 })).status, 204);
    assert.equal((await service.getApiKey({ id: apikeyId2 })).result.locked, true);
    assert.equal((await service.unlockApiKey({ id: apikeyId2 })).status, 204);
    assert.equal((await service.getApiKey({ id: apikeyId2 })).result.locked, false);
  });

  test('disableApiKey / enableApiKey', async () => {
    assert.equal((await service.disableApiKey({ id: apikeyId2 })).status, 204);
    assert.equal((await service.getApiKey({ id: apikeyId2 })).result.disabled, true);
    assert.equal((await service.enableApiKey({ id: apikeyId2 })).status, 204);
    assert.equal((await service.getApiKey({ id: apikeyId2 })).result.disabled, false);
  });

  test('deleteApiKey1 / deleteApiKey2, then getApiKey -> 404', async () => {
    for (const id of [apikeyId1, apikeyId2]) {
      assert.equal((await service.deleteApiKey({ id })).status, 204);
      const err = await sdkError(service.getApiKey({ id }));
      assert.equal(err.status, 404, err.message);
    }
  });
});

describe('service IDs (IBM IT flow)', () => {
  let serviceId1;
  let serviceIdEtag1;
  let storedKey;

  test('createServiceId with apikey {name, store_value:true, expires_at}', async () => {
    const res = await service.createServiceId({
      accountId, name: serviceIdName, description: 'NodeSDK ServiceId desc',
      apikey: { name: 'APIKey Name', store_value: true, expires_at: '2049-01-02T18:30:00+0000' },
    });
    assert.equal(res.status, 201);
    serviceId1 = res.result.id;
    assert.ok(serviceId1);
    assert.ok(res.result.apikey?.apikey, 'the key value is returned on create');
    storedKey = res.result.apikey;
  });

  test('getServiceId (includeHistory, includeActivity)', async () => {
    assert.ok(serviceId1, 'created');
    const res = await service.getServiceId({ id: serviceId1, includeHistory: true, includeActivity: true });
    assert.equal(res.status, 200);
    assert.equal(res.result.id, serviceId1);
    assert.equal(res.result.name, serviceIdName);
    assert.equal(res.result.description, 'NodeSDK ServiceId desc');
    serviceIdEtag1 = res.result.entity_tag;
    assert.ok(serviceIdEtag1);
    assert.equal(res.headers.etag, serviceIdEtag1);
  });

  test('the stored service ID key value comes back on getApiKey', async () => {
    const res = await service.getApiKey({ id: storedKey.id });
    assert.equal(res.result.apikey, storedKey.apikey);
  });

  test('listServiceIds by name: length 1, offset 0, next undefined', async () => {
    const res = await service.listServiceIds({ accountId, name: serviceIdName, pagesize: 100 });
    assert.equal(res.status, 200);
    assert.equal(res.result.serviceids.length, 1);
    assert.equal(res.result.offset, 0);
    assert.equal(res.result.next, undefined);
  });

  test('updateServiceId with ifMatch', async () => {
    const res = await service.updateServiceId({ id: serviceId1, ifMatch: serviceIdEtag1, description: newDescription });
    assert.equal(res.status, 200);
    assert.equal(res.result.description, newDescription);
  });

  test('lockServiceId / unlockServiceId', async () => {
    assert.equal((await service.lockServiceId({ id: serviceId1 })).status, 204);
    assert.equal((await service.getServiceId({ id: serviceId1 })).result.locked, true);
    const err = await sdkError(service.deleteServiceId({ id: serviceId1 }));
    assert.equal(err.status, 409, `delete of a locked service ID: ${err.message}`);
    assert.equal((await service.unlockServiceId({ id: serviceId1 })).status, 204);
    assert.equal((await service.getServiceId({ id: serviceId1 })).result.locked, false);
  });

  test('deleteServiceId, then getServiceId -> 404 and its key is gone', async () => {
    assert.equal((await service.deleteServiceId({ id: serviceId1 })).status, 204);
    assert.equal((await sdkError(service.getServiceId({ id: serviceId1 }))).status, 404);
    assert.equal((await sdkError(service.getApiKey({ id: storedKey.id }))).status, 404);
  });
});

describe('account settings and cleanup lists (IBM IT)', () => {
  let etag;

  test('getAccountSettings', async () => {
    const res = await service.getAccountSettings({ accountId });
    assert.equal(res.status, 200);
    const r = res.result;
    assert.equal(r.account_id, accountId);
    for (const f of ['restrict_create_service_id', 'restrict_create_platform_apikey', 'entity_tag', 'mfa', 'history',
      'session_expiration_in_seconds', 'session_invalidation_in_seconds',
      'system_access_token_expiration_in_seconds', 'system_refresh_token_expiration_in_seconds']) {
      assert.notEqual(r[f], undefined, `${f} defined`);
    }
    etag = r.entity_tag;
    assert.equal(res.headers.etag, etag);
  });

  test('updateAccountSettings echoes the values; result.entity_tag === res.headers.etag', async () => {
    const params = {
      ifMatch: etag, accountId,
      restrictCreateServiceId: 'NOT_RESTRICTED',
      restrictCreatePlatformApikey: 'NOT_RESTRICTED',
      restrictUserListVisibility: 'NOT_RESTRICTED',
      restrictUserDomains: [{ realm_id: 'IBMid', invitation_email_allow_patterns: ['*.*@ibm.com'], restrict_invitation: false }],
      mfa: 'NONE',
      userMfa: [{ iam_id: iamId, mfa: 'NONE' }],
      sessionExpirationInSeconds: '86400',
      sessionInvalidationInSeconds: '7200',
      maxSessionsPerIdentity: '10',
      systemAccessTokenExpirationInSeconds: '3600',
      systemRefreshTokenExpirationInSeconds: '259200',
    };
    const res = await service.updateAccountSettings(params);
    assert.equal(res.status, 200);
    const r = res.result;
    assert.equal(r.account_id, accountId);
    assert.equal(r.entity_tag, res.headers.etag);
    assert.equal(r.restrict_create_service_id, 'NOT_RESTRICTED');
    assert.equal(r.restrict_create_platform_apikey, 'NOT_RESTRICTED');
    assert.equal(r.restrict_user_list_visibility, 'NOT_RESTRICTED');
    assert.equal(r.mfa, 'NONE');
    assert.equal(r.session_expiration_in_seconds, '86400');
    assert.equal(r.session_invalidation_in_seconds, '7200');
    assert.equal(r.max_sessions_per_identity, '10');
    assert.equal(r.system_access_token_expiration_in_seconds, '3600');
    assert.equal(r.system_refresh_token_expiration_in_seconds, '259200');
  });

  test('listProfiles, listProfileTemplates, listAccountSettingsTemplates (IT cleanup) -> empty lists', async () => {
    const p = await service.listProfiles({ accountId, includeHistory: false });
    assert.equal(p.status, 200);
    assert.deepEqual(p.result.profiles, []);
    const pt = await service.listProfileTemplates({ accountId });
    assert.equal(pt.status, 200);
    assert.deepEqual(pt.result.profile_templates, []);
    const at = await service.listAccountSettingsTemplates({ accountId });
    assert.equal(at.status, 200);
    assert.deepEqual(at.result.account_settings_templates, []);
  });
});

describe('external configuration (as IBM IT reads it)', () => {
  const names = ['IBM_CREDENTIALS_FILE', 'IAM_IDENTITY_URL', 'IAM_IDENTITY_AUTH_TYPE', 'IAM_IDENTITY_AUTH_URL', 'IAM_IDENTITY_APIKEY',
    'IAM_IDENTITY_ACCOUNT_ID', 'IAM_IDENTITY_IAM_ID', 'IAM_IDENTITY_ENTERPRISE_ACCOUNT_ID', 'IAM_IDENTITY_ENTERPRISE_SUBACCOUNT_ID'];
  const saved = {};
  let dir;

  const settings = () => ({
    IAM_IDENTITY_URL: server.url,
    IAM_IDENTITY_AUTH_TYPE: 'iam',
    IAM_IDENTITY_AUTH_URL: server.url,
    IAM_IDENTITY_APIKEY: apikey,
    IAM_IDENTITY_ACCOUNT_ID: accountId,
    IAM_IDENTITY_IAM_ID: iamId,
    // Only checked to be defined by the IT; a deployer would name the one account.
    IAM_IDENTITY_ENTERPRISE_ACCOUNT_ID: accountId,
    IAM_IDENTITY_ENTERPRISE_SUBACCOUNT_ID: accountId,
  });

  before(async () => {
    for (const k of names) saved[k] = process.env[k];
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'iamd-sdk-'));
  });

  after(async () => {
    for (const k of names) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await fsp.rm(dir, { recursive: true, force: true });
  });

  async function itSetupAndFlow() {
    const svc = IamIdentityV1.newInstance({});
    const config = readExternalSources(IamIdentityV1.DEFAULT_SERVICE_NAME);
    assert.equal(config.accountId, accountId);
    assert.equal(config.iamId, iamId);
    assert.equal(config.apikey, apikey);
    assert.ok(config.enterpriseAccountId !== undefined && config.enterpriseSubaccountId !== undefined);
    // cleanupResources() of the IT: these must all succeed.
    await svc.listApiKeys({ accountId, iamId, pagesize: 100 });
    await svc.listServiceIds({ accountId, pagesize: 100 });
    await svc.listProfiles({ accountId, includeHistory: false });
    await svc.listProfileTemplates({ accountId: config.enterpriseAccountId });
    await svc.listAccountSettingsTemplates({ accountId: config.enterpriseAccountId });
    const det = await svc.getApiKeysDetails({ iamApiKey: config.apikey, includeHistory: true });
    assert.equal(det.result.created_by, config.iamId);
    const created = await svc.createServiceId({ accountId, name: `${serviceIdName}-ext-${Math.random()}` });
    assert.equal(created.status, 201);
    assert.equal((await svc.deleteServiceId({ id: created.result.id })).status, 204);
  }

  test('credentials file iam_identity.env via IBM_CREDENTIALS_FILE (the IT way)', async () => {
    for (const k of names) delete process.env[k];
    const file = path.join(dir, 'iam_identity.env');
    await fsp.writeFile(file, Object.entries(settings()).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    process.env.IBM_CREDENTIALS_FILE = file;
    await itSetupAndFlow();
  });

  test('environment variables only', async () => {
    for (const k of names) delete process.env[k];
    Object.assign(process.env, settings());
    await itSetupAndFlow();
  });
});
