/*
 * authn.c: API keys and access tokens in, principals out (see authn.h).
 * Every authentication re-checks the state of the key and of its identity,
 * so a disabled key or a deleted identity stops working at once.
 */
#include "iam/authn.h"

#include <string.h>

#include "common/time.h"
#include "crypto/hash.h"
#include "crypto/keyformat.h"
#include "iam/keyring.h"
#include "iam/usage.h"

#define AUTHN_APIKEY_MAX 256

/* Fills the identity part of `who` from the key owner's record; ENOTFOUND when gone or inactive. */
static enum iam_result load_identity(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                     const char *iam_id, struct iam_principal *who)
{
    memset(who, 0, sizeof *who);
    who->iam_id = iam_id;
    who->account_id = account_id;
    if (strncmp(iam_id, "iam-ServiceId-", 14) == 0) {
        struct iam_service_id_record service_id;
        enum iam_result result = iam_store_service_id_get_by_iam_id(service->store, arena, account_id, iam_id,
                                                                    &service_id);
        if (result != IAM_OK)
            return result;
        who->kind = IAM_PRINCIPAL_SERVICE_ID;
        who->subject_id = service_id.id;
        who->name = service_id.name;
        return IAM_OK;
    }
    struct iam_user_record user;
    enum iam_result result = iam_store_user_get(service->store, arena, account_id, iam_id, &user);
    if (result != IAM_OK)
        return result;
    if (!user.state || strcmp(user.state, "ACTIVE") != 0)
        return IAM_ENOTFOUND;
    who->kind = IAM_PRINCIPAL_USER;
    who->subject_id = user.iam_id;
    who->login = user.login;
    who->email = user.email;
    who->given_name = user.given_name;
    who->family_name = user.family_name;
    if (user.given_name && user.family_name)
        who->name = iam_arena_printf(arena, "%s %s", user.given_name, user.family_name);
    else
        who->name = user.given_name ? user.given_name : user.login;
    return IAM_OK;
}

enum iam_result iam_authn_apikey(struct iam_service *service, struct iam_arena *arena, const char *value,
                                 struct iam_principal *who, struct iam_apikey_record *key, struct iam_error *err)
{
    static const char not_found[] = "Provided API key could not be found.";
    if (!value || !*value)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0415E", not_found);
    /* RFC 8959 URI form. */
    if (strncmp(value, "secret-token:", 13) == 0)
        value += 13;
    size_t length = strlen(value);
    /*
     * Malformed, wrong-checksum and unknown keys all take the same path (hash and
     * lookup) so their timing tells nothing; only the length cap cuts short.
     */
    struct iam_keyformat_info info;
    bool well_formed = length <= AUTHN_APIKEY_MAX;
    if (well_formed) {
        (void)iam_keyformat_inspect(service->options.key_prefix, value, &info);
        if (info.recognised && !info.checksum_valid)
            well_formed = false;
    }
    uint8_t hash[IAM_HASH_SIZE];
    enum iam_result result = iam_hasher_mac(service->hasher, value, length <= AUTHN_APIKEY_MAX ? length : 0, hash);
    if (result != IAM_OK)
        return iam_error_set(err, result, "BXNIM0500E", "Cannot check the API key.");
    struct iam_apikey_record record;
    result = iam_store_apikey_get_by_hash(service->store, arena, hash, &record);
    if (result == IAM_ESTORE)
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    if (result != IAM_OK || !well_formed || !iam_bytes_equal(record.hash, hash, IAM_HASH_SIZE))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0415E", not_found);
    if (record.disabled)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0416E", "Provided API key is disabled.");
    int64_t now = iam_now();
    if (record.expires_at && record.expires_at <= now)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0417E", "Provided API key has expired.");
    result = load_identity(service, arena, record.account_id, record.iam_id, who);
    if (result == IAM_ESTORE)
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    if (result != IAM_OK)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0415E", not_found);
    who->apikey_id = record.id;
    if (key)
        *key = record;
    iam_usage_record(service->usage, record.id, now);
    return IAM_OK;
}

static const char *claim_string(const json_t *claims, const char *name)
{
    return json_string_value(json_object_get(claims, name));
}

enum iam_result iam_authn_access_token(struct iam_service *service, struct iam_arena *arena, const char *token,
                                       struct iam_principal *who, json_t **claims_out, struct iam_error *err)
{
    static const char invalid[] = "The provided access token is invalid.";
    if (claims_out)
        *claims_out = NULL;
    struct iam_jwt_verify_options options = {
        .issuer = service->options.issuer,
        .now = iam_now(),
        .leeway = service->options.clock_leeway,
        .max_length = IAM_JWT_DEFAULT_MAX_LENGTH,
        .require_exp = true,
    };
    json_t *claims = NULL;
    const char *reason = NULL;
    enum iam_result result = iam_keyring_verify(service->keyring, token, &options, &claims, &reason);
    if (result != IAM_OK)
        return iam_error_set(err, IAM_EUNAUTH, "BXNIM0407E", invalid);
    const char *iam_id = claim_string(claims, "iam_id");
    const char *account_id = json_string_value(json_object_get(json_object_get(claims, "account"), "bss"));
    if (!iam_id || !account_id) {
        json_decref(claims);
        return iam_error_set(err, IAM_EUNAUTH, "BXNIM0407E", invalid);
    }
    const char *iam_id_copy = iam_arena_strdup(arena, iam_id);
    const char *account_copy = iam_arena_strdup(arena, account_id);
    if (!iam_id_copy || !account_copy) {
        json_decref(claims);
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    }
    result = load_identity(service, arena, account_copy, iam_id_copy, who);
    if (result != IAM_OK) {
        json_decref(claims);
        if (result == IAM_ESTORE)
            return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
        return iam_error_set(err, IAM_EUNAUTH, "BXNIM0407E", invalid);
    }
    if (claims_out)
        *claims_out = claims;
    else
        json_decref(claims);
    return IAM_OK;
}
