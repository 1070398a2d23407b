/* bootstrap.c: creating the first account, its owner and the owner's API key. */
#include "iam/bootstrap.h"

#include <string.h>
#include <time.h>

#include "common/ids.h"
#include "common/time.h"
#include "iam/apikeys.h"

#define BOOTSTRAP_META_KEY "bootstrap_account"

static enum iam_result bootstrap_locked(struct iam_service *service, struct iam_arena *arena, const char *admin_login,
                                        struct iam_bootstrap_result *out, struct iam_error *err);

/*
 * Several nodes may start together on one empty PostgreSQL database: the one
 * holding the store lock "iamd:bootstrap" bootstraps; the others wait for it
 * and then find the instance bootstrapped (the checks run under the lock).
 */
enum iam_result iam_bootstrap(struct iam_service *service, struct iam_arena *arena, const char *admin_login,
                              struct iam_bootstrap_result *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    bool acquired = false;
    for (int attempt = 0; attempt < 300; attempt++) { /* up to 30 s */
        enum iam_result result = iam_store_try_lock(service->store, "iamd:bootstrap", &acquired);
        if (result != IAM_OK)
            return iam_error_set(err, result, "", "Cannot take the bootstrap lock.");
        if (acquired)
            break;
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (!acquired)
        return iam_error_set(err, IAM_EUNAVAILABLE, "", "Another node holds the bootstrap lock for too long.");
    enum iam_result result = bootstrap_locked(service, arena, admin_login, out, err);
    if (iam_store_unlock(service->store, "iamd:bootstrap") != IAM_OK && result == IAM_OK)
        result = iam_error_set(err, IAM_ESTORE, "", "Cannot release the bootstrap lock.");
    return result;
}

static enum iam_result bootstrap_locked(struct iam_service *service, struct iam_arena *arena, const char *admin_login,
                                        struct iam_bootstrap_result *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    const char *done = NULL;
    enum iam_result result = iam_store_meta_get(service->store, arena, BOOTSTRAP_META_KEY, &done);
    if (result == IAM_OK)
        return IAM_OK;
    if (result != IAM_ENOTFOUND)
        return iam_error_set(err, result, "", "Cannot read the instance state.");
    int64_t accounts = 0;
    result = iam_store_account_count(service->store, &accounts);
    if (result != IAM_OK)
        return iam_error_set(err, result, "", "Cannot count accounts.");
    if (accounts > 0)
        return IAM_OK; /* an instance populated some other way (e.g. a copy) needs no bootstrap */

    char account_id[IAM_ACCOUNT_ID_SIZE];
    char iam_id[IAM_ID_SIZE];
    if (iam_account_id_new(account_id) != IAM_OK || iam_user_iam_id_new(iam_id) != IAM_OK)
        return iam_error_set(err, IAM_ECRYPTO, "", "Cannot generate identifiers.");
    int64_t now = iam_now();
    struct iam_account_record account = {
        .id = account_id, .name = "Default account", .owner_iam_id = iam_id, .state = "ACTIVE",
        .created_at = now, .modified_at = now,
    };
    result = iam_store_account_insert(service->store, &account);
    if (result != IAM_OK)
        return iam_error_set(err, result, "", "Cannot create the first account.");
    const char *tag = NULL;
    result = iam_entity_tag_next(arena, NULL, &tag, err);
    if (result != IAM_OK)
        return result;
    struct iam_user_record user = {
        .iam_id = iam_id, .account_id = account_id, .login = admin_login, .email = NULL,
        .given_name = "Instance", .family_name = "Administrator", .state = "ACTIVE", .entity_tag = tag,
        .created_at = now, .modified_at = now,
    };
    result = iam_store_user_insert(service->store, &user);
    if (result != IAM_OK)
        return iam_error_set(err, result, "", "Cannot create the owner user.");

    struct iam_principal owner = {
        .kind = IAM_PRINCIPAL_USER, .iam_id = iam_id, .account_id = account_id, .subject_id = iam_id,
        .login = admin_login,
    };
    struct iam_apikey_create_request request = {
        .name = "bootstrap-admin",
        .description = "API key of the instance administrator, created on first start",
        .iam_id = iam_id,
        .account_id = account_id,
    };
    struct iam_apikey_record key;
    const char *value = NULL;
    result = iam_apikey_create(service, arena, &owner, &request, &key, &value, err);
    if (result != IAM_OK)
        return result;
    result = iam_store_meta_insert(service->store, BOOTSTRAP_META_KEY, account_id);
    if (result != IAM_OK)
        return iam_error_set(err, result, "", "Cannot record the bootstrap.");
    out->created = true;
    out->account_id = iam_arena_strdup(arena, account_id);
    out->iam_id = iam_arena_strdup(arena, iam_id);
    out->login = admin_login;
    out->apikey_id = key.id;
    out->apikey_name = request.name;
    out->apikey_description = request.description;
    out->apikey = value;
    out->created_at = key.created_at;
    if (!out->account_id || !out->iam_id)
        return iam_error_set(err, IAM_ENOMEM, "", "Out of memory.");
    return IAM_OK;
}
