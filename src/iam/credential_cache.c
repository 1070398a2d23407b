/*
 * credential_cache.c: the API-key credential cache (credential_cache.h).
 *
 * Slots are direct-mapped by the first bytes of the HMAC (uniform: the pepper
 * keeps anyone from aiming keys at one slot) and guarded by one of
 * CACHE_LOCKS mutexes. An entry's text lives in one heap block per slot,
 * allocated and freed outside the locks; a lookup copies it into the arena
 * under the lock, so nothing the caller holds points into the cache.
 */
#include "iam/credential_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_LOCKS 64
#define CACHE_MIN_SLOTS 64

/* The text fields of an entry, in the order they are packed. */
enum credential_field {
    FIELD_APIKEY_ID,
    FIELD_ACCOUNT_ID,
    FIELD_IAM_ID,
    FIELD_SUBJECT_ID,
    FIELD_NAME,
    FIELD_LOGIN,
    FIELD_EMAIL,
    FIELD_GIVEN_NAME,
    FIELD_FAMILY_NAME,
    FIELD_COUNT
};

/* One remembered credential: fixed fields, then FIELD_COUNT NUL-terminated strings. */
struct credential_blob {
    bool disabled;
    bool has_principal;
    enum iam_principal_kind kind;
    int64_t expires_at;
    uint32_t present;  /* bit i: field i is not NULL */
    size_t text_size;  /* bytes of text[] */
    char text[];
};

struct credential_slot {
    uint8_t hash[IAM_HASH_SIZE];
    struct iam_credential_stamp stamp;
    struct credential_blob *blob; /* NULL: empty */
};

struct iam_credential_cache {
    size_t slot_count;
    _Atomic uint64_t generation;
    pthread_mutex_t locks[CACHE_LOCKS];
    struct credential_slot *slots;
};

enum iam_result iam_credential_cache_new(size_t slots, struct iam_credential_cache **out)
{
    *out = NULL;
    if (slots == 0)
        slots = IAM_CREDENTIAL_CACHE_DEFAULT_SLOTS;
    if (slots < CACHE_MIN_SLOTS)
        slots = CACHE_MIN_SLOTS;
    struct iam_credential_cache *cache = calloc(1, sizeof *cache);
    if (!cache)
        return IAM_ENOMEM;
    cache->slots = calloc(slots, sizeof *cache->slots);
    if (!cache->slots) {
        free(cache);
        return IAM_ENOMEM;
    }
    cache->slot_count = slots;
    atomic_init(&cache->generation, 1);
    for (size_t i = 0; i < CACHE_LOCKS; i++) {
        if (pthread_mutex_init(&cache->locks[i], NULL) != 0) {
            while (i-- > 0)
                pthread_mutex_destroy(&cache->locks[i]);
            free(cache->slots);
            free(cache);
            return IAM_ENOMEM;
        }
    }
    *out = cache;
    return IAM_OK;
}

void iam_credential_cache_free(struct iam_credential_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < cache->slot_count; i++)
        free(cache->slots[i].blob);
    for (size_t i = 0; i < CACHE_LOCKS; i++)
        pthread_mutex_destroy(&cache->locks[i]);
    free(cache->slots);
    free(cache);
}

struct iam_credential_stamp iam_credential_cache_stamp(struct iam_credential_cache *cache, int64_t snapshot)
{
    struct iam_credential_stamp stamp = {.snapshot = snapshot, .generation = 0};
    if (cache)
        stamp.generation = atomic_load(&cache->generation);
    return stamp;
}

void iam_credential_cache_invalidate(struct iam_credential_cache *cache)
{
    if (cache)
        atomic_fetch_add(&cache->generation, 1);
}

static size_t slot_of(const struct iam_credential_cache *cache, const uint8_t hash[IAM_HASH_SIZE])
{
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits = bits << 8 | hash[i];
    return (size_t)(bits % cache->slot_count);
}

static pthread_mutex_t *lock_of(struct iam_credential_cache *cache, size_t slot)
{
    return &cache->locks[slot % CACHE_LOCKS];
}

static bool stamp_equal(struct iam_credential_stamp a, struct iam_credential_stamp b)
{
    return a.snapshot == b.snapshot && a.generation == b.generation;
}

/* The fields of `credential` in packing order. */
static void credential_fields(const struct iam_credential *credential, const char *fields[FIELD_COUNT])
{
    const struct iam_principal *who = &credential->principal;
    bool principal = credential->has_principal;
    fields[FIELD_APIKEY_ID] = credential->apikey_id;
    fields[FIELD_ACCOUNT_ID] = credential->account_id;
    fields[FIELD_IAM_ID] = credential->iam_id;
    fields[FIELD_SUBJECT_ID] = principal ? who->subject_id : NULL;
    fields[FIELD_NAME] = principal ? who->name : NULL;
    fields[FIELD_LOGIN] = principal ? who->login : NULL;
    fields[FIELD_EMAIL] = principal ? who->email : NULL;
    fields[FIELD_GIVEN_NAME] = principal ? who->given_name : NULL;
    fields[FIELD_FAMILY_NAME] = principal ? who->family_name : NULL;
}

/* Packs `credential` into a new heap block; NULL when it is incomplete, too large, or out of memory. */
static struct credential_blob *blob_pack(const struct iam_credential *credential)
{
    const char *fields[FIELD_COUNT];
    credential_fields(credential, fields);
    if (!fields[FIELD_APIKEY_ID] || !fields[FIELD_ACCOUNT_ID] || !fields[FIELD_IAM_ID] ||
        (credential->has_principal && !fields[FIELD_SUBJECT_ID]))
        return NULL;
    size_t text_size = 0;
    for (int i = 0; i < FIELD_COUNT; i++) {
        text_size += (fields[i] ? strlen(fields[i]) : 0) + 1;
        if (text_size > IAM_CREDENTIAL_TEXT_MAX)
            return NULL;
    }
    struct credential_blob *blob = malloc(sizeof *blob + text_size);
    if (!blob)
        return NULL;
    blob->disabled = credential->disabled;
    blob->has_principal = credential->has_principal;
    blob->kind = credential->principal.kind;
    blob->expires_at = credential->expires_at;
    blob->present = 0;
    blob->text_size = text_size;
    char *cursor = blob->text;
    for (int i = 0; i < FIELD_COUNT; i++) {
        size_t length = fields[i] ? strlen(fields[i]) : 0;
        if (fields[i]) {
            blob->present |= 1u << i;
            memcpy(cursor, fields[i], length);
        }
        cursor[length] = '\0';
        cursor += length + 1;
    }
    return blob;
}

/* Fills `out` from a blob copied into caller memory (its text stays where it is). */
static void blob_unpack(const struct credential_blob *blob, const char *text, struct iam_credential *out)
{
    const char *fields[FIELD_COUNT];
    for (int i = 0; i < FIELD_COUNT; i++) {
        fields[i] = blob->present & (1u << i) ? text : NULL;
        text += strlen(text) + 1;
    }
    memset(out, 0, sizeof *out);
    out->apikey_id = fields[FIELD_APIKEY_ID];
    out->account_id = fields[FIELD_ACCOUNT_ID];
    out->iam_id = fields[FIELD_IAM_ID];
    out->disabled = blob->disabled;
    out->expires_at = blob->expires_at;
    out->has_principal = blob->has_principal;
    if (!blob->has_principal)
        return;
    struct iam_principal *who = &out->principal;
    who->kind = blob->kind;
    who->iam_id = out->iam_id;
    who->account_id = out->account_id;
    who->apikey_id = out->apikey_id;
    who->subject_id = fields[FIELD_SUBJECT_ID];
    who->name = fields[FIELD_NAME];
    who->login = fields[FIELD_LOGIN];
    who->email = fields[FIELD_EMAIL];
    who->given_name = fields[FIELD_GIVEN_NAME];
    who->family_name = fields[FIELD_FAMILY_NAME];
}

bool iam_credential_cache_lookup(struct iam_credential_cache *cache, struct iam_arena *arena,
                                 const uint8_t hash[IAM_HASH_SIZE], struct iam_credential_stamp stamp,
                                 struct iam_credential *out)
{
    if (!cache || !arena || !hash || !out)
        return false;
    size_t slot = slot_of(cache, hash);
    pthread_mutex_t *lock = lock_of(cache, slot);
    struct credential_blob header;
    char *text = NULL;
    pthread_mutex_lock(lock);
    const struct credential_slot *entry = &cache->slots[slot];
    /* Constant-time compare; a slot is always compared whole whatever it holds. */
    bool hit = iam_bytes_equal(entry->hash, hash, IAM_HASH_SIZE) && entry->blob && stamp_equal(entry->stamp, stamp);
    if (hit) {
        header = *entry->blob;
        text = iam_arena_alloc(arena, header.text_size);
        if (text)
            memcpy(text, entry->blob->text, header.text_size);
        hit = text != NULL;
    }
    pthread_mutex_unlock(lock);
    if (hit)
        blob_unpack(&header, text, out);
    return hit;
}

void iam_credential_cache_store(struct iam_credential_cache *cache, const uint8_t hash[IAM_HASH_SIZE],
                                struct iam_credential_stamp stamp, const struct iam_credential *credential)
{
    if (!cache || !hash || !credential)
        return;
    if (stamp.generation != atomic_load(&cache->generation))
        return; /* a write through this process happened while the store was read */
    struct credential_blob *blob = blob_pack(credential);
    if (!blob)
        return; /* not cacheable: read from the store each time */
    size_t slot = slot_of(cache, hash);
    pthread_mutex_t *lock = lock_of(cache, slot);
    pthread_mutex_lock(lock);
    struct credential_slot *entry = &cache->slots[slot];
    struct credential_blob *replaced = entry->blob;
    memcpy(entry->hash, hash, IAM_HASH_SIZE);
    entry->stamp = stamp;
    entry->blob = blob;
    pthread_mutex_unlock(lock);
    free(replaced);
}

size_t iam_credential_cache_count(struct iam_credential_cache *cache, int64_t snapshot)
{
    if (!cache)
        return 0;
    size_t count = 0;
    struct iam_credential_stamp current = iam_credential_cache_stamp(cache, snapshot);
    for (size_t i = 0; i < cache->slot_count; i++) {
        pthread_mutex_t *lock = lock_of(cache, i);
        pthread_mutex_lock(lock);
        count += cache->slots[i].blob && stamp_equal(cache->slots[i].stamp, current);
        pthread_mutex_unlock(lock);
    }
    return count;
}

size_t iam_credential_cache_capacity(const struct iam_credential_cache *cache)
{
    return cache ? cache->slot_count : 0;
}
