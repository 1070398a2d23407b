/*
 * audit_batch.c: the in-memory table of audit events waiting to be written
 * as aggregate records, and its flush (see audit_batch.h).
 *
 * An event's key is a serialisation of its status and identifying strings
 * (a tag byte per field: 0 for NULL, else 1, the bytes and a NUL, so no two
 * different events serialise alike), hashed with SipHash under a random key
 * drawn at start: the fields include client addresses and key ids chosen by
 * clients, who must not be able to pile their keys into one bucket. The
 * table is split into stripes, each with its own lock and buckets, so
 * concurrent token requests rarely wait for each other; the number of keys
 * is an atomic counter shared by the stripes. An add costs one serialisation
 * (a few hundred bytes), one SipHash, one lock and, for a new key, one
 * allocation. A flush takes every entry out stripe by stripe, writes them,
 * and gives back what could not be written (merging with what was counted
 * meanwhile).
 */
#include "iam/audit_batch.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/time.h"
#include "iam/audit.h"
#include "store/store.h"

#define STRIPES 16
#define STRIPE_BUCKETS 256
#define REQUEST_ID_MAX 64

/* The identifying strings of an event. Those before FIELDS_KEPT_IN_OVERFLOW make an overflow key. */
enum field {
    FIELD_ACTION,
    FIELD_METHOD,
    FIELD_ROUTE,
    FIELD_MECHANISM,
    FIELD_OUTCOME,
    FIELD_ERROR_CODE,
    FIELD_MESSAGE_CODE,
    FIELD_ACTOR_IAM_ID,
    FIELD_ACTOR_ACCOUNT_ID,
    FIELD_ACTOR_APIKEY_ID,
    FIELD_CLIENT_ADDRESS,
    FIELD_ACCOUNT_ID,
    FIELD_TARGET_TYPE,
    FIELD_TARGET_ID,
    FIELD_COUNT
};
#define FIELDS_KEPT_IN_OVERFLOW FIELD_ACTOR_IAM_ID

/* 8 bytes of status, then per field a tag, up to IAM_AUDIT_FIELD_MAX bytes and a NUL. */
#define KEY_MAX (8 + FIELD_COUNT * (IAM_AUDIT_FIELD_MAX + 2))

struct key {
    size_t length;
    unsigned char bytes[KEY_MAX];
};

struct entry {
    struct entry *next;
    uint64_t hash;
    bool overflow; /* counted against the overflow allowance */
    int64_t status;
    int64_t count;
    int64_t first_ms;
    int64_t last_ms;
    char request_id[REQUEST_ID_MAX]; /* of the first event */
    const char *fields[FIELD_COUNT]; /* into key; NULL for a NULL field */
    size_t key_length;
    unsigned char key[]; /* the serialisation, NUL-terminated strings inside */
};

struct stripe {
    pthread_mutex_t lock; /* guards buckets */
    struct entry *buckets[STRIPE_BUCKETS];
};

struct iam_audit_batch {
    struct iam_audit *audit;
    size_t capacity;
    size_t overflow;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    atomic_size_t keys;          /* ordinary keys in the table */
    atomic_size_t overflow_keys; /* overflow keys in the table */
    atomic_uint_fast64_t overflowed;
    atomic_uint_fast64_t dropped;
    atomic_uint_fast64_t dropped_unlogged; /* drops the next flush logs */
    pthread_mutex_t flush_lock;            /* one flush at a time; guards failing and failed_flushes */
    bool failing;
    uint64_t failed_flushes;
    struct stripe stripes[STRIPES];
};

enum iam_result iam_audit_batch_new(struct iam_audit *audit, const struct iam_audit_batch_options *options,
                                    struct iam_audit_batch **out)
{
    if (!out)
        return IAM_EINVAL;
    *out = NULL;
    if (!audit)
        return IAM_EINVAL;
    struct iam_audit_batch *batch = calloc(1, sizeof *batch);
    if (!batch)
        return IAM_ENOMEM;
    batch->audit = audit;
    batch->capacity = options && options->capacity ? options->capacity : IAM_AUDIT_BATCH_DEFAULT_CAPACITY;
    batch->overflow = options && options->overflow ? options->overflow : IAM_AUDIT_BATCH_DEFAULT_OVERFLOW;
    crypto_shorthash_keygen(batch->hash_key);
    atomic_init(&batch->keys, 0);
    atomic_init(&batch->overflow_keys, 0);
    atomic_init(&batch->overflowed, 0);
    atomic_init(&batch->dropped, 0);
    atomic_init(&batch->dropped_unlogged, 0);
    pthread_mutex_init(&batch->flush_lock, NULL);
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&batch->stripes[i].lock, NULL);
    *out = batch;
    return IAM_OK;
}

/* --- keys --- */

static void event_fields(const struct iam_audit_record *event, const char *fields[FIELD_COUNT])
{
    fields[FIELD_ACTION] = event->action;
    fields[FIELD_METHOD] = event->method;
    fields[FIELD_ROUTE] = event->route;
    fields[FIELD_MECHANISM] = event->mechanism;
    fields[FIELD_OUTCOME] = event->outcome;
    fields[FIELD_ERROR_CODE] = event->error_code;
    fields[FIELD_MESSAGE_CODE] = event->message_code;
    fields[FIELD_ACTOR_IAM_ID] = event->actor_iam_id;
    fields[FIELD_ACTOR_ACCOUNT_ID] = event->actor_account_id;
    fields[FIELD_ACTOR_APIKEY_ID] = event->actor_apikey_id;
    fields[FIELD_CLIENT_ADDRESS] = event->client_address;
    fields[FIELD_ACCOUNT_ID] = event->account_id;
    fields[FIELD_TARGET_TYPE] = event->target_type;
    fields[FIELD_TARGET_ID] = event->target_id;
}

/* The key of `fields` and `status`, keeping the first `kept` fields (the others count as NULL). */
static void key_build(const char *const fields[FIELD_COUNT], int64_t status, size_t kept, struct key *key)
{
    uint64_t bits = (uint64_t)status;
    for (int i = 7; i >= 0; i--) {
        key->bytes[i] = (unsigned char)(bits & 0xff);
        bits >>= 8;
    }
    size_t length = 8;
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (i >= kept || !fields[i]) {
            key->bytes[length++] = 0;
            continue;
        }
        size_t size = strnlen(fields[i], IAM_AUDIT_FIELD_MAX);
        key->bytes[length++] = 1;
        memcpy(key->bytes + length, fields[i], size);
        length += size;
        key->bytes[length++] = '\0';
    }
    key->length = length;
}

static uint64_t key_hash(const struct iam_audit_batch *batch, const unsigned char *bytes, size_t length)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, bytes, length, batch->hash_key);
    uint64_t hash;
    memcpy(&hash, out, sizeof hash);
    return hash;
}

static struct stripe *stripe_of(struct iam_audit_batch *batch, uint64_t hash)
{
    return &batch->stripes[hash % STRIPES];
}

static struct entry **bucket_of(struct stripe *stripe, uint64_t hash)
{
    return &stripe->buckets[(hash / STRIPES) % STRIPE_BUCKETS];
}

/* The entry with this key in its bucket, or NULL. Called with the stripe's lock held. */
static struct entry *entry_find(struct entry *entry, uint64_t hash, const unsigned char *bytes, size_t length)
{
    for (; entry; entry = entry->next)
        if (entry->hash == hash && entry->key_length == length && memcmp(entry->key, bytes, length) == 0)
            return entry;
    return NULL;
}

static void copy_request_id(char out[REQUEST_ID_MAX], const char *request_id)
{
    size_t length = request_id ? strnlen(request_id, REQUEST_ID_MAX - 1) : 0;
    memcpy(out, request_id ? request_id : "", length);
    out[length] = '\0';
}

static struct entry *entry_new(const struct key *key, uint64_t hash, int64_t status, bool overflow)
{
    struct entry *entry = malloc(sizeof *entry + key->length);
    if (!entry)
        return NULL;
    memset(entry, 0, sizeof *entry);
    entry->hash = hash;
    entry->overflow = overflow;
    entry->status = status;
    entry->key_length = key->length;
    memcpy(entry->key, key->bytes, key->length);
    size_t position = 8;
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (entry->key[position++] == 0)
            continue;
        entry->fields[i] = (const char *)entry->key + position;
        position += strlen(entry->fields[i]) + 1;
    }
    return entry;
}

/* Takes one of `limit` places on `counter`; false when all are taken. */
static bool reserve(atomic_size_t *counter, size_t limit)
{
    size_t now = atomic_load(counter);
    do {
        if (now >= limit)
            return false;
    } while (!atomic_compare_exchange_weak(counter, &now, now + 1));
    return true;
}

/* Adds one event at `when` to the entry of `key`, creating it if a place is left; false if none is. */
static bool count_into(struct iam_audit_batch *batch, const struct key *key, int64_t status, bool overflow,
                       const char *request_id, int64_t when)
{
    uint64_t hash = key_hash(batch, key->bytes, key->length);
    struct stripe *stripe = stripe_of(batch, hash);
    struct entry **bucket = bucket_of(stripe, hash);
    atomic_size_t *counter = overflow ? &batch->overflow_keys : &batch->keys;
    pthread_mutex_lock(&stripe->lock);
    struct entry *entry = entry_find(*bucket, hash, key->bytes, key->length);
    if (!entry) {
        if (!reserve(counter, overflow ? batch->overflow : batch->capacity)) {
            pthread_mutex_unlock(&stripe->lock);
            return false;
        }
        entry = entry_new(key, hash, status, overflow);
        if (!entry) {
            atomic_fetch_sub(counter, 1);
            pthread_mutex_unlock(&stripe->lock);
            return false;
        }
        entry->first_ms = entry->last_ms = when;
        copy_request_id(entry->request_id, request_id);
        entry->next = *bucket;
        *bucket = entry;
    }
    entry->count++;
    if (when < entry->first_ms) {
        entry->first_ms = when;
        copy_request_id(entry->request_id, request_id);
    }
    if (when > entry->last_ms)
        entry->last_ms = when;
    pthread_mutex_unlock(&stripe->lock);
    return true;
}

void iam_audit_batch_add(struct iam_audit_batch *batch, const struct iam_audit_record *event)
{
    if (!batch)
        return;
    if (!event || !event->action || !event->method || !event->route || !event->outcome ||
        (strcmp(event->outcome, "success") != 0 && strcmp(event->outcome, "failure") != 0)) {
        atomic_fetch_add(&batch->dropped, 1);
        atomic_fetch_add(&batch->dropped_unlogged, 1);
        return;
    }
    int64_t when = event->time_ms > 0 ? event->time_ms : iam_now_ms();
    const char *fields[FIELD_COUNT];
    event_fields(event, fields);
    struct key key;
    key_build(fields, event->status, FIELD_COUNT, &key);
    if (count_into(batch, &key, event->status, false, event->request_id, when))
        return;
    /* Full: keep counting, without the details that make keys numerous. */
    key_build(fields, event->status, FIELDS_KEPT_IN_OVERFLOW, &key);
    if (count_into(batch, &key, event->status, true, event->request_id, when)) {
        atomic_fetch_add(&batch->overflowed, 1);
        return;
    }
    atomic_fetch_add(&batch->dropped, 1);
    atomic_fetch_add(&batch->dropped_unlogged, 1);
}

/* --- flush --- */

/* Moves every entry out of the table into a list the caller owns; `*count` gets their number. */
static struct entry *take_all(struct iam_audit_batch *batch, size_t *count)
{
    struct entry *all = NULL;
    size_t ordinary = 0, overflow = 0;
    for (size_t s = 0; s < STRIPES; s++) {
        struct stripe *stripe = &batch->stripes[s];
        pthread_mutex_lock(&stripe->lock);
        for (size_t b = 0; b < STRIPE_BUCKETS; b++) {
            struct entry *entry = stripe->buckets[b];
            while (entry) {
                struct entry *next = entry->next;
                entry->next = all;
                all = entry;
                if (entry->overflow)
                    overflow++;
                else
                    ordinary++;
                entry = next;
            }
            stripe->buckets[b] = NULL;
        }
        pthread_mutex_unlock(&stripe->lock);
    }
    atomic_fetch_sub(&batch->keys, ordinary);
    atomic_fetch_sub(&batch->overflow_keys, overflow);
    *count = ordinary + overflow;
    return all;
}

/* Puts entries back after a failed write, adding them to what was counted meanwhile. */
static void give_back(struct iam_audit_batch *batch, struct entry *list)
{
    while (list) {
        struct entry *next = list->next;
        struct stripe *stripe = stripe_of(batch, list->hash);
        struct entry **bucket = bucket_of(stripe, list->hash);
        pthread_mutex_lock(&stripe->lock);
        struct entry *entry = entry_find(*bucket, list->hash, list->key, list->key_length);
        if (entry) {
            entry->count += list->count;
            if (list->first_ms <= entry->first_ms) {
                entry->first_ms = list->first_ms;
                memcpy(entry->request_id, list->request_id, REQUEST_ID_MAX);
            }
            if (list->last_ms > entry->last_ms)
                entry->last_ms = list->last_ms;
            free(list);
        } else {
            /* Already counted against the limits before the flush took it: it may go over them. */
            atomic_fetch_add(list->overflow ? &batch->overflow_keys : &batch->keys, 1);
            list->next = *bucket;
            *bucket = list;
        }
        pthread_mutex_unlock(&stripe->lock);
        list = next;
    }
}

static void free_list(struct entry *list)
{
    while (list) {
        struct entry *next = list->next;
        free(list);
        list = next;
    }
}

static int64_t events_in(const struct entry *list)
{
    int64_t events = 0;
    for (; list; list = list->next)
        events += list->count;
    return events;
}

static int by_first_time(const void *left, const void *right)
{
    const struct entry *a = *(struct entry *const *)left, *b = *(struct entry *const *)right;
    return a->first_ms < b->first_ms ? -1 : a->first_ms > b->first_ms ? 1 : 0;
}

/*
 * A failure naming only a key id (a wrong secret for a key that exists) is
 * attributed to that key's account, so the account sees the failed attempts
 * against its key: one lookup per aggregate record, at flush time, never on
 * the token path. An id that names no key stays without an account.
 */
static void attribute_refused_key(struct iam_audit_batch *batch, struct iam_arena *arena,
                                  struct iam_audit_record *record)
{
    if (record->account_id || !record->target_id || !record->target_type ||
        strcmp(record->target_type, "apikey") != 0 || !record->outcome || strcmp(record->outcome, "failure") != 0)
        return;
    struct iam_store *store = iam_audit_store(batch->audit);
    struct iam_apikey_record key;
    if (store && iam_store_apikey_get_by_id(store, arena, record->target_id, &key) == IAM_OK)
        record->account_id = key.account_id;
}

/* Appends the aggregate records of `entries[0..count)` in one store transaction. */
static enum iam_result write_records(struct iam_audit_batch *batch, struct entry **entries, size_t count)
{
    struct iam_arena *arena = iam_arena_new();
    struct iam_audit_record *records = arena ? iam_arena_alloc(arena, count * sizeof *records) : NULL;
    if (!records) {
        iam_arena_free(arena);
        return IAM_ENOMEM;
    }
    qsort(entries, count, sizeof *entries, by_first_time);
    for (size_t i = 0; i < count; i++) {
        const struct entry *entry = entries[i];
        struct iam_audit_record *record = &records[i];
        memset(record, 0, sizeof *record);
        record->request_id = entry->request_id[0] ? entry->request_id : "-";
        record->phase = "aggregate";
        record->action = entry->fields[FIELD_ACTION];
        record->method = entry->fields[FIELD_METHOD];
        record->route = entry->fields[FIELD_ROUTE];
        record->mechanism = entry->fields[FIELD_MECHANISM];
        record->outcome = entry->fields[FIELD_OUTCOME];
        record->error_code = entry->fields[FIELD_ERROR_CODE];
        record->message_code = entry->fields[FIELD_MESSAGE_CODE];
        record->actor_iam_id = entry->fields[FIELD_ACTOR_IAM_ID];
        record->actor_account_id = entry->fields[FIELD_ACTOR_ACCOUNT_ID];
        record->actor_apikey_id = entry->fields[FIELD_ACTOR_APIKEY_ID];
        record->client_address = entry->fields[FIELD_CLIENT_ADDRESS];
        record->account_id = entry->fields[FIELD_ACCOUNT_ID];
        record->target_type = entry->fields[FIELD_TARGET_TYPE];
        record->target_id = entry->fields[FIELD_TARGET_ID];
        record->status = entry->status;
        record->count = entry->count;
        record->window_start_ms = entry->first_ms;
        record->time_ms = entry->last_ms;
        attribute_refused_key(batch, arena, record);
    }
    enum iam_result result = iam_audit_append_batch(batch->audit, arena, records, count);
    iam_arena_free(arena);
    return result;
}

enum iam_result iam_audit_batch_flush(struct iam_audit_batch *batch)
{
    if (!batch)
        return IAM_OK;
    pthread_mutex_lock(&batch->flush_lock);
    uint64_t dropped = atomic_exchange(&batch->dropped_unlogged, 0);
    if (dropped > 0)
        iam_log(IAM_LOG_WARN, "audit_batch_dropped",
                "%llu token or authentication events were not recorded: more than %zu distinct events waited "
                "to be written",
                (unsigned long long)dropped, batch->capacity + batch->overflow);
    size_t count = 0;
    struct entry *list = take_all(batch, &count);
    enum iam_result result = IAM_OK;
    struct entry *chunk[IAM_STORE_AUDIT_INSERT_MAX];
    while (list && result == IAM_OK) {
        size_t size = 0;
        while (list && size < IAM_STORE_AUDIT_INSERT_MAX) {
            chunk[size++] = list;
            list = list->next;
        }
        result = write_records(batch, chunk, size);
        for (size_t i = 0; i < size; i++) {
            if (result == IAM_OK) {
                free(chunk[i]);
            } else {
                chunk[i]->next = list; /* back on the list, given back below */
                list = chunk[i];
            }
        }
    }
    if (result == IAM_OK) {
        if (batch->failing)
            iam_log(IAM_LOG_INFO, "audit_batch_flushed",
                    "token and authentication audit records written after %llu failed attempts",
                    (unsigned long long)batch->failed_flushes);
        batch->failing = false;
        batch->failed_flushes = 0;
    } else {
        int64_t events = events_in(list);
        give_back(batch, list);
        /* Kept and retried with what is counted meanwhile; logged once per outage. */
        if (!batch->failing)
            iam_log(IAM_LOG_WARN, "audit_batch_flush_failed",
                    "%s; %lld token and authentication events are kept in memory and retried", iam_strerror(result),
                    (long long)events);
        batch->failing = true;
        batch->failed_flushes++;
    }
    pthread_mutex_unlock(&batch->flush_lock);
    return result;
}

void iam_audit_batch_stats(struct iam_audit_batch *batch, struct iam_audit_batch_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!batch)
        return;
    for (size_t s = 0; s < STRIPES; s++) {
        struct stripe *stripe = &batch->stripes[s];
        pthread_mutex_lock(&stripe->lock);
        for (size_t b = 0; b < STRIPE_BUCKETS; b++) {
            for (const struct entry *entry = stripe->buckets[b]; entry; entry = entry->next) {
                out->keys++;
                out->events += entry->count;
            }
        }
        pthread_mutex_unlock(&stripe->lock);
    }
    out->overflowed = atomic_load(&batch->overflowed);
    out->dropped = atomic_load(&batch->dropped);
}

void iam_audit_batch_free(struct iam_audit_batch *batch)
{
    if (!batch)
        return;
    if (iam_audit_batch_flush(batch) != IAM_OK) {
        struct iam_audit_batch_stats stats;
        iam_audit_batch_stats(batch, &stats);
        iam_log(IAM_LOG_ERROR, "audit_batch_lost",
                "%lld token and authentication events could not be written to the audit trail at shutdown",
                (long long)stats.events);
    }
    size_t count = 0;
    free_list(take_all(batch, &count));
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&batch->stripes[i].lock);
    pthread_mutex_destroy(&batch->flush_lock);
    sodium_memzero(batch->hash_key, sizeof batch->hash_key);
    free(batch);
}
