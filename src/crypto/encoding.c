/*
 * encoding.c: owns the byte-to-text encodings: unpadded base64url (through
 * libsodium, whose decoder refuses padding, whitespace and non-zero trailing
 * bits; we add the alphabet check it lacks, so every accepted text is the one
 * encoding of its bytes), lowercase hex and the CRC-32 checksum used by the
 * API key format.
 */
#include "crypto/encoding.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void sodium_start(void)
{
    sodium_status = sodium_init(); /* 0 first time, 1 if someone else already did it */
}

static bool sodium_ready(void)
{
    return pthread_once(&sodium_once, sodium_start) == 0 && sodium_status >= 0;
}

size_t iam_base64url_encoded_size(size_t length)
{
    /* Four characters per three bytes; a tail of 1 or 2 bytes takes 2 or 3 characters. */
    if (length / 3 > (SIZE_MAX - 4) / 4)
        return SIZE_MAX; /* cannot be satisfied; encode then fails with IAM_ETOOBIG */
    size_t tail = length % 3;
    return length / 3 * 4 + (tail ? tail + 1 : 0) + 1;
}

enum iam_result iam_base64url_encode(const void *data, size_t length, char *out, size_t out_size)
{
    if (!out || (!data && length))
        return IAM_EINVAL;
    size_t needed = iam_base64url_encoded_size(length);
    /* sodium_bin2base64 aborts the process on a short buffer, so check first. */
    if (needed == SIZE_MAX || out_size < needed)
        return IAM_ETOOBIG;
    if (!sodium_ready())
        return IAM_ECRYPTO;
    sodium_bin2base64(out, out_size, length ? data : (const void *)"", length,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return IAM_OK;
}

static bool is_base64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

enum iam_result iam_base64url_decode(const char *text, size_t text_length, uint8_t *out,
                                     size_t out_size, size_t *out_length)
{
    size_t decoded_length = 0;

    if (out_length)
        *out_length = 0;
    if (!text && text_length)
        return IAM_EINVAL;
    /* A single character left over after full quartets cannot hold a byte. */
    size_t tail = text_length % 4;
    if (tail == 1)
        return IAM_EINVAL;
    size_t expected = text_length / 4 * 3 + (tail ? tail - 1 : 0);
    if (expected > out_size)
        return IAM_ETOOBIG;
    if (text_length == 0)
        return IAM_OK;
    if (!out)
        return IAM_EINVAL;
    /*
     * libsodium 1.0.18 maps every byte >= 0x80 to the value of '-' (its constant-time
     * classifier sees a negative char), so "Zm\xffv" would decode like "Zm-v". Check
     * the alphabet ourselves; libsodium then rejects padding and non-zero trailing bits.
     */
    for (size_t i = 0; i < text_length; i++)
        if (!is_base64url_char(text[i]))
            return IAM_EINVAL;
    if (!sodium_ready())
        return IAM_ECRYPTO;
    if (sodium_base642bin(out, out_size, text, text_length, NULL, &decoded_length, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        decoded_length != expected)
        return IAM_EINVAL;
    if (out_length)
        *out_length = decoded_length;
    return IAM_OK;
}

void iam_hex_encode(const void *data, size_t length, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *bytes = data;
    for (size_t i = 0; i < length; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * length] = '\0';
}

/* The value of a lowercase hex digit, or -1: uppercase is not what we encode, so not canonical. */
static int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

enum iam_result iam_hex_decode(const char *text, uint8_t *out, size_t out_length)
{
    if (!text || (!out && out_length))
        return IAM_EINVAL;
    /*
     * Validate everything first so a failure leaves `out` untouched. Nothing past the
     * 2*out_length digits is read: callers may pass a buffer that is not NUL-terminated
     * (a secret file read as 64 digits and a newline), and check the length themselves.
     */
    for (size_t i = 0; i < 2 * out_length; i++)
        if (hex_digit_value(text[i]) < 0)
            return IAM_EINVAL; /* includes a NUL before the expected end */
    for (size_t i = 0; i < out_length; i++) {
        unsigned high = (unsigned)hex_digit_value(text[2 * i]); /* all validated above */
        unsigned low = (unsigned)hex_digit_value(text[2 * i + 1]);
        out[i] = (uint8_t)(high << 4 | low);
    }
    return IAM_OK;
}

/* Reflected CRC-32, polynomial 0xEDB88320 (IEEE 802.3), as zlib computes it. */
static pthread_once_t crc32_once = PTHREAD_ONCE_INIT;
static uint32_t crc32_table[256];

static void crc32_build_table(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int bit = 0; bit < 8; bit++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc32_table[n] = c;
    }
}

uint32_t iam_crc32(const void *data, size_t length)
{
    const uint8_t *bytes = data;
    uint32_t crc = 0xFFFFFFFFu;

    (void)pthread_once(&crc32_once, crc32_build_table);
    for (size_t i = 0; i < length; i++)
        crc = crc32_table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}
