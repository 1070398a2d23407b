/*
 * store.c: the public iam_store_* functions.
 *
 * Picks a backend from the location given to iam_store_open, checks the
 * arguments every backend would otherwise check the same way (NULL pointers,
 * page bounds, sort and type names), and dispatches through the backend's
 * table of functions (backend.h), measuring each call (timed.h). Nothing
 * here knows SQL.
 */
#include "store/store.h"

#include <string.h>

#include "store/backend.h"
#include "store/store_access.h"
#include "store/timed.h"

#define SQLITE_SCHEME "sqlite:"

enum iam_result iam_store_open(const char *location, struct iam_store **out, struct iam_error *err)
{
    if (!out)
        return iam_error_set(err, IAM_EINVAL, NULL, "no place to return the store");
    *out = NULL;
    if (!location || location[0] == '\0')
        return iam_error_set(err, IAM_EINVAL, NULL, "the store location is empty");
    if (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0)
        return iam_store_postgres_open(location, out, err);
    const char *path = location;
    if (strncmp(location, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) == 0)
        path = location + strlen(SQLITE_SCHEME);
    return iam_store_sqlite_open(path, out, err);
}

void iam_store_close(struct iam_store *store)
{
    if (store)
        store->backend->close(store);
}

enum iam_result iam_store_schema_version(struct iam_store *store, int64_t *version)
{
    if (!store || !version)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->schema_version(store, version));
}

enum iam_result iam_store_revision(struct iam_store *store, int64_t *revision)
{
    if (!store || !revision)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->revision(store, revision));
}

/* --- instance-wide named locks --- */

enum iam_result iam_store_try_lock(struct iam_store *store, const char *name, bool *acquired)
{
    if (!store || !name || !acquired)
        return IAM_EINVAL;
    *acquired = false;
    if (!store->backend->try_lock) {
        *acquired = true; /* one process owns the database */
        return IAM_OK;
    }
    IAM_STORE_RETURN_TIMED(store->backend->try_lock(store, name, acquired));
}

enum iam_result iam_store_unlock(struct iam_store *store, const char *name)
{
    if (!store || !name)
        return IAM_EINVAL;
    if (!store->backend->unlock)
        return IAM_OK;
    IAM_STORE_RETURN_TIMED(store->backend->unlock(store, name));
}

/* --- instance metadata --- */

enum iam_result iam_store_meta_get(struct iam_store *store, struct iam_arena *arena, const char *key,
                                   const char **value)
{
    if (!store || !arena || !key || !value)
        return IAM_EINVAL;
    *value = NULL;
    IAM_STORE_RETURN_TIMED(store->backend->meta_get(store, arena, key, value));
}

enum iam_result iam_store_meta_insert(struct iam_store *store, const char *key, const char *value)
{
    if (!store || !key || !value)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->meta_insert(store, key, value));
}

enum iam_result iam_store_meta_set(struct iam_store *store, const char *key, const char *value)
{
    if (!store || !key || !value)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->meta_set(store, key, value));
}

/* --- accounts --- */

enum iam_result iam_store_account_insert(struct iam_store *store, const struct iam_account_record *account)
{
    if (!store || !account || !account->id)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->account_insert(store, account));
}

enum iam_result iam_store_account_get(struct iam_store *store, struct iam_arena *arena, const char *id,
                                      struct iam_account_record *out)
{
    if (!store || !arena || !id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    IAM_STORE_RETURN_TIMED(store->backend->account_get(store, arena, id, out));
}

enum iam_result iam_store_account_count(struct iam_store *store, int64_t *count)
{
    if (!store || !count)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->account_count(store, count));
}

/* --- users --- */

enum iam_result iam_store_user_insert(struct iam_store *store, const struct iam_user_record *user)
{
    if (!store || !user || !user->iam_id || !user->account_id)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->user_insert(store, user));
}

enum iam_result iam_store_user_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                   const char *iam_id, struct iam_user_record *out)
{
    if (!store || !arena || !account_id || !iam_id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    IAM_STORE_RETURN_TIMED(store->backend->user_get(store, arena, account_id, iam_id, out));
}

enum iam_result iam_store_user_get_by_login(struct iam_store *store, struct iam_arena *arena, const char *login,
                                            struct iam_user_record *out)
{
    if (!store || !arena || !login || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    IAM_STORE_RETURN_TIMED(store->backend->user_get_by_login(store, arena, login, out));
}

/* --- service IDs --- */

static bool history_valid(const struct iam_history_record *history, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!history[i].entity_id || !history[i].action)
            return false;
    }
    return true;
}

static bool page_valid(int64_t offset, int64_t limit)
{
    return offset >= 0 && limit >= 1 && limit <= IAM_STORE_LIST_LIMIT_MAX;
}

enum iam_result iam_store_service_id_insert(struct iam_store *store, const struct iam_service_id_record *service_id,
                                            const struct iam_apikey_record *apikey,
                                            const struct iam_history_record *history, size_t history_count)
{
    if (!store || !service_id || !service_id->id || !service_id->iam_id || !service_id->account_id)
        return IAM_EINVAL;
    if (history_count > 0 && (!history || !history_valid(history, history_count)))
        return IAM_EINVAL;
    /* The first key belongs to the new service ID, in the same account. */
    if (apikey && (!apikey->id || !apikey->account_id || !apikey->iam_id ||
                   strcmp(apikey->account_id, service_id->account_id) != 0 ||
                   strcmp(apikey->iam_id, service_id->iam_id) != 0))
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->service_id_insert(store, service_id, apikey, history, history_count));
}

enum iam_result iam_store_service_id_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                         const char *id, struct iam_service_id_record *out)
{
    if (!store || !arena || !account_id || !id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    IAM_STORE_RETURN_TIMED(store->backend->service_id_get(store, arena, account_id, id, out));
}

enum iam_result iam_store_service_id_get_by_iam_id(struct iam_store *store, struct iam_arena *arena,
                                                   const char *account_id, const char *iam_id,
                                                   struct iam_service_id_record *out)
{
    if (!store || !arena || !account_id || !iam_id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    IAM_STORE_RETURN_TIMED(store->backend->service_id_get_by_iam_id(store, arena, account_id, iam_id, out));
}

static enum iam_result service_id_sort_parse(const char *text, enum iam_store_service_id_sort *sort)
{
    static const struct {
        const char *name;
        enum iam_store_service_id_sort sort;
    } names[] = {
        {"created_at", IAM_STORE_SERVICE_ID_SORT_CREATED_AT},
        {"name", IAM_STORE_SERVICE_ID_SORT_NAME},
        {"description", IAM_STORE_SERVICE_ID_SORT_DESCRIPTION},
        {"modified_at", IAM_STORE_SERVICE_ID_SORT_MODIFIED_AT},
    };
    if (!text) {
        *sort = IAM_STORE_SERVICE_ID_SORT_CREATED_AT;
        return IAM_OK;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(text, names[i].name) == 0) {
            *sort = names[i].sort;
            return IAM_OK;
        }
    }
    return IAM_EINVAL;
}

enum iam_result iam_store_service_id_list(struct iam_store *store, struct iam_arena *arena,
                                          const struct iam_service_id_query *query,
                                          struct iam_service_id_record **items, size_t *count, bool *has_more)
{
    if (!store || !arena || !query || !query->account_id || !items || !count || !has_more)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    *has_more = false;
    if (!page_valid(query->offset, query->limit))
        return IAM_EINVAL;
    if (query->order != IAM_SORT_ASC && query->order != IAM_SORT_DESC)
        return IAM_EINVAL;
    enum iam_store_service_id_sort sort;
    if (service_id_sort_parse(query->sort, &sort) != IAM_OK)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->service_id_list(store, arena, query, sort, items, count, has_more));
}

enum iam_result iam_store_service_id_update(struct iam_store *store, const struct iam_service_id_record *updated,
                                            const char *expected_entity_tag,
                                            const struct iam_history_record *history)
{
    if (!store || !updated || !updated->id || !updated->account_id)
        return IAM_EINVAL;
    if (history && !history_valid(history, 1))
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->service_id_update(store, updated, expected_entity_tag, history));
}

enum iam_result iam_store_service_id_delete(struct iam_store *store, const char *account_id, const char *id)
{
    if (!store || !account_id || !id)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->service_id_delete(store, account_id, id));
}

/* --- API keys --- */

enum iam_result iam_store_apikey_insert(struct iam_store *store, const struct iam_apikey_record *apikey,
                                        const struct iam_history_record *history)
{
    if (!store || !apikey || !apikey->id || !apikey->account_id || !apikey->iam_id)
        return IAM_EINVAL;
    if (history && !history_valid(history, 1))
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->apikey_insert(store, apikey, history));
}

enum iam_result iam_store_apikey_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *id, struct iam_apikey_record *out)
{
    if (!store || !arena || !account_id || !id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    IAM_STORE_RETURN_TIMED(store->backend->apikey_get(store, arena, account_id, id, out));
}

enum iam_result iam_store_apikey_get_by_hash(struct iam_store *store, struct iam_arena *arena,
                                             const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                             struct iam_apikey_record *out)
{
    if (!store || !arena || !hash || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    IAM_STORE_RETURN_TIMED(store->backend->apikey_get_by_hash(store, arena, hash, out));
}

enum iam_result iam_store_apikey_get_by_id(struct iam_store *store, struct iam_arena *arena, const char *id,
                                           struct iam_apikey_record *out)
{
    if (!store || !arena || !id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    IAM_STORE_RETURN_TIMED(store->backend->apikey_get_by_id(store, arena, id, out));
}

static enum iam_result apikey_sort_parse(const char *text, enum iam_store_apikey_sort *sort)
{
    static const struct {
        const char *name;
        enum iam_store_apikey_sort sort;
    } names[] = {
        {"created_at", IAM_STORE_APIKEY_SORT_CREATED_AT},
        {"name", IAM_STORE_APIKEY_SORT_NAME},
        {"description", IAM_STORE_APIKEY_SORT_DESCRIPTION},
        {"created_by", IAM_STORE_APIKEY_SORT_CREATED_BY},
    };
    if (!text) {
        *sort = IAM_STORE_APIKEY_SORT_CREATED_AT;
        return IAM_OK;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(text, names[i].name) == 0) {
            *sort = names[i].sort;
            return IAM_OK;
        }
    }
    return IAM_EINVAL;
}

static enum iam_result apikey_type_parse(const char *text, enum iam_store_apikey_type *type)
{
    if (!text)
        *type = IAM_STORE_APIKEY_TYPE_ANY;
    else if (strcmp(text, "user") == 0)
        *type = IAM_STORE_APIKEY_TYPE_USER;
    else if (strcmp(text, "serviceid") == 0)
        *type = IAM_STORE_APIKEY_TYPE_SERVICE_ID;
    else
        return IAM_EINVAL;
    return IAM_OK;
}

enum iam_result iam_store_apikey_list(struct iam_store *store, struct iam_arena *arena,
                                      const struct iam_apikey_query *query, struct iam_apikey_record **items,
                                      size_t *count, bool *has_more)
{
    if (!store || !arena || !query || !query->account_id || !items || !count || !has_more)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    *has_more = false;
    if (!page_valid(query->offset, query->limit))
        return IAM_EINVAL;
    if (query->order != IAM_SORT_ASC && query->order != IAM_SORT_DESC)
        return IAM_EINVAL;
    enum iam_store_apikey_sort sort;
    enum iam_store_apikey_type type;
    if (apikey_sort_parse(query->sort, &sort) != IAM_OK || apikey_type_parse(query->type, &type) != IAM_OK)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->apikey_list(store, arena, query, sort, type, items, count, has_more));
}

enum iam_result iam_store_apikey_update(struct iam_store *store, const struct iam_apikey_record *updated,
                                        const char *expected_entity_tag,
                                        const struct iam_history_record *history)
{
    if (!store || !updated || !updated->id || !updated->account_id)
        return IAM_EINVAL;
    if (history && !history_valid(history, 1))
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->apikey_update(store, updated, expected_entity_tag, history));
}

enum iam_result iam_store_apikey_delete(struct iam_store *store, const char *account_id, const char *id)
{
    if (!store || !account_id || !id)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->apikey_delete(store, account_id, id));
}

enum iam_result iam_store_apikey_add_usage(struct iam_store *store, const struct iam_apikey_usage *usage,
                                           size_t count)
{
    if (!store || (count > 0 && !usage))
        return IAM_EINVAL;
    for (size_t i = 0; i < count; i++) {
        if (!usage[i].id || usage[i].count < 0)
            return IAM_EINVAL;
    }
    if (count == 0)
        return IAM_OK;
    IAM_STORE_RETURN_TIMED(store->backend->apikey_add_usage(store, usage, count));
}

/* --- history --- */

enum iam_result iam_store_history_list(struct iam_store *store, struct iam_arena *arena, const char *entity_id,
                                       size_t limit, struct iam_history_record **items, size_t *count)
{
    if (!store || !arena || !entity_id || !items || !count)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    if (limit == 0)
        return IAM_OK;
    IAM_STORE_RETURN_TIMED(store->backend->history_list(store, arena, entity_id, limit, items, count));
}

/* --- signing keys --- */

enum iam_result iam_store_signing_key_insert(struct iam_store *store, const struct iam_signing_key_record *key)
{
    if (!store || !key || !key->kid)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->signing_key_insert(store, key));
}

enum iam_result iam_store_signing_key_list(struct iam_store *store, struct iam_arena *arena,
                                           struct iam_signing_key_record **items, size_t *count)
{
    if (!store || !arena || !items || !count)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    IAM_STORE_RETURN_TIMED(store->backend->signing_key_list(store, arena, items, count));
}

enum iam_result iam_store_signing_key_purge(struct iam_store *store, int64_t now)
{
    if (!store)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->signing_key_purge(store, now));
}

/* --- account identity settings --- */

enum iam_result iam_store_settings_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                       struct iam_settings_record *out)
{
    if (!store || !arena || !account_id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    IAM_STORE_RETURN_TIMED(store->backend->settings_get(store, arena, account_id, out));
}

enum iam_result iam_store_settings_put(struct iam_store *store, const struct iam_settings_record *settings,
                                       const char *expected_entity_tag)
{
    if (!store || !settings || !settings->account_id)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->settings_put(store, settings, expected_entity_tag));
}

/* --- revoked refresh tokens --- */

enum iam_result iam_store_revocation_insert(struct iam_store *store, const char *jti, int64_t expires_at)
{
    if (!store || !jti)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->revocation_insert(store, jti, expires_at));
}

enum iam_result iam_store_revocation_exists(struct iam_store *store, const char *jti, bool *revoked)
{
    if (!store || !jti || !revoked)
        return IAM_EINVAL;
    *revoked = false;
    IAM_STORE_RETURN_TIMED(store->backend->revocation_exists(store, jti, revoked));
}

enum iam_result iam_store_revocation_purge(struct iam_store *store, int64_t now)
{
    if (!store)
        return IAM_EINVAL;
    IAM_STORE_RETURN_TIMED(store->backend->revocation_purge(store, now));
}

/* ===================== access side (store_access.h) ===================== */

/*
 * The access-side table of the store's backend. sqlite.c's table does not
 * name it yet (it needs `.access = &iam_store_sqlite_access_backend`); until
 * it does, a SQLite store is given the SQLite access table here. Once that
 * line is in, the fallback can go.
 */
static const struct iam_store_access_backend *access_of(const struct iam_store *store)
{
    return store->backend->access;
}

static bool order_valid(enum iam_sort_order order)
{
    return order == IAM_SORT_ASC || order == IAM_SORT_DESC;
}

/* --- accounts and users (administration) --- */

enum iam_result iam_store_account_list(struct iam_store *store, struct iam_arena *arena, int64_t offset,
                                       int64_t limit, struct iam_account_record **items, size_t *count,
                                       bool *has_more)
{
    if (!store || !arena || !items || !count || !has_more)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    *has_more = false;
    if (!page_valid(offset, limit))
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->account_list(store, arena, offset, limit, items, count, has_more));
}

enum iam_result iam_store_account_update(struct iam_store *store, const struct iam_account_record *account)
{
    if (!store || !account || !account->id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->account_update(store, account));
}

enum iam_result iam_store_user_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    int64_t offset, int64_t limit, struct iam_user_record **items, size_t *count,
                                    bool *has_more)
{
    if (!store || !arena || !account_id || !items || !count || !has_more)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    *has_more = false;
    if (!page_valid(offset, limit))
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->user_list(store, arena, account_id, offset, limit, items, count, has_more));
}

enum iam_result iam_store_user_update(struct iam_store *store, const struct iam_user_record *user,
                                      const char *expected_entity_tag)
{
    if (!store || !user || !user->iam_id || !user->account_id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->user_update(store, user, expected_entity_tag));
}

enum iam_result iam_store_user_delete(struct iam_store *store, const char *account_id, const char *iam_id)
{
    if (!store || !account_id || !iam_id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->user_delete(store, account_id, iam_id));
}

/* --- policies --- */

/* The fields the subject index, the lists and the cascades rely on. */
static bool policy_valid(const struct iam_policy_record *policy)
{
    return policy->id && policy->account_id && policy->subject_kind && policy->subject_value && policy->state;
}

enum iam_result iam_store_policy_insert(struct iam_store *store, const struct iam_policy_record *policy)
{
    if (!store || !policy || !policy_valid(policy))
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->policy_insert(store, policy));
}

enum iam_result iam_store_policy_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *id, struct iam_policy_record *out)
{
    if (!store || !arena || !account_id || !id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->policy_get(store, arena, account_id, id, out));
}

static enum iam_result policy_sort_parse(const char *text, enum iam_store_policy_sort *sort)
{
    static const struct {
        const char *name;
        enum iam_store_policy_sort sort;
    } names[] = {
        {"created_at", IAM_STORE_POLICY_SORT_CREATED_AT},
        {"id", IAM_STORE_POLICY_SORT_ID},
        {"type", IAM_STORE_POLICY_SORT_TYPE},
        {"last_modified_at", IAM_STORE_POLICY_SORT_LAST_MODIFIED_AT},
        {"state", IAM_STORE_POLICY_SORT_STATE},
    };
    if (!text) {
        *sort = IAM_STORE_POLICY_SORT_CREATED_AT;
        return IAM_OK;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(text, names[i].name) == 0) {
            *sort = names[i].sort;
            return IAM_OK;
        }
    }
    return IAM_EINVAL;
}

enum iam_result iam_store_policy_list(struct iam_store *store, struct iam_arena *arena,
                                      const struct iam_policy_query *query, struct iam_policy_record **items,
                                      size_t *count, bool *has_more)
{
    if (!store || !arena || !query || !query->account_id || !items || !count || !has_more)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    *has_more = false;
    if (!page_valid(query->offset, query->limit) || !order_valid(query->order))
        return IAM_EINVAL;
    enum iam_store_policy_sort sort;
    if (policy_sort_parse(query->sort, &sort) != IAM_OK)
        return IAM_EINVAL;
    struct iam_policy_query resolved = *query;
    if (!resolved.state)
        resolved.state = "active";
    else if (strcmp(resolved.state, "active") != 0 && strcmp(resolved.state, "deleted") != 0)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->policy_list(store, arena, &resolved, sort, items, count, has_more));
}

enum iam_result iam_store_policy_update(struct iam_store *store, const struct iam_policy_record *policy,
                                        const char *expected_entity_tag)
{
    if (!store || !policy || !policy_valid(policy))
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->policy_update(store, policy, expected_entity_tag));
}

enum iam_result iam_store_policy_delete(struct iam_store *store, const char *account_id, const char *id)
{
    if (!store || !account_id || !id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->policy_delete(store, account_id, id));
}

enum iam_result iam_store_policy_count_for_subject(struct iam_store *store, const char *account_id,
                                                   const char *subject_kind, const char *subject_value,
                                                   int64_t *count)
{
    if (!store || !account_id || !subject_kind || !subject_value || !count)
        return IAM_EINVAL;
    *count = 0;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->policy_count_for_subject(store, account_id, subject_kind, subject_value, count));
}

enum iam_result iam_store_policy_add_permits(struct iam_store *store, const struct iam_policy_permit *permits,
                                             size_t count)
{
    if (!store || (count > 0 && !permits))
        return IAM_EINVAL;
    for (size_t i = 0; i < count; i++) {
        if (!permits[i].id || permits[i].count < 0)
            return IAM_EINVAL;
    }
    if (count == 0)
        return IAM_OK;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->policy_add_permits(store, permits, count));
}

/* --- custom roles --- */

enum iam_result iam_store_role_insert(struct iam_store *store, const struct iam_role_record *role)
{
    if (!store || !role || !role->id || !role->account_id || !role->name || !role->service_name)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->role_insert(store, role));
}

enum iam_result iam_store_role_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                   const char *id, struct iam_role_record *out)
{
    if (!store || !arena || !account_id || !id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->role_get(store, arena, account_id, id, out));
}

enum iam_result iam_store_role_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    const char *service_name, struct iam_role_record **items, size_t *count)
{
    if (!store || !arena || !account_id || !items || !count)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->role_list(store, arena, account_id, service_name, items, count));
}

enum iam_result iam_store_role_update(struct iam_store *store, const struct iam_role_record *role,
                                      const char *expected_entity_tag)
{
    if (!store || !role || !role->id || !role->account_id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->role_update(store, role, expected_entity_tag));
}

enum iam_result iam_store_role_delete(struct iam_store *store, const char *account_id, const char *id)
{
    if (!store || !account_id || !id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->role_delete(store, account_id, id));
}

/* --- access groups --- */

enum iam_result iam_store_group_insert(struct iam_store *store, const struct iam_group_record *group)
{
    if (!store || !group || !group->id || !group->account_id || !group->name)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->group_insert(store, group));
}

enum iam_result iam_store_group_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    const char *id, struct iam_group_record *out)
{
    if (!store || !arena || !account_id || !id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->group_get(store, arena, account_id, id, out));
}

static enum iam_result group_sort_parse(const char *text, enum iam_store_group_sort *sort)
{
    static const struct {
        const char *name;
        enum iam_store_group_sort sort;
    } names[] = {
        {"name", IAM_STORE_GROUP_SORT_NAME},
        {"description", IAM_STORE_GROUP_SORT_DESCRIPTION},
        {"created_at", IAM_STORE_GROUP_SORT_CREATED_AT},
    };
    if (!text) {
        *sort = IAM_STORE_GROUP_SORT_NAME;
        return IAM_OK;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(text, names[i].name) == 0) {
            *sort = names[i].sort;
            return IAM_OK;
        }
    }
    return IAM_EINVAL;
}

enum iam_result iam_store_group_list(struct iam_store *store, struct iam_arena *arena,
                                     const struct iam_group_query *query, struct iam_group_record **items,
                                     size_t *count, int64_t *total)
{
    if (!store || !arena || !query || !query->account_id || !items || !count || !total)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    *total = 0;
    if (!page_valid(query->offset, query->limit) || !order_valid(query->order))
        return IAM_EINVAL;
    enum iam_store_group_sort sort;
    if (group_sort_parse(query->sort, &sort) != IAM_OK)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->group_list(store, arena, query, sort, items, count, total));
}

enum iam_result iam_store_group_update(struct iam_store *store, const struct iam_group_record *group,
                                       const char *expected_entity_tag)
{
    if (!store || !group || !group->id || !group->account_id || !group->name)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->group_update(store, group, expected_entity_tag));
}

enum iam_result iam_store_group_delete(struct iam_store *store, const char *account_id, const char *id)
{
    if (!store || !account_id || !id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->group_delete(store, account_id, id));
}

enum iam_result iam_store_group_count(struct iam_store *store, const char *account_id, int64_t *count)
{
    if (!store || !account_id || !count)
        return IAM_EINVAL;
    *count = 0;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->group_count(store, account_id, count));
}

enum iam_result iam_store_member_add(struct iam_store *store, const struct iam_group_member_record *member)
{
    if (!store || !member || !member->group_id || !member->account_id || !member->iam_id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->member_add(store, member));
}

enum iam_result iam_store_member_remove(struct iam_store *store, const char *account_id, const char *group_id,
                                        const char *iam_id)
{
    if (!store || !account_id || !group_id || !iam_id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->member_remove(store, account_id, group_id, iam_id));
}

enum iam_result iam_store_member_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *group_id, const char *iam_id,
                                     struct iam_group_member_record *out)
{
    if (!store || !arena || !account_id || !group_id || !iam_id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->member_get(store, arena, account_id, group_id, iam_id, out));
}

enum iam_result iam_store_member_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                      const char *group_id, int64_t offset, int64_t limit,
                                      struct iam_group_member_record **items, size_t *count, int64_t *total)
{
    if (!store || !arena || !account_id || !group_id || !items || !count || !total)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    *total = 0;
    if (!page_valid(offset, limit))
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->member_list(store, arena, account_id, group_id, offset, limit, items, count, total));
}

enum iam_result iam_store_member_group_count(struct iam_store *store, const char *account_id, const char *iam_id,
                                             int64_t *count)
{
    if (!store || !account_id || !iam_id || !count)
        return IAM_EINVAL;
    *count = 0;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->member_group_count(store, account_id, iam_id, count));
}

/* --- registered services --- */

enum iam_result iam_store_service_def_put(struct iam_store *store, const struct iam_service_def_record *service,
                                          const char *expected_entity_tag)
{
    if (!store || !service || !service->name)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->service_def_put(store, service, expected_entity_tag));
}

enum iam_result iam_store_service_def_get(struct iam_store *store, struct iam_arena *arena, const char *name,
                                          struct iam_service_def_record *out)
{
    if (!store || !arena || !name || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->service_def_get(store, arena, name, out));
}

enum iam_result iam_store_service_def_list(struct iam_store *store, struct iam_arena *arena,
                                           struct iam_service_def_record **items, size_t *count)
{
    if (!store || !arena || !items || !count)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->service_def_list(store, arena, items, count));
}

enum iam_result iam_store_service_def_delete(struct iam_store *store, const char *name)
{
    if (!store || !name)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->service_def_delete(store, name));
}

/* --- access-management settings --- */

enum iam_result iam_store_access_settings_get(struct iam_store *store, struct iam_arena *arena,
                                              const char *account_id, struct iam_access_settings_record *out)
{
    if (!store || !arena || !account_id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->access_settings_get(store, arena, account_id, out));
}

enum iam_result iam_store_access_settings_put(struct iam_store *store,
                                              const struct iam_access_settings_record *settings,
                                              const char *expected_entity_tag)
{
    if (!store || !settings || !settings->account_id)
        return IAM_EINVAL;
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->access_settings_put(store, settings, expected_entity_tag));
}

/* --- the decision engine's load --- */

enum iam_result iam_store_access_snapshot(struct iam_store *store, struct iam_arena *arena,
                                          struct iam_access_snapshot *out)
{
    if (!store || !arena || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    const struct iam_store_access_backend *access = access_of(store);
    if (!access)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(access->access_snapshot(store, arena, out));
}
