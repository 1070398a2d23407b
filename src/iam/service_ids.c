/*
 * service_ids.c: service IDs (service_ids.h): create with an optional first
 * key in one transaction, read with history and activity (summed over the
 * keys), list with the name filters, update, delete with its keys, and
 * lock/unlock; every operation behind iam_authz_check().
 *
 * Message codes set here: BXNIM0103E service ID not found, BXNIM0109E
 * invalid property, BXNIM0110E invalid query parameter, BXNIM0500E internal,
 * BXNIM0501E stale entity tag, BXNIM0510E locked, BXNIM0511E duplicate key
 * value, BXNIM0105E account not found (create or list in another account).
 */
#include "iam/service_ids.h"
#include "common/log.h"
#include "iam/authn.h"
#include "iam/engine.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "store/store.h"

#define HISTORY_LIMIT 100
#define SERVICE_ID_ID_MAX 64
#define KEYS_PAGE 100

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
}

static enum iam_result not_set_up(struct iam_error *err)
{
    return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The service ID service is not set up.");
}

static enum iam_result service_id_not_found(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0103E", "Service ID not found.");
}

static enum iam_result service_id_locked(struct iam_error *err)
{
    return iam_error_set(err, IAM_ELOCKED, "BXNIM0510E", "The service ID is locked; unlock it before changing it.");
}

static enum iam_result stale_tag(struct iam_error *err)
{
    return iam_error_set(err, IAM_ECONFLICT, "BXNIM0501E",
                         "The entity tag does not match the service ID's current version; read it again and retry.");
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Checks unique_instance_crns and writes them as the JSON array text the record keeps. */
static enum iam_result crns_to_json(struct iam_arena *arena, const char *const *crns, size_t count, const char **out,
                                    struct iam_error *err)
{
    if (count > IAM_SERVICE_ID_CRNS_MAX)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E",
                             "The property unique_instance_crns has more than %d entries.", IAM_SERVICE_ID_CRNS_MAX);
    json_t *array = json_array();
    if (!array)
        return no_memory(err);
    enum iam_result result = IAM_OK;
    for (size_t i = 0; i < count; i++) {
        if ((result = iam_text_check("unique_instance_crns", crns[i], IAM_SERVICE_ID_CRN_LENGTH_MAX, false, err)) !=
            IAM_OK)
            goto out;
        if (json_array_append_new(array, json_string(crns[i])) != 0) {
            result = no_memory(err);
            goto out;
        }
    }
    char *text = json_dumps(array, JSON_COMPACT);
    if (!text) {
        result = no_memory(err);
        goto out;
    }
    *out = iam_arena_strdup(arena, text);
    free(text);
    if (!*out)
        result = no_memory(err);
out:
    json_decref(array);
    return result;
}

/* Parses the record's JSON array text into the view (anything unreadable is an empty list). */
static enum iam_result crns_from_json(struct iam_arena *arena, const char *text, struct iam_service_id_view *view,
                                      struct iam_error *err)
{
    view->unique_instance_crns = NULL;
    view->unique_instance_crn_count = 0;
    json_t *array = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_array(array) || json_array_size(array) == 0) {
        json_decref(array);
        return IAM_OK;
    }
    enum iam_result result = IAM_OK;
    size_t count = json_array_size(array);
    const char **items = iam_arena_alloc(arena, count * sizeof *items);
    if (!items) {
        result = no_memory(err);
        goto out;
    }
    size_t index;
    json_t *item;
    size_t kept = 0;
    json_array_foreach(array, index, item) {
        if (!json_is_string(item))
            continue;
        if (!(items[kept] = iam_arena_strdup(arena, json_string_value(item)))) {
            result = no_memory(err);
            goto out;
        }
        kept++;
    }
    view->unique_instance_crns = items;
    view->unique_instance_crn_count = kept;
out:
    json_decref(array);
    return result;
}

/* Calls `visit` for every API key of the service ID, page by page; stops early when it returns false. */
static enum iam_result each_key(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_service_id_record *service_id,
                                bool (*visit)(void *context, const struct iam_apikey_record *key), void *context,
                                struct iam_error *err)
{
    struct iam_apikey_query query = {
        .account_id = service_id->account_id, .iam_id = service_id->iam_id, .order = IAM_SORT_ASC, .limit = KEYS_PAGE};
    for (;;) {
        struct iam_apikey_record *keys = NULL;
        size_t count = 0;
        bool has_more = false;
        enum iam_result result = iam_store_apikey_list(service->store, arena, &query, &keys, &count, &has_more);
        if (result != IAM_OK)
            return iam_identity_store_failure(result, err);
        for (size_t i = 0; i < count; i++)
            if (!visit(context, &keys[i]))
                return IAM_OK;
        if (!has_more || count == 0)
            return IAM_OK;
        query.offset += (int64_t)count;
    }
}

struct activity_sum {
    struct iam_service *service;
    int64_t authn_count;
    int64_t last_authn;
};

static bool add_activity(void *context, const struct iam_apikey_record *key)
{
    struct activity_sum *sum = context;
    int64_t count, last;
    iam_apikey_activity(sum->service, key, &count, &last);
    sum->authn_count += count;
    if (last > sum->last_authn)
        sum->last_authn = last;
    return true;
}

static bool find_locked(void *context, const struct iam_apikey_record *key)
{
    bool *locked = context;
    *locked = key->locked;
    return !key->locked;
}

static enum iam_result fill_view(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_service_id_record *record, bool include_history,
                                 bool include_activity, struct iam_service_id_view *view, struct iam_error *err)
{
    memset(view, 0, sizeof *view);
    view->record = *record;
    enum iam_result result = crns_from_json(arena, record->unique_instance_crns, view, err);
    if (result != IAM_OK)
        return result;
    if (include_history) {
        view->has_history = true;
        result = iam_store_history_list(service->store, arena, record->id, HISTORY_LIMIT, &view->history,
                                        &view->history_count);
        if (result != IAM_OK)
            return iam_identity_store_failure(result, err);
    }
    if (include_activity) {
        struct activity_sum sum = {.service = service};
        if ((result = each_key(service, arena, record, add_activity, &sum, err)) != IAM_OK)
            return result;
        view->has_activity = true;
        view->authn_count = sum.authn_count;
        view->last_authn = sum.last_authn;
    }
    return IAM_OK;
}

/* Loads service ID `id` from the caller's account and authorizes `action` on it. */
static enum iam_result load_service_id(struct iam_service *service, struct iam_arena *arena,
                                       const struct iam_principal *who, const char *id, const char *action,
                                       struct iam_service_id_record *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !who->account_id || !who->iam_id)
        return not_set_up(err);
    if (!id || !*id || strlen(id) > SERVICE_ID_ID_MAX)
        return service_id_not_found(err);
    enum iam_result result = iam_store_service_id_get(service->store, arena, who->account_id, id, out);
    if (result == IAM_ENOTFOUND)
        return service_id_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    struct iam_target target = {.account_id = out->account_id, .owner_iam_id = out->iam_id};
    result = iam_authz_check(service, who, action, &target, err);
    return result == IAM_ENOTFOUND ? service_id_not_found(err) : result;
}

/* Stores a change to `updated` under a new entity tag, with its history. */
static enum iam_result save_change(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, struct iam_service_id_record *updated,
                                   const char *previous_tag, const char *action, const char *message,
                                   const char *const *params, struct iam_error *err)
{
    struct iam_history_record history;
    enum iam_result result = iam_entity_tag_next(arena, previous_tag, &updated->entity_tag, err);
    if (result != IAM_OK)
        return result;
    updated->modified_at = iam_now();
    if ((result = iam_history_make(arena, who, updated->id, action, message, params, &history, err)) != IAM_OK)
        return result;
    result = iam_store_service_id_update(service->store, updated, previous_tag, &history);
    iam_authn_forget(service); /* its keys' cached principals carry the old name */
    if (result == IAM_ECONFLICT)
        return stale_tag(err);
    if (result == IAM_ENOTFOUND)
        return service_id_not_found(err);
    return result == IAM_OK ? IAM_OK : iam_identity_store_failure(result, err);
}

static enum iam_result check_create_request(const struct iam_service_id_create_request *request,
                                            struct iam_error *err)
{
    enum iam_result result;
    if (!request)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The request is empty.");
    if (!request->account_id)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property account_id is required.");
    if (!iam_is_account_id(request->account_id))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property account_id is not a valid account ID.");
    if ((result = iam_text_check("name", request->name, IAM_NAME_MAX, false, err)) != IAM_OK)
        return result;
    if (request->description &&
        (result = iam_text_check("description", request->description, IAM_DESCRIPTION_MAX, true, err)) != IAM_OK)
        return result;
    if (request->group_id &&
        (result = iam_text_check("group_id", request->group_id, IAM_SERVICE_ID_GROUP_ID_MAX, false, err)) != IAM_OK)
        return result;
    return IAM_OK;
}

enum iam_result iam_service_id_create(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who,
                                      const struct iam_service_id_create_request *request,
                                      struct iam_service_id_view *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    enum iam_result result = check_create_request(request, err);
    if (result != IAM_OK)
        return result;
    if (!service || !service->store || !who || !who->iam_id || !who->account_id)
        return not_set_up(err);
    struct iam_service_id_record record = {0};
    if ((result = crns_to_json(arena, request->unique_instance_crns, request->unique_instance_crn_count,
                               &record.unique_instance_crns, err)) != IAM_OK)
        return result;
    struct iam_target target = {.account_id = request->account_id};
    result = iam_authz_check(service, who, IAM_ACTION_SERVICEID_CREATE, &target, err);
    if (result == IAM_ENOTFOUND)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
    if (result != IAM_OK)
        return result;

    char id[IAM_ID_SIZE];
    if (iam_prefixed_id_new("ServiceId-", id) != IAM_OK)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot create a service ID.");
    int64_t now = iam_now();
    record.id = iam_arena_strdup(arena, id);
    record.iam_id = iam_arena_printf(arena, "iam-%s", id);
    record.account_id = iam_arena_strdup(arena, request->account_id);
    record.group_id = request->group_id ? iam_arena_strdup(arena, request->group_id) : NULL;
    record.name = iam_arena_strdup(arena, request->name);
    record.description =
        request->description && *request->description ? iam_arena_strdup(arena, request->description) : NULL;
    record.created_by = iam_arena_strdup(arena, who->iam_id);
    if (!record.id || !record.iam_id || !record.account_id || !record.name || !record.created_by ||
        (request->group_id && !record.group_id) ||
        (request->description && *request->description && !record.description))
        return no_memory(err);
    if ((result = iam_entity_tag_next(arena, NULL, &record.entity_tag, err)) != IAM_OK)
        return result;
    record.locked = request->locked;
    record.created_at = now;
    record.modified_at = now;

    struct iam_history_record history[2];
    size_t history_count = 1;
    const char *params[] = {record.name, NULL};
    result = iam_history_make(arena, who, record.id, "CreateServiceId", "Service ID created.", params, &history[0],
                              err);
    if (result != IAM_OK)
        return result;
    struct iam_apikey_record key = {0};
    const char *value = NULL;
    if (request->apikey) {
        struct iam_apikey_create_request key_request = *request->apikey;
        key_request.iam_id = record.iam_id;
        key_request.account_id = record.account_id;
        result = iam_apikey_prepare(service, arena, who, &key_request, record.account_id, &key, &value, err);
        if (result != IAM_OK)
            return result;
        const char *key_params[] = {key.name, NULL};
        result = iam_history_make(arena, who, key.id, "CreateApiKey", "API key created.", key_params, &history[1],
                                  err);
        if (result != IAM_OK)
            goto fail;
        history_count = 2;
    }
    result = iam_store_service_id_insert(service->store, &record, request->apikey ? &key : NULL, history,
                                         history_count);
    if (result == IAM_ECONFLICT) {
        result = iam_error_set(err, IAM_ECONFLICT, "BXNIM0511E", "An API key with this value already exists.");
        goto fail;
    }
    if (result != IAM_OK) {
        result = iam_identity_store_failure(result, err);
        goto fail;
    }
    if ((result = fill_view(service, arena, &record, false, false, out, err)) != IAM_OK)
        goto fail;
    if (request->apikey) {
        out->has_apikey = true;
        out->apikey.record = key;
        out->apikey.value = value;
    }
    return IAM_OK;
fail:
    if (value)
        iam_wipe((char *)value, strlen(value));
    memset(out, 0, sizeof *out);
    return result;
}

enum iam_result iam_service_id_get(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, const char *id,
                                   const struct iam_service_id_read_options *options, struct iam_service_id_view *out,
                                   struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    struct iam_service_id_record record;
    enum iam_result result = load_service_id(service, arena, who, id, IAM_ACTION_SERVICEID_READ, &record, err);
    if (result != IAM_OK)
        return result;
    return fill_view(service, arena, &record, options && options->include_history,
                     options && options->include_activity, out, err);
}

static enum iam_result bad_query(struct iam_error *err, const char *message)
{
    return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "%s", message);
}

enum iam_result iam_service_id_list(struct iam_service *service, struct iam_arena *arena,
                                    const struct iam_principal *who, const struct iam_service_id_list_request *request,
                                    struct iam_service_id_page *out, struct iam_error *err)
{
    static const char *const sorts[] = {"name", "description", "created_at", "modified_at"};
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !request)
        return not_set_up(err);
    struct iam_service_id_query query = {
        .account_id = request->account_id,
        .name = request->name,
        .group_id = request->group_id,
        .sort = request->sort,
        .offset = request->offset,
        .limit = request->limit,
    };
    enum iam_result result;
    if (!request->account_id)
        return bad_query(err, "The query parameter account_id is required.");
    if (!iam_is_account_id(request->account_id))
        return bad_query(err, "The query parameter account_id is not a valid account ID.");
    if (request->sort) {
        bool known = false;
        for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++)
            known = known || strcmp(sorts[i], request->sort) == 0;
        if (!known)
            return bad_query(err, "The query parameter sort must be name, description, created_at or modified_at.");
    }
    if ((result = iam_sort_order_parse(request->order, &query.order, err)) != IAM_OK)
        return result;
    if (request->offset < 0 || request->limit < 1 || request->limit > 100)
        return bad_query(err, "The page size must be 1 to 100.");
    if (request->name && iam_text_check("name", request->name, IAM_NAME_MAX, true, err) != IAM_OK)
        return bad_query(err, "The query parameter name is not valid.");
    if (request->group_id && iam_text_check("group_id", request->group_id, IAM_SERVICE_ID_GROUP_ID_MAX, true, err) !=
                                 IAM_OK)
        return bad_query(err, "The query parameter group_id is not valid.");
    bool nothing_matches = false;
    if (request->filter) {
        const char *equals = NULL;
        if ((result = iam_name_filter_parse(arena, request->filter, &equals, &query.name_contains, err)) != IAM_OK)
            return result;
        if (equals && query.name && strcmp(equals, query.name) != 0)
            nothing_matches = true; /* name=a and name eq "b" */
        if (equals)
            query.name = equals;
    }
    struct iam_target target = {.account_id = request->account_id};
    result = iam_authz_check(service, who, IAM_ACTION_SERVICEID_READ, &target, err);
    if (result == IAM_ENOTFOUND)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
    /* Without account-wide read, the list holds the service IDs the caller may read one by one (as IBM lists). */
    bool each = result == IAM_EDENIED;
    if (result != IAM_OK && !each)
        return result;
    iam_error_clear(err);
    if (nothing_matches)
        return IAM_OK;

    struct iam_service_id_record *records = NULL;
    size_t count = 0;
    result = iam_store_service_id_list(service->store, arena, &query, &records, &count, &out->has_more);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    if (count > 0 && !(out->items = iam_arena_alloc(arena, count * sizeof *out->items)))
        return no_memory(err);
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (each) {
            struct iam_target item = {.account_id = records[i].account_id, .owner_iam_id = records[i].iam_id,
                                      .created_by = records[i].created_by};
            struct iam_error ignored;
            if (iam_authz_check(service, who, IAM_ACTION_SERVICEID_READ, &item, &ignored) != IAM_OK)
                continue;
        }
        if ((result = fill_view(service, arena, &records[i], request->include_history, false, &out->items[kept],
                                err)) != IAM_OK)
            return result;
        kept++;
    }
    out->count = kept;
    return IAM_OK;
}

enum iam_result iam_service_id_update(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *id,
                                      const char *expected_entity_tag,
                                      const struct iam_service_id_update_request *request,
                                      struct iam_service_id_view *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    enum iam_result result;
    if (!request)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The request is empty.");
    if (request->name && (result = iam_text_check("name", request->name, IAM_NAME_MAX, false, err)) != IAM_OK)
        return result;
    if (request->description &&
        (result = iam_text_check("description", request->description, IAM_DESCRIPTION_MAX, true, err)) != IAM_OK)
        return result;
    const char *crns = NULL;
    if (request->set_unique_instance_crns &&
        (result = crns_to_json(arena, request->unique_instance_crns, request->unique_instance_crn_count, &crns,
                               err)) != IAM_OK)
        return result;
    struct iam_service_id_record record;
    if ((result = load_service_id(service, arena, who, id, IAM_ACTION_SERVICEID_UPDATE, &record, err)) != IAM_OK)
        return result;
    if (record.locked)
        return service_id_locked(err);
    if (expected_entity_tag && !same_text(expected_entity_tag, record.entity_tag))
        return stale_tag(err);

    struct iam_service_id_record updated = record;
    const char *changed[4];
    size_t changed_count = 0;
    if (request->name && !same_text(request->name, record.name)) {
        updated.name = request->name;
        changed[changed_count++] = "name";
    }
    if (request->description) {
        const char *description = *request->description ? request->description : NULL;
        if (!same_text(description, record.description)) {
            updated.description = description;
            changed[changed_count++] = "description";
        }
    }
    if (crns && !same_text(crns, record.unique_instance_crns ? record.unique_instance_crns : "[]")) {
        updated.unique_instance_crns = crns;
        changed[changed_count++] = "unique_instance_crns";
    }
    changed[changed_count] = NULL;
    if (changed_count > 0) {
        result = save_change(service, arena, who, &updated, record.entity_tag, "UpdateServiceId",
                             "Service ID updated.", changed, err);
        if (result != IAM_OK)
            return result;
    }
    return fill_view(service, arena, &updated, false, false, out, err);
}

enum iam_result iam_service_id_delete(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *id, struct iam_error *err)
{
    struct iam_service_id_record record;
    enum iam_result result = load_service_id(service, arena, who, id, IAM_ACTION_SERVICEID_DELETE, &record, err);
    if (result != IAM_OK)
        return result;
    if (record.locked)
        return service_id_locked(err);
    bool key_locked = false;
    if ((result = each_key(service, arena, &record, find_locked, &key_locked, err)) != IAM_OK)
        return result;
    if (key_locked)
        return iam_error_set(err, IAM_ELOCKED, "BXNIM0510E",
                             "An API key of the service ID is locked; unlock it before deleting the service ID.");
    result = iam_store_service_id_delete(service->store, record.account_id, record.id);
    iam_authn_forget(service); /* its keys went with it */
    if (result == IAM_ENOTFOUND)
        return service_id_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    /* Its memberships and policies went with it: decisions must see that at once. */
    if (service->engine && iam_engine_refresh(service->engine, false) != IAM_OK)
        iam_log(IAM_LOG_WARN, "engine_refresh_failed", "after deleting a service ID; the poller will retry");
    return IAM_OK;
}

enum iam_result iam_service_id_set_locked(struct iam_service *service, struct iam_arena *arena,
                                          const struct iam_principal *who, const char *id, bool locked,
                                          struct iam_error *err)
{
    struct iam_service_id_record record;
    enum iam_result result = load_service_id(service, arena, who, id, IAM_ACTION_SERVICEID_LOCK, &record, err);
    if (result != IAM_OK || record.locked == locked)
        return result;
    struct iam_service_id_record updated = record;
    updated.locked = locked;
    return save_change(service, arena, who, &updated, record.entity_tag, locked ? "LockServiceId" : "UnlockServiceId",
                       locked ? "Service ID locked." : "Service ID unlocked.", NULL, err);
}
