/*
 * copy.c: iam_store_copy, the backend-neutral part of the database copy
 * (see copy.h): the order of the steps, the checks, the counts. The SQL is
 * in each backend's copy table (sqlite_copy.c, postgres_copy.c).
 *
 * Steps: open the source's read session and count every table (this fixes
 * the snapshot); open the target's write session (from here on no other
 * writer changes the target); refuse a non-empty target unless asked to
 * replace, then empty its tables in reverse foreign-key order; copy each
 * table in foreign-key order, page by page, one arena per page; count the
 * target's rows in its transaction and compare; commit only when every
 * count matches.
 */
#include "store/copy.h"

#include <string.h>

#include "common/log.h"
#include "store/backend.h"
#include "store/copy_backend.h"

static const struct iam_store_copy_backend *copy_of(struct iam_store *store)
{
    return store->backend->copy;
}

static void report_init(struct iam_store_copy_report *report)
{
    memset(report, 0, sizeof *report);
    report->table_count = iam_store_table_count;
    for (size_t i = 0; i < iam_store_table_count; i++) {
        report->tables[i].table = iam_store_tables[i].name;
        report->tables[i].source = -1;
        report->tables[i].target = -1;
    }
}

/* Copies one table's rows, a page at a time; adds them to `*copied`. */
static enum iam_result copy_rows(struct iam_store_copy_session *reader, struct iam_store_copy_session *writer,
                                 const struct iam_store_table *table, size_t page_rows, int64_t *copied,
                                 struct iam_error *err)
{
    const struct iam_store_copy_backend *from = copy_of(reader->store);
    const struct iam_store_copy_backend *to = copy_of(writer->store);
    enum iam_result result = from->read_open(reader, table);
    if (result != IAM_OK)
        return iam_error_set(err, result, NULL, "reading table %s from the source failed (%s)", table->name,
                             iam_strerror(result));
    for (;;) {
        struct iam_arena *arena = iam_arena_new();
        if (!arena) {
            result = iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
            break;
        }
        struct iam_store_copy_page page = {0};
        result = from->read_next(reader, arena, page_rows, &page);
        if (result != IAM_OK) {
            iam_error_set(err, result, NULL, "reading table %s from the source failed (%s)", table->name,
                          iam_strerror(result));
        } else if (page.rows > 0) {
            result = to->insert(writer, table, &page);
            if (result != IAM_OK)
                iam_error_set(err, result, NULL, "writing table %s into the target failed (%s)", table->name,
                              iam_strerror(result));
            else
                *copied += (int64_t)page.rows;
        }
        iam_arena_free(arena);
        if (result != IAM_OK || page.rows == 0)
            break;
    }
    from->read_close(reader);
    if (result == IAM_OK) {
        result = to->finish_table(writer, table);
        if (result != IAM_OK)
            iam_error_set(err, result, NULL, "finishing table %s in the target failed (%s)", table->name,
                          iam_strerror(result));
    }
    return result;
}

/* Refuses a target holding any row, unless `replace`: then empties every table, children first. */
static enum iam_result prepare_target(struct iam_store_copy_session *writer, bool replace, struct iam_error *err)
{
    const struct iam_store_copy_backend *to = copy_of(writer->store);
    if (replace) {
        /* An append-only table (the audit trail) is never emptied: replacing it would erase history. */
        for (size_t i = 0; i < iam_store_table_count; i++) {
            if (!iam_store_tables[i].append_only)
                continue;
            int64_t rows = 0;
            enum iam_result result = to->count(writer, &iam_store_tables[i], &rows);
            if (result != IAM_OK)
                return iam_error_set(err, result, NULL, "counting table %s of the target failed (%s)",
                                     iam_store_tables[i].name, iam_strerror(result));
            if (rows > 0)
                return iam_error_set(err, IAM_ECONFLICT, NULL,
                                     "table %s of the target has %lld rows and is append-only: --replace cannot "
                                     "empty it; copy into a new, empty database",
                                     iam_store_tables[i].name, (long long)rows);
        }
        for (size_t i = iam_store_table_count; i-- > 0;) {
            if (iam_store_tables[i].append_only)
                continue;
            enum iam_result result = to->empty(writer, &iam_store_tables[i]);
            if (result != IAM_OK)
                return iam_error_set(err, result, NULL, "emptying table %s of the target failed (%s)",
                                     iam_store_tables[i].name, iam_strerror(result));
        }
        return IAM_OK;
    }
    for (size_t i = 0; i < iam_store_table_count; i++) {
        int64_t rows = 0;
        enum iam_result result = to->count(writer, &iam_store_tables[i], &rows);
        if (result != IAM_OK)
            return iam_error_set(err, result, NULL, "counting table %s of the target failed (%s)",
                                 iam_store_tables[i].name, iam_strerror(result));
        if (rows > 0)
            return iam_error_set(err, IAM_ECONFLICT, NULL, "the target database is not empty: table %s has %lld rows",
                                 iam_store_tables[i].name, (long long)rows);
    }
    return IAM_OK;
}

/* Counts every table of the source into the report; IAM_ENOTFOUND when all are empty. */
static enum iam_result count_source(struct iam_store_copy_session *reader, struct iam_store_copy_report *report,
                                    struct iam_error *err)
{
    const struct iam_store_copy_backend *from = copy_of(reader->store);
    int64_t total = 0;
    for (size_t i = 0; i < iam_store_table_count; i++) {
        enum iam_result result = from->count(reader, &iam_store_tables[i], &report->tables[i].source);
        if (result != IAM_OK)
            return iam_error_set(err, result, NULL, "counting table %s of the source failed (%s)",
                                 iam_store_tables[i].name, iam_strerror(result));
        total += report->tables[i].source;
    }
    if (total == 0)
        return iam_error_set(err, IAM_ENOTFOUND, NULL, "the source database is empty: nothing to copy");
    return IAM_OK;
}

/* Copies every table and counts the target's rows; a count that differs is IAM_ESTORE. */
static enum iam_result copy_tables(struct iam_store_copy_session *reader, struct iam_store_copy_session *writer,
                                   size_t page_rows, struct iam_store_copy_report *report, struct iam_error *err)
{
    const struct iam_store_copy_backend *to = copy_of(writer->store);
    for (size_t i = 0; i < iam_store_table_count; i++) {
        const struct iam_store_table *table = &iam_store_tables[i];
        struct iam_store_copy_count *count = &report->tables[i];
        enum iam_result result = copy_rows(reader, writer, table, page_rows, &count->copied, err);
        report->rows += count->copied;
        if (result != IAM_OK)
            return result;
        result = to->count(writer, table, &count->target);
        if (result != IAM_OK)
            return iam_error_set(err, result, NULL, "counting table %s of the target failed (%s)", table->name,
                                 iam_strerror(result));
        if ((count->copied != count->source || count->target != count->source) && !report->mismatch_table)
            report->mismatch_table = table->name;
    }
    if (report->mismatch_table) {
        const struct iam_store_copy_count *count = NULL;
        for (size_t i = 0; i < report->table_count && !count; i++) {
            if (report->tables[i].table == report->mismatch_table)
                count = &report->tables[i];
        }
        iam_log(IAM_LOG_ERROR, "store_copy_mismatch", "table %s: source %lld rows, copied %lld, target %lld",
                count->table, (long long)count->source, (long long)count->copied, (long long)count->target);
        return iam_error_set(err, IAM_ESTORE, NULL,
                             "row counts differ after the copy (table %s: source %lld, target %lld); nothing was "
                             "written",
                             count->table, (long long)count->source, (long long)count->target);
    }
    return IAM_OK;
}

static enum iam_result check_stores(struct iam_store *source, struct iam_store *target, struct iam_error *err)
{
    if (source == target)
        return iam_error_set(err, IAM_EINVAL, NULL, "the source and the target are the same database");
    if (!copy_of(source) || !copy_of(target))
        return iam_error_set(err, IAM_EINVAL, NULL, "the %s backend cannot copy",
                             copy_of(source) ? target->backend->name : source->backend->name);
    int64_t source_version = 0, target_version = 0;
    enum iam_result result = iam_store_schema_version(source, &source_version);
    if (result == IAM_OK)
        result = iam_store_schema_version(target, &target_version);
    if (result != IAM_OK)
        return iam_error_set(err, result, NULL, "the schema versions could not be read (%s)", iam_strerror(result));
    if (source_version != target_version)
        return iam_error_set(err, IAM_EINVAL, NULL, "the schema versions differ (source %lld, target %lld)",
                             (long long)source_version, (long long)target_version);
    return IAM_OK;
}

enum iam_result iam_store_copy(struct iam_store *source, struct iam_store *target,
                               const struct iam_store_copy_options *options, struct iam_store_copy_report *report,
                               struct iam_error *err)
{
    if (!report)
        return iam_error_set(err, IAM_EINVAL, NULL, "no place for the copy's report");
    report_init(report);
    if (!source || !target)
        return iam_error_set(err, IAM_EINVAL, NULL, "no source or no target store");
    struct iam_store_copy_options defaults = {0};
    if (!options)
        options = &defaults;
    size_t page_rows = options->page_rows ? options->page_rows : IAM_STORE_COPY_PAGE_ROWS;

    enum iam_result result = check_stores(source, target, err);
    if (result != IAM_OK)
        return result;

    struct iam_store_copy_session *reader = NULL, *writer = NULL;
    result = copy_of(source)->read_begin(source, &reader);
    if (result != IAM_OK)
        return iam_error_set(err, result, NULL, "the source could not be read (%s)", iam_strerror(result));
    result = count_source(reader, report, err);
    if (result != IAM_OK)
        goto out;
    result = copy_of(target)->write_begin(target, &writer);
    if (result != IAM_OK) {
        iam_error_set(err, result, NULL, "the target could not be written (%s)", iam_strerror(result));
        goto out;
    }
    result = prepare_target(writer, options->replace, err);
    if (result == IAM_OK)
        result = copy_tables(reader, writer, page_rows, report, err);
    enum iam_result ended = copy_of(target)->end(writer, result);
    if (result == IAM_OK && ended != IAM_OK) {
        result = iam_error_set(err, ended, NULL, "the target's transaction could not commit (%s)",
                               iam_strerror(ended));
    }
out:
    /* The source was only read: how its transaction ends changes nothing, so its result is not the copy's. */
    if (copy_of(source)->end(reader, result) != IAM_OK && result == IAM_OK)
        iam_log(IAM_LOG_WARN, "store_copy", "the source's read transaction did not end cleanly");
    if (result == IAM_OK && iam_store_revision(target, &report->target_revision) != IAM_OK)
        report->target_revision = 0;
    return result;
}
