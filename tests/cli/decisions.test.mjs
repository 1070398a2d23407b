// iamctl: authz and explain (ours), key-check (offline), the bash completion,
// and the end-to-end path: a service ID, a policy and a key file made with
// iamctl, then a token from that file with curl that the policy lets read.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import {
  KEY_IN_TEXT_RE, cliFor, expectOneLineError, expectStatus, iamctl, iamctlBinary, loginHome, modeOf, parsePairs,
} from './lib/cli.mjs';
import { uniqueName } from '../api/lib/http.mjs';
import { startServer, stopAndCheck } from '../api/lib/server.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let server;
let cli;
before(async () => {
  server = await startServer();
  cli = cliFor(loginHome(server, server.apikey));
});
after(async () => { await stopAndCheck(server); });

describe('end to end', () => {
  test('service ID, policy and key file with iamctl; a token from the file with curl; the policy works', () => {
    const name = uniqueName('e2e-app');
    const sid = cli(['service-id-create', name, '-d', 'end to end', '-q']);
    expectStatus(sid, 0);
    const sidId = sid.stdout.trim();
    expectStatus(cli(['service-policy-create', name, '--roles', 'Viewer', '--service-name', 'iam-identity']), 0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iamctl-e2e-'));
    const file = path.join(dir, 'apikey.json');
    const created = cli(['service-api-key-create', 'e2e-key', name, '--file', file]);
    expectStatus(created, 0);
    assert.doesNotMatch(created.stdout, KEY_IN_TEXT_RE);
    assert.equal(modeOf(file), 0o600);

    // curl reads the key from the file (jq picks the member) and exchanges it.
    const script = `set -euo pipefail
      key=$(jq -r .apikey "$KEY_FILE")
      token=$(curl -sS --fail -X POST "$URL/identity/token" \\
        -H 'Content-Type: application/x-www-form-urlencoded' \\
        --data-urlencode 'grant_type=urn:ibm:params:oauth:grant-type:apikey' \\
        --data-urlencode "apikey=$key" | jq -r .access_token)
      curl -sS -o /dev/null -w '%{http_code}\\n' -H "Authorization: Bearer $token" "$URL/v1/serviceids/$SID"
      curl -sS -o /dev/null -w '%{http_code}\\n' -X DELETE -H "Authorization: Bearer $token" "$URL/v1/serviceids/$SID"`;
    const run = spawnSync('bash', ['-c', script], {
      env: { PATH: process.env.PATH, KEY_FILE: file, URL: server.url, SID: sidId },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), ['200', '403'], 'Viewer reads but may not delete');

    // The same decisions through iamctl.
    expectStatus(cli(['authz', name, 'iam-identity.serviceid.get', 'iam-identity']), 0);
    const denied = cli(['authz', `iam-${sidId}`, 'iam-identity.serviceid.delete', 'serviceName=iam-identity']);
    expectStatus(denied, 1);
    assert.equal(parsePairs(denied.stdout).Decision, 'denied');
    // And the key file logs iamctl in as the application.
    const app = loginHome(server, `@${file}`);
    expectStatus(iamctl(['service-id', sidId], { home: app }), 0);
    expectOneLineError(iamctl(['service-id-delete', sidId, '-f'], { home: app }), 1, /BXNIM0513E/);
  });
});

describe('authz and explain', () => {
  let sid;
  before(() => {
    sid = uniqueName('dec');
    expectStatus(cli(['service-id-create', sid]), 0);
    expectStatus(cli(['service-policy-create', sid, '--roles', 'Operator', '--service-name', 'iam-identity',
      '--resource-type', 'serviceid', '--resource', 'ServiceId-*']), 0);
  });

  test('authz: permitted 0, denied 1, json, CRN and attribute resources', () => {
    const allowed = cli(['authz', sid, 'iam-identity.serviceid.get',
      'serviceName=iam-identity,resourceType=serviceid,resource=ServiceId-x']);
    expectStatus(allowed, 0);
    const shown = parsePairs(allowed.stdout);
    assert.equal(shown.Decision, 'permitted');
    assert.match(shown.Subject, /^iam-ServiceId-/);
    const json = cli(['authz', sid, 'iam-identity.serviceid.get', 'serviceName=iam-identity,resourceType=serviceid,resource=ServiceId-x',
      '--output', 'json']);
    expectStatus(json, 0);
    assert.equal(json.json().authorizationDecision.permitted, true);
    assert.ok(json.json().authorizationDecision.obligation.actions.includes('iam-identity.serviceid.get'));
    const crn = `crn:v1:bluemix:public:iam-identity::a/${server.accountId}::serviceid:ServiceId-y`;
    expectStatus(cli(['authz', sid, 'iam-identity.serviceid.get', crn]), 0);
    const denied = cli(['authz', sid, 'iam-identity.serviceid.get', 'iam-identity', '-q']);
    expectStatus(denied, 1);
    assert.equal(denied.stdout, '');
    assert.equal(denied.stderr, '');
  });

  test('explain: the granting policy, or the nearest one and what it misses', () => {
    const granted = cli(['explain', sid, 'iam-identity.serviceid.delete',
      'serviceName=iam-identity,resourceType=serviceid,resource=ServiceId-x']);
    expectStatus(granted, 0);
    assert.match(granted.stdout, /^Decision: +permitted$/m);
    assert.match(granted.stdout, /^Granted by:\n  policy [0-9a-f-]{36}: crn:v1:bluemix:public:iam::::role:Operator$/m);
    const denied = cli(['explain', sid, 'iam-identity.serviceid.delete', 'iam-identity']);
    expectStatus(denied, 0);
    assert.match(denied.stdout, /^Decision: +denied$/m);
    assert.match(denied.stdout, /^Granted by: none$/m);
    assert.match(denied.stdout, /^Near misses:\n  policy [0-9a-f-]{36}: .*resourceType/m);
    const json = cli(['explain', sid, 'iam-identity.serviceid.delete', 'iam-identity', '--output', 'json']).json();
    assert.equal(json.permitted, false);
    assert.equal(json.near_misses.length, 1);
  });

  test('bad input: resource, action, unknown subject, a service nobody may ask about', () => {
    expectOneLineError(cli(['authz', sid, 'iam-identity.serviceid.get', 'serviceName=']), 2, /RESOURCE must be/);
    expectOneLineError(cli(['authz', sid, 'read', 'iam-identity']), 2, /ACTION looks like/);
    expectOneLineError(cli(['authz', 'no-such-sid', 'iam-identity.serviceid.get', 'iam-identity']), 1, /no service ID named/);
    expectOneLineError(cli(['authz', sid, 'iam-identity.serviceid.get']), 2, /missing arguments/);
    expectOneLineError(cli(['authz', sid, 'cloud-object-storage.bucket.get', 'cloud-object-storage']), 1,
      /unauthorized to make this request \(403\)/);
    expectOneLineError(cli(['explain', sid, 'x.y.z', 'crn:nope']), 1, /CRN/);
  });
});

describe('key-check', () => {
  test('valid, mistyped, foreign; from an argument, standard input and a key file; never printed', () => {
    const made = cli(['api-key-create', 'check-me', '--output', 'json']).json();
    const value = made.apikey;
    const ok = iamctl(['key-check', value]);
    expectStatus(ok, 0);
    const shown = parsePairs(ok.stdout);
    assert.equal(shown.Format, 'iamd API key');
    assert.equal(shown.Checksum, 'valid');
    assert.equal(shown['Key ID'], made.id);
    assert.doesNotMatch(ok.stdout, KEY_IN_TEXT_RE);
    expectStatus(iamctl(['key-check', '-'], { input: `${value}\n` }), 0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iamctl-kc-'));
    const file = path.join(dir, 'k.json');
    fs.writeFileSync(file, JSON.stringify({ name: 'n', description: '', createdAt: 'x', apikey: value }));
    assert.equal(iamctl(['key-check', `@${file}`, '--output', 'json']).json().key_id, made.id);

    const last = value.at(-1) === 'A' ? 'B' : 'A';
    const typo = iamctl(['key-check', value.slice(0, -1) + last, '--output', 'json']);
    expectStatus(typo, 1);
    assert.deepEqual(typo.json(), { recognised: true, checksum_valid: false, prefix: 'iamd', key_id: made.id });
    assert.match(typo.stderr, /checksum does not match/);
    const foreign = iamctl(['key-check', 'AKIAIOSFODNN7EXAMPLE']);
    expectStatus(foreign, 1);
    assert.equal(parsePairs(foreign.stdout).Format, 'not an iamd API key');
    expectOneLineError(iamctl(['key-check', '']), 2, /empty/);
    expectOneLineError(iamctl(['key-check', value, '--prefix', 'BAD!']), 2, /--prefix/);
  });
});

describe('bash completion', () => {
  test('completes commands and the flags of a command', () => {
    const script = path.join(repoRoot, 'scripts', 'iamctl-completion.bash');
    const complete = (words) => {
      const run = spawnSync('bash', ['-c', `source "$SCRIPT"; COMP_WORDS=(${words}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _iamctl; printf '%s\\n' "\${COMPREPLY[@]}"`], {
        env: { PATH: `${path.dirname(iamctlBinary())}:${process.env.PATH}`, SCRIPT: script, HOME: os.tmpdir() },
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      return run.stdout.split('\n').filter(Boolean);
    };
    assert.deepEqual(complete('iamctl service-api-key-c'), ['service-api-key-create']);
    assert.ok(complete('iamctl service-api-key-create x y --').includes('--file'));
    assert.ok(complete('iamctl service-api-key-create x y --').includes('--output'));
    assert.deepEqual(complete('iamctl service-ids --output ""'), ['table', 'json']);
  });
});
