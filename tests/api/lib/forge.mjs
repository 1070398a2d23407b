// Forged credentials for the security suite (tests/api/security.test.mjs).
//
// serverSigningKeys() plays an insider holding the server's key-encryption key:
// it reads the sealed signing keys from the server's database (sqlite3 CLI, or
// psql on the PostgreSQL run) and unseals them with the KEK in the data dir
// (AES-256-GCM, nonce(12) || ciphertext || tag(16), AAD "signing-key:<kid>";
// src/crypto/aead.h, src/iam/keyring.c). With the real private keys a test can
// sign tokens whose only fault is one claim (expired, not yet valid, wrong
// issuer...), so a refusal proves that claim is checked, not merely that the
// signature failed.
//
// apikeyValue() builds values in the key format (src/crypto/keyformat.h:
// <prefix>_<22 base62 key id><43 base62 secret><6 base62 CRC-32>) with a key id,
// secret and checksum of the caller's choosing.

import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

import { b64url, b64urlJson } from './http.mjs';

const execFileAsync = promisify(execFile);

function pgProgram(name) {
  return process.env.IAMD_PG_BIN ? path.join(process.env.IAMD_PG_BIN, name) : name;
}

/** kid, alg and sealed private key (hex) of every signing key in the server's database. */
async function sealedKeyRows(server) {
  if (server.databaseUrl) {
    const { stdout } = await execFileAsync(pgProgram('psql'), [
      server.databaseUrl, '-At', '-F', '|',
      '-c', "SELECT kid, alg, encode(sealed_private, 'hex'), activate_at FROM signing_keys ORDER BY activate_at",
    ], { timeout: 30_000 });
    return stdout;
  }
  const { stdout } = await execFileAsync('sqlite3', [
    '-readonly', path.join(server.dataDir, 'iamd.db'),
    'SELECT kid, alg, hex(sealed_private), activate_at FROM signing_keys ORDER BY activate_at',
  ], { timeout: 30_000 });
  return stdout;
}

/**
 * The server's signing keys, oldest activation first: [{kid, alg, activateAt, privateKey}].
 * The KEK comes from IAMD_KEK when the server was started with it, else <dataDir>/secrets/kek.
 */
export async function serverSigningKeys(server, { kekHex } = {}) {
  const hex = (kekHex ?? (await fsp.readFile(path.join(server.dataDir, 'secrets', 'kek'), 'utf8'))).trim();
  const kek = Buffer.from(hex, 'hex');
  if (kek.length !== 32) throw new Error('the KEK is not 64 hex digits');
  const keys = [];
  for (const line of (await sealedKeyRows(server)).trim().split('\n')) {
    if (!line) continue;
    const [kid, alg, sealedHex, activateAt] = line.split('|');
    const sealed = Buffer.from(sealedHex, 'hex');
    const decipher = crypto.createDecipheriv('aes-256-gcm', kek, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(`signing-key:${kid}`));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const pem = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    keys.push({ kid, alg, activateAt: Number(activateAt), privateKey: crypto.createPrivateKey(pem) });
  }
  if (keys.length === 0) throw new Error('no signing keys in the database');
  return keys;
}

/** Signs header.payload as RS256 (RSA PKCS#1 v1.5, SHA-256) with `privateKey`. */
export function signWith(privateKey, header, payload) {
  const input = `${b64urlJson(header)}.${b64urlJson(payload)}`;
  return `${input}.${b64url(crypto.sign('sha256', Buffer.from(input), privateKey))}`;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Big-endian base62 of `bytes`, left-padded with '0' to `width`. */
export function base62(bytes, width) {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  if (out.length > width) throw new Error(`${out.length} base62 digits do not fit in ${width}`);
  return out.padStart(width, '0');
}

/** The 16 key-id bytes of "ApiKey-<uuid>". */
export const keyIdBytes = (apikeyId) => Buffer.from(apikeyId.replace(/^ApiKey-/, '').replace(/-/g, ''), 'hex');

/**
 * A key value in iamd's format: key id `keyId` (an ApiKey-<uuid>; default a random
 * one), a random 256-bit secret, and a valid CRC-32 unless `badChecksum`.
 */
export function apikeyValue({ prefix = 'iamd', keyId, badChecksum = false } = {}) {
  const id = keyId ? keyIdBytes(keyId) : crypto.randomBytes(16);
  const body = `${prefix}_${base62(id, 22)}${base62(crypto.randomBytes(32), 43)}`;
  let crc = zlib.crc32(body);
  if (badChecksum) crc = (crc ^ (1 + crypto.randomInt(0xffff))) >>> 0;
  const check = Buffer.alloc(4);
  check.writeUInt32BE(crc);
  return body + base62(check, 6);
}
