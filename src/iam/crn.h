/*
 * crn.h: IBM Cloud Resource Names.
 *
 *   crn:v1:<cname>:<ctype>:<service-name>:<location>:<scope>:<service-instance>:<resource-type>:<resource>
 *
 * The scope is "a/<account id>" for account resources (or empty). The resource
 * part may itself contain ':' (everything after the ninth colon belongs to it).
 */
#ifndef IAM_IAM_CRN_H
#define IAM_IAM_CRN_H

#include "common/arena.h"
#include "common/error.h"

#define IAM_CRN_MAX 1024

struct iam_crn {
    const char *cname;            /* "bluemix", "ibmcloud", ... */
    const char *ctype;            /* "public", ... */
    const char *service_name;     /* "" when empty */
    const char *location;
    const char *account_id;       /* from "a/<id>"; "" when the scope is empty or not an account */
    const char *service_instance;
    const char *resource_type;
    const char *resource;
};

/* Parses `text` (arena copies of the parts). IAM_EINVAL when it is not a v1 CRN. */
enum iam_result iam_crn_parse(struct iam_arena *arena, const char *text, struct iam_crn *out) IAM_MUST_CHECK;

#endif
