/*
 * fuzz_keyformat.c: libFuzzer target for iam_keyformat_inspect
 * (src/crypto/keyformat.c), which reads every API key a client presents
 * before any lookup.
 *
 * Input: "<prefix>\n<value>", or only "<value>" (prefix "iamd") when there is
 * no newline. A recognised value must have the exact layout, a value with a
 * valid checksum must be accepted, and a key generated for the key id that
 * inspect found must inspect back to the same id (the base62 decoder agrees
 * with the encoder).
 */
#include "fuzz_common.h"

#include "common/log.h"
#include "crypto/keyformat.h"

#define BODY_DIGITS 71

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    iam_log_set_level(IAM_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = fuzz_string(data, size);
    const char *prefix = IAM_KEYFORMAT_DEFAULT_PREFIX;
    const char *value = text;
    char *newline = memchr(text, '\n', size);
    if (newline) {
        *newline = '\0';
        prefix = text;
        value = newline + 1;
    }

    struct iam_keyformat_info info;
    enum iam_result result = iam_keyformat_inspect(prefix, value, &info);
    FUZZ_CHECK(result == IAM_OK || result == IAM_EINVAL);
    FUZZ_CHECK(result != IAM_OK || (info.recognised && info.checksum_valid));
    FUZZ_CHECK(!info.checksum_valid || info.recognised);
    if (info.recognised) {
        FUZZ_CHECK(iam_keyformat_prefix_valid(prefix));
        size_t prefix_length = strlen(prefix);
        FUZZ_CHECK(strlen(value) == prefix_length + 1 + BODY_DIGITS);
        FUZZ_CHECK(strncmp(value, prefix, prefix_length) == 0 && value[prefix_length] == '_');
        FUZZ_CHECK(strlen(info.key_id_text) == strlen("ApiKey-") + 36);
        FUZZ_CHECK(strncmp(info.key_id_text, "ApiKey-", 7) == 0);

        char generated[IAM_KEYFORMAT_VALUE_SIZE];
        struct iam_keyformat_info again;
        FUZZ_CHECK(iam_keyformat_generate(prefix, info.key_id, generated) == IAM_OK);
        FUZZ_CHECK(iam_keyformat_inspect(prefix, generated, &again) == IAM_OK);
        FUZZ_CHECK(memcmp(again.key_id, info.key_id, sizeof info.key_id) == 0);
        FUZZ_CHECK(strcmp(again.key_id_text, info.key_id_text) == 0);
        /* The key id field is the same text when the id is the same number. */
        FUZZ_CHECK(strncmp(generated, value, prefix_length + 1 + 22) == 0);
    }
    free(text);
    return 0;
}
