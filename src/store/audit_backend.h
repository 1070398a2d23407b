/*
 * audit_backend.h: the seam between store_audit.h and a database (the audit
 * trail's small table of functions, beside backend.h's).
 *
 * store_audit.c checks the arguments and calls the backend's
 * `audit` table; each function has the arguments and results of the public
 * function of the same name. Only store_audit.c and backends include this.
 */
#ifndef IAM_STORE_AUDIT_BACKEND_H
#define IAM_STORE_AUDIT_BACKEND_H

#include "store/backend.h"
#include "store/store_audit.h"

struct iam_store_audit_backend {
    enum iam_result (*head)(struct iam_store *store, int64_t *seq, uint8_t hash[IAM_AUDIT_HASH_SIZE]);
    /* Inserts records[0..count) (seqs checked to follow each other) and the checkpoint in one transaction. */
    enum iam_result (*insert)(struct iam_store *store, const struct iam_audit_record *records, size_t count,
                              const char *checkpoint);
    enum iam_result (*list)(struct iam_store *store, struct iam_arena *arena, const struct iam_audit_query *query,
                            struct iam_audit_record **items, size_t *count, bool *has_more);
    enum iam_result (*get)(struct iam_store *store, struct iam_arena *arena, const char *account_id, int64_t seq,
                           struct iam_audit_record *out);
    enum iam_result (*scan)(struct iam_store *store, struct iam_arena *arena, int64_t after_seq, size_t limit,
                            struct iam_audit_record **items, size_t *count);
};

/* The backends' tables (sqlite_audit.c, postgres_audit.c). */
extern const struct iam_store_audit_backend iam_store_sqlite_audit_backend;
extern const struct iam_store_audit_backend iam_store_postgres_audit_backend;

/*
 * The columns every audit query reads, in the order the backends' row
 * readers expect them.
 */
#define IAM_AUDIT_COLUMNS                                                                                          \
    "seq, time_ms, request_id, phase, actor_iam_id, actor_account_id, actor_apikey_id, client_address, action, " \
    "method, route, account_id, target_type, target_id, outcome, status, error_code, message_code, mechanism, count, " \
    "window_start_ms, prev_hash, hash"

#endif
