/*
 * iamctl.h: what every iamctl command shares: the command table entry and
 * the per-run context (parsed arguments, output mode, the HTTP client and
 * the logged-in identity). main.c owns the context; a command handler gets
 * it with the session already open when its entry asks for one.
 */
#ifndef IAMCTL_IAMCTL_H
#define IAMCTL_IAMCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "args.h"
#include "config.h"
#include "http.h"

struct iamctl_context;

struct iamctl_command {
    const char *name;                            /* "service-id-create" */
    int (*run)(struct iamctl_context *context);  /* returns an enum iamctl_exit */
    const char *synopsis;                        /* "NAME [-d DESC] [--lock]" */
    const char *summary;                         /* one line for `iamctl help` */
    int min_args;                                /* positional arguments */
    int max_args;                                /* -1: any number */
    const struct iamctl_flag *flags;             /* the command's own flags (NULL-terminated), or NULL */
    bool needs_session;                          /* open the login before run */
    const char *section;                         /* heading in `iamctl help`, on a section's first command */
};

struct iamctl_context {
    const struct iamctl_command *command;
    struct iamctl_args args;
    bool json;  /* --output json */
    bool quiet; /* -q */
    struct iamctl_http_options http_options;
    struct iamctl_http http; /* valid when http_open */
    bool http_open;
    struct iamctl_config config; /* valid when config_loaded */
    bool config_loaded;
    char account_id[64];  /* of the logged-in identity */
    char iam_id[128];     /* the logged-in identity */
    char identity[256];   /* its name (login, e-mail or service ID name) as the token says */
    int64_t token_expires_at; /* of the token in use */
};

/* The positional argument `index` (the caller checked the count). */
static inline const char *iamctl_arg(const struct iamctl_context *context, int index)
{
    return context->args.positional[index];
}

/* The value of a command flag, or NULL. */
static inline const char *iamctl_flag(const struct iamctl_context *context, const char *long_name)
{
    return iamctl_args_value(&context->args, long_name);
}

/* Whether a command flag was given. */
static inline bool iamctl_has_flag(const struct iamctl_context *context, const char *long_name)
{
    return iamctl_args_has(&context->args, long_name);
}

#endif
