/*
 * tokens.c: building IBM access-token claims, signing them, and the sealed
 * refresh tokens (see tokens.h).
 */
#include "iam/tokens.h"

#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/time.h"
#include "crypto/aead.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "iam/authn.h"
#include "iam/keyring.h"

#define TOKENS_SCOPE "ibm openid"
#define REFRESH_AAD "refresh-token"
#define REFRESH_MAX_TEXT 2048

static json_t *build_claims(const struct iam_service *service, const struct iam_principal *who,
                            const char *grant_type, const char *jti, int64_t now)
{
    bool is_service_id = who->kind == IAM_PRINCIPAL_SERVICE_ID;
    json_t *claims = json_object();
    json_t *authn = json_object();
    json_t *account = json_pack("{s:b,s:s}", "valid", 1, "bss", who->account_id);
    if (!claims || !authn || !account)
        goto fail;
    const char *identifier = who->subject_id;
    const char *sub = who->subject_id;
    if (!is_service_id) {
        identifier = strncmp(who->iam_id, "IBMid-", 6) == 0 ? who->iam_id + 6 : who->iam_id;
        sub = who->email ? who->email : who->login ? who->login : who->iam_id;
    }
    const char *sub_type = is_service_id ? "ServiceId" : "IBMid";
    int failed = 0;
    failed |= json_object_set_new(claims, "iam_id", json_string(who->iam_id));
    failed |= json_object_set_new(claims, "id", json_string(who->iam_id));
    failed |= json_object_set_new(claims, "realmid", json_string(is_service_id ? "iam" : "IBMid"));
    failed |= json_object_set_new(claims, "jti", json_string(jti));
    failed |= json_object_set_new(claims, "identifier", json_string(identifier));
    if (who->given_name)
        failed |= json_object_set_new(claims, "given_name", json_string(who->given_name));
    if (who->family_name)
        failed |= json_object_set_new(claims, "family_name", json_string(who->family_name));
    if (who->name)
        failed |= json_object_set_new(claims, "name", json_string(who->name));
    if (who->email)
        failed |= json_object_set_new(claims, "email", json_string(who->email));
    failed |= json_object_set_new(claims, "sub", json_string(sub));
    failed |= json_object_set_new(claims, "sub_type", json_string(sub_type));
    failed |= json_object_set_new(authn, "sub", json_string(sub));
    failed |= json_object_set_new(authn, "iam_id", json_string(who->iam_id));
    failed |= json_object_set_new(authn, "sub_type", json_string(sub_type));
    if (who->name)
        failed |= json_object_set_new(authn, "name", json_string(who->name));
    failed |= json_object_set_new(claims, "authn", authn);
    authn = NULL;
    failed |= json_object_set_new(claims, "account", account);
    account = NULL;
    failed |= json_object_set_new(claims, "iat", json_integer(now));
    failed |= json_object_set_new(claims, "exp", json_integer(now + service->options.access_token_ttl));
    failed |= json_object_set_new(claims, "iss", json_string(service->options.issuer));
    failed |= json_object_set_new(claims, "grant_type", json_string(grant_type));
    failed |= json_object_set_new(claims, "scope", json_string(TOKENS_SCOPE));
    failed |= json_object_set_new(claims, "client_id", json_string("default"));
    failed |= json_object_set_new(claims, "acr", json_integer(1));
    failed |= json_object_set_new(claims, "amr", json_pack("[s]", "pwd"));
    if (failed)
        goto fail;
    return claims;
fail:
    json_decref(claims);
    json_decref(authn);
    json_decref(account);
    return NULL;
}

/*
 * The fingerprint binding a password session to the password it started from:
 * hex of the first 16 bytes of SHA-256 over the stored hash, so changing the
 * password ends the session's refresh tokens. `out` gets 33 bytes.
 */
static enum iam_result password_fingerprint(const char *password_hash, char out[33])
{
    uint8_t digest[IAM_HASH_SIZE];
    if (!password_hash || !*password_hash)
        return IAM_EINVAL;
    enum iam_result result = iam_sha256(password_hash, strlen(password_hash), digest);
    if (result != IAM_OK)
        return result;
    iam_hex_encode(digest, 16, out);
    out[32] = '\0';
    return IAM_OK;
}

/*
 * Seals {iam_id, account, key, pw, jti, iat, exp} into an opaque base64url
 * string: `key` for a session that began with an API key, `pw` (see
 * password_fingerprint) for one that began with a password.
 */
static enum iam_result seal_refresh_token(struct iam_service *service, struct iam_arena *arena,
                                          const struct iam_principal *who, const char *password_binding,
                                          int64_t now, const char **out)
{
    char jti[IAM_UUID_SIZE];
    enum iam_result result = iam_uuid_new(jti);
    if (result != IAM_OK)
        return result;
    json_t *document = json_pack("{s:i,s:s,s:s,s:s?,s:s?,s:s,s:I,s:I}", "v", 1, "iam_id", who->iam_id, "account",
                                 who->account_id, "key", who->apikey_id, "pw", password_binding, "jti", jti, "iat",
                                 (json_int_t)now, "exp", (json_int_t)(now + service->options.refresh_token_ttl));
    char *text = document ? json_dumps(document, JSON_COMPACT) : NULL;
    json_decref(document);
    if (!text)
        return IAM_ENOMEM;
    size_t text_length = strlen(text);
    size_t sealed_length = text_length + IAM_AEAD_OVERHEAD;
    uint8_t *sealed = iam_arena_alloc(arena, sealed_length);
    size_t encoded_size = iam_base64url_encoded_size(sealed_length);
    char *encoded = iam_arena_alloc(arena, encoded_size);
    if (!sealed || !encoded) {
        free(text);
        return IAM_ENOMEM;
    }
    result = iam_aead_seal(service->kek, REFRESH_AAD, strlen(REFRESH_AAD), text, text_length, sealed);
    free(text);
    if (result != IAM_OK)
        return result;
    result = iam_base64url_encode(sealed, sealed_length, encoded, encoded_size);
    if (result != IAM_OK)
        return result;
    *out = encoded;
    return IAM_OK;
}

/* Opens a refresh token; `*document` is a new reference on success. */
static enum iam_result open_refresh_token(struct iam_service *service, struct iam_arena *arena, const char *token,
                                          json_t **document)
{
    *document = NULL;
    size_t length = token ? strlen(token) : 0;
    if (length == 0 || length > REFRESH_MAX_TEXT)
        return IAM_EINVAL;
    uint8_t *sealed = iam_arena_alloc(arena, length);
    size_t sealed_length = 0;
    if (!sealed)
        return IAM_ENOMEM;
    if (iam_base64url_decode(token, length, sealed, length, &sealed_length) != IAM_OK ||
        sealed_length <= IAM_AEAD_OVERHEAD)
        return IAM_EINVAL;
    size_t plain_length = sealed_length - IAM_AEAD_OVERHEAD;
    char *plain = iam_arena_alloc(arena, plain_length + 1);
    if (!plain)
        return IAM_ENOMEM;
    if (iam_aead_open(service->kek, REFRESH_AAD, strlen(REFRESH_AAD), sealed, sealed_length, (uint8_t *)plain) !=
        IAM_OK)
        return IAM_EINVAL;
    json_t *parsed = json_loadb(plain, plain_length, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(parsed)) {
        json_decref(parsed);
        return IAM_EINVAL;
    }
    *document = parsed;
    return IAM_OK;
}

enum iam_result iam_tokens_issue(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                                 const char *grant_type, struct iam_token_response *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    char jti[IAM_UUID_SIZE];
    if (iam_uuid_new(jti) != IAM_OK)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot create a token.");
    int64_t now = iam_now();
    json_t *claims = build_claims(service, who, grant_type, jti, now);
    if (!claims)
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    char *token = NULL;
    enum iam_result result = iam_keyring_sign(service->keyring, claims, now, &token);
    json_decref(claims);
    if (result != IAM_OK)
        return iam_error_set(err, result, "BXNIM0500E", "Cannot sign the token.");
    out->access_token = iam_arena_strdup(arena, token);
    free(token);
    if (!out->access_token)
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    out->expires_in = service->options.access_token_ttl;
    out->expiration = now + service->options.access_token_ttl;
    out->scope = TOKENS_SCOPE;
    if (who->kind == IAM_PRINCIPAL_SERVICE_ID) {
        out->refresh_token = "not_supported";
        return IAM_OK;
    }
    /* A session without an API key began with the password: bind it to that password. */
    char binding[33];
    const char *password_binding = NULL;
    if (!who->apikey_id) {
        struct iam_user_record user;
        result = iam_store_user_get(service->store, arena, who->account_id, who->iam_id, &user);
        if (iam_store_failed(result))
            return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
        if (result != IAM_OK || password_fingerprint(user.password_hash, binding) != IAM_OK)
            return iam_error_set(err, IAM_EINVAL, "BXNIM0602E", "Provided user name or password is invalid.");
        password_binding = binding;
    }
    result = seal_refresh_token(service, arena, who, password_binding, now, &out->refresh_token);
    if (result != IAM_OK)
        return iam_error_set(err, result, "BXNIM0500E", "Cannot create the refresh token.");
    return IAM_OK;
}

/* Validates a refresh token's document: not expired, not revoked. Returns its fields. */
static enum iam_result check_refresh_document(struct iam_service *service, const json_t *document,
                                              const char **iam_id, const char **account, const char **key,
                                              const char **jti, int64_t *exp)
{
    *iam_id = json_string_value(json_object_get(document, "iam_id"));
    *account = json_string_value(json_object_get(document, "account"));
    *key = json_string_value(json_object_get(document, "key"));
    *jti = json_string_value(json_object_get(document, "jti"));
    json_t *exp_value = json_object_get(document, "exp");
    if (!*iam_id || !*account || !*jti || !json_is_integer(exp_value))
        return IAM_EINVAL;
    *exp = json_integer_value(exp_value);
    if (*exp <= iam_now())
        return IAM_EINVAL;
    bool revoked = false;
    enum iam_result result = iam_store_revocation_exists(service->store, *jti, &revoked);
    if (result != IAM_OK)
        return result;
    return revoked ? IAM_EINVAL : IAM_OK;
}

enum iam_result iam_tokens_refresh(struct iam_service *service, struct iam_arena *arena, const char *refresh_token,
                                   struct iam_token_response *out, struct iam_principal *issued_to,
                                   struct iam_error *err)
{
    static const char invalid[] = "Provided refresh token is invalid or expired.";
    json_t *document = NULL;
    enum iam_result result = open_refresh_token(service, arena, refresh_token, &document);
    if (result != IAM_OK)
        return iam_error_set(err, result == IAM_ENOMEM ? result : IAM_EINVAL, "BXNIM0407E", invalid);
    const char *iam_id, *account, *key_id, *jti;
    int64_t exp = 0;
    result = check_refresh_document(service, document, &iam_id, &account, &key_id, &jti, &exp);
    if (iam_store_failed(result)) {
        json_decref(document);
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    }
    if (result != IAM_OK) {
        json_decref(document);
        return iam_error_set(err, IAM_EINVAL, "BXNIM0407E", invalid);
    }
    /* The key the session came from must still exist, be enabled and unexpired;
     * a password session (no key) must still have the same password (checked below). */
    struct iam_apikey_record key;
    memset(&key, 0, sizeof key);
    int64_t now = iam_now();
    const char *password_binding = json_string_value(json_object_get(document, "pw"));
    if (key_id) {
        result = iam_store_apikey_get(service->store, arena, account, key_id, &key);
        if (iam_store_failed(result)) {
            json_decref(document);
            return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
        }
        if (result != IAM_OK || key.disabled || (key.expires_at && key.expires_at <= now) ||
            strcmp(key.iam_id, iam_id) != 0) {
            json_decref(document);
            return iam_error_set(err, IAM_EINVAL, "BXNIM0407E", invalid);
        }
    } else if (!password_binding) {
        json_decref(document);
        return iam_error_set(err, IAM_EINVAL, "BXNIM0407E", invalid);
    }
    /* The identity must still be active: re-authenticate through the key owner lookup. */
    struct iam_principal who;
    memset(&who, 0, sizeof who);
    struct iam_user_record user;
    if (strncmp(iam_id, "iam-ServiceId-", 14) == 0) {
        /* Service IDs never get refresh tokens; one claiming to be for a service ID is forged or stale. */
        json_decref(document);
        return iam_error_set(err, IAM_EINVAL, "BXNIM0407E", invalid);
    }
    result = iam_store_user_get(service->store, arena, account, iam_id, &user);
    if (iam_store_failed(result)) {
        json_decref(document);
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    }
    if (result != IAM_OK || !user.state || strcmp(user.state, "ACTIVE") != 0) {
        json_decref(document);
        return iam_error_set(err, IAM_EINVAL, "BXNIM0407E", invalid);
    }
    char current_binding[33];
    if (!key_id && (password_fingerprint(user.password_hash, current_binding) != IAM_OK ||
                    strlen(password_binding) != 32 || !iam_bytes_equal(current_binding, password_binding, 32))) {
        json_decref(document);
        return iam_error_set(err, IAM_EINVAL, "BXNIM0407E", invalid);
    }
    who.kind = IAM_PRINCIPAL_USER;
    who.iam_id = user.iam_id;
    who.account_id = user.account_id;
    who.subject_id = user.iam_id;
    who.login = user.login;
    who.email = user.email;
    who.given_name = user.given_name;
    who.family_name = user.family_name;
    who.name = user.given_name && user.family_name
                   ? iam_arena_printf(arena, "%s %s", user.given_name, user.family_name)
                   : user.login;
    who.apikey_id = key.id;
    json_decref(document);
    result = iam_tokens_issue(service, arena, &who, IAM_GRANT_REFRESH, out, err);
    if (result == IAM_OK && issued_to)
        *issued_to = who;
    return result;
}

enum iam_result iam_tokens_revoke(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *caller, const char *token, struct iam_error *err)
{
    json_t *document = NULL;
    if (open_refresh_token(service, arena, token, &document) != IAM_OK)
        return IAM_OK; /* RFC 7009 2.2: an invalid token is not an error */
    const char *account = json_string_value(json_object_get(document, "account"));
    const char *iam_id = json_string_value(json_object_get(document, "iam_id"));
    const char *jti = json_string_value(json_object_get(document, "jti"));
    json_t *exp = json_object_get(document, "exp");
    enum iam_result result = IAM_OK;
    /* Its owner may revoke it, and so may anyone allowed to manage that identity. */
    struct iam_target target = {.account_id = account, .owner_iam_id = iam_id};
    struct iam_error denied;
    if (account && iam_id && jti && json_is_integer(exp) &&
        iam_authz_check(service, caller, IAM_ACTION_APIKEY_DISABLE, &target, &denied) == IAM_OK) {
        result = iam_store_revocation_insert(service->store, jti, json_integer_value(exp));
        if (result == IAM_ECONFLICT)
            result = IAM_OK; /* revoked already */
    }
    json_decref(document);
    if (result != IAM_OK)
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "Cannot record the revocation now.");
    return IAM_OK;
}

json_t *iam_tokens_introspect(struct iam_service *service, struct iam_arena *arena,
                              const struct iam_principal *caller, const char *token)
{
    struct iam_principal subject;
    json_t *claims = NULL;
    struct iam_error err;
    if (!token || iam_authn_access_token(service, arena, token, &subject, &claims, &err) != IAM_OK)
        return json_pack("{s:b}", "active", 0);
    struct iam_target target = {.account_id = subject.account_id, .owner_iam_id = subject.iam_id};
    if (iam_authz_check(service, caller, IAM_ACTION_TOKEN_INTROSPECT, &target, &err) != IAM_OK) {
        json_decref(claims);
        return json_pack("{s:b}", "active", 0);
    }
    json_object_set_new(claims, "active", json_true());
    json_object_set_new(claims, "token_type", json_string("Bearer"));
    json_object_set_new(claims, "username", json_string(subject.login ? subject.login : subject.subject_id));
    return claims;
}
