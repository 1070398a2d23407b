/*
 * table.c: aligned tables and key/value lists (table.h).
 */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "table.h"

#define CELL_MAX 4096
#define COLUMN_GAP 3

/* Characters (UTF-8 code points) in `text`. */
static size_t display_width(const char *text)
{
    size_t width = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p & 0xc0) != 0x80)
            width++;
    return width;
}

static void pad(FILE *stream, size_t count)
{
    for (size_t i = 0; i < count; i++)
        fputc(' ', stream);
}

void iamctl_table_init(struct iamctl_table *table, const char *const *headers)
{
    memset(table, 0, sizeof *table);
    while (headers[table->columns] && table->columns < IAMCTL_TABLE_COLUMNS_MAX) {
        table->headers[table->columns] = headers[table->columns];
        table->columns++;
    }
}

enum iam_result iamctl_table_add(struct iamctl_table *table, const char *const *cells)
{
    if (table->rows == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 16;
        char **grown = realloc(table->cells, capacity * table->columns * sizeof *grown);
        if (!grown)
            return IAM_ENOMEM;
        table->cells = grown;
        table->capacity = capacity;
    }
    char **row = table->cells + table->rows * table->columns;
    for (size_t c = 0; c < table->columns; c++) {
        char safe[CELL_MAX];
        row[c] = strdup(iamctl_safe_text(cells[c] ? cells[c] : "", safe, sizeof safe));
        if (!row[c]) {
            for (size_t k = 0; k < c; k++)
                free(row[k]);
            return IAM_ENOMEM;
        }
    }
    table->rows++;
    return IAM_OK;
}

void iamctl_table_print(const struct iamctl_table *table, FILE *stream)
{
    size_t widths[IAMCTL_TABLE_COLUMNS_MAX];
    for (size_t c = 0; c < table->columns; c++) {
        widths[c] = display_width(table->headers[c]);
        for (size_t r = 0; r < table->rows; r++) {
            size_t width = display_width(table->cells[r * table->columns + c]);
            if (width > widths[c])
                widths[c] = width;
        }
    }
    for (size_t r = 0; r <= table->rows; r++) {
        /* Row 0 is the header; trailing empty cells leave no blanks behind. */
        size_t last = table->columns;
        while (last > 1) {
            const char *cell = r == 0 ? table->headers[last - 1] : table->cells[(r - 1) * table->columns + last - 1];
            if (*cell)
                break;
            last--;
        }
        for (size_t c = 0; c < last; c++) {
            const char *cell = r == 0 ? table->headers[c] : table->cells[(r - 1) * table->columns + c];
            fputs(cell, stream);
            if (c + 1 < last)
                pad(stream, widths[c] - display_width(cell) + COLUMN_GAP);
        }
        fputc('\n', stream);
    }
}

void iamctl_table_free(struct iamctl_table *table)
{
    for (size_t i = 0; i < table->rows * table->columns; i++)
        free(table->cells[i]);
    free(table->cells);
    table->cells = NULL;
    table->rows = table->capacity = 0;
}

void iamctl_table_print_pairs(FILE *stream, const char *const *pairs)
{
    size_t key_width = 0;
    for (size_t i = 0; pairs[i]; i += 2) {
        size_t width = display_width(pairs[i]);
        if (width > key_width)
            key_width = width;
    }
    for (size_t i = 0; pairs[i]; i += 2) {
        char safe[CELL_MAX];
        const char *value = iamctl_safe_text(pairs[i + 1] ? pairs[i + 1] : "", safe, sizeof safe);
        fputs(pairs[i], stream);
        if (*value) {
            pad(stream, key_width - display_width(pairs[i]) + COLUMN_GAP);
            fputs(value, stream);
        }
        fputc('\n', stream);
    }
}
