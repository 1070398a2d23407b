// iamctl: service IDs (service-id*) and API keys (service-api-key*, api-key*),
// tables and --output json, names and ids, ambiguous names, key files
// (mode 0600, the console's format, never partial, never printed).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  KEY_IN_TEXT_RE, KEY_VALUE_RE, cliFor, exchangeKey, expectOneLineError, expectStatus, loginHome, modeOf, parsePairs,
  parseTable, request,
} from './lib/cli.mjs';
import { uniqueName } from '../api/lib/http.mjs';
import { startServer, stopAndCheck } from '../api/lib/server.mjs';

let server;
let cli;
before(async () => {
  server = await startServer();
  cli = cliFor(loginHome(server, server.apikey));
});
after(async () => { await stopAndCheck(server); });

const keyDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'iamctl-keys-'));

describe('service IDs', () => {
  test('create (table, json, -q), list, get by name, id and iam_id', () => {
    const name = uniqueName('billing');
    const created = cli(['service-id-create', name, '-d', 'Billing batch jobs']);
    expectStatus(created, 0);
    assert.match(created.stdout, new RegExp(`^Created service ID ${name}`, 'm'));
    const shown = parsePairs(created.stdout);
    assert.match(shown.ID, /^ServiceId-[0-9a-f-]{36}$/);
    assert.equal(shown.Name, name);
    assert.equal(shown.Description, 'Billing batch jobs');
    assert.equal(shown.Locked, 'false');
    const id = shown.ID;

    const asJson = cli(['service-id-create', uniqueName('j'), '--lock', '--output', 'json']);
    expectStatus(asJson, 0);
    const locked = asJson.json();
    assert.equal(locked.locked, true);
    assert.match(locked.iam_id, /^iam-ServiceId-/);
    const quiet = cli(['service-id-create', uniqueName('q'), '-q']);
    expectStatus(quiet, 0);
    assert.match(quiet.stdout, /^ServiceId-[0-9a-f-]{36}\n$/);

    const list = cli(['service-ids']);
    expectStatus(list, 0);
    const table = parseTable(list.stdout);
    assert.deepEqual(table.headers, ['ID', 'NAME', 'CREATED AT', 'MODIFIED AT', 'DESCRIPTION', 'LOCKED']);
    const row = table.rows.find((r) => r[0] === id);
    assert.ok(row, list.stdout);
    assert.equal(row[1], name);
    assert.equal(row[4], 'Billing batch jobs');
    const listed = cli(['service-ids', '--output', 'json']).json();
    assert.ok(Array.isArray(listed));
    assert.ok(listed.some((s) => s.id === locked.id && s.locked === true));
    assert.ok(cli(['service-ids', '--uuid']).stdout.split('\n').includes(id));

    for (const ref of [name, id, `iam-${id}`]) {
      const got = cli(['service-id', ref, '--output', 'json']);
      expectStatus(got, 0, ref);
      assert.equal(got.json().id, id);
    }
    assert.equal(cli(['service-id', name, '--uuid']).stdout, `${id}\n`);
  });

  test('unknown and ambiguous names, missing and extra arguments', () => {
    expectOneLineError(cli(['service-id', 'no-such-service-id']), 1, /no service ID named 'no-such-service-id'/);
    expectOneLineError(cli(['service-id', 'ServiceId-00000000-0000-4000-8000-000000000000']), 1, /BXNIM0103E/);
    const name = uniqueName('twin');
    const a = cli(['service-id-create', name, '-q']).stdout.trim();
    const b = cli(['service-id-create', name, '-q']).stdout.trim();
    const res = cli(['service-id', name]);
    expectOneLineError(res, 1, /2 service IDs are named/);
    assert.ok(res.stderr.includes(a) && res.stderr.includes(b), res.stderr);
    expectStatus(cli(['service-id', a]), 0, 'the id still works');
    expectOneLineError(cli(['service-id']), 2, /missing arguments/);
    expectOneLineError(cli(['service-id-delete', name, 'extra']), 2, /unexpected argument 'extra'/);
  });

  test('update, lock, unlock, delete (asks unless -f)', () => {
    const name = uniqueName('upd');
    const id = cli(['service-id-create', name, '-q']).stdout.trim();
    expectOneLineError(cli(['service-id-update', name]), 2, /nothing to change/);
    const renamed = uniqueName('renamed');
    const upd = cli(['service-id-update', name, '-n', renamed, '--description=new text', '--output', 'json']);
    expectStatus(upd, 0);
    assert.equal(upd.json().name, renamed);
    assert.equal(upd.json().description, 'new text');
    expectOneLineError(cli(['service-id-update', id, '-d', 'x', '-v', '1-00000000000000000000000000000000']), 1,
      /BXNIM0501E/);

    expectStatus(cli(['service-id-lock', id]), 0);
    assert.equal(cli(['service-id', id, '--output', 'json']).json().locked, true);
    expectOneLineError(cli(['service-id-delete', id, '-f']), 1, /BXNIM0510E/);
    const unlock = cli(['service-id-unlock', renamed]);
    expectStatus(unlock, 0);
    assert.match(unlock.stdout, /^Unlocked service ID/);

    for (const input of ['n\n', '']) {
      const no = cli(['service-id-delete', id], { input });
      expectStatus(no, 1);
      assert.match(no.stderr, /^Delete service ID .* \[y\/N\] \niamctl: not deleted \(use -f to delete without asking\)\n$/);
    }
    const yes = cli(['service-id-delete', id], { input: 'y\n' });
    expectStatus(yes, 0);
    assert.match(yes.stderr, /Delete service ID .* \[y\/N\]/);
    expectOneLineError(cli(['service-id', id]), 1, /BXNIM0103E/);
    const other = cli(['service-id-create', uniqueName('del'), '-q']).stdout.trim();
    const gone = cli(['service-id-delete', other, '-f', '-q']);
    expectStatus(gone, 0);
    assert.equal(gone.stdout, '');
  });
});

describe('service ID API keys', () => {
  let sidName;
  before(() => {
    sidName = uniqueName('keys');
    expectStatus(cli(['service-id-create', sidName]), 0);
  });

  const keyIds = () => cli(['service-api-keys', sidName, '--output', 'json']).json().map((k) => k.id);

  test('create prints the value once (table, json, -q)', () => {
    const res = cli(['service-api-key-create', 'k-table', sidName, '-d', 'first key']);
    expectStatus(res, 0);
    const shown = parsePairs(res.stdout);
    assert.match(shown['API Key'], KEY_VALUE_RE);
    assert.equal(shown.Description, 'first key');
    assert.match(res.stdout, /cannot be shown again/);
    const json = cli(['service-api-key-create', 'k-json', sidName, '--output', 'json']).json();
    assert.match(json.apikey, KEY_VALUE_RE);
    assert.match(json.iam_id, /^iam-ServiceId-/);
    const quiet = cli(['service-api-key-create', 'k-quiet', sidName, '-q']);
    expectStatus(quiet, 0);
    assert.match(quiet.stdout.trim(), KEY_VALUE_RE);
  });

  test('--file: mode 0600, the console format, value not printed', async () => {
    const dir = keyDir();
    const file = path.join(dir, 'key.json');
    const res = cli(['service-api-key-create', 'k-file', sidName, '-d', 'to a file', '--file', file]);
    expectStatus(res, 0);
    assert.doesNotMatch(res.stdout + res.stderr, KEY_IN_TEXT_RE, 'the key must not be printed');
    assert.match(res.stdout, /saved in/);
    assert.equal(modeOf(file), 0o600);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(doc), ['name', 'description', 'createdAt', 'apikey']);
    assert.equal(doc.name, 'k-file');
    assert.equal(doc.description, 'to a file');
    assert.match(doc.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\+0000$/);
    assert.match(doc.apikey, KEY_VALUE_RE);
    assert.deepEqual(fs.readdirSync(dir), ['key.json'], 'no temporary file left');
    const token = await exchangeKey(server, doc.apikey);
    assert.equal(token.status, 200, token.text);
    // --output json with --file: the API's JSON without the value.
    const jsonFile = path.join(dir, 'key2.json');
    const asJson = cli(['service-api-key-create', 'k-file2', sidName, '--file', jsonFile, '--output', 'json']);
    expectStatus(asJson, 0);
    assert.equal(asJson.json().apikey, undefined);
    assert.doesNotMatch(asJson.stdout, KEY_IN_TEXT_RE);
  });

  test('--file failures leave no file, no partial file and no key', () => {
    const dir = keyDir();
    const file = path.join(dir, 'key.json');
    fs.writeFileSync(file, 'keep me', { mode: 0o600 });
    const before = keyIds();
    expectOneLineError(cli(['service-api-key-create', 'k-exists', sidName, '--file', file]), 1, /exists already/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
    expectOneLineError(cli(['service-api-key-create', 'k-nodir', sidName, '--file', path.join(dir, 'no', 'k.json')]),
      1, /cannot create a file beside/);
    // The server refuses (unknown service ID): nothing is written.
    const refused = path.join(dir, 'refused.json');
    expectOneLineError(cli(['service-api-key-create', 'k-refused', 'no-such-sid', '--file', refused]), 1,
      /no service ID named/);
    const longName = 'x'.repeat(5000);
    expectStatus(cli(['service-api-key-create', longName, sidName, '--file', refused]), 1, 'name too long');
    assert.deepEqual(fs.readdirSync(dir), ['key.json'], 'no file and no temporary file');
    assert.deepEqual(keyIds(), before, 'no key was created');
    // With -f the file is replaced by a complete key file.
    expectStatus(cli(['service-api-key-create', 'k-force', sidName, '--file', file, '-f']), 0);
    assert.match(JSON.parse(fs.readFileSync(file, 'utf8')).apikey, KEY_VALUE_RE);
    assert.equal(modeOf(file), 0o600);
  });

  test('list, get, update, lock/unlock, disable/enable, delete', async () => {
    const value = cli(['service-api-key-create', 'k-life', sidName, '-q']).stdout.trim();
    const list = cli(['service-api-keys', sidName]);
    expectStatus(list, 0);
    const table = parseTable(list.stdout);
    assert.deepEqual(table.headers, ['ID', 'NAME', 'DESCRIPTION', 'CREATED AT', 'LOCKED', 'DISABLED']);
    const row = table.rows.find((r) => r[1] === 'k-life');
    assert.ok(row, list.stdout);
    const id = row[0];
    assert.doesNotMatch(list.stdout, KEY_IN_TEXT_RE);
    expectStatus(cli(['service-api-key', 'k-life', sidName]), 0);
    assert.equal(cli(['service-api-key', id, sidName, '--output', 'json']).json().name, 'k-life');
    assert.equal(cli(['service-api-key', 'k-life', sidName, '--uuid']).stdout, `${id}\n`);
    expectOneLineError(cli(['service-api-key', 'nope', sidName]), 1, /no API key named 'nope'/);

    const upd = cli(['service-api-key-update', 'k-life', sidName, '-n', 'k-life2', '-d', 'renamed', '--output', 'json']);
    expectStatus(upd, 0);
    assert.equal(upd.json().name, 'k-life2');
    expectOneLineError(cli(['service-api-key-update', id, sidName]), 2, /nothing to change/);

    expectStatus(cli(['service-api-key-lock', id, sidName]), 0);
    expectOneLineError(cli(['service-api-key-delete', id, sidName, '-f']), 1, /BXNIM0510E/);
    expectStatus(cli(['service-api-key-unlock', id, sidName]), 0);

    expectStatus(cli(['service-api-key-disable', 'k-life2', sidName]), 0);
    assert.equal((await exchangeKey(server, value)).body.errorCode, 'BXNIM0416E');
    expectStatus(cli(['service-api-key-enable', 'k-life2', sidName]), 0);
    assert.equal((await exchangeKey(server, value)).status, 200);

    expectStatus(cli(['service-api-key-delete', id, sidName, '-f']), 0);
    assert.ok(!keyIds().includes(id));
    // A key of another owner is refused by id.
    const otherSid = uniqueName('other');
    expectStatus(cli(['service-id-create', otherSid]), 0);
    const otherKey = cli(['service-api-key-create', 'k', otherSid, '--output', 'json']).json().id;
    expectOneLineError(cli(['service-api-key', otherKey, sidName]), 1, /does not belong to/);
  });
});

describe('own API keys', () => {
  test('api-key-create/-keys/-key/-update/-lock/-unlock/-disable/-enable/-delete', async () => {
    const dir = keyDir();
    const file = path.join(dir, 'mine.json');
    expectStatus(cli(['api-key-create', 'mine', '-d', 'my key', '--file', file]), 0);
    const value = JSON.parse(fs.readFileSync(file, 'utf8')).apikey;
    assert.equal((await exchangeKey(server, value)).status, 200);
    const list = cli(['api-keys', '--output', 'json']).json();
    const mine = list.find((k) => k.name === 'mine');
    assert.ok(mine, JSON.stringify(list));
    assert.equal(mine.iam_id, server.iamId);
    assert.ok(parseTable(cli(['api-keys']).stdout).rows.some((r) => r[1] === 'mine'));
    assert.equal(cli(['api-key', 'mine', '--output', 'json']).json().id, mine.id);
    expectStatus(cli(['api-key-update', 'mine', '-d', 'changed']), 0);
    assert.equal(cli(['api-key', mine.id, '--output', 'json']).json().description, 'changed');
    for (const verb of ['lock', 'unlock', 'disable', 'enable']) {
      const res = cli([`api-key-${verb}`, 'mine']);
      expectStatus(res, 0, verb);
    }
    const shown = cli(['api-key-create', 'mine-2']);
    expectStatus(shown, 0);
    assert.match(parsePairs(shown.stdout)['API Key'], KEY_VALUE_RE);
    expectStatus(cli(['api-key-delete', 'mine', '-f']), 0);
    expectOneLineError(cli(['api-key', 'mine']), 1, /no API key named 'mine'/);
    const check = await request(server, 'GET', `/v1/apikeys/${mine.id}`, { apikey: server.apikey });
    assert.equal(check.status, 404);
  });
});
