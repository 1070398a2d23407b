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
#include "store/access_records.h"
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

/* Sort columns of iam_store_policy_list, parsed by store.c from query->sort. */
enum iam_store_policy_sort {
    IAM_STORE_POLICY_SORT_CREATED_AT,
    IAM_STORE_POLICY_SORT_ID,
    IAM_STORE_POLICY_SORT_TYPE,
    IAM_STORE_POLICY_SORT_LAST_MODIFIED_AT,
    IAM_STORE_POLICY_SORT_STATE,
    IAM_STORE_POLICY_SORT_COUNT
};

/* Sort columns of iam_store_group_list, parsed by store.c from query->sort. */
enum iam_store_group_sort {
    IAM_STORE_GROUP_SORT_NAME,
    IAM_STORE_GROUP_SORT_DESCRIPTION,
    IAM_STORE_GROUP_SORT_CREATED_AT,
    IAM_STORE_GROUP_SORT_COUNT
};

struct iam_store;
struct iam_store_access_backend;
struct iam_store_copy_backend;
struct iam_store_audit_backend;

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
    enum iam_result (*apikey_get_by_id)(struct iam_store *store, struct iam_arena *arena, const char *id,
                                        struct iam_apikey_record *out);
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

    /* Named instance-wide locks (iam_store_try_lock); NULL: the backend has one process, always granted. */
    enum iam_result (*try_lock)(struct iam_store *store, const char *name, bool *acquired);
    enum iam_result (*unlock)(struct iam_store *store, const char *name);

    /* The access-side operations (store_access.h); NULL until the backend names its table. */
    const struct iam_store_access_backend *access;

    /* Whole-table reads and writes for the database copy (copy_backend.h); NULL: cannot copy. */
    const struct iam_store_copy_backend *copy;
    /* Identity activity (store_activity.h); NULL: the backend has none (IAM_EINTERNAL). */
    const struct iam_store_activity_backend *activity;
    /* The audit trail (store_audit.h, audit_backend.h); NULL: the backend has none (IAM_EINTERNAL). */
    const struct iam_store_audit_backend *audit;
    /* Console sessions (store_sessions.h); NULL: the backend has none (IAM_EINTERNAL). */
    const struct iam_store_sessions_backend *sessions;
};

/*
 * One function per operation of store_access.h, with the same arguments,
 * already checked by store.c. Two differences: list functions receive the
 * parsed sort column, and iam_store_policy_list's query arrives with `state`
 * set ("active" when the caller left it NULL).
 */
struct iam_store_access_backend {
    enum iam_result (*account_list)(struct iam_store *store, struct iam_arena *arena, int64_t offset, int64_t limit,
                                    struct iam_account_record **items, size_t *count, bool *has_more);
    enum iam_result (*account_update)(struct iam_store *store, const struct iam_account_record *account);
    enum iam_result (*user_list)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                 int64_t offset, int64_t limit, struct iam_user_record **items, size_t *count,
                                 bool *has_more);
    enum iam_result (*user_update)(struct iam_store *store, const struct iam_user_record *user,
                                   const char *expected_entity_tag);
    enum iam_result (*user_delete)(struct iam_store *store, const char *account_id, const char *iam_id);

    enum iam_result (*policy_insert)(struct iam_store *store, const struct iam_policy_record *policy);
    enum iam_result (*policy_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                  const char *id, struct iam_policy_record *out);
    enum iam_result (*policy_list)(struct iam_store *store, struct iam_arena *arena,
                                   const struct iam_policy_query *query, enum iam_store_policy_sort sort,
                                   struct iam_policy_record **items, size_t *count, bool *has_more);
    enum iam_result (*policy_update)(struct iam_store *store, const struct iam_policy_record *policy,
                                     const char *expected_entity_tag);
    enum iam_result (*policy_delete)(struct iam_store *store, const char *account_id, const char *id);
    enum iam_result (*policy_count_for_subject)(struct iam_store *store, const char *account_id,
                                                const char *subject_kind, const char *subject_value, int64_t *count);
    enum iam_result (*policy_add_permits)(struct iam_store *store, const struct iam_policy_permit *permits,
                                          size_t count);

    enum iam_result (*role_insert)(struct iam_store *store, const struct iam_role_record *role);
    enum iam_result (*role_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                const char *id, struct iam_role_record *out);
    enum iam_result (*role_list)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                 const char *service_name, struct iam_role_record **items, size_t *count);
    enum iam_result (*role_update)(struct iam_store *store, const struct iam_role_record *role,
                                   const char *expected_entity_tag);
    enum iam_result (*role_delete)(struct iam_store *store, const char *account_id, const char *id);

    enum iam_result (*group_insert)(struct iam_store *store, const struct iam_group_record *group);
    enum iam_result (*group_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                 const char *id, struct iam_group_record *out);
    enum iam_result (*group_list)(struct iam_store *store, struct iam_arena *arena,
                                  const struct iam_group_query *query, enum iam_store_group_sort sort,
                                  struct iam_group_record **items, size_t *count, int64_t *total);
    enum iam_result (*group_update)(struct iam_store *store, const struct iam_group_record *group,
                                    const char *expected_entity_tag);
    enum iam_result (*group_delete)(struct iam_store *store, const char *account_id, const char *id);
    enum iam_result (*group_count)(struct iam_store *store, const char *account_id, int64_t *count);

    enum iam_result (*member_add)(struct iam_store *store, const struct iam_group_member_record *member);
    enum iam_result (*member_remove)(struct iam_store *store, const char *account_id, const char *group_id,
                                     const char *iam_id);
    enum iam_result (*member_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                  const char *group_id, const char *iam_id, struct iam_group_member_record *out);
    enum iam_result (*member_list)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                   const char *group_id, int64_t offset, int64_t limit,
                                   struct iam_group_member_record **items, size_t *count, int64_t *total);
    enum iam_result (*member_group_count)(struct iam_store *store, const char *account_id, const char *iam_id,
                                          int64_t *count);

    enum iam_result (*service_def_put)(struct iam_store *store, const struct iam_service_def_record *service,
                                       const char *expected_entity_tag);
    enum iam_result (*service_def_get)(struct iam_store *store, struct iam_arena *arena, const char *name,
                                       struct iam_service_def_record *out);
    enum iam_result (*service_def_list)(struct iam_store *store, struct iam_arena *arena,
                                        struct iam_service_def_record **items, size_t *count);
    enum iam_result (*service_def_delete)(struct iam_store *store, const char *name);

    enum iam_result (*access_settings_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                           struct iam_access_settings_record *out);
    enum iam_result (*access_settings_put)(struct iam_store *store, const struct iam_access_settings_record *settings,
                                           const char *expected_entity_tag);

    enum iam_result (*access_snapshot)(struct iam_store *store, struct iam_arena *arena,
                                       struct iam_access_snapshot *out);
};

struct iam_activity_inactive;
struct iam_activity_report_record;

/* The operations of store_activity.h, with the same arguments, already checked by store_activity.c. */
struct iam_store_activity_backend {
    enum iam_result (*user_add_authn)(struct iam_store *store, const struct iam_apikey_usage *items, size_t count);
    enum iam_result (*inactive)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                int64_t since, struct iam_activity_inactive *out);
    enum iam_result (*report_insert)(struct iam_store *store, const struct iam_activity_report_record *report,
                                     int64_t keep_since, int64_t keep_max);
    enum iam_result (*report_get)(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                  const char *reference, struct iam_activity_report_record *out);
};

struct iam_store_session_record;

/* The operations of store_sessions.h, with the same arguments, already checked by store_sessions.c. */
struct iam_store_sessions_backend {
    enum iam_result (*insert)(struct iam_store *store, const struct iam_store_session_record *session,
                              int64_t max_per_identity, int64_t now);
    enum iam_result (*get)(struct iam_store *store, const uint8_t *hash, struct iam_store_session_record *out);
    enum iam_result (*touch)(struct iam_store *store, const uint8_t *hash, int64_t now, bool *found);
    enum iam_result (*delete_one)(struct iam_store *store, const uint8_t *hash, int64_t *deleted);
    enum iam_result (*delete_identity)(struct iam_store *store, const char *account_id, const char *iam_id,
                                       int64_t *deleted);
    enum iam_result (*purge)(struct iam_store *store, int64_t now, int64_t limit, int64_t keep, int64_t *deleted);
    enum iam_result (*count)(struct iam_store *store, int64_t *count);
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

/*
 * Test hook: while `unavailable` is true, every call on the SQLite store
 * `store` fails with IAM_EUNAVAILABLE before touching the database, as calls
 * on a PostgreSQL store do while the server cannot be reached (for outage
 * tests of the layers above). IAM_EINVAL when `store` is not a SQLite store.
 */
enum iam_result iam_store_sqlite_set_unavailable(struct iam_store *store, bool unavailable) IAM_MUST_CHECK;

/* The SQLite backend's access-side table (sqlite_access_backend.c). */
extern const struct iam_store_access_backend iam_store_sqlite_access_backend;

/* The activity tables of the backends (sqlite_activity.c, postgres_activity.c). */
extern const struct iam_store_activity_backend iam_store_sqlite_activity_backend;
extern const struct iam_store_activity_backend iam_store_postgres_activity_backend;

/* The console-session tables of the backends (sqlite_sessions.c, postgres_sessions.c). */
extern const struct iam_store_sessions_backend iam_store_sqlite_sessions_backend;
extern const struct iam_store_sessions_backend iam_store_postgres_sessions_backend;

/*
 * Opens the PostgreSQL database named by `location`, a libpq URL
 * (postgres://... or postgresql://...) that may also carry pool_size=N, and
 * applies pending migrations under an advisory lock. IAM_EINVAL for a bad URL,
 * IAM_EUNAVAILABLE when the server cannot be reached.
 */
enum iam_result iam_store_postgres_open(const char *location, struct iam_store **out,
                                        struct iam_error *err) IAM_MUST_CHECK;

#endif
