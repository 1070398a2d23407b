/*
 * aead.c: owns AES-256-GCM sealing and opening of secrets at rest
 * (blob = nonce(12) || ciphertext || tag(16)), through OpenSSL EVP.
 *
 * Nonces are 96 random bits per seal: safe for the number of secrets one
 * key-encryption key protects (far below the 2^32 seals where random GCM
 * nonces start to risk a collision).
 */
#include "crypto/aead.h"

#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/random.h"

/* Fetched once: EVP_aes_256_gcm() would repeat an implicit fetch on every seal. */
static pthread_once_t cipher_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes_256_gcm;

static void cipher_fetch(void)
{
    aes_256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *cipher_get(void)
{
    if (pthread_once(&cipher_once, cipher_fetch) != 0)
        return NULL;
    return aes_256_gcm;
}

enum iam_result iam_aead_seal(const uint8_t key[IAM_AEAD_KEY_SIZE], const void *aad, size_t aad_length,
                              const void *plain, size_t plain_length, uint8_t *out)
{
    enum iam_result result = IAM_ECRYPTO;
    EVP_CIPHER_CTX *ctx = NULL;
    int written = 0;

    if (!key || !out || (!aad && aad_length) || (!plain && plain_length))
        return IAM_EINVAL;
    if (aad_length > INT_MAX || plain_length > INT_MAX - IAM_AEAD_OVERHEAD)
        return IAM_ETOOBIG;
    const EVP_CIPHER *cipher = cipher_get();
    if (!cipher)
        return IAM_ECRYPTO;

    uint8_t *nonce = out;
    uint8_t *ciphertext = out + IAM_AEAD_NONCE_SIZE;
    uint8_t *tag = ciphertext + plain_length;
    result = iam_random_bytes(nonce, IAM_AEAD_NONCE_SIZE);
    if (result != IAM_OK)
        goto cleanup;
    result = IAM_ECRYPTO;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx) {
        result = IAM_ENOMEM;
        goto cleanup;
    }
    /* GCM's default IV length is the 12 bytes we use. */
    if (EVP_EncryptInit_ex2(ctx, cipher, key, nonce, NULL) != 1)
        goto cleanup;
    if (aad_length && EVP_EncryptUpdate(ctx, NULL, &written, aad, (int)aad_length) != 1)
        goto cleanup;
    if (plain_length && (EVP_EncryptUpdate(ctx, ciphertext, &written, plain, (int)plain_length) != 1 ||
                         (size_t)written != plain_length))
        goto cleanup;
    if (EVP_EncryptFinal_ex(ctx, tag, &written) != 1 || written != 0)
        goto cleanup;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, IAM_AEAD_TAG_SIZE, tag) != 1)
        goto cleanup;
    result = IAM_OK;

cleanup:
    EVP_CIPHER_CTX_free(ctx); /* cleanses the expanded key schedule */
    if (result != IAM_OK)
        iam_wipe(out, plain_length + IAM_AEAD_OVERHEAD);
    return result;
}

enum iam_result iam_aead_open(const uint8_t key[IAM_AEAD_KEY_SIZE], const void *aad, size_t aad_length,
                              const uint8_t *sealed, size_t sealed_length, uint8_t *out)
{
    enum iam_result result = IAM_ECRYPTO;
    EVP_CIPHER_CTX *ctx = NULL;
    int written = 0;
    uint8_t tag[IAM_AEAD_TAG_SIZE];

    if (!key || !sealed || (!aad && aad_length))
        return IAM_EINVAL;
    if (sealed_length < IAM_AEAD_OVERHEAD)
        return IAM_EINVAL;
    size_t plain_length = sealed_length - IAM_AEAD_OVERHEAD;
    if (!out && plain_length)
        return IAM_EINVAL;
    if (aad_length > INT_MAX || plain_length > INT_MAX)
        return IAM_ETOOBIG;
    const EVP_CIPHER *cipher = cipher_get();
    if (!cipher)
        return IAM_ECRYPTO;

    const uint8_t *nonce = sealed;
    const uint8_t *ciphertext = sealed + IAM_AEAD_NONCE_SIZE;
    memcpy(tag, ciphertext + plain_length, IAM_AEAD_TAG_SIZE); /* the ctrl wants a mutable pointer */
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx) {
        result = IAM_ENOMEM;
        goto cleanup;
    }
    if (EVP_DecryptInit_ex2(ctx, cipher, key, nonce, NULL) != 1)
        goto cleanup;
    if (aad_length && EVP_DecryptUpdate(ctx, NULL, &written, aad, (int)aad_length) != 1)
        goto cleanup;
    if (plain_length && (EVP_DecryptUpdate(ctx, out, &written, ciphertext, (int)plain_length) != 1 ||
                         (size_t)written != plain_length))
        goto cleanup;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, IAM_AEAD_TAG_SIZE, tag) != 1)
        goto cleanup;
    /* The tag is checked here; until then `out` holds unauthenticated plaintext. */
    if (EVP_DecryptFinal_ex(ctx, out ? out + plain_length : tag, &written) != 1 || written != 0)
        goto cleanup;
    result = IAM_OK;

cleanup:
    EVP_CIPHER_CTX_free(ctx);
    if (result != IAM_OK && out)
        iam_wipe(out, plain_length); /* never hand back plaintext that failed authentication */
    return result;
}
