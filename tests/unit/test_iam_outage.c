/*
 * test_iam_outage.c: API-key authentication, verified tokens and decisions
 * while the database is away, end to end through a real service
 * (iam_service_new) over SQLite made unreachable with the store's test hook
 * (iam_store_sqlite_set_unavailable), with the engine's staleness clock
 * injected so the window is exact.
 *
 * What it proves: a key seen before authenticates from memory (no store read);
 * a key disabled or deleted through this process stops at once, through
 * another process (a second service on the same file) once the engine has
 * seen the revision move; while revision polls fail, cached keys, cached
 * tokens and decisions are served until confirmed_at + max_staleness and
 * refused (503, BXNIM0503E) after it; misses need the store (503) within
 * the window; with max staleness 0 nothing is served once a poll failed; a
 * hung poll does not extend the window; all recovers when the store is back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/random.h"
#include "iam/apikeys.h"
#include "iam/authn.h"
#include "iam/engine.h"
#include "iam/service.h"
#include "iam/service_ids.h"
#include "iam/tokens.h"
#include "iam/usage.h"
#include "store/backend.h"
#include "store/store.h"

#define ACCOUNT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define OWNER "IBMid-OWNER00000"
#define SECOND_MS 1000000000LL

static _Atomic int64_t fake_now_ns = 1000 * SECOND_MS;

static int64_t fake_clock(void)
{
    return atomic_load(&fake_now_ns);
}

static void advance_ms(int64_t milliseconds)
{
    atomic_fetch_add(&fake_now_ns, milliseconds * 1000000);
}

struct fixture {
    char directory[64];
    char location[128];
    uint8_t pepper[32];
    uint8_t kek[IAM_AEAD_KEY_SIZE];
    struct iam_service *service;
    struct iam_arena *arena;
    struct iam_principal owner;
    const char *service_id_iam_id;
    const char *key_id;
    const char *key;        /* a service ID's key, used before each test's outage */
    const char *unused_key; /* a key of the same service ID never used */
};

static struct iam_service_options test_options(void)
{
    struct iam_service_options options;
    iam_service_options_default(&options);
    options.token_alg = IAM_JWT_ES256;            /* fast key generation */
    options.engine_refresh_ms = 3600 * 1000;      /* the test polls by hand */
    options.usage_flush_interval_ms = 3600 * 1000; /* and flushes by hand */
    options.max_staleness = 30;
    return options;
}

static enum iam_result open_service(struct fixture *f, struct iam_service **out)
{
    struct iam_store *store = NULL;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_store_open(f->location, &store, &err);
    if (result != IAM_OK)
        return result;
    struct iam_service_options options = test_options();
    result = iam_service_new(store, f->pepper, sizeof f->pepper, f->kek, &options, out, &err);
    if (result != IAM_OK)
        return result;
    /* The clock of the staleness rule; poll interval 500 ms as in production. */
    iam_engine_set_staleness((*out)->engine, 30000, 500);
    iam_engine_set_clock((*out)->engine, fake_clock);
    return IAM_OK;
}

static const char *create_key(struct fixture *f, const char *name, const char **id)
{
    struct iam_apikey_create_request request = {.name = name, .iam_id = f->service_id_iam_id};
    struct iam_apikey_record record;
    const char *value = NULL;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_apikey_create(f->service, f->arena, &f->owner, &request, &record, &value, &err);
    if (result != IAM_OK)
        fail_msg("iam_apikey_create: %s %s", iam_strerror(result), err.message);
    if (id)
        *id = record.id;
    return value;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    iam_log_set_level(IAM_LOG_ERROR);
    snprintf(f->directory, sizeof f->directory, "/tmp/iamd-outage-XXXXXX");
    if (!mkdtemp(f->directory))
        goto fail;
    snprintf(f->location, sizeof f->location, "sqlite:%s/iamd.db", f->directory);
    if (iam_random_bytes(f->pepper, sizeof f->pepper) != IAM_OK || iam_random_bytes(f->kek, sizeof f->kek) != IAM_OK)
        goto fail;
    /* The account and its owner, written before the service starts. */
    struct iam_store *store = NULL;
    struct iam_error err;
    if (iam_store_open(f->location, &store, &err) != IAM_OK)
        goto fail;
    int64_t now = iam_now();
    struct iam_account_record account = {.id = ACCOUNT, .name = "test", .owner_iam_id = OWNER, .state = "ACTIVE",
                                          .created_at = now, .modified_at = now};
    struct iam_user_record user = {.iam_id = OWNER, .account_id = ACCOUNT, .login = "owner@example.com",
                                   .state = "ACTIVE", .created_at = now, .modified_at = now};
    bool written = iam_store_account_insert(store, &account) == IAM_OK && iam_store_user_insert(store, &user) == IAM_OK;
    iam_store_close(store);
    if (!written || open_service(f, &f->service) != IAM_OK)
        goto fail;
    f->arena = iam_arena_new();
    f->owner = (struct iam_principal){
        .kind = IAM_PRINCIPAL_USER, .iam_id = OWNER, .account_id = ACCOUNT, .subject_id = OWNER};
    struct iam_service_id_create_request request = {.account_id = ACCOUNT, .name = "billing"};
    struct iam_service_id_view view;
    if (!f->arena || iam_service_id_create(f->service, f->arena, &f->owner, &request, &view, &err) != IAM_OK)
        goto fail;
    f->service_id_iam_id = view.record.iam_id;
    f->key = create_key(f, "used", &f->key_id);
    f->unused_key = create_key(f, "unused", NULL);
    *state = f;
    return 0;
fail:
    iam_service_free(f->service);
    iam_arena_free(f->arena);
    free(f);
    return -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    iam_service_free(f->service);
    iam_arena_free(f->arena);
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", f->directory);
    int status = system(command);
    free(f);
    return status == 0 ? 0 : -1;
}

/* Authenticates `value`; returns the result and leaves the IBM message code in `code`. */
static enum iam_result authenticate(struct fixture *f, const char *value, char code[16])
{
    struct iam_principal who;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_authn_apikey(f->service, f->arena, value, &who, NULL, &err);
    snprintf(code, 16, "%s", result == IAM_OK ? "" : err.message_code);
    if (result == IAM_OK) {
        assert_string_equal(who.iam_id, f->service_id_iam_id);
        assert_string_equal(who.account_id, ACCOUNT);
        assert_string_equal(who.name, "billing");
        assert_int_equal(who.kind, IAM_PRINCIPAL_SERVICE_ID);
        assert_non_null(who.apikey_id);
    }
    return result;
}

static enum iam_result verify_token(struct fixture *f, const char *token)
{
    struct iam_principal who;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_authn_access_token(f->service, f->arena, token, &who, NULL, &err);
    if (result == IAM_EUNAVAILABLE)
        assert_string_equal(err.message_code, "BXNIM0503E");
    return result;
}

static void set_unavailable(struct fixture *f, bool unavailable)
{
    assert_int_equal(iam_store_sqlite_set_unavailable(f->service->store, unavailable), IAM_OK);
}

static void seen_key_needs_no_store(void **state)
{
    struct fixture *f = *state;
    char code[16];
    assert_int_equal(authenticate(f, f->key, code), IAM_OK); /* read from the store, remembered */
    set_unavailable(f, true);
    /* No poll has failed yet: the store is believed reachable and memory is current. */
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    /* Anything not in memory needs the store. */
    assert_int_equal(authenticate(f, f->unused_key, code), IAM_EUNAVAILABLE);
    assert_string_equal(code, "BXNIM0503E");
    assert_int_equal(authenticate(f, "iamd_unknown-key-value", code), IAM_EUNAVAILABLE);
    set_unavailable(f, false);
    /* Unknown and malformed keys are never remembered: still 0415E, from the store. */
    assert_int_equal(authenticate(f, "iamd_unknown-key-value", code), IAM_EINVAL);
    assert_string_equal(code, "BXNIM0415E");
    assert_int_equal(authenticate(f, f->unused_key, code), IAM_OK);
    /* Both uses from memory were counted. */
    int64_t count = 0, last = 0;
    iam_usage_pending(f->service->usage, f->key_id, &count, &last);
    assert_int_equal(count, 3);
}

static void outage_window(void **state)
{
    struct fixture *f = *state;
    char code[16];
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    /* A token verified once is remembered too. */
    struct iam_principal who;
    struct iam_error err;
    assert_int_equal(iam_authn_apikey(f->service, f->arena, f->key, &who, NULL, &err), IAM_OK);
    struct iam_token_response tokens;
    assert_int_equal(iam_tokens_issue(f->service, f->arena, &who, IAM_GRANT_APIKEY, &tokens, &err), IAM_OK);
    const char *first_token = tokens.access_token;
    assert_int_equal(verify_token(f, first_token), IAM_OK);
    int64_t age = -1;
    assert_true(iam_service_store_reachable(f->service, &age));
    assert_int_equal(age, 0);

    set_unavailable(f, true);
    advance_ms(400);
    assert_int_equal(iam_engine_refresh(f->service->engine, false), IAM_EUNAVAILABLE); /* the poll fails */
    assert_false(iam_service_store_reachable(f->service, &age));
    assert_int_equal(age, 400);

    /* Within confirmed_at + 30 s: keys and tokens seen before, decisions from the snapshot. */
    advance_ms(29600 - 400);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    assert_int_equal(verify_token(f, first_token), IAM_OK);
    assert_int_equal(iam_engine_check_current(f->service->engine), IAM_OK);
    /* A token is still issued (signed from the in-memory keyring). */
    assert_int_equal(iam_authn_apikey(f->service, f->arena, f->key, &who, NULL, &err), IAM_OK);
    assert_int_equal(iam_tokens_issue(f->service, f->arena, &who, IAM_GRANT_APIKEY, &tokens, &err), IAM_OK);
    assert_int_equal(verify_token(f, tokens.access_token), IAM_EUNAVAILABLE); /* new token: not in memory */
    /* Misses still need the database. */
    assert_int_equal(authenticate(f, f->unused_key, code), IAM_EUNAVAILABLE);
    assert_string_equal(code, "BXNIM0503E");
    struct iam_engine_store_status status;
    iam_engine_store_status(f->service->engine, &status);
    assert_false(status.reachable);
    assert_true(status.current);
    assert_int_equal(status.confirmed_age_ms, 29600);

    /* Polls keep failing; confirmed_at does not move. */
    assert_int_equal(iam_engine_refresh(f->service->engine, false), IAM_EUNAVAILABLE);
    advance_ms(400); /* exactly 30 s: still served */
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    advance_ms(1); /* past it: refused */
    assert_int_equal(authenticate(f, f->key, code), IAM_EUNAVAILABLE);
    assert_string_equal(code, "BXNIM0503E");
    assert_int_equal(iam_engine_check_current(f->service->engine), IAM_EUNAVAILABLE);
    iam_engine_store_status(f->service->engine, &status);
    assert_false(status.current);
    /* A token verified before the outage is refused too. */
    assert_int_equal(verify_token(f, first_token), IAM_EUNAVAILABLE);

    /* The database is back: the next poll confirms, everything answers again. */
    set_unavailable(f, false);
    advance_ms(500);
    assert_int_equal(iam_engine_refresh(f->service->engine, false), IAM_OK);
    assert_true(iam_service_store_reachable(f->service, &age));
    assert_int_equal(age, 0);
    assert_int_equal(iam_engine_check_current(f->service->engine), IAM_OK);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    assert_int_equal(authenticate(f, f->unused_key, code), IAM_OK);
    assert_int_equal(verify_token(f, first_token), IAM_OK);
    assert_int_equal(verify_token(f, tokens.access_token), IAM_OK);
}

static void recovery_before_the_poll_reads_the_store(void **state)
{
    struct fixture *f = *state;
    char code[16];
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    set_unavailable(f, true);
    assert_int_equal(iam_engine_refresh(f->service->engine, false), IAM_EUNAVAILABLE);
    advance_ms(31000);
    assert_int_equal(authenticate(f, f->key, code), IAM_EUNAVAILABLE);
    /* Back, but no poll yet: memory is still too old, so the store answers (and it does). */
    set_unavailable(f, false);
    assert_int_equal(iam_engine_check_current(f->service->engine), IAM_EUNAVAILABLE);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
}

static void zero_staleness_serves_nothing_once_a_poll_failed(void **state)
{
    struct fixture *f = *state;
    char code[16];
    iam_engine_set_staleness(f->service->engine, 0, 500);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    set_unavailable(f, true);
    assert_int_equal(iam_engine_refresh(f->service->engine, false), IAM_EUNAVAILABLE);
    assert_int_equal(authenticate(f, f->key, code), IAM_EUNAVAILABLE);
    assert_string_equal(code, "BXNIM0503E");
    assert_int_equal(iam_engine_check_current(f->service->engine), IAM_EUNAVAILABLE);
    set_unavailable(f, false);
    assert_int_equal(iam_engine_refresh(f->service->engine, false), IAM_OK);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
}

static void hung_poll_does_not_extend_the_window(void **state)
{
    struct fixture *f = *state;
    char code[16];
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    /* No poll returns (neither success nor failure) for max staleness + 5 s + 2 poll intervals. */
    advance_ms(30000 + 5000 + 1000);
    assert_int_equal(iam_engine_check_current(f->service->engine), IAM_OK);
    advance_ms(1);
    assert_int_equal(iam_engine_check_current(f->service->engine), IAM_EUNAVAILABLE);
    assert_true(iam_service_store_reachable(f->service, NULL)); /* nothing failed yet */
    /* Memory is not served, the store is asked, and it answers. */
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    set_unavailable(f, true);
    assert_int_equal(authenticate(f, f->key, code), IAM_EUNAVAILABLE);
    set_unavailable(f, false);
}

static void disabled_or_deleted_key_stops_at_once(void **state)
{
    struct fixture *f = *state;
    char code[16];
    struct iam_error err;
    int64_t revision = iam_engine_revision(f->service->engine);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK); /* from memory */

    assert_int_equal(iam_apikey_set_disabled(f->service, f->arena, &f->owner, f->key_id, true, &err), IAM_OK);
    /* No engine refresh in between: the write through this process is enough. */
    assert_int_equal(iam_engine_revision(f->service->engine), revision);
    assert_int_equal(authenticate(f, f->key, code), IAM_EINVAL);
    assert_string_equal(code, "BXNIM0416E");
    assert_int_equal(authenticate(f, f->key, code), IAM_EINVAL); /* remembered as disabled */
    assert_string_equal(code, "BXNIM0416E");

    assert_int_equal(iam_apikey_set_disabled(f->service, f->arena, &f->owner, f->key_id, false, &err), IAM_OK);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);

    assert_int_equal(iam_apikey_delete(f->service, f->arena, &f->owner, f->key_id, &err), IAM_OK);
    assert_int_equal(authenticate(f, f->key, code), IAM_EINVAL);
    assert_string_equal(code, "BXNIM0415E");
}

static void expiry_is_checked_on_every_use(void **state)
{
    struct fixture *f = *state;
    char code[16];
    struct iam_error err;
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    struct iam_apikey_update_request update = {.set_expires_at = true, .expires_at = iam_now() - 1};
    struct iam_apikey_view view;
    assert_int_equal(iam_apikey_get(f->service, f->arena, &f->owner, f->key_id, NULL, &view, &err), IAM_OK);
    assert_int_equal(
        iam_apikey_update(f->service, f->arena, &f->owner, f->key_id, view.record.entity_tag, &update, &view, &err),
        IAM_OK);
    assert_int_equal(authenticate(f, f->key, code), IAM_EINVAL);
    assert_string_equal(code, "BXNIM0417E");
    assert_int_equal(authenticate(f, f->key, code), IAM_EINVAL);
    assert_string_equal(code, "BXNIM0417E");
}

static void write_through_another_node_stops_within_a_poll(void **state)
{
    struct fixture *f = *state;
    char code[16];
    struct iam_error err;
    struct iam_service *other = NULL;
    assert_int_equal(open_service(f, &other), IAM_OK);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);

    /* Disabled through the other node: this one still trusts memory until its engine sees the revision move. */
    assert_int_equal(iam_apikey_set_disabled(other, f->arena, &f->owner, f->key_id, true, &err), IAM_OK);
    assert_int_equal(authenticate(f, f->key, code), IAM_OK);
    assert_int_equal(iam_engine_refresh(f->service->engine, false), IAM_OK); /* the next poll */
    assert_int_equal(authenticate(f, f->key, code), IAM_EINVAL);
    assert_string_equal(code, "BXNIM0416E");

    /* A key created through the other node works here at once (misses are never remembered). */
    struct iam_apikey_create_request request = {.name = "from the other node", .iam_id = f->service_id_iam_id};
    struct iam_apikey_record record;
    const char *value = NULL;
    assert_int_equal(iam_apikey_create(other, f->arena, &f->owner, &request, &record, &value, &err), IAM_OK);
    assert_int_equal(authenticate(f, value, code), IAM_OK);

    /* Deleted through the other node: stops at this node's next poll. */
    assert_int_equal(iam_apikey_delete(other, f->arena, &f->owner, record.id, &err), IAM_OK);
    assert_int_equal(iam_engine_refresh(f->service->engine, false), IAM_OK);
    assert_int_equal(authenticate(f, value, code), IAM_EINVAL);
    assert_string_equal(code, "BXNIM0415E");
    iam_service_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(seen_key_needs_no_store, setup, teardown),
        cmocka_unit_test_setup_teardown(outage_window, setup, teardown),
        cmocka_unit_test_setup_teardown(recovery_before_the_poll_reads_the_store, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_staleness_serves_nothing_once_a_poll_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(hung_poll_does_not_extend_the_window, setup, teardown),
        cmocka_unit_test_setup_teardown(disabled_or_deleted_key_stops_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(expiry_is_checked_on_every_use, setup, teardown),
        cmocka_unit_test_setup_teardown(write_through_another_node_stops_within_a_poll, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
