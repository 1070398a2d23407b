/*
 * jwk.c: owns the JWK form of signing keys (RFC 7517/7518/8037): exporting a
 * key's public half for the JWKS endpoint and building verify-only keys from
 * such JWKs (for instance another iamd instance's published keys).
 *
 * Import is strict: alg, kty, crv and kid must agree, coordinates have their
 * exact sizes, private members are refused, and OpenSSL's public-key checks
 * (point on the curve, sane RSA modulus and exponent) must pass.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/jwt_internal.h"

#define P256_COORDINATE_SIZE 32
#define ED25519_KEY_SIZE 32
#define RSA_EXPONENT_MAX_BYTES 8

/* ---- export ---- */

/* Base64url of `bn` big-endian, in `width` bytes (0: the fewest bytes, as RFC 7518 wants for n and e). */
static char *bignum_to_base64url(const BIGNUM *bn, size_t width)
{
    uint8_t bytes[IAM_JWT_SIGNATURE_MAX];
    int length = width ? (int)width : BN_num_bytes(bn);
    if (length <= 0 || (size_t)length > sizeof bytes || BN_bn2binpad(bn, bytes, length) != length)
        return NULL;
    size_t size = iam_base64url_encoded_size((size_t)length);
    char *text = malloc(size);
    if (text && iam_base64url_encode(bytes, (size_t)length, text, size) != IAM_OK) {
        free(text);
        text = NULL;
    }
    return text;
}

static char *bignum_param_to_base64url(EVP_PKEY *pkey, const char *name, size_t width)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return NULL;
    char *text = bignum_to_base64url(bn, width);
    BN_free(bn);
    return text;
}

static json_t *rsa_public_jwk(const struct iam_signing_key *key)
{
    char *n = bignum_param_to_base64url(key->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
    char *e = bignum_param_to_base64url(key->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
    json_t *jwk = NULL;
    if (n && e)
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "n", n, "e", e, "alg", "RS256", "kid",
                        key->kid, "use", "sig");
    free(n);
    free(e);
    return jwk;
}

static json_t *ec_public_jwk(const struct iam_signing_key *key)
{
    char *x = bignum_param_to_base64url(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, P256_COORDINATE_SIZE);
    char *y = bignum_param_to_base64url(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, P256_COORDINATE_SIZE);
    json_t *jwk = NULL;
    if (x && y)
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x, "y", y, "alg",
                        "ES256", "kid", key->kid, "use", "sig");
    free(x);
    free(y);
    return jwk;
}

static json_t *okp_public_jwk(const struct iam_signing_key *key)
{
    uint8_t raw[ED25519_KEY_SIZE];
    size_t raw_length = sizeof raw;
    char x[64];
    if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &raw_length) != 1 || raw_length != sizeof raw)
        return NULL;
    if (iam_base64url_encode(raw, raw_length, x, sizeof x) != IAM_OK)
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", x, "alg", "EdDSA",
                     "kid", key->kid, "use", "sig");
}

json_t *iam_signing_key_public_jwk(const struct iam_signing_key *key)
{
    json_t *jwk = NULL;
    if (!key)
        return NULL;
    switch (key->alg) {
    case IAM_JWT_RS256: jwk = rsa_public_jwk(key); break;
    case IAM_JWT_ES256: jwk = ec_public_jwk(key); break;
    case IAM_JWT_EDDSA: jwk = okp_public_jwk(key); break;
    }
    if (!jwk)
        ERR_clear_error();
    return jwk;
}

/* ---- import ---- */

/* `*value` is the member `name` when it is a string; false when absent or not a string. */
static bool jwk_string(const json_t *jwk, const char *name, const char **value)
{
    *value = json_string_value(json_object_get(jwk, name));
    return *value != NULL;
}

static bool jwk_string_is(const json_t *jwk, const char *name, const char *expected)
{
    const char *value = NULL;
    return jwk_string(jwk, name, &value) && strcmp(value, expected) == 0;
}

/* Decodes the base64url member `name` into `out`; false when absent, malformed or longer than `out_size`. */
static bool jwk_bytes(const json_t *jwk, const char *name, uint8_t *out, size_t out_size, size_t *out_length)
{
    const json_t *member = json_object_get(jwk, name);
    if (!json_is_string(member))
        return false;
    return iam_base64url_decode(json_string_value(member), json_string_length(member), out, out_size,
                                out_length) == IAM_OK &&
           *out_length > 0;
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
        (void)EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *rsa_from_jwk(const json_t *jwk)
{
    uint8_t n_bytes[IAM_JWT_SIGNATURE_MAX];
    uint8_t e_bytes[RSA_EXPONENT_MAX_BYTES];
    size_t n_length = 0;
    size_t e_length = 0;
    EVP_PKEY *pkey = NULL;
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;
    OSSL_PARAM_BLD *builder = NULL;
    OSSL_PARAM *params = NULL;

    if (!jwk_string_is(jwk, "kty", "RSA") || !jwk_bytes(jwk, "n", n_bytes, sizeof n_bytes, &n_length) ||
        !jwk_bytes(jwk, "e", e_bytes, sizeof e_bytes, &e_length))
        return NULL;
    n = BN_bin2bn(n_bytes, (int)n_length, NULL);
    e = BN_bin2bn(e_bytes, (int)e_length, NULL);
    builder = OSSL_PARAM_BLD_new();
    if (!n || !e || !builder || OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, e) != 1)
        goto cleanup;
    params = OSSL_PARAM_BLD_to_param(builder);
    if (params)
        pkey = pkey_from_params("RSA", params);

cleanup:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    BN_free(e);
    BN_free(n);
    return pkey;
}

static EVP_PKEY *ec_from_jwk(const json_t *jwk)
{
    uint8_t point[1 + 2 * P256_COORDINATE_SIZE]; /* uncompressed: 0x04 || x || y */
    size_t x_length = 0;
    size_t y_length = 0;
    char group[] = "prime256v1";

    if (!jwk_string_is(jwk, "kty", "EC") || !jwk_string_is(jwk, "crv", "P-256") ||
        !jwk_bytes(jwk, "x", point + 1, P256_COORDINATE_SIZE, &x_length) ||
        !jwk_bytes(jwk, "y", point + 1 + P256_COORDINATE_SIZE, P256_COORDINATE_SIZE, &y_length) ||
        x_length != P256_COORDINATE_SIZE || y_length != P256_COORDINATE_SIZE)
        return NULL;
    point[0] = 0x04;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_construct_end(),
    };
    return pkey_from_params("EC", params);
}

static EVP_PKEY *okp_from_jwk(const json_t *jwk)
{
    uint8_t x[ED25519_KEY_SIZE];
    size_t x_length = 0;
    if (!jwk_string_is(jwk, "kty", "OKP") || !jwk_string_is(jwk, "crv", "Ed25519") ||
        !jwk_bytes(jwk, "x", x, sizeof x, &x_length) || x_length != sizeof x)
        return NULL;
    return EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, sizeof x);
}

/* OpenSSL's public-key validation: the point lies on the curve; n is odd, composite, e odd and >= 65537. */
static bool public_key_checks_pass(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    bool ok = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

enum iam_result iam_signing_key_from_public_jwk(const json_t *jwk, struct iam_signing_key **out)
{
    enum iam_result result = IAM_EINVAL;
    enum iam_jwt_alg alg;
    const char *alg_name = NULL;
    const char *kid = NULL;
    const char *use = NULL;
    EVP_PKEY *pkey = NULL;

    *out = NULL;
    if (!json_is_object(jwk) || !jwk_string(jwk, "alg", &alg_name) || iam_jwt_alg_parse(alg_name, &alg) != IAM_OK ||
        !jwk_string(jwk, "kid", &kid) || !iam_jwt_kid_valid(kid))
        goto cleanup;
    if (json_object_get(jwk, "use") && (!jwk_string(jwk, "use", &use) || strcmp(use, "sig") != 0))
        goto cleanup;
    /* A private member means someone is about to publish a private key: refuse rather than ignore. */
    if (json_object_get(jwk, "d") || json_object_get(jwk, "p") || json_object_get(jwk, "q"))
        goto cleanup;
    switch (alg) {
    case IAM_JWT_RS256: pkey = rsa_from_jwk(jwk); break;
    case IAM_JWT_ES256: pkey = ec_from_jwk(jwk); break;
    case IAM_JWT_EDDSA: pkey = okp_from_jwk(jwk); break;
    }
    if (!pkey || (alg != IAM_JWT_EDDSA && !public_key_checks_pass(pkey)))
        goto cleanup;
    result = iam_signing_key_wrap(alg, kid, pkey, false, out);
    pkey = NULL; /* owned by the wrapper now, even on failure */

cleanup:
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return result;
}
