/* arena.c: block-chained bump allocator behind struct iam_arena. */
#include "common/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE 8192u
#define ARENA_ALIGN 16u

struct arena_block {
    struct arena_block *next;
    size_t used;
    size_t capacity;
    _Alignas(16) unsigned char data[];
};

struct iam_arena {
    struct arena_block *head;
};

struct iam_arena *iam_arena_new(void)
{
    return calloc(1, sizeof(struct iam_arena));
}

void iam_arena_free(struct iam_arena *arena)
{
    if (!arena)
        return;
    struct arena_block *block = arena->head;
    while (block) {
        struct arena_block *next = block->next;
        free(block);
        block = next;
    }
    free(arena);
}

static struct arena_block *arena_block_new(size_t capacity)
{
    struct arena_block *block = malloc(sizeof *block + capacity);
    if (!block)
        return NULL;
    block->next = NULL;
    block->used = 0;
    block->capacity = capacity;
    return block;
}

void *iam_arena_alloc(struct iam_arena *arena, size_t size)
{
    if (!arena)
        return NULL;
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct arena_block *block = arena->head;
    if (!block || block->capacity - block->used < rounded) {
        if (rounded > ARENA_BLOCK_SIZE / 2) {
            /* Large allocations get a block of their own behind the head,
             * so the head's free space is not wasted. */
            struct arena_block *big = arena_block_new(rounded);
            if (!big)
                return NULL;
            big->used = rounded;
            if (block) {
                big->next = block->next;
                block->next = big;
            } else {
                arena->head = big;
            }
            memset(big->data, 0, rounded);
            return big->data;
        }
        block = arena_block_new(ARENA_BLOCK_SIZE);
        if (!block)
            return NULL;
        block->next = arena->head;
        arena->head = block;
    }
    void *result = block->data + block->used;
    block->used += rounded;
    memset(result, 0, rounded);
    return result;
}

char *iam_arena_strndup(struct iam_arena *arena, const char *source, size_t length)
{
    if (!source)
        return NULL;
    if (length == SIZE_MAX)
        return NULL;
    char *copy = iam_arena_alloc(arena, length + 1);
    if (!copy)
        return NULL;
    memcpy(copy, source, length);
    copy[length] = '\0';
    return copy;
}

char *iam_arena_strdup(struct iam_arena *arena, const char *source)
{
    return source ? iam_arena_strndup(arena, source, strlen(source)) : NULL;
}

char *iam_arena_vprintf(struct iam_arena *arena, const char *format, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int needed = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    if (needed < 0)
        return NULL;
    char *result = iam_arena_alloc(arena, (size_t)needed + 1);
    if (!result)
        return NULL;
    vsnprintf(result, (size_t)needed + 1, format, args);
    return result;
}

char *iam_arena_printf(struct iam_arena *arena, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *result = iam_arena_vprintf(arena, format, args);
    va_end(args);
    return result;
}
