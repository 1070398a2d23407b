/*
 * config.h: declarative settings. One table lists each setting's flag name,
 * environment variable, type, bounds, default and help; command-line flags,
 * the environment and --help all come from that table.
 * Precedence: flag, then environment variable, then default.
 */
#ifndef IAM_COMMON_CONFIG_H
#define IAM_COMMON_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

enum iam_setting_type { IAM_SETTING_STRING, IAM_SETTING_INTEGER, IAM_SETTING_BOOLEAN };

struct iam_setting {
    const char *name;        /* flag without "--", e.g. "listen" */
    const char *env;         /* e.g. "IAMD_LISTEN" */
    enum iam_setting_type type;
    const char *default_text;/* default as text ("" for none) */
    int64_t min, max;        /* integer bounds */
    bool env_only;           /* secrets: never a flag (flags show in ps) */
    const char *help;
    /* Where the parsed value goes (exactly one matches `type`). */
    const char **string_value;
    int64_t *integer_value;
    bool *boolean_value;
};

/*
 * Applies defaults, then the environment, then argv flags ("--name VALUE",
 * "--name=VALUE", or "--name" alone for booleans). Unknown flags, missing
 * values, and out-of-range or malformed values are IAM_EINVAL with `err`
 * naming the setting. `*help_requested` is set for -h/--help.
 * String values point into argv, the environment or the table (not copied).
 */
enum iam_result iam_config_load(const struct iam_setting *settings, size_t count, int argc, char **argv,
                                bool *help_requested, struct iam_error *err) IAM_MUST_CHECK;

/* Prints the settings table as --help text. */
void iam_config_print_help(FILE *out, const char *program, const char *summary, const struct iam_setting *settings,
                           size_t count);

#endif
