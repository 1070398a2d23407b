// Runs the real iamctl binary for the CLI tests: a temporary HOME per user of
// the CLI, a clean environment (no IAMCTL_* or XDG_* from the caller), and a
// check that no sanitizer report appears on its stderr.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { SANITIZER_PATTERN } from '../../api/lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');

export const KEY_VALUE_RE = /^iamd_[0-9A-Za-z]{71}$/;
export const KEY_IN_TEXT_RE = /iamd_[0-9A-Za-z]{71}/;

/** The iamctl binary under test: $IAMCTL_BIN, else a local build. */
export function iamctlBinary() {
  if (process.env.IAMCTL_BIN) return path.resolve(process.env.IAMCTL_BIN);
  for (const candidate of ['build/cli/iamctl', 'build/asan/iamctl', 'build/iamctl']) {
    const full = path.join(repoRoot, candidate);
    if (fs.existsSync(full)) return full;
  }
  throw new Error('IAMCTL_BIN is not set; run tests/cli/run.sh <path-to-iamctl> <path-to-iamd>');
}

/** A new temporary HOME directory. */
export function makeHome(prefix = 'iamctl-home-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The environment iamctl runs with: PATH, HOME, the sanitizer options, and `extra`. */
function environment(home, extra) {
  const env = { PATH: process.env.PATH, HOME: home, LANG: 'C', TZ: 'UTC' };
  for (const name of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
    if (process.env[name]) env[name] = process.env[name];
  }
  return { ...env, ...extra };
}

/**
 * Runs iamctl with `args`. options: home (default a new one), env (extra
 * variables), input (standard input, default empty), cwd.
 * Returns {status, stdout, stderr, home, json()}.
 */
export function iamctl(args, options = {}) {
  const home = options.home ?? makeHome();
  const result = spawnSync(iamctlBinary(), args, {
    env: environment(home, options.env ?? {}),
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 30_000,
    cwd: options.cwd ?? os.tmpdir(),
  });
  if (result.error) throw result.error;
  const match = result.stderr.match(SANITIZER_PATTERN);
  if (match) {
    throw new Error(`sanitizer report from iamctl ${args.join(' ')}:\n${result.stderr.slice(0, 4000)}`);
  }
  assert.notEqual(result.status, null, `iamctl ${args.join(' ')} was killed by ${result.signal}`);
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    home,
    json() {
      try {
        return JSON.parse(result.stdout);
      } catch (err) {
        throw new Error(`iamctl ${args.join(' ')} did not print JSON: ${result.stdout.slice(0, 500)}\n${result.stderr}`);
      }
    },
  };
}

/** Asserts the exit status, printing the output when it differs. */
export function expectStatus(res, status, what = '') {
  assert.equal(res.status, status,
    `${what ? what + ': ' : ''}expected exit ${status}, got ${res.status}\n--- stdout ---\n${res.stdout}\n--- stderr ---\n${res.stderr}`);
}

/** Asserts a failure with exactly one stderr line starting "iamctl: " and matching `pattern`. */
export function expectOneLineError(res, status, pattern, what = '') {
  expectStatus(res, status, what);
  const lines = res.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `${what}: expected one stderr line, got:\n${res.stderr}`);
  assert.match(lines[0], /^iamctl: /, `${what}: ${lines[0]}`);
  if (pattern) assert.match(lines[0], pattern, `${what}: ${lines[0]}`);
}

/** The config file of a HOME. */
export const configPath = (home) => path.join(home, '.config', 'iamctl', 'config.json');

export function readConfig(home) {
  return JSON.parse(fs.readFileSync(configPath(home), 'utf8'));
}

export function writeConfig(home, config) {
  fs.writeFileSync(configPath(home), JSON.stringify(config, null, 2), { mode: 0o600 });
}

/** The permission bits of a path. */
export const modeOf = (file) => fs.statSync(file).mode & 0o777;

/** Logs a new HOME in with `apikey` against `server`; returns the home. */
export function loginHome(server, apikey, extra = []) {
  const home = makeHome();
  const res = iamctl(['login', '--apikey', apikey, '--endpoint', server.url, ...extra], { home });
  expectStatus(res, 0, 'login');
  return home;
}

/** A CLI bound to one HOME: cli('service-ids') runs iamctl there. */
export function cliFor(home, defaults = {}) {
  return (args, options = {}) => iamctl(args, { home, ...defaults, ...options });
}

/** Parses an aligned table: {headers, rows (arrays of cells)} by the header's column starts. */
export function parseTable(text) {
  const lines = text.split('\n').filter((l) => l.length > 0);
  assert.ok(lines.length >= 1, `no table in: ${text}`);
  const header = lines[0];
  const starts = [];
  const names = [];
  const re = /(\S+(?: \S+)*)/g;
  let m;
  while ((m = re.exec(header)) !== null) {
    starts.push(m.index);
    names.push(m[1]);
  }
  const rows = lines.slice(1).map((line) => starts.map((start, i) => {
    const end = i + 1 < starts.length ? starts[i + 1] : undefined;
    return line.slice(start, end).trim();
  }));
  return { headers: names, rows };
}

/** Parses "Key   value" lines into an object. */
export function parsePairs(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^(\S+(?: \S+)*?)(?:\s{3,}(.*))?$/);
    if (m) out[m[1]] = m[2] ?? '';
  }
  return out;
}

/**
 * One HTTP request on a fresh connection (no keep-alive): the tests block the
 * event loop in spawnSync for long stretches, long enough for iamd to close an
 * idle pooled connection that fetch would then try to reuse.
 * opts: apikey (Basic), token (Bearer), json (body), form (urlencoded body).
 * Returns {status, body (parsed JSON or null), text}.
 */
export function request(server, method, urlPath, opts = {}) {
  const url = new URL(urlPath, server.url ?? server);
  const headers = { Accept: 'application/json', Connection: 'close' };
  if (opts.apikey) headers.Authorization = `Basic ${Buffer.from(`apikey:${opts.apikey}`).toString('base64')}`;
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['Content-Type'] = 'application/json';
  } else if (opts.form !== undefined) {
    body = new URLSearchParams(opts.form).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        let parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
        resolve({ status: res.statusCode, body: parsed, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The API-key grant on a fresh connection. */
export function exchangeKey(server, apikey) {
  return request(server, 'POST', '/identity/token', {
    form: { grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey },
  });
}

/** Creates a service ID with one API key through the API; returns the body (apikey.apikey is the value). */
export async function serviceIdWithKey(server, name) {
  const res = await request(server, 'POST', '/v1/serviceids', {
    apikey: server.apikey,
    json: { account_id: server.accountId, name, apikey: { name: `${name}-key` } },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}
