/*
 * store_audit.c: the public iam_store_audit_* functions (store_audit.h).
 *
 * Checks what does not depend on the database (NULL pointers, required
 * fields, page bounds, the outcome and phase names) and dispatches through
 * the backend's audit table (audit_backend.h). Nothing here knows SQL.
 */
#include "store/store_audit.h"

#include <string.h>

#include "store/audit_backend.h"
#include "store/timed.h"

static const struct iam_store_audit_backend *audit_of(const struct iam_store *store)
{
    return store->backend->audit;
}

static bool one_of(const char *value, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(value, *names) == 0)
            return true;
    return false;
}

static const char *const phases[] = {"request", "outcome", "aggregate", NULL};
static const char *const outcomes[] = {"pending", "success", "failure", NULL};

enum iam_result iam_store_audit_head(struct iam_store *store, int64_t *seq, uint8_t hash[IAM_AUDIT_HASH_SIZE])
{
    if (!store || !seq || !hash)
        return IAM_EINVAL;
    *seq = 0;
    memset(hash, 0, IAM_AUDIT_HASH_SIZE);
    if (!audit_of(store))
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(audit_of(store)->head(store, seq, hash));
}

static bool record_valid(const struct iam_audit_record *record)
{
    return record->seq >= 1 && record->request_id && record->phase && record->action && record->method &&
           record->route && record->outcome && one_of(record->phase, phases) && one_of(record->outcome, outcomes) &&
           record->count >= 1 && record->window_start_ms >= 0 && record->window_start_ms <= record->time_ms;
}

enum iam_result iam_store_audit_insert(struct iam_store *store, const struct iam_audit_record *record,
                                       const char *checkpoint)
{
    return iam_store_audit_insert_batch(store, record, 1, checkpoint);
}

enum iam_result iam_store_audit_insert_batch(struct iam_store *store, const struct iam_audit_record *records,
                                             size_t count, const char *checkpoint)
{
    if (!store || !records || !checkpoint || count < 1 || count > IAM_STORE_AUDIT_INSERT_MAX)
        return IAM_EINVAL;
    for (size_t i = 0; i < count; i++)
        if (!record_valid(&records[i]) || records[i].seq != records[0].seq + (int64_t)i)
            return IAM_EINVAL;
    if (!audit_of(store))
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(audit_of(store)->insert(store, records, count, checkpoint));
}

enum iam_result iam_store_audit_list(struct iam_store *store, struct iam_arena *arena,
                                     const struct iam_audit_query *query, struct iam_audit_record **items,
                                     size_t *count, bool *has_more)
{
    if (!store || !arena || !query || !query->account_id || !items || !count || !has_more)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    *has_more = false;
    if (query->limit < 1 || query->limit > IAM_STORE_LIST_LIMIT_MAX || query->before_seq < 0 ||
        query->from_ms < 0 || query->to_ms < 0 || (query->outcome && !one_of(query->outcome, outcomes)))
        return IAM_EINVAL;
    if (!audit_of(store))
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(audit_of(store)->list(store, arena, query, items, count, has_more));
}

enum iam_result iam_store_audit_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    int64_t seq, struct iam_audit_record *out)
{
    if (!store || !arena || !account_id || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    if (seq < 1)
        return IAM_ENOTFOUND;
    if (!audit_of(store))
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(audit_of(store)->get(store, arena, account_id, seq, out));
}

enum iam_result iam_store_audit_scan(struct iam_store *store, struct iam_arena *arena, int64_t after_seq,
                                     size_t limit, struct iam_audit_record **items, size_t *count)
{
    if (!store || !arena || !items || !count || after_seq < 0 || limit < 1 || limit > IAM_STORE_AUDIT_SCAN_MAX)
        return IAM_EINVAL;
    *items = NULL;
    *count = 0;
    if (!audit_of(store))
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(audit_of(store)->scan(store, arena, after_seq, limit, items, count));
}
