/*
 * audit_batch.h: audit records for the hot paths, counted in memory and
 * written in batches (the audit trail's answer to "no database write per
 * token").
 *
 * Token requests (issued or refused) and failed authentications are too
 * frequent for a database write each. iam_audit_batch_add counts one event
 * in a bounded in-memory table (striped by lock), keyed by every field that
 * describes it: action, method, route, mechanism, actor (iam_id, account,
 * API key id), client address, account, target, outcome, status and codes.
 * iam_audit_batch_flush appends ONE record per key, phase "aggregate", with
 * `count` (the events), window_start_ms (the first) and time_ms (the last),
 * and request_id the Transaction-Id of the first; the records of a flush go
 * to the trail through iam_audit_append_batch, one store transaction per
 * IAM_STORE_AUDIT_INSERT_MAX records (one for any ordinary flush), chained
 * like every other record.
 *
 * Not fail-closed: adding never waits for the database and never fails the
 * request that is counted. A flush that cannot be written keeps its counts
 * and merges them into the next flush (so a record after an outage may span
 * several intervals). Memory is bounded whatever the traffic or the length
 * of an outage:
 *   - at most `capacity` distinct keys wait between flushes (plus, after a
 *     failed flush, the keys given back);
 *   - an event whose key would exceed that is still counted, in an
 *     "overflow" key that keeps only action, method, route, mechanism,
 *     outcome, status and codes (actor, key id, address, account and target
 *     NULL), up to `overflow` such keys;
 *   - beyond those it is dropped; drops are counted and the next flush logs
 *     them ("audit_batch_dropped").
 *
 * Each process has its own table and flushes it itself (on the usage
 * batcher's thread, iam/usage.h, every --usage-flush-ms): with several nodes
 * each writes its own aggregates, and the chain's seq rule serialises them.
 */
#ifndef IAM_IAM_AUDIT_BATCH_H
#define IAM_IAM_AUDIT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "iam/audit.h"

#define IAM_AUDIT_BATCH_DEFAULT_CAPACITY 10000
#define IAM_AUDIT_BATCH_DEFAULT_OVERFLOW 256

struct iam_audit_batch;

struct iam_audit_batch_options {
    size_t capacity; /* distinct keys waiting between flushes; 0: IAM_AUDIT_BATCH_DEFAULT_CAPACITY */
    size_t overflow; /* overflow keys on top of that; 0: IAM_AUDIT_BATCH_DEFAULT_OVERFLOW */
};

/*
 * A table writing to `audit` (not owned; it must outlive the table).
 * `options` may be NULL (the defaults). Free with iam_audit_batch_free.
 */
enum iam_result iam_audit_batch_new(struct iam_audit *audit, const struct iam_audit_batch_options *options,
                                    struct iam_audit_batch **out) IAM_MUST_CHECK;

/* Flushes what is pending (logging what cannot be written as lost) and frees the table. NULL is allowed. */
void iam_audit_batch_free(struct iam_audit_batch *batch);

/*
 * Counts one event. `event` gives action, method, route and outcome
 * ("success" or "failure"; an event without them is dropped), and any of mechanism,
 * actor_*, client_address, account_id, target_*, status, error_code,
 * message_code, request_id; time_ms 0 means now. Its other fields are
 * ignored. Strings are copied (cut at IAM_AUDIT_FIELD_MAX bytes), never
 * kept. Callers put ids and codes in it, never a secret. Never waits for
 * the store; a NULL batch counts nothing.
 */
void iam_audit_batch_add(struct iam_audit_batch *batch, const struct iam_audit_record *event);

/*
 * Appends one aggregate record per waiting key. On failure (the store's
 * error) the keys not written stay counted for the next flush. One flush at
 * a time; adds go on meanwhile.
 */
enum iam_result iam_audit_batch_flush(struct iam_audit_batch *batch) IAM_MUST_CHECK;

struct iam_audit_batch_stats {
    size_t keys;         /* distinct keys waiting (overflow keys included) */
    int64_t events;      /* events they count */
    uint64_t overflowed; /* events counted in overflow keys since the start */
    uint64_t dropped;    /* events not counted at all since the start */
};

void iam_audit_batch_stats(struct iam_audit_batch *batch, struct iam_audit_batch_stats *out);

#endif
