/* test_crypto_aead.c: tests of src/crypto/aead.c (AES-256-GCM sealing of secrets at rest). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "crypto/aead.h"
#include "crypto/encoding.h"
#include "crypto/random.h"

static const char secret[] = "-----BEGIN PRIVATE KEY----- not really";
static const char aad[] = "signing-key:key-1";

static void fresh_key(uint8_t key[IAM_AEAD_KEY_SIZE])
{
    assert_int_equal(iam_random_bytes(key, IAM_AEAD_KEY_SIZE), IAM_OK);
}

static void test_round_trip(void **state)
{
    uint8_t key[IAM_AEAD_KEY_SIZE];
    uint8_t sealed[sizeof secret + IAM_AEAD_OVERHEAD];
    uint8_t opened[sizeof secret];
    fresh_key(key);
    assert_int_equal(iam_aead_seal(key, aad, strlen(aad), secret, sizeof secret, sealed), IAM_OK);
    assert_int_equal(iam_aead_open(key, aad, strlen(aad), sealed, sizeof sealed, opened), IAM_OK);
    assert_memory_equal(opened, secret, sizeof secret);
    /* the ciphertext does not contain the plaintext */
    assert_null(memmem(sealed, sizeof sealed, "BEGIN", 5));
}

static void test_empty_plaintext_and_aad(void **state)
{
    uint8_t key[IAM_AEAD_KEY_SIZE];
    uint8_t sealed[IAM_AEAD_OVERHEAD];
    fresh_key(key);
    assert_int_equal(iam_aead_seal(key, NULL, 0, NULL, 0, sealed), IAM_OK);
    assert_int_equal(iam_aead_open(key, NULL, 0, sealed, sizeof sealed, NULL), IAM_OK);
    sealed[IAM_AEAD_NONCE_SIZE] ^= 1; /* the tag still authenticates an empty message */
    assert_int_equal(iam_aead_open(key, NULL, 0, sealed, sizeof sealed, NULL), IAM_ECRYPTO);
}

/* Each seal draws a new nonce, so sealing the same secret twice gives different blobs. */
static void test_fresh_nonce(void **state)
{
    uint8_t key[IAM_AEAD_KEY_SIZE];
    uint8_t first[sizeof secret + IAM_AEAD_OVERHEAD];
    uint8_t second[sizeof secret + IAM_AEAD_OVERHEAD];
    fresh_key(key);
    assert_int_equal(iam_aead_seal(key, aad, strlen(aad), secret, sizeof secret, first), IAM_OK);
    assert_int_equal(iam_aead_seal(key, aad, strlen(aad), secret, sizeof secret, second), IAM_OK);
    assert_memory_not_equal(first, second, IAM_AEAD_NONCE_SIZE);
    assert_memory_not_equal(first + IAM_AEAD_NONCE_SIZE, second + IAM_AEAD_NONCE_SIZE, sizeof secret);
}

/* Known answer (GCM spec test case 14): zero key, zero nonce, 16 zero bytes, in our layout. */
static void test_known_answer(void **state)
{
    uint8_t key[IAM_AEAD_KEY_SIZE] = {0};
    uint8_t sealed[IAM_AEAD_NONCE_SIZE + 16 + IAM_AEAD_TAG_SIZE] = {0};
    uint8_t opened[16];
    const uint8_t zeros[16] = {0};
    assert_int_equal(iam_hex_decode("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919",
                                    sealed + IAM_AEAD_NONCE_SIZE, 32),
                     IAM_OK);
    assert_int_equal(iam_aead_open(key, NULL, 0, sealed, sizeof sealed, opened), IAM_OK);
    assert_memory_equal(opened, zeros, sizeof zeros);
    /* the same with AAD "aad" has another tag */
    assert_int_equal(iam_hex_decode("cea7403d4d606b6e074ec5d3baf39d180a4085ad973a2a6b31165f42ef29abc4",
                                    sealed + IAM_AEAD_NONCE_SIZE, 32),
                     IAM_OK);
    assert_int_equal(iam_aead_open(key, "aad", 3, sealed, sizeof sealed, opened), IAM_OK);
    assert_int_equal(iam_aead_open(key, NULL, 0, sealed, sizeof sealed, opened), IAM_ECRYPTO);
}

/* Flipping any bit anywhere (nonce, ciphertext, tag) fails, and no plaintext comes back. */
static void test_tampered_byte_fails(void **state)
{
    uint8_t key[IAM_AEAD_KEY_SIZE];
    uint8_t sealed[sizeof secret + IAM_AEAD_OVERHEAD];
    uint8_t opened[sizeof secret];
    const uint8_t zeros[sizeof secret] = {0};
    fresh_key(key);
    assert_int_equal(iam_aead_seal(key, aad, strlen(aad), secret, sizeof secret, sealed), IAM_OK);
    for (size_t i = 0; i < sizeof sealed; i++) {
        sealed[i] ^= 0x80;
        memset(opened, 0x55, sizeof opened);
        assert_int_equal(iam_aead_open(key, aad, strlen(aad), sealed, sizeof sealed, opened), IAM_ECRYPTO);
        assert_memory_equal(opened, zeros, sizeof opened);
        sealed[i] ^= 0x80;
    }
    assert_int_equal(iam_aead_open(key, aad, strlen(aad), sealed, sizeof sealed, opened), IAM_OK);
}

static void test_wrong_aad_fails(void **state)
{
    uint8_t key[IAM_AEAD_KEY_SIZE];
    uint8_t sealed[sizeof secret + IAM_AEAD_OVERHEAD];
    uint8_t opened[sizeof secret];
    fresh_key(key);
    assert_int_equal(iam_aead_seal(key, aad, strlen(aad), secret, sizeof secret, sealed), IAM_OK);
    assert_int_equal(iam_aead_open(key, "signing-key:key-2", strlen(aad), sealed, sizeof sealed, opened),
                     IAM_ECRYPTO);
    assert_int_equal(iam_aead_open(key, aad, strlen(aad) - 1, sealed, sizeof sealed, opened), IAM_ECRYPTO);
    assert_int_equal(iam_aead_open(key, NULL, 0, sealed, sizeof sealed, opened), IAM_ECRYPTO);
}

static void test_wrong_key_fails(void **state)
{
    uint8_t key[IAM_AEAD_KEY_SIZE];
    uint8_t other[IAM_AEAD_KEY_SIZE];
    uint8_t sealed[sizeof secret + IAM_AEAD_OVERHEAD];
    uint8_t opened[sizeof secret];
    fresh_key(key);
    memcpy(other, key, sizeof key);
    other[IAM_AEAD_KEY_SIZE - 1] ^= 1;
    assert_int_equal(iam_aead_seal(key, aad, strlen(aad), secret, sizeof secret, sealed), IAM_OK);
    assert_int_equal(iam_aead_open(other, aad, strlen(aad), sealed, sizeof sealed, opened), IAM_ECRYPTO);
}

static void test_truncated_blob(void **state)
{
    uint8_t key[IAM_AEAD_KEY_SIZE];
    uint8_t sealed[sizeof secret + IAM_AEAD_OVERHEAD];
    uint8_t opened[sizeof secret];
    fresh_key(key);
    assert_int_equal(iam_aead_seal(key, aad, strlen(aad), secret, sizeof secret, sealed), IAM_OK);
    assert_int_equal(iam_aead_open(key, aad, strlen(aad), sealed, IAM_AEAD_OVERHEAD - 1, opened), IAM_EINVAL);
    /* dropping the last byte shifts the tag: authentication fails */
    assert_int_equal(iam_aead_open(key, aad, strlen(aad), sealed, sizeof sealed - 1, opened), IAM_ECRYPTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_plaintext_and_aad),
        cmocka_unit_test(test_fresh_nonce),
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_tampered_byte_fails),
        cmocka_unit_test(test_wrong_aad_fails),
        cmocka_unit_test(test_wrong_key_fails),
        cmocka_unit_test(test_truncated_blob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
