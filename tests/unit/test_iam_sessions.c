/*
 * test_iam_sessions.c: tests of src/iam/sessions.c (console sessions) over a
 * real store (a SQLite file, or with IAMD_TEST_STORE set to a PostgreSQL URL
 * a fresh PostgreSQL database): start and find, idle and absolute expiry on
 * an injected clock, touch throttling, the purge (expired first, then the
 * oldest beyond the bound), the per-identity cap, sign-out, sign-out of an
 * identity everywhere, the derived CSRF token (its documented formula, the
 * same on every node, another under another pepper) and its comparison,
 * sessions shared by two "nodes" (two stores on one database), no revision
 * bump, input checks, and concurrent use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "iam/sessions.h"
#include "store/store.h"
#include "support/store_location.h"

#define T0 1700000000

static const uint8_t pepper[32] = "0123456789abcdef0123456789abcdef";

static int64_t test_clock(void *context)
{
    return *(int64_t *)context;
}

struct fixture {
    int64_t now;
    struct test_store_location location;
    struct iam_store *store;
    struct iam_sessions *sessions;
};

/* A sessions table over `store` reading the fixture's clock. */
static struct iam_sessions *sessions_over(struct fixture *fixture, struct iam_store *store, size_t max_sessions,
                                          const uint8_t *key, size_t key_length)
{
    struct iam_sessions_options options = {.store = store, .pepper = key, .pepper_length = key_length,
                                           .max_sessions = max_sessions, .clock = test_clock,
                                           .clock_context = &fixture->now};
    struct iam_sessions *sessions = NULL;
    assert_int_equal(iam_sessions_new(&options, &sessions), IAM_OK);
    return sessions;
}

static struct fixture *fixture_new(size_t max_sessions)
{
    struct fixture *fixture = test_calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    fixture->now = T0;
    test_store_location_create(&fixture->location, "iam_sessions");
    fixture->store = test_store_open(fixture->location.path);
    fixture->sessions = sessions_over(fixture, fixture->store, max_sessions, pepper, sizeof pepper);
    return fixture;
}

static void fixture_free(struct fixture *fixture)
{
    iam_sessions_free(fixture->sessions);
    iam_store_close(fixture->store);
    test_store_location_remove(&fixture->location);
    test_free(fixture);
}

static struct iam_session_start start_for(const char *account_id, const char *iam_id, int64_t idle, int64_t absolute)
{
    struct iam_session_start start = {
        .kind = IAM_PRINCIPAL_USER,
        .iam_id = iam_id,
        .account_id = account_id,
        .idle_timeout = idle,
        .absolute_timeout = absolute,
    };
    return start;
}

static void start_ok(struct fixture *fixture, const struct iam_session_start *start, char cookie[IAM_SESSION_TOKEN_SIZE],
                     struct iam_session *out)
{
    assert_int_equal(iam_sessions_start(fixture->sessions, start, cookie, out), IAM_OK);
}

static bool alive(struct fixture *fixture, const char *cookie)
{
    struct iam_session session;
    return iam_sessions_find(fixture->sessions, cookie, &session) == IAM_OK;
}

static void assert_base64url_token(const char *text)
{
    assert_int_equal(strlen(text), IAM_SESSION_TOKEN_LENGTH);
    for (const char *c = text; *c; c++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *c));
}

static void test_start_and_find(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    start.apikey_id = "ApiKey-1";
    char cookie[IAM_SESSION_TOKEN_SIZE];
    struct iam_session created;
    start_ok(fixture, &start, cookie, &created);
    assert_base64url_token(cookie);
    assert_base64url_token(created.csrf_token);
    assert_string_not_equal(cookie, created.csrf_token);
    assert_string_equal(created.iam_id, "IBMid-AAAAAAAAAA");
    assert_string_equal(created.account_id, "acc1");
    assert_string_equal(created.apikey_id, "ApiKey-1");
    assert_int_equal(created.kind, IAM_PRINCIPAL_USER);
    assert_int_equal(created.created_at, T0);
    assert_int_equal(created.last_seen_at, T0);
    assert_int_equal(created.expires_at, T0 + 86400);
    assert_int_equal(created.idle_timeout, 7200);

    struct iam_session found;
    assert_int_equal(iam_sessions_find(fixture->sessions, cookie, &found), IAM_OK);
    assert_string_equal(found.iam_id, created.iam_id);
    assert_string_equal(found.csrf_token, created.csrf_token);
    assert_int_equal(iam_sessions_count(fixture->sessions), 1);

    /* A second session of the same identity has its own secrets. */
    char other[IAM_SESSION_TOKEN_SIZE];
    struct iam_session second;
    start_ok(fixture, &start, other, &second);
    assert_string_not_equal(cookie, other);
    assert_string_not_equal(created.csrf_token, second.csrf_token);
    assert_int_equal(iam_sessions_count(fixture->sessions), 2);
    fixture_free(fixture);
}

static void test_unknown_and_malformed_cookies(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    char cookie[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &start, cookie, NULL);
    struct iam_session found;

    char altered[IAM_SESSION_TOKEN_SIZE];
    memcpy(altered, cookie, sizeof altered);
    altered[10] = altered[10] == 'A' ? 'B' : 'A';
    assert_int_equal(iam_sessions_find(fixture->sessions, altered, &found), IAM_ENOTFOUND);

    char shorter[IAM_SESSION_TOKEN_SIZE];
    memcpy(shorter, cookie, sizeof shorter);
    shorter[IAM_SESSION_TOKEN_LENGTH - 1] = '\0';
    assert_int_equal(iam_sessions_find(fixture->sessions, shorter, &found), IAM_ENOTFOUND);

    char longer[IAM_SESSION_TOKEN_SIZE + 1];
    snprintf(longer, sizeof longer, "%sA", cookie);
    assert_int_equal(iam_sessions_find(fixture->sessions, longer, &found), IAM_ENOTFOUND);

    char bad_character[IAM_SESSION_TOKEN_SIZE];
    memcpy(bad_character, cookie, sizeof bad_character);
    bad_character[0] = '+';
    assert_int_equal(iam_sessions_find(fixture->sessions, bad_character, &found), IAM_ENOTFOUND);

    assert_int_equal(iam_sessions_find(fixture->sessions, NULL, &found), IAM_ENOTFOUND);
    assert_int_equal(iam_sessions_find(fixture->sessions, "", &found), IAM_ENOTFOUND);
    assert_int_equal(iam_sessions_find(NULL, cookie, &found), IAM_ENOTFOUND);
    assert_int_equal(iam_sessions_touch(fixture->sessions, altered, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_sessions_end(fixture->sessions, altered), IAM_ENOTFOUND);
    assert_int_equal(iam_sessions_end(fixture->sessions, bad_character), IAM_ENOTFOUND);
    /* The real one is untouched by all of that. */
    assert_true(alive(fixture, cookie));
    assert_int_equal(iam_sessions_count(fixture->sessions), 1);
    fixture_free(fixture);
}

static void test_idle_expiry(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 100, 1000);
    char cookie[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &start, cookie, NULL);

    fixture->now = T0 + 99;
    assert_true(alive(fixture, cookie)); /* finding is not a use ... */
    fixture->now = T0 + 100;
    assert_false(alive(fixture, cookie)); /* ... so the idle time ran out from the start */
    assert_int_equal(iam_sessions_count(fixture->sessions), 0); /* and the expired session is gone */

    fixture->now = T0;
    char touched[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &start, touched, NULL);
    fixture->now = T0 + 99;
    assert_int_equal(iam_sessions_touch(fixture->sessions, touched, NULL), IAM_OK);
    struct iam_session found;
    assert_int_equal(iam_sessions_find(fixture->sessions, touched, &found), IAM_OK);
    assert_int_equal(found.last_seen_at, T0 + 99);
    fixture->now = T0 + 198;
    assert_true(alive(fixture, touched));
    fixture->now = T0 + 199;
    assert_false(alive(fixture, touched));
    assert_int_equal(iam_sessions_touch(fixture->sessions, touched, NULL), IAM_ENOTFOUND);
    fixture_free(fixture);
}

static void test_absolute_expiry(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 100, 250);
    char cookie[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &start, cookie, NULL);
    /* Used every 60 s: the idle timer never runs out, the absolute one does. */
    for (int64_t t = 60; t < 250; t += 60) {
        fixture->now = T0 + t;
        assert_int_equal(iam_sessions_touch(fixture->sessions, cookie, NULL), IAM_OK);
    }
    fixture->now = T0 + 249;
    assert_true(alive(fixture, cookie));
    fixture->now = T0 + 250;
    assert_false(alive(fixture, cookie));
    assert_int_equal(iam_sessions_touch(fixture->sessions, cookie, NULL), IAM_ENOTFOUND);
    fixture_free(fixture);
}

static int64_t last_seen(struct fixture *fixture, const char *cookie)
{
    struct iam_session found;
    assert_int_equal(iam_sessions_find(fixture->sessions, cookie, &found), IAM_OK);
    return found.last_seen_at;
}

static void test_touch_throttling(void **state)
{
    assert_int_equal(iam_sessions_touch_interval(7200), IAM_SESSIONS_TOUCH_INTERVAL_MAX);
    assert_int_equal(iam_sessions_touch_interval(100), 10);
    assert_int_equal(iam_sessions_touch_interval(5), 1);

    struct fixture *fixture = fixture_new(0);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    char cookie[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &start, cookie, NULL);
    /* Within the interval (60 s here) a use is not written ... */
    fixture->now = T0 + 59;
    assert_int_equal(iam_sessions_touch(fixture->sessions, cookie, NULL), IAM_OK);
    assert_int_equal(last_seen(fixture, cookie), T0);
    /* ... once it has passed, it is. */
    fixture->now = T0 + 60;
    assert_int_equal(iam_sessions_touch(fixture->sessions, cookie, NULL), IAM_OK);
    assert_int_equal(last_seen(fixture, cookie), T0 + 60);

    /* With the state the request found: nothing is read or written when no write is due ... */
    struct iam_session seen;
    assert_int_equal(iam_sessions_find(fixture->sessions, cookie, &seen), IAM_OK);
    assert_int_equal(iam_sessions_end(fixture->sessions, cookie), IAM_OK); /* signed out elsewhere meanwhile */
    fixture->now = T0 + 61;
    assert_int_equal(iam_sessions_touch(fixture->sessions, cookie, &seen), IAM_OK);
    /* ... and a due write finds the session gone. */
    fixture->now = T0 + 120;
    assert_int_equal(iam_sessions_touch(fixture->sessions, cookie, &seen), IAM_ENOTFOUND);

    /* The documented slack: a use within the interval is not recorded, so the session ends
       idle_timeout after the recorded use, up to one interval (10 s here) early. */
    fixture->now = T0;
    struct iam_session_start short_idle = start_for("acc1", "IBMid-AAAAAAAAAA", 100, 86400);
    start_ok(fixture, &short_idle, cookie, NULL);
    fixture->now = T0 + 9;
    assert_int_equal(iam_sessions_touch(fixture->sessions, cookie, NULL), IAM_OK);
    assert_int_equal(last_seen(fixture, cookie), T0);
    fixture->now = T0 + 99;
    assert_true(alive(fixture, cookie));
    fixture->now = T0 + 100;
    assert_false(alive(fixture, cookie));
    fixture_free(fixture);
}

static void test_purge_trims_oldest(void **state)
{
    struct fixture *fixture = fixture_new(3);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    char cookies[5][IAM_SESSION_TOKEN_SIZE];
    for (int i = 0; i < 3; i++) {
        fixture->now = T0 + i;
        start_ok(fixture, &start, cookies[i], NULL);
    }
    size_t removed = 99;
    assert_int_equal(iam_sessions_purge(fixture->sessions, &removed), IAM_OK);
    assert_int_equal(removed, 0);
    /* Using the oldest does not save it: trimming is by age. */
    fixture->now = T0 + 100;
    assert_int_equal(iam_sessions_touch(fixture->sessions, cookies[0], NULL), IAM_OK);
    start_ok(fixture, &start, cookies[3], NULL);
    assert_int_equal(iam_sessions_count(fixture->sessions), 4); /* over the bound until the purge */
    assert_int_equal(iam_sessions_purge(fixture->sessions, &removed), IAM_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(iam_sessions_count(fixture->sessions), 3);
    assert_false(alive(fixture, cookies[0]));
    assert_true(alive(fixture, cookies[1]));
    assert_true(alive(fixture, cookies[2]));
    assert_true(alive(fixture, cookies[3]));
    fixture->now = T0 + 101;
    start_ok(fixture, &start, cookies[4], NULL);
    assert_int_equal(iam_sessions_purge(fixture->sessions, NULL), IAM_OK);
    assert_false(alive(fixture, cookies[1]));
    assert_true(alive(fixture, cookies[4]));
    assert_int_equal(iam_sessions_count(fixture->sessions), 3);
    fixture_free(fixture);
}

static void test_purge_drops_expired_first(void **state)
{
    struct fixture *fixture = fixture_new(3);
    struct iam_session_start long_lived = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    struct iam_session_start short_lived = start_for("acc1", "IBMid-BBBBBBBBBB", 10, 86400);
    struct iam_session_start short_absolute = start_for("acc1", "IBMid-CCCCCCCCCC", 7200, 50);
    char oldest[IAM_SESSION_TOKEN_SIZE], expiring[IAM_SESSION_TOKEN_SIZE], ending[IAM_SESSION_TOKEN_SIZE],
        third[IAM_SESSION_TOKEN_SIZE], fourth[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &long_lived, oldest, NULL);
    fixture->now = T0 + 1;
    start_ok(fixture, &short_lived, expiring, NULL);
    start_ok(fixture, &short_absolute, ending, NULL);
    fixture->now = T0 + 2;
    start_ok(fixture, &long_lived, third, NULL);
    fixture->now = T0 + 100; /* the short-lived ones have expired but are still counted */
    assert_int_equal(iam_sessions_count(fixture->sessions), 4);
    start_ok(fixture, &long_lived, fourth, NULL);
    size_t removed = 0;
    assert_int_equal(iam_sessions_purge(fixture->sessions, &removed), IAM_OK);
    assert_int_equal(removed, 2);
    assert_int_equal(iam_sessions_count(fixture->sessions), 3);
    assert_true(alive(fixture, oldest)); /* the oldest live session survives */
    assert_true(alive(fixture, third));
    assert_true(alive(fixture, fourth));
    assert_false(alive(fixture, expiring));
    assert_false(alive(fixture, ending));
    fixture_free(fixture);
}

static void test_per_identity_limit(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_session_start alice = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    alice.max_per_identity = 2;
    struct iam_session_start bob = start_for("acc1", "IBMid-BBBBBBBBBB", 7200, 86400);
    /* The same iam_id in another account is another identity. */
    struct iam_session_start alice_elsewhere = start_for("acc2", "IBMid-AAAAAAAAAA", 7200, 86400);
    char bob1[IAM_SESSION_TOKEN_SIZE], elsewhere[IAM_SESSION_TOKEN_SIZE];
    char a[4][IAM_SESSION_TOKEN_SIZE];
    /* Each start one second later: "oldest" is by creation time. */
    start_ok(fixture, &bob, bob1, NULL);
    start_ok(fixture, &alice_elsewhere, elsewhere, NULL);
    fixture->now++;
    start_ok(fixture, &alice, a[0], NULL);
    fixture->now++;
    start_ok(fixture, &alice, a[1], NULL);
    assert_true(alive(fixture, a[0]));
    fixture->now++;
    start_ok(fixture, &alice, a[2], NULL);
    assert_false(alive(fixture, a[0]));
    assert_true(alive(fixture, a[1]));
    assert_true(alive(fixture, a[2]));
    assert_true(alive(fixture, bob1));
    assert_true(alive(fixture, elsewhere));
    assert_int_equal(iam_sessions_count(fixture->sessions), 4);

    /* A cap of one: each sign-in replaces the previous session. */
    alice.max_per_identity = 1;
    fixture->now++;
    start_ok(fixture, &alice, a[3], NULL);
    assert_false(alive(fixture, a[1]));
    assert_false(alive(fixture, a[2]));
    assert_true(alive(fixture, a[3]));
    assert_int_equal(iam_sessions_count(fixture->sessions), 3);

    /* Expired sessions of the identity are dropped before live ones are evicted. */
    fixture->now = T0;
    struct iam_session_start carol = start_for("acc1", "IBMid-CCCCCCCCCC", 10, 86400);
    carol.max_per_identity = 2;
    char c1[IAM_SESSION_TOKEN_SIZE], c2[IAM_SESSION_TOKEN_SIZE], c3[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &carol, c1, NULL);
    fixture->now = T0 + 5;
    carol.idle_timeout = 7200;
    start_ok(fixture, &carol, c2, NULL);
    fixture->now = T0 + 20; /* c1 has expired (idle 10) */
    start_ok(fixture, &carol, c3, NULL);
    assert_true(alive(fixture, c2));
    assert_true(alive(fixture, c3));
    assert_false(alive(fixture, c1));
    fixture_free(fixture);
}

static void test_sign_out(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    char first[IAM_SESSION_TOKEN_SIZE], second[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &start, first, NULL);
    start_ok(fixture, &start, second, NULL);
    assert_int_equal(iam_sessions_end(fixture->sessions, first), IAM_OK);
    assert_false(alive(fixture, first));
    assert_int_equal(iam_sessions_end(fixture->sessions, first), IAM_ENOTFOUND);
    assert_int_equal(iam_sessions_touch(fixture->sessions, first, NULL), IAM_ENOTFOUND);
    assert_true(alive(fixture, second));
    assert_int_equal(iam_sessions_count(fixture->sessions), 1);
    fixture_free(fixture);
}

static void test_end_identity(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_session_start alice = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    struct iam_session_start bob = start_for("acc1", "IBMid-BBBBBBBBBB", 7200, 86400);
    char a1[IAM_SESSION_TOKEN_SIZE], a2[IAM_SESSION_TOKEN_SIZE], b1[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &alice, a1, NULL);
    start_ok(fixture, &bob, b1, NULL);
    start_ok(fixture, &alice, a2, NULL);
    size_t ended = 0;
    assert_int_equal(iam_sessions_end_identity(fixture->sessions, "acc1", "IBMid-AAAAAAAAAA", &ended), IAM_OK);
    assert_int_equal(ended, 2);
    assert_false(alive(fixture, a1));
    assert_false(alive(fixture, a2));
    assert_true(alive(fixture, b1));
    assert_int_equal(iam_sessions_end_identity(fixture->sessions, "acc1", "IBMid-AAAAAAAAAA", &ended), IAM_OK);
    assert_int_equal(ended, 0);
    assert_int_equal(iam_sessions_end_identity(fixture->sessions, "acc2", "IBMid-BBBBBBBBBB", &ended), IAM_OK);
    assert_int_equal(ended, 0);
    assert_int_equal(iam_sessions_end_identity(fixture->sessions, NULL, "IBMid-BBBBBBBBBB", &ended), IAM_EINVAL);
    assert_int_equal(iam_sessions_count(fixture->sessions), 1);
    /* The identity can sign in again afterwards. */
    start_ok(fixture, &alice, a1, NULL);
    assert_true(alive(fixture, a1));
    fixture_free(fixture);
}

static void test_csrf_compare(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    char cookie[IAM_SESSION_TOKEN_SIZE], other_cookie[IAM_SESSION_TOKEN_SIZE];
    struct iam_session session, other;
    start_ok(fixture, &start, cookie, &session);
    start_ok(fixture, &start, other_cookie, &other);
    assert_true(iam_session_csrf_matches(&session, session.csrf_token));
    assert_false(iam_session_csrf_matches(&session, other.csrf_token));
    assert_false(iam_session_csrf_matches(&session, cookie)); /* the cookie is not the CSRF token */
    assert_false(iam_session_csrf_matches(&session, NULL));
    assert_false(iam_session_csrf_matches(&session, ""));
    char prefix[IAM_SESSION_TOKEN_SIZE];
    memcpy(prefix, session.csrf_token, sizeof prefix);
    prefix[IAM_SESSION_TOKEN_LENGTH - 1] = '\0';
    assert_false(iam_session_csrf_matches(&session, prefix));
    char longer[IAM_SESSION_TOKEN_SIZE + 2];
    snprintf(longer, sizeof longer, "%sx", session.csrf_token);
    assert_false(iam_session_csrf_matches(&session, longer));
    char altered[IAM_SESSION_TOKEN_SIZE];
    memcpy(altered, session.csrf_token, sizeof altered);
    altered[IAM_SESSION_TOKEN_LENGTH - 1] = altered[IAM_SESSION_TOKEN_LENGTH - 1] == 'A' ? 'B' : 'A';
    assert_false(iam_session_csrf_matches(&session, altered));
    struct iam_session empty;
    memset(&empty, 0, sizeof empty);
    assert_false(iam_session_csrf_matches(&empty, ""));
    assert_false(iam_session_csrf_matches(NULL, session.csrf_token));
    fixture_free(fixture);
}

/* The documented formula: base64url(HMAC-SHA256(HKDF-SHA256(pepper, info "iamd console csrf v1"), cookie)). */
static void test_csrf_derivation(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    char cookie[IAM_SESSION_TOKEN_SIZE];
    struct iam_session created;
    start_ok(fixture, &start, cookie, &created);

    static const char info[] = "iamd console csrf v1";
    uint8_t key[IAM_HASH_SIZE], mac[IAM_HASH_SIZE];
    assert_int_equal(iam_hkdf_sha256(pepper, sizeof pepper, NULL, 0, info, strlen(info), key, sizeof key), IAM_OK);
    struct iam_hasher *hasher = NULL;
    assert_int_equal(iam_hasher_new(key, sizeof key, &hasher), IAM_OK);
    assert_int_equal(iam_hasher_mac(hasher, cookie, strlen(cookie), mac), IAM_OK);
    iam_hasher_free(hasher);
    char expected[IAM_SESSION_TOKEN_SIZE];
    assert_int_equal(iam_base64url_encode(mac, sizeof mac, expected, sizeof expected), IAM_OK);
    assert_string_equal(created.csrf_token, expected);
    struct iam_session found;
    assert_int_equal(iam_sessions_find(fixture->sessions, cookie, &found), IAM_OK);
    assert_string_equal(found.csrf_token, expected);

    /* Another pepper: the same session (same store) has another token, and the first does not match. */
    static const uint8_t other_pepper[32] = "fedcba9876543210fedcba9876543210";
    struct iam_sessions *other = sessions_over(fixture, fixture->store, 0, other_pepper, sizeof other_pepper);
    struct iam_session elsewhere;
    assert_int_equal(iam_sessions_find(other, cookie, &elsewhere), IAM_OK);
    assert_string_not_equal(elsewhere.csrf_token, expected);
    assert_false(iam_session_csrf_matches(&elsewhere, created.csrf_token));
    iam_sessions_free(other);
    fixture_free(fixture);
}

/* Two nodes: two stores (connections) on one database, each with its own table, the same pepper. */
static void test_shared_between_nodes(void **state)
{
    struct fixture *fixture = fixture_new(0);
    struct iam_store *store_b = test_store_open(fixture->location.path);
    struct iam_sessions *node_b = sessions_over(fixture, store_b, 0, pepper, sizeof pepper);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, 86400);
    start.apikey_id = "ApiKey-1";
    start.kind = IAM_PRINCIPAL_SERVICE_ID;
    char cookie[IAM_SESSION_TOKEN_SIZE];
    struct iam_session created, found;
    start_ok(fixture, &start, cookie, &created);
    assert_int_equal(iam_sessions_find(node_b, cookie, &found), IAM_OK);
    assert_int_equal(found.kind, IAM_PRINCIPAL_SERVICE_ID);
    assert_string_equal(found.iam_id, "IBMid-AAAAAAAAAA");
    assert_string_equal(found.account_id, "acc1");
    assert_string_equal(found.apikey_id, "ApiKey-1");
    assert_string_equal(found.csrf_token, created.csrf_token);
    assert_int_equal(found.expires_at, created.expires_at);
    /* A use on B is seen on A. */
    fixture->now = T0 + 600;
    assert_int_equal(iam_sessions_touch(node_b, cookie, &found), IAM_OK);
    assert_int_equal(last_seen(fixture, cookie), T0 + 600);
    /* Sign-out on B ends it on A at once. */
    assert_int_equal(iam_sessions_end(node_b, cookie), IAM_OK);
    assert_false(alive(fixture, cookie));
    iam_sessions_free(node_b);
    iam_store_close(store_b);
    fixture_free(fixture);
}

/* Sessions are not configuration: none of their writes moves the store revision. */
static void test_no_revision_bump(void **state)
{
    struct fixture *fixture = fixture_new(1);
    int64_t before = 0, after = 0;
    assert_int_equal(iam_store_revision(fixture->store, &before), IAM_OK);
    struct iam_session_start start = start_for("acc1", "IBMid-AAAAAAAAAA", 100, 86400);
    start.max_per_identity = 1;
    char cookie[IAM_SESSION_TOKEN_SIZE], second[IAM_SESSION_TOKEN_SIZE];
    start_ok(fixture, &start, cookie, NULL);
    fixture->now = T0 + 1;
    start_ok(fixture, &start, second, NULL); /* ends the first */
    fixture->now = T0 + 50;
    assert_int_equal(iam_sessions_touch(fixture->sessions, second, NULL), IAM_OK);
    start = start_for("acc1", "IBMid-BBBBBBBBBB", 100, 86400);
    start_ok(fixture, &start, cookie, NULL);
    assert_int_equal(iam_sessions_purge(fixture->sessions, NULL), IAM_OK); /* trims one */
    assert_int_equal(iam_sessions_end(fixture->sessions, cookie), IAM_OK);
    size_t ended = 0;
    assert_int_equal(iam_sessions_end_identity(fixture->sessions, "acc1", "IBMid-AAAAAAAAAA", &ended), IAM_OK);
    assert_int_equal(iam_store_revision(fixture->store, &after), IAM_OK);
    assert_int_equal(after, before);
    fixture_free(fixture);
}

static void test_start_checks_input(void **state)
{
    struct fixture *fixture = fixture_new(0);
    char cookie[IAM_SESSION_TOKEN_SIZE];
    char long_id[IAM_SESSION_ID_MAX + 1];
    memset(long_id, 'x', IAM_SESSION_ID_MAX);
    long_id[IAM_SESSION_ID_MAX] = '\0';
    struct iam_session_start start = start_for("acc1", NULL, 7200, 86400);
    assert_int_equal(iam_sessions_start(fixture->sessions, &start, cookie, NULL), IAM_EINVAL);
    assert_string_equal(cookie, "");
    start = start_for("", "IBMid-AAAAAAAAAA", 7200, 86400);
    assert_int_equal(iam_sessions_start(fixture->sessions, &start, cookie, NULL), IAM_EINVAL);
    start = start_for("acc1", long_id, 7200, 86400);
    assert_int_equal(iam_sessions_start(fixture->sessions, &start, cookie, NULL), IAM_EINVAL);
    long_id[IAM_SESSION_ID_MAX - 1] = '\0'; /* 63 characters fit */
    start = start_for("acc1", long_id, 7200, 86400);
    assert_int_equal(iam_sessions_start(fixture->sessions, &start, cookie, NULL), IAM_OK);
    assert_true(alive(fixture, cookie));
    start = start_for("acc1", "IBMid-AAAAAAAAAA", 0, 86400);
    assert_int_equal(iam_sessions_start(fixture->sessions, &start, cookie, NULL), IAM_EINVAL);
    start = start_for("acc1", "IBMid-AAAAAAAAAA", 7200, -1);
    assert_int_equal(iam_sessions_start(fixture->sessions, &start, cookie, NULL), IAM_EINVAL);
    assert_int_equal(iam_sessions_start(fixture->sessions, NULL, cookie, NULL), IAM_EINVAL);
    assert_int_equal(iam_sessions_count(fixture->sessions), 1);

    /* A table needs a store and a pepper of at least 16 bytes. */
    struct iam_sessions *sessions = NULL;
    struct iam_sessions_options options = {.store = NULL, .pepper = pepper, .pepper_length = sizeof pepper};
    assert_int_equal(iam_sessions_new(&options, &sessions), IAM_EINVAL);
    options.store = fixture->store;
    options.pepper_length = 15;
    assert_int_equal(iam_sessions_new(&options, &sessions), IAM_EINVAL);
    options.pepper = NULL;
    options.pepper_length = sizeof pepper;
    assert_int_equal(iam_sessions_new(&options, &sessions), IAM_EINVAL);
    assert_null(sessions);
    fixture_free(fixture);
}

/* --- concurrency: sign-ins, uses and sign-outs from several threads at once --- */

#define THREADS 4
#define ROUNDS 40

struct worker {
    struct iam_sessions *sessions;
    int index;
    int failures;
};

static void *worker_run(void *argument)
{
    struct worker *worker = argument;
    char iam_id[32];
    snprintf(iam_id, sizeof iam_id, "IBMid-WORKER%04d", worker->index);
    struct iam_session_start start = start_for("acc1", iam_id, 7200, 86400);
    start.max_per_identity = 3;
    for (int round = 0; round < ROUNDS; round++) {
        char cookie[IAM_SESSION_TOKEN_SIZE];
        struct iam_session session;
        if (iam_sessions_start(worker->sessions, &start, cookie, &session) != IAM_OK ||
            iam_sessions_touch(worker->sessions, cookie, NULL) != IAM_OK ||
            iam_sessions_find(worker->sessions, cookie, &session) != IAM_OK ||
            strcmp(session.iam_id, iam_id) != 0) {
            worker->failures++;
            continue;
        }
        if (round % 2 == 0 && iam_sessions_end(worker->sessions, cookie) != IAM_OK)
            worker->failures++;
    }
    return NULL;
}

static void test_concurrent_use(void **state)
{
    struct fixture *fixture = fixture_new(64);
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.sessions = fixture->sessions, .index = i};
        assert_int_equal(pthread_create(&threads[i], NULL, worker_run, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(workers[i].failures, 0);
    }
    /* Each identity keeps at most its cap of 3. */
    int64_t count = iam_sessions_count(fixture->sessions);
    assert_true(count > 0 && count <= THREADS * 3);
    fixture_free(fixture);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_and_find),
        cmocka_unit_test(test_unknown_and_malformed_cookies),
        cmocka_unit_test(test_idle_expiry),
        cmocka_unit_test(test_absolute_expiry),
        cmocka_unit_test(test_touch_throttling),
        cmocka_unit_test(test_purge_trims_oldest),
        cmocka_unit_test(test_purge_drops_expired_first),
        cmocka_unit_test(test_per_identity_limit),
        cmocka_unit_test(test_sign_out),
        cmocka_unit_test(test_end_identity),
        cmocka_unit_test(test_csrf_compare),
        cmocka_unit_test(test_csrf_derivation),
        cmocka_unit_test(test_shared_between_nodes),
        cmocka_unit_test(test_no_revision_bump),
        cmocka_unit_test(test_start_checks_input),
        cmocka_unit_test(test_concurrent_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
