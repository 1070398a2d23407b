/*
 * usage.h: per-API-key usage counters (authn_count, last_authn) and users'
 * last sign-in, batched.
 *
 * The token path only adds to an in-memory table (a mutex-guarded hash map);
 * a background thread writes the accumulated deltas to the store every
 * usage_flush_interval_ms, one transaction for keys and one for users.
 * Reads add the pending deltas, so a key's activity is exact even between
 * flushes.
 *
 * A failed flush (the database is away) keeps its deltas: they are added to
 * the next flush, none lost. Memory stays bounded: one entry per distinct key
 * or user (new ones up to the capacity, 100,000 by default, plus a batch being
 * written; uses of further ones are dropped and their number logged),
 * whatever the number of uses or the length of the outage.
 */
#ifndef IAM_IAM_USAGE_H
#define IAM_IAM_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "store/store.h"

struct iam_usage;

/* Starts the batcher over `store`. Free with iam_usage_free (flushes first). */
enum iam_result iam_usage_new(struct iam_store *store, int64_t flush_interval_ms, struct iam_usage **out) IAM_MUST_CHECK;
void iam_usage_free(struct iam_usage *usage);

/* Counts one successful authentication of key `apikey_id` at `when`. Never blocks on the store. */
void iam_usage_record(struct iam_usage *usage, const char *apikey_id, int64_t when);

/* Counts one successful password sign-in of user `iam_id` at `when` (its last_authn). Never blocks on the store. */
void iam_usage_record_user(struct iam_usage *usage, const char *iam_id, int64_t when);

/* The deltas not yet written for `apikey_id` (0 and 0 when none). */
void iam_usage_pending(struct iam_usage *usage, const char *apikey_id, int64_t *count, int64_t *last_authn);

/*
 * Holds off flushes until iam_usage_release: a reader that reads a key's
 * stored counters and then its pending deltas between the two calls sees
 * every use exactly once (a flush in between would move deltas from memory to
 * the store after the store was read, or count them twice).
 */
void iam_usage_hold(struct iam_usage *usage);
void iam_usage_release(struct iam_usage *usage);

/* Writes every pending delta now. On failure they stay pending (retried by the next flush). */
enum iam_result iam_usage_flush(struct iam_usage *usage) IAM_MUST_CHECK;

/* The number of keys with pending deltas. */
size_t iam_usage_size(struct iam_usage *usage);

/* Caps the keys with pending deltas (0: the default, 100,000). */
void iam_usage_set_capacity(struct iam_usage *usage, size_t capacity);

/*
 * Shares the background thread with another batcher: `flush(context)` runs
 * after each periodic usage flush (every flush_interval_ms) and once more in
 * iam_usage_free, after the last usage flush. One companion; NULL removes
 * it. The audit trail's batch of token and authentication events
 * (iam/audit_batch.h) flushes this way, so one thread and one interval
 * (--usage-flush-ms) serve both.
 */
void iam_usage_set_companion(struct iam_usage *usage, void (*flush)(void *context), void *context);

#endif
