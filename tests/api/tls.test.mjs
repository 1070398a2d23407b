// HTTPS served by iamd itself (--tls-cert/--tls-key): tokens over TLS, the
// https issuer and Secure console cookie, TLS 1.2+ with AEAD ciphers only,
// plain HTTP refused on the TLS port, certificate reload on SIGHUP (new
// handshakes get the new certificate, open connections stay up), a bad
// replacement keeps the old certificate, and start-up refusals.
// Certificates are throwaway self-signed ones made with the openssl CLI.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { APIKEY_GRANT, decodeJwt } from './lib/http.mjs';
import { freePort, iamdBinary, startServer, stopAndCheck } from './lib/server.mjs';

const execFileAsync = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let dir;
let server;
const certs = {}; // name -> { cert, key, fingerprint }

/** A self-signed certificate for 127.0.0.1 (RSA or EC P-256), its key and its SHA-256 fingerprint. */
async function makeCert(name, { ec = false } = {}) {
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  const keyArgs = ec ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  await execFileAsync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '2', '-subj', `/CN=iamd-test-${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { timeout: 30_000 });
  const cert = await fsp.readFile(certPath, 'utf8');
  const key = await fsp.readFile(keyPath, 'utf8');
  certs[name] = { cert, key, fingerprint: new crypto.X509Certificate(cert).fingerprint256 };
  return certs[name];
}

const certFile = () => path.join(dir, 'served.crt');
const keyFile = () => path.join(dir, 'served.key');

/** Puts a certificate and key in the files iamd serves (the key file mode 0600 unless told). */
async function install({ cert, key }, keyMode = 0o600) {
  await fsp.writeFile(certFile(), cert);
  await fsp.writeFile(keyFile(), key, { mode: keyMode });
  await fsp.chmod(keyFile(), keyMode);
}

const trusted = () => Object.values(certs).map((c) => c.cert);

/** One HTTPS request trusting every test certificate; resolves {status, body, text, fingerprint, protocol, reused}. */
function httpsRequest({ method = 'GET', urlPath, headers = {}, body, agent }) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: server.port, method, path: urlPath, headers, agent: agent ?? false, ca: trusted(),
    }, (res) => {
      // Read from the socket now: a keep-alive agent takes it back before 'end'.
      const fingerprint = res.socket.getPeerCertificate?.()?.fingerprint256;
      const protocol = res.socket.getProtocol?.();
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({
          status: res.statusCode, headers: res.headers, text, body: json, fingerprint, protocol,
          reused: req.reusedSocket,
        });
      });
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A bare TLS handshake with `options`; resolves {ok, protocol, cipher, fingerprint} or {ok:false, error}. */
function handshake(port, options) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: trusted(), servername: undefined, ...options });
    const timer = setTimeout(() => { socket.destroy(); resolve({ ok: false, error: 'timeout' }); }, 10_000);
    socket.on('secureConnect', () => {
      clearTimeout(timer);
      const result = {
        ok: socket.authorized, protocol: socket.getProtocol(), cipher: socket.getCipher()?.name,
        fingerprint: socket.getPeerCertificate()?.fingerprint256, error: socket.authorizationError,
      };
      socket.end();
      resolve(result);
    });
    socket.on('error', (err) => { clearTimeout(timer); resolve({ ok: false, error: err.code ?? err.message }); });
  });
}

/** The fingerprint new connections see, polled until it equals `expected` or `ms` pass. */
async function waitForFingerprint(expected, ms = 5000) {
  const deadline = Date.now() + ms;
  let seen;
  while (Date.now() < deadline) {
    seen = (await handshake(server.port, {})).fingerprint;
    if (seen === expected) return seen;
    await sleep(100);
  }
  return seen;
}

/** Waits until iamd's stderr has grown a line matching `pattern` after `offset`. */
async function waitForLog(pattern, offset, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pattern.test(server.stderr().slice(offset))) return true;
    await sleep(50);
  }
  return false;
}

const tokenForm = () => `grant_type=${encodeURIComponent(APIKEY_GRANT)}&apikey=${server.apikey}`;

before(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'iamd-tls-'));
  await makeCert('first');
  await Promise.all([makeCert('second', { ec: true }), makeCert('third', { ec: true }), makeCert('spare', { ec: true })]);
  await install(certs.first);
  server = await startServer({
    args: ['--tls-cert', certFile(), '--tls-key', keyFile()],
    https: { ca: trusted() },
  });
});

after(async () => {
  await stopAndCheck(server);
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

describe('HTTPS', () => {
  test('a token request over HTTPS works; the issuer is https://', async () => {
    const form = tokenForm();
    const res = await httpsRequest({
      method: 'POST', urlPath: '/identity/token', body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(form) },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.fingerprint, certs.first.fingerprint);
    const claims = decodeJwt(res.body.access_token).payload;
    assert.equal(claims.iss, `https://127.0.0.1:${server.port}/identity`);
    const discovery = await httpsRequest({ urlPath: '/identity/.well-known/openid-configuration' });
    assert.equal(discovery.status, 200);
    assert.equal(discovery.body.issuer, claims.iss);
  });

  test('TLS 1.3 and TLS 1.2 (AEAD) handshakes succeed', async () => {
    const v13 = await handshake(server.port, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    assert.equal(v13.ok, true, JSON.stringify(v13));
    assert.equal(v13.protocol, 'TLSv1.3');
    const v12 = await handshake(server.port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.equal(v12.ok, true, JSON.stringify(v12));
    assert.equal(v12.protocol, 'TLSv1.2');
    assert.match(v12.cipher, /^ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
  });

  test('TLS 1.1 and CBC/SHA-1 or RSA-key-transport suites are refused (the client can speak them: control server)', async () => {
    const weak = [
      { name: 'TLS 1.1', options: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } },
      { name: 'TLS 1.0', options: { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' } },
      { name: 'ECDHE CBC-SHA1', options: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA' } },
      { name: 'RSA key transport', options: { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' } },
    ];
    // A node TLS server that accepts all of them proves the client really offers them.
    const control = tls.createServer({
      cert: certs.first.cert, key: certs.first.key, minVersion: 'TLSv1', ciphers: 'ALL@SECLEVEL=0',
    }, (socket) => socket.end());
    await new Promise((r) => control.listen(0, '127.0.0.1', r));
    try {
      for (const { name, options } of weak) {
        const accepted = await handshake(control.address().port, options);
        assert.equal(accepted.error ?? null, null, `${name}: the control server accepts it (${JSON.stringify(accepted)})`);
        const refused = await handshake(server.port, options);
        assert.equal(refused.ok, false, `${name} must be refused: ${JSON.stringify(refused)}`);
        assert.equal(refused.protocol, undefined, `${name}: no session`);
      }
    } finally {
      control.close();
    }
  });

  test('plain HTTP on the HTTPS port gets no HTTP answer', async () => {
    const outcome = await new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', (err) => resolve(`error ${err.code ?? err.message}`));
    });
    assert.match(outcome, /^error /, outcome);
    assert.notEqual(outcome, 'error timeout', 'closed promptly, not left hanging');
  });

  test('the console cookie is Secure over HTTPS', async () => {
    const json = JSON.stringify({ apikey: server.apikey });
    const res = await httpsRequest({
      method: 'POST', urlPath: '/console/api/session', body: json,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) },
    });
    assert.equal(res.status, 200, res.text);
    const cookie = [].concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('iamd_session='));
    assert.ok(cookie, 'a session cookie');
    assert.match(cookie, /;\s*Secure/i);
    assert.match(cookie, /;\s*HttpOnly/i);
  });
});

describe('certificate reload on SIGHUP', () => {
  test('new handshakes get the new certificate; an open keep-alive connection keeps working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: trusted() });
    try {
      const before = await httpsRequest({ urlPath: '/healthz', agent });
      assert.equal(before.status, 200);
      assert.equal(before.fingerprint, certs.first.fingerprint);
      await install(certs.second);
      process.kill(server.pid, 'SIGHUP');
      assert.equal(await waitForFingerprint(certs.second.fingerprint), certs.second.fingerprint,
        'new connections see the new certificate');
      const still = await httpsRequest({ urlPath: '/healthz', agent });
      assert.equal(still.status, 200);
      assert.equal(still.reused, true, 'the connection opened before the reload is still served');
      assert.equal(still.fingerprint, certs.first.fingerprint, 'that connection kept its handshake');
      const form = tokenForm();
      const token = await httpsRequest({
        method: 'POST', urlPath: '/identity/token', body: form,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(form) },
      });
      assert.equal(token.status, 200, token.text);
      assert.equal(token.fingerprint, certs.second.fingerprint);
    } finally {
      agent.destroy();
    }
  });

  test('a bad replacement keeps the served certificate and logs an error', async () => {
    await install(certs.third);
    process.kill(server.pid, 'SIGHUP');
    assert.equal(await waitForFingerprint(certs.third.fingerprint), certs.third.fingerprint);

    const cases = [
      ['garbage certificate', async () => { await fsp.writeFile(certFile(), 'not a certificate\n'); }],
      ['key of another certificate', async () => install({ cert: certs.spare.cert, key: certs.second.key })],
      ['key readable by everyone', async () => install(certs.spare, 0o644)],
      ['missing key file', async () => { await install(certs.spare); await fsp.rm(keyFile()); }],
    ];
    for (const [name, breakIt] of cases) {
      await breakIt();
      const offset = server.stderr().length;
      process.kill(server.pid, 'SIGHUP');
      assert.ok(await waitForLog(/"event":"tls_reload_failed"/, offset), `${name}: tls_reload_failed logged`);
      const seen = await handshake(server.port, {});
      assert.equal(seen.fingerprint, certs.third.fingerprint, `${name}: the previous certificate is still served`);
      const res = await httpsRequest({ urlPath: '/healthz' });
      assert.equal(res.status, 200, `${name}: still serving`);
    }
    // Mended files are picked up by the next SIGHUP.
    await install(certs.spare);
    process.kill(server.pid, 'SIGHUP');
    assert.equal(await waitForFingerprint(certs.spare.fingerprint), certs.spare.fingerprint);
    assert.doesNotMatch(server.stderr(), /BEGIN (EC |RSA )?PRIVATE KEY/, 'no key material in the log');
  });
});

describe('start-up', () => {
  /** Runs iamd with `args` until it exits (it must refuse to start); resolves {code, stderr}. */
  async function refusedStart(args) {
    const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'iamd-tls-start-'));
    const port = await freePort();
    try {
      const child = spawn(iamdBinary(), ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...args],
        { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      const code = await new Promise((resolve) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('still running'); }, 20_000);
        child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
      });
      return { code, stderr };
    } finally {
      await fsp.rm(dataDir, { recursive: true, force: true });
    }
  }

  test('a key file others can read, a certificate without its key, or a mismatched pair: iamd does not start', async () => {
    const loose = path.join(dir, 'loose.key');
    fs.writeFileSync(loose, certs.first.key, { mode: 0o644 });
    fs.chmodSync(loose, 0o644);
    const firstCert = path.join(dir, 'first.crt');
    const cases = [
      [['--tls-cert', firstCert, '--tls-key', loose], /accessible to other users/],
      [['--tls-cert', firstCert], /--tls-cert and --tls-key go together/],
      [['--tls-cert', firstCert, '--tls-key', path.join(dir, 'second.key')], /does not belong/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await refusedStart(args);
      assert.notEqual(code, 0, `${args.join(' ')}: exit code ${code}`);
      assert.notEqual(code, 'still running', `${args.join(' ')}: iamd started`);
      assert.match(stderr, message, `${args.join(' ')}: ${stderr.slice(-500)}`);
    }
  });
});
