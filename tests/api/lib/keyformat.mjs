// iamd's API key format as a client sees it (src/crypto/keyformat.h), to build
// wrong values that name a real key id and well-formed values of keys that
// exist nowhere: what the failed-authentication limits count per key id.

import crypto from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text) {
  let c = 0xffffffff;
  for (const byte of Buffer.from(text)) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function base62(number, width) {
  let n = BigInt(number);
  let out = '';
  for (let i = 0; i < width; i++) { out = BASE62[Number(n % 62n)] + out; n /= 62n; }
  return out;
}

/** `value` with its checksum recomputed (the last 6 digits). */
export const withChecksum = (body) => body + base62(crc32(body), 6);

/** 43 base62 digits of a random number below 2^256 (a leading '0' keeps it in range). */
function randomSecret() {
  let secret = '0';
  for (const byte of crypto.randomBytes(42)) secret += BASE62[byte % 62];
  return secret;
}

/** A wrong value naming the same key id as `value`: another secret, a valid checksum. */
export function wrongValueOf(value) {
  const idEnd = value.indexOf('_') + 1 + 22;
  return withChecksum(value.slice(0, idEnd) + randomSecret());
}

/** A well-formed value (valid checksum) of a random key id that exists nowhere. */
export function unknownValue() {
  const id = base62(BigInt(`0x${crypto.randomBytes(16).toString('hex')}`), 22);
  return withChecksum(`iamd_${id}${randomSecret()}`);
}
