/*
 * jwt.c: owns compact JWS (JWT) signing and verification for RS256, ES256
 * and EdDSA.
 *
 * RS256 and ES256 hash the signing input with SHA-256 and sign the digest on
 * a prepared EVP_PKEY_CTX borrowed from the key's pool, which saves the
 * per-token provider fetch and context setup (the RS256 private-key operation
 * itself is what bounds the token endpoint). EdDSA has no pre-hashed mode in
 * OpenSSL 3.0, so it uses a one-shot EVP_DigestSign per token.
 *
 * ES256 signatures are DER on the OpenSSL side and fixed 64-byte r || s on the
 * JWS side (RFC 7518 section 3.4); both directions are converted here.
 */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/jwt_internal.h"

/* A bound on the claims we serialise for signing: far above any real token, far below trouble. */
#define CLAIMS_TEXT_MAX ((size_t)1024 * 1024)
#define P256_SCALAR_SIZE 32
#define ECDSA_DER_MAX 80 /* SEQUENCE of two 33-byte INTEGERs is 72 bytes */

/* The order n of the P-256 group; r and s of a valid signature lie in [1, n-1]. */
static const uint8_t p256_order[P256_SCALAR_SIZE] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
};

/* ---- ES256 signature form ---- */

static bool ecdsa_der_to_jws(const uint8_t *der, size_t der_length, uint8_t jws[IAM_JWT_ES256_SIGNATURE_SIZE])
{
    const unsigned char *cursor = der;
    const BIGNUM *r = NULL;
    const BIGNUM *s = NULL;
    ECDSA_SIG *signature = d2i_ECDSA_SIG(NULL, &cursor, (long)der_length);
    if (!signature)
        return false;
    ECDSA_SIG_get0(signature, &r, &s);
    bool ok = BN_bn2binpad(r, jws, P256_SCALAR_SIZE) == P256_SCALAR_SIZE &&
              BN_bn2binpad(s, jws + P256_SCALAR_SIZE, P256_SCALAR_SIZE) == P256_SCALAR_SIZE;
    ECDSA_SIG_free(signature);
    return ok;
}

static bool p256_scalar_in_range(const uint8_t scalar[P256_SCALAR_SIZE])
{
    uint8_t any = 0;
    for (size_t i = 0; i < P256_SCALAR_SIZE; i++)
        any |= scalar[i];
    /* Big-endian bytes compare like the numbers they hold. */
    return any != 0 && memcmp(scalar, p256_order, P256_SCALAR_SIZE) < 0;
}

/* The DER form of a JWS r || s, refusing r or s outside [1, n-1]. Returns the DER length, 0 on failure. */
static size_t ecdsa_jws_to_der(const uint8_t jws[IAM_JWT_ES256_SIGNATURE_SIZE], uint8_t der[ECDSA_DER_MAX])
{
    size_t der_length = 0;
    if (!p256_scalar_in_range(jws) || !p256_scalar_in_range(jws + P256_SCALAR_SIZE))
        return 0;
    ECDSA_SIG *signature = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(jws, P256_SCALAR_SIZE, NULL);
    BIGNUM *s = BN_bin2bn(jws + P256_SCALAR_SIZE, P256_SCALAR_SIZE, NULL);
    if (!signature || !r || !s || ECDSA_SIG_set0(signature, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        goto cleanup;
    }
    /* set0 took r and s */
    int length = i2d_ECDSA_SIG(signature, NULL);
    if (length <= 0 || length > ECDSA_DER_MAX)
        goto cleanup;
    unsigned char *cursor = der;
    if (i2d_ECDSA_SIG(signature, &cursor) != length)
        goto cleanup;
    der_length = (size_t)length;

cleanup:
    ECDSA_SIG_free(signature);
    return der_length;
}

/* ---- signing ---- */

/* Signs `input` into `signature` (key->signature_size bytes). */
static enum iam_result signature_create(const struct iam_signing_key *key, const char *input, size_t input_length,
                                        uint8_t *signature)
{
    enum iam_result result = IAM_ECRYPTO;

    if (key->alg == IAM_JWT_EDDSA) {
        size_t length = key->signature_size;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx)
            return IAM_ENOMEM;
        if (EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, key->pkey, NULL) == 1 &&
            EVP_DigestSign(ctx, signature, &length, (const unsigned char *)input, input_length) == 1 &&
            length == key->signature_size)
            result = IAM_OK;
        EVP_MD_CTX_free(ctx);
        return result;
    }

    uint8_t digest[IAM_HASH_SIZE];
    uint8_t raw[IAM_JWT_SIGNATURE_MAX];
    size_t raw_length = sizeof raw;
    result = iam_sha256(input, input_length, digest);
    if (result != IAM_OK)
        return result;
    EVP_PKEY_CTX *ctx = iam_signing_key_ctx_acquire(key, true);
    if (!ctx)
        return IAM_ECRYPTO;
    bool signed_ok = EVP_PKEY_sign(ctx, raw, &raw_length, digest, sizeof digest) == 1;
    iam_signing_key_ctx_release(key, true, ctx, signed_ok);
    if (!signed_ok)
        return IAM_ECRYPTO;
    if (key->alg == IAM_JWT_ES256)
        return ecdsa_der_to_jws(raw, raw_length, signature) ? IAM_OK : IAM_ECRYPTO;
    if (raw_length != key->signature_size)
        return IAM_ECRYPTO;
    memcpy(signature, raw, raw_length);
    return IAM_OK;
}

static int dump_to_buf(const char *text, size_t length, void *data)
{
    return iam_buf_append(data, text, length) == IAM_OK ? 0 : -1;
}

enum iam_result iam_jwt_sign(const struct iam_signing_key *key, const json_t *claims, char **token)
{
    enum iam_result result = IAM_EINVAL;
    struct iam_buf payload;
    uint8_t signature[IAM_JWT_SIGNATURE_MAX];
    char *text = NULL;

    iam_buf_init(&payload, CLAIMS_TEXT_MAX);
    *token = NULL;
    if (!key || !key->can_sign || !json_is_object(claims))
        goto cleanup;
    result = IAM_ENOMEM;
    if (json_dump_callback(claims, dump_to_buf, &payload, JSON_COMPACT) != 0)
        goto cleanup; /* out of memory or over the cap */

    size_t payload_size = iam_base64url_encoded_size(payload.length);
    size_t signature_size = iam_base64url_encoded_size(key->signature_size);
    size_t total = key->header_b64_length + 1 + payload_size + signature_size; /* each size has its NUL */
    text = malloc(total);
    if (!text)
        goto cleanup;
    char *cursor = text;
    memcpy(cursor, key->header_b64, key->header_b64_length);
    cursor += key->header_b64_length;
    *cursor++ = '.';
    result = iam_base64url_encode(payload.data, payload.length, cursor, total - (size_t)(cursor - text));
    if (result != IAM_OK)
        goto cleanup;
    cursor += strlen(cursor);
    size_t input_length = (size_t)(cursor - text);
    result = signature_create(key, text, input_length, signature);
    if (result != IAM_OK)
        goto cleanup;
    *cursor++ = '.';
    result = iam_base64url_encode(signature, key->signature_size, cursor, total - (size_t)(cursor - text));
    if (result != IAM_OK)
        goto cleanup;
    *token = text;
    text = NULL;

cleanup:
    free(text);
    iam_buf_free(&payload);
    if (result != IAM_OK)
        ERR_clear_error();
    return result;
}

/* ---- verification ---- */

/* True when `signature` over `input` is valid for `key`. */
static bool signature_valid(const struct iam_signing_key *key, const char *input, size_t input_length,
                            const uint8_t *signature, size_t signature_length)
{
    if (signature_length != key->signature_size)
        return false;

    if (key->alg == IAM_JWT_EDDSA) {
        bool ok = false;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (ctx && EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, key->pkey, NULL) == 1)
            ok = EVP_DigestVerify(ctx, signature, signature_length, (const unsigned char *)input,
                                  input_length) == 1;
        EVP_MD_CTX_free(ctx);
        return ok;
    }

    uint8_t digest[IAM_HASH_SIZE];
    uint8_t der[ECDSA_DER_MAX];
    if (key->alg == IAM_JWT_ES256) {
        signature_length = ecdsa_jws_to_der(signature, der);
        if (signature_length == 0)
            return false;
        signature = der;
    }
    if (iam_sha256(input, input_length, digest) != IAM_OK)
        return false;
    EVP_PKEY_CTX *ctx = iam_signing_key_ctx_acquire(key, false);
    if (!ctx)
        return false;
    /* 1 valid, 0 invalid (the context stays usable), below 0 an error (discard it). */
    int verdict = EVP_PKEY_verify(ctx, signature, signature_length, digest, sizeof digest);
    iam_signing_key_ctx_release(key, false, ctx, verdict >= 0);
    return verdict == 1;
}

/* A NumericDate claim: absent (false, *present false), a JSON number (true), anything else (false). */
static bool numeric_claim(const json_t *payload, const char *name, bool *present, double *real, int64_t *integer,
                          bool *is_integer)
{
    const json_t *value = json_object_get(payload, name);
    *present = value != NULL;
    if (!value)
        return false;
    *is_integer = json_is_integer(value);
    if (*is_integer)
        *integer = (int64_t)json_integer_value(value);
    else if (json_is_real(value))
        *real = json_real_value(value);
    else
        return false;
    return true;
}

static int64_t saturating_add(int64_t a, int64_t b)
{
    int64_t sum;
    if (__builtin_add_overflow(a, b, &sum))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return sum;
}

/* exp valid when now < exp + leeway, i.e. exp > now - leeway. NULL when fine, else the reason. */
static const char *check_times(const json_t *payload, const struct iam_jwt_verify_options *options)
{
    int64_t earliest = saturating_add(options->now, -options->leeway); /* exp must be after this */
    int64_t latest = saturating_add(options->now, options->leeway);    /* nbf, iat must not be after this */
    bool present = false;
    bool is_integer = false;
    double real = 0;
    int64_t integer = 0;

    if (numeric_claim(payload, "exp", &present, &real, &integer, &is_integer)) {
        if (is_integer ? integer <= earliest : !(real > (double)earliest))
            return "expired";
    } else if (present) {
        return "exp not a number";
    } else if (options->require_exp) {
        return "missing exp";
    }
    if (numeric_claim(payload, "nbf", &present, &real, &integer, &is_integer)) {
        if (is_integer ? integer > latest : !(real <= (double)latest))
            return "not yet valid";
    } else if (present) {
        return "nbf not a number";
    }
    if (numeric_claim(payload, "iat", &present, &real, &integer, &is_integer)) {
        if (is_integer ? integer > latest : !(real <= (double)latest))
            return "issued in the future";
    } else if (present) {
        return "iat not a number";
    }
    return NULL;
}

static const struct iam_signing_key *key_find(const struct iam_signing_key *const *keys, size_t key_count,
                                              const char *kid)
{
    for (size_t i = 0; i < key_count; i++)
        if (keys[i] && strcmp(keys[i]->kid, kid) == 0)
            return keys[i];
    return NULL;
}

/* Header parameters that would let the token choose its own key or demand semantics we do not implement. */
static const char *const forbidden_headers[] = {"crit", "jku", "x5u", "jwk", "x5c"};

enum iam_result iam_jwt_verify(const struct iam_signing_key *const *keys, size_t key_count, const char *token,
                               const struct iam_jwt_verify_options *options, json_t **claims, const char **reason)
{
    enum iam_result result = IAM_EUNAUTH;
    const char *why = "malformed token";
    uint8_t *decoded = NULL;
    json_t *header = NULL;
    json_t *payload = NULL;
    uint8_t signature[IAM_JWT_SIGNATURE_MAX];
    size_t decoded_length = 0;

    if (claims)
        *claims = NULL;
    if (!options || !claims || (!keys && key_count) || options->leeway < 0) {
        result = IAM_EINVAL;
        why = "bad arguments";
        goto cleanup;
    }
    if (!token) {
        why = "missing token";
        goto cleanup;
    }
    size_t max_length = options->max_length ? options->max_length : IAM_JWT_DEFAULT_MAX_LENGTH;
    size_t length = strnlen(token, max_length < SIZE_MAX ? max_length + 1 : max_length);
    if (length > max_length) {
        why = "token too long";
        goto cleanup;
    }

    /* Exactly three non-empty segments. */
    const char *header_text = token;
    const char *first_dot = memchr(token, '.', length);
    const char *second_dot = first_dot ? memchr(first_dot + 1, '.', length - (size_t)(first_dot + 1 - token)) : NULL;
    const char *end = token + length;
    if (!second_dot || memchr(second_dot + 1, '.', (size_t)(end - second_dot - 1))) {
        why = "not three segments";
        goto cleanup;
    }
    const char *payload_text = first_dot + 1;
    const char *signature_text = second_dot + 1;
    size_t header_length = (size_t)(first_dot - header_text);
    size_t payload_length = (size_t)(second_dot - payload_text);
    size_t signature_text_length = (size_t)(end - signature_text);
    if (header_length == 0 || payload_length == 0 || signature_text_length == 0) {
        why = "empty segment";
        goto cleanup;
    }

    /* Decoded text is never longer than its base64url; one buffer serves header, then payload. */
    decoded = malloc(length);
    if (!decoded) {
        why = "out of memory";
        goto cleanup;
    }
    if (iam_base64url_decode(header_text, header_length, decoded, length, &decoded_length) != IAM_OK) {
        why = "malformed header";
        goto cleanup;
    }
    header = json_loadb((const char *)decoded, decoded_length, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(header)) {
        why = "malformed header";
        goto cleanup;
    }
    for (size_t i = 0; i < sizeof forbidden_headers / sizeof forbidden_headers[0]; i++) {
        if (json_object_get(header, forbidden_headers[i])) {
            why = "forbidden header parameter";
            goto cleanup;
        }
    }
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    if (!alg || !kid) {
        why = "missing alg or kid";
        goto cleanup;
    }
    const struct iam_signing_key *key = key_find(keys, key_count, kid);
    if (!key) {
        why = "unknown kid";
        goto cleanup;
    }
    /* The algorithm is the key's; the header may only agree with it. */
    if (strcmp(alg, iam_jwt_alg_name(key->alg)) != 0) {
        why = "algorithm mismatch";
        goto cleanup;
    }

    size_t signature_length = 0;
    if (iam_base64url_decode(signature_text, signature_text_length, signature, sizeof signature,
                             &signature_length) != IAM_OK) {
        why = "malformed signature";
        goto cleanup;
    }
    if (!signature_valid(key, token, header_length + 1 + payload_length, signature, signature_length)) {
        why = "bad signature";
        goto cleanup;
    }

    /* Only now, with the signature good, is the payload parsed. */
    if (iam_base64url_decode(payload_text, payload_length, decoded, length, &decoded_length) != IAM_OK) {
        why = "malformed payload";
        goto cleanup;
    }
    payload = json_loadb((const char *)decoded, decoded_length, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(payload)) {
        why = "payload not an object";
        goto cleanup;
    }
    why = check_times(payload, options);
    if (why)
        goto cleanup;
    if (options->issuer) {
        const char *issuer = json_string_value(json_object_get(payload, "iss"));
        if (!issuer || strcmp(issuer, options->issuer) != 0) {
            why = "wrong issuer";
            goto cleanup;
        }
    }
    *claims = payload;
    payload = NULL;
    why = NULL;
    result = IAM_OK;

cleanup:
    json_decref(payload);
    json_decref(header);
    free(decoded);
    if (result != IAM_OK)
        ERR_clear_error(); /* failures driven by attacker input must not pile up on the thread's queue */
    if (reason)
        *reason = why;
    return result;
}
