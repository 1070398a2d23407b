/*
 * hash.h: keyed hashing of API keys, key derivation (HKDF) and constant-time
 * comparison.
 *
 * An iam_hasher holds an HMAC-SHA256 key (the server pepper), set up once;
 * iam_hasher_mac() is safe to call from many threads at once (each call
 * works on its own duplicate of the keyed context).
 */
#ifndef IAM_CRYPTO_HASH_H
#define IAM_CRYPTO_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define IAM_HASH_SIZE 32

struct iam_hasher;

/* Keys a new hasher with `key` (at least 16 bytes). The caller frees it with iam_hasher_free. */
enum iam_result iam_hasher_new(const uint8_t *key, size_t key_length, struct iam_hasher **out) IAM_MUST_CHECK;

/* Frees the hasher and wipes its key. NULL is allowed. */
void iam_hasher_free(struct iam_hasher *hasher);

/* HMAC-SHA256(pepper, data) into `out`. */
enum iam_result iam_hasher_mac(const struct iam_hasher *hasher, const void *data, size_t length,
                               uint8_t out[IAM_HASH_SIZE]) IAM_MUST_CHECK;

/*
 * HKDF-SHA256 (RFC 5869) of the input key material `secret`, with `salt`
 * (NULL or empty: HashLen zero bytes) and the context label `info`, into
 * `out_length` (1..255*32) bytes of `out`. Derives keys with domain
 * separation: a key derived from the pepper for one purpose (e.g. the audit
 * chain) shares nothing usable with HMAC(pepper, x) for any x, so stored API
 * key hashes reveal nothing about it.
 */
enum iam_result iam_hkdf_sha256(const uint8_t *secret, size_t secret_length, const uint8_t *salt,
                                size_t salt_length, const void *info, size_t info_length, uint8_t *out,
                                size_t out_length) IAM_MUST_CHECK;

/* SHA-256 of `data`. */
enum iam_result iam_sha256(const void *data, size_t length, uint8_t out[IAM_HASH_SIZE]) IAM_MUST_CHECK;

/* Constant-time equality of two byte strings of the same length. */
bool iam_bytes_equal(const void *a, const void *b, size_t length);

/* Wipes memory in a way the compiler cannot optimise away. */
void iam_wipe(void *data, size_t length);

#endif
