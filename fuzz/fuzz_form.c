/*
 * fuzz_form.c: libFuzzer target for iam_form_parse (src/http/form.c), the
 * urlencoded body parser of the token endpoint.
 *
 * The input is the body as the server passes it (a length; the bytes are not
 * NUL-terminated here so an over-read is caught). On success the parsed form
 * must keep the parser's promises (at most 64 fields, non-empty unique names,
 * iam_form_get finds each), and encoding the fields again and re-parsing must
 * give the same fields.
 */
#include "fuzz_common.h"

#include "common/arena.h"
#include "common/log.h"
#include "http/http.h"

#define FORM_MAX_FIELDS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    iam_log_set_level(IAM_LOG_ERROR);
    return 0;
}

/* Percent-encodes every byte except unreserved ones; a space as '+' half of the time, to cover both. */
static size_t encode(const char *text, char *out, int plus_for_space)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t used = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '.' || *p == '_' || *p == '~') {
            out[used++] = (char)*p;
        } else if (*p == ' ' && plus_for_space) {
            out[used++] = '+';
        } else {
            out[used++] = '%';
            out[used++] = hex[*p >> 4];
            out[used++] = hex[*p & 15];
        }
    }
    return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0; /* the server's body cap is far below this */
    struct iam_arena *arena = iam_arena_new();
    FUZZ_CHECK(arena);
    char *body = fuzz_bytes(data, size);
    char *again = NULL;
    struct iam_form form;
    enum iam_result result = iam_form_parse(arena, body, size, &form);
    FUZZ_CHECK(result == IAM_OK || result == IAM_EINVAL);
    if (result != IAM_OK)
        goto out;
    FUZZ_CHECK(form.count <= FORM_MAX_FIELDS);
    FUZZ_CHECK(size == 0 || form.count >= 1);

    /* Every byte may triple when encoded, plus '=' and '&' per field. */
    again = malloc(size * 3 + 2 * FORM_MAX_FIELDS + 1);
    FUZZ_CHECK(again);
    size_t length = 0;
    for (size_t i = 0; i < form.count; i++) {
        const struct iam_form_field *field = &form.fields[i];
        FUZZ_CHECK(field->name && field->value && field->name[0] != '\0');
        FUZZ_CHECK(strlen(field->name) + strlen(field->value) <= size);
        FUZZ_CHECK(iam_form_get(&form, field->name) == field->value);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(form.fields[j].name, field->name) != 0);
        if (i)
            again[length++] = '&';
        length += encode(field->name, again + length, (int)(i & 1));
        again[length++] = '=';
        length += encode(field->value, again + length, (int)(i & 1));
    }
    struct iam_form reparsed;
    FUZZ_CHECK(iam_form_parse(arena, again, length, &reparsed) == IAM_OK);
    FUZZ_CHECK(reparsed.count == form.count);
    for (size_t i = 0; i < form.count; i++) {
        FUZZ_CHECK(strcmp(reparsed.fields[i].name, form.fields[i].name) == 0);
        FUZZ_CHECK(strcmp(reparsed.fields[i].value, form.fields[i].value) == 0);
    }

out:
    free(again);
    free(body);
    iam_arena_free(arena);
    return 0;
}
