/*
 * signing_key.c: owns struct iam_signing_key: generating key pairs, loading
 * and exporting PKCS#8 PEM, the accessors, and each key's pools of prepared
 * OpenSSL contexts. JWK import/export is in jwk.c, JWS in jwt.c.
 *
 * A key is immutable after creation except for its context pools, which are
 * guarded by their own mutex; the EVP_PKEY itself is shared read-only by all
 * threads, which OpenSSL 3 supports.
 */
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/jwt_internal.h"

/* Enough idle contexts for one per pool thread on large machines; extras are freed. */
#define POOL_CAPACITY 64

struct iam_pkey_ctx_pool {
    pthread_mutex_t lock;
    size_t count;
    EVP_PKEY_CTX *idle[POOL_CAPACITY];
};

const char *iam_jwt_alg_name(enum iam_jwt_alg alg)
{
    switch (alg) {
    case IAM_JWT_RS256: return "RS256";
    case IAM_JWT_ES256: return "ES256";
    case IAM_JWT_EDDSA: return "EdDSA";
    }
    return "unknown";
}

enum iam_result iam_jwt_alg_parse(const char *name, enum iam_jwt_alg *alg)
{
    static const enum iam_jwt_alg all[] = {IAM_JWT_RS256, IAM_JWT_ES256, IAM_JWT_EDDSA};
    if (!name || !alg)
        return IAM_EINVAL;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, iam_jwt_alg_name(all[i])) == 0) {
            *alg = all[i];
            return IAM_OK;
        }
    }
    return IAM_EINVAL;
}

bool iam_jwt_kid_valid(const char *kid)
{
    if (!kid)
        return false;
    size_t length = 0;
    for (; kid[length]; length++) {
        char c = kid[length];
        bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '-';
        if (!allowed || length >= IAM_JWT_KID_MAX)
            return false;
    }
    return length >= 1;
}

/* ---- context pools ---- */

static struct iam_pkey_ctx_pool *pool_new(void)
{
    struct iam_pkey_ctx_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool);
        return NULL;
    }
    return pool;
}

static void pool_free(struct iam_pkey_ctx_pool *pool)
{
    if (!pool)
        return;
    for (size_t i = 0; i < pool->count; i++)
        EVP_PKEY_CTX_free(pool->idle[i]);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

/* A context with sign_init/verify_init done and PKCS#1 v1.5 (RSA) and SHA-256 set. */
static EVP_PKEY_CTX *prepared_ctx_new(const struct iam_signing_key *key, bool for_signing)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    if (!ctx)
        return NULL;
    if ((for_signing ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1)
        goto fail;
    if (key->alg == IAM_JWT_RS256 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)
        goto fail;
    if (EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)
        goto fail;
    return ctx;

fail:
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

EVP_PKEY_CTX *iam_signing_key_ctx_acquire(const struct iam_signing_key *key, bool for_signing)
{
    struct iam_pkey_ctx_pool *pool = for_signing ? key->sign_pool : key->verify_pool;
    EVP_PKEY_CTX *ctx = NULL;
    if (!pool)
        return NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->count > 0)
        ctx = pool->idle[--pool->count];
    pthread_mutex_unlock(&pool->lock);
    return ctx ? ctx : prepared_ctx_new(key, for_signing);
}

void iam_signing_key_ctx_release(const struct iam_signing_key *key, bool for_signing, EVP_PKEY_CTX *ctx,
                                 bool reusable)
{
    struct iam_pkey_ctx_pool *pool = for_signing ? key->sign_pool : key->verify_pool;
    if (!ctx)
        return;
    if (reusable && pool) {
        pthread_mutex_lock(&pool->lock);
        if (pool->count < POOL_CAPACITY) {
            pool->idle[pool->count++] = ctx;
            ctx = NULL;
        }
        pthread_mutex_unlock(&pool->lock);
    }
    EVP_PKEY_CTX_free(ctx);
}

/* ---- creation ---- */

static bool pkey_is_p256(EVP_PKEY *pkey)
{
    char group[64];
    size_t group_length = 0;
    if (!EVP_PKEY_is_a(pkey, "EC"))
        return false;
    /* Fails for keys with explicit curve parameters, which we do not accept. */
    if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &group_length) != 1)
        return false;
    return OBJ_sn2nid(group) == NID_X9_62_prime256v1;
}

/*
 * RSA (not RSA-PSS) of 2048..8192 bits with e = 65537. OpenSSL outside FIPS mode
 * accepts any odd e > 1; small exponents only ever widen the attack surface of
 * signature checks, and every key we make or publish uses 65537.
 */
static bool pkey_is_rs256(EVP_PKEY *pkey)
{
    BIGNUM *e = NULL;
    int bits = EVP_PKEY_get_bits(pkey);
    if (!EVP_PKEY_is_a(pkey, "RSA") || bits < IAM_JWT_RSA_MIN_BITS || bits > IAM_JWT_RSA_MAX_BITS)
        return false;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
        return false;
    bool ok = BN_is_word(e, RSA_F4);
    BN_free(e);
    return ok;
}

static bool pkey_fits_alg(enum iam_jwt_alg alg, EVP_PKEY *pkey)
{
    switch (alg) {
    case IAM_JWT_RS256: return pkey_is_rs256(pkey);
    case IAM_JWT_ES256: return pkey_is_p256(pkey);
    case IAM_JWT_EDDSA: return EVP_PKEY_is_a(pkey, "ED25519");
    }
    return false;
}

/* The protected header is the same for every token of a key, so it is encoded once. */
static enum iam_result header_encode(struct iam_signing_key *key)
{
    char header[128];
    int length = snprintf(header, sizeof header, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
                          iam_jwt_alg_name(key->alg), key->kid);
    if (length < 0 || (size_t)length >= sizeof header)
        return IAM_EINTERNAL;
    size_t size = iam_base64url_encoded_size((size_t)length);
    key->header_b64 = malloc(size);
    if (!key->header_b64)
        return IAM_ENOMEM;
    enum iam_result result = iam_base64url_encode(header, (size_t)length, key->header_b64, size);
    if (result != IAM_OK)
        return result;
    key->header_b64_length = strlen(key->header_b64);
    return IAM_OK;
}

enum iam_result iam_signing_key_wrap(enum iam_jwt_alg alg, const char *kid, EVP_PKEY *pkey, bool can_sign,
                                     struct iam_signing_key **out)
{
    enum iam_result result = IAM_EINVAL;
    struct iam_signing_key *key = NULL;

    *out = NULL;
    if (!pkey || !iam_jwt_kid_valid(kid) || !pkey_fits_alg(alg, pkey))
        goto cleanup;
    result = IAM_ENOMEM;
    key = calloc(1, sizeof *key);
    if (!key)
        goto cleanup;
    key->alg = alg;
    key->can_sign = can_sign;
    key->pkey = pkey;
    pkey = NULL;
    memcpy(key->kid, kid, strlen(kid) + 1);
    switch (alg) {
    case IAM_JWT_RS256: key->signature_size = (size_t)EVP_PKEY_get_size(key->pkey); break;
    case IAM_JWT_ES256: key->signature_size = IAM_JWT_ES256_SIGNATURE_SIZE; break;
    case IAM_JWT_EDDSA: key->signature_size = IAM_JWT_EDDSA_SIGNATURE_SIZE; break;
    }
    result = header_encode(key);
    if (result != IAM_OK)
        goto cleanup;
    if (alg != IAM_JWT_EDDSA) {
        result = IAM_ENOMEM;
        if (can_sign && !(key->sign_pool = pool_new()))
            goto cleanup;
        if (!(key->verify_pool = pool_new()))
            goto cleanup;
    }
    *out = key;
    key = NULL;
    result = IAM_OK;

cleanup:
    EVP_PKEY_free(pkey);
    iam_signing_key_free(key);
    return result;
}

enum iam_result iam_signing_key_generate(enum iam_jwt_alg alg, const char *kid, struct iam_signing_key **out)
{
    EVP_PKEY *pkey = NULL;

    *out = NULL;
    if (!iam_jwt_kid_valid(kid))
        return IAM_EINVAL;
    switch (alg) {
    case IAM_JWT_RS256: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048); break; /* e = 65537 */
    case IAM_JWT_ES256: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
    case IAM_JWT_EDDSA: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
    default: return IAM_EINVAL;
    }
    if (!pkey)
        return IAM_ECRYPTO;
    return iam_signing_key_wrap(alg, kid, pkey, true, out);
}

/* Never prompt on a terminal for a passphrase: an encrypted PEM simply fails to load. */
static int refuse_passphrase(char *buffer, int size, int rwflag, void *data)
{
    return -1;
}

enum iam_result iam_signing_key_from_pem(enum iam_jwt_alg alg, const char *kid, const char *pem, size_t pem_length,
                                         struct iam_signing_key **out)
{
    *out = NULL;
    if (!pem || pem_length == 0 || pem_length > INT_MAX || !iam_jwt_kid_valid(kid))
        return IAM_EINVAL;
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_length);
    if (!bio)
        return IAM_ENOMEM;
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey_ex(bio, NULL, refuse_passphrase, NULL, NULL, NULL);
    BIO_free(bio);
    if (!pkey) {
        ERR_clear_error();
        return IAM_EINVAL;
    }
    return iam_signing_key_wrap(alg, kid, pkey, true, out);
}

enum iam_result iam_signing_key_private_pem(const struct iam_signing_key *key, char **pem, size_t *pem_length)
{
    enum iam_result result = IAM_ECRYPTO;
    char *copy = NULL;

    *pem = NULL;
    if (pem_length)
        *pem_length = 0;
    if (!key || !key->can_sign)
        return IAM_EINVAL;
    /* A secure-memory BIO cleanses its buffer when freed, so no copy of the key lingers. */
    BIO *bio = BIO_new(BIO_s_secmem());
    if (!bio)
        return IAM_ENOMEM;
    if (PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) != 1)
        goto cleanup;
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    if (length <= 0 || !data)
        goto cleanup;
    copy = malloc((size_t)length + 1);
    if (!copy) {
        result = IAM_ENOMEM;
        goto cleanup;
    }
    memcpy(copy, data, (size_t)length);
    copy[length] = '\0';
    *pem = copy;
    if (pem_length)
        *pem_length = (size_t)length;
    result = IAM_OK;

cleanup:
    BIO_free(bio);
    if (result != IAM_OK)
        ERR_clear_error();
    return result;
}

const char *iam_signing_key_kid(const struct iam_signing_key *key)
{
    return key->kid;
}

enum iam_jwt_alg iam_signing_key_alg(const struct iam_signing_key *key)
{
    return key->alg;
}

bool iam_signing_key_can_sign(const struct iam_signing_key *key)
{
    return key && key->can_sign;
}

void iam_signing_key_free(struct iam_signing_key *key)
{
    if (!key)
        return;
    pool_free(key->sign_pool);
    pool_free(key->verify_pool);
    EVP_PKEY_free(key->pkey); /* OpenSSL clears private key material as it frees it */
    free(key->header_b64);
    free(key);
}
