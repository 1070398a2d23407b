/*
 * backend.h: the seam between the public store interface and a database.
 *
 * store.c owns the public iam_store_* functions: it checks the arguments that
 * do not depend on the database (NULL pointers, page sizes, sort names) and
 * then calls the backend through struct iam_store_backend. A backend (SQLite
 * today, PostgreSQL later) embeds struct iam_store as the first member of its
 * own store struct and fills `backend` with its table of functions.
 *
 * Backend functions receive arguments already checked by store.c and follow
 * the result conventions of store.h. Only store.c and backends include this
 * header.
 */
#ifndef IAM_STORE_BACKEND_H
#define IAM_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "store/records.h"

/* Sort columns of iam_store_service_id_list, parsed by store.c from query->sort. */
enum iam_store_service_id_sort {
    IAM_STORE_SERVICE_ID_SORT_CREATED_AT,
    IAM_STORE_SERVICE_ID_SORT_NAME,
    IAM_STORE_SERVICE_ID_SORT_DESCRIPTION,
    IAM_STORE_SERVICE_ID_SORT_MODIFIED_AT,
    IAM_STORE_SERVICE_ID_SORT_COUNT
};

/* Sort columns of iam_store_apikey_list, parsed by store.c from query->sort. */
enum iam_store_apikey_sort {
    IAM_STORE_APIKEY_SORT_CREATED_AT,
    IAM_STORE_APIKEY_SORT_NAME,
    IAM_STORE_APIKEY_SORT_DESCRIPTION,
    IAM_STORE_APIKEY_SORT_CREATED_BY,
    IAM_STORE_APIKEY_SORT_COUNT
};

/* The apikey query's `type` filter, parsed by store.c. */
enum iam_store_apikey_type {
    IAM_STORE_APIKEY_TYPE_ANY,
    IAM_STORE_APIKEY_TYPE_USER,       /* iam_id does not start with "iam-ServiceId-" */
    IAM_STORE_APIKEY_TYPE_SERVICE_ID, /* iam_id starts with "iam-ServiceId-" */
};

struct iam_store;

/* One function per public operation; see store.h for what each does. */
struct iam_store_backend {
    const char *name; /* "sqlite" */

    /* Frees everything the backend allocated, including `store` itself. */
    void (*close)(struct iam_store *store);

    enum iam_result (*schema_version)(struct iam_store *store, int64_t *version);
    enum iam_result (*revision)(struct iam_store *store, int64_t *revision);

    enum iam_result (*meta_get)(struct iam_store *store, struct iam_arena *arena, const char *key,
                                const char **value);
    enum iam_result (*meta_insert)(struct iam_store *store, const char *key, const char *value);
    enum iam_result (*meta_set)(struct iam_store *store, const char *key, const char *value);

    enum iam_result (*account_insert)(struct iam_store *store, const struct iam_account_record *account);
    enum iam_result (*account_get)(struct iam_store *store, struct iam_arena *arena, const char *id,
                                   struct iam_account_record *out);
    enum iam_result (*account_count)(struct iam_store *store, int64_t *count);

    enum iam_result (*user_insert)(struct iam_store *store, const struct iam_user_record *user);
    enum iam_result (*user_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                const char *iam_id, struct iam_user_record *out);
    enum iam_result (*user_get_by_login)(struct iam_store *store, struct iam_arena *arena, const char *login,
                                         struct iam_user_record *out);

    enum iam_result (*service_id_insert)(struct iam_store *store, const struct iam_service_id_record *service_id,
                                         const struct iam_apikey_record *apikey,
                                         const struct iam_history_record *history, size_t history_count);
    enum iam_result (*service_id_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                      const char *id, struct iam_service_id_record *out);
    enum iam_result (*service_id_get_by_iam_id)(struct iam_store *store, struct iam_arena *arena,
                                                const char *account_id, const char *iam_id,
                                                struct iam_service_id_record *out);
    enum iam_result (*service_id_list)(struct iam_store *store, struct iam_arena *arena,
                                       const struct iam_service_id_query *query, enum iam_store_service_id_sort sort,
                                       struct iam_service_id_record **items, size_t *count, bool *has_more);
    enum iam_result (*service_id_update)(struct iam_store *store, const struct iam_service_id_record *updated,
                                         const char *expected_entity_tag, const struct iam_history_record *history);
    enum iam_result (*service_id_delete)(struct iam_store *store, const char *account_id, const char *id);

    enum iam_result (*apikey_insert)(struct iam_store *store, const struct iam_apikey_record *apikey,
                                     const struct iam_history_record *history);
    enum iam_result (*apikey_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                  const char *id, struct iam_apikey_record *out);
    enum iam_result (*apikey_get_by_hash)(struct iam_store *store, struct iam_arena *arena,
                                          const uint8_t hash[IAM_RECORD_HASH_SIZE], struct iam_apikey_record *out);
    enum iam_result (*apikey_list)(struct iam_store *store, struct iam_arena *arena,
                                   const struct iam_apikey_query *query, enum iam_store_apikey_sort sort,
                                   enum iam_store_apikey_type type, struct iam_apikey_record **items, size_t *count,
                                   bool *has_more);
    enum iam_result (*apikey_update)(struct iam_store *store, const struct iam_apikey_record *updated,
                                     const char *expected_entity_tag, const struct iam_history_record *history);
    enum iam_result (*apikey_delete)(struct iam_store *store, const char *account_id, const char *id);
    enum iam_result (*apikey_add_usage)(struct iam_store *store, const struct iam_apikey_usage *usage, size_t count);

    enum iam_result (*history_list)(struct iam_store *store, struct iam_arena *arena, const char *entity_id,
                                    size_t limit, struct iam_history_record **items, size_t *count);

    enum iam_result (*signing_key_insert)(struct iam_store *store, const struct iam_signing_key_record *key);
    enum iam_result (*signing_key_list)(struct iam_store *store, struct iam_arena *arena,
                                        struct iam_signing_key_record **items, size_t *count);
    enum iam_result (*signing_key_purge)(struct iam_store *store, int64_t now);

    enum iam_result (*settings_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    struct iam_settings_record *out);
    enum iam_result (*settings_put)(struct iam_store *store, const struct iam_settings_record *settings,
                                    const char *expected_entity_tag);

    enum iam_result (*revocation_insert)(struct iam_store *store, const char *jti, int64_t expires_at);
    enum iam_result (*revocation_exists)(struct iam_store *store, const char *jti, bool *revoked);
    enum iam_result (*revocation_purge)(struct iam_store *store, int64_t now);
};

/* The part of every backend's store that store.c sees. */
struct iam_store {
    const struct iam_store_backend *backend;
};

/*
 * Opens (creating if missing, mode 0600) the SQLite database at `path` and
 * applies pending migrations. `path` must name a file: "" and ":memory:" are
 * IAM_EINVAL, since every thread opens its own connection to the same file.
 */
enum iam_result iam_store_sqlite_open(const char *path, struct iam_store **out, struct iam_error *err) IAM_MUST_CHECK;

#endif
