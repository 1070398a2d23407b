// Hand-built JWTs for the token-verification attack tests.

import crypto from 'node:crypto';
import { b64url, b64urlJson, decodeJwt } from './http.mjs';

let foreignKeyPair;
/** An RSA-2048 key pair the server has never seen (made once per process). */
export function foreignKeys() {
  if (!foreignKeyPair) foreignKeyPair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return foreignKeyPair;
}

/** RS256-signs header+payload with `privateKey` (default: the foreign key). */
export function signRs256(header, payload, privateKey = foreignKeys().privateKey) {
  const input = `${b64urlJson(header)}.${b64urlJson(payload)}`;
  const sig = crypto.sign('sha256', Buffer.from(input), privateKey);
  return `${input}.${b64url(sig)}`;
}

/** HS256-signs header+payload with `secret` (string or Buffer). */
export function signHs256(header, payload, secret) {
  const input = `${b64urlJson(header)}.${b64urlJson(payload)}`;
  const sig = crypto.createHmac('sha256', secret).update(input).digest();
  return `${input}.${b64url(sig)}`;
}

/** The genuine token with alg "none" and an empty signature (and variants). */
export function algNoneVariants(token) {
  const { header, payload, signature } = decodeJwt(token);
  const out = [];
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const h = b64urlJson({ ...header, alg });
    const p = b64urlJson(payload);
    out.push({ name: `alg=${alg}, empty signature`, token: `${h}.${p}.` });
    out.push({ name: `alg=${alg}, original signature`, token: `${h}.${p}.${signature}` });
  }
  return out;
}

/**
 * HS256 tokens keyed with the server's public key material as published in the
 * JWKS: the classic RS256 -> HS256 confusion attack, with every encoding a
 * confused verifier might use as the HMAC secret.
 */
export function hs256ConfusionVariants(token, jwk) {
  const { header, payload } = decodeJwt(token);
  const pub = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
  const secrets = {
    'spki PEM': pub.export({ type: 'spki', format: 'pem' }),
    'spki PEM without trailing newline': pub.export({ type: 'spki', format: 'pem' }).trimEnd(),
    'pkcs1 PEM': pub.export({ type: 'pkcs1', format: 'pem' }),
    'spki DER': pub.export({ type: 'spki', format: 'der' }),
    'pkcs1 DER': pub.export({ type: 'pkcs1', format: 'der' }),
    'modulus bytes': Buffer.from(jwk.n, 'base64url'),
    'modulus base64url text': jwk.n,
    'JWK JSON': JSON.stringify(jwk),
  };
  return Object.entries(secrets).map(([name, secret]) => ({
    name: `HS256 keyed with ${name}`,
    token: signHs256({ ...header, alg: 'HS256' }, payload, secret),
  }));
}

/** The genuine token with its payload edited (signature kept). */
export function tamper(token, mutate) {
  const { parts, payload } = decodeJwt(token);
  const clone = structuredClone(payload);
  const edited = mutate(clone) ?? clone;
  return `${parts[0]}.${b64urlJson(edited)}.${parts[2]}`;
}

/** The genuine token with its header edited (signature kept). */
export function tamperHeader(token, mutate) {
  const { parts, header } = decodeJwt(token);
  const clone = structuredClone(header);
  const edited = mutate(clone) ?? clone;
  return `${b64urlJson(edited)}.${parts[1]}.${parts[2]}`;
}
