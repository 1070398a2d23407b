/*
 * main.c: iamctl, the command-line client of iamd that mirrors `ibmcloud iam`.
 * The dispatch table maps each command name to its handler, arguments and
 * flags; main parses the command line against it, opens the session when the
 * command needs one, runs the handler and returns its exit status:
 * 0 success, 1 a refusal (by the server or locally), 2 a usage error.
 * Also `help`, `help COMMAND`, `COMMAND --help`, `version` and the hidden
 * `__complete` used by the bash completion script.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "output.h"
#include "session.h"

#define IAMCTL_VERSION "0.1.0"

static int run_help(struct iamctl_context *context);
static int run_version(struct iamctl_context *context);
static int run_complete(struct iamctl_context *context);

/* --- flags --- */

#define FLAG_FORCE(what) {"force", 'f', NULL, what}
#define FLAG_DESCRIPTION(what) {"description", 'd', "DESC", what}
#define FLAG_NAME(what) {"name", 'n', "NAME", what}
#define FLAG_UUID {"uuid", 0, NULL, "Show only the ID"}
#define FLAG_END {NULL, 0, NULL, NULL}

static const struct iamctl_flag login_flags[] = {
    {"apikey", 0, "KEY", "The API key, @FILE (a downloaded key file) or - (read from standard input)"},
    {"endpoint", 'a', "URL", "The iamd endpoint, e.g. https://iam.example.com"},
    {"save-apikey", 0, NULL, "Also save the API key (mode 0600) so tokens can be renewed without logging in"},
    FLAG_END,
};
static const struct iamctl_flag uuid_flags[] = {FLAG_UUID, FLAG_END};
static const struct iamctl_flag force_flags[] = {FLAG_FORCE("Do not ask for confirmation"), FLAG_END};
static const struct iamctl_flag service_id_create_flags[] = {
    FLAG_DESCRIPTION("Description of the service ID"),
    {"lock", 0, NULL, "Lock the service ID against changes and deletion"},
    FLAG_END,
};
static const struct iamctl_flag service_id_update_flags[] = {
    FLAG_NAME("New name"),
    FLAG_DESCRIPTION("New description"),
    {"version", 'v', "VERSION", "Update only if the service ID is still at this version (entity tag)"},
    FLAG_FORCE("Accepted for compatibility; updates never ask"),
    FLAG_END,
};
static const struct iamctl_flag key_create_flags[] = {
    FLAG_DESCRIPTION("Description of the API key"),
    {"file", 0, "FILE", "Save the key to FILE (mode 0600, the console's download format) instead of printing it"},
    FLAG_FORCE("Replace FILE if it exists"),
    {"lock", 0, NULL, "Lock the API key against changes and deletion"},
    FLAG_END,
};
static const struct iamctl_flag update_flags[] = {
    FLAG_NAME("New name"),
    FLAG_DESCRIPTION("New description"),
    FLAG_FORCE("Accepted for compatibility; updates never ask"),
    FLAG_END,
};
static const struct iamctl_flag policy_flags[] = {
    {"roles", 'r', "ROLES", "Comma-separated role names (Viewer,Reader) or role CRNs"},
    {"service-name", 0, "NAME", "The service the policy is on (default: every IAM-enabled service)"},
    {"service-instance", 0, "ID", "One instance of the service"},
    {"region", 0, "REGION", "One region of the service"},
    {"resource-type", 0, "TYPE", "The resource type (e.g. serviceid)"},
    {"resource", 0, "RESOURCE", "The resource (e.g. ServiceId-…)"},
    {"resource-group-id", 0, "ID", "The resource group"},
    {"account-management", 0, NULL, "Every account management (platform) service"},
    FLAG_DESCRIPTION("Description of the policy"),
    {"file", 'f', "FILE", "Read the whole policy (IBM v1 JSON) from FILE"},
    FLAG_END,
};
static const struct iamctl_flag group_create_flags[] = {FLAG_DESCRIPTION("Description of the access group"),
                                                        FLAG_END};
static const struct iamctl_flag group_update_flags[] = {FLAG_NAME("New name"), FLAG_DESCRIPTION("New description"),
                                                        FLAG_END};
static const struct iamctl_flag group_delete_flags[] = {
    FLAG_FORCE("Do not ask for confirmation"),
    {"recursive", 'r', NULL, "Delete the group even when it has members"},
    FLAG_END,
};
static const struct iamctl_flag roles_flags[] = {
    {"service-name", 0, "NAME", "The service's roles (default: the platform roles and Reader, Writer, Manager)"},
    {"service", 0, "NAME", "Same as --service-name"},
    FLAG_END,
};
static const struct iamctl_flag user_invite_flags[] = {
    {"login", 0, "LOGIN", "The user's login (default: the e-mail address)"},
    {"given-name", 0, "NAME", "The user's given name (required)"},
    {"family-name", 0, "NAME", "The user's family name (required)"},
    {"access-groups", 0, "GROUPS", "Comma-separated access groups to add the user to"},
    FLAG_END,
};
static const struct iamctl_flag key_check_flags[] = {
    {"prefix", 0, "PREFIX", "The key prefix of the server (default: taken from the value, else iamd)"},
    FLAG_END,
};

static const struct iamctl_flag audit_events_flags[] = {
    {"actor", 0, "IAM_ID", "Only events of this caller (its iam_id)"},
    {"action", 0, "ACTION", "Only this action (e.g. iam-identity.serviceid.create)"},
    {"target", 0, "ID", "Only events on this object (its id)"},
    {"outcome", 0, "OUTCOME", "Only success, failure or pending (request records)"},
    {"from", 0, "TIME", "Only events at or after TIME (RFC 3339, e.g. 2025-03-01T12:00:00Z)"},
    {"to", 0, "TIME", "Only events before TIME"},
    {"limit", 0, "N", "Events per page, 1 to 100 (default 20)"},
    {"all", 0, NULL, "Follow the pages: every matching event"},
    FLAG_END,
};
static const struct iamctl_flag activity_report_flags[] = {
    {"duration", 0, "HOURS", "Inactive for this long: 1 to 8760 hours, as 720 or 720h (default 720h)"},
    {"wait", 0, NULL, "Wait for the report and print it"},
    FLAG_END,
};

/* --- the dispatch table --- */

#define SESSION true
#define LOCAL false

static const struct iamctl_command commands[] = {
    {"login", iamctl_cmd_login, "--apikey KEY|@FILE|- [--endpoint URL] [--save-apikey]",
     "Log in with an API key and save the endpoint and a token", 0, 0, login_flags, LOCAL, "Session"},
    {"logout", iamctl_cmd_logout, "", "Forget the saved login (and revoke its refresh token)", 0, 0, NULL, LOCAL,
     NULL},
    {"target", iamctl_cmd_target, "", "Show the endpoint, account and identity in use", 0, 0, NULL, LOCAL, NULL},
    {"oauth-tokens", iamctl_cmd_oauth_tokens, "", "Print a valid IAM access token", 0, 0, NULL, SESSION, NULL},

    {"service-ids", iamctl_cmd_service_ids, "[--uuid]", "List the service IDs of the account", 0, 0, uuid_flags,
     SESSION, "Service IDs"},
    {"service-id", iamctl_cmd_service_id, "(NAME|ID) [--uuid]", "Show a service ID", 1, 1, uuid_flags, SESSION, NULL},
    {"service-id-create", iamctl_cmd_service_id_create, "NAME [-d DESC] [--lock]", "Create a service ID", 1, 1,
     service_id_create_flags, SESSION, NULL},
    {"service-id-update", iamctl_cmd_service_id_update, "(NAME|ID) [-n NEW_NAME] [-d DESC] [-v VERSION]",
     "Change the name or description of a service ID", 1, 1, service_id_update_flags, SESSION, NULL},
    {"service-id-delete", iamctl_cmd_service_id_delete, "(NAME|ID) [-f]", "Delete a service ID and its API keys", 1,
     1, force_flags, SESSION, NULL},
    {"service-id-lock", iamctl_cmd_service_id_lock, "(NAME|ID)", "Lock a service ID", 1, 1, force_flags, SESSION,
     NULL},
    {"service-id-unlock", iamctl_cmd_service_id_unlock, "(NAME|ID)", "Unlock a service ID", 1, 1, force_flags,
     SESSION, NULL},

    {"service-api-keys", iamctl_cmd_service_api_keys, "SERVICE_ID [--uuid]", "List the API keys of a service ID", 1,
     1, uuid_flags, SESSION, "Service ID API keys"},
    {"service-api-key", iamctl_cmd_service_api_key, "(NAME|ID) SERVICE_ID [--uuid]",
     "Show an API key of a service ID", 2, 2, uuid_flags, SESSION, NULL},
    {"service-api-key-create", iamctl_cmd_service_api_key_create,
     "NAME SERVICE_ID [-d DESC] [--file FILE [-f]] [--lock]", "Create an API key for a service ID", 2, 2,
     key_create_flags, SESSION, NULL},
    {"service-api-key-update", iamctl_cmd_service_api_key_update, "(NAME|ID) SERVICE_ID [-n NEW_NAME] [-d DESC]",
     "Change the name or description of a service ID's API key", 2, 2, update_flags, SESSION, NULL},
    {"service-api-key-delete", iamctl_cmd_service_api_key_delete, "(NAME|ID) SERVICE_ID [-f]",
     "Delete an API key of a service ID", 2, 2, force_flags, SESSION, NULL},
    {"service-api-key-lock", iamctl_cmd_service_api_key_lock, "(NAME|ID) SERVICE_ID",
     "Lock an API key of a service ID", 2, 2, force_flags, SESSION, NULL},
    {"service-api-key-unlock", iamctl_cmd_service_api_key_unlock, "(NAME|ID) SERVICE_ID",
     "Unlock an API key of a service ID", 2, 2, force_flags, SESSION, NULL},
    {"service-api-key-disable", iamctl_cmd_service_api_key_disable, "(NAME|ID) SERVICE_ID",
     "Disable an API key of a service ID (it stops working)", 2, 2, force_flags, SESSION, NULL},
    {"service-api-key-enable", iamctl_cmd_service_api_key_enable, "(NAME|ID) SERVICE_ID",
     "Enable a disabled API key of a service ID", 2, 2, force_flags, SESSION, NULL},

    {"api-keys", iamctl_cmd_api_keys, "[--uuid]", "List your own API keys", 0, 0, uuid_flags, SESSION, "API keys"},
    {"api-key", iamctl_cmd_api_key, "(NAME|ID) [--uuid]", "Show one of your API keys", 1, 1, uuid_flags, SESSION,
     NULL},
    {"api-key-create", iamctl_cmd_api_key_create, "NAME [-d DESC] [--file FILE [-f]] [--lock]",
     "Create an API key for yourself", 1, 1, key_create_flags, SESSION, NULL},
    {"api-key-update", iamctl_cmd_api_key_update, "(NAME|ID) [-n NEW_NAME] [-d DESC]",
     "Change the name or description of one of your API keys", 1, 1, update_flags, SESSION, NULL},
    {"api-key-delete", iamctl_cmd_api_key_delete, "(NAME|ID) [-f]", "Delete one of your API keys", 1, 1, force_flags,
     SESSION, NULL},
    {"api-key-lock", iamctl_cmd_api_key_lock, "(NAME|ID)", "Lock one of your API keys", 1, 1, force_flags, SESSION,
     NULL},
    {"api-key-unlock", iamctl_cmd_api_key_unlock, "(NAME|ID)", "Unlock one of your API keys", 1, 1, force_flags,
     SESSION, NULL},
    {"api-key-disable", iamctl_cmd_api_key_disable, "(NAME|ID)", "Disable one of your API keys", 1, 1, force_flags,
     SESSION, NULL},
    {"api-key-enable", iamctl_cmd_api_key_enable, "(NAME|ID)", "Enable one of your API keys", 1, 1, force_flags,
     SESSION, NULL},

    {"service-policies", iamctl_cmd_service_policies, "SERVICE_ID", "List the access policies of a service ID", 1, 1,
     NULL, SESSION, "Policies"},
    {"service-policy", iamctl_cmd_service_policy, "SERVICE_ID POLICY_ID", "Show a policy of a service ID", 2, 2,
     NULL, SESSION, NULL},
    {"service-policy-create", iamctl_cmd_service_policy_create,
     "SERVICE_ID --roles ROLES [--service-name NAME] [--service-instance ID] [--resource-type TYPE] "
     "[--resource RESOURCE] [--resource-group-id ID] | -f FILE",
     "Give a service ID roles on resources", 1, 1, policy_flags, SESSION, NULL},
    {"service-policy-update", iamctl_cmd_service_policy_update,
     "SERVICE_ID POLICY_ID [--roles ROLES] [resource flags] [-d DESC] | -f FILE", "Change a policy of a service ID",
     2, 2, policy_flags, SESSION, NULL},
    {"service-policy-delete", iamctl_cmd_service_policy_delete, "SERVICE_ID POLICY_ID [-f]",
     "Delete a policy of a service ID", 2, 2, force_flags, SESSION, NULL},
    {"user-policies", iamctl_cmd_user_policies, "USER", "List the access policies of a user", 1, 1, NULL, SESSION,
     NULL},
    {"user-policy", iamctl_cmd_user_policy, "USER POLICY_ID", "Show a policy of a user", 2, 2, NULL, SESSION, NULL},
    {"user-policy-create", iamctl_cmd_user_policy_create, "USER --roles ROLES [resource flags] | -f FILE",
     "Give a user roles on resources", 1, 1, policy_flags, SESSION, NULL},
    {"user-policy-update", iamctl_cmd_user_policy_update,
     "USER POLICY_ID [--roles ROLES] [resource flags] [-d DESC] | -f FILE", "Change a policy of a user", 2, 2,
     policy_flags, SESSION, NULL},
    {"user-policy-delete", iamctl_cmd_user_policy_delete, "USER POLICY_ID [-f]", "Delete a policy of a user", 2, 2,
     force_flags, SESSION, NULL},
    {"access-group-policies", iamctl_cmd_access_group_policies, "GROUP", "List the access policies of an access group",
     1, 1, NULL, SESSION, NULL},
    {"access-group-policy", iamctl_cmd_access_group_policy, "GROUP POLICY_ID", "Show a policy of an access group", 2,
     2, NULL, SESSION, NULL},
    {"access-group-policy-create", iamctl_cmd_access_group_policy_create,
     "GROUP --roles ROLES [resource flags] | -f FILE", "Give an access group roles on resources", 1, 1,
     policy_flags, SESSION, NULL},
    {"access-group-policy-update", iamctl_cmd_access_group_policy_update,
     "GROUP POLICY_ID [--roles ROLES] [resource flags] [-d DESC] | -f FILE", "Change a policy of an access group",
     2, 2, policy_flags, SESSION, NULL},
    {"access-group-policy-delete", iamctl_cmd_access_group_policy_delete, "GROUP POLICY_ID [-f]",
     "Delete a policy of an access group", 2, 2, force_flags, SESSION, NULL},
    {"roles", iamctl_cmd_roles, "[--service-name NAME]", "List the roles a policy can grant", 0, 0, roles_flags,
     SESSION, NULL},

    {"access-groups", iamctl_cmd_access_groups, "", "List the access groups of the account", 0, 0, NULL, SESSION,
     "Access groups"},
    {"access-group", iamctl_cmd_access_group, "GROUP", "Show an access group", 1, 1, NULL, SESSION, NULL},
    {"access-group-create", iamctl_cmd_access_group_create, "NAME [-d DESC]", "Create an access group", 1, 1,
     group_create_flags, SESSION, NULL},
    {"access-group-update", iamctl_cmd_access_group_update, "GROUP [-n NEW_NAME] [-d DESC]",
     "Change the name or description of an access group", 1, 1, group_update_flags, SESSION, NULL},
    {"access-group-delete", iamctl_cmd_access_group_delete, "GROUP [-f] [-r]",
     "Delete an access group and its policies", 1, 1, group_delete_flags, SESSION, NULL},
    {"access-group-users", iamctl_cmd_access_group_users, "GROUP", "List the users of an access group", 1, 1, NULL,
     SESSION, NULL},
    {"access-group-user-add", iamctl_cmd_access_group_user_add, "GROUP USER [USER...]",
     "Add users to an access group", 2, -1, NULL, SESSION, NULL},
    {"access-group-user-remove", iamctl_cmd_access_group_user_remove, "GROUP USER",
     "Remove a user from an access group", 2, 2, force_flags, SESSION, NULL},
    {"access-group-service-ids", iamctl_cmd_access_group_service_ids, "GROUP",
     "List the service IDs of an access group", 1, 1, NULL, SESSION, NULL},
    {"access-group-service-id-add", iamctl_cmd_access_group_service_id_add, "GROUP SERVICE_ID [SERVICE_ID...]",
     "Add service IDs to an access group", 2, -1, NULL, SESSION, NULL},
    {"access-group-service-id-remove", iamctl_cmd_access_group_service_id_remove, "GROUP SERVICE_ID",
     "Remove a service ID from an access group", 2, 2, force_flags, SESSION, NULL},

    {"users", iamctl_cmd_users, "", "List the users of the account", 0, 0, NULL, SESSION, "Users"},
    {"user-invite", iamctl_cmd_user_invite,
     "EMAIL --given-name NAME --family-name NAME [--login LOGIN] [--access-groups GROUPS]",
     "Add a user to the account", 1, 1, user_invite_flags, SESSION, NULL},
    {"user-remove", iamctl_cmd_user_remove, "USER [-f]", "Remove a user, their API keys and policies", 1, 1,
     force_flags, SESSION, NULL},

    {"audit-events", iamctl_cmd_audit_events,
     "[--actor IAM_ID] [--action A] [--target ID] [--outcome OUTCOME] [--from TIME] [--to TIME] [--limit N] [--all]",
     "List the account's audit trail, newest first", 0, 0, audit_events_flags, SESSION, "Audit and activity"},
    {"audit-event", iamctl_cmd_audit_event, "SEQ", "Show one audit record", 1, 1, NULL, SESSION, NULL},
    {"activity-report", iamctl_cmd_activity_report, "[--duration HOURS] [--wait]",
     "Ask for a report of the identities inactive for a while", 0, 0, activity_report_flags, SESSION, NULL},
    {"activity-report-get", iamctl_cmd_activity_report_get, "REFERENCE|latest",
     "Show an inactive-identities report", 1, 1, NULL, SESSION, NULL},

    {"authz", iamctl_cmd_authz, "SUBJECT ACTION RESOURCE",
     "Ask for a decision: exit 0 when permitted, 1 when denied", 3, 3, NULL, SESSION, "Decisions and keys"},
    {"explain", iamctl_cmd_explain, "SUBJECT ACTION RESOURCE",
     "Explain a decision: the granting policies, or the nearest ones", 3, 3, NULL, SESSION, NULL},
    {"key-check", iamctl_cmd_key_check, "VALUE|-|@FILE [--prefix PREFIX]",
     "Check offline whether a string is an iamd API key and which key it claims to be", 1, 1, key_check_flags,
     LOCAL, NULL},

    {"help", run_help, "[COMMAND]", "Show the commands, or help for one command", 0, 1, NULL, LOCAL, "Help"},
    {"version", run_version, "", "Show the version of iamctl", 0, 0, NULL, LOCAL, NULL},
    {"__complete", run_complete, "[COMMAND]", NULL, 0, 1, NULL, LOCAL, NULL},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static const struct iamctl_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* --- help --- */

static void print_flag_lines(FILE *stream, const struct iamctl_flag *flags)
{
    for (const struct iamctl_flag *flag = flags; flag && flag->long_name; flag++) {
        char left[64];
        if (flag->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", flag->short_name, flag->long_name,
                     flag->value_name ? " " : "", flag->value_name ? flag->value_name : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", flag->long_name, flag->value_name ? " " : "",
                     flag->value_name ? flag->value_name : "");
        fprintf(stream, "  %-32s %s\n", left, flag->help);
    }
}

static void print_command_help(FILE *stream, const struct iamctl_command *command)
{
    fprintf(stream, "NAME:\n  %s - %s\n\nUSAGE:\n  iamctl %s%s%s\n", command->name, command->summary, command->name,
            *command->synopsis ? " " : "", command->synopsis);
    if (command->flags) {
        fputs("\nOPTIONS:\n", stream);
        print_flag_lines(stream, command->flags);
    }
    fputs("\nGLOBAL OPTIONS:\n", stream);
    print_flag_lines(stream, iamctl_global_flags);
}

static void print_overview(FILE *stream)
{
    fputs("iamctl: the command-line client of iamd (mirrors `ibmcloud iam`)\n\n"
          "USAGE:\n  iamctl COMMAND [ARGUMENTS] [FLAGS]\n  iamctl help COMMAND\n",
          stream);
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (!commands[i].summary)
            continue;
        if (commands[i].section)
            fprintf(stream, "\n%s:\n", commands[i].section);
        fprintf(stream, "  %-32s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\nGLOBAL OPTIONS:\n", stream);
    print_flag_lines(stream, iamctl_global_flags);
    fputs("\nENVIRONMENT:\n"
          "  IAMCTL_APIKEY     an API key (or @FILE) used instead of the saved login; nothing is written\n"
          "  IAMCTL_ENDPOINT   the iamd endpoint, instead of the saved one\n"
          "\nEXIT STATUS:\n  0 success, 1 refused (by the server, or denied for authz), 2 usage error\n"
          "\nThe login is saved in ~/.config/iamctl/config.json (mode 0600). See iamctl(1).\n",
          stream);
}

static int run_help(struct iamctl_context *context)
{
    if (context->args.positional_count == 0) {
        print_overview(stdout);
        return IAMCTL_EXIT_OK;
    }
    const struct iamctl_command *command = find_command(iamctl_arg(context, 0));
    if (!command || !command->summary)
        return iamctl_usage(NULL, "unknown command '%s'", iamctl_arg(context, 0));
    print_command_help(stdout, command);
    return IAMCTL_EXIT_OK;
}

static int run_version(struct iamctl_context *context)
{
    if (context->json) {
        printf("{\n  \"version\": \"%s\",\n  \"libcurl\": \"%s\"\n}\n", IAMCTL_VERSION, curl_version_info(CURLVERSION_NOW)->version);
        return IAMCTL_EXIT_OK;
    }
    printf("iamctl %s (libcurl %s)\n", IAMCTL_VERSION, curl_version_info(CURLVERSION_NOW)->version);
    return IAMCTL_EXIT_OK;
}

/* For the bash completion: the command names, or one command's flags. */
static int run_complete(struct iamctl_context *context)
{
    if (context->args.positional_count == 0) {
        for (size_t i = 0; i < COMMAND_COUNT; i++)
            if (commands[i].summary)
                printf("%s\n", commands[i].name);
        return IAMCTL_EXIT_OK;
    }
    const struct iamctl_command *command = find_command(iamctl_arg(context, 0));
    for (const struct iamctl_flag *flag = command ? command->flags : NULL; flag && flag->long_name; flag++)
        printf("--%s\n", flag->long_name);
    for (const struct iamctl_flag *flag = iamctl_global_flags; flag->long_name; flag++)
        printf("--%s\n", flag->long_name);
    return IAMCTL_EXIT_OK;
}

/* --- main --- */

static int check_global_flags(struct iamctl_context *context)
{
    const char *name = context->command->name;
    const char *output = iamctl_flag(context, "output");
    if (output) {
        if (strcasecmp(output, "json") == 0)
            context->json = true;
        else if (strcasecmp(output, "table") != 0)
            return iamctl_usage(name, "--output is table or json, not '%s'", output);
    }
    context->quiet = iamctl_has_flag(context, "quiet");
    context->http_options.insecure = iamctl_has_flag(context, "insecure");
    context->http_options.ca_file = iamctl_flag(context, "cacert");
    context->http_options.timeout_seconds = 60;
    const char *timeout = iamctl_flag(context, "timeout");
    if (timeout) {
        char *end = NULL;
        long seconds = strtol(timeout, &end, 10);
        if (end == timeout || *end || seconds < 1 || seconds > 3600)
            return iamctl_usage(name, "--timeout is 1 to 3600 seconds");
        context->http_options.timeout_seconds = seconds;
    }
    return IAMCTL_EXIT_OK;
}

static int check_arguments(const struct iamctl_context *context)
{
    const struct iamctl_command *command = context->command;
    int count = (int)context->args.positional_count;
    if (count < command->min_args)
        return iamctl_usage(command->name, "missing arguments: iamctl %s %s", command->name, command->synopsis);
    if (command->max_args >= 0 && count > command->max_args)
        return iamctl_usage(command->name, "unexpected argument '%s'", iamctl_arg(context, command->max_args));
    return IAMCTL_EXIT_OK;
}

static int run(int argc, char **argv, struct iamctl_context *context)
{
    int index = iamctl_args_command_index(argc, argv);
    if (index >= argc) {
        /* Only global flags: `iamctl --help` helps, anything else is a usage error. */
        struct iamctl_args args;
        int status = iamctl_args_parse(argc, argv, 1, NULL, NULL, &args);
        if (status != IAMCTL_EXIT_OK)
            return status;
        if (iamctl_args_has(&args, "help")) {
            print_overview(stdout);
            return IAMCTL_EXIT_OK;
        }
        return iamctl_usage(NULL, "give a command");
    }
    context->command = find_command(argv[index]);
    if (!context->command)
        return iamctl_usage(NULL, "unknown command '%s'", argv[index]);
    /* Parse everything but the command name against the command's flags. */
    char *rest[IAMCTL_ARGS_MAX * 2 + 2];
    int count = 0;
    for (int i = 1; i < argc && count < (int)(sizeof rest / sizeof rest[0]); i++)
        if (i != index)
            rest[count++] = argv[i];
    if (argc - 2 > count)
        return iamctl_usage(context->command->name, "too many arguments");
    int status = iamctl_args_parse(count, rest, 0, context->command->name, context->command->flags, &context->args);
    if (status != IAMCTL_EXIT_OK)
        return status;
    if (iamctl_args_has(&context->args, "help")) {
        print_command_help(stdout, context->command);
        return IAMCTL_EXIT_OK;
    }
    if ((status = check_global_flags(context)) != IAMCTL_EXIT_OK || (status = check_arguments(context)) != IAMCTL_EXIT_OK)
        return status;
    if (context->command->needs_session && (status = iamctl_session_open(context)) != IAMCTL_EXIT_OK)
        return status;
    return context->command->run(context);
}

int main(int argc, char **argv)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("iamctl: cannot start libcurl\n", stderr);
        return IAMCTL_EXIT_FAILURE;
    }
    struct iamctl_context context;
    memset(&context, 0, sizeof context);
    int status = run(argc, argv, &context);
    if (context.http_open)
        iamctl_http_close(&context.http);
    if (context.config_loaded)
        iamctl_config_free(&context.config);
    curl_global_cleanup();
    if (fflush(stdout) != 0 && status == IAMCTL_EXIT_OK)
        status = IAMCTL_EXIT_FAILURE;
    return status;
}
