/*
 * encoding.c: owns the byte-to-text encodings: unpadded base64url (encoded by
 * libsodium; decoded by OpenSSL after our own checks of the alphabet, padding
 * and trailing bits, so every accepted text is the one encoding of its bytes),
 * lowercase hex and the CRC-32 checksum used by the API key format.
 */
#include "crypto/encoding.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
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
     * The alphabet is checked here first (libsodium 1.0.18 maps bytes >= 0x80 to '-',
     * so "Zm\xffv" would decode like "Zm-v"; OpenSSL's decoder accepts the standard
     * alphabet and whitespace). Decoding then goes through OpenSSL's EVP_DecodeBlock on
     * the text translated to the standard alphabet and padded: libsodium's constant-time
     * decoder cost 7% of a /v2/authz request, and a token is not a secret to hide from
     * timing.
     */
    for (size_t i = 0; i < text_length; i++)
        if (!is_base64url_char(text[i]))
            return IAM_EINVAL;
    /* Canonical form: the bits past the last whole byte are zero. */
    if (tail) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int last = (int)(strchr(alphabet, text[text_length - 1]) - alphabet);
        if ((tail == 2 && (last & 0x0f)) || (tail == 3 && (last & 0x03)))
            return IAM_EINVAL;
    }
    size_t padded = (text_length + 3) / 4 * 4;
    size_t decoded_capacity = padded / 4 * 3;
    if (padded > INT_MAX)
        return IAM_ETOOBIG;
    unsigned char stack_text[1024], stack_out[768];
    unsigned char *standard = padded <= sizeof stack_text ? stack_text : malloc(padded);
    unsigned char *decoded = decoded_capacity <= sizeof stack_out ? stack_out : malloc(decoded_capacity);
    enum iam_result result = IAM_OK;
    if (!standard || !decoded) {
        result = IAM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < text_length; i++)
        standard[i] = (unsigned char)(text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i]);
    for (size_t i = text_length; i < padded; i++)
        standard[i] = '=';
    if (EVP_DecodeBlock(decoded, standard, (int)padded) != (int)decoded_capacity) {
        result = IAM_EINVAL;
        goto out;
    }
    decoded_length = expected;
    memcpy(out, decoded, decoded_length);
    if (out_length)
        *out_length = decoded_length;
out:
    if (decoded && decoded != stack_out) {
        OPENSSL_cleanse(decoded, decoded_capacity);
        free(decoded);
    } else {
        OPENSSL_cleanse(stack_out, sizeof stack_out);
    }
    if (standard && standard != stack_text)
        free(standard);
    return result;
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
