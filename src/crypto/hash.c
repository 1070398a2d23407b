/*
 * hash.c: owns the keyed API-key hasher (HMAC-SHA256 under the server pepper),
 * HKDF-SHA256 key derivation, plain SHA-256, constant-time comparison and
 * memory wiping.
 *
 * The HMAC context is keyed once in iam_hasher_new(); every iam_hasher_mac()
 * call works on its own duplicate, so the shared context is only ever read
 * and one hasher serves all threads without a lock.
 */
#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdlib.h>

struct iam_hasher {
    EVP_MAC_CTX *keyed; /* HMAC-SHA256 keyed with the pepper; never updated itself */
};

/* Explicitly fetched once: EVP_sha256() would repeat an implicit fetch on every digest. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

enum iam_result iam_hasher_new(const uint8_t *key, size_t key_length, struct iam_hasher **out)
{
    enum iam_result result = IAM_ECRYPTO;
    EVP_MAC *mac = NULL;
    struct iam_hasher *hasher = NULL;

    *out = NULL;
    if (!key || key_length < 16)
        return IAM_EINVAL;
    hasher = calloc(1, sizeof *hasher);
    if (!hasher)
        return IAM_ENOMEM;
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        goto cleanup;
    hasher->keyed = EVP_MAC_CTX_new(mac);
    if (!hasher->keyed)
        goto cleanup;
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(hasher->keyed, key, key_length, params) != 1)
        goto cleanup;
    *out = hasher;
    hasher = NULL;
    result = IAM_OK;

cleanup:
    EVP_MAC_free(mac); /* the context keeps its own reference */
    iam_hasher_free(hasher);
    return result;
}

void iam_hasher_free(struct iam_hasher *hasher)
{
    if (!hasher)
        return;
    /* OpenSSL's HMAC frees its key copy and pad states with cleansing frees. */
    EVP_MAC_CTX_free(hasher->keyed);
    free(hasher);
}

enum iam_result iam_hasher_mac(const struct iam_hasher *hasher, const void *data, size_t length,
                               uint8_t out[IAM_HASH_SIZE])
{
    enum iam_result result = IAM_ECRYPTO;
    size_t out_length = 0;

    if (!hasher || (!data && length))
        return IAM_EINVAL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(hasher->keyed);
    if (!ctx)
        return IAM_ENOMEM;
    if (length && EVP_MAC_update(ctx, data, length) != 1)
        goto cleanup;
    if (EVP_MAC_final(ctx, out, &out_length, IAM_HASH_SIZE) != 1 || out_length != IAM_HASH_SIZE)
        goto cleanup;
    result = IAM_OK;

cleanup:
    EVP_MAC_CTX_free(ctx);
    return result;
}

enum iam_result iam_hkdf_sha256(const uint8_t *secret, size_t secret_length, const uint8_t *salt,
                                size_t salt_length, const void *info, size_t info_length, uint8_t *out,
                                size_t out_length)
{
    static const uint8_t zero_salt[IAM_HASH_SIZE];
    enum iam_result result = IAM_ECRYPTO;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *ctx = NULL;

    if (!secret || secret_length == 0 || !out || out_length == 0 || out_length > 255 * IAM_HASH_SIZE ||
        (!info && info_length) || (!salt && salt_length))
        return IAM_EINVAL;
    if (!salt || salt_length == 0) {
        salt = zero_salt;
        salt_length = sizeof zero_salt;
    }
    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (!kdf)
        goto cleanup;
    ctx = EVP_KDF_CTX_new(kdf);
    if (!ctx)
        goto cleanup;
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_length),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_length),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(info_length ? info : ""), info_length),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_KDF_derive(ctx, out, out_length, params) != 1)
        goto cleanup;
    result = IAM_OK;

cleanup:
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return result;
}

enum iam_result iam_sha256(const void *data, size_t length, uint8_t out[IAM_HASH_SIZE])
{
    unsigned int out_length = 0;

    if (!data && length)
        return IAM_EINVAL;
    if (pthread_once(&sha256_once, sha256_fetch) != 0 || !sha256_md)
        return IAM_ECRYPTO;
    /* EVP_Digest wants a non-NULL pointer even for zero bytes. */
    if (EVP_Digest(length ? data : "", length, out, &out_length, sha256_md, NULL) != 1 ||
        out_length != IAM_HASH_SIZE)
        return IAM_ECRYPTO;
    return IAM_OK;
}

bool iam_bytes_equal(const void *a, const void *b, size_t length)
{
    if (length == 0)
        return true;
    return CRYPTO_memcmp(a, b, length) == 0;
}

void iam_wipe(void *data, size_t length)
{
    if (data && length)
        OPENSSL_cleanse(data, length);
}
