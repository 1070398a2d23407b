/*
 * aead.h: AES-256-GCM sealing of secrets at rest (signing keys, stored API key values,
 * refresh tokens) under a 32-byte key-encryption key.
 *
 * A sealed blob is nonce(12) || ciphertext || tag(16). The associated data binds a blob
 * to its purpose and owner (e.g. "signing-key:<kid>"), so a blob moved elsewhere fails.
 */
#ifndef IAM_CRYPTO_AEAD_H
#define IAM_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define IAM_AEAD_KEY_SIZE 32
#define IAM_AEAD_NONCE_SIZE 12
#define IAM_AEAD_TAG_SIZE 16
#define IAM_AEAD_OVERHEAD (IAM_AEAD_NONCE_SIZE + IAM_AEAD_TAG_SIZE)

/*
 * Seals `plain` into `out` (`plain_length` + IAM_AEAD_OVERHEAD bytes, caller-provided),
 * with a fresh random nonce.
 */
enum iam_result iam_aead_seal(const uint8_t key[IAM_AEAD_KEY_SIZE], const void *aad, size_t aad_length,
                              const void *plain, size_t plain_length, uint8_t *out) IAM_MUST_CHECK;

/*
 * Opens a sealed blob into `out` (`sealed_length` - IAM_AEAD_OVERHEAD bytes).
 * IAM_ECRYPTO when the blob was tampered with, the key is wrong or the AAD differs.
 */
enum iam_result iam_aead_open(const uint8_t key[IAM_AEAD_KEY_SIZE], const void *aad, size_t aad_length,
                              const uint8_t *sealed, size_t sealed_length, uint8_t *out) IAM_MUST_CHECK;

#endif
