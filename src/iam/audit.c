/*
 * audit.c: the audit trail's chain (keys, canonical form, append, verify)
 * and its authorized reads (see audit.h).
 *
 * Canonical form of a record, the input of its hash after prev_hash:
 *
 *   "iamd-audit-record-v2" 0x00
 *   seq, time_ms                                   8 bytes each, big-endian two's complement
 *   request_id, phase, actor_iam_id, actor_account_id, actor_apikey_id,
 *   client_address, action, method, route, account_id, target_type,
 *   target_id, outcome                             each a string (below)
 *   status                                         8 bytes, big-endian
 *   error_code, message_code, mechanism            each a string
 *   count, window_start_ms                         8 bytes each, big-endian
 *
 * A string is its length as 4 bytes big-endian then its bytes; NULL is the
 * length 0xFFFFFFFF and no bytes, so NULL and "" differ and no field can
 * run into the next. A new field means a new version tag.
 *
 * The head checkpoint, in meta under "audit_head": "<seq>:<hex MAC>" with
 * MAC = HMAC-SHA256(head key, "iamd-audit-head-v1" 0x00 || seq (8 bytes) ||
 * the hash of record seq). The head key is derived from the pepper with
 * another HKDF label than the chain key, so a checkpoint MAC can never pass
 * for a record hash or the other way round.
 */
#include "iam/audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "iam/service.h"

#define CHAIN_KEY_LABEL "iamd audit chain v1"
#define HEAD_KEY_LABEL "iamd audit head v1"
#define RECORD_TAG "iamd-audit-record-v2"
#define HEAD_TAG "iamd-audit-head-v1"

/* How many times an append re-reads the head after losing the race for the next seq to another node. */
#define APPEND_ATTEMPTS 32

/* The canonical form of a record read back may hold longer strings than we write (a changed row). */
#define CANONICAL_MAX (1024 * 1024)

#define VERIFY_BATCH 500

/* "<seq>:<64 hex>" */
#define CHECKPOINT_SIZE (24 + 1 + 2 * IAM_HASH_SIZE + 1)

struct iam_audit {
    struct iam_store *store;
    struct iam_hasher *chain; /* HMAC under the chain key */
    struct iam_hasher *head;  /* HMAC under the head-checkpoint key */
    enum iam_audit_mode mode;
    pthread_mutex_t append_lock; /* one append at a time in this process: threads never race each other */
};

enum iam_result iam_audit_mode_parse(const char *text, enum iam_audit_mode *mode)
{
    if (!text || !mode)
        return IAM_EINVAL;
    if (strcmp(text, "fail-closed") == 0)
        *mode = IAM_AUDIT_FAIL_CLOSED;
    else if (strcmp(text, "best-effort") == 0)
        *mode = IAM_AUDIT_BEST_EFFORT;
    else
        return IAM_EINVAL;
    return IAM_OK;
}

static enum iam_result derived_hasher(const uint8_t *pepper, size_t pepper_length, const char *label,
                                      struct iam_hasher **out)
{
    uint8_t key[IAM_HASH_SIZE];
    enum iam_result result =
        iam_hkdf_sha256(pepper, pepper_length, NULL, 0, label, strlen(label), key, sizeof key);
    if (result == IAM_OK)
        result = iam_hasher_new(key, sizeof key, out);
    iam_wipe(key, sizeof key);
    return result;
}

enum iam_result iam_audit_new(struct iam_store *store, const uint8_t *pepper, size_t pepper_length,
                              enum iam_audit_mode mode, struct iam_audit **out)
{
    if (!out)
        return IAM_EINVAL;
    *out = NULL;
    if (!store || !pepper || pepper_length < 16 || (mode != IAM_AUDIT_FAIL_CLOSED && mode != IAM_AUDIT_BEST_EFFORT))
        return IAM_EINVAL;
    struct iam_audit *audit = calloc(1, sizeof *audit);
    if (!audit)
        return IAM_ENOMEM;
    if (pthread_mutex_init(&audit->append_lock, NULL) != 0) {
        free(audit);
        return IAM_ENOMEM;
    }
    audit->store = store;
    audit->mode = mode;
    enum iam_result result = derived_hasher(pepper, pepper_length, CHAIN_KEY_LABEL, &audit->chain);
    if (result == IAM_OK)
        result = derived_hasher(pepper, pepper_length, HEAD_KEY_LABEL, &audit->head);
    if (result != IAM_OK) {
        iam_audit_free(audit);
        return result;
    }
    *out = audit;
    return IAM_OK;
}

struct iam_store *iam_audit_store(const struct iam_audit *audit)
{
    return audit ? audit->store : NULL;
}

void iam_audit_free(struct iam_audit *audit)
{
    if (!audit)
        return;
    iam_hasher_free(audit->chain);
    iam_hasher_free(audit->head);
    pthread_mutex_destroy(&audit->append_lock);
    free(audit);
}

enum iam_audit_mode iam_audit_mode_of(const struct iam_audit *audit)
{
    return audit ? audit->mode : IAM_AUDIT_FAIL_CLOSED;
}

/* --- canonical form and hashes --- */

static void put_u64(uint8_t out[8], int64_t value)
{
    uint64_t bits = (uint64_t)value;
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(bits & 0xff);
        bits >>= 8;
    }
}

static enum iam_result append_integer(struct iam_buf *buf, int64_t value)
{
    uint8_t bytes[8];
    put_u64(bytes, value);
    return iam_buf_append(buf, bytes, sizeof bytes);
}

static enum iam_result append_string(struct iam_buf *buf, const char *text)
{
    size_t length = text ? strlen(text) : 0;
    if (length >= 0xffffffffu)
        return IAM_ETOOBIG;
    uint32_t prefix = text ? (uint32_t)length : 0xffffffffu;
    uint8_t bytes[4] = {(uint8_t)(prefix >> 24), (uint8_t)(prefix >> 16), (uint8_t)(prefix >> 8), (uint8_t)prefix};
    enum iam_result result = iam_buf_append(buf, bytes, sizeof bytes);
    if (result == IAM_OK && length > 0)
        result = iam_buf_append(buf, text, length);
    return result;
}

/* prev_hash || canonical(record) into `buf`. */
static enum iam_result hash_input(const struct iam_audit_record *record, struct iam_buf *buf)
{
    const char *const strings_before[] = {
        record->request_id,   record->phase,          record->actor_iam_id, record->actor_account_id,
        record->actor_apikey_id, record->client_address, record->action,    record->method,
        record->route,        record->account_id,     record->target_type,  record->target_id,
        record->outcome,
    };
    enum iam_result result = iam_buf_append(buf, record->prev_hash, IAM_AUDIT_HASH_SIZE);
    if (result == IAM_OK)
        result = iam_buf_append(buf, RECORD_TAG, sizeof RECORD_TAG); /* with its NUL */
    if (result == IAM_OK)
        result = append_integer(buf, record->seq);
    if (result == IAM_OK)
        result = append_integer(buf, record->time_ms);
    for (size_t i = 0; result == IAM_OK && i < sizeof strings_before / sizeof strings_before[0]; i++)
        result = append_string(buf, strings_before[i]);
    if (result == IAM_OK)
        result = append_integer(buf, record->status);
    if (result == IAM_OK)
        result = append_string(buf, record->error_code);
    if (result == IAM_OK)
        result = append_string(buf, record->message_code);
    if (result == IAM_OK)
        result = append_string(buf, record->mechanism);
    if (result == IAM_OK)
        result = append_integer(buf, record->count);
    if (result == IAM_OK)
        result = append_integer(buf, record->window_start_ms);
    return result;
}

enum iam_result iam_audit_record_hash(const struct iam_audit *audit, const struct iam_audit_record *record,
                                      uint8_t out[IAM_AUDIT_HASH_SIZE])
{
    if (!audit || !record || !out)
        return IAM_EINVAL;
    struct iam_buf buf;
    iam_buf_init(&buf, CANONICAL_MAX);
    enum iam_result result = hash_input(record, &buf);
    if (result == IAM_OK)
        result = iam_hasher_mac(audit->chain, buf.data, buf.length, out);
    iam_buf_free(&buf);
    return result;
}

static enum iam_result head_mac(const struct iam_audit *audit, int64_t seq, const uint8_t hash[IAM_AUDIT_HASH_SIZE],
                                uint8_t out[IAM_HASH_SIZE])
{
    uint8_t input[sizeof HEAD_TAG + 8 + IAM_AUDIT_HASH_SIZE];
    memcpy(input, HEAD_TAG, sizeof HEAD_TAG);
    put_u64(input + sizeof HEAD_TAG, seq);
    memcpy(input + sizeof HEAD_TAG + 8, hash, IAM_AUDIT_HASH_SIZE);
    return iam_hasher_mac(audit->head, input, sizeof input, out);
}

static enum iam_result checkpoint_text(const struct iam_audit *audit, int64_t seq,
                                       const uint8_t hash[IAM_AUDIT_HASH_SIZE], char out[CHECKPOINT_SIZE])
{
    uint8_t mac[IAM_HASH_SIZE];
    enum iam_result result = head_mac(audit, seq, hash, mac);
    if (result != IAM_OK)
        return result;
    char hex[2 * IAM_HASH_SIZE + 1];
    iam_hex_encode(mac, sizeof mac, hex);
    snprintf(out, CHECKPOINT_SIZE, "%lld:%s", (long long)seq, hex);
    return IAM_OK;
}

/* Parses "<seq>:<64 hex>"; false when malformed. */
static bool checkpoint_parse(const char *text, int64_t *seq, uint8_t mac[IAM_HASH_SIZE])
{
    int64_t value = 0;
    size_t digits = 0;
    for (; text[digits] >= '0' && text[digits] <= '9'; digits++) {
        if (digits >= 18)
            return false;
        value = value * 10 + (text[digits] - '0');
    }
    if (digits == 0 || text[digits] != ':' || value < 1 || strlen(text + digits + 1) != 2 * IAM_HASH_SIZE)
        return false;
    if (iam_hex_decode(text + digits + 1, mac, IAM_HASH_SIZE) != IAM_OK)
        return false;
    *seq = value;
    return true;
}

/* --- append --- */

/* A cleaned copy of `text`: printable ASCII only (others become '?'), at most IAM_AUDIT_FIELD_MAX bytes. */
static enum iam_result clean(struct iam_arena *arena, const char **text)
{
    if (!*text)
        return IAM_OK;
    size_t length = strlen(*text);
    if (length > IAM_AUDIT_FIELD_MAX)
        length = IAM_AUDIT_FIELD_MAX;
    char *copy = iam_arena_alloc(arena, length + 1);
    if (!copy)
        return IAM_ENOMEM;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)(*text)[i];
        copy[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    copy[length] = '\0';
    *text = copy;
    return IAM_OK;
}

static enum iam_result clean_record(struct iam_arena *arena, struct iam_audit_record *record)
{
    const char **fields[] = {
        &record->request_id, &record->phase,       &record->actor_iam_id, &record->actor_account_id,
        &record->actor_apikey_id, &record->client_address, &record->action, &record->method,
        &record->route,      &record->account_id,  &record->target_type,  &record->target_id,
        &record->outcome,    &record->error_code,  &record->message_code, &record->mechanism,
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        enum iam_result result = clean(arena, fields[i]);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}

/* Sleeps a random 0..(attempt) milliseconds. */
static void conflict_pause(int attempt)
{
    uint16_t random = 0;
    if (iam_random_bytes(&random, sizeof random) != IAM_OK)
        random = 0;
    long microseconds = (long)(random % 1000u) * attempt;
    struct timespec pause = {.tv_sec = 0, .tv_nsec = microseconds * 1000L};
    nanosleep(&pause, NULL);
}

/* Checks and cleans one record and fills its defaults (time now, count 1, a window of its own time). */
static enum iam_result prepare_record(struct iam_arena *arena, struct iam_audit_record *record, int64_t now)
{
    if (!record->request_id || !record->phase || !record->action || !record->method || !record->route ||
        !record->outcome || record->count < 0)
        return IAM_EINVAL;
    enum iam_result result = clean_record(arena, record);
    if (result != IAM_OK)
        return result;
    if (record->time_ms == 0)
        record->time_ms = now;
    if (record->count == 0)
        record->count = 1;
    if (record->window_start_ms == 0 || record->window_start_ms > record->time_ms)
        record->window_start_ms = record->time_ms;
    return IAM_OK;
}

/* Numbers records[0..count) from head + 1 on, links and hashes them; the last one's checkpoint in `checkpoint`. */
static enum iam_result chain_records(struct iam_audit *audit, struct iam_audit_record *records, size_t count,
                                     int64_t head_seq, const uint8_t head_hash[IAM_AUDIT_HASH_SIZE],
                                     char checkpoint[CHECKPOINT_SIZE])
{
    const uint8_t *previous = head_hash;
    for (size_t i = 0; i < count; i++) {
        records[i].seq = head_seq + 1 + (int64_t)i;
        memmove(records[i].prev_hash, previous, IAM_AUDIT_HASH_SIZE);
        enum iam_result result = iam_audit_record_hash(audit, &records[i], records[i].hash);
        if (result != IAM_OK)
            return result;
        previous = records[i].hash;
    }
    return checkpoint_text(audit, records[count - 1].seq, records[count - 1].hash, checkpoint);
}

enum iam_result iam_audit_append_batch(struct iam_audit *audit, struct iam_arena *arena,
                                       struct iam_audit_record *records, size_t count)
{
    if (!audit || !arena || !records || count < 1 || count > IAM_STORE_AUDIT_INSERT_MAX)
        return IAM_EINVAL;
    int64_t now = iam_now_ms();
    for (size_t i = 0; i < count; i++) {
        enum iam_result result = prepare_record(arena, &records[i], now);
        if (result != IAM_OK)
            return result;
    }
    enum iam_result result = IAM_OK;
    pthread_mutex_lock(&audit->append_lock);
    for (int attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
        int64_t head_seq = 0;
        uint8_t head_hash[IAM_AUDIT_HASH_SIZE];
        result = iam_store_audit_head(audit->store, &head_seq, head_hash);
        if (result != IAM_OK)
            break;
        char checkpoint[CHECKPOINT_SIZE];
        result = chain_records(audit, records, count, head_seq, head_hash, checkpoint);
        if (result != IAM_OK)
            break;
        result = iam_store_audit_insert_batch(audit->store, records, count, checkpoint);
        if (result != IAM_ECONFLICT)
            break;
        /* Another node appended seq head + 1 first: chain onto its record instead, after a
         * short random pause once it keeps happening, so busy nodes stop colliding in step. */
        if (attempt >= 3)
            conflict_pause(attempt);
    }
    pthread_mutex_unlock(&audit->append_lock);
    if (result == IAM_ECONFLICT) {
        iam_log(IAM_LOG_ERROR, "audit_error", "gave up appending after %d races for the next seq", APPEND_ATTEMPTS);
        result = IAM_EUNAVAILABLE;
    }
    return result;
}

enum iam_result iam_audit_append(struct iam_audit *audit, struct iam_arena *arena, struct iam_audit_record *record)
{
    return iam_audit_append_batch(audit, arena, record, 1);
}

/* --- verify --- */

static void broken(struct iam_audit_verify_report *report, int64_t seq, const char *reason)
{
    report->intact = false;
    report->broken_seq = seq;
    snprintf(report->reason, sizeof report->reason, "%s", reason);
}

struct verify_walk {
    struct iam_audit *audit;
    struct iam_audit_verify_report *report;
    bool have_checkpoint;
    int64_t checkpoint_seq;
    uint8_t checkpoint_mac[IAM_HASH_SIZE];
    const struct iam_audit_anchor *anchor;
};

/* Checks one record against the chain so far; false (report filled) when it breaks. */
static bool verify_record(struct verify_walk *walk, const struct iam_audit_record *record, enum iam_result *error)
{
    struct iam_audit_verify_report *report = walk->report;
    int64_t expected = report->head_seq + 1;
    if (record->seq != expected) {
        broken(report, expected,
               record->seq > expected ? "this record is missing: the chain jumps past it (removed or renumbered)"
                                      : "records out of order");
        return false;
    }
    if (!iam_bytes_equal(record->prev_hash, report->head_hash, IAM_AUDIT_HASH_SIZE)) {
        broken(report, record->seq, "prev_hash does not match the hash of the record before (removed, inserted or "
                                    "reordered records)");
        return false;
    }
    uint8_t hash[IAM_AUDIT_HASH_SIZE];
    *error = iam_audit_record_hash(walk->audit, record, hash);
    if (*error == IAM_ETOOBIG) {
        *error = IAM_OK; /* strings longer than any record we write: changed */
        memset(hash, 0, sizeof hash);
    }
    if (*error != IAM_OK)
        return false;
    if (!iam_bytes_equal(hash, record->hash, IAM_AUDIT_HASH_SIZE)) {
        broken(report, record->seq, "the record's hash does not match its content (changed, or forged without the "
                                    "key)");
        return false;
    }
    if (walk->have_checkpoint && record->seq == walk->checkpoint_seq) {
        uint8_t mac[IAM_HASH_SIZE];
        *error = head_mac(walk->audit, record->seq, record->hash, mac);
        if (*error != IAM_OK)
            return false;
        if (!iam_bytes_equal(mac, walk->checkpoint_mac, sizeof mac)) {
            broken(report, record->seq, "the head checkpoint does not match this record");
            return false;
        }
    }
    if (walk->anchor && record->seq == walk->anchor->seq &&
        !iam_bytes_equal(record->hash, walk->anchor->hash, IAM_AUDIT_HASH_SIZE)) {
        broken(report, record->seq, "this record's hash differs from the anchor given");
        return false;
    }
    report->head_seq = record->seq;
    memcpy(report->head_hash, record->hash, IAM_AUDIT_HASH_SIZE);
    report->verified++;
    report->events += record->count;
    return true;
}

enum iam_result iam_audit_verify(struct iam_audit *audit, const struct iam_audit_anchor *anchor,
                                 struct iam_audit_verify_report *report)
{
    if (!audit || !report || (anchor && anchor->seq < 1))
        return IAM_EINVAL;
    memset(report, 0, sizeof *report);
    report->intact = true;
    struct iam_arena *arena = iam_arena_new();
    if (!arena)
        return IAM_ENOMEM;
    struct verify_walk walk = {.audit = audit, .report = report, .anchor = anchor};
    /* The checkpoint first: records appended while we walk come after it and are checked too. */
    const char *checkpoint = NULL;
    enum iam_result result = iam_store_meta_get(audit->store, arena, IAM_AUDIT_HEAD_META_KEY, &checkpoint);
    if (result == IAM_OK) {
        walk.have_checkpoint = true;
        if (!checkpoint_parse(checkpoint, &walk.checkpoint_seq, walk.checkpoint_mac)) {
            broken(report, 0, "the head checkpoint is malformed");
            goto out;
        }
    } else if (result == IAM_ENOTFOUND) {
        result = IAM_OK;
    } else {
        goto out;
    }
    bool going = true;
    while (going) {
        struct iam_audit_record *items = NULL;
        size_t count = 0;
        result = iam_store_audit_scan(audit->store, arena, report->head_seq, VERIFY_BATCH, &items, &count);
        if (result != IAM_OK)
            goto out;
        for (size_t i = 0; i < count; i++) {
            if (!verify_record(&walk, &items[i], &result)) {
                going = false;
                break;
            }
        }
        if (result != IAM_OK)
            goto out;
        if (count < VERIFY_BATCH)
            going = false;
        /* A fresh arena per batch keeps the walk's memory bounded. */
        iam_arena_free(arena);
        arena = iam_arena_new();
        if (!arena)
            return IAM_ENOMEM;
    }
    if (!report->intact)
        goto out;
    if (!walk.have_checkpoint && report->head_seq > 0) {
        broken(report, 0, "the head checkpoint is missing from the meta table");
    } else if (walk.have_checkpoint && report->head_seq < walk.checkpoint_seq) {
        broken(report, report->head_seq + 1,
               "records are missing from the end: the chain stops before the head checkpoint");
    } else if (anchor && report->head_seq < anchor->seq) {
        broken(report, report->head_seq + 1, "records are missing from the end: the chain stops before the anchor");
    }
out:
    iam_arena_free(arena);
    return result;
}

/* --- reads for the API --- */

static enum iam_result authorize(struct iam_service *service, const struct iam_principal *who,
                                 const char *account_id, struct iam_error *err)
{
    if (!service || !service->store || !who || !who->account_id || !who->iam_id)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The audit service is not set up.");
    if (!account_id || !*account_id)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "The query parameter account_id is required.");
    struct iam_target target = {.account_id = account_id};
    return iam_authz_check(service, who, IAM_ACTION_AUDIT_READ, &target, err);
}

static enum iam_result store_failure(enum iam_result result, struct iam_error *err)
{
    if (iam_store_failed(result))
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    if (result == IAM_ENOMEM)
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    if (result == IAM_EINVAL)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "A query parameter is not valid.");
    return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The audit records could not be read.");
}

enum iam_result iam_audit_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                               const struct iam_audit_query *query, struct iam_audit_record **items, size_t *count,
                               bool *has_more, struct iam_error *err)
{
    if (!arena || !query || !items || !count || !has_more)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "Bad arguments.");
    enum iam_result result = authorize(service, who, query->account_id, err);
    if (result != IAM_OK)
        return result;
    result = iam_store_audit_list(service->store, arena, query, items, count, has_more);
    return result == IAM_OK ? IAM_OK : store_failure(result, err);
}

enum iam_result iam_audit_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                              const char *account_id, int64_t seq, struct iam_audit_record *out,
                              struct iam_error *err)
{
    if (!arena || !out)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "Bad arguments.");
    enum iam_result result = authorize(service, who, account_id, err);
    if (result != IAM_OK)
        return result;
    result = iam_store_audit_get(service->store, arena, account_id, seq, out);
    if (result == IAM_ENOTFOUND)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0404E", "Audit record not found.");
    return result == IAM_OK ? IAM_OK : store_failure(result, err);
}
