/*
 * fuzz_common.h: what the libFuzzer targets in fuzz/ share: the entry point
 * declarations, a check that aborts (a finding) even in release builds,
 * copies of the input as the C strings the parsers take, and a UTF-8 check
 * for error messages.
 *
 * Every target frees everything it allocates per input: libFuzzer runs with
 * leak detection, so a leak is a finding like a crash.
 */
#ifndef IAM_FUZZ_FUZZ_COMMON_H
#define IAM_FUZZ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test broke: report it as a crash with the line. */
#define FUZZ_CHECK(condition)                                                                                  \
    do {                                                                                                       \
        if (!(condition)) {                                                                                    \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition);                   \
            abort();                                                                                           \
        }                                                                                                      \
    } while (0)

/*
 * True when `text` is well-formed UTF-8. Error messages end up in JSON
 * bodies; one that is not UTF-8 turns a 400 into a 500 (see docs/fuzzing.md).
 */
static inline int fuzz_utf8_valid(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        size_t length = *p < 0x80 ? 1 : (*p >= 0xc2 && *p <= 0xdf) ? 2 : (*p >= 0xe0 && *p <= 0xef) ? 3
                                       : (*p >= 0xf0 && *p <= 0xf4) ? 4 : 0;
        if (length == 0)
            return 0;
        for (size_t i = 1; i < length; i++)
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        if ((length == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f))) ||
            (length == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))))
            return 0;
        p += length;
    }
    return 1;
}

/* A malloc'd NUL-terminated copy of the input (an embedded NUL ends the string early, as in C callers). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    if (size)
        memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

/* A malloc'd copy of exactly `size` bytes, no terminator, so reading past the length is an ASan error. */
static inline char *fuzz_bytes(const uint8_t *data, size_t size)
{
    char *bytes = malloc(size ? size : 1);
    if (!bytes)
        abort();
    if (size)
        memcpy(bytes, data, size);
    return bytes;
}

#endif
