/*
 * sqlite_copy.c: the SQLite backend's copy table (copy_backend.h):
 * whole-table counts, reads, deletes and inserts for `iamd db copy`.
 *
 * A session is the calling thread's connection in a read transaction
 * (iam_sqlite_read_begin: in WAL mode it blocks no writer and sees the state
 * of its first SELECT) or in the store's write transaction
 * (iam_sqlite_write_begin: the write mutex and BEGIN IMMEDIATE, ended by
 * iam_sqlite_write_end, which bumps the revision when rows changed).
 *
 * The statements are built from the compiled-in table list and prepared on
 * the connection for the session only (not in the statement cache, whose
 * slots are for the store's fixed SQL); values are bound. A read is one
 * SELECT stepped page by page. history's AUTOINCREMENT needs nothing: an
 * explicit seq larger than any before moves sqlite_sequence by itself.
 */
#include "store/sqlite_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "store/copy_backend.h"

/* Room for the SQL of one statement over the widest table. */
#define SQL_SIZE 8192

struct sqlite_copy_session {
    struct iam_store_copy_session base; /* first: copy.c sees only this */
    struct iam_sqlite_conn *conn;
    bool write;
    const struct iam_store_table *table; /* the table `statement` belongs to */
    sqlite3_stmt *statement;             /* read: the open SELECT; write: the INSERT of `table` */
    bool finished;                       /* read: the SELECT returned its last row (stepping again restarts it) */
};

static struct sqlite_copy_session *session_of(struct iam_store_copy_session *base)
{
    return (struct sqlite_copy_session *)base; /* base is the first member */
}

/* Prepares SQL built from the table list; the caller finalizes the statement. */
static enum iam_result prepare(struct sqlite_copy_session *session, const char *sql, const char *operation,
                               sqlite3_stmt **out)
{
    *out = NULL;
    int code = sqlite3_prepare_v2(session->conn->db, sql, -1, out, NULL);
    if (code != SQLITE_OK) {
        sqlite3_finalize(*out);
        *out = NULL;
        return iam_sqlite_fail(session->conn, code, operation);
    }
    return IAM_OK;
}

static void statement_drop(struct sqlite_copy_session *session)
{
    sqlite3_finalize(session->statement);
    session->statement = NULL;
    session->table = NULL;
    session->finished = false;
}

static enum iam_result session_new(struct iam_store *store, bool write, struct iam_store_copy_session **out)
{
    struct sqlite_copy_session *session = calloc(1, sizeof *session);
    if (!session)
        return IAM_ENOMEM;
    session->base.store = store;
    session->write = write;
    enum iam_result result = write ? iam_sqlite_write_begin(store, &session->conn, "copy_write")
                                   : iam_sqlite_read_begin(store, &session->conn, "copy_read");
    if (result != IAM_OK) {
        free(session);
        return result;
    }
    *out = &session->base;
    return IAM_OK;
}

static enum iam_result sqlite_copy_read_begin(struct iam_store *store, struct iam_store_copy_session **out)
{
    return session_new(store, false, out);
}

static enum iam_result sqlite_copy_write_begin(struct iam_store *store, struct iam_store_copy_session **out)
{
    return session_new(store, true, out);
}

static enum iam_result sqlite_copy_count(struct iam_store_copy_session *base, const struct iam_store_table *table,
                                         int64_t *count)
{
    struct sqlite_copy_session *session = session_of(base);
    char sql[SQL_SIZE];
    int written = snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table->name);
    if (written < 0 || (size_t)written >= sizeof sql)
        return IAM_EINTERNAL;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = prepare(session, sql, "copy_count", &statement);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_step(session->conn, statement, "copy_count");
    if (result == IAM_OK)
        *count = sqlite3_column_int64(statement, 0);
    else if (result == IAM_ENOTFOUND)
        result = IAM_ESTORE; /* count(*) always returns a row */
    sqlite3_finalize(statement);
    return result;
}

static enum iam_result sqlite_copy_read_open(struct iam_store_copy_session *base, const struct iam_store_table *table)
{
    struct sqlite_copy_session *session = session_of(base);
    char columns[SQL_SIZE / 2], sql[SQL_SIZE];
    statement_drop(session);
    if (!iam_store_table_column_list(table, columns, sizeof columns))
        return IAM_EINTERNAL;
    int written = snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", columns, table->name, table->order_by);
    if (written < 0 || (size_t)written >= sizeof sql)
        return IAM_EINTERNAL;
    enum iam_result result = prepare(session, sql, "copy_read", &session->statement);
    if (result == IAM_OK)
        session->table = table;
    return result;
}

/* Reads column `column` of the current row; the column's type must be the kind's (STRICT tables), or NULL. */
static enum iam_result read_value(struct iam_arena *arena, sqlite3_stmt *statement, int column,
                                  const struct iam_store_column *definition, struct iam_store_copy_value *value)
{
    int type = sqlite3_column_type(statement, column);
    if (type == SQLITE_NULL) {
        value->null = true;
        return IAM_OK;
    }
    switch (definition->kind) {
    case IAM_STORE_COLUMN_INTEGER:
    case IAM_STORE_COLUMN_BOOLEAN:
        if (type != SQLITE_INTEGER)
            break;
        value->integer = sqlite3_column_int64(statement, column);
        if (definition->kind == IAM_STORE_COLUMN_BOOLEAN)
            value->integer = value->integer != 0;
        return IAM_OK;
    case IAM_STORE_COLUMN_TEXT:
    case IAM_STORE_COLUMN_BLOB: {
        if (type != (definition->kind == IAM_STORE_COLUMN_TEXT ? SQLITE_TEXT : SQLITE_BLOB))
            break;
        const void *data = definition->kind == IAM_STORE_COLUMN_TEXT
                               ? (const void *)sqlite3_column_text(statement, column)
                               : sqlite3_column_blob(statement, column);
        int bytes = sqlite3_column_bytes(statement, column);
        if (bytes < 0 || (!data && bytes > 0))
            return IAM_ENOMEM;
        char *copy = iam_arena_alloc(arena, (size_t)bytes + 1); /* zeroed: TEXT ends with its NUL */
        if (!copy)
            return IAM_ENOMEM;
        if (bytes > 0)
            memcpy(copy, data, (size_t)bytes);
        value->data = copy;
        value->length = (size_t)bytes;
        return IAM_OK;
    }
    }
    iam_log(IAM_LOG_ERROR, "store_error", "copy_read: column %s holds SQLite type %d, not what tables.c says",
            definition->name, type);
    return IAM_ESTORE;
}

static enum iam_result sqlite_copy_read_next(struct iam_store_copy_session *base, struct iam_arena *arena,
                                             size_t max_rows, struct iam_store_copy_page *page)
{
    struct sqlite_copy_session *session = session_of(base);
    const struct iam_store_table *table = session->table;
    page->rows = 0;
    page->values = NULL;
    if (!session->statement || !table || max_rows == 0)
        return IAM_EINTERNAL;
    if (session->finished)
        return IAM_OK;
    if (max_rows > SIZE_MAX / sizeof *page->values / table->column_count)
        return IAM_ETOOBIG;
    page->values = iam_arena_alloc(arena, max_rows * table->column_count * sizeof *page->values);
    if (!page->values)
        return IAM_ENOMEM;
    while (page->rows < max_rows) {
        enum iam_result result = iam_sqlite_step(session->conn, session->statement, "copy_read");
        if (result == IAM_ENOTFOUND) {
            session->finished = true;
            break;
        }
        if (result != IAM_OK)
            return result;
        struct iam_store_copy_value *row = &page->values[page->rows * table->column_count];
        for (size_t c = 0; c < table->column_count; c++) {
            result = read_value(arena, session->statement, (int)c, &table->columns[c], &row[c]);
            if (result != IAM_OK)
                return result;
        }
        page->rows++;
    }
    return IAM_OK;
}

static void sqlite_copy_read_close(struct iam_store_copy_session *base)
{
    statement_drop(session_of(base));
}

static enum iam_result sqlite_copy_empty(struct iam_store_copy_session *base, const struct iam_store_table *table)
{
    struct sqlite_copy_session *session = session_of(base);
    char sql[SQL_SIZE];
    int written = snprintf(sql, sizeof sql, "DELETE FROM %s", table->name);
    if (written < 0 || (size_t)written >= sizeof sql)
        return IAM_EINTERNAL;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = prepare(session, sql, "copy_empty", &statement);
    if (result == IAM_OK)
        result = iam_sqlite_run(session->conn, statement, "copy_empty", NULL);
    sqlite3_finalize(statement);
    return result;
}

/* The INSERT of `table`, prepared once per table and kept until the next table. */
static enum iam_result insert_statement(struct sqlite_copy_session *session, const struct iam_store_table *table)
{
    if (session->table == table && session->statement)
        return IAM_OK;
    statement_drop(session);
    char columns[SQL_SIZE / 2], sql[SQL_SIZE];
    if (!iam_store_table_column_list(table, columns, sizeof columns))
        return IAM_EINTERNAL;
    int used = snprintf(sql, sizeof sql, "INSERT INTO %s (%s) VALUES (", table->name, columns);
    for (size_t c = 0; used > 0 && (size_t)used < sizeof sql && c < table->column_count; c++) {
        int written = snprintf(sql + used, sizeof sql - (size_t)used, "%s?%zu", c > 0 ? ", " : "", c + 1);
        used = written < 0 ? -1 : used + written;
    }
    if (used < 0 || (size_t)used + 2 > sizeof sql)
        return IAM_EINTERNAL;
    memcpy(sql + used, ")", 2);
    enum iam_result result = prepare(session, sql, "copy_insert", &session->statement);
    if (result == IAM_OK)
        session->table = table;
    return result;
}

static int bind_value(sqlite3_stmt *statement, int index, const struct iam_store_column *column,
                      const struct iam_store_copy_value *value)
{
    if (value->null)
        return sqlite3_bind_null(statement, index);
    switch (column->kind) {
    case IAM_STORE_COLUMN_INTEGER:
        return iam_sqlite_bind_int64(statement, index, value->integer);
    case IAM_STORE_COLUMN_BOOLEAN:
        return iam_sqlite_bind_bool(statement, index, value->integer != 0);
    case IAM_STORE_COLUMN_TEXT:
        if (value->length > INT32_MAX)
            return SQLITE_TOOBIG;
        return sqlite3_bind_text(statement, index, value->data, (int)value->length, SQLITE_STATIC);
    case IAM_STORE_COLUMN_BLOB:
        return sqlite3_bind_blob64(statement, index, value->data, (sqlite3_uint64)value->length, SQLITE_STATIC);
    }
    return SQLITE_MISUSE;
}

static enum iam_result sqlite_copy_insert(struct iam_store_copy_session *base, const struct iam_store_table *table,
                                          const struct iam_store_copy_page *page)
{
    struct sqlite_copy_session *session = session_of(base);
    if (!session->write)
        return IAM_EINTERNAL;
    enum iam_result result = insert_statement(session, table);
    if (result != IAM_OK)
        return result;
    for (size_t r = 0; r < page->rows; r++) {
        const struct iam_store_copy_value *row = &page->values[r * table->column_count];
        for (size_t c = 0; c < table->column_count; c++) {
            int code = bind_value(session->statement, (int)c + 1, &table->columns[c], &row[c]);
            if (code != SQLITE_OK) {
                result = iam_sqlite_fail(session->conn, code, "copy_insert");
                iam_sqlite_reset(session->statement);
                return result;
            }
        }
        result = iam_sqlite_run(session->conn, session->statement, "copy_insert", NULL);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}

static enum iam_result sqlite_copy_finish_table(struct iam_store_copy_session *base,
                                                const struct iam_store_table *table)
{
    (void)table; /* AUTOINCREMENT followed the explicit values */
    statement_drop(session_of(base));
    return IAM_OK;
}

static enum iam_result sqlite_copy_end(struct iam_store_copy_session *base, enum iam_result result)
{
    struct sqlite_copy_session *session = session_of(base);
    statement_drop(session);
    enum iam_result ended = session->write ? iam_sqlite_write_end(session->conn, result, "copy_write")
                                           : iam_sqlite_read_end(session->conn, result, "copy_read");
    free(session);
    return ended;
}

const struct iam_store_copy_backend iam_store_sqlite_copy_backend = {
    .read_begin = sqlite_copy_read_begin,
    .write_begin = sqlite_copy_write_begin,
    .count = sqlite_copy_count,
    .read_open = sqlite_copy_read_open,
    .read_next = sqlite_copy_read_next,
    .read_close = sqlite_copy_read_close,
    .empty = sqlite_copy_empty,
    .insert = sqlite_copy_insert,
    .finish_table = sqlite_copy_finish_table,
    .end = sqlite_copy_end,
};
