// iamctl: usage errors, help, login/logout/target/oauth-tokens, the config
// file (mode, no API key), environment credentials, token renewal at 80% of
// its life, expired and revoked logins, endpoints that are down or not iamd.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  KEY_IN_TEXT_RE, cliFor, configPath, expectOneLineError, expectStatus, iamctl, iamctlBinary, loginHome, makeHome,
  modeOf, parsePairs, readConfig, request, serviceIdWithKey, writeConfig,
} from './lib/cli.mjs';
import { uniqueName } from '../api/lib/http.mjs';
import { freePort, startServer, stopAndCheck } from '../api/lib/server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await stopAndCheck(server); });

describe('usage', () => {
  test('no command, unknown command, unknown flag, bad values: one line, exit 2', () => {
    expectOneLineError(iamctl([]), 2, /give a command/);
    expectOneLineError(iamctl(['service-idz']), 2, /unknown command 'service-idz'/);
    expectOneLineError(iamctl(['service-ids', '--bogus']), 2, /unknown flag --bogus/);
    expectOneLineError(iamctl(['service-ids', '-z']), 2, /unknown flag -z/);
    expectOneLineError(iamctl(['service-id-create']), 2, /missing arguments/);
    expectOneLineError(iamctl(['service-id', 'a', 'b']), 2, /unexpected argument 'b'/);
    expectOneLineError(iamctl(['service-id-create', 'x', '-d']), 2, /--description needs a value/);
    expectOneLineError(iamctl(['service-ids', '--output', 'yaml']), 2, /--output is table or json/);
    expectOneLineError(iamctl(['service-ids', '--timeout', '0']), 2, /--timeout/);
    expectOneLineError(iamctl(['service-ids', '--uuid=yes']), 2, /--uuid takes no value/);
    expectOneLineError(iamctl(['service-ids', '--uuid', '--uuid']), 2, /given twice/);
    expectOneLineError(iamctl(['help', 'nope']), 2, /unknown command 'nope'/);
  });

  test('help, help COMMAND, COMMAND --help, version', () => {
    const overview = iamctl(['help']);
    expectStatus(overview, 0);
    for (const name of ['login', 'service-id-create', 'service-api-key-create', 'service-policy-create',
      'access-group-service-id-add', 'user-invite', 'authz', 'explain', 'key-check', 'roles']) {
      assert.match(overview.stdout, new RegExp(`^  ${name} `, 'm'), name);
    }
    assert.doesNotMatch(overview.stdout, /__complete/);
    const one = iamctl(['help', 'service-id-create']);
    expectStatus(one, 0);
    assert.match(one.stdout, /USAGE:\n  iamctl service-id-create NAME \[-d DESC\] \[--lock\]/);
    assert.match(one.stdout, /-d, --description DESC/);
    assert.match(one.stdout, /--output FORMAT/);
    const flag = iamctl(['service-api-key-create', '--help']);
    expectStatus(flag, 0);
    assert.match(flag.stdout, /--file FILE/);
    expectStatus(iamctl(['--help']), 0);
    const version = iamctl(['version']);
    expectStatus(version, 0);
    assert.match(version.stdout, /^iamctl \d+\.\d+\.\d+/);
  });

  test('not logged in: exit 1 with a hint', () => {
    expectOneLineError(iamctl(['service-ids']), 1, /not logged in.*iamctl login/);
    expectOneLineError(iamctl(['target']), 1, /not logged in/);
  });
});

describe('login', () => {
  test('saves the endpoint and a token with mode 0600 in a 0700 dir, never the API key', () => {
    const home = makeHome();
    const res = iamctl(['login', '--apikey', server.apikey, '--endpoint', `${server.url}/`], { home });
    expectStatus(res, 0);
    const shown = parsePairs(res.stdout);
    assert.equal(shown['Endpoint:'], server.url);
    assert.equal(shown['Account:'], server.accountId);
    assert.match(shown['Identity:'], new RegExp(`^${server.iamId} `));
    assert.equal(shown['API key saved:'], 'no');
    assert.equal(modeOf(configPath(home)), 0o600);
    assert.equal(modeOf(path.dirname(configPath(home))), 0o700);
    const text = fs.readFileSync(configPath(home), 'utf8');
    assert.ok(!text.includes(server.apikey), 'the API key is in the config file');
    assert.doesNotMatch(text, KEY_IN_TEXT_RE);
    const config = JSON.parse(text);
    assert.equal(config.endpoint, server.url);
    assert.equal(config.account_id, server.accountId);
    assert.equal(config.iam_id, server.iamId);
    assert.equal(typeof config.access_token, 'string');
    assert.equal(typeof config.refresh_token, 'string', 'user logins keep a refresh token');
    assert.ok(config.token_expires_at > config.token_issued_at);
    assert.equal(config.apikey, undefined);
    // No temporary files left beside it.
    assert.deepEqual(fs.readdirSync(path.dirname(configPath(home))), ['config.json']);

    const target = iamctl(['target', '--output', 'json'], { home });
    expectStatus(target, 0);
    const t = target.json();
    assert.equal(t.endpoint, server.url);
    assert.equal(t.account_id, server.accountId);
    assert.equal(t.iam_id, server.iamId);
    assert.equal(t.apikey_saved, false);
    const table = iamctl(['target'], { home });
    expectStatus(table, 0);
    assert.match(table.stdout, /^Endpoint: +http:/m);
  });

  test('--apikey @FILE (a downloaded key file) and --apikey - (standard input)', () => {
    const bootstrapFile = path.join(server.dataDir, 'bootstrap-apikey.json');
    const home = makeHome();
    expectStatus(iamctl(['login', '--apikey', `@${bootstrapFile}`, '--endpoint', server.url], { home }), 0);
    expectStatus(iamctl(['service-ids'], { home }), 0);
    const home2 = makeHome();
    expectStatus(iamctl(['login', '--apikey', '-', '-a', server.url, '-q'], { home: home2, input: `${server.apikey}\n` }), 0);
    assert.equal(readConfig(home2).iam_id, server.iamId);
  });

  test('--save-apikey keeps the key (mode 0600); a new login without it removes it', () => {
    const home = loginHome(server, server.apikey, ['--save-apikey']);
    assert.equal(readConfig(home).apikey, server.apikey);
    assert.equal(modeOf(configPath(home)), 0o600);
    expectStatus(iamctl(['login', '--apikey', server.apikey, '--endpoint', server.url], { home }), 0);
    assert.equal(readConfig(home).apikey, undefined);
  });

  test('bad key, missing key, bad endpoint', () => {
    const home = loginHome(server, server.apikey);
    const before = fs.readFileSync(configPath(home), 'utf8');
    expectOneLineError(iamctl(['login', '--apikey', 'iamd_nope', '--endpoint', server.url], { home }), 1, /BXNIM0415E/);
    assert.equal(fs.readFileSync(configPath(home), 'utf8'), before, 'a refused login leaves the saved one');
    expectOneLineError(iamctl(['login', '--endpoint', server.url]), 2, /give the API key/);
    expectOneLineError(iamctl(['login', '--apikey', ' ', '--endpoint', server.url]), 2, /API key is empty/);
    expectOneLineError(iamctl(['login', '--apikey', server.apikey]), 2, /give the endpoint/);
    expectOneLineError(iamctl(['login', '--apikey', server.apikey, '--endpoint', 'ftp://x']), 2, /http:\/\/ or https:\/\//);
    expectOneLineError(iamctl(['login', '--apikey', '@/nonexistent/key.json', '--endpoint', server.url]), 1, /cannot read/);
  });

  test('an endpoint that is down, one that is not iamd, https to a plain server', async () => {
    const closed = await freePort();
    expectOneLineError(iamctl(['login', '--apikey', server.apikey, '--endpoint', `http://127.0.0.1:${closed}`]), 1,
      /cannot connect to http:\/\/127\.0\.0\.1:\d+/);
    const other = http.createServer((req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html><body>Not Found</body></html>');
    });
    await new Promise((r) => other.listen(0, '127.0.0.1', r));
    const otherUrl = `http://127.0.0.1:${other.address().port}`;
    try {
      // spawnSync blocks this process, so the HTML server answers from a child.
      const res = await runAsync(['login', '--apikey', server.apikey, '--endpoint', otherUrl]);
      expectOneLineError(res, 1, /does not answer like iamd \(HTTP 404, text\/html/);
      const env = { IAMCTL_APIKEY: server.apikey, IAMCTL_ENDPOINT: otherUrl };
      expectOneLineError(await runAsync(['service-ids'], env), 1, /does not answer like iamd/);
    } finally {
      other.close();
    }
    expectOneLineError(iamctl(['login', '--apikey', server.apikey, '--endpoint', server.url.replace('http:', 'https:')]), 1,
      /TLS|SSL/);
  });

  test('IAMCTL_APIKEY and IAMCTL_ENDPOINT work without login and write nothing', () => {
    const home = makeHome();
    const res = iamctl(['service-ids', '--output', 'json'], { home, env: { IAMCTL_APIKEY: server.apikey, IAMCTL_ENDPOINT: server.url } });
    expectStatus(res, 0);
    assert.ok(Array.isArray(res.json()));
    assert.equal(fs.existsSync(configPath(home)), false);
    const target = iamctl(['target', '--output', 'json'], { home, env: { IAMCTL_APIKEY: server.apikey, IAMCTL_ENDPOINT: server.url } });
    expectStatus(target, 0);
    assert.equal(target.json().credentials, 'IAMCTL_APIKEY');
    // A key file works as IAMCTL_APIKEY=@FILE too.
    const file = path.join(server.dataDir, 'bootstrap-apikey.json');
    expectStatus(iamctl(['users'], { home, env: { IAMCTL_APIKEY: `@${file}`, IAMCTL_ENDPOINT: server.url } }), 0);
    expectOneLineError(iamctl(['users'], { home, env: { IAMCTL_APIKEY: 'iamd_bad', IAMCTL_ENDPOINT: server.url } }), 1, /BXNIM0415E/);
  });

  test('oauth-tokens prints a valid bearer token', async () => {
    const cli = cliFor(loginHome(server, server.apikey));
    const res = cli(['oauth-tokens']);
    expectStatus(res, 0);
    const m = res.stdout.match(/^IAM token: +Bearer (\S+)$/m);
    assert.ok(m, res.stdout);
    const check = await request(server, 'GET', `/v1/serviceids?account_id=${server.accountId}`, { token: m[1] });
    assert.equal(check.status, 200);
    assert.match(cli(['oauth-tokens', '--output', 'json']).json().iam_token, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test('a config file others may read is refused', () => {
    const home = loginHome(server, server.apikey);
    fs.chmodSync(configPath(home), 0o644);
    expectOneLineError(iamctl(['service-ids'], { home }), 1, /may be read by others.*chmod 600/);
  });
});

describe('token renewal and expiry', () => {
  /** Moves the saved token's life so that `fraction` of it has passed. */
  function age(home, fraction) {
    const config = readConfig(home);
    const life = 3600;
    const now = Math.floor(Date.now() / 1000);
    config.token_issued_at = now - Math.floor(life * fraction);
    config.token_expires_at = config.token_issued_at + life;
    writeConfig(home, config);
    return config;
  }

  test('user login: renewed with the refresh token after 80% of its life, not before', () => {
    const home = loginHome(server, server.apikey);
    const young = age(home, 0.5);
    expectStatus(iamctl(['service-ids'], { home }), 0);
    assert.equal(readConfig(home).access_token, young.access_token, 'renewed too early');
    const old = age(home, 0.85);
    expectStatus(iamctl(['service-ids'], { home }), 0);
    const renewed = readConfig(home);
    assert.notEqual(renewed.access_token, old.access_token);
    assert.notEqual(renewed.refresh_token, old.refresh_token);
    assert.ok(renewed.token_issued_at > old.token_issued_at);
    assert.equal(renewed.apikey, undefined);
    assert.equal(modeOf(configPath(home)), 0o600);
  });

  test('service ID login: no refresh token; renewed only with --save-apikey; expired asks to log in', async () => {
    const sid = await serviceIdWithKey(server, uniqueName('sid'));
    const key = sid.apikey.apikey;
    const home = loginHome(server, key);
    assert.equal(readConfig(home).refresh_token, undefined);
    const old = age(home, 0.9);
    expectStatus(iamctl(['oauth-tokens'], { home }), 0);
    assert.equal(readConfig(home).access_token, old.access_token, 'nothing to renew with: the token is kept');
    age(home, 1.2);
    expectOneLineError(iamctl(['oauth-tokens'], { home }), 1, /expired.*iamctl login/);

    const saved = loginHome(server, key, ['--save-apikey']);
    const before = age(saved, 0.9);
    expectStatus(iamctl(['oauth-tokens'], { home: saved }), 0);
    assert.notEqual(readConfig(saved).access_token, before.access_token);
    age(saved, 1.5);
    expectStatus(iamctl(['oauth-tokens'], { home: saved }), 0, 'an expired token is renewed with the saved key');
  });

  test('a revoked refresh token: the expired login cannot be renewed', () => {
    const home = loginHome(server, server.apikey);
    const copy = readConfig(home);
    expectStatus(iamctl(['logout'], { home }), 0);
    const after = readConfig(home);
    assert.equal(after.access_token, undefined);
    assert.equal(after.refresh_token, undefined);
    assert.equal(after.endpoint, server.url);
    expectOneLineError(iamctl(['service-ids'], { home }), 1, /not logged in/);
    expectStatus(iamctl(['logout'], { home }), 0, 'logout twice');
    // Put the old login back, expired: its refresh token was revoked by logout.
    writeConfig(home, { ...copy, token_issued_at: 1000, token_expires_at: 2000 });
    expectOneLineError(iamctl(['service-ids'], { home }), 1, /could not be renewed.*BXNIM0407E.*iamctl login/);
  });

  test('a revoked login (its service ID deleted): the server refuses, exit 1 with a hint', async () => {
    const sid = await serviceIdWithKey(server, uniqueName('sid'));
    await grantViewer(sid.iam_id);
    const home = loginHome(server, sid.apikey.apikey);
    expectStatus(iamctl(['service-id', sid.id], { home }), 0);
    const del = await request(server, 'DELETE', `/v1/serviceids/${sid.id}`, { apikey: server.apikey });
    assert.equal(del.status, 204);
    expectOneLineError(iamctl(['service-ids'], { home }), 1, /BXNIM0407E.*iamctl login/);
  });
});

/** Gives `iamId` Viewer on iam-identity (so it may read service IDs). */
async function grantViewer(iamId) {
  const res = await request(server, 'POST', '/v1/policies', {
    apikey: server.apikey,
    json: {
      type: 'access',
      subjects: [{ attributes: [{ name: 'iam_id', value: iamId }] }],
      roles: [{ role_id: 'crn:v1:bluemix:public:iam::::role:Viewer' }],
      resources: [{ attributes: [{ name: 'accountId', value: server.accountId }, { name: 'serviceName', value: 'iam-identity' }] }],
    },
  });
  assert.equal(res.status, 201, res.text);
}

/** Runs iamctl without blocking the event loop (for servers in this process). */
function runAsync(args, env = {}) {
  const home = makeHome();
  const sanitizer = {};
  for (const name of ['ASAN_OPTIONS', 'UBSAN_OPTIONS']) if (process.env[name]) sanitizer[name] = process.env[name];
  return new Promise((resolve, reject) => {
    execFile(iamctlBinary(), args, { env: { PATH: process.env.PATH, HOME: home, ...sanitizer, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ status: error ? error.code : 0, stdout, stderr, home });
      });
  });
}
