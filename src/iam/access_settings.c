/*
 * access_settings.c: the access-management settings of an account
 * (access_settings.h): defaults, partial updates checked field by field,
 * entity tags, behind iam_authz_check().
 *
 * Error codes set here (err->code): invalid_body 400, not_found 404,
 * insufficent_permissions 403, request_not_processed 409 (stale If-Match),
 * unable_to_process 500/503.
 */
#include "iam/access_settings.h"

#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/time.h"
#include "iam/apikeys.h"
#include "iam/policies.h"
#include "store/store_access.h"

#define DEFAULT_TAG "0-00000000000000000000000000000000"
#define ACCESS_MANAGEMENT "iam-access-management"

static const char *const identity_types[] = {"user", "service_id", "service", NULL};
static const char *const states[] = {"enabled", "monitor", "limited", NULL};

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_access_error(err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
}

static bool listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

static json_t *defaults(void)
{
    json_t *types = json_object();
    for (const char *const *type = identity_types; types && *type; type++) {
        if (json_object_set_new(types, *type,
                                json_pack("{s:s,s:[]}", "state", "enabled", "external_allowed_accounts")) != 0) {
            json_decref(types);
            types = NULL;
        }
    }
    return types ? json_pack("{s:{s:o}}", "external_account_identity_interaction", "identity_types", types) : NULL;
}

void iam_access_settings_view_release(struct iam_access_settings_view *view)
{
    if (!view)
        return;
    json_decref(view->settings);
    view->settings = NULL;
}

static json_t *identity_type(json_t *settings, const char *type)
{
    return json_object_get(json_object_get(json_object_get(settings, "external_account_identity_interaction"),
                                           "identity_types"),
                           type);
}

static enum iam_result authorize(struct iam_service *service, const struct iam_principal *who, const char *action,
                                 const char *account_id, struct iam_error *err)
{
    if (!service || !service->store || !who || !who->account_id)
        return iam_access_error(err, IAM_EINTERNAL, "unable_to_process", "The settings service is not set up.");
    if (!account_id || !iam_is_account_id(account_id))
        return iam_access_error(err, IAM_ENOTFOUND, "not_found", "Account not found.");
    struct iam_target target = {.account_id = account_id, .service_name = ACCESS_MANAGEMENT,
                                .resource_type = "settings"};
    enum iam_result result = iam_authz_check(service, who, action, &target, err);
    if (result == IAM_ENOTFOUND)
        return iam_access_error(err, IAM_ENOTFOUND, "not_found", "Account not found.");
    if (result == IAM_EDENIED)
        return iam_access_error(err, IAM_EDENIED, "insufficent_permissions",
                                "You are not allowed to do this with the access settings (%s).", action);
    return result;
}

/* Loads the stored settings merged over the defaults; `*stored_tag` NULL when none are stored. */
static enum iam_result load(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                            struct iam_access_settings_view *out, const char **stored_tag, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    *stored_tag = NULL;
    out->account_id = iam_arena_strdup(arena, account_id);
    out->settings = defaults();
    if (!out->account_id || !out->settings)
        return no_memory(err);
    struct iam_access_settings_record record;
    enum iam_result result = iam_store_access_settings_get(service->store, arena, account_id, &record);
    if (result == IAM_ENOTFOUND) {
        out->entity_tag = DEFAULT_TAG;
        return IAM_OK;
    }
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    *stored_tag = record.entity_tag;
    out->entity_tag = record.entity_tag ? record.entity_tag : DEFAULT_TAG;
    json_t *stored = record.settings ? json_loads(record.settings, JSON_REJECT_DUPLICATES, NULL) : NULL;
    for (const char *const *type = identity_types; *type; type++) {
        json_t *saved = identity_type(stored, *type);
        json_t *target = identity_type(out->settings, *type);
        const char *state = json_string_value(json_object_get(saved, "state"));
        json_t *accounts = json_object_get(saved, "external_allowed_accounts");
        if ((state && listed(states, state) && json_object_set_new(target, "state", json_string(state)) != 0) ||
            (json_is_array(accounts) &&
             json_object_set_new(target, "external_allowed_accounts", json_deep_copy(accounts)) != 0)) {
            json_decref(stored);
            return no_memory(err);
        }
    }
    json_decref(stored);
    return IAM_OK;
}

enum iam_result iam_access_settings_get(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *account_id,
                                        struct iam_access_settings_view *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    enum iam_result result = authorize(service, who, IAM_ACTION_ACCESS_SETTINGS_READ, account_id, err);
    if (result != IAM_OK)
        return result;
    const char *stored_tag;
    if ((result = load(service, arena, account_id, out, &stored_tag, err)) != IAM_OK)
        iam_access_settings_view_release(out);
    return result;
}

static enum iam_result invalid(struct iam_error *err, const char *message)
{
    return iam_access_error(err, IAM_EINVAL, "invalid_body", "%s", message);
}

/* Checks one identity type's change {state?, external_allowed_accounts?} and applies it to `target`. */
static enum iam_result apply_type(const json_t *change, json_t *target, struct iam_error *err)
{
    if (!json_is_object(change))
        return invalid(err, "Each identity type must be an object {state, external_allowed_accounts}.");
    const char *member;
    json_t *value;
    json_object_foreach((json_t *)change, member, value) {
        if (strcmp(member, "state") == 0) {
            if (!json_is_string(value) || !listed(states, json_string_value(value)))
                return invalid(err, "The state must be enabled, monitor or limited.");
            if (json_object_set(target, "state", value) != 0)
                return no_memory(err);
        } else if (strcmp(member, "external_allowed_accounts") == 0) {
            if (!json_is_array(value) || json_array_size(value) > IAM_ACCESS_SETTINGS_ALLOWED_ACCOUNTS_MAX)
                return invalid(err, "external_allowed_accounts must be a list of at most 100 account IDs.");
            for (size_t i = 0; i < json_array_size(value); i++) {
                const json_t *account = json_array_get(value, i);
                if (!json_is_string(account) || !iam_is_account_id(json_string_value(account)))
                    return invalid(err, "external_allowed_accounts must hold account IDs (32 lowercase hex).");
                for (size_t j = 0; j < i; j++)
                    if (json_equal(account, json_array_get(value, j)))
                        return invalid(err, "external_allowed_accounts lists an account twice.");
            }
            if (json_object_set_new(target, "external_allowed_accounts", json_deep_copy(value)) != 0)
                return no_memory(err);
        } else {
            return invalid(err, "An identity type has only state and external_allowed_accounts.");
        }
    }
    return IAM_OK;
}

/* Applies `changes` to `settings` (a copy the caller discards on failure). */
static enum iam_result apply_changes(const json_t *changes, json_t *settings, struct iam_error *err)
{
    if (!json_is_object(changes))
        return invalid(err, "The request body must be a JSON object.");
    const char *member;
    json_t *value;
    json_object_foreach((json_t *)changes, member, value) {
        if (strcmp(member, "external_account_identity_interaction") != 0)
            return invalid(err, "The only setting is external_account_identity_interaction.");
        if (!json_is_object(value) || json_object_size(value) != 1 || !json_object_get(value, "identity_types"))
            return invalid(err, "external_account_identity_interaction holds identity_types only.");
        const json_t *types = json_object_get(value, "identity_types");
        if (!json_is_object(types))
            return invalid(err, "identity_types must be an object of user, service_id and service.");
        const char *type;
        json_t *change;
        json_object_foreach((json_t *)types, type, change) {
            if (!listed(identity_types, type))
                return invalid(err, "identity_types has only user, service_id and service.");
            enum iam_result result = apply_type(change, identity_type(settings, type), err);
            if (result != IAM_OK)
                return result;
        }
    }
    return IAM_OK;
}

enum iam_result iam_access_settings_update(struct iam_service *service, struct iam_arena *arena,
                                           const struct iam_principal *who, const char *account_id,
                                           const char *expected_entity_tag, const json_t *changes,
                                           struct iam_access_settings_view *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    enum iam_result result = authorize(service, who, IAM_ACTION_ACCESS_SETTINGS_UPDATE, account_id, err);
    if (result != IAM_OK)
        return result;
    const char *stored_tag;
    json_t *updated = NULL;
    char *text = NULL;
    if ((result = load(service, arena, account_id, out, &stored_tag, err)) != IAM_OK)
        goto fail;
    if (expected_entity_tag && strcmp(expected_entity_tag, out->entity_tag) != 0) {
        result = iam_access_error(err, IAM_ECONFLICT, "request_not_processed",
                                  "The If-Match entity tag does not match the current settings; read them again.");
        goto fail;
    }
    if (!(updated = json_deep_copy(out->settings))) {
        result = no_memory(err);
        goto fail;
    }
    if ((result = apply_changes(changes, updated, err)) != IAM_OK)
        goto fail;
    if (json_equal(updated, out->settings)) {
        json_decref(updated);
        return IAM_OK;
    }
    struct iam_access_settings_record record = {.account_id = out->account_id, .modified_at = iam_now()};
    text = json_dumps(updated, JSON_COMPACT);
    if (!text || !(record.settings = iam_arena_strdup(arena, text))) {
        result = no_memory(err);
        goto fail;
    }
    if (iam_entity_tag_next(arena, stored_tag, &record.entity_tag, err) != IAM_OK) {
        result = iam_access_error(err, IAM_ECRYPTO, "unable_to_process", "Cannot create an entity tag.");
        goto fail;
    }
    result = iam_store_access_settings_put(service->store, &record, stored_tag);
    if (result == IAM_ECONFLICT) {
        result = iam_access_error(err, IAM_ECONFLICT, "request_not_processed",
                                  "The settings changed meanwhile; read them again and retry.");
        goto fail;
    }
    if (result == IAM_ENOTFOUND) {
        result = iam_access_error(err, IAM_ENOTFOUND, "not_found", "Account not found.");
        goto fail;
    }
    if (result != IAM_OK) {
        result = iam_access_store_failure(result, err);
        goto fail;
    }
    free(text);
    iam_access_refresh(service);
    json_decref(out->settings);
    out->settings = updated;
    out->entity_tag = record.entity_tag;
    return IAM_OK;
fail:
    free(text);
    json_decref(updated);
    iam_access_settings_view_release(out);
    return result;
}
