/*
 * test_crypto_jwt.c: tests of src/crypto/signing_key.c, jwk.c and jwt.c: signing
 * keys, JWS sign/verify for RS256, ES256 and EdDSA, JWK export/import, and the
 * attacks verification must refuse. Forged tokens are signed here with OpenSSL
 * directly, independently of the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/jwt.h"

#define NOW 1700000000
#define LEEWAY 30
#define ISSUER "https://iam.test/identity"

enum { RS, ES, ED, ALG_COUNT };

struct fixture {
    struct iam_signing_key *keys[ALG_COUNT];
    EVP_PKEY *pkeys[ALG_COUNT]; /* the same private keys, loaded by the test itself */
};

static struct fixture fixture;
static const char *const kids[ALG_COUNT] = {"rsa-key.1", "ec_key-1", "ed.key-1"};
static const enum iam_jwt_alg algs[ALG_COUNT] = {IAM_JWT_RS256, IAM_JWT_ES256, IAM_JWT_EDDSA};

static struct iam_jwt_verify_options default_options(void)
{
    struct iam_jwt_verify_options options = {
        .issuer = ISSUER, .now = NOW, .leeway = LEEWAY, .max_length = 0, .require_exp = true};
    return options;
}

static EVP_PKEY *pkey_from_key(const struct iam_signing_key *key)
{
    char *pem = NULL;
    size_t pem_length = 0;
    assert_int_equal(iam_signing_key_private_pem(key, &pem, &pem_length), IAM_OK);
    assert_int_equal(strlen(pem), pem_length);
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_length);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);
    assert_non_null(pkey);
    return pkey;
}

static int group_setup(void **state)
{
    for (int i = 0; i < ALG_COUNT; i++) {
        if (iam_signing_key_generate(algs[i], kids[i], &fixture.keys[i]) != IAM_OK)
            return -1;
        fixture.pkeys[i] = pkey_from_key(fixture.keys[i]);
    }
    return 0;
}

static int group_teardown(void **state)
{
    for (int i = 0; i < ALG_COUNT; i++) {
        iam_signing_key_free(fixture.keys[i]);
        EVP_PKEY_free(fixture.pkeys[i]);
    }
    return 0;
}

/* ---- helpers ---- */

static char *b64(const void *data, size_t length)
{
    size_t size = iam_base64url_encoded_size(length);
    char *text = malloc(size);
    assert_non_null(text);
    assert_int_equal(iam_base64url_encode(data, length, text, size), IAM_OK);
    return text;
}

static uint8_t *unb64(const char *text, size_t text_length, size_t *length)
{
    uint8_t *bytes = malloc(text_length + 1);
    assert_non_null(bytes);
    assert_int_equal(iam_base64url_decode(text, text_length, bytes, text_length + 1, length), IAM_OK);
    return bytes;
}

/* "<b64 header>.<b64 payload>" from JSON texts. */
static char *signing_input(const char *header, const char *payload)
{
    char *h = b64(header, strlen(header));
    char *p = b64(payload, strlen(payload));
    size_t size = strlen(h) + strlen(p) + 2;
    char *input = malloc(size);
    assert_non_null(input);
    snprintf(input, size, "%s.%s", h, p);
    free(h);
    free(p);
    return input;
}

static char *join(const char *input, const uint8_t *signature, size_t signature_length)
{
    char *s = b64(signature, signature_length);
    size_t size = strlen(input) + strlen(s) + 2;
    char *token = malloc(size);
    assert_non_null(token);
    snprintf(token, size, "%s.%s", input, s);
    free(s);
    return token;
}

/* Signs like a JWS library would, with OpenSSL directly: RS256, ES256 (r||s) or EdDSA. */
static char *forge(int which, const char *header, const char *payload)
{
    char *input = signing_input(header, payload);
    uint8_t signature[512];
    size_t signature_length = sizeof signature;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, which == ED ? NULL : EVP_sha256(), NULL, fixture.pkeys[which]),
                     1);
    assert_int_equal(EVP_DigestSign(ctx, signature, &signature_length, (const uint8_t *)input, strlen(input)), 1);
    EVP_MD_CTX_free(ctx);
    if (which == ES) {
        const unsigned char *cursor = signature;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &cursor, (long)signature_length);
        assert_non_null(sig);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), signature, 32), 32);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(sig), signature + 32, 32), 32);
        ECDSA_SIG_free(sig);
        signature_length = 64;
    }
    char *token = join(input, signature, signature_length);
    free(input);
    return token;
}

static char *header_for(int which)
{
    static char header[160];
    snprintf(header, sizeof header, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
             iam_jwt_alg_name(algs[which]), kids[which]);
    return header;
}

static char *valid_payload(void)
{
    static char payload[200];
    snprintf(payload, sizeof payload, "{\"iss\":\"%s\",\"sub\":\"iam-ServiceId-1\",\"iat\":%d,\"exp\":%d}", ISSUER,
             NOW - 10, NOW + 3600);
    return payload;
}

static json_t *valid_claims(void)
{
    json_t *claims = json_pack("{s:s, s:s, s:I, s:I, s:s, s:{s:[i,i]}}", "iss", ISSUER, "sub", "iam-ServiceId-1",
                               "iat", (json_int_t)(NOW - 10), "exp", (json_int_t)(NOW + 3600), "scope", "ibm openid",
                               "account", "bss", 1, 2);
    assert_non_null(claims);
    return claims;
}

static char *sign_claims(int which, json_t *claims)
{
    char *token = NULL;
    assert_int_equal(iam_jwt_sign(fixture.keys[which], claims, &token), IAM_OK);
    assert_non_null(token);
    return token;
}

static void expect_accept(const char *token, const struct iam_jwt_verify_options *options)
{
    json_t *claims = NULL;
    const char *reason = "unset";
    const struct iam_signing_key *const *keys = (const struct iam_signing_key *const *)fixture.keys;
    enum iam_result result = iam_jwt_verify(keys, ALG_COUNT, token, options, &claims, &reason);
    if (result != IAM_OK)
        fail_msg("rejected: %s", reason ? reason : "(no reason)");
    assert_non_null(claims);
    json_decref(claims);
}

static void expect_reject_with(const struct iam_signing_key *const *keys, size_t key_count, const char *token,
                               const struct iam_jwt_verify_options *options, const char *expected_reason)
{
    json_t *claims = (json_t *)1;
    const char *reason = NULL;
    assert_int_equal(iam_jwt_verify(keys, key_count, token, options, &claims, &reason), IAM_EUNAUTH);
    assert_null(claims);
    assert_non_null(reason);
    if (expected_reason)
        assert_string_equal(reason, expected_reason);
}

static void expect_reject(const char *token, const struct iam_jwt_verify_options *options, const char *expected_reason)
{
    expect_reject_with((const struct iam_signing_key *const *)fixture.keys, ALG_COUNT, token, options,
                       expected_reason);
}

/* Index of the n-th '.' in token. */
static size_t dot(const char *token, int n)
{
    const char *cursor = token;
    for (int i = 0; i <= n; i++) {
        cursor = strchr(i ? cursor + 1 : cursor, '.');
        assert_non_null(cursor);
    }
    return (size_t)(cursor - token);
}

/* ---- names and kids ---- */

static void test_alg_names(void **state)
{
    enum iam_jwt_alg alg;
    for (int i = 0; i < ALG_COUNT; i++) {
        assert_int_equal(iam_jwt_alg_parse(iam_jwt_alg_name(algs[i]), &alg), IAM_OK);
        assert_int_equal(alg, algs[i]);
    }
    assert_string_equal(iam_jwt_alg_name(IAM_JWT_EDDSA), "EdDSA");
    assert_int_equal(iam_jwt_alg_parse("rs256", &alg), IAM_EINVAL);
    assert_int_equal(iam_jwt_alg_parse("none", &alg), IAM_EINVAL);
    assert_int_equal(iam_jwt_alg_parse("HS256", &alg), IAM_EINVAL);
    assert_int_equal(iam_jwt_alg_parse("Ed25519", &alg), IAM_EINVAL);
    assert_int_equal(iam_jwt_alg_parse(NULL, &alg), IAM_EINVAL);
}

static void test_kid_rules(void **state)
{
    struct iam_signing_key *key = NULL;
    char longest[IAM_JWT_KID_MAX + 2];
    memset(longest, 'k', IAM_JWT_KID_MAX);
    longest[IAM_JWT_KID_MAX] = '\0';
    assert_int_equal(iam_signing_key_generate(IAM_JWT_EDDSA, longest, &key), IAM_OK);
    assert_string_equal(iam_signing_key_kid(key), longest);
    assert_int_equal(iam_signing_key_alg(key), IAM_JWT_EDDSA);
    assert_true(iam_signing_key_can_sign(key));
    iam_signing_key_free(key);
    longest[IAM_JWT_KID_MAX] = 'k';
    longest[IAM_JWT_KID_MAX + 1] = '\0';
    const char *bad[] = {"", longest, "a b", "a/b", "a\"b", "k\xc3\xa9", "a:b", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        key = (struct iam_signing_key *)1;
        assert_int_equal(iam_signing_key_generate(IAM_JWT_EDDSA, bad[i], &key), IAM_EINVAL);
        assert_null(key);
    }
    iam_signing_key_free(NULL);
}

/* ---- sign and verify ---- */

static void test_sign_verify_each_alg(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    for (int i = 0; i < ALG_COUNT; i++) {
        json_t *claims = valid_claims();
        char *token = sign_claims(i, claims);
        /* the header is exactly what jwt.h promises */
        size_t header_length = 0;
        uint8_t *header = unb64(token, dot(token, 0), &header_length);
        char expected[160];
        snprintf(expected, sizeof expected, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
                 iam_jwt_alg_name(algs[i]), kids[i]);
        assert_int_equal(header_length, strlen(expected));
        assert_memory_equal(header, expected, header_length);
        free(header);

        json_t *verified = NULL;
        const char *reason = "unset";
        const struct iam_signing_key *const *keys = (const struct iam_signing_key *const *)fixture.keys;
        assert_int_equal(iam_jwt_verify(keys, ALG_COUNT, token, &options, &verified, &reason), IAM_OK);
        assert_null(reason);
        assert_true(json_equal(verified, claims));
        json_decref(verified);
        /* the key alone (a set of one) is enough */
        assert_int_equal(iam_jwt_verify(keys + i, 1, token, &options, &verified, NULL), IAM_OK);
        json_decref(verified);
        free(token);
        json_decref(claims);
    }
}

static void test_sign_rejects_bad_input(void **state)
{
    char *token = (char *)1;
    json_t *array = json_array();
    assert_int_equal(iam_jwt_sign(fixture.keys[RS], array, &token), IAM_EINVAL);
    assert_null(token);
    assert_int_equal(iam_jwt_sign(fixture.keys[RS], NULL, &token), IAM_EINVAL);
    json_decref(array);
}

/* Tokens forged here with plain OpenSSL verify: our signature layout matches the standard. */
static void test_interop_with_openssl(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    for (int i = 0; i < ALG_COUNT; i++) {
        char *token = forge(i, header_for(i), valid_payload());
        expect_accept(token, &options);
        free(token);
    }
}

/* Our RS256 and EdDSA signatures verify with OpenSSL directly. */
static void test_signatures_verify_with_openssl(void **state)
{
    const int which[] = {RS, ED};
    for (size_t k = 0; k < 2; k++) {
        int i = which[k];
        json_t *claims = valid_claims();
        char *token = sign_claims(i, claims);
        size_t input_length = dot(token, 1);
        size_t signature_length = 0;
        uint8_t *signature = unb64(token + input_length + 1, strlen(token) - input_length - 1, &signature_length);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, i == ED ? NULL : EVP_sha256(), NULL, fixture.pkeys[i]), 1);
        assert_int_equal(EVP_DigestVerify(ctx, signature, signature_length, (const uint8_t *)token, input_length), 1);
        EVP_MD_CTX_free(ctx);
        free(signature);
        free(token);
        json_decref(claims);
    }
}

/* JWS ES256 is r||s, exactly 64 bytes, not DER; and it verifies with OpenSSL once converted. */
static void test_es256_signature_is_64_bytes(void **state)
{
    for (int round = 0; round < 20; round++) {
        json_t *claims = valid_claims();
        char *token = sign_claims(ES, claims);
        size_t input_length = dot(token, 1);
        size_t signature_length = 0;
        uint8_t *signature = unb64(token + input_length + 1, strlen(token) - input_length - 1, &signature_length);
        assert_int_equal(signature_length, 64);
        assert_int_equal(strlen(token) - input_length - 1, 86);

        ECDSA_SIG *sig = ECDSA_SIG_new();
        assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(signature, 32, NULL), BN_bin2bn(signature + 32, 32, NULL)),
                         1);
        unsigned char *der = NULL;
        int der_length = i2d_ECDSA_SIG(sig, &der);
        assert_true(der_length > 0);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, fixture.pkeys[ES]), 1);
        assert_int_equal(EVP_DigestVerify(ctx, der, (size_t)der_length, (const uint8_t *)token, input_length), 1);
        EVP_MD_CTX_free(ctx);
        OPENSSL_free(der);
        ECDSA_SIG_free(sig);
        free(signature);
        free(token);
        json_decref(claims);
    }
}

/* Pooled signing contexts must still draw a fresh ECDSA nonce per token: r never repeats. */
static void test_es256_fresh_nonce_per_token(void **state)
{
    json_t *claims = valid_claims();
    char *first = sign_claims(ES, claims);
    char *second = sign_claims(ES, claims);
    size_t at = dot(first, 1) + 1;
    assert_int_equal(at, dot(second, 1) + 1);
    assert_memory_equal(first, second, at); /* same header and payload */
    assert_memory_not_equal(first + at, second + at, 42); /* the first 42 characters encode r */
    free(first);
    free(second);
    json_decref(claims);
}

/* ---- PEM ---- */

static void test_pem_round_trip(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    for (int i = 0; i < ALG_COUNT; i++) {
        char *pem = NULL;
        size_t pem_length = 0;
        struct iam_signing_key *loaded = NULL;
        struct iam_signing_key *wrong = (struct iam_signing_key *)1;
        assert_int_equal(iam_signing_key_private_pem(fixture.keys[i], &pem, &pem_length), IAM_OK);
        assert_memory_equal(pem, "-----BEGIN PRIVATE KEY-----\n", 28); /* PKCS#8 */
        assert_int_equal(iam_signing_key_from_pem(algs[i], kids[i], pem, pem_length, &loaded), IAM_OK);
        assert_int_equal(iam_signing_key_from_pem(algs[(i + 1) % ALG_COUNT], kids[i], pem, pem_length, &wrong),
                         IAM_EINVAL);
        assert_null(wrong);
        /* a token from the reloaded key verifies against the original */
        json_t *claims = valid_claims();
        char *token = NULL;
        assert_int_equal(iam_jwt_sign(loaded, claims, &token), IAM_OK);
        expect_accept(token, &options);
        free(token);
        json_decref(claims);
        iam_signing_key_free(loaded);
        free(pem);
    }
}

static char *pem_of(EVP_PKEY *pkey, bool public_only, const EVP_CIPHER *cipher)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (public_only) {
        assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
    } else {
        char passphrase[] = "passphrase";
        assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, pkey, cipher, cipher ? passphrase : NULL,
                                                       cipher ? (int)strlen(passphrase) : 0, NULL, NULL),
                         1);
    }
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    char *copy = strndup(data, (size_t)length);
    BIO_free(bio);
    return copy;
}

static void test_pem_rejects(void **state)
{
    struct iam_signing_key *key = (struct iam_signing_key *)1;
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_int_equal(iam_signing_key_from_pem(IAM_JWT_RS256, "k", garbage, sizeof garbage - 1, &key), IAM_EINVAL);
    assert_null(key);

    /* a public key is not a private key */
    char *pem = pem_of(fixture.pkeys[RS], true, NULL);
    assert_int_equal(iam_signing_key_from_pem(IAM_JWT_RS256, "k", pem, strlen(pem), &key), IAM_EINVAL);
    free(pem);

    /* an encrypted key fails (and never prompts for a passphrase) */
    pem = pem_of(fixture.pkeys[RS], false, EVP_aes_256_cbc());
    assert_int_equal(iam_signing_key_from_pem(IAM_JWT_RS256, "k", pem, strlen(pem), &key), IAM_EINVAL);
    free(pem);

    /* RSA-1024 is too small for RS256 */
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    pem = pem_of(small, false, NULL);
    assert_int_equal(iam_signing_key_from_pem(IAM_JWT_RS256, "k", pem, strlen(pem), &key), IAM_EINVAL);
    free(pem);
    EVP_PKEY_free(small);

    /* ES256 means P-256, not another curve */
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    pem = pem_of(p384, false, NULL);
    assert_int_equal(iam_signing_key_from_pem(IAM_JWT_ES256, "k", pem, strlen(pem), &key), IAM_EINVAL);
    free(pem);
    EVP_PKEY_free(p384);

    /* a bad kid fails before anything is parsed */
    pem = pem_of(fixture.pkeys[ED], false, NULL);
    assert_int_equal(iam_signing_key_from_pem(IAM_JWT_EDDSA, "bad kid", pem, strlen(pem), &key), IAM_EINVAL);
    assert_int_equal(iam_signing_key_from_pem(IAM_JWT_EDDSA, "ok", pem, strlen(pem), &key), IAM_OK);
    iam_signing_key_free(key);
    free(pem);
}

/* ---- JWK ---- */

static size_t member_decoded_length(const json_t *jwk, const char *name)
{
    const char *text = json_string_value(json_object_get(jwk, name));
    assert_non_null(text);
    size_t length = 0;
    free(unb64(text, strlen(text), &length));
    return length;
}

static void test_jwk_shape(void **state)
{
    json_t *rsa = iam_signing_key_public_jwk(fixture.keys[RS]);
    json_t *ec = iam_signing_key_public_jwk(fixture.keys[ES]);
    json_t *ed = iam_signing_key_public_jwk(fixture.keys[ED]);
    assert_non_null(rsa);
    assert_non_null(ec);
    assert_non_null(ed);
    assert_string_equal(json_string_value(json_object_get(rsa, "kty")), "RSA");
    assert_string_equal(json_string_value(json_object_get(rsa, "e")), "AQAB");
    assert_int_equal(member_decoded_length(rsa, "n"), 256);
    assert_string_equal(json_string_value(json_object_get(rsa, "alg")), "RS256");
    assert_string_equal(json_string_value(json_object_get(rsa, "kid")), kids[RS]);
    assert_string_equal(json_string_value(json_object_get(rsa, "use")), "sig");
    assert_null(json_object_get(rsa, "d"));
    assert_string_equal(json_string_value(json_object_get(ec, "kty")), "EC");
    assert_string_equal(json_string_value(json_object_get(ec, "crv")), "P-256");
    assert_int_equal(member_decoded_length(ec, "x"), 32);
    assert_int_equal(member_decoded_length(ec, "y"), 32);
    assert_string_equal(json_string_value(json_object_get(ec, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(ec, "use")), "sig");
    assert_null(json_object_get(ec, "d"));
    assert_string_equal(json_string_value(json_object_get(ed, "kty")), "OKP");
    assert_string_equal(json_string_value(json_object_get(ed, "crv")), "Ed25519");
    assert_int_equal(member_decoded_length(ed, "x"), 32);
    assert_string_equal(json_string_value(json_object_get(ed, "alg")), "EdDSA");
    assert_string_equal(json_string_value(json_object_get(ed, "use")), "sig");
    assert_null(json_object_get(ed, "d"));
    json_decref(rsa);
    json_decref(ec);
    json_decref(ed);
}

/* Public JWK -> text (as published) -> verify-only key, which verifies but cannot sign. */
static void test_jwks_round_trip(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    for (int i = 0; i < ALG_COUNT; i++) {
        json_t *jwk = iam_signing_key_public_jwk(fixture.keys[i]);
        char *text = json_dumps(jwk, JSON_COMPACT);
        json_t *parsed = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        struct iam_signing_key *public_key = NULL;
        assert_int_equal(iam_signing_key_from_public_jwk(parsed, &public_key), IAM_OK);
        assert_false(iam_signing_key_can_sign(public_key));
        assert_string_equal(iam_signing_key_kid(public_key), kids[i]);
        assert_int_equal(iam_signing_key_alg(public_key), algs[i]);

        json_t *again = iam_signing_key_public_jwk(public_key);
        assert_true(json_equal(again, jwk));

        json_t *claims = valid_claims();
        char *token = sign_claims(i, claims);
        const struct iam_signing_key *keys[] = {public_key};
        json_t *verified = NULL;
        assert_int_equal(iam_jwt_verify(keys, 1, token, &options, &verified, NULL), IAM_OK);
        assert_true(json_equal(verified, claims));

        char *forged = (char *)1;
        char *pem = (char *)1;
        size_t pem_length = 1;
        assert_int_equal(iam_jwt_sign(public_key, claims, &forged), IAM_EINVAL);
        assert_null(forged);
        assert_int_equal(iam_signing_key_private_pem(public_key, &pem, &pem_length), IAM_EINVAL);
        assert_null(pem);

        json_decref(verified);
        free(token);
        json_decref(claims);
        json_decref(again);
        iam_signing_key_free(public_key);
        json_decref(parsed);
        free(text);
        json_decref(jwk);
    }
}

/* Builds a key from a modified copy of key `which`'s JWK; expects IAM_EINVAL. */
static void expect_jwk_rejected(int which, const char *member, json_t *value)
{
    json_t *jwk = iam_signing_key_public_jwk(fixture.keys[which]);
    if (value)
        json_object_set_new(jwk, member, value);
    else
        json_object_del(jwk, member);
    struct iam_signing_key *key = (struct iam_signing_key *)1;
    assert_int_equal(iam_signing_key_from_public_jwk(jwk, &key), IAM_EINVAL);
    assert_null(key);
    json_decref(jwk);
}

enum edit { FLIP_LAST_BIT, DROP_LAST_BYTE, DROP_FIRST_BYTE };

/* The JWK's member `name` decoded, changed by `edit`, re-encoded. */
static json_t *edited_member(int which, const char *name, enum edit edit)
{
    json_t *jwk = iam_signing_key_public_jwk(fixture.keys[which]);
    const char *text = json_string_value(json_object_get(jwk, name));
    size_t length = 0;
    uint8_t *bytes = unb64(text, strlen(text), &length);
    switch (edit) {
    case FLIP_LAST_BIT: bytes[length - 1] ^= 1; break;
    case DROP_LAST_BYTE: length--; break;
    case DROP_FIRST_BYTE: memmove(bytes, bytes + 1, --length); break;
    }
    char *encoded = b64(bytes, length);
    json_t *value = json_string(encoded);
    free(encoded);
    free(bytes);
    json_decref(jwk);
    return value;
}

static void test_jwk_import_rejects(void **state)
{
    struct iam_signing_key *key = (struct iam_signing_key *)1;
    assert_int_equal(iam_signing_key_from_public_jwk(NULL, &key), IAM_EINVAL);
    json_t *array = json_array();
    assert_int_equal(iam_signing_key_from_public_jwk(array, &key), IAM_EINVAL);
    json_decref(array);

    expect_jwk_rejected(RS, "kid", NULL);
    expect_jwk_rejected(RS, "kid", json_string("has space"));
    expect_jwk_rejected(RS, "alg", NULL);
    expect_jwk_rejected(RS, "alg", json_string("HS256"));
    expect_jwk_rejected(RS, "alg", json_string("ES256")); /* kty RSA disagrees */
    expect_jwk_rejected(RS, "use", json_string("enc"));
    expect_jwk_rejected(RS, "kty", json_string("EC"));
    expect_jwk_rejected(RS, "n", json_string("AQAB=="));
    expect_jwk_rejected(RS, "n", edited_member(RS, "n", DROP_FIRST_BYTE)); /* 2040 bits */
    expect_jwk_rejected(RS, "n", edited_member(RS, "n", FLIP_LAST_BIT));   /* even modulus */
    expect_jwk_rejected(RS, "e", json_string("Aw"));                       /* e = 3 */
    expect_jwk_rejected(RS, "e", json_string("AQAD"));                     /* e = 65539 */
    expect_jwk_rejected(RS, "d", json_string("AQAB"));                     /* private material */
    expect_jwk_rejected(ES, "crv", json_string("P-384"));
    expect_jwk_rejected(ES, "x", edited_member(ES, "x", DROP_LAST_BYTE));
    expect_jwk_rejected(ES, "y", edited_member(ES, "y", FLIP_LAST_BIT)); /* off the curve */
    expect_jwk_rejected(ES, "y", NULL);
    expect_jwk_rejected(ES, "alg", json_string("RS256"));
    expect_jwk_rejected(ED, "crv", json_string("Ed448"));
    expect_jwk_rejected(ED, "x", edited_member(ED, "x", DROP_LAST_BYTE));
    expect_jwk_rejected(ED, "kty", json_string("EC"));
    expect_jwk_rejected(ED, "d", json_string("AAAA"));
}

/* ---- attacks ---- */

static void test_alg_none_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    char header[160];
    snprintf(header, sizeof header, "{\"alg\":\"none\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kids[RS]);
    char *input = signing_input(header, valid_payload());
    size_t size = strlen(input) + 2;
    char *token = malloc(size);
    snprintf(token, size, "%s.", input);
    expect_reject(token, &options, NULL); /* empty signature */
    free(token);
    token = join(input, (const uint8_t *)"x", 1);
    expect_reject(token, &options, "algorithm mismatch");
    free(token);
    free(input);
}

static char *hs256_token(const char *kid, const void *secret, size_t secret_length)
{
    char header[160];
    snprintf(header, sizeof header, "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    char *input = signing_input(header, valid_payload());
    uint8_t mac[32];
    unsigned int mac_length = sizeof mac;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)secret_length, (const uint8_t *)input, strlen(input), mac,
                         &mac_length));
    char *token = join(input, mac, mac_length);
    free(input);
    return token;
}

/* The classic key-confusion attack: HS256 keyed with the public key the server publishes. */
static void test_hs256_with_public_key_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    for (int i = 0; i < ALG_COUNT; i++) {
        char *pem = pem_of(fixture.pkeys[i], true, NULL);
        char *token = hs256_token(kids[i], pem, strlen(pem));
        expect_reject(token, &options, "algorithm mismatch");
        free(token);
        free(pem);

        json_t *jwk = iam_signing_key_public_jwk(fixture.keys[i]);
        char *jwk_text = json_dumps(jwk, JSON_COMPACT);
        token = hs256_token(kids[i], jwk_text, strlen(jwk_text));
        expect_reject(token, &options, "algorithm mismatch");
        free(token);
        free(jwk_text);
        json_decref(jwk);
    }
}

static void test_alg_mismatch_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    char header[160];
    /* ES256 header and a genuine ES256 signature, but naming the RSA key */
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kids[RS]);
    char *token = forge(ES, header, valid_payload());
    expect_reject(token, &options, "algorithm mismatch");
    free(token);
    /* RS256 header naming the EC key */
    snprintf(header, sizeof header, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kids[ES]);
    token = forge(RS, header, valid_payload());
    expect_reject(token, &options, "algorithm mismatch");
    free(token);
    /* case matters */
    snprintf(header, sizeof header, "{\"alg\":\"rs256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kids[RS]);
    token = forge(RS, header, valid_payload());
    expect_reject(token, &options, "algorithm mismatch");
    free(token);
}

static void test_unknown_kid_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    char *token = forge(RS, "{\"alg\":\"RS256\",\"kid\":\"someone-else\",\"typ\":\"JWT\"}", valid_payload());
    expect_reject(token, &options, "unknown kid");
    free(token);
    /* right kid, but the verifier's key set does not hold it */
    token = forge(RS, header_for(RS), valid_payload());
    const struct iam_signing_key *others[] = {fixture.keys[ES], fixture.keys[ED]};
    expect_reject_with(others, 2, token, &options, "unknown kid");
    expect_reject_with(NULL, 0, token, &options, "unknown kid");
    free(token);
    /* kid missing, or not a string */
    token = forge(RS, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", valid_payload());
    expect_reject(token, &options, "missing alg or kid");
    free(token);
    token = forge(RS, "{\"alg\":\"RS256\",\"kid\":1,\"typ\":\"JWT\"}", valid_payload());
    expect_reject(token, &options, "missing alg or kid");
    free(token);
}

static void test_tampered_payload_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    for (int i = 0; i < ALG_COUNT; i++) {
        json_t *claims = valid_claims();
        char *token = sign_claims(i, claims);
        size_t at = dot(token, 0) + 1; /* first character of the payload: all 6 bits count */
        token[at] = token[at] == 'e' ? 'f' : 'e';
        expect_reject(token, &options, "bad signature");
        free(token);
        /* a payload swapped wholesale for another, validly encoded one */
        token = sign_claims(i, claims);
        json_object_set_new(claims, "sub", json_string("iam-ServiceId-admin"));
        char *other = sign_claims(i, claims);
        size_t token_dot = dot(token, 1);
        size_t other_first = dot(other, 0);
        size_t other_second = dot(other, 1);
        char spliced[4096];
        snprintf(spliced, sizeof spliced, "%.*s%.*s%s", (int)dot(token, 0), token,
                 (int)(other_second - other_first), other + other_first, token + token_dot);
        expect_reject(spliced, &options, "bad signature");
        free(other);
        free(token);
        json_decref(claims);
    }
}

static void test_tampered_signature_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    for (int i = 0; i < ALG_COUNT; i++) {
        json_t *claims = valid_claims();
        char *token = sign_claims(i, claims);
        size_t at = dot(token, 1) + 11;
        token[at] = token[at] == 'Q' ? 'R' : 'Q';
        expect_reject(token, &options, "bad signature");
        free(token);
        /* truncated signature */
        token = sign_claims(i, claims);
        token[strlen(token) - 4] = '\0';
        expect_reject(token, &options, NULL);
        free(token);
        json_decref(claims);
    }
}

/* r and s must lie in [1, n-1]; zero and n itself are refused. */
static void test_es256_out_of_range_scalars_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    static const uint8_t order[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                                      0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
    /* the constant above is the P-256 order, as OpenSSL knows it */
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    uint8_t from_openssl[32];
    assert_int_equal(BN_bn2binpad(EC_GROUP_get0_order(group), from_openssl, 32), 32);
    assert_memory_equal(order, from_openssl, 32);
    EC_GROUP_free(group);

    char *input = signing_input(header_for(ES), valid_payload());
    uint8_t signature[64];
    for (int variant = 0; variant < 4; variant++) {
        memset(signature, 1, sizeof signature);
        uint8_t *target = variant % 2 ? signature + 32 : signature;
        if (variant < 2)
            memset(target, 0, 32);
        else
            memcpy(target, order, 32);
        char *token = join(input, signature, sizeof signature);
        expect_reject(token, &options, "bad signature");
        free(token);
    }
    free(input);
}

static char *token_with_claims(const char *payload)
{
    return forge(RS, header_for(RS), payload);
}

static void test_expiry(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    char payload[256];
    struct {
        const char *exp;
        bool ok;
    } cases[] = {
        {"1699999900", false}, /* 100 s ago, beyond the 30 s leeway */
        {"1699999970", false}, /* exactly now - leeway: now < exp + leeway fails */
        {"1699999971", true},  /* within the leeway */
        {"1700000000", true},
        {"1700003600", true},
        {"1699999969.5", false},
        {"1699999970.5", true}, /* real numbers are NumericDates too */
        {"1.7000036e9", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(payload, sizeof payload, "{\"iss\":\"%s\",\"exp\":%s}", ISSUER, cases[i].exp);
        char *token = token_with_claims(payload);
        if (cases[i].ok)
            expect_accept(token, &options);
        else
            expect_reject(token, &options, "expired");
        free(token);
    }
    /* exp must be a number, and is required when asked for */
    const char *not_numbers[] = {"\"1700003600\"", "true", "null", "[1700003600]"};
    for (size_t i = 0; i < sizeof not_numbers / sizeof not_numbers[0]; i++) {
        snprintf(payload, sizeof payload, "{\"iss\":\"%s\",\"exp\":%s}", ISSUER, not_numbers[i]);
        char *token = token_with_claims(payload);
        expect_reject(token, &options, "exp not a number");
        free(token);
    }
    snprintf(payload, sizeof payload, "{\"iss\":\"%s\"}", ISSUER);
    char *token = token_with_claims(payload);
    expect_reject(token, &options, "missing exp");
    options.require_exp = false;
    expect_accept(token, &options);
    free(token);
}

static void test_not_before_and_issued_at(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    char payload[256];
    struct {
        const char *claim;
        long value;
        bool ok;
    } cases[] = {
        {"nbf", NOW + 100, false}, {"nbf", NOW + LEEWAY + 1, false}, {"nbf", NOW + LEEWAY, true},
        {"nbf", NOW - 100, true},  {"iat", NOW + 100, false},        {"iat", NOW + LEEWAY + 1, false},
        {"iat", NOW + LEEWAY, true}, {"iat", NOW - 3000, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(payload, sizeof payload, "{\"iss\":\"%s\",\"exp\":%d,\"%s\":%ld}", ISSUER, NOW + 3600,
                 cases[i].claim, cases[i].value);
        char *token = token_with_claims(payload);
        if (cases[i].ok)
            expect_accept(token, &options);
        else
            expect_reject(token, &options, strcmp(cases[i].claim, "nbf") == 0 ? "not yet valid" : "issued in the future");
        free(token);
    }
    snprintf(payload, sizeof payload, "{\"iss\":\"%s\",\"exp\":%d,\"nbf\":\"0\"}", ISSUER, NOW + 3600);
    char *token = token_with_claims(payload);
    expect_reject(token, &options, "nbf not a number");
    free(token);
}

static void test_issuer(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    char payload[256];
    const char *bad[] = {"\"https://evil.test/identity\"", "\"https://iam.test/identity/\"", "1", "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(payload, sizeof payload, "{\"iss\":%s,\"exp\":%d}", bad[i], NOW + 3600);
        char *token = token_with_claims(payload);
        expect_reject(token, &options, "wrong issuer");
        free(token);
    }
    snprintf(payload, sizeof payload, "{\"exp\":%d}", NOW + 3600);
    char *token = token_with_claims(payload);
    expect_reject(token, &options, "wrong issuer");
    options.issuer = NULL; /* tests only: skip the check */
    expect_accept(token, &options);
    free(token);
}

static void test_padded_segments_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    json_t *claims = valid_claims();
    char *token = sign_claims(RS, claims);
    char padded[4096];
    size_t first = dot(token, 0);
    size_t second = dot(token, 1);
    const char *pads[] = {"=", "=="};
    for (size_t p = 0; p < 2; p++) {
        snprintf(padded, sizeof padded, "%.*s%s%s", (int)first, token, pads[p], token + first);
        expect_reject(padded, &options, "malformed header");
        snprintf(padded, sizeof padded, "%.*s%s%s", (int)second, token, pads[p], token + second);
        expect_reject(padded, &options, NULL);
        snprintf(padded, sizeof padded, "%s%s", token, pads[p]);
        expect_reject(padded, &options, "malformed signature");
    }
    /* standard-alphabet and whitespace variants */
    snprintf(padded, sizeof padded, "%s", token);
    padded[second + 5] = '+';
    expect_reject(padded, &options, "malformed signature");
    snprintf(padded, sizeof padded, "%.*s %s", (int)second, token, token + second);
    expect_reject(padded, &options, NULL);
    free(token);
    json_decref(claims);
}

/*
 * RS256 signatures are 256 bytes = 342 characters with 4 spare bits in the last one.
 * Setting those bits gives the same bytes to a lenient decoder; ours must refuse.
 */
static void test_non_canonical_signature_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    json_t *claims = valid_claims();
    char *token = sign_claims(RS, claims);
    size_t length = strlen(token);
    assert_int_equal(length - dot(token, 1) - 1, 342);
    int value = (int)(strchr(alphabet, token[length - 1]) - alphabet);
    assert_int_equal(value & 15, 0);
    token[length - 1] = alphabet[value | 1];
    expect_reject(token, &options, "malformed signature");
    free(token);
    json_decref(claims);
}

static void test_segment_count(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    json_t *claims = valid_claims();
    char *token = sign_claims(RS, claims);
    char changed[4096];
    snprintf(changed, sizeof changed, "%s.AAAA", token);
    expect_reject(changed, &options, "not three segments");
    snprintf(changed, sizeof changed, "%s.", token);
    expect_reject(changed, &options, "not three segments");
    snprintf(changed, sizeof changed, "%.*s", (int)dot(token, 1), token);
    expect_reject(changed, &options, "not three segments");
    snprintf(changed, sizeof changed, "%.*s.%s", (int)dot(token, 0), token, token + dot(token, 0));
    expect_reject(changed, &options, NULL);
    expect_reject("", &options, "not three segments");
    expect_reject("..", &options, "empty segment");
    expect_reject(NULL, &options, "missing token");
    free(token);
    json_decref(claims);
}

static void test_oversized_token_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    json_t *claims = valid_claims();
    char *token = sign_claims(RS, claims);
    options.max_length = strlen(token);
    expect_accept(token, &options);
    options.max_length = strlen(token) - 1;
    expect_reject(token, &options, "token too long");
    free(token);

    /* over the default cap of 8192 */
    char *filler = malloc(8000);
    memset(filler, 'a', 7999);
    filler[7999] = '\0';
    json_object_set_new(claims, "filler", json_string(filler));
    token = sign_claims(RS, claims);
    assert_true(strlen(token) > IAM_JWT_DEFAULT_MAX_LENGTH);
    options.max_length = 0;
    expect_reject(token, &options, "token too long");
    options.max_length = 16384;
    expect_accept(token, &options);
    free(token);
    free(filler);
    json_decref(claims);
}

static void test_forbidden_headers_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    const char *extras[] = {
        "\"crit\":[\"exp\"]",
        "\"crit\":[]",
        "\"jku\":\"https://evil.test/jwks.json\"",
        "\"x5u\":\"https://evil.test/cert.pem\"",
        "\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}",
        "\"x5c\":[\"MIIB\"]",
    };
    char header[256];
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        snprintf(header, sizeof header, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\",%s}", kids[RS],
                 extras[i]);
        char *token = forge(RS, header, valid_payload());
        expect_reject(token, &options, "forbidden header parameter");
        free(token);
    }
    /* unknown, harmless header members are ignored */
    snprintf(header, sizeof header, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\",\"cty\":\"x\"}", kids[RS]);
    char *token = forge(RS, header, valid_payload());
    expect_accept(token, &options);
    free(token);
}

static void test_malformed_json_rejected(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    char header[256];
    /* duplicate alg: a parser that keeps the last one would see "none" */
    snprintf(header, sizeof header, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"alg\":\"none\"}", kids[RS]);
    char *token = forge(RS, header, valid_payload());
    expect_reject(token, &options, "malformed header");
    free(token);
    token = forge(RS, "[\"RS256\"]", valid_payload());
    expect_reject(token, &options, "malformed header");
    free(token);
    token = forge(RS, "not json", valid_payload());
    expect_reject(token, &options, "malformed header");
    free(token);
    /* signed, but the payload is not one JSON object */
    token = forge(RS, header_for(RS), "[1,2]");
    expect_reject(token, &options, "payload not an object");
    free(token);
    char payload[256];
    snprintf(payload, sizeof payload, "{\"iss\":\"%s\",\"exp\":%d,\"sub\":\"a\",\"sub\":\"b\"}", ISSUER, NOW + 3600);
    token = forge(RS, header_for(RS), payload);
    expect_reject(token, &options, "payload not an object");
    free(token);
    token = forge(RS, header_for(RS), "{\"sub\":\"a\\u0000b\"}");
    expect_reject(token, &options, "payload not an object");
    free(token);
}

/* Programming errors are not authentication failures. */
static void test_bad_arguments(void **state)
{
    struct iam_jwt_verify_options options = default_options();
    json_t *claims = NULL;
    const struct iam_signing_key *const *keys = (const struct iam_signing_key *const *)fixture.keys;
    assert_int_equal(iam_jwt_verify(keys, ALG_COUNT, "a.b.c", NULL, &claims, NULL), IAM_EINVAL);
    assert_int_equal(iam_jwt_verify(keys, ALG_COUNT, "a.b.c", &options, NULL, NULL), IAM_EINVAL);
    options.leeway = -1;
    assert_int_equal(iam_jwt_verify(keys, ALG_COUNT, "a.b.c", &options, &claims, NULL), IAM_EINVAL);
}

/* ---- concurrency: one key set shared by several threads (pools under ASan) ---- */

struct worker {
    int failures;
};

static void *worker_run(void *data)
{
    struct worker *worker = data;
    struct iam_jwt_verify_options options = default_options();
    const struct iam_signing_key *const *keys = (const struct iam_signing_key *const *)fixture.keys;
    json_t *claims = json_pack("{s:s, s:I}", "iss", ISSUER, "exp", (json_int_t)(NOW + 60));
    for (int round = 0; round < 30; round++) {
        for (int i = 0; i < ALG_COUNT; i++) {
            char *token = NULL;
            json_t *verified = NULL;
            if (iam_jwt_sign(fixture.keys[i], claims, &token) != IAM_OK ||
                iam_jwt_verify(keys, ALG_COUNT, token, &options, &verified, NULL) != IAM_OK ||
                !json_equal(verified, claims))
                worker->failures++;
            json_decref(verified);
            free(token);
        }
    }
    json_decref(claims);
    return NULL;
}

static void test_concurrent_sign_verify(void **state)
{
    pthread_t threads[4];
    struct worker workers[4] = {{0}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, worker_run, &workers[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(workers[i].failures, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_kid_rules),
        cmocka_unit_test(test_sign_verify_each_alg),
        cmocka_unit_test(test_sign_rejects_bad_input),
        cmocka_unit_test(test_interop_with_openssl),
        cmocka_unit_test(test_signatures_verify_with_openssl),
        cmocka_unit_test(test_es256_signature_is_64_bytes),
        cmocka_unit_test(test_es256_fresh_nonce_per_token),
        cmocka_unit_test(test_pem_round_trip),
        cmocka_unit_test(test_pem_rejects),
        cmocka_unit_test(test_jwk_shape),
        cmocka_unit_test(test_jwks_round_trip),
        cmocka_unit_test(test_jwk_import_rejects),
        cmocka_unit_test(test_alg_none_rejected),
        cmocka_unit_test(test_hs256_with_public_key_rejected),
        cmocka_unit_test(test_alg_mismatch_rejected),
        cmocka_unit_test(test_unknown_kid_rejected),
        cmocka_unit_test(test_tampered_payload_rejected),
        cmocka_unit_test(test_tampered_signature_rejected),
        cmocka_unit_test(test_es256_out_of_range_scalars_rejected),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_not_before_and_issued_at),
        cmocka_unit_test(test_issuer),
        cmocka_unit_test(test_padded_segments_rejected),
        cmocka_unit_test(test_non_canonical_signature_rejected),
        cmocka_unit_test(test_segment_count),
        cmocka_unit_test(test_oversized_token_rejected),
        cmocka_unit_test(test_forbidden_headers_rejected),
        cmocka_unit_test(test_malformed_json_rejected),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_concurrent_sign_verify),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
