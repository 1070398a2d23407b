/*
 * store_audit.h: the audit trail's part of the store interface (the
 * audit_events table and its head checkpoint).
 *
 * The table is append-only: the store offers reads and an insert, nothing
 * that updates or deletes a record (and the schema refuses UPDATE and DELETE
 * with triggers, so even a mistaken statement cannot). The chain itself (seq,
 * prev_hash, hash) is computed by the domain (iam/audit.h), which alone holds
 * the chain key; the store keeps the records in seq order and makes the
 * append race-free: seq is the primary key, and an insert whose seq is not
 * exactly the current head + 1 is IAM_ECONFLICT, so of two writers (threads
 * or nodes) that read the same head, one wins and the other re-reads the head
 * and tries again.
 *
 * Same conventions as store.h: one transaction per call, account scoping in
 * the WHERE clause of list queries, arena results, IAM_ESTORE /
 * IAM_EUNAVAILABLE when the database fails. Audit writes do not bump the
 * store revision: they change no configuration, and caches keyed on the
 * revision (the policy engine's snapshot) stay valid.
 */
#ifndef IAM_STORE_STORE_AUDIT_H
#define IAM_STORE_STORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "store/store.h"

#define IAM_AUDIT_HASH_SIZE 32

/* The meta key of the head checkpoint ("<seq>:<64 hex digits>", written with every insert). */
#define IAM_AUDIT_HEAD_META_KEY "audit_head"

/*
 * One audit record (a row of audit_events). Strings may be NULL (unknown or
 * not applicable) except request_id, phase, action, method, route and
 * outcome. Never a secret: ids, codes and addresses only.
 */
struct iam_audit_record {
    int64_t seq;        /* 1, 2, 3... in append order, without gaps */
    int64_t time_ms;    /* wall clock, milliseconds since the epoch */
    const char *request_id; /* the request's Transaction-Id (an aggregate: the first request it counts) */
    const char *phase;  /* "request" (before the handler), "outcome" (after), "aggregate" (many requests counted) */
    const char *actor_iam_id;
    const char *actor_account_id;
    const char *actor_apikey_id; /* the key id when the caller authenticated with an API key */
    const char *client_address;
    const char *action; /* "iam-identity.serviceid.create", or "<METHOD> <route>" */
    const char *method;
    const char *route;  /* the route template, "/v1/serviceids/{id}" */
    const char *account_id; /* the account acted in (the target's account); the list scope */
    const char *target_type;
    const char *target_id;
    const char *outcome; /* "pending" (request phase), "success" or "failure" */
    int64_t status;      /* HTTP status of the answer; 0 in the request phase */
    const char *error_code;   /* IBM's errors[0].code of a failure */
    const char *message_code; /* IBM's errors[0].message_code ("BXNIM0513E") of a failure */
    const char *mechanism;    /* how credentials came: the grant type of a token request, "basic-apikey", "bearer"... */
    int64_t count;            /* the requests this record stands for: 1, or more in an aggregate */
    int64_t window_start_ms;  /* the first of them (== time_ms for one request); time_ms is the last */
    uint8_t prev_hash[IAM_AUDIT_HASH_SIZE]; /* the previous record's hash; zeros for seq 1 */
    uint8_t hash[IAM_AUDIT_HASH_SIZE];
};

/* A page of one account's records, newest first. NULL filters match everything. */
struct iam_audit_query {
    const char *account_id; /* required */
    const char *actor_iam_id;
    const char *action;
    const char *target_id;
    const char *outcome;
    int64_t from_ms;    /* time_ms >= from_ms (0: no bound) */
    int64_t to_ms;      /* time_ms < to_ms (0: no bound) */
    int64_t before_seq; /* seq < before_seq (0: from the newest) */
    int64_t limit;      /* 1..IAM_STORE_LIST_LIMIT_MAX */
};

/* The newest record's seq and hash; 0 and zeros when the trail is empty. */
enum iam_result iam_store_audit_head(struct iam_store *store, int64_t *seq,
                                     uint8_t hash[IAM_AUDIT_HASH_SIZE]) IAM_MUST_CHECK;

/*
 * Appends `record` and sets the head checkpoint to `checkpoint`, in one
 * transaction. IAM_ECONFLICT when record->seq is not the current head + 1
 * (another writer appended first: read the head again). IAM_EINVAL for a
 * missing required field or a count below 1.
 */
enum iam_result iam_store_audit_insert(struct iam_store *store, const struct iam_audit_record *record,
                                       const char *checkpoint) IAM_MUST_CHECK;

/*
 * Appends `count` records (1..IAM_STORE_AUDIT_INSERT_MAX) whose seqs follow
 * each other from records[0].seq, and sets the head checkpoint to
 * `checkpoint` (the last record's), all in one transaction: either every
 * record is stored or none. IAM_ECONFLICT when records[0].seq is not the
 * current head + 1; IAM_EINVAL for a missing required field or seqs that do
 * not follow each other.
 */
enum iam_result iam_store_audit_insert_batch(struct iam_store *store, const struct iam_audit_record *records,
                                             size_t count, const char *checkpoint) IAM_MUST_CHECK;

#define IAM_STORE_AUDIT_INSERT_MAX 1000

/*
 * One page of query->account_id's records matching the filters, newest
 * first; `*has_more` tells whether an older match exists past the page.
 */
enum iam_result iam_store_audit_list(struct iam_store *store, struct iam_arena *arena,
                                     const struct iam_audit_query *query, struct iam_audit_record **items,
                                     size_t *count, bool *has_more) IAM_MUST_CHECK;

/* The record `seq` if it belongs to `account_id`; IAM_ENOTFOUND otherwise. */
enum iam_result iam_store_audit_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    int64_t seq, struct iam_audit_record *out) IAM_MUST_CHECK;

/*
 * Instance-wide, for verification only (never behind the API): up to `limit`
 * (1..1000) records with seq > `after_seq`, in seq order.
 */
enum iam_result iam_store_audit_scan(struct iam_store *store, struct iam_arena *arena, int64_t after_seq,
                                     size_t limit, struct iam_audit_record **items, size_t *count) IAM_MUST_CHECK;

#define IAM_STORE_AUDIT_SCAN_MAX 1000

#endif
