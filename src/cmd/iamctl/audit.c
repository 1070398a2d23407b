/*
 * audit.c: the audit trail commands over iamd's /v1/audit/events
 * (docs/api/audit.md): audit-events (filters, one page newest first, or
 * every page with --all) and audit-event SEQ. Flag values the API would
 * refuse (--outcome, --limit, SEQ) are refused here first, before any request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output.h"
#include "table.h"

#define AUDIT_LIMIT_MAX 100

static bool known_outcome(const char *outcome)
{
    return strcmp(outcome, "success") == 0 || strcmp(outcome, "failure") == 0 || strcmp(outcome, "pending") == 0;
}

/* Parses a decimal number in [min, max]; false for anything else. */
static bool parse_number(const char *text, long long min, long long max, long long *out)
{
    if (!*text || *text == '-' || *text == '+')
        return false;
    char *end = NULL;
    long long value = strtoll(text, &end, 10);
    if (*end || value < min || value > max)
        return false;
    *out = value;
    return true;
}

/* The member `key` of the object member `outer` of `event` ("" when missing). */
static const char *nested(const json_t *event, const char *outer, const char *key)
{
    return iamctl_json_str(json_object_get(event, outer), key);
}

static int print_events(const struct iamctl_context *context, const json_t *events)
{
    if (context->json) {
        iamctl_print_json(events);
        return IAMCTL_EXIT_OK;
    }
    static const char *const headers[] = {"SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "STATUS", "COUNT",
                                          NULL};
    struct iamctl_table table;
    iamctl_table_init(&table, headers);
    int status = IAMCTL_EXIT_OK;
    size_t index;
    json_t *event;
    json_array_foreach(events, index, event) {
        char seq[32], code[32], count[32];
        const char *cells[] = {iamctl_json_text(event, "seq", seq, sizeof seq),
                               iamctl_json_str(event, "time"),
                               nested(event, "actor", "iam_id"),
                               iamctl_json_str(event, "action"),
                               nested(event, "target", "id"),
                               iamctl_json_str(event, "outcome"),
                               iamctl_json_text(event, "status", code, sizeof code),
                               iamctl_json_text(event, "count", count, sizeof count)};
        if (iamctl_table_add(&table, cells) != IAM_OK) {
            status = iamctl_fail("out of memory");
            break;
        }
    }
    if (status == IAMCTL_EXIT_OK)
        iamctl_table_print(&table, stdout);
    iamctl_table_free(&table);
    return status;
}

int iamctl_cmd_audit_events(struct iamctl_context *context)
{
    const char *name = context->command->name;
    const char *outcome = iamctl_flag(context, "outcome");
    if (outcome && !known_outcome(outcome))
        return iamctl_usage(name, "--outcome is success, failure or pending, not '%s'", outcome);
    const char *limit = iamctl_flag(context, "limit");
    long long limit_value = 0;
    if (limit && !parse_number(limit, 1, AUDIT_LIMIT_MAX, &limit_value))
        return iamctl_usage(name, "--limit is 1 to %d, not '%s'", AUDIT_LIMIT_MAX, limit);
    static const char *const filters[] = {"actor", "action", "target", "from", "to"};
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        const char *value = iamctl_flag(context, filters[i]);
        if (value && !*value)
            return iamctl_usage(name, "--%s needs a value", filters[i]);
    }
    bool all = iamctl_has_flag(context, "all");

    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/audit/events");
    iamctl_url_query(&url, "account_id", context->account_id);
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        iamctl_url_query(&url, filters[i], iamctl_flag(context, filters[i]));
    iamctl_url_query(&url, "outcome", outcome);
    iamctl_url_query(&url, "limit", limit ? limit : (all ? "100" : NULL));
    const char *path = iamctl_url_text(&url);
    if (!path) {
        iamctl_url_free(&url);
        return iamctl_usage(name, "the filters are too long");
    }
    int status;
    if (all) {
        json_t *events = NULL;
        status = iamctl_http_list(&context->http, path, "events", &events);
        if (status == IAMCTL_EXIT_OK)
            status = print_events(context, events);
        json_decref(events);
    } else {
        struct iamctl_response response = {0};
        status = iamctl_http_call(&context->http, "GET", path, NULL, NULL, NULL, &response);
        const json_t *events = json_object_get(response.body, "events");
        if (status == IAMCTL_EXIT_OK && !json_is_array(events))
            status = iamctl_fail("%s does not answer like iamd (no events list)", context->http.endpoint);
        if (status == IAMCTL_EXIT_OK) {
            status = print_events(context, events);
            if (status == IAMCTL_EXIT_OK && json_object_get(response.body, "next") && json_array_size(events) > 0)
                iamctl_warn(context->quiet, "more events than shown: use --all, or a larger --limit");
        }
        iamctl_response_free(&response);
    }
    iamctl_url_free(&url);
    return status;
}

static void show_event(const json_t *event)
{
    char seq[32], count[32], code[32];
    const char *pairs[] = {
        "Seq",            iamctl_json_text(event, "seq", seq, sizeof seq),
        "Time",           iamctl_json_string(event, "time"),
        "Window Start",   iamctl_json_string(event, "window_start"),
        "Count",          iamctl_json_text(event, "count", count, sizeof count),
        "Request ID",     iamctl_json_string(event, "request_id"),
        "Phase",          iamctl_json_string(event, "phase"),
        "Actor",          nested(event, "actor", "iam_id"),
        "Actor Account",  nested(event, "actor", "account_id"),
        "Actor API Key",  nested(event, "actor", "apikey_id"),
        "Client Address", nested(event, "actor", "client_address"),
        "Action",         iamctl_json_string(event, "action"),
        "Method",         iamctl_json_string(event, "method"),
        "Route",          iamctl_json_string(event, "route"),
        "Mechanism",      iamctl_json_string(event, "mechanism"),
        "Target Type",    nested(event, "target", "type"),
        "Target ID",      nested(event, "target", "id"),
        "Target Account", nested(event, "target", "account_id"),
        "Outcome",        iamctl_json_string(event, "outcome"),
        "Status",         iamctl_json_text(event, "status", code, sizeof code),
        "Error Code",     iamctl_json_string(event, "error_code"),
        "Message Code",   iamctl_json_string(event, "message_code"),
        "Hash",           iamctl_json_string(event, "hash"),
        NULL,
    };
    iamctl_table_print_pairs(stdout, pairs);
}

int iamctl_cmd_audit_event(struct iamctl_context *context)
{
    const char *seq = iamctl_arg(context, 0);
    long long value;
    if (!parse_number(seq, 1, INT64_MAX, &value))
        return iamctl_usage(context->command->name, "SEQ is a positive number, not '%s'", seq);
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/audit/events");
    iamctl_url_segment(&url, seq);
    iamctl_url_query(&url, "account_id", context->account_id);
    struct iamctl_response response = {0};
    int status = iamctl_http_call(&context->http, "GET", iamctl_url_text(&url), NULL, NULL, NULL, &response);
    if (status == IAMCTL_EXIT_OK) {
        if (context->json)
            iamctl_print_json(response.body);
        else
            show_event(response.body);
    }
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    return status;
}
