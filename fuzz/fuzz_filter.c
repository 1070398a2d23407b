/*
 * fuzz_filter.c: libFuzzer target for iam_name_filter_parse
 * (src/iam/apikeys.c), the `filter` query parameter of the API key and
 * service ID lists (`name eq "text"` / `name co "text"`).
 *
 * The input is the query value (NUL-terminated). On success exactly one of
 * equals / contains is set, and quoting that value again (escaping '"' and
 * '\') and parsing it gives the same value.
 */
#include "fuzz_common.h"

#include "common/arena.h"
#include "common/log.h"
#include "iam/apikeys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    iam_log_set_level(IAM_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *text = fuzz_string(data, size);
    char *quoted = NULL;
    struct iam_arena *arena = iam_arena_new();
    FUZZ_CHECK(arena);
    struct iam_error err;
    const char *equals = NULL, *contains = NULL;
    enum iam_result result = iam_name_filter_parse(arena, text, &equals, &contains, &err);
    FUZZ_CHECK(result == IAM_OK || result == IAM_EINVAL);
    if (result != IAM_OK) {
        FUZZ_CHECK(!equals && !contains);
        FUZZ_CHECK(err.result == result && err.message[0] && fuzz_utf8_valid(err.message));
        goto out;
    }
    FUZZ_CHECK((equals != NULL) != (contains != NULL));
    const char *value = equals ? equals : contains;
    FUZZ_CHECK(strlen(value) < size);

    quoted = malloc(strlen(value) * 2 + 16);
    FUZZ_CHECK(quoted);
    size_t length = 0;
    memcpy(quoted, equals ? "NAME EQ \"" : "name co \"", 9);
    length = 9;
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            quoted[length++] = '\\';
        quoted[length++] = *p;
    }
    quoted[length++] = '"';
    quoted[length] = '\0';
    const char *equals_again = NULL, *contains_again = NULL;
    FUZZ_CHECK(iam_name_filter_parse(arena, quoted, &equals_again, &contains_again, &err) == IAM_OK);
    FUZZ_CHECK((equals_again != NULL) == (equals != NULL));
    FUZZ_CHECK(strcmp(equals_again ? equals_again : contains_again, value) == 0);

out:
    free(quoted);
    iam_arena_free(arena);
    free(text);
    return 0;
}
