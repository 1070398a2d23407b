/* log.c: JSON log lines, one write(2) each so lines from threads never interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/time.h"

static _Atomic int minimum_level = IAM_LOG_INFO;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void iam_log_set_level(enum iam_log_level level)
{
    atomic_store(&minimum_level, (int)level);
}

enum iam_result iam_log_level_parse(const char *text, enum iam_log_level *level)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, level_names[i]) == 0) {
            *level = (enum iam_log_level)i;
            return IAM_OK;
        }
    }
    return IAM_EINVAL;
}

void iam_log_fields(enum iam_log_level level, const char *event, json_t *fields)
{
    if ((int)level < atomic_load(&minimum_level)) {
        json_decref(fields);
        return;
    }
    json_t *line = json_object();
    if (!line) {
        json_decref(fields);
        return;
    }
    char ts[IAM_TIME_TEXT_SIZE];
    int64_t now_ms = iam_now_ms();
    iam_time_format_rfc3339(now_ms / 1000, ts);
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(level_names[level]));
    json_object_set_new(line, "event", json_string(event));
    if (fields)
        json_object_update(line, fields);
    json_decref(fields);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text)
        return;
    size_t length = strlen(text);
    text[length] = '\n'; /* replaced NUL; write length + 1 bytes */
    ssize_t written = write(STDERR_FILENO, text, length + 1);
    (void)written;
    free(text);
}

void iam_log(enum iam_log_level level, const char *event, const char *format, ...)
{
    if ((int)level < atomic_load(&minimum_level))
        return;
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    json_t *fields = json_object();
    if (fields)
        json_object_set_new(fields, "msg", json_string(message));
    iam_log_fields(level, event, fields);
}
