/*
 * activity.c: the inactive-identities report (docs/api.md, "Activity
 * report") over /v1/activity/accounts/{account_id}/report:
 * activity-report (asks for a report; with --wait fetches and prints it)
 * and activity-report-get REFERENCE|latest. A report prints as its summary
 * and three tables: inactive service IDs, API keys and users.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "output.h"
#include "table.h"

#define DURATION_HOURS_MAX 8760

/* --duration: hours as N or Nh, 1..8760, into `hours` (decimal digits). */
static bool parse_duration(const char *text, char *hours, size_t size)
{
    size_t digits = strspn(text, "0123456789");
    if (digits == 0 || digits >= size || !(text[digits] == '\0' || (text[digits] == 'h' && text[digits + 1] == '\0')))
        return false;
    long value = strtol(text, NULL, 10);
    if (value < 1 || value > DURATION_HOURS_MAX)
        return false;
    snprintf(hours, size, "%ld", value);
    return true;
}

static void report_url(struct iamctl_url *url, const struct iamctl_context *context, const char *reference)
{
    iamctl_url_init(url, "/v1/activity/accounts");
    iamctl_url_segment(url, context->account_id);
    iamctl_url_segment(url, "report");
    if (reference)
        iamctl_url_segment(url, reference);
}

/* Prints "TITLE (N):" and, when there are items, a table of one `row` per item. */
static int print_section(const char *title, const char *const *headers, const json_t *items,
                         void (*row)(const json_t *item, const char **cells))
{
    printf("\n%s (%zu):\n", title, json_array_size(items));
    if (json_array_size(items) == 0)
        return IAMCTL_EXIT_OK;
    struct iamctl_table table;
    iamctl_table_init(&table, headers);
    int status = IAMCTL_EXIT_OK;
    size_t index;
    json_t *item;
    json_array_foreach(items, index, item) {
        const char *cells[IAMCTL_TABLE_COLUMNS_MAX] = {0};
        row(item, cells);
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

static void service_id_row(const json_t *item, const char **cells)
{
    cells[0] = iamctl_json_str(item, "id");
    cells[1] = iamctl_json_str(item, "name");
    cells[2] = iamctl_json_str(item, "last_authn");
}

static void apikey_row(const json_t *item, const char **cells)
{
    const char *type = iamctl_json_str(item, "type");
    const json_t *owner = json_object_get(item, strcmp(type, "serviceid") == 0 ? "serviceid" : "user");
    cells[0] = iamctl_json_str(item, "id");
    cells[1] = iamctl_json_str(item, "name");
    cells[2] = type;
    cells[3] = *iamctl_json_str(owner, "name") ? iamctl_json_str(owner, "name") : iamctl_json_str(owner, "username");
    cells[4] = iamctl_json_str(item, "last_authn");
}

static void user_row(const json_t *item, const char **cells)
{
    cells[0] = iamctl_json_str(item, "iam_id");
    cells[1] = iamctl_json_str(item, "username");
    cells[2] = iamctl_json_str(item, "email");
    cells[3] = iamctl_json_str(item, "last_authn");
}

static int print_report(const struct iamctl_context *context, const json_t *report)
{
    if (context->json) {
        iamctl_print_json(report);
        return IAMCTL_EXIT_OK;
    }
    const char *pairs[] = {
        "Reference",  iamctl_json_string(report, "reference"),
        "Created By", iamctl_json_string(report, "created_by"),
        "Duration",   iamctl_json_string(report, "report_duration"),
        "Start Time", iamctl_json_string(report, "report_start_time"),
        "End Time",   iamctl_json_string(report, "report_end_time"),
        NULL,
    };
    iamctl_table_print_pairs(stdout, pairs);
    static const char *const service_id_headers[] = {"ID", "NAME", "LAST AUTHENTICATION", NULL};
    static const char *const apikey_headers[] = {"ID", "NAME", "TYPE", "OWNER", "LAST AUTHENTICATION", NULL};
    static const char *const user_headers[] = {"IAM ID", "USERNAME", "EMAIL", "LAST AUTHENTICATION", NULL};
    int status = print_section("Inactive service IDs", service_id_headers, json_object_get(report, "serviceids"),
                               service_id_row);
    if (status == IAMCTL_EXIT_OK)
        status = print_section("Inactive API keys", apikey_headers, json_object_get(report, "apikeys"), apikey_row);
    if (status == IAMCTL_EXIT_OK)
        status = print_section("Inactive users", user_headers, json_object_get(report, "users"), user_row);
    return status;
}

/*
 * GETs the report `reference` and prints it. With `wait`, a 204 (the report
 * is still being made, as IBM answers) is asked again every second until the
 * --timeout; without, a 204 is reported as not ready.
 */
static int get_report(struct iamctl_context *context, const char *reference, bool wait)
{
    struct iamctl_url url;
    report_url(&url, context, reference);
    const char *path = iamctl_url_text(&url);
    if (!path) {
        iamctl_url_free(&url);
        return iamctl_usage(context->command->name, "REFERENCE is too long");
    }
    time_t deadline = time(NULL) + context->http_options.timeout_seconds;
    int status;
    for (;;) {
        struct iamctl_response response = {0};
        status = iamctl_http_call(&context->http, "GET", path, NULL, NULL, NULL, &response);
        if (status == IAMCTL_EXIT_OK && response.status == 200) {
            status = print_report(context, response.body);
            iamctl_response_free(&response);
            break;
        }
        iamctl_response_free(&response);
        if (status != IAMCTL_EXIT_OK)
            break;
        if (!wait || time(NULL) >= deadline) {
            status = iamctl_fail("activity report %s is not ready yet", reference);
            break;
        }
        struct timespec second = {.tv_sec = 1, .tv_nsec = 0};
        nanosleep(&second, NULL);
    }
    iamctl_url_free(&url);
    return status;
}

int iamctl_cmd_activity_report(struct iamctl_context *context)
{
    const char *duration = iamctl_flag(context, "duration");
    char hours[16] = "720";
    if (duration && !parse_duration(duration, hours, sizeof hours))
        return iamctl_usage(context->command->name, "--duration is 1 to %d hours (720 or 720h), not '%s'",
                            DURATION_HOURS_MAX, duration);
    struct iamctl_url url;
    report_url(&url, context, NULL);
    iamctl_url_query(&url, "type", "inactive");
    iamctl_url_query(&url, "duration", hours);
    struct iamctl_response response = {0};
    int status = iamctl_http_call(&context->http, "POST", iamctl_url_text(&url), NULL, NULL, NULL, &response);
    iamctl_url_free(&url);
    const char *reference = iamctl_json_string(response.body, "reference");
    if (status == IAMCTL_EXIT_OK && !reference)
        status = iamctl_fail("%s does not answer like iamd (no report reference)", context->http.endpoint);
    if (status == IAMCTL_EXIT_OK) {
        char safe[256];
        iamctl_safe_text(reference, safe, sizeof safe);
        if (iamctl_has_flag(context, "wait")) {
            status = get_report(context, reference, true);
        } else if (context->json) {
            iamctl_print_json(response.body);
        } else if (context->quiet) {
            printf("%s\n", safe);
        } else {
            iamctl_say(false, "Requested activity report %s; see it with 'iamctl activity-report-get %s'", safe,
                       safe);
        }
    }
    iamctl_response_free(&response);
    return status;
}

int iamctl_cmd_activity_report_get(struct iamctl_context *context)
{
    const char *reference = iamctl_arg(context, 0);
    if (!*reference)
        return iamctl_usage(context->command->name, "give a REFERENCE or latest");
    return get_report(context, reference, false);
}
