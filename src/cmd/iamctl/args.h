/*
 * args.h: command-line flags of iamctl. Each command declares the flags it
 * takes (long name, optional one-letter short name, whether it takes a
 * value); the global flags (--output, -q, --insecure, --cacert, --timeout,
 * --help) are accepted by every command. Accepted forms: --flag, --flag=value,
 * --flag value, -f, -d value, and "--" to end the flags. Anything else is a
 * usage error: one line on stderr and exit status 2.
 */
#ifndef IAMCTL_ARGS_H
#define IAMCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses: success, a refusal (server-side or local), a usage error. */
enum iamctl_exit { IAMCTL_EXIT_OK = 0, IAMCTL_EXIT_FAILURE = 1, IAMCTL_EXIT_USAGE = 2 };

struct iamctl_flag {
    const char *long_name;  /* "description" (given as --description); NULL ends a list */
    char short_name;        /* 'd' (given as -d), or 0 */
    const char *value_name; /* "DESC" when the flag takes a value; NULL for a switch */
    const char *help;       /* one line for `iamctl help COMMAND` */
};

#define IAMCTL_ARGS_MAX 64

struct iamctl_args {
    const char *positional[IAMCTL_ARGS_MAX]; /* pointers into argv */
    size_t positional_count;
    const struct iamctl_flag *flags[IAMCTL_ARGS_MAX]; /* the flags given, in order */
    const char *values[IAMCTL_ARGS_MAX];              /* their values (NULL for switches) */
    size_t flag_count;
};

/* The flags every command accepts (terminated by a NULL long_name). */
extern const struct iamctl_flag iamctl_global_flags[];

/*
 * Parses argv[first..argc) against `flags` (the command's, NULL-terminated;
 * may be NULL) and the global flags. On a usage error prints
 * "iamctl: <what> (see 'iamctl help <command>')" and returns IAMCTL_EXIT_USAGE;
 * IAMCTL_EXIT_OK otherwise. `out` points into argv.
 */
int iamctl_args_parse(int argc, char **argv, int first, const char *command, const struct iamctl_flag *flags,
                      struct iamctl_args *out);

/*
 * Finds the command name: the first argument that is neither a global flag
 * nor the value of one. Returns its index in argv, or argc when there is none.
 */
int iamctl_args_command_index(int argc, char **argv);

/* True when the flag `long_name` was given. */
bool iamctl_args_has(const struct iamctl_args *args, const char *long_name);

/* The value of flag `long_name`, or NULL when it was not given. */
const char *iamctl_args_value(const struct iamctl_args *args, const char *long_name);

/* The flag spec with this long name in `flags` or the global flags, or NULL. */
const struct iamctl_flag *iamctl_args_find(const struct iamctl_flag *flags, const char *long_name);

#endif
