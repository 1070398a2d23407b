// The pieces of the multi-node tests: a throwaway PostgreSQL cluster that can
// be stopped and started again on the same data directory and port, and iamd
// nodes on one database that can be stopped, SIGKILLed and started again on
// the same port and data dir.
//
// Everything started here is registered, and cleanupSync() kills it and
// removes the cluster and the temporary directories: the test file calls it
// in after(), and it also runs on process exit and on SIGINT/SIGTERM, so a
// failed or interrupted run leaves no postgres or iamd behind.

import { execFile, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { SANITIZER_PATTERN, freePort, iamdBinary } from '../../api/lib/server.mjs';

export { iamdBinary };

const execFileAsync = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const PG_SCRIPT = path.join(repoRoot, 'scripts', 'pg-test-cluster.sh');

const HEALTH_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Milliseconds on a monotonic clock. */
export const now = () => performance.now();

// ---------------------------------------------------------------- cleanup registry

const liveChildren = new Set(); // iamd child processes not known to have exited
const clusterDirs = new Set();  // PostgreSQL cluster dirs to stop and remove
const tempDirs = new Set();     // directories to remove

/** Kills every registered process, stops and removes every cluster and temp dir. Synchronous: safe on exit. */
export function cleanupSync() {
  for (const child of liveChildren) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
  liveChildren.clear();
  for (const dir of clusterDirs) {
    try { execFileSync(PG_SCRIPT, ['stop', dir], { stdio: 'ignore', timeout: 60_000 }); } catch { /* best effort */ }
  }
  clusterDirs.clear();
  for (const dir of tempDirs) {
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  tempDirs.clear();
}

const logDirs = new Set(); // removed at exit when the run passed, kept (and named) when it failed

process.on('exit', (code) => {
  cleanupSync();
  for (const dir of logDirs) {
    if (code === 0) fs.rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`iamd node logs kept in ${dir}\n`);
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanupSync();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}

/** A new temporary directory, removed by cleanupSync(). */
export async function tempDir(prefix) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** A new directory for logs: removed at exit if the run passed, kept otherwise. */
export async function logDir(prefix) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  logDirs.add(dir);
  return dir;
}

// ---------------------------------------------------------------- PostgreSQL

/**
 * A throwaway cluster (scripts/pg-test-cluster.sh): start(), pause() (fast
 * shutdown, connections dropped), resume() (same data dir and port), sql(),
 * destroy().
 */
export class PgCluster {
  static async start() {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'iamd-cluster-pg-'));
    clusterDirs.add(dir);
    const { stdout } = await execFileAsync(PG_SCRIPT, ['start', dir], { timeout: 120_000 });
    const cluster = new PgCluster(dir, stdout.trim());
    const { stdout: bin } = await execFileAsync('bash', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1']);
    cluster.psqlPath = process.env.IAMD_PG_BIN && fs.existsSync(path.join(process.env.IAMD_PG_BIN, 'psql'))
      ? path.join(process.env.IAMD_PG_BIN, 'psql')
      : (bin.trim() && fs.existsSync(path.join(bin.trim(), 'psql')) ? path.join(bin.trim(), 'psql') : 'psql');
    return cluster;
  }

  constructor(dir, maintenanceUrl) {
    this.dir = dir;
    this.maintenanceUrl = maintenanceUrl;
    this.running = true;
  }

  /** The URL of database `name` on this cluster. */
  databaseUrl(name) {
    const url = new URL(this.maintenanceUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** Runs SQL (one statement or several) and returns psql's unaligned, tuples-only output lines. */
  async sql(database, statement) {
    const { stdout } = await execFileAsync(this.psqlPath,
      ['--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-At', '-F', '\t', '-d', this.databaseUrl(database), '-c', statement],
      { timeout: 30_000 });
    return stdout.split('\n').filter((line) => line.length > 0);
  }

  async createDatabase(name) {
    await this.sql('postgres', `CREATE DATABASE ${name}`);
  }

  /** Stops the server (fast shutdown: every connection is dropped), keeping the data dir and port. */
  async pause() {
    await execFileAsync(PG_SCRIPT, ['pause', this.dir], { timeout: 60_000 });
    this.running = false;
  }

  /** Starts the server again on the same data dir and port. */
  async resume() {
    await execFileAsync(PG_SCRIPT, ['resume', this.dir], { timeout: 60_000 });
    this.running = true;
  }

  async destroy() {
    await execFileAsync(PG_SCRIPT, ['stop', this.dir], { timeout: 60_000 });
    clusterDirs.delete(this.dir);
    this.running = false;
  }
}

// ---------------------------------------------------------------- iamd nodes

/** 64 hex digits: a pepper or KEK every node of the cluster shares. */
export const randomSecret = () => crypto.randomBytes(32).toString('hex');

/**
 * One iamd process of the cluster. Its port and data dir are fixed when it is
 * made, so start() after stop() or kill() brings the same node back.
 * options: name, databaseUrl, env (IAMD_PEPPER, IAMD_KEK...), args (extra flags), workDir (its data dir
 * goes there), logs (a directory for its log file).
 */
export class IamdNode {
  static async create({ name, databaseUrl, env = {}, args = [], workDir, logs }) {
    const node = new IamdNode();
    node.name = name;
    node.port = await freePort();
    node.url = `http://127.0.0.1:${node.port}`;
    node.dataDir = path.join(workDir, `node-${name}`);
    node.logPath = path.join(logs, `node-${name}.log`);
    node.databaseUrl = databaseUrl;
    node.env = env;
    node.args = args;
    node.output = '';        // stderr and stdout of every run, in order
    node.runOutput = '';     // of the current run only
    node.unexpectedExits = []; // exits nobody asked for
    node.child = null;
    await fsp.mkdir(node.dataDir, { recursive: true, mode: 0o700 });
    return node;
  }

  alive() {
    return this.child !== null && this.exit === null;
  }

  /** Spawns iamd and waits for GET /healthz to answer 200; throws with the log tail when it does not. */
  async start() {
    if (this.alive()) throw new Error(`node ${this.name} is already running`);
    const args = ['--listen', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir, '--database', this.databaseUrl,
      ...this.args];
    const child = spawn(iamdBinary(), args, { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    this.child = child;
    this.exit = null;
    this.stopRequested = false;
    this.starting = true;
    this.runOutput = '';
    const log = fs.createWriteStream(this.logPath, { flags: 'a' });
    const take = (data) => { this.output += data; this.runOutput += data; log.write(data); };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    this.exitPromise = new Promise((resolve) => {
      const done = (exit) => {
        liveChildren.delete(child);
        if (this.child === child) this.exit = exit;
        if (!this.stopRequested && !this.starting) this.unexpectedExits.push(exit); // start() reports its own
        log.end();
        resolve(exit);
      };
      child.on('exit', (code, signal) => done({ code, signal }));
      child.on('error', (error) => done({ code: null, signal: null, error: String(error) }));
    });
    const deadline = now() + HEALTH_TIMEOUT_MS;
    while (now() < deadline && this.exit === null) {
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) { this.starting = false; return this; }
      } catch { /* not up yet */ }
      await sleep(50);
    }
    const exit = this.exit;
    this.stopRequested = true;
    this.starting = false;
    if (this.exit === null) { child.kill('SIGKILL'); await this.exitPromise; }
    throw new Error(`iamd node ${this.name} did not become healthy on ${this.url} (exit ${JSON.stringify(exit)}; ` +
      `log ${this.logPath})\n${this.runOutput.slice(-3000)}`);
  }

  /** SIGTERM, SIGKILL after a grace period; resolves to the exit. */
  async stop() {
    if (!this.child) return null;
    this.stopRequested = true;
    if (this.exit === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => { if (this.exit === null) this.child.kill('SIGKILL'); }, STOP_GRACE_MS);
      await this.exitPromise;
      clearTimeout(timer);
    }
    return this.exit;
  }

  /** SIGKILL: the process gets no chance to finish anything. */
  async kill() {
    if (!this.child) return null;
    this.stopRequested = true;
    if (this.exit === null) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
    return this.exit;
  }

  /** The first sanitizer report in the node's output, or null. */
  sanitizerReport() {
    const match = this.output.match(SANITIZER_PATTERN);
    if (!match) return null;
    const at = this.output.indexOf(match[0]);
    return this.output.slice(Math.max(0, at - 200), at + 3000);
  }
}

/**
 * Stops every node and throws when one crashed, exited by itself, exited
 * non-zero on SIGTERM, or printed a sanitizer report.
 */
export async function stopAndCheckNodes(nodes) {
  const exits = await Promise.all(nodes.map(async (node) => ({ node, wasAlive: node.alive(), exit: await node.stop() })));
  const problems = [];
  for (const { node, wasAlive, exit } of exits) {
    const report = node.sanitizerReport();
    if (report) problems.push(`node ${node.name}: sanitizer report (log ${node.logPath}):\n${report}`);
    for (const unexpected of node.unexpectedExits) {
      problems.push(`node ${node.name} exited by itself: ${JSON.stringify(unexpected)} (log ${node.logPath})\n` +
        node.output.slice(-2000));
    }
    if (wasAlive && exit && exit.code !== 0) {
      problems.push(`node ${node.name} exited ${JSON.stringify(exit)} on SIGTERM (log ${node.logPath})\n${node.runOutput.slice(-2000)}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n\n'));
}
