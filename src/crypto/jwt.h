/*
 * jwt.h: signing keys, compact JWS (JWT) signing and verification, JWKS export.
 *
 * Algorithms: RS256 (RSA-2048, the default IBM clients expect), ES256 (P-256,
 * signatures as fixed 64-byte r||s) and EdDSA (Ed25519).
 *
 * Verification takes the algorithm from OUR key record, found by the token's
 * `kid`, never from the token header: a header `alg` that differs from the
 * key's algorithm fails, as do `none`, HS*, unknown `kid`, `jku`/`x5u`/`jwk`
 * headers, any `crit`, padded or non-canonical base64url, a token longer than
 * the cap, a bad signature, an `exp` in the past, an `nbf`/`iat` in the future
 * (beyond the leeway) and an `iss` other than the expected one.
 *
 * A struct iam_signing_key is immutable after creation and safe to use from
 * many threads at once.
 */
#ifndef IAM_CRYPTO_JWT_H
#define IAM_CRYPTO_JWT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum iam_jwt_alg { IAM_JWT_RS256, IAM_JWT_ES256, IAM_JWT_EDDSA };

#define IAM_JWT_KID_MAX 64
#define IAM_JWT_DEFAULT_MAX_LENGTH 8192

/* "RS256", "ES256" or "EdDSA". */
const char *iam_jwt_alg_name(enum iam_jwt_alg alg);

/* Parses an algorithm name (exact, case-sensitive). */
enum iam_result iam_jwt_alg_parse(const char *name, enum iam_jwt_alg *alg) IAM_MUST_CHECK;

struct iam_signing_key;

/* A new key pair of `alg` named `kid` (1..64 chars of [A-Za-z0-9._-]). Free with iam_signing_key_free. */
enum iam_result iam_signing_key_generate(enum iam_jwt_alg alg, const char *kid,
                                         struct iam_signing_key **out) IAM_MUST_CHECK;

/* Loads a private key from PKCS#8 PEM; fails if its type does not match `alg`. */
enum iam_result iam_signing_key_from_pem(enum iam_jwt_alg alg, const char *kid, const char *pem,
                                         size_t pem_length, struct iam_signing_key **out) IAM_MUST_CHECK;

/* Loads a public-only (verify-only) key from a JWK object (as iam_signing_key_public_jwk makes). */
enum iam_result iam_signing_key_from_public_jwk(const json_t *jwk, struct iam_signing_key **out) IAM_MUST_CHECK;

/*
 * The private key as unencrypted PKCS#8 PEM in a malloc'd buffer; the caller
 * wipes (iam_wipe) and frees it. IAM_EINVAL for a public-only key.
 */
enum iam_result iam_signing_key_private_pem(const struct iam_signing_key *key, char **pem,
                                            size_t *pem_length) IAM_MUST_CHECK;

/* The public JWK: {kty, n, e | crv, x[, y], alg, kid, use:"sig"}. New reference, NULL on ENOMEM. */
json_t *iam_signing_key_public_jwk(const struct iam_signing_key *key);

const char *iam_signing_key_kid(const struct iam_signing_key *key);
enum iam_jwt_alg iam_signing_key_alg(const struct iam_signing_key *key);
bool iam_signing_key_can_sign(const struct iam_signing_key *key);

/* Frees a key. NULL is allowed. */
void iam_signing_key_free(struct iam_signing_key *key);

/*
 * Signs `claims` (a JSON object, not modified) with header {"alg","kid","typ":"JWT"}.
 * `*token` is malloc'd; the caller frees it.
 */
enum iam_result iam_jwt_sign(const struct iam_signing_key *key, const json_t *claims, char **token) IAM_MUST_CHECK;

struct iam_jwt_verify_options {
    const char *issuer;  /* required `iss` value; NULL skips the check (tests only) */
    int64_t now;         /* seconds since the epoch */
    int64_t leeway;      /* seconds of clock skew allowed on exp/nbf/iat */
    size_t max_length;   /* 0 means IAM_JWT_DEFAULT_MAX_LENGTH */
    bool require_exp;    /* a token without `exp` fails */
};

/*
 * Verifies `token` against `keys` (`key_count` keys, looked up by kid).
 * On success `*claims` is a new reference to the payload object.
 * Any failure is IAM_EUNAUTH; `*reason` (optional) gets a static string naming
 * why ("bad signature", "expired", "unknown kid"...) for logs, never the token.
 */
enum iam_result iam_jwt_verify(const struct iam_signing_key *const *keys, size_t key_count, const char *token,
                               const struct iam_jwt_verify_options *options, json_t **claims,
                               const char **reason) IAM_MUST_CHECK;

#endif
