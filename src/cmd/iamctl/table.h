/*
 * table.h: aligned text tables as ibmcloud prints them: a header row of
 * upper-case column names, columns separated by three spaces, widths counted
 * in characters (UTF-8), no trailing blanks; and "Key   value" lists for one
 * object. Cells are copied and made terminal-safe (output.h).
 */
#ifndef IAMCTL_TABLE_H
#define IAMCTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

#define IAMCTL_TABLE_COLUMNS_MAX 12

struct iamctl_table {
    size_t columns;
    const char *headers[IAMCTL_TABLE_COLUMNS_MAX];
    char **cells; /* rows * columns copies, owned */
    size_t rows;
    size_t capacity;
};

/* Prepares a table with `columns` (at most IAMCTL_TABLE_COLUMNS_MAX) headers (NULL-terminated list). */
void iamctl_table_init(struct iamctl_table *table, const char *const *headers);

/* Appends a row of `columns` cells (NULL cells print empty). IAM_ENOMEM on failure. */
enum iam_result iamctl_table_add(struct iamctl_table *table, const char *const *cells) IAM_MUST_CHECK;

/* Prints the table (header and rows) to `stream`. */
void iamctl_table_print(const struct iamctl_table *table, FILE *stream);

/* Frees the cells. */
void iamctl_table_free(struct iamctl_table *table);

/*
 * Prints "Key<pad>value" lines for `pairs` (key, value, key, value, ...,
 * NULL), keys padded to the longest. NULL values print empty.
 */
void iamctl_table_print_pairs(FILE *stream, const char *const *pairs);

#endif
