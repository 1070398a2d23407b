/*
 * builtin_services.c: the service definitions iamd carries itself:
 * iam-identity (IBM reference table 6.1, oddities included: Operator, not
 * Editor, deletes service IDs and creates or deletes API keys),
 * iam-access-management, iam-groups and user-management. They are written as
 * C tables (action, the platform roles holding it, a service-specific role
 * holding it) and rendered into the same JSON document shape a registered
 * service uses (docs/api/services.md), which is what the engine compiles.
 *
 * The implicit iam.policy.* / iam.role.* actions every service has are not
 * listed here; the engine adds them (reference 3.7).
 */
#include <string.h>

#include <jansson.h>

#include "iam/engine.h"
#include "iam/principal.h"

struct builtin_action {
    const char *id;
    const char *display_name;
    const char *description;
    const char *platform_roles; /* letters: A(dministrator) E(ditor) O(perator) V(iewer) */
    const char *service_role;   /* a service-specific role holding it, or NULL */
};

struct builtin_role {
    const char *name;
    const char *display_name;
    const char *description;
};

struct builtin_service {
    const char *name;
    const char *display_name;
    const struct builtin_action *actions;
    size_t action_count;
    const struct builtin_role *roles; /* service-specific roles */
    size_t role_count;
    const char *const *resource_types;
};

static const struct builtin_action identity_actions[] = {
    {IAM_ACTION_SERVICEID_CREATE, "Create service IDs", "Create service IDs when creation is restricted", "",
     "ServiceIdCreator"},
    {IAM_ACTION_SERVICEID_READ, "View service IDs", "View service IDs", "AEOV", NULL},
    {IAM_ACTION_SERVICEID_UPDATE, "Update service IDs", "Update, lock and unlock service IDs", "AEO", NULL},
    {IAM_ACTION_SERVICEID_DELETE, "Delete service IDs", "Delete service IDs", "AO", NULL},
    {IAM_ACTION_APIKEY_CREATE, "Create API keys", "Create API keys for service IDs", "AO", NULL},
    {IAM_ACTION_APIKEY_READ, "View API keys", "View API key details", "AEO", NULL},
    {IAM_ACTION_ACCOUNT_APIKEYS_LIST, "List API keys", "List API keys", "AEO", NULL},
    {IAM_ACTION_APIKEY_UPDATE, "Update API keys", "Update, lock, unlock, disable and enable API keys", "AEO",
     NULL},
    {IAM_ACTION_APIKEY_DELETE, "Delete API keys", "Delete API keys", "AO", NULL},
    {IAM_ACTION_APIKEY_MANAGE, "Manage all API keys", "Manage every API key in the account", "A", NULL},
    {"iam-identity.apikey.review", "Review API keys", "View API key metadata", "AEO", NULL},
    {IAM_ACTION_USER_APIKEY_CREATE, "Create user API keys", "Create user API keys when creation is restricted", "",
     "UserApiKeyCreator"},
    {IAM_ACTION_SETTINGS_READ, "View account settings", "View the account's identity settings", "AEOV", NULL},
    {IAM_ACTION_SETTINGS_UPDATE, "Update account settings", "Update the account's identity settings", "AEO", NULL},
    {"iam-identity.account.create", "Create account settings", "Create account identity settings", "AO", NULL},
    {"iam-identity.account.delete", "Delete account settings", "Delete account identity settings", "AO", NULL},
    {"iam-identity.serviceid-group.create", "Create service ID groups", "Create service ID groups", "AO", NULL},
    {"iam-identity.serviceid-group.get", "View service ID groups", "View service ID groups", "AEOV", NULL},
    {"iam-identity.serviceid-group.list", "List service ID groups", "List service ID groups", "AEOV", NULL},
    {"iam-identity.serviceid-group.update", "Update service ID groups", "Update service ID groups", "AEO", NULL},
    {"iam-identity.serviceid-group.delete", "Delete service ID groups", "Delete service ID groups", "AO", NULL},
    {"iam-identity.profile.create", "Create trusted profiles", "Create trusted profiles", "A", NULL},
    {"iam-identity.profile.update", "Update trusted profiles", "Update trusted profiles", "AEO", NULL},
    {"iam-identity.profile.link", "Link trusted profiles", "Link compute resources to trusted profiles", "AEO",
     NULL},
    {"iam-identity.session.manage", "Manage sessions", "Manage the login sessions of the account", "A", NULL},
    {"iam-identity.mfa-status.get", "View MFA status", "View the MFA status of the account's users", "A", NULL},
    {IAM_ACTION_TOKEN_INTROSPECT, "Introspect tokens", "Introspect access tokens issued in the account", "AEOV",
     NULL},
    {IAM_ACTION_AUDIT_READ, "Read audit records", "Read the identity audit records of the account", "A", NULL},
    {IAM_ACTION_ACTIVITY_REPORT_CREATE, "Create activity reports",
     "Create the report of the account's inactive identities", "A", NULL},
    {IAM_ACTION_ACTIVITY_REPORT_READ, "View activity reports", "View the reports of the account's inactive identities",
     "A", NULL},
};

static const struct builtin_role identity_roles[] = {
    {"ServiceIdCreator", "Service ID creator",
     "As a service ID creator, you can create service IDs when the account restricts their creation."},
    {"UserApiKeyCreator", "User API key creator",
     "As a user API key creator, you can create user API keys when the account restricts their creation."},
};

static const char *const identity_resource_types[] = {"serviceid", "apikey", "account", "serviceid-group",
                                                       "profile", NULL};

static const struct builtin_action access_management_actions[] = {
    {IAM_ACTION_ROLE_READ, "View custom roles", "View custom roles", "AEOV", NULL},
    {IAM_ACTION_ROLE_CREATE, "Create custom roles", "Create custom roles", "A", NULL},
    {IAM_ACTION_ROLE_UPDATE, "Update custom roles", "Update custom roles", "A", NULL},
    {IAM_ACTION_ROLE_DELETE, "Delete custom roles", "Delete custom roles", "A", NULL},
    {IAM_ACTION_ACCESS_SETTINGS_READ, "View access settings", "View the account's access-management settings",
     "AEOV", NULL},
    {IAM_ACTION_ACCESS_SETTINGS_UPDATE, "Update access settings", "Update the account's access-management settings",
     "A", NULL},
};

static const char *const access_management_resource_types[] = {"customRole", "settings", NULL};

static const struct builtin_action groups_actions[] = {
    {IAM_ACTION_GROUP_CREATE, "Create access groups", "Create access groups", "AE", NULL},
    {IAM_ACTION_GROUP_READ, "View access groups", "View access groups", "AEOV", NULL},
    {IAM_ACTION_GROUP_LIST, "List access groups", "List access groups", "AEOV", NULL},
    {IAM_ACTION_GROUP_UPDATE, "Update access groups", "Update access groups", "AE", NULL},
    {IAM_ACTION_GROUP_DELETE, "Delete access groups", "Delete access groups", "AE", NULL},
    {IAM_ACTION_MEMBER_ADD, "Add members", "Add members to access groups", "AE", NULL},
    {IAM_ACTION_MEMBER_READ, "View members", "View the members of access groups", "AEOV", NULL},
    {IAM_ACTION_MEMBER_LIST, "List members", "List the members of access groups", "AEOV", NULL},
    {IAM_ACTION_MEMBER_DELETE, "Remove members", "Remove members from access groups", "AE", NULL},
};

static const char *const groups_resource_types[] = {"accessgroup", NULL};

static const struct builtin_action user_actions[] = {
    {IAM_ACTION_USER_INVITE, "Invite users", "Invite or create users in the account", "AE", NULL},
    {IAM_ACTION_USER_READ, "View users", "View the account's users", "AEOV", NULL},
    {IAM_ACTION_USER_LIST, "List users", "List the account's users", "AEOV", NULL},
    {IAM_ACTION_USER_UPDATE, "Update users", "Update, disable and enable users", "AE", NULL},
    {IAM_ACTION_USER_DELETE, "Remove users", "Remove users from the account", "A", NULL},
};

static const char *const user_resource_types[] = {"user", NULL};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

static const struct builtin_service builtin_services[] = {
    {"iam-identity", "IAM Identity Service", identity_actions, COUNT_OF(identity_actions), identity_roles,
     COUNT_OF(identity_roles), identity_resource_types},
    {"iam-access-management", "IAM Access Management", access_management_actions,
     COUNT_OF(access_management_actions), NULL, 0, access_management_resource_types},
    {"iam-groups", "IAM Access Groups", groups_actions, COUNT_OF(groups_actions), NULL, 0, groups_resource_types},
    {"user-management", "User Management", user_actions, COUNT_OF(user_actions), NULL, 0, user_resource_types},
};

static const struct {
    char letter;
    const char *name;
} platform_letters[] = {{'V', "Viewer"}, {'O', "Operator"}, {'E', "Editor"}, {'A', "Administrator"}};

/* Appends `action` to roles[name] (an array), creating it. 0 on success. */
static int role_append(json_t *roles, const char *name, const char *action)
{
    json_t *list = json_object_get(roles, name);
    if (json_is_object(list))
        list = json_object_get(list, "actions");
    if (!list)
        return -1;
    return json_array_append_new(list, json_string(action));
}

static json_t *builtin_document(const struct builtin_service *service)
{
    json_t *document = json_object();
    json_t *actions = json_array();
    json_t *roles = json_object();
    json_t *types = json_array();
    if (!document || !actions || !roles || !types)
        goto fail;
    for (size_t i = 0; i < COUNT_OF(platform_letters); i++)
        if (json_object_set_new(roles, platform_letters[i].name, json_array()) != 0)
            goto fail;
    for (size_t i = 0; i < service->role_count; i++) {
        const struct builtin_role *role = &service->roles[i];
        if (json_object_set_new(roles, role->name,
                                json_pack("{s:s, s:s, s:[]}", "display_name", role->display_name, "description",
                                          role->description, "actions")) != 0)
            goto fail;
    }
    for (size_t i = 0; i < service->action_count; i++) {
        const struct builtin_action *action = &service->actions[i];
        if (json_array_append_new(actions, json_pack("{s:s, s:s, s:s}", "id", action->id, "display_name",
                                                     action->display_name, "description", action->description)) != 0)
            goto fail;
        for (size_t j = 0; j < COUNT_OF(platform_letters); j++)
            if (strchr(action->platform_roles, platform_letters[j].letter) &&
                role_append(roles, platform_letters[j].name, action->id) != 0)
                goto fail;
        if (action->service_role && role_append(roles, action->service_role, action->id) != 0)
            goto fail;
    }
    for (const char *const *type = service->resource_types; *type; type++)
        if (json_array_append_new(types, json_string(*type)) != 0)
            goto fail;
    if (json_object_set_new(document, "name", json_string(service->name)) != 0 ||
        json_object_set_new(document, "display_name", json_string(service->display_name)) != 0 ||
        json_object_set_new(document, "service_type", json_string("platform_service")) != 0 ||
        json_object_set_new(document, "service_group_id", json_string("IAM")) != 0 ||
        json_object_set_new(document, "pdp_clients", json_array()) != 0 ||
        json_object_set(document, "actions", actions) != 0 || json_object_set(document, "roles", roles) != 0 ||
        json_object_set(document, "resource_types", types) != 0)
        goto fail;
    json_decref(actions);
    json_decref(roles);
    json_decref(types);
    return document;
fail:
    json_decref(document);
    json_decref(actions);
    json_decref(roles);
    json_decref(types);
    return NULL;
}

json_t *iam_engine_builtin_services(void)
{
    json_t *all = json_object();
    if (!all)
        return NULL;
    for (size_t i = 0; i < COUNT_OF(builtin_services); i++) {
        json_t *document = builtin_document(&builtin_services[i]);
        if (!document || json_object_set_new(all, builtin_services[i].name, document) != 0) {
            json_decref(all);
            return NULL;
        }
    }
    return all;
}
