/*
 * roles.c: the roles command (GET /v2/roles) and the role-name look-up
 * policy commands use. As Terraform does, a policy's roles are found by
 * display name among the custom, service and system roles of the policy's
 * service (service_name=alliamserviceroles when it names none); a role name
 * ("ServiceIdCreator") or a full role CRN is accepted too.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "output.h"
#include "table.h"

#define ALL_SERVICES "alliamserviceroles"
#define ROLE_NAME_MAX 256
#define ROLES_MAX 20

static const char *const role_lists[] = {"system_roles", "service_roles", "custom_roles"};
static const char *const role_kinds[] = {"platform", "service", "custom"};

static int fetch_roles(struct iamctl_context *context, const char *service_name, json_t **roles)
{
    struct iamctl_url url;
    iamctl_url_init(&url, "/v2/roles");
    iamctl_url_query(&url, "account_id", context->account_id);
    iamctl_url_query(&url, "service_name", service_name ? service_name : ALL_SERVICES);
    struct iamctl_response response = {0};
    int status = iamctl_http_call(&context->http, "GET", iamctl_url_text(&url), NULL, NULL, NULL, &response);
    iamctl_url_free(&url);
    *roles = status == IAMCTL_EXIT_OK ? json_incref(response.body) : NULL;
    iamctl_response_free(&response);
    return status;
}

/* The short name of a role: a custom role's name, else the last part of its CRN. */
static const char *role_short_name(const json_t *role)
{
    const char *name = iamctl_json_string(role, "name");
    if (name)
        return name;
    const char *crn = iamctl_json_str(role, "crn");
    const char *colon = strrchr(crn, ':');
    return colon ? colon + 1 : crn;
}

int iamctl_cmd_roles(struct iamctl_context *context)
{
    const char *service = iamctl_flag(context, "service-name");
    if (!service)
        service = iamctl_flag(context, "service");
    json_t *roles = NULL;
    int status = fetch_roles(context, service, &roles);
    if (status != IAMCTL_EXIT_OK)
        return status;
    if (context->json) {
        iamctl_print_json(roles);
        json_decref(roles);
        return IAMCTL_EXIT_OK;
    }
    static const char *const headers[] = {"NAME", "ROLE", "TYPE", "CRN", "DESCRIPTION", NULL};
    struct iamctl_table table;
    iamctl_table_init(&table, headers);
    for (size_t list = 0; list < 3 && status == IAMCTL_EXIT_OK; list++) {
        size_t index;
        json_t *role;
        json_array_foreach(json_object_get(roles, role_lists[list]), index, role) {
            const char *cells[] = {iamctl_json_string(role, "display_name"), role_short_name(role), role_kinds[list],
                                   iamctl_json_string(role, "crn"), iamctl_json_string(role, "description")};
            if (iamctl_table_add(&table, cells) != IAM_OK) {
                status = iamctl_fail("out of memory");
                break;
            }
        }
    }
    if (status == IAMCTL_EXIT_OK) {
        if (table.rows == 0 && service)
            status = iamctl_fail("no roles for service '%s' (is the service name right?)", service);
        else
            iamctl_table_print(&table, stdout);
    }
    iamctl_table_free(&table);
    json_decref(roles);
    return status;
}

/* The CRN of the role called `name` in `roles`, or NULL. */
static const char *find_role(const json_t *roles, const char *name)
{
    for (size_t list = 0; list < 3; list++) {
        size_t index;
        json_t *role;
        json_array_foreach(json_object_get(roles, role_lists[list]), index, role) {
            const char *display = iamctl_json_str(role, "display_name");
            if (strcasecmp(display, name) == 0 || strcasecmp(role_short_name(role), name) == 0)
                return iamctl_json_string(role, "crn");
        }
    }
    return NULL;
}

/* "Viewer, Operator, ..." for an error message. */
static void known_roles(const json_t *roles, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t list = 0; list < 3; list++) {
        size_t index;
        json_t *role;
        json_array_foreach(json_object_get(roles, role_lists[list]), index, role) {
            int n = snprintf(out + used, size - used, "%s%s", used ? ", " : "", iamctl_json_str(role, "display_name"));
            if (n < 0 || (size_t)n >= size - used)
                return;
            used += (size_t)n;
        }
    }
}

static bool already_listed(const json_t *role_ids, const char *crn)
{
    size_t index;
    json_t *item;
    json_array_foreach(role_ids, index, item) {
        if (strcmp(iamctl_json_str(item, "role_id"), crn) == 0)
            return true;
    }
    return false;
}

int iamctl_roles_resolve(struct iamctl_context *context, const char *service_name, const char *roles_text,
                         json_t **role_ids)
{
    *role_ids = json_array();
    if (!*role_ids)
        return iamctl_fail("out of memory");
    json_t *roles = NULL;
    int status = IAMCTL_EXIT_OK;
    const char *service_label = service_name ? service_name : "all services";
    const char *cursor = roles_text;
    while (status == IAMCTL_EXIT_OK) {
        size_t length = strcspn(cursor, ",");
        char name[ROLE_NAME_MAX];
        size_t start = 0;
        while (start < length && cursor[start] == ' ')
            start++;
        size_t end = length;
        while (end > start && cursor[end - 1] == ' ')
            end--;
        if (end - start >= sizeof name) {
            status = iamctl_fail("the role name '%.40s...' is too long", cursor + start);
            break;
        }
        memcpy(name, cursor + start, end - start);
        name[end - start] = '\0';
        if (!*name) {
            status = iamctl_usage(context->command->name, "--roles has an empty role name");
            break;
        }
        const char *crn = NULL;
        if (strncmp(name, "crn:", 4) == 0) {
            crn = name;
        } else {
            if (!roles && (status = fetch_roles(context, service_name, &roles)) != IAMCTL_EXIT_OK)
                break;
            crn = find_role(roles, name);
            if (!crn) {
                char known[1024];
                known_roles(roles, known, sizeof known);
                if (!*known)
                    status = iamctl_fail("service '%s' has no roles: is the service name right?", service_label);
                else
                    status = iamctl_fail("unknown role '%s' for %s (roles there: %s)", name, service_label, known);
                break;
            }
        }
        if (!already_listed(*role_ids, crn)) {
            if (json_array_size(*role_ids) == ROLES_MAX) {
                status = iamctl_fail("a policy takes at most %d roles", ROLES_MAX);
                break;
            }
            if (json_array_append_new(*role_ids, json_pack("{s:s}", "role_id", crn)) != 0)
                status = iamctl_fail("out of memory");
        }
        if (!cursor[length])
            break;
        cursor += length + 1;
    }
    json_decref(roles);
    if (status != IAMCTL_EXIT_OK) {
        json_decref(*role_ids);
        *role_ids = NULL;
    }
    return status;
}
