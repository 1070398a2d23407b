/*
 * postgres_copy.c: the PostgreSQL backend's copy table (copy_backend.h):
 * whole-table counts, reads, deletes and inserts for `iamd db copy`.
 *
 * A session is one pooled connection held for the whole copy, in a
 * REPEATABLE READ READ ONLY transaction (iam_pg_read_begin: one snapshot for
 * every read) or in the store's write transaction (iam_pg_write_begin: the
 * revision row locked FOR UPDATE, so no node writes meanwhile; ended by
 * iam_pg_write_end, which bumps the revision when rows changed). Both lift
 * the session's 60 s statement_timeout for their transaction only (SET
 * LOCAL): a DELETE or count over a large table may take longer.
 *
 * The SQL is built from the compiled-in table list and run through the
 * extended protocol (PQexecParams: an unnamed prepared statement, values
 * always bound as parameters, with a cast naming each one's type); results
 * come back in binary format. Reads go through a cursor (DECLARE ... FETCH
 * FORWARD n), so a page at a time crosses the network. Inserts are
 * multi-row INSERTs of up to one page (at most 65535 parameters each);
 * history's seq, GENERATED ALWAYS AS IDENTITY, is inserted with OVERRIDING
 * SYSTEM VALUE and its sequence set past the largest copied value after.
 */
#include "store/postgres_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "store/copy_backend.h"

/* Room for the SQL of one statement other than a multi-row INSERT. */
#define SQL_SIZE 8192

/* The protocol's limit on the parameters of one statement. */
#define PARAMETERS_MAX 65535

/* Longest text of one parameter in an INSERT: "$65535::boolean, ". */
#define PARAMETER_TEXT_MAX 18

/* PostgreSQL type OIDs (pg_type.h, stable across versions). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_VARCHAR 1043

#define CURSOR_NAME "iamd_copy"

struct pg_copy_session {
    struct iam_store_copy_session base; /* first: copy.c sees only this */
    struct iam_pg_conn *conn;
    bool write;
    const struct iam_store_table *table; /* read: the table the cursor reads, NULL when none is open */
};

static struct pg_copy_session *session_of(struct iam_store_copy_session *base)
{
    return (struct pg_copy_session *)base; /* base is the first member */
}

/* Rows changed by a command (INSERT, DELETE); 0 for anything else. */
static int64_t command_changes(PGresult *result)
{
    const char *tuples = PQcmdTuples(result);
    if (!tuples || tuples[0] == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    long long value = strtoll(tuples, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0)
        return 0;
    return (int64_t)value;
}

/*
 * Runs `sql` with `count` bound parameters (text format unless `formats`
 * says otherwise), results in binary format. Rows a command changed count
 * toward the write transaction's revision bump. `*out` (if not NULL) gets
 * the result, which the caller clears.
 */
static enum iam_result execute(struct iam_pg_conn *conn, const char *sql, int count, const char *const *values,
                               const int *lengths, const int *formats, const char *operation, PGresult **out)
{
    if (out)
        *out = NULL;
    if (!conn->pg)
        return IAM_EUNAVAILABLE;
    PGresult *result = PQexecParams(conn->pg, sql, count, NULL, values, lengths, formats, 1);
    ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        enum iam_result failed = iam_pg_fail(conn, result, operation);
        PQclear(result);
        return failed;
    }
    if (status == PGRES_COMMAND_OK)
        conn->write_changes += command_changes(result);
    if (out)
        *out = result;
    else
        PQclear(result);
    return IAM_OK;
}

static enum iam_result execute_text(struct iam_pg_conn *conn, const char *sql, const char *operation, PGresult **out)
{
    return execute(conn, sql, 0, NULL, NULL, NULL, operation, out);
}

static enum iam_result session_new(struct iam_store *store, bool write, struct iam_store_copy_session **out)
{
    struct pg_copy_session *session = calloc(1, sizeof *session);
    if (!session)
        return IAM_ENOMEM;
    session->base.store = store;
    session->write = write;
    enum iam_result result = write ? iam_pg_write_begin(store, &session->conn, "copy_write")
                                   : iam_pg_read_begin(store, &session->conn, "copy_read");
    if (result != IAM_OK) {
        free(session);
        return result;
    }
    result = execute_text(session->conn, "SET LOCAL statement_timeout = 0", "copy_begin", NULL);
    if (result != IAM_OK) {
        enum iam_result ended = write ? iam_pg_write_end(session->conn, result, false, "copy_write")
                                      : iam_pg_read_end(session->conn, result, "copy_read");
        (void)ended; /* rolled back: `result` says what failed */
        free(session);
        return result;
    }
    *out = &session->base;
    return IAM_OK;
}

static enum iam_result pg_copy_read_begin(struct iam_store *store, struct iam_store_copy_session **out)
{
    return session_new(store, false, out);
}

static enum iam_result pg_copy_write_begin(struct iam_store *store, struct iam_store_copy_session **out)
{
    return session_new(store, true, out);
}

static enum iam_result pg_copy_count(struct iam_store_copy_session *base, const struct iam_store_table *table,
                                     int64_t *count)
{
    struct pg_copy_session *session = session_of(base);
    char sql[SQL_SIZE];
    int written = snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table->name);
    if (written < 0 || (size_t)written >= sizeof sql)
        return IAM_EINTERNAL;
    PGresult *result = NULL;
    enum iam_result outcome = execute_text(session->conn, sql, "copy_count", &result);
    if (outcome != IAM_OK)
        return outcome;
    if (PQntuples(result) != 1 || PQnfields(result) != 1)
        outcome = IAM_ESTORE;
    else
        *count = iam_pg_int64(result, 0, 0);
    PQclear(result);
    return outcome;
}

static void close_cursor(struct pg_copy_session *session)
{
    if (!session->table)
        return;
    session->table = NULL;
    if (execute_text(session->conn, "CLOSE " CURSOR_NAME, "copy_read", NULL) != IAM_OK)
        iam_log(IAM_LOG_WARN, "store_error", "copy_read: the cursor could not be closed");
}

static enum iam_result pg_copy_read_open(struct iam_store_copy_session *base, const struct iam_store_table *table)
{
    struct pg_copy_session *session = session_of(base);
    char columns[SQL_SIZE / 2], sql[SQL_SIZE];
    close_cursor(session);
    if (!iam_store_table_column_list(table, columns, sizeof columns))
        return IAM_EINTERNAL;
    int written = snprintf(sql, sizeof sql,
                           "DECLARE " CURSOR_NAME " NO SCROLL CURSOR FOR SELECT %s FROM %s ORDER BY %s", columns,
                           table->name, table->order_by);
    if (written < 0 || (size_t)written >= sizeof sql)
        return IAM_EINTERNAL;
    enum iam_result result = execute_text(session->conn, sql, "copy_read", NULL);
    if (result == IAM_OK)
        session->table = table;
    return result;
}

/* Whether a result column of type `type` holds values of `kind`. */
static bool type_matches(Oid type, enum iam_store_column_kind kind)
{
    switch (kind) {
    case IAM_STORE_COLUMN_TEXT:
        return type == OID_TEXT || type == OID_VARCHAR;
    case IAM_STORE_COLUMN_INTEGER:
        return type == OID_INT8 || type == OID_INT4 || type == OID_INT2;
    case IAM_STORE_COLUMN_BOOLEAN:
        return type == OID_BOOL;
    case IAM_STORE_COLUMN_BLOB:
        return type == OID_BYTEA;
    }
    return false;
}

static enum iam_result read_value(struct iam_arena *arena, const PGresult *result, int row, int column,
                                  enum iam_store_column_kind kind, struct iam_store_copy_value *value)
{
    if (PQgetisnull(result, row, column)) {
        value->null = true;
        return IAM_OK;
    }
    switch (kind) {
    case IAM_STORE_COLUMN_INTEGER:
        value->integer = iam_pg_int64(result, row, column);
        return IAM_OK;
    case IAM_STORE_COLUMN_BOOLEAN:
        value->integer = iam_pg_bool(result, row, column) ? 1 : 0;
        return IAM_OK;
    case IAM_STORE_COLUMN_TEXT:
    case IAM_STORE_COLUMN_BLOB: {
        int bytes = PQgetlength(result, row, column);
        if (bytes < 0)
            return IAM_ESTORE;
        char *copy = iam_arena_alloc(arena, (size_t)bytes + 1); /* zeroed: TEXT ends with its NUL */
        if (!copy)
            return IAM_ENOMEM;
        if (bytes > 0)
            memcpy(copy, PQgetvalue(result, row, column), (size_t)bytes);
        value->data = copy;
        value->length = (size_t)bytes;
        return IAM_OK;
    }
    }
    return IAM_EINTERNAL;
}

static enum iam_result pg_copy_read_next(struct iam_store_copy_session *base, struct iam_arena *arena,
                                         size_t max_rows, struct iam_store_copy_page *page)
{
    struct pg_copy_session *session = session_of(base);
    const struct iam_store_table *table = session->table;
    page->rows = 0;
    page->values = NULL;
    if (!table || max_rows == 0 || max_rows > INT32_MAX)
        return IAM_EINTERNAL;
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH FORWARD %zu FROM " CURSOR_NAME, max_rows);
    PGresult *result = NULL;
    enum iam_result outcome = execute_text(session->conn, sql, "copy_read", &result);
    if (outcome != IAM_OK)
        return outcome;
    size_t rows = (size_t)PQntuples(result);
    if (rows > max_rows || PQnfields(result) != (int)table->column_count) {
        outcome = IAM_ESTORE;
        goto out;
    }
    for (size_t c = 0; c < table->column_count; c++) {
        if (!type_matches(PQftype(result, (int)c), table->columns[c].kind)) {
            iam_log(IAM_LOG_ERROR, "store_error", "copy_read: column %s.%s has type %u, not what tables.c says",
                    table->name, table->columns[c].name, (unsigned)PQftype(result, (int)c));
            outcome = IAM_ESTORE;
            goto out;
        }
    }
    if (rows == 0)
        goto out;
    page->values = iam_arena_alloc(arena, rows * table->column_count * sizeof *page->values);
    if (!page->values) {
        outcome = IAM_ENOMEM;
        goto out;
    }
    for (size_t r = 0; r < rows && outcome == IAM_OK; r++) {
        struct iam_store_copy_value *row = &page->values[r * table->column_count];
        for (size_t c = 0; c < table->column_count && outcome == IAM_OK; c++)
            outcome = read_value(arena, result, (int)r, (int)c, table->columns[c].kind, &row[c]);
    }
    if (outcome == IAM_OK)
        page->rows = rows;
out:
    PQclear(result);
    return outcome;
}

static void pg_copy_read_close(struct iam_store_copy_session *base)
{
    close_cursor(session_of(base));
}

static enum iam_result pg_copy_empty(struct iam_store_copy_session *base, const struct iam_store_table *table)
{
    struct pg_copy_session *session = session_of(base);
    char sql[SQL_SIZE];
    int written = snprintf(sql, sizeof sql, "DELETE FROM %s", table->name);
    if (written < 0 || (size_t)written >= sizeof sql)
        return IAM_EINTERNAL;
    return execute_text(session->conn, sql, "copy_empty", NULL);
}

static const char *cast_of(enum iam_store_column_kind kind)
{
    switch (kind) {
    case IAM_STORE_COLUMN_TEXT:
        return "text";
    case IAM_STORE_COLUMN_INTEGER:
        return "bigint";
    case IAM_STORE_COLUMN_BOOLEAN:
        return "boolean";
    case IAM_STORE_COLUMN_BLOB:
        return "bytea";
    }
    return "text";
}

/* "INSERT INTO t (columns) [OVERRIDING SYSTEM VALUE] VALUES ($1::text, ...), ..." for `rows` rows, malloc'ed. */
static char *insert_sql(const struct iam_store_table *table, size_t rows)
{
    char columns[SQL_SIZE / 2];
    if (!iam_store_table_column_list(table, columns, sizeof columns))
        return NULL;
    size_t size = SQL_SIZE + rows * (table->column_count * PARAMETER_TEXT_MAX + 4);
    char *sql = malloc(size);
    if (!sql)
        return NULL;
    int used = snprintf(sql, size, "INSERT INTO %s (%s)%s VALUES ", table->name, columns,
                        table->identity ? " OVERRIDING SYSTEM VALUE" : "");
    size_t parameter = 0;
    for (size_t r = 0; r < rows && used > 0 && (size_t)used < size; r++) {
        for (size_t c = 0; c < table->column_count && used > 0 && (size_t)used < size; c++) {
            const char *separator = c > 0 ? ", " : r > 0 ? "), (" : "(";
            int written = snprintf(sql + used, size - (size_t)used, "%s$%zu::%s", separator, ++parameter,
                                   cast_of(table->columns[c].kind));
            used = written < 0 ? -1 : used + written;
        }
    }
    if (used < 0 || (size_t)used + 2 > size) {
        free(sql);
        return NULL;
    }
    memcpy(sql + used, ")", 2);
    return sql;
}

/* Inserts `rows` rows starting at `first` with one statement. */
static enum iam_result insert_rows(struct pg_copy_session *session, const struct iam_store_table *table,
                                   const struct iam_store_copy_value *first, size_t rows)
{
    size_t count = rows * table->column_count;
    enum iam_result result = IAM_ENOMEM;
    char *sql = insert_sql(table, rows);
    const char **values = calloc(count, sizeof *values);
    int *lengths = calloc(count, sizeof *lengths);
    int *formats = calloc(count, sizeof *formats);
    char (*numbers)[24] = calloc(count, sizeof *numbers);
    if (!sql || !values || !lengths || !formats || !numbers)
        goto out;
    for (size_t i = 0; i < count; i++) {
        const struct iam_store_copy_value *value = &first[i];
        const struct iam_store_column *column = &table->columns[i % table->column_count];
        if (value->null)
            continue; /* a NULL value binds SQL NULL */
        switch (column->kind) {
        case IAM_STORE_COLUMN_INTEGER:
            snprintf(numbers[i], sizeof numbers[i], "%lld", (long long)value->integer);
            values[i] = numbers[i];
            break;
        case IAM_STORE_COLUMN_BOOLEAN:
            values[i] = value->integer ? "t" : "f";
            break;
        case IAM_STORE_COLUMN_TEXT:
            values[i] = value->data; /* NUL-terminated */
            break;
        case IAM_STORE_COLUMN_BLOB:
            if (value->length > INT32_MAX) {
                result = IAM_ETOOBIG;
                goto out;
            }
            values[i] = value->data;
            lengths[i] = (int)value->length;
            formats[i] = 1;
            break;
        }
    }
    result = execute(session->conn, sql, (int)count, values, lengths, formats, "copy_insert", NULL);
out:
    free(numbers);
    free(formats);
    free(lengths);
    free(values);
    free(sql);
    return result;
}

static enum iam_result pg_copy_insert(struct iam_store_copy_session *base, const struct iam_store_table *table,
                                      const struct iam_store_copy_page *page)
{
    struct pg_copy_session *session = session_of(base);
    if (!session->write || table->column_count == 0 || table->column_count > PARAMETERS_MAX)
        return IAM_EINTERNAL;
    size_t per_statement = PARAMETERS_MAX / table->column_count;
    for (size_t done = 0; done < page->rows;) {
        size_t rows = page->rows - done < per_statement ? page->rows - done : per_statement;
        enum iam_result result = insert_rows(session, table, &page->values[done * table->column_count], rows);
        if (result != IAM_OK)
            return result;
        done += rows;
    }
    return IAM_OK;
}

static enum iam_result pg_copy_finish_table(struct iam_store_copy_session *base, const struct iam_store_table *table)
{
    struct pg_copy_session *session = session_of(base);
    if (!table->identity)
        return IAM_OK;
    /* The next generated value follows the largest copied one (1 for an empty table). */
    char sql[SQL_SIZE];
    int written = snprintf(sql, sizeof sql,
                           "SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s",
                           table->name, table->identity, table->identity, table->name);
    if (written < 0 || (size_t)written >= sizeof sql)
        return IAM_EINTERNAL;
    return execute_text(session->conn, sql, "copy_finish", NULL);
}

static enum iam_result pg_copy_end(struct iam_store_copy_session *base, enum iam_result result)
{
    struct pg_copy_session *session = session_of(base);
    enum iam_result ended;
    if (session->write) {
        ended = iam_pg_write_end(session->conn, result, true, "copy_write");
    } else {
        if (result == IAM_OK)
            close_cursor(session);
        ended = iam_pg_read_end(session->conn, result, "copy_read");
    }
    free(session);
    return ended;
}

const struct iam_store_copy_backend iam_store_postgres_copy_backend = {
    .read_begin = pg_copy_read_begin,
    .write_begin = pg_copy_write_begin,
    .count = pg_copy_count,
    .read_open = pg_copy_read_open,
    .read_next = pg_copy_read_next,
    .read_close = pg_copy_read_close,
    .empty = pg_copy_empty,
    .insert = pg_copy_insert,
    .finish_table = pg_copy_finish_table,
    .end = pg_copy_end,
};
