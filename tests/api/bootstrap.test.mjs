// First start, the bootstrap API key file, restart, --help and configuration by environment.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  ACCOUNT_ID_RE, KEY_VALUE_RE, USER_IAM_ID_RE, api, createServiceId, decodeJwt, getToken, serviceIdWithKey, tokenRequest,
} from './lib/http.mjs';
import { freePort, iamdBinary, startServer, stopAndCheck } from './lib/server.mjs';

let server;
let fileText;
let fileStat;

before(async () => {
  server = await startServer();
  const file = path.join(server.dataDir, 'bootstrap-apikey.json');
  fileText = await fsp.readFile(file, 'utf8');
  fileStat = await fsp.stat(file);
});

after(async () => {
  await stopAndCheck(server);
});

describe('first start', () => {
  test('bootstrap-apikey.json: mode 0600 and the documented shape', () => {
    assert.equal(fileStat.mode & 0o777, 0o600, `mode is ${(fileStat.mode & 0o777).toString(8)}`);
    const b = JSON.parse(fileText);
    for (const f of ['name', 'description', 'createdAt', 'apikey', 'account_id', 'iam_id']) assert.ok(f in b, `field ${f}`);
    assert.match(b.apikey, KEY_VALUE_RE, 'apikey is iamd_ + 71 base62');
    assert.match(b.account_id, ACCOUNT_ID_RE, 'account_id is 32 lowercase hex');
    assert.match(b.iam_id, USER_IAM_ID_RE, 'iam_id is IBMid-<10 uppercase alnum>');
    assert.equal(typeof b.name, 'string');
    assert.ok(b.name.length > 0);
    assert.equal(typeof b.description, 'string');
    assert.equal(typeof b.createdAt, 'string');
    const created = Date.parse(b.createdAt);
    assert.ok(!Number.isNaN(created), `createdAt parses: ${b.createdAt}`);
    assert.ok(Math.abs(created - Date.now()) < 10 * 60 * 1000, 'createdAt is about now');
  });

  test('bootstrap-apikey.json has exactly the documented members {name, description, createdAt, apikey, account_id, iam_id}', () => {
    const b = JSON.parse(fileText);
    assert.deepEqual(Object.keys(b).sort(), ['account_id', 'apikey', 'createdAt', 'description', 'iam_id', 'name'].sort());
  });

  test('the key, account id and iam_id are printed on stderr at first start', () => {
    const err = server.stderr();
    assert.ok(err.includes(server.apikey), 'key printed on first start');
    assert.ok(err.includes(server.accountId), 'account id printed');
    assert.ok(err.includes(server.iamId), 'iam_id printed');
    assert.ok(!server.stdout().includes(server.apikey), 'not on stdout');
  });

  test('the bootstrap key gets a user token for the owner in the account', async () => {
    const tok = await getToken(server.url, server.apikey);
    const c = decodeJwt(tok.access_token).payload;
    assert.equal(c.iam_id, server.iamId);
    assert.equal(c.realmid, 'IBMid');
    assert.equal(c.sub_type, 'IBMid');
    assert.equal(c.account.bss, server.accountId);
    const settings = await api(server, 'GET', `/v1/accounts/${server.accountId}/settings/identity`, { token: tok.access_token });
    assert.equal(settings.status, 200, `the account exists: ${settings.text}`);
  });

  test('the data dir holds no other file with the key in clear text', async () => {
    const names = await fsp.readdir(server.dataDir);
    for (const name of names) {
      if (name === 'bootstrap-apikey.json') continue;
      const full = path.join(server.dataDir, name);
      const st = await fsp.stat(full);
      if (!st.isFile() || st.size > 64 * 1024 * 1024) continue;
      const buf = await fsp.readFile(full);
      assert.equal(buf.indexOf(server.apikey), -1, `${name} contains the bootstrap key value`);
      assert.equal(buf.indexOf(server.apikey.slice(27, 70)), -1, `${name} contains the key secret`);
    }
  });

  test('GET /healthz -> 200 without authentication', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
  });
});

describe('restart with the same data dir', () => {
  test('keeps account, key, signing key and data; does not print or rewrite the key', async () => {
    const tok = await getToken(server.url, server.apikey);
    const admin = { token: tok.access_token };
    const { sid, key } = await serviceIdWithKey(server, admin);
    const plain = await createServiceId(server, admin, { description: 'survives' });
    const jwksBefore = (await api(server, 'GET', '/identity/keys')).body;
    const st1 = await fsp.stat(path.join(server.dataDir, 'bootstrap-apikey.json'));

    const exit = await server.stop({ keepDir: true });
    assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', `SIGTERM shutdown: ${JSON.stringify(exit)}`);

    const again = await startServer({ dataDir: server.dataDir });
    try {
      const err = again.stderr();
      assert.ok(!err.includes(server.apikey), 'the key is not printed again');
      const file = path.join(server.dataDir, 'bootstrap-apikey.json');
      assert.equal(await fsp.readFile(file, 'utf8'), fileText, 'file content unchanged');
      const st2 = await fsp.stat(file);
      assert.equal(st2.mtimeMs, st1.mtimeMs, 'file not rewritten');
      assert.equal(st2.mode & 0o777, 0o600);
      assert.equal(again.accountId, server.accountId);

      const tok2 = await getToken(again.url, server.apikey);
      assert.equal(decodeJwt(tok2.access_token).payload.iam_id, server.iamId, 'bootstrap key still works');
      assert.equal((await tokenRequest(again.url, key)).status, 200, 'service ID key still works');
      const got = await api(again, 'GET', `/v1/serviceids/${plain.id}`, { token: tok2.access_token });
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.description, 'survives');
      assert.equal(got.body.entity_tag, plain.entity_tag);
      const gotSid = await api(again, 'GET', `/v1/serviceids/${sid.id}`, { token: tok2.access_token });
      assert.equal(gotSid.status, 200);

      // A token issued before the restart still verifies: the signing key persisted.
      const jwksAfter = (await api(again, 'GET', '/identity/keys')).body;
      const oldKid = decodeJwt(tok.access_token).header.kid;
      assert.ok(jwksAfter.keys.some((k) => k.kid === oldKid), 'pre-restart kid still published');
      const oldKey = jwksBefore.keys.find((k) => k.kid === oldKid);
      assert.deepEqual(jwksAfter.keys.find((k) => k.kid === oldKid), oldKey, 'same public key');
      // The pre-restart token's iss names the old port; on the new port it is a foreign issuer, so only check the key.
    } finally {
      await stopAndCheck(again);
    }
  });
});

describe('command line and environment', () => {
  test('iamd --help documents --listen, --data-dir and the IAMD_* variables', () => {
    const r = spawnSync(iamdBinary(), ['--help'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, `--help exit status ${r.status}: ${r.stderr}`);
    const out = `${r.stdout}${r.stderr}`;
    for (const word of ['--listen', '--data-dir', 'IAMD_LISTEN', 'IAMD_DATA_DIR']) {
      assert.ok(out.includes(word), `--help mentions ${word}`);
    }
    // Every option line (`  --name VALUE   IAMD_NAME`) names its environment variable.
    const optionLines = out.split('\n').filter((l) => /^\s*(-[a-z], )?--[a-z][a-z0-9-]*/.test(l) && !/--help\b/.test(l));
    assert.ok(optionLines.length >= 2, `option lines found: ${optionLines.length}`);
    for (const line of optionLines) {
      assert.match(line, /\bIAMD_[A-Z0-9_]+\b/, `option without an IAMD_* variable: ${line.trim()}`);
    }
    assert.match(out, /--listen\b[^\n]*\bIAMD_LISTEN\b/);
    assert.match(out, /--data-dir\b[^\n]*\bIAMD_DATA_DIR\b/);
  });

  test('an unknown option fails with a non-zero status and a message', () => {
    const r = spawnSync(iamdBinary(), ['--no-such-option'], { encoding: 'utf8', timeout: 10_000 });
    assert.notEqual(r.status, 0);
    assert.ok(`${r.stdout}${r.stderr}`.length > 0, 'says something');
  });

  test('IAMD_LISTEN and IAMD_DATA_DIR configure the server without flags', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'iamd-env-'));
    let s;
    try {
      s = await startServer({ useEnv: true, dataDir: dir });
      assert.ok(s.apikey, 'bootstrap file written in IAMD_DATA_DIR');
      assert.equal((await tokenRequest(s.url, s.apikey)).status, 200);
    } finally {
      if (s) await stopAndCheck(s);
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  test('an unusable data dir fails at start with a non-zero status', async () => {
    const file = path.join(os.tmpdir(), `iamd-not-a-dir-${process.pid}`);
    await fsp.writeFile(file, 'x');
    try {
      const port = await freePort();
      const r = spawnSync(iamdBinary(), ['--listen', `127.0.0.1:${port}`, '--data-dir', file], { encoding: 'utf8', timeout: 15_000 });
      assert.notEqual(r.status, 0, `status ${r.status}, signal ${r.signal}`);
      assert.equal(r.signal, null, 'exits, is not killed by the timeout');
    } finally {
      await fsp.rm(file, { force: true });
    }
  });
});
