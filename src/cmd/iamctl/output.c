/*
 * output.c: iamctl's messages, JSON output and terminal-safe text (output.h).
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "output.h"

/* Prints a line to `stream` with the control characters of the formatted text replaced. */
static void print_line(FILE *stream, const char *prefix, const char *format, va_list list) IAM_PRINTF(3, 0);

static void print_line(FILE *stream, const char *prefix, const char *format, va_list list)
{
    char message[2048];
    char safe[2048];
    vsnprintf(message, sizeof message, format, list);
    fprintf(stream, "%s%s\n", prefix, iamctl_safe_text(message, safe, sizeof safe));
}

int iamctl_fail(const char *format, ...)
{
    va_list list;
    va_start(list, format);
    print_line(stderr, "iamctl: ", format, list);
    va_end(list);
    return IAMCTL_EXIT_FAILURE;
}

int iamctl_usage(const char *command, const char *format, ...)
{
    char message[1024];
    va_list list;
    va_start(list, format);
    vsnprintf(message, sizeof message, format, list);
    va_end(list);
    char safe[1024];
    iamctl_safe_text(message, safe, sizeof safe);
    if (command)
        fprintf(stderr, "iamctl: %s (see 'iamctl help %s')\n", safe, command);
    else
        fprintf(stderr, "iamctl: %s (see 'iamctl help')\n", safe);
    return IAMCTL_EXIT_USAGE;
}

void iamctl_warn(bool quiet, const char *format, ...)
{
    if (quiet)
        return;
    va_list list;
    va_start(list, format);
    print_line(stderr, "iamctl: warning: ", format, list);
    va_end(list);
}

void iamctl_say(bool quiet, const char *format, ...)
{
    if (quiet)
        return;
    va_list list;
    va_start(list, format);
    print_line(stdout, "", format, list);
    va_end(list);
}

void iamctl_print_json(const json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!text) {
        fputs("null\n", stdout);
        return;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
}

const char *iamctl_safe_text(const char *text, char *out, size_t size)
{
    if (size == 0)
        return out;
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    while (*p && used + 1 < size) {
        unsigned char c = *p;
        if (c < 0x20 || c == 0x7f) {
            out[used++] = '?';
            p++;
        } else if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { /* C1 controls in UTF-8 */
            out[used++] = '?';
            p += 2;
        } else {
            out[used++] = (char)c;
            p++;
        }
    }
    /* Do not leave half a UTF-8 sequence at a truncation point. */
    if (*p) {
        while (used > 0 && ((unsigned char)out[used - 1] & 0xc0) == 0x80)
            used--;
        if (used > 0 && ((unsigned char)out[used - 1] & 0xc0) == 0xc0)
            used--;
    }
    out[used] = '\0';
    return out;
}

const char *iamctl_json_text(const json_t *object, const char *key, char *scratch, size_t scratch_size)
{
    const json_t *value = json_object_get(object, key);
    if (json_is_string(value))
        return json_string_value(value);
    if (json_is_true(value))
        return "true";
    if (json_is_false(value))
        return "false";
    if (json_is_integer(value)) {
        snprintf(scratch, scratch_size, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        return scratch;
    }
    if (json_is_real(value)) {
        snprintf(scratch, scratch_size, "%g", json_real_value(value));
        return scratch;
    }
    return "";
}

const char *iamctl_json_string(const json_t *object, const char *key)
{
    return json_string_value(json_object_get(object, key));
}

const char *iamctl_json_str(const json_t *object, const char *key)
{
    const char *value = json_string_value(json_object_get(object, key));
    return value ? value : "";
}

bool iamctl_confirm(const char *question)
{
    char safe[1024];
    fprintf(stderr, "%s [y/N] ", iamctl_safe_text(question, safe, sizeof safe));
    fflush(stderr);
    char answer[16];
    bool got = fgets(answer, sizeof answer, stdin) != NULL;
    /* Piped answers are not echoed: end the prompt's line so the next message starts its own. */
    if (!got || !isatty(STDIN_FILENO))
        fputc('\n', stderr);
    if (!got)
        return false;
    return strcmp(answer, "y\n") == 0 || strcmp(answer, "yes\n") == 0 || strcmp(answer, "Y\n") == 0 ||
           strcmp(answer, "y") == 0 || strcmp(answer, "yes") == 0;
}
