/* test_crypto_keyformat.c: tests of src/crypto/keyformat.c (API key value format). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/keyformat.h"

static const char base62_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static const uint8_t sample_id[IAM_KEYFORMAT_KEY_ID_BYTES] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                                              0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static void test_prefix_valid(void **state)
{
    assert_true(iam_keyformat_prefix_valid("iamd"));
    assert_true(iam_keyformat_prefix_valid("a"));
    assert_true(iam_keyformat_prefix_valid("abcdefghij012345")); /* 16 */
    assert_false(iam_keyformat_prefix_valid("abcdefghij0123456")); /* 17 */
    assert_false(iam_keyformat_prefix_valid(""));
    assert_false(iam_keyformat_prefix_valid(NULL));
    assert_false(iam_keyformat_prefix_valid("Iamd"));
    assert_false(iam_keyformat_prefix_valid("iam_d"));
    assert_false(iam_keyformat_prefix_valid("iam-d"));
}

static void test_generate_then_inspect(void **state)
{
    char value[IAM_KEYFORMAT_VALUE_SIZE];
    struct iam_keyformat_info info;
    assert_int_equal(iam_keyformat_generate(IAM_KEYFORMAT_DEFAULT_PREFIX, sample_id, value), IAM_OK);
    assert_int_equal(strlen(value), strlen("iamd_") + 22 + 43 + 6);
    assert_memory_equal(value, "iamd_", 5);
    /* The id field is the big-endian base62 of the 16 id bytes (computed independently). */
    assert_memory_equal(value + 5, "007pSo2b9TNg1cedavCe7z", 22);
    for (const char *c = value + 5; *c; c++)
        assert_non_null(strchr(base62_alphabet, *c));

    assert_int_equal(iam_keyformat_inspect("iamd", value, &info), IAM_OK);
    assert_true(info.recognised);
    assert_true(info.checksum_valid);
    assert_memory_equal(info.key_id, sample_id, sizeof sample_id);
    assert_string_equal(info.key_id_text, "ApiKey-00112233-4455-6677-8899-aabbccddeeff");
}

/* As keyformat.h documents: the last 6 digits are the CRC-32 of everything before them. */
static void test_checksum_covers_prefix_and_body(void **state)
{
    char value[IAM_KEYFORMAT_VALUE_SIZE];
    assert_int_equal(iam_keyformat_generate("scan", sample_id, value), IAM_OK);
    size_t length = strlen(value);
    uint64_t stored = 0;
    for (size_t i = length - 6; i < length; i++)
        stored = stored * 62 + (uint64_t)(strchr(base62_alphabet, value[i]) - base62_alphabet);
    assert_int_equal(stored, iam_crc32(value, length - 6));
}

/* Two values for the same id differ in their secret. */
static void test_generate_fresh_secret(void **state)
{
    char first[IAM_KEYFORMAT_VALUE_SIZE];
    char second[IAM_KEYFORMAT_VALUE_SIZE];
    assert_int_equal(iam_keyformat_generate("iamd", sample_id, first), IAM_OK);
    assert_int_equal(iam_keyformat_generate("iamd", sample_id, second), IAM_OK);
    assert_memory_equal(first, second, 5 + 22);
    assert_memory_not_equal(first + 5 + 22, second + 5 + 22, 43);
}

/* Extreme ids: all zero pads with '0'; all 0xff is the largest 22-digit field we produce. */
static void test_extreme_ids(void **state)
{
    uint8_t zeros[IAM_KEYFORMAT_KEY_ID_BYTES] = {0};
    uint8_t ones[IAM_KEYFORMAT_KEY_ID_BYTES];
    char value[IAM_KEYFORMAT_VALUE_SIZE];
    struct iam_keyformat_info info;
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(iam_keyformat_generate("k", zeros, value), IAM_OK);
    assert_memory_equal(value, "k_0000000000000000000000", 24);
    assert_int_equal(iam_keyformat_inspect("k", value, &info), IAM_OK);
    assert_memory_equal(info.key_id, zeros, sizeof zeros);
    assert_int_equal(iam_keyformat_generate("k", ones, value), IAM_OK);
    assert_memory_equal(value, "k_7n42DGM5Tflk9n8mt7Fhc7", 24);
    assert_int_equal(iam_keyformat_inspect("k", value, &info), IAM_OK);
    assert_memory_equal(info.key_id, ones, sizeof ones);
}

/* CRC-32 catches any single changed byte, and a changed CRC digit decodes to another number. */
static void test_every_single_character_change_fails(void **state)
{
    char value[IAM_KEYFORMAT_VALUE_SIZE];
    char changed[IAM_KEYFORMAT_VALUE_SIZE];
    struct iam_keyformat_info info;
    static const char extra[] = "_-+/=. \x7f\x80\xff";
    assert_int_equal(iam_keyformat_generate("iamd", sample_id, value), IAM_OK);
    size_t length = strlen(value);
    size_t tried = 0;
    for (size_t position = 0; position < length; position++) {
        for (size_t k = 0; k < sizeof base62_alphabet - 1 + sizeof extra - 1; k++) {
            char replacement = k < sizeof base62_alphabet - 1 ? base62_alphabet[k]
                                                              : extra[k - (sizeof base62_alphabet - 1)];
            if (replacement == value[position])
                continue;
            memcpy(changed, value, length + 1);
            changed[position] = replacement;
            assert_int_not_equal(iam_keyformat_inspect("iamd", changed, &info), IAM_OK);
            assert_false(info.checksum_valid);
            tried++;
        }
    }
    assert_true(tried > 70 * 62);
}

static void test_wrong_prefix_not_recognised(void **state)
{
    char value[IAM_KEYFORMAT_VALUE_SIZE];
    struct iam_keyformat_info info;
    assert_int_equal(iam_keyformat_generate("other", sample_id, value), IAM_OK);
    assert_int_equal(iam_keyformat_inspect("other", value, &info), IAM_OK);
    assert_int_equal(iam_keyformat_inspect("iamd", value, &info), IAM_EINVAL);
    assert_false(info.recognised);
    assert_false(info.checksum_valid);
    /* a prefix that is a prefix of the real one */
    assert_int_equal(iam_keyformat_inspect("oth", value, &info), IAM_EINVAL);
    assert_false(info.recognised);
    /* an invalid expected prefix recognises nothing */
    assert_int_equal(iam_keyformat_inspect("OTHER", value, &info), IAM_EINVAL);
    assert_false(info.recognised);
}

/* An IBM-style 44-character key a client chose itself is not in our format. */
static void test_ibm_style_value_not_recognised(void **state)
{
    struct iam_keyformat_info info;
    const char *ibm = "0wUsZ2u3y9_ZAXxR8A_jfQ4TJqtkkD4aDD6uEsvmXCbq";
    assert_int_equal(strlen(ibm), 44);
    assert_int_equal(iam_keyformat_inspect("iamd", ibm, &info), IAM_EINVAL);
    assert_false(info.recognised);
    assert_false(info.checksum_valid);
    assert_string_equal(info.key_id_text, "");
}

static void test_wrong_length_not_recognised(void **state)
{
    char value[IAM_KEYFORMAT_VALUE_SIZE];
    char longer[IAM_KEYFORMAT_VALUE_SIZE + 1];
    struct iam_keyformat_info info;
    assert_int_equal(iam_keyformat_generate("iamd", sample_id, value), IAM_OK);
    size_t length = strlen(value);
    value[length - 1] = '\0';
    assert_int_equal(iam_keyformat_inspect("iamd", value, &info), IAM_EINVAL);
    assert_false(info.recognised);
    assert_int_equal(iam_keyformat_generate("iamd", sample_id, value), IAM_OK);
    snprintf(longer, sizeof longer, "%s0", value);
    assert_int_equal(iam_keyformat_inspect("iamd", longer, &info), IAM_EINVAL);
    assert_false(info.recognised);
    assert_int_equal(iam_keyformat_inspect("iamd", "", &info), IAM_EINVAL);
    assert_int_equal(iam_keyformat_inspect("iamd", "iamd_", &info), IAM_EINVAL);
    assert_int_equal(iam_keyformat_inspect("iamd", NULL, &info), IAM_EINVAL);
}

/* Right shape and alphabet but a field beyond its byte width: not a value we make. */
static void test_overflowing_field_not_recognised(void **state)
{
    char value[IAM_KEYFORMAT_VALUE_SIZE];
    struct iam_keyformat_info info;
    memcpy(value, "iamd_", 5);
    memset(value + 5, 'z', 71);
    value[76] = '\0';
    assert_int_equal(iam_keyformat_inspect("iamd", value, &info), IAM_EINVAL);
    assert_false(info.recognised);
}

/* Recognised shape, bad checksum: the id is still reported (for logs), but not valid. */
static void test_bad_checksum_reports_id(void **state)
{
    char value[IAM_KEYFORMAT_VALUE_SIZE];
    struct iam_keyformat_info info;
    assert_int_equal(iam_keyformat_generate("iamd", sample_id, value), IAM_OK);
    value[5 + 22 + 10] = value[5 + 22 + 10] == 'A' ? 'B' : 'A'; /* inside the secret */
    assert_int_equal(iam_keyformat_inspect("iamd", value, &info), IAM_EINVAL);
    assert_true(info.recognised);
    assert_false(info.checksum_valid);
    assert_memory_equal(info.key_id, sample_id, sizeof sample_id);
    assert_string_equal(info.key_id_text, "ApiKey-00112233-4455-6677-8899-aabbccddeeff");
}

static void test_generate_rejects_bad_prefix(void **state)
{
    char value[IAM_KEYFORMAT_VALUE_SIZE];
    assert_int_equal(iam_keyformat_generate("", sample_id, value), IAM_EINVAL);
    assert_int_equal(iam_keyformat_generate("IAMD", sample_id, value), IAM_EINVAL);
    assert_int_equal(iam_keyformat_generate("abcdefghij0123456", sample_id, value), IAM_EINVAL);
    assert_int_equal(iam_keyformat_generate("iamd", NULL, value), IAM_EINVAL);
    /* the longest prefix still fits the documented buffer */
    assert_int_equal(iam_keyformat_generate("abcdefghij012345", sample_id, value), IAM_OK);
    assert_true(strlen(value) < IAM_KEYFORMAT_VALUE_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_valid),
        cmocka_unit_test(test_generate_then_inspect),
        cmocka_unit_test(test_checksum_covers_prefix_and_body),
        cmocka_unit_test(test_generate_fresh_secret),
        cmocka_unit_test(test_extreme_ids),
        cmocka_unit_test(test_every_single_character_change_fails),
        cmocka_unit_test(test_wrong_prefix_not_recognised),
        cmocka_unit_test(test_ibm_style_value_not_recognised),
        cmocka_unit_test(test_wrong_length_not_recognised),
        cmocka_unit_test(test_overflowing_field_not_recognised),
        cmocka_unit_test(test_bad_checksum_reports_id),
        cmocka_unit_test(test_generate_rejects_bad_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
