/* test_common.c: unit tests of src/common: buffers, arena, time formats, ids, config, errors, the store call histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/time.h"

static void buf_refuses_past_its_cap(void **state)
{
    (void)state;
    struct iam_buf buf;
    iam_buf_init(&buf, 8);
    assert_int_equal(iam_buf_append_str(&buf, "12345"), IAM_OK);
    assert_int_equal(iam_buf_append_str(&buf, "6789"), IAM_ETOOBIG);
    assert_string_equal(buf.data, "12345"); /* unchanged by the refused append */
    assert_int_equal(iam_buf_appendf(&buf, "%d", 678), IAM_OK);
    assert_int_equal(buf.length, 8);
    assert_string_equal(buf.data, "12345678");
    assert_int_equal(iam_buf_append(&buf, "x", 1), IAM_ETOOBIG);
    iam_buf_free(&buf);
    assert_null(buf.data);
}

static void arena_allocates_zeroed_aligned_memory(void **state)
{
    (void)state;
    struct iam_arena *arena = iam_arena_new();
    assert_non_null(arena);
    for (int i = 0; i < 1000; i++) {
        unsigned char *p = iam_arena_alloc(arena, (size_t)(i % 97) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        assert_int_equal(p[0], 0);
        memset(p, 0xab, (size_t)(i % 97) + 1);
    }
    char *big = iam_arena_alloc(arena, 100000);
    assert_non_null(big);
    assert_string_equal(iam_arena_printf(arena, "%s-%d", "a", 7), "a-7");
    assert_string_equal(iam_arena_strndup(arena, "abcdef", 3), "abc");
    assert_null(iam_arena_strdup(arena, NULL));
    iam_arena_free(arena);
}

static void time_formats_as_ibm_does(void **state)
{
    (void)state;
    char text[IAM_TIME_TEXT_SIZE];
    iam_time_format_ibm(1590675240, text); /* 2020-05-28T14:14:00Z */
    assert_string_equal(text, "2020-05-28T14:14+0000");
    iam_time_format_rfc3339(0, text);
    assert_string_equal(text, "1970-01-01T00:00:00Z");
}

static void time_parses_ibm_and_rfc3339(void **state)
{
    (void)state;
    int64_t when = 0;
    assert_int_equal(iam_time_parse("2049-01-02T18:30:00+0000", &when), IAM_OK);
    assert_int_equal(when, 2493225000);
    assert_int_equal(iam_time_parse("2049-01-02T18:30+0000", &when), IAM_OK);
    assert_int_equal(when, 2493225000);
    assert_int_equal(iam_time_parse("2049-01-02T18:30:00Z", &when), IAM_OK);
    assert_int_equal(when, 2493225000);
    assert_int_equal(iam_time_parse("2049-01-02T20:30:00+02:00", &when), IAM_OK);
    assert_int_equal(when, 2493225000);
    assert_int_equal(iam_time_parse("2049-01-02T18:30:00.123Z", &when), IAM_OK);
    assert_int_equal(when, 2493225000);
    /* the ends of the range */
    assert_int_equal(iam_time_parse("1970-01-01T00:00-0100", &when), IAM_OK);
    assert_int_equal(when, 3600);
    assert_int_equal(iam_time_parse("9999-12-31T23:59:59Z", &when), IAM_OK);
    assert_int_equal(when, 253402300799);
}

static void time_rejects_malformed(void **state)
{
    (void)state;
    int64_t when = 0;
    const char *bad[] = {"",
                         "2049-01-02",
                         "2049-13-02T18:30Z",
                         "2049-02-30T18:30Z",
                         "2049-01-02T24:00Z",
                         "2049-01-02T18:30",
                         "2049-01-02T18:30+0000x",
                         "49-01-02T18:30Z",
                         "2049-01-02 18:30Z",
                         "1969-12-31T23:59Z",
                         "2049-01-02T18:30:00.Z",
                         /* an offset moving the instant before the epoch or past year 9999 (fuzz_time) */
                         "1970-01-01T00:00+0100",
                         "9999-12-31T23:59:59-0001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(iam_time_parse(bad[i], &when), IAM_EINVAL);
}

static void ids_have_ibm_formats(void **state)
{
    (void)state;
    char uuid[IAM_UUID_SIZE];
    assert_int_equal(iam_uuid_new(uuid), IAM_OK);
    assert_true(iam_is_uuid(uuid));
    assert_int_equal(uuid[14], '4');
    char id[IAM_ID_SIZE];
    assert_int_equal(iam_prefixed_id_new("ServiceId-", id), IAM_OK);
    assert_true(iam_is_prefixed_id(id, "ServiceId-"));
    assert_false(iam_is_prefixed_id(id, "ApiKey-"));
    char account[IAM_ACCOUNT_ID_SIZE];
    assert_int_equal(iam_account_id_new(account), IAM_OK);
    assert_true(iam_is_account_id(account));
    assert_false(iam_is_account_id("F1E90DDE43954FC68994FE16FB8BE633"));
    assert_false(iam_is_account_id("f1e90dde43954fc68994fe16fb8be63"));
    assert_int_equal(iam_user_iam_id_new(id), IAM_OK);
    assert_int_equal(strlen(id), 16);
    assert_memory_equal(id, "IBMid-", 6);
    char crn[IAM_CRN_SIZE];
    iam_identity_crn(crn, "acc", "serviceid", "ServiceId-1");
    assert_string_equal(crn, "crn:v1:bluemix:public:iam-identity::a/acc::serviceid:ServiceId-1");
    assert_false(iam_is_uuid("0000000-0000-4000-8000-000000000000x"));
}

struct config_values {
    const char *listen;
    int64_t threads;
    bool verbose;
};

static size_t config_table(struct config_values *values, struct iam_setting *table)
{
    struct iam_setting entries[] = {
        {"listen", "TEST_IAMD_LISTEN", IAM_SETTING_STRING, "127.0.0.1:8080", 0, 0, false, "listen", &values->listen,
         NULL, NULL},
        {"threads", "TEST_IAMD_THREADS", IAM_SETTING_INTEGER, "2", 0, 8, false, "threads", NULL, &values->threads,
         NULL},
        {"verbose", "TEST_IAMD_VERBOSE", IAM_SETTING_BOOLEAN, "false", 0, 0, false, "verbose", NULL, NULL,
         &values->verbose},
    };
    memcpy(table, entries, sizeof entries);
    return 3;
}

static void config_precedence_is_flag_env_default(void **state)
{
    (void)state;
    struct config_values values;
    struct iam_setting table[3];
    size_t count = config_table(&values, table);
    struct iam_error err;
    bool help = false;
    unsetenv("TEST_IAMD_LISTEN");
    setenv("TEST_IAMD_THREADS", "4", 1);
    char *argv1[] = {"iamd", NULL};
    assert_int_equal(iam_config_load(table, count, 1, argv1, &help, &err), IAM_OK);
    assert_string_equal(values.listen, "127.0.0.1:8080");
    assert_int_equal(values.threads, 4);
    assert_false(values.verbose);
    char *argv2[] = {"iamd", "--threads", "6", "--listen=0.0.0.0:1", "--verbose", NULL};
    assert_int_equal(iam_config_load(table, count, 5, argv2, &help, &err), IAM_OK);
    assert_int_equal(values.threads, 6);
    assert_string_equal(values.listen, "0.0.0.0:1");
    assert_true(values.verbose);
    unsetenv("TEST_IAMD_THREADS");
}

static void config_rejects_bad_input(void **state)
{
    (void)state;
    struct config_values values;
    struct iam_setting table[3];
    size_t count = config_table(&values, table);
    struct iam_error err;
    bool help = false;
    char *unknown[] = {"iamd", "--nope", "1", NULL};
    assert_int_equal(iam_config_load(table, count, 3, unknown, &help, &err), IAM_EINVAL);
    assert_non_null(strstr(err.message, "--nope"));
    char *range[] = {"iamd", "--threads", "9", NULL};
    assert_int_equal(iam_config_load(table, count, 3, range, &help, &err), IAM_EINVAL);
    char *garbage[] = {"iamd", "--threads", "3x", NULL};
    assert_int_equal(iam_config_load(table, count, 3, garbage, &help, &err), IAM_EINVAL);
    char *missing[] = {"iamd", "--listen", NULL};
    assert_int_equal(iam_config_load(table, count, 2, missing, &help, &err), IAM_EINVAL);
    setenv("TEST_IAMD_VERBOSE", "maybe", 1);
    char *plain[] = {"iamd", NULL};
    assert_int_equal(iam_config_load(table, count, 1, plain, &help, &err), IAM_EINVAL);
    unsetenv("TEST_IAMD_VERBOSE");
    char *helpflag[] = {"iamd", "--help", NULL};
    assert_int_equal(iam_config_load(table, count, 2, helpflag, &help, &err), IAM_OK);
    assert_true(help);
}

static void log_escape_makes_valid_json_strings(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(iam_log_escape(out, sizeof out, "plain"), 7);
    assert_string_equal(out, "\"plain\"");
    iam_log_escape(out, sizeof out, "a\"b\\c\nd\x01\xc3\xa9");
    assert_string_equal(out, "\"a\\\"b\\\\c\\u000ad\\u0001\\u00c3\\u00a9\"");
    iam_log_escape(out, sizeof out, NULL);
    assert_string_equal(out, "null");
    char small[10];
    iam_log_escape(small, sizeof small, "abcdefghijklmnop");
    assert_string_equal(small, "\"abcdefg\""); /* cut, but still a closed string */
    json_t *parsed = json_loads("[\"a\\\"b\\\\c\\u000ad\\u0001\\u00c3\\u00a9\"]", 0, NULL);
    assert_non_null(parsed);
    json_decref(parsed);
}

static void errors_carry_ibm_detail(void **state)
{
    (void)state;
    struct iam_error err;
    assert_int_equal(iam_error_set(&err, IAM_ENOTFOUND, "BXNIM0102E", "Key %s not found.", "k"), IAM_ENOTFOUND);
    assert_string_equal(err.code, "not_found");
    assert_string_equal(err.message_code, "BXNIM0102E");
    assert_string_equal(err.message, "Key k not found.");
    assert_string_equal(iam_error_code_for(IAM_EDENIED), "insufficent_permissions");
    for (int r = 0; r < IAM_RESULT_COUNT; r++)
        assert_non_null(iam_strerror((enum iam_result)r));
}

/*
 * Messages quote client input and are cut at a precision or at the buffer's
 * end; either can leave bytes that are not UTF-8, and then the JSON error
 * body could not be built (a 500 instead of a 400; found by fuzz/fuzz_api.c
 * with a policy list sort=%EF...).
 */
static void error_messages_are_valid_utf8(void **state)
{
    (void)state;
    struct iam_error err;
    iam_error_set(&err, IAM_EINVAL, "BXNIM0109E", "The sort field %.64s is not supported.", "-l\xefoW");
    assert_string_equal(err.message, "The sort field -l?oW is not supported.");
    /* a precision that cuts "é" (C3 A9) in the middle */
    iam_error_set(&err, IAM_EINVAL, "BXNIM0109E", "[%.3s]", "ab\xc3\xa9");
    assert_string_equal(err.message, "[ab?]");
    /* overlong, surrogate, out-of-range and stray continuation bytes; valid characters stay */
    iam_error_set(&err, IAM_EINVAL, "BXNIM0109E", "%s",
                  "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\x80|\xe2\x82\xac|\xf0\x9f\x98\x80");
    assert_string_equal(err.message, "??|???|????|?|\xe2\x82\xac|\xf0\x9f\x98\x80");
    /* cut by the buffer's end inside a character */
    char long_text[sizeof err.message + 8];
    memset(long_text, 'a', sizeof long_text);
    memcpy(long_text + sizeof err.message - 3, "\xe2\x82\xac", 3);
    long_text[sizeof long_text - 1] = '\0';
    iam_error_set(&err, IAM_EINVAL, "BXNIM0109E", "%s", long_text);
    assert_int_equal(strlen(err.message), sizeof err.message - 1);
    assert_int_equal(err.message[sizeof err.message - 3], '?');
    assert_int_equal(err.message[sizeof err.message - 2], '?');
    /* a message written by hand */
    snprintf(err.message, sizeof err.message, "%s", "x\xff");
    iam_error_sanitize(&err);
    assert_string_equal(err.message, "x?");
    iam_error_sanitize(NULL);
}

/* Each call lands in the first bucket whose bound it does not exceed; the sum is in nanoseconds. */
static void store_histogram_buckets_by_upper_bound(void **state)
{
    (void)state;
    for (int i = 1; i < IAM_METRICS_STORE_BUCKETS - 1; i++)
        assert_true(iam_metrics_store_bounds_us[i] > iam_metrics_store_bounds_us[i - 1]);
    struct iam_metrics_histogram before, after;
    iam_metrics_store_calls(&before);
    iam_metrics_observe_store_call(-5);                                      /* a clock step: 0 */
    iam_metrics_observe_store_call(iam_metrics_store_bounds_us[0] * 1000);     /* exactly the first bound */
    iam_metrics_observe_store_call(iam_metrics_store_bounds_us[0] * 1000 + 1); /* just over it */
    iam_metrics_observe_store_call(iam_metrics_store_bounds_us[IAM_METRICS_STORE_BUCKETS - 2] * 1000 + 1);
    iam_metrics_store_calls(&after);
    assert_int_equal(after.buckets[0] - before.buckets[0], 2);
    assert_int_equal(after.buckets[1] - before.buckets[1], 1);
    for (int i = 2; i < IAM_METRICS_STORE_BUCKETS - 1; i++)
        assert_int_equal(after.buckets[i] - before.buckets[i], 0);
    assert_int_equal(after.buckets[IAM_METRICS_STORE_BUCKETS - 1] - before.buckets[IAM_METRICS_STORE_BUCKETS - 1], 1);
    uint64_t expected = (uint64_t)iam_metrics_store_bounds_us[0] * 1000 * 2 + 1 +
                        (uint64_t)iam_metrics_store_bounds_us[IAM_METRICS_STORE_BUCKETS - 2] * 1000 + 1;
    assert_int_equal(after.sum_ns - before.sum_ns, expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_refuses_past_its_cap),
        cmocka_unit_test(arena_allocates_zeroed_aligned_memory),
        cmocka_unit_test(time_formats_as_ibm_does),
        cmocka_unit_test(time_parses_ibm_and_rfc3339),
        cmocka_unit_test(time_rejects_malformed),
        cmocka_unit_test(ids_have_ibm_formats),
        cmocka_unit_test(config_precedence_is_flag_env_default),
        cmocka_unit_test(config_rejects_bad_input),
        cmocka_unit_test(errors_carry_ibm_detail),
        cmocka_unit_test(error_messages_are_valid_utf8),
        cmocka_unit_test(log_escape_makes_valid_json_strings),
        cmocka_unit_test(store_histogram_buckets_by_upper_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
