/*
 * usage.h: per-API-key usage counters (authn_count, last_authn) and users'
 * last sign-in, batched.
 *
 * The token path only adds to an in-memory table (a mutex-guarded hash map);
 * a background thread writes the accumulated deltas to the store every
 * usage_flush_interval_ms, one transaction for keys and one for users.
 * Reads add the pending deltas, so a key's activity is exact even between
 * flushes.
 */
#ifndef IAM_IAM_USAGE_H
#define IAM_IAM_USAGE_H

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

/* Writes every pending delta now. */
enum iam_result iam_usage_flush(struct iam_usage *usage) IAM_MUST_CHECK;

#endif
