/* config.c: applying a settings table to defaults, environment and flags. */
#include "common/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static enum iam_result apply_value(const struct iam_setting *setting, const char *text, const char *source,
                                   struct iam_error *err)
{
    switch (setting->type) {
    case IAM_SETTING_STRING:
        *setting->string_value = text;
        return IAM_OK;
    case IAM_SETTING_INTEGER: {
        if (!*text)
            return iam_error_set(err, IAM_EINVAL, "", "%s: --%s needs a number", source, setting->name);
        char *end = NULL;
        errno = 0;
        long long value = strtoll(text, &end, 10);
        if (errno || *end || value < setting->min || value > setting->max)
            return iam_error_set(err, IAM_EINVAL, "", "%s: --%s must be a whole number from %lld to %lld", source,
                                 setting->name, (long long)setting->min, (long long)setting->max);
        *setting->integer_value = value;
        return IAM_OK;
    }
    case IAM_SETTING_BOOLEAN:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0 || strcmp(text, "yes") == 0) {
            *setting->boolean_value = true;
            return IAM_OK;
        }
        if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0 || strcmp(text, "no") == 0) {
            *setting->boolean_value = false;
            return IAM_OK;
        }
        return iam_error_set(err, IAM_EINVAL, "", "%s: --%s must be true or false", source, setting->name);
    }
    return IAM_EINVAL;
}

enum iam_result iam_config_load(const struct iam_setting *settings, size_t count, int argc, char **argv,
                                bool *help_requested, struct iam_error *err)
{
    *help_requested = false;
    for (size_t i = 0; i < count; i++) {
        enum iam_result result = apply_value(&settings[i], settings[i].default_text, "default", err);
        if (result != IAM_OK && settings[i].type != IAM_SETTING_INTEGER)
            return result;
        if (result != IAM_OK && settings[i].default_text[0])
            return result;
    }
    for (size_t i = 0; i < count; i++) {
        const char *text = settings[i].env ? getenv(settings[i].env) : NULL;
        if (text) {
            enum iam_result result = apply_value(&settings[i], text, settings[i].env, err);
            if (result != IAM_OK)
                return result;
        }
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            *help_requested = true;
            return IAM_OK;
        }
        if (strncmp(arg, "--", 2) != 0)
            return iam_error_set(err, IAM_EINVAL, "", "unexpected argument '%s' (see --help)", arg);
        const char *name = arg + 2;
        const char *equals = strchr(name, '=');
        size_t name_length = equals ? (size_t)(equals - name) : strlen(name);
        const struct iam_setting *setting = NULL;
        for (size_t i = 0; i < count; i++) {
            if (!settings[i].env_only && strlen(settings[i].name) == name_length &&
                strncmp(settings[i].name, name, name_length) == 0) {
                setting = &settings[i];
                break;
            }
        }
        if (!setting)
            return iam_error_set(err, IAM_EINVAL, "", "unknown option '%.*s' (see --help)", (int)name_length + 2,
                                 arg);
        const char *value = NULL;
        if (equals) {
            value = equals + 1;
        } else if (setting->type == IAM_SETTING_BOOLEAN) {
            value = "true";
        } else if (a + 1 < argc) {
            value = argv[++a];
        } else {
            return iam_error_set(err, IAM_EINVAL, "", "--%s needs a value", setting->name);
        }
        enum iam_result result = apply_value(setting, value, "command line", err);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}

void iam_config_print_help(FILE *out, const char *program, const char *summary, const struct iam_setting *settings,
                           size_t count)
{
    fprintf(out, "Usage: %s [OPTIONS]\n\n%s\n\nOptions (each also read from its environment variable):\n",
            program, summary);
    for (size_t i = 0; i < count; i++) {
        const struct iam_setting *setting = &settings[i];
        const char *kind = setting->type == IAM_SETTING_INTEGER ? " N"
                           : setting->type == IAM_SETTING_STRING ? " VALUE" : "";
        if (setting->env_only)
            fprintf(out, "  (environment only)       %s\n", setting->env);
        else
            fprintf(out, "  --%s%s%*s%s\n", setting->name, kind,
                    (int)(24 - (int)strlen(setting->name) - (int)strlen(kind)) > 1
                        ? (int)(24 - strlen(setting->name) - strlen(kind))
                        : 1,
                    "", setting->env);
        fprintf(out, "        %s", setting->help);
        if (setting->type == IAM_SETTING_INTEGER)
            fprintf(out, " [%lld..%lld]", (long long)setting->min, (long long)setting->max);
        if (setting->default_text[0])
            fprintf(out, " (default: %s)", setting->default_text);
        fprintf(out, "\n");
    }
    fprintf(out, "  -h, --help\n        Show this help and exit.\n");
}
