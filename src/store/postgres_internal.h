/*
 * postgres_internal.h: what the PostgreSQL backend's files share (not a public header).
 *
 * The backend mirrors the SQLite one file for file: postgres.c owns the
 * connection pool, statements, transactions, error mapping, advisory locks and
 * the backend table; postgres_*.c hold the SQL of one family of records each;
 * postgres_migrations.c holds the schema.
 *
 * Connections: a fixed pool (`pool_size` in the URL, default 4). A store call
 * checks a connection out, runs its statements and checks it back in; a thread
 * waits (up to 10 s, then IAM_EUNAVAILABLE) when every connection is busy.
 * Connections are opened lazily and dropped when they fail; the next checkout
 * reconnects. When the first statement of a checkout finds its connection
 * lost (the server restarted since), it reconnects and runs once more: nothing
 * of the call has happened yet. Any later loss is IAM_EUNAVAILABLE.
 *
 * Statements: every SQL text lives in a `static struct iam_pg_statement` next
 * to the code that runs it. It is prepared (PQprepare) once per connection,
 * under a name drawn from a process-wide counter, then run with
 * PQexecPrepared. Parameters are always bound, never spliced into the text;
 * every parameter carries a cast ($1::text, $2::bigint) so its type does not
 * depend on inference. Results come back in binary format.
 *
 * Writes: iam_pg_write_begin opens a READ COMMITTED transaction and locks the
 * single revision row (SELECT ... FOR UPDATE), so write transactions of every
 * node run one after the other, as SQLite's BEGIN IMMEDIATE makes them: a
 * conditional update or a check-then-insert sees every write committed before
 * it, and no two writers can deadlock. iam_pg_write_end bumps the revision in
 * the same transaction when rows changed, then commits; on failure it rolls
 * back. Reads made of several queries run in one REPEATABLE READ READ ONLY
 * transaction (iam_pg_read_begin) so they see one committed state.
 */
#ifndef IAM_STORE_POSTGRES_INTERNAL_H
#define IAM_STORE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "store/backend.h"

/* The most parameters one statement binds. */
#define IAM_PG_PARAMS_MAX 24

/* The most distinct statements a process prepares; more run unprepared (PQexecParams). */
#define IAM_PG_STATEMENTS_MAX 256

/* The most advisory locks one store holds at once (iam_store_try_lock). */
#define IAM_PG_LOCKS_MAX 8

/* One SQL text. `id` is assigned on first use (1-based) and names the prepared statement. */
struct iam_pg_statement {
    const char *sql;
    atomic_int id;
};

#define IAM_PG_STATEMENT(text) {.sql = (text)}

/* The parameters of one statement, in order ($1, $2, ...). Filled with the iam_pg_param_* functions. */
struct iam_pg_params {
    int count;
    bool overflow; /* more than IAM_PG_PARAMS_MAX were added: the statement is not run */
    const char *values[IAM_PG_PARAMS_MAX];
    int lengths[IAM_PG_PARAMS_MAX];
    int formats[IAM_PG_PARAMS_MAX];
    char numbers[IAM_PG_PARAMS_MAX][24]; /* text form of integer and boolean parameters */
};

struct iam_pg_store;

/* One pooled connection. Used by one thread between checkout and checkin. */
struct iam_pg_conn {
    PGconn *pg;                 /* NULL until connected, and after a failure */
    struct iam_pg_store *store;
    bool in_use;
    bool broken;                /* drop at checkin: lost, or in an unknown state */
    bool retry_allowed;         /* no statement sent yet by this checkout */
    int64_t write_changes;      /* rows changed so far by the open write transaction */
    bool prepared[IAM_PG_STATEMENTS_MAX];
};

struct iam_pg_lock {
    int64_t key;
    bool held;
};

struct iam_pg_store {
    struct iam_store base; /* first: store.c sees only this */
    char *url;             /* the location without iamd's own parameters, as libpq takes it */
    char *display;         /* host, port and database, for messages (no user, no password) */
    size_t pool_size;
    pthread_mutex_t pool_lock; /* guards in_use, last_connect_failure_ns */
    pthread_cond_t pool_free;
    struct iam_pg_conn *pool;
    int64_t last_connect_failure_ns; /* monotonic; connects are not retried for a moment after a failure */

    /* Advisory locks live on a connection of their own, outside the pool (session locks). */
    pthread_mutex_t lock_lock;
    struct iam_pg_conn lock_conn;
    struct iam_pg_lock locks[IAM_PG_LOCKS_MAX];
};

/* --- postgres.c: parameters --- */

/* Binds text (NULL binds SQL NULL). The string must outlive the statement's run. */
void iam_pg_param_text(struct iam_pg_params *params, const char *text);
void iam_pg_param_int64(struct iam_pg_params *params, int64_t value);
void iam_pg_param_bool(struct iam_pg_params *params, bool value);
/* Binds bytes in binary format (NULL binds SQL NULL). */
void iam_pg_param_bytea(struct iam_pg_params *params, const void *data, size_t length);

/* --- postgres.c: connections and statements --- */

/* Checks a connection out of the pool, connected. IAM_EUNAVAILABLE when none can be had. */
enum iam_result iam_pg_acquire(struct iam_store *store, struct iam_pg_conn **out) IAM_MUST_CHECK;

/* Checks a connection back in; a broken one, or one left in a transaction, is closed. */
void iam_pg_release(struct iam_pg_conn *conn);

/*
 * Runs `statement` with `params` (NULL: none). On IAM_OK, `*result` (if not
 * NULL) holds the PGresult, which the caller PQclear()s; rows changed by a
 * command are added to the write transaction's count and stored in `*changes`
 * (if not NULL). On failure the error is mapped and logged (iam_pg_fail) and
 * nothing is returned.
 */
enum iam_result iam_pg_execute(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                               const struct iam_pg_params *params, const char *operation, PGresult **result,
                               int64_t *changes) IAM_MUST_CHECK;

/* iam_pg_execute for a statement run for its effect. */
enum iam_result iam_pg_run(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                           const struct iam_pg_params *params, const char *operation,
                           int64_t *changes) IAM_MUST_CHECK;

/* Runs a query and reads the integer in the first column of its first row; IAM_ENOTFOUND when no row. */
enum iam_result iam_pg_query_integer(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                                     const struct iam_pg_params *params, const char *operation,
                                     int64_t *value) IAM_MUST_CHECK;

/* Reads row `row` of `result` into `item`; IAM_ENOMEM when the arena is full. */
typedef enum iam_result (*iam_pg_row_reader)(struct iam_arena *arena, const PGresult *result, int row, void *item);

/*
 * Runs a query and reads up to `max_items` rows into a new arena array of
 * `item_size`-byte records; `*more` (if not NULL) tells whether a row exists
 * past them. `*items`, `*count` are set only on IAM_OK.
 */
enum iam_result iam_pg_collect(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                               const struct iam_pg_params *params, struct iam_arena *arena, const char *operation,
                               size_t item_size, iam_pg_row_reader read_row, size_t max_items, void **items,
                               size_t *count, bool *more) IAM_MUST_CHECK;

/* One-call reads outside a transaction: check out, run, read, check in. */
/* Reads the first row into `item`; IAM_ENOTFOUND when there is none. */
enum iam_result iam_pg_read_row(struct iam_store *store, struct iam_pg_statement *statement,
                                const struct iam_pg_params *params, struct iam_arena *arena,
                                const char *operation, iam_pg_row_reader read_row, void *item) IAM_MUST_CHECK;
enum iam_result iam_pg_read_rows(struct iam_store *store, struct iam_pg_statement *statement,
                                 const struct iam_pg_params *params, struct iam_arena *arena, const char *operation,
                                 size_t item_size, iam_pg_row_reader read_row, size_t max_items, void **items,
                                 size_t *count, bool *more) IAM_MUST_CHECK;
/* Reads one integer (a count); a query that returns no row is IAM_ESTORE. */
enum iam_result iam_pg_read_integer(struct iam_store *store, struct iam_pg_statement *statement,
                                    const struct iam_pg_params *params, const char *operation,
                                    int64_t *value) IAM_MUST_CHECK;

/*
 * Maps a failed result to an iam_result and logs it (SQLSTATE, constraint
 * and primary message; never DETAIL, which quotes values): unique violations
 * are IAM_ECONFLICT, foreign key violations IAM_ENOTFOUND, NOT NULL and CHECK
 * violations and bad data IAM_EINVAL, a lost connection, a server shutting
 * down, a standby, timeouts and serialization failures IAM_EUNAVAILABLE,
 * the rest IAM_ESTORE. `result` may be NULL (libpq could not send).
 */
enum iam_result iam_pg_fail(struct iam_pg_conn *conn, const PGresult *result, const char *operation) IAM_MUST_CHECK;

/* --- postgres.c: transactions --- */

/* Checks a connection out and opens a write transaction holding the store-wide write lock. */
enum iam_result iam_pg_write_begin(struct iam_store *store, struct iam_pg_conn **out,
                                   const char *operation) IAM_MUST_CHECK;

/*
 * Ends the write transaction: when `result` is IAM_OK, bumps the revision if
 * rows changed (unless `bump` is false: statistics) and commits; otherwise
 * rolls back. Checks the connection in. Returns `result`, or the commit's error.
 */
enum iam_result iam_pg_write_end(struct iam_pg_conn *conn, enum iam_result result, bool bump,
                                 const char *operation) IAM_MUST_CHECK;

/* Checks a connection out and opens a REPEATABLE READ READ ONLY transaction. */
enum iam_result iam_pg_read_begin(struct iam_store *store, struct iam_pg_conn **out,
                                  const char *operation) IAM_MUST_CHECK;
/* Ends it (COMMIT) and checks the connection in. Returns `result`, or the end's error. */
enum iam_result iam_pg_read_end(struct iam_pg_conn *conn, enum iam_result result,
                                const char *operation) IAM_MUST_CHECK;

/* --- postgres.c: reading binary results --- */

/* A copy of a text column in `arena` (NULL for SQL NULL). False when out of memory. */
bool iam_pg_text(struct iam_arena *arena, const PGresult *result, int row, int column, const char **out);
/* An integer column (smallint, integer or bigint); 0 for SQL NULL. */
int64_t iam_pg_int64(const PGresult *result, int row, int column);
bool iam_pg_bool(const PGresult *result, int row, int column);
/* A copy of a bytea column in `arena` (NULL, 0 for SQL NULL). False when out of memory. */
bool iam_pg_bytea(struct iam_arena *arena, const PGresult *result, int row, int column, const uint8_t **out,
                  size_t *length);
/* Copies a bytea column that must be exactly `length` bytes; false otherwise. */
bool iam_pg_fixed_bytea(const PGresult *result, int row, int column, uint8_t *out, size_t length);

/* A stable 64-bit key for an advisory lock name (FNV-1a). */
int64_t iam_pg_lock_key(const char *name);

/* --- postgres_migrations.c --- */

/*
 * Applies every migration newer than the database's schema version, in one
 * transaction holding a transaction-level advisory lock, so nodes starting
 * together migrate once. IAM_ESTORE (with `err` filled) when one fails or the
 * database is newer than this program.
 */
enum iam_result iam_pg_migrate(struct iam_pg_conn *conn, struct iam_error *err) IAM_MUST_CHECK;

/* The version the last migration brings the schema to. */
int64_t iam_pg_schema_latest(void);

/* --- postgres_*.c: one function per backend table entry --- */

enum iam_result iam_pg_meta_get(struct iam_store *store, struct iam_arena *arena, const char *key,
                                const char **value);
enum iam_result iam_pg_meta_insert(struct iam_store *store, const char *key, const char *value);
enum iam_result iam_pg_meta_set(struct iam_store *store, const char *key, const char *value);
enum iam_result iam_pg_signing_key_insert(struct iam_store *store, const struct iam_signing_key_record *key);
enum iam_result iam_pg_signing_key_list(struct iam_store *store, struct iam_arena *arena,
                                        struct iam_signing_key_record **items, size_t *count);
enum iam_result iam_pg_signing_key_purge(struct iam_store *store, int64_t now);
enum iam_result iam_pg_revocation_insert(struct iam_store *store, const char *jti, int64_t expires_at);
enum iam_result iam_pg_revocation_exists(struct iam_store *store, const char *jti, bool *revoked);
enum iam_result iam_pg_revocation_purge(struct iam_store *store, int64_t now);

enum iam_result iam_pg_account_insert(struct iam_store *store, const struct iam_account_record *account);
enum iam_result iam_pg_account_get(struct iam_store *store, struct iam_arena *arena, const char *id,
                                   struct iam_account_record *out);
enum iam_result iam_pg_account_count(struct iam_store *store, int64_t *count);
enum iam_result iam_pg_user_insert(struct iam_store *store, const struct iam_user_record *user);
enum iam_result iam_pg_user_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                const char *iam_id, struct iam_user_record *out);
enum iam_result iam_pg_user_get_by_login(struct iam_store *store, struct iam_arena *arena, const char *login,
                                         struct iam_user_record *out);
enum iam_result iam_pg_settings_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    struct iam_settings_record *out);
enum iam_result iam_pg_settings_put(struct iam_store *store, const struct iam_settings_record *settings,
                                    const char *expected_entity_tag);

/*
 * Compares a row's entity tag with the expected one inside the open write
 * transaction; `statement` takes the key as $1 and returns the tag. No row
 * while a tag is expected is IAM_ECONFLICT: the caller holds a version that is
 * not the current one.
 */
enum iam_result iam_pg_check_tag(struct iam_pg_conn *conn, struct iam_pg_statement *statement, const char *key,
                                 const char *expected_entity_tag, const char *operation) IAM_MUST_CHECK;

/* Appends one history record of an entity of `account_id` inside the open write transaction. */
enum iam_result iam_pg_history_append(struct iam_pg_conn *conn, const char *account_id,
                                      const struct iam_history_record *history,
                                      const char *operation) IAM_MUST_CHECK;
enum iam_result iam_pg_history_list(struct iam_store *store, struct iam_arena *arena, const char *entity_id,
                                    size_t limit, struct iam_history_record **items, size_t *count);

enum iam_result iam_pg_service_id_insert(struct iam_store *store, const struct iam_service_id_record *service_id,
                                         const struct iam_apikey_record *apikey,
                                         const struct iam_history_record *history, size_t history_count);
enum iam_result iam_pg_service_id_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                      const char *id, struct iam_service_id_record *out);
enum iam_result iam_pg_service_id_get_by_iam_id(struct iam_store *store, struct iam_arena *arena,
                                                const char *account_id, const char *iam_id,
                                                struct iam_service_id_record *out);
enum iam_result iam_pg_service_id_list(struct iam_store *store, struct iam_arena *arena,
                                       const struct iam_service_id_query *query, enum iam_store_service_id_sort sort,
                                       struct iam_service_id_record **items, size_t *count, bool *has_more);
enum iam_result iam_pg_service_id_update(struct iam_store *store, const struct iam_service_id_record *updated,
                                         const char *expected_entity_tag, const struct iam_history_record *history);
enum iam_result iam_pg_service_id_delete(struct iam_store *store, const char *account_id, const char *id);

enum iam_result iam_pg_apikey_insert(struct iam_store *store, const struct iam_apikey_record *apikey,
                                     const struct iam_history_record *history);
enum iam_result iam_pg_apikey_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                  const char *id, struct iam_apikey_record *out);
enum iam_result iam_pg_apikey_get_by_id(struct iam_store *store, struct iam_arena *arena, const char *id,
                                        struct iam_apikey_record *out);
enum iam_result iam_pg_apikey_get_by_hash(struct iam_store *store, struct iam_arena *arena,
                                          const uint8_t hash[IAM_RECORD_HASH_SIZE], struct iam_apikey_record *out);
enum iam_result iam_pg_apikey_list(struct iam_store *store, struct iam_arena *arena,
                                   const struct iam_apikey_query *query, enum iam_store_apikey_sort sort,
                                   enum iam_store_apikey_type type, struct iam_apikey_record **items, size_t *count,
                                   bool *has_more);
enum iam_result iam_pg_apikey_update(struct iam_store *store, const struct iam_apikey_record *updated,
                                     const char *expected_entity_tag, const struct iam_history_record *history);
enum iam_result iam_pg_apikey_delete(struct iam_store *store, const char *account_id, const char *id);
enum iam_result iam_pg_apikey_add_usage(struct iam_store *store, const struct iam_apikey_usage *usage, size_t count);

/* postgres_groups.c: groups, members, registered services, access settings, the engine's snapshot. */
enum iam_result iam_pg_group_insert(struct iam_store *store, const struct iam_group_record *group);
enum iam_result iam_pg_group_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                 const char *id, struct iam_group_record *out);
enum iam_result iam_pg_group_list(struct iam_store *store, struct iam_arena *arena,
                                  const struct iam_group_query *query, enum iam_store_group_sort sort,
                                  struct iam_group_record **items, size_t *count, int64_t *total);
enum iam_result iam_pg_group_update(struct iam_store *store, const struct iam_group_record *group,
                                    const char *expected_entity_tag);
enum iam_result iam_pg_group_delete(struct iam_store *store, const char *account_id, const char *id);
enum iam_result iam_pg_group_count(struct iam_store *store, const char *account_id, int64_t *count);
enum iam_result iam_pg_member_add(struct iam_store *store, const struct iam_group_member_record *member);
enum iam_result iam_pg_member_remove(struct iam_store *store, const char *account_id, const char *group_id,
                                     const char *iam_id);
enum iam_result iam_pg_member_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                  const char *group_id, const char *iam_id, struct iam_group_member_record *out);
enum iam_result iam_pg_member_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                   const char *group_id, int64_t offset, int64_t limit,
                                   struct iam_group_member_record **items, size_t *count, int64_t *total);
enum iam_result iam_pg_member_group_count(struct iam_store *store, const char *account_id, const char *iam_id,
                                          int64_t *count);
enum iam_result iam_pg_service_def_put(struct iam_store *store, const struct iam_service_def_record *service,
                                       const char *expected_entity_tag);
enum iam_result iam_pg_service_def_get(struct iam_store *store, struct iam_arena *arena, const char *name,
                                       struct iam_service_def_record *out);
enum iam_result iam_pg_service_def_list(struct iam_store *store, struct iam_arena *arena,
                                        struct iam_service_def_record **items, size_t *count);
enum iam_result iam_pg_service_def_delete(struct iam_store *store, const char *name);
enum iam_result iam_pg_access_settings_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                           struct iam_access_settings_record *out);
enum iam_result iam_pg_access_settings_put(struct iam_store *store, const struct iam_access_settings_record *settings,
                                           const char *expected_entity_tag);
enum iam_result iam_pg_access_snapshot(struct iam_store *store, struct iam_arena *arena,
                                       struct iam_access_snapshot *out);

/* The access side's table (postgres_access.c). */
extern const struct iam_store_access_backend iam_store_postgres_access_backend;

/* Column lists in the order the row readers below read them. */
#define IAM_PG_ACCOUNT_COLUMNS "id, name, owner_iam_id, state, created_at, modified_at"
#define IAM_PG_POLICY_COLUMNS                                                                                  \
    "id, account_id, type, api_version, subject_kind, subject_value, service_name, document, state, entity_tag, " \
    "created_by, modified_by, created_at_ms, modified_at_ms, last_permit_at, last_permit_frequency"
#define IAM_PG_ROLE_COLUMNS                                                                                   \
    "id, account_id, name, display_name, description, service_name, actions, crn, entity_tag, created_by, " \
    "modified_by, created_at_ms, modified_at_ms"
#define IAM_PG_MEMBER_COLUMNS "group_id, account_id, iam_id, type, created_by, created_at_ms"
#define IAM_PG_SERVICE_DEF_COLUMNS "name, document, entity_tag, created_by, created_at, modified_at"

/* Row readers shared by the access files (an item is the matching record struct). */
enum iam_result iam_pg_account_read(struct iam_arena *arena, const PGresult *result, int row, void *item);
enum iam_result iam_pg_policy_read(struct iam_arena *arena, const PGresult *result, int row, void *item);
enum iam_result iam_pg_role_read(struct iam_arena *arena, const PGresult *result, int row, void *item);
enum iam_result iam_pg_member_read(struct iam_arena *arena, const PGresult *result, int row, void *item);
enum iam_result iam_pg_service_def_read(struct iam_arena *arena, const PGresult *result, int row, void *item);

#endif
