/*
 * policies.c: access policies of service IDs, users and access groups
 * (service-policy*, user-policy*, access-group-policy*) as IBM v1 policies
 * over /v1/policies. A policy is built from --roles (names looked up by
 * roles.c, or CRNs) and the resource flags --service-name,
 * --service-instance, --region, --resource-type, --resource,
 * --resource-group-id, --account-management (platform services), or read
 * from a JSON file (--file). A flag value with '*' or '?' is a wildcard
 * (stringMatch), as in IBM's wildcard policies. A policy named by id must belong to the subject
 * given on the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "files.h"
#include "output.h"
#include "table.h"

#define POLICY_FILE_MAX (256 * 1024)
#define SUMMARY_MAX 1024

enum subject_kind { SUBJECT_SERVICE_ID, SUBJECT_USER, SUBJECT_GROUP };

struct subject {
    const char *attribute; /* "iam_id" or "access_group_id" */
    const char *value;     /* points into `object` */
    const char *label;     /* a name for messages */
    json_t *object;        /* the service ID, user or group (owned) */
};

/* The resource flags and the attributes they set. */
static const struct {
    const char *flag;
    const char *attribute;
} resource_flags[] = {
    {"service-name", "serviceName"},   {"service-instance", "serviceInstance"},
    {"region", "region"},              {"resource-type", "resourceType"},
    {"resource", "resource"},          {"resource-group-id", "resourceGroupId"},
};

static int subject_find(struct iamctl_context *context, enum subject_kind kind, struct subject *subject)
{
    memset(subject, 0, sizeof *subject);
    const char *text = iamctl_arg(context, 0);
    int status;
    switch (kind) {
    case SUBJECT_SERVICE_ID:
        status = iamctl_serviceid_resolve(context, text, &subject->object);
        subject->attribute = "iam_id";
        subject->value = iamctl_json_str(subject->object, "iam_id");
        subject->label = iamctl_json_str(subject->object, "name");
        break;
    case SUBJECT_USER:
        status = iamctl_user_resolve(context, text, &subject->object);
        subject->attribute = "iam_id";
        subject->value = iamctl_json_str(subject->object, "iam_id");
        subject->label = iamctl_json_str(subject->object, "login");
        break;
    default:
        status = iamctl_group_resolve(context, text, &subject->object);
        subject->attribute = "access_group_id";
        subject->value = iamctl_json_str(subject->object, "id");
        subject->label = iamctl_json_str(subject->object, "name");
        break;
    }
    return status;
}

/* The value of attribute `name` in a v1 attribute list. */
static const char *attribute_value(const json_t *attributes, const char *name)
{
    size_t index;
    json_t *attribute;
    json_array_foreach(attributes, index, attribute) {
        if (strcmp(iamctl_json_str(attribute, "name"), name) == 0)
            return iamctl_json_string(attribute, "value");
    }
    return NULL;
}

static bool policy_has_subject(const json_t *policy, const struct subject *subject)
{
    size_t index;
    json_t *item;
    json_array_foreach(json_object_get(policy, "subjects"), index, item) {
        const char *value = attribute_value(json_object_get(item, "attributes"), subject->attribute);
        if (value && strcmp(value, subject->value) == 0)
            return true;
    }
    return false;
}

/* "Viewer, Reader" */
static void summarize_roles(const json_t *policy, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    size_t index;
    json_t *role;
    json_array_foreach(json_object_get(policy, "roles"), index, role) {
        const char *name = iamctl_json_string(role, "display_name");
        if (!name)
            name = iamctl_json_str(role, "role_id");
        int n = snprintf(out + used, size - used, "%s%s", used ? ", " : "", name);
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
}

/* "serviceName=iam-identity, resourceType=serviceid" (accountId left out; stringMatch shown as ~=). */
static void summarize_resources(const json_t *policy, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    const json_t *resource = json_array_get(json_object_get(policy, "resources"), 0);
    size_t index;
    json_t *attribute;
    json_array_foreach(json_object_get(resource, "attributes"), index, attribute) {
        const char *name = iamctl_json_str(attribute, "name");
        if (strcmp(name, "accountId") == 0)
            continue;
        const char *op = iamctl_json_str(attribute, "operator");
        char scratch[32];
        int n = snprintf(out + used, size - used, "%s%s%s%s", used ? ", " : "", name,
                         strcmp(op, "stringMatch") == 0 ? "~=" : "=",
                         iamctl_json_text(attribute, "value", scratch, sizeof scratch));
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
    json_array_foreach(json_object_get(resource, "tags"), index, attribute) {
        int n = snprintf(out + used, size - used, "%stag:%s=%s", used ? ", " : "", iamctl_json_str(attribute, "name"),
                         iamctl_json_str(attribute, "value"));
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
    if (!*out)
        snprintf(out, size, "all resources in the account");
}

static void show_policy(const struct iamctl_context *context, const json_t *policy, const char *etag)
{
    if (context->json) {
        iamctl_print_json(policy);
        return;
    }
    char roles[SUMMARY_MAX], resources[SUMMARY_MAX];
    summarize_roles(policy, roles, sizeof roles);
    summarize_resources(policy, resources, sizeof resources);
    const json_t *subject = json_object_get(json_array_get(json_object_get(policy, "subjects"), 0), "attributes");
    const json_t *first = json_array_get(subject, 0);
    char subject_text[512];
    snprintf(subject_text, sizeof subject_text, "%s=%s", iamctl_json_str(first, "name"),
             iamctl_json_str(first, "value"));
    const char *pairs[] = {
        "Policy ID",   iamctl_json_string(policy, "id"),
        "Type",        iamctl_json_string(policy, "type"),
        "Subject",     subject_text,
        "Roles",       roles,
        "Resources",   resources,
        "Description", iamctl_json_string(policy, "description"),
        "State",       iamctl_json_string(policy, "state"),
        "Version",     etag && *etag ? etag : NULL,
        "Created At",  iamctl_json_string(policy, "created_at"),
        "Modified At", iamctl_json_string(policy, "last_modified_at"),
        NULL,
    };
    iamctl_table_print_pairs(stdout, pairs);
}

static int policies_list(struct iamctl_context *context, enum subject_kind kind)
{
    struct subject subject;
    int status = subject_find(context, kind, &subject);
    if (status != IAMCTL_EXIT_OK) {
        json_decref(subject.object);
        return status;
    }
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/policies");
    iamctl_url_query(&url, "account_id", context->account_id);
    iamctl_url_query(&url, subject.attribute, subject.value);
    iamctl_url_query(&url, "type", "access");
    iamctl_url_query(&url, "limit", "100");
    json_t *items = NULL;
    const char *path = iamctl_url_text(&url);
    status = path ? iamctl_http_list(&context->http, path, "policies", &items) : iamctl_fail("out of memory");
    if (status == IAMCTL_EXIT_OK && context->json) {
        iamctl_print_json(items);
    } else if (status == IAMCTL_EXIT_OK) {
        static const char *const headers[] = {"POLICY ID", "ROLES", "RESOURCES", "DESCRIPTION", NULL};
        struct iamctl_table table;
        iamctl_table_init(&table, headers);
        size_t index;
        json_t *policy;
        json_array_foreach(items, index, policy) {
            char roles[SUMMARY_MAX], resources[SUMMARY_MAX];
            summarize_roles(policy, roles, sizeof roles);
            summarize_resources(policy, resources, sizeof resources);
            const char *cells[] = {iamctl_json_string(policy, "id"), roles, resources,
                                   iamctl_json_string(policy, "description")};
            if (iamctl_table_add(&table, cells) != IAM_OK) {
                status = iamctl_fail("out of memory");
                break;
            }
        }
        if (status == IAMCTL_EXIT_OK)
            iamctl_table_print(&table, stdout);
        iamctl_table_free(&table);
    }
    json_decref(items);
    iamctl_url_free(&url);
    json_decref(subject.object);
    return status;
}

/* GETs policy `id` (with its ETag) and checks that it belongs to `subject`. */
static int policy_fetch(struct iamctl_context *context, const struct subject *subject, const char *id,
                        json_t **policy, char *etag, size_t etag_size)
{
    *policy = NULL;
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/policies");
    iamctl_url_segment(&url, id);
    struct iamctl_response response = {0};
    int status = iamctl_http_call(&context->http, "GET", iamctl_url_text(&url), NULL, NULL, NULL, &response);
    iamctl_url_free(&url);
    if (status == IAMCTL_EXIT_OK && !policy_has_subject(response.body, subject))
        status = iamctl_fail("policy %s is not a policy of %s", id, subject->label);
    if (status == IAMCTL_EXIT_OK) {
        *policy = json_incref(response.body);
        snprintf(etag, etag_size, "%s", response.etag);
    }
    iamctl_response_free(&response);
    return status;
}

static int policy_get(struct iamctl_context *context, enum subject_kind kind)
{
    struct subject subject;
    int status = subject_find(context, kind, &subject);
    json_t *policy = NULL;
    char etag[160] = "";
    if (status == IAMCTL_EXIT_OK &&
        (status = policy_fetch(context, &subject, iamctl_arg(context, 1), &policy, etag, sizeof etag)) ==
            IAMCTL_EXIT_OK)
        show_policy(context, policy, etag);
    json_decref(policy);
    json_decref(subject.object);
    return status;
}

static bool has_resource_flags(const struct iamctl_context *context)
{
    if (iamctl_has_flag(context, "account-management"))
        return true;
    for (size_t i = 0; i < sizeof resource_flags / sizeof resource_flags[0]; i++)
        if (iamctl_has_flag(context, resource_flags[i].flag))
            return true;
    return false;
}

/* A value with '*' or '?' is a wildcard pattern: IBM's stringMatch operator. */
static bool add_attribute(json_t *attributes, const char *name, const char *value)
{
    json_t *attribute = strpbrk(value, "*?") && strcmp(name, "accountId") != 0 && strcmp(name, "serviceName") != 0 &&
                                strcmp(name, "serviceType") != 0
                            ? json_pack("{s:s,s:s,s:s}", "name", name, "value", value, "operator", "stringMatch")
                            : json_pack("{s:s,s:s}", "name", name, "value", value);
    return json_array_append_new(attributes, attribute) == 0;
}

/* The v1 resources[] the flags describe. */
static int build_resources(struct iamctl_context *context, json_t **resources)
{
    *resources = NULL;
    const char *service = iamctl_flag(context, "service-name");
    bool platform = iamctl_has_flag(context, "account-management");
    if (service && platform)
        return iamctl_usage(context->command->name, "--service-name and --account-management exclude each other");
    json_t *attributes = json_array();
    bool ok = attributes && add_attribute(attributes, "accountId", context->account_id);
    for (size_t i = 0; ok && i < sizeof resource_flags / sizeof resource_flags[0]; i++) {
        const char *value = iamctl_flag(context, resource_flags[i].flag);
        if (value && !*value) {
            json_decref(attributes);
            return iamctl_usage(context->command->name, "--%s is empty", resource_flags[i].flag);
        }
        if (value)
            ok = add_attribute(attributes, resource_flags[i].attribute, value);
    }
    /* No service and no resource group: every IAM-enabled service (or every platform service), as ibmcloud does. */
    if (ok && !service && !iamctl_flag(context, "resource-group-id"))
        ok = add_attribute(attributes, "serviceType", platform ? "platform_service" : "service");
    *resources = ok ? json_pack("[{s:o}]", "attributes", attributes) : NULL;
    if (!ok)
        json_decref(attributes);
    return *resources ? IAMCTL_EXIT_OK : iamctl_fail("out of memory");
}

/* Reads a policy document from --file, giving it the subject when it has none. */
static int read_policy_file(struct iamctl_context *context, const struct subject *subject, json_t **policy)
{
    const char *path = iamctl_flag(context, "file");
    char error[IAMCTL_PATH_MAX + 128];
    char *text = NULL;
    size_t length = 0;
    *policy = NULL;
    if (iamctl_file_read(path, POLICY_FILE_MAX, false, &text, &length, error, sizeof error) != IAM_OK)
        return iamctl_fail("%s", error);
    json_error_t parse_error;
    *policy = json_loadb(text, length, JSON_REJECT_DUPLICATES, &parse_error);
    free(text);
    if (!json_is_object(*policy)) {
        json_decref(*policy);
        *policy = NULL;
        return iamctl_fail("%s is not a JSON policy: %s (line %d)", path, parse_error.text, parse_error.line);
    }
    if (!json_object_get(*policy, "type"))
        json_object_set_new(*policy, "type", json_string("access"));
    if (!json_object_get(*policy, "subjects"))
        json_object_set_new(*policy, "subjects",
                            json_pack("[{s:[{s:s,s:s}]}]", "attributes", "name", subject->attribute, "value",
                                      subject->value));
    else if (!policy_has_subject(*policy, subject))
        return iamctl_fail("the policy in %s names another subject than %s", path, subject->label);
    return IAMCTL_EXIT_OK;
}

static int policy_create(struct iamctl_context *context, enum subject_kind kind)
{
    const char *roles_text = iamctl_flag(context, "roles");
    bool from_file = iamctl_has_flag(context, "file");
    if (from_file && (roles_text || has_resource_flags(context)))
        return iamctl_usage(context->command->name, "--file excludes --roles and the resource flags");
    if (!from_file && !roles_text)
        return iamctl_usage(context->command->name, "give --roles (or --file)");
    struct subject subject;
    int status = subject_find(context, kind, &subject);
    json_t *policy = NULL, *roles = NULL, *resources = NULL;
    struct iamctl_response response = {0};
    if (status != IAMCTL_EXIT_OK)
        goto out;
    if (from_file) {
        if ((status = read_policy_file(context, &subject, &policy)) != IAMCTL_EXIT_OK)
            goto out;
    } else {
        if ((status = build_resources(context, &resources)) != IAMCTL_EXIT_OK ||
            (status = iamctl_roles_resolve(context, iamctl_flag(context, "service-name"), roles_text, &roles)) !=
                IAMCTL_EXIT_OK)
            goto out;
        policy = json_pack("{s:s,s:[{s:[{s:s,s:s}]}],s:O,s:O}", "type", "access", "subjects", "attributes", "name",
                           subject.attribute, "value", subject.value, "roles", roles, "resources", resources);
        const char *description = iamctl_flag(context, "description");
        if (policy && description)
            json_object_set_new(policy, "description", json_string(description));
        if (!policy) {
            status = iamctl_fail("out of memory");
            goto out;
        }
    }
    status = iamctl_http_call(&context->http, "POST", "/v1/policies", policy, NULL, NULL, &response);
    if (status == IAMCTL_EXIT_OK) {
        if (context->quiet && !context->json) {
            printf("%s\n", iamctl_json_str(response.body, "id"));
        } else {
            if (!context->json)
                iamctl_say(false, "Created policy %s for %s", iamctl_json_str(response.body, "id"), subject.label);
            show_policy(context, response.body, response.etag);
        }
    }
out:
    iamctl_response_free(&response);
    json_decref(policy);
    json_decref(roles);
    json_decref(resources);
    json_decref(subject.object);
    return status;
}

/* The role_id-only copy of a policy's roles (responses add display names). */
static json_t *role_ids_of(const json_t *policy)
{
    json_t *roles = json_array();
    size_t index;
    json_t *role;
    json_array_foreach(json_object_get(policy, "roles"), index, role) {
        if (!roles || json_array_append_new(roles, json_pack("{s:s}", "role_id", iamctl_json_str(role, "role_id"))))
            break;
    }
    return roles;
}

static int policy_update(struct iamctl_context *context, enum subject_kind kind)
{
    const char *roles_text = iamctl_flag(context, "roles");
    const char *description = iamctl_flag(context, "description");
    bool from_file = iamctl_has_flag(context, "file");
    if (from_file && (roles_text || description || has_resource_flags(context)))
        return iamctl_usage(context->command->name, "--file excludes --roles, --description and the resource flags");
    if (!from_file && !roles_text && !description && !has_resource_flags(context))
        return iamctl_usage(context->command->name, "nothing to change: give --roles, resource flags, "
                                                    "--description or --file");
    struct subject subject;
    json_t *current = NULL, *policy = NULL, *roles = NULL, *resources = NULL;
    struct iamctl_response response = {0};
    char etag[160] = "";
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/policies");
    int status = subject_find(context, kind, &subject);
    if (status != IAMCTL_EXIT_OK ||
        (status = policy_fetch(context, &subject, iamctl_arg(context, 1), &current, etag, sizeof etag)) !=
            IAMCTL_EXIT_OK)
        goto out;
    if (from_file) {
        if ((status = read_policy_file(context, &subject, &policy)) != IAMCTL_EXIT_OK)
            goto out;
    } else {
        const json_t *old_resources = json_object_get(current, "resources");
        const char *service = iamctl_flag(context, "service-name");
        if (has_resource_flags(context)) {
            if ((status = build_resources(context, &resources)) != IAMCTL_EXIT_OK)
                goto out;
        } else {
            resources = json_deep_copy(old_resources);
            service = attribute_value(json_object_get(json_array_get(old_resources, 0), "attributes"),
                                      "serviceName");
        }
        if (roles_text)
            status = iamctl_roles_resolve(context, service, roles_text, &roles);
        else
            roles = role_ids_of(current);
        if (status != IAMCTL_EXIT_OK)
            goto out;
        const char *old_description = iamctl_json_string(current, "description");
        policy = json_pack("{s:s,s:O,s:O,s:O}", "type", iamctl_json_str(current, "type"), "subjects",
                           json_object_get(current, "subjects"), "roles", roles, "resources", resources);
        const char *new_description = description ? description : old_description;
        if (policy && new_description)
            json_object_set_new(policy, "description", json_string(new_description));
        if (!policy) {
            status = iamctl_fail("out of memory");
            goto out;
        }
    }
    iamctl_url_segment(&url, iamctl_json_str(current, "id"));
    status = iamctl_http_call(&context->http, "PUT", iamctl_url_text(&url), policy, *etag ? etag : "*", NULL,
                              &response);
    if (status == IAMCTL_EXIT_OK) {
        if (!context->json)
            iamctl_say(context->quiet, "Updated policy %s of %s", iamctl_json_str(response.body, "id"),
                       subject.label);
        if (!context->quiet || context->json)
            show_policy(context, response.body, response.etag);
    }
out:
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(current);
    json_decref(policy);
    json_decref(roles);
    json_decref(resources);
    json_decref(subject.object);
    return status;
}

static int policy_delete(struct iamctl_context *context, enum subject_kind kind)
{
    struct subject subject;
    json_t *policy = NULL;
    char etag[160] = "";
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/policies");
    struct iamctl_response response = {0};
    const char *id = iamctl_arg(context, 1);
    int status = subject_find(context, kind, &subject);
    if (status != IAMCTL_EXIT_OK ||
        (status = policy_fetch(context, &subject, id, &policy, etag, sizeof etag)) != IAMCTL_EXIT_OK)
        goto out;
    if (!iamctl_has_flag(context, "force")) {
        char question[512];
        snprintf(question, sizeof question, "Delete policy %s of %s?", id, subject.label);
        if (!iamctl_confirm(question)) {
            status = iamctl_fail("not deleted (use -f to delete without asking)");
            goto out;
        }
    }
    iamctl_url_segment(&url, id);
    status = iamctl_http_call(&context->http, "DELETE", iamctl_url_text(&url), NULL, NULL, NULL, &response);
    if (status == IAMCTL_EXIT_OK && !context->json)
        iamctl_say(context->quiet, "Deleted policy %s of %s", id, subject.label);
out:
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(policy);
    json_decref(subject.object);
    return status;
}

int iamctl_cmd_service_policies(struct iamctl_context *context) { return policies_list(context, SUBJECT_SERVICE_ID); }
int iamctl_cmd_service_policy(struct iamctl_context *context) { return policy_get(context, SUBJECT_SERVICE_ID); }
int iamctl_cmd_service_policy_create(struct iamctl_context *context)
{
    return policy_create(context, SUBJECT_SERVICE_ID);
}
int iamctl_cmd_service_policy_update(struct iamctl_context *context)
{
    return policy_update(context, SUBJECT_SERVICE_ID);
}
int iamctl_cmd_service_policy_delete(struct iamctl_context *context)
{
    return policy_delete(context, SUBJECT_SERVICE_ID);
}

int iamctl_cmd_user_policies(struct iamctl_context *context) { return policies_list(context, SUBJECT_USER); }
int iamctl_cmd_user_policy(struct iamctl_context *context) { return policy_get(context, SUBJECT_USER); }
int iamctl_cmd_user_policy_create(struct iamctl_context *context) { return policy_create(context, SUBJECT_USER); }
int iamctl_cmd_user_policy_update(struct iamctl_context *context) { return policy_update(context, SUBJECT_USER); }
int iamctl_cmd_user_policy_delete(struct iamctl_context *context) { return policy_delete(context, SUBJECT_USER); }

int iamctl_cmd_access_group_policies(struct iamctl_context *context) { return policies_list(context, SUBJECT_GROUP); }
int iamctl_cmd_access_group_policy(struct iamctl_context *context) { return policy_get(context, SUBJECT_GROUP); }
int iamctl_cmd_access_group_policy_create(struct iamctl_context *context)
{
    return policy_create(context, SUBJECT_GROUP);
}
int iamctl_cmd_access_group_policy_update(struct iamctl_context *context)
{
    return policy_update(context, SUBJECT_GROUP);
}
int iamctl_cmd_access_group_policy_delete(struct iamctl_context *context)
{
    return policy_delete(context, SUBJECT_GROUP);
}
