// Several iamd nodes on one PostgreSQL database serving as one system (issue 6).
//
// Starts its own throwaway PostgreSQL cluster and three iamd nodes (A, B, C)
// on one database, with the same pepper and KEK (IAMD_PEPPER, IAMD_KEK), the
// same --public-url (the token issuer), distinct ports and data dirs, and the
// default --engine-refresh-ms (500): the bound asserted is the documented one,
// a change reaches every node within 1 s. The tests run in order and share
// the nodes:
//   bootstrap once, cross-node reads, console sessions shared by the nodes,
//   propagation (measured), usage counters
//   adding up, coordinated signing-key rotation, PostgreSQL stopped and started
//   again under load, SIGKILL of a node under a bounded write load, and serving
//   tokens and decisions from memory during a short outage (--max-staleness).
// Every process is killed and the cluster removed at the end, also on failure.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  api, assertTokenError, createServiceId, decodeJwt, getToken, listAll, serviceIdWithKey, tokenRequest, uniqueName,
} from '../api/lib/http.mjs';
import {
  assertAccessError, authz, deletePolicy, grant, permittedList, registerService, serviceDefinition, subjectById,
  uniqueServiceName,
} from '../api/lib/access.mjs';
import {
  IamdNode, PgCluster, cleanupSync, iamdBinary, logDir, now, randomSecret, sleep, stopAndCheckNodes, tempDir,
} from './lib/cluster.mjs';

/** The bound the docs promise for a change on one node to reach every node. */
const PROPAGATION_BOUND_MS = 1000;
/** How long a probe keeps trying before the test reports the bound as missed. */
const PROBE_LIMIT_MS = 3000;
const PUBLIC_URL = 'http://iam.cluster.test';
const DATABASE = 'iamd_cluster';

let pg;
let workDir;
let logs;
let nodes = [];
let A; let B; let C;
let accountId;
let bootstrapKey;
let admin;            // {token}: the account owner's token, valid on every node (same issuer and keys)
const secrets = { IAMD_PEPPER: randomSecret(), IAMD_KEK: randomSecret() };
const latencies = {}; // what the propagation tests measured, printed at the end

/** Whether the binary knows --max-staleness (the outage work): test h runs for real only then. */
function supportsMaxStaleness() {
  try {
    return execFileSync(iamdBinary(), ['--help'], { encoding: 'utf8', timeout: 10_000 }).includes('--max-staleness');
  } catch {
    return false;
  }
}

/** A server-like object for the lib/http.mjs helpers: the node's URL and the account. */
const on = (node) => ({ url: node.url, accountId });

/** Starts all `list` nodes at the same time; waits for every start to end, then throws the first failure. */
async function startAll(list) {
  const outcomes = await Promise.allSettled(list.map((node) => node.start()));
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Calls `probe(node)` on every node in parallel, back to back, until `done(result)`
 * or PROBE_LIMIT_MS after t0; resolves to {node: {ms, result}} with ms the time from
 * t0 to the answer that showed the change (Infinity when it never did).
 */
async function measureFlip(t0, list, probe, done) {
  const out = {};
  await Promise.all(list.map(async (node) => {
    let result;
    for (;;) {
      result = await probe(node);
      const at = now();
      if (done(result)) { out[node.name] = { ms: at - t0, result }; return; }
      if (at - t0 > PROBE_LIMIT_MS) { out[node.name] = { ms: Infinity, result }; return; }
      await sleep(5);
    }
  }));
  return out;
}

function assertWithinBound(what, flips) {
  latencies[what] = Object.fromEntries(Object.entries(flips).map(([n, f]) => [n, Math.round(f.ms)]));
  for (const [name, { ms, result }] of Object.entries(flips)) {
    assert.ok(ms < PROPAGATION_BOUND_MS,
      `${what}: node ${name} took ${ms} ms (bound ${PROPAGATION_BOUND_MS} ms); last answer ${result?.status} ${result?.text?.slice(0, 300)}`);
  }
}

const describeFlips = (flips) => Object.entries(flips).map(([n, f]) => `${n} ${Math.round(f.ms)} ms`).join(', ');

before(async () => {
  workDir = await tempDir('iamd-cluster-');
  logs = await logDir('iamd-cluster-logs-');
  pg = await PgCluster.start();
  await pg.createDatabase(DATABASE);
  const databaseUrl = pg.databaseUrl(DATABASE);
  for (const name of ['A', 'B', 'C']) {
    nodes.push(await IamdNode.create({
      name, databaseUrl, workDir, logs, env: secrets, args: ['--public-url', PUBLIC_URL, '--log-level', 'info'],
    }));
  }
  [A, B, C] = nodes;
});

after(async () => {
  try {
    console.log(`# measured propagation (ms from sending the change on A): ${JSON.stringify(latencies)}`);
    await stopAndCheckNodes(nodes);
    await pg.destroy();
  } finally {
    cleanupSync();
  }
});

describe('three nodes on one PostgreSQL database', { concurrency: false }, () => {
  test('a. bootstrap happens once: three nodes started together on an empty database', async () => {
    await startAll(nodes);
    const withKeyFile = [];
    for (const node of nodes) {
      try {
        const saved = JSON.parse(await fsp.readFile(path.join(node.dataDir, 'bootstrap-apikey.json'), 'utf8'));
        withKeyFile.push({ node, saved });
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
      }
    }
    assert.equal(withKeyFile.length, 1, `exactly one node saves bootstrap-apikey.json: ${withKeyFile.map((w) => w.node.name)}`);
    const announced = nodes.filter((node) => node.output.includes('first start: created account'));
    assert.deepEqual(announced.map((n) => n.name), [withKeyFile[0].node.name], 'the same node, and only it, prints the key');
    const { saved } = withKeyFile[0];
    accountId = saved.account_id;
    bootstrapKey = saved.apikey;
    const others = nodes.filter((n) => n !== withKeyFile[0].node);
    for (const node of others) assert.ok(!node.output.includes(bootstrapKey), `node ${node.name} never prints the key`);

    // One account, one owner, one key in the database.
    const [accounts] = await pg.sql(DATABASE, 'SELECT count(*) FROM accounts');
    const [keys] = await pg.sql(DATABASE, 'SELECT count(*) FROM apikeys');
    assert.equal(accounts, '1', 'one account');
    assert.equal(keys, '1', 'one API key');

    // The key works on every node, and a token from one node is accepted by the others.
    const tokens = await Promise.all(nodes.map((node) => getToken(node.url, bootstrapKey)));
    admin = { token: tokens[0].access_token };
    for (const [i, node] of nodes.entries()) {
      assert.equal(decodeJwt(tokens[i].access_token).payload.iss, `${PUBLIC_URL}/identity`);
      const res = await api(node, 'GET', '/v1/serviceids', { ...admin, query: { account_id: accountId } });
      assert.equal(res.status, 200, `node ${node.name} accepts node A's token: ${res.status} ${res.text.slice(0, 300)}`);
    }
  });

  test('b. cross-node reads: service ID, key, policy and group created on A are read through B and C at once', async () => {
    const { sid, key, keyId } = await serviceIdWithKey(on(A), admin);
    const policyId = await grant(on(A), admin, { iamId: sid.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } });
    const group = await api(A, 'POST', '/v2/groups', { ...admin, query: { account_id: accountId }, json: { name: uniqueName('grp') } });
    assert.equal(group.status, 201, group.text);
    const members = await api(A, 'PUT', `/v2/groups/${group.body.id}/members`,
      { ...admin, json: { members: [{ iam_id: sid.iam_id, type: 'service' }] } });
    assert.ok([200, 207].includes(members.status), `add member: ${members.status} ${members.text.slice(0, 300)}`);

    // No waiting: the first read on each node after the writes were acknowledged.
    await Promise.all([B, C].map(async (node) => {
      const [s, k, p, g, m, t] = await Promise.all([
        api(node, 'GET', `/v1/serviceids/${sid.id}`, admin),
        api(node, 'GET', `/v1/apikeys/${keyId}`, admin),
        api(node, 'GET', `/v1/policies/${policyId}`, admin),
        api(node, 'GET', `/v2/groups/${group.body.id}`, admin),
        api(node, 'GET', `/v2/groups/${group.body.id}/members`, admin),
        tokenRequest(node.url, key),
      ]);
      assert.equal(s.status, 200, `${node.name} service ID: ${s.text.slice(0, 300)}`);
      assert.equal(s.body.name, sid.name);
      assert.equal(k.status, 200, `${node.name} API key: ${k.text.slice(0, 300)}`);
      assert.equal(k.body.iam_id, sid.iam_id);
      assert.notEqual(k.body.apikey, key, 'the key value is never read back');
      assert.equal(p.status, 200, `${node.name} policy: ${p.text.slice(0, 300)}`);
      assert.equal(p.body.id, policyId);
      assert.equal(g.status, 200, `${node.name} group: ${g.text.slice(0, 300)}`);
      assert.equal(g.body.name, group.body.name);
      assert.equal(m.status, 200, `${node.name} members: ${m.text.slice(0, 300)}`);
      assert.deepEqual(m.body.members.map((x) => x.iam_id), [sid.iam_id]);
      assert.equal(t.status, 200, `${node.name} token with the new key: ${t.text.slice(0, 300)}`);
    }));
  });

  test('b2. console sessions are shared: signed in on A, used (read and write) on B and C, signed out on B, refused on A and C', async () => {
    const SESSION = '/console/api/session';
    const origin = { Origin: PUBLIC_URL }; // behind a load balancer the browser's origin is the public URL
    const signIn = await api(A, 'POST', SESSION, { json: { apikey: bootstrapKey }, headers: origin });
    assert.equal(signIn.status, 200, `sign-in on A: ${signIn.status} ${signIn.text.slice(0, 300)}`);
    const line = signIn.headers.getSetCookie().find((l) => l.startsWith('iamd_session='));
    assert.ok(line, 'A sets the session cookie');
    const cookie = line.slice('iamd_session='.length).split(';')[0];
    const csrf = signIn.body.csrf_token;
    assert.match(csrf, /^[A-Za-z0-9_-]{43}$/);
    const withCookie = (node, method, urlPath, { json, query, csrfToken } = {}) => api(node, method, urlPath, {
      json, query, headers: { Cookie: `iamd_session=${cookie}`, ...origin, ...(csrfToken ? { 'X-CSRF-Token': csrfToken } : {}) },
    });

    // The table holds the cookie's SHA-256, never the cookie.
    const hash = crypto.createHash('sha256').update(cookie).digest('hex');
    const stored = async () => (await pg.sql(DATABASE, `SELECT count(*) FROM console_sessions WHERE hash = decode('${hash}', 'hex')`))[0];
    assert.equal(await stored(), '1', 'one row named by the hash');

    const names = [];
    for (const node of [B, C]) {
      const session = await withCookie(node, 'GET', SESSION);
      assert.equal(session.status, 200, `${node.name} reads the session: ${session.status} ${session.text.slice(0, 300)}`);
      assert.equal(session.body.csrf_token, csrf, `${node.name} derives the same CSRF token`);
      assert.equal(session.body.account_id, accountId);
      const read = await withCookie(node, 'GET', '/v1/serviceids', { query: { account_id: accountId, pagesize: 1 } });
      assert.equal(read.status, 200, `${node.name} read with the cookie: ${read.status} ${read.text.slice(0, 300)}`);
      const name = uniqueName(`console-${node.name}`);
      const refused = await withCookie(node, 'POST', '/v1/serviceids', { json: { account_id: accountId, name } });
      assert.equal(refused.status, 403, `${node.name} refuses a write without the CSRF token: ${refused.text.slice(0, 300)}`);
      const wrong = await withCookie(node, 'POST', '/v1/serviceids', { json: { account_id: accountId, name }, csrfToken: 'A'.repeat(43) });
      assert.equal(wrong.status, 403, `${node.name} refuses a wrong CSRF token`);
      const write = await withCookie(node, 'POST', '/v1/serviceids', { json: { account_id: accountId, name }, csrfToken: csrf });
      assert.equal(write.status, 201, `${node.name} write with cookie and CSRF token: ${write.status} ${write.text.slice(0, 300)}`);
      names.push(write.body.name);
    }
    assert.equal(names.length, 2);

    const out = await withCookie(B, 'DELETE', SESSION, { csrfToken: csrf });
    assert.equal(out.status, 204, `sign-out on B: ${out.status} ${out.text.slice(0, 300)}`);
    assert.equal(await stored(), '0', 'the row is gone');
    // No waiting: the first requests on A and C after the sign-out was acknowledged.
    for (const node of [A, C]) {
      const session = await withCookie(node, 'GET', SESSION);
      assert.equal(session.status, 401, `${node.name} after sign-out: ${session.status} ${session.text.slice(0, 300)}`);
      const read = await withCookie(node, 'GET', '/v1/serviceids', { query: { account_id: accountId, pagesize: 1 } });
      assert.equal(read.status, 401, `${node.name} refuses the cookie on the API: ${read.status} ${read.text.slice(0, 300)}`);
      const write = await withCookie(node, 'POST', '/v1/serviceids',
        { json: { account_id: accountId, name: uniqueName('after-sign-out') }, csrfToken: csrf });
      assert.equal(write.status, 401, `${node.name} refuses a write after sign-out: ${write.status}`);
    }
  });

  describe('c. propagation of changes made on A to B and C (bound 1 s, default --engine-refresh-ms)', { concurrency: false }, () => {
    let pdpAuth;
    let svc;
    before(async () => {
      const pdp = await serviceIdWithKey(on(A), admin);
      svc = uniqueServiceName('prop');
      await registerService(on(A), admin, serviceDefinition(svc, [pdp.sid.iam_id]));
      pdpAuth = { token: (await getToken(A.url, pdp.key)).access_token };
      // The registration reaches B and C like any change; wait for it before measuring anything.
      const probe = (node) => authz(node, pdpAuth, [{ subject: subjectById(pdp.sid.iam_id), action: `${svc}.thing.read`,
        resource: { attributes: { accountId, serviceName: svc } } }]);
      const ready = await measureFlip(now(), [B, C], probe, (r) => r.status === 200 && r.body?.responses?.[0]?.status === '200');
      assertWithinBound('service registration', ready);
    });

    const decision = (subject) => (node) => authz(node, pdpAuth, [{
      subject: subjectById(subject), action: `${svc}.thing.read`, resource: { attributes: { accountId, serviceName: svc } },
    }]);
    const permitted = (r) => permittedList(r, 1)[0];

    test('a policy granted on A permits on B and C, and its deletion denies again, within 1 s', async (t) => {
      const subject = await createServiceId(on(A), admin);
      for (const node of [B, C]) assert.equal(permitted(await decision(subject.iam_id)(node)), false, `${node.name} before`);

      let t0 = now();
      const policyId = await grant(on(A), admin, { iamId: subject.iam_id, roles: ['Reader'], resource: { serviceName: svc } });
      const granted = await measureFlip(t0, [B, C], decision(subject.iam_id), (r) => r.status === 200 && permitted(r));
      t.diagnostic(`grant: ${describeFlips(granted)}`);
      assertWithinBound('policy grant', granted);

      t0 = now();
      await deletePolicy(on(A), admin, policyId);
      const revoked = await measureFlip(t0, [B, C], decision(subject.iam_id), (r) => r.status === 200 && !permitted(r));
      t.diagnostic(`revoke: ${describeFlips(revoked)}`);
      assertWithinBound('policy delete', revoked);
    });

    test('an API key disabled on A stops minting tokens on B and C within 1 s', async (t) => {
      const { key, keyId } = await serviceIdWithKey(on(A), admin);
      for (const node of [B, C]) assert.equal((await tokenRequest(node.url, key)).status, 200, `${node.name} before`);

      const t0 = now();
      const res = await api(A, 'POST', `/v1/apikeys/${keyId}/disable`, admin);
      assert.ok(res.status >= 200 && res.status < 300, `disable: ${res.status} ${res.text.slice(0, 300)}`);
      const stopped = await measureFlip(t0, [B, C], (node) => tokenRequest(node.url, key), (r) => r.status !== 200);
      t.diagnostic(`disabled key: ${describeFlips(stopped)}`);
      assertWithinBound('key disabled', stopped);
      for (const { result } of Object.values(stopped)) assertTokenError(result, [400, 401, 403]);
    });

    test("a service ID deleted on A: its access token stops being accepted on B within 1 s", async (t) => {
      const { sid, key } = await serviceIdWithKey(on(A), admin);
      await grant(on(A), admin, { iamId: sid.iam_id, roles: ['Viewer'], resource: { serviceName: 'iam-identity' } });
      const token = { token: (await getToken(A.url, key)).access_token };
      const read = (node) => api(node, 'GET', '/v1/serviceids', { ...token, query: { account_id: accountId, pagesize: 1 } });
      // Accepted on B (and so in B's verified-token cache) before the deletion.
      const accepted = await measureFlip(now(), [B], read, (r) => r.status === 200);
      assert.ok(accepted.B.ms < PROBE_LIMIT_MS, `B accepts the token before: ${accepted.B.result.text.slice(0, 300)}`);

      const t0 = now();
      const res = await api(A, 'DELETE', `/v1/serviceids/${sid.id}`, admin);
      assert.equal(res.status, 204, `delete: ${res.status} ${res.text.slice(0, 300)}`);
      const stopped = await measureFlip(t0, [B, C], read, (r) => r.status !== 200);
      t.diagnostic(`deleted service ID's token: ${describeFlips(stopped)}`);
      assertWithinBound('service ID deleted', stopped);
      for (const { result } of Object.values(stopped)) assertAccessError(result, 401);
    });
  });

  test('e. usage counters: N tokens through each node with one key add up to 3N', async (t) => {
    const N = 10;
    const { key, keyId } = await serviceIdWithKey(on(A), admin);
    await Promise.all(nodes.map(async (node) => {
      for (let i = 0; i < N; i++) {
        const r = await tokenRequest(node.url, key);
        assert.equal(r.status, 200, `${node.name} token ${i}: ${r.text.slice(0, 200)}`);
      }
    }));
    const t0 = now();
    const count = async (node) => {
      const r = await api(node, 'GET', `/v1/apikeys/${keyId}`, { ...admin, query: { include_activity: true } });
      assert.equal(r.status, 200, r.text.slice(0, 300));
      assert.equal(typeof r.body.activity?.last_authn, 'string', `last_authn: ${r.text.slice(0, 300)}`);
      return r.body.activity.authn_count;
    };
    // Each node flushes its counts every --usage-flush-ms (1000): after that every node reads 3N.
    let counts;
    for (;;) {
      counts = await Promise.all(nodes.map(count));
      for (const c of counts) assert.ok(c <= 3 * N, `never more than 3N: ${counts}`);
      if (counts.every((c) => c === 3 * N) || now() - t0 > 3000) break;
      await sleep(100);
    }
    t.diagnostic(`authn_count ${counts} after ${Math.round(now() - t0)} ms`);
    assert.deepEqual(counts, [3 * N, 3 * N, 3 * N], 'every node reads the sum within a flush interval (plus slack)');
    await sleep(1200); // one more flush: nothing is counted twice
    assert.deepEqual(await Promise.all(nodes.map(count)), [3 * N, 3 * N, 3 * N], 'still 3N after another flush');
  });

  test('d. coordinated rotation: every node publishes the next key before any node signs with it', async (t) => {
    // --key-rotation cannot go below 600 s: to see a rotation within the suite, the
    // nodes are stopped and the keys' schedule moved back so that the next key
    // activates LEAD_S seconds from now (the keys themselves are untouched).
    const LEAD_S = 6;
    await Promise.all(nodes.map((node) => node.stop()));
    const before = await pg.sql(DATABASE, 'SELECT kid, activate_at FROM signing_keys ORDER BY activate_at');
    assert.equal(before.length, 2, `an active key and its successor: ${before}`);
    const [k1, k2] = before.map((line) => line.split('\t')[0]);
    const shift = Number(before[1].split('\t')[1]) - (Math.floor(Date.now() / 1000) + LEAD_S);
    await pg.sql(DATABASE, `UPDATE signing_keys SET created_at = created_at - ${shift}, activate_at = activate_at - ${shift},
      retire_at = retire_at - ${shift}, expire_at = expire_at - ${shift}`);
    const outputBefore = nodes.map((node) => node.output.length);
    await startAll(nodes);
    for (const node of nodes) assert.ok(!node.runOutput.includes('first start'), `no second bootstrap on ${node.name}`);

    const published = {}; // kid -> node -> first time (answer received) its JWKS listed it
    const signed = {};    // kid -> node -> first time (request sent) it signed with it
    const tokens = {};    // kid -> node -> a token
    let jwks = {};
    let sawBefore = false;
    const t0 = now();
    for (;;) {
      const round = await Promise.all(nodes.map(async (node) => {
        const keys = await api(node, 'GET', '/identity/keys');
        const keysAt = now();
        const sentAt = now();
        const token = await getToken(node.url, bootstrapKey);
        return { node, keys, keysAt, sentAt, token: token.access_token };
      }));
      for (const { node, keys, keysAt, sentAt, token } of round) {
        assert.equal(keys.status, 200, keys.text.slice(0, 300));
        jwks[node.name] = keys.body.keys;
        for (const { kid } of keys.body.keys) ((published[kid] ??= {})[node.name] ??= keysAt);
        const { kid } = decodeJwt(token).header;
        (signed[kid] ??= {})[node.name] ??= sentAt;
        (tokens[kid] ??= {})[node.name] ??= token;
      }
      const kidsOf = (name) => jwks[name].map((k) => k.kid).sort().join(',');
      if (round.every((r) => decodeJwt(r.token).header.kid === k1)) sawBefore = true;
      const allSignK2 = nodes.every((node) => signed[k2]?.[node.name] !== undefined);
      const sameKeys = nodes.every((node) => kidsOf(node.name) === kidsOf('A'));
      if ((allSignK2 && sameKeys && jwks.A.length === 3) || now() - t0 > LEAD_S * 1000 + 15_000) break;
      await sleep(200);
    }
    assert.ok(sawBefore, 'the nodes were up before the switch (every node signed with the old key at first)');
    for (const node of nodes) {
      assert.ok(signed[k2]?.[node.name] !== undefined, `node ${node.name} signs with the new key ${k2}: ${JSON.stringify(Object.keys(signed))}`);
    }
    // Every kid any node started signing with during the observation was listed by every node before.
    for (const [kid, byNode] of Object.entries(signed)) {
      if (kid === k1) continue; // already signing when the nodes came up
      const firstSigned = Math.min(...Object.values(byNode));
      for (const node of nodes) {
        const at = published[kid]?.[node.name];
        assert.ok(at !== undefined && at < firstSigned,
          `${kid}: published by ${node.name} at ${at} before the first signature at ${firstSigned}`);
      }
    }
    // The successor of the new key was created once, by one node, and every node publishes the same three keys.
    const kidsA = jwks.A.map((k) => k.kid).sort();
    for (const node of nodes) {
      assert.deepEqual(jwks[node.name].map((k) => k.kid).sort(), kidsA, `node ${node.name} publishes the same keys as A`);
      assert.deepEqual(jwks[node.name], jwks.A, `node ${node.name}: the same JWKS documents`);
    }
    assert.equal(kidsA.length, 3, `the retired, the active and the next key: ${kidsA}`);
    const k3 = kidsA.find((kid) => kid !== k1 && kid !== k2);
    assert.equal(signed[k3], undefined, 'nobody signs with the next key yet');
    const rows = await pg.sql(DATABASE, 'SELECT kid FROM signing_keys ORDER BY activate_at');
    assert.deepEqual(rows, [k1, k2, k3], 'one successor in the database');
    const creators = nodes.filter((node, i) => node.output.slice(outputBefore[i]).includes(`"signing_key_created","msg":"kid=${k3}`));
    assert.equal(creators.length, 1, `one node created ${k3}: ${creators.map((n) => n.name)}`);
    t.diagnostic(`switch to ${k2} observed; ${k3} created by node ${creators[0].name}, published by all after ${Math.round(now() - t0)} ms`);

    // Tokens of both keys, from every node, verify on every node: offline with its JWKS, and by its API.
    for (const [kid, byNode] of Object.entries(tokens)) {
      if (kid !== k1 && kid !== k2) continue;
      for (const [from, token] of Object.entries(byNode)) {
        for (const node of nodes) {
          const jwk = jwks[node.name].find((k) => k.kid === kid);
          assert.ok(jwk, `${node.name} publishes ${kid}`);
          const { parts } = decodeJwt(token);
          const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`),
            crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(parts[2], 'base64url'));
          assert.ok(ok, `token from ${from} (${kid}) verifies with ${node.name}'s JWKS`);
          const res = await api(node, 'GET', '/v1/serviceids', { token, query: { account_id: accountId, pagesize: 1 } });
          assert.equal(res.status, 200, `token from ${from} (${kid}) accepted by ${node.name}: ${res.text.slice(0, 300)}`);
        }
      }
    }
    admin = { token: (await getToken(A.url, bootstrapKey)).access_token };
  });

  test('f. PostgreSQL stopped and started again under load: 503 with an IBM body (or served from memory), no crash, writes again after', async (t) => {
    const { sid, key } = await serviceIdWithKey(on(A), admin);
    const pdp = await serviceIdWithKey(on(A), admin);
    const svc = uniqueServiceName('outage');
    await registerService(on(A), admin, serviceDefinition(svc, [pdp.sid.iam_id]));
    const pdpAuth = { token: (await getToken(A.url, pdp.key)).access_token };
    const decide = (node) => authz(node, pdpAuth, [{ subject: subjectById(sid.iam_id), action: `${svc}.thing.read`,
      resource: { attributes: { accountId, serviceName: svc } } }]);
    const ready = await measureFlip(now(), nodes, decide, (r) => r.status === 200 && r.body?.responses?.[0]?.status === '200');
    assertWithinBound('service registration (f)', ready);

    const kinds = {
      token: (node) => tokenRequest(node.url, key),
      decision: decide,
      write: (node) => api(node, 'POST', '/v1/serviceids', { ...admin, json: { account_id: accountId, name: uniqueName('f') } }),
      read: (node) => api(node, 'GET', `/v1/serviceids/${sid.id}`, admin),
    };
    const results = [];
    let running = true;
    let pausedAt = Infinity;
    let resumedAt = Infinity;
    const loops = [];
    for (const node of nodes) {
      for (const [kind, call] of Object.entries(kinds)) {
        loops.push((async () => {
          while (running) {
            const sentAt = now();
            let res = null;
            let error = null;
            try { res = await call(node); } catch (err) { error = String(err); }
            results.push({ node: node.name, kind, sentAt, at: now(), res, error });
            await sleep(20);
          }
        })());
      }
    }
    try {
      await sleep(700);
      await pg.pause();
      pausedAt = now();
      await sleep(2000);
      for (const node of nodes) assert.ok(node.alive(), `node ${node.name} is alive while PostgreSQL is down`);
      const resumeSentAt = now();
      await pg.resume();
      resumedAt = now();
      // Every node writes again without a restart, within a few seconds.
      const recovered = await Promise.all(nodes.map(async (node) => {
        for (;;) {
          const r = await kinds.write(node);
          if (r.status === 201) return now() - resumedAt;
          if (now() - resumedAt > 5000) assert.fail(`${node.name} does not write 5 s after PostgreSQL is back: ${r.status} ${r.text.slice(0, 300)}`);
          await sleep(50);
        }
      }));
      t.diagnostic(`writes again after PostgreSQL is back: ${nodes.map((n, i) => `${n.name} ${Math.round(recovered[i])} ms`).join(', ')}`);
      running = false;
      await Promise.all(loops);

      for (const r of results) {
        assert.equal(r.error, null, `${r.kind} on ${r.node}: the connection failed (${r.error})`);
        const { status } = r.res;
        assert.ok([200, 201, 503].includes(status), `${r.kind} on ${r.node}, sent ${Math.round(r.sentAt - pausedAt)} ms ` +
          `after PostgreSQL stopped (${Math.round(resumedAt - pausedAt)} ms before it was back): ${status} ${r.res.text.slice(0, 300)}`);
        if (status === 503) {
          if (r.kind === 'token') assertTokenError(r.res, 503, { errorCode: 'BXNIM0503E' });
          else assertAccessError(r.res, 503, undefined, `${r.kind} on ${r.node}`);
        }
      }
      const during = results.filter((r) => r.sentAt > pausedAt && r.at < resumeSentAt);
      const writes = during.filter((r) => r.kind === 'write');
      assert.ok(writes.length >= 3, `writes were attempted during the outage: ${writes.length}`);
      for (const w of writes) assert.equal(w.res.status, 503, `a write while PostgreSQL is down: ${w.res.status}`);
      const tally = {};
      for (const r of during) tally[`${r.kind} ${r.res.status}`] = (tally[`${r.kind} ${r.res.status}`] ?? 0) + 1;
      t.diagnostic(`during the outage: ${JSON.stringify(tally)}`);
      for (const node of nodes) assert.ok(node.alive(), `node ${node.name} is alive`);
    } finally {
      running = false;
      await Promise.all(loops);
      if (!pg.running) await pg.resume();
    }
  });

  test('g. SIGKILL of node A under a bounded write load: every acknowledged service ID is present', async (t) => {
    const prefix = uniqueName('kill');
    const acknowledged = [];
    let attempted = 0;
    let unanswered = 0; // sent to A, cut off by the SIGKILL: may or may not have been committed
    let refused = 0;    // A was already gone: never reached it
    let killed = false;
    const KILL_AFTER = 25;  // acknowledgements through A before the SIGKILL
    const PER_CLIENT = 30;  // requests per client at most: the load is bounded
    const client = async (node, index) => {
      for (let i = 0; i < PER_CLIENT; i++) {
        attempted++;
        let res;
        try {
          res = await api(node, 'POST', '/v1/serviceids', { ...admin, json: { account_id: accountId, name: `${prefix}-${node.name}-${index}-${i}` } });
        } catch (err) {
          if (err?.cause?.code === 'ECONNREFUSED') refused++;
          else unanswered++;
          return;
        }
        if (res.status === 201) {
          acknowledged.push({ id: res.body.id, node: node.name });
          if (node === A && !killed && acknowledged.filter((a) => a.node === 'A').length >= KILL_AFTER) {
            killed = true;
            A.kill();
          }
        } else {
          assert.equal(res.status, 503, `a create answered ${res.status}: ${res.text.slice(0, 300)}`);
        }
      }
    };
    await Promise.all([...[0, 1, 2, 3, 4, 5].map((i) => client(A, i)), ...[0, 1].map((i) => client(B, i))]);
    await A.exitPromise;
    assert.ok(killed, 'A was killed during the load');
    assert.equal(A.exit?.signal, 'SIGKILL');
    assert.ok(unanswered + refused >= 1, 'requests to A failed after the SIGKILL');

    const { items } = await listAll(on(B), admin, '/v1/serviceids', { account_id: accountId, pagesize: 100 }, 'serviceids', 200);
    const present = new Set(items.filter((s) => s.name.startsWith(prefix)).map((s) => s.id));
    const missing = acknowledged.filter((a) => !present.has(a.id));
    t.diagnostic(`attempted ${attempted}, acknowledged ${acknowledged.length}, cut off ${unanswered}, refused ${refused}, ` +
      `present ${present.size}`);
    assert.deepEqual(missing, [], 'every acknowledged service ID is present');
    assert.ok(present.size <= acknowledged.length + unanswered,
      `present (${present.size}) <= acknowledged (${acknowledged.length}) + unanswered (${unanswered})`);

    // A comes back on the same data dir and sees the same objects.
    await A.start();
    const again = await api(A, 'GET', `/v1/serviceids/${acknowledged[0].id}`, admin);
    assert.equal(again.status, 200, again.text.slice(0, 300));
  });

  const staleness = supportsMaxStaleness();
  test('h. a short outage: tokens for recently used keys and decisions served from memory for --max-staleness, 503 after',
    { todo: staleness ? false : 'iamd has no --max-staleness yet (the outage work adds it)' }, async (t) => {
      const STALENESS_S = 5;
      const extra = [];
      for (const name of ['D', 'E']) {
        extra.push(await IamdNode.create({
          name, databaseUrl: A.databaseUrl, workDir, logs, env: secrets,
          args: ['--public-url', PUBLIC_URL, '--max-staleness', String(STALENESS_S)],
        }));
      }
      nodes.push(...extra);
      await startAll(extra);
      const { sid, key } = await serviceIdWithKey(on(extra[0]), admin);
      const pdp = await serviceIdWithKey(on(extra[0]), admin);
      const svc = uniqueServiceName('stale');
      await registerService(on(extra[0]), admin, serviceDefinition(svc, [pdp.sid.iam_id]));
      await grant(on(extra[0]), admin, { iamId: sid.iam_id, roles: ['Reader'], resource: { serviceName: svc } });
      const pdpAuth = { token: (await getToken(extra[0].url, pdp.key)).access_token };
      const token = (node) => tokenRequest(node.url, key);
      const decision = (node) => authz(node, pdpAuth, [{ subject: subjectById(sid.iam_id), action: `${svc}.thing.read`,
        resource: { attributes: { accountId, serviceName: svc } } }]);
      const granted = await measureFlip(now(), extra, decision,
        (r) => r.status === 200 && r.body?.responses?.[0]?.authorizationDecision?.permitted === true);
      assertWithinBound('policy grant (h)', granted);
      for (const node of extra) {
        assert.equal((await token(node)).status, 200, `${node.name}: the key is used before the outage`);
        assert.equal(permittedList(await decision(node), 1)[0], true, `${node.name}: permitted before`);
      }
      await pg.pause();
      const pausedAt = now();
      try {
        for (const node of extra) {
          const r = await token(node);
          assert.equal(r.status, 200, `${node.name}: token from memory while PostgreSQL is down: ${r.text.slice(0, 300)}`);
          assert.equal(permittedList(await decision(node), 1)[0], true, `${node.name}: decision from memory`);
        }
        await sleep(STALENESS_S * 1000 + 1000 - (now() - pausedAt));
        for (const node of extra) {
          assertTokenError(await token(node), 503, { errorCode: 'BXNIM0503E' });
          assertAccessError(await decision(node), 503, undefined, `${node.name}: decision after --max-staleness`);
          assert.ok(node.alive(), `${node.name} alive`);
        }
      } finally {
        await pg.resume();
      }
      const resumedAt = now();
      for (const node of extra) {
        for (;;) {
          const r = await token(node);
          if (r.status === 200) break;
          assert.ok(now() - resumedAt < 5000, `${node.name}: tokens again after PostgreSQL is back: ${r.status}`);
          await sleep(50);
        }
      }
      t.diagnostic(`served from memory for ${STALENESS_S} s, 503 after, back after the restart`);
    });
});
