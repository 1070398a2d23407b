/*
 * store.h: the one persistence interface of iamd.
 *
 * The store knows SQL and nothing of HTTP or policy. Every operation is one
 * transaction. Every read or write of an account's object names the account,
 * and the account is part of the query's WHERE clause: another account's
 * object is IAM_ENOTFOUND. The only cross-account lookups are the ones
 * authentication needs (a key by its hash, a user by login).
 *
 * Results: IAM_OK; IAM_ENOTFOUND when the row does not exist (in that
 * account), or when an insert names an account that does not exist;
 * IAM_ECONFLICT on a stale expected entity tag or a unique violation;
 * IAM_EINVAL for a NULL required argument or field, a page out of range, an
 * unknown sort or type; IAM_ESTORE when the database fails (detail logged,
 * not returned); IAM_EUNAVAILABLE when it cannot be reached (PostgreSQL: the
 * server is down, restarting, failing over, or every pooled connection stayed
 * busy): callers answer 503 for both (iam_store_failed).
 *
 * Records read are allocated in the caller's arena. All functions are safe to
 * call from many threads at once (SQLite: one connection per thread).
 * Every write bumps the store revision (iam_store_revision), which caches use
 * to notice changes.
 */
#ifndef IAM_STORE_STORE_H
#define IAM_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "store/records.h"

struct iam_store;

/*
 * Whether a store result means the database failed or could not be reached
 * (a 503 for the client, retry later), rather than an answer about the data.
 * PostgreSQL returns IAM_EUNAVAILABLE while the server cannot be reached.
 */
static inline bool iam_store_failed(enum iam_result result)
{
    return result == IAM_ESTORE || result == IAM_EUNAVAILABLE;
}

/* The largest `limit` of a list query (IBM's page size cap). */
#define IAM_STORE_LIST_LIMIT_MAX 100

/*
 * Opens the store named by `location`: "sqlite:PATH" or a plain path for SQLite
 * (created if missing, WAL mode), or a "postgres://" / "postgresql://" URL
 * (see iam_store_postgres_open in backend.h). Applies pending migrations.
 * `*out` is freed with iam_store_close.
 */
enum iam_result iam_store_open(const char *location, struct iam_store **out, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Closes every connection and frees the store. NULL is allowed. No other
 * thread may be inside a store function, or call one, from now on.
 */
void iam_store_close(struct iam_store *store);

/* The schema version after migrations. */
enum iam_result iam_store_schema_version(struct iam_store *store, int64_t *version) IAM_MUST_CHECK;

/* A counter bumped by every write; equal values mean nothing changed. */
enum iam_result iam_store_revision(struct iam_store *store, int64_t *revision) IAM_MUST_CHECK;

/* --- instance metadata (small key/value facts such as "bootstrapped") --- */
enum iam_result iam_store_meta_get(struct iam_store *store, struct iam_arena *arena, const char *key,
                                   const char **value) IAM_MUST_CHECK;
/* Inserts; IAM_ECONFLICT when the key exists already (a once-only guard). */
enum iam_result iam_store_meta_insert(struct iam_store *store, const char *key, const char *value) IAM_MUST_CHECK;
enum iam_result iam_store_meta_set(struct iam_store *store, const char *key, const char *value) IAM_MUST_CHECK;

/* --- accounts --- */
enum iam_result iam_store_account_insert(struct iam_store *store, const struct iam_account_record *account) IAM_MUST_CHECK;
enum iam_result iam_store_account_get(struct iam_store *store, struct iam_arena *arena, const char *id,
                                      struct iam_account_record *out) IAM_MUST_CHECK;
enum iam_result iam_store_account_count(struct iam_store *store, int64_t *count) IAM_MUST_CHECK;

/* --- users --- */
enum iam_result iam_store_user_insert(struct iam_store *store, const struct iam_user_record *user) IAM_MUST_CHECK;
enum iam_result iam_store_user_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                   const char *iam_id, struct iam_user_record *out) IAM_MUST_CHECK;
enum iam_result iam_store_user_get_by_login(struct iam_store *store, struct iam_arena *arena, const char *login,
                                            struct iam_user_record *out) IAM_MUST_CHECK;

/* --- service IDs --- */

/*
 * Inserts a service ID, and with it its first API key when `apikey` is not NULL,
 * and `history_count` history records, in one transaction.
 */
enum iam_result iam_store_service_id_insert(struct iam_store *store, const struct iam_service_id_record *service_id,
                                            const struct iam_apikey_record *apikey,
                                            const struct iam_history_record *history, size_t history_count) IAM_MUST_CHECK;

enum iam_result iam_store_service_id_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                         const char *id, struct iam_service_id_record *out) IAM_MUST_CHECK;

/* Looks a service ID up by its iam_id within an account. */
enum iam_result iam_store_service_id_get_by_iam_id(struct iam_store *store, struct iam_arena *arena,
                                                   const char *account_id, const char *iam_id,
                                                   struct iam_service_id_record *out) IAM_MUST_CHECK;

/*
 * Lists one page. `*items` is an arena array of `*count` records; `*has_more`
 * tells whether a row exists past this page. `limit` is 1..IAM_STORE_LIST_LIMIT_MAX,
 * `offset` >= 0; the order is the sort column, then id.
 */
enum iam_result iam_store_service_id_list(struct iam_store *store, struct iam_arena *arena,
                                          const struct iam_service_id_query *query,
                                          struct iam_service_id_record **items, size_t *count,
                                          bool *has_more) IAM_MUST_CHECK;

/*
 * Replaces name, description, unique_instance_crns, group_id, locked,
 * entity_tag and modified_at of the row with `updated->id` in
 * `updated->account_id`, only if its entity tag equals `expected_entity_tag`
 * (NULL: any). Appends `history` (optional) in the same transaction.
 */
enum iam_result iam_store_service_id_update(struct iam_store *store, const struct iam_service_id_record *updated,
                                            const char *expected_entity_tag,
                                            const struct iam_history_record *history) IAM_MUST_CHECK;

/* Deletes the service ID, every API key of its iam_id, their history, its group memberships and its policies. */
enum iam_result iam_store_service_id_delete(struct iam_store *store, const char *account_id, const char *id) IAM_MUST_CHECK;

/* --- API keys --- */
enum iam_result iam_store_apikey_insert(struct iam_store *store, const struct iam_apikey_record *apikey,
                                        const struct iam_history_record *history) IAM_MUST_CHECK;
enum iam_result iam_store_apikey_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *id, struct iam_apikey_record *out) IAM_MUST_CHECK;

/* Authentication lookup, across accounts: the key whose hash is `hash`. */
enum iam_result iam_store_apikey_get_by_hash(struct iam_store *store, struct iam_arena *arena,
                                             const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                             struct iam_apikey_record *out) IAM_MUST_CHECK;

/*
 * Audit attribution lookup, across accounts: the key `id` (key ids are unique
 * across accounts). Only for naming the account of a refused key id in the
 * audit trail; never for authentication.
 */
enum iam_result iam_store_apikey_get_by_id(struct iam_store *store, struct iam_arena *arena, const char *id,
                                           struct iam_apikey_record *out) IAM_MUST_CHECK;

enum iam_result iam_store_apikey_list(struct iam_store *store, struct iam_arena *arena,
                                      const struct iam_apikey_query *query, struct iam_apikey_record **items,
                                      size_t *count, bool *has_more) IAM_MUST_CHECK;

/*
 * Replaces name, description, support_sessions, action_when_leaked, expires_at,
 * locked, disabled, entity_tag and modified_at, if the entity tag matches
 * (NULL: any). Appends `history` (optional).
 */
enum iam_result iam_store_apikey_update(struct iam_store *store, const struct iam_apikey_record *updated,
                                        const char *expected_entity_tag,
                                        const struct iam_history_record *history) IAM_MUST_CHECK;

/* Deletes one key and its history. */
enum iam_result iam_store_apikey_delete(struct iam_store *store, const char *account_id, const char *id) IAM_MUST_CHECK;

/*
 * Adds a batch of usage deltas (count >= 0) in one transaction; ids that no
 * longer exist are skipped. Key ids are unique across accounts.
 */
enum iam_result iam_store_apikey_add_usage(struct iam_store *store, const struct iam_apikey_usage *usage,
                                           size_t count) IAM_MUST_CHECK;

/* --- history --- */

/* The newest `limit` records of an entity, oldest first. */
enum iam_result iam_store_history_list(struct iam_store *store, struct iam_arena *arena, const char *entity_id,
                                       size_t limit, struct iam_history_record **items, size_t *count) IAM_MUST_CHECK;

/* --- signing keys (instance-wide) --- */
enum iam_result iam_store_signing_key_insert(struct iam_store *store,
                                             const struct iam_signing_key_record *key) IAM_MUST_CHECK;
/* Every signing key, by activate_at ascending. */
enum iam_result iam_store_signing_key_list(struct iam_store *store, struct iam_arena *arena,
                                           struct iam_signing_key_record **items, size_t *count) IAM_MUST_CHECK;
/* Deletes keys whose expire_at is before `now` (expire_at 0, "never", stays). */
enum iam_result iam_store_signing_key_purge(struct iam_store *store, int64_t now) IAM_MUST_CHECK;

/* --- account identity settings --- */
enum iam_result iam_store_settings_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                       struct iam_settings_record *out) IAM_MUST_CHECK;
/*
 * Inserts or replaces the settings of `settings->account_id` if the current
 * entity tag equals `expected_entity_tag` (NULL: any, including no row yet).
 */
enum iam_result iam_store_settings_put(struct iam_store *store, const struct iam_settings_record *settings,
                                       const char *expected_entity_tag) IAM_MUST_CHECK;

/* --- revoked refresh tokens (by jti, kept until they would have expired) --- */
/* Revoking a jti already revoked is IAM_OK; the later expires_at is kept. */
enum iam_result iam_store_revocation_insert(struct iam_store *store, const char *jti, int64_t expires_at) IAM_MUST_CHECK;
enum iam_result iam_store_revocation_exists(struct iam_store *store, const char *jti, bool *revoked) IAM_MUST_CHECK;
enum iam_result iam_store_revocation_purge(struct iam_store *store, int64_t now) IAM_MUST_CHECK;

/* --- instance-wide named locks (one node at a time does a job) --- */

/*
 * Tries to take the lock `name` without waiting. `*acquired` tells whether it
 * was taken; a name this store holds already is not taken again. Locks are
 * released by iam_store_unlock, by iam_store_close, and when the database
 * loses the holder (PostgreSQL: its session ends). SQLite (one process):
 * always acquired. IAM_EUNAVAILABLE when the database cannot be reached.
 */
enum iam_result iam_store_try_lock(struct iam_store *store, const char *name, bool *acquired) IAM_MUST_CHECK;
/* Releases a lock taken by iam_store_try_lock; IAM_ENOTFOUND when this store does not hold it. */
enum iam_result iam_store_unlock(struct iam_store *store, const char *name) IAM_MUST_CHECK;

#endif
