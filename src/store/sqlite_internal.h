/*
 * sqlite_internal.h: what the SQLite backend's files share (not a public header).
 *
 * The backend is split by entity: sqlite.c owns connections, transactions,
 * the statement cache, error mapping and the backend table; sqlite_*.c hold
 * the SQL of one family of records each; migrations.c holds the schema.
 *
 * Connections: each thread that touches a store gets its own sqlite3
 * connection, found through a pthread key. When the thread exits, its
 * connection goes to an idle list for the next new thread; iam_store_close
 * closes them all. Statements are prepared once per connection
 * (SQLITE_PREPARE_PERSISTENT) into a fixed slot named by enum
 * iam_sqlite_statement, with the SQL text written next to the code that uses it.
 *
 * Writes: iam_sqlite_write_begin takes the store's write mutex (so threads of
 * this process queue on a mutex instead of polling SQLite's busy handler) and
 * runs BEGIN IMMEDIATE; iam_sqlite_write_end bumps the revision when rows
 * changed, then COMMITs, or ROLLBACKs when the operation failed.
 */
#ifndef IAM_STORE_SQLITE_INTERNAL_H
#define IAM_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "store/backend.h"

/* One slot per distinct SQL statement; list statements take one slot per sort and order. */
enum iam_sqlite_statement {
    IAM_SQLITE_STMT_BEGIN,
    IAM_SQLITE_STMT_COMMIT,
    IAM_SQLITE_STMT_ROLLBACK,
    IAM_SQLITE_STMT_REVISION_BUMP,
    IAM_SQLITE_STMT_REVISION_GET,
    IAM_SQLITE_STMT_SCHEMA_VERSION,

    IAM_SQLITE_STMT_META_GET,
    IAM_SQLITE_STMT_META_INSERT,
    IAM_SQLITE_STMT_META_SET,
    IAM_SQLITE_STMT_ACCOUNT_INSERT,
    IAM_SQLITE_STMT_ACCOUNT_GET,
    IAM_SQLITE_STMT_ACCOUNT_COUNT,
    IAM_SQLITE_STMT_USER_INSERT,
    IAM_SQLITE_STMT_USER_GET,
    IAM_SQLITE_STMT_USER_GET_BY_LOGIN,

    IAM_SQLITE_STMT_HISTORY_INSERT,
    IAM_SQLITE_STMT_HISTORY_LIST,
    IAM_SQLITE_STMT_HISTORY_DELETE_ENTITY,
    IAM_SQLITE_STMT_HISTORY_DELETE_KEYS_OF_SERVICE_ID,

    IAM_SQLITE_STMT_SERVICE_ID_INSERT,
    IAM_SQLITE_STMT_SERVICE_ID_GET,
    IAM_SQLITE_STMT_SERVICE_ID_GET_BY_IAM_ID,
    IAM_SQLITE_STMT_SERVICE_ID_UPDATE,
    IAM_SQLITE_STMT_SERVICE_ID_EXISTS,
    IAM_SQLITE_STMT_SERVICE_ID_DELETE,
    IAM_SQLITE_STMT_MEMBER_DELETE_OF_SERVICE_ID,
    IAM_SQLITE_STMT_POLICY_DELETE_OF_SERVICE_ID,
    IAM_SQLITE_STMT_SERVICE_ID_LIST,
    IAM_SQLITE_STMT_SERVICE_ID_LIST_LAST = IAM_SQLITE_STMT_SERVICE_ID_LIST + 2 * IAM_STORE_SERVICE_ID_SORT_COUNT - 1,

    IAM_SQLITE_STMT_APIKEY_INSERT,
    IAM_SQLITE_STMT_APIKEY_GET,
    IAM_SQLITE_STMT_APIKEY_GET_BY_HASH,
    IAM_SQLITE_STMT_APIKEY_UPDATE,
    IAM_SQLITE_STMT_APIKEY_EXISTS,
    IAM_SQLITE_STMT_APIKEY_DELETE,
    IAM_SQLITE_STMT_APIKEY_DELETE_OF_SERVICE_ID,
    IAM_SQLITE_STMT_APIKEY_ADD_USAGE,
    IAM_SQLITE_STMT_APIKEY_LIST,
    IAM_SQLITE_STMT_APIKEY_LIST_LAST = IAM_SQLITE_STMT_APIKEY_LIST + 2 * IAM_STORE_APIKEY_SORT_COUNT - 1,

    IAM_SQLITE_STMT_SIGNING_KEY_INSERT,
    IAM_SQLITE_STMT_SIGNING_KEY_LIST,
    IAM_SQLITE_STMT_SIGNING_KEY_PURGE,
    IAM_SQLITE_STMT_SETTINGS_GET,
    IAM_SQLITE_STMT_SETTINGS_TAG,
    IAM_SQLITE_STMT_SETTINGS_UPSERT,
    IAM_SQLITE_STMT_REVOCATION_INSERT,
    IAM_SQLITE_STMT_REVOCATION_EXISTS,
    IAM_SQLITE_STMT_REVOCATION_PURGE,

    /* --- access side (sqlite_access_*.c) --- */
    IAM_SQLITE_STMT_READ_BEGIN,
    IAM_SQLITE_STMT_READ_COMMIT,
    IAM_SQLITE_STMT_READ_ROLLBACK,

    IAM_SQLITE_STMT_ACCOUNT_LIST,
    IAM_SQLITE_STMT_ACCOUNT_UPDATE,
    IAM_SQLITE_STMT_USER_LIST,
    IAM_SQLITE_STMT_USER_UPDATE,
    IAM_SQLITE_STMT_USER_EXISTS,
    IAM_SQLITE_STMT_USER_DELETE,
    IAM_SQLITE_STMT_USER_DELETE_KEY_HISTORY,
    IAM_SQLITE_STMT_USER_DELETE_KEYS,
    IAM_SQLITE_STMT_USER_DELETE_MEMBERSHIPS,
    IAM_SQLITE_STMT_USER_DELETE_POLICIES,

    IAM_SQLITE_STMT_POLICY_INSERT,
    IAM_SQLITE_STMT_POLICY_GET,
    IAM_SQLITE_STMT_POLICY_UPDATE,
    IAM_SQLITE_STMT_POLICY_EXISTS,
    IAM_SQLITE_STMT_POLICY_DELETE,
    IAM_SQLITE_STMT_POLICY_COUNT_FOR_SUBJECT,
    IAM_SQLITE_STMT_POLICY_ADD_PERMITS,
    IAM_SQLITE_STMT_POLICY_LIST,
    IAM_SQLITE_STMT_POLICY_LIST_LAST = IAM_SQLITE_STMT_POLICY_LIST + 2 * IAM_STORE_POLICY_SORT_COUNT - 1,

    IAM_SQLITE_STMT_ROLE_INSERT,
    IAM_SQLITE_STMT_ROLE_GET,
    IAM_SQLITE_STMT_ROLE_LIST,
    IAM_SQLITE_STMT_ROLE_UPDATE,
    IAM_SQLITE_STMT_ROLE_EXISTS,
    IAM_SQLITE_STMT_ROLE_DELETE,

    IAM_SQLITE_STMT_GROUP_INSERT,
    IAM_SQLITE_STMT_GROUP_GET,
    IAM_SQLITE_STMT_GROUP_UPDATE,
    IAM_SQLITE_STMT_GROUP_EXISTS,
    IAM_SQLITE_STMT_GROUP_DELETE,
    IAM_SQLITE_STMT_GROUP_DELETE_MEMBERS,
    IAM_SQLITE_STMT_GROUP_DELETE_POLICIES,
    IAM_SQLITE_STMT_GROUP_COUNT,
    IAM_SQLITE_STMT_GROUP_LIST_TOTAL,
    IAM_SQLITE_STMT_GROUP_LIST,
    IAM_SQLITE_STMT_GROUP_LIST_LAST = IAM_SQLITE_STMT_GROUP_LIST + 2 * IAM_STORE_GROUP_SORT_COUNT - 1,
    IAM_SQLITE_STMT_MEMBER_ADD,
    IAM_SQLITE_STMT_MEMBER_REMOVE,
    IAM_SQLITE_STMT_MEMBER_GET,
    IAM_SQLITE_STMT_MEMBER_LIST,
    IAM_SQLITE_STMT_MEMBER_LIST_TOTAL,
    IAM_SQLITE_STMT_MEMBER_GROUP_COUNT,

    IAM_SQLITE_STMT_SERVICE_DEF_TAG,
    IAM_SQLITE_STMT_SERVICE_DEF_UPSERT,
    IAM_SQLITE_STMT_SERVICE_DEF_GET,
    IAM_SQLITE_STMT_SERVICE_DEF_LIST,
    IAM_SQLITE_STMT_SERVICE_DEF_DELETE,
    IAM_SQLITE_STMT_ACCESS_SETTINGS_GET,
    IAM_SQLITE_STMT_ACCESS_SETTINGS_TAG,
    IAM_SQLITE_STMT_ACCESS_SETTINGS_UPSERT,

    IAM_SQLITE_STMT_SNAPSHOT_REVISION,
    IAM_SQLITE_STMT_SNAPSHOT_POLICIES,
    IAM_SQLITE_STMT_SNAPSHOT_ROLES,
    IAM_SQLITE_STMT_SNAPSHOT_MEMBERS,
    IAM_SQLITE_STMT_SNAPSHOT_SERVICES,
    IAM_SQLITE_STMT_SNAPSHOT_ACCOUNTS,

    /* --- identity activity (sqlite_activity.c) --- */
    IAM_SQLITE_STMT_USER_ADD_AUTHN,
    IAM_SQLITE_STMT_ACTIVITY_USERS,
    IAM_SQLITE_STMT_ACTIVITY_SERVICE_IDS,
    IAM_SQLITE_STMT_ACTIVITY_APIKEYS,
    IAM_SQLITE_STMT_ACTIVITY_REPORT_INSERT,
    IAM_SQLITE_STMT_ACTIVITY_REPORT_PRUNE_OLD,
    IAM_SQLITE_STMT_ACTIVITY_REPORT_PRUNE_EXTRA,
    IAM_SQLITE_STMT_ACTIVITY_REPORT_GET,
    IAM_SQLITE_STMT_ACTIVITY_REPORT_LATEST,
    /* --- audit trail (sqlite_audit.c) --- */
    IAM_SQLITE_STMT_AUDIT_HEAD,
    IAM_SQLITE_STMT_AUDIT_INSERT,
    IAM_SQLITE_STMT_AUDIT_CHECKPOINT,
    IAM_SQLITE_STMT_AUDIT_LIST,
    IAM_SQLITE_STMT_AUDIT_GET,
    IAM_SQLITE_STMT_AUDIT_SCAN,
    /* --- console sessions (sqlite_sessions.c) --- */
    IAM_SQLITE_STMT_SESSION_INSERT,
    IAM_SQLITE_STMT_SESSION_DROP_EXPIRED_OF_IDENTITY,
    IAM_SQLITE_STMT_SESSION_CAP_IDENTITY,
    IAM_SQLITE_STMT_SESSION_GET,
    IAM_SQLITE_STMT_SESSION_TOUCH,
    IAM_SQLITE_STMT_SESSION_DELETE,
    IAM_SQLITE_STMT_SESSION_DELETE_IDENTITY,
    IAM_SQLITE_STMT_SESSION_PURGE_EXPIRED,
    IAM_SQLITE_STMT_SESSION_TRIM,
    IAM_SQLITE_STMT_SESSION_COUNT,

    IAM_SQLITE_STMT_APIKEY_GET_BY_ID,
    IAM_SQLITE_STMT_COUNT
};

struct iam_sqlite_store;

/* One thread's connection. Used by that thread only; freed by iam_store_close. */
struct iam_sqlite_conn {
    sqlite3 *db;
    struct iam_sqlite_store *store;
    struct iam_sqlite_conn *next;      /* the store's list of every connection */
    struct iam_sqlite_conn *next_idle; /* the store's list of connections without a thread */
    int64_t write_changes;             /* rows changed so far by the open write transaction */
    sqlite3_stmt *statements[IAM_SQLITE_STMT_COUNT];
    const char *statement_sql[IAM_SQLITE_STMT_COUNT]; /* the text each slot was prepared from */
};

struct iam_sqlite_store {
    struct iam_store base; /* first: store.c sees only this */
    char *path;
    pthread_key_t thread_connection;
    pthread_mutex_t registry_lock; /* guards connections and idle */
    pthread_mutex_t write_lock;    /* held from BEGIN IMMEDIATE to COMMIT/ROLLBACK */
    struct iam_sqlite_conn *connections;
    struct iam_sqlite_conn *idle;
    _Atomic bool unavailable;      /* test hook: iam_store_sqlite_set_unavailable */
};

/* --- sqlite.c: connections, statements, transactions, errors --- */

/* The calling thread's connection to `store`, opened on first use. */
enum iam_result iam_sqlite_conn_get(struct iam_store *store, struct iam_sqlite_conn **out) IAM_MUST_CHECK;

/*
 * The cached statement in `slot`, prepared from `sql` on first use; reset and
 * with no bindings. The caller resets it (iam_sqlite_reset) when done.
 */
enum iam_result iam_sqlite_prepare(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot, const char *sql,
                                   sqlite3_stmt **out) IAM_MUST_CHECK;

/* Resets a statement and clears its bindings, ending its implicit read transaction. */
void iam_sqlite_reset(sqlite3_stmt *statement);

/*
 * Maps a failed SQLite result code to an iam_result and logs it (never with
 * values): unique and primary key violations are IAM_ECONFLICT, foreign key
 * violations IAM_ENOTFOUND (the parent account does not exist), NOT NULL,
 * CHECK and type violations IAM_EINVAL, out of memory IAM_ENOMEM, the rest
 * IAM_ESTORE. `operation` names the store function for the log.
 */
enum iam_result iam_sqlite_fail(struct iam_sqlite_conn *conn, int code, const char *operation) IAM_MUST_CHECK;

/* iam_sqlite_fail for the connection's last error (after a failed bind). */
enum iam_result iam_sqlite_fail_last(struct iam_sqlite_conn *conn, const char *operation) IAM_MUST_CHECK;

/*
 * Runs a statement that returns no rows (INSERT, UPDATE, DELETE), adds the
 * rows it changed to the open write transaction's count, stores them in
 * `*changes` if not NULL, and resets the statement.
 */
enum iam_result iam_sqlite_run(struct iam_sqlite_conn *conn, sqlite3_stmt *statement, const char *operation,
                               int64_t *changes) IAM_MUST_CHECK;

/*
 * Steps a query: IAM_OK with a row to read, IAM_ENOTFOUND at the end, or the
 * mapped error. Does not reset: the caller reads the row, then resets.
 */
enum iam_result iam_sqlite_step(struct iam_sqlite_conn *conn, sqlite3_stmt *statement,
                                const char *operation) IAM_MUST_CHECK;

/* Gets the thread's connection and opens a write transaction (BEGIN IMMEDIATE). */
enum iam_result iam_sqlite_write_begin(struct iam_store *store, struct iam_sqlite_conn **out,
                                       const char *operation) IAM_MUST_CHECK;

/*
 * Ends the write transaction opened by iam_sqlite_write_begin: when `result`
 * is IAM_OK, bumps the revision if rows changed and commits; otherwise rolls
 * back. Returns `result`, or the commit's error.
 */
enum iam_result iam_sqlite_write_end(struct iam_sqlite_conn *conn, enum iam_result result,
                                     const char *operation) IAM_MUST_CHECK;

/* Binding: NULL text or blob binds SQL NULL. Return SQLite codes (SQLITE_OK is 0). */
int iam_sqlite_bind_text(sqlite3_stmt *statement, int index, const char *text);
int iam_sqlite_bind_blob(sqlite3_stmt *statement, int index, const void *data, size_t length);
int iam_sqlite_bind_int64(sqlite3_stmt *statement, int index, int64_t value);
int iam_sqlite_bind_bool(sqlite3_stmt *statement, int index, bool value);

/* Reading: a copy in `arena` (NULL for SQL NULL). False when out of memory. */
bool iam_sqlite_column_text(struct iam_arena *arena, sqlite3_stmt *statement, int column, const char **out);
bool iam_sqlite_column_blob(struct iam_arena *arena, sqlite3_stmt *statement, int column, const uint8_t **out,
                            size_t *length);
/* Copies a blob that must be exactly `length` bytes; false otherwise. */
bool iam_sqlite_column_fixed_blob(sqlite3_stmt *statement, int column, uint8_t *out, size_t length);

/*
 * Makes room for item `count` (0-based) in an arena array of `size`-byte
 * items, doubling `*capacity` as needed. Returns the (possibly moved) array,
 * with the new item zeroed, or NULL when out of memory.
 */
void *iam_sqlite_array_reserve(struct iam_arena *arena, void *items, size_t count, size_t *capacity, size_t size);

/* --- migrations.c --- */

/*
 * Applies every migration newer than the database's schema version, each in
 * its own transaction. IAM_ESTORE (with `err` filled) when one fails or the
 * database is newer than this program.
 */
enum iam_result iam_sqlite_migrate(sqlite3 *db, struct iam_error *err) IAM_MUST_CHECK;

/* The version the last migration brings the schema to. */
int64_t iam_sqlite_schema_latest(void);

/* --- sqlite_*.c: one function per backend table entry --- */

enum iam_result iam_sqlite_meta_get(struct iam_store *store, struct iam_arena *arena, const char *key,
                                    const char **value);
enum iam_result iam_sqlite_meta_insert(struct iam_store *store, const char *key, const char *value);
enum iam_result iam_sqlite_meta_set(struct iam_store *store, const char *key, const char *value);
enum iam_result iam_sqlite_account_insert(struct iam_store *store, const struct iam_account_record *account);
enum iam_result iam_sqlite_account_get(struct iam_store *store, struct iam_arena *arena, const char *id,
                                       struct iam_account_record *out);
enum iam_result iam_sqlite_account_count(struct iam_store *store, int64_t *count);
enum iam_result iam_sqlite_user_insert(struct iam_store *store, const struct iam_user_record *user);
enum iam_result iam_sqlite_user_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    const char *iam_id, struct iam_user_record *out);
enum iam_result iam_sqlite_user_get_by_login(struct iam_store *store, struct iam_arena *arena, const char *login,
                                             struct iam_user_record *out);

/* Appends one history record of an entity of `account_id` inside the open write transaction. */
enum iam_result iam_sqlite_history_append(struct iam_sqlite_conn *conn, const char *account_id,
                                          const struct iam_history_record *history,
                                          const char *operation) IAM_MUST_CHECK;
/* Deletes the history of one entity of `account_id` inside the open write transaction. */
enum iam_result iam_sqlite_history_delete(struct iam_sqlite_conn *conn, const char *account_id, const char *entity_id,
                                          const char *operation) IAM_MUST_CHECK;
enum iam_result iam_sqlite_history_list(struct iam_store *store, struct iam_arena *arena, const char *entity_id,
                                        size_t limit, struct iam_history_record **items, size_t *count);

enum iam_result iam_sqlite_service_id_insert(struct iam_store *store, const struct iam_service_id_record *service_id,
                                             const struct iam_apikey_record *apikey,
                                             const struct iam_history_record *history, size_t history_count);
enum iam_result iam_sqlite_service_id_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                          const char *id, struct iam_service_id_record *out);
enum iam_result iam_sqlite_service_id_get_by_iam_id(struct iam_store *store, struct iam_arena *arena,
                                                    const char *account_id, const char *iam_id,
                                                    struct iam_service_id_record *out);
enum iam_result iam_sqlite_service_id_list(struct iam_store *store, struct iam_arena *arena,
                                           const struct iam_service_id_query *query,
                                           enum iam_store_service_id_sort sort, struct iam_service_id_record **items,
                                           size_t *count, bool *has_more);
enum iam_result iam_sqlite_service_id_update(struct iam_store *store, const struct iam_service_id_record *updated,
                                             const char *expected_entity_tag,
                                             const struct iam_history_record *history);
enum iam_result iam_sqlite_service_id_delete(struct iam_store *store, const char *account_id, const char *id);

/* Inserts one API key row inside the open write transaction. */
enum iam_result iam_sqlite_apikey_insert_row(struct iam_sqlite_conn *conn, const struct iam_apikey_record *apikey,
                                             const char *operation) IAM_MUST_CHECK;
enum iam_result iam_sqlite_apikey_insert(struct iam_store *store, const struct iam_apikey_record *apikey,
                                         const struct iam_history_record *history);
enum iam_result iam_sqlite_apikey_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                      const char *id, struct iam_apikey_record *out);
enum iam_result iam_sqlite_apikey_get_by_id(struct iam_store *store, struct iam_arena *arena, const char *id,
                                            struct iam_apikey_record *out);
enum iam_result iam_sqlite_apikey_get_by_hash(struct iam_store *store, struct iam_arena *arena,
                                              const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                              struct iam_apikey_record *out);
enum iam_result iam_sqlite_apikey_list(struct iam_store *store, struct iam_arena *arena,
                                       const struct iam_apikey_query *query, enum iam_store_apikey_sort sort,
                                       enum iam_store_apikey_type type, struct iam_apikey_record **items,
                                       size_t *count, bool *has_more);
enum iam_result iam_sqlite_apikey_update(struct iam_store *store, const struct iam_apikey_record *updated,
                                         const char *expected_entity_tag, const struct iam_history_record *history);
enum iam_result iam_sqlite_apikey_delete(struct iam_store *store, const char *account_id, const char *id);
enum iam_result iam_sqlite_apikey_add_usage(struct iam_store *store, const struct iam_apikey_usage *usage,
                                            size_t count);

enum iam_result iam_sqlite_signing_key_insert(struct iam_store *store, const struct iam_signing_key_record *key);
enum iam_result iam_sqlite_signing_key_list(struct iam_store *store, struct iam_arena *arena,
                                            struct iam_signing_key_record **items, size_t *count);
enum iam_result iam_sqlite_signing_key_purge(struct iam_store *store, int64_t now);
enum iam_result iam_sqlite_settings_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                        struct iam_settings_record *out);
enum iam_result iam_sqlite_settings_put(struct iam_store *store, const struct iam_settings_record *settings,
                                        const char *expected_entity_tag);
enum iam_result iam_sqlite_revocation_insert(struct iam_store *store, const char *jti, int64_t expires_at);
enum iam_result iam_sqlite_revocation_exists(struct iam_store *store, const char *jti, bool *revoked);
enum iam_result iam_sqlite_revocation_purge(struct iam_store *store, int64_t now);

/* --- sqlite_access_backend.c: helpers the access-side files share --- */

/*
 * Gets the thread's connection and opens a read transaction (BEGIN DEFERRED):
 * every query until iam_sqlite_read_end sees the same committed state, so a
 * page and its total, or the parts of a snapshot, agree. Takes no lock.
 */
enum iam_result iam_sqlite_read_begin(struct iam_store *store, struct iam_sqlite_conn **out,
                                      const char *operation) IAM_MUST_CHECK;
/* Ends the read transaction (COMMIT, or ROLLBACK when that fails). Returns `result`, or the end's error. */
enum iam_result iam_sqlite_read_end(struct iam_sqlite_conn *conn, enum iam_result result,
                                    const char *operation) IAM_MUST_CHECK;

/* Runs a statement returning no rows whose parameters ?1..?count are the texts `values` (see iam_sqlite_run). */
enum iam_result iam_sqlite_run_texts(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot, const char *sql,
                                     const char *operation, size_t count, const char *const values[],
                                     int64_t *changes) IAM_MUST_CHECK;

/*
 * Runs a query whose parameters ?1..?count are the texts `values` and reads
 * the integer in the first column of its first row; IAM_ENOTFOUND when it
 * returns no row (so it doubles as an existence check).
 */
enum iam_result iam_sqlite_query_integer(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot,
                                         const char *sql, const char *operation, size_t count,
                                         const char *const values[], int64_t *value) IAM_MUST_CHECK;

/*
 * Steps a bound query and reads up to `max_items` rows into a new arena array
 * of `item_size`-byte records with `read_row`. `*more` (if not NULL) tells
 * whether a row exists past them. Resets the statement. `*items`, `*count`
 * are set only on IAM_OK.
 */
enum iam_result iam_sqlite_collect(struct iam_sqlite_conn *conn, sqlite3_stmt *statement, struct iam_arena *arena,
                                   const char *operation, size_t item_size,
                                   enum iam_result (*read_row)(struct iam_arena *arena, sqlite3_stmt *statement,
                                                               void *item),
                                   size_t max_items, void **items, size_t *count, bool *more) IAM_MUST_CHECK;

/* --- sqlite_access_*.c: one function per access-side backend table entry --- */

/* Column lists in the order the iam_sqlite_*_read functions below read them. */
#define IAM_SQLITE_ACCOUNT_COLUMNS "id, name, owner_iam_id, state, created_at, modified_at"
#define IAM_SQLITE_POLICY_COLUMNS                                                                              \
    "id, account_id, type, api_version, subject_kind, subject_value, service_name, document, state, entity_tag, " \
    "created_by, modified_by, created_at_ms, modified_at_ms, last_permit_at, last_permit_frequency"
#define IAM_SQLITE_ROLE_COLUMNS                                                                               \
    "id, account_id, name, display_name, description, service_name, actions, crn, entity_tag, created_by, " \
    "modified_by, created_at_ms, modified_at_ms"
#define IAM_SQLITE_MEMBER_COLUMNS "group_id, account_id, iam_id, type, created_by, created_at_ms"
#define IAM_SQLITE_SERVICE_DEF_COLUMNS "name, document, entity_tag, created_by, created_at, modified_at"

enum iam_result iam_sqlite_account_list(struct iam_store *store, struct iam_arena *arena, int64_t offset,
                                        int64_t limit, struct iam_account_record **items, size_t *count,
                                        bool *has_more);
enum iam_result iam_sqlite_account_update(struct iam_store *store, const struct iam_account_record *account);
enum iam_result iam_sqlite_user_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     int64_t offset, int64_t limit, struct iam_user_record **items, size_t *count,
                                     bool *has_more);
enum iam_result iam_sqlite_user_update(struct iam_store *store, const struct iam_user_record *user,
                                       const char *expected_entity_tag);
enum iam_result iam_sqlite_user_delete(struct iam_store *store, const char *account_id, const char *iam_id);

enum iam_result iam_sqlite_policy_insert(struct iam_store *store, const struct iam_policy_record *policy);
enum iam_result iam_sqlite_policy_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                      const char *id, struct iam_policy_record *out);
enum iam_result iam_sqlite_policy_list(struct iam_store *store, struct iam_arena *arena,
                                       const struct iam_policy_query *query, enum iam_store_policy_sort sort,
                                       struct iam_policy_record **items, size_t *count, bool *has_more);
enum iam_result iam_sqlite_policy_update(struct iam_store *store, const struct iam_policy_record *policy,
                                         const char *expected_entity_tag);
enum iam_result iam_sqlite_policy_delete(struct iam_store *store, const char *account_id, const char *id);
enum iam_result iam_sqlite_policy_count_for_subject(struct iam_store *store, const char *account_id,
                                                    const char *subject_kind, const char *subject_value,
                                                    int64_t *count);
enum iam_result iam_sqlite_policy_add_permits(struct iam_store *store, const struct iam_policy_permit *permits,
                                              size_t count);
/* Reads a policy row (the columns of the policy queries) into `item` (a struct iam_policy_record). */
enum iam_result iam_sqlite_policy_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item);

enum iam_result iam_sqlite_role_insert(struct iam_store *store, const struct iam_role_record *role);
enum iam_result iam_sqlite_role_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    const char *id, struct iam_role_record *out);
enum iam_result iam_sqlite_role_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *service_name, struct iam_role_record **items, size_t *count);
enum iam_result iam_sqlite_role_update(struct iam_store *store, const struct iam_role_record *role,
                                       const char *expected_entity_tag);
enum iam_result iam_sqlite_role_delete(struct iam_store *store, const char *account_id, const char *id);
/* Reads a custom role row into `item` (a struct iam_role_record). */
enum iam_result iam_sqlite_role_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item);

enum iam_result iam_sqlite_group_insert(struct iam_store *store, const struct iam_group_record *group);
enum iam_result iam_sqlite_group_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *id, struct iam_group_record *out);
enum iam_result iam_sqlite_group_list(struct iam_store *store, struct iam_arena *arena,
                                      const struct iam_group_query *query, enum iam_store_group_sort sort,
                                      struct iam_group_record **items, size_t *count, int64_t *total);
enum iam_result iam_sqlite_group_update(struct iam_store *store, const struct iam_group_record *group,
                                        const char *expected_entity_tag);
enum iam_result iam_sqlite_group_delete(struct iam_store *store, const char *account_id, const char *id);
enum iam_result iam_sqlite_group_count(struct iam_store *store, const char *account_id, int64_t *count);
enum iam_result iam_sqlite_member_add(struct iam_store *store, const struct iam_group_member_record *member);
enum iam_result iam_sqlite_member_remove(struct iam_store *store, const char *account_id, const char *group_id,
                                         const char *iam_id);
enum iam_result iam_sqlite_member_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                      const char *group_id, const char *iam_id, struct iam_group_member_record *out);
enum iam_result iam_sqlite_member_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                       const char *group_id, int64_t offset, int64_t limit,
                                       struct iam_group_member_record **items, size_t *count, int64_t *total);
enum iam_result iam_sqlite_member_group_count(struct iam_store *store, const char *account_id, const char *iam_id,
                                              int64_t *count);
/* Reads a group member row into `item` (a struct iam_group_member_record). */
enum iam_result iam_sqlite_member_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item);

enum iam_result iam_sqlite_service_def_put(struct iam_store *store, const struct iam_service_def_record *service,
                                           const char *expected_entity_tag);
enum iam_result iam_sqlite_service_def_get(struct iam_store *store, struct iam_arena *arena, const char *name,
                                           struct iam_service_def_record *out);
enum iam_result iam_sqlite_service_def_list(struct iam_store *store, struct iam_arena *arena,
                                            struct iam_service_def_record **items, size_t *count);
enum iam_result iam_sqlite_service_def_delete(struct iam_store *store, const char *name);
/* Reads a registered service row into `item` (a struct iam_service_def_record). */
enum iam_result iam_sqlite_service_def_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item);
enum iam_result iam_sqlite_access_settings_get(struct iam_store *store, struct iam_arena *arena,
                                               const char *account_id, struct iam_access_settings_record *out);
enum iam_result iam_sqlite_access_settings_put(struct iam_store *store,
                                               const struct iam_access_settings_record *settings,
                                               const char *expected_entity_tag);

/* Reads an account row (id, name, owner_iam_id, state, created_at, modified_at) into a struct iam_account_record. */
enum iam_result iam_sqlite_account_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item);

enum iam_result iam_sqlite_access_snapshot(struct iam_store *store, struct iam_arena *arena,
                                           struct iam_access_snapshot *out);

#endif
