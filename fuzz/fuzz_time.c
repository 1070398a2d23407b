/*
 * fuzz_time.c: libFuzzer target for iam_time_parse (src/common/time.c), which
 * reads every timestamp a client sends (API key expiry, policy conditions
 * through the API helpers).
 *
 * The input is the text (NUL-terminated). A parsed time lies in the years our
 * formats write (1970..9999, whatever the offset), and writing it back in
 * either format and parsing that gives the same instant (the IBM format to
 * the minute).
 */
#include "fuzz_common.h"

#include "common/log.h"
#include "common/time.h"

/* 10000-01-01T00:00:00Z: our formats have four-digit years. */
#define YEAR_10000 253402300800LL

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    iam_log_set_level(IAM_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char *text = fuzz_string(data, size);
    int64_t when = 0;
    enum iam_result result = iam_time_parse(text, &when);
    FUZZ_CHECK(result == IAM_OK || result == IAM_EINVAL);
    if (result == IAM_OK) {
        FUZZ_CHECK(when >= 0 && when < YEAR_10000);
        char formatted[IAM_TIME_TEXT_SIZE];
        int64_t again = -1;
        iam_time_format_rfc3339(when, formatted);
        FUZZ_CHECK(iam_time_parse(formatted, &again) == IAM_OK);
        FUZZ_CHECK(again == when);
        iam_time_format_ibm(when, formatted);
        FUZZ_CHECK(iam_time_parse(formatted, &again) == IAM_OK);
        FUZZ_CHECK(again == when - when % 60);
    }
    free(text);
    return 0;
}
