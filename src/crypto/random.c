/* random.c: CSPRNG access. */
#include "crypto/random.h"

#include <limits.h>
#include <openssl/rand.h>

enum iam_result iam_random_bytes(void *out, size_t length)
{
    if (length > INT_MAX)
        return IAM_EINVAL;
    if (RAND_bytes(out, (int)length) != 1)
        return IAM_ECRYPTO;
    return IAM_OK;
}

enum iam_result iam_random_hex(char *out, size_t length)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char bytes[64];
    if (length > sizeof bytes)
        return IAM_EINVAL;
    enum iam_result result = iam_random_bytes(bytes, length);
    if (result != IAM_OK)
        return result;
    for (size_t i = 0; i < length; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * length] = '\0';
    return IAM_OK;
}
