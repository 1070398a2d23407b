/*
 * test_iam_ratelimit.c: the failed-authentication limiter (iam/ratelimit.h)
 * with an explicit clock: the per-address limit refusing before the work and
 * its Retry-After, the window's end, both subject rules (after the check: only
 * failed attempts are refused, a success is never; from failed addresses:
 * only the addresses that failed), successes and void attempts not counting,
 * IPv6 counted per /64, the bounded tables evicting the oldest window,
 * exact counting under threads, and the statistics /metrics reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "iam/ratelimit.h"

#define NOW 1900000000
#define WINDOW 300

static struct iam_ratelimit *limiter_with(int64_t address_max, int64_t subject_max,
                                          enum iam_ratelimit_subject_rule rule, size_t entries_max)
{
    struct iam_ratelimit_options options = {.window = WINDOW, .address_max = address_max, .subject_max = subject_max,
                                            .subject_rule = rule, .entries_max = entries_max};
    struct iam_ratelimit *limiter = NULL;
    assert_int_equal(iam_ratelimit_new(&options, &limiter), IAM_OK);
    assert_non_null(limiter);
    return limiter;
}

/* One attempt that begins and ends with `outcome`; returns what refused it, or end's answer. */
static enum iam_result attempt(struct iam_ratelimit *limiter, const char *subject, const char *address,
                               enum iam_ratelimit_outcome outcome, int64_t now, int64_t *retry_after)
{
    enum iam_result result = iam_ratelimit_begin(limiter, subject, address, now, retry_after);
    if (result != IAM_OK)
        return result;
    return iam_ratelimit_end(limiter, subject, address, outcome, now, retry_after);
}

static void address_limit_refuses_before_the_work(void **state)
{
    (void)state;
    struct iam_ratelimit *limiter = limiter_with(3, 0, IAM_RATELIMIT_SUBJECT_AFTER_CHECK, 0);
    int64_t retry = -1;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(attempt(limiter, NULL, "192.0.2.1", IAM_RATELIMIT_FAILED, NOW + i, &retry), IAM_OK);
        assert_int_equal(retry, 0);
    }
    /* refused at begin, whatever the attempt would bring, with what is left of the window */
    assert_int_equal(iam_ratelimit_begin(limiter, "ApiKey-x", "192.0.2.1", NOW + 10, &retry), IAM_ETOOMANY);
    assert_int_equal(retry, WINDOW - 10);
    /* a refusal is not counted, and another address is not concerned */
    assert_int_equal(attempt(limiter, NULL, "192.0.2.2", IAM_RATELIMIT_SUCCEEDED, NOW + 10, &retry), IAM_OK);
    /* the window ends WINDOW seconds after its first failure */
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.1", NOW + WINDOW - 1, &retry), IAM_ETOOMANY);
    assert_int_equal(retry, 1);
    assert_int_equal(attempt(limiter, NULL, "192.0.2.1", IAM_RATELIMIT_FAILED, NOW + WINDOW, &retry), IAM_OK);
    assert_int_equal(attempt(limiter, NULL, "192.0.2.1", IAM_RATELIMIT_FAILED, NOW + WINDOW, &retry), IAM_OK);
    assert_int_equal(attempt(limiter, NULL, "192.0.2.1", IAM_RATELIMIT_FAILED, NOW + WINDOW, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.1", NOW + WINDOW, &retry), IAM_ETOOMANY);
    /* a clock that went back by more than a window also ends it */
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.1", NOW - WINDOW, &retry), IAM_OK);
    iam_ratelimit_free(limiter);
}

static void successes_and_void_attempts_do_not_count(void **state)
{
    (void)state;
    struct iam_ratelimit *limiter = limiter_with(2, 2, IAM_RATELIMIT_SUBJECT_AFTER_CHECK, 0);
    int64_t retry;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(attempt(limiter, "ApiKey-a", "192.0.2.1", IAM_RATELIMIT_SUCCEEDED, NOW, &retry), IAM_OK);
        assert_int_equal(attempt(limiter, "ApiKey-a", "192.0.2.1", IAM_RATELIMIT_VOID, NOW, &retry), IAM_OK);
    }
    assert_int_equal(attempt(limiter, "ApiKey-a", "192.0.2.1", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    assert_int_equal(attempt(limiter, "ApiKey-a", "192.0.2.1", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, "ApiKey-a", "192.0.2.1", NOW, &retry), IAM_ETOOMANY);
    /* attempts in flight count: the third concurrent one is refused before any ends */
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.9", NOW, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.9", NOW, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.9", NOW, &retry), IAM_ETOOMANY);
    /* ...and a success takes its attempt back */
    assert_int_equal(iam_ratelimit_end(limiter, NULL, "192.0.2.9", IAM_RATELIMIT_SUCCEEDED, NOW, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.9", NOW, &retry), IAM_OK);
    iam_ratelimit_free(limiter);
}

/* API keys: a key id over its limit refuses wrong values only, from anywhere; the right value always passes. */
static void subject_after_check_refuses_only_failures(void **state)
{
    (void)state;
    struct iam_ratelimit *limiter = limiter_with(0, 3, IAM_RATELIMIT_SUBJECT_AFTER_CHECK, 0);
    int64_t retry;
    char address[32];
    for (int i = 0; i < 3; i++) {
        snprintf(address, sizeof address, "198.51.100.%d", i + 1);
        assert_int_equal(attempt(limiter, "ApiKey-k", address, IAM_RATELIMIT_FAILED, NOW + i, &retry), IAM_OK);
    }
    /* the fourth wrong value, from a new address, is answered 429 after its check */
    assert_int_equal(iam_ratelimit_begin(limiter, "ApiKey-k", "198.51.100.50", NOW + 20, &retry), IAM_OK);
    assert_int_equal(retry, 0);
    assert_int_equal(iam_ratelimit_end(limiter, "ApiKey-k", "198.51.100.50", IAM_RATELIMIT_FAILED, NOW + 20, &retry),
                     IAM_ETOOMANY);
    assert_int_equal(retry, WINDOW - 20);
    /* the owner's right value is never refused, from a failing address or a fresh one */
    assert_int_equal(attempt(limiter, "ApiKey-k", "198.51.100.1", IAM_RATELIMIT_SUCCEEDED, NOW + 21, &retry), IAM_OK);
    assert_int_equal(attempt(limiter, "ApiKey-k", "203.0.113.7", IAM_RATELIMIT_SUCCEEDED, NOW + 22, &retry), IAM_OK);
    assert_int_equal(retry, 0);
    /* other key ids are not concerned, and the window ends */
    assert_int_equal(attempt(limiter, "ApiKey-other", "198.51.100.1", IAM_RATELIMIT_FAILED, NOW + 23, &retry),
                     IAM_OK);
    assert_int_equal(attempt(limiter, "ApiKey-k", "198.51.100.1", IAM_RATELIMIT_FAILED, NOW + WINDOW, &retry), IAM_OK);
    iam_ratelimit_free(limiter);
}

/* Passwords: a login over its limit refuses the addresses its failures came from, not the others. */
static void subject_from_failed_addresses(void **state)
{
    (void)state;
    struct iam_ratelimit *limiter = limiter_with(100, 2, IAM_RATELIMIT_SUBJECT_FROM_FAILED_ADDRESSES, 0);
    int64_t retry;
    assert_int_equal(attempt(limiter, "ada", "192.0.2.66", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    assert_int_equal(attempt(limiter, "ada", "192.0.2.66", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, "ada", "192.0.2.66", NOW + 5, &retry), IAM_ETOOMANY);
    assert_int_equal(retry, WINDOW - 5);
    assert_int_equal(attempt(limiter, "ada", "198.51.100.7", IAM_RATELIMIT_SUCCEEDED, NOW, &retry), IAM_OK);
    /* a success clears the login's failures from that address only */
    assert_int_equal(attempt(limiter, "ada", "198.51.100.8", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, "ada", "198.51.100.8", NOW, &retry), IAM_ETOOMANY);
    iam_ratelimit_free(limiter);
}

static void addresses_are_keyed_per_host(void **state)
{
    (void)state;
    char key[IAM_RATELIMIT_KEY_MAX], other[IAM_RATELIMIT_KEY_MAX];
    iam_ratelimit_address_key("192.0.2.1", key);
    assert_string_equal(key, "192.0.2.1");
    iam_ratelimit_address_key(NULL, key);
    assert_string_equal(key, "unknown");
    iam_ratelimit_address_key("", key);
    assert_string_equal(key, "unknown");
    iam_ratelimit_address_key("::ffff:192.0.2.1", key);
    assert_string_equal(key, "192.0.2.1");
    iam_ratelimit_address_key("2001:db8:1:2:aaaa::1", key);
    assert_string_equal(key, "2001:db8:1:2::/64");
    iam_ratelimit_address_key("2001:DB8:1:2:bbbb:cccc:dddd:eeee", other);
    assert_string_equal(key, other);
    iam_ratelimit_address_key("2001:db8:1:3::1", other);
    assert_string_not_equal(key, other);

    /* two addresses of one /64 share a counter */
    struct iam_ratelimit *limiter = limiter_with(2, 0, IAM_RATELIMIT_SUBJECT_AFTER_CHECK, 0);
    int64_t retry;
    assert_int_equal(attempt(limiter, NULL, "2001:db8:1:2::1", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    assert_int_equal(attempt(limiter, NULL, "2001:db8:1:2::2", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "2001:db8:1:2::3", NOW, &retry), IAM_ETOOMANY);
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "2001:db8:1:9::3", NOW, &retry), IAM_OK);
    iam_ratelimit_free(limiter);
}

static void full_tables_evict_the_oldest_window(void **state)
{
    (void)state;
    struct iam_ratelimit *limiter = limiter_with(1, 0, IAM_RATELIMIT_SUBJECT_AFTER_CHECK, 4);
    int64_t retry;
    assert_int_equal(attempt(limiter, NULL, "192.0.2.100", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    char address[32];
    for (int i = 1; i <= 3; i++) {
        snprintf(address, sizeof address, "192.0.2.%d", i);
        assert_int_equal(attempt(limiter, NULL, address, IAM_RATELIMIT_FAILED, NOW + i, &retry), IAM_OK);
    }
    /* four counters: the first address is still refused */
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.100", NOW + 4, &retry), IAM_ETOOMANY);
    /* a fifth address pushes out the oldest window, the first address's */
    assert_int_equal(attempt(limiter, NULL, "192.0.2.4", IAM_RATELIMIT_FAILED, NOW + 5, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.1", NOW + 6, &retry), IAM_ETOOMANY);
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.100", NOW + 6, &retry), IAM_OK);
    iam_ratelimit_reset(limiter);
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.1", NOW + 6, &retry), IAM_OK);
    iam_ratelimit_free(limiter);
}

#define THREADS 8
#define PER_THREAD 50

static void *fail_many(void *argument)
{
    struct iam_ratelimit *limiter = argument;
    for (int i = 0; i < PER_THREAD; i++) {
        int64_t retry;
        if (attempt(limiter, "ApiKey-t", "192.0.2.1", IAM_RATELIMIT_FAILED, NOW, &retry) != IAM_OK)
            return (void *)1;
    }
    return NULL;
}

static void counts_exactly_under_threads(void **state)
{
    (void)state;
    struct iam_ratelimit *limiter =
        limiter_with(THREADS * PER_THREAD, THREADS * PER_THREAD, IAM_RATELIMIT_SUBJECT_AFTER_CHECK, 0);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, fail_many, limiter), 0);
    for (int i = 0; i < THREADS; i++) {
        void *failed = NULL;
        assert_int_equal(pthread_join(threads[i], &failed), 0);
        assert_null(failed);
    }
    int64_t retry;
    assert_int_equal(iam_ratelimit_begin(limiter, NULL, "192.0.2.1", NOW, &retry), IAM_ETOOMANY);
    assert_int_equal(attempt(limiter, "ApiKey-t", "192.0.2.2", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_ETOOMANY);
    iam_ratelimit_free(limiter);
}

static void options_and_no_limiter(void **state)
{
    (void)state;
    struct iam_ratelimit *limiter = NULL;
    struct iam_ratelimit_options options = {.window = 0, .address_max = 1};
    assert_int_equal(iam_ratelimit_new(&options, &limiter), IAM_EINVAL);
    assert_null(limiter);
    options.window = 1;
    options.address_max = -1;
    assert_int_equal(iam_ratelimit_new(&options, &limiter), IAM_EINVAL);
    int64_t retry = -1;
    assert_int_equal(iam_ratelimit_begin(NULL, "s", "192.0.2.1", NOW, &retry), IAM_OK);
    assert_int_equal(retry, 0);
    assert_int_equal(iam_ratelimit_end(NULL, "s", "192.0.2.1", IAM_RATELIMIT_FAILED, NOW, NULL), IAM_OK);
    iam_ratelimit_reset(NULL);
    iam_ratelimit_free(NULL);
    /* 0 disables a limit */
    limiter = limiter_with(0, 0, IAM_RATELIMIT_SUBJECT_AFTER_CHECK, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(attempt(limiter, "s", "192.0.2.1", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    iam_ratelimit_free(limiter);
}

/* The figures behind /metrics: table sizes, and refusals by what was over its limit (kept across a reset). */
static void stats_count_entries_and_refusals(void **state)
{
    (void)state;
    struct iam_ratelimit_stats stats = {.address_entries = 9, .refused_subject = 9};
    iam_ratelimit_stats(NULL, &stats);
    assert_int_equal(stats.address_entries + stats.subject_entries + stats.refused_address + stats.refused_subject, 0);

    struct iam_ratelimit *limiter = limiter_with(2, 2, IAM_RATELIMIT_SUBJECT_AFTER_CHECK, 0);
    int64_t retry;
    iam_ratelimit_stats(limiter, &stats);
    assert_int_equal(stats.address_entries + stats.subject_entries + stats.refused_address + stats.refused_subject, 0);
    assert_int_equal(attempt(limiter, "ApiKey-a", "192.0.2.1", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    assert_int_equal(attempt(limiter, "ApiKey-a", "192.0.2.1", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    iam_ratelimit_stats(limiter, &stats);
    assert_int_equal(stats.address_entries, 1);
    assert_int_equal(stats.subject_entries, 1);
    assert_int_equal(stats.refused_address, 0);
    /* the address is over its limit: refused at begin */
    assert_int_equal(iam_ratelimit_begin(limiter, "ApiKey-a", "192.0.2.1", NOW, &retry), IAM_ETOOMANY);
    /* the key id is over its limit: a wrong value from elsewhere is refused at end; a right one is not */
    assert_int_equal(attempt(limiter, "ApiKey-a", "192.0.2.2", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_ETOOMANY);
    assert_int_equal(attempt(limiter, "ApiKey-a", "192.0.2.3", IAM_RATELIMIT_SUCCEEDED, NOW, &retry), IAM_OK);
    iam_ratelimit_stats(limiter, &stats);
    assert_int_equal(stats.address_entries, 3);
    assert_int_equal(stats.subject_entries, 1);
    assert_int_equal(stats.refused_address, 1);
    assert_int_equal(stats.refused_subject, 1);
    iam_ratelimit_reset(limiter);
    iam_ratelimit_stats(limiter, &stats);
    assert_int_equal(stats.address_entries + stats.subject_entries, 0);
    assert_int_equal(stats.refused_address, 1);
    assert_int_equal(stats.refused_subject, 1);
    iam_ratelimit_free(limiter);

    /* passwords: a login refused at begin counts as a subject refusal */
    limiter = limiter_with(100, 1, IAM_RATELIMIT_SUBJECT_FROM_FAILED_ADDRESSES, 0);
    assert_int_equal(attempt(limiter, "ada", "192.0.2.66", IAM_RATELIMIT_FAILED, NOW, &retry), IAM_OK);
    assert_int_equal(iam_ratelimit_begin(limiter, "ada", "192.0.2.66", NOW, &retry), IAM_ETOOMANY);
    iam_ratelimit_stats(limiter, &stats);
    assert_int_equal(stats.refused_address, 0);
    assert_int_equal(stats.refused_subject, 1);
    iam_ratelimit_free(limiter);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(address_limit_refuses_before_the_work),
        cmocka_unit_test(successes_and_void_attempts_do_not_count),
        cmocka_unit_test(subject_after_check_refuses_only_failures),
        cmocka_unit_test(subject_from_failed_addresses),
        cmocka_unit_test(addresses_are_keyed_per_host),
        cmocka_unit_test(full_tables_evict_the_oldest_window),
        cmocka_unit_test(counts_exactly_under_threads),
        cmocka_unit_test(options_and_no_limiter),
        cmocka_unit_test(stats_count_entries_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
