/* ids.c: generating and checking IBM-format identifiers. */
#include "common/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"

enum iam_result iam_uuid_new(char out[IAM_UUID_SIZE])
{
    unsigned char bytes[16];
    enum iam_result result = iam_random_bytes(bytes, sizeof bytes);
    if (result != IAM_OK)
        return result;
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40);
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80);
    snprintf(out, IAM_UUID_SIZE,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
             bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return IAM_OK;
}

enum iam_result iam_prefixed_id_new(const char *prefix, char out[IAM_ID_SIZE])
{
    char uuid[IAM_UUID_SIZE];
    enum iam_result result = iam_uuid_new(uuid);
    if (result != IAM_OK)
        return result;
    int written = snprintf(out, IAM_ID_SIZE, "%s%s", prefix, uuid);
    return written > 0 && written < IAM_ID_SIZE ? IAM_OK : IAM_EINVAL;
}

enum iam_result iam_account_id_new(char out[IAM_ACCOUNT_ID_SIZE])
{
    return iam_random_hex(out, 16);
}

enum iam_result iam_user_iam_id_new(char out[IAM_ID_SIZE])
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    unsigned char bytes[10];
    enum iam_result result = iam_random_bytes(bytes, sizeof bytes);
    if (result != IAM_OK)
        return result;
    memcpy(out, "IBMid-", 6);
    /* 36 does not divide 256 evenly; the bias (at most 1/256) does not matter for an id. */
    for (int i = 0; i < 10; i++)
        out[6 + i] = alphabet[bytes[i] % 36];
    out[16] = '\0';
    return IAM_OK;
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool iam_is_uuid(const char *text)
{
    if (!text || strlen(text) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return false;
        } else if (!is_lower_hex(text[i])) {
            return false;
        }
    }
    return true;
}

bool iam_is_prefixed_id(const char *text, const char *prefix)
{
    size_t prefix_length = strlen(prefix);
    return text && strncmp(text, prefix, prefix_length) == 0 && iam_is_uuid(text + prefix_length);
}

bool iam_is_account_id(const char *text)
{
    if (!text || strlen(text) != 32)
        return false;
    for (int i = 0; i < 32; i++)
        if (!is_lower_hex(text[i]))
            return false;
    return true;
}

void iam_identity_crn(char out[IAM_CRN_SIZE], const char *account_id, const char *type, const char *id)
{
    snprintf(out, IAM_CRN_SIZE, "crn:v1:bluemix:public:iam-identity::a/%s::%s:%s", account_id, type, id);
}

