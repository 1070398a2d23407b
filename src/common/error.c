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
    return result;
}
