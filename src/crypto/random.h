/*
 * random.h: bytes from the operating system's CSPRNG (through OpenSSL).
 */
#ifndef IAM_CRYPTO_RANDOM_H
#define IAM_CRYPTO_RANDOM_H

#include <stddef.h>

#include "common/error.h"

/* Fills `out` with `length` random bytes. IAM_ECRYPTO if the CSPRNG fails. */
enum iam_result iam_random_bytes(void *out, size_t length) IAM_MUST_CHECK;

/* Writes 2*length lowercase hex characters plus NUL into `out`. */
enum iam_result iam_random_hex(char *out, size_t length) IAM_MUST_CHECK;

#endif
