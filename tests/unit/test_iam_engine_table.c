/*
 * test_iam_engine_table.c: a table of decisions over one fixture snapshot
 * (two accounts, built-in and registered services, users, service IDs,
 * access groups, PublicAccess, custom and service-specific roles). Each row
 * is a subject, account, action, resource attributes and a fixed `now`, with
 * the answer IBM's semantics give. Covers wildcards, any-of, stringExists,
 * groups, PublicAccess, custom roles, serviceType / service_group_id,
 * resource groups, time conditions, cross-account attempts, unknown services
 * and actions, and a deleted membership. Every row is also checked against
 * iam_engine_evaluate and iam_engine_explain, which must agree with decide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "iam/engine.h"

#define A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

#define OPERATOR "iam-ServiceId-operator"
#define EDITOR "iam-ServiceId-editor"
#define COS_USER "iam-ServiceId-cos"
#define MEMBER "iam-ServiceId-member"
#define REMOVED "iam-ServiceId-removed"
#define NOBODY "iam-ServiceId-nobody"
#define IAM_ADMIN "iam-ServiceId-iamadmin"
#define ALICE "IBMid-alice"
#define BOB "IBMid-bob"
#define RG_USER "iam-ServiceId-rg"
#define ONCE "iam-ServiceId-once"
#define WEEKLY "iam-ServiceId-weekly"
#define PATH_USER "iam-ServiceId-path"
#define TAGGED "iam-ServiceId-tagged"
#define BROKEN "iam-ServiceId-broken"
#define ESCAPED "iam-ServiceId-escaped"
#define EXISTS "iam-ServiceId-exists"
#define USER_MANAGER "iam-ServiceId-usermgr"
#define GROUPS_EDITOR "iam-ServiceId-groupsed"
#define NESTED "iam-ServiceId-nested"
#define TOO_DEEP "iam-ServiceId-toodeep"
#define DATES "iam-ServiceId-dates"
#define DATE_OFFSET "iam-ServiceId-dateoffset"
#define ENVIRONMENT "iam-ServiceId-env"
#define MULTI_ROLE "iam-ServiceId-multirole"
#define OBJECT_READER "iam-ServiceId-objreader"
#define PLATFORM_ALL "iam-ServiceId-platformall"

#define GROUP_1 "AccessGroupId-g1"
#define GROUP_2 "AccessGroupId-g2"
#define GROUP_3 "AccessGroupId-g3"

/* Times (UTC) */
#define MON_10 1748858400     /* Monday 2025-06-02 10:00:00 */
#define MON_15 1748876400     /* Monday 2025-06-02 15:00:00 = 10:00 at -05:00 */
#define MON_1359 1748872799   /* Monday 13:59:59 = 08:59:59 at -05:00 */
#define MON_14 1748872800     /* Monday 14:00:00 = 09:00 at -05:00 */
#define MON_22 1748901600     /* Monday 22:00:00 = 17:00 at -05:00 */
#define MON_05 1748840400     /* Monday 05:00:00 */
#define SAT_15 1749308400     /* Saturday 2025-06-07 15:00:00 */
#define TUE_03 1748919600     /* Tuesday 03:00:00 = Monday 22:00 at -05:00 */
#define FRI_2159 1749247199   /* Friday 21:59:59 = 16:59:59 at -05:00 */
#define SUN_15 1749394800     /* Sunday 2025-06-08 15:00:00 */
#define NEW_YEAR_2026 1767225600
#define END_2024 1735689599   /* 2024-12-31 23:59:59 */
#define END_2025 1767225599   /* 2025-12-31 23:59:59 */
#define JUL_01 1751328000     /* 2025-07-01 00:00:00 */
#define MAY_31_23 1748732400  /* 2025-05-31 23:00:00 (June 1st at +02:00) */
#define JUN_30_2330 1751326200

#define VIEWER "crn:v1:bluemix:public:iam::::role:Viewer"
#define OPERATOR_ROLE "crn:v1:bluemix:public:iam::::role:Operator"
#define EDITOR_ROLE "crn:v1:bluemix:public:iam::::role:Editor"
#define ADMINISTRATOR "crn:v1:bluemix:public:iam::::role:Administrator"
#define READER "crn:v1:bluemix:public:iam::::serviceRole:Reader"
#define WRITER "crn:v1:bluemix:public:iam::::serviceRole:Writer"
#define MANAGER "crn:v1:bluemix:public:iam::::serviceRole:Manager"
#define SERVICE_ID_CREATOR "crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator"
#define OBJECT_READER_ROLE "crn:v1:bluemix:public:cloud-object-storage::::serviceRole:ObjectReader"
#define BUCKET_CREATOR "crn:v1:ibmcloud:public:iam-access-management::a/" A "::customRole:BucketCreator"
#define KEY_DELETER_A "crn:v1:ibmcloud:public:iam-access-management::a/" A "::customRole:KeyDeleterA"
#define KEY_DELETER_B "crn:v1:ibmcloud:public:iam-access-management::a/" B "::customRole:KeyDeleter"

/* JSON fragments are written with ' for " and converted when the fixture is built. */
#define SERVICE(name) "{'key':'serviceName','operator':'stringEquals','value':'" name "'}"
#define ATTR(key, value) "{'key':'" key "','operator':'stringEquals','value':'" value "'}"
#define ATTR_OP(key, op, value) "{'key':'" key "','operator':'" op "','value':" value "}"

struct fixture_policy {
    const char *account;
    const char *kind; /* iam_id or access_group_id */
    const char *subject;
    const char *attributes; /* besides accountId */
    const char *roles;      /* space-separated role CRNs */
    const char *extra;      /* ,'rule':... or ,'resource' tags are in `tags` */
    const char *tags;
};

static const struct fixture_policy fixture_policies[] = {
    {A, "iam_id", OPERATOR, SERVICE("iam-identity"), OPERATOR_ROLE, NULL, NULL},
    {A, "iam_id", OPERATOR, ATTR("resourceGroupId", "rg-ops"), READER, NULL, NULL},
    {A, "iam_id", EDITOR, SERVICE("iam-identity") "," ATTR("resourceType", "serviceid") "," ATTR("resource", "ServiceId-xyz"),
     EDITOR_ROLE, NULL, NULL},
    {A, "iam_id", COS_USER,
     SERVICE("cloud-object-storage") "," ATTR("serviceInstance", "inst-1") "," ATTR("resourceType", "bucket") "," ATTR_OP(
         "resource", "stringMatch", "'logs-*'"),
     READER, NULL, NULL},
    {A, "iam_id", COS_USER,
     SERVICE("cloud-object-storage") "," ATTR_OP("serviceInstance", "stringEqualsAnyOf", "['inst-2','inst-3']"), WRITER,
     NULL, NULL},
    {A, "iam_id", COS_USER,
     SERVICE("cloud-object-storage") "," ATTR_OP("serviceInstance", "stringMatchAnyOf", "['prod-?','dev-*']"), MANAGER,
     NULL, NULL},
    {A, "access_group_id", GROUP_1, ATTR("serviceType", "platform_service"), VIEWER, NULL, NULL},
    {A, "access_group_id", GROUP_2, ATTR("serviceType", "service"), READER, NULL, NULL},
    {A, "access_group_id", "AccessGroupId-PublicAccess", SERVICE("kms") "," ATTR("serviceInstance", "public-kms"), READER,
     NULL, NULL},
    {A, "iam_id", IAM_ADMIN, ATTR("service_group_id", "IAM"), ADMINISTRATOR, NULL, NULL},
    {A, "iam_id", ALICE, SERVICE("cloud-object-storage"), BUCKET_CREATOR, NULL, NULL},
    {A, "iam_id", ALICE, SERVICE("iam-identity"), SERVICE_ID_CREATOR, NULL, NULL},
    {A, "iam_id", ALICE, SERVICE("cloud-object-storage") "," ATTR_OP("resourceType", "stringExists", "false"), WRITER,
     NULL, NULL},
    {A, "iam_id", ALICE, SERVICE("kms"), KEY_DELETER_B, NULL, NULL},
    {A, "iam_id", ALICE, SERVICE("cloud-object-storage"), KEY_DELETER_A, NULL, NULL},
    {A, "iam_id", REMOVED, SERVICE("iam-groups"), VIEWER, NULL, NULL},
    {A, "iam_id", RG_USER, ATTR("resourceGroupId", "rg-1"), MANAGER, NULL, NULL},
    {A, "iam_id", ONCE, SERVICE("kms"), MANAGER " " ADMINISTRATOR,
     ",'pattern':'time-based-conditions:once','rule':{'operator':'and','conditions':["
     "{'key':'{{environment.attributes.current_date_time}}','operator':'dateTimeGreaterThanOrEquals','value':'2025-01-"
     "01T00:00:00+00:00'},"
     "{'key':'{{environment.attributes.current_date_time}}','operator':'dateTimeLessThanOrEquals','value':'2025-12-31T23:"
     "59:59+00:00'}]}",
     NULL},
    {A, "iam_id", WEEKLY, SERVICE("cloud-object-storage"), READER,
     ",'pattern':'time-based-conditions:weekly:custom-hours','rule':{'operator':'and','conditions':["
     "{'key':'{{environment.attributes.day_of_week}}','operator':'dayOfWeekAnyOf','value':['1-05:00','2-05:00','3-05:"
     "00','4-05:00','5-05:00']},"
     "{'key':'{{environment.attributes.current_time}}','operator':'timeGreaterThanOrEquals','value':'09:00:00-05:00'},"
     "{'key':'{{environment.attributes.current_time}}','operator':'timeLessThan','value':'17:00:00-05:00'}]}",
     NULL},
    {A, "iam_id", PATH_USER, SERVICE("cloud-object-storage"), READER,
     ",'pattern':'attribute-based-condition:resource:literal-and-wildcard','rule':{'key':'{{resource.attributes.path}}',"
     "'operator':'stringMatch','value':'public/*'}",
     NULL},
    {A, "iam_id", TAGGED, ATTR("serviceType", "service"), READER, NULL, ATTR("project", "alpha")},
    {A, "iam_id", BROKEN, ATTR_OP("serviceName", "stringContains", "'cloud'"), READER, NULL, NULL},
    {A, "iam_id", ESCAPED, SERVICE("cloud-object-storage") "," ATTR_OP("serviceInstance", "stringMatch", "'{{*}}literal'"),
     READER, NULL, NULL},
    {A, "iam_id", ESCAPED, SERVICE("kms") "," ATTR_OP("resource", "stringMatch", "'a{{?}}b?'"), READER, NULL, NULL},
    {A, "iam_id", EXISTS, SERVICE("cloud-object-storage") "," ATTR_OP("resourceGroupId", "stringExists", "true"), READER,
     NULL, NULL},
    {A, "iam_id", USER_MANAGER, SERVICE("user-management"), EDITOR_ROLE, NULL, NULL},
    {A, "iam_id", GROUPS_EDITOR, SERVICE("iam-groups"), EDITOR_ROLE, NULL, NULL},
    {A, "iam_id", GROUPS_EDITOR, SERVICE("iam-access-management"), VIEWER, NULL, NULL},
    {A, "iam_id", NESTED, SERVICE("kms"), READER,
     ",'pattern':'time-based-conditions:weekly:custom-hours','rule':{'operator':'or','conditions':["
     "{'operator':'and','conditions':[{'key':'{{environment.attributes.day_of_week}}','operator':'dayOfWeekAnyOf',"
     "'value':[6,7]}]},"
     "{'operator':'and','conditions':[{'key':'{{environment.attributes.day_of_week}}','operator':'dayOfWeekAnyOf',"
     "'value':['1','2','3','4','5']},{'key':'{{environment.attributes.current_time}}','operator':'timeLessThan',"
     "'value':'06:00:00+00:00'}]}]}",
     NULL},
    {A, "iam_id", TOO_DEEP, SERVICE("kms"), READER,
     ",'pattern':'time-based-conditions:weekly','rule':{'operator':'and','conditions':[{'operator':'or','conditions':["
     "{'operator':'and','conditions':[{'key':'{{environment.attributes.day_of_week}}','operator':'dayOfWeekEquals',"
     "'value':'1'}]}]}]}",
     NULL},
    {A, "iam_id", DATES, SERVICE("cloud-object-storage"), READER,
     ",'pattern':'time-based-conditions:once','rule':{'operator':'and','conditions':["
     "{'key':'{{environment.attributes.current_date}}','operator':'dateGreaterThanOrEquals','value':'2025-06-01'},"
     "{'key':'{{environment.attributes.current_date}}','operator':'dateLessThanOrEquals','value':'2025-06-30'}]}",
     NULL},
    {A, "iam_id", DATE_OFFSET, SERVICE("cloud-object-storage"), READER,
     ",'pattern':'time-based-conditions:once','rule':{'operator':'and','conditions':["
     "{'key':'{{environment.attributes.current_date}}','operator':'dateGreaterThanOrEquals','value':'2025-06-01+02:"
     "00'},"
     "{'key':'{{environment.attributes.current_date}}','operator':'dateLessThanOrEquals','value':'2025-06-30+02:00'}]}",
     NULL},
    {A, "iam_id", ENVIRONMENT, SERVICE("kms"), READER,
     ",'rule':{'key':'{{environment.attributes.networkType}}','operator':'stringEquals','value':'private'}", NULL},
    {A, "iam_id", MULTI_ROLE, SERVICE("kms"), VIEWER " " READER, NULL, NULL},
    {A, "iam_id", OBJECT_READER, SERVICE("cloud-object-storage"), OBJECT_READER_ROLE, NULL, NULL},
    {A, "iam_id", OBJECT_READER, SERVICE("kms"), OBJECT_READER_ROLE, NULL, NULL},
    {A, "iam_id", PLATFORM_ALL, ATTR("serviceType", "platform_service"), ADMINISTRATOR, NULL, NULL},
    {B, "iam_id", BOB, SERVICE("iam-identity"), ADMINISTRATOR, NULL, NULL},
    {B, "iam_id", BOB, SERVICE("kms"), KEY_DELETER_B, NULL, NULL},
    {B, "iam_id", OPERATOR, SERVICE("iam-groups"), VIEWER, NULL, NULL},
};

static const char cos_document[] =
    "{'name':'cloud-object-storage','display_name':'Cloud Object Storage','service_type':'service',"
    "'service_group_id':null,'pdp_clients':['iam-ServiceId-cos-pdp'],'actions':["
    "{'id':'cloud-object-storage.bucket.list'},{'id':'cloud-object-storage.bucket.create'},"
    "{'id':'cloud-object-storage.bucket.delete'},{'id':'cloud-object-storage.object.get'},"
    "{'id':'cloud-object-storage.object.put'},{'id':'cloud-object-storage.object.delete'}],"
    "'roles':{'Viewer':['cloud-object-storage.bucket.list'],'Operator':[],"
    "'Editor':['cloud-object-storage.bucket.list','cloud-object-storage.bucket.create','cloud-object-storage.bucket."
    "delete'],"
    "'Administrator':['cloud-object-storage.bucket.list','cloud-object-storage.bucket.create','cloud-object-storage."
    "bucket.delete'],"
    "'Reader':['cloud-object-storage.bucket.list','cloud-object-storage.object.get'],"
    "'Writer':['cloud-object-storage.bucket.list','cloud-object-storage.object.get','cloud-object-storage.object.put'],"
    "'Manager':['cloud-object-storage.bucket.list','cloud-object-storage.bucket.create','cloud-object-storage.bucket."
    "delete','cloud-object-storage.object.get','cloud-object-storage.object.put','cloud-object-storage.object.delete'],"
    "'ObjectReader':{'display_name':'Object Reader','description':'Reads objects','actions':['cloud-object-storage."
    "object.get']}},'resource_types':['bucket','object']}";

static const char kms_document[] =
    "{'name':'kms','display_name':'Key Protect','service_type':'service','actions':["
    "{'id':'kms.key.read'},{'id':'kms.key.create'},{'id':'kms.key.delete'}],"
    "'roles':{'Viewer':['kms.key.read'],'Reader':['kms.key.read'],"
    "'Manager':['kms.key.read','kms.key.create','kms.key.delete'],'Administrator':['kms.key.read']}}";

struct decision_case {
    const char *subject;
    const char *account;
    const char *action;
    const char *attributes; /* "name=value;..."; "env:name=value" for environment attributes */
    int64_t now;
    bool expected;
};

#define COS "serviceName=cloud-object-storage"
#define COS_BUCKET(instance, bucket) COS ";serviceInstance=" instance ";resourceType=bucket;resource=" bucket

static const struct decision_case cases[] = {
    /* Operator on iam-identity: IBM's oddities (Operator creates and deletes keys) */
    {OPERATOR, A, "iam-identity.apikey.create", "serviceName=iam-identity", MON_10, true},
    {OPERATOR, A, "iam-identity.apikey.create", "", MON_10, true},
    {OPERATOR, A, "iam-identity.apikey.delete", "", MON_10, true},
    {OPERATOR, A, "iam-identity.serviceid.delete", "", MON_10, true},
    {OPERATOR, A, "iam-identity.serviceid.update", "", MON_10, true},
    {OPERATOR, A, "iam-identity.serviceid.get", "resourceType=serviceid;resource=ServiceId-abc", MON_10, true},
    {OPERATOR, A, "iam-identity.apikey.get", "resourceType=apikey", MON_10, true},
    {OPERATOR, A, "iam-identity.apikey.list", "", MON_10, true},
    {OPERATOR, A, "iam-identity.apikey.update", "", MON_10, true},
    {OPERATOR, A, "iam-identity.account.update", "", MON_10, true},
    {OPERATOR, A, "iam-identity.account.get", "", MON_10, true},
    {OPERATOR, A, "iam-identity.token.introspect", "", MON_10, true},
    {OPERATOR, A, "iam-identity.apikey.manage", "", MON_10, false},
    {OPERATOR, A, "iam-identity.serviceid.create", "", MON_10, false},
    {OPERATOR, A, "iam-identity.user-apikey.create", "", MON_10, false},
    {OPERATOR, A, "iam-identity.audit.read", "", MON_10, false},
    {OPERATOR, A, "iam-identity.profile.create", "", MON_10, false},
    {OPERATOR, A, "iam.policy.read", "serviceName=iam-identity", MON_10, true},
    {OPERATOR, A, "iam.role.read", "serviceName=iam-identity", MON_10, true},
    {OPERATOR, A, "iam.policy.create", "serviceName=iam-identity", MON_10, false},
    {OPERATOR, A, "iam.role.assign", "serviceName=iam-identity", MON_10, false},
    {OPERATOR, A, "iam.policy.read", "", MON_10, false},
    {OPERATOR, A, "iam.policy.read", "serviceName=iam-groups", MON_10, false},
    {OPERATOR, A, "iam-groups.groups.read", "", MON_10, false},
    {OPERATOR, A, "iam-identity.apikey.create", "serviceName=iam-groups", MON_10, false},
    {OPERATOR, A, "iam-identity.apikey.create", "serviceName=kms", MON_10, false},
    {OPERATOR, A, "iam-identity.serviceid.fly", "", MON_10, false},
    {OPERATOR, A, "iam-identity", "", MON_10, false},
    {OPERATOR, A, "iam.unknown.read", "serviceName=iam-identity", MON_10, false},
    {OPERATOR, A, "nosuchservice.thing.read", "serviceName=nosuchservice", MON_10, false},
    {OPERATOR, A, "kms.key.read", "serviceName=kms;resourceGroupId=rg-ops", MON_10, true},
    {OPERATOR, A, "kms.key.create", "serviceName=kms;resourceGroupId=rg-ops", MON_10, false},
    {OPERATOR, A, "kms.key.read", "serviceName=kms;resourceGroupId=rg-other", MON_10, false},
    {OPERATOR, A, "iam-identity.serviceid.get", "resourceGroupId=rg-ops", MON_10, true},
    /* cross-account: the operator's policies live in A */
    {OPERATOR, B, "iam-identity.apikey.create", "", MON_10, false},
    {OPERATOR, B, "iam-identity.serviceid.get", "serviceName=iam-identity", MON_10, false},
    {OPERATOR, B, "iam-groups.groups.read", "", MON_10, true},
    {OPERATOR, B, "iam-groups.groups.create", "", MON_10, false},
    {OPERATOR, "cccccccccccccccccccccccccccccccc", "iam-identity.apikey.create", "", MON_10, false},
    {OPERATOR, B, "iam-identity.apikey.create", "accountId=" A, MON_10, false},

    /* Editor scoped to one service ID: Editor cannot delete it or create its keys */
    {EDITOR, A, "iam-identity.serviceid.update", "resourceType=serviceid;resource=ServiceId-xyz", MON_10, true},
    {EDITOR, A, "iam-identity.serviceid.get", "resourceType=serviceid;resource=ServiceId-xyz", MON_10, true},
    {EDITOR, A, "iam-identity.apikey.update", "resourceType=serviceid;resource=ServiceId-xyz", MON_10, true},
    {EDITOR, A, "iam-identity.apikey.list", "resourceType=serviceid;resource=ServiceId-xyz", MON_10, true},
    {EDITOR, A, "iam-identity.serviceid.delete", "resourceType=serviceid;resource=ServiceId-xyz", MON_10, false},
    {EDITOR, A, "iam-identity.apikey.create", "resourceType=serviceid;resource=ServiceId-xyz", MON_10, false},
    {EDITOR, A, "iam-identity.apikey.delete", "resourceType=serviceid;resource=ServiceId-xyz", MON_10, false},
    {EDITOR, A, "iam-identity.serviceid.update", "resourceType=serviceid;resource=ServiceId-other", MON_10, false},
    {EDITOR, A, "iam-identity.serviceid.update", "", MON_10, false},
    {EDITOR, A, "iam-identity.serviceid.update", "resourceType=serviceid", MON_10, false},
    {EDITOR, A, "iam-identity.serviceid.update", "resourceType=apikey;resource=ServiceId-xyz", MON_10, false},
    {EDITOR, A, "iam.policy.read", "serviceName=iam-identity;resourceType=serviceid;resource=ServiceId-xyz", MON_10,
     true},
    {EDITOR, A, "iam.policy.update", "serviceName=iam-identity;resourceType=serviceid;resource=ServiceId-xyz", MON_10,
     false},
    {EDITOR, A, "iam-identity.serviceid.update", "resourceType=serviceid;resource=ServiceId-xyz;extra=ignored", MON_10,
     true},

    /* wildcards and any-of on a registered service */
    {COS_USER, A, "cloud-object-storage.object.get", COS_BUCKET("inst-1", "logs-2024"), MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.get", COS_BUCKET("inst-1", "logs-"), MON_10, true},
    {COS_USER, A, "cloud-object-storage.bucket.list", COS_BUCKET("inst-1", "logs-x"), MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.get", COS_BUCKET("inst-1", "log"), MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.get", COS_BUCKET("inst-1", "applogs-1"), MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.get", COS_BUCKET("inst-9", "logs-2024"), MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.get", COS ";serviceInstance=inst-1;resourceType=object;resource=logs-1",
     MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.put", COS_BUCKET("inst-1", "logs-x"), MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.get", COS ";serviceInstance=inst-1", MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.put", COS ";serviceInstance=inst-2", MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.put", COS ";serviceInstance=inst-3", MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.get", COS ";serviceInstance=inst-3;resourceType=object;resource=x",
     MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.put", COS ";serviceInstance=inst-4", MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.put", COS ";serviceInstance=inst-22", MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=inst-2", MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=prod-1", MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=prod-\xc3\xa9", MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=prod-12", MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=prod-", MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=dev-", MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=dev-east-1", MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=staging", MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=Prod-1", MON_10, false},
    {COS_USER, A, "cloud-object-storage.bucket.create", COS ";serviceInstance=dev-1", MON_10, true},
    {COS_USER, A, "cloud-object-storage.object.delete", "serviceName=kms;serviceInstance=prod-1", MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=prod-1", MON_10, true},
    {COS_USER, B, "cloud-object-storage.object.delete", COS ";serviceInstance=prod-1", MON_10, false},
    {COS_USER, A, "cloud-object-storage.object.get", "", MON_10, false},
    {COS_USER, A, "iam.policy.read", COS ";serviceInstance=prod-1", MON_10, false},

    /* groups: Viewer on every platform service, Reader on every registered service */
    {MEMBER, A, "iam-identity.serviceid.get", "", MON_10, true},
    {MEMBER, A, "iam-identity.account.get", "", MON_10, true},
    {MEMBER, A, "iam-identity.token.introspect", "", MON_10, true},
    {MEMBER, A, "iam-identity.apikey.get", "", MON_10, false},
    {MEMBER, A, "iam-identity.serviceid.update", "", MON_10, false},
    {MEMBER, A, "iam-groups.groups.read", "", MON_10, true},
    {MEMBER, A, "iam-groups.groups.list", "", MON_10, true},
    {MEMBER, A, "iam-groups.members.list", "", MON_10, true},
    {MEMBER, A, "iam-groups.groups.create", "", MON_10, false},
    {MEMBER, A, "iam-groups.members.add", "", MON_10, false},
    {MEMBER, A, "user-management.user.list", "", MON_10, true},
    {MEMBER, A, "user-management.user.read", "", MON_10, true},
    {MEMBER, A, "user-management.user.create", "", MON_10, false},
    {MEMBER, A, "iam-access-management.customRole.get", "", MON_10, true},
    {MEMBER, A, "iam-access-management.settings.get", "", MON_10, true},
    {MEMBER, A, "iam-access-management.customRole.create", "", MON_10, false},
    {MEMBER, A, "iam.policy.read", "serviceName=iam-groups", MON_10, true},
    {MEMBER, A, "iam.policy.delete", "serviceName=iam-groups", MON_10, false},
    {MEMBER, A, "cloud-object-storage.object.get", COS ";serviceInstance=inst-x", MON_10, true},
    {MEMBER, A, "cloud-object-storage.bucket.list", COS, MON_10, true},
    {MEMBER, A, "cloud-object-storage.object.put", COS ";serviceInstance=inst-x", MON_10, false},
    {MEMBER, A, "kms.key.read", "serviceName=kms", MON_10, true},
    {MEMBER, A, "kms.key.create", "serviceName=kms", MON_10, false},
    {MEMBER, A, "iam.policy.read", "serviceName=kms", MON_10, false},
    {MEMBER, A, "nosuch.thing.read", "serviceName=nosuch", MON_10, false},
    {MEMBER, B, "iam-groups.groups.read", "", MON_10, false},
    {MEMBER, B, "kms.key.read", "serviceName=kms", MON_10, false},
    /* a deleted membership grants nothing; direct policies still do */
    {REMOVED, A, "iam-identity.serviceid.get", "", MON_10, false},
    {REMOVED, A, "cloud-object-storage.object.get", COS, MON_10, false},
    {REMOVED, A, "iam-groups.groups.read", "", MON_10, true},
    {REMOVED, A, "iam-groups.members.read", "", MON_10, true},
    {REMOVED, A, "iam-groups.groups.update", "", MON_10, false},

    /* PublicAccess: everyone, any account's identity, in the policy's account only */
    {NOBODY, A, "kms.key.read", "serviceName=kms;serviceInstance=public-kms", MON_10, true},
    {NOBODY, A, "kms.key.read", "serviceInstance=public-kms", MON_10, true},
    {NOBODY, A, "kms.key.read", "serviceName=kms;serviceInstance=private-kms", MON_10, false},
    {NOBODY, A, "kms.key.create", "serviceName=kms;serviceInstance=public-kms", MON_10, false},
    {NOBODY, A, "kms.key.read", "serviceName=kms", MON_10, false},
    {NOBODY, B, "kms.key.read", "serviceName=kms;serviceInstance=public-kms", MON_10, false},
    {NOBODY, A, "iam-identity.serviceid.get", "", MON_10, false},
    {NOBODY, A, "cloud-object-storage.object.get", COS, MON_10, false},
    {BOB, A, "kms.key.read", "serviceName=kms;serviceInstance=public-kms", MON_10, true},
    {"iam-ServiceId-never-seen", A, "kms.key.read", "serviceName=kms;serviceInstance=public-kms", MON_10, true},
    {"iam-ServiceId-never-seen", A, "kms.key.delete", "serviceName=kms;serviceInstance=public-kms", MON_10, false},
    {OPERATOR, A, "kms.key.read", "serviceName=kms;serviceInstance=public-kms", MON_10, true},

    /* service_group_id IAM: the iam services and user-management, nothing else */
    {IAM_ADMIN, A, "iam-identity.apikey.manage", "", MON_10, true},
    {IAM_ADMIN, A, "iam-identity.audit.read", "", MON_10, true},
    {IAM_ADMIN, A, "iam-identity.serviceid.delete", "", MON_10, true},
    {IAM_ADMIN, A, "iam-groups.groups.delete", "", MON_10, true},
    {IAM_ADMIN, A, "iam-groups.members.add", "", MON_10, true},
    {IAM_ADMIN, A, "user-management.user.delete", "", MON_10, true},
    {IAM_ADMIN, A, "iam-access-management.customRole.create", "", MON_10, true},
    {IAM_ADMIN, A, "iam-access-management.settings.update", "", MON_10, true},
    {IAM_ADMIN, A, "iam.policy.create", "serviceName=iam-groups", MON_10, true},
    {IAM_ADMIN, A, "iam.role.assign", "serviceName=user-management", MON_10, true},
    {IAM_ADMIN, A, "iam.policy.create", COS, MON_10, false},
    {IAM_ADMIN, A, "cloud-object-storage.object.get", COS, MON_10, false},
    {IAM_ADMIN, A, "iam-identity.serviceid.create", "", MON_10, false},
    {IAM_ADMIN, A, "iam-identity.user-apikey.create", "", MON_10, false},
    {IAM_ADMIN, A, "iam-identity.apikey.manage", "service_group_id=other", MON_10, true},
    {IAM_ADMIN, B, "iam-identity.apikey.manage", "", MON_10, false},
    /* serviceType platform_service: every built-in, no registered service */
    {PLATFORM_ALL, A, "user-management.user.delete", "", MON_10, true},
    {PLATFORM_ALL, A, "iam-groups.groups.create", "", MON_10, true},
    {PLATFORM_ALL, A, "iam-identity.apikey.manage", "", MON_10, true},
    {PLATFORM_ALL, A, "iam.policy.update", "serviceName=iam-access-management", MON_10, true},
    {PLATFORM_ALL, A, "cloud-object-storage.bucket.create", COS, MON_10, false},
    {PLATFORM_ALL, A, "iam.policy.update", "serviceName=kms", MON_10, false},
    {PLATFORM_ALL, A, "iam-identity.apikey.manage", "serviceType=service", MON_10, true},

    /* custom roles and service-specific roles */
    {ALICE, A, "cloud-object-storage.bucket.create", COS ";serviceInstance=inst-1", MON_10, true},
    {ALICE, A, "cloud-object-storage.bucket.create", COS ";serviceInstance=inst-1;resourceType=bucket;resource=b1",
     MON_10, true},
    {ALICE, A, "cloud-object-storage.bucket.delete", COS ";serviceInstance=inst-1;resourceType=bucket;resource=b1",
     MON_10, false},
    {ALICE, A, "iam-identity.serviceid.create", "", MON_10, true},
    {ALICE, A, "iam-identity.serviceid.create", "serviceName=iam-identity", MON_10, true},
    {ALICE, A, "iam-identity.user-apikey.create", "", MON_10, false},
    {ALICE, A, "iam-identity.serviceid.get", "", MON_10, false},
    {ALICE, A, "cloud-object-storage.object.put", COS ";serviceInstance=inst-5", MON_10, true},
    {ALICE, A, "cloud-object-storage.object.put", COS ";serviceInstance=inst-5;resourceType=bucket;resource=b", MON_10,
     false},
    {ALICE, A, "cloud-object-storage.object.get", COS, MON_10, true},
    {ALICE, A, "cloud-object-storage.object.delete", COS, MON_10, false},
    {ALICE, A, "kms.key.delete", "serviceName=kms", MON_10, false},
    {ALICE, A, "kms.key.delete", "serviceName=kms;serviceInstance=k1", MON_10, false},
    {ALICE, B, "iam-identity.serviceid.create", "", MON_10, false},
    {BOB, B, "kms.key.delete", "serviceName=kms", MON_10, true},
    {BOB, B, "kms.key.create", "serviceName=kms", MON_10, false},
    {BOB, B, "iam-identity.apikey.manage", "", MON_10, true},
    {BOB, B, "iam-identity.serviceid.create", "", MON_10, false},
    {BOB, A, "iam-identity.apikey.manage", "", MON_10, false},
    {BOB, A, "kms.key.delete", "serviceName=kms", MON_10, false},
    {OBJECT_READER, A, "cloud-object-storage.object.get", COS ";serviceInstance=i", MON_10, true},
    {OBJECT_READER, A, "cloud-object-storage.bucket.list", COS ";serviceInstance=i", MON_10, false},
    {OBJECT_READER, A, "kms.key.read", "serviceName=kms", MON_10, false},
    {MULTI_ROLE, A, "kms.key.read", "serviceName=kms", MON_10, true},
    {MULTI_ROLE, A, "kms.key.create", "serviceName=kms", MON_10, false},
    {MULTI_ROLE, A, "iam.policy.read", "serviceName=kms", MON_10, true},
    {MULTI_ROLE, A, "iam.policy.create", "serviceName=kms", MON_10, false},
    {USER_MANAGER, A, "user-management.user.create", "", MON_10, true},
    {USER_MANAGER, A, "user-management.user.update", "", MON_10, true},
    {USER_MANAGER, A, "user-management.user.list", "", MON_10, true},
    {USER_MANAGER, A, "user-management.user.delete", "", MON_10, false},
    {GROUPS_EDITOR, A, "iam-groups.groups.create", "", MON_10, true},
    {GROUPS_EDITOR, A, "iam-groups.groups.delete", "", MON_10, true},
    {GROUPS_EDITOR, A, "iam-groups.members.add", "", MON_10, true},
    {GROUPS_EDITOR, A, "iam-groups.members.delete", "", MON_10, true},
    {GROUPS_EDITOR, A, "iam.policy.create", "serviceName=iam-groups", MON_10, false},
    {GROUPS_EDITOR, A, "iam-access-management.customRole.get", "", MON_10, true},
    {GROUPS_EDITOR, A, "iam-access-management.customRole.create", "", MON_10, false},
    {GROUPS_EDITOR, A, "iam-access-management.settings.get", "", MON_10, true},
    {GROUPS_EDITOR, A, "iam-access-management.settings.update", "", MON_10, false},

    /* resource groups */
    {RG_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=i;resourceGroupId=rg-1", MON_10, true},
    {RG_USER, A, "cloud-object-storage.bucket.create", COS ";resourceGroupId=rg-1", MON_10, true},
    {RG_USER, A, "kms.key.delete", "serviceName=kms;resourceGroupId=rg-1", MON_10, true},
    {RG_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=i;resourceGroupId=rg-2", MON_10, false},
    {RG_USER, A, "cloud-object-storage.object.delete", COS ";serviceInstance=i", MON_10, false},
    {RG_USER, A, "iam-identity.serviceid.get", "resourceGroupId=rg-1", MON_10, false},
    {RG_USER, B, "kms.key.delete", "serviceName=kms;resourceGroupId=rg-1", MON_10, false},

    /* one-time window (dateTime) */
    {ONCE, A, "kms.key.delete", "serviceName=kms", MON_10, true},
    {ONCE, A, "kms.key.delete", "serviceName=kms", NEW_YEAR_2026, false},
    {ONCE, A, "kms.key.delete", "serviceName=kms", END_2024, false},
    {ONCE, A, "kms.key.delete", "serviceName=kms", END_2025, true},
    {ONCE, A, "iam.policy.create", "serviceName=kms", MON_10, true},
    {ONCE, A, "iam.policy.create", "serviceName=kms", NEW_YEAR_2026, false},
    /* weekly office hours at -05:00 */
    {WEEKLY, A, "cloud-object-storage.object.get", COS, MON_15, true},
    {WEEKLY, A, "cloud-object-storage.object.get", COS, MON_14, true},
    {WEEKLY, A, "cloud-object-storage.object.get", COS, MON_1359, false},
    {WEEKLY, A, "cloud-object-storage.object.get", COS, MON_22, false},
    {WEEKLY, A, "cloud-object-storage.object.get", COS, FRI_2159, true},
    {WEEKLY, A, "cloud-object-storage.object.get", COS, SAT_15, false},
    {WEEKLY, A, "cloud-object-storage.object.get", COS, SUN_15, false},
    {WEEKLY, A, "cloud-object-storage.object.get", COS, TUE_03, false},
    {WEEKLY, A, "cloud-object-storage.object.put", COS, MON_15, false},
    /* nested and/or */
    {NESTED, A, "kms.key.read", "serviceName=kms", SAT_15, true},
    {NESTED, A, "kms.key.read", "serviceName=kms", SUN_15, true},
    {NESTED, A, "kms.key.read", "serviceName=kms", MON_05, true},
    {NESTED, A, "kms.key.read", "serviceName=kms", MON_10, false},
    {TOO_DEEP, A, "kms.key.read", "serviceName=kms", MON_10, false},
    /* dates */
    {DATES, A, "cloud-object-storage.object.get", COS, MON_10, true},
    {DATES, A, "cloud-object-storage.object.get", COS, JUN_30_2330, true},
    {DATES, A, "cloud-object-storage.object.get", COS, JUL_01, false},
    {DATES, A, "cloud-object-storage.object.get", COS, MAY_31_23, false},
    {DATE_OFFSET, A, "cloud-object-storage.object.get", COS, MAY_31_23, true},
    {DATE_OFFSET, A, "cloud-object-storage.object.get", COS, JUN_30_2330, false},
    /* string conditions on resource and environment attributes */
    {PATH_USER, A, "cloud-object-storage.object.get", COS ";path=public/a.txt", MON_10, true},
    {PATH_USER, A, "cloud-object-storage.object.get", COS ";path=public/", MON_10, true},
    {PATH_USER, A, "cloud-object-storage.object.get", COS ";path=private/a.txt", MON_10, false},
    {PATH_USER, A, "cloud-object-storage.object.get", COS, MON_10, false},
    {ENVIRONMENT, A, "kms.key.read", "serviceName=kms;env:networkType=private", MON_10, true},
    {ENVIRONMENT, A, "kms.key.read", "serviceName=kms;env:networkType=public", MON_10, false},
    {ENVIRONMENT, A, "kms.key.read", "serviceName=kms", MON_10, false},
    {ENVIRONMENT, A, "kms.key.read", "serviceName=kms;networkType=private", MON_10, false},

    /* tags: matched only when the request carries them */
    {TAGGED, A, "cloud-object-storage.object.get", COS ";tag:project=alpha", MON_10, true},
    {TAGGED, A, "cloud-object-storage.object.get", COS ";tag:project=beta;tag:project=alpha", MON_10, true},
    {TAGGED, A, "cloud-object-storage.object.get", COS ";tag:project=beta", MON_10, false},
    {TAGGED, A, "cloud-object-storage.object.get", COS, MON_10, false},
    {TAGGED, A, "kms.key.read", "serviceName=kms;tag:project=alpha", MON_10, true},
    {TAGGED, A, "iam-identity.serviceid.get", "tag:project=alpha", MON_10, false},
    /* an unsupported operator never matches */
    {BROKEN, A, "cloud-object-storage.object.get", COS, MON_10, false},
    {BROKEN, A, "cloud-object-storage.object.get", "serviceName=cloud", MON_10, false},
    /* escaped wildcards are literal */
    {ESCAPED, A, "cloud-object-storage.object.get", COS ";serviceInstance=*literal", MON_10, true},
    {ESCAPED, A, "cloud-object-storage.object.get", COS ";serviceInstance=xliteral", MON_10, false},
    {ESCAPED, A, "cloud-object-storage.object.get", COS ";serviceInstance=literal", MON_10, false},
    {ESCAPED, A, "kms.key.read", "serviceName=kms;resource=a?bc", MON_10, true},
    {ESCAPED, A, "kms.key.read", "serviceName=kms;resource=a?b", MON_10, false},
    {ESCAPED, A, "kms.key.read", "serviceName=kms;resource=axbc", MON_10, false},
    /* stringExists true */
    {EXISTS, A, "cloud-object-storage.object.get", COS ";resourceGroupId=rg-anything", MON_10, true},
    {EXISTS, A, "cloud-object-storage.object.get", COS ";resourceGroupId=", MON_10, true},
    {EXISTS, A, "cloud-object-storage.object.get", COS, MON_10, false},
    /* malformed-ish requests */
    {"", A, "iam-identity.serviceid.get", "", MON_10, false},
    {MEMBER, "", "iam-groups.groups.read", "", MON_10, false},
};

static struct iam_engine *engine;
static struct iam_arena *fixture_arena;

/* Copies `text`, turning ' into ". */
static char *quote(struct iam_arena *arena, const char *text)
{
    char *copy = iam_arena_strdup(arena, text);
    for (char *p = copy; p && *p; p++)
        if (*p == '\'')
            *p = '"';
    return copy;
}

static char *roles_json(struct iam_arena *arena, const char *roles)
{
    char *list = iam_arena_strdup(arena, "");
    const char *cursor = roles;
    while (*cursor) {
        const char *end = strchr(cursor, ' ');
        size_t length = end ? (size_t)(end - cursor) : strlen(cursor);
        list = iam_arena_printf(arena, "%s%s{\"role_id\":\"%.*s\"}", list, list[0] ? "," : "", (int)length, cursor);
        cursor += length;
        while (*cursor == ' ')
            cursor++;
    }
    return list;
}

static int fixture_setup(void **state)
{
    (void)state;
    fixture_arena = iam_arena_new();
    struct iam_arena *arena = fixture_arena;
    size_t count = sizeof fixture_policies / sizeof fixture_policies[0];
    struct iam_policy_record *policies = iam_arena_alloc(arena, count * sizeof *policies);
    for (size_t i = 0; i < count; i++) {
        const struct fixture_policy *p = &fixture_policies[i];
        char *document = iam_arena_printf(
            arena,
            "{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"%s\",\"operator\":\"stringEquals\",\"value\":"
            "\"%s\"}]},\"resource\":{\"attributes\":[{\"key\":\"accountId\",\"operator\":\"stringEquals\",\"value\":"
            "\"%s\"},%s]%s%s%s},\"control\":{\"grant\":{\"roles\":[%s]}}%s}",
            p->kind, p->subject, p->account, quote(arena, p->attributes), p->tags ? ",\"tags\":[" : "",
            p->tags ? quote(arena, p->tags) : "", p->tags ? "]" : "", roles_json(arena, p->roles),
            p->extra ? quote(arena, p->extra) : "");
        policies[i] = (struct iam_policy_record){
            .id = iam_arena_printf(arena, "policy-%02zu", i),
            .account_id = p->account,
            .type = "access",
            .api_version = "v2",
            .subject_kind = p->kind,
            .subject_value = p->subject,
            .state = "active",
            .document = document,
        };
    }
    static struct iam_group_member_record members[] = {
        {GROUP_1, A, MEMBER, "service", NULL, 0},
        {GROUP_2, A, MEMBER, "service", NULL, 0},
        {GROUP_3, A, MEMBER, "service", NULL, 0},
    };
    static struct iam_role_record roles[] = {
        {.id = "1", .account_id = A, .name = "BucketCreator", .display_name = "Bucket creator",
         .service_name = "cloud-object-storage", .actions = "[\"cloud-object-storage.bucket.create\"]",
         .crn = BUCKET_CREATOR},
        {.id = "2", .account_id = A, .name = "KeyDeleterA", .display_name = "Key deleter",
         .service_name = "kms", .actions = "[\"kms.key.delete\"]", .crn = KEY_DELETER_A},
        {.id = "3", .account_id = B, .name = "KeyDeleter", .display_name = "Key deleter",
         .service_name = "kms", .actions = "[\"kms.key.delete\"]", .crn = KEY_DELETER_B},
    };
    struct iam_service_def_record *services = iam_arena_alloc(arena, 2 * sizeof *services);
    services[0] = (struct iam_service_def_record){.name = "cloud-object-storage", .document = quote(arena, cos_document)};
    services[1] = (struct iam_service_def_record){.name = "kms", .document = quote(arena, kms_document)};
    struct iam_access_snapshot snapshot = {
        .policies = policies,
        .policy_count = count,
        .roles = roles,
        .role_count = sizeof roles / sizeof roles[0],
        .members = members,
        .member_count = sizeof members / sizeof members[0],
        .services = services,
        .service_count = 2,
        .revision = 7,
    };
    struct iam_error err;
    if (iam_engine_new_from_snapshot(&snapshot, &engine, &err) != IAM_OK) {
        fprintf(stderr, "fixture: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int fixture_teardown(void **state)
{
    (void)state;
    iam_engine_free(engine);
    iam_arena_free(fixture_arena);
    return 0;
}

/* Splits "a=b;env:c=d" into resource and environment attributes (arena copies). */
static void parse_attributes(struct iam_arena *arena, const char *text, struct iam_engine_attribute *resource,
                             size_t *resource_count, struct iam_engine_attribute *environment,
                             size_t *environment_count)
{
    *resource_count = 0;
    *environment_count = 0;
    char *copy = iam_arena_strdup(arena, text);
    char *cursor = copy;
    while (cursor && *cursor) {
        char *end = strchr(cursor, ';');
        if (end)
            *end = '\0';
        char *equals = strchr(cursor, '=');
        assert_non_null(equals);
        *equals = '\0';
        if (strncmp(cursor, "env:", 4) == 0)
            environment[(*environment_count)++] = (struct iam_engine_attribute){cursor + 4, equals + 1};
        else
            resource[(*resource_count)++] = (struct iam_engine_attribute){cursor, equals + 1};
        cursor = end ? end + 1 : NULL;
    }
}

static void table_cases_decide_as_expected(void **state)
{
    (void)state;
    size_t count = sizeof cases / sizeof cases[0];
    assert_true(count >= 200);
    size_t failures = 0;
    for (size_t i = 0; i < count; i++) {
        const struct decision_case *c = &cases[i];
        struct iam_arena *arena = iam_arena_new();
        struct iam_engine_attribute resource[16], environment[4];
        size_t resource_count, environment_count;
        parse_attributes(arena, c->attributes, resource, &resource_count, environment, &environment_count);
        struct iam_engine_request request = {
            .account_id = c->account,
            .subject_iam_id = c->subject,
            .action = c->action,
            .resource = resource,
            .resource_count = resource_count,
            .environment = environment,
            .environment_count = environment_count,
            .now = c->now,
        };
        struct iam_engine_decision decision;
        assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_OK);
        if (decision.permitted != c->expected) {
            fprintf(stderr, "case %zu: %s in %.6s %s [%s] at %lld: got %s, expected %s\n", i, c->subject, c->account,
                    c->action, c->attributes, (long long)c->now, decision.permitted ? "permit" : "deny",
                    c->expected ? "permit" : "deny");
            failures++;
        }
        assert_true(decision.permitted == (decision.policy_id != NULL));
        /* evaluate and explain agree with decide */
        struct iam_engine_evaluation evaluation;
        assert_int_equal(iam_engine_evaluate(engine, arena, &request, &evaluation), IAM_OK);
        if (evaluation.permitted != decision.permitted) {
            fprintf(stderr, "case %zu: evaluate says %d, decide %d\n", i, evaluation.permitted, decision.permitted);
            failures++;
        }
        json_t *explanation = iam_engine_explain(engine, arena, &request);
        assert_non_null(explanation);
        if (json_is_true(json_object_get(explanation, "permitted")) != decision.permitted) {
            char *dump = json_dumps(explanation, JSON_COMPACT);
            fprintf(stderr, "case %zu: explain disagrees: %s\n", i, dump);
            free(dump);
            failures++;
        }
        if (decision.permitted) {
            /* the granting policy is among those explain lists */
            bool listed = false;
            size_t index;
            json_t *grant;
            json_array_foreach(json_object_get(explanation, "granted_by"), index, grant)
                listed = listed ||
                         strcmp(json_string_value(json_object_get(grant, "policy_id")), decision.policy_id) == 0;
            if (!listed) {
                fprintf(stderr, "case %zu: explain does not list %s\n", i, decision.policy_id);
                failures++;
            }
        }
        json_decref(explanation);
        iam_arena_free(arena);
    }
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_cases_decide_as_expected),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
