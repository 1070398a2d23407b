/*
 * audit.h: the tamper-evident, append-only audit trail (the domain side).
 *
 * Every record is chained to the one before it:
 *
 *   hash = HMAC-SHA256(chain key, prev_hash || canonical(record))
 *
 * where prev_hash is the previous record's hash (32 zero bytes for seq 1)
 * and canonical() is a fixed, length-prefixed serialisation of every field
 * but the hashes (see audit.c), so no two different records serialise alike.
 * The chain key is derived from the pepper with HKDF (label "iamd audit
 * chain v1"): the pepper lives outside the database, so someone who can only
 * write to the database cannot recompute hashes after changing, removing,
 * reordering or inserting a record. Each append also writes a head
 * checkpoint ("<seq>:<MAC>", MAC under a second derived key) to the meta
 * table, which lets verification notice records cut from the end (see
 * iam_audit_verify for the limit of that).
 *
 * Appends are race-free across threads (a mutex per iam_audit) and across
 * processes sharing a database (the store refuses an insert whose seq is not
 * head + 1; the append re-reads the head and tries again).
 *
 * Records never hold secrets: the callers (api/audit.c) put ids, codes,
 * route templates and addresses in them, never key values, passwords,
 * tokens, cookies or bodies. Appending also cleans every string: bytes
 * outside printable ASCII become '?', and strings are cut at
 * IAM_AUDIT_FIELD_MAX bytes, so a hostile path cannot forge log structure or
 * bloat the table.
 */
#ifndef IAM_IAM_AUDIT_H
#define IAM_IAM_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "store/store_audit.h"

#define IAM_AUDIT_FIELD_MAX 256

/* What a state-changing request does when its audit record cannot be written. */
enum iam_audit_mode {
    IAM_AUDIT_FAIL_CLOSED, /* refuse it (503) before anything changes: the default */
    IAM_AUDIT_BEST_EFFORT, /* log an error and carry on */
};

struct iam_audit;
struct iam_service;

/* "fail-closed" or "best-effort"; IAM_EINVAL otherwise. */
enum iam_result iam_audit_mode_parse(const char *text, enum iam_audit_mode *mode) IAM_MUST_CHECK;

/*
 * A trail over `store` (not owned; it must outlive the trail), keyed from
 * `pepper` (at least 16 bytes; not kept). Free with iam_audit_free.
 */
enum iam_result iam_audit_new(struct iam_store *store, const uint8_t *pepper, size_t pepper_length,
                              enum iam_audit_mode mode, struct iam_audit **out) IAM_MUST_CHECK;

/* Wipes the keys and frees the trail. NULL is allowed. */
void iam_audit_free(struct iam_audit *audit);

/* The store the trail is written to (not owned by the trail's caller through this pointer). */
struct iam_store *iam_audit_store(const struct iam_audit *audit);

enum iam_audit_mode iam_audit_mode_of(const struct iam_audit *audit);

/*
 * Appends `record`: the caller fills every field but seq, prev_hash and hash
 * (time_ms 0 means now, count 0 means 1, window_start_ms 0 means time_ms).
 * Strings are cleaned into copies in `arena` (the record's pointers are
 * replaced), then seq, prev_hash and hash are set and the record stored.
 * IAM_EINVAL for a missing required field; store failures as the store
 * returns them (IAM_ESTORE, IAM_EUNAVAILABLE); IAM_EUNAVAILABLE when other
 * writers kept winning the race for the next seq.
 */
enum iam_result iam_audit_append(struct iam_audit *audit, struct iam_arena *arena,
                                 struct iam_audit_record *record) IAM_MUST_CHECK;

/*
 * Appends records[0..count) (1..IAM_STORE_AUDIT_INSERT_MAX) as consecutive
 * seqs in ONE store transaction: all are stored or none. Each is prepared as
 * iam_audit_append prepares one; a count of 0 means 1 and a window_start_ms
 * of 0 means time_ms. Same results as iam_audit_append.
 */
enum iam_result iam_audit_append_batch(struct iam_audit *audit, struct iam_arena *arena,
                                       struct iam_audit_record *records, size_t count) IAM_MUST_CHECK;

/* The hash `record` must carry, from its fields and prev_hash. */
enum iam_result iam_audit_record_hash(const struct iam_audit *audit, const struct iam_audit_record *record,
                                      uint8_t out[IAM_AUDIT_HASH_SIZE]) IAM_MUST_CHECK;

/* A point of the chain known from outside the database: record `seq` (>= 1) has `hash`. */
struct iam_audit_anchor {
    int64_t seq;
    uint8_t hash[IAM_AUDIT_HASH_SIZE];
};

struct iam_audit_verify_report {
    bool intact;
    int64_t verified;  /* records checked before the first break (all of them when intact) */
    int64_t events;    /* the sum of those records' counts (requests they stand for) */
    int64_t head_seq;  /* the last record checked */
    uint8_t head_hash[IAM_AUDIT_HASH_SIZE];
    int64_t broken_seq; /* when not intact: the first seq found broken (0: no single record, e.g. a lost checkpoint) */
    char reason[200];
};

/*
 * Walks the whole chain from seq 1 and checks that seqs follow each other
 * without gaps, each record links to the previous hash, and each hash is
 * the HMAC of its record. Finds changed, removed (in the middle or at the
 * front), reordered and inserted records: the first seq where the chain
 * breaks is reported. Records cut from the END leave a shorter chain that is
 * intact in itself; that is caught by the head checkpoint (the record it
 * names must exist and match it), and by `anchor` when given (NULL: none).
 * The limit: someone with write access to the database AND an old copy of
 * the checkpoint (a backup) can cut the records written after that copy and
 * put the copy back; only an anchor kept outside the database (the head that
 * `iamd audit verify` prints, saved elsewhere) catches that.
 * Safe while iamd appends: records appended during the walk are checked too.
 * IAM_OK when the walk finished (intact or not; see the report); store
 * failures otherwise.
 */
enum iam_result iam_audit_verify(struct iam_audit *audit, const struct iam_audit_anchor *anchor,
                                 struct iam_audit_verify_report *report) IAM_MUST_CHECK;

/*
 * The API's reads, through the single authorization gate: `who` needs
 * iam-identity.audit.read on the account (query->account_id), else
 * IAM_ENOTFOUND for another account or IAM_EDENIED. The store query is
 * scoped to that account. `err` gets the IBM detail.
 */
enum iam_result iam_audit_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                               const struct iam_audit_query *query, struct iam_audit_record **items, size_t *count,
                               bool *has_more, struct iam_error *err) IAM_MUST_CHECK;

enum iam_result iam_audit_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                              const char *account_id, int64_t seq, struct iam_audit_record *out,
                              struct iam_error *err) IAM_MUST_CHECK;

#endif
