/*
 * engine_intern.c: the decision engine's string intern table. Every string a
 * compiled snapshot compares (account ids, subjects, attribute names and
 * values, actions, role CRNs) gets a dense uint32 id, so matching compares
 * integers. Open addressing with linear probing, at most half full; lookups
 * never allocate, so the decision path can ask about strings it has never seen.
 */
#include <stdlib.h>
#include <string.h>

#include "iam/engine_internal.h"

#define INTERN_INITIAL_SLOTS 1024u
#define INTERN_INITIAL_STRINGS 512u
#define INTERN_MAX_STRINGS (1u << 30)

static uint64_t intern_hash(const char *text, size_t length)
{
    uint64_t hash = 0x9e3779b97f4a7c15ull ^ (uint64_t)length;
    const unsigned char *p = (const unsigned char *)text;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        hash = (hash ^ word) * 0xff51afd7ed558ccdull;
        hash ^= hash >> 31;
        p += 8;
        length -= 8;
    }
    uint64_t tail = 0;
    if (length)
        memcpy(&tail, p, length);
    hash = (hash ^ tail) * 0xc4ceb9fe1a85ec53ull;
    hash ^= hash >> 29;
    hash *= 0x94d049bb133111ebull;
    hash ^= hash >> 32;
    return hash;
}

enum iam_result engine_intern_init(struct engine_intern *table, struct iam_arena *arena)
{
    memset(table, 0, sizeof *table);
    table->arena = arena;
    table->slots = calloc(INTERN_INITIAL_SLOTS, sizeof *table->slots);
    table->strings = calloc(INTERN_INITIAL_STRINGS, sizeof *table->strings);
    table->lengths = calloc(INTERN_INITIAL_STRINGS, sizeof *table->lengths);
    table->info = calloc(INTERN_INITIAL_STRINGS, sizeof *table->info);
    if (!table->slots || !table->strings || !table->lengths || !table->info) {
        engine_intern_release(table);
        return IAM_ENOMEM;
    }
    table->mask = INTERN_INITIAL_SLOTS - 1;
    table->capacity = INTERN_INITIAL_STRINGS;
    table->count = 1; /* id 0 is "not interned" */
    table->strings[0] = "";
    table->info[0].service = -1;
    table->info[0].action_service = ENGINE_NOT_AN_ACTION;
    return IAM_OK;
}

void engine_intern_release(struct engine_intern *table)
{
    if (!table)
        return;
    free(table->slots);
    free(table->strings);
    free(table->lengths);
    free(table->info);
    table->slots = NULL;
    table->strings = NULL;
    table->lengths = NULL;
    table->info = NULL;
    table->count = 0;
    table->capacity = 0;
}

uint32_t engine_intern_find(const struct engine_intern *table, const char *text, size_t length)
{
    if (!text || !table->slots)
        return ENGINE_NO_STRING;
    uint64_t hash = intern_hash(text, length);
    uint32_t tag = (uint32_t)(hash >> 32);
    for (uint32_t index = (uint32_t)hash & table->mask;; index = (index + 1) & table->mask) {
        const struct engine_intern_slot *slot = &table->slots[index];
        if (slot->id == ENGINE_NO_STRING)
            return ENGINE_NO_STRING;
        /* Interned strings hold no NUL, so equal text of this length ends right there. */
        if (slot->tag == tag && strncmp(slot->text, text, length) == 0 && slot->text[length] == '\0')
            return slot->id;
    }
}

static enum iam_result intern_grow_slots(struct engine_intern *table)
{
    uint32_t slot_count = (table->mask + 1) * 2;
    struct engine_intern_slot *slots = calloc(slot_count, sizeof *slots);
    if (!slots)
        return IAM_ENOMEM;
    uint32_t mask = slot_count - 1;
    for (uint32_t id = 1; id < table->count; id++) {
        uint64_t hash = intern_hash(table->strings[id], table->lengths[id]);
        uint32_t index = (uint32_t)hash & mask;
        while (slots[index].id != ENGINE_NO_STRING)
            index = (index + 1) & mask;
        slots[index].tag = (uint32_t)(hash >> 32);
        slots[index].id = id;
        slots[index].text = table->strings[id];
    }
    free(table->slots);
    table->slots = slots;
    table->mask = mask;
    return IAM_OK;
}

static enum iam_result intern_grow_strings(struct engine_intern *table)
{
    if (table->capacity >= INTERN_MAX_STRINGS)
        return IAM_ETOOBIG;
    uint32_t capacity = table->capacity * 2;
    const char **strings = realloc(table->strings, capacity * sizeof *strings);
    if (!strings)
        return IAM_ENOMEM;
    table->strings = strings;
    uint32_t *lengths = realloc(table->lengths, capacity * sizeof *lengths);
    if (!lengths)
        return IAM_ENOMEM;
    table->lengths = lengths;
    struct engine_string_info *info = realloc(table->info, capacity * sizeof *info);
    if (!info)
        return IAM_ENOMEM;
    table->info = info;
    table->capacity = capacity;
    return IAM_OK;
}

enum iam_result engine_intern_add(struct engine_intern *table, const char *text, size_t length, uint32_t *id)
{
    if (!text || length > UINT32_MAX || memchr(text, '\0', length))
        return IAM_EINVAL;
    uint32_t found = engine_intern_find(table, text, length);
    if (found != ENGINE_NO_STRING) {
        *id = found;
        return IAM_OK;
    }
    enum iam_result result;
    if ((uint64_t)(table->count + 1) * 2 > (uint64_t)table->mask + 1 && (result = intern_grow_slots(table)) != IAM_OK)
        return result;
    if (table->count == table->capacity && (result = intern_grow_strings(table)) != IAM_OK)
        return result;
    char *copy = iam_arena_strndup(table->arena, text, length);
    if (!copy)
        return IAM_ENOMEM;
    uint32_t new_id = table->count++;
    table->strings[new_id] = copy;
    table->lengths[new_id] = (uint32_t)length;
    table->info[new_id] = (struct engine_string_info){
        .service = -1, .action_service = ENGINE_NOT_AN_ACTION, .action_local = 0, .role = NULL};
    uint64_t hash = intern_hash(text, length);
    uint32_t index = (uint32_t)hash & table->mask;
    while (table->slots[index].id != ENGINE_NO_STRING)
        index = (index + 1) & table->mask;
    table->slots[index].tag = (uint32_t)(hash >> 32);
    table->slots[index].id = new_id;
    table->slots[index].text = copy;
    *id = new_id;
    return IAM_OK;
}
