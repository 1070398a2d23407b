/*
 * keycheck.c: `key-check VALUE` (ours), offline: is the string an iamd API
 * key, is its CRC-32 checksum valid, which key id does it claim. Uses the
 * key format of the server itself (crypto/keyformat.h). The value may come
 * from standard input ("-") or a key file ("@FILE") so it stays out of the
 * shell history; it is never printed.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "crypto/keyformat.h"
#include "output.h"
#include "session.h"
#include "table.h"

int iamctl_cmd_key_check(struct iamctl_context *context)
{
    char *value = NULL;
    int status = iamctl_session_read_apikey(context->command->name, iamctl_arg(context, 0), &value);
    if (status != IAMCTL_EXIT_OK)
        return status;
    /* The prefix is the part before the first '_' (servers may use --key-prefix), unless given. */
    char prefix[IAM_KEYFORMAT_PREFIX_MAX + 1] = IAM_KEYFORMAT_DEFAULT_PREFIX;
    const char *given = iamctl_flag(context, "prefix");
    if (given) {
        if (!iam_keyformat_prefix_valid(given)) {
            iamctl_apikey_free(value);
            return iamctl_usage(context->command->name, "--prefix is 1 to %d of a-z and 0-9",
                                IAM_KEYFORMAT_PREFIX_MAX);
        }
        snprintf(prefix, sizeof prefix, "%s", given);
    } else {
        const char *underscore = strchr(value, '_');
        size_t length = underscore ? (size_t)(underscore - value) : 0;
        if (length > 0 && length <= IAM_KEYFORMAT_PREFIX_MAX) {
            char candidate[IAM_KEYFORMAT_PREFIX_MAX + 1];
            memcpy(candidate, value, length);
            candidate[length] = '\0';
            if (iam_keyformat_prefix_valid(candidate))
                memcpy(prefix, candidate, length + 1);
        }
    }
    struct iam_keyformat_info info;
    bool valid = iam_keyformat_inspect(prefix, value, &info) == IAM_OK;
    iamctl_apikey_free(value);
    if (context->json) {
        json_t *report = json_pack("{s:b,s:b,s:s,s:s?}", "recognised", info.recognised, "checksum_valid",
                                   info.checksum_valid, "prefix", prefix, "key_id",
                                   info.recognised ? info.key_id_text : NULL);
        if (!report)
            return iamctl_fail("out of memory");
        iamctl_print_json(report);
        json_decref(report);
    } else if (!context->quiet) {
        const char *pairs[] = {"Format",   info.recognised ? "iamd API key" : "not an iamd API key",
                               "Prefix",   prefix,
                               "Checksum", !info.recognised ? "-" : info.checksum_valid ? "valid" : "invalid",
                               "Key ID",   info.recognised ? info.key_id_text : "-",
                               NULL};
        iamctl_table_print_pairs(stdout, pairs);
    }
    if (valid)
        return IAMCTL_EXIT_OK;
    if (!info.recognised)
        return iamctl_fail("this is not an iamd API key (%s_ followed by 71 letters and digits)", prefix);
    return iamctl_fail("the checksum does not match: the key is mistyped or damaged");
}
