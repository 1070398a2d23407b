/*
 * accounts.c: accounts (accounts.h): who the instance operator is, creating
 * an account with its owner user, reading and listing accounts.
 *
 * The store has no single call that inserts an account and its owner, so
 * creation checks everything it can first (login free, password hashed),
 * then inserts the account, then the owner; if the owner cannot be
 * inserted (a login taken in between), the account is marked DISABLED and
 * the error returned, so no usable account without an owner remains.
 */
#include "iam/accounts.h"

#include <string.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "iam/apikeys.h"
#include "iam/engine.h"
#include "store/store_access.h"

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
}

static enum iam_result not_set_up(struct iam_error *err)
{
    return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The account service is not set up.");
}

static enum iam_result account_not_found(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
}

static enum iam_result operator_only(struct iam_error *err)
{
    return iam_error_set(err, IAM_EDENIED, "BXNIM0523E", "Only the instance operator may do this.");
}

enum iam_result iam_account_is_operator(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, bool *is_operator, struct iam_error *err)
{
    *is_operator = false;
    if (!service || !service->store || !who)
        return not_set_up(err);
    if (who->kind != IAM_PRINCIPAL_USER || !who->iam_id)
        return IAM_OK;
    const char *bootstrap = NULL;
    enum iam_result result = iam_store_meta_get(service->store, arena, IAM_BOOTSTRAP_ACCOUNT_META, &bootstrap);
    if (result == IAM_ENOTFOUND)
        return IAM_OK;
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    struct iam_account_record account;
    result = iam_store_account_get(service->store, arena, bootstrap, &account);
    if (result == IAM_ENOTFOUND)
        return IAM_OK;
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    *is_operator = account.owner_iam_id && strcmp(account.owner_iam_id, who->iam_id) == 0 && who->account_id &&
                   strcmp(account.id, who->account_id) == 0;
    return IAM_OK;
}

static void refresh_engine(struct iam_service *service)
{
    if (service->engine && iam_engine_refresh(service->engine, false) != IAM_OK)
        iam_log(IAM_LOG_WARN, "engine_refresh", "the decision engine could not be refreshed after an account change");
}

enum iam_result iam_account_create(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, const struct iam_account_create_request *request,
                                   struct iam_account_record *account, struct iam_user_view *owner,
                                   struct iam_error *err)
{
    memset(account, 0, sizeof *account);
    memset(owner, 0, sizeof *owner);
    if (!request)
        return not_set_up(err);
    bool is_operator = false;
    enum iam_result result = iam_account_is_operator(service, arena, who, &is_operator, err);
    if (result != IAM_OK)
        return result;
    if (!is_operator)
        return operator_only(err);
    if ((result = iam_text_check("name", request->name, IAM_ACCOUNT_NAME_MAX, false, err)) != IAM_OK)
        return result;
    char account_id[IAM_ACCOUNT_ID_SIZE];
    if (iam_account_id_new(account_id) != IAM_OK)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot create an identifier.");
    struct iam_user_record user;
    if ((result = iam_user_prepare(service, arena, account_id, &request->owner, false, &user, err)) != IAM_OK)
        return result;
    struct iam_account_record record = {
        .id = user.account_id,
        .name = request->name,
        .owner_iam_id = user.iam_id,
        .state = "ACTIVE",
        .created_at = user.created_at,
        .modified_at = user.created_at,
    };
    result = iam_store_account_insert(service->store, &record);
    if (result != IAM_OK)
        return iam_identity_store_failure(result == IAM_ECONFLICT ? IAM_EINTERNAL : result, err);
    result = iam_store_user_insert(service->store, &user);
    if (result != IAM_OK) {
        struct iam_account_record disabled = record;
        disabled.state = "DISABLED";
        disabled.modified_at = iam_now();
        if (iam_store_account_update(service->store, &disabled) != IAM_OK)
            iam_log(IAM_LOG_ERROR, "account_create", "account %s has no owner and could not be disabled", record.id);
        refresh_engine(service);
        if (result == IAM_ECONFLICT)
            return iam_error_set(err, IAM_ECONFLICT, "BXNIM0520E", "The login is already in use.");
        return iam_identity_store_failure(result, err);
    }
    refresh_engine(service);
    *account = record;
    owner->record = user;
    owner->password_set = user.password_hash != NULL;
    owner->record.password_hash = NULL;
    return IAM_OK;
}

enum iam_result iam_account_get(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *id, struct iam_account_record *out,
                                struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    bool is_operator = false;
    enum iam_result result = iam_account_is_operator(service, arena, who, &is_operator, err);
    if (result != IAM_OK)
        return result;
    if (!iam_is_account_id(id))
        return account_not_found(err);
    /* Scoping, not authorization: outside the operator, an identity sees only its own account. */
    if (!is_operator && (!who->account_id || strcmp(id, who->account_id) != 0))
        return account_not_found(err);
    result = iam_store_account_get(service->store, arena, id, out);
    if (result == IAM_ENOTFOUND)
        return account_not_found(err);
    return result == IAM_OK ? IAM_OK : iam_identity_store_failure(result, err);
}

enum iam_result iam_account_list(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, int64_t offset, int64_t limit,
                                 struct iam_account_page *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (offset < 0 || limit < 1 || limit > IAM_STORE_LIST_LIMIT_MAX)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "The page asked for is out of range.");
    bool is_operator = false;
    enum iam_result result = iam_account_is_operator(service, arena, who, &is_operator, err);
    if (result != IAM_OK)
        return result;
    if (is_operator) {
        result = iam_store_account_list(service->store, arena, offset, limit, &out->items, &out->count,
                                        &out->has_more);
        return result == IAM_OK ? IAM_OK : iam_identity_store_failure(result, err);
    }
    if (offset > 0 || !who->account_id)
        return IAM_OK;
    out->items = iam_arena_alloc(arena, sizeof *out->items);
    if (!out->items)
        return no_memory(err);
    result = iam_store_account_get(service->store, arena, who->account_id, &out->items[0]);
    if (result == IAM_ENOTFOUND)
        return IAM_OK;
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    out->count = 1;
    return IAM_OK;
}
