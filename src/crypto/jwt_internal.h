/*
 * jwt_internal.h: what signing_key.c, jwk.c and jwt.c share and nobody else
 * should see: the layout of struct iam_signing_key and its pools of prepared
 * OpenSSL contexts. Not part of the crypto layer's public interface.
 */
#ifndef IAM_CRYPTO_JWT_INTERNAL_H
#define IAM_CRYPTO_JWT_INTERNAL_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "crypto/jwt.h"

/* RSA modulus sizes we accept (bits); the largest also bounds every signature buffer. */
#define IAM_JWT_RSA_MIN_BITS 2048
#define IAM_JWT_RSA_MAX_BITS 8192
#define IAM_JWT_SIGNATURE_MAX (IAM_JWT_RSA_MAX_BITS / 8)
#define IAM_JWT_ES256_SIGNATURE_SIZE 64 /* r || s, 32 bytes each */
#define IAM_JWT_EDDSA_SIGNATURE_SIZE 64

/*
 * Idle EVP_PKEY_CTXs on which EVP_PKEY_sign_init/verify_init (padding, digest)
 * already ran. Building one costs a provider fetch and a few allocations, a
 * measurable share of an RS256 signature, so threads borrow and return them.
 * Owned by its key, so contexts never outlive (or get confused with) the key.
 */
struct iam_pkey_ctx_pool;

struct iam_signing_key {
    enum iam_jwt_alg alg;
    bool can_sign;                 /* holds the private half */
    EVP_PKEY *pkey;
    size_t signature_size;         /* bytes of a JWS signature for this key */
    char kid[IAM_JWT_KID_MAX + 1];
    char *header_b64;              /* base64url of {"alg","kid","typ":"JWT"}, made once */
    size_t header_b64_length;
    struct iam_pkey_ctx_pool *sign_pool;   /* NULL for EdDSA, which has no pre-hashed mode */
    struct iam_pkey_ctx_pool *verify_pool; /* NULL for EdDSA */
};

/* True when `kid` is 1..IAM_JWT_KID_MAX characters of [A-Za-z0-9._-]. */
bool iam_jwt_kid_valid(const char *kid);

/*
 * Wraps `pkey` (ownership passes in, also on failure) as a key of `alg` named `kid`,
 * after checking its type, curve and size fit `alg`. IAM_EINVAL when they do not.
 */
enum iam_result iam_signing_key_wrap(enum iam_jwt_alg alg, const char *kid, EVP_PKEY *pkey, bool can_sign,
                                     struct iam_signing_key **out) IAM_MUST_CHECK;

/*
 * Borrows a prepared context for signing or verifying a SHA-256 digest (RS256
 * and ES256 only). NULL on failure. Give it back with iam_signing_key_ctx_release.
 */
EVP_PKEY_CTX *iam_signing_key_ctx_acquire(const struct iam_signing_key *key, bool for_signing);

/* Returns a borrowed context; `reusable` false (after an OpenSSL error) frees it instead. */
void iam_signing_key_ctx_release(const struct iam_signing_key *key, bool for_signing, EVP_PKEY_CTX *ctx,
                                 bool reusable);

#endif
