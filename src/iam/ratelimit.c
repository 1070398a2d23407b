/*
 * ratelimit.c: the failed-authentication counters of ratelimit.h.
 *
 * Two chained hash tables (addresses, subjects) under the limiter's mutex,
 * hashed with SipHash keyed at random per limiter, so nobody can choose keys
 * that pile into one bucket. Subject counters under FROM_FAILED_ADDRESSES
 * also remember the addresses their failures came from.
 */
#include "iam/ratelimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024
#define SOURCES_MAX 32 /* failing addresses remembered per subject */

struct source {
    char address[IAM_RATELIMIT_KEY_MAX];
    int64_t failures;
    int64_t last_failure;
};

struct counter {
    char key[IAM_RATELIMIT_KEY_MAX];
    int64_t window_start;
    int64_t failures;
    struct source *sources; /* SOURCES_MAX of them when the table tracks sources, else NULL */
    size_t source_count;
    struct counter *next;
};

struct table {
    struct counter *buckets[BUCKETS];
    size_t count;
    size_t max;
    int64_t window;
    bool with_sources;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

struct iam_ratelimit {
    pthread_mutex_t lock;
    struct iam_ratelimit_options options;
    struct table addresses;
    struct table subjects;
    uint64_t refused_address; /* attempts refused, for iam_ratelimit_stats; never reset */
    uint64_t refused_subject;
};

/* --- tables --- */

static size_t bucket_of(const struct table *table, const char *key)
{
    unsigned char hash[crypto_shorthash_BYTES];
    crypto_shorthash(hash, (const unsigned char *)key, strlen(key), table->hash_key);
    uint64_t value = 0;
    memcpy(&value, hash, sizeof value);
    return (size_t)(value % BUCKETS);
}

static bool expired(const struct table *table, const struct counter *counter, int64_t now)
{
    /* A clock that went back by more than a window also ends it. */
    return now >= counter->window_start + table->window || now < counter->window_start - table->window;
}

/* Unlinks and frees the counters whose window started at or before `cutoff`, or (cutoff < 0) that expired. */
static void table_drop(struct table *table, int64_t now, int64_t cutoff)
{
    for (size_t b = 0; b < BUCKETS; b++) {
        struct counter **link = &table->buckets[b];
        while (*link) {
            struct counter *counter = *link;
            bool drop = cutoff < 0 ? expired(table, counter, now) : counter->window_start <= cutoff;
            if (drop) {
                *link = counter->next;
                free(counter->sources);
                free(counter);
                table->count--;
            } else {
                link = &counter->next;
            }
        }
    }
}

static void table_clear(struct table *table)
{
    table_drop(table, 0, INT64_MAX);
}

/* Makes room for one counter: drops expired windows, then the oldest ones. */
static void table_make_room(struct table *table, int64_t now)
{
    table_drop(table, now, -1);
    while (table->count >= table->max) {
        int64_t oldest = INT64_MAX;
        for (size_t b = 0; b < BUCKETS; b++)
            for (struct counter *counter = table->buckets[b]; counter; counter = counter->next)
                if (counter->window_start < oldest)
                    oldest = counter->window_start;
        table_drop(table, now, oldest);
    }
}

/* The live counter for `key`, restarting an expired window; NULL when absent. */
static struct counter *table_find(struct table *table, const char *key, int64_t now)
{
    for (struct counter *counter = table->buckets[bucket_of(table, key)]; counter; counter = counter->next) {
        if (strcmp(counter->key, key) != 0)
            continue;
        if (expired(table, counter, now)) {
            counter->window_start = now;
            counter->failures = 0;
            counter->source_count = 0;
        }
        return counter;
    }
    return NULL;
}

static struct counter *table_get_or_add(struct table *table, const char *key, int64_t now)
{
    struct counter *counter = table_find(table, key, now);
    if (counter)
        return counter;
    if (table->count >= table->max)
        table_make_room(table, now);
    counter = calloc(1, sizeof *counter);
    if (!counter)
        return NULL;
    if (table->with_sources && !(counter->sources = calloc(SOURCES_MAX, sizeof *counter->sources))) {
        free(counter);
        return NULL;
    }
    snprintf(counter->key, sizeof counter->key, "%s", key);
    counter->window_start = now;
    size_t bucket = bucket_of(table, counter->key);
    counter->next = table->buckets[bucket];
    table->buckets[bucket] = counter;
    table->count++;
    return counter;
}

static int64_t wait_for(const struct table *table, const struct counter *counter, int64_t now)
{
    int64_t remaining = counter->window_start + table->window - now;
    return remaining > 0 ? remaining : 1;
}

/* --- sources of a subject's failures --- */

static struct source *source_find(struct counter *counter, const char *address)
{
    for (size_t i = 0; i < counter->source_count; i++)
        if (strcmp(counter->sources[i].address, address) == 0)
            return &counter->sources[i];
    return NULL;
}

/* The source for `address`, added (replacing the one that failed longest ago when full). */
static struct source *source_get_or_add(struct counter *counter, const char *address, int64_t now)
{
    struct source *source = source_find(counter, address);
    if (source)
        return source;
    if (counter->source_count < SOURCES_MAX) {
        source = &counter->sources[counter->source_count++];
    } else {
        source = &counter->sources[0];
        for (size_t i = 1; i < counter->source_count; i++)
            if (counter->sources[i].last_failure < source->last_failure)
                source = &counter->sources[i];
    }
    memset(source, 0, sizeof *source);
    snprintf(source->address, sizeof source->address, "%s", address);
    source->last_failure = now;
    return source;
}

static void source_remove(struct counter *counter, const struct source *source)
{
    size_t index = (size_t)(source - counter->sources);
    counter->sources[index] = counter->sources[counter->source_count - 1];
    counter->source_count--;
}

/* --- keys --- */

void iam_ratelimit_address_key(const char *address, char out[IAM_RATELIMIT_KEY_MAX])
{
    if (!address || !*address) {
        snprintf(out, IAM_RATELIMIT_KEY_MAX, "unknown");
        return;
    }
    struct in6_addr v6;
    if (strchr(address, ':') && inet_pton(AF_INET6, address, &v6) == 1) {
        char text[INET6_ADDRSTRLEN];
        if (IN6_IS_ADDR_V4MAPPED(&v6)) {
            if (inet_ntop(AF_INET, &v6.s6_addr[12], text, sizeof text)) {
                snprintf(out, IAM_RATELIMIT_KEY_MAX, "%s", text);
                return;
            }
        } else {
            memset(&v6.s6_addr[8], 0, 8);
            if (inet_ntop(AF_INET6, &v6, text, sizeof text)) {
                snprintf(out, IAM_RATELIMIT_KEY_MAX, "%s/64", text);
                return;
            }
        }
    }
    snprintf(out, IAM_RATELIMIT_KEY_MAX, "%s", address);
}

/* --- the limiter --- */

static void table_init(struct table *table, size_t max, int64_t window, bool with_sources)
{
    table->max = max;
    table->window = window;
    table->with_sources = with_sources;
    crypto_shorthash_keygen(table->hash_key);
}

enum iam_result iam_ratelimit_new(const struct iam_ratelimit_options *options, struct iam_ratelimit **out)
{
    *out = NULL;
    if (!options || options->window < 1 || options->address_max < 0 || options->subject_max < 0)
        return IAM_EINVAL;
    if (sodium_init() < 0)
        return IAM_ECRYPTO;
    struct iam_ratelimit *limiter = calloc(1, sizeof *limiter);
    if (!limiter)
        return IAM_ENOMEM;
    limiter->options = *options;
    size_t max = options->entries_max ? options->entries_max : IAM_RATELIMIT_ENTRIES_DEFAULT;
    table_init(&limiter->addresses, max, options->window, false);
    table_init(&limiter->subjects, max, options->window,
               options->subject_rule == IAM_RATELIMIT_SUBJECT_FROM_FAILED_ADDRESSES);
    pthread_mutex_init(&limiter->lock, NULL);
    *out = limiter;
    return IAM_OK;
}

void iam_ratelimit_free(struct iam_ratelimit *limiter)
{
    if (!limiter)
        return;
    table_clear(&limiter->addresses);
    table_clear(&limiter->subjects);
    pthread_mutex_destroy(&limiter->lock);
    free(limiter);
}

void iam_ratelimit_reset(struct iam_ratelimit *limiter)
{
    if (!limiter)
        return;
    pthread_mutex_lock(&limiter->lock);
    table_clear(&limiter->addresses);
    table_clear(&limiter->subjects);
    pthread_mutex_unlock(&limiter->lock);
}

/* The table keys of an attempt; `*has_subject` false when there is no subject. */
static void attempt_keys(const char *subject, const char *address, char subject_key[IAM_RATELIMIT_KEY_MAX],
                         char address_key[IAM_RATELIMIT_KEY_MAX], bool *has_subject)
{
    *has_subject = subject && *subject;
    snprintf(subject_key, IAM_RATELIMIT_KEY_MAX, "%s", *has_subject ? subject : "");
    iam_ratelimit_address_key(address, address_key);
}

enum iam_result iam_ratelimit_begin(struct iam_ratelimit *limiter, const char *subject, const char *address,
                                    int64_t now, int64_t *retry_after)
{
    *retry_after = 0;
    if (!limiter)
        return IAM_OK;
    char subject_key[IAM_RATELIMIT_KEY_MAX], address_key[IAM_RATELIMIT_KEY_MAX];
    bool has_subject;
    attempt_keys(subject, address, subject_key, address_key, &has_subject);
    const struct iam_ratelimit_options *options = &limiter->options;
    enum iam_result result = IAM_OK;
    pthread_mutex_lock(&limiter->lock);
    struct counter *from = table_find(&limiter->addresses, address_key, now);
    struct counter *of = has_subject ? table_find(&limiter->subjects, subject_key, now) : NULL;
    if (options->address_max > 0 && from && from->failures >= options->address_max) {
        *retry_after = wait_for(&limiter->addresses, from, now);
        limiter->refused_address++;
        result = IAM_ETOOMANY;
        goto out;
    }
    if (options->subject_rule == IAM_RATELIMIT_SUBJECT_FROM_FAILED_ADDRESSES && options->subject_max > 0 && of &&
        of->failures >= options->subject_max && source_find(of, address_key)) {
        *retry_after = wait_for(&limiter->subjects, of, now);
        limiter->refused_subject++;
        result = IAM_ETOOMANY;
        goto out;
    }
    if (!from && !(from = table_get_or_add(&limiter->addresses, address_key, now))) {
        result = IAM_ENOMEM;
        goto out;
    }
    if (has_subject && !of && !(of = table_get_or_add(&limiter->subjects, subject_key, now))) {
        result = IAM_ENOMEM;
        goto out;
    }
    from->failures++;
    if (of) {
        of->failures++;
        if (of->sources) {
            struct source *source = source_get_or_add(of, address_key, now);
            source->failures++;
            source->last_failure = now;
        }
    }
out:
    pthread_mutex_unlock(&limiter->lock);
    return result;
}

enum iam_result iam_ratelimit_end(struct iam_ratelimit *limiter, const char *subject, const char *address,
                                  enum iam_ratelimit_outcome outcome, int64_t now, int64_t *retry_after)
{
    int64_t ignored;
    if (!retry_after)
        retry_after = &ignored;
    *retry_after = 0;
    if (!limiter)
        return IAM_OK;
    char subject_key[IAM_RATELIMIT_KEY_MAX], address_key[IAM_RATELIMIT_KEY_MAX];
    bool has_subject;
    attempt_keys(subject, address, subject_key, address_key, &has_subject);
    const struct iam_ratelimit_options *options = &limiter->options;
    enum iam_result result = IAM_OK;
    pthread_mutex_lock(&limiter->lock);
    struct counter *of = has_subject ? table_find(&limiter->subjects, subject_key, now) : NULL;
    if (outcome == IAM_RATELIMIT_FAILED) {
        if (of && options->subject_rule == IAM_RATELIMIT_SUBJECT_AFTER_CHECK && options->subject_max > 0 &&
            of->failures > options->subject_max) {
            *retry_after = wait_for(&limiter->subjects, of, now);
            limiter->refused_subject++;
            result = IAM_ETOOMANY;
        }
        goto out;
    }
    struct counter *from = table_find(&limiter->addresses, address_key, now);
    if (from && from->failures > 0)
        from->failures--;
    if (!of)
        goto out;
    if (!of->sources) {
        if (of->failures > 0)
            of->failures--;
        goto out;
    }
    struct source *source = source_find(of, address_key);
    if (source) {
        int64_t taken = outcome == IAM_RATELIMIT_SUCCEEDED ? source->failures : 1;
        of->failures = of->failures > taken ? of->failures - taken : 0;
        source->failures -= taken < source->failures ? taken : source->failures;
        if (source->failures == 0)
            source_remove(of, source);
    }
out:
    pthread_mutex_unlock(&limiter->lock);
    return result;
}

void iam_ratelimit_stats(struct iam_ratelimit *limiter, struct iam_ratelimit_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!limiter)
        return;
    pthread_mutex_lock(&limiter->lock);
    out->address_entries = limiter->addresses.count;
    out->subject_entries = limiter->subjects.count;
    out->refused_address = limiter->refused_address;
    out->refused_subject = limiter->refused_subject;
    pthread_mutex_unlock(&limiter->lock);
}
