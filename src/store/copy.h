/*
 * copy.h: copying every row of one iamd database into another (`iamd db
 * copy`), whatever their backends: SQLite to PostgreSQL, back, or between
 * two of the same kind.
 *
 * The copy is schema-driven: it walks the table list (tables.h) and moves
 * rows through each backend's copy table (copy_backend.h), in pages, so a
 * large database is never in memory at once. The source is read in one
 * consistent snapshot; the whole copy is one transaction on the target,
 * verified (row counts per table, source against target) before it
 * commits: a failure or a mismatch leaves the target as it was. The
 * target's revision is bumped, so nodes already running on it reload.
 *
 * Secrets are not in the database: the target is only usable by an iamd
 * with the source's pepper and key-encryption key.
 */
#ifndef IAM_STORE_COPY_H
#define IAM_STORE_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "store/store.h"
#include "store/tables.h"

/* Rows read from the source and inserted into the target at a time. */
#define IAM_STORE_COPY_PAGE_ROWS 500

struct iam_store_copy_options {
    /* Empty the target's tables first (inside the copy's transaction) instead of refusing a non-empty target. */
    bool replace;
    /* Rows per page; 0 means IAM_STORE_COPY_PAGE_ROWS. */
    size_t page_rows;
};

/* One table's row counts. */
struct iam_store_copy_count {
    const char *table; /* the name in tables.h (static) */
    int64_t source;    /* rows in the source's snapshot */
    int64_t copied;    /* rows read from the source and inserted */
    int64_t target;    /* rows in the target after the copy, counted in its transaction; -1: not reached */
};

struct iam_store_copy_report {
    size_t table_count;
    struct iam_store_copy_count tables[IAM_STORE_TABLES_MAX];
    int64_t rows;               /* rows copied in all */
    int64_t target_revision;    /* the target's revision after the copy (0 when it failed) */
    const char *mismatch_table; /* the first table whose counts differ, or NULL */
};

/*
 * Copies every table of `source` into `target` (two open stores at the same
 * schema version). `options` may be NULL (defaults). `report` (not NULL) is
 * filled as far as the copy got, also on failure.
 *
 * Results: IAM_OK; IAM_ECONFLICT when the target holds a row and
 * `replace` is not set (err names the table); IAM_ENOTFOUND when the source
 * holds no row at all (nothing to copy, and with `replace` a mistyped source
 * would empty the target); IAM_ESTORE when the counts differ after the copy
 * (report->mismatch_table, nothing committed) or a database fails;
 * IAM_EUNAVAILABLE when one cannot be reached; IAM_EINVAL for the same store
 * twice, a backend that cannot copy, or different schema versions.
 */
enum iam_result iam_store_copy(struct iam_store *source, struct iam_store *target,
                               const struct iam_store_copy_options *options, struct iam_store_copy_report *report,
                               struct iam_error *err) IAM_MUST_CHECK;

#endif
