/*
 * buf.h: a growable byte buffer with a hard cap fixed at creation.
 *
 * Every buffer fed by the network is an iam_buf whose `max` is set when it
 * is initialised; an append past the cap fails with IAM_ETOOBIG and leaves
 * the content unchanged. The data is always NUL-terminated. The owner of
 * the struct frees it with iam_buf_free().
 */
#ifndef IAM_COMMON_BUF_H
#define IAM_COMMON_BUF_H

#include <stddef.h>

#include "common/error.h"

struct iam_buf {
    char *data;      /* NUL-terminated; NULL until the first append */
    size_t length;   /* bytes used, without the NUL */
    size_t capacity; /* bytes allocated */
    size_t max;      /* the cap on length */
};

/* Prepares an empty buffer that may hold at most `max` bytes. */
void iam_buf_init(struct iam_buf *buf, size_t max);

/* Appends bytes. IAM_ETOOBIG past the cap, IAM_ENOMEM on allocation failure. */
enum iam_result iam_buf_append(struct iam_buf *buf, const void *data, size_t length) IAM_MUST_CHECK;

/* Appends a NUL-terminated string. */
enum iam_result iam_buf_append_str(struct iam_buf *buf, const char *text) IAM_MUST_CHECK;

/* Appends formatted text. */
enum iam_result iam_buf_appendf(struct iam_buf *buf, const char *format, ...) IAM_PRINTF(2, 3) IAM_MUST_CHECK;

/* Empties the buffer, keeping its memory. */
void iam_buf_reset(struct iam_buf *buf);

/* Frees the memory (wiping it first) and empties the buffer. */
void iam_buf_free(struct iam_buf *buf);

/* Hands the data to the caller (who frees it with free()) and empties the buffer. */
char *iam_buf_detach(struct iam_buf *buf);

#endif
