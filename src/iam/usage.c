/*
 * usage.c: the in-memory table of per-key usage deltas and users' sign-ins,
 * and the thread that writes them to the store in batches (see usage.h).
 *
 * A flush takes the whole table out, writes it (one transaction per kind),
 * and on failure merges it back into what was counted meanwhile, so a
 * database outage delays counts but loses none. The table holds one entry per
 * key or user (counts add up in place), so memory is bounded by the number of
 * distinct ids, capped at `capacity`.
 */
#include "iam/usage.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "store/store_activity.h"

#define USAGE_BUCKETS 1024
#define USAGE_ID_MAX 64
#define USAGE_DEFAULT_CAPACITY 100000

enum usage_kind { USAGE_APIKEY, USAGE_USER };

struct usage_entry {
    enum usage_kind kind;
    char id[USAGE_ID_MAX];
    int64_t count;
    int64_t last_authn;
    struct usage_entry *next;
};

struct iam_usage {
    struct iam_store *store;
    int64_t interval_ms;
    pthread_mutex_t lock; /* guards buckets and size */
    struct usage_entry *buckets[USAGE_BUCKETS];
    size_t size;
    size_t capacity;  /* most distinct ids recorded between two successful flushes */
    uint64_t dropped; /* uses not counted because the table was full (logged by the next flush) */
    pthread_mutex_t flush_lock; /* one flush at a time; guards failing */
    bool failing;               /* the last flush failed (logged once per outage) */
    uint64_t failed_flushes;
    void (*companion)(void *context); /* guarded by flush_lock */
    void *companion_context;
    pthread_cond_t wake;
    bool stopping;
    pthread_t thread;
    bool thread_started;
};

static size_t bucket_of(const char *id)
{
    /* FNV-1a: ids are server-generated, so no adversarial collisions to fear. */
    uint64_t hash = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        hash ^= *p;
        hash *= 1099511628211ULL;
    }
    return (size_t)(hash % USAGE_BUCKETS);
}

/* The entry of (kind, id) in its bucket, or NULL. Called with the lock held. */
static struct usage_entry *entry_find(struct usage_entry *entry, enum usage_kind kind, const char *id)
{
    while (entry && (entry->kind != kind || strcmp(entry->id, id) != 0))
        entry = entry->next;
    return entry;
}

static void record(struct iam_usage *usage, enum usage_kind kind, const char *id, int64_t when)
{
    if (!usage || !id || strlen(id) >= USAGE_ID_MAX)
        return;
    size_t bucket = bucket_of(id);
    pthread_mutex_lock(&usage->lock);
    struct usage_entry *entry = entry_find(usage->buckets[bucket], kind, id);
    if (!entry) {
        entry = usage->size < usage->capacity ? calloc(1, sizeof *entry) : NULL;
        if (!entry) {
            usage->dropped++;
            pthread_mutex_unlock(&usage->lock);
            return; /* a lost count is better than a failed token, or unbounded memory */
        }
        entry->kind = kind;
        memcpy(entry->id, id, strlen(id) + 1);
        entry->next = usage->buckets[bucket];
        usage->buckets[bucket] = entry;
        usage->size++;
    }
    entry->count++;
    if (when > entry->last_authn)
        entry->last_authn = when;
    pthread_mutex_unlock(&usage->lock);
}

void iam_usage_record(struct iam_usage *usage, const char *apikey_id, int64_t when)
{
    record(usage, USAGE_APIKEY, apikey_id, when);
}

void iam_usage_record_user(struct iam_usage *usage, const char *iam_id, int64_t when)
{
    record(usage, USAGE_USER, iam_id, when);
}

void iam_usage_pending(struct iam_usage *usage, const char *apikey_id, int64_t *count, int64_t *last_authn)
{
    *count = 0;
    *last_authn = 0;
    if (!usage || !apikey_id)
        return;
    pthread_mutex_lock(&usage->lock);
    const struct usage_entry *entry = entry_find(usage->buckets[bucket_of(apikey_id)], USAGE_APIKEY, apikey_id);
    if (entry) {
        *count = entry->count;
        *last_authn = entry->last_authn;
    }
    pthread_mutex_unlock(&usage->lock);
}

/* Moves every entry out of the table into a list the caller owns. */
static struct usage_entry *take_all(struct iam_usage *usage, size_t *count)
{
    struct usage_entry *all = NULL;
    pthread_mutex_lock(&usage->lock);
    for (size_t i = 0; i < USAGE_BUCKETS; i++) {
        struct usage_entry *entry = usage->buckets[i];
        while (entry) {
            struct usage_entry *next = entry->next;
            entry->next = all;
            all = entry;
            entry = next;
        }
        usage->buckets[i] = NULL;
    }
    *count = usage->size;
    usage->size = 0;
    pthread_mutex_unlock(&usage->lock);
    return all;
}

/* Puts entries back (after a failed write) so no count is lost. */
static void give_back(struct iam_usage *usage, struct usage_entry *list)
{
    while (list) {
        struct usage_entry *next = list->next;
        pthread_mutex_lock(&usage->lock);
        size_t bucket = bucket_of(list->id);
        struct usage_entry *entry = entry_find(usage->buckets[bucket], list->kind, list->id);
        if (entry) {
            entry->count += list->count;
            if (list->last_authn > entry->last_authn)
                entry->last_authn = list->last_authn;
            free(list);
        } else {
            list->next = usage->buckets[bucket];
            usage->buckets[bucket] = list;
            usage->size++;
        }
        pthread_mutex_unlock(&usage->lock);
        list = next;
    }
}

size_t iam_usage_size(struct iam_usage *usage)
{
    if (!usage)
        return 0;
    pthread_mutex_lock(&usage->lock);
    size_t size = usage->size;
    pthread_mutex_unlock(&usage->lock);
    return size;
}

void iam_usage_set_capacity(struct iam_usage *usage, size_t capacity)
{
    if (!usage)
        return;
    pthread_mutex_lock(&usage->lock);
    usage->capacity = capacity > 0 ? capacity : USAGE_DEFAULT_CAPACITY;
    pthread_mutex_unlock(&usage->lock);
}

void iam_usage_set_companion(struct iam_usage *usage, void (*flush)(void *context), void *context)
{
    if (!usage)
        return;
    pthread_mutex_lock(&usage->flush_lock);
    usage->companion = flush;
    usage->companion_context = flush ? context : NULL;
    pthread_mutex_unlock(&usage->flush_lock);
}

static void free_list(struct usage_entry *list)
{
    while (list) {
        struct usage_entry *next = list->next;
        free(list);
        list = next;
    }
}

/* Writes the entries of `list` (all of one kind, `count` of them) in one store transaction. */
static enum iam_result write_batch(struct iam_store *store, enum usage_kind kind, const struct usage_entry *list,
                                   size_t count)
{
    if (count == 0)
        return IAM_OK;
    struct iam_apikey_usage *batch = calloc(count, sizeof *batch);
    if (!batch)
        return IAM_ENOMEM;
    size_t i = 0;
    for (const struct usage_entry *entry = list; entry && i < count; entry = entry->next, i++) {
        batch[i].id = entry->id;
        batch[i].count = entry->count;
        batch[i].last_authn = entry->last_authn;
    }
    enum iam_result result =
        kind == USAGE_APIKEY ? iam_store_apikey_add_usage(store, batch, i) : iam_store_user_add_authn(store, batch, i);
    free(batch);
    return result;
}

void iam_usage_hold(struct iam_usage *usage)
{
    if (usage)
        pthread_mutex_lock(&usage->flush_lock);
}

void iam_usage_release(struct iam_usage *usage)
{
    if (usage)
        pthread_mutex_unlock(&usage->flush_lock);
}

enum iam_result iam_usage_flush(struct iam_usage *usage)
{
    if (!usage)
        return IAM_OK;
    pthread_mutex_lock(&usage->flush_lock);
    size_t count = 0;
    struct usage_entry *list = take_all(usage, &count);
    pthread_mutex_lock(&usage->lock);
    uint64_t dropped = usage->dropped;
    size_t capacity = usage->capacity;
    usage->dropped = 0;
    pthread_mutex_unlock(&usage->lock);
    if (dropped > 0)
        iam_log(IAM_LOG_WARN, "usage_dropped",
                "%llu uses were not counted: more than %zu distinct keys or users waited to be written",
                (unsigned long long)dropped, capacity);
    /* One list per kind, one transaction per list; a failed one goes back for the next round. */
    struct usage_entry *lists[2] = {NULL, NULL};
    size_t counts[2] = {0, 0};
    while (list) {
        struct usage_entry *next = list->next;
        list->next = lists[list->kind];
        lists[list->kind] = list;
        counts[list->kind]++;
        list = next;
    }
    enum iam_result result = IAM_OK;
    for (int kind = USAGE_APIKEY; kind <= USAGE_USER; kind++) {
        enum iam_result written = write_batch(usage->store, (enum usage_kind)kind, lists[kind], counts[kind]);
        if (written == IAM_OK) {
            free_list(lists[kind]);
        } else {
            give_back(usage, lists[kind]);
            result = written;
        }
    }
    if (result == IAM_OK) {
        if (usage->failing)
            iam_log(IAM_LOG_INFO, "usage_flushed", "usage counters written after %llu failed attempts",
                    (unsigned long long)usage->failed_flushes);
        usage->failing = false;
        usage->failed_flushes = 0;
    } else {
        /* Kept and retried with what is counted meanwhile; logged once per outage. */
        if (!usage->failing)
            iam_log(IAM_LOG_WARN, "usage_flush_failed", "%s; usage counters are kept in memory and retried",
                    iam_strerror(result));
        usage->failing = true;
        usage->failed_flushes++;
    }
    pthread_mutex_unlock(&usage->flush_lock);
    return result;
}

static void *flush_loop(void *argument)
{
    struct iam_usage *usage = argument;
    pthread_mutex_lock(&usage->flush_lock);
    while (!usage->stopping) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += usage->interval_ms / 1000;
        deadline.tv_nsec += (usage->interval_ms % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
        int wait = pthread_cond_timedwait(&usage->wake, &usage->flush_lock, &deadline);
        if (usage->stopping)
            break;
        if (wait == ETIMEDOUT) {
            void (*companion)(void *) = usage->companion;
            void *context = usage->companion_context;
            pthread_mutex_unlock(&usage->flush_lock);
            enum iam_result result = iam_usage_flush(usage);
            (void)result; /* logged inside; retried next round */
            if (companion)
                companion(context);
            pthread_mutex_lock(&usage->flush_lock);
        }
    }
    pthread_mutex_unlock(&usage->flush_lock);
    return NULL;
}

enum iam_result iam_usage_new(struct iam_store *store, int64_t flush_interval_ms, struct iam_usage **out)
{
    *out = NULL;
    struct iam_usage *usage = calloc(1, sizeof *usage);
    if (!usage)
        return IAM_ENOMEM;
    usage->store = store;
    usage->interval_ms = flush_interval_ms > 0 ? flush_interval_ms : 1000;
    usage->capacity = USAGE_DEFAULT_CAPACITY;
    pthread_mutex_init(&usage->lock, NULL);
    pthread_mutex_init(&usage->flush_lock, NULL);
    pthread_cond_init(&usage->wake, NULL);
    if (pthread_create(&usage->thread, NULL, flush_loop, usage) != 0) {
        iam_usage_free(usage);
        return IAM_EINTERNAL;
    }
    usage->thread_started = true;
    *out = usage;
    return IAM_OK;
}

void iam_usage_free(struct iam_usage *usage)
{
    if (!usage)
        return;
    if (usage->thread_started) {
        pthread_mutex_lock(&usage->flush_lock);
        usage->stopping = true;
        pthread_cond_signal(&usage->wake);
        pthread_mutex_unlock(&usage->flush_lock);
        pthread_join(usage->thread, NULL);
    }
    if (iam_usage_flush(usage) != IAM_OK)
        iam_log(IAM_LOG_ERROR, "usage_lost", "usage counters could not be written at shutdown");
    if (usage->companion)
        usage->companion(usage->companion_context);
    size_t count = 0;
    free_list(take_all(usage, &count));
    pthread_cond_destroy(&usage->wake);
    pthread_mutex_destroy(&usage->flush_lock);
    pthread_mutex_destroy(&usage->lock);
    free(usage);
}
