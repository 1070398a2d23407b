// iamctl: the audit trail (audit-events with its filters and --all paging,
// audit-event SEQ) and the inactive-identities report (activity-report,
// activity-report-get); flag values the API would refuse are refused
// locally, exit 2, before any request is made.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  cliFor, exchangeKey, expectOneLineError, expectStatus, loginHome, makeHome, parsePairs, parseTable, readConfig,
  request, serviceIdWithKey, writeConfig,
} from './lib/cli.mjs';
import { uniqueName } from '../api/lib/http.mjs';
import { freePort, startServer, stopAndCheck } from '../api/lib/server.mjs';

const HEADERS = ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'STATUS', 'COUNT'];

let server;
let home;
let cli;
before(async () => {
  server = await startServer();
  home = loginHome(server, server.apikey);
  cli = cliFor(home);
});
after(async () => { await stopAndCheck(server); });

/** A CLI logged in like `cli` whose saved endpoint is a port nobody listens on: any request fails (exit 1). */
async function offlineCli() {
  const dead = makeHome();
  const config = readConfig(home);
  config.endpoint = `http://127.0.0.1:${await freePort()}`;
  fs.mkdirSync(path.join(dead, '.config', 'iamctl'), { recursive: true, mode: 0o700 });
  writeConfig(dead, config);
  return cliFor(dead);
}

describe('audit-events', () => {
  test('the create of a service ID done via iamctl is listed (table and json), and audit-event shows it', () => {
    const name = uniqueName('audited');
    const id = cli(['service-id-create', name, '-q']).stdout.trim();
    assert.match(id, /^ServiceId-/);

    const listed = cli(['audit-events', '--target', id]);
    expectStatus(listed, 0);
    const table = parseTable(listed.stdout);
    assert.deepEqual(table.headers, HEADERS);
    const row = table.rows.find((r) => r[3] === 'iam-identity.serviceid.create');
    assert.ok(row, listed.stdout);
    assert.match(row[0], /^\d+$/);
    assert.equal(row[2], server.iamId);
    assert.equal(row[4], id);
    assert.equal(row[5], 'success');
    assert.equal(row[6], '201');
    assert.equal(row[7], '1');

    const events = cli(['audit-events', '--target', id, '--output', 'json']).json();
    assert.ok(Array.isArray(events));
    const event = events.find((e) => e.action === 'iam-identity.serviceid.create' && e.phase === 'outcome');
    assert.ok(event, JSON.stringify(events));
    assert.equal(String(event.seq), row[0]);
    assert.equal(event.target.id, id);
    assert.equal(event.actor.iam_id, server.iamId);

    const shown = cli(['audit-event', String(event.seq)]);
    expectStatus(shown, 0);
    const pairs = parsePairs(shown.stdout);
    assert.equal(pairs.Seq, String(event.seq));
    assert.equal(pairs.Action, 'iam-identity.serviceid.create');
    assert.equal(pairs['Target ID'], id);
    assert.equal(pairs.Outcome, 'success');
    assert.equal(pairs.Status, '201');
    assert.equal(pairs.Route, '/v1/serviceids');
    assert.equal(pairs.Hash, event.hash);
    assert.deepEqual(cli(['audit-event', String(event.seq), '--output', 'json']).json(), event);
  });

  test('filters: outcome, action, actor, time window', async () => {
    const refused = await request(server, 'POST', '/v1/serviceids', {
      apikey: server.apikey, json: { account_id: server.accountId },
    });
    assert.equal(refused.status, 400, refused.text);
    const name = uniqueName('filtered');
    expectStatus(cli(['service-id-create', name, '-q']), 0);

    const failures = cli(['audit-events', '--action', 'iam-identity.serviceid.create', '--outcome', 'failure',
      '--output', 'json']).json();
    assert.ok(failures.length >= 1, 'the refused create is listed');
    for (const e of failures) {
      assert.equal(e.outcome, 'failure');
      assert.equal(e.action, 'iam-identity.serviceid.create');
    }
    assert.ok(failures.some((e) => e.status === 400 && e.message_code === 'BXNIM0109E'), JSON.stringify(failures));

    const successes = cli(['audit-events', '--action', 'iam-identity.serviceid.create', '--outcome', 'success',
      '--output', 'json']).json();
    assert.ok(successes.length >= 1);
    assert.ok(successes.every((e) => e.outcome === 'success' && e.status === 201));

    const mine = cli(['audit-events', '--actor', server.iamId, '--limit', '100', '--output', 'json']).json();
    assert.ok(mine.length >= 2);
    assert.ok(mine.every((e) => e.actor.iam_id === server.iamId));
    const nobody = cli(['audit-events', '--actor', 'iam-ServiceId-00000000-0000-4000-8000-000000000000',
      '--output', 'json']);
    expectStatus(nobody, 0);
    assert.deepEqual(nobody.json(), []);

    const future = cli(['audit-events', '--from', '2999-01-01T00:00:00Z', '--output', 'json']);
    expectStatus(future, 0);
    assert.deepEqual(future.json(), []);
    const past = cli(['audit-events', '--to', '2000-01-01T00:00:00Z']);
    expectStatus(past, 0);
    assert.deepEqual(parseTable(past.stdout).rows, []);
    assert.deepEqual(parseTable(past.stdout).headers, HEADERS);

    // A value only the server can judge is the server's IBM error, exit 1.
    expectOneLineError(cli(['audit-events', '--from', 'yesterday']), 1, /BXNIM0110E/);
  });

  test('one page by default (newest first, a warning when there is more); --all follows the pages', () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(cli(['service-id-create', uniqueName('paged'), '-q']).stdout.trim());
    const filter = ['--action', 'iam-identity.serviceid.create', '--outcome', 'success'];

    const one = cli(['audit-events', ...filter, '--limit', '1', '--output', 'json']);
    expectStatus(one, 0);
    assert.equal(one.json().length, 1);
    assert.equal(one.json()[0].target.id, ids[2], 'newest first');
    assert.match(one.stderr, /^iamctl: warning: more events than shown/);

    const all = cli(['audit-events', ...filter, '--limit', '1', '--all', '--output', 'json']);
    expectStatus(all, 0);
    const events = all.json();
    assert.equal(all.stderr, '');
    for (const id of ids) assert.ok(events.some((e) => e.target.id === id), id);
    const seqs = events.map((e) => e.seq);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] < seqs[i - 1], `strictly newest first: ${seqs}`);
    const pageOfAll = cli(['audit-events', ...filter, '--all', '--output', 'json']).json();
    assert.deepEqual(pageOfAll.map((e) => e.seq), seqs, 'the same events with the default page size');
  });

  test('bad values are refused locally with exit 2 and no request', async () => {
    const offline = await offlineCli();
    // The control: a good command does try the (dead) endpoint and fails with 1.
    expectStatus(offline(['audit-events', '--outcome', 'failure']), 1, 'a request is attempted');
    expectOneLineError(offline(['audit-events', '--outcome', 'maybe']), 2, /--outcome is success, failure or pending/);
    expectOneLineError(offline(['audit-events', '--outcome', 'SUCCESS']), 2, /--outcome/);
    for (const limit of ['0', '101', 'ten', '-1', '5x', '']) {
      expectOneLineError(offline(['audit-events', '--limit', limit]), 2, /--limit is 1 to 100/, limit);
    }
    expectOneLineError(offline(['audit-events', '--actor', '']), 2, /--actor needs a value/);
    expectOneLineError(offline(['audit-event', 'abc']), 2, /SEQ is a positive number/);
    expectOneLineError(offline(['audit-event', '0']), 2, /SEQ is a positive number/);
    expectOneLineError(offline(['audit-event']), 2, /missing arguments/);
    expectOneLineError(offline(['audit-events', 'extra']), 2, /unexpected argument 'extra'/);
    // Against the live server the same refusals hold, and an unknown record is the server's 404.
    expectOneLineError(cli(['audit-events', '--outcome', 'maybe']), 2, /--outcome/);
    expectOneLineError(cli(['audit-event', '999999999']), 1, /BXNIM0404E/);
  });
});

describe('activity-report', () => {
  test('a never-used service ID is inactive; one whose key was used is not', async () => {
    const idle = cli(['service-id-create', uniqueName('idle'), '-q']).stdout.trim();
    const busy = await serviceIdWithKey(server, uniqueName('busy'));
    const token = await exchangeKey(server, busy.apikey.apikey);
    assert.equal(token.status, 200, token.text);

    const report = cli(['activity-report', '--duration', '720h', '--wait', '--output', 'json']);
    expectStatus(report, 0);
    const body = report.json();
    assert.equal(body.report_duration, '720');
    assert.ok(body.serviceids.some((s) => s.id === idle), JSON.stringify(body.serviceids));
    assert.ok(!body.serviceids.some((s) => s.id === busy.id), 'the used service ID is active');
    assert.ok(!body.apikeys.some((k) => k.id === busy.apikey.id), 'the used key is active');

    const table = cli(['activity-report', '--duration', '48', '--wait']);
    expectStatus(table, 0);
    const pairs = parsePairs(table.stdout);
    assert.equal(pairs.Duration, '48');
    assert.match(pairs.Reference, /^[0-9a-f-]{36}$/);
    const section = table.stdout.split('\nInactive API keys')[0].split('Inactive service IDs (')[1];
    assert.ok(section, table.stdout);
    const rows = parseTable(section.split('\n').slice(1).join('\n'));
    assert.deepEqual(rows.headers, ['ID', 'NAME', 'LAST AUTHENTICATION']);
    assert.ok(rows.rows.some((r) => r[0] === idle), section);
    assert.ok(!rows.rows.some((r) => r[0] === busy.id), section);
    assert.match(table.stdout, /^Inactive users \(\d+\):$/m);
  });

  test('without --wait: the reference, then activity-report-get REFERENCE and latest', () => {
    const asked = cli(['activity-report', '-q']);
    expectStatus(asked, 0);
    const reference = asked.stdout.trim();
    assert.match(reference, /^[0-9a-f-]{36}$/);
    const said = cli(['activity-report']);
    expectStatus(said, 0);
    assert.match(said.stdout, /^Requested activity report [0-9a-f-]{36}; see it with 'iamctl activity-report-get /);

    const got = cli(['activity-report-get', reference, '--output', 'json']);
    expectStatus(got, 0);
    assert.equal(got.json().reference, reference);
    assert.ok(Array.isArray(got.json().serviceids));
    const latest = cli(['activity-report-get', 'latest', '--output', 'json']);
    expectStatus(latest, 0);
    assert.notEqual(latest.json().reference, reference, 'the later report is the latest');
    expectOneLineError(cli(['activity-report-get', '00000000-0000-4000-8000-000000000000']), 1, /BXNIM0112E/);
    expectOneLineError(cli(['activity-report-get']), 2, /missing arguments/);
  });

  test('a bad --duration is refused locally with exit 2 and no request', async () => {
    const offline = await offlineCli();
    expectStatus(offline(['activity-report', '--duration', '24h']), 1, 'a request is attempted');
    for (const duration of ['0', '8761', '12d', 'abc', '-5', '720hh', 'h', '']) {
      expectOneLineError(offline(['activity-report', '--duration', duration]), 2,
        /--duration is 1 to 8760 hours/, duration);
    }
    expectOneLineError(cli(['activity-report', '--duration', '9999h']), 2, /--duration/);
  });
});
