/*
 * fuzz_jwt_verify.c: libFuzzer target for iam_jwt_verify (src/crypto/jwt.c),
 * which checks every Bearer token the server is shown.
 *
 * Three keys (RS256, ES256, EdDSA) are generated once per process, so no
 * input can carry a valid signature of its own. The first input byte picks
 * the mode:
 *   even: the rest is a token, verified as is. It must never be accepted.
 *   odd:  [key byte][2 bytes tamper position][header JSON]\0[payload JSON]:
 *         header and payload are base64url-encoded and signed with the chosen
 *         key here, so the verifier's header and claims checks run behind a
 *         good signature. An accepted token must satisfy every rule of jwt.h
 *         (algorithm of the key, known kid, no crit/jku/x5u/jwk/x5c, exp in
 *         the future, nbf/iat not, the issuer) and its claims must be the
 *         payload. Then one byte of the token is changed: that copy must be
 *         refused.
 */
#include "fuzz_common.h"

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "crypto/encoding.h"
#include "crypto/jwt.h"
#include "crypto/jwt_internal.h"

#define KEY_COUNT 3
#define TOKEN_MAX 8192
#define ISSUER "https://iam.fuzz.test/identity"
#define NOW 1700000000
#define LEEWAY 60

static struct iam_signing_key *keys[KEY_COUNT];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    iam_log_set_level(IAM_LOG_ERROR);
    /* kids the seed corpus uses, so inputs reach the signature check */
    if (iam_signing_key_generate(IAM_JWT_RS256, "fuzz-rs256", &keys[0]) != IAM_OK ||
        iam_signing_key_generate(IAM_JWT_ES256, "fuzz-es256", &keys[1]) != IAM_OK ||
        iam_signing_key_generate(IAM_JWT_EDDSA, "fuzz-eddsa", &keys[2]) != IAM_OK)
        abort();
    return 0;
}

static const struct iam_jwt_verify_options options = {
    .issuer = ISSUER, .now = NOW, .leeway = LEEWAY, .max_length = TOKEN_MAX, .require_exp = true};

static enum iam_result verify(const char *token, json_t **claims)
{
    const char *reason = NULL;
    enum iam_result result =
        iam_jwt_verify((const struct iam_signing_key *const *)keys, KEY_COUNT, token, &options, claims, &reason);
    FUZZ_CHECK(result == IAM_OK || result == IAM_EUNAUTH);
    FUZZ_CHECK((result == IAM_OK) == (reason == NULL));
    FUZZ_CHECK((result == IAM_OK) == (*claims != NULL));
    FUZZ_CHECK(ERR_peek_error() == 0); /* failures must not leave errors on the thread's queue */
    return result;
}

/* The JWS signature of `input` with `key` (r || s for ES256) into `out`; its length. */
static size_t sign(const struct iam_signing_key *key, const char *input, size_t length, uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[IAM_JWT_SIGNATURE_MAX];
    size_t der_length = sizeof der;
    FUZZ_CHECK(ctx);
    FUZZ_CHECK(EVP_DigestSignInit(ctx, NULL, key->alg == IAM_JWT_EDDSA ? NULL : EVP_sha256(), NULL, key->pkey) == 1);
    FUZZ_CHECK(EVP_DigestSign(ctx, der, &der_length, (const unsigned char *)input, length) == 1);
    EVP_MD_CTX_free(ctx);
    if (key->alg != IAM_JWT_ES256) {
        memcpy(out, der, der_length);
        return der_length;
    }
    const unsigned char *cursor = der;
    ECDSA_SIG *signature = d2i_ECDSA_SIG(NULL, &cursor, (long)der_length);
    FUZZ_CHECK(signature);
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(signature, &r, &s);
    FUZZ_CHECK(BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32);
    ECDSA_SIG_free(signature);
    return 64;
}

/* The rules jwt.h promises, checked on a token the verifier accepted. */
static void check_accepted(const struct iam_signing_key *key, const char *header_text, size_t header_length,
                           const char *payload_text, size_t payload_length, const json_t *claims)
{
    json_t *header = json_loadb(header_text, header_length, JSON_REJECT_DUPLICATES, NULL);
    json_t *payload = json_loadb(payload_text, payload_length, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(header) && json_is_object(payload));
    FUZZ_CHECK(json_equal(payload, claims));
    FUZZ_CHECK(json_is_string(json_object_get(header, "alg")));
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(header, "alg")), iam_jwt_alg_name(key->alg)) == 0);
    FUZZ_CHECK(json_is_string(json_object_get(header, "kid")));
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(header, "kid")), key->kid) == 0);
    static const char *const forbidden[] = {"crit", "jku", "x5u", "jwk", "x5c"};
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++)
        FUZZ_CHECK(!json_object_get(header, forbidden[i]));
    const json_t *exp = json_object_get(payload, "exp");
    FUZZ_CHECK(json_is_number(exp) && json_number_value(exp) > (double)(NOW - LEEWAY) - 1);
    const char *times[] = {"nbf", "iat"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *value = json_object_get(payload, times[i]);
        FUZZ_CHECK(!value || (json_is_number(value) && json_number_value(value) < (double)(NOW + LEEWAY) + 1));
    }
    FUZZ_CHECK(json_is_string(json_object_get(payload, "iss")));
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(payload, "iss")), ISSUER) == 0);
    json_decref(header);
    json_decref(payload);
}

static void structured(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    const struct iam_signing_key *key = keys[data[0] % KEY_COUNT];
    size_t tamper_at = (size_t)data[1] << 8 | data[2];
    const char *header_text = (const char *)data + 3;
    size_t rest = size - 3;
    const char *separator = memchr(header_text, '\0', rest);
    if (!separator)
        return;
    size_t header_length = (size_t)(separator - header_text);
    const char *payload_text = separator + 1;
    size_t payload_length = rest - header_length - 1;

    size_t header_size = iam_base64url_encoded_size(header_length);
    size_t payload_size = iam_base64url_encoded_size(payload_length);
    size_t total = header_size + payload_size + iam_base64url_encoded_size(IAM_JWT_SIGNATURE_MAX) + 2;
    char *token = malloc(total);
    FUZZ_CHECK(token);
    FUZZ_CHECK(iam_base64url_encode(header_text, header_length, token, total) == IAM_OK);
    size_t length = strlen(token);
    token[length++] = '.';
    FUZZ_CHECK(iam_base64url_encode(payload_text, payload_length, token + length, total - length) == IAM_OK);
    length += strlen(token + length);
    uint8_t signature[IAM_JWT_SIGNATURE_MAX];
    size_t signature_length = sign(key, token, length, signature);
    token[length++] = '.';
    FUZZ_CHECK(iam_base64url_encode(signature, signature_length, token + length, total - length) == IAM_OK);
    length += strlen(token + length);

    json_t *claims = NULL;
    if (verify(token, &claims) == IAM_OK) {
        check_accepted(key, header_text, header_length, payload_text, payload_length, claims);
        json_decref(claims);
        claims = NULL;
        /* Any changed character must break the token. */
        size_t at = tamper_at % length;
        token[at] = token[at] == 'A' ? 'B' : 'A';
        FUZZ_CHECK(verify(token, &claims) == IAM_EUNAUTH);
    }
    free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 2 * TOKEN_MAX)
        return 0;
    if (data[0] & 1) {
        structured(data + 1, size - 1);
        return 0;
    }
    char *token = fuzz_string(data + 1, size - 1);
    json_t *claims = NULL;
    FUZZ_CHECK(verify(token, &claims) == IAM_EUNAUTH); /* nobody but us can sign */
    free(token);
    return 0;
}
