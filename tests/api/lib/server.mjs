// Starts and stops a real iamd process for the black-box API tests.
//
// startServer() picks a free loopback port, makes a temporary data dir, runs
// `$IAMD_BIN --listen 127.0.0.1:PORT --data-dir DIR`, waits for GET /healthz
// to answer 200 and reads DIR/bootstrap-apikey.json. Each test file starts
// its own server in before() and stops it in after().
//
// With IAMD_TEST_DATABASE_URL_BASE set (a PostgreSQL maintenance URL, as
// scripts/pg-test-cluster.sh run sets it), each server gets a database of its
// own on that cluster, named after its data dir (a restart with the same data
// dir finds the same database), passed with --database (or IAMD_DATABASE_URL
// when options.useEnv); it is dropped when the server's own data dir is
// removed. createdb and dropdb come from $IAMD_PG_BIN when set, else PATH.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const HEALTH_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');

/** The iamd binary under test: $IAMD_BIN, else a local build if there is one. */
export function iamdBinary() {
  if (process.env.IAMD_BIN) return path.resolve(process.env.IAMD_BIN);
  for (const candidate of ['build/asan/iamd', 'build/iamd']) {
    const full = path.join(repoRoot, candidate);
    if (fs.existsSync(full)) return full;
  }
  throw new Error('IAMD_BIN is not set and no build/asan/iamd or build/iamd exists; run tests/api/run.sh <path-to-iamd>');
}

/** A TCP port that was free on 127.0.0.1 a moment ago (bind port 0, close, reuse). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const execFileAsync = promisify(execFile);

/** GET <url>/healthz on a connection of its own: the status, or 0 when nothing answered. With `ca`, over HTTPS trusting it. */
async function healthStatus(url, ca) {
  // agent: false: no pooled keep-alive connection is left open on the server (tests count connections).
  const client = ca ? https : http;
  return new Promise((resolve) => {
    const req = client.get(`${url}/healthz`, { ca, timeout: 2000, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** The PostgreSQL maintenance URL the API tests run against, or undefined for SQLite. */
export const databaseUrlBase = process.env.IAMD_TEST_DATABASE_URL_BASE || undefined;

function pgProgram(name) {
  return process.env.IAMD_PG_BIN ? path.join(process.env.IAMD_PG_BIN, name) : name;
}

/** The database of a data dir: its name, and its URL on the cluster of databaseUrlBase. */
function databaseFor(dataDir) {
  const name = `iamd_${path.basename(dataDir).replace(/[^A-Za-z0-9]/g, '_')}`;
  const url = new URL(databaseUrlBase);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Creates the database unless it exists (a restart with the same data dir). */
async function ensureDatabase(name) {
  try {
    await execFileAsync(pgProgram('createdb'), [`--maintenance-db=${databaseUrlBase}`, name], { timeout: 30_000 });
  } catch (err) {
    if (!/already exists/.test(`${err.stderr ?? ''}`)) throw new Error(`createdb ${name} failed: ${err.stderr ?? err.message}`);
  }
}

async function dropDatabase(name) {
  await execFileAsync(pgProgram('dropdb'), [`--maintenance-db=${databaseUrlBase}`, '--force', '--if-exists', name],
    { timeout: 30_000 });
}

/** Lines the sanitizers print when they find a bug in the server. */
export const SANITIZER_PATTERN = /ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|runtime error:|WARNING: ThreadSanitizer/;

/**
 * Starts iamd.
 * options.dataDir: reuse an existing data dir (restart tests); default a new temp dir.
 * options.useEnv: pass listen address and data dir as IAMD_LISTEN / IAMD_DATA_DIR instead of flags.
 * options.env: extra environment variables.
 * options.args: extra command-line arguments.
 * options.https: { ca } when the server serves HTTPS (the arguments name the
 *   certificate): the URL is https:// and the health check trusts `ca`.
 */
export async function startServer(options = {}) {
  const bin = iamdBinary();
  let lastError;
  // A port that was free can be taken between close() and the server's bind: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, options);
    } catch (err) {
      lastError = err;
      if (!err.portInUse) throw err;
    }
  }
  throw lastError;
}

async function startOnce(bin, options) {
  const port = await freePort();
  const ownDir = !options.dataDir;
  const dataDir = options.dataDir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'iamd-api-')));
  const listen = `127.0.0.1:${port}`;
  const url = `${options.https ? 'https' : 'http'}://${listen}`;
  const logDir = path.join(os.tmpdir(), 'iamd-api-logs');
  await fsp.mkdir(logDir, { recursive: true });
  const logPath = path.join(logDir, `${path.basename(dataDir)}-${port}.log`);
  const log = fs.createWriteStream(logPath, { flags: 'a' });

  const args = options.useEnv ? [] : ['--listen', listen, '--data-dir', dataDir];
  const env = { ...process.env, ...(options.env ?? {}) };
  if (options.useEnv) {
    env.IAMD_LISTEN = listen;
    env.IAMD_DATA_DIR = dataDir;
  }
  const database = databaseUrlBase ? databaseFor(dataDir) : null;
  if (database) {
    await ensureDatabase(database.name);
    if (options.useEnv) env.IAMD_DATABASE_URL = database.url;
    else args.push('--database', database.url);
  }
  if (options.args) args.push(...options.args);

  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stdout.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; log.write(d); });
  child.stdout.on('data', (d) => { stdout += d; log.write(d); });

  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
    child.on('error', (err) => { exited = { code: null, signal: null, error: err }; resolve(exited); });
  });

  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let healthy = false;
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      if (await healthStatus(url, options.https?.ca) === 200) { healthy = true; break; }
    } catch { /* not up yet */ }
    await sleep(50);
  }
  if (!healthy) {
    if (!exited) { child.kill('SIGKILL'); await exitPromise; }
    log.end();
    if (ownDir) await fsp.rm(dataDir, { recursive: true, force: true });
    if (ownDir && database) await dropDatabase(database.name).catch(() => {});
    const err = new Error(
      `iamd did not become healthy on ${url} within ${HEALTH_TIMEOUT_MS} ms ` +
      `(exit ${JSON.stringify(exited)}; log ${logPath})\n--- stderr ---\n${stderr.slice(-4000)}`);
    err.portInUse = /address already in use|EADDRINUSE|bind/i.test(stderr);
    throw err;
  }

  let bootstrap = null;
  try {
    bootstrap = JSON.parse(await fsp.readFile(path.join(dataDir, 'bootstrap-apikey.json'), 'utf8'));
  } catch (err) {
    bootstrap = null;
  }

  let stopped = null;
  let stopRequested = false;
  let dirRemoved = false;
  async function stop({ keepDir = false } = {}) {
    stopRequested = true;
    if (!stopped) {
      stopped = (async () => {
        if (!exited) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, STOP_GRACE_MS);
          await exitPromise;
          clearTimeout(timer);
        }
        await new Promise((r) => log.end(r));
        return exited;
      })();
    }
    const result = await stopped;
    if (ownDir && !keepDir && !dirRemoved) {
      dirRemoved = true;
      await fsp.rm(dataDir, { recursive: true, force: true });
      if (database) await dropDatabase(database.name);
    }
    return result;
  }

  return {
    url,
    port,
    dataDir,
    databaseUrl: database?.url,
    logPath,
    bootstrap,
    apikey: bootstrap?.apikey,
    accountId: bootstrap?.account_id,
    iamId: bootstrap?.iam_id,
    pid: child.pid,
    stderr: () => stderr,
    stdout: () => stdout,
    exited: () => exited,
    stopRequested: () => stopRequested,
    stop,
  };
}

/**
 * Stops the server and throws when it crashed during the tests or a sanitizer
 * reported something: use in after() so such a report fails the file.
 */
export async function stopAndCheck(server) {
  if (!server) return;
  const wasRunning = !server.exited() || server.stopRequested();
  const exit = await server.stop();
  const err = server.stderr();
  const match = err.match(SANITIZER_PATTERN);
  if (match) {
    const at = err.indexOf(match[0]);
    throw new Error(`sanitizer report in iamd stderr (log ${server.logPath}):\n${err.slice(Math.max(0, at - 200), at + 3000)}`);
  }
  if (!wasRunning) {
    throw new Error(`iamd exited during the tests: ${JSON.stringify(exit)} (log ${server.logPath})\n${err.slice(-3000)}`);
  }
}
