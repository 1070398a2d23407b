/*
 * authz.c: decisions from the command line (ours): `authz SUBJECT ACTION
 * RESOURCE` asks /v2/authz (exit 0 permitted, 1 denied) and `explain`
 * asks /v2/authz/explain why (granting policies, near misses).
 *
 * SUBJECT is an iam_id (IBMid-…, iam-ServiceId-…), a service ID's id or
 * name, or a user's e-mail address. RESOURCE is a CRN, a list of attributes
 * "serviceName=x,resourceType=y,resource=z", or a bare service name;
 * accountId defaults to the logged-in account.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "common/ids.h"
#include "output.h"
#include "table.h"

#define ATTRIBUTE_NAME_MAX 64
#define ATTRIBUTES_MAX 20

/* The iam_id of SUBJECT (a new string in `out`). */
static int subject_iam_id(struct iamctl_context *context, const char *text, char *out, size_t size)
{
    if (strncmp(text, "IBMid-", 6) == 0 || strncmp(text, "iam-", 4) == 0) {
        snprintf(out, size, "%s", text);
        return IAMCTL_EXIT_OK;
    }
    if (iam_is_prefixed_id(text, "ServiceId-")) {
        snprintf(out, size, "iam-%s", text);
        return IAMCTL_EXIT_OK;
    }
    json_t *identity = NULL;
    int status = strchr(text, '@') ? iamctl_user_resolve(context, text, &identity)
                                   : iamctl_serviceid_resolve(context, text, &identity);
    if (status == IAMCTL_EXIT_OK)
        snprintf(out, size, "%s", iamctl_json_str(identity, "iam_id"));
    json_decref(identity);
    return status;
}

/* RESOURCE as the body's resource object. */
static int parse_resource(struct iamctl_context *context, const char *text, json_t **resource)
{
    *resource = NULL;
    if (strncmp(text, "crn:", 4) == 0) {
        *resource = json_pack("{s:s}", "crn", text);
        return *resource ? IAMCTL_EXIT_OK : iamctl_fail("out of memory");
    }
    json_t *attributes = json_object();
    if (!attributes)
        return iamctl_fail("out of memory");
    if (!strchr(text, '=')) {
        json_object_set_new(attributes, "serviceName", json_string(text));
    } else {
        const char *cursor = text;
        size_t count = 0;
        while (*cursor) {
            size_t length = strcspn(cursor, ",");
            const char *equals = memchr(cursor, '=', length);
            size_t name_length = equals ? (size_t)(equals - cursor) : 0;
            if (!equals || name_length == 0 || name_length >= ATTRIBUTE_NAME_MAX || equals + 1 == cursor + length ||
                ++count > ATTRIBUTES_MAX) {
                json_decref(attributes);
                return iamctl_usage(context->command->name,
                                    "RESOURCE must be a CRN, a service name or name=value,name=value");
            }
            char name[ATTRIBUTE_NAME_MAX];
            memcpy(name, cursor, name_length);
            name[name_length] = '\0';
            json_object_set_new(attributes, name,
                                json_stringn(equals + 1, (size_t)(cursor + length - (equals + 1))));
            cursor += length;
            if (*cursor == ',')
                cursor++;
        }
    }
    if (!json_object_get(attributes, "accountId"))
        json_object_set_new(attributes, "accountId", json_string(context->account_id));
    *resource = json_pack("{s:o}", "attributes", attributes);
    return *resource ? IAMCTL_EXIT_OK : iamctl_fail("out of memory");
}

/* {subject, action, resource} from the three arguments. */
static int build_question(struct iamctl_context *context, json_t **question, char *iam_id, size_t iam_id_size)
{
    *question = NULL;
    const char *action = iamctl_arg(context, 1);
    if (!*action || !strchr(action, '.'))
        return iamctl_usage(context->command->name, "ACTION looks like service.noun.verb (iam-identity.serviceid.get)");
    json_t *resource = NULL;
    int status = subject_iam_id(context, iamctl_arg(context, 0), iam_id, iam_id_size);
    if (status == IAMCTL_EXIT_OK)
        status = parse_resource(context, iamctl_arg(context, 2), &resource);
    if (status != IAMCTL_EXIT_OK)
        return status;
    *question = json_pack("{s:{s:{s:s}},s:s,s:o}", "subject", "attributes", "id", iam_id, "action", action,
                          "resource", resource);
    return *question ? IAMCTL_EXIT_OK : iamctl_fail("out of memory");
}

int iamctl_cmd_authz(struct iamctl_context *context)
{
    char iam_id[256];
    json_t *question = NULL;
    int status = build_question(context, &question, iam_id, sizeof iam_id);
    if (status != IAMCTL_EXIT_OK)
        return status;
    json_t *body = json_pack("[O]", question);
    struct iamctl_response response = {0};
    status = body ? iamctl_http_call(&context->http, "POST", "/v2/authz", body, NULL, NULL, &response)
                  : iamctl_fail("out of memory");
    json_decref(body);
    if (status != IAMCTL_EXIT_OK)
        goto out;
    const json_t *answer = json_array_get(json_object_get(response.body, "responses"), 0);
    const char *answer_status = iamctl_json_str(answer, "status");
    if (strcmp(answer_status, "200") != 0) {
        const char *message, *code;
        iamctl_http_error_text(json_object_get(answer, "error"), &message, &code);
        status = iamctl_fail("%s (%s)", *message ? message : "the decision could not be made",
                             *answer_status ? answer_status : "?");
        goto out;
    }
    bool permitted = json_is_true(json_object_get(json_object_get(answer, "authorizationDecision"), "permitted"));
    if (context->json) {
        iamctl_print_json(answer);
    } else if (!context->quiet) {
        const char *pairs[] = {"Decision", permitted ? "permitted" : "denied", "Subject", iam_id, "Action",
                               iamctl_arg(context, 1), NULL};
        iamctl_table_print_pairs(stdout, pairs);
    }
    status = permitted ? IAMCTL_EXIT_OK : IAMCTL_EXIT_FAILURE;
out:
    iamctl_response_free(&response);
    json_decref(question);
    return status;
}

/* Prints "  <label>policy <id> <detail>" lines of an explain list. */
static void print_policies(const char *title, const json_t *list, bool granted)
{
    printf("%s:%s\n", title, json_array_size(list) ? "" : " none");
    size_t index;
    json_t *entry;
    json_array_foreach(list, index, entry) {
        char line[2048], safe[2048];
        size_t used = (size_t)snprintf(line, sizeof line, "  policy %s", iamctl_json_str(entry, "policy_id"));
        const char *group = iamctl_json_string(entry, "via_group_id");
        if (group && used < sizeof line)
            used += (size_t)snprintf(line + used, sizeof line - used, " (via %s)", group);
        const json_t *details = json_object_get(entry, granted ? "roles" : "missing");
        size_t i;
        json_t *detail;
        json_array_foreach(details, i, detail) {
            if (used >= sizeof line)
                break;
            used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? "; " : ": ",
                                     json_string_value(detail) ? json_string_value(detail) : "");
        }
        printf("%s\n", iamctl_safe_text(line, safe, sizeof safe));
    }
}

int iamctl_cmd_explain(struct iamctl_context *context)
{
    char iam_id[256];
    json_t *question = NULL;
    int status = build_question(context, &question, iam_id, sizeof iam_id);
    if (status != IAMCTL_EXIT_OK)
        return status;
    struct iamctl_response response = {0};
    status = iamctl_http_call(&context->http, "POST", "/v2/authz/explain", question, NULL, NULL, &response);
    if (status != IAMCTL_EXIT_OK)
        goto out;
    const char *problem = iamctl_json_string(response.body, "error");
    if (problem) {
        status = iamctl_fail("%s", problem);
        goto out;
    }
    if (context->json) {
        iamctl_print_json(response.body);
        goto out;
    }
    bool permitted = json_is_true(json_object_get(response.body, "permitted"));
    const json_t *subject = json_object_get(response.body, "subject");
    char groups[1024] = "";
    size_t used = 0;
    size_t index;
    json_t *group;
    json_array_foreach(json_object_get(subject, "groups"), index, group) {
        int n = snprintf(groups + used, sizeof groups - used, "%s%s", used ? ", " : "",
                         json_string_value(group) ? json_string_value(group) : "");
        if (n < 0 || (size_t)n >= sizeof groups - used)
            break;
        used += (size_t)n;
    }
    const char *pairs[] = {"Decision:", permitted ? "permitted" : "denied",
                           "Subject:",  iamctl_json_str(subject, "iam_id"),
                           "Groups:",   groups,
                           "Action:",   iamctl_json_str(response.body, "action"),
                           NULL};
    iamctl_table_print_pairs(stdout, pairs);
    print_policies("Granted by", json_object_get(response.body, "granted_by"), true);
    print_policies("Near misses", json_object_get(response.body, "near_misses"), false);
out:
    iamctl_response_free(&response);
    json_decref(question);
    return status;
}
