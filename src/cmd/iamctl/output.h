/*
 * output.h: how iamctl talks to its user: one-line errors on stderr
 * ("iamctl: ..."), success messages on stdout (left out with -q), the API's
 * JSON for --output json, and safe text for terminals (a name from the
 * server never carries control characters to the screen).
 */
#ifndef IAMCTL_OUTPUT_H
#define IAMCTL_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"

/* Prints "iamctl: <message>\n" on stderr and returns IAMCTL_EXIT_FAILURE. */
int iamctl_fail(const char *format, ...) IAM_PRINTF(1, 2);

/* Prints "iamctl: <message> (see 'iamctl help COMMAND')\n" on stderr; returns IAMCTL_EXIT_USAGE. */
int iamctl_usage(const char *command, const char *format, ...) IAM_PRINTF(2, 3);

/* Prints "iamctl: warning: <message>\n" on stderr unless `quiet`. */
void iamctl_warn(bool quiet, const char *format, ...) IAM_PRINTF(2, 3);

/* Prints a success message line on stdout unless `quiet`. */
void iamctl_say(bool quiet, const char *format, ...) IAM_PRINTF(2, 3);

/* Prints `value` as indented JSON on stdout, with a final newline. */
void iamctl_print_json(const json_t *value);

/*
 * Writes `text` for a terminal into `out` (size `size`): control characters
 * (C0, DEL, C1) become '?', the rest is copied; truncated to fit. Returns out.
 */
const char *iamctl_safe_text(const char *text, char *out, size_t size);

/*
 * The member `key` of `object` as display text: strings as they are,
 * true/false, integers, "" for null or missing. Points into the object or
 * into `scratch` (at least 32 bytes).
 */
const char *iamctl_json_text(const json_t *object, const char *key, char *scratch, size_t scratch_size);

/* The string member `key` of `object`, or NULL when missing or not a string. */
const char *iamctl_json_string(const json_t *object, const char *key);

/* The string member `key` of `object`, or "" when missing or not a string. */
const char *iamctl_json_str(const json_t *object, const char *key);

/*
 * Asks "<question> [y/N]" on stderr and reads the answer from standard
 * input; true for y or yes. Commands skip it with -f.
 */
bool iamctl_confirm(const char *question);

#endif
