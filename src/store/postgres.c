/*
 * postgres.c: the PostgreSQL backend's location parsing, connection pool,
 * statements, transactions, error mapping, advisory locks and table of
 * functions (see postgres_internal.h for the design).
 *
 * Location: a libpq URL, postgres://[user[:password]@]host[:port][/dbname][?param=value&...],
 * with every libpq parameter (sslmode, sslrootcert, target_session_attrs,
 * multiple hosts...) and one of iamd's own, pool_size=N (1..100, default 4),
 * which is taken out before libpq sees the URL. iamd's defaults
 * (connect_timeout, keepalives, statement and idle-in-transaction timeouts)
 * apply unless the URL sets them; client_encoding is always UTF8.
 *
 * Nothing here logs or returns the URL itself: it may hold a password.
 * Messages name the host, port and database only.
 */
#include "store/postgres_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/time.h"
#include "store/copy_backend.h"
#include "store/audit_backend.h"

#define DEFAULT_POOL_SIZE 4
#define MAX_POOL_SIZE 100

/* How long a store call waits for a free connection before IAM_EUNAVAILABLE. */
#define POOL_WAIT_SECONDS 10

/* After a failed connect, calls fail at once for this long instead of each waiting for a connect. */
#define CONNECT_BACKOFF_NS 500000000LL

/* PostgreSQL type OIDs of the binary columns read here (pg_type.h, stable across versions). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23

static struct iam_pg_store *pg_store_of(struct iam_store *store)
{
    return (struct iam_pg_store *)store; /* base is the first member */
}

/* --- parameters --- */

static bool param_slot(struct iam_pg_params *params, int *index)
{
    if (params->count >= IAM_PG_PARAMS_MAX) {
        params->overflow = true;
        return false;
    }
    *index = params->count++;
    return true;
}

void iam_pg_param_text(struct iam_pg_params *params, const char *text)
{
    int i;
    if (!param_slot(params, &i))
        return;
    params->values[i] = text;
    params->lengths[i] = 0;
    params->formats[i] = 0;
}

void iam_pg_param_int64(struct iam_pg_params *params, int64_t value)
{
    int i;
    if (!param_slot(params, &i))
        return;
    snprintf(params->numbers[i], sizeof params->numbers[i], "%lld", (long long)value);
    params->values[i] = params->numbers[i];
    params->lengths[i] = 0;
    params->formats[i] = 0;
}

void iam_pg_param_bool(struct iam_pg_params *params, bool value)
{
    int i;
    if (!param_slot(params, &i))
        return;
    params->numbers[i][0] = value ? 't' : 'f';
    params->numbers[i][1] = '\0';
    params->values[i] = params->numbers[i];
    params->lengths[i] = 0;
    params->formats[i] = 0;
}

void iam_pg_param_bytea(struct iam_pg_params *params, const void *data, size_t length)
{
    int i;
    if (!param_slot(params, &i))
        return;
    if (length > INT_MAX) {
        params->overflow = true;
        return;
    }
    params->values[i] = data; /* NULL binds SQL NULL */
    params->lengths[i] = (int)length;
    params->formats[i] = 1;
}

/* --- errors --- */

/* Drops the connection at checkin: it is lost, or no longer known to be usable. */
static void mark_broken(struct iam_pg_conn *conn)
{
    conn->broken = true;
}

static bool connection_lost(const struct iam_pg_conn *conn)
{
    return !conn->pg || PQstatus(conn->pg) == CONNECTION_BAD;
}

enum iam_result iam_pg_fail(struct iam_pg_conn *conn, const PGresult *result, const char *operation)
{
    const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    if (connection_lost(conn) || !state) {
        if (connection_lost(conn)) {
            mark_broken(conn);
            iam_log(IAM_LOG_WARN, "store_unavailable", "%s: the connection to PostgreSQL at %s is lost", operation,
                    conn->store->display);
            return IAM_EUNAVAILABLE;
        }
        iam_log(IAM_LOG_ERROR, "store_error", "%s: postgres: %s", operation,
                result ? PQresStatus(PQresultStatus(result)) : "no result (out of memory?)");
        return IAM_ESTORE;
    }
    const char *constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    const char *primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    enum iam_result mapped = IAM_ESTORE;
    enum iam_log_level level = IAM_LOG_ERROR;
    bool quote_message = true;
    if (strcmp(state, "23505") == 0) {
        mapped = IAM_ECONFLICT; /* unique_violation */
        level = IAM_LOG_DEBUG;
    } else if (strcmp(state, "23503") == 0) {
        mapped = IAM_ENOTFOUND; /* foreign_key_violation: the parent account does not exist */
        level = IAM_LOG_DEBUG;
    } else if (strcmp(state, "23502") == 0 || strcmp(state, "23514") == 0) {
        mapped = IAM_EINVAL; /* not_null_violation, check_violation */
        level = IAM_LOG_WARN;
    } else if (strncmp(state, "22", 2) == 0 || strcmp(state, "54000") == 0) {
        mapped = IAM_EINVAL; /* data exception (bad encoding, out of range), program limit */
        level = IAM_LOG_WARN;
        quote_message = false; /* these messages may quote the value */
    } else if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
               strcmp(state, "25006") == 0) {
        /* Connection failure, insufficient resources, the server shutting down or
         * starting, or a read-only standby (failover): try again on a new connection. */
        mapped = IAM_EUNAVAILABLE;
        level = IAM_LOG_WARN;
        mark_broken(conn);
    } else if (strcmp(state, "57014") == 0 || strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
               strcmp(state, "55P03") == 0) {
        /* statement timeout, serialization failure, deadlock, lock not available: transient */
        mapped = IAM_EUNAVAILABLE;
        level = IAM_LOG_WARN;
    }
    iam_log(level, "store_error", "%s: postgres %s%s%s: %s", operation, state, constraint ? " on " : "",
            constraint ? constraint : "", quote_message && primary ? primary : "(message not logged)");
    return mapped;
}

/* --- connections --- */

/* libpq prints NOTICEs (e.g. "relation already exists, skipping") on stderr by default. */
static void notice_processor(void *argument, const char *message)
{
    (void)argument;
    iam_log(IAM_LOG_DEBUG, "store_notice", "postgres: %.200s", message ? message : "");
}

static void conn_close(struct iam_pg_conn *conn)
{
    if (conn->pg)
        PQfinish(conn->pg);
    conn->pg = NULL;
    conn->broken = false;
    memset(conn->prepared, 0, sizeof conn->prepared);
}

/* Opens the connection. IAM_EUNAVAILABLE (logged) when the server cannot be reached or refuses. */
static enum iam_result conn_connect(struct iam_pg_conn *conn)
{
    struct iam_pg_store *store = conn->store;
    /* iamd's defaults first: the URL (dbname, expanded) overrides them; client_encoding last, forced. */
    static const char *const keywords[] = {"connect_timeout", "application_name", "keepalives", "keepalives_idle",
                                           "keepalives_interval", "keepalives_count", "options", "dbname",
                                           "client_encoding", NULL};
    const char *values[] = {"5", "iamd", "1", "10", "5", "3",
                            "-c statement_timeout=60000 -c idle_in_transaction_session_timeout=60000",
                            store->url, "UTF8", NULL};
    conn_close(conn);
    conn->pg = PQconnectdbParams(keywords, values, 1);
    if (!conn->pg) {
        iam_log(IAM_LOG_ERROR, "store_unavailable", "PostgreSQL at %s: out of memory", store->display);
        return IAM_EUNAVAILABLE;
    }
    if (PQstatus(conn->pg) != CONNECTION_OK) {
        char message[300];
        snprintf(message, sizeof message, "%s", PQerrorMessage(conn->pg));
        message[strcspn(message, "\n")] = '\0';
        iam_log(IAM_LOG_WARN, "store_unavailable", "cannot connect to PostgreSQL at %s: %s", store->display, message);
        conn_close(conn);
        return IAM_EUNAVAILABLE;
    }
    PQsetNoticeProcessor(conn->pg, notice_processor, NULL);
    return IAM_OK;
}

static enum iam_result pool_deadline(struct timespec *deadline)
{
    if (clock_gettime(CLOCK_MONOTONIC, deadline) != 0)
        return IAM_EINTERNAL;
    deadline->tv_sec += POOL_WAIT_SECONDS;
    return IAM_OK;
}

/* A free slot, preferring one already connected; NULL when all are busy. Called under pool_lock. */
static struct iam_pg_conn *free_slot(struct iam_pg_store *store)
{
    struct iam_pg_conn *unconnected = NULL;
    for (size_t i = 0; i < store->pool_size; i++) {
        struct iam_pg_conn *conn = &store->pool[i];
        if (conn->in_use)
            continue;
        if (conn->pg)
            return conn;
        if (!unconnected)
            unconnected = conn;
    }
    return unconnected;
}

static void slot_free(struct iam_pg_conn *conn)
{
    struct iam_pg_store *store = conn->store;
    pthread_mutex_lock(&store->pool_lock);
    conn->in_use = false;
    pthread_cond_signal(&store->pool_free);
    pthread_mutex_unlock(&store->pool_lock);
}

enum iam_result iam_pg_acquire(struct iam_store *base, struct iam_pg_conn **out)
{
    struct iam_pg_store *store = pg_store_of(base);
    struct timespec deadline;
    struct iam_pg_conn *conn = NULL;
    if (pool_deadline(&deadline) != IAM_OK)
        return IAM_EINTERNAL;
    pthread_mutex_lock(&store->pool_lock);
    while (!(conn = free_slot(store))) {
        int code = pthread_cond_timedwait(&store->pool_free, &store->pool_lock, &deadline);
        if (code == ETIMEDOUT) {
            pthread_mutex_unlock(&store->pool_lock);
            iam_log(IAM_LOG_WARN, "store_unavailable", "every PostgreSQL connection stayed busy for %d s",
                    POOL_WAIT_SECONDS);
            return IAM_EUNAVAILABLE;
        }
    }
    conn->in_use = true;
    bool backoff = !conn->pg && store->last_connect_failure_ns != 0 &&
                   iam_monotonic_ns() - store->last_connect_failure_ns < CONNECT_BACKOFF_NS;
    pthread_mutex_unlock(&store->pool_lock);
    if (backoff) {
        slot_free(conn);
        return IAM_EUNAVAILABLE;
    }
    if (!conn->pg) {
        /* Connected outside the lock: it takes a round trip or a timeout. */
        enum iam_result result = conn_connect(conn);
        if (result != IAM_OK) {
            pthread_mutex_lock(&store->pool_lock);
            store->last_connect_failure_ns = iam_monotonic_ns();
            pthread_mutex_unlock(&store->pool_lock);
            slot_free(conn);
            return result;
        }
    }
    conn->broken = false;
    conn->retry_allowed = true;
    conn->write_changes = 0;
    *out = conn;
    return IAM_OK;
}

/* Rolls back whatever transaction is open; marks the connection broken when that fails. */
static void conn_rollback(struct iam_pg_conn *conn)
{
    if (connection_lost(conn) || PQtransactionStatus(conn->pg) == PQTRANS_IDLE)
        return;
    PGresult *result = PQexec(conn->pg, "ROLLBACK");
    if (!result || PQresultStatus(result) != PGRES_COMMAND_OK)
        mark_broken(conn);
    PQclear(result);
}

void iam_pg_release(struct iam_pg_conn *conn)
{
    if (!conn)
        return;
    if (!conn->broken && !connection_lost(conn))
        conn_rollback(conn); /* a transaction left open by mistake ends here */
    if (conn->broken || connection_lost(conn))
        conn_close(conn);
    conn->retry_allowed = false;
    slot_free(conn);
}

/* --- statements --- */

static atomic_int statement_counter;

static int statement_id(struct iam_pg_statement *statement)
{
    int id = atomic_load(&statement->id);
    if (id != 0)
        return id;
    int fresh = atomic_fetch_add(&statement_counter, 1) + 1;
    int expected = 0;
    if (atomic_compare_exchange_strong(&statement->id, &expected, fresh))
        return fresh;
    return expected; /* another thread named it first */
}

/* Rows changed by a command (INSERT, UPDATE, DELETE); 0 for anything else. */
static int64_t command_changes(const PGresult *result)
{
    if (PQresultStatus(result) != PGRES_COMMAND_OK)
        return 0;
    const char *tuples = PQcmdTuples((PGresult *)result);
    if (!tuples || tuples[0] == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    long long value = strtoll(tuples, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0)
        return 0;
    return (int64_t)value;
}

static PGresult *send_statement(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                                const struct iam_pg_params *params, bool *prepare_failed)
{
    int id = statement_id(statement);
    int count = params ? params->count : 0;
    const char *const *values = params ? params->values : NULL;
    const int *lengths = params ? params->lengths : NULL;
    const int *formats = params ? params->formats : NULL;
    *prepare_failed = false;
    if (id < 1 || id > IAM_PG_STATEMENTS_MAX)
        return PQexecParams(conn->pg, statement->sql, count, NULL, values, lengths, formats, 1);
    char name[24];
    snprintf(name, sizeof name, "iamd_%d", id);
    if (!conn->prepared[id - 1]) {
        PGresult *prepared = PQprepare(conn->pg, name, statement->sql, 0, NULL);
        if (!prepared || PQresultStatus(prepared) != PGRES_COMMAND_OK) {
            *prepare_failed = true;
            return prepared;
        }
        PQclear(prepared);
        conn->prepared[id - 1] = true;
    }
    return PQexecPrepared(conn->pg, name, count, values, lengths, formats, 1);
}

enum iam_result iam_pg_execute(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                               const struct iam_pg_params *params, const char *operation, PGresult **out,
                               int64_t *changes)
{
    if (params && params->overflow) {
        iam_log(IAM_LOG_ERROR, "store_error", "%s: too many parameters for one statement", operation);
        return IAM_EINTERNAL;
    }
    if (out)
        *out = NULL;
    if (changes)
        *changes = 0;
    PGresult *result = NULL;
    for (int attempt = 0;; attempt++) {
        bool prepare_failed = false;
        if (connection_lost(conn))
            result = NULL;
        else
            result = send_statement(conn, statement, params, &prepare_failed);
        ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
        if (!prepare_failed && (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK))
            break;
        /* The checkout's first statement on a connection the server dropped (a
         * restart since the last use): nothing of this call ran, reconnect and
         * send it again. */
        if (attempt == 0 && conn->retry_allowed && connection_lost(conn)) {
            PQclear(result);
            result = NULL;
            iam_log(IAM_LOG_INFO, "store_reconnect", "%s: reconnecting to PostgreSQL at %s", operation,
                    conn->store->display);
            if (conn_connect(conn) == IAM_OK)
                continue;
            mark_broken(conn);
            conn->retry_allowed = false;
            return IAM_EUNAVAILABLE;
        }
        conn->retry_allowed = false;
        enum iam_result failed = iam_pg_fail(conn, result, operation);
        PQclear(result);
        return failed;
    }
    conn->retry_allowed = false;
    int64_t changed = command_changes(result);
    conn->write_changes += changed;
    if (changes)
        *changes = changed;
    if (out)
        *out = result;
    else
        PQclear(result);
    return IAM_OK;
}

enum iam_result iam_pg_run(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                           const struct iam_pg_params *params, const char *operation, int64_t *changes)
{
    return iam_pg_execute(conn, statement, params, operation, NULL, changes);
}

enum iam_result iam_pg_query_integer(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                                     const struct iam_pg_params *params, const char *operation, int64_t *value)
{
    PGresult *result = NULL;
    enum iam_result outcome = iam_pg_execute(conn, statement, params, operation, &result, NULL);
    if (outcome != IAM_OK)
        return outcome;
    if (PQntuples(result) < 1 || PQnfields(result) < 1)
        outcome = IAM_ENOTFOUND;
    else
        *value = iam_pg_int64(result, 0, 0);
    PQclear(result);
    return outcome;
}

/* Makes room for item `count` in an arena array, doubling; the new item is zeroed. */
static void *array_reserve(struct iam_arena *arena, void *items, size_t count, size_t *capacity, size_t size)
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
    memset((char *)grown + count * size, 0, (grown_capacity - count) * size);
    *capacity = grown_capacity;
    return grown;
}

enum iam_result iam_pg_collect(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                               const struct iam_pg_params *params, struct iam_arena *arena, const char *operation,
                               size_t item_size, iam_pg_row_reader read_row, size_t max_items, void **items,
                               size_t *count, bool *more)
{
    PGresult *result = NULL;
    enum iam_result outcome = iam_pg_execute(conn, statement, params, operation, &result, NULL);
    if (outcome != IAM_OK)
        return outcome;
    size_t rows = (size_t)PQntuples(result);
    size_t used = rows < max_items ? rows : max_items;
    void *records = NULL;
    size_t capacity = 0;
    for (size_t i = 0; i < used; i++) {
        void *grown = array_reserve(arena, records, i, &capacity, item_size);
        if (!grown) {
            outcome = IAM_ENOMEM;
            goto out;
        }
        records = grown;
        outcome = read_row(arena, result, (int)i, (char *)records + i * item_size);
        if (outcome != IAM_OK)
            goto out;
    }
    *items = records;
    *count = used;
    if (more)
        *more = rows > max_items;
out:
    PQclear(result);
    return outcome;
}

enum iam_result iam_pg_read_row(struct iam_store *store, struct iam_pg_statement *statement,
                                const struct iam_pg_params *params, struct iam_arena *arena,
                                const char *operation, iam_pg_row_reader read_row, void *item)
{
    struct iam_pg_conn *conn;
    PGresult *result = NULL;
    enum iam_result outcome = iam_pg_acquire(store, &conn);
    if (outcome != IAM_OK)
        return outcome;
    outcome = iam_pg_execute(conn, statement, params, operation, &result, NULL);
    iam_pg_release(conn);
    if (outcome != IAM_OK)
        return outcome;
    outcome = PQntuples(result) < 1 ? IAM_ENOTFOUND : read_row(arena, result, 0, item);
    PQclear(result);
    return outcome;
}

enum iam_result iam_pg_read_rows(struct iam_store *store, struct iam_pg_statement *statement,
                                 const struct iam_pg_params *params, struct iam_arena *arena, const char *operation,
                                 size_t item_size, iam_pg_row_reader read_row, size_t max_items, void **items,
                                 size_t *count, bool *more)
{
    struct iam_pg_conn *conn;
    enum iam_result outcome = iam_pg_acquire(store, &conn);
    if (outcome != IAM_OK)
        return outcome;
    outcome = iam_pg_collect(conn, statement, params, arena, operation, item_size, read_row, max_items, items, count,
                             more);
    iam_pg_release(conn);
    return outcome;
}

enum iam_result iam_pg_read_integer(struct iam_store *store, struct iam_pg_statement *statement,
                                    const struct iam_pg_params *params, const char *operation, int64_t *value)
{
    struct iam_pg_conn *conn;
    enum iam_result outcome = iam_pg_acquire(store, &conn);
    if (outcome != IAM_OK)
        return outcome;
    outcome = iam_pg_query_integer(conn, statement, params, operation, value);
    iam_pg_release(conn);
    return outcome == IAM_ENOTFOUND ? IAM_ESTORE : outcome; /* these queries always return a row */
}

/* --- transactions --- */

static struct iam_pg_statement begin_write = IAM_PG_STATEMENT("BEGIN ISOLATION LEVEL READ COMMITTED");
static struct iam_pg_statement write_lock = IAM_PG_STATEMENT("SELECT value FROM revision WHERE id = 1 FOR UPDATE");
static struct iam_pg_statement revision_bump = IAM_PG_STATEMENT("UPDATE revision SET value = value + 1 WHERE id = 1");
static struct iam_pg_statement begin_read = IAM_PG_STATEMENT("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
static struct iam_pg_statement commit = IAM_PG_STATEMENT("COMMIT");

enum iam_result iam_pg_write_begin(struct iam_store *store, struct iam_pg_conn **out, const char *operation)
{
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_acquire(store, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_pg_run(conn, &begin_write, NULL, operation, NULL);
    if (result == IAM_OK)
        result = iam_pg_run(conn, &write_lock, NULL, operation, NULL);
    if (result != IAM_OK) {
        iam_pg_release(conn);
        return result;
    }
    conn->write_changes = 0;
    *out = conn;
    return IAM_OK;
}

/* COMMIT, checking the server really committed (COMMIT of a failed transaction answers ROLLBACK). */
static enum iam_result commit_transaction(struct iam_pg_conn *conn, const char *operation)
{
    PGresult *result = NULL;
    enum iam_result outcome = iam_pg_execute(conn, &commit, NULL, operation, &result, NULL);
    if (outcome != IAM_OK)
        return outcome;
    if (strcmp(PQcmdStatus(result), "COMMIT") != 0) {
        iam_log(IAM_LOG_ERROR, "store_error", "%s: the transaction was rolled back instead of committed", operation);
        outcome = IAM_ESTORE;
    }
    PQclear(result);
    return outcome;
}

enum iam_result iam_pg_write_end(struct iam_pg_conn *conn, enum iam_result result, bool bump, const char *operation)
{
    if (result == IAM_OK && bump && conn->write_changes > 0)
        result = iam_pg_run(conn, &revision_bump, NULL, operation, NULL);
    if (result == IAM_OK)
        result = commit_transaction(conn, operation);
    if (result != IAM_OK)
        conn_rollback(conn);
    conn->write_changes = 0;
    iam_pg_release(conn);
    return result;
}

enum iam_result iam_pg_read_begin(struct iam_store *store, struct iam_pg_conn **out, const char *operation)
{
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_acquire(store, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_pg_run(conn, &begin_read, NULL, operation, NULL);
    if (result != IAM_OK) {
        iam_pg_release(conn);
        return result;
    }
    *out = conn;
    return IAM_OK;
}

enum iam_result iam_pg_read_end(struct iam_pg_conn *conn, enum iam_result result, const char *operation)
{
    enum iam_result ended = result == IAM_OK ? commit_transaction(conn, operation) : IAM_OK;
    if (result != IAM_OK || ended != IAM_OK)
        conn_rollback(conn);
    iam_pg_release(conn);
    return result != IAM_OK ? result : ended;
}

/* --- reading binary results --- */

bool iam_pg_text(struct iam_arena *arena, const PGresult *result, int row, int column, const char **out)
{
    *out = NULL;
    if (PQgetisnull(result, row, column))
        return true;
    int length = PQgetlength(result, row, column);
    char *copy = iam_arena_strndup(arena, PQgetvalue(result, row, column), length > 0 ? (size_t)length : 0);
    if (!copy)
        return false;
    *out = copy;
    return true;
}

/* Big-endian two's complement of `size` bytes. */
static int64_t read_big_endian(const unsigned char *bytes, int size)
{
    uint64_t value = (bytes[0] & 0x80) ? UINT64_MAX : 0; /* sign extension */
    for (int i = 0; i < size; i++)
        value = (value << 8) | bytes[i];
    return (int64_t)value;
}

int64_t iam_pg_int64(const PGresult *result, int row, int column)
{
    if (PQgetisnull(result, row, column))
        return 0;
    const unsigned char *bytes = (const unsigned char *)PQgetvalue(result, row, column);
    int length = PQgetlength(result, row, column);
    Oid type = PQftype(result, column);
    if ((type == OID_INT8 && length == 8) || (type == OID_INT4 && length == 4) || (type == OID_INT2 && length == 2))
        return read_big_endian(bytes, length);
    iam_log(IAM_LOG_ERROR, "store_error", "column %d is not an integer (type %u)", column, (unsigned)type);
    return 0;
}

bool iam_pg_bool(const PGresult *result, int row, int column)
{
    if (PQgetisnull(result, row, column))
        return false;
    if (PQftype(result, column) == OID_BOOL && PQgetlength(result, row, column) == 1)
        return PQgetvalue(result, row, column)[0] != 0;
    return iam_pg_int64(result, row, column) != 0;
}

bool iam_pg_bytea(struct iam_arena *arena, const PGresult *result, int row, int column, const uint8_t **out,
                  size_t *length)
{
    *out = NULL;
    *length = 0;
    if (PQgetisnull(result, row, column))
        return true;
    int bytes = PQgetlength(result, row, column);
    uint8_t *copy = iam_arena_alloc(arena, bytes > 0 ? (size_t)bytes : 1);
    if (!copy)
        return false;
    if (bytes > 0)
        memcpy(copy, PQgetvalue(result, row, column), (size_t)bytes);
    *out = copy;
    *length = bytes > 0 ? (size_t)bytes : 0;
    return true;
}

bool iam_pg_fixed_bytea(const PGresult *result, int row, int column, uint8_t *out, size_t length)
{
    if (PQgetisnull(result, row, column))
        return false;
    int bytes = PQgetlength(result, row, column);
    if (bytes < 0 || (size_t)bytes != length)
        return false;
    memcpy(out, PQgetvalue(result, row, column), length);
    return true;
}

/* --- store-wide reads --- */

static enum iam_result pg_schema_version(struct iam_store *store, int64_t *version)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT coalesce(max(version), 0) FROM schema_migrations");
    return iam_pg_read_integer(store, &statement, NULL, "schema_version", version);
}

static enum iam_result pg_revision(struct iam_store *store, int64_t *revision)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT("SELECT value FROM revision WHERE id = 1");
    return iam_pg_read_integer(store, &statement, NULL, "revision", revision);
}

enum iam_result iam_pg_account_count(struct iam_store *store, int64_t *count)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT("SELECT count(*) FROM accounts");
    return iam_pg_read_integer(store, &statement, NULL, "account_count", count);
}

/* --- advisory locks --- */

int64_t iam_pg_lock_key(const char *name)
{
    uint64_t hash = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        hash ^= *p;
        hash *= 1099511628211ULL;
    }
    return (int64_t)hash;
}

static struct iam_pg_lock *find_lock(struct iam_pg_store *store, int64_t key)
{
    for (size_t i = 0; i < IAM_PG_LOCKS_MAX; i++) {
        if (store->locks[i].held && store->locks[i].key == key)
            return &store->locks[i];
    }
    return NULL;
}

/* Forgets every lock when the lock connection is lost: the server released them with the session. */
static void locks_lost(struct iam_pg_store *store)
{
    for (size_t i = 0; i < IAM_PG_LOCKS_MAX; i++) {
        if (store->locks[i].held)
            iam_log(IAM_LOG_WARN, "store_lock_lost", "an advisory lock was released with its lost connection");
        store->locks[i].held = false;
    }
}

/*
 * Advisory locks are session locks on a connection of their own: a pooled
 * connection goes back to the pool between calls, the lock must not. A name
 * already held by this store is not taken twice (PostgreSQL would count the
 * second one as granted: same session).
 */
static enum iam_result pg_try_lock(struct iam_store *base, const char *name, bool *acquired)
{
    static const char *const operation = "try_lock";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT("SELECT pg_try_advisory_lock($1::bigint)::int");
    struct iam_pg_store *store = pg_store_of(base);
    struct iam_pg_conn *conn = &store->lock_conn;
    int64_t key = iam_pg_lock_key(name);
    enum iam_result result = IAM_OK;
    *acquired = false;
    pthread_mutex_lock(&store->lock_lock);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (connection_lost(conn) || conn->broken) {
            locks_lost(store);
            result = conn_connect(conn);
            if (result != IAM_OK)
                break;
        }
        if (find_lock(store, key))
            break; /* held by this store already: not acquired again */
        struct iam_pg_lock *slot = NULL;
        for (size_t i = 0; i < IAM_PG_LOCKS_MAX && !slot; i++) {
            if (!store->locks[i].held)
                slot = &store->locks[i];
        }
        if (!slot) {
            result = IAM_ETOOBIG;
            break;
        }
        struct iam_pg_params params = {0};
        iam_pg_param_int64(&params, key);
        int64_t granted = 0;
        conn->retry_allowed = false; /* a silent reconnect would drop the locks held: handled here */
        result = iam_pg_query_integer(conn, &statement, &params, operation, &granted);
        if (result == IAM_OK) {
            if (granted) {
                slot->key = key;
                slot->held = true;
                *acquired = true;
            }
            break;
        }
        if (result == IAM_ENOTFOUND) {
            result = IAM_ESTORE;
            break;
        }
        if (!conn->broken && !connection_lost(conn))
            break;
        /* The session is gone, and every lock with it: say so, then try once on a new session. */
        locks_lost(store);
        conn_close(conn);
    }
    pthread_mutex_unlock(&store->lock_lock);
    return result;
}

static enum iam_result pg_unlock(struct iam_store *base, const char *name)
{
    static const char *const operation = "unlock";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT("SELECT pg_advisory_unlock($1::bigint)::int");
    struct iam_pg_store *store = pg_store_of(base);
    struct iam_pg_conn *conn = &store->lock_conn;
    int64_t key = iam_pg_lock_key(name);
    enum iam_result result = IAM_OK;
    pthread_mutex_lock(&store->lock_lock);
    struct iam_pg_lock *lock = find_lock(store, key);
    if (!lock) {
        result = IAM_ENOTFOUND;
        goto out;
    }
    lock->held = false;
    if (connection_lost(conn) || conn->broken)
        goto out; /* the server released it with the session */
    struct iam_pg_params params = {0};
    iam_pg_param_int64(&params, key);
    int64_t released = 0;
    conn->retry_allowed = false;
    result = iam_pg_query_integer(conn, &statement, &params, operation, &released);
    if (result != IAM_OK) {
        /* Unknown state: drop the session, which releases whatever it held. */
        locks_lost(store);
        conn_close(conn);
        result = IAM_OK;
    }
out:
    pthread_mutex_unlock(&store->lock_lock);
    return result;
}

/* --- open and close --- */

static void pg_close(struct iam_store *base)
{
    struct iam_pg_store *store = pg_store_of(base);
    for (size_t i = 0; i < store->pool_size; i++)
        conn_close(&store->pool[i]);
    conn_close(&store->lock_conn); /* ends the session: its advisory locks go with it */
    pthread_cond_destroy(&store->pool_free);
    pthread_mutex_destroy(&store->pool_lock);
    pthread_mutex_destroy(&store->lock_lock);
    free(store->pool);
    free(store->url);
    free(store->display);
    free(store);
}

static const struct iam_store_backend postgres_backend = {
    .name = "postgres",
    .close = pg_close,
    .schema_version = pg_schema_version,
    .revision = pg_revision,
    .meta_get = iam_pg_meta_get,
    .meta_insert = iam_pg_meta_insert,
    .meta_set = iam_pg_meta_set,
    .account_insert = iam_pg_account_insert,
    .account_get = iam_pg_account_get,
    .account_count = iam_pg_account_count,
    .user_insert = iam_pg_user_insert,
    .user_get = iam_pg_user_get,
    .user_get_by_login = iam_pg_user_get_by_login,
    .service_id_insert = iam_pg_service_id_insert,
    .service_id_get = iam_pg_service_id_get,
    .service_id_get_by_iam_id = iam_pg_service_id_get_by_iam_id,
    .service_id_list = iam_pg_service_id_list,
    .service_id_update = iam_pg_service_id_update,
    .service_id_delete = iam_pg_service_id_delete,
    .apikey_insert = iam_pg_apikey_insert,
    .apikey_get = iam_pg_apikey_get,
    .apikey_get_by_hash = iam_pg_apikey_get_by_hash,
    .apikey_get_by_id = iam_pg_apikey_get_by_id,
    .apikey_list = iam_pg_apikey_list,
    .apikey_update = iam_pg_apikey_update,
    .apikey_delete = iam_pg_apikey_delete,
    .apikey_add_usage = iam_pg_apikey_add_usage,
    .history_list = iam_pg_history_list,
    .signing_key_insert = iam_pg_signing_key_insert,
    .signing_key_list = iam_pg_signing_key_list,
    .signing_key_purge = iam_pg_signing_key_purge,
    .settings_get = iam_pg_settings_get,
    .settings_put = iam_pg_settings_put,
    .revocation_insert = iam_pg_revocation_insert,
    .revocation_exists = iam_pg_revocation_exists,
    .revocation_purge = iam_pg_revocation_purge,
    .try_lock = pg_try_lock,
    .unlock = pg_unlock,
    .access = &iam_store_postgres_access_backend,
    .copy = &iam_store_postgres_copy_backend,
    .activity = &iam_store_postgres_activity_backend,
    .audit = &iam_store_postgres_audit_backend,
    .sessions = &iam_store_postgres_sessions_backend,
};

/* Parses pool_size's value: 1..MAX_POOL_SIZE. */
static bool parse_pool_size(const char *text, size_t length, size_t *out)
{
    if (length == 0 || length > 3)
        return false;
    size_t value = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        value = value * 10 + (size_t)(text[i] - '0');
    }
    if (value < 1 || value > MAX_POOL_SIZE)
        return false;
    *out = value;
    return true;
}

/*
 * Copies `location` into `*url` without iamd's own query parameters, which
 * libpq would refuse, and reads them. IAM_EINVAL on a bad value.
 */
static enum iam_result split_location(const char *location, char **url, size_t *pool_size, struct iam_error *err)
{
    size_t length = strlen(location);
    char *copy = malloc(length + 1);
    if (!copy)
        return iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
    const char *query = strchr(location, '?');
    size_t base = query ? (size_t)(query - location) : length;
    memcpy(copy, location, base);
    size_t used = base;
    *pool_size = DEFAULT_POOL_SIZE;
    if (query) {
        const char *parameter = query + 1;
        bool first = true;
        while (*parameter) {
            size_t span = strcspn(parameter, "&");
            static const char pool_key[] = "pool_size=";
            if (span >= sizeof pool_key - 1 && strncmp(parameter, pool_key, sizeof pool_key - 1) == 0) {
                if (!parse_pool_size(parameter + sizeof pool_key - 1, span - (sizeof pool_key - 1), pool_size)) {
                    free(copy);
                    return iam_error_set(err, IAM_EINVAL, NULL,
                                         "pool_size in the PostgreSQL URL must be a number from 1 to %d",
                                         MAX_POOL_SIZE);
                }
            } else if (span > 0) {
                copy[used++] = first ? '?' : '&';
                memcpy(copy + used, parameter, span);
                used += span;
                first = false;
            }
            parameter += span;
            if (*parameter == '&')
                parameter++;
        }
    }
    copy[used] = '\0';
    *url = copy;
    return IAM_OK;
}

/* "host:port/dbname" from the parsed URL, for messages: never the user or the password. */
static char *display_of(PQconninfoOption *options)
{
    const char *host = NULL, *port = NULL, *dbname = NULL;
    for (PQconninfoOption *option = options; option && option->keyword; option++) {
        if (!option->val)
            continue;
        if (strcmp(option->keyword, "host") == 0 || (!host && strcmp(option->keyword, "hostaddr") == 0))
            host = option->val;
        else if (strcmp(option->keyword, "port") == 0)
            port = option->val;
        else if (strcmp(option->keyword, "dbname") == 0)
            dbname = option->val;
    }
    char text[512];
    snprintf(text, sizeof text, "%s%s%s/%s", host && host[0] ? host : "localhost", port ? ":" : "", port ? port : "",
             dbname ? dbname : "");
    return strdup(text);
}

enum iam_result iam_store_postgres_open(const char *location, struct iam_store **out, struct iam_error *err)
{
    enum iam_result result;
    struct iam_pg_store *store = NULL;
    struct iam_pg_conn *conn = NULL;
    PQconninfoOption *options = NULL;
    bool pool_lock_made = false, cond_made = false, lock_lock_made = false;
    pthread_condattr_t cond_attributes;

    *out = NULL;
    store = calloc(1, sizeof *store);
    if (!store)
        return iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
    store->base.backend = &postgres_backend;
    result = split_location(location, &store->url, &store->pool_size, err);
    if (result != IAM_OK)
        goto fail;
    char *parse_error = NULL;
    options = PQconninfoParse(store->url, &parse_error);
    if (!options) {
        /* libpq's message may quote part of the URL (a password): not repeated. */
        PQfreemem(parse_error);
        result = iam_error_set(err, IAM_EINVAL, NULL,
                               "the PostgreSQL URL is not valid (see libpq's connection URI syntax)");
        goto fail;
    }
    store->display = display_of(options);
    store->pool = calloc(store->pool_size, sizeof *store->pool);
    if (!store->display || !store->pool) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < store->pool_size; i++)
        store->pool[i].store = store;
    store->lock_conn.store = store;
    if (pthread_mutex_init(&store->pool_lock, NULL) != 0) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    pool_lock_made = true;
    if (pthread_mutex_init(&store->lock_lock, NULL) != 0) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    lock_lock_made = true;
    /* The pool's wait deadline is on the monotonic clock (immune to clock steps). */
    if (pthread_condattr_init(&cond_attributes) != 0) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    int code = pthread_condattr_setclock(&cond_attributes, CLOCK_MONOTONIC);
    if (code == 0)
        code = pthread_cond_init(&store->pool_free, &cond_attributes);
    pthread_condattr_destroy(&cond_attributes);
    if (code != 0) {
        result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    cond_made = true;

    result = iam_pg_acquire(&store->base, &conn);
    if (result != IAM_OK) {
        result = iam_error_set(err, result, NULL, "cannot connect to PostgreSQL at %s", store->display);
        goto fail;
    }
    result = iam_pg_migrate(conn, err);
    iam_pg_release(conn);
    if (result != IAM_OK)
        goto fail;
    PQconninfoFree(options);
    iam_log(IAM_LOG_INFO, "store_open", "PostgreSQL at %s, %zu pooled connections", store->display,
            store->pool_size);
    *out = &store->base;
    return IAM_OK;

fail:
    PQconninfoFree(options);
    if (store->pool) {
        for (size_t i = 0; i < store->pool_size; i++)
            conn_close(&store->pool[i]);
    }
    if (cond_made)
        pthread_cond_destroy(&store->pool_free);
    if (pool_lock_made)
        pthread_mutex_destroy(&store->pool_lock);
    if (lock_lock_made)
        pthread_mutex_destroy(&store->lock_lock);
    free(store->pool);
    free(store->url);
    free(store->display);
    free(store);
    return result;
}
