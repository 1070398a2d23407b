/*
 * test_iam_audit.c: the audit trail's chain (src/iam/audit.c) over a real
 * SQLite store: the documented hash and checkpoint formats (recomputed here
 * from the pepper with nothing but HKDF and HMAC), cleaning of strings,
 * verification of an intact chain and with an anchor, detection of each
 * kind of tampering done directly in the database file (changed, removed,
 * reordered, inserted and forged records, a cut tail, a lost or forged
 * checkpoint, a wrong pepper), and concurrent appends from several threads
 * through two trails over two stores (two "nodes") that must leave one valid
 * chain, batches of records appended at once among them. With IAMD_TEST_STORE set to a PostgreSQL URL every test runs on a
 * fresh PostgreSQL database instead, except the tampering ones (they edit
 * the SQLite file; tests/api/audit.test.mjs tampers with PostgreSQL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/log.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "iam/audit.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "support/store_location.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define RECORDS 6

struct fixture {
    struct test_store_location location;
    struct iam_store *store;
    struct iam_audit *audit;
    struct iam_arena *arena;
    uint8_t pepper[32];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_store_location_create(&f->location, "iam_audit");
    f->store = test_store_open(f->location.path);
    for (size_t i = 0; i < sizeof f->pepper; i++)
        f->pepper[i] = (uint8_t)(0xa0 + i);
    assert_int_equal(iam_audit_new(f->store, f->pepper, sizeof f->pepper, IAM_AUDIT_FAIL_CLOSED, &f->audit), IAM_OK);
    f->arena = iam_arena_new();
    assert_non_null(f->arena);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    iam_audit_free(f->audit);
    iam_store_close(f->store);
    iam_arena_free(f->arena);
    test_store_location_remove(&f->location);
    free(f);
    return 0;
}

/* --- helpers --- */

static struct iam_audit_record record_of(const char *target_id, const char *outcome, int64_t status)
{
    struct iam_audit_record record = {
        .request_id = "00112233445566778899aabbccddeeff",
        .phase = strcmp(outcome, "pending") == 0 ? "request" : "outcome",
        .actor_iam_id = "IBMid-ALICE",
        .actor_account_id = ACCOUNT_A,
        .client_address = "192.0.2.7",
        .action = "iam-identity.serviceid.delete",
        .method = "DELETE",
        .route = "/v1/serviceids/{id}",
        .account_id = ACCOUNT_A,
        .target_type = "serviceid",
        .target_id = target_id,
        .outcome = outcome,
        .status = status,
    };
    return record;
}

/* Appends `count` records; each takes the next seq. */
static void append_records(struct fixture *f, int count)
{
    int64_t previous = 0;
    for (int i = 0; i < count; i++) {
        struct iam_audit_record record = record_of(i % 2 ? "ServiceId-b" : "ServiceId-a", i % 2 ? "success" : "pending",
                                                   i % 2 ? 204 : 0);
        assert_int_equal(iam_audit_append(f->audit, f->arena, &record), IAM_OK);
        if (i > 0)
            assert_int_equal(record.seq, previous + 1);
        previous = record.seq;
    }
}

/* Runs SQL on the file behind iamd's back, as someone with write access to the database would. */
static void tamper(struct fixture *f, const char *sql)
{
    if (f->location.database[0])
        fail_msg("tampering is written for SQLite");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->location.path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *message = NULL;
    int code = sqlite3_exec(db,
                            "DROP TRIGGER IF EXISTS audit_events_no_update;"
                            "DROP TRIGGER IF EXISTS audit_events_no_delete;",
                            NULL, NULL, &message);
    if (code == SQLITE_OK)
        code = sqlite3_exec(db, sql, NULL, NULL, &message);
    if (code != SQLITE_OK)
        fail_msg("tamper: %s: %s", sql, message ? message : "?");
    sqlite3_free(message);
    sqlite3_close(db);
}

static struct iam_audit_verify_report verify(struct fixture *f, const struct iam_audit_anchor *anchor)
{
    struct iam_audit_verify_report report;
    assert_int_equal(iam_audit_verify(f->audit, anchor, &report), IAM_OK);
    return report;
}

static void assert_broken_at(struct fixture *f, int64_t seq)
{
    struct iam_audit_verify_report report = verify(f, NULL);
    if (report.intact)
        fail_msg("the chain verified although it was tampered with (expected a break at %lld)", (long long)seq);
    assert_int_equal(report.broken_seq, seq);
    assert_int_equal(report.verified, seq > 0 ? seq - 1 : report.verified);
    assert_true(strlen(report.reason) > 0);
}

static struct iam_audit_record *scan_all(struct fixture *f, size_t *count)
{
    struct iam_audit_record *items = NULL;
    assert_int_equal(iam_store_audit_scan(f->store, f->arena, 0, 1000, &items, count), IAM_OK);
    return items;
}

/* Bytes written into a caller's array (the test builds hash inputs by hand). */
struct byte_writer {
    uint8_t *data;
    size_t length;
};

static void put_u64(struct byte_writer *out, int64_t value)
{
    for (int i = 7; i >= 0; i--)
        out->data[out->length++] = (uint8_t)(((uint64_t)value >> (8 * i)) & 0xff);
}

/* --- tests --- */

static void test_mode_parse(void **state)
{
    (void)state;
    enum iam_audit_mode mode = IAM_AUDIT_BEST_EFFORT;
    assert_int_equal(iam_audit_mode_parse("fail-closed", &mode), IAM_OK);
    assert_int_equal(mode, IAM_AUDIT_FAIL_CLOSED);
    assert_int_equal(iam_audit_mode_parse("best-effort", &mode), IAM_OK);
    assert_int_equal(mode, IAM_AUDIT_BEST_EFFORT);
    assert_int_equal(iam_audit_mode_parse("fail_closed", &mode), IAM_EINVAL);
    assert_int_equal(iam_audit_mode_parse("", &mode), IAM_EINVAL);
}

/*
 * The hash of record 1 and the head checkpoint, recomputed from the pepper
 * with the formats audit.h and audit.c document: a change of format (or of
 * key derivation) breaks every existing chain, so it must fail here first.
 */
static void test_documented_formats(void **state)
{
    struct fixture *f = *state;
    struct iam_audit_record record = record_of("ServiceId-a", "failure", 404);
    record.error_code = "not_found";
    record.message_code = NULL; /* NULL differs from "" */
    record.time_ms = 1700000000123;
    assert_int_equal(iam_audit_append(f->audit, f->arena, &record), IAM_OK);
    assert_int_equal(record.seq, 1);

    uint8_t chain_key[32], head_key[32];
    assert_int_equal(iam_hkdf_sha256(f->pepper, sizeof f->pepper, NULL, 0, "iamd audit chain v1", 19, chain_key, 32),
                     IAM_OK);
    assert_int_equal(iam_hkdf_sha256(f->pepper, sizeof f->pepper, NULL, 0, "iamd audit head v1", 18, head_key, 32),
                     IAM_OK);
    uint8_t bytes[2048];
    struct byte_writer input = {.data = bytes, .length = 0};
    memset(bytes, 0, 32); /* prev_hash of seq 1 */
    input.length = 32;
    memcpy(bytes + input.length, "iamd-audit-record-v2", 21);
    input.length += 21;
    put_u64(&input, 1);
    put_u64(&input, 1700000000123);
    const char *const strings[] = {record.request_id, "outcome", "IBMid-ALICE", ACCOUNT_A, NULL, "192.0.2.7",
                                   "iam-identity.serviceid.delete", "DELETE", "/v1/serviceids/{id}", ACCOUNT_A,
                                   "serviceid", "ServiceId-a", "failure"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        uint32_t length = strings[i] ? (uint32_t)strlen(strings[i]) : 0xffffffffu;
        bytes[input.length++] = (uint8_t)(length >> 24);
        bytes[input.length++] = (uint8_t)(length >> 16);
        bytes[input.length++] = (uint8_t)(length >> 8);
        bytes[input.length++] = (uint8_t)length;
        if (strings[i]) {
            memcpy(bytes + input.length, strings[i], strlen(strings[i]));
            input.length += strlen(strings[i]);
        }
    }
    put_u64(&input, 404);
    /* error_code, message_code (NULL), mechanism (NULL), count (0 means 1), window_start_ms (0 means time_ms). */
    const uint8_t tail[] = {0, 0, 0, 9, 'n', 'o', 't', '_', 'f', 'o', 'u', 'n', 'd', 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff};
    memcpy(bytes + input.length, tail, sizeof tail);
    input.length += sizeof tail;
    put_u64(&input, 1);
    put_u64(&input, 1700000000123);

    struct iam_hasher *chain = NULL, *head = NULL;
    uint8_t expected[32], mac[32];
    assert_int_equal(iam_hasher_new(chain_key, 32, &chain), IAM_OK);
    assert_int_equal(iam_hasher_mac(chain, bytes, input.length, expected), IAM_OK);
    assert_memory_equal(record.hash, expected, 32);

    size_t count = 0;
    struct iam_audit_record *stored = scan_all(f, &count);
    assert_int_equal(count, 1);
    assert_memory_equal(stored[0].hash, expected, 32);

    uint8_t head_input[19 + 8 + 32];
    memcpy(head_input, "iamd-audit-head-v1", 19);
    struct byte_writer seq_bytes = {.data = head_input + 19, .length = 0};
    put_u64(&seq_bytes, 1);
    memcpy(head_input + 27, expected, 32);
    assert_int_equal(iam_hasher_new(head_key, 32, &head), IAM_OK);
    assert_int_equal(iam_hasher_mac(head, head_input, sizeof head_input, mac), IAM_OK);
    char hex[65], checkpoint[80];
    iam_hex_encode(mac, 32, hex);
    snprintf(checkpoint, sizeof checkpoint, "1:%s", hex);
    const char *stored_checkpoint = NULL;
    assert_int_equal(iam_store_meta_get(f->store, f->arena, IAM_AUDIT_HEAD_META_KEY, &stored_checkpoint), IAM_OK);
    assert_string_equal(stored_checkpoint, checkpoint);

    /* The chain key is not HMAC(pepper, label): a stored API-key hash of that "key value" would reveal it. */
    uint8_t naive[32];
    struct iam_hasher *pepper_hasher = NULL;
    assert_int_equal(iam_hasher_new(f->pepper, sizeof f->pepper, &pepper_hasher), IAM_OK);
    assert_int_equal(iam_hasher_mac(pepper_hasher, "iamd audit chain v1", 19, naive), IAM_OK);
    assert_memory_not_equal(naive, chain_key, 32);
    iam_hasher_free(pepper_hasher);
    iam_hasher_free(chain);
    iam_hasher_free(head);
    iam_wipe(chain_key, sizeof chain_key);
    iam_wipe(head_key, sizeof head_key);
}

static void test_chain_links(void **state)
{
    struct fixture *f = *state;
    append_records(f, RECORDS);
    size_t count = 0;
    struct iam_audit_record *items = scan_all(f, &count);
    assert_int_equal(count, RECORDS);
    uint8_t zeros[32] = {0};
    assert_memory_equal(items[0].prev_hash, zeros, 32);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(items[i].seq, (int64_t)i + 1);
        if (i > 0)
            assert_memory_equal(items[i].prev_hash, items[i - 1].hash, 32);
        uint8_t hash[32];
        assert_int_equal(iam_audit_record_hash(f->audit, &items[i], hash), IAM_OK);
        assert_memory_equal(hash, items[i].hash, 32);
        assert_true(items[i].time_ms > 1700000000000); /* 0 means now */
    }
    /* Hashes depend on every field: the same record with another status hashes differently. */
    struct iam_audit_record changed = items[1];
    changed.status = 200;
    uint8_t hash[32];
    assert_int_equal(iam_audit_record_hash(f->audit, &changed, hash), IAM_OK);
    assert_memory_not_equal(hash, items[1].hash, 32);
    changed = items[1];
    changed.actor_apikey_id = ""; /* NULL and "" differ */
    assert_int_equal(iam_audit_record_hash(f->audit, &changed, hash), IAM_OK);
    assert_memory_not_equal(hash, items[1].hash, 32);
    /* The aggregate fields are in the hash too: a count or a window cannot be changed unnoticed. */
    changed = items[1];
    changed.count = 2;
    assert_int_equal(iam_audit_record_hash(f->audit, &changed, hash), IAM_OK);
    assert_memory_not_equal(hash, items[1].hash, 32);
    changed = items[1];
    changed.window_start_ms -= 1;
    assert_int_equal(iam_audit_record_hash(f->audit, &changed, hash), IAM_OK);
    assert_memory_not_equal(hash, items[1].hash, 32);
    changed = items[1];
    changed.mechanism = "bearer";
    assert_int_equal(iam_audit_record_hash(f->audit, &changed, hash), IAM_OK);
    assert_memory_not_equal(hash, items[1].hash, 32);
}

/* A batch takes consecutive seqs in one append, chained like single appends; verify adds up the counts. */
static void test_append_batch(void **state)
{
    struct fixture *f = *state;
    append_records(f, 2);
    struct iam_audit_record batch[4];
    for (int i = 0; i < 4; i++) {
        batch[i] = record_of("ApiKey-x", "success", 200);
        batch[i].phase = "aggregate";
        batch[i].action = "iam-identity.token.create";
        batch[i].mechanism = "urn:ibm:params:oauth:grant-type:apikey";
        batch[i].count = 10 * (i + 1);
        batch[i].time_ms = 1700000005000 + i;
        batch[i].window_start_ms = 1700000000000;
    }
    assert_int_equal(iam_audit_append_batch(f->audit, f->arena, batch, 4), IAM_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(batch[i].seq, 3 + i);
    assert_memory_equal(batch[1].prev_hash, batch[0].hash, 32);
    append_records(f, 1);
    struct iam_audit_verify_report report = verify(f, NULL);
    assert_true(report.intact);
    assert_int_equal(report.verified, 7);
    assert_int_equal(report.events, 3 + 10 + 20 + 30 + 40);
    size_t count = 0;
    struct iam_audit_record *items = scan_all(f, &count);
    assert_int_equal(count, 7);
    assert_int_equal(items[3].count, 20);
    assert_int_equal(items[3].window_start_ms, 1700000000000);
    assert_int_equal(items[3].time_ms, 1700000005001);
    assert_string_equal(items[3].mechanism, "urn:ibm:params:oauth:grant-type:apikey");
    /* Bad batches: empty, too large, a record without its required fields (nothing is written). */
    assert_int_equal(iam_audit_append_batch(f->audit, f->arena, batch, 0), IAM_EINVAL);
    assert_int_equal(iam_audit_append_batch(f->audit, f->arena, batch, IAM_STORE_AUDIT_INSERT_MAX + 1), IAM_EINVAL);
    batch[2].route = NULL;
    assert_int_equal(iam_audit_append_batch(f->audit, f->arena, batch, 4), IAM_EINVAL);
    assert_int_equal(verify(f, NULL).verified, 7);
}

static void test_strings_cleaned(void **state)
{
    struct fixture *f = *state;
    char long_id[400];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    struct iam_audit_record record = record_of(long_id, "failure", 404);
    record.route = "/v1/serviceids/{id}\n{\"forged\":true}";
    record.actor_iam_id = "IBMid-\xc3\xa9t\xe9\x01";
    assert_int_equal(iam_audit_append(f->audit, f->arena, &record), IAM_OK);
    struct iam_audit_record read;
    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_A, 1, &read), IAM_OK);
    assert_int_equal(strlen(read.target_id), IAM_AUDIT_FIELD_MAX);
    assert_string_equal(read.route, "/v1/serviceids/{id}?{\"forged\":true}");
    assert_string_equal(read.actor_iam_id, "IBMid-??t??");
    assert_true(verify(f, NULL).intact);
    /* A record without its required fields is refused. */
    struct iam_audit_record empty = {0};
    assert_int_equal(iam_audit_append(f->audit, f->arena, &empty), IAM_EINVAL);
}

static void test_verify_intact_and_anchor(void **state)
{
    struct fixture *f = *state;
    struct iam_audit_verify_report report = verify(f, NULL);
    assert_true(report.intact); /* empty */
    assert_int_equal(report.verified, 0);
    append_records(f, RECORDS);
    report = verify(f, NULL);
    assert_true(report.intact);
    assert_int_equal(report.verified, RECORDS);
    assert_int_equal(report.head_seq, RECORDS);
    size_t count = 0;
    struct iam_audit_record *items = scan_all(f, &count);
    assert_memory_equal(report.head_hash, items[RECORDS - 1].hash, 32);

    struct iam_audit_anchor anchor = {.seq = 4};
    memcpy(anchor.hash, items[3].hash, 32);
    assert_true(verify(f, &anchor).intact);
    anchor.hash[0] ^= 1;
    report = verify(f, &anchor);
    assert_false(report.intact);
    assert_int_equal(report.broken_seq, 4);
    anchor.seq = RECORDS + 3; /* an anchor the chain no longer reaches: cut from the end */
    report = verify(f, &anchor);
    assert_false(report.intact);
    assert_int_equal(report.broken_seq, RECORDS + 1);
}

static void test_wrong_pepper(void **state)
{
    struct fixture *f = *state;
    append_records(f, RECORDS);
    uint8_t other[32];
    memset(other, 0x11, sizeof other);
    struct iam_audit *stranger = NULL;
    assert_int_equal(iam_audit_new(f->store, other, sizeof other, IAM_AUDIT_FAIL_CLOSED, &stranger), IAM_OK);
    struct iam_audit_verify_report report;
    assert_int_equal(iam_audit_verify(stranger, NULL, &report), IAM_OK);
    assert_false(report.intact);
    assert_int_equal(report.broken_seq, 1);
    iam_audit_free(stranger);
}

static void test_detects_changed_record(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    tamper(f, "UPDATE audit_events SET outcome = 'failure', status = 403 WHERE seq = 4");
    assert_broken_at(f, 4);
}

static void test_detects_rehashed_record(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    /* Without the key, any new hash is a guess; changing the next prev_hash to match does not help. */
    tamper(f, "UPDATE audit_events SET target_id = 'ServiceId-z', hash = randomblob(32) WHERE seq = 3;"
              "UPDATE audit_events SET prev_hash = (SELECT hash FROM audit_events WHERE seq = 3) WHERE seq = 4");
    assert_broken_at(f, 3);
}

static void test_detects_removed_record(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    tamper(f, "DELETE FROM audit_events WHERE seq = 3");
    assert_broken_at(f, 3);
}

static void test_detects_removed_first_record(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    tamper(f, "DELETE FROM audit_events WHERE seq = 1");
    assert_broken_at(f, 1);
}

static void test_detects_renumbered_removal(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    /* Removing record 3 and closing the gap leaves seqs contiguous; the links give it away. */
    tamper(f, "DELETE FROM audit_events WHERE seq = 3;"
              "UPDATE audit_events SET seq = seq + 1000 WHERE seq > 3;"
              "UPDATE audit_events SET seq = seq - 1001 WHERE seq > 1000;");
    assert_broken_at(f, 3);
}

static void test_detects_reordered_records(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    tamper(f, "UPDATE audit_events SET seq = 1002 WHERE seq = 2;"
              "UPDATE audit_events SET seq = 2 WHERE seq = 4;"
              "UPDATE audit_events SET seq = 4 WHERE seq = 1002;");
    assert_broken_at(f, 2);
}

static void test_detects_inserted_record(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    /* Records 4.. move up one; a forged record 4 links to record 3 but cannot carry a valid hash. */
    tamper(f, "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 4;"
              "UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000;"
              "INSERT INTO audit_events SELECT 4, time_ms, request_id, phase, actor_iam_id, actor_account_id, "
              "actor_apikey_id, client_address, action, method, route, account_id, target_type, 'ServiceId-forged', "
              "outcome, status, error_code, message_code, mechanism, count, window_start_ms, hash, randomblob(32) "
              "FROM audit_events WHERE seq = 3");
    assert_broken_at(f, 4);
}

static void test_detects_forged_append(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    /* A record appended behind iamd's back, checkpoint moved along: neither can carry a valid MAC. */
    tamper(f, "INSERT INTO audit_events SELECT 7, time_ms, request_id, phase, actor_iam_id, actor_account_id, "
              "actor_apikey_id, client_address, action, method, route, account_id, target_type, target_id, "
              "outcome, status, error_code, message_code, mechanism, count, window_start_ms, hash, randomblob(32) "
              "FROM audit_events WHERE seq = 6;"
              "UPDATE meta SET value = '7:' || lower(hex(randomblob(32))) WHERE key = 'audit_head'");
    assert_broken_at(f, 7);
}

static void test_detects_cut_tail(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    tamper(f, "DELETE FROM audit_events WHERE seq >= 5");
    struct iam_audit_verify_report report = verify(f, NULL);
    assert_false(report.intact);
    assert_int_equal(report.broken_seq, 5);
    assert_int_equal(report.verified, 4); /* what is left is a valid chain: only the checkpoint tells */
}

static void test_detects_cut_tail_with_forged_checkpoint(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    /* Moving the checkpoint back to the new end needs its MAC, which needs the key. */
    tamper(f, "DELETE FROM audit_events WHERE seq >= 5;"
              "UPDATE meta SET value = '4:' || lower(hex((SELECT hash FROM audit_events WHERE seq = 4))) "
              "WHERE key = 'audit_head'");
    assert_broken_at(f, 4);
}

static void test_detects_lost_checkpoint(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    tamper(f, "DELETE FROM meta WHERE key = 'audit_head'");
    struct iam_audit_verify_report report = verify(f, NULL);
    assert_false(report.intact);
    assert_int_equal(report.broken_seq, 0);
    tamper(f, "INSERT INTO meta (key, value) VALUES ('audit_head', 'garbage')");
    report = verify(f, NULL);
    assert_false(report.intact);
    assert_int_equal(report.broken_seq, 0);
}

/* Appends after a break keep chaining onto the stored head: the break stays visible, nothing is hidden. */
static void test_break_stays_visible(void **state)
{
    struct fixture *f = *state;
    if (f->location.database[0])
        skip(); /* edits the SQLite file */
    append_records(f, RECORDS);
    tamper(f, "UPDATE audit_events SET outcome = 'failure' WHERE seq = 2");
    append_records(f, 2);
    assert_broken_at(f, 2);
}

struct writer {
    struct iam_audit *audit;
    int appends;
    int failures;
    bool batches; /* appends 3 records at a time */
};

static void *writer_run(void *argument)
{
    struct writer *writer = argument;
    struct iam_arena *arena = iam_arena_new();
    if (!arena) {
        writer->failures = writer->appends;
        return NULL;
    }
    for (int i = 0; i < writer->appends;) {
        struct iam_audit_record records[3];
        size_t count = writer->batches && writer->appends - i >= 3 ? 3 : 1;
        for (size_t j = 0; j < count; j++)
            records[j] = record_of("ServiceId-concurrent", "success", 200);
        if (iam_audit_append_batch(writer->audit, arena, records, count) != IAM_OK)
            writer->failures += (int)count;
        i += (int)count;
    }
    iam_arena_free(arena);
    return NULL;
}

/*
 * Six threads append at once through two trails over two stores opened on
 * one database, as two iamd nodes would (each trail has its own lock and
 * each store its own connections, so they really race for the next seq and
 * the store's seq = head + 1 rule decides): every append succeeds, and the
 * result is one valid chain without gaps or forks.
 */
static void test_concurrent_appends(void **state)
{
    struct fixture *f = *state;
    struct iam_store *second_store = NULL;
    struct iam_audit *second = NULL;
    struct iam_error err;
    iam_error_clear(&err);
    assert_int_equal(iam_store_open(f->location.path, &second_store, &err), IAM_OK);
    assert_int_equal(iam_audit_new(second_store, f->pepper, sizeof f->pepper, IAM_AUDIT_FAIL_CLOSED, &second), IAM_OK);
    enum { THREADS = 6, EACH = 20 };
    pthread_t threads[THREADS];
    struct writer writers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        writers[i] = (struct writer){.audit = i % 2 ? second : f->audit, .appends = EACH, .batches = i >= 3};
        assert_int_equal(pthread_create(&threads[i], NULL, writer_run, &writers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(writers[i].failures, 0);
    }
    struct iam_audit_verify_report report = verify(f, NULL);
    assert_true(report.intact);
    assert_int_equal(report.verified, THREADS * EACH);
    assert_int_equal(report.head_seq, THREADS * EACH);
    iam_audit_free(second);
    iam_store_close(second_store);
}

int main(void)
{
    iam_log_set_level(IAM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_parse),
        cmocka_unit_test_setup_teardown(test_documented_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_cleaned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_intact_and_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_pepper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_changed_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_rehashed_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_removed_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_removed_first_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_renumbered_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_reordered_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_inserted_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_forged_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_cut_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_cut_tail_with_forged_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detects_lost_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_break_stays_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
