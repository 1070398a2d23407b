/* crn.c: splitting a CRN into its parts. */
#include "iam/crn.h"

#include <string.h>

enum iam_result iam_crn_parse(struct iam_arena *arena, const char *text, struct iam_crn *out)
{
    memset(out, 0, sizeof *out);
    if (!text || strlen(text) > IAM_CRN_MAX || strncmp(text, "crn:v1:", 7) != 0)
        return IAM_EINVAL;
    const char *parts[8];
    size_t lengths[8];
    const char *cursor = text + 7;
    for (int i = 0; i < 8; i++) {
        const char *colon = i < 7 ? strchr(cursor, ':') : NULL;
        if (i < 7 && !colon)
            return IAM_EINVAL;
        parts[i] = cursor;
        lengths[i] = colon ? (size_t)(colon - cursor) : strlen(cursor);
        cursor = colon ? colon + 1 : cursor + lengths[i];
    }
    for (size_t i = 0; i < strlen(text); i++)
        if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] == 0x7f)
            return IAM_EINVAL;
    const char *values[8];
    for (int i = 0; i < 8; i++) {
        values[i] = iam_arena_strndup(arena, parts[i], lengths[i]);
        if (!values[i])
            return IAM_ENOMEM;
    }
    out->cname = values[0];
    out->ctype = values[1];
    out->service_name = values[2];
    out->location = values[3];
    const char *scope = values[4];
    if (strncmp(scope, "a/", 2) == 0)
        out->account_id = scope + 2;
    else if (*scope == '\0')
        out->account_id = "";
    else
        out->account_id = "";
    out->service_instance = values[5];
    out->resource_type = values[6];
    out->resource = values[7];
    if (!*out->cname || !*out->ctype)
        return IAM_EINVAL;
    return IAM_OK;
}
