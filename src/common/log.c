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

bool iam_log_enabled(enum iam_log_level level)
{
    return (int)level >= atomic_load(&minimum_level);
}

size_t iam_log_escape(char *out, size_t size, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    if (size < 7) {
        if (size)
            out[0] = '\0';
        return 0;
    }
    if (!text) {
        memcpy(out, "null", 5);
        return 4;
    }
    size_t used = 0;
    out[used++] = '"';
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        char escaped[7];
        size_t length = 0;
        if (*p == '"' || *p == '\\') {
            escaped[length++] = '\\';
            escaped[length++] = (char)*p;
        } else if (*p < 0x20 || *p >= 0x7f) {
            /* Bytes outside printable ASCII are escaped one by one, so a line is always valid JSON. */
            memcpy(escaped, "\\u00", 4);
            escaped[4] = hex[*p >> 4];
            escaped[5] = hex[*p & 15];
            length = 6;
        } else {
            escaped[length++] = (char)*p;
        }
        if (used + length + 2 > size)
            break;
        memcpy(out + used, escaped, length);
        used += length;
    }
    out[used++] = '"';
    out[used] = '\0';
    return used;
}

void iam_log_preformatted(enum iam_log_level level, const char *event, const char *fields)
{
    if (!iam_log_enabled(level))
        return;
    char ts[IAM_TIME_TEXT_SIZE];
    iam_time_format_rfc3339(iam_now(), ts);
    char event_text[128];
    iam_log_escape(event_text, sizeof event_text, event);
    char line[2048];
    int length = snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":%s%s%s}\n", ts,
                          level_names[level], event_text, fields && *fields ? "," : "", fields ? fields : "");
    if (length <= 0)
        return;
    if ((size_t)length >= sizeof line)
        return; /* never a cut line: callers keep fields short */
    ssize_t written = write(STDERR_FILENO, line, (size_t)length);
    (void)written;
}
