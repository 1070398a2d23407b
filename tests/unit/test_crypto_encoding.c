/* test_crypto_encoding.c: tests of src/crypto/encoding.c (base64url, hex, CRC-32). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/random.h"

static void assert_encodes_to(const char *data, const char *expected)
{
    char out[64];
    size_t length = strlen(data);
    assert_int_equal(iam_base64url_encoded_size(length), strlen(expected) + 1);
    assert_int_equal(iam_base64url_encode(data, length, out, sizeof out), IAM_OK);
    assert_string_equal(out, expected);

    uint8_t back[64];
    size_t back_length = 99;
    assert_int_equal(iam_base64url_decode(expected, strlen(expected), back, sizeof back, &back_length), IAM_OK);
    assert_int_equal(back_length, length);
    assert_memory_equal(back, data, length);
}

/* RFC 4648 section 10 vectors, unpadded. */
static void test_base64url_rfc4648_vectors(void **state)
{
    assert_encodes_to("", "");
    assert_encodes_to("f", "Zg");
    assert_encodes_to("fo", "Zm8");
    assert_encodes_to("foo", "Zm9v");
    assert_encodes_to("foob", "Zm9vYg");
    assert_encodes_to("fooba", "Zm9vYmE");
    assert_encodes_to("foobar", "Zm9vYmFy");
}

/* The two characters that differ from standard base64. */
static void test_base64url_alphabet(void **state)
{
    const uint8_t bytes[] = {0xfb, 0xff};
    char out[8];
    assert_int_equal(iam_base64url_encode(bytes, sizeof bytes, out, sizeof out), IAM_OK);
    assert_string_equal(out, "-_8");
}

static void test_base64url_round_trip(void **state)
{
    uint8_t data[100];
    char text[200];
    uint8_t back[100];
    for (size_t length = 0; length <= sizeof data; length++) {
        size_t back_length = 0;
        assert_int_equal(iam_random_bytes(data, sizeof data), IAM_OK);
        size_t size = iam_base64url_encoded_size(length);
        assert_true(size <= sizeof text);
        assert_int_equal(iam_base64url_encode(data, length, text, size), IAM_OK); /* exact size is enough */
        assert_int_equal(strlen(text), size - 1);
        assert_null(strchr(text, '='));
        assert_int_equal(iam_base64url_decode(text, strlen(text), back, length, &back_length), IAM_OK);
        assert_int_equal(back_length, length);
        assert_memory_equal(back, data, length);
    }
}

static void assert_decode_rejected(const char *text)
{
    uint8_t out[64];
    size_t out_length = 99;
    assert_int_equal(iam_base64url_decode(text, strlen(text), out, sizeof out, &out_length), IAM_EINVAL);
    assert_int_equal(out_length, 0);
}

static void test_base64url_rejects_non_canonical(void **state)
{
    assert_decode_rejected("Zg==");      /* padding */
    assert_decode_rejected("Zg=");
    assert_decode_rejected("Zm9vYg==");
    assert_decode_rejected("Zm9v=");
    assert_decode_rejected("a+b/");      /* standard base64 alphabet */
    assert_decode_rejected("ab+c");
    assert_decode_rejected("ab/c");
    assert_decode_rejected("Zm9 v");     /* whitespace */
    assert_decode_rejected("Zm9v\n");
    assert_decode_rejected("\tZm9v");
    assert_decode_rejected("Zm9v\r\nYg");
    assert_decode_rejected("Z");         /* a lone character holds no byte */
    assert_decode_rejected("Zm9vY");
    assert_decode_rejected("Zh");        /* "Zg" with non-zero trailing bits: same byte, other text */
    assert_decode_rejected("Zm9");       /* "Zm8" likewise */
    assert_decode_rejected("Zm.v");
    assert_decode_rejected("Zm\x80v");
}

/*
 * Every byte outside [A-Za-z0-9_-] fails, including bytes >= 0x80, which libsodium
 * 1.0.18 on its own decodes as '-' (so "Zm\xffv" would equal "Zm-v").
 */
static void test_base64url_rejects_every_foreign_byte(void **state)
{
    for (int c = 0; c < 256; c++) {
        char text[4] = {'Z', 'm', (char)c, 'v'};
        uint8_t out[8];
        size_t out_length = 0;
        bool in_alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           c == '-' || c == '_';
        enum iam_result expected = in_alphabet ? IAM_OK : IAM_EINVAL;
        assert_int_equal(iam_base64url_decode(text, sizeof text, out, sizeof out, &out_length), expected);
    }
}

/* Embedded NUL: the length given is what counts, and NUL is not in the alphabet. */
static void test_base64url_rejects_embedded_nul(void **state)
{
    uint8_t out[8];
    size_t out_length = 0;
    assert_int_equal(iam_base64url_decode("Zm\0v", 4, out, sizeof out, &out_length), IAM_EINVAL);
}

static void test_base64url_size_limits(void **state)
{
    char text[5];
    uint8_t out[2];
    size_t out_length = 0;
    /* "foo" needs 5 bytes; 4 must fail cleanly rather than abort inside libsodium. */
    assert_int_equal(iam_base64url_encode("foo", 3, text, 4), IAM_ETOOBIG);
    assert_int_equal(iam_base64url_encode("foo", 3, text, 5), IAM_OK);
    assert_int_equal(iam_base64url_decode("Zm9v", 4, out, sizeof out, &out_length), IAM_ETOOBIG);
    assert_int_equal(iam_base64url_decode("Zm8", 3, out, sizeof out, &out_length), IAM_OK);
    assert_int_equal(out_length, 2);
    assert_int_equal(iam_base64url_decode("", 0, NULL, 0, &out_length), IAM_OK);
    assert_int_equal(out_length, 0);
    assert_int_equal(iam_base64url_encoded_size(0), 1);
    assert_int_equal(iam_base64url_encoded_size(32), 44);
    assert_int_equal(iam_base64url_encoded_size(256), 343);
}

static void test_hex(void **state)
{
    const uint8_t bytes[] = {0x00, 0x01, 0xab, 0xff};
    char text[9];
    uint8_t back[4];
    iam_hex_encode(bytes, sizeof bytes, text);
    assert_string_equal(text, "0001abff");
    assert_int_equal(iam_hex_decode("0001abff", back, sizeof back), IAM_OK);
    assert_memory_equal(back, bytes, sizeof bytes);

    uint8_t untouched[4] = {9, 9, 9, 9};
    const uint8_t nines[4] = {9, 9, 9, 9};
    assert_int_equal(iam_hex_decode("0001abf", untouched, 4), IAM_EINVAL);   /* short */
    assert_int_equal(iam_hex_decode("0001ABFF", untouched, 4), IAM_EINVAL);  /* not what we encode */
    assert_int_equal(iam_hex_decode("0001abfg", untouched, 4), IAM_EINVAL);
    assert_int_equal(iam_hex_decode(" 001abff", untouched, 4), IAM_EINVAL);
    assert_memory_equal(untouched, nines, 4); /* a failed decode writes nothing */
    assert_int_equal(iam_hex_decode("", untouched, 0), IAM_OK);
    /* exactly 2*out_length digits are read, nothing after them (a file's newline, no NUL) */
    const char unterminated[9] = {'0', '0', '0', '1', 'a', 'b', 'f', 'f', '\n'};
    assert_int_equal(iam_hex_decode(unterminated, back, 4), IAM_OK);
    assert_memory_equal(back, bytes, sizeof bytes);
}

static void test_crc32(void **state)
{
    assert_int_equal(iam_crc32("123456789", 9), 0xCBF43926u);
    assert_int_equal(iam_crc32("", 0), 0);
    assert_int_equal(iam_crc32("a", 1), 0xE8B7BE43u);
    assert_int_equal(iam_crc32("The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64url_rfc4648_vectors),
        cmocka_unit_test(test_base64url_alphabet),
        cmocka_unit_test(test_base64url_round_trip),
        cmocka_unit_test(test_base64url_rejects_non_canonical),
        cmocka_unit_test(test_base64url_rejects_every_foreign_byte),
        cmocka_unit_test(test_base64url_rejects_embedded_nul),
        cmocka_unit_test(test_base64url_size_limits),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_crc32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
