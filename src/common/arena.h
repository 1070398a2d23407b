/*
 * arena.h: a per-request memory pool.
 *
 * Everything a request handler allocates comes from the request's arena and
 * is released in one go by iam_arena_free() when the request completes.
 * Allocation failure returns NULL; callers treat it as IAM_ENOMEM.
 * An arena is used by one thread at a time.
 */
#ifndef IAM_COMMON_ARENA_H
#define IAM_COMMON_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "common/error.h"

struct iam_arena;

/* A new, empty arena; NULL when out of memory. Free with iam_arena_free. */
struct iam_arena *iam_arena_new(void);

/* Releases the arena and everything allocated from it. NULL is allowed. */
void iam_arena_free(struct iam_arena *arena);

/* `size` bytes aligned for any type, zeroed. Owned by the arena. */
void *iam_arena_alloc(struct iam_arena *arena, size_t size);

/* A copy of `length` bytes of `source` plus a terminating NUL. */
char *iam_arena_strndup(struct iam_arena *arena, const char *source, size_t length);

/* A copy of a NUL-terminated string; NULL in gives NULL out. */
char *iam_arena_strdup(struct iam_arena *arena, const char *source);

/* A formatted string owned by the arena. */
char *iam_arena_printf(struct iam_arena *arena, const char *format, ...) IAM_PRINTF(2, 3);
char *iam_arena_vprintf(struct iam_arena *arena, const char *format, va_list args) IAM_PRINTF(2, 0);

#endif
