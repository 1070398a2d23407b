/*
 * keyformat.c: owns the text form of iamd API key values
 * (<prefix>_<22 base62 key id><43 base62 secret><6 base62 CRC-32>): making
 * new ones and recognising and checksumming presented ones.
 *
 * Base62 uses the alphabet 0-9A-Za-z (ASCII order, so '0' is the zero digit
 * that pads on the left). Each field is a fixed-width big-endian number; a
 * field whose digits exceed its byte width (e.g. 22 'z's for 16 bytes) is not
 * a value we could have produced and is reported as not recognised.
 */
#include "crypto/keyformat.h"

#include <string.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

#define KEY_ID_DIGITS 22 /* 62^22 >= 2^128 */
#define SECRET_DIGITS 43 /* 62^43 >= 2^256 */
#define CRC_DIGITS 6     /* 62^6 >= 2^32 */
#define BODY_DIGITS (KEY_ID_DIGITS + SECRET_DIGITS + CRC_DIGITS)
#define CRC_BYTES 4

bool iam_keyformat_prefix_valid(const char *prefix)
{
    if (!prefix)
        return false;
    size_t length = 0;
    for (; prefix[length]; length++) {
        char c = prefix[length];
        if (length >= IAM_KEYFORMAT_PREFIX_MAX || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return length >= 1;
}

/* The digit for 0..61 without a table lookup or branch, since secret bytes pass through here. */
static char base62_char(unsigned value)
{
    unsigned at_least_10 = (9u - value) >> 31;  /* 1 when value >= 10 */
    unsigned at_least_36 = (35u - value) >> 31; /* 1 when value >= 36 */
    return (char)('0' + value + at_least_10 * ('A' - '0' - 10) + at_least_36 * ('a' - 'A' - 26));
}

static int base62_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 36;
    return -1;
}

/*
 * Writes `width` digits of the big-endian number in `bytes` (at most 32 bytes) by
 * repeated long division by 62; widths are chosen so the number always fits.
 */
static void base62_encode(const uint8_t *bytes, size_t length, char *out, size_t width)
{
    uint8_t work[IAM_KEYFORMAT_SECRET_BYTES];
    memcpy(work, bytes, length);
    for (size_t digit = width; digit-- > 0;) {
        unsigned remainder = 0;
        for (size_t i = 0; i < length; i++) {
            unsigned value = remainder << 8 | work[i];
            work[i] = (uint8_t)(value / 62);
            remainder = value % 62;
        }
        out[digit] = base62_char(remainder);
    }
    iam_wipe(work, sizeof work);
}

/* Reads `width` digits into a `length`-byte big-endian number. False on a bad digit or overflow. */
static bool base62_decode(const char *text, size_t width, uint8_t *out, size_t length)
{
    memset(out, 0, length);
    for (size_t digit = 0; digit < width; digit++) {
        int value = base62_value(text[digit]);
        if (value < 0)
            return false;
        unsigned carry = (unsigned)value;
        for (size_t i = length; i-- > 0;) {
            unsigned product = out[i] * 62u + carry;
            out[i] = (uint8_t)product;
            carry = product >> 8;
        }
        if (carry)
            return false;
    }
    return true;
}

static void crc_to_bytes(uint32_t crc, uint8_t out[CRC_BYTES])
{
    out[0] = (uint8_t)(crc >> 24);
    out[1] = (uint8_t)(crc >> 16);
    out[2] = (uint8_t)(crc >> 8);
    out[3] = (uint8_t)crc;
}

enum iam_result iam_keyformat_generate(const char *prefix, const uint8_t key_id[IAM_KEYFORMAT_KEY_ID_BYTES],
                                       char out[IAM_KEYFORMAT_VALUE_SIZE])
{
    uint8_t secret[IAM_KEYFORMAT_SECRET_BYTES];
    uint8_t crc_bytes[CRC_BYTES];

    if (!out)
        return IAM_EINVAL;
    out[0] = '\0';
    if (!key_id || !iam_keyformat_prefix_valid(prefix))
        return IAM_EINVAL;
    enum iam_result result = iam_random_bytes(secret, sizeof secret);
    if (result != IAM_OK)
        goto cleanup;

    size_t prefix_length = strlen(prefix);
    char *cursor = out;
    memcpy(cursor, prefix, prefix_length);
    cursor += prefix_length;
    *cursor++ = '_';
    base62_encode(key_id, IAM_KEYFORMAT_KEY_ID_BYTES, cursor, KEY_ID_DIGITS);
    cursor += KEY_ID_DIGITS;
    base62_encode(secret, sizeof secret, cursor, SECRET_DIGITS);
    cursor += SECRET_DIGITS;
    crc_to_bytes(iam_crc32(out, (size_t)(cursor - out)), crc_bytes);
    base62_encode(crc_bytes, CRC_BYTES, cursor, CRC_DIGITS);
    cursor += CRC_DIGITS;
    *cursor = '\0';

cleanup:
    iam_wipe(secret, sizeof secret);
    return result;
}

/* "ApiKey-" and the 16 bytes as a lowercase 8-4-4-4-12 UUID. */
static void format_key_id_text(const uint8_t key_id[IAM_KEYFORMAT_KEY_ID_BYTES], char out[48])
{
    static const char digits[] = "0123456789abcdef";
    static const char prefix[] = "ApiKey-";
    char *cursor = out;
    memcpy(cursor, prefix, sizeof prefix - 1);
    cursor += sizeof prefix - 1;
    for (size_t i = 0; i < IAM_KEYFORMAT_KEY_ID_BYTES; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *cursor++ = '-';
        *cursor++ = digits[key_id[i] >> 4];
        *cursor++ = digits[key_id[i] & 15];
    }
    *cursor = '\0';
}

enum iam_result iam_keyformat_inspect(const char *prefix, const char *value, struct iam_keyformat_info *info)
{
    uint8_t key_id[IAM_KEYFORMAT_KEY_ID_BYTES];
    uint8_t secret[IAM_KEYFORMAT_SECRET_BYTES];
    uint8_t stored_crc[CRC_BYTES];
    uint8_t computed_crc[CRC_BYTES];

    if (!info)
        return IAM_EINVAL;
    memset(info, 0, sizeof *info);
    if (!value || !iam_keyformat_prefix_valid(prefix))
        return IAM_EINVAL;
    size_t prefix_length = strlen(prefix);
    if (strncmp(value, prefix, prefix_length) != 0 || value[prefix_length] != '_')
        return IAM_EINVAL;
    const char *body = value + prefix_length + 1;
    for (size_t i = 0; i < BODY_DIGITS; i++)
        if (base62_value(body[i]) < 0) /* also stops at the NUL of a short value */
            return IAM_EINVAL;
    if (body[BODY_DIGITS] != '\0')
        return IAM_EINVAL;

    /* The secret is decoded only to prove the field is in range; it is wiped at once. */
    bool in_range = base62_decode(body, KEY_ID_DIGITS, key_id, sizeof key_id) &&
                    base62_decode(body + KEY_ID_DIGITS, SECRET_DIGITS, secret, sizeof secret) &&
                    base62_decode(body + KEY_ID_DIGITS + SECRET_DIGITS, CRC_DIGITS, stored_crc,
                                  sizeof stored_crc);
    iam_wipe(secret, sizeof secret);
    if (!in_range)
        return IAM_EINVAL;

    info->recognised = true;
    memcpy(info->key_id, key_id, sizeof key_id);
    format_key_id_text(key_id, info->key_id_text);
    crc_to_bytes(iam_crc32(value, prefix_length + 1 + KEY_ID_DIGITS + SECRET_DIGITS), computed_crc);
    info->checksum_valid = memcmp(stored_crc, computed_crc, CRC_BYTES) == 0;
    return info->checksum_valid ? IAM_OK : IAM_EINVAL;
}
