/*
 * ratelimit.h: limits on failed authentications, counted per client address
 * and per subject (a login, an API key id) in fixed windows. Password sign-in
 * (iam/passwords.c) and API-key authentication (iam/authn.c) each own one
 * limiter with their own numbers; the counting is here, once.
 *
 * Windows: a counter's window starts at its first failure and lasts `window`
 * seconds; after that the counter starts over. Retry-After is what is left
 * of the window that refused.
 *
 * Counting: an attempt counts as a failure from the moment it begins
 * (iam_ratelimit_begin), so parallel guesses cannot overshoot a limit; its
 * end (iam_ratelimit_end) takes it back when it succeeded or could not be
 * checked (VOID: the store failed). Successes therefore never count.
 *
 * Who is refused, and when:
 *   - address: an address with `address_max` failures in its window is
 *     refused at begin, before any work, whatever credentials it brings
 *     (correct ones included) until the window ends;
 *   - subject, IAM_RATELIMIT_SUBJECT_FROM_FAILED_ADDRESSES (passwords): a
 *     subject with `subject_max` failures in its window is refused at begin,
 *     but only to addresses that are among the sources of those failures;
 *   - subject, IAM_RATELIMIT_SUBJECT_AFTER_CHECK (API keys): never refused at
 *     begin; iam_ratelimit_end reports, for a FAILED attempt only, that the
 *     subject is over `subject_max`, and the caller answers that attempt 429
 *     instead of its usual error. A correct credential is never refused
 *     because of its subject's failures.
 * Under both subject rules an address that has not failed is never refused
 * because of failures from elsewhere: an attacker cannot lock the owner out.
 *
 * Address keys: IPv4 as given; IPv6 reduced to its /64 (one host or LAN
 * holds a whole /64, so per-address counting of IPv6 would be trivial to
 * dodge); IPv4-mapped IPv6 as the IPv4 address; NULL or "" as "unknown".
 * Subjects longer than IAM_RATELIMIT_KEY_MAX - 1 bytes are cut.
 *
 * Memory: each of the two tables holds at most `entries_max` counters; when
 * one is full, expired windows are dropped first, then the oldest windows.
 * Per subject at most 32 source addresses are remembered (the one that failed
 * longest ago is replaced). All calls are thread-safe (one mutex per
 * limiter, never held during the caller's work).
 *
 * Scope: a limiter lives in one process. With several iamd nodes behind a
 * load balancer each node counts on its own, so the effective limits are up
 * to the number of nodes times the configured ones.
 */
#ifndef IAM_IAM_RATELIMIT_H
#define IAM_IAM_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define IAM_RATELIMIT_KEY_MAX 72          /* subject and address keys, NUL included */
#define IAM_RATELIMIT_ENTRIES_DEFAULT 16384

enum iam_ratelimit_subject_rule {
    IAM_RATELIMIT_SUBJECT_FROM_FAILED_ADDRESSES,
    IAM_RATELIMIT_SUBJECT_AFTER_CHECK,
};

struct iam_ratelimit_options {
    int64_t window;      /* seconds, >= 1 */
    int64_t address_max; /* failures per address per window; 0: no address limit */
    int64_t subject_max; /* failures per subject per window; 0: no subject limit */
    enum iam_ratelimit_subject_rule subject_rule;
    size_t entries_max;  /* counters per table; 0: IAM_RATELIMIT_ENTRIES_DEFAULT */
};

/* What became of an attempt started with iam_ratelimit_begin. */
enum iam_ratelimit_outcome {
    IAM_RATELIMIT_SUCCEEDED, /* taken back; FROM_FAILED_ADDRESSES: the subject's failures from this address cleared */
    IAM_RATELIMIT_FAILED,    /* kept */
    IAM_RATELIMIT_VOID,      /* the check could not run: taken back */
};

struct iam_ratelimit;

/* A new, empty limiter (IAM_EINVAL for a window below 1 s). Free with iam_ratelimit_free. */
enum iam_result iam_ratelimit_new(const struct iam_ratelimit_options *options,
                                  struct iam_ratelimit **out) IAM_MUST_CHECK;

/* Frees the limiter and its counters. NULL is allowed. */
void iam_ratelimit_free(struct iam_ratelimit *limiter);

/*
 * Starts an attempt for `subject` (NULL or "": none) from `address` at `now`
 * (seconds). IAM_ETOOMANY, with `*retry_after` seconds (>= 1), when the
 * address, or (FROM_FAILED_ADDRESSES) the subject for this address, is over
 * its limit; nothing is counted then. Otherwise IAM_OK, `*retry_after` = 0,
 * and the attempt counts as a failure until iam_ratelimit_end says otherwise.
 * IAM_ENOMEM when a table cannot grow.
 */
enum iam_result iam_ratelimit_begin(struct iam_ratelimit *limiter, const char *subject, const char *address,
                                    int64_t now, int64_t *retry_after) IAM_MUST_CHECK;

/*
 * Ends an attempt begun with the same subject and address. For a FAILED
 * attempt under IAM_RATELIMIT_SUBJECT_AFTER_CHECK, returns IAM_ETOOMANY with
 * `*retry_after` (>= 1) when the subject now has more than `subject_max`
 * failures in its window; IAM_OK otherwise (`*retry_after` = 0).
 * `retry_after` may be NULL.
 */
enum iam_result iam_ratelimit_end(struct iam_ratelimit *limiter, const char *subject, const char *address,
                                  enum iam_ratelimit_outcome outcome, int64_t now, int64_t *retry_after);

/* Forgets every counter (tests, and operators through a restart). */
void iam_ratelimit_reset(struct iam_ratelimit *limiter);

/* What a limiter has done, for /metrics. */
struct iam_ratelimit_stats {
    size_t address_entries;   /* counters in the address table (windows that ended but were not dropped yet included) */
    size_t subject_entries;   /* counters in the subject table */
    uint64_t refused_address; /* attempts refused for their address (IAM_ETOOMANY from begin) */
    uint64_t refused_subject; /* refused for their subject (from begin or, AFTER_CHECK, from end) */
};

/* Fills `out` under the limiter's lock; all 0 for NULL. The refusal counts survive iam_ratelimit_reset. */
void iam_ratelimit_stats(struct iam_ratelimit *limiter, struct iam_ratelimit_stats *out);

/* The key `address` is counted under (see "Address keys"), written to `out`. */
void iam_ratelimit_address_key(const char *address, char out[IAM_RATELIMIT_KEY_MAX]);

#endif
