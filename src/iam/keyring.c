/*
 * keyring.c: signing keys in memory, their sealed copies in the store, and
 * the rotation schedule described in keyring.h.
 *
 * Several iamd nodes on one database share the keys: maintenance first reads
 * the keys other nodes created (keyring_sync), and a node creates a key only
 * while it holds the store's "iamd:keyring" lock (iam_store_try_lock, a
 * PostgreSQL advisory lock; always granted on SQLite), after reading the
 * keys once more under it. So one node at a time rotates, a successor is
 * created once, and every node publishes it at its next maintenance, a whole
 * rotation period before any node signs with it.
 */
#include "iam/keyring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "common/log.h"
#include "crypto/hash.h"
#include "crypto/random.h"

#define KEYRING_MAX_KEYS 16

/* The store lock held while a node creates keys. */
#define KEYRING_LOCK "iamd:keyring"

/* With no key that signs yet (a first start), how long to wait for the node that holds the lock. */
#define KEYRING_WAIT_ATTEMPTS 100
#define KEYRING_WAIT_STEP_NS 100000000L

struct keyring_entry {
    struct iam_signing_key *key; /* owned */
    int64_t activate_at;
    int64_t retire_at;
    int64_t expire_at;
};

struct iam_keyring {
    struct iam_store *store;
    uint8_t kek[IAM_AEAD_KEY_SIZE];
    struct iam_keyring_options options;
    pthread_rwlock_t lock;
    struct keyring_entry entries[KEYRING_MAX_KEYS]; /* sorted by activate_at */
    size_t count;
};

static void keyring_aad(const char *kid, char *aad, size_t size)
{
    snprintf(aad, size, "signing-key:%s", kid);
}

static enum iam_result new_kid(int64_t activate_at, char kid[IAM_JWT_KID_MAX])
{
    time_t seconds = (time_t)activate_at;
    struct tm parts;
    if (!gmtime_r(&seconds, &parts))
        return IAM_EINVAL;
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &parts);
    char suffix[9];
    enum iam_result result = iam_random_hex(suffix, 4);
    if (result != IAM_OK)
        return result;
    snprintf(kid, IAM_JWT_KID_MAX, "%s-%s", stamp, suffix);
    return IAM_OK;
}

/* Inserts an entry keeping activate_at order. Caller holds the write lock (or owns the keyring alone). */
static enum iam_result keyring_add(struct iam_keyring *keyring, struct keyring_entry entry)
{
    if (keyring->count == KEYRING_MAX_KEYS)
        return IAM_ETOOBIG;
    size_t position = keyring->count;
    while (position > 0 && keyring->entries[position - 1].activate_at > entry.activate_at) {
        keyring->entries[position] = keyring->entries[position - 1];
        position--;
    }
    keyring->entries[position] = entry;
    keyring->count++;
    return IAM_OK;
}

/* Generates a key, seals and stores it. `*entry` owns the new key on success. */
static enum iam_result create_key(struct iam_keyring *keyring, int64_t now, int64_t activate_at,
                                  struct keyring_entry *entry)
{
    char kid[IAM_JWT_KID_MAX];
    struct iam_signing_key *key = NULL;
    char *pem = NULL;
    size_t pem_length = 0;
    uint8_t *sealed = NULL;
    char *jwk_text = NULL;
    enum iam_result result = new_kid(activate_at, kid);
    if (result != IAM_OK)
        goto out;
    result = iam_signing_key_generate(keyring->options.alg, kid, &key);
    if (result != IAM_OK)
        goto out;
    result = iam_signing_key_private_pem(key, &pem, &pem_length);
    if (result != IAM_OK)
        goto out;
    sealed = malloc(pem_length + IAM_AEAD_OVERHEAD);
    if (!sealed) {
        result = IAM_ENOMEM;
        goto out;
    }
    char aad[IAM_JWT_KID_MAX + 16];
    keyring_aad(kid, aad, sizeof aad);
    result = iam_aead_seal(keyring->kek, aad, strlen(aad), pem, pem_length, sealed);
    if (result != IAM_OK)
        goto out;
    json_t *jwk = iam_signing_key_public_jwk(key);
    jwk_text = jwk ? json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(jwk);
    if (!jwk_text) {
        result = IAM_ENOMEM;
        goto out;
    }
    struct iam_signing_key_record record = {
        .kid = kid,
        .alg = iam_jwt_alg_name(keyring->options.alg),
        .public_jwk = jwk_text,
        .sealed_private = sealed,
        .sealed_private_length = pem_length + IAM_AEAD_OVERHEAD,
        .created_at = now,
        .activate_at = activate_at,
        .retire_at = activate_at + keyring->options.rotation,
        .expire_at = activate_at + keyring->options.rotation + keyring->options.retention,
    };
    result = iam_store_signing_key_insert(keyring->store, &record);
    if (result != IAM_OK)
        goto out;
    entry->key = key;
    entry->activate_at = record.activate_at;
    entry->retire_at = record.retire_at;
    entry->expire_at = record.expire_at;
    key = NULL;
    iam_log(IAM_LOG_INFO, "signing_key_created", "kid=%s alg=%s activate_at=%lld", kid, record.alg,
            (long long)activate_at);
out:
    if (pem) {
        iam_wipe(pem, pem_length);
        free(pem);
    }
    free(sealed);
    free(jwk_text);
    iam_signing_key_free(key);
    return result;
}

static enum iam_result load_key(struct iam_keyring *keyring, const struct iam_signing_key_record *record,
                                struct keyring_entry *entry)
{
    enum iam_jwt_alg alg;
    enum iam_result result = iam_jwt_alg_parse(record->alg, &alg);
    if (result != IAM_OK)
        return result;
    if (record->sealed_private_length <= IAM_AEAD_OVERHEAD)
        return IAM_ECRYPTO;
    size_t pem_length = record->sealed_private_length - IAM_AEAD_OVERHEAD;
    char *pem = malloc(pem_length + 1);
    if (!pem)
        return IAM_ENOMEM;
    char aad[IAM_JWT_KID_MAX + 16];
    keyring_aad(record->kid, aad, sizeof aad);
    result = iam_aead_open(keyring->kek, aad, strlen(aad), record->sealed_private, record->sealed_private_length,
                           (uint8_t *)pem);
    if (result == IAM_OK) {
        pem[pem_length] = '\0';
        result = iam_signing_key_from_pem(alg, record->kid, pem, pem_length, &entry->key);
    }
    iam_wipe(pem, pem_length + 1);
    free(pem);
    if (result != IAM_OK)
        return result;
    entry->activate_at = record->activate_at;
    entry->retire_at = record->retire_at;
    entry->expire_at = record->expire_at;
    return IAM_OK;
}

/* Whether a key of this kid is loaded. Caller holds a lock. */
static bool keyring_has(const struct iam_keyring *keyring, const char *kid)
{
    for (size_t i = 0; i < keyring->count; i++)
        if (strcmp(iam_signing_key_kid(keyring->entries[i].key), kid) == 0)
            return true;
    return false;
}

/*
 * Loads the keys in the store that are not in memory yet: those other nodes
 * created since this one last looked. A key that cannot be unsealed (a node
 * with another KEK) is logged and skipped, not fatal here.
 */
static enum iam_result keyring_sync(struct iam_keyring *keyring, int64_t now)
{
    struct iam_arena *arena = iam_arena_new();
    if (!arena)
        return IAM_ENOMEM;
    struct iam_signing_key_record *records = NULL;
    size_t count = 0;
    enum iam_result result = iam_store_signing_key_list(keyring->store, arena, &records, &count);
    for (size_t i = 0; result == IAM_OK && i < count; i++) {
        if (records[i].expire_at <= now)
            continue;
        pthread_rwlock_rdlock(&keyring->lock);
        bool known = keyring_has(keyring, records[i].kid);
        pthread_rwlock_unlock(&keyring->lock);
        if (known)
            continue;
        struct keyring_entry entry = {0};
        enum iam_result loaded = load_key(keyring, &records[i], &entry); /* slow: unlocked */
        if (loaded != IAM_OK) {
            iam_log(IAM_LOG_ERROR, "signing_key_load_failed", "kid=%s: %s (is the KEK the same on every node?)",
                    records[i].kid, iam_strerror(loaded));
            continue;
        }
        pthread_rwlock_wrlock(&keyring->lock);
        enum iam_result added = keyring_has(keyring, records[i].kid) ? IAM_ECONFLICT : keyring_add(keyring, entry);
        pthread_rwlock_unlock(&keyring->lock);
        if (added != IAM_OK)
            iam_signing_key_free(entry.key);
        else
            iam_log(IAM_LOG_INFO, "signing_key_loaded", "kid=%s activate_at=%lld", records[i].kid,
                    (long long)records[i].activate_at);
    }
    iam_arena_free(arena);
    return result;
}

/* Index of the signing key at `now`: the newest already active; -1 if none. Caller holds a lock. */
static int active_index(const struct iam_keyring *keyring, int64_t now)
{
    for (int i = (int)keyring->count - 1; i >= 0; i--)
        if (keyring->entries[i].activate_at <= now)
            return i;
    return -1;
}

/* What maintenance must create: 0 nothing, 1 an active key now, 2 a successor at `*activate_at`. */
static int maintenance_due(const struct iam_keyring *keyring, int64_t now, int64_t *activate_at)
{
    int active = active_index(keyring, now);
    if (active < 0 || keyring->entries[active].retire_at <= now) {
        *activate_at = now;
        return 1;
    }
    if ((size_t)active == keyring->count - 1) {
        *activate_at = keyring->entries[active].retire_at;
        return 2;
    }
    return 0;
}

static void forget_expired(struct iam_keyring *keyring, int64_t now)
{
    int active = active_index(keyring, now);
    size_t kept = 0;
    for (size_t i = 0; i < keyring->count; i++) {
        if ((int)i != active && keyring->entries[i].expire_at <= now) {
            iam_signing_key_free(keyring->entries[i].key);
            continue;
        }
        keyring->entries[kept++] = keyring->entries[i];
    }
    keyring->count = kept;
}

static int due_now(struct iam_keyring *keyring, int64_t now, int64_t *activate_at)
{
    pthread_rwlock_rdlock(&keyring->lock);
    int due = maintenance_due(keyring, now, activate_at);
    pthread_rwlock_unlock(&keyring->lock);
    return due;
}

/*
 * Takes the store's keyring lock. `*locked` false with IAM_OK: another node
 * holds it and will create the key; when no key signs here yet, waits for
 * that key (up to KEYRING_WAIT_ATTEMPTS steps) instead of returning without one.
 */
static enum iam_result lock_keyring(struct iam_keyring *keyring, int64_t now, bool *locked)
{
    for (int attempt = 0;; attempt++) {
        enum iam_result result = iam_store_try_lock(keyring->store, KEYRING_LOCK, locked);
        if (result != IAM_OK || *locked)
            return result;
        result = keyring_sync(keyring, now);
        if (result != IAM_OK)
            return result;
        int64_t ignored = 0;
        if (due_now(keyring, now, &ignored) != 1)
            return IAM_OK; /* a key signs: the other node's new key arrives with a later sync */
        if (attempt >= KEYRING_WAIT_ATTEMPTS)
            return IAM_EUNAVAILABLE;
        struct timespec step = {.tv_sec = 0, .tv_nsec = KEYRING_WAIT_STEP_NS};
        nanosleep(&step, NULL);
    }
}

enum iam_result iam_keyring_maintain(struct iam_keyring *keyring, int64_t now)
{
    enum iam_result result = keyring_sync(keyring, now);
    if (result != IAM_OK)
        return result;
    int64_t activate_at = 0;
    pthread_rwlock_rdlock(&keyring->lock);
    int due = maintenance_due(keyring, now, &activate_at);
    bool has_expired = false;
    for (size_t i = 0; i < keyring->count; i++)
        if (keyring->entries[i].expire_at <= now)
            has_expired = true;
    pthread_rwlock_unlock(&keyring->lock);
    if (!due && !has_expired)
        return IAM_OK;

    struct keyring_entry created = {0};
    bool locked = false;
    if (due) {
        result = lock_keyring(keyring, now, &locked);
        if (result != IAM_OK) {
            iam_log(IAM_LOG_ERROR, "signing_key_rotation_failed", "keyring lock: %s", iam_strerror(result));
            return result;
        }
        /* Under the lock, what other nodes created before it is in the store: read it, decide again. */
        if (locked)
            result = keyring_sync(keyring, now);
        due = locked && result == IAM_OK ? due_now(keyring, now, &activate_at) : 0;
        /* Generation is slow (RSA): done without holding the keyring's own lock. */
        if (due)
            result = create_key(keyring, now, activate_at, &created);
        if (locked && iam_store_unlock(keyring->store, KEYRING_LOCK) != IAM_OK)
            iam_log(IAM_LOG_WARN, "signing_key_rotation", "the keyring lock was already released");
        if (result != IAM_OK) {
            iam_log(IAM_LOG_ERROR, "signing_key_rotation_failed", "%s", iam_strerror(result));
            return result;
        }
    }
    pthread_rwlock_wrlock(&keyring->lock);
    if (created.key) {
        int64_t again = 0;
        if (maintenance_due(keyring, now, &again) == due && again == activate_at)
            result = keyring_add(keyring, created);
        else
            result = IAM_ECONFLICT; /* another maintainer got there first */
        if (result != IAM_OK)
            iam_signing_key_free(created.key);
        if (result == IAM_ECONFLICT)
            result = IAM_OK;
    }
    forget_expired(keyring, now);
    pthread_rwlock_unlock(&keyring->lock);
    if (result == IAM_OK && has_expired) {
        result = iam_store_signing_key_purge(keyring->store, now);
    }
    /* A newly active key needs its successor straight away. */
    if (result == IAM_OK && due == 1)
        return iam_keyring_maintain(keyring, now);
    return result;
}

enum iam_result iam_keyring_open(struct iam_store *store, const uint8_t kek[IAM_AEAD_KEY_SIZE],
                                 const struct iam_keyring_options *options, int64_t now, struct iam_keyring **out,
                                 struct iam_error *err)
{
    *out = NULL;
    if (options->rotation <= 0 || options->retention <= 0)
        return iam_error_set(err, IAM_EINVAL, "", "Key rotation and retention must be positive.");
    struct iam_keyring *keyring = calloc(1, sizeof *keyring);
    struct iam_arena *arena = iam_arena_new();
    if (!keyring || !arena) {
        free(keyring);
        iam_arena_free(arena);
        return iam_error_set(err, IAM_ENOMEM, "", "Out of memory.");
    }
    keyring->store = store;
    memcpy(keyring->kek, kek, IAM_AEAD_KEY_SIZE);
    keyring->options = *options;
    pthread_rwlockattr_t attributes;
    pthread_rwlockattr_init(&attributes);
    pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&keyring->lock, &attributes);
    pthread_rwlockattr_destroy(&attributes);

    struct iam_signing_key_record *records = NULL;
    size_t count = 0;
    enum iam_result result = iam_store_signing_key_list(store, arena, &records, &count);
    if (result != IAM_OK) {
        iam_error_set(err, result, "", "Cannot read the signing keys from the database.");
        goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        if (records[i].expire_at <= now)
            continue;
        struct keyring_entry entry = {0};
        result = load_key(keyring, &records[i], &entry);
        if (result != IAM_OK) {
            iam_error_set(err, result, "",
                          "Cannot unseal signing key %s: is the key-encryption key the one it was sealed with?",
                          records[i].kid);
            goto fail;
        }
        if (keyring_add(keyring, entry) != IAM_OK) {
            iam_signing_key_free(entry.key);
            break; /* more keys than we keep: the newest-by-activation already loaded suffice */
        }
    }
    result = iam_keyring_maintain(keyring, now);
    if (result != IAM_OK) {
        iam_error_set(err, result, "", "Cannot create a signing key: %s.", iam_strerror(result));
        goto fail;
    }
    iam_arena_free(arena);
    *out = keyring;
    return IAM_OK;
fail:
    iam_arena_free(arena);
    iam_keyring_free(keyring);
    return err && err->result != IAM_OK ? err->result : result;
}

void iam_keyring_free(struct iam_keyring *keyring)
{
    if (!keyring)
        return;
    for (size_t i = 0; i < keyring->count; i++)
        iam_signing_key_free(keyring->entries[i].key);
    pthread_rwlock_destroy(&keyring->lock);
    iam_wipe(keyring->kek, sizeof keyring->kek);
    free(keyring);
}

enum iam_result iam_keyring_sign(struct iam_keyring *keyring, const json_t *claims, int64_t now, char **token)
{
    pthread_rwlock_rdlock(&keyring->lock);
    int active = active_index(keyring, now);
    enum iam_result result = active < 0 ? IAM_EUNAVAILABLE
                                        : iam_jwt_sign(keyring->entries[active].key, claims, token);
    pthread_rwlock_unlock(&keyring->lock);
    return result;
}

enum iam_result iam_keyring_verify(struct iam_keyring *keyring, const char *token,
                                   const struct iam_jwt_verify_options *options, json_t **claims, const char **reason)
{
    const struct iam_signing_key *keys[KEYRING_MAX_KEYS];
    pthread_rwlock_rdlock(&keyring->lock);
    size_t count = 0;
    for (size_t i = 0; i < keyring->count; i++)
        if (keyring->entries[i].expire_at > options->now)
            keys[count++] = keyring->entries[i].key;
    enum iam_result result = iam_jwt_verify(keys, count, token, options, claims, reason);
    pthread_rwlock_unlock(&keyring->lock);
    return result;
}

json_t *iam_keyring_jwks(struct iam_keyring *keyring, int64_t now)
{
    json_t *keys = json_array();
    if (!keys)
        return NULL;
    pthread_rwlock_rdlock(&keyring->lock);
    /* Newest first: the next key, then the active one, then retired ones. */
    for (size_t i = keyring->count; i > 0; i--) {
        const struct keyring_entry *entry = &keyring->entries[i - 1];
        if (entry->expire_at <= now)
            continue;
        json_t *jwk = iam_signing_key_public_jwk(entry->key);
        if (jwk)
            json_array_append_new(keys, jwk);
    }
    pthread_rwlock_unlock(&keyring->lock);
    return json_pack("{s:o}", "keys", keys);
}

bool iam_keyring_can_sign(struct iam_keyring *keyring, int64_t now)
{
    if (!keyring)
        return false;
    pthread_rwlock_rdlock(&keyring->lock);
    bool can_sign = active_index(keyring, now) >= 0;
    pthread_rwlock_unlock(&keyring->lock);
    return can_sign;
}
