/*
 * time.h: clocks and IBM's timestamp formats.
 *
 * Times are int64 seconds since the Unix epoch (UTC) throughout iamd.
 * IBM writes timestamps as "YYYY-MM-DDTHH:MM+0000" (minute precision).
 */
#ifndef IAM_COMMON_TIME_H
#define IAM_COMMON_TIME_H

#include <stdint.h>

#include "common/error.h"

#define IAM_TIME_TEXT_SIZE 32

/* Wall-clock seconds since the epoch. Tests may override it with iam_time_set_offset. */
int64_t iam_now(void);

/* Wall-clock milliseconds since the epoch. */
int64_t iam_now_ms(void);

/* Monotonic nanoseconds, for durations. */
int64_t iam_monotonic_ns(void);

/* Writes `when` as "YYYY-MM-DDTHH:MM+0000" into `out` (IAM_TIME_TEXT_SIZE bytes). */
void iam_time_format_ibm(int64_t when, char out[IAM_TIME_TEXT_SIZE]);

/* Writes `when` as RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" into `out`. */
void iam_time_format_rfc3339(int64_t when, char out[IAM_TIME_TEXT_SIZE]);

/*
 * Parses an IBM or RFC 3339 timestamp: "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by
 * "Z", "+HHMM", "+HH:MM" or "-HHMM". IAM_EINVAL when malformed or out of range.
 */
enum iam_result iam_time_parse(const char *text, int64_t *when) IAM_MUST_CHECK;

#endif
