/*
 * sessions.c: the in-memory table of console sessions (rules in sessions.h).
 *
 * Sessions are found by the SHA-256 of their cookie value in a chained hash
 * table (the first 8 bytes of the hash pick the bucket; the whole hash is
 * compared in constant time). Every session is also on two lists in creation
 * order: the whole table's (eviction of the oldest when full) and its
 * identity's (the per-identity cap, sign-out everywhere), the latter hanging
 * off a small table of identities. One mutex guards everything; no call does
 * I/O or allocation-heavy work while holding it, except the sweep of expired
 * sessions when the table is full, which runs at most once a minute.
 */
#include "iam/sessions.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/time.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

#define SESSIONS_BUCKETS_MIN 16
#define SESSIONS_BUCKETS_MAX ((size_t)1 << 17)
#define SESSIONS_SWEEP_INTERVAL_S 60

struct identity_entry;

struct session_entry {
    uint8_t hash[IAM_HASH_SIZE]; /* SHA-256 of the cookie value */
    struct iam_session session;
    struct session_entry *bucket_next;
    struct session_entry *older, *newer;                   /* the whole table, by creation */
    struct session_entry *identity_older, *identity_newer; /* the identity's, by creation */
    struct identity_entry *identity;
};

struct identity_entry {
    struct identity_entry *bucket_next;
    uint64_t key_hash;
    char account_id[IAM_SESSION_ID_MAX];
    char iam_id[IAM_SESSION_ID_MAX];
    size_t count;
    struct session_entry *oldest, *newest;
};

struct iam_sessions {
    pthread_mutex_t lock;
    size_t max_sessions;
    int64_t (*clock)(void *context);
    void *clock_context;
    struct session_entry **buckets;
    struct identity_entry **identity_buckets;
    size_t bucket_mask; /* both tables have bucket_mask + 1 buckets */
    struct session_entry *oldest, *newest;
    size_t count;
    int64_t last_sweep;
};

static int64_t default_clock(void *context)
{
    (void)context;
    return iam_now();
}

enum iam_result iam_sessions_new(const struct iam_sessions_options *options, struct iam_sessions **out)
{
    *out = NULL;
    struct iam_sessions *sessions = calloc(1, sizeof *sessions);
    if (!sessions)
        return IAM_ENOMEM;
    sessions->max_sessions = options && options->max_sessions ? options->max_sessions : IAM_SESSIONS_MAX_DEFAULT;
    sessions->clock = options && options->clock ? options->clock : default_clock;
    sessions->clock_context = options && options->clock ? options->clock_context : NULL;
    size_t buckets = SESSIONS_BUCKETS_MIN;
    while (buckets < sessions->max_sessions && buckets < SESSIONS_BUCKETS_MAX)
        buckets <<= 1;
    sessions->bucket_mask = buckets - 1;
    sessions->buckets = calloc(buckets, sizeof *sessions->buckets);
    sessions->identity_buckets = calloc(buckets, sizeof *sessions->identity_buckets);
    if (!sessions->buckets || !sessions->identity_buckets || pthread_mutex_init(&sessions->lock, NULL) != 0) {
        free(sessions->buckets);
        free(sessions->identity_buckets);
        free(sessions);
        return IAM_ENOMEM;
    }
    *out = sessions;
    return IAM_OK;
}

/* --- the two tables (called with the lock held) --- */

static size_t session_bucket(const struct iam_sessions *sessions, const uint8_t hash[IAM_HASH_SIZE])
{
    uint64_t prefix = 0;
    memcpy(&prefix, hash, sizeof prefix); /* uniformly distributed: the hash of a random secret */
    return (size_t)(prefix & sessions->bucket_mask);
}

/* FNV-1a over "account_id\0iam_id". */
static uint64_t identity_key_hash(const char *account_id, const char *iam_id)
{
    uint64_t hash = 0xcbf29ce484222325u;
    for (const unsigned char *c = (const unsigned char *)account_id; *c; c++)
        hash = (hash ^ *c) * 0x100000001b3u;
    hash *= 0x100000001b3u; /* the separator */
    for (const unsigned char *c = (const unsigned char *)iam_id; *c; c++)
        hash = (hash ^ *c) * 0x100000001b3u;
    return hash;
}

static struct identity_entry *identity_find(const struct iam_sessions *sessions, const char *account_id,
                                            const char *iam_id)
{
    uint64_t key_hash = identity_key_hash(account_id, iam_id);
    for (struct identity_entry *entry = sessions->identity_buckets[key_hash & sessions->bucket_mask]; entry;
         entry = entry->bucket_next) {
        if (entry->key_hash == key_hash && strcmp(entry->account_id, account_id) == 0 &&
            strcmp(entry->iam_id, iam_id) == 0)
            return entry;
    }
    return NULL;
}

/* The identity's entry, created when missing; NULL when out of memory. Ids are known to fit. */
static struct identity_entry *identity_get(struct iam_sessions *sessions, const char *account_id, const char *iam_id)
{
    struct identity_entry *entry = identity_find(sessions, account_id, iam_id);
    if (entry)
        return entry;
    entry = calloc(1, sizeof *entry);
    if (!entry)
        return NULL;
    entry->key_hash = identity_key_hash(account_id, iam_id);
    memcpy(entry->account_id, account_id, strlen(account_id) + 1);
    memcpy(entry->iam_id, iam_id, strlen(iam_id) + 1);
    struct identity_entry **head = &sessions->identity_buckets[entry->key_hash & sessions->bucket_mask];
    entry->bucket_next = *head;
    *head = entry;
    return entry;
}

static void identity_release(struct iam_sessions *sessions, struct identity_entry *identity)
{
    struct identity_entry **link = &sessions->identity_buckets[identity->key_hash & sessions->bucket_mask];
    while (*link && *link != identity)
        link = &(*link)->bucket_next;
    if (*link)
        *link = identity->bucket_next;
    free(identity);
}

static struct session_entry *session_lookup(const struct iam_sessions *sessions, const uint8_t hash[IAM_HASH_SIZE])
{
    struct session_entry *found = NULL;
    for (struct session_entry *entry = sessions->buckets[session_bucket(sessions, hash)]; entry;
         entry = entry->bucket_next) {
        if (iam_bytes_equal(entry->hash, hash, IAM_HASH_SIZE))
            found = entry;
    }
    return found;
}

/* Unlinks `entry` from everything, frees it, and its identity when that was its last session. */
static void session_remove(struct iam_sessions *sessions, struct session_entry *entry)
{
    struct session_entry **link = &sessions->buckets[session_bucket(sessions, entry->hash)];
    while (*link && *link != entry)
        link = &(*link)->bucket_next;
    if (*link)
        *link = entry->bucket_next;

    if (entry->older)
        entry->older->newer = entry->newer;
    else
        sessions->oldest = entry->newer;
    if (entry->newer)
        entry->newer->older = entry->older;
    else
        sessions->newest = entry->older;
    sessions->count--;

    struct identity_entry *identity = entry->identity;
    if (entry->identity_older)
        entry->identity_older->identity_newer = entry->identity_newer;
    else
        identity->oldest = entry->identity_newer;
    if (entry->identity_newer)
        entry->identity_newer->identity_older = entry->identity_older;
    else
        identity->newest = entry->identity_older;
    if (--identity->count == 0)
        identity_release(sessions, identity);

    iam_wipe(entry, sizeof *entry); /* the hash and the CSRF token */
    free(entry);
}

static bool session_expired(const struct session_entry *entry, int64_t now)
{
    const struct iam_session *session = &entry->session;
    return now >= session->expires_at || now - session->last_seen_at >= session->idle_timeout;
}

/* Drops every expired session (O(n): only when the table is full, at most once a minute). */
static void sessions_sweep(struct iam_sessions *sessions, int64_t now)
{
    sessions->last_sweep = now;
    struct session_entry *entry = sessions->oldest;
    while (entry) {
        struct session_entry *next = entry->newer;
        if (session_expired(entry, now))
            session_remove(sessions, entry);
        entry = next;
    }
}

/* --- public functions --- */

void iam_sessions_free(struct iam_sessions *sessions)
{
    if (!sessions)
        return;
    while (sessions->oldest)
        session_remove(sessions, sessions->oldest);
    free(sessions->buckets);
    free(sessions->identity_buckets);
    pthread_mutex_destroy(&sessions->lock);
    free(sessions);
}

static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static struct iam_sessions *shared_sessions;

static void shared_create(void)
{
    if (iam_sessions_new(NULL, &shared_sessions) != IAM_OK)
        shared_sessions = NULL;
}

struct iam_sessions *iam_sessions_shared(void)
{
    pthread_once(&shared_once, shared_create);
    return shared_sessions;
}

/* True when `cookie` has the shape of a value we issue (43 base64url characters); then hashes it. */
static bool cookie_hash(const char *cookie, uint8_t hash[IAM_HASH_SIZE])
{
    if (!cookie || strnlen(cookie, IAM_SESSION_TOKEN_SIZE) != IAM_SESSION_TOKEN_LENGTH)
        return false;
    for (const char *c = cookie; *c; c++) {
        bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
                  *c == '_';
        if (!ok)
            return false;
    }
    return iam_sha256(cookie, IAM_SESSION_TOKEN_LENGTH, hash) == IAM_OK;
}

/* Draws 256 random bits as base64url text. */
static enum iam_result random_token(char out[IAM_SESSION_TOKEN_SIZE])
{
    uint8_t secret[IAM_SESSION_SECRET_BYTES];
    enum iam_result result = iam_random_bytes(secret, sizeof secret);
    if (result == IAM_OK)
        result = iam_base64url_encode(secret, sizeof secret, out, IAM_SESSION_TOKEN_SIZE);
    iam_wipe(secret, sizeof secret);
    return result;
}

static bool id_fits(const char *id)
{
    return id && *id && strnlen(id, IAM_SESSION_ID_MAX) < IAM_SESSION_ID_MAX;
}

enum iam_result iam_sessions_start(struct iam_sessions *sessions, const struct iam_session_start *start,
                                   char cookie[IAM_SESSION_TOKEN_SIZE], struct iam_session *out)
{
    cookie[0] = '\0';
    if (!sessions || !start || !id_fits(start->iam_id) || !id_fits(start->account_id) ||
        (start->apikey_id && !id_fits(start->apikey_id)) || start->idle_timeout <= 0 || start->absolute_timeout <= 0)
        return IAM_EINVAL;
    struct session_entry *entry = calloc(1, sizeof *entry);
    if (!entry)
        return IAM_ENOMEM;
    enum iam_result result = random_token(cookie);
    if (result == IAM_OK)
        result = random_token(entry->session.csrf_token);
    if (result == IAM_OK && !cookie_hash(cookie, entry->hash))
        result = IAM_ECRYPTO;
    if (result != IAM_OK) {
        iam_wipe(cookie, IAM_SESSION_TOKEN_SIZE);
        cookie[0] = '\0';
        iam_wipe(entry, sizeof *entry);
        free(entry);
        return result;
    }
    struct iam_session *session = &entry->session;
    session->kind = start->kind;
    memcpy(session->iam_id, start->iam_id, strlen(start->iam_id) + 1);
    memcpy(session->account_id, start->account_id, strlen(start->account_id) + 1);
    if (start->apikey_id)
        memcpy(session->apikey_id, start->apikey_id, strlen(start->apikey_id) + 1);
    session->idle_timeout = start->idle_timeout;

    pthread_mutex_lock(&sessions->lock);
    int64_t now = sessions->clock(sessions->clock_context);
    session->created_at = now;
    session->last_seen_at = now;
    session->expires_at = start->absolute_timeout > INT64_MAX - now ? INT64_MAX : now + start->absolute_timeout;

    /* Room in the table: expired sessions first, then the oldest. */
    if (sessions->count >= sessions->max_sessions && now - sessions->last_sweep >= SESSIONS_SWEEP_INTERVAL_S)
        sessions_sweep(sessions, now);
    while (sessions->count >= sessions->max_sessions && sessions->oldest)
        session_remove(sessions, sessions->oldest);

    /* Room for the identity: its expired sessions, then its oldest. */
    struct identity_entry *identity = identity_find(sessions, session->account_id, session->iam_id);
    if (identity) {
        struct session_entry *own = identity->oldest;
        size_t remaining = identity->count;
        while (own && remaining > 0) {
            struct session_entry *next = own->identity_newer;
            remaining--;
            if (session_expired(own, now))
                session_remove(sessions, own); /* may free `identity` with its last session */
            own = next;
        }
        identity = identity_find(sessions, session->account_id, session->iam_id);
        while (identity && identity->oldest && start->max_per_identity && identity->count >= start->max_per_identity) {
            bool last = identity->count == 1;
            session_remove(sessions, identity->oldest);
            if (last)
                identity = NULL;
        }
    }
    identity = identity_get(sessions, session->account_id, session->iam_id);
    if (!identity) {
        pthread_mutex_unlock(&sessions->lock);
        iam_wipe(cookie, IAM_SESSION_TOKEN_SIZE);
        cookie[0] = '\0';
        iam_wipe(entry, sizeof *entry);
        free(entry);
        return IAM_ENOMEM;
    }

    size_t bucket = session_bucket(sessions, entry->hash);
    entry->bucket_next = sessions->buckets[bucket];
    sessions->buckets[bucket] = entry;
    entry->older = sessions->newest;
    if (sessions->newest)
        sessions->newest->newer = entry;
    else
        sessions->oldest = entry;
    sessions->newest = entry;
    sessions->count++;
    entry->identity = identity;
    entry->identity_older = identity->newest;
    if (identity->newest)
        identity->newest->identity_newer = entry;
    else
        identity->oldest = entry;
    identity->newest = entry;
    identity->count++;
    if (out)
        *out = *session;
    pthread_mutex_unlock(&sessions->lock);
    return IAM_OK;
}

/*
 * Finds the live session of `cookie` with the lock held, removing it when
 * expired; `touch` records a use. NULL when there is none.
 */
static struct session_entry *find_live(struct iam_sessions *sessions, const uint8_t hash[IAM_HASH_SIZE], bool touch)
{
    struct session_entry *entry = session_lookup(sessions, hash);
    if (!entry)
        return NULL;
    int64_t now = sessions->clock(sessions->clock_context);
    if (session_expired(entry, now)) {
        session_remove(sessions, entry);
        return NULL;
    }
    if (touch && now > entry->session.last_seen_at)
        entry->session.last_seen_at = now;
    return entry;
}

static enum iam_result find_or_touch(struct iam_sessions *sessions, const char *cookie, bool touch,
                                     struct iam_session *out)
{
    uint8_t hash[IAM_HASH_SIZE];
    if (!sessions || !cookie_hash(cookie, hash))
        return IAM_ENOTFOUND;
    pthread_mutex_lock(&sessions->lock);
    struct session_entry *entry = find_live(sessions, hash, touch);
    if (entry && out)
        *out = entry->session;
    pthread_mutex_unlock(&sessions->lock);
    return entry ? IAM_OK : IAM_ENOTFOUND;
}

enum iam_result iam_sessions_find(struct iam_sessions *sessions, const char *cookie, struct iam_session *out)
{
    return find_or_touch(sessions, cookie, false, out);
}

enum iam_result iam_sessions_touch(struct iam_sessions *sessions, const char *cookie)
{
    return find_or_touch(sessions, cookie, true, NULL);
}

bool iam_sessions_end(struct iam_sessions *sessions, const char *cookie)
{
    uint8_t hash[IAM_HASH_SIZE];
    if (!sessions || !cookie_hash(cookie, hash))
        return false;
    pthread_mutex_lock(&sessions->lock);
    struct session_entry *entry = session_lookup(sessions, hash);
    if (entry)
        session_remove(sessions, entry);
    pthread_mutex_unlock(&sessions->lock);
    return entry != NULL;
}

size_t iam_sessions_end_identity(struct iam_sessions *sessions, const char *account_id, const char *iam_id)
{
    if (!sessions || !account_id || !iam_id)
        return 0;
    size_t ended = 0;
    pthread_mutex_lock(&sessions->lock);
    struct identity_entry *identity = identity_find(sessions, account_id, iam_id);
    /* `identity` is freed with its last session: walk its list without touching it again. */
    struct session_entry *entry = identity ? identity->oldest : NULL;
    while (entry) {
        struct session_entry *next = entry->identity_newer;
        session_remove(sessions, entry);
        ended++;
        entry = next;
    }
    pthread_mutex_unlock(&sessions->lock);
    return ended;
}

size_t iam_sessions_count(struct iam_sessions *sessions)
{
    if (!sessions)
        return 0;
    pthread_mutex_lock(&sessions->lock);
    size_t count = sessions->count;
    pthread_mutex_unlock(&sessions->lock);
    return count;
}

bool iam_session_csrf_matches(const struct iam_session *session, const char *presented)
{
    if (!session || !presented || session->csrf_token[0] == '\0')
        return false;
    /* The length is no secret (always 43); only equal lengths are compared, in constant time. */
    if (strnlen(presented, IAM_SESSION_TOKEN_SIZE) != IAM_SESSION_TOKEN_LENGTH)
        return false;
    return iam_bytes_equal(session->csrf_token, presented, IAM_SESSION_TOKEN_LENGTH);
}
