// Crash safety: SIGKILL iamd (SQLite) in the middle of a write load, several times, and check
// after each kill that
//  - the database passes `PRAGMA integrity_check` (sqlite3 CLI),
//  - iamd starts again on it,
//  - every acknowledged write is there and intact: service IDs (with their last acknowledged
//    description), API keys (they still exchange for a token, so the stored hash is intact),
//    policies (same subject and roles), and acknowledged deletions stay deleted,
//  - the audit chain verifies (`iamd audit verify --data-dir DIR`), when this iamd has that
//    subcommand (`iamd audit --help` exits 0); otherwise that step is reported as skipped.
// A write that was in flight when the process died may or may not have happened: either
// outcome is accepted, nothing else.
//
//   node tests/crash/sigkill.mjs <path-to-iamd>
// Environment: CRASH_ROUNDS (default 5), CRASH_WORKERS (concurrent writers, default 4),
// CRASH_SEED (makes the kill moments repeatable).
// Registered in CMake as crash/sigkill. Only node built-ins and tests/api/lib (no npm packages).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { startServer, SANITIZER_PATTERN } from '../api/lib/server.mjs';

const execFileAsync = promisify(execFile);
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 5);
const WORKERS = Number(process.env.CRASH_WORKERS ?? 4);
const DEADLINE_MS = 240_000;
const started = Date.now();

if (process.argv[2]) process.env.IAMD_BIN = path.resolve(process.argv[2]);
if (!process.env.IAMD_BIN) {
  console.error('usage: node tests/crash/sigkill.mjs <path-to-iamd>');
  process.exit(2);
}
delete process.env.IAMD_TEST_DATABASE_URL_BASE; // SQLite only: the PRAGMA is SQLite's

// A small seeded PRNG (mulberry32), so a failing run can be repeated with CRASH_SEED.
const seed = Number(process.env.CRASH_SEED ?? crypto.randomInt(2 ** 31));
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (xs) => xs[Math.floor(random() * xs.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.log(`crash: ${msg}`);

async function call(url, method, p, { token, json, form, headers: extra = {} } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  if (form !== undefined) { headers['Content-Type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(form).toString(); }
  const res = await fetch(new URL(p, url), { method, headers, body, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

async function adminToken(server) {
  const res = await call(server.url, 'POST', '/identity/token', {
    form: { grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: server.apikey },
  });
  assert.equal(res.status, 200, `admin token: ${res.text}`);
  return res.body.access_token;
}

// What the server acknowledged (and what was in flight when it died).
const sids = new Map(); // id -> {iamId, name, description, descriptions: Set (acceptable), deleted: bool|'maybe'}
const keys = []; // {id, value, sidId}
const policies = []; // {id, iamId, role}
let acknowledged = 0;

const ROLES = ['Viewer', 'Operator', 'Editor', 'Administrator'];
const roleCrn = (r) => `crn:v1:bluemix:public:iam::::role:${r}`;
const live = () => [...sids.entries()].filter(([, s]) => s.deleted === false);

/** One write; records it as acknowledged only once the answer arrived. */
async function oneWrite(server, token) {
  const r = random();
  const candidates = live();
  if (r < 0.35 || candidates.length < 3) {
    const name = `crash-${crypto.randomBytes(5).toString('hex')}`;
    const description = `v0-${crypto.randomBytes(3).toString('hex')}`;
    const res = await call(server.url, 'POST', '/v1/serviceids', { token, json: { account_id: server.accountId, name, description } });
    assert.equal(res.status, 201, `create service ID: ${res.status} ${res.text}`);
    sids.set(res.body.id, { iamId: res.body.iam_id, name, description, descriptions: new Set([description]), deleted: false });
  } else if (r < 0.60) {
    const [sidId, s] = pick(candidates);
    const res = await call(server.url, 'POST', '/v1/apikeys', { token, json: { name: `k-${crypto.randomBytes(4).toString('hex')}`, iam_id: s.iamId } });
    if (res.status === 404 && s.deleted !== false) return; // deleted meanwhile by another worker
    assert.equal(res.status, 201, `create key: ${res.status} ${res.text}`);
    keys.push({ id: res.body.id, value: res.body.apikey, sidId });
  } else if (r < 0.80) {
    const [, s] = pick(candidates);
    const role = pick(ROLES);
    const res = await call(server.url, 'POST', '/v1/policies', { token, json: {
      type: 'access', subjects: [{ attributes: [{ name: 'iam_id', value: s.iamId }] }], roles: [{ role_id: roleCrn(role) }],
      resources: [{ attributes: [{ name: 'accountId', value: server.accountId }, { name: 'serviceName', value: 'iam-identity' }] }],
    } });
    if ((res.status === 400 || res.status === 404) && s.deleted !== false) return;
    if (res.status === 409) return; // the same policy twice: a refusal, not a write
    assert.equal(res.status, 201, `create policy: ${res.status} ${res.text}`);
    policies.push({ id: res.body.id, iamId: s.iamId, role });
  } else if (r < 0.95) {
    const [sidId, s] = pick(candidates);
    const description = `v${Date.now()}-${crypto.randomBytes(3).toString('hex')}`;
    s.descriptions.add(description); // in flight: may land
    const res = await call(server.url, 'PUT', `/v1/serviceids/${sidId}`, { token, json: { description }, headers: { 'If-Match': '*' } });
    if (res.status === 404 && s.deleted !== false) return;
    assert.equal(res.status, 200, `update service ID: ${res.status} ${res.text}`);
    s.description = description;
    s.descriptions = new Set([description]); // acknowledged: nothing older is acceptable any more
  } else {
    const [sidId, s] = pick(candidates);
    s.deleted = 'maybe';
    const res = await call(server.url, 'DELETE', `/v1/serviceids/${sidId}`, { token });
    assert.equal(res.status, 204, `delete service ID: ${res.status} ${res.text}`);
    s.deleted = true;
  }
  acknowledged += 1;
}

/** Writers until the server dies; a failure other than the connection going away is a test failure. */
async function writeLoad(server, token, stop) {
  const errors = [];
  const worker = async () => {
    while (!stop.now) {
      try {
        await oneWrite(server, token);
      } catch (err) {
        if (stop.now || server.exited()) return; // the kill: this write was in flight
        errors.push(err);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  if (errors.length) throw errors[0];
}

async function integrityCheck(dataDir) {
  const { stdout } = await execFileAsync('sqlite3', [path.join(dataDir, 'iamd.db'), 'PRAGMA integrity_check;'], { timeout: 60_000 });
  assert.equal(stdout.trim(), 'ok', `PRAGMA integrity_check: ${stdout}`);
}

/** `iamd audit verify` when this iamd has it: 'verified', or 'absent'. */
async function auditVerify(dataDir) {
  try {
    await execFileAsync(process.env.IAMD_BIN, ['audit', '--help'], { timeout: 30_000 });
  } catch {
    return 'absent';
  }
  try {
    await execFileAsync(process.env.IAMD_BIN, ['audit', 'verify', '--data-dir', dataDir], { timeout: 120_000 });
  } catch (err) {
    throw new Error(`iamd audit verify failed (exit ${err.code}):\n${err.stdout}\n${err.stderr}`);
  }
  return 'verified';
}

/** Every acknowledged write is present and intact. */
async function verifyAcknowledged(server, token) {
  for (const [id, s] of sids) {
    const res = await call(server.url, 'GET', `/v1/serviceids/${id}`, { token });
    if (s.deleted === true) { assert.equal(res.status, 404, `acknowledged deletion of ${id} undone: ${res.status}`); continue; }
    if (s.deleted === 'maybe') {
      assert.ok([200, 404].includes(res.status), `${id}: ${res.status}`);
      s.deleted = res.status === 404 ? true : false;
      if (s.deleted) continue;
    }
    assert.equal(res.status, 200, `acknowledged service ID ${id} lost: ${res.status} ${res.text}`);
    assert.equal(res.body.name, s.name, `${id}: name`);
    assert.ok(s.descriptions.has(res.body.description),
      `${id}: description ${JSON.stringify(res.body.description)} is neither the acknowledged one nor one in flight (${[...s.descriptions]})`);
    s.description = res.body.description; // what is durable now
    s.descriptions = new Set([res.body.description]);
  }
  let exchanged = 0;
  for (const k of keys) {
    const s = sids.get(k.sidId);
    const res = await call(server.url, 'GET', `/v1/apikeys/${k.id}`, { token });
    if (s.deleted) { assert.equal(res.status, 404, `key ${k.id} of a deleted service ID: ${res.status}`); continue; }
    assert.equal(res.status, 200, `acknowledged key ${k.id} lost: ${res.status} ${res.text}`);
    assert.equal(res.body.iam_id, s.iamId, `${k.id}: owner`);
    const tok = await call(server.url, 'POST', '/identity/token', { form: { grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: k.value } });
    assert.equal(tok.status, 200, `acknowledged key ${k.id} no longer exchanges: ${tok.text}`);
    exchanged += 1;
  }
  for (const p of policies) {
    const res = await call(server.url, 'GET', `/v1/policies/${p.id}`, { token });
    const owner = [...sids.values()].find((s) => s.iamId === p.iamId);
    if (owner?.deleted) continue; // policies of a removed identity go with it
    assert.equal(res.status, 200, `acknowledged policy ${p.id} lost: ${res.status} ${res.text}`);
    assert.equal(res.body.subjects?.[0]?.attributes?.[0]?.value, p.iamId, `${p.id}: subject`);
    assert.deepEqual(res.body.roles.map((r) => r.role_id), [roleCrn(p.role)], `${p.id}: roles`);
  }
  return exchanged;
}

async function waitExit(server) {
  for (let i = 0; i < 500 && !server.exited(); i++) await sleep(10);
  assert.ok(server.exited(), 'iamd did not die after SIGKILL');
}

async function main() {
  log(`seed ${seed} (CRASH_SEED=${seed} repeats the kill moments), ${ROUNDS} rounds, ${WORKERS} writers`);
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'iamd-crash-'));
  const stderrs = [];
  let auditState = 'absent';
  let ok = false;
  try {
    let server = await startServer({ dataDir });
    assert.ok(server.apikey, 'first start wrote bootstrap-apikey.json');
    for (let round = 1; round <= ROUNDS; round++) {
      assert.ok(Date.now() - started < DEADLINE_MS, 'out of time');
      const token = await adminToken(server);
      const before = acknowledged;
      const stop = { now: false };
      const load = writeLoad(server, token, stop);
      // Kill once some writes went through, at a random moment after that.
      while (acknowledged - before < 5 && !server.exited()) await sleep(5);
      await sleep(Math.floor(random() * 800));
      stop.now = true;
      process.kill(server.pid, 'SIGKILL');
      await waitExit(server);
      await load;
      await server.stop({ keepDir: true });
      stderrs.push(server.stderr());
      assert.equal(server.exited().signal, 'SIGKILL', `iamd exited by itself: ${JSON.stringify(server.exited())}`);

      await integrityCheck(dataDir);
      server = await startServer({ dataDir });
      const exchanged = await verifyAcknowledged(server, await adminToken(server));
      auditState = await auditVerify(dataDir);
      log(`round ${round}: killed after ${acknowledged - before} acknowledged writes; integrity ok; ` +
        `restarted; ${sids.size} service IDs, ${keys.length} keys (${exchanged} exchanged), ${policies.length} policies verified; ` +
        `audit chain ${auditState === 'verified' ? 'verified' : 'not checked (no `iamd audit` subcommand)'}`);
    }
    // The last server stops cleanly: its sanitizer report (if any) is complete.
    const exit = await server.stop({ keepDir: true });
    stderrs.push(server.stderr());
    assert.equal(exit.code, 0, `clean stop: ${JSON.stringify(exit)}`);
    await integrityCheck(dataDir);
    for (const err of stderrs) {
      const m = err.match(SANITIZER_PATTERN);
      assert.ok(!m, `sanitizer report:\n${err.slice(Math.max(0, err.indexOf(m?.[0]) - 200), err.indexOf(m?.[0]) + 3000)}`);
    }
    ok = true;
    log(`ok: ${ROUNDS} kills, ${acknowledged} acknowledged writes all present, in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (auditState === 'absent' ? ' (audit chain not checked: iamd has no `audit` subcommand yet)' : ''));
  } finally {
    if (ok) await fsp.rm(dataDir, { recursive: true, force: true });
    else log(`data dir kept for inspection: ${dataDir}`);
  }
}

main().catch((err) => {
  console.error(`crash: FAILED (seed ${seed}): ${err.stack ?? err}`);
  process.exit(1);
});
