/*
 * form.c: application/x-www-form-urlencoded bodies (the token endpoint's format).
 *
 * Strict on purpose: a body that two parsers could read differently (a
 * malformed escape, an embedded NUL, a repeated name) is refused rather than
 * guessed at, so the field a check looked at is the field that gets used.
 */
#include <string.h>

#include "http/http.h"

#define FORM_MAX_FIELDS 64

static int form_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decodes `length` bytes of `text` ('+' is a space, %XY a byte) into a new
 * NUL-terminated arena string. IAM_EINVAL for a malformed escape or %00.
 */
static enum iam_result form_decode(struct iam_arena *arena, const char *text, size_t length, const char **out)
{
    char *decoded = iam_arena_alloc(arena, length + 1); /* decoding never lengthens */
    if (!decoded)
        return IAM_ENOMEM;
    size_t used = 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (c == '+') {
            decoded[used++] = ' ';
        } else if (c == '%') {
            if (length - i < 3)
                return IAM_EINVAL;
            int high = form_hex_value(text[i + 1]);
            int low = form_hex_value(text[i + 2]);
            if (high < 0 || low < 0)
                return IAM_EINVAL;
            int byte = high * 16 + low;
            if (byte == 0)
                return IAM_EINVAL;
            decoded[used++] = (char)byte;
            i += 2;
        } else {
            decoded[used++] = c;
        }
    }
    decoded[used] = '\0';
    *out = decoded;
    return IAM_OK;
}

enum iam_result iam_form_parse(struct iam_arena *arena, const char *body, size_t length, struct iam_form *form)
{
    enum iam_result result = IAM_OK;
    struct iam_form_field *fields = NULL;
    size_t count = 0;

    if (!form)
        return IAM_EINVAL;
    form->fields = NULL;
    form->count = 0;
    if (length == 0)
        return IAM_OK;
    if (!body || !arena)
        return IAM_EINVAL;
    if (memchr(body, '\0', length))
        return IAM_EINVAL;

    /* Count the pairs first so the array is sized before anything is decoded. */
    size_t pairs = 1;
    for (size_t i = 0; i < length; i++) {
        if (body[i] == '&' && ++pairs > FORM_MAX_FIELDS)
            return IAM_EINVAL;
    }
    fields = iam_arena_alloc(arena, pairs * sizeof *fields);
    if (!fields)
        return IAM_ENOMEM;

    const char *cursor = body;
    const char *end = body + length;
    while (cursor <= end) {
        const char *amp = memchr(cursor, '&', (size_t)(end - cursor));
        const char *pair_end = amp ? amp : end;
        const char *equals = memchr(cursor, '=', (size_t)(pair_end - cursor));
        const char *name_end = equals ? equals : pair_end;
        if (name_end == cursor) {
            result = IAM_EINVAL; /* empty name: "=x", "a=1&&b=2", a trailing '&' */
            goto fail;
        }
        struct iam_form_field *field = &fields[count];
        result = form_decode(arena, cursor, (size_t)(name_end - cursor), &field->name);
        if (result != IAM_OK)
            goto fail;
        if (equals)
            result = form_decode(arena, equals + 1, (size_t)(pair_end - equals - 1), &field->value);
        else
            field->value = ""; /* "flag" alone reads as an empty value */
        if (result != IAM_OK)
            goto fail;
        if (field->name[0] == '\0') {
            result = IAM_EINVAL;
            goto fail;
        }
        for (size_t i = 0; i < count; i++) {
            if (strcmp(fields[i].name, field->name) == 0) {
                result = IAM_EINVAL;
                goto fail;
            }
        }
        count++;
        if (!amp)
            break;
        cursor = amp + 1;
    }
    form->fields = fields;
    form->count = count;
    return IAM_OK;

fail:
    /* The partly decoded strings stay in the arena; they are freed with the request. */
    return result;
}

const char *iam_form_get(const struct iam_form *form, const char *name)
{
    if (!form || !name)
        return NULL;
    for (size_t i = 0; i < form->count; i++) {
        if (strcmp(form->fields[i].name, name) == 0)
            return form->fields[i].value;
    }
    return NULL;
}
