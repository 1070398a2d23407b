/*
 * authz.c: the single authorization gate of every management operation.
 *
 * Rules, in order (see principal.h):
 *  1. another account's object is IAM_ENOTFOUND;
 *  2. restricted creation (IBM 6.2): with restrict_create_service_id or
 *     restrict_create_platform_apikey set to RESTRICTED, creating a service ID
 *     or a user API key needs ServiceIdCreator / UserApiKeyCreator from a
 *     policy, the account owner included;
 *  3. the account owner may do everything else;
 *  4. a user manages their own API keys, and anyone may introspect or revoke
 *     their own tokens;
 *  5. the creator of a service ID administers it and its keys (the implicit
 *     creator rule: no policy is written, so deleting the creator's access
 *     elsewhere does not orphan it, and the rule is visible here);
 *  6. otherwise the policy engine decides on the object's resource attributes
 *     (serviceName, resourceType, resource): allowed only if a policy grants
 *     the action. A refusal is IAM_EDENIED with IBM's code.
 * A database failure while checking (settings, the account's owner, a service
 * ID's creator) is IAM_EUNAVAILABLE (503), never a guessed refusal.
 */
#include <string.h>

#include "common/arena.h"
#include "common/time.h"
#include "iam/engine.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "iam/settings.h"
#include "store/store.h"

#define AUTHZ_MAX_ATTRIBUTES 16

static bool starts_with(const char *text, const char *prefix)
{
    return text && strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool is_action(const char *action, const char *expected)
{
    return strcmp(action, expected) == 0;
}

/* The service an action belongs to: its prefix before the first dot (copied into `out`). */
static const char *action_service(const char *action, char *out, size_t size)
{
    const char *dot = strchr(action, '.');
    size_t length = dot ? (size_t)(dot - action) : strlen(action);
    if (length >= size)
        length = size - 1;
    memcpy(out, action, length);
    out[length] = '\0';
    return out;
}

static enum iam_result deny(struct iam_error *err, const char *action)
{
    return iam_error_set(err, IAM_EDENIED, "BXNIM0513E", "You are not authorized to perform this action (%s).",
                         action);
}

static enum iam_result unavailable(struct iam_error *err)
{
    return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
}

/* Whether a store call failed because the database is away: answered 503, not guessed. */
static bool store_unavailable(enum iam_result result)
{
    return result == IAM_ESTORE || result == IAM_EUNAVAILABLE;
}

/*
 * RESTRICTED creation needs the creator role, which only a policy grants.
 * Sets `*restricted`; a database failure is returned (so it answers 503).
 */
static enum iam_result creation_restricted(struct iam_service *service, struct iam_arena *arena,
                                           const char *account_id, const char *action,
                                           const struct iam_target *target, const struct iam_principal *who,
                                           bool *restricted)
{
    *restricted = false;
    const char *setting = NULL;
    if (is_action(action, IAM_ACTION_SERVICEID_CREATE))
        setting = "restrict_create_service_id";
    else if (is_action(action, IAM_ACTION_APIKEY_CREATE) && target->owner_iam_id &&
             !starts_with(target->owner_iam_id, "iam-ServiceId-") && who->kind == IAM_PRINCIPAL_USER)
        setting = "restrict_create_platform_apikey";
    if (!setting)
        return IAM_OK;
    const char *value = NULL;
    enum iam_result result = iam_settings_value(service, arena, account_id, setting, &value);
    if (store_unavailable(result))
        return result;
    *restricted = result != IAM_OK || strcmp(value, "RESTRICTED") == 0; /* cannot tell: fail closed */
    return IAM_OK;
}

/* Asks the engine, describing the target as IBM policies name resources. */
static bool engine_permits(struct iam_service *service, const struct iam_principal *who, const char *action,
                           const struct iam_target *target)
{
    if (!service->engine)
        return false;
    struct iam_engine_attribute attributes[AUTHZ_MAX_ATTRIBUTES];
    size_t count = 0;
    char service_name[64];
    const char *resource_type = target->resource_type;
    const char *resource = target->resource;
    /* An identity's objects are scoped as IBM scopes them: a service ID and its keys
     * by resourceType=serviceid, resource=ServiceId-...; user keys by resourceType=apikey. */
    if (!resource_type && target->owner_iam_id && starts_with(action, "iam-identity.")) {
        if (starts_with(target->owner_iam_id, "iam-ServiceId-")) {
            resource_type = "serviceid";
            resource = target->owner_iam_id + 4;
        } else if (starts_with(action, "iam-identity.apikey.")) {
            resource_type = "apikey";
        }
    }
    attributes[count++] = (struct iam_engine_attribute){
        "serviceName", target->service_name ? target->service_name
                                            : action_service(action, service_name, sizeof service_name)};
    if (resource_type)
        attributes[count++] = (struct iam_engine_attribute){"resourceType", resource_type};
    if (resource)
        attributes[count++] = (struct iam_engine_attribute){"resource", resource};
    for (size_t i = 0; i < target->attribute_count && count < AUTHZ_MAX_ATTRIBUTES; i++) {
        const char *name = target->attributes[i].name;
        if (strcmp(name, "accountId") == 0 || strcmp(name, "serviceName") == 0 ||
            (resource_type && strcmp(name, "resourceType") == 0) || (resource && strcmp(name, "resource") == 0))
            continue;
        attributes[count++] = (struct iam_engine_attribute){name, target->attributes[i].value};
    }
    struct iam_engine_request request = {
        .account_id = target->account_id,
        .subject_iam_id = who->iam_id,
        .action = action,
        .resource = attributes,
        .resource_count = count,
        .now = iam_now(),
    };
    struct iam_engine_decision decision;
    return iam_engine_decide(service->engine, &request, &decision) == IAM_OK && decision.permitted;
}

/*
 * The creator rule: sets `*creator` when `who` created the service ID the
 * target is, or whose key the target is. A database failure is returned.
 */
static enum iam_result created_by_caller(struct iam_service *service, struct iam_arena *arena,
                                         const struct iam_principal *who, const struct iam_target *target,
                                         bool *creator)
{
    *creator = false;
    if (target->created_by) {
        *creator = strcmp(target->created_by, who->iam_id) == 0 && starts_with(target->owner_iam_id, "iam-ServiceId-");
        return IAM_OK;
    }
    if (!starts_with(target->owner_iam_id, "iam-ServiceId-"))
        return IAM_OK;
    struct iam_service_id_record service_id;
    enum iam_result result = iam_store_service_id_get_by_iam_id(service->store, arena, target->account_id,
                                                                target->owner_iam_id, &service_id);
    if (store_unavailable(result))
        return result;
    *creator = result == IAM_OK && service_id.created_by && strcmp(service_id.created_by, who->iam_id) == 0;
    return IAM_OK;
}

/* Sets `*owner`; a database failure is returned (so it answers 503). */
static enum iam_result is_account_owner(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, bool *owner)
{
    *owner = false;
    if (who->kind != IAM_PRINCIPAL_USER)
        return IAM_OK;
    struct iam_account_record account;
    enum iam_result result = iam_store_account_get(service->store, arena, who->account_id, &account);
    if (store_unavailable(result))
        return result;
    *owner = result == IAM_OK && account.owner_iam_id && strcmp(account.owner_iam_id, who->iam_id) == 0;
    return IAM_OK;
}

enum iam_result iam_authz_check(struct iam_service *service, const struct iam_principal *who, const char *action,
                                const struct iam_target *target, struct iam_error *err)
{
    if (!service || !who || !who->account_id || !who->iam_id || !target || !target->account_id || !action)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "Authorization check without a subject or target.");
    if (strcmp(who->account_id, target->account_id) != 0)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0404E", "The requested object was not found.");
    struct iam_arena *arena = iam_arena_new();
    if (!arena)
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    enum iam_result result = IAM_OK;
    bool own = target->owner_iam_id && strcmp(target->owner_iam_id, who->iam_id) == 0;

    bool restricted = false, owner = false;
    result = creation_restricted(service, arena, target->account_id, action, target, who, &restricted);
    if (result == IAM_OK && !restricted)
        result = is_account_owner(service, arena, who, &owner);
    if (result != IAM_OK) {
        result = unavailable(err);
        goto out;
    }
    if (restricted) {
        /* Only the creator roles grant these actions; no owner or self shortcut. */
        const char *creator_action = is_action(action, IAM_ACTION_SERVICEID_CREATE) ? action
                                                                                    : IAM_ACTION_USER_APIKEY_CREATE;
        result = engine_permits(service, who, creator_action, target) ? IAM_OK : deny(err, action);
        goto out;
    }
    if (owner)
        goto out;
    if (own && who->kind == IAM_PRINCIPAL_USER && starts_with(action, "iam-identity.apikey."))
        goto out; /* a user's own API keys */
    if (own && (is_action(action, IAM_ACTION_TOKEN_INTROSPECT)))
        goto out;
    if (is_action(action, IAM_ACTION_SERVICEID_CREATE) && target->owner_iam_id == NULL) {
        /* Not restricted (checked above): anyone in the account may create service IDs (IBM 6.2). */
        goto out;
    }
    if (is_action(action, IAM_ACTION_APIKEY_CREATE) && own && who->kind == IAM_PRINCIPAL_USER)
        goto out;
    if (engine_permits(service, who, action, target))
        goto out;
    /* Keys of other users need apikey.manage (all keys in the account). */
    if (starts_with(action, "iam-identity.apikey.") && target->owner_iam_id &&
        !starts_with(target->owner_iam_id, "iam-ServiceId-") &&
        engine_permits(service, who, IAM_ACTION_APIKEY_MANAGE, target))
        goto out;
    bool creator = false;
    if (starts_with(action, "iam-identity.") && created_by_caller(service, arena, who, target, &creator) != IAM_OK) {
        result = unavailable(err);
        goto out;
    }
    if (creator)
        goto out;
    result = deny(err, action);
out:
    iam_arena_free(arena);
    return result;
}
