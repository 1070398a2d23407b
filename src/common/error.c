/* error.c: result strings and filling the caller-owned error detail. */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *iam_strerror(enum iam_result result)
{
    switch (result) {
    case IAM_OK: return "success";
    case IAM_ENOMEM: return "out of memory";
    case IAM_EINVAL: return "invalid input";
    case IAM_ENOTFOUND: return "not found";
    case IAM_ECONFLICT: return "conflict";
    case IAM_ELOCKED: return "locked";
    case IAM_EUNAUTH: return "not authenticated";
    case IAM_EDENIED: return "access denied";
    case IAM_ETOOBIG: return "too large";
    case IAM_ESTORE: return "database error";
    case IAM_ECRYPTO: return "cryptographic failure";
    case IAM_EUNAVAILABLE: return "temporarily unavailable";
    case IAM_EINTERNAL: return "internal error";
    case IAM_ETOOMANY: return "too many requests";
    case IAM_RESULT_COUNT: break;
    }
    return "unknown error";
}

const char *iam_error_code_for(enum iam_result result)
{
    switch (result) {
    case IAM_OK: return "ok";
    case IAM_EINVAL: return "invalid_request";
    case IAM_ENOTFOUND: return "not_found";
    case IAM_ECONFLICT: return "conflict";
    case IAM_ELOCKED: return "entity_locked";
    case IAM_EUNAUTH: return "invalid_access_token";
    case IAM_EDENIED: return "insufficent_permissions"; /* IBM's spelling */
    case IAM_ETOOBIG: return "request_too_large";
    case IAM_EUNAVAILABLE: return "service_unavailable";
    case IAM_ETOOMANY: return "too_many_requests";
    default: return "internal_error";
    }
}

/* Length of the well-formed UTF-8 sequence at `p` (1..4), 0 when it is not one. Stops at a NUL. */
static size_t utf8_length(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xe0 && p[0] <= 0xef) {
        unsigned char low = p[0] == 0xe0 ? 0xa0 : 0x80, high = p[0] == 0xed ? 0x9f : 0xbf;
        return p[1] >= low && p[1] <= high && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        unsigned char low = p[0] == 0xf0 ? 0x90 : 0x80, high = p[0] == 0xf4 ? 0x8f : 0xbf;
        return p[1] >= low && p[1] <= high && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

void iam_error_sanitize(struct iam_error *err)
{
    if (!err)
        return;
    err->message[sizeof err->message - 1] = '\0';
    unsigned char *p = (unsigned char *)err->message;
    while (*p) {
        size_t length = utf8_length(p);
        if (length == 0) {
            *p++ = '?';
        } else {
            p += length;
        }
    }
}

void iam_error_clear(struct iam_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

enum iam_result iam_error_set(struct iam_error *err, enum iam_result result,
                              const char *message_code, const char *format, ...)
{
    if (!err)
        return result;
    err->result = result;
    snprintf(err->code, sizeof err->code, "%s", iam_error_code_for(result));
    snprintf(err->message_code, sizeof err->message_code, "%s", message_code ? message_code : "");
    va_list args;
    va_start(args, format);
    vsnprintf(err->message, sizeof err->message, format, args);
    va_end(args);
    iam_error_sanitize(err);
    return result;
}
