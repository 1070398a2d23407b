/*
 * credential_cache.h: API-key credentials remembered in memory, so the token
 * path reads no database for a key it has seen.
 *
 * An entry is keyed by the key's HMAC (crypto/hash.h, computed by the caller
 * anyway); the key value itself is never seen here. It holds what
 * authentication needs: the key's id, account, identity, disabled flag and
 * expiry, and the identity as a principal when the key was usable.
 *
 * Trust is bound to a stamp taken BEFORE the store was read: the serial of
 * the engine's snapshot (iam_engine_snapshot_serial), which moves when the
 * engine sees the store revision move (every write on any node), and this
 * cache's generation, which
 * iam_credential_cache_invalidate moves at once on a write through this
 * process. A lookup hits only when both are unchanged, so a key disabled or
 * deleted through this process stops at the next lookup, and through another
 * node once the engine has seen the new revision (engine_refresh_ms). Unknown
 * keys are never remembered (no negative caching): a key created anywhere is
 * found in the store on first use.
 *
 * Bounded: a fixed number of slots chosen at creation, direct-mapped by the
 * hash (a collision evicts); entries hold at most IAM_CREDENTIAL_TEXT_MAX bytes
 * of text, larger ones are not cached. Thread-safe with striped locks; the
 * generation is an atomic counter. Whether memory may be served at all while
 * the store is away is the caller's decision (iam_engine_check_current).
 */
#ifndef IAM_IAM_CREDENTIAL_CACHE_H
#define IAM_IAM_CREDENTIAL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "crypto/hash.h"
#include "iam/principal.h"

#define IAM_CREDENTIAL_CACHE_DEFAULT_SLOTS 16384
#define IAM_CREDENTIAL_TEXT_MAX 2048

/* What the store said about one API key. Strings are the caller's (store) or arena memory (lookup). */
struct iam_credential {
    const char *apikey_id;
    const char *account_id;
    const char *iam_id;            /* the key's owner */
    bool disabled;
    int64_t expires_at;            /* seconds since the epoch; 0: never */
    bool has_principal;            /* the owner was found active and `principal` describes it */
    struct iam_principal principal; /* its apikey_id is the key's id */
};

/* The validity tag of an entry: read it before reading the store. */
struct iam_credential_stamp {
    int64_t snapshot;    /* iam_engine_snapshot_serial when the read started */
    uint64_t generation; /* the cache's generation when the read started */
};

struct iam_credential_cache;

/* A cache of `slots` entries (0: the default; rounded to at least 64). Free with iam_credential_cache_free. */
enum iam_result iam_credential_cache_new(size_t slots, struct iam_credential_cache **out) IAM_MUST_CHECK;
void iam_credential_cache_free(struct iam_credential_cache *cache);

/* The stamp to read the store under, for `snapshot` (the engine's current serial). */
struct iam_credential_stamp iam_credential_cache_stamp(struct iam_credential_cache *cache, int64_t snapshot);

/*
 * Finds the credential of `hash` remembered under exactly `stamp` (hashes
 * compared in constant time). On a hit fills `out` with arena copies and
 * returns true; false on a miss, a stale entry, NULL cache or out of memory.
 */
bool iam_credential_cache_lookup(struct iam_credential_cache *cache, struct iam_arena *arena,
                                 const uint8_t hash[IAM_HASH_SIZE], struct iam_credential_stamp stamp,
                                 struct iam_credential *out);

/*
 * Remembers `credential` (copied) for `hash` under `stamp`, replacing what
 * the slot held. Does nothing when the stamp is already out of date (a write
 * happened while the store was read), or the text does not fit.
 */
void iam_credential_cache_store(struct iam_credential_cache *cache, const uint8_t hash[IAM_HASH_SIZE],
                                struct iam_credential_stamp stamp, const struct iam_credential *credential);

/*
 * Forgets every entry (moves the generation): called after a write through
 * this process that can change what a key authenticates as (a key updated,
 * disabled or deleted; an identity changed or removed). O(1). NULL is allowed.
 */
void iam_credential_cache_invalidate(struct iam_credential_cache *cache);

/*
 * The entries a lookup would trust now, those stored under the stamp of
 * `snapshot` (the engine's current serial), for tests and /metrics: takes
 * every slot's lock once. 0 for NULL.
 */
size_t iam_credential_cache_count(struct iam_credential_cache *cache, int64_t snapshot);

/* The number of slots (the most entries it can hold); 0 for NULL. */
size_t iam_credential_cache_capacity(const struct iam_credential_cache *cache);

#endif
