/*
 * sqlite.c: the SQLite backend's connections, statement cache, transactions,
 * error mapping and table of functions (see sqlite_internal.h for the design).
 *
 * Durability: every connection runs in WAL mode with synchronous=FULL, so a
 * COMMIT returns only after the WAL is on stable storage; NORMAL would be
 * faster but may lose the last acknowledged writes (a new API key, a
 * revocation) on power loss. IAM_SQLITE_SYNCHRONOUS overrides it at build time.
 */
#include "store/sqlite_internal.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "store/copy_backend.h"
#include "store/audit_backend.h"

#ifndef IAM_SQLITE_SYNCHRONOUS
#define IAM_SQLITE_SYNCHRONOUS "FULL"
#endif

/* Milliseconds a connection waits for another process's write lock. */
#define BUSY_TIMEOUT_MS 5000

/* The WAL file is truncated back to this size after a checkpoint. */
#define JOURNAL_SIZE_LIMIT "67108864"

static struct iam_sqlite_store *sqlite_store_of(struct iam_store *store)
{
    return (struct iam_sqlite_store *)store; /* base is the first member */
}

/* --- connections --- */

static void conn_free(struct iam_sqlite_conn *conn)
{
    if (!conn)
        return;
    for (size_t i = 0; i < IAM_SQLITE_STMT_COUNT; i++)
        sqlite3_finalize(conn->statements[i]);
    if (conn->db) {
        int code = sqlite3_close(conn->db);
        if (code != SQLITE_OK) {
            iam_log(IAM_LOG_ERROR, "store_error", "close: sqlite %d: %s", code, sqlite3_errmsg(conn->db));
            (void)sqlite3_close_v2(conn->db);
        }
    }
    free(conn);
}

static enum iam_result conn_exec(sqlite3 *db, const char *sql, const char *what, struct iam_error *err)
{
    char *message = NULL;
    int code = sqlite3_exec(db, sql, NULL, NULL, &message);
    if (code == SQLITE_OK)
        return IAM_OK;
    iam_log(IAM_LOG_ERROR, "store_error", "%s: sqlite %d: %s", what, code, message ? message : sqlite3_errstr(code));
    sqlite3_free(message);
    return iam_error_set(err, IAM_ESTORE, NULL, "the database could not be configured (%s)", what);
}

/* Switches to WAL and checks that SQLite agreed (it answers with the mode in force). */
static enum iam_result conn_enable_wal(sqlite3 *db, struct iam_error *err)
{
    sqlite3_stmt *statement = NULL;
    enum iam_result result = IAM_ESTORE;
    int code = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &statement, NULL);
    if (code == SQLITE_OK)
        code = sqlite3_step(statement);
    if (code != SQLITE_ROW) {
        iam_log(IAM_LOG_ERROR, "store_error", "journal_mode: sqlite %d: %s", code, sqlite3_errmsg(db));
        iam_error_set(err, IAM_ESTORE, NULL, "the database could not switch to WAL mode");
        goto out;
    }
    const unsigned char *mode = sqlite3_column_text(statement, 0);
    if (!mode || strcmp((const char *)mode, "wal") != 0) {
        iam_log(IAM_LOG_ERROR, "store_error", "journal_mode: got %s instead of wal", mode ? (const char *)mode : "?");
        iam_error_set(err, IAM_ESTORE, NULL, "the database could not switch to WAL mode");
        goto out;
    }
    result = IAM_OK;
out:
    sqlite3_finalize(statement);
    return result;
}

static enum iam_result conn_open(struct iam_sqlite_store *store, struct iam_sqlite_conn **out,
                                 struct iam_error *err)
{
    enum iam_result result = IAM_ESTORE;
    struct iam_sqlite_conn *conn = calloc(1, sizeof *conn);
    if (!conn) {
        iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        return IAM_ENOMEM;
    }
    conn->store = store;
    /* NOMUTEX: a connection is only ever used by the thread that owns it. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    int code = sqlite3_open_v2(store->path, &conn->db, flags, NULL);
    if (code != SQLITE_OK) {
        iam_log(IAM_LOG_ERROR, "store_error", "open %s: sqlite %d: %s", store->path, code,
                conn->db ? sqlite3_errmsg(conn->db) : sqlite3_errstr(code));
        iam_error_set(err, IAM_ESTORE, NULL, "the database %s could not be opened", store->path);
        goto fail;
    }
    /* Hardening: no double-quoted string literals (keeps the SQL portable),
     * no schema-defined functions run with our privileges, no writes to the
     * schema behind SQLite's back. */
    (void)sqlite3_db_config(conn->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    (void)sqlite3_db_config(conn->db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    (void)sqlite3_db_config(conn->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    (void)sqlite3_db_config(conn->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    (void)sqlite3_busy_timeout(conn->db, BUSY_TIMEOUT_MS);
    result = conn_enable_wal(conn->db, err);
    if (result != IAM_OK)
        goto fail;
    result = conn_exec(conn->db,
                       "PRAGMA synchronous = " IAM_SQLITE_SYNCHRONOUS ";"
                       "PRAGMA foreign_keys = ON;"
                       "PRAGMA journal_size_limit = " JOURNAL_SIZE_LIMIT ";",
                       "pragmas", err);
    if (result != IAM_OK)
        goto fail;
    *out = conn;
    return IAM_OK;
fail:
    conn_free(conn);
    return result;
}

/* pthread key destructor: a thread exited, its connection waits for the next thread. */
static void conn_release(void *value)
{
    struct iam_sqlite_conn *conn = value;
    struct iam_sqlite_store *store = conn->store;
    pthread_mutex_lock(&store->registry_lock);
    conn->next_idle = store->idle;
    store->idle = conn;
    pthread_mutex_unlock(&store->registry_lock);
}

static void conn_register(struct iam_sqlite_store *store, struct iam_sqlite_conn *conn)
{
    pthread_mutex_lock(&store->registry_lock);
    conn->next = store->connections;
    store->connections = conn;
    pthread_mutex_unlock(&store->registry_lock);
}

enum iam_result iam_sqlite_conn_get(struct iam_store *base, struct iam_sqlite_conn **out)
{
    struct iam_sqlite_store *store = sqlite_store_of(base);
    if (atomic_load_explicit(&store->unavailable, memory_order_relaxed))
        return IAM_EUNAVAILABLE; /* the outage test hook */
    struct iam_sqlite_conn *conn = pthread_getspecific(store->thread_connection);
    if (conn) {
        *out = conn;
        return IAM_OK;
    }
    pthread_mutex_lock(&store->registry_lock);
    conn = store->idle;
    if (conn) {
        store->idle = conn->next_idle;
        conn->next_idle = NULL;
    }
    pthread_mutex_unlock(&store->registry_lock);
    if (!conn) {
        /* Opened outside the lock: opening does file I/O. */
        enum iam_result result = conn_open(store, &conn, NULL);
        if (result != IAM_OK)
            return result;
        conn_register(store, conn);
    }
    if (pthread_setspecific(store->thread_connection, conn) != 0) {
        conn_release(conn);
        return IAM_ENOMEM;
    }
    *out = conn;
    return IAM_OK;
}

/* --- statements --- */

enum iam_result iam_sqlite_prepare(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot, const char *sql,
                                   sqlite3_stmt **out)
{
    if (conn->statements[slot]) {
        /* Two call sites sharing a slot with different SQL would be a silent bug. */
        if (conn->statement_sql[slot] != sql && strcmp(conn->statement_sql[slot], sql) != 0) {
            iam_log(IAM_LOG_ERROR, "store_error", "statement slot %d reused with different SQL", (int)slot);
            return IAM_EINTERNAL;
        }
        *out = conn->statements[slot];
        return IAM_OK;
    }
    sqlite3_stmt *statement = NULL;
    int code = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, NULL);
    if (code != SQLITE_OK) {
        iam_log(IAM_LOG_ERROR, "store_error", "prepare slot %d: sqlite %d: %s", (int)slot, code,
                sqlite3_errmsg(conn->db));
        sqlite3_finalize(statement);
        return code == SQLITE_NOMEM ? IAM_ENOMEM : IAM_ESTORE;
    }
    conn->statements[slot] = statement;
    conn->statement_sql[slot] = sql;
    *out = statement;
    return IAM_OK;
}

void iam_sqlite_reset(sqlite3_stmt *statement)
{
    if (!statement)
        return;
    (void)sqlite3_reset(statement); /* returns the last step's error, already handled */
    (void)sqlite3_clear_bindings(statement);
}

enum iam_result iam_sqlite_fail(struct iam_sqlite_conn *conn, int code, const char *operation)
{
    enum iam_result result;
    enum iam_log_level level = IAM_LOG_DEBUG;
    switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        result = IAM_ECONFLICT;
        break;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        result = IAM_ENOTFOUND;
        break;
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_DATATYPE:
    case SQLITE_TOOBIG:
        result = IAM_EINVAL;
        level = IAM_LOG_WARN;
        break;
    case SQLITE_NOMEM:
        result = IAM_ENOMEM;
        level = IAM_LOG_ERROR;
        break;
    default:
        result = IAM_ESTORE;
        level = IAM_LOG_ERROR;
        break;
    }
    /* SQLite's messages name tables, columns and constraints, never values. */
    iam_log(level, "store_error", "%s: sqlite %d: %s", operation, code, sqlite3_errmsg(conn->db));
    return result;
}

enum iam_result iam_sqlite_fail_last(struct iam_sqlite_conn *conn, const char *operation)
{
    int code = sqlite3_extended_errcode(conn->db);
    return iam_sqlite_fail(conn, code == SQLITE_OK ? SQLITE_ERROR : code, operation);
}

enum iam_result iam_sqlite_run(struct iam_sqlite_conn *conn, sqlite3_stmt *statement, const char *operation,
                               int64_t *changes)
{
    /* The difference of total changes counts rows changed by this statement
     * only; sqlite3_changes() would repeat the previous DML's count after a
     * statement that is not an INSERT, UPDATE or DELETE. */
    sqlite3_int64 before = sqlite3_total_changes64(conn->db);
    int code = sqlite3_step(statement);
    enum iam_result result = IAM_OK;
    int64_t changed = 0;
    if (code == SQLITE_DONE) {
        changed = (int64_t)(sqlite3_total_changes64(conn->db) - before);
        conn->write_changes += changed;
    } else if (code == SQLITE_ROW) {
        /* RETURNING or a PRAGMA: not expected from callers of run. */
        result = IAM_EINTERNAL;
        iam_log(IAM_LOG_ERROR, "store_error", "%s: a statement run for effect returned a row", operation);
    } else {
        result = iam_sqlite_fail(conn, code, operation);
    }
    iam_sqlite_reset(statement);
    if (changes)
        *changes = changed;
    return result;
}

enum iam_result iam_sqlite_step(struct iam_sqlite_conn *conn, sqlite3_stmt *statement, const char *operation)
{
    int code = sqlite3_step(statement);
    if (code == SQLITE_ROW)
        return IAM_OK;
    if (code == SQLITE_DONE)
        return IAM_ENOTFOUND;
    return iam_sqlite_fail(conn, code, operation);
}

/* --- write transactions --- */

static enum iam_result run_control(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot, const char *sql,
                                   const char *operation)
{
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    return iam_sqlite_run(conn, statement, operation, NULL);
}

static void rollback(struct iam_sqlite_conn *conn, const char *operation)
{
    /* Some errors (I/O, full disk, out of memory) roll back by themselves. */
    if (sqlite3_get_autocommit(conn->db))
        return;
    if (run_control(conn, IAM_SQLITE_STMT_ROLLBACK, "ROLLBACK", operation) == IAM_OK)
        return;
    if (!sqlite3_get_autocommit(conn->db)) {
        int code = sqlite3_exec(conn->db, "ROLLBACK", NULL, NULL, NULL);
        if (code != SQLITE_OK)
            iam_log(IAM_LOG_ERROR, "store_error", "%s: rollback failed: sqlite %d", operation, code);
    }
}

enum iam_result iam_sqlite_write_begin(struct iam_store *base, struct iam_sqlite_conn **out, const char *operation)
{
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    pthread_mutex_lock(&conn->store->write_lock);
    conn->write_changes = 0;
    result = run_control(conn, IAM_SQLITE_STMT_BEGIN, "BEGIN IMMEDIATE", operation);
    if (result != IAM_OK) {
        rollback(conn, operation);
        pthread_mutex_unlock(&conn->store->write_lock);
        return result;
    }
    *out = conn;
    return IAM_OK;
}

enum iam_result iam_sqlite_write_end(struct iam_sqlite_conn *conn, enum iam_result result, const char *operation)
{
    if (result == IAM_OK && conn->write_changes > 0)
        result = run_control(conn, IAM_SQLITE_STMT_REVISION_BUMP,
                             "UPDATE revision SET value = value + 1 WHERE id = 1", operation);
    if (result == IAM_OK)
        result = run_control(conn, IAM_SQLITE_STMT_COMMIT, "COMMIT", operation);
    if (result != IAM_OK)
        rollback(conn, operation);
    conn->write_changes = 0;
    pthread_mutex_unlock(&conn->store->write_lock);
    return result;
}

/* --- binding and reading --- */

int iam_sqlite_bind_text(sqlite3_stmt *statement, int index, const char *text)
{
    if (!text)
        return sqlite3_bind_null(statement, index);
    /* STATIC: the caller's string outlives the step; bindings are cleared at reset. */
    return sqlite3_bind_text(statement, index, text, -1, SQLITE_STATIC);
}

int iam_sqlite_bind_blob(sqlite3_stmt *statement, int index, const void *data, size_t length)
{
    if (!data)
        return sqlite3_bind_null(statement, index);
    return sqlite3_bind_blob64(statement, index, data, (sqlite3_uint64)length, SQLITE_STATIC);
}

int iam_sqlite_bind_int64(sqlite3_stmt *statement, int index, int64_t value)
{
    return sqlite3_bind_int64(statement, index, (sqlite3_int64)value);
}

int iam_sqlite_bind_bool(sqlite3_stmt *statement, int index, bool value)
{
    return sqlite3_bind_int(statement, index, value ? 1 : 0);
}

bool iam_sqlite_column_text(struct iam_arena *arena, sqlite3_stmt *statement, int column, const char **out)
{
    *out = NULL;
    if (sqlite3_column_type(statement, column) == SQLITE_NULL)
        return true;
    const unsigned char *text = sqlite3_column_text(statement, column);
    if (!text)
        return false;
    int bytes = sqlite3_column_bytes(statement, column);
    char *copy = iam_arena_strndup(arena, (const char *)text, (size_t)bytes);
    if (!copy)
        return false;
    *out = copy;
    return true;
}

bool iam_sqlite_column_blob(struct iam_arena *arena, sqlite3_stmt *statement, int column, const uint8_t **out,
                            size_t *length)
{
    *out = NULL;
    *length = 0;
    if (sqlite3_column_type(statement, column) == SQLITE_NULL)
        return true;
    const void *data = sqlite3_column_blob(statement, column);
    int bytes = sqlite3_column_bytes(statement, column);
    if (!data && bytes > 0)
        return false;
    uint8_t *copy = iam_arena_alloc(arena, bytes > 0 ? (size_t)bytes : 1);
    if (!copy)
        return false;
    if (bytes > 0)
        memcpy(copy, data, (size_t)bytes);
    *out = copy;
    *length = (size_t)bytes;
    return true;
}

bool iam_sqlite_column_fixed_blob(sqlite3_stmt *statement, int column, uint8_t *out, size_t length)
{
    if (sqlite3_column_type(statement, column) != SQLITE_BLOB)
        return false;
    const void *data = sqlite3_column_blob(statement, column);
    int bytes = sqlite3_column_bytes(statement, column);
    if (!data || bytes < 0 || (size_t)bytes != length)
        return false;
    memcpy(out, data, length);
    return true;
}

void *iam_sqlite_array_reserve(struct iam_arena *arena, void *items, size_t count, size_t *capacity, size_t size)
{
    if (count < *capacity)
        return items;
    size_t grown_capacity = *capacity ? *capacity * 2 : 8;
    if (grown_capacity < count + 1 || grown_capacity > SIZE_MAX / size)
        return NULL;
    void *grown = iam_arena_alloc(arena, grown_capacity * size);
    if (!grown)
        return NULL;
    if (count > 0)
        memcpy(grown, items, count * size);
    *capacity = grown_capacity;
    return grown;
}

/* --- store-wide reads --- */

static enum iam_result read_single_integer(struct iam_store *base, enum iam_sqlite_statement slot, const char *sql,
                                           const char *operation, int64_t *value)
{
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        *value = sqlite3_column_int64(statement, 0);
    else if (result == IAM_ENOTFOUND)
        result = IAM_ESTORE; /* these queries always return one row */
    iam_sqlite_reset(statement);
    return result;
}

static enum iam_result sqlite_schema_version(struct iam_store *base, int64_t *version)
{
    return read_single_integer(base, IAM_SQLITE_STMT_SCHEMA_VERSION,
                               "SELECT coalesce(max(version), 0) FROM schema_migrations", "schema_version", version);
}

static enum iam_result sqlite_revision(struct iam_store *base, int64_t *revision)
{
    enum iam_result result = read_single_integer(base, IAM_SQLITE_STMT_REVISION_GET,
                                                 "SELECT value FROM revision WHERE id = 1", "revision", revision);
    /*
     * A database file deleted or replaced under a running server still answers
     * from the open inode, and every write after that is lost at the next
     * start: report it as unavailable (readiness, engine polling) instead.
     */
    struct iam_sqlite_conn *conn = NULL;
    int moved = 0;
    if (result == IAM_OK && iam_sqlite_conn_get(base, &conn) == IAM_OK &&
        sqlite3_file_control(conn->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved) {
        static atomic_bool reported;
        if (!atomic_exchange(&reported, true))
            iam_log(IAM_LOG_ERROR, "store_file_moved",
                    "the database file was deleted, moved or replaced while open; restart iamd");
        result = IAM_EUNAVAILABLE;
    }
    return result;
}

enum iam_result iam_sqlite_account_count(struct iam_store *base, int64_t *count)
{
    return read_single_integer(base, IAM_SQLITE_STMT_ACCOUNT_COUNT, "SELECT count(*) FROM accounts",
                               "account_count", count);
}

/* --- open and close --- */

/*
 * Closes every connection. The caller guarantees that no other thread uses
 * the store any more (pool threads joined): a thread still running would keep
 * a pointer to a freed connection.
 */
static void sqlite_close(struct iam_store *base)
{
    struct iam_sqlite_store *store = sqlite_store_of(base);
    /* After this no exiting thread runs conn_release on our connections. */
    pthread_key_delete(store->thread_connection);
    struct iam_sqlite_conn *conn = store->connections;
    while (conn) {
        struct iam_sqlite_conn *next = conn->next;
        conn_free(conn);
        conn = next;
    }
    pthread_mutex_destroy(&store->write_lock);
    pthread_mutex_destroy(&store->registry_lock);
    free(store->path);
    free(store);
}

static const struct iam_store_backend sqlite_backend = {
    .name = "sqlite",
    .close = sqlite_close,
    .schema_version = sqlite_schema_version,
    .revision = sqlite_revision,
    .meta_get = iam_sqlite_meta_get,
    .meta_insert = iam_sqlite_meta_insert,
    .meta_set = iam_sqlite_meta_set,
    .account_insert = iam_sqlite_account_insert,
    .account_get = iam_sqlite_account_get,
    .account_count = iam_sqlite_account_count,
    .user_insert = iam_sqlite_user_insert,
    .user_get = iam_sqlite_user_get,
    .user_get_by_login = iam_sqlite_user_get_by_login,
    .service_id_insert = iam_sqlite_service_id_insert,
    .service_id_get = iam_sqlite_service_id_get,
    .service_id_get_by_iam_id = iam_sqlite_service_id_get_by_iam_id,
    .service_id_list = iam_sqlite_service_id_list,
    .service_id_update = iam_sqlite_service_id_update,
    .service_id_delete = iam_sqlite_service_id_delete,
    .apikey_insert = iam_sqlite_apikey_insert,
    .apikey_get = iam_sqlite_apikey_get,
    .apikey_get_by_hash = iam_sqlite_apikey_get_by_hash,
    .apikey_get_by_id = iam_sqlite_apikey_get_by_id,
    .apikey_list = iam_sqlite_apikey_list,
    .apikey_update = iam_sqlite_apikey_update,
    .apikey_delete = iam_sqlite_apikey_delete,
    .apikey_add_usage = iam_sqlite_apikey_add_usage,
    .history_list = iam_sqlite_history_list,
    .signing_key_insert = iam_sqlite_signing_key_insert,
    .signing_key_list = iam_sqlite_signing_key_list,
    .signing_key_purge = iam_sqlite_signing_key_purge,
    .settings_get = iam_sqlite_settings_get,
    .settings_put = iam_sqlite_settings_put,
    .revocation_insert = iam_sqlite_revocation_insert,
    .revocation_exists = iam_sqlite_revocation_exists,
    .revocation_purge = iam_sqlite_revocation_purge,
    .access = &iam_store_sqlite_access_backend,
    .copy = &iam_store_sqlite_copy_backend,
    .activity = &iam_store_sqlite_activity_backend,
    .audit = &iam_store_sqlite_audit_backend,
    .sessions = &iam_store_sqlite_sessions_backend,
};

/* Creates the database file readable by its owner only (it holds key hashes and
 * sealed secrets); SQLite gives its -wal and -shm files the same mode. */
enum iam_result iam_store_sqlite_set_unavailable(struct iam_store *base, bool unavailable)
{
    if (!base || base->backend != &sqlite_backend)
        return IAM_EINVAL;
    atomic_store(&sqlite_store_of(base)->unavailable, unavailable);
    return IAM_OK;
}

static enum iam_result create_private_file(const char *path, struct iam_error *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return iam_error_set(err, IAM_ESTORE, NULL, "the database %s could not be created", path);
    close(fd);
    return IAM_OK;
}

enum iam_result iam_store_sqlite_open(const char *path, struct iam_store **out, struct iam_error *err)
{
    enum iam_result result;
    struct iam_sqlite_store *store = NULL;
    struct iam_sqlite_conn *conn = NULL;
    bool key_created = false, locks_created = false;

    *out = NULL;
    if (!path || path[0] == '\0' || strcmp(path, ":memory:") == 0)
        return iam_error_set(err, IAM_EINVAL, NULL, "the SQLite store needs the path of a file");
    result = create_private_file(path, err);
    if (result != IAM_OK)
        return result;

    store = calloc(1, sizeof *store);
    if (!store)
        return iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
    store->base.backend = &sqlite_backend;
    store->path = strdup(path);
    if (!store->path) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&store->registry_lock, NULL) != 0) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&store->write_lock, NULL) != 0) {
        pthread_mutex_destroy(&store->registry_lock);
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    locks_created = true;
    if (pthread_key_create(&store->thread_connection, conn_release) != 0) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "no thread-specific key left");
        goto fail;
    }
    key_created = true;

    result = conn_open(store, &conn, err);
    if (result != IAM_OK)
        goto fail;
    result = iam_sqlite_migrate(conn->db, err);
    if (result != IAM_OK)
        goto fail;
    if (pthread_setspecific(store->thread_connection, conn) != 0) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    conn_register(store, conn);
    *out = &store->base;
    return IAM_OK;

fail:
    conn_free(conn);
    if (key_created)
        pthread_key_delete(store->thread_connection);
    if (locks_created) {
        pthread_mutex_destroy(&store->write_lock);
        pthread_mutex_destroy(&store->registry_lock);
    }
    free(store->path);
    free(store);
    return result;
}
