/*
 * error.h: the one result type of iamd and the caller-owned error detail.
 *
 * Every fallible function returns enum iam_result. When a caller passes a
 * struct iam_error, the callee fills it with an IBM message code and a
 * human-readable message meant for the API client (never a secret).
 * The HTTP status for a result is chosen in api/, not here.
 */
#ifndef IAM_COMMON_ERROR_H
#define IAM_COMMON_ERROR_H

#include <stddef.h>

#define IAM_MUST_CHECK __attribute__((warn_unused_result))
#define IAM_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

enum iam_result {
    IAM_OK = 0,
    IAM_ENOMEM,       /* allocation failed */
    IAM_EINVAL,       /* the caller's input is malformed or out of range */
    IAM_ENOTFOUND,    /* no such object (or not visible to the caller) */
    IAM_ECONFLICT,    /* stale entity tag, duplicate value, dependent objects */
    IAM_ELOCKED,      /* the object is locked against changes */
    IAM_EUNAUTH,      /* missing or invalid credentials */
    IAM_EDENIED,      /* authenticated but not allowed */
    IAM_ETOOBIG,      /* a size limit was exceeded */
    IAM_ESTORE,       /* the database failed */
    IAM_ECRYPTO,      /* a cryptographic operation failed */
    IAM_EUNAVAILABLE, /* a dependency is temporarily unavailable */
    IAM_EINTERNAL,    /* a bug or an impossible state */
    IAM_ETOOMANY,     /* rate limited: too many attempts, retry later */
    IAM_RESULT_COUNT
};

/* Short, stable English description of a result code. Never NULL. */
const char *iam_strerror(enum iam_result result);

/*
 * Detail for the client. `code` is IBM's lower-case error code
 * ("not_found"), `message_code` IBM's BXNIM... code, `message` the text.
 */
struct iam_error {
    enum iam_result result;
    char code[48];
    char message_code[16];
    char message[256];
};

/*
 * Fills `err` (if not NULL) and returns `result`, so a function can
 * `return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "...")`.
 * The IBM `code` string is derived from `result`.
 */
enum iam_result iam_error_set(struct iam_error *err, enum iam_result result,
                              const char *message_code, const char *format, ...)
    IAM_PRINTF(4, 5);

/*
 * Makes err->message valid UTF-8 in place: every byte that is not part of a
 * well-formed sequence becomes '?'. A message may quote client input (any
 * bytes) or be cut by a length limit inside a character, and it ends up in a
 * JSON body, which must be UTF-8. iam_error_set calls it; call it after
 * writing err->message yourself. NULL is allowed.
 */
void iam_error_sanitize(struct iam_error *err);

/* Clears `err` to IAM_OK with empty strings. */
void iam_error_clear(struct iam_error *err);

/* IBM's lower-case error code for a result ("not_found", "invalid_request"...). */
const char *iam_error_code_for(enum iam_result result);

#endif
