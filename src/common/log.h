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

#endif
