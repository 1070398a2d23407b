/*
 * tables.h: the list of every table that holds iamd's data, with its columns,
 * in foreign-key order (a table comes after the tables it references).
 *
 * Both backends create these tables with the same names and columns
 * (migrations.c, postgres_migrations.c); only the SQL types differ, which
 * the column kinds below abstract: TEXT is TEXT on both, INTEGER is
 * INTEGER/BIGINT, BOOLEAN is INTEGER 0/1 on SQLite and BOOLEAN on
 * PostgreSQL, BLOB is BLOB/BYTEA. Code that works on whole tables (the
 * database copy, copy.h) reads this list instead of knowing the schema.
 *
 * Not listed: schema_migrations (each database records its own migrations)
 * and revision (each database counts its own writes).
 *
 * Adding a table (a new migration in both migrations files): one line in
 * tables.c, after the tables it references. tests/unit/test_store_copy.c
 * fails while a table of the SQLite schema is missing here or its columns
 * differ.
 */
#ifndef IAM_STORE_TABLES_H
#define IAM_STORE_TABLES_H

#include <stdbool.h>
#include <stddef.h>

enum iam_store_column_kind {
    IAM_STORE_COLUMN_TEXT,
    IAM_STORE_COLUMN_INTEGER,
    IAM_STORE_COLUMN_BOOLEAN,
    IAM_STORE_COLUMN_BLOB,
};

struct iam_store_column {
    const char *name;
    enum iam_store_column_kind kind;
};

struct iam_store_table {
    const char *name;
    /* The primary key's columns, comma-separated: rows are read in this order. */
    const char *order_by;
    /* A column whose values the database generates (history.seq), or NULL. */
    const char *identity;
    size_t column_count;
    const struct iam_store_column *columns;
    /* Rows may never be removed (the audit trail): a copy never empties this table. */
    bool append_only;
};

/* Every table, in foreign-key order; static, never freed. */
extern const struct iam_store_table iam_store_tables[];
extern const size_t iam_store_table_count;

/* The most tables the list may hold (sizes fixed arrays such as copy reports). */
#define IAM_STORE_TABLES_MAX 32

/*
 * Writes the table's column names, comma-separated ("id, name, ..."), into
 * `out`; false when they do not fit in `size` bytes.
 */
bool iam_store_table_column_list(const struct iam_store_table *table, char *out, size_t size);

#endif
