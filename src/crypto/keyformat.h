/*
 * keyformat.h: the text form of iamd API key values.
 *
 *   <prefix>_<22 base62: key id><43 base62: 256-bit secret><6 base62: CRC-32>
 *
 * The key id is the 16 bytes of the ApiKey-<uuid> id and is not secret: it
 * names the key in logs and rate limits. The CRC-32 covers everything before
 * it (prefix and underscore included), so secret scanners can recognise a
 * leaked key offline and the server can refuse a mistyped key before any
 * lookup. Base62 fields are fixed width, big-endian, left-padded with '0'.
 * Values a client supplies itself (IBM allows >= 32 characters) are not in
 * this format; inspect() reports them as not recognised.
 */
#ifndef IAM_CRYPTO_KEYFORMAT_H
#define IAM_CRYPTO_KEYFORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define IAM_KEYFORMAT_DEFAULT_PREFIX "iamd"
#define IAM_KEYFORMAT_PREFIX_MAX 16  /* prefixes are 1..16 of [a-z0-9] */
#define IAM_KEYFORMAT_VALUE_SIZE 128 /* any generated value fits, NUL included */
#define IAM_KEYFORMAT_SECRET_BYTES 32
#define IAM_KEYFORMAT_KEY_ID_BYTES 16

/* True when `prefix` is 1..16 characters of [a-z0-9]. */
bool iam_keyformat_prefix_valid(const char *prefix);

/*
 * A new key value for key id `key_id` (16 bytes), with a fresh 256-bit secret
 * from the CSPRNG, written to `out`.
 */
enum iam_result iam_keyformat_generate(const char *prefix, const uint8_t key_id[IAM_KEYFORMAT_KEY_ID_BYTES],
                                       char out[IAM_KEYFORMAT_VALUE_SIZE]) IAM_MUST_CHECK;

struct iam_keyformat_info {
    bool recognised;      /* has the shape <prefix>_<71 base62> */
    bool checksum_valid;  /* and its CRC-32 matches */
    uint8_t key_id[IAM_KEYFORMAT_KEY_ID_BYTES]; /* the id it claims (valid when recognised) */
    char key_id_text[48]; /* the id as "ApiKey-<uuid>" (when recognised) */
};

/*
 * Examines `value` (never logs it). Always fills `info`; returns IAM_OK when
 * the value is recognised and its checksum is valid, IAM_EINVAL otherwise.
 */
enum iam_result iam_keyformat_inspect(const char *prefix, const char *value, struct iam_keyformat_info *info);

#endif
