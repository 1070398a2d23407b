/*
 * args.c: flag parsing for iamctl (see args.h). No getopt: flags may come
 * before or after the positional arguments, as with ibmcloud, and every
 * mistake is reported in one line naming the flag.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "args.h"

const struct iamctl_flag iamctl_global_flags[] = {
    {"output", 0, "FORMAT", "Output format: table (default) or json (the API's JSON)"},
    {"quiet", 'q', NULL, "Print only what was asked for (no progress or success messages)"},
    {"insecure", 0, NULL, "Do not verify the server's TLS certificate (testing only)"},
    {"cacert", 0, "FILE", "Verify the server's certificate with the CA certificates in FILE"},
    {"timeout", 0, "SECONDS", "Give up on a request after SECONDS (default 60)"},
    {"help", 'h', NULL, "Show help for the command"},
    {NULL, 0, NULL, NULL},
};

static const struct iamctl_flag *find_long(const struct iamctl_flag *flags, const char *name, size_t length)
{
    for (const struct iamctl_flag *flag = flags; flag && flag->long_name; flag++)
        if (strlen(flag->long_name) == length && strncmp(flag->long_name, name, length) == 0)
            return flag;
    for (const struct iamctl_flag *flag = iamctl_global_flags; flag->long_name; flag++)
        if (strlen(flag->long_name) == length && strncmp(flag->long_name, name, length) == 0)
            return flag;
    return NULL;
}

static const struct iamctl_flag *find_short(const struct iamctl_flag *flags, char name)
{
    for (const struct iamctl_flag *flag = flags; flag && flag->long_name; flag++)
        if (flag->short_name == name)
            return flag;
    for (const struct iamctl_flag *flag = iamctl_global_flags; flag->long_name; flag++)
        if (flag->short_name == name)
            return flag;
    return NULL;
}

const struct iamctl_flag *iamctl_args_find(const struct iamctl_flag *flags, const char *long_name)
{
    return find_long(flags, long_name, strlen(long_name));
}

__attribute__((format(printf, 2, 3))) static int usage(const char *command, const char *format, ...)
{
    va_list list;
    va_start(list, format);
    fputs("iamctl: ", stderr);
    vfprintf(stderr, format, list);
    va_end(list);
    if (command)
        fprintf(stderr, " (see 'iamctl help %s')\n", command);
    else
        fputs(" (see 'iamctl help')\n", stderr);
    return IAMCTL_EXIT_USAGE;
}

static int add_flag(struct iamctl_args *out, const char *command, const struct iamctl_flag *flag, const char *value)
{
    for (size_t i = 0; i < out->flag_count; i++)
        if (out->flags[i] == flag)
            return usage(command, "flag --%s given twice", flag->long_name);
    if (out->flag_count == IAMCTL_ARGS_MAX)
        return usage(command, "too many flags");
    out->flags[out->flag_count] = flag;
    out->values[out->flag_count] = value;
    out->flag_count++;
    return IAMCTL_EXIT_OK;
}

int iamctl_args_parse(int argc, char **argv, int first, const char *command, const struct iamctl_flag *flags,
                      struct iamctl_args *out)
{
    memset(out, 0, sizeof *out);
    bool only_positional = false;
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (out->positional_count == IAMCTL_ARGS_MAX)
                return usage(command, "too many arguments");
            out->positional[out->positional_count++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        const struct iamctl_flag *flag;
        const char *inline_value = NULL;
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *equals = strchr(name, '=');
            size_t length = equals ? (size_t)(equals - name) : strlen(name);
            flag = find_long(flags, name, length);
            if (!flag) {
                char shown[80];
                snprintf(shown, sizeof shown, "%.*s", (int)(length > 64 ? 64 : length), name);
                return usage(command, "unknown flag --%s", shown);
            }
            if (equals) {
                if (!flag->value_name)
                    return usage(command, "flag --%s takes no value", flag->long_name);
                inline_value = equals + 1;
            }
        } else {
            if (arg[2] != '\0') {
                char shown[80];
                snprintf(shown, sizeof shown, "%.64s", arg);
                return usage(command, "unknown flag %s", shown);
            }
            flag = find_short(flags, arg[1]);
            if (!flag) {
                char shown[3] = {'-', arg[1], '\0'};
                return usage(command, "unknown flag %s", shown);
            }
        }
        const char *value = NULL;
        if (flag->value_name) {
            if (inline_value) {
                value = inline_value;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return usage(command, "flag --%s needs a value (%s)", flag->long_name, flag->value_name);
            }
        }
        int status = add_flag(out, command, flag, value);
        if (status != IAMCTL_EXIT_OK)
            return status;
    }
    return IAMCTL_EXIT_OK;
}

int iamctl_args_command_index(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0')
            return i;
        if (strcmp(arg, "--") == 0)
            return i + 1 < argc ? i + 1 : argc;
        /* A global flag that takes a value consumes the next argument. */
        const struct iamctl_flag *flag = NULL;
        if (arg[1] == '-') {
            if (strchr(arg, '='))
                continue;
            flag = find_long(NULL, arg + 2, strlen(arg + 2));
        } else if (arg[2] == '\0') {
            flag = find_short(NULL, arg[1]);
        }
        if (flag && flag->value_name)
            i++;
    }
    return argc;
}

bool iamctl_args_has(const struct iamctl_args *args, const char *long_name)
{
    for (size_t i = 0; i < args->flag_count; i++)
        if (strcmp(args->flags[i]->long_name, long_name) == 0)
            return true;
    return false;
}

const char *iamctl_args_value(const struct iamctl_args *args, const char *long_name)
{
    for (size_t i = 0; i < args->flag_count; i++)
        if (strcmp(args->flags[i]->long_name, long_name) == 0)
            return args->values[i];
    return NULL;
}
