/*
 * fuzz_crn.c: libFuzzer target for iam_crn_parse (src/iam/crn.c), which
 * reads CRNs from policies, role ids and service ID bodies.
 *
 * The input is the text (NUL-terminated). On success every part is set, the
 * cname and ctype are not empty, the parts are pieces of the text (their
 * lengths and the nine separators fit in it) and no control character got in.
 */
#include "fuzz_common.h"

#include "common/arena.h"
#include "common/log.h"
#include "iam/crn.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    iam_log_set_level(IAM_LOG_ERROR);
    return 0;
}

static void check_part(const char *part)
{
    FUZZ_CHECK(part);
    for (const unsigned char *p = (const unsigned char *)part; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * IAM_CRN_MAX)
        return 0;
    char *text = fuzz_string(data, size);
    struct iam_arena *arena = iam_arena_new();
    FUZZ_CHECK(arena);
    struct iam_crn crn;
    enum iam_result result = iam_crn_parse(arena, text, &crn);
    FUZZ_CHECK(result == IAM_OK || result == IAM_EINVAL);
    if (result == IAM_OK) {
        const char *parts[] = {crn.cname, crn.ctype, crn.service_name, crn.location, crn.account_id,
                               crn.service_instance, crn.resource_type, crn.resource};
        size_t total = 0;
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
            check_part(parts[i]);
            total += strlen(parts[i]);
        }
        FUZZ_CHECK(crn.cname[0] && crn.ctype[0]);
        FUZZ_CHECK(strlen(text) <= IAM_CRN_MAX);
        FUZZ_CHECK(strncmp(text, "crn:v1:", 7) == 0);
        FUZZ_CHECK(7 + total + 7 <= strlen(text));
        FUZZ_CHECK(strstr(text, crn.resource) != NULL);
    }
    iam_arena_free(arena);
    free(text);
    return 0;
}
