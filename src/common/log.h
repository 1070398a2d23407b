/*
 * log.h: structured JSON log lines on stderr.
 *
 * One line per event: {"ts":..., "level":..., "event":..., ...fields}.
 * Never pass a secret (key value, token, password, IAM-ApiKey header) to
 * any function here: log key ids instead.
 */
#ifndef IAM_COMMON_LOG_H
#define IAM_COMMON_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

enum iam_log_level { IAM_LOG_DEBUG, IAM_LOG_INFO, IAM_LOG_WARN, IAM_LOG_ERROR };

/* Lines below `level` are dropped. Default IAM_LOG_INFO. */
void iam_log_set_level(enum iam_log_level level);

/* Parses "debug", "info", "warn", "error". */
enum iam_result iam_log_level_parse(const char *text, enum iam_log_level *level) IAM_MUST_CHECK;

/* Logs `event` with a formatted "msg" field. */
void iam_log(enum iam_log_level level, const char *event, const char *format, ...) IAM_PRINTF(3, 4);

/* Logs `event` with the members of `fields` (a JSON object, stolen; may be NULL). */
void iam_log_fields(enum iam_log_level level, const char *event, json_t *fields);

/* True when lines at `level` are written (so callers can skip building them). */
bool iam_log_enabled(enum iam_log_level level);

/*
 * Logs `event` with `fields`: the members of a JSON object already
 * serialised, without braces (`"a":1,"b":"x"`), e.g. built with
 * iam_log_escape. The fast path for the access log (no JSON objects built).
 */
void iam_log_preformatted(enum iam_log_level level, const char *event, const char *fields);

/*
 * Writes `text` as a JSON string (with quotes; NULL as null) into `out`
 * (quotes, backslashes, control characters and bytes >= 0x7f escaped as \u00XX)
 * (`size` bytes, always NUL-terminated). Returns the length written; a text
 * that does not fit is cut (still valid JSON).
 */
size_t iam_log_escape(char *out, size_t size, const char *text);

#endif
