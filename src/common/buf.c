/* buf.c: capped growable buffer. */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void iam_buf_init(struct iam_buf *buf, size_t max)
{
    buf->data = NULL;
    buf->length = 0;
    buf->capacity = 0;
    buf->max = max;
}

static enum iam_result buf_reserve(struct iam_buf *buf, size_t extra)
{
    if (extra > buf->max || buf->length > buf->max - extra)
        return IAM_ETOOBIG;
    size_t needed = buf->length + extra + 1;
    if (needed <= buf->capacity)
        return IAM_OK;
    size_t capacity = buf->capacity ? buf->capacity : 256;
    while (capacity < needed)
        capacity *= 2;
    if (capacity > buf->max + 1)
        capacity = buf->max + 1;
    char *data = realloc(buf->data, capacity);
    if (!data)
        return IAM_ENOMEM;
    buf->data = data;
    buf->capacity = capacity;
    return IAM_OK;
}

enum iam_result iam_buf_append(struct iam_buf *buf, const void *data, size_t length)
{
    enum iam_result result = buf_reserve(buf, length);
    if (result != IAM_OK)
        return result;
    if (length)
        memcpy(buf->data + buf->length, data, length);
    buf->length += length;
    buf->data[buf->length] = '\0';
    return IAM_OK;
}

enum iam_result iam_buf_append_str(struct iam_buf *buf, const char *text)
{
    return iam_buf_append(buf, text, strlen(text));
}

enum iam_result iam_buf_appendf(struct iam_buf *buf, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int needed = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (needed < 0)
        return IAM_EINVAL;
    enum iam_result result = buf_reserve(buf, (size_t)needed);
    if (result != IAM_OK)
        return result;
    va_start(args, format);
    vsnprintf(buf->data + buf->length, (size_t)needed + 1, format, args);
    va_end(args);
    buf->length += (size_t)needed;
    return IAM_OK;
}

void iam_buf_reset(struct iam_buf *buf)
{
    buf->length = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

void iam_buf_free(struct iam_buf *buf)
{
    if (buf->data) {
        volatile char *p = buf->data;
        for (size_t i = 0; i < buf->capacity; i++)
            p[i] = 0;
    }
    free(buf->data);
    buf->data = NULL;
    buf->length = 0;
    buf->capacity = 0;
}

char *iam_buf_detach(struct iam_buf *buf)
{
    char *data = buf->data;
    buf->data = NULL;
    buf->length = 0;
    buf->capacity = 0;
    return data;
}
