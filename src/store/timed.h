/*
 * timed.h: the one place where database latency is measured.
 *
 * Every public store function (store.c, store_activity.c, store_audit.c, store_sessions.c)
 * ends in one call through the backend's table of functions. That call is
 * written IAM_STORE_RETURN_TIMED(call): it makes the call, adds how long it
 * took to the store call histogram (common/metrics.h,
 * iamd_store_call_duration_seconds) and returns its result. The argument
 * checks before it are not measured, and neither is the offline database
 * copy (copy.c). No backend function measures anything itself. Only the
 * files named here include this header.
 */
#ifndef IAM_STORE_TIMED_H
#define IAM_STORE_TIMED_H

#include "common/metrics.h"
#include "common/time.h"

/* Returns `call`'s enum iam_result from the enclosing function, after recording its duration. */
#define IAM_STORE_RETURN_TIMED(call)                                                                                \
    do {                                                                                                             \
        int64_t store_started_ns_ = iam_monotonic_ns();                                                              \
        enum iam_result store_result_ = (call);                                                                      \
        iam_metrics_observe_store_call(iam_monotonic_ns() - store_started_ns_);                                      \
        return store_result_;                                                                                        \
    } while (0)

#endif
