/*
 * copy_backend.h: the seam between the database copy (copy.c) and a
 * backend: whole-table reads and writes driven by the table list (tables.h).
 *
 * A backend names its table in struct iam_store_backend's `copy` member
 * (backend.h). Its functions know SQL and nothing else: which tables exist,
 * in which order, and what to check is copy.c's business. Table and column
 * names in the SQL they build come from the compiled-in table list only;
 * values are always bound parameters.
 *
 * A session is one connection in one transaction: a read session sees one
 * committed state of the source (SQLite: a read transaction; PostgreSQL:
 * REPEATABLE READ READ ONLY) and reads one table at a time through a cursor;
 * a write session holds the target's write lock (the same one the store's
 * writes take) until `end`, which commits, bumping the revision, or rolls
 * back. A backend embeds struct iam_store_copy_session as the first member
 * of its own session struct.
 */
#ifndef IAM_STORE_COPY_BACKEND_H
#define IAM_STORE_COPY_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "store/tables.h"

struct iam_store;

/* One column's value in one row. */
struct iam_store_copy_value {
    bool null;
    int64_t integer;  /* INTEGER; BOOLEAN as 0 or 1 */
    const void *data; /* TEXT (NUL-terminated) or BLOB; never NULL unless `null` */
    size_t length;    /* bytes of `data`, without TEXT's NUL */
};

/* Rows of one table: `rows` × the table's column_count values, row after row. */
struct iam_store_copy_page {
    size_t rows;
    struct iam_store_copy_value *values;
};

/* The part of every backend's session that copy.c sees. */
struct iam_store_copy_session {
    struct iam_store *store;
};

struct iam_store_copy_backend {
    /* Opens a read session on `store`. */
    enum iam_result (*read_begin)(struct iam_store *store, struct iam_store_copy_session **out);
    /* Opens a write session on `store`, holding its write lock. */
    enum iam_result (*write_begin)(struct iam_store *store, struct iam_store_copy_session **out);

    /* Rows in `table` as the session sees them. */
    enum iam_result (*count)(struct iam_store_copy_session *session, const struct iam_store_table *table,
                             int64_t *count);

    /* Read sessions: starts reading `table` in order_by order (one table at a time). */
    enum iam_result (*read_open)(struct iam_store_copy_session *session, const struct iam_store_table *table);
    /*
     * Reads up to `max_rows` next rows of the open table into `page`, the
     * values allocated in `arena`; page->rows is 0 after the last row.
     */
    enum iam_result (*read_next)(struct iam_store_copy_session *session, struct iam_arena *arena, size_t max_rows,
                                 struct iam_store_copy_page *page);
    /* Stops reading the open table. */
    void (*read_close)(struct iam_store_copy_session *session);

    /* Write sessions: deletes every row of `table`. */
    enum iam_result (*empty)(struct iam_store_copy_session *session, const struct iam_store_table *table);
    /* Inserts the rows of `page` into `table`, values as read (generated columns included). */
    enum iam_result (*insert)(struct iam_store_copy_session *session, const struct iam_store_table *table,
                              const struct iam_store_copy_page *page);
    /* After the last insert into `table`: moves a generated column's counter past the copied values. */
    enum iam_result (*finish_table)(struct iam_store_copy_session *session, const struct iam_store_table *table);

    /*
     * Ends the session and frees it: when `result` is IAM_OK commits (a
     * write session that changed rows bumps the revision first), otherwise
     * rolls back. Returns `result`, or the commit's error.
     */
    enum iam_result (*end)(struct iam_store_copy_session *session, enum iam_result result);
};

/* The backends' tables (sqlite_copy.c, postgres_copy.c). */
extern const struct iam_store_copy_backend iam_store_sqlite_copy_backend;
extern const struct iam_store_copy_backend iam_store_postgres_copy_backend;

#endif
