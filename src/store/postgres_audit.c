/*
 * postgres_audit.c: PostgreSQL rows of the audit trail (the mirror of
 * sqlite_audit.c).
 *
 * An insert runs in a write transaction, which holds the store-wide write
 * lock (the revision row), so the "seq is the maximum + 1" check inside the
 * statement sees every record committed by any node before it; the primary
 * key on seq backs it up. A node that read a stale head gets IAM_ECONFLICT
 * and tries again with the new head. A batch runs the statement once per
 * record in that one transaction (all stored or none). The head checkpoint
 * is written in the same transaction; the revision is not bumped.
 */
#include "store/audit_backend.h"
#include "store/postgres_internal.h"

#include <string.h>

static enum iam_result read_record(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_audit_record *record = item;
    record->seq = iam_pg_int64(result, row, 0);
    record->time_ms = iam_pg_int64(result, row, 1);
    record->status = iam_pg_int64(result, row, 15);
    record->count = iam_pg_int64(result, row, 19);
    record->window_start_ms = iam_pg_int64(result, row, 20);
    if (!iam_pg_text(arena, result, row, 2, &record->request_id) ||
        !iam_pg_text(arena, result, row, 3, &record->phase) ||
        !iam_pg_text(arena, result, row, 4, &record->actor_iam_id) ||
        !iam_pg_text(arena, result, row, 5, &record->actor_account_id) ||
        !iam_pg_text(arena, result, row, 6, &record->actor_apikey_id) ||
        !iam_pg_text(arena, result, row, 7, &record->client_address) ||
        !iam_pg_text(arena, result, row, 8, &record->action) || !iam_pg_text(arena, result, row, 9, &record->method) ||
        !iam_pg_text(arena, result, row, 10, &record->route) ||
        !iam_pg_text(arena, result, row, 11, &record->account_id) ||
        !iam_pg_text(arena, result, row, 12, &record->target_type) ||
        !iam_pg_text(arena, result, row, 13, &record->target_id) ||
        !iam_pg_text(arena, result, row, 14, &record->outcome) ||
        !iam_pg_text(arena, result, row, 16, &record->error_code) ||
        !iam_pg_text(arena, result, row, 17, &record->message_code) ||
        !iam_pg_text(arena, result, row, 18, &record->mechanism))
        return IAM_ENOMEM;
    /* A hash of the wrong size is stored data the chain check reports, not a store failure. */
    if (!iam_pg_fixed_bytea(result, row, 21, record->prev_hash, IAM_AUDIT_HASH_SIZE))
        memset(record->prev_hash, 0xff, IAM_AUDIT_HASH_SIZE);
    if (!iam_pg_fixed_bytea(result, row, 22, record->hash, IAM_AUDIT_HASH_SIZE))
        memset(record->hash, 0, IAM_AUDIT_HASH_SIZE);
    return IAM_OK;
}

struct head {
    int64_t seq;
    uint8_t *hash;
};

static enum iam_result read_head(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    (void)arena;
    struct head *head = item;
    head->seq = iam_pg_int64(result, row, 0);
    if (!iam_pg_fixed_bytea(result, row, 1, head->hash, IAM_AUDIT_HASH_SIZE))
        memset(head->hash, 0, IAM_AUDIT_HASH_SIZE); /* appending to it makes a record that never verifies */
    return IAM_OK;
}

static enum iam_result pg_audit_head(struct iam_store *store, int64_t *seq, uint8_t hash[IAM_AUDIT_HASH_SIZE])
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1");
    struct head head = {.seq = 0, .hash = hash};
    enum iam_result result = iam_pg_read_row(store, &statement, NULL, NULL, "audit_head", read_head, &head);
    if (result == IAM_ENOTFOUND)
        return IAM_OK; /* empty: seq 0, zero hash (set by store_audit.c) */
    if (result == IAM_OK)
        *seq = head.seq;
    return result;
}

static void record_params(struct iam_pg_params *params, const struct iam_audit_record *record)
{
    iam_pg_param_int64(params, record->seq);
    iam_pg_param_int64(params, record->time_ms);
    iam_pg_param_text(params, record->request_id);
    iam_pg_param_text(params, record->phase);
    iam_pg_param_text(params, record->actor_iam_id);
    iam_pg_param_text(params, record->actor_account_id);
    iam_pg_param_text(params, record->actor_apikey_id);
    iam_pg_param_text(params, record->client_address);
    iam_pg_param_text(params, record->action);
    iam_pg_param_text(params, record->method);
    iam_pg_param_text(params, record->route);
    iam_pg_param_text(params, record->account_id);
    iam_pg_param_text(params, record->target_type);
    iam_pg_param_text(params, record->target_id);
    iam_pg_param_text(params, record->outcome);
    iam_pg_param_int64(params, record->status);
    iam_pg_param_text(params, record->error_code);
    iam_pg_param_text(params, record->message_code);
    iam_pg_param_text(params, record->mechanism);
    iam_pg_param_int64(params, record->count);
    iam_pg_param_int64(params, record->window_start_ms);
    iam_pg_param_bytea(params, record->prev_hash, IAM_AUDIT_HASH_SIZE);
    iam_pg_param_bytea(params, record->hash, IAM_AUDIT_HASH_SIZE);
}

static enum iam_result pg_audit_insert(struct iam_store *store, const struct iam_audit_record *records, size_t count,
                                       const char *checkpoint)
{
    static const char *const operation = "audit_insert";
    static struct iam_pg_statement insert = IAM_PG_STATEMENT(
        "INSERT INTO audit_events (" IAM_AUDIT_COLUMNS ") "
        "SELECT $1::bigint, $2::bigint, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, "
        "$10::text, $11::text, $12::text, $13::text, $14::text, $15::text, $16::bigint, $17::text, $18::text, "
        "$19::text, $20::bigint, $21::bigint, $22::bytea, $23::bytea "
        "WHERE (SELECT coalesce(max(seq), 0) FROM audit_events) = $1::bigint - 1");
    static struct iam_pg_statement head_checkpoint =
        IAM_PG_STATEMENT("INSERT INTO meta (key, value) VALUES ('" IAM_AUDIT_HEAD_META_KEY "', $1::text) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    for (size_t i = 0; result == IAM_OK && i < count; i++) {
        struct iam_pg_params params = {0};
        int64_t changes = 0;
        record_params(&params, &records[i]);
        result = iam_pg_run(conn, &insert, &params, operation, &changes);
        if (result == IAM_OK && changes != 1)
            result = IAM_ECONFLICT; /* the head moved since the caller read it */
    }
    if (result == IAM_OK) {
        struct iam_pg_params checkpoint_params = {0};
        iam_pg_param_text(&checkpoint_params, checkpoint);
        result = iam_pg_run(conn, &head_checkpoint, &checkpoint_params, operation, NULL);
    }
    /* A record, not configuration: caches keyed on the revision stay valid. */
    return iam_pg_write_end(conn, result, false, operation);
}

static enum iam_result pg_audit_list(struct iam_store *store, struct iam_arena *arena,
                                     const struct iam_audit_query *query, struct iam_audit_record **items,
                                     size_t *count, bool *has_more)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " IAM_AUDIT_COLUMNS " FROM audit_events "
        "WHERE account_id = $1::text AND seq < $2::bigint AND time_ms >= $3::bigint AND time_ms < $4::bigint "
        "AND ($5::text IS NULL OR actor_iam_id = $5::text) AND ($6::text IS NULL OR action = $6::text) "
        "AND ($7::text IS NULL OR target_id = $7::text) AND ($8::text IS NULL OR outcome = $8::text) "
        "ORDER BY seq DESC LIMIT $9::bigint");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, query->account_id);
    iam_pg_param_int64(&params, query->before_seq > 0 ? query->before_seq : INT64_MAX);
    iam_pg_param_int64(&params, query->from_ms);
    iam_pg_param_int64(&params, query->to_ms > 0 ? query->to_ms : INT64_MAX);
    iam_pg_param_text(&params, query->actor_iam_id);
    iam_pg_param_text(&params, query->action);
    iam_pg_param_text(&params, query->target_id);
    iam_pg_param_text(&params, query->outcome);
    iam_pg_param_int64(&params, query->limit + 1);
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &statement, &params, arena, "audit_list", sizeof **items,
                                              read_record, (size_t)query->limit, &rows, count, has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

static enum iam_result pg_audit_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    int64_t seq, struct iam_audit_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " IAM_AUDIT_COLUMNS " FROM audit_events WHERE seq = $1::bigint AND account_id = $2::text");
    struct iam_pg_params params = {0};
    iam_pg_param_int64(&params, seq);
    iam_pg_param_text(&params, account_id);
    return iam_pg_read_row(store, &statement, &params, arena, "audit_get", read_record, out);
}

static enum iam_result pg_audit_scan(struct iam_store *store, struct iam_arena *arena, int64_t after_seq,
                                     size_t limit, struct iam_audit_record **items, size_t *count)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " IAM_AUDIT_COLUMNS " FROM audit_events WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint");
    struct iam_pg_params params = {0};
    iam_pg_param_int64(&params, after_seq);
    iam_pg_param_int64(&params, (int64_t)limit);
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &statement, &params, arena, "audit_scan", sizeof **items,
                                              read_record, limit, &rows, count, NULL);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

const struct iam_store_audit_backend iam_store_postgres_audit_backend = {
    .head = pg_audit_head,
    .insert = pg_audit_insert,
    .list = pg_audit_list,
    .get = pg_audit_get,
    .scan = pg_audit_scan,
};
